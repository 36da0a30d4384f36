//! `--verify`: compare installed files with the hashes their wheel's RECORD lists.
//! `record-mismatch` when a file's content changed, `record-missing` when it is gone.
//!
//! Every listed file is streamed through SHA-256 (or the SHA-2 variant RECORD names), all
//! files of all environments in parallel. Only files inside the environment are verified: a
//! RECORD line pointing elsewhere is skipped, never followed out of the venv.

use crate::host::paths::{HostRoot, Unresolved, display};
use crate::inspect::Inspected;
use crate::inspect::packages::normalize_name;
use crate::report::FindingId;
use crate::report::{Finding, MetadataFormat, Package, ScanError, Severity};
use rayon::prelude::*;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Most bytes of RECORD read.
const MAX_RECORD: u64 = 64 << 20;
/// Most bytes hashed of a file whose RECORD row states no size (installers always state one;
/// a hand-edited RECORD must not make us hash a 50 GB sparse file).
const MAX_UNSIZED: u64 = 1 << 30;
/// What RECORD says of one path: (hash and size of its last hashed row, listed without a
/// hash at least once, size).
type Listed = (Option<(String, String)>, bool, Option<u64>);
/// Files listed per finding; the count covers the rest.
const SAMPLE: usize = 50;

/// A file to verify.
struct Job {
    venv: usize,
    package: usize,
    /// As written in RECORD.
    listed: String,
    /// View path.
    path: PathBuf,
    /// (algorithm, urlsafe-base64 digest), or `None` for an existence check only.
    hash: Option<(String, String)>,
    /// Size in bytes from RECORD, when stated.
    size: Option<u64>,
}

enum Verdict {
    Ok,
    Missing,
    Mismatch,
    Unreadable(String),
}

/// The result of verifying a set of environments.
#[derive(Debug, Default)]
pub struct Verified {
    /// record-mismatch and record-missing findings.
    pub findings: Vec<Finding>,
    /// Files that could not be read.
    pub errors: Vec<ScanError>,
    /// Files hashed.
    pub files: usize,
    /// Bytes hashed.
    pub bytes: u64,
}

