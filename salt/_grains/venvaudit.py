"""
Grain ``venvaudit``: whether the venvaudit binary is installed on the minion, where, and its
version. Cheap and static, as grains must be: one ``venvaudit --version`` (a few
milliseconds), no filesystem walk. It no longer scans for virtualenvs at minion start: what
a fleet runs changes with every deploy, so it belongs to the mine or a schedule (see
``docs/salt.md``, "Fleet facts"), and ad-hoc questions to ``venvaudit.facts`` /
``venvaudit.query``.

.. code-block:: bash

    salt -G 'venvaudit:installed:True' venvaudit.query 'django<4.2'

Value:

.. code-block:: yaml

    venvaudit:
      installed: true
      binary: /usr/local/bin/venvaudit
      version: 0.1.0

``installed: false`` when no binary is found (looked up like the execution module does:
``venvaudit.binary`` in the minion config, else ``venvaudit`` on PATH, else beside Salt's
own Python). It never raises. ``venvaudit_grains: false`` in the minion config turns it off.
"""

import os
import shutil
import subprocess
import sys
import sysconfig


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
    found = shutil.which(configured)
    if found:
        return found
    for scripts in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        candidate = os.path.join(scripts, configured) if scripts else None
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def venvaudit():
    """
    Whether and where venvaudit is installed, and its version (see the module documentation).
    """
    if __opts__.get("venvaudit_grains") is False:
        return {}
    binary = _binary()
    if binary is None:
        return {"venvaudit": {"installed": False}}
    grain = {"installed": True, "binary": binary}
    try:
        proc = subprocess.run(
            [binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=5, check=False
        )
        # "venvaudit 0.1.0"
        words = proc.stdout.decode("utf-8", "replace").split()
        if proc.returncode == 0 and len(words) == 2:
            grain["version"] = words[1]
    except (OSError, subprocess.SubprocessError):
        pass
    return {"venvaudit": grain}
