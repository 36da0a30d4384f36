//! The Salt execution module, grain and state (salt/ file root) driven by a real masterless
//! `salt-call --local` against real venvs: a healthy one made by pyenv's CPython 3.12 and a
//! broken one whose base interpreter (a hard-linked copy of that CPython) was deleted.
//!
//! Each salt-call costs one to three seconds, so the calls are batched: one `state.apply` of
//! a generated sls exercises every state case, and the two tests (install + deploy gate; the
//! functions, grain and state) run in parallel with their own minion config dirs.
//!
//! salt-call is found at `$VENVAUDIT_SALT_CALL`, else `.tools/venv/bin/salt-call` (made by
//! scripts/setup.sh), else on PATH.

mod support;
#[path = "support/wheel.rs"]
mod wheel;

#[path = "support/salt.rs"]
mod salt_support;

use salt_support::{Call, Minion, by_id, salt_call_path};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use wheel::make_wheelhouse;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_venvaudit");

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
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
        let base = support::pyenv_prefix("3.12");
        let python = base.join("bin/python3.12");
        assert!(python.exists(), "{} missing: the tests need pyenv's CPython 3.12.1", python.display());
        support::check(Command::new(&python).args(["-m", "venv"]).arg(dir.join("ok")));
        support::make_broken_venv(&scratch("python-copy"), "3.12", &dir.join("broken"));
        Venvs { dir }
    })
}

impl Minion {
    fn call(&self, args: &[&str]) -> Call {
        self.salt_call(&mut Command::new(salt_call_path()), args)
    }

    /// `state.apply` and the results keyed by state id.
    fn apply(&self, args: &[&str]) -> (Call, BTreeMap<String, Value>) {
        let mut full = vec!["state.apply"];
        full.extend_from_slice(args);
        let call = self.call(&full);
        let states = by_id(&call);
        (call, states)
    }

    fn sync(&self) {
        self.sync_with(&mut Command::new(salt_call_path()), &["modules", "states", "grains"]);
    }
}

fn comment(states: &BTreeMap<String, Value>, id: &str) -> String {
    states[id]["comment"].as_str().unwrap_or_default().to_owned()
}

fn result(states: &BTreeMap<String, Value>, id: &str) -> Value {
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
    let arch = String::from_utf8(run(Command::new("uname").arg("-m")).stdout).unwrap().trim().to_owned();
    // First only a binary for another architecture: init.sls fails, naming both.
    std::fs::copy(BIN, files.join("venvaudit-linux-pretend-arch")).unwrap();
    let app = dir.join("app");

    minion.sync();

    let (c, states) = minion.apply(&["venvaudit"]);
    assert_ne!(c.code, 0, "no binary for this cpuarch must fail: {states:?}");
    assert_eq!(result(&states, "venvaudit-binary"), false);
    let named = format!(
        "no venvaudit binary for this minion's cpuarch {arch} in salt://venvaudit/files/ (shipped: pretend-arch)"
    );
    assert_eq!(states["venvaudit-binary"]["name"], named.as_str(), "{states:?}");
    assert!(!installed.exists());

    // The binary for this cpuarch, with its checksum (a wrong one would fail file.managed).
    std::fs::copy(BIN, files.join(format!("venvaudit-linux-{arch}"))).unwrap();
    let sums = run(Command::new("sha256sum")
        .args([format!("venvaudit-linux-{arch}"), "venvaudit-linux-pretend-arch".to_owned()])
        .current_dir(&files));
    std::fs::write(files.join("SHA256SUMS"), &sums.stdout).unwrap();

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
    let minion = Minion::new(&dir, &format!("venvaudit.binary: {BIN}\n"));
    minion.sync();

    // grain: static facts about the binary only
    let c = minion.call(&["grains.item", "venvaudit"]);
    let g = &c.json["venvaudit"];
    assert_eq!(g, &serde_json::json!({"installed": true, "binary": BIN, "version": env!("CARGO_PKG_VERSION")}), "{g}");

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
    for f in ["facts", "check", "check_artifact", "query"] {
        let doc =
            docs["sys.doc"][format!("venvaudit.{f}")].as_str().unwrap_or_else(|| panic!("no doc for {f}: {docs}"));
        assert!(doc.contains("CLI Example") && doc.contains(&format!("salt '*' venvaudit.{f}")), "{f}: {doc}");
    }
    let state_doc = docs["sys.state_doc"]["venvaudit.compatible"].as_str().unwrap_or_default();
    assert!(state_doc.contains("fail_on") && state_doc.contains("glob") && state_doc.contains("lock"), "{docs}");
    let state_doc = docs["sys.state_doc"]["venvaudit.artifact_compatible"].as_str().unwrap_or_default();
    assert!(state_doc.contains("find_links") && state_doc.contains("venv"), "{docs}");
}

