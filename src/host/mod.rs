//! Facts about the scanned system: name, OS, C library, and where its dynamic loader looks
//! for shared libraries. All of it is read through [`HostRoot`], so `--root` describes the
//! image, not the scanning host.

pub mod config;
pub mod loader;
pub mod paths;
pub mod procfs;
pub mod scope;

use crate::host::paths::{HostRoot, display};
use crate::parse::elf::{self, ElfInfo};
use crate::report::Host;
use globset::Glob;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Directories the loader searches after ld.so.conf, for the common Linux layouts
/// (glibc's trusted dirs plus Debian's multiarch dirs).
const DEFAULT_LIB_DIRS: &[&str] = &[
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/local/lib",
];

/// The system's C library.
#[derive(Debug, Clone, Default)]
pub struct Libc {
    /// Which C library it is; `None` when neither was found.
    pub flavor: Option<elf::LibcFlavor>,
    /// Newest GLIBC version defined, as (major, minor).
    pub glibc: Option<(u32, u32)>,
    /// Machine of the C library: the system's native architecture.
    pub machine: Option<String>,
    /// View path of the library read.
    pub path: Option<String>,
}

/// The dynamic loader's view of the scanned system.
#[derive(Debug)]
pub struct HostFacts {
    /// The report's host section.
    pub host: Host,
    /// The C library.
    pub libc: Libc,
    /// Library search path.
    pub libs: LibrarySearch,
}

/// Where `ld.so` looks for DT_NEEDED libraries: ld.so.conf (with includes) then default dirs.
#[derive(Debug)]
pub struct LibrarySearch {
    root: HostRoot,
    /// System directories in search order (view paths).
    pub dirs: Vec<PathBuf>,
    /// What `$LIB` expands to: the system's library directory name (`lib/x86_64-linux-gnu`
    /// on Debian, `lib64` on Fedora), learned from where libc lives.
    pub lib_token: String,
    /// What `$PLATFORM` expands to (AT_PLATFORM: `x86_64`, `aarch64`, ...).
    pub platform: String,
    cache: Mutex<HashMap<String, Option<PathBuf>>>,
}

impl LibrarySearch {
    /// Read ld.so.conf under `root`.
    pub fn load(root: &HostRoot) -> Self {
        let mut dirs = Vec::new();
        let mut visited = Vec::new();
        read_ld_so_conf(root, Path::new("/etc/ld.so.conf"), &mut dirs, &mut visited, 0);
        for d in DEFAULT_LIB_DIRS {
            let p = PathBuf::from(d);
            if !dirs.contains(&p) {
                dirs.push(p);
            }
        }
        let mut search = LibrarySearch {
            root: root.clone(),
            dirs,
            lib_token: "lib".into(),
            platform: std::env::consts::ARCH.into(),
            cache: Mutex::new(HashMap::new()),
        };
        if let Some((libc, _)) = native_libc(root, &search.dirs) {
            // $LIB is the directory libc was installed into, relative to / or /usr.
            let dir = display(libc.parent().unwrap_or(Path::new("/lib")));
            let rel = dir.strip_prefix("/usr/").or_else(|| dir.strip_prefix('/')).unwrap_or("lib");
            search.lib_token = rel.to_owned();
        }
        search
    }

    /// Find a DT_NEEDED library as the loader would for an object in `origin` (its view dir)
    /// with the given RPATH/RUNPATH. Returns the view path found.
    pub fn find(&self, name: &str, origin: &Path, info: &ElfInfo) -> Option<PathBuf> {
        if name.contains('/') {
            let p = self.expand(name, origin);
            return self.root.exists(&p).then_some(p);
        }
        // DT_RPATH is only used when there is no DT_RUNPATH.
        let object_dirs = if info.runpath.is_empty() { &info.rpath } else { &info.runpath };
        for d in object_dirs {
            let p = self.expand(d, origin).join(name);
            if self.root.exists(&p) {
                return Some(p);
            }
        }
        self.find_in_system(name)
    }

    /// Find a library in the system directories only (ld.so.cache and trusted dirs).
    pub fn find_in_system(&self, name: &str) -> Option<PathBuf> {
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return hit;
        }
        let found = self.dirs.iter().map(|d| d.join(name)).find(|p| self.root.exists(p));
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name.to_owned(), found.clone());
        }
        found
    }
}

