//! Ansible module mode: the venvaudit binary is itself the binary modules `venv_facts`,
//! `venv_check` and `artifact_check` of the collection `venvaudit.python`.
//!
//! ansible-core copies a binary module to the managed host as `AnsiballZ_<name>` and runs it
//! with one argument: a file holding the task's options as a JSON object, plus `_ansible_*`
//! keys. Whatever happens, the module prints exactly one JSON object on stdout; ansible-core
//! ignores the exit code when stdout is JSON, so failure is said with `"failed": true`.
//!
//! `NAME --argspec` (the binary called by a module's name) prints that module's argument spec
//! as ansible-core's `argument_spec` JSON instead: ansible/build.sh writes the `choices` of the
//! modules' documentation from it, so they are the enums' own lists (`Family::NAMES`, ...).

pub mod argspec;

use super::json::{Failure, Gate};
use crate::discover::Progress;
use crate::report::{Finding, FindingId, Report};
use crate::request::{Request, RequestError};
use argspec::{ArgError, Elem, Kind, Opt};
use serde_json::{Map, Value, json};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Largest arguments file read (the ignore list of a big fleet stays far below this).
const MAX_ARGS_BYTES: u64 = 16 << 20;
/// Failing findings quoted in `msg` unless `-vv` asks for all.
const MSG_FINDINGS: usize = 5;
/// Scan errors turned into task warnings; the rest are counted in one more warning.
const MAX_WARNINGS: usize = 20;

/// The modules the binary implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    /// `venv_facts`: the report as `ansible_facts.venvaudit`.
    Facts,
    /// `venv_check`: findings and a pre-deploy gate on `fail_on`.
    Check,
    /// `artifact_check`: a wheelhouse, wheels or a lock judged against the host's target
    /// before anything is installed; a gate on `fail_on`.
    Artifact,
    /// `venv_plan`: the remediation plan (read-only; the role `remediate` applies it).
    Plan,
}

impl Module {
    /// Recognise a module from a file or module name: `venv_facts`, `AnsiballZ_venv_facts`,
    /// `venv_facts.exe`, `venvaudit.python.venv_facts`, `ansible.legacy.venv_facts`.
    pub fn from_name(name: &str) -> Option<Module> {
        let base = name.rsplit('/').next().unwrap_or(name);
        let base = base.strip_prefix("AnsiballZ_").unwrap_or(base);
        // FQCNs end in the short name; file names may carry one extension.
        let candidates = [base, base.rsplit('.').next().unwrap_or(base), base.split('.').next().unwrap_or(base)];
        candidates.iter().find_map(|c| match *c {
            "venv_facts" => Some(Module::Facts),
            "venv_check" => Some(Module::Check),
            "artifact_check" => Some(Module::Artifact),
            "venv_plan" => Some(Module::Plan),
            _ => None,
        })
    }

    /// Short module name.
    pub fn name(self) -> &'static str {
        match self {
            Module::Facts => "venv_facts",
            Module::Check => "venv_check",
            Module::Artifact => "artifact_check",
            Module::Plan => "venv_plan",
        }
    }

    /// The module's options.
    pub fn spec(self) -> &'static [Opt] {
        match self {
            Module::Facts => FACTS_SPEC,
            Module::Check => CHECK_SPEC,
            Module::Artifact => ARTIFACT_SPEC,
            Module::Plan => PLAN_SPEC,
        }
    }

    /// The request action the module runs.
    fn action(self) -> &'static str {
        match self {
            Module::Facts => "facts",
            Module::Check => "check",
            Module::Artifact => "check-artifact",
            Module::Plan => "plan",
        }
    }
}

/// The argument that makes `NAME --argspec` print the module's argument spec.
pub const ARGSPEC_FLAG: &str = "--argspec";

