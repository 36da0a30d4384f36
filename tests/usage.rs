//! "In use": real processes from real venvs, a real `pip install -U` under a running
//! process, and service configuration read through `--root`.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::*;

/// A child process killed when dropped, so a failing assertion never leaks it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `venv/bin/python -c code` and wait until it printed its ready line.
fn start(venv: &Path, code: &str) -> Running {
    let mut child = Command::new(venv.join("bin/python")).args(["-c", code]).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    out.read_exact(&mut buf).expect("child did not get ready");
    assert_eq!(&buf, b"ready\n");
    Running(child)
}

fn in_use_pids(report: &serde_json::Value, venv: &Path) -> Vec<u64> {
    venv_at(report, venv)["in_use"].as_array().unwrap().iter().map(|p| p["pid"].as_u64().unwrap()).collect()
}

#[test]
#[ignore = "real-tool tier: pyenv venvs and running interpreters (scripts/test.sh runs it)"]
fn running_process_is_in_use_and_goes_stale_after_an_upgrade() {
    let dir = TempDir::new();
    let venv = dir.path().join("app");
    make_venv(Creator::Venv, &pyenv("3.12"), &venv);
    pip_install(&venv, &["pyyaml==6.0.3"]);
    let idle = dir.path().join("idle");
    make_bare_venv(&pyenv("3.12"), &idle);

    let child = start(&venv, "import sys, time, yaml._yaml; print('ready', flush=True); time.sleep(600)");
    let pid = u64::from(child.0.id());
    let target = dir.path().to_str().unwrap();

    let (code, report, err) = run(&["check", "--format", "json", "--check", "usage", target]);
    assert_eq!(code, 0, "{err}");
    assert!(in_use_pids(&report, &venv).contains(&pid), "{:#}", venv_at(&report, &venv)["in_use"]);
    let entry = venv_at(&report, &venv)["in_use"].as_array().unwrap().iter().find(|p| p["pid"] == pid).unwrap().clone();
    assert!(entry["cmdline"].as_str().unwrap().contains("yaml._yaml"));
    assert!(entry["started_at"].as_str().unwrap().ends_with('Z'));
    let reasons: Vec<&str> = entry["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(reasons.contains(&"cmdline") && reasons.contains(&"maps"), "{reasons:?}");
    assert!(findings_for(&report, "stale-process", &venv).is_empty(), "nothing changed yet");
    assert!(in_use_pids(&report, &idle).is_empty());
    assert_eq!(findings_for(&report, "unused", &idle).len(), 1, "an idle venv is reported unused as root");
    assert!(findings_for(&report, "unused", &venv).is_empty());

    // Let the clock move past the process start (mtimes are compared with one second slack).
    std::thread::sleep(Duration::from_millis(2100));
    pip_install(&venv, &["-U", "pyyaml==6.0.4"]);

    let (code, report, err) = run(&["check", "--format", "json", "--check", "usage", "--fail-on", "warning", target]);
    assert_eq!(code, 1, "a stale process fails a warning gate\n{err}");
    let stale = findings_for(&report, "stale-process", &venv);
    assert_eq!(stale.len(), 1, "{:#}", report["findings"]);
    let f = stale[0];
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["details"]["pid"], pid);
    assert_eq!(f["package"], "pyyaml");
    // pip moved the old yaml/ aside (as ~aml/) and deleted it: the mapped .so is deleted.
    let deleted = f["details"]["deleted_files"].as_array().unwrap();
    assert!(deleted.iter().any(|d| d.as_str().unwrap().contains("_yaml")), "{deleted:?}");
    drop(child);

    // With --no-processes there is no process view: no in_use, no stale-process, no unused.
    let (_, report, _) = run(&["check", "--format", "json", "--check", "usage", "--no-processes", target]);
    assert!(in_use_pids(&report, &venv).is_empty());
    assert!(findings(&report).iter().all(|f| f["id"] != "stale-process" && f["id"] != "unused"));
}

