"""
Fleet questions answered on the Salt master from the mine, with the ``venvaudit`` binary:
which minions run a distribution (``venvaudit.query``) and what to upgrade where
(``venvaudit.plan``). No minion is contacted: the runner reads the mine
(``mine.get``), writes it to a temporary JSON file and runs ``venvaudit run`` with
``from_facts`` pointing at it, so the answer is the binary's own result object
(``venvaudit query SPEC --from-facts FILE`` / ``venvaudit plan --from-facts FILE``).

:depends: the ``venvaudit`` binary on the master

:configuration: the minions publish compact facts to the mine (minion config or pillar):

    .. code-block:: yaml

        mine_functions:
          venvaudit.facts:
            - paths: [/srv, /opt]
            - detail: compact

    and, optionally, on the master (``/etc/salt/master.d/venvaudit.conf``):

    .. code-block:: yaml

        venvaudit.binary: /usr/local/bin/venvaudit   # default: venvaudit on PATH, then beside Salt's Python
        venvaudit.mine_function: venvaudit.facts     # the mine key (an alias such as venvaudit_compact)
        venvaudit.osv_db: /var/lib/venvaudit/osv/PyPI.zip   # default osv_db for venvaudit.plan
        venvaudit.timeout: 600                       # seconds per binary call (default: none)

Exit status of ``salt-run`` as the binary's: 0 no match / nothing planned, 1 a match / a
plan, 2 an incomplete answer (a minion's facts missing, stale or unreadable: see
``hosts_unknown``) or an error (``failed: true`` with ``msg``; also when the mine holds no
data at all for the function and target, which would otherwise read as "no match"). The result carries the same
number as ``retcode`` (that is how ``salt-run`` learns it) and the runner sets
``__context__['retcode']`` (the job's ``success``).
"""

import json
import logging
import os
import subprocess
import sys
import sysconfig
import tempfile

import salt.utils.args
import salt.utils.path

log = logging.getLogger(__name__)

__virtualname__ = "venvaudit"

_LIST_KEYS = ("specs", "forbid", "from_facts", "exclude")


def __virtual__():
    return __virtualname__


def _binary():
    """
    (path or None, what was looked for).
    """
    configured = str(__opts__.get("venvaudit.binary") or "venvaudit")
    if os.sep in configured:
        ok = os.path.isfile(configured) and os.access(configured, os.X_OK)
        return (configured if ok else None), configured
    found = salt.utils.path.which(configured)
    if found:
        return found, configured
    for scripts in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        candidate = os.path.join(scripts, configured) if scripts else None
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate, configured
    return None, configured


def _failed(msg):
    __context__["retcode"] = 2
    return {"failed": True, "msg": msg, "retcode": 2}


