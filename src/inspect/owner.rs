//! Who installed the interpreter an environment runs, from files only: the OS package
//! manager (dpkg's `info/*.list` and `status`, rpm's database) or the Python manager whose
//! layout it lives in (conda's `conda-meta`, uv's and pyenv's version directories,
//! python-build-standalone's `PYTHON.json`). Nothing is run and nothing is written: the rpm
//! database is opened read-only and immutable.

use crate::host::paths::{HostRoot, display};
use crate::report::{InterpreterOwner, OwnerManager};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Largest dpkg `*.list` read (the biggest Debian packages list a few MB).
const MAX_LIST_BYTES: u64 = 32 << 20;
/// Largest dpkg `status` read.
const MAX_STATUS_BYTES: u64 = 256 << 20;
/// Largest conda-meta record or PYTHON.json read.
const MAX_JSON_BYTES: u64 = 64 << 20;
/// Largest rpm header blob parsed (rpm's own limit on header data is 256 MB; a python
/// package's header is well under 1 MB).
const MAX_RPM_HEADER: i64 = 64 << 20;
/// At most this many rpm packages that list a file of the same base name are examined.
const MAX_RPM_CANDIDATES: usize = 256;
/// At most this many dpkg lists are read for one file.
const MAX_DPKG_LISTS: usize = 100_000;

/// Where the rpm database lives: `/var/lib/rpm` (RHEL, older Fedora, SUSE) and
/// `/usr/lib/sysimage/rpm` (Fedora 36+, openSUSE; `/var/lib/rpm` links there).
const RPM_DIRS: &[&str] = &["/var/lib/rpm", "/usr/lib/sysimage/rpm"];

/// Owner lookups in a package database, cached by the file and the database's identity
/// (modification time and size): a venv fleet on one base reads the database once, and a
/// database changed since is read again.
type CacheKey = (PathBuf, Vec<(u64, u64, i64, i64)>);
type Found = Option<(InterpreterOwner, String)>;
static DB_CACHE: Mutex<Option<HashMap<CacheKey, Found>>> = Mutex::new(None);
const MAX_CACHE: usize = 4096;

/// The owner of the interpreter at `exe` (a view path with every link resolved), and where
/// that was read from.
pub fn interpreter_owner(root: &HostRoot, exe: &Path) -> (InterpreterOwner, String) {
    let prefix = exe.parent().and_then(Path::parent).unwrap_or(Path::new("/"));
    if let Some(found) = conda_owner(root, prefix) {
        return found;
    }
    if let Some(found) = uv_owner(exe) {
        return found;
    }
    if let Some(found) = pyenv_owner(exe) {
        return found;
    }
    if let Some(found) = standalone_owner(root, prefix) {
        return found;
    }
    if let Some(found) = package_db_owner(root, exe) {
        return found;
    }
    (
        InterpreterOwner { manager: OwnerManager::Unknown, package: None, version: None },
        "no package database or Python manager claims it".into(),
    )
}

// ------------------------------------------------------------------ Python managers

/// `conda-meta/python-X.Y.Z-BUILD.json` in the installation: conda's record of the package.
fn conda_owner(root: &HostRoot, prefix: &Path) -> Option<(InterpreterOwner, String)> {
    let (file, name_version) = conda_python_record(root, prefix)?;
    let json = root
        .read_bounded(&file, MAX_JSON_BYTES)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let field = |k: &str| json.as_ref().and_then(|j| j[k].as_str()).map(str::to_owned);
    let owner = InterpreterOwner {
        manager: OwnerManager::Conda,
        package: Some(field("name").unwrap_or_else(|| "python".into())),
        version: Some(field("version").unwrap_or(name_version)),
    };
    Some((owner, display(&file)))
}

