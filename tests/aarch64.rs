//! aarch64: the shipped arm64 binary and a real arm64 Debian image.
//!
//! Real-tool tier (`#[ignore]`d in plain `cargo test`; scripts/test.sh runs it). Needs what
//! scripts/setup.sh installs when aarch64 is wanted (the default on x86_64): qemu-user,
//! `.tools/bin/qemu-aarch64-static`, the arm64 trixie tree `.tools/arm64-trixie`, real aarch64
//! wheels in `.tools/wheels-aarch64`, gcc-aarch64-linux-gnu; and the two zig-built release
//! binaries ansible/build.sh makes (`target/{x86_64,aarch64}-unknown-linux-gnu/release/venvaudit`,
//! scripts/test.sh builds them first). A missing prerequisite fails the test.
//!
//! Programs of the arm64 image run for real, emulated: a user and mount namespace of the test's
//! own gets a binfmt_misc instance (Linux >= 6.7 gives each user namespace its own) where
//! qemu-aarch64-static is the handler of aarch64 ELF files, so `chroot IMAGE /usr/bin/python3`
//! works as on an arm64 host; nothing is registered for the machine.

#[path = "support/shipped.rs"]
mod shipped;
mod support;

use serde_json::Value;
use shipped::{GLIBC_FLOOR, assert_shipped_for, release_binary};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{Creator, TempDir, check, check_stdout, findings, make_venv, pip_install, py_cmd, pyenv, run_json_cmd};

/// A file scripts/setup.sh put under .tools (named by an env.sh variable, else the default).
fn tools_path(var: &str, default: &str) -> PathBuf {
    let p = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| support::repo_root().join(default));
    assert!(p.exists(), "{} is missing: run scripts/setup.sh (aarch64 wanted: VENVAUDIT_ARCHS)", p.display());
    p
}

fn arm64_tree() -> PathBuf {
    tools_path("VENVAUDIT_ARM64_TREE", ".tools/arm64-trixie")
}

fn qemu_static() -> PathBuf {
    support::repo_root().join(".tools/bin/qemu-aarch64-static")
}

/// The aarch64 binary run by qemu-aarch64 (user-mode emulation, the host's libraries: the zig
/// build needs only libc, libm, libpthread, libdl and the loader of libc6:arm64).
fn qemu_venvaudit() -> Command {
    let mut c = Command::new("qemu-aarch64");
    c.arg(release_binary("aarch64"));
    c
}

/// The binfmt_misc registration of aarch64 ELF executables (magic and mask as Debian's
/// qemu-user-static registers them; the kernel decodes the `\x` escapes). F: the kernel opens
/// the handler now, so it runs inside a chroot that has no such file.
fn binfmt_registration(qemu: &Path) -> String {
    format!(
        r":venvaudit-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:{}:F",
        qemu.display()
    )
}

/// `sh -c script` as root of a new user and mount namespace whose binfmt_misc runs aarch64
/// programs with qemu-aarch64-static. `work` holds the binfmt_misc mount point.
fn emulated(work: &Path, script: &str) -> Command {
    let qemu = qemu_static();
    assert!(qemu.is_file(), "{} is missing: run scripts/setup.sh", qemu.display());
    let mnt = work.join("binfmt_misc");
    support::mkdirs(&mnt);
    let mut c = Command::new("unshare");
    c.args(["--user", "--map-root-user", "--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "set -e; mount -t binfmt_misc binfmt_misc \"$VA_BINFMT\" || {{ echo 'cannot mount binfmt_misc in a user namespace: Linux >= 6.7 with user namespaces is needed' >&2; exit 97; }}; printf '%s' \"$VA_REGISTER\" >\"$VA_BINFMT/register\"; {script}"
        ))
        .env("VA_BINFMT", &mnt)
        .env("VA_REGISTER", binfmt_registration(&qemu));
    c
}

/// A private copy of the arm64 trixie tree (tests add venvs to it).
fn image_copy(work: &Path) -> PathBuf {
    let image = work.join("arm64-trixie");
    support::copy_tree(&arm64_tree(), &image);
    image
}

