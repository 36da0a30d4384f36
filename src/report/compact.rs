//! Detail levels of a report (`detail: full | compact | summary`): what each environment
//! keeps. Compact is what a fleet caches: small (a few KB a venv) yet able to answer "are we
//! running X?" from the cache alone (`venvaudit query --from-facts`).

use super::Detail;
use super::{InUse, Report, UsedBy, Venv};
use std::collections::BTreeSet;

/// Trim a finished report to `detail`; `packages: false` drops package lists at any level.
pub fn apply(report: &mut Report, detail: Detail, packages: bool) {
    report.detail = detail;
    if detail == Detail::Full {
        if !packages {
            for v in &mut report.venvs {
                v.packages = None;
            }
        }
        return;
    }
    // Small enough to cache for thousands of hosts: no per-process, per-file or evidence lists.
    for v in &mut report.venvs {
        if detail == Detail::Compact {
            compact_names(v, packages);
        }
        v.packages = None;
        v.python.evidence.clear();
        v.site_packages.clear();
        v.system_site_packages.clear();
        v.in_use.clear();
        v.used_by.clear();
    }
    report.host.evidence.clear();
}

/// Fill the compact fields from the full ones, before those are dropped.
fn compact_names(v: &mut Venv, packages: bool) {
    if packages {
        let dists: BTreeSet<String> =
            v.packages.iter().flatten().map(|p| format!("{}=={}", p.normalized_name, p.version)).collect();
        v.distributions = Some(dists.into_iter().collect());
    }
    v.used_by_names = Some(v.used_by.iter().map(used_by_name).collect::<BTreeSet<_>>().into_iter().collect());
    v.in_use_names = Some(v.in_use.iter().map(in_use_name).collect::<BTreeSet<_>>().into_iter().collect());
}

/// `kind:name`: the process group or program when the directive names one, else the file's
/// base name (a systemd unit file is the unit's name).
fn used_by_name(u: &UsedBy) -> String {
    let name = u.group.clone().unwrap_or_else(|| base_name(&u.file).to_owned());
    format!("{}:{name}", u.kind.as_str())
}

/// The systemd unit of a process, else its program: for `python script` or `python -m mod`
/// the script or module, since `python` alone says nothing.
fn in_use_name(p: &InUse) -> String {
    if let Some(unit) = &p.unit {
        return unit.clone();
    }
    let mut words = p.cmdline.split_whitespace();
    let Some(first) = words.next().map(base_name) else {
        return String::from("?");
    };
    if first.starts_with("python") || first.starts_with("pypy") {
        let mut rest = words.skip_while(|w| w.starts_with('-') && *w != "-m");
        match rest.next() {
            Some("-m") => {
                if let Some(m) = rest.next() {
                    return format!("{first} -m {m}");
                }
            }
            Some(script) => return base_name(script).to_owned(),
            None => {}
        }
    }
    first.to_owned()
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').find(|s| !s.is_empty()).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::UsageKind;

    fn proc(cmdline: &str, unit: Option<&str>) -> InUse {
        InUse {
            pid: 1,
            user: None,
            cmdline: cmdline.into(),
            started_at: None,
            unit: unit.map(Into::into),
            reasons: vec![],
        }
    }

    #[test]
    fn process_names() {
        assert_eq!(in_use_name(&proc("/srv/v/bin/python /srv/v/bin/gunicorn app:app", None)), "gunicorn");
        assert_eq!(in_use_name(&proc("/srv/v/bin/python3.12 -u -m celery worker", None)), "python3.12 -m celery");
        assert_eq!(in_use_name(&proc("/srv/v/bin/uwsgi --ini x", None)), "uwsgi");
        assert_eq!(in_use_name(&proc("/srv/v/bin/python", Some("app.service"))), "app.service");
        assert_eq!(in_use_name(&proc("", None)), "?");
    }

    #[test]
    fn service_names() {
        let u = |kind: UsageKind, file: &str, group: Option<&str>| UsedBy {
            kind,
            file: file.into(),
            line: 1,
            group: group.map(Into::into),
        };
        assert_eq!(
            used_by_name(&u(UsageKind::Systemd, "/etc/systemd/system/app.service", None)),
            "systemd:app.service"
        );
        assert_eq!(
            used_by_name(&u(UsageKind::ModWsgi, "/etc/apache2/sites-enabled/a.conf", Some("app"))),
            "mod_wsgi:app"
        );
    }
}
