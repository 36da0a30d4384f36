//! `python.version` read from the base installation the venv runs now (not pyvenv.cfg's
//! record of when it was made), and `python.owner`: who installed that interpreter.
//!
//! The fast tier builds roots with stand-in interpreters (cc) and the files each source
//! reads: patchlevel.h, PYTHON.json, conda-meta, a compiled-in version string, dpkg's
//! database. The real-tool tier uses pyenv's CPythons, Debian's own python3 with this host's
//! dpkg database, and an rpm database made by real rpm/rpmbuild (`apt-get install rpm`).

mod support;

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// A venv inside `rootfs` at view path `venv` on the interpreter at view path `python`, laid
/// out as `python -m venv` does (links are absolute view paths: they resolve inside the
/// root), with `pyvenv.cfg` `version = VERSION` and any `extra` lines.
fn root_venv(rootfs: &Path, venv: &str, python: &str, version: &str, extra: &str) {
    let real = rootfs.join(venv.trim_start_matches('/'));
    let home = Path::new(python).parent().unwrap().display().to_string();
    write(
        &real.join("pyvenv.cfg"),
        format!("home = {home}\ninclude-system-site-packages = false\nversion = {version}\n{extra}"),
    );
    let xy = xy(version);
    mkdirs(&real.join("bin"));
    for name in ["python".to_owned(), "python3".to_owned(), format!("python{xy}")] {
        symlink(python, &real.join("bin").join(name));
    }
    mkdirs(&real.join(format!("lib/python{xy}/site-packages")));
}

/// A stand-in CPython at `prefix` (see [`fake_python`]) whose executable holds `version` as
/// CPython's binaries do: a NUL-delimited `PY_VERSION` string in its read-only data.
fn fake_python_with_version(prefix: &Path, xy: &str, version: &str) -> PathBuf {
    let exe = fake_python(prefix, xy);
    cc(
        &format!(
            "static const char v[] = \"py\\0\" \"{version}\";\nint main(int argc, char **argv) {{ (void)argv; return v[argc]; }}\n"
        ),
        &exe,
        &[],
    );
    let _ = fs::remove_file(format!("{}.c", exe.display()));
    exe
}

/// `include/pythonX.Y/patchlevel.h` of a prefix, as CPython writes it.
fn patchlevel(prefix: &Path, xy: &str, version: &str) {
    write(
        &prefix.join(format!("include/python{xy}/patchlevel.h")),
        format!(
            "/* Python version identification scheme. */\n#define PY_MAJOR_VERSION\t3\n\
             #define PY_VERSION_HEX ((PY_MAJOR_VERSION << 24))\n\
             /* Version as a string */\n#define PY_VERSION      \t\"{version}\"\n"
        ),
    );
}

/// `facts` of `/srv` under `rootfs`: the one venv there.
fn scan_root(rootfs: &Path, venv: &str) -> Value {
    let (code, report, err) = run(&["facts", "--format", "json", "--root", rootfs.to_str().unwrap(), "/srv"]);
    assert_ran(code, &err);
    venv_at(&report, Path::new(venv)).clone()
}

fn python(v: &Value) -> &Value {
    &v["python"]
}

fn evidence<'a>(v: &'a Value, key: &str) -> &'a str {
    v["python"]["evidence"][key].as_str().unwrap_or_else(|| panic!("no evidence.{key}: {:#}", v["python"]))
}

fn owner(v: &Value) -> (String, Option<String>, Option<String>) {
    let o = &v["python"]["owner"];
    assert!(o.is_object(), "no python.owner: {:#}", v["python"]);
    (
        o["manager"].as_str().unwrap().to_owned(),
        o["package"].as_str().map(str::to_owned),
        o["version"].as_str().map(str::to_owned),
    )
}

// ----------------------------------------------------------------------------- fast tier

