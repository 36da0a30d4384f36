//! The report contract: every field a playbook, Salt state or script may read.
//!
//! Field names and finding ids are an API. Changing or removing one is a breaking change and
//! bumps [`SCHEMA_VERSION`]; adding an optional field does not. `schema/report.schema.json`
//! mirrors this file and a test validates real output against it.

pub mod compact;
mod finding_id;

pub use finding_id::{Family, FindingId, UnknownFamily, UnknownFindingId};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Version of the report contract.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole result of a scan: what `facts` and `check` print.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Version of this contract.
    pub schema_version: u32,
    /// Which tool produced the report.
    pub tool: Tool,
    /// When the report was made, RFC 3339 UTC: readers of cached facts judge their age by it.
    pub generated_at: String,
    /// How much each environment says: `full`, `compact` or `summary` (see `Venv`).
    pub detail: Detail,
    /// Facts about the scanned system (the `--root` tree when given).
    pub host: Host,
    /// Every environment found, sorted by path.
    pub venvs: Vec<Venv>,
    /// Every problem found, sorted by severity, venv, id.
    pub findings: Vec<Finding>,
    /// Paths that could not be read; the scan went on without them.
    pub errors: Vec<ScanError>,
    /// Caveats about the whole report (e.g. a partial process view when not run as root).
    pub warnings: Vec<String>,
    /// The vulnerability database used by `check`, when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osv_db: Option<OsvDbInfo>,
    /// Counts of findings by severity (ignored findings are counted apart).
    pub summary: Summary,
    /// `check-artifact`: what was judged, against which target, and the wheels selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
}

/// What `check-artifact` judged: the artefacts, the target interpreter and the wheels an
/// installer would pick for it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Artifact {
    /// The first artefact as given (every one is in `inputs`).
    pub path: String,
    /// Its kind: `wheelhouse`, `wheel`, `pylock`, `requirements`, `uv-lock`.
    pub kind: String,
    /// Every artefact given, `{path, kind}`, judged together as one install.
    pub inputs: Vec<ArtifactInput>,
    /// The interpreter and host the artefact is judged against.
    pub target: ArtifactTarget,
    /// One wheel per distribution, as the installer would pick it.
    pub selected: Vec<SelectedWheel>,
    /// Entries of a lock that install nothing from a wheel (the project itself, a marker
    /// false for the target), with why.
    pub skipped: Vec<SkippedEntry>,
    /// `--venv`: how the installed environment differs from what the artefact installs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

/// One artefact given to `check-artifact`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ArtifactInput {
    /// As given.
    pub path: String,
    /// `wheelhouse`, `wheel`, `pylock`, `requirements`, `uv-lock`.
    pub kind: String,
}

/// The interpreter an artefact is judged against, described from files.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ArtifactTarget {
    /// How it was chosen: `python3` (the scanned system's), `target-python`, `venv`, `mod-wsgi`.
    pub source: String,
    /// The interpreter's facts, with their evidence.
    pub python: Python,
    /// `CPython` or `PyPy`.
    pub implementation: String,
    /// The version markers are evaluated with (`3.12.1`; `X.Y` when only that is known).
    pub version: Option<String>,
    /// A free-threaded build (`cp313t`).
    pub free_threaded: bool,
    /// `platform.machine()`.
    pub arch: Option<String>,
    /// `glibc` or `musl`, and its version.
    pub libc: Option<String>,
    /// The C library's version (`2.36`).
    pub libc_version: Option<String>,
    /// The directories the dynamic loader searches (ld.so.conf, then the defaults).
    pub loader_paths: Vec<String>,
    /// The best tags the target accepts, best first (the first ten).
    pub best_tags: Vec<String>,
    /// How many tags it accepts.
    pub tag_count: usize,
}

/// A wheel the installer would pick for one distribution.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SelectedWheel {
    /// Distribution name as the wheel spells it.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The wheel file (path as found).
    pub file: String,
    /// The best of its tags that the target accepts.
    pub tag: String,
    /// Why this file: candidates, version, tag rank, build tag, hash.
    pub why: String,
    /// Its hash was checked against the lock or requirements (`false`: nothing to check against).
    pub hash_verified: bool,
    /// The artefact it comes from.
    pub input: String,
}

