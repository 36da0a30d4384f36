//! Reading an OSV database: a directory of `*.json` records or a zip of them, parsed in
//! parallel. A record that cannot be read or parsed is skipped and counted; a version value
//! that is not PEP 440 is dropped from its range or list, never the whole record.

use super::{Advisory, Affected, Bound, Database, Event, EventKind, Rating, RatingMethod, cvss};
use crate::inspect::packages::normalize_name;
use pep440_rs::Version;
use rayon::prelude::*;
use serde::Deserialize;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// Why a database could not be loaded at all (a record that cannot be read is skipped and
/// counted instead).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The path does not exist or cannot be stat'ed.
    #[error("cannot open OSV database {}: {cause}", path.display())]
    Open {
        /// The database path.
        path: PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// The path could not be opened or read (or the zip is over the size limit).
    #[error("cannot read OSV database {}: {cause}", path.display())]
    Read {
        /// The database path.
        path: PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// Neither a directory nor a regular file.
    #[error("OSV database {} is neither a directory nor a zip file", .0.display())]
    NotADatabase(PathBuf),
    /// A file that is not a readable zip archive.
    #[error("OSV database {} is not a directory or a readable zip: {cause}", path.display())]
    NotAZip {
        /// The database path.
        path: PathBuf,
        /// The archive reader's error.
        cause: zip::result::ZipError,
    },
}
use std::str::FromStr;
use std::time::Instant;

/// Largest advisory file read (osv.dev records are a few KiB; the largest a few hundred).
const MAX_RECORD_BYTES: u64 = 64 << 20;
/// Largest zip read into memory (osv.dev's full PyPI/all.zip is tens of MiB).
const MAX_ZIP_BYTES: u64 = 2 << 30;
/// Most bytes inflated from a zip in all (osv.dev's PyPI/all.zip inflates to a few hundred
/// MiB): a zip bomb stops here, and the records not read are one `skipped` entry.
const MAX_INFLATED_BYTES: u64 = 4 << 30;
/// Longest summary kept when it is taken from `details`.
const SUMMARY_CHARS: usize = 200;

#[derive(Deserialize)]
struct RawRecord<'a> {
    id: String,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<serde::de::IgnoredAny>,
    aliases: Option<Vec<String>>,
    summary: Option<String>,
    /// Borrowed when it has no escapes: only its first line is kept, and only when there
    /// is no summary.
    #[serde(borrow)]
    details: Option<std::borrow::Cow<'a, str>>,
    severity: Option<Vec<RawSeverity>>,
    affected: Option<Vec<RawAffected>>,
    database_specific: Option<RawDbSpecific>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawDbSpecific {
    severity: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    ranges: Option<Vec<RawRange>>,
    versions: Option<VersionList>,
    severity: Option<Vec<RawSeverity>>,
    database_specific: Option<RawDbSpecific>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    events: Option<Vec<RawEvent>>,
}

#[derive(Deserialize)]
struct RawEvent {
    introduced: Option<serde_json::Value>,
    fixed: Option<serde_json::Value>,
    last_affected: Option<serde_json::Value>,
    limit: Option<serde_json::Value>,
}

/// `versions[]` collected into one newline-separated string: one allocation instead of one
/// per version (the PyPA data lists 140k versions; osv.dev's feed several times more).
#[derive(Default)]
struct VersionList(String);

impl<'de> Deserialize<'de> for VersionList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = VersionList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of version strings")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<VersionList, A::Error> {
                let mut out = String::new();
                while let Some(v) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    // A newline cannot be part of a version; dropping such a value is safe.
                    if v.contains('\n') {
                        continue;
                    }
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str(&v);
                }
                Ok(VersionList(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A parsed record before it is numbered and indexed.
pub(crate) struct Parsed {
    advisory: Advisory,
    affected: Vec<(String, Affected)>,
    invalid_versions: usize,
}

/// What one record file turned out to be.
pub(crate) enum Outcome {
    Record(Box<Parsed>),
    Withdrawn,
    NotPypi,
}

/// Load a database from a directory or a zip.
pub fn load(path: &Path) -> Result<Database, DbError> {
    let start = Instant::now();
    let meta = std::fs::metadata(path).map_err(|cause| DbError::Open { path: path.to_path_buf(), cause })?;
    let (format, results) = if meta.is_dir() {
        ("directory", load_dir(path))
    } else if meta.is_file() {
        ("zip", load_zip(path, MAX_INFLATED_BYTES)?)
    } else {
        return Err(DbError::NotADatabase(path.to_path_buf()));
    };
    let mut db = Database { path: crate::host::paths::display(path), format, ..Database::default() };
    for (file, r) in results {
        match r {
            Err(msg) => db.skipped.push((file, msg)),
            Ok(Outcome::Withdrawn) => db.withdrawn += 1,
            Ok(Outcome::NotPypi) => {}
            Ok(Outcome::Record(p)) => {
                let idx = db.advisories.len();
                db.invalid_versions += p.invalid_versions;
                if p.advisory.modified > db.newest_modified {
                    db.newest_modified = p.advisory.modified.clone();
                }
                db.advisories.push(p.advisory);
                for (name, mut a) in p.affected {
                    a.advisory = idx;
                    db.index.entry(name).or_default().push(a);
                }
            }
        }
    }
    db.skipped.sort();
    db.load_ms = start.elapsed().as_secs_f64() * 1000.0;
    Ok(db)
}

type FileResult = (String, Result<Outcome, String>);

fn load_dir(dir: &Path) -> Vec<FileResult> {
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for e in walkdir::WalkDir::new(dir).follow_links(true).max_depth(4) {
        match e {
            Ok(e) if e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(".json") => {
                files.push(e.into_path())
            }
            Ok(_) => {}
            // An unreadable subdirectory or a link loop costs its records, not the load.
            Err(err) => unreadable.push((
                err.path().map(crate::host::paths::display).unwrap_or_else(|| crate::host::paths::display(dir)),
                Err(format!("cannot read: {err}")),
            )),
        }
    }
    files.sort();
    unreadable
        .into_iter()
        .chain(
            files
                .par_iter()
                .map(|f| {
                    let name = crate::host::paths::display(f);
                    let r = crate::host::paths::read_bounded(f, MAX_RECORD_BYTES)
                        .map_err(|e| format!("cannot read: {e}"))
                        .and_then(|b| parse_record(&b));
                    (name, r)
                })
                .collect::<Vec<_>>(),
        )
        .collect()
}

fn load_zip(path: &Path, max_inflated: u64) -> Result<Vec<FileResult>, DbError> {
    let bytes = crate::host::paths::read_bounded(path, MAX_ZIP_BYTES)
        .map_err(|cause| DbError::Read { path: path.to_path_buf(), cause })?;
    let archive = zip::ZipArchive::new(Cursor::new(bytes.as_slice()))
        .map_err(|cause| DbError::NotAZip { path: path.to_path_buf(), cause })?;
    let n = archive.len();
    let inflated = std::sync::atomic::AtomicU64::new(0);
    let over_cap = std::sync::atomic::AtomicUsize::new(0);
    use std::sync::atomic::Ordering::Relaxed;
    // Each worker gets its own cheap clone of the archive (the central directory is shared)
    // and its own inflater and buffers, reused for every record: a fresh decoder per entry
    // (what `ZipArchive::by_index` does) allocates ~45 KiB that the parsed record's small,
    // long-lived allocations then pin, and glibc's heap grew by that much per record (70 MiB
    // peak RSS for the 2,662 PyPA records, against 11 MiB of live heap).
    let mut results: Vec<FileResult> = (0..n)
        .into_par_iter()
        .with_min_len(64)
        .map_init(
            || (archive.clone(), Inflater::default()),
            |(a, inflater), i| -> Option<FileResult> {
                let mut f = match a.by_index_raw(i) {
                    Ok(f) => f,
                    Err(e) => return Some((format!("entry #{i}"), Err(format!("cannot read zip entry: {e}")))),
                };
                let name = f.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("entry #{i}"));
                if !f.is_file() || !name.ends_with(".json") {
                    return None;
                }
                if inflated.load(Relaxed) >= max_inflated {
                    over_cap.fetch_add(1, Relaxed);
                    return None;
                }
                let (method, crc) = (f.compression(), f.crc32());
                let read = inflater.read_entry(&mut f, method, crc, MAX_RECORD_BYTES);
                inflated.fetch_add(inflater.out.len() as u64, Relaxed);
                Some((name, read.and_then(|()| parse_record(&inflater.out))))
            },
        )
        .flatten()
        .collect();
    let skipped = over_cap.load(Relaxed);
    if skipped > 0 {
        results.push((
            crate::host::paths::display(path),
            Err(format!(
                "{skipped} records not read: the zip inflates to more than {max_inflated} bytes (a zip bomb, or not an OSV database)"
            )),
        ));
    }
    Ok(results)
}

/// One worker's reusable state for reading zip entries: the inflater and both buffers live
/// as long as the worker, so reading a record allocates nothing once they have grown to the
/// largest record.
struct Inflater {
    z: flate2::Decompress,
    input: Vec<u8>,
    /// The last entry read, inflated.
    out: Vec<u8>,
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater { z: flate2::Decompress::new(false), input: vec![0; 64 << 10], out: Vec::new() }
    }
}