#[test]
fn conda_base_gives_its_version_and_owner() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    let prefix = rootfs.join("opt/conda");
    fake_python(&prefix, "3.12");
    write(
        &prefix.join("conda-meta/python-3.12.8-h5148396_0.json"),
        r#"{"name": "python", "version": "3.12.8", "build": "h5148396_0", "files": ["bin/python3.12"]}"#,
    );
    write(&prefix.join("conda-meta/history"), "==> 2024-12-10 <==\n# conda version: 24.11.0\n");
    root_venv(&rootfs, "/srv/app", "/opt/conda/bin/python3.12", "3.12.1", "");

    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(python(&v)["version"], "3.12.8", "{:#}", python(&v));
    assert!(evidence(&v, "version").contains("conda-meta/python-3.12.8-h5148396_0.json"));
    assert_eq!(python(&v)["venv_cfg_version"], "3.12.1");
    assert!(evidence(&v, "venv_cfg_version").contains("3.12.1"));
    assert_eq!(owner(&v), ("conda".into(), Some("python".into()), Some("3.12.8".into())));
    assert!(evidence(&v, "owner").contains("conda-meta"));
    assert_eq!(python(&v)["version_uncertain"], false);

    // The conda installation is itself an environment (conda-meta/history), owned by conda.
    let (code, report, err) = run(&["facts", "--format", "json", "--root", rootfs.to_str().unwrap(), "/opt"]);
    assert_ran(code, &err);
    let env = venv_at(&report, Path::new("/opt/conda"));
    assert_eq!(env["kind"], "conda");
    assert_eq!(env["python"]["version"], "3.12.8");
    assert_eq!(owner(env).0, "conda");
}

#[test]
fn uv_managed_python_is_owned_by_uv() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    let dir = "cpython-3.12.8-linux-x86_64-gnu";
    let prefix = rootfs.join("root/.local/share/uv/python").join(dir);
    fake_python(&prefix, "3.12");
    patchlevel(&prefix, "3.12", "3.12.8");
    let exe = format!("/root/.local/share/uv/python/{dir}/bin/python3.12");
    root_venv(&rootfs, "/srv/app", &exe, "3.12.8", "uv = 0.5.11\nversion_info = 3.12.8\n");

    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(python(&v)["version"], "3.12.8");
    assert!(evidence(&v, "version").ends_with("include/python3.12/patchlevel.h (PY_VERSION)"), "{:#}", python(&v));
    assert!(python(&v)["venv_cfg_version"].is_null(), "{:#}", python(&v));
    assert_eq!(owner(&v), ("uv".into(), Some(dir.into()), Some("3.12.8".into())));
}

#[test]
fn pyenv_path_is_owned_by_pyenv() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    let prefix = rootfs.join("home/deploy/.pyenv/versions/3.11.9");
    fake_python(&prefix, "3.11");
    root_venv(&rootfs, "/srv/app", "/home/deploy/.pyenv/versions/3.11.9/bin/python3.11", "3.11.9", "");

    let v = scan_root(&rootfs, "/srv/app");
    // No header, no build-details.json, no version string: pyvenv.cfg's record stays.
    assert_eq!(python(&v)["version"], "3.11.9");
    assert_eq!(evidence(&v, "version"), "pyvenv.cfg:version");
    assert_eq!(owner(&v), ("pyenv".into(), Some("3.11.9".into()), Some("3.11.9".into())));
    assert!(evidence(&v, "owner").contains("/home/deploy/.pyenv/versions/3.11.9"));
}

#[test]
fn python_build_standalone_json_gives_version_and_owner() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    // The full archive's layout: python/PYTHON.json beside python/install/.
    let install = rootfs.join("opt/python/install");
    fake_python(&install, "3.12");
    write(
        &rootfs.join("opt/python/PYTHON.json"),
        r#"{"version": "7", "target_triple": "x86_64-unknown-linux-gnu", "python_implementation_name": "cpython",
            "python_version": "3.12.8", "python_major_minor_version": "3.12", "python_exe": "install/bin/python3"}"#,
    );
    root_venv(&rootfs, "/srv/app", "/opt/python/install/bin/python3.12", "3.12.5", "");

    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(python(&v)["version"], "3.12.8");
    assert_eq!(evidence(&v, "version"), "/opt/python/PYTHON.json (python_version)");
    assert_eq!(python(&v)["venv_cfg_version"], "3.12.5");
    assert_eq!(owner(&v), ("python-build-standalone".into(), Some("cpython".into()), Some("3.12.8".into())));
}

