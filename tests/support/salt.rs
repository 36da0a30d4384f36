//! A masterless Salt minion driven by real `salt-call --local`, shared by tests/salt.rs and
//! tests/remediate_salt.rs (tests/support/mod.rs does not include it).
//!
//! Use from a test file that also has `mod support;`:
//!
//! ```ignore
//! #[path = "support/salt.rs"]
//! mod salt_support;
//! use salt_support::{Call, Minion};
//! ```
//!
//! salt-call is found at `$VENVAUDIT_SALT_CALL`, else `.tools/venv/bin/salt-call` (made by
//! scripts/setup.sh), else on PATH.
#![allow(dead_code)]

use crate::support;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_venvaudit");

pub fn salt_call_path() -> PathBuf {
    if let Some(p) = std::env::var_os("VENVAUDIT_SALT_CALL") {
        return PathBuf::from(p);
    }
    let tools = Path::new(REPO).join(".tools/venv/bin/salt-call");
    if tools.exists() {
        return tools;
    }
    PathBuf::from("salt-call")
}

/// A masterless minion: its config dir under `dir` (`dir/conf`), with the test's `dir/states`
/// first in file_roots, then the repo's salt/.
pub struct Minion {
    pub dir: PathBuf,
}

/// What one salt-call returned.
pub struct Call {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
}

impl Minion {
    /// A minion config under `dir`, with `states` first in file_roots, then the repo's salt/,
    /// and `extra_config` appended.
    pub fn new(dir: &Path, extra_config: &str) -> Minion {
        let d = dir.display();
        let config = format!(
            "file_client: local\n\
             file_roots:\n  base:\n    - {d}/states\n    - {REPO}/salt\n\
             root_dir: {d}/root\npki_dir: {d}/pki\ncachedir: {d}/cache\nsock_dir: {d}/sock\n\
             log_file: {d}/minion.log\nlog_level_logfile: info\n\
             fileserver_list_cache_time: 0\n{extra_config}"
        );
        // fileserver_list_cache_time: 0 -- the tests add files to the file root between calls;
        // Salt's 20-second file-list cache would hide a binary added a second ago.
        support::write(&dir.join("conf/minion"), config);
        support::mkdirs(&dir.join("states"));
        Minion { dir: dir.to_owned() }
    }

    /// A minion that finds the binary from its config (`venvaudit.binary`), with
    /// `venvaudit/init.sls` shadowed (the test's states come first in file_roots) by a
    /// `venvaudit-binary` that only asserts the binary exists (installing it is tested by
    /// tests/salt.rs's install_binary_and_gate_a_deploy).
    pub fn with_binary(dir: &Path) -> Minion {
        let minion = Minion::new(dir, &format!("venvaudit.binary: {BIN}\n"));
        support::write(
            &dir.join("states/venvaudit/init.sls"),
            format!("venvaudit-binary:\n  file.exists:\n    - name: {BIN}\n"),
        );
        minion
    }

    /// salt-call ARGS through `cmd` (the salt-call program, perhaps wrapped by nsenter), with
    /// this minion's config.
    pub fn salt_call(&self, cmd: &mut Command, args: &[&str]) -> Call {
        let started = Instant::now();
        cmd.args(["--local", "--out=json", "--config-dir"]).arg(self.dir.join("conf")).args(args);
        let (code, stdout, stderr) = support::output_with_timeout(cmd.stdin(Stdio::null()), support::RUN_LIMIT);
        eprintln!("salt-call {} -> exit {code} in {:.1?}", args.join(" "), started.elapsed());
        let json = if stdout.trim().is_empty() {
            Value::Null
        } else {
            let v: Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("salt-call {args:?} printed non-JSON ({e}): {stdout}\nstderr: {stderr}"));
            v["local"].clone()
        };
        Call { code, json, stderr }
    }

    /// `saltutil.sync_all` through `cmd`; each of `kinds` (modules, states, grains) must have
    /// synced its venvaudit.
    pub fn sync_with(&self, cmd: &mut Command, kinds: &[&str]) {
        let c = self.salt_call(cmd, &["saltutil.sync_all"]);
        assert_eq!(c.code, 0, "sync_all: {}", c.stderr);
        for kind in kinds {
            let synced = c.json[kind].to_string();
            assert!(synced.contains(&format!("{kind}.venvaudit")), "{kind} not synced: {}", c.json);
        }
    }
}

/// The state results of a `state.apply` / `state.single` call, keyed by state id.
pub fn by_id(c: &Call) -> BTreeMap<String, Value> {
    let obj = c.json.as_object().unwrap_or_else(|| panic!("state run returned {}: {}", c.json, c.stderr));
    obj.iter().map(|(tag, v)| (tag.split("_|-").nth(1).expect("state tag").to_owned(), v.clone())).collect()
}
