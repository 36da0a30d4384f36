#!/usr/bin/python
# -*- coding: utf-8 -*-
# Documentation of the venv_check module. The module is the venvaudit binary: the action plugin
# plugins/action/venv_check.py picks files/venvaudit-linux-ARCH for the target's machine and runs it
# as a binary module. This file only carries DOCUMENTATION, EXAMPLES and RETURN for ansible-doc
# (a task never runs it). Keep the options in step with the spec in src/frontends/ansible.rs
# (tests/ansible.rs compares them); every `choices:` list is written by ansible/build.sh from
# that spec, so the check families are the binary's own.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: venv_check
short_description: Check every Python virtualenv on a host and fail on findings (a pre-deploy gate)
version_added: 0.1.0
description:
  - Finds every Python environment below O(paths), runs venvaudit's checks on it and returns the
    findings. The task fails when a finding at or above O(fail_on) remains that no O(ignore)
    entry covers, so a play or a rolling deploy stops before it switches to a broken environment.
  - Checks include broken or mismatched interpreters, extension modules built for another
    Python or a newer glibc, end-of-life Pythons, mod_wsgi and uWSGI compatibility, known
    vulnerabilities from an offline OSV database, forbidden packages, dependency conflicts,
    modified installed files, unsafe permissions, whether services and processes use the
    environment, and with O(lock) whether the environment still is what its lock says
    (see O(checks)).
  - Everything is learned from files alone. No Python interpreter is needed on the managed host,
    no code from a scanned environment is executed and nothing is written.
  - The module is a binary built for glibc 2.17 or newer, one per architecture; the action
    plugin picks the one for the target's machine (from facts, else C(uname -m)).
extends_documentation_fragment:
  - venvaudit.python.scan
  - venvaudit.python.ignore
options:
  fail_on:
    description:
      - Lowest severity that fails the task.
      - V(never) reports findings without ever failing.
    type: str
    choices: []  # written by ansible/build.sh from the binary's argument spec (NAME --argspec)
    default: error
  checks:
    description:
      - Check families to run. All of them when empty (V(drift) runs only with O(lock),
        V(integrity) only with O(verify); V(artifact) is the family of
        M(venvaudit.python.artifact_check) and finds nothing here).
    type: list
    elements: str
    choices: []  # written by ansible/build.sh from the binary's argument spec (NAME --argspec)
    default: []
  osv_db:
    description:
      - Offline OSV vulnerability database on the managed host, a directory of OSV JSON files or a
        zip such as the PyPI C(all.zip) export.
      - Default C($VENVAUDIT_OSV_DB), else C(/var/lib/venvaudit/osv/PyPI.zip) when it exists.
        When no database is found the result warns that vulnerabilities were not checked.
    type: path
  require_osv_db:
    description:
      - Fail the gate (an C(osv-db-missing) error) when no OSV database is found.
    type: bool
    default: false
  osv_max_age_days:
    description:
      - Warn when the database's newest record is older than this many days (7 when not given).
    type: int
  forbid:
    description:
      - PEP 508 requirement specifiers whose matches are C(forbidden-package) errors,
        for example C(django<4.2.16) or C(pyyaml<5.4).
    type: list
    elements: str
    default: []
  apache_config:
    description:
      - Apache configuration files to read for mod_wsgi references, instead of the distribution's default.
    type: list
    elements: path
    default: []
  uwsgi_config:
    description:
      - uWSGI configuration files to read in addition to C(/etc/uwsgi).
    type: list
    elements: path
    default: []
  mod_wsgi:
    description:
      - Judge mod_wsgi compatibility against this C(mod_wsgi.so) instead of the one Apache loads.
    type: path
  app:
    description:
      - The application's code (a directory or a C(.py) file). An extension module it imports
        is required, so one that cannot load fails the gate even when its distribution's own
        import does not reach it (for example C(from PyQt6 import QtMultimedia) without
        libpulse). Its imports are read statically, never run.
    type: path
  target_python:
    description:
      - Judge environments against this interpreter instead of their own base interpreter
        (for example the Python a host is about to be upgraded to).
    type: path
  verify:
    description:
      - Verify the RECORD hashes of every installed file. Reads every file; slow on large environments.
      - With O(lock), the distributions whose files changed since install are listed in the
        C(lock-drift) finding too.
    type: bool
    default: false
  lock:
    description:
      - A lock the environments are compared with, on the managed host - a PEP 751 C(pylock.toml),
        a pinned (hashed) C(requirements.txt) or a C(uv.lock). The entries for each environment's
        own interpreter are compared with what is installed; a difference is a C(lock-drift)
        finding - missing distributions, other versions, other sources (errors), and
        distributions the lock does not list (a warning; pip, setuptools, wheel and uv are never
        counted).
      - A lock's hashes are hashes of the archives, not of the installed files - a distribution
        edited after install still matches its lock by name and version. Add O(verify) to
        compare the installed files with their RECORD.
    type: path
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything; in check mode it runs the same checks and fails the same way.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode).
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - "The failure message lists the counts and the first failing findings, one line each
    (C(id venv: message)); run with C(-vv) to list all of them."
  - Paths that cannot be read are reported as task warnings.
