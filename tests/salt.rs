//! The Salt execution module, grain and state (salt/) driven by a real masterless
//! `salt-call --local` against real venvs: a healthy one made by pyenv's CPython 3.12 and a
//! broken one whose base interpreter (a hard-linked copy of that CPython) was deleted.
//!
//! Each salt-call costs one to three seconds, so the calls are batched: one `state.apply` of
//! a generated sls exercises every state case, and the two tests (install + deploy gate; the
//! functions, grain and state) run in parallel with their own minion config dirs.
//!
//! salt-call is found at `$VENVAUDIT_SALT_CALL`, else `.tools/venv/bin/salt-call` (made by
//! scripts/setup.sh), else on PATH.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_venvaudit");

fn salt_call_path() -> PathBuf {
    if let Some(p) = std::env::var_os("VENVAUDIT_SALT_CALL") {
        return PathBuf::from(p);
    }
    let tools = Path::new(REPO).join(".tools/venv/bin/salt-call");
    if tools.exists() {
        return tools;
    }
    PathBuf::from("salt-call")
}

fn pyenv_python() -> PathBuf {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".pyenv"));
    root.join("versions/3.12.1")
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn check_ok(cmd: &mut Command) {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A scratch directory under cargo's target/tmp, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("salt-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The test venvs, made once per test process: `<dir>/ok` (healthy, with pip) and
/// `<dir>/broken` (its base interpreter deleted).
struct Venvs {
    dir: PathBuf,
}

impl Venvs {
    fn ok(&self) -> String {
        self.dir.join("ok").display().to_string()
    }
    fn broken(&self) -> String {
        self.dir.join("broken").display().to_string()
    }
}

fn venvs() -> &'static Venvs {
    static V: OnceLock<Venvs> = OnceLock::new();
    V.get_or_init(|| {
        let dir = scratch("venvs");
        let base = pyenv_python();
        let python = base.join("bin/python3.12");
        assert!(python.exists(), "{} missing: the tests need pyenv's CPython 3.12.1", python.display());
        check_ok(Command::new(&python).args(["-m", "venv"]).arg(dir.join("ok")));
        // The broken venv's base is a copy of the interpreter, hard-linked (cheap) when the
        // copy is on the same filesystem, then deleted: what an OS upgrade does to a venv.
        let copy = scratch("python-copy").join("3.12.1");
        let linked = run(Command::new("cp").arg("-al").arg(&base).arg(&copy)).status.success();
        if !linked {
            let _ = std::fs::remove_dir_all(&copy);
            check_ok(Command::new("cp").arg("-a").arg(&base).arg(&copy));
        }
        check_ok(
            Command::new(copy.join("bin/python3.12")).args(["-m", "venv", "--without-pip"]).arg(dir.join("broken")),
        );
        std::fs::remove_dir_all(&copy).unwrap();
        assert!(!dir.join("broken/bin/python").exists(), "broken venv still has an interpreter");
        Venvs { dir }
    })
}

/// A masterless minion: its config dir and the result of each salt-call.
struct Minion {
    dir: PathBuf,
}

/// What one salt-call returned.
struct Call {
    code: i32,
    json: Value,
    stderr: String,
}

impl Minion {
    /// A minion config under `dir`, with `states` first in file_roots, then the repo's salt/.
    fn new(dir: &Path, extra_config: &str) -> Minion {
        let conf = dir.join("conf");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::create_dir_all(dir.join("states")).unwrap();
        let d = dir.display();
        let config = format!(
            "file_client: local\n\
             file_roots:\n  base:\n    - {d}/states\n    - {REPO}/salt\n\
             root_dir: {d}/root\npki_dir: {d}/pki\ncachedir: {d}/cache\nsock_dir: {d}/sock\n\
             log_file: {d}/minion.log\nlog_level_logfile: info\n{extra_config}"
        );
        std::fs::write(conf.join("minion"), config).unwrap();
        Minion { dir: dir.to_owned() }
    }