/// Verify every dist-info distribution installed inside the given environments.
pub fn check(root: &HostRoot, venvs: &[&Inspected]) -> Verified {
    let mut jobs = Vec::new();
    let mut errors = Vec::new();
    for (vi, v) in venvs.iter().enumerate() {
        for (pi, p) in v.venv.packages.iter().flatten().enumerate() {
            if p.metadata_format != MetadataFormat::DistInfo || !Path::new(&*p.location).starts_with(&v.path) {
                continue;
            }
            let Some(dist_info) = find_dist_info(root, p) else { continue };
            let record = dist_info.join("RECORD");
            let text = match root.read_bounded(&record, MAX_RECORD) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    errors.push(ScanError { path: display(&record), message: format!("cannot read RECORD: {e}") });
                    continue;
                }
            };
            // Path -> (hash of its last entry, listed without a hash at least once). pip lists
            // a .pyc it recompiled twice: the wheel's hash, then a hashless line; the file on
            // disk is pip's, so such a .pyc cannot be verified.
            let mut entries: BTreeMap<String, Listed> = BTreeMap::new();
            for row in crate::parse::record::rows(&text) {
                // Installers write path,hash,size; anything else is a malformed row, skipped.
                if !row.well_formed {
                    continue;
                }
                let e = entries.entry(row.path).or_insert((None, false, None));
                if row.hash.is_some() {
                    e.0 = row.hash;
                    e.2 = row.size;
                } else {
                    e.1 = true;
                }
            }
            for (listed, (hash, hashless, size)) in entries {
                let file_name = listed.rsplit('/').next().unwrap_or(&listed);
                if matches!(file_name, "RECORD" | "RECORD.jws" | "RECORD.p7s") && hash.is_none() {
                    continue;
                }
                if listed.ends_with(".pyc") && (hash.is_none() || hashless) {
                    continue;
                }
                // `<name>.data/...` rows are the wheel's own: pip moves those files out (to
                // bin/, include/ ...) or skips scripts its entry points replace, yet can leave
                // the original rows in RECORD. No installed file lives there.
                if listed.split('/').next().is_some_and(|c| c.ends_with(".data")) {
                    continue;
                }
                let path = crate::host::paths::normalize(&Path::new(&*p.location).join(&listed));
                if !path.starts_with(&v.path) {
                    continue;
                }
                jobs.push(Job { venv: vi, package: pi, listed, path, hash, size });
            }
        }
    }
    let verdicts: Vec<(Verdict, u64)> = jobs.par_iter().map(|j| verify(root, j)).collect();
    let mut out = Verified { errors, ..Verified::default() };
    let mut groups: BTreeMap<(usize, usize, bool), Vec<String>> = BTreeMap::new();
    for (j, (verdict, bytes)) in jobs.iter().zip(verdicts) {
        out.bytes += bytes;
        if j.hash.is_some() {
            out.files += 1;
        }
        match verdict {
            Verdict::Ok => {}
            Verdict::Missing => groups.entry((j.venv, j.package, false)).or_default().push(j.listed.clone()),
            Verdict::Mismatch => groups.entry((j.venv, j.package, true)).or_default().push(j.listed.clone()),
            Verdict::Unreadable(m) => {
                out.errors.push(ScanError { path: display(&j.path), message: format!("cannot verify: {m}") })
            }
        }
    }
    for ((vi, pi, modified), mut files) in groups {
        let v = venvs[vi];
        let Some(p) = v.venv.packages.as_ref().and_then(|ps| ps.get(pi)) else { continue };
        files.sort();
        let count = files.len();
        let shown = files.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        let more = if count > 5 { format!(" and {} more", count - 5) } else { String::new() };
        let f = if modified {
            Finding::new(
                FindingId::RecordMismatch,
                Severity::Error,
                Some(&v.venv.path),
                format!(
                    "{count} file(s) of {} {} differ from its RECORD (modified after installation): {shown}{more}",
                    p.name, p.version
                ),
                &format!(
                    "Find out who changed them, then reinstall: pip install --force-reinstall --no-deps '{}=={}'",
                    p.name, p.version
                ),
            )
        } else {
            Finding::new(
                FindingId::RecordMissing,
                Severity::Warning,
                Some(&v.venv.path),
                format!("{count} file(s) of {} {} listed in its RECORD are missing: {shown}{more}", p.name, p.version),
                &format!(
                    "Reinstall the distribution: pip install --force-reinstall --no-deps '{}=={}'",
                    p.name, p.version
                ),
            )
        };
        files.truncate(SAMPLE);
        out.findings.push(f.with_package(&p.name).detail("count", count).detail("files", files));
    }
    out
}

/// The `.dist-info` directory of a distribution: `{name}-{version}.dist-info` in its location.
fn find_dist_info(root: &HostRoot, p: &Package) -> Option<PathBuf> {
    let loc = Path::new(&*p.location);
    let rd = std::fs::read_dir(root.real(loc)).ok()?;
    let mut best: Option<(bool, PathBuf)> = None;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".dist-info") else { continue };
        let (n, ver) = stem.split_once('-').unwrap_or((stem, ""));
        if normalize_name(n) != p.normalized_name {
            continue;
        }
        let exact = ver == p.version;
        if best.as_ref().is_none_or(|(b, _)| exact && !*b) {
            best = Some((exact, loc.join(&name)));
        }
    }
    best.map(|(_, p)| p)
}

