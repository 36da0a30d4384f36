//! Installed distributions of an environment: `*.dist-info`, legacy `*.egg-info` and
//! `*.egg`, editables (PEP 660 and `*.egg-link`), found on the `sys.path` that `site.py`
//! would build from the site-packages directories and their `.pth` files.
//!
//! Only metadata is read (METADATA headers, INSTALLER, REQUESTED, direct_url.json, RECORD);
//! nothing is imported or executed.

use crate::host::paths::{HostRoot, display};
use crate::parse::redact::redact_json;
use crate::report::{Extension, MetadataFormat, Package, TextList};
use rayon::prelude::*;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

/// Most bytes of METADATA headers read: headers are small; the body (the long
/// description) is never needed.
const MAX_HEADER_BYTES: usize = 1 << 20;
/// Most bytes read of RECORD, direct_url.json, .pth and similar small files.
const MAX_SMALL_FILE: u64 = 16 << 20;

/// Distributions of one environment plus the files that could not be read.
#[derive(Debug, Default)]
pub struct PackageScan {
    /// First distribution of each name on `sys.path`, in path order.
    pub packages: Vec<Package>,
    /// (path, message) of unreadable or malformed metadata.
    pub errors: Vec<(String, String)>,
}

pub use crate::parse::pep508::normalize_name;

/// Inspect every distribution visible from the environment's own site-packages dirs and,
/// after them, the base installation's site dirs it sees with `include-system-site-packages`
/// (view paths, in `sys.path` order). Distributions found through `system_site` (or the
/// `.pth` files there) are marked `system`.
pub fn inspect_packages(root: &HostRoot, site_packages: &[PathBuf], system_site: &[PathBuf]) -> PackageScan {
    let mut scan = PackageScan::default();
    let (search_path, editable_dirs) = sys_path(root, site_packages, system_site, &mut scan.errors);

    // Collect metadata dirs in sys.path order, then read them in parallel.
    let mut candidates: Vec<(&Path, Arc<str>, PathBuf, MetadataFormat, bool)> = Vec::new();
    for (dir, system) in &search_path {
        let Ok(rd) = std::fs::read_dir(root.real(dir)) else { continue };
        let mut entries: Vec<(PathBuf, MetadataFormat)> = rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let n = name.to_string_lossy();
                let kind = if n.ends_with(".dist-info") {
                    MetadataFormat::DistInfo
                } else if n.ends_with(".egg-info") {
                    MetadataFormat::EggInfo
                } else if n.ends_with(".egg") {
                    MetadataFormat::Egg
                } else {
                    return None;
                };
                Some((dir.join(&name), kind))
            })
            .collect();
        entries.sort();
        let location: Arc<str> = display(dir).into();
        candidates.extend(entries.into_iter().map(|(p, k)| (dir.as_path(), location.clone(), p, k, *system)));
    }
    let read: Vec<Result<Package, (String, String)>> = candidates
        .par_iter()
        .map(|(dir, location, meta_dir, kind, system)| {
            read_distribution(root, dir, location, meta_dir, *kind, &editable_dirs).map(|mut p| {
                p.system = *system;
                p
            })
        })
        .collect();
    let mut seen = HashSet::new();
    // Distinct INSTALLER texts are the venv's to choose: a set, not a scan of a list.
    let mut installers: HashSet<Arc<str>> = HashSet::new();
    for r in read {
        match r {
            Ok(mut p) => {
                // One allocation per installer name per environment, not one per package.
                if let Some(i) = &mut p.installer {
                    match installers.get(&**i) {
                        Some(k) => *i = k.clone(),
                        None => {
                            installers.insert(i.clone());
                        }
                    }
                }
                // Like importlib.metadata and pip: the first of a name on sys.path wins.
                if seen.insert(p.normalized_name.clone()) {
                    scan.packages.push(p);
                }
            }
            Err(e) => scan.errors.push(e),
        }
    }
    scan
}

