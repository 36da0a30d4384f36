"""
Audit the Python virtualenvs of a minion with the ``venvaudit`` binary.

venvaudit reads files only: it never runs an interpreter of a scanned environment and
never writes into one. This module is a thin wrapper: each function sends one JSON request
to ``venvaudit run`` on standard input and returns the parsed JSON result.

:depends: the ``venvaudit`` binary on the minion (the ``venvaudit`` wheel, or
    ``salt/venvaudit/init.sls``)

:configuration: The binary is looked up in this order:

    1. minion config option ``venvaudit.binary`` (a path or a command name)
    2. pillar ``venvaudit:binary``
    3. ``venvaudit`` on the minion's ``PATH``
    4. ``venvaudit`` beside Salt's own Python (where the ``venvaudit`` wheel, a dependency of
       the ``saltext-venvaudit`` extension, puts it when installed with ``salt-pip``)

    .. code-block:: yaml

        # /etc/salt/minion.d/venvaudit.conf
        venvaudit.binary: /usr/local/bin/venvaudit
        # optional: kill a scan that runs longer than this many seconds (default: no limit)
        venvaudit.timeout: 600

Keyword arguments are the keys of the JSON request and are passed through unchanged (only
Salt's own ``__pub_*`` arguments are dropped), so an unknown or misspelt argument is rejected
by the binary with the list of supported ones instead of being silently ignored. For
convenience a single string given to a list-valued key (``paths``, ``exclude``, ``checks``,
``forbid``, ``specs``, ``apache_config``, ``uwsgi_config``, ``artifacts``, ``find_links``,
``from_facts``) is taken as a one-item list.

Request keys: ``paths``, ``exclude``, ``max_depth``, ``root``, ``jobs``, ``follow_symlinks``,
``cross_mounts``, ``packages``, ``summary``, ``detail``, ``no_processes``, ``fail_on``, ``checks``,
``target_python``, ``app``, ``mod_wsgi``, ``apache_config``, ``uwsgi_config``, ``config_root``,
``osv_db``, ``cpython_db``, ``require_osv_db``, ``osv_max_age_days``, ``forbid``, ``specs``,
``verify``, ``lock``, ``ignore``, ``ignore_file``, ``artifacts``, ``find_links``, ``venv``,
``from_facts``, ``max_age``, ``hosts``, ``today`` (see the venvaudit README for their meaning). Findings cover only the environments under ``paths``, also those from the host's
web server and service configuration.

``detail='compact'`` keeps facts small enough for the Salt mine (about 3 KB per environment
of 100 distributions) while naming every distribution as ``name==version``; answer "which
minions run X?" from the mine on the master with ``salt-run mine.get '*' venvaudit_compact
--out json > mine.json`` and ``venvaudit query 'django<4.2.16' --from-facts mine.json``
(see salt/README.md).

A failed gate (``check``, ``check_artifact``), a match (``query``) or a plan with steps
(``plan``) is a *result*, not an error: the function returns normally with ``passed: False`` /
``matched: True`` / ``planned: True`` and the job's retcode stays 0.
Only a failure of the binary itself (bad argument, unreadable request, missing binary,
unparsable output) raises ``CommandExecutionError`` carrying the binary's message.
"""

import json
import logging
import os
import sys
import sysconfig

import salt.utils.args
import salt.utils.data
import salt.utils.path
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "venvaudit"

# Request keys whose value is a list; a lone string is wrapped for CLI convenience.
_LIST_KEYS = (
    "paths",
    "exclude",
    "checks",
    "apache_config",
    "uwsgi_config",
    "forbid",
    "specs",
    "artifacts",
    "find_links",
    "from_facts",
)

# Function (action) -> the request key its positional arguments fill.
_POSITIONAL_KEY = {"query": "specs", "check-artifact": "artifacts"}


def _configured_binary():
    """
    The configured binary (minion config, then pillar), or the default command name.
    """
    binary = __opts__.get("venvaudit.binary")
    if not binary:
        binary = salt.utils.data.traverse_dict_and_list(__opts__, "venvaudit:binary")
    if not binary:
        try:
            binary = salt.utils.data.traverse_dict_and_list(
                __pillar__, "venvaudit:binary"
            )
        except NameError:
            binary = None
    return str(binary) if binary else "venvaudit"


