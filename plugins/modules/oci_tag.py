#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oci_tag
short_description: Point a tag at a manifest, or remove only the tag, in an OCI or Docker registry
version_added: 0.1.0
description:
  - With O(state=present), makes O(tag) point at the manifest O(digest) or at the manifest
    that O(source_tag) points to, in the same repository.
  - With O(state=absent), removes O(tag) and nothing else. The manifest it pointed to and
    the other tags on that manifest stay.
  - O(state=present) reads the current target with one C(HEAD) request. When the tag
    already points at the digest it sends nothing else; otherwise it reads the manifest
    with C(GET) and uploads the exact bytes under the tag with C(PUT).
  - O(state=absent) first sends C(DELETE /v2/<name>/manifests/<tag>), which OCI
    distribution 1.1 allows and which CNCF Distribution 3 and several hosted registries
    treat as removing the tag only. CNCF Distribution 2.8 returns C(400 DIGEST_INVALID);
    see O(untag_fallback) for what happens then.
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
      - Reads the tag and, for O(state=present), the source manifest; sends no C(PUT),
        C(POST) or C(DELETE).
      - Check mode cannot know whether the registry deletes single tags, so with
        O(state=absent) it reports the change even where the real run would fail
        because O(untag_fallback=none).
  diff_mode:
    support: full
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
      - The tag to create, move or remove.
      - Must be a string. Quote tags that YAML reads as numbers or booleans, for example
        V("1.10"), which unquoted is the number 1.1, or V("010"), which is 8. Any other
        type is rejected before the first request.
    type: raw
    required: true
  state:
    description:
      - V(present) makes the tag point at O(digest) or at the manifest of O(source_tag).
      - V(absent) removes the tag only.
    type: str
    choices: [present, absent]
    default: present
  digest:
    description:
      - Digest of a manifest or index in O(repository) that the tag should point at.
      - With O(state=present), exactly one of O(digest) and O(source_tag) is required.
        Not allowed with O(state=absent).
    type: str
  source_tag:
    description:
      - Another tag in O(repository); O(tag) is made to point at the same manifest.
      - The manifest is copied inside one repository only; blobs are not copied between
        repositories.
      - Must be a string, like O(tag).
    type: raw
  untag_fallback:
    description:
      - What O(state=absent) does when the registry rejects the deletion of a single tag, that
        is, returns C(405) to C(DELETE /v2/<name>/manifests/<tag>), or C(400) with the OCI
        error code C(DIGEST_INVALID) or C(UNSUPPORTED).
      - V(none) fails and changes nothing. The message explains the choice.
      - V(placeholder) first checks that the registry deletes manifests at all, by sending
        C(DELETE) for a random digest that names no manifest (C(404) means yes, C(400) or
        C(405) no; nothing is changed when the answer is no). It then uploads the 2-byte
        empty config blob C({}) if missing, points the tag at a small placeholder manifest
        whose annotation names the tag, and deletes that placeholder by digest. The
        registry removes the tag with the placeholder; the original manifest and its other
        tags stay.
      - With V(placeholder) the repository keeps the empty config blob, and the placeholder's
        bytes depend only on the tag name, so a rerun after a failure reuses it.
    type: str
    choices: [none, placeholder]
    default: none
notes:
  - Removing a tag frees no storage; the manifest stays until it is deleted and the
    registry runs garbage collection.
  - The placeholder path needs C(push) and C(delete) permission on the repository, the
    plain path C(delete), O(state=present) C(push).
  - If another client moves the tag between the first C(HEAD) and the change, the module
    does not notice.
seealso:
  - module: oci.registry.oci_manifest
  - module: oci.registry.oci_tag_info
"""

EXAMPLES = r"""
- name: Point the tag stable at a known digest
  oci.registry.oci_tag:
    registry: registry.example.com
    repository: team/app
    tag: stable
    digest: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c

- name: Promote whatever v1.2.0 points to, as latest
  oci.registry.oci_tag:
    registry: registry.example.com
    repository: team/app
    tag: latest
    source_tag: v1.2.0

