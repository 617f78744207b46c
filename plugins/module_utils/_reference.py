# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Validation of registry hosts, repository names, tags and digests.

The grammar follows the distribution reference rules (distribution/reference, OCI
distribution spec v1.1, "Pulling manifests"): every check runs before the first request
so that bad input never reaches the registry.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError, echo

# Every pattern is applied with fullmatch: "$" would also accept a trailing newline.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY_RE = re.compile(r"%s(?:/%s)*" % (_PATH_COMPONENT, _PATH_COMPONENT))
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST_RE = re.compile(r"([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")
_HEX_RE = re.compile(r"[0-9a-f]+")
_HOSTNAME_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_PORT_RE = re.compile(r"[0-9]{1,5}")

REPOSITORY_MAX_LENGTH = 255

# Registered algorithms and the length of their lowercase hex encoding.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha512": 128}


def validate_repository(name):
    """Return ``name`` if it is a valid repository name, else raise InvalidInputError."""
    if not name:
        raise InvalidInputError(
            "repository is empty: give a name such as 'team/app' (no registry host, no tag)."
        )
    if len(name) > REPOSITORY_MAX_LENGTH:
        raise InvalidInputError(
            "repository %s is %d characters long: the maximum is %d."
            % (echo(name), len(name), REPOSITORY_MAX_LENGTH)
        )
    if not _REPOSITORY_RE.fullmatch(name):
        hint = ""
        if ":" in name or "@" in name:
            hint = " Put a tag in the 'tag' option and a digest in the 'digest' option."
        elif name != name.lower():
            hint = " Repository names must be lowercase."
        raise InvalidInputError(
            "repository %s is invalid: expected lowercase path components of letters and "
            "digits, joined by '/' and separated inside by '.', '_', '__' or '-' "
            "(for example 'team/app').%s" % (echo(name), hint)
        )
    return name


def validate_tag(tag):
    """Return ``tag`` if it is a valid tag, else raise InvalidInputError."""
    if not tag:
        raise InvalidInputError("tag is empty: give a tag such as 'v1.2.0'.")
    if not _TAG_RE.fullmatch(tag):
        raise InvalidInputError(
            "tag %s is invalid: expected 1 to 128 characters of letters, digits, '_', '.' "
            "and '-', not starting with '.' or '-'." % echo(tag)
        )
    return tag


def validate_digest(digest):
    """Return ``digest`` if it is a valid sha256 or sha512 digest, else raise InvalidInputError."""
    if not digest:
        raise InvalidInputError("digest is empty: give a digest such as 'sha256:<64 hex digits>'.")
    match = _DIGEST_RE.fullmatch(digest)
    if not match:
        raise InvalidInputError(
            "digest %s is invalid: expected '<algorithm>:<hex>', for example "
            "'sha256:' followed by 64 lowercase hex digits." % echo(digest)
        )
    algorithm, encoded = match.groups()
    if algorithm not in DIGEST_HEX_LENGTHS:
        raise InvalidInputError(
            "digest %s uses the unsupported algorithm %s: use one of %s."
            % (echo(digest), echo(algorithm), ", ".join(sorted(DIGEST_HEX_LENGTHS)))
        )
    expected_length = DIGEST_HEX_LENGTHS[algorithm]
    if len(encoded) != expected_length or not _HEX_RE.fullmatch(encoded):
        raise InvalidInputError(
            "digest %s is invalid: %s digests have exactly %d lowercase hex digits after "
            "'%s:'." % (echo(digest), algorithm, expected_length, algorithm)
        )
    return digest


def digest_algorithm(digest):
    """Return the algorithm part of a validated digest."""
    return digest.split(":", 1)[0]


def validate_registry(registry):
    """Return ``registry`` as ``host[:port]`` if valid, else raise InvalidInputError.

    Accepted hosts are DNS names, IPv4 addresses and bracketed IPv6 addresses.
    """
    if not registry:
        raise InvalidInputError(
            "registry is empty: give the registry host, for example 'registry.example.com' "
            "or '127.0.0.1:5000'."
        )
    if "://" in registry:
        raise InvalidInputError(
            "registry %s has a scheme: give only host[:port], for example %s, and set "
            "plain_http=true for a registry without TLS."
            % (echo(registry), echo(registry.split("://", 1)[1].split("/", 1)[0]))
        )
    if "/" in registry or "@" in registry or "?" in registry or "#" in registry:
        raise InvalidInputError(
            "registry %s has a path or user part: give only host[:port], for example %s."
            % (echo(registry), echo(registry.split("/", 1)[0].split("@")[-1]))
        )
    host, port = split_host_port(registry)
    if port is not None and not (_PORT_RE.fullmatch(port) and 0 < int(port) < 65536):
        raise InvalidInputError(
            "registry %s has an invalid port %s: expected a number from 1 to 65535."
            % (echo(registry), echo(port))
        )
    if not _is_valid_host(host):
        raise InvalidInputError(
            "registry %s has an invalid host %s: expected a DNS name, an IPv4 address or "
            "an IPv6 address in brackets." % (echo(registry), echo(host))
        )
    return registry


def split_host_port(registry):
    """Split ``host[:port]`` (IPv6 hosts in brackets) into ``(host, port or None)``."""
    if registry.startswith("["):
        end = registry.find("]")
        if end < 0:
            return registry, None
        host = registry[: end + 1]
        rest = registry[end + 1:]
        if rest.startswith(":"):
            return host, rest[1:]
        return host, (rest or None)
    if registry.count(":") == 1:
        host, port = registry.split(":")
        return host, port
    return registry, None


def _is_valid_host(host):
    if host.startswith("[") and host.endswith("]"):
        # A zone index ("%eth0") would need escaping in a URL, so it is not accepted.
        if "%" in host:
            return False
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    if len(host) > 253 or not host:
        return False
    return all(_HOSTNAME_LABEL_RE.fullmatch(label) for label in host.split("."))
