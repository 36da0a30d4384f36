//! Which modules of an environment its code imports, statically: the import graph from
//! every top-level importable name of its `sys.path` directories (what `import pkg` of each
//! installed distribution runs), and from an application's own code when one is given.
//!
//! A module is *required* when a chain of imports that run whenever their file is imported
//! ([`When::Always`]) leads to it from a top-level name (or from the application); it is
//! *optional* when every chain to it passes an import the author guarded (`try: … except
//! ImportError`), one inside a function, or one under `if TYPE_CHECKING:`; and *not imported*
//! when no chain leads to it. What cannot be read is not guessed: a file that cannot be read
//! or tokenized, or a package whose `__init__` is compiled, makes everything below its package
//! *unknown*, which callers treat as required; a graph that outgrows its [`Limits`] is unknown
//! as a whole.
//!
//! The trees are read through [`SourceTree`], so the same graph judges an installed
//! environment, a wheel or an image. Imports done by compiled code (Cython, mypyc, C) and
//! names computed at run time are not seen.

use crate::host::paths::{HostRoot, display};
use crate::parse::pyimport::{self, Import, When, is_identifier};
use crate::report::ScanError;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// What a directory entry is (links are never followed: a tree reports them as neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
}

/// One `sys.path` directory the graph reads: its entries and files by path relative to it
/// (`/`-separated, no `..`). Implementations must not follow links out of the tree and must
/// bound what they read.
pub trait SourceTree {
    /// The entries of the directory `dir` (`""` for the tree itself); `None` when it is not a
    /// readable directory.
    fn list(&mut self, dir: &str) -> Option<Vec<(String, EntryKind)>>;
    /// At most `limit` bytes of the regular file `file`.
    fn read(&mut self, file: &str, limit: u64) -> io::Result<Vec<u8>>;
    /// What identifies `file`'s content without reading it (device, inode, size, modification
    /// time), when the tree has such a thing: a [`ParseCache`] then knows a file it has seen
    /// (the same package in another venv of a fleet of hard-linked copies) without reading it.
    fn identity(&mut self, _file: &str) -> Option<FileIdentity> {
        None
    }
}

/// Device, inode, size and modification time (ns) of a file.
pub type FileIdentity = (u64, u64, u64, i128);

/// A file's imports, or why they are unknown.
type Parsed = Result<Arc<Vec<Import>>, pyimport::Unparseable>;

/// Parse results by key, and the approximate bytes they hold.
type Memo<K> = Mutex<(HashMap<K, Parsed>, usize)>;

/// Tokenized files shared by every venv of a run: a fleet holds the same packages many times
/// over, and tokenizing is most of what the graph costs. Keyed by the file's identity when
/// its tree has one, and by its content (length and a keyed hash, so a crafted file cannot
/// collide with another's on purpose). Bounded: when what a map holds reaches
/// [`PARSE_CACHE_BYTES`] it starts over, so memory follows the work in flight.
#[derive(Default)]
pub struct ParseCache {
    by_identity: Memo<FileIdentity>,
    by_content: Memo<(usize, u64)>,
    hasher: std::hash::RandomState,
}

/// Approximate heap bytes of parse results a [`ParseCache`] map holds before it is emptied.
pub const PARSE_CACHE_BYTES: usize = 32 << 20;

/// Approximate heap bytes of a parse result and its key.
fn parsed_size(p: &Parsed) -> usize {
    let imports = p.as_ref().map_or(0, |v| {
        v.iter()
            .map(|i| {
                std::mem::size_of::<Import>() + i.module.len() + i.names.iter().map(|n| n.len() + 24).sum::<usize>()
            })
            .sum()
    });
    96 + imports
}

impl ParseCache {
    fn remember<K: std::hash::Hash + Eq>(map: &Memo<K>, key: K, parsed: &Parsed) {
        let size = parsed_size(parsed);
        let mut m = map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.1 + size > PARSE_CACHE_BYTES {
            m.0.clear();
            m.1 = 0;
        }
        m.1 += size;
        m.0.insert(key, parsed.clone());
    }

    fn by_identity(&self, id: &FileIdentity) -> Option<Parsed> {
        self.by_identity.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0.get(id).cloned()
    }

    /// The imports of `bytes`, tokenized once per distinct content.
    fn parse(&self, bytes: &[u8]) -> Parsed {
        use std::hash::BuildHasher;
        let key = (bytes.len(), self.hasher.hash_one(bytes));
        if let Some(p) = self.by_content.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0.get(&key) {
            return p.clone();
        }
        let parsed = pyimport::imports(bytes).map(Arc::new);
        Self::remember(&self.by_content, key, &parsed);
        parsed
    }
}

/// Bounds on what one graph reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Source files tokenized.
    pub files: usize,
    /// Bytes of one source file; a bigger file is unknown.
    pub file_bytes: u64,
    /// Bytes of all source files together.
    pub total_bytes: u64,
    /// Imports in one chain from a root; deeper modules are unknown.
    pub depth: u32,
    /// Directory levels a namespace package is descended to find top-level packages.
    pub namespace_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        // A venv with torch, tensorflow and the scientific stack reaches about 6,000 files and
        // 90 MB of source; these leave room and still bound a hostile tree.
        Limits { files: 40_000, file_bytes: 4 << 20, total_bytes: 512 << 20, depth: 200, namespace_depth: 4 }
    }
}

