//! venvaudit: find every Python environment on a host and report its facts and health,
//! from files alone. No code from a scanned environment is ever executed and nothing in it
//! is ever written.
//!
//! The pipeline: [`discover`] walks the roots, [`inspect`] turns each environment into
//! facts, [`checks`] turns facts into findings, [`report`] is the contract that is printed.

pub mod checks;
pub mod compact;
pub mod discover;
pub mod export;
pub mod fleet;
pub mod frontends;
#[doc(hidden)]
pub mod fuzz_api;
pub mod host;
pub mod ignore;
pub mod inspect;
pub mod osv;
pub mod parse;
pub mod query;
pub mod report;
pub mod request;
pub mod table;
pub mod time;

use anyhow::{Context, Result};
use discover::{Progress, WalkOptions};
use host::HostFacts;
use host::paths::HostRoot;
use inspect::Inspected;
use rayon::prelude::*;
use report::FindingId;
use report::{Report, ScanError};
use request::Request;
use std::path::PathBuf;

/// Everything a scan learned; checks and front-ends work from this.
pub struct Scan {
    /// How paths map to the filesystem.
    pub root: HostRoot,
    /// Where service and web server configuration is read (`config_root`, else `root`).
    pub config_root: HostRoot,
    /// The requested paths: findings about environments elsewhere are not reported.
    pub scope: host::scope::Scope,
    /// Host facts, C library and library search path.
    pub host: HostFacts,
    /// Every inspected environment.
    pub venvs: Vec<Inspected>,
    /// Unreadable paths.
    pub errors: Vec<ScanError>,
    /// Processes and services using each environment (index-aligned with `venvs`).
    pub usage: inspect::usage::Usage,
    /// Caveats about the whole scan.
    pub warnings: Vec<String>,
}

/// Discover and inspect the environments a request names.
pub fn scan(req: &Request, progress: &Progress) -> Result<Scan> {
    let root = match &req.root {
        Some(r) => HostRoot::at(std::path::Path::new(r)).with_context(|| format!("cannot use --root {r}"))?,
        None => HostRoot::host(),
    };
    let config_root = match &req.config_root {
        Some(c) => HostRoot::at(std::path::Path::new(c)).with_context(|| format!("cannot use config_root {c}"))?,
        None => root.clone(),
    };
    if req.paths.iter().any(|p| p.trim().is_empty()) {
        anyhow::bail!("an empty path was given (a variable that rendered to nothing?); name the directories to scan");
    }
    let paths: Vec<PathBuf> = if req.paths.is_empty() {
        vec![PathBuf::from("/")]
    } else {
        req.paths.iter().map(|p| request_path(&root, p)).collect()
    };
    let walk = WalkOptions {
        exclude: req.exclude.clone(),
        max_depth: req.max_depth,
        follow_symlinks: req.follow_symlinks,
        cross_mounts: req.cross_mounts,
    };
    let scope = host::scope::Scope::new(&root, &paths, discover::build_excludes(&req.exclude)?);
    worker_pool(req)?.install(|| {
        let host = HostFacts::gather(&root);
        let found = discover::discover(&root, &paths, &walk, progress)?;
        let users = inspect::load_users(&root);
        // Processes are the live host's, so their users come from the host's passwd.
        let process_users = if root.is_chroot() { inspect::load_users(&HostRoot::host()) } else { users.clone() };
        let results: Vec<(Inspected, Vec<ScanError>)> = found
            .found
            .par_iter()
            .map(|f| inspect::inspect_venv(&root, &host.libs, &users, f))
            .collect();
        let mut errors = found.errors;
        let mut venvs = Vec::with_capacity(results.len());
        for (v, e) in results {
            venvs.push(v);
            errors.extend(e);
        }
        let usage = inspect::usage::gather(&root, &config_root, &venvs, !req.no_processes);
        for (v, u) in venvs.iter_mut().zip(&usage.per_venv) {
            v.venv.used_by.extend(u.used_by.iter().cloned());
            v.venv.in_use = inspect::usage::in_use(u, &process_users);
        }
        let mut warnings = Vec::new();
        if let (n, true) = jobs(req.jobs) {
            warnings.push(format!(
                "--jobs {} capped at {n} ({MAX_JOBS_PER_CPU} per CPU)",
                req.jobs.unwrap_or_default()
            ));
        }
        if usage.view.partial > 0 && !usage.view.as_root {
            warnings.push(format!(
                "process view is partial: {} processes of other users could not be inspected (run as root for a complete view); in_use and stale-process may miss some, unused is not reported",
                usage.view.partial
            ));
        } else if usage.view.partial > 0 {
            warnings.push(format!("{} processes could not be inspected even as root (another namespace or a security module)", usage.view.partial));
        }
        Ok(Scan { root, config_root, scope, host, venvs, errors, usage, warnings })
    })
}

/// Threads per CPU `--jobs` may ask for: more only adds contention (the work is I/O on one
/// disk and parsing), and `--jobs 100000` must not spend minutes spawning threads.
pub const MAX_JOBS_PER_CPU: usize = 4;

/// The number of worker threads for a `--jobs` request: at least 1, at most
/// [`MAX_JOBS_PER_CPU`] per CPU. Returns the number and whether the request was capped.
pub fn jobs(requested: Option<usize>) -> (usize, bool) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    match requested {
        None => (cpus, false),
        Some(j) => {
            let max = cpus * MAX_JOBS_PER_CPU;
            (j.clamp(1, max), j > max)
        }
    }
}

