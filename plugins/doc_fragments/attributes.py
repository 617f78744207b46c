# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Attributes every module of the collection shares."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and report the change it would make without making it.
  diff_mode:
    description: Returns the state before and after the change when run with C(--diff).
  idempotent:
    description:
      - Running the same task again with the same options changes nothing and reports
        C(changed=false).
  action_group:
    description: Use C(group/oci.registry.registry) in C(module_defaults) to set options for every module of the collection.
    support: full
    membership:
      - oci.registry.registry
"""
