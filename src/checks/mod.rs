//! Checks: pure functions from inspected facts to findings, one module per family.
//!
//! [`run_all`] is the only place that decides which families run; each family module
//! exposes a `check` function and knows nothing of the others.

pub mod artifact;
pub mod cpython;
pub mod deps;
pub mod drift;
pub mod embed;
pub mod eol;
pub mod extensions;
pub mod forbidden;
pub mod integrity;
pub mod interpreter;
pub mod mod_wsgi;
pub mod permissions;
pub mod target;
pub mod tree;
pub mod usage;
pub mod uwsgi;
pub mod vulns;

use crate::inspect::{Inspected, Scan};
use crate::report::{Family, Finding, FindingId, ScanError, UsedBy};
use rayon::prelude::*;

/// The result of running checks.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings, not yet filtered by the ignore policy.
    pub findings: Vec<Finding>,
    /// References to environments from services: (venv path, reference).
    pub used_by: Vec<(String, UsedBy)>,
    /// Files the checks could not read (extension modules, configuration).
    pub errors: Vec<ScanError>,
}

impl Outcome {
    /// Add another family's outcome to this one.
    pub fn merge(&mut self, other: Outcome) {
        self.findings.extend(other.findings);
        self.used_by.extend(other.used_by);
        self.errors.extend(other.errors);
    }
}

/// Run the checks that need nothing but the environment's own facts (used by `facts`).
pub fn venv_checks(venv: &Inspected) -> Vec<Finding> {
    interpreter::check(venv)
}

/// Findings of one id listed per environment; the rest become one summary finding. A hostile
/// METADATA with 36,000 Requires-Dist lines must not produce 36,000 findings, while a real,
/// neglected venv's hundreds of vulnerability findings are all listed.
pub const MAX_FINDINGS_PER_ID: usize = 10_000;

/// Keep at most [`MAX_FINDINGS_PER_ID`] findings of each id (of one environment); the rest
/// are counted in one finding of that id at the highest severity among them, so the gate's
/// verdict is unchanged.
fn cap_per_id(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen: std::collections::HashMap<FindingId, usize> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(findings.len().min(4 * MAX_FINDINGS_PER_ID));
    let mut dropped: std::collections::BTreeMap<FindingId, (usize, Finding)> = std::collections::BTreeMap::new();
    for f in findings {
        let n = seen.entry(f.id).or_default();
        *n += 1;
        if *n <= MAX_FINDINGS_PER_ID {
            out.push(f);
            continue;
        }
        let e = dropped.entry(f.id).or_insert_with(|| (0, f.clone()));
        e.0 += 1;
        if f.severity > e.1.severity {
            e.1.severity = f.severity;
        }
    }
    for (id, (count, first)) in dropped {
        let mut f = Finding::new(
            id,
            first.severity,
            first.venv.as_deref(),
            format!(
                "{count} more {id} findings in this environment are not listed (at most {MAX_FINDINGS_PER_ID} per id)"
            ),
            &first.remediation,
        )
        .detail("not_listed", count);
        f.details.insert("truncated".into(), serde_json::json!(true));
        out.push(f);
    }
    out
}

/// What the engine resolved from the request before the checks run: the checks read no
/// request file themselves and load nothing.
pub struct Inputs<'a> {
    /// The families that run: those the request selected (all by default), integrity only
    /// when `verify` asked for the hashing.
    pub families: std::collections::BTreeSet<Family>,
    /// The vulnerability database, when one was found and the family is wanted.
    pub db: Option<&'a crate::osv::Database>,
    /// `--target-python`: judge every environment against this interpreter instead of its own.
    pub target: Option<crate::report::Python>,
    /// `--forbid` specifiers.
    pub forbid: Vec<crate::parse::spec::Spec>,
    /// The day date-driven checks judge by.
    pub today: crate::time::Date,
    /// Servers hosting environments: their configuration and what it names, resolved.
    pub servers: Servers,
    /// `--app`: the imports of the application's code; a module it imports is required.
    pub app: Option<crate::inspect::imports::AppImports>,
    /// The CPython advisory file, when one was found and the vulnerabilities family is wanted.
    pub cpython_db: Option<&'a crate::osv::cpython::CpythonDb>,
    /// `--lock`: the lock every environment is compared with (`lock-drift`), as shown.
    pub lock: Option<(String, crate::parse::lock::Lock)>,
}

