# -*- coding: utf-8 -*-
# Copyright (c) venvaudit authors. MIT OR Apache-2.0 (see LICENSE-MIT, LICENSE-APACHE).
"""Action of venvaudit.python.venv_plan: run the venvaudit binary matching the target's machine."""

from __future__ import annotations

from ansible_collections.venvaudit.python.plugins.plugin_utils.binary_module import BinaryModuleAction


class ActionModule(BinaryModuleAction):
    """venvaudit.python.venv_plan: see plugins/plugin_utils/binary_module.py."""

    MODULE = "venvaudit.python.venv_plan"
