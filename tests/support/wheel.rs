//! Real wheel files written by the tests (`#[path = "support/wheel.rs"] mod wheel;`): a zip
//! with the members given, METADATA, WHEEL (tags from the file name) and a RECORD of sha256
//! digests, which pip installs like any wheel.
#![allow(dead_code)]

use sha2::Digest;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// (name, version, tags) of a wheel file name (build tag skipped).
pub fn wheel_parts(file: &str) -> (String, String, Vec<String>) {
    let stem = file.strip_suffix(".whl").unwrap_or_else(|| panic!("{file} is not a .whl"));
    let parts: Vec<&str> = stem.split('-').collect();
    assert!(parts.len() == 5 || parts.len() == 6, "bad wheel name {file}");
    let n = parts.len();
    let mut tags = Vec::new();
    for py in parts[n - 3].split('.') {
        for abi in parts[n - 2].split('.') {
            for plat in parts[n - 1].split('.') {
                tags.push(format!("{py}-{abi}-{plat}"));
            }
        }
    }
    (parts[0].to_owned(), parts[1].to_owned(), tags)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_file(p: &Path) -> String {
    sha256_hex(&fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())))
}

/// A wheel `dir/file` made with the `zip` crate: `members`, then `NAME-VER.dist-info/`
/// METADATA (with `metadata_extra` header lines), WHEEL (its tags from the file name) and a
/// RECORD listing every member with its sha256.
pub fn make_wheel(dir: &Path, file: &str, members: &[(&str, &[u8])], metadata_extra: &str) -> PathBuf {
    let (name, version, tags) = wheel_parts(file);
    let di = format!("{name}-{version}.dist-info");
    let mut all: Vec<(String, Vec<u8>)> = members.iter().map(|(n, d)| ((*n).to_owned(), d.to_vec())).collect();
    all.push((
        format!("{di}/METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{metadata_extra}").into_bytes(),
    ));
    let pure = tags.iter().all(|t| t.ends_with("-any"));
    let mut wheel = format!("Wheel-Version: 1.0\nGenerator: venvaudit-tests\nRoot-Is-Purelib: {pure}\n");
    for t in &tags {
        wheel.push_str(&format!("Tag: {t}\n"));
    }
    all.push((format!("{di}/WHEEL"), wheel.into_bytes()));
    let mut record = String::new();
    for (n, d) in &all {
        let digest = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sha2::Sha256::digest(d));
        record.push_str(&format!("{n},sha256={digest},{}\n", d.len()));
    }
    record.push_str(&format!("{di}/RECORD,,\n"));
    all.push((format!("{di}/RECORD"), record.into_bytes()));

    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    let path = dir.join(file);
    let f = fs::File::create(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (n, d) in &all {
        z.start_file(n.as_str(), opts).unwrap();
        z.write_all(d).unwrap();
    }
    z.finish().unwrap();
    path
}

/// A pure wheel `NAME-VER-py3-none-any.whl` with one module.
pub fn pure_wheel(dir: &Path, name: &str, version: &str, extra: &str) -> PathBuf {
    let module = format!("{}/__init__.py", name.to_lowercase().replace('-', "_"));
    make_wheel(dir, &format!("{name}-{version}-py3-none-any.whl"), &[(module.as_str(), b"VALUE = 1\n")], extra)
}

/// The one wheel of the offline wheelhouse (`scripts/setup.sh`) whose file name starts with
/// `prefix`.
pub fn offline_wheel(prefix: &str) -> PathBuf {
    let dir = std::env::var_os("VENVAUDIT_WHEELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/wheels"));
    let mut hits: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e} (run scripts/setup.sh)", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    assert_eq!(hits.len(), 1, "one wheel {prefix}* expected in {} (scripts/setup.sh): {hits:?}", dir.display());
    hits.pop().unwrap()
}

/// sha256 of a file, by coreutils (not by the tool under test).
pub fn sha256sum(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum").arg(path).output().expect("run sha256sum");
    assert!(out.status.success(), "sha256sum {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

/// A wheelhouse at `dir`: copies of the offline wheels named by prefix, and `requirements.txt`
/// pinning each with its sha256 on a continuation line, as `pip-compile --generate-hashes`
/// writes it; `swap_hash` gives the first wheel the second one's hash (a lock that does not
/// match its files).
pub fn make_wheelhouse(dir: &Path, prefixes: &[&str], swap_hash: bool) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let mut pins = Vec::new();
    for prefix in prefixes {
        let src = offline_wheel(prefix);
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let dst = dir.join(&name);
        fs::copy(&src, &dst).unwrap();
        let mut parts = name.split('-');
        pins.push((parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned(), sha256sum(&dst)));
    }
    if swap_hash {
        pins[0].2 = pins[1].2.clone();
    }
    let mut reqs = String::from("# pinned and hashed for the test's wheelhouse\n");
    for (n, v, h) in &pins {
        reqs += &format!("{n}=={v} \\\n    --hash=sha256:{h}\n");
    }
    fs::write(dir.join("requirements.txt"), reqs).unwrap();
    dir.to_owned()
}

/// A small PyPI advisory database in a zip like osv.dev's: one made-up advisory `id` for
/// django [3.2, 3.2.1), so a test needs no download and no shared data.
pub fn tiny_pypi_zip(path: &Path, id: &str, summary: &str) {
    let record = serde_json::json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2026-12-01T00:00:00Z",
        "published": "2026-12-01T00:00:00Z",
        "summary": summary,
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": "django"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.2"}, {"fixed": "3.2.1"}]}]
        }]
    });
    let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
    zip.start_file(format!("{id}.json"), zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(record.to_string().as_bytes()).unwrap();
    zip.finish().unwrap();
}
