//! `venvaudit plan`: real venvs of pyenv's CPython 3.12 with real wheels from the offline
//! wheelhouse, the PyPA advisory snapshot (../shared/osv-pypi.zip), and the truth from the
//! real tools: the plan's own command is run with real pip / uv, then `pip list` and
//! `pip check` say whether it did what the plan said (fixed, nothing broken), and a blocked
//! step is shown to be a real `pip check` failure when forced.

mod support;
#[path = "support/wheel.rs"]
mod wheel;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const TIER: &str = "real-tool tier: pyenv venvs, pip, uv, the OSV snapshot (scripts/test.sh runs it)";

fn osv_db() -> String {
    shared_data("osv-pypi.zip").display().to_string()
}

/// A venv of pyenv's 3.12 with pip 26.3 (not vulnerable in the snapshot) and `pkgs`, from the
/// offline wheelhouse (and `extra_links`).
fn venv_with(path: &Path, pkgs: &[&str], extra_links: Option<&Path>) {
    check(Command::new(pyenv("3.12")).args(["-m", "venv"]).arg(path));
    let mut pip = Command::new(path.join("bin/python"));
    pip.args(["-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check", "--find-links"]).arg(wheels());
    if let Some(l) = extra_links {
        pip.arg("--find-links").arg(l);
    }
    check(pip.arg("pip==26.3").args(pkgs));
}

/// `pip list` of a venv (real pip): normalized name -> version.
fn pip_list(venv: &Path) -> std::collections::BTreeMap<String, String> {
    let out = check_stdout(Command::new(venv.join("bin/python")).args([
        "-m",
        "pip",
        "list",
        "--format",
        "json",
        "--disable-pip-version-check",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (normalize(p["name"].as_str().unwrap()), p["version"].as_str().unwrap().to_owned()))
        .collect()
}

/// `pip check`: (exit code, output).
fn pip_check(venv: &Path) -> (i32, String) {
    let out = Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "check", "--disable-pip-version-check"])
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `venvaudit plan ARGS --format json`: (exit code, plan).
fn plan(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["plan", "--format", "json", "--no-processes"];
    all.extend_from_slice(args);
    let (code, v, err) = run(&all);
    assert!(code == 0 || code == 1, "plan exited {code}: {err}");
    (code, v)
}

fn steps_of<'a>(plan: &'a Value, package: &str) -> Vec<&'a Value> {
    plan["steps"].as_array().unwrap().iter().filter(|s| s["package"] == package).collect()
}

