//! Interpreter facts of an environment, from files only: pyvenv.cfg, the layout, the
//! `bin/python` link and the base interpreter's ELF headers. No Python is ever executed.

use super::getpath::{self, BasePrefix};
use crate::discover::{Marker, lib_python_dirs};
use crate::host::LibrarySearch;
use crate::host::paths::{HostRoot, Unresolved, display};
use crate::parse::elf;
use crate::parse::pyvenv_cfg::PyvenvCfg;
use crate::report::{Creator, LibPython, Python, VenvKind};
use std::path::{Path, PathBuf};

/// What the interpreter inspection learned, including the raw observations the
/// interpreter checks need beyond the report's `python` section.
#[derive(Debug, Clone)]
pub struct InterpreterFacts {
    /// How the environment was made.
    pub kind: VenvKind,
    /// Creator tool and version.
    pub creator: Creator,
    /// The report's `python` section.
    pub python: Python,
    /// include-system-site-packages.
    pub include_system_site_packages: bool,
    /// Observations for the health checks.
    pub health: InterpreterHealth,
    /// Errors reading the environment's own files (bad pyvenv.cfg, malformed ELF).
    pub read_errors: Vec<(String, String)>,
    /// The installation the interpreter runs on (`sys.base_prefix`), when it starts.
    pub base_prefix: Option<BasePrefix>,
    /// The environment's `lib/pythonX.Y[t]` directory name, parsed.
    pub stdlib: Option<LibDirVersion>,
}

/// Raw observations about interpreter health.
#[derive(Debug, Clone, Default)]
pub struct InterpreterHealth {
    /// `bin/python` is a link whose target is gone: (entry, link target).
    pub dangling_link: Option<(String, String)>,
    /// The base interpreter the environment names does not exist.
    pub missing_base: Option<String>,
    /// No interpreter entry at all in `bin/`.
    pub no_executable: bool,
    /// The base interpreter is missing, yet the environment's copied interpreter starts:
    /// it runs on the installation found by the path calculation (its compiled-in prefix).
    pub runs_on: Option<BasePrefix>,
    /// X.Y according to each source: (source, X.Y).
    pub versions: Vec<(String, String)>,
    /// Whether the interpreter could be judged at all: false when a path it depends on could
    /// not be examined (permission denied), which is not evidence that it is missing.
    pub unknown: bool,
}

/// A `lib/pythonX.Y[t]` directory name, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibDirVersion {
    /// `3.11`.
    pub xy: String,
    /// `t` suffix: free-threaded build.
    pub free_threaded: bool,
    /// `pypy3.9`.
    pub pypy: bool,
}

/// Parse `python3.11`, `python3.13t`, `pypy3.9`.
pub fn parse_lib_dir_name(name: &str) -> Option<LibDirVersion> {
    let (rest, pypy) = match name.strip_prefix("python") {
        Some(r) => (r, false),
        None => (name.strip_prefix("pypy")?, true),
    };
    let (num, free_threaded) = match rest.strip_suffix('t') {
        Some(n) => (n, true),
        None => (rest, false),
    };
    let mut parts = num.split('.');
    let (a, b) = (parts.next()?, parts.next()?);
    if parts.next().is_some() || a.parse::<u32>().is_err() || b.parse::<u32>().is_err() {
        return None;
    }
    Some(LibDirVersion { xy: format!("{a}.{b}"), free_threaded, pypy })
}

/// `python3.12` -> `3.12` (file names of interpreters).
fn xy_from_exe_name(name: &str) -> Option<String> {
    parse_lib_dir_name(name).map(|v| v.xy)
}

/// `libpython3.12.so.1.0`, `libpython3.13t.so.1.0`, `libpython2.7.so.1.0` -> X.Y.
pub fn xy_from_libpython(soname: &str) -> Option<String> {
    let rest = soname.strip_prefix("libpython")?;
    let ver = rest.split(".so").next()?;
    let ver = ver.trim_end_matches(['t', 'm', 'd', 'u']);
    parse_lib_dir_name(&format!("python{ver}")).map(|v| v.xy)
}

