#!/usr/bin/env bash
# Build the Ansible collection venvaudit.python:
#   1. the venvaudit binary for glibc >= 2.17, once per architecture:
#        cargo zigbuild --release --target ARCH-unknown-linux-gnu.2.17
#      (zig and cargo-zigbuild come from the PyPI packages ziglang and cargo-zigbuild);
#   2. the check that each needs no GLIBC_ symbol version above 2.17, with venvaudit's own ELF
#      reader (`cargo test --test ansible_glibc -- --include-ignored`);
#   3. a copy of the collection in $OUT/collection with files/venvaudit-linux-ARCH = those
#      binaries (the action plugins, plugins/action/*.py, pick one by the
#      target's machine) and the licence files;
#   4. every `choices:` of the modules' documentation (plugins/modules/*.py) written into that
#      copy from the binary's own argument spec (`NAME --argspec` of the build host's binary):
#      the check families are Family::NAMES, never a hand-kept list; an option documented with
#      choices the binary does not have, or the reverse, fails the build;
#   5. ansible-galaxy collection build -> $OUT/venvaudit-python-VERSION.tar.gz.
# scripts/release.sh runs this and packs the same binaries into its other artefacts.
#
# Environment knobs (all optional):
#   VENVAUDIT_ARCHS       architectures to build, space-separated (default: x86_64, plus
#                         aarch64 when its Rust standard library is installed: rustup's
#                         (`rustup target add aarch64-unknown-linux-gnu`) or Debian's
#                         (libstd-rust-web-dev:arm64, which scripts/setup.sh installs; such a
#                         target is built with Debian's own /usr/bin/rustc, since rustup's rustc
#                         cannot use another compiler's standard library).
#                         An architecture whose Rust standard library is missing is an error.
#   VENVAUDIT_TOOLS_VENV  Python venv with ziglang, cargo-zigbuild and ansible-core
#                         (default: .tools/venv made by scripts/setup.sh)
#   VENVAUDIT_MODULE_BINARY  use this already-built binary, for the build host's architecture
#                         only, instead of the zig build (tests use a debug build this way); the
#                         glibc check is then skipped.
#   VENVAUDIT_OUT         output directory for the tarball (default: target/ansible)
#
# The zig build is slow (minutes on 2 cores) and cargo makes it incremental: a second run with
# no source change only relinks nothing and reuses the binary.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COLL="$REPO/ansible"
TOOLS_VENV="${VENVAUDIT_TOOLS_VENV:-$REPO/.tools/venv}"
OUT="${VENVAUDIT_OUT:-$REPO/target/ansible}"
GLIBC=2.17
# Architectures the build knows (Rust target ARCH-unknown-linux-gnu).
KNOWN_ARCHS=(x86_64 aarch64)

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { printf 'build.sh: ERROR: %s\n' "$*" >&2; exit 1; }

tool() {
    # A tool from the tools venv, else from PATH.
    if [[ -x "$TOOLS_VENV/bin/$1" ]]; then printf '%s\n' "$TOOLS_VENV/bin/$1"; return; fi
    command -v "$1" || die "$1 not found (run scripts/setup.sh or set VENVAUDIT_TOOLS_VENV)"
}

# The collection version must be the crate version: the module reports it as tool.version.
crate_version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n1)"
coll_version="$(sed -n 's/^version: *//p' "$COLL/galaxy.yml" | head -n1)"
[[ "$crate_version" == "$coll_version" ]] ||
    die "galaxy.yml version $coll_version differs from Cargo.toml version $crate_version"

# shellcheck source=../scripts/rust-toolchain.sh
. "$REPO/scripts/rust-toolchain.sh"
if [[ -n "${VENVAUDIT_ARCHS:-}" ]]; then
    read -r -a archs <<<"$VENVAUDIT_ARCHS"
else
    archs=()
    for a in "${KNOWN_ARCHS[@]}"; do
        if rustc_for_arch "$a" >/dev/null; then
            archs+=("$a")
        fi
    done
fi

python="$(tool python3)"
declare -A binaries=()
if [[ -n "${VENVAUDIT_MODULE_BINARY:-}" ]]; then
    [[ -x "$VENVAUDIT_MODULE_BINARY" ]] || die "VENVAUDIT_MODULE_BINARY=$VENVAUDIT_MODULE_BINARY is not executable"
    binaries["$(uname -m)"]="$VENVAUDIT_MODULE_BINARY"
    log "using prebuilt $VENVAUDIT_MODULE_BINARY for $(uname -m) (no glibc $GLIBC check)"