/// The `sys.path` entries `site.py` would add: each site-packages dir followed by the
/// directories its `.pth` files name (import lines are never run, only skipped), each with
/// whether it comes from the base installation (`system_site` or its `.pth` files). Also
/// returns the directories named by `*.egg-link` files: legacy `setup.py develop` editables.
fn sys_path(
    root: &HostRoot,
    site_packages: &[PathBuf],
    system_site: &[PathBuf],
    errors: &mut Vec<(String, String)>,
) -> (Vec<(PathBuf, bool)>, HashSet<PathBuf>) {
    let mut path: Vec<(PathBuf, bool)> = Vec::new();
    let mut editable = HashSet::new();
    let dirs = site_packages.iter().map(|d| (d, false)).chain(system_site.iter().map(|d| (d, true)));
    for (sp, system) in dirs {
        // site.py's known_paths: a directory already on sys.path is not added again.
        if !path.iter().any(|(p, _)| p == sp) {
            path.push((sp.clone(), system));
        }
        let rd = match std::fs::read_dir(root.real(sp)) {
            Ok(rd) => rd,
            // A site directory that exists but cannot be listed hides every distribution in
            // it: say so, or the inventory would silently read as "nothing installed".
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                errors.push((display(sp), format!("cannot list site-packages: {e}; its distributions are unknown")));
                continue;
            }
            Err(_) => continue,
        };
        let mut pth: Vec<PathBuf> = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name();
            let n = name.to_string_lossy();
            if n.ends_with(".pth") {
                pth.push(sp.join(&name));
            } else if n.ends_with(".egg-link")
                && let Ok(b) = root.read_bounded(&sp.join(&name), 64 * 1024)
                && let Some(first) = String::from_utf8_lossy(&b).lines().next()
            {
                editable.insert(crate::host::paths::normalize(&sp.join(first.trim())));
            }
        }
        pth.sort();
        for file in pth {
            let bytes = match root.read_bounded(&file, MAX_SMALL_FILE) {
                Ok(b) => b,
                Err(e) => {
                    errors.push((display(&file), format!("cannot read .pth file: {e}")));
                    continue;
                }
            };
            for line in String::from_utf8_lossy(&bytes).lines() {
                let line = line.trim_end();
                if line.is_empty()
                    || line.starts_with('#')
                    || line.starts_with("import ")
                    || line.starts_with("import\t")
                {
                    continue;
                }
                let dir = crate::host::paths::normalize(&sp.join(line));
                if !path.iter().any(|(p, _)| *p == dir) && root.resolve(&dir).is_ok_and(|r| root.real(&r).is_dir()) {
                    path.push((dir, system));
                }
            }
        }
    }
    (path, editable)
}