- name: Remove only the tag nightly, also on CNCF Distribution 2.8
  oci.registry.oci_tag:
    registry: registry.example.com
    repository: team/app
    tag: nightly
    state: absent
    untag_fallback: placeholder
"""

RETURN = r"""
tag:
  description: The tag the task was about.
  returned: always
  type: str
  sample: stable
digest:
  description:
    - With O(state=present), the digest the tag points at after the task (or would, in
      check mode).
    - With O(state=absent), the digest the tag pointed at before it was removed.
  returned: when the tag exists after the task, or existed before O(state=absent)
  type: str
  sample: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
media_type:
  description: Media type of the manifest behind RV(digest).
  returned: when RV(digest) is returned
  type: str
  sample: application/vnd.oci.image.manifest.v1+json
previous_digest:
  description: Digest the tag pointed at before O(state=present) moved it; null when the tag was new.
  returned: when O(state=present)
  type: str
  sample: sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
untag_method:
  description:
    - How O(state=absent) removed the tag. V(delete) is a C(DELETE) on the tag,
      V(placeholder) the detour through a placeholder manifest.
    - In check mode V(delete), because the real run tries that first.
  returned: when O(state=absent) removed the tag, or would in check mode
  type: str
  sample: placeholder
placeholder_digest:
  description: Digest of the placeholder manifest that was created and deleted.
  returned: when RV(untag_method=placeholder)
  type: str
  sample: sha256:9e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7
actions:
  description: What the module did or, in check mode, would do, in plain words.
  returned: always
  type: list
  elements: str
  sample:
    - resolved tag nightly in team/app to sha256:4f0c...
    - the registry rejected the deletion of only the tag nightly (HTTP 400 DIGEST_INVALID); using a placeholder manifest
    - checked that team/app accepts manifest deletes
    - pointed tag nightly at the placeholder manifest sha256:9e1f...
    - deleted the placeholder manifest sha256:9e1f..., and with it tag nightly
requests:
  description: HTTP requests this module run sent; see the same value of M(oci.registry.oci_manifest).
  returned: always
  type: dict
  contains:
    total:
      description: Every request, token service and retries included.
      type: int
      sample: 10
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
      sample: {"DELETE": 3, "HEAD": 3, "POST": 1, "PUT": 2}
    by_status:
      description: Request count per HTTP status; V(error) counts requests that got no answer.
      type: dict
      sample: {"200": 2, "201": 2, "202": 2, "400": 1, "401": 1, "404": 2}
