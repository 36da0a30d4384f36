//! `lock-drift`: is an installed environment still what its lock says (`check --lock FILE`)?
//!
//! The lock's entries for the environment's own interpreter (markers and, for uv.lock, the
//! dependency graph evaluated as for `check-artifact`) are compared with the installed
//! distributions (system site-packages and the installer's own tools left out): what is
//! missing, extra, at another version, or installed from another source than the lock names
//! (PEP 610 `direct_url.json` against the lock's `vcs`/`directory`/`archive` source, or an
//! index install where the lock names a direct source). With `--verify`, the files changed
//! since install (RECORD) are listed too.
//!
//! What a lock's hash proves: it is the hash of the archive that was downloaded, not of the
//! installed files. A venv installed from the right wheel and edited afterwards matches its
//! lock by name and version; only `--verify` (RECORD) sees the edit, and RECORD lives in the
//! venv it describes, so it shows accidents, not an attacker who rewrites both.

use crate::inspect::Inspected;
use crate::inspect::packages::normalize_name;
use crate::parse::lock::LockedPackage;
use crate::report::{Finding, FindingId, Package, Severity};
use pep440_rs::Version;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// Installed tools that no lock lists and that are never drift.
const INSTALLER_TOOLS: &[&str] = &["pip", "setuptools", "wheel", "uv", "distribute"];

/// The source an installed distribution came from, as its `direct_url.json` says: `vcs`,
/// `directory` (editable or not), `archive`; `None` for an index install.
fn installed_source(p: &Package) -> Option<String> {
    let d = p.direct_url.as_ref()?;
    if d.get("vcs_info").is_some() {
        Some("vcs".into())
    } else if d.get("dir_info").is_some() {
        Some("directory".into())
    } else if d.get("archive_info").is_some() {
        Some("archive".into())
    } else {
        None
    }
}

/// Compare one environment with the lock's entries for its interpreter. `modified`: the
/// distributions whose installed files differ from RECORD (`--verify`), with some files.
pub fn check(
    v: &Inspected,
    lock: &str,
    entries: &[LockedPackage],
    modified: &BTreeMap<String, Vec<String>>,
) -> Vec<Finding> {
    let installed: HashMap<String, &Package> =
        v.venv.packages.iter().flatten().filter(|p| !p.system).map(|p| (p.normalized_name.clone(), p)).collect();
    let mut missing = Vec::new();
    let mut version = Vec::new();
    let mut source = Vec::new();
    let mut locked_names = std::collections::HashSet::new();
    for e in entries {
        locked_names.insert(e.normalized.clone());
        // The project itself (uv's virtual/editable members) is not a distribution to compare.
        if let Some((kind, _)) = &e.source
            && matches!(kind.as_str(), "virtual")
        {
            continue;
        }
        let Some(p) = installed.get(&e.normalized) else {
            missing.push(json!({"name": e.name, "locked": e.version}));
            continue;
        };
        if let Some(want) = &e.version {
            let same = match (Version::from_str(want), Version::from_str(&p.version)) {
                (Ok(a), Ok(b)) => a == b,
                _ => want == &p.version,
            };
            if !same {
                version.push(json!({"name": p.name, "locked": want, "installed": p.version}));
            }
        }
        let locked_kind = e.source.as_ref().map(|(k, _)| match k.as_str() {
            "editable" => "directory".to_owned(),
            "git" => "vcs".to_owned(),
            "url" => "archive".to_owned(),
            other => other.to_owned(),
        });
        let have = installed_source(p);
        if locked_kind != have {
            source.push(json!({
                "name": p.name,
                "locked": locked_kind.clone().unwrap_or_else(|| "index".into()),
                "installed": have.clone().unwrap_or_else(|| "index".into()),
            }));
        }
    }
    let mut extra: Vec<_> = installed
        .values()
        .filter(|p| {
            !locked_names.contains(&p.normalized_name) && !INSTALLER_TOOLS.contains(&p.normalized_name.as_str())
        })
        .map(|p| json!({"name": p.name, "installed": p.version}))
        .collect();
    extra.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let changed: Vec<_> = modified.iter().map(|(name, files)| json!({"name": name, "files": files})).collect();
    if missing.is_empty() && version.is_empty() && source.is_empty() && extra.is_empty() && changed.is_empty() {
        return Vec::new();
    }
    let error = !missing.is_empty() || !version.is_empty() || !source.is_empty() || !changed.is_empty();
    let mut parts = Vec::new();
    let names = |list: &[serde_json::Value]| {
        let shown: Vec<String> = list.iter().take(5).filter_map(|x| x["name"].as_str().map(str::to_owned)).collect();
        let more = if list.len() > 5 { format!(" and {} more", list.len() - 5) } else { String::new() };
        format!("{}{more}", shown.join(", "))
    };
    for (what, list) in [
        ("missing", &missing),
        ("at another version", &version),
        ("from another source", &source),
        ("not in the lock", &extra),
        ("changed since install", &changed),
    ] {
        if !list.is_empty() {
            parts.push(format!("{} {what} ({})", list.len(), names(list)));
        }
    }
    vec![
        Finding::new(
            FindingId::LockDrift,
            if error { Severity::Error } else { Severity::Warning },
            Some(&v.venv.path),
            format!("{} differs from {lock}: {}", v.venv.path, parts.join("; ")),
            "Re-sync the environment from the lock (`pip install --no-deps --require-hashes -r` the lock's export, or `uv sync --frozen`), or re-lock deliberately",
        )
        .detail("lock", lock)
        .detail("missing", json!(missing))
        .detail("extra", json!(extra))
        .detail("version", json!(version))
        .detail("source", json!(source))
        .detail("modified", json!(changed)),
    ]
}

/// The distributions `--verify` found changed, by venv, from the integrity findings.
pub fn modified_by_venv(findings: &[Finding]) -> HashMap<String, BTreeMap<String, Vec<String>>> {
    let mut out: HashMap<String, BTreeMap<String, Vec<String>>> = HashMap::new();
    for f in findings.iter().filter(|f| f.id == FindingId::RecordMismatch) {
        let (Some(v), Some(p)) = (&f.venv, &f.package) else { continue };
        let files: Vec<String> = f
            .details
            .get("files")
            .and_then(|x| x.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        out.entry(v.clone()).or_default().entry(normalize_name(p)).or_default().extend(files);
    }
    out
}