seealso:
  - module: venvaudit.python.venv_facts
  - module: venvaudit.python.artifact_check
author:
  - venvaudit authors (@venvaudit)
"""

EXAMPLES = r"""
- name: Stop here if any virtualenv below /srv is broken or vulnerable
  venvaudit.python.venv_check:
    paths: /srv
    osv_db: /var/lib/osv/PyPI-all.zip

- name: Gate on warnings too, but accept one known finding until the end of the quarter
  venvaudit.python.venv_check:
    paths: /srv/app
    fail_on: warning
    ignore:
      - id: interpreter-eol
        venv: /srv/app/venv
        reason: migration to 3.12 planned in ticket OPS-123
        until: "2026-03-31"

- name: Report only, and act on the result
  venvaudit.python.venv_check:
    paths: /srv
    fail_on: never
    checks: [interpreter, extensions]
  register: audit

- name: List broken environments
  ansible.builtin.debug:
    msg: "{{ audit.findings | selectattr('id', 'eq', 'broken-interpreter') | map(attribute='venv') | list }}"

- name: After a deploy, the virtualenv must still be exactly what was gated and installed
  venvaudit.python.venv_check:
    paths: /srv/app/venv
    lock: /srv/app/wheelhouse/requirements.txt
    verify: true

- name: Forbid packages no one may run
  venvaudit.python.venv_check:
    paths: /srv
    forbid:
      - django<4.2.16
      - pyyaml<5.4
"""

RETURN = r"""
passed:
  description: Whether no active finding is at or above O(fail_on).
  returned: success
  type: bool
  sample: true
fail_on:
  description: The threshold used.
  returned: success
  type: str
  sample: error
counts:
  description: Active findings per severity, and the number of ignored findings.
  returned: success
  type: dict
  sample: {"error": 1, "warning": 2, "info": 0, "ignored": 1}
findings:
  description:
    - Every finding, sorted by severity, venv and id.
    - Ignored findings are included, with C(ignored) set to the matching ignore entry.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Stable finding id.
      type: str
      sample: broken-interpreter
    severity:
      description: V(error), V(warning) or V(info).
      type: str
      sample: error
    venv:
      description: The environment concerned, null for host-wide findings.
      type: str
      sample: /srv/app/venv
    package:
      description: The distribution concerned, when there is one.
      type: str
    message:
      description: One line a person can act on.
      type: str
    remediation:
      description: What to do about it.
      type: str
    details:
      description: Machine-readable specifics, per id.
      type: dict
    ignored:
      description: The ignore entry that covers the finding; absent when none does.
      type: dict
venvs:
  description: Every environment checked, with its C(path), C(kind), C(python) version and C(health) (worst severity, or V(ok)).
  returned: success
  type: list
  elements: dict
  sample: [{"path": "/srv/app/venv", "kind": "venv", "python": "3.12.1", "health": "ok"}]
summary:
  description: Counts of environments, packages and findings, Python versions in use, broken environments.
  returned: success
  type: dict
errors:
  description: Paths that could not be read, each with C(path) and C(message).
  returned: success
  type: list
  elements: dict
osv_db:
  description: The vulnerability database used, when O(osv_db) was given.
  returned: when O(osv_db) is set
  type: dict
msg:
  description: The counts, and on failure the first failing findings one line each.
  returned: always
  type: str
  sample: "venv_check failed: 1 error(s), 0 warning(s), 0 info, 0 ignored in 2 venv(s) (fail_on: error)"
changed:
  description: Always false; nothing is ever changed.
  returned: always
  type: bool
  sample: false
"""
