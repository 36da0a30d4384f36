//! The report contract: JSON Schema validity of real output, README coverage of finding ids,
//! JSON request mode errors, and robustness against hostile trees (non-UTF-8 names,
//! malformed metadata and ELF, FIFOs).

mod support;

use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use support::*;
use venvaudit::FindingId;

/// Validate a JSON value against schema/report.schema.json with the real `jsonschema`.
fn assert_valid_against_schema(v: &Value) {
    assert_matches_schema("schema/report.schema.json", v);
}

fn request(req: &Value) -> (i32, Value) {
    let mut child = Command::new(venvaudit())
        .arg("run")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(req.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    (code, parse_json(code, &stdout, &String::from_utf8_lossy(&out.stderr)))
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, jsonschema (scripts/test.sh runs it)"]
fn real_output_matches_the_json_schema() {
    let dir = TempDir::new();
    let good = dir.path().join("good");
    make_venv(Creator::Venv, &pyenv("3.12"), &good);
    pip_install(&good, &["six", "PyYAML"]);
    let broken = dir.path().join("broken");
    make_bare_venv(&pyenv("3.11"), &broken);
    // Point the venv at an interpreter that no longer exists.
    let cfg = std::fs::read_to_string(broken.join("pyvenv.cfg")).unwrap();
    let cfg: String = cfg
        .lines()
        .map(|l| {
            if l.starts_with("home") {
                "home = /nonexistent/bin".to_owned()
            } else if l.starts_with("executable") {
                "executable = /nonexistent/bin/python3.11".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    write(&broken.join("pyvenv.cfg"), cfg);
    let (code, report, err) = run(&["facts", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(venvs(&report).len(), 2);
    assert!(!findings(&report).is_empty(), "the broken venv must give a finding");
    assert_valid_against_schema(&report);

    let (code, check) = request(&json!({"action": "check", "paths": [dir.path()], "fail_on": "never"}));
    assert_eq!(code, 0);
    assert_eq!(check["passed"], true);
    assert_valid_against_schema(&check);

    let (_, summary, _) = run(&["facts", "--summary", "--format", "json", dir.path().to_str().unwrap()]);
    assert!(venvs(&summary).iter().all(|v| v.get("packages").is_none()));
    assert_eq!(summary["summary"]["venvs"], 2);
    assert_eq!(summary["detail"], "summary");
    assert_valid_against_schema(&summary);

    // Compact: every distribution as normalized-name==version, the ground truth from pip.
    let (code, compact, err) = run(&["facts", "--detail", "compact", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(compact["detail"], "compact");
    let v = venv_at(&compact, &good);
    assert!(v.get("packages").is_none() && v["in_use"] == json!([]));
    let dists: std::collections::BTreeSet<(String, String)> = v["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let (n, ver) = d.as_str().unwrap().split_once("==").unwrap();
            (n.to_owned(), ver.to_owned())
        })
        .collect();
    assert_eq!(dists, pip_list_normalized(&good));
    assert_valid_against_schema(&compact);
    // The JSON request key, and `summary: true` is `detail: summary` (a contradiction is refused).
    let (code, via_request) = request(&json!({"action": "facts", "paths": [dir.path()], "detail": "compact"}));
    assert_eq!(code, 0);
    assert_eq!(venv_at(&via_request, &good)["distributions"], v["distributions"]);
    let (code, refused) =
        request(&json!({"action": "facts", "paths": [dir.path()], "detail": "compact", "summary": true}));
    assert_eq!(code, 2);
    assert!(refused["msg"].as_str().unwrap().contains("contradicts"), "{refused}");

    // The typed model reads every report back unchanged: what front-ends and tests parse is
    // exactly what the tool writes.
    for r in [&report, &check, &summary, &compact] {
        let typed: venvaudit::Report = serde_json::from_value(r.clone()).expect("the report reads as the typed model");
        let mut again = serde_json::to_value(&typed).unwrap();
        let mut orig = r.clone();
        // `run` adds the front-end's own keys around the report.
        for k in ["passed", "changed", "failed", "msg", "fail_on"] {
            orig.as_object_mut().unwrap().remove(k);
            again.as_object_mut().unwrap().remove(k);
        }
        assert_eq!(again, orig);
    }
}

#[test]
fn readme_lists_every_finding_id() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme.find("| id | severity | meaning |").expect("README has the finding id table");
    // Rows `| \`id\` | severity | meaning |` until the table ends.
    let rows: Vec<(String, String)> = readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[2].to_owned())
        })
        .collect();
    let documented: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let declared: Vec<&str> = FindingId::ALL.iter().map(|i| i.as_str()).collect();
    assert_eq!(documented, declared, "README's finding id table and FindingId::ALL differ (ids or order)");
    for ((id, severity), known) in rows.iter().zip(FindingId::ALL) {
        let expected: Vec<&str> = known.severities().iter().map(|s| s.as_str()).collect();
        assert_eq!(severity, &expected.join("/"), "README's severity of `{id}`");
    }
}

/// The schema's finding id enum is FindingId::ALL: a validator in a user's pipeline accepts
/// every id the tool emits and nothing else.
#[test]
fn schema_lists_every_finding_id() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("schema/report.schema.json")).unwrap()).unwrap();
    let listed: Vec<&str> = schema["$defs"]["finding"]["properties"]["id"]["enum"]
        .as_array()
        .expect("the schema enumerates finding ids")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let declared: Vec<&str> = FindingId::ALL.iter().map(|i| i.as_str()).collect();
    assert_eq!(listed, declared);
}

#[test]
fn json_mode_rejects_bad_requests_with_a_named_key() {
    let (code, v) = request(&json!({"action": "facts", "pathz": ["/tmp"]}));
    assert_eq!(code, 2);
    assert_eq!(v["failed"], true);
    let msg = v["msg"].as_str().unwrap();
    assert!(msg.contains("pathz") && msg.contains("paths"), "{msg}");

    let (code, v) = request(&json!({"action": "facts", "max_depth": "deep"}));
    assert_eq!(code, 2);
    assert!(v["msg"].as_str().unwrap().contains("max_depth"), "{v}");

    let (code, v) = request(&json!({"paths": ["/nonexistent"]}));
    assert_eq!(code, 2);
    assert!(v["msg"].as_str().unwrap().contains("action"), "{v}");

    // `today` is a real calendar day written YYYY-MM-DD; ids and families are the vocabulary.
    for (bad, key) in [
        (json!({"action": "check", "paths": ["/nonexistent"], "today": "2027-02-30"}), "today"),
        (json!({"action": "check", "paths": ["/nonexistent"], "today": "20270201"}), "today"),
        (json!({"action": "check", "paths": ["/nonexistent"], "checks": ["mod_wsgi"]}), "mod-wsgi"),
        (
            json!({"action": "check", "paths": ["/nonexistent"], "ignore": [{"id": "eol-python", "reason": "r"}]}),
            "interpreter-eol",
        ),
    ] {
        let (code, v) = request(&bad);
        assert_eq!(code, 2, "{bad} -> {v}");
        assert!(v["msg"].as_str().unwrap().contains(key), "{bad} -> {v}");
    }

    // An empty list is refused: it must not become a scan of the whole host.
    let (code, v) = request(&json!({"action": "facts", "paths": []}));
    assert_eq!(code, 2);
    assert!(v["msg"].as_str().unwrap().contains("paths: an empty list"), "{v}");

    let mut child = Command::new(venvaudit()).arg("run").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"{not json").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).expect("failure is JSON");
    assert_eq!(v["failed"], true);
    assert!(v["msg"].as_str().unwrap().contains("not valid JSON"));
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, jsonschema (scripts/test.sh runs it)"]
fn hostile_trees_do_not_stop_the_scan() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new();
    // A venv under a non-UTF-8 directory name.
    // Python cannot create a venv under such a name, so make it first and rename the parent.
    let plain = dir.path().join("cafe");
    make_bare_venv(&pyenv("3.12"), &plain.join("venv"));
    let odd = dir.path().join(OsStr::from_bytes(b"caf\xe9"));
    std::fs::rename(&plain, &odd).unwrap();
    let venv = odd.join("venv");
    let sp = site_packages(&venv).unwrap();
    // Malformed metadata of every kind next to a good one.
    mkdirs(&sp.join("good-1.0.dist-info"));
    write(&sp.join("good-1.0.dist-info/METADATA"), "Metadata-Version: 2.1\nName: good\nVersion: 1.0\n\nbody");
    mkdirs(&sp.join("nometa-1.0.dist-info"));
    mkdirs(&sp.join("garbage-1.0.dist-info"));
    write(&sp.join("garbage-1.0.dist-info/METADATA"), [0xffu8, 0xfe, 0, 1, 2, b'\n', b':', b'\n']);
    mkdirs(&sp.join("badurl-1.0.dist-info"));
    write(&sp.join("badurl-1.0.dist-info/METADATA"), "Name: badurl\nVersion: 1.0\n");
    write(&sp.join("badurl-1.0.dist-info/direct_url.json"), "{\"url\": ");
    mkdirs(&sp.join("weird-1.0.dist-info"));
    write(&sp.join("weird-1.0.dist-info/METADATA"), "Name: weird\nVersion: not.a.version!\n");
    write(&sp.join("weird-1.0.dist-info/RECORD"), "\"unterminated,\n,,,\n\n");
    // A FIFO where METADATA should be must not block the scan.
    mkdirs(&sp.join("fifo-1.0.dist-info"));
    let status = Command::new("mkfifo").arg(sp.join("fifo-1.0.dist-info/METADATA")).status().unwrap();
    assert!(status.success());
    // A truncated ELF extension module.
    write(&sp.join("broken.cpython-312-x86_64-linux-gnu.so"), b"\x7fELF\x02\x01\x01\0garbage");

    let (code, report, err) = run(&["facts", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v = &venvs(&report)[0];
    assert_eq!(v["path"].as_str().unwrap(), format!("{}/caf\\xe9/venv", dir.path().display()));
    let names: Vec<&str> =
        v["packages"].as_array().unwrap().iter().map(|p| p["normalized_name"].as_str().unwrap()).collect();
    assert!(names.contains(&"good") && names.contains(&"weird"), "{names:?}");
    let weird = v["packages"].as_array().unwrap().iter().find(|p| p["name"] == "weird").unwrap();
    assert_eq!(weird["version_valid"], false);
    let errs = errors(&report);
    for bad in ["nometa-1.0.dist-info", "garbage-1.0.dist-info", "direct_url.json", "fifo-1.0.dist-info"] {
        assert!(errs.iter().any(|e| e["path"].as_str().unwrap().contains(bad)), "no error naming {bad}: {errs:?}");
    }
    assert!(Path::new(&venv).exists());
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, jsonschema (scripts/test.sh runs it)"]
fn legacy_virtualenv_and_conda_layouts_are_recognised() {
    let dir = TempDir::new();
    // virtualenv < 20 layout: lib/pythonX.Y/orig-prefix.txt and bin/activate, no pyvenv.cfg.
    let legacy = dir.path().join("legacy");
    let prefix = pyenv_prefix("3.8");
    mkdirs(&legacy.join("lib/python3.8/site-packages"));
    mkdirs(&legacy.join("bin"));
    write(&legacy.join("lib/python3.8/orig-prefix.txt"), prefix.to_str().unwrap());
    write(&legacy.join("bin/activate"), "# activate\n");
    std::fs::copy(pyenv("3.8"), legacy.join("bin/python")).unwrap();
    // conda layout: conda-meta/history, conda-meta/python-*.json, a nested env under envs/.
    let conda = dir.path().join("miniconda3");
    for env in [conda.clone(), conda.join("envs/ml")] {
        mkdirs(&env.join("conda-meta"));
        write(&env.join("conda-meta/history"), "==> 2024-01-01 <==\n# cmd: conda create\n# conda version: 24.1.2\n");
        write(&env.join("conda-meta/python-3.11.7-h955ad1f_0.json"), "{}");
        mkdirs(&env.join("lib/python3.11/site-packages"));
        mkdirs(&env.join("bin"));
        symlink(pyenv("3.11"), &env.join("bin/python"));
    }
    let (_, report, _) = run(&["facts", "--format", "json", dir.path().to_str().unwrap()]);
    let l = venv_at(&report, &legacy);
    assert_eq!(l["kind"], "legacy-virtualenv");
    // The base installation's exact version (its patchlevel.h), not just X.Y.
    let version = l["python"]["version"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.8.") && version.len() > 4, "{:#}", l["python"]);
    assert_eq!(l["python"]["base_exists"], true);
    let c = venv_at(&report, &conda);
    assert_eq!(c["kind"], "conda");
    assert_eq!(c["creator"]["version"], "24.1.2");
    assert_eq!(c["python"]["version"], "3.11.7");
    assert_eq!(venv_at(&report, &conda.join("envs/ml"))["kind"], "conda");
    assert!(findings(&report).is_empty(), "{:#}", report["findings"]);
}

#[test]
#[ignore = "real-tool tier: pyenv venvs, pip, jsonschema (scripts/test.sh runs it)"]
fn exclude_and_max_depth_limit_the_walk() {
    let dir = TempDir::new();
    let top = dir.path().join("app/venv");
    let vendored = dir.path().join("web/node_modules/pkg/venv");
    let deep = dir.path().join("a/b/c/d/venv");
    for v in [&top, &vendored, &deep] {
        make_bare_venv(&pyenv("3.12"), v);
    }
    let root = dir.path().to_str().unwrap();
    let paths = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["facts", "--format", "json", "--no-processes"];
        all.extend_from_slice(args);
        all.push(root);
        let (code, report, err) = run(&all);
        assert_eq!(code, 0, "{err}");
        let mut p: Vec<String> = venvs(&report).iter().map(|v| v["path"].as_str().unwrap().to_owned()).collect();
        p.sort();
        p
    };
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    assert_eq!(paths(&[]), [s(&deep), s(&top), s(&vendored)]);
    assert_eq!(paths(&["--exclude", "node_modules"]), [s(&deep), s(&top)]);
    assert_eq!(paths(&["--exclude", &format!("{root}/a/**")]), [s(&top), s(&vendored)]);
    // app/venv is 2 levels below the root, a/b/c/d/venv is 5.
    assert_eq!(paths(&["--max-depth", "2"]), [s(&top)]);
    assert_eq!(paths(&["--max-depth", "5", "--exclude", "web"]), [s(&deep), s(&top)]);
}

/// Every finding id the docs and examples name is a real id: the ignore policy and the gates
/// reject unknown ids, so a copied example with a wrong one (the old `eol-python`) fails the
/// user's task. Two nets over README, docs/, ansible/ and salt/: every `id: X` (ignore
/// entries, YAML, docstrings) must be an id, and every kebab-case word made only of words
/// that ids are made of (`eol-python`, `interpreter-broken`) must be an id or a family.
#[test]
fn docs_and_examples_name_real_finding_ids() {
    use std::collections::BTreeSet;
    let known: BTreeSet<&str> = FindingId::ALL.iter().map(|id| id.as_str()).collect();
    let families: BTreeSet<&str> = venvaudit::Family::NAMES.iter().copied().collect();
    let id_words: BTreeSet<&str> = known.iter().flat_map(|id| id.split('-')).collect();
    // Words of other vocabularies made of id words: the lock and METADATA key
    // `requires-python`, and `artifact.target.source: target-python`.
    let other_vocabulary: BTreeSet<&str> = ["requires-python", "target-python"].into();
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    for dir in ["ansible", "salt", "docs"] {
        for e in walkdir::WalkDir::new(root.join(dir)).into_iter().flatten() {
            let n = e.file_name().to_string_lossy();
            if e.file_type().is_file() && [".md", ".py", ".sls", ".yml", ".yaml"].iter().any(|x| n.ends_with(x)) {
                files.push(e.into_path());
            }
        }
    }
    let (mut named, mut words) = (0, 0);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            let at = format!("{}:{}", f.display(), i + 1);
            for (pos, _) in line.match_indices("id: ") {
                let before = line[..pos].trim_end();
                if !(before.is_empty() || before.ends_with('-') || before.ends_with('{') || before.ends_with(',')) {
                    continue;
                }
                let id: String = line[pos + 4..]
                    .trim_start_matches(['"', '\''])
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                    .collect();
                if id.contains('-') || known.contains(id.as_str()) {
                    named += 1;
                    assert!(known.contains(id.as_str()), "{at}: unknown finding id {id:?}");
                }
            }
            // Not ids: `*-venv-missing` (a pattern), `docs/osv-db.md` (a path), `--target-python`
            // (an option).
            for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || "-*./_".contains(c))) {
                let word = word.trim_end_matches(['-', '.']);
                if word.starts_with('-')
                    || word.contains(['*', '.', '/', '_'])
                    || !word.contains('-')
                    || !word.split('-').all(|w| id_words.contains(w))
                    || other_vocabulary.contains(word)
                {
                    continue;
                }
                words += 1;
                assert!(
                    known.contains(word) || families.contains(word),
                    "{at}: {word:?} looks like a finding id but is none (known: {known:?})"
                );
            }
        }
    }
    assert!(named >= 5 && words >= 50, "the examples were not found ({named} `id:` entries, {words} id-like words)");
}

