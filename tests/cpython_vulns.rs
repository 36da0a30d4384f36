//! `interpreter-vulnerability` end to end: the CPython advisory file built by `venvaudit db
//! cpython` from the committed real PSF records, then `check` of real venvs. The expected CVE
//! sets are derived by hand from the records' CPython 3.12 ranges (`tests/fixtures/cpython/
//! records`, dateUpdated 2025-07-07 .. 2025-11-03):
//!
//! | CVE | 3.12 range |
//! |---|---|
//! | CVE-2023-6597 | 3.12.0 <= v < 3.12.1 |
//! | CVE-2024-0450 | 3.12.0 <= v < 3.12.2 |
//! | CVE-2024-4032 | 3.12.0 <= v < 3.12.4 |
//! | CVE-2024-6232, -7592, -8088 | 3.12.0 <= v < 3.12.6 |
//! | CVE-2024-9287 | 3.12.0 <= v < 3.12.8 |
//! | CVE-2025-0938 | 3.12.0 <= v < 3.12.9 |
//! | CVE-2024-12718, CVE-2025-4138, -4330, -4435, -4517 | 3.12.0 <= v < 3.12.11 |
//! | CVE-2024-11168 | 3.12.0a1 <= v < 3.12.0b1 |
//!
//! Real tier (`#[ignore]`d; scripts/test.sh runs it): pyenv's CPython 3.12.1 and Debian's
//! `/usr/bin/python3`.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Build the advisory file from the committed records.
fn advisory_file(dir: &Path) -> PathBuf {
    let out = dir.join("CPython.json");
    let records = repo_root().join("tests/fixtures/cpython/records");
    let psf = repo_root().join("tests/fixtures/cpython/psf");
    let (code, _, err) = run_raw(&["db", "cpython", "--from", s(&records), "--from", s(&psf), "--output", s(&out)]);
    assert_eq!(code, 0, "db cpython failed: {err}");
    out
}

/// `check --check vulnerabilities --cpython-db FILE VENV...`.
fn check(db: &Path, paths: &[&Path]) -> Value {
    let empty = db.parent().unwrap().join("config-empty");
    mkdirs(&empty);
    let mut args = vec!["check", "--format", "json", "--no-processes", "--config-root", s(&empty)];
    args.extend(["--check", "vulnerabilities", "--cpython-db", s(db), "--osv-db", s(&empty)]);
    args.extend(paths.iter().map(|p| s(p)));
    let (code, report, err) = run(&args);
    assert!(code == 0 || code == 1, "check exited {code}: {err}");
    report
}

