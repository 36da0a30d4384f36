//! "In use": which processes and services use each environment, and what changed in an
//! environment since a process using it started. Processes come from /proc (always the live
//! host's, even under `--root`); service configuration is read through the root.

use crate::host::config::{self, ServiceRef};
use crate::host::paths::{HostRoot, display};
use crate::host::procfs::{self, Process, ProcessTable};
use crate::inspect::Inspected;
use crate::report::{InUse, UsageKind, UsedBy};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Finds the environment a path lies in, by view path and by canonical real path.
pub struct VenvIndex {
    by_path: HashMap<PathBuf, usize>,
}

impl VenvIndex {
    /// Index the environments of a scan.
    pub fn new(root: &HostRoot, venvs: &[Inspected]) -> Self {
        let mut by_path = HashMap::new();
        for (i, v) in venvs.iter().enumerate() {
            by_path.insert(v.path.clone(), i);
            // Processes see resolved paths (maps, fds, cwd): index the resolved location too.
            if let Ok(resolved) = root.resolve(&v.path) {
                by_path.insert(resolved.clone(), i);
                by_path.insert(root.real(&resolved), i);
            }
        }
        VenvIndex { by_path }
    }

    /// The environment containing `p` (or equal to it).
    pub fn owner(&self, p: &Path) -> Option<usize> {
        p.ancestors().find_map(|a| self.by_path.get(a).copied())
    }
}

/// A process that uses an environment.
#[derive(Debug, Clone)]
pub struct ProcessUse {
    /// The process.
    pub process: Process,
    /// Why it counts as using the environment (`cmdline`, `cwd`, `maps`, `open-files`, `VIRTUAL_ENV`).
    pub reasons: Vec<&'static str>,
    /// Files of the environment the process maps that were deleted or replaced since.
    pub deleted: Vec<PathBuf>,
}

/// A distribution's metadata directory and when it was last written.
#[derive(Debug, Clone)]
pub struct DistStamp {
    /// Normalised distribution name.
    pub name: String,
    /// Version installed now.
    pub version: String,
    /// mtime of the dist-info directory or its RECORD, whichever is newer.
    pub modified: SystemTime,
}

/// Usage facts of one environment.
#[derive(Debug, Clone, Default)]
pub struct VenvUsage {
    /// Processes using it.
    pub processes: Vec<ProcessUse>,
    /// Configuration that points at it.
    pub used_by: Vec<UsedBy>,
    /// For environments in use: when each distribution was last installed.
    pub dist_stamps: Vec<DistStamp>,
    /// For environments in use: newest mtime of its site-packages directories (an entry was
    /// added or removed then).
    pub site_packages_modified: Option<SystemTime>,
    /// Top-level names (first RECORD path component) -> distribution, for mapping deleted
    /// mapped files back to the distribution that owned them.
    pub top_levels: HashMap<String, String>,
    /// LD_LIBRARY_PATH directories that services using the environment set (systemd
    /// `Environment=`, supervisor `environment=`), in configuration order.
    pub library_path: Vec<PathBuf>,
}

/// A service directive naming an environment path that does not exist.
#[derive(Debug, Clone)]
pub struct MissingVenv {
    /// The directive.
    pub reference: ServiceRef,
    /// The environment path it names.
    pub path: PathBuf,
}

/// How complete the process view is.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessView {
    /// /proc was read.
    pub scanned: bool,
    /// Processes whose details were unreadable.
    pub partial: usize,
    /// Running as root: every process is readable unless the kernel or a sandbox hides it.
    pub as_root: bool,
}

impl ProcessView {
    /// Whether "no process uses it" can be trusted.
    pub fn complete(&self) -> bool {
        self.scanned && (self.as_root || self.partial == 0)
    }
}

/// Usage facts of a scan, index-aligned with `Scan::venvs`.
#[derive(Debug, Default)]
pub struct Usage {
    /// Per environment.
    pub per_venv: Vec<VenvUsage>,
    /// Service references to environments that no longer exist.
    pub missing: Vec<MissingVenv>,
    /// Completeness of the process view.
    pub view: ProcessView,
}

/// What usage is judged from, read before the environments are known (so a scan reads it
/// while it discovers them): service references and the process table.
pub struct Sources {
    refs: Vec<ServiceRef>,
    table: Option<ProcessTable>,
}

/// Read the sources of usage: static service references always (under `config_root`),
/// processes unless `read_procs` is false.
pub fn read_sources(config_root: &HostRoot, read_procs: bool) -> Sources {
    let mut refs = config::systemd::read_units(config_root);
    refs.extend(config::supervisor::read_programs(config_root));
    refs.extend(config::cron::read_crontabs(config_root));
    let table = read_procs.then(|| procfs::read_processes(Path::new("/proc")));
    Sources { refs, table }
}