impl LibrarySearch {
    /// Expand `$ORIGIN`, `$LIB` and `$PLATFORM` (also `${...}`) in an RPATH/RUNPATH entry or
    /// a DT_NEEDED path, for an object in `origin` (its view directory). A relative result is
    /// taken relative to `origin`: the process's working directory is unknowable, and wheels
    /// never rely on it.
    pub fn expand(&self, entry: &str, origin: &Path) -> PathBuf {
        let o = display(origin);
        let s = entry
            .replace("${ORIGIN}", &o)
            .replace("$ORIGIN", &o)
            .replace("${LIB}", &self.lib_token)
            .replace("$LIB", &self.lib_token)
            .replace("${PLATFORM}", &self.platform)
            .replace("$PLATFORM", &self.platform);
        let p = PathBuf::from(s);
        if p.is_absolute() { p } else { origin.join(p) }
    }
}

fn read_ld_so_conf(root: &HostRoot, file: &Path, dirs: &mut Vec<PathBuf>, visited: &mut Vec<PathBuf>, depth: u32) {
    if depth > 8 || visited.iter().any(|v| v == file) {
        return;
    }
    visited.push(file.to_path_buf());
    let Some(text) = root.read_text(file, 1 << 20) else { return };
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with("hwcap ") {
            continue;
        }
        if let Some(pattern) = line.strip_prefix("include").filter(|r| r.starts_with(char::is_whitespace)) {
            for pat in pattern.split_whitespace() {
                let pat = if pat.starts_with('/') {
                    PathBuf::from(pat)
                } else {
                    file.parent().unwrap_or(Path::new("/")).join(pat)
                };
                for inc in glob_files(root, &pat) {
                    read_ld_so_conf(root, &inc, dirs, visited, depth + 1);
                }
            }
            continue;
        }
        for d in line.split([':', ',', ' ', '\t']).filter(|d| d.starts_with('/')) {
            let p = PathBuf::from(d.trim_end_matches('/'));
            if !dirs.contains(&p) {
                dirs.push(p);
            }
        }
    }
}

/// Expand a glob whose wildcards are in the last component only (as in ld.so.conf and
/// Apache `Include`), sorted like the C library's glob(3). View paths in, view paths out.
pub fn glob_files(root: &HostRoot, pattern: &Path) -> Vec<PathBuf> {
    let Some(name) = pattern.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let dir = pattern.parent().unwrap_or(Path::new("/"));
    if !name.contains(['*', '?', '[']) {
        return if root.exists(pattern) { vec![pattern.to_path_buf()] } else { Vec::new() };
    }
    let Ok(matcher) = Glob::new(&name).map(|g| g.compile_matcher()) else { return Vec::new() };
    let Ok(resolved) = root.resolve(dir) else { return Vec::new() };
    let Ok(rd) = std::fs::read_dir(root.real(&resolved)) else { return Vec::new() };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            !n.as_encoded_bytes().starts_with(b".") && matcher.is_match(&n)
        })
        .map(|e| dir.join(e.file_name()))
        .collect();
    out.sort();
    out
}

impl HostFacts {
    /// Gather host facts under `root`.
    pub fn gather(root: &HostRoot) -> Self {
        let libs = LibrarySearch::load(root);
        let mut host = Host::default();
        let hostname = if root.is_chroot() {
            host.evidence.insert("hostname".into(), "/etc/hostname".into());
            root.read_text(Path::new("/etc/hostname"), 4096)
        } else {
            host.evidence.insert("hostname".into(), "/proc/sys/kernel/hostname".into());
            std::fs::read_to_string("/proc/sys/kernel/hostname").ok()
        };
        host.hostname = hostname.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        for f in ["/etc/os-release", "/usr/lib/os-release"] {
            if let Some(text) = root.read_text(Path::new(f), 64 * 1024) {
                host.os = os_release_value(&text, "PRETTY_NAME");
                host.evidence.insert("os".into(), f.into());
                break;
            }
        }
        let mut libs = libs;
        let libc = find_libc(root, &libs);
        if let Some(m) = &libc.machine {
            libs.platform = m.clone();
        }
        host.arch = libc.machine.clone().or_else(|| (!root.is_chroot()).then(|| std::env::consts::ARCH.to_owned()));
        host.glibc = libc.glibc.map(|(a, b)| format!("{a}.{b}"));
        if let Some(p) = &libc.path {
            host.evidence.insert("glibc".into(), format!("ELF version definitions of {p}"));
            host.evidence.insert("arch".into(), format!("ELF machine of {p}"));
        }
        HostFacts { host, libc, libs }
    }
}

fn os_release_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix(key)?.strip_prefix('=')?;
        Some(v.trim().trim_matches('"').trim_matches('\'').to_owned())
    })
}

