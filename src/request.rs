//! One request type for every front-end: the CLI's flags, the JSON request of `venvaudit
//! run`, the Ansible module's arguments and the Salt module's keyword arguments all become
//! a [`Request`]. Unknown keys and wrong types are rejected with the offending key named.

use serde::Deserialize;
use serde_json::Value;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Discover environments and report their facts.
    Facts,
    /// Facts plus every check; a gate on `fail_on`.
    Check,
    /// Which environments run distributions matching `specs`.
    Query,
    /// Judge artefacts (`artifacts`) against a target before they are installed; a gate on
    /// `fail_on`.
    #[serde(rename = "check-artifact")]
    CheckArtifact,
    /// A remediation plan: the version that fixes each finding, whether it fits, the command
    /// and the restarts (`from_facts`: the fleet's plan from cached facts).
    Plan,
}

/// Threshold for failing a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Fail on errors (default).
    #[default]
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Never fail; report only.
    Never,
}

impl FailOn {
    /// The lowest severity that fails the gate.
    pub fn threshold(self) -> Option<crate::report::Severity> {
        match self {
            FailOn::Error => Some(crate::report::Severity::Error),
            FailOn::Warning => Some(crate::report::Severity::Warning),
            FailOn::Never => None,
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Error => "error",
            FailOn::Warning => "warning",
            FailOn::Never => "never",
        }
    }
}

pub use crate::report::Detail;

/// Why a request was refused before anything was scanned; each message names the key at
/// fault, as the front-ends show it (`msg` of a failed JSON result or Ansible task).
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The request is JSON but not an object.
    #[error("request must be a JSON object")]
    NotAnObject,
    /// A key the request does not have (a typo, or an option of a newer version).
    #[error("unsupported parameter: {key}; supported parameters: {}", KEYS.join(", "))]
    UnknownKey {
        /// The key as given.
        key: String,
    },
    /// `paths: []`, which must not widen a request about some paths to the whole host.
    #[error("invalid value for paths: an empty list; name the directories to scan, or leave paths out to scan /")]
    EmptyPaths,
    /// A value of the wrong type or outside its vocabulary.
    #[error("invalid value for {key}: {message}")]
    InvalidValue {
        /// The key path (`ignore[0].until`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// `summary: true` with another `detail`.
    #[error("summary: true contradicts detail: {}; give one of them", detail.as_str())]
    SummaryContradictsDetail {
        /// The detail asked for besides `summary`.
        detail: Detail,
    },
}

