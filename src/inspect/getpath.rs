//! Where an environment's interpreter finds its installation (`sys.base_prefix`) and which of
//! that installation's site directories `site.py` puts on `sys.path`, from files only.
//!
//! The model follows CPython's path calculation (`Modules/getpath.py` since 3.11,
//! `Modules/getpath.c` before) for a PEP 405 environment: `home` in pyvenv.cfg stands for the
//! executable's directory; the prefix is the first directory, walking up from there, that
//! holds the standard library landmark `lib/pythonX.Y/os.py` (or `os.pyc`); when none does,
//! the interpreter falls back to the `PREFIX` compiled into it (`--prefix` of its build).
//! A copied interpreter (`venv --copies`) therefore still starts after `home` is removed
//! when its compiled-in prefix holds a standard library: it then runs on that installation.
//! `PYTHONHOME` and other environment variables are not modelled (a scan cannot know them).

use super::interpreter::LibDirVersion;
use crate::host::LibrarySearch;
use crate::host::paths::{HostRoot, display};
use crate::parse::elf;
use std::path::{Path, PathBuf};

/// Most bytes of an interpreter or libpython scanned for its compiled-in prefix.
const MAX_SCAN_BYTES: u64 = 256 << 20;

/// The installation an environment's interpreter runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasePrefix {
    /// `sys.base_prefix` (view path).
    pub prefix: PathBuf,
    /// How it was found, for evidence: `landmark search from <dir>` or
    /// `compiled-in prefix of <file>`.
    pub source: String,
    /// True when found by the compiled-in fallback, not by the landmark search.
    pub compiled_in: bool,
}

/// Directory name of the standard library: `python3.11`, `python3.13t`, `pypy3.9`.
pub fn stdlib_dir_name(lv: &LibDirVersion) -> String {
    format!("{}{}{}", if lv.pypy { "pypy" } else { "python" }, lv.xy, if lv.free_threaded { "t" } else { "" })
}

/// True when `prefix` holds the standard library landmark of this version (`lib` or, for
/// builds with `--with-platlibdir=lib64`, `lib64`).
pub fn has_stdlib(root: &HostRoot, prefix: &Path, lv: &LibDirVersion) -> bool {
    let dir = stdlib_dir_name(lv);
    ["lib", "lib64"].iter().any(|l| ["os.py", "os.pyc"].iter().any(|f| root.exists(&prefix.join(l).join(&dir).join(f))))
}

/// getpath's `search_up`: the first of `dir` and its ancestors that holds the landmark.
/// `dir` itself need not exist (a removed `home` is still searched upwards, as CPython does).
/// `/` itself is never tried: CPython's dirname of `/tmp` is the empty string, which ends the
/// search (so a merged-/usr `/lib/python3.X` does not make `/` a prefix).
pub fn landmark_search(root: &HostRoot, dir: &Path, lv: &LibDirVersion) -> Option<PathBuf> {
    let mut cur = Some(dir);
    while let Some(d) = cur.filter(|d| d.parent().is_some()) {
        if has_stdlib(root, d, lv) {
            return Some(d.to_path_buf());
        }
        cur = d.parent();
    }
    None
}

/// The base prefix of an environment whose pyvenv.cfg names `home`, with `exe` its
/// interpreter entry (view path, links followed): landmark search from `home` first, then
/// the compiled-in prefix of the binary that holds the path calculation (libpython for a
/// shared build, else the executable). `None` when no standard library is found.
pub fn base_prefix(
    root: &HostRoot,
    libs: &LibrarySearch,
    home: Option<&Path>,
    exe: &Path,
    lv: &LibDirVersion,
) -> Option<BasePrefix> {
    if let Some(home) = home
        && let Some(p) = landmark_search(root, home, lv)
    {
        return Some(BasePrefix {
            prefix: p,
            source: format!("landmark search from {}", display(home)),
            compiled_in: false,
        });
    }
    let holder = path_code_holder(root, libs, exe)?;
    let prefix = compiled_prefix(root, &holder, lv)?;
    Some(BasePrefix { prefix, source: format!("compiled-in prefix of {}", display(&holder)), compiled_in: true })
}

/// True when the loader can start `exe`: it exists and the libpython it needs is found.
pub fn loads(root: &HostRoot, libs: &LibrarySearch, exe: &Path) -> bool {
    path_code_holder(root, libs, exe).is_some()
}

