//! `extension-*`: will every compiled file under a venv's site-packages load on this host,
//! in this interpreter? Judged from ELF headers only, the way the dynamic loader and the
//! import system would judge them: file-name ABI tag, machine, C library, `GLIBC_x.y` and
//! other symbol versions, and DT_NEEDED resolution through RUNPATH/RPATH (`$ORIGIN`),
//! ld.so.conf and the default directories.
//!
//! Files are classified first, because a site-packages tree holds more than extension
//! modules: auditwheel's bundled libraries (`numpy.libs/`) are loaded by the modules, while
//! other `.so` files (debugpy's attach helpers for other architectures, plugins of other
//! programs) may never be loaded at all. Problems in the latter are warnings, and their
//! machine is not judged.

use super::ids;
use crate::host::HostFacts;
use crate::inspect::Inspected;
use crate::inspect::elf::{self, ElfInfo};
use crate::inspect::packages::{extension_abi_tag, normalize_name};
use crate::paths::{HostRoot, display};
use crate::report::{Finding, Python, ScanError, Severity};
use rayon::prelude::*;
use serde_json::json;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use walkdir::WalkDir;

const REINSTALL: &str = "Reinstall the distribution from a wheel built for this Python and host (`pip install --force-reinstall --no-cache-dir NAME`), or recreate the environment with the Python it was built for";

/// An extension-module ABI tag from a file name, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbiTag {
    /// `cpython-311-x86_64-linux-gnu`, `cpython-37m-x86_64-linux-gnu`, `cpython-313t-…`.
    CPython {
        /// Major version.
        major: u32,
        /// Minor version.
        minor: u32,
        /// ABI flags: `t` free-threaded, `d` debug, `m` pymalloc (3.7 and older), `u` wide unicode.
        flags: String,
        /// Multiarch triplet, e.g. `x86_64-linux-gnu`, absent in old tags.
        platform: Option<String>,
    },
    /// The stable ABI (`.abi3.so`): loads in CPython 3 builds that are not free-threaded.
    Abi3,
    /// PyPy and GraalPy tags, compared verbatim.
    Other(String),
}

/// Parse the tag part of an extension file name (`cpython-311-x86_64-linux-gnu`). Anything
/// that is not a Python ABI tag (`libopenblas.0.3.23.dev.so` gives `dev`) is `None`.
pub fn parse_abi_tag(tag: &str) -> Option<AbiTag> {
    if tag == "abi3" {
        return Some(AbiTag::Abi3);
    }
    if let Some(rest) = tag.strip_prefix("cpython-") {
        let (ver, platform) = match rest.split_once('-') {
            Some((v, p)) => (v, Some(p.to_owned())),
            None => (rest, None),
        };
        let end = ver.find(|c: char| !c.is_ascii_digit()).unwrap_or(ver.len());
        let (digits, flags) = ver.split_at(end);
        if digits.len() < 2 || !flags.chars().all(|c| "dmut".contains(c)) {
            return None;
        }
        let major = digits[..1].parse().ok()?;
        let minor = digits[1..].parse().ok()?;
        return Some(AbiTag::CPython { major, minor, flags: flags.to_owned(), platform });
    }
    if tag.starts_with("pypy") || tag.starts_with("graalpy") {
        return Some(AbiTag::Other(tag.to_owned()));
    }
    None
}

/// The C library a multiarch triplet names.
fn platform_libc(platform: &str) -> Option<&'static str> {
    if platform.contains("-linux-musl") {
        Some("musl")
    } else if platform.contains("-linux-gnu") {
        Some("glibc")
    } else {
        None
    }
}

/// What an interpreter accepts, from its ABI tag or, failing that, its version.
#[derive(Debug, Clone, Default)]
struct Expect {
    pypy: bool,
    version: Option<(u32, u32)>,
    flags: Option<String>,
    platform: Option<String>,
    raw: Option<String>,
}

