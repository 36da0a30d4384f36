//! `venvaudit query SPEC... --from-facts PATH...`: answer "are we running X?" for a fleet from
//! facts the configuration engines already cache, without contacting or scanning any host.
//!
//! A PATH is one of:
//! - a directory written by Ansible's `jsonfile` fact cache: one file per host. ansible-core
//!   2.19 and later store `{"__payload__": "<the facts as a JSON string>"}` in a file named
//!   `s<schema>_<host>`; older releases store the facts object itself in a file named after
//!   the host. `venv_facts` puts the report under the fact `venvaudit`. A directory may also
//!   hold saved `venvaudit facts` reports (one host each).
//! - a JSON file of Salt output, host → facts: `salt-run mine.get '*' venvaudit.facts --out
//!   json`, `salt '*' venvaudit.facts --static --out json`, `salt-call --local ... --out json`.
//!   A stream of such objects (Salt without `--static`) is read too.
//! - a saved `venvaudit facts` report (full or compact; summary facts name no packages).
//!
//! The files are untrusted input: sizes and counts are bounded, nothing is followed out of a
//! directory (symlinks are skipped), and a file that cannot be read makes its host "unknown",
//! never a silent "no match".

use crate::inspect::packages::normalize_name;
use crate::query::parse_specs;
use crate::report::{SCHEMA_VERSION, ScanError, Tool};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Facts older than this many days do not count as an answer (`--max-age`).
pub const DEFAULT_MAX_AGE_DAYS: u32 = 7;
/// Largest facts file read: a Salt file for 10,000 hosts of full facts is far beyond what the
/// compact level needs (about 4 KB a venv).
pub const MAX_FILE_BYTES: u64 = 512 << 20;
/// Most files read from one directory.
pub const MAX_DIR_FILES: usize = 200_000;
/// Most hosts taken from all sources together.
pub const MAX_HOSTS: usize = 1_000_000;
/// Most environments read per host.
pub const MAX_VENVS_PER_HOST: usize = 10_000;
/// Largest `--hosts` file.
const MAX_HOSTS_FILE_BYTES: u64 = 64 << 20;

/// What to answer and from where.
#[derive(Debug, Clone, Default)]
pub struct FleetRequest {
    /// PEP 508 specifiers.
    pub specs: Vec<String>,
    /// Fact cache directories, Salt output files, saved reports.
    pub sources: Vec<PathBuf>,
    /// Facts older than this many days are listed as stale (default 7).
    pub max_age_days: Option<u32>,
    /// The day ages are judged on (default: `VENVAUDIT_TODAY`, else the system clock).
    pub today: Option<crate::time::Date>,
    /// A file of host names, one a line: the question is about exactly these hosts. Those
    /// without facts are listed as missing; facts of other hosts (the controller's own
    /// `localhost`, hosts gone from the inventory) are not used.
    pub hosts_file: Option<PathBuf>,
}

impl FleetRequest {
    /// The fleet question of a JSON request (`from_facts`, `max_age`, `hosts`, `specs`,
    /// `today`), so every front-end reaches the cached facts.
    pub fn from_request(req: &crate::request::Request) -> FleetRequest {
        FleetRequest {
            specs: req.specs.clone(),
            sources: req.from_facts.iter().map(PathBuf::from).collect(),
            max_age_days: req.max_age,
            today: req.today,
            hosts_file: req.hosts.as_ref().map(PathBuf::from),
        }
    }
}

/// One installed distribution that matched, on one host.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct FleetMatch {
    /// Host name (inventory name, minion id, or the report's hostname).
    pub host: String,
    /// Environment path on that host.
    pub venv: String,
    /// PEP 503 name.
    pub normalized_name: String,
    /// Installed version.
    pub version: String,
    /// The specifier it matched.
    pub spec: String,
    /// Python version of the environment.
    pub python: Option<String>,
    /// Owner of the environment.
    pub owner: Option<String>,
}

/// Why a host's answer is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unknown {
    /// Expected (`--hosts`) but no facts were found.
    Missing,
    /// Its facts could not be read or are not venvaudit facts.
    Unreadable,
    /// Its facts are older than `--max-age`.
    Stale,
    /// Its facts name no packages (summary detail, or `packages: false`).
    NoPackages,
}

