//! `venvaudit plan`: from findings to a remediation plan the configuration engines apply.
//!
//! For each environment with `vulnerability`, `forbidden-package` or `lock-drift` findings (and
//! an interpreter that is vulnerable or at its end of life), one step per distribution: the
//! version that fixes it, whether that version fits what the other installed distributions
//! require, the exact install command of the environment's own installer, and the services
//! to restart afterwards. venvaudit stays read-only: the plan is data, the engines apply it
//! (the Ansible role `venvaudit.python.remediate`, the Salt state `venvaudit.remediated`).
//!
//! One judgement, two sources: a live scan ([`plan`]) and cached fleet facts
//! ([`crate::fleet::plan_facts`]) both become [`PlanVenv`]s and [`Reason`]s, and the same
//! [`plan_venv`] decides the steps.
//!
//! What the plan cannot know offline: the new version's own requirements (its METADATA is not
//! on the host). A step that stays in the installed release series installs with `--no-deps`
//! (patch releases keep their requirements); one that crosses a series lets the installer
//! resolve the new version's requirements, and says so.

use crate::checks::deps::{active_requirements, environment_of};
use crate::discover::Progress;
use crate::fleet::Unknown;
use crate::osv::Database;
use crate::parse::spec::Spec;
use crate::report::Family;
use crate::report::{
    Finding, FindingId, Host, InUse, OsvDbInfo, Package, Python, SCHEMA_VERSION, ScanError, Severity, Tool, UsageKind,
    UsedBy,
};
use crate::request::Request;
use pep440_rs::Version;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

/// What a step does to one distribution (or to the environment's interpreter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Install a newer version.
    Upgrade,
    /// Install the older version a lock pins.
    Downgrade,
    /// Install a distribution the lock names and the environment lacks.
    Install,
    /// The interpreter itself: rebuild the environment on another Python.
    Rebuild,
}

/// Whether a step can be applied as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// `command` applies it; nothing installed objects.
    Ready,
    /// An installed distribution's requirement excludes the new version (`blocked_by`): a
    /// person decides (upgrade the dependent too, or accept the risk).
    Blocked,
    /// No release is known that clears the advisories or leaves the forbidden range.
    NoFix,
    /// The interpreter is vulnerable or at its end of life: rebuild the environment on
    /// `to_version` (or a newer series when that is null).
    Rebuild,
}

/// What to restart, reload or touch after a step, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartKind {
    /// A systemd unit (`systemctl restart NAME`).
    Systemd,
    /// Apache running mod_wsgi: a graceful reload of its unit.
    Apache,
    /// A uWSGI vassal: touching its file reloads it under the Emperor.
    Uwsgi,
    /// A supervisor program (`supervisorctl restart NAME`).
    Supervisor,
    /// A process no service manager owns: restart it by hand.
    Process,
}

/// How a restart is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartAction {
    /// Stop and start.
    Restart,
    /// Graceful reload (Apache: finish requests, re-read, new workers).
    Reload,
    /// Update the file's time (uWSGI's Emperor reloads a touched vassal).
    Touch,
    /// Nothing an engine can do without a person.
    Manual,
}

/// One thing to restart after a step.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Restart {
    /// What it is.
    pub kind: RestartKind,
    /// The unit (`app.service`, `apache2.service`), supervisor program, vassal file, or
    /// `pid N` for a process.
    pub name: String,
    /// How.
    pub action: RestartAction,
    /// The command a person would run; null for a manual restart.
    pub how: Option<String>,
    /// What ties it to the environment (a configuration line, a running process).
    pub why: Vec<String>,
}

/// A requirement of another installed distribution that excludes a step's new version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Blocker {
    /// The dependent (PEP 503 name).
    pub package: String,
    /// Its installed version.
    pub version: String,
    /// The Requires-Dist entry that excludes the new version, verbatim.
    pub requirement: String,
}

/// A finding a step answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// The finding's id: `vulnerability`, `forbidden-package`, `lock-drift`,
    /// `interpreter-vulnerability`, `interpreter-eol`.
    pub finding: FindingId,
    /// Its severity.
    pub severity: Severity,
    /// The advisory (vulnerabilities), else null.
    pub advisory: Option<String>,
    /// The advisory's aliases (CVE ids).
    pub aliases: Vec<String>,
    /// The versions the advisory's records say fix it (every branch), or the interpreter's
    /// fixed release on its branch.
    pub fixed_versions: Vec<String>,
    /// `forbidden-package`: the specifier matched.
    pub spec: Option<String>,
    /// `lock-drift`: the version the lock pins (null when it pins none).
    pub locked: Option<String>,
}

impl Reason {
    fn new(finding: FindingId, severity: Severity) -> Reason {
        Reason {
            finding,
            severity,
            advisory: None,
            aliases: Vec::new(),
            fixed_versions: Vec::new(),
            spec: None,
            locked: None,
        }
    }

    /// The reason a finding gives, when it names something a step can fix.
    fn of_finding(f: &Finding) -> Option<Reason> {
        let strings = |key: &str| -> Vec<String> {
            f.details
                .get(key)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let text = |key: &str| f.details.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let mut r = Reason::new(f.id, f.severity);
        match f.id {
            FindingId::Vulnerability => {
                r.advisory = text("advisory");
                r.aliases = strings("aliases");
                r.fixed_versions = strings("fixed_versions");
            }
            FindingId::InterpreterVulnerability => {
                r.advisory = text("advisory");
                r.aliases = strings("aliases");
                r.fixed_versions = text("fixed_version").into_iter().collect();
            }
            FindingId::ForbiddenPackage => r.spec = text("spec"),
            FindingId::InterpreterEol => {}
            _ => return None,
        }
        Some(r)
    }
}

/// One step of a plan: one distribution of one environment (or its interpreter).
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The host (fleet plans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The environment.
    pub venv: String,
    /// PEP 503 name of the distribution; `python` for the interpreter.
    pub package: String,
    /// The name as its metadata spells it.
    pub name: String,
    /// The installed version; null when the lock names a distribution that is not installed.
    pub from_version: Option<String>,
    /// The version to install (or rebuild on); null when no fix exists.
    pub to_version: Option<String>,
    /// `upgrade`, `downgrade`, `install`, `rebuild`.
    pub kind: StepKind,
    /// `ready`, `blocked`, `no-fix`, `rebuild`.
    pub status: StepStatus,
    /// One line a person can act on.
    pub message: String,
    /// Why `to_version`: which advisories it clears, or the lock's pin.
    pub why: String,
    /// Advisories (or forbidden specifiers) the new version is still affected by: a lock pin
    /// that is itself vulnerable.
    pub remaining: Vec<String>,
    /// The findings this step answers.
    pub reasons: Vec<Reason>,
    /// The installer the command uses: `pip`, `uv` or `conda` (from the distribution's
    /// INSTALLER); null for the interpreter.
    pub installer: Option<String>,
    /// The exact command, shell-quoted; null unless `status` is `ready`.
    pub command: Option<String>,
    /// The same command as an argument vector (for `ansible.builtin.command: argv`).
    pub argv: Option<Vec<String>>,
    /// Whether the command installs with `--no-deps`.
    pub no_deps: bool,
    /// Why it does or does not.
    pub no_deps_why: Option<String>,
    /// Names of the units and programs to restart after the step (`restarts[].name` of every
    /// restart an engine can do).
    pub restart: Vec<String>,
    /// Every restart, with how and why (manual ones included).
    pub restarts: Vec<Restart>,
    /// Installed distributions whose requirements exclude `to_version`; empty when the step
    /// can be applied.
    pub blocked_by: Vec<Blocker>,
    /// False when the facts hold no Requires-Dist (compact fleet facts): `blocked_by` could
    /// not be judged.
    pub constraints_checked: bool,
}

/// Counts of a plan's steps.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanSummary {
    /// Every step.
    pub steps: usize,
    /// Steps with a command.
    pub ready: usize,
    /// Steps a requirement blocks.
    pub blocked: usize,
    /// Steps with no known fix.
    pub no_fix: usize,
    /// Environments to rebuild on another interpreter.
    pub rebuild: usize,
    /// Environments with a step.
    pub venvs: usize,
    /// Hosts with a step.
    pub hosts: usize,
    /// Distinct restarts.
    pub restarts: usize,
}

