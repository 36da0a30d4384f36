//! `extension-*`: will every extension module under a venv's site-packages import on this
//! host, in this interpreter? Judged from ELF headers only, the way the import system and
//! the dynamic loader would judge it: the file-name ABI tag, machine and C library of the
//! module, then everything its import maps ([`crate::host::loader`]): DT_NEEDED found as ld.so
//! finds them, `GLIBC_x.y` and other symbol versions, and the C-API symbols it needs.
//!
//! Files are classified first, because a site-packages tree holds more than extension
//! modules: auditwheel's bundled libraries (`numpy.libs/`) are judged only as part of the
//! modules that map them (alone, they lack their siblings' search path), while other `.so`
//! files that no module maps (debugpy's attach helpers for other architectures, plugins of
//! other programs, ctypes libraries) fail only if something loads them: their problems are
//! warnings, and the machine of non-bundled ones is not judged.
//!
//! Then a gate's question decides severity: a module that cannot load is an error only when
//! the application will load it, which the venv's import graph tells ([`Importance`],
//! [`crate::inspect::imports`]): reached from a top-level import through imports that always
//! run, imported by `--app` code, or unknown. Each file is named by the distribution whose
//! RECORD lists it ([`Owners`]).

use super::tree;
use crate::host::HostFacts;
use crate::host::loader::{self, Closure, ElfCache, FileId, Loader, Process, Unfound};
use crate::host::paths::{HostRoot, display};
use crate::inspect::Inspected;
use crate::inspect::imports::{self, AppImports, EntryKind, ParseCache, Reach, Reachability, SourceTree};
use crate::inspect::packages::normalize_name;
use crate::parse::abi_tag::{AbiTag, extension_abi_tag, parse_abi_tag, platform_libc};
use crate::parse::elf::{self, ElfInfo, LibcFlavor};
use crate::parse::pyimport::When;
use crate::report::FindingId;
use crate::report::{Finding, Python, ScanError, Severity};
use rayon::prelude::*;
use serde_json::json;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const REINSTALL: &str = "Reinstall the distribution from a wheel built for this Python and host (`pip install --force-reinstall --no-cache-dir NAME`), or recreate the environment with the Python it was built for";

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
    Libc(Option<LibcFlavor>),
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
                    return TagVerdict::Libc(pl);
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
    /// The distribution directory (`x-1.0.dist-info`, `x.egg-info`) whose file list names
    /// this file, or, for a file no list names, the one listing files in its nearest
    /// directory: `(name, listed)`.
    listed_by: Option<(String, bool)>,
}

/// File names of shared objects: `x.so` and versioned `libx.so.1.2`.
fn is_shared_object_name(name: &str) -> bool {
    name.ends_with(".so") || name.contains(".so.")
}

/// At most this much of one RECORD or `installed-files.txt` is read to find shared objects.
const MAX_FILE_LIST: u64 = 16 << 20;

/// The shared objects under a venv's site-packages, found the way installers record them
/// rather than by walking every file: a venv of 110 distributions holds 30,000 files and 400
/// shared objects, and the walk was 90% of the family's time.
///
/// Per site-packages directory, the candidates are the regular files named like shared
/// objects in every directory where a `*.dist-info/RECORD` or `*.egg-info/installed-files.txt`
/// lists one (listed or not: a module swapped for another build is found), plus every shared
/// object under the top-level entries that no such list claims (a package copied in by hand,
/// a `.egg` directory, a distribution whose metadata is gone), found by a walk of those
/// entries only. No link is followed and nothing outside the directory is looked at. A shared
/// object added after install to a listed package's directory that held none is not judged.
fn candidates(root: &HostRoot, v: &Inspected) -> Vec<Candidate> {
    let mut found = Vec::new();
    for (sp, base) in site_dirs(root, v) {
        candidates_in(&sp, &base, &mut found);
    }
    found
}

/// The venv's site-packages directories once each, as (view path, real path), in
/// `sys.path` order.
fn site_dirs(root: &HostRoot, v: &Inspected) -> Vec<(PathBuf, PathBuf)> {
    let mut seen_dirs = Vec::new();
    let mut out = Vec::new();
    for sp in &v.site_packages {
        let Ok(resolved) = root.resolve(sp) else { continue };
        if seen_dirs.contains(&resolved) {
            continue;
        }
        seen_dirs.push(resolved.clone());
        out.push((sp.clone(), root.real(&resolved)));
    }
    out
}