/// A lock entry that installs no wheel.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SkippedEntry {
    /// Distribution name.
    pub name: String,
    /// Version, when pinned.
    pub version: Option<String>,
    /// Why nothing is installed from a wheel.
    pub why: String,
}

/// `--venv`: the installed environment against the artefact.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Changes {
    /// The environment.
    pub venv: String,
    /// Distributions the artefact adds: `name==version`.
    pub install: Vec<String>,
    /// Installed at another version: `name old -> new`.
    pub upgrade: Vec<String>,
    /// Installed at a newer version than the artefact's: `name old -> new`.
    pub downgrade: Vec<String>,
    /// Installed and not in the artefact (left as they are by `pip install`).
    pub not_in_artifact: Vec<String>,
    /// How many are unchanged.
    pub unchanged: usize,
}

/// Name and version of the tool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    /// Always `venvaudit`.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// The machine this venvaudit binary was built for (`x86_64`, `aarch64`), which is not
    /// always the scanned host's (`host.arch`): under `--root`, or an emulated binary. Null in
    /// facts written before it was reported.
    #[serde(default)]
    pub arch: Option<String>,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "venvaudit".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            arch: Some(std::env::consts::ARCH.to_owned()),
        }
    }
}

/// Facts about the scanned system.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Host {
    /// Host name (from the kernel, or `/etc/hostname` under `--root`).
    pub hostname: Option<String>,
    /// Machine architecture of the system's C library, e.g. `x86_64`.
    pub arch: Option<String>,
    /// Newest `GLIBC_x.y` version defined by the system's libc.so.6; null on musl.
    pub glibc: Option<String>,
    /// `PRETTY_NAME` from os-release.
    pub os: Option<String>,
    /// Where the facts came from.
    pub evidence: BTreeMap<String, String>,
}

/// One Python environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Venv {
    /// Directory of the environment, as seen inside the scanned system.
    pub path: String,
    /// `venv`, `virtualenv`, `uv`, `legacy-virtualenv` or `conda`.
    pub kind: VenvKind,
    /// The tool that made it, when it says so.
    pub creator: Creator,
    /// The interpreter the environment runs on.
    pub python: Python,
    /// Whether the base interpreter's site-packages is also on `sys.path`.
    pub include_system_site_packages: bool,
    /// site-packages directories of the environment, in `sys.path` order.
    pub site_packages: Vec<String>,
    /// The base installation's site directories the environment also sees (with
    /// `include-system-site-packages = true`), in `sys.path` order after `site_packages`.
    pub system_site_packages: Vec<String>,
    /// Owner of the environment directory.
    pub owner: Owner,
    /// Number of installed distributions (also set when `packages` is omitted).
    pub package_count: usize,
    /// Installed distributions; omitted in summary and compact mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<Package>>,
    /// Compact mode only: every installed distribution as `normalized-name==version`, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributions: Option<Vec<String>>,
    /// Compact mode only: names of the services and configuration in `used_by`, as
    /// `kind:name` (e.g. `systemd:app.service`, `mod_wsgi:app`), sorted and unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by_names: Option<Vec<String>>,
    /// Compact mode only: names of the running processes in `in_use` (their systemd unit,
    /// else the program name), sorted and unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_use_names: Option<Vec<String>>,
    /// Worst severity among this venv's findings; `unknown` when part of it could not be read.
    pub health: Health,
    /// Services and configuration that point at this venv (mod_wsgi, uWSGI, systemd...).
    pub used_by: Vec<UsedBy>,
    /// Running processes that use this venv (empty with `--no-processes`).
    pub in_use: Vec<InUse>,
}

/// A running process that uses an environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InUse {
    /// Process id.
    pub pid: u32,
    /// User running it.
    pub user: Option<String>,
    /// Command line, credentials in URLs redacted.
    pub cmdline: String,
    /// Start time, RFC 3339 UTC.
    pub started_at: Option<String>,
    /// systemd unit from its cgroup.
    pub unit: Option<String>,
    /// Why it counts: `cmdline`, `cwd`, `VIRTUAL_ENV`, `maps`, `open-files`.
    pub reasons: Vec<String>,
}

/// How an environment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VenvKind {
    /// stdlib `python -m venv` (PEP 405).
    Venv,
    /// virtualenv 20 or newer.
    Virtualenv,
    /// `uv venv`.
    Uv,
    /// virtualenv before 20: no pyvenv.cfg, `orig-prefix.txt`.
    LegacyVirtualenv,
    /// A conda environment (`conda-meta/history`).
    Conda,
}

