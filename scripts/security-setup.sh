#!/usr/bin/env bash
# Idempotent setup for the security tests: the tools venv packages they use and the
# known-vulnerable wheels in .tools/wheels. Meant to be called from scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY39="${PY39:-$HOME/.pyenv/versions/3.9.18/bin/python}"
TOOLS_BASE="${TOOLS_BASE:-$HOME/.pyenv/versions/3.12.1/bin/python}"
mkdir -p .tools/wheels
if [ ! -x .tools/venv/bin/python ]; then
    "$TOOLS_BASE" -m venv .tools/venv
fi
.tools/venv/bin/python -c 'import packaging, jsonschema, prometheus_client, cyclonedx' 2>/dev/null ||
    .tools/venv/bin/pip install -q packaging==26.4 jsonschema==4.26.0 prometheus_client==0.26.0 cyclonedx-python-lib==11.12.0
reqs=$(grep -v '^#' scripts/security-wheels.txt | grep -v '^urllib3==2' | grep .)
# shellcheck disable=SC2086
"$PY39" -m pip download -q --only-binary=:all: --no-deps -d .tools/wheels $reqs
"$PY39" -m pip download -q --only-binary=:all: --no-deps -d .tools/wheels urllib3==2.2.3
if ! ls .tools/wheels/pyyaml-5.3.1-cp39-*.whl >/dev/null 2>&1 && ! ls .tools/wheels/PyYAML-5.3.1-cp39-*.whl >/dev/null 2>&1; then
    "$PY39" -m pip wheel -q --no-deps -w .tools/wheels pyyaml==5.3.1
fi
echo "security test tools and wheels ready"
