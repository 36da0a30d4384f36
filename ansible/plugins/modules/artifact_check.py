#!/usr/bin/python
# -*- coding: utf-8 -*-
# Documentation of the artifact_check module. The module is the venvaudit binary: the action
# plugin plugins/action/artifact_check.py picks files/venvaudit-linux-ARCH for the target's
# machine and runs it as a binary module. This file only carries DOCUMENTATION, EXAMPLES and
# RETURN for ansible-doc (a task never runs it). Keep the options in step with the spec in
# src/frontends/ansible.rs (tests/ansible.rs compares them); every `choices:` list is written by
# ansible/build.sh from that spec, so the check families are the binary's own.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: artifact_check
short_description: Judge a wheelhouse, wheels or a lock against the host's Python before installing it (a pre-install gate)
version_added: 0.1.0
description:
  - Judges what is about to be installed - a wheelhouse directory, C(.whl) files, a PEP 751
    C(pylock.toml), a pinned and hashed C(requirements.txt) (with O(find_links)) or a C(uv.lock) -
    against the interpreter it will be installed for on this host, before anything is installed.
    The task fails when a finding at or above O(fail_on) remains that no O(ignore) entry covers,
    so a play stops before C(pip install) runs.
  - The installer's choice is made again for the target - its wheel tags, markers and
    Requires-Python, one wheel per distribution - and the selected wheels are judged together as
    if installed - a distribution with no wheel for the target
    (C(artifact-no-compatible-wheel)), a file whose hash differs from the lock's
    (C(artifact-hash-mismatch)), a locked file that is missing (C(artifact-file-missing)), a
    Requires-Python the target is outside (C(artifact-requires-python)), a malformed artefact
    (C(artifact-invalid)), an sdist that would be built on the host (C(artifact-sdist-only)),
    extension modules that cannot load on this host (ABI, architecture, glibc, missing
    libraries), dependency conflicts, known vulnerabilities from an offline OSV database and
    forbidden packages.
  - The target is the interpreter of O(venv) (the environment the artefact is installed into),
    O(target_python), the Python Apache's mod_wsgi embeds (O(mod_wsgi)), or else the host's
    C(python3).
  - Everything is learned from files alone. No Python interpreter is needed on the managed host,
    nothing is extracted, installed or executed, and nothing is written.
  - The module is a binary built for glibc 2.17 or newer, one per architecture; the action
    plugin picks the one for the target's machine (from facts, else C(uname -m)).
extends_documentation_fragment:
  - venvaudit.python.ignore
options:
  artifacts:
    description:
      - The artefacts on the managed host, judged together as one install - wheelhouse
        directories, C(.whl) files, C(pylock.toml), C(requirements.txt) (pinned with C(==); the
        hashes of C(--hash) are checked against the files found) and C(uv.lock).
      - A comma-separated string is accepted as a list.
    type: list
    elements: path
    required: true
  find_links:
    description:
      - Directories where the wheels a lock or requirements file names are looked for by file
        name, as pip's C(--find-links). Give the wheelhouse here when O(artifacts) is its
        C(requirements.txt).
    type: list
    elements: path
    default: []
  venv:
    description:
      - The environment the artefact will be installed into. Its interpreter is the target, and
        RV(artifact.changes) says what the install adds, upgrades and downgrades in it.
      - Mutually exclusive with O(target_python) and O(mod_wsgi).
    type: path
  target_python:
    description:
      - Judge against this interpreter (for example the Python a new virtualenv will be made with).
      - Mutually exclusive with O(venv) and O(mod_wsgi).
    type: path
  mod_wsgi:
    description:
      - Judge against the Python this C(mod_wsgi.so) embeds. V(apache) (or an empty string) takes
        the module Apache's configuration loads (read under O(config_root)).
      - Mutually exclusive with O(venv) and O(target_python).
    type: path
  root:
    description:
      - Treat this directory as C(/) for the target (a mounted image, a container rootfs, a
        chroot). O(venv), O(target_python) and O(mod_wsgi) are then paths inside that tree;
        O(artifacts) and O(find_links) are not.
    type: path
  config_root:
    description:
      - Read the Apache configuration for O(mod_wsgi=apache) under this directory instead of
        under C(/) (or O(root)).
    type: path
  fail_on:
    description:
      - Lowest severity that fails the task.
      - V(never) reports findings without ever failing.
    type: str
    choices: []  # written by ansible/build.sh from the binary's argument spec (NAME --argspec)
    default: error
  checks:
    description:
      - Check families to run besides V(artifact), which always runs. All of them when empty.
        The families that judge an artefact are V(artifact), V(extensions), V(dependencies),
        V(vulnerabilities), V(forbidden) and V(eol); the others find nothing here.
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
  forbid:
    description:
      - PEP 508 requirement specifiers whose matches among the selected wheels are
        C(forbidden-package) errors, for example C(django<4.2.16).
    type: list
    elements: str
    default: []
  app:
    description:
      - The application's code (a directory or a C(.py) file). An extension module it imports
        is required, so one that cannot load on this host fails the gate even when its
        distribution's own import does not reach it. Its imports are read statically, never run.
    type: path
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything; in check mode it judges the same and fails the same way.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode).
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - "The failure message lists the counts, the number of wheels selected and the target, then the
    first failing findings, one line each (C(id artefact: message)); run with C(-vv) to list all
    of them."
  - The gate judges files; it cannot see what an sdist would build into, nor what C(pip install)
    does beyond unpacking the selected wheels (no install scripts run for wheels).
  - A lock's hashes prove which archives are installed, not what the installed files are later;
    compare the installed environment with its lock afterwards with the C(lock) and C(verify)
    options of M(venvaudit.python.venv_check).