/// Usage of `venvs` from sources read by [`read_sources`].
pub fn attach(root: &HostRoot, venvs: &[Inspected], sources: Sources) -> Usage {
    let index = VenvIndex::new(root, venvs);
    let mut usage = Usage { per_venv: vec![VenvUsage::default(); venvs.len()], ..Usage::default() };
    let Sources { refs, table } = sources;
    // LD_LIBRARY_PATH is set on one line of a unit and the venv named on another: join them
    // by unit (or supervisor program).
    let mut library_paths: HashMap<(UsageKind, String), Vec<PathBuf>> = HashMap::new();
    for r in &refs {
        if let Some(g) = &r.group
            && !r.library_path.is_empty()
        {
            library_paths.entry((r.kind, g.clone())).or_default().extend(r.library_path.iter().cloned());
        }
    }
    for r in refs {
        attach_reference(root, &index, &mut usage, r);
    }
    for u in &mut usage.per_venv {
        for by in &u.used_by {
            let Some(g) = &by.group else { continue };
            // Units and supervisor programs set LD_LIBRARY_PATH; nothing else does.
            if !matches!(by.kind, UsageKind::Systemd | UsageKind::Supervisor) {
                continue;
            }
            let key = (by.kind, g.clone());
            for d in library_paths.get(&key).into_iter().flatten() {
                if !u.library_path.contains(d) {
                    u.library_path.push(d.clone());
                }
            }
        }
    }

    if let Some(table) = table {
        usage.view = ProcessView { scanned: true, partial: table.partial, as_root: table.as_root };
        for p in table.processes {
            for (i, reasons, deleted) in uses(&index, &p) {
                usage.per_venv[i].processes.push(ProcessUse { process: p.clone(), reasons, deleted });
            }
        }
        for (i, u) in usage.per_venv.iter_mut().enumerate() {
            if !u.processes.is_empty() {
                stamp(root, &venvs[i], u);
            }
        }
    }
    usage
}

/// The report's `in_use[]` for one environment.
pub fn in_use(u: &VenvUsage, users: &crate::inspect::Users) -> Vec<InUse> {
    let mut out: Vec<InUse> = u
        .processes
        .iter()
        .map(|pu| InUse {
            pid: pu.process.pid,
            user: pu.process.uid.and_then(|uid| users.get(&uid).cloned().or(Some(uid.to_string()))),
            cmdline: crate::parse::redact::redact_cmdline(&pu.process.cmdline),
            started_at: pu.process.started.map(crate::time::rfc3339),
            unit: pu.process.unit.clone(),
            reasons: pu.reasons.iter().map(|r| r.to_string()).collect(),
        })
        .collect();
    out.sort_by_key(|i| i.pid);
    out
}

fn attach_reference(root: &HostRoot, index: &VenvIndex, usage: &mut Usage, r: ServiceRef) {
    let mut hit: Vec<usize> = Vec::new();
    for p in r.paths.iter().chain(&r.venv_roots) {
        if let Some(i) = index.owner(p)
            && !hit.contains(&i)
        {
            hit.push(i);
        }
    }
    for &i in &hit {
        usage.per_venv[i].used_by.push(UsedBy {
            kind: r.kind,
            file: display(&r.file),
            line: r.line,
            group: r.group.clone(),
        });
    }
    if !hit.is_empty() {
        return;
    }
    // Nothing found: was one of the named paths an environment that no longer exists?
    let missing = r
        .venv_roots
        .iter()
        .find(|p| !root.exists(p))
        .cloned()
        .or_else(|| r.paths.iter().find_map(|p| missing_venv_of_executable(root, p)));
    if let Some(path) = missing {
        usage.missing.push(MissingVenv { reference: r, path });
    }
}

/// For `X/bin/prog` where X does not exist and looks like an environment (or prog is a
/// Python interpreter), return X.
fn missing_venv_of_executable(root: &HostRoot, p: &Path) -> Option<PathBuf> {
    let bin = p.parent()?;
    if bin.file_name()? != "bin" {
        return None;
    }
    let venv = bin.parent()?;
    if venv == Path::new("/") || venv == Path::new("/usr") || venv == Path::new("/usr/local") || root.exists(venv) {
        return None;
    }
    let prog = p.file_name()?.to_string_lossy();
    (prog.starts_with("python") || config::looks_like_venv_path(venv)).then(|| venv.to_path_buf())
}

