//! The dynamic loader, modelled: which shared objects an `import` (or a `ctypes` `dlopen`)
//! maps into the interpreter's process, found the way glibc's `ld.so` finds them
//! (`elf/dl-load.c`, `_dl_map_object`), from ELF headers alone.
//!
//! What the model follows, because judging a file any other way raises false alarms:
//! - A process already holds the interpreter and everything it loaded at start-up
//!   (libpython, libc, libm, ...). A DT_NEEDED name that matches an object already mapped
//!   (by the name it was requested as, or by its DT_SONAME), or a file already mapped
//!   (same device and inode), is satisfied without a search.
//! - For a DT_NEEDED of an object that has no DT_RUNPATH, the DT_RPATH of that object, then of
//!   the object that loaded it, and so on up the load chain, then the executable's, are
//!   searched. This is how auditwheel's bundled libraries (`pillow.libs/libbrotlidec.so`),
//!   which have no search path of their own, find their siblings: through the extension
//!   module's `DT_RPATH $ORIGIN/../pillow.libs`. An object's DT_RPATH is ignored when it also
//!   has DT_RUNPATH.
//! - Then LD_LIBRARY_PATH (what the services using the venv set; none otherwise), then the
//!   object's own DT_RUNPATH (direct dependencies only), then ld.so.conf's directories (the
//!   cache) and the default directories.
//! - `$ORIGIN`, `$LIB` and `$PLATFORM` are expanded; `$ORIGIN` is the directory of the
//!   object whose search path it is.
//! - A candidate file that is not an ELF object of the process's class and machine is
//!   skipped and the search goes on, as `open_verify` does.
//! - Version needs (`GLIBC_2.34`, `GLIBCXX_3.4.30`, `OPENSSL_3.0.0`) of every mapped object
//!   are checked against the version definitions of the object that satisfies them; an
//!   object without version definitions only draws a warning from ld.so, so it is not judged.
//!
//! Limits (see docs/compat.md): DF_1_NODEFLIB, glibc-hwcaps subdirectories, preloading
//! (`LD_PRELOAD`, `/etc/ld.so.preload`) and libraries a package loads itself with `ctypes`
//! before importing a module are not modelled.

use crate::host::LibrarySearch;
use crate::host::paths::{HostRoot, display};
use crate::parse::elf::{self, ElfInfo};
use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Most objects mapped for one module: far above any real closure (torch maps about 60),
/// low enough that a hostile tree of libraries needing each other cannot run away.
pub const MAX_OBJECTS: usize = 1024;

/// A file's identity, as the loader compares files: (device, inode).
pub type FileId = (u64, u64);

/// An ELF file parsed once, or why it could not be.
type Parsed = Arc<Result<Arc<ElfInfo>, String>>;

/// A file found by view path: its identity and headers, or why it is not a loadable object.
pub type Opened = Result<(FileId, Arc<ElfInfo>), String>;

/// Parsed ELF files shared by every venv of a run, keyed by (device, inode): uv hardlinks
/// the same wheel into many environments, and every module asks about the same libc.
///
/// Bounded: when the parsed headers held reach [`ELF_CACHE_BYTES`] the cache starts over, so
/// memory follows the work in flight, not the number of distinct objects on the fleet (a
/// re-parse is a few header reads).
#[derive(Default)]
pub struct ElfCache {
    files: Mutex<(HashMap<FileId, Parsed>, usize)>,
    /// Candidates in the system library directories, by view path: `None` when there is no
    /// such file. Every module of every venv searches the same directories for the same
    /// names, and they do not change during a run. Bounded by [`MAX_SYSTEM_CANDIDATES`].
    system: Mutex<HashMap<PathBuf, Option<Opened>>>,
}

/// Most system-directory candidates remembered before [`ElfCache`] starts that memo over:
/// names times directories, a few thousand on a real host.
pub const MAX_SYSTEM_CANDIDATES: usize = 16_384;

/// Approximate bytes of parsed headers an [`ElfCache`] holds before it is emptied.
pub const ELF_CACHE_BYTES: usize = 16 << 20;

/// Approximate heap bytes of a parse result.
fn parsed_size(p: &Result<Arc<ElfInfo>, String>) -> usize {
    let strings = |v: &[String]| v.iter().map(|s| s.len() + 24).sum::<usize>();
    match p {
        Err(e) => 64 + e.len(),
        Ok(i) => {
            256 + strings(&i.needed)
                + strings(&i.runpath)
                + strings(&i.rpath)
                + strings(&i.version_defs)
                + strings(&i.defined_py)
                + strings(&i.undefined_py)
                + i.version_needs.iter().map(|(a, b)| a.len() + b.len() + 48).sum::<usize>()
        }
    }
}

