//! `artifact-*`: will an artefact (a wheelhouse, wheels, a `pylock.toml`, a hashed
//! `requirements.txt`, a `uv.lock`) install and import on the target before anything is
//! installed?
//!
//! First the installer's choice is made again: the target's tag list
//! ([`crate::parse::wheel_tags`]), lock markers and `requires-python` for the target, one wheel
//! per distribution by version, then tag rank, then build tag; hashes as pip checks them. Then
//! the selected wheels are judged from their members, as if installed together into one
//! site-packages: their METADATA are the distributions the dependency, vulnerability and
//! forbidden families judge, and their shared objects are judged by the same code as an
//! installed venv's ([`extensions::judge_objects`]), the loader reading the members through an
//! [`Overlay`] and the import graph through [`WheelTree`]. Nothing is extracted or installed.

use super::extensions::{self, Object, Place, Shared};
use crate::host::HostFacts;
use crate::host::loader::{Overlay, fold};
use crate::host::paths::{HostRoot, display};
use crate::inspect::Inspected;
use crate::inspect::imports::{self, AppImports};
use crate::inspect::packages::Headers;
use crate::inspect::wheel::{Wheel, WheelTree, file_digest};
use crate::parse::abi_tag::{AbiTag, parse_abi_tag};
use crate::parse::lock::{Hash, Lock, LockedPackage, parse_lock, parse_requirements_with};
use crate::parse::pep508::normalize_name;
use crate::parse::wheel_tags::{TagRanks, TagTarget, TargetLibc, WheelName, parse_wheel_name, supported_tags};
use crate::report::{
    Artifact, ArtifactInput, ArtifactTarget, Finding, FindingId, MetadataFormat, Package, Python, ScanError,
    SelectedWheel, Severity, SkippedEntry, TextList,
};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::MarkerEnvironment;
use rayon::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

/// Files listed in one wheelhouse or `--find-links` directory at most.
pub const MAX_DIR_ENTRIES: usize = 100_000;
/// Bytes of a lock or requirements file read at most.
pub const MAX_LOCK_BYTES: u64 = 16 << 20;
/// Bytes of a wheel's METADATA read at most.
const MAX_METADATA: u64 = 16 << 20;
/// Where the selected wheels are judged as if installed: the prefix of an environment no
/// scanned system has, so the loader answers for it from the wheels only. Site-packages is
/// `lib/pythonX.Y/site-packages` below it; data-scheme members go where they say below it.
pub const INSTALLED_AS: &str = "/.venvaudit-artifact";

const REBUILD: &str = "Fix the artefact before deploying it (rebuild the wheelhouse or lock for this target)";

/// The interpreter an artefact is judged against, and what follows from it.
pub struct Target {
    /// Its facts.
    pub python: Python,
    /// Each accepted tag's rank (0 is the best).
    ranks: TagRanks,
    /// Its marker environment (`None`: the version is unknown).
    pub env: Option<MarkerEnvironment>,
    /// Its version for Requires-Python.
    pub version: Option<Version>,
    /// The report's description.
    pub described: ArtifactTarget,
}

impl Target {
    /// Describe `python` on `host` (`source`: how it was chosen). `musl`: the musl version
    /// when the host's C library is musl and its version was read.
    pub fn new(python: Python, host: &HostFacts, source: &str, musl: Option<(u32, u32)>) -> Target {
        let pypy = python.implementation.as_deref().is_some_and(|i| i.eq_ignore_ascii_case("pypy"));
        let full = python.version.clone();
        let xy = full.as_deref().and_then(|v| {
            let mut it = v.split('.');
            Some((it.next()?.parse::<u32>().ok()?, it.next()?.parse::<u32>().ok()?))
        });
        let parsed = python.abi.as_deref().and_then(parse_abi_tag);
        let abi_flags = match &parsed {
            Some(AbiTag::CPython { flags, .. }) => flags.clone(),
            _ if xy.is_some_and(|(a, b)| a == 3 && b <= 7) => "m".into(),
            _ => String::new(),
        };
        let pypy_abi = match (&parsed, python.abi.as_deref()) {
            (Some(AbiTag::Other(_)), Some(abi)) if pypy => {
                // `pypy310-pp73-x86_64-linux-gnu` -> `pypy310_pp73`.
                let mut it = abi.split('-');
                match (it.next(), it.next()) {
                    (Some(a), Some(b)) => Some(format!("{a}_{b}")),
                    _ => None,
                }
            }
            _ => None,
        };
        let arch = python.machine.clone().or_else(|| host.host.arch.clone()).unwrap_or_else(|| "x86_64".into());
        let libc = match (host.libc.flavor, host.libc.glibc, musl) {
            (Some(crate::parse::elf::LibcFlavor::Glibc), Some((a, b)), _) => TargetLibc::Glibc(a, b),
            (Some(crate::parse::elf::LibcFlavor::Musl), _, Some((a, b))) => TargetLibc::Musl(a, b),
            _ => TargetLibc::Unknown,
        };
        let tags = TagTarget { pypy, version: xy.unwrap_or((3, 0)), abi_flags, pypy_abi, arch: arch.clone(), libc };
        let list = supported_tags(&tags);
        let ranks = TagRanks::new(&tags);
        let env = super::deps::environment_of(&python);
        let version = full.as_deref().and_then(|v| Version::from_str(v).ok());
        let (libc_name, libc_version) = match libc {
            TargetLibc::Glibc(a, b) => (Some("glibc".to_owned()), Some(format!("{a}.{b}"))),
            TargetLibc::Musl(a, b) => (Some("musl".to_owned()), Some(format!("{a}.{b}"))),
            TargetLibc::Unknown => (host.libc.flavor.map(|f| f.as_str().to_owned()), None),
        };
        let described = ArtifactTarget {
            source: source.to_owned(),
            implementation: if pypy { "PyPy".into() } else { "CPython".into() },
            version: full,
            free_threaded: tags.abi_flags.contains('t'),
            arch: Some(arch),
            libc: libc_name,
            libc_version,
            loader_paths: host.libs.dirs.iter().map(|d| display(d)).collect(),
            best_tags: list.iter().take(10).map(ToString::to_string).collect(),
            tag_count: list.len(),
            python: python.clone(),
        };
        Target { python, ranks, env, version, described }
    }

