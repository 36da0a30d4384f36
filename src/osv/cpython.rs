//! CVEs of the CPython interpreter itself: the CVE records the Python Software Foundation
//! publishes as a CNA (CVE JSON 5, `containers.cna.affected[]` with product `CPython`), reduced
//! to one small JSON file, the "CPython advisory file" (docs/cpython-db.md), and matched
//! against an interpreter version.
//!
//! Only the CNA container is read: the CISA-ADP container repeats the ranges with
//! `versionType: custom` and `defaultStatus: unknown`, and its CVSS scores are not the PSF's.
//! The PSF's OSV records (psf/advisory-database) have only GIT ranges; they give the `PSF-`
//! aliases of a CVE and, when the CVE record has none, its summary.
//!
//! Inputs are untrusted: every read is bounded (a record 4 MiB, 1,000,000 entries, each zip
//! entry inflated at most to its cap whatever it declares, zips nested two deep), a record that
//! cannot be used is a [`Problem`] naming it, and nothing here panics on any input.

use super::cvss;
use crate::report::Severity;
use pep440_rs::Version;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The `format` of the CPython advisory file.
pub const FORMAT: &str = "venvaudit-cpython-advisories";
/// The `format_version` this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Where the file is installed by convention, next to the PyPI database.
pub const DEFAULT_PATH: &str = "/var/lib/venvaudit/osv/CPython.json";

/// Largest record read (PSF records are 7-25 KiB; the largest CVE records a few hundred KiB).
const MAX_RECORD_BYTES: u64 = 4 << 20;
/// Most zip entries and directory files looked at over all inputs (cvelistV5 holds ~300,000).
const MAX_ENTRIES: usize = 1_000_000;
/// Largest advisory file loaded (the real one is well under 1 MiB).
const MAX_FILE_BYTES: u64 = 64 << 20;
/// Largest zip inside a zip, inflated (cvelistV5's `cves.zip` is a few hundred MiB).
const MAX_NESTED_ZIP_BYTES: u64 = 4 << 30;
/// Most bytes inflated from zips over all inputs (all of cvelistV5 inflates to ~3 GiB).
const MAX_INFLATED_BYTES: u64 = 16 << 30;
/// A zip given as input is depth 1; a zip inside it depth 2; deeper ones are not opened.
const MAX_ZIP_DEPTH: usize = 2;
/// How deep a directory is walked (cvelistV5: `cves/YYYY/NNxxx/CVE-*.json`).
const MAX_DIR_DEPTH: usize = 8;
/// Most ranges (affected and unaffected) kept from one record.
const MAX_RANGES: usize = 1000;
/// Most references kept per advisory.
const MAX_REFERENCES: usize = 20;
/// Longest reference URL kept.
const MAX_URL: usize = 2048;
/// Longest summary kept.
const SUMMARY_CHARS: usize = 200;
/// Longest version string read (real ones are under 12 characters).
const MAX_VERSION_LEN: usize = 64;
/// Longest id kept (`CVE-2024-7592`, `PSF-2024-9`).
const MAX_ID_LEN: usize = 32;

const CVE_SOURCE: &str = "CVE List V5";
const CVE_LICENSE: &str = "CVE Terms of Use (https://www.cve.org/Legal/TermsOfUse)";
/// The copyright designation and licence the CVE Terms of Use ask every copy to reproduce.
const CVE_ATTRIBUTION: &str = "CVE records of the CVE Program (CVEProject/cvelistV5); the CPython records are \
    published by the Python Software Foundation CNA. Copyright 1999-2025 The MITRE Corporation. CVE Usage: MITRE \
    hereby grants you a perpetual, worldwide, non-exclusive, no-charge, royalty-free, irrevocable copyright license \
    to reproduce, prepare derivative works of, publicly display, publicly perform, sublicense, and distribute \
    Common Vulnerabilities and Exposures (CVE\u{ae}). Any copy you make for such purposes is authorized provided \
    that you reproduce MITRE's copyright designation and this license in any such copy.";
const PSF_SOURCE: &str = "PSF Advisory Database";
const PSF_LICENSE: &str = "CC-BY-4.0";
const PSF_ATTRIBUTION: &str =
    "Python Software Foundation Advisory Database (https://github.com/psf/advisory-database), CC-BY-4.0";

/// The CPython advisory file: every CVE of the CPython interpreter the inputs held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpythonDb {
    /// Where the data came from, one entry per input and kind of record.
    pub sources: Vec<Source>,
    /// The advisories, by CVE id.
    pub advisories: Vec<Advisory>,
    /// When the file was built, RFC 3339 UTC.
    pub generated_at: String,
}

/// One input of a build and what it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `CVE List V5` (CVE JSON 5 records) or `PSF Advisory Database` (OSV records).
    pub name: String,
    /// The path given to the build.
    pub path: String,
    /// Newest `cveMetadata.dateUpdated` (CVE) or `modified` (PSF) of the records used.
    pub date: Option<String>,
    /// CPython CVE records (or PSF advisories) read from this input.
    pub records: usize,
    /// The data's licence.
    pub license: String,
    /// The attribution the licence asks for.
    pub attribution: String,
}

/// One CVE of CPython.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// `CVE-2024-7592`.
    pub id: String,
    /// The PSF advisory ids of the same vulnerability (`PSF-2024-9`), sorted.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The CNA's title, else the first line of its description, else the PSF summary.
    #[serde(default)]
    pub summary: String,
    /// `cveMetadata.datePublished`.
    #[serde(default)]
    pub published: Option<String>,
    /// `cveMetadata.dateUpdated`.
    #[serde(default)]
    pub modified: Option<String>,
    /// The affected ranges, PEP 440 versions: `[introduced, fixed)` or `[introduced, last_affected]`.
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Versions the record states are not affected (`status: unaffected`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unaffected: Vec<Range>,
    /// The CNA's `defaultStatus` (`unaffected`, `affected`, `unknown`), when stated.
    #[serde(default)]
    pub default_status: Option<String>,
    /// The standard-library modules the record names (`tarfile`, `venv`), when it names any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<String>,
    /// Severity as the CNA states it.
    #[serde(default)]
    pub severity: Option<AdvisorySeverity>,
    /// Reference URLs of the CNA container, at most 20.
    #[serde(default)]
    pub references: Vec<String>,
}

/// One range of versions, PEP 440 strings. `introduced: "0"` is before every version; no
/// `fixed` and no `last_affected` means every later version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// First version in the range (the record's `version`).
    pub introduced: String,
    /// First version after the range (`lessThan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Last version in the range (`lessThanOrEqual`, or the version of a single-version entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
}

/// The severity a record states: a CVSS vector of the CNA container, scored as the packages'
/// advisories are (see `osv::cvss`), and the level the PSF writes in its description ("There is
/// a MEDIUM severity vulnerability affecting CPython").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AdvisorySeverity {
    /// The CNA's CVSS vector (the highest scoring one when it gives several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_vector: Option<String>,
    /// Its CVSS version: `4.0`, `3.1`, `3.0`, `2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_version: Option<String>,
    /// The base score computed from the vector (the record's own `baseScore` when the vector
    /// cannot be scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `NONE`: the CVSS label, else the description's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The level the description states, upper case, when it states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cna_text: Option<String>,
}

/// A record, or an entry of an input, that could not be used in full (the build goes on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file: a path, or `archive.zip!cves/2024/7xxx/CVE-2024-7592.json` inside a zip.
    pub file: String,
    /// What is wrong and what was done about it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// Why a build, a load or a write failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input or the file does not exist or cannot be opened.
    #[error("cannot open {}: {cause}", path.display())]
    Open {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// An input or the file cannot be read.
    #[error("cannot read {}: {cause}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// An input starting like a zip that is not a readable one.
    #[error("{} is not a readable zip: {cause}", path.display())]
    NotAZip {
        /// The path.
        path: PathBuf,
        /// The archive reader's error.
        cause: zip::result::ZipError,
    },
    /// An input that is neither a directory nor a regular file.
    #[error("{} is neither a directory nor a file", .0.display())]
    NotAnInput(PathBuf),
    /// No CPython CVE record in any input.
    #[error("no CPython CVE record (CVE JSON 5, CNA product CPython) in {inputs}")]
    NoRecords {
        /// The inputs, comma-separated.
        inputs: String,
        /// What could not be read on the way.
        problems: Vec<Problem>,
    },
    /// A file that is not a CPython advisory file of this version.
    #[error("{} is not a CPython advisory file: {message}", path.display())]
    Format {
        /// The path.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The file could not be written.
    #[error("cannot write {}: {cause}", path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
}

/// An advisory affecting a version, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<'a> {
    /// The advisory.
    pub advisory: &'a Advisory,
    /// The ranges that contain the version, as text (`3.12.0 <= v < 3.12.6`); empty when the
    /// record's `defaultStatus: affected` decided.
    pub matched: Vec<String>,
    /// The first fix on the version's own X.Y branch: the smallest `fixed` on that branch above
    /// the version; `None` when the record names no fix released on the branch.
    pub fixed_on_branch: Option<String>,
    /// The version is a branch or vendor build (`3.10.5+`, `3.10.5+local`) matched as its
    /// release: it may hold the fix, or not.
    pub uncertain: bool,
    /// One sentence: the ranges or the rule that decided, the fix, any uncertainty.
    pub why: String,
}

impl Advisory {
    /// The finding severity its label maps to, as for packages: critical and high are
    /// `error`, medium `warning`, low `info`; `None` when the record states none.
    pub fn finding_severity(&self) -> Option<Severity> {
        let s = self.severity.as_ref()?;
        cvss::severity_of_label(s.label.as_deref().or(s.cna_text.as_deref())?)
    }
}