impl VenvKind {
    /// The kebab-case name used in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            VenvKind::Venv => "venv",
            VenvKind::Virtualenv => "virtualenv",
            VenvKind::Uv => "uv",
            VenvKind::LegacyVirtualenv => "legacy-virtualenv",
            VenvKind::Conda => "conda",
        }
    }
}

/// The tool that created an environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Creator {
    /// `venv`, `virtualenv`, `uv`, `conda`.
    pub tool: String,
    /// Its version when recorded (pyvenv.cfg, conda-meta).
    pub version: Option<String>,
}

/// The interpreter of an environment, learned from files only.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Python {
    /// `CPython` or `PyPy`.
    pub implementation: Option<String>,
    /// Full version when known (`3.11.7`), else `X.Y`: the version of the build the
    /// environment runs now, read from the base installation's files (build-details.json,
    /// patchlevel.h, PYTHON.json, conda-meta) or the version string compiled into its
    /// libpython or executable; pyvenv.cfg's only when none of those says. Written as the
    /// source writes it: a branch build's `3.10.5+` keeps its `+`.
    pub version: Option<String>,
    /// The version pyvenv.cfg records (the one the environment was made with), when it is not
    /// `version`: the base installation was upgraded in place since (pyenv 3.12.1 rebuilt as
    /// 3.12.8 keeps `version = 3.12.1`). Null when they agree or there is no pyvenv.cfg.
    #[serde(default)]
    pub venv_cfg_version: Option<String>,
    /// True when `version` does not name one release: a branch build (`3.10.5+`, a snapshot
    /// after 3.10.5). `evidence.version_uncertain` says why.
    #[serde(default)]
    pub version_uncertain: bool,
    /// The extension-module ABI tag, e.g. `cpython-311-x86_64-linux-gnu`.
    pub abi: Option<String>,
    /// The environment's own interpreter entry (`bin/python`).
    pub executable: Option<String>,
    /// The base interpreter it runs, after resolving links.
    pub base_executable: Option<String>,
    /// `home` from pyvenv.cfg: the base interpreter's directory.
    pub home: Option<String>,
    /// Whether the base interpreter still exists.
    pub base_exists: bool,
    /// `sys.base_prefix`: the installation the interpreter runs on, found as CPython's path
    /// calculation does (landmark search from `home`, else the compiled-in prefix); null when
    /// not found.
    pub base_prefix: Option<String>,
    /// The shared libpython the base interpreter loads, `static` when it has none.
    pub libpython: Option<LibPython>,
    /// ELF machine of the base interpreter, e.g. `x86_64`.
    pub machine: Option<String>,
    /// Who installed the base interpreter (links resolved): a package manager or a Python
    /// manager. Null when there is no base interpreter to judge.
    #[serde(default)]
    pub owner: Option<InterpreterOwner>,
    /// For each fact above, where it was read from.
    pub evidence: BTreeMap<String, String>,
}

/// Who installed an interpreter, and its package and version in that manager's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterpreterOwner {
    /// `dpkg`, `rpm`, `conda`, `uv`, `pyenv`, `python-build-standalone` or `unknown`.
    pub manager: OwnerManager,
    /// The package (`python3.11-minimal`, `python3`), conda's `python`, uv's installation
    /// (`cpython-3.12.8-linux-x86_64-gnu`), pyenv's version name (`3.12.1`); null when the
    /// manager is known but not the package (an rpm database that is not read).
    pub package: Option<String>,
    /// The package's version as its manager writes it (dpkg `3.11.2-6+deb12u6`, rpm
    /// `[EPOCH:]VERSION-RELEASE`, conda `3.12.8`); null when unknown.
    pub version: Option<String>,
}

/// The managers an interpreter can be installed by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OwnerManager {
    /// Debian, Ubuntu: `var/lib/dpkg`.
    Dpkg,
    /// RHEL, Fedora, SUSE: the rpm database.
    Rpm,
    /// A conda installation or environment: `conda-meta/python-*.json`.
    Conda,
    /// A Python uv installed (`uv python install`).
    Uv,
    /// A pyenv version.
    Pyenv,
    /// A python-build-standalone distribution unpacked by hand (its `PYTHON.json`).
    PythonBuildStandalone,
    /// None of the above claims it (built from source, copied in, removed from its database).
    #[default]
    Unknown,
}

