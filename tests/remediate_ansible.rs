//! The Ansible role `venvaudit.python.remediate` and the module `venv_plan`, with real
//! ansible-core: the collection is built with ansible/build.sh around this build's binary,
//! installed with `ansible-galaxy collection install`, and real `ansible-playbook -i localhost,
//! -c local` plays run the role against real pyenv 3.12 virtualenvs, offline (the wheelhouse
//! .tools/wheels, the OSV database of the shared test data). Plays write what the role left
//! (`remediate_result`, `remediate_plan`, the gate's result) to JSON files the tests read; the
//! ground truth is the venv's own `pip list` and a second `venvaudit check`.
//!
//! Cases: (a) a vulnerable Django 3.2 is upgraded to 3.2.25 from the wheelhouse behind the gate
//! and the role's own re-check passes; (b) a dependent's `Django<3.2.20` blocks the upgrade:
//! reported, nothing installed, and `remediate_fail_on_blocked` fails naming the dependent;
//! (c) a real systemd unit running the venv's python is restarted by the handler (MainPID
//! changes), the wheel downloaded by the venv's pip ("index" mode, pointed at the wheelhouse);
//! (d) `--check` prints the plan and changes nothing (every file of the venv, the unit's PID).
//! (c) and (d) share one private systemd (tests/support/systemd.rs): it needs root.
//!
//! Needs what scripts/setup.sh installs: ansible-core in the tools venv, pyenv's 3.12, the
//! wheels of Django 3.2 and 3.2.25, asgiref, sqlparse, pytz and pip in the wheelhouse.

#[path = "support/ansible.rs"]
mod ansible_support;
#[path = "support/systemd.rs"]
mod real_systemd;
mod support;

use ansible_support::{
    Collection, ansible_env, assert_choices_left_to_build, assert_doc_matches_spec, install_collection, ok, read_json,
    run_play, save, test_dir, text,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use support::{check as run, make_bare_venv, pip_list_normalized, pyenv};
use venvaudit::ansible::{IGNORE_SPEC, PLAN_SPEC};

/// The day every date policy judges by (as scripts/test.sh sets it).
const TODAY: &str = "2026-12-03";

/// What the tests share, set up once: the built and installed collection.
struct Fixture {
    /// Scratch directory of this test run (kept with VENVAUDIT_KEEP_TEMP=1; each play's output
    /// is in t/<test>/ansible*.log).
    tmp: PathBuf,
    /// bin/ of the tools venv (ansible-playbook, ansible-doc, python).
    tools: PathBuf,
    /// ANSIBLE_COLLECTIONS_PATH with venvaudit.python installed.
    collections: PathBuf,
    /// The OSV database (PyPI) the plan and the gates read.
    osv: PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let Collection { tmp, tools, collections, .. } = install_collection();
        let role = collections.join("ansible_collections/venvaudit/python/roles/remediate/tasks/main.yml");
        assert!(role.exists(), "the collection has no remediate role: {}", role.display());
        Fixture { tmp, tools, collections, osv: support::shared_data("osv-pypi.zip") }
    })
}

impl Fixture {
    /// A fresh directory for one test.
    fn dir(&self, name: &str) -> PathBuf {
        test_dir(&self.tmp, name)
    }

    /// `tool` (ansible-playbook, ansible-doc) with the collection and a quiet, local configuration.
    fn ansible(&self, mut cmd: Command) -> Command {
        ansible_env(&mut cmd, &self.collections, &self.tmp).env("VENVAUDIT_TODAY", TODAY);
        cmd
    }

    /// Write `play` to DIR/NAME.yml and run it on localhost with `cmd` (ansible-playbook, here or
    /// inside a namespace); its output goes to DIR/NAME.log.
    fn play_with(&self, cmd: Command, dir: &Path, name: &str, play: &str, args: &[&str]) -> Output {
        let file = dir.join(format!("{name}.yml"));
        std::fs::write(&file, play).unwrap();
        let extra = json!({"out": dir, "ansible_python_interpreter": self.tools.join("python")});
        run_play(&mut self.ansible(cmd), &extra, args, &file, &dir.join(format!("{name}.log")))
    }

    fn play(&self, dir: &Path, name: &str, play: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(self.tools.join("ansible-playbook"));
        cmd.current_dir(dir);
        self.play_with(cmd, dir, name, play, args)
    }
}

/// The role's variables as YAML flow mappings (JSON is YAML), one per line at `indent`.
fn role_vars(vars: &Value, indent: usize) -> String {
    vars.as_object().unwrap().iter().map(|(k, v)| format!("{:indent$}{k}: {v}\n", "")).collect()
}

