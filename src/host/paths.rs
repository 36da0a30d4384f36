//! Path handling for scans of a live host or of a tree mounted elsewhere (`--root`).
//!
//! Every path venvaudit reports is a *view* path: the path as a process inside the scanned
//! system would see it. `HostRoot` maps view paths to the real filesystem and resolves
//! symlinks with chroot semantics, so an absolute link such as `bin/python -> /usr/bin/python3`
//! in a container image resolves inside the image, never on the scanning host.

use std::ffi::OsStr;
use std::fs::Metadata;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Maximum number of symlinks followed while resolving one path, as Linux's MAXSYMLINKS.
const MAX_SYMLINK_HOPS: u32 = 40;

/// The filesystem root a scan treats as `/`.
#[derive(Debug, Clone, Default)]
pub struct HostRoot {
    /// Real directory standing in for `/`; `None` means the live host.
    base: Option<PathBuf>,
}

/// Why a view path could not be resolved to an existing file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// A component is missing; holds the view path of the first missing component.
    Missing(PathBuf),
    /// More than `MAX_SYMLINK_HOPS` links: a loop or an absurd chain.
    Loop(PathBuf),
    /// A component could not be examined (permission denied): whether the path exists is
    /// unknown, which is not the same as missing. Holds the view path that was refused.
    Denied(PathBuf),
}

impl Unresolved {
    /// Classify an `lstat`/`readlink` error on `path`.
    fn from_io(e: &io::Error, path: PathBuf) -> Self {
        if e.kind() == io::ErrorKind::PermissionDenied { Unresolved::Denied(path) } else { Unresolved::Missing(path) }
    }
}

impl HostRoot {
    /// The live host's `/`.
    pub fn host() -> Self {
        HostRoot { base: None }
    }

    /// Treat `dir` as `/` (a mounted image, container rootfs or chroot).
    pub fn at(dir: &Path) -> io::Result<Self> {
        let base = std::fs::canonicalize(dir)?;
        if base == Path::new("/") {
            return Ok(Self::host());
        }
        Ok(HostRoot { base: Some(base) })
    }

    /// True when scanning something other than the live host's `/`.
    pub fn is_chroot(&self) -> bool {
        self.base.is_some()
    }

    /// The real path of a view path (no symlink resolution).
    pub fn real(&self, view: &Path) -> PathBuf {
        match &self.base {
            None => view.to_path_buf(),
            Some(base) => {
                let rel = view.strip_prefix("/").unwrap_or(view);
                base.join(rel)
            }
        }
    }

    /// The view path of a real path under the root; paths outside it are returned unchanged.
    pub fn view(&self, real: &Path) -> PathBuf {
        match &self.base {
            None => real.to_path_buf(),
            Some(base) => match real.strip_prefix(base) {
                Ok(rel) => Path::new("/").join(rel),
                Err(_) => real.to_path_buf(),
            },
        }
    }

    /// `lstat` of a view path.
    pub fn symlink_metadata(&self, view: &Path) -> io::Result<Metadata> {
        std::fs::symlink_metadata(self.real(view))
    }

