//! Facts of a bare interpreter that is not an environment: the `--target-python` a venv is
//! judged against. Learned from files like the base interpreter of a venv: the file name,
//! the ELF headers (machine, libpython) and the installation's lib-dynload.

use super::interpreter::{LibDirVersion, abi_tag, parse_lib_dir_name, xy_from_libpython};
use crate::host::LibrarySearch;
use crate::host::paths::{HostRoot, display};
use crate::parse::elf;
use crate::report::{LibPython, Python};
use std::path::{Path, PathBuf};

/// Why `--target-python` cannot be judged against.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Nothing at the path.
    #[error("{path} does not exist")]
    Missing {
        /// The path given (view path).
        path: String,
    },
    /// Not a readable ELF executable.
    #[error("{path} is not a readable interpreter: {cause}")]
    Unreadable {
        /// The path given (view path).
        path: String,
        /// What the ELF reader found.
        cause: elf::ElfError,
    },
    /// Neither its name, its libpython nor its installation says which Python it is.
    #[error("cannot tell the Python version of {path} from its name, libpython or lib/ directory")]
    UnknownVersion {
        /// The path given (view path).
        path: String,
    },
}

/// Inspect the interpreter at `exe` (a view path). The result has the shape of a venv's
/// `python` section, so checks can judge a venv against either without knowing which.
pub fn inspect_interpreter_file(root: &HostRoot, libs: &LibrarySearch, exe: &Path) -> Result<Python, TargetError> {
    let resolved = root.resolve(exe).map_err(|_| TargetError::Missing { path: display(exe) })?;
    let info =
        elf::read_elf(&root.real(&resolved)).map_err(|cause| TargetError::Unreadable { path: display(exe), cause })?;
    let mut py = Python {
        executable: Some(display(exe)),
        base_executable: Some(display(&resolved)),
        base_exists: true,
        machine: Some(info.machine.clone()),
        ..Python::default()
    };
    py.evidence.insert("machine".into(), format!("ELF header of {}", display(&resolved)));

    let origin = resolved.parent().unwrap_or(Path::new("/"));
    let needed_libpython = info.needed.iter().find(|n| n.starts_with("libpython"));
    py.libpython = Some(match needed_libpython {
        Some(so) => LibPython {
            linkage: crate::report::Linkage::Shared,
            soname: Some(so.clone()),
            path: libs.find(so, origin, &info).map(|p| display(&p)),
        },
        None => LibPython { linkage: crate::report::Linkage::Static, soname: None, path: None },
    });
    py.evidence.insert("libpython".into(), format!("ELF DT_NEEDED/RUNPATH of {}", display(&resolved)));

    // A prefix is the directory above bin/.
    let prefix: Option<PathBuf> = resolved.parent().and_then(Path::parent).map(Path::to_path_buf);
    let name = resolved.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let from_name = parse_lib_dir_name(&name);
    let lib_dir: Option<(LibDirVersion, String)> = if let Some(v) = from_name {
        Some((v, format!("file name of {}", display(&resolved))))
    } else if let Some(xy) = needed_libpython.and_then(|so| xy_from_libpython(so)) {
        let free_threaded = needed_libpython.is_some_and(|so| so.contains(&format!("{xy}t")));
        Some((LibDirVersion { xy, free_threaded, pypy: false }, format!("DT_NEEDED of {}", display(&resolved))))
    } else {
        prefix.as_ref().and_then(|p| single_lib_dir(root, p))
    };
    let Some((lv, src)) = lib_dir else {
        return Err(TargetError::UnknownVersion { path: display(exe) });
    };
    py.version = Some(lv.xy.clone());
    py.evidence.insert("version".into(), src);
    py.implementation = Some(if lv.pypy { "PyPy" } else { "CPython" }.into());
    py.evidence.insert("implementation".into(), "file name".into());
    if let Some(p) = &prefix
        && let Some((abi, src)) = abi_tag(root, p, &lv)
    {
        py.abi = Some(abi);
        py.evidence.insert("abi".into(), src);
    } else if lv.free_threaded && !lv.pypy {
        // `python3.13t` with no lib-dynload to read the tag from: the name says which build
        // it is, and the default-build tag would be wrong.
        py.abi = Some(format!("cpython-{}t-{}-linux-gnu", lv.xy.replace('.', ""), info.machine));
        py.evidence.insert("abi".into(), "file name (free-threaded build; no lib-dynload to read it from)".into());
    }
    Ok(py)
}

/// The only `lib/pythonX.Y` directory of a prefix, when there is exactly one.
fn single_lib_dir(root: &HostRoot, prefix: &Path) -> Option<(LibDirVersion, String)> {
    let lib = prefix.join("lib");
    let rd = std::fs::read_dir(root.real(&root.resolve(&lib).ok()?)).ok()?;
    let mut found: Vec<(LibDirVersion, String)> = rd
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let v = parse_lib_dir_name(&n)?;
            Some((v, display(&lib.join(&n))))
        })
        .collect();
    (found.len() == 1).then(|| found.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real CPython of this machine: pyenv's 3.12.1 (see the README's test prerequisites),
    /// else the system's python3.
    fn real_cpython() -> (PathBuf, String) {
        let pyenv =
            std::env::var("HOME").map(PathBuf::from).unwrap_or_default().join(".pyenv/versions/3.12.1/bin/python3.12");
        let exe = if pyenv.exists() {
            pyenv
        } else {
            std::fs::canonicalize("/usr/bin/python3")
                .expect("no CPython on this machine: neither ~/.pyenv/versions/3.12.1 nor /usr/bin/python3")
        };
        let name = exe.file_name().unwrap().to_string_lossy().into_owned();
        let xy =
            name.strip_prefix("python").filter(|v| v.contains('.')).expect("interpreter named pythonX.Y").to_owned();
        (exe, xy)
    }

    #[test]
    fn reads_a_real_interpreter() {
        let (exe, xy) = real_cpython();
        let root = HostRoot::host();
        let libs = LibrarySearch::load(&root);
        let py = inspect_interpreter_file(&root, &libs, &exe).unwrap();
        assert_eq!(py.version.as_deref(), Some(xy.as_str()), "{}", exe.display());
        let abi = format!("cpython-{}-x86_64-linux-gnu", xy.replace('.', ""));
        if cfg!(target_arch = "x86_64") {
            assert_eq!(py.abi.as_deref(), Some(abi.as_str()));
        }
        assert!(py.libpython.is_some());
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let root = HostRoot::host();
        let libs = LibrarySearch::load(&root);
        assert!(inspect_interpreter_file(&root, &libs, Path::new("/nonexistent/python3.12")).is_err());
        assert!(inspect_interpreter_file(&root, &libs, Path::new("/etc/passwd")).is_err());
    }
}