/// A play that runs the role with `vars`, then saves what it left.
fn role_play(vars: &Value) -> String {
    format!(
        "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: venvaudit.python.remediate\n{}  tasks:\n{}{}{}",
        role_vars(vars, 6),
        save("remediate_result", "result"),
        save("remediate_plan", "plan"),
        save("remediate_gate | default(None)", "gate"),
    )
}

/// `text` with every line indented by `n` more spaces.
fn indent(text: &str, n: usize) -> String {
    text.lines().map(|l| format!("{:n$}{l}\n", "")).collect()
}

/// The newest pip wheel of the wheelhouse (its version, its path).
fn wheelhouse_pip() -> (String, PathBuf) {
    let mut best: Option<(Vec<u64>, String, PathBuf)> = None;
    for e in std::fs::read_dir(support::wheels()).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(version) = name.strip_prefix("pip-").and_then(|r| r.split('-').next()) else { continue };
        let Ok(key) = version.split('.').map(str::parse).collect::<Result<Vec<u64>, _>>() else { continue };
        if best.as_ref().is_none_or(|(k, _, _)| key > *k) {
            best = Some((key, version.to_owned(), e.path()));
        }
    }
    let (_, v, p) = best.expect("no pip wheel in the wheelhouse: run scripts/setup.sh");
    (v, p)
}

/// A pyenv 3.12 venv with the wheelhouse's newest pip (no vulnerable pip to plan) and Django
/// 3.2 (vulnerable; 3.2.25 fixes it), plus `extra` wheel files, installed by real pip run from
/// its own wheel.
fn vulnerable_venv(venv: &Path, extra: &[&Path]) {
    std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
    make_bare_venv(&pyenv("3.12"), venv);
    let (pip_version, pip_wheel) = wheelhouse_pip();
    run(Command::new(venv.join("bin/python"))
        .arg(pip_wheel.join("pip"))
        .args(["install", "--quiet", "--no-index", "--no-cache-dir", "--disable-pip-version-check", "--find-links"])
        .arg(support::wheels())
        .arg(format!("pip=={pip_version}"))
        .arg("Django==3.2")
        .args(extra));
    assert!(django(venv) == "3.2", "the venv does not start with Django 3.2");
}

/// Django's version in the venv, by its own `pip list`.
fn django(venv: &Path) -> String {
    pip_list_normalized(venv)
        .into_iter()
        .find(|(n, _)| n == "django")
        .map(|(_, v)| v)
        .unwrap_or_else(|| "not installed".into())
}

