//! `uwsgi-*`: can uWSGI's python plugin host the environments its app configurations name?
//! The plugin (`python3_plugin.so`, `python311_plugin.so`) is linked against one libpython,
//! exactly like mod_wsgi.

use super::embed::{self, Embedded, Hosted, Resolver, Verdict};
use super::{CheckContext, Outcome};
use crate::host::config::uwsgi::{self, HOME_KEYS, UwsgiApp};
use crate::host::config::{Directive, normalize};
use crate::host::paths::display;
use crate::report::FindingId;
use crate::report::{Finding, ScanError, Severity, UsedBy};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

/// Options that add to `sys.path`; an entry inside an environment means that environment is used.
const PATH_KEYS: &[&str] = &["pythonpath", "python-path", "pp"];

/// Run the family over the packaged app directories and `uwsgi_config` files.
pub fn run(ctx: &CheckContext, resolver: &Resolver) -> Result<Outcome> {
    let mut out = Outcome::default();
    // Configuration files are read under the configuration root; the plugins and
    // environments they name are the scanned system's.
    let config_root = &ctx.scan.config_root;
    let explicit: Vec<PathBuf> = ctx.req.uwsgi_config.iter().map(|f| crate::view_path(config_root, f)).collect();
    for f in &explicit {
        if !config_root.exists(f) {
            bail!("--uwsgi-config {}: no such file", display(f));
        }
    }
    let (apps, errors) = uwsgi::load(config_root, &explicit);
    out.errors.extend(errors.into_iter().map(|(path, message)| ScanError { path, message }));
    for app in &apps {
        let plugin = python_plugin(ctx, app, &mut out.errors);
        for d in &app.options {
            let key = d.name.replace('_', "-");
            let Some(value) = d.args.first().filter(|v| !v.is_empty()) else { continue };
            let path = normalize(&Path::new("/").join(value));
            let (venv_path, hosted) = if HOME_KEYS.contains(&key.as_str()) {
                (path.clone(), resolver.home(ctx, &path))
            } else if PATH_KEYS.contains(&key.as_str()) {
                match resolver.containing(ctx, &path) {
                    Some(x) => x,
                    None => continue,
                }
            } else {
                continue;
            };
            if let Hosted::Venv(v) = &hosted {
                out.used_by.push((
                    display(&v.path),
                    UsedBy {
                        kind: "uwsgi".into(),
                        file: display(&d.file),
                        line: d.line,
                        group: Some(app.name.clone()),
                    },
                ));
            }
            out.findings.extend(judge(ctx, app, d, &key, &venv_path, &hosted, plugin.as_ref()));
        }
    }
    Ok(out)
}

/// The python plugin an app loads, with the line that names it.
fn python_plugin<'a>(
    ctx: &CheckContext,
    app: &'a UwsgiApp,
    errors: &mut Vec<ScanError>,
) -> Option<(Embedded, &'a Directive)> {
    let root = &ctx.scan.root;
    for (name, d) in uwsgi::plugins(app) {
        let base = name.rsplit('/').next().unwrap_or(&name);
        if !base.starts_with("python") {
            continue;
        }
        let Some(file) = uwsgi::plugin_file(root, app, &name) else {
            errors.push(ScanError {
                path: d.location(),
                message: format!("uWSGI plugin {name} not found in the plugin directories"),
            });
            continue;
        };
        match embed::inspect_module(root, &ctx.scan.host.libs, &file) {
            Ok(e) => return Some((e, d)),
            Err(e) => errors.push(ScanError { path: display(&file), message: e }),
        }
    }
    None
}

fn judge(
    ctx: &CheckContext,
    app: &UwsgiApp,
    d: &Directive,
    key: &str,
    venv_path: &Path,
    hosted: &Hosted,
    plugin: Option<&(Embedded, &Directive)>,
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
        let f = match embed::judge(&ctx.scan.root, hosted, emb) {
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
