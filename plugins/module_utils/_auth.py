# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Pure helpers of the auth flow: challenge parsing and token scopes.

Nothing here sends a request, so every rule is tested with plain tables.
"""

from __future__ import annotations

import re
from collections import namedtuple

Challenge = namedtuple("Challenge", ["scheme", "params"])
"""One parsed challenge: ``scheme`` lowercased, ``params`` with lowercased names."""

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_SPACE = " \t"

# Schemes the client can answer, most preferred first.
SUPPORTED_SCHEMES = ("bearer", "basic")


def parse_challenges(header_value):
    """Parse a ``WWW-Authenticate`` value into a list of Challenge tuples.

    Follows the RFC 9110 section 11.6.1 grammar: several challenges in one value (or
    several header lines joined with commas), auth-params with token or quoted-string
    values, token68, case-insensitive scheme and parameter names. Malformed parts are
    skipped rather than raising, so a strange header never turns into a traceback.
    """
    challenges = []
    text = header_value or ""
    pos = 0
    length = len(text)
    while pos < length:
        pos = _skip(text, pos, _SPACE + ",")
        match = _TOKEN_RE.match(text, pos)
        if not match:
            if pos < length:
                pos += 1
            continue
        scheme = match.group(0).lower()
        pos = match.end()
        params = {}
        after_scheme = _skip(text, pos, _SPACE)
        if after_scheme > pos:
            pos = after_scheme
            token68 = _TOKEN68_RE.match(text, pos)
            if token68 and _is_item_end(text, token68.end()):
                params[""] = token68.group(0)
                pos = token68.end()
            else:
                pos = _parse_params(text, pos, params)
        challenges.append(Challenge(scheme, params))
    return challenges


def select_challenge(challenges):
    """Return the challenge to answer: Bearer before Basic, unknown schemes skipped."""
    for scheme in SUPPORTED_SCHEMES:
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def _skip(text, pos, characters):
    while pos < len(text) and text[pos] in characters:
        pos += 1
    return pos


def _is_item_end(text, pos):
    pos = _skip(text, pos, _SPACE)
    return pos >= len(text) or text[pos] == ","


def _is_param_start(text, pos):
    match = _TOKEN_RE.match(text, pos)
    if not match:
        return False
    after = _skip(text, match.end(), _SPACE)
    return after < len(text) and text[after] == "="


def _parse_params(text, pos, params):
    """Read ``name=value`` pairs until the next challenge starts; return the new position."""
    length = len(text)
    while pos < length:
        pos = _skip(text, pos, _SPACE)
        if not _is_param_start(text, pos):
            return pos
        name_match = _TOKEN_RE.match(text, pos)
        name = name_match.group(0).lower()
        pos = _skip(text, name_match.end(), _SPACE) + 1
        pos = _skip(text, pos, _SPACE)
        if pos < length and text[pos] == '"':
            value, pos = _read_quoted(text, pos)
        else:
            value_match = _TOKEN_RE.match(text, pos)
            value = value_match.group(0) if value_match else ""
            pos = value_match.end() if value_match else pos
        params.setdefault(name, value)
        pos = _skip(text, pos, _SPACE)
        if pos < length and text[pos] != ",":
            # Garbage after a value: drop it up to the next comma.
            next_comma = text.find(",", pos)
            pos = length if next_comma < 0 else next_comma
        if pos < length:
            pos = _skip(text, pos + 1, _SPACE)
            if not _is_param_start(text, pos):
                return pos
    return pos


def _read_quoted(text, pos):
    """Read a quoted-string starting at ``pos``; an unterminated one runs to the end."""
    characters = []
    pos += 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            characters.append(text[pos + 1])
            pos += 2
            continue
        if char == '"':
            return "".join(characters), pos + 1
        characters.append(char)
        pos += 1
    return "".join(characters), pos


def parse_scope(scope):
    """Split ``type[(class)]:name:actions`` into ``(type, name, set of actions)``.

    The name may itself contain colons (a ``host:port/path`` name), so the type ends at
    the first colon and the actions start after the last one. Returns None for a scope
    without three parts.
    """
    first = scope.find(":")
    last = scope.rfind(":")
    if first < 0 or last == first:
        return None
    resource_type = scope[:first]
    name = scope[first + 1:last]
    actions = {action for action in scope[last + 1:].split(",") if action}
    if not resource_type or not name:
        return None
    return resource_type, name, actions


def repository_scope(repository, actions):
    """Return the scope string that grants ``actions`` on ``repository``."""
    return "repository:%s:%s" % (repository, ",".join(sorted(set(actions))))


def merge_scopes(scopes):
    """Merge scope strings by resource: union the actions, sort everything.

    The sorted tuple is both the token request's ``scope`` list and the token cache key.
    Strings that are not ``type:name:actions`` are kept as they are.
    """
    merged = {}
    opaque = set()
    for item in scopes:
        for scope in (item or "").split():
            parsed = parse_scope(scope)
            if parsed is None:
                opaque.add(scope)
                continue
            resource_type, name, actions = parsed
            merged.setdefault((resource_type, name), set()).update(actions)
    rendered = {
        "%s:%s:%s" % (resource_type, name, ",".join(sorted(actions)))
        for (resource_type, name), actions in merged.items()
    }
    return tuple(sorted(rendered | opaque))


def scopes_cover(scopes, repository, actions):
    """Return True when the merged ``scopes`` grant every one of ``actions`` on ``repository``.

    A ``*`` action covers all actions.
    """
    for scope in scopes:
        parsed = parse_scope(scope)
        if parsed is None:
            continue
        resource_type, name, granted = parsed
        if resource_type.split("(")[0] != "repository" or name != repository:
            continue
        if "*" in granted or set(actions) <= granted:
            return True
    return False