    /// The best rank of a wheel's tags, `None` when the target accepts none.
    fn rank(&self, w: &WheelName) -> Option<usize> {
        self.ranks.rank(w)
    }

    /// Whether the target's version is inside a Requires-Python (`None`: cannot tell).
    fn accepts(&self, requires: &str) -> Option<bool> {
        let spec = VersionSpecifiers::from_str(requires).ok()?;
        let v = self.version.as_ref()?;
        Some(spec.contains(v))
    }
}

/// The kind of an artefact given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A directory of wheels.
    Wheelhouse,
    /// One `.whl`.
    Wheel,
    /// PEP 751.
    Pylock,
    /// pip requirements.
    Requirements,
    /// uv's lock.
    UvLock,
}

impl InputKind {
    /// What a path is, from its file type and name.
    pub fn of(real: &Path) -> InputKind {
        let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if real.is_dir() {
            InputKind::Wheelhouse
        } else if name.ends_with(".whl") {
            InputKind::Wheel
        } else if name == "uv.lock" {
            InputKind::UvLock
        } else if name == "pylock.toml" || (name.starts_with("pylock.") && name.ends_with(".toml")) {
            InputKind::Pylock
        } else {
            InputKind::Requirements
        }
    }

    /// The report's name.
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::Wheelhouse => "wheelhouse",
            InputKind::Wheel => "wheel",
            InputKind::Pylock => "pylock",
            InputKind::Requirements => "requirements",
            InputKind::UvLock => "uv-lock",
        }
    }
}

/// One artefact: as given and its real path.
#[derive(Debug, Clone)]
pub struct Input {
    /// As given (shown in findings).
    pub shown: String,
    /// The file or directory.
    pub real: PathBuf,
    /// What it is.
    pub kind: InputKind,
}

/// A wheel (or sdist) file found in a directory or named by a lock.
#[derive(Debug, Clone)]
struct File {
    real: PathBuf,
    shown: String,
    wheel: Option<WheelName>,
}

/// The files available to the installer: wheelhouses, wheels given, `--find-links`.
#[derive(Default)]
struct Pool {
    files: Vec<File>,
    /// File name -> index.
    by_name: HashMap<String, usize>,
    /// Source distributions by normalized name: (file, version).
    sdists: HashMap<String, Vec<String>>,
    seen_dirs: HashSet<PathBuf>,
}

impl Pool {
    fn add_file(&mut self, real: PathBuf, shown: String, out: &mut Vec<Finding>, venv: &str) {
        let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if self.by_name.contains_key(&name) {
            return;
        }
        if name.ends_with(".whl") {
            match parse_wheel_name(&name) {
                Ok(w) => {
                    self.by_name.insert(name, self.files.len());
                    self.files.push(File { real, shown, wheel: Some(w) });
                }
                Err(e) => out.push(invalid(venv, Severity::Warning, &shown, 0, &e.to_string(), None)),
            }
        } else if let Some(stem) = name.strip_suffix(".tar.gz").or_else(|| name.strip_suffix(".zip")) {
            // `name-version.tar.gz`: the name is everything before the last dash.
            if let Some((n, _)) = stem.rsplit_once('-') {
                self.sdists.entry(normalize_name(n)).or_default().push(name.clone());
            }
        }
    }

    /// Add the wheels and sdists of a directory (not recursive, as pip's `--find-links`).
    fn add_dir(&mut self, real: &Path, shown: &str, out: &mut Vec<Finding>, venv: &str) {
        let Ok(canon) = real.canonicalize() else {
            out.push(invalid(venv, Severity::Error, shown, 0, "cannot read this directory", None));
            return;
        };
        if !self.seen_dirs.insert(canon) {
            return;
        }
        let entries = match std::fs::read_dir(real) {
            Ok(e) => e,
            Err(e) => {
                out.push(invalid(venv, Severity::Error, shown, 0, &format!("cannot list: {e}"), None));
                return;
            }
        };
        let mut names: Vec<PathBuf> = Vec::new();
        for e in entries.flatten().take(MAX_DIR_ENTRIES + 1) {
            names.push(e.path());
        }
        if names.len() > MAX_DIR_ENTRIES {
            out.push(invalid(
                venv,
                Severity::Error,
                shown,
                0,
                &format!("more than {MAX_DIR_ENTRIES} entries: only the first {MAX_DIR_ENTRIES} were read"),
                None,
            ));
            names.truncate(MAX_DIR_ENTRIES);
        }
        names.sort();
        for p in names {
            if p.is_file() {
                let s = display(&Path::new(shown).join(p.file_name().unwrap_or_default()));
                self.add_file(p, s, out, venv);
            }
        }
    }

    /// Wheels of a distribution at a version (PEP 440 equality; any version when `None`).
    fn wheels_of(&self, normalized: &str, version: Option<&str>) -> Vec<usize> {
        // `==1.0` matches `1.0+cpu` too (PEP 440: a specifier without a local label ignores
        // the candidate's), as pip selects it.
        let want = version.and_then(|v| pep440_rs::VersionSpecifier::from_str(&format!("=={v}")).ok());
        (0..self.files.len())
            .filter(|&i| {
                let Some(w) = &self.files[i].wheel else { return false };
                w.normalized == normalized
                    && match (&want, version) {
                        (None, None) => true,
                        (Some(spec), _) => Version::from_str(&w.version).is_ok_and(|x| spec.contains(&x)),
                        (None, Some(raw)) => w.version == raw,
                    }
            })
            .collect()
    }
}

/// One wheel chosen, before it is opened.
struct Choice {
    file: File,
    name: String,
    version: String,
    tag: String,
    why: String,
    hash_verified: bool,
    input: String,
}

/// What the selection produced.
pub struct Selection {
    /// The report's part.
    pub artifact: Artifact,
    /// Findings about the artefact itself.
    pub findings: Vec<Finding>,
    choices: Vec<Choice>,
}

fn invalid(venv: &str, severity: Severity, file: &str, line: usize, message: &str, package: Option<&str>) -> Finding {
    let at = if line > 0 { format!("{file}:{line}") } else { file.to_owned() };
    let mut f = Finding::new(FindingId::ArtifactInvalid, severity, Some(venv), format!("{at}: {message}"), REBUILD)
        .detail("file", file)
        .detail("line", line);
    if let Some(p) = package {
        f = f.with_package(p);
    }
    f
}