/// The CVE ids of the interpreter findings about one venv.
fn cves(report: &Value, venv: &Path) -> BTreeSet<String> {
    findings_for(report, "interpreter-vulnerability", venv)
        .iter()
        .map(|f| {
            let aliases: Vec<&str> =
                f["details"]["aliases"].as_array().unwrap().iter().filter_map(|a| a.as_str()).collect();
            assert!(aliases.iter().any(|a| a.starts_with("CVE-")), "details.aliases names the CVE: {f:#}");
            f["details"]["advisory"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

const FROM_3_12_9: &[&str] = &["CVE-2024-12718", "CVE-2025-4138", "CVE-2025-4330", "CVE-2025-4435", "CVE-2025-4517"];

/// A private copy of pyenv's 3.12 installation (hard links) whose patchlevel.h says `version`,
/// as an in-place upgrade of the base leaves it, and a venv made from it before the upgrade.
fn venv_over_upgraded_base(work: &Path, version: &str) -> PathBuf {
    let prefix = pyenv_prefix("3.12");
    let copy = work.join(format!("python-{version}"));
    link_tree(&prefix, &copy);
    let venv = work.join(format!("venv-{version}"));
    make_bare_venv(&copy.join("bin/python3.12"), &venv);
    let header = copy.join("include/python3.12/patchlevel.h");
    let text = std::fs::read_to_string(&header).unwrap();
    let old =
        text.lines().find(|l| l.starts_with("#define PY_VERSION ")).expect("PY_VERSION in patchlevel.h").to_owned();
    // A new file, not an edit through the hard link: pyenv's own installation stays as it is.
    std::fs::remove_file(&header).unwrap();
    std::fs::write(&header, text.replace(&old, &format!("#define PY_VERSION \"{version}\""))).unwrap();
    venv
}

#[test]
#[ignore = "real-tool tier: pyenv 3.12.1, Debian's python3 (scripts/test.sh runs it)"]
fn interpreter_cves_follow_the_base_installation_and_skip_os_owned_pythons() {
    let work = TempDir::new();
    let db = advisory_file(work.path());
    let py = pyenv("3.12");
    assert!(py.to_string_lossy().contains("3.12.1"), "the test expects pyenv's 3.12.1, got {}", py.display());
    let v1 = work.path().join("venv-3.12.1");
    make_bare_venv(&py, &v1);
    let v8 = venv_over_upgraded_base(work.path(), "3.12.8");
    let v11 = venv_over_upgraded_base(work.path(), "3.12.11");
    let deb = work.path().join("venv-debian");
    make_bare_venv(Path::new("/usr/bin/python3"), &deb);

    let report = check(&db, &[&v1, &v8, &v11, &deb]);

    // 3.12.1: every record whose 3.12 range ends above 3.12.1.
    let mut on_3_12_1 = set(&[
        "CVE-2024-0450",
        "CVE-2024-4032",
        "CVE-2024-6232",
        "CVE-2024-7592",
        "CVE-2024-8088",
        "CVE-2024-9287",
        "CVE-2025-0938",
    ]);
    on_3_12_1.extend(set(FROM_3_12_9));
    assert_eq!(cves(&report, &v1), on_3_12_1, "CPython 3.12.1");
    let one = &findings_for(&report, "interpreter-vulnerability", &v1)[0];
    assert_eq!(one["package"], "CPython");
    assert!(one["details"]["version_source"].as_str().unwrap().contains("patchlevel.h"), "{one:#}");

    // pyvenv.cfg still says 3.12.1, the base is now 3.12.8: judged as 3.12.8.
    let venv8 = venv_at(&report, &v8);
    assert_eq!(venv8["python"]["version"], "3.12.8", "{:#}", venv8["python"]);
    let mut on_3_12_8 = set(&["CVE-2025-0938"]);
    on_3_12_8.extend(set(FROM_3_12_9));
    assert_eq!(cves(&report, &v8), on_3_12_8, "base upgraded in place to 3.12.8");

    // A fixed micro release gets none.
    assert_eq!(cves(&report, &v11), BTreeSet::new(), "3.12.11 fixes every record");

    // Debian's interpreter: owned by dpkg, not matched, and the report says why.
    let venvd = venv_at(&report, &deb);
    assert_eq!(venvd["python"]["owner"]["manager"], "dpkg", "{:#}", venvd["python"]);
    assert!(venvd["python"]["owner"]["package"].as_str().is_some_and(|p| p.starts_with("python3")));
    assert_eq!(cves(&report, &deb), BTreeSet::new(), "an OS-owned interpreter is not matched");
    let warned =
        report["warnings"].as_array().unwrap().iter().filter_map(|w| w.as_str()).any(|w| w.contains("owned by the OS"));
    assert!(warned, "warnings say OS-owned interpreters are left to the vendor: {:#}", report["warnings"]);
}

#[test]
#[ignore = "real-tool tier: pyenv 3.12.1 (scripts/test.sh runs it)"]
fn a_named_advisory_file_that_is_missing_is_an_error() {
    let work = TempDir::new();
    let venv = work.path().join("venv");
    make_bare_venv(&pyenv("3.12"), &venv);
    let empty = work.path().join("config-empty");
    mkdirs(&empty);
    let missing = work.path().join("no-such-CPython.json");
    let args =
        ["check", "--format", "json", "--no-processes", "--config-root", s(&empty), "--check", "vulnerabilities"];
    let (code, _, err) = run_raw(&[&args[..], &["--cpython-db", s(&missing), s(&venv)]].concat());
    assert_eq!(code, 2, "a named file that does not exist is an error: {err}");
    assert!(err.contains("no-such-CPython.json"), "{err}");
}

#[test]
#[ignore = "real-tool tier: pyenv 3.12.1, pip, the offline wheelhouse's mod_wsgi, Debian's mod_wsgi (scripts/test.sh runs it)"]
fn the_python_mod_wsgi_embeds_is_judged_unless_the_os_owns_it() {
    let work = TempDir::new();
    let db = advisory_file(work.path());
    let venv = work.path().join("venv");
    make_venv(Creator::Venv, &pyenv("3.12"), &venv);
    pip_install(&venv, &["mod_wsgi"]);
    let so = walkdir::WalkDir::new(&venv)
        .into_iter()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("mod_wsgi-py312"))
        .expect("pip installed mod_wsgi's server module")
        .into_path();
    let embedded = |module: &Path| -> BTreeSet<String> {
        let empty = work.path().join("config-empty");
        mkdirs(&empty);
        let args =
            ["check", "--format", "json", "--no-processes", "--config-root", s(&empty), "--check", "vulnerabilities"];
        let more = ["--check", "mod-wsgi", "--cpython-db", s(&db), "--mod-wsgi", s(module), s(&venv)];
        let (code, report, err) = run(&[&args[..], &more[..]].concat());
        assert!(code == 0 || code == 1, "check exited {code}: {err}");
        findings(&report)
            .iter()
            .filter(|f| f["id"] == "interpreter-vulnerability" && f["venv"].is_null())
            .map(|f| {
                assert_eq!(f["details"]["module"].as_str(), Some(s(module)), "{f:#}");
                f["details"]["advisory"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    // pip's build embeds pyenv's libpython3.12 (3.12.1): the twelve CVEs of 3.12.1.
    let pip_built = embedded(&so);
    assert_eq!(pip_built.len(), 12, "{pip_built:?}");
    assert!(pip_built.contains("CVE-2025-4517") && pip_built.contains("CVE-2024-7592"), "{pip_built:?}");
    // Debian's mod_wsgi embeds Debian's libpython, which dpkg owns: not matched.
    let debian = Path::new("/usr/lib/apache2/modules/mod_wsgi.so");
    assert!(debian.exists(), "Debian's libapache2-mod-wsgi-py3 is missing: run scripts/setup.sh");
    assert_eq!(embedded(debian), BTreeSet::new(), "an OS-owned embedded Python is not matched");
}

#[test]
#[ignore = "real-tool tier: pyenv 3.12.1 (scripts/test.sh runs it)"]
fn the_interpreter_is_a_component_of_the_sbom_and_a_metric() {
    let work = TempDir::new();
    let db = advisory_file(work.path());
    let venv = work.path().join("venv");
    make_bare_venv(&pyenv("3.12"), &venv);
    let empty = work.path().join("config-empty");
    mkdirs(&empty);
    let base = ["check", "--no-processes", "--config-root", s(&empty), "--check", "vulnerabilities"];
    let (code, sbom, err) = run(&[&base[..], &["--cpython-db", s(&db), "--format", "cyclonedx", s(&venv)]].concat());
    assert!(code == 0 || code == 1, "check exited {code}: {err}");
    let venv_component = sbom["components"].as_array().unwrap().iter().find(|c| c["name"] == s(&venv)).unwrap();
    let python = venv_component["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "CPython")
        .expect("the interpreter is a component of its environment");
    assert_eq!(python["version"], "3.12.1");
    assert_eq!(python["purl"], "pkg:generic/cpython@3.12.1");
    let cve = sbom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "CVE-2025-4517")
        .expect("the interpreter's CVE is a vulnerability of the SBOM");
    assert_eq!(cve["affects"][0]["ref"], python["bom-ref"], "{cve:#}");
    let (_, metrics, err) =
        run_raw(&[&base[..], &["--cpython-db", s(&db), "--format", "prometheus", s(&venv)]].concat());
    let line = metrics
        .lines()
        .find(|l| l.starts_with("venvaudit_interpreter_info{") && l.contains(s(&venv)))
        .unwrap_or_else(|| panic!("no venvaudit_interpreter_info for the venv: {metrics}\n{err}"));
    assert!(line.contains("version=\"3.12.1\"") && line.contains("owner=\"pyenv\""), "{line}");
    assert!(metrics.contains("id=\"interpreter-vulnerability\""), "{metrics}");
}
