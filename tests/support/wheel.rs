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
