//! `venvaudit run`: one JSON request in (stdin or `--args FILE`), one JSON result out.
//! Failures are `{"failed": true, "msg": ...}` with a non-zero exit, never a panic text.

use crate::discover::Progress;
use crate::query::QueryResult;
use crate::report::Report;
use crate::request::{Action, FailOn, Request, RequestError};
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest request accepted.
const MAX_REQUEST_BYTES: u64 = 16 << 20;

/// Why a request produced no result; its message is the failure's `msg`.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The `--args` file could not be read.
    #[error("cannot read request file {}: {cause}", path.display())]
    ReadFile {
        /// The file named.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// Standard input could not be read.
    #[error("cannot read request from stdin: {cause}")]
    ReadStdin {
        /// Why.
        cause: std::io::Error,
    },
    /// The request is not JSON.
    #[error("request is not valid JSON: {cause}")]
    NotJson {
        /// Where and why the JSON parser stopped.
        cause: serde_json::Error,
    },
    /// The request is JSON but not a valid request.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// No `action`.
    #[error("missing required parameter: action (one of: facts, check, check-artifact, query, plan)")]
    NoAction,
    /// The scan could not run (a missing root, a bad specifier, an unreadable database...).
    #[error(transparent)]
    Engine(#[from] crate::engine::Error),
    /// The result could not be turned into JSON (a bug: every report type serialises).
    #[error("cannot serialise the result: {cause}")]
    Serialise {
        /// Why.
        cause: serde_json::Error,
    },
}

/// What a request produced, in the typed model; [`Outcome::to_value`] is the JSON result.
#[derive(Debug)]
pub enum Outcome {
    /// `facts`: the report.
    Facts(Report),
    /// `check`: the report and the gate's verdict.
    Check(Gate),
    /// `query`: the matching environments.
    Query(QueryResult),
    /// `query` with `from_facts`: the matching environments of the fleet.
    FleetQuery(crate::fleet::FleetResult),
    /// `plan`: the remediation plan (of the fleet with `from_facts`).
    Plan(crate::plan::Plan),
}

/// A check's report and the gate's verdict at `fail_on`.
#[derive(Debug)]
pub struct Gate {
    /// The report with its findings.
    pub report: Report,
    /// The threshold the gate judged by.
    pub fail_on: FailOn,
    /// No active finding at or above `fail_on`.
    pub passed: bool,
}

impl Outcome {
    /// The JSON result object: the report (or query result) with `failed: false`, and for a
    /// check `passed` and `fail_on`.
    pub fn to_value(&self) -> Result<Value, Failure> {
        let serialise = |e| Failure::Serialise { cause: e };
        let mut v = match self {
            Outcome::Facts(report) => serde_json::to_value(report).map_err(serialise)?,
            Outcome::Check(Gate { report, fail_on, passed }) => {
                let mut v = serde_json::to_value(report).map_err(serialise)?;
                v["passed"] = json!(passed);
                v["fail_on"] = json!(fail_on.as_str());
                v
            }
            Outcome::Query(result) => serde_json::to_value(result).map_err(serialise)?,
            Outcome::FleetQuery(result) => serde_json::to_value(result).map_err(serialise)?,
            Outcome::Plan(plan) => serde_json::to_value(plan).map_err(serialise)?,
        };
        v["failed"] = json!(false);
        Ok(v)
    }

    /// The exit code of a successful run: 1 when a check gate failed, a query matched or a plan
    /// has steps; 2 when a query matched nothing (or a plan has none) but part of the scan or
    /// of the facts could not be read.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Facts(_) => 0,
            Outcome::Check(gate) => i32::from(!gate.passed),
            Outcome::Query(result) => i32::from(result.exit_code()),
            Outcome::FleetQuery(result) => i32::from(result.exit_code()),
            Outcome::Plan(plan) => i32::from(plan.exit_code()),
        }
    }
}

/// Read the request, run it, and return (result, exit code).
pub fn run(args_file: Option<&Path>) -> (Value, i32) {
    match read_and_execute(args_file).and_then(|o| Ok((o.to_value()?, o.exit_code()))) {
        Ok(done) => done,
        Err(e) => (failure(&e.to_string()), 2),
    }
}

/// The request from `args_file` (else stdin), parsed and run.
fn read_and_execute(args_file: Option<&Path>) -> Result<Outcome, Failure> {
    let raw = match args_file {
        Some(p) => crate::host::paths::read_bounded(p, MAX_REQUEST_BYTES)
            .map_err(|cause| Failure::ReadFile { path: p.to_path_buf(), cause })?,
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .take(MAX_REQUEST_BYTES)
                .read_to_end(&mut buf)
                .map_err(|cause| Failure::ReadStdin { cause })?;
            buf
        }
    };
    let v: Value = serde_json::from_slice(&raw).map_err(|cause| Failure::NotJson { cause })?;
    execute(&Request::from_json(v)?)
}

/// The failure object every JSON front-end prints.
pub fn failure(msg: &str) -> Value {
    json!({"failed": true, "msg": msg})
}

/// Run a check request: the report and the gate's verdict at its `fail_on`.
pub fn check(req: &Request, progress: &Progress) -> Result<Gate, Failure> {
    let report = crate::engine::check(req, progress)?;
    let passed = !report.fails(req.fail_on.threshold());
    Ok(Gate { report, fail_on: req.fail_on, passed })
}

/// Run a check-artifact request: the report and the gate's verdict at its `fail_on`.
pub fn check_artifact(req: &Request, progress: &Progress) -> Result<Gate, Failure> {
    let report = crate::engine::check_artifact(req, progress)?;
    let passed = !report.fails(req.fail_on.threshold());
    Ok(Gate { report, fail_on: req.fail_on, passed })
}

/// Run a parsed request.
pub fn execute(req: &Request) -> Result<Outcome, Failure> {
    let progress = Progress::default();
    Ok(match req.action.ok_or(Failure::NoAction)? {
        Action::Facts => Outcome::Facts(crate::engine::facts(req, &progress)?),
        Action::Check => Outcome::Check(check(req, &progress)?),
        Action::CheckArtifact => Outcome::Check(check_artifact(req, &progress)?),
        Action::Query if !req.from_facts.is_empty() => Outcome::FleetQuery(
            crate::fleet::query_facts(&crate::fleet::FleetRequest::from_request(req))
                .map_err(crate::engine::Error::from)?,
        ),
        Action::Query => Outcome::Query(crate::query::query(req, &progress)?),
        Action::Plan if !req.from_facts.is_empty() => Outcome::Plan(crate::plan::plan_fleet(req)?),
        Action::Plan => Outcome::Plan(crate::plan::plan(req, &progress)?),
    })
}
