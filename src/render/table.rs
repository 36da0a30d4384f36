//! The human view: one line per environment, then the findings.

use crate::report::Report;
use crate::report::Severity;
use std::fmt::Write;

/// Info findings of one id listed one per line before they are only counted.
const MAX_INFO_LINES: usize = 10;

/// Text from the scanned system (paths, messages that quote them, unit names) for a terminal:
/// control characters are shown as escapes, so a directory named `\x1b[31m` cannot recolour
/// the terminal and one with a newline cannot forge a row.
pub fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Render a report as a plain-text table.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    if let Some(a) = &report.artifact {
        render_artifact(a, &mut out);
    }
    let rows: Vec<[String; 6]> = report
        .venvs
        .iter()
        .map(|v| {
            let py = format!(
                "{} {}",
                v.python.implementation.as_deref().unwrap_or("?"),
                v.python.version.as_deref().unwrap_or("?")
            );
            let mut units: Vec<String> = v
                .in_use
                .iter()
                .map(|p| p.unit.clone().unwrap_or_else(|| format!("pid {}", p.pid)))
                .chain(v.used_by.iter().map(|u| u.group.clone().unwrap_or_else(|| u.kind.as_str().to_owned())))
                .collect();
            units.sort();
            units.dedup();
            let in_use = match (v.in_use.len(), units.len()) {
                (0, 0) => "-".to_owned(),
                (n, _) if units.len() > 3 => format!("{n} procs, {} refs", units.len()),
                _ => units.join(","),
            };
            [
                v.path.clone(),
                v.kind.as_str().to_owned(),
                py,
                v.package_count.to_string(),
                in_use,
                v.health.as_str().to_owned(),
            ]
            .map(|c| esc(&c).into_owned())
        })
        .collect();
    let header = ["PATH", "KIND", "PYTHON", "PACKAGES", "IN USE", "HEALTH"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ", w = widths[i]);
            }
        }
        s.trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(header));
    for r in &rows {
        let _ = writeln!(out, "{}", line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\n{} environments, {} packages; findings: {} error, {} warning, {} info{}",
        s.venvs,
        s.packages,
        s.error,
        s.warning,
        s.info,
        if s.ignored > 0 { format!(", {} ignored", s.ignored) } else { String::new() }
    );
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\nFINDINGS");
        // Info findings (e.g. `unused` on a big fleet) would bury errors: above a handful of
        // one id they are counted, not listed; the JSON has them all.
        let mut info_counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for f in report.findings.iter().filter(|f| f.severity == Severity::Info) {
            *info_counts.entry(f.id.as_str()).or_default() += 1;
        }
        for f in &report.findings {
            if f.severity == Severity::Info && info_counts[f.id.as_str()] > MAX_INFO_LINES {
                continue;
            }
            let tag = if f.ignored.is_some() { " (ignored)" } else { "" };
            // Say which environment, unless the message already does.
            let venv = match &f.venv {
                Some(v) if !f.message.contains(v.as_str()) => format!(" [{v}]"),
                _ => String::new(),
            };
            let _ = writeln!(out, "{:<7} {}{}: {}{}", f.severity.as_str(), f.id, tag, esc(&f.message), esc(&venv));
        }
        for (id, n) in info_counts.iter().filter(|(_, n)| **n > MAX_INFO_LINES) {
            let _ = writeln!(out, "info    {id}: {n} environments (listed in --format json)");
        }
    }
    for w in &report.warnings {
        let _ = writeln!(out, "\nwarning: {}", esc(w));
    }
    if !report.errors.is_empty() {
        let _ = writeln!(out, "\nNOT READ");
        for e in &report.errors {
            let _ = writeln!(out, "{}: {}", esc(&e.path), esc(&e.message));
        }
    }
    out
}

/// Render a query result: one line per match.
pub fn render_query(r: &crate::query::QueryResult) -> String {
    let mut out = String::new();
    if r.matches.is_empty() {
        let _ = writeln!(out, "no match for {} in {} environments", esc(&r.specs.join(", ")), r.venvs_scanned);
        return out;
    }
    for m in &r.matches {
        let _ = writeln!(out, "{}  {} {}  (matches {})", esc(&m.venv), esc(&m.package), esc(&m.version), esc(&m.spec));
    }
    let _ = writeln!(out, "\n{} matches in {} environments scanned", r.matches.len(), r.venvs_scanned);
    out
}