else
    zigbuild="$(tool cargo-zigbuild)"
    # cargo-zigbuild runs `zig`; the ziglang wheel provides it as `python -m ziglang`.
    zigbin="$(mktemp -d "${TMPDIR:-/tmp}/venvaudit-zig.XXXXXX")"
    trap 'rm -rf "$zigbin"' EXIT
    printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$python" >"$zigbin/zig"
    chmod 755 "$zigbin/zig"
    for arch in "${archs[@]}"; do
        target="$arch-unknown-linux-gnu"
        # The target's standard library is all the build needs; nothing is downloaded.
        rustc="$(rustc_for_arch "$arch")" ||
            die "no Rust standard library for $target: run scripts/setup.sh (it installs Debian's, libstd-rust-web-dev:arm64 for aarch64) or rustup target add $target, or leave $arch out of VENVAUDIT_ARCHS"
        log "cargo zigbuild --release --target $target.$GLIBC${rustc:+ (RUSTC=$rustc)}"
        (cd "$REPO" && env PATH="$zigbin:$PATH" ${rustc:+RUSTC="$rustc"} "$zigbuild" zigbuild --release --locked --target "$target.$GLIBC")
        binary="$REPO/target/$target/release/venvaudit"
        log "checking $binary needs no GLIBC_ version above $GLIBC"
        (cd "$REPO" && VENVAUDIT_GLIBC_CHECK_BINARY="$binary" VENVAUDIT_GLIBC_MAX="$GLIBC" \
            VENVAUDIT_GLIBC_CHECK_ARCH="$arch" cargo test --quiet --test ansible_glibc -- --include-ignored --nocapture)
        binaries["$arch"]="$binary"
    done
fi

# The collection is assembled in $OUT/collection, never in the source tree: one binary per
# architecture in files/venvaudit-linux-ARCH, run by the action plugins (plugins/action), whose
# module names resolve to the documentation stubs plugins/modules/*.py for ansible-doc. Not
# bin/: ansible-test sanity compiles everything below bin/ as Python.
stage="$OUT/collection"
rm -rf "$stage"
mkdir -p "$stage"
cp -a "$COLL/." "$stage/"
rm -f "$stage"/files/venvaudit*
for arch in "${!binaries[@]}"; do
    install -D -m 755 "${binaries[$arch]}" "$stage/files/venvaudit-linux-$arch"
done
install -m 644 "$REPO/LICENSE-MIT" "$REPO/LICENSE-APACHE" "$stage/"

# The documented choices are the binary's: `NAME --argspec` prints module NAME's argument spec
# (src/frontends/ansible.rs), which takes its lists from the enums (Family::NAMES, ...).
host_binary="${binaries[$(uname -m)]:-}"
[[ -n "$host_binary" ]] ||
    die "no binary for this machine ($(uname -m)) to read the modules' argument specs from; add it to VENVAUDIT_ARCHS"
specs="$OUT/argspec"   # kept: each module's spec as NAME.json
rm -rf "$specs"
mkdir -p "$specs"
for stub in "$stage"/plugins/modules/*.py; do
    name="$(basename "$stub" .py)"
    ln -s "$host_binary" "$specs/$name"
    "$specs/$name" --argspec >"$specs/$name.json" ||
        die "$host_binary does not know the module $name (plugins/modules/$name.py)"
done
log "writing the documented choices from the binary's argument specs"
"$python" - "$stage/plugins/modules" "$specs" <<'PY' || die "the module documentation does not match the binary's argument specs"
import json, os, re, sys

modules, specs = sys.argv[1:3]
bad = []
for fn in sorted(os.listdir(modules)):
    if not fn.endswith(".py"):
        continue
    name = fn[:-3]
    with open(os.path.join(specs, name + ".json")) as f:
        spec = json.load(f)
    path = os.path.join(modules, fn)
    with open(path) as f:
        lines = f.read().split("\n")
    in_doc = in_options = False
    option, written = None, set()
    for i, line in enumerate(lines):
        if line.startswith("DOCUMENTATION = "):
            in_doc = True
        elif in_doc and line.startswith('"""'):
            in_doc = False
        elif in_doc and re.match(r"\S", line):
            in_options, option = line.rstrip() == "options:", None
        elif in_doc and in_options:
            m = re.match(r"  ([A-Za-z_]\w*):\s*$", line)
            if m:
                option = m.group(1)
            elif option and re.match(r"    choices:", line):
                choices = spec.get(option, {}).get("choices")
                if not choices:
                    bad.append("%s: option %s is documented with choices the binary does not have" % (fn, option))
                    continue
                # one item a line: a flow list of every check family passes pep8's 160 columns
                lines[i] = "    choices:\n" + "\n".join("      - " + json.dumps(c) for c in choices)
                written.add(option)
    for option, s in sorted(spec.items()):
        if s.get("choices") and option not in written:
            bad.append("%s: option %s has choices; document it with a `choices:` line" % (fn, option))
    with open(path, "w") as f:
        f.write("\n".join(lines))
for b in bad:
    print("build.sh: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

mkdir -p "$OUT"
log "ansible-galaxy collection build -> $OUT"
"$(tool ansible-galaxy)" collection build --force --output-path "$OUT" "$stage" >&2
ls "$OUT"/venvaudit-python-"$coll_version".tar.gz
