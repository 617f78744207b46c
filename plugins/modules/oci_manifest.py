#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oci_manifest
short_description: Delete a manifest from an OCI or Docker registry
version_added: 0.1.0
description:
  - Deletes an image manifest or image index from a registry that implements the OCI
    distribution API, found by O(tag) or by O(digest).
  - The module first resolves the reference with one C(HEAD) request and deletes by digest.
    With token authentication it asks the token service once for C(pull) and C(delete)
    together, so a delete by tag costs four requests in total.
  - Deleting by tag deletes the manifest the tag points to, and with it B(every tag) that
    points to the same digest. CNCF Distribution 2.8 cannot remove a single tag.
author:
  - oci.registry maintainers
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.auth
  - oci.registry.retries
  - oci.registry.attributes
attributes:
  check_mode:
    support: full
    details:
      - Resolves the tag or digest and reports what would be deleted; sends no C(DELETE).
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  repository:
    description:
      - Repository name inside the registry, for example V(team/app).
      - Lowercase path components separated by V(/), without the registry host or a tag.
    type: str
    required: true
  tag:
    description:
      - Tag that points to the manifest to delete.
      - The manifest is deleted by its digest, which removes every tag pointing to it.
      - Exactly one of O(tag) and O(digest) is required.
    type: str
  digest:
    description:
      - Digest of the manifest or index to delete, for example V(sha256:) followed by 64
        hex digits.
      - The module deletes only when the registry confirms with C(HEAD) that the digest
        names a manifest. A digest of a config or layer blob is rejected, because
        CNCF Distribution 2.8 would unlink that blob and break every image that uses it.
      - Exactly one of O(tag) and O(digest) is required.
    type: str
  state:
    description:
      - V(absent) deletes the manifest if it exists.
    type: str
    required: true
    choices: [absent]
notes:
  - A registry answers C(405) when deletion is disabled; for CNCF Distribution set
    C(storage.delete.enabled=true).
  - Deleting a manifest does not free storage until the registry runs garbage collection.
seealso:
  - module: oci.registry.oci_blob
"""

EXAMPLES = r"""
- name: Delete the manifest tagged v1.2.0 (and every other tag on it)
  oci.registry.oci_manifest:
    registry: registry.example.com
    repository: team/app
    tag: v1.2.0
    state: absent
    username: ci-cleaner
    password: "{{ registry_password }}"

- name: Delete a manifest by digest
  oci.registry.oci_manifest:
    registry: registry.example.com
    repository: team/app
    digest: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
    state: absent

- name: Show what would be deleted, without deleting
  oci.registry.oci_manifest:
    registry: registry.example.com
    repository: team/app
    tag: nightly
    state: absent
  check_mode: true
  register: planned

- name: Print the request statistics
  ansible.builtin.debug:
    msg: "{{ planned.digest }} cost {{ planned.requests.total }} requests"
"""

RETURN = r"""
digest:
  description:
    - Digest of the manifest that was deleted, or would be deleted in check mode.
    - Absent when the tag or digest did not exist.
  returned: when the manifest existed
  type: str
  sample: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
media_type:
  description: Media type the registry reported for the manifest.
  returned: when the manifest existed
  type: str
  sample: application/vnd.oci.image.manifest.v1+json
actions:
  description: What the module did or, in check mode, would do, in plain words.
  returned: always
  type: list
  elements: str
  sample:
    - resolved tag v1.2.0 in team/app to sha256:4f0c...
    - deleted manifest sha256:4f0c... from team/app
requests:
  description: HTTP requests this module run sent, counted as they went on the wire.
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
      sample: {"DELETE": 1, "GET": 1, "HEAD": 2}
    by_status:
      description: Request count per HTTP status; V(error) counts requests that got no answer.
      type: dict
      sample: {"200": 2, "202": 1, "401": 1}
