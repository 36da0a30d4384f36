#!/usr/bin/python
# -*- coding: utf-8 -*-
# Documentation of the venv_plan module. The module is the venvaudit binary: the action plugin
# plugins/action/venv_plan.py picks files/venvaudit-linux-ARCH for the target's machine and runs it
# as a binary module. This file only carries DOCUMENTATION, EXAMPLES and RETURN for ansible-doc
# (a task never runs it). Keep the options in step with PLAN_SPEC in src/frontends/ansible.rs
# (tests/remediate_ansible.rs compares them); every `choices:` list is written by ansible/build.sh
# from that spec.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: venv_plan
short_description: Plan the upgrades that fix the findings of every Python virtualenv on a host
version_added: 0.1.0
description:
  - Finds every Python environment below O(paths), checks it for known vulnerabilities (from an
    offline OSV database), forbidden packages (O(forbid)), drift from a lock (O(lock)) and an
    interpreter at its end of life, and returns a remediation plan - one step per distribution
    of each environment that has such a finding.
  - A step names the version that fixes the finding (the smallest release above the installed
    one that no advisory of the database affects and no O(forbid) specifier matches, or the
    version the lock pins), whether that version fits the requirements of the other installed
    distributions (V(ready)) or a dependent's specifier excludes it (V(blocked), naming the
    dependent and its requirement), the exact install command with the environment's own
    installer (pip, uv or conda) as a shell string and an argument vector, and the systemd units,
    Apache, uWSGI vassals and supervisor programs to restart afterwards (from the service
    configuration and the running processes that use the environment).
  - The module changes nothing and never fails because steps are planned; it returns the plan.
    The role M(venvaudit.python.remediate) applies it (gate, install, restart, verify).
  - With O(from_facts) the plan is the fleet's, made from cached facts (an Ansible jsonfile fact
    cache, Salt output or saved reports) on the host the task runs on (usually the controller,
    with C(delegate_to)), and every step names its C(host).
  - What the plan cannot know offline is the new version's own requirements (its metadata is not
    on the host). A step that stays in the installed release series installs with C(--no-deps);
    one that crosses a series lets the installer resolve them, and says so (run C(pip check)
    after).
  - Everything is learned from files alone. No Python interpreter is needed on the managed host,
    no code from a scanned environment is executed and nothing is written.
  - The module is a binary built for glibc 2.17 or newer, one per architecture; the action
    plugin picks the one for the target's machine (from facts, else C(uname -m)).
extends_documentation_fragment:
  - venvaudit.python.scan
  - venvaudit.python.ignore