impl ElfCache {
    /// The parsed ELF file at a real path with a known identity.
    pub fn parse_real(&self, real: &Path, id: FileId) -> Result<Arc<ElfInfo>, String> {
        if let Some(hit) = self.files.lock().ok().and_then(|m| m.0.get(&id).cloned()) {
            return hit.as_ref().clone();
        }
        let parsed: Parsed = Arc::new(elf::read_elf(real).map(Arc::new).map_err(|e| format!("{e:#}")));
        if let Ok(mut m) = self.files.lock() {
            let size = parsed_size(&parsed);
            if m.1 + size > ELF_CACHE_BYTES {
                *m = (HashMap::new(), 0);
            }
            if m.0.insert(id, parsed.clone()).is_none() {
                m.1 += size;
            }
        }
        parsed.as_ref().clone()
    }

    /// Resolve a view path inside the root and parse the regular file it names.
    pub fn parse_view(&self, root: &HostRoot, view: &Path) -> Opened {
        // On the live host the kernel resolves links the same way, in one stat.
        let real = if root.is_chroot() || !view.is_absolute() {
            root.real(&root.resolve(view).map_err(|_| "no such file".to_owned())?)
        } else {
            view.to_path_buf()
        };
        let meta = std::fs::metadata(&real).map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        let id = (meta.dev(), meta.ino());
        Ok((id, self.parse_real(&real, id)?))
    }

    /// A candidate in a system library directory: `None` when no such file exists, else
    /// [`ElfCache::parse_view`]'s answer, remembered for the rest of the run.
    pub fn system_candidate(&self, root: &HostRoot, view: &Path) -> Option<Opened> {
        if let Some(hit) = self.system.lock().ok().and_then(|m| m.get(view).cloned()) {
            return hit;
        }
        let found = root.exists(view).then(|| self.parse_view(root, view));
        if let Ok(mut m) = self.system.lock() {
            if m.len() >= MAX_SYSTEM_CANDIDATES {
                m.clear();
            }
            m.insert(view.to_path_buf(), found.clone());
        }
        found
    }
}

/// One object mapped into the modelled process.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// View path it was opened as (its `$ORIGIN` is this path's directory).
    pub view: PathBuf,
    /// (device, inode) of the file.
    pub id: FileId,
    /// Its ELF headers.
    pub info: Arc<ElfInfo>,
    /// Names that match it for later DT_NEEDED lookups: the name it was requested as and
    /// its DT_SONAME.
    pub names: Vec<String>,
    /// Index of the object whose DT_NEEDED (or dlopen) brought it in: `l_loader`.
    pub loader: Option<usize>,
}

impl Mapped {
    fn new(view: PathBuf, id: FileId, info: Arc<ElfInfo>, requested: Option<&str>, loader: Option<usize>) -> Self {
        let mut names: Vec<String> = requested.map(str::to_owned).into_iter().collect();
        if let Some(s) = &info.soname
            && !names.contains(s)
        {
            names.push(s.clone());
        }
        Mapped { view, id, info, names, loader }
    }

    /// True when a DT_NEEDED (or version-need file) name refers to this object.
    fn answers_to(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name) || display(&self.view) == name
    }
}

/// The interpreter's process before any import: the executable and what it loaded.
#[derive(Debug, Clone, Default)]
pub struct Process {
    /// Mapped objects; index 0 is the executable when known.
    pub objects: Vec<Mapped>,
    /// The object that calls `dlopen` for `import`: libpython when the interpreter links it
    /// shared, else the executable.
    pub caller: Option<usize>,
    /// ELF machine and class of the process, which every object must match.
    pub machine: Option<(String, bool)>,
    /// The Python C-API symbols its objects define (the global scope every module's
    /// symbols are looked up in), gathered once instead of once per module loaded.
    pub defined_py: HashSet<Box<str>>,
}

/// A DT_NEEDED that no search found.
#[derive(Debug, Clone)]
pub struct Unfound {
    /// The DT_NEEDED name.
    pub name: String,
    /// Index of the object that needs it.
    pub needed_by: usize,
    /// Directories searched, in order (view paths).
    pub searched: Vec<PathBuf>,
    /// Files with that name that were skipped, and why (another architecture, not ELF).
    pub rejected: Vec<(PathBuf, String)>,
}

/// Symbol versions an object needs that the object satisfying them does not define.
#[derive(Debug, Clone)]
pub struct VersionGap {
    /// Index of the object that needs them.
    pub object: usize,
    /// The library named in the version need (`libc.so.6`).
    pub library: String,
    /// Index of the object that satisfies that library.
    pub provider: usize,
    /// The versions it lacks.
    pub versions: Vec<String>,
}

