//! Security checks against real venvs, real wheels from PyPI and the PyPA OSV data in
//! ../shared: vulnerabilities agree with an independent Python reference matcher,
//! dependency conflicts agree with `pip check`, `--verify` catches tampering, permissions,
//! the ignore policy, `query` exit codes, and the SBOM / Prometheus exports parse.
//!
//! Needs `scripts/security-setup.sh` (tools venv + wheels in .tools/) and the pyenv Pythons.

mod support;

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use support::{Creator, TempDir, check_stdout, normalize, pip_check, pip_install, pip_list, pyenv};

/// The PyPA OSV test data (see [`support::shared_data`]).
fn shared(name: &str) -> PathBuf {
    support::shared_data(name)
}

fn tools_python() -> PathBuf {
    support::tools_venv().join("bin/python")
}

/// A real venv made with `python -m venv` on a pyenv Python, with `args` pip-installed offline
/// from the wheelhouse.
fn make_venv(dir: &Path, python: &str, args: &[&str]) {
    support::make_venv(Creator::Venv, &pyenv(python), dir);
    if !args.is_empty() {
        pip_install(dir, args);
    }
}

/// Run venvaudit; returns (exit code, stdout). Panics if it panicked or hung.
fn venvaudit(args: &[&str]) -> (i32, String) {
    let (code, out, err) = support::run_raw(args);
    support::assert_ran(code, &err);
    (code, out)
}

fn check_json(args: &[&str]) -> (i32, Value) {
    let mut a = vec!["check", "--format", "json"];
    a.extend_from_slice(args);
    let (code, v, err) = support::run(&a);
    support::assert_ran(code, &err);
    (code, v)
}

fn findings<'a>(r: &'a Value, id: &str) -> Vec<&'a Value> {
    support::findings(r).iter().filter(|f| f["id"] == id).collect()
}

/// The venv with known-vulnerable releases, shared by several tests (made once).
fn vulnerable_venv() -> &'static PathBuf {
    static V: OnceLock<PathBuf> = OnceLock::new();
    V.get_or_init(|| {
        let d = TempDir::new().remove_at_exit().join("app-venv");
        make_venv(&d, "3.9", &["django==3.2", "requests==2.25.0", "urllib3==1.26.4", "pyyaml==5.3.1"]);
        d
    })
}

/// The parent directory to scan for the vulnerable venv.
fn vulnerable_root() -> String {
    vulnerable_venv().parent().unwrap().to_string_lossy().into_owned()
}

/// Run the Python reference matcher: per (normalized name, version), the set of merged groups
/// (each the sorted list of all ids and aliases).
fn reference(db: &Path, pairs: &[(String, String)]) -> BTreeMap<(String, String), BTreeSet<Vec<String>>> {
    let mut child = Command::new(tools_python())
        .arg(support::repo_root().join("tests/support/osv_reference.py"))
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let input = serde_json::to_vec(&pairs.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>()).unwrap();
        child.stdin.take().unwrap().write_all(&input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "reference matcher failed");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let groups = e["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["ids"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                .collect();
            ((normalize(e["name"].as_str().unwrap()), e["version"].as_str().unwrap().to_owned()), groups)
        })
        .collect()
}

