"""
Gate a deploy on venvaudit: fail the state (and everything that ``require``\\s it) when a
Python environment (``venvaudit.compatible``) or an artefact about to be installed
(``venvaudit.artifact_compatible``) has findings at or above ``fail_on``.

.. code-block:: yaml

    app-venv-compatible:
      venvaudit.compatible:
        - name: /srv/app/venv
        - fail_on: error
        - forbid:
          - pyyaml<5.4
        - osv_db: /var/lib/osv/PyPI.zip
        - ignore:
          - id: interpreter-eol
            reason: migration planned for Q3
            until: '2026-09-30'

    deploy-app:
      file.recurse:
        - name: /srv/app/code
        - source: salt://app/code
        - require:
          - venvaudit: app-venv-compatible

Before an install, gate the wheelhouse against the environment it goes into, and after it
compare the environment with the lock:

.. code-block:: yaml

    app-wheelhouse-installable:
      venvaudit.artifact_compatible:
        - name: /srv/app/wheelhouse/requirements.txt
        - find_links: [/srv/app/wheelhouse]
        - venv: /srv/app/venv

    app-install:
      cmd.run:
        - name: /srv/app/venv/bin/python -m pip install --no-index --find-links /srv/app/wheelhouse --require-hashes -r /srv/app/wheelhouse/requirements.txt
        - require:
          - venvaudit: app-wheelhouse-installable

    app-venv-is-the-lock:
      venvaudit.compatible:
        - name: /srv/app/venv
        - lock: /srv/app/wheelhouse/requirements.txt
        - verify: True
        - require:
          - cmd: app-install

The checks read files only and change nothing, so ``changes`` is always empty and
``test=True`` returns the same verdict as a real run (``True`` or ``False``, never
``None``: ``None`` means "would change" in Salt, and nothing would).

``venvaudit.remediated`` is the one state here that changes something: it applies venvaudit's
remediation plan (``venvaudit.plan``) offline from a wheelhouse, gating each wheel first,
restarts the services the plan names and proves afterwards that the findings are gone:

.. code-block:: yaml

    app-venv-remediated:
      venvaudit.remediated:
        - name: /srv/app/venv
        - osv_db: /var/lib/venvaudit/osv/PyPI.zip
        - find_links: /srv/wheelhouse
"""

import glob
import os
import shutil
import tempfile

from salt.exceptions import CommandExecutionError

_GLOB_CHARS = set("*?[")

# Severity order for the failure threshold.
_RANK = {"info": 0, "warning": 1, "error": 2}


def __virtual__():
    """
    Load only where the execution module loaded (it needs the binary).
    """
    if "venvaudit.check" in __salt__:
        return "venvaudit"
    return (False, "venvaudit state: the venvaudit execution module is not available (binary missing?)")


def _expand(name):
    """
    The paths ``name`` stands for: itself, or the sorted matches of a glob.
    """
    if _GLOB_CHARS.intersection(name):
        return sorted(glob.glob(name))
    return [name]


def _finding_line(f):
    where = f.get("venv") or "host"
    pkg = " ({})".format(f["package"]) if f.get("package") else ""
    return "- {} [{}] {}{}: {}".format(f.get("id"), f.get("severity"), where, pkg, f.get("message"))