/// The conda-meta record of the `python` package in `prefix`: (view path, version in its name).
pub(crate) fn conda_python_record(root: &HostRoot, prefix: &Path) -> Option<(PathBuf, String)> {
    let dir = prefix.join("conda-meta");
    let real = root.real(&root.resolve(&dir).ok()?);
    let mut names: Vec<String> = std::fs::read_dir(real)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("python-") && n.ends_with(".json"))
        .collect();
    names.sort();
    names.into_iter().find_map(|name| {
        let rest = name.strip_prefix("python-")?.strip_suffix(".json")?;
        let ver = rest.split('-').next()?;
        ver.starts_with(|c: char| c.is_ascii_digit()).then(|| (dir.join(&name), ver.to_owned()))
    })
}

/// uv's managed Pythons: `…/uv/python/cpython-3.12.8-linux-x86_64-gnu/bin/python3.12`.
fn uv_owner(exe: &Path) -> Option<(InterpreterOwner, String)> {
    let parts: Vec<String> = exe.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let i = parts.windows(3).position(|w| {
        w[0] == "uv"
            && w[1] == "python"
            && ["cpython-", "pypy-", "graalpy-"].iter().any(|p| w[2].starts_with(p))
            && w[2].split('-').count() >= 4
    })?;
    let dir = &parts[i + 2];
    // cpython-3.13.0+freethreaded-linux-x86_64-gnu: the version is the second field.
    let version = dir.split('-').nth(1).map(|v| v.split('+').next().unwrap_or(v).to_owned());
    let at: PathBuf = parts[..=i + 2].iter().collect();
    let owner = InterpreterOwner { manager: OwnerManager::Uv, package: Some(dir.clone()), version };
    Some((owner, format!("path: {} is a Python that uv installed", display(&at))))
}

/// pyenv's versions: `$PYENV_ROOT/versions/NAME/` where the root is `.pyenv` (the default)
/// or another directory named for pyenv (`/opt/pyenv`).
fn pyenv_owner(exe: &Path) -> Option<(InterpreterOwner, String)> {
    let parts: Vec<String> = exe.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let i = parts.windows(3).position(|w| w[0].ends_with("pyenv") && w[1] == "versions" && !w[2].is_empty())?;
    // The version directory must hold the executable, not be it.
    if parts.len() <= i + 3 {
        return None;
    }
    let name = &parts[i + 2];
    let version = is_release(name).then(|| name.clone());
    let at: PathBuf = parts[..=i + 2].iter().collect();
    let owner = InterpreterOwner { manager: OwnerManager::Pyenv, package: Some(name.clone()), version };
    Some((owner, format!("path: {} is a pyenv version", display(&at))))
}

/// `3.12.1`, `3.13.0rc2`, `2.7.18`: a version name that says which release it is.
fn is_release(name: &str) -> bool {
    let mut parts = name.split('.');
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (Some(a), Some(b)) = (parts.next(), parts.next()) else { return false };
    let rest: Vec<&str> = parts.collect();
    numeric(a)
        && numeric(b)
        && rest.len() <= 1
        && rest.first().is_none_or(|c| {
            let digits = c.bytes().take_while(u8::is_ascii_digit).count();
            let tail = &c[digits..];
            digits > 0
                && (tail.is_empty()
                    || ["a", "b", "rc"]
                        .iter()
                        .any(|p| tail.strip_prefix(p).is_some_and(|n| !n.is_empty() && numeric(n))))
        })
}

/// The `PYTHON.json` of a python-build-standalone distribution holding the installation at
/// `prefix`: at its root (an install laid out with it), or one level up when the
/// installation is the full archive's `python/install/`.
pub(crate) fn standalone_record(root: &HostRoot, prefix: &Path) -> Option<(PathBuf, serde_json::Value)> {
    let mut candidates = vec![prefix.join("PYTHON.json")];
    if prefix.file_name().is_some_and(|n| n == "install")
        && let Some(up) = prefix.parent()
    {
        candidates.push(up.join("PYTHON.json"));
    }
    candidates.into_iter().find_map(|p| {
        let bytes = root.read_bounded(&p, MAX_JSON_BYTES).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        v["python_version"].is_string().then_some((p, v))
    })
}

