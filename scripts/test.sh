#!/usr/bin/env bash
# THE command for running all of venvaudit's tests, both tiers:
#
#   scripts/test.sh [CARGO_TEST_ARGS...] [-- TEST_HARNESS_ARGS...]
#
# The fast tier is plain `cargo test`: unit tests and tests on trees they build, no set-up.
# The real-tool tier (pyenv venvs, pip, uv, virtualenv, Apache, ansible-playbook, salt-call,
# the glibc-2.17 release binary) is `#[ignore]`d with its reason in plain `cargo test`; this
# script installs what it needs and runs it too:
#   1. scripts/setup.sh (idempotent; apt packages, the tools venv and the offline wheelhouse);
#   2. ansible/build.sh, only for a whole run (no CARGO_TEST_ARGS): the glibc-2.17 zig build of
#      the shipped binary, its glibc check and the collection (incremental when up to date);
#   3. cargo test --no-fail-fast [--all-targets | CARGO_TEST_ARGS...] -- --include-ignored
#      --test-threads=2 [TEST_HARNESS_ARGS...]
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

if (($# == 0)); then
    ansible/build.sh >/dev/null
fi

# Every date decision (end of life, ignore expiry, database age) judges by this day, so no test
# turns red when the calendar moves on (3.11 reaches its warning window on 2027-04-30). Tests
# of date behaviour set their own.
export VENVAUDIT_TODAY="${VENVAUDIT_TODAY:-2026-12-03}"

threads=(--test-threads=2)
for a in "${harness_args[@]+"${harness_args[@]}"}"; do
    case "$a" in --test-threads | --test-threads=*) threads=() ;; esac
done

# Every target for a whole run; with CARGO_TEST_ARGS (`--test precision`), only what they name
# (`--all-targets` beside `--test X` would run every target anyway).
targets=(--all-targets)
((${#cargo_args[@]} == 0)) || targets=()

set -x
exec cargo test "${targets[@]+"${targets[@]}"}" --no-fail-fast "${cargo_args[@]+"${cargo_args[@]}"}" \
    -- --include-ignored "${threads[@]+"${threads[@]}"}" "${harness_args[@]+"${harness_args[@]}"}"
