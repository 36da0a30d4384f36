//! `unsafe-permissions`: a venv whose code someone other than its owner (or root) can change.
//! A root-run service would then execute code any local user can edit.
//!
//! The environment is walked (without following links or leaving its filesystem), but only
//! what can change the code that runs is judged (README, "Permissions"):
//! - directories: the venv root, everything under `bin/`, `lib/`, `lib64/` (and a top-level
//!   `site-packages/`), and every directory a `.pth` file puts on the import path inside the
//!   venv, with its ancestors: write access to a directory lets a user replace the files in it;
//! - files: everything under `bin/` (interpreter, entry-point scripts, activate scripts),
//!   `pyvenv.cfg`, Python code and what the import system or a `.pth` loads (`.py`, `.pyc`,
//!   `.so` and versioned `.so.N` libraries, `.pth`, `.egg-link`, `.egg`, `.zip`/`.whl` named by
//!   a `.pth`), `entry_points.txt` (it names the code plug-in hosts import), and any
//!   executable file.
//!
//! Other files (uv's `.lock` at mode 0666, caches, logs, data files) are not findings. A
//! path is flagged when it is writable by group or others, owned by a user other than the
//! venv's owner or root, or a setuid/setgid file. One finding per venv, with counts and a
//! sample, so a `chmod -R 777` does not become ten thousand findings.

use super::tree::{self, Entry, Kind};
use crate::host::paths::{HostRoot, display};
use crate::inspect::Inspected;
use crate::report::FindingId;
use crate::report::{Finding, Severity};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Paths listed in a finding; the counts cover the rest.
const SAMPLE: usize = 20;

/// One path with its problems.
struct Bad {
    depth: usize,
    serious: bool,
    path: String,
    mode: u32,
    uid: u32,
    problems: Vec<&'static str>,
}

/// Bytes of a `.pth` file read; real ones are a few lines.
const PTH_LIMIT: u64 = 1 << 20;

/// Paths `.pth` files may add to what is judged; beyond this the rest are ignored.
const PTH_PATHS: usize = 1024;

/// Which paths of one venv can change the code that runs (real paths).
struct CodeTree {
    /// The venv directory.
    root: PathBuf,
    /// Paths inside the venv that `.pth` files put on the import path (trees or files).
    pth: Vec<PathBuf>,
    /// Directories between the venv root and a `pth` path: renaming them swaps the path.
    pth_ancestors: HashSet<PathBuf>,
}

impl CodeTree {
    /// The tree of `v`, reading its `.pth` files.
    fn new(root: &HostRoot, v: &Inspected) -> Self {
        let mut pth = Vec::new();
        for sp in &v.site_packages {
            pth_paths(root, sp, &v.path, &mut pth);
        }
        let real_root = root.real(&v.path);
        let mut pth_ancestors = HashSet::new();
        for p in &pth {
            for a in p.ancestors().skip(1) {
                if !a.starts_with(&real_root) || !pth_ancestors.insert(a.to_path_buf()) {
                    break;
                }
            }
        }
        CodeTree { root: real_root, pth, pth_ancestors }
    }

    /// Whether write access to `path` (with metadata `m`) could change the code that runs.
    fn is_code(&self, path: &Path, is_dir: bool, mode: u32) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else { return false };
        let Some(top) = rel.components().next() else { return true };
        if self.pth_ancestors.contains(path) || self.pth.iter().any(|p| p == path) {
            return true;
        }
        if top.as_os_str() == "bin" {
            return true;
        }
        if is_dir {
            let on_import_path = matches!(top.as_os_str().to_str(), Some("lib" | "lib64" | "site-packages"));
            return on_import_path || self.pth.iter().any(|p| path.starts_with(p));
        }
        rel == Path::new("pyvenv.cfg") || mode & 0o111 != 0 || path.file_name().is_some_and(is_code_name)
    }
}

/// Whether a file name is Python code or something the import system loads.
fn is_code_name(name: &OsStr) -> bool {
    let name = name.as_encoded_bytes();
    if name == b"entry_points.txt" || name.windows(4).any(|w| w == b".so.") {
        return true;
    }
    [&b".py"[..], b".pyc", b".pyo", b".pyw", b".so", b".pth", b".egg-link", b".egg"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Paths inside the venv `venv` that the `.pth` files of `site_packages` (view paths) add to
/// `sys.path`, as `site.addpackage` reads them: comments and `import` lines skipped, relative
/// lines joined to the site-packages directory. Pushed as real paths.
fn pth_paths(root: &HostRoot, site_packages: &Path, venv: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(root.real(site_packages)) else { return };
    let mut files: Vec<PathBuf> =
        rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "pth")).collect();
    files.sort();
    for f in files {
        let Ok(bytes) = root.read_bounded(&root.view(&f), PTH_LIMIT) else { continue };
        for line in String::from_utf8_lossy(&bytes).lines() {
            if out.len() >= PTH_PATHS {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') || line.starts_with("import ") || line.starts_with("import\t") {
                continue;
            }
            let p = crate::host::paths::normalize(&site_packages.join(line));
            if p.starts_with(venv) && p != venv {
                out.push(root.real(&p));
            }
        }
    }
}

