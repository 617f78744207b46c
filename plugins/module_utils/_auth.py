# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Pure helpers of the auth flow: challenge parsing and token scopes.

Nothing here sends a request, so every rule is tested with plain tables.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections import namedtuple
from urllib.parse import urlsplit

Challenge = namedtuple("Challenge", ["scheme", "params"])
"""One parsed challenge: ``scheme`` lowercased, ``params`` with lowercased names."""

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# An unquoted value should be a token, but servers also send bare URLs: accept any run
# of characters up to the next comma, space or quote.
_BARE_VALUE_RE = re.compile(r"[^\s,\"]+")
_SPACE = " \t"

# Schemes the client supports, most preferred first.
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
    """Return the challenge to respond to: Bearer before Basic, unknown schemes skipped."""
    for scheme in SUPPORTED_SCHEMES:
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def unsafe_realm_reason(realm, registry_url):
    """Return why credentials must not go to the token ``realm``, or None when it is safe.

    ``registry_url`` is the URL of the server that sent the challenge. A realm is unsafe
    when it is not an http(s) URL, when it downgrades an https registry to plain http,
    or when it points at a loopback, link-local or unspecified address while the
    registry itself is not local. The check does not resolve host names.
    """
    try:
        parts = urlsplit(realm)
        hostname = parts.hostname
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme not in ("http", "https") or not hostname:
        return "it is not an http(s) URL"
    registry_parts = urlsplit(registry_url)
    if registry_parts.scheme == "https" and parts.scheme == "http":
        return "the registry is served over https but the realm uses plain http"
    if is_local_host(hostname) and not is_local_host(registry_parts.hostname):
        return "it is on a loopback or link-local address but the registry is not"
    return None


def is_local_host(hostname):
    """Return True for localhost names and loopback, link-local or unspecified addresses.

    Also catches the IPv4 forms that inet_aton(3) accepts besides dotted quads
    (``127.1``, ``2130706433``, ``0x7f.0.0.1``) and IPv4-mapped IPv6 addresses.
    """
    if not hostname:
        return False
    name = hostname.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _ip_address(name)
    if address is None:
        return False
    if getattr(address, "ipv4_mapped", None) is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_link_local or address.is_unspecified


def _ip_address(name):
    try:
        return ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        pass
    if not re.fullmatch(r"[0-9a-fx.]+", name):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
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
            value_match = _BARE_VALUE_RE.match(text, pos)
            value = value_match.group(0) if value_match else ""
            pos = value_match.end() if value_match else pos
        params.setdefault(name, value)
        pos = _skip(text, pos, _SPACE)
        if pos < length and text[pos] != ",":
            # Garbage after a value: drop it up to the next comma.
            next_comma = text.find(",", pos)
            pos = length if next_comma < 0 else next_comma
        if pos < length:
            # Empty list elements (",,") are allowed by the list syntax and skipped.
            pos = _skip(text, pos + 1, _SPACE + ",")
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