/// Inspect the interpreter of the environment at `venv` (a view path).
pub fn inspect_interpreter(root: &HostRoot, libs: &LibrarySearch, venv: &Path, marker: Marker) -> InterpreterFacts {
    let real = root.real(venv);
    let mut read_errors = Vec::new();
    let mut py = Python::default();
    let mut health = InterpreterHealth::default();

    let cfg = if marker == Marker::PyvenvCfg {
        let p = venv.join("pyvenv.cfg");
        // Through the root: a pyvenv.cfg linking to `/etc/...` is read inside `--root`.
        match root.read_bounded(&p, 256 * 1024) {
            Ok(b) => PyvenvCfg::parse(&String::from_utf8_lossy(&b)),
            Err(e) => {
                read_errors.push((display(&p), format!("cannot read pyvenv.cfg: {e}")));
                PyvenvCfg::default()
            }
        }
    } else {
        PyvenvCfg::default()
    };

    let (kind, creator) = match marker {
        Marker::Conda => (VenvKind::Conda, Creator { tool: "conda".into(), version: conda_version(root, &real) }),
        Marker::OrigPrefix => (VenvKind::LegacyVirtualenv, Creator { tool: "virtualenv".into(), version: None }),
        Marker::PyvenvCfg => {
            if let Some(v) = cfg.get("uv") {
                (VenvKind::Uv, Creator { tool: "uv".into(), version: Some(v.into()) })
            } else if let Some(v) = cfg.get("virtualenv") {
                (VenvKind::Virtualenv, Creator { tool: "virtualenv".into(), version: Some(v.into()) })
            } else {
                (VenvKind::Venv, Creator { tool: "venv".into(), version: None })
            }
        }
    };

    // The layout: lib/pythonX.Y[t].
    let lib_versions: Vec<(PathBuf, LibDirVersion)> = lib_python_dirs(&real)
        .into_iter()
        .filter_map(|d| {
            let v = parse_lib_dir_name(&d.file_name()?.to_string_lossy())?;
            Some((d, v))
        })
        .collect();
    for (d, v) in &lib_versions {
        health.versions.push((display(&root.view(d)), v.xy.clone()));
    }

    // Version.
    if let Some((src, v)) = cfg.version() {
        py.version = Some(clean_version(v));
        py.evidence.insert("version".into(), src.into());
        health.versions.push((src.into(), crate::report::major_minor(&clean_version(v))));
    } else if let Some((file, v)) = conda_python_version(&real) {
        py.version = Some(v);
        py.evidence.insert("version".into(), display(&venv.join("conda-meta").join(file)));
    } else if let Some((d, v)) = lib_versions.first() {
        py.version = Some(v.xy.clone());
        py.evidence.insert("version".into(), display(&root.view(d)));
    }

    // The environment's own interpreter entry.
    let exe = ["python", "python3"]
        .iter()
        .map(|n| venv.join("bin").join(n))
        .chain(lib_versions.first().map(|(_, v)| venv.join("bin").join(format!("python{}", v.xy))))
        .find(|p| root.symlink_metadata(p).is_ok());
    let mut exe_target = None;
    match &exe {
        None => health.no_executable = true,
        Some(e) => {
            py.executable = Some(display(e));
            match root.resolve(e) {
                Ok(t) => exe_target = Some(t),
                Err(Unresolved::Denied(p)) => {
                    health.unknown = true;
                    read_errors.push((
                        display(e),
                        format!("permission denied at {}: cannot tell whether the interpreter exists", display(&p)),
                    ));
                }
                Err(_) => {
                    let link = std::fs::read_link(root.real(e)).map(|t| display(&t)).unwrap_or_default();
                    health.dangling_link = Some((display(e), link));
                }
            }
        }
    }

    // The base interpreter.
    py.home = cfg.get("home").map(str::to_owned);
    let xy_hint = py.version.as_deref().map(crate::report::major_minor);
    let base: Option<(PathBuf, String)> = match marker {
        Marker::Conda => exe.clone().map(|e| (e, "bin/python of the conda environment".to_owned())),
        Marker::OrigPrefix => orig_prefix(root, &real).map(|prefix| {
            let name = xy_hint.as_deref().map(|xy| format!("python{xy}")).unwrap_or_else(|| "python".into());
            (Path::new(&prefix).join("bin").join(name), "lib/pythonX.Y/orig-prefix.txt".to_owned())
        }),
        Marker::PyvenvCfg => {
            if let Some(b) = cfg.get("base-executable") {
                Some((PathBuf::from(b), "pyvenv.cfg:base-executable".into()))
            } else if let Some(b) = cfg.get("executable") {
                Some((PathBuf::from(b), "pyvenv.cfg:executable".into()))
            } else if let Some(home) = cfg.get("home") {
                let names: Vec<String> = xy_hint
                    .iter()
                    .map(|xy| format!("python{xy}"))
                    .chain(["python3".to_owned(), "python".to_owned()])
                    .collect();
                let home = PathBuf::from(home);
                let pick = names.iter().map(|n| home.join(n)).find(|p| root.exists(p));
                Some((pick.unwrap_or_else(|| home.join(&names[0])), "pyvenv.cfg:home".into()))
            } else {
                exe_target.clone().map(|t| (t, "bin/python link".into()))
            }
        }
    };
    let mut base_resolved = None;
    if let Some((b, src)) = &base {
        py.evidence.insert("base_executable".into(), src.clone());
        match root.resolve(b) {
            Ok(r) => {
                py.base_exists = true;
                py.base_executable = Some(display(&r));
                base_resolved = Some(r);
            }
            Err(Unresolved::Denied(p)) => {
                py.base_executable = Some(display(b));
                health.unknown = true;
                read_errors.push((
                    display(b),
                    format!("permission denied at {}: cannot tell whether the base interpreter exists", display(&p)),
                ));
            }
            Err(_) => {
                py.base_executable = Some(display(b));
                health.missing_base = Some(display(b));
            }
        }
    } else if let Some(t) = &exe_target {
        py.base_exists = true;
        py.base_executable = Some(display(t));
        base_resolved = Some(t.clone());
    }
    if let Some(r) = &base_resolved
        && let Some(xy) = r.file_name().and_then(|n| xy_from_exe_name(&n.to_string_lossy()))
    {
        health.versions.push((format!("base interpreter {}", display(r)), xy));
    }

    // Where it really runs: the path calculation of the interpreter that `bin/python` starts.
    let stdlib = lib_versions.first().map(|(_, v)| v.clone());
    let mut runs = None;
    if marker == Marker::PyvenvCfg
        && let (Some(e), Some(lv)) = (&exe, &stdlib)
        && health.dangling_link.is_none()
    {
        let home = cfg.get("home").map(PathBuf::from);
        runs = getpath::base_prefix(root, libs, home.as_deref(), e, lv);
        if let Some(bp) = &runs {
            py.base_prefix = Some(display(&bp.prefix));
            py.evidence.insert("base_prefix".into(), bp.source.clone());
        }
        if health.missing_base.is_some() && runs.is_some() && getpath::loads(root, libs, e) {
            health.runs_on = runs.clone();
        }
    }

    // Implementation.
    let pypy = lib_versions.iter().any(|(_, v)| v.pypy)
        || base_resolved.as_ref().and_then(|r| r.file_name()).is_some_and(|n| n.to_string_lossy().starts_with("pypy"));
    if let Some(i) = cfg.get("implementation") {
        py.implementation = Some(i.to_owned());
        py.evidence.insert("implementation".into(), "pyvenv.cfg:implementation".into());
    } else {
        py.implementation = Some(if pypy { "PyPy" } else { "CPython" }.into());
        py.evidence.insert("implementation".into(), "layout".into());
    }

    // ELF of the base interpreter: machine and libpython.
    if let Some(r) = &base_resolved {
        match elf::read_elf(&root.real(r)) {
            Ok(info) => {
                py.machine = Some(info.machine.clone());
                py.evidence.insert("machine".into(), format!("ELF header of {}", display(r)));
                let origin = r.parent().unwrap_or(Path::new("/"));
                let lp = match info.needed.iter().find(|n| n.starts_with("libpython")) {
                    Some(so) => {
                        if let Some(xy) = xy_from_libpython(so) {
                            health.versions.push((format!("DT_NEEDED of {}", display(r)), xy));
                        }
                        LibPython {
                            linkage: crate::report::Linkage::Shared,
                            soname: Some(so.clone()),
                            path: libs.find(so, origin, &info).map(|p| display(&p)),
                        }
                    }
                    None => LibPython { linkage: crate::report::Linkage::Static, soname: None, path: None },
                };
                py.libpython = Some(lp);
                py.evidence.insert("libpython".into(), format!("ELF DT_NEEDED/RUNPATH of {}", display(r)));
            }
            Err(e) => read_errors.push((display(r), format!("{e:#}"))),
        }
    }

    // ABI tag from the base installation's files.
    let base_prefix: Option<PathBuf> = match marker {
        Marker::Conda => Some(venv.to_path_buf()),
        _ => base_resolved
            .as_ref()
            .and_then(|r| r.parent()?.parent().map(Path::to_path_buf))
            .or_else(|| cfg.get("base-prefix").map(PathBuf::from))
            .or_else(|| health.runs_on.as_ref().map(|b| b.prefix.clone()))
            .or_else(|| py.home.as_ref().and_then(|h| Path::new(h).parent().map(Path::to_path_buf))),
    };
    if let (Some(prefix), Some((_, lv))) = (&base_prefix, lib_versions.first())
        && let Some((abi, src)) = abi_tag(root, prefix, lv)
    {
        py.abi = Some(abi);
        py.evidence.insert("abi".into(), src);
    }

    InterpreterFacts {
        kind,
        creator,
        python: py,
        include_system_site_packages: cfg.include_system_site_packages(),
        health,
        read_errors,
        base_prefix: runs,
        stdlib,
    }
}