/// The best tag of a wheel the target accepts, and its rank.
fn best_tag(t: &Target, w: &WheelName) -> Option<(usize, String)> {
    t.ranks.best(w).map(|(rank, tag)| (rank, tag.to_string()))
}

/// pip's order among compatible files of one distribution: newest version (final releases
/// before pre-releases unless only pre-releases fit), then best tag, then highest build tag.
fn pick(t: &Target, pool: &Pool, idx: &[usize]) -> Option<(usize, usize, String, String)> {
    let mut ok: Vec<(usize, usize, String, Option<Version>)> = idx
        .iter()
        .filter_map(|&i| {
            let w = pool.files[i].wheel.as_ref()?;
            let (rank, tag) = best_tag(t, w)?;
            Some((i, rank, tag, Version::from_str(&w.version).ok()))
        })
        .collect();
    if ok.iter().any(|c| c.3.as_ref().is_some_and(|v| !v.any_prerelease())) {
        ok.retain(|c| c.3.as_ref().is_some_and(|v| !v.any_prerelease()));
    }
    let build = |i: usize| pool.files[i].wheel.as_ref().and_then(|w| w.build.clone());
    ok.sort_by(|a, b| b.3.cmp(&a.3).then(a.1.cmp(&b.1)).then(build(b.0).cmp(&build(a.0))));
    // pip's resolver passes over a version whose Requires-Python excludes the target and
    // takes the next: read it (from the wheel's METADATA) only while there is a next.
    let mut passed = Vec::new();
    let last = ok.len().saturating_sub(1);
    for (n, (i, rank, tag, v)) in ok.iter().enumerate() {
        let version_differs = ok[n + 1..].iter().any(|c| c.3 != *v);
        if n < last
            && version_differs
            && let Some(rp) = requires_python_of(&pool.files[*i])
            && t.accepts(&rp) == Some(false)
        {
            passed.push(format!("{} (Requires-Python {rp})", pool.files[*i].shown));
            continue;
        }
        let note = if passed.is_empty() { String::new() } else { format!("; passed over {}", passed.join(", ")) };
        return Some((*i, *rank, tag.clone(), note));
    }
    None
}

/// A wheel file's Requires-Python, from its METADATA (`None`: none, or unreadable).
fn requires_python_of(f: &File) -> Option<String> {
    let wheel = Wheel::open(&f.real, &f.shown).ok()?;
    let meta = format!("{}/METADATA", wheel.dist_info()?);
    let idx = wheel.members().iter().find(|m| m.name == meta)?.index;
    let bytes = wheel.read(idx, MAX_METADATA).ok()?;
    Headers::parse(&crate::host::paths::backslash_utf8(&bytes)).get_one("requires-python").map(str::to_owned)
}

/// The offered tags of some files, for a finding (at most 20).
fn offered(pool: &Pool, idx: &[usize]) -> Vec<String> {
    let mut tags: Vec<String> = idx
        .iter()
        .filter_map(|&i| pool.files[i].wheel.as_ref())
        .flat_map(|w| w.tags.iter().map(ToString::to_string))
        .collect();
    tags.sort();
    tags.dedup();
    tags.truncate(20);
    tags
}

fn no_compatible(t: &Target, venv: &str, name: &str, version: Option<&str>, offered: Vec<String>) -> Finding {
    let best: Vec<&str> = t.described.best_tags.iter().take(3).map(String::as_str).collect();
    let v = version.map(|v| format!(" {v}")).unwrap_or_default();
    Finding::new(
        FindingId::ArtifactNoCompatibleWheel,
        Severity::Error,
        Some(venv),
        format!(
            "no wheel of {name}{v} installs on the target: it offers {} and the target accepts {} (best first)",
            if offered.is_empty() { "no wheel".to_owned() } else { offered.join(", ") },
            best.join(", ")
        ),
        "Add a wheel built for the target (its best tags are listed) to the artefact, or build one on a host like it",
    )
    .with_package(name)
    .detail("offered_tags", json!(offered))
    .detail("target_tags", json!(t.described.best_tags))
}

fn sdist_only(venv: &str, name: &str, version: Option<&str>, what: &str) -> Finding {
    let v = version.map(|v| format!(" {v}")).unwrap_or_default();
    Finding::new(
        FindingId::ArtifactSdistOnly,
        Severity::Warning,
        Some(venv),
        format!("{name}{v} has no wheel for the target, only {what}: it will be built on the host at install time and cannot be judged before"),
        "Build the wheel ahead of time on a host like the target (`pip wheel`) and add it to the artefact, so it can be judged",
    )
    .with_package(name)
    .detail("source", what)
}

/// Check a file's digest against the pinned hashes: `Ok(true)` verified, `Ok(false)` nothing
/// to check, `Err(finding)` a mismatch or an unreadable file.
fn verify_hash(file: &File, hashes: &[Hash], venv: &str, name: &str) -> Result<bool, Box<Finding>> {
    if hashes.is_empty() {
        return Ok(false);
    }
    let mut algos: Vec<&str> = hashes.iter().map(|(a, _)| a.as_str()).collect();
    algos.sort();
    algos.dedup();
    let mut computed = Vec::new();
    for algo in algos {
        match file_digest(&file.real, algo) {
            Ok(d) => {
                if hashes.iter().any(|(a, h)| a == algo && h.eq_ignore_ascii_case(&d)) {
                    return Ok(true);
                }
                computed.push(format!("{algo}:{d}"));
            }
            Err(e) => {
                return Err(Box::new(invalid(
                    venv,
                    Severity::Error,
                    &file.shown,
                    0,
                    &format!("cannot hash: {e}"),
                    Some(name),
                )));
            }
        }
    }
    let pinned: Vec<String> = hashes.iter().map(|(a, h)| format!("{a}:{h}")).collect();
    Err(Box::new(Finding::new(
        FindingId::ArtifactHashMismatch,
        Severity::Error,
        Some(venv),
        format!("{} is not the file that was pinned: its hash {} is not among {}", file.shown, computed.join(", "), pinned.join(", ")),
        "Replace the file with the one the lock pins (or re-lock deliberately); a changed file with the same name is what a supply-chain attack looks like",
    )
    .with_package(name)
    .detail("file", file.shown.as_str())
    .detail("computed", json!(computed))
    .detail("pinned", json!(pinned))))
}