/// venvaudit's vulnerability findings as the same shape, keyed by (venv, normalized name).
fn ours(report: &Value) -> BTreeMap<(String, String), BTreeSet<Vec<String>>> {
    let mut out: BTreeMap<(String, String), BTreeSet<Vec<String>>> = BTreeMap::new();
    for f in findings(report, "vulnerability") {
        let d = &f["details"];
        let mut ids: Vec<String> =
            d["aliases"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
        ids.push(d["advisory"].as_str().unwrap().to_owned());
        ids.sort();
        let key = (f["venv"].as_str().unwrap().to_owned(), normalize(f["package"].as_str().unwrap()));
        assert!(out.entry(key).or_default().insert(ids), "duplicate vulnerability finding {f}");
    }
    out
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn vulnerabilities_agree_with_reference_matcher_dir_and_zip() {
    let venv = vulnerable_venv();
    let pairs = pip_list(venv);
    let venv_path = venv.to_string_lossy().into_owned();
    for db in [shared("osv-pypi"), shared("osv-pypi.zip")] {
        let dbs = db.to_string_lossy().into_owned();
        let (code, r) =
            check_json(&[&vulnerable_root(), "--osv-db", &dbs, "--check", "vulnerabilities", "--fail-on", "never"]);
        assert_eq!(code, 0);
        assert_eq!(r["osv_db"]["advisories"], 2651, "2661 records minus 10 withdrawn");
        assert_eq!(r["osv_db"]["format"], if db.is_dir() { "directory" } else { "zip" });
        assert_eq!(r["osv_db"]["newest_modified"], "2024-10-10T17:22:00.587279Z");
        let got = ours(&r);
        let want = reference(&db, &pairs);
        let mut total = 0;
        for ((name, version), groups) in &want {
            let have = got.get(&(venv_path.clone(), name.clone())).cloned().unwrap_or_default();
            assert_eq!(&have, groups, "{name} {version} differs from the reference ({})", db.display());
            total += groups.len();
        }
        assert_eq!(got.values().map(|g| g.len()).sum::<usize>(), total, "no finding outside the reference");
        // The known ones are there, each once per package with its aliases merged.
        let django = &got[&(venv_path.clone(), "django".to_owned())];
        assert!(django.len() >= 20, "django 3.2.0 has many advisories: {}", django.len());
        assert!(
            got[&(venv_path.clone(), "pyyaml".to_owned())]
                .iter()
                .any(|g| g.contains(&"PYSEC-2021-142".to_owned()) && g.contains(&"CVE-2020-14343".to_owned()))
        );
        assert!(
            got[&(venv_path.clone(), "requests".to_owned())].iter().any(|g| g.contains(&"CVE-2023-32681".to_owned()))
        );
        assert!(
            got[&(venv_path.clone(), "urllib3".to_owned())].iter().any(|g| g.contains(&"CVE-2021-33503".to_owned()))
        );
        // Details and severity rule.
        let f =
            findings(&r, "vulnerability").into_iter().find(|f| f["details"]["advisory"] == "PYSEC-2023-192").unwrap();
        assert_eq!(f["severity"], "error", "CVSS 8.1 is high: {f}");
        assert_eq!(f["details"]["severity_source"], "CVSS_V3 8.1 HIGH");
        assert_eq!(f["details"]["rating"], json!({"method": "CVSS_V3", "score": 8.1, "label": "HIGH"}));
        for k in ["advisory", "aliases", "summary", "fixed_versions", "published", "modified"] {
            assert!(f["details"].get(k).is_some(), "missing detail {k}");
        }
        assert!(f["details"]["fixed_versions"].as_array().unwrap().iter().any(|v| v == "1.26.17"));
        let unrated =
            findings(&r, "vulnerability").into_iter().find(|f| f["details"]["advisory"] == "PYSEC-2021-142").unwrap();
        assert_eq!(unrated["severity"], "warning", "no severity stated -> warning");
    }
}

/// Synthetic venvs holding hundreds of (name, version) pairs taken from the database itself
/// (every event value, plus pre-, post- and dev-releases around each fix) agree with the
/// reference too: a much wider net than four real packages.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn boundary_versions_agree_with_reference_matcher() {
    let db = shared("osv-pypi");
    let mut by_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&db)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for f in files.iter().step_by(7) {
        let rec: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        for a in rec["affected"].as_array().into_iter().flatten() {
            let name = normalize(a["package"]["name"].as_str().unwrap_or(""));
            let set = by_name.entry(name).or_default();
            for r in a["ranges"].as_array().into_iter().flatten().filter(|r| r["type"] == "ECOSYSTEM") {
                for e in r["events"].as_array().into_iter().flatten() {
                    for (k, v) in e.as_object().unwrap() {
                        let v = v.as_str().unwrap_or("");
                        if v == "0" || v.contains('*') {
                            continue;
                        }
                        set.insert(v.to_owned());
                        if k == "fixed" || k == "last_affected" {
                            for suffix in ["rc1", ".post1", ".dev0", "+local.1", ".0"] {
                                set.insert(format!("{v}{suffix}"));
                            }
                        }
                    }
                }
            }
            if let Some(vs) = a["versions"].as_array() {
                set.extend(vs.iter().take(3).filter_map(|v| v.as_str().map(str::to_owned)));
            }
        }
    }
    // One venv per "column": venv i holds the i-th version of every name.
    let tmp = TempDir::new();
    let root = tmp.path().to_path_buf();
    let mut pairs = Vec::new();
    let mut expected_venv: BTreeMap<(String, String), String> = BTreeMap::new();
    let cols = by_name.values().map(|s| s.len()).max().unwrap().min(40);
    for i in 0..cols {
        let venv = root.join(format!("v{i:02}"));
        let sp = venv.join("lib/python3.11/site-packages");
        std::fs::create_dir_all(&sp).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "home = /nonexistent/bin\nversion = 3.11.7\n").unwrap();
        for (name, versions) in &by_name {
            let Some(version) = versions.iter().nth(i) else { continue };
            let di = sp.join(format!("{}-{}.dist-info", name.replace('-', "_"), version.replace('-', "_")));
            std::fs::create_dir_all(&di).unwrap();
            std::fs::write(di.join("METADATA"), format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"))
                .unwrap();
            pairs.push((name.clone(), version.clone()));
            expected_venv.insert((name.clone(), version.clone()), venv.to_string_lossy().into_owned());
        }
    }
    assert!(pairs.len() > 1000, "only {} pairs", pairs.len());
    let (_, r) = check_json(&[
        root.to_str().unwrap(),
        "--osv-db",
        db.to_str().unwrap(),
        "--check",
        "vulnerabilities",
        "--fail-on",
        "never",
    ]);
    let got = ours(&r);
    let want = reference(&db, &pairs);
    let mut affected = 0;
    for ((name, version), groups) in &want {
        let venv = &expected_venv[&(name.clone(), version.clone())];
        let have = got.get(&(venv.clone(), name.clone())).cloned().unwrap_or_default();
        assert_eq!(&have, groups, "{name} {version} differs from the reference");
        affected += usize::from(!groups.is_empty());
    }
    assert!(affected > 300, "the sample should hit many advisories, hit {affected}");
    // The case the issue names: a pre-release of a fix is affected by more than the fix.
    let rc_case = want.iter().any(|((name, v), g)| {
        v.strip_suffix("rc1")
            .is_some_and(|fix| want.get(&(name.clone(), fix.to_owned())).is_some_and(|gf| gf.len() < g.len()))
    });
    assert!(rc_case, "some rc1 of a fixed version is affected while the fix is not");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn dependency_conflicts_equal_pip_check() {
    let tmp = TempDir::new();
    let root = tmp.path();
    for python in ["3.9", "3.12"] {
        let venv = root.join(format!("broken-{python}"));
        // Missing dependencies (asgiref's typing_extensions only below Python 3.11), a
        // requested extra that is never active (requests[socks]) and a version conflict.
        make_venv(
            &venv,
            python,
            &["--no-deps", "django==3.2", "requests==2.25.0", "asgiref==3.11.1", "urllib3==2.2.3"],
        );
        let want = pip_check(&venv);
        assert!(!want.is_empty(), "pip check finds the breakage");
        let (_, r) = check_json(&[venv.to_str().unwrap(), "--check", "dependencies", "--fail-on", "never"]);
        let got: BTreeSet<(String, String, String)> = findings(&r, "dependency-conflict")
            .iter()
            .map(|f| {
                (
                    normalize(f["package"].as_str().unwrap()),
                    f["details"]["dependency"].as_str().unwrap().to_owned(),
                    f["details"]["installed_version"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(got, want, "Python {python}");
        assert!(got.contains(&("requests".into(), "urllib3".into(), "2.2.3".into())));
        assert!(!got.iter().any(|(_, d, _)| d == "pysocks"), "extras are not active");
        let py39 = python.starts_with("3.9");
        assert_eq!(
            got.iter().any(|(p, d, _)| p == "asgiref" && d == "typing-extensions"),
            py39,
            "marker evaluated for the venv's Python"
        );
        // Repairing the venv makes both quiet.
        pip_install(&venv, &["django==3.2", "requests==2.25.0", "asgiref==3.11.1", "urllib3==1.26.4"]);
        assert!(Command::new(venv.join("bin/python")).args(["-m", "pip", "check"]).output().unwrap().status.success());
        let (_, r) = check_json(&[venv.to_str().unwrap(), "--check", "dependencies"]);
        assert!(findings(&r, "dependency-conflict").is_empty(), "{}", r["findings"]);
    }
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn verify_catches_modified_and_deleted_files() {
    let tmp = TempDir::new();
    let venv = tmp.join("v");
    // numpy ships .pyc files in its wheel that pip recompiles: no false positive on them.
    make_venv(&venv, "3.9", &["urllib3==1.26.4", "six==1.17.0", "numpy==2.0.2"]);
    let (_, clean) = check_json(&[venv.to_str().unwrap(), "--verify", "--check", "integrity"]);
    assert!(
        findings(&clean, "record-mismatch").is_empty() && findings(&clean, "record-missing").is_empty(),
        "{}",
        clean["findings"]
    );
    let sp = venv.join("lib/python3.9/site-packages");
    let target = sp.join("urllib3/__init__.py");
    let mut text = std::fs::read_to_string(&target).unwrap();
    text.push_str("\n# tampered\n");
    std::fs::write(&target, text).unwrap();
    std::fs::remove_file(sp.join("urllib3/exceptions.py")).unwrap();
    // A row pip leaves for a wheel script its entry points replaced (salt's RECORD has them):
    // never installed, never reported.
    let record = sp.join("urllib3-1.26.4.dist-info/RECORD");
    let mut rec = std::fs::read_to_string(&record).unwrap();
    rec.push_str("urllib3-1.26.4.data/scripts/urllib3-tool,sha256=knSVh4-RpAO87XkBIoGTeJP_pz653TI4bF5a8N_lTno,170\n");
    std::fs::write(&record, rec).unwrap();
    let (code, r) = check_json(&[venv.to_str().unwrap(), "--verify", "--check", "integrity"]);
    assert_eq!(code, 1, "a modified file is an error");
    let mm = findings(&r, "record-mismatch");
    assert_eq!(mm.len(), 1, "{}", r["findings"]);
    assert_eq!(mm[0]["package"], "urllib3");
    assert_eq!(mm[0]["details"]["files"], json!(["urllib3/__init__.py"]));
    let missing = findings(&r, "record-missing");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["details"]["files"], json!(["urllib3/exceptions.py"]));
    // Without --verify nothing is read.
    let (_, r) = check_json(&[venv.to_str().unwrap(), "--check", "integrity"]);
    assert!(findings(&r, "record-mismatch").is_empty());
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn unsafe_permissions_are_caught() {
    let tmp = TempDir::new();
    let venv = tmp.join("v");
    support::make_bare_venv(&pyenv("3.11"), &venv);
    check_stdout(Command::new("chmod").args(["-R", "go-w"]).arg(&venv));
    let (_, r) = check_json(&[venv.to_str().unwrap(), "--check", "permissions"]);
    assert!(findings(&r, "unsafe-permissions").is_empty(), "{}", r["findings"]);
    let sp = venv.join("lib/python3.11/site-packages");
    std::fs::set_permissions(&sp, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, r) = check_json(&[venv.to_str().unwrap(), "--check", "permissions"]);
    assert_eq!(code, 1);
    let f = findings(&r, "unsafe-permissions");
    assert_eq!(f.len(), 1, "one finding per venv");
    assert_eq!(f[0]["severity"], "error");
    let sample = &f[0]["details"]["sample"][0];
    assert_eq!(sample["path"], sp.to_str().unwrap());
    assert!(sample["problems"].as_array().unwrap().contains(&json!("world-writable")));
    assert_eq!(sample["mode"], "0777");
    // Many bad files stay one finding; setuid is caught.
    std::fs::set_permissions(&sp, std::fs::Permissions::from_mode(0o755)).unwrap();
    for i in 0..300 {
        let p = sp.join(format!("m{i}.py"));
        std::fs::write(&p, "").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o664)).unwrap();
    }
    let (_, r) = check_json(&[venv.to_str().unwrap(), "--check", "permissions"]);
    let f = findings(&r, "unsafe-permissions");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "warning", "group-writable only is a warning");
    assert_eq!(f[0]["details"]["count"], 300);
    assert_eq!(f[0]["details"]["sample"].as_array().unwrap().len(), 20);
    let suid = venv.join("bin/helper");
    std::fs::write(&suid, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let (_, r) = check_json(&[venv.to_str().unwrap(), "--check", "permissions"]);
    let f = findings(&r, "unsafe-permissions");
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["details"]["sample"][0]["path"], suid.to_str().unwrap());
    assert_eq!(f[0]["details"]["counts"]["setuid"], 1);
}

/// Only what can change the code that runs is judged: uv's world-writable `.lock` and a log
/// file are not findings; a module, a package directory, the interpreter and `pyvenv.cfg` are.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn unsafe_permissions_cover_code_not_lock_files() {
    let tmp = TempDir::new();
    let venv = tmp.join("uv-venv");
    support::make_venv(Creator::Uv, &pyenv("3.12"), &venv);
    pip_install(&venv, &["idna"]);
    let lock = venv.join(".lock");
    let lock_mode = std::fs::metadata(&lock).unwrap_or_else(|e| panic!("uv left no {}: {e}", lock.display()));
    assert_eq!(lock_mode.permissions().mode() & 0o777, 0o666, "uv's .lock is world-writable on purpose");
    let log = venv.join("app.log");
    std::fs::write(&log, "started\n").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, r) = check_json(&[venv.to_str().unwrap(), "--check", "permissions"]);
    assert!(findings(&r, "unsafe-permissions").is_empty(), "{}", r["findings"]);
    assert_eq!(code, 0);

    let sp = venv.join("lib/python3.12/site-packages");
    let interpreter = venv.join("bin/python");
    let real_interpreter = std::fs::canonicalize(&interpreter).unwrap();
    // uv links bin/python to the base interpreter outside the venv (links are not judged, and
    // chmod would change the base): make it a copy, as `python -m venv --copies` does.
    std::fs::remove_file(&interpreter).unwrap();
    std::fs::copy(&real_interpreter, &interpreter).unwrap();
    for target in [sp.join("idna/core.py"), sp.join("idna"), interpreter, venv.join("pyvenv.cfg")] {
        let before = std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(before | 0o002)).unwrap();
        let (code, r) = check_json(&[venv.to_str().unwrap(), "--check", "permissions"]);
        let f = findings(&r, "unsafe-permissions");
        assert_eq!(f.len(), 1, "o+w on {}: {}", target.display(), r["findings"]);
        assert_eq!(f[0]["severity"], "error");
        assert_eq!(code, 1);
        assert_eq!(f[0]["details"]["count"], 1, "only {} is flagged: {}", target.display(), f[0]);
        assert_eq!(f[0]["details"]["sample"][0]["path"], target.to_str().unwrap());
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(before)).unwrap();
    }
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn ignore_policy_silences_and_expires() {
    let tmp = TempDir::new();
    let dir = tmp.path();
    let db = shared("osv-pypi.zip");
    let root = vulnerable_root();
    let base = ["--osv-db", db.to_str().unwrap(), "--check", "vulnerabilities", "--fail-on", "warning"];
    let mut args = vec![root.as_str()];
    args.extend_from_slice(&base);
    let (code, before) = check_json(&args);
    assert_eq!(code, 1);
    let total = findings(&before, "vulnerability").len();
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[[ignore]]\nadvisory = \"CVE-2020-14343\"\npackage = \"PyYAML\"\nvenv = \"{}/*\"\nreason = \"loader not used with untrusted input\"\nuntil = 2999-12-31\n\n\
             [[ignore]]\nid = \"vulnerability\"\npackage = \"django\"\nreason = \"old acceptance\"\nuntil = \"2000-01-01\"\n",
            root
        ),
    )
    .unwrap();
    let mut args2 = args.clone();
    args2.extend_from_slice(&["--ignore-file", policy.to_str().unwrap()]);
    let (_, after) = check_json(&args2);
    let vulns = findings(&after, "vulnerability");
    assert_eq!(vulns.len(), total, "ignored findings are kept");
    let ignored: Vec<_> = vulns.iter().filter(|f| !f["ignored"].is_null()).collect();
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0]["details"]["advisory"], "PYSEC-2021-142");
    assert_eq!(ignored[0]["ignored"]["reason"], "loader not used with untrusted input");
    assert_eq!(after["summary"]["ignored"], 1);
    let expired = findings(&after, "ignore-expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["severity"], "warning");
    assert!(
        expired[0]["details"]["would_match"].as_u64().unwrap() >= 20,
        "the expired entry no longer silences django"
    );
    // The same through the JSON request (`venvaudit run`), and the gate ignores ignored findings.
    let req = json!({"action": "check", "paths": [root], "checks": ["forbidden"], "forbid": ["pyyaml<6"],
                     "ignore": [{"id": "forbidden-package", "package": "pyyaml", "reason": "scheduled upgrade"}]});
    let f = dir.join("req.json");
    std::fs::write(&f, req.to_string()).unwrap();
    let (code, out) = venvaudit(&["run", "--args", f.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["passed"], true);
    assert_eq!(findings(&v, "forbidden-package")[0]["ignored"]["reason"], "scheduled upgrade");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"ignore": [{"package": "x"}]}"#).unwrap();
    let (code, _) = venvaudit(&["check", &root, "--ignore-file", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "an entry without a reason is rejected");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn query_and_forbid() {
    let root = vulnerable_root();
    let (code, out) = venvaudit(&["query", "django<4.2.16", "requests==2.25.*", "--path", &root, "--format", "json"]);
    assert_eq!(code, 1, "matches exit 1");
    let v: Value = serde_json::from_str(&out).unwrap();
    let names: BTreeSet<&str> =
        v["matches"].as_array().unwrap().iter().map(|m| m["normalized_name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["django", "requests"]));
    let (code, _) = venvaudit(&["query", "django>=5", "--path", &root, "--format", "json"]);
    assert_eq!(code, 0, "no match exits 0");
    let (code, _) = venvaudit(&["query", "not a spec<<", "--path", &root]);
    assert_eq!(code, 2, "a bad specifier exits 2");
    let (code, r) = check_json(&[&root, "--check", "forbidden", "--forbid", "django<4.2", "--forbid", "pyyaml"]);
    assert_eq!(code, 1);
    let f = findings(&r, "forbidden-package");
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|f| f["severity"] == "error"));
    assert_eq!(f.iter().find(|f| f["package"] == "Django").unwrap()["details"]["spec"], "django<4.2");
    let (code, _) = venvaudit(&["check", &root, "--forbid", "bad spec<<"]);
    assert_eq!(code, 2);
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn cyclonedx_sbom_validates_against_the_official_schema() {
    let db = shared("osv-pypi");
    let (_, out) = venvaudit(&["check", &vulnerable_root(), "--osv-db", db.to_str().unwrap(), "--format", "cyclonedx"]);
    let bom: Value = serde_json::from_str(&out).unwrap();
    let venv = vulnerable_venv().to_string_lossy().into_owned();
    let comp = bom["components"].as_array().unwrap().iter().find(|c| c["name"] == venv.as_str()).unwrap();
    let purls: BTreeSet<&str> =
        comp["components"].as_array().unwrap().iter().map(|c| c["purl"].as_str().unwrap()).collect();
    for p in ["pkg:pypi/django@3.2", "pkg:pypi/requests@2.25.0", "pkg:pypi/urllib3@1.26.4", "pkg:pypi/pyyaml@5.3.1"] {
        assert!(purls.contains(p), "{p} missing from {purls:?}");
    }
    assert!(bom["vulnerabilities"].as_array().unwrap().iter().any(|v| v["id"] == "PYSEC-2021-142"));
    let validate = |doc: &Value| -> String {
        let tmp = TempDir::new();
        let f = tmp.join("bom.json");
        std::fs::write(&f, doc.to_string()).unwrap();
        let script = "import sys\nfrom cyclonedx.schema import SchemaVersion\nfrom cyclonedx.validation.json import JsonStrictValidator\n\
                      e = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\nprint('VALID' if e is None else 'INVALID: %s' % e)\n";
        check_stdout(Command::new(tools_python()).args(["-c", script]).arg(&f))
    };
    assert_eq!(validate(&bom).trim(), "VALID");
    let mut broken = bom.clone();
    broken["components"][0]["type"] = json!("virtualenv");
    assert!(validate(&broken).starts_with("INVALID"), "the validator does reject a bad document");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn prometheus_textfile_parses() {
    let tmp = TempDir::new();
    let root = tmp.path();
    // A venv whose path needs label escaping.
    let odd = root.join("we\"ird\\venv");
    let sp = odd.join("lib/python3.11/site-packages/demo-1.0.dist-info");
    std::fs::create_dir_all(&sp).unwrap();
    std::fs::write(odd.join("pyvenv.cfg"), "home = /nonexistent/bin\nversion = 3.11.7\n").unwrap();
    std::fs::write(
        sp.join("METADATA"),
        "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: missing-dep\n\n",
    )
    .unwrap();
    let (_, text) = venvaudit(&["check", root.to_str().unwrap(), "--format", "prometheus", "--check", "dependencies"]);
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    out[fam.name] = [[s.labels, s.value] for s in fam.samples]
print(json.dumps(out))
"#;
    let mut child =
        Command::new(tools_python()).args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "parser rejected:\n{text}");
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["venvaudit_venvs"][0][1], 1.0);
    let odd_s = odd.to_str().unwrap();
    assert_eq!(m["venvaudit_venv_packages"][0][0]["venv"], odd_s, "label escaped and unescaped losslessly");
    let f = m["venvaudit_findings"].as_array().unwrap();
    assert!(
        f.iter().any(|s| s[0]["id"] == "dependency-conflict"
            && s[0]["severity"] == "error"
            && s[0]["venv"] == odd_s
            && s[1] == 1.0),
        "{f:?}"
    );
}

/// A synthetic venv (pyvenv.cfg + one dist-info) for input-robustness tests.
fn synthetic_venv(root: &Path, name: &str, version: &str, record: &str) -> PathBuf {
    let venv = root.join("venv");
    let sp = venv.join("lib/python3.11/site-packages");
    let di = sp.join(format!("{name}-{version}.dist-info"));
    std::fs::create_dir_all(&di).unwrap();
    std::fs::write(venv.join("pyvenv.cfg"), "home = /nonexistent/bin\nversion = 3.11.7\n").unwrap();
    std::fs::write(di.join("METADATA"), format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"))
        .unwrap();
    std::fs::write(di.join("RECORD"), record).unwrap();
    venv
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn bad_database_records_and_record_lines_are_skipped_not_fatal() {
    let tmp = TempDir::new();
    let db = tmp.join("db");
    std::fs::create_dir_all(db.join("nested")).unwrap();
    std::fs::write(db.join("broken.json"), "{not json").unwrap();
    std::fs::write(db.join("wrong-shape.json"), r#"{"id": 5}"#).unwrap();
    std::fs::write(
        db.join("nested/X-1.json"),
        r#"{"id": "X-1", "modified": "2030-01-01T00:00:00Z", "aliases": ["CVE-X"],
            "affected": [{"package": {"ecosystem": "PyPI", "name": "Demo_Pkg"},
              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.3m1"}, {"fixed": "2.0"}]},
                         {"type": "GIT", "repo": "x", "events": [{"introduced": "deadbeef"}]}],
              "versions": ["0.3m1", "1.0"]}]}"#,
    )
    .unwrap();
    let sp_rel = "demo_pkg/__init__.py";
    let record = format!(
        "{sp_rel},sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\
         ../../../../../../../../etc/hostname,sha256=AAAA,1\n\
         \"unterminated,quote\n\
         ,,\n\
         demo_pkg/gone.py,sha256=AAAA,1\n\
         demo_pkg-1.5.dist-info/RECORD,,\n"
    );
    let venv = synthetic_venv(tmp.path(), "demo_pkg", "1.5", &record);
    let sp = venv.join("lib/python3.11/site-packages");
    std::fs::create_dir_all(sp.join("demo_pkg")).unwrap();
    std::fs::write(sp.join(sp_rel), "").unwrap();
    let (_, r) =
        check_json(&[venv.to_str().unwrap(), "--osv-db", db.to_str().unwrap(), "--verify", "--fail-on", "never"]);
    assert_eq!(r["osv_db"]["advisories"], 1);
    assert_eq!(r["osv_db"]["unreadable"], 2, "{}", r["osv_db"]);
    assert_eq!(r["osv_db"]["invalid_event_versions_skipped"], 1);
    let v = findings(&r, "vulnerability");
    assert_eq!(v.len(), 1, "the invalid value is dropped, not the advisory");
    assert_eq!(v[0]["details"]["fixed_versions"], json!(["2.0", "0.3m1"]), "PEP 440 values first, in order");
    let missing = findings(&r, "record-missing");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["details"]["files"], json!(["demo_pkg/gone.py"]), "paths outside the venv are never read");
    assert!(findings(&r, "record-mismatch").is_empty(), "{}", r["findings"]);
    let (code, _) = venvaudit(&["check", venv.to_str().unwrap(), "--osv-db", tmp.join("nope").to_str().unwrap()]);
    assert_eq!(code, 2, "a missing database is a usage error");
}

/// A METADATA line nested 3,000 parentheses deep (which overflowed the marker parser's stack
/// and aborted the scan) reaches the dependency check, is named in `errors[]`, and the next
/// Requires-Dist of the same file is still judged; a `--forbid` spec like it is refused.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn deeply_nested_markers_do_not_crash_the_scan() {
    let work = TempDir::new();
    let venv = work.join("venv");
    support::make_bare_venv(&pyenv("3.12"), &venv);
    let dist = support::site_packages(&venv).unwrap().join("evil-1.0.dist-info");
    let deep = format!("x ; {}python_version > '3'{}", "(".repeat(3000), ")".repeat(3000));
    support::write(
        &dist.join("METADATA"),
        format!(
            "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nRequires-Dist: {deep}\nRequires-Dist: venvaudit-absent-dep\n\n"
        ),
    );
    let (code, r) = check_json(&[venv.to_str().unwrap(), "--check", "dependencies"]);
    // The parser saw the deep line (an error names it), and the scan went on.
    let errors = r["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["message"]
            .as_str()
            .unwrap()
            .contains("evil 1.0: a Requires-Dist was not judged (parentheses nested")),
        "{errors:#?}"
    );
    let findings: Vec<&str> =
        r["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(findings, ["evil 1.0 requires venvaudit-absent-dep, which is not installed"]);
    assert_eq!(code, 1);
    let spec = format!("django ; {}python_version > '3'{}", "(".repeat(3000), ")".repeat(3000));
    let (code, out, err) = support::run_raw(&["check", venv.to_str().unwrap(), "--forbid", &spec]);
    assert_eq!(code, 2, "{out} {err}");
    assert!(err.contains("nested deeper"), "{err}");
}

/// `--root` is a jail: metadata files that are symlinks (absolute, or `../` past the top)
/// into the scanning host are read inside the root, never on the host. A link that stays
/// inside the root is followed, which proves the links reached the reader.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn root_is_a_jail_for_symlinked_metadata() {
    let work = TempDir::new();
    let host_secret = work.join("host-secret");
    support::write(&host_secret.join("METADATA"), "Metadata-Version: 2.1\nName: leaked-from-host\nVersion: 6.6.6\n\n");
    support::write(&host_secret.join("INSTALLER"), "leaked-installer\n");
    support::write(&host_secret.join("direct_url.json"), r#"{"url": "file:///leaked-direct-url"}"#);
    support::write(&host_secret.join("pyvenv.cfg"), "home = /leaked/home\nversion = 9.9.9\n");
    let rootfs = work.join("rootfs");
    let venv = rootfs.join("srv/venv");
    let sp = venv.join("lib/python3.12/site-packages");
    support::mkdirs(&sp);
    support::mkdirs(&venv.join("bin"));
    support::symlink("/usr/bin/python3.12", &venv.join("bin/python"));
    // pyvenv.cfg: an absolute link to the host file.
    support::symlink(host_secret.join("pyvenv.cfg"), &venv.join("pyvenv.cfg"));
    // Absolute links: inside the root they name paths that do not exist.
    let abs = sp.join("abs-1.0.dist-info");
    support::mkdirs(&abs);
    support::symlink(host_secret.join("METADATA"), &abs.join("METADATA"));
    let meta = sp.join("meta-1.0.dist-info");
    support::write(&meta.join("METADATA"), "Metadata-Version: 2.1\nName: meta\nVersion: 1.0\n\n");
    support::symlink(host_secret.join("INSTALLER"), &meta.join("INSTALLER"));
    support::symlink(host_secret.join("direct_url.json"), &meta.join("direct_url.json"));
    // A relative link climbing far past the top: clamped at the root.
    let rel = sp.join("rel-1.0.dist-info");
    support::mkdirs(&rel);
    let up = "../".repeat(40);
    support::symlink(format!("{up}{}", host_secret.join("METADATA").display()), &rel.join("METADATA"));
    // A link that stays inside the root (absolute, as seen from inside): followed.
    support::write(&rootfs.join("opt/shared/METADATA"), "Metadata-Version: 2.1\nName: inroot\nVersion: 2.0\n\n");
    let inroot = sp.join("inroot-2.0.dist-info");
    support::mkdirs(&inroot);
    support::symlink("/opt/shared/METADATA", &inroot.join("METADATA"));

    let (code, out, err) = support::run_raw(&["facts", "--format", "json", "--root", rootfs.to_str().unwrap(), "/srv"]);
    support::assert_ran(code, &err);
    assert!(!out.contains("leaked"), "host content reached the report: {out}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let v = &support::venvs(&r)[0];
    let names: BTreeSet<&str> = v["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["meta", "inroot"]), "{v:#}");
    let meta_pkg = v["packages"].as_array().unwrap().iter().find(|p| p["name"] == "meta").unwrap();
    assert_eq!(meta_pkg["installer"], Value::Null);
    assert_eq!(meta_pkg["direct_url"], Value::Null);
    // The unreadable ones are named, not dropped.
    let errors: Vec<&str> = r["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    for p in ["/srv/venv/pyvenv.cfg", "abs-1.0.dist-info", "rel-1.0.dist-info"] {
        assert!(errors.iter().any(|e| e.ends_with(p)), "{p} not in {errors:?}");
    }
}

/// A FIFO (or device) where pyvenv.cfg should be: the venv is reported with an error naming
/// the file, and the scan neither blocks nor drops it.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn special_files_are_errors_not_silence() {
    let work = TempDir::new();
    let venv = work.join("venv");
    support::make_bare_venv(&pyenv("3.12"), &venv);
    std::fs::remove_file(venv.join("pyvenv.cfg")).unwrap();
    let status = Command::new("mkfifo").arg(venv.join("pyvenv.cfg")).status().unwrap();
    assert!(status.success());
    let (code, r) = {
        let (code, v, err) = support::run(&["facts", "--format", "json", venv.to_str().unwrap()]);
        support::assert_ran(code, &err);
        (code, v)
    };
    assert_eq!(support::venvs(&r).len(), 1, "{r:#}");
    let errors = r["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["path"].as_str().unwrap().ends_with("venv/pyvenv.cfg")
            && e["message"].as_str().unwrap().contains("not a regular file")),
        "{errors:#?}"
    );
    let _ = code;
}

/// Every file of a tree: (path, mode, size, mtime, content hash), for before/after checks.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, (u32, u64, i64, String)> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).follow_links(false).into_iter().flatten() {
        let m = e.path().symlink_metadata().unwrap();
        let hash = if m.is_file() {
            Sha256::digest(std::fs::read(e.path()).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
        } else if m.file_type().is_symlink() {
            std::fs::read_link(e.path()).unwrap().display().to_string()
        } else {
            String::new()
        };
        out.insert(e.path().to_path_buf(), (m.mode(), m.len(), m.mtime(), hash));
    }
    out
}

/// The read-only promise, proven on a real venv: under strace, `check` with every family,
/// `--verify` and the OSV database executes nothing but itself and opens nothing for writing,
/// and the tree is byte-for-byte, mode and mtime the same afterwards.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn scans_execute_nothing_and_write_nothing() {
    let work = TempDir::new();
    let venv = work.join("venv");
    make_venv(&venv, "3.12", &["six", "idna"]);
    let before = fingerprint(&venv);
    assert!(before.len() > 50, "the venv is too small to prove anything: {}", before.len());
    let log = work.join("strace.log");
    let db = shared("osv-pypi.zip");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=execve,execveat,open,openat,openat2,creat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,chmod,fchmodat,truncate,link,symlink,utimensat", "-o"])
        .arg(&log)
        .arg(support::venvaudit())
        .args(["check", "--format", "json", "--verify", "--fail-on", "never", "--osv-db"])
        .arg(&db)
        .arg(&venv)
        .stdout(Stdio::null())
        .status()
        .expect("strace must be installed (scripts/setup.sh installs it)");
    assert!(status.success(), "{status:?}");
    let trace = std::fs::read_to_string(&log).unwrap();
    let execs: Vec<&str> = trace.lines().filter(|l| l.contains("execve(") || l.contains("execveat(")).collect();
    assert_eq!(execs.len(), 1, "{execs:#?}");
    assert!(execs[0].contains("venvaudit"), "{execs:#?}");
    // The trace really saw the scan: it opened files of the venv.
    let venv_s = venv.to_str().unwrap();
    assert!(trace.lines().filter(|l| l.contains(venv_s) && l.contains("open")).count() > 50, "{trace}");
    let writes: Vec<&str> = trace
        .lines()
        .filter(|l| {
            [
                "O_WRONLY",
                "O_RDWR",
                "O_CREAT",
                "O_TRUNC",
                "creat(",
                "rename",
                "unlink",
                "mkdir",
                "chmod",
                "truncate(",
                "link(",
                "utimensat",
            ]
            .iter()
            .any(|w| l.contains(w))
        })
        .collect();
    assert!(writes.is_empty(), "write-mode calls: {writes:#?}");
    assert_eq!(fingerprint(&venv), before, "the venv changed");
}

