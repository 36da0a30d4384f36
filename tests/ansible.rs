//! The Ansible collection venvaudit.python, tested with real ansible-core: the collection is
//! built with ansible/build.sh around this build's binary, installed with `ansible-galaxy
//! collection install` into a temporary collections path, and driven by real
//! `ansible-playbook -i localhost, -c local` runs against real virtualenvs. Plays write what
//! they registered to JSON files (`copy: content=...`), which the tests read.
//!
//! Needs what scripts/setup.sh installs: ansible-core in the tools venv, the pyenv Pythons 3.12
//! and 3.8, and the wheels of django 3.2 and 4.2.16 in the offline wheelhouse
//! (wheelhouse-vulnerable.txt, wheelhouse-nodeps.txt).
//!
//! The zig-built release binary is not used here (a stripped debug build is the module); its
//! glibc floor is checked by tests/ansible_glibc.rs.

#[path = "support/ansible.rs"]
mod ansible_support;
mod support;
#[path = "support/wheel.rs"]
mod wheel;

use ansible_support::{
    Collection, ansible_env, assert_choices_left_to_build, assert_doc_matches_spec, install_collection, ok, read_json,
    run_play, save, test_dir, text,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use support::{Creator, check as run, make_bare_venv, make_venv, pip_install, pyenv, pyenv_prefix};
use venvaudit::ansible::{ARTIFACT_SPEC, CHECK_SPEC, FACTS_SPEC, IGNORE_SPEC};
use wheel::make_wheelhouse;

/// Everything the tests share, set up once.
struct Fixture {
    /// Scratch directory of this test run (removed at exit unless VENVAUDIT_KEEP_TEMP=1; every
    /// play's output is in t/<test>/ansible.log).
    tmp: PathBuf,
    /// bin/ of the tools venv (ansible-playbook, ansible-doc, python).
    tools: PathBuf,
    /// ANSIBLE_COLLECTIONS_PATH with venvaudit.python installed.
    collections: PathBuf,
    /// The module binary (a stripped copy of this build's venvaudit).
    module: PathBuf,
    /// Fake fleet: web1 (django 3.2), web2 (django 4.2.16), db1 (Python 3.8, no django).
    fleet: PathBuf,
    /// A directory holding one broken venv (its base interpreter was deleted).
    broken: PathBuf,
    /// Full version of the pyenv 3.12 and 3.8 Pythons, as venvaudit reports them.
    py312: String,
    py38: String,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `uname -m` of this machine: the architecture the collection's binary is built for here.
fn host_arch() -> String {
    String::from_utf8(run(Command::new("uname").arg("-m")).stdout).unwrap().trim().to_owned()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(setup)
}

fn version_of(prefix: &str) -> String {
    pyenv_prefix(prefix).file_name().unwrap().to_string_lossy().into_owned()
}

fn setup() -> Fixture {
    let Collection { tmp, tools, collections, module } = install_collection();
    // One binary per architecture; the action plugins run the one for the target's machine.
    assert!(
        collections
            .join(format!("ansible_collections/venvaudit/python/files/venvaudit-linux-{}", host_arch()))
            .exists()
    );
    assert!(collections.join("ansible_collections/venvaudit/python/plugins/action/venv_facts.py").exists());

    // Real venvs with real wheels (and their dependencies) from the offline wheelhouse; web1
    // is the healthy venv the gate must pass.
    let fleet = tmp.join("fleet");
    let web1 = fleet.join("web1/srv/app/venv");
    std::fs::create_dir_all(web1.parent().unwrap()).unwrap();
    make_venv(Creator::Venv, &pyenv("3.12"), &web1);
    pip_install(&web1, &["django==3.2"]);
    let web2 = fleet.join("web2/srv/app/venv");
    std::fs::create_dir_all(web2.parent().unwrap()).unwrap();
    make_bare_venv(&pyenv("3.12"), &web2);
    pip_install(&web2, &["django==4.2.16"]);
    let db1 = fleet.join("db1/opt/tool/venv");
    std::fs::create_dir_all(db1.parent().unwrap()).unwrap();
    make_bare_venv(&pyenv("3.8"), &db1);

    let broken = tmp.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    support::make_broken_venv(&tmp, "3.12", &broken.join("venv"));

    Fixture { tmp, tools, collections, module, fleet, broken, py312: version_of("3.12"), py38: version_of("3.8") }
}

impl Fixture {
    /// A fresh directory for one test.
    fn dir(&self, name: &str) -> PathBuf {
        test_dir(&self.tmp, name)
    }

    /// An empty configuration root: no systemd, supervisor, cron, Apache or uWSGI files.
    fn no_config(&self) -> PathBuf {
        let d = self.tmp.join("no-config");
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// ansible-playbook with the collection installed and this test's environment.
    fn ansible(&self, tool: &str, cwd: &Path) -> Command {
        let mut cmd = Command::new(self.tools.join(tool));
        ansible_env(cmd.current_dir(cwd), &self.collections, &self.tmp).env("ANSIBLE_HOST_KEY_CHECKING", "0");
        cmd
    }

    /// Write `play` to DIR/play.yml and run it on localhost. `vars` are passed as extra vars
    /// (`out` is always DIR, where plays write their results).
    fn play(&self, dir: &Path, play: &str, vars: Value, args: &[&str]) -> Output {
        self.play_env(dir, play, vars, args, &[])
    }

    /// [`Fixture::play`] with more environment variables for ansible-playbook.
    fn play_env(&self, dir: &Path, play: &str, vars: Value, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
        std::fs::write(dir.join("play.yml"), play).unwrap();
        let mut extra = json!({"out": dir, "ansible_python_interpreter": self.tools.join("python"), "config_root": self.no_config()});
        for (k, v) in vars.as_object().unwrap() {
            extra[k] = v.clone();
        }
        let mut cmd = self.ansible("ansible-playbook", dir);
        cmd.envs(env.iter().copied());
        run_play(&mut cmd, &extra, args, "play.yml", &dir.join("ansible.log"))
    }
}

/// A play on localhost. Every venvaudit task reads its service and web server configuration
/// under `config_root` (an empty directory unless a test passes its own), never the host's.
fn play_of(tasks: &str) -> String {
    let defaults = ["venvaudit.python.venv_facts", "venvaudit.python.venv_check"]
        .map(|m| format!("    {m}:\n      config_root: \"{{{{ config_root }}}}\"\n"))
        .concat();
    format!("- hosts: localhost\n  gather_facts: false\n  module_defaults:\n{defaults}  tasks:\n{tasks}")
}

fn first_venv(report: &Value) -> &Value {
    &report["venvs"][0]
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn facts_land_in_hostvars_with_the_right_packages() {
    let f = fixture();
    let dir = f.dir("facts");
    let tasks = [
        "    - venvaudit.python.venv_facts:\n        paths: [\"{{ web1 }}\"]\n      register: r\n".to_owned(),
        save("r", "result"),
        save("hostvars['localhost']['ansible_facts']['venvaudit']", "hostvars"),
    ]
    .concat();
    let out = f.play(&dir, &play_of(&tasks), json!({"web1": f.fleet.join("web1")}), &[]);
    ok(&out);
    let r = read_json(&dir.join("result.json"));
    assert_eq!(r["changed"], json!(false));
    assert_eq!(r["failed"], json!(false));
    let facts = read_json(&dir.join("hostvars.json"));
    assert_eq!(facts, r["ansible_facts"]["venvaudit"], "hostvars carry the module's fact");
    assert_eq!(facts["schema_version"], json!(1));
    let venv_path = f.fleet.join("web1/srv/app/venv");
    assert_eq!(facts["venvs"].as_array().unwrap().len(), 1);
    let v = first_venv(&facts);
    assert_eq!(v["path"], json!(venv_path));
    assert_eq!(v["python"]["version"], json!(f.py312));
    let got: BTreeSet<(String, String)> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["normalized_name"].as_str().unwrap().to_owned(), p["version"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(got, support::pip_list_normalized(&venv_path), "facts agree with pip list");
    assert!(got.contains(&("django".to_owned(), "3.2".to_owned())));
    assert_eq!(v["package_count"], json!(got.len()));
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn summary_facts_are_small() {
    let f = fixture();
    let dir = f.dir("summary");
    let tasks = [
        "    - venvaudit.python.venv_facts:\n        paths: \"{{ fleet }}\"\n        summary: true\n      register: small\n".to_owned(),
        save("small", "small"),
        "    - venvaudit.python.venv_facts:\n        paths: \"{{ fleet }}\"\n      register: full\n".to_owned(),
        save("full", "full"),
    ]
    .concat();
    ok(&f.play(&dir, &play_of(&tasks), json!({"fleet": f.fleet}), &[]));
    let small = read_json(&dir.join("small.json"))["ansible_facts"]["venvaudit"].clone();
    let full = read_json(&dir.join("full.json"))["ansible_facts"]["venvaudit"].clone();
    assert_eq!(small["summary"]["venvs"], json!(3));
    assert_eq!(small["summary"]["python_versions"], json!({"3.12": 2, "3.8": 1}));
    assert_eq!(small["summary"]["packages"], full["summary"]["packages"]);
    for v in small["venvs"].as_array().unwrap() {
        assert!(v.get("packages").is_none(), "summary has no package lists: {v}");
        assert_eq!(v["python"]["evidence"], json!({}), "summary has no evidence: {v}");
        assert!(v["package_count"].as_u64().is_some());
        assert!(v["python"]["version"].is_string());
        // Independent of how many packages the venv has: what makes it cacheable at scale.
        assert!(v.to_string().len() < 1200, "summary venv entry is {} bytes: {v}", v.to_string().len());
    }
    let small_len = small.to_string().len();
    let full_len = full.to_string().len();
    eprintln!("fact size for 3 venvs: summary {small_len} bytes, full {full_len} bytes");
    assert!(small_len < 3 * 1200 + 1000, "summary fact is {small_len} bytes for 3 venvs");
    assert!(full["venvs"].as_array().unwrap().iter().any(|v| v["packages"].as_array().is_some_and(|p| !p.is_empty())));
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn check_mode_is_supported() {
    let f = fixture();
    let dir = f.dir("check_mode");
    let tasks = [
        "    - venvaudit.python.venv_facts:\n        paths: \"{{ fleet }}\"\n      register: facts\n".to_owned(),
        save("facts", "facts"),
        "    - venvaudit.python.venv_check:\n        paths: \"{{ broken }}\"\n      register: gate\n      ignore_errors: true\n"
            .to_owned(),
        save("gate", "gate"),
    ]
    .concat();
    let out = f.play(&dir, &play_of(&tasks), json!({"fleet": f.fleet, "broken": f.broken}), &["--check"]);
    ok(&out);
    let facts = read_json(&dir.join("facts.json"));
    assert!(facts.get("skipped").is_none() || facts["skipped"] == json!(false), "{facts}");
    assert_eq!(facts["changed"], json!(false));
    assert_eq!(facts["ansible_facts"]["venvaudit"]["summary"]["venvs"], json!(3), "facts are gathered in check mode");
    let gate = read_json(&dir.join("gate.json"));
    assert_eq!(gate["failed"], json!(true), "the gate still fails in check mode: {gate}");
    assert_eq!(gate["changed"], json!(false));
    assert_eq!(gate["counts"]["error"], json!(1));
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn venv_check_gates_on_a_broken_venv() {
    let f = fixture();
    let dir = f.dir("gate");
    let broken_venv = f.broken.join("venv");
    let tasks = [
        "    - venvaudit.python.venv_check:\n        paths: \"{{ broken }}\"\n      register: bad\n      ignore_errors: true\n".to_owned(),
        save("bad", "bad"),
        "    - venvaudit.python.venv_check:\n        paths: \"{{ healthy }}\"\n      register: good\n".to_owned(),
        save("good", "good"),
        "    - venvaudit.python.venv_check:\n        paths: \"{{ broken }}\"\n        fail_on: never\n      register: never\n".to_owned(),
        save("never", "never"),
    ]
    .concat();
    let vars = json!({"broken": f.broken, "healthy": f.fleet.join("web1")});
    ok(&f.play(&dir, &play_of(&tasks), vars.clone(), &[]));

    let bad = read_json(&dir.join("bad.json"));
    assert_eq!(bad["failed"], json!(true));
    assert_eq!(bad["passed"], json!(false));
    // Other families may add warnings or infos (e.g. `unused`); the one error is the broken venv.
    assert_eq!((bad["counts"]["error"].clone(), bad["counts"]["ignored"].clone()), (json!(1), json!(0)), "{bad}");
    let msg = bad["msg"].as_str().unwrap();
    let lines: Vec<&str> = msg.lines().collect();
    let c = &bad["counts"];
    assert_eq!(
        lines[0],
        format!(
            "venv_check failed: 1 error(s), {} warning(s), {} info, 0 ignored in 1 venv(s) (fail_on: error)",
            c["warning"], c["info"]
        )
    );
    assert_eq!(lines.len(), 2, "only findings at or above fail_on are listed: {msg}");
    assert!(lines[1].starts_with(&format!("broken-interpreter {}: ", broken_venv.display())), "{msg}");
    assert_eq!(bad["findings"][0]["id"], json!("broken-interpreter"));
    assert_eq!(bad["venvs"][0]["health"], json!("error"));

    let good = read_json(&dir.join("good.json"));
    assert_eq!(good["failed"], json!(false));
    assert_eq!(good["passed"], json!(true));
    assert_eq!(good["counts"]["error"], json!(0));

    let never = read_json(&dir.join("never.json"));
    assert_eq!(never["failed"], json!(false), "fail_on: never reports without failing");
    assert_eq!(never["counts"]["error"], json!(1));

    // As a real gate: the play stops, later tasks never run, ansible-playbook exits non-zero.
    let gate = "    - venvaudit.python.venv_check:\n        paths: \"{{ broken }}\"\n    - ansible.builtin.copy:\n        dest: \"{{ out }}/deployed\"\n        content: yes\n        mode: \"0644\"\n";
    let out = f.play(&dir, &play_of(gate), vars, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!dir.join("deployed").exists(), "the task after a failed gate must not run");
    let t = text(&out);
    assert!(t.contains("broken-interpreter") && t.contains("venv_check failed"), "{t}");
}

/// The gate judges the venvs under its `paths` only: an Apache configuration (the test's own,
/// under `config_root`) that loads Debian's mod_wsgi (Python 3.11) and names the fleet's
/// Python 3.8 venv and a venv that is gone does not fail the gate on the healthy web1, and
/// is reported by a gate on the whole fleet.
#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn the_gate_judges_only_the_venvs_under_its_paths() {
    const DEBIAN_MOD_WSGI: &str = "/usr/lib/apache2/modules/mod_wsgi.so";
    assert!(Path::new(DEBIAN_MOD_WSGI).exists(), "libapache2-mod-wsgi-py3 is not installed: run scripts/setup.sh");
    let f = fixture();
    let dir = f.dir("scope");
    let config = dir.join("config");
    let db1 = f.fleet.join("db1/opt/tool/venv");
    let gone = f.fleet.join("gone/venv");
    let apache = config.join("etc/apache2");
    std::fs::create_dir_all(&apache).unwrap();
    std::fs::write(
        apache.join("apache2.conf"),
        format!(
            "LoadModule wsgi_module {DEBIAN_MOD_WSGI}\nWSGIDaemonProcess tool python-home={}\nWSGIDaemonProcess old python-home={}\n",
            db1.display(),
            gone.display()
        ),
    )
    .unwrap();
    let tasks = [
        "    - venvaudit.python.venv_check:\n        paths: \"{{ healthy }}\"\n      register: good\n".to_owned(),
        save("good", "good"),
        "    - venvaudit.python.venv_check:\n        paths: \"{{ fleet }}\"\n        checks: [mod-wsgi]\n      register: fleet_gate\n      ignore_errors: true\n".to_owned(),
        save("fleet_gate", "fleet"),
    ]
    .concat();
    let vars = json!({"healthy": f.fleet.join("web1"), "fleet": f.fleet, "config_root": config});
    ok(&f.play(&dir, &play_of(&tasks), vars, &[]));

    let good = read_json(&dir.join("good.json"));
    assert_eq!((good["failed"].clone(), good["passed"].clone()), (json!(false), json!(true)), "{good}");
    let venv = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| format!("{} {}", x["id"].as_str().unwrap(), x["venv"].as_str().unwrap_or("")))
            .collect();
        v.sort();
        v
    };
    assert!(venv(&good).iter().all(|x| x.contains("/web1/")), "findings outside the gate's paths: {good}");
    assert_eq!(good["counts"]["error"], json!(0), "{good}");

    let fleet = read_json(&dir.join("fleet.json"));
    assert_eq!(fleet["failed"], json!(true), "{fleet}");
    assert_eq!(
        venv(&fleet),
        vec![format!("mod-wsgi-abi-mismatch {}", db1.display()), format!("mod-wsgi-venv-missing {}", gone.display())],
        "{fleet}"
    );
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn permission_problems_become_warnings() {
    // Needs root to become `nobody` with su and no password (as CI and the dev machines run).
    assert!(
        support::is_root(),
        "needs root, to run the module as nobody with su (CI and the dev machines run as root)"
    );
    let f = fixture();
    let dir = f.dir("permissions");
    let scan = dir.join("scan");
    let locked = scan.join("locked");
    std::fs::create_dir_all(locked.join("inner")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    for d in [&dir, &scan] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&f.tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    let become_nobody =
        "      become: true\n      become_user: nobody\n      become_method: su\n      become_flags: \"-s /bin/sh\"\n";
    let tasks = [
        format!("    - venvaudit.python.venv_facts:\n        paths: \"{{{{ scan }}}}\"\n        processes: false\n{become_nobody}      register: r\n"),
        save("r", "r"),
        format!("    - venvaudit.python.venv_facts:\n        paths: \"{{{{ scan }}}}\"\n{become_nobody}      register: p\n"),
        save("p", "p"),
    ]
    .concat();
    let vars = json!({"scan": scan, "ansible_shell_allow_world_readable_temp": true});
    let out = f.play(&dir, &play_of(&tasks), vars, &[]);
    ok(&out);
    let r = read_json(&dir.join("r.json"));
    assert_eq!(r["failed"], json!(false), "{r}");
    let expected = format!("{}: permission denied", locked.display());
    assert_eq!(r["warnings"], json!([expected]), "{r}");
    assert_eq!(r["ansible_facts"]["venvaudit"]["errors"][0]["path"], json!(locked));
    assert!(text(&out).contains(&format!("[WARNING]: {expected}")), "{}", text(&out));
    // With the process view on, the report's own caveats (as nobody: a partial process view)
    // come first, then the unreadable paths.
    let p = read_json(&dir.join("p.json"));
    let mut want: Vec<Value> = p["ansible_facts"]["venvaudit"]["warnings"].as_array().unwrap().clone();
    want.push(json!(expected));
    assert_eq!(p["warnings"], Value::Array(want), "{p}");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn an_ignore_entry_lets_the_gate_pass() {
    let f = fixture();
    let dir = f.dir("ignore");
    let tasks = [
        "    - venvaudit.python.venv_check:\n        paths: \"{{ broken }}\"\n        ignore:\n          - id: broken-interpreter\n            venv: \"{{ broken }}/venv\"\n            reason: being rebuilt\n            until: \"2999-12-31\"\n      register: r\n".to_owned(),
        save("r", "r"),
    ]
    .concat();
    ok(&f.play(&dir, &play_of(&tasks), json!({"broken": f.broken}), &[]));
    let r = read_json(&dir.join("r.json"));
    assert_eq!(r["failed"], json!(false), "{r}");
    assert_eq!(r["passed"], json!(true));
    assert_eq!(r["counts"]["error"], json!(0));
    assert_eq!(r["counts"]["ignored"], json!(1));
    let finding = &r["findings"].as_array().unwrap().iter().find(|x| x["id"] == "broken-interpreter").unwrap().clone();
    assert!(finding["ignored"].is_object(), "{finding}");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn an_expired_ignore_entry_warns_and_stops_applying() {
    let f = fixture();
    let dir = f.dir("ignore_expired");
    let tasks = [
        "    - venvaudit.python.venv_check:\n        paths: \"{{ broken }}\"\n        ignore:\n          - id: broken-interpreter\n            reason: was being rebuilt\n            until: 2020-01-31\n      register: r\n      ignore_errors: true\n".to_owned(),
        save("r", "r"),
    ]
    .concat();
    let out = f.play(&dir, &play_of(&tasks), json!({"broken": f.broken}), &[]);
    ok(&out);
    let r = read_json(&dir.join("r.json"));
    assert_eq!(r["failed"], json!(true), "an expired entry no longer covers the finding: {r}");
    assert_eq!(r["counts"]["ignored"], json!(0));
    let expired = r["findings"].as_array().unwrap().iter().find(|x| x["id"] == "ignore-expired").cloned();
    let expired = expired.unwrap_or_else(|| panic!("no ignore-expired finding: {r}"));
    let warnings: Vec<&str> =
        r["warnings"].as_array().map(|w| w.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    assert!(warnings.contains(&expired["message"].as_str().unwrap()), "warnings {warnings:?}");
    assert!(text(&out).contains("[WARNING]"), "the warning is shown");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn bad_options_fail_the_task_with_a_clear_msg() {
    let f = fixture();
    let dir = f.dir("options");
    let cases = [
        ("unknown", "venv_facts", "pathz: /srv"),
        ("wrong_type", "venv_facts", "max_depth: deep"),
        ("bad_bool", "venv_facts", "packages: maybe"),
        ("bad_choice", "venv_check", "fail_on: fatal"),
        ("bad_family", "venv_check", "checks: [interpreter, nope]"),
        ("ignore_no_reason", "venv_check", "ignore: [{id: broken-interpreter}]"),
        (
            "converted",
            "venv_facts",
            "paths: \"{{ web1 }}, {{ web2 }}\"\n        packages: \"no\"\n        max_depth: \"6\"",
        ),
    ];
    let mut tasks = String::new();
    for (name, module, opts) in cases {
        tasks += &format!(
            "    - venvaudit.python.{module}:\n        {opts}\n      register: {name}\n      ignore_errors: true\n"
        );
        tasks += &save(name, name);
    }
    let vars = json!({"web1": f.fleet.join("web1"), "web2": f.fleet.join("web2")});
    ok(&f.play(&dir, &play_of(&tasks), vars, &[]));
    let msg = |name: &str| {
        let r = read_json(&dir.join(format!("{name}.json")));
        assert_eq!(r["failed"], json!(true), "{name}: {r}");
        r["msg"].as_str().unwrap().to_owned()
    };
    let facts_opts: Vec<&str> = {
        let mut v: Vec<&str> = FACTS_SPEC.iter().map(|o| o.name).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(
        msg("unknown"),
        format!(
            "Unsupported parameters for (venvaudit.python.venv_facts) module: pathz. Supported parameters include: {}.",
            facts_opts.join(", ")
        )
    );
    let m = msg("wrong_type");
    assert!(m.starts_with("argument 'max_depth' is of type str and we were unable to convert to int"), "{m}");
    let m = msg("bad_bool");
    assert!(m.starts_with("argument 'packages' is of type str and we were unable to convert to bool"), "{m}");
    assert_eq!(msg("bad_choice"), "value of fail_on must be one of: error, warning, never, got: fatal");
    let m = msg("bad_family");
    assert!(m.contains("value of checks must be one or more of") && m.contains("Got no match for: nope"), "{m}");
    assert_eq!(msg("ignore_no_reason"), "missing required arguments: reason found in ignore");

    // AnsibleModule's conversions: comma-separated list, "no" as bool, "6" as int.
    let r = read_json(&dir.join("converted.json"));
    assert_eq!(r["failed"], json!(false), "{r}");
    let facts = &r["ansible_facts"]["venvaudit"];
    assert_eq!(facts["summary"]["venvs"], json!(2));
    assert!(facts["venvs"].as_array().unwrap().iter().all(|v| v.get("packages").is_none()));
}

/// ansible-doc -j of a module.
fn doc_json(f: &Fixture, module: &str) -> Value {
    ansible_support::doc_json(&mut f.ansible("ansible-doc", &f.tmp), &format!("venvaudit.python.{module}"))
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn ansible_doc_renders_every_module() {
    let f = fixture();
    let out = run(f.ansible("ansible-doc", &f.tmp).args(["-l", "venvaudit.python"]));
    let listed = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for m in ["venv_facts", "venv_check", "artifact_check"] {
        assert!(listed.contains(&format!("venvaudit.python.{m}")), "{m} not listed:\n{listed}\n{stderr}");
    }
    assert!(!stderr.contains("WARNING") && !stderr.contains("ERROR"), "ansible-doc -l complained: {stderr}");

    for (module, words) in [
        (
            "venv_facts",
            &["OPTIONS", "paths", "summary", "EXAMPLES", "RETURN VALUES", "ansible_facts", "check_mode"][..],
        ),
        (
            "venv_check",
            &["OPTIONS", "fail_on", "ignore", "reason", "lock", "EXAMPLES", "RETURN VALUES", "findings", "check_mode"]
                [..],
        ),
        (
            "artifact_check",
            &["OPTIONS", "artifacts", "find_links", "venv", "EXAMPLES", "RETURN VALUES", "selected", "check_mode"][..],
        ),
    ] {
        let out = run(f.ansible("ansible-doc", &f.tmp).arg(format!("venvaudit.python.{module}")));
        let page = String::from_utf8_lossy(&out.stdout);
        for w in words {
            assert!(page.contains(w), "ansible-doc {module} lacks {w}:\n{page}");
        }
    }
    let facts = doc_json(f, "venv_facts");
    assert_doc_matches_spec(&facts["doc"]["options"], FACTS_SPEC, "venv_facts");
    assert_eq!(facts["doc"]["attributes"]["check_mode"]["support"], json!("full"));
    let check = doc_json(f, "venv_check");
    assert_doc_matches_spec(&check["doc"]["options"], CHECK_SPEC, "venv_check");
    assert_doc_matches_spec(&check["doc"]["options"]["ignore"]["suboptions"], IGNORE_SPEC, "venv_check.ignore");
    assert_eq!(check["doc"]["attributes"]["check_mode"]["support"], json!("full"));
    assert!(check["examples"].as_str().unwrap().contains("venvaudit.python.venv_check"));
    assert!(check["return"]["findings"].is_object());
    let artifact = doc_json(f, "artifact_check");
    assert_doc_matches_spec(&artifact["doc"]["options"], ARTIFACT_SPEC, "artifact_check");
    assert_eq!(artifact["doc"]["attributes"]["check_mode"]["support"], json!("full"));
    assert!(artifact["examples"].as_str().unwrap().contains("venvaudit.python.artifact_check"));
    assert!(artifact["return"]["artifact"]["contains"]["selected"].is_object(), "{}", artifact["return"]);
    // The documented families are the enum's, written by build.sh from the binary: the new
    // families are there without anyone editing a list.
    let families = |doc: &Value| -> Vec<String> {
        doc["doc"]["options"]["checks"]["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    };
    let names: Vec<String> = venvaudit::Family::NAMES.iter().map(|n| n.to_string()).collect();
    assert!(names.contains(&"artifact".to_owned()) && names.contains(&"drift".to_owned()), "{names:?}");
    assert_eq!(families(&check), names);
    assert_eq!(families(&artifact), names);
    // The source stubs carry no list of their own.
    for m in ["venv_facts", "venv_check", "artifact_check"] {
        assert_choices_left_to_build(m);
    }
}

/// The action plugins run the binary built for the target's machine: from the facts when they
/// were gathered, else from one `uname -m` (here a stand-in on PATH that answers
/// `pretend-arch`). A machine with no shipped binary fails the task naming the machine and the
/// architectures shipped; once the collection carries `files/venvaudit-linux-pretend-arch`, the
/// same task runs that binary.
#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn the_binary_is_chosen_by_the_targets_machine() {
    let f = fixture();
    let dir = f.dir("dispatch");
    let collections = dir.join("collections");
    run(Command::new("cp").arg("-a").arg(&f.collections).arg(&collections));
    let files = collections.join("ansible_collections/venvaudit/python/files");
    let fake = dir.join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("uname"), "#!/bin/sh\necho pretend-arch\n").unwrap();
    std::fs::set_permissions(fake.join("uname"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = std::ffi::OsString::from(format!("{}:{}", fake.display(), std::env::var("PATH").unwrap()));
    let env = [("PATH", path.as_os_str()), ("ANSIBLE_COLLECTIONS_PATH", collections.as_os_str())];
    let task = |gather: bool| {
        format!(
            "- hosts: localhost\n  gather_facts: {gather}\n  tasks:\n    - venvaudit.python.venv_facts:\n        paths: \"{{{{ web1 }}}}\"\n        config_root: \"{{{{ config_root }}}}\"\n        summary: true\n      register: r\n      ignore_errors: true\n{}",
            save("r", "r")
        )
    };
    let vars = json!({"web1": f.fleet.join("web1")});

    // No facts: `uname -m` says pretend-arch, for which nothing is shipped.
    ok(&f.play_env(&dir, &task(false), vars.clone(), &[], &env));
    let r = read_json(&dir.join("r.json"));
    assert_eq!(r["failed"], json!(true), "{r}");
    let msg = r["msg"].as_str().unwrap();
    let arch = host_arch();
    assert!(
        msg.contains("machine 'pretend-arch' (from uname -m)") && msg.contains(&format!("binaries for: {arch}.")),
        "{msg}"
    );
    assert!(r.get("ansible_facts").is_none(), "{r}");

    // Gathered facts win over `uname -m`: the host's own architecture is shipped.
    ok(&f.play_env(&dir, &task(true), vars.clone(), &[], &env));
    let r = read_json(&dir.join("r.json"));
    assert_eq!(r["failed"], json!(false), "{r}");
    assert_eq!(r["ansible_facts"]["venvaudit"]["summary"]["venvs"], json!(1), "{r}");

    // Ship a binary for pretend-arch (a copy of this build's): now `uname -m` finds it.
    std::fs::copy(files.join(format!("venvaudit-linux-{arch}")), files.join("venvaudit-linux-pretend-arch")).unwrap();
    ok(&f.play_env(&dir, &task(false), vars, &[], &env));
    let r = read_json(&dir.join("r.json"));
    assert_eq!(r["failed"], json!(false), "{r}");
    assert_eq!(r["ansible_facts"]["venvaudit"]["summary"]["venvs"], json!(1), "{r}");
}

/// A remote tmp on a filesystem mounted `noexec` fails the task with a message that says so
/// and how to fix it, instead of "Permission denied" and no result.
#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn a_noexec_remote_tmp_fails_with_a_clear_message() {
    assert!(support::is_root(), "needs root, to mount a noexec tmpfs (CI and the dev machines run as root)");
    let f = fixture();
    let dir = f.dir("noexec");
    let mnt = dir.join("noexec-tmp");
    std::fs::create_dir_all(&mnt).unwrap();
    run(Command::new("mount").args(["-t", "tmpfs", "-o", "noexec,size=64m", "tmpfs"]).arg(&mnt));
    let tasks = [
        "    - venvaudit.python.venv_facts:\n        paths: \"{{ web1 }}\"\n      register: r\n      ignore_errors: true\n".to_owned(),
        save("r", "r"),
    ]
    .concat();
    let out = f.play_env(
        &dir,
        &play_of(&tasks),
        json!({"web1": f.fleet.join("web1")}),
        &[],
        &[("ANSIBLE_REMOTE_TEMP", mnt.as_os_str())],
    );
    let umounted = Command::new("umount").arg(&mnt).status().map(|s| s.success()).unwrap_or(false);
    ok(&out);
    assert!(umounted, "umount {}", mnt.display());
    let r = read_json(&dir.join("r.json"));
    assert_eq!(r["failed"], json!(true), "{r}");
    let msg = r["msg"].as_str().unwrap();
    assert!(
        msg.contains("mounted noexec") && msg.contains("remote_tmp") && msg.contains(mnt.to_str().unwrap()),
        "{msg}"
    );
}

/// `module_defaults` can name both modules at once through the action group.
#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn the_action_group_sets_defaults_for_both_modules() {
    let f = fixture();
    let dir = f.dir("action_group");
    let play = format!(
        "- hosts: localhost\n  gather_facts: false\n  module_defaults:\n    group/venvaudit.python.venvaudit:\n      paths: \"{{{{ broken }}}}\"\n      config_root: \"{{{{ config_root }}}}\"\n  tasks:\n    - venvaudit.python.venv_facts:\n      register: facts\n{}    - venvaudit.python.venv_check:\n      register: gate\n      ignore_errors: true\n{}",
        save("facts", "facts"),
        save("gate", "gate")
    );
    ok(&f.play(&dir, &play, json!({"broken": f.broken}), &[]));
    let facts = read_json(&dir.join("facts.json"));
    assert_eq!(facts["ansible_facts"]["venvaudit"]["summary"]["venvs"], json!(1), "{facts}");
    let gate = read_json(&dir.join("gate.json"));
    assert_eq!((gate["failed"].clone(), gate["counts"]["error"].clone()), (json!(true), json!(1)), "{gate}");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn the_binary_works_as_a_plain_library_module() {
    let f = fixture();
    let dir = f.dir("library");
    std::fs::create_dir_all(dir.join("library")).unwrap();
    for m in ["venv_facts", "venv_check"] {
        std::fs::copy(&f.module, dir.join("library").join(m)).unwrap();
    }
    let tasks = [
        "    - venv_facts:\n        paths: \"{{ web1 }}\"\n        config_root: \"{{ config_root }}\"\n      register: facts\n".to_owned(),
        save("ansible_facts['venvaudit']['summary']", "summary"),
        "    - venv_check:\n        paths: \"{{ broken }}\"\n        config_root: \"{{ config_root }}\"\n      register: gate\n      ignore_errors: true\n"
            .to_owned(),
        save("gate", "gate"),
    ]
    .concat();
    // No collections path: the modules come from library/ next to the playbook.
    let mut cmd = f.ansible("ansible-playbook", &dir);
    cmd.env("ANSIBLE_COLLECTIONS_PATH", dir.join("no-collections"));
    // No module_defaults: they name the collection's modules, which are not installed here;
    // the tasks pass config_root themselves.
    std::fs::write(dir.join("play.yml"), format!("- hosts: localhost\n  gather_facts: false\n  tasks:\n{tasks}"))
        .unwrap();
    let extra = json!({"out": dir, "web1": f.fleet.join("web1"), "broken": f.broken, "ansible_python_interpreter": f.tools.join("python"), "config_root": f.no_config()});
    let out =
        cmd.args(["-i", "localhost,", "-c", "local", "-e"]).arg(extra.to_string()).arg("play.yml").output().unwrap();
    ok(&out);
    let summary = read_json(&dir.join("summary.json"));
    assert_eq!(summary["venvs"], json!(1));
    let gate = read_json(&dir.join("gate.json"));
    assert_eq!(gate["failed"], json!(true));
    assert!(gate["msg"].as_str().unwrap().starts_with("venv_check failed: 1 error(s)"), "{gate}");
}

/// Run the module binary the way ansible-core does, by hand: `AnsiballZ_<name> ARGS_FILE`.
fn run_module(f: &Fixture, dir: &Path, name: &str, args: Option<&[u8]>) -> (Value, i32) {
    let exe = dir.join(format!("AnsiballZ_{name}"));
    if !exe.exists() {
        std::os::unix::fs::symlink(&f.module, &exe).unwrap();
    }
    let mut cmd = Command::new(&exe);
    if let Some(a) = args {
        let file = dir.join("args");
        std::fs::write(&file, a).unwrap();
        cmd.arg(&file);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    assert_eq!(stdout.lines().count(), 1, "exactly one line of output: {stdout:?}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"));
    assert!(v.is_object());
    (v, out.status.code().unwrap())
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn module_mode_always_prints_one_json_object() {
    let f = fixture();
    let dir = f.dir("module_mode");
    let (v, code) = run_module(f, &dir, "venv_facts", None);
    assert_eq!((v["failed"].clone(), code), (json!(true), 1));
    assert!(v["msg"].as_str().unwrap().contains("Ansible module"), "{v}");
    for bad in [&b"not json"[..], b"[1, 2]", b"{\"ANSIBLE_MODULE_ARGS\": 3}", b"\xff\xfe", b""] {
        let (v, code) = run_module(f, &dir, "venv_facts", Some(bad));
        assert_eq!((v["failed"].clone(), code), (json!(true), 1), "{v}");
    }
    // The module name in the arguments file decides, whatever the file is called.
    let args = json!({"paths": [f.broken], "_ansible_module_name": "venvaudit.python.venv_check", "_ansible_check_mode": true, "_ansible_verbosity": 0, "_ansible_no_log": false, "_ansible_some_future_key": [1]});
    let (v, _) = run_module(f, &dir, "venv_facts", Some(args.to_string().as_bytes()));
    assert_eq!(v["counts"]["error"], json!(1), "{v}");
    assert_eq!(v["invocation"]["module_args"]["fail_on"], json!("error"));
    // no_log: the arguments are not echoed back.
    let args = json!({"paths": [f.broken], "_ansible_module_name": "venv_check", "_ansible_no_log": true});
    let (v, _) = run_module(f, &dir, "venv_check", Some(args.to_string().as_bytes()));
    assert!(v.get("invocation").is_none(), "{v}");
    // ANSIBLE_MODULE_ARGS wrapping (as for Python modules) is accepted too.
    let args = json!({"ANSIBLE_MODULE_ARGS": {"paths": [f.fleet.join("db1")], "summary": true}});
    let (v, code) = run_module(f, &dir, "venv_facts", Some(args.to_string().as_bytes()));
    assert_eq!((v["failed"].clone(), code), (json!(false), 0), "{v}");
    assert_eq!(v["ansible_facts"]["venvaudit"]["venvs"][0]["python"]["version"], json!(f.py38));
    // A binary with another name is recognised from its arguments file alone.
    let other = dir.join("audit-tool");
    std::os::unix::fs::symlink(&f.module, &other).unwrap();
    let file = dir.join("args2");
    std::fs::write(
        &file,
        json!({"paths": [f.fleet.join("db1")], "_ansible_module_name": "venvaudit.python.venv_facts"}).to_string(),
    )
    .unwrap();
    let out = Command::new(&other).arg(&file).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ansible_facts"]["venvaudit"]["summary"]["venvs"], json!(1));
}

/// A small inventory of local hosts (`ansible_connection=local` aliases), each with its own
/// `venvaudit_paths`, plus one host that is never gathered.
fn fleet_inventory(f: &Fixture, dir: &Path) -> PathBuf {
    let py = f.tools.join("python");
    let inv = format!(
        "[web]\nweb1 venvaudit_paths='[\"{w1}\"]'\nweb2 venvaudit_paths='[\"{w2}\"]'\n\n[db]\ndb1 venvaudit_paths='[\"{d1}\"]'\n\n[spare]\nghost\n\n[all:vars]\nansible_connection=local\nansible_python_interpreter={py}\n",
        w1 = f.fleet.join("web1").display(),
        w2 = f.fleet.join("web2").display(),
        d1 = f.fleet.join("db1").display(),
        py = py.display()
    );
    let path = dir.join("inventory.ini");
    std::fs::write(&path, inv).unwrap();
    path
}

/// Copy an example directory to a scratch directory (its ansible.cfg writes relative paths).
fn copy_example(name: &str, dir: &Path) -> PathBuf {
    let src = repo().join("ansible/examples").join(name);
    let dst = dir.join(name);
    run(Command::new("cp").arg("-a").arg(&src).arg(&dst));
    dst
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn fleet_example_reports_hosts_running_old_django() {
    let f = fixture();
    let dir = f.dir("fleet_example");
    let ex = copy_example("fleet", &dir);
    let inv = fleet_inventory(f, &dir);
    let playbook = |extra: &[&str]| {
        let out = f
            .ansible("ansible-playbook", &ex)
            .env("ANSIBLE_CONFIG", ex.join("ansible.cfg"))
            .arg("-i")
            .arg(&inv)
            .args(extra)
            .arg("fleet_report.yml")
            .output()
            .unwrap();
        ok(&out);
        text(&out)
    };
    // Gather from every host but `ghost`, then report.
    playbook(&["--limit", "web,db,localhost"]);
    let cache = ex.join(".cache/facts");
    // jsonfile names its files after the host, with a prefix that depends on the release.
    let cached: Vec<String> =
        std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    for h in ["web1", "web2", "db1"] {
        assert!(cached.iter().any(|c| c.ends_with(h)), "no fact cache for {h} in {}: {cached:?}", cache.display());
    }
    assert!(!cached.iter().any(|c| c.ends_with("ghost")));
    let report = read_json(&ex.join("reports/django-lt-4.2.16.json"));
    assert_eq!(report["question"], json!("django < 4.2.16"));
    assert_eq!(
        report["matches"],
        json!([{"host": "web1", "venv": f.fleet.join("web1/srv/app/venv"), "version": "3.2", "python": f.py312, "owner": "root"}]),
        "only web1 runs django < 4.2.16 (web2 runs exactly 4.2.16): {report}"
    );
    assert_eq!(report["hosts_reported"], json!(3));
    assert_eq!(report["venvs_scanned"], json!(3));
    assert_eq!(report["hosts_without_facts"], json!(["ghost"]));
    let txt = std::fs::read_to_string(ex.join("reports/django-lt-4.2.16.txt")).unwrap();
    assert!(txt.contains("web1") && !txt.contains("web2") && txt.contains("No cached facts for: ghost"), "{txt}");

    // The report alone, from the fact cache: no host is contacted, and the cached facts still
    // hold the package lists (web2's 4.2.16 is below 5.0).
    let log = playbook(&["--tags", "report", "-e", "report_below=5.0"]);
    assert!(!log.contains("Gather venv facts"), "the gather play must not run:\n{log}");
    let report = read_json(&ex.join("reports/django-lt-5.0.json"));
    let hosts: Vec<&str> = report["matches"].as_array().unwrap().iter().map(|m| m["host"].as_str().unwrap()).collect();
    assert_eq!(hosts, ["web1", "web2"], "{report}");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn rolling_deploy_example_stops_at_the_first_bad_host() {
    let f = fixture();
    let dir = f.dir("rolling_example");
    let ex = copy_example("rolling", &dir);
    let py = f.tools.join("python");
    let mut inv = String::from("[app]\n");
    for (host, healthy) in [("app1", true), ("app2", false), ("app3", true)] {
        let root = dir.join(host);
        std::fs::create_dir_all(root.join("releases/r2")).unwrap();
        make_bare_venv(&pyenv("3.12"), &root.join("releases/r1/venv"));
        if healthy {
            make_bare_venv(&pyenv("3.12"), &root.join("releases/r2/venv"));
        } else {
            support::make_broken_venv(&dir, "3.12", &root.join("releases/r2/venv"));
        }
        std::os::unix::fs::symlink(root.join("releases/r1"), root.join("current")).unwrap();
        inv += &format!("{host} app_root={}\n", root.display());
    }
    inv += &format!(
        "\n[app:vars]\nansible_connection=local\nansible_python_interpreter={}\napp_service=app\napp_restart_command=\"touch {{{{ app_root }}}}/restarted\"\n",
        py.display()
    );
    std::fs::write(dir.join("inventory.ini"), inv).unwrap();
    let out = f
        .ansible("ansible-playbook", &ex)
        .env("ANSIBLE_CONFIG", ex.join("ansible.cfg"))
        .arg("-i")
        .arg(dir.join("inventory.ini"))
        .args(["-e", "app_release=r2", "rolling_deploy.yml"])
        .output()
        .unwrap();
    let log = text(&out);
    assert_ne!(out.status.code(), Some(0), "the rollout must fail:\n{log}");
    assert!(log.contains("broken-interpreter"), "{log}");
    let current = |h: &str| std::fs::read_link(dir.join(h).join("current")).unwrap();
    assert_eq!(current("app1"), dir.join("app1/releases/r2"), "app1 was deployed");
    assert!(dir.join("app1/restarted").exists(), "app1 was restarted");
    assert_eq!(current("app2"), dir.join("app2/releases/r1"), "app2 keeps its release:\n{log}");
    assert!(!dir.join("app2/restarted").exists());
    assert_eq!(current("app3"), dir.join("app3/releases/r1"), "the rollout stopped before app3:\n{log}");
    assert!(!dir.join("app3/restarted").exists());
}

// ------------------------------------------------------------------ artefact gate (artifact_check)

/// The normalised names and versions of what pip sees in `venv` (ground truth).
fn installed(venv: &Path) -> BTreeSet<(String, String)> {
    support::pip_list_normalized(venv)
}

/// Run the example examples/wheelhouse/deploy_wheelhouse.yml (copied to DIR/wheelhouse) on one
/// local host `app1` whose app lives in `app` (`app/venv`), deploying the wheelhouse `src` as
/// release r1; restarting is `touch app/restarted`. `-v`, so each task's result is in the log.
fn deploy_wheelhouse(f: &Fixture, dir: &Path, app: &Path, src: &Path) -> Output {
    let ex = copy_example("wheelhouse", dir);
    let inv = format!(
        "[app]\napp1 app_root={}\n\n[app:vars]\nansible_connection=local\nansible_python_interpreter={}\napp_restart_command=\"touch {{{{ app_root }}}}/restarted\"\n",
        app.display(),
        f.tools.join("python").display()
    );
    std::fs::write(dir.join("inventory.ini"), inv).unwrap();
    let out = f
        .ansible("ansible-playbook", &ex)
        .env("ANSIBLE_CONFIG", ex.join("ansible.cfg"))
        .env("ANSIBLE_CALLBACK_RESULT_FORMAT", "json")
        .arg("-i")
        .arg(dir.join("inventory.ini"))
        .args(["-v", "-e", "app_release=r1", "-e"])
        .arg(format!("app_wheelhouse_src={}", src.display()))
        .arg("deploy_wheelhouse.yml")
        .output()
        .unwrap();
    std::fs::write(dir.join("ansible.log"), [&out.stdout[..], b"\n--- stderr ---\n", &out.stderr[..]].concat())
        .unwrap();
    out
}

/// The result the default callback printed for host app1 at the task whose name starts with
/// `task`, with `failed` set from how it was printed (`ok: [app1] => {...}`, `changed: ...`,
/// `fatal: [app1]: FAILED! => {...}`; the callback drops the result's own `failed`).
fn task_result(stdout: &str, task: &str) -> Value {
    let header = format!("TASK [{task}");
    let at = stdout.find(&header).unwrap_or_else(|| panic!("no task {task:?} ran:\n{stdout}"));
    let rest = &stdout[at..];
    let (start, failed) =
        [("ok: [app1] => ", false), ("changed: [app1] => ", false), ("fatal: [app1]: FAILED! => ", true)]
            .iter()
            .filter_map(|(m, failed)| rest.find(m).map(|i| (i + m.len(), *failed)))
            .min()
            .unwrap_or_else(|| panic!("no result of {task:?} in:\n{rest}"));
    let mut values = serde_json::Deserializer::from_str(&rest[start..]).into_iter::<Value>();
    let mut v = values
        .next()
        .unwrap()
        .unwrap_or_else(|e| panic!("the result of {task:?} is not JSON ({e}):\n{}", &rest[start..]));
    v["failed"] = json!(failed);
    v
}

fn names_of(list: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|x| support::normalize(x[key].as_str().unwrap()))
        .collect();
    v.sort();
    v
}

/// The recipe end to end on a real pyenv 3.12 virtualenv: copy a wheelhouse (two pure wheels
/// and PyYAML's cp312 binary wheel, with its hashed requirements.txt), gate it against the
/// venv, install it with real `pip install --no-index --find-links`, restart, and check the
/// venv against the lock. Then the same venv against a lock pinning another six fails with
/// `lock-drift`: the `lock` option reaches the binary.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, ansible-playbook (scripts/test.sh runs it)"]
fn artifact_check_gates_the_wheelhouse_example_which_installs_and_matches_its_lock() {
    let f = fixture();
    let dir = f.dir("artifact_deploy");
    let app = dir.join("app");
    let venv = app.join("venv");
    std::fs::create_dir_all(&app).unwrap();
    make_venv(Creator::Venv, &pyenv("3.12"), &venv);
    let before = installed(&venv);
    let src =
        make_wheelhouse(&dir.join("wheelhouse-src"), &["six-1.17.0-", "idna-3.20-", "pyyaml-6.0.4-cp312-"], false);
    let want: BTreeSet<(String, String)> = [("idna", "3.20"), ("pyyaml", "6.0.4"), ("six", "1.17.0")]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert!(before.is_disjoint(&want), "the new venv already has the wheelhouse's distributions: {before:?}");

    let out = deploy_wheelhouse(f, &dir, &app, &src);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "the deploy failed:\n{}", text(&out));

    // 2. The gate judged the three wheels against the venv's own interpreter, hashes checked.
    let gate = task_result(&stdout, "2. Gate");
    assert_eq!((gate["failed"].clone(), gate["passed"].clone()), (json!(false), json!(true)), "{gate}");
    assert_eq!(gate["counts"]["error"], json!(0), "{gate}");
    let a = &gate["artifact"];
    assert_eq!(a["kind"], json!("requirements"), "{a}");
    assert_eq!(a["target"]["source"], json!("venv"), "{a}");
    assert_eq!(a["target"]["version"], json!(f.py312), "{a}");
    assert_eq!(names_of(&a["selected"], "name"), ["idna", "pyyaml", "six"], "{a}");
    let selected = a["selected"].as_array().unwrap();
    assert!(selected.iter().all(|w| w["hash_verified"] == json!(true)), "{a}");
    let yaml = selected.iter().find(|w| support::normalize(w["name"].as_str().unwrap()) == "pyyaml").unwrap();
    assert!(yaml["tag"].as_str().unwrap().starts_with("cp312-cp312-manylinux"), "{yaml}");
    let mut adds: Vec<String> =
        a["changes"]["install"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_lowercase()).collect();
    adds.sort();
    assert_eq!(adds, ["idna==3.20", "pyyaml==6.0.4", "six==1.17.0"], "{a}");
    assert_eq!(gate["venvs"][0]["path"], json!(venv), "{gate}");
    assert!(gate["msg"].as_str().unwrap().starts_with("artifact_check passed: 0 error(s)"), "{gate}");

    // 3.-4. Installed by real pip, exactly the wheelhouse (pip list is the ground truth), restarted.
    let after = installed(&venv);
    let added: BTreeSet<_> = after.difference(&before).cloned().collect();
    assert_eq!(added, want, "pip list after the deploy");
    assert!(app.join("restarted").exists(), "the service was not restarted:\n{stdout}");

    // 5. The venv is its lock.
    let drift = task_result(&stdout, "5. Drift");
    assert_eq!((drift["failed"].clone(), drift["passed"].clone()), (json!(false), json!(true)), "{drift}");
    let ids: Vec<&str> = drift["findings"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&"lock-drift") && !ids.contains(&"record-mismatch"), "{drift}");

    // The same venv against a lock that pins another six: `lock` is read, the drift named.
    let other = dir.join("other-lock/requirements.txt");
    let reqs = std::fs::read_to_string(src.join("requirements.txt")).unwrap().replace("six==1.17.0", "six==1.16.0");
    support::write(&other, reqs);
    let tasks = [
        "    - venvaudit.python.venv_check:\n        paths: [\"{{ venv }}\"]\n        lock: \"{{ lock }}\"\n      register: r\n      ignore_errors: true\n".to_owned(),
        save("r", "r"),
    ]
    .concat();
    ok(&f.play(&dir, &play_of(&tasks), json!({"venv": venv, "lock": other}), &[]));
    let r = read_json(&dir.join("r.json"));
    assert_eq!(r["failed"], json!(true), "{r}");
    let finding =
        r["findings"].as_array().unwrap().iter().find(|x| x["id"] == "lock-drift").unwrap_or_else(|| panic!("{r}"));
    assert_eq!(finding["severity"], json!("error"), "{finding}");
    assert_eq!(
        finding["details"]["version"],
        json!([{"name": "six", "locked": "1.16.0", "installed": "1.17.0"}]),
        "{finding}"
    );
    assert_eq!(finding["details"]["missing"], json!([]), "{finding}");
    assert!(r["msg"].as_str().unwrap().lines().any(|l| l.starts_with("lock-drift ")), "{r}");
}

/// A wheelhouse whose PyYAML is a cp38 binary wheel only: the example stops at the gate with
/// `artifact-no-compatible-wheel`, before pip, the restart and the drift check run, and the
/// venv has no new distribution (not even the pure `six` the wheelhouse also carries).
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, ansible-playbook (scripts/test.sh runs it)"]
fn artifact_check_stops_the_wheelhouse_example_before_anything_is_installed() {
    let f = fixture();
    let dir = f.dir("artifact_bad_deploy");
    let app = dir.join("app");
    let venv = app.join("venv");
    std::fs::create_dir_all(&app).unwrap();
    make_venv(Creator::Venv, &pyenv("3.12"), &venv);
    let before = installed(&venv);
    let src = make_wheelhouse(&dir.join("wheelhouse-src"), &["six-1.17.0-", "PyYAML-6.0.3-cp38-"], false);

    let out = deploy_wheelhouse(f, &dir, &app, &src);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "the deploy must fail:\n{}", text(&out));
    // Step 1 ran (the wheelhouse is on the host), the gate failed, nothing after it ran.
    assert!(app.join("wheelhouses/r1/requirements.txt").exists(), "{stdout}");
    let gate = task_result(&stdout, "2. Gate");
    assert_eq!((gate["failed"].clone(), gate["passed"].clone()), (json!(true), json!(false)), "{gate}");
    let bad: Vec<&Value> =
        gate["findings"].as_array().unwrap().iter().filter(|x| x["id"] == "artifact-no-compatible-wheel").collect();
    assert_eq!(bad.len(), 1, "{gate}");
    assert_eq!(support::normalize(bad[0]["package"].as_str().unwrap()), "pyyaml", "{gate}");
    assert_eq!(bad[0]["severity"], json!("error"), "{gate}");
    assert!(bad[0]["message"].as_str().unwrap().contains("cp38-cp38-manylinux"), "{}", bad[0]);
    let msg: Vec<&str> = gate["msg"].as_str().unwrap().lines().collect();
    assert!(msg[0].starts_with("artifact_check failed: 1 error(s)") && msg[0].contains("(venv)"), "{msg:?}");
    assert!(msg[1].starts_with("artifact-no-compatible-wheel "), "{msg:?}");
    assert_eq!(names_of(&gate["artifact"]["selected"], "name"), ["six"], "{gate}");
    for later in ["TASK [3. Install", "TASK [4. Restart", "TASK [5. Drift"] {
        assert!(!stdout.contains(later), "{later} ran after a failed gate:\n{stdout}");
    }
    assert_eq!(installed(&venv), before, "pip list changed although the gate failed");
    let sp = support::site_packages(&venv).unwrap();
    let leaked: Vec<String> = std::fs::read_dir(&sp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_lowercase())
        .filter(|n| n.starts_with("six") || n.contains("yaml"))
        .collect();
    assert!(leaked.is_empty(), "installed into {}: {leaked:?}", sp.display());
    assert!(!app.join("restarted").exists());
}

/// The module on its own: it runs in check mode (it only reads), takes the `gates` group's
/// module_defaults, its `ignore` entries cover artefact findings, `target_python` is a target,
/// and bad option combinations fail with AnsibleModule's words.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, ansible-playbook (scripts/test.sh runs it)"]
fn artifact_check_options_check_mode_and_the_gates_group() {
    let f = fixture();
    let dir = f.dir("artifact_options");
    let venv = dir.join("venv");
    make_bare_venv(&pyenv("3.12"), &venv);
    let bad = make_wheelhouse(&dir.join("bad"), &["six-1.17.0-", "PyYAML-6.0.3-cp38-"], false);
    let good = make_wheelhouse(&dir.join("good"), &["six-1.17.0-", "pyyaml-6.0.4-cp312-"], false);
    let gate = |extra: &str, name: &str, opts: &str| {
        format!(
            "    - venvaudit.python.artifact_check:\n{opts}{extra}      register: {name}\n      ignore_errors: true\n{}",
            save(name, name)
        )
    };
    let bad_opts = "        artifacts: \"{{ bad }}/requirements.txt\"\n        find_links: \"{{ bad }}\"\n        venv: \"{{ venv }}\"\n";
    let tasks = [
        // fail_on: never from the group's defaults
        gate("", "group_never", bad_opts),
        gate("        fail_on: error\n", "failing", bad_opts),
        gate(
            "        fail_on: error\n        ignore:\n          - id: artifact-no-compatible-wheel\n            package: pyyaml\n            reason: a cp312 wheel is on its way\n",
            "ignored",
            bad_opts,
        ),
        gate(
            "        fail_on: error\n",
            "by_interpreter",
            "        artifacts: [\"{{ good }}/requirements.txt\"]\n        find_links: [\"{{ good }}\"]\n        target_python: \"{{ python }}\"\n",
        ),
        gate("        target_python: \"{{ python }}\"\n", "two_targets", bad_opts),
        gate("", "no_artifacts", "        venv: \"{{ venv }}\"\n"),
    ]
    .concat();
    let play = format!(
        "- hosts: localhost\n  gather_facts: false\n  module_defaults:\n    group/venvaudit.python.gates:\n      fail_on: never\n      config_root: \"{{{{ config_root }}}}\"\n  tasks:\n{tasks}"
    );
    let vars = json!({"bad": bad, "good": good, "venv": venv, "python": pyenv("3.12")});
    let out = f.play(&dir, &play, vars, &["--check"]);
    ok(&out);
    let r = |name: &str| read_json(&dir.join(format!("{name}.json")));

    let never = r("group_never");
    assert_eq!(never["fail_on"], json!("never"), "the group's default did not reach artifact_check: {never}");
    // fail_on: never reports the error without failing (nothing is at or above "never").
    assert_eq!((never["failed"].clone(), never["passed"].clone()), (json!(false), json!(true)), "{never}");
    assert_eq!(never["counts"]["error"], json!(1), "{never}");
    assert_eq!(never["changed"], json!(false));
    let failing = r("failing");
    assert_eq!(
        (failing["failed"].clone(), failing["counts"]["error"].clone()),
        (json!(true), json!(1)),
        "check mode gates too: {failing}"
    );
    assert!(failing.get("skipped").is_none() || failing["skipped"] == json!(false), "{failing}");
    let ignored = r("ignored");
    assert_eq!((ignored["failed"].clone(), ignored["passed"].clone()), (json!(false), json!(true)), "{ignored}");
    assert_eq!(
        (ignored["counts"]["error"].clone(), ignored["counts"]["ignored"].clone()),
        (json!(0), json!(1)),
        "{ignored}"
    );
    let by_py = r("by_interpreter");
    assert_eq!((by_py["failed"].clone(), by_py["passed"].clone()), (json!(false), json!(true)), "{by_py}");
    assert_eq!(by_py["artifact"]["target"]["source"], json!("target-python"), "{by_py}");
    assert_eq!(names_of(&by_py["artifact"]["selected"], "name"), ["pyyaml", "six"], "{by_py}");
    assert!(by_py["artifact"].get("changes").is_none(), "no venv, no changes: {by_py}");
    let two = r("two_targets");
    assert_eq!(two["failed"], json!(true), "{two}");
    assert_eq!(two["msg"], json!("parameters are mutually exclusive: target_python|venv|mod_wsgi"));
    let none = r("no_artifacts");
    assert_eq!(none["failed"], json!(true), "{none}");
    assert_eq!(none["msg"], json!("missing required arguments: artifacts"));
}

// ------------------------------------------------------- the osv_db role's CPython advisory file

/// `changed=N` of HOST in the PLAY RECAP of `out`.
fn recap_changed(out: &Output, host: &str) -> u32 {
    let log = text(out);
    let line = log
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find(|l| l.split_whitespace().next() == Some(host))
        .unwrap_or_else(|| panic!("{host} not in PLAY RECAP:\n{log}"));
    line.split_whitespace().find_map(|w| w.strip_prefix("changed=")).unwrap().parse().unwrap()
}

/// Whether the task named `name` (of the osv_db role) ran at all: its header is in the log.
fn ran_task(out: &Output, name: &str) -> bool {
    text(out).lines().any(|l| l.starts_with("TASK [venvaudit.python.osv_db : ") && l.contains(name))
}

/// The role, then a play that writes what it registered to OUT/registered.json without counting
/// as a change (so PLAY RECAP's `changed` is the role's alone).
const OSV_DB_PLAY: &str = r#"- hosts: localhost
  gather_facts: false
  roles:
    - role: venvaudit.python.osv_db

- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.copy:
        dest: "{{ out }}/registered.json"
        content: "{{ {'copy': osv_db_copy, 'cpython_copy': osv_db_cpython_copy | default(None), 'check': osv_db_check | default(None)} | to_json }}"
        mode: "0644"
      changed_when: false
      check_mode: false
"#;

/// `venvaudit check --cpython-db FILE` of the fixture's Python 3.8 venv (db1): the
/// interpreter's advisories found through that file.
fn interpreter_advisories(cpython_db: &Path, pypi: &Path, f: &Fixture) -> (Vec<String>, Value) {
    let out = Command::new(support::venvaudit())
        .args(["check", "--format", "json", "--check", "vulnerabilities", "--fail-on", "never", "--no-processes"])
        .arg("--cpython-db")
        .arg(cpython_db)
        .arg("--osv-db")
        .arg(pypi)
        .arg(f.fleet.join("db1"))
        .env_remove("VENVAUDIT_CPYTHON_DB")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "check failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let ids = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "interpreter-vulnerability")
        .map(|f| f["details"]["advisory"].as_str().unwrap_or_default().to_owned())
        .collect();
    (ids, report)
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o7777
}

fn mtime_of(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// With `osv_db_cpython_sources` the osv_db role builds the CPython advisory file on the
/// controller, with the collection's own binary, from a cvelistV5-like directory (the committed
/// PSF records) and the PSF advisories, and ships only that file: the host's copy is what
/// `venvaudit check --cpython-db` reads (a Python 3.8 venv gets its interpreter CVEs). A second
/// run and a check-mode run change nothing (venvaudit stamps each build with its time; the
/// role ignores that); changed sources are shipped again; a source with no CPython record, or a
/// controller without a binary, fails on the controller with a clear message and the host keeps
/// its file. ansible-doc documents the new variables.
#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook (scripts/test.sh runs it)"]
fn osv_db_role_builds_and_ships_the_cpython_advisory_file() {
    let f = fixture();
    let dir = f.dir("osv_db_cpython");
    let fixtures = repo().join("tests/fixtures/cpython");
    // The "cvelistV5 directory": the committed CVE records, copied.
    let cvelist = dir.join("cvelistV5");
    std::fs::create_dir_all(&cvelist).unwrap();
    for e in std::fs::read_dir(fixtures.join("records")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), cvelist.join(e.file_name())).unwrap();
    }
    let psf = fixtures.join("psf");
    let pypi = dir.join("PyPI.zip");
    wheel::tiny_pypi_zip(&pypi, "VENVAUDIT-TEST-2026-2", "test advisory of tests/ansible.rs");
    let host = dir.join("host/var/lib/venvaudit/osv");
    let dest = host.join("CPython.json");
    let cache = dir.join("controller-cache");
    let user = String::from_utf8(run(Command::new("id").arg("-un")).stdout).unwrap().trim().to_owned();
    let group = String::from_utf8(run(Command::new("id").arg("-gn")).stdout).unwrap().trim().to_owned();
    let vars = |sources: Value| {
        json!({
            "osv_db_src": pypi, "osv_db_cache_dir": cache, "osv_db_owner": user, "osv_db_group": group,
            "osv_db_dest": host.join("PyPI.zip"), "osv_db_cpython_dest": dest,
            "osv_db_cpython_sources": sources,
        })
    };
    let both = json!([cvelist, psf]);

    // 1. First run: built on the controller, copied to the host.
    let out = f.play(&dir, OSV_DB_PLAY, vars(both.clone()), &[]);
    ok(&out);
    assert!(recap_changed(&out, "localhost") >= 3, "cache, directory, files should have changed:\n{}", text(&out));
    let reg = read_json(&dir.join("registered.json"));
    assert_eq!(reg["cpython_copy"]["changed"], json!(true), "{reg}");
    assert_eq!(reg["check"]["failed"], json!(false), "the host check failed: {reg}");
    assert!(
        std::fs::read(&dest).unwrap() == std::fs::read(cache.join("CPython.json")).unwrap(),
        "the host's file is not the controller's"
    );
    assert!(!cache.join("CPython.json.new").exists(), "the build was left in the controller cache");
    let shipped = read_json(&dest);
    assert_eq!(shipped["format"], json!("venvaudit-cpython-advisories"));
    let advisories = shipped["advisories"].as_array().unwrap();
    assert!(advisories.len() > 10, "{} advisories", advisories.len());
    let sources: Vec<&str> =
        shipped["sources"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(sources, ["CVE List V5", "PSF Advisory Database"], "{}", shipped["sources"]);
    assert!(
        advisories.iter().any(|a| a["id"] == "CVE-2024-7592" && a["aliases"] == json!(["PSF-2024-9"])),
        "the PSF aliases are missing"
    );
    assert_eq!(mode_of(&dest), 0o644);
    let mut on_host: Vec<String> =
        std::fs::read_dir(&host).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    on_host.sort();
    assert_eq!(on_host, ["CPython.json", "PyPI.zip"], "only the small file goes to the host");
    // The host's file is what venvaudit reads: Python 3.8.18 gets its interpreter CVEs.
    let (found, report) = interpreter_advisories(&dest, &pypi, f);
    assert!(found.len() > 10, "interpreter advisories of 3.8: {found:?}\n{report}");
    assert!(found.iter().any(|a| a == "CVE-2025-4517"), "{found:?}");
    assert!(!report["warnings"].to_string().contains("no CPython advisory file"), "{}", report["warnings"]);
    let mtime = mtime_of(&dest);
    let built = std::fs::read(&dest).unwrap();

    // 2. Same sources again: nothing changes, on the host or in the controller's cache, though
    //    the new build has another generated_at.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = f.play(&dir, OSV_DB_PLAY, vars(both.clone()), &[]);
    ok(&out);
    assert_eq!(recap_changed(&out, "localhost"), 0, "second run changed something:\n{}", text(&out));
    assert_eq!(read_json(&dir.join("registered.json"))["cpython_copy"]["changed"], json!(false));
    assert_eq!(mtime_of(&dest), mtime, "the host's file was rewritten");
    assert_eq!(std::fs::read(&dest).unwrap(), built);

    // 3. Check mode: nothing built, nothing would change.
    let out = f.play(&dir, OSV_DB_PLAY, vars(both.clone()), &["--check"]);
    ok(&out);
    assert_eq!(recap_changed(&out, "localhost"), 0, "check mode would change something:\n{}", text(&out));
    assert_eq!(std::fs::read(&dest).unwrap(), built);

    // 4. Other sources (no PSF database): a different file, built and shipped again.
    let out = f.play(&dir, OSV_DB_PLAY, vars(json!([cvelist])), &[]);
    ok(&out);
    assert_eq!(read_json(&dir.join("registered.json"))["cpython_copy"]["changed"], json!(true));
    let shipped = read_json(&dest);
    assert_eq!(shipped["sources"].as_array().unwrap().len(), 1, "{}", shipped["sources"]);
    let cve_only = std::fs::read(&dest).unwrap();

    // 5. A source with no CPython record (one CVE record of another product): the build fails
    //    on the controller with venvaudit's reason, no host task runs, the host keeps its file.
    let other = dir.join("not-cpython");
    std::fs::create_dir_all(&other).unwrap();
    let mut record: Value = read_json(&cvelist.join("CVE-2024-7592.json"));
    record["cveMetadata"]["assignerShortName"] = json!("other");
    for a in record["containers"]["cna"]["affected"].as_array_mut().unwrap() {
        a["vendor"] = json!("Someone Else");
        a["product"] = json!("NotPython");
    }
    std::fs::write(other.join("CVE-2024-7592.json"), record.to_string()).unwrap();
    let out = f.play(&dir, OSV_DB_PLAY, vars(json!([other])), &[]);
    assert!(!out.status.success(), "a source without CPython records was accepted:\n{}", text(&out));
    let log = text(&out);
    assert!(log.contains("could not build the CPython advisory file from"), "{log}");
    assert!(log.contains("no CPython CVE record"), "venvaudit's reason is missing:\n{log}");
    assert!(!ran_task(&out, "Copy the CPython advisory file"), "a host task ran after the failed build:\n{log}");
    assert_eq!(std::fs::read(&dest).unwrap(), cve_only, "the host's file was replaced");
    assert_eq!(std::fs::read(cache.join("CPython.json")).unwrap(), cve_only, "the controller's copy was replaced");

    // 6. A controller binary that is not there: named in the failure, with what to do.
    let mut v = vars(both.clone());
    v["osv_db_cpython_binary"] = json!(dir.join("no/such/venvaudit"));
    let out = f.play(&dir, OSV_DB_PLAY, v, &[]);
    assert!(!out.status.success());
    let log = text(&out);
    assert!(log.contains("no venvaudit binary at") && log.contains("Set osv_db_cpython_binary"), "{log}");
    assert_eq!(std::fs::read(&dest).unwrap(), cve_only);

    // ansible-doc documents the new variables and the default path.
    let doc = run(f.ansible("ansible-doc", &dir).args(["-t", "role", "venvaudit.python.osv_db"])).stdout;
    let doc = String::from_utf8_lossy(&doc);
    for option in ["osv_db_cpython_sources", "osv_db_cpython_dest", "osv_db_cpython_binary"] {
        assert!(doc.contains(option), "{option} not documented:\n{doc}");
    }
    assert!(doc.contains("/var/lib/venvaudit/osv/CPython.json"), "default path not documented:\n{doc}");
}