    /// Resolve every symlink in an absolute view path, clamping `..` at the root, as the
    /// kernel does for a chrooted process. Returns the view path of the existing target.
    pub fn resolve(&self, view: &Path) -> Result<PathBuf, Unresolved> {
        let mut pending: Vec<PathBuf> = components_rev(view);
        let mut current = PathBuf::from("/");
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part.as_os_str() == ".." {
                current.pop();
                continue;
            }
            let candidate = current.join(&part);
            let meta = match self.symlink_metadata(&candidate) {
                Ok(m) => m,
                Err(e) => return Err(Unresolved::from_io(&e, candidate)),
            };
            if meta.file_type().is_symlink() {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(Unresolved::Loop(candidate));
                }
                let target = std::fs::read_link(self.real(&candidate))
                    .map_err(|e| Unresolved::from_io(&e, candidate.clone()))?;
                if target.is_absolute() {
                    current = PathBuf::from("/");
                }
                pending.extend(components_rev(&target));
            } else {
                current = candidate;
            }
        }
        Ok(current)
    }

    /// True when the view path resolves to an existing file or directory.
    pub fn exists(&self, view: &Path) -> bool {
        match &self.base {
            // On the live host the kernel's own resolution is the same walk, in one stat
            // instead of an lstat per component.
            None if view.is_absolute() => std::fs::metadata(view).is_ok(),
            _ => self.resolve(view).is_ok(),
        }
    }

    /// Read at most `limit` bytes of a view path, opened through [`HostRoot::open`].
    pub fn read_bounded(&self, view: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let file = self.open(view)?;
        let len = file.metadata()?.len();
        let mut buf = Vec::with_capacity(len.min(limit) as usize);
        file.take(limit).read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// Open a regular file by view path for reading. Under `--root` every symlink, at any
    /// depth, resolves inside the root: the kernel does it (`openat2` with
    /// `RESOLVE_IN_ROOT`), so a link swapped in during the scan cannot lead out either; on
    /// kernels without openat2 (before 5.6) the path is resolved by [`HostRoot::resolve`]
    /// and the last component opened with `O_NOFOLLOW`. Never blocks on a FIFO or device:
    /// anything but a regular file is an error.
    pub fn open(&self, view: &Path) -> io::Result<std::fs::File> {
        let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC;
        let file = match &self.base {
            None => open_with(view, flags)?,
            Some(base) => match open_in_root(base, view, flags) {
                Err(e) if e.raw_os_error() == Some(libc::ENOSYS) || e.raw_os_error() == Some(libc::EPERM) => {
                    // No openat2 (old kernel, or a seccomp filter that refuses it).
                    let resolved =
                        self.resolve(view).map_err(|_| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
                    open_with(&self.real(&resolved), flags | libc::O_NOFOLLOW)?
                }
                other => other?,
            },
        };
        if !file.metadata()?.is_file() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
        }
        Ok(file)
    }

    /// Read a small text file of the scanned system (config, os-release), lossily decoded.
    pub fn read_text(&self, view: &Path, limit: u64) -> Option<String> {
        self.read_bounded(view, limit).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

/// `open(2)` with raw flags.
fn open_with(path: &Path, flags: i32) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(flags & !libc::O_RDONLY).open(path)
}

/// `openat2(root, view, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: the kernel resolves `..`
/// and every symlink as if `root` were `/`.
fn open_in_root(base: &Path, view: &Path, flags: i32) -> io::Result<std::fs::File> {
    use std::ffi::CString;
    use std::os::fd::{AsRawFd, FromRawFd};
    let dir = open_with(base, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC)?;
    let rel = view.strip_prefix("/").unwrap_or(view);
    let rel = if rel.as_os_str().is_empty() { Path::new(".") } else { rel };
    let c = CString::new(rel.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: open_how is plain data; zeroed is its documented initial state.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: valid fd, NUL-terminated path and a correctly sized open_how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new file descriptor that nothing else owns.
    Ok(unsafe { std::fs::File::from_raw_fd(fd as i32) })
}

/// Components of an absolute or relative path, reversed so `pop` yields them in order.
/// `.` is dropped and the root is implicit.
fn components_rev(p: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(PathBuf::from(s)),
            Component::ParentDir => Some(PathBuf::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    out.reverse();
    out
}

/// Read at most `limit` bytes of a real path. Never blocks on FIFOs or devices: only
/// regular files are opened.
pub fn read_bounded(real: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let meta = std::fs::metadata(real)?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let file = std::fs::File::open(real)?;
    let mut buf = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Render a path for JSON output. Invalid UTF-8 bytes become `\xNN` escapes (as Python's
/// `backslashreplace`), so a non-UTF-8 path is reported, never dropped or mangled into `?`.
pub fn display(p: &Path) -> String {
    display_os(p.as_os_str())
}

/// Render an OS string as in [`display`].
pub fn display_os(s: &OsStr) -> String {
    backslash_utf8(s.as_bytes()).into_owned()
}

/// Text of bytes read from the scanned system (paths, METADATA, RECORD): valid UTF-8 as is,
/// each invalid byte as `\xNN` (Python's `backslashreplace`), so nothing is mangled into
/// U+FFFD and two different names never read the same. Borrowed when the bytes are valid
/// UTF-8: a RECORD of megabytes is not copied to be read.
pub fn backslash_utf8(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            std::borrow::Cow::Owned(out)
        }
    }
}

/// A path given by the user, as a view path. Relative paths are relative to the current
/// directory on the live host; under `--root` they are taken as relative to the root.
pub fn view_path(root: &HostRoot, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    if root.is_chroot() {
        return PathBuf::from("/").join(path);
    }
    if path.is_absolute() { path } else { std::env::current_dir().map(|d| d.join(&path)).unwrap_or(path) }
}

/// A path to scan, as a view path in the form environments are reported under: without
/// `.`, repeated or trailing slashes, and with `..` taken as the kernel takes it (the parent
/// of what the path before it resolves to), so `/srv/site/venv/` and `/srv/./site/venv` are
/// reported, and matched with configuration, as `/srv/site/venv`.
pub fn request_path(root: &HostRoot, p: &str) -> PathBuf {
    use std::path::Component;
    let view = view_path(root, p);
    let parts: Vec<Component> = view.components().collect();
    let Some(last_up) = parts.iter().rposition(|c| *c == Component::ParentDir) else {
        return parts.iter().collect();
    };
    let head: PathBuf = parts[..=last_up].iter().collect();
    let tail: PathBuf = parts[last_up + 1..].iter().collect();
    match root.resolve(&head) {
        Ok(resolved) => resolved.join(tail),
        Err(_) => crate::host::paths::normalize(&view),
    }
}

/// Lexically normalise a view path (`/a/./b/../c` -> `/a/c`; `..` never climbs above `/`),
/// as os.path.normpath does without touching the filesystem: the one normaliser for paths from
/// configuration, .pth lines and RECORD rows, so they compare equal to discovered paths.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            std::path::Component::Normal(n) => out.push(n),
            std::path::Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("venvaudit-paths-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn absolute_links_resolve_inside_root() {
        let d = scratch("abs");
        std::fs::create_dir_all(d.join("usr/bin")).unwrap();
        std::fs::write(d.join("usr/bin/python3.11"), b"x").unwrap();
        std::fs::create_dir_all(d.join("srv/v/bin")).unwrap();
        symlink("/usr/bin/python3.11", d.join("srv/v/bin/python")).unwrap();
        let root = HostRoot::at(&d).unwrap();
        assert_eq!(root.resolve(Path::new("/srv/v/bin/python")).unwrap(), PathBuf::from("/usr/bin/python3.11"));
        std::fs::remove_file(d.join("usr/bin/python3.11")).unwrap();
        assert!(matches!(root.resolve(Path::new("/srv/v/bin/python")), Err(Unresolved::Missing(_))));
    }

    #[test]
    fn dotdot_is_clamped_and_loops_end() {
        let d = scratch("loop");
        symlink("../../../../etc", d.join("up")).unwrap();
        symlink("b", d.join("a")).unwrap();
        symlink("a", d.join("b")).unwrap();
        let root = HostRoot::at(&d).unwrap();
        assert!(matches!(root.resolve(Path::new("/up")), Err(Unresolved::Missing(p)) if p == Path::new("/etc")));
        assert!(matches!(root.resolve(Path::new("/a")), Err(Unresolved::Loop(_))));
    }

    #[test]
    fn non_utf8_paths_are_escaped() {
        let p = Path::new(OsStr::from_bytes(b"/srv/caf\xe9/venv"));
        assert_eq!(display(p), "/srv/caf\\xe9/venv");
    }
}
