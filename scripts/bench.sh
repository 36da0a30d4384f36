#!/usr/bin/env bash
# Benchmark venvaudit against its floors and against uv/pip on a fleet of FULL venvs.
#
# Not a test: the figures go in README ("Performance"). Prints one markdown table, in one run:
#   - facts over the fleet vs the METADATA floor (cat of every */site-packages/*.dist-info/METADATA
#     found by glob: no walk);
#   - facts of one venv vs `uv pip list --format json` and `pip list --format=json`;
#   - check over the fleet, whole and per family, vs the walk floor `find ROOT -perm /022`
#     (permissions, whole check) and vs reading only ELF headers (extensions: the same
#     *.so* files, found by `find`, each opened and its ELF header, program headers and
#     PT_DYNAMIC segment pread by a 60-line C reader compiled here), and extensions vs `cat`
#     of every METADATA and RECORD (what it reads instead of walking);
#   - check --verify (integrity) of VERIFY_VENVS venvs vs sha256sum of the same RECORD-listed files;
#   - the OSV load (vulnerabilities on one venv with the OSV zip) vs `unzip -p` of that zip;
#   - check-artifact of a wheelhouse (the template's distributions as wheels, downloaded once)
#     vs `unzip -tq` of the same wheels, sequential and parallel (xargs -P nproc), and of a
#     wheel holding a 2 GiB .so (deflated zero padding after a real small .so) vs `unzip -tq`
#     of that wheel (target: peak RSS < 64 MiB);
#   - the peak RSS of each (GNU time).
#
# The fleet (built once under $BENCH_DIR, default target/bench-fleet): FLEET venvs (default 300),
# hard-linked copies (cp -al) of one template venv holding the full code of ~110 real
# distributions: a copy of the tools venv (.tools/venv: ansible-core, salt, cryptography,
# pydantic-core, pyzmq, ...) plus numpy, pillow, psycopg2-binary and Django installed by uv from
# the offline wheelhouse (.tools/wheels), and a sparse 3 GiB shared object with valid ELF headers
# (lib-big/libbig.so.1, CUDA-sized) so every run has a > 2 GiB .so present.
#
# Knobs: FLEET (venvs, default 300), REPS (timed runs, best kept; default 3), VERIFY_VENVS
# (default 2), BENCH_DIR, OSV_ZIP (default ../shared/osv-pypi.zip), NICE (default 10),
# ONLY (one section alone: `fleet` = every row but the artefact ones, `artifact` = the
# check-artifact rows only, without building the fleet; default both), e.g.
#   ONLY=artifact REPS=3 scripts/bench.sh
# The artefact section caches under $BENCH_DIR: wheelhouse/ (pip download of
# `pip freeze --all` of the template, --no-deps --only-binary :all:, from .tools/wheels when
# there, else from the index; a distribution without a wheel is skipped and listed in
# wheelhouse.skipped) and bigso/ (the 2 GiB-member wheel); each has a stamp file.
# Every command runs once untimed first (warm cache), then REPS times.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
FLEET=${FLEET:-300}
REPS=${REPS:-3}
VERIFY_VENVS=${VERIFY_VENVS:-2}
NICE=${NICE:-10}
BENCH_DIR=${BENCH_DIR:-$REPO/target/bench-fleet}
OSV_ZIP=${OSV_ZIP:-$REPO/../shared/osv-pypi.zip}
ONLY=${ONLY:-}
case $ONLY in '' | fleet | artifact) ;; *) echo "bench: ONLY must be fleet or artifact" >&2; exit 2 ;; esac
# want SECTION: whether that section runs.
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
# Bump when the template recipe changes.
RECIPE=3

scripts/setup.sh >&2
# shellcheck disable=SC1091
source .tools/env.sh
cargo build --release --quiet
BIN=$REPO/target/release/venvaudit
[ -x /usr/bin/time ] || { echo "bench: GNU time (/usr/bin/time) is needed for peak RSS" >&2; exit 1; }