def _run(action, request, tgt, tgt_type, mine_function):
    binary, configured = _binary()
    if binary is None:
        return _failed(
            "venvaudit runner: binary {!r} not found or not executable on the master; set "
            "'venvaudit.binary' in the master config or put venvaudit on PATH".format(configured)
        )
    request = salt.utils.args.clean_kwargs(**request)
    if "action" in request:
        return _failed("'action' is set by the runner function; do not pass it")
    for key in _LIST_KEYS:
        if isinstance(request.get(key), str):
            request[key] = [request[key]]
    fun = mine_function or __opts__.get("venvaudit.mine_function") or "venvaudit.facts"
    mine = __salt__["mine.get"](tgt, fun, tgt_type)
    if not isinstance(mine, dict):
        return _failed("mine.get {} {} returned {!r}".format(tgt, fun, mine))
    if not mine:
        # The binary would answer "no match, complete" from an empty file: a misspelt mine
        # function or target must not read as a clean fleet.
        return _failed(
            "the mine has no {!r} data for target {!r} ({}): publish venvaudit.facts with "
            "mine_functions on the minions and run mine.update, or give mine_function= (master "
            "config venvaudit.mine_function) the mine key they use".format(fun, tgt, tgt_type)
        )
    timeout = __opts__.get("venvaudit.timeout")
    with tempfile.TemporaryDirectory(prefix="venvaudit-runner-") as tmp:
        facts = os.path.join(tmp, "mine.json")
        with open(facts, "w") as fh:
            json.dump(mine, fh)
        hosts = request.get("hosts")
        if isinstance(hosts, (list, tuple)):
            path = os.path.join(tmp, "hosts")
            with open(path, "w") as fh:
                fh.write("".join("{}\n".format(h) for h in hosts))
            request["hosts"] = path
        request["from_facts"] = [facts] + list(request.get("from_facts") or [])
        request["action"] = action
        try:
            proc = subprocess.run(
                [binary, "run"],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return _failed("venvaudit {} did not finish within {} s (master config venvaudit.timeout)".format(action, timeout))
        except (OSError, TypeError, ValueError) as exc:
            return _failed("venvaudit {}: cannot run {}: {}".format(action, binary, exc))
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        return _failed(
            "venvaudit {} (exit {}) did not return JSON: {}".format(
                action, proc.returncode, (proc.stderr or proc.stdout or "no output").strip()[:500]
            )
        )
    if not isinstance(result, dict):
        return _failed("venvaudit {} returned {} instead of a JSON object".format(action, type(result).__name__))
    code = proc.returncode if proc.returncode in (0, 1, 2) else 2
    __context__["retcode"] = code
    result["retcode"] = code
    return result


def query(*specs, tgt="*", tgt_type="glob", mine_function=None, **kwargs):
    """
    Which minions and virtualenvs run distributions matching the PEP 508 specifiers
    ``specs``? Answered from the mine, without contacting a minion (``venvaudit query SPEC
    --from-facts``).

    tgt, tgt_type
        The minions whose mine data is read (default ``'*'``, ``glob``).

    mine_function
        The mine key the minions publish compact facts under (default master config
        ``venvaudit.mine_function``, else ``venvaudit.facts``).

    max_age
        Facts older than this many days do not answer (default 7).

    hosts
        The minion ids that should answer (a list, or a file on the master, one a line):
        those without facts are listed in ``hosts_unknown``.

    Returns the binary's result (``matched``, ``matches`` each with ``host``, ``venv``,
    ``version``, ``spec``; ``complete``, ``hosts_answered``, ``hosts_unknown``) plus
    ``retcode``. ``salt-run`` exits 1 on a match, 2 when the answer is
    incomplete or on an error, else 0.

    CLI Example:

    .. code-block:: bash

        salt-run venvaudit.query 'django<4.2.16'
        salt-run venvaudit.query 'requests==2.25.*' pyyaml tgt='web*' max_age=3
        salt-run venvaudit.query 'django<4.2.16' tgt=G@role:web tgt_type=compound hosts='[web1, web2]'
    """
    request = dict(kwargs)
    request["specs"] = [str(s) for s in specs] + list(
        [request["specs"]] if isinstance(request.get("specs"), str) else request.get("specs") or []
    )
    return _run("query", request, tgt, tgt_type, mine_function)


def plan(tgt="*", tgt_type="glob", mine_function=None, **kwargs):
    """
    The fleet's remediation plan from the mine (``venvaudit plan --from-facts``): for each
    vulnerable (``osv_db``, default master config ``venvaudit.osv_db``, else the binary's
    default) or forbidden (``forbid``) distribution on each minion, the version to install,
    the command and the services to restart, grouped by package in ``packages``.

    tgt, tgt_type, mine_function, max_age, hosts
        As for ``venvaudit.query``.

    Compact mine facts carry no Requires-Dist, so the steps' constraints are not checked
    (``constraints_checked: false``); the state ``venvaudit.remediated`` on the minion plans
    again from its files before it changes anything.

    Returns the binary's plan (``planned``, ``steps`` each with ``host``, ``packages``,
    ``summary``, ``hosts_answered``, ``hosts_unknown``, ...) plus ``retcode``.
    ``salt-run`` exits 1 when something is planned, 2 on an incomplete answer with nothing
    planned or an error, else 0.

    CLI Example:

    .. code-block:: bash

        salt-run venvaudit.plan
        salt-run venvaudit.plan tgt='web*' osv_db=/var/lib/venvaudit/osv/PyPI.zip
        salt-run venvaudit.plan forbid='["pyyaml<5.4"]' --out json
    """
    request = dict(kwargs)
    if "osv_db" not in request and __opts__.get("venvaudit.osv_db"):
        request["osv_db"] = __opts__["venvaudit.osv_db"]
    return _run("plan", request, tgt, tgt_type, mine_function)
