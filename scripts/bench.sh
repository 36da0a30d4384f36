#!/usr/bin/env bash
# Benchmark venvaudit facts against the I/O floor and pip list on a synthetic fleet.
#
# Builds (once, under $BENCH_DIR, default target/bench-fleet) at least 300 venvs holding at
# least 30,000 *.dist-info directories, as hard-linked copies (cp -al) of real venvs made by
# scripts/setup.sh, then prints in one run:
#   - venvaudit facts --format json over the fleet (wall time, peak RSS),
#   - the I/O floor: find ROOT -name METADATA -exec cat {} + (same tree, same cache state),
#   - pip list --format=json over a sample of venvs, scaled per venv.
# Not a test: numbers go in the notes. Warm cache: every command runs once before timing.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BENCH_DIR=${BENCH_DIR:-$REPO/target/bench-fleet}
# Bump when the fleet recipe changes.
FLEET_RECIPE=2
MIN_VENVS=${MIN_VENVS:-300}
MIN_DISTS=${MIN_DISTS:-30000}
SAMPLE=${SAMPLE:-10}

scripts/setup.sh >&2
# shellcheck disable=SC1091
source .tools/env.sh
cargo build --release --quiet
BIN=$REPO/target/release/venvaudit

# Template: the metadata of a real, large venv (the tools venv: ~115 distributions). Only what
# a metadata reader touches is kept -- pyvenv.cfg, bin/, every *.dist-info and the pip package
# so `bin/python -m pip list` runs -- so 300 hard-linked copies stay cheap to make.
TEMPLATE=$REPO/target/bench-template
if [ ! -f "$TEMPLATE/.complete" ]; then
  rm -rf "$TEMPLATE"; mkdir -p "$TEMPLATE"
  src=$VENVAUDIT_TOOLS_VENV
  cp -a "$src/pyvenv.cfg" "$src/bin" "$TEMPLATE/"
  sp=$(cd "$src" && ls -d lib/python3*/site-packages)
  mkdir -p "$TEMPLATE/$sp"
  (cd "$src/$sp" && cp -a ./*.dist-info pip "$TEMPLATE/$sp/")
  touch "$TEMPLATE/.complete"
fi
TEMPLATES=("$TEMPLATE")

count_dists() { find "$BENCH_DIR" -maxdepth 6 -type d -name '*.dist-info' | wc -l; }
if [ "$(cat "$BENCH_DIR/.complete" 2>/dev/null)" != "$FLEET_RECIPE" ]; then
  rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
  n=0; dists=0
  per=()
  for t in "${TEMPLATES[@]}"; do per+=("$(find "$t" -maxdepth 5 -type d -name '*.dist-info' | wc -l)"); done
  while [ $n -lt "$MIN_VENVS" ] || [ $dists -lt "$MIN_DISTS" ]; do
    i=$((n % ${#TEMPLATES[@]}))
    dir="$BENCH_DIR/team$((n / 50))/app$n"
    mkdir -p "$(dirname "$dir")"
    cp -al "${TEMPLATES[$i]}" "$dir"
    dists=$((dists + per[i])); n=$((n + 1))
  done
  echo "$FLEET_RECIPE" > "$BENCH_DIR/.complete"
fi
VENVS=$(find "$BENCH_DIR" -mindepth 2 -maxdepth 2 -type d | wc -l)
DISTS=$(count_dists)
echo "fleet: $VENVS venvs, $DISTS dist-info dirs under $BENCH_DIR"

secs() { python3 - "$@" <<'PY'
import subprocess, sys, time, resource
cmd = sys.argv[1:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # warm
best = None
for _ in range(3):
    t = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True); d = time.perf_counter() - t
    best = d if best is None else min(best, d)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{best:.3f} {rss:.1f}")
PY
}

read -r T_VA RSS_VA < <(secs "$BIN" facts --format json "$BENCH_DIR")
read -r T_FLOOR _ < <(secs sh -c "find '$BENCH_DIR' -name METADATA -exec cat {} + >/dev/null")
mapfile -t SAMPLE_VENVS < <(find "$BENCH_DIR" -mindepth 2 -maxdepth 2 -type d | sort | head -n "$SAMPLE")
T_PIP_TOTAL=0
for v in "${SAMPLE_VENVS[@]}"; do
  if [ -x "$v/bin/python" ] && "$v/bin/python" -m pip --version >/dev/null 2>&1; then
    read -r t _ < <(secs "$v/bin/python" -m pip list --format=json --disable-pip-version-check)
  else
    read -r t _ < <(secs "$VENVAUDIT_TOOLS_VENV/bin/python" -m pip --python "$v/bin/python" list --format=json --disable-pip-version-check)
  fi
  T_PIP_TOTAL=$(python3 -c "print($T_PIP_TOTAL + $t)")
done
python3 - "$T_VA" "$RSS_VA" "$T_FLOOR" "$T_PIP_TOTAL" "${#SAMPLE_VENVS[@]}" "$VENVS" "$DISTS" <<'PY'
import sys
t_va, rss, t_floor, t_pip, sample, venvs, dists = map(float, sys.argv[1:])
pip_per = t_pip / sample
va_per = t_va / venvs
print(f"venvaudit facts : {t_va:.3f} s for {venvs:.0f} venvs / {dists:.0f} dists ({va_per*1000:.2f} ms per venv), peak RSS {rss:.1f} MB")
print(f"I/O floor (cat) : {t_floor:.3f} s  -> venvaudit is {t_va/t_floor:.2f}x the floor (target <= 2x)")
print(f"pip list        : {pip_per*1000:.0f} ms per venv (sample {sample:.0f}) -> venvaudit is {pip_per/va_per:.0f}x faster per venv (target >= 100x)")
print(f"peak RSS        : {rss:.1f} MB (target < 100 MB)")
PY
