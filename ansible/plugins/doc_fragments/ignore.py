# -*- coding: utf-8 -*-
# The ignore policy shared by venv_check, artifact_check and venv_plan (IGNORE_SPEC in
# src/frontends/ansible.rs): one copy, used by the three modules through
# `extends_documentation_fragment: venvaudit.python.ignore`. A module may give its own
# `description` of O(ignore) (Ansible merges an option's keys, the module's winning).
# No `choices:` here: ansible/build.sh writes those into plugins/modules/*.py only.

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  ignore:
    description:
      - Findings to accept. A finding is ignored when it matches every key an entry gives.
        Ignored findings are still returned (with C(ignored) set) but do not fail the task.
      - An entry whose O(ignore[].until) date has passed stops applying and yields an
        C(ignore-expired) warning finding and a task warning.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: Finding id, for example C(vulnerability), C(broken-interpreter) or C(artifact-sdist-only).
        type: str
      advisory:
        description: Advisory id or any of its aliases (PYSEC, GHSA, CVE).
        type: str
      package:
        description: Distribution name (compared PEP 503-normalised).
        type: str
      venv:
        description: The finding's C(venv) field as a path or glob (the environment; for artefact findings, the artefact).
        type: str
      reason:
        description: Why the finding is accepted.
        type: str
        required: true
      until:
        description: Last day (YYYY-MM-DD) the entry applies. Quote it in YAML.
        type: str
  ignore_file:
    description:
      - Ignore policy file on the managed host (TOML or JSON), in addition to O(ignore).
    type: path
"""
