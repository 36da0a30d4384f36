//! `unsafe-permissions`: a venv whose code someone other than its owner (or root) can change.
//! A root-run service would then execute code any local user can edit.
//!
//! The whole environment is walked (without following links or leaving its filesystem):
//! anything writable by group or others, owned by a user other than the venv's owner or
//! root, or a setuid/setgid file. One finding per venv, with counts and a sample, so a
//! `chmod -R 777` does not become ten thousand findings.

use super::ids;
use crate::inspect::Inspected;
use crate::paths::{HostRoot, display};
use crate::report::{Finding, Severity};
use serde_json::{Map, Value, json};
use std::os::unix::fs::MetadataExt;

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

/// Permission findings for one environment.
pub fn check(root: &HostRoot, v: &Inspected) -> Vec<Finding> {
    let real_root = root.real(&v.path);
    let owner = v.venv.owner.uid;
    let mut bad: Vec<Bad> = Vec::new();
    let walker = walkdir::WalkDir::new(&real_root).follow_links(false).same_file_system(true);
    for e in walker.into_iter().flatten() {
        let Ok(m) = e.metadata() else { continue };
        if m.file_type().is_symlink() {
            continue;
        }
        let mode = m.mode();
        let mut problems = Vec::new();
        if mode & 0o002 != 0 {
            problems.push("world-writable");
        }
        if mode & 0o020 != 0 {
            problems.push("group-writable");
        }
        if m.uid() != 0 && owner.is_some_and(|o| o != m.uid()) {
            problems.push("foreign-owner");
        }
        if m.is_file() && mode & 0o4000 != 0 {
            problems.push("setuid");
        }
        if m.is_file() && mode & 0o2000 != 0 {
            problems.push("setgid");
        }
        if problems.is_empty() {
            continue;
        }
        let serious = problems.iter().any(|p| *p != "group-writable");
        bad.push(Bad {
            depth: e.depth(),
            serious,
            path: display(&root.view(e.path())),
            mode: mode & 0o7777,
            uid: m.uid(),
            problems,
        });
    }
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
        ids::UNSAFE_PERMISSIONS,
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