impl Expect {
    fn of(py: &Python) -> Expect {
        let pypy = py.implementation.as_deref().is_some_and(|i| i.eq_ignore_ascii_case("pypy"));
        if let Some(abi) = &py.abi {
            if let Some(AbiTag::CPython { major, minor, flags, platform }) = parse_abi_tag(abi) {
                return Expect {
                    pypy,
                    version: Some((major, minor)),
                    flags: Some(flags),
                    platform,
                    raw: Some(abi.clone()),
                };
            }
            return Expect { pypy, raw: Some(abi.clone()), ..Expect::default() };
        }
        let version = py.version.as_deref().and_then(|v| {
            let mut it = v.split('.');
            Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
        });
        Expect { pypy, version, ..Expect::default() }
    }

    fn describe(&self) -> String {
        match (&self.raw, self.version) {
            (Some(r), _) => r.clone(),
            (None, Some((a, b))) => format!("{} {a}.{b}", if self.pypy { "PyPy" } else { "CPython" }),
            (None, None) => "unknown".into(),
        }
    }
}

/// The verdict on a file name's ABI tag.
#[derive(Debug, PartialEq, Eq)]
enum TagVerdict {
    Ok,
    /// Built for another interpreter; the reason says how.
    Mismatch(String),
    /// Same interpreter, other C library (`-linux-musl` on glibc or the reverse).
    Libc(&'static str),
}

fn judge_tag(tag: &AbiTag, want: &Expect) -> TagVerdict {
    match tag {
        AbiTag::Abi3 => {
            if want.pypy {
                TagVerdict::Mismatch("abi3 modules load only in CPython".into())
            } else if want.flags.as_deref().is_some_and(|f| f.contains('t')) {
                TagVerdict::Mismatch("free-threaded CPython does not load abi3 modules".into())
            } else if want.version.is_some_and(|(major, _)| major != 3) {
                TagVerdict::Mismatch("abi3 modules need CPython 3".into())
            } else {
                TagVerdict::Ok
            }
        }
        AbiTag::CPython { major, minor, flags, platform } => {
            if want.pypy {
                return TagVerdict::Mismatch(format!("built for CPython {major}.{minor}, not PyPy"));
            }
            if let Some((a, b)) = want.version
                && (a, b) != (*major, *minor)
            {
                return TagVerdict::Mismatch(format!("built for CPython {major}.{minor}"));
            }
            if let Some(f) = &want.flags
                && f != flags
            {
                let what = match (f.contains('t'), flags.contains('t')) {
                    (true, false) => "built for the default (GIL) build, not free-threaded".to_owned(),
                    (false, true) => "built for the free-threaded build".to_owned(),
                    _ => format!("built for ABI flags {flags:?}"),
                };
                return TagVerdict::Mismatch(what);
            }
            if let (Some(p), Some(wp)) = (platform, &want.platform)
                && p != wp
            {
                let (pl, wl) = (platform_libc(p), platform_libc(wp));
                let arch = |s: &str| s.split('-').next().unwrap_or("").to_owned();
                if pl != wl && arch(p) == arch(wp) {
                    return TagVerdict::Libc(pl.unwrap_or("another C library"));
                }
                return TagVerdict::Mismatch(format!("built for platform {p}"));
            }
            TagVerdict::Ok
        }
        AbiTag::Other(t) => match &want.raw {
            Some(r) if r == t => TagVerdict::Ok,
            Some(_) => TagVerdict::Mismatch(format!("built for {t}")),
            None if !want.pypy && want.version.is_some() => TagVerdict::Mismatch(format!("built for {t}")),
            None => TagVerdict::Ok,
        },
    }
}

/// Which C library an ELF object was linked against, from its DT_NEEDED and version needs.
fn linked_libc(info: &ElfInfo) -> Option<&'static str> {
    if info.needed.iter().any(|n| n == "libc.so" || elf::is_musl_name(n))
        || info.interpreter.as_deref().is_some_and(elf::is_musl_name)
    {
        return Some("musl");
    }
    if info.needed.iter().any(|n| n == "libc.so.6") || info.version_needs.iter().any(|(_, v)| v.starts_with("GLIBC_")) {
        return Some("glibc");
    }
    None
}

/// An ELF file parsed once, or why it could not be.
type Parsed = Arc<Result<ElfInfo, String>>;