def compatible(name, fail_on="error", ignore=None, osv_db=None, forbid=None, **kwargs):
    """
    Ensure the Python environment(s) at ``name`` pass venvaudit's checks.

    name
        A venv directory, a glob of venv directories (``/srv/*/venv``), or a directory to
        scan for venvs. A name matching no environment fails the state: the gate cannot
        vouch for what it cannot find.

    fail_on
        ``error`` (default), ``warning`` or ``never``.

    ignore
        Ignore policy entries: a list of ``{id, advisory, package, venv, reason, until}``.

    osv_db
        Offline OSV vulnerability database (directory of OSV JSON files or a zip).

    forbid
        PEP 508 specifiers whose matches are ``forbidden-package`` errors.

    Any other keyword argument is a venvaudit request key (``checks``, ``exclude``,
    ``max_depth``, ``target_python``, ``app``, ``mod_wsgi``, ``ignore_file``, ``verify``,
    ``lock``, ...) and is passed through; the binary rejects unknown ones. ``lock`` (a
    ``pylock.toml``, pinned ``requirements.txt`` or ``uv.lock``) compares each environment
    with it: a difference is a ``lock-drift`` finding (missing, other version or source:
    errors; not in the lock: a warning).
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    if "paths" in kwargs:
        ret["comment"] = "venvaudit gate: give the environments as name (a path or glob), not paths"
        return ret
    paths = _expand(name)
    if not paths:
        ret["comment"] = "venvaudit gate: {} matches no path".format(name)
        return ret
    request = dict(kwargs)
    request["fail_on"] = fail_on
    if ignore is not None:
        request["ignore"] = ignore
    if osv_db is not None:
        request["osv_db"] = osv_db
    if forbid is not None:
        request["forbid"] = [forbid] if isinstance(forbid, str) else forbid
    try:
        report = __salt__["venvaudit.check"](paths=paths, **request)
    except CommandExecutionError as exc:
        ret["comment"] = "venvaudit gate could not run: {}".format(exc)
        return ret

    venvs = [v.get("path") for v in report.get("venvs", [])]
    lines = []
    for err in report.get("errors", []):
        lines.append("- cannot scan {}: {}".format(err.get("path"), err.get("message")))
    if not venvs:
        ret["comment"] = "\n".join(
            ["venvaudit gate: no Python environment found at {}".format(", ".join(paths))] + lines
        )
        return ret

    passed = bool(report.get("passed"))
    head = "{} environment(s) {} the venvaudit gate (fail_on={}): {}".format(
        len(venvs),
        "pass" if passed else "FAIL",
        report.get("fail_on", fail_on),
        _counts(report),
    )
    out = [head] + _findings_lines(report, fail_on)
    out.extend(lines)
    out.append("Checked: {}".format(", ".join(venvs)))
    ret["result"] = passed
    ret["comment"] = "\n".join(out)
    return ret


def _counts(report):
    counts = report.get("summary", {})
    return "{} error(s), {} warning(s), {} ignored".format(
        counts.get("error", 0), counts.get("warning", 0), counts.get("ignored", 0)
    )


def _findings_lines(report, fail_on):
    """
    The active findings at or above the threshold, then the other active ones.
    """
    threshold = _RANK.get(report.get("fail_on", fail_on))
    active = [f for f in report.get("findings", []) if not f.get("ignored")]
    failing = [
        f for f in active if threshold is not None and _RANK.get(f.get("severity"), -1) >= threshold
    ]
    below = [f for f in active if f not in failing]
    out = []
    if failing:
        out.append("Findings at or above {}:".format(report.get("fail_on", fail_on)))
        out.extend(_finding_line(f) for f in failing)
    if below:
        out.append("Other findings:")
        out.extend(_finding_line(f) for f in below)
    return out


def _target_line(target):
    """
    ``CPython 3.12.1 (venv)``: what an artefact was judged against, and how it was chosen.
    """
    python = target.get("python") or {}
    version = target.get("version") or python.get("version") or "of unknown version"
    source = target.get("source") or "?"
    return "{} {} ({})".format(target.get("implementation") or "Python", version, source)


def artifact_compatible(name, fail_on="error", ignore=None, osv_db=None, forbid=None, **kwargs):
    """
    Ensure the artefact(s) at ``name`` will install and import on the minion *before* they are
    installed: ``venvaudit.check_artifact`` judges them against the target interpreter and
    host, and the state fails (and everything that ``require``\\s it is skipped) when a finding
    at or above ``fail_on`` remains.

    name
        An artefact on the minion - a wheelhouse directory, a ``.whl``, a ``pylock.toml``, a
        pinned and hashed ``requirements.txt`` (give its wheelhouse as ``find_links``) or a
        ``uv.lock`` - or a glob of them (``/srv/app/dist/*.whl``). A glob matching nothing
        fails the state.

    artifacts
        More artefacts, judged together with ``name`` as one install.

    venv
        The environment the artefact goes into: its interpreter is the target, and the
        comment says what the install adds, upgrades and downgrades. Or ``target_python``
        (an interpreter), or ``mod_wsgi`` (a ``mod_wsgi.so``, or ``apache`` for the module
        Apache's configuration loads); default the minion's ``python3``.

    find_links
        Directories where the wheels a lock or requirements file names are found.

    fail_on
        ``error`` (default), ``warning`` or ``never``.

    ignore
        Ignore policy entries: a list of ``{id, advisory, package, venv, reason, until}``.

    osv_db
        Offline OSV vulnerability database (directory of OSV JSON files or a zip).

    forbid
        PEP 508 specifiers whose matches among the selected wheels are ``forbidden-package`` errors.

    Any other keyword argument is a venvaudit request key (``checks``, ``root``,
    ``config_root``, ``app``, ``ignore_file``, ...) and is passed through; the binary rejects
    unknown ones.
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    if "paths" in kwargs:
        ret["comment"] = "venvaudit artefact gate: give the artefacts as name (and artifacts), not paths"
        return ret
    request = dict(kwargs)
    extra = request.pop("artifacts", None) or []
    if isinstance(extra, str):
        extra = [extra]
    artifacts = []
    for given in [name] + list(extra):
        found = _expand(str(given))
        if not found:
            ret["comment"] = "venvaudit artefact gate: {} matches no path".format(given)
            return ret
        artifacts.extend(found)
    request["fail_on"] = fail_on
    if ignore is not None:
        request["ignore"] = ignore
    if osv_db is not None:
        request["osv_db"] = osv_db
    if forbid is not None:
        request["forbid"] = [forbid] if isinstance(forbid, str) else forbid
    try:
        report = __salt__["venvaudit.check_artifact"](artifacts=artifacts, **request)
    except CommandExecutionError as exc:
        ret["comment"] = "venvaudit artefact gate could not run: {}".format(exc)
        return ret

    artifact = report.get("artifact") or {}
    selected = artifact.get("selected") or []
    passed = bool(report.get("passed"))
    head = "{} artefact(s) {} the venvaudit gate for {} (fail_on={}): {}; {} wheel(s) selected".format(
        len(artifacts),
        "pass" if passed else "FAIL",
        _target_line(artifact.get("target") or {}),
        report.get("fail_on", fail_on),
        _counts(report),
        len(selected),
    )
    out = [head] + _findings_lines(report, fail_on)
    for err in report.get("errors", []):
        out.append("- cannot read {}: {}".format(err.get("path"), err.get("message")))
    if selected:
        out.append(
            "Selected: {}".format(
                ", ".join("{}=={} ({})".format(w.get("name"), w.get("version"), w.get("tag")) for w in selected)
            )
        )
    changes = artifact.get("changes")
    if changes:
        parts = []
        for key, label in (("install", "installs"), ("upgrade", "upgrades"), ("downgrade", "downgrades")):
            if changes.get(key):
                parts.append("{} {}".format(label, ", ".join(changes[key])))
        out.append(
            "In {}: {}".format(changes.get("venv"), "; ".join(parts) if parts else "no change")
        )
    out.append("Checked: {}".format(", ".join(artifacts)))
    ret["result"] = passed
    ret["comment"] = "\n".join(out)
    return ret


# The artefact gate's families for one upgrade wheel. ``dependencies`` judges the new
# version's own requirements against what stays installed in the environment (`--venv`: the
# distributions the wheel does not replace provide requirements), which the plan cannot know
# without the wheel. ``eol`` is left out: the interpreter is not what the step changes.
_GATE_CHECKS = ["extensions", "dependencies", "vulnerabilities", "forbidden"]

# Request keys the state sets itself or that make no sense for one minion's environments.
_REMEDIATE_REJECTED = ("paths", "from_facts", "max_age", "hosts", "specs", "artifacts", "venv")


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _normalize(name):
    """
    PEP 503 normalized distribution name (``Django`` -> ``django``, ``zope.interface`` ->
    ``zope-interface``), as the plan's ``package``.
    """
    out, dash = [], False
    for ch in str(name).strip().lower():
        if ch in "-_.":
            dash = True
            continue
        if dash and out:
            out.append("-")
        dash = False
        out.append(ch)
    return "".join(out)


def _pin(step):
    return "{}=={}".format(step.get("name") or step.get("package"), step.get("to_version"))


def _step_python(step):
    """
    The environment's interpreter as the plan's command names it.
    """
    argv = step.get("argv") or []
    if step.get("installer") == "uv" and "--python" in argv:
        i = argv.index("--python")
        if i + 1 < len(argv):
            return argv[i + 1]
    if step.get("installer") == "pip" and argv:
        return argv[0]
    return os.path.join(step.get("venv") or "", "bin", "python")


def _forced_argv(step):
    """
    An install command for a *blocked* step (the plan gives none): the same form as a ready
    step of the environment's installer. None for installers this state does not drive.
    """
    python = os.path.join(step.get("venv") or "", "bin", "python")
    extra = ["--no-deps"] if step.get("no_deps") else []
    if step.get("installer") == "uv":
        return ["uv", "pip", "install", "--python", python] + extra + [_pin(step)]
    if step.get("installer") in (None, "pip"):
        return [python, "-m", "pip", "install"] + extra + [_pin(step)]
    return None


def _offline_argv(argv, dirs):
    """
    ``argv`` with ``--no-index --find-links DIR...`` inserted before the pin (its last word).
    """
    argv = list(argv)
    extra = [] if "--no-index" in argv else ["--no-index"]
    for d in dirs:
        extra.extend(["--find-links", d])
    return argv[:-1] + extra + argv[-1:]


def _check_argv(step):
    """
    The installer's consistency check for the step's environment (``pip check``), or None.
    """
    python = _step_python(step)
    if step.get("installer") == "uv":
        return ["uv", "pip", "check", "--python", python]
    if step.get("installer") in (None, "pip"):
        return [python, "-m", "pip", "check"]
    return None


def _run_cmd(argv, runas):
    res = __salt__["cmd.run_all"](
        argv,
        python_shell=False,
        runas=runas,
        ignore_retcode=True,
        output_loglevel="quiet",
        reset_system_locale=False,
    )
    out = "\n".join(x for x in ((res.get("stdout") or "").strip(), (res.get("stderr") or "").strip()) if x)
    return res.get("retcode"), out


def _tail(text, lines=8):
    parts = (text or "").strip().splitlines()
    return " | ".join(parts[-lines:]) if parts else "no output"


def _pip_check(step, runas):
    """
    (ok, set of problem lines) of ``pip check`` in the step's environment; (True, set()) when
    its installer has no such check.
    """
    argv = _check_argv(step)
    if argv is None:
        return True, set()
    code, out = _run_cmd(argv, runas)
    if code == 0:
        return True, set()
    problems = {l.strip() for l in out.splitlines() if l.strip()}
    return False, problems or {"exit {}".format(code)}


def _step_line(step):
    frm, to = step.get("from_version"), step.get("to_version")
    what = "{} {} -> {}".format(step.get("name") or step.get("package"), frm, to if to else "(no fix)")
    where = step.get("venv")
    if step.get("host"):
        where = "{}:{}".format(step["host"], where)
    extra = []
    if step.get("status") == "ready":
        if step.get("command"):
            extra.append(step["command"])
        if step.get("restart"):
            extra.append("restart " + ", ".join(step["restart"]))
        return "- {} in {} ({})".format(what, where, "; ".join(extra)) if extra else "- {} in {}".format(what, where)
    return "- [{}] {}: {}".format(step.get("status"), where, step.get("message") or what)


def _restart_key(r):
    return (r.get("kind"), r.get("name"))


def _do_restart(r):
    """
    Carry out one planned restart: (done, message). ``done`` is None for a manual one.
    """
    kind, name, action = r.get("kind"), r.get("name"), r.get("action")
    if action == "manual" or kind == "process":
        return None, "{} ({}): restart by hand{}".format(
            name, kind, "" if not r.get("why") else " -- " + "; ".join(r["why"])
        )
    try:
        if kind == "systemd":
            ok = __salt__["service.restart"](name)
            return bool(ok), "service.restart {}".format(name)
        if kind == "apache":
            ok = __salt__["service.reload"](name)
            return bool(ok), "service.reload {}".format(name)
        if kind == "supervisor":
            program = name.split(":", 1)[1] if name.startswith("supervisor:") else name
            if "supervisord.restart" in __salt__:
                out = __salt__["supervisord.restart"](program)
                return "ERROR" not in str(out), "supervisord.restart {}: {}".format(program, _tail(str(out), 2))
            code, out = _run_cmd(["supervisorctl", "restart", program], None)
            return code == 0, "supervisorctl restart {}: {}".format(program, _tail(out, 2))
        if kind == "uwsgi" and action == "touch":
            ok = __salt__["file.touch"](name)
            return bool(ok), "file.touch {}".format(name)
    except CommandExecutionError as exc:
        return False, "{} {}: {}".format(kind, name, exc)
    return None, "{} ({} {}): not a restart this state knows; do it by hand".format(name, kind, action)


def _versions(venvs):
    """
    venv -> {normalized name: version}, read back with ``venvaudit.facts`` (compact).
    """
    try:
        facts = __salt__["venvaudit.facts"](paths=list(venvs), detail="compact", no_processes=True)
    except CommandExecutionError:
        return {}
    out = {}
    for v in facts.get("venvs") or []:
        dists = {}
        for d in v.get("distributions") or []:
            n, _, ver = str(d).partition("==")
            dists[_normalize(n)] = ver
        out[v.get("path")] = dists
    return out


def remediated(
    name,
    osv_db=None,
    find_links=None,
    lock=None,
    forbid=None,
    restart=True,
    apply_blocked=False,
    verify=True,
    packages=None,
    fail_on_unapplied=False,
    runas=None,
    **kwargs
):
    """
    Ensure the environment(s) at ``name`` have no finding venvaudit's plan can fix: run
    ``venvaudit.plan``, then for each *ready* step gate the wheel with the artefact gate,
    install it offline with the environment's own installer, restart exactly the services the
    plan names, and re-plan to prove the findings are gone.

    name
        A venv directory, a glob of them, or a directory to plan (every environment below it).

    osv_db
        Offline OSV database (default: the binary's, ``/var/lib/venvaudit/osv/PyPI.zip``).

    find_links
        The offline wheelhouse on the minion (a directory or a list). Each step runs as the
        plan's ``argv`` with ``--no-index --find-links DIR`` inserted before the pin. Without
        it the environment's pip first downloads the pin (``pip download --only-binary=:all:``,
        with ``--no-deps`` where the step has it) into a temporary directory, which is then
        gated and installed from in the same way.

    lock, forbid
        As for ``venvaudit.plan``: steps for lock drift and forbidden distributions.

    restart
        ``True`` (default): restart what the plan names for the environments that changed
        (systemd: ``service.restart``; Apache: ``service.reload``; supervisor:
        ``supervisord.restart``; a uWSGI vassal: ``file.touch``); ``manual`` ones are listed
        in the comment. ``False``: list them only.

    apply_blocked
        ``False`` (default): a step blocked by another distribution's requirement is reported
        and not applied. ``True``: install it anyway (``pip check`` will then usually fail the
        state, naming the dependent).

    verify
        ``True`` (default): after installing, re-plan the changed environments (the result
        is ``False`` when a step applied is still planned) and run ``pip check`` (the result
        is ``False`` when it reports a problem it did not report before).

    packages
        Only these distributions (names, any spelling); the plan's other steps are listed
        and left alone.

    fail_on_unapplied
        ``False`` (default): blocked, no-fix and rebuild steps are reported and the result
        stays ``True``. ``True``: any of them fails the state.

    runas
        The user to run the installer as (the environment's owner).

    Any other keyword argument is a plan request key (``config_root``, ``exclude``,
    ``max_depth``, ``ignore``, ``ignore_file``, ``no_processes``, ...).

    ``changes``: ``upgraded`` (``{venv: {name: {old, new}}}``, ``new`` read back from the
    environment) and ``restarted`` (the units, programs and files restarted or reloaded).
    With ``test=True`` nothing is installed or restarted: the result is ``None`` when a
    step would be applied, and ``changes`` shows what would change.
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    for key in _REMEDIATE_REJECTED:
        if key in kwargs:
            ret["comment"] = "venvaudit remediation: {} is not an argument of this state (give the environments as name)".format(key)
            return ret
    paths = _expand(name)
    if not paths:
        ret["comment"] = "venvaudit remediation: {} matches no path".format(name)
        return ret
    find_links = _as_list(find_links)
    request = dict(kwargs)
    if osv_db is not None:
        request["osv_db"] = osv_db
    if lock is not None:
        request["lock"] = lock
    if forbid is not None:
        request["forbid"] = _as_list(forbid)
    try:
        report = __salt__["venvaudit.plan"](paths=paths, **request)
    except CommandExecutionError as exc:
        ret["comment"] = "venvaudit plan could not run: {}".format(exc)
        return ret

    errors = ["- cannot scan {}: {}".format(e.get("path"), e.get("message")) for e in report.get("errors") or []]
    if not report.get("venvs_scanned"):
        ret["comment"] = "\n".join(
            ["venvaudit remediation: no Python environment found at {}".format(", ".join(paths))] + errors
        )
        return ret

    wanted = {_normalize(p) for p in _as_list(packages)} if packages is not None else None
    to_apply, unapplied, ignored = [], [], []
    for step in report.get("steps") or []:
        if wanted is not None and step.get("package") not in wanted:
            ignored.append(step)
        elif step.get("installer") == "conda":
            unapplied.append(dict(step, message="{} (conda steps are not applied by this state: {})".format(
                step.get("message"), step.get("command") or "no command")))
        elif step.get("status") == "ready" and step.get("argv"):
            to_apply.append(step)
        elif step.get("status") == "blocked" and apply_blocked and step.get("to_version") and _forced_argv(step):
            to_apply.append(dict(step, argv=_forced_argv(step), forced=True))
        else:
            unapplied.append(step)

    summary = report.get("summary") or {}
    head = "venvaudit plan for {}: {} step(s): {} ready, {} blocked, {} no-fix, {} rebuild".format(
        ", ".join(paths),
        summary.get("steps", 0),
        summary.get("ready", 0),
        summary.get("blocked", 0),
        summary.get("no_fix", 0),
        summary.get("rebuild", 0),
    )
    lines = [head]
    if to_apply:
        lines.append("To apply:")
        lines.extend(_step_line(s) + (" [forced: apply_blocked]" if s.get("forced") else "") for s in to_apply)
    if unapplied:
        lines.append("Not applied:")
        lines.extend(_step_line(s) for s in unapplied)
    if ignored:
        lines.append("Left alone (not in packages):")
        lines.extend(_step_line(s) for s in ignored)
    lines.extend(errors)
    lines.extend("Warning: {}".format(w) for w in report.get("warnings") or [])

    restarts = {}
    for s in to_apply:
        for r in s.get("restarts") or []:
            restarts.setdefault(_restart_key(r), r)
    unapplied_fails = bool(fail_on_unapplied and unapplied)

    if not to_apply:
        lines.insert(1, "Nothing to apply.")
        ret["result"] = not unapplied_fails
        if unapplied_fails:
            lines.append("fail_on_unapplied: {} step(s) not applied".format(len(unapplied)))
        ret["comment"] = "\n".join(lines)
        return ret

    would = {"upgraded": {}, "restarted": []}
    for s in to_apply:
        would["upgraded"].setdefault(s["venv"], {})[s.get("name") or s["package"]] = {
            "old": s.get("from_version"),
            "new": s.get("to_version"),
        }
    for r in restarts.values():
        if r.get("action") != "manual" and r.get("kind") != "process" and restart:
            would["restarted"].append(r.get("name"))
    if not would["restarted"]:
        del would["restarted"]

    if __opts__.get("test"):
        ret["result"] = None
        ret["changes"] = would
        lines.insert(1, "Test mode: {} step(s) would be gated and applied{}; nothing was changed.".format(
            len(to_apply),
            ", then restarted: " + ", ".join(would["restarted"]) if would.get("restarted") else ""))
        ret["comment"] = "\n".join(lines)
        return ret

    by_venv = {}
    for s in to_apply:
        by_venv.setdefault(s["venv"], []).append(s)
    scratch = tempfile.mkdtemp(prefix="venvaudit-remediate-")
    ok = True
    try:
        # 1. The wheels: the wheelhouse, or each pin downloaded by the environment's pip.
        dirs = {}
        for venv, steps in by_venv.items():
            if find_links:
                dirs[venv] = find_links
                continue
            d = os.path.join(scratch, "wheels-{}".format(len(dirs)))
            os.makedirs(d)
            for s in steps:
                argv = [_step_python(s), "-m", "pip", "download", "--only-binary=:all:", "--dest", d]
                if s.get("no_deps"):
                    argv.append("--no-deps")
                argv.append(_pin(s))
                code, out = _run_cmd(argv, runas)
                if code != 0:
                    lines.append("Download of {} for {} failed (exit {}): {} -- give find_links (an offline wheelhouse)".format(
                        _pin(s), venv, code, _tail(out)))
                    ok = False
            dirs[venv] = [d]
        if not ok:
            lines.insert(1, "Nothing was installed: a download failed.")
            ret["comment"] = "\n".join(lines)
            return ret

        # 2. The artefact gate, for every environment before anything is installed.
        gate_keys = {k: v for k, v in request.items() if k in ("osv_db", "forbid", "ignore", "ignore_file", "cpython_db")}
        for i, (venv, steps) in enumerate(by_venv.items()):
            req = os.path.join(scratch, "gate-{}.txt".format(i))
            with open(req, "w") as fh:
                fh.write("".join(_pin(s) + "\n" for s in steps))
            try:
                gate = __salt__["venvaudit.check_artifact"](
                    artifacts=[req], find_links=dirs[venv], venv=venv, checks=_GATE_CHECKS, fail_on="error", **gate_keys
                )
            except CommandExecutionError as exc:
                lines.append("Gate for {} could not run: {}".format(venv, exc))
                ok = False
                continue
            selected = ", ".join(
                "{}=={} ({})".format(w.get("name"), w.get("version"), w.get("file")) for w in (gate.get("artifact") or {}).get("selected") or []
            )
            if gate.get("passed"):
                lines.append("Gate: pass for {}: {}".format(venv, selected or "no wheel"))
            else:
                ok = False
                lines.append("Gate: FAIL for {} ({}): {}".format(venv, ", ".join(_pin(s) for s in steps), _counts(gate)))
                lines.extend(_findings_lines(gate, "error"))
        if not ok:
            lines.insert(1, "Nothing was installed: the artefact gate failed.")
            ret["comment"] = "\n".join(lines)
            return ret

        # 3. pip check before, so that only problems the install made fail the state.
        before = {}
        if verify:
            for venv, steps in by_venv.items():
                before[venv] = _pip_check(steps[0], runas)[1]

        # 4. Install.
        applied = []
        for venv, steps in by_venv.items():
            for s in steps:
                argv = _offline_argv(s["argv"], dirs[venv])
                code, out = _run_cmd(argv, runas)
                if code == 0:
                    applied.append(s)
                    lines.append("Installed {} in {}".format(_pin(s), venv))
                else:
                    ok = False
                    lines.append("Install of {} in {} FAILED (exit {}): {}".format(_pin(s), venv, code, _tail(out)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    changed_venvs = sorted({s["venv"] for s in applied})
    # 5. Restarts of the environments that changed.
    done_restarts = []
    todo = {}
    for s in applied:
        for r in s.get("restarts") or []:
            todo.setdefault(_restart_key(r), r)
    for r in todo.values():
        if not restart and r.get("action") != "manual" and r.get("kind") != "process":
            lines.append("Not restarted (restart=False): {} ({})".format(r.get("name"), r.get("how") or r.get("kind")))
            continue
        done, msg = _do_restart(r)
        if done is None:
            lines.append("Manual: {}".format(msg))
        elif done:
            done_restarts.append(r.get("name"))
            lines.append("Restarted: {}".format(msg))
        else:
            ok = False
            lines.append("Restart FAILED: {}".format(msg))

    # 6. Verify: re-plan and pip check.
    if verify and changed_venvs:
        try:
            again = __salt__["venvaudit.plan"](paths=changed_venvs, **request)
            planned_again = {(s.get("venv"), s.get("package")): s for s in again.get("steps") or []}
            remaining = [s for s in applied if (s["venv"], s["package"]) in planned_again]
            for s in remaining:
                ok = False
                lines.append("Still planned after the install: {}".format(_step_line(planned_again[(s["venv"], s["package"])])))
            if not remaining:
                lines.append("Verified: no finding of the {} applied step(s) remains".format(len(applied)))
        except CommandExecutionError as exc:
            ok = False
            lines.append("Verification re-plan could not run: {}".format(exc))
        for venv in changed_venvs:
            _, after = _pip_check(by_venv[venv][0], runas)
            new = sorted(after - before.get(venv, set()))
            if new:
                ok = False
                lines.append("pip check in {} FAILED: {}".format(venv, " | ".join(new)))
            elif after:
                lines.append("pip check in {}: only the problems it had before: {}".format(venv, " | ".join(sorted(after))))
            else:
                lines.append("pip check in {}: no broken requirements".format(venv))

    # 7. Changes, with the versions read back from the environments.
    if applied:
        now = _versions(changed_venvs)
        upgraded = {}
        for s in applied:
            new = (now.get(s["venv"]) or {}).get(s["package"], s.get("to_version"))
            upgraded.setdefault(s["venv"], {})[s.get("name") or s["package"]] = {"old": s.get("from_version"), "new": new}
        ret["changes"]["upgraded"] = upgraded
    if done_restarts:
        ret["changes"]["restarted"] = done_restarts
    if unapplied_fails:
        ok = False
        lines.append("fail_on_unapplied: {} step(s) not applied".format(len(unapplied)))
    lines.insert(1, "{} of {} step(s) applied{}.".format(
        len(applied), len(to_apply), ", restarted: " + ", ".join(done_restarts) if done_restarts else ""))
    ret["result"] = ok
    ret["comment"] = "\n".join(lines)
    return ret