/// How a module is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A top-level import reaches it through imports that always run.
    TopLevel(Vec<Step>),
    /// The application's code imports it (directly or through imports that always run).
    Application(Vec<Step>),
    /// What it imports or whether it is imported could not be told; treated as required.
    Unknown(String),
    /// Reached only through an import that runs conditionally ([`When::Guarded`],
    /// [`When::Lazy`], [`When::TypeChecking`]): the first such import on the chain decides.
    Optional(When, Vec<Step>),
    /// No import the graph saw leads to it.
    NotImported,
}

/// One import on a chain: `file` (relative to its tree, or the application file) imports
/// `module` on `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The importing file.
    pub file: String,
    /// Its line.
    pub line: u32,
    /// The module imported.
    pub module: String,
    /// When that import runs.
    pub when: When,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} imports {}", self.file, self.line, self.module)?;
        if self.when != When::Always {
            write!(f, " ({})", self.when.as_str())?;
        }
        Ok(())
    }
}

/// The imports an application's code makes, found by [`app_imports`]'s caller.
#[derive(Debug, Clone, Default)]
pub struct AppImports {
    /// (file as shown, import) for every absolute import of the application.
    pub imports: Vec<(String, Import)>,
    /// Top-level names the application itself defines (its own modules and packages): an
    /// import of those is not an environment module.
    pub own_names: HashSet<String>,
}

/// How a module was reached, with the import that reached it.
#[derive(Debug, Clone)]
struct Node {
    state: State,
    via: Option<Via>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    TopLevel,
    Application,
    Optional(When),
}

#[derive(Debug, Clone)]
struct Via {
    /// The importing module (`None` for an application file).
    from: Option<String>,
    step: Step,
}

/// What a module name refers to in the trees.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Resolved {
    /// A package with an `__init__.py` (its path) or a compiled `__init__` (`None`).
    Package(Option<String>),
    /// A `.py` module (its path).
    Source(String),
    /// A compiled module: its imports are not seen.
    Compiled,
    /// A namespace package portion: no code runs.
    Namespace,
}

/// A directory's entries, classified for module lookup.
#[derive(Debug, Default)]
struct Listing {
    dirs: HashSet<String>,
    sources: HashSet<String>,
    compiled: HashSet<String>,
    init_py: bool,
    init_compiled: bool,
}

/// The module name of a compiled file name: `x.cpython-312-x86_64-linux-gnu.so`, `x.abi3.so`,
/// `x.so` → `x`.
pub fn compiled_module_name(file: &str) -> Option<&str> {
    let stem = file.strip_suffix(".so")?;
    let name = stem.split('.').next()?;
    (!name.is_empty() && is_identifier(name)).then_some(name)
}

/// The module a file of a tree defines (`a/b/__init__.py` → `a.b`, `a/b/c.cpython-312-….so` →
/// `a.b.c`), when its path is an importable name.
pub fn module_of_file(rel: &str) -> Option<String> {
    let (dir, file) = rel.rsplit_once('/').unwrap_or(("", rel));
    let stem = match file.strip_suffix(".py") {
        Some(s) if is_identifier(s) && !s.is_empty() => s,
        _ => compiled_module_name(file)?,
    };
    if !dir.is_empty() && !dir.split('/').all(|c| !c.is_empty() && is_identifier(c)) {
        return None;
    }
    let dotted = dir.replace('/', ".");
    Some(match (dotted.is_empty(), stem) {
        (true, "__init__") => return None,
        (true, s) => s.to_owned(),
        (false, "__init__") => dotted,
        (false, s) => format!("{dotted}.{s}"),
    })
}

/// The graph's answer for every module of the trees.
#[derive(Debug, Default)]
pub struct Reachability {
    nodes: HashMap<String, Node>,
    /// Packages below which imports are unknown, with why.
    unknown_under: Vec<(String, String)>,
    /// The whole graph is unknown (a limit was reached), with why.
    all_unknown: Option<String>,
    /// Files tokenized and bytes read, for the benchmark and the notes.
    pub files_read: usize,
    /// Bytes of source read.
    pub bytes_read: u64,
}

impl Reachability {
    /// How `module` (dotted name) is reached.
    pub fn of(&self, module: &str) -> Reach {
        if let Some(n) = self.nodes.get(module)
            && matches!(n.state, State::TopLevel | State::Application)
        {
            let chain = self.chain(module);
            return if n.state == State::TopLevel { Reach::TopLevel(chain) } else { Reach::Application(chain) };
        }
        if let Some(why) = &self.all_unknown {
            return Reach::Unknown(why.clone());
        }
        if let Some((_, why)) = self
            .unknown_under
            .iter()
            .find(|(p, _)| module == p || module.strip_prefix(p.as_str()).is_some_and(|r| r.starts_with('.')))
        {
            return Reach::Unknown(why.clone());
        }
        match self.nodes.get(module) {
            Some(Node { state: State::Optional(w), .. }) => Reach::Optional(*w, self.chain(module)),
            _ => Reach::NotImported,
        }
    }