/// One distribution's steps across the plan: the "upgrade it everywhere" view.
#[derive(Debug, Clone, Serialize)]
pub struct PackagePlan {
    /// PEP 503 name (`python` for interpreters).
    pub package: String,
    /// Hosts with a step for it.
    pub hosts: Vec<String>,
    /// Environments with a step for it.
    pub venvs: usize,
    /// The installed versions, each with how many environments run it.
    pub from_versions: BTreeMap<String, usize>,
    /// The versions to install, each with how many environments get it (`none`: no fix).
    pub to_versions: BTreeMap<String, usize>,
    /// Steps by status.
    pub ready: usize,
    /// Steps blocked by a requirement.
    pub blocked: usize,
    /// Steps with no known fix.
    pub no_fix: usize,
    /// Restarts these steps need, `host: name` in a fleet plan.
    pub restart: Vec<String>,
}

/// The result of `venvaudit plan`.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Version of the report contract.
    pub schema_version: u32,
    /// Tool name and version.
    pub tool: Tool,
    /// When the plan was made, RFC 3339 UTC.
    pub generated_at: String,
    /// The scanned host (a plan of one host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
    /// The advisory database the versions were chosen with.
    pub osv_db: Option<OsvDbInfo>,
    /// The lock the environments were compared with.
    pub lock: Option<String>,
    /// True when a step is planned (exit code 1).
    pub planned: bool,
    /// False when part of the scan or of the fleet's facts could not be read: "nothing to do"
    /// is then not an answer, and the command line exits 2 instead of 0.
    pub complete: bool,
    /// Every step, sorted by host, venv, package.
    pub steps: Vec<Step>,
    /// Every distinct restart of the ready steps, `host`-prefixed names in a fleet plan.
    pub restart: Vec<String>,
    /// The steps grouped by distribution.
    pub packages: Vec<PackagePlan>,
    /// Counts.
    pub summary: PlanSummary,
    /// Environments looked at.
    pub venvs_scanned: usize,
    /// Fleet plans: hosts whose facts answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosts_answered: Option<usize>,
    /// Fleet plans: hosts whose answer is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosts_unknown: Option<Vec<crate::fleet::UnknownHost>>,
    /// Paths or sources that could not be read.
    pub errors: Vec<ScanError>,
    /// Caveats: what the plan did not judge.
    pub warnings: Vec<String>,
}

impl Plan {
    /// Exit code: 1 when a step is planned, 2 when nothing is but the answer is incomplete,
    /// 0 when there is nothing to do.
    pub fn exit_code(&self) -> u8 {
        match (self.planned, self.complete) {
            (true, _) => 1,
            (false, false) => 2,
            (false, true) => 0,
        }
    }
}

/// One environment as the plan sees it, from a scan or from cached facts.
#[derive(Debug, Clone, Default)]
pub struct PlanVenv {
    /// Host name (fleet plans).
    pub host: Option<String>,
    /// Environment path.
    pub path: String,
    /// Its interpreter's facts (markers are evaluated with them).
    pub python: Python,
    /// Installed distributions (system site-packages included, flagged `system`).
    pub packages: Vec<Package>,
    /// Whether `packages` carry their Requires-Dist (false for compact facts).
    pub requirements_known: bool,
    /// Services and configuration using it.
    pub used_by: Vec<UsedBy>,
    /// Processes using it.
    pub in_use: Vec<InUse>,
    /// Compact facts: `used_by_names` (`kind:name`).
    pub used_by_names: Vec<String>,
    /// Compact facts: `in_use_names` (unit or program).
    pub in_use_names: Vec<String>,
    /// The host's `PRETTY_NAME` (the Apache unit is `httpd.service` off Debian).
    pub os: Option<String>,
}

/// What the plan matches versions with.
pub struct Judge<'a> {
    /// The advisory database (candidate versions and whether they are still affected).
    pub db: Option<&'a Database>,
    /// `--forbid` specifiers.
    pub forbid: &'a [Spec],
    /// Choices made so far, by package, installed version and reasons: a fleet repeats the
    /// same few (Django 3.2 on hundreds of hosts), and each tries every candidate against
    /// every record of the package.
    pub chosen: std::sync::Mutex<std::collections::HashMap<String, Choice>>,
}

impl<'a> Judge<'a> {
    /// A judge with an empty memory of choices.
    pub fn new(db: Option<&'a Database>, forbid: &'a [Spec]) -> Judge<'a> {
        Judge { db, forbid, chosen: Default::default() }
    }
}

/// Reasons per distribution of one environment, and the lock entries it lacks.
#[derive(Debug, Default)]
pub struct VenvReasons {
    /// PEP 503 name → reasons.
    pub packages: BTreeMap<String, Vec<Reason>>,
    /// Distributions the lock pins that are not installed: (name, pinned version).
    pub missing: Vec<(String, Option<String>)>,
    /// Interpreter reasons (CVEs, end of life).
    pub interpreter: Vec<Reason>,
}

impl VenvReasons {
    /// The reasons of one environment's active (not ignored) findings.
    pub fn from_findings<'f>(findings: impl Iterator<Item = &'f Finding>, packages: &[Package]) -> VenvReasons {
        let mut out = VenvReasons::default();
        let by_name = |name: &str| {
            let n = crate::inspect::packages::normalize_name(name);
            packages
                .iter()
                .find(|p| p.normalized_name == n && !p.system)
                .map(|p| p.normalized_name.clone())
                .unwrap_or(n)
        };
        for f in findings.filter(|f| f.ignored.is_none()) {
            if f.id == FindingId::LockDrift {
                let lock_reason = |locked: Option<String>| Reason { locked, ..Reason::new(f.id, f.severity) };
                for e in f.details.get("version").and_then(|v| v.as_array()).into_iter().flatten() {
                    let (Some(name), Some(locked)) = (e["name"].as_str(), e["locked"].as_str()) else { continue };
                    out.packages.entry(by_name(name)).or_default().push(lock_reason(Some(locked.to_owned())));
                }
                for e in f.details.get("missing").and_then(|v| v.as_array()).into_iter().flatten() {
                    let Some(name) = e["name"].as_str() else { continue };
                    out.missing.push((name.to_owned(), e["locked"].as_str().map(str::to_owned)));
                }
                continue;
            }
            let Some(r) = Reason::of_finding(f) else { continue };
            match (f.id, &f.package) {
                (FindingId::InterpreterVulnerability | FindingId::InterpreterEol, _) => out.interpreter.push(r),
                (_, Some(p)) => out.packages.entry(by_name(p)).or_default().push(r),
                _ => {}
            }
        }
        out
    }
}

