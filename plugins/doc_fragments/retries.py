# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Options of the retries group (RETRIES_ARGSPEC in module_utils/_argspec.py)."""

    DOCUMENTATION = r"""
options:
  retries:
    description:
      - Maximum number of times one request is repeated after HTTP 429, 502, 503 or 504,
        or after the connection was reset.
      - Only C(GET), C(HEAD) and C(DELETE) are repeated. The wait follows the server's
        C(Retry-After) header in full, otherwise an exponential backoff with jitter.
      - V(0) turns retries off.
    type: int
    default: 3
  retry_max_time:
    description:
      - Maximum seconds spent waiting between retries of one request. A retry whose wait
        would pass this limit is not made, and the last response is returned.
      - Must be from V(0) to V(86400). V(0) allows only retries without a wait.
    type: float
    default: 60.0
"""