/// Parsed ELF files and the version definitions of libraries they load, shared by every
/// venv of a check run: uv hardlinks the same wheel into many environments, and every
/// module asks about the same libc.
#[derive(Default)]
pub struct ElfCache {
    files: Mutex<HashMap<(u64, u64), Parsed>>,
    defs: Mutex<HashMap<PathBuf, Option<Arc<Vec<String>>>>>,
}

impl ElfCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The parsed ELF file at `real`, keyed by device and inode.
    fn file(&self, real: &Path, dev: u64, ino: u64) -> Parsed {
        if let Some(hit) = self.files.lock().ok().and_then(|m| m.get(&(dev, ino)).cloned()) {
            return hit;
        }
        let parsed = Arc::new(elf::read_elf(real).map_err(|e| format!("{e:#}")));
        if let Ok(mut m) = self.files.lock() {
            m.insert((dev, ino), parsed.clone());
        }
        parsed
    }

    /// Symbol versions defined by the library at a view path; `None` when it has none or
    /// cannot be read (the loader then only warns, so nothing is judged).
    fn version_defs(&self, root: &HostRoot, view: &Path) -> Option<Arc<Vec<String>>> {
        if let Some(hit) = self.defs.lock().ok().and_then(|m| m.get(view).cloned()) {
            return hit;
        }
        let defs = root
            .resolve(view)
            .ok()
            .and_then(|r| elf::read_elf(&root.real(&r)).ok())
            .filter(|i| !i.version_defs.is_empty())
            .map(|i| Arc::new(i.version_defs));
        if let Ok(mut m) = self.defs.lock() {
            m.insert(view.to_path_buf(), defs.clone());
        }
        defs
    }
}

/// How a file under site-packages is used, which decides what is judged and how severely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A Python extension module: tagged name or `PyInit_*` export.
    Module,
    /// A library bundled by auditwheel (`*.libs/`), loaded by the modules.
    Bundled,
    /// Any other shared object: it fails only if something loads it.
    Other,
}

/// One candidate file.
struct Candidate {
    view: PathBuf,
    real: PathBuf,
    /// Path relative to its site-packages directory.
    rel: String,
    dev: u64,
    ino: u64,
}

/// File names of shared objects: `x.so` and versioned `libx.so.1.2`.
fn is_shared_object_name(name: &str) -> bool {
    name.ends_with(".so") || name.contains(".so.")
}

/// Every shared object under the venv's site-packages, without following symlinks.
fn candidates(root: &HostRoot, v: &Inspected) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut seen_dirs = Vec::new();
    for sp in &v.site_packages {
        let Ok(resolved) = root.resolve(sp) else { continue };
        if seen_dirs.contains(&resolved) {
            continue;
        }
        seen_dirs.push(resolved.clone());
        let base = root.real(&resolved);
        for entry in WalkDir::new(&base).follow_links(false).into_iter().flatten() {
            if !entry.file_type().is_file() || !is_shared_object_name(&entry.file_name().to_string_lossy()) {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&base) else { continue };
            let Ok(meta) = entry.metadata() else { continue };
            out.push(Candidate {
                view: sp.join(rel),
                real: entry.path().to_path_buf(),
                rel: display(rel),
                dev: meta.dev(),
                ino: meta.ino(),
            });
        }
    }
    out
}

/// Who owns a file: the distribution whose RECORD lists it, else the one whose bundled-library
/// directory (`pillow.libs`) or top-level package it sits in.
struct Owners {
    by_file: HashMap<String, String>,
    by_top: HashMap<String, String>,
    by_norm: HashMap<String, String>,
}

impl Owners {
    fn of(v: &Inspected) -> Owners {
        let mut o = Owners { by_file: HashMap::new(), by_top: HashMap::new(), by_norm: HashMap::new() };
        for p in v.venv.packages.iter().flatten() {
            o.by_norm.insert(p.normalized_name.clone(), p.name.clone());
            for e in &p.extensions {
                o.by_file.insert(format!("{}/{}", p.location, e.path), p.name.clone());
                if let Some(top) = e.path.split('/').next().filter(|t| e.path.contains('/') && !t.is_empty()) {
                    o.by_top.entry(top.to_owned()).or_insert_with(|| p.name.clone());
                }
            }
        }
        o
    }

