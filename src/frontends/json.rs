//! `venvaudit run`: one JSON request in (stdin or `--args FILE`), one JSON result out.
//! Failures are `{"failed": true, "msg": ...}` with a non-zero exit, never a panic text.

use crate::discover::Progress;
use crate::request::{Action, Request};
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;

/// Largest request accepted.
const MAX_REQUEST_BYTES: u64 = 16 << 20;

/// Read the request, run it, and return (result, exit code).
pub fn run(args_file: Option<&Path>) -> (Value, i32) {
    let raw = match args_file {
        Some(p) => crate::host::paths::read_bounded(p, MAX_REQUEST_BYTES)
            .map_err(|e| format!("cannot read request file {}: {e}", p.display())),
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .take(MAX_REQUEST_BYTES)
                .read_to_end(&mut buf)
                .map(|_| buf)
                .map_err(|e| format!("cannot read request from stdin: {e}"))
        }
    };
    let result = raw
        .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| format!("request is not valid JSON: {e}")))
        .and_then(Request::from_json)
        .and_then(|req| execute(&req));
    match result {
        Ok(v) => {
            let code = exit_code(&v);
            (v, code)
        }
        Err(msg) => (failure(&msg), 2),
    }
}

fn to_object<T: serde::Serialize>(v: &T) -> Result<Value, String> {
    let mut v = serde_json::to_value(v).map_err(|e| e.to_string())?;
    v["failed"] = json!(false);
    Ok(v)
}

/// The exit code for a successful result: 1 when a check gate failed or a query matched; 2
/// when a query matched nothing but could not read part of the scan.
pub fn exit_code(v: &Value) -> i32 {
    if v["passed"] == json!(false) || v["matched"] == json!(true) {
        1
    } else if v["complete"] == json!(false) {
        2
    } else {
        0
    }
}

/// The failure object every JSON front-end prints.
pub fn failure(msg: &str) -> Value {
    json!({"failed": true, "msg": msg})
}

/// Run a parsed request and return its result object.
pub fn execute(req: &Request) -> Result<Value, String> {
    let progress = Progress::default();
    match req.action {
        None => Err("missing required parameter: action (one of: facts, check, query)".to_owned()),
        Some(Action::Facts) => {
            let report = crate::facts(req, &progress).map_err(|e| format!("{e:#}"))?;
            to_object(&report)
        }
        Some(Action::Check) => {
            let report = crate::check(req, &progress).map_err(|e| format!("{e:#}"))?;
            let mut v = to_object(&report)?;
            v["passed"] = json!(!report.fails(req.fail_on.threshold()));
            v["fail_on"] = json!(req.fail_on.as_str());
            Ok(v)
        }
        Some(Action::Query) => {
            let result = crate::query::query(req, &progress).map_err(|e| format!("{e:#}"))?;
            to_object(&result)
        }
    }
}
