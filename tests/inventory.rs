//! `venvaudit facts`: discovery and package inventory against ground truth from real pip, on
//! venvs built here with stdlib venv, virtualenv and uv on several CPythons.
//!
//! Needs what `scripts/setup.sh` installs (tools venv, offline wheelhouse) and the pyenv Pythons
//! 3.8 3.9 3.11 3.12 3.13. Run through `scripts/test.sh`.

mod support;

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use support::*;

const SECRET: &str = "s3cr3tT0ken";
const SECRET_URL: &str = "https://user:s3cr3tT0ken@example.com/org/repo.git";

/// One venv of the shared fleet.
#[derive(Debug)]
struct FleetVenv {
    path: PathBuf,
    creator: Creator,
    /// `X.Y` of its Python.
    xy: &'static str,
    /// VCS-installed distribution and its commit.
    vcs: Option<(&'static str, String)>,
    /// Whether its direct_url.json url was rewritten to carry [`SECRET`].
    secret: bool,
    /// Ground truth from `pip list`.
    pip: std::collections::BTreeSet<(String, String)>,
}

#[derive(Debug)]
struct Fleet {
    root: PathBuf,
    venvs: Vec<FleetVenv>,
    /// A directory holding only a pyvenv.cfg (not a venv).
    stray: PathBuf,
}

const EDITABLE: &str = "vaeditable";
const VCS: &str = "vagitproj";

/// One venv to build: where (under the fleet root), with what, on which Python, which compiled
/// wheel to install, whether to add a VCS install, and whether to plant a credential in its url.
struct Plan {
    rel: &'static str,
    creator: Creator,
    xy: &'static str,
    compiled: &'static str,
    vcs: bool,
    secret: bool,
}

/// Covers every creator and every test Python at least once. (virtualenv cannot seed 3.8.)
#[rustfmt::skip]
const PLAN: &[Plan] = &[
    Plan { rel: "a/venv38", creator: Creator::Venv, xy: "3.8", compiled: "numpy", vcs: true, secret: false },
    Plan { rel: "a/virtualenv39", creator: Creator::Virtualenv, xy: "3.9", compiled: "PyYAML", vcs: false, secret: false },
    Plan { rel: "b/uv311", creator: Creator::Uv, xy: "3.11", compiled: "numpy", vcs: true, secret: false },
    Plan { rel: "b/venv312", creator: Creator::Venv, xy: "3.12", compiled: "PyYAML", vcs: true, secret: true },
    Plan { rel: "c/deep/er/virtualenv313", creator: Creator::Virtualenv, xy: "3.13", compiled: "numpy", vcs: false, secret: false },
    Plan { rel: "c/uv313", creator: Creator::Uv, xy: "3.13", compiled: "PyYAML", vcs: false, secret: false },
];

fn write_project(dir: &Path, name: &str, version: &str) {
    write(
        &dir.join("pyproject.toml"),
        format!(
            "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
             [project]\nname = \"{name}\"\nversion = \"{version}\"\ndependencies = [\"six\"]\n"
        ),
    );
    write(&dir.join(format!("{name}.py")), format!("VERSION = {version:?}\n"));
}

/// Rewrite the url of `<dist>-*.dist-info/direct_url.json` in a venv, keeping vcs_info.
fn rewrite_direct_url(venv: &Path, dist: &str, url: &str) {
    let sp = site_packages(venv).expect("site-packages");
    let di = fs::read_dir(&sp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_lowercase();
            n.starts_with(&format!("{dist}-")) && n.ends_with(".dist-info")
        })
        .unwrap_or_else(|| panic!("no {dist} dist-info in {}", sp.display()));
    let f = di.join("direct_url.json");
    let mut v: Value = serde_json::from_str(&fs::read_to_string(&f).unwrap()).unwrap();
    assert!(v["vcs_info"]["commit_id"].is_string(), "{}: no vcs_info: {v}", f.display());
    v["url"] = Value::String(url.to_string());
    fs::write(&f, serde_json::to_string(&v).unwrap()).unwrap();
}