/// The grain is static and cheap: it runs the binary once, as `venvaudit --version`, and
/// never scans (a stand-in binary logs its arguments). Loaded into a plain Python with
/// `__opts__` set as Salt's loader would (it needs only the stdlib): a salt-call per case
/// would cost seconds each.
#[test]
#[ignore = "real-tool tier: salt's Python (scripts/test.sh runs it)"]
fn grain_is_static_and_never_scans() {
    let dir = scratch("grain");
    let log = dir.join("calls.log");
    let fake = dir.join("venvaudit");
    std::fs::write(&fake, format!("#!/bin/sh\necho \"$@\" >> '{}'\necho 'venvaudit 9.9.9'\n", log.display())).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
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
    let fake_s = fake.display().to_string();
    let cases = serde_json::json!([
        {"venvaudit.binary": fake_s},
        {"venvaudit.binary": dir.join("nope").display().to_string()},
        {"venvaudit.binary": fake_s, "venvaudit_grains": false},
        {"venvaudit": {"binary": BIN}},
    ]);
    let out = run(Command::new(support::pyenv_prefix("3.12").join("bin/python3.12"))
        .arg("-c")
        .arg(script)
        .arg(format!("{REPO}/salt/_grains/venvaudit.py"))
        .arg(cases.to_string()));
    assert!(out.status.success(), "grain raised: {}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got[0], serde_json::json!({"venvaudit": {"installed": true, "binary": fake_s, "version": "9.9.9"}}));
    assert_eq!(got[1], serde_json::json!({"venvaudit": {"installed": false}}));
    assert_eq!(got[2], serde_json::json!({}));
    assert_eq!(got[3]["venvaudit"]["version"], env!("CARGO_PKG_VERSION"), "{}", got[3]);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "--version\n",
        "the grain ran the binary for more than its version"
    );
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

// ------------------------------------------------------------- artefact gate and the deploy recipe

/// The distributions pip sees in `venv`, normalised (ground truth).
fn pip_names(venv: &Path) -> std::collections::BTreeSet<(String, String)> {
    support::pip_list_normalized(venv)
}

/// A minion for salt/deploy_wheelhouse.sls: the module finds the binary from the minion config;
/// `venvaudit/init.sls` is shadowed (the test's states come first in file_roots) by a
/// `venvaudit-binary` that only asserts the binary exists (installing it is tested by
/// install_binary_and_gate_a_deploy). The good and bad wheelhouses are served from
/// salt://app/wheelhouses/{good,bad}; the app's venv (pyenv 3.12, with pip) is `dir/app/venv`.
fn wheelhouse_minion(dir: &Path) -> (Minion, PathBuf) {
    let minion = Minion::with_binary(dir);
    let states = dir.join("states");
    make_wheelhouse(&states.join("app/wheelhouses/good"), &["six-1.17.0-", "idna-3.20-", "pyyaml-6.0.4-cp312-"], false);
    make_wheelhouse(&states.join("app/wheelhouses/bad"), &["six-1.17.0-", "idna-3.20-"], true);
    let app = dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    let python = support::pyenv("3.12");
    support::check(Command::new(&python).args(["-m", "venv"]).arg(app.join("venv")));
    minion.sync();
    (minion, app)
}

fn deploy_pillar(app: &Path, wheelhouse: &str) -> String {
    let pillar = serde_json::json!({"app": {
        "root": app,
        "release": format!("r-{wheelhouse}"),
        "wheelhouse_source": format!("salt://app/wheelhouses/{wheelhouse}"),
        "restart_command": format!("touch {}/restarted", app.display()),
    }});
    format!("pillar={pillar}")
}

/// The recipe through Salt: salt/deploy_wheelhouse.sls copies a good wheelhouse (two pure
/// wheels and PyYAML's cp312 binary wheel) from the master, `venvaudit.artifact_compatible`
/// passes it against the real venv, real pip installs it offline, the app restarts and
/// `venvaudit.compatible` with `lock` passes; `venvaudit.check` with a lock pinning another six
/// then names the drift.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, salt-call (scripts/test.sh runs it)"]
fn artifact_compatible_lets_the_wheelhouse_deploy_install_and_match_its_lock() {
    let dir = scratch("artifact-good");
    let (minion, app) = wheelhouse_minion(&dir);
    let venv = app.join("venv");
    let before = pip_names(&venv);
    let (c, states) = minion.apply(&["deploy_wheelhouse", &deploy_pillar(&app, "good")]);
    assert_eq!(c.code, 0, "the deploy failed: {states:#?}");
    for id in ["app-wheelhouse", "app-wheelhouse-gate", "app-install", "app-restart", "app-venv-is-the-lock"] {
        assert_eq!(result(&states, id), true, "{id}: {}", comment(&states, id));
    }
    let gate = comment(&states, "app-wheelhouse-gate");
    let lock = app.join("wheelhouses/r-good/requirements.txt");
    assert!(
        gate.starts_with(&format!(
            "1 artefact(s) pass the venvaudit gate for CPython {} (venv)",
            support::pyenv_prefix("3.12").file_name().unwrap().to_string_lossy()
        )),
        "{gate}"
    );
    assert!(gate.contains("0 error(s)") && gate.contains("3 wheel(s) selected"), "{gate}");
    assert!(gate.contains(&format!("Checked: {}", lock.display())), "{gate}");
    assert!(gate.contains(&format!("In {}: installs ", venv.display())) && gate.contains("six==1.17.0"), "{gate}");
    assert_eq!(states["app-wheelhouse-gate"]["changes"], serde_json::json!({}));

    let added: std::collections::BTreeSet<(String, String)> = pip_names(&venv).difference(&before).cloned().collect();
    let want: std::collections::BTreeSet<(String, String)> = [("idna", "3.20"), ("pyyaml", "6.0.4"), ("six", "1.17.0")]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(added, want, "pip list after the deploy");
    assert!(app.join("restarted").exists());
    let drift = comment(&states, "app-venv-is-the-lock");
    assert!(drift.starts_with("1 environment(s) pass") && !drift.contains("lock-drift"), "{drift}");

    // The `lock` key reaches the binary: another six in the lock is a lock-drift error.
    let other = dir.join("other/requirements.txt");
    support::write(&other, std::fs::read_to_string(&lock).unwrap().replace("six==1.17.0", "six==1.16.0"));
    let c = minion.call(&["venvaudit.check", &venv.display().to_string(), &format!("lock={}", other.display())]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(c.json["passed"], false, "{}", c.json);
    let f = c.json["findings"].as_array().unwrap().iter().find(|f| f["id"] == "lock-drift").cloned();
    let f = f.unwrap_or_else(|| panic!("no lock-drift: {}", c.json));
    assert_eq!(
        f["details"]["version"],
        serde_json::json!([{"name": "six", "locked": "1.16.0", "installed": "1.17.0"}])
    );
}

/// A wheelhouse whose lock pins six with another file's hash: the gate fails with
/// `artifact-hash-mismatch`, pip never runs (requisite failed), nothing is restarted and the
/// venv has no new distribution.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, salt-call (scripts/test.sh runs it)"]
fn artifact_compatible_stops_the_wheelhouse_deploy_on_a_hash_mismatch() {
    let dir = scratch("artifact-bad");
    let (minion, app) = wheelhouse_minion(&dir);
    let venv = app.join("venv");
    let before = pip_names(&venv);
    let (c, states) = minion.apply(&["deploy_wheelhouse", &deploy_pillar(&app, "bad")]);
    assert_ne!(c.code, 0, "a failed gate must fail the run: {states:#?}");
    assert_eq!(result(&states, "app-wheelhouse"), true, "{}", comment(&states, "app-wheelhouse"));
    assert!(app.join("wheelhouses/r-bad/requirements.txt").exists());
    assert_eq!(result(&states, "app-wheelhouse-gate"), false);
    let gate = comment(&states, "app-wheelhouse-gate");
    assert!(gate.contains("FAIL the venvaudit gate") && gate.contains("- artifact-hash-mismatch [error] "), "{gate}");
    assert!(gate.contains("(six): "), "the mismatch names six: {gate}");
    for id in ["app-install", "app-restart", "app-venv-is-the-lock"] {
        assert_eq!(result(&states, id), false, "{id} ran past a failed gate: {:?}", states[id]);
        assert!(comment(&states, id).contains("requisite failed"), "{id}: {}", comment(&states, id));
        assert_eq!(states[id]["changes"], serde_json::json!({}), "{id}");
    }
    assert_eq!(pip_names(&venv), before, "pip list changed although the gate failed");
    let sp = support::site_packages(&venv).unwrap();
    assert!(!sp.join("six.py").exists(), "six was installed into {}", sp.display());
    assert!(!app.join("restarted").exists());
}

/// `venvaudit.check_artifact` and `venvaudit.artifact_compatible` on wheelhouses on disk: a
/// cp38-only PyYAML against a 3.12 venv, positional artefacts, the `artifacts` list, globs,
/// refusals, and test=True giving the real verdict.
#[test]
#[ignore = "real-tool tier: pyenv venvs, salt-call (scripts/test.sh runs it)"]
fn artifact_compatible_and_check_artifact_cases() {
    let v = venvs();
    let dir = scratch("artifact-cases");
    let minion = Minion::new(&dir, &format!("venvaudit.binary: {BIN}\n"));
    let cp38 = make_wheelhouse(&dir.join("cp38"), &["six-1.17.0-", "PyYAML-6.0.3-cp38-"], false);
    let pure = make_wheelhouse(&dir.join("pure"), &["six-1.17.0-", "idna-3.20-"], false);
    minion.sync();

    // The function: positional artefact, find_links as a lone string, a failed gate is a result.
    let req = format!("{}/requirements.txt", cp38.display());
    let c = minion.call(&[
        "venvaudit.check_artifact",
        &req,
        &format!("find_links={}", cp38.display()),
        &format!("venv={}", v.ok()),
    ]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(c.json["passed"], false, "{}", c.json);
    assert_eq!(c.json["artifact"]["target"]["source"], "venv");
    assert_eq!(c.json["artifact"]["inputs"][0]["path"], req.as_str());
    let ids: Vec<&str> = c.json["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["artifact-no-compatible-wheel"], "{}", c.json);
    // Two targets: the binary's refusal, raised.
    let c =
        minion.call(&["venvaudit.check_artifact", &req, &format!("venv={}", v.ok()), "target_python=/usr/bin/python3"]);
    assert_ne!(c.code, 0);
    assert!(c.stderr.contains("venvaudit check-artifact: ") && c.stderr.contains("one target"), "{}", c.stderr);

    let sls = format!(
        r#"cp38-wheelhouse:
  venvaudit.artifact_compatible:
    - name: {cp38}/requirements.txt
    - find_links: {cp38}
    - venv: {ok}
pure-wheels:
  venvaudit.artifact_compatible:
    - name: {pure}/six-*.whl
    - artifacts: [{pure}/idna-*.whl]
    - venv: {ok}
cp38-accepted:
  venvaudit.artifact_compatible:
    - name: {cp38}/requirements.txt
    - find_links: [{cp38}]
    - venv: {ok}
    - ignore:
      - id: artifact-no-compatible-wheel
        package: pyyaml
        reason: a cp312 wheel is on its way
no-match:
  venvaudit.artifact_compatible:
    - name: {pure}/nothing-*.whl
with-paths:
  venvaudit.artifact_compatible:
    - name: {pure}
    - paths: [{pure}]
missing:
  venvaudit.artifact_compatible:
    - name: {pure}/gone.whl
"#,
        cp38 = cp38.display(),
        pure = pure.display(),
        ok = v.ok()
    );
    std::fs::write(dir.join("states/artifacttest.sls"), sls).unwrap();
    let (c, real) = minion.apply(&["artifacttest"]);
    assert_ne!(c.code, 0);
    let (_, test) = minion.apply(&["artifacttest", "test=True"]);
    for states in [&real, &test] {
        assert_eq!(result(states, "cp38-wheelhouse"), false);
        let bad = comment(states, "cp38-wheelhouse");
        assert!(
            bad.contains("FAIL")
                && bad.contains("- artifact-no-compatible-wheel [error] ")
                && bad.to_lowercase().contains("(pyyaml)"),
            "{bad}"
        );
        assert!(bad.contains("Selected: six==1.17.0 (py3-none-any)"), "{bad}");
        assert_eq!(result(states, "pure-wheels"), true, "{}", comment(states, "pure-wheels"));
        let pure_c = comment(states, "pure-wheels");
        assert!(pure_c.starts_with("2 artefact(s) pass") && pure_c.contains("2 wheel(s) selected"), "{pure_c}");
        assert_eq!(result(states, "cp38-accepted"), true, "{}", comment(states, "cp38-accepted"));
        assert!(comment(states, "cp38-accepted").contains("1 ignored"), "{}", comment(states, "cp38-accepted"));
        assert_eq!(result(states, "no-match"), false);
        assert!(comment(states, "no-match").contains("matches no path"), "{}", comment(states, "no-match"));
        assert_eq!(result(states, "with-paths"), false);
        assert!(comment(states, "with-paths").contains("not paths"), "{}", comment(states, "with-paths"));
        assert_eq!(result(states, "missing"), false);
        assert!(
            comment(states, "missing").contains("could not run") && comment(states, "missing").contains("gone.whl"),
            "{}",
            comment(states, "missing")
        );
        for (id, s) in states.iter() {
            assert_eq!(s["changes"], serde_json::json!({}), "{id} reports changes");
        }
    }
    for (id, s) in &real {
        assert_eq!(s["result"], test[id]["result"], "{id}: test=True verdict differs");
        assert_eq!(s["comment"], test[id]["comment"], "{id}: test=True comment differs");
    }
}

// ------------------------------------------------ the OSV database states: the CPython file

fn read_json(path: &Path) -> Value {
    let s = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn changes(states: &BTreeMap<String, Value>, id: &str) -> Value {
    assert!(states.contains_key(id), "state {id} missing from {states:?}");
    states[id]["changes"].clone()
}

fn changed(states: &BTreeMap<String, Value>, id: &str) -> bool {
    changes(states, id).as_object().is_some_and(|c| !c.is_empty())
}

/// The master builds the CPython advisory file into its file roots
/// (`venvaudit/osv_db_cpython.sls`, masterless as on a master: `venvaudit db cpython` from a
/// cvelistV5-like directory of the committed PSF records plus the PSF advisories, checked and
/// loaded by venvaudit), and `venvaudit/osv_db.sls` ships only that file to the minion, validated
/// by `venvaudit check --cpython-db` (check_cmd); the installed file is what venvaudit reads (a
/// Python 3.8 venv gets its interpreter CVEs). A second build and a second apply change nothing
/// (the build's generated_at aside); a source with no CPython record fails the build with
/// venvaudit's reason and replaces nothing; a broken file on the file server never replaces the
/// minion's. Without the CPython pillar keys osv_db.sls has its one PyPI state, as before.
#[test]
#[ignore = "real-tool tier: pyenv venvs, salt-call (scripts/test.sh runs it)"]
fn osv_db_states_build_the_cpython_advisory_file_on_the_master_and_ship_it() {
    let dir = scratch("osv-db-cpython");
    let minion = Minion::new(&dir, "");
    let fixtures = Path::new(REPO).join("tests/fixtures/cpython");
    let cvelist = dir.join("cvelistV5");
    std::fs::create_dir_all(&cvelist).unwrap();
    for e in std::fs::read_dir(fixtures.join("records")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), cvelist.join(e.file_name())).unwrap();
    }
    let psf = fixtures.join("psf");
    let osv_files = dir.join("states/venvaudit/files/osv");
    std::fs::create_dir_all(&osv_files).unwrap();
    wheel::tiny_pypi_zip(&osv_files.join("PyPI.zip"), "VENVAUDIT-TEST-2026-3", "test advisory of tests/salt.rs");
    // Where the build goes by default: the first file root (the master's /srv/salt).
    let served = osv_files.join("CPython.json");
    let host = dir.join("host/var/lib/venvaudit/osv");
    let dest = host.join("CPython.json");
    let id = |flag: &str| String::from_utf8(run(Command::new("id").arg(flag)).stdout).unwrap().trim().to_owned();
    let (user, group) = (id("-un"), id("-gn"));
    let pillar = |sources: Value| {
        let osv = serde_json::json!({
            "path": host.join("PyPI.zip"), "cpython_path": dest, "cpython_sources": sources,
            "user": user, "group": group, "validate": true,
        });
        format!("pillar={}", serde_json::json!({"venvaudit": {"binary": BIN, "osv_db": osv}}))
    };
    let both = serde_json::json!([cvelist, psf]);
    const BUILD: &str = "venvaudit-cpython-db-build";
    const SHIP: &str = "venvaudit-cpython-db";

    // 0. No CPython keys: osv_db.sls is the PyPI state alone.
    let plain = serde_json::json!({"venvaudit": {"osv_db": {"path": dir.join("plain/PyPI.zip"), "user": user, "group": group}}});
    let (c, states) = minion.apply(&["venvaudit.osv_db", &format!("pillar={plain}")]);
    assert_eq!(c.code, 0, "{states:?}");
    assert_eq!(states.keys().collect::<Vec<_>>(), ["venvaudit-osv-db"], "{states:?}");

    // On the master without sources: a failure that says which pillar key is missing.
    let (c, states) = minion.apply(&["venvaudit.osv_db_cpython", &format!("pillar={plain}")]);
    assert_ne!(c.code, 0);
    assert_eq!(result(&states, BUILD), false);
    assert!(comment(&states, BUILD).contains("cpython_sources is empty"), "{}", comment(&states, BUILD));

    // test=True builds and compares, writes nothing.
    let (c, states) = minion.apply(&["venvaudit.osv_db_cpython", &pillar(both.clone()), "test=True"]);
    assert_eq!(c.code, 0, "{states:?}\n{}", c.stderr);
    assert_eq!(result(&states, BUILD), Value::Null, "{states:?}");
    assert!(comment(&states, BUILD).contains("would be created"), "{}", comment(&states, BUILD));
    assert!(!served.exists(), "test=True wrote the file");

    // 1. On the master: built into the file roots.
    let (c, states) = minion.apply(&["venvaudit.osv_db_cpython", &pillar(both.clone())]);
    assert_eq!(c.code, 0, "{states:?}\n{}", c.stderr);
    assert_eq!(result(&states, BUILD), true, "{}", comment(&states, BUILD));
    assert!(changed(&states, BUILD), "{states:?}");
    assert!(comment(&states, BUILD).contains("created (14 advisories from"), "{}", comment(&states, BUILD));
    let built = read_json(&served);
    assert_eq!(built["format"], "venvaudit-cpython-advisories");
    assert!(built["advisories"].as_array().unwrap().len() > 10);
    assert_eq!(built["sources"].as_array().unwrap().len(), 2, "{}", built["sources"]);
    let leftovers: Vec<_> = std::fs::read_dir(&osv_files)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left in the file roots: {leftovers:?}");

    // 2. On the minion: shipped, validated by venvaudit.
    let (c, states) = minion.apply(&["venvaudit.osv_db", &pillar(both.clone())]);
    assert_eq!(c.code, 0, "{states:?}\n{}", c.stderr);
    assert_eq!(result(&states, SHIP), true, "{}", comment(&states, SHIP));
    assert!(changed(&states, SHIP), "{states:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(&served).unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o7777, 0o644);

    // What the minion got is what venvaudit reads: Python 3.8's interpreter CVEs.
    let venv38 = dir.join("py38");
    support::make_bare_venv(&support::pyenv("3.8"), &venv38);
    let out = run(Command::new(BIN)
        .args(["check", "--format", "json", "--check", "vulnerabilities", "--fail-on", "never", "--no-processes"])
        .arg("--osv-db")
        .arg(host.join("PyPI.zip"))
        .arg("--cpython-db")
        .arg(&dest)
        .arg(&venv38));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "interpreter-vulnerability")
        .filter_map(|f| f["details"]["advisory"].as_str())
        .collect();
    assert!(found.len() > 10 && found.contains(&"CVE-2025-4517"), "{found:?}");
    let installed = std::fs::read(&dest).unwrap();
    let served_mtime = std::fs::metadata(&served).unwrap().modified().unwrap();

    // 3. Both again: no change (a new build, a new generated_at, the same advisories).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (c, states) = minion.apply(&["venvaudit.osv_db_cpython", &pillar(both.clone())]);
    assert_eq!((c.code, result(&states, BUILD)), (0, Value::Bool(true)), "{states:?}");
    assert_eq!(changes(&states, BUILD), serde_json::json!({}), "second build changed something: {states:?}");
    assert!(comment(&states, BUILD).contains("is up to date"), "{}", comment(&states, BUILD));
    assert_eq!(std::fs::metadata(&served).unwrap().modified().unwrap(), served_mtime, "the served file was rewritten");
    let (c, states) = minion.apply(&["venvaudit.osv_db", &pillar(both.clone())]);
    assert_eq!(c.code, 0, "{states:?}");
    for s in ["venvaudit-osv-db", SHIP] {
        assert_eq!(changes(&states, s), serde_json::json!({}), "second apply changed {s}: {states:?}");
    }

    // 4. A source with no CPython record: the build fails with venvaudit's reason; the served
    //    file, and so the minion's, stay as they were.
    let other = dir.join("not-cpython");
    std::fs::create_dir_all(&other).unwrap();
    let mut record = read_json(&cvelist.join("CVE-2024-7592.json"));
    record["cveMetadata"]["assignerShortName"] = "other".into();
    for a in record["containers"]["cna"]["affected"].as_array_mut().unwrap() {
        a["vendor"] = "Someone Else".into();
        a["product"] = "NotPython".into();
    }
    std::fs::write(other.join("CVE-2024-7592.json"), record.to_string()).unwrap();
    let before = std::fs::read(&served).unwrap();
    let (c, states) = minion.apply(&["venvaudit.osv_db_cpython", &pillar(serde_json::json!([other]))]);
    assert_ne!(c.code, 0, "a source without CPython records was accepted: {states:?}");
    assert_eq!(result(&states, BUILD), false);
    let why = comment(&states, BUILD);
    assert!(
        why.contains("could not build the CPython advisory file") && why.contains("no CPython CVE record"),
        "unclear comment: {why}"
    );
    assert_eq!(std::fs::read(&served).unwrap(), before, "the served file was replaced");
    let (c, states) = minion.apply(&["venvaudit.osv_db", &pillar(serde_json::json!([other]))]);
    assert_eq!(c.code, 0, "{states:?}");
    assert_eq!(changes(&states, SHIP), serde_json::json!({}));
    assert_eq!(std::fs::read(&dest).unwrap(), installed);

    // 5. A broken file on the file server (cut short): venvaudit rejects it on the minion
    //    (check_cmd), which keeps its file.
    std::fs::write(&served, &before[..before.len() / 2]).unwrap();
    let (c, states) = minion.apply(&["venvaudit.osv_db", &pillar(both.clone())]);
    assert_ne!(c.code, 0, "a broken CPython file passed: {states:?}");
    assert_eq!(result(&states, SHIP), false);
    assert!(comment(&states, SHIP).contains("not a CPython advisory file"), "{}", comment(&states, SHIP));
    assert_eq!(std::fs::read(&dest).unwrap(), installed, "the broken file replaced the good one");

    // ... and the next build on the master repairs it.
    let (c, states) = minion.apply(&["venvaudit.osv_db_cpython", &pillar(both.clone())]);
    assert_eq!(c.code, 0, "{states:?}");
    assert!(comment(&states, BUILD).contains("replaced"), "{}", comment(&states, BUILD));
    assert_eq!(read_json(&served)["advisories"], built["advisories"]);
}
