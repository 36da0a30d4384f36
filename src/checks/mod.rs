//! Checks: pure functions from inspected facts to findings, one module per family.
//!
//! [`run_all`] is the only place that decides which families run; each family module
//! exposes a `check` function and knows nothing of the others.

pub mod deps;
pub mod forbidden;
pub mod integrity;
pub mod interpreter;
pub mod permissions;
pub mod usage;
pub mod vulns;

use crate::inspect::Inspected;
use crate::report::{Finding, UsedBy};
use crate::request::Request;
use crate::Scan;
use anyhow::Result;
use rayon::prelude::*;

/// Every finding id venvaudit can emit. These strings are a stable API for playbooks.
pub mod ids {
    /// The base interpreter or the `bin/python` link target is gone.
    pub const BROKEN_INTERPRETER: &str = "broken-interpreter";
    /// pyvenv.cfg, the lib dir and the base interpreter disagree on X.Y.
    pub const INTERPRETER_MISMATCH: &str = "interpreter-mismatch";
    /// An installed version is affected by an advisory of the OSV database.
    pub const VULNERABILITY: &str = "vulnerability";
    /// An installed distribution matches a `--forbid` specifier.
    pub const FORBIDDEN_PACKAGE: &str = "forbidden-package";
    /// A requirement `pip check` reports as missing or conflicting.
    pub const DEPENDENCY_CONFLICT: &str = "dependency-conflict";
    /// `--verify`: an installed file's hash differs from its RECORD.
    pub const RECORD_MISMATCH: &str = "record-mismatch";
    /// `--verify`: a file listed in RECORD is gone.
    pub const RECORD_MISSING: &str = "record-missing";
    /// Parts of a venv are writable by others, foreign-owned, or setuid/setgid.
    pub const UNSAFE_PERMISSIONS: &str = "unsafe-permissions";
    /// An ignore policy entry is past its `until` date.
    pub const IGNORE_EXPIRED: &str = "ignore-expired";

    /// A running process uses code of the environment that changed since it started.
    pub const STALE_PROCESS: &str = "stale-process";
    /// A service, supervisor program or cron job points at an environment that is gone.
    pub const SERVICE_VENV_MISSING: &str = "service-venv-missing";
    /// No process and no configuration uses the environment.
    pub const UNUSED: &str = "unused";

    /// All ids with their default severity and meaning, for docs and tests.
    pub const ALL: &[(&str, &str, &str)] = &[
        (BROKEN_INTERPRETER, "error", "the base interpreter or the bin/python link target no longer exists"),
        (INTERPRETER_MISMATCH, "error", "pyvenv.cfg, lib/pythonX.Y and the base interpreter disagree on the Python version"),
        (VULNERABILITY, "warning", "an installed version is affected by an OSV advisory (severity from the advisory: critical/high error, medium warning, low info; none stated: warning)"),
        (FORBIDDEN_PACKAGE, "error", "an installed distribution matches a --forbid specifier"),
        (DEPENDENCY_CONFLICT, "error", "a requirement of an installed distribution is missing or not satisfied, exactly as pip check reports it"),
        (RECORD_MISMATCH, "error", "--verify: installed files differ from the hashes in their RECORD (modified after installation)"),
        (RECORD_MISSING, "warning", "--verify: files listed in a RECORD are missing"),
        (UNSAFE_PERMISSIONS, "error", "venv paths writable by group/others, owned by another user, or setuid/setgid (warning when only group-writable)"),
        (IGNORE_EXPIRED, "warning", "an ignore policy entry is past its until date and no longer applies"),
        (STALE_PROCESS, "warning", "a running process maps deleted files of the environment or started before a distribution in it was installed, upgraded or removed"),
        (SERVICE_VENV_MISSING, "error", "a systemd unit, supervisor program or cron job points at an environment path that does not exist"),
        (UNUSED, "info", "no running process and no service configuration uses the environment (only with a complete process view)"),
    ];
}

/// Names of the check families, the values the `checks` option accepts.
pub const FAMILIES: &[&str] = &[
    "interpreter",
    "extensions",
    "eol",
    "mod-wsgi",
    "uwsgi",
    "vulnerabilities",
    "forbidden",
    "dependencies",
    "integrity",
    "permissions",
    "usage",
];

/// What every check may consult.
pub struct CheckContext<'a> {
    /// The scan: host facts, environments, root.
    pub scan: &'a Scan,
    /// The request, for check options.
    pub req: &'a Request,
}

impl CheckContext<'_> {
    /// Whether a family was selected (all are, unless `checks` lists some).
    pub fn wants(&self, family: &str) -> bool {
        self.req.checks.is_empty() || self.req.checks.iter().any(|c| c == family)
    }
}

/// The result of running checks.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings, not yet filtered by the ignore policy.
    pub findings: Vec<Finding>,
    /// References to environments from services: (venv path, reference).
    pub used_by: Vec<(String, UsedBy)>,
    /// Description of the vulnerability database used, if any.
    pub osv_db: Option<serde_json::Value>,
    /// Paths a check could not read (e.g. files `--verify` could not open).
    pub errors: Vec<crate::report::ScanError>,
}

/// Run the checks that need nothing but the environment's own facts (used by `facts`).
pub fn venv_checks(venv: &Inspected) -> Vec<Finding> {
    interpreter::check(venv)
}

/// Validate the `checks` option.
pub fn validate_families(req: &Request) -> Result<()> {
    for c in &req.checks {
        if !FAMILIES.contains(&c.as_str()) {
            anyhow::bail!("unknown check family {c:?}; valid families: {}", FAMILIES.join(", "));
        }
    }
    Ok(())
}

/// Run every selected family over a scan.
pub fn run_all(scan: &Scan, req: &Request) -> Result<Outcome> {
    validate_families(req)?;
    let ctx = CheckContext { scan, req };
    let mut out = Outcome::default();
    let forbid = crate::query::parse_specs(&req.forbid)?;
    let db = match &req.osv_db {
        Some(p) if ctx.wants("vulnerabilities") => Some(crate::osv::load(std::path::Path::new(p))?),
        _ => None,
    };
    out.osv_db = db.as_ref().map(|d| d.describe());
    let per_venv: Vec<Vec<Finding>> = scan
        .venvs
        .par_iter()
        .map(|v| {
            let mut f = Vec::new();
            if ctx.wants("interpreter") {
                f.extend(interpreter::check(v));
            }
            if let Some(db) = &db {
                f.extend(vulns::check(db, v));
            }
            if ctx.wants("forbidden") {
                f.extend(forbidden::check(&forbid, v));
            }
            if ctx.wants("dependencies") {
                f.extend(deps::check(v));
            }
            if ctx.wants("permissions") {
                f.extend(permissions::check(&scan.root, v));
            }
            f
        })
        .collect();
    out.findings.extend(per_venv.into_iter().flatten());
    // Off by default: it reads every installed file.
    if req.verify && ctx.wants("integrity") {
        let venvs: Vec<&Inspected> = scan.venvs.iter().collect();
        let verified = integrity::check(&scan.root, &venvs);
        out.findings.extend(verified.findings);
        out.errors.extend(verified.errors);
    }
    if ctx.wants("usage") {
        out.findings.extend(usage::check(&scan.venvs, &scan.usage));
    }
    Ok(out)
}
