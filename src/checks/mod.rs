//! Checks: pure functions from inspected facts to findings. One module per family.

pub mod interpreter;

use crate::inspect::Inspected;
use crate::report::Finding;

/// Every finding id venvaudit can emit. These strings are a stable API for playbooks.
pub mod ids {
    /// The base interpreter or the `bin/python` link target is gone.
    pub const BROKEN_INTERPRETER: &str = "broken-interpreter";
    /// pyvenv.cfg, the lib dir and the base interpreter disagree on X.Y.
    pub const INTERPRETER_MISMATCH: &str = "interpreter-mismatch";

    /// All ids with their default severity and meaning, for docs and tests.
    pub const ALL: &[(&str, &str, &str)] = &[
        (BROKEN_INTERPRETER, "error", "the base interpreter or the bin/python link target no longer exists"),
        (INTERPRETER_MISMATCH, "error", "pyvenv.cfg, lib/pythonX.Y and the base interpreter disagree on the Python version"),
    ];
}

/// Run the checks that need nothing but the environment's own facts.
pub fn venv_checks(venv: &Inspected) -> Vec<Finding> {
    interpreter::check(venv)
}
