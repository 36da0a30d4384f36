//! The binary shipped in the Ansible collection must run on managed hosts with glibc 2.17
//! (RHEL/CentOS 7 and newer). ansible/build.sh builds it (`cargo zigbuild --release --target
//! x86_64-unknown-linux-gnu.2.17`, about 7-9 minutes cold on 2 cores, so outside `cargo test`;
//! scripts/test.sh runs it first) and this reads it with venvaudit's own ELF reader: no
//! `GLIBC_x.y` symbol version above 2.17 may be needed.
//!
//! `VENVAUDIT_GLIBC_CHECK_BINARY=PATH` checks that binary instead, built for
//! `VENVAUDIT_GLIBC_CHECK_ARCH=ARCH` (default x86_64); a missing binary fails.

#[path = "support/shipped.rs"]
mod shipped;

use shipped::{GLIBC_FLOOR, assert_shipped_for, glibc_needs, release_binary};
use std::path::PathBuf;
use std::process::Command;
use venvaudit::internals::glibc_version;

fn max_allowed() -> (u32, u32) {
    match std::env::var("VENVAUDIT_GLIBC_MAX") {
        Ok(s) => glibc_version(&format!("GLIBC_{s}")).expect("VENVAUDIT_GLIBC_MAX is X.Y"),
        Err(_) => GLIBC_FLOOR,
    }
}

#[test]
#[ignore = "real-tool tier: needs the glibc-2.17 release binary that ansible/build.sh builds (scripts/test.sh runs it)"]
fn shipped_binary_needs_glibc_2_17_at_most() {
    // VENVAUDIT_GLIBC_CHECK_ARCH: the architecture ansible/build.sh built this binary for.
    let arch = std::env::var("VENVAUDIT_GLIBC_CHECK_ARCH").unwrap_or_else(|_| "x86_64".to_owned());
    // The binary ansible/build.sh builds with zig for glibc 2.17 (scripts/test.sh runs the build
    // before the tests), or VENVAUDIT_GLIBC_CHECK_BINARY. Missing is a failure, not a pass.
    let binary = match std::env::var("VENVAUDIT_GLIBC_CHECK_BINARY") {
        Ok(p) => {
            let p = PathBuf::from(p);
            assert!(p.is_file(), "VENVAUDIT_GLIBC_CHECK_BINARY={} does not exist", p.display());
            p
        }
        Err(_) => release_binary(&arch),
    };
    let newest = assert_shipped_for(&binary, &arch, max_allowed());
    eprintln!("{}: newest glibc symbol version needed: GLIBC_{}.{}", binary.display(), newest.0, newest.1);
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
