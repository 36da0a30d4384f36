//! Helpers shared by the integration tests (`mod support;` in each test file).
//!
//! Only std and serde_json. Everything here panics with a clear message (command line, exit
//! status, stdout and stderr) when a step fails, so a failing fixture is easy to tell apart from
//! a failing assertion.
//!
//! Environment (written by `scripts/setup.sh` into `.tools/env.sh`, sourced by `scripts/test.sh`;
//! every one falls back to the repo's default location, so a plain `cargo test` works after
//! `scripts/setup.sh` has run once):
//! - `VENVAUDIT_TOOLS_VENV`    tools venv (virtualenv, uv, pip, ...); default `<repo>/.tools/venv`
//! - `VENVAUDIT_WHEELS`        offline wheelhouse; default `<repo>/.tools/wheels`
//! - `VENVAUDIT_PYENV_VERSIONS` pyenv versions dir; default `$PYENV_ROOT/versions` or `~/.pyenv/versions`
//! - `VENVAUDIT_KEEP_TEMP=1`   keep temp dirs (their paths are printed) for debugging
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------------------------ paths

/// The crate root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venvaudit binary under test.
pub fn venvaudit() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_venvaudit"))
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The tools venv made by scripts/setup.sh.
pub fn tools_venv() -> PathBuf {
    let p = env_path("VENVAUDIT_TOOLS_VENV").unwrap_or_else(|| repo_root().join(".tools/venv"));
    assert!(
        p.join("bin/python").exists(),
        "tools venv {} is missing: run scripts/setup.sh (or scripts/test.sh)",
        p.display()
    );
    p
}

/// A program installed in the tools venv: `tools_bin("uv")`, `tools_bin("virtualenv")`, `tools_bin("pip")`.
pub fn tools_bin(name: &str) -> PathBuf {
    let p = tools_venv().join("bin").join(name);
    assert!(p.exists(), "{} is missing from the tools venv: run scripts/setup.sh", p.display());
    p
}

/// The offline wheelhouse made by scripts/setup.sh.
pub fn wheels() -> PathBuf {
    let p = env_path("VENVAUDIT_WHEELS").unwrap_or_else(|| repo_root().join(".tools/wheels"));
    assert!(p.is_dir(), "wheelhouse {} is missing: run scripts/setup.sh", p.display());
    p
}

/// A file of the shared test data (the PyPA OSV database `osv-pypi`, `osv-pypi.zip`):
/// `$VENVAUDIT_SHARED_DATA`, else `../shared` beside the checkout (the workplace layout), else
/// `/work/shared` (a clone made elsewhere on the same machine). Panics when it is in none.
pub fn shared_data(name: &str) -> PathBuf {
    let candidates: Vec<PathBuf> = env_path("VENVAUDIT_SHARED_DATA")
        .into_iter()
        .chain([repo_root().join("..").join("shared"), PathBuf::from("/work/shared")])
        .collect();
    candidates
        .iter()
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("test data {name} missing: looked in {candidates:?} (set VENVAUDIT_SHARED_DATA)"))
}

/// The pyenv `versions` directory.
pub fn pyenv_versions() -> PathBuf {
    if let Some(p) = env_path("VENVAUDIT_PYENV_VERSIONS") {
        return p;
    }
    if let Some(p) = env_path("PYENV_ROOT") {
        return p.join("versions");
    }
    env_path("HOME").unwrap_or_else(|| PathBuf::from("/root")).join(".pyenv/versions")
}

fn version_key(s: &str) -> Option<Vec<u64>> {
    s.split('.').map(|p| p.parse().ok()).collect()
}

/// The pyenv install dir for a version prefix: `pyenv_prefix("3.12")` -> `~/.pyenv/versions/3.12.1`
/// (the highest matching release).
pub fn pyenv_prefix(version_prefix: &str) -> PathBuf {
    let dir = pyenv_versions();
    let mut best: Option<(Vec<u64>, PathBuf)> = None;
    for e in fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name == version_prefix || name.starts_with(&format!("{version_prefix}."))) {
            continue;
        }
        let Some(key) = version_key(&name) else {
            continue;
        };
        if best.as_ref().is_none_or(|(k, _)| key > *k) {
            best = Some((key, e.path()));
        }
    }
    best.unwrap_or_else(|| panic!("no pyenv Python {version_prefix}.* under {}", dir.display())).1
}

