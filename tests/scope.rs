//! Scope: `check PATH` judges the environments under PATH only, even though the
//! configuration-driven families (mod_wsgi, uWSGI, systemd, supervisor, cron) read the whole
//! host's configuration. The configuration here is the test's own, under `--config-root`, so
//! the host's /etc plays no part: an Apache configuration loading Debian's mod_wsgi (Python
//! 3.11) names a healthy venv of Debian's 3.11, a pyenv 3.12 venv elsewhere (through a
//! symlink) and a venv that is gone; a uWSGI app and a systemd unit name more missing ones.
//!
//! Needs what scripts/setup.sh installs: apache2 + libapache2-mod-wsgi-py3 (Debian's
//! mod_wsgi for /usr/bin/python3.11) and pyenv's 3.12.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

const DEBIAN_PY: &str = "/usr/bin/python3.11";
const DEBIAN_MOD_WSGI: &str = "/usr/lib/apache2/modules/mod_wsgi.so";

struct Host {
    _tmp: TempDir,
    /// Parent of everything below.
    top: PathBuf,
    /// Debian 3.11 venv: what mod_wsgi can host.
    site: PathBuf,
    /// pyenv 3.12 venv, configured as `top/live/venv` (`live` -> `other`).
    other: PathBuf,
    /// The configuration tree (`--config-root`).
    config: PathBuf,
}

fn host() -> Host {
    assert!(Path::new(DEBIAN_MOD_WSGI).exists(), "libapache2-mod-wsgi-py3 is not installed: run scripts/setup.sh");
    let tmp = TempDir::new();
    let top = canon(tmp.path()).join("srv");
    let site = top.join("site/venv");
    let other = top.join("other/venv");
    mkdirs(&top);
    make_bare_venv(Path::new(DEBIAN_PY), &site);
    make_bare_venv(&pyenv("3.12"), &other);
    symlink("other", &top.join("live"));
    let config = tmp.join("config");
    let t = top.display();
    write(
        &config.join("etc/apache2/apache2.conf"),
        "IncludeOptional mods-enabled/*.load\nIncludeOptional sites-enabled/*.conf\n",
    );
    write(&config.join("etc/apache2/mods-enabled/wsgi.load"), format!("LoadModule wsgi_module {DEBIAN_MOD_WSGI}\n"));
    write(
        &config.join("etc/apache2/sites-enabled/apps.conf"),
        format!(
            "<VirtualHost *:80>\n\
             \x20 WSGIDaemonProcess site python-home={t}/site/venv\n\
             \x20 WSGIDaemonProcess other python-home={t}/live/venv\n\
             \x20 WSGIDaemonProcess gone python-home={t}/gone/venv\n\
             </VirtualHost>\n"
        ),
    );
    write(&config.join("etc/uwsgi/apps-enabled/old.ini"), format!("[uwsgi]\nvirtualenv = {t}/old/venv\n"));
    write(
        &config.join("etc/systemd/system/worker.service"),
        format!("[Service]\nExecStart={t}/worker/venv/bin/python -m worker\n"),
    );
    Host { _tmp: tmp, top, site, other, config }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `check --format json --no-processes --config-root CONFIG ARGS`: every family runs.
fn check(h: &Host, args: &[&str]) -> (i32, Value) {
    let mut full = vec!["check", "--format", "json", "--no-processes", "--config-root", s(&h.config)];
    full.extend_from_slice(args);
    let (code, json, stderr) = run(&full);
    assert!(json.is_object(), "no JSON from venvaudit {full:?} (exit {code}): {stderr}");
    (code, json)
}

/// (id, venv) of every finding, sorted.
fn ids(r: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = findings(r)
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["venv"].as_str().unwrap_or("").to_owned()))
        .collect();
    v.sort();
    v
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook, salt-call (scripts/test.sh runs it)"]
fn a_gate_on_one_venv_judges_that_venv() {
    let h = host();
    let t = h.top.display().to_string();
    let everything = vec![
        ("mod-wsgi-abi-mismatch".to_owned(), format!("{t}/live/venv")),
        ("mod-wsgi-venv-missing".to_owned(), format!("{t}/gone/venv")),
        ("service-venv-missing".to_owned(), format!("{t}/worker/venv")),
        ("uwsgi-venv-missing".to_owned(), format!("{t}/old/venv")),
    ];

    // The parent of everything: every configured problem is in scope.
    let (code, r) = check(&h, &[s(&h.top)]);
    assert_eq!(ids(&r), everything, "{:#}", r["findings"]);
    assert_eq!(code, 1);
    let abi = &findings(&r).iter().find(|f| f["id"] == "mod-wsgi-abi-mismatch").unwrap();
    assert_eq!(abi["details"]["file"], "/etc/apache2/sites-enabled/apps.conf", "read under --config-root");
    assert_eq!(abi["details"]["venv_python"], "3.12");

    // The healthy venv alone, as given, with a trailing slash, or through `..`: nothing about
    // the others, and the gate passes. Its own mod_wsgi use is still seen.
    for request in [s(&h.site).to_owned(), format!("{}/", h.site.display()), format!("{t}/other/../site/venv")] {
        let (code, r) = check(&h, &[&request]);
        assert_eq!(ids(&r), vec![], "{request}: {:#}", r["findings"]);
        assert_eq!(code, 0, "{request}");
        assert_eq!(venvs(&r).len(), 1);
        let used: Vec<&Value> = venvs(&r)[0]["used_by"].as_array().unwrap().iter().collect();
        assert_eq!(used.len(), 1, "{used:?}");
        assert_eq!((used[0]["kind"].as_str(), used[0]["group"].as_str()), (Some("mod_wsgi"), Some("site")));
    }
    let (code, r) = check(&h, &[&format!("{t}/site")]);
    assert_eq!((code, ids(&r)), (0, vec![]), "{:#}", r["findings"]);

    // The other venv, under its real path: the configuration names it through the link.
    let (code, r) = check(&h, &[&format!("{}/", h.other.parent().unwrap().display())]);
    assert_eq!(ids(&r), vec![everything[0].clone()], "{:#}", r["findings"]);
    assert_eq!(code, 1);

    // A missing venv is in scope only under a requested path, even when nothing is found there.
    let (code, r) = check(&h, &[&format!("{t}/gone"), s(&h.site)]);
    assert_eq!(ids(&r), vec![everything[1].clone()], "{:#}", r["findings"]);
    assert_eq!(code, 1);

    // An excluded directory is out of scope, as the walk would not look there.
    let (_, r) = check(&h, &[s(&h.top), "--exclude", "other", "--exclude", "live", "--exclude", "old"]);
    assert_eq!(ids(&r), vec![everything[1].clone(), everything[2].clone()], "{:#}", r["findings"]);

    // Without --config-root the configuration above is not read at all (the host's own, whatever
    // it holds, names nothing under this fresh directory).
    let (code, json, stderr) = run(&["check", "--format", "json", "--no-processes", s(&h.top)]);
    assert_eq!((code, ids(&json)), (0, vec![]), "{stderr}");
}

