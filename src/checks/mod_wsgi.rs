//! `mod-wsgi-*`: can Apache's mod_wsgi host the environments its configuration names?
//!
//! mod_wsgi is linked against exactly one libpython. A `WSGIPythonHome` or
//! `WSGIDaemonProcess python-home=` naming an environment of another Python fails at request
//! time (`No module named 'encodings'`, or a crash); one made from another installation of
//! the same X.Y mostly works until a compiled package or the standard library disagrees.

use super::embed::{self, Embedded, Hosted, HostedVenv, Verdict};
use super::{Outcome, Servers};
use crate::host::config::Directive;
use crate::host::config::apache::{ApacheConfig, getword_conf};
use crate::host::paths::{HostRoot, display, normalize};
use crate::inspect::Inspected;
use crate::report::FindingId;
use crate::report::{Finding, ScanError, Severity, UsedBy};
use std::path::{Path, PathBuf};

/// A configured reference to a Python home.
#[derive(Debug, Clone)]
pub struct Reference<'a> {
    /// The directive holding it.
    pub directive: &'a Directive,
    /// `WSGIPythonHome`, `python-home`, `python-path`, `WSGIPythonPath`.
    pub option: &'static str,
    /// The path as configured (normalised view path).
    pub path: PathBuf,
    /// Daemon process group, for `WSGIDaemonProcess`.
    pub group: Option<String>,
}