def _binary():
    """
    Absolute path of an executable venvaudit binary, or None.
    """
    configured = _configured_binary()
    if os.sep in configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        return None
    found = salt.utils.path.which(configured)
    if found:
        return found
    # The venvaudit wheel (a dependency of the saltext-venvaudit extension) installs the
    # binary into the scripts directory of Salt's own Python (salt-pip, onedir), which is
    # usually not on the minion's PATH.
    for scripts in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        candidate = os.path.join(scripts, configured) if scripts else None
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def __virtual__():
    """
    Load only when the venvaudit binary can be found.
    """
    if _binary() is None:
        return (
            False,
            "venvaudit execution module: binary {!r} not found or not executable; set "
            "'venvaudit.binary' in the minion config or 'venvaudit:binary' in pillar, "
            "or put venvaudit on PATH".format(_configured_binary()),
        )
    return __virtualname__


def _request(action, args, kwargs):
    """
    Build the JSON request: positional ``args`` become ``paths`` (``specs`` for a query,
    ``artifacts`` for check-artifact), keyword arguments are copied as they are.
    """
    request = salt.utils.args.clean_kwargs(**kwargs)
    for key in _LIST_KEYS:
        if isinstance(request.get(key), str):
            request[key] = [request[key]]
    if args:
        positional_key = _POSITIONAL_KEY.get(action, "paths")
        extra = [str(a) for a in args]
        request[positional_key] = extra + list(request.get(positional_key) or [])
    if "action" in request:
        raise CommandExecutionError(
            "'action' is set by the function called (venvaudit.facts, venvaudit.check, "
            "venvaudit.check_artifact, venvaudit.query); do not pass it"
        )
    request["action"] = action
    return request


def _run(action, args, kwargs):
    """
    Send one request to ``venvaudit run`` and return the parsed result.

    Exit 0 and 1 are both results (1: a check gate failed, a query matched, a plan has
    steps); exit 2 is ``{"failed": true, "msg": ...}``, or a query or plan result with
    ``complete: false`` (nothing matched or planned, but part of the scan or a host's facts
    could not be read: returned, the caller sees ``complete`` and ``hosts_unknown``).
    Anything else is reported with stderr.
    """
    binary = _binary()
    if binary is None:
        raise CommandExecutionError(
            "venvaudit binary {!r} not found or not executable".format(
                _configured_binary()
            )
        )
    request = _request(action, args, kwargs)
    try:
        payload = json.dumps(request)
    except (TypeError, ValueError) as exc:
        raise CommandExecutionError(
            "venvaudit: arguments cannot be sent as JSON: {}".format(exc)
        )
    timeout = __opts__.get("venvaudit.timeout")
    res = __salt__["cmd.run_all"](
        [binary, "run"],
        stdin=payload,
        python_shell=False,
        # 1 is a result, not an error: keep the job's retcode and the minion log clean
        ignore_retcode=True,
        # a report can be megabytes: do not copy it into the minion log
        output_loglevel="quiet",
        timeout=timeout,
        reset_system_locale=False,
    )
    retcode = res.get("retcode")
    stdout = res.get("stdout") or ""
    stderr = (res.get("stderr") or "").strip()
    try:
        result = json.loads(stdout)
    except ValueError:
        if timeout and "Timed out" in stdout + stderr:
            raise CommandExecutionError(
                "venvaudit {} did not finish within {} s (minion config venvaudit.timeout); "
                "narrow paths or raise the timeout".format(action, timeout)
            )
        detail = stderr or stdout.strip()[:500] or "no output"
        raise CommandExecutionError(
            "venvaudit {} (exit {}) did not return JSON: {}".format(
                action, retcode, detail
            )
        )
    if not isinstance(result, dict):
        raise CommandExecutionError(
            "venvaudit {} returned {} instead of a JSON object".format(
                action, type(result).__name__
            )
        )
    if result.get("failed") is not False:
        msg = result.get("msg") or stderr or "venvaudit failed (exit {})".format(retcode)
        raise CommandExecutionError("venvaudit {}: {}".format(action, msg))
    incomplete = retcode == 2 and result.get("complete") is False
    if retcode not in (0, 1) and not incomplete:
        raise CommandExecutionError(
            "venvaudit {} exited {}: {}".format(action, retcode, stderr or "no message")
        )
    return result