/// The candidates of one site-packages directory: `sp` as shown, `base` its real path.
fn candidates_in(sp: &Path, base: &Path, found: &mut Vec<Candidate>) {
    let Some(mut below) = tree::Below::open(base) else { return };
    let Ok(entries) = std::fs::read_dir(base) else { return };
    // Top-level entries some list claims, and the directories holding the shared objects
    // the lists name.
    let mut claimed: HashSet<std::ffi::OsString> = HashSet::new();
    let mut object_dirs: BTreeSet<String> = BTreeSet::new();
    // Owners: the list naming each shared object, whatever its name (`libx.so.12` too), and
    // the first list naming a file in each directory (for files no list names).
    let mut lists: Vec<String> = Vec::new();
    let mut listed: HashMap<String, usize> = HashMap::new();
    let mut dir_owner: HashMap<String, usize> = HashMap::new();
    // RECORD lists a package's files together, so the top-level name and the directory
    // repeat line after line: they are hashed and stored only when they change (per-line
    // work is what a fleet of large RECORDs costs).
    let mut last_top = String::new();
    let mut last_dir = String::new();
    let mut note = |mut path: &str, list: usize, claimed: &mut HashSet<std::ffi::OsString>| {
        while let Some(rest) = path.strip_prefix("./") {
            path = rest;
        }
        if path.starts_with('/')
            || path.as_bytes().split(|&b| b == b'/').any(|c| c == b".." || c == b"." || c.is_empty())
        {
            return;
        }
        let (top, dir, name) = match (memchr::memchr(b'/', path.as_bytes()), memchr::memrchr(b'/', path.as_bytes())) {
            (Some(first), Some(last)) => (&path[..first], &path[..last], &path[last + 1..]),
            _ => (path, "", path),
        };
        if top != last_top {
            claimed.insert(top.into());
            top.clone_into(&mut last_top);
        }
        if dir != last_dir {
            dir_owner.entry(dir.to_owned()).or_insert(list);
            dir.clone_into(&mut last_dir);
        }
        if memchr::memmem::find(name.as_bytes(), b".so").is_some() && is_shared_object_name(name) {
            object_dirs.insert(dir.to_owned());
            listed.entry(path.to_owned()).or_insert(list);
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let bytes = name.as_bytes();
        let list = if bytes.ends_with(b".dist-info") {
            "RECORD"
        } else if bytes.ends_with(b".egg-info") {
            "installed-files.txt"
        } else {
            continue;
        };
        let Ok(text) = below.read_bounded(&Path::new(&name).join(list), MAX_FILE_LIST) else { continue };
        claimed.insert(name.clone());
        let index = lists.len();
        lists.push(display(Path::new(&name)));
        // Every path, not only the shared objects': the lists' top-level names are what
        // is not walked.
        let text = crate::host::paths::backslash_utf8(&text);
        if list == "RECORD" {
            crate::parse::record::paths(&text).for_each(|p| note(&p, index, &mut claimed));
        } else {
            crate::inspect::packages::installed_files(&name, &text).for_each(|p| note(&p, index, &mut claimed));
        }
    }
    // The list naming a file, else the one naming files in its nearest directory.
    let owner_of = |rel: &str| -> Option<(String, bool)> {
        if let Some(&i) = listed.get(rel) {
            return Some((lists[i].clone(), true));
        }
        let mut dir = rel;
        while let Some((up, _)) = dir.rsplit_once('/') {
            if let Some(&i) = dir_owner.get(up) {
                return Some((lists[i].clone(), false));
            }
            dir = up;
        }
        None
    };
    // Every shared object in those directories, listed or not: a module swapped for another
    // build (copied in under its own ABI tag, the listed one removed) is what is judged.
    let is_object = |n: &[u8]| is_shared_object_name(&String::from_utf8_lossy(n));
    for dir in object_dirs {
        for (name, st) in below.list(Path::new(&dir), is_object) {
            if st.kind == tree::Kind::File {
                let rel = Path::new(&dir).join(&name);
                let shown = display(&rel);
                found.push(Candidate {
                    view: sp.join(&rel),
                    real: base.join(&rel),
                    listed_by: owner_of(&shown),
                    rel: shown,
                    dev: st.dev,
                    ino: st.ino,
                });
            }
        }
    }
    tree::walk_where(base, |e| {
        if e.depth == 1 && claimed.contains(e.rel.as_os_str()) {
            return false;
        }
        if e.kind == tree::Kind::File && e.rel.file_name().is_some_and(|n| is_shared_object_name(&n.to_string_lossy()))
        {
            found.push(Candidate {
                view: sp.join(e.rel),
                real: base.join(e.rel),
                rel: display(e.rel),
                dev: e.dev,
                ino: e.ino,
                listed_by: None,
            });
        }
        true
    });
}

/// Who owns a file: the distribution whose RECORD (or installed-files.txt) lists it, whatever
/// the file's name; for a file no list names, the distribution listing files in its nearest
/// directory, else the one whose bundled-library directory (`pillow.libs`) or top-level
/// package it sits in, and the finding says the owner was guessed.
struct Owners {
    by_top: HashMap<String, String>,
    by_norm: HashMap<String, String>,
}

/// A file's owner and how it was told.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    name: String,
    /// A file list names the file (`false`: guessed from its directory).
    listed: bool,
}

impl Owner {
    /// Name the owner on a finding, and how it was told (`owner_by`: `record` when a file list
    /// names the file, `directory` when guessed, which the message says).
    fn apply(&self, f: Finding) -> Finding {
        let mut f = f.with_package(&self.name).detail("owner_by", if self.listed { "record" } else { "directory" });
        if !self.listed {
            f.message.push_str(&format!(" [no RECORD lists this file: {} is the owner of its directory]", self.name));
        }
        f
    }
}

impl Owners {
    fn of(v: &Inspected) -> Owners {
        let mut o = Owners { by_top: HashMap::new(), by_norm: HashMap::new() };
        for p in v.venv.packages.iter().flatten() {
            o.by_norm.insert(p.normalized_name.clone(), p.name.clone());
            for e in &p.extensions {
                if let Some(top) = e.path.split('/').next().filter(|t| e.path.contains('/') && !t.is_empty()) {
                    o.by_top.entry(top.to_owned()).or_insert_with(|| p.name.clone());
                }
            }
        }
        o
    }