/// Every Python home and path a configuration names.
pub fn references(cfg: &ApacheConfig) -> Vec<Reference<'_>> {
    let mut out = Vec::new();
    let abs = |p: &str| normalize(&Path::new("/").join(p));
    for d in &cfg.directives {
        if d.is("WSGIPythonHome") {
            if let Some(p) = d.args.first() {
                out.push(Reference { directive: d, option: "WSGIPythonHome", path: abs(p), group: None });
            }
        } else if d.is("WSGIPythonPath") {
            for p in d.args.iter().flat_map(|a| a.split(':')).filter(|p| !p.is_empty()) {
                out.push(Reference { directive: d, option: "WSGIPythonPath", path: abs(p), group: None });
            }
        } else if d.is("WSGIDaemonProcess") {
            let (name, options) = daemon_options(&d.raw);
            let group = Some(name).filter(|n| !n.is_empty());
            for (k, v) in options {
                let v = v.as_str();
                match k.to_ascii_lowercase().as_str() {
                    "python-home" => {
                        out.push(Reference { directive: d, option: "python-home", path: abs(v), group: group.clone() })
                    }
                    "python-path" => {
                        for p in v.split(':').filter(|p| !p.is_empty()) {
                            out.push(Reference {
                                directive: d,
                                option: "python-path",
                                path: abs(p),
                                group: group.clone(),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// Whether a reference's option adds to `sys.path` (its path lies in an environment) rather
/// than naming a home (its path is one).
fn is_sys_path(option: &str) -> bool {
    matches!(option, "python-path" | "WSGIPythonPath")
}

/// `WSGIDaemonProcess` arguments as mod_wsgi parses them (`wsgi_parse_option`): the group
/// name is a word, then `name=value` options whose value may be quoted (`python-home="/a b"`).
/// Parsing stops at the first malformed option, where httpd would refuse the configuration.
pub fn daemon_options(raw: &str) -> (String, Vec<(String, String)>) {
    let (group, mut rest) = getword_conf(raw);
    let mut options = Vec::new();
    loop {
        let s = rest.trim_start();
        let end = s.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(s.len());
        if end == 0 || !s[end..].starts_with('=') {
            break;
        }
        let (value, after) = getword_conf(&s[end + 1..]);
        options.push((s[..end].to_owned(), value));
        rest = after;
    }
    (group, options)
}

/// Run the family over the loaded Apache configurations (or, with `--mod-wsgi`, against that
/// module): every configured home and `sys.path` entry in an environment is judged against
/// the mod_wsgi the configuration loads.
pub fn run(root: &HostRoot, venvs: &[Inspected], servers: &Servers) -> Outcome {
    let mut out = Outcome::default();
    let forced = servers.mod_wsgi.as_ref();
    let mut judged: Vec<PathBuf> = Vec::new();
    for server in &servers.apache {
        let cfg = &server.config;
        out.errors.extend(cfg.errors.iter().map(|(p, m)| ScanError { path: p.clone(), message: m.clone() }));
        let module: Option<(Embedded, Option<&Directive>)> = match (forced, &server.mod_wsgi) {
            (Some(e), _) => Some((e.clone(), None)),
            (None, Some(m)) => match &m.embedded {
                Ok(e) => Some((e.clone(), Some(&m.directive))),
                Err(e) => {
                    out.errors.push(ScanError {
                        path: display(&m.path),
                        message: format!("mod_wsgi loaded at {}: {e}", m.directive.location()),
                    });
                    None
                }
            },
            (None, None) => None,
        };
        for r in references(cfg) {
            let Some((venv_path, hosted)) = servers.hosted.named(&r.path, !is_sys_path(r.option)) else { continue };
            if let Hosted::Venv(v) = hosted {
                out.used_by.push((
                    display(&v.path),
                    UsedBy {
                        kind: crate::report::UsageKind::ModWsgi,
                        file: display(&r.directive.file),
                        line: r.directive.line,
                        group: r.group.clone(),
                    },
                ));
                judged.push(v.path.clone());
            }
            if let Some(f) = judge_reference(root, &r, venv_path, hosted, module.as_ref()) {
                out.findings.push(f);
            }
        }
    }
    // `--mod-wsgi` alone asks "would these environments run under that module?".
    if let Some(e) = forced {
        for v in venvs.iter().filter(|v| !judged.contains(&v.path)) {
            let hosted = Hosted::Venv(Box::new(HostedVenv::of(v)));
            if let Some(f) = verdict_finding(root, &v.venv.path, &hosted, e, None, None) {
                out.findings.push(f);
            }
        }
    }
    out
}

/// Every configured home (resolved as what it is) and `sys.path` entry (resolved as the
/// environment it lies in) of some configurations, for
/// [`crate::inspect::hosted::HostedEnvs::resolve`].
pub fn paths_named(configs: &[ApacheConfig]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut homes, mut entries) = (Vec::new(), Vec::new());
    for r in configs.iter().flat_map(references) {
        if is_sys_path(r.option) { entries.push(r.path) } else { homes.push(r.path) }
    }
    (homes, entries)
}

fn judge_reference(
    root: &crate::host::paths::HostRoot,
    r: &Reference,
    venv_path: &Path,
    hosted: &Hosted,
    module: Option<&(Embedded, Option<&Directive>)>,
) -> Option<Finding> {
    let venv = display(venv_path);
    if let Hosted::Missing(reason) = hosted {
        let f = Finding::new(
            FindingId::ModWsgiVenvMissing,
            Severity::Error,
            Some(&venv),
            format!("{}: {reason}", describe(r)),
            "Create the environment at that path, or point the directive at an existing one, then reload Apache",
        );
        return Some(with_location(f, r));
    }
    let (emb, load) = module?;
    verdict_finding(root, &venv, hosted, emb, Some(r), *load)
}

fn verdict_finding(
    root: &crate::host::paths::HostRoot,
    venv: &str,
    hosted: &Hosted,
    emb: &Embedded,
    r: Option<&Reference>,
    load: Option<&Directive>,
) -> Option<Finding> {
    let prefix = r.map(describe).unwrap_or_else(|| venv.to_owned());
    let module = display(&emb.module);
    let f = match embed::judge(root, hosted, emb) {
        Verdict::Ok => return None,
        Verdict::Abi(xy, why) => Finding::new(
            FindingId::ModWsgiAbiMismatch,
            Severity::Error,
            Some(venv),
            format!("{prefix} {why}, but mod_wsgi {module} embeds {}", emb.describe()),
            "Recreate the environment with the Python mod_wsgi embeds, or build mod_wsgi for the environment's Python (`pip install mod_wsgi` in it, then load the module `mod_wsgi-express module-config` prints)",
        )
        .detail("venv_python", xy),
        Verdict::Foreign(venv_prefix, mod_prefix) => Finding::new(
            FindingId::ModWsgiForeignInstall,
            Severity::Warning,
            Some(venv),
            format!(
                "{prefix} was made from the Python installed in {}, but mod_wsgi {module} loads libpython from {}",
                display(&venv_prefix),
                display(&mod_prefix)
            ),
            "Recreate the environment from the interpreter of the installation mod_wsgi links (its libpython's prefix), so compiled packages and the standard library match",
        )
        .detail("venv_prefix", display(&venv_prefix))
        .detail("mod_wsgi_prefix", display(&mod_prefix)),
    };
    let mut f = f
        .detail("mod_wsgi", module)
        .detail("mod_wsgi_python", emb.xy.clone())
        .detail("libpython", emb.libpython.as_ref().map(|p| display(p)));
    if let Some(d) = load {
        f = f.detail("load_module", d.location());
    }
    Some(match r {
        Some(r) => with_location(f, r),
        None => f,
    })
}

/// `sites-enabled/app.conf:12: WSGIDaemonProcess app python-home=/srv/app` for messages.
fn describe(r: &Reference) -> String {
    let d = r.directive;
    match &r.group {
        Some(g) => format!("{}: {} {g} {}={}", d.location(), d.name, r.option, display(&r.path)),
        None => format!("{}: {} {}", d.location(), d.name, display(&r.path)),
    }
}

fn with_location(f: Finding, r: &Reference) -> Finding {
    let d = r.directive;
    f.detail("file", display(&d.file))
        .detail("line", d.line)
        .detail("directive", d.name.clone())
        .detail("option", r.option)
        .detail("path", display(&r.path))
        .detail("group", r.group.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_options_parse_like_mod_wsgi() {
        let (g, o) = daemon_options(r#"app python-home="/srv/my app" threads=5 display-name=%{GROUP} bad"#);
        assert_eq!(g, "app");
        let want = [("python-home", "/srv/my app"), ("threads", "5"), ("display-name", "%{GROUP}")];
        assert_eq!(o, want.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec());
        let (g, o) = daemon_options("solo");
        assert_eq!((g.as_str(), o.len()), ("solo", 0));
    }

    #[test]
    fn references_from_directives() {
        let d = |name: &str, args: &[&str]| Directive {
            name: name.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            raw: args.join(" "),
            file: PathBuf::from("/etc/apache2/sites-enabled/a.conf"),
            line: 3,
            sections: vec![],
        };
        let cfg = ApacheConfig {
            directives: vec![
                d("WSGIPythonHome", &["/srv/a/"]),
                d(
                    "wsgidaemonprocess",
                    &[
                        "app",
                        "processes=2",
                        "Python-Home=\"/srv/b\"",
                        "python-path=/srv/code:/srv/c/lib/python3.11/site-packages",
                    ],
                ),
                d("WSGIPythonPath", &["/srv/d/lib/python3.12/site-packages"]),
            ],
            ..ApacheConfig::default()
        };
        let refs = references(&cfg);
        let got: Vec<(&str, String, Option<String>)> =
            refs.iter().map(|r| (r.option, display(&r.path), r.group.clone())).collect();
        assert_eq!(
            got,
            vec![
                ("WSGIPythonHome", "/srv/a".into(), None),
                ("python-home", "/srv/b".into(), Some("app".into())),
                ("python-path", "/srv/code".into(), Some("app".into())),
                ("python-path", "/srv/c/lib/python3.11/site-packages".into(), Some("app".into())),
                ("WSGIPythonPath", "/srv/d/lib/python3.12/site-packages".into(), None),
            ]
        );
    }
}
