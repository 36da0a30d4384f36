//! The compatibility gate against real parts: real venvs from Debian's and pyenv's Pythons,
//! real wheels from the offline wheelhouse, Debian's apache2 + libapache2-mod-wsgi-py3, a
//! mod_wsgi built by pip against pyenv's Python 3.12 (a wheel scripts/setup.sh compiles), and
//! ELF fixtures compiled here with `cc`.
//!
//! Needs what scripts/setup.sh installs: apache2, libapache2-mod-wsgi-py3, apache2-dev, cc,
//! /usr/bin/python3.11 (Debian's, with ensurepip), the pyenv Pythons and the wheelhouse.

mod support;

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use support::*;

const DEBIAN_PY: &str = "/usr/bin/python3.11";
const DEBIAN_MOD_WSGI: &str = "/usr/lib/apache2/modules/mod_wsgi.so";

/// Venvs shared by the tests of this process, made on first use and removed at exit.
static SHARED: Mutex<Option<(PathBuf, HashMap<String, PathBuf>)>> = Mutex::new(None);

/// A shared venv: `packages` empty means `--without-pip` (fast, for layout-only fixtures).
fn venv(name: &str, python: &Path, packages: &[&str]) -> PathBuf {
    let mut guard = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    let (root, made) = guard.get_or_insert_with(|| (TempDir::new().remove_at_exit(), HashMap::new()));
    if let Some(p) = made.get(name) {
        return p.clone();
    }
    assert!(python.exists(), "{} is missing: run scripts/setup.sh", python.display());
    let dir = root.join(name);
    if packages.is_empty() {
        make_bare_venv(python, &dir);
    } else {
        make_venv(Creator::Venv, python, &dir);
        pip_install(&dir, packages);
    }
    made.insert(name.to_owned(), dir.clone());
    dir
}

/// Run `venvaudit check --format json ARGS`.
/// The day every `check_json` judges by: "no findings" for Python 3.11 and 3.12 must not turn
/// into an EOL warning when 3.11's end (2027-10-31) comes within six months of the real date.
const TODAY: &str = "2026-12-01";

fn check_json(args: &[&str]) -> (i32, Value) {
    let mut full = vec!["check", "--format", "json"];
    full.extend_from_slice(args);
    let (code, json, stderr) = run_json_cmd(Command::new(venvaudit()).env("VENVAUDIT_TODAY", TODAY).args(&full));
    assert!(json.is_object(), "no JSON from venvaudit {full:?} (exit {code}): {stderr}");
    (code, json)
}

fn all_findings(report: &Value) -> Vec<Value> {
    findings(report).clone()
}

fn with_id(report: &Value, id: &str) -> Vec<Value> {
    findings(report).iter().filter(|f| f["id"] == id).cloned().collect()
}

