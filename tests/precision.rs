//! The precision benchmark (scripts/precision.sh) in small: real wheels from the offline
//! wheelhouse, ground truth from the venvs' own interpreters and loader through the same oracle
//! (tests/support/oracle.py: every extension module imported, every other `.so` dlopened, one
//! subprocess per file), and `venvaudit check` judged against it:
//! - healthy venvs (three Pythons: stdlib venv, uv, virtualenv) where the oracle says everything loads get
//!   no error finding at all;
//! - every injected fault, first confirmed to fail in truth, is named: an error when its
//!   distribution's top-level import fails in truth, else a warning (and an error once `--app`
//!   holds code importing the failing module). (A fault that breaks `import numpy` is in
//!   tests/reachability.rs.)
//!
//! Needs scripts/setup.sh (tools venv, wheelhouse) and the pyenv Pythons 3.9, 3.11 and 3.12.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{Creator, TempDir, file_starting, normalize, pip_install, pyenv};

/// Compiled distributions of the healthy venvs (all in the offline wheelhouse).
const PACKAGES: &[&str] = &["numpy", "pillow", "psycopg2-binary", "cryptography", "pyyaml"];

/// Families judged: those about whether the venv's code loads and runs (not the date-driven
/// EOL policy, the OSV database or running processes).
const CHECKS: &[&str] = &["interpreter", "extensions", "dependencies", "permissions"];

/// The oracle's verdict on one venv.
struct Truth {
    json: Value,
}

impl Truth {
    fn of(venv: &Path) -> Truth {
        let oracle = support::repo_root().join("tests/support/oracle.py");
        let (code, out, err) = support::output_with_timeout(
            Command::new(support::tools_venv().join("bin/python")).arg(&oracle).arg(venv).args(["--jobs", "2"]),
            Duration::from_secs(900),
        );
        assert_eq!(code, 0, "oracle failed on {}:\n{err}", venv.display());
        Truth { json: serde_json::from_str(&out).unwrap_or_else(|e| panic!("oracle output is not JSON ({e}):\n{out}")) }
    }

    /// Distributions with a file that fails to load in truth.
    fn faulty(&self) -> BTreeSet<String> {
        let dists = self.json["dists"].as_object().expect("dists");
        dists.iter().filter(|(_, v)| v["fault"] == true).map(|(k, _)| k.clone()).collect()
    }

    /// Distributions with at least one extension module that imports.
    fn importing(&self) -> BTreeSet<String> {
        let files = self.json["files"].as_array().expect("files");
        files
            .iter()
            .filter(|f| f["kind"] == "module" && f["status"] == "ok")
            .filter_map(|f| f["dist"].as_str().map(str::to_owned))
            .collect()
    }
}

/// `venvaudit check` on one venv: its error findings as (package, id, message).
fn errors(venv: &Path) -> Vec<(Option<String>, String, String)> {
    severe(venv, &[], "error")
}