/// The libpython an interpreter is linked against.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LibPython {
    /// `shared` (DT_NEEDED libpython) or `static` (libpython linked into the executable).
    pub linkage: Linkage,
    /// The DT_NEEDED name, e.g. `libpython3.12.so.1.0`.
    pub soname: Option<String>,
    /// Where the dynamic loader would find it; null when it cannot be found.
    pub path: Option<String>,
}

/// Owner of an environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Owner {
    /// Numeric uid.
    pub uid: Option<u32>,
    /// User name from the scanned system's /etc/passwd.
    pub user: Option<String>,
}

/// The kind of metadata a distribution is installed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataFormat {
    /// A `*.dist-info` directory (wheels; pip, uv).
    DistInfo,
    /// A `*.egg-info` directory or file (setuptools, `setup.py develop`, distutils).
    EggInfo,
    /// An `*.egg` directory (easy_install).
    Egg,
}

/// One installed distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Package {
    /// Name as its metadata spells it.
    pub name: String,
    /// PEP 503 normalised name.
    pub normalized_name: String,
    /// Version verbatim from the metadata.
    pub version: String,
    /// Whether `version` is valid PEP 440.
    pub version_valid: bool,
    /// Contents of INSTALLER (`pip`, `uv`, `conda`), null when absent. Shared between the
    /// packages of one environment that name the same installer.
    pub installer: Option<Arc<str>>,
    /// Whether REQUESTED exists (installed on purpose, not as a dependency).
    pub requested: bool,
    /// Installed in editable/development mode.
    pub editable: bool,
    /// PEP 610 direct_url.json, credentials redacted.
    pub direct_url: Option<Value>,
    /// The `sys.path` directory holding its metadata: one allocation shared by the packages
    /// of that directory (a fleet report holds tens of thousands of packages).
    pub location: Arc<str>,
    /// The kind of metadata it was read from.
    pub metadata_format: MetadataFormat,
    /// Requires-Python.
    pub requires_python: Option<String>,
    /// Requires-Dist entries verbatim.
    pub requires_dist: TextList,
    /// Compiled extension modules owned by the distribution.
    pub extensions: Vec<Extension>,
    /// Seen from the base installation's site directories (`include-system-site-packages`),
    /// not installed in the environment itself.
    pub system: bool,
}

/// A list of short strings (one package's Requires-Dist entries) held as one allocation,
/// the entries joined by newlines, and written in JSON as an array of strings. A full
/// fleet report holds hundreds of thousands of requirements: one `String` each doubled the
/// memory they take. An entry never holds a newline (one read from a folded header has it
/// replaced by a space).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextList(String);

impl TextList {
    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (!self.0.is_empty()).then(|| self.0.split('\n')).into_iter().flatten()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        if self.0.is_empty() { 0 } else { memchr::memchr_iter(b'\n', self.0.as_bytes()).count() + 1 }
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Append an entry. An empty entry is dropped (it could not be told from no entry).
    pub fn push(&mut self, entry: &str) {
        if entry.is_empty() {
            return;
        }
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        if entry.contains('\n') {
            self.0.push_str(&entry.replace('\n', " "));
        } else {
            self.0.push_str(entry);
        }
    }
}

impl<S: AsRef<str>> FromIterator<S> for TextList {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut out = TextList::default();
        for s in iter {
            out.push(s.as_ref());
        }
        out.0.shrink_to_fit();
        out
    }
}

impl Serialize for TextList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for TextList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<String>::deserialize(d)?.into_iter().collect())
    }
}

/// A compiled extension module of a distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extension {
    /// Path relative to the distribution's `location`.
    pub path: String,
    /// ABI tag from the file name (`cpython-311-x86_64-linux-gnu`, `abi3`), null for plain `.so`.
    pub abi_tag: Option<String>,
}

/// A reference to an environment from a service or configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsedBy {
    /// What refers to the environment.
    pub kind: UsageKind,
    /// Configuration file holding the reference.
    pub file: String,
    /// 1-based line of the directive.
    pub line: usize,
    /// Process group or program name, when the directive has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// Severity of a finding. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a gate unless asked.
    Info,
    /// Will break soon or is risky.
    Warning,
    /// Broken or unsafe now.
    Error,
}