const PATHS: Opt = Opt::new("paths", Kind::List(Elem::Path)).default("[\"/\"]");
const EXCLUDE: Opt = Opt::new("exclude", Kind::List(Elem::Str)).default("[]");
const MAX_DEPTH: Opt = Opt::new("max_depth", Kind::Int);
const ROOT: Opt = Opt::new("root", Kind::Path);
const CONFIG_ROOT: Opt = Opt::new("config_root", Kind::Path);
const FOLLOW_SYMLINKS: Opt = Opt::new("follow_symlinks", Kind::Bool).default("false");
const CROSS_MOUNTS: Opt = Opt::new("cross_mounts", Kind::Bool).default("false");
/// `processes: false` is the request's `no_processes` (AnsibleModule options are positive).
const PROCESSES: Opt = Opt::new("processes", Kind::Bool).default("true");
// The gate options venv_check and artifact_check share (their `group/venvaudit.python.gates`
// module_defaults).
const FAIL_ON: Opt = Opt::new("fail_on", Kind::Str).choices(&["error", "warning", "never"]).default("\"error\"");
const CHECKS: Opt = Opt::new("checks", Kind::List(Elem::Str)).choices(crate::report::Family::NAMES).default("[]");
const OSV_DB: Opt = Opt::new("osv_db", Kind::Path);
const FORBID: Opt = Opt::new("forbid", Kind::List(Elem::Str)).default("[]");
const IGNORE: Opt = Opt::new("ignore", Kind::List(Elem::Dict(IGNORE_SPEC))).default("[]");
const IGNORE_FILE: Opt = Opt::new("ignore_file", Kind::Path);
const MOD_WSGI: Opt = Opt::new("mod_wsgi", Kind::Path);
const TARGET_PYTHON: Opt = Opt::new("target_python", Kind::Path);
const APP: Opt = Opt::new("app", Kind::Path);

/// Options of `venv_facts` (mirrored by plugins/modules/venv_facts.py's DOCUMENTATION).
pub const FACTS_SPEC: &[Opt] = &[
    PATHS,
    EXCLUDE,
    MAX_DEPTH,
    ROOT,
    CONFIG_ROOT,
    FOLLOW_SYMLINKS,
    CROSS_MOUNTS,
    PROCESSES,
    Opt::new("packages", Kind::Bool).default("true"),
    Opt::new("summary", Kind::Bool).default("false"),
    Opt::new("detail", Kind::Str).choices(&["full", "compact", "summary"]),
];

/// Suboptions of one `ignore` entry (the ignore policy's keys).
pub const IGNORE_SPEC: &[Opt] = &[
    Opt::new("id", Kind::Str),
    Opt::new("advisory", Kind::Str),
    Opt::new("package", Kind::Str),
    Opt::new("venv", Kind::Str),
    Opt::new("reason", Kind::Str).required(),
    Opt::new("until", Kind::Str),
];

/// Options of `venv_check` (mirrored by plugins/modules/venv_check.py's DOCUMENTATION).
pub const CHECK_SPEC: &[Opt] = &[
    PATHS,
    EXCLUDE,
    MAX_DEPTH,
    ROOT,
    CONFIG_ROOT,
    FOLLOW_SYMLINKS,
    CROSS_MOUNTS,
    PROCESSES,
    FAIL_ON,
    CHECKS,
    OSV_DB,
    Opt::new("require_osv_db", Kind::Bool).default("false"),
    Opt::new("osv_max_age_days", Kind::Int),
    FORBID,
    IGNORE,
    IGNORE_FILE,
    Opt::new("apache_config", Kind::List(Elem::Path)).default("[]"),
    Opt::new("uwsgi_config", Kind::List(Elem::Path)).default("[]"),
    MOD_WSGI,
    TARGET_PYTHON,
    APP,
    Opt::new("verify", Kind::Bool).default("false"),
    Opt::new("lock", Kind::Path),
];

/// Options of `artifact_check` (mirrored by plugins/modules/artifact_check.py's DOCUMENTATION).
/// At most one of `target_python`, `venv`, `mod_wsgi` names the target.
pub const ARTIFACT_SPEC: &[Opt] = &[
    Opt::new("artifacts", Kind::List(Elem::Path)).required(),
    Opt::new("find_links", Kind::List(Elem::Path)).default("[]"),
    TARGET_PYTHON,
    Opt::new("venv", Kind::Path),
    MOD_WSGI,
    ROOT,
    CONFIG_ROOT,
    FAIL_ON,
    CHECKS,
    OSV_DB,
    FORBID,
    IGNORE,
    IGNORE_FILE,
    APP,
];

