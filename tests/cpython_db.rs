//! `venvaudit db cpython`: the CPython advisory file, built by the binary from the committed
//! real records (tests/fixtures/cpython, their origin in SOURCES.md there), from zips made here
//! (records in a top folder; a zip holding `cves.zip`, as the CVE Program's daily release is)
//! and from hostile inputs, then read back with `venvaudit::cpython::load` and matched.
//!
//! Fast tier: offline, no set-up. The per-record version tables derived by hand from the
//! records are the unit tests of src/osv/cpython.rs (they build from the same fixtures).

mod support;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use support::{TempDir, repo_root, run_raw};
use venvaudit::cpython;

fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures/cpython")
}

/// The records of fixtures/records with their `cveMetadata.dateUpdated` (SOURCES.md).
const RECORDS: [(&str, &str); 14] = [
    ("CVE-2023-6597", "2025-11-03T21:50:47.799Z"),
    ("CVE-2024-0450", "2025-11-03T21:50:58.107Z"),
    ("CVE-2024-4032", "2025-11-03T21:57:16.975Z"),
    ("CVE-2024-6232", "2025-11-03T22:32:42.630Z"),
    ("CVE-2024-7592", "2025-11-03T22:32:52.863Z"),
    ("CVE-2024-8088", "2025-11-03T22:32:54.340Z"),
    ("CVE-2024-9287", "2025-11-03T22:33:21.116Z"),
    ("CVE-2024-11168", "2025-11-03T21:51:45.721Z"),
    ("CVE-2024-12718", "2025-07-24T15:57:58.221Z"),
    ("CVE-2025-0938", "2025-11-03T20:56:43.285Z"),
    ("CVE-2025-4138", "2025-07-07T17:36:01.739Z"),
    ("CVE-2025-4330", "2025-07-07T17:36:07.725Z"),
    ("CVE-2025-4435", "2025-07-07T17:36:13.968Z"),
    ("CVE-2025-4517", "2025-10-24T03:55:17.500Z"),
];

