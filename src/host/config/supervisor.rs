//! supervisor programs: `[program:x]` sections with `command=`, `directory=`, `environment=`.

use super::{ServiceRef, absolute_paths, library_path_from_env, venv_roots_from_env};
use crate::host::paths::HostRoot;
use std::path::{Path, PathBuf};

/// Configuration files and include globs supervisor reads on common distributions.
const FILES: &[&str] = &[
    "/etc/supervisord.conf",
    "/etc/supervisor/supervisord.conf",
    "/etc/supervisor/conf.d/*.conf",
    "/etc/supervisord.d/*.ini",
    "/etc/supervisord.d/*.conf",
];

/// Read every supervisor program definition.
pub fn read_programs(root: &HostRoot) -> Vec<ServiceRef> {
    let mut out = Vec::new();
    for pattern in FILES {
        for file in crate::host::glob_files(root, Path::new(pattern)) {
            if let Some(text) = root.read_text(&file, 1 << 20) {
                out.extend(parse(&text, &file));
            }
        }
    }
    out
}

/// Parse one supervisor ini file.
pub fn parse(text: &str, file: &Path) -> Vec<ServiceRef> {
    let mut out = Vec::new();
    let mut program: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            program = line
                .trim_matches(['[', ']'])
                .strip_prefix("program:")
                .or_else(|| line.trim_matches(['[', ']']).strip_prefix("fcgi-program:"))
                .map(|p| p.trim().to_owned());
            continue;
        }
        let Some(name) = &program else { continue };
        let Some((key, value)) = line.split_once('=') else { continue };
        // Inline comments need whitespace before ';' in supervisor's ini dialect.
        let value = value.split(" ;").next().unwrap_or("").trim();
        let (paths, roots, library_path) = match key.trim() {
            "command" | "directory" => (absolute_paths(value), Vec::new(), Vec::new()),
            "environment" => {
                let env = value.replace(',', " ");
                (Vec::new(), venv_roots_from_env(&env), library_path_from_env(&env))
            }
            _ => continue,
        };
        if paths.is_empty() && roots.is_empty() && library_path.is_empty() {
            continue;
        }
        out.push(ServiceRef {
            kind: "supervisor",
            file: PathBuf::from(file),
            line: i + 1,
            group: Some(name.clone()),
            paths,
            venv_roots: roots,
            library_path,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs() {
        let text = "[supervisord]\nlogfile=/var/log/s.log\n[program:worker]\ncommand=/srv/w/venv/bin/celery -A w worker ; comment\ndirectory=/srv/w\nenvironment=VIRTUAL_ENV=\"/srv/w/venv\",LANG=C\n";
        let refs = parse(text, Path::new("/etc/supervisor/conf.d/w.conf"));
        assert_eq!(refs.len(), 3);
        assert_eq!(refs[0].line, 4);
        assert_eq!(refs[0].paths, [PathBuf::from("/srv/w/venv/bin/celery")]);
        assert_eq!(refs[2].venv_roots, [PathBuf::from("/srv/w/venv")]);
        assert_eq!(refs[0].group.as_deref(), Some("worker"));
    }
}
