//! The engine: resolves a request's inputs once (roots, paths, the vulnerability database,
//! `--target-python`, `--forbid`, the ignore policy, the day), then runs the pipeline
//! discover -> inspect -> checks -> report. Front-ends call [`facts`], [`check`] and
//! [`crate::query::query`]; nothing below this layer reads the request's files or decides
//! which families run.

use crate::checks::{self, Inputs};
use crate::discover::{self, Progress, WalkOptions};
use crate::host::HostFacts;
use crate::host::paths::{HostRoot, display, request_path, view_path};
use crate::inspect::hosted::HostedEnvs;
use crate::inspect::{self, Inspected, Scan};
use crate::report::{self, Family, FindingId, Report, ScanError};
use crate::request::Request;
use crate::{host, ignore, osv};
use rayon::prelude::*;
use std::path::PathBuf;

/// Why a command could not run: a request that cannot be honoured, or an input it names that
/// cannot be used. Problems with one scanned path are not errors but [`ScanError`]s in the
/// report, and the rest of the scan goes on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--root` (or `config_root`) is not a directory that can be opened.
    #[error("cannot use {option} {path}: {cause}")]
    Root {
        /// `--root` or `config_root`.
        option: &'static str,
        /// The directory as given.
        path: String,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// An empty string among the paths to scan.
    #[error("an empty path was given (a variable that rendered to nothing?); name the directories to scan")]
    EmptyPath,
    /// The worker threads could not be started.
    #[error("cannot start worker threads: {0}")]
    Threads(rayon::ThreadPoolBuildError),
    /// The request itself is invalid (an unknown key, a wrong type, `summary` against `detail`).
    #[error(transparent)]
    Request(#[from] crate::request::RequestError),
    /// `query` without a specifier.
    #[error("query needs at least one specifier, e.g. 'django<4.2.16'")]
    NoSpecifier,
    /// `--target-python` is not an interpreter that can be judged.
    #[error("--target-python: {0}")]
    TargetPython(crate::inspect::target::TargetError),
    /// `--app` cannot be read.
    #[error("--app: {0}")]
    App(crate::inspect::imports::AppError),
    /// A configuration file named on the command line does not exist.
    #[error("{option} {path}: no such file")]
    NoSuchFile {
        /// `--apache-config` or `--uwsgi-config`.
        option: &'static str,
        /// The file (view path).
        path: String,
    },
    /// `--mod-wsgi` is not a module that can be read.
    #[error("--mod-wsgi {path}: {cause}")]
    ModWsgi {
        /// The module (view path).
        path: String,
        /// Why it cannot be read.
        cause: crate::inspect::embedded::ModuleError,
    },
    /// A `--forbid` or query specifier.
    #[error(transparent)]
    Spec(#[from] crate::parse::spec::SpecError),
    /// The `--exclude` patterns.
    #[error(transparent)]
    Exclude(#[from] discover::ExcludeError),
    /// The ignore policy.
    #[error(transparent)]
    Policy(#[from] ignore::PolicyError),
    /// The vulnerability database.
    #[error(transparent)]
    Db(#[from] osv::load::DbError),
    /// The CPython advisory file cannot be used.
    #[error("CPython advisory file: {0}")]
    CpythonDb(crate::osv::cpython::Error),
    /// Cached fleet facts could not be used (no sources, a bad `hosts` file).
    #[error(transparent)]
    Fleet(#[from] crate::fleet::FleetError),
    /// `check-artifact` without an artefact, or one that does not exist.
    #[error("{0}")]
    Artifact(String),
}

/// A command's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Discover and inspect the environments a request names.
pub fn scan(req: &Request, progress: &Progress) -> Result<Scan> {
    scan_with(req, progress, true)
}

/// [`scan`], reading service configuration and processes only when `usage` is true (the
/// report shows `in_use`/`used_by`, or a check family judges them); otherwise the scan's
/// `usage` is empty, as if nothing used the environments, and nothing in `/proc` is read.
pub fn scan_with(req: &Request, progress: &Progress, usage: bool) -> Result<Scan> {
    let root = match &req.root {
        Some(r) => HostRoot::at(std::path::Path::new(r)).map_err(|cause| Error::Root {
            option: "--root",
            path: r.clone(),
            cause,
        })?,
        None => HostRoot::host(),
    };
    let config_root = match &req.config_root {
        Some(c) => HostRoot::at(std::path::Path::new(c)).map_err(|cause| Error::Root {
            option: "config_root",
            path: c.clone(),
            cause,
        })?,
        None => root.clone(),
    };
    if req.paths.iter().any(|p| p.trim().is_empty()) {
        return Err(Error::EmptyPath);
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
        // Host-level reads (loader configuration, users, services, /proc) do not depend on
        // the environments: they run alongside the walk instead of before it.
        let ((host, found), (users, sources)) = rayon::join(
            || rayon::join(|| HostFacts::gather(&root), || discover::discover(&root, &paths, &walk, progress)),
            || {
                rayon::join(
                    || inspect::load_users(&root),
                    || usage.then(|| inspect::usage::read_sources(&config_root, !req.no_processes)),
                )
            },
        );
        let found = found?;
        // Processes are the live host's, so their users come from the host's passwd.
        let process_users = if !usage || req.no_processes {
            inspect::Users::default()
        } else if root.is_chroot() {
            inspect::load_users(&HostRoot::host())
        } else {
            users.clone()
        };
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
        let usage = match sources {
            Some(sources) => inspect::usage::attach(&root, &venvs, sources),
            None => inspect::usage::Usage::default(),
        };
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
/// `MAX_JOBS_PER_CPU` per CPU. Returns the number and whether the request was capped.
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
    rayon::ThreadPoolBuilder::new().num_threads(jobs(req.jobs).0).build().map_err(Error::Threads)
}

/// Build the report of a scan with the given findings.
pub fn build_report(scan: Scan, findings: Vec<report::Finding>, req: &Request) -> Report {
    // The scan is consumed: a fleet report holds tens of thousands of packages, and a copy
    // would double peak memory.
    let mut report = Report {
        schema_version: report::SCHEMA_VERSION,
        tool: report::Tool::default(),
        generated_at: crate::time::rfc3339(std::time::SystemTime::now()),
        detail: report::Detail::Full,
        host: scan.host.host,
        venvs: scan.venvs.into_iter().map(|i| i.venv).collect(),
        findings,
        errors: scan.errors,
        warnings: scan.warnings,
        osv_db: None,
        summary: report::Summary::default(),
        artifact: None,
    };
    report.finish();
    report::compact::apply(&mut report, req.detail().unwrap_or_default(), req.packages);
    report
}

/// The families a check request runs: the selected ones (all by default), integrity only with
/// `verify`, since it reads every installed file.
fn families(req: &Request) -> std::collections::BTreeSet<Family> {
    Family::ALL
        .iter()
        .copied()
        .filter(|&f| {
            req.wants(f) && (f != Family::Integrity || req.verify) && (f != Family::Drift || req.lock.is_some())
        })
        .collect()
}

/// The environment variable naming the CPython advisory file.
pub const CPYTHON_DB_ENV: &str = "VENVAUDIT_CPYTHON_DB";

/// The CPython advisory file: `cpython_db`, else `$VENVAUDIT_CPYTHON_DB`, else the default path
/// beside the PyPI database. `Ok((None, Some(path)))` when none is at the path looked at; a
/// file named explicitly that does not exist, or one that cannot be read, is an error.
pub(crate) fn cpython_db(req: &Request) -> Result<(Option<osv::cpython::CpythonDb>, Option<String>)> {
    let named = req.cpython_db.clone().or_else(|| std::env::var(CPYTHON_DB_ENV).ok().filter(|s| !s.is_empty()));
    let path = named.clone().unwrap_or_else(|| osv::cpython::DEFAULT_PATH.to_owned());
    if named.is_none() && !std::path::Path::new(&path).exists() {
        return Ok((None, Some(path)));
    }
    Ok((Some(osv::cpython::load(std::path::Path::new(&path)).map_err(Error::CpythonDb)?), None))
}

/// The warnings (and with `require_osv_db` the finding) about the CPython advisory file:
/// missing, or older than `osv_max_age_days`; and which interpreters were not matched because
/// their OS owns them.
fn cpython_db_notes(
    req: &Request,
    db: Option<&osv::cpython::CpythonDb>,
    missing: Option<&str>,
    pythons: &[&report::Python],
    warnings: &mut Vec<String>,
    findings: &mut Vec<report::Finding>,
) {
    if let Some(looked) = missing {
        let what = format!(
            "interpreter vulnerabilities not checked: no CPython advisory file at {looked} (build one with `venvaudit db cpython`, give --cpython-db or {CPYTHON_DB_ENV})"
        );
        if req.require_osv_db {
            findings.push(
                report::Finding::new(
                    FindingId::OsvDbMissing,
                    report::Severity::Error,
                    None,
                    what.clone(),
                    "Build the CPython advisory file (`venvaudit db cpython --from cvelistV5.zip --output PATH`) where there is internet and copy it to that path, or point --cpython-db at it",
                )
                .detail("looked_at", looked),
            );
        }
        warnings.push(what);
    }
    if let Some(db) = db
        && let Some(newest) = db.newest_source_date()
        && let Some(age) = crate::time::age_days(newest, req.today())
    {
        let max = req.osv_max_age_days.unwrap_or(osv::DEFAULT_MAX_AGE_DAYS);
        if age > i64::from(max) {
            warnings.push(format!(
                "the CPython advisory file is {age} days old (newest source dated {newest}; more than {max}): CVEs published since are not checked"
            ));
        }
    }
    if db.is_some() {
        let mut owned: Vec<String> = pythons
            .iter()
            .filter(|p| checks::cpython::os_owned(p))
            .filter_map(|p| p.owner.as_ref().and_then(|o| o.package.clone()).or_else(|| p.base_executable.clone()))
            .collect();
        owned.sort();
        owned.dedup();
        if !owned.is_empty() {
            warnings.push(format!(
                "interpreters owned by the OS package manager ({}) are not matched against CPython CVEs: the vendor backports fixes under the same version, and its tracker (debsecan, dnf updateinfo) covers them",
                owned.join(", ")
            ));
        }
    }
}

/// `check`: scan, run every selected check family, apply the ignore policy.
pub fn check(req: &Request, progress: &Progress) -> Result<Report> {
    check_with_db(req, progress).map(|(report, _)| report)
}

/// [`check`], also returning the vulnerability database it loaded (the remediation plan
/// chooses versions with it).
pub(crate) fn check_with_db(req: &Request, progress: &Progress) -> Result<(Report, Option<osv::Database>)> {
    req.detail()?;
    let policy = ignore::Policy::load(req)?;
    let forbid = crate::parse::spec::parse_specs(&req.forbid)?;
    // The vulnerability database: named, from the environment, or at the default path. Its
    // absence is never silent: a warning, and with `require_osv_db` a failed gate.
    let mut req = req.clone();
    let wants_vulns = req.wants(Family::Vulnerabilities);
    let mut db_missing = None;
    if wants_vulns {
        match osv::locate(req.osv_db.as_deref()) {
            Ok(p) => req.osv_db = Some(p),
            Err(missing) => db_missing = Some(missing.looked),
        }
    }
    let req = &req;
    let db = match &req.osv_db {
        Some(p) if wants_vulns => Some(osv::load(std::path::Path::new(p))?),
        _ => None,
    };
    let (cpython, cpython_missing) = if wants_vulns { cpython_db(req)? } else { (None, None) };
    // Extensions read the services' LD_LIBRARY_PATH; usage judges processes and services.
    let needs_usage = req.detail().ok() != Some(report::Detail::Summary)
        || req.wants(report::Family::Usage)
        || req.wants(report::Family::Extensions);
    let mut scan = scan_with(req, progress, needs_usage)?;
    let target = match &req.target_python {
        Some(p) => {
            let view = view_path(&scan.root, p);
            let t = inspect::target::inspect_interpreter_file(&scan.root, &scan.host.libs, &view)
                .map_err(Error::TargetPython)?;
            Some(t)
        }
        None => None,
    };
    // The application's imports make the modules they reach required (extensions only).
    let app = match &req.app {
        Some(p) if req.wants(Family::Extensions) => {
            let (app, errors) =
                inspect::imports::app_imports(&scan.root, &view_path(&scan.root, p)).map_err(Error::App)?;
            scan.errors.extend(errors);
            Some(app)
        }
        _ => None,
    };
    // `--lock`: read once, compared with every environment for its own interpreter.
    let mut lock = match &req.lock {
        Some(l) => {
            let real = PathBuf::from(l);
            let input =
                checks::artifact::Input { shown: l.clone(), kind: checks::artifact::InputKind::of(&real), real };
            let parsed =
                checks::artifact::read_lock(&input).map_err(|e| Error::Artifact(format!("--lock {l}: {e}")))?;
            scan.errors.extend(parsed.problems.iter().map(|p| ScanError { path: l.clone(), message: p.to_string() }));
            Some((l.clone(), parsed))
        }
        None => None,
    };
    // Checks (ELF reads, --verify hashing) and the environments configuration names outside
    // the scanned paths honour --jobs too.
    let mut outcome = worker_pool(req)?.install(|| -> Result<checks::Outcome> {
        let servers = resolve_servers(req, &scan)?;
        let inputs = Inputs {
            families: families(req),
            db: db.as_ref(),
            target,
            forbid,
            today: req.today(),
            servers,
            app,
            cpython_db: cpython.as_ref(),
            lock: lock.take(),
        };
        Ok(checks::run_all(&scan, &inputs))
    })?;
    let osv_db = db.as_ref().map(|d| d.describe());
    // The one scope rule for every family: configuration names environments anywhere on
    // the host, but a request about some paths answers about those paths only.
    outcome.findings.retain(|f| scan.scope.covers_finding(f));
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
    if let Some(newest) = osv_db.as_ref().and_then(|d| d.newest_modified.as_deref())
        && let Some(age) = crate::time::age_days(newest, req.today())
    {
        let max = req.osv_max_age_days.unwrap_or(osv::DEFAULT_MAX_AGE_DAYS);
        if age > i64::from(max) {
            scan.warnings.push(format!(
                "the OSV database is {age} days old (newest record modified {newest}; more than {max}): advisories published since are not checked"
            ));
        }
    }
    let pythons: Vec<&report::Python> = scan.venvs.iter().map(|v| &v.venv.python).collect();
    let mut notes = Vec::new();
    cpython_db_notes(req, cpython.as_ref(), cpython_missing.as_deref(), &pythons, &mut notes, &mut outcome.findings);
    scan.warnings.extend(notes);
    policy.apply(&mut outcome.findings, req.today());
    scan.errors.append(&mut outcome.errors);
    for (venv, used) in outcome.used_by {
        if let Some(v) = scan.venvs.iter_mut().find(|v| v.venv.path == venv) {
            v.venv.used_by.push(used);
        }
    }
    let mut report = build_report(scan, outcome.findings, req);
    report.osv_db = osv_db;
    Ok((report, db))
}

/// The scanned system's `python3`, as a shell's PATH finds it on a distribution or in an
/// official image: `/usr/local/bin` first, then `/usr/bin`, `/bin`.
const DEFAULT_PYTHONS: &[&str] = &["/usr/local/bin/python3", "/usr/bin/python3", "/bin/python3"];

/// The version of musl the scanned system's C library is, from the version string it holds
/// (`1.2.4`), when its C library is musl.
fn musl_version(root: &HostRoot, host: &HostFacts) -> Option<(u32, u32)> {
    if host.libc.flavor != Some(crate::parse::elf::LibcFlavor::Musl) {
        return None;
    }
    let bytes = root.read_bounded(std::path::Path::new(host.libc.path.as_deref()?), 8 << 20).ok()?;
    bytes.split(|&b| b == 0).find_map(|s| {
        let t = std::str::from_utf8(s).ok()?;
        let mut it = t.split('.');
        let (a, b, c) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some()
            || a != "1"
            || !b.bytes().all(|x| x.is_ascii_digit())
            || c.is_empty()
            || !c.bytes().all(|x| x.is_ascii_digit())
        {
            return None;
        }
        Some((1, b.parse().ok()?))
    })
}

/// Fill in the full version and ABI flags of an interpreter whose facts give only X.Y, from
/// its installation's files (build-details.json, patchlevel.h).
fn complete_version(root: &HostRoot, py: &mut report::Python) {
    let Some(xy) = py.version.as_deref().map(report::major_minor) else { return };
    let prefix = py.base_prefix.clone().map(PathBuf::from).or_else(|| {
        py.base_executable.as_deref().and_then(|e| std::path::Path::new(e).parent()?.parent().map(PathBuf::from))
    });
    let Some(prefix) = prefix else { return };
    if let Some((v, flags, evidence)) = inspect::interpreter::full_version(root, &prefix, &xy) {
        if py.version.as_deref().is_none_or(|cur| cur.len() <= xy.len() || cur != v) {
            py.version = Some(v);
            py.evidence.insert("full_version".into(), evidence);
        }
        if let (Some(f), None) = (flags, &py.abi) {
            let arch = py.machine.clone().unwrap_or_else(|| std::env::consts::ARCH.into());
            py.abi = Some(format!("cpython-{}{f}-{arch}-linux-gnu", xy.replace('.', "")));
        }
    } else {
        py.evidence.insert(
            "full_version".into(),
            "not found (no build-details.json or patchlevel.h): markers on the micro version are judged with X.Y"
                .into(),
        );
    }
}

/// `check-artifact`: select the wheels an installer would pick for the target and judge them
/// before anything is installed.
pub fn check_artifact(req: &Request, progress: &Progress) -> Result<Report> {
    req.detail()?;
    if req.artifacts.is_empty() {
        return Err(Error::Artifact("check-artifact needs at least one artefact (a wheelhouse, a .whl, pylock.toml, requirements.txt or uv.lock)".into()));
    }
    if req.artifacts.iter().chain(&req.find_links).any(|p| p.trim().is_empty()) {
        return Err(Error::EmptyPath);
    }
    let chosen =
        [req.target_python.is_some(), req.venv.is_some(), req.mod_wsgi.is_some()].iter().filter(|&&b| b).count();
    if chosen > 1 {
        return Err(Error::Artifact("give one target: --target-python, --venv or --mod-wsgi".into()));
    }
    let policy = ignore::Policy::load(req)?;
    let forbid = crate::parse::spec::parse_specs(&req.forbid)?;
    let mut req = req.clone();
    let wants_vulns = req.wants(Family::Vulnerabilities);
    let mut warnings = Vec::new();
    if wants_vulns {
        match osv::locate(req.osv_db.as_deref()) {
            Ok(p) => req.osv_db = Some(p),
            Err(missing) => warnings.push(format!(
                "vulnerabilities not checked: no OSV database at {} (give --osv-db or {})",
                missing.looked,
                osv::DB_ENV
            )),
        }
    }
    let req = &req;
    let db = match &req.osv_db {
        Some(p) if wants_vulns => Some(osv::load(std::path::Path::new(p))?),
        _ => None,
    };
    let (cpython, cpython_missing) = if wants_vulns { cpython_db(req)? } else { (None, None) };
    let inputs: Vec<checks::artifact::Input> = req
        .artifacts
        .iter()
        .map(|a| {
            let real = PathBuf::from(a);
            if !real.exists() {
                return Err(Error::Artifact(format!("{a}: no such file or directory")));
            }
            let kind = checks::artifact::InputKind::of(&real);
            Ok(checks::artifact::Input { shown: a.clone(), real, kind })
        })
        .collect::<Result<_>>()?;
    let find_links: Vec<(PathBuf, String)> = req
        .find_links
        .iter()
        .map(|d| {
            let real = PathBuf::from(d);
            if !real.is_dir() {
                return Err(Error::Artifact(format!("--find-links {d}: not a directory")));
            }
            Ok((real, d.clone()))
        })
        .collect::<Result<_>>()?;

    // The target: a venv (scanned, so its report entry is shown), an interpreter, mod_wsgi's
    // Python, or the system's python3.
    let mut scan = match &req.venv {
        Some(v) => {
            let r = Request {
                paths: vec![v.clone()],
                max_depth: Some(0),
                checks: vec![Family::Interpreter],
                ..req.clone()
            };
            scan_with(&r, progress, false)?
        }
        None => {
            let root = match &req.root {
                Some(rt) => HostRoot::at(std::path::Path::new(rt)).map_err(|cause| Error::Root {
                    option: "--root",
                    path: rt.clone(),
                    cause,
                })?,
                None => HostRoot::host(),
            };
            let host = HostFacts::gather(&root);
            Scan {
                config_root: match &req.config_root {
                    Some(c) => HostRoot::at(std::path::Path::new(c)).map_err(|cause| Error::Root {
                        option: "config_root",
                        path: c.clone(),
                        cause,
                    })?,
                    None => root.clone(),
                },
                scope: host::scope::Scope::new(&root, &[], discover::build_excludes(&[])?),
                root,
                host,
                venvs: Vec::new(),
                errors: Vec::new(),
                usage: Default::default(),
                warnings: Vec::new(),
            }
        }
    };
    scan.warnings.extend(warnings);
    let (mut python, source) = if let Some(v) = &req.venv {
        let view = view_path(&scan.root, v);
        let shown = display(&view);
        let Some(found) = scan.venvs.iter().find(|i| i.venv.path == shown) else {
            return Err(Error::Artifact(format!("--venv {v}: not a Python environment")));
        };
        (found.venv.python.clone(), "venv")
    } else if let Some(p) = &req.target_python {
        let view = view_path(&scan.root, p);
        (
            inspect::target::inspect_interpreter_file(&scan.root, &scan.host.libs, &view)
                .map_err(Error::TargetPython)?,
            "target-python",
        )
    } else if let Some(m) = &req.mod_wsgi {
        let module = if m.is_empty() || m == "apache" {
            let configs = host::config::apache::load(&scan.config_root, &[]);
            configs.iter().find_map(|c| c.module("wsgi_module").map(|(p, _)| p)).ok_or_else(|| {
                Error::Artifact("--mod-wsgi: no Apache configuration loads wsgi_module (name the module: --mod-wsgi /path/mod_wsgi.so)".into())
            })?
        } else {
            view_path(&scan.root, m)
        };
        let e = inspect::embedded::inspect_module(&scan.root, &scan.host.libs, &module)
            .map_err(|cause| Error::ModWsgi { path: display(&module), cause })?;
        let arch = scan.host.host.arch.clone().unwrap_or_else(|| std::env::consts::ARCH.into());
        let mut py = report::Python {
            implementation: Some("CPython".into()),
            version: e.xy.clone(),
            abi: e.xy.as_ref().map(|xy| format!("cpython-{}-{arch}-linux-gnu", xy.replace('.', ""))),
            base_executable: e.libpython.as_ref().map(|p| display(p)),
            base_prefix: e.prefix.as_ref().map(|p| display(p)),
            base_exists: e.libpython.is_some(),
            machine: Some(arch),
            ..report::Python::default()
        };
        py.evidence.insert("version".into(), format!("{} ({})", display(&module), e.evidence));
        (py, "mod-wsgi")
    } else {
        let found = DEFAULT_PYTHONS.iter().map(std::path::Path::new).find(|p| scan.root.exists(p));
        let Some(exe) = found else {
            return Err(Error::Artifact(format!(
                "no python3 on the scanned system (looked at {}): name the target with --target-python, --venv or --mod-wsgi",
                DEFAULT_PYTHONS.join(", ")
            )));
        };
        let mut py =
            inspect::target::inspect_interpreter_file(&scan.root, &scan.host.libs, exe).map_err(Error::TargetPython)?;
        py.evidence.insert(
            "target".into(),
            format!("the scanned system's python3: {} (first of {})", display(exe), DEFAULT_PYTHONS.join(", ")),
        );
        (py, "python3")
    };
    complete_version(&scan.root, &mut python);
    let musl = musl_version(&scan.root, &scan.host);
    let target = checks::artifact::Target::new(python, &scan.host, source, musl);
    let app = match &req.app {
        Some(p) if req.wants(Family::Extensions) => {
            let (app, errors) =
                inspect::imports::app_imports(&scan.root, &view_path(&scan.root, p)).map_err(Error::App)?;
            scan.errors.extend(errors);
            Some(app)
        }
        _ => None,
    };
    let (mut artifact, mut findings, errors) = worker_pool(req)?.install(|| {
        let selection = checks::artifact::select(&target, &inputs, &find_links);
        let inputs = Inputs {
            families: families(req),
            db: db.as_ref(),
            target: None,
            forbid,
            today: req.today(),
            servers: checks::Servers::default(),
            app: None,
            cpython_db: cpython.as_ref(),
            lock: None,
        };
        let installed = scan.venvs.first().and_then(|v| v.venv.packages.as_deref());
        checks::artifact::judge(&scan.root, &scan.host, &target, selection, &inputs, app.as_ref(), installed)
    });
    if let Some(v) = scan.venvs.first() {
        artifact.changes = Some(checks::artifact::changes(&artifact, v));
    }
    scan.errors.extend(errors);
    // The target interpreter's own CVEs: the artefact will run on it.
    if let Some(c) = &cpython {
        findings.extend(checks::cpython::judge(c, &target.python, &artifact.path, "target interpreter"));
    }
    let mut notes = Vec::new();
    cpython_db_notes(req, cpython.as_ref(), cpython_missing.as_deref(), &[&target.python], &mut notes, &mut findings);
    scan.warnings.extend(notes);
    policy.apply(&mut findings, req.today());
    let osv_db = db.as_ref().map(|d| d.describe());
    let mut report = build_report(scan, findings, req);
    report.osv_db = osv_db;
    report.artifact = Some(artifact);
    Ok(report)
}

/// Load the server configuration the mod-wsgi and uwsgi families judge (only for a family
/// that is wanted), inspect `--mod-wsgi`, and resolve every home and `sys.path` entry the
/// configuration names, once, before the checks run.
fn resolve_servers(req: &Request, scan: &Scan) -> Result<checks::Servers> {
    // Configuration files are read under the configuration root; the modules and
    // environments they name are the scanned system's.
    let config_root = &scan.config_root;
    let named = |files: &[String], option: &'static str| -> Result<Vec<PathBuf>> {
        files
            .iter()
            .map(|f| {
                let p = view_path(config_root, f);
                if !config_root.exists(&p) {
                    return Err(Error::NoSuchFile { option, path: display(&p) });
                }
                Ok(p)
            })
            .collect()
    };
    let mut servers = checks::Servers::default();
    let (mut homes, mut entries) = (Vec::new(), Vec::new());
    if req.wants(Family::ModWsgi) {
        let files = named(&req.apache_config, "--apache-config")?;
        if let Some(m) = &req.mod_wsgi {
            let p = view_path(&scan.root, m);
            let module = inspect::embedded::inspect_module(&scan.root, &scan.host.libs, &p)
                .map_err(|cause| Error::ModWsgi { path: display(&p), cause })?;
            servers.mod_wsgi = Some(module);
        }
        let configs = host::config::apache::load(config_root, &files);
        let (h, e) = checks::mod_wsgi::paths_named(&configs);
        homes.extend(h);
        entries.extend(e);
        let forced = servers.mod_wsgi.is_some();
        servers.apache = configs
            .into_iter()
            .map(|config| {
                // With --mod-wsgi the configured module is not judged, so it is not read.
                let mod_wsgi = config.module("wsgi_module").filter(|_| !forced).map(|(path, d)| {
                    let embedded = inspect::embedded::inspect_module(&scan.root, &scan.host.libs, &path);
                    checks::LoadedModule { path, directive: d.clone(), embedded }
                });
                checks::ApacheServer { config, mod_wsgi }
            })
            .collect();
    }
    if req.wants(Family::Uwsgi) {
        let files = named(&req.uwsgi_config, "--uwsgi-config")?;
        let (apps, errors) = host::config::uwsgi::load(config_root, &files);
        servers.uwsgi_errors = errors.into_iter().map(|(path, message)| ScanError { path, message }).collect();
        let (h, e) = checks::uwsgi::paths_named(&apps);
        homes.extend(h);
        entries.extend(e);
        servers.uwsgi = apps
            .into_iter()
            .map(|app| {
                let plugin = inspect::embedded::uwsgi_python_plugin(
                    &scan.root,
                    &scan.host.libs,
                    &app,
                    &mut servers.uwsgi_errors,
                );
                checks::UwsgiServer { app, plugin }
            })
            .collect();
    }
    servers.hosted = HostedEnvs::resolve(&scan.root, &scan.host.libs, &scan.venvs, homes, entries);
    Ok(servers)
}

/// `facts`: scan and report, with the interpreter health findings.
pub fn facts(req: &Request, progress: &Progress) -> Result<Report> {
    req.detail()?;
    // A summary (`--summary` or `detail: summary`) shows neither in_use nor used_by: no
    // service or process is read for it.
    let scan = scan_with(req, progress, req.detail().ok() != Some(report::Detail::Summary))?;
    let findings: Vec<report::Finding> = scan.venvs.iter().flat_map(checks::venv_checks).collect();
    Ok(build_report(scan, findings, req))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error is one complete message (front-ends print `{e}`), and its cause is not
    /// repeated by an error chain (main prints `{e:#}` through anyhow).
    #[test]
    fn errors_name_the_input_and_carry_their_cause_once() {
        let missing = "/nonexistent-venvaudit-root";
        let req = Request::from_json(serde_json::json!({"root": missing, "paths": ["/srv"]})).unwrap();
        let Err(e) = scan(&req, &Progress::default()) else { panic!("a missing --root was accepted") };
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("cannot use --root {missing}: ")), "{msg}");
        assert!(msg.contains("No such file"), "{msg}");
        assert_eq!(format!("{:#}", anyhow::Error::from(e)), msg);

        let req =
            Request::from_json(serde_json::json!({"paths": ["/srv"], "forbid": ["django @ https://x/d.whl"]})).unwrap();
        let Err(e) = check(&req, &Progress::default()) else { panic!("a URL specifier was accepted") };
        assert!(matches!(e, Error::Spec(_)), "{e:?}");
        assert_eq!(
            format!("{:#}", anyhow::Error::from(e)),
            "invalid specifier \"django @ https://x/d.whl\": URL requirements cannot match installed versions"
        );

        // A --target-python that is not an ELF file: typed, named, and its cause told once.
        let dir = std::env::temp_dir().join(format!("venvaudit-target-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_elf = dir.join("python3.12");
        std::fs::write(&not_elf, "#!/bin/sh\n").unwrap();
        let req = Request::from_json(serde_json::json!({
            "paths": [dir.display().to_string()], "target_python": not_elf.display().to_string(), "checks": ["interpreter"],
        }))
        .unwrap();
        let Err(e) = check(&req, &Progress::default()) else { panic!("a shell script was taken for an interpreter") };
        assert!(matches!(e, Error::TargetPython(crate::inspect::target::TargetError::Unreadable { .. })), "{e:?}");
        let msg = format!("{:#}", anyhow::Error::from(e));
        assert!(
            msg.starts_with(&format!("--target-python: {} is not a readable interpreter: ", not_elf.display())),
            "{msg}"
        );
        assert_eq!(msg.matches("is not a readable interpreter").count(), 1, "{msg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn jobs_are_capped_per_cpu() {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        assert_eq!(jobs(Some(100_000)), (cpus * MAX_JOBS_PER_CPU, true));
        assert_eq!(jobs(Some(0)), (1, false));
        assert_eq!(jobs(Some(1)), (1, false));
        assert_eq!(jobs(None), (cpus, false));
    }
}