/// The interpreter of a pyenv Python: `pyenv("3.12")` -> `~/.pyenv/versions/3.12.1/bin/python3.12`.
pub fn pyenv(version_prefix: &str) -> PathBuf {
    let prefix = pyenv_prefix(version_prefix);
    let name = prefix.file_name().unwrap().to_string_lossy().into_owned();
    let xy: Vec<&str> = name.split('.').take(2).collect();
    let exe = prefix.join("bin").join(format!("python{}", xy.join(".")));
    assert!(exe.exists(), "{} does not exist", exe.display());
    exe
}

/// `X.Y` of a pyenv version prefix (`"3.12"` -> `"3.12"`, `"3.12.1"` -> `"3.12"`).
pub fn xy(version_prefix: &str) -> String {
    version_prefix.split('.').take(2).collect::<Vec<_>>().join(".")
}

// ------------------------------------------------------------------------------- temp dirs

static TEMP_COUNTER: AtomicUsize = AtomicUsize::new(0);
static AT_EXIT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CLEAN_STALE: Once = Once::new();

unsafe extern "C" {
    fn atexit(cb: extern "C" fn()) -> std::ffi::c_int;
    safe fn geteuid() -> u32;
}

extern "C" fn remove_at_exit() {
    let dirs = match AT_EXIT.lock() {
        Ok(mut g) => std::mem::take(&mut *g),
        Err(_) => return,
    };
    for d in dirs {
        force_remove(&d);
    }
}

fn keep_temp() -> bool {
    std::env::var_os("VENVAUDIT_KEEP_TEMP").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Remove a tree even when a test left unreadable (chmod 000) directories in it.
pub fn force_remove(path: &Path) {
    if fs::symlink_metadata(path).is_err() {
        return;
    }
    if fs::remove_dir_all(path).is_ok() {
        return;
    }
    let _ = Command::new("chmod").arg("-R").arg("u+rwX").arg(path).stderr(Stdio::null()).status();
    if let Err(e) = fs::remove_dir_all(path) {
        eprintln!("warning: could not remove {}: {e}", path.display());
    }
}

/// Remove `venvaudit-tests-<pid>-*` dirs left by test processes that are gone (crashes, and
/// the static fleets of killed runs).
fn clean_stale_temp_dirs() {
    let Ok(rd) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("venvaudit-tests-") else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            force_remove(&e.path());
        }
    }
}

/// A directory under `std::env::temp_dir()` named `venvaudit-tests-<pid>-<n>`, removed on drop
/// (unless `VENVAUDIT_KEEP_TEMP=1`). Mode 0755 so that tests dropping privileges can read it.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
    remove: bool,
}

impl TempDir {
    pub fn new() -> TempDir {
        CLEAN_STALE.call_once(clean_stale_temp_dirs);
        let n = TEMP_COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("venvaudit-tests-{}-{n}", std::process::id()));
        force_remove(&path);
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        set_mode(&path, 0o755);
        if keep_temp() {
            eprintln!("keeping temp dir {}", path.display());
        }
        TempDir { path, remove: !keep_temp() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join<P: AsRef<Path>>(&self, p: P) -> PathBuf {
        self.path.join(p)
    }

    /// For dirs held in a `static` (never dropped): remove at process exit instead.
    pub fn remove_at_exit(mut self) -> PathBuf {
        let path = std::mem::take(&mut self.path);
        self.remove = false;
        if !keep_temp() {
            static REGISTER: Once = Once::new();
            REGISTER.call_once(|| unsafe {
                atexit(remove_at_exit);
            });
            AT_EXIT.lock().unwrap().push(path.clone());
        }
        path
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.remove {
            force_remove(&self.path);
        }
    }
}

// ----------------------------------------------------------------------------- file helpers

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Write a file, creating parent directories.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir -p {}: {e}", parent.display()));
    }
    fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