impl Severity {
    /// The lowercase name used in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem, with a stable id a playbook can match on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// Stable kebab-case id, listed in the README.
    pub id: FindingId,
    /// How bad it is.
    pub severity: Severity,
    /// The environment concerned, null for host-wide findings.
    pub venv: Option<String>,
    /// The distribution concerned, when there is one.
    pub package: Option<String>,
    /// One line a person can act on.
    pub message: String,
    /// What to do about it.
    pub remediation: String,
    /// Machine-readable specifics, per id.
    pub details: Map<String, Value>,
    /// Set when an ignore entry covers the finding; it then does not count for `--fail-on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored: Option<Ignored>,
}

impl Finding {
    /// A finding with no package and empty details.
    pub fn new(id: FindingId, severity: Severity, venv: Option<&str>, message: String, remediation: &str) -> Self {
        Finding {
            id,
            severity,
            venv: venv.map(str::to_owned),
            package: None,
            message,
            remediation: remediation.to_owned(),
            details: Map::new(),
            ignored: None,
        }
    }

    /// Attach the distribution concerned.
    pub fn with_package(mut self, package: &str) -> Self {
        self.package = Some(package.to_owned());
        self
    }

    /// Attach one machine-readable detail.
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// A path the scan could not read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanError {
    /// The path concerned.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// Finding counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Number of environments.
    pub venvs: usize,
    /// Number of distributions over all environments.
    pub packages: usize,
    /// Active findings per severity.
    pub error: usize,
    /// Active warnings.
    pub warning: usize,
    /// Active infos.
    pub info: usize,
    /// Findings covered by an ignore entry.
    pub ignored: usize,
    /// Python versions in use and how many environments run each.
    pub python_versions: BTreeMap<String, usize>,
    /// Environments whose interpreter is broken.
    pub broken: usize,
}

/// How much of each environment a report holds (the request key `detail`, `--detail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    /// Everything: packages with their metadata, evidence, services and processes.
    #[default]
    Full,
    /// Small enough to cache for a fleet yet able to answer "are we running X?": per venv the
    /// path, kind, Python version and ABI, health, owner, names of the units and processes
    /// that use it, and every distribution as `name==version` (`distributions`).
    Compact,
    /// Counts and versions only (the same as `summary: true`).
    Summary,
}

impl Detail {
    /// Lowercase name, as in the report's `detail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Detail::Full => "full",
            Detail::Compact => "compact",
            Detail::Summary => "summary",
        }
    }
}

/// An environment's health: the worst severity among its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// No finding.
    #[default]
    Ok,
    /// Only info findings.
    Info,
    /// A warning, no error.
    Warning,
    /// An error.
    Error,
    /// Part of the environment could not be read, and no error was found in the rest.
    Unknown,
}

impl Health {
    /// The lowercase name used in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Info => "info",
            Health::Warning => "warning",
            Health::Error => "error",
            Health::Unknown => "unknown",
        }
    }
}

/// How an interpreter has its libpython.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Linkage {
    /// A DT_NEEDED libpython shared library.
    #[default]
    Shared,
    /// libpython linked into the executable.
    Static,
}

/// What refers to an environment from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UsageKind {
    /// Apache mod_wsgi (`WSGIDaemonProcess python-home=`, `WSGIPythonHome`, python-path).
    #[serde(rename = "mod_wsgi")]
    ModWsgi,
    /// A uWSGI app (`virtualenv`, `home`, `pyhome`).
    #[serde(rename = "uwsgi")]
    Uwsgi,
    /// A systemd unit.
    #[serde(rename = "systemd")]
    Systemd,
    /// A supervisor program.
    #[serde(rename = "supervisor")]
    Supervisor,
    /// A cron job.
    #[serde(rename = "cron")]
    Cron,
}

impl UsageKind {
    /// The name used in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            UsageKind::ModWsgi => "mod_wsgi",
            UsageKind::Uwsgi => "uwsgi",
            UsageKind::Systemd => "systemd",
            UsageKind::Supervisor => "supervisor",
            UsageKind::Cron => "cron",
        }
    }
}

