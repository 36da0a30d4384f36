//! The Salt state `venvaudit.remediated` (salt/_states/venvaudit.py, salt/venvaudit/remediate.sls)
//! and the execution module's `venvaudit.plan` / `venvaudit.query` with `from_facts`, driven by a
//! real masterless `salt-call --local`, offline, against real pyenv CPython 3.12 venvs:
//!
//! - a venv with Django 3.2 is fixed: real pip shows 3.2.25 afterwards and a second
//!   `venvaudit check` finds no Django advisory; an upgrade blocked by a real installed
//!   distribution requiring `Django<3.2.20` is reported and not applied; a plan step whose wheel is
//!   not in the wheelhouse fails the artefact gate and nothing is installed (one state.apply of
//!   remediate.sls with a list in pillar);
//! - without `find_links` the environment's pip downloads the pin first (here from the wheelhouse
//!   through `PIP_NO_INDEX`/`PIP_FIND_LINKS`, so it stays offline);
//! - inside a real private systemd ([`real_systemd`]) a unit running the venv's Python is
//!   restarted (its MainPID changes) after the upgrade, and `test=True` before it changes nothing
//!   (every file of the venv keeps its path, size, mtime and mode; MainPID unchanged).
//!
//! Each venv is a `cp -a` copy of one of two templates made once per process (pip installs of
//! Django take seconds); the three tests run in parallel with their own minion config dirs.
//! salt-call is `$VENVAUDIT_SALT_CALL`, else `.tools/venv/bin/salt-call`, else PATH.

mod support;

#[path = "support/systemd.rs"]
mod real_systemd;

#[path = "support/salt.rs"]
mod salt_support;

use salt_support::{Call, Minion, by_id, salt_call_path};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

const UNIT: &str = "venvaudit-demo.service";

/// A scratch directory under cargo's target/tmp, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("remediate-salt-{name}"));
    support::force_remove(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn osv_db() -> String {
    support::shared_data("osv-pypi.zip").display().to_string()
}

fn wheels() -> String {
    support::wheels().display().to_string()
}

/// Template venvs (pyenv CPython 3.12): `old_pip` has Django 3.2 and the pip of the CPython
/// (23.2.1, whose fix 23.3 is not in the wheelhouse); `dj` has Django 3.2 and pip 25.0.1 (no
/// advisory), so its plan is the Django step alone. `dist` holds the real wheel of `djpinner`
/// 1.0, which requires `Django<3.2.20`.
struct Templates {
    old_pip: PathBuf,
    dj: PathBuf,
    dist: PathBuf,
}

fn templates() -> &'static Templates {
    static T: OnceLock<Templates> = OnceLock::new();
    T.get_or_init(|| {
        let started = Instant::now();
        let dir = scratch("templates");
        let python = support::pyenv("3.12");
        let old_pip = dir.join("old-pip");
        support::check(support::py_cmd(&python).args(["-m", "venv"]).arg(&old_pip));
        pip_install(&old_pip, "Django==3.2");
        let dj = dir.join("dj");
        copy_venv(&old_pip, &dj);
        pip_install(&dj, "pip==25.0.1");
        // A tiny real distribution pinning Django below the fix, built by setuptools into a wheel.
        let src = dir.join("djpinner-src");
        support::write(
            &src.join("pyproject.toml"),
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
             [project]\nname = \"djpinner\"\nversion = \"1.0\"\ndependencies = [\"Django<3.2.20\"]\n",
        );
        support::write(&src.join("src/djpinner/__init__.py"), "");
        let dist = dir.join("dist");
        support::check(
            support::py_cmd(support::tools_venv().join("bin/python"))
                .args(["-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w"])
                .arg(&dist)
                .arg(&src),
        );
        assert!(dist.join("djpinner-1.0-py3-none-any.whl").is_file(), "djpinner wheel not built");
        eprintln!("templates made in {:.1?}", started.elapsed());
        Templates { old_pip, dj, dist }
    })
}

/// `pip install` from the wheelhouse, offline, without compiling bytecode (Django's takes seconds).
fn pip_install(venv: &Path, pin: &str) {
    support::check(support::py_cmd(venv.join("bin/python")).env("PIP_NO_COMPILE", "1").args([
        "-m",
        "pip",
        "install",
        "-q",
        "--no-index",
        "--find-links",
        &wheels(),
        pin,
    ]));
}

fn copy_venv(template: &Path, dst: &Path) {
    support::check(Command::new("cp").arg("-a").arg(template).arg(dst));
}

/// The version real pip reports for `name` in `venv`.
fn pip_version(venv: &Path, name: &str) -> Option<String> {
    support::pip_list(venv).into_iter().find(|(n, _)| support::normalize(n) == name).map(|(_, v)| v)
}

