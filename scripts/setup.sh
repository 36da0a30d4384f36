#!/usr/bin/env bash
# Installs everything venvaudit's tests need. Idempotent; quick when already done.
#
#   1. Debian packages (only those missing): apache2 libapache2-mod-wsgi-py3 apache2-dev, rpm
#      (rpmbuild makes the real rpm database the interpreter-owner tests read).
#      Apache is NOT started (policy-rc.d keeps invoke-rc.d from starting it).
#   2. .tools/venv: a tools virtualenv made from pyenv's CPython 3.12.1 with the pins of
#      scripts/tools-requirements.txt (virtualenv, uv, packaging, jsonschema, prometheus-client,
#      cyclonedx-python-lib, ansible-core, salt, ziglang, cargo-zigbuild, and for
#      scripts/release.sh maturin, auditwheel, twine, antsibull-changelog, ...).
#      Reinstalled only when the requirements file (or base interpreter) changes.
#   3. .tools/wheels: an offline wheelhouse for the test Pythons (3.8 3.9 3.11 3.12 3.13) from
#      scripts/wheelhouse-requirements.txt and scripts/wheelhouse-vulnerable.txt, plus a locally
#      built pyyaml==5.3.1 wheel per Python. Rebuilt only when those inputs change.
#   3b. a mod_wsgi wheel for Python 3.12 in .tools/wheels, compiled by pip against apache2-dev
#      and pyenv's 3.12 (the compat tests load it into Apache as a second, pip-built mod_wsgi).
#   3c. large binary wheels for Python 3.12 only (scripts/wheelhouse-py312.txt: panda3d,
#      scikit-learn-intelex, PyQt6 and what they need; 227 MB in 14 new wheels), downloaded by
#      pyenv's 3.12 alone into .tools/wheels under their own stamp (tests/reachability.rs).
#   4. .tools/bin (wrappers for the tools, zig included) and .tools/env.sh, which
#      scripts/test.sh sources. This script exports nothing itself.
#   7. the aarch64 cross toolchain, when aarch64 is wanted (VENVAUDIT_ARCHS; by default on an
#      x86_64 Debian host): Debian's arm64 architecture (dpkg --add-architecture) and rustc-web
#      (Debian's rustc, /usr/bin/rustc) with its standard library for both machines
#      (libstd-rust-web-dev, libstd-rust-web-dev:arm64: rustup cannot fetch other targets here,
#      and rustup's rustc cannot use Debian's std), gcc-aarch64-linux-gnu + libc6-dev-arm64-cross
#      (the tests' aarch64 ELF fixtures), qemu-user (runs the aarch64 binary) and mmdebstrap;
#      .tools/bin/qemu-aarch64-static out of Debian's qemu-user-static .deb (not installed);
#      then .tools/arm64-trixie, a real arm64 Debian trixie tree (mmdebstrap --variant=extract:
#      the essential set and python3, unpacked, no maintainer script run) that tests scan with
#      --root, and .tools/wheels-aarch64, real aarch64 wheels for that tree's CPython 3.13.
#
# Environment knobs (all optional):
#   PYENV_ROOT                 default ~/.pyenv
#   VENVAUDIT_TOOLS_PYTHON     base interpreter of .tools/venv (default $PYENV_ROOT/versions/3.12.1/bin/python3.12)
#   VENVAUDIT_SKIP_APT=1       skip the Debian package steps
#   VENVAUDIT_ARCHS            architectures to build and test (default on x86_64: "x86_64 aarch64";
#                              without aarch64, step 7 is skipped)
#   VENVAUDIT_DEBIAN_MIRROR    mirror of the arm64 trixie tree (default http://deb.debian.org/debian)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$REPO/.tools"
VENV="$TOOLS/venv"
WHEELS="$TOOLS/wheels"
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"
TOOLS_PYTHON="${VENVAUDIT_TOOLS_PYTHON:-$PYENV_ROOT/versions/3.12.1/bin/python3.12}"
TOOLS_REQS="$REPO/scripts/tools-requirements.txt"
WH_REQS="$REPO/scripts/wheelhouse-requirements.txt"
WH_VULN="$REPO/scripts/wheelhouse-vulnerable.txt"
TEST_PYTHONS=(3.8 3.9 3.11 3.12 3.13)
APT_PACKAGES=(apache2 libapache2-mod-wsgi-py3 apache2-dev python3-venv python3-gi strace rpm)
# Step 7: the aarch64 cross toolchain (see the header).
# Only on an x86_64 host: the host's std is named :amd64 (unqualified, an installed :arm64 answers).
AARCH64_APT_PACKAGES=(rustc-web libstd-rust-web-dev:amd64 libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu
    libc6-dev-arm64-cross qemu-user mmdebstrap)
