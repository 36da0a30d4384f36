//! `stale-process`, `service-venv-missing` and `unused`: findings from what uses each
//! environment (see `crate::inspect::usage`).

use crate::inspect::Inspected;
use crate::inspect::usage::{Usage, owning_distribution};
use crate::report::FindingId;
use crate::report::{Finding, Severity};
use serde_json::json;
use std::time::Duration;

/// Slack for comparing file mtimes with process start times: boot time is only known to
/// the second, so a change within a second of the start is not counted.
const CLOCK_SLACK: Duration = Duration::from_secs(1);

/// Usage findings over all environments.
pub fn check(venvs: &[Inspected], usage: &Usage) -> Vec<Finding> {
    let mut out = Vec::new();
    for (v, u) in venvs.iter().zip(&usage.per_venv) {
        let path = v.venv.path.as_str();
        for pu in &u.processes {
            let p = &pu.process;
            let mut dists: Vec<String> = Vec::new();
            for d in &pu.deleted {
                if let Some(name) = owning_distribution(u, &v.site_packages, d) {
                    dists.push(name);
                }
            }
            let mut changed_after_start = false;
            if let Some(started) = p.started {
                for s in &u.dist_stamps {
                    if s.modified > started + CLOCK_SLACK {
                        dists.push(s.name.clone());
                    }
                }
                changed_after_start = u.site_packages_modified.is_some_and(|m| m > started + CLOCK_SLACK);
            }
            dists.sort();
            dists.dedup();
            if dists.is_empty() && pu.deleted.is_empty() && !changed_after_start {
                continue;
            }
            let who = match &p.unit {
                Some(unit) => format!("process {} ({unit})", p.pid),
                None => format!("process {}", p.pid),
            };
            let what =
                if dists.is_empty() { "distributions were removed from it".to_owned() } else { dists.join(", ") };
            let remediation = match p.unit.as_deref().filter(|u| u.ends_with(".service")) {
                Some(unit) => format!("Restart it: systemctl restart {unit}"),
                None => format!("Restart process {} so it loads the installed code", p.pid),
            };
            let mut f = Finding::new(
                FindingId::StaleProcess,
                Severity::Warning,
                Some(path),
                format!("{who} runs code of {path} that changed after it started: {what}"),
                &remediation,
            )
            .detail("pid", p.pid)
            .detail("unit", json!(p.unit))
            .detail("cmdline", crate::parse::redact::redact_cmdline(&p.cmdline))
            .detail("started_at", json!(p.started.map(crate::time::rfc3339)))
            .detail("distributions", json!(dists))
            .detail(
                "deleted_files",
                json!(pu.deleted.iter().map(|d| crate::host::paths::display(d)).collect::<Vec<_>>()),
            )
            .detail("site_packages_changed", changed_after_start);
            if dists.len() == 1 {
                f = f.with_package(&dists[0]);
            }
            out.push(f);
        }
        let complete_view = usage.view.complete();
        if complete_view && u.processes.is_empty() && u.used_by.is_empty() && v.venv.used_by.is_empty() {
            out.push(Finding::new(
                FindingId::Unused,
                Severity::Info,
                Some(path),
                format!("{path} is used by no running process and referenced by no service, cron job or web server configuration"),
                "A candidate for clean-up: confirm with its owner, then remove it",
            ));
        }
    }
    for m in &usage.missing {
        let r = &m.reference;
        let missing = crate::host::paths::display(&m.path);
        let file = crate::host::paths::display(&r.file);
        let unit = r.group.clone().unwrap_or_default();
        out.push(
            Finding::new(
                FindingId::ServiceVenvMissing,
                Severity::Error,
                Some(&missing),
                format!(
                    "{} {}{} at {file}:{} points at {missing}, which does not exist",
                    r.kind,
                    if unit.is_empty() { "entry" } else { "unit " },
                    unit,
                    r.line
                ),
                "Recreate the environment at that path or fix the service configuration",
            )
            .detail("kind", r.kind)
            .detail("file", file.as_str())
            .detail("line", r.line)
            .detail("group", json!(r.group))
            .detail("path", missing.as_str()),
        );
    }
    out
}