fn build_one(root: &Path, repo_url: &str, commit: &str, plan: &'static Plan) -> FleetVenv {
    let &Plan { rel, creator, xy, compiled, vcs, secret } = plan;
    let path = root.join(rel);
    mkdirs(path.parent().unwrap());
    make_venv(creator, &pyenv(xy), &path);

    // build tooling for offline editable/VCS builds without isolation
    pip_install(&path, &["--upgrade", "setuptools", "wheel"]);
    // pure-Python packages with dependencies, and a compiled wheel
    pip_install(&path, &["requests", "six", compiled]);
    // an editable local project (its own source dir: building writes egg-info into it)
    let src = root.join("src").join(rel.replace('/', "_"));
    write_project(&src, EDITABLE, "0.1.0");
    pip_install(&path, &["--no-build-isolation", "-e", src.to_str().unwrap()]);
    // a VCS install from a local git repo at a commit
    let vcs = vcs.then(|| {
        // old pips (3.8's 23.0) reject `name @ git+file:///...` (empty netloc): use #egg= there
        let req = if has_pip(&path) {
            format!("git+{repo_url}@{commit}#egg={VCS}")
        } else {
            format!("{VCS} @ git+{repo_url}@{commit}")
        };
        pip_install(&path, &["--no-build-isolation", &req]);
        if secret {
            rewrite_direct_url(&path, VCS, SECRET_URL);
        }
        (VCS, commit.to_string())
    });
    let pip = pip_list_normalized(&path);
    FleetVenv { path, creator, xy, vcs, secret, pip }
}

/// The fleet of venvs for the read-only tests, built once per test binary.
/// A failed build is remembered, so the other tests fail fast instead of rebuilding.
fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Result<Fleet, String>> = OnceLock::new();
    let built = FLEET.get_or_init(|| {
        std::panic::catch_unwind(build_fleet).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".to_string())
        })
    });
    match built {
        Ok(f) => f,
        Err(msg) => panic!("the test fleet could not be built: {msg}"),
    }
}

fn build_fleet() -> Fleet {
    let root = TempDir::new().remove_at_exit().join("fleet");
    mkdirs(&root);

    // local git repo of a tiny project, for `git+file://` installs
    let repo = root.join("gitrepo");
    write_project(&repo, VCS, "1.0.0");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    let repo_url = format!("file://{}", repo.display());

    // build the venvs three at a time (pip waits on I/O a lot; 2 cores)
    let mut venvs: Vec<FleetVenv> = Vec::new();
    for chunk in PLAN.chunks(3) {
        std::thread::scope(|s| {
            let (root, repo_url, commit) = (&root, &repo_url, &commit);
            let handles: Vec<_> = chunk.iter().map(|p| s.spawn(move || build_one(root, repo_url, commit, p))).collect();
            for h in handles {
                match h.join() {
                    Ok(v) => venvs.push(v),
                    Err(e) => std::panic::resume_unwind(e),
                }
            }
        });
    }

    // not a venv: a directory with only a pyvenv.cfg
    let stray = root.join("stray");
    write(&stray.join("pyvenv.cfg"), "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n");

    Fleet { root, venvs, stray }
}