# shellcheck source=rust-toolchain.sh
. "$REPO/scripts/rust-toolchain.sh"
ARCHS="${VENVAUDIT_ARCHS:-$(default_archs)}"
ARM64_TREE="$TOOLS/arm64-trixie"
AARCH64_WHEELS="$TOOLS/wheels-aarch64"
AARCH64_WHEEL_PINS=(numpy==2.5.5 pyyaml==6.0.4 psycopg2-binary==2.9.13)

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# Resolve X.Y -> $PYENV_ROOT/versions/X.Y.<highest>/bin/pythonX.Y
pyenv_python() {
    local xy="$1" dir
    dir="$(printf '%s\n' "$PYENV_ROOT"/versions/"$xy".* | grep -E "/${xy//./\\.}\.[0-9]+\$" | sort -V | tail -n1)"
    [[ -n "$dir" && -x "$dir/bin/python$xy" ]] || return 1
    printf '%s\n' "$dir/bin/python$xy"
}

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------- 1. Debian packages
# The packages of "$@" that are not installed.
apt_missing() {
    local p
    for p in "$@"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" != ii* ]]; then
            printf '%s\n' "$p"
        fi
    done
}

# apt-get install "$@" (after apt-get update), never starting a service.
apt_install() {
    [[ "$(id -u)" == 0 ]] || die "apt: need root to install $*"
    local made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        # keep the package scripts from starting apache
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    log "apt: installing $* (apt-get update first)"
    local rc=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
                "$@" >&2
    } || rc=$?
    if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; fi
    ((rc == 0)) || die "apt-get install $* failed (exit $rc)"
}

step_apt() {
    if [[ "${VENVAUDIT_SKIP_APT:-0}" == 1 ]]; then
        log "apt: skipped (VENVAUDIT_SKIP_APT=1)"
        return
    fi
    local missing
    mapfile -t missing < <(apt_missing "${APT_PACKAGES[@]}")
    if ((${#missing[@]} == 0)); then
        log "apt: ${APT_PACKAGES[*]} already installed"
        return
    fi
    apt_install "${missing[@]}"
}

# ---------------------------------------------------------------- 2. tools venv
step_tools_venv() {
    [[ -x "$TOOLS_PYTHON" ]] || die "tools venv: base interpreter $TOOLS_PYTHON not found"
    local want stamp="$VENV/.venvaudit-stamp"
    want="$(hash_of "$TOOLS_REQS")-$(basename "$(dirname "$(dirname "$TOOLS_PYTHON")")")"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && "$VENV/bin/python" -c '' 2>/dev/null; then
        log "tools venv: $VENV up to date"
        return
    fi
    if ! "$VENV/bin/python" -c '' 2>/dev/null || [[ ! -f "$VENV/pyvenv.cfg" ]] ||
        ! grep -q "^home = $(dirname "$TOOLS_PYTHON")\$" "$VENV/pyvenv.cfg"; then
        log "tools venv: creating $VENV from $TOOLS_PYTHON"
        rm -rf "$VENV"
        mkdir -p "$TOOLS"
        "$TOOLS_PYTHON" -m venv "$VENV"
    fi
    rm -f "$stamp"
    log "tools venv: installing scripts/tools-requirements.txt (takes a few minutes the first time)"
    "$VENV/bin/python" -m pip install -q --upgrade "$(grep -E '^pip==' "$TOOLS_REQS")" >&2
    "$VENV/bin/python" -m pip install -q -r "$TOOLS_REQS" >&2
    # sanity: the tools the tests use must run
    "$VENV/bin/virtualenv" --version >/dev/null
    "$VENV/bin/uv" --version >/dev/null
    "$VENV/bin/salt-call" --version >/dev/null
    "$VENV/bin/ansible" --version >/dev/null
    "$VENV/bin/cargo-zigbuild" --version >/dev/null
    "$VENV/bin/python" -m ziglang version >/dev/null
    "$VENV/bin/maturin" --version >/dev/null
    "$VENV/bin/auditwheel" --version >/dev/null
    "$VENV/bin/twine" --version >/dev/null
    "$VENV/bin/antsibull-changelog" --version >/dev/null
    "$VENV/bin/python" -c 'import packaging, jsonschema, prometheus_client, cyclonedx' >/dev/null
    printf '%s\n' "$want" >"$stamp"
    log "tools venv: done"
}

# ---------------------------------------------------------------- 3. wheelhouse
step_wheelhouse() {
    local want stamp="$WHEELS/.venvaudit-stamp" v py pys=()
    for v in "${TEST_PYTHONS[@]}"; do
        py="$(pyenv_python "$v")" || die "wheelhouse: no pyenv Python $v under $PYENV_ROOT/versions"
        pys+=("$py")
    done
    want="$(
        {
            cat "$WH_REQS" "$WH_VULN"
            printf '%s\n' "${pys[@]}"
            echo "pyyaml==5.3.1 layout=1"
        } | sha256sum | cut -d' ' -f1
    )"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "wheelhouse: $WHEELS up to date ($(find "$WHEELS" -name '*.whl' | wc -l) wheels)"
        return
    fi
    log "wheelhouse: (re)building $WHEELS for Python ${TEST_PYTHONS[*]}"
    rm -rf "$WHEELS"
    mkdir -p "$WHEELS"
    local build
    build="$(mktemp -d "${TMPDIR:-/tmp}/venvaudit-wheelbuild.XXXXXX")"
    for py in "${pys[@]}"; do
        log "wheelhouse: $py: current test packages"
        "$py" -m pip download -q --only-binary=:all: -d "$WHEELS" -r "$WH_REQS" >&2
        log "wheelhouse: $py: known-vulnerable releases"
        "$py" -m pip download -q --only-binary=:all: -d "$WHEELS" -r "$WH_VULN" >&2
        log "wheelhouse: $py: building pyyaml==5.3.1 (sdist only)"
        if ! "$py" -m pip wheel -q --use-pep517 --no-deps --no-cache-dir -w "$WHEELS" \
            pyyaml==5.3.1 >"$build/pyyaml.log" 2>&1; then
            cat "$build/pyyaml.log" >&2
            log "wheelhouse: WARNING: could not build pyyaml==5.3.1 for $py; continuing without it"
        fi
    done
    rm -rf "$build"
    printf '%s\n' "$want" >"$stamp"
    log "wheelhouse: done ($(find "$WHEELS" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELS" | cut -f1))"
}