impl Inflater {
    /// Read one entry's raw (still compressed) data from `raw` into `self.out`, inflating it
    /// when it is deflated, at most `cap` bytes, and check its CRC-32.
    fn read_entry(
        &mut self,
        raw: &mut impl Read,
        method: zip::CompressionMethod,
        crc: u32,
        cap: u64,
    ) -> Result<(), String> {
        self.out.clear();
        let too_big = || format!("larger than {cap} bytes; not read");
        match method {
            zip::CompressionMethod::Stored => {
                // One byte more than the cap tells a record cut by it from one that fits.
                raw.take(cap + 1).read_to_end(&mut self.out).map_err(|e| format!("cannot read: {e}"))?;
                if self.out.len() as u64 > cap {
                    return Err(too_big());
                }
            }
            zip::CompressionMethod::Deflated => {
                self.z.reset(false);
                let (mut filled, mut used) = (0usize, 0usize);
                loop {
                    if used == filled {
                        filled = raw.read(&mut self.input).map_err(|e| format!("cannot decompress: {e}"))?;
                        used = 0;
                        if filled == 0 {
                            return Err("cannot decompress: the entry ends before its deflate stream does".into());
                        }
                    }
                    if self.out.len() == self.out.capacity() {
                        if self.out.len() as u64 > cap {
                            return Err(too_big());
                        }
                        // Grow by doubling, never past one byte more than the cap.
                        let room = (self.out.capacity().max(16 << 10)).min((cap + 1) as usize - self.out.len());
                        self.out.reserve_exact(room);
                    }
                    let before = self.z.total_in();
                    let status = self
                        .z
                        .decompress_vec(&self.input[used..filled], &mut self.out, flate2::FlushDecompress::None)
                        .map_err(|e| format!("cannot decompress: {e}"))?;
                    used += (self.z.total_in() - before) as usize;
                    if status == flate2::Status::StreamEnd {
                        break;
                    }
                }
                if self.out.len() as u64 > cap {
                    return Err(too_big());
                }
            }
            other => return Err(format!("cannot decompress: compression method {other} is not supported")),
        }
        let mut sum = flate2::Crc::new();
        sum.update(&self.out);
        if sum.sum() != crc {
            return Err("cannot decompress: CRC-32 mismatch (a damaged or altered zip)".into());
        }
        Ok(())
    }
}

