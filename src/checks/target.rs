//! `target-python-mismatch`: `--target-python` asks whether an environment would run on
//! another interpreter (the one on the host it is deployed to, a new base image's). It runs
//! only on the Python X.Y, implementation and build (free-threaded or not) it was made with.

use crate::inspect::Inspected;
use crate::parse::abi_tag::{AbiTag, parse_abi_tag};
use crate::report::FindingId;
use crate::report::{Finding, Python, Severity, major_minor};

fn free_threaded(py: &Python) -> Option<bool> {
    match parse_abi_tag(py.abi.as_deref()?)? {
        AbiTag::CPython { flags, .. } => Some(flags.contains('t')),
        _ => None,
    }
}

/// Judge one environment against the target interpreter.
pub fn check(v: &Inspected, target: &Python) -> Vec<Finding> {
    let own = &v.venv.python;
    let (Some(vv), Some(tv)) = (own.version.as_deref(), target.version.as_deref()) else { return Vec::new() };
    let (vxy, txy) = (major_minor(vv), major_minor(tv));
    let vimpl = own.implementation.as_deref().unwrap_or("CPython");
    let timpl = target.implementation.as_deref().unwrap_or("CPython");
    let tname = target.executable.as_deref().unwrap_or("the target interpreter");
    let why = if !vimpl.eq_ignore_ascii_case(timpl) {
        format!("{} is a {vimpl} {vxy} environment but {tname} is {timpl} {txy}", v.venv.path)
    } else if vxy != txy {
        format!("{} is a Python {vxy} environment but {tname} is Python {txy}", v.venv.path)
    } else if let (Some(a), Some(b)) = (free_threaded(own), free_threaded(target)) {
        if a == b {
            return Vec::new();
        }
        let build = |ft: bool| if ft { "free-threaded" } else { "default (GIL)" };
        format!(
            "{} was made for the {} build of Python {vxy} but {tname} is the {} build",
            v.venv.path,
            build(a),
            build(b)
        )
    } else {
        return Vec::new();
    };
    vec![Finding::new(
        FindingId::TargetPythonMismatch,
        Severity::Error,
        Some(&v.venv.path),
        why,
        "Recreate the environment with the target interpreter (`TARGET -m venv --clear PATH`) and reinstall its requirements",
    )
    .detail("venv_python", vxy)
    .detail("target_python", txy)
    .detail("target", tname)
    .detail("target_abi", target.abi.clone())]
}