impl PlanVenv {
    /// An environment of a full report.
    pub fn from_venv(v: &crate::report::Venv, host: &Host) -> PlanVenv {
        PlanVenv {
            host: None,
            path: v.path.clone(),
            python: v.python.clone(),
            packages: v.packages.clone().unwrap_or_default(),
            requirements_known: v.packages.is_some(),
            used_by: v.used_by.clone(),
            in_use: v.in_use.clone(),
            used_by_names: v.used_by_names.clone().unwrap_or_default(),
            in_use_names: v.in_use_names.clone().unwrap_or_default(),
            os: host.os.clone(),
        }
    }
}

/// The check families a plan reads findings of (`plan --check` narrows them).
pub const PLAN_FAMILIES: &[Family] = &[Family::Vulnerabilities, Family::Forbidden, Family::Drift, Family::Eol];

/// [`PLAN_FAMILIES`] by name (the Ansible module's choices).
pub const PLAN_FAMILY_NAMES: &[&str] = &["vulnerabilities", "forbidden", "drift", "eol"];

/// `venvaudit plan [PATH...]`: check the environments (vulnerabilities, `--forbid`, `--lock`,
/// end of life) and plan a step for every finding a step can answer.
pub fn plan(req: &Request, progress: &Progress) -> crate::engine::Result<Plan> {
    let forbid = crate::parse::spec::parse_specs(&req.forbid)?;
    let mut wanted: Vec<Family> = PLAN_FAMILIES.iter().copied().filter(|f| req.wants(*f)).collect();
    // Apache's and uWSGI's configuration name the environments they host (`used_by`): their
    // families run for the restarts, their findings are not the plan's.
    wanted.extend([Family::ModWsgi, Family::Uwsgi]);
    let check = Request {
        detail: Some(crate::report::Detail::Full),
        summary: false,
        packages: true,
        checks: wanted,
        ..req.clone()
    };
    let (report, db) = crate::engine::check_with_db(&check, progress)?;
    let judge = Judge::new(db.as_ref(), &forbid);
    let mut errors = report.errors.clone();
    let mut warnings = report.warnings.clone();
    let mut steps = Vec::new();
    for v in &report.venvs {
        let pv = PlanVenv::from_venv(v, &report.host);
        let mine = report.findings.iter().filter(|f| f.venv.as_deref() == Some(v.path.as_str()));
        let reasons = VenvReasons::from_findings(mine, &pv.packages);
        // A distribution the environment only sees in its base installation's site-packages
        // is that installation's to upgrade, not a step in this environment.
        let base_only: Vec<String> = reasons
            .packages
            .keys()
            .filter(|n| !pv.packages.iter().any(|p| &&p.normalized_name == n && !p.system))
            .filter_map(|n| {
                pv.packages.iter().find(|p| &p.normalized_name == n).map(|p| format!("{} {}", p.name, p.version))
            })
            .collect();
        if !base_only.is_empty() {
            warnings.push(format!(
                "{}: {} has findings but is installed in the base installation's site-packages ({}): upgrade it there; no step is planned",
                v.path,
                base_only.join(", "),
                v.system_site_packages.join(", ")
            ));
        }
        steps.extend(plan_venv(&pv, &reasons, &judge, &mut errors));
    }
    let ignored = report.findings.iter().filter(|f| f.ignored.is_some()).count();
    if ignored > 0 {
        warnings.push(format!("{ignored} ignored finding(s) are not planned (the ignore policy accepts them)"));
    }
    let host_wide: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.venv.is_none() && f.ignored.is_none() && f.id == FindingId::InterpreterVulnerability)
        .filter_map(|f| f.details.get("advisory").and_then(|a| a.as_str()))
        .collect();
    if !host_wide.is_empty() {
        warnings.push(format!(
            "the Python a server module embeds (mod_wsgi, uWSGI) is affected by {}: that is the OS's or the module's upgrade, not a step of this plan",
            host_wide.join(", ")
        ));
    }
    for f in report.findings.iter().filter(|f| f.id == FindingId::LockDrift && f.ignored.is_none()) {
        let count = |k: &str| f.details.get(k).and_then(|x| x.as_array()).map_or(0, Vec::len);
        let (extra, source) = (count("extra"), count("source"));
        if extra + source > 0 {
            warnings.push(format!(
                "{}: {extra} distribution(s) not in the lock and {source} from another source are not planned (removing or reinstalling them is a decision: see the lock-drift finding)",
                f.venv.as_deref().unwrap_or("?")
            ));
        }
    }
    if db.is_none() && req.wants(Family::Vulnerabilities) {
        warnings.push("no OSV database: vulnerabilities are not planned and fixed versions are not checked".into());
    }
    Ok(finish(steps, Some(report.host), report.osv_db, req.lock.clone(), report.venvs.len(), errors, warnings))
}

/// One host's part of a fleet plan: its steps, how many environments it has, the requirements
/// that could not be read, and whether its facts were compact.
type HostPlan = (Vec<Step>, usize, Vec<ScanError>, bool);

/// `venvaudit plan --from-facts`: the fleet-wide plan from cached facts (full or compact),
/// each host's environments judged as a live plan judges them (the same checks, the same
/// choice of version), with `host` on every step.
pub fn plan_fleet(req: &Request) -> crate::engine::Result<Plan> {
    let forbid = crate::parse::spec::parse_specs(&req.forbid)?;
    let policy = crate::ignore::Policy::load(req)?;
    let today = req.today();
    let mut warnings = Vec::new();
    let db = if req.wants(Family::Vulnerabilities) {
        match crate::osv::locate(req.osv_db.as_deref()) {
            Ok(p) => Some(crate::osv::load(std::path::Path::new(&p))?),
            Err(missing) => {
                warnings.push(format!(
                    "no OSV database at {}: vulnerabilities are not planned (give --osv-db or {})",
                    missing.looked,
                    crate::osv::DB_ENV
                ));
                None
            }
        }
    } else {
        None
    };
    let (cpython, _) = if req.wants(Family::Vulnerabilities) { crate::engine::cpython_db(req)? } else { (None, None) };
    let judge = Judge::new(db.as_ref(), &forbid);
    let eol = req.wants(Family::Eol);
    let vulnerabilities = Memo::default();
    let extract = |report: &serde_json::Value| -> Result<HostPlan, (Unknown, String)> {
        let os = report["host"]["os"].as_str().map(str::to_owned);
        let venvs = report["venvs"].as_array().ok_or((Unknown::Unreadable, "venvs is not a list".to_owned()))?;
        if venvs.len() > crate::fleet::MAX_VENVS_PER_HOST {
            return Err((Unknown::Unreadable, format!("more than {} environments", crate::fleet::MAX_VENVS_PER_HOST)));
        }
        let (mut steps, mut errors, mut compact) = (Vec::new(), Vec::new(), false);
        for v in venvs {
            let pv = PlanVenv::from_facts(v, os.clone())?;
            compact |= !pv.requirements_known;
            let mut findings = Vec::new();
            if let Some(db) = judge.db {
                for p in &pv.packages {
                    findings.extend(vulnerabilities.of(db, p).into_iter().map(|mut f| {
                        f.venv = Some(pv.path.clone());
                        f
                    }));
                }
            }
            findings.extend(crate::checks::forbidden::check(judge.forbid, &pv.path, &pv.packages));
            if eol {
                findings.extend(crate::checks::eol::check(&pv.path, &pv.python, today));
            }
            if let Some(c) = &cpython {
                findings.extend(crate::checks::cpython::judge(c, &pv.python, &pv.path, "environment's interpreter"));
            }
            policy.apply(&mut findings, today);
            let reasons = VenvReasons::from_findings(findings.iter(), &pv.packages);
            steps.extend(plan_venv(&pv, &reasons, &judge, &mut errors));
        }
        Ok((steps, venvs.len(), errors, compact))
    };
    let sources: Vec<std::path::PathBuf> = req.from_facts.iter().map(std::path::PathBuf::from).collect();
    let hosts_file = req.hosts.as_deref().map(std::path::Path::new);
    let g = crate::fleet::gather(&sources, req.max_age, req.today, hosts_file, &extract)?;
    let (mut steps, mut errors, mut venvs, mut compact) = (Vec::new(), g.errors, 0, 0);
    let answered = g.answered.len();
    for (host, (host_steps, n, errs, was_compact)) in g.answered {
        venvs += n;
        compact += usize::from(was_compact);
        errors.extend(errs);
        steps.extend(host_steps.into_iter().map(|mut s| {
            s.host = Some(host.clone());
            s
        }));
    }
    if compact > 0 {
        warnings.push(format!(
            "{compact} host(s) have compact facts: no Requires-Dist, so their steps' constraints are not checked (constraints_checked: false), and the OS's own distributions cannot be told from pip's"
        ));
    }
    let mut plan = finish(steps, None, db.as_ref().map(|d| d.describe()), None, venvs, errors, warnings);
    plan.complete = plan.errors.is_empty() && g.unknown.is_empty();
    plan.hosts_answered = Some(answered);
    plan.hosts_unknown = Some(g.unknown);
    Ok(plan)
}