    /// The imports from a root to `module`, root first.
    fn chain(&self, module: &str) -> Vec<Step> {
        let mut out = Vec::new();
        let mut cur = module.to_owned();
        while let Some(Node { via: Some(v), .. }) = self.nodes.get(&cur) {
            if out.len() >= 64 {
                break;
            }
            out.push(v.step.clone());
            match &v.from {
                Some(f) if *f != cur => cur = f.clone(),
                _ => break,
            }
        }
        out.reverse();
        out
    }
}

/// Builds a [`Reachability`] over `trees` (in `sys.path` order).
struct Graph<'t, T: SourceTree> {
    trees: &'t mut [T],
    limits: Limits,
    listings: HashMap<(usize, String), Option<Rc<Listing>>>,
    resolved: HashMap<String, Option<(usize, Resolved)>>,
    parsed: HashMap<String, Arc<Vec<Import>>>,
    cache: &'t ParseCache,
    out: Reachability,
    /// Conditional imports seen while following the required ones: (target, when, via, depth).
    deferred: Vec<(String, When, Via, u32)>,
}

/// The import graph of `trees` (an environment's `sys.path` directories, in order), from every
/// top-level importable name, and from `app`'s imports when given. Which modules are required
/// is always complete; which conditional import reaches an optional one is followed only into
/// the top-level packages in `focus` when given (the packages of the modules the caller will
/// ask about), else everywhere.
pub fn reachability<T: SourceTree>(
    trees: &mut [T],
    app: Option<&AppImports>,
    limits: Limits,
    cache: &ParseCache,
    focus: Option<&HashSet<String>>,
) -> Reachability {
    let mut g = Graph {
        trees,
        cache,
        limits,
        listings: HashMap::new(),
        resolved: HashMap::new(),
        parsed: HashMap::new(),
        out: Reachability::default(),
        deferred: Vec::new(),
    };
    let roots = g.roots();
    let mut queue: VecDeque<(String, State, Option<Via>, u32)> =
        roots.into_iter().map(|r| (r, State::TopLevel, None, 0)).collect();
    g.run(&mut queue);
    if let Some(app) = app {
        for (file, imp) in &app.imports {
            if imp.level > 0 || imp.when == When::TypeChecking {
                continue;
            }
            let top = imp.module.split('.').next().unwrap_or("");
            if app.own_names.contains(top) {
                continue;
            }
            // The application handles an import it guards; its functions do run.
            let state = if imp.when == When::Guarded { State::Optional(When::Guarded) } else { State::Application };
            for target in g.targets(&imp.module, &imp.names) {
                let via = Via {
                    from: None,
                    step: Step { file: file.clone(), line: imp.line, module: target.clone(), when: imp.when },
                };
                if let State::Optional(w) = state {
                    g.deferred.push((target, w, via, 1));
                } else {
                    queue.push_back((target, state, Some(via), 1));
                }
            }
        }
        g.run(&mut queue);
    }
    g.run_optional(focus);
    g.out
}