/// Read a lock or requirements file (bounded), with `-r`/`-c` includes relative to it.
pub fn read_lock(input: &Input) -> Result<Lock, String> {
    let read = |p: &Path| -> Result<String, String> {
        let f = std::fs::File::open(p).map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        use std::io::Read;
        f.take(MAX_LOCK_BYTES + 1).read_to_end(&mut buf).map_err(|e| e.to_string())?;
        if buf.len() as u64 > MAX_LOCK_BYTES {
            return Err(format!("larger than {MAX_LOCK_BYTES} bytes"));
        }
        String::from_utf8(buf).map_err(|_| "not UTF-8 text".to_owned())
    };
    let text = read(&input.real)?;
    let name = input.real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if input.kind == InputKind::Requirements {
        let dir = input.real.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut include = |rel: &str| read(&dir.join(rel)).ok();
        Ok(parse_requirements_with(&input.shown, &text, &mut include))
    } else {
        // The format is chosen by the file name.
        let mut lock = parse_lock(&name, &text);
        for p in &mut lock.problems {
            p.file = input.shown.clone();
        }
        Ok(lock)
    }
}

/// Make the installer's choice for every artefact.
pub fn select(t: &Target, inputs: &[Input], find_links: &[(PathBuf, String)]) -> Selection {
    let venv = inputs.first().map(|i| i.shown.clone()).unwrap_or_default();
    let venv = venv.as_str();
    let mut findings = Vec::new();
    let mut pool = Pool::default();
    let mut artifact = Artifact {
        path: venv.to_owned(),
        kind: inputs.first().map(|i| i.kind.as_str().to_owned()).unwrap_or_default(),
        inputs: inputs.iter().map(|i| ArtifactInput { path: i.shown.clone(), kind: i.kind.as_str().into() }).collect(),
        target: t.described.clone(),
        ..Artifact::default()
    };
    for i in inputs {
        match i.kind {
            InputKind::Wheelhouse => pool.add_dir(&i.real, &i.shown, &mut findings, venv),
            InputKind::Wheel => pool.add_file(i.real.clone(), i.shown.clone(), &mut findings, venv),
            _ => {}
        }
    }
    for (real, shown) in find_links {
        pool.add_dir(real, shown, &mut findings, venv);
    }
    let mut choices: Vec<Choice> = Vec::new();
    let mut chosen: HashMap<String, String> = HashMap::new();
    let mut keep = |c: Choice, findings: &mut Vec<Finding>, chosen: &mut HashMap<String, String>| {
        let norm = normalize_name(&c.name);
        if let Some(first) = chosen.get(&norm) {
            findings.push(invalid(
                venv,
                Severity::Error,
                &c.input,
                0,
                &format!("{} is selected twice: from {first} and from {}; only the first is judged", c.name, c.input),
                Some(&c.name),
            ));
            return;
        }
        chosen.insert(norm, c.input.clone());
        choices.push(c);
    };

    let locks: Vec<&Input> = inputs
        .iter()
        .filter(|i| matches!(i.kind, InputKind::Pylock | InputKind::Requirements | InputKind::UvLock))
        .collect();
    // Wheels given directly (a wheelhouse, .whl files) are installed when no lock says what
    // to install; with a lock they are only where its files are looked for.
    if locks.is_empty() {
        let mut names: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, f) in pool.files.iter().enumerate() {
            if let Some(w) = &f.wheel {
                names.entry(w.normalized.clone()).or_default().push(i);
            }
        }
        for idx in names.values() {
            let shown_name = pool.files[idx[0]].wheel.as_ref().map(|w| w.name.clone()).unwrap_or_default();
            match pick(t, &pool, idx) {
                Some((i, rank, tag, note)) => {
                    let f = pool.files[i].clone();
                    let w = f.wheel.clone().unwrap_or_else(|| unreachable_wheel(&f));
                    let input = source_of(inputs, &f);
                    let why = format!(
                        "{} of {} wheel(s) offered installs on the target; newest version {}, best tag {tag} (rank {} of {}){}{note}",
                        idx.iter()
                            .filter(|&&j| pool.files[j].wheel.as_ref().is_some_and(|w| t.rank(w).is_some()))
                            .count(),
                        idx.len(),
                        w.version,
                        rank + 1,
                        t.described.tag_count,
                        w.build.as_ref().map(|b| format!(", build {}{}", b.0, b.1)).unwrap_or_default()
                    );
                    keep(
                        Choice {
                            name: w.name.clone(),
                            version: w.version.clone(),
                            tag,
                            why,
                            hash_verified: false,
                            input,
                            file: f,
                        },
                        &mut findings,
                        &mut chosen,
                    );
                }
                None => findings.push(no_compatible(t, venv, &shown_name, None, offered(&pool, idx))),
            }
        }
        for (norm, files) in &pool.sdists {
            if !names.contains_key(norm) {
                findings.push(sdist_only(venv, norm, None, &format!("the source distribution {}", files.join(", "))));
            }
        }
    }

    for input in locks {
        let lock = match read_lock(input) {
            Ok(l) => l,
            Err(e) => {
                findings.push(invalid(venv, Severity::Error, &input.shown, 0, &format!("cannot read: {e}"), None));
                continue;
            }
        };
        let lock_dir = input.real.parent().unwrap_or(Path::new(".")).to_path_buf();
        for fl in &lock.find_links {
            let real = lock_dir.join(fl);
            pool.add_dir(&real, &display(&real), &mut findings, venv);
        }
        for p in &lock.problems {
            findings.push(invalid(venv, Severity::Error, &input.shown, p.line, &p.message, None));
        }
        if let Some(rp) = &lock.requires_python
            && t.accepts(rp) == Some(false)
        {
            findings.push(requires_python(t, venv, None, &format!("{} (requires-python)", input.shown), rp));
        }
        let Some(env) = &t.env else {
            findings.push(invalid(
                venv,
                Severity::Error,
                &input.shown,
                0,
                "the target's Python version is unknown: markers cannot be evaluated",
                None,
            ));
            continue;
        };
        let (entries, problems) = lock.for_target(&input.shown, env);
        for p in problems.iter().filter(|p| !p.message.contains("requires-python")) {
            findings.push(invalid(venv, Severity::Error, &input.shown, p.line, &p.message, None));
        }
        let skipped_names: HashSet<&str> = entries.iter().map(|e| e.normalized.as_str()).collect();
        for e in lock.packages.iter().filter(|e| !skipped_names.contains(e.normalized.as_str())) {
            if !artifact.skipped.iter().any(|s| s.name == e.name && s.version == e.version) {
                artifact.skipped.push(SkippedEntry {
                    name: e.name.clone(),
                    version: e.version.clone(),
                    why: "not installed on this target (its marker or the dependency graph excludes it)".into(),
                });
            }
        }
        for e in &entries {
            if let Some(c) = select_locked(t, &pool, input, &lock_dir, e, venv, &mut findings, &mut artifact.skipped) {
                keep(c, &mut findings, &mut chosen);
            }
        }
    }
    artifact.selected = choices
        .iter()
        .map(|c| SelectedWheel {
            name: c.name.clone(),
            version: c.version.clone(),
            file: c.file.shown.clone(),
            tag: c.tag.clone(),
            why: c.why.clone(),
            hash_verified: c.hash_verified,
            input: c.input.clone(),
        })
        .collect();
    Selection { artifact, findings, choices }
}

