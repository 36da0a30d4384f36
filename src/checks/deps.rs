//! `dependency-conflict`: the requirements `pip check` reports as unmet.
//!
//! pip's semantics (pip/_internal/operations/check.py, `check_package_set`, and
//! `iter_dependencies()` with no extras): every installed distribution's Requires-Dist
//! entries that have no marker or whose marker is true with `extra == ""` in the
//! environment's own interpreter; a dependency is *missing* when no distribution of that
//! name is installed, *conflicting* when the installed version is outside the specifier
//! (pre-releases count as inside). The installed set is everything on `sys.path`, system
//! site-packages included, as `pip check` sees it. Extras a dependent requests (`b[x]`) are not expanded
//! and a distribution's own extras are never active, exactly as in `pip check`.

use crate::inspect::Inspected;
use crate::report::FindingId;
use crate::report::{Finding, Package, ScanError, Severity};
use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder, VersionOrUrl};
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

/// The marker environment of a venv's interpreter, from its facts; `None` when the Python
/// version is unknown (markers cannot be evaluated).
pub fn marker_environment(v: &Inspected) -> Option<MarkerEnvironment> {
    environment_of(&v.venv.python)
}

/// The marker environment of an interpreter, from its facts; `None` when its version is
/// unknown.
pub fn environment_of(py: &crate::report::Python) -> Option<MarkerEnvironment> {
    let full = py.version.as_deref()?;
    Version::from_str(full).ok()?;
    let xy = crate::report::major_minor(full);
    let pypy = py.implementation.as_deref().is_some_and(|i| i.eq_ignore_ascii_case("pypy"));
    let machine = py.machine.as_deref().unwrap_or(std::env::consts::ARCH);
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: if pypy { "pypy" } else { "cpython" },
        implementation_version: full,
        os_name: "posix",
        platform_machine: machine,
        platform_python_implementation: if pypy { "PyPy" } else { "CPython" },
        platform_release: "",
        platform_system: "Linux",
        platform_version: "",
        python_full_version: full,
        python_version: &xy,
        sys_platform: "linux",
    })
    .ok()
}

/// Dependency findings for one environment, and the requirements that could not be parsed
/// (as errors naming the distribution's metadata: pip skips them too, but not in silence).
pub fn check(v: &Inspected) -> (Vec<Finding>, Vec<ScanError>) {
    let mut errors = Vec::new();
    let Some(env) = marker_environment(v) else { return (Vec::new(), errors) };
    let packages: Vec<&Package> = v.venv.packages.iter().flatten().collect();
    let installed: HashMap<&str, &Package> = packages.iter().map(|p| (p.normalized_name.as_str(), *p)).collect();
    let mut out = Vec::new();
    for p in &packages {
        for r in active_requirements(p, &env, &mut errors) {
            let Some(d) = installed.get(r.dependency.as_str()) else {
                // The inventory holds the base installation's distributions too, unless that
                // installation could not be found: then no "missing" claim.
                if v.system_site_known {
                    out.push(finding(v, p, r.text, &r.dependency, None));
                }
                continue;
            };
            // An installed version that is not PEP 440 cannot be judged (pip 24+ refuses it).
            let Ok(have) = Version::from_str(&d.version) else { continue };
            if !r.admits(&have) {
                out.push(finding(v, p, r.text, &r.dependency, Some(d)));
            }
        }
    }
    (out, errors)
}

/// One Requires-Dist entry of a distribution that `pip check` judges: parsed, its marker true
/// in the environment with no extra active.
#[derive(Debug)]
pub struct ActiveRequirement<'a> {
    /// The entry verbatim.
    pub text: &'a str,
    /// The PEP 503 name it requires.
    pub dependency: String,
    /// Its version clauses; `None` for a bare name or a URL (any version satisfies it).
    pub specifiers: Option<pep440_rs::VersionSpecifiers>,
}

impl ActiveRequirement<'_> {
    /// Whether `version` satisfies the entry (pre-releases count as inside, as in `pip check`).
    pub fn admits(&self, version: &Version) -> bool {
        self.specifiers.as_ref().is_none_or(|spec| spec.iter().all(|s| s.contains(version)))
    }
}

/// The Requires-Dist entries of `p` that `pip check` judges in `env`, each dependency once per
/// entry text. An entry that cannot be parsed is an error naming the distribution's metadata
/// (pip skips it too, but not in silence). The one reading of requirements the
/// `dependency-conflict` check and the remediation plan's constraint check share.
pub fn active_requirements<'a>(
    p: &'a Package,
    env: &MarkerEnvironment,
    errors: &mut Vec<ScanError>,
) -> Vec<ActiveRequirement<'a>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for text in p.requires_dist.iter() {
        let req = match crate::parse::pep508::parse_requirement::<pep508_rs::VerbatimUrl>(text) {
            Ok(r) => r,
            Err(e) => {
                let shown: String = text.chars().take(120).collect();
                let more = if shown.len() < text.len() { "…" } else { "" };
                errors.push(ScanError {
                    path: p.location.to_string(),
                    message: format!("{} {}: a Requires-Dist was not judged ({e}): {shown}{more}", p.name, p.version),
                });
                continue;
            }
        };
        if !req.evaluate_markers(env, &[]) {
            continue;
        }
        let dependency = crate::inspect::packages::normalize_name(req.name.as_ref());
        if !seen.insert((dependency.clone(), text)) {
            continue;
        }
        let specifiers = match req.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(spec)) => Some(spec),
            _ => None,
        };
        out.push(ActiveRequirement { text, dependency, specifiers });
    }
    out
}

fn finding(v: &Inspected, p: &Package, requirement: &str, dep: &str, have: Option<&Package>) -> Finding {
    let (message, installed, remediation) = match have {
        None => (
            format!("{} {} requires {dep}, which is not installed", p.name, p.version),
            "not installed".to_owned(),
            format!(
                "Install the missing dependency: pip install '{}'",
                requirement.split(';').next().unwrap_or(requirement).trim()
            ),
        ),
        Some(d) => (
            format!(
                "{} {} has requirement {requirement}, but {} {} is installed",
                p.name, p.version, d.name, d.version
            ),
            d.version.clone(),
            format!("Install a version of {} that satisfies {requirement}, or upgrade {}", d.name, p.name),
        ),
    };
    Finding::new(FindingId::DependencyConflict, Severity::Error, Some(&v.venv.path), message, &remediation)
        .with_package(&p.name)
        .detail("requirement", requirement)
        .detail("dependency", dep)
        .detail("installed_version", installed)
        .detail("kind", if have.is_some() { "conflict" } else { "missing" })
}
