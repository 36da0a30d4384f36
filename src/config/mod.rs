//! Parsers of service configuration that points at environments: systemd units, supervisor
//! programs, crontabs (and Apache / uWSGI for mod_wsgi and uWSGI checks). All files are read
//! through [`HostRoot`](crate::paths::HostRoot) so `--root` inspects an image's configuration.

pub mod cron;
pub mod supervisor;
pub mod systemd;

use std::path::PathBuf;

/// One line of configuration that names paths a service runs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    /// `systemd`, `supervisor`, `cron`.
    pub kind: &'static str,
    /// Configuration file (view path).
    pub file: PathBuf,
    /// 1-based line of the directive.
    pub line: usize,
    /// Unit or program name.
    pub group: Option<String>,
    /// Absolute paths named by the directive (executables, arguments, directories).
    pub paths: Vec<PathBuf>,
    /// Paths named as an environment root: VIRTUAL_ENV=, or a PATH entry's parent of `bin`.
    pub venv_roots: Vec<PathBuf>,
}

/// Absolute paths among the words of a command line or assignment list (`a=/x`, `--opt=/y`,
/// quoted words), trimmed of quotes and trailing punctuation.
pub fn absolute_paths(text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ';' || c == '|' || c == '&') {
        let word = word.trim_matches(|c| c == '"' || c == '\'' || c == '(' || c == ')' || c == '`');
        // `--home=/srv/venv`, `VAR=/srv/venv`, `-H/srv/venv`
        let candidate = match word.find('/') {
            Some(0) => word,
            Some(i) if word[..i].ends_with('=') => &word[i..],
            Some(i) if word[..i] == *"-H" => &word[i..],
            _ => continue,
        };
        let candidate = candidate.trim_end_matches([',', ':']);
        if candidate.len() > 1 && !candidate.contains("://") {
            // PATH-style lists: split on ':'.
            for part in candidate.split(':').filter(|p| p.starts_with('/')) {
                out.push(PathBuf::from(part));
            }
        }
    }
    out
}

/// Environment roots named in `KEY=VALUE` assignments: VIRTUAL_ENV, and for PATH every
/// entry ending in `/bin` whose parent looks like an environment path.
pub fn venv_roots_from_env(assignments: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for word in assignments.split(|c: char| c.is_whitespace() || c == ',') {
        let word = word.trim_matches(|c| c == '"' || c == '\'');
        if let Some(v) = word.strip_prefix("VIRTUAL_ENV=") {
            let v = v.trim_matches(|c| c == '"' || c == '\'');
            if v.starts_with('/') {
                out.push(PathBuf::from(v.trim_end_matches('/')));
            }
        } else if let Some(v) = word.strip_prefix("PATH=") {
            for entry in v.trim_matches(|c| c == '"' || c == '\'').split(':') {
                if let Some(parent) = entry.trim_end_matches('/').strip_suffix("/bin") {
                    if parent.starts_with('/') && looks_like_venv_path(std::path::Path::new(parent)) {
                        out.push(PathBuf::from(parent));
                    }
                }
            }
        }
    }
    out
}

/// Whether a path's name suggests a Python environment (used only to decide whether a
/// missing path named by a service was one, never to recognise environments).
pub fn looks_like_venv_path(p: &std::path::Path) -> bool {
    p.components().any(|c| {
        let n = c.as_os_str().to_string_lossy().to_ascii_lowercase();
        n.contains("venv") || n.contains("virtualenv") || n == "env" || n == ".env" || n == "pyenv" || n.ends_with("-env") || n.ends_with("_env")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_command_lines() {
        let p = absolute_paths("/srv/app/venv/bin/gunicorn --chdir=/srv/app -b unix:/run/app.sock 'app:wsgi' \"/opt/x\"");
        assert_eq!(p, [PathBuf::from("/srv/app/venv/bin/gunicorn"), PathBuf::from("/srv/app"), PathBuf::from("/opt/x")]);
        assert!(absolute_paths("https://example.com/x").is_empty());
    }

    #[test]
    fn env_roots() {
        let r = venv_roots_from_env("VIRTUAL_ENV=/srv/a/venv \"PATH=/srv/b/.venv/bin:/usr/bin:/bin\"");
        assert_eq!(r, [PathBuf::from("/srv/a/venv"), PathBuf::from("/srv/b/.venv")]);
    }
}