/// The vulnerability findings of one distribution at one version, judged once per fleet: a
/// fleet runs the same few hundred (name, version) pairs in thousands of environments, and
/// matching one against every record of its package is the costly part of a fleet plan.
#[derive(Default)]
struct Memo(std::sync::Mutex<std::collections::HashMap<MemoKey, Vec<Finding>>>);

/// A distribution as the vulnerability check sees it: name, version, INSTALLER, system.
type MemoKey = (String, String, Option<std::sync::Arc<str>>, bool);

impl Memo {
    /// The findings `checks::vulns` gives for `p` (with no venv set).
    fn of(&self, db: &Database, p: &Package) -> Vec<Finding> {
        let key = (p.normalized_name.clone(), p.version.clone(), p.installer.clone(), p.system);
        if let Some(found) = self.0.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return found;
        }
        let found = crate::checks::vulns::check(db, "", std::slice::from_ref(p));
        if let Ok(mut m) = self.0.lock() {
            m.insert(key, found.clone());
        }
        found
    }
}

impl PlanVenv {
    /// An environment of cached facts: full (`packages` with their Requires-Dist, `used_by`,
    /// `in_use`) or compact (`distributions`, `used_by_names`, `in_use_names`).
    pub(crate) fn from_facts(v: &serde_json::Value, os: Option<String>) -> Result<PlanVenv, (Unknown, String)> {
        let path = v["path"].as_str().ok_or((Unknown::Unreadable, "a venv has no path".to_owned()))?.to_owned();
        let python = serde_json::from_value::<Python>(v["python"].clone()).unwrap_or_else(|_| Python {
            version: v["python"]["version"].as_str().map(str::to_owned),
            executable: v["python"]["executable"].as_str().map(str::to_owned),
            ..Python::default()
        });
        let bare = |name: &str, version: &str| Package {
            name: name.to_owned(),
            normalized_name: crate::inspect::packages::normalize_name(name),
            version: version.to_owned(),
            version_valid: Version::from_str(version).is_ok(),
            installer: None,
            requested: false,
            editable: false,
            direct_url: None,
            location: std::sync::Arc::from(""),
            metadata_format: crate::report::MetadataFormat::DistInfo,
            requires_python: None,
            requires_dist: Default::default(),
            extensions: Vec::new(),
            system: false,
        };
        let bad = |what: &str| (Unknown::Unreadable, format!("{what} of {path} is not a list"));
        let (packages, requirements_known) = if let Some(list) = v.get("packages").filter(|p| !p.is_null()) {
            let list = list.as_array().ok_or_else(|| bad("packages"))?;
            let mut known = true;
            let mut out = Vec::with_capacity(list.len());
            for p in list {
                match serde_json::from_value::<Package>(p.clone()) {
                    Ok(p) => out.push(p),
                    Err(_) => match (p["name"].as_str(), p["version"].as_str()) {
                        (Some(n), Some(ver)) => {
                            known = false;
                            out.push(bare(n, ver));
                        }
                        _ => return Err((Unknown::Unreadable, format!("a package of {path} has no name or version"))),
                    },
                }
            }
            (out, known)
        } else if let Some(list) = v.get("distributions").filter(|d| !d.is_null()) {
            let list = list.as_array().ok_or_else(|| bad("distributions"))?;
            let mut out = Vec::with_capacity(list.len());
            for d in list {
                let Some((n, ver)) = d.as_str().and_then(|s| s.split_once("==")) else {
                    return Err((Unknown::Unreadable, format!("a distribution of {path} is not name==version")));
                };
                out.push(bare(n, ver));
            }
            (out, false)
        } else {
            return Err((
                Unknown::NoPackages,
                format!("facts of {path} name no packages (gather with detail: compact or full)"),
            ));
        };
        let list = |key: &str| -> Vec<String> {
            v[key]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        Ok(PlanVenv {
            host: None,
            path,
            python,
            packages,
            requirements_known,
            used_by: serde_json::from_value(v["used_by"].clone()).unwrap_or_default(),
            in_use: serde_json::from_value(v["in_use"].clone()).unwrap_or_default(),
            used_by_names: list("used_by_names"),
            in_use_names: list("in_use_names"),
            os,
        })
    }
}

/// The steps of one environment.
pub fn plan_venv(v: &PlanVenv, reasons: &VenvReasons, judge: &Judge, errors: &mut Vec<ScanError>) -> Vec<Step> {
    let restarts = restarts_of(v);
    let mut steps = Vec::new();
    for (name, rs) in &reasons.packages {
        let Some(p) = v.packages.iter().find(|p| &p.normalized_name == name && !p.system) else { continue };
        steps.push(package_step(v, p.name.clone(), name, Some(&p.version), rs, judge, &restarts, errors));
    }
    for (name, locked) in &reasons.missing {
        let normalized = crate::inspect::packages::normalize_name(name);
        let r = Reason { locked: locked.clone(), ..Reason::new(FindingId::LockDrift, Severity::Error) };
        steps.push(package_step(v, name.clone(), &normalized, None, &[r], judge, &restarts, errors));
    }
    if !reasons.interpreter.is_empty() {
        steps.push(interpreter_step(v, &reasons.interpreter));
    }
    steps
}

/// The version a distribution should move to, and why.
#[derive(Debug, Clone)]
pub struct Choice {
    version: Option<String>,
    why: String,
    remaining: Vec<String>,
}

/// The smallest version above `installed` that no advisory of the database affects and no
/// `--forbid` specifier matches, from the versions the records name as fixes (and the `<X`
/// bounds of the specifiers); or the version the lock pins.
fn choose(name: &str, installed: Option<&str>, reasons: &[Reason], judge: &Judge) -> Choice {
    // The choice depends on the package, the installed version, and the reasons' advisories,
    // fixes, specifiers and pins: the same key is the same answer.
    let key = serde_json::to_string(&(name, installed, reasons)).unwrap_or_default();
    if let Some(c) = judge.chosen.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return c;
    }
    let c = choose_uncached(name, installed, reasons, judge);
    if let Ok(mut m) = judge.chosen.lock() {
        m.insert(key, c.clone());
    }
    c
}