seealso:
  - module: venvaudit.python.venv_check
  - module: venvaudit.python.venv_facts
author:
  - venvaudit authors (@venvaudit)
"""

EXAMPLES = r"""
- name: Gate the wheelhouse against the virtualenv it will be installed into
  venvaudit.python.artifact_check:
    artifacts: /srv/app/wheelhouse/requirements.txt
    find_links: /srv/app/wheelhouse
    venv: /srv/app/venv

- name: Only then install it, offline, exactly as gated
  ansible.builtin.command:
    argv:
      - /srv/app/venv/bin/python
      - -m
      - pip
      - install
      - --no-index
      - --find-links
      - /srv/app/wheelhouse
      - --require-hashes
      - -r
      - /srv/app/wheelhouse/requirements.txt

- name: Judge a pylock.toml against the Python Apache's mod_wsgi embeds
  venvaudit.python.artifact_check:
    artifacts: [/srv/site/pylock.toml]
    find_links: [/srv/site/wheels]
    mod_wsgi: apache
    forbid: ["django<4.2.16"]

- name: Report only - which wheels would be picked for Python 3.12
  venvaudit.python.artifact_check:
    artifacts: /srv/staging/wheelhouse
    target_python: /usr/bin/python3.12
    fail_on: never
  register: plan

- name: Show the selection
  ansible.builtin.debug:
    msg: "{{ plan.artifact.selected | map(attribute='file') | list }}"
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
  sample: {"error": 1, "warning": 0, "info": 0, "ignored": 0}
findings:
  description:
    - Every finding, sorted by severity, artefact and id; the fields are those of
      M(venvaudit.python.venv_check)'s C(findings), with C(venv) naming the artefact concerned.
    - Ignored findings are included, with C(ignored) set to the matching ignore entry.
  returned: success
  type: list
  elements: dict
  sample:
    - id: artifact-no-compatible-wheel
      severity: error
      venv: /srv/app/wheelhouse/requirements.txt
      package: pyyaml
      message: >-
        no wheel of pyyaml 6.0.3 installs on the target: it offers cp38-cp38-manylinux_2_17_x86_64
        and the target accepts cp312-cp312-linux_x86_64, ... (best first)
artifact:
  description: What was judged, against which target, and the wheels an installer would pick.
  returned: success
  type: dict
  contains:
    path:
      description: The first artefact as given.
      type: str
    kind:
      description: Its kind - V(wheelhouse), V(wheel), V(pylock), V(requirements) or V(uv-lock).
      type: str
    inputs:
      description: Every artefact given, C(path) and C(kind).
      type: list
      elements: dict
    target:
      description:
        - The interpreter judged against - C(source) (how it was chosen - from O(venv),
          O(target_python), O(mod_wsgi), or V(python3) for the host's own), C(implementation),
          C(version), C(arch), C(libc), C(libc_version), C(best_tags), C(tag_count) and the
          interpreter's facts in C(python).
      type: dict
    selected:
      description:
        - One wheel per distribution, as the installer would pick it - C(name), C(version),
          C(file), C(tag), C(why), C(hash_verified) and the C(input) it comes from.
      type: list
      elements: dict
    skipped:
      description: Lock entries that install no wheel (a marker false for the target, the project itself), with C(why).
      type: list
      elements: dict
    changes:
      description:
        - With O(venv) - what the install changes in it - C(install), C(upgrade), C(downgrade)
          (C(name==version) or C(name old -> new)), C(not_in_artifact) and the number
          C(unchanged).
      type: dict
      returned: when O(venv) is set
venvs:
  description: With O(venv), that environment with its C(path), C(kind), C(python) version and C(health).
  returned: success
  type: list
  elements: dict
summary:
  description: Counts of findings.
  returned: success
  type: dict
errors:
  description: Paths that could not be read, each with C(path) and C(message).
  returned: success
  type: list
  elements: dict
osv_db:
  description: The vulnerability database used, when one was found.
  returned: when a database was used
  type: dict
msg:
  description: The counts, the wheels selected and the target; on failure the first failing findings one line each.
  returned: always
  type: str
  sample: "artifact_check failed: 1 error(s), 0 warning(s), 0 info, 0 ignored; 2 wheel(s) selected for CPython 3.12.1 (venv) (fail_on: error)"
changed:
  description: Always false; nothing is ever changed.
  returned: always
  type: bool
  sample: false
"""