impl<T: SourceTree> Graph<'_, T> {
    fn listing(&mut self, tree: usize, dir: &str) -> Option<Rc<Listing>> {
        if let Some(l) = self.listings.get(&(tree, dir.to_owned())) {
            return l.clone();
        }
        let l = self.trees[tree].list(dir).map(|entries| {
            let mut l = Listing::default();
            for (name, kind) in entries {
                match kind {
                    EntryKind::Dir if is_identifier(&name) && !name.is_empty() => {
                        l.dirs.insert(name);
                    }
                    EntryKind::Dir => {}
                    EntryKind::File => {
                        if name == "__init__.py" {
                            l.init_py = true;
                        } else if let Some(s) = name.strip_suffix(".py").filter(|s| is_identifier(s) && !s.is_empty()) {
                            l.sources.insert(s.to_owned());
                        } else if let Some(m) = compiled_module_name(&name) {
                            if m == "__init__" {
                                l.init_compiled = true;
                            } else {
                                l.compiled.insert(m.to_owned());
                            }
                        }
                    }
                }
            }
            Rc::new(l)
        });
        self.listings.insert((tree, dir.to_owned()), l.clone());
        l
    }

    /// What `module` is, as Python's path finder looks it up: the first tree holding a
    /// package or module of that name (a namespace portion only when none does).
    fn resolve(&mut self, module: &str) -> Option<(usize, Resolved)> {
        if let Some(r) = self.resolved.get(module) {
            return r.clone();
        }
        let parts: Vec<&str> = module.split('.').collect();
        let mut found = None;
        if parts.iter().all(|p| !p.is_empty() && is_identifier(p)) {
            for tree in 0..self.trees.len() {
                let Some(r) = self.resolve_in(tree, &parts) else { continue };
                if r != Resolved::Namespace {
                    found = Some((tree, r));
                    break;
                }
                found.get_or_insert((tree, r));
            }
        }
        self.resolved.insert(module.to_owned(), found.clone());
        found
    }

    fn resolve_in(&mut self, tree: usize, parts: &[&str]) -> Option<Resolved> {
        let (last, dirs) = parts.split_last()?;
        let dir = dirs.join("/");
        let listing = self.listing(tree, &dir)?;
        let path = |name: &str| if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") };
        if listing.dirs.contains(*last) {
            let pkg = path(last);
            if let Some(inner) = self.listing(tree, &pkg) {
                if inner.init_compiled {
                    return Some(Resolved::Package(None));
                }
                if inner.init_py {
                    return Some(Resolved::Package(Some(format!("{pkg}/__init__.py"))));
                }
            }
        }
        if listing.compiled.contains(*last) {
            return Some(Resolved::Compiled);
        }
        if listing.sources.contains(*last) {
            return Some(Resolved::Source(path(&format!("{last}.py"))));
        }
        listing.dirs.contains(*last).then_some(Resolved::Namespace)
    }

    /// Every top-level importable name: modules and packages at the top of each tree, and
    /// the packages inside namespace directories (`nvidia/cufile`), not the loose modules of
    /// a namespace directory (Panda3D's `deploy_libs/_ctypes…so` is nobody's import).
    fn roots(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for tree in 0..self.trees.len() {
            let Some(top) = self.listing(tree, "") else { continue };
            let mut names: Vec<&String> = top.sources.iter().chain(top.compiled.iter()).collect();
            names.sort();
            out.extend(names.into_iter().cloned());
            let mut dirs: Vec<(String, u32)> = top.dirs.iter().map(|d| (d.clone(), 0)).collect();
            dirs.sort();
            while let Some((dir, depth)) = dirs.pop() {
                let Some(inner) = self.listing(tree, &dir) else { continue };
                if inner.init_py || inner.init_compiled {
                    out.push(dir.replace('/', "."));
                } else if depth < self.limits.namespace_depth {
                    let mut subs: Vec<(String, u32)> =
                        inner.dirs.iter().map(|d| (format!("{dir}/{d}"), depth + 1)).collect();
                    subs.sort();
                    dirs.extend(subs);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The modules an import statement in the package context makes run: the module and each
    /// of its parents, and each imported name that is a submodule.
    fn targets(&mut self, module: &str, names: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        if module.is_empty() {
            return out;
        }
        out.push(module.to_owned());
        for n in names {
            let sub = format!("{module}.{n}");
            if self.resolve(&sub).is_some() {
                out.push(sub);
            }
        }
        out
    }

    /// The absolute module an import in `importer` names, `None` when a relative import goes
    /// above the top.
    fn absolute(importer: &str, is_package: bool, imp: &Import) -> Option<String> {
        if imp.level == 0 {
            return Some(imp.module.clone());
        }
        let mut parts: Vec<&str> = importer.split('.').collect();
        if !is_package {
            parts.pop();
        }
        for _ in 1..imp.level {
            parts.pop()?;
        }
        if parts.is_empty() {
            return None;
        }
        let mut base = parts.join(".");
        if !imp.module.is_empty() {
            base.push('.');
            base.push_str(&imp.module);
        }
        Some(base)
    }

    /// The imports of a module's source file; `Err(why)` when they cannot be known.
    fn imports_of(&mut self, module: &str, tree: usize, file: &str) -> Result<Arc<Vec<Import>>, String> {
        if let Some(p) = self.parsed.get(module) {
            return Ok(p.clone());
        }
        if self.out.files_read >= self.limits.files || self.out.bytes_read >= self.limits.total_bytes {
            let why = format!(
                "the import scan stopped after {} files and {} bytes of source (its limits)",
                self.out.files_read, self.out.bytes_read
            );
            self.out.all_unknown.get_or_insert(why.clone());
            return Err(why);
        }
        let too_big = |size: u64| format!("{file} is larger than {size} bytes: its imports are unknown");
        // A file seen before (by identity) is not read again; it counts against the limits as
        // if it were, so a venv's answer never depends on what the cache holds.
        let identity = self.trees[tree].identity(file);
        let cached = identity.as_ref().and_then(|id| self.cache.by_identity(id));
        let parsed = match (cached, identity) {
            (Some(p), Some(id)) => {
                self.out.files_read += 1;
                self.out.bytes_read += id.2.min(self.limits.file_bytes + 1);
                if id.2 > self.limits.file_bytes {
                    return Err(too_big(self.limits.file_bytes));
                }
                p
            }
            _ => {
                let bytes = self.trees[tree]
                    .read(file, self.limits.file_bytes + 1)
                    .map_err(|e| format!("{file} could not be read ({e}): its imports are unknown"))?;
                self.out.files_read += 1;
                self.out.bytes_read += bytes.len() as u64;
                if bytes.len() as u64 > self.limits.file_bytes {
                    return Err(too_big(self.limits.file_bytes));
                }
                let parsed = self.cache.parse(&bytes);
                if let Some(id) = identity {
                    ParseCache::remember(&self.cache.by_identity, id, &parsed);
                }
                parsed
            }
        };
        let imports = parsed.map_err(|e| format!("{file} could not be tokenized ({e}): its imports are unknown"))?;
        self.parsed.insert(module.to_owned(), imports.clone());
        Ok(imports)
    }

    /// Mark `name` reached in `state` unless it already is; the source file whose imports it
    /// runs, its tree, and whether it is a package's `__init__`.
    fn reach(&mut self, name: &str, state: State, via: Option<&Via>) -> Option<(usize, String, bool)> {
        if self.out.nodes.contains_key(name) {
            return None;
        }
        let (tree, resolved) = self.resolve(name)?;
        self.out.nodes.insert(name.to_owned(), Node { state, via: via.cloned() });
        match resolved {
            Resolved::Package(Some(f)) => Some((tree, f, true)),
            Resolved::Source(f) => Some((tree, f, false)),
            Resolved::Package(None) => {
                if !matches!(state, State::Optional(_)) {
                    self.out.unknown_under.push((
                        name.to_owned(),
                        format!("package {name} has a compiled __init__: what it imports is unknown"),
                    ));
                }
                None
            }
            Resolved::Compiled | Resolved::Namespace => None,
        }
    }

    /// The modules `imports` (of the module `name`, from `file`) make run, each with the import
    /// that reaches it.
    fn edges(&mut self, name: &str, is_package: bool, file: &str, imports: &[Import]) -> Vec<(String, Via)> {
        let mut out = Vec::new();
        for imp in imports {
            let Some(abs) = Self::absolute(name, is_package, imp) else { continue };
            for target in self.targets(&abs, &imp.names) {
                // Reached already (and so its parents): nodes are marked once, by the first
                // and strongest reach, so the import adds nothing.
                if self.out.nodes.contains_key(&target) {
                    continue;
                }
                let step = Step { file: file.to_owned(), line: imp.line, module: target.clone(), when: imp.when };
                out.push((target, Via { from: Some(name.to_owned()), step }));
            }
        }
        out
    }

    /// The dotted names `import module` runs, parents first (`a`, `a.b`, `a.b.c`).
    fn with_parents(module: &str) -> Vec<String> {
        let parts: Vec<&str> = module.split('.').collect();
        (1..=parts.len()).map(|i| parts[..i].join(".")).collect()
    }

    /// Mark `module` and its parents reached in `state`; follow what their files import:
    /// imports that always run in the same state, the others later by [`Graph::run_optional`].
    fn run(&mut self, queue: &mut VecDeque<(String, State, Option<Via>, u32)>) {
        while let Some((module, state, via, depth)) = queue.pop_front() {
            for name in Self::with_parents(&module) {
                let Some((tree, file, is_package)) = self.reach(&name, state, via.as_ref()) else { continue };
                if depth >= self.limits.depth {
                    self.out.unknown_under.push((name.clone(), format!("{file} is more than {depth} imports deep")));
                    continue;
                }
                let imports = match self.imports_of(&name, tree, &file) {
                    Ok(i) => i,
                    Err(why) => {
                        let package = if is_package { name.clone() } else { parent(&name).to_owned() };
                        self.out.unknown_under.push((package, why));
                        continue;
                    }
                };
                for (target, v) in self.edges(&name, is_package, &file, &imports) {
                    if v.step.when == When::Always {
                        queue.push_back((target, state, Some(v), depth + 1));
                    } else {
                        let when = v.step.when;
                        self.deferred.push((target, when, v, depth + 1));
                    }
                }
            }
        }
    }

    /// Everything reached only through conditional imports: breadth first from each, with the
    /// condition of the first conditional import on the way.
    ///
    /// This pass only names the kind of warning (what is not required stays not required), so
    /// it reads only the files of the top-level packages in `focus` when given (those of the
    /// modules asked about), and stops at the limits without making anything unknown.
    fn run_optional(&mut self, focus: Option<&HashSet<String>>) {
        let mut queue: VecDeque<(String, When, Via, u32)> = std::mem::take(&mut self.deferred).into();
        while let Some((module, when, via, depth)) = queue.pop_front() {
            for name in Self::with_parents(&module) {
                let Some((tree, file, is_package)) = self.reach(&name, State::Optional(when), Some(&via)) else {
                    continue;
                };
                let top = name.split('.').next().unwrap_or_default();
                if depth >= self.limits.depth
                    || self.out.all_unknown.is_some()
                    || self.out.files_read >= self.limits.files
                    || self.out.bytes_read >= self.limits.total_bytes
                    || focus.is_some_and(|f| !f.contains(top))
                {
                    continue;
                }
                // An optional module that cannot be read adds nothing: what it would import is
                // at most optional too.
                let Ok(imports) = self.imports_of(&name, tree, &file) else { continue };
                for (target, v) in self.edges(&name, is_package, &file, &imports) {
                    let w = if v.step.when == When::Always { when } else { v.step.when };
                    queue.push_back((target, w, v, depth + 1));
                }
            }
        }
    }
}

/// Why `--app` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The path does not exist or is neither a directory nor a regular file.
    #[error("{path}: no such directory or Python file")]
    Missing {
        /// The path as given (view path).
        path: String,
    },
}

/// Bounds on the application code read by [`app_imports`].
const APP_MAX_FILES: usize = 20_000;
const APP_MAX_DEPTH: usize = 32;
const APP_MAX_TOTAL: u64 = 256 << 20;
const APP_MAX_FILE: u64 = 4 << 20;

/// Directories of an application tree that are not its code: version control, caches,
/// dependencies and environments (which the scan judges as such).
fn skipped_app_dir(name: &[u8], real: &std::path::Path) -> bool {
    name.starts_with(b".")
        || matches!(name, b"__pycache__" | b"node_modules" | b"site-packages" | b"dist-packages")
        || real.join("pyvenv.cfg").exists()
        || real.join("conda-meta").is_dir()
}

/// The imports of an application's code: every `.py` file below `dir` (view path; or `dir`
/// itself when it is a file), read without following links and bounded in files, depth and
/// bytes. Its own top-level names (the entries of `dir` and of `dir/src`) are noted so that
/// `import myapp.views` is not taken for an environment module. Files that cannot be read or
/// tokenized are returned as errors; the rest still count.
pub fn app_imports(root: &HostRoot, dir: &std::path::Path) -> Result<(AppImports, Vec<ScanError>), AppError> {
    use std::os::unix::ffi::OsStrExt;
    let missing = || AppError::Missing { path: display(dir) };
    let resolved = root.resolve(dir).map_err(|_| missing())?;
    let real = root.real(&resolved);
    let meta = std::fs::metadata(&real).map_err(|_| missing())?;
    let mut out = AppImports::default();
    let mut errors = Vec::new();
    let mut files = Vec::new();
    if meta.is_file() {
        files.push(real.clone());
        if let Some(stem) = real.file_stem() {
            out.own_names.insert(stem.to_string_lossy().into_owned());
        }
    } else if meta.is_dir() {
        for top in [real.clone(), real.join("src")] {
            for e in std::fs::read_dir(&top).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                out.own_names.insert(name.strip_suffix(".py").unwrap_or(&name).to_owned());
            }
        }
        let walk = walkdir::WalkDir::new(&real)
            .follow_links(false)
            .same_file_system(true)
            .max_depth(APP_MAX_DEPTH)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                !(e.depth() > 0 && e.file_type().is_dir() && skipped_app_dir(e.file_name().as_bytes(), e.path()))
            });
        for e in walk {
            let Ok(e) = e else { continue };
            if e.file_type().is_file() && e.file_name().as_bytes().ends_with(b".py") {
                if files.len() >= APP_MAX_FILES {
                    errors.push(ScanError {
                        path: display(dir),
                        message: format!(
                            "more than {APP_MAX_FILES} Python files: the rest of the application was not read"
                        ),
                    });
                    break;
                }
                files.push(e.into_path());
            }
        }
    } else {
        return Err(missing());
    }
    let mut total = 0u64;
    for f in files {
        let view = root.view(&f);
        let shown = display(&view);
        if total >= APP_MAX_TOTAL {
            errors.push(ScanError {
                path: shown,
                message: format!("the application's code exceeds {APP_MAX_TOTAL} bytes: not read"),
            });
            break;
        }
        let bytes = match root.read_bounded(&view, APP_MAX_FILE + 1) {
            Ok(b) if b.len() as u64 > APP_MAX_FILE => {
                errors.push(ScanError {
                    path: shown,
                    message: format!("larger than {APP_MAX_FILE} bytes: its imports were not read"),
                });
                continue;
            }
            Ok(b) => b,
            Err(e) => {
                errors.push(ScanError { path: shown, message: format!("cannot be read: {e}") });
                continue;
            }
        };
        total += bytes.len() as u64;
        match pyimport::imports(&bytes) {
            Ok(list) => out.imports.extend(list.into_iter().map(|i| (shown.clone(), i))),
            Err(e) => errors.push(ScanError {
                path: shown,
                message: format!("cannot be tokenized ({e}): its imports were not read"),
            }),
        }
    }
    Ok((out, errors))
}

