//! "Are we running that?": every environment with a distribution matching PEP 508
//! specifiers ([`Spec`], which also backs `check --forbid`).

use crate::discover::Progress;
use crate::engine::{Error, Result};
pub use crate::parse::spec::parse_specs;
use crate::report::{Host, SCHEMA_VERSION, ScanError, Tool};
use crate::request::Request;
use serde::Serialize;

/// One installed distribution that matched.
#[derive(Debug, Clone, Serialize)]
pub struct QueryMatch {
    /// Environment path.
    pub venv: String,
    /// Distribution name as installed.
    pub package: String,
    /// PEP 503 name.
    pub normalized_name: String,
    /// Installed version.
    pub version: String,
    /// The specifier it matched.
    pub spec: String,
    /// Python version of the environment.
    pub python: Option<String>,
    /// Where it is installed.
    pub location: String,
}

/// The result of `venvaudit query`.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    /// Version of the report contract.
    pub schema_version: u32,
    /// Tool name and version.
    pub tool: Tool,
    /// The scanned host.
    pub host: Host,
    /// Specifiers asked for.
    pub specs: Vec<String>,
    /// True when anything matched (exit code 1 on the command line).
    pub matched: bool,
    /// False when part of the scan could not be read (`errors` is not empty): "no match" is
    /// then not an answer, and the command line exits 2 instead of 0.
    pub complete: bool,
    /// Every match, sorted by venv then package.
    pub matches: Vec<QueryMatch>,
    /// Number of environments scanned.
    pub venvs_scanned: usize,
    /// Paths that could not be read.
    pub errors: Vec<ScanError>,
}

impl QueryResult {
    /// The command's exit code: 1 on a match, 2 when nothing matched but part of the scan
    /// could not be read (the answer is unknown), 0 when nothing matched in a complete scan.
    pub fn exit_code(&self) -> u8 {
        match (self.matched, self.complete) {
            (true, _) => 1,
            (false, false) => 2,
            (false, true) => 0,
        }
    }
}

/// Scan and list every installed distribution matching any of `req.specs`.
pub fn query(req: &Request, progress: &Progress) -> Result<QueryResult> {
    if req.specs.is_empty() {
        return Err(Error::NoSpecifier);
    }
    let specs = parse_specs(&req.specs)?;
    let scan = crate::engine::scan(req, progress)?;
    let mut matches = Vec::new();
    for v in &scan.venvs {
        for p in v.venv.packages.iter().flatten() {
            for s in specs.iter().filter(|s| s.matches(p)) {
                matches.push(QueryMatch {
                    venv: v.venv.path.clone(),
                    package: p.name.clone(),
                    normalized_name: p.normalized_name.clone(),
                    version: p.version.clone(),
                    spec: s.text.clone(),
                    python: v.venv.python.version.clone(),
                    location: p.location.to_string(),
                });
            }
        }
    }
    matches.sort_by(|a, b| (&a.venv, &a.normalized_name, &a.spec).cmp(&(&b.venv, &b.normalized_name, &b.spec)));
    let mut errors = scan.errors.clone();
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(QueryResult {
        schema_version: SCHEMA_VERSION,
        tool: Tool::default(),
        host: scan.host.host.clone(),
        specs: req.specs.clone(),
        matched: !matches.is_empty(),
        complete: errors.is_empty(),
        matches,
        venvs_scanned: scan.venvs.len(),
        errors,
    })
}