# ---------------------------------------------------------------- template venv
TEMPLATE=$BENCH_DIR/template
if [ "$(cat "$TEMPLATE/.complete" 2>/dev/null)" != "$RECIPE" ]; then
  rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
  cp -a "$VENVAUDIT_TOOLS_VENV" "$TEMPLATE"
  uv pip install --quiet --python "$TEMPLATE/bin/python" --offline --no-index --find-links "$REPO/.tools/wheels" \
    numpy pillow psycopg2-binary 'django==4.2.16' >&2
  sp=$(cd "$TEMPLATE" && ls -d lib/python3*/site-packages)
  mkdir -p "$TEMPLATE/$sp/lib-big"
  printf 'int big(void) { return 42; }\n' > "$BENCH_DIR/big.c"
  cc -shared -fPIC -o "$TEMPLATE/$sp/lib-big/libbig.so.1" "$BENCH_DIR/big.c"
  # Sparse: the headers stay where they are, the file is 3 GiB.
  truncate -s 3G "$TEMPLATE/$sp/lib-big/libbig.so.1"
  echo "$RECIPE" > "$TEMPLATE/.complete"
fi
SP=$(cd "$TEMPLATE" && ls -d lib/python3*/site-packages)

# ---------------------------------------------------------------- measuring
# measure CMD...: one warm-up run, then REPS runs; prints "best_wall_s max_rss_mib" (wall time
# by the shell's clock, peak RSS of the command by GNU time).
measure() {
  local best="" rss=0 t m
  nice -n "$NICE" "$@" >/dev/null 2>&1 || true
  for ((r = 0; r < REPS; r++)); do
    local t0=$EPOCHREALTIME
    nice -n "$NICE" /usr/bin/time -o "$BENCH_DIR/time.out" -f '%M' "$@" >/dev/null 2>&1 || true
    t=$(awk "BEGIN{printf \"%.3f\", $EPOCHREALTIME - $t0}")
    m=$(tail -n1 "$BENCH_DIR/time.out")
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    if [ "$m" -gt "$rss" ]; then rss=$m; fi
  done
  echo "$best $((rss / 1024))"
}
ROWS=()
row() { # row LABEL FLOOR_LABEL "t rss" "t rss" [target note]
  local label=$1 floor=$2 a=$3 b=$4 note=${5:-}
  read -r ta ra <<<"$a"; read -r tb rb <<<"$b"
  local ratio
  ratio=$(awk "BEGIN{ if ($tb > 0) printf \"%.2f\", $ta / $tb; else print \"-\" }")
  ROWS+=("| $label | $ta | $ra | $floor | $tb | $rb | ${ratio}x | $note |")
}

# The whole check loads the OSV database as a real gate does.
if [ -f "$OSV_ZIP" ]; then export VENVAUDIT_OSV_DB=$OSV_ZIP; else export VENVAUDIT_OSV_DB=""; fi

if want fleet; then # ------------------------------------------ the fleet section (to its "fi")

# ---------------------------------------------------------------- fleet of hard-linked copies
FLEET_DIR=$BENCH_DIR/fleet
mkdir -p "$FLEET_DIR"
have=$(find "$FLEET_DIR" -mindepth 2 -maxdepth 2 -type d 2>/dev/null | wc -l)
if [ "$have" -gt "$FLEET" ]; then rm -rf "$FLEET_DIR"; have=0; fi
for ((n = have; n < FLEET; n++)); do
  dir="$FLEET_DIR/team$((n / 50))/app$n"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"; cp -al "$TEMPLATE" "$dir"