/// A wheel name for a file known to be a wheel (never reached: pool files with a wheel name).
fn unreachable_wheel(f: &File) -> WheelName {
    WheelName {
        name: f.shown.clone(),
        normalized: f.shown.clone(),
        version: String::new(),
        build: None,
        tags: Vec::new(),
    }
}

/// The artefact a pool file came from.
fn source_of(inputs: &[Input], f: &File) -> String {
    inputs.iter().find(|i| f.real.starts_with(&i.real)).map(|i| i.shown.clone()).unwrap_or_else(|| f.shown.clone())
}

fn requires_python(t: &Target, venv: &str, package: Option<&str>, what: &str, spec: &str) -> Finding {
    let v = t.described.version.clone().unwrap_or_else(|| "?".into());
    let mut f = Finding::new(
        FindingId::ArtifactRequiresPython,
        Severity::Error,
        Some(venv),
        format!("{what} requires Python {spec} but the target is Python {v}"),
        "Build the artefact for the target's Python, or deploy onto an interpreter the artefact supports",
    )
    .detail("requires_python", spec)
    .detail("target_python", v);
    if let Some(p) = package {
        f = f.with_package(p);
    }
    f
}

/// The installer's choice for one lock entry.
#[allow(clippy::too_many_arguments)]
fn select_locked(
    t: &Target,
    pool: &Pool,
    input: &Input,
    lock_dir: &Path,
    e: &LockedPackage,
    venv: &str,
    findings: &mut Vec<Finding>,
    skipped: &mut Vec<SkippedEntry>,
) -> Option<Choice> {
    if let Some((kind, loc)) = &e.source {
        if matches!(kind.as_str(), "virtual" | "editable" | "directory") && e.wheels.is_empty() {
            skipped.push(SkippedEntry {
                name: e.name.clone(),
                version: e.version.clone(),
                why: format!("{kind} source {loc}: the project itself, installed from its directory"),
            });
            return None;
        }
        if e.wheels.is_empty() {
            findings.push(sdist_only(venv, &e.name, e.version.as_deref(), &format!("a {kind} source ({loc})")));
            return None;
        }
    }
    if let Some(rp) = &e.requires_python
        && t.accepts(rp) == Some(false)
    {
        findings.push(requires_python(
            t,
            venv,
            Some(&e.name),
            &format!("{} {} ({}:{})", e.name, e.version.as_deref().unwrap_or(""), input.shown, e.line),
            rp,
        ));
    }
    // The files the entry offers: the lock's own list, else (requirements) what the
    // directories hold at the pinned version.
    struct Offer {
        name: String,
        wheel: Option<WheelName>,
        found: Option<usize>,
        path: Option<PathBuf>,
        hashes: Vec<Hash>,
    }
    let mut offers: Vec<Offer> = Vec::new();
    if e.wheels.is_empty() {
        for i in pool.wheels_of(&e.normalized, e.version.as_deref()) {
            let name = pool.files[i].real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            offers.push(Offer {
                wheel: pool.files[i].wheel.clone(),
                name,
                found: Some(i),
                path: None,
                hashes: e.hashes.clone(),
            });
        }
    } else {
        for w in &e.wheels {
            let wheel = match parse_wheel_name(&w.filename) {
                Ok(n) => Some(n),
                Err(err) => {
                    findings.push(invalid(
                        venv,
                        Severity::Warning,
                        &input.shown,
                        e.line,
                        &err.to_string(),
                        Some(&e.name),
                    ));
                    None
                }
            };
            let path = w.path.as_ref().map(|p| lock_dir.join(p)).filter(|p| p.is_file());
            let mut hashes = w.hashes.clone();
            hashes.extend(e.hashes.iter().cloned());
            offers.push(Offer {
                name: w.filename.clone(),
                wheel,
                found: pool.by_name.get(&w.filename).copied(),
                path,
                hashes,
            });
        }
    }
    let compatible: Vec<(usize, usize, String)> = offers
        .iter()
        .enumerate()
        .filter_map(|(k, o)| {
            let (rank, tag) = best_tag(t, o.wheel.as_ref()?)?;
            Some((k, rank, tag))
        })
        .collect();
    if compatible.is_empty() {
        let has_sdist = e.sdist.is_some() || pool.sdists.contains_key(&e.normalized);
        if has_sdist {
            let what = e
                .sdist
                .as_ref()
                .map(|s| format!("the sdist {}", s.filename))
                .unwrap_or_else(|| "a source distribution".into());
            findings.push(sdist_only(venv, &e.name, e.version.as_deref(), &what));
        } else if offers.is_empty() {
            findings.push(missing(
                venv,
                &e.name,
                e.version.as_deref(),
                &format!(
                    "no wheel of {} {} in the --find-links directories",
                    e.name,
                    e.version.as_deref().unwrap_or("")
                ),
                input,
                e.line,
            ));
        } else {
            let tags: Vec<String> = offers
                .iter()
                .filter_map(|o| o.wheel.as_ref())
                .flat_map(|w| w.tags.iter().map(ToString::to_string))
                .take(20)
                .collect();
            findings.push(no_compatible(t, venv, &e.name, e.version.as_deref(), tags));
        }
        return None;
    }
    // Best tag, then highest build tag, among the files that are here.
    // Newest version (a pin `==1.0` offers `1.0+cpu` too), then best tag, then build tag.
    let order = |a: &&(usize, usize, String), b: &&(usize, usize, String)| {
        let build = |k: usize| offers[k].wheel.as_ref().and_then(|w| w.build.clone());
        let version = |k: usize| offers[k].wheel.as_ref().and_then(|w| Version::from_str(&w.version).ok());
        version(a.0).cmp(&version(b.0)).then(b.1.cmp(&a.1)).then(build(a.0).cmp(&build(b.0)))
    };
    let best_overall = compatible.iter().max_by(order)?;
    let present: Vec<&(usize, usize, String)> =
        compatible.iter().filter(|(k, _, _)| offers[*k].path.is_some() || offers[*k].found.is_some()).collect();
    let Some(&&(k, rank, ref tag)) = present.iter().max_by(|a, b| order(a, b)) else {
        let o = &offers[best_overall.0];
        findings.push(missing(
            venv,
            &e.name,
            e.version.as_deref(),
            &format!("{} is not found (by its path, or by name in the --find-links directories)", o.name),
            input,
            e.line,
        ));
        return None;
    };
    let o = &offers[k];
    let file = match (&o.path, o.found) {
        (Some(p), _) => File { real: p.clone(), shown: display(p), wheel: o.wheel.clone() },
        (None, Some(i)) => pool.files[i].clone(),
        (None, None) => return None,
    };
    let w = o.wheel.clone()?;
    let note = if best_overall.0 != k {
        format!("; the better {} is not here", offers[best_overall.0].name)
    } else {
        String::new()
    };
    let pinned =
        |v: &str| match (pep440_rs::VersionSpecifier::from_str(&format!("=={v}")), Version::from_str(&w.version)) {
            (Ok(spec), Ok(have)) => spec.contains(&have),
            _ => v == w.version,
        };
    if let Some(v) = &e.version
        && !pinned(v)
    {
        findings.push(invalid(
            venv,
            Severity::Error,
            &input.shown,
            e.line,
            &format!("{} pins {} {v} but names the file {}", input.shown, e.name, o.name),
            Some(&e.name),
        ));
    }
    let hash_verified = match verify_hash(&file, &o.hashes, venv, &e.name) {
        Ok(v) => v,
        Err(f) => {
            findings.push(*f);
            false
        }
    };
    let why = format!(
        "{} {} from {}:{}; {} of {} file(s) install on the target, best tag {tag} (rank {} of {}){note}{}",
        e.name,
        w.version,
        input.shown,
        e.line,
        compatible.len(),
        offers.len(),
        rank + 1,
        t.described.tag_count,
        if hash_verified { "; hash verified" } else { "" }
    );
    Some(Choice {
        name: w.name.clone(),
        version: w.version.clone(),
        tag: tag.clone(),
        why,
        hash_verified,
        input: input.shown.clone(),
        file,
    })
}