    /// The distribution a metadata directory (`nvidia_cufile-1.0.dist-info`,
    /// `foo-1.0-py3.8.egg-info`) belongs to, as the inventory names it.
    fn of_metadata_dir(&self, dir: &str) -> String {
        let stem = dir.strip_suffix(".dist-info").or_else(|| dir.strip_suffix(".egg-info")).unwrap_or(dir);
        let name = stem.split('-').next().unwrap_or(stem);
        self.by_norm.get(&normalize_name(name)).cloned().unwrap_or_else(|| name.to_owned())
    }

    fn owner(&self, c: &Candidate) -> Option<Owner> {
        if let Some((dir, listed)) = &c.listed_by {
            return Some(Owner { name: self.of_metadata_dir(dir), listed: *listed });
        }
        let top = c.rel.split('/').next()?;
        if let Some(stem) = top.strip_suffix(".libs")
            && let Some(n) = self.by_norm.get(&normalize_name(stem))
        {
            return Some(Owner { name: n.clone(), listed: false });
        }
        self.by_top.get(top).map(|n| Owner { name: n.clone(), listed: false })
    }
}

/// What the family shares between the venvs of a run: parsed ELF headers and tokenized Python
/// files (a fleet holds the same packages many times over).
#[derive(Default)]
pub struct Shared {
    /// ELF headers and system library lookups.
    pub elf: ElfCache,
    /// The imports of Python source files.
    pub parses: ParseCache,
}

/// Run the extension checks for one venv, judged against `python` (the venv's own
/// interpreter, or `--target-python`). Unreadable files are returned as scan errors.
///
/// Extension modules are judged with everything their import maps (see [`crate::host::loader`]);
/// a shared object that some module's import maps is judged only as part of that module, so
/// a bundled library that finds its siblings through the module's RPATH is not a finding.
/// Shared objects that no module maps are judged on their own, as warnings: they fail only
/// when something (ctypes, another program) loads them.
///
/// `services_path` is the LD_LIBRARY_PATH that services using the venv set: the loader
/// searches it too (a module that finds its library only there loads under that service).
pub fn check(
    root: &HostRoot,
    host: &HostFacts,
    v: &Inspected,
    python: &Python,
    shared: &Shared,
    services_path: &[PathBuf],
    app: Option<&AppImports>,
) -> (Vec<Finding>, Vec<ScanError>) {
    let owners = Owners::of(v);
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    let parsed: Vec<(Candidate, Result<Arc<ElfInfo>, String>)> = candidates(root, v)
        .into_par_iter()
        .filter(|c| elf::has_elf_magic(&c.real))
        .map(|c| {
            let parsed = shared.elf.parse_real(&c.real, (c.dev, c.ino));
            (c, parsed)
        })
        .collect();
    for (c, parsed) in parsed {
        match parsed {
            Ok(info) => objects.push(Object { owner: owners.owner(&c), c, info }),
            Err(e) => errors.push(ScanError { path: display(&c.view), message: e }),
        }
    }
    let place = Place { venv: &v.venv.path, base: &v.path, overlay: None, labels: None };
    let reach = |failing: &HashSet<String>| reachability_of(root, v, app, &shared.parses, failing);
    let (findings, more) = judge_objects(root, host, python, shared, services_path, &place, objects, reach);
    errors.extend(more);
    (findings, errors)
}

/// A shared object to judge, found and parsed: where it is, who owns it, its headers.
pub struct Object {
    c: Candidate,
    info: Arc<ElfInfo>,
    owner: Option<Owner>,
}

impl Object {
    /// A member of a wheel, as if installed at `view` (below an [`loader::Overlay`] root), at
    /// `rel` below site-packages, with a made-up identity, owned by the distribution `owner`
    /// (the wheel's RECORD lists every member).
    pub fn member(view: PathBuf, rel: String, id: FileId, info: Arc<ElfInfo>, owner: &str) -> Object {
        let c = Candidate { real: view.clone(), view, rel, dev: id.0, ino: id.1, listed_by: None };
        Object { c, info, owner: Some(Owner { name: owner.to_owned(), listed: true }) }
    }
}

/// Where the judged objects are: the environment findings name, the directory paths are shown
/// relative to, and for an artefact the overlay the loader reads its members from and the
/// label each member is shown by (`wheel.whl:pkg/x.so`).
pub struct Place<'a> {
    /// The `venv` of the findings (the environment, or the artefact).
    pub venv: &'a str,
    /// Paths below it are shown relative to it.
    pub base: &'a Path,
    /// Files the loader finds in no filesystem.
    pub overlay: Option<&'a loader::Overlay>,
    /// How a file is named in the `file` detail, when not by its path.
    pub labels: Option<&'a HashMap<PathBuf, String>>,
}