/// The OSV database is never silently missing or stale: without one (here: the environment
/// names a path that does not exist) `check` warns, `--require-osv-db` fails the gate with
/// `osv-db-missing`; one named by `VENVAUDIT_OSV_DB` is used, and an old one warns.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn a_missing_or_stale_osv_database_is_said() {
    let work = TempDir::new();
    let venv = work.join("venv");
    support::make_bare_venv(&pyenv("3.12"), &venv);
    let v = venv.to_str().unwrap();
    let gone = work.join("no/PyPI.zip");
    let run_env = |db: &Path, today: &str, extra: &[&str]| {
        let mut cmd = Command::new(support::venvaudit());
        cmd.env("VENVAUDIT_OSV_DB", db)
            .env("VENVAUDIT_TODAY", today)
            .args(["check", "--format", "json", "--no-processes", "--check", "vulnerabilities", v])
            .args(extra);
        let (code, r, err) = support::run_json_cmd(&mut cmd);
        support::assert_ran(code, &err);
        (code, r)
    };
    let warnings = |r: &Value| -> Vec<String> {
        r["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_owned()).collect()
    };
    let (code, r) = run_env(&gone, "2026-12-01", &[]);
    assert_eq!(code, 0);
    let expected = format!("vulnerabilities not checked: no OSV database at {}", gone.display());
    assert!(warnings(&r).iter().any(|w| w.starts_with(&expected)), "{:?}", warnings(&r));
    assert_eq!(r["osv_db"], Value::Null);
    let (code, r) = run_env(&gone, "2026-12-01", &["--require-osv-db"]);
    assert_eq!(code, 1);
    // Every missing database is an osv-db-missing error: the PyPI one named here, and the
    // CPython advisory file when none is at its default path either.
    let f = support::findings(&r);
    assert!(
        f.iter().all(|x| (x["id"].as_str(), x["severity"].as_str()) == (Some("osv-db-missing"), Some("error"))),
        "{f:#?}"
    );
    let pypi: Vec<&Value> = f.iter().filter(|x| x["details"]["looked_at"].as_str() == gone.to_str()).collect();
    assert_eq!(pypi.len(), 1, "{f:#?}");

    // The shared database, through the environment variable; its newest record decides age.
    let db = shared("osv-pypi.zip");
    let (code, r) = run_env(&db, "2026-12-01", &["--osv-max-age", "100000"]);
    assert_eq!(code, 0);
    let newest = r["osv_db"]["newest_modified"].as_str().unwrap().to_owned();
    assert!(r["osv_db"]["advisories"].as_u64().unwrap() > 1000, "{:#}", r["osv_db"]);
    assert!(!warnings(&r).iter().any(|w| w.contains("OSV")), "{:?}", warnings(&r));
    // A day after the newest record plus the allowed age: stale.
    let (_, r) = run_env(&db, "2099-01-01", &[]);
    assert!(
        warnings(&r).iter().any(|w| w.contains("the OSV database is") && w.contains(&newest)),
        "{:?}",
        warnings(&r)
    );
    // A run that does not check vulnerabilities says nothing about the database.
    let mut cmd = Command::new(support::venvaudit());
    cmd.env("VENVAUDIT_OSV_DB", &gone).args([
        "check",
        "--format",
        "json",
        "--no-processes",
        "--check",
        "interpreter",
        v,
    ]);
    let (_, r, _) = support::run_json_cmd(&mut cmd);
    assert!(!warnings(&r).iter().any(|w| w.contains("OSV")), "{:?}", warnings(&r));
}