    fn call(&self, args: &[&str]) -> Call {
        let started = Instant::now();
        let out = run(Command::new(salt_call_path())
            .args(["--local", "--out=json", "--config-dir"])
            .arg(self.dir.join("conf"))
            .args(args));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        eprintln!("salt-call {} -> exit {:?} in {:.1?}", args.join(" "), out.status.code(), started.elapsed());
        let json = if stdout.trim().is_empty() {
            Value::Null
        } else {
            let v: Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("salt-call {args:?} printed non-JSON ({e}): {stdout}\nstderr: {stderr}"));
            v["local"].clone()
        };
        Call { code: out.status.code().unwrap_or(-1), json, stderr }
    }

    /// `state.apply` and the results keyed by state id.
    fn apply(&self, args: &[&str]) -> (Call, serde_json::Map<String, Value>) {
        let mut full = vec!["state.apply"];
        full.extend_from_slice(args);
        let call = self.call(&full);
        let obj =
            call.json.as_object().unwrap_or_else(|| panic!("state.apply returned {}: {}", call.json, call.stderr));
        let by_id =
            obj.iter().map(|(tag, v)| (tag.split("_|-").nth(1).expect("state tag").to_owned(), v.clone())).collect();
        (call, by_id)
    }

    fn sync(&self) {
        let c = self.call(&["saltutil.sync_all"]);
        assert_eq!(c.code, 0, "sync_all: {}", c.stderr);
        for kind in ["modules", "states", "grains"] {
            let synced = c.json[kind].to_string();
            assert!(synced.contains(&format!("{kind}.venvaudit")), "{kind} not synced: {}", c.json);
        }
    }
}

fn comment(states: &serde_json::Map<String, Value>, id: &str) -> String {
    states[id]["comment"].as_str().unwrap_or_default().to_owned()
}

fn result(states: &serde_json::Map<String, Value>, id: &str) -> Value {
    assert!(states.contains_key(id), "state {id} missing from {states:?}");
    states[id]["result"].clone()
}

