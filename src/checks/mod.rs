//! Checks: pure functions from inspected facts to findings, one module per family.
//!
//! [`run_all`] is the only place that decides which families run; each family module
//! exposes a `check` function and knows nothing of the others.

pub mod deps;
pub mod embed;
pub mod eol;
pub mod extensions;
pub mod forbidden;
pub mod integrity;
pub mod interpreter;
pub mod mod_wsgi;
pub mod permissions;
pub mod target;
pub mod usage;
pub mod uwsgi;
pub mod vulns;

use crate::Scan;
use crate::inspect::Inspected;
use crate::report::{Finding, ScanError, UsedBy};
use crate::request::Request;
use anyhow::Result;
use rayon::prelude::*;

/// Every finding id venvaudit can emit. These strings are a stable API for playbooks.
pub mod ids {
    /// The base interpreter or the `bin/python` link target is gone.
    pub const BROKEN_INTERPRETER: &str = "broken-interpreter";
    /// The base interpreter is gone but the copied interpreter starts on another installation.
    pub const BASE_INTERPRETER_FALLBACK: &str = "base-interpreter-fallback";
    /// pyvenv.cfg, the lib dir and the base interpreter disagree on X.Y.
    pub const INTERPRETER_MISMATCH: &str = "interpreter-mismatch";
    /// A compiled module's file-name ABI tag is for another Python.
    pub const EXTENSION_ABI_MISMATCH: &str = "extension-abi-mismatch";
    /// A compiled file's ELF machine differs from the interpreter's.
    pub const EXTENSION_ARCH_MISMATCH: &str = "extension-arch-mismatch";
    /// A compiled file needs a GLIBC_x.y newer than the host's glibc.
    pub const EXTENSION_GLIBC_TOO_NEW: &str = "extension-glibc-too-new";
    /// A compiled file needs a shared library the loader cannot find.
    pub const EXTENSION_MISSING_LIBRARY: &str = "extension-missing-library";
    /// A compiled file is linked against musl on a glibc host, or the reverse.
    pub const EXTENSION_LIBC_MISMATCH: &str = "extension-libc-mismatch";
    /// A compiled file needs a symbol version (GLIBCXX_3.4.30, OPENSSL_3.0.0) its library lacks.
    pub const EXTENSION_LIBRARY_VERSION_MISSING: &str = "extension-library-version-missing";
    /// The environment was made for another Python than `--target-python`.
    pub const TARGET_PYTHON_MISMATCH: &str = "target-python-mismatch";
    /// The environment's CPython is past, or within six months of, its end of life.
    pub const INTERPRETER_EOL: &str = "interpreter-eol";
    /// mod_wsgi embeds another Python X.Y than the environment it is configured to host.
    pub const MOD_WSGI_ABI_MISMATCH: &str = "mod-wsgi-abi-mismatch";
    /// A mod_wsgi python-home/python-path names a path that is not an environment.
    pub const MOD_WSGI_VENV_MISSING: &str = "mod-wsgi-venv-missing";
    /// Same X.Y, but the environment comes from another Python installation than mod_wsgi's libpython.
    pub const MOD_WSGI_FOREIGN_INSTALL: &str = "mod-wsgi-foreign-install";
    /// uWSGI's python plugin embeds another Python X.Y than the app's environment.
    pub const UWSGI_ABI_MISMATCH: &str = "uwsgi-abi-mismatch";
    /// A uWSGI virtualenv/home names a path that is not an environment.
    pub const UWSGI_VENV_MISSING: &str = "uwsgi-venv-missing";
    /// Same X.Y, but the environment comes from another installation than the plugin's libpython.
    pub const UWSGI_FOREIGN_INSTALL: &str = "uwsgi-foreign-install";
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
    /// `--require-osv-db` and no OSV database was found: vulnerabilities were not checked.
    pub const OSV_DB_MISSING: &str = "osv-db-missing";
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
        (
            BASE_INTERPRETER_FALLBACK,
            "warning",
            "the base interpreter no longer exists, but the copied interpreter starts on the installation at its compiled-in prefix",
        ),
        (
            INTERPRETER_MISMATCH,
            "error",
            "pyvenv.cfg, lib/pythonX.Y and the base interpreter disagree on the Python version",
        ),
        (
            EXTENSION_ABI_MISMATCH,
            "error",
            "a compiled module's file-name ABI tag is for another Python (version, free-threading, implementation, platform)",
        ),
        (
            EXTENSION_ARCH_MISMATCH,
            "error",
            "a compiled module or bundled library is built for another CPU architecture than the interpreter",
        ),
        (
            EXTENSION_GLIBC_TOO_NEW,
            "error",
            "an extension module, or a library its import maps, needs a GLIBC_x.y symbol version newer than the host's glibc (warning for .so files that no module loads)",
        ),
        (
            EXTENSION_MISSING_LIBRARY,
            "error",
            "importing an extension module fails: a DT_NEEDED of it or of a library it maps is not found the way glibc's loader searches (RPATH inherited down the load chain, RUNPATH, ld.so.conf, default directories; warning for .so files that no module loads)",
        ),
        (
            EXTENSION_LIBC_MISMATCH,
            "error",
            "a compiled file is linked against musl on a glibc host, or against glibc on a musl host",
        ),
        (
            EXTENSION_LIBRARY_VERSION_MISSING,
            "error",
            "an extension module, or a library its import maps, needs a symbol version (e.g. GLIBCXX_3.4.30) that the library the loader maps does not define",
        ),
        (
            TARGET_PYTHON_MISMATCH,
            "error",
            "the environment was made for another Python X.Y, implementation or build than --target-python",
        ),
        (
            INTERPRETER_EOL,
            "error",
            "the environment's CPython reached its end of life (error) or reaches it within six months (warning)",
        ),
        (
            MOD_WSGI_ABI_MISMATCH,
            "error",
            "Apache's mod_wsgi embeds another Python X.Y than an environment its configuration names",
        ),
        (
            MOD_WSGI_VENV_MISSING,
            "error",
            "a mod_wsgi python-home or python-path names a path that does not exist or is not a Python environment",
        ),
        (
            MOD_WSGI_FOREIGN_INSTALL,
            "warning",
            "same X.Y, but the environment was made from another Python installation than the libpython mod_wsgi loads",
        ),
        (UWSGI_ABI_MISMATCH, "error", "uWSGI's python plugin embeds another Python X.Y than an app's environment"),
        (
            UWSGI_VENV_MISSING,
            "error",
            "a uWSGI virtualenv/home names a path that does not exist or is not a Python environment",
        ),
        (
            UWSGI_FOREIGN_INSTALL,
            "warning",
            "same X.Y, but the environment was made from another installation than the libpython the plugin loads",
        ),
        (
            VULNERABILITY,
            "warning",
            "an installed version is affected by an OSV advisory (severity from the advisory: critical/high error, medium warning, low info; none stated: warning)",
        ),
        (FORBIDDEN_PACKAGE, "error", "an installed distribution matches a --forbid specifier"),
        (
            DEPENDENCY_CONFLICT,
            "error",
            "a requirement of an installed distribution is missing or not satisfied, exactly as pip check reports it",
        ),
        (
            RECORD_MISMATCH,
            "error",
            "--verify: installed files differ from the hashes in their RECORD (modified after installation)",
        ),
        (RECORD_MISSING, "warning", "--verify: files listed in a RECORD are missing"),
        (
            UNSAFE_PERMISSIONS,
            "error",
            "venv paths that can change the code it runs (interpreter, bin/, pyvenv.cfg, import-path directories, code files) writable by group/others, owned by another user, or setuid/setgid (warning when only group-writable)",
        ),
        (IGNORE_EXPIRED, "warning", "an ignore policy entry is past its until date and no longer applies"),
        (
            OSV_DB_MISSING,
            "error",
            "--require-osv-db (require_osv_db) and no OSV database was found: vulnerabilities were not checked",
        ),
        (
            STALE_PROCESS,
            "warning",
            "a running process maps deleted files of the environment or started before a distribution in it was installed, upgraded or removed",
        ),
        (
            SERVICE_VENV_MISSING,
            "error",
            "a systemd unit, supervisor program or cron job points at an environment path that does not exist",
        ),
        (
            UNUSED,
            "info",
            "no running process and no service configuration uses the environment (only with a complete process view)",
        ),
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
    /// Files the checks could not read (extension modules, configuration).
    pub errors: Vec<ScanError>,
}