    fn owner(&self, c: &Candidate) -> Option<String> {
        if let Some(n) = self.by_file.get(&display(&c.view)) {
            return Some(n.clone());
        }
        let top = c.rel.split('/').next()?;
        if let Some(stem) = top.strip_suffix(".libs")
            && let Some(n) = self.by_norm.get(&normalize_name(stem))
        {
            return Some(n.clone());
        }
        self.by_top.get(top).cloned()
    }
}

/// Run the extension checks for one venv, judged against `python` (the venv's own
/// interpreter, or `--target-python`). Unreadable files are returned as scan errors.
pub fn check(
    root: &HostRoot,
    host: &HostFacts,
    v: &Inspected,
    python: &Python,
    cache: &ElfCache,
) -> (Vec<Finding>, Vec<ScanError>) {
    let want = Expect::of(python);
    let owners = Owners::of(v);
    let machine = python.machine.clone().or_else(|| host.host.arch.clone());
    let process_libpython = python.libpython.as_ref().filter(|l| l.linkage == "shared").and_then(|l| l.soname.clone());
    let judge = Judge {
        root,
        host,
        v,
        want: &want,
        machine: machine.as_deref(),
        process_libpython: process_libpython.as_deref(),
        cache,
    };
    let results: Vec<(Vec<Finding>, Option<ScanError>)> = candidates(root, v)
        .par_iter()
        .map(|c| {
            if !elf::has_elf_magic(&c.real) {
                return (Vec::new(), None);
            }
            match cache.file(&c.real, c.dev, c.ino).as_ref() {
                Ok(info) => (judge.file(c, info, owners.owner(c)), None),
                Err(e) => (Vec::new(), Some(ScanError { path: display(&c.view), message: e.clone() })),
            }
        })
        .collect();
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for (f, e) in results {
        findings.extend(f);
        errors.extend(e);
    }
    (findings, errors)
}

struct Judge<'a> {
    root: &'a HostRoot,
    host: &'a HostFacts,
    v: &'a Inspected,
    want: &'a Expect,
    machine: Option<&'a str>,
    process_libpython: Option<&'a str>,
    cache: &'a ElfCache,
}

