//! "Are we running that?": match installed distributions against PEP 508 specifiers.
//! The same matcher backs `check --forbid`.

use crate::discover::Progress;
use crate::inspect::packages::normalize_name;
use crate::report::{Host, Package, SCHEMA_VERSION, ScanError, Tool};
use crate::request::Request;
use anyhow::{Result, anyhow};
use pep440_rs::Version;
use pep508_rs::{Requirement, VersionOrUrl};
use serde::Serialize;
use std::str::FromStr;

/// A parsed specifier such as `django<4.2.16`, `requests==2.25.*` or `pyyaml`.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The text as given.
    pub text: String,
    name: String,
    requirement: Requirement,
}

impl Spec {
    /// Parse a PEP 508 requirement (name plus optional version specifiers; no URLs).
    pub fn parse(text: &str) -> Result<Spec> {
        let requirement: Requirement = crate::parse::pep508::parse_requirement(text.trim())
            .map_err(|e| anyhow!("invalid specifier {text:?}: {e}"))?;
        if matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_))) {
            return Err(anyhow!("invalid specifier {text:?}: URL requirements cannot match installed versions"));
        }
        Ok(Spec { text: text.to_owned(), name: normalize_name(requirement.name.as_ref()), requirement })
    }

    /// Whether an installed distribution matches: same normalised name and, when the spec
    /// has version clauses, a valid PEP 440 version inside them. Pre-releases match too:
    /// the question is what is installed, not what a resolver would pick.
    pub fn matches(&self, pkg: &Package) -> bool {
        self.matches_version(&pkg.normalized_name, &pkg.version)
    }

    /// [`Spec::matches`] for a distribution known only by its normalised name and version
    /// (as compact facts list it).
    pub fn matches_version(&self, normalized_name: &str, version: &str) -> bool {
        if normalized_name != self.name {
            return false;
        }
        match &self.requirement.version_or_url {
            None => true,
            Some(VersionOrUrl::VersionSpecifier(spec)) => {
                Version::from_str(version).is_ok_and(|v| spec.iter().all(|s| s.contains(&v)))
            }
            Some(VersionOrUrl::Url(_)) => false,
        }
    }
}

/// Parse a list of specifiers, failing on the first invalid one.
pub fn parse_specs(texts: &[String]) -> Result<Vec<Spec>> {
    texts.iter().map(|t| Spec::parse(t)).collect()
}

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
        return Err(anyhow!("query needs at least one specifier, e.g. 'django<4.2.16'"));
    }
    let specs = parse_specs(&req.specs)?;
    let scan = crate::scan(req, progress)?;
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
                    location: p.location.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            normalized_name: normalize_name(name),
            version: version.into(),
            version_valid: true,
            installer: None,
            requested: false,
            editable: false,
            direct_url: None,
            location: "/x".into(),
            metadata_format: "dist-info",
            requires_python: None,
            requires_dist: vec![],
            extensions: vec![],
            system: false,
        }
    }

    #[test]
    fn specifiers_match_pep440() {
        let s = Spec::parse("Django<4.2.16").unwrap();
        assert!(s.matches(&pkg("django", "3.2")));
        assert!(s.matches(&pkg("Django", "4.2.15")));
        assert!(!s.matches(&pkg("django", "4.2.16")));
        assert!(Spec::parse("requests==2.25.*").unwrap().matches(&pkg("requests", "2.25.1")));
        assert!(!Spec::parse("requests==2.25.*").unwrap().matches(&pkg("requests", "2.26.0")));
        assert!(Spec::parse("py_yaml").unwrap().matches(&pkg("PY.YAML", "1")));
        assert!(Spec::parse("not a spec<<").is_err());
    }
}