/// Python C-API symbols an object needs that nothing in its lookup scope defines.
#[derive(Debug, Clone)]
pub struct SymbolGap {
    /// Index of the object that needs them.
    pub object: usize,
    /// The symbols (sorted, at most [`MAX_SYMBOLS_LISTED`]).
    pub symbols: Vec<String>,
    /// How many are missing in all.
    pub count: usize,
}

/// Missing symbols listed per object.
pub const MAX_SYMBOLS_LISTED: usize = 10;

/// What loading one object maps, and what fails.
#[derive(Debug, Clone)]
pub struct Closure {
    /// Every mapped object: the process's, then the new ones in load order.
    pub objects: Vec<Mapped>,
    /// Index of the first object this load added (the loaded object itself).
    pub first_new: usize,
    /// DT_NEEDED entries not found.
    pub unfound: Vec<Unfound>,
    /// Symbol versions not defined where the loader finds them.
    pub version_gaps: Vec<VersionGap>,
    /// Python C-API symbols that no mapped object defines (CPython loads modules with
    /// RTLD_NOW, so the import fails): a module built for another CPython.
    pub symbol_gaps: Vec<SymbolGap>,
    /// Found files that could not be read as ELF: (view path, error).
    pub unreadable: Vec<(PathBuf, String)>,
    /// The closure was cut at [`MAX_OBJECTS`].
    pub truncated: bool,
}

impl Closure {
    /// Objects this load added (the loaded object first).
    pub fn added(&self) -> &[Mapped] {
        &self.objects[self.first_new..]
    }

    /// The load chain from the loaded object down to object `i`, as view paths.
    pub fn chain(&self, i: usize) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut at = Some(i);
        while let Some(j) = at {
            if j < self.first_new || out.len() > self.objects.len() {
                break;
            }
            out.push(self.objects[j].view.clone());
            at = self.objects[j].loader;
        }
        out.reverse();
        out
    }
}

/// The loader of one scanned system.
pub struct Loader<'a> {
    /// Files judged as if installed below a directory that is not on the scanned system.
    overlay: Option<&'a Overlay>,
    root: &'a HostRoot,
    libs: &'a LibrarySearch,
    cache: &'a ElfCache,
    /// LD_LIBRARY_PATH directories in effect (view paths); empty unless a caller sets them.
    env_path: Vec<PathBuf>,
}

impl<'a> Loader<'a> {
    /// A loader over `root`'s ld.so.conf and default directories, with no LD_LIBRARY_PATH.
    pub fn new(root: &'a HostRoot, libs: &'a LibrarySearch, cache: &'a ElfCache) -> Self {
        Loader { root, libs, cache, env_path: Vec::new(), overlay: None }
    }

    /// The same loader, answering for the paths below `overlay.root` from the overlay only.
    pub fn with_overlay(mut self, overlay: &'a Overlay) -> Self {
        self.overlay = Some(overlay);
        self
    }

    /// A candidate outside the system directories: from the overlay for its paths, else the
    /// file under the root; `None` when there is no such file.
    fn candidate(&self, p: &Path) -> Option<Opened> {
        if let Some(o) = self.overlay
            && let Some(hit) = o.get(p)
        {
            return hit;
        }
        self.root.exists(p).then(|| self.cache.parse_view(self.root, p))
    }

    /// The same loader with LD_LIBRARY_PATH set (view paths), as a service sets it.
    pub fn with_library_path(mut self, dirs: Vec<PathBuf>) -> Self {
        self.env_path = dirs;
        self
    }

    /// The process of an interpreter executable (view path): the executable and the closure
    /// of its DT_NEEDED. An executable that cannot be read gives an empty process, in which
    /// a module is judged on its own search paths.
    pub fn process(&self, executable: Option<&Path>) -> Process {
        let Some(exe) = executable else { return Process::default() };
        let Ok((id, info)) = self.cache.parse_view(self.root, exe) else { return Process::default() };
        let machine = Some((info.machine.clone(), info.is_64));
        let empty = Process { objects: Vec::new(), caller: None, machine, defined_py: HashSet::new() };
        let closure = self.load(&empty, exe, id, info);
        let objects = closure.objects;
        let caller = objects
            .iter()
            .position(|o| o.names.iter().any(|n| n.starts_with("libpython")) && o.loader == Some(0))
            .or(Some(0));
        let defined_py = objects.iter().flat_map(|o| o.info.defined_py.iter().map(|d| d.as_str().into())).collect();
        Process { objects, caller, machine: empty.machine, defined_py }
    }