/// Judge shared objects the way an import maps them: modules first, then what no module maps;
/// severity by `reach` (called only when something fails, with the failing modules' top-level
/// packages). The same judgement for an installed venv and for an artefact's wheels.
#[allow(clippy::too_many_arguments)]
pub fn judge_objects(
    root: &HostRoot,
    host: &HostFacts,
    python: &Python,
    shared: &Shared,
    services_path: &[PathBuf],
    place: &Place,
    objects: Vec<Object>,
    reach: impl FnOnce(&HashSet<String>) -> Reachability,
) -> (Vec<Finding>, Vec<ScanError>) {
    let cache = &shared.elf;
    let want = Expect::of(python);
    let machine = python.machine.clone().or_else(|| host.host.arch.clone());
    let mut loader = Loader::new(root, &host.libs, cache).with_library_path(services_path.to_vec());
    if let Some(o) = place.overlay {
        loader = loader.with_overlay(o);
    }
    let process = loader.process(interpreter_executable(root, python).as_deref());
    let judge = Judge { host, place, want: &want, machine: machine.as_deref(), loader: &loader, process: &process };

    let mut errors = Vec::new();
    let subjects: Vec<Subject> = objects.into_iter().map(|o| judge.subject(o.c, o.info, o.owner)).collect();

    // Modules first: what their imports map is what the rest is judged by.
    let modules: Vec<(&Subject, Verdict)> =
        subjects.par_iter().filter(|s| s.role == Role::Module).map(|s| (s, judge.judge(s))).collect();
    // Whether a failing module matters is a question only when one fails: the import graph
    // is read then, once per venv.
    let failing: HashSet<String> = modules
        .iter()
        .filter(|(_, m)| !m.findings.is_empty() || !m.failures.is_empty())
        .filter_map(|(s, _)| imports::module_of_file(&s.c.rel))
        .map(|m| m.split('.').next().unwrap_or_default().to_owned())
        .collect();
    let any_failing = modules.iter().any(|(_, m)| !m.findings.is_empty() || !m.failures.is_empty());
    let reach = any_failing.then(|| reach(&failing));
    let mut findings = Vec::new();
    let mut mapped: HashSet<FileId> = HashSet::new();
    let mut failures = Vec::new();
    for (s, m) in modules {
        mapped.extend(m.mapped);
        errors.extend(m.error);
        if m.findings.is_empty() && m.failures.is_empty() {
            continue;
        }
        let importance = Arc::new(Importance::of_module(&s.c.rel, reach.as_ref()));
        for mut f in m.findings {
            importance.apply(&mut f);
            findings.push(f);
        }
        failures.extend(m.failures.into_iter().map(|f| Failure { importance: importance.clone(), ..f }));
    }

    let standalone: Vec<Verdict> = subjects
        .par_iter()
        .filter(|s| s.role != Role::Module && !mapped.contains(&(s.c.dev, s.c.ino)))
        .map(|s| judge.judge(s))
        .collect();
    let not_loaded = Arc::new(Importance::not_loaded());
    for o in standalone {
        for mut f in o.findings {
            not_loaded.apply(&mut f);
            findings.push(f);
        }
        failures.extend(o.failures.into_iter().map(|f| Failure { importance: not_loaded.clone(), ..f }));
        errors.extend(o.error);
    }
    findings.extend(group(failures, place.venv));
    (findings, errors)
}

/// A venv's site-packages directory, read for the import graph through [`tree::Below`]: no
/// link is followed and nothing outside it is opened.
struct SiteTree(tree::Below);

impl SourceTree for SiteTree {
    fn list(&mut self, dir: &str) -> Option<Vec<(String, EntryKind)>> {
        Some(
            self.0
                .kinds(Path::new(dir))?
                .into_iter()
                .filter_map(|(name, kind)| {
                    // A link or special file is named as a file, so that a linked `__init__.py`
                    // is a package whose source cannot be read (Below refuses it): unknown, not
                    // a namespace that imports nothing. Linked directories are not entered.
                    let kind = match kind {
                        tree::Kind::Dir => EntryKind::Dir,
                        _ => EntryKind::File,
                    };
                    Some((name.into_string().ok()?, kind))
                })
                .collect(),
        )
    }

    fn read(&mut self, file: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        self.0.read_bounded(Path::new(file), limit)
    }

    fn identity(&mut self, file: &str) -> Option<imports::FileIdentity> {
        self.0.identity(Path::new(file))
    }
}

/// The import graph of a venv's site-packages directories (and of the application).
/// `failing`: the top-level packages of the modules that fail, the only ones whose optional
/// imports are followed to name the kind of warning.
fn reachability_of(
    root: &HostRoot,
    v: &Inspected,
    app: Option<&AppImports>,
    parses: &ParseCache,
    failing: &HashSet<String>,
) -> Reachability {
    let mut trees: Vec<SiteTree> =
        site_dirs(root, v).into_iter().filter_map(|(_, real)| tree::Below::open(&real).map(SiteTree)).collect();
    imports::reachability(&mut trees, app, imports::Limits::default(), parses, Some(failing))
}

/// Whether a file that fails to load fails what the application runs, and why: the severity
/// of its findings and the details that say so.
#[derive(Debug)]
struct Importance {
    severity: Severity,
    /// `top-level-import`, `application`, `unknown`, `guarded`, `lazy`, `type-checking`,
    /// `not-imported`, `not-loaded`.
    reachability: &'static str,
    reason: String,
    /// The imports leading to the module, root first.
    chain: Vec<String>,
}

/// Remediation of a failure nothing requires.
const NOT_REQUIRED: &str = "Nothing to do unless code imports this module (by a computed name, or in the code path given); to make it load, install the library it needs or reinstall the distribution (`pip install --force-reinstall --no-cache-dir NAME`)";

