"""
Gate a deploy on venvaudit: fail the state (and everything that ``require``\\s it) when a
Python environment has findings at or above ``fail_on``.

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

The check reads files only and changes nothing, so ``changes`` is always empty and
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
    ``max_depth``, ``target_python``, ``app``, ``mod_wsgi``, ``ignore_file``, ``verify``, ...) and is
    passed through; the binary rejects unknown ones.
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

    threshold = _RANK.get(report.get("fail_on", fail_on))
    active = [f for f in report.get("findings", []) if not f.get("ignored")]
    failing = [
        f for f in active if threshold is not None and _RANK.get(f.get("severity"), -1) >= threshold
    ]
    below = [f for f in active if f not in failing]
    passed = bool(report.get("passed"))
    counts = report.get("summary", {})
    head = "{} environment(s) {} the venvaudit gate (fail_on={}): {} error(s), {} warning(s), {} ignored".format(
        len(venvs),
        "pass" if passed else "FAIL",
        report.get("fail_on", fail_on),
        counts.get("error", 0),
        counts.get("warning", 0),
        counts.get("ignored", 0),
    )
    out = [head]
    if failing:
        out.append("Findings at or above {}:".format(report.get("fail_on", fail_on)))
        out.extend(_finding_line(f) for f in failing)
    if below:
        out.append("Other findings:")
        out.extend(_finding_line(f) for f in below)
    out.extend(lines)
    out.append("Checked: {}".format(", ".join(venvs)))
    ret["result"] = passed
    ret["comment"] = "\n".join(out)
    return ret