fn scan_fleet() -> (Value, String) {
    let f = fleet();
    let (code, out, err) = run_raw(&["facts", "--format", "json", f.root.to_str().unwrap()]);
    assert_ran(code, &err);
    assert!(!out.contains(SECRET), "the credential from direct_url.json leaked into stdout:\n{out}");
    (parse_json(code, &out, &err), err)
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn inventory_equals_pip() {
    let f = fleet();
    let (report, stderr) = scan_fleet();

    assert!(report["schema_version"].is_u64(), "schema_version: {}", report["schema_version"]);
    assert_eq!(report["tool"]["name"], "venvaudit");
    assert_eq!(
        venvs(&report).len(),
        f.venvs.len(),
        "expected exactly the fleet's venvs; reported: {:?}\nstderr: {stderr}",
        venvs(&report).iter().map(|v| v["path"].clone()).collect::<Vec<_>>()
    );

    for fv in &f.venvs {
        let ctx = format!("{} ({:?}, Python {})", fv.path.display(), fv.creator, fv.xy);
        let v = venv_at(&report, &fv.path);

        assert_eq!(v["kind"], fv.creator.kind(), "kind of {ctx}");
        let version = v["python"]["version"].as_str().unwrap_or_else(|| panic!("no python.version for {ctx}"));
        assert!(
            version == fv.xy || version.starts_with(&format!("{}.", fv.xy)),
            "python.version of {ctx} is {version}"
        );
        assert_eq!(v["python"]["base_exists"], true, "base_exists of {ctx}");
        assert!(
            findings_for(&report, "broken-interpreter", &fv.path).is_empty(),
            "healthy {ctx} got a broken-interpreter finding"
        );

        // the inventory is exactly pip's
        let got = reported_packages(v);
        let missing: Vec<_> = fv.pip.difference(&got).collect();
        let extra: Vec<_> = got.difference(&fv.pip).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "packages of {ctx} differ from pip list\n  missing (in pip, not reported): {missing:?}\n  extra (reported, not in pip): {extra:?}"
        );

        let ed = package(v, EDITABLE);
        assert_eq!(ed["editable"], true, "{EDITABLE} in {ctx} is editable: {ed:#}");
        let six = package(v, "six");
        assert_eq!(six["editable"], false, "six in {ctx} is not editable: {six:#}");
        assert_eq!(six["normalized_name"], "six");

        if let Some((dist, commit)) = &fv.vcs {
            let p = package(v, dist);
            let du = &p["direct_url"];
            assert_eq!(du["vcs_info"]["commit_id"], commit.as_str(), "commit of {dist} in {ctx}: {p:#}");
            assert_eq!(p["editable"], false, "{dist} in {ctx}: {p:#}");
            let url = du["url"].as_str().unwrap_or_else(|| panic!("no direct_url.url for {dist} in {ctx}: {p:#}"));
            assert!(!url.contains(SECRET), "url not redacted: {url}");
            if fv.secret {
                assert!(url.contains("example.com"), "redacted url lost its host: {url}");
            }
        }
    }
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn stray_pyvenv_cfg_is_not_a_venv() {
    let f = fleet();
    let (report, _) = scan_fleet();
    assert!(f.stray.join("pyvenv.cfg").exists());
    for v in venvs(&report) {
        let p = v["path"].as_str().unwrap_or_default();
        assert!(!same_path(p, &f.stray), "a directory with only pyvenv.cfg was reported as a venv: {v:#}");
    }
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn deleted_base_interpreter_is_broken() {
    let tmp = TempDir::new();
    // a private copy of CPython 3.12 (hard links when possible), a venv on it, then delete it
    let base = tmp.join("py312");
    link_tree(&pyenv_prefix("3.12"), &base);
    let exe_name = pyenv("3.12").file_name().unwrap().to_owned();
    let scan = tmp.join("scan");
    let broken = scan.join("broken");
    let healthy = scan.join("healthy");
    make_bare_venv(&base.join("bin").join(&exe_name), &broken);
    make_bare_venv(&pyenv("3.12"), &healthy);
    let cfg = fs::read_to_string(broken.join("pyvenv.cfg")).unwrap();
    assert!(cfg.contains(&base.to_string_lossy().to_string()), "venv is not on the copy: {cfg}");
    force_remove(&base);

    let (code, report, err) = run(&["facts", "--format", "json", scan.to_str().unwrap()]);
    assert_ran(code, &err);
    let fs_ = findings_for(&report, "broken-interpreter", &broken);
    assert!(!fs_.is_empty(), "no broken-interpreter finding for {}: {:#}", broken.display(), report["findings"]);
    let f0 = fs_[0];
    assert!(["error", "warning", "info"].contains(&f0["severity"].as_str().unwrap_or("")), "bad severity: {f0:#}");
    assert!(f0["message"].is_string() && f0["remediation"].is_string(), "{f0:#}");
    assert_eq!(venv_at(&report, &broken)["python"]["base_exists"], false);
    assert!(findings_for(&report, "broken-interpreter", &healthy).is_empty(), "healthy venv flagged");
    assert_eq!(venv_at(&report, &healthy)["python"]["base_exists"], true);
}

/// How to run a command as an unprivileged user when we are root.
fn unprivileged_prefix() -> Option<Vec<String>> {
    let candidates: [&[&str]; 2] =
        [&["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"], &["runuser", "-u", "nobody", "--"]];
    for c in candidates {
        let ok = Command::new(c[0]).args(&c[1..]).arg("true").status();
        if matches!(ok, Ok(s) if s.success()) {
            return Some(c.iter().map(|s| s.to_string()).collect());
        }
    }
    None
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn permission_denied_dir_is_an_error_not_a_stop() {
    let tmp = TempDir::new();
    let scan = tmp.join("scan");
    let ok1 = scan.join("ok1");
    let ok2 = scan.join("z/ok2");
    let denied = scan.join("m-denied");
    make_bare_venv(&pyenv("3.12"), &ok1);
    make_bare_venv(&pyenv("3.11"), &ok2);
    make_bare_venv(&pyenv("3.12"), &denied.join("hidden"));

    let mut cmd = if is_root() {
        // root reads through mode 000: scan as nobody, with a copy of the binary nobody can run
        let prefix =
            unprivileged_prefix().expect("running as root, and neither setpriv nor runuser can drop to nobody");
        println!("running as root: scanning as nobody via {prefix:?}");
        let bin = tmp.join("bin/venvaudit");
        mkdirs(bin.parent().unwrap());
        fs::copy(venvaudit(), &bin).unwrap();
        set_mode(&bin, 0o755);
        let mut c = Command::new(&prefix[0]);
        c.args(&prefix[1..]).arg(&bin);
        c
    } else {
        Command::new(venvaudit())
    };
    cmd.current_dir(tmp.path()).args(["facts", "--format", "json"]).arg(&scan);

    set_mode(&denied, 0o000);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_json_cmd(&mut cmd)));
    set_mode(&denied, 0o755);
    let (code, report, err) = result.unwrap_or_else(|e| std::panic::resume_unwind(e));
    assert_ran(code, &err);

    venv_at(&report, &ok1);
    venv_at(&report, &ok2);
    assert!(
        errors(&report).iter().any(|e| e["path"].as_str().is_some_and(|p| same_path(p, &denied))),
        "no errors[] entry for {}: {:#}",
        denied.display(),
        report["errors"]
    );
    for e in errors(&report) {
        assert!(e["message"].is_string(), "error without message: {e:#}");
    }
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn symlink_loop_does_not_hang_or_duplicate() {
    let tmp = TempDir::new();
    let tree = tmp.join("tree");
    let venv = tree.join("app/venv");
    make_bare_venv(&pyenv("3.12"), &venv);
    mkdirs(&tree.join("sub"));
    symlink("..", &tree.join("sub/loop"));
    // and a second way into the venv
    symlink("app", &tree.join("app-link"));

    for follow in [false, true] {
        let mut args = vec!["facts", "--format", "json"];
        if follow {
            args.push("--follow-symlinks");
        }
        args.push(tree.to_str().unwrap());
        let (code, out, err) = output_with_timeout(Command::new(venvaudit()).args(&args), Duration::from_secs(120));
        assert_ran(code, &err);
        let report = parse_json(code, &out, &err);
        let paths: Vec<&str> = venvs(&report).iter().map(|v| v["path"].as_str().unwrap_or("")).collect();
        assert_eq!(paths.len(), 1, "follow={follow}: the venv must be reported exactly once: {paths:?}");
        assert_eq!(canon(paths[0]), canon(&venv), "follow={follow}: wrong venv: {paths:?}");
    }
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn root_option_resolves_links_inside_the_root() {
    let host_python = Path::new("/usr/bin/python3.11");
    assert!(
        host_python.exists(),
        "needs Debian's /usr/bin/python3.11 (scripts/setup.sh's apt step installs python3-venv)"
    );
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    let root_python = rootfs.join("usr/bin/python3.11");
    mkdirs(root_python.parent().unwrap());
    fs::copy(host_python, &root_python).unwrap();

    // a venv made by the host's Python 3.11, moved to /srv/app/venv inside the root
    let version =
        check_stdout(Command::new(host_python).args(["-c", "import platform; print(platform.python_version())"]));
    let built = tmp.join("build/venv");
    make_bare_venv(host_python, &built);
    let venv = rootfs.join("srv/app/venv");
    mkdirs(venv.parent().unwrap());
    copy_tree(&built, &venv);
    write(
        &venv.join("pyvenv.cfg"),
        format!(
            "home = /usr/bin\ninclude-system-site-packages = false\nversion = {version}\n\
             executable = /usr/bin/python3.11\ncommand = /usr/bin/python3.11 -m venv /srv/app/venv\n"
        ),
    );
    for name in ["python", "python3", "python3.11"] {
        symlink("/usr/bin/python3.11", &venv.join("bin").join(name));
    }
    let di = venv.join("lib/python3.11/site-packages/vasample-1.0.dist-info");
    write(&di.join("METADATA"), "Metadata-Version: 2.1\nName: vasample\nVersion: 1.0\n");
    write(&di.join("INSTALLER"), "pip\n");
    write(
        &di.join("RECORD"),
        "vasample-1.0.dist-info/METADATA,,\nvasample-1.0.dist-info/INSTALLER,,\nvasample-1.0.dist-info/RECORD,,\n",
    );

    let scan = |expect_broken: bool| {
        let (code, report, err) = run(&["facts", "--format", "json", "--root", rootfs.to_str().unwrap(), "/srv"]);
        assert_ran(code, &err);
        let paths: Vec<&str> = venvs(&report).iter().map(|v| v["path"].as_str().unwrap_or("")).collect();
        assert_eq!(paths, vec!["/srv/app/venv"], "paths must be reported as seen inside the root");
        let v = &venvs(&report)[0];
        let pv = v["python"]["version"].as_str().unwrap_or("");
        assert!(pv.starts_with("3.11"), "python.version {pv}");
        assert_eq!(package(v, "vasample")["version"], "1.0");
        let broken: Vec<&Value> = findings(&report)
            .iter()
            .filter(|f| f["id"] == "broken-interpreter" && f["venv"] == "/srv/app/venv")
            .collect();
        if expect_broken {
            assert!(
                !broken.is_empty(),
                "interpreter missing inside the root but no broken-interpreter: {:#}",
                report["findings"]
            );
            assert_eq!(v["python"]["base_exists"], false);
        } else {
            assert!(broken.is_empty(), "interpreter exists inside the root but flagged: {broken:#?}");
            assert_eq!(v["python"]["base_exists"], true);
        }
        for f in findings(&report) {
            let fv = f["venv"].as_str().unwrap_or("");
            assert!(!fv.starts_with(rootfs.to_str().unwrap()), "finding names a host path: {f:#}");
        }
    };
    scan(false);
    fs::remove_file(&root_python).unwrap();
    scan(true);
}

/// A `venv --copies` venv whose `home` is removed still starts: CPython's path calculation
/// finds no standard library from `home` and falls back to the prefix compiled into the copied
/// interpreter's libpython. Ground truth: the venv's own interpreter, run after the removal.
/// Scanned under a `--root` that holds only the venv, neither exists: still an error.
#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn copied_interpreter_runs_on_its_compiled_in_prefix() {
    let tmp = TempDir::new();
    let base = tmp.join("py311");
    link_tree(&pyenv_prefix("3.11"), &base);
    let exe = base.join("bin").join(pyenv("3.11").file_name().unwrap());
    let scan = tmp.join("scan");
    let venv = scan.join("copied");
    check(py_cmd(&exe).args(["-m", "venv", "--copies", "--without-pip"]).arg(&venv));
    let entry = venv.join("bin/python");
    assert!(!fs::symlink_metadata(&entry).unwrap().file_type().is_symlink(), "--copies made a link");
    force_remove(&base);

    let truth = check_stdout(py_cmd(&entry).args(["-c", "import sys; print(sys.base_prefix)"]));
    let truth = truth.trim();
    assert!(same_path(truth, &pyenv_prefix("3.11")), "the copy runs on {truth}, not on the pyenv install");

    let (code, report, err) = run(&["check", "--format", "json", scan.to_str().unwrap()]);
    assert_ran(code, &err);
    assert!(
        findings_for(&report, "broken-interpreter", &venv).is_empty(),
        "a venv that starts is reported broken: {:#}",
        report["findings"]
    );
    let fb = findings_for(&report, "base-interpreter-fallback", &venv);
    assert_eq!(fb.len(), 1, "no base-interpreter-fallback finding: {:#}", report["findings"]);
    assert_eq!(fb[0]["severity"], "warning", "{:#}", fb[0]);
    let reported = fb[0]["details"]["runs_on_prefix"].as_str().unwrap_or_default();
    assert!(same_path(reported, Path::new(truth)), "runs_on_prefix {reported}, truth {truth}: {:#}", fb[0]);
    let v = venv_at(&report, &venv);
    assert_eq!(v["python"]["base_exists"], false);
    assert!(same_path(v["python"]["base_prefix"].as_str().unwrap_or_default(), Path::new(truth)), "{v:#}");

    // Neither `home` nor the compiled-in prefix (nor the libpython) exists inside this root.
    let root = tmp.join("root");
    let inside = root.join(venv.strip_prefix("/").unwrap());
    mkdirs(inside.parent().unwrap());
    copy_tree(&venv, &inside);
    let (code, report, err) =
        run(&["check", "--format", "json", "--root", root.to_str().unwrap(), venv.to_str().unwrap()]);
    assert_ran(code, &err);
    let broken = findings_for(&report, "broken-interpreter", &venv);
    assert_eq!(broken.len(), 1, "{:#}", report["findings"]);
    assert_eq!(broken[0]["severity"], "error");
    assert!(findings_for(&report, "base-interpreter-fallback", &venv).is_empty(), "{:#}", report["findings"]);
}

/// Inventory and dependency conflicts of a venv with `include-system-site-packages = true`.
fn assert_system_site_venv_equals_pip(venv: &Path, ctx: &str) -> Value {
    let (code, report, err) =
        run(&["check", "--format", "json", "--check", "dependencies", "--fail-on", "never", venv.to_str().unwrap()]);
    assert_ran(code, &err);
    let v = venv_at(&report, venv);
    assert_eq!(v["include_system_site_packages"], true, "{ctx}");
    let want = pip_list_normalized(venv);
    let got = reported_packages(v);
    assert_eq!(got, want, "{ctx}: inventory differs from pip list");
    let conflicts: std::collections::BTreeSet<(String, String, String)> = findings(&report)
        .iter()
        .filter(|f| f["id"] == "dependency-conflict")
        .map(|f| {
            (
                normalize(f["package"].as_str().unwrap_or_default()),
                f["details"]["dependency"].as_str().unwrap_or_default().to_owned(),
                f["details"]["installed_version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(conflicts, pip_check(venv), "{ctx}: dependency-conflict differs from pip check");
    // sys.path order: the venv's own distributions first, then the system ones.
    let pkgs = v["packages"].as_array().unwrap();
    let first_system =
        pkgs.iter().position(|p| p["system"] == true).unwrap_or_else(|| panic!("{ctx}: no system package"));
    assert!(pkgs[first_system..].iter().all(|p| p["system"] == true), "{ctx}: not in sys.path order");
    for p in pkgs {
        let loc = p["location"].as_str().unwrap_or_default();
        assert_eq!(p["system"] == true, !Path::new(loc).starts_with(venv), "{ctx}: system flag of {p:#}");
    }
    report
}

/// Debian's own Python: `/usr/local/lib/python3.X/dist-packages` and `/usr/lib/python3/dist-packages`
/// (apt's python3-gi: pygobject without pycairo, which `pip check` reports), and six shadowed by
/// a newer copy in the venv.
#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn system_site_packages_of_debian_python_equal_pip() {
    let debian = Path::new("/usr/bin/python3");
    assert!(
        debian.exists() && Path::new("/usr/lib/python3/dist-packages/gi").is_dir(),
        "needs Debian's python3 with python3-gi (scripts/setup.sh APT_PACKAGES)"
    );
    let tmp = TempDir::new();
    let venv = tmp.join("debsys");
    check(py_cmd(debian).args(["-m", "venv", "--system-site-packages"]).arg(&venv));
    pip_install(&venv, &["--no-deps", "six==1.17.0"]);
    let report = assert_system_site_venv_equals_pip(&venv, "Debian python3 venv");
    let v = venv_at(&report, &venv);
    let six = package(v, "six");
    assert_eq!((six["version"].as_str(), six["system"].as_bool()), (Some("1.17.0"), Some(false)), "{six:#}");
    let gi = package(v, "pygobject");
    assert_eq!(gi["system"], true);
    assert_eq!(gi["location"], "/usr/lib/python3/dist-packages");
    assert!(
        findings(&report).iter().any(|f| f["id"] == "dependency-conflict" && f["details"]["dependency"] == "pycairo"),
        "pygobject's missing pycairo: {:#}",
        report["findings"]
    );
}

/// A pyenv-built base installation (a private copy) with a distribution of its own in
/// `lib/python3.12/site-packages`: requests 2.25.0 without its dependencies, whose urllib3 pin
/// the venv's urllib3 2.x breaks.
#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn system_site_packages_of_a_pyenv_base_equal_pip() {
    let tmp = TempDir::new();
    let base = tmp.join("py312");
    link_tree(&pyenv_prefix("3.12"), &base);
    pip_install(&base, &["--no-deps", "requests==2.25.0", "idna==2.10"]);
    let exe = base.join("bin").join(pyenv("3.12").file_name().unwrap());
    let venv = tmp.join("pyenvsys");
    check(py_cmd(&exe).args(["-m", "venv", "--system-site-packages"]).arg(&venv));
    pip_install(&venv, &["--no-deps", "urllib3==2.2.3", "idna==3.15"]);
    let report = assert_system_site_venv_equals_pip(&venv, "pyenv 3.12 copy venv");
    let v = venv_at(&report, &venv);
    let requests = package(v, "requests");
    assert_eq!(requests["system"], true);
    assert!(
        same_path(requests["location"].as_str().unwrap(), &base.join("lib/python3.12/site-packages")),
        "{requests:#}"
    );
    // idna: the venv's 3.15 shadows the base's 2.10, as on sys.path.
    assert_eq!(package(v, "idna")["version"], "3.15");
}

/// As an unprivileged user, permission denied is never "missing": a venv whose base
/// interpreter sits under a directory nobody may enter (/root/.pyenv, mode 700 /root) is
/// `unknown`, not `broken-interpreter`; a venv whose site-packages cannot be listed is
/// `unknown` with an error, and `query` answers 2 (not "not running it") for it. As root the
/// same tree reads fine, which proves the inputs reached the scanner.
#[test]
#[ignore = "real-tool tier: pyenv venvs, virtualenv, uv, pip (scripts/test.sh runs it)"]
fn permission_denied_is_unknown_not_missing() {
    assert!(is_root(), "needs root, to scan the same tree as root and as nobody");
    let prefix = unprivileged_prefix().expect("neither setpriv nor runuser can run a command as nobody");
    let tmp = TempDir::new();
    set_mode(tmp.path(), 0o755);
    let base = pyenv("3.12");
    assert!(base.starts_with("/root"), "the test needs a base interpreter under /root: {}", base.display());
    let a = tmp.join("scan/a");
    let b = tmp.join("scan/b");
    make_bare_venv(&base, &a);
    make_bare_venv(&base, &b);
    let sp = site_packages(&b).unwrap();
    write(&sp.join("six-1.16.0.dist-info/METADATA"), "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n\n");
    let bin = tmp.join("bin/venvaudit");
    mkdirs(bin.parent().unwrap());
    fs::copy(venvaudit(), &bin).unwrap();
    set_mode(&bin, 0o755);
    let as_nobody = |args: &[&str]| {
        let mut c = Command::new(&prefix[0]);
        c.args(&prefix[1..]).arg(&bin).current_dir(tmp.path()).args(args);
        c
    };
    let scan = tmp.join("scan");
    let scan = scan.to_str().unwrap();

    // As root: both healthy, six found.
    let (code, report, err) = run(&["facts", "--format", "json", scan]);
    assert_ran(code, &err);
    assert_eq!(venv_at(&report, &a)["health"], "ok");
    assert_eq!(package(venv_at(&report, &b), "six")["version"], "1.16.0");
    let (code, _, _) = run_raw(&["query", "six", "--path", b.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1);

    set_mode(&sp, 0o000);
    let nobody = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let facts = run_json_cmd(&mut as_nobody(&["facts", "--format", "json", scan]));
        let query = run_json_cmd(&mut as_nobody(&["query", "six", "--path", b.to_str().unwrap(), "--format", "json"]));
        (facts, query)
    }));
    set_mode(&sp, 0o755);
    let ((code, report, err), (qcode, query, qerr)) = nobody.unwrap_or_else(|e| std::panic::resume_unwind(e));
    assert_ran(code, &err);
    for v in [&a, &b] {
        assert!(findings_for(&report, "broken-interpreter", v).is_empty(), "{:#}", report["findings"]);
        assert_eq!(venv_at(&report, v)["health"], "unknown", "{:#}", venv_at(&report, v));
    }
    let messages: Vec<String> = errors(&report).iter().map(|e| format!("{}: {}", e["path"], e["message"])).collect();
    assert!(
        messages.iter().any(|m| m.contains("permission denied") && m.contains("base interpreter")),
        "{messages:#?}"
    );
    assert!(messages.iter().any(|m| m.contains("cannot list site-packages")), "{messages:#?}");
    assert_eq!(qcode, 2, "{query:#} {qerr}");
    assert_eq!(query["complete"], false);
    assert_eq!(query["matched"], false);
}