impl Outcome {
    /// Add another family's outcome to this one.
    pub fn merge(&mut self, other: Outcome) {
        self.findings.extend(other.findings);
        self.used_by.extend(other.used_by);
        self.errors.extend(other.errors);
        if other.osv_db.is_some() {
            self.osv_db = other.osv_db;
        }
    }
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

/// Findings of one id listed per environment; the rest become one summary finding. A hostile
/// METADATA with 36,000 Requires-Dist lines must not produce 36,000 findings, while a real,
/// neglected venv's hundreds of vulnerability findings are all listed.
pub const MAX_FINDINGS_PER_ID: usize = 10_000;

/// Keep at most [`MAX_FINDINGS_PER_ID`] findings of each id (of one environment); the rest
/// are counted in one finding of that id at the highest severity among them, so the gate's
/// verdict is unchanged.
fn cap_per_id(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen: std::collections::HashMap<&'static str, usize> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(findings.len().min(4 * MAX_FINDINGS_PER_ID));
    let mut dropped: std::collections::BTreeMap<&'static str, (usize, Finding)> = std::collections::BTreeMap::new();
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
    let target = match &req.target_python {
        Some(p) => {
            let view = crate::view_path(&scan.root, p);
            let t = crate::inspect::target::inspect_interpreter_file(&scan.root, &scan.host.libs, &view)
                .map_err(|e| anyhow::anyhow!("--target-python: {e}"))?;
            Some(t)
        }
        None => None,
    };
    let today = eol::today();
    let elf_cache = crate::loader::ElfCache::new();
    let per_venv: Vec<Outcome> = scan
        .venvs
        .par_iter()
        .enumerate()
        .map(|(i, v)| {
            let python = target.as_ref().unwrap_or(&v.venv.python);
            let mut o = Outcome::default();
            if ctx.wants("interpreter") {
                o.findings.extend(interpreter::check(v));
                if let Some(t) = &target {
                    o.findings.extend(target::check(v, t));
                }
            }
            if ctx.wants("extensions") {
                let services_path = scan.usage.per_venv.get(i).map_or(&[][..], |u| u.library_path.as_slice());
                let (f, e) = extensions::check(&scan.root, &scan.host, v, python, &elf_cache, services_path);
                o.findings.extend(f);
                o.errors.extend(e);
            }
            if ctx.wants("eol") {
                o.findings.extend(eol::check(v, python, today));
            }
            if let Some(db) = &db {
                o.findings.extend(vulns::check(db, v));
            }
            if ctx.wants("forbidden") {
                o.findings.extend(forbidden::check(&forbid, v));
            }
            if ctx.wants("dependencies") {
                let (f, e) = deps::check(v);
                o.findings.extend(f);
                o.errors.extend(e);
            }
            if ctx.wants("permissions") {
                o.findings.extend(permissions::check(&scan.root, v));
            }
            o
        })
        .collect();
    for mut o in per_venv {
        o.findings = cap_per_id(o.findings);
        out.merge(o);
    }
    let resolver = embed::Resolver::default();
    if ctx.wants("mod-wsgi") {
        out.merge(mod_wsgi::run(&ctx, &resolver)?);
    }
    if ctx.wants("uwsgi") {
        out.merge(uwsgi::run(&ctx, &resolver)?);
    }
    // Off by default: it reads every installed file.
    if req.verify && ctx.wants("integrity") {
        let venvs: Vec<&Inspected> = scan.venvs.iter().collect();
        let verified = integrity::check(&scan.root, &venvs);
        out.findings.extend(verified.findings);
        out.errors.extend(verified.errors);
    }
    if ctx.wants("usage") {
        // mod_wsgi and uWSGI references count as use, though they reach the venvs' `used_by` later.
        let served: std::collections::HashSet<&str> = out.used_by.iter().map(|(p, _)| p.as_str()).collect();
        let usage = usage::check(&scan.venvs, &scan.usage);
        out.findings.extend(
            usage
                .into_iter()
                .filter(|f| !(f.id == ids::UNUSED && f.venv.as_deref().is_some_and(|v| served.contains(v)))),
        );
    }
    // The one scope rule for every family: configuration names environments anywhere on
    // the host, but a request about some paths answers about those paths only.
    out.findings.retain(|f| scan.scope.covers_finding(f));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;

    #[test]
    fn findings_are_capped_per_id_without_changing_the_verdict() {
        let mut many: Vec<Finding> = (0..MAX_FINDINGS_PER_ID + 800)
            .map(|i| Finding::new(ids::DEPENDENCY_CONFLICT, Severity::Warning, Some("/v"), format!("f{i}"), "r"))
            .collect();
        many[MAX_FINDINGS_PER_ID + 700].severity = Severity::Error;
        many.push(Finding::new(ids::UNUSED, Severity::Info, Some("/v"), "unused".into(), "r"));
        let capped = cap_per_id(many);
        assert_eq!(capped.len(), MAX_FINDINGS_PER_ID + 2);
        let summary = capped.iter().find(|f| f.details.contains_key("truncated")).unwrap();
        assert_eq!(summary.details["not_listed"], 800);
        assert_eq!(summary.severity, Severity::Error);
        assert!(capped.iter().any(|f| f.id == ids::UNUSED));
    }
}