/// Options of `venv_plan` (mirrored by plugins/modules/venv_plan.py's DOCUMENTATION).
pub const PLAN_SPEC: &[Opt] = &[
    PATHS,
    EXCLUDE,
    MAX_DEPTH,
    ROOT,
    CONFIG_ROOT,
    FOLLOW_SYMLINKS,
    CROSS_MOUNTS,
    PROCESSES,
    Opt::new("checks", Kind::List(Elem::Str)).choices(crate::plan::PLAN_FAMILY_NAMES).default("[]"),
    OSV_DB,
    Opt::new("cpython_db", Kind::Path),
    FORBID,
    IGNORE,
    IGNORE_FILE,
    Opt::new("lock", Kind::Path),
    Opt::new("from_facts", Kind::List(Elem::Path)).default("[]"),
    Opt::new("max_age", Kind::Int),
];

/// Options of `artifact_check` of which at most one may be given: the target.
const ARTIFACT_TARGETS: &[&str] = &["target_python", "venv", "mod_wsgi"];

/// How the binary was asked to act as a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The module named by the file name, when it names one.
    pub module: Option<Module>,
    /// The arguments file, when one was given.
    pub args_file: Option<PathBuf>,
}

/// Decide from the command line whether this process is an Ansible module run.
///
/// Yes when `argv[0]`'s base name is a module name (`venv_facts`, `AnsiballZ_venv_check`, ...),
/// or when the only argument is a readable JSON file of a task's arguments (it carries
/// `_ansible_module_name`) — so a binary installed under another name still works.
pub fn detect(args: &[OsString]) -> Option<Invocation> {
    let argv0 = args.first().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    let base = Path::new(&argv0).file_name().map(|b| b.to_string_lossy().into_owned()).unwrap_or_default();
    let by_name = Module::from_name(&base);
    let single = match args {
        [_, one] => Some(PathBuf::from(one)),
        _ => None,
    };
    if by_name.is_some() {
        return Some(Invocation { module: by_name, args_file: single });
    }
    let file = single?;
    if file.as_os_str().to_string_lossy().starts_with('-') {
        return None;
    }
    let params = read_args(&file).ok()?;
    params.contains_key("_ansible_module_name").then_some(Invocation { module: None, args_file: Some(file) })
}

/// Why a module run produced no result; its message is the task's `msg`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ModuleError {
    /// The arguments file could not be read.
    #[error("cannot read the module arguments file {}: {cause}", path.display())]
    ReadArgs { path: PathBuf, cause: std::io::Error },
    /// The arguments file is not JSON.
    #[error("the module arguments file {} is not valid JSON: {cause}", path.display())]
    ArgsNotJson { path: PathBuf, cause: serde_json::Error },
    /// The arguments file is JSON but not an object.
    #[error("the module arguments file {} must hold a JSON object", path.display())]
    ArgsNotObject { path: PathBuf },
    /// `ANSIBLE_MODULE_ARGS` is there but not an object.
    #[error("ANSIBLE_MODULE_ARGS must be a JSON object")]
    WrappedArgsNotObject,
    /// Options AnsibleModule would refuse.
    #[error(transparent)]
    Arguments(#[from] ArgError),
    /// `max_depth` below 0 (an int to Ansible, a count to venvaudit).
    #[error("argument 'max_depth' must be 0 or more, got {value}")]
    NegativeDepth { value: Value },
    /// The options make no valid request (a key the spec has and the request lacks is a bug).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The scan could not run.
    #[error(transparent)]
    Run(#[from] Failure),
}

/// Read the arguments file: a JSON object (bare, as ansible-core writes it for binary
/// modules, or wrapped in `ANSIBLE_MODULE_ARGS` as for Python modules).
pub(crate) fn read_args(path: &Path) -> Result<Map<String, Value>, ModuleError> {
    let bytes = crate::host::paths::read_bounded(path, MAX_ARGS_BYTES)
        .map_err(|cause| ModuleError::ReadArgs { path: path.to_path_buf(), cause })?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|cause| ModuleError::ArgsNotJson { path: path.to_path_buf(), cause })?;
    match v {
        Value::Object(mut m) => match m.remove("ANSIBLE_MODULE_ARGS") {
            Some(Value::Object(inner)) => Ok(inner),
            Some(_) => Err(ModuleError::WrappedArgsNotObject),
            None => Ok(m),
        },
        _ => Err(ModuleError::ArgsNotObject { path: path.to_path_buf() }),
    }
}

