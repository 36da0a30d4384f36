#!/usr/bin/env bash
# Run `ansible-test sanity` on the built collection (run ansible/build.sh first).
#
# ansible-test needs the collection at .../ansible_collections/venvaudit/python inside a git
# tree, so the built tarball is installed into a temporary collections path and committed to
# a throwaway git repository there. `--venv` makes ansible-test build its own virtualenvs and
# pip-install its test requirements from the package index.
#
# Offline workaround: ansible-test bootstraps pip in those virtualenvs with a get-pip script
# downloaded from ci-files.testing.ansible.com, which is unreachable here. Unless
# VENVAUDIT_SANITY_NO_GETPIP=1, a stand-in script (ensurepip, then `pip install` of what was
# asked for) is put where ansible-test looks first: ~/.ansible/test/cache/get_pip_X_Y.py.
#
#   ansible/tests/sanity.sh [extra ansible-test args, default: --python 3.12]
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_VENV="${VENVAUDIT_TOOLS_VENV:-$REPO/.tools/venv}"
VERSION="$(sed -n 's/^version: *//p' "$REPO/ansible/galaxy.yml" | head -n1)"
TARBALL="${VENVAUDIT_OUT:-$REPO/target/ansible}/venvaudit-python-$VERSION.tar.gz"
[[ -f "$TARBALL" ]] || { echo "sanity.sh: $TARBALL missing: run ansible/build.sh" >&2; exit 2; }

if [[ "${VENVAUDIT_SANITY_NO_GETPIP:-0}" != 1 ]]; then
    # the pip version ansible-test pins (get_venv_packages: `pip='25.2'`)
    pip_version="$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" \
        "$TOOLS_VENV"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1)"
    getpip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    if [[ -n "$pip_version" && ! -f "$getpip" ]]; then
        mkdir -p "$(dirname "$getpip")"
        cat >"$getpip" <<'EOF'
# Stand-in for ansible-test's get-pip bootstrap (written by venvaudit's ansible/tests/sanity.sh):
# ensurepip, then install the requested packages from the package index.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args)
EOF
        echo "sanity.sh: wrote stand-in pip bootstrap $getpip" >&2
    fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/venvaudit-sanity.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$TOOLS_VENV/bin/ansible-galaxy" collection install -p "$work" "$TARBALL" >&2
cd "$work/ansible_collections/venvaudit/python"
git init -q .
echo "tests/output/" >.git/info/exclude
git add -A
git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity
if (($# == 0)); then set -- --python 3.12; fi
"$TOOLS_VENV/bin/ansible-test" sanity --venv "$@"
