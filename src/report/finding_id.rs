//! The closed vocabularies of the contract: finding ids and check families.
//!
//! Both are APIs for playbooks: an id names a kind of problem (`when: "'broken-interpreter' in
//! ids"`, ignore policies), a family names a group of checks (`checks: [extensions]`). Each is
//! an enum so a typo is a compile error here and a clear error at the edge ("unknown finding
//! id"), and the tables below are the one place that says what exists: the README table, the
//! Ansible/Salt docs and the ignore policy are tested against them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::Severity;

/// Defines [`FindingId`] with, per variant: its kebab-case id, its family (`None` for the
/// policy's own findings), the severities it can have and its one-line meaning.
macro_rules! finding_ids {
    ($( $(#[doc = $doc:literal])* $variant:ident = $id:literal, $family:expr, [$($sev:ident),+], $meaning:literal; )*) => {
        /// A stable finding id. Serialised as its kebab-case string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum FindingId {
            $( $(#[doc = $doc])* #[serde(rename = $id)] $variant, )*
        }

        impl FindingId {
            /// Every id, in the order of the README table.
            pub const ALL: &'static [FindingId] = &[$(FindingId::$variant),*];

            /// The kebab-case id used in JSON, the table and ignore policies.
            pub fn as_str(self) -> &'static str {
                match self { $(FindingId::$variant => $id,)* }
            }

            /// The family whose check emits it; `None` for the ignore policy's own finding.
            pub fn family(self) -> Option<Family> {
                match self { $(FindingId::$variant => $family,)* }
            }

            /// The severities a finding of this id can have, mildest first.
            pub fn severities(self) -> &'static [Severity] {
                match self { $(FindingId::$variant => &[$(Severity::$sev),+],)* }
            }

            /// One line saying what the id means (the README table says more).
            pub fn meaning(self) -> &'static str {
                match self { $(FindingId::$variant => $meaning,)* }
            }
        }
    };
}

use Family as F;