pub fn mkdirs(path: &Path) {
    fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir -p {}: {e}", path.display()));
}

pub fn symlink(target: impl AsRef<Path>, link: &Path) {
    let target = target.as_ref();
    if fs::symlink_metadata(link).is_ok() {
        fs::remove_file(link).unwrap_or_else(|e| panic!("rm {}: {e}", link.display()));
    }
    std::os::unix::fs::symlink(target, link)
        .unwrap_or_else(|e| panic!("ln -s {} {}: {e}", target.display(), link.display()));
}

/// `cp -a src dst`.
pub fn copy_tree(src: &Path, dst: &Path) {
    check(Command::new("cp").arg("-a").arg(src).arg(dst));
}

/// `cp -al src dst` (hard links, fast), falling back to `cp -a` across filesystems.
pub fn link_tree(src: &Path, dst: &Path) {
    let ok = Command::new("cp").arg("-al").arg(src).arg(dst).stderr(Stdio::null()).status();
    if !matches!(ok, Ok(s) if s.success()) {
        force_remove(dst);
        copy_tree(src, dst);
    }
}

/// Canonical form of a path when it exists, else the path as given.
pub fn canon(p: impl AsRef<Path>) -> PathBuf {
    let p = p.as_ref();
    fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Whether a path string from a report names `expected` (same string, or same canonical path).
pub fn same_path(reported: &str, expected: &Path) -> bool {
    Path::new(reported) == expected || canon(reported) == canon(expected)
}

/// PEP 503 name normalisation.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if c == '-' || c == '_' || c == '.' {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Effective uid is 0.
pub fn is_root() -> bool {
    geteuid() == 0
}

// --------------------------------------------------------------------------------- commands

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    if let Some(d) = cmd.get_current_dir() {
        s.push_str(&format!("  (in {})", d.display()));
    }
    s
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Run a command to completion; panic (with its output) when it cannot start or exits non-zero.
pub fn check(cmd: &mut Command) -> Output {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("cannot run `{}`: {e}", describe(cmd)));
    if !out.status.success() {
        panic!(
            "`{}` failed with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            describe(cmd),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Run a command and return its trimmed stdout; panic on failure.
pub fn check_stdout(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&check(cmd).stdout).trim().to_string()
}

/// Run a command with a time limit; kill it and panic when it overruns.
/// Returns (exit code, or 128+signal; stdout; stderr).
pub fn output_with_timeout(cmd: &mut Command, limit: Duration) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", describe(cmd)));
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for child") {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let err = t_err.join().unwrap_or_default();
            panic!(
                "`{}` did not finish within {:?} (killed)\n--- stderr ---\n{}",
                describe(cmd),
                limit,
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = t_out.join().unwrap_or_default();
    let err = t_err.join().unwrap_or_default();
    (exit_code(status), String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned())
}

/// How long one venvaudit run may take before the tests call it hung.
pub const RUN_LIMIT: Duration = Duration::from_secs(300);

/// Run venvaudit; return (exit code, raw stdout, stderr). Panics if it hangs.
pub fn run_raw(args: &[&str]) -> (i32, String, String) {
    output_with_timeout(Command::new(venvaudit()).args(args), RUN_LIMIT)
}

/// Parse a venvaudit stdout as JSON, panicking with both streams when it is not.
pub fn parse_json(code: i32, stdout: &str, stderr: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| {
        panic!(
            "venvaudit stdout is not JSON ({e}); exit code {code}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        )
    })
}

/// Run venvaudit and parse stdout as JSON: (exit code, report, stderr).
pub fn run(args: &[&str]) -> (i32, Value, String) {
    let (code, out, err) = run_raw(args);
    let v = parse_json(code, &out, &err);
    (code, v, err)
}

/// Like [`run`] for any command (e.g. venvaudit under setpriv), with [`RUN_LIMIT`].
pub fn run_json_cmd(cmd: &mut Command) -> (i32, Value, String) {
    let (code, out, err) = output_with_timeout(cmd, RUN_LIMIT);
    let v = parse_json(code, &out, &err);
    (code, v, err)
}

/// Panic unless venvaudit exited normally (not a panic = 101, not a signal).
pub fn assert_ran(code: i32, stderr: &str) {
    assert!((0..=100).contains(&code), "venvaudit exited with {code} (panic or signal?)\n--- stderr ---\n{stderr}");
}

// ------------------------------------------------------------------------- report accessors

/// `report.venvs[]`.
pub fn venvs(report: &Value) -> &Vec<Value> {
    report["venvs"].as_array().unwrap_or_else(|| panic!("report has no venvs[] array: {report:#}"))
}

/// `report.findings[]`.
pub fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap_or_else(|| panic!("report has no findings[] array: {report:#}"))
}

/// `report.errors[]`.
pub fn errors(report: &Value) -> &Vec<Value> {
    report["errors"].as_array().unwrap_or_else(|| panic!("report has no errors[] array: {report:#}"))
}

/// The venv of a report at `path` (same path or same canonical path), if reported.
pub fn find_venv<'a>(report: &'a Value, path: &Path) -> Option<&'a Value> {
    venvs(report).iter().find(|v| v["path"].as_str().is_some_and(|p| same_path(p, path)))
}

