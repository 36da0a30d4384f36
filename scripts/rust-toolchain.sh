# Sourced by scripts/setup.sh, ansible/build.sh and scripts/release.sh: which architectures are
# built by default, and which rustc builds a Linux target.
#
# default_archs prints the architectures set-up and release want when VENVAUDIT_ARCHS is unset:
# on x86_64 both shipped machines (aarch64 cross-built), elsewhere this machine's alone.
default_archs() {
    if [[ "$(uname -m)" == x86_64 ]]; then echo "x86_64 aarch64"; else uname -m; fi
}

# rustc_for_arch ARCH prints the rustc to build ARCH-unknown-linux-gnu with:
#   - nothing (rustup's default) for this machine's architecture or a target rustup has
#     (`rustup target add`);
#   - /usr/bin/rustc when only Debian's standard library for the target is installed
#     (/usr/lib/rustlib/TARGET, libstd-rust-web-dev:arm64 from scripts/setup.sh): rustup's rustc
#     cannot use another compiler's standard library (E0514), Debian's rustc-web can;
# and fails (status 1) when neither can build it.
rustc_for_arch() {
    local target="$1-unknown-linux-gnu"
    if [[ "$1" == "$(uname -m)" ]] || rustup target list --installed 2>/dev/null | grep -qx "$target"; then
        return 0
    elif [[ -d "/usr/lib/rustlib/$target/lib" && -x /usr/bin/rustc ]]; then
        echo /usr/bin/rustc
    else
        return 1
    fi
}