finding_ids! {
    /// The base interpreter or the `bin/python` link target is gone.
    BrokenInterpreter = "broken-interpreter", Some(F::Interpreter), [Error],
        "the base interpreter or the bin/python link target no longer exists";
    /// The base interpreter is gone but the copied interpreter starts on another installation.
    BaseInterpreterFallback = "base-interpreter-fallback", Some(F::Interpreter), [Warning],
        "the base interpreter no longer exists, but the copied interpreter starts on the installation at its compiled-in prefix";
    /// pyvenv.cfg, the lib dir and the base interpreter disagree on X.Y.
    InterpreterMismatch = "interpreter-mismatch", Some(F::Interpreter), [Error],
        "pyvenv.cfg, lib/pythonX.Y and the base interpreter disagree on the Python version";
    /// A compiled module is built for another Python ABI (file-name tag or C-API symbols).
    ExtensionAbiMismatch = "extension-abi-mismatch", Some(F::Extensions), [Warning, Error],
        "a compiled module is built for another Python (file-name ABI tag, or C-API symbols no mapped object defines)";
    /// A compiled file's ELF machine differs from the interpreter's.
    ExtensionArchMismatch = "extension-arch-mismatch", Some(F::Extensions), [Warning, Error],
        "a compiled module or bundled library is built for another CPU architecture than the interpreter (warning for libraries no module loads)";
    /// A compiled file needs a GLIBC_x.y newer than the host's glibc.
    ExtensionGlibcTooNew = "extension-glibc-too-new", Some(F::Extensions), [Warning, Error],
        "an extension module, or a library its import maps, needs a GLIBC_x.y newer than the host's glibc (warning for .so files no module loads)";
    /// A compiled file needs a shared library the loader cannot find.
    ExtensionMissingLibrary = "extension-missing-library", Some(F::Extensions), [Warning, Error],
        "importing an extension module fails: a library it or a library it maps needs is not found by glibc's search (warning for optional modules and .so files no module loads)";
    /// A compiled file is linked against musl on a glibc host, or the reverse.
    ExtensionLibcMismatch = "extension-libc-mismatch", Some(F::Extensions), [Warning, Error],
        "a compiled file is linked against musl on a glibc host, or against glibc on a musl host (warning for libraries no module loads)";
    /// A compiled file needs a symbol version (GLIBCXX_3.4.30, OPENSSL_3.0.0) its library lacks.
    ExtensionLibraryVersionMissing = "extension-library-version-missing", Some(F::Extensions), [Warning, Error],
        "a compiled file needs a symbol version (e.g. GLIBCXX_3.4.30) the library the loader maps does not define";
    /// The environment was made for another Python than `--target-python`.
    TargetPythonMismatch = "target-python-mismatch", Some(F::Interpreter), [Error],
        "the environment was made for another Python X.Y, implementation or build than --target-python";
    /// The environment's CPython is past, or within six months of, its end of life.
    InterpreterEol = "interpreter-eol", Some(F::Eol), [Warning, Error],
        "the environment's CPython reaches its end of life within six months (warning) or is past it (error)";
    /// mod_wsgi embeds another Python X.Y than the environment it is configured to host.
    ModWsgiAbiMismatch = "mod-wsgi-abi-mismatch", Some(F::ModWsgi), [Error],
        "Apache's mod_wsgi embeds another Python X.Y than an environment its configuration names";
    /// A mod_wsgi python-home/python-path names a path that is not an environment.
    ModWsgiVenvMissing = "mod-wsgi-venv-missing", Some(F::ModWsgi), [Error],
        "a mod_wsgi python-home or python-path names a path that does not exist or is not a Python environment";
    /// Same X.Y, but the environment comes from another Python installation than mod_wsgi's libpython.
    ModWsgiForeignInstall = "mod-wsgi-foreign-install", Some(F::ModWsgi), [Warning],
        "same X.Y, but the environment was made from another Python installation than the libpython mod_wsgi loads";
    /// uWSGI's python plugin embeds another Python X.Y than the app's environment.
    UwsgiAbiMismatch = "uwsgi-abi-mismatch", Some(F::Uwsgi), [Error],
        "uWSGI's python plugin embeds another Python X.Y than an app's environment";
    /// A uWSGI virtualenv/home names a path that is not an environment.
    UwsgiVenvMissing = "uwsgi-venv-missing", Some(F::Uwsgi), [Error],
        "a uWSGI virtualenv/home names a path that does not exist or is not a Python environment";
    /// Same X.Y, but the environment comes from another installation than the plugin's libpython.
    UwsgiForeignInstall = "uwsgi-foreign-install", Some(F::Uwsgi), [Warning],
        "same X.Y, but the environment was made from another installation than the libpython the plugin loads";
    /// A running process uses code of the environment that changed since it started.
    StaleProcess = "stale-process", Some(F::Usage), [Warning],
        "a running process maps deleted files of the environment or started before a distribution in it was installed, upgraded or removed";
    /// A service, supervisor program or cron job points at an environment that is gone.
    ServiceVenvMissing = "service-venv-missing", Some(F::Usage), [Error],
        "a systemd unit, supervisor program or cron job points at an environment path that does not exist";
    /// No process and no configuration uses the environment.
    Unused = "unused", Some(F::Usage), [Info],
        "no running process and no service configuration uses the environment (only with a complete process view)";
    /// An installed version is affected by an advisory of the OSV database.
    Vulnerability = "vulnerability", Some(F::Vulnerabilities), [Info, Warning, Error],
        "an installed version is affected by an OSV advisory (critical/high error, medium or unrated warning, low info)";
    /// The environment's CPython (not OS-owned) is affected by a CVE of the interpreter.
    InterpreterVulnerability = "interpreter-vulnerability", Some(F::Vulnerabilities), [Info, Warning, Error],
        "the CPython an environment runs (its base installation's exact version; not an OS-owned one) is affected by a CVE of the PSF's records (CVSS critical/high error, medium or unrated warning, low info)";
    /// An installed distribution matches a `--forbid` specifier.
    ForbiddenPackage = "forbidden-package", Some(F::Forbidden), [Error],
        "an installed distribution matches a --forbid specifier";
    /// A requirement `pip check` reports as missing or conflicting.
    DependencyConflict = "dependency-conflict", Some(F::Dependencies), [Error],
        "a requirement of an installed distribution is missing or not satisfied, exactly as pip check reports it";
    /// `--verify`: an installed file's hash differs from its RECORD.
    RecordMismatch = "record-mismatch", Some(F::Integrity), [Error],
        "--verify: installed files differ from the hashes in their RECORD (modified after installation)";
    /// `--verify`: a file listed in RECORD is gone.
    RecordMissing = "record-missing", Some(F::Integrity), [Warning],
        "--verify: files listed in a RECORD are missing";
    /// Parts of a venv are writable by others, foreign-owned, or setuid/setgid.
    UnsafePermissions = "unsafe-permissions", Some(F::Permissions), [Warning, Error],
        "paths that can change the code a venv runs are writable by group (warning) or others, owned by another user, or setuid/setgid";
    /// `check-artifact`: no wheel of a distribution installs on the target.
    ArtifactNoCompatibleWheel = "artifact-no-compatible-wheel", Some(F::Artifact), [Error],
        "check-artifact: no wheel the artefact offers for a distribution has a tag the target interpreter accepts (names the best target tags and the tags offered)";
    /// `check-artifact`: a file's hash differs from the one the lock or requirements pin.
    ArtifactHashMismatch = "artifact-hash-mismatch", Some(F::Artifact), [Error],
        "check-artifact: a wheel's sha256 (or sha384/sha512) differs from every hash the lock or requirements file pins for it";
    /// `check-artifact`: a file the lock names is not there.
    ArtifactFileMissing = "artifact-file-missing", Some(F::Artifact), [Error],
        "check-artifact: no file for a locked or pinned distribution is found (by path, or by name in --find-links)";
    /// `check-artifact`: the target's Python is outside a Requires-Python.
    ArtifactRequiresPython = "artifact-requires-python", Some(F::Artifact), [Error],
        "check-artifact: the target Python is outside the Requires-Python of a selected wheel, of a lock entry or of the whole lock";
    /// `check-artifact`: a malformed lock, requirements file or wheel.
    ArtifactInvalid = "artifact-invalid", Some(F::Artifact), [Warning, Error],
        "check-artifact: a lock, requirements file or wheel is malformed or unsafe (names the file and line or member); the rest is still judged";
    /// `check-artifact`: only an sdist: built on the host at install time, not judged.
    ArtifactSdistOnly = "artifact-sdist-only", Some(F::Artifact), [Warning],
        "check-artifact: a distribution has only a source distribution (or a VCS/directory source): it will be built on the host and cannot be judged";
    /// `check --lock`: the installed venv differs from its lock.
    LockDrift = "lock-drift", Some(F::Drift), [Warning, Error],
        "check --lock: the installed environment differs from its lock: missing, other version, other source (errors), extra (warning), files changed since install (--verify, error)";
    /// An ignore policy entry is past its `until` date.
    IgnoreExpired = "ignore-expired", None, [Warning],
        "an ignore policy entry is past its until date and no longer applies";
    /// `--require-osv-db` and no OSV database was found: vulnerabilities were not checked.
    OsvDbMissing = "osv-db-missing", Some(F::Vulnerabilities), [Error],
        "--require-osv-db (require_osv_db) and no OSV database was found: vulnerabilities were not checked";
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An id that is not in the vocabulary (from an ignore policy or a request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown finding id {given:?}; known ids: {}", FindingId::ALL.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownFindingId {
    /// What was given.
    pub given: String,
}

impl FromStr for FindingId {
    type Err = UnknownFindingId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FindingId::ALL.iter().copied().find(|i| i.as_str() == s).ok_or_else(|| UnknownFindingId { given: s.to_owned() })
    }
}

