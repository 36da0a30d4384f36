#!/usr/bin/env bash
# Build every release artefact of venvaudit into target/dist/, with SHA256SUMS:
#
#   venvaudit-VERSION-ARCH-linux-gnu.tar.gz  binary (glibc >= 2.17), man pages, bash/zsh/fish
#                                            completions, README.md, LICENSE-MIT, LICENSE-APACHE
#   venvaudit_VERSION-1_DEBARCH.deb          the same files in Debian's places (dpkg-deb)
#   venvaudit-VERSION-py3-none-manylinux2014_ARCH.manylinux_2_17_ARCH.whl
#                                            the binary in a wheel (maturin, bindings = "bin"):
#                                            pipx/uv tool/pip put `venvaudit` on PATH
#   venvaudit-python-VERSION.tar.gz          the Ansible collection (ansible/build.sh), one
#                                            binary per architecture
#   saltext_venvaudit-VERSION.tar.gz, saltext_venvaudit-VERSION-py3-none-any.whl
#                                            the Salt extension (salt/extension); it depends
#                                            on the venvaudit wheel, one per architecture
#   venvaudit-salt-VERSION.tar.gz            the Salt file root (salt/ without the extension)
#                                            with venvaudit/files/venvaudit-linux-ARCH for
#                                            every architecture and their venvaudit/files/SHA256SUMS,
#                                            which salt://venvaudit (init.sls) installs by cpuarch
#
# One zig build per architecture serves the tarball, the .deb and the collection: this script
# runs ansible/build.sh (which builds and glibc-checks the binaries) and packs the binaries it
# put into the collection. maturin builds the wheel's binary itself (`--zig`, manylinux2014 =
# glibc 2.17) in its own target directory (target/maturin), so that neither build invalidates
# the other's cache. Man pages and completions come from the CLI definition
# (`venvaudit __generate-assets DIR`), so they never drift from --help.
#
# Architectures: VENVAUDIT_ARCHS (default on x86_64: "x86_64 aarch64", every release ships both;
# elsewhere this machine's). aarch64 is cross-built with Debian's rustc-web and its aarch64
# standard library, which scripts/setup.sh installs; without them this script stops before
# building anything and says so (VENVAUDIT_ARCHS=x86_64 builds this machine's alone). Checks run here: the glibc floor of each binary
# (ansible/build.sh), `auditwheel show` and `twine check` of the wheels, `antsibull-changelog
# lint` of the collection's changelog fragments, and `sha256sum -c SHA256SUMS`.
#
# Environment knobs (all optional): VENVAUDIT_ARCHS, VENVAUDIT_TOOLS_VENV (default .tools/venv),
# VENVAUDIT_DIST (default target/dist).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_VENV="${VENVAUDIT_TOOLS_VENV:-$REPO/.tools/venv}"
DIST="${VENVAUDIT_DIST:-$REPO/target/dist}"
BUILD="$REPO/target/release-build"

log() { printf 'release.sh: %s\n' "$*" >&2; }
die() { printf 'release.sh: ERROR: %s\n' "$*" >&2; exit 1; }
tool() {
    [[ -x "$TOOLS_VENV/bin/$1" ]] || die "$1 missing from $TOOLS_VENV (run scripts/setup.sh)"
    printf '%s\n' "$TOOLS_VENV/bin/$1"
}

started=$SECONDS
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n1)"
ext_version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/salt/extension/pyproject.toml" | head -n1)"
[[ "$ext_version" == "$version" ]] ||
    die "salt/extension/pyproject.toml version $ext_version differs from Cargo.toml version $version"
grep -q "\"venvaudit==$version\"" "$REPO/salt/extension/pyproject.toml" ||
    die "salt/extension/pyproject.toml must depend on venvaudit==$version"
# shellcheck source=rust-toolchain.sh
. "$REPO/scripts/rust-toolchain.sh"
export VENVAUDIT_ARCHS="${VENVAUDIT_ARCHS:-$(default_archs)}"
for arch in $VENVAUDIT_ARCHS; do
    rustc_for_arch "$arch" >/dev/null ||
        die "no Rust toolchain for $arch here: run scripts/setup.sh (it installs Debian's aarch64 cross toolchain: rustc-web, libstd-rust-web-dev:arm64), or set VENVAUDIT_ARCHS=$(uname -m) to build this machine's artefacts alone"
