//! Turning a recognised environment into facts: interpreter, packages, owner.

pub mod embedded;
pub mod getpath;
pub mod hosted;
pub mod imports;
pub mod interpreter;
pub mod owner;
pub mod packages;
pub mod target;
pub mod usage;
pub mod wheel;

use crate::discover::{Found, site_packages_dirs};
use crate::host::LibrarySearch;
use crate::host::paths::{HostRoot, display};
use crate::report::{Owner, ScanError, Venv};
use interpreter::InterpreterHealth;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// An inspected environment: its report entry plus what checks need that the report omits.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// The report entry (packages always filled here; summary mode drops them later).
    pub venv: Venv,
    /// Interpreter observations for the interpreter checks.
    pub health: InterpreterHealth,
    /// View path of the environment.
    pub path: PathBuf,
    /// site-packages directories (view paths).
    pub site_packages: Vec<PathBuf>,
    /// False when the environment sees system site-packages but the base installation could
    /// not be found: its inventory then lacks the system distributions.
    pub system_site_known: bool,
}

/// uid -> user name, from the scanned system's /etc/passwd.
pub type Users = HashMap<u32, String>;

/// Read /etc/passwd under `root`.
pub fn load_users(root: &HostRoot) -> Users {
    let text = root.read_text(std::path::Path::new("/etc/passwd"), 16 << 20).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_owned()))
        })
        .collect()
}

/// Inspect one environment. Unreadable parts become scan errors; the rest is still reported.
pub fn inspect_venv(
    root: &HostRoot,
    libs: &LibrarySearch,
    users: &Users,
    found: &Found,
) -> (Inspected, Vec<ScanError>) {
    let mut errors = Vec::new();
    let real = root.real(&found.path);
    let interp = interpreter::inspect_interpreter(root, libs, &found.path, found.marker);
    errors.extend(interp.read_errors.iter().map(|(p, m)| ScanError { path: p.clone(), message: m.clone() }));

    let site_packages: Vec<PathBuf> = site_packages_dirs(&real).iter().map(|p| root.view(p)).collect();
    // With include-system-site-packages, site.py appends the base installation's site dirs.
    let system_site: Option<Vec<PathBuf>> = match (&interp.base_prefix, &interp.stdlib) {
        _ if !interp.include_system_site_packages => Some(Vec::new()),
        (Some(bp), Some(lv)) => Some(getpath::system_site_dirs(root, &bp.prefix, lv)),
        _ => None,
    };
    let system_dirs = system_site.clone().unwrap_or_default();
    // A lib/ that cannot be listed hides site-packages itself: never "no packages".
    let mut unknown = interp.health.unknown;
    for lib in ["lib", "lib64"] {
        if let Err(e) = std::fs::read_dir(real.join(lib))
            && e.kind() == std::io::ErrorKind::PermissionDenied
        {
            unknown = true;
            errors.push(ScanError {
                path: display(&found.path.join(lib)),
                message: format!("cannot list: {e}; site-packages and its distributions are unknown"),
            });
        }
    }
    let scan = packages::inspect_packages(root, &site_packages, &system_dirs);
    unknown |= scan.errors.iter().any(|(_, m)| m.starts_with("cannot list site-packages"));
    errors.extend(scan.errors.into_iter().map(|(path, message)| ScanError { path, message }));

    let owner = match std::fs::symlink_metadata(&real) {
        Ok(m) => Owner { uid: Some(m.uid()), user: users.get(&m.uid()).cloned() },
        Err(_) => Owner::default(),
    };
    let venv = Venv {
        path: display(&found.path),
        kind: interp.kind,
        creator: interp.creator,
        python: interp.python,
        include_system_site_packages: interp.include_system_site_packages,
        site_packages: site_packages.iter().map(|p| display(p)).collect(),
        system_site_packages: system_dirs.iter().map(|p| display(p)).collect(),
        owner,
        package_count: scan.packages.len(),
        packages: Some(scan.packages),
        distributions: None,
        used_by_names: None,
        in_use_names: None,
        // `unknown` survives the report's health roll-up unless a finding says worse.
        health: if unknown { crate::report::Health::Unknown } else { crate::report::Health::Ok },
        used_by: Vec::new(),
        in_use: Vec::new(),
    };
    let system_site_known = system_site.is_some();
    (Inspected { venv, health: interp.health, path: found.path.clone(), site_packages, system_site_known }, errors)
}
/// Everything a scan learned; checks and front-ends work from this.
pub struct Scan {
    /// How paths map to the filesystem.
    pub root: crate::host::paths::HostRoot,
    /// Where service and web server configuration is read (`config_root`, else `root`).
    pub config_root: crate::host::paths::HostRoot,
    /// The requested paths: findings about environments elsewhere are not reported.
    pub scope: crate::host::scope::Scope,
    /// Host facts, C library and library search path.
    pub host: crate::host::HostFacts,
    /// Every inspected environment.
    pub venvs: Vec<Inspected>,
    /// Unreadable paths.
    pub errors: Vec<crate::report::ScanError>,
    /// Processes and services using each environment (index-aligned with `venvs`).
    pub usage: usage::Usage,
    /// Caveats about the whole scan.
    pub warnings: Vec<String>,
}