/// The `_ansible_*` keys the module acts on.
#[derive(Debug, Default)]
pub(crate) struct Internal {
    pub(crate) module_name: Option<String>,
    no_log: bool,
    verbosity: u64,
    pub(crate) ignore_unknown_opts: bool,
    check_mode: bool,
}

/// Split `_ansible_*` keys (all accepted, a few used) from the task's options.
pub(crate) fn split_internal(params: Map<String, Value>) -> (Map<String, Value>, Internal) {
    let mut opts = Map::new();
    let mut int = Internal::default();
    for (k, v) in params {
        match k.strip_prefix("_ansible_") {
            None => {
                opts.insert(k, v);
            }
            Some("module_name") => int.module_name = v.as_str().map(str::to_owned),
            Some("no_log") => int.no_log = v.as_bool().unwrap_or(false),
            Some("verbosity") => int.verbosity = v.as_u64().unwrap_or(0),
            Some("ignore_unknown_opts") => int.ignore_unknown_opts = v.as_bool().unwrap_or(false),
            Some("check_mode") => int.check_mode = v.as_bool().unwrap_or(false),
            Some(_) => {}
        }
    }
    (opts, int)
}

/// Run as a module and return the exit code. Prints exactly one JSON object on stdout, even
/// when the scan panics.
pub fn main(inv: Invocation) -> i32 {
    if let (Some(module), Some(flag)) = (inv.module, &inv.args_file)
        && flag.as_os_str() == ARGSPEC_FLAG
    {
        println!("{}", argspec::to_json(module.spec()));
        return 0;
    }
    let result = guarded(|| run(&inv));
    let text = serde_json::to_string(&result)
        .unwrap_or_else(|e| json!({"failed": true, "msg": format!("cannot serialise the result: {e}")}).to_string());
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
    if result["failed"] == json!(true) { 1 } else { 0 }
}

/// Run `f`, turning a panic (in it or in a worker thread it waits for) into a failed result
/// naming the panic, so ansible-core gets a result instead of "MODULE FAILURE" and a backtrace.
pub fn guarded(f: impl FnOnce() -> Value + std::panic::UnwindSafe) -> Value {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{msg}{at}"));
        }
    }));
    std::panic::catch_unwind(f).unwrap_or_else(|_| {
        let detail = LAST_PANIC.lock().ok().and_then(|mut l| l.take()).unwrap_or_else(|| "unknown panic".to_owned());
        json!({
            "failed": true,
            "changed": false,
            "msg": format!("venvaudit {} crashed (please report this bug): {detail}", env!("CARGO_PKG_VERSION")),
        })
    })
}

static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Run as a module and return its result object.
pub fn run(inv: &Invocation) -> Value {
    let fail = |msg: String| json!({"failed": true, "changed": false, "msg": msg});
    let Some(file) = &inv.args_file else {
        let name = inv.module.map(Module::name).unwrap_or("venvaudit");
        return fail(format!(
            "{name} is an Ansible module of the collection venvaudit.python: ansible-core runs it with one argument, \
             the path of a JSON file of module arguments; for the command line run `venvaudit --help`"
        ));
    };
    let params = match read_args(file) {
        Ok(p) => p,
        Err(e) => return fail(e.to_string()),
    };
    let (opts, int) = split_internal(params);
    let module = match int.module_name.as_deref().and_then(Module::from_name).or(inv.module) {
        Some(m) => m,
        None => {
            return fail(format!(
                "cannot tell which module to run: the module name {:?} is none of venv_facts, venv_check, \
                 artifact_check, venv_plan; install the venvaudit binary under one of those names",
                int.module_name.as_deref().unwrap_or("")
            ));
        }
    };
    let display_name = int.module_name.clone().unwrap_or_else(|| module.name().to_owned());
    let params = match argspec::validate(&display_name, module.spec(), &opts, int.ignore_unknown_opts) {
        Ok(p) => p,
        Err(e) => return fail(e.to_string()),
    };
    let mut result = match module {
        Module::Facts => facts(&params),
        Module::Check | Module::Artifact => gate(module, &params, &int),
        Module::Plan => plan(&params),
    }
    .unwrap_or_else(|e| fail(e.to_string()));
    if !int.no_log {
        result["invocation"] = json!({"module_args": params});
    }
    if int.check_mode {
        // Nothing is ever changed, so check mode runs the same read-only scan.
        result["changed"] = json!(false);
    }
    result
}

