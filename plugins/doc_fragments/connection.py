# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Options of the connection group (CONNECTION_ARGSPEC in module_utils/_argspec.py)."""

    DOCUMENTATION = r"""
options:
  registry:
    description:
      - Registry to talk to, as C(host) or C(host:port), without a scheme or path.
      - IPv6 addresses go in brackets, for example V([::1]:5000).
    type: str
    required: true
  plain_http:
    description:
      - Talk plain HTTP instead of HTTPS.
      - Credentials sent over plain HTTP to a host other than loopback cause a warning.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the registry's TLS certificate.
      - V(false) skips the check and warns; prefer O(ca_path) for a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificates that signed the registry's certificate.
      - The module fails before the first request when the file is missing, unreadable
        or holds no PEM certificate.
    type: path
  client_cert:
    description:
      - PEM file with a client certificate, for registries that require TLS client auth.
      - Can also contain the private key; otherwise set O(client_key).
      - The module fails before the first request when the file is missing or unreadable.
    type: path
  client_key:
    description:
      - PEM file with the private key of O(client_cert).
      - The module fails before the first request when the file is missing or unreadable.
    type: path
  timeout:
    description:
      - Seconds to wait for a connection, and each time for the next data of a response
        from the registry or its token service.
      - It bounds every single wait, not a whole request. A server that keeps sending
        response headers slowly is not cut off. The body of one response must arrive
        within four times this value.
      - Must be above V(0) and at most V(3600).
    type: float
    default: 30.0
"""
