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

/// One host's cached facts as the fleet plan reads them (`plan --from-facts`): each
/// environment through the facts reader, the forbidden-package check (`django<4.2.16`), and
/// the plan's judgement (version choice, Requires-Dist constraints, restarts).
pub fn plan_facts(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Ok(forbid) = crate::parse::spec::parse_specs(&["django<4.2.16".to_owned()]) else { return };
    let judge = crate::plan::Judge::new(None, &forbid);
    for venv in v["venvs"].as_array().into_iter().flatten() {
        let Ok(pv) = crate::plan::PlanVenv::from_facts(venv, v["host"]["os"].as_str().map(str::to_owned)) else {
            continue;
        };
        let findings = crate::checks::forbidden::check(&forbid, &pv.path, &pv.packages);
        let reasons = crate::plan::VenvReasons::from_findings(findings.iter(), &pv.packages);
        let mut errors = Vec::new();
        let _ = crate::plan::plan_venv(&pv, &reasons, &judge, &mut errors);
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

/// A lock file as the artefact gate reads it (`parse::lock`). The first byte picks the format
/// by the file name the reader is given (its low six bits modulo 3: `pylock.toml`, `uv.lock`,
/// `requirements.txt`) and two variations: bit 0x40 judges the selection for a second target
/// (PyPy 3.10 on aarch64 instead of CPython 3.12 on x86_64), bit 0x80 reads a requirements
/// file's `-r`/`-c` includes as `parse_requirements_with` does, every include (but one whose
/// path names `missing`, and the 17th on) read as the same text. The rest is the text, decoded as the gate
/// decodes it (UTF-8, invalid bytes replaced). The selection for the target follows
/// (`Lock::for_target`), and the bounds the module documents are asserted.
pub fn lock(data: &[u8]) {
    use crate::parse::lock as l;
    let Some((&selector, rest)) = data.split_first() else { return };
    let name = ["pylock.toml", "uv.lock", "requirements.txt"][usize::from(selector & 0x3f) % 3];
    let text = String::from_utf8_lossy(rest);
    let lock = if name == "requirements.txt" && selector & 0x80 != 0 {
        // At most 16 includes are served (the rest cannot be read): includes nest 8 deep with
        // no bound on their number, so two `-r` lines would otherwise cost 2^8 reads, ten 10^8.
        let mut served = 0;
        let mut read = |path: &str| {
            served += 1;
            (served <= 16 && !path.contains("missing")).then(|| text.clone().into_owned())
        };
        l::parse_requirements_with(name, &text, &mut read)
    } else {
        l::parse_lock(name, &text)
    };
    assert!(lock.packages.len() <= l::MAX_PACKAGES, "more than MAX_PACKAGES entries");
    assert!(lock.problems.len() <= l::MAX_PROBLEMS + 1, "more than MAX_PROBLEMS problems (+1 counting the rest)");
    let env = if selector & 0x40 == 0 { marker_env() } else { marker_env_pypy_aarch64() };
    let Some(env) = env else { return };
    let (selected, problems) = lock.for_target(name, &env);
    assert!(problems.len() <= l::MAX_PROBLEMS + 1, "more than MAX_PROBLEMS selection problems (+1)");
    let mut seen = std::collections::HashSet::new();
    for p in &selected {
        assert!(seen.insert(p.normalized.as_str()), "two selected entries for one name");
        for w in &p.wheels {
            let _ = crate::parse::wheel_tags::parse_wheel_name(&w.filename);
        }
    }
}

/// A second marker environment for [`lock`]: PyPy 3.10 on aarch64.
fn marker_env_pypy_aarch64() -> Option<pep508_rs::MarkerEnvironment> {
    pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
        implementation_name: "pypy",
        implementation_version: "3.10.14",
        os_name: "posix",
        platform_machine: "aarch64",
        platform_python_implementation: "PyPy",
        platform_release: "",
        platform_system: "Linux",
        platform_version: "",
        python_full_version: "3.10.14",
        python_version: "3.10",
        sys_platform: "linux",
    })
    .ok()
}