fn choose_uncached(name: &str, installed: Option<&str>, reasons: &[Reason], judge: &Judge) -> Choice {
    let still = |version: &str| -> Vec<String> {
        let mut left: Vec<String> = judge
            .db
            .map(|db| crate::osv::affecting(db, name, version).iter().map(|h| h.advisory.id.clone()).collect())
            .unwrap_or_default();
        left.extend(judge.forbid.iter().filter(|s| s.matches_version(name, version)).map(|s| s.text.clone()));
        left
    };
    if let Some(locked) = reasons.iter().find_map(|r| r.locked.clone()) {
        let remaining = still(&locked);
        let why = if remaining.is_empty() {
            format!("the version the lock pins ({locked})")
        } else {
            format!(
                "the version the lock pins ({locked}), which is still affected by {}: re-lock",
                remaining.join(", ")
            )
        };
        return Choice { version: Some(locked), why, remaining };
    }
    let advisories: Vec<String> = reasons.iter().filter_map(|r| r.advisory.clone()).collect();
    let specs: Vec<String> = reasons.iter().filter_map(|r| r.spec.clone()).collect();
    let what = {
        let mut parts = Vec::new();
        if !advisories.is_empty() {
            let shown: Vec<&str> = advisories.iter().take(5).map(String::as_str).collect();
            let more = advisories.len().saturating_sub(shown.len());
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            parts.push(format!("{}{more}", shown.join(", ")));
        }
        if !specs.is_empty() {
            parts.push(format!("the forbidden range {}", specs.join(", ")));
        }
        parts.join(" and ")
    };
    let installed_v = installed.and_then(|i| Version::from_str(i).ok());
    let pre_ok = installed_v.as_ref().is_some_and(Version::any_prerelease);
    let mut candidates: BTreeSet<Version> = BTreeSet::new();
    let mut add = |s: &str| {
        if let Ok(v) = Version::from_str(s) {
            candidates.insert(v);
        }
    };
    for r in reasons {
        r.fixed_versions.iter().for_each(|f| add(f));
    }
    if let Some(entries) = judge.db.and_then(|db| db.index.get(name)) {
        entries.iter().flat_map(|a| &a.fixed).for_each(|f| add(f));
    }
    for s in judge.forbid.iter().filter(|s| s.name() == name) {
        candidates.extend(s.exclusive_upper_bounds());
    }
    let above: Vec<Version> = candidates
        .into_iter()
        .filter(|c| installed_v.as_ref().is_none_or(|i| c > i))
        .filter(|c| pre_ok || !c.any_prerelease())
        .collect();
    let mut newest_blocked = None;
    for c in &above {
        let text = c.to_string();
        let left = still(&text);
        if left.is_empty() {
            return Choice {
                why: format!(
                    "the smallest version above {} that clears {what} and that no other advisory of the database affects",
                    installed.unwrap_or("none")
                ),
                version: Some(text),
                remaining: Vec::new(),
            };
        }
        newest_blocked = Some((text, left));
    }
    let why = match newest_blocked {
        Some((v, left)) => format!(
            "no fix available: every known fixed version is still affected; the newest, {v}, by {}",
            left.join(", ")
        ),
        None => format!("no fix available: the records of {what} name no fixed version above the installed one"),
    };
    Choice { version: None, why, remaining: Vec::new() }
}

#[allow(clippy::too_many_arguments)]
fn package_step(
    v: &PlanVenv,
    display: String,
    name: &str,
    installed: Option<&str>,
    reasons: &[Reason],
    judge: &Judge,
    restarts: &[Restart],
    errors: &mut Vec<ScanError>,
) -> Step {
    let choice = choose(name, installed, reasons, judge);
    let installer = installer_of(v, name);
    let mut step = Step {
        host: v.host.clone(),
        venv: v.path.clone(),
        package: name.to_owned(),
        name: display.clone(),
        from_version: installed.map(str::to_owned),
        to_version: choice.version.clone(),
        kind: StepKind::Upgrade,
        status: StepStatus::NoFix,
        message: String::new(),
        why: choice.why,
        remaining: choice.remaining,
        reasons: reasons.to_vec(),
        installer: Some(installer.clone()),
        command: None,
        argv: None,
        no_deps: false,
        no_deps_why: None,
        restart: Vec::new(),
        restarts: restarts.to_vec(),
        blocked_by: Vec::new(),
        constraints_checked: v.requirements_known,
    };
    let Some(to) = choice.version else {
        step.message = format!("{display} {}: {}", installed.unwrap_or("(not installed)"), step.why);
        return step;
    };
    let to_v = Version::from_str(&to).ok();
    step.kind = match (installed.and_then(|i| Version::from_str(i).ok()), &to_v) {
        (None, _) if installed.is_none() => StepKind::Install,
        (Some(i), Some(t)) if *t < i => StepKind::Downgrade,
        _ => StepKind::Upgrade,
    };
    step.blocked_by = match &to_v {
        Some(t) if v.requirements_known => blockers(v, name, t, errors),
        _ => Vec::new(),
    };
    if !step.blocked_by.is_empty() {
        step.status = StepStatus::Blocked;
        let who: Vec<String> =
            step.blocked_by.iter().map(|b| format!("{} {} requires {}", b.package, b.version, b.requirement)).collect();
        step.message = format!(
            "{display} {} -> {to} is blocked: {}; upgrade the dependent too or decide by hand",
            installed.unwrap_or("(not installed)"),
            who.join("; ")
        );
        return step;
    }
    step.status = StepStatus::Ready;
    let locked = reasons.iter().any(|r| r.locked.is_some());
    let same_series = match (installed, &to) {
        (Some(i), t) => release_series(i) == release_series(t),
        _ => false,
    };
    let (no_deps, why) = if installer == "conda" {
        (false, "conda resolves the package's dependencies itself".to_owned())
    } else if locked {
        (true, "the lock pins every distribution: nothing else is to be resolved".to_owned())
    } else if same_series {
        (
            true,
            "a release of the same series keeps its requirements, and the installed ones were checked against it: the installer must not change other distributions the plan has not judged".to_owned(),
        )
    } else {
        (
            false,
            format!(
                "{to} is another release series than {}: its own requirements are not known offline, so the installer resolves them (run pip check after)",
                installed.unwrap_or("the installed one")
            ),
        )
    };
    step.no_deps = no_deps;
    step.no_deps_why = Some(why);
    let argv = install_argv(v, &installer, &display, &to, no_deps);
    step.command = Some(argv.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" "));
    step.argv = Some(argv);
    // The installer's own tools are not imported by the services: nothing to restart.
    if INSTALLER_TOOLS.contains(&name) {
        step.restarts.clear();
    }
    step.restart = restart_names(&step.restarts);
    step.message = format!(
        "{} {display} {}{to} in {}",
        match step.kind {
            StepKind::Install => "install",
            StepKind::Downgrade => "downgrade",
            _ => "upgrade",
        },
        installed.map(|i| format!("{i} -> ")).unwrap_or_default(),
        v.path
    );
    step
}