fn read_distribution(
    root: &HostRoot,
    location: &Path,
    location_text: &Arc<str>,
    meta_dir: &Path,
    kind: MetadataFormat,
    editable_dirs: &HashSet<PathBuf>,
) -> Result<Package, (String, String)> {
    let real = root.real(meta_dir);
    let err = |msg: String| (display(meta_dir), msg);
    // Every file is read by view path through the root (`HostRoot::open`): a METADATA or
    // direct_url.json that links to `/etc/shadow` is read inside `--root`, never on the host.
    let meta_file = match kind {
        MetadataFormat::DistInfo => meta_dir.join("METADATA"),
        MetadataFormat::EggInfo if real.is_dir() => meta_dir.join("PKG-INFO"),
        MetadataFormat::EggInfo => meta_dir.to_path_buf(),
        MetadataFormat::Egg if real.is_dir() => meta_dir.join("EGG-INFO").join("PKG-INFO"),
        MetadataFormat::Egg => return Err(err("zipped .egg files are not inspected".into())),
    };
    let headers =
        root.open(&meta_file).and_then(read_headers).map_err(|e| err(format!("cannot read metadata: {e}")))?;
    let name = headers.get_one("name").ok_or_else(|| err("metadata has no Name".into()))?.to_owned();
    let version = headers.get_one("version").ok_or_else(|| err("metadata has no Version".into()))?.to_owned();
    let version_valid = pep440_rs::Version::from_str(&version).is_ok();
    let mut requires_dist: TextList = headers.get_all("requires-dist").collect();
    let requires_python = headers.get_one("requires-python").map(str::to_owned);

    let mut pkg = Package {
        normalized_name: normalize_name(&name),
        name,
        version,
        version_valid,
        installer: None,
        requested: false,
        editable: editable_dirs.contains(location),
        direct_url: None,
        location: location_text.clone(),
        metadata_format: kind,
        requires_python,
        requires_dist: TextList::default(),
        extensions: Vec::new(),
        system: false,
    };
    match kind {
        MetadataFormat::DistInfo => {
            pkg.installer = root
                .read_bounded(&meta_dir.join("INSTALLER"), 4096)
                .ok()
                .map(|b| Arc::<str>::from(crate::host::paths::backslash_utf8(&b).trim()))
                .filter(|s| !s.is_empty());
            pkg.requested = root.symlink_metadata(&meta_dir.join("REQUESTED")).is_ok();
            if let Ok(b) = root.read_bounded(&meta_dir.join("direct_url.json"), MAX_SMALL_FILE) {
                match serde_json::from_slice::<serde_json::Value>(&b) {
                    Ok(mut v) => {
                        redact_json(&mut v);
                        if v.pointer("/dir_info/editable").and_then(|e| e.as_bool()) == Some(true) {
                            pkg.editable = true;
                        }
                        pkg.direct_url = Some(v);
                    }
                    Err(e) => return Err((display(&meta_dir.join("direct_url.json")), format!("malformed JSON: {e}"))),
                }
            }
            if !is_pure_wheel(root, meta_dir)
                && let Ok(b) = root.read_bounded(&meta_dir.join("RECORD"), MAX_SMALL_FILE)
            {
                // RECORDs are the bulk of metadata I/O (numpy's lists ~1,000 files): skip the
                // line-by-line pass when no shared object is mentioned at all.
                if memchr::memmem::find(&b, b".so").is_some() {
                    pkg.extensions = extensions_from_record(&crate::host::paths::backslash_utf8(&b));
                }
            }
        }
        MetadataFormat::EggInfo | MetadataFormat::Egg => {
            let info_dir = if kind == MetadataFormat::Egg { meta_dir.join("EGG-INFO") } else { meta_dir.to_path_buf() };
            if real.is_dir() || kind == MetadataFormat::Egg {
                if let Ok(b) = root.read_bounded(&info_dir.join("requires.txt"), MAX_SMALL_FILE) {
                    requires_dist =
                        requires_txt_to_requires_dist(&crate::host::paths::backslash_utf8(&b)).iter().collect();
                }
                if let Ok(b) = root.read_bounded(&info_dir.join("installed-files.txt"), MAX_SMALL_FILE) {
                    let text = crate::host::paths::backslash_utf8(&b);
                    pkg.extensions =
                        extensions_from_paths(installed_files(meta_dir.file_name().unwrap_or_default(), &text));
                }
            }
        }
    }
    pkg.requires_dist = requires_dist;
    Ok(pkg)
}

/// True when the WHEEL file says the distribution is pure Python (purelib, every tag
/// `*-none-any`): it has no extension modules, so its RECORD -- the bulk of metadata I/O --
/// need not be read. Without a WHEEL file (e.g. conda) the answer is no.
fn is_pure_wheel(root: &HostRoot, dist_info: &Path) -> bool {
    let Ok(b) = root.read_bounded(&dist_info.join("WHEEL"), 64 * 1024) else { return false };
    let h = Headers::parse(&String::from_utf8_lossy(&b));
    let purelib = h.get_one("root-is-purelib").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut tags = h.get_all("tag").peekable();
    purelib && tags.peek().is_some() && tags.all(|t| t.ends_with("-none-any"))
}