impl Range {
    /// `3.12.0 <= v < 3.12.6`, `v < 3.8.20`, `3.12.0 <= v <= 3.12.5`, `v == 3.12.1`, `v >= 3.12.0`.
    pub fn describe(&self) -> String {
        let low = (self.introduced != "0").then_some(self.introduced.as_str());
        match (low, &self.fixed, &self.last_affected) {
            (Some(l), None, Some(last)) if l == last => format!("v == {l}"),
            (Some(l), Some(f), _) => format!("{l} <= v < {f}"),
            (None, Some(f), _) => format!("v < {f}"),
            (Some(l), None, Some(last)) => format!("{l} <= v <= {last}"),
            (None, None, Some(last)) => format!("v <= {last}"),
            (Some(l), None, None) => format!("v >= {l}"),
            (None, None, None) => "every version".to_owned(),
        }
    }

    /// The range with its bounds parsed; `None` when one is not PEP 440 (a hand-edited file).
    fn parse(&self) -> Option<ParsedRange> {
        let low = if self.introduced == "0" { None } else { Some(parse_version(&self.introduced)?) };
        let fixed = match &self.fixed {
            Some(f) => Some(parse_version(f)?),
            None => None,
        };
        let last = match &self.last_affected {
            Some(l) => Some(parse_version(l)?),
            None => None,
        };
        Some(ParsedRange { low, fixed, last })
    }
}

struct ParsedRange {
    low: Option<Version>,
    fixed: Option<Version>,
    last: Option<Version>,
}

impl ParsedRange {
    fn contains(&self, v: &Version) -> bool {
        self.low.as_ref().is_none_or(|l| v >= l)
            && self.fixed.as_ref().is_none_or(|f| v < f)
            && self.last.as_ref().is_none_or(|l| v <= l)
    }

    /// Whether the range starts or ends on the X.Y branch (`introduced: 0` is on none).
    fn on_branch(&self, xy: (u64, u64)) -> bool {
        [&self.low, &self.fixed, &self.last].into_iter().flatten().any(|b| branch(b) == xy)
    }
}

/// The X.Y of a version (`3.12.5` -> (3, 12)).
fn branch(v: &Version) -> (u64, u64) {
    let r = v.release();
    (r.first().copied().unwrap_or(0), r.get(1).copied().unwrap_or(0))
}

fn parse_version(s: &str) -> Option<Version> {
    if s.len() > MAX_VERSION_LEN {
        return None;
    }
    Version::from_str(s.trim()).ok()
}

/// The version asked about, and what is uncertain about it.
struct Query {
    v: Version,
    xy: (u64, u64),
    note: Option<String>,
}

impl Query {
    fn parse(text: &str) -> Option<Query> {
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_VERSION_LEN {
            return None;
        }
        let (public, note) = if let Some(base) = text.strip_suffix('+') {
            // CPython's own marker of a build from a branch after a release (`3.10.5+`).
            (base, Some(format!("{text} is a build from the branch after {base}: matched as {base}, uncertain")))
        } else if let Some((base, local)) = text.split_once('+') {
            let note = format!("{text} is a vendor or local build ({local}): matched as {base}, uncertain");
            (base, Some(note))
        } else {
            (text, None)
        };
        let v = Version::from_str(public).ok()?;
        if v.local().is_empty() {
            let xy = branch(&v);
            Some(Query { v, xy, note })
        } else {
            None
        }
    }
}

impl CpythonDb {
    /// The advisories affecting CPython `version` (PEP 440: `3.12.5`, `3.13.0rc1`; a branch
    /// build `3.10.5+` or a local label is matched as its release, and said to be uncertain).
    ///
    /// Affected when a range contains the version. Else not affected when a range starts or
    /// ends on the version's X.Y branch, or an `unaffected` entry covers it. Else (no range
    /// names the branch) the record's `defaultStatus` decides: `affected` affects, anything else
    /// does not. A version that is not PEP 440 matches nothing.
    pub fn affecting(&self, version: &str) -> Vec<Hit<'_>> {
        let Some(q) = Query::parse(version) else { return Vec::new() };
        self.advisories.iter().filter_map(|a| judge(a, &q)).collect()
    }

    /// The newest date of any source: how fresh the data is.
    pub fn newest_source_date(&self) -> Option<&str> {
        self.sources.iter().filter_map(|s| s.date.as_deref()).max()
    }

    /// Write the file atomically: a temporary file in the same directory, then a rename.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let out = FileOut {
            format: FORMAT,
            format_version: FORMAT_VERSION,
            generated_at: &self.generated_at,
            sources: &self.sources,
            advisories: &self.advisories,
        };
        let werr = |cause| Error::Write { path: path.to_path_buf(), cause };
        let mut bytes = serde_json::to_vec_pretty(&out).map_err(|e| werr(std::io::Error::other(e)))?;
        bytes.push(b'\n');
        let name = path.file_name().ok_or_else(|| werr(std::io::Error::other("no file name")))?;
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
        let result = (|| {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o644).open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if let Err(cause) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(werr(cause));
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'a str,
    format_version: u32,
    generated_at: &'a str,
    sources: &'a [Source],
    advisories: &'a [Advisory],
}

/// The file's body (`format` and `format_version` are checked first, on their own).
#[derive(Deserialize)]
struct FileIn {
    #[serde(default)]
    generated_at: String,
    #[serde(default)]
    sources: Vec<Source>,
    #[serde(default)]
    advisories: Vec<Advisory>,
}

/// Load a CPython advisory file (at most 64 MiB; `format` and `format_version` checked).
pub fn load(path: &Path) -> Result<CpythonDb, Error> {
    let file = std::fs::File::open(path).map_err(|cause| Error::Open { path: path.to_path_buf(), cause })?;
    let meta = file.metadata().map_err(|cause| Error::Read { path: path.to_path_buf(), cause })?;
    if !meta.is_file() {
        return Err(Error::NotAnInput(path.to_path_buf()));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_FILE_BYTES) as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|cause| Error::Read { path: path.to_path_buf(), cause })?;
    let format_err = |message: String| Error::Format { path: path.to_path_buf(), message };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format_err(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    // The header first: a file of another format or version says so, not a field error.
    #[derive(Deserialize)]
    struct Header {
        format: Option<Value>,
        format_version: Option<Value>,
    }
    let header: Header = serde_json::from_slice(&bytes).map_err(|e| format_err(format!("not JSON: {e}")))?;
    match header.format.as_ref().and_then(Value::as_str) {
        Some(FORMAT) => {}
        other => return Err(format_err(format!("its format is {other:?}, not {FORMAT:?}"))),
    }
    match header.format_version.as_ref().and_then(Value::as_u64) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        other => {
            return Err(format_err(format!(
                "format_version {other:?} is not supported (this venvaudit reads {FORMAT_VERSION})"
            )));
        }
    }
    let file: FileIn = serde_json::from_slice(&bytes).map_err(|e| format_err(e.to_string()))?;
    Ok(CpythonDb { sources: file.sources, advisories: file.advisories, generated_at: file.generated_at })
}

/// Judge one advisory for one version (the rules of [`CpythonDb::affecting`]).
fn judge<'a>(a: &'a Advisory, q: &Query) -> Option<Hit<'a>> {
    let ranges: Vec<(&Range, ParsedRange)> = a.ranges.iter().filter_map(|r| Some((r, r.parse()?))).collect();
    let matched: Vec<String> = ranges.iter().filter(|(_, p)| p.contains(&q.v)).map(|(r, _)| r.describe()).collect();
    let (x, y) = q.xy;
    let fixed_on_branch = ranges
        .iter()
        .filter_map(|(r, p)| Some((r.fixed.as_ref()?, p.fixed.as_ref()?)))
        .filter(|(_, f)| branch(f) == q.xy && **f > q.v)
        .min_by(|a, b| a.1.cmp(b.1))
        .map(|(text, _)| text.clone());
    let mut why = if !matched.is_empty() {
        format!("in affected range {}", matched.join(", "))
    } else {
        let on_branch = ranges.iter().any(|(_, p)| p.on_branch(q.xy));
        let excluded = a.unaffected.iter().filter_map(Range::parse).any(|p| p.contains(&q.v));
        let default_affected = a.default_status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("affected"));
        if on_branch || excluded || !default_affected {
            return None;
        }
        format!("no range for {x}.{y}; defaultStatus affected")
    };
    match &fixed_on_branch {
        Some(f) => why.push_str(&format!("; fixed on {x}.{y} in {f}")),
        None => why.push_str(&format!("; no fix released on {x}.{y} named by the record")),
    }
    if let Some(note) = &q.note {
        why.push_str("; ");
        why.push_str(note);
    }
    Some(Hit { advisory: a, matched, fixed_on_branch, uncertain: q.note.is_some(), why })
}

// ----------------------------------------------------------------------------------- build

/// Build the advisory file's data from cvelistV5 (a release zip, the `cves.zip` inside it, a
/// zip of records, a checkout or any directory of `CVE-*.json`, or one record) and from the
/// PSF advisory database (a directory or zip of `PSF-*.json`, for aliases). Records that
/// cannot be used are problems; the build fails only when an input cannot be opened or read
/// as a whole, or when no CPython CVE record was found at all. When a CVE appears twice, the
/// copy with the newest `cveMetadata.dateUpdated` wins.
pub fn build(paths: &[PathBuf]) -> Result<(CpythonDb, Vec<Problem>), Error> {
    let mut c = Collector::new();
    for path in paths {
        let src = c.inputs.len();
        c.inputs.push(InputStats { path: crate::host::paths::display(path), ..InputStats::default() });
        let meta = std::fs::metadata(path).map_err(|cause| Error::Open { path: path.clone(), cause })?;
        if meta.is_dir() {
            c.walk_dir(path, src);
        } else if meta.is_file() {
            let mut file = std::fs::File::open(path).map_err(|cause| Error::Open { path: path.clone(), cause })?;
            let mut magic = [0u8; 2];
            let n = file.read(&mut magic).map_err(|cause| Error::Read { path: path.clone(), cause })?;
            file.rewind().map_err(|cause| Error::Read { path: path.clone(), cause })?;
            if n == 2 && &magic == b"PK" {
                let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
                    .map_err(|cause| Error::NotAZip { path: path.clone(), cause })?;
                let label = c.inputs[src].path.clone();
                c.read_zip(&mut archive, &label, src, 1);
            } else {
                let label = c.inputs[src].path.clone();
                c.entries += 1;
                match read_capped(&mut file, MAX_RECORD_BYTES) {
                    Ok(bytes) => c.take(&label, &bytes, src, true),
                    Err(message) => c.problem(&label, message),
                }
            }
        } else {
            return Err(Error::NotAnInput(path.clone()));
        }
    }
    c.finish()
}