impl Importance {
    /// An extension module, at `rel` below its site-packages directory, judged by how the
    /// venv's code reaches it (`None`: the graph was not built).
    fn of_module(rel: &str, reach: Option<&Reachability>) -> Importance {
        let reach = match (imports::module_of_file(rel), reach) {
            (Some(m), Some(r)) => r.of(&m),
            (None, _) => Reach::Unknown(format!("{rel} is not at an importable module path")),
            (Some(_), None) => Reach::Unknown("the import graph was not read".into()),
        };
        let chain = |c: &[imports::Step]| c.iter().map(ToString::to_string).collect::<Vec<_>>();
        let first_conditional = |c: &[imports::Step], w: When| {
            c.iter().find(|s| s.when == w).map(|s| format!("{}:{}", s.file, s.line)).unwrap_or_default()
        };
        let (severity, reachability, reason, chain) = match &reach {
            Reach::TopLevel(c) if c.is_empty() => {
                (Severity::Error, "top-level-import", "it is a top-level module: importing its name loads it".to_owned(), Vec::new())
            }
            Reach::TopLevel(c) => (
                Severity::Error,
                "top-level-import",
                format!("importing its distribution loads it ({})", chain(c).join("; ")),
                chain(c),
            ),
            Reach::Application(c) => (
                Severity::Error,
                "application",
                format!("the application imports it ({})", chain(c).join("; ")),
                chain(c),
            ),
            Reach::Unknown(why) => (Severity::Error, "unknown", format!("{why}; treated as required"), Vec::new()),
            Reach::Optional(When::Guarded, c) => (
                Severity::Warning,
                "guarded",
                format!(
                    "imported only under a guard that handles its ImportError ({}): what imports it works without it",
                    first_conditional(c, When::Guarded)
                ),
                chain(c),
            ),
            Reach::Optional(When::TypeChecking, c) => (
                Severity::Warning,
                "type-checking",
                format!("imported only under `if TYPE_CHECKING:` ({}), never at run time", first_conditional(c, When::TypeChecking)),
                chain(c),
            ),
            Reach::Optional(_, c) => (
                Severity::Warning,
                "lazy",
                format!(
                    "imported only inside a function or a __main__ block ({}): it fails when that code runs",
                    first_conditional(c, When::Lazy)
                ),
                chain(c),
            ),
            Reach::NotImported => (
                Severity::Warning,
                "not-imported",
                "no top-level import of the environment reaches it (a plugin, an optional module or a leftover): it fails only when something imports it".to_owned(),
                Vec::new(),
            ),
        };
        Importance { severity, reachability, reason, chain }
    }

    /// A shared object no extension module loads.
    fn not_loaded() -> Importance {
        Importance {
            severity: Severity::Warning,
            reachability: "not-loaded",
            reason: "no extension module loads it: it fails only when something else, such as ctypes, loads it".into(),
            chain: Vec::new(),
        }
    }

    /// The caveat appended to a finding's message.
    fn caveat(&self) -> String {
        match self.severity {
            Severity::Error if self.reachability == "application" => " (the application imports it)".into(),
            Severity::Error => String::new(),
            _ => format!(" (not required: {})", self.reason),
        }
    }

    /// Set a finding's severity, caveat, remediation and reachability details.
    fn apply(&self, f: &mut Finding) {
        f.severity = self.severity;
        f.message.push_str(&self.caveat());
        if self.severity != Severity::Error {
            NOT_REQUIRED.clone_into(&mut f.remediation);
        }
        self.details(&mut f.details);
    }

    fn details(&self, d: &mut serde_json::Map<String, serde_json::Value>) {
        d.insert("reachable".into(), json!(self.severity == Severity::Error));
        d.insert("reachability".into(), json!(self.reachability));
        d.insert("reason".into(), json!(self.reason));
        if !self.chain.is_empty() {
            d.insert("import_chain".into(), json!(self.chain));
        }
        // Before reachability, `optional: true` marked the one kind of module nothing requires
        // (an optional backend); playbooks filtering on it keep working.
        if self.severity != Severity::Error && self.reachability != "not-loaded" {
            d.insert("optional".into(), json!(true));
        }
    }
}

/// What judging one shared object gives.
struct Verdict {
    /// Findings about the file itself (name, machine, C library).
    findings: Vec<Finding>,
    /// Its load failures, grouped into findings later.
    failures: Vec<Failure>,
    /// Every file its load maps.
    mapped: Vec<FileId>,
    /// The closure was too big to judge whole.
    error: Option<ScanError>,
}

/// The interpreter executable whose process imports the modules, as a resolved view path:
/// `/proc/self/exe` is the resolved file, and its `$ORIGIN` is that file's directory.
fn interpreter_executable(root: &HostRoot, python: &Python) -> Option<PathBuf> {
    [python.executable.as_deref(), python.base_executable.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|p| root.resolve(Path::new(p)).ok())
}

/// One shared object of the venv, parsed and classified.
struct Subject {
    c: Candidate,
    info: Arc<ElfInfo>,
    role: Role,
    /// The file name's ABI tag, raw and parsed.
    tag: Option<(String, AbiTag)>,
    owner: Option<Owner>,
}

/// One module (or standalone object) whose load fails, before findings are grouped.
struct Failure {
    id: FindingId,
    owner: Option<Owner>,
    /// The loaded file, as shown.
    subject: String,
    /// What fails, the same for every module that fails the same way (grouping key).
    what: String,
    /// Remaining message after the subject.
    message: String,
    details: serde_json::Map<String, serde_json::Value>,
    /// Whether the failure matters (shared by every failure of one file).
    importance: Arc<Importance>,
}