fn missing(venv: &str, name: &str, version: Option<&str>, what: &str, input: &Input, line: usize) -> Finding {
    let v = version.map(|v| format!(" {v}")).unwrap_or_default();
    Finding::new(
        FindingId::ArtifactFileMissing,
        Severity::Error,
        Some(venv),
        format!("{name}{v} ({}:{line}): {what}", input.shown),
        "Copy the locked files next to the lock or into a --find-links directory before the gate runs",
    )
    .with_package(name)
    .detail("file", input.shown.as_str())
    .detail("line", line)
}

/// The selected wheels, opened, with their distributions' facts.
struct Opened {
    wheel: Wheel,
    package: Package,
    /// What is wrong with the wheel but does not stop it being judged.
    problems: Vec<Finding>,
}

/// Judge the selected wheels as if installed together: their own problems, Requires-Python,
/// and every family an installed venv gets (extensions, dependencies, vulnerabilities,
/// forbidden). `installed`: with `--venv`, that environment's distributions: those the
/// artefact does not replace stay installed, so they provide requirements and their own
/// requirements bind the artefact's versions (a single upgrade wheel is judged as `pip install`
/// into that venv sees it). Returns findings and unreadable files.
#[allow(clippy::too_many_arguments)]
pub fn judge(
    root: &HostRoot,
    host: &HostFacts,
    t: &Target,
    selection: Selection,
    inputs: &super::Inputs,
    app: Option<&AppImports>,
    installed: Option<&[Package]>,
) -> (Artifact, Vec<Finding>, Vec<ScanError>) {
    let Selection { artifact, mut findings, choices } = selection;
    let venv = artifact.path.clone();
    let mut errors = Vec::new();
    let opened: Vec<Result<Opened, Box<Finding>>> = choices.par_iter().map(|c| open(c, &venv)).collect();
    // Each opened wheel with its choice: a wheel that cannot be opened is a finding, and the
    // others keep their own choice.
    let mut wheels: Vec<Opened> = Vec::new();
    let mut chosen: Vec<&Choice> = Vec::new();
    for (o, c) in opened.into_iter().zip(&choices) {
        match o {
            Ok(o) => {
                wheels.push(o);
                chosen.push(c);
            }
            Err(f) => findings.push(*f),
        }
    }
    for (o, c) in wheels.iter_mut().zip(chosen) {
        findings.append(&mut o.problems);
        for p in o.wheel.problems() {
            findings.push(invalid(&venv, Severity::Error, &c.file.shown, 0, p, Some(&c.name)));
        }
        if let Some(rp) = &o.package.requires_python
            && t.accepts(rp) == Some(false)
        {
            findings.push(requires_python(
                t,
                &venv,
                Some(&c.name),
                &format!("{} {} ({})", c.name, c.version, c.file.shown),
                rp,
            ));
        }
    }
    findings.extend(verify_members(&venv, &wheels));
    let packages: Vec<Package> = wheels.iter().map(|o| o.package.clone()).collect();
    let v = inventory(&venv, t, packages);
    let wants = |f: crate::report::Family| inputs.families.contains(&f);
    if wants(crate::report::Family::Extensions) {
        let (f, e) = judge_extensions(root, host, t, &venv, &wheels, app);
        findings.extend(f);
        errors.extend(e);
    }
    if wants(crate::report::Family::Dependencies) {
        let brought: std::collections::HashSet<String> =
            v.venv.packages.iter().flatten().map(|p| p.normalized_name.clone()).collect();
        let kept: Vec<Package> =
            installed.unwrap_or_default().iter().filter(|p| !brought.contains(&p.normalized_name)).cloned().collect();
        let with_kept = (!kept.is_empty()).then(|| {
            let mut all = v.venv.packages.clone().unwrap_or_default();
            all.extend(kept);
            inventory(&venv, t, all)
        });
        let (f, e) = super::deps::check(with_kept.as_ref().unwrap_or(&v));
        // Only what the artefact changes: a conflict among the distributions it leaves alone
        // is the installed venv's own finding (venv_check), not the artefact's.
        let f: Vec<Finding> = f
            .into_iter()
            .filter(|f| {
                let mine =
                    |n: Option<&str>| n.is_some_and(|n| brought.contains(&crate::inspect::packages::normalize_name(n)));
                mine(f.package.as_deref()) || mine(f.details.get("dependency").and_then(|d| d.as_str()))
            })
            .collect();
        // In an artefact, "not installed" means the artefact does not bring it: a
        // `--no-index` install from it fails.
        findings.extend(f.into_iter().map(|mut f| {
            if f.details.get("kind").and_then(|k| k.as_str()) == Some("missing") {
                f.message = f.message.replace("which is not installed", "which the artefact does not provide");
                f.remediation = "Add the missing distribution's wheel to the artefact (a `--no-index` install from it fails without it)".into();
            }
            f
        }));
        errors.extend(e);
    }
    if let Some(db) = inputs.db {
        findings.extend(super::vulns::check(db, &v.venv.path, v.venv.packages.as_deref().unwrap_or_default()));
    }
    if wants(crate::report::Family::Forbidden) {
        findings.extend(super::forbidden::check(
            &inputs.forbid,
            &v.venv.path,
            v.venv.packages.as_deref().unwrap_or_default(),
        ));
    }
    if wants(crate::report::Family::Eol) {
        findings.extend(super::eol::check(&v.venv.path, &t.python, inputs.today));
    }
    (artifact, findings, errors)
}

