//! The Salt master runner `venvaudit` (salt/_runners/venvaudit.py) against a real `salt-master`
//! and one real `salt-minion` on 127.0.0.1 (scratch config: free ports, every directory under a
//! temp dir, `auto_accept`, file_roots = the repo's salt/): the minion syncs the execution
//! module from the master, publishes compact facts of a real venv (Django 3.2) to the mine with
//! `venvaudit.facts`, the master syncs the runner, and `salt-run venvaudit.query` /
//! `salt-run venvaudit.plan` answer from the mine, with the binary's exit status. The venv is
//! deleted before the runner is asked, so the answers can only come from the mine.
//!
//! Both daemons run in the foreground as children in their own process group, killed on drop.
//! The salt programs are those beside `$VENVAUDIT_SALT_CALL`, else `.tools/venv/bin/`.

mod support;

use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_venvaudit");
const MINION_ID: &str = "venvaudit-runner-minion";

fn salt_bin(name: &str) -> PathBuf {
    let dir = match std::env::var_os("VENVAUDIT_SALT_CALL") {
        Some(p) => PathBuf::from(p).parent().unwrap().to_path_buf(),
        None => Path::new(REPO).join(".tools/venv/bin"),
    };
    let p = dir.join(name);
    assert!(p.is_file(), "{} missing: run scripts/setup.sh (salt in the tools venv)", p.display());
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A salt daemon in the foreground, in its own process group (it forks workers), ended on drop.
struct Daemon {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Daemon {
    fn start(name: &'static str, conf: &Path, log: &Path) -> Daemon {
        let child = Command::new(salt_bin(name))
            .args(["-c"])
            .arg(conf)
            .args(["-l", "quiet"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Daemon { child, name, log: log.to_owned() }
    }

    fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        format!("--- {} log ---\n{}", self.name, lines[lines.len().saturating_sub(20)..].join("\n"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

/// (exit code, stdout as JSON, stderr) of a salt CLI program with the master's config.
fn salt(program: &str, conf: &Path, args: &[&str]) -> (i32, Value, String) {
    let started = Instant::now();
    let (code, stdout, stderr) = support::output_with_timeout(
        Command::new(salt_bin(program)).arg("-c").arg(conf).args(["--out", "json"]).args(args),
        Duration::from_secs(120),
    );
    eprintln!("{program} {} -> exit {code} in {:.1?}", args.join(" "), started.elapsed());
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (code, json, format!("{stdout}\n{stderr}"))
}

#[test]
#[ignore = "real-tool tier: a real salt-master and salt-minion on 127.0.0.1 (scripts/test.sh runs it)"]
fn runner_answers_query_and_plan_from_the_mine_of_a_real_master() {
    let started = Instant::now();
    let tmp = support::TempDir::new();
    let t = tmp.path().display().to_string();
    let srv = tmp.join("srv");
    let venv = srv.join("app/venv");
    // A real venv, no pip of its own (uv installs): only its files are read, by the minion.
    support::check(support::py_cmd(support::pyenv("3.12")).args(["-m", "venv", "--without-pip"]).arg(&venv));
    support::pip_install(&venv, &["--no-deps", "Django==3.2"]);

    let (publish, ret) = (free_port(), free_port());
    let mconf = tmp.join("master-conf");
    support::write(
        &mconf.join("master"),
        format!(
            "interface: 127.0.0.1\npublish_port: {publish}\nret_port: {ret}\n\
             root_dir: {t}/master\npki_dir: {t}/master/pki\ncachedir: {t}/master/cache\n\
             sock_dir: {t}/master/sock\nlog_file: {t}/master.log\npidfile: {t}/master.pid\n\
             auto_accept: True\nfile_roots:\n  base:\n    - {REPO}/salt\n\
             venvaudit.binary: {BIN}\n"
        ),
    );
    let nconf = tmp.join("minion-conf");
    support::write(
        &nconf.join("minion"),
        format!(
            "id: {MINION_ID}\nmaster: 127.0.0.1\nmaster_port: {ret}\npublish_port: {publish}\n\
             root_dir: {t}/minion\npki_dir: {t}/minion/pki\ncachedir: {t}/minion/cache\n\
             sock_dir: {t}/minion/sock\nlog_file: {t}/minion.log\npidfile: {t}/minion.pid\n\
             acceptance_wait_time: 1\nrandom_reauth_delay: 0\n\
             venvaudit.binary: {BIN}\n\
             mine_functions:\n  venvaudit.facts:\n    - paths: [{}]\n    - detail: compact\n",
            srv.display()
        ),
    );
    let master = Daemon::start("salt-master", &mconf, &tmp.join("master.log"));
    let minion = Daemon::start("salt-minion", &nconf, &tmp.join("minion.log"));

    // Up when the minion answers a ping through the master (key auto-accepted).
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (_, ping, out) = salt("salt", &mconf, &[MINION_ID, "test.ping", "--timeout", "5"]);
        if ping[MINION_ID] == json!(true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the minion never answered: {out}\n{}\n{}",
            master.log_tail(),
            minion.log_tail()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("master and minion up in {:.1?}", started.elapsed());

    let (code, synced, out) = salt("salt", &mconf, &[MINION_ID, "saltutil.sync_all"]);
    assert_eq!(code, 0, "{out}");
    assert!(synced[MINION_ID]["modules"].to_string().contains("modules.venvaudit"), "{out}");
    let (code, updated, out) = salt("salt", &mconf, &[MINION_ID, "mine.update"]);
    assert_eq!((code, &updated[MINION_ID]), (0, &json!(true)), "{out}");
    let (code, synced, out) = salt("salt-run", &mconf, &["saltutil.sync_runners"]);
    assert_eq!(code, 0, "{out}");
    assert!(synced.to_string().contains("runners.venvaudit"), "runner not synced: {out}");

    // From here on only the mine knows the venv.
    support::force_remove(&srv);

    let (code, q, out) = salt("salt-run", &mconf, &["venvaudit.query", "django<3.2.25"]);
    assert_eq!(code, 1, "a match exits 1: {out}");
    assert_eq!((&q["matched"], &q["complete"], &q["retcode"]), (&json!(true), &json!(true), &json!(1)), "{q:#}");
    assert_eq!(q["matches"].as_array().map(Vec::len), Some(1), "{q:#}");
    let m = &q["matches"][0];
    assert_eq!(
        (&m["host"], &m["version"], &m["normalized_name"]),
        (&json!(MINION_ID), &json!("3.2"), &json!("django")),
        "{m:#}"
    );
    assert!(support::same_path(m["venv"].as_str().unwrap(), &venv), "{m:#}");

    let (code, q, out) = salt("salt-run", &mconf, &["venvaudit.query", "django<3.0"]);
    assert_eq!(code, 0, "no match exits 0: {out}");
    assert_eq!((&q["matched"], &q["hosts_answered"]), (&json!(false), &json!(1)), "{q:#}");

    let hosts = format!("hosts=[{MINION_ID}, ghost-minion]");
    let (code, q, out) = salt("salt-run", &mconf, &["venvaudit.query", "django<3.0", &hosts]);
    assert_eq!(code, 2, "no match with a host unknown exits 2: {out}");
    assert_eq!(q["complete"], json!(false), "{q:#}");
    assert_eq!(q["hosts_unknown"][0]["host"], json!("ghost-minion"), "{q:#}");

    let (code, q, out) = salt("salt-run", &mconf, &["venvaudit.query", "django<3.0", "mine_function=no_such_key"]);
    assert_eq!(code, 2, "an empty mine is no answer: {out}");
    assert_eq!(q["failed"], json!(true), "{q:#}");

    let osv = format!("osv_db={}", support::shared_data("osv-pypi.zip").display());
    let (code, p, out) = salt("salt-run", &mconf, &["venvaudit.plan", &osv]);
    assert_eq!(code, 1, "a plan exits 1: {out}");
    assert_eq!((&p["planned"], &p["hosts_answered"]), (&json!(true), &json!(1)), "{p:#}");
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{p:#}");
    let s = &steps[0];
    assert_eq!(
        (&s["host"], &s["package"], &s["from_version"], &s["to_version"], &s["status"]),
        (&json!(MINION_ID), &json!("django"), &json!("3.2"), &json!("3.2.25"), &json!("ready")),
        "{s:#}"
    );
    eprintln!("runner test done in {:.1?}", started.elapsed());
}