def facts(*paths, **kwargs):
    """
    Discover the Python environments below ``paths`` (default ``/``) and report their
    facts: interpreter, version, base interpreter health, owner, packages and the
    interpreter findings (``broken-interpreter``, ``interpreter-mismatch``).

    Positional arguments are paths to scan; keyword arguments are request keys
    (``paths``, ``exclude``, ``max_depth``, ``root``, ``packages``, ``summary``, ...).

    Returns the venvaudit report (``venvs``, ``findings``, ``errors``, ``summary``, ...).

    CLI Example:

    .. code-block:: bash

        salt '*' venvaudit.facts /srv /opt
        salt '*' venvaudit.facts paths='[/srv, /home]' packages=False
        salt '*' venvaudit.facts summary=True
        salt '*' venvaudit.facts /mnt/image root=/mnt/image exclude='[node_modules]'
    """
    return _run("facts", paths, kwargs)


def check(*paths, **kwargs):
    """
    Run every check over the environments below ``paths`` (default ``/``) and judge the
    result against ``fail_on`` (``error``, the default; ``warning``; ``never``).

    Returns the venvaudit report plus ``passed`` (bool) and ``fail_on``. A failed gate is
    returned, not raised: the job succeeds and ``passed`` is ``False``.

    Keyword arguments are request keys, among them ``fail_on``, ``checks`` (families to
    run), ``forbid`` (PEP 508 specifiers that are errors), ``osv_db`` (offline OSV
    database; default ``$VENVAUDIT_OSV_DB`` or ``/var/lib/venvaudit/osv/PyPI.zip``; without
    one the result's ``warnings`` say vulnerabilities were not checked), ``require_osv_db``
    (then an ``osv-db-missing`` error), ``osv_max_age_days``, ``ignore`` (list of ``{id, advisory, package, venv, reason, until}``),
    ``ignore_file``, ``target_python``, ``app`` (the application's code: extension modules it imports are required), ``mod_wsgi``, ``verify``,
    ``lock`` (a ``pylock.toml``, pinned ``requirements.txt`` or ``uv.lock`` each environment is
    compared with: a difference is a ``lock-drift`` finding; add ``verify=True`` to list the
    distributions whose installed files changed since install, which a lock's archive hashes
    cannot show).

    CLI Example:

    .. code-block:: bash

        salt '*' venvaudit.check /srv/app/venv
        salt '*' venvaudit.check paths='[/srv]' fail_on=warning
        salt '*' venvaudit.check /srv forbid='["pyyaml<5.4", "django<4.2"]'
        salt '*' venvaudit.check /srv osv_db=/var/lib/osv/PyPI.zip checks='[vulnerabilities]'
        salt '*' venvaudit.check /srv ignore='[{id: interpreter-eol, reason: "migration in Q3"}]'
        salt '*' venvaudit.check /srv/app/venv lock=/srv/app/wheelhouse/requirements.txt verify=True
    """
    return _run("check", paths, kwargs)


def check_artifact(*artifacts, **kwargs):
    """
    Judge artefacts against the minion's Python *before* they are installed: a wheelhouse
    directory, ``.whl`` files, a PEP 751 ``pylock.toml``, a pinned and hashed
    ``requirements.txt`` (with ``find_links``) or a ``uv.lock``, judged together as one
    install. The installer's choice is made again for the target (tags, markers,
    Requires-Python; hashes as pip checks them) and the selected wheels are judged as if
    installed: ``artifact-no-compatible-wheel``, ``artifact-hash-mismatch``,
    ``artifact-file-missing``, ``artifact-requires-python``, ``artifact-invalid``,
    ``artifact-sdist-only``, extension modules that cannot load on this host, dependency
    conflicts, vulnerabilities, forbidden packages. Nothing is extracted or installed.

    Positional arguments are artefacts (an ``artifacts`` list may be given too). The target
    is one of ``venv`` (the environment the artefact goes into; ``artifact.changes`` then
    says what the install changes), ``target_python``, ``mod_wsgi`` (a ``mod_wsgi.so``, or
    ``apache`` for the module Apache's configuration loads), else the minion's ``python3``.
    Other keyword arguments: ``find_links``, ``root``, ``config_root``, ``fail_on``, ``checks``,
    ``osv_db``, ``forbid``, ``ignore``, ``ignore_file``, ``app``.

    Returns the venvaudit report with ``artifact`` (``inputs``, ``target``, ``selected``,
    ``skipped``, ``changes``), ``findings``, ``passed`` and ``fail_on``. A failed gate is
    returned, not raised: the job succeeds and ``passed`` is ``False``.

    CLI Example:

    .. code-block:: bash

        salt '*' venvaudit.check_artifact /srv/app/wheelhouse/requirements.txt find_links=/srv/app/wheelhouse venv=/srv/app/venv
        salt '*' venvaudit.check_artifact /srv/app/pylock.toml find_links='[/srv/app/wheels]' mod_wsgi=apache
        salt '*' venvaudit.check_artifact /srv/staging/wheelhouse target_python=/usr/bin/python3.12 fail_on=never
    """
    return _run("check-artifact", artifacts, kwargs)