/// Like [`find_venv`], panicking with the reported paths when absent.
pub fn venv_at<'a>(report: &'a Value, path: &Path) -> &'a Value {
    find_venv(report, path).unwrap_or_else(|| {
        panic!(
            "venv {} not reported; reported: {:?}",
            path.display(),
            venvs(report).iter().map(|v| v["path"].clone()).collect::<Vec<_>>()
        )
    })
}

/// Findings with this id whose `venv` is `venv_path`.
pub fn findings_for<'a>(report: &'a Value, id: &str, venv_path: &Path) -> Vec<&'a Value> {
    findings(report)
        .iter()
        .filter(|f| f["id"] == id && f["venv"].as_str().is_some_and(|p| same_path(p, venv_path)))
        .collect()
}

/// `{(normalized_name, version)}` of a reported venv.
pub fn reported_packages(venv: &Value) -> BTreeSet<(String, String)> {
    venv["packages"]
        .as_array()
        .unwrap_or_else(|| panic!("venv has no packages[]: {venv:#}"))
        .iter()
        .map(|p| {
            let name = p["normalized_name"].as_str().or(p["name"].as_str()).unwrap_or_default();
            (normalize(name), p["version"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// The reported package of a venv by (any spelling of) its name.
pub fn package<'a>(venv: &'a Value, name: &str) -> &'a Value {
    let want = normalize(name);
    venv["packages"]
        .as_array()
        .and_then(|ps| {
            ps.iter().find(|p| {
                p["normalized_name"].as_str().map(normalize).as_deref() == Some(want.as_str())
                    || p["name"].as_str().map(normalize).as_deref() == Some(want.as_str())
            })
        })
        .unwrap_or_else(|| panic!("package {name} not reported in venv {}", venv["path"]))
}

// ------------------------------------------------------------------------------------ venvs

/// Which tool makes a test venv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creator {
    /// stdlib `python -m venv` (with pip via ensurepip).
    Venv,
    /// `virtualenv` from the tools venv (seeds pip; not for Python < 3.9).
    Virtualenv,
    /// `uv venv` from the tools venv (no pip inside).
    Uv,
}

impl Creator {
    /// The `kind` venvaudit must report for venvs this creator made.
    pub fn kind(self) -> &'static str {
        match self {
            Creator::Venv => "venv",
            Creator::Virtualenv => "virtualenv",
            Creator::Uv => "uv",
        }
    }
}

/// A Command with pip/uv/virtualenv configuration that could reach the network or leak in from
/// the user's environment removed.
pub fn py_cmd(program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    for v in [
        "PIP_FIND_LINKS",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_REQUIRE_VIRTUALENV",
        "PIP_USER",
        "PIP_TARGET",
        "PIP_PREFIX",
        "PYTHONPATH",
        "PYTHONHOME",
        "VIRTUAL_ENV",
        "UV_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "UV_FIND_LINKS",
    ] {
        c.env_remove(v);
    }
    c.env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_NO_CONFIG", "1")
        .env("VIRTUALENV_NO_PERIODIC_UPDATE", "1");
    if std::env::var_os("UV_CACHE_DIR").is_none() {
        c.env("UV_CACHE_DIR", repo_root().join(".tools/uv-cache"));
    }
    c
}

/// Create a venv at `dir` with `creator` on the base interpreter `python`.
pub fn make_venv(creator: Creator, python: &Path, dir: &Path) {
    match creator {
        Creator::Venv => check(py_cmd(python).arg("-m").arg("venv").arg(dir)),
        Creator::Virtualenv => {
            check(py_cmd(tools_bin("virtualenv")).arg("--no-periodic-update").arg("-p").arg(python).arg(dir))
        }
        Creator::Uv => check(py_cmd(tools_bin("uv")).arg("venv").arg("--quiet").arg("--python").arg(python).arg(dir)),
    };
    assert!(dir.join("pyvenv.cfg").exists(), "{creator:?} made no pyvenv.cfg in {}", dir.display());
}

/// Fast stdlib venv without pip (`python -m venv --without-pip`).
pub fn make_bare_venv(python: &Path, dir: &Path) {
    check(py_cmd(python).arg("-m").arg("venv").arg("--without-pip").arg(dir));
}

/// A venv at `dir` whose base interpreter no longer exists, as an OS upgrade leaves it: made
/// (without pip) from a private copy of pyenv's `version_prefix` under `work` (hard links when
/// possible), which is then deleted. The one broken-venv builder of the suite.
pub fn make_broken_venv(work: &Path, version_prefix: &str, dir: &Path) {
    let copy = work.join(format!("python-copy-{version_prefix}-{}", TEMP_COUNTER.fetch_add(1, Ordering::SeqCst)));
    link_tree(&pyenv_prefix(version_prefix), &copy);
    let exe = pyenv(version_prefix);
    make_bare_venv(&copy.join("bin").join(exe.file_name().unwrap()), dir);
    let cfg = fs::read_to_string(dir.join("pyvenv.cfg")).unwrap_or_default();
    assert!(cfg.contains(&*copy.to_string_lossy()), "the venv is not on the copy: {cfg}");
    force_remove(&copy);
    assert!(!dir.join("bin/python").exists(), "{} still has an interpreter", dir.display());
}

/// Whether a venv has pip installed (uv venvs do not).
pub fn has_pip(venv: &Path) -> bool {
    site_packages(venv).map(|sp| sp.join("pip").is_dir()).unwrap_or(false)
}

/// The venv's `lib/pythonX.Y/site-packages` (first one found).
pub fn site_packages(venv: &Path) -> Option<PathBuf> {
    let lib = venv.join("lib");
    let mut dirs: Vec<PathBuf> =
        fs::read_dir(&lib).ok()?.flatten().map(|e| e.path().join("site-packages")).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs.into_iter().next()
}

/// Install into a venv offline from the wheelhouse:
/// `python -m pip install --no-index --find-links $VENVAUDIT_WHEELS ARGS`, or for venvs without
/// pip (uv) `uv pip install --python VENV/bin/python --offline --no-index --find-links ... ARGS`.
pub fn pip_install(venv: &Path, args: &[&str]) {
    let wheels = wheels();
    let python = venv.join("bin/python");
    if has_pip(venv) {
        check(
            py_cmd(&python)
                .args(["-m", "pip", "install", "--no-index", "--no-cache-dir", "--find-links"])
                .arg(&wheels)
                .args(args),
        );
    } else {
        check(
            py_cmd(tools_bin("uv"))
                .args(["pip", "install", "--quiet", "--python"])
                .arg(&python)
                .args(["--offline", "--no-index", "--find-links"])
                .arg(&wheels)
                .args(args),
        );
    }
}

/// Ground truth: `pip list --format=json` of a venv as [(name, version)], run by real pip —
/// the venv's own, or for venvs without pip the tools venv's `pip --python VENV/bin/python`.
pub fn pip_list(venv: &Path) -> Vec<(String, String)> {
    let python = venv.join("bin/python");
    let out = if has_pip(venv) {
        check_stdout(py_cmd(&python).args(["-m", "pip", "list", "--format=json"]))
    } else {
        check_stdout(py_cmd(tools_bin("pip")).arg("--python").arg(&python).args(["list", "--format=json"]))
    };
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("pip list output is not JSON ({e}): {out}"));
    v.as_array()
        .unwrap_or_else(|| panic!("pip list output is not a list: {out}"))
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["version"].as_str().unwrap().to_string()))
        .collect()
}