"""

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError, UnexpectedResponseError
from ansible_collections.oci.registry.plugins.module_utils._module import RegistryModule
from ansible_collections.oci.registry.plugins.module_utils._options import text_option
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_repository,
    validate_tag,
)
from ansible_collections.oci.registry.plugins.module_utils._tags import TagRemover


class Tagger(object):
    """Point a tag at a manifest, or remove only the tag."""

    def __init__(self, registry_module):
        self.registry_module = registry_module
        self.params = registry_module.params
        self.actions = registry_module.actions

    def run(self):
        params = self.params
        repository = text_option(params, "repository")
        tag = text_option(params, "tag")
        source_tag = text_option(params, "source_tag")
        validate_repository(repository)
        validate_tag(tag)
        if params["state"] == "absent":
            if params["digest"] is not None or params["source_tag"] is not None:
                raise InvalidInputError(
                    "digest and source_tag apply only to state=present; remove them to delete tag %s." % tag
                )
            actions = ("pull", "push", "delete") if params["untag_fallback"] == "placeholder" else ("pull", "delete")
        else:
            if params["digest"] is not None:
                validate_digest(params["digest"])
            else:
                validate_tag(source_tag)
            actions = ("pull", "push")
        client = self.registry_module.connect()
        client.declare(repository, actions)

        if params["state"] == "absent":
            return self._absent(client, repository, tag)
        return self._present(client, repository, tag)

    def _present(self, client, repository, tag):
        params = self.params
        if params["source_tag"] is not None:
            source, body = client.get_manifest(repository, params["source_tag"])
            if source is None:
                raise UnexpectedResponseError(
                    "source tag %s not found in %s; nothing was changed." % (params["source_tag"], repository),
                    status=404,
                )
            self.actions.append(
                "resolved source tag %s in %s to %s" % (params["source_tag"], repository, source.digest)
            )
            current = client.resolve_manifest(repository, tag)
            target_digest = source.digest
        else:
            target_digest = params["digest"]
            current = client.resolve_manifest(repository, tag, expected_digest=target_digest)
            source = body = None

        if current is not None and current.digest == target_digest:
            self.actions.append("tag %s in %s already points to %s" % (tag, repository, target_digest))
            return self._result(False, before=current, after=current)

        if current is None:
            self.actions.append("tag %s not found in %s" % (tag, repository))
        else:
            self.actions.append("resolved tag %s in %s to %s" % (tag, repository, current.digest))
        if source is None:
            source, body = client.get_manifest(repository, target_digest)
            if source is None:
                raise UnexpectedResponseError(
                    "manifest %s not found in %s; nothing was changed. The tag can only point at a "
                    "manifest in the same repository." % (target_digest, repository),
                    status=404,
                )

        if self.registry_module.check_mode:
            self.actions.append("would point tag %s at %s (check mode)" % (tag, source.digest))
            return self._result(True, before=current, after=source)

        stored = client.put_manifest(repository, tag, body, source.media_type)
        if stored != source.digest:
            raise UnexpectedResponseError(
                "the registry stored the manifest for tag %s in %s as %s, expected %s; tag %s now "
                "points to %s." % (tag, repository, stored, source.digest, tag, stored)
            )
        self.actions.append("pointed tag %s at %s" % (tag, source.digest))
        return self._result(True, before=current, after=source)

    def _absent(self, client, repository, tag):
        current = client.resolve_manifest(repository, tag)
        if current is None:
            self.actions.append("tag %s not found in %s; nothing to remove" % (tag, repository))
            return self._result(False, before=None, after=None)
        self.actions.append("resolved tag %s in %s to %s" % (tag, repository, current.digest))

        if self.registry_module.check_mode:
            self.actions.append("would remove tag %s from %s and keep %s (check mode)"
                                % (tag, repository, current.digest))
            result = self._result(True, before=current, after=None)
            result["untag_method"] = "delete"
            return result

        remover = TagRemover(client, repository, self.actions)
        untagged = remover.remove(tag, current.digest, self.params["untag_fallback"])
        result = self._result(untagged.method is not None, before=current, after=None)
        if untagged.method is not None:
            result["untag_method"] = untagged.method
        if untagged.placeholder_digest is not None:
            result["placeholder_digest"] = untagged.placeholder_digest
        return result

    def _result(self, changed, before, after):
        result = {"changed": changed, "tag": self.params["tag"]}
        shown = after if self.params["state"] == "present" else before
        if shown is not None:
            result["digest"] = shown.digest
            result["media_type"] = shown.media_type
        if self.params["state"] == "present":
            result["previous_digest"] = before.digest if before is not None else None
        if self.registry_module.diff_mode:
            header = "%s/%s:%s" % (self.params["registry"], self.params["repository"], self.params["tag"])
            result["diff"] = {
                "before_header": header,
                "after_header": header,
                "before": _state(before),
                "after": _state(after),
            }
        return result


def _state(manifest):
    if manifest is None:
        return {"state": "absent"}
    return {"state": "present", "digest": manifest.digest}


def main():
    registry_module = RegistryModule(
        argument_spec=dict(
            repository=dict(type="raw", required=True),
            tag=dict(type="raw", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            digest=dict(type="str"),
            source_tag=dict(type="raw"),
            untag_fallback=dict(type="str", default="none", choices=["none", "placeholder"]),
        ),
        mutually_exclusive=[("digest", "source_tag")],
        required_if=[("state", "present", ("digest", "source_tag"), True)],
    )
    registry_module.run(Tagger(registry_module).run)


if __name__ == "__main__":
    main()