#[derive(Default)]
struct InputStats {
    path: String,
    cve_records: usize,
    cve_newest: Option<String>,
    psf_records: usize,
    psf_newest: Option<String>,
}

struct PsfRecord {
    id: String,
    cves: Vec<String>,
    summary: String,
}

#[derive(Default)]
struct Collector {
    inputs: Vec<InputStats>,
    /// CVE id -> the advisory (the newest copy).
    cves: BTreeMap<String, Advisory>,
    psf: Vec<PsfRecord>,
    problems: Vec<Problem>,
    entries: usize,
    inflated: u64,
    /// A global bound was reached: nothing more is read.
    stopped: bool,
    /// [`MAX_ENTRIES`] and [`MAX_INFLATED_BYTES`] (smaller in tests).
    max_entries: usize,
    max_inflated: u64,
}

/// How [`read_capped`]'s error for too much data starts.
const TOO_LARGE: &str = "larger than";

/// Read at most `cap` bytes; more is an error (a record is never cut).
fn read_capped(r: &mut impl Read, cap: u64) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    r.take(cap + 1).read_to_end(&mut buf).map_err(|e| format!("cannot read: {e}"))?;
    if buf.len() as u64 > cap {
        return Err(format!("{TOO_LARGE} {cap} bytes; not read"));
    }
    Ok(buf)
}

/// A file name (the last path component) that is a record: `CVE-*.json` or `PSF-*.json`.
fn is_record_name(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    (base.starts_with("CVE-") || base.starts_with("PSF-")) && base.ends_with(".json")
}

impl Collector {
    fn new() -> Collector {
        Collector { max_entries: MAX_ENTRIES, max_inflated: MAX_INFLATED_BYTES, ..Collector::default() }
    }

    fn problem(&mut self, file: &str, message: impl Into<String>) {
        self.problems.push(Problem { file: file.to_owned(), message: message.into() });
    }

    /// Count one entry; false (with one problem) once the bound is reached.
    fn count_entry(&mut self, where_: &str) -> bool {
        if self.stopped {
            return false;
        }
        self.entries += 1;
        if self.entries > self.max_entries {
            self.stopped = true;
            self.problem(where_, format!("more than {} entries: the rest is not read", self.max_entries));
            return false;
        }
        true
    }

    fn walk_dir(&mut self, dir: &Path, src: usize) {
        let walker = walkdir::WalkDir::new(dir).follow_links(true).max_depth(MAX_DIR_DEPTH).sort_by_file_name();
        for e in walker {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    let at =
                        err.path().map(crate::host::paths::display).unwrap_or_else(|| crate::host::paths::display(dir));
                    self.problem(&at, format!("cannot read: {err}"));
                    continue;
                }
            };
            if !e.file_type().is_file() || !is_record_name(&e.file_name().to_string_lossy()) {
                continue;
            }
            let label = crate::host::paths::display(e.path());
            if !self.count_entry(&label) {
                return;
            }
            let read = std::fs::File::open(e.path())
                .map_err(|err| format!("cannot read: {err}"))
                .and_then(|mut f| read_capped(&mut f, MAX_RECORD_BYTES));
            match read {
                Ok(bytes) => self.take(&label, &bytes, src, false),
                Err(message) => self.problem(&label, message),
            }
        }
    }

    /// Read the records of a zip; a zip inside it is read too, down to [`MAX_ZIP_DEPTH`].
    fn read_zip<R: Read + Seek>(&mut self, archive: &mut zip::ZipArchive<R>, label: &str, src: usize, depth: usize) {
        for i in 0..archive.len() {
            if self.stopped {
                return;
            }
            let mut f = match archive.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    self.problem(&format!("{label}!entry #{i}"), format!("cannot read zip entry: {e}"));
                    continue;
                }
            };
            let name = f.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("entry #{i}"));
            let at = format!("{label}!{name}");
            let is_zip = name.to_ascii_lowercase().ends_with(".zip");
            if !f.is_file() || !(is_zip || is_record_name(&name)) {
                continue;
            }
            if !self.count_entry(&at) {
                return;
            }
            if is_zip {
                if depth >= MAX_ZIP_DEPTH {
                    self.problem(&at, format!("a zip nested more than {MAX_ZIP_DEPTH} deep; not read"));
                    continue;
                }
                match self.spill(&mut f) {
                    Ok(tmp) => match zip::ZipArchive::new(std::io::BufReader::new(tmp)) {
                        Ok(mut inner) => {
                            drop(f);
                            self.read_zip(&mut inner, &at, src, depth + 1);
                        }
                        Err(e) => self.problem(&at, format!("not a readable zip: {e}")),
                    },
                    Err(message) => self.problem(&at, message),
                }
                continue;
            }
            let budget = self.max_inflated.saturating_sub(self.inflated);
            match read_capped(&mut f, MAX_RECORD_BYTES.min(budget)) {
                Ok(bytes) => {
                    self.inflated += bytes.len() as u64;
                    drop(f);
                    self.take(&at, &bytes, src, false);
                }
                Err(message) if budget < MAX_RECORD_BYTES && message.starts_with(TOO_LARGE) => {
                    self.stopped = true;
                    let max = self.max_inflated;
                    self.problem(&at, format!("the zips inflate to more than {max} bytes: the rest is not read"));
                }
                Err(message) => self.problem(&at, message),
            }
        }
    }

    /// Inflate a zip entry that is itself a zip into an unlinked temporary file (bounded), so
    /// that it can be read without holding it in memory.
    fn spill(&mut self, entry: &mut impl Read) -> Result<std::fs::File, String> {
        use std::os::unix::fs::OpenOptionsExt;
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("venvaudit-cpython-{}-{n}.zip", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("cannot make a temporary file {}: {e}", path.display()))?;
        let _ = std::fs::remove_file(&path);
        let cap = MAX_NESTED_ZIP_BYTES.min(self.max_inflated.saturating_sub(self.inflated));
        let copied = std::io::copy(&mut entry.take(cap + 1), &mut file).map_err(|e| format!("cannot inflate: {e}"))?;
        self.inflated += copied;
        if copied > cap {
            return Err(format!("inflates to more than {cap} bytes; not read"));
        }
        file.rewind().map_err(|e| format!("cannot read back: {e}"))?;
        Ok(file)
    }

    /// One record's bytes: a CVE record, a PSF advisory, or (an explicit file only) neither.
    fn take(&mut self, file: &str, bytes: &[u8], src: usize, explicit: bool) {
        let base = file.rsplit(['/', '\\', '!']).next().unwrap_or(file);
        let cve =
            if explicit { memchr::memmem::find(bytes, b"cveMetadata").is_some() } else { base.starts_with("CVE-") };
        if cve {
            // Most of cvelistV5 never mentions Python: skip those without parsing them. A
            // record with escapes could spell it `\u0050ython`, so those are parsed too.
            if !mentions_python(bytes) && memchr::memmem::find(bytes, b"\\u").is_none() {
                return;
            }
            match parse_cve(bytes) {
                Err(message) => self.problem(file, message),
                Ok(Cve::Ignored) => {}
                Ok(Cve::Record(a, problems)) => {
                    for p in problems {
                        self.problem(file, p);
                    }
                    self.add_cve(*a, src);
                }
            }
        } else {
            match parse_psf(bytes) {
                Err(message) => self.problem(file, message),
                Ok(None) => {}
                Ok(Some((rec, modified))) => {
                    let s = &mut self.inputs[src];
                    s.psf_records += 1;
                    if newer(modified.as_deref(), s.psf_newest.as_deref()) {
                        s.psf_newest = modified;
                    }
                    self.psf.push(rec);
                }
            }
        }
    }

    fn add_cve(&mut self, a: Advisory, src: usize) {
        let s = &mut self.inputs[src];
        s.cve_records += 1;
        if newer(a.modified.as_deref(), s.cve_newest.as_deref()) {
            s.cve_newest = a.modified.clone();
        }
        match self.cves.get(&a.id) {
            Some(old) if !newer(a.modified.as_deref(), old.modified.as_deref()) => {}
            _ => {
                self.cves.insert(a.id.clone(), a);
            }
        }
    }

    fn finish(mut self) -> Result<(CpythonDb, Vec<Problem>), Error> {
        for rec in std::mem::take(&mut self.psf) {
            for cve in &rec.cves {
                if let Some(a) = self.cves.get_mut(cve) {
                    if !a.aliases.contains(&rec.id) {
                        a.aliases.push(rec.id.clone());
                    }
                    if a.summary.is_empty() {
                        a.summary = rec.summary.clone();
                    }
                }
            }
        }
        let mut sources = Vec::new();
        for s in &self.inputs {
            if s.cve_records > 0 {
                sources.push(Source {
                    name: CVE_SOURCE.into(),
                    path: s.path.clone(),
                    date: s.cve_newest.clone(),
                    records: s.cve_records,
                    license: CVE_LICENSE.into(),
                    attribution: CVE_ATTRIBUTION.into(),
                });
            }
            if s.psf_records > 0 {
                sources.push(Source {
                    name: PSF_SOURCE.into(),
                    path: s.path.clone(),
                    date: s.psf_newest.clone(),
                    records: s.psf_records,
                    license: PSF_LICENSE.into(),
                    attribution: PSF_ATTRIBUTION.into(),
                });
            }
            if s.cve_records == 0 && s.psf_records == 0 {
                self.problems.push(Problem {
                    file: s.path.clone(),
                    message: "no CPython CVE record and no PSF advisory in it".into(),
                });
            }
        }
        let mut advisories: Vec<Advisory> = std::mem::take(&mut self.cves).into_values().collect();
        for a in &mut advisories {
            a.aliases.sort_by_key(|x| id_key(x));
        }
        advisories.sort_by_key(|x| id_key(&x.id));
        if advisories.is_empty() {
            let inputs = self.inputs.iter().map(|s| s.path.as_str()).collect::<Vec<_>>().join(", ");
            return Err(Error::NoRecords { inputs, problems: self.problems });
        }
        let generated_at = crate::time::rfc3339(std::time::SystemTime::now());
        Ok((CpythonDb { sources, advisories, generated_at }, self.problems))
    }
}

