//! Apache httpd configuration, read the way httpd reads it: logical lines joined at a
//! trailing backslash, `#` comments at the start of a line, case-insensitive directive
//! names, arguments split like `ap_getword_conf` (a quote opens a word only at its start),
//! `${VAR}` replaced on the whole line from `Define`s and the environment (Debian's
//! `/etc/apache2/envvars`), `Include`/`IncludeOptional` with wildcards relative to
//! `ServerRoot`, and sections.
//!
//! Conditional sections are evaluated where that can be done from files: `<IfModule>`
//! against the modules loaded so far (plus the few Debian and RHEL build in), `<IfDefine>`
//! against `Define`s, `<IfFile>` against the filesystem. Every other section is entered;
//! `<Macro>` bodies are templates and are skipped.

use super::{ConfigError, Directive, glob_path, is_dir};
use crate::host::paths::normalize;
use crate::host::paths::{HostRoot, display};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Main configuration files of the distributions, with their default ServerRoot.
pub const DEFAULT_CONFIGS: &[(&str, &str)] = &[
    ("/etc/apache2/apache2.conf", "/etc/apache2"), // Debian, Ubuntu
    ("/etc/httpd/conf/httpd.conf", "/etc/httpd"),  // RHEL, Fedora, Amazon Linux
    ("/etc/apache2/httpd.conf", "/etc/apache2"),   // SUSE, Alpine
];

/// Modules Debian and RHEL compile into httpd, which `<IfModule>` finds without LoadModule.
const BUILT_IN: &[&str] = &["core", "so", "http_core", "watchdog", "log_config", "logio", "version", "unixd"];

/// Largest configuration file read.
const MAX_CONFIG_BYTES: u64 = 8 << 20;

/// Deepest `Include` nesting followed (httpd allows 128; real configs use 3).
const MAX_DEPTH: usize = 32;

/// Most file reads for one configuration: a file included twice at every level of a deep
/// chain would otherwise be read exponentially often.
const MAX_FILES: usize = 10_000;

/// One Apache configuration, fully read.
#[derive(Debug, Clone, Default)]
pub struct ApacheConfig {
    /// ServerRoot in effect at the end of the configuration.
    pub server_root: PathBuf,
    /// Every active directive, in the order httpd reads them (sections excluded).
    pub directives: Vec<Directive>,
    /// Every file read.
    pub files: Vec<PathBuf>,
    /// Unreadable files, unbalanced sections, include loops.
    pub errors: Vec<ConfigError>,
}

impl ApacheConfig {
    /// The module file a `LoadModule NAME PATH` loads, with its directive (the last one wins,
    /// as httpd ignores a module loaded twice only after warning).
    pub fn module(&self, id: &str) -> Option<(PathBuf, &Directive)> {
        self.directives
            .iter()
            .rev()
            .find(|d| d.is("LoadModule") && d.args.first().is_some_and(|a| a == id) && d.args.len() >= 2)
            .map(|d| (self.resolve_path(&d.args[1]), d))
    }

    /// A path argument as httpd reads it: relative paths are relative to ServerRoot.
    pub fn resolve_path(&self, arg: &str) -> PathBuf {
        normalize(&self.server_root.join(arg))
    }
}

/// Read the configuration files named (view paths) or, when none is named, the
/// distribution's. Returns one [`ApacheConfig`] per main file found.
pub fn load(root: &HostRoot, explicit: &[PathBuf]) -> Vec<ApacheConfig> {
    if !explicit.is_empty() {
        return explicit.iter().map(|f| read(root, f, None)).collect();
    }
    DEFAULT_CONFIGS
        .iter()
        .filter(|(f, _)| root.exists(Path::new(f)))
        .map(|(f, sr)| read(root, Path::new(f), Some(PathBuf::from(sr))))
        .collect()
}