/// Run a step's own argv, offline: `--no-index --find-links WHEELHOUSE` after `install`.
fn apply(step: &Value, links: &[&Path]) {
    let argv: Vec<String> = step["argv"]
        .as_array()
        .expect("a ready step has argv")
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let at = argv.iter().position(|a| a == "install").unwrap() + 1;
    let mut offline: Vec<String> = argv[..at].to_vec();
    offline.push("--no-index".into());
    for l in links {
        offline.push("--find-links".into());
        offline.push(l.display().to_string());
    }
    offline.extend_from_slice(&argv[at..]);
    let program = if offline[0] == "uv" { tools_bin("uv") } else { PathBuf::from(&offline[0]) };
    check(Command::new(program).args(&offline[1..]));
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, uv, the OSV snapshot (scripts/test.sh runs it)"]
fn vulnerable_django_gets_the_smallest_fixed_release_which_pip_installs_cleanly() {
    let _ = TIER;
    let dir = TempDir::new();
    let venv = dir.join("app");
    venv_with(&venv, &["Django==3.2"], None);
    let (code, p) = plan(&[dir.path().to_str().unwrap(), "--osv-db", &osv_db()]);
    assert_eq!(code, 1, "{p:#}");
    assert_eq!(p["planned"], true);
    let steps = steps_of(&p, "django");
    assert_eq!(steps.len(), 1, "{p:#}");
    let s = steps[0];
    assert_eq!((s["from_version"].as_str(), s["to_version"].as_str()), (Some("3.2"), Some("3.2.25")), "{s:#}");
    assert_eq!(
        (s["status"].as_str(), s["kind"].as_str(), s["installer"].as_str()),
        (Some("ready"), Some("upgrade"), Some("pip"))
    );
    assert_eq!(s["blocked_by"], json!([]));
    assert_eq!(s["no_deps"], true, "a release of the same series installs with --no-deps");
    // Minimal: an advisory that affects 3.2 names 3.2.25 as its fix, so 3.2.24 is not enough.
    let fixes: Vec<&str> = s["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["fixed_versions"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert!(fixes.contains(&"3.2.25"), "{fixes:?}");
    let argv: Vec<&str> = s["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(same_path(argv[0], &venv.join("bin/python")), "{argv:?}");
    assert_eq!(argv[1..], ["-m", "pip", "install", "--no-deps", "Django==3.2.25"]);
    assert_eq!(s["command"], argv.join(" "));

    // The truth: the plan's own command, run by real pip, fixes it and breaks nothing.
    apply(s, &[&wheels()]);
    assert_eq!(pip_list(&venv)["django"], "3.2.25");
    assert_eq!(pip_check(&venv).0, 0, "{}", pip_check(&venv).1);
    let (code, after) = plan(&[dir.path().to_str().unwrap(), "--osv-db", &osv_db()]);
    assert_eq!((code, after["steps"].as_array().unwrap().len()), (0, 0), "{after:#}");
    assert_eq!(after["complete"], true);
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, uv, the OSV snapshot (scripts/test.sh runs it)"]
fn an_upper_bound_of_a_dependent_blocks_the_step_and_pip_check_agrees() {
    let dir = TempDir::new();
    let links = dir.join("links");
    // A real distribution that pins Django below the fix.
    wheel::pure_wheel(&links, "pinsdjango", "1.0", "Requires-Dist: Django<3.2.20\n");
    let venv = dir.join("pinned");
    venv_with(&venv, &["Django==3.2", "pinsdjango==1.0"], Some(&links));
    let (code, p) = plan(&[venv.to_str().unwrap(), "--osv-db", &osv_db()]);
    assert_eq!(code, 1);
    let s = steps_of(&p, "django")[0];
    assert_eq!(s["status"], "blocked", "{s:#}");
    assert_eq!(s["to_version"], "3.2.25");
    assert_eq!(s["command"], Value::Null);
    assert_eq!(s["restart"], json!([]));
    assert_eq!(s["blocked_by"], json!([{"package": "pinsdjango", "version": "1.0", "requirement": "Django<3.2.20"}]));
    assert_eq!(p["summary"]["blocked"], 1);
    assert_matches_schema("schema/plan.schema.json", &p);
    // Forced anyway, real pip check names the dependent the plan named.
    assert_eq!(pip_check(&venv).0, 0);
    check(
        Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "-q", "--no-index", "--no-deps", "--find-links"])
            .arg(wheels())
            .arg("Django==3.2.25"),
    );
    let (rc, out) = pip_check(&venv);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("pinsdjango 1.0 has requirement Django<3.2.20"), "{out}");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, uv, the OSV snapshot (scripts/test.sh runs it)"]
fn the_lock_pins_win_and_applying_them_ends_the_drift() {
    let dir = TempDir::new();
    let venv = dir.join("locked");
    venv_with(&venv, &["Django==4.2.16"], None);
    let installed = pip_list(&venv);
    let lock = dir.join("requirements.txt");
    let mut text = String::new();
    for (n, v) in &installed {
        if n == "django" {
            text.push_str("django==3.2.25\n");
        } else if n != "pip" {
            text.push_str(&format!("{n}=={v}\n"));
        }
    }
    text.push_str("pytz==2026.6\n");
    write(&lock, &text);
    let args = [venv.to_str().unwrap(), "--lock", lock.to_str().unwrap(), "--check", "drift"];
    let (code, p) = plan(&args);
    assert_eq!(code, 1, "{p:#}");
    let django = steps_of(&p, "django")[0];
    assert_eq!(
        (django["kind"].as_str(), django["to_version"].as_str()),
        (Some("downgrade"), Some("3.2.25")),
        "{django:#}"
    );
    assert!(django["why"].as_str().unwrap().contains("lock pins"), "{django:#}");
    assert_eq!(django["no_deps"], true);
    let pytz = steps_of(&p, "pytz")[0];
    assert_eq!(
        (pytz["kind"].as_str(), pytz["from_version"].as_str(), pytz["to_version"].as_str()),
        (Some("install"), None, Some("2026.6"))
    );
    assert_eq!(p["lock"], lock.to_str().unwrap());
    for s in [django, pytz] {
        apply(s, &[&wheels()]);
    }
    let (code, after) = plan(&args);
    assert_eq!((code, after["steps"].as_array().unwrap().len()), (0, 0), "{after:#}");
    assert_eq!(pip_check(&venv).0, 0);
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, uv, the OSV snapshot (scripts/test.sh runs it)"]
fn a_uv_environment_is_planned_with_uv_and_a_forbidden_range_is_left_at_its_bound() {
    let dir = TempDir::new();
    let venv = dir.join("uvenv");
    let uv = tools_bin("uv");
    check(Command::new(&uv).args(["venv", "-q", "--python"]).arg(pyenv("3.12")).arg(&venv));
    check(
        Command::new(&uv)
            .args(["pip", "install", "-q", "--offline", "--no-index", "--python"])
            .arg(venv.join("bin/python"))
            .arg("--find-links")
            .arg(wheels())
            .arg("Django==3.2"),
    );
    let (code, p) =
        plan(&[venv.to_str().unwrap(), "--forbid", "django<4.2.16", "--check", "forbidden", "--osv-db", &osv_db()]);
    assert_eq!(code, 1, "{p:#}");
    let s = steps_of(&p, "django")[0];
    assert_eq!((s["to_version"].as_str(), s["installer"].as_str()), (Some("4.2.16"), Some("uv")), "{s:#}");
    let argv: Vec<&str> = s["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(argv[..4], ["uv", "pip", "install", "--python"]);
    // Another series: the installer resolves the new release's own requirements.
    assert_eq!(s["no_deps"], false);
    assert!(s["no_deps_why"].as_str().unwrap().contains("not known offline"), "{s:#}");
    let mut offline = s.clone();
    let mut argv: Vec<Value> = s["argv"].as_array().unwrap().clone();
    argv.insert(3, json!("--offline"));
    offline["argv"] = json!(argv);
    apply(&offline, &[&wheels()]);
    let (code, after) =
        plan(&[venv.to_str().unwrap(), "--forbid", "django<4.2.16", "--check", "forbidden", "--osv-db", &osv_db()]);
    assert_eq!(code, 0, "{after:#}");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, uv, the OSV snapshot (scripts/test.sh runs it)"]
fn restarts_come_from_the_services_that_use_the_venv() {
    let dir = TempDir::new();
    let venv = dir.join("srv/web");
    venv_with(&venv, &["Django==3.2"], None);
    let v = venv.display().to_string();
    let conf = dir.join("conf");
    write(
        &conf.join("etc/systemd/system/web.service"),
        format!("[Service]\nExecStart={v}/bin/python -m http.server\n"),
    );
    write(
        &conf.join("etc/supervisor/conf.d/worker.conf"),
        format!("[program:worker]\ncommand={v}/bin/python -m worker\n"),
    );
    write(&conf.join("etc/apache2/apache2.conf"), "IncludeOptional sites-enabled/*.conf\n");
    write(&conf.join("etc/apache2/sites-enabled/web.conf"), format!("WSGIDaemonProcess web python-home={v}\n"));
    write(&conf.join("etc/uwsgi/apps-enabled/web.ini"), format!("[uwsgi]\nvirtualenv = {v}\n"));
    write(&conf.join("etc/cron.d/report"), format!("0 3 * * * root {v}/bin/python -m report\n"));
    let (code, p) = plan(&[venv.to_str().unwrap(), "--osv-db", &osv_db(), "--config-root", conf.to_str().unwrap()]);
    assert_eq!(code, 1);
    let s = steps_of(&p, "django")[0];
    assert_eq!(
        s["restart"],
        json!(["/etc/uwsgi/apps-enabled/web.ini", "apache2.service", "supervisor:worker", "web.service"]),
        "{s:#}"
    );
    let how: Vec<(String, String)> = s["restarts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap().to_owned(), r["action"].as_str().unwrap().to_owned()))
        .collect();
    for want in [("apache", "reload"), ("uwsgi", "touch"), ("supervisor", "restart"), ("systemd", "restart")] {
        assert!(how.contains(&(want.0.to_owned(), want.1.to_owned())), "{want:?} not in {how:?}");
    }
    // A cron job starts afresh at its next run: nothing to restart.
    assert!(!s["restart"].to_string().contains("cron"), "{s:#}");
    assert_eq!(p["restart"], s["restart"]);
    assert_matches_schema("schema/plan.schema.json", &p);
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, uv, the OSV snapshot (scripts/test.sh runs it)"]
fn fleet_plan_from_cached_facts_and_from_facts_through_run() {
    let dir = TempDir::new();
    let links = dir.join("links");
    wheel::pure_wheel(&links, "pinsdjango", "1.0", "Requires-Dist: Django<3.2.20\n");
    let venvs = dir.join("venvs");
    venv_with(&venvs.join("free"), &["Django==3.2"], None);
    venv_with(&venvs.join("pinned"), &["Django==3.2", "pinsdjango==1.0"], Some(&links));
    let cache = dir.join("cache");
    mkdirs(&cache);
    // web1 caches full facts, web2 compact ones (as Ansible's jsonfile cache stores them).
    for (host, detail) in [("web1", "full"), ("web2", "compact")] {
        let (code, report, err) =
            run(&["facts", "--format", "json", "--no-processes", "--detail", detail, venvs.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        write(&cache.join(host), json!({"venvaudit": report}).to_string());
    }
    let (code, p, err) =
        run(&["plan", "--from-facts", cache.to_str().unwrap(), "--osv-db", &osv_db(), "--format", "json"]);
    assert_eq!(code, 1, "{err}\n{p:#}");
    assert_eq!(p["hosts_answered"], 2);
    let django: Vec<&Value> = steps_of(&p, "django");
    assert_eq!(django.len(), 4, "{p:#}");
    let by = |host: &str, venv: &str| {
        *django
            .iter()
            .find(|s| s["host"] == host && s["venv"].as_str().unwrap().ends_with(venv))
            .unwrap_or_else(|| panic!("no step for {host} {venv}"))
    };
    // Full facts carry Requires-Dist: the same judgement as the live plan.
    assert_eq!(by("web1", "/pinned")["status"], "blocked");
    assert_eq!(by("web1", "/free")["status"], "ready");
    // Compact facts do not: the step is planned, and says its constraints were not checked.
    assert_eq!(by("web2", "/pinned")["constraints_checked"], false);
    assert_eq!(by("web2", "/pinned")["status"], "ready");
    assert!(p["warnings"].to_string().contains("compact facts"), "{:#}", p["warnings"]);
    let group = p["packages"].as_array().unwrap().iter().find(|g| g["package"] == "django").unwrap();
    assert_eq!(group["hosts"], json!(["web1", "web2"]));
    assert_eq!(group["venvs"], 4);
    assert_eq!(group["to_versions"], json!({"3.2.25": 4}));
    assert_matches_schema("schema/plan.schema.json", &p);

    // The same through `venvaudit run`, and the fleet query there equals query --from-facts.
    let run_json = |req: Value| -> (i32, Value) {
        let args = dir.join("req.json");
        write(&args, req.to_string());
        let (code, v, _) = run(&["run", "--args", args.to_str().unwrap()]);
        (code, v)
    };
    let (rc, via_run) = run_json(json!({"action": "plan", "from_facts": [cache], "osv_db": osv_db()}));
    assert_eq!(rc, 1);
    assert_eq!(via_run["failed"], false);
    assert_eq!(via_run["steps"], p["steps"]);
    let (qc, q, _) = run(&["query", "django<3.2.25", "--from-facts", cache.to_str().unwrap(), "--format", "json"]);
    let (rc, via_run) =
        run_json(json!({"action": "query", "specs": ["django<3.2.25"], "from_facts": [cache], "max_age": 7}));
    assert_eq!((rc, qc), (1, 1));
    assert_eq!(via_run["matches"], q["matches"]);
    assert_eq!(via_run["matches"].as_array().unwrap().len(), 4);
    // Stale facts do not answer: nothing planned, and the answer is incomplete (exit 2).
    let (rc, stale) =
        run_json(json!({"action": "plan", "from_facts": [cache], "osv_db": osv_db(), "today": "2099-01-01"}));
    assert_eq!(
        (rc, stale["planned"].as_bool(), stale["complete"].as_bool()),
        (2, Some(false), Some(false)),
        "{stale:#}"
    );
    assert_eq!(stale["hosts_unknown"].as_array().unwrap().len(), 2);
}

#[test]
fn a_plan_request_without_facts_or_with_a_bad_key_fails_with_exit_2() {
    let (code, out, _) = run_raw_json(json!({"action": "plan", "from_facts": ["/nonexistent-venvaudit-facts"]}));
    assert_eq!(code, 2, "{out:#}");
    let (code, out, _) = run_raw_json(json!({"action": "plan", "from_fact": []}));
    assert_eq!(code, 2);
    assert!(out["msg"].as_str().unwrap().contains("from_fact"), "{out:#}");
    // An empty directory plans nothing: exit 0.
    let dir = TempDir::new();
    let (code, out, _) =
        run_raw_json(json!({"action": "plan", "paths": [dir.path()], "no_processes": true, "checks": ["forbidden"]}));
    assert_eq!(code, 0, "{out:#}");
    assert_eq!((out["planned"].as_bool(), out["steps"].as_array().map(Vec::len)), (Some(false), Some(0)));
}

fn run_raw_json(req: Value) -> (i32, Value, String) {
    let dir = TempDir::new();
    let args = dir.join("req.json");
    write(&args, req.to_string());
    run(&["run", "--args", args.to_str().unwrap()])
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, uv, the OSV snapshot (scripts/test.sh runs it)"]
fn the_gate_judges_a_steps_wheel_against_what_stays_installed() {
    let dir = TempDir::new();
    let links = dir.join("links");
    wheel::pure_wheel(&links, "pinsdjango", "1.0", "Requires-Dist: Django<3.2.20\n");
    wheel::pure_wheel(&links, "needsnew", "1.0", "Requires-Dist: six\n");
    wheel::pure_wheel(&links, "needsnew", "2.0", "Requires-Dist: six>=99\nRequires-Dist: Django>=3.2\n");
    let venv = dir.join("app");
    venv_with(&venv, &["Django==3.2", "needsnew==1.0", "six==1.17.0"], Some(&links));
    let gate = |pins: &str| -> Value {
        let req = dir.join("pins.txt");
        write(&req, pins);
        let (code, report, err) = run(&[
            "check-artifact",
            req.to_str().unwrap(),
            "--venv",
            venv.to_str().unwrap(),
            "--find-links",
            wheels().to_str().unwrap(),
            "--find-links",
            links.to_str().unwrap(),
            "--check",
            "dependencies",
            "--format",
            "json",
        ]);
        assert!(code == 0 || code == 1, "{err}");
        report
    };
    let messages = |r: &Value| -> Vec<String> {
        findings(r)
            .iter()
            .map(|f| format!("{} {}", f["id"].as_str().unwrap(), f["message"].as_str().unwrap()))
            .collect()
    };
    // Django 3.2.25 alone: its requirements (asgiref, pytz, sqlparse) stay installed.
    let r = gate("Django==3.2.25\n");
    assert_eq!(messages(&r), Vec::<String>::new(), "{:#}", r["findings"]);
    // needsnew 2.0 needs six>=99: the venv's six 1.17.0 stays, so the install breaks it.
    let r = gate("needsnew==2.0\n");
    let m = messages(&r);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].starts_with("dependency-conflict needsnew 2.0 has requirement six>=99, but six 1.17.0 is installed"),
        "{m:?}"
    );
    // An installed dependent's upper bound excludes the new Django: the gate says so too.
    check(
        Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "-q", "--no-index", "--find-links"])
            .arg(&links)
            .arg("pinsdjango==1.0"),
    );
    let r = gate("Django==3.2.25\n");
    let m = messages(&r);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("pinsdjango 1.0 has requirement Django<3.2.20, but Django 3.2.25 is installed"), "{m:?}");
}

/// Cached facts are untrusted input: each hostile host file reaches the facts reader (its
/// host is named unknown with the reader's own words), the others still answer, and the
/// result is valid JSON with exit 1 (a step planned) or 2, never a crash.
#[test]
fn hostile_cached_facts_make_their_host_unknown_and_the_rest_is_planned() {
    let dir = TempDir::new();
    let cache = dir.join("cache");
    let now = "2026-12-01T00:00:00Z";
    let report = |venvs: Value| json!({"venvaudit": {"schema_version": 1, "generated_at": now, "host": {"hostname": "x"}, "venvs": venvs}});
    let hostile: &[(&str, Value)] = &[
        ("packages-not-a-list", report(json!([{"path": "/a", "packages": "django==3.2"}]))),
        ("distribution-without-version", report(json!([{"path": "/a", "distributions": ["django"]}]))),
        ("no-path", report(json!([{"distributions": ["django==3.2"]}]))),
        ("venvs-not-a-list", report(json!({"path": "/a"}))),
        ("summary-only", report(json!([{"path": "/a", "python": {"version": "3.12.1"}}]))),
    ];
    for (name, v) in hostile {
        write(&cache.join(name), v.to_string());
    }
    write(&cache.join("truncated"), b"{\"venvaudit\": {\"schema_version\": 1, \"venvs\": [");
    // One good host, with a forbidden Django and odd but valid values beside it.
    write(
        &cache.join("good"),
        report(json!([{"path": "/srv/app", "python": {"version": 3}, "used_by": "nonsense",
                       "distributions": ["Django==3.2", "weird==not-a-version", "a\u{1b}[31m==1"]}]))
        .to_string(),
    );
    let args = dir.join("req.json");
    write(
        &args,
        json!({"action": "plan", "from_facts": [cache], "forbid": ["django<4.2.16"], "checks": ["forbidden"], "today": "2026-12-07"})
            .to_string(),
    );
    let (code, p, err) = run(&["run", "--args", args.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}\n{p:#}");
    let unknown: Vec<(String, String)> = p["hosts_unknown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["host"].as_str().unwrap().to_owned(), u["message"].as_str().unwrap().to_owned()))
        .collect();
    let said = |host: &str| unknown.iter().find(|(h, _)| h == host).map(|(_, m)| m.clone()).unwrap_or_default();
    assert_eq!(unknown.len(), 6, "{unknown:?}");
    assert!(said("packages-not-a-list").contains("packages of /a is not a list"), "{unknown:?}");
    assert!(said("distribution-without-version").contains("is not name==version"), "{unknown:?}");
    assert!(said("no-path").contains("has no path"), "{unknown:?}");
    assert!(
        said("venvs-not-a-list").contains("not venvaudit facts") || said("venvs-not-a-list").contains("venvs"),
        "{unknown:?}"
    );
    assert!(said("summary-only").contains("name no packages"), "{unknown:?}");
    assert!(said("truncated").contains("not JSON"), "{unknown:?}");
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{p:#}");
    assert_eq!((steps[0]["host"].as_str(), steps[0]["to_version"].as_str()), (Some("good"), Some("4.2.16")));
    assert_eq!(p["complete"], false);
}