/// Sort key of `CVE-2024-7592` / `PSF-2024-9`: prefix, year, number.
fn id_key(id: &str) -> (String, u64, u64, String) {
    let mut parts = id.splitn(3, '-');
    let prefix = parts.next().unwrap_or("").to_owned();
    let year = parts.next().and_then(|y| y.parse().ok()).unwrap_or(0);
    let num = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    (prefix, year, num, id.to_owned())
}

/// Whether RFC 3339 time `a` is later than `b` (an absent `b` is older than anything).
fn newer(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => match (jiff::Timestamp::from_str(a), jiff::Timestamp::from_str(b)) {
            (Ok(x), Ok(y)) => x > y,
            _ => a > b,
        },
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Whether the bytes contain `python` in any case.
fn mentions_python(bytes: &[u8]) -> bool {
    memchr::memchr2_iter(b'y', b'Y', bytes)
        .any(|i| i >= 1 && bytes.len() >= i + 5 && bytes[i - 1..i + 5].eq_ignore_ascii_case(b"python"))
}

enum Cve {
    /// Not a CPython record of the PSF, or rejected.
    Ignored,
    /// The advisory and the problems of its ranges.
    Record(Box<Advisory>, Vec<String>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCve {
    cve_metadata: RawMeta,
    containers: Option<RawContainers>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMeta {
    cve_id: String,
    state: Option<String>,
    assigner_short_name: Option<String>,
    date_published: Option<String>,
    date_updated: Option<String>,
}

#[derive(Deserialize)]
struct RawContainers {
    cna: Option<RawCna>,
}

#[derive(Deserialize)]
struct RawCna {
    affected: Option<Vec<Value>>,
    descriptions: Option<Vec<Value>>,
    title: Option<String>,
    metrics: Option<Vec<Value>>,
    references: Option<Vec<Value>>,
}

/// Parse a CVE JSON 5 record; only the CNA container is read.
fn parse_cve(bytes: &[u8]) -> Result<Cve, String> {
    let raw: RawCve = serde_json::from_slice(bytes).map_err(|e| format!("not a CVE JSON 5 record: {e}"))?;
    let meta = raw.cve_metadata;
    if meta.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("REJECTED")) {
        return Ok(Cve::Ignored);
    }
    let Some(cna) = raw.containers.and_then(|c| c.cna) else { return Ok(Cve::Ignored) };
    let psf = meta.assigner_short_name.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("PSF"));
    let cpython: Vec<&Value> = cna
        .affected
        .iter()
        .flatten()
        .filter(|a| {
            let field = |k: &str| a.get(k).and_then(Value::as_str).map(str::trim);
            field("product").is_some_and(|p| p.eq_ignore_ascii_case("cpython"))
                && (psf || field("vendor").is_some_and(|v| v.eq_ignore_ascii_case("Python Software Foundation")))
        })
        .collect();
    if cpython.is_empty() {
        return Ok(Cve::Ignored);
    }
    let id = meta.cve_id.trim().to_owned();
    if !valid_cve_id(&id) {
        return Err(format!("{:?} is not a CVE id; record not used", shorten(&id, 40)));
    }
    let mut problems = Vec::new();
    let (mut ranges, mut unaffected, mut modules) = (Vec::new(), Vec::new(), BTreeSet::new());
    let mut default_status = None;
    for a in cpython {
        if default_status.is_none() {
            default_status = a.get("defaultStatus").and_then(Value::as_str).map(|s| shorten(s.trim(), 32));
        }
        for m in a.get("modules").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if modules.len() < 50 {
                modules.insert(shorten(m.trim(), 100));
            }
        }
        match a.get("versions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(versions)) => {
                for (n, v) in versions.iter().enumerate() {
                    if ranges.len() + unaffected.len() >= MAX_RANGES {
                        problems.push(format!("more than {MAX_RANGES} version entries; the rest dropped"));
                        break;
                    }
                    match version_entry(v) {
                        Ok(Some((a, u))) => {
                            ranges.extend(a);
                            unaffected.extend(u);
                        }
                        Ok(None) => {}
                        Err(msg) => problems.push(format!("{id} versions[{n}]: {msg}; dropped")),
                    }
                }
            }
            Some(_) => problems.push(format!("{id}: versions is not a list; dropped")),
        }
    }
    dedup(&mut ranges);
    dedup(&mut unaffected);
    let description = english_description(cna.descriptions.as_deref().unwrap_or_default());
    let summary = match cna.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => shorten(t, SUMMARY_CHARS),
        None => shorten(description.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or(""), SUMMARY_CHARS),
    };
    let severity = severity(cna.metrics.as_deref().unwrap_or_default(), &description);
    let mut references = Vec::new();
    for r in cna.references.iter().flatten() {
        let Some(url) = r.get("url").and_then(Value::as_str).map(str::trim) else { continue };
        let web = url.starts_with("https://") || url.starts_with("http://");
        if web && url.len() <= MAX_URL && !references.iter().any(|u| u == url) && references.len() < MAX_REFERENCES {
            references.push(url.to_owned());
        }
    }
    let advisory = Advisory {
        id,
        aliases: Vec::new(),
        summary,
        published: meta.date_published.map(|d| shorten(&d, 40)),
        modified: meta.date_updated.map(|d| shorten(&d, 40)),
        ranges,
        unaffected,
        default_status,
        modules: modules.into_iter().collect(),
        severity,
        references,
    };
    Ok(Cve::Record(Box::new(advisory), problems))
}

fn dedup(ranges: &mut Vec<Range>) {
    let mut seen = BTreeSet::new();
    ranges.retain(|r| seen.insert((r.introduced.clone(), r.fixed.clone(), r.last_affected.clone())));
}

fn valid_cve_id(id: &str) -> bool {
    let mut parts = id.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("CVE"), Some(y), Some(n), None)
            if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit())
            && (4..=12).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())
    )
}

/// The first English description (`lang` `en`, `en-US`, ...), at most 10,000 characters.
fn english_description(descriptions: &[Value]) -> String {
    let english =
        |d: &&Value| d.get("lang").and_then(Value::as_str).is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
    descriptions
        .iter()
        .find(english)
        .or(descriptions.first())
        .and_then(|d| d.get("value"))
        .and_then(Value::as_str)
        .map(|s| s.chars().take(10_000).collect())
        .unwrap_or_default()
}

/// The affected ranges and the unaffected ones of one `versions[]` entry.
type AffectedAndNot = (Vec<Range>, Vec<Range>);

/// One `versions[]` entry: `{version, status, versionType, lessThan | lessThanOrEqual, changes}`,
/// as (affected ranges, unaffected ranges); `None` for `status: unknown`, which says nothing.
fn version_entry(v: &Value) -> Result<Option<AffectedAndNot>, String> {
    let Some(obj) = v.as_object() else { return Err("not an object".into()) };
    let text = |k: &str| -> Result<Option<&str>, String> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() <= MAX_VERSION_LEN => Ok(Some(s.trim())),
            Some(Value::String(s)) => Err(format!("{k} {:?} is too long", shorten(s, 20))),
            Some(_) => Err(format!("{k} is not a string")),
        }
    };
    let status = text("status")?.ok_or("no status")?;
    let affected = match status.to_ascii_lowercase().as_str() {
        "affected" => true,
        "unaffected" => false,
        "unknown" => return Ok(None),
        other => return Err(format!("unknown status {other:?}")),
    };
    match text("versionType")? {
        None => {}
        Some(t) if t.eq_ignore_ascii_case("python") => {}
        Some(t) => return Err(format!("versionType {t:?} is not python (PEP 440)")),
    }
    let start = text("version")?.ok_or("no version")?;
    let pep440 = |s: &str| -> Result<Option<Version>, String> {
        if s == "0" {
            return Ok(None);
        }
        Version::from_str(s).map(Some).map_err(|_| format!("{:?} is not a PEP 440 version", shorten(s, 20)))
    };
    let low = pep440(start)?;
    let (less, less_eq) = (text("lessThan")?, text("lessThanOrEqual")?);
    // The end: lessThan (exclusive), lessThanOrEqual (inclusive), `*` or neither.
    let end = match (less, less_eq) {
        (Some(_), Some(_)) => return Err("both lessThan and lessThanOrEqual".into()),
        (Some("*"), None) | (None, Some("*")) => End::Open,
        (Some(l), None) => End::Before(l.to_owned(), pep440(l)?.ok_or("lessThan 0 is an empty range")?),
        (None, Some(l)) => End::Through(l.to_owned(), pep440(l)?.ok_or("lessThanOrEqual 0 is below every version")?),
        (None, None) => match &low {
            Some(v) => End::Through(start.to_owned(), v.clone()),
            None => End::Through("0".into(), Version::from_str("0").map_err(|e| e.to_string())?),
        },
    };
    match (&low, &end) {
        (Some(l), End::Before(text, b)) if b <= l => {
            return Err(format!("inverted or empty range: lessThan {text} is not above version {start}"));
        }
        (Some(l), End::Through(text, b)) if b < l => {
            return Err(format!("inverted range: lessThanOrEqual {text} is below version {start}"));
        }
        _ => {}
    }
    // `changes`: the status changes at these versions inside the range.
    let mut cuts: Vec<(Version, String, bool)> = Vec::new();
    for c in obj.get("changes").and_then(Value::as_array).into_iter().flatten().take(100) {
        let at = c.get("at").and_then(Value::as_str).ok_or("a change without at")?;
        let st = c.get("status").and_then(Value::as_str).ok_or("a change without status")?;
        let st_affected = match st.to_ascii_lowercase().as_str() {
            "affected" => true,
            "unaffected" => false,
            other => return Err(format!("a change to unknown status {other:?}")),
        };
        let v = pep440(at)?.ok_or("a change at 0")?;
        let inside = low.as_ref().is_none_or(|l| v > *l)
            && match &end {
                End::Before(_, b) => v < *b,
                End::Through(_, b) => v <= *b,
                End::Open => true,
            };
        if !inside {
            return Err(format!("change at {at} is outside the range"));
        }
        cuts.push((v, at.to_owned(), st_affected));
    }
    cuts.sort_by(|a, b| a.0.cmp(&b.0));
    let (mut affected_ranges, mut unaffected_ranges) = (Vec::new(), Vec::new());
    let (mut from, mut state) = (start.to_owned(), affected);
    for (_, at, st) in cuts {
        let r = Range { introduced: from, fixed: Some(at.clone()), last_affected: None };
        if state {
            affected_ranges.push(r)
        } else {
            unaffected_ranges.push(r)
        }
        from = at;
        state = st;
    }
    let last = match end {
        End::Before(t, _) => Range { introduced: from, fixed: Some(t), last_affected: None },
        End::Through(t, _) => Range { introduced: from, fixed: None, last_affected: Some(t) },
        End::Open => Range { introduced: from, fixed: None, last_affected: None },
    };
    if state {
        affected_ranges.push(last)
    } else {
        unaffected_ranges.push(last)
    }
    Ok(Some((affected_ranges, unaffected_ranges)))
}

