//! systemd unit files: ExecStart*/ExecStop*/ExecReload, Environment=, WorkingDirectory=.

use super::{ServiceRef, absolute_paths, library_path_from_env, venv_roots_from_env};
use crate::host::paths::HostRoot;
use std::path::{Path, PathBuf};

/// Directories holding unit files, most specific first (as systemd's search path).
pub const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

/// Read every `*.service` unit (and drop-ins `*.service.d/*.conf`) under the unit dirs.
pub fn read_units(root: &HostRoot) -> Vec<ServiceRef> {
    let mut out = Vec::new();
    let mut seen_real = std::collections::HashSet::new();
    for dir in UNIT_DIRS {
        let dir = Path::new(dir);
        let Ok(resolved) = root.resolve(dir) else { continue };
        // /lib is often a symlink to /usr/lib: read each real directory once.
        if !seen_real.insert(resolved.clone()) {
            continue;
        }
        let Ok(rd) = std::fs::read_dir(root.real(&resolved)) else { continue };
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".service") {
                files.push((dir.join(&name), name.clone()));
            } else if name.ends_with(".service.d") {
                let unit = name.trim_end_matches(".d").to_owned();
                for inc in crate::host::glob_files(root, &dir.join(&name).join("*.conf")) {
                    files.push((inc, unit.clone()));
                }
            }
        }
        files.sort();
        for (file, unit) in files {
            if let Some(text) = root.read_text(&file, 1 << 20) {
                out.extend(parse_unit(&text, &file, &unit));
            }
        }
    }
    out
}

/// Parse one unit file's text.
pub fn parse_unit(text: &str, file: &Path, unit: &str) -> Vec<ServiceRef> {
    let mut out = Vec::new();
    for (line_no, line) in logical_lines(text) {
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim();
        let value = value.trim();
        let (paths, roots, library_path) = match key {
            k if k.starts_with("Exec") => {
                // Strip systemd's executable prefixes (@, -, :, +, !).
                let v = value.trim_start_matches(['@', '-', ':', '+', '!']);
                (absolute_paths(v), Vec::new(), Vec::new())
            }
            "WorkingDirectory" | "RootDirectory" => {
                (absolute_paths(value.trim_start_matches('-')), Vec::new(), Vec::new())
            }
            "Environment" => (Vec::new(), venv_roots_from_env(value), library_path_from_env(value)),
            _ => continue,
        };
        if paths.is_empty() && roots.is_empty() && library_path.is_empty() {
            continue;
        }
        out.push(ServiceRef {
            kind: "systemd",
            file: file.to_path_buf(),
            line: line_no,
            group: Some(unit.to_owned()),
            paths,
            venv_roots: roots,
            library_path,
        });
    }
    out
}

/// Lines joined across trailing-backslash continuations, comments dropped, with the
/// 1-based number of the first physical line.
pub fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if current.is_none() && (trimmed.starts_with('#') || trimmed.starts_with(';') || trimmed.is_empty()) {
            continue;
        }
        let (start, mut acc) = current.take().unwrap_or((i + 1, String::new()));
        if let Some(body) = trimmed.strip_suffix('\\') {
            acc.push_str(body);
            acc.push(' ');
            current = Some((start, acc));
        } else {
            acc.push_str(trimmed);
            out.push((start, acc));
        }
    }
    if let Some(c) = current {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_directives() {
        let text = "[Service]\n# comment\nWorkingDirectory=/srv/app\nEnvironment=\"VIRTUAL_ENV=/srv/app/venv\" LANG=C\nExecStart=-/srv/app/venv/bin/gunicorn \\\n  --bind 127.0.0.1:8000 app:wsgi\nUser=app\n";
        let refs = parse_unit(text, Path::new("/etc/systemd/system/app.service"), "app.service");
        assert_eq!(refs.len(), 3);
        assert_eq!(refs[1].venv_roots, [PathBuf::from("/srv/app/venv")]);
        assert_eq!(refs[2].line, 5);
        assert_eq!(refs[2].paths, [PathBuf::from("/srv/app/venv/bin/gunicorn")]);
        assert_eq!(refs[2].group.as_deref(), Some("app.service"));
    }
}