options:
  checks:
    description:
      - The check families whose findings are planned. All four when empty (V(drift) runs only
        with O(lock)).
    type: list
    elements: str
    choices: []  # written by ansible/build.sh from the binary's argument spec (NAME --argspec)
    default: []
  osv_db:
    description:
      - Offline OSV vulnerability database on the managed host, a directory of OSV JSON files or a
        zip such as the PyPI C(all.zip) export. It also gives the versions that fix each advisory.
      - Default C($VENVAUDIT_OSV_DB), else C(/var/lib/venvaudit/osv/PyPI.zip) when it exists.
        When no database is found the plan warns that vulnerabilities were not planned.
    type: path
  cpython_db:
    description:
      - venvaudit's CPython advisory file (the interpreter's own CVEs), for the interpreter steps.
      - Default C($VENVAUDIT_CPYTHON_DB), else C(/var/lib/venvaudit/osv/CPython.json) when it exists.
    type: path
  forbid:
    description:
      - PEP 508 requirement specifiers no environment may match, for example C(django<4.2.16).
        A step moves each match out of the forbidden range.
    type: list
    elements: str
    default: []
  ignore:
    # type, elements, default and suboptions: the doc fragment venvaudit.python.ignore
    description:
      - Findings to accept; an ignored finding is not planned (the plan's C(warnings) count them).
        A finding is ignored when it matches every key an entry gives.
  lock:
    description:
      - A lock the environments are compared with, on the managed host - a PEP 751 C(pylock.toml),
        a pinned C(requirements.txt) or a C(uv.lock). A distribution at another version than the
        lock pins, or missing, gets a step to the pinned version (V(downgrade) or V(install) when
        that is what the lock says). Distributions the lock does not list are not planned.
    type: path
  from_facts:
    description:
      - Plan the fleet from cached facts instead of scanning this host - an Ansible jsonfile fact
        cache directory, a JSON file of Salt output (host to facts) or saved C(facts) reports, on
        the host the task runs on. O(paths) is then not scanned.
      - Compact facts carry no requirements, so their steps are not checked against the
        dependents (C(constraints_checked) false).
    type: list
    elements: path
    default: []
  max_age:
    description:
      - With O(from_facts), facts older than this many days do not answer (the host is listed in
        C(plan.hosts_unknown)). 7 when not given.
    type: int
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything; in check mode it plans the same.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode).
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - The plan is data. Apply it with the role M(venvaudit.python.remediate), which gates the new
    wheels with M(venvaudit.python.artifact_check), runs each ready step's C(argv) with the
    environment's own pip (or uv), restarts the planned units through handlers and re-runs
    M(venvaudit.python.venv_check) to prove the findings are gone.
  - Paths that cannot be read are task warnings, and RV(complete) is then false - "nothing to do"
    is not an answer.
seealso:
  - module: venvaudit.python.venv_check
  - module: venvaudit.python.artifact_check
  - module: venvaudit.python.venv_facts
author:
  - venvaudit authors (@venvaudit)
"""

EXAMPLES = r"""
- name: What would fix the virtualenvs below /srv?
  venvaudit.python.venv_plan:
    paths: /srv
    osv_db: /var/lib/venvaudit/osv/PyPI.zip
    forbid: ["django<4.2.16"]
  register: plan

- name: Show it, one line a step
  ansible.builtin.debug:
    msg: "{{ plan.steps | map(attribute='message') | list }}"

- name: The steps a dependent blocks
  ansible.builtin.debug:
    msg: "{{ item.message }}"
  loop: "{{ plan.steps | selectattr('status', 'eq', 'blocked') | list }}"
  loop_control:
    label: "{{ item.venv }} {{ item.package }}"

- name: Apply it - gate the wheels, install, restart the planned units, verify
  ansible.builtin.include_role:
    name: venvaudit.python.remediate
  vars:
    remediate_paths: [/srv]
    remediate_find_links: /srv/wheelhouse

- name: The fleet's plan from the fact cache, on the controller
  venvaudit.python.venv_plan:
    from_facts: [/var/cache/ansible/facts]
    max_age: 2
  delegate_to: localhost
  run_once: true
  register: fleet_plan
"""

RETURN = r"""
planned:
  description: Whether a step is planned.
  returned: success
  type: bool
  sample: true
