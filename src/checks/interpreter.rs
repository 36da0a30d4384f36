//! `broken-interpreter` and `interpreter-mismatch`.

use super::ids;
use crate::inspect::Inspected;
use crate::report::{Finding, Severity};
use serde_json::json;

const RECREATE: &str = "Recreate the environment with an installed Python (e.g. `python3 -m venv --clear PATH`) and reinstall its requirements";

/// Interpreter health findings for one environment.
pub fn check(v: &Inspected) -> Vec<Finding> {
    let mut out = Vec::new();
    let venv = Some(v.venv.path.as_str());
    let h = &v.health;
    if let Some((entry, target)) = &h.dangling_link {
        out.push(
            Finding::new(
                ids::BROKEN_INTERPRETER,
                Severity::Error,
                venv,
                format!("{} points to {} which no longer exists", entry, target),
                RECREATE,
            )
            .detail("executable", entry.as_str())
            .detail("link_target", target.as_str()),
        );
    } else if let Some(base) = &h.missing_base {
        out.push(
            Finding::new(
                ids::BROKEN_INTERPRETER,
                Severity::Error,
                venv,
                format!("base interpreter {base} of {} no longer exists (removed by an OS upgrade?)", v.venv.path),
                RECREATE,
            )
            .detail("base_executable", base.as_str()),
        );
    } else if h.no_executable {
        out.push(Finding::new(
            ids::BROKEN_INTERPRETER,
            Severity::Error,
            venv,
            format!("{} has no interpreter in bin/", v.venv.path),
            RECREATE,
        ));
    }
    let mut distinct: Vec<&str> = h.versions.iter().map(|(_, xy)| xy.as_str()).collect();
    distinct.sort();
    distinct.dedup();
    if distinct.len() > 1 {
        let sources: serde_json::Map<String, serde_json::Value> =
            h.versions.iter().map(|(src, xy)| (src.clone(), json!(xy))).collect();
        let listing = h.versions.iter().map(|(s, xy)| format!("{s} says {xy}")).collect::<Vec<_>>().join(", ");
        out.push(
            Finding::new(
                ids::INTERPRETER_MISMATCH,
                Severity::Error,
                venv,
                format!("Python version disagreement in {}: {listing}", v.venv.path),
                "The base interpreter was replaced by another Python version; recreate the environment with the Python it was built for",
            )
            .detail("versions", serde_json::Value::Object(sources)),
        );
    }
    out
}
