# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Options of the auth group (AUTH_ARGSPEC in module_utils/_argspec.py)."""

    DOCUMENTATION = r"""
options:
  username:
    description:
      - User name for the registry.
      - With token authentication, sent to the token service as HTTP Basic credentials;
        with HTTP Basic authentication, sent to the registry.
      - Without O(username) and O(password), requests are anonymous.
    type: str
  password:
    description:
      - Password or access token of O(username).
      - Never shown in results, warnings or error messages.
    type: str
"""