done
ONE=$FLEET_DIR/team0/app0
DISTS=$(printf '%s\n' "$FLEET_DIR"/*/*/"$SP"/*.dist-info | wc -l)
FILES=$(find "$ONE" | wc -l)

# ---------------------------------------------------------------- floors' helpers
ELFHDR=$BENCH_DIR/elfhdr
if [ ! -x "$ELFHDR" ]; then
  cat > "$BENCH_DIR/elfhdr.c" <<'C'
/* Floor for the extensions check: for each NUL-separated path on stdin, pread the ELF header,
   the program headers and the PT_DYNAMIC segment (64-bit ELF), nothing else. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  char path[8192]; size_t n = 0; int c; unsigned long dyn = 0;
  static char buf[1 << 16];
  while ((c = getchar()) != EOF) {
    if (c) { if (n < sizeof path - 1) path[n++] = (char)c; continue; }
    path[n] = 0; n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) == sizeof eh && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phnum < 512) {
      Elf64_Phdr ph[512];
      size_t sz = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
      if (pread(fd, ph, sz, (off_t)eh.e_phoff) == (ssize_t)sz)
        for (int i = 0; i < eh.e_phnum; i++)
          if (ph[i].p_type == PT_DYNAMIC) {
            size_t d = ph[i].p_filesz < sizeof buf ? ph[i].p_filesz : sizeof buf;
            if (pread(fd, buf, d, (off_t)ph[i].p_offset) > 0) dyn += d;
          }
    }
    close(fd);
  }
  printf("%lu\n", dyn);
  return 0;
}
C
  cc -O2 -o "$ELFHDR" "$BENCH_DIR/elfhdr.c"
fi

# The files RECORD lists for the first VERIFY_VENVS venvs (what --verify hashes).
VERIFY_SET=()
for ((n = 0; n < VERIFY_VENVS && n < FLEET; n++)); do VERIFY_SET+=("$FLEET_DIR/team$((n / 50))/app$n"); done
RECORD_FILES=$BENCH_DIR/record-files
python3 - "$SP" "${VERIFY_SET[@]}" > "$RECORD_FILES" <<'PY'
import csv, os, sys
sp = sys.argv[1]
for venv in sys.argv[2:]:
    base = os.path.join(venv, sp)
    for d in sorted(os.listdir(base)):
        rec = os.path.join(base, d, "RECORD")
        if not d.endswith(".dist-info") or not os.path.isfile(rec):
            continue
        with open(rec, newline="") as f:
            for row in csv.reader(f):
                if len(row) >= 2 and row[1]:
                    p = os.path.normpath(os.path.join(base, row[0]))
                    if os.path.isfile(p):
                        sys.stdout.write(p + "\0")
PY
VERIFY_BYTES=$(python3 -c "import os,sys; print(sum(os.path.getsize(p) for p in open(sys.argv[1]).read().split('\0') if p))" "$RECORD_FILES")

FACTS=$(measure "$BIN" facts --format json "$FLEET_DIR")
META=$(measure sh -c "printf '%s\0' '$FLEET_DIR'/*/*/'$SP'/*.dist-info/METADATA | xargs -0 cat")
row "facts, fleet" "cat METADATA (glob)" "$FACTS" "$META" "<= 1.3x"

ONE_FACTS=$(measure "$BIN" facts --format json "$ONE")
UV=$(measure uv pip list --format json --python "$ONE/bin/python")
PIP=$(measure "$ONE/bin/python" -m pip list --format=json --disable-pip-version-check)
row "facts, one venv" "uv pip list --format json" "$ONE_FACTS" "$UV" "<= 1.0x"
row "facts, one venv" "pip list --format=json" "$ONE_FACTS" "$PIP" ""

PERM_FLOOR=$(measure find "$FLEET_DIR" -perm /022)
CHECK=$(measure "$BIN" check --format json "$FLEET_DIR")
row "check (all families), fleet" "find -perm /022" "$CHECK" "$PERM_FLOOR" "<= 1.3x"
PERMS=$(measure "$BIN" check --check permissions --format json "$FLEET_DIR")
row "check permissions, fleet" "find -perm /022" "$PERMS" "$PERM_FLOOR" ""
ELF_FLOOR=$(measure sh -c "find '$FLEET_DIR' -type f -name '*.so*' -print0 | '$ELFHDR'")
EXT=$(measure "$BIN" check --check extensions --format json "$FLEET_DIR")
row "check extensions, fleet" "find + pread ELF headers" "$EXT" "$ELF_FLOOR" "<= 1 s"
# What the family reads instead of walking: every METADATA (facts) and RECORD (the shared
# objects they list, and the top-level names they claim).
META_RECORD=$(measure sh -c "printf '%s\0' '$FLEET_DIR'/*/*/'$SP'/*.dist-info/METADATA '$FLEET_DIR'/*/*/'$SP'/*.dist-info/RECORD | xargs -0 cat")
row "check extensions, fleet" "cat METADATA + RECORD (glob)" "$EXT" "$META_RECORD" ""
# A module that fails to load in every venv: the import graph is then read (every top-level
# package's __init__.py and what they import, across the ~110 distributions). The module is a
# plugin nothing imports (a warning), so the whole graph is built. Floor: METADATA, RECORD
# and the top-level packages' __init__.py (the least the graph reads; it reads more: the
# modules those import).
BROKEN_DIR=$BENCH_DIR/fleet-failing
if [ "$(cat "$BROKEN_DIR/.complete" 2>/dev/null)" != "$RECIPE-$FLEET" ]; then
  rm -rf "$BROKEN_DIR"; mkdir -p "$BROKEN_DIR"
  tag=$(cd "$TEMPLATE/$SP" && ls -d */*.cpython-3*-*.so | head -n1 | sed 's/.*\.\(cpython-[^.]*\)\.so$/\1/')
  printf 'void gone(void) {}\n' > "$BENCH_DIR/gone.c"
  cc -shared -fPIC -Wl,-soname,libvabenchgone.so.1 -o "$BENCH_DIR/libvabenchgone.so.1" "$BENCH_DIR/gone.c"
  printf 'extern void gone(void);\nvoid PyInit__plugin(void) { gone(); }\n' > "$BENCH_DIR/plugin.c"
  mkdir -p "$BENCH_DIR/plugin"
  cc -shared -fPIC -Wl,--no-as-needed -o "$BENCH_DIR/plugin/_plugin.$tag.so" "$BENCH_DIR/plugin.c" "$BENCH_DIR/libvabenchgone.so.1"
  rm "$BENCH_DIR/libvabenchgone.so.1"
  for ((n = 0; n < FLEET; n++)); do
    dir="$BROKEN_DIR/team$((n / 50))/app$n"
    mkdir -p "$(dirname "$dir")"
    cp -al "$TEMPLATE" "$dir"
    mkdir -p "$dir/$SP/zz_plugins"
    ln "$BENCH_DIR/plugin/_plugin.$tag.so" "$dir/$SP/zz_plugins/_plugin.$tag.so"
  done
  echo "$RECIPE-$FLEET" > "$BROKEN_DIR/.complete"
