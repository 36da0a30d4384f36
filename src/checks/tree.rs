//! One traversal of an environment's tree, shared by every family that needs its file list
//! (permissions, extensions), so a `check` costs one walk, as `find -perm` does.
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
    visit(&entry(Path::new(""), 0, &st));
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
        read_dir(dir, |name, st| {
            let child = rel.join(OsStr::from_bytes(name));
            let e = entry(&child, depth + 1, st);
            visit(&e);
            if e.kind == Kind::Dir && st.st_dev == root_dev {
                pending.push((child, depth + 1));
            }
        });
    }
}

fn entry<'a>(rel: &'a Path, depth: usize, st: &libc::stat) -> Entry<'a> {
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFREG => Kind::File,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    };
    Entry { rel, depth, kind, mode: st.st_mode, uid: st.st_uid, dev: st.st_dev, ino: st.st_ino }
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

/// Call `each` with the name and `lstat` of every entry of the open directory `dir`
/// (`.` and `..` excluded), stat'ed relative to it. Consumes `dir`.
fn read_dir(dir: OwnedFd, mut each: impl FnMut(&[u8], &libc::stat)) {
    let raw = dir.into_raw_fd();
    // SAFETY: fdopendir takes ownership of the descriptor on success.
    let stream = unsafe { libc::fdopendir(raw) };
    if stream.is_null() {
        // SAFETY: still ours on failure.
        unsafe { libc::close(raw) };
        return;
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
        // SAFETY: plain-data out parameter, the stream's descriptor, a NUL-terminated name.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstatat(libc::dirfd(stream), name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } != 0 {
            continue;
        }
        each(bytes, &st);
    }
    // SAFETY: closes the stream and its descriptor once.
    unsafe { libc::closedir(stream) };
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