complete:
  description:
    - False when part of the scan (or of the fleet's facts) could not be read; "nothing to do" is
      then not an answer.
  returned: success
  type: bool
  sample: true
steps:
  description:
    - Every step, sorted by host, environment and distribution (the same list as C(plan.steps)).
  returned: success
  type: list
  elements: dict
  contains:
    host:
      description: The host (O(from_facts) plans only).
      type: str
    venv:
      description: The environment.
      type: str
      sample: /srv/app/venv
    package:
      description: PEP 503 name of the distribution; V(python) for the interpreter.
      type: str
      sample: django
    name:
      description: The name as its metadata spells it.
      type: str
      sample: Django
    from_version:
      description: The installed version; null when the lock names a distribution that is not installed.
      type: str
      sample: "3.2"
    to_version:
      description: The version to install (or to rebuild the environment on); null when no fix exists.
      type: str
      sample: "3.2.25"
    kind:
      description: V(upgrade), V(downgrade), V(install) or V(rebuild) (the interpreter).
      type: str
    status:
      description:
        - V(ready) (C(argv) applies it), V(blocked) (an installed distribution's requirement
          excludes C(to_version), see C(blocked_by)), V(no-fix) (no release clears the
          findings) or V(rebuild) (the interpreter - rebuild the environment by hand).
      type: str
      sample: ready
    message:
      description: One line a person can act on.
      type: str
      sample: upgrade Django 3.2 -> 3.2.25 in /srv/app/venv
    why:
      description: Why C(to_version) - the advisories it clears, or the lock's pin.
      type: str
    remaining:
      description: Advisories or forbidden specifiers C(to_version) is still affected by (a vulnerable lock pin).
      type: list
      elements: str
    reasons:
      description: The findings the step answers - C(finding), C(severity), C(advisory), C(aliases), C(fixed_versions), C(spec), C(locked).
      type: list
      elements: dict
    installer:
      description: V(pip), V(uv) or V(conda), from the distribution's C(INSTALLER); null for the interpreter.
      type: str
    command:
      description: The install command, shell-quoted; null unless C(status) is V(ready).
      type: str
      sample: /srv/app/venv/bin/python -m pip install --no-deps Django==3.2.25
    argv:
      description:
        - The same command as an argument vector, for C(ansible.builtin.command) C(argv); null
          unless C(status) is V(ready). The requirement C(Name==version) is always the last item.
      type: list
      elements: str
      sample: [/srv/app/venv/bin/python, -m, pip, install, --no-deps, Django==3.2.25]
    no_deps:
      description: Whether the command installs with C(--no-deps).
      type: bool
    no_deps_why:
      description: Why it does or does not (a release of the same series keeps its requirements).
      type: str
    restart:
      description: Names of the units and programs an engine can restart after the step.
      type: list
      elements: str
      sample: [app.service]
    restarts:
      description:
        - Every restart, with C(kind) (V(systemd), V(apache), V(uwsgi), V(supervisor),
          V(process)), C(name), C(action) (V(restart), V(reload), V(touch), V(manual)), C(how)
          (the command a person would run, null for V(manual)) and C(why) (what ties it to the
          environment).
      type: list
      elements: dict
      sample:
        - kind: systemd
          name: app.service
          action: restart
          how: systemctl restart app.service
          why: ["systemd /etc/systemd/system/app.service:7"]
    blocked_by:
      description: The installed distributions whose requirement excludes C(to_version) - C(package), C(version), C(requirement).
      type: list
      elements: dict
      sample: [{"package": "django-legacy-widgets", "version": "1.0", "requirement": "Django<3.2.20"}]
    constraints_checked:
      description: False when the facts hold no requirements (compact fleet facts), so C(blocked_by) could not be judged.
      type: bool
restart:
  description: Every distinct restart of the ready steps (C(host)-prefixed in a fleet plan).
  returned: success
  type: list
  elements: str
  sample: [app.service]
plan:
  description:
    - The whole plan, as C(venvaudit plan --format json) prints it - C(schema_version), C(tool),
      C(generated_at), C(host), C(osv_db), C(lock), C(planned), C(complete), C(steps),
      C(restart), C(packages) (the steps grouped by distribution), C(summary) (counts of
      C(steps), C(ready), C(blocked), C(no_fix), C(rebuild), C(venvs), C(hosts), C(restarts)),
      C(venvs_scanned), C(errors) and C(warnings); fleet plans add C(hosts_answered) and
      C(hosts_unknown).
  returned: success
  type: dict
msg:
  description: The counts of the plan.
  returned: always
  type: str
  sample: "1 step(s) in 1 environment(s): 1 ready, 0 blocked, 0 without a fix, 0 to rebuild; 1 restart(s)"
warnings:
  description: The plan's caveats (an old database, no CPython advisory file) and unreadable paths.
  returned: when there are any
  type: list
  elements: str
changed:
  description: Always false; nothing is ever changed.
  returned: always
  type: bool
  sample: false
"""