/// Map validated options to a [`Request`]. Keys the spec has and the request lacks are a bug,
/// named by `Request::from_json`.
pub(crate) fn request(action: &str, params: &Map<String, Value>) -> Result<Request, ModuleError> {
    let mut obj = Map::new();
    obj.insert("action".to_owned(), json!(action));
    for (k, v) in params {
        if v.is_null() {
            continue;
        }
        if k == "max_depth" && v.as_i64().is_some_and(|d| d < 0) {
            return Err(ModuleError::NegativeDepth { value: v.clone() });
        }
        if k == "processes" {
            obj.insert("no_processes".to_owned(), json!(v == &json!(false)));
            continue;
        }
        obj.insert(k.clone(), v.clone());
    }
    Ok(Request::from_json(Value::Object(obj))?)
}

fn facts(params: &Map<String, Value>) -> Result<Value, ModuleError> {
    let req = request("facts", params)?;
    let report = crate::engine::facts(&req, &Progress::default()).map_err(Failure::from)?;
    let warnings = scan_warnings(&report);
    let report = serde_json::to_value(&report).map_err(|cause| Failure::Serialise { cause })?;
    let mut out = json!({
        "changed": false,
        "failed": false,
        "ansible_facts": {"venvaudit": report},
    });
    if !warnings.is_empty() {
        out["warnings"] = json!(warnings);
    }
    Ok(out)
}

/// `venv_plan`: the plan under `plan`, its steps also at the top level for `loop:`; never
/// changes anything and never fails on steps (the role decides what to apply).
fn plan(params: &Map<String, Value>) -> Result<Value, ModuleError> {
    let req = request("plan", params)?;
    let plan = match super::json::execute(&req)? {
        super::json::Outcome::Plan(p) => p,
        _ => unreachable!("a plan request makes a plan"),
    };
    let m = &plan.summary;
    let msg = format!(
        "{} step(s) in {} environment(s): {} ready, {} blocked, {} without a fix, {} to rebuild; {} restart(s)",
        m.steps, m.venvs, m.ready, m.blocked, m.no_fix, m.rebuild, m.restarts
    );
    let mut warnings = plan.warnings.clone();
    warnings.extend(plan.errors.iter().take(MAX_WARNINGS).map(|e| format!("{}: {}", e.path, e.message)));
    let value = serde_json::to_value(&plan).map_err(|cause| Failure::Serialise { cause })?;
    let mut out = json!({
        "changed": false,
        "failed": false,
        "msg": msg,
        "planned": plan.planned,
        "complete": plan.complete,
        "steps": value["steps"],
        "restart": value["restart"],
        "plan": value,
    });
    if !warnings.is_empty() {
        out["warnings"] = json!(warnings);
    }
    Ok(out)
}

