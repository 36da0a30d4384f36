//! Walking an environment's tree as `find -perm` does, at the cost of one traversal
//! (permissions walk every file; extensions walk only what no RECORD lists, and look up
//! the files RECORDs name through [`Below`]).
//!
//! Each directory is opened once, relative to the walk's root descriptor with `openat2`
//! (`RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV`: the kernel refuses any link and
//! any step out of the tree or onto another filesystem, so a directory swapped for a link
//! during the scan cannot lead out), read with `getdents`, and every entry is `fstatat`-ed
//! relative to the directory's descriptor with `AT_SYMLINK_NOFOLLOW`: no path lookup from `/`
//! per file, and no link is ever followed. One descriptor is open at a time whatever the depth.
//! Kernels without `openat2` (before 5.6) open the directory by its full path with
//! `O_NOFOLLOW`, as the per-family walks did.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// What an entry is (from its `lstat`: links are never followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A directory (descended when on the root's filesystem).
    Dir,
    /// A regular file.
    File,
    /// A symbolic link, not followed.
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

/// One path of the tree with its `lstat`.
#[derive(Debug)]
pub struct Entry<'a> {
    /// Path relative to the walk's root (empty for the root itself).
    pub rel: &'a Path,
    /// Depth below the root (0 for the root).
    pub depth: usize,
    /// File type.
    pub kind: Kind,
    /// `st_mode` (type and permission bits).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
}

/// Walk the tree at the real path `root` (a link there is followed: it is what was asked
/// for, as `find ROOT` does), calling `visit` for the root and every path below it on the
/// same filesystem. Unreadable directories and entries that vanish are skipped.
pub fn walk(root: &Path, mut visit: impl FnMut(&Entry)) {
    walk_where(root, |e| {
        visit(e);
        true
    });
}

/// [`walk`], descending into a directory only when `visit` returns true for it (what it
/// returns for anything else is ignored).
pub fn walk_where(root: &Path, mut visit: impl FnMut(&Entry) -> bool) {
    let Ok(c) = CString::new(root.as_os_str().as_bytes()) else { return };
    // SAFETY: NUL-terminated path; the returned descriptor is owned below.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    if fd < 0 {
        return;
    }
    // SAFETY: a fresh descriptor nothing else owns.
    let root_fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let Some(st) = fstat(root_fd.as_raw_fd()) else { return };
    let root_dev = st.st_dev;
    if !visit(&entry(Path::new(""), 0, &st)) {
        return;
    }
    let mut pending: Vec<(PathBuf, usize)> = vec![(PathBuf::new(), 0)];
    while let Some((rel, depth)) = pending.pop() {
        let dir = if rel.as_os_str().is_empty() {
            // SAFETY: dup of a valid descriptor, owned by `dir`.
            let d = unsafe { libc::fcntl(root_fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
            if d < 0 {
                continue;
            }
            // SAFETY: fresh descriptor.
            unsafe { OwnedFd::from_raw_fd(d) }
        } else {
            match open_below(&root_fd, root, &rel) {
                Ok(d) => d,
                Err(_) => continue,
            }
        };
        read_dir(
            dir,
            |_| true,
            |name, st| {
                let child = rel.join(OsStr::from_bytes(name));
                let e = entry(&child, depth + 1, st);
                if visit(&e) && e.kind == Kind::Dir && st.st_dev == root_dev {
                    pending.push((child, depth + 1));
                }
            },
        );
    }
}

fn entry<'a>(rel: &'a Path, depth: usize, st: &libc::stat) -> Entry<'a> {
    Entry { rel, depth, kind: kind_of(st), mode: st.st_mode, uid: st.st_uid, dev: st.st_dev, ino: st.st_ino }
}

fn kind_of(st: &libc::stat) -> Kind {
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFREG => Kind::File,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    }
}

/// What [`Below::lstat`] tells of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// File type (links are not followed).
    pub kind: Kind,
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
}

/// A directory opened once, below which named paths are looked up without following any
/// link and without leaving it: for looking at the files a list (RECORD) names instead of
/// walking the tree to find them. Each lookup opens the parent directory relative to this
/// one as [`walk`] does (the last parent is kept open: a sorted list reuses it).
pub struct Below {
    fd: OwnedFd,
    path: PathBuf,
    parent: Option<(PathBuf, OwnedFd)>,
}