/// Parse one OSV record.
pub(crate) fn parse_record(bytes: &[u8]) -> Result<Outcome, String> {
    let raw: RawRecord = serde_json::from_slice(bytes).map_err(|e| format!("not an OSV record: {e}"))?;
    if raw.withdrawn.is_some() {
        return Ok(Outcome::Withdrawn);
    }
    let mut invalid = 0;
    let mut affected = Vec::new();
    for a in raw.affected.unwrap_or_default() {
        let Some(pkg) = &a.package else { continue };
        if pkg.ecosystem != "PyPI" {
            continue;
        }
        let mut ranges = Vec::new();
        let mut fixed = Vec::new();
        for r in a.ranges.unwrap_or_default() {
            if r.kind != "ECOSYSTEM" {
                continue;
            }
            let mut events = Vec::new();
            for ev in r.events.unwrap_or_default() {
                let all = [
                    (EventKind::Introduced, ev.introduced),
                    (EventKind::Fixed, ev.fixed),
                    (EventKind::LastAffected, ev.last_affected),
                    (EventKind::Limit, ev.limit),
                ];
                for (kind, v) in all {
                    let Some(v) = v else { continue };
                    let Some(text) = v.as_str() else {
                        invalid += 1;
                        continue;
                    };
                    if kind == EventKind::Fixed {
                        fixed.push(text.to_owned());
                    }
                    match parse_bound(kind, text) {
                        Some(at) => events.push(Event { kind, at }),
                        None => invalid += 1,
                    }
                }
            }
            events.sort_by(|x, y| x.at.cmp(&y.at).then(x.kind.cmp(&y.kind)));
            ranges.push(events);
        }
        // Parsed at match time, only for installed packages: parsing every listed version
        // here would dominate the load (140k values in the PyPA data set).
        let versions = a.versions.unwrap_or_default().0;
        let rating = db_rating(a.database_specific.as_ref())
            .or_else(|| cvss::rate(a.severity.iter().flatten().map(|s| (s.kind.as_str(), s.score.as_str()))));
        affected.push((normalize_name(&pkg.name), Affected { advisory: 0, ranges, versions, fixed, rating }));
    }
    if affected.is_empty() {
        return Ok(Outcome::NotPypi);
    }
    let rating = db_rating(raw.database_specific.as_ref())
        .or_else(|| cvss::rate(raw.severity.iter().flatten().map(|s| (s.kind.as_str(), s.score.as_str()))));
    let summary = match raw.summary.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => s.to_owned(),
        None => shorten(raw.details.as_deref().unwrap_or("").trim().lines().next().unwrap_or("")),
    };
    let advisory = Advisory {
        id: raw.id,
        aliases: raw.aliases.unwrap_or_default(),
        summary,
        published: raw.published,
        modified: raw.modified,
        rating,
    };
    Ok(Outcome::Record(Box::new(Parsed { advisory, affected, invalid_versions: invalid })))
}