/// `check-artifact`'s target and selection, before the findings.
fn render_artifact(a: &crate::report::Artifact, out: &mut String) {
    let t = &a.target;
    let _ = writeln!(
        out,
        "target ({}): {} {} {}{} {} {}  best tag {}",
        esc(&t.source),
        esc(&t.implementation),
        esc(t.version.as_deref().unwrap_or("?")),
        esc(t.arch.as_deref().unwrap_or("?")),
        if t.free_threaded { " free-threaded" } else { "" },
        esc(t.libc.as_deref().unwrap_or("?")),
        esc(t.libc_version.as_deref().unwrap_or("?")),
        esc(t.best_tags.first().map_or("-", String::as_str)),
    );
    let _ = writeln!(out, "artefact: {} ({}), {} wheels selected", esc(&a.path), esc(&a.kind), a.selected.len());
    for s in &a.selected {
        let _ = writeln!(out, "  {} {}  {}  {}", esc(&s.name), esc(&s.version), esc(&s.tag), esc(&s.file));
    }
    for s in &a.skipped {
        let _ =
            writeln!(out, "  skipped {} {}: {}", esc(&s.name), esc(s.version.as_deref().unwrap_or("")), esc(&s.why));
    }
    if let Some(c) = &a.changes {
        let _ = writeln!(
            out,
            "changes to {}: {} new, {} upgraded, {} downgraded, {} unchanged, {} not in the artefact",
            esc(&c.venv),
            c.install.len(),
            c.upgrade.len(),
            c.downgrade.len(),
            c.unchanged,
            c.not_in_artifact.len()
        );
    }
    out.push('\n');
}

/// `query --from-facts` as text: one line per match, then the hosts not answered.
pub fn render_fleet(r: &crate::fleet::FleetResult) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for m in &r.matches {
        let _ = writeln!(
            out,
            "{}  {}  {} {}  (matches {})",
            esc(&m.host),
            esc(&m.venv),
            esc(&m.normalized_name),
            esc(&m.version),
            esc(&m.spec)
        );
    }
    let hosts: std::collections::BTreeSet<&str> = r.matches.iter().map(|m| m.host.as_str()).collect();
    let _ = writeln!(
        out,
        "{}{} matches on {} hosts; {} hosts and {} environments answered",
        if r.matches.is_empty() { "" } else { "\n" },
        r.matches.len(),
        hosts.len(),
        r.hosts_answered,
        r.venvs_scanned
    );
    if !r.hosts_unknown.is_empty() {
        let _ = writeln!(out, "\nno answer from {} hosts:", r.hosts_unknown.len());
        for u in &r.hosts_unknown {
            let reason =
                serde_json::to_value(u.reason).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let _ = writeln!(out, "{}  {}: {}", esc(&u.host), reason, esc(&u.message));
        }
    }
    for e in &r.errors {
        let _ = writeln!(out, "error: {}: {}", esc(&e.path), esc(&e.message));
    }
    out
}