#[test]
fn branch_build_version_is_kept_and_flagged_uncertain() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    let prefix = rootfs.join("opt/py310");
    fake_python(&prefix, "3.10");
    patchlevel(&prefix, "3.10", "3.10.5+");
    // venv writes sys.version_info[:3]: 3.10.5 for the branch build 3.10.5+.
    root_venv(&rootfs, "/srv/app", "/opt/py310/bin/python3.10", "3.10.5", "");

    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(python(&v)["version"], "3.10.5+");
    assert_eq!(python(&v)["version_uncertain"], true);
    assert!(evidence(&v, "version_uncertain").contains("branch build"), "{:#}", python(&v));
    assert!(python(&v)["venv_cfg_version"].is_null(), "3.10.5 is what venv writes for 3.10.5+: {:#}", python(&v));
    assert_eq!(owner(&v).0, "unknown");
}

#[test]
fn compiled_version_string_is_read_when_no_installation_file_says() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    let prefix = rootfs.join("opt/py311");
    fake_python_with_version(&prefix, "3.11", "3.11.4");
    root_venv(&rootfs, "/srv/app", "/opt/py311/bin/python3.11", "3.11.2", "");

    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(python(&v)["version"], "3.11.4", "{:#}", python(&v));
    assert_eq!(evidence(&v, "version"), "PY_VERSION compiled into /opt/py311/bin/python3.11");
    assert_eq!(python(&v)["venv_cfg_version"], "3.11.2");
}

/// A `--copies` venv of a statically linked interpreter runs its own copy, whatever its base
/// installation was upgraded to since: the copy's version string decides.
#[test]
fn static_copy_runs_its_own_version() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    let prefix = rootfs.join("opt/py311");
    fake_python(&prefix, "3.11");
    patchlevel(&prefix, "3.11", "3.11.9");
    let venv = rootfs.join("srv/app");
    root_venv(&rootfs, "/srv/app", "/opt/py311/bin/python3.11", "3.11.4", "");
    for name in ["python", "python3", "python3.11"] {
        fs::remove_file(venv.join("bin").join(name)).unwrap();
    }
    fake_python_with_version(&tmp.join("copy"), "3.11", "3.11.4");
    for name in ["python", "python3", "python3.11"] {
        fs::copy(tmp.join("copy/bin/python3.11"), venv.join("bin").join(name)).unwrap();
    }

    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(python(&v)["version"], "3.11.4", "{:#}", python(&v));
    let ev = evidence(&v, "version");
    assert!(ev.starts_with("PY_VERSION compiled into /srv/app/bin/python"), "{ev}");
    assert!(ev.contains("the base installation is now 3.11.9"), "{ev}");
    assert!(python(&v)["venv_cfg_version"].is_null());

    // Without the copy's string, the base installation's header decides.
    for name in ["python", "python3", "python3.11"] {
        fs::copy(prefix.join("bin/python3.11"), venv.join("bin").join(name)).unwrap();
    }
    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(python(&v)["version"], "3.11.9", "{:#}", python(&v));
    assert_eq!(python(&v)["venv_cfg_version"], "3.11.4");
}

/// dpkg: the `info/*.list` naming the file, through Debian's usrmerge (`/bin` links to
/// `usr/bin`; a package built before the merge lists `/bin/...`).
#[test]
fn dpkg_database_in_a_root_names_the_package() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    fake_python(&rootfs.join("usr"), "3.11");
    symlink("usr/bin", &rootfs.join("bin"));
    symlink("python3.11", &rootfs.join("usr/bin/python3"));
    let info = rootfs.join("var/lib/dpkg/info");
    write(&info.join("adduser.list"), "/.\n/usr\n/usr/sbin\n/usr/sbin/adduser\n");
    write(&info.join("python3.11-minimal.list"), "/.\n/bin\n/bin/python3.11\n/usr/share/doc/python3.11-minimal\n");
    write(&info.join("python3-minimal.list"), "/.\n/usr/bin/python3\n");
    write(
        &rootfs.join("var/lib/dpkg/status"),
        "Package: adduser\nStatus: install ok installed\nArchitecture: all\nVersion: 3.134\n\n\
         Package: python3.11-minimal\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.11.2-6+deb12u6\n\
         Description: Minimal subset of the Python language (version 3.11)\n\n\
         Package: python3-minimal\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.11.2-1+b1\n",
    );
    root_venv(&rootfs, "/srv/app", "/usr/bin/python3", "3.11.2", "");

    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(owner(&v), ("dpkg".into(), Some("python3.11-minimal".into()), Some("3.11.2-6+deb12u6".into())));
    assert!(evidence(&v, "owner").contains("/var/lib/dpkg/info/python3.11-minimal.list"));
}

