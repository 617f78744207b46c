#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oci_manifest_info
short_description: Read one manifest or index from an OCI or Docker registry
version_added: 0.1.0
description:
  - Reads the manifest or image index that O(tag) or O(digest) names and returns its
    digest, media type, size, annotations, C(subject), platforms and creation time.
  - Costs one C(GET) for the manifest and one for its image config. For an index, the
    platforms come from the index itself, and the creation time from the config of the
    first child manifest, which costs one more C(GET).
author:
  - oci.registry maintainers (!UNKNOWN)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.auth
  - oci.registry.retries
  - oci.registry.attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; it sends the same requests in check mode.
  diff_mode:
    support: none
    details:
      - It changes nothing, so there is no difference to show.
  idempotent:
    support: full
options:
  repository:
    description:
      - Repository name inside the registry, for example V(team/app).
      - Must be a string. A name that YAML reads as a number, such as V(010), must be
        quoted; any other type is rejected before the first request.
    type: raw
    required: true
  tag:
    description:
      - Tag of the manifest to read. Exactly one of O(tag) and O(digest) is required.
      - Must be a string. Quote tags that YAML reads as numbers or booleans, for example
        V("1.10"), which unquoted is the number 1.1, or V("010"), which is 8. Any other
        type is rejected before the first request.
    type: raw
  digest:
    description:
      - Digest of the manifest to read. Exactly one of O(tag) and O(digest) is required.
    type: str
seealso:
  - module: oci.registry.oci_tag_info
  - module: oci.registry.oci_manifest
"""

EXAMPLES = r"""
- name: Read what latest points to
  oci.registry.oci_manifest_info:
    registry: registry.example.com
    repository: team/app
    tag: latest
  register: latest

- name: Fail unless latest is a multi-platform index with arm64
  ansible.builtin.assert:
    that:
      - latest.exists
      - "'arm64' in latest.platforms | map(attribute='architecture')"
"""

RETURN = r"""
exists:
  description: Whether the tag or digest names a manifest. All other values are returned only when it does.
  returned: always
  type: bool
  sample: true
digest:
  description: Digest of the manifest.
  returned: when RV(exists)
  type: str
  sample: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
media_type:
  description: Media type the registry sent for the manifest.
  returned: when RV(exists)
  type: str
  sample: application/vnd.oci.image.index.v1+json
size:
  description: Size of the manifest in bytes.
  returned: when RV(exists)
  type: int
  sample: 1609
artifact_type:
  description: The manifest's C(artifactType), or null when it has none.
  returned: when RV(exists)
  type: str
  sample: application/vnd.example.sbom.v1+json
annotations:
  description: The manifest's annotations; an empty dict when it has none.
  returned: when RV(exists)
  type: dict
  sample: {"org.opencontainers.image.source": "https://example.com/app.git"}