fn parse(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// A report with what depends on the run itself removed: the time, how long the OSV database
/// took to load, the binary's own machine and the warning about processes the scan could not
/// inspect (the set of processes differs between two runs, and qemu is one more).
fn comparable(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    o.remove("generated_at");
    if let Some(db) = o.get_mut("osv_db").and_then(Value::as_object_mut) {
        db.remove("load_ms");
    }
    o["tool"].as_object_mut().unwrap().remove("arch");
    if let Some(w) = o.get_mut("warnings").and_then(Value::as_array_mut) {
        w.retain(|w| !w.as_str().unwrap_or("").contains("processes could not be inspected"));
    }
    v
}

/// The JSON pointers where `a` and `b` differ (at most 20), for a readable failure.
fn differences(a: &Value, b: &Value) -> Vec<String> {
    fn walk(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
        if out.len() >= 20 || a == b {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    walk(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), format!("{at}/{k}"), out);
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(p, q, format!("{at}/{i}"), out);
                }
            }
            _ => out.push(format!("{at}: {} != {}", short(a), short(b))),
        }
    }
    fn short(v: &Value) -> String {
        let s = v.to_string();
        if s.len() > 300 { format!("{}...", &s[..s.floor_char_boundary(300)]) } else { s }
    }
    let mut out = Vec::new();
    walk(a, b, String::new(), &mut out);
    out
}

/// Two reports agree apart from what [`comparable`] removes.
fn assert_same_report(emulated: Value, native: Value, what: &str) {
    let diff = differences(&comparable(emulated), &comparable(native));
    assert!(diff.is_empty(), "{what}: the aarch64 binary (qemu) and the x86_64 binary differ at:\n{}", diff.join("\n"));
}

/// `aarch64-linux-gnu-gcc -shared -fPIC ARGS -o OUT INPUTS...`: a small aarch64 ELF fixture.
fn aarch64_shared_object(out: &Path, args: &[&str], inputs: &[&Path]) {
    check(Command::new("aarch64-linux-gnu-gcc").args(["-shared", "-fPIC"]).args(args).arg("-o").arg(out).args(inputs));
}

#[test]
#[ignore = "real-tool tier: needs the aarch64 release binary ansible/build.sh builds with Debian's cross toolchain (scripts/test.sh)"]
fn the_aarch64_binary_is_arm64_and_needs_glibc_2_17_at_most() {
    assert_shipped_for(&release_binary("aarch64"), "aarch64", GLIBC_FLOOR);
    // And the same floor as the x86_64 one, so a fleet's oldest hosts run both.
    assert_shipped_for(&release_binary("x86_64"), "x86_64", GLIBC_FLOOR);
    let out = check_stdout(qemu_venvaudit().arg("--version"));
    assert_eq!(out.trim(), format!("venvaudit {}", env!("CARGO_PKG_VERSION")));
}

/// Real venvs (pip, virtualenv, uv; compiled wheels; a vulnerable Django), scanned by the x86_64
/// binary natively and by the aarch64 binary under qemu: the same facts and the same findings.
/// Both judge the host from its files (the machine of its libc), so even `host.arch` agrees;
/// only `tool.arch` says which binary ran.
#[test]
#[ignore = "real-tool tier: needs qemu-aarch64, both release binaries, pyenv Pythons and the offline wheelhouse (scripts/test.sh)"]
fn facts_and_check_under_qemu_equal_the_x86_64_binarys() {
    let work = TempDir::new();
    let a = work.join("app-venv");
    make_venv(Creator::Venv, &pyenv("3.12"), &a);
    pip_install(&a, &["numpy", "pyyaml", "cryptography", "django==3.2"]);
    let b = work.join("tool-virtualenv");
    make_venv(Creator::Virtualenv, &pyenv("3.11"), &b);
    pip_install(&b, &["requests", "pillow"]);
    let c = work.join("uv-venv");
    make_venv(Creator::Uv, &pyenv("3.13"), &c);
    pip_install(&c, &["psycopg2-binary", "six"]);
    let osv = support::shared_data("osv-pypi.zip");
    let x86 = release_binary("x86_64");
    let paths = [&a, &b, &c];

    let facts_native = parse(&check_stdout(Command::new(&x86).arg("facts").args(paths)));
    let facts_qemu = parse(&check_stdout(qemu_venvaudit().arg("facts").args(paths)));
    assert_eq!(facts_native["tool"]["arch"], "x86_64");
    assert_eq!(facts_qemu["tool"]["arch"], "aarch64", "the aarch64 binary ran");
    assert_eq!(facts_native["venvs"].as_array().unwrap().len(), 3, "{facts_native:#}");
    assert_same_report(facts_qemu, facts_native, "facts");

    let check_args = |cmd: &mut Command| {
        cmd.arg("check").arg("--osv-db").arg(&osv).args(paths);
    };
    let mut native = Command::new(&x86);
    check_args(&mut native);
    let (native_code, check_native, _) = run_json_cmd(&mut native);
    let mut emulated = qemu_venvaudit();
    check_args(&mut emulated);
    let (qemu_code, check_qemu, err) = run_json_cmd(&mut emulated);
    assert_eq!(qemu_code, native_code, "{err}");
    let ids: BTreeSet<&str> = findings(&check_native).iter().filter_map(|f| f["id"].as_str()).collect();
    assert!(ids.contains("vulnerability"), "Django 3.2 is found vulnerable: {ids:?}");
    assert_same_report(check_qemu, check_native, "check");
}

