//! The Python a server module embeds: mod_wsgi and uWSGI's python plugin are linked against
//! exactly one libpython, learned from the module's ELF headers (DT_NEEDED found the way the
//! loader finds it) or, for a statically linked module, from its file name.

use crate::host::LibrarySearch;
use crate::host::config::Directive;
use crate::host::config::uwsgi::{self, UwsgiApp};
use crate::host::paths::{HostRoot, display};
use crate::inspect::interpreter::{parse_lib_dir_name, xy_from_libpython};
use crate::parse::abi_tag::{AbiTag, parse_abi_tag};
use crate::parse::elf;
use crate::report::ScanError;
use std::path::{Path, PathBuf};

/// Why a server module's embedded Python cannot be learned.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The configured file is not there.
    #[error("{path} does not exist")]
    Missing {
        /// The module as configured (view path).
        path: String,
    },
    /// The file is not a readable ELF object.
    #[error("{cause}")]
    Unreadable {
        /// What the ELF reader found.
        cause: elf::ElfError,
    },
}

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
pub fn inspect_module(root: &HostRoot, libs: &LibrarySearch, module: &Path) -> Result<Embedded, ModuleError> {
    let resolved = root.resolve(module).map_err(|_| ModuleError::Missing { path: display(module) })?;
    let info = elf::read_elf(&root.real(&resolved)).map_err(|cause| ModuleError::Unreadable { cause })?;
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
    if let Some(tag) = crate::parse::abi_tag::extension_abi_tag(name)
        && let Some(AbiTag::CPython { major, minor, .. }) = parse_abi_tag(&tag)
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

/// The python plugin a uWSGI app loads (the first of its `plugins` that is a Python one and
/// can be read), with the line naming it; plugins that are not found or not readable are
/// errors naming them.
pub fn uwsgi_python_plugin(
    root: &HostRoot,
    libs: &LibrarySearch,
    app: &UwsgiApp,
    errors: &mut Vec<ScanError>,
) -> Option<(Embedded, Directive)> {
    for (name, d) in uwsgi::plugins(app) {
        let base = name.rsplit('/').next().unwrap_or(&name);
        if !base.starts_with("python") {
            continue;
        }
        let Some(file) = uwsgi::plugin_file(root, app, &name) else {
            errors.push(ScanError {
                path: d.location(),
                message: format!("uWSGI plugin {name} not found in the plugin directories"),
            });
            continue;
        };
        match inspect_module(root, libs, &file) {
            Ok(e) => return Some((e, d.clone())),
            Err(e) => errors.push(ScanError { path: display(&file), message: e.to_string() }),
        }
    }
    None
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