/// An event value on the PEP 440 line; `None` when it is not valid PEP 440.
fn parse_bound(kind: EventKind, text: &str) -> Option<Bound> {
    match (kind, text) {
        (EventKind::Introduced, "0") => Some(Bound::Zero),
        (EventKind::Limit, t) if t.contains('*') => Some(Bound::Infinity),
        (_, t) => Version::from_str(t).ok().map(Bound::At),
    }
}

/// `database_specific.severity` as GHSA writes it: CRITICAL, HIGH, MODERATE/MEDIUM, LOW.
fn db_rating(db: Option<&RawDbSpecific>) -> Option<Rating> {
    let s = db?.severity.as_ref()?.as_str()?;
    let severity = cvss::severity_of_label(s)?;
    Some(Rating { severity, method: RatingMethod::DatabaseLabel, score: None, label: s.to_ascii_uppercase() })
}

/// First line of details, at most [`SUMMARY_CHARS`] characters.
fn shorten(s: &str) -> String {
    if s.chars().count() <= SUMMARY_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(SUMMARY_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip that inflates past the total cap: records up to the cap are read, the rest are
    /// one `skipped` entry saying why; a record over the per-record cap is an error, not cut.
    #[test]
    fn inflation_is_capped() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("venvaudit-osv-bomb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bomb.zip");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        // 8 valid records padded to 256 KiB each with whitespace (compresses to almost nothing).
        for i in 0..8 {
            w.start_file(format!("PYSEC-{i}.json"), opts).unwrap();
            let rec = format!("{{\"id\": \"PYSEC-{i}\", \"modified\": \"2024-01-01T00:00:00Z\"}}");
            w.write_all(rec.as_bytes()).unwrap();
            w.write_all(&vec![b' '; 256 << 10]).unwrap();
        }
        w.finish().unwrap();
        let results = load_zip(&path, 1 << 20).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let read = results.iter().filter(|(_, r)| r.is_ok()).count();
        // Every worker may finish the record it started when the cap is reached.
        assert!((4..=4 + rayon::current_num_threads() * 64).contains(&read), "{read}");
        let bomb: Vec<&String> = results.iter().filter_map(|(_, r)| r.as_ref().err()).collect();
        assert_eq!(bomb.len(), 1, "{bomb:?}");
        assert!(bomb[0].contains("records not read") && bomb[0].contains("inflates to more than"), "{bomb:?}");
    }

    /// The reused inflater reads what the zip crate's own reader reads (stored and deflated
    /// entries, one larger than its first buffer), and a damaged entry is refused by its
    /// CRC-32, not parsed.
    #[test]
    fn reused_inflater_reads_what_zip_reads_and_checks_crc() {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let big: String = (0..40_000).map(|i| format!("{i},")).collect();
        let entries = [
            ("a.json", deflated, big.clone()),
            ("b.json", stored, "{\"id\":\"B\"}".into()),
            ("c.json", deflated, "x".repeat(10)),
        ];
        for (name, opts, body) in &entries {
            w.start_file(*name, *opts).unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        let mut bytes = w.finish().unwrap().into_inner();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut inflater = Inflater::default();
        for (i, (_, _, body)) in entries.iter().enumerate() {
            let mut f = archive.by_index_raw(i).unwrap();
            let (m, crc) = (f.compression(), f.crc32());
            inflater.read_entry(&mut f, m, crc, MAX_RECORD_BYTES).unwrap();
            assert_eq!(inflater.out, body.as_bytes(), "entry {i}");
        }
        // Over the cap: refused, not cut.
        let mut f = archive.by_index_raw(0).unwrap();
        let (m, crc) = (f.compression(), f.crc32());
        let err = inflater.read_entry(&mut f, m, crc, 1000).unwrap_err();
        assert!(err.contains("larger than 1000"), "{err}");
        drop(f);
        drop(archive);
        // Flip one byte of the stored entry's data.
        let at = bytes.windows(8).position(|w| w == b"{\"id\":\"B").unwrap() + 7;
        bytes[at] = b'C';
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut f = archive.by_index_raw(1).unwrap();
        let (m, crc) = (f.compression(), f.crc32());
        let err = inflater.read_entry(&mut f, m, crc, MAX_RECORD_BYTES).unwrap_err();
        assert_eq!(inflater.out, b"{\"id\":\"C\"}", "the damaged bytes reached the check");
        assert!(err.contains("CRC-32"), "{err}");
    }

    #[test]
    fn invalid_versions_are_dropped_not_the_record() {
        let rec = br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","details":"d",
          "affected":[{"package":{"ecosystem":"PyPI","name":"Foo_Bar"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"2.0"},{"introduced":"0"},{"fixed":"0.3m1"}]},
                      {"type":"GIT","repo":"r","events":[{"introduced":"abc"}]}],
            "versions":["1.0","0.3m1"]}]}"#;
        let Ok(Outcome::Record(p)) = parse_record(rec) else { panic!("not parsed") };
        assert_eq!(p.invalid_versions, 1);
        let (name, a) = &p.affected[0];
        assert_eq!(name, "foo-bar");
        assert_eq!(a.ranges.len(), 1, "GIT ranges are ignored");
        assert_eq!(a.ranges[0].len(), 2);
        assert_eq!(a.ranges[0][0].at, Bound::Zero, "events are sorted");
        assert!(matches!(
            parse_record(br#"{"id":"W","withdrawn":"2024-01-01T00:00:00Z","affected":[]}"#),
            Ok(Outcome::Withdrawn)
        ));
        assert!(parse_record(b"{nope").is_err());
        assert!(matches!(
            parse_record(br#"{"id":"N","affected":[{"package":{"ecosystem":"npm","name":"x"}}]}"#),
            Ok(Outcome::NotPypi)
        ));
    }
}
