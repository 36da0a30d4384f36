//! Entry points for the cargo-fuzz targets under `fuzz/` (run by `scripts/fuzz.sh`).
//!
//! Each function feeds arbitrary bytes to one parser the way the scan does: the same
//! decoding of bytes to text, the same follow-up use of the parsed value (a METADATA's
//! Requires-Dist goes on to the PEP 508 parser, a marker is evaluated), so a crash found here
//! is a crash a hostile file could cause. Parsers that only read files get their input through
//! an anonymous in-memory file (`memfd_create`), or, where a directory tree is needed (Apache
//! includes), a per-process directory in /dev/shm (else the temporary directory). Not part of the stable
//! API: hidden from the docs, kept only so the fuzz workspace can reach private parsers.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// An anonymous in-memory file holding `data`, positioned at its start (no disk I/O, nothing
/// left behind). `None` when the kernel refuses memfd_create.
fn memfd(data: &[u8]) -> Option<File> {
    use std::os::fd::FromRawFd;
    // SAFETY: a NUL-terminated name and valid flags; a non-negative result is a new fd that
    // nothing else owns.
    let fd = unsafe { libc::memfd_create(c"venvaudit-fuzz".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    // SAFETY: see above.
    let mut f = unsafe { File::from_raw_fd(fd) };
    f.write_all(data).ok()?;
    f.seek(SeekFrom::Start(0)).ok()?;
    Some(f)
}

/// The `/proc/self/fd` path of an open file, for parsers that take a path.
fn fd_path(f: &File) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()))
}

/// A marker environment like the one `checks::deps` builds for a CPython 3.12 venv.
fn marker_env() -> Option<pep508_rs::MarkerEnvironment> {
    pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: "3.12.4",
        os_name: "posix",
        platform_machine: "x86_64",
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_system: "Linux",
        platform_version: "",
        python_full_version: "3.12.4",
        python_version: "3.12",
        sys_platform: "linux",
    })
    .ok()
}

/// Parse one Requires-Dist or query spec as the scan does: the bounded PEP 508 parser, then
/// the markers evaluated and the version clauses tested.
fn requirement(text: &str) {
    if let Ok(req) = crate::parse::pep508::parse_requirement::<pep508_rs::VerbatimUrl>(text) {
        if let Some(env) = marker_env() {
            let _ = req.evaluate_markers(&env, &[]);
        }
        if let Some(pep508_rs::VersionOrUrl::VersionSpecifier(spec)) = &req.version_or_url {
            for v in ["0", "1.0", "2.25.1", "4.2.16rc1", "1!2.0.post1.dev3"] {
                if let Ok(v) = <pep440_rs::Version as std::str::FromStr>::from_str(v) {
                    let _ = spec.iter().all(|s| s.contains(&v));
                }
            }
        }
        let _ = crate::inspect::packages::normalize_name(req.name.as_ref());
    }
}

/// `pyvenv.cfg`, decoded and queried as `inspect::interpreter` does.
pub fn pyvenv_cfg(data: &[u8]) {
    let cfg = crate::parse::pyvenv_cfg::PyvenvCfg::parse(&String::from_utf8_lossy(data));
    let _ = cfg.include_system_site_packages();
    let _ = cfg.version();
    for key in ["home", "executable", "base-executable", "implementation", "prompt", "uv", "virtualenv"] {
        let _ = cfg.get(key);
    }
}

/// METADATA / PKG-INFO / WHEEL through the file read path (headers up to the first blank
/// line, bounded), then every Requires-Dist through the PEP 508 parser; the same bytes as a
/// setuptools `requires.txt`.
pub fn metadata(data: &[u8]) {
    use crate::inspect::packages as p;
    if let Some(h) = memfd(data).and_then(|f| p::read_headers(f).ok()) {
        let _ = h.get_one("name").map(p::normalize_name);
        if let Some(v) = h.get_one("version") {
            let _ = <pep440_rs::Version as std::str::FromStr>::from_str(v);
        }
        let _ = h.get_one("requires-python");
        let _ = h.get_all("tag").all(|t| t.ends_with("-none-any"));
        for r in h.get_all("requires-dist") {
            requirement(r);
        }
    }
    let text = crate::host::paths::backslash_utf8(data);
    let _ = p::Headers::parse(&text);
    for r in p::requires_txt_to_requires_dist(&text) {
        requirement(&r);
    }
}

/// RECORD: the extension-module scan of `inspect::packages` and the rows `--verify` reads.
pub fn record(data: &[u8]) {
    use crate::inspect::packages as p;
    let text = crate::host::paths::backslash_utf8(data);
    for e in p::extensions_from_record(&text) {
        let _ = crate::parse::abi_tag::extension_abi_tag(&e.path);
    }
    let _ = crate::parse::record::rows(&text).count();
}