/// Defines [`Family`] with its kebab-case names.
macro_rules! families {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal; )*) => {
        /// A family of checks: the values of `--check`/`checks`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Family {
            $( $(#[doc = $doc])* #[serde(rename = $name)] $variant, )*
        }

        impl Family {
            /// Every family, in the order they run.
            pub const ALL: &'static [Family] = &[$(Family::$variant),*];
            /// The names, for option choices and messages.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The kebab-case name used by `--check` and `checks`.
            pub fn as_str(self) -> &'static str {
                match self { $(Family::$variant => $name,)* }
            }
        }
    };
}

families! {
    /// The interpreter itself: broken, mismatched, `--target-python`.
    Interpreter = "interpreter";
    /// Compiled extension modules judged the way the dynamic loader maps them.
    Extensions = "extensions";
    /// End-of-life CPython versions.
    Eol = "eol";
    /// Apache mod_wsgi against the environments its configuration names.
    ModWsgi = "mod-wsgi";
    /// uWSGI's python plugin against its apps' environments.
    Uwsgi = "uwsgi";
    /// Advisories of the offline OSV database.
    Vulnerabilities = "vulnerabilities";
    /// `--forbid` specifiers.
    Forbidden = "forbidden";
    /// Requirements as `pip check` judges them.
    Dependencies = "dependencies";
    /// `--verify`: installed files against their RECORD hashes.
    Integrity = "integrity";
    /// Who can change the code an environment runs.
    Permissions = "permissions";
    /// Processes and services using environments.
    Usage = "usage";
    /// `check-artifact`: the artefact's own problems (selection, hashes, files, Requires-Python).
    Artifact = "artifact";
    /// `check --lock`: an installed environment against its lock.
    Drift = "drift";
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A family name that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown check family {given:?}; valid families: {}", Family::NAMES.join(", "))]
pub struct UnknownFamily {
    /// What was given.
    pub given: String,
}

impl FromStr for Family {
    type Err = UnknownFamily;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Family::ALL.iter().copied().find(|f| f.as_str() == s).ok_or_else(|| UnknownFamily { given: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_strings_and_serde() {
        for &id in FindingId::ALL {
            assert_eq!(id.as_str().parse::<FindingId>(), Ok(id));
            assert_eq!(serde_json::to_value(id).unwrap(), serde_json::json!(id.as_str()));
            let back: FindingId = serde_json::from_value(serde_json::json!(id.as_str())).unwrap();
            assert_eq!(back, id);
            assert!(id.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{id} is not kebab-case");
            assert!(id.severities().windows(2).all(|w| w[0] < w[1]), "{id}: severities not mildest first");
        }
        let err = "eol-python".parse::<FindingId>().unwrap_err();
        assert!(err.to_string().contains("interpreter-eol"), "{err}");
    }

    #[test]
    fn families_round_trip_and_every_family_emits_something() {
        for &f in Family::ALL {
            assert_eq!(f.as_str().parse::<Family>(), Ok(f));
            assert_eq!(serde_json::to_value(f).unwrap(), serde_json::json!(f.as_str()));
            assert!(FindingId::ALL.iter().any(|i| i.family() == Some(f)), "family {f} has no finding id");
        }
        assert!("mod_wsgi".parse::<Family>().is_err());
    }
}
