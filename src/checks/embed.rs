//! What mod_wsgi and uWSGI's python plugin have in common: a server module linked against
//! exactly one libpython hosts environments named in configuration. This module judges the
//! embedded Python ([`Embedded`], read by the engine from the module's ELF headers) against
//! what a configured path refers to ([`HostedEnvs`], resolved by the engine too).

use crate::host::paths::HostRoot;
pub use crate::inspect::embedded::{Embedded, install_prefix};
pub use crate::inspect::hosted::{Hosted, HostedEnvs, HostedVenv};
use crate::report::major_minor;
use std::path::{Path, PathBuf};

/// The verdict on hosting an environment in an embedded Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It works.
    Ok,
    /// Another X.Y or implementation: (venv's X.Y, why).
    Abi(String, String),
    /// Same X.Y, another installation: (venv's base prefix, module's prefix).
    Foreign(PathBuf, PathBuf),
}

/// Judge a hosted environment (or installation) against an embedded Python.
pub fn judge(root: &HostRoot, hosted: &Hosted, emb: &Embedded) -> Verdict {
    let Some(want) = emb.xy.as_deref() else { return Verdict::Ok };
    let (xy, implementation, prefix) = match hosted {
        Hosted::Missing(_) => return Verdict::Ok,
        Hosted::Installation { prefix, xys } => {
            let xy = if xys.iter().any(|x| x == want) { want.to_owned() } else { xys.join(", ") };
            (xy, None, Some(prefix.clone()))
        }
        Hosted::Venv(v) => {
            let py = &v.python;
            let Some(version) = py.version.as_deref() else { return Verdict::Ok };
            (major_minor(version), py.implementation.clone(), venv_base_prefix(root, v))
        }
    };
    if implementation.as_deref().is_some_and(|i| i.eq_ignore_ascii_case("pypy")) {
        return Verdict::Abi(xy, "is a PyPy environment".into());
    }
    if xy != want {
        let what = if matches!(hosted, Hosted::Installation { .. }) { "installation" } else { "environment" };
        return Verdict::Abi(xy.clone(), format!("is a Python {xy} {what}"));
    }
    if let (Some(p), Some(ep)) = (prefix, &emb.prefix) {
        let canon = |x: &Path| root.resolve(x).unwrap_or_else(|_| x.to_path_buf());
        if canon(&p) != canon(ep) {
            return Verdict::Foreign(p, ep.clone());
        }
    }
    Verdict::Ok
}

/// The installation prefix of a venv's base interpreter (via its libpython when shared).
fn venv_base_prefix(root: &HostRoot, v: &HostedVenv) -> Option<PathBuf> {
    let py = &v.python;
    if let Some(lp) = py.libpython.as_ref().and_then(|l| l.path.as_ref()) {
        let p = PathBuf::from(lp);
        return install_prefix(&root.resolve(&p).unwrap_or(p));
    }
    py.base_executable.as_ref().filter(|_| py.base_exists).and_then(|b| {
        let p = PathBuf::from(b);
        install_prefix(&root.resolve(&p).unwrap_or(p))
    })
}
