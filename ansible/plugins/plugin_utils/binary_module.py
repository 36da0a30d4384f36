# -*- coding: utf-8 -*-
# Copyright (c) venvaudit authors. MIT OR Apache-2.0 (see LICENSE-MIT, LICENSE-APACHE).
"""Run the venvaudit binary that matches the managed host's architecture as a module.

The collection ships one binary per architecture as files/venvaudit-linux-ARCH (built by
ansible/build.sh). The action plugins venv_facts, venv_check, artifact_check and venv_plan learn the
target's machine from its facts (``ansible_facts['architecture']``), else from one ``uname -m``
run through the connection like the raw module (the target needs no Python), then transfer the
matching binary and its arguments file to the remote tmp and run it the way ansible-core runs a
binary module: ``BINARY ARGS_FILE``, printing one JSON result. A binary module is never
pipelined, needs a remote tmp on a filesystem that allows execution, and cannot run async.
"""

from __future__ import annotations

import json
import os
import re

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

try:
    # ansible-core >= 2.19: the encoder ansible-core itself uses for a binary module's arguments
    # file (dates and tagged strings as JSON strings).
    from ansible.module_utils.common.json import Direction, get_module_encoder

    ARGS_ENCODER = get_module_encoder("legacy", Direction.CONTROLLER_TO_MODULE)
except ImportError:  # older ansible-core
    from ansible.module_utils.common.json import AnsibleJSONEncoder as ARGS_ENCODER

#: Directory holding venvaudit-linux-ARCH in the installed collection.
FILES_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "files"))
BINARY_PREFIX = "venvaudit-linux-"

#: Other names `uname -m` or the facts give for the architectures the build knows.
ALIASES = {"amd64": "x86_64", "arm64": "aarch64", "aarch64_be": "aarch64_be"}


def shipped_architectures(files_dir=FILES_DIR):
    """The architectures whose binary this collection carries, sorted."""
    try:
        names = os.listdir(files_dir)
    except OSError:
        return []
    return sorted(n[len(BINARY_PREFIX):] for n in names if n.startswith(BINARY_PREFIX))


def normalize_machine(machine):
    """The architecture name the build uses for what `uname -m` or the facts said."""
    m = machine.strip()
    return ALIASES.get(m, m)


class BinaryModuleAction(ActionBase):
    """Base of the venvaudit module actions: choose the binary, run it, return its JSON."""

    #: Fully qualified module name the binary is told it runs as (it picks facts or check by it).
    MODULE = ""

    TRANSFERS_FILES = False  # the remote tmp is made only once the binary is known
    _supports_check_mode = True
    _supports_async = False

    def _machine(self, task_vars):
        """The target's machine name and where it came from."""
        facts = task_vars.get("ansible_facts") or {}
        arch = facts.get("architecture") or task_vars.get("ansible_architecture")
        if arch:
            return to_text(arch), "facts"
        res = self._low_level_execute_command("uname -m", sudoable=False)
        out = to_text(res.get("stdout", "")).strip()
        if res.get("rc") != 0 or not out:
            raise AnsibleActionFail(
                "venvaudit: could not learn the machine of %s: `uname -m` exited %s: %s"
                % (task_vars.get("inventory_hostname"), res.get("rc"), to_text(res.get("stderr", "")).strip())
            )
        # The last line: a login banner may come first.
        return out.splitlines()[-1].strip(), "uname -m"

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(BinaryModuleAction, self).run(tmp, task_vars)
        del tmp
        host = task_vars.get("inventory_hostname", "the target")
        machine, source = self._machine(task_vars)
        arch = normalize_machine(machine)
        shipped = shipped_architectures()
        if arch not in shipped:
            raise AnsibleActionFail(
                "venvaudit: no binary for %s's machine %r (from %s) in this collection; it ships "
                "binaries for: %s. Build the collection with that architecture (ansible/build.sh, "
                "VENVAUDIT_ARCHS) or run venvaudit on this host another way."
                % (host, machine, source, ", ".join(shipped) or "none")
            )
        local = os.path.join(FILES_DIR, BINARY_PREFIX + arch)

        tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
        self._connection._shell.tmpdir = tmpdir
        try:
            return self._run_binary(result, task_vars, host, arch, local, tmpdir)
        finally:
            self._remove_tmp_path(tmpdir)

    def _run_binary(self, result, task_vars, host, arch, local, tmpdir):
        shell = self._connection._shell
        name = self.MODULE.rsplit(".", 1)[-1]
        remote_bin = shell.join_path(tmpdir, "AnsiballZ_" + name)
        remote_args = shell.join_path(tmpdir, "args")
        module_args = dict(self._task.args)
        self._update_module_args(self.MODULE, module_args, task_vars)
        self._transfer_file(local, remote_bin)
        self._transfer_data(remote_args, json.dumps(module_args, cls=ARGS_ENCODER))
        self._fixup_perms2((tmpdir, remote_bin, remote_args), execute=True)

        cmd = shell.build_module_command(self._compute_environment_string(), None, remote_bin, remote_args)
        res = self._low_level_execute_command(cmd, sudoable=True)
        stdout = to_text(res.get("stdout", ""), errors="surrogate_or_replace")
        stderr = to_text(res.get("stderr", ""), errors="surrogate_or_replace")
        rc = res.get("rc")
        if rc == 126 or (rc != 0 and re.search(r"Permission denied", stderr) and not stdout.strip()):
            result.update(
                failed=True,
                rc=rc,
                module_stderr=stderr,
                msg="venvaudit: %s cannot execute the %s binary in its remote tmp %s (exit %s: %s). "
                "A binary module must run from the remote tmp: it is probably on a filesystem "
                "mounted noexec. Set remote_tmp (ansible_remote_tmp, ANSIBLE_REMOTE_TMP) to a "
                "directory on a filesystem that allows execution." % (host, arch, tmpdir, rc, stderr.strip()),
            )
            return result
        try:
            # One JSON object on the last non-empty line; anything before it is noise (a banner).
            data = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            result.update(
                failed=True,
                rc=rc,
                module_stdout=stdout,
                module_stderr=stderr,
                msg="venvaudit: the %s binary on %s printed no JSON result (exit %s)" % (arch, host, rc),
            )
            return result
        result.update(data)
        return result
