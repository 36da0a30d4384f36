//! Turning a recognised environment into facts: interpreter, packages, owner.

pub mod elf;
pub mod getpath;
pub mod interpreter;
pub mod packages;
pub mod pyvenv_cfg;
pub mod target;

use crate::discover::{Found, site_packages_dirs};
use crate::host::LibrarySearch;
use crate::paths::{HostRoot, display};
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
    let scan = packages::inspect_packages(root, &site_packages);
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
        owner,
        package_count: scan.packages.len(),
        packages: Some(scan.packages),
        health: String::new(),
        used_by: Vec::new(),
        in_use: Vec::new(),
    };
    (Inspected { venv, health: interp.health, path: found.path.clone(), site_packages }, errors)
}