fn file_of(f: &Value) -> String {
    f["details"]["file"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("").to_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A shared object compiled from C (`cc -shared -fPIC`).
fn so(src: &str, out: &Path, args: &[&str]) {
    mkdirs(out.parent().unwrap());
    let mut all = vec!["-shared", "-fPIC"];
    all.extend_from_slice(args);
    cc(src, out, &all);
}

fn sp(venv: &Path) -> PathBuf {
    site_packages(venv).unwrap_or_else(|| panic!("{} has no site-packages", venv.display()))
}

fn readelf(flag: &str, file: &Path) -> String {
    check_stdout(Command::new("readelf").arg(flag).arg(file))
}

const MODULE: &str = "void PyInit_fixture(void) {}\n";

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn real_wheels_give_no_findings() {
    let deb = venv("deb311-wheels", Path::new(DEBIAN_PY), &["numpy", "pillow", "psycopg2-binary", "cryptography"]);
    let py312 = venv("pyenv312-wheels", &pyenv("3.12"), &["numpy", "pillow", "psycopg2-binary", "cryptography"]);
    for v in [&deb, &py312] {
        let (code, r) = check_json(&[s(v), "--check", "interpreter", "--check", "extensions", "--check", "eol"]);
        assert_eq!(all_findings(&r), Vec::<Value>::new(), "false positives in {}", v.display());
        assert_eq!(r["errors"], serde_json::json!([]), "{}", v.display());
        assert_eq!(code, 0);
        // The scan really saw compiled modules: numpy, pillow, psycopg2 and cryptography's abi3.
        let pkgs = r["venvs"][0]["packages"].as_array().unwrap();
        for name in ["numpy", "pillow", "psycopg2-binary", "cryptography"] {
            let p =
                pkgs.iter().find(|p| p["normalized_name"] == name).unwrap_or_else(|| panic!("{name} not installed"));
            assert!(!p["extensions"].as_array().unwrap().is_empty(), "{name} has no extension modules");
        }
        let crypto = pkgs.iter().find(|p| p["normalized_name"] == "cryptography").unwrap();
        assert!(crypto["extensions"].as_array().unwrap().iter().any(|e| e["abi_tag"] == "abi3"));
        let bundled = sp(v).join("psycopg2_binary.libs");
        assert!(bundled.is_dir(), "psycopg2-binary has no bundled libs to resolve via $ORIGIN");
    }
}

/// A venv of Debian's 3.11 with one compiled fixture of each kind in site-packages.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn compiled_fixtures_are_judged() {
    let work = TempDir::new();
    let v = work.join("venv");
    make_bare_venv(Path::new(DEBIAN_PY), &v);
    let sp = sp(&v);
    let build = work.join("build");

    // GLIBC_2.99: a stub "libc.so.6" whose version script defines it; linked, then left behind.
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(build.join("future.map"), "GLIBC_2.99 { global: venvaudit_future; local: *; };\n").unwrap();
    let map = format!("-Wl,--version-script={}", build.join("future.map").display());
    so(
        "void venvaudit_future(void) {}\n",
        &build.join("stub/libc.so.6"),
        &[&map, "-Wl,-soname,libc.so.6", "-nostdlib"],
    );
    so(
        "extern void venvaudit_future(void);\nvoid PyInit_future(void) { venvaudit_future(); }\n",
        &sp.join("future.cpython-311-x86_64-linux-gnu.so"),
        &[s(&build.join("stub/libc.so.6"))],
    );
    assert!(readelf("-V", &sp.join("future.cpython-311-x86_64-linux-gnu.so")).contains("GLIBC_2.99"));

    // GLIBCXX_9.9 from libstdc++.so.6: the host's libstdc++ does not define it.
    std::fs::write(build.join("cxx.map"), "GLIBCXX_9.9 { global: venvaudit_cxx; local: *; };\n").unwrap();
    let cxxmap = format!("-Wl,--version-script={}", build.join("cxx.map").display());
    so(
        "void venvaudit_cxx(void) {}\n",
        &build.join("cxx/libstdc++.so.6"),
        &[&cxxmap, "-Wl,-soname,libstdc++.so.6", "-nostdlib"],
    );
    so(
        "extern void venvaudit_cxx(void);\nvoid PyInit_cxx(void) { venvaudit_cxx(); }\n",
        &sp.join("cxx.cpython-311-x86_64-linux-gnu.so"),
        &[s(&build.join("cxx/libstdc++.so.6"))],
    );

    // A library that exists only at build time.
    so("void venvaudit_absent(void) {}\n", &build.join("absent/libvenvaudit-absent.so"), &[]);
    so(
        "extern void venvaudit_absent(void);\nvoid PyInit_needs(void) { venvaudit_absent(); }\n",
        &sp.join("needs.cpython-311-x86_64-linux-gnu.so"),
        &["-L", s(&build.join("absent")), "-lvenvaudit-absent"],
    );

    // Foreign machine: a module with e_machine patched to AArch64, and a non-module helper
    // (like debugpy's attach libraries) patched the same way, which must not be judged.
    for name in ["foreign.cpython-311-x86_64-linux-gnu.so", "attach_helper_arm64.so"] {
        let src = if name.starts_with("foreign") { MODULE } else { "void helper(void) {}\n" };
        let p = sp.join(name);
        so(src, &p, &[]);
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[18..20].copy_from_slice(&183u16.to_le_bytes());
        std::fs::write(&p, bytes).unwrap();
    }

    // musl: linked against musl's soname `libc.so`, and one tagged for linux-musl.
    so("void venvaudit_musl(void) {}\n", &build.join("musl/libc.so"), &["-Wl,-soname,libc.so", "-nostdlib"]);
    so(
        "extern void venvaudit_musl(void);\nvoid PyInit_muslmod(void) { venvaudit_musl(); }\n",
        &sp.join("muslmod.cpython-311-x86_64-linux-gnu.so"),
        &["-nostdlib", s(&build.join("musl/libc.so"))],
    );
    so(MODULE, &sp.join("musltag.cpython-311-x86_64-linux-musl.so"), &[]);

    // ABI tags: other versions, old `m` flag, free-threaded; abi3 and plain are fine.
    for name in [
        "old39.cpython-39-x86_64-linux-gnu.so",
        "old37.cpython-37m-x86_64-linux-gnu.so",
        "ft.cpython-311t-x86_64-linux-gnu.so",
        "stable.abi3.so",
        "plain.so",
        "ok.cpython-311-x86_64-linux-gnu.so",
    ] {
        so(MODULE, &sp.join(name), &[]);
    }

    // Bundled libraries through RUNPATH $ORIGIN, as auditwheel lays them out.
    so(
        "void venvaudit_bundled(void) {}\n",
        &sp.join("good.libs/libbundled-1a2b3c.so.1"),
        &["-Wl,-soname,libbundled-1a2b3c.so.1"],
    );
    so(
        "extern void venvaudit_bundled(void);\nvoid PyInit_good(void) { venvaudit_bundled(); }\n",
        &sp.join("good/_good.cpython-311-x86_64-linux-gnu.so"),
        &[s(&sp.join("good.libs/libbundled-1a2b3c.so.1")), "-Wl,-rpath,$ORIGIN/../good.libs", "-Wl,--enable-new-dtags"],
    );
    // Debian's interpreter is statically linked; a module that does link libpython3.11
    // finds Debian's libpython3.11.so.1.0 through the system search.
    so(
        MODULE,
        &sp.join("linkspy.cpython-311-x86_64-linux-gnu.so"),
        &["-Wl,--no-as-needed", "-L/usr/lib/x86_64-linux-gnu", "-l:libpython3.11.so.1.0"],
    );
    assert!(readelf("-d", &sp.join("linkspy.cpython-311-x86_64-linux-gnu.so")).contains("libpython3.11.so.1.0"));

    // Malformed ELF: an error naming the file, never a panic.
    let mut garbage = b"\x7fELF\x02\x01\x01\0".to_vec();
    garbage.extend_from_slice(&[0xff; 100]);
    std::fs::write(sp.join("broken.cpython-311-x86_64-linux-gnu.so"), garbage).unwrap();

    let (code, r) = check_json(&[s(&v), "--check", "extensions"]);
    assert_eq!(code, 1);
    let by = |id: &str| -> Vec<String> {
        let mut v: Vec<String> = with_id(&r, id).iter().map(file_of).collect();
        v.sort();
        v
    };
    assert_eq!(by("extension-glibc-too-new"), vec!["future.cpython-311-x86_64-linux-gnu.so"]);
    let glibc = &with_id(&r, "extension-glibc-too-new")[0];
    assert_eq!(glibc["details"]["required"], "2.99");
    assert_eq!(glibc["severity"], "error");
    assert_eq!(by("extension-library-version-missing"), vec!["cxx.cpython-311-x86_64-linux-gnu.so"]);
    assert_eq!(by("extension-missing-library"), vec!["needs.cpython-311-x86_64-linux-gnu.so"]);
    assert_eq!(
        with_id(&r, "extension-missing-library")[0]["details"]["libraries"],
        serde_json::json!(["libvenvaudit-absent.so"])
    );
    assert_eq!(by("extension-arch-mismatch"), vec!["foreign.cpython-311-x86_64-linux-gnu.so"]);
    assert_eq!(with_id(&r, "extension-arch-mismatch")[0]["details"]["machine"], "aarch64");
    assert_eq!(
        by("extension-libc-mismatch"),
        vec!["muslmod.cpython-311-x86_64-linux-gnu.so", "musltag.cpython-311-x86_64-linux-musl.so"]
    );
    assert_eq!(
        by("extension-abi-mismatch"),
        vec![
            "ft.cpython-311t-x86_64-linux-gnu.so",
            "old37.cpython-37m-x86_64-linux-gnu.so",
            "old39.cpython-39-x86_64-linux-gnu.so"
        ]
    );
    let flagged: Vec<String> = all_findings(&r).iter().map(file_of).collect();
    for fine in [
        "stable.abi3.so",
        "plain.so",
        "ok.cpython-311-x86_64-linux-gnu.so",
        "_good.cpython-311-x86_64-linux-gnu.so",
        "libbundled-1a2b3c.so.1",
        "attach_helper_arm64.so",
        "linkspy.cpython-311-x86_64-linux-gnu.so",
    ] {
        assert!(!flagged.iter().any(|f| f == fine), "false positive on {fine}: {:#}", r["findings"]);
    }
    let errors = r["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["path"].as_str().unwrap().ends_with("broken.cpython-311-x86_64-linux-gnu.so")),
        "{errors:?}"
    );
}

/// libpython is provided by the process when the interpreter links it (pyenv's are shared);
/// with Debian's static interpreter the loader must find it on disk.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn libpython_comes_from_the_process_only_when_shared() {
    let work = TempDir::new();
    let lib = pyenv("3.12").parent().unwrap().parent().unwrap().join("lib");
    let link = ["-Wl,--no-as-needed", "-L", s(&lib), "-lpython3.12"];
    let shared = work.join("shared312");
    make_bare_venv(&pyenv("3.12"), &shared);
    so(MODULE, &sp(&shared).join("embedded.cpython-312-x86_64-linux-gnu.so"), &link);
    let (code, r) = check_json(&[s(&shared), "--check", "extensions"]);
    assert_eq!((code, all_findings(&r)), (0, vec![]));

    // The same module in a Debian-3.11 venv (renamed to its tag): no libpython3.12 in the
    // process and none in the system directories.
    let deb = work.join("deb311");
    make_bare_venv(Path::new(DEBIAN_PY), &deb);
    so(MODULE, &sp(&deb).join("embedded.cpython-311-x86_64-linux-gnu.so"), &link);
    let (code, r) = check_json(&[s(&deb), "--check", "extensions"]);
    assert_eq!(code, 1);
    let m = with_id(&r, "extension-missing-library");
    assert_eq!(m.len(), 1, "{:#}", r["findings"]);
    assert_eq!(m[0]["details"]["libraries"], serde_json::json!(["libpython3.12.so.1.0"]));
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn target_python_judges_against_another_interpreter() {
    let work = TempDir::new();
    let v = work.join("venv311");
    make_bare_venv(Path::new(DEBIAN_PY), &v);
    so(MODULE, &sp(&v).join("mod.cpython-311-x86_64-linux-gnu.so"), &[]);
    so(MODULE, &sp(&v).join("stable.abi3.so"), &[]);

    let (code, r) =
        check_json(&[s(&v), "--target-python", s(&pyenv("3.12")), "--check", "interpreter", "--check", "extensions"]);
    assert_eq!(code, 1);
    let t = with_id(&r, "target-python-mismatch");
    assert_eq!(t.len(), 1, "{:#}", r["findings"]);
    assert_eq!(t[0]["details"]["venv_python"], "3.11");
    assert_eq!(t[0]["details"]["target_python"], "3.12");
    let abi: Vec<String> = with_id(&r, "extension-abi-mismatch").iter().map(file_of).collect();
    assert_eq!(abi, vec!["mod.cpython-311-x86_64-linux-gnu.so"]);
    assert_eq!(with_id(&r, "extension-abi-mismatch")[0]["details"]["expected"], "cpython-312-x86_64-linux-gnu");

    // The interpreter it was made with, and another 3.11 installation, are fine.
    for target in [PathBuf::from(DEBIAN_PY), pyenv("3.11")] {
        let (code, r) =
            check_json(&[s(&v), "--target-python", s(&target), "--check", "interpreter", "--check", "extensions"]);
        assert_eq!((code, all_findings(&r)), (0, vec![]), "{}", target.display());
    }
    // A target that does not exist is a usage error.
    let (code, _, stderr) = run_raw(&["check", s(&v), "--target-python", "/nonexistent/python3.12"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--target-python"), "{stderr}");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn end_of_life_pythons_are_named() {
    let old = venv("pyenv38-bare", &pyenv("3.8"), &[]);
    let old39 = venv("pyenv39-bare", &pyenv("3.9"), &[]);
    let new = venv("pyenv312-bare", &pyenv("3.12"), &[]);
    // The clock is injected: the verdicts hold whatever the real date.
    let at = |today: &str, args: &[&str]| {
        let mut cmd = Command::new(venvaudit());
        cmd.env("VENVAUDIT_TODAY", today).args(["check", "--format", "json"]).args(args);
        let (code, r, err) = run_json_cmd(&mut cmd);
        assert_ran(code, &err);
        (code, r)
    };
    let (code, r) = at("2026-12-01", &[s(&old), s(&old39), s(&new), "--check", "eol"]);
    assert_eq!(code, 1);
    let eol = with_id(&r, "interpreter-eol");
    let mut named: Vec<(&str, &str, &str)> = eol
        .iter()
        .map(|f| {
            (
                f["details"]["version"].as_str().unwrap(),
                f["details"]["eol"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    named.sort();
    assert_eq!(named, vec![("3.8", "2024-10-07", "error"), ("3.9", "2025-10-31", "error")]);
    let (code, r) = at("2026-12-01", &[s(&new), "--check", "eol", "--fail-on", "warning"]);
    assert_eq!((code, all_findings(&r)), (0, vec![]));
    // Within six months of 3.12's end (2028-10-31): a warning; after it, an error.
    let (_, r) = at("2028-06-01", &[s(&new), "--check", "eol"]);
    assert_eq!(with_id(&r, "interpreter-eol")[0]["severity"], "warning", "{:#}", r["findings"]);
    let (_, r) = at("2028-11-01", &[s(&new), "--check", "eol"]);
    assert_eq!(with_id(&r, "interpreter-eol")[0]["severity"], "error", "{:#}", r["findings"]);
}

/// The venvs the Apache tests point at: one per situation the issue names.
struct Sites {
    deb311: PathBuf,
    py312: PathBuf,
    py3117: PathBuf,
}

fn sites() -> Sites {
    Sites {
        deb311: venv("deb311-bare", Path::new(DEBIAN_PY), &[]),
        py312: venv("pyenv312-bare", &pyenv("3.12"), &[]),
        py3117: venv("pyenv3117-bare", &pyenv("3.11"), &[]),
    }
}

fn apache_accepts(args: &[&str], envs: &[(&str, &Path)]) {
    let mut c = Command::new(args[0]);
    c.args(&args[1..]);
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = support::check(&mut c);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Syntax OK"), "Apache rejects the configuration: {text}");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn debian_mod_wsgi_names_every_mismatched_venv() {
    assert!(Path::new(DEBIAN_MOD_WSGI).exists(), "libapache2-mod-wsgi-py3 is not installed: run scripts/setup.sh");
    let st = sites();
    let work = TempDir::new();
    let conf = work.join("apache2");
    check(Command::new("cp").arg("-a").arg("/etc/apache2").arg(&conf));
    // The module as the package enables it, whatever the host's a2enmod state.
    std::fs::write(conf.join("mods-enabled/wsgi.load"), format!("LoadModule wsgi_module {DEBIAN_MOD_WSGI}\n")).unwrap();
    let missing = work.join("gone/venv");
    let site = format!(
        "# venvaudit test site\n\
         WSGIPythonHome {deb}\n\
         <VirtualHost *:80>\n\
         \x20   ServerName app.example\n\
         \x20   WSGIDaemonProcess good python-home={deb} processes=2\n\
         \x20   WSGIDaemonProcess newer \\\n\
         \x20       python-home={py312} \\\n\
         \x20       threads=5\n\
         \x20   WSGIDaemonProcess gone python-home={missing}\n\
         \x20   <IfModule mod_wsgi.c>\n\
         \x20       WSGIDaemonProcess foreign python-home=\"{py3117}\"\n\
         \x20   </IfModule>\n\
         \x20   WSGIDaemonProcess bypath python-path=/srv/code:{py312}/lib/python3.12/site-packages\n\
         </VirtualHost>\n",
        deb = st.deb311.display(),
        py312 = st.py312.display(),
        py3117 = st.py3117.display(),
        missing = missing.display(),
    );
    std::fs::write(conf.join("sites-enabled/venvs.conf"), site).unwrap();
    apache_accepts(&["apache2ctl", "-t"], &[("APACHE_CONFDIR", &conf)]);

    let main = conf.join("apache2.conf");
    // `work` holds the missing venv's path: a configured path is judged only inside the scan.
    let (code, r) = check_json(&[
        s(&st.deb311),
        s(&st.py312),
        s(&st.py3117),
        s(work.path()),
        "--apache-config",
        s(&main),
        "--check",
        "mod-wsgi",
    ]);
    assert_eq!(code, 1);
    let site_file = conf.join("sites-enabled/venvs.conf").display().to_string();
    let at = |id: &str| -> Vec<(String, u64, String)> {
        let mut v: Vec<_> = with_id(&r, id)
            .iter()
            .map(|f| {
                assert_eq!(f["details"]["file"], site_file.as_str(), "{f:#}");
                assert!(
                    f["message"].as_str().unwrap().contains(&format!("{site_file}:{}", f["details"]["line"])),
                    "{f:#}"
                );
                (
                    f["details"]["group"].as_str().unwrap_or("").to_owned(),
                    f["details"]["line"].as_u64().unwrap(),
                    f["venv"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let py312 = st.py312.display().to_string();
    assert_eq!(
        at("mod-wsgi-abi-mismatch"),
        vec![("bypath".into(), 13, py312.clone()), ("newer".into(), 6, py312.clone())]
    );
    assert_eq!(at("mod-wsgi-venv-missing"), vec![("gone".into(), 9, missing.display().to_string())]);
    assert_eq!(at("mod-wsgi-foreign-install"), vec![("foreign".into(), 11, st.py3117.display().to_string())]);
    let abi = &with_id(&r, "mod-wsgi-abi-mismatch")[0];
    assert_eq!(abi["details"]["mod_wsgi_python"], "3.11");
    assert_eq!(abi["details"]["venv_python"], "3.12");
    assert_eq!(with_id(&r, "mod-wsgi-foreign-install")[0]["severity"], "warning");
    assert_eq!(all_findings(&r).len(), 4, "the matching venv must stay silent: {:#}", r["findings"]);

    // used_by: the matching venv is used by the server-wide home and the `good` group.
    let deb = r["venvs"].as_array().unwrap().iter().find(|v| v["path"] == s(&st.deb311)).unwrap();
    let used: Vec<(u64, Value)> =
        deb["used_by"].as_array().unwrap().iter().map(|u| (u["line"].as_u64().unwrap(), u["group"].clone())).collect();
    assert_eq!(used, vec![(2, Value::Null), (5, Value::from("good"))]);
    assert_eq!(deb["used_by"][0]["kind"], "mod_wsgi");
    assert_eq!(deb["health"], "ok");
}

/// A mod_wsgi built by `pip install mod_wsgi` against pyenv's 3.12 links that libpython
/// through its RUNPATH; `--mod-wsgi` judges venvs against it without any configuration.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn pip_built_mod_wsgi_embeds_its_own_python() {
    let st = sites();
    let wsgi = venv("pyenv312-mod-wsgi", &pyenv("3.12"), &["mod_wsgi"]);
    let module = std::fs::read_dir(sp(&wsgi).join("mod_wsgi/server"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("mod_wsgi-py312"))
        .expect("pip built no mod_wsgi-py312 module");
    let work = TempDir::new();
    let conf = work.join("httpd.conf");
    std::fs::write(
        &conf,
        format!(
            "ServerRoot {w}\n\
             LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so\n\
             LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n\
             LoadModule wsgi_module \"{m}\"\n\
             ServerName localhost\n\
             Listen 127.0.0.1:18099\n\
             PidFile {w}/httpd.pid\n\
             ErrorLog {w}/error.log\n\
             WSGIDaemonProcess new python-home={py312}\n\
             WSGIDaemonProcess old python-home={deb}\n",
            w = work.path().display(),
            m = module.display(),
            py312 = st.py312.display(),
            deb = st.deb311.display(),
        ),
    )
    .unwrap();
    apache_accepts(&["apache2", "-t", "-f", s(&conf)], &[]);

    let (code, r) = check_json(&[s(&st.py312), s(&st.deb311), "--apache-config", s(&conf), "--check", "mod-wsgi"]);
    assert_eq!(code, 1);
    let abi = with_id(&r, "mod-wsgi-abi-mismatch");
    assert_eq!(abi.len(), 1, "{:#}", r["findings"]);
    assert_eq!(abi[0]["details"]["group"], "old");
    assert_eq!(abi[0]["details"]["line"], 10);
    assert_eq!(abi[0]["details"]["mod_wsgi_python"], "3.12");
    let lib = abi[0]["details"]["libpython"].as_str().unwrap();
    assert!(lib.contains(".pyenv/versions/3.12.1/lib/libpython3.12.so"), "{lib}");
    assert_eq!(all_findings(&r).len(), 1);

    // --mod-wsgi with no configuration: every scanned venv is judged against the module.
    let empty = work.join("empty.conf");
    std::fs::write(&empty, "").unwrap();
    let (code, r) = check_json(&[
        s(&st.py312),
        s(&st.deb311),
        "--apache-config",
        s(&empty),
        "--mod-wsgi",
        s(&module),
        "--check",
        "mod-wsgi",
    ]);
    assert_eq!(code, 1);
    let venvs: Vec<String> =
        with_id(&r, "mod-wsgi-abi-mismatch").iter().map(|f| f["venv"].as_str().unwrap().to_owned()).collect();
    assert_eq!(venvs, vec![s(&st.deb311).to_owned()]);
    assert_eq!(all_findings(&r).len(), 1);
    let (code, _, stderr) = run_raw(&["check", s(&st.py312), "--mod-wsgi", "/nonexistent/mod_wsgi.so"]);
    assert_eq!(code, 2, "{stderr}");
}

/// Under `--root` every path is read inside the tree and reported as seen from inside it.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn apache_config_is_read_inside_root() {
    let work = TempDir::new();
    let r = work.join("tree");
    let w = |p: &str, text: &str| {
        let f = r.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    };
    w(
        "etc/apache2/apache2.conf",
        "Include ports.conf\nIncludeOptional mods-enabled/*.load\nIncludeOptional sites-enabled/*.conf\n",
    );
    w("etc/apache2/ports.conf", "Listen 80\n");
    w("etc/apache2/mods-enabled/wsgi.load", &format!("LoadModule wsgi_module {DEBIAN_MOD_WSGI}\n"));
    w(
        "etc/apache2/sites-enabled/app.conf",
        "<VirtualHost *:80>\n  WSGIDaemonProcess shop python-home=/srv/shop\n  WSGIDaemonProcess old python-home=/srv/gone\n  WSGIDaemonProcess sys python-home=/usr\n</VirtualHost>\n",
    );
    // A plain installation prefix is a legal python-home; this one has 3.11 among others.
    w("usr/lib/python3.11/os.py", "");
    w("usr/lib/python3.12/os.py", "");
    std::fs::create_dir_all(r.join("usr/lib/apache2/modules")).unwrap();
    std::fs::copy(DEBIAN_MOD_WSGI, r.join("usr/lib/apache2/modules/mod_wsgi.so")).unwrap();
    w("srv/shop/pyvenv.cfg", "home = /usr/local/bin\ninclude-system-site-packages = false\nversion = 3.12.1\n");
    std::fs::create_dir_all(r.join("srv/shop/lib/python3.12/site-packages")).unwrap();

    let (code, rep) = check_json(&["--root", s(&r), "/srv", "--check", "mod-wsgi"]);
    assert_eq!(code, 1, "{rep:#}");
    let abi = with_id(&rep, "mod-wsgi-abi-mismatch");
    assert_eq!(abi.len(), 1, "{:#}", rep["findings"]);
    assert_eq!(abi[0]["venv"], "/srv/shop");
    assert_eq!(abi[0]["details"]["file"], "/etc/apache2/sites-enabled/app.conf");
    assert_eq!(abi[0]["details"]["line"], 2);
    assert_eq!(abi[0]["details"]["mod_wsgi"], DEBIAN_MOD_WSGI);
    let missing = with_id(&rep, "mod-wsgi-venv-missing");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["venv"], "/srv/gone");
    assert_eq!(rep["venvs"][0]["used_by"][0]["file"], "/etc/apache2/sites-enabled/app.conf");
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn uwsgi_python_plugin_is_matched_to_app_venvs() {
    let st = sites();
    let work = TempDir::new();
    // A python plugin as uwsgi-plugin-python3 builds it: linked against one libpython.
    let lib = pyenv("3.12").parent().unwrap().parent().unwrap().join("lib");
    let rpath = format!("-Wl,-rpath,{}", lib.display());
    so(
        "void uwsgi_python_plugin(void) {}\n",
        &work.join("plugins/python312_plugin.so"),
        &["-Wl,--no-as-needed", "-L", s(&lib), "-lpython3.12", &rpath],
    );
    let ini = |name: &str, body: &str| {
        let p = work.join(format!("apps/{name}.ini"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            format!("[uwsgi]\nplugin-dir = {}\nplugins = python312\n{body}", work.join("plugins").display()),
        )
        .unwrap();
        p
    };
    let a = ini("legacy", &format!("virtualenv = {}\nmodule = app:application\n", st.deb311.display()));
    let b = ini("shop", &format!("home = {}\n", st.py312.display()));
    let c = ini("gone", &format!("venv = {}\n", work.join("gone/venv").display()));
    let (code, r) = check_json(&[
        s(&st.deb311),
        s(&st.py312),
        s(work.path()),
        "--uwsgi-config",
        s(&a),
        "--uwsgi-config",
        s(&b),
        "--uwsgi-config",
        s(&c),
        "--check",
        "uwsgi",
    ]);
    assert_eq!(code, 1);
    let abi = with_id(&r, "uwsgi-abi-mismatch");
    assert_eq!(abi.len(), 1, "{:#}", r["findings"]);
    assert_eq!(abi[0]["venv"], s(&st.deb311));
    assert_eq!(abi[0]["details"]["line"], 4);
    assert_eq!(abi[0]["details"]["plugin_python"], "3.12");
    assert!(abi[0]["message"].as_str().unwrap().contains("libpython3.12.so.1.0 from"), "{:#}", abi[0]);
    let missing = with_id(&r, "uwsgi-venv-missing");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["details"]["app"], "gone");
    assert_eq!(all_findings(&r).len(), 2);
    let shop = r["venvs"].as_array().unwrap().iter().find(|v| v["path"] == s(&st.py312)).unwrap();
    assert_eq!(shop["used_by"][0]["kind"], "uwsgi");
    assert_eq!(shop["used_by"][0]["group"], "shop");
}

/// Whether the real loader maps `file` into a process of the venv's interpreter (ctypes
/// dlopen, whose caller chain is _ctypes -> libpython -> python, like an import's).
fn dlopen_truth(venv: &Path, file: &Path) -> bool {
    let code =
        "import ctypes, sys\ntry:\n    ctypes.CDLL(sys.argv[1])\nexcept OSError as e:\n    print(e)\n    sys.exit(3)\n";
    let out = Command::new(venv.join("bin/python")).arg("-c").arg(code).arg(file).output().unwrap();
    match out.status.code() {
        Some(0) => true,
        Some(3) => false,
        _ => panic!("the oracle itself failed on {}: {out:?}", file.display()),
    }
}

/// auditwheel's layout, judged as glibc's loader judges it: a bundled library without a
/// search path of its own finds its siblings through the DT_RPATH of the module that loads
/// it (inherited down the load chain), but not through a DT_RUNPATH (direct dependencies
/// only); a soname already mapped satisfies a later DT_NEEDED. Each verdict is checked
/// against the real loader first.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn bundled_libraries_are_judged_through_the_load_chain() {
    let work = TempDir::new();
    let v = work.join("venv");
    make_bare_venv(&pyenv("3.12"), &v);
    let sp = sp(&v);
    let tag = "cpython-312-x86_64-linux-gnu";
    // Two packages laid out alike: leaf <- mid (no RPATH/RUNPATH) <- module.
    for (pkg, dtags) in [("rpathpkg", "--disable-new-dtags"), ("runpathpkg", "--enable-new-dtags")] {
        let libs = sp.join(format!("{pkg}.libs"));
        let leaf = libs.join("libleaf-0a1b2c.so.1");
        let mid = libs.join("libmid-3d4e5f.so.2");
        so("void leaf(void) {}\n", &leaf, &["-Wl,-soname,libleaf-0a1b2c.so.1"]);
        so(
            "extern void leaf(void);\nvoid mid(void) { leaf(); }\n",
            &mid,
            &["-Wl,-soname,libmid-3d4e5f.so.2", s(&leaf)],
        );
        let rpath = format!("-Wl,-rpath,$ORIGIN/../{pkg}.libs");
        let dt = format!("-Wl,{dtags}");
        so(
            "extern void mid(void);\nvoid PyInit__core(void) { mid(); }\n",
            &sp.join(format!("{pkg}/_core.{tag}.so")),
            &[s(&mid), &rpath, &dt],
        );
        // mid has no search path: the leaf is found only through the module's.
        let d = readelf("-d", &mid);
        assert!(!d.contains("RPATH") && !d.contains("RUNPATH"), "{d}");
        assert!(d.contains("libleaf-0a1b2c.so.1"), "{d}");
    }
    // The same with the module also linking the leaf directly: the leaf is mapped (through
    // RUNPATH) before mid asks for it by soname.
    let libs = sp.join("preloadpkg.libs");
    let leaf = libs.join("libleaf-6a7b8c.so.1");
    let mid = libs.join("libmid-9d0e1f.so.2");
    so("void leaf(void) {}\n", &leaf, &["-Wl,-soname,libleaf-6a7b8c.so.1"]);
    so("extern void leaf(void);\nvoid mid(void) { leaf(); }\n", &mid, &["-Wl,-soname,libmid-9d0e1f.so.2", s(&leaf)]);
    so(
        "extern void mid(void);\nextern void leaf(void);\nvoid PyInit__core(void) { leaf(); mid(); }\n",
        &sp.join(format!("preloadpkg/_core.{tag}.so")),
        &["-Wl,--no-as-needed", s(&leaf), s(&mid), "-Wl,-rpath,$ORIGIN/../preloadpkg.libs", "-Wl,--enable-new-dtags"],
    );

    let module = |pkg: &str| sp.join(format!("{pkg}/_core.{tag}.so"));
    // Each package loads its module when imported, so a module that fails fails the package.
    for pkg in ["rpathpkg", "runpathpkg", "preloadpkg"] {
        std::fs::write(sp.join(pkg).join("__init__.py"), "from . import _core\n").unwrap();
    }
    // Ground truth from the real loader.
    assert!(dlopen_truth(&v, &module("rpathpkg")), "DT_RPATH is inherited down the chain");
    assert!(!dlopen_truth(&v, &module("runpathpkg")), "DT_RUNPATH is not inherited");
    assert!(dlopen_truth(&v, &module("preloadpkg")), "a mapped soname satisfies a later DT_NEEDED");
    // A bundled library loaded alone fails: it is not how anything loads it.
    assert!(!dlopen_truth(&v, &sp.join("rpathpkg.libs/libmid-3d4e5f.so.2")));

    let (code, r) = check_json(&[s(&v), "--check", "extensions"]);
    let missing = with_id(&r, "extension-missing-library");
    assert_eq!(missing.len(), 1, "{:#}", r["findings"]);
    assert_eq!(all_findings(&r).len(), 1, "{:#}", r["findings"]);
    let f = &missing[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["details"]["reachability"], "top-level-import", "{f:#}");
    assert!(same_path(f["details"]["file"].as_str().unwrap(), &module("runpathpkg")), "{f:#}");
    assert_eq!(f["details"]["libraries"], serde_json::json!(["libleaf-0a1b2c.so.1"]));
    let chain: Vec<String> = f["details"]["chains"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(chain, [format!("_core.{tag}.so"), "libmid-3d4e5f.so.2".into(), "libleaf-0a1b2c.so.1".into()]);
    assert!(f["message"].as_str().unwrap().contains("needed by"), "{f:#}");
    assert_eq!(code, 1);
}

/// LD_LIBRARY_PATH is searched only when a service that uses the venv sets it: a module whose
/// library lives in a private directory is a finding, unless the systemd unit that runs the
/// venv puts that directory on LD_LIBRARY_PATH (as the real loader then finds it).
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn a_services_library_path_is_searched() {
    let work = TempDir::new();
    let v = work.join("venv");
    make_bare_venv(&pyenv("3.12"), &v);
    let optlib = work.join("opt/vendor/lib");
    so("void vendor(void) {}\n", &optlib.join("libvavendor.so.1"), &["-Wl,-soname,libvavendor.so.1"]);
    let module = sp(&v).join("usesvendor.cpython-312-x86_64-linux-gnu.so");
    so(
        "extern void vendor(void);\nvoid PyInit_usesvendor(void) { vendor(); }\n",
        &module,
        &[s(&optlib.join("libvavendor.so.1"))],
    );
    // The truth: the loader fails without the variable and succeeds with it.
    assert!(!dlopen_truth(&v, &module));
    let with_env = Command::new(v.join("bin/python"))
        .env("LD_LIBRARY_PATH", &optlib)
        .args(["-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])"])
        .arg(&module)
        .status()
        .unwrap();
    assert!(with_env.success());

    let with_unit = work.join("conf-with-unit");
    let unit = format!(
        "[Service]\nEnvironment=\"LD_LIBRARY_PATH={}\" LANG=C\nExecStart={}/bin/python -m app\n",
        optlib.display(),
        v.display()
    );
    support::write(&with_unit.join("etc/systemd/system/app.service"), unit);
    let empty = work.join("conf-empty");
    mkdirs(&empty);

    let (code, r) = check_json(&[s(&v), "--check", "extensions", "--config-root", s(&empty), "--no-processes"]);
    assert_eq!(code, 1);
    let m = with_id(&r, "extension-missing-library");
    assert_eq!(m.len(), 1, "{:#}", r["findings"]);
    assert_eq!(m[0]["details"]["libraries"], serde_json::json!(["libvavendor.so.1"]));

    let (code, r) = check_json(&[s(&v), "--check", "extensions", "--config-root", s(&with_unit), "--no-processes"]);
    assert_eq!((code, all_findings(&r)), (0, vec![]));
    // The unit was really read: the venv is used by it.
    assert_eq!(r["venvs"][0]["used_by"][0]["group"], "app.service", "{:#}", r["venvs"][0]);
}

/// A module built for another CPython under this one's file name (the tag is right, the
/// content is not): it references a C-API symbol the interpreter does not define, and CPython
/// loads modules with RTLD_NOW, so the import fails. A module using only symbols the
/// interpreter defines (a static Debian interpreter and a shared pyenv one) is fine.
#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, Apache mod_wsgi (scripts/test.sh runs it)"]
fn modules_needing_symbols_the_interpreter_lacks_are_found() {
    let work = TempDir::new();
    for (name, python, tag) in [
        ("pyenv312", pyenv("3.12"), "cpython-312-x86_64-linux-gnu"),
        ("deb311", PathBuf::from(DEBIAN_PY), "cpython-311-x86_64-linux-gnu"),
    ] {
        let v = work.join(name);
        make_bare_venv(&python, &v);
        let good = sp(&v).join(format!("usesapi.{tag}.so"));
        so(
            "extern void *PyUnicode_FromString(const char *);\nvoid *PyInit_usesapi(void) { return PyUnicode_FromString(\"x\"); }\n",
            &good,
            &[],
        );
        let bad = sp(&v).join(format!("oldapi.{tag}.so"));
        so(
            "extern int _PyVenvaudit_Gone(void *);\nint PyInit_oldapi(void) { return _PyVenvaudit_Gone(0); }\n",
            &bad,
            &[],
        );
        assert!(dlopen_truth(&v, &good), "{name}");
        assert!(!dlopen_truth(&v, &bad), "{name}");
        let (code, r) = check_json(&[s(&v), "--check", "extensions"]);
        let f = with_id(&r, "extension-abi-mismatch");
        assert_eq!(f.len(), 1, "{name}: {:#}", r["findings"]);
        assert_eq!(all_findings(&r).len(), 1, "{name}: {:#}", r["findings"]);
        assert_eq!(file_of(&f[0]), format!("oldapi.{tag}.so"));
        assert_eq!(f[0]["details"]["symbols"], serde_json::json!(["_PyVenvaudit_Gone"]));
        assert_eq!(code, 1);
    }
}
