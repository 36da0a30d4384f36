//! What mod_wsgi and uWSGI's python plugin have in common: a server module linked against
//! exactly one libpython hosts environments named in configuration. This module learns the
//! embedded Python from the module's ELF headers and judges it against what a configured
//! path refers to ([`HostedEnvs`], resolved by the engine before the checks run).

use crate::host::paths::{HostRoot, display};
use crate::inspect::Inspected;
pub use crate::inspect::hosted::{Hosted, HostedEnvs};
use crate::inspect::interpreter::{parse_lib_dir_name, xy_from_libpython};
use crate::parse::elf;
use crate::report::major_minor;
use std::path::{Path, PathBuf};

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