/// An rpm database that is not read (BerkeleyDB, RHEL 7/8; ndb, SUSE): the interpreter under
/// `/usr` is the distribution's, package unknown.
#[test]
fn legacy_rpm_database_is_owned_package_unknown() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    fake_python(&rootfs.join("usr"), "3.6");
    write(&rootfs.join("var/lib/rpm/Packages"), vec![0u8; 4096]);
    root_venv(&rootfs, "/srv/app", "/usr/bin/python3.6", "3.6.8", "");
    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(owner(&v), ("rpm".into(), None, None));
    assert!(evidence(&v, "owner").contains("BerkeleyDB"), "{}", evidence(&v, "owner"));

    // Not under /usr: not the distribution's.
    fake_python(&rootfs.join("opt/py"), "3.6");
    root_venv(&rootfs, "/srv/app", "/opt/py/bin/python3.6", "3.6.8", "");
    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(owner(&v), ("unknown".into(), None, None));
}

#[test]
fn missing_base_has_no_owner() {
    let tmp = TempDir::new();
    let rootfs = tmp.join("rootfs");
    root_venv(&rootfs, "/srv/app", "/opt/gone/bin/python3.12", "3.12.1", "");
    let v = scan_root(&rootfs, "/srv/app");
    assert!(python(&v)["owner"].is_null(), "{:#}", python(&v));
    assert_eq!(python(&v)["version"], "3.12.1");
}

// ------------------------------------------------------------------------ real-tool tier

/// What the interpreter of `venv` says it is, run for ground truth.
fn runs_version(venv: &Path) -> String {
    check_stdout(py_cmd(venv.join("bin/python")).args(["-c", "import platform; print(platform.python_version())"]))
        .trim()
        .to_owned()
}

fn scan_dir(dir: &Path, venv: &Path) -> Value {
    let (code, report, err) = run(&["facts", "--format", "json", dir.to_str().unwrap()]);
    assert_ran(code, &err);
    venv_at(&report, venv).clone()
}

#[test]
#[ignore = "real-tool tier: pyenv CPython 3.12 (scripts/test.sh runs it)"]
fn pyenv_venv_reports_the_patchlevel_version() {
    let tmp = TempDir::new();
    let venv = tmp.join("scan/venv");
    make_bare_venv(&pyenv("3.12"), &venv);
    let truth = runs_version(&venv);
    let prefix = pyenv_prefix("3.12");
    assert_eq!(truth, prefix.file_name().unwrap().to_string_lossy(), "pyenv's 3.12 is named for its version");

    let v = scan_dir(&tmp.join("scan"), &venv);
    assert_eq!(python(&v)["version"], truth.as_str(), "{:#}", python(&v));
    let ev = evidence(&v, "version");
    assert!(ev.contains("include/python3.12/patchlevel.h"), "{ev}");
    assert!(python(&v)["venv_cfg_version"].is_null());
    assert_eq!(python(&v)["version_uncertain"], false);
    assert_eq!(owner(&v), ("pyenv".into(), Some(truth.clone()), Some(truth)));
}