/// What the mod-wsgi and uwsgi families judge, loaded and resolved by the engine: the
/// configuration files, the modules they load (their embedded Python read from the ELF
/// headers), the module given on the command line, and what every configured home and
/// `sys.path` entry refers to. Empty for a family that is not wanted.
#[derive(Debug, Default)]
pub struct Servers {
    /// Apache configurations (one per server root, or the `--apache-config` files).
    pub apache: Vec<ApacheServer>,
    /// `--mod-wsgi`: the module every environment is judged against instead of Apache's.
    pub mod_wsgi: Option<embed::Embedded>,
    /// uWSGI app configurations (packaged app directories and `--uwsgi-config` files).
    pub uwsgi: Vec<UwsgiServer>,
    /// uWSGI configuration files or plugins that could not be read.
    pub uwsgi_errors: Vec<ScanError>,
    /// What the configured homes and `sys.path` entries are.
    pub hosted: embed::HostedEnvs,
}

/// One Apache configuration and the mod_wsgi it loads.
#[derive(Debug)]
pub struct ApacheServer {
    /// The configuration, fully read.
    pub config: crate::host::config::apache::ApacheConfig,
    /// The `LoadModule wsgi_module` line and what its file embeds; `None` without one, or
    /// when `--mod-wsgi` replaces it (then it is not read).
    pub mod_wsgi: Option<LoadedModule>,
}

/// A module a configuration loads.
#[derive(Debug)]
pub struct LoadedModule {
    /// The module file (view path).
    pub path: std::path::PathBuf,
    /// The line loading it.
    pub directive: crate::host::config::Directive,
    /// Its embedded Python, or why it could not be read.
    pub embedded: Result<embed::Embedded, crate::inspect::embedded::ModuleError>,
}

/// One uWSGI app and the python plugin it loads.
#[derive(Debug)]
pub struct UwsgiServer {
    /// The app configuration.
    pub app: crate::host::config::uwsgi::UwsgiApp,
    /// Its python plugin and the line naming it; `None` when it loads none that can be read.
    pub plugin: Option<(embed::Embedded, crate::host::config::Directive)>,
}

/// Run every selected family over a scan.
pub fn run_all(scan: &Scan, inputs: &Inputs) -> Outcome {
    let wants = |f: Family| inputs.families.contains(&f);
    let mut out = Outcome::default();
    let (db, target, forbid, today) = (inputs.db, &inputs.target, &inputs.forbid, inputs.today);
    let shared = extensions::Shared::default();
    let per_venv: Vec<Outcome> = scan
        .venvs
        .par_iter()
        .enumerate()
        .map(|(i, v)| {
            let python = target.as_ref().unwrap_or(&v.venv.python);
            let mut o = Outcome::default();
            if wants(Family::Interpreter) {
                o.findings.extend(interpreter::check(v));
                if let Some(t) = &target {
                    o.findings.extend(target::check(v, t));
                }
            }
            if wants(Family::Extensions) {
                let services_path = scan.usage.per_venv.get(i).map_or(&[][..], |u| u.library_path.as_slice());
                let (f, e) =
                    extensions::check(&scan.root, &scan.host, v, python, &shared, services_path, inputs.app.as_ref());
                o.findings.extend(f);
                o.errors.extend(e);
            }
            if wants(Family::Eol) {
                o.findings.extend(eol::check(&v.venv.path, python, today));
            }
            if let Some(db) = db {
                o.findings.extend(vulns::check(db, &v.venv.path, v.venv.packages.as_deref().unwrap_or_default()));
            }
            if let Some(db) = inputs.cpython_db {
                o.findings.extend(cpython::check(db, v));
            }
            if wants(Family::Forbidden) {
                o.findings.extend(forbidden::check(
                    forbid,
                    &v.venv.path,
                    v.venv.packages.as_deref().unwrap_or_default(),
                ));
            }
            if wants(Family::Dependencies) {
                let (f, e) = deps::check(v);
                o.findings.extend(f);
                o.errors.extend(e);
            }
            if wants(Family::Permissions) {
                o.findings.extend(permissions::check(&scan.root, v));
            }
            o
        })
        .collect();
    for mut o in per_venv {
        o.findings = cap_per_id(o.findings);
        out.merge(o);
    }
    if wants(Family::ModWsgi) {
        out.merge(mod_wsgi::run(&scan.root, &scan.venvs, &inputs.servers));
    }
    if wants(Family::Uwsgi) {
        out.merge(uwsgi::run(&scan.root, &inputs.servers));
    }
    if wants(Family::Integrity) {
        let venvs: Vec<&Inspected> = scan.venvs.iter().collect();
        let verified = integrity::check(&scan.root, &venvs);
        out.findings.extend(verified.findings);
        out.errors.extend(verified.errors);
    }
    // The Pythons that web servers embed have CVEs of their own (OS-owned ones are skipped).
    if let Some(db) = inputs.cpython_db {
        out.findings.extend(embedded_cves(&scan.root, db, &inputs.servers));
    }
    if wants(Family::Drift)
        && let Some((shown, lock)) = &inputs.lock
    {
        let modified = drift::modified_by_venv(&out.findings);
        for v in &scan.venvs {
            let Some(env) = deps::marker_environment(v) else {
                out.errors.push(ScanError {
                    path: v.venv.path.clone(),
                    message: format!("not compared with {shown}: its Python version is unknown, so the lock's markers cannot be evaluated"),
                });
                continue;
            };
            let (entries, problems) = lock.for_target(shown, &env);
            out.errors.extend(problems.into_iter().map(|p| ScanError { path: shown.clone(), message: p.to_string() }));
            let empty = Default::default();
            out.findings.extend(drift::check(v, shown, &entries, modified.get(&v.venv.path).unwrap_or(&empty)));
        }
    }
    if wants(Family::Usage) {
        // mod_wsgi and uWSGI references count as use, though they reach the venvs' `used_by` later.
        let served: std::collections::HashSet<&str> = out.used_by.iter().map(|(p, _)| p.as_str()).collect();
        let usage = usage::check(&scan.venvs, &scan.usage);
        out.findings.extend(
            usage
                .into_iter()
                .filter(|f| !(f.id == FindingId::Unused && f.venv.as_deref().is_some_and(|v| served.contains(v)))),
        );
    }
    out
}