/// Which environments a process uses, why, and the deleted files it maps from each.
fn uses(index: &VenvIndex, p: &Process) -> Vec<(usize, Vec<&'static str>, Vec<PathBuf>)> {
    let mut found: Vec<(usize, Vec<&'static str>, Vec<PathBuf>)> = Vec::new();
    let mut add = |i: usize, why: &'static str, deleted: Option<&PathBuf>| {
        let pos = match found.iter().position(|(j, _, _)| *j == i) {
            Some(pos) => pos,
            None => {
                found.push((i, Vec::new(), Vec::new()));
                found.len() - 1
            }
        };
        let entry = &mut found[pos];
        if !entry.1.contains(&why) {
            entry.1.push(why);
        }
        if let Some(d) = deleted {
            entry.2.push(d.clone());
        }
    };
    for (n, arg) in p.cmdline.iter().enumerate().take(64) {
        let path = Path::new(arg);
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else if n == 0 || arg.contains('/') {
            match &p.cwd {
                Some(cwd) => cwd.join(path),
                None => continue,
            }
        } else {
            continue;
        };
        if let Some(i) = index.owner(&abs) {
            add(i, "cmdline", None);
        }
    }
    if let Some(i) = p.cwd.as_deref().and_then(|c| index.owner(c)) {
        add(i, "cwd", None);
    }
    if let Some(i) = p.virtual_env.as_deref().and_then(|v| index.owner(v)) {
        add(i, "VIRTUAL_ENV", None);
    }
    for m in &p.maps {
        if let Some(i) = index.owner(&m.path) {
            add(i, "maps", m.deleted.then_some(&m.path));
        }
    }
    for f in &p.open_files {
        let f = Path::new(f.to_str().map(|s| s.trim_end_matches(" (deleted)")).unwrap_or_default());
        if let Some(i) = index.owner(f) {
            add(i, "open-files", None);
        }
    }
    found
}

/// Stat the distributions of an environment in use.
fn stamp(root: &HostRoot, v: &Inspected, u: &mut VenvUsage) {
    for sp in &v.site_packages {
        let real = root.real(sp);
        if let Ok(m) = std::fs::metadata(&real) {
            let t = m.modified().ok();
            u.site_packages_modified = u.site_packages_modified.max(t);
        }
    }
    // One listing per location, not one per distribution: normalised name -> dist-info dir.
    let mut dist_infos: HashMap<(String, String), PathBuf> = HashMap::new();
    let locations: std::collections::BTreeSet<&str> = v
        .venv
        .packages
        .iter()
        .flatten()
        .filter(|p| p.metadata_format == crate::report::MetadataFormat::DistInfo)
        .map(|p| &*p.location)
        .collect();
    for loc in locations {
        let Ok(rd) = std::fs::read_dir(root.real(Path::new(loc))) else { continue };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".dist-info") else { continue };
            let dist = stem.rsplit_once('-').map(|(n, _)| n).unwrap_or(stem);
            dist_infos.insert((loc.to_owned(), crate::inspect::packages::normalize_name(dist)), e.path());
        }
    }
    // RECORDs are only needed to name the owners of deleted mapped files.
    let need_owners = u.processes.iter().any(|p| !p.deleted.is_empty());
    for pkg in v.venv.packages.iter().flatten() {
        let Some(dir) = dist_infos.get(&(pkg.location.to_string(), pkg.normalized_name.clone())) else { continue };
        let dir_time = std::fs::metadata(dir).ok().and_then(|m| m.modified().ok());
        let record_time = std::fs::metadata(dir.join("RECORD")).ok().and_then(|m| m.modified().ok());
        if let Some(modified) = dir_time.max(record_time) {
            u.dist_stamps.push(DistStamp { name: pkg.normalized_name.clone(), version: pkg.version.clone(), modified });
        }
        if !need_owners {
            continue;
        }
        // Through the root, like every other metadata read: a RECORD may be a link.
        if let Ok(b) = root.read_bounded(&root.view(&dir.join("RECORD")), 16 << 20) {
            for path in crate::parse::record::paths(&String::from_utf8_lossy(&b)) {
                if let Some(top) =
                    path.split('/').next().filter(|t| !t.is_empty() && *t != ".." && !t.ends_with(".dist-info"))
                {
                    let top = top.strip_suffix(".py").unwrap_or(top);
                    u.top_levels.entry(top.to_owned()).or_insert_with(|| pkg.normalized_name.clone());
                }
            }
        }
    }
}

/// The distribution that owned a (deleted) file of site-packages, using the current
/// RECORDs. pip moves a directory aside before removing it, renaming `yaml` to `~aml`
/// (the first letter replaced by `~`); such names are mapped back by their tail.
pub fn owning_distribution(u: &VenvUsage, site_packages: &[PathBuf], file: &Path) -> Option<String> {
    let rel = site_packages.iter().find_map(|sp| file.strip_prefix(sp).ok())?;
    let top = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
    let top = top.split('.').next().unwrap_or(&top).to_owned();
    if let Some(d) = u.top_levels.get(&top) {
        return Some(d.clone());
    }
    if top.starts_with('~') {
        // pip (AdjacentTempDirectory) renames `name` to `~` + filler + name[i:], keeping the
        // length, with filler drawn from "-~.=%0123456789" when shorter names are taken.
        let tail = top.trim_start_matches(['~', '-', '.', '=', '%', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
        let mut hits: Vec<&String> = u
            .top_levels
            .iter()
            .filter(|(name, _)| name.len() == top.len() && name.ends_with(tail))
            .map(|(_, d)| d)
            .collect();
        hits.sort();
        hits.dedup();
        if hits.len() == 1 {
            return Some(hits[0].clone());
        }
    }
    Some(top)
}
