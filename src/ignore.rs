//! The ignore policy: accepted findings, from the request's `ignore` entries and an
//! `--ignore-file` (TOML `[[ignore]]` tables or JSON `{"ignore": [...]}`).
//!
//! An entry matches a finding when every key it gives matches: `id` (finding id), `advisory`
//! (the advisory id or any alias), `package` (PEP 503-normalised), `venv` (exact path or
//! glob). Matched findings are kept and marked `ignored`, so they stay visible but do not
//! count for `--fail-on`. An entry past its `until` day stops applying and yields an
//! `ignore-expired` warning, so accepted risks get revisited.

use crate::inspect::packages::normalize_name;
use crate::report::FindingId;
use crate::report::{Finding, Severity};
use crate::request::{IgnoreEntry, Request};
use crate::time::Date;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Why an ignore policy was refused: a gate never runs with half its policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// An entry of the request's `ignore` list (numbered from 1).
    #[error("invalid ignore entry #{index}: {problem}")]
    RequestEntry {
        /// Its position, from 1.
        index: usize,
        /// What is wrong with it.
        problem: EntryProblem,
    },
    /// An entry of the ignore file (numbered from 1).
    #[error("ignore file {file}: invalid entry #{index}: {problem}")]
    FileEntry {
        /// The file as given.
        file: String,
        /// Its position, from 1.
        index: usize,
        /// What is wrong with it.
        problem: EntryProblem,
    },
    /// The file could not be read (or is over the size limit).
    #[error("cannot read ignore file {}: {cause}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// The file is not UTF-8.
    #[error("ignore file {} is not UTF-8", .0.display())]
    NotUtf8(PathBuf),
    /// The file is not valid JSON.
    #[error("ignore file {} is not valid JSON: {cause}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        cause: serde_json::Error,
    },
    /// The file is not valid TOML.
    #[error("ignore file {} is not valid TOML: {cause}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        cause: toml::de::Error,
    },
    /// The file parses but does not have the policy's shape (an unknown key, a wrong type).
    #[error("ignore file {}: {message} at {at}", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
        /// Where (`ignore[2].until`).
        at: String,
    },
}

/// What is wrong with one ignore entry.
#[derive(Debug, thiserror::Error)]
pub enum EntryProblem {
    /// An accepted risk must say why.
    #[error("`reason` is required and must not be empty")]
    NoReason,
    /// An entry that selects nothing would ignore everything.
    #[error("an entry needs at least one of `id`, `advisory`, `package`, `venv`")]
    NoSelector,
    /// `until` is not a day.
    #[error("`until` must be a date YYYY-MM-DD, got {0:?}")]
    BadUntil(String),
    /// `venv` is not a glob.
    #[error("invalid `venv` glob {glob:?}: {cause}")]
    BadGlob {
        /// The pattern.
        glob: String,
        /// The glob compiler's error.
        cause: globset::Error,
    },
}

/// Largest ignore file read.
const MAX_FILE: u64 = 16 << 20;

/// One validated entry.
#[derive(Debug)]
struct Rule {
    entry: IgnoreEntry,
    source: String,
    venv_glob: Option<globset::GlobMatcher>,
    until: Option<Date>,
}

/// A loaded, validated policy.
#[derive(Debug, Default)]
pub struct Policy {
    rules: Vec<Rule>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    ignore: Vec<IgnoreEntry>,
}

impl Policy {
    /// Load the request's entries and its ignore file; any invalid entry is an error naming it.
    pub fn load(req: &Request) -> Result<Policy, PolicyError> {
        let mut rules = Vec::new();
        for (i, e) in req.ignore.iter().enumerate() {
            rules.push(
                Rule::new(e.clone(), "request".into())
                    .map_err(|problem| PolicyError::RequestEntry { index: i + 1, problem })?,
            );
        }
        if let Some(f) = &req.ignore_file {
            for (i, e) in read_file(Path::new(f))?.into_iter().enumerate() {
                rules.push(Rule::new(e, f.clone()).map_err(|problem| PolicyError::FileEntry {
                    file: f.clone(),
                    index: i + 1,
                    problem,
                })?);
            }
        }
        Ok(Policy { rules })
    }

