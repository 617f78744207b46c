# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Argument specs shared by every module, one per option group.

Each group has a doc fragment of the same name in plugins/doc_fragments/; a unit test
checks that their keys, types and defaults agree.
"""

from __future__ import annotations

CONNECTION_ARGSPEC = dict(
    registry=dict(type="str", required=True),
    plain_http=dict(type="bool", default=False),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    client_cert=dict(type="path"),
    client_key=dict(type="path", no_log=False),
    timeout=dict(type="float", default=30.0),
)

AUTH_ARGSPEC = dict(
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    config_path=dict(type="path"),
)

RETRIES_ARGSPEC = dict(
    retries=dict(type="int", default=3),
    retry_max_time=dict(type="float", default=60.0),
)

OPTION_GROUPS = {
    "connection": CONNECTION_ARGSPEC,
    "auth": AUTH_ARGSPEC,
    "retries": RETRIES_ARGSPEC,
}


def shared_argument_spec():
    """Return a new dict with every shared option."""
    spec = {}
    for group in OPTION_GROUPS.values():
        spec.update(group)
    return spec