fn parent(module: &str) -> &str {
    module.rsplit_once('.').map_or("", |(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A tree in memory: path → contents (`None` for a directory).
    #[derive(Default)]
    struct Mem(BTreeMap<String, Option<Vec<u8>>>, usize);

    impl Mem {
        fn with(files: &[(&str, &str)]) -> Mem {
            let mut m = Mem::default();
            for (p, text) in files {
                let mut dir = String::new();
                for c in p.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
                    if !dir.is_empty() {
                        dir.push('/');
                    }
                    dir.push_str(c);
                    m.0.insert(dir.clone(), None);
                }
                m.0.insert((*p).to_owned(), Some(text.as_bytes().to_vec()));
            }
            m
        }
    }

    impl SourceTree for Mem {
        fn list(&mut self, dir: &str) -> Option<Vec<(String, EntryKind)>> {
            if !dir.is_empty() && self.0.get(dir) != Some(&None) {
                return None;
            }
            let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
            Some(
                self.0
                    .iter()
                    .filter_map(|(p, c)| {
                        let rest = p.strip_prefix(&prefix)?;
                        (!rest.contains('/'))
                            .then(|| (rest.to_owned(), if c.is_some() { EntryKind::File } else { EntryKind::Dir }))
                    })
                    .collect(),
            )
        }
        fn identity(&mut self, file: &str) -> Option<FileIdentity> {
            let content = self.0.get(file)?.as_ref()?;
            let ino = self.0.keys().position(|k| k == file)? as u64;
            Some((7, ino, content.len() as u64, 0))
        }
        fn read(&mut self, file: &str, limit: u64) -> io::Result<Vec<u8>> {
            self.1 += 1;
            match self.0.get(file) {
                Some(Some(b)) => Ok(b[..b.len().min(limit as usize)].to_vec()),
                _ => Err(io::Error::from(io::ErrorKind::NotFound)),
            }
        }
    }

    const SO: &str = "cpython-312-x86_64-linux-gnu.so";

    fn so(p: &str) -> String {
        format!("{p}.{SO}")
    }

    fn kind(r: &Reach) -> &'static str {
        match r {
            Reach::TopLevel(_) => "top",
            Reach::Application(_) => "app",
            Reach::Unknown(_) => "unknown",
            Reach::Optional(w, _) => w.as_str(),
            Reach::NotImported => "not-imported",
        }
    }

    #[test]
    fn required_optional_and_unreached_modules() {
        let core = so("pkg/_core");
        let opt = so("pkg/_opt");
        let plug = so("pkg/_plug");
        let lazy = so("pkg/sub/_lazy");
        let deep = so("pkg/sub/_deep");
        let ns = so("deploy_libs/_ctypes");
        let nvidia = so("nvidia/cufile/_x");
        let tc = so("pkg/_tc");
        let mut trees = [Mem::with(&[
            (
                "pkg/__init__.py",
                "\"\"\"import pkg._plug\"\"\"\n# from . import _plug\nfrom . import _core\nfrom .sub import helper\ntry:\n    from . import _opt\nexcept ImportError:\n    _opt = None\nif TYPE_CHECKING:\n    from . import _tc\n",
            ),
            (&core, ""),
            (&opt, ""),
            (&plug, ""),
            (&tc, ""),
            ("pkg/sub/__init__.py", ""),
            ("pkg/sub/helper.py", "import pkg.sub._deep\ndef f():\n    from pkg.sub import _lazy\n"),
            (&lazy, ""),
            (&deep, ""),
            (&ns, ""),
            ("nvidia/cufile/__init__.py", "from ._x import y\n"),
            (&nvidia, ""),
            ("top.py", "import pkg._plug as p\n"),
            ("pkg.libs/libz.so.1", ""),
        ])];
        let r = reachability(&mut trees, None, Limits::default(), &ParseCache::default(), None);
        assert_eq!(kind(&r.of("pkg._core")), "top");
        assert_eq!(kind(&r.of("pkg.sub._deep")), "top");
        assert_eq!(kind(&r.of("pkg._opt")), "guarded");
        assert_eq!(kind(&r.of("pkg.sub._lazy")), "lazy");
        assert_eq!(kind(&r.of("pkg._tc")), "type-checking");
        assert_eq!(kind(&r.of("deploy_libs._ctypes")), "not-imported");
        assert_eq!(kind(&r.of("nvidia.cufile._x")), "top");
        // top.py is a top-level module: its import reaches _plug.
        assert_eq!(kind(&r.of("pkg._plug")), "top");
        let Reach::TopLevel(chain) = r.of("pkg.sub._deep") else { panic!() };
        let chain: Vec<String> = chain.iter().map(ToString::to_string).collect();
        assert_eq!(chain, ["pkg/__init__.py:4 imports pkg.sub.helper", "pkg/sub/helper.py:1 imports pkg.sub._deep"]);
    }

    #[test]
    fn application_imports_and_unknowns() {
        let media = so("qt/QtMultimedia");
        let widgets = so("qt/QtWidgets");
        let mut trees = [Mem::with(&[
            ("qt/__init__.py", "import os\n"),
            (&media, ""),
            (&widgets, ""),
            ("broken/__init__.py", "x = '''unterminated\n"),
            (&so("broken/_ext"), ""),
            (&so("mypyc/__init__"), ""),
            (&so("mypyc/_other"), ""),
        ])];
        let r = reachability(&mut trees, None, Limits::default(), &ParseCache::default(), None);
        assert_eq!(kind(&r.of("qt.QtMultimedia")), "not-imported");
        assert_eq!(kind(&r.of("broken._ext")), "unknown");
        assert_eq!(kind(&r.of("mypyc._other")), "unknown");
        let app = AppImports {
            imports: pyimport::imports(b"from qt import QtMultimedia\nimport mine.x\ntry:\n    import qt.QtWidgets\nexcept ImportError:\n    pass\n")
                .unwrap()
                .into_iter()
                .map(|i| ("app.py".to_owned(), i))
                .collect(),
            own_names: ["mine".to_owned()].into(),
        };
        let r = reachability(&mut trees, Some(&app), Limits::default(), &ParseCache::default(), None);
        let Reach::Application(chain) = r.of("qt.QtMultimedia") else { panic!("{:?}", r.of("qt.QtMultimedia")) };
        assert_eq!(chain[0].to_string(), "app.py:1 imports qt.QtMultimedia");
        assert_eq!(kind(&r.of("qt.QtWidgets")), "guarded");
    }

    #[test]
    fn limits_make_everything_unknown_not_optional() {
        let mut trees = [Mem::with(&[
            ("a/__init__.py", "from . import b\n"),
            ("a/b.py", "from . import c\n"),
            ("a/c.py", ""),
            (&so("z/_x"), ""),
        ])];
        let r = reachability(&mut trees, None, Limits { files: 1, ..Limits::default() }, &ParseCache::default(), None);
        assert_eq!(kind(&r.of("z._x")), "unknown");
        assert_eq!(r.files_read, 1);
        let big = "#".repeat(100);
        let mut trees = [Mem::with(&[("a/__init__.py", &big), (&so("a/_x"), "")])];
        let r = reachability(
            &mut trees,
            None,
            Limits { file_bytes: 10, ..Limits::default() },
            &ParseCache::default(),
            None,
        );
        assert_eq!(kind(&r.of("a._x")), "unknown");
    }

    #[test]
    fn a_shared_cache_saves_the_reads_not_the_answer() {
        let files = [("a/__init__.py", "from . import b\n"), ("a/b.py", "import a._x\n"), ("a/c.py", "")];
        let x = so("a/_x");
        let mut all: Vec<(&str, &str)> = files.to_vec();
        all.push((&x, ""));
        let cache = ParseCache::default();
        let mut first = [Mem::with(&all)];
        let r1 = reachability(&mut first, None, Limits::default(), &cache, None);
        assert_eq!((first[0].1, r1.files_read), (2, 2));
        // The same files again (another venv of the fleet): nothing read, the same answer, the
        // same count against the limits.
        let mut second = [Mem::with(&all)];
        let r2 = reachability(&mut second, None, Limits::default(), &cache, None);
        assert_eq!((second[0].1, r2.files_read, r2.bytes_read), (0, 2, r1.bytes_read));
        assert_eq!(kind(&r2.of("a._x")), "top");
        assert_eq!(r1.of("a._x"), r2.of("a._x"));
        // A file over the bound is unknown from the cache too.
        let r3 =
            reachability(&mut [Mem::with(&all)], None, Limits { file_bytes: 5, ..Limits::default() }, &cache, None);
        assert_eq!(kind(&r3.of("a._x")), "unknown");
    }

    #[test]
    fn the_optional_pass_reads_only_the_packages_asked_about() {
        let files = [
            ("a/__init__.py", "def f():\n    import b.helper\n    import c.helper\n"),
            ("b/__init__.py", ""),
            ("b/helper.py", "import b._x\n"),
            ("c/__init__.py", ""),
            ("c/helper.py", "import c._y\n"),
        ];
        let (x, y) = (so("b/_x"), so("c/_y"));
        let mut all: Vec<(&str, &str)> = files.to_vec();
        all.extend([(x.as_str(), ""), (y.as_str(), "")]);
        let focus: HashSet<String> = ["b".to_owned()].into();
        let mut trees = [Mem::with(&all)];
        let r = reachability(&mut trees, None, Limits::default(), &ParseCache::default(), Some(&focus));
        // b's helper was read: _x is lazy through it; c's was not: _y is not-imported, which
        // is what a module nobody asked about may be called. Neither is required.
        assert_eq!(kind(&r.of("b._x")), "lazy");
        assert_eq!(kind(&r.of("c._y")), "not-imported");
        let all_read = reachability(&mut [Mem::with(&all)], None, Limits::default(), &ParseCache::default(), None);
        assert_eq!(kind(&all_read.of("c._y")), "lazy");
        // The optional pass stops at the limits without making anything unknown.
        let tight = reachability(
            &mut [Mem::with(&all)],
            None,
            Limits { files: 3, ..Limits::default() },
            &ParseCache::default(),
            None,
        );
        assert_ne!(kind(&tight.of("c._y")), "unknown");
    }

    #[test]
    fn module_names_of_files() {
        assert_eq!(module_of_file(&so("a/b/c")).as_deref(), Some("a.b.c"));
        assert_eq!(module_of_file("a/b/__init__.py").as_deref(), Some("a.b"));
        assert_eq!(module_of_file("x.abi3.so").as_deref(), Some("x"));
        assert_eq!(module_of_file("a.libs/libz.so.1"), None);
        assert_eq!(module_of_file("foo-1.0.egg/foo/_x.so"), None);
        assert_eq!(module_of_file("nvidia/cufile/lib/libcufile.so.0"), None);
    }
}
