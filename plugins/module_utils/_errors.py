# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Exceptions raised by the shared registry client.

Modules catch ``RegistryError`` once and turn it into ``fail_json``; the subclasses let
callers (and tests) tell the failure kinds apart without reading message text.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base class: ``msg`` is safe to show (secrets already masked)."""

    def __init__(self, msg, status=None, codes=None):
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.codes = list(codes or [])


class InvalidInputError(RegistryError):
    """A module option does not have the form the distribution spec requires."""


class ConnectionFailedError(RegistryError):
    """The registry or token service could not be reached (refused, DNS, reset)."""


class TLSFailedError(ConnectionFailedError):
    """The TLS handshake failed: certificate, protocol or plain-HTTP mismatch."""


class RequestTimeoutError(ConnectionFailedError):
    """The server accepted the connection but did not respond within the timeout."""


class AuthenticationError(RegistryError):
    """Credentials were rejected, or the auth flow could not produce a token."""


class PermissionDeniedError(AuthenticationError):
    """The registry refused an action although authentication succeeded."""


class DeletionDisabledError(RegistryError):
    """The registry returned 405 to a DELETE because deletion is turned off."""


class UnexpectedResponseError(RegistryError):
    """The registry returned a status the operation does not handle."""


ECHO_LIMIT = 100
"""Characters of an offending value that a message repeats; the rest is left out."""


def echo(value):
    """Return ``value`` for a message: a string quoted, anything else as its repr.

    A text longer than ECHO_LIMIT characters is cut, ends with ``...`` and states its
    full length, so a megabyte of input or of a registry answer never lands in a
    message whole.
    """
    text = value if isinstance(value, str) else repr(value)
    quote = repr if isinstance(value, str) else str
    if len(text) <= ECHO_LIMIT:
        return quote(text)
    return "%s... (%d characters)" % (quote(text[:ECHO_LIMIT]), len(text))
