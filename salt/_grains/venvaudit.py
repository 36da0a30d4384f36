"""
Grain ``venvaudit``: how many Python virtualenvs a minion has, which Python versions they
run and how many are broken, so minions can be targeted by the Pythons in use:

.. code-block:: bash

    salt -G 'venvaudit:python_versions:3.8' venvaudit.query 'django<4.2'
    salt -G 'venvaudit:has_broken:True' venvaudit.check

Value:

.. code-block:: yaml

    venvaudit:
      venvs: 12                  # environments found below the roots
      broken: 1                  # environments whose interpreter is gone
      has_broken: true
      python_versions: ['3.11', '3.8']        # X.Y in use, sorted
      python_version_counts: {'3.11': 9, '3.8': 3}
      roots: ['/srv', '/opt']    # the configured roots that exist
      elapsed: 0.41              # seconds the scan took

On trouble the grain still has a value, with ``error`` set (and ``timed_out: true`` when
the scan hit the time bound); it never raises.

Cost: grains are computed at every minion start and on ``saltutil.refresh_grains`` /
``saltutil.sync_grains``. The grain runs ``venvaudit run`` once in summary mode: it walks
the roots (read-only metadata: directory entries, ``pyvenv.cfg``, interpreter links and
ELF headers, ``*.dist-info`` directory names) and never runs an interpreter. On a host with
a few dozen venvs under /srv and /opt that is well under a second; a large /home can take
longer, so the walk is bounded in depth and killed after ``venvaudit_grains_timeout``
seconds.

Minion configuration (all optional):

.. code-block:: yaml

    venvaudit.binary: /usr/local/bin/venvaudit        # default: venvaudit on PATH
    venvaudit_grains: true                            # false disables the scan
    venvaudit_grains_roots: [/srv, /opt, /home, /var/www]
    venvaudit_grains_timeout: 10                      # seconds
    venvaudit_grains_max_depth: 6                     # directories below each root
    venvaudit_grains_exclude: [node_modules, .git]    # globs not walked
"""

import json
import os
import shutil
import subprocess
import time

_DEFAULT_ROOTS = ["/srv", "/opt", "/home", "/var/www"]
_DEFAULT_TIMEOUT = 10
_DEFAULT_MAX_DEPTH = 6
_DEFAULT_EXCLUDE = ["node_modules", ".git"]


def _opt(name, default):
    value = __opts__.get(name)
    return default if value is None else value


def _binary():
    configured = __opts__.get("venvaudit.binary")
    if not configured:
        nested = __opts__.get("venvaudit")
        if isinstance(nested, dict):
            configured = nested.get("binary")
    configured = str(configured or "venvaudit")
    if os.sep in configured:
        ok = os.path.isfile(configured) and os.access(configured, os.X_OK)
        return configured if ok else None
    return shutil.which(configured)


def _as_list(value):
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []]


def _version_key(text):
    # "3.10" after "3.9"; "unknown" last
    parts = text.split(".")
    if all(p.isdigit() for p in parts):
        return (0, tuple(int(p) for p in parts), text)
    return (1, (), text)


def venvaudit():
    """
    Summary of the minion's Python environments (see the module documentation).
    """
    if not _opt("venvaudit_grains", True):
        return {}
    roots = [r for r in _as_list(_opt("venvaudit_grains_roots", _DEFAULT_ROOTS)) if os.path.isdir(r)]
    grain = {"roots": roots}
    binary = _binary()
    if binary is None:
        grain["error"] = "venvaudit binary not found (set venvaudit.binary in the minion config)"
        return {"venvaudit": grain}
    if not roots:
        grain.update(venvs=0, broken=0, has_broken=False, python_versions=[], python_version_counts={}, elapsed=0.0)
        return {"venvaudit": grain}
    try:
        timeout = float(_opt("venvaudit_grains_timeout", _DEFAULT_TIMEOUT))
    except (TypeError, ValueError):
        timeout = float(_DEFAULT_TIMEOUT)
    request = {
        "action": "facts",
        "paths": roots,
        "summary": True,
        "packages": False,
        "exclude": _as_list(_opt("venvaudit_grains_exclude", _DEFAULT_EXCLUDE)),
        # one worker: a grain must not compete with the minion's real work
        "jobs": 1,
    }
    max_depth = _opt("venvaudit_grains_max_depth", _DEFAULT_MAX_DEPTH)
    if max_depth is not None and max_depth is not False:
        request["max_depth"] = max_depth
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [binary, "run"],
            input=json.dumps(request).encode(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        grain.update(
            timed_out=True,
            error="scan of {} took longer than {:g} s (venvaudit_grains_timeout); narrow "
            "venvaudit_grains_roots or raise the timeout".format(", ".join(roots), timeout),
        )
        return {"venvaudit": grain}
    except OSError as exc:
        grain["error"] = "cannot run {}: {}".format(binary, exc)
        return {"venvaudit": grain}
    grain["elapsed"] = round(time.monotonic() - started, 3)
    try:
        report = json.loads(proc.stdout.decode("utf-8", "replace"))
    except ValueError:
        grain["error"] = "venvaudit exited {} without JSON: {}".format(
            proc.returncode, proc.stderr.decode("utf-8", "replace").strip()[:300]
        )
        return {"venvaudit": grain}
    if not isinstance(report, dict) or report.get("failed") is not False:
        grain["error"] = str(report.get("msg") if isinstance(report, dict) else report)
        return {"venvaudit": grain}
    summary = report.get("summary") or {}
    counts = summary.get("python_versions") or {}
    grain.update(
        venvs=summary.get("venvs", 0),
        broken=summary.get("broken", 0),
        has_broken=bool(summary.get("broken", 0)),
        python_versions=sorted(counts, key=_version_key),
        python_version_counts=counts,
    )
    if report.get("errors"):
        grain["scan_errors"] = len(report["errors"])
    return {"venvaudit": grain}