/// One entry of the ignore policy: a finding is ignored when it matches every key given.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Finding id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<crate::report::FindingId>,
    /// Advisory id or any of its aliases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
    /// Distribution name (compared PEP 503-normalised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Environment path or glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venv: Option<String>,
    /// Why the finding is accepted (required).
    pub reason: String,
    /// Last day (YYYY-MM-DD) the entry applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A scan request. Field names are the JSON request keys (documented in the README).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Request {
    /// What to do (required in JSON mode).
    pub action: Option<Action>,
    /// Directories to scan (view paths inside `root`); default `/`.
    pub paths: Vec<String>,
    /// Glob patterns not to walk.
    pub exclude: Vec<String>,
    /// Maximum directory depth below each path.
    pub max_depth: Option<usize>,
    /// Treat this directory as `/` (image, container rootfs, chroot).
    pub root: Option<String>,
    /// Worker threads (default: CPU count).
    pub jobs: Option<usize>,
    /// Follow symlinked directories (loops are detected).
    pub follow_symlinks: bool,
    /// Walk into other local filesystems below a path.
    pub cross_mounts: bool,
    /// Include package lists (default true).
    pub packages: bool,
    /// Only counts and versions: no package lists, no evidence (`detail: summary`).
    pub summary: bool,
    /// How much to report per environment; `summary: true` is `detail: summary`.
    pub detail: Option<Detail>,
    /// Do not read /proc: no `in_use`, no `stale-process`, no `unused`.
    pub no_processes: bool,
    /// `check`: lowest severity that fails the gate.
    pub fail_on: FailOn,
    /// `check`: families of checks to run (default all).
    pub checks: Vec<crate::report::Family>,
    /// `check`: judge environments against this interpreter instead of their own base.
    pub target_python: Option<String>,
    /// `check`: the application's code (a directory or a `.py` file): an extension module it
    /// imports is required even when its distribution's own import does not reach it.
    pub app: Option<String>,
    /// `check`: judge mod_wsgi compatibility against this module instead of Apache's.
    /// `check-artifact`: judge against the Python this mod_wsgi module embeds (`""` or
    /// `apache`: the module Apache's configuration loads).
    pub mod_wsgi: Option<String>,
    /// `check-artifact`: the artefacts (wheelhouse directories, `.whl` files, `pylock.toml`,
    /// `requirements.txt`, `uv.lock`), judged together as one install.
    pub artifacts: Vec<String>,
    /// `check-artifact`: directories where the wheels a lock or requirements file names are
    /// looked for by file name (pip's `--find-links`).
    pub find_links: Vec<String>,
    /// `check-artifact`: the environment the artefact will replace or update: its
    /// interpreter is the target, and `artifact.changes` says what the install changes.
    pub venv: Option<String>,
    /// `check`: a `pylock.toml`, `requirements.txt` or `uv.lock` the scanned environments are
    /// compared with (`lock-drift`).
    pub lock: Option<String>,
    /// `check`: Apache configuration files to read instead of the distribution default.
    pub apache_config: Vec<String>,
    /// `check`: uWSGI configuration files to read in addition to /etc/uwsgi.
    pub uwsgi_config: Vec<String>,
    /// Read service and web server configuration (systemd, supervisor, cron, Apache, uWSGI)
    /// under this directory instead of under `root`; the paths it names are still paths of
    /// the scanned system.
    pub config_root: Option<String>,
    /// `check`/`query`: offline OSV database (directory of JSON files or zip).
    pub osv_db: Option<String>,
    /// `check`: the CPython advisory file (`venvaudit db cpython`) the interpreters are matched
    /// against (default `$VENVAUDIT_CPYTHON_DB`, else `CPython.json` beside the default PyPI
    /// database).
    pub cpython_db: Option<String>,
    /// `check`: fail the gate (an `osv-db-missing` error) when no OSV database is found.
    pub require_osv_db: bool,
    /// `check`: a database whose newest record is older than this many days draws a warning.
    pub osv_max_age_days: Option<u32>,
    /// `check`: PEP 508 specifiers that make a `forbidden-package` error.
    pub forbid: Vec<String>,
    /// `query`: PEP 508 specifiers to look for.
    pub specs: Vec<String>,
    /// `query`/`plan`: answer from cached facts instead of scanning: Ansible fact cache
    /// directories, Salt output files (host -> facts), saved reports.
    pub from_facts: Vec<String>,
    /// `from_facts`: facts older than this many days do not answer (default 7).
    pub max_age: Option<u32>,
    /// `from_facts`: a file of the host names asked about, one a line.
    pub hosts: Option<String>,
    /// `check`: verify RECORD hashes of every installed file (reads every file).
    pub verify: bool,
    /// `check`: ignore policy entries.
    pub ignore: Vec<IgnoreEntry>,
    /// `check`: ignore policy file (TOML or JSON).
    pub ignore_file: Option<String>,
    /// The day the date-driven policies judge by (end of life, ignore expiry, database age),
    /// `YYYY-MM-DD`; default `VENVAUDIT_TODAY`, else the system clock. For tests and
    /// reproducible reports ("what fails on the day 3.11 goes end of life?").
    #[serde(deserialize_with = "strict_date")]
    pub today: Option<crate::time::Date>,
}

/// `YYYY-MM-DD` only, a real calendar day.
fn strict_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<crate::time::Date>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    s.map(|s| {
        crate::time::parse_date(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a date YYYY-MM-DD")))
    })
    .transpose()
}

impl Default for Request {
    fn default() -> Self {
        Request {
            action: None,
            paths: Vec::new(),
            exclude: Vec::new(),
            max_depth: None,
            root: None,
            jobs: None,
            follow_symlinks: false,
            cross_mounts: false,
            packages: true,
            summary: false,
            detail: None,
            no_processes: false,
            fail_on: FailOn::Error,
            checks: Vec::new(),
            target_python: None,
            app: None,
            mod_wsgi: None,
            artifacts: Vec::new(),
            find_links: Vec::new(),
            venv: None,
            lock: None,
            apache_config: Vec::new(),
            uwsgi_config: Vec::new(),
            config_root: None,
            osv_db: None,
            cpython_db: None,
            require_osv_db: false,
            osv_max_age_days: None,
            forbid: Vec::new(),
            specs: Vec::new(),
            from_facts: Vec::new(),
            max_age: None,
            hosts: None,
            verify: false,
            ignore: Vec::new(),
            ignore_file: None,
            today: None,
        }
    }
}

