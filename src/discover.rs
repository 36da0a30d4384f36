//! Walking scan roots and recognising Python environments.
//!
//! The walk is read-only and careful: it never follows symlinks unless asked (and then
//! walkdir's ancestor check stops loops), never crosses into pseudo or network filesystems,
//! stays on the root's filesystem unless `cross_mounts` is set, and does not descend into an
//! environment once recognised. Top-level subdirectories of a root are walked in parallel,
//! which pays on SSDs and network-free hosts where the walk is syscall-bound.

use crate::host::paths::{HostRoot, display};
use crate::report::ScanError;
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use walkdir::WalkDir;

/// Filesystem types never walked into: kernel pseudo filesystems and network filesystems
/// (slow, and their venvs belong to another host).
const SKIPPED_FS_TYPES: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "pstore",
    "bpf",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "binfmt_misc",
    "autofs",
    "rpc_pipefs",
    "nsfs",
    "efivarfs",
    "selinuxfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "fuse.sshfs",
    "sshfs",
    "9p",
    "afs",
    "ceph",
    "glusterfs",
    "fuse.glusterfs",
    "lustre",
    "gpfs",
    "davfs",
    "fuse.s3fs",
    "fuse.rclone",
    "fuse.gvfsd-fuse",
    "fuse.portal",
];

/// How the walk behaves.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Glob patterns of paths not to walk (a pattern without `/` matches a file name).
    pub exclude: Vec<String>,
    /// Maximum depth below each root.
    pub max_depth: Option<usize>,
    /// Follow symlinked directories (loops are detected and reported).
    pub follow_symlinks: bool,
    /// Walk into other local filesystems mounted below a root.
    pub cross_mounts: bool,
}

/// Which marker identified an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A PEP 405 `pyvenv.cfg` with an interpreter or site-packages beside it.
    PyvenvCfg,
    /// `conda-meta/history`.
    Conda,
    /// virtualenv < 20: `lib/pythonX.Y/orig-prefix.txt`.
    OrigPrefix,
}

/// A directory recognised as an environment, not yet inspected.
#[derive(Debug, Clone)]
pub struct Found {
    /// View path (as seen inside the scanned system).
    pub path: PathBuf,
    /// What identified it.
    pub marker: Marker,
}

/// What a walk produced.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Environments, in no particular order, without duplicates.
    pub found: Vec<Found>,
    /// Unreadable paths.
    pub errors: Vec<ScanError>,
}

/// Live counters for a progress line.
#[derive(Debug, Default)]
pub struct Progress {
    /// Directories visited so far.
    pub dirs: AtomicUsize,
    /// Environments recognised so far.
    pub venvs: AtomicUsize,
}

/// Walk every root (view paths) and return the environments under them.
pub fn discover(
    root: &HostRoot,
    roots: &[PathBuf],
    opts: &WalkOptions,
    progress: &Progress,
) -> Result<Discovery, ExcludeError> {
    let excludes = build_excludes(&opts.exclude)?;
    let skipped_mounts = skipped_mount_points();
    let ctx = WalkCtx { root, opts, excludes: &excludes, skipped_mounts: &skipped_mounts, progress };
    let parts: Vec<Discovery> = roots.par_iter().map(|r| ctx.walk_root(r)).collect();
    let mut out = Discovery::default();
    // The same environment reached twice (through --follow-symlinks, or two roots) is
    // reported once, under its link-free path when that was among the paths seen.
    let mut by_inode: std::collections::HashMap<(u64, u64), usize> = std::collections::HashMap::new();
    for part in parts {
        for f in part.found {
            let real = root.real(&f.path);
            let key = match std::fs::metadata(&real) {
                Ok(m) => (m.dev(), m.ino()),
                Err(_) => {
                    out.found.push(f);
                    continue;
                }
            };
            match by_inode.get(&key) {
                None => {
                    by_inode.insert(key, out.found.len());
                    out.found.push(f);
                }
                Some(&i) => {
                    let canonical = std::fs::canonicalize(&real).ok();
                    if canonical.as_deref() == Some(real.as_path()) {
                        out.found[i] = f;
                    }
                }
            }
        }
        out.errors.extend(part.errors);
    }
    Ok(out)
}

/// Most `--exclude` patterns (a glob set's memory grows with each; 300,000 took 2 GB).
pub const MAX_EXCLUDES: usize = 4096;
/// Longest `--exclude` pattern.
pub const MAX_EXCLUDE_BYTES: usize = 4096;

/// Why the `--exclude` patterns were refused.
#[derive(Debug, thiserror::Error)]
pub enum ExcludeError {
    /// More than [`MAX_EXCLUDES`] patterns.
    #[error("{0} --exclude patterns; at most {MAX_EXCLUDES} are accepted")]
    TooMany(usize),
    /// A pattern longer than [`MAX_EXCLUDE_BYTES`].
    #[error("an --exclude pattern is {0} bytes long; at most {MAX_EXCLUDE_BYTES}")]
    TooLong(usize),
    /// A pattern that is not a glob.
    #[error("invalid --exclude pattern {pattern:?}: {cause}")]
    Invalid {
        /// The pattern as given.
        pattern: String,
        /// The glob compiler's error.
        cause: globset::Error,
    },
    /// The patterns could not be compiled together.
    #[error("cannot compile the --exclude patterns: {0}")]
    Set(globset::Error),
}

