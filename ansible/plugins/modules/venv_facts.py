#!/usr/bin/python
# -*- coding: utf-8 -*-
# Documentation of the venv_facts module. The module is the venvaudit binary: the action plugin
# plugins/action/venv_facts.py picks files/venvaudit-linux-ARCH for the target's machine and runs it
# as a binary module. This file only carries DOCUMENTATION, EXAMPLES and RETURN for ansible-doc
# (a task never runs it). Keep the options in step with the spec in src/frontends/ansible.rs
# (tests/ansible.rs compares them); every `choices:` list is written by ansible/build.sh from
# that spec.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: venv_facts
short_description: Gather facts about every Python virtualenv on a host, without running Python
version_added: 0.1.0
description:
  - Finds every Python environment (venv, virtualenv, uv, legacy virtualenv, conda) below O(paths)
    and reports its interpreter, base interpreter, libpython, owner, site-packages and installed
    distributions as the fact C(ansible_facts['venvaudit']).
  - Everything is learned from files alone. No Python interpreter is needed on the managed host,
    no code from a scanned environment is executed and nothing is written.
  - The module is a binary built for glibc 2.17 or newer, one per architecture; the action
    plugin picks the one for the target's machine (from facts, else C(uname -m)), so it runs on old
    distributions that have no usable Python.
  - Paths that cannot be read (for example for lack of permission) are reported as task warnings
    and listed in the fact's C(errors); the scan goes on without them.
  - Interpreter health findings (for example C(broken-interpreter)) are included in the fact's
    C(findings); use M(venvaudit.python.venv_check) to gate a play on them.
extends_documentation_fragment:
  - venvaudit.python.scan
options:
  packages:
    description:
      - Include the list of installed distributions of each environment.
      - The number of distributions (C(package_count)) is always reported.
    type: bool
    default: true
  summary:
    description:
      - Report only counts and versions, no package lists and no evidence, so the fact stays
        small enough to cache for thousands of hosts. The same as O(detail=summary).
    type: bool
    default: false
  detail:
    description:
      - How much to report per environment.
      - V(full) (the default) reports everything.
      - V(compact) is what a fleet fact cache should hold (about 3 KB per environment of 100
        distributions), per environment the path, kind, Python version and ABI, health, owner,
        C(used_by_names) and C(in_use_names) (the services and processes using it, names only)
        and C(distributions), every installed distribution as C(name==version). The controller
        answers "which hosts run X?" from the cache with C(venvaudit query SPEC --from-facts DIR).
      - V(summary) reports counts and versions only, like O(summary=true).
    type: str
    choices: []  # written by ansible/build.sh from the binary's argument spec (NAME --argspec)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything; in check mode it gathers the same facts.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode).
    support: none
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - The binary reads C(/etc/passwd) (owner names), C(/etc/os-release), the C library and
    C(ld.so.conf) of the scanned system, and the C(pyvenv.cfg), C(bin/python) links and
    distribution metadata of each environment.
  - Fact variables are read as C(ansible_facts['venvaudit']); the injected top-level variable
    C(venvaudit) is deprecated by ansible-core.
seealso:
  - module: venvaudit.python.venv_check
author:
  - venvaudit authors (@venvaudit)
"""

EXAMPLES = r"""
- name: Gather virtualenv facts below /srv and /opt
  venvaudit.python.venv_facts:
    paths:
      - /srv
      - /opt
    exclude:
      - node_modules

- name: Show which environments run Django
  ansible.builtin.debug:
    msg: "{{ item.path }} runs Django {{ (item.packages | selectattr('normalized_name', 'eq', 'django') | first).version }}"
  loop: "{{ ansible_facts['venvaudit']['venvs'] | selectattr('packages', 'defined') | list }}"
  when: item.packages | selectattr('normalized_name', 'eq', 'django') | list | length > 0
  loop_control:
    label: "{{ item.path }}"

- name: Small facts for a large fleet (cache them with a fact cache plugin)
  venvaudit.python.venv_facts:
    paths: /srv
    summary: true

- name: Compact facts for a fleet fact cache (answer later with venvaudit query --from-facts)
  venvaudit.python.venv_facts:
    paths: [/srv, /opt]
    detail: compact

- name: Audit a container image unpacked to a directory
  venvaudit.python.venv_facts:
    root: /var/lib/images/app-rootfs
    paths: /opt/app
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to C(ansible_facts).
  returned: success
  type: dict
  contains:
    venvaudit:
      description:
        - The venvaudit report (schema version 1), the same document C(venvaudit facts --format json) prints.
      returned: success
      type: dict
      contains:
        schema_version:
          description: Version of the report contract.
          type: int
          sample: 1
        tool:
          description:
            - Name and version of the tool, and C(arch), the machine of the binary that ran (the
              action plugin picks it by the target's machine).
          type: dict
          sample: {"name": "venvaudit", "version": "0.1.0", "arch": "aarch64"}
        generated_at:
          description: When the report was made (RFC 3339, UTC); C(venvaudit query --from-facts) judges the age of cached facts by it.
          type: str
          sample: "2026-12-03T19:25:28Z"
        detail:
          description: The detail level of the report, V(full), V(compact) or V(summary).
          type: str
          sample: compact
        host:
          description: Facts about the scanned system (C(hostname), C(arch), C(glibc), C(os), C(evidence)).
          type: dict
          sample: {"hostname": "web1", "arch": "x86_64", "glibc": "2.36", "os": "Debian GNU/Linux 12 (bookworm)"}
        venvs:
          description:
            - Every environment found, sorted by path, with C(path), C(kind), C(creator), C(python)
              (implementation, version, abi, executable, base_executable, home, base_exists, libpython,
              machine, evidence), C(include_system_site_packages), C(site_packages), C(owner),
              C(package_count), C(packages) (only at O(detail=full) and unless O(packages=false)), C(health),
              C(used_by) (services and configuration pointing at it) and C(in_use) (running processes).
            - At O(detail=compact), C(distributions) (C(name==version), normalized names, sorted),
              C(used_by_names) and C(in_use_names) instead of C(packages), C(used_by) and C(in_use).
            - Each package has C(name), C(normalized_name), C(version), C(version_valid), C(installer),
              C(requested), C(editable), C(direct_url), C(location), C(metadata_format),
              C(requires_python), C(requires_dist) and C(extensions).
          type: list
          elements: dict
        findings:
          description: Interpreter health findings, each with C(id), C(severity), C(venv), C(package), C(message), C(remediation), C(details).
          type: list
          elements: dict
        warnings:
          description: Caveats about the whole report (for example a partial process view); also raised as task warnings.
          type: list
          elements: str
        errors:
          description: Paths that could not be read, each with C(path) and C(message).
          type: list
          elements: dict
        summary:
          description: Counts of environments, packages, findings per severity, Python versions in use and broken environments.
          type: dict
          sample: {"venvs": 3, "packages": 120, "error": 1, "warning": 0, "info": 0, "ignored": 0, "python_versions": {"3.11": 2, "3.12": 1}, "broken": 1}
changed:
  description: Always false; nothing is ever changed.
  returned: always
  type: bool
  sample: false
"""