impl Judge<'_> {
    fn file(&self, c: &Candidate, info: &ElfInfo, owner: Option<String>) -> Vec<Finding> {
        let name = c.rel.rsplit('/').next().unwrap_or(&c.rel);
        let tag = extension_abi_tag(name).and_then(|t| parse_abi_tag(&t).map(|p| (t, p)));
        let role = if tag.is_some() || info.py_init.is_some() {
            Role::Module
        } else if c.rel.split('/').any(|part| part.ends_with(".libs")) {
            Role::Bundled
        } else {
            Role::Other
        };
        let severity = if role == Role::Other { Severity::Warning } else { Severity::Error };
        let venv = Some(self.v.venv.path.as_str());
        let shown = self.shown(c);
        let caveat =
            if role == Role::Other { " (not an extension module: it fails only when something loads it)" } else { "" };
        let mk = |id: &'static str, message: String| {
            let f = Finding::new(id, severity, venv, format!("{message}{caveat}"), REINSTALL)
                .detail("file", display(&c.view));
            match &owner {
                Some(o) => f.with_package(o),
                None => f,
            }
        };
        let mut out = Vec::new();

        // The C library: a musl object on glibc (or the reverse) fails before anything else.
        let host_libc = self.host.libc.flavor;
        // Either the ELF linkage or the file name's platform may say so; the linkage decides
        // whether the loader can map it, the name whether `import` even looks at it.
        let tag_libc = tag.as_ref().and_then(|(_, t)| match t {
            AbiTag::CPython { platform: Some(p), .. } => platform_libc(p),
            _ => None,
        });
        let elf_libc = linked_libc(info);
        let foreign_libc = |l: Option<&'static str>| match (host_libc, l) {
            (Some(h), Some(o)) if h != o => Some(o),
            _ => None,
        };
        let libc_mismatch = match (foreign_libc(elf_libc), foreign_libc(tag_libc)) {
            (Some(o), _) => Some((o, "is linked against")),
            (None, Some(o)) => Some((o, "is named for")),
            (None, None) => None,
        };
        if let Some((other, how)) = libc_mismatch {
            out.push(
                mk(
                    ids::EXTENSION_LIBC_MISMATCH,
                    format!("{shown} {how} {other} but the host's C library is {}", host_libc.unwrap_or("?")),
                )
                .detail("linked_libc", elf_libc)
                .detail("tag_libc", tag_libc)
                .detail("host_libc", host_libc),
            );
        }

        if let Some((raw, parsed)) = &tag
            && let TagVerdict::Mismatch(why) = judge_tag(parsed, self.want)
        {
            out.push(
                mk(
                    ids::EXTENSION_ABI_MISMATCH,
                    format!("{shown} is {why}; the interpreter expects {}", self.want.describe()),
                )
                .detail("abi_tag", raw.as_str())
                .detail("expected", self.want.describe()),
            );
        }

        if role != Role::Other
            && let Some(m) = self.machine
            && info.machine != m
        {
            out.push(
                mk(
                    ids::EXTENSION_ARCH_MISMATCH,
                    format!("{shown} is built for {} but the interpreter is {m}", info.machine),
                )
                .detail("machine", info.machine.as_str())
                .detail("expected", m),
            );
            // Its libraries would be looked up for another architecture: say no more.
            return out;
        }
        if libc_mismatch.is_some() {
            return out;
        }

        // GLIBC_x.y against the host's glibc.
        if host_libc == Some("glibc")
            && let Some(have) = self.host.libc.glibc
        {
            let mut too_new: Vec<(u32, u32)> =
                info.version_needs.iter().filter_map(|(_, v)| elf::glibc_version(v)).filter(|v| *v > have).collect();
            too_new.sort();
            too_new.dedup();
            if let Some(&(a, b)) = too_new.last() {
                out.push(
                    mk(
                        ids::EXTENSION_GLIBC_TOO_NEW,
                        format!("{shown} needs GLIBC_{a}.{b} but the host has glibc {}.{}", have.0, have.1),
                    )
                    .detail("required", format!("{a}.{b}"))
                    .detail("host", format!("{}.{}", have.0, have.1))
                    .detail("versions", too_new.iter().map(|(a, b)| format!("GLIBC_{a}.{b}")).collect::<Vec<_>>()),
                );
            }
        }

        // DT_NEEDED, then the non-glibc symbol versions of what was found.
        let origin = c.view.parent().unwrap_or(Path::new("/"));
        let mut missing = Vec::new();
        for lib in &info.needed {
            if lib.starts_with("libpython") && self.process_libpython == Some(lib.as_str()) {
                continue; // already in the process: the interpreter itself loaded it
            }
            let Some(found) = self.host.libs.find(lib, origin, info) else {
                missing.push(lib.clone());
                continue;
            };
            let wanted: Vec<&str> = info
                .version_needs
                .iter()
                .filter(|(file, v)| file == lib && !v.starts_with("GLIBC_"))
                .map(|(_, v)| v.as_str())
                .collect();
            if wanted.is_empty() {
                continue;
            }
            if let Some(defs) = self.cache.version_defs(self.root, &found) {
                let absent: Vec<&str> = wanted.into_iter().filter(|w| !defs.iter().any(|d| d == w)).collect();
                if !absent.is_empty() {
                    out.push(
                        mk(
                            ids::EXTENSION_LIBRARY_VERSION_MISSING,
                            format!(
                                "{shown} needs {} from {lib}, which {} does not define",
                                absent.join(", "),
                                display(&found)
                            ),
                        )
                        .detail("library", lib.as_str())
                        .detail("found", display(&found))
                        .detail("versions", absent),
                    );
                }
            }
        }
        if !missing.is_empty() {
            let search: Vec<&String> =
                if info.runpath.is_empty() { &info.rpath } else { &info.runpath }.iter().collect();
            out.push(
                mk(
                    ids::EXTENSION_MISSING_LIBRARY,
                    format!("{shown} needs {} which the loader cannot find", missing.join(", ")),
                )
                .detail("libraries", missing)
                .detail("runpath", json!(search)),
            );
        }
        out
    }

    /// The file as shown in messages: relative to the venv when inside it.
    fn shown(&self, c: &Candidate) -> String {
        c.view.strip_prefix(&self.v.path).map(display).unwrap_or_else(|_| display(&c.view))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(abi: &str, implementation: &str) -> Python {
        Python { abi: Some(abi.into()), implementation: Some(implementation.into()), ..Python::default() }
    }

    fn verdict(tag: &str, abi: &str) -> TagVerdict {
        judge_tag(&parse_abi_tag(tag).unwrap(), &Expect::of(&py(abi, "CPython")))
    }

    #[test]
    fn tags_parse() {
        assert_eq!(
            parse_abi_tag("cpython-37m-x86_64-linux-gnu"),
            Some(AbiTag::CPython { major: 3, minor: 7, flags: "m".into(), platform: Some("x86_64-linux-gnu".into()) })
        );
        assert_eq!(parse_abi_tag("abi3"), Some(AbiTag::Abi3));
        assert_eq!(parse_abi_tag("dev"), None);
        assert_eq!(parse_abi_tag("cpython-x"), None);
        assert!(matches!(parse_abi_tag("pypy39-pp73-x86_64-linux-gnu"), Some(AbiTag::Other(_))));
    }

    #[test]
    fn tags_are_judged() {
        let abi = "cpython-311-x86_64-linux-gnu";
        assert_eq!(verdict("cpython-311-x86_64-linux-gnu", abi), TagVerdict::Ok);
        assert_eq!(verdict("abi3", abi), TagVerdict::Ok);
        assert!(matches!(verdict("cpython-39-x86_64-linux-gnu", abi), TagVerdict::Mismatch(_)));
        assert!(matches!(verdict("cpython-37m-x86_64-linux-gnu", abi), TagVerdict::Mismatch(_)));
        assert!(matches!(verdict("cpython-311-aarch64-linux-gnu", abi), TagVerdict::Mismatch(_)));
        assert_eq!(verdict("cpython-311-x86_64-linux-musl", abi), TagVerdict::Libc("musl"));
        assert!(matches!(verdict("pypy39-pp73-x86_64-linux-gnu", abi), TagVerdict::Mismatch(_)));
        let ft = "cpython-313t-x86_64-linux-gnu";
        assert!(matches!(verdict("cpython-313-x86_64-linux-gnu", ft), TagVerdict::Mismatch(_)));
        assert!(matches!(verdict("abi3", ft), TagVerdict::Mismatch(_)));
        assert_eq!(verdict("cpython-313t-x86_64-linux-gnu", ft), TagVerdict::Ok);
        assert_eq!(verdict("cpython-37m-x86_64-linux-gnu", "cpython-37m-x86_64-linux-gnu"), TagVerdict::Ok);
        let pypy = Expect::of(&py("pypy39-pp73-x86_64-linux-gnu", "PyPy"));
        assert!(matches!(judge_tag(&AbiTag::Abi3, &pypy), TagVerdict::Mismatch(_)));
        // Without an ABI tag the version alone decides.
        let bare = Expect::of(&Python { version: Some("3.12.1".into()), ..Python::default() });
        assert_eq!(judge_tag(&parse_abi_tag("cpython-312-x86_64-linux-gnu").unwrap(), &bare), TagVerdict::Ok);
        assert!(matches!(
            judge_tag(&parse_abi_tag("cpython-311-x86_64-linux-gnu").unwrap(), &bare),
            TagVerdict::Mismatch(_)
        ));
    }

    #[test]
    fn shared_object_names() {
        assert!(is_shared_object_name("_x.cpython-311-x86_64-linux-gnu.so"));
        assert!(is_shared_object_name("libgfortran-040039e1.so.5.0.0"));
        assert!(!is_shared_object_name("x.py"));
        assert!(!is_shared_object_name("solver.pyc"));
    }
}
