#!/usr/bin/env bash
# Precision/recall of `venvaudit check` on real wheels (issue 11), in one command:
#
#   scripts/precision.sh [--only NAME...] [--dir DIR]
#
# Runs scripts/setup.sh (tools venv with uv/virtualenv/ziglang), builds the release binary, then
# scripts/precision.py: builds the corpus under .tools/precision (once; stamped, so a rerun only
# re-scores), takes ground truth from the venvs' own interpreters with tests/support/oracle.py
# (cached per venv), runs `venvaudit check --format json` on every venv and prints precision and
# recall at file level (errors name files that fail to load; every such file is named by an error
# or a warning) and at gate level (errors only on distributions whose top-level import fails;
# every such distribution has one), per finding id, every false positive and negative, and the
# warnings for a person to judge.
# Downloads go through uv's cache in .tools/uv-cache (PyPI must be reachable the first time).
# Full results: .tools/precision/results.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh >&2
# shellcheck source=/dev/null
. .tools/env.sh
cargo build --release --quiet
exec .tools/venv/bin/python scripts/precision.py --bin target/release/venvaudit "$@"