/// The example tree: install the binary from salt:// (mode 0755, modules reloaded so the
/// gate in the same run can use it), then the deploy runs behind a passing gate and is
/// stopped by a failing one.
#[test]
#[ignore = "real-tool tier: pyenv venvs, salt-call (scripts/test.sh runs it)"]
fn install_binary_and_gate_a_deploy() {
    let v = venvs();
    let dir = scratch("deploy");
    let installed = dir.join("bin/venvaudit");
    // The binary's place comes from pillar here (minion config in the other test): both
    // init.sls and the execution module must honour it.
    let pillar_root = dir.join("pillar");
    std::fs::create_dir_all(&pillar_root).unwrap();
    std::fs::write(pillar_root.join("top.sls"), "base:\n  '*':\n    - venvaudit\n").unwrap();
    std::fs::write(pillar_root.join("venvaudit.sls"), format!("venvaudit:\n  binary: {}\n", installed.display()))
        .unwrap();
    let minion = Minion::new(&dir, &format!("pillar_roots:\n  base:\n    - {}\n", pillar_root.display()));
    let files = dir.join("states/venvaudit/files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::copy(BIN, files.join("venvaudit")).unwrap();
    let app = dir.join("app");

    minion.sync();

    // Not installed yet: the module does not load, and says why.
    let c = minion.call(&["venvaudit.facts", &v.ok()]);
    assert_ne!(c.code, 0);
    assert!(
        c.stderr.contains("not found or not executable") && c.stderr.contains(&installed.display().to_string()),
        "missing binary not explained: {}",
        c.stderr
    );

    // `checks` is not a gate.sls parameter: it must reach the binary as a request key.
    let pillar = |venv: &str, release: &str| {
        let gate = serde_json::json!({"name": venv, "fail_on": "error", "checks": ["interpreter"]});
        format!("pillar={}", serde_json::json!({"app": {"root": app, "release": release}, "venvaudit": {"gate": gate}}))
    };
    let (c, states) = minion.apply(&["deploy_app", &pillar(&v.ok(), "r1")]);
    assert_eq!(c.code, 0, "healthy deploy failed: {:?}", states);
    assert_eq!(result(&states, "venvaudit-binary"), true);
    assert_eq!(result(&states, "venvaudit-gate"), true, "{}", comment(&states, "venvaudit-gate"));
    assert!(
        comment(&states, "venvaudit-gate").contains("1 environment(s) pass"),
        "{}",
        comment(&states, "venvaudit-gate")
    );
    assert_eq!(result(&states, "app-release"), true);
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(&installed).expect("binary installed");
    assert_eq!(meta.permissions().mode() & 0o777, 0o755);
    assert_eq!(meta.len(), std::fs::metadata(BIN).unwrap().len());
    assert_eq!(std::fs::read_to_string(app.join("RELEASE")).unwrap().trim(), "r1");

    let (c, states) = minion.apply(&["deploy_app", &pillar(&v.broken(), "r2")]);
    assert_ne!(c.code, 0, "a failed gate must fail the run");
    assert_eq!(result(&states, "venvaudit-gate"), false);
    let gate = comment(&states, "venvaudit-gate");
    assert!(gate.contains("broken-interpreter") && gate.contains(&v.broken()), "unclear comment: {gate}");
    assert_eq!(result(&states, "app-release"), false);
    assert!(comment(&states, "app-release").contains("requisite failed"), "{}", comment(&states, "app-release"));
    assert_eq!(std::fs::read_to_string(app.join("RELEASE")).unwrap().trim(), "r1", "deploy ran past a failed gate");
}

/// facts, check, query, bad arguments, the grain, and every case of venvaudit.compatible
/// (with and without test=True).
#[test]
#[ignore = "real-tool tier: pyenv venvs, salt-call (scripts/test.sh runs it)"]
fn functions_grain_and_state() {
    let v = venvs();
    let dir = scratch("functions");
    let minion = Minion::new(
        &dir,
        &format!("venvaudit.binary: {BIN}\nvenvaudit_grains_roots: ['{}', /nonexistent-root]\n", v.dir.display()),
    );
    minion.sync();

    // grain
    let c = minion.call(&["grains.item", "venvaudit"]);
    let g = &c.json["venvaudit"];
    assert_eq!(g["venvs"], 2, "{g}");
    assert_eq!(g["broken"], 1, "{g}");
    assert_eq!(g["has_broken"], true, "{g}");
    assert_eq!(g["python_versions"], serde_json::json!(["3.12"]), "{g}");
    assert_eq!(g["roots"], serde_json::json!([v.dir.display().to_string()]), "nonexistent root kept: {g}");
    assert!(g.get("error").is_none(), "{g}");

    // facts: positional path, report returned as is
    let c = minion.call(&["venvaudit.facts", &v.ok(), "packages=True"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(c.json["failed"], false);
    assert_eq!(c.json["venvs"][0]["path"], v.ok());
    assert_eq!(c.json["venvs"][0]["health"], "ok");
    let pkgs = c.json["venvs"][0]["packages"].as_array().expect("packages listed");
    assert!(pkgs.iter().any(|p| p["normalized_name"] == "pip"), "{pkgs:?}");

    // check: a failed gate is a result (retcode 0), not an error
    let c = minion.call(&["venvaudit.check", &format!("paths=['{}']", v.dir.display()), "summary=True"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(c.json["passed"], false);
    assert_eq!(c.json["fail_on"], "error");
    assert_eq!(c.json["summary"]["broken"], 1);
    assert_eq!(c.json["findings"][0]["id"], "broken-interpreter");
    assert_eq!(c.json["findings"][0]["venv"], v.broken());

    // query: specifiers as positional arguments, a match is a result too
    let c = minion.call(&["venvaudit.query", "pip>=20", "django<4.2.16", &format!("paths={}", v.ok())]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(c.json["matched"], true, "{}", c.json);
    let m = c.json["matches"].as_array().unwrap();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["venv"], v.ok());
    assert_eq!(m[0]["spec"], "pip>=20");

    // bad arguments: the binary's message, naming the key
    let c = minion.call(&["venvaudit.facts", &v.ok(), "max_depht=2"]);
    assert_ne!(c.code, 0);
    assert!(
        c.stderr.contains("unsupported parameter: max_depht") && c.stderr.contains("max_depth"),
        "unclear error: {}",
        c.stderr
    );

    // the state, every case in one run
    let sls = format!(
        r#"healthy:
  venvaudit.compatible:
    - name: {ok}
broken:
  venvaudit.compatible:
    - name: {broken}
glob:
  venvaudit.compatible:
    - name: {dir}/*
broken-report-only:
  venvaudit.compatible:
    - name: {broken}
    - fail_on: never
no-match:
  venvaudit.compatible:
    - name: {dir}/nothing-*
no-venv:
  venvaudit.compatible:
    - name: {dir}/missing
bad-argument:
  venvaudit.compatible:
    - name: {ok}
    - fail_onn: warning
bad-value:
  venvaudit.compatible:
    - name: {ok}
    - fail_on: sometimes
unknown-family:
  venvaudit.compatible:
    - name: {ok}
    - checks: [interpreter, bogus]
forbid-string:
  venvaudit.compatible:
    - name: {ok}
    - forbid: django<1.0
after-broken:
  test.succeed_without_changes:
    - require:
      - venvaudit: broken
query-no-match:
  module.run:
    - venvaudit.query:
      - django<4.2.16
      - paths: [{dir}]
query-docs:
  module.run:
    - sys.doc:
      - venvaudit
    - sys.state_doc:
      - venvaudit
"#,
        ok = v.ok(),
        broken = v.broken(),
        dir = v.dir.display()
    );
    std::fs::write(dir.join("states/gatetest.sls"), sls).unwrap();

    let (c, real) = minion.apply(&["gatetest"]);
    assert_ne!(c.code, 0);
    let (_, test) = minion.apply(&["gatetest", "test=True"]);
    for states in [&real, &test] {
        for (id, s) in states.iter() {
            if id.starts_with("query") {
                continue;
            }
            assert_eq!(s["changes"], serde_json::json!({}), "{id} reports changes");
        }
        assert_eq!(result(states, "healthy"), true, "{}", comment(states, "healthy"));
        assert_eq!(result(states, "broken"), false);
        let b = comment(states, "broken");
        assert!(
            b.contains("FAIL")
                && b.contains("broken-interpreter")
                && b.contains(&v.broken())
                && b.contains("no longer exists"),
            "unclear comment: {b}"
        );
        assert_eq!(result(states, "glob"), false);
        assert!(
            comment(states, "glob").contains(&format!("Checked: {}, {}", v.broken(), v.ok())),
            "{}",
            comment(states, "glob")
        );
        assert_eq!(result(states, "broken-report-only"), true);
        assert!(comment(states, "broken-report-only").contains("Other findings:\n- broken-interpreter"));
        assert_eq!(result(states, "no-match"), false);
        assert!(comment(states, "no-match").contains("matches no path"), "{}", comment(states, "no-match"));
        assert_eq!(result(states, "no-venv"), false);
        assert!(comment(states, "no-venv").contains("no Python environment found"), "{}", comment(states, "no-venv"));
        assert_eq!(result(states, "bad-argument"), false);
        assert!(
            comment(states, "bad-argument").contains("unsupported parameter: fail_onn"),
            "{}",
            comment(states, "bad-argument")
        );
        assert_eq!(result(states, "bad-value"), false);
        assert!(comment(states, "bad-value").contains("fail_on"), "{}", comment(states, "bad-value"));
        assert_eq!(result(states, "unknown-family"), false);
        assert!(comment(states, "unknown-family").contains("bogus"), "{}", comment(states, "unknown-family"));
        // a single specifier string is sent as a list (nothing installed matches it)
        assert_eq!(result(states, "forbid-string"), true, "{}", comment(states, "forbid-string"));
        assert_eq!(result(states, "after-broken"), false);
    }
    // test=True gives the real verdict on every gate, never None
    for (id, s) in &real {
        if id.starts_with("query") || id == "after-broken" {
            continue;
        }
        assert_eq!(s["result"], test[id]["result"], "{id}: test=True verdict differs");
        assert_eq!(s["comment"], test[id]["comment"], "{id}: test=True comment differs");
    }
    let q = &real["query-no-match"];
    assert_eq!(q["result"], true, "{q}");
    assert_eq!(q["changes"]["venvaudit.query"]["matched"], false, "{q}");
    assert_eq!(q["changes"]["venvaudit.query"]["matches"], serde_json::json!([]), "{q}");
    // `salt '*' sys.doc venvaudit` shows each function with its CLI examples
    let docs = &real["query-docs"]["changes"];
    for f in ["facts", "check", "query"] {
        let doc =
            docs["sys.doc"][format!("venvaudit.{f}")].as_str().unwrap_or_else(|| panic!("no doc for {f}: {docs}"));
        assert!(doc.contains("CLI Example") && doc.contains(&format!("salt '*' venvaudit.{f}")), "{f}: {doc}");
    }
    let state_doc = docs["sys.state_doc"]["venvaudit.compatible"].as_str().unwrap_or_default();
    assert!(state_doc.contains("fail_on") && state_doc.contains("glob"), "{docs}");
}

/// The grain's time bound and failure modes, by loading salt/_grains/venvaudit.py into a
/// plain Python with `__opts__` set as Salt's loader would (it needs only the stdlib): a
/// salt-call per case would cost seconds each.
#[test]
#[ignore = "real-tool tier: pyenv venvs, salt-call (scripts/test.sh runs it)"]
fn grain_time_bound_and_failures() {
    let dir = scratch("grain");
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let script = r#"
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("venvaudit_grain", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
out = []
for opts in json.loads(sys.argv[2]):
    mod.__opts__ = opts
    out.append(mod.venvaudit())
print(json.dumps(out))
"#;
    let r = root.display().to_string();
    let cases = serde_json::json!([
        {"venvaudit.binary": BIN, "venvaudit_grains_roots": [r], "venvaudit_grains_timeout": 0.000001},
        {"venvaudit.binary": dir.join("nope").display().to_string(), "venvaudit_grains_roots": [r]},
        {"venvaudit.binary": BIN, "venvaudit_grains": false},
        {"venvaudit.binary": BIN, "venvaudit_grains_roots": r},
        {"venvaudit.binary": BIN, "venvaudit_grains_roots": [dir.join("missing").display().to_string()]},
    ]);
    let out = run(Command::new(pyenv_python().join("bin/python3.12"))
        .arg("-c")
        .arg(script)
        .arg(format!("{REPO}/salt/_grains/venvaudit.py"))
        .arg(cases.to_string()));
    assert!(out.status.success(), "grain raised: {}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let timed_out = &got[0]["venvaudit"];
    assert_eq!(timed_out["timed_out"], true, "{timed_out}");
    assert!(timed_out["error"].as_str().unwrap().contains("venvaudit_grains_timeout"), "{timed_out}");
    assert!(got[1]["venvaudit"]["error"].as_str().unwrap().contains("binary not found"), "{}", got[1]);
    assert_eq!(got[2], serde_json::json!({}));
    let empty = &got[3]["venvaudit"];
    assert_eq!(empty["venvs"], 0, "{empty}");
    assert_eq!(empty["roots"], serde_json::json!([r]), "a single root given as a string: {empty}");
    assert!(empty.get("error").is_none(), "{empty}");
    assert_eq!(got[4]["venvaudit"]["roots"], serde_json::json!([]), "{}", got[4]);
    assert_eq!(got[4]["venvaudit"]["venvs"], 0, "{}", got[4]);
}

/// Scope through Salt: with an Apache configuration (the test's own, under `config_root`)
/// that loads Debian's mod_wsgi (Python 3.11) and names the broken 3.12 venv and a venv that
/// is gone, `venvaudit.compatible name=<healthy venv>` and `venvaudit.check` of it pass; the
/// same gate on the directory holding both reports the configured problems.
#[test]
#[ignore = "real-tool tier: pyenv venvs, salt-call (scripts/test.sh runs it)"]
fn a_gate_judges_only_the_venvs_it_names() {
    const DEBIAN_MOD_WSGI: &str = "/usr/lib/apache2/modules/mod_wsgi.so";
    assert!(Path::new(DEBIAN_MOD_WSGI).exists(), "libapache2-mod-wsgi-py3 is not installed: run scripts/setup.sh");
    let v = venvs();
    let dir = scratch("scope");
    let config = dir.join("config");
    let apache = config.join("etc/apache2");
    std::fs::create_dir_all(&apache).unwrap();
    let gone = v.dir.join("gone/venv").display().to_string();
    std::fs::write(
        apache.join("apache2.conf"),
        format!(
            "LoadModule wsgi_module {DEBIAN_MOD_WSGI}\nWSGIDaemonProcess b python-home={}\nWSGIDaemonProcess g python-home={gone}\n",
            v.broken()
        ),
    )
    .unwrap();
    let minion = Minion::new(&dir, &format!("venvaudit.binary: {BIN}\n"));
    minion.sync();

    let cfg = config.display().to_string();
    let c = minion.call(&["venvaudit.check", &v.ok(), &format!("config_root={cfg}"), "no_processes=True"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(c.json["passed"], true, "{}", c.json);
    assert_eq!(c.json["findings"], serde_json::json!([]), "{}", c.json);

    let sls = format!(
        "healthy:\n  venvaudit.compatible:\n    - name: {ok}\n    - config_root: {cfg}\n\
         everything:\n  venvaudit.compatible:\n    - name: {all}\n    - config_root: {cfg}\n    - checks: [mod-wsgi]\n",
        ok = v.ok(),
        all = v.dir.display(),
    );
    std::fs::write(dir.join("states/scopetest.sls"), sls).unwrap();
    let (_, states) = minion.apply(&["scopetest"]);
    assert_eq!(result(&states, "healthy"), true, "{}", comment(&states, "healthy"));
    assert_eq!(result(&states, "everything"), false);
    let all = comment(&states, "everything");
    assert!(
        all.contains(&format!("mod-wsgi-abi-mismatch [error] {}", v.broken()))
            && all.contains(&format!("mod-wsgi-venv-missing [error] {gone}")),
        "{all}"
    );
}