/// pyenv 3.12.1 rebuilt in place as 3.12.8: the venv's pyvenv.cfg still says 3.12.1, the base
/// installation it runs says 3.12.8. Made on a hard-linked copy of the pyenv prefix whose
/// patchlevel.h is rewritten (a new file: the original is never touched).
#[test]
#[ignore = "real-tool tier: pyenv CPython 3.12 (scripts/test.sh runs it)"]
fn base_upgraded_in_place_is_reported_with_the_venv_cfg_version() {
    let tmp = TempDir::new();
    let base = tmp.join("py312");
    link_tree(&pyenv_prefix("3.12"), &base);
    let made_with = pyenv_prefix("3.12").file_name().unwrap().to_string_lossy().into_owned();
    let header = base.join("include/python3.12/patchlevel.h");
    let text = fs::read_to_string(&header).unwrap();
    let needle = format!("\"{made_with}\"");
    assert!(text.contains(&needle), "patchlevel.h of pyenv's {made_with} has no PY_VERSION {needle}");
    fs::remove_file(&header).unwrap();
    write(&header, text.replace(&needle, "\"3.12.8\""));

    let exe = base.join("bin/python3.12");
    let venv = tmp.join("scan/venv");
    make_bare_venv(&exe, &venv);
    let cfg = fs::read_to_string(venv.join("pyvenv.cfg")).unwrap();
    assert!(cfg.contains(&format!("version = {made_with}")), "{cfg}");

    let v = scan_dir(&tmp.join("scan"), &venv);
    assert_eq!(python(&v)["version"], "3.12.8", "{:#}", python(&v));
    let ev = evidence(&v, "version");
    assert!(ev.contains(&format!("{}", header.display())), "{ev}");
    assert_eq!(python(&v)["venv_cfg_version"], made_with.as_str());
    assert!(evidence(&v, "venv_cfg_version").contains(&made_with));
    // The copy is nobody's: not under pyenv's directory, in no package database.
    assert_eq!(owner(&v).0, "unknown");
    // pyenv's own prefix was not touched.
    let original = fs::read_to_string(pyenv_prefix("3.12").join("include/python3.12/patchlevel.h")).unwrap();
    assert!(original.contains(&needle));
}

/// Debian's python3 (this host is Debian 12): owned by python3.11-minimal, version as dpkg
/// says; the venv's version is the interpreter's own, also for a `--copies` venv.
#[test]
#[ignore = "real-tool tier: Debian's python3 with python3-venv and this host's dpkg database (scripts/test.sh runs it)"]
fn debian_python_is_owned_by_its_dpkg_package() {
    let host_python = Path::new("/usr/bin/python3");
    assert!(
        host_python.exists(),
        "needs Debian's /usr/bin/python3 (scripts/setup.sh's apt step installs python3-venv)"
    );
    let resolved = fs::canonicalize(host_python).unwrap();
    let owner_line = check_stdout(Command::new("dpkg").arg("-S").arg(&resolved));
    let package = owner_line.split(':').next().unwrap().trim().to_owned();
    let dpkg_version = check_stdout(Command::new("dpkg-query").args(["-W", "-f=${Version}", &package]));

    let tmp = TempDir::new();
    let linked = tmp.join("scan/linked");
    let copied = tmp.join("scan/copied");
    make_bare_venv(host_python, &linked);
    check(py_cmd(host_python).args(["-m", "venv", "--without-pip", "--copies"]).arg(&copied));
    let (code, report, err) = run(&["facts", "--format", "json", tmp.join("scan").to_str().unwrap()]);
    assert_ran(code, &err);
    for venv in [&linked, &copied] {
        let v = venv_at(&report, venv);
        assert_eq!(python(v)["version"], runs_version(venv).as_str(), "{:#}", python(v));
        assert_eq!(owner(v), ("dpkg".into(), Some(package.clone()), Some(dpkg_version.clone())), "{:#}", python(v));
        assert!(evidence(v, "owner").contains(&format!("/var/lib/dpkg/info/{package}")), "{}", evidence(v, "owner"));
    }
    if resolved == Path::new("/usr/bin/python3.11") {
        assert_eq!(package, "python3.11-minimal");
    }
}

/// `(name, size, mtime)` of every file in a directory.
fn dir_state(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let m = e.metadata().unwrap();
            (e.file_name().to_string_lossy().into_owned(), m.len(), m.modified().unwrap())
        })
        .collect();
    out.sort();
    out
}