# ---------------------------------------------------------------- 3b. mod_wsgi wheel
MOD_WSGI_PIN="mod_wsgi==6.1.1"
step_mod_wsgi_wheel() {
    local py
    py="$(pyenv_python 3.12)" || die "mod_wsgi wheel: no pyenv Python 3.12 under $PYENV_ROOT/versions"
    if compgen -G "$WHEELS/${MOD_WSGI_PIN/==/-}-cp312-*.whl" >/dev/null; then
        log "mod_wsgi wheel: present"
        return
    fi
    command -v apxs >/dev/null || die "mod_wsgi wheel: apxs missing (apache2-dev)"
    log "mod_wsgi wheel: building $MOD_WSGI_PIN for $py (sdist, compiles against apache2-dev)"
    "$py" -m pip wheel -q --no-deps --no-cache-dir --no-binary=mod_wsgi -w "$WHEELS" "$MOD_WSGI_PIN" >&2
}

# ---------------------------------------------------------------- 4. wrappers + env.sh
step_env() {
    local bin="$TOOLS/bin" t
    mkdir -p "$bin"
    for t in virtualenv uv uvx ansible ansible-playbook ansible-galaxy ansible-inventory \
        salt-call cargo-zigbuild maturin auditwheel twine antsibull-changelog; do
        if [[ -e "$VENV/bin/$t" ]]; then
            ln -sfn "$VENV/bin/$t" "$bin/$t"
        fi
    done
    # zig from the ziglang wheel (cargo-zigbuild finds it on PATH)
    cat >"$bin/zig.tmp" <<EOF
#!/bin/sh
exec "$VENV/bin/python" -m ziglang "\$@"
EOF
    chmod 755 "$bin/zig.tmp"
    mv -f "$bin/zig.tmp" "$bin/zig"

    local pyenv_versions="$PYENV_ROOT/versions"
    cat >"$TOOLS/env.sh.tmp" <<EOF
# Generated by scripts/setup.sh -- do not edit. Sourced by scripts/test.sh.
export VENVAUDIT_REPO='$REPO'
export VENVAUDIT_TOOLS_VENV='$VENV'
export VENVAUDIT_WHEELS='$WHEELS'
export VENVAUDIT_PYENV_VERSIONS='$pyenv_versions'
export VENVAUDIT_TOOLS_BIN='$bin'
export VENVAUDIT_ARCHS='$ARCHS'
export VENVAUDIT_ARM64_TREE='$ARM64_TREE'
export VENVAUDIT_AARCH64_WHEELS='$AARCH64_WHEELS'
export UV_PYTHON_DOWNLOADS=never
export UV_CACHE_DIR='$TOOLS/uv-cache'
export VIRTUALENV_NO_PERIODIC_UPDATE=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
case ":\$PATH:" in *":$bin:"*) ;; *) export PATH="$bin:\$PATH" ;; esac
EOF
    mv -f "$TOOLS/env.sh.tmp" "$TOOLS/env.sh"
    log "env: wrote $TOOLS/env.sh"
}

