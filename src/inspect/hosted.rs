//! What the paths a server's configuration names refer to: an environment (one the scan found,
//! or one the configuration names outside the scanned paths), a plain Python installation, or
//! nothing. mod_wsgi's `python-home`, uWSGI's `virtualenv` and their `python-path` entries are
//! resolved here once, before the checks run, so the checks judge facts and never inspect.

use crate::discover::{Found, recognise};
use crate::host::LibrarySearch;
use crate::host::paths::{HostRoot, display};
use crate::inspect::Inspected;
use crate::inspect::interpreter::parse_lib_dir_name;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What a configured path (a python-home, a uWSGI virtualenv) refers to.
#[derive(Debug, Clone)]
pub enum Hosted {
    /// An environment, found by the scan or inspected because configuration names it.
    Venv(Box<HostedVenv>),
    /// A Python installation that is not an environment (`WSGIPythonHome /usr`): legal.
    Installation {
        /// Its prefix.
        prefix: PathBuf,
        /// X.Y of each of its `lib/pythonX.Y` (a distribution may ship several).
        xys: Vec<String>,
    },
    /// Nothing usable: the reason.
    Missing(String),
}

/// What the server checks need of a hosted environment: where it is and its interpreter (not
/// its packages, so resolving a fleet's configuration copies no package lists).
#[derive(Debug, Clone)]
pub struct HostedVenv {
    /// The environment (view path).
    pub path: PathBuf,
    /// Its interpreter facts.
    pub python: crate::report::Python,
}

impl HostedVenv {
    /// The hosting facts of an inspected environment.
    pub fn of(v: &Inspected) -> Self {
        HostedVenv { path: v.path.clone(), python: v.venv.python.clone() }
    }
}

/// The configured paths of a run, resolved: homes (what the path itself is) and `sys.path`
/// entries (the environment they lie in, if any).
#[derive(Debug, Default)]
pub struct HostedEnvs {
    homes: HashMap<PathBuf, Hosted>,
    entries: HashMap<PathBuf, Option<(PathBuf, Hosted)>>,
}

/// What resolving needs: the scanned system and the environments the scan found.
struct Resolving<'a> {
    root: &'a HostRoot,
    libs: &'a LibrarySearch,
    venvs: &'a [Inspected],
    homes: HashMap<PathBuf, Hosted>,
}

impl HostedEnvs {
    /// Resolve every configured home and `sys.path` entry (normalised view paths) against the
    /// scan's environments; an environment the scan did not find is inspected once.
    pub fn resolve(
        root: &HostRoot,
        libs: &LibrarySearch,
        venvs: &[Inspected],
        homes: impl IntoIterator<Item = PathBuf>,
        entries: impl IntoIterator<Item = PathBuf>,
    ) -> Self {
        let mut r = Resolving { root, libs, venvs, homes: HashMap::new() };
        for h in homes {
            r.home(&h);
        }
        let mut resolved_entries = HashMap::new();
        for e in entries {
            if let std::collections::hash_map::Entry::Vacant(slot) = resolved_entries.entry(e) {
                let c = r.containing(slot.key());
                slot.insert(c);
            }
        }
        HostedEnvs { homes: r.homes, entries: resolved_entries }
    }

    /// What a configured path names, with the environment path a finding is about: a home is
    /// itself, a `sys.path` entry (`is_home` false) the environment it lies in. `None` for an
    /// entry outside environments, or a path not given to [`HostedEnvs::resolve`].
    pub fn named(&self, path: &Path, is_home: bool) -> Option<(&Path, &Hosted)> {
        if is_home {
            self.homes.get_key_value(path).map(|(p, h)| (p.as_path(), h))
        } else {
            self.containing(path).map(|(p, h)| (p.as_path(), h))
        }
    }

    /// The environment a `sys.path` entry lies in (its path and what it is); `None` for an
    /// entry outside environments (application code) or one not given to
    /// [`HostedEnvs::resolve`].
    pub fn containing(&self, entry: &Path) -> Option<&(PathBuf, Hosted)> {
        self.entries.get(entry).and_then(Option::as_ref)
    }
}