/// Render a remediation plan: one block per step (what, why, the command or what blocks it,
/// the restarts), then the restarts and counts.
pub fn render_plan(p: &crate::plan::Plan) -> String {
    use crate::plan::StepStatus;
    let mut out = String::new();
    for s in &p.steps {
        let status = match s.status {
            StepStatus::Ready => "READY",
            StepStatus::Blocked => "BLOCKED",
            StepStatus::NoFix => "NO FIX",
            StepStatus::Rebuild => "REBUILD",
        };
        let host = s.host.as_deref().map(|h| format!("{}  ", esc(h))).unwrap_or_default();
        let _ = writeln!(
            out,
            "{status:<8} {host}{}  {} {} -> {}",
            esc(&s.venv),
            esc(&s.name),
            esc(s.from_version.as_deref().unwrap_or("(none)")),
            esc(s.to_version.as_deref().unwrap_or("(no fix)"))
        );
        let _ = writeln!(out, "         why: {}", esc(&s.why));
        if let Some(c) = &s.command {
            let _ = writeln!(out, "         run: {}", esc(c));
        }
        for b in &s.blocked_by {
            let _ = writeln!(
                out,
                "         blocked by: {} {} requires {}",
                esc(&b.package),
                esc(&b.version),
                esc(&b.requirement)
            );
        }
        for r in &s.restarts {
            let how = r.how.as_deref().unwrap_or("by hand");
            let _ = writeln!(out, "         restart: {} ({})", esc(&r.name), esc(how));
        }
    }
    let m = &p.summary;
    let _ = writeln!(
        out,
        "{}{} step(s) in {} environment(s): {} ready, {} blocked, {} without a fix, {} to rebuild; {} restart(s); {} environment(s) looked at",
        if p.steps.is_empty() { "" } else { "\n" },
        m.steps,
        m.venvs,
        m.ready,
        m.blocked,
        m.no_fix,
        m.rebuild,
        m.restarts,
        p.venvs_scanned
    );
    for u in p.hosts_unknown.iter().flatten() {
        let reason =
            serde_json::to_value(u.reason).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let _ = writeln!(out, "no answer: {}  {}: {}", esc(&u.host), reason, esc(&u.message));
    }
    for w in &p.warnings {
        let _ = writeln!(out, "warning: {}", esc(w));
    }
    for e in &p.errors {
        let _ = writeln!(out, "error: {}: {}", esc(&e.path), esc(&e.message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::*;

    fn venv(path: &str, unit: Option<&str>) -> Venv {
        Venv {
            path: path.into(),
            kind: VenvKind::Uv,
            creator: Creator::default(),
            python: Python {
                implementation: Some("CPython".into()),
                version: Some("3.12.1".into()),
                ..Python::default()
            },
            include_system_site_packages: false,
            site_packages: vec![],
            system_site_packages: vec![],
            owner: Owner::default(),
            package_count: 41,
            packages: None,
            distributions: None,
            used_by_names: None,
            in_use_names: None,
            health: Health::Ok,
            used_by: vec![],
            in_use: unit
                .map(|u| InUse {
                    pid: 7,
                    user: None,
                    cmdline: String::new(),
                    started_at: None,
                    unit: Some(u.into()),
                    reasons: vec![],
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(esc("/srv/ok"), "/srv/ok");
        assert_eq!(esc("/srv/\x1b[31mred\nfake row\u{9b}"), "/srv/\\x1b[31mred\\nfake row\\x9b");
        let r = Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            generated_at: String::new(),
            detail: Detail::Full,
            host: Host::default(),
            venvs: vec![venv("/srv/a\nerror   forged: row", None)],
            findings: vec![],
            errors: vec![],
            warnings: vec![],
            osv_db: None,
            artifact: None,
            summary: Summary::default(),
        };
        let text = render(&r);
        assert!(text.contains("/srv/a\\nerror   forged: row"), "{text}");
        assert!(!text.lines().any(|l| l.starts_with("error   forged")), "{text}");
    }

    #[test]
    fn one_line_per_venv_then_findings() {
        let mut findings: Vec<Finding> = (0..12)
            .map(|i| {
                Finding::new(
                    crate::report::FindingId::Unused,
                    Severity::Info,
                    Some(&format!("/v{i}")),
                    format!("/v{i} is unused"),
                    "",
                )
            })
            .collect();
        findings.push(Finding::new(
            crate::report::FindingId::DependencyConflict,
            Severity::Error,
            Some("/srv/api"),
            "a requires b".into(),
            "",
        ));
        let mut r = Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            generated_at: String::new(),
            detail: Detail::Full,
            host: Host::default(),
            venvs: vec![venv("/srv/api", Some("api.service")), venv("/srv/idle", None)],
            findings,
            errors: vec![],
            warnings: vec!["partial".into()],
            osv_db: None,
            artifact: None,
            summary: Summary::default(),
        };
        r.finish();
        let text = render(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("PATH") && lines[0].contains("IN USE") && lines[0].ends_with("HEALTH"));
        assert!(
            lines[1].starts_with("/srv/api") && lines[1].contains("api.service") && lines[1].ends_with("error"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("/srv/idle") && lines[2].contains(" - ") && lines[2].ends_with("ok"),
            "{}",
            lines[2]
        );
        assert!(text.contains("error   dependency-conflict: a requires b [/srv/api]"), "{text}");
        assert!(text.contains("info    unused: 12 environments"), "{text}");
        assert!(!text.contains("/v3 is unused"), "info findings beyond ten are counted, not listed");
        assert!(text.contains("warning: partial"));
    }
}