    /// Model `dlopen(view)` by the process's caller: map the object and the closure of its
    /// DT_NEEDED, breadth-first, as `_dl_map_object_deps` does.
    pub fn load(&self, process: &Process, view: &Path, id: FileId, info: Arc<ElfInfo>) -> Closure {
        let mut objects = process.objects.clone();
        let first_new = objects.len();
        let mut closure = Closure {
            objects: Vec::new(),
            first_new,
            unfound: Vec::new(),
            version_gaps: Vec::new(),
            symbol_gaps: Vec::new(),
            unreadable: Vec::new(),
            truncated: false,
        };
        let machine = process.machine.clone().or_else(|| Some((info.machine.clone(), info.is_64)));
        if let Some(existing) = objects.iter().position(|o| o.id == id) {
            // Already mapped (the interpreter's own libpython, say): nothing new is loaded.
            closure.first_new = existing;
            closure.objects = objects;
            return closure;
        }
        objects.push(Mapped::new(view.to_path_buf(), id, info, None, process.caller));
        let mut next = first_new;
        while next < objects.len() {
            let needed = objects[next].info.needed.clone();
            for name in &needed {
                if objects.iter().any(|o| o.answers_to(name)) {
                    continue;
                }
                if objects.len() >= MAX_OBJECTS {
                    closure.truncated = true;
                    break;
                }
                match self.search(&objects, next, name, machine.as_ref()) {
                    Search::Found(path, fid, finfo) => {
                        if let Some(same) = objects.iter_mut().find(|o| o.id == fid) {
                            // The same file under another name: the loader reuses the mapping.
                            same.names.push(name.clone());
                        } else {
                            objects.push(Mapped::new(path, fid, finfo, Some(name), Some(next)));
                        }
                    }
                    Search::Unreadable(path, e) => closure.unreadable.push((path, e)),
                    Search::NotFound(searched, rejected) => {
                        closure.unfound.push(Unfound { name: name.clone(), needed_by: next, searched, rejected })
                    }
                }
            }
            next += 1;
        }
        for i in first_new..objects.len() {
            closure.version_gaps.extend(version_gaps(&objects, i));
        }
        // Only judged when nothing is missing: an unfound library may define what is needed.
        if closure.unfound.is_empty() && closure.unreadable.is_empty() {
            closure.symbol_gaps = symbol_gaps(&objects, first_new, &process.defined_py);
        }
        closure.objects = objects;
        closure
    }

    /// Find DT_NEEDED `name` of object `requester` in the order of `_dl_map_object`.
    fn search(&self, objects: &[Mapped], requester: usize, name: &str, machine: Option<&(String, bool)>) -> Search {
        let req = &objects[requester];
        let origin = req.view.parent().unwrap_or(Path::new("/")).to_path_buf();
        if name.contains('/') {
            let p = self.libs.expand(name, &origin);
            return match self.candidate(&p) {
                Some(Ok((id, info))) => Search::Found(p, id, info),
                Some(Err(e)) => Search::Unreadable(p, e),
                None => Search::NotFound(vec![p], Vec::new()),
            };
        }
        let mut dirs: Vec<PathBuf> = Vec::new();
        if req.info.runpath.is_empty() {
            // DT_RPATH of the requester, then of each object up the load chain.
            let mut at = Some(requester);
            let mut hops = 0;
            let mut did_main = false;
            while let Some(j) = at {
                let o = &objects[j];
                if o.info.runpath.is_empty() {
                    let o_origin = o.view.parent().unwrap_or(Path::new("/"));
                    dirs.extend(o.info.rpath.iter().map(|d| self.libs.expand(d, o_origin)));
                }
                did_main |= j == 0 && objects[0].loader.is_none();
                at = o.loader;
                hops += 1;
                if hops > objects.len() {
                    break; // a loader cycle cannot happen, but never loop on one
                }
            }
            if !did_main && let Some(main) = objects.first().filter(|m| m.loader.is_none() && m.info.runpath.is_empty())
            {
                let m_origin = main.view.parent().unwrap_or(Path::new("/"));
                dirs.extend(main.info.rpath.iter().map(|d| self.libs.expand(d, m_origin)));
            }
        }
        dirs.extend(self.env_path.iter().cloned());
        dirs.extend(req.info.runpath.iter().map(|d| self.libs.expand(d, &origin)));
        let system_from = dirs.len();
        dirs.extend(self.libs.dirs.iter().cloned());
        let mut searched: Vec<PathBuf> = Vec::new();
        let mut rejected = Vec::new();
        for (n, d) in dirs.into_iter().enumerate() {
            if searched.contains(&d) {
                continue;
            }
            let p = d.join(name);
            searched.push(d);
            let candidate =
                if n >= system_from { self.cache.system_candidate(self.root, &p) } else { self.candidate(&p) };
            let Some(candidate) = candidate else { continue };
            match candidate {
                Ok((id, info)) => match machine {
                    Some((m, is_64)) if info.machine != *m || info.is_64 != *is_64 => rejected
                        .push((p, format!("built for {} ({}-bit)", info.machine, if info.is_64 { 64 } else { 32 }))),
                    _ => return Search::Found(p, id, info),
                },
                Err(e) => rejected.push((p, e)),
            }
        }
        Search::NotFound(searched, rejected)
    }
}