/// `venv_check` and `artifact_check`: the report's findings and the gate's verdict; the task
/// fails, naming the first failing findings, when the gate does.
fn gate(module: Module, params: &Map<String, Value>, int: &Internal) -> Result<Value, ModuleError> {
    if module == Module::Artifact {
        let given: Vec<&str> =
            ARTIFACT_TARGETS.iter().copied().filter(|k| params.get(*k).is_some_and(|v| !v.is_null())).collect();
        if given.len() > 1 {
            // AnsibleModule's words for `mutually_exclusive`.
            return Err(ArgError(format!("parameters are mutually exclusive: {}", ARTIFACT_TARGETS.join("|"))).into());
        }
    }
    let req = request(module.action(), params)?;
    let progress = Progress::default();
    let Gate { report, fail_on, passed } = match module {
        Module::Artifact => super::json::check_artifact(&req, &progress)?,
        _ => super::json::check(&req, &progress)?,
    };
    let s = &report.summary;
    let counts = json!({"error": s.error, "warning": s.warning, "info": s.info, "ignored": s.ignored});
    let venvs: Vec<Value> = report
        .venvs
        .iter()
        .map(|v| json!({"path": v.path, "kind": v.kind, "python": v.python.version, "health": v.health}))
        .collect();
    let mut warnings = scan_warnings(&report);
    warnings.extend(
        report
            .findings
            .iter()
            .filter(|f| f.id == FindingId::IgnoreExpired && f.ignored.is_none())
            .map(|f| f.message.clone()),
    );
    let serialise = |cause| ModuleError::Run(Failure::Serialise { cause });
    let mut out = json!({
        "changed": false,
        "failed": false,
        "passed": passed,
        "fail_on": fail_on.as_str(),
        "counts": counts,
        "summary": serde_json::to_value(&report.summary).map_err(serialise)?,
        "venvs": venvs,
        "findings": serde_json::to_value(&report.findings).map_err(serialise)?,
        "errors": serde_json::to_value(&report.errors).map_err(serialise)?,
    });
    if let Some(db) = &report.osv_db {
        out["osv_db"] = serde_json::to_value(db).map_err(serialise)?;
    }
    let threshold = fail_on.threshold();
    let failing: Vec<&Finding> =
        report.findings.iter().filter(|f| f.ignored.is_none() && threshold.is_some_and(|t| f.severity >= t)).collect();
    let counted = format!("{} error(s), {} warning(s), {} info, {} ignored", s.error, s.warning, s.info, s.ignored);
    let head = match &report.artifact {
        Some(a) => {
            out["artifact"] = serde_json::to_value(a).map_err(serialise)?;
            format!(
                "{counted}; {} wheel(s) selected for {} (fail_on: {})",
                a.selected.len(),
                target_line(&a.target),
                fail_on.as_str()
            )
        }
        None => format!("{counted} in {} venv(s) (fail_on: {})", venvs.len(), fail_on.as_str()),
    };
    let name = module.name();
    if passed {
        out["msg"] = json!(format!("{name} passed: {head}"));
    } else {
        let shown = if int.verbosity >= 2 { failing.len() } else { MSG_FINDINGS };
        let mut lines = vec![format!("{name} failed: {head}")];
        lines.extend(failing.iter().take(shown).map(|f| finding_line(f)));
        if failing.len() > shown {
            lines.push(format!("... and {} more (see findings, or run with -vv)", failing.len() - shown));
        }
        out["failed"] = json!(true);
        out["msg"] = json!(lines.join("\n"));
    }
    if !warnings.is_empty() {
        out["warnings"] = json!(warnings);
    }
    Ok(out)
}

/// The target of an artefact gate in a few words: `CPython 3.12.1 (venv)`.
fn target_line(t: &crate::report::ArtifactTarget) -> String {
    let version = t.version.as_deref().or(t.python.version.as_deref()).unwrap_or("of unknown version");
    format!("{} {version} ({})", t.implementation, t.source)
}

/// `id venv: message`, one line (host-wide findings say `host`).
pub fn finding_line(f: &Finding) -> String {
    let venv = f.venv.as_deref().unwrap_or("host");
    format!("{} {venv}: {}", f.id.as_str(), f.message.replace('\n', " "))
}