/// The scanned system's own C library among the `libc.so.6` files of the search directories:
/// the first whose ELF machine and class are the system's (those of its `/bin/sh`; on the live
/// host without one, this process's), else the first. The loader skips a multiarch host's
/// foreign libraries the same way: with `libc6:arm64` installed on amd64, ld.so.conf lists
/// /lib/aarch64-linux-gnu before /lib/x86_64-linux-gnu.
fn native_libc(root: &HostRoot, dirs: &[PathBuf]) -> Option<(PathBuf, ElfInfo)> {
    let own = ["/bin/sh", "/usr/bin/sh", "/bin/busybox", "/usr/bin/env"]
        .iter()
        .find_map(|p| root.resolve(Path::new(p)).ok().and_then(|r| elf::read_elf(&root.real(&r)).ok()))
        .map(|i| (i.machine, Some(i.is_64)))
        .or_else(|| (!root.is_chroot()).then(|| (std::env::consts::ARCH.to_owned(), None)));
    let mut first = None;
    for dir in dirs {
        let view = dir.join("libc.so.6");
        if !root.exists(&view) {
            continue;
        }
        let Some(info) = root.resolve(&view).ok().and_then(|r| elf::read_elf(&root.real(&r)).ok()) else { continue };
        if own.as_ref().is_none_or(|(m, is_64)| *m == info.machine && is_64.is_none_or(|b| b == info.is_64)) {
            return Some((view, info));
        }
        first.get_or_insert((view, info));
    }
    first
}

fn find_libc(root: &HostRoot, libs: &LibrarySearch) -> Libc {
    if let Some((view, info)) = native_libc(root, &libs.dirs) {
        let glibc = info.version_defs.iter().filter_map(|v| elf::glibc_version(v)).max();
        return Libc {
            flavor: Some(elf::LibcFlavor::Glibc),
            glibc,
            machine: Some(info.machine),
            path: Some(display(&view)),
        };
    }
    for dir in ["/lib", "/usr/lib"] {
        if let Some(p) = glob_files(root, &Path::new(dir).join("ld-musl-*.so.1")).into_iter().next() {
            let machine = root.resolve(&p).ok().and_then(|r| elf::read_elf(&root.real(&r)).ok()).map(|i| i.machine);
            return Libc { flavor: Some(elf::LibcFlavor::Musl), glibc: None, machine, path: Some(display(&p)) };
        }
    }
    Libc::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A multiarch tree whose ld.so.conf lists a foreign architecture's directory first (as
    /// `dpkg --add-architecture arm64` and libc6:arm64 do on amd64): the system's libc is the
    /// one of its own machine, and `$LIB` follows it. The foreign libc is this host's libc.so.6
    /// with its ELF machine set to AArch64 (183), so it reaches the ELF reader as aarch64.
    #[test]
    fn a_foreign_libc_listed_first_is_not_the_systems() {
        // The truth: the libc.so.6 the real loader mapped into this process.
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let libc = maps
            .lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .find(|p| p.ends_with("/libc.so.6"))
            .expect("this process maps a libc.so.6")
            .to_owned();
        let arch = std::env::consts::ARCH.to_owned();
        let dir = std::env::temp_dir().join(format!("venvaudit-multiarch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let native = format!("lib/{arch}-linux-gnu");
        for d in ["bin", "etc", "lib/aarch64-linux-gnu", native.as_str()] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        std::fs::copy("/bin/sh", dir.join("bin/sh")).unwrap();
        std::fs::write(dir.join("etc/ld.so.conf"), format!("/lib/aarch64-linux-gnu\n/{native}\n")).unwrap();
        std::fs::copy(&libc, dir.join(&native).join("libc.so.6")).unwrap();
        let mut foreign = std::fs::read(&libc).unwrap();
        foreign[18..20].copy_from_slice(&183u16.to_le_bytes());
        std::fs::write(dir.join("lib/aarch64-linux-gnu/libc.so.6"), foreign).unwrap();
        let root = HostRoot::at(&dir).unwrap();
        let foreign_info = elf::read_elf(&dir.join("lib/aarch64-linux-gnu/libc.so.6")).unwrap();
        assert_eq!(foreign_info.machine, "aarch64", "the foreign libc must reach the reader as aarch64");
        let facts = HostFacts::gather(&root);
        assert_eq!(facts.host.arch.as_deref(), Some(arch.as_str()));
        assert_eq!(facts.libc.path.as_deref(), Some(format!("/{native}/libc.so.6").as_str()));
        assert_eq!(facts.libs.lib_token, native);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn this_host_has_a_glibc() {
        let facts = HostFacts::gather(&HostRoot::host());
        assert_eq!(facts.libc.flavor, Some(elf::LibcFlavor::Glibc));
        let (major, minor) = facts.libc.glibc.unwrap();
        assert!(major == 2 && minor >= 17);
        assert_eq!(facts.host.arch.as_deref(), Some(std::env::consts::ARCH));
    }
}