/// Shared objects that are not files of the scanned system: a wheel's members, judged as if
/// installed below `root`, a directory that does not exist there. The loader answers every
/// path below `root` from here and never from the disk, so nothing outside the artefact is
/// taken for part of it. Paths are compared after folding `.` and `..` lexically, which is
/// exact for an archive (it holds no links).
#[derive(Default)]
pub struct Overlay {
    /// Where the files are as if installed (a view path outside the scanned system's tree).
    pub root: PathBuf,
    /// Each file's identity and headers, or why it is not a loadable object, by view path.
    pub files: HashMap<PathBuf, Opened>,
}

impl Overlay {
    /// `Some(answer)` for a path below the overlay's root (`Some(None)`: no such file there),
    /// `None` for any other path.
    fn get(&self, p: &Path) -> Option<Option<Opened>> {
        let folded = fold(p);
        folded.starts_with(&self.root).then(|| self.files.get(&folded).cloned())
    }
}

/// `p` with `.` dropped and `..` applied lexically.
pub fn fold(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The outcome of one library search.
enum Search {
    Found(PathBuf, FileId, Arc<ElfInfo>),
    /// A path with a slash names a file that is not a loadable ELF object.
    Unreadable(PathBuf, String),
    NotFound(Vec<PathBuf>, Vec<(PathBuf, String)>),
}

/// Python C-API symbols the new objects need that no mapped object defines: the process's
/// objects (`objects[..first_new]`, whose definitions are `process_defined`) are the global
/// scope, the new ones the module's local scope. Judged only when the process is a CPython
/// (it defines `Py_IsInitialized`) and every mapped symbol table was read: otherwise the
/// symbol may be defined where we could not look.
fn symbol_gaps(objects: &[Mapped], first_new: usize, process_defined: &HashSet<Box<str>>) -> Vec<SymbolGap> {
    let cpython = process_defined.contains("Py_IsInitialized");
    if !cpython || objects.iter().any(|o| !o.info.py_symbols_read) {
        return Vec::new();
    }
    let local: HashSet<&str> =
        objects[first_new..].iter().flat_map(|o| o.info.defined_py.iter().map(String::as_str)).collect();
    let mut out = Vec::new();
    for (i, o) in objects.iter().enumerate().skip(first_new) {
        let mut missing: Vec<&str> = o
            .info
            .undefined_py
            .iter()
            .map(String::as_str)
            .filter(|s| !process_defined.contains(*s) && !local.contains(s))
            .collect();
        if missing.is_empty() {
            continue;
        }
        missing.sort_unstable();
        missing.dedup();
        let count = missing.len();
        out.push(SymbolGap {
            object: i,
            symbols: missing.into_iter().take(MAX_SYMBOLS_LISTED).map(str::to_owned).collect(),
            count,
        });
    }
    out
}

/// Version needs of object `i` that the objects satisfying them do not define.
fn version_gaps(objects: &[Mapped], i: usize) -> Vec<VersionGap> {
    let mut by_lib: Vec<(String, Vec<String>)> = Vec::new();
    for (lib, v) in &objects[i].info.version_needs {
        match by_lib.iter_mut().find(|(l, _)| l == lib) {
            Some((_, vs)) => vs.push(v.clone()),
            None => by_lib.push((lib.clone(), vec![v.clone()])),
        }
    }
    let mut out = Vec::new();
    for (lib, wanted) in by_lib {
        let Some(provider) = objects.iter().position(|o| o.answers_to(&lib)) else { continue };
        let defs = &objects[provider].info.version_defs;
        if defs.is_empty() {
            continue; // ld.so only warns: "no version information available"
        }
        let mut absent: Vec<String> = wanted.into_iter().filter(|w| !defs.contains(w)).collect();
        absent.sort();
        absent.dedup();
        if !absent.is_empty() {
            out.push(VersionGap { object: i, library: lib, provider, versions: absent });
        }
    }
    out
}
