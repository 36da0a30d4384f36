//! Crontabs: /etc/crontab, /etc/cron.d/*, and per-user spools (Debian and RHEL layouts).

use super::{ServiceRef, absolute_paths, venv_roots_from_env};
use crate::host::paths::HostRoot;
use std::path::{Path, PathBuf};

const FILES: &[&str] = &["/etc/crontab", "/etc/cron.d/*", "/var/spool/cron/crontabs/*", "/var/spool/cron/*"];

/// Read every crontab line that names a path.
pub fn read_crontabs(root: &HostRoot) -> Vec<ServiceRef> {
    let mut out = Vec::new();
    for pattern in FILES {
        for file in crate::host::glob_files(root, Path::new(pattern)) {
            if root.resolve(&file).is_ok_and(|r| root.real(&r).is_file())
                && let Some(text) = root.read_text(&file, 1 << 20)
            {
                out.extend(parse(&text, &file));
            }
        }
    }
    out
}

/// Parse one crontab. Variable lines (`PATH=...`, `VIRTUAL_ENV=...`) and job lines are used;
/// the schedule fields are skipped by taking only absolute paths.
pub fn parse(text: &str, file: &Path) -> Vec<ServiceRef> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let is_assignment = line.split_whitespace().next().is_some_and(|w| w.contains('=') && !w.starts_with('@'));
        let (paths, roots) = if is_assignment {
            (Vec::new(), venv_roots_from_env(line))
        } else {
            (absolute_paths(line), venv_roots_from_env(line))
        };
        if paths.is_empty() && roots.is_empty() {
            continue;
        }
        out.push(ServiceRef {
            kind: "cron",
            file: PathBuf::from(file),
            line: i + 1,
            group: None,
            paths,
            venv_roots: roots,
            // A crontab's LD_LIBRARY_PATH= line applies to every job below it, which a
            // per-line reference cannot say; not modelled.
            library_path: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_lines() {
        let refs = parse(
            "# m h\nPATH=/opt/tool/venv/bin:/usr/bin\n*/5 * * * * app /srv/r/venv/bin/python /srv/r/report.py >/dev/null 2>&1\n",
            Path::new("/etc/cron.d/r"),
        );
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].venv_roots, [PathBuf::from("/opt/tool/venv")]);
        assert_eq!(refs[1].line, 3);
        assert!(refs[1].paths.contains(&PathBuf::from("/srv/r/venv/bin/python")));
    }
}