impl Resolving<'_> {
    /// What `path` is, remembered.
    fn home(&mut self, path: &Path) -> Hosted {
        if let Some(h) = self.homes.get(path) {
            return h.clone();
        }
        let h = self.resolve_home(path);
        self.homes.insert(path.to_path_buf(), h.clone());
        h
    }

    fn resolve_home(&self, path: &Path) -> Hosted {
        if let Some(v) = self.venvs.iter().find(|v| v.path == path) {
            return Hosted::Venv(Box::new(HostedVenv::of(v)));
        }
        let root = self.root;
        let Ok(resolved) = root.resolve(path) else {
            return Hosted::Missing(format!("{} does not exist", display(path)));
        };
        let real = root.real(&resolved);
        if !real.is_dir() {
            return Hosted::Missing(format!("{} is not a directory", display(path)));
        }
        if let Some(v) = self.venvs.iter().find(|v| v.path == resolved) {
            return Hosted::Venv(Box::new(HostedVenv::of(v)));
        }
        if let Some(marker) = recognise(&real) {
            let found = Found { path: path.to_path_buf(), marker };
            let (v, _) = crate::inspect::inspect_venv(root, self.libs, &HashMap::new(), &found);
            return Hosted::Venv(Box::new(HostedVenv::of(&v)));
        }
        let xys = installation_xys(&real);
        if !xys.is_empty() {
            return Hosted::Installation { prefix: resolved, xys };
        }
        Hosted::Missing(format!("{} is not a Python environment", display(path)))
    }

    /// The environment a `python-path` entry lies in, if any: the nearest ancestor that is
    /// one. Entries outside environments (application code) give `None`; an entry into a
    /// site-packages directory that does not exist gives `Missing`.
    fn containing(&mut self, entry: &Path) -> Option<(PathBuf, Hosted)> {
        let root = self.root;
        if let Some(v) =
            self.venvs.iter().filter(|v| entry.starts_with(&v.path)).max_by_key(|v| v.path.as_os_str().len())
        {
            return Some((v.path.clone(), Hosted::Venv(Box::new(HostedVenv::of(v)))));
        }
        for anc in entry.ancestors().filter(|a| a.parent().is_some()) {
            if let Ok(r) = root.resolve(anc)
                && recognise(&root.real(&r)).is_some()
            {
                return Some((anc.to_path_buf(), self.home(anc)));
            }
        }
        if entry.components().any(|c| c.as_os_str() == "site-packages") && !root.exists(entry) {
            // Point at the would-be environment: the directory above lib/pythonX.Y.
            let venv = entry
                .ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "lib"))
                .and_then(Path::parent)
                .unwrap_or(entry)
                .to_path_buf();
            return Some((venv, Hosted::Missing(format!("{} does not exist", display(entry)))));
        }
        None
    }
}

/// X.Y of each `lib/pythonX.Y` holding `os.py` under a Python installation prefix.
fn installation_xys(real_prefix: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(real_prefix.join("lib")) else { return Vec::new() };
    let mut found: Vec<String> = rd
        .flatten()
        .filter(|e| e.path().join("os.py").is_file())
        .filter_map(|e| parse_lib_dir_name(&e.file_name().to_string_lossy()).map(|l| l.xy))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn configured_paths_resolve_to_what_they_are() {
        let dir = std::env::temp_dir().join(format!("venvaudit-hosted-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        // An environment the scan did not find, an installation, a file, and application code.
        fs::create_dir_all(dir.join("srv/other/lib/python3.11/site-packages")).unwrap();
        fs::write(dir.join("srv/other/pyvenv.cfg"), "home = /usr/bin\nversion = 3.11.2\n").unwrap();
        fs::create_dir_all(dir.join("opt/py/lib/python3.12")).unwrap();
        fs::write(dir.join("opt/py/lib/python3.12/os.py"), "").unwrap();
        fs::create_dir_all(dir.join("srv/code")).unwrap();
        fs::write(dir.join("srv/file"), "").unwrap();
        let root = HostRoot::at(&dir).unwrap();
        let libs = LibrarySearch::load(&root);
        let p = PathBuf::from;
        let homes = [p("/srv/other"), p("/opt/py"), p("/srv/file"), p("/srv/none"), p("/srv/code")];
        let entries =
            [p("/srv/other/lib/python3.11/site-packages"), p("/srv/code"), p("/srv/gone/lib/python3.11/site-packages")];
        let h = HostedEnvs::resolve(&root, &libs, &[], homes, entries);
        let home = |h: &HostedEnvs, p: &Path| h.named(p, true).map(|(_, hosted)| hosted.clone());
        match home(&h, Path::new("/srv/other")) {
            Some(Hosted::Venv(v)) => assert_eq!(v.python.version.as_deref(), Some("3.11.2")),
            other => panic!("/srv/other: {other:?}"),
        }
        match home(&h, Path::new("/opt/py")) {
            Some(Hosted::Installation { prefix, xys }) => {
                assert_eq!((prefix.as_path(), xys.as_slice()), (Path::new("/opt/py"), &["3.12".to_owned()][..]))
            }
            other => panic!("/opt/py: {other:?}"),
        }
        for (path, why) in
            [("/srv/file", "is not a directory"), ("/srv/none", "does not exist"), ("/srv/code", "is not a Python")]
        {
            match home(&h, Path::new(path)) {
                Some(Hosted::Missing(m)) => assert!(m.contains(why), "{path}: {m}"),
                other => panic!("{path}: {other:?}"),
            }
        }
        assert!(home(&h, Path::new("/never/named")).is_none());
        let (venv, hosted) = h.containing(Path::new("/srv/other/lib/python3.11/site-packages")).unwrap();
        assert_eq!(venv, Path::new("/srv/other"));
        assert!(matches!(hosted, Hosted::Venv(_)));
        assert!(h.containing(Path::new("/srv/code")).is_none(), "application code is in no environment");
        // `named` answers both kinds: a home is itself, an entry the environment it lies in.
        let (p, _) = h.named(Path::new("/opt/py"), true).unwrap();
        assert_eq!(p, Path::new("/opt/py"));
        let (p, hosted) = h.named(Path::new("/srv/other/lib/python3.11/site-packages"), false).unwrap();
        assert_eq!((p, matches!(hosted, Hosted::Venv(_))), (Path::new("/srv/other"), true));
        assert!(h.named(Path::new("/srv/code"), false).is_none());
        let (venv, hosted) = h.containing(Path::new("/srv/gone/lib/python3.11/site-packages")).unwrap();
        assert_eq!(venv, Path::new("/srv/gone"));
        assert!(matches!(hosted, Hosted::Missing(m) if m.contains("does not exist")));
        fs::remove_dir_all(&dir).unwrap();
    }
}
