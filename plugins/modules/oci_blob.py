#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oci_blob
short_description: Delete a blob from a repository in an OCI or Docker registry
version_added: 0.1.0
description:
  - Deletes a blob (a layer or an image config) from one repository of a registry that
    implements the OCI distribution API.
  - Sends one C(DELETE); a C(404) means the blob is already absent.
  - Deleting a blob that a manifest still references breaks that image. Delete the
    manifests first, or let the registry's garbage collection remove unreferenced blobs.
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
      - Sends C(HEAD) to find out whether the blob exists; sends no C(DELETE).
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
  digest:
    description:
      - Digest of the blob, for example V(sha256:) followed by 64 hex digits.
    type: str
    required: true
  state:
    description:
      - V(absent) deletes the blob if it exists.
    type: str
    required: true
    choices: [absent]
notes:
  - A registry answers C(405) when deletion is disabled; for CNCF Distribution set
    C(storage.delete.enabled=true).
  - Check mode reports C(changed=true) for an existing blob even on a registry where
    deletion is disabled, because only a C(DELETE) request shows that, and check mode
    sends none.
seealso:
  - module: oci.registry.oci_manifest
"""

EXAMPLES = r"""
- name: Delete a layer blob
  oci.registry.oci_blob:
    registry: registry.example.com
    repository: team/app
    digest: sha256:9a3f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d
    state: absent
    username: ci-cleaner
    password: "{{ registry_password }}"
"""

RETURN = r"""
digest:
  description: Digest of the blob the task was about.
  returned: always
  type: str
  sample: sha256:9a3f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d
actions:
  description: What the module did or, in check mode, would do, in plain words.
  returned: always
  type: list
  elements: str
  sample:
    - deleted blob sha256:9a3f... from team/app
requests:
  description: HTTP requests this module run sent; see the same value of M(oci.registry.oci_manifest).
  returned: always
  type: dict
  contains:
    total:
      description: Every request, token service and retries included.
      type: int
      sample: 3
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
      sample: {"DELETE": 2, "GET": 1}
    by_status:
      description: Request count per HTTP status; V(error) counts requests that got no answer.
      type: dict
      sample: {"200": 1, "202": 1, "401": 1}
"""

from ansible_collections.oci.registry.plugins.module_utils._module import RegistryModule
from ansible_collections.oci.registry.plugins.module_utils._options import text_option
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_repository,
)


class BlobDeleter(object):
    """Delete one blob; in check mode only ask whether it exists."""

    def __init__(self, registry_module):
        self.registry_module = registry_module
        self.params = registry_module.params

    def run(self):
        repository = validate_repository(text_option(self.params, "repository"))
        digest = validate_digest(self.params["digest"])
        client = self.registry_module.connect()
        client.declare(repository, ("pull", "delete"))
        actions = self.registry_module.actions

        if self.registry_module.check_mode:
            exists = client.blob_exists(repository, digest)
            if exists:
                actions.append("would delete blob %s from %s (check mode)" % (digest, repository))
            else:
                actions.append("blob %s not found in %s; nothing to delete" % (digest, repository))
            return self._result(changed=exists, existed=exists)

        deleted = client.delete_blob(repository, digest)
        if deleted:
            actions.append("deleted blob %s from %s" % (digest, repository))
        else:
            actions.append("blob %s not found in %s; nothing to delete" % (digest, repository))
        return self._result(changed=deleted, existed=deleted)

    def _result(self, changed, existed):
        result = {"changed": changed, "digest": self.params["digest"]}
        if self.registry_module.diff_mode:
            header = "%s/%s@%s" % (self.params["registry"], self.params["repository"], self.params["digest"])
            result["diff"] = {
                "before_header": header,
                "after_header": header,
                "before": {"state": "present" if existed else "absent"},
                "after": {"state": "absent"},
            }
        return result


def main():
    registry_module = RegistryModule(
        argument_spec=dict(
            repository=dict(type="raw", required=True),
            digest=dict(type="str", required=True),
            state=dict(type="str", required=True, choices=["absent"]),
        ),
    )
    registry_module.run(BlobDeleter(registry_module).run)


if __name__ == "__main__":
    main()
