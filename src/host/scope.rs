//! Scope: which environments a request is about.
//!
//! A request names paths (`check /srv/site/venv`); its findings, and so its gate, must be
//! about the environments under those paths only. Most findings are about environments the
//! walk found there and are in scope by construction, but the configuration-driven families
//! (mod_wsgi, uWSGI, services, cron) read the whole host's configuration and learn about
//! environments anywhere, including ones that no longer exist. [`Scope::covers`] is the one
//! rule that decides, for every family, whether a path is in scope:
//!
//! - a path is in scope when it is, or lies below, one of the requested paths (component
//!   by component: `/srv/site` covers `/srv/site/venv`, not `/srv/site2/venv`);
//! - no requested path means `/`, which covers everything (under `--root`, everything in
//!   the root);
//! - both sides are compared lexically normalised (`.`/`..`/trailing `/` removed) and with
//!   their symlinks resolved inside the root, so `/srv/current/venv` is in scope of a request
//!   for `/srv/releases` when `current` links to a release there, and the reverse. A path
//!   that does not exist is resolved as far as it exists: a configured environment that is
//!   gone is in scope only when it would lie under a requested path;
//! - a path below an `--exclude`d directory is out of scope, as the walk would not have
//!   found an environment there. `--max-depth` bounds the walk, not the scope.

use crate::host::config::normalize;
use crate::host::paths::HostRoot;
use crate::report::Finding;
use globset::GlobSet;
use std::path::{Path, PathBuf};

/// The requested paths of a scan, as the scope rule compares them.
#[derive(Debug, Clone)]
pub struct Scope {
    root: HostRoot,
    /// Each requested path in its lexical and (when it exists) resolved form.
    bases: Vec<PathBuf>,
    excludes: GlobSet,
}

impl Scope {
    /// The scope of a scan of `requested` (absolute view paths; empty means `/`) inside
    /// `root`, without the directories `excludes` matches.
    pub fn new(root: &HostRoot, requested: &[PathBuf], excludes: GlobSet) -> Scope {
        let mut bases = Vec::new();
        let all = [PathBuf::from("/")];
        for p in if requested.is_empty() { &all[..] } else { requested } {
            let lexical = normalize(p);
            let resolved = resolve_existing(root, &lexical);
            for b in [lexical, resolved] {
                if !bases.contains(&b) {
                    bases.push(b);
                }
            }
        }
        Scope { root: root.clone(), bases, excludes }
    }

    /// Everything: the scope of a request without paths and exclusions.
    pub fn everything() -> Scope {
        Scope::new(&HostRoot::host(), &[], GlobSet::empty())
    }

    /// Whether an environment path (a view path, existing or not) is in scope.
    pub fn covers(&self, path: &Path) -> bool {
        let lexical = normalize(path);
        // The common case, every environment the walk found: no filesystem access.
        if self.lexically_covers(&lexical) {
            return true;
        }
        let resolved = resolve_existing(&self.root, &lexical);
        resolved != lexical && self.lexically_covers(&resolved)
    }

    /// Whether a finding is in scope: findings about an environment are when it is;
    /// findings about no environment (an expired ignore entry) are about the request itself.
    pub fn covers_finding(&self, f: &Finding) -> bool {
        f.venv.as_deref().is_none_or(|v| self.covers(Path::new(v)))
    }

    fn lexically_covers(&self, p: &Path) -> bool {
        self.bases.iter().any(|base| {
            p.starts_with(base)
                && (self.excludes.is_empty()
                    || !p.ancestors().take_while(|a| *a != base.as_path()).any(|a| self.excludes.is_match(a)))
        })
    }
}

/// `p` with the symlinks of its longest existing ancestor resolved inside the root and the
/// missing rest appended (`/srv/current/gone` -> `/srv/releases/3/gone`).
fn resolve_existing(root: &HostRoot, p: &Path) -> PathBuf {
    for anc in p.ancestors() {
        if let Ok(resolved) = root.resolve(anc) {
            let rest = p.strip_prefix(anc).unwrap_or(Path::new(""));
            return normalize(&resolved.join(rest));
        }
    }
    p.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scope(root: &HostRoot, paths: &[&str], exclude: &[&str]) -> Scope {
        let mut b = globset::GlobSetBuilder::new();
        for e in exclude {
            b.add(globset::Glob::new(e).unwrap());
        }
        Scope::new(root, &paths.iter().map(PathBuf::from).collect::<Vec<_>>(), b.build().unwrap())
    }

    #[test]
    fn paths_under_the_request_only() {
        let d = std::env::temp_dir().join(format!("venvaudit-scope-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for dir in ["srv/site/venv", "srv/site2/venv", "srv/releases/3/venv", "srv/other/venv"] {
            std::fs::create_dir_all(d.join(dir)).unwrap();
        }
        symlink("releases/3", d.join("srv/current")).unwrap();
        symlink("/srv/site/venv", d.join("srv/link-to-venv")).unwrap();
        let root = HostRoot::at(&d).unwrap();
        let yes = |s: &Scope, p: &str| assert!(s.covers(Path::new(p)), "{p} should be in scope");
        let no = |s: &Scope, p: &str| assert!(!s.covers(Path::new(p)), "{p} should be out of scope");

        // No paths: everything, existing or not.
        let all = scope(&root, &[], &[]);
        yes(&all, "/srv/other/venv");
        yes(&all, "/nowhere/venv");
        let all = Scope::everything();
        yes(&all, "/anything");

        // The venv itself, with a trailing slash or dots; not a sibling sharing a prefix.
        let one = scope(&root, &["/srv/site/venv/"], &[]);
        yes(&one, "/srv/site/venv");
        yes(&one, "/srv/site/./venv/");
        yes(&one, "/srv/site/venv/lib/python3.12/site-packages");
        no(&one, "/srv/site");
        no(&one, "/srv/site2/venv");
        no(&one, "/srv/other/venv");
        // Through a link naming it.
        yes(&one, "/srv/link-to-venv");

        // A parent directory covers what is below it, including paths that do not exist.
        let parent = scope(&root, &["/srv/site/../site"], &[]);
        yes(&parent, "/srv/site/venv");
        yes(&parent, "/srv/site/gone/venv");
        no(&parent, "/srv/gone/venv");
        no(&parent, "/srv/site2/venv");

        // Symlinks on either side.
        let releases = scope(&root, &["/srv/releases"], &[]);
        yes(&releases, "/srv/current/venv");
        yes(&releases, "/srv/current/gone-venv");
        let current = scope(&root, &["/srv/current"], &[]);
        yes(&current, "/srv/releases/3/venv");
        no(&current, "/srv/releases/4/venv");

        // Excluded directories below the request are out; the request itself is not judged.
        let ex = scope(&root, &["/srv"], &["**/other"]);
        yes(&ex, "/srv/site/venv");
        no(&ex, "/srv/other/venv");
        let ex = scope(&root, &["/srv/other"], &["**/other"]);
        yes(&ex, "/srv/other/venv");

        // Several requested paths.
        let two = scope(&root, &["/srv/site", "/srv/other/venv"], &[]);
        yes(&two, "/srv/other/venv");
        no(&two, "/srv/site2/venv");

        let f = |venv: Option<&str>| {
            Finding::new(crate::report::FindingId::Unused, crate::report::Severity::Error, venv, "m".into(), "r")
        };
        assert!(one.covers_finding(&f(None)));
        assert!(one.covers_finding(&f(Some("/srv/site/venv"))));
        assert!(!one.covers_finding(&f(Some("/srv/other/venv"))));
        let _ = std::fs::remove_dir_all(&d);
    }
}