/// Distributions that install things and that no service imports: upgrading them restarts
/// nothing.
const INSTALLER_TOOLS: &[&str] = &["pip", "wheel", "uv"];

/// `X.Y` of a version (the release series a patch release stays in).
fn release_series(v: &str) -> Option<(u64, u64)> {
    let parsed = Version::from_str(v).ok()?;
    let r = parsed.release();
    Some((r.first().copied().unwrap_or(0), r.get(1).copied().unwrap_or(0)))
}

/// The installed distributions whose requirements (as `pip check` reads them) exclude
/// `to` of `name`.
fn blockers(v: &PlanVenv, name: &str, to: &Version, errors: &mut Vec<ScanError>) -> Vec<Blocker> {
    let Some(env) = environment_of(&v.python) else { return Vec::new() };
    let mut out = Vec::new();
    for p in v.packages.iter().filter(|p| p.normalized_name != name) {
        for r in active_requirements(p, &env, errors) {
            if r.dependency == name && !r.admits(to) {
                out.push(Blocker {
                    package: p.normalized_name.clone(),
                    version: p.version.clone(),
                    requirement: r.text.to_owned(),
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The installer a distribution's own INSTALLER names (`pip` when it names none or another
/// tool), else the environment's: uv for a distribution a uv environment lacks.
fn installer_of(v: &PlanVenv, name: &str) -> String {
    let of = |p: &Package| p.installer.as_deref().map(|i| i.trim().to_ascii_lowercase());
    let own = v.packages.iter().find(|p| p.normalized_name == name && !p.system).and_then(of);
    let any = || {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for i in v.packages.iter().filter(|p| !p.system).filter_map(of) {
            *seen.entry(i).or_default() += 1;
        }
        seen.into_iter().max_by_key(|(_, n)| *n).map(|(i, _)| i)
    };
    match own.or_else(any).as_deref() {
        Some("uv") => "uv".into(),
        Some("conda") => "conda".into(),
        _ => "pip".into(),
    }
}

/// The install command for one distribution with the environment's installer.
fn install_argv(v: &PlanVenv, installer: &str, name: &str, to: &str, no_deps: bool) -> Vec<String> {
    let python = v.python.executable.clone().unwrap_or_else(|| format!("{}/bin/python", v.path.trim_end_matches('/')));
    let pin = format!("{name}=={to}");
    let mut argv: Vec<String> = match installer {
        "uv" => vec!["uv".into(), "pip".into(), "install".into(), "--python".into(), python],
        "conda" => {
            return vec![
                "conda".into(),
                "install".into(),
                "--yes".into(),
                "--prefix".into(),
                v.path.clone(),
                format!("{name}={to}"),
            ];
        }
        _ => vec![python, "-m".into(), "pip".into(), "install".into()],
    };
    if no_deps {
        argv.push("--no-deps".into());
    }
    argv.push(pin);
    argv
}

/// A word as a POSIX shell reads it: bare when it is only safe characters, else in single
/// quotes.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:+,@%".contains(&b)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The interpreter step: rebuild on the fixed release of its series, or on a newer series.
fn interpreter_step(v: &PlanVenv, reasons: &[Reason]) -> Step {
    let installed = v.python.version.clone();
    let cves: Vec<&Reason> = reasons.iter().filter(|r| r.finding == FindingId::InterpreterVulnerability).collect();
    let eol = reasons.iter().any(|r| r.finding == FindingId::InterpreterEol);
    let unfixed: Vec<String> =
        cves.iter().filter(|r| r.fixed_versions.is_empty()).filter_map(|r| r.advisory.clone()).collect();
    let newest_fix = cves
        .iter()
        .flat_map(|r| &r.fixed_versions)
        .filter_map(|f| Version::from_str(f).ok().map(|v| (v, f.clone())))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, f)| f);
    let series = installed.as_deref().map(crate::report::major_minor).unwrap_or_else(|| "?".into());
    let (to, why, status) = if eol {
        (
            None,
            format!("Python {series} is at or near its end of life: rebuild the environment on a supported series"),
            StepStatus::Rebuild,
        )
    } else if !unfixed.is_empty() {
        (
            None,
            format!(
                "no fix available on Python {series} for {}: rebuild the environment on a newer series",
                unfixed.join(", ")
            ),
            StepStatus::NoFix,
        )
    } else {
        let v = newest_fix.clone();
        let why = match &v {
            Some(f) => format!("rebuild on {f}: the release of {series} that fixes every CVE found"),
            None => "rebuild on a fixed release".to_owned(),
        };
        (v, why, StepStatus::Rebuild)
    };
    let ids: Vec<String> = cves.iter().filter_map(|r| r.advisory.clone()).collect();
    let restarts = restarts_of(v);
    Step {
        host: v.host.clone(),
        venv: v.path.clone(),
        package: "python".into(),
        name: v.python.implementation.clone().unwrap_or_else(|| "CPython".into()),
        from_version: installed.clone(),
        to_version: to,
        kind: StepKind::Rebuild,
        status,
        message: format!(
            "the interpreter {} {}{}: {why}",
            v.python.implementation.as_deref().unwrap_or("CPython"),
            installed.as_deref().unwrap_or("?"),
            if ids.is_empty() { String::new() } else { format!(" ({})", ids.join(", ")) }
        ),
        why,
        remaining: Vec::new(),
        reasons: reasons.to_vec(),
        installer: None,
        command: None,
        argv: None,
        no_deps: false,
        no_deps_why: None,
        restart: Vec::new(),
        restarts,
        blocked_by: Vec::new(),
        constraints_checked: v.requirements_known,
    }
}

/// The base name of a path.
fn base_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Apache's unit: `httpd.service` where the configuration is RHEL's (`/etc/httpd`) or the OS
/// is not Debian's family, else `apache2.service`.
fn apache_unit(config: Option<&str>, os: Option<&str>) -> &'static str {
    let rhel_config = config.is_some_and(|c| c.contains("/httpd/"));
    let debian_os = os.is_none_or(|o| {
        let o = o.to_ascii_lowercase();
        o.contains("debian") || o.contains("ubuntu") || o.contains("mint")
    });
    if rhel_config || (config.is_none() && !debian_os) { "httpd.service" } else { "apache2.service" }
}

/// Everything to restart after changing an environment, from `used_by` and `in_use` (or the
/// compact names), one entry per unit, program, file or process.
pub fn restarts_of(v: &PlanVenv) -> Vec<Restart> {
    let mut by_name: BTreeMap<String, Restart> = BTreeMap::new();
    let mut add = |kind, name: String, action, how: Option<String>, why: String| {
        let e = by_name.entry(name.clone()).or_insert_with(|| Restart { kind, name, action, how, why: Vec::new() });
        // Apache is reloaded gracefully even when its processes also name its unit.
        if kind == RestartKind::Apache && e.kind != RestartKind::Apache {
            e.kind = kind;
            e.action = RestartAction::Reload;
            e.how = Some(format!("systemctl reload {} (apachectl graceful)", e.name));
        }
        if !e.why.contains(&why) {
            e.why.push(why);
        }
    };
    for u in &v.used_by {
        let at = format!("{} {}:{}", u.kind.as_str(), u.file, u.line);
        match u.kind {
            UsageKind::Systemd => {
                let unit = base_name(&u.file).to_owned();
                add(
                    RestartKind::Systemd,
                    unit.clone(),
                    RestartAction::Restart,
                    Some(format!("systemctl restart {unit}")),
                    at,
                )
            }
            UsageKind::ModWsgi => {
                let unit = apache_unit(Some(&u.file), v.os.as_deref()).to_owned();
                let how = format!("systemctl reload {unit} (apachectl graceful)");
                add(RestartKind::Apache, unit, RestartAction::Reload, Some(how), at)
            }
            UsageKind::Uwsgi => add(
                RestartKind::Uwsgi,
                u.file.clone(),
                RestartAction::Touch,
                Some(format!("touch {}", shell_quote(&u.file))),
                at,
            ),
            UsageKind::Supervisor => {
                let program = u.group.clone().unwrap_or_else(|| base_name(&u.file).to_owned());
                let how = format!("supervisorctl restart {program}");
                add(RestartKind::Supervisor, format!("supervisor:{program}"), RestartAction::Restart, Some(how), at)
            }
            // A cron job starts afresh at its next run.
            UsageKind::Cron => {}
        }
    }
    for p in &v.in_use {
        let at = format!("pid {} ({})", p.pid, p.cmdline.chars().take(80).collect::<String>());
        match p.unit.as_deref().filter(|u| u.ends_with(".service") && !u.starts_with("user@")) {
            Some(unit) => add(
                RestartKind::Systemd,
                unit.to_owned(),
                RestartAction::Restart,
                Some(format!("systemctl restart {unit}")),
                format!("running: {at}"),
            ),
            None => add(
                RestartKind::Process,
                format!("pid {}", p.pid),
                RestartAction::Manual,
                None,
                format!("running: {at}"),
            ),
        }
    }
    for n in &v.used_by_names {
        let Some((kind, name)) = n.split_once(':') else { continue };
        let at = format!("used by {n}");
        match kind {
            "systemd" => add(
                RestartKind::Systemd,
                name.to_owned(),
                RestartAction::Restart,
                Some(format!("systemctl restart {name}")),
                at,
            ),
            "mod_wsgi" => {
                let unit = apache_unit(None, v.os.as_deref()).to_owned();
                let how = format!("systemctl reload {unit} (apachectl graceful)");
                add(RestartKind::Apache, unit, RestartAction::Reload, Some(how), at)
            }
            "supervisor" => add(
                RestartKind::Supervisor,
                format!("supervisor:{name}"),
                RestartAction::Restart,
                Some(format!("supervisorctl restart {name}")),
                at,
            ),
            // Compact facts name the vassal, not its file.
            "uwsgi" => add(RestartKind::Uwsgi, format!("uwsgi:{name}"), RestartAction::Manual, None, at),
            _ => {}
        }
    }
    for n in &v.in_use_names {
        let at = format!("running: {n}");
        if n.ends_with(".service") && !n.starts_with("user@") {
            add(RestartKind::Systemd, n.clone(), RestartAction::Restart, Some(format!("systemctl restart {n}")), at);
        } else {
            add(RestartKind::Process, format!("process:{n}"), RestartAction::Manual, None, at);
        }
    }
    by_name.into_values().collect()
}

/// The names of the restarts an engine can do.
fn restart_names(restarts: &[Restart]) -> Vec<String> {
    restarts.iter().filter(|r| r.action != RestartAction::Manual).map(|r| r.name.clone()).collect()
}

/// Put a plan together: sort the steps, group them by package, count.
pub fn finish(
    mut steps: Vec<Step>,
    host: Option<Host>,
    osv_db: Option<OsvDbInfo>,
    lock: Option<String>,
    venvs_scanned: usize,
    errors: Vec<ScanError>,
    warnings: Vec<String>,
) -> Plan {
    steps.sort_by(|a, b| (&a.host, &a.venv, &a.package).cmp(&(&b.host, &b.venv, &b.package)));
    let fleet = steps.iter().any(|s| s.host.is_some());
    let qualified = |s: &Step, name: &str| match (&s.host, fleet) {
        (Some(h), true) => format!("{h}: {name}"),
        _ => name.to_owned(),
    };
    let mut summary = PlanSummary { steps: steps.len(), ..PlanSummary::default() };
    let mut restart = BTreeSet::new();
    let mut venvs = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let mut groups: BTreeMap<String, PackagePlan> = BTreeMap::new();
    for s in &steps {
        match s.status {
            StepStatus::Ready => summary.ready += 1,
            StepStatus::Blocked => summary.blocked += 1,
            StepStatus::NoFix => summary.no_fix += 1,
            StepStatus::Rebuild => summary.rebuild += 1,
        }
        venvs.insert((s.host.clone(), s.venv.clone()));
        hosts.insert(s.host.clone());
        let g = groups.entry(s.package.clone()).or_insert_with(|| PackagePlan {
            package: s.package.clone(),
            hosts: Vec::new(),
            venvs: 0,
            from_versions: BTreeMap::new(),
            to_versions: BTreeMap::new(),
            ready: 0,
            blocked: 0,
            no_fix: 0,
            restart: Vec::new(),
        });
        g.venvs += 1;
        if let Some(h) = &s.host
            && !g.hosts.contains(h)
        {
            g.hosts.push(h.clone());
        }
        *g.from_versions.entry(s.from_version.clone().unwrap_or_else(|| "none".into())).or_default() += 1;
        *g.to_versions.entry(s.to_version.clone().unwrap_or_else(|| "none".into())).or_default() += 1;
        match s.status {
            StepStatus::Ready => g.ready += 1,
            StepStatus::Blocked => g.blocked += 1,
            _ => g.no_fix += 1,
        }
        for r in &s.restart {
            let q = qualified(s, r);
            if !g.restart.contains(&q) {
                g.restart.push(q.clone());
            }
            restart.insert(q);
        }
    }
    summary.venvs = venvs.len();
    summary.hosts = hosts.len();
    summary.restarts = restart.len();
    let mut packages: Vec<PackagePlan> = groups.into_values().collect();
    for g in &mut packages {
        g.hosts.sort();
        g.restart.sort();
    }
    Plan {
        schema_version: SCHEMA_VERSION,
        tool: Tool::default(),
        generated_at: crate::time::rfc3339(std::time::SystemTime::now()),
        host,
        osv_db,
        lock,
        planned: !steps.is_empty(),
        complete: errors.is_empty(),
        steps,
        restart: restart.into_iter().collect(),
        packages,
        summary,
        venvs_scanned,
        hosts_answered: None,
        hosts_unknown: None,
        errors,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_keeps_safe_words_bare() {
        assert_eq!(shell_quote("Django==4.2.16"), "Django==4.2.16");
        assert_eq!(shell_quote("/srv/my app/bin/python"), "'/srv/my app/bin/python'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    /// The schema's enums are the Rust enums' serde names (each `match` fails to compile when
    /// a variant is added, so the lists below cannot silently fall behind).
    #[test]
    fn schema_enums_are_the_rust_enums() {
        let schema: serde_json::Value = serde_json::from_str(include_str!("../schema/plan.schema.json")).unwrap();
        let names =
            |v: Vec<serde_json::Value>| -> Vec<String> { v.iter().map(|x| x.as_str().unwrap().to_owned()).collect() };
        let listed = |ptr: &str| -> Vec<String> {
            names(schema.pointer(ptr).unwrap_or_else(|| panic!("{ptr}")).as_array().unwrap().clone())
        };
        let ser = |v: Vec<serde_json::Value>| names(v);
        let kinds = [StepKind::Upgrade, StepKind::Downgrade, StepKind::Install, StepKind::Rebuild];
        for k in kinds {
            match k {
                StepKind::Upgrade | StepKind::Downgrade | StepKind::Install | StepKind::Rebuild => {}
            }
        }
        let statuses = [StepStatus::Ready, StepStatus::Blocked, StepStatus::NoFix, StepStatus::Rebuild];
        for k in statuses {
            match k {
                StepStatus::Ready | StepStatus::Blocked | StepStatus::NoFix | StepStatus::Rebuild => {}
            }
        }
        let restart_kinds = [
            RestartKind::Systemd,
            RestartKind::Apache,
            RestartKind::Uwsgi,
            RestartKind::Supervisor,
            RestartKind::Process,
        ];
        for k in restart_kinds {
            match k {
                RestartKind::Systemd
                | RestartKind::Apache
                | RestartKind::Uwsgi
                | RestartKind::Supervisor
                | RestartKind::Process => {}
            }
        }
        let actions = [RestartAction::Restart, RestartAction::Reload, RestartAction::Touch, RestartAction::Manual];
        for k in actions {
            match k {
                RestartAction::Restart | RestartAction::Reload | RestartAction::Touch | RestartAction::Manual => {}
            }
        }
        let to = |v: &[serde_json::Value]| ser(v.to_vec());
        let json = |xs: Vec<serde_json::Value>| to(&xs);
        assert_eq!(
            listed("/$defs/step/properties/kind/enum"),
            json(kinds.iter().map(|k| serde_json::json!(k)).collect())
        );
        assert_eq!(
            listed("/$defs/step/properties/status/enum"),
            json(statuses.iter().map(|k| serde_json::json!(k)).collect())
        );
        assert_eq!(
            listed("/$defs/restart/properties/kind/enum"),
            json(restart_kinds.iter().map(|k| serde_json::json!(k)).collect())
        );
        assert_eq!(
            listed("/$defs/restart/properties/action/enum"),
            json(actions.iter().map(|k| serde_json::json!(k)).collect())
        );
        let findings: Vec<String> = [
            FindingId::Vulnerability,
            FindingId::ForbiddenPackage,
            FindingId::LockDrift,
            FindingId::InterpreterVulnerability,
            FindingId::InterpreterEol,
        ]
        .iter()
        .map(|f| f.as_str().to_owned())
        .collect();
        assert_eq!(listed("/$defs/reason/properties/finding/enum"), findings);
    }

    /// A database of one package: A affects [0, 1.5) and [2.0, 2.1), B (a regression) affects
    /// [1.5, 1.6), C affects everything before 9 with no fix.
    fn db() -> Database {
        use crate::osv::{Advisory, Affected, Bound, Event, EventKind};
        let at = |v: &str| Bound::At(Version::from_str(v).unwrap());
        let ev = |kind, b| Event { kind, at: b };
        let adv = |id: &str| Advisory {
            id: id.into(),
            aliases: Vec::new(),
            summary: String::new(),
            published: None,
            modified: None,
            rating: None,
        };
        let aff = |i, ranges: Vec<Vec<Event>>, fixed: &[&str]| Affected {
            advisory: i,
            ranges,
            versions: String::new(),
            fixed: fixed.iter().map(|f| f.to_string()).collect(),
            rating: None,
        };
        let mut db = Database { advisories: vec![adv("A"), adv("B"), adv("C")], ..Database::default() };
        db.index.insert(
            "pkg".into(),
            vec![
                aff(
                    0,
                    vec![
                        vec![ev(EventKind::Introduced, Bound::Zero), ev(EventKind::Fixed, at("1.5"))],
                        vec![ev(EventKind::Introduced, at("2.0")), ev(EventKind::Fixed, at("2.1"))],
                    ],
                    &["1.5", "2.1"],
                ),
                aff(1, vec![vec![ev(EventKind::Introduced, at("1.5")), ev(EventKind::Fixed, at("1.6"))]], &["1.6"]),
            ],
        );
        db.index.insert(
            "nofix".into(),
            vec![aff(2, vec![vec![ev(EventKind::Introduced, Bound::Zero), ev(EventKind::Limit, at("9"))]], &[])],
        );
        db
    }

    fn reason(advisory: &str, fixed: &[&str]) -> Reason {
        Reason {
            advisory: Some(advisory.into()),
            fixed_versions: fixed.iter().map(|f| f.to_string()).collect(),
            ..Reason::new(FindingId::Vulnerability, Severity::Error)
        }
    }

    #[test]
    fn the_smallest_fix_that_no_advisory_affects_is_chosen() {
        let db = db();
        let judge = Judge::new(Some(&db), &[]);
        // 1.5 fixes A but brings in B: the choice is 1.6, not the first fixed event.
        let c = choose("pkg", Some("1.2"), &[reason("A", &["1.5", "2.1"])], &judge);
        assert_eq!(c.version.as_deref(), Some("1.6"), "{}", c.why);
        // Leaving a forbidden range `pkg<2.0` at its bound, 2.0, would land in A again: 2.1.
        let forbid = crate::parse::spec::parse_specs(&["pkg<2.0".to_owned()]).unwrap();
        let judge = Judge::new(Some(&db), &forbid);
        let spec = Reason { spec: Some("pkg<2.0".into()), ..Reason::new(FindingId::ForbiddenPackage, Severity::Error) };
        assert_eq!(choose("pkg", Some("1.2"), &[spec], &judge).version.as_deref(), Some("2.1"));
        // No record names a fix.
        let c = choose("nofix", Some("1.0"), &[reason("C", &[])], &Judge::new(Some(&db), &[]));
        assert_eq!(c.version, None);
        assert!(c.why.starts_with("no fix available"), "{}", c.why);
        // A lock pin wins, and says what still affects it.
        let pin = Reason { locked: Some("1.5".into()), ..Reason::new(FindingId::LockDrift, Severity::Error) };
        let c = choose("pkg", Some("1.2"), &[pin], &Judge::new(Some(&db), &[]));
        assert_eq!((c.version.as_deref(), c.remaining), (Some("1.5"), vec!["B".to_owned()]));
    }

    #[test]
    fn plan_family_names_are_the_families() {
        let names: Vec<&str> = PLAN_FAMILIES.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, PLAN_FAMILY_NAMES);
    }

    #[test]
    fn apache_unit_follows_the_configuration_then_the_os() {
        assert_eq!(apache_unit(Some("/etc/httpd/conf.d/app.conf"), None), "httpd.service");
        assert_eq!(apache_unit(Some("/etc/apache2/sites-enabled/app.conf"), Some("Rocky Linux 9")), "apache2.service");
        assert_eq!(apache_unit(None, Some("Rocky Linux 9.3 (Blue Onyx)")), "httpd.service");
        assert_eq!(apache_unit(None, Some("Debian GNU/Linux 12 (bookworm)")), "apache2.service");
    }
}