/// `3.12.1.final.0` -> `3.12.1`; `3.13.0.candidate.1` -> `3.13.0rc1`.
fn clean_version(v: &str) -> String {
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() == 5 {
        let base = parts[..3].join(".");
        return match parts[3] {
            "final" => base,
            "alpha" => format!("{base}a{}", parts[4]),
            "beta" => format!("{base}b{}", parts[4]),
            "candidate" => format!("{base}rc{}", parts[4]),
            _ => base,
        };
    }
    v.to_owned()
}

fn orig_prefix(root: &HostRoot, real_venv: &Path) -> Option<String> {
    lib_python_dirs(real_venv).iter().find_map(|d| {
        let b = root.read_bounded(&root.view(d).join("orig-prefix.txt"), 4096).ok()?;
        let s = String::from_utf8_lossy(&b).trim().to_owned();
        (!s.is_empty()).then_some(s)
    })
}

/// The conda version from the first `# conda version:` line of conda-meta/history.
fn conda_version(root: &HostRoot, real_env: &Path) -> Option<String> {
    let b = root.read_bounded(&root.view(real_env).join("conda-meta").join("history"), 1 << 20).ok()?;
    String::from_utf8_lossy(&b).lines().find_map(|l| l.strip_prefix("# conda version:").map(|v| v.trim().to_owned()))
}

