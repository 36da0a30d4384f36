//! Reading the configuration of the services that run Python environments (Apache with
//! mod_wsgi, uWSGI), through [`HostRoot`](crate::paths::HostRoot) so `--root` works. The
//! parsers keep the file and line of every directive, because a finding that names
//! `sites-enabled/app.conf:12` is one an admin can act on.

pub mod apache;
pub mod uwsgi;

use crate::host::glob_files;
use crate::paths::HostRoot;
use std::path::{Component, Path, PathBuf};

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
        format!("{}:{}", crate::paths::display(&self.file), self.line)
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
mod tests {
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
        assert_eq!(glob_path(&root, Path::new("/*/site.conf")), vec![PathBuf::from("/a/site.conf"), PathBuf::from("/b/site.conf")]);
        assert_eq!(glob_path(&root, Path::new("/c.txt")), vec![PathBuf::from("/c.txt")]);
        assert!(glob_path(&root, Path::new("/nope/*.conf")).is_empty());
        assert_eq!(normalize(Path::new("/srv/./a/../b/")), PathBuf::from("/srv/b"));
        let _ = std::fs::remove_dir_all(&d);
    }
}
