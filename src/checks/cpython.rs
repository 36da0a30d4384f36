//! `interpreter-vulnerability`: CVEs of the CPython interpreter an environment runs, from the
//! CPython advisory file (`venvaudit db cpython`, [`crate::osv::cpython`]).
//!
//! The version judged is the base installation's own (build-details.json, patchlevel.h, ...;
//! see [`crate::inspect::interpreter`]), never pyvenv.cfg's. An interpreter the OS package
//! manager owns (dpkg, rpm) is not matched: vendors backport fixes under the upstream version
//! number, so a match would be a false alarm, and their trackers (debsecan, `dnf updateinfo`)
//! cover it. A PPA's interpreter (deadsnakes) is dpkg-owned too, and so is not matched either:
//! a documented limit.

use crate::inspect::Inspected;
use crate::osv::cpython::{CpythonDb, Hit};
use crate::report::{Finding, FindingId, OwnerManager, Python, Severity, major_minor};
use serde_json::json;

/// Whether an OS package manager owns the interpreter (its CVEs are the vendor's to track).
pub fn os_owned(py: &Python) -> bool {
    py.owner.as_ref().is_some_and(|o| matches!(o.manager, OwnerManager::Dpkg | OwnerManager::Rpm))
}

/// The interpreter vulnerabilities of one environment.
pub fn check(db: &CpythonDb, v: &Inspected) -> Vec<Finding> {
    judge(db, &v.venv.python, &v.venv.path, "environment's interpreter")
}

/// The CVEs affecting an interpreter, as findings about `venv` (an environment, or the
/// configuration embedding the interpreter); `what` names the interpreter in messages.
pub fn judge(db: &CpythonDb, py: &Python, venv: &str, what: &str) -> Vec<Finding> {
    let cpython = py.implementation.as_deref().is_none_or(|i| i.eq_ignore_ascii_case("cpython"));
    let Some(version) = py.version.as_deref() else { return Vec::new() };
    // X.Y alone names no release: nothing can be matched.
    if !cpython || os_owned(py) || version.split('.').count() < 3 {
        return Vec::new();
    }
    let exe = py.base_executable.as_deref().or(py.executable.as_deref()).unwrap_or("?");
    let source = py.evidence.get("version").cloned().unwrap_or_default();
    db.affecting(version).into_iter().map(|h| finding(&h, py, venv, what, version, exe, &source)).collect()
}

/// The facts of a Python a server module embeds (mod_wsgi, uWSGI's python plugin), read as a
/// venv's base installation is: its exact version from the installation's files, else the
/// version string compiled into its libpython; its owner from the package databases.
pub fn embedded_python(root: &crate::host::paths::HostRoot, e: &crate::inspect::embedded::Embedded) -> Option<Python> {
    use crate::host::paths::display;
    let xy = e.xy.as_deref()?;
    let lib = e.libpython.as_ref()?;
    let mut py = Python {
        implementation: Some("CPython".into()),
        base_executable: Some(display(lib)),
        base_exists: true,
        ..Python::default()
    };
    let exact = e.prefix.as_ref().and_then(|p| crate::inspect::interpreter::installation_version(root, p, xy, false));
    match exact {
        Some(x) => {
            py.version = Some(x.version);
            py.evidence.insert("version".into(), x.source);
        }
        None => {
            py.version = Some(crate::inspect::interpreter::compiled_version(root, lib, xy)?);
            py.evidence.insert("version".into(), format!("version string in {}", display(lib)));
        }
    }
    let (owner, evidence) = crate::inspect::owner::interpreter_owner(root, lib);
    py.owner = Some(owner);
    py.evidence.insert("owner".into(), evidence);
    Some(py)
}

fn finding(h: &Hit, py: &Python, venv: &str, what: &str, version: &str, exe: &str, source: &str) -> Finding {
    let a = h.advisory;
    let xy = major_minor(version);
    let severity = a.finding_severity().unwrap_or(Severity::Warning);
    let remediation = match &h.fixed_on_branch {
        Some(f) => format!(
            "Upgrade the interpreter to CPython {f} or later (rebuild it, or install the fixed release), then recreate the environment on it if it was copied (`--copies`)"
        ),
        None => format!(
            "No fix is released on CPython {xy}: move the environment to a supported Python whose release fixes {}",
            a.id
        ),
    };
    let fix =
        h.fixed_on_branch.as_deref().map_or_else(|| format!("no fix released on {xy}"), |f| format!("fixed in {f}"));
    let also = if a.aliases.is_empty() { String::new() } else { format!(" ({})", a.aliases.join(", ")) };
    let mut aliases = vec![a.id.clone()];
    aliases.extend(a.aliases.iter().cloned());
    let mut f = Finding::new(
        FindingId::InterpreterVulnerability,
        severity,
        Some(venv),
        format!("the {what} CPython {version} ({exe}) is affected by {}{also}: {}; {fix}", a.id, a.summary),
        &remediation,
    )
    .detail("advisory", a.id.as_str())
    .detail("aliases", json!(aliases))
    .detail("summary", a.summary.as_str())
    .detail("interpreter_version", version)
    .detail("version_source", source)
    .detail("matched", json!(h.matched))
    .detail("fixed_version", json!(h.fixed_on_branch))
    .detail("why", h.why.as_str())
    .detail("uncertain", h.uncertain || py.version_uncertain)
    .detail("published", json!(a.published))
    .detail("modified", json!(a.modified))
    .detail("references", json!(a.references));
    if let Some(s) = &a.severity {
        f = f.detail("rating", json!({"cvss_vector": s.cvss_vector, "cvss_version": s.cvss_version, "score": s.score, "label": s.label, "cna_text": s.cna_text}));
    }
    if !a.modules.is_empty() {
        f = f.detail("modules", json!(a.modules));
    }
    f.with_package("CPython")
}