fn standalone_owner(root: &HostRoot, prefix: &Path) -> Option<(InterpreterOwner, String)> {
    let (file, v) = standalone_record(root, prefix)?;
    let owner = InterpreterOwner {
        manager: OwnerManager::PythonBuildStandalone,
        package: Some(v["python_implementation_name"].as_str().unwrap_or("cpython").to_owned()),
        version: v["python_version"].as_str().map(str::to_owned),
    };
    Some((owner, display(&file)))
}

// ------------------------------------------------------------------ package databases

/// The paths a package database may list the file under: the resolved path and its alias
/// through the usrmerge links (`/bin` → `/usr/bin`, `/lib` → `/usr/lib`, ...), since
/// packages built before the merge list `/bin/...` and those built after `/usr/bin/...`.
fn aliases(exe: &Path) -> Vec<PathBuf> {
    let mut out = vec![exe.to_path_buf()];
    for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let merged = Path::new("/usr").join(top);
        if let Ok(rest) = exe.strip_prefix(&merged) {
            out.push(Path::new("/").join(top).join(rest));
        } else if let Ok(rest) = exe.strip_prefix(Path::new("/").join(top)) {
            out.push(merged.join(rest));
        }
    }
    out
}

/// Under a directory no distribution package installs into (`/usr/local` by policy, homes,
/// temporary directories): the package databases are not searched.
fn outside_packages(exe: &Path) -> bool {
    ["/usr/local", "/home", "/root", "/tmp", "/var/tmp"].iter().any(|p| exe.starts_with(p))
}

/// Under `/usr` (or a usrmerge alias of it): where a distribution's interpreter lives.
fn under_usr(exe: &Path) -> bool {
    !exe.starts_with("/usr/local") && ["/usr", "/bin", "/sbin", "/lib", "/lib64"].iter().any(|p| exe.starts_with(p))
}

/// Identity of a database file for the cache: (inode, size, mtime seconds, nanoseconds).
fn fingerprint(root: &HostRoot, view: &Path) -> Option<(u64, u64, i64, i64)> {
    let r = root.resolve(view).ok()?;
    let m = std::fs::metadata(root.real(&r)).ok()?;
    Some((m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

fn package_db_owner(root: &HostRoot, exe: &Path) -> Option<(InterpreterOwner, String)> {
    if outside_packages(exe) {
        return None;
    }
    let dbs: Vec<PathBuf> = std::iter::once(PathBuf::from("/var/lib/dpkg/status"))
        .chain(
            RPM_DIRS
                .iter()
                .flat_map(|d| ["rpmdb.sqlite", "Packages", "Packages.db"].iter().map(move |f| Path::new(d).join(f))),
        )
        .collect();
    let prints: Vec<(u64, u64, i64, i64)> = dbs.iter().filter_map(|p| fingerprint(root, p)).collect();
    if prints.is_empty() {
        return None;
    }
    let key = (root.real(exe), prints);
    if let Ok(guard) = DB_CACHE.lock()
        && let Some(hit) = guard.as_ref().and_then(|c| c.get(&key))
    {
        return hit.clone();
    }
    let found = dpkg_owner(root, exe).or_else(|| rpm_owner(root, exe));
    if let Ok(mut guard) = DB_CACHE.lock() {
        let cache = guard.get_or_insert_with(HashMap::new);
        if cache.len() >= MAX_CACHE {
            cache.clear();
        }
        cache.insert(key, found.clone());
    }
    found
}

/// dpkg: the `var/lib/dpkg/info/PACKAGE[:ARCH].list` naming the file, then the package's
/// `Version:` in `var/lib/dpkg/status`.
fn dpkg_owner(root: &HostRoot, exe: &Path) -> Option<(InterpreterOwner, String)> {
    let info = Path::new("/var/lib/dpkg/info");
    let real = root.real(&root.resolve(info).ok()?);
    let mut lists: Vec<String> = std::fs::read_dir(real)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".list"))
        .collect();
    // Python's own packages first: the search usually ends in the first few lists.
    lists.sort_by_key(|n| (!(n.starts_with("python") || n.starts_with("libpython")), n.clone()));
    let wanted: Vec<String> = aliases(exe).iter().map(|p| display(p)).collect();
    let list = lists.iter().take(MAX_DPKG_LISTS).find(|name| {
        root.read_bounded(&info.join(name), MAX_LIST_BYTES)
            .is_ok_and(|bytes| bytes.split(|b| *b == b'\n').any(|line| wanted.iter().any(|w| w.as_bytes() == line)))
    })?;
    let stem = list.strip_suffix(".list").unwrap_or(list);
    let (package, arch) = match stem.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (stem, None),
    };
    let status = root.read_text(Path::new("/var/lib/dpkg/status"), MAX_STATUS_BYTES).unwrap_or_default();
    let version = dpkg_status_version(&status, package, arch);
    let owner =
        InterpreterOwner { manager: OwnerManager::Dpkg, package: Some(package.to_owned()), version: version.clone() };
    let evidence = match version {
        Some(_) => format!("{} lists it; version from /var/lib/dpkg/status", display(&info.join(list))),
        None => format!("{} lists it; /var/lib/dpkg/status has no version for it", display(&info.join(list))),
    };
    Some((owner, evidence))
}