/// One finding per (id, distribution, cause): forty numpy modules that all miss the same
/// deleted bundled library are one finding listing the forty modules.
fn group(mut failures: Vec<Failure>, venv: &str) -> Vec<Finding> {
    /// Modules listed in one finding; `modules_total` counts the rest.
    const LISTED: usize = 50;
    // Modules reached alike are one finding (forty numpy modules missing one library); an
    // `unknown` reach keeps its own cause (the file to look at), which the others do not need.
    let key = |f: &Failure| {
        let unknown = (f.importance.reachability == "unknown").then(|| f.importance.reason.clone());
        (f.id, f.owner.as_ref().map(|o| o.name.clone()), f.importance.reachability, unknown, f.what.clone())
    };
    failures.sort_by(|a, b| (key(a), &a.subject).cmp(&(key(b), &b.subject)));
    let mut out: Vec<Finding> = Vec::new();
    let mut i = 0;
    while i < failures.len() {
        let mut j = i + 1;
        while j < failures.len() && key(&failures[j]) == key(&failures[i]) {
            j += 1;
        }
        let first = &failures[i];
        let others = j - i - 1;
        let subject = match others {
            0 => first.subject.clone(),
            1 => format!("{} (and 1 other module)", first.subject),
            n => format!("{} (and {n} other modules)", first.subject),
        };
        let mut f =
            Finding::new(first.id, Severity::Error, Some(venv), format!("{subject} {}", first.message), REINSTALL);
        f.details = first.details.clone();
        first.importance.apply(&mut f);
        if others > 0 {
            let listed: Vec<&str> = failures[i..j].iter().take(LISTED).map(|x| x.subject.as_str()).collect();
            f = f.detail("modules", listed).detail("modules_total", j - i);
        }
        if let Some(o) = &first.owner {
            f = o.apply(f);
        }
        out.push(f);
        i = j;
    }
    out
}

struct Judge<'a> {
    host: &'a HostFacts,
    place: &'a Place<'a>,
    want: &'a Expect,
    machine: Option<&'a str>,
    loader: &'a Loader<'a>,
    process: &'a Process,
}