/// The file holding the interpreter's path calculation: the libpython the executable loads
/// (found as the loader would, from the executable's location), else the executable itself.
/// `None` when a needed libpython cannot be found: the interpreter does not start at all.
fn path_code_holder(root: &HostRoot, libs: &LibrarySearch, exe: &Path) -> Option<PathBuf> {
    let resolved = root.resolve(exe).ok()?;
    let info = elf::read_elf(&root.real(&resolved)).ok()?;
    match info.needed.iter().find(|n| n.starts_with("libpython")) {
        Some(so) => libs.find(so, resolved.parent().unwrap_or(Path::new("/")), &info),
        None => Some(resolved),
    }
}

/// The `PREFIX` string compiled into a binary: among its NUL-terminated absolute path
/// strings, the first clean one (no `.`/`..`/`//`) that holds this version's standard
/// library. Other absolute strings (build directories, `/usr/share/...`) fail the landmark.
pub fn compiled_prefix(root: &HostRoot, file: &Path, lv: &LibDirVersion) -> Option<PathBuf> {
    use std::io::Read;
    /// Read in pieces: memory stays at one chunk plus the longest string kept across.
    const CHUNK: usize = 1 << 20;
    const LONGEST: usize = 4096;
    let mut f = root.open(file).ok()?.take(MAX_SCAN_BYTES);
    let mut tried = std::collections::HashSet::new();
    let mut carry: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = f.read(&mut chunk).ok()?;
        let at_end = n == 0;
        carry.extend_from_slice(&chunk[..n]);
        // Every complete string (ended by NUL) is judged; the unfinished tail is kept.
        let complete = if at_end { carry.len() } else { carry.iter().rposition(|b| *b == 0).map_or(0, |i| i + 1) };
        for s in carry[..complete].split(|b| *b == 0) {
            if s.len() < 2 || s.len() > LONGEST || s[0] != b'/' || s.iter().any(|b| !b.is_ascii_graphic()) {
                continue;
            }
            let Ok(text) = std::str::from_utf8(s) else { continue };
            let clean = text[1..].split('/').all(|c| !c.is_empty() && c != "." && c != "..");
            if !clean || !tried.insert(text.to_owned()) {
                continue;
            }
            if has_stdlib(root, Path::new(text), lv) {
                return Some(PathBuf::from(text));
            }
        }
        carry.drain(..complete);
        if carry.len() > LONGEST {
            carry.clear(); // no NUL for this long: not a string worth keeping
        }
        if at_end {
            return None;
        }
    }
}