enum End {
    Before(String, Version),
    Through(String, Version),
    Open,
}

/// Severity from the CNA's metrics (scored by `osv::cvss`), and the level its description states.
fn severity(metrics: &[Value], description: &str) -> Option<AdvisorySeverity> {
    let mut best: Option<AdvisorySeverity> = None;
    let mut stated: Option<AdvisorySeverity> = None;
    for m in metrics {
        for (key, kind, version) in [
            ("cvssV4_0", "CVSS_V4", "4.0"),
            ("cvssV3_1", "CVSS_V3", "3.1"),
            ("cvssV3_0", "CVSS_V3", "3.0"),
            ("cvssV2_0", "CVSS_V2", "2.0"),
        ] {
            let Some(c) = m.get(key) else { continue };
            let Some(vector) = c.get("vectorString").and_then(Value::as_str) else { continue };
            let vector = vector.trim();
            if vector.len() > 512 {
                continue;
            }
            if let Some(r) = cvss::rate(std::iter::once((kind, vector))) {
                let candidate = AdvisorySeverity {
                    cvss_vector: Some(vector.to_owned()),
                    cvss_version: Some(version.to_owned()),
                    score: r.score,
                    label: Some(r.label),
                    cna_text: None,
                };
                if best.as_ref().is_none_or(|b| candidate.score > b.score) {
                    best = Some(candidate);
                }
            } else if stated.is_none() {
                // A vector the scorer does not read: the record's own score and label.
                let score = c.get("baseScore").and_then(Value::as_f64).filter(|s| (0.0..=10.0).contains(s));
                let label = c.get("baseSeverity").and_then(Value::as_str).map(str::to_ascii_uppercase);
                if let (Some(score), Some(label)) =
                    (score, label.filter(|l| cvss::severity_of_label(l).is_some() || l == "NONE"))
                {
                    stated = Some(AdvisorySeverity {
                        cvss_vector: Some(vector.to_owned()),
                        cvss_version: Some(version.to_owned()),
                        score: Some(score),
                        label: Some(label),
                        cna_text: None,
                    });
                }
            }
        }
    }
    let cna_text = stated_level(description);
    let mut s = best.or(stated).unwrap_or_default();
    if s.label.is_none() {
        s.label = cna_text.clone();
    }
    s.cna_text = cna_text;
    (s != AdvisorySeverity::default()).then_some(s)
}

/// The level in "There is a MEDIUM severity vulnerability affecting CPython".
fn stated_level(description: &str) -> Option<String> {
    let lower = description.to_ascii_lowercase();
    let at = lower.find(" severity vulnerability")?;
    let word = description[..at].rsplit(|c: char| !c.is_ascii_alphabetic()).next()?.to_ascii_uppercase();
    matches!(word.as_str(), "LOW" | "MEDIUM" | "MODERATE" | "HIGH" | "CRITICAL").then_some(word)
}

#[derive(Deserialize)]
struct RawPsf {
    id: String,
    aliases: Option<Vec<Value>>,
    summary: Option<String>,
    details: Option<String>,
    modified: Option<String>,
    withdrawn: Option<serde::de::IgnoredAny>,
}

/// Parse a PSF OSV record: its id and the CVE ids it aliases.
fn parse_psf(bytes: &[u8]) -> Result<Option<(PsfRecord, Option<String>)>, String> {
    let raw: RawPsf =
        serde_json::from_slice(bytes).map_err(|e| format!("neither a CVE JSON 5 record nor a PSF advisory: {e}"))?;
    let id = raw.id.trim().to_owned();
    if !id.starts_with("PSF-") || id.len() > MAX_ID_LEN {
        return Err(format!("{:?} is not a PSF advisory id; not used", shorten(&id, 40)));
    }
    if raw.withdrawn.is_some() {
        return Ok(None);
    }
    let cves: Vec<String> = raw
        .aliases
        .iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|a| valid_cve_id(a))
        .take(100)
        .map(str::to_owned)
        .collect();
    let summary = match raw.summary.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => shorten(s, SUMMARY_CHARS),
        None => shorten(
            raw.details.as_deref().unwrap_or("").lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or(""),
            SUMMARY_CHARS,
        ),
    };
    Ok(Some((PsfRecord { id, cves, summary }, raw.modified.map(|m| shorten(&m, 40)))))
}

