//! The shipped venvaudit binaries (`#[path = "support/shipped.rs"] mod shipped;`): where
//! ansible/build.sh leaves each architecture's zig build, and the one judgement of a shipped
//! binary every release test makes: an ELF file of its machine, glibc's loader of that machine,
//! no `GLIBC_` symbol version above the floor, read with venvaudit's own ELF reader.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use venvaudit::internals::{glibc_version, read_elf};

/// The glibc floor every shipped binary keeps (ansible/build.sh's `GLIBC`).
pub const GLIBC_FLOOR: (u32, u32) = (2, 17);

/// The release binary ansible/build.sh built for `arch` (zig, glibc 2.17 floor); missing is a
/// failure naming how to build it.
pub fn release_binary(arch: &str) -> PathBuf {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/{arch}-unknown-linux-gnu/release/venvaudit"));
    assert!(
        p.is_file(),
        "{} is missing: ansible/build.sh builds it (scripts/test.sh runs it; aarch64 needs scripts/setup.sh's cross toolchain)",
        p.display()
    );
    p
}

/// Every `GLIBC_` version `binary` needs, newest first.
pub fn glibc_needs(binary: &Path) -> Vec<(u32, u32)> {
    let info = read_elf(binary).unwrap_or_else(|e| panic!("cannot read {}: {e:#}", binary.display()));
    let mut v: Vec<(u32, u32)> = info.version_needs.iter().filter_map(|(_, name)| glibc_version(name)).collect();
    v.sort_unstable();
    v.dedup();
    v.reverse();
    v
}

/// glibc's program loader on `arch` (what a binary linked for that machine names as its
/// interpreter).
pub fn glibc_loader(arch: &str) -> &'static str {
    match arch {
        "x86_64" => "/lib64/ld-linux-x86-64.so.2",
        "aarch64" => "/lib/ld-linux-aarch64.so.1",
        other => panic!("no known glibc loader for {other}"),
    }
}

/// `binary` is an ELF program for `arch`, run by that machine's glibc loader, needing no
/// `GLIBC_` version above `max`. Returns the newest version it needs.
pub fn assert_shipped_for(binary: &Path, arch: &str, max: (u32, u32)) -> (u32, u32) {
    let info = read_elf(binary).unwrap_or_else(|e| panic!("cannot read {}: {e:#}", binary.display()));
    assert_eq!(info.machine, arch, "{}", binary.display());
    assert_eq!(info.interpreter.as_deref(), Some(glibc_loader(arch)), "{}", binary.display());
    let needs = glibc_needs(binary);
    assert!(!needs.is_empty(), "{} needs no GLIBC_ version at all: not a glibc binary?", binary.display());
    let too_new: Vec<String> = needs.iter().filter(|v| **v > max).map(|(a, b)| format!("GLIBC_{a}.{b}")).collect();
    assert!(
        too_new.is_empty(),
        "{} needs {} (allowed: up to GLIBC_{}.{})",
        binary.display(),
        too_new.join(", "),
        max.0,
        max.1
    );
    needs[0]
}