/// A host the answer says nothing about.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnknownHost {
    /// Host name.
    pub host: String,
    /// Why.
    pub reason: Unknown,
    /// Specifics (the parse error, the age...).
    pub message: String,
    /// The file its facts came from, when any.
    pub source: Option<String>,
    /// When its facts were made, when known.
    pub generated_at: Option<String>,
}

/// The result of `venvaudit query --from-facts`.
#[derive(Debug, Clone, Serialize)]
pub struct FleetResult {
    /// Version of the report contract.
    pub schema_version: u32,
    /// Tool name and version.
    pub tool: Tool,
    /// Specifiers asked for.
    pub specs: Vec<String>,
    /// The day ages were judged on (`VENVAUDIT_TODAY`, else the system clock), `YYYY-MM-DD`.
    pub today: String,
    /// Facts older than this many days were not used.
    pub max_age_days: u32,
    /// True when anything matched (exit code 1).
    pub matched: bool,
    /// False when a host's answer is unknown (`hosts_unknown`) or a source could not be read
    /// (`errors`): "no match" is then not an answer, and the command line exits 2 instead of 0.
    pub complete: bool,
    /// Every match, sorted by host, venv, package, spec.
    pub matches: Vec<FleetMatch>,
    /// Hosts whose facts answered.
    pub hosts_answered: usize,
    /// Environments looked at on those hosts.
    pub venvs_scanned: usize,
    /// Hosts whose answer is unknown, sorted by host.
    pub hosts_unknown: Vec<UnknownHost>,
    /// Sources that could not be read at all.
    pub errors: Vec<ScanError>,
}

impl FleetResult {
    /// Exit code as the live query's: 1 on a match, 2 when nothing matched but the answer is
    /// incomplete, 0 when nothing matched anywhere.
    pub fn exit_code(&self) -> u8 {
        match (self.matched, self.complete) {
            (true, _) => 1,
            (false, false) => 2,
            (false, true) => 0,
        }
    }
}

/// One environment as read from facts: what a query needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VenvFacts {
    path: String,
    python: Option<String>,
    owner: Option<String>,
    /// (normalised name, version); None when the facts name no packages.
    dists: Option<Vec<(String, String)>>,
}

/// One host's facts as read from a source, turned into what the question needs (`T`) by the
/// caller's extractor: the distributions for a query, the plan's environments for a plan.
#[derive(Debug, Clone)]
struct HostFacts<T> {
    host: String,
    source: String,
    generated_at: Option<String>,
    facts: Result<T, (Unknown, String)>,
}

/// What a fleet question reads from one host's report: `Err((why, message))` makes the host
/// unknown (unreadable facts, no packages), never a silent "no match".
pub(crate) type Extract<'a, T> = &'a (dyn Fn(&Value) -> Result<T, (Unknown, String)> + Sync);

/// The hosts whose facts answer, and those that do not, from a fleet's sources.
pub(crate) struct Gathered<T> {
    /// (host, extracted facts), sorted by host.
    pub answered: Vec<(String, T)>,
    /// Hosts whose answer is unknown, sorted.
    pub unknown: Vec<UnknownHost>,
    /// Sources that could not be read at all.
    pub errors: Vec<ScanError>,
    /// The day ages were judged on.
    pub today: crate::time::Date,
    /// The age limit applied.
    pub max_age: u32,
}