/// The layout shows the pipeline: each layer imports only the layers below it (or its own), so
/// no loop runs through the crate. The table is the one in `src/lib.rs`'s documentation.
#[test]
fn layers_import_only_layers_below() {
    use std::collections::BTreeMap;
    let layers: BTreeMap<&str, u8> = [
        ("report", 0),
        ("request", 0),
        ("time", 0),
        ("parse", 1),
        ("host", 2),
        ("discover", 3),
        ("inspect", 3),
        ("osv", 3),
        ("checks", 4),
        ("engine", 5),
        ("ignore", 5),
        ("query", 5),
        ("fleet", 5),
        ("plan", 5),
        ("render", 6),
        ("frontends", 6),
        ("fuzz_api", 7),
    ]
    .into_iter()
    .collect();
    let src = repo_root().join("src");
    let (mut files, mut refs) = (0, 0);
    let mut upward = Vec::new();
    for e in walkdir::WalkDir::new(&src).into_iter().flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let own = *layers.get(top.as_str()).unwrap_or_else(|| panic!("src/{top} is in no layer: add it to this table"));
        files += 1;
        let text = std::fs::read_to_string(path).unwrap();
        // `crate::x::...` anywhere, and the names of `use crate::{x, y::z}` groups.
        let mut names: Vec<String> = text
            .match_indices("crate::")
            .map(|(i, _)| text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
            .collect();
        for (i, _) in text.match_indices("use crate::{") {
            let group = &text[i + 12..];
            let group = &group[..group.find('}').unwrap_or(group.len())];
            names.extend(group.split(',').map(|n| n.trim().split("::").next().unwrap_or("").to_owned()));
        }
        for name in names.into_iter().filter(|n| !n.is_empty()) {
            refs += 1;
            let Some(&theirs) = layers.get(name.as_str()) else {
                panic!("{}: crate::{name} is in no layer", rel.display())
            };
            if theirs > own {
                upward.push(format!("src/{} ({top}, layer {own}) imports {name} (layer {theirs})", rel.display()));
            }
        }
    }
    assert!(files > 40 && refs > 200, "the sources were not read ({files} files, {refs} references)");
    assert!(upward.is_empty(), "imports of a higher layer:\n{}", upward.join("\n"));
}

/// `src/lib.rs` is the whole public API: every layer module is `pub(crate)`, and the only
/// public modules are the hidden ones for the fuzz targets and tests, so an item no front-end
/// uses is a dead-code warning instead of an accidental API.
#[test]
fn lib_exports_a_curated_api_and_no_layer_module() {
    let lib = std::fs::read_to_string(repo_root().join("src/lib.rs")).unwrap();
    let lines: Vec<&str> = lib.lines().collect();
    let (mut private, mut public) = (0, Vec::new());
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.starts_with("pub(crate) mod ") {
            private += 1;
        } else if line.starts_with("pub mod ") {
            let hidden = i > 0 && lines[i - 1].trim() == "#[doc(hidden)]";
            if !hidden {
                public.push(line.to_owned());
            }
        }
    }
    assert!(private >= 15, "the layer modules were not found in src/lib.rs ({private})");
    assert!(public.is_empty(), "public modules besides the hidden ones: {public:?}");
    assert!(lib.contains("#![warn(missing_docs)]"), "every public item needs its doc comment");
}