/// `--config-root` replaces default discovery everywhere and is where `--apache-config` is read.
#[test]
#[ignore = "real-tool tier: pyenv venvs, Apache mod_wsgi, ansible-playbook, salt-call (scripts/test.sh runs it)"]
fn config_root_is_where_configuration_is_read() {
    let h = host();
    // An explicit file is a path inside the configuration root.
    let (code, r) = check(&h, &[s(&h.top), "--apache-config", "/etc/apache2/apache2.conf", "--check", "mod-wsgi"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&r).len(), 2, "{:#}", r["findings"]);
    let (code, _, stderr) = run_raw(&[
        "check",
        "--config-root",
        s(&h.config),
        "--apache-config",
        s(&h.config.join("etc/apache2/apache2.conf")),
        s(&h.top),
    ]);
    assert_eq!(code, 2, "a host path is not inside the configuration root: {stderr}");
    assert!(stderr.contains("no such file"), "{stderr}");
    // An empty configuration root: no configuration, no configured findings.
    let empty = h.top.parent().unwrap().join("empty");
    mkdirs(&empty);
    let (code, json, stderr) =
        run(&["check", "--format", "json", "--no-processes", "--config-root", s(&empty), s(&h.top)]);
    assert_eq!((code, ids(&json)), (0, vec![]), "{stderr}");
    let (code, _, stderr) = run_raw(&["check", "--config-root", "/nonexistent-venvaudit-config", s(&h.top)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("config_root"), "{stderr}");
}
