# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Type checks for options that name tags, repositories and tag patterns.

YAML reads an unquoted ``1.10`` as the float 1.1 and ``010`` as the integer 8. An
option of ``type: str`` would turn them into the strings "1.1" and "8" without a
warning, and the module would delete another tag than the one the playbook shows. Such
options are therefore ``type: raw`` in the argument spec, and the module passes them
through ``text_option`` or ``text_list_option`` before it sends any request.
"""

from __future__ import annotations

import json

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError

# Sentence that every message adds after the type, on how YAML turns text into other types.
YAML_HINT = ("YAML reads unquoted values such as 1.10 (the number 1.1), 010 (the number 8) and "
             "yes (the boolean true) as other types than strings, so the value may differ from "
             "what the playbook shows.")


def text_option(params, name):
    """Return the option ``name`` of ``params`` when it is a string or None, else raise InvalidInputError."""
    value = params[name]
    if value is None or isinstance(value, str):
        return value
    raise InvalidInputError(
        "%s is %s, not a string. %s Quote it in YAML, for example %s: \"1.10\"."
        % (name, _describe(value), YAML_HINT, name)
    )


def text_list_option(params, name):
    """Return the option ``name`` of ``params`` as a list of strings, or None when unset.

    A list must hold only strings. A single string is split at commas, as Ansible does
    for ``type: list``. Anything else raises InvalidInputError, before any request.
    """
    value = params[name]
    if value is None:
        return None
    if isinstance(value, str):
        return value.split(",")
    example = "%s: [\"1.10\"]" % name
    if not isinstance(value, list):
        raise InvalidInputError(
            "%s is %s, not a list of strings. %s Quote each entry in YAML, for example %s."
            % (name, _describe(value), YAML_HINT, example)
        )
    for position, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidInputError(
                "%s[%d] is %s, not a string. %s Quote each entry in YAML, for example %s."
                % (name, position, _describe(item), YAML_HINT, example)
            )
    return value


def _describe(value):
    """Return ``value`` with its kind, for example ``the number 1.1`` or ``the boolean true``."""
    if isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, (int, float)):
        kind = "number"
    elif isinstance(value, dict):
        kind = "mapping"
    elif isinstance(value, list):
        kind = "list"
    else:
        kind = type(value).__name__
    try:
        rendered = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        rendered = repr(value)
    return "the %s %s" % (kind, rendered)