done
rm -rf "$DIST" "$BUILD"
mkdir -p "$DIST" "$BUILD"
# Every tarball's file times: the commit's (reproducible archives).
mtime="$(git -C "$REPO" log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)"

# ---------------------------------------------------------------- binaries + Ansible collection
log "ansible/build.sh (zig build per architecture, glibc check, collection)"
VENVAUDIT_OUT="$BUILD/ansible" VENVAUDIT_TOOLS_VENV="$TOOLS_VENV" "$REPO/ansible/build.sh" >/dev/null
cp "$BUILD/ansible/venvaudit-python-$version.tar.gz" "$DIST/"
files="$BUILD/ansible/collection/files"
read -r -a archs <<<"$VENVAUDIT_ARCHS"
for arch in "${archs[@]}"; do
    [[ -x "$files/venvaudit-linux-$arch" ]] || die "ansible/build.sh built no binary for $arch"
done
log "architectures: ${archs[*]}"
(cd "$REPO/ansible" && "$(tool antsibull-changelog)" lint) || die "antsibull-changelog lint failed"

# ---------------------------------------------------------------- man pages and completions
host_bin="$files/venvaudit-linux-$(uname -m)"
[[ -x "$host_bin" ]] || die "no binary for this machine ($(uname -m)) to generate the man pages with"
"$host_bin" __generate-assets "$BUILD/assets"

# ---------------------------------------------------------------- tarball and .deb per architecture
deb_arch() {
    case "$1" in
        x86_64) echo amd64 ;;
        aarch64) echo arm64 ;;
        *) die "no Debian architecture name known for $1" ;;
    esac
}
for arch in "${archs[@]}"; do
    name="venvaudit-$version-$arch-linux-gnu"
    t="$BUILD/tar/$name"
    mkdir -p "$t"
    install -m 755 "$files/venvaudit-linux-$arch" "$t/venvaudit"
    cp -r "$BUILD/assets/man" "$BUILD/assets/completions" "$t/"
    install -m 644 "$REPO/README.md" "$REPO/LICENSE-MIT" "$REPO/LICENSE-APACHE" "$t/"
    # Reproducible: sorted names, root-owned, the commit's time.
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" -C "$BUILD/tar" -czf "$DIST/$name.tar.gz" "$name"

    darch="$(deb_arch "$arch")"
    d="$BUILD/deb/$arch"
    install -D -m 755 "$files/venvaudit-linux-$arch" "$d/usr/bin/venvaudit"
    mkdir -p "$d/usr/share/man/man1"
    for m in "$BUILD/assets/man"/*.1; do gzip -9n -c "$m" >"$d/usr/share/man/man1/${m##*/}.gz"; done
    install -D -m 644 "$BUILD/assets/completions/venvaudit.bash" "$d/usr/share/bash-completion/completions/venvaudit"
    install -D -m 644 "$BUILD/assets/completions/_venvaudit" "$d/usr/share/zsh/vendor-completions/_venvaudit"
    install -D -m 644 "$BUILD/assets/completions/venvaudit.fish" "$d/usr/share/fish/vendor_completions.d/venvaudit.fish"
    install -D -m 644 "$REPO/README.md" "$d/usr/share/doc/venvaudit/README.md"
    {
        printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n'
        printf 'Upstream-Name: venvaudit\nSource: https://github.com/venvaudit/venvaudit\n\n'
        printf 'Files: *\nCopyright: The venvaudit authors\nLicense: MIT or Apache-2.0\n\n'
        printf 'License: MIT\n'; sed 's/^$/./; s/^/ /' "$REPO/LICENSE-MIT"; printf '\n'
        printf 'License: Apache-2.0\n On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.\n'
    } >"$d/usr/share/doc/venvaudit/copyright"
    mkdir -p "$d/DEBIAN"
    cat >"$d/DEBIAN/control" <<CONTROL
Package: venvaudit
Version: $version-1
Architecture: $darch
Maintainer: venvaudit authors <https://github.com/venvaudit/venvaudit/issues>
Depends: libc6 (>= 2.17)
Section: admin
Priority: optional
Homepage: https://github.com/venvaudit/venvaudit
Installed-Size: $(du -sk --exclude=DEBIAN "$d" | cut -f1)
Description: audit Python virtualenvs from their files alone
 venvaudit discovers the Python virtualenvs on a host and reports their interpreter,
 packages and health (broken interpreters, ABI and glibc mismatches, end-of-life Pythons,
 known vulnerabilities from an offline OSV database) without running any Python from the
 scanned environments and without writing to them.