/// A real wheel of a tiny distribution `legacy-widgets 1.0` whose Requires-Dist is
/// `Django<3.2.20` (a dependent that blocks the fix), written with zipfile by pyenv's Python:
/// METADATA, WHEEL and a RECORD with the files' sha256.
fn blocking_wheel(dir: &Path) -> PathBuf {
    let script = r#"
import base64, hashlib, sys, zipfile
out = sys.argv[1] + "/legacy_widgets-1.0-py3-none-any.whl"
files = {
    "legacy_widgets/__init__.py": "VERSION = '1.0'\n",
    "legacy_widgets-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: legacy-widgets\nVersion: 1.0\nRequires-Dist: Django<3.2.20\n",
    "legacy_widgets-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: venvaudit-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = ""
for name, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record += "%s,sha256=%s,%d\n" % (name, digest, len(text.encode()))
record += "legacy_widgets-1.0.dist-info/RECORD,,\n"
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name, text in files.items():
        z.writestr(name, text)
    z.writestr("legacy_widgets-1.0.dist-info/RECORD", record)
print(out)
"#;
    let out = support::check_stdout(Command::new(pyenv("3.12")).arg("-c").arg(script).arg(dir));
    PathBuf::from(out)
}

/// Every file and directory below `root`: path -> (size, mtime seconds, mtime nanoseconds, mode).
fn fingerprint(root: &Path) -> BTreeMap<PathBuf, (u64, i64, i64, u32)> {
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, (u64, i64, i64, u32)>) {
        let m = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.insert(p.to_path_buf(), (m.size(), m.mtime(), m.mtime_nsec(), m.mode()));
        if m.is_dir() {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                walk(&e.path(), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, &mut out);
    out
}

/// The vulnerability findings of `package` in `venv` by a fresh `venvaudit check`.
fn vulnerabilities_of(f: &Fixture, venv: &Path, package: &str) -> Vec<String> {
    let (code, report, stderr) = support::run_json_cmd(
        Command::new(support::venvaudit())
            .env("VENVAUDIT_TODAY", TODAY)
            .arg("check")
            .arg(venv)
            .args(["--check", "vulnerabilities", "--no-processes", "--format", "json", "--osv-db"])
            .arg(&f.osv),
    );
    support::assert_ran(code, &stderr);
    support::findings(&report)
        .iter()
        .filter(|x| x["id"] == "vulnerability" && support::normalize(x["package"].as_str().unwrap_or("")) == package)
        .map(|x| x["details"]["advisory"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap_or_else(|| panic!("not a list: {v}")).iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

/// The role's variables for the venvs under DIR/srv: the wheels from the wheelhouse, no service
/// configuration (an empty DIR/no-config).
fn wheelhouse_vars(f: &Fixture, dir: &Path) -> Value {
    let config = dir.join("no-config");
    std::fs::create_dir_all(&config).unwrap();
    json!({
        "remediate_paths": [dir.join("srv")],
        "remediate_osv_db": f.osv,
        "remediate_find_links": support::wheels(),
        "remediate_config_root": config,
    })
}

/// (a) A vulnerable Django 3.2 with nothing in its way: the role gates Django 3.2.25 from the
/// wheelhouse against the venv, installs it with the venv's pip, and its own re-check passes.
#[test]
#[ignore = "real-tool tier: pyenv venvs, ansible-playbook (scripts/test.sh runs it)"]
fn a_vulnerable_django_is_upgraded_from_the_wheelhouse_and_verified() {
    let f = fixture();
    let dir = f.dir("fix");
    let venv = dir.join("srv/app/venv");
    vulnerable_venv(&venv, &[]);
    assert!(!vulnerabilities_of(f, &venv, "django").is_empty(), "Django 3.2 should start out vulnerable");

    let vars = wheelhouse_vars(f, &dir);
    let out = f.play(&dir, "play", &role_play(&vars), &[]);
    ok(&out);
    let log = text(&out);
    let message = format!("upgrade Django 3.2 -> 3.2.25 in {}", venv.display());
    assert!(log.contains(&format!("ready: {message}")), "the plan is shown:\n{log}");

    let result = read_json(&dir.join("result.json"));
    assert_eq!(strings(&result["applied"]), vec![message.clone()], "{result}");
    assert_eq!(result["verified"], json!(true), "the role's own re-check: {result}");
    assert_eq!(strings(&result["pip_check"]), vec!["No broken requirements found."], "{result}");
    assert_eq!(strings(&result["not_applied"]), Vec::<String>::new(), "{result}");
    // The gate judged exactly the wheel that was then installed, against this venv.
    let gate = &read_json(&dir.join("gate.json"))["results"][0];
    assert_eq!(gate["passed"], json!(true), "{gate}");
    let selected = &gate["artifact"]["selected"];
    assert_eq!(selected.as_array().map(Vec::len), Some(1), "{gate}");
    assert_eq!(selected[0]["file"], json!(support::wheels().join("Django-3.2.25-py3-none-any.whl")), "{gate}");
    assert_eq!(strings(&gate["artifact"]["changes"]["upgrade"]), vec!["Django 3.2 -> 3.2.25"], "{gate}");
    let plan = read_json(&dir.join("plan.json"));
    let step = &plan["steps"][0];
    assert_eq!((step["status"].as_str(), step["no_deps"].as_bool()), (Some("ready"), Some(true)), "{plan}");

    // Ground truth: the venv's own pip, and a second, independent check.
    assert_eq!(django(&venv), "3.2.25");
    assert_eq!(vulnerabilities_of(f, &venv, "django"), Vec::<String>::new());
    assert!(support::pip_check(&venv).is_empty(), "pip check: {:?}", support::pip_check(&venv));
}

/// (b) An installed distribution requires `Django<3.2.20`: the step is blocked, the play says
/// which dependent and specifier block it, Django is not touched; with
/// `remediate_fail_on_blocked` the role fails naming them.
#[test]
#[ignore = "real-tool tier: pyenv venvs, ansible-playbook (scripts/test.sh runs it)"]
fn b_an_upgrade_a_dependent_excludes_is_reported_and_not_applied() {
    let f = fixture();
    let dir = f.dir("blocked");
    let venv = dir.join("srv/legacy/venv");
    let wheel = blocking_wheel(&dir);
    vulnerable_venv(&venv, &[&wheel]);
    assert!(pip_list_normalized(&venv).contains(&("legacy-widgets".to_owned(), "1.0".to_owned())));
    let before = fingerprint(&venv);

    let vars = wheelhouse_vars(f, &dir);
    let strict = json!({"remediate_fail_on_blocked": true});
    // The role twice: as it is (report only), then with remediate_fail_on_blocked, whose failure
    // the rescue saves.
    let play = format!(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.include_role:\n        name: venvaudit.python.remediate\n      vars:\n{}{}    - block:\n        - ansible.builtin.include_role:\n            name: venvaudit.python.remediate\n          vars:\n{}{}      rescue:\n{}",
        role_vars(&vars, 8),
        save("remediate_result", "result"),
        role_vars(&vars, 12),
        role_vars(&strict, 12),
        indent(&save("ansible_failed_result", "strict"), 4),
    );
    let out = f.play(&dir, "play", &play, &[]);
    ok(&out);
    let log = text(&out);
    let message = "Django 3.2 -> 3.2.25 is blocked: legacy-widgets 1.0 requires Django<3.2.20; upgrade the dependent too or decide by hand";
    assert!(log.contains(&format!("blocked: {message}")), "the play shows the blocked step:\n{log}");

    let result = read_json(&dir.join("result.json"));
    assert_eq!(strings(&result["applied"]), Vec::<String>::new(), "{result}");
    assert_eq!(strings(&result["not_applied"]), vec![message.to_owned()], "{result}");
    let blocked = &result["blocked"][0];
    assert_eq!(blocked["package"], json!("django"), "{result}");
    assert_eq!(
        blocked["blocked_by"],
        json!([{"package": "legacy-widgets", "version": "1.0", "requirement": "Django<3.2.20"}]),
        "{result}"
    );
    assert_eq!(blocked["argv"], Value::Null, "a blocked step has no command: {result}");
    // remediate_fail_on_blocked: the role fails, naming the dependent and its specifier.
    let strict = read_json(&dir.join("strict.json"));
    assert_eq!(strict["failed"], json!(true), "{strict}");
    let msg = strict["msg"].as_str().unwrap();
    assert!(
        msg.contains("1 step(s) not applied") && msg.contains("legacy-widgets 1.0 requires Django<3.2.20"),
        "{msg}"
    );

    // Nothing was installed: pip says 3.2, and not a file of the venv changed.
    assert_eq!(django(&venv), "3.2");
    assert!(fingerprint(&venv) == before, "the venv changed although the step was blocked");
}

/// (c) and (d): a real systemd unit runs the venv's python. `--check` shows the plan and the
/// command it would run and changes nothing (every file of the venv, the unit's PID); the real
/// run downloads the wheel with the venv's own pip ("index" mode, the index being the
/// wheelhouse), gates it, installs it, and the handler restarts exactly that unit.
#[test]
#[ignore = "real-tool tier: pyenv venvs, ansible-playbook, a private systemd (needs root; scripts/test.sh runs it)"]
fn c_d_check_mode_changes_nothing_and_the_planned_unit_is_restarted() {
    let f = fixture();
    let dir = f.dir("systemd");
    let sd =
        real_systemd::RealSystemd::start(&dir.join("systemd")).expect("a private systemd (tests/support/systemd.rs)");
    let venv = dir.join("srv/demo/venv");
    vulnerable_venv(&venv, &[]);
    let unit = "venvaudit-demo.service";
    let unit_text = format!(
        "[Unit]\nDescription=venvaudit remediate demo\n[Service]\nExecStart={} -c \"import time; time.sleep(1000000)\"\n",
        venv.join("bin/python").display()
    );
    // venvaudit reads the unit under config_root; the private systemd runs the same text.
    let config = dir.join("config");
    support::write(&config.join("etc/systemd/system").join(unit), &unit_text);
    sd.install_unit(unit, &unit_text).unwrap();
    sd.systemctl(&["start", unit]).unwrap();
    let pid = sd.main_pid(unit).expect("the demo unit runs");

    let vars = json!({
        "remediate_paths": [dir.join("srv")],
        "remediate_osv_db": f.osv,
        "remediate_config_root": config,
        // index mode: `pip download` by the venv's pip, from the wheelhouse instead of PyPI
        "remediate_index_args": ["--no-index", "--find-links", support::wheels()],
    });
    let play = role_play(&vars);
    let playbook = || sd.command_in(&dir, f.tools.join("ansible-playbook"));
    let message = format!("upgrade Django 3.2 -> 3.2.25 in {}", venv.display());

    // (d) check mode: the plan and the command are printed, nothing changes.
    let before = fingerprint(&venv);
    let out = f.play_with(playbook(), &dir, "check", &play, &["--check"]);
    ok(&out);
    let log = text(&out);
    assert!(log.contains(&format!("ready: {message}")), "check mode shows the plan:\n{log}");
    assert!(log.contains(&format!("restart after: {unit}")), "check mode names the restart:\n{log}");
    let command = format!("{} -m pip install --no-deps Django==3.2.25", venv.join("bin/python").display());
    assert!(log.contains(&command), "check mode shows the command it would run:\n{log}");
    let result = read_json(&dir.join("result.json"));
    assert_eq!(result["check_mode"], json!(true), "{result}");
    assert_eq!(strings(&result["would_apply"]), vec![message.clone()], "{result}");
    assert_eq!(strings(&result["applied"]), Vec::<String>::new(), "{result}");
    assert_eq!(strings(&result["restarted"]), Vec::<String>::new(), "{result}");
    let after = fingerprint(&venv);
    let changed: Vec<&PathBuf> = before
        .keys()
        .chain(after.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert!(changed.is_empty(), "check mode changed the venv: {changed:?}");
    assert_eq!(sd.main_pid(unit), Some(pid), "check mode restarted the unit");
    assert_eq!(django(&venv), "3.2");

    // (c) the real run: the plan names the unit, the handler restarts it.
    let out = f.play_with(playbook(), &dir, "apply", &play, &[]);
    ok(&out);
    let plan = read_json(&dir.join("plan.json"));
    assert_eq!(strings(&plan["restart"]), vec![unit], "{plan}");
    let result = read_json(&dir.join("result.json"));
    assert_eq!(strings(&result["applied"]), vec![message], "{result}");
    assert_eq!(strings(&result["restarted"]), vec![unit], "{result}");
    assert_eq!(result["verified"], json!(true), "{result}");
    let gate = &read_json(&dir.join("gate.json"))["results"][0];
    let file = gate["artifact"]["selected"][0]["file"].as_str().unwrap_or("");
    assert!(
        file.ends_with("/Django-3.2.25-py3-none-any.whl") && !file.starts_with(&*support::wheels().to_string_lossy()),
        "the gate judged the downloaded wheel: {gate}"
    );
    let new_pid = sd.main_pid(unit).expect("the demo unit runs again");
    assert_ne!(new_pid, pid, "the unit was not restarted");
    assert_eq!(sd.active_state(unit).as_deref(), Some("active"));
    assert_eq!(django(&venv), "3.2.25");
    assert_eq!(vulnerabilities_of(f, &venv, "django"), Vec::<String>::new());
}

/// ansible-doc -j of a plugin.
fn doc_json(f: &Fixture, args: &[&str], name: &str) -> Value {
    let mut cmd = Command::new(f.tools.join("ansible-doc"));
    cmd.current_dir(&f.tmp);
    ansible_support::doc_json(f.ansible(cmd).args(args), name)
}

/// venv_plan is documented as the binary implements it (its `checks` choices written by
/// build.sh from `venv_plan --argspec`), and the role's argument spec renders.
#[test]
#[ignore = "real-tool tier: ansible-doc on the built collection (scripts/test.sh runs it)"]
fn venv_plan_and_the_role_are_documented() {
    let f = fixture();
    let plan = doc_json(f, &[], "venvaudit.python.venv_plan");
    assert_doc_matches_spec(&plan["doc"]["options"], PLAN_SPEC, "venv_plan");
    assert_doc_matches_spec(&plan["doc"]["options"]["ignore"]["suboptions"], IGNORE_SPEC, "venv_plan.ignore");
    assert_eq!(plan["doc"]["attributes"]["check_mode"]["support"], json!("full"));
    for key in ["steps", "restart", "plan", "planned", "complete"] {
        assert!(plan["return"][key].is_object(), "RETURN lacks {key}: {}", plan["return"]);
    }
    assert!(plan["examples"].as_str().unwrap().contains("venvaudit.python.remediate"));
    assert_choices_left_to_build("venv_plan");

    let role = doc_json(f, &["-t", "role"], "venvaudit.python.remediate");
    let options = &role["entry_points"]["main"]["options"];
    for var in
        ["remediate_paths", "remediate_find_links", "remediate_apply_blocked", "remediate_restart", "remediate_verify"]
    {
        assert!(options[var].is_object(), "the role documents {var}: {role}");
    }
    // Every default of the role is documented, with the same value.
    let defaults = support::repo_root().join("ansible/roles/remediate/defaults/main.yml");
    let text = std::fs::read_to_string(&defaults).unwrap();
    let names: BTreeSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(':') && !l.starts_with("---"))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    let documented: BTreeSet<&str> = options.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, documented, "defaults/main.yml vs meta/argument_specs.yml");
}