/// Ground truth: `pip check` of a venv (its own pip) as {(normalized package, normalized
/// dependency, installed version or `not installed`)}.
pub fn pip_check(venv: &Path) -> BTreeSet<(String, String, String)> {
    let out = py_cmd(venv.join("bin/python"))
        .args(["-m", "pip", "check", "--disable-pip-version-check"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run pip check in {}: {e}", venv.display()));
    let mut want = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(i) = line.find(" requires ") {
            let dep = line[i + 10..].split(',').next().unwrap();
            want.insert((normalize(words[0]), normalize(dep), "not installed".to_owned()));
        } else if line.contains(" has requirement ") {
            let have = words[words.len() - 1].trim_end_matches('.');
            let dep = words[words.len() - 2];
            want.insert((normalize(words[0]), normalize(dep), have.to_owned()));
        } else if line != "No broken requirements found." {
            panic!("unexpected pip check line {line:?}");
        }
    }
    want
}

/// [`pip_list`] as a set of (normalized name, version).
pub fn pip_list_normalized(venv: &Path) -> BTreeSet<(String, String)> {
    pip_list(venv).into_iter().map(|(n, v)| (normalize(&n), v)).collect()
}

/// Run git with a fixed identity (for fixture repos).
pub fn git(dir: &Path, args: &[&str]) -> String {
    check_stdout(
        Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "venvaudit tests")
            .env("GIT_AUTHOR_EMAIL", "tests@example.invalid")
            .env("GIT_COMMITTER_NAME", "venvaudit tests")
            .env("GIT_COMMITTER_EMAIL", "tests@example.invalid")
            .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"])
            .args(args),
    )
}

