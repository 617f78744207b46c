# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Attributes every module of the collection shares."""

    DOCUMENTATION = r"""
attributes:
  action_group:
    description: Use C(group/oci.registry.registry) in C(module_defaults) to set options for every module of the collection.
    support: full
    membership:
      - oci.registry.registry
"""