/// Every file, directory and symlink below `dir`: (size, mtime in ns, mode, link target).
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, (u64, i128, u32, Option<PathBuf>)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read_dir {}: {e}", d.display())) {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let link = m.file_type().is_symlink().then(|| std::fs::read_link(&p).unwrap());
            if m.is_dir() {
                todo.push(p.clone());
            }
            let mtime = m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128;
            out.insert(p, (m.len(), mtime, m.mode(), link));
        }
    }
    out
}

/// A masterless minion under `dir` ([`Minion::with_binary`]: the installer is shadowed, as
/// tests/salt.rs covers it), its modules and states synced.
fn minion(dir: &Path) -> Minion {
    let m = Minion::with_binary(dir);
    m.sync_with(&mut offline(support::py_cmd(salt_call_path())), &["modules", "states"]);
    m
}

/// `cmd` (the salt-call program, perhaps wrapped by nsenter), offline and quick: never a
/// package index, no bytecode compilation of Django.
fn offline(mut cmd: Command) -> Command {
    cmd.env("PIP_NO_COMPILE", "1").env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    cmd
}

impl Minion {
    fn call(&self, args: &[&str]) -> Call {
        self.call_with(support::py_cmd(salt_call_path()), args)
    }

    /// salt-call ARGS through `cmd` (the salt-call program, perhaps wrapped by nsenter).
    fn call_with(&self, cmd: Command, args: &[&str]) -> Call {
        self.salt_call(&mut offline(cmd), args)
    }
}

fn comment(s: &Value) -> &str {
    s["comment"].as_str().unwrap_or_default()
}