fi
EXT_FAILING=$(measure "$BIN" check --check extensions --format json "$BROKEN_DIR")
META_RECORD_INIT=$(measure sh -c "printf '%s\0' '$BROKEN_DIR'/*/*/'$SP'/*.dist-info/METADATA '$BROKEN_DIR'/*/*/'$SP'/*.dist-info/RECORD '$BROKEN_DIR'/*/*/'$SP'/*/__init__.py | xargs -0 cat")
row "check extensions, fleet, a failing module per venv (import graph read)" "cat METADATA + RECORD + top-level __init__.py" "$EXT_FAILING" "$META_RECORD_INIT" "<= 1.3x"
row "check extensions, fleet, a failing module per venv" "the same, healthy fleet" "$EXT_FAILING" "$EXT" ""
for fam in interpreter eol vulnerabilities dependencies usage forbidden mod-wsgi uwsgi; do
  F=$(measure "$BIN" check --check "$fam" --format json "$FLEET_DIR")
  row "check $fam, fleet" "cat METADATA (glob)" "$F" "$META" ""
done

SHA=$(measure sh -c "xargs -0 sha256sum < '$RECORD_FILES'")
VERIFY=$(measure "$BIN" check --check integrity --verify --format json "${VERIFY_SET[@]}")
row "check --verify, $VERIFY_VENVS venvs ($((VERIFY_BYTES / 1048576)) MiB)" "sha256sum same files" "$VERIFY" "$SHA" "<= 1.25x (>= 80% throughput)"

if [ -f "$OSV_ZIP" ]; then
  OSV=$(measure "$BIN" check --check vulnerabilities --osv-db "$OSV_ZIP" --format json "$ONE")
  UNZIP=$(measure unzip -p "$OSV_ZIP")
  row "OSV load + vulnerabilities, one venv" "unzip -p of the zip" "$OSV" "$UNZIP" ""
else
  ROWS+=("| OSV load | - | - | $OSV_ZIP missing | - | - | - | |")
fi
fi # want fleet