/// A Python source file: its imports as the import graph reads them (tokenizer, block
/// classification, relative-import resolution by the caller's rules).
pub fn pyimport(data: &[u8]) {
    if let Ok(imports) = crate::parse::pyimport::imports(data) {
        for i in imports {
            let _ = (i.line, i.level, i.module.len(), i.names.len(), i.when.as_str());
            let _ = crate::inspect::imports::module_of_file(&i.module.replace('.', "/"));
        }
    }
}

/// direct_url.json redaction; the same bytes as a URL text and as a NUL-separated process
/// command line (`/proc/PID/cmdline`).
pub fn direct_url(data: &[u8]) {
    if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(data) {
        crate::parse::redact::redact_json(&mut v);
        let _ = serde_json::to_string(&v);
    }
    let text = String::from_utf8_lossy(data);
    let _ = crate::parse::redact::redact_url(&text);
    let args: Vec<String> = data.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    let _ = crate::parse::redact::redact_cmdline(&args);
}

/// A PEP 508 requirement (METADATA Requires-Dist) and a `query`/`--forbid` spec.
pub fn pep508(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    requirement(&text);
    let _ = crate::parse::spec::Spec::parse(&text);
}

/// ELF headers, dynamic section, version tables and symbols (`inspect::elf`).
pub fn elf(data: &[u8]) {
    let _ = crate::parse::elf::parse_elf(data);
}

/// An Apache configuration read as `httpd.conf` of a root that holds only that file:
/// includes, `<IfFile>` and globs resolve inside that per-process directory.
pub fn apache(data: &[u8]) {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let Some(dir) = DIR.get_or_init(|| {
        // A tmpfs when there is one: a file is rewritten per input, millions of times.
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let d = base.join(format!("venvaudit-fuzz-apache-{}", std::process::id()));
        std::fs::create_dir_all(&d).ok().map(|_| d)
    }) else {
        return;
    };
    if std::fs::write(dir.join("httpd.conf"), data).is_err() {
        return;
    }
    let Ok(root) = crate::host::paths::HostRoot::at(dir) else { return };
    let cfg = crate::host::config::apache::read(&root, Path::new("/httpd.conf"), None);
    let _ = cfg.module("wsgi_module");
    for d in &cfg.directives {
        if let Some(a) = d.args.first() {
            let _ = cfg.resolve_path(a);
        }
    }
}

/// A uWSGI ini file (placeholders expanded, plugins listed).
pub fn uwsgi(data: &[u8]) {
    let app =
        crate::host::config::uwsgi::parse(&String::from_utf8_lossy(data), Path::new("/etc/uwsgi/apps-enabled/app.ini"));
    let _ = crate::host::config::uwsgi::plugins(&app);
    for key in crate::host::config::uwsgi::HOME_KEYS {
        let _ = app.values(key).count();
    }
}

/// A systemd unit file.
pub fn systemd(data: &[u8]) {
    let _ = crate::host::config::systemd::parse_unit(
        &String::from_utf8_lossy(data),
        Path::new("/etc/systemd/system/app.service"),
        "app.service",
    );
}

/// A supervisor ini file.
pub fn supervisor(data: &[u8]) {
    let _ = crate::host::config::supervisor::parse(
        &String::from_utf8_lossy(data),
        Path::new("/etc/supervisor/conf.d/app.conf"),
    );
}

/// A crontab.
pub fn cron(data: &[u8]) {
    let _ = crate::host::config::cron::parse(&String::from_utf8_lossy(data), Path::new("/etc/cron.d/app"));
}

/// One OSV record (JSON) as the database loader reads it.
pub fn osv_record(data: &[u8]) {
    let _ = crate::osv::load::parse_record(data);
}

/// A `run` request (the JSON front-end's stdin), parsed to a [`crate::request::Request`].
pub fn run_request(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = crate::request::Request::from_json(v);
    }
}

/// The Ansible module arguments file, through validation to a request, for both modules.
pub fn ansible_args(data: &[u8]) {
    use crate::frontends::ansible::{self as a, Module};
    let Some(f) = memfd(data) else { return };
    let Ok(params) = a::read_args(&fd_path(&f)) else { return };
    let (opts, int) = a::split_internal(params);
    let named = int.module_name.as_deref().and_then(Module::from_name);
    let modules = match named {
        Some(m) => vec![m],
        None => vec![Module::Facts, Module::Check],
    };
    for m in modules {
        if let Ok(p) = a::argspec::validate(m.name(), m.spec(), &opts, int.ignore_unknown_opts) {
            let action = if m == Module::Facts { "facts" } else { "check" };
            let _ = a::request(action, &p);
        }
    }
}