/// The python package record in conda-meta: `python-3.11.5-h955ad1f_0.json`.
fn conda_python_version(real_env: &Path) -> Option<(String, String)> {
    let rd = std::fs::read_dir(real_env.join("conda-meta")).ok()?;
    rd.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let rest = name.strip_prefix("python-")?.strip_suffix(".json")?;
        let ver = rest.split('-').next()?;
        ver.chars().next()?.is_ascii_digit().then(|| (name.clone(), ver.to_owned()))
    })
}

/// The SOABI of a base installation: from its own extension modules in lib-dynload, else
/// from `_sysconfigdata_*` or the `config-*` directory. Python 2 has no SOABI; its tag is
/// built from pyconfig.h (`cpython-27mu`).
pub fn abi_tag(root: &HostRoot, prefix: &Path, lv: &LibDirVersion) -> Option<(String, String)> {
    let dir_name =
        format!("{}{}{}", if lv.pypy { "pypy" } else { "python" }, lv.xy, if lv.free_threaded { "t" } else { "" });
    let stdlib = prefix.join("lib").join(&dir_name);
    let stdlib_real = root.real(&root.resolve(&stdlib).ok()?);
    let dynload = stdlib_real.join("lib-dynload");
    if let Ok(rd) = std::fs::read_dir(&dynload) {
        let mut names: Vec<String> = rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        for n in &names {
            if let Some(tag) = crate::parse::abi_tag::extension_abi_tag(n)
                && (tag.starts_with("cpython-") || tag.starts_with("pypy"))
            {
                return Some((tag, display(&stdlib.join("lib-dynload").join(n))));
            }
        }
    }
    let names: Vec<String> = std::fs::read_dir(&stdlib_real)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let nodot = lv.xy.replace('.', "");
    for n in &names {
        // _sysconfigdata_{abiflags}_{platform}_{multiarch}.py; Debian drops the platform.
        if let Some(rest) = n.strip_prefix("_sysconfigdata_").and_then(|r| r.strip_suffix(".py")) {
            let (flags, tail) = rest.split_once('_')?;
            let multiarch = tail.strip_prefix("linux_").unwrap_or(tail);
            return Some((format!("cpython-{nodot}{flags}-{multiarch}"), display(&stdlib.join(n))));
        }
    }
    for n in &names {
        // config-3.11-x86_64-linux-gnu, config-3.7m-x86_64-linux-gnu
        if let Some(rest) = n.strip_prefix("config-")
            && let Some((ver, multiarch)) = rest.split_once('-')
        {
            let flags = ver.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
            return Some((format!("cpython-{nodot}{flags}-{multiarch}"), display(&stdlib.join(n))));
        }
    }
    if lv.xy.starts_with("2.") {
        let h = prefix.join("include").join(&dir_name).join("pyconfig.h");
        if let Some(text) = root.read_text(&h, 1 << 20) {
            let mut flags = String::from("m");
            if text.contains("#define Py_DEBUG 1") {
                flags.insert(0, 'd');
            }
            if text.contains("#define Py_UNICODE_SIZE 4") {
                flags.push('u');
            }
            return Some((format!("cpython-{nodot}{flags}"), display(&h)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lib_dir_names() {
        assert_eq!(
            parse_lib_dir_name("python3.13t"),
            Some(LibDirVersion { xy: "3.13".into(), free_threaded: true, pypy: false })
        );
        assert!(parse_lib_dir_name("pypy3.9").unwrap().pypy);
        assert_eq!(parse_lib_dir_name("python3"), None);
        assert_eq!(parse_lib_dir_name("python3.11-config"), None);
    }

    #[test]
    fn libpython_names() {
        assert_eq!(xy_from_libpython("libpython3.12.so.1.0").as_deref(), Some("3.12"));
        assert_eq!(xy_from_libpython("libpython3.7m.so.1.0").as_deref(), Some("3.7"));
        assert_eq!(xy_from_libpython("libpython2.7.so.1.0").as_deref(), Some("2.7"));
    }

    #[test]
    fn versions_clean() {
        assert_eq!(clean_version("3.12.1.final.0"), "3.12.1");
        assert_eq!(clean_version("3.13.0.candidate.2"), "3.13.0rc2");
        assert_eq!(clean_version("3.11.7"), "3.11.7");
    }
}
