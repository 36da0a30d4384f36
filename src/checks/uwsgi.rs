//! `uwsgi-*`: can uWSGI's python plugin host the environments its app configurations name?
//! The plugin (`python3_plugin.so`, `python311_plugin.so`) is linked against one libpython,
//! exactly like mod_wsgi.

use super::embed::{self, Embedded, Hosted, Verdict};
use super::{Outcome, Servers, UwsgiServer};
use crate::host::config::Directive;
use crate::host::config::uwsgi::{HOME_KEYS, UwsgiApp};
use crate::host::paths::{HostRoot, display, normalize};
use crate::report::FindingId;
use crate::report::{Finding, Severity, UsedBy};
use std::path::{Path, PathBuf};

/// Options that add to `sys.path`; an entry inside an environment means that environment is used.
const PATH_KEYS: &[&str] = &["pythonpath", "python-path", "pp"];

/// One option of an app naming a Python home or a `sys.path` entry.
pub struct Reference<'a> {
    /// The option's line.
    pub directive: &'a Directive,
    /// Its name as uWSGI reads it (`_` spelled `-`).
    pub key: String,
    /// The path it names (normalised view path).
    pub path: PathBuf,
    /// Whether the path is a home (`virtualenv`, `home`) rather than a `sys.path` entry.
    pub is_home: bool,
}

/// Every home and `sys.path` entry an app configuration names.
pub fn references(app: &UwsgiApp) -> impl Iterator<Item = Reference<'_>> {
    app.options.iter().filter_map(|d| {
        let key = d.name.replace('_', "-");
        let value = d.args.first().filter(|v| !v.is_empty())?;
        let is_home = HOME_KEYS.contains(&key.as_str());
        if !is_home && !PATH_KEYS.contains(&key.as_str()) {
            return None;
        }
        Some(Reference { directive: d, key, path: normalize(&Path::new("/").join(value)), is_home })
    })
}

/// Every configured home and `sys.path` entry of some apps, for
/// [`crate::inspect::hosted::HostedEnvs::resolve`].
pub fn paths_named(apps: &[UwsgiApp]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut homes, mut entries) = (Vec::new(), Vec::new());
    for r in apps.iter().flat_map(references) {
        if r.is_home { homes.push(r.path) } else { entries.push(r.path) }
    }
    (homes, entries)
}

/// Run the family over the loaded app configurations: every configured home and `sys.path`
/// entry in an environment is judged against the python plugin the app loads.
pub fn run(root: &HostRoot, servers: &Servers) -> Outcome {
    let mut out = Outcome::default();
    out.errors.extend(servers.uwsgi_errors.iter().cloned());
    for UwsgiServer { app, plugin } in &servers.uwsgi {
        for r in references(app) {
            let Some((venv_path, hosted)) = servers.hosted.named(&r.path, r.is_home) else { continue };
            let d = r.directive;
            if let Hosted::Venv(v) = hosted {
                out.used_by.push((
                    display(&v.path),
                    UsedBy {
                        kind: crate::report::UsageKind::Uwsgi,
                        file: display(&d.file),
                        line: d.line,
                        group: Some(app.name.clone()),
                    },
                ));
            }
            out.findings.extend(judge(root, app, d, &r.key, venv_path, hosted, plugin.as_ref()));
        }
    }
    out
}

fn judge(
    root: &HostRoot,
    app: &UwsgiApp,
    d: &Directive,
    key: &str,
    venv_path: &Path,
    hosted: &Hosted,
    plugin: Option<&(Embedded, Directive)>,
) -> Option<Finding> {
    let venv = display(venv_path);
    let head = format!("{}: {key} = {}", d.location(), d.args[0]);
    let f = if let Hosted::Missing(reason) = hosted {
        Finding::new(
            FindingId::UwsgiVenvMissing,
            Severity::Error,
            Some(&venv),
            format!("{head}: {reason}"),
            "Create the environment at that path, or point the option at an existing one, then restart the app",
        )
    } else {
        let (emb, plugin_line) = plugin?;
        let f = match embed::judge(root, hosted, emb) {
            Verdict::Ok => return None,
            Verdict::Abi(xy, why) => Finding::new(
                FindingId::UwsgiAbiMismatch,
                Severity::Error,
                Some(&venv),
                format!("{head} {why}, but the uWSGI plugin {} embeds {}", display(&emb.module), emb.describe()),
                "Recreate the environment with the Python the plugin embeds, or load the python plugin built for the environment's Python (e.g. `plugins = python312`)",
            )
            .detail("venv_python", xy),
            Verdict::Foreign(vp, mp) => Finding::new(
                FindingId::UwsgiForeignInstall,
                Severity::Warning,
                Some(&venv),
                format!("{head} was made from the Python installed in {}, but the uWSGI plugin loads libpython from {}", display(&vp), display(&mp)),
                "Recreate the environment from the interpreter of the installation the plugin links",
            )
            .detail("venv_prefix", display(&vp))
            .detail("plugin_prefix", display(&mp)),
        };
        f.detail("plugin", display(&emb.module))
            .detail("plugin_python", emb.xy.clone())
            .detail("plugin_line", plugin_line.location())
    };
    Some(
        f.detail("file", display(&d.file)).detail("line", d.line).detail("option", key).detail("app", app.name.clone()),
    )
}