/// `check --root` of a real arm64 Debian trixie image, with a venv its own Python made (run
/// emulated in a chroot), real aarch64 wheels, an x86_64 wheel copied in, and two extension
/// modules built with aarch64-linux-gnu-gcc: one needing the image's libz, one needing a
/// library nowhere in the image. Truth: the image's own loader (its Python's ctypes, emulated)
/// loads exactly the files venvaudit does not flag; `getconf GNU_LIBC_VERSION` of the image is
/// the glibc venvaudit reports. The aarch64 binary (qemu) reports the same as the x86_64 one.
#[test]
#[ignore = "real-tool tier: needs the arm64 trixie tree, qemu-aarch64-static, aarch64 wheels and gcc-aarch64-linux-gnu (scripts/setup.sh)"]
fn root_scan_of_an_arm64_debian_image_judges_its_glibc_loader_and_machine() {
    let work = TempDir::new();
    let image = image_copy(work.path());
    let venv_in_image = "/srv/app/venv";
    let venv = image.join(venv_in_image.trim_start_matches('/'));

    // The image's Python makes the venv, and tells its glibc.
    let made = check_stdout(emulated(
        work.path(),
        &format!(
            "chroot \"$IMAGE\" /usr/bin/python3 -m venv --without-pip {venv_in_image} && chroot \"$IMAGE\" /usr/bin/getconf GNU_LIBC_VERSION && chroot \"$IMAGE\" /usr/bin/uname -m"
        ),
    )
    .env("IMAGE", &image));
    let lines: Vec<&str> = made.lines().collect();
    assert_eq!(lines.last().copied(), Some("aarch64"), "the image's programs run as aarch64: {made}");
    let image_glibc = lines[lines.len() - 2].strip_prefix("glibc ").expect("getconf GNU_LIBC_VERSION").to_owned();
    let site = support::site_packages(&venv).expect("the venv has a site-packages");
    let xy = site.parent().unwrap().file_name().unwrap().to_str().unwrap().trim_start_matches("python").to_owned();

    // Real aarch64 wheels, installed by real pip for the image's Python.
    let target_install = |platforms: &[&str], links: &Path, reqs: &[&str]| {
        let mut cmd = py_cmd(support::tools_bin("python"));
        cmd.args(["-m", "pip", "install", "--no-index", "--no-deps", "--only-binary=:all:", "--find-links"])
            .arg(links)
            .args(["--implementation", "cp", "--python-version", &xy, "--abi", &format!("cp{}", xy.replace('.', ""))])
            .arg("--target")
            .arg(&site);
        for p in platforms {
            cmd.args(["--platform", p]);
        }
        check(cmd.args(reqs));
    };
    let aarch64_wheels = tools_path("VENVAUDIT_AARCH64_WHEELS", ".tools/wheels-aarch64");
    target_install(
        &["manylinux_2_28_aarch64", "manylinux2014_aarch64"],
        &aarch64_wheels,
        &["numpy", "pyyaml", "psycopg2-binary"],
    );
    // An x86_64 wheel, as a venv copied from an x86_64 build host carries it.
    target_install(
        &["manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"],
        &support::wheels(),
        &["cryptography"],
    );

    // Two extension modules compiled for aarch64: one needs the image's libz.so.1, one a
    // library the image does not have (linked against a stub that is then removed).
    let src = work.join("src");
    support::write(&src.join("ext.c"), "int venvaudit_fixture(void) { return 42; }\n");
    support::write(&src.join("stub.c"), "int venvaudit_absent(void) { return 1; }\n");
    let libz = image.join("usr/lib/aarch64-linux-gnu/libz.so.1");
    assert!(libz.exists(), "the image has libz.so.1");
    let ext_suffix = format!("cpython-{}-aarch64-linux-gnu.so", xy.replace('.', ""));
    let ext_c = src.join("ext.c");
    aarch64_shared_object(&site.join(format!("withz.{ext_suffix}")), &["-Wl,--no-as-needed"], &[&ext_c, &libz]);
    let stub = src.join("libvenvaudit-absent.so.1");
    aarch64_shared_object(&stub, &["-Wl,-soname,libvenvaudit-absent.so.1"], &[&src.join("stub.c")]);
    aarch64_shared_object(&site.join(format!("needsabsent.{ext_suffix}")), &["-Wl,--no-as-needed"], &[&ext_c, &stub]);
    std::fs::remove_file(&stub).unwrap();

    // Truth: the image's loader, through its Python's ctypes (dlopen, RTLD_NOW), for every
    // shared object of the venv outside the bundled-library directories.
    let probe = "import ctypes, json, os, sys\n\
                 out = {}\n\
                 for d, _, fs in os.walk(sys.argv[1]):\n\
                 \x20   if d.endswith('.libs'):\n\
                 \x20       continue\n\
                 \x20   for f in fs:\n\
                 \x20       if f.endswith('.so') or '.so.' in f:\n\
                 \x20           p = os.path.join(d, f)\n\
                 \x20           try:\n\
                 \x20               ctypes.CDLL(p)\n\
                 \x20               out[p] = 'loads'\n\
                 \x20           except OSError as e:\n\
                 \x20               out[p] = str(e)\n\
                 print(json.dumps(out))\n";
    support::write(&image.join("srv/probe.py"), probe);
    let site_in_image = format!("/{}", site.strip_prefix(&image).unwrap().display());
    let truth_out = check_stdout(
        emulated(work.path(), &format!("chroot \"$IMAGE\" {venv_in_image}/bin/python /srv/probe.py {site_in_image}"))
            .env("IMAGE", &image),
    );
    let truth: BTreeMap<String, String> = serde_json::from_str(truth_out.lines().last().unwrap()).unwrap();
    let name = |p: &str| p.rsplit('/').next().unwrap().to_owned();
    let fails: BTreeSet<String> = truth.iter().filter(|(_, v)| *v != "loads").map(|(p, _)| name(p)).collect();
    let loads: BTreeSet<String> = truth.iter().filter(|(_, v)| *v == "loads").map(|(p, _)| name(p)).collect();
    assert!(loads.contains(&format!("withz.{ext_suffix}")), "the image's libz satisfies withz: {truth:#?}");
    assert!(loads.contains(&format!("_yaml.{ext_suffix}")), "PyYAML's aarch64 module loads: {truth:#?}");
    // The image (Debian's essential set and python3) has no libstdc++: numpy's C++ modules do
    // not load there, as on a minimal arm64 container.
    assert!(fails.contains(&format!("_multiarray_umath.{ext_suffix}")), "{truth:#?}");
    assert!(fails.contains(&format!("needsabsent.{ext_suffix}")), "{truth:#?}");
    assert!(fails.iter().any(|n| n.starts_with("_rust.abi3")), "cryptography's x86_64 module fails: {truth:#?}");

    // venvaudit, from the files alone: natively and as the aarch64 binary under qemu.
    let scan = |cmd: &mut Command| -> Value {
        cmd.arg("check").arg("--root").arg(&image).args(["--check", "extensions", "--check", "interpreter"]);
        let (code, v, err) = run_json_cmd(cmd);
        support::assert_ran(code, &err);
        v
    };
    let native = scan(&mut Command::new(release_binary("x86_64")));
    let emulated_report = scan(&mut qemu_venvaudit());
    assert_same_report(emulated_report, native.clone(), "check --root");

    let host = &native["host"];
    assert_eq!(host["arch"], "aarch64", "{host:#}");
    assert_eq!(host["glibc"].as_str(), Some(image_glibc.as_str()), "getconf in the image says {image_glibc}: {host:#}");
    assert!(host["os"].as_str().unwrap_or("").contains("trixie"), "{host:#}");
    assert!(
        host["evidence"]["arch"].as_str().unwrap_or("").contains("/usr/lib/aarch64-linux-gnu/libc.so.6")
            || host["evidence"]["arch"].as_str().unwrap_or("").contains("/lib/aarch64-linux-gnu/libc.so.6"),
        "{host:#}"
    );
    let venvs = support::venvs(&native);
    let v = venvs
        .iter()
        .find(|v| v["path"] == venv_in_image)
        .unwrap_or_else(|| panic!("{venv_in_image} found: {native:#}"));
    assert_eq!(v["python"]["machine"], "aarch64");
    assert_eq!(v["python"]["base_exists"], true);
    assert!(v["python"]["version"].as_str().unwrap().starts_with(&format!("{xy}.")), "{v:#}");

    // Exactly the files the loader refused are flagged, each for its reason (an error, or a
    // warning when no top-level import of the venv reaches the file).
    let flagged: BTreeMap<String, String> = findings(&native)
        .iter()
        .filter(|f| f["id"].as_str().is_some_and(|id| id.starts_with("extension-")))
        .map(|f| (name(f["details"]["file"].as_str().unwrap_or("")), f["id"].as_str().unwrap().to_owned()))
        .collect();
    let flagged_names: BTreeSet<String> = flagged.keys().cloned().collect();
    assert_eq!(flagged_names, fails, "venvaudit's errors are the loader's failures: {flagged:#?}\ntruth: {truth:#?}");
    let rust = flagged.iter().find(|(n, _)| n.starts_with("_rust.abi3")).unwrap();
    assert_eq!(rust.1, "extension-arch-mismatch");
    assert_eq!(flagged[&format!("needsabsent.{ext_suffix}")], "extension-missing-library");
    let missing_libraries = |file: &str| -> Value {
        findings(&native)
            .iter()
            .find(|f| {
                f["id"] == "extension-missing-library" && name(f["details"]["file"].as_str().unwrap_or("")) == file
            })
            .unwrap_or_else(|| panic!("no extension-missing-library for {file}"))["details"]["libraries"]
            .clone()
    };
    assert_eq!(
        missing_libraries(&format!("needsabsent.{ext_suffix}")),
        serde_json::json!(["libvenvaudit-absent.so.1"])
    );
    assert_eq!(missing_libraries(&format!("_multiarray_umath.{ext_suffix}")), serde_json::json!(["libstdc++.so.6"]));
}

