//! The collection venvaudit.python built and installed for real ansible-core, and the helpers
//! that run plays and read what they left, shared by tests/ansible.rs and
//! tests/remediate_ansible.rs (tests/support/mod.rs does not include it).
//!
//! Use from a test file that also has `mod support;`:
//!
//! ```ignore
//! #[path = "support/ansible.rs"]
//! mod ansible_support;
//! ```
#![allow(dead_code)]

use crate::support::{self, check as run};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use venvaudit::ansible::argspec::Opt;

/// The collection, built with ansible/build.sh around this build's binary and installed with
/// `ansible-galaxy collection install`.
pub struct Collection {
    /// Scratch directory of this test run (removed at exit unless VENVAUDIT_KEEP_TEMP=1).
    pub tmp: PathBuf,
    /// bin/ of the tools venv (ansible-playbook, ansible-doc, python).
    pub tools: PathBuf,
    /// ANSIBLE_COLLECTIONS_PATH with venvaudit.python installed.
    pub collections: PathBuf,
    /// The module binary (a stripped copy of this build's venvaudit).
    pub module: PathBuf,
}

/// Build the collection around this build's binary (stripped, so the collection stays small)
/// and install it into a fresh collections path.
pub fn install_collection() -> Collection {
    let tools = support::tools_venv().join("bin");
    assert!(tools.join("ansible-playbook").exists(), "ansible-core missing from the tools venv: run scripts/setup.sh");
    let tmp = support::TempDir::new().remove_at_exit();

    let module = tmp.join("venvaudit");
    run(Command::new("strip").arg("-o").arg(&module).arg(support::venvaudit()));

    let dist = tmp.join("dist");
    run(Command::new("bash")
        .arg(support::repo_root().join("ansible/build.sh"))
        .env("VENVAUDIT_MODULE_BINARY", &module)
        .env("VENVAUDIT_OUT", &dist)
        .env("VENVAUDIT_TOOLS_VENV", tools.parent().unwrap()));
    let tarball = dist.join(format!("venvaudit-python-{}.tar.gz", env!("CARGO_PKG_VERSION")));
    let collections = tmp.join("collections");
    run(Command::new(tools.join("ansible-galaxy"))
        .args(["collection", "install", "-p"])
        .arg(&collections)
        .arg(&tarball)
        .env("ANSIBLE_COLLECTIONS_PATH", &collections));
    Collection { tmp, tools, collections, module }
}

/// A fresh directory `tmp/t/NAME` for one test.
pub fn test_dir(tmp: &Path, name: &str) -> PathBuf {
    let d = tmp.join("t").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `cmd` (ansible-playbook, ansible-doc) with the installed collection and a quiet, local
/// configuration (temporary directories under `tmp`, no ansible.cfg).
pub fn ansible_env<'a>(cmd: &'a mut Command, collections: &Path, tmp: &Path) -> &'a mut Command {
    cmd.env("ANSIBLE_COLLECTIONS_PATH", collections)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", tmp.join("ansible-local"))
        .env("ANSIBLE_REMOTE_TEMP", tmp.join("ansible-remote"))
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env_remove("ANSIBLE_CONFIG")
}

/// Run `playbook` with ansible-playbook `cmd` on localhost (local connection) with `extra` as
/// extra vars and `args`; its stdout and stderr also go to `log`.
pub fn run_play(cmd: &mut Command, extra: &Value, args: &[&str], playbook: impl AsRef<OsStr>, log: &Path) -> Output {
    let out = cmd
        .args(["-i", "localhost,", "-c", "local", "-e"])
        .arg(extra.to_string())
        .args(args)
        .arg(playbook)
        .output()
        .expect("run ansible-playbook");
    std::fs::write(log, [&out.stdout[..], b"\n--- stderr ---\n", &out.stderr[..]].concat()).unwrap();
    out
}

pub fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

pub fn ok(out: &Output) {
    assert!(out.status.success(), "ansible-playbook failed:\n{}", text(out));
}

pub fn read_json(path: &Path) -> Value {
    let s = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{s}", path.display()))
}

/// Task that writes an expression (e.g. a registered variable) to OUT/NAME.json (also in check
/// mode).
pub fn save(expr: &str, name: &str) -> String {
    format!(
        "    - ansible.builtin.copy:\n        dest: \"{{{{ out }}}}/{name}.json\"\n        content: \"{{{{ {expr} | to_json }}}}\"\n        mode: \"0644\"\n      check_mode: false\n"
    )
}

/// `ansible-doc -j NAME` through `cmd` (ansible-doc with its options): NAME's entry.
pub fn doc_json(cmd: &mut Command, name: &str) -> Value {
    let out = run(cmd.arg("-j").arg(name));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v[name].clone()
}

/// The documented options agree with the module's argument spec: names, types, elements,
/// choices, defaults and required.
pub fn assert_doc_matches_spec(doc_opts: &Value, spec: &[Opt], module: &str) {
    let documented: BTreeSet<&str> = doc_opts.as_object().unwrap().keys().map(String::as_str).collect();
    let specified: BTreeSet<&str> = spec.iter().map(|o| o.name).collect();
    assert_eq!(documented, specified, "{module}: documented vs implemented options");
    use venvaudit::ansible::argspec::{Elem, Kind};
    for o in spec {
        let d = &doc_opts[o.name];
        let (ty, elements) = match o.kind {
            Kind::Str => ("str", None),
            Kind::Path => ("path", None),
            Kind::Bool => ("bool", None),
            Kind::Int => ("int", None),
            Kind::List(Elem::Str) => ("list", Some("str")),
            Kind::List(Elem::Path) => ("list", Some("path")),
            Kind::List(Elem::Dict(sub)) => {
                assert_doc_matches_spec(&d["suboptions"], sub, &format!("{module}.{}", o.name));
                ("list", Some("dict"))
            }
        };
        assert_eq!(d["type"], json!(ty), "{module}.{} type", o.name);
        assert_eq!(d.get("elements").and_then(Value::as_str), elements, "{module}.{} elements", o.name);
        let choices: Vec<&str> = d
            .get("choices")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(choices, o.choices, "{module}.{} choices", o.name);
        let default: Value = serde_json::from_str(o.default).unwrap();
        assert_eq!(d.get("default").cloned().unwrap_or(Value::Null), default, "{module}.{} default", o.name);
        assert_eq!(
            d.get("required").and_then(Value::as_bool).unwrap_or(false),
            o.required,
            "{module}.{} required",
            o.name
        );
    }
}

/// The module source ansible/plugins/modules/MODULE.py carries no list of choices of its own:
/// build.sh writes them from the binary's argspec.
pub fn assert_choices_left_to_build(module: &str) {
    let src =
        std::fs::read_to_string(support::repo_root().join(format!("ansible/plugins/modules/{module}.py"))).unwrap();
    for line in src.lines().filter(|l| l.trim_start().starts_with("choices:")) {
        assert!(line.trim_start().starts_with("choices: []  # written by ansible/build.sh"), "{module}: {line}");
    }
}