CONTROL
    dpkg-deb --root-owner-group -Zxz --build "$d" "$DIST/venvaudit_${version}-1_${darch}.deb" >/dev/null
done

# ---------------------------------------------------------------- wheels (maturin)
zigdir="$BUILD/zig"
mkdir -p "$zigdir"
printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$(tool python)" >"$zigdir/zig"
chmod 755 "$zigdir/zig"
for arch in "${archs[@]}"; do
    rustc="$(rustc_for_arch "$arch")"
    log "maturin build --release --zig --target $arch-unknown-linux-gnu (manylinux2014)${rustc:+ (RUSTC=$rustc)}"
    (cd "$REPO" && env PATH="$zigdir:$TOOLS_VENV/bin:$PATH" CARGO_TARGET_DIR="$REPO/target/maturin" ${rustc:+RUSTC="$rustc"} \
        "$(tool maturin)" build --release --locked --zig --target "$arch-unknown-linux-gnu" \
        --compatibility manylinux2014 --out "$DIST" >&2)
done
for whl in "$DIST"/venvaudit-"$version"-*.whl; do
    show="$("$(tool auditwheel)" show "$whl")"
    grep -q 'manylinux_2_17' <<<"$show" || die "auditwheel show: $whl is not manylinux_2_17: $show"
    log "auditwheel show: $(tr '\n' ' ' <<<"$show" | cut -c1-200)"
done

# ---------------------------------------------------------------- Salt extension
# One source for the module, state and runner: the file root's, copied in here.
ext="$BUILD/saltext"
cp -a "$REPO/salt/extension" "$ext"
rm -rf "$ext/build" "$ext"/src/*.egg-info
install -D -m 644 "$REPO/salt/_modules/venvaudit.py" "$ext/src/saltext/venvaudit/modules/venvaudit.py"
install -D -m 644 "$REPO/salt/_states/venvaudit.py" "$ext/src/saltext/venvaudit/states/venvaudit.py"
install -D -m 644 "$REPO/salt/_runners/venvaudit.py" "$ext/src/saltext/venvaudit/runners/venvaudit.py"
touch "$ext/src/saltext/venvaudit/modules/__init__.py" "$ext/src/saltext/venvaudit/states/__init__.py" \
    "$ext/src/saltext/venvaudit/runners/__init__.py"
install -m 644 "$REPO/LICENSE-MIT" "$REPO/LICENSE-APACHE" "$ext/"
log "building the Salt extension (sdist and wheel)"
"$(tool python)" -m pip wheel -q --no-deps --no-build-isolation -w "$DIST" "$ext" >&2
(cd "$ext" && "$(tool python)" -c 'from setuptools import build_meta as b; import sys; print(b.build_sdist(sys.argv[1]))' "$DIST" >/dev/null)

# ---------------------------------------------------------------- Salt file root
# What git tracks under salt/ (never a binary left in the working tree), the extension aside,
# plus every architecture's binary where init.sls looks for it, with their checksums.
sroot_name="venvaudit-salt-$version"
sroot="$BUILD/salt/$sroot_name"
mkdir -p "$sroot"
(cd "$REPO/salt" && git ls-files -z -- . ':!extension' | xargs -0 cp --parents -t "$sroot")
for arch in "${archs[@]}"; do
    install -m 755 "$files/venvaudit-linux-$arch" "$sroot/venvaudit/files/venvaudit-linux-$arch"
done
(cd "$sroot/venvaudit/files" && sha256sum venvaudit-linux-* >SHA256SUMS)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" -C "$BUILD/salt" -czf "$DIST/$sroot_name.tar.gz" "$sroot_name"

# ---------------------------------------------------------------- checks and sums
"$(tool twine)" check --strict "$DIST"/*.whl "$DIST"/saltext_venvaudit-*.tar.gz >&2
(cd "$DIST" && sha256sum -- * >"$BUILD/SHA256SUMS" && mv "$BUILD/SHA256SUMS" SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
log "done in $((SECONDS - started)) s:"
(cd "$DIST" && ls -l --block-size=K -- *) >&2