impl Below {
    /// Open the real directory `dir` (a link there is followed: it is what was asked for).
    pub fn open(dir: &Path) -> Option<Below> {
        let c = CString::new(dir.as_os_str().as_bytes()).ok()?;
        // SAFETY: NUL-terminated path; the returned descriptor is owned below.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor nothing else owns.
        Some(Below { fd: unsafe { OwnedFd::from_raw_fd(fd) }, path: dir.to_path_buf(), parent: None })
    }

    /// The descriptor of `rel`'s parent directory and `rel`'s last component, for a relative
    /// path of plain components (no `..`, no `/` at the start).
    fn parent_of(&mut self, rel: &Path) -> Option<(i32, CString)> {
        if rel.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return None;
        }
        let name = CString::new(rel.file_name()?.as_bytes()).ok()?;
        let parent = rel.parent().unwrap_or(Path::new(""));
        if parent.as_os_str().is_empty() {
            return Some((self.fd.as_raw_fd(), name));
        }
        if self.parent.as_ref().is_none_or(|(p, _)| p != parent) {
            self.parent = None;
            let fd = open_below(&self.fd, &self.path, parent).ok()?;
            self.parent = Some((parent.to_path_buf(), fd));
        }
        Some((self.parent.as_ref()?.1.as_raw_fd(), name))
    }

    /// The names and `lstat`s of the entries of the directory `rel` (`rel` as for [`Below::parent_of`];
    /// empty for this directory itself) whose names `want` accepts: only those are stat'ed.
    pub fn list(&self, rel: &Path, want: impl Fn(&[u8]) -> bool) -> Vec<(std::ffi::OsString, Stat)> {
        let Some(dir) = self.open_dir(rel) else { return Vec::new() };
        let mut out = Vec::new();
        read_dir(dir, want, |name, st| {
            out.push((
                OsStr::from_bytes(name).to_os_string(),
                Stat { kind: kind_of(st), dev: st.st_dev, ino: st.st_ino },
            ));
        });
        out
    }

    /// The names and kinds of the entries of the directory `rel` (as for [`Below::list`]),
    /// from the directory's own entry types (`d_type`), with an `lstat` only where the
    /// filesystem does not give one: for looking names up, where `list`'s device and inode
    /// are not needed. `None` when `rel` cannot be opened as a directory below this one.
    pub fn kinds(&self, rel: &Path) -> Option<Vec<(std::ffi::OsString, Kind)>> {
        let dir = self.open_dir(rel)?;
        let mut out = Vec::new();
        let read = entries(dir, |dir_fd, name, d_type| {
            let kind = match d_type {
                libc::DT_DIR => Kind::Dir,
                libc::DT_REG => Kind::File,
                libc::DT_LNK => Kind::Symlink,
                libc::DT_UNKNOWN => match fstatat(dir_fd, name) {
                    Some(st) => kind_of(&st),
                    None => return,
                },
                _ => Kind::Other,
            };
            out.push((OsStr::from_bytes(name.to_bytes()).to_os_string(), kind));
        });
        read.then_some(out)
    }

    /// The directory `rel` below this one opened without following any link (`rel` as for
    /// [`Below::parent_of`]; empty for this directory itself).
    fn open_dir(&self, rel: &Path) -> Option<OwnedFd> {
        if rel.as_os_str().is_empty() {
            // SAFETY: dup of a valid descriptor, owned by the result.
            let d = unsafe { libc::fcntl(self.fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
            // SAFETY: a fresh descriptor when non-negative.
            (d >= 0).then(|| unsafe { OwnedFd::from_raw_fd(d) })
        } else if rel.components().all(|c| matches!(c, std::path::Component::Normal(_))) {
            open_below(&self.fd, &self.path, rel).ok()
        } else {
            None
        }
    }

    /// What identifies the content of the regular file `rel` (as for [`Below::parent_of`]; a
    /// link is not followed): device, inode, size and modification time in nanoseconds.
    /// `None` for anything else.
    pub fn identity(&mut self, rel: &Path) -> Option<(u64, u64, u64, i128)> {
        let (dir_fd, name) = self.parent_of(rel)?;
        let st = fstatat(dir_fd, &name)?;
        (kind_of(&st) == Kind::File).then(|| {
            let mtime = i128::from(st.st_mtime) * 1_000_000_000 + i128::from(st.st_mtime_nsec);
            (st.st_dev, st.st_ino, st.st_size as u64, mtime)
        })
    }

    /// At most `limit` bytes of the regular file `rel` (as for [`Below::parent_of`]: no link is
    /// followed, and a FIFO or device is not read).
    pub fn read_bounded(&mut self, rel: &Path, limit: u64) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let (dir_fd, name) = self.parent_of(rel).ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: a valid descriptor and a NUL-terminated single-component name.
        let fd = unsafe { libc::openat(dir_fd, name.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nothing else owns.
        let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
        }
        let mut buf = Vec::with_capacity(meta.len().min(limit) as usize);
        file.take(limit).read_to_end(&mut buf)?;
        Ok(buf)
    }
}

fn fstat(fd: i32) -> Option<libc::stat> {
    // SAFETY: plain-data out parameter, valid descriptor.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st)
}

/// Open the directory `rel` below the walk's root without following any link.
fn open_below(root_fd: &OwnedFd, root: &Path, rel: &Path) -> io::Result<OwnedFd> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let c = CString::new(rel.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: open_how is plain data; zeroed is its documented initial state.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_XDEV;
    // SAFETY: valid fd, NUL-terminated path and a correctly sized open_how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root_fd.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd >= 0 {
        // SAFETY: the kernel returned a new descriptor that nothing else owns.
        return Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::ENOSYS) && err.raw_os_error() != Some(libc::EPERM) {
        return Err(err);
    }
    // No openat2 (old kernel, or a seccomp filter that refuses it).
    let full = CString::new(root.join(rel).into_os_string().into_vec())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: NUL-terminated path.
    let fd = unsafe { libc::open(full.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The `lstat` of `name` in the directory `dir_fd` (links not followed).
fn fstatat(dir_fd: i32, name: &CStr) -> Option<libc::stat> {
    // SAFETY: plain-data out parameter, a valid descriptor, a NUL-terminated name.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstatat(dir_fd, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } == 0).then_some(st)
}

/// Call `each` with the directory's descriptor, the name and the `d_type` of every entry of
/// the open directory `dir` (`.` and `..` excluded). Consumes `dir`; false when it cannot be
/// read as a directory.
fn entries(dir: OwnedFd, mut each: impl FnMut(i32, &CStr, u8)) -> bool {
    let raw = dir.into_raw_fd();
    // SAFETY: fdopendir takes ownership of the descriptor on success.
    let stream = unsafe { libc::fdopendir(raw) };
    if stream.is_null() {
        // SAFETY: still ours on failure.
        unsafe { libc::close(raw) };
        return false;
    }
    loop {
        // SAFETY: a valid stream; the entry is read before the next readdir call.
        let ent = unsafe { libc::readdir(stream) };
        if ent.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated within the dirent.
        let name = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) };
        let bytes = name.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        // SAFETY: a valid stream and entry.
        each(unsafe { libc::dirfd(stream) }, name, unsafe { (*ent).d_type });
    }
    // SAFETY: closes the stream and its descriptor once.
    unsafe { libc::closedir(stream) };
    true
}

/// Call `each` with the name and `lstat` of every entry of the open directory `dir`
/// (`.` and `..` excluded) whose name `want` accepts, stat'ed relative to it. Consumes `dir`.
fn read_dir(dir: OwnedFd, want: impl Fn(&[u8]) -> bool, mut each: impl FnMut(&[u8], &libc::stat)) {
    entries(dir, |dir_fd, name, _| {
        if want(name.to_bytes())
            && let Some(st) = fstatat(dir_fd, name)
        {
            each(name.to_bytes(), &st);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn one_walk_sees_what_walkdir_sees_and_follows_no_link() {
        let dir = std::env::temp_dir().join(format!("venvaudit-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/b/c")).unwrap();
        std::fs::create_dir_all(dir.join("outside/secret")).unwrap();
        std::fs::write(dir.join("a/b/c/m.so"), b"x").unwrap();
        std::fs::write(dir.join("outside/secret/s.py"), b"x").unwrap();
        let root = dir.join("a");
        std::os::unix::fs::symlink(dir.join("outside"), root.join("b/link")).unwrap();
        let mut seen = BTreeMap::new();
        walk(&root, |e| {
            seen.insert(e.rel.to_path_buf(), (e.kind, e.depth));
        });
        let mut want = BTreeMap::new();
        for e in walkdir::WalkDir::new(&root).follow_links(false) {
            let e = e.unwrap();
            let kind = if e.file_type().is_dir() {
                Kind::Dir
            } else if e.file_type().is_symlink() {
                Kind::Symlink
            } else {
                Kind::File
            };
            want.insert(e.path().strip_prefix(&root).unwrap().to_path_buf(), (kind, e.depth()));
        }
        assert_eq!(seen, want);
        assert_eq!(seen[Path::new("b/link")].0, Kind::Symlink);
        assert!(!seen.keys().any(|p| p.ends_with("s.py")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
