//! One judgement, two sources: the wheels pip picks, judged as an artefact before they are
//! installed (`check-artifact`), and the venv they make once installed (`check`), give the
//! same extension and dependency verdicts: the same ids, severities, distributions and
//! reachability, file for file.
//!
//! Real tier (`#[ignore]`d; scripts/test.sh runs it): pyenv's CPython 3.12, pip, and real
//! wheels from the offline wheelhouse (PyQt6, Panda3D with their libraries the host lacks,
//! numpy, pillow, requests).

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use support::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A finding's verdict, independent of where the file was read: (id, severity, package,
/// reachability, the files it names relative to site-packages).
type Verdict = (String, String, String, String, Vec<String>);

/// Files of a finding relative to site-packages: an installed path after `site-packages/`,
/// an artefact's `WHEEL.whl:member` after the `:`.
fn rel(path: &str) -> String {
    if let Some((_, member)) = path.split_once(".whl:") {
        return member.to_owned();
    }
    path.split_once("site-packages/").map_or(path, |(_, r)| r).to_owned()
}

fn verdicts(report: &Value) -> BTreeMap<Verdict, usize> {
    let mut out = BTreeMap::new();
    for f in findings(report) {
        let d = &f["details"];
        let mut files: Vec<String> = d["file"].as_str().map(rel).into_iter().collect();
        files.extend(d["modules"].as_array().into_iter().flatten().filter_map(|m| m.as_str()).map(rel));
        files.sort();
        let v = (
            f["id"].as_str().unwrap_or_default().to_owned(),
            f["severity"].as_str().unwrap_or_default().to_owned(),
            f["package"].as_str().unwrap_or_default().to_owned(),
            d["reachability"].as_str().unwrap_or_default().to_owned(),
            files,
        );
        *out.entry(v).or_default() += 1;
    }
    out
}

#[test]
#[ignore = "real-tool tier: pyenv 3.12, pip, the offline wheelhouse (scripts/test.sh runs it)"]
fn an_artefact_is_judged_as_the_venv_it_installs() {
    let tmp = TempDir::new();
    let py = pyenv("3.12");
    let venv = tmp.path().join("venv");
    make_venv(Creator::Venv, &py, &venv);
    let reqs = ["numpy", "pillow", "requests", "PyQt6", "panda3d"];
    // pip's own choice of files, then the install of exactly those.
    let report = tmp.path().join("pip-report.json");
    check(
        py_cmd(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-index", "--quiet", "--find-links"])
            .arg(wheels())
            .arg("--report")
            .arg(&report)
            .args(reqs),
    );
    let chosen: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let files: Vec<String> = chosen["install"]
        .as_array()
        .expect("pip --report lists what it installs")
        .iter()
        .map(|i| {
            let url = i["download_info"]["url"].as_str().unwrap();
            url.strip_prefix("file://").unwrap_or(url).to_owned()
        })
        .collect();
    assert!(files.len() >= 8, "pip picked {files:?}");
    let wheelhouse = tmp.path().join("wheelhouse");
    mkdirs(&wheelhouse);
    for f in &files {
        let src = Path::new(f);
        std::fs::hard_link(src, wheelhouse.join(src.file_name().unwrap()))
            .or_else(|_| std::fs::copy(src, wheelhouse.join(src.file_name().unwrap())).map(|_| ()))
            .unwrap();
    }
    pip_install(&venv, &reqs);

    let empty = tmp.path().join("config-empty");
    mkdirs(&empty);
    let families = ["--check", "extensions", "--check", "dependencies"];
    let mut args = vec!["check", "--format", "json", "--no-processes", "--config-root", s(&empty)];
    args.extend(families);
    args.push(s(&venv));
    let (code, installed, err) = run(&args);
    assert!(code == 0 || code == 1, "check exited {code}: {err}");

    let target = venv.join("bin/python");
    let mut args = vec!["check-artifact", "--format", "json", "--target-python", s(&target)];
    args.extend(families);
    args.push(s(&wheelhouse));
    let (acode, artefact, err) = run(&args);
    assert!(acode == 0 || acode == 1, "check-artifact exited {acode}: {err}");

    // The artefact's selection is pip's.
    let mut selected: Vec<String> = artefact["artifact"]["selected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| Path::new(w["file"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    selected.sort();
    let mut picked: Vec<String> =
        files.iter().map(|f| Path::new(f).file_name().unwrap().to_string_lossy().into_owned()).collect();
    picked.sort();
    assert_eq!(selected, picked, "check-artifact selects what pip installs");

    let (a, b) = (verdicts(&installed), verdicts(&artefact));
    // The installed venv holds pip too (its own wheel, not in the artefact): compare the rest.
    let a: BTreeMap<Verdict, usize> = a.into_iter().filter(|(v, _)| v.2 != "pip").collect();
    assert!(
        a.keys().any(|v| v.0 == "extension-missing-library"),
        "the fixture must have load failures to compare (PyQt6 without libpulse, Panda3D): {a:#?}"
    );
    assert_eq!(a, b, "installed venv (left) and artefact (right) are judged differently");
    assert_eq!(code, acode, "the gate's verdict differs");
}
