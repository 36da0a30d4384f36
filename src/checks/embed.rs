//! What mod_wsgi and uWSGI's python plugin have in common: a server module linked against
//! exactly one libpython hosts environments named in configuration. This module learns the
//! embedded Python from the module's ELF headers, finds what a configured path refers to,
//! and judges the pair.

use super::CheckContext;
use crate::discover::{Found, recognise};
use crate::host::paths::{HostRoot, display};
use crate::inspect::Inspected;
use crate::inspect::interpreter::{parse_lib_dir_name, xy_from_libpython};
use crate::parse::elf;
use crate::report::major_minor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The Python a server module embeds.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// View path of the module as configured.
    pub module: PathBuf,
    /// X.Y of the embedded Python.
    pub xy: Option<String>,
    /// DT_NEEDED libpython, when the module links one.
    pub soname: Option<String>,
    /// Where the loader finds that libpython (view path, links resolved).
    pub libpython: Option<PathBuf>,
    /// Installation prefix of that libpython (`/usr`, `/root/.pyenv/versions/3.12.1`).
    pub prefix: Option<PathBuf>,
    /// How `xy` was learned.
    pub evidence: String,
}

impl Embedded {
    /// `Python 3.11 (libpython3.11.so.1.0 from /usr/lib/...)` for messages.
    pub fn describe(&self) -> String {
        let xy = self.xy.as_deref().unwrap_or("?");
        match (&self.soname, &self.libpython) {
            (Some(s), Some(p)) => format!("Python {xy} ({s} from {})", display(p)),
            (Some(s), None) => format!("Python {xy} ({s}, not found by the loader)"),
            _ => format!("Python {xy} ({})", self.evidence),
        }
    }
}

/// Read a module's embedded Python: DT_NEEDED libpython found through its RUNPATH, else the
/// version in its file name (`mod_wsgi.so-3.11`, `mod_wsgi-py312.cpython-312-….so`,
/// `python311_plugin.so`).
pub fn inspect_module(root: &HostRoot, libs: &crate::host::LibrarySearch, module: &Path) -> Result<Embedded, String> {
    let resolved = root.resolve(module).map_err(|_| format!("{} does not exist", display(module)))?;
    let info = elf::read_elf(&root.real(&resolved)).map_err(|e| format!("{e:#}"))?;
    let mut e = Embedded {
        module: module.to_path_buf(),
        xy: None,
        soname: None,
        libpython: None,
        prefix: None,
        evidence: String::new(),
    };
    if let Some(so) = info.needed.iter().find(|n| n.starts_with("libpython")) {
        e.xy = xy_from_libpython(so);
        e.soname = Some(so.clone());
        e.evidence = format!("DT_NEEDED {so} of {}", display(&resolved));
        let origin = resolved.parent().unwrap_or(Path::new("/"));
        if let Some(found) = libs.find(so, origin, &info) {
            let real = root.resolve(&found).unwrap_or(found);
            e.prefix = install_prefix(&real);
            e.libpython = Some(real);
        }
    }
    if e.xy.is_none() {
        let name = resolved.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let configured = module.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        e.xy = xy_from_module_name(&configured).or_else(|| xy_from_module_name(&name));
        e.evidence = format!("file name of {}", display(module));
    }
    Ok(e)
}

/// X.Y from a module file name.
pub fn xy_from_module_name(name: &str) -> Option<String> {
    // Debian: mod_wsgi.so-3.11
    if let Some((_, v)) = name.rsplit_once(".so-") {
        return parse_lib_dir_name(&format!("python{v}")).map(|l| l.xy);
    }
    // pip: mod_wsgi-py312.cpython-312-x86_64-linux-gnu.so
    if let Some(tag) = crate::inspect::packages::extension_abi_tag(name)
        && let Some(super::extensions::AbiTag::CPython { major, minor, .. }) = super::extensions::parse_abi_tag(&tag)
    {
        return Some(format!("{major}.{minor}"));
    }
    // uWSGI: python311_plugin.so, python3.12_plugin.so
    let stem = name.strip_suffix("_plugin.so")?;
    let digits = stem.strip_prefix("python")?;
    let digits = digits.replace('.', "");
    if digits.len() >= 2 && digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(format!("{}.{}", &digits[..1], &digits[1..]));
    }
    None
}

/// The installation prefix of an interpreter or library: `/usr` for
/// `/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0` and `/usr/bin/python3.11`.
pub fn install_prefix(file: &Path) -> Option<PathBuf> {
    let mut dir = file.parent()?;
    let name = |d: &Path| d.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name(dir).contains("-linux-") {
        dir = dir.parent()?;
    }
    if matches!(name(dir).as_str(), "lib" | "lib64" | "lib32" | "bin") {
        dir = dir.parent()?;
    }
    Some(dir.to_path_buf())
}

/// What a configured path (a python-home, a uWSGI virtualenv) refers to.
#[derive(Debug, Clone)]
pub enum Hosted {
    /// A Python environment.
    Venv(Box<Inspected>),
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

/// Environments found at configured paths, inspected once per check run.
#[derive(Default)]
pub struct Resolver {
    cache: Mutex<HashMap<PathBuf, Hosted>>,
}

impl Resolver {
    /// What `path` (a normalised view path) is.
    pub fn home(&self, ctx: &CheckContext, path: &Path) -> Hosted {
        if let Some(h) = self.cache.lock().ok().and_then(|c| c.get(path).cloned()) {
            return h;
        }
        let h = self.resolve_home(ctx, path);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(path.to_path_buf(), h.clone());
        }
        h
    }