/// The report's caveats and its unreadable paths (at most [`MAX_WARNINGS`]) as task warnings.
fn scan_warnings(report: &Report) -> Vec<String> {
    let errors = &report.errors;
    let mut w: Vec<String> = report.warnings.clone();
    w.extend(errors.iter().take(MAX_WARNINGS).map(|e| format!("{}: {}", e.path, e.message)));
    if errors.len() > MAX_WARNINGS {
        w.push(format!("... and {} more unreadable paths (see the report's errors)", errors.len() - MAX_WARNINGS));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn module_names_are_recognised() {
        for n in [
            "venv_facts",
            "AnsiballZ_venv_facts",
            "venv_facts.exe",
            "venvaudit.python.venv_facts",
            "ansible.legacy.venv_facts",
        ] {
            assert_eq!(Module::from_name(n), Some(Module::Facts), "{n}");
        }
        assert_eq!(Module::from_name("/tmp/x/AnsiballZ_venv_check"), Some(Module::Check));
        assert_eq!(Module::from_name("venvaudit.python.artifact_check"), Some(Module::Artifact));
        assert_eq!(Module::from_name("AnsiballZ_artifact_check"), Some(Module::Artifact));
        assert_eq!(Module::from_name("venvaudit"), None);
        assert_eq!(Module::from_name("venv_factsx"), None);
    }

    #[test]
    fn detection_by_name_and_by_args_file() {
        let inv = detect(&os(&["/x/AnsiballZ_venv_check", "/x/args"])).unwrap();
        assert_eq!(inv.module, Some(Module::Check));
        assert_eq!(inv.args_file, Some(PathBuf::from("/x/args")));
        assert!(detect(&os(&["venvaudit", "facts", "/srv"])).is_none());
        assert!(detect(&os(&["venvaudit", "--help"])).is_none());
        assert!(detect(&os(&["venvaudit", "facts"])).is_none());

        let dir = std::env::temp_dir().join(format!("venvaudit-detect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let with = dir.join("args");
        std::fs::write(&with, r#"{"paths": ["/srv"], "_ansible_module_name": "venvaudit.python.venv_facts"}"#).unwrap();
        let without = dir.join("plain.json");
        std::fs::write(&without, r#"{"action": "facts"}"#).unwrap();
        let inv = detect(&[OsString::from("/usr/bin/venvaudit"), with.clone().into_os_string()]).unwrap();
        assert_eq!(inv.module, None);
        assert_eq!(inv.args_file.as_deref(), Some(with.as_path()));
        assert!(detect(&[OsString::from("venvaudit"), without.into_os_string()]).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn artifact_check_takes_one_target_and_its_options_reach_the_request() {
        let int = Internal::default();
        let opts = json!({"artifacts": ["/nonexistent/wheelhouse"], "venv": "/srv/app/venv", "target_python": "/usr/bin/python3"});
        let params = argspec::validate("artifact_check", ARTIFACT_SPEC, opts.as_object().unwrap(), false).unwrap();
        let e = gate(Module::Artifact, &params, &int).unwrap_err().to_string();
        assert_eq!(e, "parameters are mutually exclusive: target_python|venv|mod_wsgi");
        let e = argspec::validate("artifact_check", ARTIFACT_SPEC, &Map::new(), false).unwrap_err().to_string();
        assert_eq!(e, "missing required arguments: artifacts");
        // Every option of every spec makes a valid request (`processes` becomes `no_processes`).
        let opts = json!({"artifacts": ["/w"], "find_links": ["/l"], "venv": "/v", "lock": "/pylock.toml"});
        for m in [Module::Facts, Module::Check, Module::Artifact, Module::Plan] {
            // Options another module has are ignored, as with `_ansible_ignore_unknown_opts`.
            let params = argspec::validate(m.name(), m.spec(), opts.as_object().unwrap(), true).unwrap();
            let req = request(m.action(), &params).unwrap_or_else(|e| panic!("{}: {e}", m.name()));
            if m == Module::Artifact {
                assert_eq!(
                    (req.artifacts, req.find_links, req.venv),
                    (vec!["/w".to_owned()], vec!["/l".to_owned()], Some("/v".to_owned()))
                );
            }
            if m == Module::Check {
                assert_eq!(req.lock.as_deref(), Some("/pylock.toml"));
            }
        }
    }

    #[test]
    fn a_panic_becomes_a_failed_result() {
        let v = guarded(|| panic!("boom {}", 42));
        assert_eq!(v["failed"], json!(true));
        let msg = v["msg"].as_str().unwrap();
        assert!(msg.contains("boom 42") && msg.contains("crashed"), "{msg}");
        let ok = guarded(|| json!({"failed": false}));
        assert_eq!(ok["failed"], json!(false));
    }

    #[test]
    fn finding_lines_are_single_lines() {
        use crate::report::Severity;
        let f = Finding::new(FindingId::BrokenInterpreter, Severity::Error, Some("/srv/a"), "gone\nreally".into(), "r");
        assert_eq!(finding_line(&f), "broken-interpreter /srv/a: gone really");
        let host = Finding::new(FindingId::Unused, Severity::Info, None, "m".into(), "r");
        assert_eq!(finding_line(&host), "unused host: m");
    }
}