/// The ignore entry that covers a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ignored {
    /// Why the finding is accepted.
    pub reason: String,
    /// Last day the entry applies, when it has one.
    pub until: Option<String>,
    /// Where the entry came from: `request` or the ignore file's path.
    pub source: String,
}

/// The vulnerability database a `check` used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvDbInfo {
    /// The path given or found.
    pub path: String,
    /// `directory` or `zip`.
    pub format: String,
    /// Advisories loaded (withdrawn ones skipped).
    pub advisories: usize,
    /// Distinct PyPI package names with an advisory.
    pub packages: usize,
    /// The newest `modified` time of any record (RFC 3339): how fresh the database is.
    pub newest_modified: Option<String>,
    /// Withdrawn advisories skipped.
    pub withdrawn_skipped: usize,
    /// Range events whose version is not PEP 440, skipped.
    pub invalid_event_versions_skipped: usize,
    /// Load time in milliseconds.
    pub load_ms: f64,
    /// Records that could not be read or parsed (skipped), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<usize>,
    /// Up to ten of them: `{file, message}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable_sample: Option<Vec<Value>>,
}

impl Report {
    /// Fill `summary` and each venv's `health` from the findings; sort for stable output.
    pub fn finish(&mut self) {
        self.venvs.sort_by(|a, b| a.path.cmp(&b.path));
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.venv.cmp(&b.venv))
                .then_with(|| a.id.as_str().cmp(b.id.as_str()))
                .then_with(|| a.package.cmp(&b.package))
                .then_with(|| a.message.cmp(&b.message))
        });
        self.errors.sort_by(|a, b| a.path.cmp(&b.path));
        let mut s = Summary { venvs: self.venvs.len(), ..Summary::default() };
        for v in &self.venvs {
            s.packages += v.package_count;
            let ver = v.python.version.as_deref().map(major_minor).unwrap_or_else(|| "unknown".into());
            *s.python_versions.entry(ver).or_default() += 1;
        }
        let mut worst: BTreeMap<&str, Severity> = BTreeMap::new();
        let mut broken = std::collections::BTreeSet::new();
        for f in &self.findings {
            if f.ignored.is_some() {
                s.ignored += 1;
                continue;
            }
            match f.severity {
                Severity::Error => s.error += 1,
                Severity::Warning => s.warning += 1,
                Severity::Info => s.info += 1,
            }
            if let Some(v) = &f.venv {
                let e = worst.entry(v.as_str()).or_insert(f.severity);
                *e = (*e).max(f.severity);
                if f.id == FindingId::BrokenInterpreter {
                    broken.insert(v.as_str());
                }
            }
        }
        s.broken = broken.len();
        for v in &mut self.venvs {
            // A venv that could not be read whole is `unknown` unless a finding is an error.
            let unknown = v.health == Health::Unknown;
            v.health = match worst.get(v.path.as_str()) {
                Some(Severity::Error) => Health::Error,
                _ if unknown => Health::Unknown,
                Some(Severity::Warning) => Health::Warning,
                Some(Severity::Info) => Health::Info,
                None => Health::Ok,
            };
        }
        self.summary = s;
    }

    /// True when an active (not ignored) finding is at or above `threshold`.
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        match threshold {
            None => false,
            Some(t) => self.findings.iter().any(|f| f.ignored.is_none() && f.severity >= t),
        }
    }
}

/// `3.11.7` -> `3.11`.
pub fn major_minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::TextList;

    #[test]
    fn text_list_is_a_json_array_of_its_entries() {
        let list: TextList = ["numpy>=1.22", "", "pytz; extra == \"tz\"", "a\nb"].into_iter().collect();
        // The empty entry is dropped and the folded one keeps one line.
        assert_eq!(list.len(), 3);
        assert_eq!(list.iter().collect::<Vec<_>>(), ["numpy>=1.22", "pytz; extra == \"tz\"", "a b"]);
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json, r#"["numpy>=1.22","pytz; extra == \"tz\"","a b"]"#);
        let back: TextList = serde_json::from_str(&json).unwrap();
        assert_eq!(back, list);

        let empty = TextList::default();
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert_eq!(empty.iter().count(), 0);
        assert_eq!(serde_json::to_string(&empty).unwrap(), "[]");
        assert_eq!(serde_json::from_str::<TextList>("[]").unwrap(), empty);
    }
}
