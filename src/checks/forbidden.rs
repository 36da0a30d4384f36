//! `forbidden-package`: installed distributions matching a `--forbid` specifier (a policy such
//! as "no Django below the LTS"). Same matcher as `venvaudit query`.

use crate::parse::spec::Spec;
use crate::report::FindingId;
use crate::report::{Finding, Severity};

/// Forbidden-package findings for one environment.
pub fn check(specs: &[Spec], venv: &str, packages: &[crate::report::Package]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in packages.iter() {
        for s in specs.iter().filter(|s| s.matches(p)) {
            out.push(
                Finding::new(
                    FindingId::ForbiddenPackage,
                    Severity::Error,
                    Some(venv),
                    format!("{} {} matches the forbidden specifier {}", p.name, p.version, s.text),
                    "Upgrade or remove the distribution so it no longer matches the policy",
                )
                .with_package(&p.name)
                .detail("spec", s.text.as_str())
                .detail("installed_version", p.version.as_str()),
            );
        }
    }
    out
}