    /// Mark matching findings ignored and append one `ignore-expired` warning per expired entry.
    pub fn apply(&self, findings: &mut Vec<Finding>, today: Date) {
        let mut expired = Vec::new();
        for r in &self.rules {
            if r.until.is_some_and(|u| u < today) {
                let would = findings.iter().filter(|f| f.ignored.is_none() && r.matches(f)).count();
                expired.push((r, would));
                continue;
            }
            for f in findings.iter_mut().filter(|f| f.ignored.is_none()) {
                if r.matches(f) {
                    f.ignored = Some(crate::report::Ignored {
                        reason: r.entry.reason.clone(),
                        until: r.entry.until.clone(),
                        source: r.source.clone(),
                    });
                }
            }
        }
        for (r, would) in expired {
            let until = r.entry.until.clone().unwrap_or_default();
            let mut f = Finding::new(
                FindingId::IgnoreExpired,
                Severity::Warning,
                None,
                format!(
                    "ignore entry from {} expired on {until} ({}); it no longer silences {would} finding(s)",
                    r.source, r.entry.reason
                ),
                "Fix the findings it covered, or review the accepted risk and extend `until`",
            )
            .detail("entry", serde_json::to_value(&r.entry).unwrap_or(Value::Null))
            .detail("source", r.source.as_str())
            .detail("until", until.as_str())
            .detail("would_match", would);
            if let Some(p) = &r.entry.package {
                f = f.with_package(p);
            }
            findings.push(f);
        }
    }
}

impl Rule {
    fn new(mut entry: IgnoreEntry, source: String) -> Result<Rule, EntryProblem> {
        if entry.reason.trim().is_empty() {
            return Err(EntryProblem::NoReason);
        }
        if entry.id.is_none() && entry.advisory.is_none() && entry.package.is_none() && entry.venv.is_none() {
            return Err(EntryProblem::NoSelector);
        }
        let until = match &entry.until {
            None => None,
            Some(u) => Some(crate::time::parse_date(u).ok_or_else(|| EntryProblem::BadUntil(u.clone()))?),
        };
        let venv_glob = match &mut entry.venv {
            None => None,
            Some(v) => {
                if v.len() > 1 {
                    *v = v.trim_end_matches('/').to_owned();
                }
                let g = globset::GlobBuilder::new(v)
                    .literal_separator(true)
                    .build()
                    .map_err(|cause| EntryProblem::BadGlob { glob: v.clone(), cause })?;
                Some(g.compile_matcher())
            }
        };
        Ok(Rule { entry, source, venv_glob, until })
    }

    fn matches(&self, f: &Finding) -> bool {
        let e = &self.entry;
        if e.id.is_some_and(|id| id != f.id) {
            return false;
        }
        if let Some(a) = &e.advisory {
            let ids = f
                .details
                .get("advisory")
                .into_iter()
                .chain(f.details.get("aliases").and_then(Value::as_array).into_iter().flatten());
            if !ids.filter_map(Value::as_str).any(|x| x.eq_ignore_ascii_case(a.trim())) {
                return false;
            }
        }
        if let Some(p) = &e.package
            && f.package.as_deref().map(normalize_name) != Some(normalize_name(p))
        {
            return false;
        }
        if let Some(v) = &e.venv {
            let Some(fv) = f.venv.as_deref() else { return false };
            if fv != v && !self.venv_glob.as_ref().is_some_and(|g| g.is_match(fv)) {
                return false;
            }
        }
        true
    }
}

/// Read an ignore file: JSON when it is `.json` or parses as JSON, else TOML.
fn read_file(path: &Path) -> Result<Vec<IgnoreEntry>, PolicyError> {
    let bytes = crate::host::paths::read_bounded(path, MAX_FILE)
        .map_err(|cause| PolicyError::Read { path: path.to_path_buf(), cause })?;
    let text = String::from_utf8(bytes).map_err(|_| PolicyError::NotUtf8(path.to_path_buf()))?;
    let is_json = path.extension().is_some_and(|e| e == "json")
        || (path.extension().is_none_or(|e| e != "toml") && text.trim_start().starts_with('{'));
    let value: Value = if is_json {
        serde_json::from_str(&text).map_err(|cause| PolicyError::Json { path: path.to_path_buf(), cause })?
    } else {
        let t: toml::Table =
            toml::from_str(&text).map_err(|cause| PolicyError::Toml { path: path.to_path_buf(), cause })?;
        toml_to_json(toml::Value::Table(t))
    };
    let file: File = serde_path_to_error::deserialize(value).map_err(|e| PolicyError::Shape {
        path: path.to_path_buf(),
        message: e.inner().to_string(),
        at: e.path().to_string(),
    })?;
    Ok(file.ignore)
}