/// Read one main configuration file. Without a ServerRoot hint the file's directory is the
/// default ServerRoot, which is what Debian's layout and `httpd -d DIR -f FILE` use.
pub fn read(root: &HostRoot, main: &Path, server_root: Option<PathBuf>) -> ApacheConfig {
    let main = normalize(main);
    let server_root = server_root.unwrap_or_else(|| main.parent().unwrap_or(Path::new("/")).to_path_buf());
    let mut p = Parser {
        root,
        cfg: ApacheConfig { server_root: server_root.clone(), ..ApacheConfig::default() },
        vars: envvars(root, &server_root),
        loaded: Vec::new(),
        sections: Vec::new(),
        stack: Vec::new(),
    };
    p.file(&main, true);
    for s in &p.sections {
        p.cfg.errors.push((display(&main), format!("section <{}> is never closed", s.label)));
    }
    p.cfg
}

/// Variables Debian's apache2ctl exports from `envvars` before starting httpd:
/// `export APACHE_RUN_DIR=/var/run/apache2$SUFFIX` and the like. Shell is not run; simple
/// assignments are read and `$VAR`/`${VAR}` in them replaced, unknown variables by nothing.
pub fn envvars(root: &HostRoot, server_root: &Path) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    let Some(text) = root.read_text(&server_root.join("envvars"), 1 << 20) else { return vars };
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").map(str::trim_start).unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else { continue };
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || !name.starts_with("APACHE_")
        {
            continue;
        }
        let value = value.trim().trim_matches('"').trim_matches('\'');
        let expanded = shell_expand(value, &vars);
        vars.entry(name.to_owned()).or_insert(expanded);
    }
    vars
}

/// `$NAME` and `${NAME}` from `vars`, unknown ones empty (as the shell does).
fn shell_expand(s: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, skip) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => (inner, after.len()),
            }
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..end], end)
        };
        if name.is_empty() {
            out.push('$');
        } else {
            out.push_str(vars.get(name).map(String::as_str).unwrap_or(""));
        }
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

struct Section {
    /// Lower-case tag name (`virtualhost`).
    tag: String,
    /// As written, for context (`VirtualHost *:80`).
    label: String,
    active: bool,
}

struct Parser<'a> {
    root: &'a HostRoot,
    cfg: ApacheConfig,
    vars: HashMap<String, String>,
    /// Canonical names of loaded modules (`wsgi` for `wsgi_module` and `mod_wsgi.c`).
    loaded: Vec<String>,
    sections: Vec<Section>,
    /// Files being read, for loop detection.
    stack: Vec<PathBuf>,
}

/// `wsgi_module`, `mod_wsgi.c`, `mod_wsgi.so` -> `wsgi`.
fn canonical_module(name: &str) -> String {
    let n = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    if let Some(s) = n.strip_suffix("_module") {
        return s.to_owned();
    }
    let n = n.strip_prefix("mod_").unwrap_or(&n);
    let stem = n.split('.').next().unwrap_or(n);
    stem.to_owned()
}

