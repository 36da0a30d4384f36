//! Specifiers for "are we running that?" and `--forbid`: a PEP 508 requirement (name plus
//! optional version clauses, no URL) matched against installed distributions.

use crate::parse::pep508::normalize_name;
use crate::report::Package;
use pep440_rs::Version;
use pep508_rs::{Requirement, VersionOrUrl};
use std::str::FromStr;

/// A specifier that was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid specifier {text:?}: {reason}")]
pub struct SpecError {
    /// The text as given.
    pub text: String,
    /// Why it is not a specifier.
    pub reason: String,
}

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
    pub fn parse(text: &str) -> Result<Spec, SpecError> {
        let refuse = |reason: String| SpecError { text: text.to_owned(), reason };
        let requirement: Requirement = crate::parse::pep508::parse_requirement(text.trim()).map_err(refuse)?;
        if matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_))) {
            return Err(refuse("URL requirements cannot match installed versions".into()));
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

impl Spec {
    /// The PEP 503 name the specifier is about.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The versions that are the first outside the specifier from below: the `X` of each `<X`
    /// clause. A remediation plan's candidates for leaving a forbidden range (`django<4.2.16`
    /// is left at 4.2.16); `<=X` and `==X.*` name no version that must exist.
    pub fn exclusive_upper_bounds(&self) -> Vec<Version> {
        match &self.requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(spec)) => spec
                .iter()
                .filter(|s| *s.operator() == pep440_rs::Operator::LessThan)
                .map(|s| s.version().clone())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Parse a list of specifiers, failing on the first invalid one.
pub fn parse_specs(texts: &[String]) -> Result<Vec<Spec>, SpecError> {
    texts.iter().map(|t| Spec::parse(t)).collect()
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
            metadata_format: crate::report::MetadataFormat::DistInfo,
            requires_python: None,
            requires_dist: Default::default(),
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