/// The thread pool bounded by `--jobs` (default: one thread per CPU).
fn worker_pool(req: &Request) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new().num_threads(jobs(req.jobs).0).build().context("cannot start worker threads")
}

/// A path given by the user, as a view path. Relative paths are relative to the current
/// directory on the live host; under `--root` they are taken as relative to the root.
pub fn view_path(root: &HostRoot, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    if root.is_chroot() {
        return PathBuf::from("/").join(path);
    }
    if path.is_absolute() { path } else { std::env::current_dir().map(|d| d.join(&path)).unwrap_or(path) }
}

/// A path to scan, as a view path in the form environments are reported under: without
/// `.`, repeated or trailing slashes, and with `..` taken as the kernel takes it (the parent
/// of what the path before it resolves to), so `/srv/site/venv/` and `/srv/./site/venv` are
/// reported, and matched with configuration, as `/srv/site/venv`.
pub fn request_path(root: &HostRoot, p: &str) -> PathBuf {
    use std::path::Component;
    let view = view_path(root, p);
    let parts: Vec<Component> = view.components().collect();
    let Some(last_up) = parts.iter().rposition(|c| *c == Component::ParentDir) else {
        return parts.iter().collect();
    };
    let head: PathBuf = parts[..=last_up].iter().collect();
    let tail: PathBuf = parts[last_up + 1..].iter().collect();
    match root.resolve(&head) {
        Ok(resolved) => resolved.join(tail),
        Err(_) => host::config::normalize(&view),
    }
}

/// Build the report of a scan with the given findings.
pub fn build_report(scan: Scan, findings: Vec<report::Finding>, req: &Request) -> Report {
    // The scan is consumed: a fleet report holds tens of thousands of packages, and a copy
    // would double peak memory.
    let mut report = Report {
        schema_version: report::SCHEMA_VERSION,
        tool: report::Tool::default(),
        generated_at: time::rfc3339(std::time::SystemTime::now()),
        detail: "full",
        host: scan.host.host,
        venvs: scan.venvs.into_iter().map(|i| i.venv).collect(),
        findings,
        errors: scan.errors,
        warnings: scan.warnings,
        osv_db: None,
        summary: report::Summary::default(),
    };
    report.finish();
    compact::apply(&mut report, req.detail().unwrap_or_default(), req.packages);
    report
}

/// `check`: scan, run every selected check family, apply the ignore policy.
pub fn check(req: &Request, progress: &Progress) -> Result<Report> {
    req.detail().map_err(anyhow::Error::msg)?;
    let policy = ignore::Policy::load(req)?;
    query::parse_specs(&req.forbid)?;
    // The vulnerability database: named, from the environment, or at the default path. Its
    // absence is never silent: a warning, and with `require_osv_db` a failed gate.
    let mut req = req.clone();
    let wants_vulns = req.wants(report::Family::Vulnerabilities);
    let mut db_missing = None;
    if wants_vulns {
        match osv::locate(req.osv_db.as_deref()) {
            Ok(p) => req.osv_db = Some(p),
            Err(looked) => db_missing = Some(looked),
        }
    }
    let req = &req;
    let mut scan = scan(req, progress)?;
    // Checks (ELF reads, --verify hashing) honour --jobs too.
    let mut outcome = worker_pool(req)?.install(|| checks::run_all(&scan, req))?;
    if let Some(looked) = &db_missing {
        let what = format!(
            "vulnerabilities not checked: no OSV database at {looked} (give --osv-db or {}, or install one there)",
            osv::DB_ENV
        );
        if req.require_osv_db {
            outcome.findings.push(
                report::Finding::new(
                    FindingId::OsvDbMissing,
                    report::Severity::Error,
                    None,
                    what.clone(),
                    "Copy osv.dev's PyPI export (https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip, fetched where there is internet) to that path, or point --osv-db at it",
                )
                .detail("looked_at", looked.as_str()),
            );
        }
        scan.warnings.push(what);
    }
    if let Some(newest) = outcome.osv_db.as_ref().and_then(|d| d["newest_modified"].as_str())
        && let Some(age) = osv::age_days(newest, req.today())
    {
        let max = req.osv_max_age_days.unwrap_or(osv::DEFAULT_MAX_AGE_DAYS);
        if age > i64::from(max) {
            scan.warnings.push(format!(
                "the OSV database is {age} days old (newest record modified {newest}; more than {max}): advisories published since are not checked"
            ));
        }
    }
    policy.apply(&mut outcome.findings, req.today());
    scan.errors.append(&mut outcome.errors);
    for (venv, used) in outcome.used_by {
        if let Some(v) = scan.venvs.iter_mut().find(|v| v.venv.path == venv) {
            v.venv.used_by.push(used);
        }
    }
    let mut report = build_report(scan, outcome.findings, req);
    report.osv_db = outcome.osv_db;
    Ok(report)
}

/// `facts`: scan and report, with the interpreter health findings.
pub fn facts(req: &Request, progress: &Progress) -> Result<Report> {
    req.detail().map_err(anyhow::Error::msg)?;
    let scan = scan(req, progress)?;
    let findings: Vec<report::Finding> = scan.venvs.iter().flat_map(checks::venv_checks).collect();
    Ok(build_report(scan, findings, req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_capped_per_cpu() {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        assert_eq!(jobs(Some(100_000)), (cpus * MAX_JOBS_PER_CPU, true));
        assert_eq!(jobs(Some(0)), (1, false));
        assert_eq!(jobs(Some(1)), (1, false));
        assert_eq!(jobs(None), (cpus, false));
    }
}
