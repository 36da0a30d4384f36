//! Lock files and pinned requirements: PEP 751 `pylock.toml`, pip's hashed
//! `requirements.txt`, and `uv.lock`, read into one shape the artefact gate selects from.
//!
//! The format is chosen by the file name ([`parse_lock`]): `pylock.toml` or `pylock.<name>.toml`
//! is PEP 751, `uv.lock` is uv's own format, anything else is a pip requirements file. Reading
//! never stops at the first problem: each one becomes a [`LockProblem`] naming its line and
//! the rest is still read. Every quantity the text controls is bounded ([`MAX_PACKAGES`],
//! [`MAX_FILES_PER_PACKAGE`], [`MAX_LINE_BYTES`], [`MAX_INCLUDE_DEPTH`], [`MAX_PROBLEMS`]; TOML
//! nesting by the TOML parser's own recursion limit; markers and specifiers by
//! [`crate::parse::pep508`]'s bounds). Nothing here panics on any input.
//!
//! **pylock.toml** (PEP 751, `lock-version = "1.x"`): another major version is refused (a
//! problem, and no entry is read). A package's `wheels`, `sdist` and `archive` become files
//! (an `archive` ending in `.whl` is a wheel, else the sdist); `vcs`, `directory` and
//! `archive` also set [`LockedPackage::source`] (`"vcs"`, `"directory"` or `"editable"` when
//! `editable = true`, `"archive"`). Only sha256/sha384/sha512 hashes are kept. Markers may use
//! PEP 751's `'x' in extras` (no extra is selected) and `'g' in dependency_groups` (true for the
//! lock's `default-groups`).
//!
//! **requirements.txt** (pip's format): comments, backslash continuation (an entry's line is
//! the first physical line), `name==version` / `name===version` pins with `; marker`,
//! `--hash` options (sha256/sha384/sha512 only, as pip), `-f`/`--find-links` into
//! [`Lock::find_links`] as written, the other global options accepted and ignored, `-e` as an
//! entry with source `"editable"`, URL requirements as files with source `"url"` (`"path"` for
//! a local archive, `"vcs"` for `git+` and the like, `"directory"` for what is not an archive;
//! the version is the archive file name's). `-r`/`-c` files are read
//! through [`parse_requirements_with`]'s callback; an included file's entries carry the line
//! of the `-r` that includes them (in the top file), its problems name the included file. A
//! `-c` file's entries install nothing and are not listed.
//!
//! **uv.lock** is uv's own format, read as uv 0.13 writes it (`version = 1`, any `revision`;
//! another `version` is refused). Every `[[package]]` is listed in [`Lock::packages`];
//! [`Lock::for_target`] walks the dependency graph from the workspace members (`[manifest]
//! members`, else the project at `.`) and `[manifest] requirements`, following `dependencies`
//! whose marker holds for the target and, for an edge with `extra = [...]`, that package's
//! `optional-dependencies` of those extras. Limits: the members' own optional dependencies,
//! `dev-dependencies` and dependency groups are **not** followed, so the selection is what
//! `uv sync --no-dev` (no extras) installs; in a workspace every member is a root (as
//! `uv sync --all-packages`); conflict markers (`extra == 'extra-N-…'`) are evaluated with no
//! extra selected; `[options]`, `[manifest]` constraints/overrides and `required-environments`
//! are not read; `requires-python` and `supported-environments` are checked for the target.

use pep440_rs::{Operator, VersionSpecifiers};
use pep508_rs::{MarkerEnvironment, MarkerTree, VerbatimUrl, VersionOrUrl};
use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Most package entries read from one lock; the rest are one problem.
pub const MAX_PACKAGES: usize = 100_000;
/// Most wheels (requirements: hashes; uv.lock: dependency edges) read for one entry.
pub const MAX_FILES_PER_PACKAGE: usize = 10_000;
/// Deepest chain of `-r`/`-c` includes followed.
pub const MAX_INCLUDE_DEPTH: usize = 8;
/// Included files read at most for one requirements file: each file is read once (a second
/// `-r` of it adds nothing new), so fan-out (every file including the next one several times,
/// eight levels deep) cannot make the read exponential.
pub const MAX_INCLUDES: usize = 1000;
/// Longest logical requirements line read (continuations joined); a longer one is a problem.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Most problems kept for one lock; the rest are counted in one last problem.
pub const MAX_PROBLEMS: usize = 1_000;
/// Most TOML syntax errors reported for one file.
const MAX_TOML_ERRORS: usize = 20;
/// Longest specifier (`requires-python`) parsed.
const MAX_SPECIFIER_BYTES: usize = 8 * 1024;

/// Which format a lock was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockKind {
    /// PEP 751 `pylock.toml` / `pylock.*.toml`.
    Pylock,
    /// A pip requirements file.
    Requirements,
    /// uv's `uv.lock`.
    UvLock,
}

/// A hash a lock pins: (`sha256`, lowercase hex).
pub type Hash = (String, String);

/// One file a lock names for a package (a wheel or an sdist).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockedFile {
    /// The file name (from `name`, else the URL's or path's last component, percent-decoded).
    pub filename: String,
    /// `path`, as written (relative to the lock's directory when relative).
    pub path: Option<String>,
    /// `url`, as written.
    pub url: Option<String>,
    /// The hashes the lock gives for it.
    pub hashes: Vec<Hash>,
    /// `size` when given.
    pub size: Option<u64>,
}

/// One package entry of a lock.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockedPackage {
    /// The name as written.
    pub name: String,
    /// PEP 503 normalized.
    pub normalized: String,
    /// The pinned version (`None` for a requirement without `==`, or a lock entry without one).
    pub version: Option<String>,
    /// The package's own environment marker (pylock `marker`, a requirement's `; ...`).
    pub marker: Option<String>,
    /// `requires-python` of the entry.
    pub requires_python: Option<String>,
    /// Wheels the entry offers.
    pub wheels: Vec<LockedFile>,
    /// Its sdist, when it has one.
    pub sdist: Option<LockedFile>,
    /// Hashes allowed for whatever file is chosen (requirements' `--hash`: they name no file).
    pub hashes: Vec<Hash>,
    /// Not a registry/archive package: `directory`, `vcs`, `editable`, `virtual`, `git`, `url`
    /// as the lock says, with its location; `None` for index/registry packages.
    pub source: Option<(String, String)>,
    /// 1-based line of the entry in the file.
    pub line: usize,
}

/// A problem with one part of a lock: the rest is still read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LockProblem {
    /// The lock file as given.
    pub file: String,
    /// 1-based line (0 when the problem is the whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A lock read whole.
#[derive(Debug, Clone, Default)]
pub struct Lock {
    /// Its format.
    pub kind: Option<LockKind>,
    /// Top-level `requires-python`.
    pub requires_python: Option<String>,
    /// pylock `environments` markers (any must be true), uv.lock `supported-environments`.
    pub environments: Vec<String>,
    /// `--find-links`/`-f` directories a requirements file names (as written; a relative one
    /// from an included file is made relative to the top file's directory).
    pub find_links: Vec<String>,
    /// Every package entry, in file order (uv.lock: every package of the universal
    /// resolution; [`Lock::for_target`] picks what a target installs).
    pub packages: Vec<LockedPackage>,
    /// What could not be read.
    pub problems: Vec<LockProblem>,
    /// What [`Lock::for_target`] needs besides the entries (lines of top-level keys, pylock
    /// default groups, uv.lock's dependency graph).
    pub selection: LockSelection,
}

/// What [`Lock::for_target`] selects with, besides [`Lock::packages`].
#[derive(Debug, Clone, Default)]
pub struct LockSelection {
    /// Line of the top-level `environments` (pylock) or `supported-environments` (uv.lock);
    /// 0 when absent.
    pub environments_line: usize,
    /// Line of the top-level `requires-python`; 0 when absent.
    pub requires_python_line: usize,
    /// pylock `default-groups`, normalized: the groups `'name' in dependency_groups` sees.
    pub default_groups: Vec<String>,
    /// uv.lock's dependency graph (`None` for the other formats).
    pub uv: Option<UvGraph>,
}

/// uv.lock's dependency graph.
#[derive(Debug, Clone, Default)]
pub struct UvGraph {
    /// One node per entry of [`Lock::packages`], in the same order.
    pub nodes: Vec<UvNode>,
    /// `[manifest] members`, normalized (empty for a single project).
    pub members: Vec<String>,
    /// `[manifest] requirements`: the dependencies of a virtual workspace root or a script.
    pub requirements: Vec<UvEdge>,
}

/// One uv.lock package's edges.
#[derive(Debug, Clone, Default)]
pub struct UvNode {
    /// Its `source`, as a key comparable with [`UvEdge::source_key`] (empty when absent).
    pub source_key: String,
    /// `dependencies`.
    pub dependencies: Vec<UvEdge>,
    /// `optional-dependencies`: each extra (normalized) with its edges.
    pub optional: Vec<(String, Vec<UvEdge>)>,
    /// `resolution-markers`: the forks the entry belongs to (empty: every fork).
    pub resolution_markers: Vec<String>,
}

/// One dependency edge of uv.lock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UvEdge {
    /// The dependency's name, normalized.
    pub name: String,
    /// `version`, given when the lock holds several versions of the name.
    pub version: Option<String>,
    /// `source`, as a key comparable with [`UvNode::source_key`].
    pub source_key: Option<String>,
    /// `marker`: the edge is followed where it holds.
    pub marker: Option<String>,
    /// `extra` (normalized): the dependency's optional dependencies pulled in too.
    pub extras: Vec<String>,
    /// 1-based line of the edge.
    pub line: usize,
}

/// Read a lock from its text. `file` names it in problems; the format is chosen by the file
/// name (`pylock.toml`, `pylock.*.toml`, `uv.lock`, anything else a requirements file).
/// A requirements file's `-r`/`-c` includes are not read here (each is a problem): use
/// [`parse_requirements_with`] to read them.
pub fn parse_lock(file: &str, text: &str) -> Lock {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    if base == "uv.lock" {
        read_uv(file, text)
    } else if is_pylock_name(base) {
        read_pylock(file, text)
    } else {
        parse_requirements_with(file, text, &mut |_| None)
    }
}

/// `pylock.toml` or `pylock.<name>.toml` (`<name>` without dots), as PEP 751 names them.
fn is_pylock_name(base: &str) -> bool {
    base == "pylock.toml"
        || base
            .strip_prefix("pylock.")
            .and_then(|r| r.strip_suffix(".toml"))
            .is_some_and(|name| !name.is_empty() && !name.contains('.'))
}

/// Read a pip requirements file, reading its `-r`/`-c` includes through `read`. `read` gets
/// the include's path relative to the top file's directory (an include in `sub/b.txt` of
/// `../c.txt` is `c.txt`; an absolute path as written; `a/../` folded lexically) and returns
/// its text, or `None` when it cannot be read (a problem naming the `-r` line). Problems in an
/// included file name it as `file`'s directory joined with that path. Includes nest at most
/// [`MAX_INCLUDE_DEPTH`] deep; a file including itself is a problem.
pub fn parse_requirements_with(file: &str, text: &str, read: &mut dyn FnMut(&str) -> Option<String>) -> Lock {
    let mut r = ReqReader {
        lock: Lock { kind: Some(LockKind::Requirements), ..Lock::default() },
        sink: Sink::default(),
        stack: vec![file.rsplit(['/', '\\']).next().unwrap_or(file).to_owned()],
        included: std::collections::HashSet::new(),
        top_dir: dir_of(file).to_owned(),
        read,
    };
    r.file(file, text, 0, None, false);
    let mut lock = r.lock;
    lock.problems = r.sink.finish(file);
    lock
}