/// Members larger than this are not inflated whole to check their CRC-32.
pub const MAX_VERIFIED_MEMBER: u64 = 256 << 20;

/// pip extracts every member and refuses a wheel whose member inflates to another size than
/// it declares or fails its CRC-32: every member is inflated once to check that, except the
/// ELF objects, whose headers are read instead (inflating them whole would double the work:
/// a corrupt tail of a shared object is not seen), and members over
/// [`MAX_VERIFIED_MEMBER`].
fn verify_members(venv: &str, wheels: &[Opened]) -> Vec<Finding> {
    let jobs: Vec<(&Opened, usize, &str)> = wheels
        .iter()
        .flat_map(|o| o.wheel.members().iter().map(move |m| (o, m.index, m.name.as_str())))
        .filter(|(o, idx, name)| {
            let m = o.wheel.members().iter().find(|m| m.index == *idx);
            let so = name.rsplit('/').next().is_some_and(|f| f.ends_with(".so") || f.contains(".so."));
            m.is_some_and(|m| m.size <= MAX_VERIFIED_MEMBER) && !(so && o.wheel.is_elf(*idx))
        })
        .collect();
    jobs.par_iter()
        .filter_map(|(o, idx, name)| {
            let e = o.wheel.copy_to(*idx, MAX_VERIFIED_MEMBER, &mut std::io::sink()).err()?;
            Some(invalid(
                venv,
                Severity::Error,
                &o.wheel.shown,
                0,
                &format!("member {name:?} cannot be extracted ({e}): pip refuses the wheel"),
                Some(&o.package.name),
            ))
        })
        .collect()
}

/// Open a selected wheel and read its distribution's facts from its METADATA.
fn open(c: &Choice, venv: &str) -> Result<Opened, Box<Finding>> {
    let wheel = Wheel::open(&c.file.real, &c.file.shown)
        .map_err(|e| Box::new(invalid(venv, Severity::Error, &c.file.shown, 0, &e.to_string(), Some(&c.name))))?;
    let dist = wheel.dist_info().map(str::to_owned).ok_or_else(|| {
        Box::new(invalid(
            venv,
            Severity::Error,
            &c.file.shown,
            0,
            "no .dist-info directory: not a wheel an installer accepts",
            Some(&c.name),
        ))
    })?;
    let meta = format!("{dist}/METADATA");
    let idx = wheel.members().iter().find(|m| m.name == meta).map(|m| m.index).ok_or_else(|| {
        Box::new(invalid(venv, Severity::Error, &c.file.shown, 0, &format!("{meta} is missing"), Some(&c.name)))
    })?;
    let bytes = wheel.read(idx, MAX_METADATA).map_err(|e| {
        Box::new(invalid(venv, Severity::Error, &c.file.shown, 0, &format!("{meta}: {e}"), Some(&c.name)))
    })?;
    let headers = Headers::parse(&crate::host::paths::backslash_utf8(&bytes));
    let name = headers.get_one("name").unwrap_or(&c.name).to_owned();
    let version = headers.get_one("version").unwrap_or(&c.version).to_owned();
    let mut problems: Vec<String> = Vec::new();
    if normalize_name(&name) != normalize_name(&c.name)
        || Version::from_str(&version).ok() != Version::from_str(&c.version).ok()
    {
        problems.push(format!("its METADATA says {name} {version} but the file name says {} {}", c.name, c.version));
    }
    let requires_dist: TextList = headers.get_all("requires-dist").collect();
    let package = Package {
        normalized_name: normalize_name(&name),
        version_valid: Version::from_str(&version).is_ok(),
        name,
        version,
        installer: None,
        requested: true,
        editable: false,
        direct_url: None,
        location: c.file.shown.clone().into(),
        metadata_format: MetadataFormat::DistInfo,
        requires_python: headers.get_one("requires-python").map(str::to_owned),
        requires_dist,
        extensions: Vec::new(),
        system: false,
    };
    let problems =
        problems.into_iter().map(|p| invalid(venv, Severity::Error, &c.file.shown, 0, &p, Some(&c.name))).collect();
    Ok(Opened { wheel, package, problems })
}

