//! The binary shipped in the Ansible collection must run on managed hosts with glibc 2.17
//! (RHEL/CentOS 7 and newer). ansible/build.sh builds it (`cargo zigbuild --release --target
//! x86_64-unknown-linux-gnu.2.17`, about 7-9 minutes cold on 2 cores, so outside `cargo test`;
//! scripts/test.sh runs it first) and this reads it with venvaudit's own ELF reader: no
//! `GLIBC_x.y` symbol version above 2.17 may be needed.
//!
//! `VENVAUDIT_GLIBC_CHECK_BINARY=PATH` checks that binary instead, built for
//! `VENVAUDIT_GLIBC_CHECK_ARCH=ARCH` (default x86_64); a missing binary fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use venvaudit::internals::{glibc_version, read_elf};

/// Every `GLIBC_` version the binary needs, newest first.
fn glibc_needs(binary: &Path) -> Vec<(u32, u32)> {
    let info = read_elf(binary).unwrap_or_else(|e| panic!("cannot read {}: {e:#}", binary.display()));
    let mut v: Vec<(u32, u32)> = info.version_needs.iter().filter_map(|(_, name)| glibc_version(name)).collect();
    v.sort_unstable();
    v.dedup();
    v.reverse();
    v
}

fn max_allowed() -> (u32, u32) {
    let s = std::env::var("VENVAUDIT_GLIBC_MAX").unwrap_or_else(|_| "2.17".to_owned());
    glibc_version(&format!("GLIBC_{s}")).expect("VENVAUDIT_GLIBC_MAX is X.Y")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary ansible/build.sh builds with zig for glibc 2.17 (scripts/test.sh runs the build
/// before the tests), or `VENVAUDIT_GLIBC_CHECK_BINARY`. Missing is a failure, not a pass.
fn shipped_binary() -> PathBuf {
    let binary = match std::env::var("VENVAUDIT_GLIBC_CHECK_BINARY") {
        Ok(p) => PathBuf::from(p),
        Err(_) => repo().join("target/x86_64-unknown-linux-gnu/release/venvaudit"),
    };
    assert!(
        binary.is_file(),
        "{} does not exist: build it with ansible/build.sh (scripts/test.sh does) or set VENVAUDIT_GLIBC_CHECK_BINARY",
        binary.display()
    );
    binary
}

#[test]
#[ignore = "real-tool tier: needs the glibc-2.17 release binary that ansible/build.sh builds (scripts/test.sh runs it)"]
fn shipped_binary_needs_glibc_2_17_at_most() {
    let binary = shipped_binary();
    let needs = glibc_needs(&binary);
    assert!(!needs.is_empty(), "{} needs no GLIBC_ version at all: not a glibc binary?", binary.display());
    let max = max_allowed();
    let too_new: Vec<String> = needs.iter().filter(|v| **v > max).map(|(a, b)| format!("GLIBC_{a}.{b}")).collect();
    assert!(
        too_new.is_empty(),
        "{} needs {} (allowed: up to GLIBC_{}.{})",
        binary.display(),
        too_new.join(", "),
        max.0,
        max.1
    );
    // VENVAUDIT_GLIBC_CHECK_ARCH: the architecture ansible/build.sh built this binary for.
    let arch = std::env::var("VENVAUDIT_GLIBC_CHECK_ARCH").unwrap_or_else(|_| "x86_64".to_owned());
    let loader = match arch.as_str() {
        "x86_64" => "/lib64/ld-linux-x86-64.so.2",
        "aarch64" => "/lib/ld-linux-aarch64.so.1",
        other => panic!("no known glibc loader for {other}"),
    };
    let info = read_elf(&binary).unwrap();
    assert_eq!(info.machine, arch);
    assert_eq!(info.interpreter.as_deref(), Some(loader));
    eprintln!("{}: newest glibc symbol version needed: GLIBC_{}.{}", binary.display(), needs[0].0, needs[0].1);
}

/// The checker must be able to fail: a program calling a function versioned after 2.17 (here
/// `getrandom`, GLIBC_2.25) is flagged.
#[test]
fn checker_flags_a_binary_needing_newer_glibc() {
    let dir = std::env::temp_dir().join(format!("venvaudit-glibc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("new.c");
    std::fs::write(
        &src,
        "#include <sys/random.h>\nint main(void){char b[4];return (int)getrandom(b,sizeof b,0) < 0;}\n",
    )
    .unwrap();
    let exe = dir.join("new");
    let out = Command::new("cc").arg("-o").arg(&exe).arg(&src).output().expect("run cc");
    assert!(out.status.success(), "cc failed: {}", String::from_utf8_lossy(&out.stderr));
    let needs = glibc_needs(&exe);
    assert!(needs.iter().any(|v| *v >= (2, 25)), "getrandom should need GLIBC_2.25+: {needs:?}");
    assert!(needs[0] > (2, 17));
    std::fs::remove_dir_all(&dir).unwrap();
}
