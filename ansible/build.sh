#!/usr/bin/env bash
# Build the Ansible collection venvaudit.python:
#   1. the venvaudit binary for glibc >= 2.17 (x86_64):
#        cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.17
#      (zig and cargo-zigbuild come from the PyPI packages ziglang and cargo-zigbuild);
#   2. the check that it needs no GLIBC_ symbol version above 2.17, with venvaudit's own ELF
#      reader (`cargo test --test ansible_glibc -- --include-ignored`);
#   3. a copy of the collection in target/ansible/collection with files/venvaudit = that binary
#      and plugins/modules/venv_facts and venv_check symlinks to it;
#   4. ansible-galaxy collection build -> target/ansible/venvaudit-python-VERSION.tar.gz.
#
# Environment knobs (all optional):
#   VENVAUDIT_TOOLS_VENV  Python venv with ziglang, cargo-zigbuild and ansible-core
#                         (default: .tools/venv made by scripts/setup.sh)
#   VENVAUDIT_MODULE_BINARY  use this already-built binary instead of the zig build (tests use a
#                         debug build this way); the glibc check is then skipped.
#   VENVAUDIT_OUT         output directory for the tarball (default: target/ansible)
#
# The zig build is slow (minutes on 2 cores) and cargo makes it incremental: a second run with
# no source change only relinks nothing and reuses the binary.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COLL="$REPO/ansible"
TOOLS_VENV="${VENVAUDIT_TOOLS_VENV:-$REPO/.tools/venv}"
OUT="${VENVAUDIT_OUT:-$REPO/target/ansible}"
TARGET=x86_64-unknown-linux-gnu
GLIBC=2.17

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

if [[ -n "${VENVAUDIT_MODULE_BINARY:-}" ]]; then
    binary="$VENVAUDIT_MODULE_BINARY"
    [[ -x "$binary" ]] || die "VENVAUDIT_MODULE_BINARY=$binary is not executable"
    log "using prebuilt $binary (no glibc $GLIBC check)"
else
    zigbuild="$(tool cargo-zigbuild)"
    python="$(tool python3)"
    # cargo-zigbuild runs `zig`; the ziglang wheel provides it as `python -m ziglang`.
    zigbin="$(mktemp -d "${TMPDIR:-/tmp}/venvaudit-zig.XXXXXX")"
    trap 'rm -rf "$zigbin"' EXIT
    printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$python" >"$zigbin/zig"
    chmod 755 "$zigbin/zig"
    # The host target's standard library is all the build needs; nothing is downloaded.
    rustup target list --installed 2>/dev/null | grep -qx "$TARGET" ||
        die "rust target $TARGET is not installed"
    log "cargo zigbuild --release --target $TARGET.$GLIBC"
    (cd "$REPO" && PATH="$zigbin:$PATH" "$zigbuild" zigbuild --release --locked --target "$TARGET.$GLIBC")
    binary="$REPO/target/$TARGET/release/venvaudit"
    log "checking $binary needs no GLIBC_ version above $GLIBC"
    (cd "$REPO" && VENVAUDIT_GLIBC_CHECK_BINARY="$binary" VENVAUDIT_GLIBC_MAX="$GLIBC" \
        cargo test --quiet --test ansible_glibc -- --include-ignored --nocapture)
fi

# The collection is assembled in $OUT/collection, never in the source tree: one copy of the
# binary in files/venvaudit, and the two modules as relative symlinks to it (ansible-galaxy keeps
# symlinks that stay inside the collection). Symlinks also keep `ansible-doc -l` from reading
# the ELF file as a documentation source: it skips symlinked plugins and lists the .py stubs;
# with two regular files per module it drops whichever module its directory listing happens
# to name after the stub ("documentation formatting error ... utf-8"). Not bin/: ansible-test
# sanity compiles everything below bin/ as Python.
stage="$OUT/collection"
rm -rf "$stage"
mkdir -p "$stage"
cp -a "$COLL/." "$stage/"
rm -f "$stage/plugins/modules/venv_facts" "$stage/plugins/modules/venv_check" "$stage/files/venvaudit"
install -D -m 755 "$binary" "$stage/files/venvaudit"
for m in venv_facts venv_check; do
    ln -s ../../files/venvaudit "$stage/plugins/modules/$m"
done

mkdir -p "$OUT"
log "ansible-galaxy collection build -> $OUT"
"$(tool ansible-galaxy)" collection build --force --output-path "$OUT" "$stage" >&2
ls "$OUT"/venvaudit-python-"$coll_version".tar.gz