if want artifact; then # --------------------------------------- the artefact section (to its "fi")
# check-artifact reads wheels as zips, never extracting them: a wheelhouse of the template's own
# distributions against the floor of testing the same zips (`unzip -tq` inflates every member
# and checks its CRC, what any reader of whole wheels does at least), and a wheel whose member
# is a 2 GiB shared object (only its ELF headers need inflating). Like the fleet rows, it loads
# the OSV database ($VENVAUDIT_OSV_DB) as a real gate does.
# Bump when the wheelhouse or the big wheel recipe changes.
ART_RECIPE=1
WHEELHOUSE=$BENCH_DIR/wheelhouse
if [ "$(cat "$WHEELHOUSE.complete" 2>/dev/null)" != "$RECIPE-$ART_RECIPE" ]; then
  rm -rf "$WHEELHOUSE" "$WHEELHOUSE.tmp"; mkdir -p "$WHEELHOUSE.tmp"
  "$TEMPLATE/bin/python" -m pip freeze --all --disable-pip-version-check > "$WHEELHOUSE.freeze"
  : > "$WHEELHOUSE.skipped"
  # The template's own Python picks the wheels, so their tags fit it: from the offline
  # wheelhouse when it has the pin, else from the index; a distribution with no wheel for that
  # Python is left out and listed.
  dl=("$TEMPLATE/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all:
    --dest "$WHEELHOUSE.tmp")
  while read -r req; do
    case $req in '' | '#'* | -*) continue ;; esac
    "${dl[@]}" --no-index --find-links "$REPO/.tools/wheels" "$req" </dev/null >/dev/null 2>&1 ||
      "${dl[@]}" "$req" </dev/null >/dev/null 2>&1 || {
      echo "$req" >> "$WHEELHOUSE.skipped"
      echo "bench: no wheel of $req for the template's Python: left out of the wheelhouse" >&2
    }
  done < "$WHEELHOUSE.freeze"
  mv "$WHEELHOUSE.tmp" "$WHEELHOUSE"
  echo "$RECIPE-$ART_RECIPE" > "$WHEELHOUSE.complete"