/// The `--exclude` patterns as one glob set matched against view paths of directories.
/// More than [`MAX_EXCLUDES`] patterns, or one longer than [`MAX_EXCLUDE_BYTES`], is an error
/// before anything is compiled.
pub fn build_excludes(patterns: &[String]) -> Result<GlobSet, ExcludeError> {
    if patterns.len() > MAX_EXCLUDES {
        return Err(ExcludeError::TooMany(patterns.len()));
    }
    if let Some(p) = patterns.iter().find(|p| p.len() > MAX_EXCLUDE_BYTES) {
        return Err(ExcludeError::TooLong(p.len()));
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        // A bare name (`node_modules`) matches that name anywhere, as in ripgrep and rsync.
        let full = if p.contains('/') { p.clone() } else { format!("**/{p}") };
        b.add(Glob::new(&full).map_err(|cause| ExcludeError::Invalid { pattern: p.clone(), cause })?);
    }
    b.build().map_err(ExcludeError::Set)
}

/// Mount points (real paths) of filesystems that are never walked, from mountinfo.
fn skipped_mount_points() -> HashSet<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            // fields: id parent major:minor root mount-point options ... - fstype source opts
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split(' ').nth(4)?;
            let fstype = right.split(' ').next()?;
            SKIPPED_FS_TYPES.contains(&fstype).then(|| PathBuf::from(unescape_mountinfo(mount_point)))
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as octal `\ooo`.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct WalkCtx<'a> {
    root: &'a HostRoot,
    opts: &'a WalkOptions,
    excludes: &'a GlobSet,
    skipped_mounts: &'a HashSet<PathBuf>,
    progress: &'a Progress,
}

impl WalkCtx<'_> {
    fn walk_root(&self, view_root: &Path) -> Discovery {
        let mut out = Discovery::default();
        let real_root = self.root.real(view_root);
        let meta = match std::fs::metadata(&real_root) {
            Ok(m) => m,
            Err(e) => {
                out.errors.push(ScanError { path: display(view_root), message: format!("cannot scan: {e}") });
                return out;
            }
        };
        if !meta.is_dir() {
            out.errors.push(ScanError { path: display(view_root), message: "not a directory".into() });
            return out;
        }
        if let Some(marker) = recognise(&real_root) {
            self.push_found(&mut out, &real_root, marker);
            return out;
        }
        // Split the root into its children so they are walked in parallel.
        let children: Vec<PathBuf> = match std::fs::read_dir(&real_root) {
            Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(e) => {
                out.errors.push(ScanError { path: display(view_root), message: format!("cannot read directory: {e}") });
                return out;
            }
        };
        if self.opts.max_depth == Some(0) {
            return out;
        }
        let root_dev = meta.dev();
        let parts: Vec<Discovery> = children.par_iter().map(|child| self.walk_subtree(child, root_dev, 1)).collect();
        for p in parts {
            out.found.extend(p.found);
            out.errors.extend(p.errors);
        }
        out
    }

    /// Walk `start` (a real path at `depth` below its root).
    fn walk_subtree(&self, start: &Path, root_dev: u64, depth: usize) -> Discovery {
        let mut out = Discovery::default();
        // The children of a root are walked as roots of their own: a symlinked child must not
        // be followed unless asked (walkdir follows root links by default).
        let mut walker =
            WalkDir::new(start).follow_links(self.opts.follow_symlinks).follow_root_links(self.opts.follow_symlinks);
        if let Some(max) = self.opts.max_depth {
            walker = walker.max_depth(max.saturating_sub(depth));
        }
        let mut found = Vec::new();
        let mut escapes = Vec::new();
        let mut it = walker.into_iter().filter_entry(|e| self.accept(e, root_dev, &mut found, &mut escapes));
        loop {
            match it.next() {
                None => break,
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let path = e.path().map(|p| display(&self.root.view(p))).unwrap_or_default();
                    let message = if e.loop_ancestor().is_some() {
                        "symlink loop, not followed".to_owned()
                    } else if let Some(io) = e.io_error() {
                        match io.kind() {
                            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                            std::io::ErrorKind::NotFound => "vanished during the scan".to_owned(),
                            _ => io.to_string(),
                        }
                    } else {
                        e.to_string()
                    };
                    out.errors.push(ScanError { path, message });
                }
            }
        }
        for (real, marker) in found {
            self.push_found(&mut out, &real, marker);
        }
        out.errors.extend(escapes);
        out
    }

    /// Decide whether to descend into an entry; records environments on the way.
    fn accept(
        &self,
        e: &walkdir::DirEntry,
        root_dev: u64,
        found: &mut Vec<(PathBuf, Marker)>,
        escapes: &mut Vec<ScanError>,
    ) -> bool {
        if !e.file_type().is_dir() {
            return true;
        }
        let path = e.path();
        // --follow-symlinks under --root: the walker follows links as the scanning host sees
        // them, so a link is followed only where that is where it leads inside the root too
        // (relative links within the tree); an absolute link, or one climbing out, would
        // walk the host instead: not followed, and said.
        if self.opts.follow_symlinks && self.root.is_chroot() && e.path_is_symlink() {
            let view = self.root.view(path);
            let inside = self.root.resolve(&view).ok().map(|r| self.root.real(&r));
            let on_host = std::fs::canonicalize(path).ok();
            if inside.is_none() || inside != on_host {
                escapes.push(ScanError {
                    path: display(&view),
                    message: "symlink leads elsewhere on the scanning host than inside --root: not followed".into(),
                });
                return false;
            }
        }
        if !self.excludes.is_empty() && self.excludes.is_match(self.root.view(path)) {
            return false;
        }
        if self.skipped_mounts.contains(path) {
            return false;
        }
        if let Ok(meta) = e.metadata()
            && meta.dev() != root_dev
            && !self.opts.cross_mounts
        {
            return false;
        }
        self.progress.dirs.fetch_add(1, Ordering::Relaxed);
        if let Some(marker) = recognise(path) {
            found.push((path.to_path_buf(), marker));
            return false;
        }
        true
    }

    fn push_found(&self, out: &mut Discovery, real: &Path, marker: Marker) {
        self.progress.venvs.fetch_add(1, Ordering::Relaxed);
        out.found.push(Found { path: self.root.view(real), marker });
        // A conda installation holds further environments under envs/.
        if marker == Marker::Conda
            && let Ok(rd) = std::fs::read_dir(real.join("envs"))
        {
            for e in rd.flatten() {
                let p = e.path();
                if let Some(m) = recognise(&p) {
                    self.push_found(out, &p, m);
                }
            }
        }
    }
}

