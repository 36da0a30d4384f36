#!/usr/bin/env bash
# The fuzzing campaign (issue 13): every parser target under fuzz/, one at a time, seeded from
# fuzz/seeds, then a table of executions and crashes per target. Not part of scripts/test.sh:
# it takes tens of minutes and needs the nightly toolchain.
#
#   scripts/fuzz.sh [TARGET...]        all targets when none is named
#
# Environment (defaults are the issue's figures):
#   FUZZ_RUNS=1000000   executions per target (libFuzzer -runs)
#   FUZZ_TIME=600       at most this many seconds per target (-max_total_time), whichever first
#   FUZZ_RSS_MB=512     -rss_limit_mb (also the malloc limit)
#   FUZZ_TIMEOUT=5      seconds per input (-timeout)
#
# One libFuzzer process with one worker (its default; -jobs/-workers would only add a
# supervising parent). Built with debug assertions (-a: integer overflow panics) and without
# a sanitizer (-s none: the targets are safe Rust; libFuzzer still catches panics, stack
# overflows, timeouts and memory over the limit). Crash inputs land in fuzz/artifacts/TARGET/;
# each one found must become a regression test next to its parser.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

runs=${FUZZ_RUNS:-1000000}
max_time=${FUZZ_TIME:-600}
rss=${FUZZ_RSS_MB:-512}
timeout=${FUZZ_TIMEOUT:-5}

rustup toolchain list | grep -q '^nightly' || { echo "fuzz.sh: needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 2; }
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

build=(-O -a -s none)
cargo +nightly fuzz build "${build[@]}" >&2

if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo +nightly fuzz list); fi

# Seeds into the (uncommitted) working corpus; ELF seeds are real binaries of this machine,
# never committed (fuzz/seeds/elf.list).
seed() {
    local t=$1 dir=fuzz/corpus/$1
    mkdir -p "$dir"
    if [ "$t" = elf ]; then
        local line f
        while read -r line; do
            case $line in '' | '#'*) continue ;; esac
            # shellcheck disable=SC2086 # the line is a glob
            for f in $line; do
                if [ -f "$f" ] && [ "$(stat -Lc %s "$f")" -lt 262144 ]; then
                    cp -L "$f" "$dir/$(basename "$f")"
                    break
                fi
            done
        done < fuzz/seeds/elf.list
        if [ -z "$(ls -A "$dir")" ]; then
            find /usr/lib /lib -name '*.so*' -type f -size -64k 2>/dev/null | head -3 | xargs -r cp -t "$dir"
        fi
    elif [ "$t" = wheel_zip ]; then
        # Real wheels from the offline wheelhouse (scripts/setup.sh), never committed: the two
        # smallest.
        local w
        for w in $(ls -S .tools/wheels/*.whl 2>/dev/null | tail -n 2); do cp -n "$w" "$dir"/; done
        if [ -z "$(ls -A "$dir")" ]; then
            echo "fuzz: no wheel in .tools/wheels to seed wheel_zip: run scripts/setup.sh" >&2
            exit 1
        fi
    else
        cp -n fuzz/seeds/"$t"/* "$dir"/
    fi
}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
rows=()
total_crashes=0
for t in "${targets[@]}"; do
    seed "$t"
    mkdir -p "fuzz/artifacts/$t"
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    start=$(date +%s)
    status=0
    cargo +nightly fuzz run "${build[@]}" "$t" "fuzz/corpus/$t" -- \
        -runs="$runs" -max_total_time="$max_time" -rss_limit_mb="$rss" -malloc_limit_mb="$rss" \
        -timeout="$timeout" -print_final_stats=1 >"$logs/$t.log" 2>&1 || status=$?
    secs=$(($(date +%s) - start))
    rm -rf /dev/shm/venvaudit-fuzz-apache-* "${TMPDIR:-/tmp}"/venvaudit-fuzz-apache-*
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/$t.log" | awk '{print $2}' | tail -1)
    after=$(find "fuzz/artifacts/$t" -type f | wc -l)
    crashes=$((after - before))
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="?"; fi
    [ "$crashes" = "?" ] || total_crashes=$((total_crashes + crashes))
    if [ "$status" -ne 0 ]; then
        echo "== $t stopped (exit $status): $(grep -m1 -E 'ERROR|panicked|Test unit written' "$logs/$t.log" || true)" >&2
        grep -E "panicked at|Test unit written to" "$logs/$t.log" >&2 || true
    fi
    rows+=("$(printf '%-14s %12s %8s %8s' "$t" "${execs:-?}" "$secs" "$crashes")")
    echo "${rows[-1]}" >&2
done

printf '%-14s %12s %8s %8s\n' target executions seconds crashes
printf '%s\n' "${rows[@]}"
echo "crash inputs: $repo/fuzz/artifacts/<target>/ (reproduce: cargo +nightly fuzz run ${build[*]} <target> <file>)"
[ "$total_crashes" -eq 0 ]
