//! Parsers of service configuration that points at environments: systemd units, supervisor
//! programs, crontabs (and Apache / uWSGI for mod_wsgi and uWSGI checks). All files are read
//! through [`HostRoot`](crate::host::paths::HostRoot) so `--root` inspects an image's configuration.

pub mod apache;
pub mod cron;
pub mod supervisor;
pub mod systemd;
pub mod uwsgi;

use crate::host::glob_files;
use crate::host::paths::HostRoot;
use std::path::{Component, Path, PathBuf};

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
    /// Directories this directive puts on LD_LIBRARY_PATH (the loader searches them for the
    /// service's extension modules).
    pub library_path: Vec<PathBuf>,
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

/// Absolute directories of an `LD_LIBRARY_PATH=` assignment among `KEY=VALUE` words
/// (quoted or not). Relative entries (and the empty entry, the working directory) are
/// dropped: the service's working directory is not modelled.
pub fn library_path_from_env(assignments: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for word in assignments.split(|c: char| c.is_whitespace() || c == ',') {
        let word = word.trim_matches(|c| c == '"' || c == '\'');
        if let Some(v) = word.strip_prefix("LD_LIBRARY_PATH=") {
            for entry in v.trim_matches(|c| c == '"' || c == '\'').split(':') {
                if entry.starts_with('/') && !entry.contains('$') {
                    out.push(PathBuf::from(entry.trim_end_matches('/')));
                }
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
                if let Some(parent) = entry.trim_end_matches('/').strip_suffix("/bin")
                    && parent.starts_with('/')
                    && looks_like_venv_path(std::path::Path::new(parent))
                {
                    out.push(PathBuf::from(parent));
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
        n.contains("venv")
            || n.contains("virtualenv")
            || n == "env"
            || n == ".env"
            || n == "pyenv"
            || n.ends_with("-env")
            || n.ends_with("_env")
    })
}

/// One directive of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Name as written (`WSGIDaemonProcess`); compare case-insensitively.
    pub name: String,
    /// Arguments, unquoted, variables expanded.
    pub args: Vec<String>,
    /// The argument text as written after the name (variables expanded), for directives
    /// that parse their own arguments, like mod_wsgi's `WSGIDaemonProcess`.
    pub raw: String,
    /// View path of the file.
    pub file: PathBuf,
    /// 1-based line where the directive starts.
    pub line: usize,
    /// Enclosing sections, outermost first (`VirtualHost *:80`).
    pub sections: Vec<String>,
}

impl Directive {
    /// Case-insensitive name test, as Apache and uWSGI compare directive names.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// `file:line` for messages.
    pub fn location(&self) -> String {
        format!("{}:{}", crate::host::paths::display(&self.file), self.line)
    }
}

/// A problem reading configuration: (view path, message).
pub type ConfigError = (String, String);

/// Expand a path pattern whose components may hold wildcards (`/etc/httpd/conf.d/*.conf`,
/// `vhosts/*/site.conf`). Matches are sorted per component, as Apache and glob(3) sort them.
pub fn glob_path(root: &HostRoot, pattern: &Path) -> Vec<PathBuf> {
    let mut partial = vec![PathBuf::from("/")];
    let parts: Vec<Component> = pattern.components().collect();
    for (i, c) in parts.iter().enumerate() {
        let Component::Normal(name) = c else { continue };
        let wild = name.to_string_lossy().contains(['*', '?', '[']);
        let last = i + 1 == parts.len();
        let mut next = Vec::new();
        for p in &partial {
            let candidate = p.join(name);
            if wild {
                next.extend(glob_files(root, &candidate).into_iter().filter(|m| last || is_dir(root, m)));
            } else {
                next.push(candidate);
            }
        }
        partial = next;
        if partial.is_empty() {
            break;
        }
    }
    partial.retain(|p| root.exists(p));
    partial
}

/// True when a view path resolves to a directory.
pub fn is_dir(root: &HostRoot, view: &Path) -> bool {
    root.resolve(view).ok().and_then(|r| std::fs::metadata(root.real(&r)).ok()).is_some_and(|m| m.is_dir())
}

/// Lexically normalise an absolute view path (`/a/./b/../c` -> `/a/c`), so paths from
/// configuration compare equal to discovered environment paths.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod directive_tests {
    use super::*;

    #[test]
    fn globs_in_directories() {
        let d = std::env::temp_dir().join(format!("venvaudit-glob-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for sub in ["a", "b", "c.txt"] {
            if sub.ends_with(".txt") {
                std::fs::write(d.join(sub), b"").unwrap();
            } else {
                std::fs::create_dir_all(d.join(sub)).unwrap();
                std::fs::write(d.join(sub).join("site.conf"), b"").unwrap();
            }
        }
        let root = HostRoot::at(&d).unwrap();
        assert_eq!(
            glob_path(&root, Path::new("/*/site.conf")),
            vec![PathBuf::from("/a/site.conf"), PathBuf::from("/b/site.conf")]
        );
        assert_eq!(glob_path(&root, Path::new("/c.txt")), vec![PathBuf::from("/c.txt")]);
        assert!(glob_path(&root, Path::new("/nope/*.conf")).is_empty());
        assert_eq!(normalize(Path::new("/srv/./a/../b/")), PathBuf::from("/srv/b"));
        let _ = std::fs::remove_dir_all(&d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_paths_from_assignments() {
        assert_eq!(
            library_path_from_env("\"LD_LIBRARY_PATH=/opt/a/lib:/opt/b/:rel:$X/lib\" LANG=C"),
            vec![PathBuf::from("/opt/a/lib"), PathBuf::from("/opt/b")]
        );
        assert!(library_path_from_env("PATH=/opt/a/lib").is_empty());
    }

    #[test]
    fn paths_in_command_lines() {
        let p =
            absolute_paths("/srv/app/venv/bin/gunicorn --chdir=/srv/app -b unix:/run/app.sock 'app:wsgi' \"/opt/x\"");
        assert_eq!(
            p,
            [PathBuf::from("/srv/app/venv/bin/gunicorn"), PathBuf::from("/srv/app"), PathBuf::from("/opt/x")]
        );
        assert!(absolute_paths("https://example.com/x").is_empty());
    }

    #[test]
    fn env_roots() {
        let r = venv_roots_from_env("VIRTUAL_ENV=/srv/a/venv \"PATH=/srv/b/.venv/bin:/usr/bin:/bin\"");
        assert_eq!(r, [PathBuf::from("/srv/a/venv"), PathBuf::from("/srv/b/.venv")]);
    }
}