impl Judge<'_> {
    fn subject(&self, c: Candidate, info: Arc<ElfInfo>, owner: Option<Owner>) -> Subject {
        let name = c.rel.rsplit('/').next().unwrap_or(&c.rel);
        let tag = extension_abi_tag(name).and_then(|t| parse_abi_tag(&t).map(|p| (t, p)));
        let role = if tag.is_some() || info.py_init.is_some() {
            Role::Module
        } else if c.rel.split('/').any(|part| part.ends_with(".libs")) {
            Role::Bundled
        } else {
            Role::Other
        };
        Subject { c, info, role, tag, owner }
    }

    /// A shared object: its own name, machine and C library, then the closure of its load
    /// (an extension module's import; anything else as `ctypes` would load it). Findings are
    /// errors until the caller weighs them by how the file is reached ([`Importance`]).
    fn judge(&self, s: &Subject) -> Verdict {
        let (findings, stop) = self.own(s);
        if stop {
            return Verdict { findings, failures: Vec::new(), mapped: Vec::new(), error: None };
        }
        let closure = self.loader.load(self.process, &s.c.view, (s.c.dev, s.c.ino), s.info.clone());
        let error = closure.truncated.then(|| ScanError {
            path: self.file(&s.c.view),
            message: format!(
                "its load maps more than {} shared objects; the rest were not judged",
                loader::MAX_OBJECTS
            ),
        });
        Verdict {
            findings,
            failures: self.failures(s, &closure),
            mapped: closure.added().iter().map(|o| o.id).collect(),
            error,
        }
    }

    /// Checks of the file itself: C library, file-name ABI tag, machine. `stop` is true when
    /// the file cannot be mapped at all, so its dependencies are not worth judging.
    fn own(&self, s: &Subject) -> (Vec<Finding>, bool) {
        let (c, info) = (&s.c, &s.info);
        let venv = Some(self.place.venv);
        let shown = self.shown(&c.view);
        let mk = |id: FindingId, message: String| {
            let f = Finding::new(id, Severity::Error, venv, message, REINSTALL).detail("file", self.file(&c.view));
            match &s.owner {
                Some(o) => o.apply(f),
                None => f,
            }
        };
        let mut out = Vec::new();

        // The C library: a musl object on glibc (or the reverse) fails before anything else.
        let host_libc = self.host.libc.flavor;
        // Either the ELF linkage or the file name's platform may say so; the linkage decides
        // whether the loader can map it, the name whether `import` even looks at it.
        let tag_libc = s.tag.as_ref().and_then(|(_, t)| match t {
            AbiTag::CPython { platform: Some(p), .. } => platform_libc(p),
            _ => None,
        });
        let elf_libc = info.linked_libc();
        let foreign_libc = |l: Option<LibcFlavor>| match (host_libc, l) {
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
                    FindingId::ExtensionLibcMismatch,
                    format!(
                        "{shown} {how} {} but the host's C library is {}",
                        other.as_str(),
                        host_libc.map_or("?", LibcFlavor::as_str)
                    ),
                )
                .detail("linked_libc", elf_libc.map(LibcFlavor::as_str))
                .detail("tag_libc", tag_libc.map(LibcFlavor::as_str))
                .detail("host_libc", host_libc.map(LibcFlavor::as_str)),
            );
        }

        let mut foreign_tag = false;
        if let Some((raw, parsed)) = &s.tag
            && let TagVerdict::Mismatch(why) = judge_tag(parsed, self.want)
        {
            foreign_tag = true;
            out.push(
                mk(
                    FindingId::ExtensionAbiMismatch,
                    format!("{shown} is {why}; the interpreter expects {}", self.want.describe()),
                )
                .detail("abi_tag", raw.as_str())
                .detail("expected", self.want.describe()),
            );
        }

        // The machine of a file nothing loads is not judged: debugpy ships attach helpers
        // for other architectures on purpose.
        if s.role != Role::Other
            && let Some(m) = self.machine
            && info.machine != m
        {
            out.push(
                mk(
                    FindingId::ExtensionArchMismatch,
                    format!("{shown} is built for {} but the interpreter is {m}", info.machine),
                )
                .detail("machine", info.machine.as_str())
                .detail("expected", m),
            );
            // Its libraries would be looked up for another architecture: say no more.
            return (out, true);
        }
        // A file named for another interpreter is never opened by this one's import: its
        // closure is not worth judging (and would repeat the finding).
        let stop = libc_mismatch.is_some()
            || foreign_tag
            || (s.role == Role::Other && self.machine.is_some_and(|m| info.machine != m));
        (out, stop)
    }

    /// Load failures of a closure, attributed to the loaded file.
    fn failures(&self, s: &Subject, closure: &Closure) -> Vec<Failure> {
        let subject = self.shown(&s.c.view);
        let mut out = Vec::new();
        let chain = |i: usize| -> Vec<String> { closure.chain(i).iter().map(|p| self.shown(p)).collect() };
        let base = |id: FindingId, what: String, message: String| Failure {
            id,
            owner: s.owner.clone(),
            subject: subject.clone(),
            what,
            message,
            details: serde_json::Map::from_iter([("file".to_owned(), json!(self.file(&s.c.view)))]),
            importance: Arc::new(Importance::not_loaded()),
        };

        let mut unfound: Vec<&Unfound> = closure.unfound.iter().collect();
        unfound.sort_by(|a, b| a.name.cmp(&b.name));
        if !unfound.is_empty() {
            let mut names: Vec<&str> = unfound.iter().map(|u| u.name.as_str()).collect();
            // Two objects may need the same missing library: name it once.
            names.dedup();
            let via: Vec<String> = unfound
                .iter()
                .filter(|u| u.needed_by != closure.first_new)
                .map(|u| format!("{} needed by {}", u.name, self.shown(&closure.objects[u.needed_by].view)))
                .collect();
            let mut message = format!("cannot be imported: it needs {} which the loader cannot find", names.join(", "));
            if !via.is_empty() {
                message.push_str(&format!(" ({})", via.join("; ")));
            }
            let rejected: Vec<String> = unfound
                .iter()
                .flat_map(|u| u.rejected.iter().map(|(p, why)| format!("{} skipped: {why}", display(p))))
                .collect();
            if !rejected.is_empty() {
                message.push_str(&format!("; {}", rejected.join("; ")));
            }
            let mut f = base(FindingId::ExtensionMissingLibrary, names.join(","), message);
            f.details.insert("libraries".into(), json!(names));
            f.details.insert(
                "chains".into(),
                json!(
                    unfound
                        .iter()
                        .map(|u| {
                            let mut c = chain(u.needed_by);
                            c.push(u.name.clone());
                            c
                        })
                        .collect::<Vec<_>>()
                ),
            );
            f.details.insert(
                "searched".into(),
                json!(unfound.first().map(|u| u.searched.iter().map(|p| display(p)).collect::<Vec<_>>())),
            );
            if !rejected.is_empty() {
                f.details.insert("rejected".into(), json!(rejected));
            }
            out.push(f);
        }
        for (path, e) in &closure.unreadable {
            let mut f = base(
                FindingId::ExtensionMissingLibrary,
                display(path),
                format!("cannot be imported: it needs {}, which is not a loadable ELF object ({e})", display(path)),
            );
            f.details.insert("libraries".into(), json!([display(path)]));
            out.push(f);
        }

        for gap in &closure.symbol_gaps {
            let needer = &closure.objects[gap.object];
            let by = if gap.object == closure.first_new {
                String::new()
            } else {
                format!(" (through {})", self.shown(&needer.view))
            };
            let more = if gap.count > gap.symbols.len() {
                format!(" and {} more", gap.count - gap.symbols.len())
            } else {
                String::new()
            };
            let mut f = base(
                FindingId::ExtensionAbiMismatch,
                format!("symbols:{}", gap.symbols.join(",")),
                format!(
                    "cannot be imported: it needs {}{more}{by}, which the interpreter ({}) does not define: it was built for another Python",
                    gap.symbols.join(", "),
                    self.want.describe()
                ),
            );
            f.details.insert("symbols".into(), json!(gap.symbols));
            f.details.insert("symbols_missing".into(), json!(gap.count));
            f.details.insert("expected".into(), json!(self.want.describe()));
            f.details.insert("chain".into(), json!(chain(gap.object)));
            out.push(f);
        }

        for gap in &closure.version_gaps {
            let needer = &closure.objects[gap.object];
            let provider = &closure.objects[gap.provider];
            let glibc: Vec<(u32, u32)> = gap.versions.iter().filter_map(|v| elf::glibc_version(v)).collect();
            let by = if gap.object == closure.first_new {
                String::new()
            } else {
                format!(" (through {})", self.shown(&needer.view))
            };
            let mut f = if glibc.len() == gap.versions.len()
                && let Some(&(a, b)) = glibc.iter().max()
            {
                let have =
                    self.host.libc.glibc.map(|(x, y)| format!("{x}.{y}")).unwrap_or_else(|| "an older glibc".into());
                let mut f = base(
                    FindingId::ExtensionGlibcTooNew,
                    format!("GLIBC_{a}.{b}"),
                    format!("cannot be imported: it needs GLIBC_{a}.{b}{by} but the host has glibc {have}"),
                );
                f.details.insert("required".into(), json!(format!("{a}.{b}")));
                f.details.insert("host".into(), json!(self.host.libc.glibc.map(|(x, y)| format!("{x}.{y}"))));
                f
            } else {
                let mut f = base(
                    FindingId::ExtensionLibraryVersionMissing,
                    format!("{}:{}", gap.library, gap.versions.join(",")),
                    format!(
                        "cannot be imported: it needs {} from {}{by}, which {} does not define",
                        gap.versions.join(", "),
                        gap.library,
                        self.file(&provider.view)
                    ),
                );
                f.details.insert("library".into(), json!(gap.library));
                f.details.insert("found".into(), json!(self.file(&provider.view)));
                f
            };
            f.details.insert("versions".into(), json!(gap.versions));
            f.details.insert("chain".into(), json!(chain(gap.object)));
            out.push(f);
        }
        out
    }

    /// A file as the `file` detail names it: its path, or an artefact member's label.
    fn file(&self, p: &Path) -> String {
        match self.place.labels {
            Some(l) => l.get(&loader::fold(p)).cloned().unwrap_or_else(|| display(p)),
            None => display(p),
        }
    }

    /// A path as shown in messages: relative to the venv when inside it, with the `..` of
    /// `$ORIGIN/../x.libs` folded away (for display only: the loader's path is kept as is).
    fn shown(&self, p: &Path) -> String {
        let mut folded = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::ParentDir if folded.parent().is_some() => {
                    folded.pop();
                }
                other => folded.push(other),
            }
        }
        if let Some(label) = self.place.labels.and_then(|l| l.get(&folded)) {
            return label.clone();
        }
        folded.strip_prefix(self.place.base).map(display).unwrap_or_else(|_| display(&folded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_the_listed_files_and_what_no_list_claims() {
        let dir = std::env::temp_dir().join(format!("venvaudit-candidates-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let site = dir.join("site");
        let write = |rel: &str, text: &str| {
            let p = site.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        let tag = "cpython-312-x86_64-linux-gnu";
        write(
            "pkg-1.0.dist-info/RECORD",
            &format!(
                "pkg/__init__.py,,\npkg/_c.{tag}.so,sha256=x,1\n\"pkg.libs/libx.so.1\",,\n../../bin/tool,,\n\
                 pkg/missing.so,,\n/etc/evil.so,,\npkg/../escape.so,,\npkg/link.so,,\npkg-1.0.dist-info/RECORD,,\n"
            ),
        );
        write(&format!("pkg/_c.{tag}.so"), "elf");
        write("pkg.libs/libx.so.1", "elf");
        // Beside a listed shared object: judged (a module swapped for another build).
        write("pkg/_c.cpython-311-x86_64-linux-gnu.so", "elf");
        // Inside a listed package, in a directory where no list names a shared object: not.
        write("pkg/sub/unlisted.so", "elf");
        // No list claims these: found by walking them.
        write("loose/mod.so", "elf");
        write("top.so", "elf");
        write("foo.egg-info/installed-files.txt", "../eggpkg/__init__.py\n../eggpkg/e.so\n../../../bin/x\n");
        write("eggpkg/e.so", "elf");
        write("eggpkg/sub/unlisted2.so", "elf");
        write("../outside/x.so", "elf");
        std::os::unix::fs::symlink(dir.join("outside"), site.join("linkdir")).unwrap();
        std::os::unix::fs::symlink(dir.join("outside/x.so"), site.join("pkg/link.so")).unwrap();

        let mut found = Vec::new();
        candidates_in(Path::new("/view/site"), &site, &mut found);
        let mut rels: Vec<&str> = found.iter().map(|c| c.rel.as_str()).collect();
        rels.sort();
        let module = format!("pkg/_c.{tag}.so");
        let swapped = "pkg/_c.cpython-311-x86_64-linux-gnu.so";
        assert_eq!(rels, ["eggpkg/e.so", "loose/mod.so", "pkg.libs/libx.so.1", swapped, module.as_str(), "top.so"]);
        let c = found.iter().find(|c| c.rel == "pkg.libs/libx.so.1").unwrap();
        assert_eq!(c.view, Path::new("/view/site/pkg.libs/libx.so.1"));
        assert_eq!(c.real, site.join("pkg.libs/libx.so.1"));
        let meta = std::fs::metadata(&c.real).unwrap();
        assert_eq!(
            (c.dev, c.ino),
            (std::os::unix::fs::MetadataExt::dev(&meta), std::os::unix::fs::MetadataExt::ino(&meta))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn py(abi: &str, implementation: &str) -> Python {
        Python { abi: Some(abi.into()), implementation: Some(implementation.into()), ..Python::default() }
    }

    fn verdict(tag: &str, abi: &str) -> TagVerdict {
        judge_tag(&parse_abi_tag(tag).unwrap(), &Expect::of(&py(abi, "CPython")))
    }

    #[test]
    fn tags_are_judged() {
        let abi = "cpython-311-x86_64-linux-gnu";
        assert_eq!(verdict("cpython-311-x86_64-linux-gnu", abi), TagVerdict::Ok);
        assert_eq!(verdict("abi3", abi), TagVerdict::Ok);
        assert!(matches!(verdict("cpython-39-x86_64-linux-gnu", abi), TagVerdict::Mismatch(_)));
        assert!(matches!(verdict("cpython-37m-x86_64-linux-gnu", abi), TagVerdict::Mismatch(_)));
        assert!(matches!(verdict("cpython-311-aarch64-linux-gnu", abi), TagVerdict::Mismatch(_)));
        assert_eq!(verdict("cpython-311-x86_64-linux-musl", abi), TagVerdict::Libc(Some(LibcFlavor::Musl)));
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