impl Lock {
    /// The entries a target installs, with problems: markers evaluated for `env` (uv.lock:
    /// the dependency graph walked from the workspace members along edges whose markers hold);
    /// entries whose marker is false are skipped; two selected entries for one name are a
    /// problem.
    ///
    /// The problems returned are those of selection only (the lock not covering the target,
    /// its `requires-python` not satisfied, duplicates, dangling uv.lock edges); problems of
    /// reading stay in [`Lock::problems`]. An entry whose marker could not be parsed (already
    /// a reading problem) is kept. An entry's own `requires-python` is not judged here.
    pub fn for_target(&self, file: &str, env: &MarkerEnvironment) -> (Vec<LockedPackage>, Vec<LockProblem>) {
        let mut sink = Sink::default();
        let mut markers = Markers::new(env, &self.selection.default_groups);
        let pylock = self.kind == Some(LockKind::Pylock);
        if !self.environments.is_empty() {
            let covered = self.environments.iter().any(|m| markers.holds(m, pylock).unwrap_or(true));
            if !covered {
                sink.push(
                    file,
                    self.selection.environments_line,
                    format!(
                        "the lock does not cover this target: none of its environments holds for Python {} on {} {}",
                        env.python_full_version().string,
                        env.sys_platform(),
                        env.platform_machine()
                    ),
                );
            }
        }
        if let Some(rp) = &self.requires_python
            && let Ok(spec) = parse_specifiers(rp)
            && !spec.contains(&env.python_full_version().version)
        {
            sink.push(
                file,
                self.selection.requires_python_line,
                format!(
                    "the lock's requires-python {} excludes Python {}",
                    shown(rp),
                    env.python_full_version().string
                ),
            );
        }
        let chosen: Vec<usize> = match (&self.kind, &self.selection.uv) {
            (Some(LockKind::UvLock), Some(graph)) => uv_walk(self, graph, file, &mut markers, &mut sink),
            _ => (0..self.packages.len())
                .filter(|&i| {
                    let p = &self.packages[i];
                    p.marker.as_deref().is_none_or(|m| markers.holds(m, pylock).unwrap_or(true))
                })
                .collect(),
        };
        let mut out: Vec<LockedPackage> = Vec::with_capacity(chosen.len());
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for i in chosen {
            let p = &self.packages[i];
            if let Some(&first) = seen.get(p.normalized.as_str()) {
                sink.push(
                    file,
                    p.line,
                    format!(
                        "{} is selected twice for this target: line {} and line {}; the first is used",
                        shown(&p.name),
                        first,
                        p.line
                    ),
                );
                continue;
            }
            seen.insert(&p.normalized, p.line);
            out.push(p.clone());
        }
        (out, sink.finish(file))
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers

/// Problems, bounded by [`MAX_PROBLEMS`].
#[derive(Default)]
struct Sink {
    problems: Vec<LockProblem>,
    dropped: usize,
}

impl Sink {
    fn push(&mut self, file: &str, line: usize, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(LockProblem { file: file.to_owned(), line, message });
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self, file: &str) -> Vec<LockProblem> {
        if self.dropped > 0 {
            self.problems.push(LockProblem {
                file: file.to_owned(),
                line: 0,
                message: format!("{} more problems are not listed", self.dropped),
            });
        }
        self.problems
    }
}

/// Line starts of a text, to turn byte offsets into 1-based lines.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Lines(starts)
    }

    fn at(&self, offset: usize) -> usize {
        self.0.partition_point(|&s| s <= offset).max(1)
    }
}

/// Text from the file for a message: credentials redacted, control characters replaced,
/// at most 120 characters.
fn shown(s: &str) -> String {
    let head: String = s.chars().take(2048).collect();
    let redacted = crate::parse::redact::redact_url(&head);
    let mut out: String = redacted.chars().take(120).map(|c| if c.is_control() { '?' } else { c }).collect();
    if redacted.chars().nth(120).is_some() || head.len() < s.len() {
        out.push('…');
    }
    out
}

/// PEP 503 normalization (the parse layer's own, shared with PEP 508 reading).
fn normalize(name: &str) -> String {
    crate::parse::pep508::normalize_name(name)
}

/// A marker parsed within [`crate::parse::pep508`]'s bounds.
fn parse_marker(text: &str) -> Result<MarkerTree, String> {
    if text.trim().is_empty() {
        return Err("empty marker".into());
    }
    crate::parse::pep508::parse_requirement::<VerbatimUrl>(&format!("x ; {text}")).map(|r| r.marker)
}

/// A version specifier set (`requires-python`) parsed within bounds.
fn parse_specifiers(text: &str) -> Result<VersionSpecifiers, String> {
    if text.len() > MAX_SPECIFIER_BYTES {
        return Err(format!("longer than {MAX_SPECIFIER_BYTES} bytes"));
    }
    if !text.is_ascii() {
        return Err("non-ASCII character in a version specifier".into());
    }
    std::panic::catch_unwind(|| VersionSpecifiers::from_str(text).map_err(|e| e.to_string()))
        .map_err(|_| "the specifier parser failed on this text".to_owned())?
}

/// PEP 751 marker variables pep508_rs does not know: `'x' in extras` (no extra is selected)
/// and `'g' in dependency_groups` (the default groups are), replaced by constant markers.
fn pep751_marker(text: &str, groups: &[String]) -> String {
    const TRUE: &str = "python_full_version >= '0'";
    const FALSE: &str = "python_full_version < '0'";
    if !text.contains("extras") && !text.contains("dependency_groups") {
        return text.to_owned();
    }
    // Tokens: (start, end, kind) with kind 0 = quoted string, 1 = word, 2 = other.
    let bytes = text.as_bytes();
    let mut tokens: Vec<(usize, usize, u8)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'\'' || b == b'"' {
            let end = memchr::memchr(b, &bytes[i + 1..]).map_or(bytes.len(), |e| i + 1 + e + 1);
            tokens.push((i, end, 0));
            i = end;
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.') {
                i += 1;
            }
            tokens.push((start, i, 1));
        } else {
            tokens.push((i, i + 1, 2));
            i += 1;
        }
    }
    let word = |t: &(usize, usize, u8), w: &str| t.2 == 1 && &text[t.0..t.1] == w;
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut k = 0;
    while k < tokens.len() {
        let negated = tokens.get(k + 1).is_some_and(|t| word(t, "not"));
        let at = k + 1 + usize::from(negated);
        let matched = tokens[k].2 == 0
            && tokens.get(at).is_some_and(|t| word(t, "in"))
            && tokens.get(at + 1).is_some_and(|t| word(t, "extras") || word(t, "dependency_groups"));
        if !matched {
            k += 1;
            continue;
        }
        let (s, e, _) = tokens[k];
        // The quoted text without its quotes (an unterminated quote runs to the end).
        let inner = &text[s + 1..e];
        let inner = inner.strip_suffix(char::from(bytes[s])).unwrap_or(inner);
        let value = normalize(inner.trim());
        let var = tokens[at + 1];
        let member = word(&var, "dependency_groups") && groups.contains(&value);
        out.push_str(&text[copied..s]);
        out.push_str(if member != negated { TRUE } else { FALSE });
        copied = var.1;
        k = at + 2;
    }
    out.push_str(&text[copied..]);
    out
}

/// Markers evaluated for one environment, each text parsed once.
struct Markers<'e> {
    env: &'e MarkerEnvironment,
    groups: &'e [String],
    cache: HashMap<String, Option<MarkerTree>>,
}

impl<'e> Markers<'e> {
    fn new(env: &'e MarkerEnvironment, groups: &'e [String]) -> Self {
        Markers { env, groups, cache: HashMap::new() }
    }

    /// Whether the marker holds; `None` when it cannot be parsed. `pep751` allows the PEP 751
    /// variables `extras` and `dependency_groups`.
    fn holds(&mut self, text: &str, pep751: bool) -> Option<bool> {
        if let Some(tree) = self.cache.get(text) {
            return tree.as_ref().map(|t| t.evaluate(self.env, &[]));
        }
        let parsed = if pep751 { parse_marker(&pep751_marker(text, self.groups)) } else { parse_marker(text) };
        let tree = parsed.ok();
        let result = tree.as_ref().map(|t| t.evaluate(self.env, &[]));
        self.cache.insert(text.to_owned(), tree);
        result
    }
}

/// Percent-decoding (`%2B` -> `+`); invalid escapes are kept as written.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1).and_then(hex_val), b.get(i + 2).and_then(hex_val))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

/// The file name a URL (query and fragment dropped, percent-decoded) or a path ends in.
fn file_name_of(location: &str, is_url: bool) -> String {
    if is_url {
        let end = location.find(['?', '#']).unwrap_or(location.len());
        let path = &location[..end];
        percent_decode(path.rsplit('/').next().unwrap_or(path))
    } else {
        location.rsplit(['/', '\\']).next().unwrap_or(location).to_owned()
    }
}

fn is_wheel(filename: &str) -> bool {
    filename.to_ascii_lowercase().ends_with(".whl")
}

fn is_sdist(filename: &str) -> bool {
    let f = filename.to_ascii_lowercase();
    [".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".tbz", ".txz", ".tar.lz", ".tar.lzma"]
        .iter()
        .any(|e| f.ends_with(e))
}

/// The version in a wheel or sdist file name (`name-1.0-py3-none-any.whl`, `name-1.0.tar.gz`).
fn version_of_file(filename: &str) -> Option<String> {
    if is_wheel(filename) {
        filename.split('-').nth(1).filter(|v| !v.is_empty()).map(str::to_owned)
    } else if is_sdist(filename) {
        let lower = filename.to_ascii_lowercase();
        let stem_len =
            [".tar.gz", ".tar.bz2", ".tar.xz", ".tar.lzma", ".tar.lz", ".zip", ".tgz", ".tbz", ".txz", ".tar"]
                .iter()
                .find(|e| lower.ends_with(*e))
                .map_or(filename.len(), |e| filename.len() - e.len());
        let stem = filename.get(..stem_len)?;
        stem.rsplit_once('-').map(|(_, v)| v.to_owned()).filter(|v| !v.is_empty())
    } else {
        None
    }
}

/// The hash algorithms kept, with their hex length: the ones pip accepts for `--hash`.
const STRONG_HASHES: [(&str, usize); 3] = [("sha256", 64), ("sha384", 96), ("sha512", 128)];

/// A hash checked: a strong algorithm and a hex digest of its length.
fn check_hash(algorithm: &str, hex: &str) -> Result<Hash, String> {
    let algo = algorithm.trim().to_ascii_lowercase();
    let Some(&(_, len)) = STRONG_HASHES.iter().find(|(a, _)| *a == algo) else {
        return Err(format!("hash algorithm {} is not accepted: pip allows sha256, sha384, sha512", shown(algorithm)));
    };
    let hex = hex.trim();
    if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{algo} hash {} is not {len} hex digits", shown(hex)));
    }
    Ok((algo, hex.to_ascii_lowercase()))
}

// ---------------------------------------------------------------------------------------
// TOML reading (pylock.toml and uv.lock)

/// A TOML file being read: its name, line index and problems.
struct TomlReader<'f> {
    file: &'f str,
    lines: Lines,
    sink: Sink,
    /// Marker texts already checked (a uv.lock repeats the same few thousands of times).
    checked: HashSet<String>,
}

type Value<'i> = Spanned<DeValue<'i>>;

impl<'f> TomlReader<'f> {
    fn new(file: &'f str, text: &str) -> Self {
        TomlReader { file, lines: Lines::new(text), sink: Sink::default(), checked: HashSet::new() }
    }

    fn problem(&mut self, line: usize, message: String) {
        self.sink.push(self.file, line, message);
    }

    fn line<T>(&self, v: &Spanned<T>) -> usize {
        self.lines.at(v.span().start)
    }