fi
WH_WHEELS=$(find "$WHEELHOUSE" -maxdepth 1 -name '*.whl' | wc -l)
WH_BYTES=$(find "$WHEELHOUSE" -maxdepth 1 -name '*.whl' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
WH_SKIPPED=$(paste -sd' ' "$WHEELHOUSE.skipped")

# A wheel whose bigso/libbig.so is a real small shared object followed by zero padding to
# 2 GiB, deflated (zip64), streamed into the zip in 1 MiB pieces, with METADATA, WHEEL and a
# RECORD of true hashes.
BIGSO=$BENCH_DIR/bigso
BIGSO_WHEEL=$BIGSO/bigso-1.0-py3-none-any.whl
if [ "$(cat "$BIGSO.complete" 2>/dev/null)" != "$RECIPE-$ART_RECIPE" ]; then
  rm -rf "$BIGSO"; mkdir -p "$BIGSO"
  printf 'int big(void) { return 42; }\n' > "$BENCH_DIR/bigso.c"
  cc -shared -fPIC -o "$BENCH_DIR/bigso.so" "$BENCH_DIR/bigso.c"
  "$VENVAUDIT_TOOLS_VENV/bin/python" - "$BENCH_DIR/bigso.so" "$BIGSO_WHEEL" $((2 << 30)) <<'PY'
import base64, hashlib, os, sys, zipfile

so_path, out, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
so = open(so_path, "rb").read()
zeros = bytes(1 << 20)
record = []


def digest(h):
    return "sha256=" + base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()


with zipfile.ZipFile(out + ".tmp", "w", compression=zipfile.ZIP_DEFLATED) as z:

    def small(name, data):
        z.writestr(name, data)
        record.append(f"{name},{digest(hashlib.sha256(data))},{len(data)}")

    small("bigso/__init__.py", b"")
    info = zipfile.ZipInfo("bigso/libbig.so", date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o755 << 16
    h = hashlib.sha256(so)
    with z.open(info, "w", force_zip64=True) as f:
        f.write(so)
        left = total - len(so)
        while left:
            piece = zeros[: min(left, len(zeros))]
            f.write(piece)
            h.update(piece)
            left -= len(piece)
    record.append(f"bigso/libbig.so,{digest(h)},{total}")
    small("bigso-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: bigso\nVersion: 1.0\n")
    small(
        "bigso-1.0.dist-info/WHEEL",
        b"Wheel-Version: 1.0\nGenerator: venvaudit-bench\nRoot-Is-Purelib: false\nTag: py3-none-any\n",
    )
    record.append("bigso-1.0.dist-info/RECORD,,")
    z.writestr("bigso-1.0.dist-info/RECORD", "\n".join(record) + "\n")
os.rename(out + ".tmp", out)
PY
  echo "$RECIPE-$ART_RECIPE" > "$BIGSO.complete"
fi

# What one run of check-artifact reported (so a fast row is seen not to be an early stop).
artifact_summary() {
  local status=0
  "$BIN" check-artifact "$1" --target-python "$TEMPLATE/bin/python" --format json > "$BENCH_DIR/artifact.json" \
    2>/dev/null || status=$?
  python3 - "$BENCH_DIR/artifact.json" "$status" <<'PY'
import json, sys

try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"exit {sys.argv[2]}, no JSON report ({e})")
    raise SystemExit
arts = r.get("artifacts") or ([r["artifact"]] if isinstance(r.get("artifact"), dict) else [])
selected = sum(len(a.get("selected") or []) for a in arts)
findings = r.get("findings") or [f for v in r.get("venvs") or [] for f in v.get("findings") or []]
print(f"exit {sys.argv[2]}, {selected} wheels selected, {len(findings)} findings, {len(r.get('errors') or [])} errors")
PY
}

ART=$(measure "$BIN" check-artifact "$WHEELHOUSE" --target-python "$TEMPLATE/bin/python" --format json)
# shellcheck disable=SC2016 # $1 is the inner shell's
UNZIP_PAR=$(measure sh -c 'printf "%s\0" "$1"/*.whl | xargs -0 -P"$(nproc)" -n1 unzip -tq' sh "$WHEELHOUSE")
# shellcheck disable=SC2016 # $1 is the inner shell's
UNZIP_SEQ=$(measure sh -c 'for w in "$1"/*.whl; do unzip -tq "$w" || exit 1; done' sh "$WHEELHOUSE")
WH_LABEL="check-artifact, wheelhouse ($WH_WHEELS wheels, $((WH_BYTES / 1048576)) MiB)"
row "$WH_LABEL" "unzip -tq, parallel (xargs -P$(nproc))" "$ART" "$UNZIP_PAR" "<= 1.0x"
row "$WH_LABEL" "unzip -tq, sequential" "$ART" "$UNZIP_SEQ" ""
BIG=$(measure "$BIN" check-artifact "$BIGSO" --target-python "$TEMPLATE/bin/python" --format json)
BIG_UNZIP=$(measure unzip -tq "$BIGSO_WHEEL")
row "check-artifact, one wheel with a 2 GiB .so member ($(($(stat -c %s "$BIGSO_WHEEL") / 1024)) KiB zip)" \
  "unzip -tq of that wheel" "$BIG" "$BIG_UNZIP" "peak RSS < 64 MiB"
WH_RUN=$(artifact_summary "$WHEELHOUSE")
BIG_RUN=$(artifact_summary "$BIGSO")
fi # want artifact

echo
echo "venvaudit $("$BIN" --version | awk '{print $2}'), $(date -u +%F), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load $(cut -d' ' -f1-3 /proc/loadavg), nice $NICE, best of $REPS"
if want fleet; then
  echo "fleet: $FLEET venvs, $DISTS distributions, $FILES paths per venv, one 3 GiB sparse .so per venv (hard links)"
fi
if want artifact; then
  echo "wheelhouse: $WH_WHEELS wheels of the template's distributions, $WH_BYTES bytes; left out (no wheel for its Python): ${WH_SKIPPED:-none}; check-artifact: $WH_RUN"
  echo "2 GiB member: $(stat -c %s "$BIGSO_WHEEL") bytes of zip; check-artifact: $BIG_RUN; bytes inflated: not reported by the binary"
fi
echo
echo "| what | s | peak MiB | floor / reference | s | peak MiB | ratio | target |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