/// A wheel file name (`parse::wheel_tags::parse_wheel_name`) and the tags a target derived
/// from the same bytes supports (`supported_tags`, `TagRanks`), as the gate ranks candidates.
/// With fewer than 5 bytes the whole input is only a name. Else byte 0 holds flags (bit 0:
/// PyPy; bits 1-2: glibc, musl, or an unknown libc; the other five all set: a wide target),
/// bytes 1 and 2 the Python major and minor, bytes 3 and 4 the libc major and minor: as they
/// are for a wide target (the clamps of `supported_tags` bound its list, to some 100,000
/// tags: a thousand times the cost, so one input in 32), else the Python minor modulo 16, the
/// libc major modulo 5 and minor modulo 40 (a thousand tags or so: the fuzzer's time goes to
/// the names). The rest, decoded lossily, is up to three lines (machine, CPython ABI flags,
/// PyPy ABI) then the file name. Asserted: what the module documents (a name's tags are 1 to
/// 4096 and distinct; the supported tags are distinct) and that a rank points at a tag the
/// name offers.
pub fn wheel_name(data: &[u8]) {
    use crate::parse::wheel_tags as t;
    let check_name = |w: &t::WheelName| {
        assert!(!w.tags.is_empty() && w.tags.len() <= 4096, "a wheel name with {} tags", w.tags.len());
        let distinct: std::collections::HashSet<&t::Tag> = w.tags.iter().collect();
        assert_eq!(distinct.len(), w.tags.len(), "duplicate tags in a parsed wheel name");
    };
    if data.len() < 5 {
        if let Ok(w) = t::parse_wheel_name(&String::from_utf8_lossy(data)) {
            check_name(&w);
        }
        return;
    }
    let text = String::from_utf8_lossy(&data[5..]);
    let mut lines = text.splitn(4, '\n');
    let (arch, abi_flags, pypy_abi) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""), lines.next());
    let file = lines.next().unwrap_or("");
    let wide = data[0] & 0xf8 == 0xf8;
    let (minor, libc_major, libc_minor) =
        if wide { (data[2], data[3], data[4]) } else { (data[2] % 16, data[3] % 5, data[4] % 40) };
    let (libc_major, libc_minor) = (u32::from(libc_major), u32::from(libc_minor));
    let target = t::TagTarget {
        pypy: data[0] & 1 != 0,
        version: (u32::from(data[1]), u32::from(minor)),
        abi_flags: abi_flags.to_owned(),
        pypy_abi: pypy_abi.map(str::to_owned),
        arch: arch.to_owned(),
        libc: match (data[0] >> 1) & 3 {
            0 => t::TargetLibc::Glibc(libc_major, libc_minor),
            1 => t::TargetLibc::Musl(libc_major, libc_minor),
            _ => t::TargetLibc::Unknown,
        },
    };
    let supported = t::supported_tags(&target);
    let distinct: std::collections::HashSet<&t::Tag> = supported.iter().collect();
    assert_eq!(distinct.len(), supported.len(), "duplicate supported tags");
    let _ = supported.iter().map(ToString::to_string).count();
    if let Ok(w) = t::parse_wheel_name(file) {
        check_name(&w);
        let ranks = t::TagRanks::new(&target);
        if let Some((rank, tag)) = ranks.best(&w) {
            assert_eq!(supported.get(rank), Some(tag), "a rank that is not the tag's place in supported_tags");
        }
    }
}

/// A wheel read as the artefact gate reads one (`inspect::wheel`): the bytes as the file
/// `fuzz-1.0-py3-none-any.whl` (an in-memory file), its central directory, then for every
/// usable member: read whole within 1 MiB (what the gate reads of METADATA is bounded the same
/// way), the ELF magic, and the ELF headers when the magic is there (inflating on demand);
/// then the installed layout as the import graph lists and reads it.
pub fn wheel_zip(data: &[u8]) {
    use crate::inspect::imports::SourceTree;
    use crate::inspect::wheel::{Wheel, WheelTree};
    let Some(f) = memfd(data) else { return };
    let Ok(wheel) = Wheel::open(&fd_path(&f), "fuzz-1.0-py3-none-any.whl") else { return };
    let _ = (wheel.dist_info(), wheel.problems().len());
    for m in wheel.members() {
        if let Ok(bytes) = wheel.read(m.index, 1 << 20) {
            assert_eq!(bytes.len() as u64, m.size, "a member read whole is not its declared size");
        }
        if wheel.is_elf(m.index) {
            let _ = wheel.elf_with_stats(m.index);
        }
    }
    let mut tree = WheelTree { wheels: vec![&wheel] };
    if let Some(top) = tree.list("") {
        for (name, _) in top.iter().take(16) {
            let _ = tree.list(name);
            let _ = tree.read(&format!("{name}/__init__.py"), 64 << 10);
        }
    }
}