/// `interpreter-vulnerability` of the Pythons mod_wsgi and uWSGI's python plugin embed, once
/// per module file; host-wide findings (no venv) naming the module and the line loading it.
fn embedded_cves(
    root: &crate::host::paths::HostRoot,
    db: &crate::osv::cpython::CpythonDb,
    servers: &Servers,
) -> Vec<Finding> {
    let mut modules: Vec<(&embed::Embedded, String)> = Vec::new();
    if let Some(e) = &servers.mod_wsgi {
        modules.push((e, "--mod-wsgi".into()));
    }
    for s in &servers.apache {
        if let Some(m) = &s.mod_wsgi
            && let Ok(e) = &m.embedded
        {
            modules.push((e, m.directive.location()));
        }
    }
    for u in &servers.uwsgi {
        if let Some((e, d)) = &u.plugin {
            modules.push((e, d.location()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (e, at) in modules {
        if !seen.insert(e.module.clone()) {
            continue;
        }
        let Some(py) = cpython::embedded_python(root, e) else { continue };
        let what = format!("Python embedded by {} (loaded at {at})", crate::host::paths::display(&e.module));
        for mut f in cpython::judge(db, &py, "", &what) {
            f.venv = None;
            out.push(f.detail("module", crate::host::paths::display(&e.module)).detail("loaded_at", at.as_str()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;

    #[test]
    fn findings_are_capped_per_id_without_changing_the_verdict() {
        let mut many: Vec<Finding> = (0..MAX_FINDINGS_PER_ID + 800)
            .map(|i| Finding::new(FindingId::DependencyConflict, Severity::Warning, Some("/v"), format!("f{i}"), "r"))
            .collect();
        many[MAX_FINDINGS_PER_ID + 700].severity = Severity::Error;
        many.push(Finding::new(FindingId::Unused, Severity::Info, Some("/v"), "unused".into(), "r"));
        let capped = cap_per_id(many);
        assert_eq!(capped.len(), MAX_FINDINGS_PER_ID + 2);
        let summary = capped.iter().find(|f| f.details.contains_key("truncated")).unwrap();
        assert_eq!(summary.details["not_listed"], 800);
        assert_eq!(summary.severity, Severity::Error);
        assert!(capped.iter().any(|f| f.id == FindingId::Unused));
    }
}