/// The paths an `installed-files.txt` lists, made relative to the location (the directory
/// holding the `.egg-info` named `meta_name`; the file's paths are relative to the egg-info
/// directory itself). Paths outside the location (`../../bin/x`) are left out.
pub(crate) fn installed_files<'a>(meta_name: &'a std::ffi::OsStr, text: &'a str) -> impl Iterator<Item = String> + 'a {
    text.lines().filter_map(move |l| {
        let p = crate::host::paths::normalize(&Path::new("/x").join(meta_name).join(l.trim()));
        let rel = p.strip_prefix("/x").ok()?.to_string_lossy().into_owned();
        (!rel.is_empty()).then_some(rel)
    })
}

/// Extension modules listed in a RECORD (CSV: path,hash,size).
pub(crate) fn extensions_from_record(record: &str) -> Vec<Extension> {
    extensions_from_paths(crate::parse::record::paths(record))
}

fn extensions_from_paths<S: AsRef<str>>(paths: impl Iterator<Item = S>) -> Vec<Extension> {
    let mut out: Vec<Extension> = paths
        .filter(|p| {
            let p = p.as_ref();
            p.ends_with(".so") && !p.starts_with("../") && !p.starts_with('/')
                // Vendored shared libraries (auditwheel's `pkg.libs/`, delocate's `.dylibs`)
                // are not extension modules.
                && !p.split('/').any(|c| c.ends_with(".libs") || c == ".dylibs")
        })
        .map(|p| {
            let p = p.as_ref();
            let file = p.rsplit('/').next().unwrap_or(p);
            Extension { abi_tag: crate::parse::abi_tag::extension_abi_tag(file), path: p.to_owned() }
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    out
}

/// Convert a setuptools `requires.txt` into Requires-Dist strings.
pub(crate) fn requires_txt_to_requires_dist(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (extra, env) = section.split_once(':').unwrap_or((section, ""));
            marker = match (extra.trim(), env.trim()) {
                ("", "") => None,
                ("", m) => Some(m.to_owned()),
                (e, "") => Some(format!("extra == \"{e}\"")),
                (e, m) => Some(format!("({m}) and extra == \"{e}\"")),
            };
            continue;
        }
        out.push(match &marker {
            Some(m) => format!("{line}; {m}"),
            None => line.to_owned(),
        });
    }
    out
}

/// RFC 822-style metadata headers (the part before the first blank line).
#[derive(Debug, Default)]
pub struct Headers {
    fields: Vec<(String, String)>,
}

impl Headers {
    /// Parse header text; continuation lines (leading whitespace) extend the previous value.
    pub fn parse(text: &str) -> Self {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some(last) = fields.last_mut() {
                    last.1.push('\n');
                    last.1.push_str(line.trim());
                }
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                fields.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        Headers { fields }
    }

    /// First value of a (lower-case) header, if non-empty.
    pub fn get_one<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        self.get_all(key).find(|v| !v.is_empty())
    }

    /// Every value of a header.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Read a metadata file up to its first blank line (never the long description).
pub(crate) fn read_headers(mut f: std::fs::File) -> std::io::Result<Headers> {
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = f.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        let start = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if find_blank_line(&buf[start..]).is_some() {
            break;
        }
        if buf.len() >= MAX_HEADER_BYTES {
            // Real headers are a few KiB; a cut would silently drop requirements.
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("headers longer than {MAX_HEADER_BYTES} bytes (no blank line before): not read"),
            ));
        }
    }
    Ok(Headers::parse(&crate::host::paths::backslash_utf8(&buf)))
}