impl Parser<'_> {
    fn active(&self) -> bool {
        self.sections.last().is_none_or(|s| s.active)
    }

    fn file(&mut self, file: &Path, required: bool) {
        if self.cfg.files.len() >= MAX_FILES {
            if self.cfg.files.len() == MAX_FILES {
                self.cfg
                    .errors
                    .push((display(file), format!("more than {MAX_FILES} configuration files read; stopped")));
                self.cfg.files.push(file.to_path_buf());
            }
            return;
        }
        if self.stack.len() >= MAX_DEPTH || self.stack.iter().any(|f| f == file) {
            self.cfg.errors.push((display(file), "Include loop: the file includes itself".into()));
            return;
        }
        let text = match self.root.read_bounded(file, MAX_CONFIG_BYTES) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                if required {
                    self.cfg.errors.push((display(file), format!("cannot read Apache configuration: {e}")));
                }
                return;
            }
        };
        self.cfg.files.push(file.to_path_buf());
        self.stack.push(file.to_path_buf());
        self.text(&text, file);
        self.stack.pop();
    }

    fn text(&mut self, text: &str, file: &Path) {
        for (line_no, line) in logical_lines(text) {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let expanded = self.expand(trimmed);
            if let Some(close) = expanded.strip_prefix("</") {
                let tag = close.trim_end().trim_end_matches('>').trim().to_ascii_lowercase();
                match self.sections.last() {
                    Some(s) if s.tag == tag => {
                        self.sections.pop();
                    }
                    Some(s) => {
                        let open = s.label.clone();
                        self.cfg
                            .errors
                            .push((format!("{}:{line_no}", display(file)), format!("</{tag}> closes <{open}>")));
                        self.sections.pop();
                    }
                    None => self
                        .cfg
                        .errors
                        .push((format!("{}:{line_no}", display(file)), format!("</{tag}> without an open section"))),
                }
                continue;
            }
            if let Some(open) = expanded.strip_prefix('<') {
                let inner = open.trim_end();
                let inner = inner.strip_suffix('>').unwrap_or(inner);
                let words = split_args(inner);
                let Some(tag) = words.first() else { continue };
                let active = self.active() && self.condition(tag, &words[1..]);
                self.sections.push(Section { tag: tag.to_ascii_lowercase(), label: words.join(" "), active });
                continue;
            }
            let (name, rest) = getword_conf(&expanded);
            if name.is_empty() || !self.active() {
                continue;
            }
            let args = split_args(rest);
            let directive = Directive {
                name: name.clone(),
                args: args.clone(),
                raw: rest.trim().to_owned(),
                file: file.to_path_buf(),
                line: line_no,
                sections: self.sections.iter().map(|s| s.label.clone()).collect(),
            };
            match name.to_ascii_lowercase().as_str() {
                "serverroot" => {
                    if let Some(a) = args.first() {
                        self.cfg.server_root = normalize(&Path::new("/").join(a));
                    }
                }
                "define" => {
                    if let Some(a) = args.first() {
                        self.vars.insert(a.clone(), args.get(1).cloned().unwrap_or_default());
                    }
                }
                "undefine" => {
                    if let Some(a) = args.first() {
                        self.vars.remove(a);
                    }
                }
                "include" | "includeoptional" => {
                    let optional = name.eq_ignore_ascii_case("includeoptional");
                    for a in &args {
                        self.include(a, optional, file, line_no);
                    }
                    continue;
                }
                "loadmodule" => {
                    for a in args.iter().take(2) {
                        self.loaded.push(canonical_module(a));
                    }
                }
                _ => {}
            }
            self.cfg.directives.push(directive);
        }
    }

    fn include(&mut self, arg: &str, optional: bool, from: &Path, line: usize) {
        let pattern = self.cfg.resolve_path(arg);
        let wild = arg.contains(['*', '?', '[']);
        let mut files = if wild { glob_path(self.root, &pattern) } else { vec![pattern.clone()] };
        if files.len() == 1 && is_dir(self.root, &files[0]) {
            files = dir_files(self.root, &files[0], 0);
        }
        if !wild && !optional && !self.root.exists(&pattern) {
            self.cfg.errors.push((
                format!("{}:{line}", display(from)),
                format!("Include {arg}: {} does not exist", display(&pattern)),
            ));
            return;
        }
        for f in files {
            if is_dir(self.root, &f) {
                for g in dir_files(self.root, &f, 0) {
                    self.file(&g, !optional);
                }
            } else {
                self.file(&f, !optional);
            }
        }
    }

    /// Whether a conditional section's body is read.
    fn condition(&self, tag: &str, args: &[String]) -> bool {
        let arg = args.first().map(String::as_str).unwrap_or("");
        let (negate, name) = match arg.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, arg),
        };
        let holds = match tag.to_ascii_lowercase().as_str() {
            "ifmodule" => {
                let c = canonical_module(name);
                BUILT_IN.contains(&c.as_str()) || self.loaded.contains(&c)
            }
            "ifdefine" => self.vars.contains_key(name),
            "iffile" => self.root.exists(&self.cfg.resolve_path(name)),
            "macro" => return false,
            _ => return true,
        };
        holds != negate
    }

    /// `${VAR}` from Defines and envvars; unknown variables stay as written, as httpd does.
    fn expand(&self, line: &str) -> String {
        if !line.contains("${") {
            return line.to_owned();
        }
        let mut out = String::new();
        let mut rest = line;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            match after.find('}') {
                Some(end) => {
                    let name = &after[..end];
                    match self.vars.get(name).cloned().or_else(|| self.env(name)) {
                        Some(v) => out.push_str(&v),
                        None => out.push_str(&rest[i..i + 3 + end]),
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&rest[i..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The process environment stands in for httpd's only on the live host.
    fn env(&self, name: &str) -> Option<String> {
        if self.root.is_chroot() { None } else { std::env::var(name).ok() }
    }
}

/// Every file below a directory, sorted, recursively (httpd's `Include DIR`).
fn dir_files(root: &HostRoot, dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if depth > 8 {
        return out;
    }
    let Ok(resolved) = root.resolve(dir) else { return out };
    let Ok(rd) = std::fs::read_dir(root.real(&resolved)) else { return out };
    let mut names: Vec<_> = rd.flatten().map(|e| e.file_name()).collect();
    names.sort();
    for n in names {
        let p = dir.join(&n);
        if is_dir(root, &p) {
            out.extend(dir_files(root, &p, depth + 1));
        } else {
            out.push(p);
        }
    }
    out
}

/// Physical lines joined at a trailing backslash, each with the 1-based number of its first line.
pub fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let (start, mut acc) = current.take().unwrap_or((i + 1, String::new()));
        match raw.strip_suffix('\\') {
            Some(body) => {
                acc.push_str(body);
                acc.push(' ');
                current = Some((start, acc));
            }
            None => {
                acc.push_str(raw);
                out.push((start, acc));
            }
        }
    }
    if let Some(last) = current {
        out.push(last);
    }
    out
}

/// Split arguments into words with [`getword_conf`].
pub fn split_args(mut line: &str) -> Vec<String> {
    let mut out = Vec::new();
    while !line.trim_start().is_empty() {
        let (word, rest) = getword_conf(line);
        out.push(word);
        line = rest;
    }
    out
}

/// One word as httpd's `ap_getword_conf` reads it, and the rest of the line: a word that
/// starts with `"` or `'` runs to the matching quote (a backslash escapes that quote); any
/// other word runs to whitespace, quotes inside it included.
pub fn getword_conf(line: &str) -> (String, &str) {
    let s = line.trim_start();
    let mut word = String::new();
    let mut chars = s.char_indices().peekable();
    let Some(&(_, first)) = chars.peek() else { return (word, s) };
    if first == '"' || first == '\'' {
        chars.next();
        while let Some((i, c)) = chars.next() {
            if c == first {
                return (word, &s[i + c.len_utf8()..]);
            }
            if c == '\\' && chars.peek().is_some_and(|&(_, n)| n == first) {
                chars.next();
                word.push(first);
                continue;
            }
            word.push(c);
        }
        return (word, "");
    }
    for (i, c) in chars {
        if c.is_whitespace() {
            return (word, &s[i..]);
        }
        word.push(c);
    }
    (word, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(name: &str, files: &[(&str, &str)]) -> (PathBuf, HostRoot) {
        let d = std::env::temp_dir().join(format!("venvaudit-apache-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for (p, text) in files {
            let f = d.join(p.trim_start_matches('/'));
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        }
        let root = HostRoot::at(&d).unwrap();
        (d, root)
    }

    #[test]
    fn words_split_like_httpd() {
        assert_eq!(split_args(r#"WSGIPythonHome "/srv/my app""#), vec!["WSGIPythonHome", "/srv/my app"]);
        assert_eq!(split_args(r#"a 'b c' "d \" e" f"#), vec!["a", "b c", "d \" e", "f"]);
        // A quote inside a word does not group, as in ap_getword_conf.
        assert_eq!(split_args(r#"python-home="/a b""#), vec!["python-home=\"/a", "b\""]);
        assert_eq!(split_args("  "), Vec::<String>::new());
        assert_eq!(split_args(r#""unterminated"#), vec!["unterminated"]);
    }

    #[test]
    fn continuations_keep_the_first_line() {
        let lines = logical_lines("A 1\nWSGIDaemonProcess app \\\n   python-home=/v \\\n   threads=5\nB\r\n");
        assert_eq!(lines[1].0, 2);
        assert_eq!(split_args(&lines[1].1), vec!["WSGIDaemonProcess", "app", "python-home=/v", "threads=5"]);
        assert_eq!(lines[2], (5, "B".to_owned()));
    }

    #[test]
    fn includes_sections_variables_and_case() {
        let (d, root) = tree(
            "inc",
            &[
                ("/etc/apache2/envvars", "unset HOME\nexport APACHE_LOG_DIR=/var/log/apache2$SUFFIX\nexport LANG=C\n"),
                (
                    "/etc/apache2/apache2.conf",
                    "# comment WSGIPythonHome /nope\nErrorLog ${APACHE_LOG_DIR}/error.log\nDefine VENVS /srv\nIncludeOptional mods-enabled/*.load\ninclude ports.conf\nIncludeOptional sites-enabled/*.conf\nIncludeOptional missing/*.conf\n",
                ),
                ("/etc/apache2/ports.conf", "Listen 80\n"),
                (
                    "/etc/apache2/mods-enabled/wsgi.load",
                    "loadmodule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so\n",
                ),
                (
                    "/etc/apache2/sites-enabled/a.conf",
                    "<VirtualHost *:80>\n  <IfModule mod_wsgi.c>\n    wsgidaemonprocess app \\\n      python-home=${VENVS}/app\n  </IfModule>\n  <IfModule !wsgi_module>\n    WSGIPythonHome /never\n  </IfModule>\n  <IfModule ssl_module>\n    WSGIPythonHome /nossl\n  </IfModule>\n</VirtualHost>\n",
                ),
                ("/etc/apache2/sites-enabled/b.conf.disabled", "WSGIPythonHome /disabled\n"),
            ],
        );
        let cfg = read(&root, Path::new("/etc/apache2/apache2.conf"), None);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let log = cfg.directives.iter().find(|d| d.is("ErrorLog")).unwrap();
        assert_eq!(log.args, vec!["/var/log/apache2/error.log"]);
        let (module, lm) = cfg.module("wsgi_module").unwrap();
        assert_eq!(module, PathBuf::from("/usr/lib/apache2/modules/mod_wsgi.so"));
        assert_eq!(lm.file, PathBuf::from("/etc/apache2/mods-enabled/wsgi.load"));
        let daemon = cfg.directives.iter().find(|d| d.is("WSGIDaemonProcess")).unwrap();
        assert_eq!(daemon.args, vec!["app", "python-home=/srv/app"]);
        assert_eq!((daemon.file.clone(), daemon.line), (PathBuf::from("/etc/apache2/sites-enabled/a.conf"), 3));
        assert_eq!(daemon.sections, vec!["VirtualHost *:80", "IfModule mod_wsgi.c"]);
        assert!(!cfg.directives.iter().any(|d| d.is("WSGIPythonHome")), "{:?}", cfg.directives);
        assert_eq!(cfg.files.len(), 4);
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn server_root_relative_paths_and_errors() {
        let (d, root) = tree(
            "rhel",
            &[
                (
                    "/etc/httpd/conf/httpd.conf",
                    "ServerRoot \"/etc/httpd\"\nInclude conf.modules.d/*.conf\nIncludeOptional conf.d/*.conf\nInclude conf/missing.conf\n<VirtualHost *:80>\n",
                ),
                (
                    "/etc/httpd/conf.modules.d/10-wsgi-python3.conf",
                    "<IfModule !mod_wsgi.c>\n    LoadModule wsgi_module modules/mod_wsgi_python3.so\n</IfModule>\n",
                ),
                ("/etc/httpd/conf.d/loop.conf", "Include conf.d/loop.conf\n"),
            ],
        );
        let cfg = read(&root, Path::new("/etc/httpd/conf/httpd.conf"), Some(PathBuf::from("/etc/httpd")));
        assert_eq!(cfg.module("wsgi_module").unwrap().0, PathBuf::from("/etc/httpd/modules/mod_wsgi_python3.so"));
        let errs: Vec<String> = cfg.errors.iter().map(|(p, m)| format!("{p}: {m}")).collect();
        assert!(errs.iter().any(|e| e.contains("loop")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("missing.conf")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("never closed")), "{errs:?}");
        let unreadable = read(&root, Path::new("/etc/none.conf"), None);
        assert_eq!(unreadable.errors.len(), 1);
        let _ = std::fs::remove_dir_all(d);
    }
}