    fn resolve_home(&self, ctx: &CheckContext, path: &Path) -> Hosted {
        if let Some(v) = ctx.scan.venvs.iter().find(|v| v.path == path) {
            return Hosted::Venv(Box::new(v.clone()));
        }
        let root = &ctx.scan.root;
        let Ok(resolved) = root.resolve(path) else {
            return Hosted::Missing(format!("{} does not exist", display(path)));
        };
        let real = root.real(&resolved);
        if !real.is_dir() {
            return Hosted::Missing(format!("{} is not a directory", display(path)));
        }
        if let Some(v) = ctx.scan.venvs.iter().find(|v| v.path == resolved) {
            return Hosted::Venv(Box::new(v.clone()));
        }
        if let Some(marker) = recognise(&real) {
            let found = Found { path: path.to_path_buf(), marker };
            let (v, _) = crate::inspect::inspect_venv(root, &ctx.scan.host.libs, &HashMap::new(), &found);
            return Hosted::Venv(Box::new(v));
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
    pub fn containing(&self, ctx: &CheckContext, entry: &Path) -> Option<(PathBuf, Hosted)> {
        let root = &ctx.scan.root;
        if let Some(v) =
            ctx.scan.venvs.iter().filter(|v| entry.starts_with(&v.path)).max_by_key(|v| v.path.as_os_str().len())
        {
            return Some((v.path.clone(), Hosted::Venv(Box::new(v.clone()))));
        }
        for anc in entry.ancestors().filter(|a| a.parent().is_some()) {
            if let Ok(r) = root.resolve(anc)
                && recognise(&root.real(&r)).is_some()
            {
                return Some((anc.to_path_buf(), self.home(ctx, anc)));
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

/// The verdict on hosting an environment in an embedded Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It works.
    Ok,
    /// Another X.Y or implementation: (venv's X.Y, why).
    Abi(String, String),
    /// Same X.Y, another installation: (venv's base prefix, module's prefix).
    Foreign(PathBuf, PathBuf),
}

/// Judge a hosted environment (or installation) against an embedded Python.
pub fn judge(root: &HostRoot, hosted: &Hosted, emb: &Embedded) -> Verdict {
    let Some(want) = emb.xy.as_deref() else { return Verdict::Ok };
    let (xy, implementation, prefix) = match hosted {
        Hosted::Missing(_) => return Verdict::Ok,
        Hosted::Installation { prefix, xys } => {
            let xy = if xys.iter().any(|x| x == want) { want.to_owned() } else { xys.join(", ") };
            (xy, None, Some(prefix.clone()))
        }
        Hosted::Venv(v) => {
            let py = &v.venv.python;
            let Some(version) = py.version.as_deref() else { return Verdict::Ok };
            (major_minor(version), py.implementation.clone(), venv_base_prefix(root, v))
        }
    };
    if implementation.as_deref().is_some_and(|i| i.eq_ignore_ascii_case("pypy")) {
        return Verdict::Abi(xy, "is a PyPy environment".into());
    }
    if xy != want {
        let what = if matches!(hosted, Hosted::Installation { .. }) { "installation" } else { "environment" };
        return Verdict::Abi(xy.clone(), format!("is a Python {xy} {what}"));
    }
    if let (Some(p), Some(ep)) = (prefix, &emb.prefix) {
        let canon = |x: &Path| root.resolve(x).unwrap_or_else(|_| x.to_path_buf());
        if canon(&p) != canon(ep) {
            return Verdict::Foreign(p, ep.clone());
        }
    }
    Verdict::Ok
}

/// The installation prefix of a venv's base interpreter (via its libpython when shared).
fn venv_base_prefix(root: &HostRoot, v: &Inspected) -> Option<PathBuf> {
    let py = &v.venv.python;
    if let Some(lp) = py.libpython.as_ref().and_then(|l| l.path.as_ref()) {
        let p = PathBuf::from(lp);
        return install_prefix(&root.resolve(&p).unwrap_or(p));
    }
    py.base_executable.as_ref().filter(|_| py.base_exists).and_then(|b| {
        let p = PathBuf::from(b);
        install_prefix(&root.resolve(&p).unwrap_or(p))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert_eq!(xy_from_module_name("mod_wsgi.so-3.11").as_deref(), Some("3.11"));
        assert_eq!(xy_from_module_name("mod_wsgi-py312.cpython-312-x86_64-linux-gnu.so").as_deref(), Some("3.12"));
        assert_eq!(xy_from_module_name("python311_plugin.so").as_deref(), Some("3.11"));
        assert_eq!(xy_from_module_name("python3_plugin.so"), None);
        assert_eq!(xy_from_module_name("mod_wsgi.so"), None);
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            install_prefix(Path::new("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0")),
            Some(PathBuf::from("/usr"))
        );
        assert_eq!(install_prefix(Path::new("/usr/bin/python3.11")), Some(PathBuf::from("/usr")));
        assert_eq!(
            install_prefix(Path::new("/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0")),
            Some(PathBuf::from("/root/.pyenv/versions/3.12.1"))
        );
        assert_eq!(install_prefix(Path::new("/usr/lib64/libpython3.9.so.1.0")), Some(PathBuf::from("/usr")));
    }
}