/// An inventory of the artefact shaped as an environment's, for the families that judge
/// distributions.
fn inventory(venv: &str, t: &Target, packages: Vec<Package>) -> Inspected {
    let (python, sp) = (&t.python, site_packages(t));
    Inspected {
        venv: crate::report::Venv {
            path: venv.to_owned(),
            kind: crate::report::VenvKind::Venv,
            creator: crate::report::Creator::default(),
            python: python.clone(),
            include_system_site_packages: false,
            site_packages: vec![display(&sp)],
            system_site_packages: Vec::new(),
            owner: crate::report::Owner::default(),
            package_count: packages.len(),
            packages: Some(packages),
            distributions: None,
            used_by_names: None,
            in_use_names: None,
            health: crate::report::Health::Ok,
            used_by: Vec::new(),
            in_use: Vec::new(),
        },
        health: Default::default(),
        path: PathBuf::from(INSTALLED_AS),
        site_packages: vec![sp],
        system_site_known: true,
    }
}

/// The site-packages directory of the artefact's virtual environment for the target.
fn site_packages(t: &Target) -> PathBuf {
    let xy = t.described.version.as_deref().map(crate::report::major_minor).unwrap_or_else(|| "3".into());
    PathBuf::from(INSTALLED_AS).join(format!("lib/python{xy}/site-packages"))
}

/// The selected wheels' shared objects, judged as an installed venv's are.
fn judge_extensions(
    root: &HostRoot,
    host: &HostFacts,
    t: &Target,
    venv: &str,
    wheels: &[Opened],
    app: Option<&AppImports>,
) -> (Vec<Finding>, Vec<ScanError>) {
    let prefix = PathBuf::from(INSTALLED_AS);
    let base = site_packages(t);
    // Every member named like a shared object, in every wheel: (wheel, member, path relative
    // to site-packages, where it is installed).
    let mut wanted: Vec<(usize, usize, String, PathBuf)> = Vec::new();
    for (w, o) in wheels.iter().enumerate() {
        for m in o.wheel.members() {
            let (rel, view) = match (&m.installed, &m.data) {
                (Some(rel), _) => (rel.clone(), base.join(rel)),
                // Installed outside site-packages (the prefix's lib/): not importable, but a
                // library modules may load.
                (None, Some(d)) => (d.clone(), prefix.join(d)),
                (None, None) => continue,
            };
            let file = rel.rsplit('/').next().unwrap_or(&rel);
            if file.ends_with(".so") || file.contains(".so.") {
                wanted.push((w, m.index, rel, view));
            }
        }
    }
    type Parsed = Option<Result<Arc<crate::parse::elf::ElfInfo>, String>>;
    let parsed: Vec<(usize, usize, String, PathBuf, Parsed)> = wanted
        .into_par_iter()
        .map(|(w, idx, rel, view)| {
            let wheel = &wheels[w].wheel;
            let info = wheel.is_elf(idx).then(|| wheel.elf(idx).map(Arc::new));
            (w, idx, rel, view, info)
        })
        .collect();
    let mut overlay = Overlay { root: prefix.clone(), files: HashMap::new() };
    let mut labels: HashMap<PathBuf, String> = HashMap::new();
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    let mut placed: HashSet<PathBuf> = HashSet::new();
    for (w, idx, rel, view, info) in parsed {
        let view = fold(&view);
        // The first wheel to install a path owns it (a later one would overwrite it: pip
        // warns, and the gate judges what the first wheel brings).
        if !placed.insert(view.clone()) {
            continue;
        }
        let label = format!(
            "{}:{}",
            wheels[w].wheel.shown,
            wheels[w].wheel.members().iter().find(|m| m.index == idx).map_or(rel.as_str(), |m| m.name.as_str())
        );
        labels.insert(view.clone(), label.clone());
        let id = (u64::MAX - w as u64, idx as u64);
        match info {
            None => {
                overlay.files.insert(view, Err("not an ELF file".into()));
            }
            Some(Err(e)) => {
                errors.push(ScanError { path: label, message: e.clone() });
                overlay.files.insert(view, Err(e));
            }
            Some(Ok(info)) => {
                overlay.files.insert(view.clone(), Ok((id, info.clone())));
                // Outside site-packages (the prefix's lib/): loaded by modules that need it,
                // judged as part of them, as an installed venv's are (nothing there is walked).
                if view.starts_with(&base) {
                    objects.push(Object::member(view, rel, id, info, &wheels[w].package.name));
                }
            }
        }
    }
    let place = Place { venv, base: &base, overlay: Some(&overlay), labels: Some(&labels) };
    let shared = Shared::default();
    let reach = |failing: &HashSet<String>| {
        let mut trees = vec![WheelTree { wheels: wheels.iter().map(|o| &o.wheel).collect() }];
        imports::reachability(&mut trees, app, imports::Limits::default(), &shared.parses, Some(failing))
    };
    let (findings, more) = extensions::judge_objects(root, host, &t.python, &shared, &[], &place, objects, reach);
    errors.extend(more);
    (findings, errors)
}

/// `--venv`: what installing the selected wheels changes in the installed environment.
pub fn changes(artifact: &Artifact, v: &Inspected) -> crate::report::Changes {
    let installed: HashMap<String, &Package> =
        v.venv.packages.iter().flatten().filter(|p| !p.system).map(|p| (p.normalized_name.clone(), p)).collect();
    let mut out = crate::report::Changes { venv: v.venv.path.clone(), ..Default::default() };
    let mut seen = HashSet::new();
    for s in &artifact.selected {
        let norm = normalize_name(&s.name);
        seen.insert(norm.clone());
        match installed.get(&norm) {
            None => out.install.push(format!("{}=={}", s.name, s.version)),
            Some(p) => {
                let (old, new) = (Version::from_str(&p.version).ok(), Version::from_str(&s.version).ok());
                if old == new && old.is_some() || p.version == s.version {
                    out.unchanged += 1;
                } else if old > new {
                    out.downgrade.push(format!("{} {} -> {}", s.name, p.version, s.version));
                } else {
                    out.upgrade.push(format!("{} {} -> {}", s.name, p.version, s.version));
                }
            }
        }
    }
    let mut extra: Vec<String> = installed
        .iter()
        .filter(|(n, _)| !seen.contains(*n) && !matches!(n.as_str(), "pip" | "setuptools" | "wheel"))
        .map(|(_, p)| format!("{}=={}", p.name, p.version))
        .collect();
    extra.sort();
    out.not_in_artifact = extra;
    out
}
