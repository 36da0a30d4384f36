//! Checks: pure functions from inspected facts to findings, one module per family.
//!
//! [`run_all`] is the only place that decides which families run; each family module
//! exposes a `check` function and knows nothing of the others.

pub mod interpreter;
pub mod usage;

use crate::inspect::Inspected;
use crate::report::{Finding, UsedBy};
use crate::request::Request;
use crate::Scan;
use anyhow::Result;

/// Every finding id venvaudit can emit. These strings are a stable API for playbooks.
pub mod ids {
    /// The base interpreter or the `bin/python` link target is gone.
    pub const BROKEN_INTERPRETER: &str = "broken-interpreter";
    /// pyvenv.cfg, the lib dir and the base interpreter disagree on X.Y.
    pub const INTERPRETER_MISMATCH: &str = "interpreter-mismatch";

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
    for v in &scan.venvs {
        if ctx.wants("interpreter") {
            out.findings.extend(interpreter::check(v));
        }
    }
    if ctx.wants("usage") {
        out.findings.extend(usage::check(&scan.venvs, &scan.usage));
    }
    Ok(out)
}