subject:
  description: The manifest's C(subject) descriptor, or null when it refers to no other manifest.
  returned: when RV(exists)
  type: dict
  sample: {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:9a3f...", "size": 1024}
config:
  description: The config descriptor of an image manifest; null for an index.
  returned: when RV(exists)
  type: dict
  sample: {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:0b1c...", "size": 560}
layers:
  description: The layer descriptors of an image manifest; an empty list for an index.
  returned: when RV(exists)
  type: list
  elements: dict
manifests:
  description: The child descriptors of an index; an empty list for an image manifest.
  returned: when RV(exists)
  type: list
  elements: dict
platforms:
  description:
    - For an index, one entry per child whose descriptor has a C(platform).
    - For an image manifest, the one platform its image config names, or an empty list
      when it has no image config.
  returned: when RV(exists)
  type: list
  elements: dict
  contains:
    digest:
      description: Digest of the child manifest, or of the manifest itself.
      type: str
    architecture:
      description: CPU architecture, for example V(amd64) or V(arm64).
      type: str
    os:
      description: Operating system, for example V(linux).
      type: str
    variant:
      description: CPU variant, for example V(v8); only when set.
      type: str
  sample:
    - digest: sha256:2c3d...
      architecture: amd64
      os: linux
    - digest: sha256:5e6f...
      architecture: arm64
      os: linux
      variant: v8
created:
  description:
    - The C(created) field of the image config (RFC 3339). For an index, that of its first
      child manifest.
    - Null when there is no image config, it has no C(created), or the first child of an
      index is an index itself.
  returned: when RV(exists)
  type: str
  sample: "2024-05-01T12:00:00Z"
manifest:
  description: The manifest document as parsed JSON.
  returned: when RV(exists)
  type: dict
actions:
  description: What the module did, in plain words.
  returned: always
  type: list
  elements: str
  sample:
    - read manifest latest in team/app (sha256:4f0c...)
requests:
  description: HTTP requests this module run sent; see the same value of M(oci.registry.oci_manifest).
  returned: always
  type: dict
  contains:
    total:
      description: Every request, token service and retries included.
      type: int
      sample: 4
    token:
      description: Requests to the token service.
      type: int
      sample: 1
    retries:
      description: Requests that repeated an earlier one after a 429, 502, 503, 504 or reset.
      type: int
      sample: 0
    by_method:
      description: Request count per HTTP method.
      type: dict
      sample: {"GET": 4}
    by_status:
      description: Request count per HTTP status; V(error) counts requests that got no answer.
      type: dict
      sample: {"200": 3, "401": 1}
"""

from ansible_collections.oci.registry.plugins.module_utils._inspect import (
    Inspector,
    child_descriptors,
    is_index,
    platform_of,
)
from ansible_collections.oci.registry.plugins.module_utils._module import RegistryModule
from ansible_collections.oci.registry.plugins.module_utils._options import text_option
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_repository,
    validate_tag,
)


class ManifestReader(object):
    """Read one manifest and describe it."""

    def __init__(self, registry_module):
        self.registry_module = registry_module
        self.params = registry_module.params
        self.actions = registry_module.actions

    def run(self):
        params = self.params
        repository = text_option(params, "repository")
        tag = text_option(params, "tag")
        validate_repository(repository)
        if tag is not None:
            reference = validate_tag(tag)
        else:
            reference = validate_digest(params["digest"])
        client = self.registry_module.connect()
        client.declare(repository, ("pull",))

        inspector = Inspector(client, repository)
        manifest, document = inspector.manifest(reference)
        if manifest is None:
            self.actions.append("%s not found in %s" % (reference, repository))
            return {"changed": False, "exists": False}
        self.actions.append("read manifest %s in %s (%s)" % (reference, repository, manifest.digest))

        index = is_index(manifest, document)
        if index:
            platforms = [
                dict(platform_of(child.get("platform")), digest=child["digest"])
                for child in child_descriptors(document) if isinstance(child.get("platform"), dict)
            ]
        else:
            config = inspector.config(document)
            platforms = [dict(platform_of(config), digest=manifest.digest)] if config else []

        return {
            "changed": False,
            "exists": True,
            "digest": manifest.digest,
            "media_type": manifest.media_type,
            "size": manifest.size,
            "artifact_type": document.get("artifactType"),
            "annotations": _dict_or_empty(document.get("annotations")),
            "subject": document.get("subject") if isinstance(document.get("subject"), dict) else None,
            "config": None if index else document.get("config"),
            "layers": [] if index else _list_or_empty(document.get("layers")),
            "manifests": child_descriptors(document) if index else [],
            "platforms": platforms,
            "created": inspector.created(manifest, document),
            "manifest": document,
        }


def _dict_or_empty(value):
    return value if isinstance(value, dict) else {}


def _list_or_empty(value):
    return value if isinstance(value, list) else []


def main():
    registry_module = RegistryModule(
        argument_spec=dict(
            repository=dict(type="raw", required=True),
            tag=dict(type="raw"),
            digest=dict(type="str"),
        ),
        required_one_of=[("tag", "digest")],
        mutually_exclusive=[("tag", "digest")],
    )
    registry_module.run(ManifestReader(registry_module).run)


if __name__ == "__main__":
    main()