/// TOML to JSON; TOML dates (`until = 2025-06-30`) become their text.
fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: FindingId, venv: &str, pkg: &str, advisory: Option<(&str, &[&str])>) -> Finding {
        let mut f = Finding::new(id, Severity::Error, Some(venv), "m".into(), "r").with_package(pkg);
        if let Some((a, al)) = advisory {
            f = f.detail("advisory", a).detail("aliases", json!(al));
        }
        f
    }

    fn entry(v: Value) -> IgnoreEntry {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn matching_and_expiry() {
        let req = Request {
            ignore: vec![
                entry(
                    json!({"advisory": "cve-2021-1", "package": "PYYAML", "venv": "/srv/*/venv", "reason": "not reachable", "until": "2030-01-01"}),
                ),
                entry(json!({"id": "dependency-conflict", "reason": "old", "until": "2020-01-01"})),
            ],
            ..Request::default()
        };
        let p = Policy::load(&req).unwrap();
        let mut fs = vec![
            finding(FindingId::Vulnerability, "/srv/app/venv", "PyYAML", Some(("PYSEC-1", &["CVE-2021-1"]))),
            finding(FindingId::Vulnerability, "/srv/app/sub/venv", "PyYAML", Some(("PYSEC-1", &["CVE-2021-1"]))),
            finding(FindingId::Vulnerability, "/srv/app/venv", "PyYAML", Some(("PYSEC-2", &["CVE-2021-2"]))),
            finding(FindingId::DependencyConflict, "/srv/app/venv", "x", None),
        ];
        p.apply(&mut fs, jiff::civil::date(2025, 6, 1));
        assert!(fs[0].ignored.is_some());
        assert!(fs[1].ignored.is_none(), "* does not cross /");
        assert!(fs[2].ignored.is_none());
        assert!(fs[3].ignored.is_none(), "expired entries stop applying");
        assert_eq!(fs[4].id, FindingId::IgnoreExpired);
        assert_eq!(fs[4].details["would_match"], json!(1));
        // `until` is the last day the entry applies.
        let mut fs =
            vec![finding(FindingId::Vulnerability, "/srv/app/venv", "PyYAML", Some(("PYSEC-1", &["CVE-2021-1"])))];
        p.apply(&mut fs, jiff::civil::date(2030, 1, 1));
        assert!(fs[0].ignored.is_some());
    }

    #[test]
    fn invalid_entries_are_named() {
        let bad =
            |v: Value| Policy::load(&Request { ignore: vec![entry(v)], ..Request::default() }).unwrap_err().to_string();
        assert!(bad(json!({"reason": "x"})).contains("#1"));
        assert!(
            format!(
                "{:#}",
                Policy::load(&Request {
                    ignore: vec![entry(json!({"id": "unused", "reason": " "}))],
                    ..Request::default()
                })
                .unwrap_err()
            )
            .contains("reason")
        );
        assert!(
            format!(
                "{:#}",
                Policy::load(&Request {
                    ignore: vec![entry(json!({"package": "x", "reason": "r", "until": "2024-02-30"}))],
                    ..Request::default()
                })
                .unwrap_err()
            )
            .contains("until")
        );
    }

    #[test]
    fn toml_and_json_files() {
        let dir = std::env::temp_dir().join(format!("venvaudit-ignore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = dir.join("p.toml");
        std::fs::write(&t, "[[ignore]]\npackage = \"django\"\nreason = \"r\"\nuntil = 2030-01-31\n").unwrap();
        let e = read_file(&t).unwrap();
        assert_eq!(e[0].until.as_deref(), Some("2030-01-31"));
        let j = dir.join("p.json");
        std::fs::write(&j, r#"{"ignore": [{"id": "vulnerability", "reason": "r"}]}"#).unwrap();
        assert_eq!(read_file(&j).unwrap()[0].id, Some(FindingId::Vulnerability));
        std::fs::write(&j, r#"{"ignore": [{"idd": "vulnerability", "reason": "r"}]}"#).unwrap();
        assert!(read_file(&j).unwrap_err().to_string().contains("idd"));
        // An id that does not exist (the old example's `eol-python`) is refused by name.
        std::fs::write(&j, r#"{"ignore": [{"id": "eol-python", "reason": "r"}]}"#).unwrap();
        let e = format!("{:#}", read_file(&j).unwrap_err());
        assert!(e.contains("eol-python") && e.contains("interpreter-eol"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