/// Fixed, blocked and gate-stopped in one state.apply of remediate.sls (pillar list), then the
/// execution module's plan and query from cached facts.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, salt-call (scripts/test.sh runs it)"]
fn remediated_fixes_reports_blocked_and_gates_before_installing() {
    let t = templates();
    let dir = scratch("fix");
    let fixed = dir.join("srv/fixed/venv");
    let blocked = dir.join("srv/blocked/venv");
    let gated = dir.join("srv/gated/venv");
    for (tpl, dst) in [(&t.dj, &fixed), (&t.dj, &blocked), (&t.old_pip, &gated)] {
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        copy_venv(tpl, dst);
    }
    // The dependent, installed by real pip from its real wheel.
    support::check(
        support::py_cmd(blocked.join("bin/python"))
            .args(["-m", "pip", "install", "-q", "--no-index", "--find-links"])
            .arg(&t.dist)
            .args(["--find-links", &wheels(), "djpinner==1.0"]),
    );
    assert_eq!(pip_version(&blocked, "djpinner").as_deref(), Some("1.0"));
    let minion = minion(&dir);

    let item = |venv: &Path| json!({"name": venv, "osv_db": osv_db(), "find_links": wheels()});
    let pillar = json!({"venvaudit": {"remediate": [item(&fixed), item(&blocked), item(&gated)]}});
    let c = minion.call(&["state.apply", "venvaudit.remediate", &format!("pillar={pillar}")]);
    let states = by_id(&c);
    assert_ne!(c.code, 0, "the gate-stopped state fails the run: {states:#?}");
    assert_eq!(states["venvaudit-binary"]["result"], json!(true), "{states:#?}");

    // 1. Fixed: Django 3.2 -> 3.2.25 by real pip, the advisories gone, pip check clean.
    let s = &states["venvaudit-remediate-0"];
    assert_eq!(s["result"], json!(true), "{s:#}");
    let venv_key = fixed.display().to_string();
    assert_eq!(s["changes"]["upgraded"][&venv_key]["Django"], json!({"old": "3.2", "new": "3.2.25"}), "{s:#}");
    assert!(s["changes"].get("restarted").is_none(), "nothing uses this venv: {s:#}");
    for line in
        ["Gate: pass for", "Installed Django==3.2.25 in", "Verified: no finding of the 1 applied step(s) remains"]
    {
        assert!(comment(s).contains(line), "{line:?} not in {}", comment(s));
    }
    assert_eq!(pip_version(&fixed, "django").as_deref(), Some("3.2.25"));
    assert_eq!(pip_version(&fixed, "asgiref"), pip_version(&t.dj, "asgiref"), "--no-deps: the rest is untouched");
    assert!(support::pip_check(&fixed).is_empty(), "{:?}", support::pip_check(&fixed));
    let (_, report, err) = support::run(&["check", fixed.to_str().unwrap(), "--osv-db", &osv_db(), "--format", "json"]);
    let django_vulns: Vec<&Value> = support::findings(&report)
        .iter()
        .filter(|f| {
            f["id"] == "vulnerability" && f["package"].as_str().map(support::normalize).as_deref() == Some("django")
        })
        .collect();
    assert!(django_vulns.is_empty(), "still vulnerable after the fix: {django_vulns:#?}\n{err}");
    // The template still has them (so the check above can fail).
    let (_, report, _) = support::run(&["check", t.dj.to_str().unwrap(), "--osv-db", &osv_db(), "--format", "json"]);
    assert!(
        support::findings(&report).iter().any(|f| f["id"] == "vulnerability" && f["package"] == "Django"),
        "the template should have Django advisories"
    );

    // 2. Blocked by djpinner's `Django<3.2.20`: reported, not applied, the state passes.
    let s = &states["venvaudit-remediate-1"];
    assert_eq!(s["result"], json!(true), "{s:#}");
    assert_eq!(s["changes"], json!({}), "{s:#}");
    assert!(comment(s).contains("Nothing to apply."), "{}", comment(s));
    assert!(
        comment(s).contains("[blocked]") && comment(s).contains("djpinner 1.0 requires Django<3.2.20"),
        "{}",
        comment(s)
    );
    assert_eq!(pip_version(&blocked, "django").as_deref(), Some("3.2"));

    // 3. pip 23.2.1 -> 23.3 has no wheel in the wheelhouse: the gate fails before any install,
    //    so the ready Django step of the same venv is not applied either.
    let s = &states["venvaudit-remediate-2"];
    assert_eq!(s["result"], json!(false), "{s:#}");
    assert_eq!(s["changes"], json!({}), "{s:#}");
    for line in
        ["Nothing was installed: the artefact gate failed.", "Gate: FAIL for", "artifact-file-missing", "pip==23.3"]
    {
        assert!(comment(s).contains(line), "{line:?} not in {}", comment(s));
    }
    assert_eq!(pip_version(&gated, "django").as_deref(), Some("3.2"));
    assert_eq!(pip_version(&gated, "pip").as_deref(), Some("23.2.1"));

    // 4. The execution module from cached facts: a mine-like file (host -> compact facts) of the
    //    still-vulnerable blocked venv.
    let (code, facts, err) =
        support::run(&["facts", blocked.to_str().unwrap(), "--detail", "compact", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let cache = dir.join("mine.json");
    std::fs::write(&cache, json!({"web1": facts}).to_string()).unwrap();
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, "web1\nweb2\n").unwrap();
    let c =
        minion.call(&["venvaudit.plan", &format!("from_facts={}", cache.display()), &format!("osv_db={}", osv_db())]);
    assert_eq!(c.code, 0, "a plan is a result: {}", c.stderr);
    let p = &c.json;
    assert_eq!((&p["planned"], &p["hosts_answered"]), (&json!(true), &json!(1)), "{p:#}");
    let step =
        p["steps"].as_array().unwrap().iter().find(|s| s["package"] == "django").unwrap_or_else(|| panic!("{p:#}"));
    assert_eq!((&step["host"], &step["to_version"]), (&json!("web1"), &json!("3.2.25")), "{step:#}");
    assert_eq!(step["venv"], json!(blocked), "{step:#}");
    let c = minion.call(&[
        "venvaudit.query",
        "django<3.2.25",
        &format!("from_facts={}", cache.display()),
        &format!("hosts={}", hosts.display()),
        "max_age=30",
    ]);
    assert_eq!(c.code, 0, "a match is a result: {}", c.stderr);
    let q = &c.json;
    assert_eq!(q["matched"], json!(true), "{q:#}");
    assert_eq!(q["matches"][0]["host"], json!("web1"), "{q:#}");
    assert_eq!(q["matches"][0]["version"], json!("3.2"), "{q:#}");
    assert_eq!(q["complete"], json!(false), "web2 has no facts: {q:#}");
    assert_eq!(q["hosts_unknown"][0]["host"], json!("web2"), "{q:#}");
}

/// No `find_links`: the environment's pip downloads the pin into a temporary directory, which
/// is gated, installed from and removed. pip's index is the wheelhouse here (PIP_NO_INDEX and
/// PIP_FIND_LINKS in salt-call's environment), so this stays offline.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, salt-call (scripts/test.sh runs it)"]
fn remediated_without_find_links_downloads_the_pin_first() {
    let t = templates();
    let dir = scratch("download");
    let venv = dir.join("app/venv");
    std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
    copy_venv(&t.dj, &venv);
    let minion = minion(&dir);
    let mut cmd = support::py_cmd(salt_call_path());
    cmd.env("PIP_NO_INDEX", "1").env("PIP_FIND_LINKS", wheels());
    let c = minion.call_with(
        cmd,
        &["state.single", "venvaudit.remediated", &format!("name={}", venv.display()), &format!("osv_db={}", osv_db())],
    );
    let states = by_id(&c);
    let s = states.values().next().unwrap();
    assert_eq!((c.code, &s["result"]), (0, &json!(true)), "{s:#}\n{}", c.stderr);
    assert_eq!(pip_version(&venv, "django").as_deref(), Some("3.2.25"));
    // The gate judged the downloaded wheel, in the state's temporary directory (now removed).
    let gate = comment(s).lines().find(|l| l.starts_with("Gate: pass for")).unwrap_or_else(|| panic!("{}", comment(s)));
    let file = gate.rsplit_once('(').map(|(_, f)| f.trim_end_matches(')')).unwrap_or_default();
    assert!(file.contains("venvaudit-remediate-") && file.ends_with("/Django-3.2.25-py3-none-any.whl"), "{gate}");
    assert!(!Path::new(file).exists(), "the download directory was not removed: {file}");
}

/// Inside a real systemd: test=True shows the plan and changes nothing (venv tree, MainPID);
/// the real run upgrades and restarts the unit the plan names (MainPID changes).
#[test]
#[ignore = "real-tool tier: a private systemd (root), pyenv venvs, salt-call (scripts/test.sh runs it)"]
fn remediated_restarts_the_unit_and_test_mode_changes_nothing() {
    let t = templates();
    let dir = scratch("systemd");
    let sd = real_systemd::RealSystemd::start(&dir.join("sd")).expect("a real systemd for the restart test");
    let venv = dir.join("srv/app/venv");
    std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
    copy_venv(&t.dj, &venv);
    let unit = format!(
        "[Unit]\nDescription=venvaudit remediation demo\n\n[Service]\nEnvironment=PYTHONDONTWRITEBYTECODE=1\n\
         ExecStart={}/bin/python -c \"import time; time.sleep(1000000)\"\n",
        venv.display()
    );
    // The plan sees the unit through config_root (the same text the manager runs).
    let config_root = dir.join("config");
    support::write(&config_root.join("etc/systemd/system").join(UNIT), &unit);
    sd.install_unit(UNIT, &unit).unwrap();
    sd.systemctl(&["start", UNIT]).unwrap();
    let before = sd.main_pid(UNIT).expect("the demo unit runs");
    let minion = minion(&dir);
    let args = |test: bool| -> Vec<String> {
        let mut a = vec![
            "state.single".to_owned(),
            "venvaudit.remediated".to_owned(),
            format!("name={}", venv.display()),
            format!("osv_db={}", osv_db()),
            format!("find_links={}", wheels()),
            format!("config_root={}", config_root.display()),
        ];
        if test {
            a.push("test=True".to_owned());
        }
        a
    };
    let call = |test: bool| {
        let a = args(test);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        minion.call_with(sd.command(salt_call_path()), &a)
    };

    let tree = fingerprint(&venv);
    let c = call(true);
    let s = by_id(&c).into_values().next().unwrap();
    assert_eq!(s["result"], Value::Null, "test mode: would change: {s:#}\n{}", c.stderr);
    assert!(
        comment(&s).contains("Test mode: 1 step(s) would be gated and applied, then restarted: venvaudit-demo.service"),
        "{}",
        comment(&s)
    );
    assert!(comment(&s).contains("- Django 3.2 -> 3.2.25 in "), "{}", comment(&s));
    let key = venv.display().to_string();
    assert_eq!(s["changes"]["upgraded"][&key]["Django"], json!({"old": "3.2", "new": "3.2.25"}), "{s:#}");
    assert_eq!(s["changes"]["restarted"], json!([UNIT]), "{s:#}");
    assert_eq!(fingerprint(&venv), tree, "test=True changed the venv");
    assert_eq!(sd.main_pid(UNIT), Some(before), "test=True restarted the unit");
    assert_eq!(pip_version(&venv, "django").as_deref(), Some("3.2"));

    let c = call(false);
    let s = by_id(&c).into_values().next().unwrap();
    assert_eq!((c.code, &s["result"]), (0, &json!(true)), "{s:#}\n{}", c.stderr);
    assert_eq!(s["changes"]["restarted"], json!([UNIT]), "{s:#}");
    assert!(comment(&s).contains(&format!("Restarted: service.restart {UNIT}")), "{}", comment(&s));
    let after = sd.main_pid(UNIT).expect("the unit runs again");
    assert_ne!(after, before, "MainPID unchanged: the unit was not restarted");
    assert_eq!(sd.active_state(UNIT).as_deref(), Some("active"));
    assert_eq!(pip_version(&venv, "django").as_deref(), Some("3.2.25"));
}
