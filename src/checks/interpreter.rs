//! `broken-interpreter`, `base-interpreter-fallback` and `interpreter-mismatch`.

use crate::inspect::Inspected;
use crate::report::FindingId;
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
                FindingId::BrokenInterpreter,
                Severity::Error,
                venv,
                format!("{} points to {} which no longer exists", entry, target),
                RECREATE,
            )
            .detail("executable", entry.as_str())
            .detail("link_target", target.as_str()),
        );
    } else if let (Some(base), Some(runs)) = (&h.missing_base, &h.runs_on) {
        // A copied interpreter (`venv --copies`) still starts: CPython's path calculation
        // falls back to another installation, whose standard library (and, with system
        // site-packages, whose distributions) it then uses.
        let prefix = crate::host::paths::display(&runs.prefix);
        out.push(
            Finding::new(
                FindingId::BaseInterpreterFallback,
                Severity::Warning,
                venv,
                format!(
                    "base interpreter {base} of {} no longer exists; its copied interpreter still starts and runs on the installation at {prefix} ({})",
                    v.venv.path, runs.source
                ),
                "Recreate the environment from the installation it should run on, so its standard library and compiled packages are the ones it was built with",
            )
            .detail("base_executable", base.as_str())
            .detail("runs_on_prefix", prefix.as_str())
            .detail("evidence", runs.source.as_str()),
        );
    } else if let Some(base) = &h.missing_base {
        out.push(
            Finding::new(
                FindingId::BrokenInterpreter,
                Severity::Error,
                venv,
                format!("base interpreter {base} of {} no longer exists (removed by an OS upgrade?)", v.venv.path),
                RECREATE,
            )
            .detail("base_executable", base.as_str()),
        );
    } else if h.no_executable {
        out.push(Finding::new(
            FindingId::BrokenInterpreter,
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
                FindingId::InterpreterMismatch,
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