/// The collection ansible/build.sh assembled (target/ansible, scripts/test.sh builds it with
/// every architecture the machine can build), installed into `collections`.
fn install_built_collection(collections: &Path) {
    let tarball =
        support::repo_root().join(format!("target/ansible/venvaudit-python-{}.tar.gz", env!("CARGO_PKG_VERSION")));
    assert!(
        tarball.is_file(),
        "{} is missing: ansible/build.sh builds it (scripts/test.sh runs it)",
        tarball.display()
    );
    check(
        Command::new(support::tools_bin("ansible-galaxy"))
            .args(["collection", "install", "-p"])
            .arg(collections)
            .arg(&tarball)
            .env("ANSIBLE_COLLECTIONS_PATH", collections),
    );
    let files = collections.join("ansible_collections/venvaudit/python/files");
    for arch in ["x86_64", "aarch64"] {
        let bin = files.join(format!("venvaudit-linux-{arch}"));
        assert!(bin.is_file(), "the collection carries {}", bin.display());
        assert_shipped_for(&bin, arch, GLIBC_FLOOR);
    }
}

/// A real ansible-playbook run where one managed host is an aarch64 userland: its Python is the
/// arm64 image's CPython, emulated by qemu-aarch64-static, so fact gathering reports
/// `architecture: aarch64` as on a Graviton host. The action plugin must pick
/// files/venvaudit-linux-aarch64 for it (the binary runs through the namespace's binfmt_misc,
/// and reports `tool.arch: aarch64`) and the x86_64 binary for the x86_64 host of the same play
/// (no facts gathered there: `uname -m`). Both scan the same real venv and agree on it.
#[test]
#[ignore = "real-tool tier: needs ansible-core, the collection with both binaries, the arm64 tree and qemu-aarch64-static (scripts/test.sh)"]
fn the_action_plugins_dispatch_to_the_aarch64_binary_for_an_aarch64_target() {
    let work = TempDir::new();
    let collections = work.join("collections");
    install_built_collection(&collections);
    let venv = work.join("app");
    make_venv(Creator::Venv, &pyenv("3.12"), &venv);
    pip_install(&venv, &["six"]);

    let tree = arm64_tree();
    let wrapper = work.join("arm64-python");
    support::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec {} -L {} {}/usr/bin/python3 \"$@\"\n",
            qemu_static().display(),
            tree.display(),
            tree.display()
        ),
    );
    support::set_mode(&wrapper, 0o755);
    let inventory = work.join("inventory.ini");
    support::write(
        &inventory,
        format!(
            "graviton ansible_connection=local ansible_python_interpreter={}\n\
             amd ansible_connection=local ansible_python_interpreter={}\n\
             [all:vars]\nansible_remote_tmp={}\n",
            wrapper.display(),
            support::tools_bin("python").display(),
            work.join("remote-tmp").display()
        ),
    );
    let out = work.join("out");
    support::mkdirs(&out);
    let playbook = work.join("play.yml");
    support::write(
        &playbook,
        format!(
            r#"- name: Two targets, one aarch64 (facts gathered by its own emulated Python), one x86_64 (no facts, uname -m)
  hosts: graviton:amd
  gather_facts: false
  tasks:
    - name: Gather the aarch64 target's platform facts
      ansible.builtin.setup:
        gather_subset: ["!all", "!min", "platform"]
      when: inventory_hostname == "graviton"
    - name: Facts of the venv
      venvaudit.python.venv_facts:
        paths: ["{venv}"]
      register: r
    - name: Save
      ansible.builtin.copy:
        dest: "{out}/{{{{ inventory_hostname }}}}.json"
        content: "{{{{ {{'machine': ansible_facts.architecture | default('not gathered'), 'result': r}} | to_json }}}}"
        mode: "0644"
      delegate_to: amd
"#,
            venv = venv.display(),
            out = out.display()
        ),
    );
    let ansible_playbook = support::tools_bin("ansible-playbook");
    let mut cmd = emulated(work.path(), "exec \"$VA_PLAYBOOK_BIN\" -i \"$VA_INVENTORY\" \"$VA_PLAYBOOK\"");
    cmd.env("VA_PLAYBOOK_BIN", &ansible_playbook)
        .env("VA_INVENTORY", &inventory)
        .env("VA_PLAYBOOK", &playbook)
        .env("ANSIBLE_COLLECTIONS_PATH", &collections)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", work.join("ansible-local"))
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_HOST_KEY_CHECKING", "0")
        .env_remove("ANSIBLE_CONFIG");
    let played = cmd.output().expect("run ansible-playbook");
    let log = format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&played.stdout),
        String::from_utf8_lossy(&played.stderr)
    );
    assert!(played.status.success(), "ansible-playbook failed:\n{log}");

    let read = |n: &str| -> Value {
        parse(&std::fs::read_to_string(out.join(n)).unwrap_or_else(|e| panic!("{n}: {e}\n{log}")))
    };
    let graviton = read("graviton.json");
    assert_eq!(graviton["machine"], "aarch64", "the emulated Python gathered an aarch64 target: {graviton:#}");
    let arm_facts = &graviton["result"]["ansible_facts"]["venvaudit"];
    assert_eq!(arm_facts["tool"]["arch"], "aarch64", "the aarch64 binary ran: {graviton:#}");
    let amd = read("amd.json");
    assert_eq!(amd["machine"], "not gathered", "the x86_64 target's machine comes from uname -m: {amd:#}");
    let amd_facts = &amd["result"]["ansible_facts"]["venvaudit"];
    assert_eq!(amd_facts["tool"]["arch"], "x86_64", "{amd:#}");
    let pkgs = |f: &Value| support::reported_packages(&support::venvs(f)[0]);
    assert!(pkgs(arm_facts).contains(&(
        "six".to_owned(),
        support::package(&support::venvs(amd_facts)[0], "six")["version"].as_str().unwrap().to_owned()
    )));
    assert_eq!(pkgs(arm_facts), pkgs(amd_facts));
    assert_same_report(arm_facts.clone(), amd_facts.clone(), "venv_facts");
}