def query(*specs, **kwargs):
    """
    Which environments run distributions matching the PEP 508 specifiers ``specs``?

    Positional arguments are specifiers (``'django<4.2.16'``, ``'requests==2.25.*'``,
    ``pyyaml``); a ``specs`` list may be given too. Keyword arguments are request keys
    (``paths`` default ``/``, ``exclude``, ``max_depth``, ``root``, ...).

    ``from_facts`` (a file or list of files: Salt mine output, an Ansible fact cache
    directory, saved ``facts`` reports) answers for the hosts in those facts instead of
    scanning this minion; ``max_age`` (days, default 7) and ``hosts`` (a file of the expected
    host names) as for ``venvaudit query --from-facts``. Hosts without usable facts are listed
    in ``hosts_unknown`` (and ``complete`` is ``False``).

    Returns ``matched`` (bool) and ``matches`` (one entry per matching distribution with
    its venv, name, version and the specifier it matched; ``host`` with ``from_facts``). A
    match is returned, not raised.

    CLI Example:

    .. code-block:: bash

        salt '*' venvaudit.query 'django<4.2.16' paths='[/srv]'
        salt '*' venvaudit.query 'requests==2.25.*' pyyaml paths='[/srv, /opt]'
        salt -G 'venvaudit:installed:True' venvaudit.query 'numpy<1.25'
        salt-call venvaudit.query 'django<4.2.16' from_facts=/var/tmp/mine.json max_age=3
    """
    return _run("query", specs, kwargs)


def plan(*paths, **kwargs):
    """
    The remediation plan for the environments below ``paths`` (default ``/``): for each
    vulnerable (``osv_db``), forbidden (``forbid``) or lock-drifted (``lock``) distribution the
    smallest version that clears it, whether the environment's other distributions allow it,
    the exact install command of the environment's own installer, and the services to
    restart afterwards. Nothing is installed: the plan is read-only (the state
    ``venvaudit.remediated`` applies it).

    Keyword arguments are request keys: ``osv_db``, ``lock``, ``forbid``, ``config_root``
    (read systemd/supervisor/Apache/uWSGI configuration there: which services use which
    environment), ``exclude``, ``max_depth``, ``root``, ``no_processes``, ... With
    ``from_facts`` (files of cached facts, e.g. Salt mine output) the plan is the fleet's, from
    those facts alone, each step with its ``host``; ``max_age`` and ``hosts`` as for ``query``.

    Returns the plan: ``planned`` (bool), ``complete``, ``steps`` (each with ``venv``,
    ``package``, ``name``, ``from_version``, ``to_version``, ``kind``, ``status`` -
    ``ready``, ``blocked``, ``no-fix`` or ``rebuild`` - ``command``, ``argv``, ``installer``,
    ``no_deps``, ``restart``, ``restarts``, ``blocked_by``, ``message``, ``why``), ``restart``,
    ``packages`` (grouped by package), ``summary``, ``warnings``, ``errors``; with
    ``from_facts`` also ``hosts_answered`` and ``hosts_unknown``. A plan with steps is
    returned, not raised.

    CLI Example:

    .. code-block:: bash

        salt '*' venvaudit.plan /srv osv_db=/var/lib/venvaudit/osv/PyPI.zip
        salt '*' venvaudit.plan /srv/app/venv forbid='["pyyaml<5.4"]' lock=/srv/app/requirements.txt
        salt-call venvaudit.plan from_facts=/var/tmp/mine.json osv_db=/var/lib/venvaudit/osv/PyPI.zip
    """
    return _run("plan", paths, kwargs)