fn verify(root: &HostRoot, j: &Job) -> (Verdict, u64) {
    let resolved = match root.resolve(&j.path) {
        Ok(r) => r,
        Err(Unresolved::Missing(_)) => return (Verdict::Missing, 0),
        Err(Unresolved::Loop(_)) => return (Verdict::Mismatch, 0),
        Err(Unresolved::Denied(p)) => return (Verdict::Unreadable(format!("permission denied at {}", display(&p))), 0),
    };
    let Some((algo, expected)) = &j.hash else { return (Verdict::Ok, 0) };
    let real = root.real(&resolved);
    match std::fs::metadata(&real) {
        // A size other than RECORD's is a modification, known without reading a byte.
        Ok(m) if m.is_file() && j.size.is_some_and(|s| s != m.len()) => return (Verdict::Mismatch, 0),
        Ok(m) if m.is_file() => {}
        Ok(_) => return (Verdict::Mismatch, 0),
        Err(e) => return (Verdict::Unreadable(e.to_string()), 0),
    }
    // Never hash past RECORD's size + 1 (a file that grew after the stat above is then a
    // mismatch), nor past MAX_UNSIZED when RECORD states no size.
    let limit = j.size.map_or(MAX_UNSIZED, |s| s.saturating_add(1));
    // O_NONBLOCK: a file swapped for a FIFO after the check above must not hang the scan.
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&real) {
        Ok(f) => f,
        Err(e) => return (Verdict::Unreadable(e.to_string()), 0),
    };
    let result = match algo.as_str() {
        "sha256" => digest::<Sha256>(file, limit),
        "sha384" => digest::<Sha384>(file, limit),
        "sha512" => digest::<Sha512>(file, limit),
        // Other algorithms (md5, sha1) are not verified.
        _ => return (Verdict::Ok, 0),
    };
    match result {
        Ok((_, n)) if j.size.is_none() && n >= limit => (
            Verdict::Unreadable(format!("larger than {MAX_UNSIZED} bytes and RECORD states no size; not hashed whole")),
            n,
        ),
        Ok((_, n)) if j.size.is_some_and(|s| n != s) => (Verdict::Mismatch, n),
        Ok((d, n)) if d == *expected => (Verdict::Ok, n),
        Ok((_, n)) => (Verdict::Mismatch, n),
        Err(e) => (Verdict::Unreadable(e.to_string()), 0),
    }
}

/// Stream at most `limit` bytes of a file through a hash; returns the urlsafe, unpadded base64
/// digest and the bytes read.
fn digest<D: Digest>(f: std::fs::File, limit: u64) -> std::io::Result<(String, u64)> {
    let mut f = f.take(limit);
    let mut h = D::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, h.finalize()), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RECORD's digest encoding, as the tests and `verify` compute it.
    fn b64(bytes: &[u8]) -> String {
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    }

    #[test]
    fn base64_matches_python() {
        // base64.urlsafe_b64encode(hashlib.sha256(b"").digest()).rstrip(b"=")
        assert_eq!(b64(&Sha256::digest(b"")), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
        assert_eq!(b64(b"ab"), "YWI");
    }

    /// A listed file swapped for a 50 GB sparse file: judged by its size, not a byte hashed;
    /// a same-size file is hashed, and never past RECORD's size + 1.
    #[test]
    fn hashing_is_bounded_by_the_record_size() {
        let dir = std::env::temp_dir().join(format!("venvaudit-verify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mod.py");
        std::fs::write(&path, b"print('hi')\n").unwrap();
        let good = b64(&Sha256::digest(b"print('hi')\n"));
        let job = |size: Option<u64>| Job {
            venv: 0,
            package: 0,
            listed: "mod.py".into(),
            path: path.clone(),
            hash: Some(("sha256".into(), good.clone())),
            size,
        };
        let root = HostRoot::host();
        assert!(matches!(verify(&root, &job(Some(12))), (Verdict::Ok, 12)));
        assert!(matches!(verify(&root, &job(None)), (Verdict::Ok, 12)));
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(50 << 30).unwrap();
        let (verdict, hashed) = verify(&root, &job(Some(12)));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(verdict, Verdict::Mismatch), "{:?}", matches!(verdict, Verdict::Ok));
        assert_eq!(hashed, 0);
    }
}