    /// The document, as much of it as the parser recovers, with its syntax errors as problems.
    fn parse<'i>(&mut self, text: &'i str) -> DeTable<'i> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| DeTable::parse_recoverable(text))) {
            Ok((doc, errors)) => {
                for e in errors.iter().take(MAX_TOML_ERRORS) {
                    let line = e.span().map_or(0, |s| self.lines.at(s.start));
                    self.problem(line, format!("not valid TOML: {}", shown(e.message().trim())));
                }
                if errors.len() > MAX_TOML_ERRORS {
                    self.problem(0, format!("{} more TOML errors", errors.len() - MAX_TOML_ERRORS));
                }
                doc.into_inner()
            }
            Err(_) => {
                self.problem(0, "the TOML parser failed on this file".into());
                DeTable::default()
            }
        }
    }

    /// An optional string key; another type is a problem.
    fn string(&mut self, t: &DeTable<'_>, key: &str, what: &str) -> Option<String> {
        let v = t.get(key)?;
        match v.get_ref().as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                let line = self.line(v);
                self.problem(line, format!("{what}: `{key}` is not a string"));
                None
            }
        }
    }

    /// An optional array of strings; other values are problems.
    fn strings(&mut self, t: &DeTable<'_>, key: &str, what: &str) -> Vec<String> {
        let Some(v) = t.get(key) else { return Vec::new() };
        let Some(items) = v.get_ref().as_array() else {
            let line = self.line(v);
            self.problem(line, format!("{what}: `{key}` is not an array"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter().take(MAX_FILES_PER_PACKAGE) {
            match item.get_ref().as_str() {
                Some(s) => out.push(s.to_owned()),
                None => {
                    let line = self.line(item);
                    self.problem(line, format!("{what}: an item of `{key}` is not a string"));
                }
            }
        }
        out
    }

    /// An optional table; another type is a problem.
    fn table<'a, 'i>(&mut self, t: &'a DeTable<'i>, key: &str, what: &str) -> Option<(&'a DeTable<'i>, usize)> {
        let v = t.get(key)?;
        let line = self.line(v);
        match v.get_ref().as_table() {
            Some(tbl) => Some((tbl, line)),
            None => {
                self.problem(line, format!("{what}: `{key}` is not a table"));
                None
            }
        }
    }

    /// An optional non-negative integer.
    fn size(&mut self, t: &DeTable<'_>, key: &str, what: &str) -> Option<u64> {
        let v = t.get(key)?;
        let parsed = v.get_ref().as_integer().and_then(|i| {
            let digits = i.as_str().replace('_', "");
            let digits = digits.strip_prefix('+').unwrap_or(&digits);
            let digits = match i.radix() {
                16 => digits.strip_prefix("0x"),
                8 => digits.strip_prefix("0o"),
                2 => digits.strip_prefix("0b"),
                _ => Some(digits),
            }?;
            u64::from_str_radix(digits, i.radix()).ok()
        });
        if parsed.is_none() {
            let line = self.line(v);
            self.problem(line, format!("{what}: `{key}` is not a non-negative integer"));
        }
        parsed
    }

    /// A marker text checked; a problem when it cannot be parsed.
    fn check_marker(&mut self, text: &str, line: usize, what: &str, pep751: bool) {
        if self.checked.contains(text) {
            return;
        }
        self.checked.insert(text.to_owned());
        let parsed = if pep751 { parse_marker(&pep751_marker(text, &[])) } else { parse_marker(text) };
        if let Err(e) = parsed {
            self.problem(line, format!("{what}: marker {} cannot be read: {}", shown(text), shown(&e)));
        }
    }

    /// A specifier text checked; a problem when it cannot be parsed.
    fn check_specifiers(&mut self, text: &str, line: usize, what: &str) {
        if let Err(e) = parse_specifiers(text) {
            self.problem(line, format!("{what}: requires-python {} cannot be read: {}", shown(text), shown(&e)));
        }
    }

    /// Top-level `requires-python` and an environments array, into the lock.
    fn top_level(&mut self, doc: &DeTable<'_>, lock: &mut Lock, environments_key: &str, pep751: bool) {
        if let Some(v) = doc.get("requires-python") {
            lock.selection.requires_python_line = self.line(v);
        }
        lock.requires_python = self.string(doc, "requires-python", "the lock");
        if let Some(rp) = lock.requires_python.clone() {
            self.check_specifiers(&rp, lock.selection.requires_python_line, "the lock");
        }
        if let Some(v) = doc.get(environments_key) {
            lock.selection.environments_line = self.line(v);
        }
        lock.environments = self.strings(doc, environments_key, "the lock");
        for m in lock.environments.clone() {
            self.check_marker(&m, lock.selection.environments_line, environments_key, pep751);
        }
    }
}

/// The items of an array of tables (`[[packages]]`); other items are problems.
fn table_items<'a, 'i>(
    r: &mut TomlReader<'_>,
    v: &'a Value<'i>,
    key: &str,
    limit: usize,
    what: &str,
) -> Vec<(&'a DeTable<'i>, usize)> {
    let Some(items) = v.get_ref().as_array() else {
        let line = r.line(v);
        r.problem(line, format!("{what}: `{key}` is not an array of tables"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let line = r.line(item);
        if n >= limit {
            r.problem(line, format!("{what}: more than {limit} `{key}` entries; the rest are not read"));
            break;
        }
        match item.get_ref().as_table() {
            Some(t) => out.push((t, line)),
            None => r.problem(line, format!("{what}: an item of `{key}` is not a table")),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// PEP 751 pylock.toml

fn read_pylock(file: &str, text: &str) -> Lock {
    let mut r = TomlReader::new(file, text);
    let mut lock = Lock { kind: Some(LockKind::Pylock), ..Lock::default() };
    let doc = r.parse(text);
    match doc.get("lock-version") {
        None => r.problem(0, "no lock-version: a pylock.toml says lock-version = \"1.0\"".into()),
        Some(v) => {
            let line = r.line(v);
            match v.get_ref().as_str() {
                Some(s) if s.split('.').next() == Some("1") => {}
                Some(s) => {
                    r.problem(
                        line,
                        format!("lock-version {} is not supported (this reads 1.x): the lock is not read", shown(s)),
                    );
                    lock.problems = r.sink.finish(file);
                    return lock;
                }
                None => r.problem(line, "lock-version is not a string".into()),
            }
        }
    }
    r.top_level(&doc, &mut lock, "environments", false);
    lock.selection.default_groups =
        r.strings(&doc, "default-groups", "the lock").iter().map(|g| normalize(g)).collect();
    if let Some(v) = doc.get("packages") {
        for (t, line) in table_items(&mut r, v, "packages", MAX_PACKAGES, "the lock") {
            if let Some(p) = pylock_package(&mut r, t, line) {
                lock.packages.push(p);
            }
        }
    }
    lock.problems = r.sink.finish(file);
    lock
}

fn pylock_package(r: &mut TomlReader<'_>, t: &DeTable<'_>, line: usize) -> Option<LockedPackage> {
    let Some(name) = r.string(t, "name", "package") else {
        r.problem(line, "package without a name: not read".into());
        return None;
    };
    let what = format!("package {}", shown(&name));
    let mut p = LockedPackage { normalized: normalize(&name), line, ..LockedPackage::default() };
    p.version = r.string(t, "version", &what);
    p.marker = r.string(t, "marker", &what);
    if let Some(m) = p.marker.clone() {
        r.check_marker(&m, line, &what, true);
    }
    p.requires_python = r.string(t, "requires-python", &what);
    if let Some(rp) = p.requires_python.clone() {
        r.check_specifiers(&rp, line, &what);
    }
    p.name = name;
    let mut kinds = Vec::new();
    if let Some(v) = t.get("wheels") {
        kinds.push("wheels");
        for (w, wline) in table_items(r, v, "wheels", MAX_FILES_PER_PACKAGE, &what) {
            if let Some(f) = pylock_file(r, w, wline, &what, "wheel") {
                p.wheels.push(f);
            }
        }
    }
    if let Some((s, sline)) = r.table(t, "sdist", &what) {
        if !kinds.contains(&"wheels") {
            kinds.push("sdist");
        }
        p.sdist = pylock_file(r, s, sline, &what, "sdist");
    }
    if let Some((v, vline)) = r.table(t, "vcs", &what) {
        kinds.push("vcs");
        let at = r.string(v, "url", &what).or_else(|| r.string(v, "path", &what));
        match at {
            Some(at) => p.source = Some(("vcs".into(), at)),
            None => r.problem(vline, format!("{what}: vcs has neither url nor path")),
        }
    }
    if let Some((d, dline)) = r.table(t, "directory", &what) {
        kinds.push("directory");
        let editable = d.get("editable").and_then(|e| e.get_ref().as_bool()).unwrap_or(false);
        match r.string(d, "path", &what) {
            Some(path) => p.source = Some((if editable { "editable" } else { "directory" }.into(), path)),
            None => r.problem(dline, format!("{what}: directory has no path")),
        }
    }
    if let Some((a, aline)) = r.table(t, "archive", &what) {
        kinds.push("archive");
        if let Some(f) = pylock_file(r, a, aline, &what, "archive") {
            let at = f.url.clone().or_else(|| f.path.clone()).unwrap_or_default();
            p.source = Some(("archive".into(), at));
            if is_wheel(&f.filename) {
                p.wheels.push(f);
            } else {
                p.sdist = Some(f);
            }
        }
    }
    match kinds.len() {
        0 => r.problem(line, format!("{what}: none of wheels, sdist, vcs, directory, archive")),
        1 => {}
        _ => r.problem(line, format!("{what}: {} are exclusive", kinds.join(" and "))),
    }
    Some(p)
}

/// A `wheels` item, `sdist` or `archive` table.
fn pylock_file(r: &mut TomlReader<'_>, t: &DeTable<'_>, line: usize, what: &str, kind: &str) -> Option<LockedFile> {
    let mut f = LockedFile {
        url: r.string(t, "url", what),
        path: r.string(t, "path", what),
        size: r.size(t, "size", what),
        ..LockedFile::default()
    };
    f.filename = match (r.string(t, "name", what), &f.url, &f.path) {
        (Some(n), _, _) => n,
        (None, Some(u), _) => file_name_of(u, true),
        (None, None, Some(p)) => file_name_of(p, false),
        (None, None, None) => {
            r.problem(line, format!("{what}: a {kind} has no name, url or path: not read"));
            return None;
        }
    };
    if f.filename.is_empty() {
        r.problem(line, format!("{what}: a {kind} has an empty file name"));
    }
    if kind != "archive" && f.url.is_none() && f.path.is_none() {
        r.problem(line, format!("{what}: {kind} {} has neither url nor path", shown(&f.filename)));
    }
    let mut weak = Vec::new();
    match r.table(t, "hashes", what) {
        None => r.problem(line, format!("{what}: {kind} {} has no hashes", shown(&f.filename))),
        Some((hashes, hline)) => {
            for (algo, hex) in hashes.iter().take(64) {
                let Some(hex) = hex.get_ref().as_str() else {
                    r.problem(hline, format!("{what}: hash {} is not a string", shown(algo.get_ref())));
                    continue;
                };
                match check_hash(algo.get_ref(), hex) {
                    Ok(h) => f.hashes.push(h),
                    Err(e) if STRONG_HASHES.iter().any(|(a, _)| algo.get_ref().eq_ignore_ascii_case(a)) => {
                        r.problem(hline, format!("{what}: {e}"));
                    }
                    Err(_) => weak.push(algo.get_ref().to_string()),
                }
            }
            if f.hashes.is_empty() {
                let had = if weak.is_empty() { String::new() } else { format!(" (only {})", shown(&weak.join(", "))) };
                r.problem(
                    hline,
                    format!("{what}: {kind} {} has no sha256, sha384 or sha512 hash{had}", shown(&f.filename)),
                );
            }
        }
    }
    Some(f)
}

// ---------------------------------------------------------------------------------------
// uv.lock

/// The source kinds a uv.lock `source` table names, in the order they are looked for.
const UV_SOURCE_KINDS: [&str; 7] = ["registry", "editable", "virtual", "directory", "path", "git", "url"];

fn read_uv(file: &str, text: &str) -> Lock {
    let mut r = TomlReader::new(file, text);
    let mut lock = Lock { kind: Some(LockKind::UvLock), ..Lock::default() };
    let doc = r.parse(text);
    match doc.get("version") {
        None => r.problem(0, "no version: uv.lock says version = 1".into()),
        Some(v) => {
            let line = r.line(v);
            let version = v.get_ref().as_integer().map(|i| i.as_str().to_owned());
            if version.as_deref() != Some("1") {
                let said = version.unwrap_or_else(|| v.get_ref().type_str().to_owned());
                r.problem(
                    line,
                    format!(
                        "uv.lock version {} is not supported (this reads version 1): the lock is not read",
                        shown(&said)
                    ),
                );
                lock.problems = r.sink.finish(file);
                return lock;
            }
        }
    }
    r.top_level(&doc, &mut lock, "supported-environments", false);
    let forks_line = doc.get("resolution-markers").map_or(0, |v| r.line(v));
    for m in r.strings(&doc, "resolution-markers", "the lock") {
        r.check_marker(&m, forks_line, "resolution-markers", false);
    }
    let mut graph = UvGraph::default();
    if let Some((manifest, _)) = r.table(&doc, "manifest", "the lock") {
        graph.members = r.strings(manifest, "members", "[manifest]").iter().map(|m| normalize(m)).collect();
        if let Some(v) = manifest.get("requirements") {
            for (t, line) in table_items(&mut r, v, "requirements", MAX_FILES_PER_PACKAGE, "[manifest]") {
                if let Some(e) = uv_edge(&mut r, t, line, "[manifest]") {
                    graph.requirements.push(e);
                }
            }
        }
    }
    if let Some(v) = doc.get("package") {
        for (t, line) in table_items(&mut r, v, "package", MAX_PACKAGES, "the lock") {
            if let Some((p, node)) = uv_package(&mut r, t, line) {
                lock.packages.push(p);
                graph.nodes.push(node);
            }
        }
    }
    lock.selection.uv = Some(graph);
    lock.problems = r.sink.finish(file);
    lock
}

/// A `source` table: its comparable key and, for a non-registry source, (kind, location).
fn uv_source(r: &mut TomlReader<'_>, t: &DeTable<'_>, line: usize, what: &str) -> (String, Option<(String, String)>) {
    let mut pairs: Vec<String> = Vec::new();
    for (k, v) in t.iter().take(16) {
        let v = v.get_ref().as_str().map_or_else(|| v.get_ref().type_str().to_owned(), str::to_owned);
        pairs.push(format!("{}={v}", k.get_ref()));
    }
    pairs.sort();
    let key = pairs.join("\u{1f}");
    let Some(kind) = UV_SOURCE_KINDS.iter().find(|k| t.contains_key(**k)) else {
        r.problem(line, format!("{what}: source names no known kind ({})", UV_SOURCE_KINDS.join(", ")));
        return (key, None);
    };
    let location = r.string(t, kind, what).unwrap_or_default();
    let source = (*kind != "registry").then(|| ((*kind).to_owned(), location));
    (key, source)
}

fn uv_package(r: &mut TomlReader<'_>, t: &DeTable<'_>, line: usize) -> Option<(LockedPackage, UvNode)> {
    let Some(name) = r.string(t, "name", "package") else {
        r.problem(line, "package without a name: not read".into());
        return None;
    };
    let what = format!("package {}", shown(&name));
    let mut p = LockedPackage { normalized: normalize(&name), line, ..LockedPackage::default() };
    let mut node = UvNode::default();
    p.version = r.string(t, "version", &what);
    match r.table(t, "source", &what) {
        Some((s, sline)) => {
            let (key, source) = uv_source(r, s, sline, &what);
            node.source_key = key;
            p.source = source;
        }
        None => r.problem(line, format!("{what}: no source")),
    }
    p.name = name;
    if let Some(v) = t.get("dependencies") {
        node.dependencies = uv_edges(r, v, "dependencies", &what);
    }
    if let Some((opt, _)) = r.table(t, "optional-dependencies", &what) {
        for (extra, v) in opt.iter().take(MAX_FILES_PER_PACKAGE) {
            let edges = uv_edges(r, v, "optional-dependencies", &what);
            node.optional.push((normalize(extra.get_ref()), edges));
        }
    }
    node.resolution_markers = r.strings(t, "resolution-markers", &what);
    for m in node.resolution_markers.clone() {
        r.check_marker(&m, line, &what, false);
    }
    if let Some((s, sline)) = r.table(t, "sdist", &what) {
        p.sdist = uv_file(r, s, sline, &what, "sdist");
    }
    if let Some(v) = t.get("wheels") {
        for (w, wline) in table_items(r, v, "wheels", MAX_FILES_PER_PACKAGE, &what) {
            if let Some(f) = uv_file(r, w, wline, &what, "wheel") {
                p.wheels.push(f);
            }
        }
    }
    Some((p, node))
}

fn uv_edges(r: &mut TomlReader<'_>, v: &Value<'_>, key: &str, what: &str) -> Vec<UvEdge> {
    table_items(r, v, key, MAX_FILES_PER_PACKAGE, what)
        .into_iter()
        .filter_map(|(t, line)| uv_edge(r, t, line, what))
        .collect()
}

fn uv_edge(r: &mut TomlReader<'_>, t: &DeTable<'_>, line: usize, what: &str) -> Option<UvEdge> {
    let Some(name) = r.string(t, "name", what) else {
        r.problem(line, format!("{what}: a dependency without a name"));
        return None;
    };
    let mut e = UvEdge { name: normalize(&name), line, ..UvEdge::default() };
    e.version = r.string(t, "version", what);
    if let Some((s, sline)) = r.table(t, "source", what) {
        e.source_key = Some(uv_source(r, s, sline, what).0);
    }
    e.marker = r.string(t, "marker", what);
    if let Some(m) = e.marker.clone() {
        r.check_marker(&m, line, what, false);
    }
    let key = if t.contains_key("extra") { "extra" } else { "extras" };
    e.extras = r.strings(t, key, what).iter().map(|x| normalize(x)).collect();
    Some(e)
}

/// An `sdist` or `wheels` item: `url`, `path` or `filename`, `hash = "sha256:…"`, `size`.
fn uv_file(r: &mut TomlReader<'_>, t: &DeTable<'_>, line: usize, what: &str, kind: &str) -> Option<LockedFile> {
    let mut f = LockedFile {
        url: r.string(t, "url", what),
        path: r.string(t, "path", what),
        size: r.size(t, "size", what),
        ..LockedFile::default()
    };
    f.filename = match (r.string(t, "filename", what), &f.url, &f.path) {
        (Some(n), _, _) => n,
        (None, Some(u), _) => file_name_of(u, true),
        (None, None, Some(p)) => file_name_of(p, false),
        // An sdist of a path or directory source carries only its hash.
        (None, None, None) if kind == "sdist" => String::new(),
        (None, None, None) => {
            r.problem(line, format!("{what}: a {kind} has no url, path or filename: not read"));
            return None;
        }
    };
    if let Some(h) = r.string(t, "hash", what) {
        match h.split_once(':').ok_or_else(|| format!("hash {} is not algorithm:hex", shown(&h))) {
            Ok((algo, hex)) => match check_hash(algo, hex) {
                Ok(h) => f.hashes.push(h),
                Err(e) => r.problem(line, format!("{what}: {e}")),
            },
            Err(e) => r.problem(line, format!("{what}: {e}")),
        }
    }
    Some(f)
}

/// The packages a target installs from a uv.lock: indices into `lock.packages`, in file order.
fn uv_walk(lock: &Lock, g: &UvGraph, file: &str, markers: &mut Markers<'_>, sink: &mut Sink) -> Vec<usize> {
    let n = lock.packages.len().min(g.nodes.len());
    let kind = |i: usize| lock.packages[i].source.as_ref().map(|(k, v)| (k.as_str(), v.as_str()));
    let member_like = |i: usize| matches!(kind(i), Some(("editable" | "virtual" | "directory", _)));
    let roots: Vec<usize> = if g.members.is_empty() {
        let at_root: Vec<usize> =
            (0..n).filter(|&i| member_like(i) && kind(i).is_some_and(|(_, v)| v == ".")).collect();
        if at_root.is_empty() {
            (0..n).filter(|&i| matches!(kind(i), Some(("editable" | "virtual", _)))).collect()
        } else {
            at_root
        }
    } else {
        let members: HashSet<&str> = g.members.iter().map(String::as_str).collect();
        let roots: Vec<usize> =
            (0..n).filter(|&i| member_like(i) && members.contains(lock.packages[i].normalized.as_str())).collect();
        let found: HashSet<&str> = roots.iter().map(|&i| lock.packages[i].normalized.as_str()).collect();
        for m in g.members.iter().filter(|m| !found.contains(m.as_str())) {
            sink.push(file, 0, format!("workspace member {} has no package entry", shown(m)));
        }
        roots
    };
    if roots.is_empty() && g.requirements.is_empty() {
        sink.push(file, 0, "no workspace member or project root in the lock: nothing is selected".into());
    }
    let optional: HashMap<(usize, &str), &[UvEdge]> = g.nodes[..n]
        .iter()
        .enumerate()
        .flat_map(|(i, node)| node.optional.iter().map(move |(x, edges)| ((i, x.as_str()), edges.as_slice())))
        .collect();
    let mut resolver = Resolver::new(lock, g, n);
    let mut queue: VecDeque<(usize, Option<&str>)> = roots.into_iter().map(|i| (i, None)).collect();
    let mut walk = Walk { file, resolver: &mut resolver, markers, sink };
    walk.follow(&g.requirements, "[manifest] requirements", &mut queue);
    let mut selected = vec![false; n];
    let mut extras_done: HashSet<(usize, &str)> = HashSet::new();
    while let Some((i, extra)) = queue.pop_front() {
        let from = &lock.packages[i].name;
        match extra {
            None => {
                if std::mem::replace(&mut selected[i], true) {
                    continue;
                }
                walk.follow(&g.nodes[i].dependencies, from, &mut queue);
            }
            Some(x) => {
                if !extras_done.insert((i, x)) {
                    continue;
                }
                queue.push_back((i, None));
                if let Some(edges) = optional.get(&(i, x)) {
                    walk.follow(edges, from, &mut queue);
                }
            }
        }
    }
    (0..n).filter(|&i| selected[i]).collect()
}

/// What resolving an edge depends on: its name, `version` and `source`.
type EdgeKey = (String, Option<String>, Option<String>);

/// Following uv.lock edges for one target.
struct Walk<'w, 'l, 'e> {
    file: &'w str,
    resolver: &'w mut Resolver<'l>,
    markers: &'w mut Markers<'e>,
    sink: &'w mut Sink,
}

impl Walk<'_, '_, '_> {
    /// Queue the packages the edges whose markers hold lead to, with the extras they ask for.
    fn follow<'g>(&mut self, edges: &'g [UvEdge], from: &str, queue: &mut VecDeque<(usize, Option<&'g str>)>) {
        for e in edges {
            if let Some(m) = &e.marker
                && self.markers.holds(m, false) == Some(false)
            {
                continue;
            }
            let (pick, why) = self.resolver.resolve(e, self.markers);
            if let Some(why) = why {
                self.sink.push(self.file, e.line, format!("{} depends on {}: {why}", shown(from), shown(&e.name)));
            }
            if let Some(j) = pick {
                queue.push_back((j, None));
                queue.extend(e.extras.iter().map(|x| (j, Some(x.as_str()))));
            }
        }
    }
}

/// Which package an edge of uv.lock names, for one target: the entries of its name (and
/// `version` and `source` when the edge gives them), then, when several remain, the one whose
/// own `resolution-markers` hold. Each distinct edge key is resolved once.
struct Resolver<'l> {
    lock: &'l Lock,
    graph: &'l UvGraph,
    /// Entries by (name, version, source key), each entry under the four combinations.
    index: HashMap<IndexKey<'l>, Vec<usize>>,
    forks: Vec<Option<bool>>,
    done: HashMap<EdgeKey, Resolved>,
}

/// An entry's name, version and source key, as the resolver indexes them.
type IndexKey<'l> = (&'l str, Option<&'l str>, Option<&'l str>);

/// The entry an edge leads to, and what is wrong with it.
type Resolved = (Option<usize>, Option<String>);

impl<'l> Resolver<'l> {
    fn new(lock: &'l Lock, graph: &'l UvGraph, n: usize) -> Self {
        let mut index: HashMap<_, Vec<usize>> = HashMap::new();
        for i in 0..n {
            let name = lock.packages[i].normalized.as_str();
            let version = lock.packages[i].version.as_deref();
            let source = Some(graph.nodes[i].source_key.as_str());
            for key in [(name, None, None), (name, version, None), (name, None, source), (name, version, source)] {
                if key.1.is_some() || key.2.is_some() || key == (name, None, None) {
                    index.entry(key).or_default().push(i);
                }
            }
        }
        Resolver { lock, graph, index, forks: vec![None; n], done: HashMap::new() }
    }

    /// Whether a package's resolution markers hold (any of them; none: every fork).
    fn in_fork(&mut self, i: usize, markers: &mut Markers<'_>) -> bool {
        if let Some(known) = self.forks[i] {
            return known;
        }
        let rm = &self.graph.nodes[i].resolution_markers;
        let holds = rm.is_empty() || rm.iter().any(|m| markers.holds(m, false).unwrap_or(true));
        self.forks[i] = Some(holds);
        holds
    }

    fn resolve(&mut self, e: &UvEdge, markers: &mut Markers<'_>) -> Resolved {
        let key = (e.name.clone(), e.version.clone(), e.source_key.clone());
        if let Some(known) = self.done.get(&key) {
            return known.clone();
        }
        let lock = self.lock;
        let index_key = (e.name.as_str(), e.version.as_deref(), e.source_key.as_deref());
        let matching: Vec<usize> = self.index.get(&index_key).cloned().unwrap_or_default();
        let resolved = match matching.len() {
            0 if self.index.contains_key(&(e.name.as_str(), None, None)) => (
                None,
                Some(format!(
                    "no entry for version {} from that source in the lock",
                    shown(e.version.as_deref().unwrap_or("(any)"))
                )),
            ),
            0 => (None, Some("no package of that name in the lock".to_owned())),
            1 => (Some(matching[0]), None),
            _ => {
                let in_fork: Vec<usize> = matching.iter().copied().filter(|&i| self.in_fork(i, markers)).collect();
                match in_fork.first() {
                    Some(&i) if in_fork.len() == 1 => (Some(i), None),
                    Some(&i) => (
                        Some(i),
                        Some(format!(
                            "{} entries of that name hold for this target (lines {}); the first is used",
                            in_fork.len(),
                            in_fork
                                .iter()
                                .take(5)
                                .map(|&i| lock.packages[i].line.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    ),
                    None => (None, Some("none of its entries' resolution markers holds for this target".to_owned())),
                }
            }
        };
        self.done.insert(key, resolved.clone());
        resolved
    }
}

// ---------------------------------------------------------------------------------------
// pip requirements files

/// A requirements file being read, with its includes.
struct ReqReader<'r> {
    lock: Lock,
    sink: Sink,
    /// The files being read, outermost first, relative to the top file's directory (folded),
    /// to resolve includes and find cycles.
    stack: Vec<String>,
    /// Every include read so far (as the callback gets it), with whether it was a constraint.
    included: std::collections::HashSet<(String, bool)>,
    /// The top file's directory as given (empty for a bare name).
    top_dir: String,
    read: &'r mut dyn FnMut(&str) -> Option<String>,
}

/// Options pip accepts on a line of their own, and whether each takes a value.
const GLOBAL_OPTIONS: &[(&str, &str, bool)] = &[
    ("-r", "--requirement", true),
    ("-c", "--constraint", true),
    ("-e", "--editable", true),
    ("-f", "--find-links", true),
    ("-i", "--index-url", true),
    ("", "--extra-index-url", true),
    ("", "--no-index", false),
    ("", "--no-binary", true),
    ("", "--only-binary", true),
    ("", "--prefer-binary", false),
    ("", "--require-hashes", false),
    ("", "--pre", false),
    ("", "--trusted-host", true),
    ("", "--use-feature", true),
    ("", "--config-settings", true),
];

/// Options pip accepts after a requirement.
const REQUIREMENT_OPTIONS: &[(&str, &str, bool)] = &[
    ("", "--hash", true),
    ("", "--config-settings", true),
    ("", "--global-option", true),
    ("", "--install-option", true),
];

/// One option of a line: its long name and value.
struct Opt {
    long: &'static str,
    value: Option<String>,
}

/// Split a logical line's option text into options, as pip's optparse would; unknown
/// options and missing values are problems (returned as messages).
fn parse_options(tokens: &[&str], allowed: &[(&'static str, &'static str, bool)]) -> (Vec<Opt>, Vec<String>) {
    let mut opts = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let tok = unquote(tokens[i]);
        i += 1;
        let (name, inline): (&str, Option<&str>) = if tok.starts_with("--") {
            match tok.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (tok, None),
            }
        } else if tok.starts_with('-') && tok.len() > 2 && tok.is_char_boundary(2) {
            (&tok[..2], Some(&tok[2..]))
        } else {
            (tok, None)
        };
        if !name.starts_with('-') {
            errors.push(format!("unexpected text {}", shown(tok)));
            continue;
        }
        let Some(&(_, long, takes_value)) =
            allowed.iter().find(|(s, l, _)| (!s.is_empty() && *s == name) || *l == name)
        else {
            errors.push(format!("option {} is not accepted here", shown(name)));
            continue;
        };
        let value = if takes_value {
            match inline {
                Some(v) => Some(unquote(v).to_owned()),
                None if i < tokens.len() => {
                    i += 1;
                    Some(unquote(tokens[i - 1]).to_owned())
                }
                None => {
                    errors.push(format!("option {long} needs a value"));
                    continue;
                }
            }
        } else {
            if inline.is_some() {
                errors.push(format!("option {long} takes no value"));
            }
            None
        };
        opts.push(Opt { long, value });
    }
    (opts, errors)
}

/// A token without the quotes shlex would remove.
fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// The directory part of a path (`a/b.txt` -> `a`), empty for a bare name.
fn dir_of(path: &str) -> &str {
    path.rfind(['/', '\\']).map_or("", |i| &path[..i])
}

/// A path with `.` and `a/..` components folded, lexically.
fn fold_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// Logical lines of a requirements file as pip joins them: (first physical line, text), or
/// `None` text for a line longer than [`MAX_LINE_BYTES`].
fn logical_lines(text: &str) -> Vec<(usize, Option<String>)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String, bool)> = None;
    for (n, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let number = n + 1;
        let comment = line.trim_start().starts_with('#');
        if !line.ends_with('\\') || comment {
            match current.take() {
                Some((first, mut joined, too_long)) => {
                    let too_long = too_long || joined.len() + line.len() + 1 > MAX_LINE_BYTES;
                    if !too_long {
                        if comment {
                            joined.push(' ');
                        }
                        joined.push_str(line);
                    }
                    out.push((first, (!too_long).then_some(joined)));
                }
                None if line.len() > MAX_LINE_BYTES => out.push((number, None)),
                None => out.push((number, Some(line.to_owned()))),
            }
        } else {
            let (first, mut joined, mut too_long) = current.take().unwrap_or((number, String::new(), false));
            let part = line.trim_matches('\\');
            if too_long || joined.len() + part.len() > MAX_LINE_BYTES {
                too_long = true;
                joined = String::new();
            } else {
                joined.push_str(part);
            }
            current = Some((first, joined, too_long));
        }
    }
    if let Some((first, joined, too_long)) = current {
        out.push((first, (!too_long).then_some(joined)));
    }
    out
}

/// A line without its comment: from the first `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

impl ReqReader<'_> {
    /// Read one file. `include_line` is the line of the top file's `-r` that (transitively)
    /// includes it; `constraint` is true inside a `-c` file.
    fn file(&mut self, file: &str, text: &str, depth: usize, include_line: Option<usize>, constraint: bool) {
        for (number, logical) in logical_lines(text) {
            if self.lock.packages.len() >= MAX_PACKAGES {
                self.sink.push(file, number, format!("more than {MAX_PACKAGES} requirements; the rest are not read"));
                return;
            }
            let Some(logical) = logical else {
                self.sink.push(file, number, format!("line longer than {MAX_LINE_BYTES} bytes: not read"));
                continue;
            };
            let line = strip_comment(&logical).trim();
            if line.is_empty() {
                continue;
            }
            let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
            let split = tokens.iter().position(|t| t.starts_with('-')).unwrap_or(tokens.len());
            let (args, options) = tokens.split_at(split);
            let entry_line = include_line.unwrap_or(number);
            if args.is_empty() {
                self.options_line(file, number, options, depth, entry_line, constraint);
            } else {
                self.requirement_line(file, number, &args.join(" "), options, entry_line, constraint);
            }
        }
    }

    fn add(&mut self, p: LockedPackage) {
        if self.lock.packages.len() < MAX_PACKAGES {
            self.lock.packages.push(p);
        }
    }

    fn options_line(
        &mut self,
        file: &str,
        number: usize,
        tokens: &[&str],
        depth: usize,
        entry_line: usize,
        constraint: bool,
    ) {
        let (opts, errors) = parse_options(tokens, GLOBAL_OPTIONS);
        for e in errors {
            self.sink.push(file, number, e);
        }
        for opt in opts {
            let value = opt.value.unwrap_or_default();
            match opt.long {
                "--find-links" => {
                    // pip reads a relative directory from the file naming it: one an included
                    // file names is made relative to the top file's directory.
                    let current = self.stack.last().map_or("", String::as_str);
                    let value = if self.stack.len() > 1
                        && !dir_of(current).is_empty()
                        && !value.contains("://")
                        && !value.starts_with('/')
                    {
                        fold_path(&format!("{}/{value}", dir_of(current)))
                    } else {
                        value
                    };
                    self.lock.find_links.push(value);
                }
                "--requirement" | "--constraint" => {
                    self.include(file, number, &value, depth, entry_line, constraint || opt.long == "--constraint");
                }
                "--editable" if !constraint => {
                    let egg = value.split_once("#egg=").map(|(_, e)| e.split('&').next().unwrap_or(e).to_owned());
                    // Without `#egg=`, the name is in the project's metadata, not here: the
                    // location stands for it (normalizing a path would merge `.` and `..`).
                    let normalized = egg.as_deref().map_or_else(|| value.clone(), normalize);
                    let name = egg.unwrap_or_else(|| value.clone());
                    let p = LockedPackage {
                        normalized,
                        name,
                        source: Some(("editable".into(), value)),
                        line: entry_line,
                        ..LockedPackage::default()
                    };
                    self.add(p);
                }
                _ => {}
            }
        }
    }

    fn include(&mut self, file: &str, number: usize, target: &str, depth: usize, entry_line: usize, constraint: bool) {
        let flag = if constraint { "-c" } else { "-r" };
        if target.contains("://") {
            self.sink.push(file, number, format!("{flag} {}: a remote file is not read", shown(target)));
            return;
        }
        if depth + 1 > MAX_INCLUDE_DEPTH {
            self.sink.push(
                file,
                number,
                format!("{flag} {}: includes nest deeper than {MAX_INCLUDE_DEPTH}: not read", shown(target)),
            );
            return;
        }
        // The include as the callback gets it: relative to the top file's directory.
        let current = self.stack.last().map_or("", String::as_str);
        let path = if target.starts_with('/') || dir_of(current).is_empty() {
            fold_path(target)
        } else {
            fold_path(&format!("{}/{target}", dir_of(current)))
        };
        // As problems name it: from where the top file is.
        let shown_path = if path.starts_with('/') || self.top_dir.is_empty() {
            path.clone()
        } else {
            fold_path(&format!("{}/{path}", self.top_dir))
        };
        if self.stack.contains(&path) {
            self.sink.push(
                file,
                number,
                format!("{flag} {}: includes itself (a cycle): not read again", shown(target)),
            );
            return;
        }
        // Read once: the same file again brings the same entries (already listed).
        if !self.included.insert((path.clone(), constraint)) {
            return;
        }
        if self.included.len() > MAX_INCLUDES {
            self.sink.push(
                file,
                number,
                format!("{flag} {}: more than {MAX_INCLUDES} included files: not read", shown(target)),
            );
            return;
        }
        let Some(text) = (self.read)(&path) else {
            self.sink.push(file, number, format!("{flag} {}: the included file could not be read", shown(&shown_path)));
            return;
        };
        self.stack.push(path);
        self.file(&shown_path, &text, depth + 1, Some(entry_line), constraint);
        self.stack.pop();
    }

    fn requirement_line(
        &mut self,
        file: &str,
        number: usize,
        args: &str,
        options: &[&str],
        entry_line: usize,
        constraint: bool,
    ) {
        let (opts, errors) = parse_options(options, REQUIREMENT_OPTIONS);
        for e in errors {
            self.sink.push(file, number, e);
        }
        let mut hashes = Vec::new();
        for opt in opts.iter().filter(|o| o.long == "--hash") {
            let value = opt.value.as_deref().unwrap_or_default();
            let checked = value
                .split_once(':')
                .ok_or_else(|| format!("--hash {} is not algorithm:hex", shown(value)))
                .and_then(|(algo, hex)| check_hash(algo, hex));
            match checked {
                Ok(h) if hashes.len() < MAX_FILES_PER_PACKAGE => hashes.push(h),
                Ok(_) => {}
                Err(e) => self.sink.push(file, number, format!("{e} (line {number})")),
            }
        }
        let Some(mut p) = self.requirement(file, number, args, constraint) else { return };
        if constraint {
            return;
        }
        p.line = entry_line;
        for f in p.wheels.iter_mut().chain(p.sdist.as_mut()) {
            f.hashes.clone_from(&hashes);
        }
        p.hashes = hashes;
        self.add(p);
    }

    /// The entry a requirement line names, or `None` (a problem) when it cannot be read.
    fn requirement(&mut self, file: &str, number: usize, text: &str, constraint: bool) -> Option<LockedPackage> {
        let bare = {
            let lower = text.to_ascii_lowercase();
            let head = lower.split(" ;").next().unwrap_or(&lower).trim();
            head.starts_with('.')
                || head.starts_with('/')
                || head.starts_with("file:")
                || head.split_once("://").is_some_and(|(scheme, _)| {
                    !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
                })
                || ["git+", "hg+", "svn+", "bzr+"].iter().any(|p| head.starts_with(p))
                || ((is_wheel(head) || is_sdist(head)) && !head.contains('@'))
        };
        if bare {
            let (location, marker) = match text.split_once(" ;") {
                Some((l, m)) => (l.trim(), Some(m.trim())),
                None => (text.trim(), None),
            };
            let mut p = LockedPackage::default();
            url_requirement(&mut p, location);
            let egg = location.split_once("#egg=").map(|(_, e)| e.split('&').next().unwrap_or(e).to_owned());
            let from_file = p.wheels.first().or(p.sdist.as_ref()).map(|f| {
                if is_wheel(&f.filename) {
                    f.filename.split('-').next().unwrap_or_default().to_owned()
                } else {
                    f.filename.rsplit_once('-').map_or_else(String::new, |(n, _)| n.to_owned())
                }
            });
            let Some(name) = egg.or(from_file).filter(|n| !n.is_empty()) else {
                self.sink.push(file, number, format!("{} names no package (no #egg=): not read", shown(location)));
                return None;
            };
            p.normalized = normalize(&name);
            p.name = name;
            if let Some(m) = marker {
                match parse_marker(m) {
                    Ok(tree) => p.marker = tree.try_to_string(),
                    Err(e) => {
                        self.sink.push(file, number, format!("marker {} cannot be read: {}", shown(m), shown(&e)))
                    }
                }
            }
            return Some(p);
        }
        // The name as written (pep508_rs keeps only the normalized one).
        let written = text.trim_start();
        let name_end = written
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(written.len());
        let written_name = &written[..name_end];
        let req = match crate::parse::pep508::parse_requirement::<VerbatimUrl>(text) {
            Ok(req) => req,
            Err(e) => {
                // `name @ ./local/path.whl`: a path pep508_rs does not take for a URL.
                if let Some((head, rest)) = text.split_once('@')
                    && !written_name.is_empty()
                    && head.split('[').next().unwrap_or_default().trim() == written_name
                {
                    let (location, marker) = match rest.split_once(" ;") {
                        Some((l, m)) => (l.trim(), Some(m.trim())),
                        None => (rest.trim(), None),
                    };
                    if !location.is_empty() && !location.contains(char::is_whitespace) {
                        let mut p = LockedPackage {
                            name: written_name.to_owned(),
                            normalized: normalize(written_name),
                            ..LockedPackage::default()
                        };
                        url_requirement(&mut p, location);
                        if let Some(m) = marker {
                            match parse_marker(m) {
                                Ok(tree) => p.marker = tree.try_to_string(),
                                Err(e) => self.sink.push(
                                    file,
                                    number,
                                    format!("marker {} cannot be read: {}", shown(m), shown(&e)),
                                ),
                            }
                        }
                        return Some(p);
                    }
                }
                let first = e.lines().next().unwrap_or_default();
                self.sink.push(file, number, format!("not a requirement ({}): {}", shown(first), shown(text)));
                return None;
            }
        };
        let name = if written_name.is_empty() { req.name.to_string() } else { written_name.to_owned() };
        let mut p = LockedPackage { normalized: normalize(&name), name, ..LockedPackage::default() };
        p.marker = req.marker.try_to_string();
        match &req.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specs)) => {
                p.version = specs
                    .iter()
                    .find(|s| matches!(s.operator(), Operator::Equal | Operator::ExactEqual))
                    .map(|s| s.version().to_string());
            }
            Some(VersionOrUrl::Url(url)) => {
                let given = url.given().map_or_else(|| url.to_string(), str::to_owned);
                url_requirement(&mut p, &given);
            }
            None => {}
        }
        if p.version.is_none() && p.source.is_none() && p.wheels.is_empty() && p.sdist.is_none() && !constraint {
            self.sink.push(
                file,
                number,
                format!("{} is not pinned: the artefact gate judges exact versions", shown(text)),
            );
        }
        Some(p)
    }
}

