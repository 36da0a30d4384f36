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
"""

import glob

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