/// The `Version:` of `package` (of `arch`, when the list named one) in a dpkg status file,
/// preferring the stanza whose `Status:` says installed.
pub(crate) fn dpkg_status_version(status: &str, package: &str, arch: Option<&str>) -> Option<String> {
    let mut best: Option<(bool, String)> = None;
    for stanza in status.split("\n\n") {
        let (mut name, mut version, mut architecture, mut installed) = (None, None, None, false);
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("Package:") {
                name = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Version:") {
                version = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Architecture:") {
                architecture = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Status:") {
                installed = v.trim().ends_with(" installed");
            }
        }
        let arch_ok = match (arch, architecture) {
            (Some(want), Some(have)) => want == have || have == "all",
            _ => true,
        };
        if name == Some(package)
            && arch_ok
            && let Some(v) = version
            && best.as_ref().is_none_or(|(was_installed, _)| installed && !was_installed)
        {
            best = Some((installed, v.to_owned()));
        }
    }
    best.map(|(_, v)| v)
}

/// rpm: the SQLite database of rpm 4.16+ (RHEL 9, Fedora 33+) is read; the BerkeleyDB
/// (`Packages`, RHEL 7/8) and ndb (`Packages.db`, SUSE) databases are not, and only say the
/// interpreter under `/usr` is the distribution's, package unknown.
fn rpm_owner(root: &HostRoot, exe: &Path) -> Option<(InterpreterOwner, String)> {
    for dir in RPM_DIRS {
        let db = Path::new(dir).join("rpmdb.sqlite");
        let Ok(resolved) = root.resolve(&db) else { continue };
        let real = root.real(&resolved);
        match rpm_sqlite_owner(&real, exe) {
            Ok(Some((name, version))) => {
                let owner =
                    InterpreterOwner { manager: OwnerManager::Rpm, package: Some(name), version: Some(version) };
                return Some((owner, format!("{} (Basenames, Packages header)", display(&db))));
            }
            Ok(None) => return None,
            Err(e) if under_usr(exe) => {
                let owner = InterpreterOwner { manager: OwnerManager::Rpm, package: None, version: None };
                return Some((owner, format!("{}: cannot be read ({e}); owned, package unknown", display(&db))));
            }
            Err(_) => return None,
        }
    }
    if !under_usr(exe) {
        return None;
    }
    for dir in RPM_DIRS {
        for (file, kind) in [("Packages", "BerkeleyDB"), ("Packages.db", "ndb")] {
            let db = Path::new(dir).join(file);
            if root.exists(&db) {
                let owner = InterpreterOwner { manager: OwnerManager::Rpm, package: None, version: None };
                return Some((
                    owner,
                    format!("{} ({kind} rpm database, not read): owned, package unknown", display(&db)),
                ));
            }
        }
    }
    None
}