/// The site directories of the installation at `prefix` that `site.py` adds for an
/// environment with `include-system-site-packages = true`, in `sys.path` order; only those
/// that exist (`site.addsitedir` skips the others).
///
/// Debian and Ubuntu patch `site.getsitepackages`: when their `site.py` (read, not run)
/// mentions `dist-packages`, the order is `lib/pythonX.Y/site-packages` (inside a venv),
/// `local/lib/pythonX.Y/dist-packages`, `lib/python3/dist-packages`,
/// `lib/pythonX.Y/dist-packages`. Upstream CPython: `{platlibdir}/pythonX.Y/site-packages`
/// then `lib/pythonX.Y/site-packages`, with platlibdir `lib64` when the standard library
/// lives there.
pub fn system_site_dirs(root: &HostRoot, prefix: &Path, lv: &LibDirVersion) -> Vec<PathBuf> {
    let dir = stdlib_dir_name(lv);
    let lib64 = ["os.py", "os.pyc"].iter().any(|f| root.exists(&prefix.join("lib64").join(&dir).join(f)))
        && root.resolve(&prefix.join("lib64").join(&dir)).ok() != root.resolve(&prefix.join("lib").join(&dir)).ok();
    let libdirs: &[&str] = if lib64 { &["lib64", "lib"] } else { &["lib"] };
    let stdlib = prefix.join(libdirs[0]).join(&dir);
    let debian = root.read_text(&stdlib.join("site.py"), 1 << 20).is_some_and(|t| t.contains("dist-packages"));
    let mut out: Vec<PathBuf> = Vec::new();
    if debian {
        let xy = format!("python{}", lv.xy);
        out.push(prefix.join("lib").join(&dir).join("site-packages"));
        out.push(prefix.join("local/lib").join(&xy).join("dist-packages"));
        out.push(prefix.join("lib/python3/dist-packages"));
        out.extend(libdirs.iter().map(|l| prefix.join(l).join(&xy).join("dist-packages")));
    } else {
        out.extend(libdirs.iter().map(|l| prefix.join(l).join(&dir).join("site-packages")));
    }
    let mut seen = Vec::new();
    out.retain(|d| {
        let keep = !seen.contains(d) && root.resolve(d).is_ok_and(|r| root.real(&r).is_dir());
        seen.push(d.clone());
        keep
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(xy: &str) -> LibDirVersion {
        LibDirVersion { xy: xy.into(), free_threaded: false, pypy: false }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("venvaudit-getpath-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn landmark_walks_up_from_a_missing_home() {
        let d = scratch("up");
        std::fs::create_dir_all(d.join("opt/py/lib/python3.12")).unwrap();
        std::fs::write(d.join("opt/py/lib/python3.12/os.py"), b"").unwrap();
        let root = HostRoot::at(&d).unwrap();
        assert_eq!(landmark_search(&root, Path::new("/opt/py/bin"), &lv("3.12")), Some(PathBuf::from("/opt/py")));
        assert_eq!(landmark_search(&root, Path::new("/opt/py/gone/bin"), &lv("3.12")), Some(PathBuf::from("/opt/py")));
        assert_eq!(landmark_search(&root, Path::new("/opt/py/bin"), &lv("3.11")), None);
        std::fs::create_dir_all(d.join("lib/python3.11")).unwrap();
        std::fs::write(d.join("lib/python3.11/os.py"), b"").unwrap();
        assert_eq!(landmark_search(&root, Path::new("/opt/py/bin"), &lv("3.11")), None, "/ is never a prefix");
    }

    #[test]
    fn compiled_prefix_is_the_string_with_a_stdlib() {
        let d = scratch("strings");
        std::fs::create_dir_all(d.join("usr/lib/python3.11")).unwrap();
        std::fs::write(d.join("usr/lib/python3.11/os.py"), b"").unwrap();
        std::fs::create_dir_all(d.join("opt/b/lib/python3.11")).unwrap();
        std::fs::write(d.join("opt/b/lib/python3.11/os.py"), b"").unwrap();
        // `/` and `/.` pass the landmark through `..`-free tricks only if accepted: they must not be.
        std::fs::create_dir_all(d.join("lib/python3.11")).unwrap();
        std::fs::write(d.join("lib/python3.11/os.py"), b"").unwrap();
        std::fs::write(d.join("bin"), b"\x7fELF\0/\0/.\0//\0/build/dir\0/opt/b\0/usr\0junk").unwrap();
        let root = HostRoot::at(&d).unwrap();
        assert_eq!(compiled_prefix(&root, Path::new("/bin"), &lv("3.11")), Some(PathBuf::from("/opt/b")));
        assert_eq!(compiled_prefix(&root, Path::new("/bin"), &lv("3.9")), None);
    }

    #[test]
    fn debian_and_upstream_site_dirs() {
        let d = scratch("site");
        for p in ["usr/lib/python3.11", "usr/lib/python3/dist-packages", "usr/local/lib/python3.11/dist-packages"] {
            std::fs::create_dir_all(d.join(p)).unwrap();
        }
        std::fs::write(d.join("usr/lib/python3.11/site.py"), "x = 'dist-packages'\n").unwrap();
        std::fs::create_dir_all(d.join("opt/py/lib/python3.12/site-packages")).unwrap();
        std::fs::write(d.join("opt/py/lib/python3.12/site.py"), "x = 'site-packages'\n").unwrap();
        let root = HostRoot::at(&d).unwrap();
        assert_eq!(
            system_site_dirs(&root, Path::new("/usr"), &lv("3.11")),
            [PathBuf::from("/usr/local/lib/python3.11/dist-packages"), PathBuf::from("/usr/lib/python3/dist-packages")]
        );
        assert_eq!(
            system_site_dirs(&root, Path::new("/opt/py"), &lv("3.12")),
            [PathBuf::from("/opt/py/lib/python3.12/site-packages")]
        );
    }
}