/// Permission findings for one environment, from its own walk.
pub fn check(root: &HostRoot, v: &Inspected) -> Vec<Finding> {
    let mut judge = Judge::new(root, v);
    let walk_root = judge.walk_root().to_path_buf();
    tree::walk(&walk_root, |e| judge.visit(e));
    judge.finish()
}

/// The permission check of one environment, fed by its walk.
struct Judge<'a> {
    root: &'a HostRoot,
    v: &'a Inspected,
    code: CodeTree,
    /// `code.root` resolved inside the scanned root: what is walked.
    walk_root: PathBuf,
    bad: Vec<Bad>,
}

impl<'a> Judge<'a> {
    /// Start judging `v` (reads its `.pth` files).
    fn new(root: &'a HostRoot, v: &'a Inspected) -> Self {
        let code = CodeTree::new(root, v);
        let walk_root = root.resolve(&v.path).map(|r| root.real(&r)).unwrap_or_else(|_| code.root.clone());
        Judge { root, v, code, walk_root, bad: Vec::new() }
    }

    /// The real directory to walk: [`Judge::visit`] takes entries relative to it.
    fn walk_root(&self) -> &Path {
        &self.walk_root
    }

    /// Judge one path of the walk.
    fn visit(&mut self, e: &Entry) {
        if e.kind == Kind::Symlink {
            return;
        }
        let path = self.code.root.join(e.rel);
        let mode = e.mode;
        if !self.code.is_code(&path, e.kind == Kind::Dir, mode) {
            return;
        }
        let owner = self.v.venv.owner.uid;
        let is_file = e.kind == Kind::File;
        let mut problems = Vec::new();
        if mode & 0o002 != 0 {
            problems.push("world-writable");
        }
        if mode & 0o020 != 0 {
            problems.push("group-writable");
        }
        if e.uid != 0 && owner.is_some_and(|o| o != e.uid) {
            problems.push("foreign-owner");
        }
        if is_file && mode & 0o4000 != 0 {
            problems.push("setuid");
        }
        if is_file && mode & 0o2000 != 0 {
            problems.push("setgid");
        }
        if problems.is_empty() {
            return;
        }
        let serious = problems.iter().any(|p| *p != "group-writable");
        self.bad.push(Bad {
            depth: e.depth,
            serious,
            path: display(&self.root.view(&path)),
            mode: mode & 0o7777,
            uid: e.uid,
            problems,
        });
    }

    /// The finding, if any path was bad.
    fn finish(self) -> Vec<Finding> {
        findings(self.v, self.bad)
    }
}

/// One finding for the bad paths of `v`, with counts and a sample.
fn findings(v: &Inspected, mut bad: Vec<Bad>) -> Vec<Finding> {
    let owner = v.venv.owner.uid;
    if bad.is_empty() {
        return Vec::new();
    }
    let mut counts: Map<String, Value> = Map::new();
    for b in &bad {
        for p in &b.problems {
            let c = counts.entry(p.replace('-', "_")).or_insert(json!(0));
            *c = json!(c.as_u64().unwrap_or(0) + 1);
        }
    }
    let serious = bad.iter().any(|b| b.serious);
    bad.sort_by(|a, b| b.serious.cmp(&a.serious).then(a.depth.cmp(&b.depth)).then(a.path.cmp(&b.path)));
    let first = &bad[0];
    let message = format!(
        "{} path(s) in {} can be changed by users other than its owner, e.g. {} ({}, mode {:04o})",
        bad.len(),
        v.venv.path,
        first.path,
        first.problems.join(", "),
        first.mode
    );
    let sample: Vec<Value> = bad
        .iter()
        .take(SAMPLE)
        .map(|b| json!({"path": b.path, "mode": format!("{:04o}", b.mode), "uid": b.uid, "problems": b.problems}))
        .collect();
    vec![Finding::new(
        FindingId::UnsafePermissions,
        if serious { Severity::Error } else { Severity::Warning },
        Some(&v.venv.path),
        message,
        "Give the tree to its owner and drop group/other write and set-id bits: chown -R OWNER: VENV && chmod -R go-w,ug-s VENV",
    )
    .detail("count", bad.len())
    .detail("counts", Value::Object(counts))
    .detail("owner_uid", json!(owner))
    .detail("sample", sample)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_are_what_python_or_the_loader_reads() {
        for n in ["m.py", "m.cpython-312.pyc", "_x.cpython-312-x86_64-linux-gnu.so", "libz-ab12.so.1.3", "a.pth"] {
            assert!(is_code_name(OsStr::new(n)), "{n}");
        }
        for n in ["x.egg-link", "entry_points.txt", "dist.egg"] {
            assert!(is_code_name(OsStr::new(n)), "{n}");
        }
        for n in [".lock", "app.log", "RECORD", "METADATA", "data.json", "CACHEDIR.TAG", "x.pyi", "sonic.txt"] {
            assert!(!is_code_name(OsStr::new(n)), "{n}");
        }
    }

    #[test]
    fn pth_lines_normalize_like_os_path_normpath() {
        use crate::host::paths::normalize;
        assert_eq!(normalize(Path::new("/v/lib/python3.12/site-packages/../../../src/./p")), PathBuf::from("/v/src/p"));
        assert_eq!(normalize(Path::new("/../a")), PathBuf::from("/a"));
    }
}