# ---------------------------------------------------------------- 5. wheelhouse extras
# scripts/wheelhouse-nodeps.txt: single pure-Python wheels whose pins conflict with the other
# lists, downloaded once with --no-deps. Its own stamp lives in $WHEELS, so a wheelhouse rebuild
# (which empties $WHEELS) brings them back.
step_wheelhouse_nodeps() {
    local reqs="$REPO/scripts/wheelhouse-nodeps.txt" stamp="$WHEELS/.venvaudit-stamp-nodeps" want
    [[ -f "$reqs" ]] || return 0
    want="$(hash_of "$reqs")"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "wheelhouse extras: up to date"
        return
    fi
    log "wheelhouse extras: scripts/wheelhouse-nodeps.txt"
    # One download per line: two pins of one distribution (django 3.2.25 and 4.2.16) are one
    # conflicting requirement set to pip even with --no-deps.
    local line
    while read -r line; do
        line="${line%%#*}"
        [[ -n "${line// /}" ]] || continue
        "$VENV/bin/python" -m pip download -q --no-deps --only-binary=:all: -d "$WHEELS" "$line" >&2
    done <"$reqs"
    printf '%s\n' "$want" >"$stamp"
}

# ---------------------------------------------------------------- 6. wheelhouse, Python 3.12 only
# scripts/wheelhouse-py312.txt: large binary distributions that only tests/reachability.rs uses,
# on CPython 3.12, so only pyenv's 3.12 downloads them (the other test Pythons would fetch
# hundreds of MB for nothing). Its own stamp lives in $WHEELS, so a wheelhouse rebuild (which
# empties $WHEELS) brings them back; changing the file downloads what is new.
step_wheelhouse_py312() {
    local reqs="$REPO/scripts/wheelhouse-py312.txt" stamp="$WHEELS/.venvaudit-stamp-py312" want py before
    [[ -f "$reqs" ]] || return 0
    py="$(pyenv_python 3.12)" || die "wheelhouse 3.12: no pyenv Python 3.12 under $PYENV_ROOT/versions"
    want="$({ cat "$reqs"; printf '%s\n' "$py"; } | sha256sum | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "wheelhouse 3.12: up to date"
        return
    fi
    before="$(du -sm "$WHEELS" | cut -f1)"
    log "wheelhouse 3.12: $py: scripts/wheelhouse-py312.txt (227 MB the first time)"
    "$py" -m pip download -q --only-binary=:all: -d "$WHEELS" -r "$reqs" >&2
    printf '%s\n' "$want" >"$stamp"
    log "wheelhouse 3.12: done (+$(($(du -sm "$WHEELS" | cut -f1) - before)) MB)"
}

# ---------------------------------------------------------------- 7. aarch64
# Wanted when VENVAUDIT_ARCHS names aarch64 and this host is x86_64 (an aarch64 host builds its
# own machine natively; other machines are not cross-built).
aarch64_wanted() {
    [[ " $ARCHS " == *" aarch64 "* && "$(uname -m)" == x86_64 ]]
}

