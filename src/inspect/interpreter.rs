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

    // The exact version it runs: the base installation's, as it is now.
    if !pypy && let Some(xy) = py.version.as_deref().map(crate::report::major_minor) {
        let free_threaded = stdlib.as_ref().is_some_and(|l| l.free_threaded);
        let prefixes: Vec<PathBuf> = runs.iter().map(|b| b.prefix.clone()).chain(base_prefix.clone()).collect();
        // `bin/python` that is a file, not a link: a copy of the interpreter (`venv --copies`,
        // legacy virtualenv). A conda environment's own interpreter is its base.
        let copy = exe
            .as_ref()
            .filter(|_| marker != Marker::Conda)
            .filter(|e| root.symlink_metadata(e).is_ok_and(|m| m.file_type().is_file()));
        let base_holder = base_resolved.as_ref().and_then(|r| match &py.libpython {
            Some(LibPython { linkage: crate::report::Linkage::Shared, path, .. }) => path.as_ref().map(PathBuf::from),
            _ => Some(r.clone()),
        });
        let sources = VersionSources {
            prefixes: &prefixes,
            base_holder: base_holder.as_deref(),
            copy: copy.map(PathBuf::as_path),
        };
        if let Some(found) = exact_version(root, libs, &sources, &xy, free_threaded) {
            apply_exact_version(&mut py, cfg.version(), found);
        }
    }

    // Who installed the base interpreter.
    if let Some(r) = &base_resolved {
        let (owner, src) = super::owner::interpreter_owner(root, r);
        py.owner = Some(owner);
        py.evidence.insert("owner".into(), src);
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

/// Where the exact version of an environment's interpreter can be read.
struct VersionSources<'a> {
    /// The base installation (view paths): `sys.base_prefix` first, then the directory
    /// above the base executable's `bin/`.
    prefixes: &'a [PathBuf],
    /// The file holding the base interpreter's code: its libpython, else the executable.
    base_holder: Option<&'a Path>,
    /// The environment's own `bin/python` when it is a copy, not a link.
    copy: Option<&'a Path>,
}

/// A full version read from files, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactVersion {
    /// `3.12.8`, `3.13.0rc2`, `3.10.5+`: as the source writes it.
    pub version: String,
    /// ABI flags, when the source says (build-details.json's `abi.flags`).
    pub flags: Option<String>,
    /// Where it was read, for evidence.
    pub source: String,
}

/// The version the environment runs. A copied interpreter linked statically runs its own
/// build whatever its base installation is now: its compiled-in version decides. Otherwise
/// the base installation's files (build-details.json, patchlevel.h, PYTHON.json,
/// conda-meta), then the version string compiled into the base's libpython or executable,
/// then the copy's (a copy whose installation has no files of its X.Y).
fn exact_version(
    root: &HostRoot,
    libs: &LibrarySearch,
    src: &VersionSources,
    xy: &str,
    free_threaded: bool,
) -> Option<ExactVersion> {
    let installed = || src.prefixes.iter().find_map(|p| installation_version(root, p, xy, free_threaded));
    let copy_holder = src.copy.and_then(|c| code_holder(root, libs, c).map(|h| (c, h)));
    if let Some((copy, holder)) = &copy_holder
        && root.resolve(copy).is_ok_and(|r| &r == holder)
        && let Some(v) = compiled_version(root, holder, xy)
    {
        let mut source = format!(
            "PY_VERSION compiled into {} (a statically linked copy of the interpreter runs its own build)",
            display(copy)
        );
        if let Some(other) = installed().filter(|o| o.version != v) {
            source.push_str(&format!("; the base installation is now {} ({})", other.version, other.source));
        }
        return Some(ExactVersion { version: v, flags: None, source });
    }
    if let Some(found) = installed() {
        return Some(found);
    }
    let holders = src.base_holder.into_iter().chain(copy_holder.as_ref().map(|(_, h)| h.as_path()));
    for holder in holders {
        if let Some(v) = compiled_version(root, holder, xy) {
            return Some(ExactVersion {
                version: v,
                flags: None,
                source: format!("PY_VERSION compiled into {}", display(holder)),
            });
        }
    }
    None
}