/// `venvaudit check` on one venv with extra arguments: its findings of one severity as
/// (package, id, message).
fn severe(venv: &Path, extra: &[&str], severity: &str) -> Vec<(Option<String>, String, String)> {
    let mut args = vec!["check", "--format", "json"];
    for c in CHECKS {
        args.extend(["--check", c]);
    }
    args.extend(extra);
    args.push(venv.to_str().unwrap());
    let (code, r, err) = support::run(&args);
    support::assert_ran(code, &err);
    support::findings(&r)
        .iter()
        .filter(|f| f["severity"] == severity)
        .map(|f| {
            (
                f["package"].as_str().map(normalize),
                f["id"].as_str().unwrap_or_default().to_owned(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn site_packages(venv: &Path) -> PathBuf {
    support::site_packages(venv).unwrap_or_else(|| panic!("no site-packages in {}", venv.display()))
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, real wheels and the oracle (scripts/test.sh runs it)"]
fn no_false_errors_on_real_wheels_and_every_injected_fault_found() {
    let tmp = TempDir::new();
    let mut problems: Vec<String> = Vec::new();

    // Healthy: the same compiled wheels on three Pythons and three creators. On 3.9 the
    // wheelhouse holds pillow 11.3.0 and psycopg2-binary 2.9.12, whose bundled libraries
    // (libbrotlidec, libgssapi_krb5) need siblings they find only through their module's RPATH.
    let healthy = [
        (tmp.join("h-py312-venv"), "3.12", Creator::Venv),
        (tmp.join("h-py311-uv"), "3.11", Creator::Uv),
        (tmp.join("h-py39-virtualenv"), "3.9", Creator::Virtualenv),
    ];
    for (venv, py, creator) in &healthy {
        support::make_venv(*creator, &pyenv(py), venv);
        pip_install(venv, PACKAGES);
        let truth = Truth::of(venv);
        assert_eq!(truth.json["python"]["ok"], true, "{}: {}", venv.display(), truth.json["python"]);
        // The input reached the oracle: every compiled distribution has a module that imports.
        let importing = truth.importing();
        for p in PACKAGES {
            assert!(importing.contains(&normalize(p)), "{}: no module of {p} imports: {importing:?}", venv.display());
        }
        let faulty = truth.faulty();
        for (package, id, message) in errors(venv) {
            let justified = package.as_ref().is_some_and(|p| faulty.contains(p));
            if !justified {
                problems.push(format!("false positive on {}: {id} {package:?}: {message}", venv.display()));
            }
        }
    }

    // Fault 1: a library auditwheel bundled in pillow.libs, which PIL._imaging needs, deleted.
    // `import PIL` does not load _imaging: the gate passes with a warning naming it, and fails
    // once the application's code (`--app`) imports PIL.Image.
    let f1 = tmp.join("f-pillow-lib-deleted");
    support::make_venv(Creator::Uv, &pyenv("3.12"), &f1);
    pip_install(&f1, &["pillow"]);
    let sp = site_packages(&f1);
    let victim =
        support::delete_bundled_dependency(&file_starting(&sp.join("PIL"), "_imaging."), &sp.join("pillow.libs"));
    let app = tmp.join("app-uses-pil");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("thumbs.py"), "from PIL import Image\n").unwrap();

    // Fault 2: psycopg2's C module replaced by the CPython 3.11 build from the healthy 3.11 venv.
    let f2 = tmp.join("f-psycopg2-cp311-in-312");
    support::make_venv(Creator::Venv, &pyenv("3.12"), &f2);
    pip_install(&f2, &["psycopg2-binary"]);
    let own = file_starting(&site_packages(&f2).join("psycopg2"), "_psycopg.");
    let donor = file_starting(&site_packages(&healthy[1].0).join("psycopg2"), "_psycopg.");
    assert_ne!(own.file_name(), donor.file_name(), "the 3.11 build has another ABI tag");
    std::fs::remove_file(&own).unwrap();
    std::fs::copy(&donor, own.with_file_name(donor.file_name().unwrap())).unwrap();

    // (venv, distribution, fault, its top-level import, whether that import fails in truth)
    let faults = [
        (&f1, "pillow", format!("pillow.libs/{victim} deleted"), "PIL", false),
        (&f2, "psycopg2-binary", "psycopg2/_psycopg of CPython 3.11 in a 3.12 venv".to_owned(), "psycopg2", true),
    ];
    for (venv, dist, what, top, import_fails) in faults {
        let truth = Truth::of(venv);
        assert!(
            truth.faulty().contains(dist),
            "{what}: the oracle does not confirm the fault: {}",
            truth.json["dists"]
        );
        // Gate truth: the distribution's own top-level import, in a fresh interpreter.
        let imported = Command::new(venv.join("bin/python")).args(["-c", &format!("import {top}")]).output().unwrap();
        assert_eq!(!imported.status.success(), import_fails, "{what}: `import {top}` in truth: {imported:?}");
        let errs = errors(venv);
        let faulty = truth.faulty();
        for (package, id, message) in &errs {
            if !package.as_ref().is_some_and(|p| faulty.contains(p)) {
                problems.push(format!("false positive on {}: {id} {package:?}: {message}", venv.display()));
            }
        }
        let named = |list: &[(Option<String>, String, String)]| list.iter().any(|(p, _, _)| p.as_deref() == Some(dist));
        if import_fails && !named(&errs) {
            problems.push(format!("missed: {what} ({}): errors were {errs:?}", venv.display()));
        }
        if !import_fails {
            // File level: still named, as a warning; gate level: no error.
            if named(&errs) {
                problems.push(format!("gate false positive: {what}: `import {top}` works, yet errors {errs:?}"));
            }
            let warns = severe(venv, &[], "warning");
            if !named(&warns) {
                problems.push(format!("file-level miss: {what}: no warning names {dist}: {warns:?}"));
            }
            let with_app = severe(venv, &["--app", app.to_str().unwrap()], "error");
            if !named(&with_app) || !with_app.iter().any(|(_, _, m)| m.contains("the application imports it")) {
                problems.push(format!("--app importing PIL.Image did not make {what} an error: {with_app:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}