/// The JSON keys a request accepts, for error messages.
pub const KEYS: &[&str] = &[
    "action",
    "paths",
    "exclude",
    "max_depth",
    "root",
    "jobs",
    "follow_symlinks",
    "cross_mounts",
    "packages",
    "summary",
    "detail",
    "no_processes",
    "fail_on",
    "checks",
    "target_python",
    "app",
    "mod_wsgi",
    "artifacts",
    "find_links",
    "venv",
    "lock",
    "apache_config",
    "uwsgi_config",
    "config_root",
    "osv_db",
    "cpython_db",
    "require_osv_db",
    "osv_max_age_days",
    "forbid",
    "specs",
    "from_facts",
    "max_age",
    "hosts",
    "verify",
    "ignore",
    "ignore_file",
    "today",
];

impl Request {
    /// The detail level asked for: `detail`, else `summary`, else full. `summary: true` with
    /// another `detail` is a contradiction and an error.
    pub fn detail(&self) -> Result<Detail, RequestError> {
        match (self.detail, self.summary) {
            (Some(d), true) if d != Detail::Summary => Err(RequestError::SummaryContradictsDetail { detail: d }),
            (Some(d), _) => Ok(d),
            (None, true) => Ok(Detail::Summary),
            (None, false) => Ok(Detail::Full),
        }
    }

    /// Whether a check family was selected (all are, unless `checks` lists some).
    pub fn wants(&self, family: crate::report::Family) -> bool {
        self.checks.is_empty() || self.checks.contains(&family)
    }

    /// The day the date-driven policies judge by: `today`, else `VENVAUDIT_TODAY`, else the
    /// system clock.
    pub fn today(&self) -> crate::time::Date {
        self.today.unwrap_or_else(crate::time::today)
    }

    /// Parse a JSON request, naming the key at fault on error.
    pub fn from_json(v: Value) -> Result<Request, RequestError> {
        let obj = v.as_object().ok_or(RequestError::NotAnObject)?;
        if let Some(bad) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(RequestError::UnknownKey { key: bad.clone() });
        }
        // An empty list (a template that rendered to nothing) must not turn a request about
        // some paths into a scan of the whole host.
        if obj.get("paths").and_then(Value::as_array).is_some_and(Vec::is_empty) {
            return Err(RequestError::EmptyPaths);
        }
        serde_path_to_error::deserialize(v)
            .map_err(|e| RequestError::InvalidValue { key: e.path().to_string(), message: e.inner().to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_paths_are_refused() {
        let e = Request::from_json(json!({"action": "facts", "paths": []})).unwrap_err().to_string();
        assert!(e.contains("empty list"), "{e}");
        assert!(Request::from_json(json!({"action": "facts"})).unwrap().paths.is_empty());
    }

    #[test]
    fn unknown_keys_and_types_are_named() {
        let e = Request::from_json(json!({"action": "facts", "pathz": []})).unwrap_err().to_string();
        assert!(e.contains("pathz") && e.contains("paths"), "{e}");
        let e = Request::from_json(json!({"action": "facts", "max_depth": "x"})).unwrap_err().to_string();
        assert!(e.contains("max_depth"), "{e}");
        let r = Request::from_json(json!({"action": "facts"})).unwrap();
        assert!(r.packages);
    }

    #[test]
    fn refusals_are_typed_for_the_callers_that_branch() {
        let e = Request::from_json(json!({"checks": ["eol", "nope"]})).unwrap_err();
        assert!(matches!(&e, RequestError::InvalidValue { key, .. } if key == "checks[1]"), "{e:?}");
        assert!(matches!(Request::from_json(json!([1])), Err(RequestError::NotAnObject)));
        let r = Request::from_json(json!({"summary": true, "detail": "compact"})).unwrap();
        assert!(matches!(r.detail(), Err(RequestError::SummaryContradictsDetail { detail: Detail::Compact })));
        assert_eq!(Request::from_json(json!({"summary": true})).unwrap().detail().unwrap(), Detail::Summary);
    }
}
