"""
Entry points (``salt.loader``) that tell Salt's loader where this extension's execution
modules and states are.
"""

import os

PACKAGE_ROOT = os.path.dirname(os.path.abspath(__file__))


def get_module_dirs():
    """Directories of execution modules (``venvaudit.facts``, ``venvaudit.check``, ...)."""
    return [os.path.join(PACKAGE_ROOT, "modules")]


def get_states_dirs():
    """Directories of state modules (``venvaudit.compatible``, ``venvaudit.artifact_compatible``)."""
    return [os.path.join(PACKAGE_ROOT, "states")]


def get_runner_dirs():
    """Directories of runner modules (``salt-run venvaudit.query``, ``salt-run venvaudit.plan``)."""
    return [os.path.join(PACKAGE_ROOT, "runners")]