/// Why a fleet query could not run (a facts file that cannot be read is an error entry of
/// the result instead, and the rest of the fleet is answered).
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// No specifier to look for.
    #[error("query needs at least one specifier, e.g. 'django<4.2.16'")]
    NoSpecifier,
    /// No facts to read.
    #[error("--from-facts needs at least one path")]
    NoSources,
    /// A specifier that was refused.
    #[error(transparent)]
    Spec(#[from] crate::parse::spec::SpecError),
    /// The `--hosts` file could not be read.
    #[error("cannot read --hosts {}: {cause}", path.display())]
    HostsFile {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// The `--hosts` file names more hosts than a fleet query accepts.
    #[error("--hosts {} names more than {MAX_HOSTS} hosts", .0.display())]
    TooManyHosts(std::path::PathBuf),
}

/// Answer `req` from saved facts.
pub fn query_facts(req: &FleetRequest) -> Result<FleetResult, FleetError> {
    if req.specs.is_empty() {
        return Err(FleetError::NoSpecifier);
    }
    if req.sources.is_empty() {
        return Err(FleetError::NoSources);
    }
    let specs = parse_specs(&req.specs)?;
    let extract = |report: &Value| -> Result<Vec<VenvFacts>, (Unknown, String)> {
        let venvs = venvs_of(report).map_err(|e| (Unknown::Unreadable, e))?;
        if let Some(v) = venvs.iter().find(|v| v.dists.is_none()) {
            return Err((
                Unknown::NoPackages,
                format!("facts of {} name no packages (gather with detail: compact or full)", v.path),
            ));
        }
        Ok(venvs)
    };
    let g = gather(&req.sources, req.max_age_days, req.today, req.hosts_file.as_deref(), &extract)?;
    let mut matches = Vec::new();
    let mut venvs_scanned = 0;
    for (name, venvs) in &g.answered {
        venvs_scanned += venvs.len();
        for v in venvs {
            for (n, ver) in v.dists.iter().flatten() {
                for s in specs.iter().filter(|s| s.matches_version(n, ver)) {
                    matches.push(FleetMatch {
                        host: name.clone(),
                        venv: v.path.clone(),
                        normalized_name: n.clone(),
                        version: ver.clone(),
                        spec: s.text.clone(),
                        python: v.python.clone(),
                        owner: v.owner.clone(),
                    });
                }
            }
        }
    }
    matches.sort();
    matches.dedup();
    Ok(FleetResult {
        schema_version: SCHEMA_VERSION,
        tool: Tool::default(),
        specs: req.specs.clone(),
        today: g.today.to_string(),
        max_age_days: g.max_age,
        matched: !matches.is_empty(),
        complete: g.unknown.is_empty() && g.errors.is_empty(),
        matches,
        hosts_answered: g.answered.len(),
        venvs_scanned,
        hosts_unknown: g.unknown,
        errors: g.errors,
    })
}

/// Read every source, keep each host's newest facts, and sort the hosts into those that
/// answer (fresh, readable, `extract` accepts them) and those that do not.
pub(crate) fn gather<T: Send>(
    sources: &[PathBuf],
    max_age_days: Option<u32>,
    today: Option<crate::time::Date>,
    hosts_file: Option<&Path>,
    extract: Extract<'_, T>,
) -> Result<Gathered<T>, FleetError> {
    if sources.is_empty() {
        return Err(FleetError::NoSources);
    }
    let max_age = max_age_days.unwrap_or(DEFAULT_MAX_AGE_DAYS);
    let today = today.unwrap_or_else(crate::time::today);
    let expected = match hosts_file {
        Some(f) => Some(read_hosts_file(f)?),
        None => None,
    };
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for src in sources {
        match list_source(src) {
            Ok((mut f, errs)) => {
                files.append(&mut f);
                errors.extend(errs);
            }
            Err(e) => errors.push(ScanError { path: crate::host::paths::display(src), message: e }),
        }
    }
    let per_file: Vec<Result<Vec<HostFacts<T>>, ScanError>> = files.par_iter().map(|f| read_file(f, extract)).collect();
    // The newest facts of each host win (an upgraded ansible-core leaves the old file beside
    // the new one; a host may be in a cache and in a Salt file).
    let mut hosts: BTreeMap<String, HostFacts<T>> = BTreeMap::new();
    let mut too_many = false;
    for r in per_file {
        match r {
            Ok(list) => {
                for h in list {
                    if expected.as_ref().is_some_and(|e| !e.contains(&h.host)) {
                        continue;
                    }
                    if hosts.len() >= MAX_HOSTS && !hosts.contains_key(&h.host) {
                        too_many = true;
                        continue;
                    }
                    match hosts.get(&h.host) {
                        Some(old) if newer(old, &h) => {}
                        _ => {
                            hosts.insert(h.host.clone(), h);
                        }
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if too_many {
        errors.push(ScanError {
            path: String::from("--from-facts"),
            message: format!("more than {MAX_HOSTS} hosts: the rest were not read"),
        });
    }

    let mut answered = Vec::new();
    let mut unknown = Vec::new();
    for (name, h) in hosts.iter_mut() {
        let known = |reason, message: String| UnknownHost {
            host: name.clone(),
            reason,
            message,
            source: Some(h.source.clone()),
            generated_at: h.generated_at.clone(),
        };
        if let Err((reason, e)) = &h.facts {
            unknown.push(known(*reason, e.clone()));
            continue;
        }
        match h.generated_at.as_deref().map(|g| crate::time::age_days(g, today)) {
            Some(Some(age)) if age > i64::from(max_age) => {
                unknown.push(known(Unknown::Stale, format!("facts are {age} days old (more than {max_age})")));
                continue;
            }
            Some(Some(_)) => {}
            _ => {
                unknown.push(known(Unknown::Unreadable, "facts carry no valid generated_at time".into()));
                continue;
            }
        }
        let facts = std::mem::replace(&mut h.facts, Err((Unknown::Unreadable, String::new())));
        if let Ok(f) = facts {
            answered.push((name.clone(), f));
        }
    }
    if let Some(expected) = expected {
        for h in expected.into_iter().filter(|h| !hosts.contains_key(h)) {
            unknown.push(UnknownHost {
                host: h,
                reason: Unknown::Missing,
                message: "no facts found for this host".into(),
                source: None,
                generated_at: None,
            });
        }
    }
    // Sources that hold no host at all (an empty mine, `{}`) answer nothing: "no match" would
    // read as a clean fleet.
    if hosts.is_empty() && errors.is_empty() && unknown.is_empty() {
        errors.push(ScanError {
            path: sources.iter().map(|s| crate::host::paths::display(s)).collect::<Vec<_>>().join(", "),
            message: "no host's facts found in these sources".into(),
        });
    }
    unknown.sort();
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Gathered { answered, unknown, errors, today, max_age })
}

/// Whether `old` is strictly newer than `new` (unreadable facts never replace readable ones).
fn newer<T>(old: &HostFacts<T>, new: &HostFacts<T>) -> bool {
    match (old.facts.is_ok(), new.facts.is_ok()) {
        (true, false) => true,
        (false, true) => false,
        _ => old.generated_at > new.generated_at,
    }
}

/// A file of host names, one a line (blank lines and `#` comments skipped).
fn read_hosts_file(path: &Path) -> Result<BTreeSet<String>, FleetError> {
    let bytes = read_limited(path, MAX_HOSTS_FILE_BYTES)
        .map_err(|cause| FleetError::HostsFile { path: path.to_path_buf(), cause })?;
    let text = String::from_utf8_lossy(&bytes);
    let hosts: BTreeSet<String> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect();
    if hosts.len() > MAX_HOSTS {
        return Err(FleetError::TooManyHosts(path.to_path_buf()));
    }
    Ok(hosts)
}

/// A file to read and whether it is one host's (a file of a directory) or may be a map.
#[derive(Debug, Clone)]
struct SourceFile {
    path: PathBuf,
    in_dir: bool,
}

/// The files of a source: itself, or the regular files of a directory (no hidden files, no
/// symlinks, no subdirectories).
fn list_source(src: &Path) -> Result<(Vec<SourceFile>, Vec<ScanError>), String> {
    let meta = std::fs::metadata(src).map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_file() {
        return Ok((vec![SourceFile { path: src.to_owned(), in_dir: false }], Vec::new()));
    }
    if !meta.is_dir() {
        return Err("neither a file nor a directory".into());
    }
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for entry in std::fs::read_dir(src).map_err(|e| format!("cannot list: {e}"))? {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(ScanError { path: crate::host::paths::display(src), message: format!("cannot list: {e}") });
                break;
            }
        };
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        if files.len() >= MAX_DIR_FILES {
            errors.push(ScanError {
                path: crate::host::paths::display(src),
                message: format!("more than {MAX_DIR_FILES} files: the rest were not read"),
            });
            break;
        }
        files.push(SourceFile { path: entry.path(), in_dir: true });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, errors))
}

/// Read at most `limit` bytes; a longer file is an error, not silently cut.
fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let bytes = crate::host::paths::read_bounded(path, limit + 1)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

/// The hosts of one file. A file of a directory is one host's even when it cannot be read.
fn read_file<T>(f: &SourceFile, extract: Extract<'_, T>) -> Result<Vec<HostFacts<T>>, ScanError> {
    let source = crate::host::paths::display(&f.path);
    let file_name = f.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mtime = std::fs::metadata(&f.path).and_then(|m| m.modified()).ok().map(crate::time::rfc3339);
    let err = |message: String| ScanError { path: source.clone(), message };
    let bytes = match read_limited(&f.path, MAX_FILE_BYTES) {
        Ok(b) => b,
        Err(e) if f.in_dir => return Ok(vec![unreadable(&file_name, &source, format!("cannot read: {e}"))]),
        Err(e) => return Err(err(format!("cannot read: {e}"))),
    };
    let docs: Vec<Value> = match serde_json::Deserializer::from_slice(&bytes).into_iter::<Value>().collect() {
        Ok(d) => d,
        Err(e) if f.in_dir => return Ok(vec![unreadable(&file_name, &source, format!("not JSON: {e}"))]),
        Err(e) => return Err(err(format!("not JSON: {e}"))),
    };
    drop(bytes);
    let mut out = Vec::new();
    for doc in docs {
        // One host's file: an Ansible cache file (either form) or a saved report.
        if f.in_dir || doc.get("__payload__").is_some() || is_report(&doc) || is_ansible_facts(&doc) {
            let (host, facts) = match doc.get("__payload__") {
                Some(p) => (strip_schema_prefix(&file_name), payload(p)),
                // A saved report names its host; an Ansible cache file is named after it.
                None if is_report(&doc) => match doc["host"]["hostname"].as_str() {
                    Some(h) if !h.is_empty() => (h.to_owned(), Ok(doc)),
                    _ => (file_name.clone(), Ok(doc)),
                },
                None => (file_name.clone(), Ok(doc)),
            };
            // A file holding one host's facts was written when they were made: its time
            // stands in for a missing generated_at (reports of older venvaudit releases).
            let h = match facts {
                Ok(facts) => one_host(&host, &source, facts, mtime.as_deref(), true, extract),
                Err(e) => unreadable(&host, &source, e),
            };
            out.push(h);
            continue;
        }
        // Salt: host → facts.
        let Value::Object(map) = doc else {
            return Err(err("not a venvaudit report, an Ansible fact cache file or a map of host to facts".into()));
        };
        // `salt-call --local ... --out json` wraps its return in "local": the mine's host map
        // (mine.get), or one report whose hostname names the host.
        let map = match map.get("local") {
            Some(Value::Object(inner)) if map.len() == 1 && !is_report_map(inner) => inner.clone(),
            _ => map,
        };
        for (host, v) in map {
            let v = salt_value(v);
            let host = match v["host"]["hostname"].as_str() {
                Some(h) if host == "local" && !h.is_empty() && is_report(&v) => h.to_owned(),
                _ => host,
            };
            out.push(one_host(&host, &source, v, mtime.as_deref(), false, extract));
        }
    }
    Ok(out)
}

fn unreadable<T>(host: &str, source: &str, message: String) -> HostFacts<T> {
    HostFacts {
        host: host.to_owned(),
        source: source.to_owned(),
        generated_at: None,
        facts: Err((Unknown::Unreadable, message)),
    }
}

/// ansible-core 2.19+ names cache files `s<schema id>_<host>`.
fn strip_schema_prefix(name: &str) -> String {
    if let Some(rest) = name.strip_prefix('s')
        && let Some((digits, host)) = rest.split_once('_')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !host.is_empty()
    {
        return host.to_owned();
    }
    name.to_owned()
}

/// The facts object inside an ansible-core 2.19+ cache file.
fn payload(p: &Value) -> Result<Value, String> {
    let s = p.as_str().ok_or("__payload__ is not a string")?;
    serde_json::from_str(s).map_err(|e| format!("__payload__ is not JSON: {e}"))
}

fn is_report(v: &Value) -> bool {
    v.get("schema_version").is_some() && v.get("venvs").is_some_and(Value::is_array)
}

fn is_ansible_facts(v: &Value) -> bool {
    v.get("venvaudit").is_some_and(is_report)
}

/// A Salt return value: the report itself, ansible-style `{"venvaudit": report}`, or a mine
/// alias wrapping it (`{"venvaudit.facts": report}`). Anything else (a minion's error string)
/// is returned as is and found unreadable.
fn salt_value(v: Value) -> Value {
    if is_report(&v) {
        return v;
    }
    match v {
        Value::Object(m) if m.len() == 1 => m.into_iter().next().map(|(_, inner)| inner).unwrap_or_default(),
        other => other,
    }
}

/// One host from its facts: an Ansible facts object (the report under `venvaudit`) or a
/// report. `file_time` stands in for a missing `generated_at` only for whole-file caches
/// (reports written before the field existed).
fn one_host<T>(
    host: &str,
    source: &str,
    facts: Value,
    file_time: Option<&str>,
    whole_file: bool,
    extract: Extract<'_, T>,
) -> HostFacts<T> {
    let report = match facts {
        Value::Object(mut m) if !is_report_map(&m) => match m.remove("venvaudit") {
            Some(r) => r,
            None => {
                return unreadable(host, source, "no venvaudit facts (venv_facts did not run on this host?)".into());
            }
        },
        other => other,
    };
    if report.get("failed") == Some(&Value::Bool(true)) {
        let msg = report.get("msg").and_then(Value::as_str).unwrap_or("").chars().take(300).collect::<String>();
        return unreadable(host, source, format!("venvaudit failed on this host: {msg}"));
    }
    if !is_report(&report) {
        let what: String = report.to_string().chars().take(120).collect();
        return unreadable(host, source, format!("not venvaudit facts: {what}"));
    }
    let generated_at = report
        .get("generated_at")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| whole_file.then(|| file_time.map(str::to_owned)).flatten());
    HostFacts { host: host.to_owned(), source: source.to_owned(), generated_at, facts: extract(&report) }
}

fn is_report_map(m: &Map<String, Value>) -> bool {
    m.contains_key("schema_version") && m.get("venvs").is_some_and(Value::is_array)
}

/// The environments of a report, with the distributions of the compact (`distributions`) or
/// full (`packages`) level.
fn venvs_of(report: &Value) -> Result<Vec<VenvFacts>, String> {
    let venvs = report["venvs"].as_array().ok_or("venvs is not a list")?;
    if venvs.len() > MAX_VENVS_PER_HOST {
        return Err(format!("more than {MAX_VENVS_PER_HOST} environments"));
    }
    venvs
        .iter()
        .map(|v| {
            let path = v["path"].as_str().ok_or("a venv has no path")?.to_owned();
            let python = v["python"]["version"].as_str().map(str::to_owned);
            let owner = v["owner"]["user"].as_str().map(str::to_owned);
            let dists = if let Some(list) = v.get("distributions").filter(|d| !d.is_null()) {
                let list = list.as_array().ok_or_else(|| format!("distributions of {path} is not a list"))?;
                Some(
                    list.iter()
                        .map(|d| {
                            let s = d.as_str().ok_or_else(|| format!("a distribution of {path} is not a string"))?;
                            let (n, ver) = s
                                .split_once("==")
                                .ok_or_else(|| format!("distribution {s:?} of {path} is not name==version"))?;
                            Ok((normalize_name(n), ver.to_owned()))
                        })
                        .collect::<Result<Vec<_>, String>>()?,
                )
            } else if let Some(list) = v.get("packages").filter(|p| !p.is_null()) {
                let list = list.as_array().ok_or_else(|| format!("packages of {path} is not a list"))?;
                Some(
                    list.iter()
                        .map(|p| {
                            let n = p["normalized_name"].as_str().or(p["name"].as_str());
                            match (n, p["version"].as_str()) {
                                (Some(n), Some(ver)) => Ok((normalize_name(n), ver.to_owned())),
                                _ => Err(format!("a package of {path} has no name or version")),
                            }
                        })
                        .collect::<Result<Vec<_>, String>>()?,
                )
            } else {
                None
            };
            Ok(VenvFacts { path, python, owner, dists })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(host: &str, generated_at: &str, venvs: Value) -> Value {
        json!({"schema_version": 1, "generated_at": generated_at, "detail": "compact",
               "host": {"hostname": host}, "venvs": venvs})
    }

    fn compact_venv(path: &str, dists: &[&str]) -> Value {
        json!({"path": path, "python": {"version": "3.12.1"}, "distributions": dists})
    }

    fn req(specs: &[&str], sources: Vec<PathBuf>) -> FleetRequest {
        FleetRequest { specs: specs.iter().map(|s| s.to_string()).collect(), sources, ..FleetRequest::default() }
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("venvaudit-fleet-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn today() -> String {
        format!("{}T00:00:00Z", crate::time::today())
    }

    #[test]
    fn sources_with_no_host_are_no_answer() {
        let d = tmpdir("empty");
        let empty = d.join("mine.json");
        std::fs::write(&empty, "{}").unwrap();
        let r = query_facts(&req(&["django<4.2.16"], vec![empty])).unwrap();
        assert_eq!((r.matched, r.complete, r.hosts_answered, r.exit_code()), (false, false, 0, 2));
        assert!(r.errors[0].message.contains("no host"), "{:?}", r.errors);
    }

    #[test]
    fn both_ansible_cache_forms_and_a_saved_report() {
        let d = tmpdir("forms");
        let now = today();
        let web1 = json!({"venvaudit": report("web1.local", &now, json!([compact_venv("/srv/a", &["django==3.2", "six==1.16.0"])]))});
        // ansible-core 2.21: the facts as a JSON string under __payload__, file s1_<host>.
        std::fs::write(d.join("s1_web1"), json!({"__payload__": web1.to_string()}).to_string()).unwrap();
        // Older ansible-core: the facts object itself, file <host>.
        let web2 = json!({"venvaudit": report("x", &now, json!([compact_venv("/srv/b", &["Django==4.2.16"])])),
                          "discovered_interpreter_python": "/usr/bin/python3"});
        std::fs::write(d.join("web2"), web2.to_string()).unwrap();
        // Full facts: packages with metadata.
        let full = json!({"venvaudit": report("x", &now, json!([{"path": "/opt/c", "python": {"version": "3.8.18"},
            "packages": [{"name": "Django", "normalized_name": "django", "version": "4.2.15"}]}]))});
        std::fs::write(d.join("db1"), full.to_string()).unwrap();
        // Facts of another module only, and garbage: unknown, never "no match".
        std::fs::write(
            d.join("s1_other"),
            json!({"__payload__": json!({"ansible_os_family": "Debian"}).to_string()}).to_string(),
        )
        .unwrap();
        std::fs::write(d.join("junk"), b"{not json").unwrap();
        std::fs::write(d.join(".tmp123"), b"ignored").unwrap();

        let r = query_facts(&req(&["django<4.2.16"], vec![d.clone()])).unwrap();
        let got: Vec<(&str, &str, &str)> =
            r.matches.iter().map(|m| (m.host.as_str(), m.venv.as_str(), m.version.as_str())).collect();
        assert_eq!(got, vec![("db1", "/opt/c", "4.2.15"), ("web1", "/srv/a", "3.2")]);
        assert_eq!(r.hosts_answered, 3);
        assert_eq!(r.venvs_scanned, 3);
        let unknown: Vec<(&str, Unknown)> = r.hosts_unknown.iter().map(|u| (u.host.as_str(), u.reason)).collect();
        assert_eq!(unknown, vec![("junk", Unknown::Unreadable), ("other", Unknown::Unreadable)]);
        assert!(!r.complete);
        assert_eq!(r.exit_code(), 1);

        // A report without generated_at (an older venvaudit) in its own file: the file's time.
        let old = d.join("old-report");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("r.json"), json!({"schema_version": 1, "host": {"hostname": "old1"}, "venvs": [compact_venv("/srv/o", &["django==1.11"])]}).to_string()).unwrap();
        let r = query_facts(&req(&["django<2"], vec![old])).unwrap();
        assert_eq!((r.matches.len(), r.complete), (1, true), "{r:?}");

        // A saved report given as a file: its host is the report's hostname.
        let f = d.join("report.json");
        std::fs::write(&f, report("app7", &now, json!([compact_venv("/srv/x", &["requests==2.25.0"])])).to_string())
            .unwrap();
        let r = query_facts(&req(&["requests==2.25.*"], vec![f.clone()])).unwrap();
        assert_eq!(r.matches.len(), 1);
        assert_eq!(r.matches[0].host, "app7");
        let r = query_facts(&req(&["requests>=3"], vec![f])).unwrap();
        assert!(r.complete && !r.matched);
        assert_eq!(r.exit_code(), 0);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn salt_maps_stale_missing_and_summary_hosts() {
        let d = tmpdir("salt");
        let now = today();
        let salt = json!({
            "m1": report("m1", &now, json!([compact_venv("/srv/a", &["pyyaml==5.3.1"])])),
            "m2": {"venvaudit.facts": report("m2", &now, json!([compact_venv("/srv/a", &["pyyaml==6.0.1"])]))},
            "m3": "Minion did not return. [No response]",
            "m4": report("m4", "2000-01-01T00:00:00Z", json!([compact_venv("/srv/a", &["pyyaml==5.3.1"])])),
            "m5": report("m5", &now, json!([{"path": "/srv/a", "python": {"version": "3.12.1"}, "package_count": 3}])),
            // No generated_at: the file's time says nothing about one host of a Salt map.
            "m6": {"schema_version": 1, "venvs": []},
        });
        let f = d.join("mine.json");
        std::fs::write(&f, salt.to_string()).unwrap();
        let hosts = d.join("hosts");
        std::fs::write(&hosts, "m1\nm2\n# comment\nm3\nm4\nm5\nm6\nm9\n").unwrap();
        let mut rq = req(&["PyYAML<5.4"], vec![f]);
        rq.hosts_file = Some(hosts);
        let r = query_facts(&rq).unwrap();
        assert_eq!(r.matches.iter().map(|m| m.host.as_str()).collect::<Vec<_>>(), vec!["m1"]);
        let unknown: Vec<(&str, Unknown)> = r.hosts_unknown.iter().map(|u| (u.host.as_str(), u.reason)).collect();
        assert_eq!(
            unknown,
            vec![
                ("m3", Unknown::Unreadable),
                ("m4", Unknown::Stale),
                ("m5", Unknown::NoPackages),
                ("m6", Unknown::Unreadable),
                ("m9", Unknown::Missing)
            ]
        );
        assert_eq!(r.hosts_answered, 2);
        // Nothing matches but the answer is incomplete: exit 2, as the live query.
        let r = query_facts(&FleetRequest { specs: vec!["pyyaml>99".into()], ..rq.clone() }).unwrap();
        assert_eq!(r.exit_code(), 2);
        // A larger --max-age lets the old facts answer.
        let r = query_facts(&FleetRequest { max_age_days: Some(100_000), ..rq }).unwrap();
        assert!(r.matches.iter().any(|m| m.host == "m4"));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn salt_call_local_output() {
        let d = tmpdir("local");
        let now = today();
        let r = report("web9", &now, json!([compact_venv("/srv/a", &["six==1.16.0"])]));
        // salt-call --local venvaudit.facts: one report under "local", named by its hostname.
        std::fs::write(d.join("one.json"), json!({"local": r}).to_string()).unwrap();
        // salt-call --local mine.get: the mine's host map under "local".
        std::fs::write(d.join("mine.json"), json!({"local": {"m7": r}}).to_string()).unwrap();
        let res = query_facts(&req(&["six"], vec![d.join("one.json"), d.join("mine.json")])).unwrap();
        let hosts: Vec<&str> = res.matches.iter().map(|m| m.host.as_str()).collect();
        assert_eq!(hosts, vec!["m7", "web9"]);
        // With --hosts, only those hosts are asked about.
        std::fs::write(d.join("hosts"), "m7\n").unwrap();
        let mut rq = req(&["six"], vec![d.join("one.json"), d.join("mine.json")]);
        rq.hosts_file = Some(d.join("hosts"));
        let res = query_facts(&rq).unwrap();
        assert_eq!(res.matches.len(), 1);
        assert_eq!(res.hosts_answered, 1);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let d = tmpdir("hostile");
        let f = d.join("deep.json");
        std::fs::write(&f, "[".repeat(100_000)).unwrap();
        let r = query_facts(&req(&["x"], vec![f.clone(), d.join("nonexistent")])).unwrap();
        assert_eq!(r.errors.len(), 2);
        assert_eq!(r.exit_code(), 2);
        std::fs::remove_file(&f).unwrap();
        for bad in [
            json!({"venvaudit": {"schema_version": 1, "venvs": [{"path": 3}]}}),
            json!({"venvaudit": {"schema_version": 1, "generated_at": "2026-01-01", "venvs": [{"path": "/a", "distributions": ["nover"]}]}}),
            json!({"__payload__": 7}),
        ] {
            std::fs::write(d.join("h"), bad.to_string()).unwrap();
            let r = query_facts(&req(&["x"], vec![d.clone()])).unwrap();
            assert_eq!(r.hosts_unknown.len(), 1, "{bad}");
            assert_eq!(r.hosts_unknown[0].reason, Unknown::Unreadable);
        }
        assert!(query_facts(&req(&["bad spec<<"], vec![d.clone()])).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn cache_file_names() {
        assert_eq!(strip_schema_prefix("s1_web1.example.com"), "web1.example.com");
        assert_eq!(strip_schema_prefix("s12_a_b"), "a_b");
        assert_eq!(strip_schema_prefix("sx_web"), "sx_web");
        assert_eq!(strip_schema_prefix("s1_"), "s1_");
        let day = jiff::civil::date(2026, 12, 3);
        assert_eq!(crate::time::age_days("2026-12-01T10:00:00Z", day), Some(2));
        assert_eq!(crate::time::age_days("garbage", day), None);
    }
}