step_aarch64_toolchain() {
    if ! aarch64_wanted; then
        log "aarch64: not cross-built here (VENVAUDIT_ARCHS=$ARCHS, machine $(uname -m))"
        return
    fi
    if [[ "${VENVAUDIT_SKIP_APT:-0}" != 1 ]]; then
        local missing
        mapfile -t missing < <(apt_missing "${AARCH64_APT_PACKAGES[@]}")
        if ((${#missing[@]})); then
            if ! dpkg --print-foreign-architectures | grep -qx arm64; then
                [[ "$(id -u)" == 0 ]] || die "aarch64: need root for dpkg --add-architecture arm64"
                log "aarch64: dpkg --add-architecture arm64"
                dpkg --add-architecture arm64
            fi
            apt_install "${missing[@]}"
        else
            log "aarch64: ${AARCH64_APT_PACKAGES[*]} already installed"
        fi
    fi
    [[ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu/lib ]] ||
        die "aarch64: Debian's aarch64 Rust standard library is missing (apt-get install libstd-rust-web-dev:arm64)"
    /usr/bin/rustc --version >/dev/null 2>&1 || die "aarch64: /usr/bin/rustc (rustc-web) does not run"
    command -v qemu-aarch64 >/dev/null || die "aarch64: qemu-aarch64 missing (apt-get install qemu-user)"
    step_qemu_static
}

# .tools/bin/qemu-aarch64-static, taken out of Debian's qemu-user-static .deb (not installed:
# the package registers binfmt handlers machine-wide, and is 380 MB for every machine). The
# tests register it in binfmt_misc inside their own user namespace only (F flag: the kernel
# keeps the open file, so it runs the arm64 tree's programs in a chroot where no x86_64
# library exists; a static qemu needs none).
step_qemu_static() {
    local dest="$TOOLS/bin/qemu-aarch64-static" work
    if [[ -x "$dest" ]] && "$dest" --version >/dev/null 2>&1; then
        return
    fi
    [[ "${VENVAUDIT_SKIP_APT:-0}" != 1 ]] || die "aarch64: $dest missing and VENVAUDIT_SKIP_APT=1"
    work="$(mktemp -d "${TMPDIR:-/tmp}/venvaudit-qemu.XXXXXX")"
    log "aarch64: apt-get download qemu-user-static -> $dest"
    # A machine whose package lists were cleaned knows no qemu-user-static: update once.
    if ! (cd "$work" && apt-get download -q qemu-user-static >/dev/null 2>&1); then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
        (cd "$work" && apt-get download -q qemu-user-static >&2) ||
            { rm -rf "$work"; die "aarch64: apt-get download qemu-user-static failed"; }
    fi
    dpkg-deb --fsys-tarfile "$work"/qemu-user-static_*.deb | tar -x -C "$work" ./usr/bin/qemu-aarch64-static
    mkdir -p "$TOOLS/bin"
    install -m 755 "$work/usr/bin/qemu-aarch64-static" "$dest"
    rm -rf "$work"
}

step_arm64_tree() {
    aarch64_wanted || return 0
    local mirror="${VENVAUDIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}" want stamp="$ARM64_TREE/.venvaudit-stamp"
    want="trixie arm64 extract ?essential python3 python3-venv $mirror"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "arm64 tree: $ARM64_TREE up to date"
        return
    fi
    command -v mmdebstrap >/dev/null || die "arm64 tree: mmdebstrap missing (apt-get install mmdebstrap)"
    log "arm64 tree: mmdebstrap --arch=arm64 --variant=extract trixie -> $ARM64_TREE (about 150 MB)"
    rm -rf "$ARM64_TREE" "$ARM64_TREE.tmp"
    local log_file="$TOOLS/arm64-trixie.log"
    mmdebstrap --arch=arm64 --variant=extract --include='?essential' --include=python3 \
        --include=python3-venv trixie "$ARM64_TREE.tmp" "$mirror" >"$log_file" 2>&1 ||
        { tail -n 40 "$log_file" >&2; die "arm64 tree: mmdebstrap failed (log: $log_file)"; }
    [[ -x "$ARM64_TREE.tmp/usr/bin/python3" || -L "$ARM64_TREE.tmp/usr/bin/python3" ]] ||
        die "arm64 tree: no usr/bin/python3 in the tree"
    mv "$ARM64_TREE.tmp" "$ARM64_TREE"
    printf '%s\n' "$want" >"$stamp"
}

step_aarch64_wheels() {
    aarch64_wanted || return 0
    local want stamp="$AARCH64_WHEELS/.venvaudit-stamp"
    want="${AARCH64_WHEEL_PINS[*]} cp313"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "aarch64 wheels: up to date"
        return
    fi
    rm -rf "$AARCH64_WHEELS"
    mkdir -p "$AARCH64_WHEELS"
    log "aarch64 wheels: ${AARCH64_WHEEL_PINS[*]} for CPython 3.13 on manylinux aarch64"
    "$VENV/bin/python" -m pip download -q --only-binary=:all: --no-deps \
        --platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64 \
        --python-version 3.13 --implementation cp --abi cp313 \
        -d "$AARCH64_WHEELS" "${AARCH64_WHEEL_PINS[@]}" >&2
    printf '%s\n' "$want" >"$stamp"
}

timed() {
    local t0=$SECONDS
    "$@"
    if ((SECONDS - t0 > 1)); then log "$1 took $((SECONDS - t0))s"; fi
}

start=$SECONDS
timed step_apt
timed step_tools_venv
timed step_wheelhouse
timed step_mod_wsgi_wheel
timed step_env
timed step_wheelhouse_nodeps
timed step_wheelhouse_py312
timed step_aarch64_toolchain
timed step_arm64_tree
timed step_aarch64_wheels
log "all done in $((SECONDS - start))s"