/// A RHEL 9-like root: an rpm (built here by rpmbuild) installs `/usr/bin/python3.9` into a
/// SQLite rpm database (`rpm --root R --dbpath /var/lib/rpm`); the owner is read from it, and
/// nothing beside the database is created or changed.
#[test]
#[ignore = "real-tool tier: rpm and rpmbuild (apt-get install rpm; scripts/test.sh runs it)"]
fn rpm_sqlite_database_names_the_package() {
    for tool in ["rpm", "rpmbuild"] {
        assert!(
            Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success()),
            "needs {tool}: apt-get install rpm"
        );
    }
    let tmp = TempDir::new();
    let payload = fake_python_with_version(&tmp.join("payload"), "3.9", "3.9.18");
    let top = tmp.join("rpmbuild");
    write(
        &top.join("SPECS/python3.spec"),
        format!(
            "Name: python3\nVersion: 3.9.18\nRelease: 3.el9\nEpoch: 0\nSummary: stand-in\nLicense: MIT\n\
             AutoReqProv: no\n%global debug_package %{{nil}}\n%global __os_install_post %{{nil}}\n\
             %description\nstand-in interpreter\n%install\n\
             install -D -m 0755 {} %{{buildroot}}/usr/bin/python3.9\nln -s python3.9 %{{buildroot}}/usr/bin/python3\n\
             %files\n/usr/bin/python3.9\n/usr/bin/python3\n",
            payload.display()
        ),
    );
    check(
        Command::new("rpmbuild")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            // rpmbuild opens an rpm database (~/.rpmdb on Debian): a private one, and no
            // BuildRequires to check in it.
            .arg("--define")
            .arg(format!("_dbpath {}", tmp.join("build-rpmdb").display()))
            .args(["--quiet", "--nodeps", "-bb"])
            .arg(top.join("SPECS/python3.spec")),
    );
    let rpm_file = fs::read_dir(top.join("RPMS"))
        .unwrap()
        .flatten()
        .flat_map(|d| fs::read_dir(d.path()).unwrap().flatten().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "rpm"))
        .expect("rpmbuild made no rpm");
    let rootfs = tmp.join("rootfs");
    mkdirs(&rootfs);
    let rpm = |args: &[&str]| {
        let mut c = Command::new("rpm");
        c.arg("--root").arg(&rootfs).args(["--dbpath", "/var/lib/rpm"]).args(args);
        c
    };
    check(&mut rpm(&["--initdb"]));
    check(rpm(&["-i", "--nodeps", "--noscripts", "--nosignature"]).arg(&rpm_file));
    let db = rootfs.join("var/lib/rpm");
    assert!(db.join("rpmdb.sqlite").is_file(), "rpm made no SQLite database: {:?}", dir_state(&db));
    let owner_line = check_stdout(&mut rpm(&["-qf", "/usr/bin/python3.9"]));
    assert!(owner_line.starts_with("python3-3.9.18-3.el9"), "{owner_line}");

    root_venv(&rootfs, "/srv/app", "/usr/bin/python3", "3.9.18", "");
    let before = dir_state(&db);
    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(dir_state(&db), before, "the scan changed the rpm database directory");
    assert_eq!(owner(&v), ("rpm".into(), Some("python3".into()), Some("3.9.18-3.el9".into())), "{:#}", python(&v));
    assert!(evidence(&v, "owner").contains("/var/lib/rpm/rpmdb.sqlite"));
    assert_eq!(python(&v)["version"], "3.9.18");
    assert_eq!(evidence(&v, "version"), "PY_VERSION compiled into /usr/bin/python3.9");

    // A file of the same base name in another directory is not the package's.
    fake_python(&rootfs.join("usr/libexec/alt"), "3.9");
    root_venv(&rootfs, "/srv/app", "/usr/libexec/alt/bin/python3.9", "3.9.18", "");
    let v = scan_root(&rootfs, "/srv/app");
    assert_eq!(owner(&v), ("unknown".into(), None, None), "{:#}", python(&v));
}