/// `file:` URI of a real path for SQLite, every byte but unreserved ones escaped.
fn sqlite_uri(real: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &b in real.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// The package (name, `[EPOCH:]VERSION-RELEASE`) whose file list holds `exe` (or its usrmerge
/// alias), from an rpm SQLite database opened read-only and immutable: SQLite then takes no
/// lock and writes no journal, WAL or shared-memory file beside it.
fn rpm_sqlite_owner(real_db: &Path, exe: &Path) -> rusqlite::Result<Option<(String, String)>> {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(
        sqlite_uri(real_db),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut by_name = conn.prepare("SELECT hnum, idx FROM Basenames WHERE key = ?1 LIMIT ?2")?;
    let mut blob_of = conn.prepare("SELECT blob FROM Packages WHERE hnum = ?1 AND length(blob) <= ?2")?;
    for path in aliases(exe) {
        let (Some(dir), Some(base)) = (path.parent(), path.file_name()) else { continue };
        let base = base.to_string_lossy().into_owned();
        let dir = format!("{}/", display(dir).trim_end_matches('/'));
        let hits: Vec<(i64, i64)> = by_name
            .query_map(rusqlite::params![base, MAX_RPM_CANDIDATES as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (hnum, idx) in hits {
            let blob: Option<Vec<u8>> = match blob_of.query_row(rusqlite::params![hnum, MAX_RPM_HEADER], |r| r.get(0)) {
                Ok(b) => Some(b),
                Err(rusqlite::Error::QueryReturnedNoRows) => None,
                Err(e) => return Err(e),
            };
            let Some(header) = blob.as_deref().and_then(RpmHeader::parse) else { continue };
            let Ok(idx) = usize::try_from(idx) else { continue };
            if header.file_dir(idx).as_deref() != Some(dir.as_str())
                || header.string_array(TAG_BASENAMES).and_then(|b| b.get(idx).cloned()).as_deref() != Some(&base)
            {
                continue;
            }
            if let Some(nvr) = header.name_version() {
                return Ok(Some(nvr));
            }
        }
    }
    Ok(None)
}

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// An rpm header as the database stores it: no magic, a big-endian index count and data
/// size, then 16-byte index entries (tag, type, offset, count) and the data they point into.
pub(crate) struct RpmHeader<'a> {
    entries: Vec<(u32, u32, usize, usize)>,
    data: &'a [u8],
}

impl<'a> RpmHeader<'a> {
    /// Parse a header blob; `None` when its sizes do not add up.
    pub(crate) fn parse(blob: &'a [u8]) -> Option<Self> {
        let be = |at: usize| blob.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let il = be(0)? as usize;
        let dl = be(4)? as usize;
        // rpm's own limits: at most 0xffff tags, 256 MB of data.
        if il == 0 || il > 0xffff || dl > 256 << 20 {
            return None;
        }
        let data_start = 8 + il * 16;
        let data = blob.get(data_start..data_start.checked_add(dl)?)?;
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            let (tag, ty, off, count) = (be(at)?, be(at + 4)?, be(at + 8)? as usize, be(at + 12)? as usize);
            if off >= dl || count == 0 {
                continue;
            }
            entries.push((tag, ty, off, count));
        }
        Some(RpmHeader { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<(u32, usize, usize)> {
        self.entries.iter().find(|e| e.0 == tag).map(|e| (e.1, e.2, e.3))
    }

    /// NUL-terminated strings from `off`, at most `count`.
    fn strings_at(&self, off: usize, count: usize) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut at = off;
        for _ in 0..count {
            let rest = self.data.get(at..)?;
            let end = rest.iter().position(|b| *b == 0)?;
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            at += end + 1;
        }
        Some(out)
    }

    /// A STRING (or the first of a STRING_ARRAY / I18NSTRING) tag.
    pub(crate) fn string(&self, tag: u32) -> Option<String> {
        let (ty, off, _) = self.entry(tag)?;
        if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return None;
        }
        self.strings_at(off, 1)?.pop()
    }

    pub(crate) fn string_array(&self, tag: u32) -> Option<Vec<String>> {
        let (ty, off, count) = self.entry(tag)?;
        // Each string takes one byte at least: a count beyond the data is a corrupt header.
        if ty != TYPE_STRING_ARRAY || count > self.data.len() {
            return None;
        }
        self.strings_at(off, count)
    }

    fn int32_array(&self, tag: u32) -> Option<Vec<u32>> {
        let (ty, off, count) = self.entry(tag)?;
        if ty != TYPE_INT32 {
            return None;
        }
        let bytes = self.data.get(off..off.checked_add(count.checked_mul(4)?)?)?;
        Some(bytes.chunks_exact(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    /// The directory (`/usr/bin/`) of the file at `idx` of the file list.
    pub(crate) fn file_dir(&self, idx: usize) -> Option<String> {
        let di = *self.int32_array(TAG_DIRINDEXES)?.get(idx)? as usize;
        self.string_array(TAG_DIRNAMES)?.get(di).cloned()
    }

    /// (NAME, `[EPOCH:]VERSION-RELEASE`), the epoch only when not 0.
    pub(crate) fn name_version(&self) -> Option<(String, String)> {
        let name = self.string(TAG_NAME)?;
        let mut version = format!("{}-{}", self.string(TAG_VERSION)?, self.string(TAG_RELEASE)?);
        // As rpm and dnf print it: an epoch of 0 is the same as none.
        if let Some(epoch) = self.int32_array(TAG_EPOCH).and_then(|e| e.first().copied()).filter(|e| *e != 0) {
            version = format!("{epoch}:{version}");
        }
        Some((name, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header blob with the given (tag, type, data) entries, laid out as rpm does.
    fn header(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, count, bytes) in entries {
            if *ty == TYPE_INT32 {
                while data.len() % 4 != 0 {
                    data.push(0);
                }
            }
            for v in [*tag, *ty, data.len() as u32, *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            data.extend_from_slice(bytes);
        }
        let mut blob = Vec::new();
        blob.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
        blob.extend(index);
        blob.extend(data);
        blob
    }

    fn strs(s: &[&str]) -> Vec<u8> {
        s.iter().flat_map(|x| x.bytes().chain([0])).collect()
    }

    #[test]
    fn rpm_header_names_the_file_and_package() {
        let blob = header(&[
            (TAG_NAME, TYPE_STRING, 1, strs(&["python3.9"])),
            (TAG_VERSION, TYPE_STRING, 1, strs(&["3.9.18"])),
            (TAG_RELEASE, TYPE_STRING, 1, strs(&["3.el9"])),
            (TAG_EPOCH, TYPE_INT32, 1, 1u32.to_be_bytes().to_vec()),
            (TAG_DIRINDEXES, TYPE_INT32, 2, [0u32, 1].iter().flat_map(|v| v.to_be_bytes()).collect()),
            (TAG_BASENAMES, TYPE_STRING_ARRAY, 2, strs(&["python3.9", "os.py"])),
            (TAG_DIRNAMES, TYPE_STRING_ARRAY, 2, strs(&["/usr/bin/", "/usr/lib64/python3.9/"])),
        ]);
        let h = RpmHeader::parse(&blob).unwrap();
        assert_eq!(h.name_version(), Some(("python3.9".into(), "1:3.9.18-3.el9".into())));
        assert_eq!(h.file_dir(0).as_deref(), Some("/usr/bin/"));
        assert_eq!(h.file_dir(1).as_deref(), Some("/usr/lib64/python3.9/"));
        assert_eq!(h.file_dir(2), None);
        assert_eq!(h.string_array(TAG_BASENAMES).unwrap()[1], "os.py");
    }

    #[test]
    fn rpm_header_refuses_bad_sizes() {
        assert!(RpmHeader::parse(&[]).is_none());
        assert!(RpmHeader::parse(&[0, 0, 0, 1, 0, 0, 0, 9]).is_none());
        assert!(RpmHeader::parse(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]).is_none());
        // An entry pointing past the data is dropped, not followed.
        let mut blob = header(&[(TAG_NAME, TYPE_STRING, 1, strs(&["x"]))]);
        blob[8 + 8..8 + 12].copy_from_slice(&100u32.to_be_bytes());
        assert_eq!(RpmHeader::parse(&blob).unwrap().string(TAG_NAME), None);
        // A string array whose count runs past the data.
        let blob = header(&[(TAG_BASENAMES, TYPE_STRING_ARRAY, 5, strs(&["a", "b"]))]);
        assert_eq!(RpmHeader::parse(&blob).unwrap().string_array(TAG_BASENAMES), None);
    }

    #[test]
    fn dpkg_status_versions() {
        let status = "Package: python3.11-minimal\nStatus: deinstall ok config-files\nVersion: 3.11.1-1\n\n\
                      Package: python3.11-minimal\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.11.2-6+deb12u6\n\n\
                      Package: libpython3.11-minimal\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.11.2-6\n";
        assert_eq!(dpkg_status_version(status, "python3.11-minimal", None).as_deref(), Some("3.11.2-6+deb12u6"));
        assert_eq!(dpkg_status_version(status, "libpython3.11-minimal", Some("amd64")).as_deref(), Some("3.11.2-6"));
        assert_eq!(dpkg_status_version(status, "libpython3.11-minimal", Some("arm64")), None);
        assert_eq!(dpkg_status_version(status, "python3.12", None), None);
    }

    #[test]
    fn usrmerge_aliases() {
        assert_eq!(
            aliases(Path::new("/usr/bin/python3.11")),
            vec![PathBuf::from("/usr/bin/python3.11"), PathBuf::from("/bin/python3.11")]
        );
        assert_eq!(
            aliases(Path::new("/bin/python2.7")),
            vec![PathBuf::from("/bin/python2.7"), PathBuf::from("/usr/bin/python2.7")]
        );
        assert_eq!(aliases(Path::new("/opt/py/bin/python3")), vec![PathBuf::from("/opt/py/bin/python3")]);
    }

    #[test]
    fn manager_layouts_from_paths() {
        let (o, _) =
            uv_owner(Path::new("/root/.local/share/uv/python/cpython-3.12.8-linux-x86_64-gnu/bin/python3.12")).unwrap();
        assert_eq!(o.manager, OwnerManager::Uv);
        assert_eq!(o.package.as_deref(), Some("cpython-3.12.8-linux-x86_64-gnu"));
        assert_eq!(o.version.as_deref(), Some("3.12.8"));
        let (o, _) = uv_owner(Path::new(
            "/h/.local/share/uv/python/cpython-3.13.0+freethreaded-linux-x86_64-gnu/bin/python3.13t",
        ))
        .unwrap();
        assert_eq!(o.version.as_deref(), Some("3.13.0"));
        assert!(uv_owner(Path::new("/srv/uv/python/bin/python3")).is_none());

        let (o, _) = pyenv_owner(Path::new("/root/.pyenv/versions/3.12.1/bin/python3.12")).unwrap();
        assert_eq!(
            (o.manager, o.package.as_deref(), o.version.as_deref()),
            (OwnerManager::Pyenv, Some("3.12.1"), Some("3.12.1"))
        );
        let (o, _) = pyenv_owner(Path::new("/opt/pyenv/versions/3.13-dev/bin/python3.13")).unwrap();
        assert_eq!((o.package.as_deref(), o.version), (Some("3.13-dev"), None));
        assert!(pyenv_owner(Path::new("/srv/app/versions/3.12.1/bin/python3")).is_none());
    }

    #[test]
    fn release_names() {
        for ok in ["3.12.1", "2.7.18", "3.13.0rc2", "3.14.0a1", "3.12"] {
            assert!(is_release(ok), "{ok}");
        }
        for bad in ["3.13-dev", "miniconda3-latest", "pypy3.9-7.3.13", "3.12.1+", "3", "3.x.1", "3.12.1.1"] {
            assert!(!is_release(bad), "{bad}");
        }
    }

    #[test]
    fn sqlite_uris_escape() {
        assert_eq!(
            sqlite_uri(Path::new("/r/var/lib/rpm/rpmdb.sqlite")),
            "file:/r/var/lib/rpm/rpmdb.sqlite?immutable=1"
        );
        assert_eq!(sqlite_uri(Path::new("/a b?#%/x")), "file:/a%20b%3F%23%25/x?immutable=1");
    }
}