/// Record the exact version found, keeping pyvenv.cfg's when it says otherwise.
fn apply_exact_version(py: &mut Python, cfg: Option<(&'static str, &str)>, found: ExactVersion) {
    if let Some((key, raw)) = cfg {
        let made_with = clean_version(raw);
        if !same_release(&made_with, &found.version) {
            py.evidence.insert(
                "venv_cfg_version".into(),
                format!(
                    "{key} records {made_with}, the version the environment was made with; the interpreter it runs is now {}",
                    found.version
                ),
            );
            py.venv_cfg_version = Some(made_with);
        }
    }
    if let Some(base) = found.version.strip_suffix('+') {
        py.version_uncertain = true;
        py.evidence.insert(
            "version_uncertain".into(),
            format!(
                "{} is a branch build's version: a development snapshot made after {base}, not a release, so which fixes it has cannot be told from the number",
                found.version
            ),
        );
    }
    py.version = Some(found.version);
    py.evidence.insert("version".into(), found.source);
}

/// Whether pyvenv.cfg's version and the one found name the same build. `venv` writes only
/// `X.Y.Z` (`sys.version_info[:3]`), so `3.13.0` agrees with `3.13.0rc2`, and `3.10.5` with a
/// branch build's `3.10.5+`; virtualenv's `version_info` keeps the pre-release.
fn same_release(cfg: &str, found: &str) -> bool {
    let found = found.trim_end_matches('+');
    if cfg == found {
        return true;
    }
    let release = |v: &str| -> String { v.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect() };
    let plain = !cfg.is_empty() && cfg.chars().all(|c| c.is_ascii_digit() || c == '.');
    plain && release(found).trim_end_matches('.') == cfg
}

/// The file holding an interpreter's code, found as the loader finds it: the libpython the
/// executable needs, else the executable itself (a static build). `None` when a needed
/// libpython is not found.
fn code_holder(root: &HostRoot, libs: &LibrarySearch, exe: &Path) -> Option<PathBuf> {
    let resolved = root.resolve(exe).ok()?;
    let info = elf::read_elf(&root.real(&resolved)).ok()?;
    match info.needed.iter().find(|n| n.starts_with("libpython")) {
        Some(so) => libs.find(so, resolved.parent().unwrap_or(Path::new("/")), &info),
        None => Some(resolved),
    }
}

/// `PY_VERSION` as CPython writes it, of the installation `xy`: `X.Y.Z`, then an optional
/// pre-release (`a1`, `b2`, `rc1`), then an optional `+` (a build from a branch).
pub fn valid_py_version(v: &str, xy: &str) -> bool {
    let Some(rest) = v.strip_prefix(xy).and_then(|r| r.strip_prefix('.')) else { return false };
    let rest = rest.strip_suffix('+').unwrap_or(rest);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 4 {
        return false;
    }
    let tail = &rest[digits..];
    tail.is_empty()
        || ["a", "b", "rc"].iter().any(|p| {
            tail.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The full version of the installation at `prefix` whose X.Y is `xy`, from its files, in
/// this order: `lib/pythonX.Y[t]/build-details.json` (3.14+, PEP 739:
/// `language.version_info`, else `implementation.version`), `include/pythonX.Y{abiflags}/
/// patchlevel.h` (`PY_VERSION`), python-build-standalone's `PYTHON.json` (`python_version`),
/// conda's `conda-meta/python-X.Y.Z-*.json` (`version`). Each must agree with `xy`.
pub fn installation_version(root: &HostRoot, prefix: &Path, xy: &str, free_threaded: bool) -> Option<ExactVersion> {
    let t_first: &[&str] = if free_threaded { &["t", ""] } else { &["", "t"] };
    for t in t_first {
        let details = prefix.join(format!("lib/python{xy}{t}/build-details.json"));
        let Ok(bytes) = root.read_bounded(&details, 1 << 20) else { continue };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else { continue };
        let version = [&v["language"]["version_info"], &v["implementation"]["version"]]
            .into_iter()
            .find_map(version_info_string)
            .filter(|s| valid_py_version(s, xy));
        if let Some(version) = version {
            let flags = v["abi"]["flags"].as_array().map(|f| f.iter().filter_map(|x| x.as_str()).collect::<String>());
            return Some(ExactVersion { version, flags, source: display(&details) });
        }
    }
    let suffixes: &[&str] =
        if free_threaded { &["t", "td", "", "d", "m", "dm"] } else { &["", "t", "d", "td", "m", "dm"] };
    for suffix in suffixes {
        let header = prefix.join(format!("include/python{xy}{suffix}/patchlevel.h"));
        let Ok(bytes) = root.read_bounded(&header, 1 << 20) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        let version = text.lines().find_map(|l| {
            let rest = l.trim().strip_prefix('#')?.trim_start().strip_prefix("define")?;
            let rest = rest.strip_prefix(char::is_whitespace)?.trim_start().strip_prefix("PY_VERSION")?;
            let v = rest.strip_prefix(char::is_whitespace)?.trim().strip_prefix('"')?.split('"').next()?;
            valid_py_version(v, xy).then(|| v.to_owned())
        });
        if let Some(v) = version {
            return Some(ExactVersion {
                version: v,
                flags: None,
                source: format!("{} (PY_VERSION)", display(&header)),
            });
        }
    }
    if let Some((file, v)) = super::owner::standalone_record(root, prefix)
        && let Some(version) = v["python_version"].as_str().filter(|s| valid_py_version(s, xy))
    {
        return Some(ExactVersion {
            version: version.to_owned(),
            flags: None,
            source: format!("{} (python_version)", display(&file)),
        });
    }
    if let Some((file, name_version)) = super::owner::conda_python_record(root, prefix) {
        let recorded = root
            .read_bounded(&file, 64 << 20)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|j| j["version"].as_str().map(str::to_owned));
        let version = recorded.unwrap_or(name_version);
        if valid_py_version(&version, xy) {
            return Some(ExactVersion { version, flags: None, source: format!("{} (version)", display(&file)) });
        }
    }
    None
}

/// `{major, minor, micro, releaselevel, serial}` (PEP 739) -> `3.14.0rc1`.
fn version_info_string(vi: &serde_json::Value) -> Option<String> {
    let (a, b, c) = (vi["major"].as_u64()?, vi["minor"].as_u64()?, vi["micro"].as_u64()?);
    let level = match vi["releaselevel"].as_str() {
        Some("alpha") => "a",
        Some("beta") => "b",
        Some("candidate") => "rc",
        _ => "",
    };
    let serial = if level.is_empty() { String::new() } else { vi["serial"].as_u64().unwrap_or(0).to_string() };
    Some(format!("{a}.{b}.{c}{level}{serial}"))
}

/// The full version (`3.12.1`) and ABI flags of the installation at `prefix` whose X.Y is
/// `xy`, from its files (see [`installation_version`]). Returns (version, flags, evidence).
pub fn full_version(root: &HostRoot, prefix: &Path, xy: &str) -> Option<(String, Option<String>, String)> {
    installation_version(root, prefix, xy, false).map(|v| (v.version, v.flags, v.source))
}

/// Most bytes of a binary searched for its version string.
const MAX_VERSION_SCAN: u64 = 256 << 20;
/// Version string scans, by file identity and X.Y: a fleet of venvs on one base reads its
/// libpython once.
type ScanKey = (PathBuf, u64, u64, i64, i64, String);
static SCAN_CACHE: std::sync::Mutex<Option<std::collections::HashMap<ScanKey, Option<String>>>> =
    std::sync::Mutex::new(None);

/// The `PY_VERSION` string compiled into a libpython or interpreter executable (view path):
/// a NUL-delimited string of the known X.Y (`\03.11.2\0`), as `Py_GetVersion` reads it.
/// Only one distinct such string may be found: several (another version in a message)
/// say nothing. Read in pieces, at most [`MAX_VERSION_SCAN`] bytes.
pub fn compiled_version(root: &HostRoot, file: &Path, xy: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let f = root.open(file).ok()?;
    let m = f.metadata().ok()?;
    let key = (root.real(file), m.ino(), m.size(), m.mtime(), m.mtime_nsec(), xy.to_owned());
    if let Some(hit) = SCAN_CACHE.lock().ok().and_then(|c| c.as_ref().and_then(|c| c.get(&key).cloned())) {
        return hit;
    }
    let found = scan_version_string(std::io::Read::take(f, MAX_VERSION_SCAN), xy);
    if let Ok(mut guard) = SCAN_CACHE.lock() {
        let cache = guard.get_or_insert_with(std::collections::HashMap::new);
        if cache.len() >= 1024 {
            cache.clear();
        }
        cache.insert(key, found.clone());
    }
    found
}

/// See [`compiled_version`]: the scan itself, over any reader.
fn scan_version_string(mut r: impl std::io::Read, xy: &str) -> Option<String> {
    const CHUNK: usize = 1 << 20;
    const LONGEST: usize = 24;
    let needle = format!("\0{xy}.").into_bytes();
    let finder = memchr::memmem::Finder::new(&needle);
    let keep = needle.len() + LONGEST;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + keep);
    let mut chunk = vec![0u8; CHUNK];
    let mut found = std::collections::BTreeSet::new();
    loop {
        let n = match r.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        buf.extend_from_slice(&chunk[..n]);
        for at in finder.find_iter(&buf) {
            let s = &buf[at + 1..];
            // A string cut by the end of the buffer is found again with the next piece.
            let Some(end) = s.iter().take(LONGEST + 1).position(|b| *b == 0) else { continue };
            if let Ok(v) = std::str::from_utf8(&s[..end])
                && valid_py_version(v, xy)
            {
                found.insert(v.to_owned());
            }
        }
        if n == 0 || found.len() > 1 {
            break;
        }
        let cut = buf.len().saturating_sub(keep);
        buf.drain(..cut);
    }
    if found.len() == 1 { found.pop_first() } else { None }
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

    #[test]
    fn py_versions_must_be_of_the_installation() {
        for ok in ["3.12.1", "3.13.0rc2", "3.14.0a1", "3.10.5+", "3.14.0a1+", "3.9.18"] {
            assert!(valid_py_version(ok, &crate::report::major_minor(ok)), "{ok}");
        }
        for bad in
            ["3.12", "3.12.", "3.12.x", "3.12.1 (main", "3.12.1-1", "3.120.1", "3.12.1rc", "3.12.1c1", "3.12.1++"]
        {
            assert!(!valid_py_version(bad, "3.12"), "{bad}");
        }
        assert!(!valid_py_version("3.1.2", "3.12"));
        assert!(!valid_py_version("3.11.2", "3.1"));
    }

    #[test]
    fn cfg_and_found_versions_agree() {
        assert!(same_release("3.12.1", "3.12.1"));
        assert!(same_release("3.13.0", "3.13.0rc2"), "venv writes only X.Y.Z");
        assert!(same_release("3.10.5", "3.10.5+"));
        assert!(!same_release("3.12.1", "3.12.8"));
        assert!(!same_release("3.13.0rc1", "3.13.0rc2"), "virtualenv keeps the pre-release");
        assert!(!same_release("3.12.10", "3.12.1"));
    }

    #[test]
    fn version_strings_in_binaries() {
        let scan = |bytes: &[u8], xy: &str| scan_version_string(bytes, xy);
        assert_eq!(scan(b"\x7fELF\0pymalloc\x003.11.2\0strict\x003.2.0\0", "3.11").as_deref(), Some("3.11.2"));
        // The same string twice is one version; two different ones say nothing.
        assert_eq!(scan(b"\x003.11.2\0x\x003.11.2\0", "3.11").as_deref(), Some("3.11.2"));
        assert_eq!(scan(b"\x003.11.2\0x\x003.11.4\0", "3.11"), None);
        // Inside a path (pyenv's prefix `/root/.pyenv/versions/3.12.1`), not delimited: no.
        assert_eq!(scan(b"\0/root/.pyenv/versions/3.12.1\0", "3.12"), None);
        // Another version that only starts alike: sqlite's 3.40.1 is not Python 3.4's.
        assert_eq!(scan(b"\x003.40.1\0", "3.4"), None);
        assert_eq!(scan(b"\x003.10.5+\0", "3.10").as_deref(), Some("3.10.5+"));
        // Across the boundary of two read pieces.
        let mut big = vec![b'x'; (1 << 20) - 3];
        big.extend_from_slice(b"\x003.12.8\0tail");
        assert_eq!(scan(&big, "3.12").as_deref(), Some("3.12.8"));
    }

    #[test]
    fn installation_files_in_order() {
        let tmp = std::env::temp_dir().join(format!("venvaudit-interp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let root = HostRoot::at(&std::fs::create_dir_all(&tmp).map(|_| tmp.clone()).unwrap()).unwrap();
        let put = |rel: &str, text: &str| {
            let p = tmp.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        let prefix = Path::new("/opt/py");
        assert_eq!(installation_version(&root, prefix, "3.14", false), None);
        put(
            "opt/py/include/python3.14t/patchlevel.h",
            "#define PY_VERSION_HEX 0x030e00f0\n#define PY_VERSION \"3.14.0\"\n",
        );
        let v = installation_version(&root, prefix, "3.14", true).unwrap();
        assert_eq!(
            (v.version.as_str(), v.source.as_str()),
            ("3.14.0", "/opt/py/include/python3.14t/patchlevel.h (PY_VERSION)")
        );
        // build-details.json comes first; implementation.version when language.version_info is absent.
        put(
            "opt/py/lib/python3.14t/build-details.json",
            r#"{"language": {"version": "3.14"}, "implementation": {"name": "cpython", "version": {"major": 3, "minor": 14, "micro": 1, "releaselevel": "candidate", "serial": 2}}, "abi": {"flags": ["t"]}}"#,
        );
        let v = installation_version(&root, prefix, "3.14", true).unwrap();
        assert_eq!(v.version, "3.14.1rc2");
        assert_eq!(v.flags.as_deref(), Some("t"));
        assert_eq!(v.source, "/opt/py/lib/python3.14t/build-details.json");
        // Another X.Y's files say nothing about this one.
        assert_eq!(installation_version(&root, prefix, "3.13", false), None);
        put(
            "opt/py/lib/python3.13/build-details.json",
            r#"{"language": {"version_info": {"major": 3, "minor": 14, "micro": 0}}}"#,
        );
        assert_eq!(installation_version(&root, prefix, "3.13", false), None);
        // conda-meta, when nothing before it says.
        put("opt/py/conda-meta/python-3.13.1-h9e4cc4f_105_cp313.json", r#"{"name": "python", "version": "3.13.1"}"#);
        let v = installation_version(&root, prefix, "3.13", false).unwrap();
        assert_eq!(v.version, "3.13.1");
        assert!(v.source.ends_with("python-3.13.1-h9e4cc4f_105_cp313.json (version)"), "{}", v.source);
        let _ = std::fs::remove_dir_all(&tmp);
    }

    #[test]
    fn exact_version_is_recorded_beside_the_cfg_version() {
        let found = |v: &str| ExactVersion { version: v.into(), flags: None, source: "patchlevel.h".into() };
        let mut py = Python::default();
        apply_exact_version(&mut py, Some(("pyvenv.cfg:version", "3.12.1")), found("3.12.8"));
        assert_eq!(py.version.as_deref(), Some("3.12.8"));
        assert_eq!(py.venv_cfg_version.as_deref(), Some("3.12.1"));
        assert!(py.evidence["venv_cfg_version"].starts_with("pyvenv.cfg:version records 3.12.1"));
        assert!(!py.version_uncertain);

        let mut py = Python::default();
        apply_exact_version(&mut py, Some(("pyvenv.cfg:version_info", "3.10.5.final.0")), found("3.10.5+"));
        assert_eq!(py.version.as_deref(), Some("3.10.5+"));
        assert_eq!(py.venv_cfg_version, None);
        assert!(py.version_uncertain);
        assert!(py.evidence["version_uncertain"].contains("branch build"));
    }
}