// ----------------------------------------------------------------------------------- C code

/// Compile a C snippet with `cc`: `cc -o OUT OUT.c EXTRA_ARGS` (the source is written next to
/// OUT as `<OUT>.c`; put `-shared -fPIC`, `-l...` etc. in `extra_args`).
pub fn cc(src: &str, out: &Path, extra_args: &[&str]) {
    let mut c_file = out.as_os_str().to_owned();
    c_file.push(".c");
    let c_file = PathBuf::from(c_file);
    write(&c_file, src);
    check(Command::new("cc").arg("-o").arg(out).arg(&c_file).args(extra_args));
}

// ------------------------------------------------------------------ fake CPython (fast tier)

/// The platform part of CPython's ABI tag on this host: `x86_64-linux-gnu` (glibc hosts).
pub fn multiarch() -> String {
    format!("{}-linux-gnu", std::env::consts::ARCH)
}

/// A stand-in CPython `X.Y` installation under `prefix`, built with `cc` for fast-tier tests that
/// need an interpreter without pyenv: `bin/pythonX.Y` (an ELF executable exporting no C API),
/// `lib/pythonX.Y/os.py` (what marks a standard library) and one `lib-dynload` extension module
/// named with the ABI tag `cpython-XY-<multiarch>` (where the tool reads the tag from).
/// Returns the executable. It runs no Python: nothing in the fast tier executes it.
pub fn fake_python(prefix: &Path, xy: &str) -> PathBuf {
    let exe = prefix.join("bin").join(format!("python{xy}"));
    mkdirs(exe.parent().unwrap());
    cc("int main(void) { return 0; }\n", &exe, &[]);
    let stdlib = prefix.join(format!("lib/python{xy}"));
    write(&stdlib.join("os.py"), "# stand-in standard library\n");
    let tag = format!("cpython-{}-{}", xy.replace('.', ""), multiarch());
    let ssl = stdlib.join(format!("lib-dynload/_ssl.{tag}.so"));
    mkdirs(ssl.parent().unwrap());
    cc("void PyInit__ssl(void) {}\n", &ssl, &["-shared", "-fPIC"]);
    // cc leaves each source beside its output: a standard library holds no such thing.
    for out in [&exe, &ssl] {
        let mut c = out.as_os_str().to_owned();
        c.push(".c");
        let _ = fs::remove_file(PathBuf::from(c));
    }
    exe
}