/// Is this real directory an environment? Costs three failed `lstat`s on an ordinary dir.
pub fn recognise(dir: &Path) -> Option<Marker> {
    // Any pyvenv.cfg counts, not only a regular file: a FIFO, device or dangling link there
    // must become an error naming it, not a venv that silently vanishes.
    if std::fs::symlink_metadata(dir.join("pyvenv.cfg")).is_ok() {
        // A stray pyvenv.cfg without an interpreter or site-packages is not a venv.
        return (has_interpreter_entry(dir) || !site_packages_dirs(dir).is_empty()).then_some(Marker::PyvenvCfg);
    }
    if dir.join("conda-meta").join("history").is_file() {
        return Some(Marker::Conda);
    }
    if std::fs::symlink_metadata(dir.join("bin").join("activate")).is_ok() {
        let has_orig = lib_python_dirs(dir).iter().any(|d| d.join("orig-prefix.txt").is_file());
        if has_orig {
            return Some(Marker::OrigPrefix);
        }
    }
    None
}

/// True when `bin/` holds a `python*` or `pypy*` entry, even a dangling link: a venv whose
/// base interpreter vanished is still a venv (a broken one).
fn has_interpreter_entry(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("bin"))
        .map(|rd| {
            rd.flatten().any(|e| {
                let n = e.file_name();
                let n = n.as_encoded_bytes();
                n.starts_with(b"python") || n.starts_with(b"pypy")
            })
        })
        .unwrap_or(false)
}

/// `lib/python*`, `lib/pypy*` (and `lib64/`) directories of an environment (real paths).
pub fn lib_python_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for lib in ["lib", "lib64"] {
        let Ok(rd) = std::fs::read_dir(dir.join(lib)) else { continue };
        let mut names: Vec<PathBuf> = rd
            .flatten()
            .filter(|e| {
                let n = e.file_name();
                let n = n.as_encoded_bytes();
                n.starts_with(b"python") || n.starts_with(b"pypy")
            })
            .map(|e| e.path())
            .collect();
        names.sort();
        for p in names {
            let key = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if p.is_dir() && seen.insert(key) {
                out.push(p);
            }
        }
    }
    out
}

/// `site-packages` directories of an environment (real paths), in `sys.path` order.
pub fn site_packages_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        lib_python_dirs(dir).into_iter().map(|d| d.join("site-packages")).filter(|d| d.is_dir()).collect();
    // PyPy before 3.8 and some relocations keep site-packages at the top.
    let top = dir.join("site-packages");
    if out.is_empty() && top.is_dir() {
        out.push(top);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclude_patterns_are_bounded_before_compiling() {
        let many: Vec<String> = (0..=MAX_EXCLUDES).map(|i| format!("dir{i}")).collect();
        let e = build_excludes(&many).unwrap_err().to_string();
        assert!(e.contains("at most 4096"), "{e}");
        assert!(build_excludes(&["x".repeat(MAX_EXCLUDE_BYTES + 1)]).is_err());
        let ok = build_excludes(&["node_modules".into(), "/srv/*/cache".into()]).unwrap();
        assert!(ok.is_match("/a/node_modules"));
    }
}