fn find_blank_line(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\n\n").or_else(|| b.windows(4).position(|w| w == b"\r\n\r\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fleet report holds tens of thousands of packages: the location and the installer
    /// are one allocation per directory and per name, not one per package.
    #[test]
    fn packages_of_one_directory_share_location_and_installer() {
        let dir = std::env::temp_dir().join(format!("venvaudit-shared-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sp = dir.join("lib/python3.12/site-packages");
        for (name, installer) in [("a", "pip"), ("b", "pip"), ("c", "uv")] {
            let d = sp.join(format!("{name}-1.0.dist-info"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("METADATA"), format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")).unwrap();
            std::fs::write(d.join("INSTALLER"), format!("{installer}\n")).unwrap();
        }
        let egg = sp.join("d-2.0.egg-info");
        std::fs::create_dir_all(&egg).unwrap();
        std::fs::write(egg.join("PKG-INFO"), "Metadata-Version: 1.1\nName: d\nVersion: 2.0\n").unwrap();
        let root = HostRoot::at(&dir).unwrap();
        let scan = inspect_packages(&root, &[PathBuf::from("/lib/python3.12/site-packages")], &[]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(scan.errors.is_empty(), "{:?}", scan.errors);
        let by = |n: &str| scan.packages.iter().find(|p| p.name == n).unwrap();
        let (a, b, c, d) = (by("a"), by("b"), by("c"), by("d"));
        assert_eq!(&*a.location, "/lib/python3.12/site-packages");
        assert!(Arc::ptr_eq(&a.location, &d.location));
        assert!(Arc::ptr_eq(a.installer.as_ref().unwrap(), b.installer.as_ref().unwrap()));
        assert_eq!(c.installer.as_deref(), Some("uv"));
        assert_eq!((a.metadata_format, d.metadata_format), (MetadataFormat::DistInfo, MetadataFormat::EggInfo));
        assert_eq!(serde_json::to_value(d.metadata_format).unwrap(), "egg-info");
    }

    /// Invalid UTF-8 in METADATA reaches the report as `\xNN`, not U+FFFD; headers longer than
    /// the cap are an error, not a silent cut.
    #[test]
    fn metadata_bytes_are_kept_and_bounded() {
        let dir = std::env::temp_dir().join(format!("venvaudit-meta-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("METADATA");
        std::fs::write(&p, b"Metadata-Version: 2.1\nName: caf\xe9\nVersion: 1.0\n\nbody").unwrap();
        let h = read_headers(std::fs::File::open(&p).unwrap()).unwrap();
        assert_eq!(h.get_one("name"), Some("caf\\xe9"));
        let mut big = b"Metadata-Version: 2.1\nName: big\n".to_vec();
        big.extend(std::iter::repeat_n(b"Requires-Dist: x\n".as_slice(), MAX_HEADER_BYTES / 10).flatten());
        std::fs::write(&p, &big).unwrap();
        let e = read_headers(std::fs::File::open(&p).unwrap()).err().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.to_string().contains("headers longer than"), "{e}");
    }

    #[test]
    fn pep503() {
        assert_eq!(normalize_name("Foo.Bar__baz-Qux"), "foo-bar-baz-qux");
        assert_eq!(normalize_name("PyYAML"), "pyyaml");
    }

    #[test]
    fn headers_stop_at_body() {
        let h =
            Headers::parse("Name: a\nVersion: 1\nRequires-Dist: b>=1\nRequires-Dist: c; extra == 'x'\n\nName: body\n");
        assert_eq!(h.get_one("name"), Some("a"));
        assert_eq!(h.get_all("requires-dist").count(), 2);
    }

    #[test]
    fn record_extensions_skip_vendored_libs() {
        let rec = "numpy/core/_m.cpython-311-x86_64-linux-gnu.so,sha256=x,1\nnumpy.libs/libopenblas.so,sha256=y,2\n\"a,b/c.abi3.so\",,\n../../../bin/x.so,,\n";
        let ext = extensions_from_record(rec);
        let paths: Vec<_> = ext.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a,b/c.abi3.so", "numpy/core/_m.cpython-311-x86_64-linux-gnu.so"]);
    }

    #[test]
    fn requires_txt_sections() {
        let r = requires_txt_to_requires_dist("a>=1\n\n[sec]\nb\n[:python_version < \"3\"]\nc\n");
        assert_eq!(r, ["a>=1", "b; extra == \"sec\"", "c; python_version < \"3\""]);
    }
}