#[test]
#[ignore = "real-tool tier: pyenv venvs and running interpreters (scripts/test.sh runs it)"]
fn service_configuration_under_root_gives_used_by_and_missing_venvs() {
    let dir = TempDir::new();
    let rootfs = dir.path().join("rootfs");
    make_bare_venv(&pyenv("3.11"), &rootfs.join("srv/app/venv"));
    make_bare_venv(&pyenv("3.11"), &rootfs.join("opt/worker/.venv"));
    make_bare_venv(&pyenv("3.11"), &rootfs.join("srv/reports/venv"));

    write(
        &rootfs.join("etc/systemd/system/app.service"),
        "[Unit]\nDescription=app\n\n[Service]\nUser=app\nWorkingDirectory=/srv/app\n\
         Environment=\"VIRTUAL_ENV=/srv/app/venv\"\n\
         ExecStart=/srv/app/venv/bin/gunicorn \\\n    --bind 127.0.0.1:8000 app:wsgi\n",
    );
    write(
        &rootfs.join("lib/systemd/system/old.service"),
        "[Service]\nExecStart=/srv/old/venv/bin/python -m old.main\n",
    );
    write(
        &rootfs.join("etc/supervisor/conf.d/worker.conf"),
        "[program:worker]\ncommand=/opt/worker/.venv/bin/celery -A w worker ; the queue\ndirectory=/opt/worker\n",
    );
    write(
        &rootfs.join("etc/cron.d/reports"),
        "# nightly\n15 2 * * * app /srv/reports/venv/bin/python /srv/reports/run.py\n",
    );
    write(&rootfs.join("var/spool/cron/crontabs/bob"), "PATH=/home/bob/gone-venv/bin:/usr/bin\n0 * * * * sync.sh\n");

    let (code, report, err) = run(&[
        "check",
        "--format",
        "json",
        "--check",
        "usage",
        "--no-processes",
        "--root",
        rootfs.to_str().unwrap(),
        "/",
    ]);
    assert_eq!(code, 1, "service-venv-missing is an error\n{err}");
    let used_by = |p: &str| -> Vec<(String, String, u64)> {
        let v = venvs(&report).iter().find(|v| v["path"] == p).unwrap_or_else(|| panic!("{p} not reported"));
        v["used_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["kind"].as_str().unwrap().to_owned(),
                    u["file"].as_str().unwrap().to_owned(),
                    u["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let app_refs = used_by("/srv/app/venv");
    assert!(app_refs.contains(&("systemd".into(), "/etc/systemd/system/app.service".into(), 7)), "{app_refs:?}");
    assert!(app_refs.contains(&("systemd".into(), "/etc/systemd/system/app.service".into(), 8)), "{app_refs:?}");
    assert_eq!(used_by("/opt/worker/.venv"), [("supervisor".into(), "/etc/supervisor/conf.d/worker.conf".into(), 2)]);
    assert_eq!(used_by("/srv/reports/venv"), [("cron".into(), "/etc/cron.d/reports".into(), 2)]);

    let missing: Vec<&serde_json::Value> =
        findings(&report).iter().filter(|f| f["id"] == "service-venv-missing").collect();
    let paths: Vec<&str> = missing.iter().map(|f| f["venv"].as_str().unwrap()).collect();
    assert!(paths.contains(&"/srv/old/venv") && paths.contains(&"/home/bob/gone-venv"), "{paths:?}");
    assert_eq!(missing.len(), 2, "{paths:?}");
    let old = missing.iter().find(|f| f["venv"] == "/srv/old/venv").unwrap();
    assert_eq!(old["details"]["file"], "/lib/systemd/system/old.service");
    assert_eq!(old["details"]["line"], 2);
    assert!(old["message"].as_str().unwrap().contains("old.service"));
    // Without a process view, nothing is called unused.
    assert!(findings(&report).iter().all(|f| f["id"] != "unused"));
}
