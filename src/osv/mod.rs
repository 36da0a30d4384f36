//! Offline OSV vulnerability database: load a directory of OSV JSON records or a zip laid
//! out like osv.dev's `PyPI/all.zip`, index it by PEP 503 name, and answer which advisories
//! affect an installed version.
//!
//! Matching follows the OSV schema's evaluation algorithm with PEP 440 ordering; versions
//! are compared against range events directly, never through PEP 440 specifiers (under
//! `fixed: 2.7.2` the pre-release `2.7.2rc1` is affected, yet `<2.7.2` would exclude it).

pub mod cpython;
pub mod cvss;
pub mod load;
pub mod matching;

use crate::report::Severity;
use pep440_rs::Version;
use serde_json::json;
use std::collections::HashMap;

pub use load::load;
pub use matching::affecting;

/// One advisory, reduced to what findings report.
#[derive(Debug, Clone)]
pub struct Advisory {
    /// `PYSEC-2021-9`, `GHSA-...`.
    pub id: String,
    /// Other ids of the same vulnerability (CVE, GHSA, PYSEC).
    pub aliases: Vec<String>,
    /// `summary`, else the first line of `details` (shortened).
    pub summary: String,
    /// RFC 3339 publication time.
    pub published: Option<String>,
    /// RFC 3339 modification time.
    pub modified: Option<String>,
    /// Severity the advisory itself states (see [`cvss::rate`]).
    pub rating: Option<Rating>,
}

/// A severity an advisory states, mapped to a finding severity.
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    /// Finding severity: critical/high -> error, medium/moderate -> warning, low -> info.
    pub severity: Severity,
    /// How the advisory states it.
    pub method: RatingMethod,
    /// The CVSS base score; `None` for a label.
    pub score: Option<f64>,
    /// The qualitative label, upper case: `CRITICAL`, `HIGH`, `MEDIUM`/`MODERATE`, `LOW`, `NONE`.
    pub label: String,
}

/// Where an advisory's severity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingMethod {
    /// GHSA's `database_specific.severity` label.
    DatabaseLabel,
    /// A CVSS v2 vector.
    CvssV2,
    /// A CVSS v3.0/v3.1 vector.
    CvssV3,
    /// A CVSS v4.0 vector.
    CvssV4,
}

impl RatingMethod {
    /// The name used in `severity_source` (the OSV `severity[].type`, or the label's field).
    pub fn as_str(self) -> &'static str {
        match self {
            RatingMethod::DatabaseLabel => "database_specific.severity",
            RatingMethod::CvssV2 => "CVSS_V2",
            RatingMethod::CvssV3 => "CVSS_V3",
            RatingMethod::CvssV4 => "CVSS_V4",
        }
    }
}

impl Rating {
    /// The `severity_source` detail: `CVSS_V3 9.8 CRITICAL`, `database_specific.severity HIGH`.
    pub fn source(&self) -> String {
        match self.score {
            Some(s) => format!("{} {s:.1} {}", self.method.as_str(), self.label),
            None => format!("{} {}", self.method.as_str(), self.label),
        }
    }
}

/// A range event kind, in the order used to break ties between equal versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventKind {
    /// The vulnerability starts at this version.
    Introduced,
    /// This version no longer has it.
    Fixed,
    /// The last version that has it.
    LastAffected,
    /// Versions at or above are outside the range.
    Limit,
}

/// A position on the PEP 440 line: `"0"` (before everything), a version, `"*"` (after all).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bound {
    /// `introduced: "0"`.
    Zero,
    /// A valid PEP 440 version.
    At(Version),
    /// `limit: "*"`.
    Infinity,
}

/// One event of an ECOSYSTEM range.
#[derive(Debug, Clone)]
pub struct Event {
    /// What happens at `at`.
    pub kind: EventKind,
    /// Where.
    pub at: Bound,
}

/// One `affected[]` entry for a PyPI package.
#[derive(Debug, Clone)]
pub struct Affected {
    /// Index of the advisory in [`Database::advisories`].
    pub advisory: usize,
    /// ECOSYSTEM ranges, each with its events sorted; invalid PEP 440 values dropped.
    pub ranges: Vec<Vec<Event>>,
    /// The explicit `versions[]`, verbatim, one per line (compared with PEP 440 equality at
    /// match time).
    pub versions: String,
    /// `fixed` values of the ranges, verbatim, for remediation.
    pub fixed: Vec<String>,
    /// Severity stated for this package only (`affected[].severity`/`database_specific`).
    pub rating: Option<Rating>,
}

/// A loaded database.
#[derive(Debug, Default)]
pub struct Database {
    /// The path given.
    pub path: String,
    /// `directory` or `zip`.
    pub format: &'static str,
    /// Every advisory that is not withdrawn.
    pub advisories: Vec<Advisory>,
    /// PEP 503 name -> affected entries.
    pub index: HashMap<String, Vec<Affected>>,
    /// Records skipped as withdrawn.
    pub withdrawn: usize,
    /// Files that could not be read or parsed: (file, message).
    pub skipped: Vec<(String, String)>,
    /// Range event values that are not PEP 440 and were dropped (`versions[]` values that
    /// are not PEP 440 are skipped at match time).
    pub invalid_versions: usize,
    /// Newest `modified` over all advisories.
    pub newest_modified: Option<String>,
    /// Wall time of the load, milliseconds.
    pub load_ms: f64,
}

impl Database {
    /// The report's `osv_db` object.
    pub fn describe(&self) -> crate::report::OsvDbInfo {
        crate::report::OsvDbInfo {
            path: self.path.clone(),
            format: self.format.to_owned(),
            advisories: self.advisories.len(),
            packages: self.index.len(),
            newest_modified: self.newest_modified.clone(),
            withdrawn_skipped: self.withdrawn,
            invalid_event_versions_skipped: self.invalid_versions,
            load_ms: (self.load_ms * 10.0).round() / 10.0,
            unreadable: (!self.skipped.is_empty()).then_some(self.skipped.len()),
            unreadable_sample: (!self.skipped.is_empty())
                .then(|| self.skipped.iter().take(10).map(|(f, m)| json!({"file": f, "message": m})).collect()),
        }
    }
}

/// Where the database is looked for when the request names none: installed by the Ansible
/// role / Salt state (docs), or by hand. Read on the scanning host, also under `--root`: the
/// database is the tool's, not the scanned system's.
pub const DEFAULT_DB: &str = "/var/lib/venvaudit/osv/PyPI.zip";
/// Environment variable naming the database when the request does not.
pub const DB_ENV: &str = "VENVAUDIT_OSV_DB";
/// Default for "too old": osv.dev exports daily.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 7;

/// No database where one was looked for: vulnerabilities are then not checked, with a warning
/// (and with `require_osv_db` a failed gate) naming the place.
#[derive(Debug, thiserror::Error)]
#[error("no OSV database at {looked}")]
pub struct NoDatabase {
    /// Where it was looked for: [`DB_ENV`]'s value, else [`DEFAULT_DB`].
    pub looked: String,
}

/// Where the database of a request is: named by the request (which must then exist, as the
/// loader reports), else by [`DB_ENV`], else [`DEFAULT_DB`].
pub fn locate(requested: Option<&str>) -> Result<String, NoDatabase> {
    if let Some(p) = requested {
        return Ok(p.to_owned());
    }
    let candidate = std::env::var(DB_ENV).ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| DEFAULT_DB.into());
    if std::path::Path::new(&candidate).exists() { Ok(candidate) } else { Err(NoDatabase { looked: candidate }) }
}
