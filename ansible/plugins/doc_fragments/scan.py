# -*- coding: utf-8 -*-
# Options shared by venv_facts and venv_check: where and how the scan walks. One copy, used
# by both modules through `extends_documentation_fragment: venvaudit.python.scan`.

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  paths:
    description:
      - Directories to scan. Relative paths are relative to the module's working directory.
      - A comma-separated string is accepted as a list.
      - Findings cover only the environments below these paths. Environments elsewhere that
        service or web server configuration names (mod_wsgi, uWSGI, systemd, supervisor, cron)
        are not reported, so a gate on one environment judges that environment.
    type: list
    elements: path
    default: ["/"]
  exclude:
    description:
      - Glob patterns of directories not to walk. A bare name matches at any depth.
    type: list
    elements: str
    default: []
  max_depth:
    description:
      - Maximum directory depth below each of O(paths). Unlimited when not set.
    type: int
  root:
    description:
      - Treat this directory as C(/) (a mounted image, a container rootfs, a chroot).
      - O(paths) and every reported path are then paths inside that tree.
    type: path
  config_root:
    description:
      - Read service and web server configuration (systemd, supervisor, cron, Apache, uWSGI)
        under this directory instead of under C(/) (or O(root)), for example a staged
        configuration tree. The paths that configuration names still refer to the scanned system.
    type: path
  follow_symlinks:
    description:
      - Follow symlinked directories while walking (loops are detected and skipped).
    type: bool
    default: false
  cross_mounts:
    description:
      - Walk into other local filesystems mounted below a path. Pseudo and network
        filesystems are never walked.
    type: bool
    default: false
  processes:
    description:
      - Read C(/proc) to report the running processes that use each environment (C(in_use))
        and the related findings. V(false) skips it.
      - Run as root (C(become)) for a complete view; otherwise a task warning says the view is partial.
    type: bool
    default: true
"""
