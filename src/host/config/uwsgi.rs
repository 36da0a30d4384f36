//! uWSGI `.ini` configuration: the vassals of Debian's and the emperor's directories plus
//! files named with `--uwsgi-config`. Only the `[uwsgi]` section is read, with the magic
//! placeholders admins use to point at venvs (`%d`, `%n`, `%(option)`).

use super::{ConfigError, Directive};
use crate::host::glob_files;
use crate::host::paths::{HostRoot, display};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where packaged uWSGI looks for apps: Debian's apps-enabled, the emperor's vassals
/// directory, Fedora's `/etc/uwsgi.d`.
pub const DEFAULT_GLOBS: &[&str] = &["/etc/uwsgi/apps-enabled/*.ini", "/etc/uwsgi/vassals/*.ini", "/etc/uwsgi.d/*.ini"];

/// Directories searched for `NAME_plugin.so` when a config names a plugin without a path.
pub const PLUGIN_DIRS: &[&str] = &["/usr/lib/uwsgi/plugins", "/usr/lib64/uwsgi", "/usr/lib/uwsgi"];

/// Options that name the Python home (the venv) of an app.
pub const HOME_KEYS: &[&str] = &["virtualenv", "venv", "home", "pyhome"];

/// One app configuration.
#[derive(Debug, Clone, Default)]
pub struct UwsgiApp {
    /// App name: the file name without extension (uWSGI's `%n`).
    pub name: String,
    /// Every option of the `[uwsgi]` section, in order, placeholders expanded.
    pub options: Vec<Directive>,
}

impl UwsgiApp {
    /// All values of an option (uWSGI option names are case-sensitive; `_` and `-` are the same).
    pub fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Directive> + 'a {
        self.options.iter().filter(move |d| d.name.replace('_', "-") == key)
    }
}

/// Read the default locations and the named files (view paths).
pub fn load(root: &HostRoot, explicit: &[PathBuf]) -> (Vec<UwsgiApp>, Vec<ConfigError>) {
    let mut files: Vec<PathBuf> = DEFAULT_GLOBS.iter().flat_map(|g| glob_files(root, Path::new(g))).collect();
    for f in explicit {
        if !files.contains(f) {
            files.push(f.clone());
        }
    }
    let mut apps = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match root.read_bounded(&f, 4 << 20) {
            Ok(b) => apps.push(parse(&String::from_utf8_lossy(&b), &f)),
            Err(e) => errors.push((display(&f), format!("cannot read uWSGI configuration: {e}"))),
        }
    }
    (apps, errors)
}

/// Parse the `[uwsgi]` section of an ini file.
pub fn parse(text: &str, file: &Path) -> UwsgiApp {
    let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut app = UwsgiApp { name, options: Vec::new() };
    let mut in_uwsgi = false;
    let mut seen: HashMap<String, String> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_uwsgi = section.trim() == "uwsgi";
            continue;
        }
        if !in_uwsgi {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else { continue };
        let key = k.trim().to_owned();
        let value = expand(v.trim().trim_matches('"'), file, &app.name, &seen);
        seen.insert(key.clone(), value.clone());
        app.options.push(Directive {
            name: key,
            args: vec![value.clone()],
            raw: value,
            file: file.to_path_buf(),
            line: i + 1,
            sections: vec!["uwsgi".into()],
        });
    }
    app
}

/// uWSGI's magic variables: `%d` (the file's directory, with a slash), `%n` (name), `%s`
/// (file name), `%p` (file path), `%c` (directory name), `%%`, and `%(option)`.
fn expand(value: &str, file: &Path, name: &str, seen: &HashMap<String, String>) -> String {
    if !value.contains('%') {
        return value.to_owned();
    }
    let dir = file.parent().unwrap_or(Path::new("/"));
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str(&format!("{}/", display(dir).trim_end_matches('/'))),
            Some('n') => out.push_str(name),
            Some('s') => out.push_str(&file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
            Some('p') => out.push_str(&display(file)),
            Some('c') => out.push_str(&dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
            Some('%') => out.push('%'),
            Some('(') => {
                let key: String = chars.by_ref().take_while(|c| *c != ')').collect();
                out.push_str(seen.get(&key).map(String::as_str).unwrap_or(""));
            }
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// The plugin names of an app (`plugins = python3,logfile`, repeatable), each with its line.
pub fn plugins(app: &UwsgiApp) -> Vec<(String, &Directive)> {
    app.options
        .iter()
        .filter(|d| matches!(d.name.as_str(), "plugins" | "plugin"))
        .flat_map(|d| {
            d.args[0].split(',').map(|p| (p.trim().to_owned(), d)).filter(|(p, _)| !p.is_empty()).collect::<Vec<_>>()
        })
        .collect()
}

/// The file of a plugin name: a path as given, else `NAME_plugin.so` in the app's
/// `plugin-dir`s and the packaged directories.
pub fn plugin_file(root: &HostRoot, app: &UwsgiApp, plugin: &str) -> Option<PathBuf> {
    if plugin.contains('/') {
        let p = PathBuf::from(plugin);
        let with_suffix =
            if plugin.ends_with(".so") { p.clone() } else { PathBuf::from(format!("{plugin}_plugin.so")) };
        return [p, with_suffix].into_iter().find(|p| root.exists(p));
    }
    let file = if plugin.ends_with(".so") { plugin.to_owned() } else { format!("{plugin}_plugin.so") };
    let custom: Vec<String> =
        app.values("plugin-dir").chain(app.values("plugins-dir")).map(|d| d.args[0].clone()).collect();
    custom
        .iter()
        .map(String::as_str)
        .chain(PLUGIN_DIRS.iter().copied())
        .map(|d| Path::new(d).join(&file))
        .find(|p| root.exists(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_with_placeholders() {
        let text = "; comment\n[other]\nvirtualenv = /wrong\n[uwsgi]\nplugins = python3, logfile\nbase = /srv/%n\nvirtualenv = %(base)/venv\nchdir = %d\nplugin = python311\n";
        let app = parse(text, Path::new("/etc/uwsgi/apps-enabled/shop.ini"));
        let venv: Vec<&Directive> = app.values("virtualenv").collect();
        assert_eq!(venv.len(), 1);
        assert_eq!(venv[0].args[0], "/srv/shop/venv");
        assert_eq!(venv[0].line, 7);
        assert_eq!(app.values("chdir").next().unwrap().args[0], "/etc/uwsgi/apps-enabled/");
        let names: Vec<String> = plugins(&app).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["python3", "logfile", "python311"]);
    }
}
