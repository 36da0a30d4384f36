//! venvaudit: find every Python environment on a host and report its facts and health,
//! from files alone. No code from a scanned environment is ever executed and nothing in it
//! is ever written.
//!
//! The layers, each importing only the ones below it (tested by `tests/contract.rs`):
//!
//! | layer | modules | what it holds |
//! |---|---|---|
//! | contract | `report`, `request`, `time` | the output and input contracts, finding ids, the clock |
//! | parsers | `parse` | pure readers: ELF, pyvenv.cfg, PEP 508, specifiers, RECORD, redaction |
//! | host | `host` | the scanned system: root view, loader model, configuration, /proc, scope |
//! | facts | `discover`, `inspect`, `osv` | finding environments, facts from files, the advisory database |
//! | checks | `checks` | one module per family, findings from facts and resolved inputs |
//! | engine | `engine`, `ignore`, `query`, `fleet` | resolves inputs once and runs the pipeline; answers from saved facts |
//! | output | `render`, `frontends` | table, CycloneDX, Prometheus; JSON and Ansible modes |

#![warn(missing_docs)]

// Every module is crate-private: the layers are an implementation detail, and the items below
// are the whole public API (the binary in main.rs, the integration tests and the benchmarks use
// only these). An unused item in a module is then a dead-code warning instead of a hidden API.
pub(crate) mod checks;
pub(crate) mod discover;
pub(crate) mod engine;
pub(crate) mod fleet;
pub(crate) mod frontends;
#[doc(hidden)]
pub mod fuzz_api;
pub(crate) mod host;
pub(crate) mod ignore;
pub(crate) mod inspect;
pub(crate) mod osv;
pub(crate) mod parse;
pub(crate) mod plan;
pub(crate) mod query;
pub(crate) mod render;
pub(crate) mod report;
pub(crate) mod request;
pub(crate) mod time;

// The pipeline: scan (discover + inspect), facts, check, and the worker count they use.
pub use discover::Progress;
pub use engine::{Error, Result, check, check_artifact, facts, jobs, scan};
// The input contract.
pub use request::{Action, Detail, FailOn, IgnoreEntry, Request};
// The output contract: every type of the report, its finding ids and families.
pub use report::{
    Artifact, ArtifactInput, ArtifactTarget, Changes, Creator, Extension, Family, Finding, FindingId, Health, Host,
    Ignored, InUse, LibPython, Linkage, MetadataFormat, OsvDbInfo, Owner, Package, Python, Report, SCHEMA_VERSION,
    ScanError, SelectedWheel, Severity, SkippedEntry, Summary, TextList, Tool, UnknownFamily, UnknownFindingId,
    UsageKind, UsedBy, Venv, VenvKind,
};
// The clock every date decision reads.
pub use time::{Date, TODAY_VAR, parse_date};
// Answers about packages: one host (query) and saved facts of many (fleet).
pub use fleet::{FleetError, FleetRequest, FleetResult, query_facts};
pub use query::{QueryResult, query};
// The remediation plan: from findings to the steps the engines apply.
pub use plan::{
    Blocker, PackagePlan, Plan, PlanSummary, Reason, Restart, RestartAction, RestartKind, Step, StepKind, StepStatus,
    plan, plan_fleet,
};
// Output formats besides JSON.
pub use render::export::{cyclonedx, prometheus};
pub use render::table::{
    render as render_table, render_fleet as render_fleet_table, render_plan as render_plan_table,
    render_query as render_query_table,
};
// The front-ends the binary dispatches to: JSON-in/JSON-out, the Ansible module, packaging.
pub use frontends::{ansible, assets, json};
// The CPython advisory file: CVEs of the interpreter itself (`venvaudit db cpython`).
pub use osv::cpython;

/// Internals the integration tests and examples reach (the ELF reader that checks the
/// portable build, the OSV loader the load benchmark times). Not part of the stable API.
#[doc(hidden)]
pub mod internals {
    pub use crate::osv::load as load_osv;
    pub use crate::parse::elf::{glibc_version, read_elf};
}