"""

from ansible_collections.oci.registry.plugins.module_utils._client import MANIFEST_MEDIA_TYPES
from ansible_collections.oci.registry.plugins.module_utils._errors import UnexpectedResponseError
from ansible_collections.oci.registry.plugins.module_utils._module import RegistryModule
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_repository,
    validate_tag,
)


class ManifestDeleter(object):
    """Resolve a tag or digest to a manifest and delete it by digest."""

    def __init__(self, registry_module):
        self.registry_module = registry_module
        self.params = registry_module.params

    def run(self):
        params = self.params
        repository = validate_repository(params["repository"])
        tag = params["tag"]
        digest = params["digest"]
        if tag is not None:
            validate_tag(tag)
        else:
            validate_digest(digest)
        client = self.registry_module.connect()
        client.declare(repository, ("pull", "delete"))
        actions = self.registry_module.actions

        reference = tag if tag is not None else digest
        manifest = self._resolve(client, repository, reference, digest)
        if manifest is None:
            actions.append("%s %s not found in %s; nothing to delete" % (self._kind(), reference, repository))
            return self._result(changed=False)
        if tag is None:
            self._check_is_manifest(repository, digest, manifest)
        else:
            actions.append("resolved tag %s in %s to %s" % (tag, repository, manifest.digest))

        result = self._result(changed=True, manifest=manifest)
        if self.registry_module.check_mode:
            actions.append("would delete manifest %s from %s (check mode)" % (manifest.digest, repository))
            return result

        if client.delete_manifest(repository, manifest.digest):
            actions.append("deleted manifest %s from %s" % (manifest.digest, repository))
            return result
        actions.append("manifest %s was already deleted from %s by another client" % (manifest.digest, repository))
        return self._result(changed=False, manifest=manifest)

    def _resolve(self, client, repository, reference, digest):
        try:
            return client.resolve_manifest(repository, reference, expected_digest=digest)
        except UnexpectedResponseError as error:
            hint = ""
            if digest is not None and error.status == 500:
                # CNCF Distribution 2.8 answers HEAD /manifests/<digest of a blob> with 500.
                hint = (" The digest may name a blob (a config or layer), not a manifest: use "
                        "oci.registry.oci_blob to delete blobs.")
            raise UnexpectedResponseError(
                "%s Nothing was deleted.%s" % (error.msg, hint), status=error.status, codes=error.codes
            )

    def _kind(self):
        return "tag" if self.params["tag"] is not None else "manifest"

    def _check_is_manifest(self, repository, digest, manifest):
        if manifest.media_type not in MANIFEST_MEDIA_TYPES:
            raise UnexpectedResponseError(
                "%s in %s is not a manifest (the registry reports the media type %r); nothing "
                "was deleted. Use oci.registry.oci_blob to delete a blob."
                % (digest, repository, manifest.media_type)
            )
        if manifest.digest != digest:
            raise UnexpectedResponseError(
                "the registry resolved %s in %s to a different digest, %s; nothing was deleted."
                % (digest, repository, manifest.digest)
            )

    def _result(self, changed, manifest=None):
        result = {"changed": changed}
        if manifest is not None:
            result["digest"] = manifest.digest
            result["media_type"] = manifest.media_type
        if self.registry_module.diff_mode:
            before = {"state": "absent"}
            if manifest is not None:
                before = {"state": "present", "digest": manifest.digest, "media_type": manifest.media_type}
            result["diff"] = {
                "before_header": self._diff_header(),
                "after_header": self._diff_header(),
                "before": before,
                "after": {"state": "absent"},
            }
        return result

    def _diff_header(self):
        params = self.params
        reference = ":" + params["tag"] if params["tag"] is not None else "@" + params["digest"]
        return "%s/%s%s" % (params["registry"], params["repository"], reference)


def main():
    registry_module = RegistryModule(
        argument_spec=dict(
            repository=dict(type="str", required=True),
            tag=dict(type="str"),
            digest=dict(type="str"),
            state=dict(type="str", required=True, choices=["absent"]),
        ),
        required_one_of=[("tag", "digest")],
        mutually_exclusive=[("tag", "digest")],
    )
    registry_module.run(ManifestDeleter(registry_module).run)


if __name__ == "__main__":
    main()
