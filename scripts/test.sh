#!/usr/bin/env bash
# THE command for running all of venvaudit's tests:
#
#   scripts/test.sh [CARGO_TEST_ARGS...] [-- TEST_HARNESS_ARGS...]
#
# Runs scripts/setup.sh (idempotent; installs apt packages, the tools venv and the offline
# wheelhouse on first use), sources .tools/env.sh, then
#   cargo test --all-targets --no-fail-fast [CARGO_TEST_ARGS...] -- --test-threads=2 [TEST_HARNESS_ARGS...]
# e.g.  scripts/test.sh --test inventory -- inventory_equals_pip --nocapture
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
# shellcheck source=/dev/null
. .tools/env.sh

cargo_args=()
harness_args=()
seen_sep=0
for a in "$@"; do
    if ((seen_sep)); then
        harness_args+=("$a")
    elif [[ "$a" == "--" ]]; then
        seen_sep=1
    else
        cargo_args+=("$a")
    fi
done

threads=(--test-threads=2)
for a in "${harness_args[@]+"${harness_args[@]}"}"; do
    case "$a" in --test-threads | --test-threads=*) threads=() ;; esac
done

set -x
exec cargo test --all-targets --no-fail-fast "${cargo_args[@]+"${cargo_args[@]}"}" \
    -- "${threads[@]+"${threads[@]}"}" "${harness_args[@]+"${harness_args[@]}"}"
