#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oci_tag_info
short_description: List the tags of a repository in an OCI or Docker registry
version_added: 0.1.0
description:
  - Lists the tags of one repository with C(GET /v2/<name>/tags/list), following the
    registry's C(Link) header from page to page.
  - Optionally filters them with a regular expression, and on request reads each tag's
    digest, media type and creation time.
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
  pattern:
    description:
      - Python regular expression; only tags in which it finds a match are returned
        (C(re.search)). Anchor it with C(^) and C($) to match whole tags.
      - Applied before O(details), so details are read only for the matching tags.
    type: str
  details:
    description:
      - Also read each returned tag's manifest (one C(GET) per tag) and image config (one
        C(GET) per distinct config), and return them in RV(tag_details).
      - For an index, the creation time comes from the config of its first child manifest,
        which costs one more C(GET) for that child per distinct index.
    type: bool
    default: false
  page_size:
    description:
      - Number of tags to ask for per page (the C(n) parameter). The registry may return
        fewer and link to the next page.
      - Unset, the registry chooses; CNCF Distribution 2.8 then returns every tag at once.
    type: int
notes:
  - A repository that does not exist returns an empty list, as CNCF Distribution answers
    C(404 NAME_UNKNOWN) for it.
seealso:
  - module: oci.registry.oci_manifest_info
  - module: oci.registry.oci_tag
"""

EXAMPLES = r"""
- name: List every tag
  oci.registry.oci_tag_info:
    registry: registry.example.com
    repository: team/app
  register: listing

- name: Show release tags with their digests and creation times
  oci.registry.oci_tag_info:
    registry: registry.example.com
    repository: team/app
    pattern: '^v[0-9]+\.[0-9]+\.[0-9]+$'
    details: true
  register: releases

- name: Print the oldest release
  ansible.builtin.debug:
    msg: "{{ (releases.tag_details | sort(attribute='created'))[0] }}"
"""

RETURN = r"""
tags:
  description: The tags, in the order the registry listed them, after O(pattern) filtered them.
  returned: always
  type: list
  elements: str
  sample: [v1.0.0, v1.1.0, latest]
tag_details:
  description: One entry per tag in RV(tags), in the same order.
  returned: when O(details=true)
  type: list
  elements: dict
  contains:
    tag:
      description: The tag.
      type: str
    digest:
      description: Digest of the manifest the tag points to; null if the tag disappeared while the module ran.
      type: str
    media_type:
      description: Media type of that manifest.
      type: str
    created:
      description:
        - The C(created) field of the image config, as the image config writes it (RFC 3339).
        - For an index, the C(created) of its first child manifest's config.
        - Null when there is no image config (artifacts, Helm charts), when the config has
          no C(created), or when the first child of an index is an index itself.
      type: str
  sample:
    - tag: v1.0.0
      digest: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
      media_type: application/vnd.oci.image.manifest.v1+json
      created: "2024-05-01T12:00:00Z"
actions:
  description: What the module did, in plain words.
  returned: always
  type: list
  elements: str
  sample:
    - listed 12 tags of team/app, 3 match the pattern
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
      sample: {"GET": 3}
    by_status:
      description: Request count per HTTP status; V(error) counts requests that got no answer.
      type: dict
      sample: {"200": 2, "401": 1}
"""

import re

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils._inspect import Inspector
from ansible_collections.oci.registry.plugins.module_utils._module import RegistryModule
from ansible_collections.oci.registry.plugins.module_utils._options import text_option
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_repository


class TagLister(object):
    """List a repository's tags and, on request, what each one points to."""

    def __init__(self, registry_module):
        self.registry_module = registry_module
        self.params = registry_module.params
        self.actions = registry_module.actions

    def run(self):
        params = self.params
        repository = validate_repository(text_option(params, "repository"))
        pattern = _compile(params["pattern"])
        if params["page_size"] is not None and params["page_size"] < 1:
            raise InvalidInputError("page_size is %d: set 1 or more, or leave it unset." % params["page_size"])
        client = self.registry_module.connect()
        client.declare(repository, ("pull",))

        tags = client.list_tags(repository, page_size=params["page_size"])
        listed = len(tags)
        if pattern is not None:
            tags = [tag for tag in tags if pattern.search(tag)]
            self.actions.append("listed %d tags of %s, %d match the pattern" % (listed, repository, len(tags)))
        else:
            self.actions.append("listed %d tags of %s" % (listed, repository))
        result = {"changed": False, "tags": tags}
        if params["details"]:
            result["tag_details"] = self._details(client, repository, tags)
        return result

    def _details(self, client, repository, tags):
        inspector = Inspector(client, repository)
        details = []
        for tag in tags:
            manifest, document = inspector.manifest(tag)
            if manifest is None:
                self.actions.append("tag %s disappeared from %s while the module ran" % (tag, repository))
                details.append({"tag": tag, "digest": None, "media_type": None, "created": None})
                continue
            details.append({
                "tag": tag,
                "digest": manifest.digest,
                "media_type": manifest.media_type,
                "created": inspector.created(manifest, document),
            })
        self.actions.append("read the manifests of %d tags" % len(tags))
        return details


def _compile(pattern):
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as error:
        raise InvalidInputError("pattern %r is not a valid regular expression: %s." % (pattern, error))


def main():
    registry_module = RegistryModule(
        argument_spec=dict(
            repository=dict(type="raw", required=True),
            pattern=dict(type="str"),
            details=dict(type="bool", default=False),
            page_size=dict(type="int"),
        ),
    )
    registry_module.run(TagLister(registry_module).run)


if __name__ == "__main__":
    main()
