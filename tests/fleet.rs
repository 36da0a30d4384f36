//! The fleet recipe end to end (issue 15 item 3, issue 18): ansible/examples/fleet run as it
//! is by real ansible-playbook against 20 inventory hosts (local connection, each scanning its
//! own --root tree of hard-linked real venvs, built by `scripts/fleet-bench.sh build`; the
//! benchmark runs the same recipe on 200), with the jsonfile fact cache of the ansible-core the
//! tests install; then the answer from the cache alone with `venvaudit query --from-facts`
//! (also from the older plain-object cache form, stale and missing hosts), the Jinja fallback
//! giving the same answer, and the same question through Salt's mine (salt-call --local).
//!
//! Ground truth: the venvs' own `pip list`, and which base venv each host got.
//! Takes one to three minutes (20 hosts gathered with forks 50, three masterless minions).

mod support;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{check as run, normalize, pip_list, repo_root, tools_venv};

const HOSTS: usize = 20;
const SALT_MINIONS: usize = 3;

fn read_json(path: &Path) -> Value {
    let s = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{s}", path.display()))
}

/// `venvaudit query ... --from-facts ...`: (exit code, JSON result).
fn query(args: &[&str], today: Option<&str>) -> (i32, Value) {
    let mut cmd = Command::new(support::venvaudit());
    cmd.arg("query").args(args).args(["--format", "json"]);
    if let Some(t) = today {
        cmd.env("VENVAUDIT_TODAY", t);
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    (code, support::parse_json(code, &String::from_utf8_lossy(&out.stdout), &String::from_utf8_lossy(&out.stderr)))
}

/// (host, venv, version) of every match.
fn matches(answer: &Value) -> BTreeSet<(String, String, String)> {
    answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["host"].as_str().unwrap().to_owned(),
                m["venv"].as_str().unwrap().to_owned(),
                m["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What the fleet holds (scripts/fleet-bench.sh build_fleet): host i gets by i % 4 the tools
/// venv's metadata at /srv/tools; django 3.2 at /srv/web; django 4.2.16 at /srv/api and a
/// CPython 3.8 venv at /opt/jobs; the tools metadata at /opt/tools and django 3.2 at /srv/web.
fn expected_django_below_4_2_16(hosts: impl Iterator<Item = usize>) -> BTreeSet<(String, String, String)> {
    hosts
        .filter(|i| i % 4 == 1 || i % 4 == 3)
        .map(|i| (format!("h{i}"), "/srv/web".to_owned(), "3.2".to_owned()))
        .collect()
}

fn ansible_playbook(dir: &Path, collections: &Path, args: &[&str]) -> String {
    let tools = tools_venv().join("bin");
    // PATH without a venvaudit: the example must find the collection's own binary.
    let path = format!("{}:/usr/bin:/bin", tools.display());
    let out = Command::new(tools.join("ansible-playbook"))
        .current_dir(dir)
        .args(args)
        .arg("fleet_report.yml")
        .env("PATH", path)
        .env("ANSIBLE_COLLECTIONS_PATH", collections)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", dir.join(".ansible-local"))
        .env("ANSIBLE_REMOTE_TEMP", dir.join(".ansible-remote"))
        .env_remove("ANSIBLE_CONFIG")
        .output()
        .unwrap();
    let text =
        format!("{}\n--- stderr ---\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    std::fs::write(dir.join(format!("ansible-{}.log", args.join("_").replace(['/', ' '], "-"))), &text).unwrap();
    assert!(out.status.success(), "ansible-playbook {args:?} failed:\n{text}");
    text
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, uv, ansible-playbook, salt-call (scripts/test.sh runs it)"]
fn fleet_recipe_answers_from_the_ansible_cache_and_the_salt_mine() {
    let tmp = support::TempDir::new();
    let dir = tmp.path().to_owned();
    run(Command::new("bash")
        .arg(repo_root().join("scripts/fleet-bench.sh"))
        .arg("build")
        .arg(&dir)
        .arg(HOSTS.to_string()));

    // The collection around this build's binary, installed with ansible-galaxy.
    let tools = tools_venv().join("bin");
    let module = dir.join("venvaudit");
    run(Command::new("strip").arg("-o").arg(&module).arg(support::venvaudit()));
    run(Command::new("bash")
        .arg(repo_root().join("ansible/build.sh"))
        .env("VENVAUDIT_MODULE_BINARY", &module)
        .env("VENVAUDIT_OUT", dir.join("dist"))
        .env("VENVAUDIT_TOOLS_VENV", tools_venv()));
    let collections = dir.join("collections");
    let tarball = dir.join(format!("dist/venvaudit-python-{}.tar.gz", env!("CARGO_PKG_VERSION")));
    run(Command::new(tools.join("ansible-galaxy"))
        .args(["collection", "install", "-p"])
        .arg(&collections)
        .arg(&tarball));

    // Gather (compact) and report, as the example's users run it.
    let play = dir.join("play");
    let log = ansible_playbook(&play, &collections, &[]);
    let cache = play.join(".cache/facts");
    // One file per inventory host (and one for the controller's localhost, facts empty).
    let files: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with("localhost"))
        .collect();
    assert_eq!(files.len(), HOSTS, "{log}");
    // ansible-core 2.21 writes s<schema>_<host> files holding the facts as a JSON string.
    let h0 = files.iter().find(|f| f.file_name().unwrap().to_string_lossy().ends_with("_h0")).expect("s1_h0");
    let raw = read_json(h0);
    let facts: Value = serde_json::from_str(raw["__payload__"].as_str().expect("__payload__ string")).unwrap();
    let report = &facts["venvaudit"];
    assert_eq!(report["detail"], "compact");
    let tools_venv_facts = &report["venvs"][0];
    assert_eq!(tools_venv_facts["path"], "/srv/tools");
    assert_eq!(tools_venv_facts["health"], "ok", "{tools_venv_facts}");
    // Every distribution as name==version: the tools venv's own pip list (its metadata was copied).
    let dists: BTreeSet<String> =
        tools_venv_facts["distributions"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_owned()).collect();
    let truth: BTreeSet<String> =
        pip_list(&tools_venv()).into_iter().map(|(n, v)| format!("{}=={v}", normalize(&n))).collect();
    assert_eq!(dists, truth);
    let venv_bytes = serde_json::to_string(tools_venv_facts).unwrap().len();
    assert!(venv_bytes <= 5 * 1024, "compact facts of a venv of {} distributions: {venv_bytes} bytes", dists.len());
    let web = read_json(&cache.join(files.iter().find(|f| f.to_string_lossy().ends_with("_h1")).unwrap()));
    let web: Value = serde_json::from_str(web["__payload__"].as_str().unwrap()).unwrap();
    let web_dists: BTreeSet<String> = web["venvaudit"]["venvs"][0]["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect();
    let web_truth: BTreeSet<String> =
        pip_list(&dir.join("base/web")).into_iter().map(|(n, v)| format!("{}=={v}", normalize(&n))).collect();
    assert_eq!(web_dists, web_truth);

    // The example answered with venvaudit query --from-facts, through the collection's binary.
    let answer = read_json(&play.join("reports/django-lt-4.2.16.json"));
    assert_eq!(answer["answered_by"], "venvaudit query --from-facts", "{answer}");
    let expected = expected_django_below_4_2_16(0..HOSTS);
    assert_eq!(matches(&answer), expected);
    assert_eq!(answer["hosts_reported"], HOSTS);
    assert_eq!(answer["complete"], true);
    assert_eq!(answer["hosts_without_facts"], json!([]));

    // The Jinja fallback over the same cache gives the same answer.
    ansible_playbook(&play, &collections, &["--tags", "report", "-e", "report_engine=jinja"]);
    let jinja = read_json(&play.join("reports/django-lt-4.2.16.json"));
    assert_eq!(jinja["answered_by"], "jinja");
    assert_eq!(matches(&jinja), expected);

    // The older cache form (the facts object itself, file named after the host), a host never
    // gathered, and facts too old for --max-age.
    let old = dir.join("old-cache");
    std::fs::create_dir_all(&old).unwrap();
    for f in &files {
        let doc = read_json(f);
        let name = f.file_name().unwrap().to_string_lossy().split_once('_').unwrap().1.to_owned();
        std::fs::write(old.join(name), doc["__payload__"].as_str().unwrap()).unwrap();
    }
    let hosts = dir.join("hosts.txt");
    let mut names: Vec<String> = (0..HOSTS).map(|i| format!("h{i}")).collect();
    names.push("ghost".into());
    std::fs::write(&hosts, names.join("\n")).unwrap();
    let (code, a) =
        query(&["django<4.2.16", "--from-facts", old.to_str().unwrap(), "--hosts", hosts.to_str().unwrap()], None);
    assert_eq!(code, 1);
    assert_eq!(matches(&a), expected);
    assert_eq!(
        a["hosts_unknown"],
        json!([{"host": "ghost", "reason": "missing", "message": "no facts found for this host", "source": null, "generated_at": null}])
    );
    assert_eq!(a["complete"], false);
    // Without --hosts every file counts: the controller's localhost has no venvaudit facts, so
    // "no match" is not a complete answer; with the inventory's hosts it is.
    let (code, a) = query(&["django>=99", "--from-facts", cache.to_str().unwrap()], None);
    assert_eq!((code, a["hosts_unknown"][0]["host"].clone()), (2, json!("localhost")), "{a}");
    std::fs::write(&hosts, names[..HOSTS].join("\n")).unwrap();
    let (code, a) =
        query(&["django>=99", "--from-facts", cache.to_str().unwrap(), "--hosts", hosts.to_str().unwrap()], None);
    assert_eq!((code, a["complete"].clone(), a["hosts_answered"].clone()), (0, json!(true), json!(HOSTS)));
    let (code, a) = query(
        &["django<4.2.16", "--from-facts", cache.to_str().unwrap(), "--hosts", hosts.to_str().unwrap()],
        Some("2099-01-01"),
    );
    assert_eq!(code, 2, "{a}");
    assert_eq!(a["hosts_unknown"].as_array().unwrap().len(), HOSTS);
    assert!(a["hosts_unknown"].as_array().unwrap().iter().all(|u| u["reason"] == "stale"), "{a}");

    // Salt: masterless minions publish compact facts to their mine (salt/examples/fleet/mine.conf)
    // and the merged mine.get returns answer the same question.
    let salt_call = tools.join("salt-call");
    let mut merged = serde_json::Map::new();
    for i in 0..SALT_MINIONS {
        let m = dir.join(format!("salt/m{i}"));
        std::fs::create_dir_all(m.join("conf")).unwrap();
        let mine: String = std::fs::read_to_string(repo_root().join("salt/examples/fleet/mine.conf"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let conf = format!(
            "id: h{i}\nfile_client: local\nfile_roots: {{base: [{repo}/salt]}}\nroot_dir: {m}/root\npki_dir: {m}/pki\n\
             cachedir: {m}/cache\nsock_dir: {m}/sock\nlog_file: {m}/minion.log\nvenvaudit.binary: {bin}\n{mine}\
             \x20   - root: {root}\n    - config_root: {dir}/empty-config\n    - no_processes: true\n",
            repo = repo_root().display(),
            m = m.display(),
            bin = support::venvaudit().display(),
            root = dir.join(format!("roots/h{i}")).display(),
            dir = dir.display(),
        );
        std::fs::write(m.join("conf/minion"), conf).unwrap();
        let salt = |args: &[&str]| {
            run(Command::new(&salt_call).args(["--local", "--out=json", "--config-dir"]).arg(m.join("conf")).args(args))
        };
        salt(&["saltutil.sync_modules"]);
        salt(&["mine.update"]);
        let out = salt(&["mine.get", &format!("h{i}"), "venvaudit_compact"]);
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        let local = got["local"].as_object().unwrap_or_else(|| panic!("mine.get returned {got}"));
        assert!(local.contains_key(&format!("h{i}")), "{got}");
        merged.extend(local.clone());
    }
    let mine = dir.join("mine.json");
    std::fs::write(&mine, Value::Object(merged).to_string()).unwrap();
    let (code, a) = query(&["django<4.2.16", "--from-facts", mine.to_str().unwrap()], None);
    assert_eq!(code, 1, "{a}");
    assert_eq!(matches(&a), expected_django_below_4_2_16(0..SALT_MINIONS));
    assert_eq!(a["hosts_answered"], SALT_MINIONS);
    assert_eq!(a["complete"], true);
}