/// A direct reference (`name @ URL`, or a bare URL or path): a wheel or an sdist with source
/// `"url"` (`"path"` for a local path; version from the file name), `"vcs"` for `git+` and the
/// like, else `"directory"`.
fn url_requirement(p: &mut LockedPackage, location: &str) {
    let lower = location.to_ascii_lowercase();
    if ["git+", "hg+", "svn+", "bzr+"].iter().any(|s| lower.starts_with(s)) {
        p.source = Some(("vcs".into(), location.to_owned()));
        return;
    }
    let is_url = location.contains("://");
    let filename = file_name_of(location, is_url);
    let file = LockedFile {
        filename: filename.clone(),
        url: is_url.then(|| location.to_owned()),
        path: (!is_url).then(|| location.to_owned()),
        ..LockedFile::default()
    };
    if is_wheel(&filename) {
        p.wheels.push(file);
    } else if is_sdist(&filename) {
        p.sdist = Some(file);
    } else {
        p.source = Some(("directory".into(), location.to_owned()));
        return;
    }
    p.version = p.version.take().or_else(|| version_of_file(&filename));
    p.source = Some((if is_url { "url" } else { "path" }.into(), location.to_owned()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use pep508_rs::MarkerEnvironmentBuilder;

    fn env(full: &str) -> MarkerEnvironment {
        let xy: String = full.split('.').take(2).collect::<Vec<_>>().join(".");
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: full,
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version: full,
            python_version: &xy,
            sys_platform: "linux",
        })
        .unwrap()
    }

    fn names(pkgs: &[LockedPackage]) -> Vec<String> {
        pkgs.iter().map(|p| format!("{}=={}", p.normalized, p.version.as_deref().unwrap_or("?"))).collect()
    }

    fn get<'a>(lock: &'a Lock, name: &str) -> &'a LockedPackage {
        lock.packages.iter().find(|p| p.normalized == name).unwrap_or_else(|| panic!("{name} not in lock"))
    }

    #[test]
    fn format_is_chosen_by_file_name() {
        assert!(is_pylock_name("pylock.toml"));
        assert!(is_pylock_name("pylock.spam.toml"));
        assert!(!is_pylock_name("pylock.a.b.toml"));
        assert!(!is_pylock_name("pylock..toml"));
        assert_eq!(parse_lock("x/uv.lock", "version = 1\n").kind, Some(LockKind::UvLock));
        assert_eq!(parse_lock("pylock.web.toml", "lock-version = '1.0'\n").kind, Some(LockKind::Pylock));
        assert_eq!(parse_lock("deploy/requirements.lock", "").kind, Some(LockKind::Requirements));
    }

    /// `pip lock --no-index -f .tools/wheels requests` (pip 26.3).
    #[test]
    fn pylock_from_pip() {
        let lock = parse_lock("pylock.toml", include_str!("../../tests/fixtures/locks/pylock.pip.toml"));
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
        assert_eq!(lock.kind, Some(LockKind::Pylock));
        assert_eq!(
            names(&lock.packages),
            [
                "certifi==2026.10.19.post1",
                "charset-normalizer==3.5.3",
                "idna==3.20",
                "requests==2.34.2",
                "urllib3==2.8.0"
            ]
        );
        let requests = get(&lock, "requests");
        assert_eq!(requests.line, 37);
        assert_eq!(requests.wheels.len(), 1);
        let w = &requests.wheels[0];
        assert_eq!(w.filename, "requests-2.34.2-py3-none-any.whl");
        assert_eq!(w.url.as_deref(), Some("file:///work/main/.tools/wheels/requests-2.34.2-py3-none-any.whl"));
        assert_eq!(
            w.hashes,
            [("sha256".to_owned(), "2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0".to_owned())]
        );
        assert_eq!(requests.source, None);
        let (selected, problems) = lock.for_target("pylock.toml", &env("3.12.1"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(selected.len(), 5);
    }

    /// `uv export --format pylock.toml` of a project with a marker dependency, a local
    /// version (`1.0+cpu`, percent-encoded in its URLs) and an sdist.
    #[test]
    fn pylock_from_uv() {
        let lock = parse_lock("pylock.toml", include_str!("../../tests/fixtures/locks/pylock.uv.toml"));
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
        assert_eq!(lock.requires_python.as_deref(), Some(">=3.10"));
        assert_eq!(lock.selection.requires_python_line, 5);
        let tiny = get(&lock, "tinylocal");
        assert_eq!(tiny.version.as_deref(), Some("1.0+cpu"));
        assert_eq!(tiny.wheels[0].filename, "tinylocal-1.0+cpu-py3-none-any.whl");
        assert!(tiny.wheels[0].url.as_deref().unwrap().ends_with("tinylocal-1.0%2Bcpu-py3-none-any.whl"));
        let sdist = tiny.sdist.as_ref().unwrap();
        assert_eq!(sdist.filename, "tinylocal-1.0+cpu.tar.gz");
        assert_eq!(sdist.hashes[0].0, "sha256");
        assert_eq!(get(&lock, "charset-normalizer").wheels.len(), 4);
        let te = get(&lock, "typing-extensions");
        assert_eq!(te.marker.as_deref(), Some("python_full_version < '3.11'"));

        let (on310, p310) = lock.for_target("pylock.toml", &env("3.10.13"));
        let (on312, p312) = lock.for_target("pylock.toml", &env("3.12.1"));
        assert!(p310.is_empty() && p312.is_empty(), "{p310:?} {p312:?}");
        assert!(on310.iter().any(|p| p.normalized == "typing-extensions"));
        assert!(!on312.iter().any(|p| p.normalized == "typing-extensions"));
        assert_eq!(on310.len(), on312.len() + 1);

        // The lock's requires-python is judged for the target.
        let (_, p39) = lock.for_target("pylock.toml", &env("3.9.18"));
        assert_eq!(p39.len(), 1, "{p39:?}");
        assert_eq!(p39[0].line, 5);
        assert!(p39[0].message.contains("requires-python >=3.10 excludes Python 3.9.18"), "{}", p39[0].message);
    }

    /// `uv export --format pylock.toml` of a uv workspace: members are `directory` entries.
    #[test]
    fn pylock_directories_are_sources() {
        let lock = parse_lock("pylock.toml", include_str!("../../tests/fixtures/locks/pylock.uv-workspace.toml"));
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
        let lib = get(&lock, "ws-lib");
        assert_eq!(lib.source, Some(("editable".to_owned(), "packages/ws-lib".to_owned())));
        assert!(lib.wheels.is_empty() && lib.version.is_none());
        let (linux, _) = lock.for_target("pylock.toml", &env("3.12.1"));
        assert_eq!(names(&linux), ["pytz==2026.6", "six==1.17.0", "ws-lib==?", "ws-root==?"]);
    }

    #[test]
    fn pylock_other_major_version_is_refused() {
        let text = "lock-version = \"2.0\"\n\n[[packages]]\nname = \"x\"\nversion = \"1\"\n";
        let lock = parse_lock("pylock.toml", text);
        assert!(lock.packages.is_empty());
        assert_eq!(lock.problems.len(), 1);
        assert_eq!(lock.problems[0].line, 1);
        assert!(lock.problems[0].message.contains("lock-version 2.0 is not supported"), "{:?}", lock.problems);
        // A newer minor version is read.
        let lock = parse_lock("pylock.toml", &text.replace("2.0", "1.1"));
        assert_eq!(lock.packages.len(), 1);
        assert!(lock.problems.iter().all(|p| !p.message.contains("lock-version")));
    }

    #[test]
    fn pylock_environments_excluding_the_target() {
        let text = r#"lock-version = "1.0"
environments = ["sys_platform == 'win32'", "sys_platform == 'darwin'"]
requires-python = ">=3.11"
default-groups = ["default"]

[[packages]]
name = "a"
version = "1.0"
marker = "'default' in dependency_groups"
wheels = [{ url = "https://h/a-1.0-py3-none-any.whl", hashes = { sha256 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" } }]

[[packages]]
name = "b"
version = "1.0"
marker = "'fancy' in extras"
wheels = [{ url = "https://h/b-1.0-py3-none-any.whl", hashes = { sha256 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" } }]
"#;
        let lock = parse_lock("pylock.toml", text);
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
        assert_eq!(lock.environments.len(), 2);
        let (selected, problems) = lock.for_target("pylock.toml", &env("3.12.1"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 2);
        assert!(problems[0].message.contains("does not cover this target"));
        // PEP 751 markers: the default group holds, no extra is selected.
        assert_eq!(names(&selected), ["a==1.0"]);
        // A target on one of its environments is covered.
        let win = env("3.12.1").with_sys_platform("win32");
        assert!(lock.for_target("pylock.toml", &win).1.is_empty());
    }

    #[test]
    fn pylock_sources_hashes_and_problems() {
        let text = r#"lock-version = "1.0"

[[packages]]
name = "torch"
version = "2.1.0+cpu"
wheels = [
  { url = "https://download.example/whl/cpu/torch-2.1.0%2Bcpu-cp311-cp311-linux_x86_64.whl#frag", size = 1_024, hashes = { sha256 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", md5 = "00" } },
  { path = "wheels/x.whl", hashes = { md5 = "0123" } },
]

[[packages]]
name = "proj"
vcs = { type = "git", url = "https://github.com/o/proj.git", commit-id = "abc" }

[[packages]]
name = "arch"
version = "3.0"
archive = { url = "https://h/arch-3.0.tar.gz", hashes = { sha512 = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc" } }

[[packages]]
version = "1"

[[packages]]
name = "nothing"
"#;
        let lock = parse_lock("pylock.ci.toml", text);
        let torch = get(&lock, "torch");
        assert_eq!(torch.wheels[0].filename, "torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl");
        assert_eq!(torch.wheels[0].size, Some(1024));
        assert_eq!(torch.wheels[0].hashes, [("sha256".to_owned(), "a".repeat(64))]);
        assert_eq!(torch.wheels[1].filename, "x.whl");
        assert!(torch.wheels[1].hashes.is_empty());
        assert_eq!(get(&lock, "proj").source, Some(("vcs".to_owned(), "https://github.com/o/proj.git".to_owned())));
        let arch = get(&lock, "arch");
        assert_eq!(arch.source.as_ref().unwrap().0, "archive");
        assert_eq!(arch.sdist.as_ref().unwrap().filename, "arch-3.0.tar.gz");
        assert_eq!(arch.sdist.as_ref().unwrap().hashes[0].0, "sha512");
        let lines: Vec<(usize, &str)> = lock.problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert!(
            lines.iter().any(|(l, m)| *l == 8 && m.contains("no sha256, sha384 or sha512 hash (only md5)")),
            "{lines:?}"
        );
        assert!(lines.iter().any(|(l, m)| *l == 20 && m.contains("without a name")), "{lines:?}");
        assert!(lines.iter().any(|(l, m)| *l == 23 && m.contains("none of wheels")), "{lines:?}");
        assert_eq!(lock.problems.len(), 3, "{lines:?}");
    }

    #[test]
    fn malformed_toml_is_a_problem_with_a_line() {
        let text = "lock-version = \"1.0\"\n\n[[packages]]\nname = \"a\"\nversion = 1.0.0\n";
        let lock = parse_lock("pylock.toml", text);
        assert!(!lock.problems.is_empty());
        assert!(
            lock.problems.iter().any(|p| p.line == 5 && p.message.contains("not valid TOML")),
            "{:?}",
            lock.problems
        );
        let uv = parse_lock("uv.lock", "version = 1\n[[package]\nname = 'x'\n");
        assert!(uv.problems.iter().any(|p| p.line == 2 && p.message.contains("not valid TOML")), "{:?}", uv.problems);
        // Deep nesting is refused by the TOML parser's recursion limit, not a stack overflow.
        let deep = format!("version = 1\nx = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let uv = parse_lock("uv.lock", &deep);
        assert!(uv.problems.iter().any(|p| p.message.contains("not valid TOML")), "{:?}", uv.problems);
        // Garbage of every kind is problems, never a panic.
        for text in ["\u{0}\u{1}[[[", "lock-version = 1\npackages = 3", "packages = [1, 'a', {name = 2}]", "=\n=\n"] {
            let lock = parse_lock("pylock.toml", text);
            assert!(!lock.problems.is_empty(), "{text:?}");
            let _ = lock.for_target("pylock.toml", &env("3.12.1"));
            let _ = parse_lock("uv.lock", text).for_target("uv.lock", &env("3.12.1"));
            let _ = parse_lock("requirements.txt", text).for_target("r.txt", &env("3.12.1"));
        }
    }

    /// `uv pip compile --universal --generate-hashes` output.
    #[test]
    fn requirements_with_hashes_and_continuations() {
        let lock = parse_lock("requirements.txt", include_str!("../../tests/fixtures/locks/requirements-hashed.txt"));
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
        assert_eq!(lock.kind, Some(LockKind::Requirements));
        assert_eq!(lock.packages.len(), 9);
        let cn = get(&lock, "charset-normalizer");
        assert_eq!(cn.line, 6);
        assert_eq!(cn.version.as_deref(), Some("3.5.3"));
        assert_eq!(cn.hashes.len(), 5);
        assert!(cn.hashes.iter().all(|(a, h)| a == "sha256" && h.len() == 64));
        let tiny = get(&lock, "tinylocal");
        assert_eq!(tiny.version.as_deref(), Some("1.0+cpu"));
        let te = get(&lock, "typing-extensions");
        assert_eq!(te.line, 31);
        assert_eq!(te.marker.as_deref(), Some("python_full_version < '3.11'"));
        let (on312, problems) = lock.for_target("requirements.txt", &env("3.12.1"));
        assert!(problems.is_empty());
        assert_eq!(on312.len(), 8);
        assert_eq!(lock.for_target("requirements.txt", &env("3.10.13")).0.len(), 9);
    }

    #[test]
    fn requirements_options_problems_and_markers() {
        let h = "a".repeat(64);
        let text = format!(
            "# top comment\n\
             -f ./wheels\n\
             --find-links=/srv/wheels\n\
             --index-url https://user:secret@pypi.example/simple --no-index\n\
             --require-hashes\n\
             --only-binary :all:\n\
             foo==1.0 --hash=sha256:{h} \\\n    --hash sha256:{h}  # trailing comment\n\
             weak==2.0 --hash=md5:0123456789abcdef0123456789abcdef\n\
             mixed==3.0 \\\n  --hash=sha1:0123456789abcdef0123456789abcdef01234567 \\\n  --hash=sha512:{}\n\
             loose>=1.0\n\
             old==1.0 ; python_version < '3.8'\n\
             FOO==1.1\n\
             -r other.txt\n\
             url-pkg @ https://h/files/url_pkg-0.5%2Blocal-py3-none-any.whl#sha256={h}\n\
             --bogus-option\n",
            "b".repeat(128)
        );
        let lock = parse_lock("requirements.txt", &text);
        assert_eq!(lock.find_links, ["./wheels", "/srv/wheels"]);
        let problems: Vec<(usize, &str)> = lock.problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        // md5-only line: a problem naming the line, the entry keeps no hash.
        assert!(problems.iter().any(|(l, m)| *l == 9 && m.contains("md5") && m.contains("line 9")), "{problems:?}");
        assert!(get(&lock, "weak").hashes.is_empty());
        // A weak hash beside a strong one: a problem, the strong one kept.
        assert!(problems.iter().any(|(l, m)| *l == 10 && m.contains("sha1")), "{problems:?}");
        assert_eq!(get(&lock, "mixed").hashes, [("sha512".to_owned(), "b".repeat(128))]);
        // Unpinned: a problem, still listed without a version.
        assert!(problems.iter().any(|(l, m)| *l == 13 && m.contains("not pinned")), "{problems:?}");
        assert_eq!(get(&lock, "loose").version, None);
        assert!(problems.iter().any(|(l, m)| *l == 16 && m.contains("other.txt") && m.contains("could not be read")));
        assert!(problems.iter().any(|(l, m)| *l == 18 && m.contains("--bogus-option")), "{problems:?}");
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(!lock.problems.iter().any(|p| p.message.contains("secret")));
        // Continuation: the hashes of both physical lines, the entry at its first line.
        let foo = get(&lock, "foo");
        assert_eq!((foo.line, foo.hashes.len()), (7, 2));
        // A URL requirement: the wheel's name percent-decoded, its version from it.
        let url = get(&lock, "url-pkg");
        assert_eq!(url.wheels[0].filename, "url_pkg-0.5+local-py3-none-any.whl");
        assert_eq!(url.version.as_deref(), Some("0.5+local"));
        assert_eq!(url.source.as_ref().unwrap().0, "url");
        // A false marker skips; the same name twice is a problem naming both lines.
        let (selected, problems) = lock.for_target("requirements.txt", &env("3.12.1"));
        assert!(!selected.iter().any(|p| p.normalized == "old"));
        assert_eq!(selected.iter().filter(|p| p.normalized == "foo").count(), 1);
        assert_eq!(selected.iter().find(|p| p.normalized == "foo").unwrap().version.as_deref(), Some("1.0"));
        assert_eq!(get(&lock, "foo").name, "foo");
        assert_eq!(lock.packages.iter().filter(|p| p.name == "FOO").count(), 1);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 15);
        assert!(problems[0].message.contains("line 7 and line 15"), "{}", problems[0].message);
    }

    #[test]
    fn requirements_direct_references() {
        let h = "d".repeat(64);
        let text = format!(
            "./dist/pkg_a-1.0-py3-none-any.whl --hash=sha256:{h}\n\
             https://user:pw@files.example/pkg_b-2.0%2Bx.tar.gz#sha256={h}\n\
             git+https://github.com/o/c.git@v1#egg=c-pkg\n\
             -e ./lib\n\
             -e ../other#egg=Other_Pkg\n\
             https://files.example/no-name/\n\
             Local_Pkg[x] @ ./dist/local_pkg-3.1-py3-none-any.whl ; os_name == 'posix'\n\
             plain @ ../plain-0.2.tar.gz\n"
        );
        let lock = parse_lock("requirements.txt", &text);
        let a = get(&lock, "pkg-a");
        assert_eq!(a.version.as_deref(), Some("1.0"));
        assert_eq!(a.source, Some(("path".to_owned(), "./dist/pkg_a-1.0-py3-none-any.whl".to_owned())));
        assert_eq!(a.wheels[0].path.as_deref(), Some("./dist/pkg_a-1.0-py3-none-any.whl"));
        assert_eq!(a.wheels[0].hashes.len(), 1);
        let b = get(&lock, "pkg-b");
        assert_eq!(b.version.as_deref(), Some("2.0+x"));
        assert_eq!(b.sdist.as_ref().unwrap().filename, "pkg_b-2.0+x.tar.gz");
        assert_eq!(get(&lock, "c-pkg").source.as_ref().unwrap().0, "vcs");
        assert_eq!(get(&lock, "./lib").source, Some(("editable".to_owned(), "./lib".to_owned())));
        assert_eq!(get(&lock, "other-pkg").name, "Other_Pkg");
        let local = get(&lock, "local-pkg");
        assert_eq!((local.name.as_str(), local.version.as_deref()), ("Local_Pkg", Some("3.1")));
        assert_eq!(local.wheels[0].path.as_deref(), Some("./dist/local_pkg-3.1-py3-none-any.whl"));
        assert_eq!(local.marker.as_deref(), Some("os_name == 'posix'"));
        let plain = get(&lock, "plain");
        assert_eq!(plain.source, Some(("path".to_owned(), "../plain-0.2.tar.gz".to_owned())));
        assert_eq!(plain.sdist.as_ref().map(|f| f.filename.as_str()), Some("plain-0.2.tar.gz"));
        assert_eq!(lock.problems.len(), 1, "{:?}", lock.problems);
        assert_eq!(lock.problems[0].line, 6);
        assert!(lock.problems[0].message.contains("names no package"));
        assert!(!lock.problems[0].message.contains("pw@"));
    }

    /// `uv export --format requirements.txt` of a forked resolution: the same name twice
    /// under exclusive markers is no duplicate; `-e .` is an editable entry.
    #[test]
    fn requirements_forked_markers() {
        let lock = parse_lock("requirements.txt", include_str!("../../tests/fixtures/locks/requirements-forked.txt"));
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
        assert_eq!(lock.packages[0].source, Some(("editable".to_owned(), ".".to_owned())));
        let (on310, p310) = lock.for_target("r.txt", &env("3.10.13"));
        let (on312, p312) = lock.for_target("r.txt", &env("3.12.1"));
        assert!(p310.is_empty() && p312.is_empty(), "{p310:?} {p312:?}");
        assert_eq!(names(&on310), [".==?", "idna==2.10", "urllib3==1.26.4"]);
        assert_eq!(names(&on312), [".==?", "idna==3.15", "urllib3==2.8.0"]);
    }

    #[test]
    fn requirements_includes() {
        let h = "c".repeat(64);
        let files: HashMap<&str, String> = HashMap::from([
            ("base.txt", "-r sub/common.txt\n-c constraints.txt\nbase==1.0\n".to_owned()),
            ("sub/common.txt", format!("common==2.0 --hash=sha256:{h}\n-r ../base.txt\n-f wheels\n")),
            ("constraints.txt", "pinned<3\nbase==1.0\n".to_owned()),
        ]);
        let mut asked = Vec::new();
        let mut read = |path: &str| {
            asked.push(path.to_owned());
            files.get(path).cloned()
        };
        let top = "top==0.1\n-r base.txt\n-r missing.txt\n";
        let lock = parse_requirements_with("deploy/requirements.txt", top, &mut read);
        assert_eq!(asked, ["base.txt", "sub/common.txt", "constraints.txt", "missing.txt"]);
        assert_eq!(names(&lock.packages), ["top==0.1", "common==2.0", "base==1.0"]);
        // Entries of an included file carry the line of the top file's -r.
        assert_eq!(get(&lock, "common").line, 2);
        assert_eq!(get(&lock, "common").hashes.len(), 1);
        assert_eq!(lock.find_links, ["sub/wheels"]);
        let problems: Vec<(&str, usize, &str)> =
            lock.problems.iter().map(|p| (p.file.as_str(), p.line, p.message.as_str())).collect();
        assert!(problems.iter().any(|(f, l, m)| *f == "deploy/sub/common.txt" && *l == 2 && m.contains("cycle")));
        assert!(
            problems.iter().any(|(f, l, m)| *f == "deploy/requirements.txt" && *l == 3 && m.contains("missing.txt"))
        );
        // The constraint file's unpinned line is no problem: it installs nothing.
        assert_eq!(problems.len(), 2, "{problems:?}");

        // Depth is bounded.
        let mut deep = |path: &str| Some(format!("-r {}x.txt\n", path.trim_end_matches(".txt")));
        let lock = parse_requirements_with("r.txt", "-r r1.txt\n", &mut deep);
        assert!(lock.problems.iter().any(|p| p.message.contains("nest deeper than 8")), "{:?}", lock.problems);
    }

    /// `uv lock` of a project with a marker dependency, an extra on an edge, optional and dev
    /// dependencies (`tests/fixtures/locks/uv-markers.lock`).
    #[test]
    fn uv_lock_graph_with_markers() {
        let lock = parse_lock("uv.lock", include_str!("../../tests/fixtures/locks/uv-markers.lock"));
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
        assert_eq!(lock.kind, Some(LockKind::UvLock));
        assert_eq!(lock.requires_python.as_deref(), Some(">=3.10"));
        assert_eq!(lock.packages.len(), 13);
        let app = get(&lock, "demo-app");
        assert_eq!(app.source, Some(("virtual".to_owned(), ".".to_owned())));
        let tiny = get(&lock, "tinylocal");
        assert_eq!(tiny.source, None);
        assert_eq!(tiny.wheels[0].filename, "tinylocal-1.0+cpu-py3-none-any.whl");
        assert_eq!(tiny.sdist.as_ref().unwrap().filename, "tinylocal-1.0+cpu.tar.gz");
        assert_eq!(tiny.sdist.as_ref().unwrap().hashes[0].1.len(), 64);

        let (on310, p310) = lock.for_target("uv.lock", &env("3.10.13"));
        let (on312, p312) = lock.for_target("uv.lock", &env("3.12.1"));
        assert!(p310.is_empty() && p312.is_empty(), "{p310:?} {p312:?}");
        let base = [
            "certifi==2026.10.19.post1",
            "charset-normalizer==3.5.3",
            "demo-app==0.1.0",
            "idna==3.20",
            "pytz==2026.6",
            "requests==2.32.5",
            "six==1.17.0",
            "tinyextra==2.0",
            "tinylocal==1.0+cpu",
        ];
        let mut with_te = base.to_vec();
        with_te.push("typing-extensions==4.16.0");
        with_te.push("urllib3==2.8.0");
        let mut without_te = base.to_vec();
        without_te.push("urllib3==2.8.0");
        // The marker edge holds on 3.10 only; six comes in through `tinyextra[feat]`; the
        // member's own extra (pyyaml) and dev group (packaging) are not followed.
        assert_eq!(names(&on310), with_te);
        assert_eq!(names(&on312), without_te);

        let (_, p39) = lock.for_target("uv.lock", &env("3.9.18"));
        assert!(p39.iter().any(|p| p.line == 3 && p.message.contains("requires-python")), "{p39:?}");
    }

    /// `uv lock` of a forked resolution (`resolution-markers`, edges with `version`/`source`).
    #[test]
    fn uv_lock_forked_resolution() {
        let lock = parse_lock("uv.lock", include_str!("../../tests/fixtures/locks/uv-forked.lock"));
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
        assert_eq!(lock.packages.len(), 5);
        let (on310, p310) = lock.for_target("uv.lock", &env("3.10.13"));
        let (on312, p312) = lock.for_target("uv.lock", &env("3.12.1"));
        assert!(p310.is_empty() && p312.is_empty(), "{p310:?} {p312:?}");
        assert_eq!(names(&on310), ["forked-app==1.2.0", "idna==2.10", "urllib3==1.26.4"]);
        assert_eq!(names(&on312), ["forked-app==1.2.0", "idna==3.15", "urllib3==2.8.0"]);
        assert_eq!(on312[0].source, Some(("editable".to_owned(), ".".to_owned())));

        // Without the edges' versions, the packages' own resolution markers pick.
        let stripped = include_str!("../../tests/fixtures/locks/uv-forked.lock")
            .replace(r#"version = "2.10", source = { registry = "http://127.0.0.1:8765/simple" }, "#, "")
            .replace(r#"version = "3.15", source = { registry = "http://127.0.0.1:8765/simple" }, "#, "");
        let lock = parse_lock("uv.lock", &stripped);
        let (on310, p310) = lock.for_target("uv.lock", &env("3.10.13"));
        assert!(p310.is_empty(), "{p310:?}");
        assert!(on310.iter().any(|p| p.normalized == "idna" && p.version.as_deref() == Some("2.10")));
    }

    /// `uv lock` of a workspace (`[manifest] members`, editable members, platform markers).
    #[test]
    fn uv_lock_workspace_members() {
        let lock = parse_lock("uv.lock", include_str!("../../tests/fixtures/locks/uv-workspace.lock"));
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
        assert_eq!(lock.selection.uv.as_ref().unwrap().members, ["ws-lib", "ws-root"]);
        let (linux, problems) = lock.for_target("uv.lock", &env("3.12.1"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(names(&linux), ["pytz==2026.6", "six==1.17.0", "ws-lib==0.1.0", "ws-root==0.3.0"]);
        let win = env("3.12.1").with_sys_platform("win32");
        let (windows, _) = lock.for_target("uv.lock", &win);
        assert_eq!(names(&windows), ["packaging==26.4", "pytz==2026.6", "ws-lib==0.1.0", "ws-root==0.3.0"]);
    }

    #[test]
    fn uv_lock_problems() {
        let lock = parse_lock("uv.lock", "version = 2\n[[package]]\nname = 'x'\n");
        assert!(lock.packages.is_empty());
        assert!(lock.problems[0].message.contains("version 2 is not supported"), "{:?}", lock.problems);
        let text = r#"version = 1
revision = 3
requires-python = ">=3.8"
supported-environments = ["sys_platform == 'darwin'"]

[[package]]
name = "app"
version = "1.0"
source = { editable = "." }
dependencies = [
    { name = "gone" },
    { name = "lib", marker = "python_version >= '3.8'" },
]

[[package]]
name = "lib"
version = "2.0"
source = { git = "https://github.com/o/lib?rev=main#0123abc" }
wheels = [{ url = "https://h/lib-2.0-py3-none-any.whl", hash = "md5:00", size = 12 }]
"#;
        let lock = parse_lock("uv.lock", text);
        assert_eq!(lock.problems.len(), 1, "{:?}", lock.problems);
        assert_eq!(lock.problems[0].line, 19);
        assert!(lock.problems[0].message.contains("md5"));
        let lib = get(&lock, "lib");
        assert_eq!(lib.source, Some(("git".to_owned(), "https://github.com/o/lib?rev=main#0123abc".to_owned())));
        assert_eq!(lib.wheels[0].size, Some(12));
        let (selected, problems) = lock.for_target("uv.lock", &env("3.12.1"));
        assert_eq!(names(&selected), ["app==1.0", "lib==2.0"]);
        let lines: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert!(lines.iter().any(|(l, m)| *l == 4 && m.contains("does not cover")), "{lines:?}");
        assert!(lines.iter().any(|(l, m)| *l == 11 && m.contains("gone")), "{lines:?}");
        assert_eq!(lines.len(), 2, "{lines:?}");
    }

    #[test]
    fn bounds_hold() {
        // More packages than the bound: one problem, the rest not read.
        let mut text = String::from("lock-version = '1.0'\n");
        for i in 0..MAX_PACKAGES + 5 {
            text.push_str(&format!("[[packages]]\nname = 'p{i}'\ndirectory = {{ path = 'p' }}\n"));
        }
        let lock = parse_lock("pylock.toml", &text);
        assert_eq!(lock.packages.len(), MAX_PACKAGES);
        assert_eq!(lock.problems.len(), 1, "{:?}", &lock.problems[..lock.problems.len().min(3)]);
        // Problems are bounded too.
        let many = "x>=1\n".repeat(MAX_PROBLEMS + 10);
        let lock = parse_lock("requirements.txt", &many);
        assert_eq!(lock.problems.len(), MAX_PROBLEMS + 1);
        assert!(lock.problems.last().unwrap().message.contains("10 more problems"));
        // A continuation running past the line bound is one problem.
        let long = format!("x==1 \\\n{}", format!("--hash=sha256:{} \\\n", "a".repeat(64)).repeat(20_000));
        let lock = parse_lock("requirements.txt", &long);
        assert!(lock.packages.is_empty());
        assert!(lock.problems[0].message.contains("longer than"), "{:?}", lock.problems);
    }

    /// Mutated fixtures (bytes flipped, lines cut and doubled) read as every format: never a
    /// panic, problems bounded and naming lines of the text.
    #[test]
    fn mutated_fixtures_never_panic() {
        let fixtures = [
            include_str!("../../tests/fixtures/locks/pylock.pip.toml"),
            include_str!("../../tests/fixtures/locks/pylock.uv.toml"),
            include_str!("../../tests/fixtures/locks/requirements-hashed.txt"),
            include_str!("../../tests/fixtures/locks/uv-markers.lock"),
            include_str!("../../tests/fixtures/locks/uv-forked.lock"),
            include_str!("../../tests/fixtures/locks/uv-workspace.lock"),
        ];
        let pieces: &[&[u8]] =
            &[b"[", b"]", b"{", b"\"", b"'", b"\\", b"\n", b"=", b"#", b"%", b" ; ", b"\xc3\xa9", b"-r x"];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let targets = [env("3.10.13"), env("3.12.1")];
        let mut problems_seen = 0;
        for round in 0..600 {
            let mut bytes = fixtures[round % fixtures.len()].as_bytes().to_vec();
            for _ in 0..1 + next(4) {
                let at = next(bytes.len() + 1);
                match next(3) {
                    0 => bytes.splice(at..at, pieces[next(pieces.len())].iter().copied()).for_each(drop),
                    1 => bytes.truncate(at),
                    _ => {
                        let end = (at + next(200)).min(bytes.len());
                        let copy = bytes[at..end].to_vec();
                        bytes.splice(at..at, copy).for_each(drop);
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let last_line = text.split('\n').count();
            for file in ["pylock.toml", "uv.lock", "requirements.txt"] {
                let lock = parse_lock(file, &text);
                assert!(lock.problems.len() <= MAX_PROBLEMS + 1);
                assert!(lock.problems.iter().all(|p| p.line <= last_line), "{file}: {:?}", lock.problems);
                problems_seen += lock.problems.len();
                for target in &targets {
                    let (_, problems) = lock.for_target(file, target);
                    assert!(problems.iter().all(|p| p.line <= last_line), "{file}: {problems:?}");
                }
            }
        }
        assert!(problems_seen > 0);
    }

    #[test]
    fn helpers() {
        assert_eq!(percent_decode("a%2Bb%zz%2"), "a+b%zz%2");
        assert_eq!(file_name_of("https://h/p/x-1.0%2Bcpu.whl?x=1#sha256=0", true), "x-1.0+cpu.whl");
        assert_eq!(version_of_file("pkg_name-1.2.post1.tar.gz").as_deref(), Some("1.2.post1"));
        assert_eq!(fold_path("a/b/../c/./d.txt"), "a/c/d.txt");
        assert_eq!(strip_comment("x==1 # c"), "x==1 ");
        assert_eq!(strip_comment("x @ https://h/x.whl#sha256=1"), "x @ https://h/x.whl#sha256=1");
        assert_eq!(
            pep751_marker("'dev' in dependency_groups and 'x' not in extras", &["dev".into()]),
            "python_full_version >= '0' and python_full_version >= '0'"
        );
        assert!(shown("https://u:tok@h/x").contains("****@h"));
        assert_eq!(shown(&"\u{85}".repeat(3)), "???");
        assert_eq!(pep751_marker("'\u{e9}x", &[]), "'\u{e9}x");
        assert_eq!(pep751_marker("'a' in extras or 'b' not in dependency_groups", &[]).matches("'0'").count(), 2);
    }

    #[test]
    fn includes_fanning_out_are_each_read_once() {
        // Nine files, each including the next ten times: without memory, 10^8 reads.
        let mut reads = 0;
        let mut read = |path: &str| -> Option<String> {
            reads += 1;
            let n: usize = path.trim_start_matches('x').trim_end_matches(".txt").parse().ok()?;
            Some(if n < 8 { format!("-r x{}.txt\n", n + 1).repeat(10) } else { "six==1.17.0\n".into() })
        };
        let lock = parse_requirements_with("requirements.txt", &"-r x1.txt\n".repeat(10), &mut read);
        assert_eq!(reads, 8, "each included file is read once");
        assert_eq!(lock.packages.len(), 1, "{:?}", lock.packages);
        assert!(lock.problems.is_empty(), "{:?}", lock.problems);
    }
}