/// At most `max` characters, an ellipsis marking a cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! record {
        ($name:literal) => {
            ($name, include_str!(concat!("../../tests/fixtures/cpython/records/", $name, ".json")))
        };
    }

    /// The real records of tests/fixtures/cpython/records (SOURCES.md there says where from).
    const RECORDS: [(&str, &str); 14] = [
        record!("CVE-2023-6597"),
        record!("CVE-2024-0450"),
        record!("CVE-2024-4032"),
        record!("CVE-2024-6232"),
        record!("CVE-2024-7592"),
        record!("CVE-2024-8088"),
        record!("CVE-2024-9287"),
        record!("CVE-2024-11168"),
        record!("CVE-2024-12718"),
        record!("CVE-2025-0938"),
        record!("CVE-2025-4138"),
        record!("CVE-2025-4330"),
        record!("CVE-2025-4435"),
        record!("CVE-2025-4517"),
    ];
    const PSF: [(&str, &str); 4] = [
        ("PSF-2023-1", include_str!("../../tests/fixtures/cpython/psf/PSF-2023-1.json")),
        ("PSF-2024-9", include_str!("../../tests/fixtures/cpython/psf/PSF-2024-9.json")),
        ("PSF-2024-10", include_str!("../../tests/fixtures/cpython/psf/PSF-2024-10.json")),
        ("PSF-2024-11", include_str!("../../tests/fixtures/cpython/psf/PSF-2024-11.json")),
    ];
    /// CVE-2024-6232 as first published: only the main-branch fix (`0 < 3.13.0rc2`).
    const EARLY_6232: &str = include_str!("../../tests/fixtures/cpython/history/CVE-2024-6232.json");

    /// Build from in-memory records named `CVE-...` / `PSF-...` (as files in a directory).
    fn from_blobs(blobs: &[(&str, &str)]) -> Result<(CpythonDb, Vec<Problem>), Error> {
        let mut c = Collector::new();
        c.inputs.push(InputStats { path: "mem".into(), ..InputStats::default() });
        for (name, text) in blobs {
            c.take(&format!("mem/{name}.json"), text.as_bytes(), 0, false);
        }
        c.finish()
    }

    fn real_db() -> CpythonDb {
        let all: Vec<(&str, &str)> = RECORDS.iter().chain(PSF.iter()).copied().collect();
        let (db, problems) = from_blobs(&all).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        db
    }

    /// `Some(fix)`: affected, `fixed_on_branch` is `fix` ("" for None). `None`: not affected.
    fn judged(db: &CpythonDb, id: &str, version: &str) -> Option<String> {
        let hits = db.affecting(version);
        hits.iter().find(|h| h.advisory.id == id).map(|h| h.fixed_on_branch.clone().unwrap_or_default())
    }

    /// Tables derived by hand from each record's `containers.cna.affected[].versions`: the
    /// version, whether it is affected, and the fix on its branch. Ranges quoted per record.
    #[test]
    fn real_records_judged_as_their_ranges_say() {
        let db = real_db();
        assert_eq!(db.advisories.len(), 14);
        type Table = &'static [(&'static str, Option<&'static str>)];
        let tables: [(&str, Table); 14] = [
            // 0<3.8.20 3.9.0<3.9.20 3.10.0<3.10.15 3.11.0<3.11.10 3.12.0<3.12.6 3.13.0a1<3.13.0rc2
            (
                "CVE-2024-7592",
                &[
                    ("3.12.5", Some("3.12.6")),
                    ("3.12.6", None),
                    ("3.8.19", Some("3.8.20")),
                    ("3.8.20", None),
                    ("3.13.0rc1", Some("3.13.0rc2")),
                    ("3.13.0rc2", None),
                    ("3.13.0", None),
                    ("3.14.0", None),
                    ("2.7.18", Some("")),
                    ("3.9.19", Some("3.9.20")),
                    ("3.11.10", None),
                    ("3.12.0", Some("3.12.6")),
                ],
            ),
            // The same six ranges, after the backports were added to the record.
            (
                "CVE-2024-6232",
                &[
                    ("3.12.5", Some("3.12.6")),
                    ("3.12.6", None),
                    ("3.11.9", Some("3.11.10")),
                    ("3.11.10", None),
                    ("3.10.14", Some("3.10.15")),
                    ("3.10.15", None),
                    ("3.9.20", None),
                    ("3.13.0rc1", Some("3.13.0rc2")),
                    ("3.13.0", None),
                ],
            ),
            // 0<3.9.23 3.10.0<3.10.18 3.11.0<3.11.13 3.12.0<3.12.11 3.13.0<3.13.4 3.14.0a1<3.14.0b3
            (
                "CVE-2025-4517",
                &[
                    ("3.13.3", Some("3.13.4")),
                    ("3.13.4", None),
                    ("3.12.10", Some("3.12.11")),
                    ("3.12.11", None),
                    ("3.14.0b2", Some("3.14.0b3")),
                    ("3.14.0b3", None),
                    ("3.14.0", None),
                    ("3.8.20", Some("")),
                    ("3.9.22", Some("3.9.23")),
                    ("3.9.23", None),
                    // A 3.13 pre-release is below the record's 3.13 range (3.13.0 <= v): the data
                    // says unaffected (docs/cpython-db.md, known gaps).
                    ("3.13.0rc3", None),
                    ("3.15.0", None),
                ],
            ),
            (
                "CVE-2025-4138",
                &[
                    ("3.12.10", Some("3.12.11")),
                    ("3.12.11", None),
                    ("3.11.12", Some("3.11.13")),
                    ("3.11.13", None),
                    ("3.10.17", Some("3.10.18")),
                    ("3.10.18", None),
                ],
            ),
            ("CVE-2025-4330", &[("3.13.0", Some("3.13.4")), ("3.13.4", None), ("3.14.0a1", Some("3.14.0b3"))]),
            ("CVE-2025-4435", &[("3.9.0", Some("3.9.23")), ("3.10.0", Some("3.10.18")), ("3.12.11", None)]),
            (
                "CVE-2024-12718",
                &[("3.13.3", Some("3.13.4")), ("3.13.4", None), ("3.14.0b2", Some("3.14.0b3")), ("3.14.0rc1", None)],
            ),
            // 0<3.8.19 3.9.0<3.9.19 3.10.0<3.10.14 3.11.0<3.11.8 3.12.0<3.12.2 3.13.0a1<3.13.0a3
            (
                "CVE-2024-0450",
                &[
                    ("3.12.1", Some("3.12.2")),
                    ("3.12.2", None),
                    ("3.8.18", Some("3.8.19")),
                    ("3.8.19", None),
                    ("3.13.0a2", Some("3.13.0a3")),
                    ("3.13.0a3", None),
                    ("3.11.7", Some("3.11.8")),
                    ("3.11.8", None),
                ],
            ),
            // ... 3.11.0<3.11.8 3.12.0<3.12.1 3.13.0a1<3.13.0a3
            (
                "CVE-2023-6597",
                &[
                    ("3.12.0", Some("3.12.1")),
                    ("3.12.1", None),
                    ("3.11.7", Some("3.11.8")),
                    ("3.11.8", None),
                    ("3.13.0a2", Some("3.13.0a3")),
                    ("3.13.0a3", None),
                ],
            ),
            // 0<3.8.20 ... 3.11.0<3.11.10 3.12.0<3.12.4 3.13.0a1<3.13.0a6
            (
                "CVE-2024-4032",
                &[
                    ("3.12.3", Some("3.12.4")),
                    ("3.12.4", None),
                    ("3.13.0a5", Some("3.13.0a6")),
                    ("3.13.0a6", None),
                    ("3.11.9", Some("3.11.10")),
                    ("3.13.0", None),
                ],
            ),
            (
                "CVE-2024-8088",
                &[
                    ("3.12.5", Some("3.12.6")),
                    ("3.12.6", None),
                    ("3.13.0rc1", Some("3.13.0rc2")),
                    ("3.10.14", Some("3.10.15")),
                ],
            ),
            // 0<3.9.21 3.10.0<3.10.16 3.11.0<3.11.11 3.12.0<3.12.8 3.13.0<3.13.1 3.14.0a1<3.14.0a2
            (
                "CVE-2024-9287",
                &[
                    ("3.13.0", Some("3.13.1")),
                    ("3.13.1", None),
                    ("3.12.7", Some("3.12.8")),
                    ("3.12.8", None),
                    ("3.14.0a1", Some("3.14.0a2")),
                    ("3.14.0a2", None),
                    ("3.9.20", Some("3.9.21")),
                    ("3.9.21", None),
                    ("3.8.20", Some("")),
                ],
            ),
            // 0<3.9.22 3.10.0<3.10.17 3.11.0<3.11.12 3.12.0<3.12.9 3.13.0<3.13.2 3.14.0a1<3.14.0a5
            (
                "CVE-2025-0938",
                &[
                    ("3.13.1", Some("3.13.2")),
                    ("3.13.2", None),
                    ("3.12.8", Some("3.12.9")),
                    ("3.12.9", None),
                    ("3.14.0a4", Some("3.14.0a5")),
                    ("3.14.0a5", None),
                ],
            ),
            // 0<3.9.21 3.10.0<3.10.16 3.11.0<3.11.4 3.12.0a1<3.12.0b1 (no 3.13 range)
            (
                "CVE-2024-11168",
                &[
                    ("3.11.3", Some("3.11.4")),
                    ("3.11.4", None),
                    ("3.12.0a7", Some("3.12.0b1")),
                    ("3.12.0b1", None),
                    ("3.12.0", None),
                    ("3.13.0", None),
                    ("3.10.15", Some("3.10.16")),
                    ("3.10.16", None),
                    ("3.9.20", Some("3.9.21")),
                    ("3.8.10", Some("")),
                ],
            ),
        ];
        let mut checked = 0;
        for (id, table) in tables {
            assert!(db.advisories.iter().any(|a| a.id == id), "{id} not built");
            for (version, want) in table {
                assert_eq!(judged(&db, id, version).as_deref(), *want, "{id} at {version}");
                checked += 1;
            }
        }
        assert!(checked >= 90, "{checked}");
        // A hit says why, and the range text is the record's.
        let hit = db.affecting("3.12.5").into_iter().find(|h| h.advisory.id == "CVE-2024-7592").unwrap();
        assert_eq!(hit.matched, ["3.12.0 <= v < 3.12.6"]);
        assert_eq!(hit.why, "in affected range 3.12.0 <= v < 3.12.6; fixed on 3.12 in 3.12.6");
        let hit = db.affecting("3.8.10").into_iter().find(|h| h.advisory.id == "CVE-2024-11168").unwrap();
        assert_eq!(hit.matched, ["v < 3.9.21"]);
        assert!(hit.why.ends_with("no fix released on 3.8 named by the record"), "{}", hit.why);
        assert!(!hit.uncertain);
        // Not PEP 440: nothing matches.
        assert!(db.affecting("3.12.x").is_empty());
        assert!(db.affecting("").is_empty());
        // Every 3.13.0 hit of the set: the records whose 3.13 range starts at 3.13.0.
        let ids: Vec<&str> = db.affecting("3.13.0").iter().map(|h| h.advisory.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "CVE-2024-9287",
                "CVE-2024-12718",
                "CVE-2025-0938",
                "CVE-2025-4138",
                "CVE-2025-4330",
                "CVE-2025-4435",
                "CVE-2025-4517"
            ]
        );
    }

    /// CVE-2024-6232 first named only the main-branch fix; with the data of the time 3.12.6
    /// (which has the backport) was affected, with the current data it is not. Built from both
    /// copies, in either order, the newest `dateUpdated` wins.
    #[test]
    fn late_backport_record_judged_by_its_current_data() {
        let (early, _) = from_blobs(&[("CVE-2024-6232", EARLY_6232)]).unwrap();
        assert_eq!(
            early.advisories[0].ranges,
            [Range { introduced: "0".into(), fixed: Some("3.13.0rc2".into()), last_affected: None }]
        );
        assert_eq!(judged(&early, "CVE-2024-6232", "3.12.6").as_deref(), Some(""), "the early data's false positive");
        assert_eq!(judged(&early, "CVE-2024-6232", "3.13.0rc1").as_deref(), Some("3.13.0rc2"));
        let current = RECORDS.iter().find(|(n, _)| *n == "CVE-2024-6232").unwrap().1;
        for order in [[EARLY_6232, current], [current, EARLY_6232]] {
            let (db, problems) = from_blobs(&[("CVE-2024-6232", order[0]), ("CVE-2024-6232", order[1])]).unwrap();
            assert!(problems.is_empty());
            assert_eq!(db.advisories.len(), 1);
            assert_eq!(db.advisories[0].modified.as_deref(), Some("2025-11-03T22:32:42.630Z"));
            assert_eq!(db.advisories[0].ranges.len(), 6);
            assert_eq!(judged(&db, "CVE-2024-6232", "3.12.6"), None);
            assert_eq!(judged(&db, "CVE-2024-6232", "3.12.5").as_deref(), Some("3.12.6"));
            assert_eq!(db.sources[0].records, 2);
        }
    }

    #[test]
    fn branch_and_vendor_builds_are_matched_as_their_release_and_uncertain() {
        let db = real_db();
        let hit = db.affecting("3.10.5+").into_iter().find(|h| h.advisory.id == "CVE-2024-7592").unwrap();
        assert!(hit.uncertain);
        assert_eq!(hit.fixed_on_branch.as_deref(), Some("3.10.15"));
        assert!(
            hit.why.contains("3.10.5+ is a build from the branch after 3.10.5: matched as 3.10.5, uncertain"),
            "{}",
            hit.why
        );
        let hit = db.affecting("3.12.3+deb12u1").into_iter().find(|h| h.advisory.id == "CVE-2024-4032").unwrap();
        assert!(hit.uncertain && hit.why.contains("vendor or local build"), "{}", hit.why);
        // After the fix, a branch build is not affected either.
        assert!(db.affecting("3.12.6+").iter().all(|h| h.advisory.id != "CVE-2024-7592"));
        assert!(db.affecting("3.12.6+").iter().all(|h| h.uncertain));
    }

    #[test]
    fn aliases_summary_and_severity_come_from_the_cna_and_the_psf() {
        let db = real_db();
        let get = |id: &str| db.advisories.iter().find(|a| a.id == id).unwrap();
        assert_eq!(get("CVE-2024-7592").aliases, ["PSF-2024-9"]);
        assert_eq!(get("CVE-2024-6232").aliases, ["PSF-2024-11"]);
        assert_eq!(get("CVE-2024-8088").aliases, ["PSF-2024-10"]);
        // PSF-2023-1 aliases CVE-2023-24329, a MITRE record without CPython version data.
        assert!(
            db.advisories.iter().all(|a| a.id != "CVE-2023-24329" && !a.aliases.contains(&"PSF-2023-1".to_owned()))
        );
        assert_eq!(get("CVE-2024-7592").summary, "Quadratic complexity parsing cookies with backslashes");
        // CVSS 3.1 of the CNA, scored: critical -> error.
        let s = get("CVE-2025-4517").severity.clone().unwrap();
        assert_eq!(
            (s.cvss_version.as_deref(), s.score, s.label.as_deref()),
            (Some("3.1"), Some(9.4), Some("CRITICAL"))
        );
        assert_eq!(get("CVE-2025-4517").finding_severity(), Some(Severity::Error));
        // CVSS 4.0 with supplemental metrics, scored.
        let s = get("CVE-2024-8088").severity.clone().unwrap();
        assert_eq!((s.cvss_version.as_deref(), s.score, s.label.as_deref()), (Some("4.0"), Some(8.7), Some("HIGH")));
        assert_eq!(s.cna_text.as_deref(), Some("HIGH"));
        // No CNA metrics: the description's level (the ADP's 7.5 HIGH is not the PSF's).
        let s = get("CVE-2024-7592").severity.clone().unwrap();
        assert_eq!(
            (s.cvss_vector, s.score, s.label.as_deref(), s.cna_text.as_deref()),
            (None, None, Some("LOW"), Some("LOW"))
        );
        assert_eq!(get("CVE-2024-7592").finding_severity(), Some(Severity::Info));
        assert_eq!(get("CVE-2024-6232").finding_severity(), Some(Severity::Warning));
        // Neither: no severity.
        assert_eq!(get("CVE-2024-4032").severity, None);
        assert_eq!(get("CVE-2024-4032").finding_severity(), None);
        assert_eq!(get("CVE-2025-4517").modules, ["tarfile"]);
        assert!(
            db.advisories
                .iter()
                .all(|a| a.references.len() <= MAX_REFERENCES && a.default_status.as_deref() == Some("unaffected"))
        );
        assert_eq!(get("CVE-2024-8088").references.len(), MAX_REFERENCES.min(16));
    }

    /// A synthetic CVE record of the PSF with these CNA `affected[]` entries.
    fn synthetic(id: &str, affected: Value) -> String {
        serde_json::json!({
            "dataType": "CVE_RECORD",
            "cveMetadata": {"cveId": id, "state": "PUBLISHED", "assignerShortName": "PSF", "dateUpdated": "2025-01-01T00:00:00Z"},
            "containers": {"cna": {"affected": affected, "descriptions": [{"lang": "en", "value": "Python test record"}]}}
        })
        .to_string()
    }

    fn one(affected: Value) -> (CpythonDb, Vec<Problem>) {
        from_blobs(&[("CVE-2099-0001", &synthetic("CVE-2099-0001", affected))]).unwrap()
    }

    #[test]
    fn default_status_decides_only_for_branches_no_range_names() {
        let affected = serde_json::json!([{"vendor": "Python Software Foundation", "product": "CPython", "defaultStatus": "affected",
            "versions": [{"version": "3.12.0", "lessThan": "3.12.4", "status": "affected", "versionType": "python"},
                         {"version": "3.13.0", "status": "unaffected", "lessThan": "3.13.2", "versionType": "python"}]}]);
        let (db, problems) = one(affected);
        assert!(problems.is_empty(), "{problems:?}");
        let a = &db.advisories[0];
        assert_eq!(
            a.unaffected,
            [Range { introduced: "3.13.0".into(), fixed: Some("3.13.2".into()), last_affected: None }]
        );
        let id = "CVE-2099-0001";
        assert_eq!(judged(&db, id, "3.12.3").as_deref(), Some("3.12.4"));
        assert_eq!(judged(&db, id, "3.12.4"), None, "a range on 3.12 decides 3.12");
        assert_eq!(judged(&db, id, "3.13.1"), None, "an unaffected entry covers it");
        let hit = db.affecting("3.11.2").into_iter().next().unwrap();
        assert!(hit.matched.is_empty());
        assert_eq!(hit.why, "no range for 3.11; defaultStatus affected; no fix released on 3.11 named by the record");
        // The same record with defaultStatus unknown, or none: branches no range names are not affected.
        for status in [Value::from("unknown"), Value::Null] {
            let affected = serde_json::json!([{"vendor": "Python Software Foundation", "product": "cpython", "defaultStatus": status,
                "versions": [{"version": "3.12.0", "lessThan": "3.12.4", "status": "affected", "versionType": "python"}]}]);
            let (db, _) = one(affected);
            assert_eq!(judged(&db, id, "3.11.2"), None);
            assert_eq!(judged(&db, id, "3.12.0").as_deref(), Some("3.12.4"));
        }
    }

    #[test]
    fn less_than_or_equal_single_versions_open_ranges_and_changes() {
        let affected = serde_json::json!([{"vendor": "Python Software Foundation", "product": "CPython", "defaultStatus": "unaffected",
            "versions": [
                {"version": "3.11.0", "lessThanOrEqual": "3.11.5", "status": "affected", "versionType": "python"},
                {"version": "3.10.7", "status": "affected"},
                {"version": "3.14.0a1", "lessThan": "*", "status": "affected", "versionType": "python"},
                {"version": "3.9.0", "lessThan": "3.9.20", "status": "affected", "versionType": "python",
                 "changes": [{"at": "3.9.5", "status": "unaffected"}, {"at": "3.9.10", "status": "affected"}]}]}]);
        let (db, problems) = one(affected);
        assert!(problems.is_empty(), "{problems:?}");
        let a = &db.advisories[0];
        let texts: Vec<String> = a.ranges.iter().map(Range::describe).collect();
        assert_eq!(
            texts,
            ["3.11.0 <= v <= 3.11.5", "v == 3.10.7", "v >= 3.14.0a1", "3.9.0 <= v < 3.9.5", "3.9.10 <= v < 3.9.20"]
        );
        assert_eq!(a.unaffected.iter().map(Range::describe).collect::<Vec<_>>(), ["3.9.5 <= v < 3.9.10"]);
        let id = "CVE-2099-0001";
        for (v, want) in [
            ("3.11.5", Some("")),
            ("3.11.6", None),
            ("3.10.7", Some("")),
            ("3.10.8", None),
            ("3.14.0", Some("")),
            ("3.15.1", Some("")),
            ("3.9.4", Some("3.9.5")),
            ("3.9.5", None),
            ("3.9.9", None),
            ("3.9.10", Some("3.9.20")),
            ("3.9.20", None),
        ] {
            assert_eq!(judged(&db, id, v).as_deref(), want, "{v}");
        }
    }

    /// Every hostile range is a problem naming the record and the entry, and is dropped; the
    /// good ranges of the same record are kept.
    #[test]
    fn hostile_ranges_are_problems_and_dropped() {
        let bad = serde_json::json!([
            {"version": "3.12.0", "lessThan": "3.11.0", "status": "affected", "versionType": "python"},
            {"version": "3.12.0", "lessThan": "3.12.0", "status": "affected", "versionType": "python"},
            {"version": "3.12.0", "lessThanOrEqual": "3.11.9", "status": "affected", "versionType": "python"},
            {"version": "3.12.0", "lessThan": "3.12.4", "status": "affected", "versionType": "semver"},
            {"version": "3.12.0", "lessThan": "3.12.4", "status": "affected", "versionType": "git"},
            {"version": "abc", "lessThan": "3.12.4", "status": "affected", "versionType": "python"},
            {"version": "3.12.0", "lessThan": "3.12.4", "status": "broken", "versionType": "python"},
            {"lessThan": "3.12.4", "status": "affected", "versionType": "python"},
            {"version": "3.12.0", "lessThan": "3.12.4", "versionType": "python"},
            {"version": 3.12, "lessThan": "3.12.4", "status": "affected"},
            {"version": "3.12.0", "lessThan": "3.12.4", "lessThanOrEqual": "3.12.3", "status": "affected"},
            {"version": "3.12.0", "lessThan": "3.12.4", "status": "affected", "changes": [{"at": "3.13.0", "status": "unaffected"}]},
            {"version": "3".repeat(100), "lessThan": "3.12.4", "status": "affected"},
            "3.12.0",
            {"version": "3.12.0", "status": "unknown"},
            {"version": "3.10.0", "lessThan": "3.10.3", "status": "affected", "versionType": "python"}
        ]);
        let (db, problems) =
            one(serde_json::json!([{"vendor": "Python Software Foundation", "product": "CPython", "versions": bad}]));
        let texts: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 14, "{texts:#?}");
        assert!(
            problems
                .iter()
                .all(|p| p.file == "mem/CVE-2099-0001.json" && p.message.starts_with("CVE-2099-0001 versions[")),
            "{texts:#?}"
        );
        for needle in [
            "inverted or empty range",
            "inverted range",
            "versionType \"semver\"",
            "versionType \"git\"",
            "not a PEP 440",
            "unknown status",
            "no version",
            "no status",
            "not a string",
            "both lessThan",
            "outside the range",
            "too long",
            "not an object",
        ] {
            assert!(texts.iter().any(|t| t.contains(needle)), "{needle}: {texts:#?}");
        }
        assert_eq!(
            db.advisories[0].ranges,
            [Range { introduced: "3.10.0".into(), fixed: Some("3.10.3".into()), last_affected: None }]
        );
    }

    #[test]
    fn only_cpython_records_of_the_psf_are_kept() {
        let rec = |id: &str, assigner: &str, vendor: &str, product: &str, state: &str| {
            serde_json::json!({
                "cveMetadata": {"cveId": id, "state": state, "assignerShortName": assigner},
                "containers": {"cna": {"affected": [{"vendor": vendor, "product": product,
                    "versions": [{"version": "0", "lessThan": "3.12.1", "status": "affected", "versionType": "python"}]}]}}
            })
            .to_string()
        };
        let blobs = [
            ("CVE-2099-0001", rec("CVE-2099-0001", "PSF", "Python Software Foundation", "CPython", "PUBLISHED")),
            ("CVE-2099-0002", rec("CVE-2099-0002", "psf", "anyone", "CPYTHON", "PUBLISHED")),
            ("CVE-2099-0003", rec("CVE-2099-0003", "redhat", "Python Software Foundation", "cpython", "PUBLISHED")),
            ("CVE-2099-0004", rec("CVE-2099-0004", "redhat", "Red Hat", "cpython", "PUBLISHED")),
            ("CVE-2099-0005", rec("CVE-2099-0005", "PSF", "Python Software Foundation", "pip", "PUBLISHED")),
            ("CVE-2099-0006", rec("CVE-2099-0006", "PSF", "Python Software Foundation", "CPython", "REJECTED")),
            ("CVE-2099-0007", rec("not-an-id", "PSF", "Python Software Foundation", "CPython", "PUBLISHED")),
            ("CVE-2099-0008", "{\"cveMetadata\": python".to_owned()),
            // Not about Python at all: not even parsed (most of cvelistV5).
            ("CVE-2099-0011", "{\"cveMetadata\": ".to_owned()),
            ("CVE-2099-0009", "[1, 2, 3] python".to_owned()),
            // Escaped: parsed even though no literal "python" is in it.
            (
                "CVE-2099-0010",
                rec("CVE-2099-0010", "PSF", "Python Software Foundation", "CPython", "PUBLISHED")
                    .replace("Python", "\\u0050ython")
                    .replace("CPython", "C\\u0050ython"),
            ),
        ];
        let refs: Vec<(&str, &str)> = blobs.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let (db, problems) = from_blobs(&refs).unwrap();
        let ids: Vec<&str> = db.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2099-0001", "CVE-2099-0002", "CVE-2099-0003", "CVE-2099-0010"]);
        let files: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(
            files,
            ["mem/CVE-2099-0007.json", "mem/CVE-2099-0008.json", "mem/CVE-2099-0009.json"],
            "{problems:?}"
        );
        // Nothing at all: an error that still carries the problems.
        match from_blobs(&[("CVE-2099-0008", "{ python")]) {
            Err(Error::NoRecords { problems, .. }) => assert_eq!(problems.len(), 2, "{problems:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn write_then_load_round_trips_and_load_checks_the_format() {
        let db = real_db();
        let dir = std::env::temp_dir().join(format!("venvaudit-cpython-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("CPython.json");
        db.write(&path).unwrap();
        assert_eq!(load(&path).unwrap(), db);
        let names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["CPython.json"], "no temporary file is left");
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(value["format"], FORMAT);
        assert_eq!(value["format_version"], 1);
        let cases = [
            ("{\"format\": \"other\", \"format_version\": 1}", "its format is"),
            (
                "{\"format\": \"venvaudit-cpython-advisories\", \"format_version\": 2}",
                "format_version Some(2) is not supported",
            ),
            ("{\"format\": \"venvaudit-cpython-advisories\"}", "format_version None"),
            (
                "{\"format\": \"venvaudit-cpython-advisories\", \"format_version\": 1, \"advisories\": 3}",
                "invalid type",
            ),
            ("not json", "not JSON"),
        ];
        for (text, needle) in cases {
            std::fs::write(&path, text).unwrap();
            let err = load(&path).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
        // A file that is no file, and one that is not there.
        assert!(matches!(load(&dir), Err(Error::NotAnInput(_))));
        assert!(matches!(load(&dir.join("missing.json")), Err(Error::Open { .. })));
        // The write fails cleanly into a directory that does not exist.
        assert!(matches!(db.write(&dir.join("no/such/CPython.json")), Err(Error::Write { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A loaded file whose ranges were edited by hand: a bound that is not PEP 440 makes its
    /// range match nothing, never a panic.
    #[test]
    fn bad_bounds_in_a_loaded_file_match_nothing() {
        let mut db = real_db();
        for a in &mut db.advisories {
            for r in &mut a.ranges {
                r.fixed = Some("not a version".into());
            }
        }
        assert!(db.affecting("3.12.0").is_empty());
        assert!(db.affecting(&"9".repeat(10_000)).is_empty());
    }

    /// A zip in memory with these entries (deflated).
    fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn read_zip_bytes(c: &mut Collector, bytes: Vec<u8>) {
        c.inputs.push(InputStats { path: "t.zip".into(), ..InputStats::default() });
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        c.read_zip(&mut archive, "t.zip", 0, 1);
    }

    /// The global bounds stop the read with one problem; what was read before is kept.
    #[test]
    fn entry_and_inflation_bounds_stop_the_read() {
        let rec = |i: usize| {
            let id = format!("CVE-2099-{:04}", i + 1);
            (format!("cves/2099/{id}.json"), synthetic(&id, serde_json::json!([{"vendor": "Python Software Foundation", "product": "CPython",
                "versions": [{"version": "3.12.0", "lessThan": "3.12.4", "status": "affected", "versionType": "python"}]}])).into_bytes())
        };
        let recs: Vec<(String, Vec<u8>)> = (0..10).map(rec).collect();
        let entries: Vec<(&str, Vec<u8>)> = recs.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        let zip = zip_of(&entries);
        let mut c = Collector::new();
        c.max_entries = 4;
        read_zip_bytes(&mut c, zip.clone());
        let (db, problems) = c.finish().unwrap();
        assert_eq!(db.advisories.len(), 4);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("more than 4 entries") && problems[0].file.ends_with("CVE-2099-0005.json"),
            "{problems:?}"
        );
        let one = recs[0].1.len() as u64;
        let mut c = Collector::new();
        c.max_inflated = one * 3 + one / 2;
        read_zip_bytes(&mut c, zip);
        let (db, problems) = c.finish().unwrap();
        assert_eq!(db.advisories.len(), 3);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("inflate to more than"), "{problems:?}");
    }

    /// A record that inflates past 4 MiB (whatever the zip declares) is a problem; a zip in a
    /// zip is read, one more level is not.
    #[test]
    fn oversized_entries_and_deep_nesting_are_problems() {
        let record = RECORDS[4].1.as_bytes().to_vec();
        let mut huge = b"{\"python\": \"".to_vec();
        huge.extend(std::iter::repeat_n(b' ', (MAX_RECORD_BYTES + 10) as usize));
        let inner = zip_of(&[("cves/2024/7xxx/CVE-2024-7592.json", record.clone())]);
        let middle = zip_of(&[("deeper/cves.zip", inner.clone())]);
        let outer = zip_of(&[
            ("cves.zip", inner),
            ("nested/middle.zip", middle),
            ("cves/2099/CVE-2099-0001.json", huge),
            ("cves/README.md", b"not a record".to_vec()),
        ]);
        let mut c = Collector::new();
        read_zip_bytes(&mut c, outer);
        let (db, problems) = c.finish().unwrap();
        assert_eq!(db.advisories.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["CVE-2024-7592"]);
        let texts: Vec<String> = problems.iter().map(Problem::to_string).collect();
        assert_eq!(texts.len(), 2, "{texts:#?}");
        assert!(
            texts.contains(
                &"t.zip!nested/middle.zip!deeper/cves.zip: a zip nested more than 2 deep; not read".to_owned()
            ),
            "{texts:#?}"
        );
        assert!(
            texts.contains(&"t.zip!cves/2099/CVE-2099-0001.json: larger than 4194304 bytes; not read".to_owned()),
            "{texts:#?}"
        );
    }

    /// Random version strings and random `versions[]` entries never panic, whatever they hold.
    #[test]
    fn random_inputs_never_panic() {
        let seed = std::cell::Cell::new(0x9e37_79b9_7f4a_7c15_u64);
        let next = || {
            let mut x = seed.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            seed.set(x);
            x
        };
        let alphabet: Vec<char> = "0123456789.+-*abrcdevpostlocal!_ \u{e9}\u{0}x".chars().collect();
        let word =
            |n: u64| -> String { (0..n % 14).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect() };
        let db = real_db();
        for _ in 0..3000 {
            let w = word(next());
            let _ = db.affecting(&w);
            let less_eq = if next() % 3 == 0 { Value::from(word(next())) } else { Value::Null };
            let status = ["affected", "unaffected", "unknown", "x"][(next() % 4) as usize];
            let kind = ["python", "semver", ""][(next() % 3) as usize];
            let entry = serde_json::json!({"version": word(next()), "lessThan": word(next()), "lessThanOrEqual": less_eq,
                "status": status, "versionType": kind, "changes": [{"at": word(next()), "status": "unaffected"}]});
            if let Ok(Some((a, u))) = version_entry(&entry) {
                let adv = Advisory { ranges: a, unaffected: u, ..db.advisories[0].clone() };
                let one = CpythonDb { sources: vec![], advisories: vec![adv], generated_at: String::new() };
                let _ = one.affecting(&word(next()));
                let _ = one.affecting("3.12.5");
            }
        }
    }
}