/// `venvaudit db cpython --from IN... --output OUT`: (exit code, stdout summary or Null, stderr).
fn db_cpython(inputs: &[&Path], out: &Path) -> (i32, Value, String) {
    let mut args = vec!["db".to_owned(), "cpython".to_owned()];
    for i in inputs {
        args.push("--from".into());
        args.push(i.to_string_lossy().into_owned());
    }
    args.push("--output".into());
    args.push(out.to_string_lossy().into_owned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = run_raw(&refs);
    support::assert_ran(code, &stderr);
    let summary = if code == 0 {
        assert_eq!(stdout.lines().count(), 1, "one summary line: {stdout}");
        support::parse_json(code, &stdout, &stderr)
    } else {
        assert!(stdout.is_empty(), "{stdout}");
        Value::Null
    };
    (code, summary, stderr)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A zip file at `path` with these entries (deflated).
fn make_zip(path: &Path, entries: &[(String, Vec<u8>)]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap();
}

/// The committed records as zip entries laid out like cvelistV5 (`cves/YYYY/NNxxx/...`) under
/// `prefix`, with the PSF advisories and files that are no records next to them.
fn release_entries(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut entries = Vec::new();
    for (id, _) in RECORDS {
        let mut parts = id.split('-').skip(1);
        let (year, num) = (parts.next().unwrap(), parts.next().unwrap());
        let bucket = format!("{}xxx", &num[..num.len() - 3]);
        let body = std::fs::read(fixtures().join(format!("records/{id}.json"))).unwrap();
        entries.push((format!("{prefix}cves/{year}/{bucket}/{id}.json"), body));
    }
    for e in std::fs::read_dir(fixtures().join("psf")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        entries.push((format!("{prefix}advisories/python/{name}"), std::fs::read(e.path()).unwrap()));
    }
    entries.push((format!("{prefix}cves/delta.json"), br#"{"fetchTime": "2025-11-03T00:00:00Z"}"#.to_vec()));
    entries.push((format!("{prefix}README.md"), b"# cvelistV5".to_vec()));
    entries
}

/// The reference build: the committed record and PSF directories.
fn reference(tmp: &TempDir) -> Value {
    let out = tmp.join("reference.json");
    let (code, _, stderr) = db_cpython(&[&fixtures().join("records"), &fixtures().join("psf")], &out);
    assert_eq!(code, 0, "{stderr}");
    read_json(&out)
}

#[test]
fn builds_the_file_from_the_committed_records_and_psf_advisories() {
    let tmp = TempDir::new();
    let out = tmp.join("CPython.json");
    let records = fixtures().join("records");
    let psf = fixtures().join("psf");
    let (code, summary, stderr) = db_cpython(&[&records, &psf], &out);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "", "no problems with the real records");
    assert_eq!(summary["advisories"], 14);
    assert_eq!(summary["problems"], 0);
    assert_eq!(summary["output"], out.to_string_lossy().as_ref());
    let sources = summary["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2, "{summary}");
    assert_eq!(sources[0]["name"], "CVE List V5");
    assert_eq!(sources[0]["records"], 14);
    assert_eq!(sources[0]["date"], "2025-11-03T22:33:21.116Z", "the newest dateUpdated");
    assert_eq!(sources[0]["path"], records.to_string_lossy().as_ref());
    assert_eq!(sources[1]["name"], "PSF Advisory Database");
    assert_eq!(sources[1]["records"], 4);
    assert_eq!(sources[1]["date"], "2024-09-04T22:31:34.780Z", "the newest PSF modified");

    let file = read_json(&out);
    assert_eq!(file["format"], "venvaudit-cpython-advisories");
    assert_eq!(file["format_version"], 1);
    assert_eq!(file["generated_at"], summary["generated_at"]);
    let generated = file["generated_at"].as_str().unwrap();
    assert!(generated.len() == 20 && generated.ends_with('Z') && generated.as_bytes()[10] == b'T', "{generated}");
    assert_eq!(file["sources"][0]["license"], "CVE Terms of Use (https://www.cve.org/Legal/TermsOfUse)");
    assert_eq!(file["sources"][1]["license"], "CC-BY-4.0");
    assert!(file["sources"][1]["attribution"].as_str().unwrap().contains("https://github.com/psf/advisory-database"));
    let advisories = file["advisories"].as_array().unwrap();
    let ids: Vec<&str> = advisories.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, RECORDS.map(|r| r.0), "sorted by year and number");
    for (a, (id, updated)) in advisories.iter().zip(RECORDS) {
        assert_eq!(a["modified"], updated, "{id}");
        assert!(a["published"].as_str().is_some_and(|p| p.starts_with("202")), "{id}");
        assert_eq!(a["default_status"], "unaffected", "{id}");
        assert!(!a["ranges"].as_array().unwrap().is_empty(), "{id}");
        assert!(a["references"].as_array().unwrap().len() <= 20, "{id}");
        assert!(!a["summary"].as_str().unwrap().is_empty(), "{id}");
    }
    let get = |id: &str| advisories.iter().find(|a| a["id"] == id).unwrap();
    // The record's six branch ranges, as [version, lessThan) pairs.
    let ranges: Vec<(String, String)> = get("CVE-2024-7592")["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["introduced"].as_str().unwrap().to_owned(), r["fixed"].as_str().unwrap().to_owned()))
        .collect();
    let want = [
        ("0", "3.8.20"),
        ("3.9.0", "3.9.20"),
        ("3.10.0", "3.10.15"),
        ("3.11.0", "3.11.10"),
        ("3.12.0", "3.12.6"),
        ("3.13.0a1", "3.13.0rc2"),
    ];
    assert_eq!(ranges, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert_eq!(get("CVE-2024-7592")["aliases"], serde_json::json!(["PSF-2024-9"]));
    assert_eq!(get("CVE-2024-7592")["severity"], serde_json::json!({"label": "LOW", "cna_text": "LOW"}));
    assert_eq!(
        get("CVE-2025-4517")["severity"],
        serde_json::json!({"cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:L", "cvss_version": "3.1", "score": 9.4, "label": "CRITICAL"})
    );
    assert_eq!(get("CVE-2025-4517")["modules"], serde_json::json!(["tarfile"]));
    assert_eq!(get("CVE-2024-4032")["severity"], Value::Null);

    // The file, loaded by the library, answers as the records say.
    let db = cpython::load(&out).unwrap();
    assert_eq!(db.advisories.len(), 14);
    assert_eq!(db.newest_source_date(), Some("2025-11-03T22:33:21.116Z"));
    let at = |v: &str| -> Vec<String> { db.affecting(v).iter().map(|h| h.advisory.id.clone()).collect() };
    assert_eq!(
        at("3.12.5"),
        [
            "CVE-2024-6232",
            "CVE-2024-7592",
            "CVE-2024-8088",
            "CVE-2024-9287",
            "CVE-2024-12718",
            "CVE-2025-0938",
            "CVE-2025-4138",
            "CVE-2025-4330",
            "CVE-2025-4435",
            "CVE-2025-4517"
        ]
    );
    assert_eq!(
        at("3.12.6"),
        [
            "CVE-2024-9287",
            "CVE-2024-12718",
            "CVE-2025-0938",
            "CVE-2025-4138",
            "CVE-2025-4330",
            "CVE-2025-4435",
            "CVE-2025-4517"
        ]
    );
    assert_eq!(at("3.12.11"), Vec::<String>::new(), "3.12.11 has every fix of the set");
    assert_eq!(at("3.14.0"), Vec::<String>::new());
    assert_eq!(at("3.8.20").len(), 8, "3.8 is past its end: the later CVEs have no 3.8 fix: {:?}", at("3.8.20"));
    let hit = db.affecting("3.8.20").into_iter().find(|h| h.advisory.id == "CVE-2025-4517").unwrap();
    assert_eq!((hit.matched.clone(), hit.fixed_on_branch.clone()), (vec!["v < 3.9.23".to_owned()], None));
}

#[test]
fn builds_the_same_from_a_zip_of_records_in_a_top_folder() {
    let tmp = TempDir::new();
    let reference = reference(&tmp);
    let zip = tmp.join("cvelistV5-main.zip");
    make_zip(&zip, &release_entries("cvelistV5-main/"));
    let out = tmp.join("from-zip.json");
    let (code, summary, stderr) = db_cpython(&[&zip], &out);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!((summary["advisories"].as_u64(), summary["problems"].as_u64()), (Some(14), Some(0)), "{stderr}");
    // One input holding both kinds: two sources with the same path.
    assert_eq!(summary["sources"][0]["path"], summary["sources"][1]["path"]);
    assert_eq!(summary["sources"][1]["records"], 4);
    assert_eq!(read_json(&out)["advisories"], reference["advisories"]);
}

/// The CVE Program's daily release is a zip holding `cves.zip`: both are read, and the
/// inner zip is inflated to a bounded temporary file, not held in memory.
#[test]
fn builds_the_same_from_the_release_layout_a_zip_holding_cves_zip() {
    let tmp = TempDir::new();
    let reference = reference(&tmp);
    let inner = tmp.join("cves.zip");
    make_zip(&inner, &release_entries(""));
    let outer = tmp.join("2025-11-04_all_CVEs_at_midnight.zip.zip");
    make_zip(&outer, &[("cves.zip".to_owned(), std::fs::read(&inner).unwrap())]);
    for input in [&outer, &inner] {
        let out = tmp.join("release.json");
        let (code, summary, stderr) = db_cpython(&[input], &out);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!((summary["advisories"].as_u64(), summary["problems"].as_u64()), (Some(14), Some(0)), "{stderr}");
        assert_eq!(read_json(&out)["advisories"], reference["advisories"]);
    }
    // One level more is not opened: nothing is found, and the problem says why.
    let deeper = tmp.join("deeper.zip");
    make_zip(&deeper, &[("release/all.zip".to_owned(), std::fs::read(&outer).unwrap())]);
    let (code, _, stderr) = db_cpython(&[&deeper], &tmp.join("deeper.json"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("deeper.zip!release/all.zip!cves.zip: a zip nested more than 2 deep; not read"),
        "{stderr}"
    );
    assert!(stderr.contains("no CPython CVE record"), "{stderr}");
    assert!(!tmp.join("deeper.json").exists());
}

/// The hostile set (tests/fixtures/cpython/hostile) and hostile files made here: each is a
/// problem naming its file, the usable rest is built, and the run exits 0.
#[test]
fn hostile_inputs_are_problems_naming_each_file() {
    let tmp = TempDir::new();
    let dir = tmp.join("hostile");
    support::copy_tree(&fixtures().join("hostile"), &dir);
    // A record over 4 MiB, garbage named like a record, a record of another product.
    let mut huge = b"{\"cveMetadata\": {\"cveId\": \"CVE-9999-0100\"}, \"python\": \"".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 4 << 20));
    huge.extend(b"\"}");
    support::write(&dir.join("cves/CVE-9999-0100.json"), &huge);
    support::write(&dir.join("cves/CVE-9999-0101.json"), b"\x00\xffPK python \x01\x02");
    support::write(
        &dir.join("cves/CVE-9999-0102.json"),
        std::fs::read(fixtures().join("records/CVE-2024-7592.json"))
            .unwrap()
            .iter()
            .map(|b| if *b == b'C' { b'K' } else { *b })
            .collect::<Vec<u8>>(),
    );
    // A zip whose record inflates past 4 MiB (whitespace: a few KiB compressed).
    let bomb = tmp.join("bomb.zip");
    let mut body = std::fs::read(fixtures().join("records/CVE-2024-7592.json")).unwrap();
    body.extend(std::iter::repeat_n(b' ', 5 << 20));
    make_zip(&bomb, &[("cves/2024/7xxx/CVE-2024-7592.json".to_owned(), body)]);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 64 << 10);
    let out = tmp.join("CPython.json");
    let (code, summary, stderr) = db_cpython(&[&dir, &bomb], &out);
    assert_eq!(code, 0, "{stderr}");
    let ids: Vec<String> = read_json(&out)["advisories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["CVE-9999-0002", "CVE-9999-0003", "CVE-9999-0005"], "the good ranges of the hostile records");
    let lines: Vec<&str> = stderr.lines().collect();
    let expect = [
        "hostile/CVE-9999-0001.json: not a CVE JSON 5 record: EOF while parsing",
        "hostile/CVE-9999-0002.json: CVE-9999-0002 versions[0]: inverted or empty range: lessThan 3.11.0 is not above version 3.12.0; dropped",
        "hostile/CVE-9999-0003.json: CVE-9999-0003 versions[0]: versionType \"semver\" is not python (PEP 440); dropped",
        "hostile/CVE-9999-0004.json: not a CVE JSON 5 record: missing field `cveId`",
        "hostile/CVE-9999-0005.json: CVE-9999-0005 versions[0]: no version; dropped",
        "hostile/CVE-9999-0005.json: CVE-9999-0005 versions[1]: no status; dropped",
        "hostile/CVE-9999-0007.json: not a CVE JSON 5 record: invalid type: map, expected a sequence",
        "hostile/PSF-9999-1.json: \"GHSA-hostile\" is not a PSF advisory id; not used",
        "hostile/cves/CVE-9999-0100.json: larger than 4194304 bytes; not read",
        "hostile/cves/CVE-9999-0101.json: not a CVE JSON 5 record",
        "bomb.zip!cves/2024/7xxx/CVE-2024-7592.json: larger than 4194304 bytes; not read",
        // The bomb was the zip's only record.
        "bomb.zip: no CPython CVE record and no PSF advisory in it",
    ];
    for want in expect {
        assert!(lines.iter().any(|l| l.starts_with("venvaudit: db cpython: ") && l.contains(want)), "{want}\n{stderr}");
    }
    // CVE-9999-0102 is CVE-2024-7592 with every C turned to K: no CPython product, not a problem.
    assert!(!stderr.contains("CVE-9999-0102") && !stderr.contains("CVE-9999-0006"), "{stderr}");
    assert_eq!(lines.len(), expect.len(), "{stderr}");
    assert_eq!(summary["problems"], expect.len());
}

#[test]
fn no_record_at_all_and_unusable_inputs_are_errors() {
    let tmp = TempDir::new();
    let out = tmp.join("CPython.json");
    // PSF advisories alone: no CVE record.
    let (code, _, stderr) = db_cpython(&[&fixtures().join("psf")], &out);
    assert_eq!(code, 2);
    assert!(stderr.contains("no CPython CVE record (CVE JSON 5, CNA product CPython)"), "{stderr}");
    // A directory without records; a path that does not exist; a broken zip.
    let empty = tmp.join("empty");
    support::write(&empty.join("notes.txt"), "nothing");
    let (code, _, stderr) = db_cpython(&[&empty], &out);
    assert_eq!(code, 2);
    assert!(stderr.contains("empty: no CPython CVE record and no PSF advisory in it"), "{stderr}");
    let (code, _, stderr) = db_cpython(&[&tmp.join("missing.zip")], &out);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot open") && stderr.contains("missing.zip"), "{stderr}");
    let broken = tmp.join("broken.zip");
    support::write(&broken, b"PK\x03\x04 this is not a zip");
    let (code, _, stderr) = db_cpython(&[&broken], &out);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a readable zip"), "{stderr}");
    assert!(!out.exists(), "nothing written on error");
    // An output directory that does not exist: the build is fine, the write fails.
    let (code, _, stderr) = db_cpython(&[&fixtures().join("records")], &tmp.join("no/such/dir/CPython.json"));
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot write"), "{stderr}");
    // Usage: --from and --output are required.
    let (code, _, stderr) = run_raw(&["db", "cpython", "--output", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = run_raw(&["db", "cpython", "--from", "x"]);
    assert_eq!(code, 2, "{stderr}");
}

/// CVE-2024-6232 first named only the main-branch fix (`0 < 3.13.0rc2`) and gained its
/// backports months later. One record given alone is read; given with the current copy, the
/// newest `dateUpdated` wins and 3.12.6 (which has the backport) is not affected.
#[test]
fn a_single_record_and_the_late_backport_record() {
    let tmp = TempDir::new();
    let early = fixtures().join("history/CVE-2024-6232.json");
    let out = tmp.join("early.json");
    let (code, summary, stderr) = db_cpython(&[&early], &out);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["sources"][0]["date"], "2024-09-03T20:02:40.422Z");
    let db = cpython::load(&out).unwrap();
    assert_eq!(db.advisories[0].ranges.len(), 1);
    assert!(db.affecting("3.12.6").iter().any(|h| h.advisory.id == "CVE-2024-6232"), "the early data's false positive");

    let out = tmp.join("both.json");
    let (code, summary, stderr) = db_cpython(&[&early, &fixtures().join("records")], &out);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["advisories"], 14);
    let db = cpython::load(&out).unwrap();
    let a = db.advisories.iter().find(|a| a.id == "CVE-2024-6232").unwrap();
    assert_eq!((a.ranges.len(), a.modified.as_deref()), (6, Some("2025-11-03T22:32:42.630Z")));
    assert!(db.affecting("3.12.6").iter().all(|h| h.advisory.id != "CVE-2024-6232"));
    let hit = db.affecting("3.12.5").into_iter().find(|h| h.advisory.id == "CVE-2024-6232").unwrap();
    assert_eq!(hit.fixed_on_branch.as_deref(), Some("3.12.6"));
}

/// A rebuild replaces the file in one rename: no temporary file is left, and a reader never
/// sees a partial file.
#[test]
fn a_rebuild_replaces_the_file_atomically() {
    let tmp = TempDir::new();
    let dir = tmp.join("osv");
    support::mkdirs(&dir);
    let out = dir.join("CPython.json");
    support::write(&out, "old");
    for _ in 0..2 {
        let (code, _, stderr) = db_cpython(&[&fixtures().join("records")], &out);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(cpython::load(&out).unwrap().advisories.len(), 14);
    }
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["CPython.json"]);
}