/// `--follow-symlinks` under `--root`: a link that leads out of the root (absolute, as the
/// scanning host would follow it) is not walked and is named in `errors[]`; a relative link
/// within the tree is followed, which proves following is on.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, setpriv, strace (scripts/test.sh runs it)"]
fn follow_symlinks_stays_inside_the_root() {
    let work = TempDir::new();
    let host_venv = work.join("host-side/venv");
    support::make_bare_venv(&pyenv("3.12"), &host_venv);
    let rootfs = work.join("rootfs");
    let inner = rootfs.join("opt/apps/inner-venv");
    support::make_bare_venv(&pyenv("3.12"), &inner);
    support::mkdirs(&rootfs.join("srv"));
    support::symlink(work.join("host-side"), &rootfs.join("srv/hostlink"));
    support::symlink("../opt/apps", &rootfs.join("srv/rel"));
    let (code, out, err) = support::run_raw(&[
        "facts",
        "--format",
        "json",
        "--no-processes",
        "--follow-symlinks",
        "--root",
        rootfs.to_str().unwrap(),
        "/srv",
    ]);
    support::assert_ran(code, &err);
    let r: Value = serde_json::from_str(&out).unwrap();
    let paths: Vec<&str> = support::venvs(&r).iter().map(|v| v["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/srv/rel/inner-venv"], "{out}");
    let errors = r["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["path"] == "/srv/hostlink" && e["message"].as_str().unwrap().contains("not followed")),
        "{errors:#?}"
    );
    assert!(!out.contains("host-side"), "{out}");
}
