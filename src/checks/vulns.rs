//! `vulnerability`: installed distributions affected by an advisory of the offline OSV
//! database, one finding per (venv, package, vulnerability) after merging aliases.

use crate::osv::{Database, affecting, matching::merge_aliases};
use crate::report::FindingId;
use crate::report::{Finding, Severity};
use pep440_rs::Version;
use serde_json::json;
use std::str::FromStr;

/// Whether the OS package manager owns a distribution of the base installation (Debian's
/// dist-packages carry no INSTALLER). Vendors backport fixes without changing the upstream
/// version, so OSV's version ranges would raise false alarms on them; the OS's own tools
/// (debsecan, `dnf updateinfo`) track those.
pub fn vendor_managed(p: &crate::report::Package) -> bool {
    p.system && p.installer.as_deref().is_none_or(|i| matches!(i.trim(), "" | "debian" | "dpkg" | "rpm" | "apt"))
}

/// Vulnerability findings for one environment.
pub fn check(db: &Database, venv: &str, packages: &[crate::report::Package]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in packages.iter().filter(|p| !vendor_managed(p)) {
        let hits = affecting(db, &p.normalized_name, &p.version);
        for m in merge_aliases(&hits) {
            let severity = m.rating.as_ref().map(|r| r.severity).unwrap_or(Severity::Warning);
            let also = if m.aliases.is_empty() { String::new() } else { format!(" ({})", m.aliases.join(", ")) };
            let remediation = match next_fixed(&p.version, &m.fixed_versions) {
                Some(f) => format!(
                    "Upgrade {} to {f} or later (fixed in: {}) and redeploy the environment",
                    p.name,
                    m.fixed_versions.join(", ")
                ),
                None if !m.fixed_versions.is_empty() => {
                    format!("Upgrade {} to a fixed release (fixed in: {})", p.name, m.fixed_versions.join(", "))
                }
                None => format!("No fixed release is listed: remove {} or apply the advisory's mitigation", p.name),
            };
            let mut f = Finding::new(
                FindingId::Vulnerability,
                severity,
                Some(venv),
                format!("{} {} is affected by {}{also}: {}", p.name, p.version, m.advisory, m.summary),
                &remediation,
            )
            .with_package(&p.name)
            .detail("advisory", m.advisory.as_str())
            .detail("aliases", json!(m.aliases))
            .detail("summary", m.summary.as_str())
            .detail("fixed_versions", json!(m.fixed_versions))
            .detail("published", json!(m.published))
            .detail("modified", json!(m.modified))
            .detail("installed_version", p.version.as_str())
            .detail("records", json!(m.records));
            if let Some(r) = &m.rating {
                f = f
                    .detail("severity_source", r.source())
                    .detail("rating", json!({"method": r.method.as_str(), "score": r.score, "label": r.label}));
            }
            out.push(f);
        }
    }
    out
}

/// The lowest fixed version above the installed one.
fn next_fixed(installed: &str, fixed: &[String]) -> Option<String> {
    let v = Version::from_str(installed).ok()?;
    fixed
        .iter()
        .filter_map(|f| Version::from_str(f).ok().map(|x| (x, f)))
        .filter(|(x, _)| *x > v)
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, f)| f.clone())
}

#[cfg(test)]
mod tests {
    #[test]
    fn vendor_managed_is_system_and_os_installed_only() {
        let pkg = |system: bool, installer: Option<&str>| crate::report::Package {
            name: "urllib3".into(),
            normalized_name: "urllib3".into(),
            version: "1.26.12".into(),
            version_valid: true,
            installer: installer.map(Into::into),
            requested: false,
            editable: false,
            direct_url: None,
            location: "/usr/lib/python3/dist-packages".into(),
            metadata_format: crate::report::MetadataFormat::EggInfo,
            requires_python: None,
            requires_dist: Default::default(),
            extensions: Vec::new(),
            system,
        };
        assert!(super::vendor_managed(&pkg(true, None)));
        assert!(super::vendor_managed(&pkg(true, Some("debian\n"))));
        assert!(!super::vendor_managed(&pkg(true, Some("pip"))));
        assert!(!super::vendor_managed(&pkg(false, None)));
    }

    #[test]
    fn next_fixed_skips_older_branches() {
        let fixed = ["2.2.24".to_string(), "3.1.12".into(), "3.2.4".into()];
        assert_eq!(super::next_fixed("3.2", &fixed).as_deref(), Some("3.2.4"));
        assert_eq!(super::next_fixed("4.0", &fixed), None);
    }
}