/// A venv at `dir` on a [`fake_python`], laid out as `python -m venv` lays it out (pyvenv.cfg,
/// `bin/python*` links to the base executable, `lib/pythonX.Y/site-packages`). Returns its
/// site-packages.
pub fn fake_venv(python: &Path, dir: &Path, version: &str) -> PathBuf {
    let xy = xy(version);
    let home = python.parent().unwrap();
    write(
        &dir.join("pyvenv.cfg"),
        format!(
            "home = {}\ninclude-system-site-packages = false\nversion = {version}\nexecutable = {}\ncommand = {} -m venv {}\n",
            home.display(),
            python.display(),
            python.display(),
            dir.display()
        ),
    );
    mkdirs(&dir.join("bin"));
    for name in ["python".to_owned(), "python3".to_owned(), format!("python{xy}")] {
        symlink(python, &dir.join("bin").join(name));
    }
    let sp = dir.join(format!("lib/python{xy}/site-packages"));
    mkdirs(&sp);
    sp
}

/// DT_NEEDED entries of an ELF file, by readelf (binutils), independent of the tool.
pub fn needed(path: &Path) -> Vec<String> {
    check_stdout(Command::new("readelf").args(["-d", "-W"]).arg(path))
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1).and_then(|s| s.split(']').next()).map(str::to_owned))
        .collect()
}

/// The one compiled file (`*.so`) in `dir` whose name starts with `prefix`.
pub fn file_starting(dir: &Path, prefix: &str) -> PathBuf {
    let mut hits: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && name.ends_with(".so")
        })
        .collect();
    assert_eq!(hits.len(), 1, "expected one {prefix}* in {}: {hits:?}", dir.display());
    hits.pop().unwrap()
}

/// Delete the first library `module` needs (DT_NEEDED) that auditwheel bundled in `libs`
/// (`numpy.libs`, `pillow.libs`): the real fault of a half-removed install. Returns its name.
pub fn delete_bundled_dependency(module: &Path, libs: &Path) -> String {
    let victim = needed(module)
        .into_iter()
        .find(|n| libs.join(n).exists())
        .unwrap_or_else(|| panic!("{} needs nothing from {}", module.display(), libs.display()));
    std::fs::remove_file(libs.join(&victim)).unwrap();
    victim
}

// ------------------------------------------------------------------------------- schemas

/// Validate a JSON value against a schema of the repository (`schema/report.schema.json`)
/// with the real `jsonschema` package from the tools venv (not our own code).
pub fn assert_matches_schema(schema: &str, v: &Value) {
    let dir = TempDir::new();
    let doc = dir.path().join("doc.json");
    write(&doc, serde_json::to_vec(v).unwrap());
    let script = "import json,sys,jsonschema\n\
                  s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))\n\
                  jsonschema.Draft202012Validator.check_schema(s)\n\
                  errs=sorted(jsonschema.Draft202012Validator(s).iter_errors(d), key=str)\n\
                  [print(e.json_path, e.message) for e in errs[:20]]\n\
                  sys.exit(1 if errs else 0)";
    let out = Command::new(tools_venv().join("bin/python"))
        .args(["-c", script])
        .arg(repo_root().join(schema))
        .arg(&doc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{schema} violations:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
