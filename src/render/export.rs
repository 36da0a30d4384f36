//! Exports of a report for other tools: a CycloneDX 1.5 JSON SBOM and node_exporter textfile
//! metrics for Prometheus.

use crate::report::FindingId;
use crate::report::{Finding, Report, Severity};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A package URL for a PyPI distribution: `pkg:pypi/<PEP 503 name>@<version>`, the version
/// percent-encoded as the purl spec asks (`+` of a local version becomes `%2B`).
pub fn purl(normalized_name: &str, version: &str) -> String {
    format!("pkg:pypi/{}@{}", pct(normalized_name), pct(version))
}

fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

/// `bom-ref` of an environment and of a distribution inside it (unique within the BOM even
/// when several environments hold the same release).
fn venv_ref(venv: &str) -> String {
    format!("venv:{venv}")
}
fn pkg_ref(venv: &str, normalized_name: &str, version: &str) -> String {
    format!("{venv}#{}", purl(normalized_name, version))
}

/// A CycloneDX 1.5 JSON SBOM of the host: one `application` component per environment
/// holding one `library` component per installed distribution (with its purl), a dependency
/// entry per environment, and the `vulnerability` findings as CycloneDX vulnerabilities.
pub fn cyclonedx(report: &Report) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    // (venv, PEP 503 name) -> bom-ref, to point vulnerabilities at components.
    let mut refs: BTreeMap<(String, String), String> = BTreeMap::new();
    for v in &report.venvs {
        let vref = venv_ref(&v.path);
        let mut children = Vec::new();
        let mut deps = Vec::new();
        for p in v.packages.iter().flatten() {
            let r = pkg_ref(&v.path, &p.normalized_name, &p.version);
            refs.insert((v.path.clone(), p.normalized_name.clone()), r.clone());
            let mut props = vec![prop("venvaudit:location", &*p.location)];
            if let Some(i) = &p.installer {
                props.push(prop("venvaudit:installer", &**i));
            }
            if p.editable {
                props.push(prop("venvaudit:editable", "true"));
            }
            children.push(json!({
                "type": "library",
                "bom-ref": r,
                "name": p.name,
                "version": p.version,
                "purl": purl(&p.normalized_name, &p.version),
                "properties": props,
            }));
            deps.push(json!(r));
        }
        // The interpreter is a component of the environment too: its own CVEs point at it.
        if let Some(version) = v.python.version.as_deref().filter(|_| is_cpython(&v.python)) {
            let r = interpreter_ref(&v.path);
            refs.insert((v.path.clone(), INTERPRETER_KEY.to_owned()), r.clone());
            let mut props = Vec::new();
            if let Some(exe) = v.python.base_executable.as_deref() {
                props.push(prop("venvaudit:executable", exe));
            }
            if let Some(o) = &v.python.owner {
                let manager = serde_json::to_value(o.manager).ok().and_then(|m| m.as_str().map(str::to_owned));
                props.push(prop("venvaudit:owner:manager", manager.unwrap_or_default()));
                if let Some(p) = &o.package {
                    props.push(prop("venvaudit:owner:package", p.as_str()));
                }
            }
            children.push(json!({
                "type": "application",
                "bom-ref": r,
                "name": "CPython",
                "version": version,
                "purl": format!("pkg:generic/cpython@{}", pct(version)),
                "properties": props,
            }));
            deps.push(json!(r));
        }
        let mut props = vec![prop("venvaudit:kind", v.kind.as_str()), prop("venvaudit:health", v.health.as_str())];
        if let Some(py) = &v.python.version {
            props.push(prop("venvaudit:python:version", py.as_str()));
        }
        if let Some(i) = &v.python.implementation {
            props.push(prop("venvaudit:python:implementation", i.as_str()));
        }
        if let Some(u) = &v.owner.user {
            props.push(prop("venvaudit:owner", u.as_str()));
        }
        let mut c = json!({
            "type": "application",
            "bom-ref": vref,
            "name": v.path,
            "description": format!("Python environment ({}) with {} distributions", v.kind.as_str(), v.package_count),
            "properties": props,
        });
        if !children.is_empty() {
            c["components"] = json!(children);
        }
        components.push(c);
        dependencies.push(json!({"ref": vref, "dependsOn": deps}));
    }
    let mut host_props = Vec::new();
    if let Some(a) = &report.host.arch {
        host_props.push(prop("venvaudit:arch", a.as_str()));
    }
    if let Some(g) = &report.host.glibc {
        host_props.push(prop("venvaudit:glibc", g.as_str()));
    }
    let mut host = json!({
        "type": "operating-system",
        "bom-ref": "host",
        "name": report.host.hostname.clone().unwrap_or_else(|| "unknown-host".into()),
    });
    if let Some(os) = &report.host.os {
        host["description"] = json!(os);
    }
    if !host_props.is_empty() {
        host["properties"] = json!(host_props);
    }
    let mut bom = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial(report, now.as_nanos()),
        "version": 1,
        "metadata": {
            "timestamp": rfc3339(now.as_secs()),
            "tools": {"components": [{"type": "application", "name": report.tool.name, "version": report.tool.version}]},
            "component": host,
        },
        "components": components,
        "dependencies": dependencies,
    });
    let vulns = vulnerabilities(report, &refs);
    if !vulns.is_empty() {
        bom["vulnerabilities"] = json!(vulns);
    }
    bom
}

/// The key of an environment's interpreter among the component references (no distribution
/// normalizes to it).
const INTERPRETER_KEY: &str = " interpreter";

fn interpreter_ref(venv: &str) -> String {
    format!("interpreter:{}", pct(venv))
}

fn is_cpython(py: &crate::report::Python) -> bool {
    py.implementation.as_deref().is_none_or(|i| i.eq_ignore_ascii_case("cpython"))
}

/// `vulnerability` and `interpreter-vulnerability` findings grouped by advisory, each
/// affecting the components it was found in (distributions, interpreters).
fn vulnerabilities(report: &Report, refs: &BTreeMap<(String, String), String>) -> Vec<Value> {
    let mut by_id: BTreeMap<String, (Vec<&Finding>, Vec<String>)> = BTreeMap::new();
    let wanted = |f: &&Finding| matches!(f.id, FindingId::Vulnerability | FindingId::InterpreterVulnerability);
    for f in report.findings.iter().filter(wanted) {
        let Some(adv) = f.details.get("advisory").and_then(Value::as_str) else { continue };
        let (Some(venv), Some(pkg)) = (&f.venv, &f.package) else { continue };
        let key = if f.id == FindingId::InterpreterVulnerability {
            (venv.clone(), INTERPRETER_KEY.to_owned())
        } else {
            (venv.clone(), crate::inspect::packages::normalize_name(pkg))
        };
        let Some(r) = refs.get(&key) else { continue };
        let slot = by_id.entry(adv.to_owned()).or_default();
        slot.0.push(f);
        if !slot.1.contains(r) {
            slot.1.push(r.clone());
        }
    }
    by_id
        .into_iter()
        .map(|(id, (fs, affects))| {
            let f = fs[0];
            let d = &f.details;
            let source = if f.id == FindingId::InterpreterVulnerability {
                json!({"name": "CVE (PSF CNA)", "url": format!("https://www.cve.org/CVERecord?id={id}")})
            } else {
                json!({"name": "OSV", "url": format!("https://osv.dev/vulnerability/{id}")})
            };
            let mut v = json!({
                "id": id,
                "source": source,
                "ratings": [rating(f)],
                "description": d.get("summary").cloned().unwrap_or(Value::Null),
                "recommendation": f.remediation,
                "affects": affects.iter().map(|r| json!({"ref": r})).collect::<Vec<_>>(),
            });
            let aliases: Vec<Value> = d
                .get("aliases")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|a| json!({"id": a, "source": {"name": alias_source(a)}}))
                .collect();
            if !aliases.is_empty() {
                v["references"] = json!(aliases);
            }
            for (k, to) in [("published", "published"), ("modified", "updated")] {
                if let Some(t) = d.get(k).and_then(Value::as_str) {
                    v[to] = json!(t);
                }
            }
            if fs.iter().all(|f| f.ignored.is_some()) {
                let reason = f.ignored.as_ref().map_or("", |i| i.reason.as_str());
                v["analysis"] = json!({"detail": format!("accepted by the ignore policy: {reason}")});
            }
            if v["description"].is_null() {
                v.as_object_mut().map(|o| o.remove("description"));
            }
            v
        })
        .collect()
}

fn alias_source(id: &str) -> &'static str {
    match id.split('-').next().unwrap_or("") {
        "CVE" => "NVD",
        "GHSA" => "GitHub",
        "PYSEC" => "PyPA",
        _ => "OSV",
    }
}

/// A CycloneDX rating from the finding's `rating` detail (method, score, label as the
/// advisory states them), else its severity.
fn rating(f: &Finding) -> Value {
    let r = f.details.get("rating");
    let label = match r.and_then(|r| r["label"].as_str()).unwrap_or("").to_ascii_uppercase().as_str() {
        "CRITICAL" => "critical",
        "HIGH" => "high",
        "MODERATE" | "MEDIUM" => "medium",
        "LOW" => "low",
        "NONE" => "none",
        _ => "unknown",
    };
    let method = match r.and_then(|r| r["method"].as_str().or_else(|| r["cvss_version"].as_str())) {
        Some("CVSS_V2" | "2.0") => "CVSSv2",
        Some("3.0" | "3.1") => "CVSSv3",
        Some("4.0") => "CVSSv4",
        Some("CVSS_V3") => "CVSSv3",
        Some("CVSS_V4") => "CVSSv4",
        Some(_) => "other",
        None => {
            return json!({"severity": "unknown", "justification": format!("no severity stated; reported as {}", f.severity.as_str())});
        }
    };
    let mut out = json!({"source": {"name": "OSV"}, "severity": label, "method": method});
    if let Some(score) = r.and_then(|r| r["score"].as_f64()) {
        out["score"] = json!(score);
    }
    out
}

/// A random-enough UUIDv4-shaped serial number (no RNG crate: hash of host, time and pid).
fn serial(report: &Report, nanos: u128) -> String {
    let mut h = Sha256::new();
    h.update(report.host.hostname.clone().unwrap_or_default().as_bytes());
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    let mut b: Vec<u8> = h.finalize()[..16].to_vec();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("urn:uuid:{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Seconds since the epoch as RFC 3339 UTC.
fn rfc3339(secs: u64) -> String {
    crate::time::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Escape a Prometheus label value: backslash, double quote and newline.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// node_exporter textfile collector metrics: environments, packages, findings by id and
/// severity, labelled by venv path. Write it atomically (`> f.tmp && mv f.tmp f.prom`).
pub fn prometheus(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, "venvaudit_info", "venvaudit version that wrote these metrics.");
    let _ = writeln!(out, "venvaudit_info{{version=\"{}\"}} 1", label(&report.tool.version));
    header(&mut out, "venvaudit_venvs", "Python environments found.");
    let _ = writeln!(out, "venvaudit_venvs {}", report.summary.venvs);
    header(&mut out, "venvaudit_packages", "Installed distributions over all environments.");
    let _ = writeln!(out, "venvaudit_packages {}", report.summary.packages);
    header(&mut out, "venvaudit_scan_errors", "Paths the scan could not read.");
    let _ = writeln!(out, "venvaudit_scan_errors {}", report.errors.len());
    header(&mut out, "venvaudit_venv_packages", "Installed distributions per environment.");
    for v in &report.venvs {
        let _ = writeln!(
            out,
            "venvaudit_venv_packages{{venv=\"{}\",kind=\"{}\",python=\"{}\"}} {}",
            label(&v.path),
            v.kind.as_str(),
            label(v.python.version.as_deref().unwrap_or("unknown")),
            v.package_count
        );
    }
    header(
        &mut out,
        "venvaudit_venv_health",
        "Worst active finding per environment: 0 ok, 1 info, 2 warning, 3 error.",
    );
    for v in &report.venvs {
        let level = match v.health.as_str() {
            "error" => 3,
            "warning" => 2,
            "info" => 1,
            _ => 0,
        };
        let _ = writeln!(out, "venvaudit_venv_health{{venv=\"{}\"}} {level}", label(&v.path));
    }
    let mut active: BTreeMap<(String, &str, Severity), usize> = BTreeMap::new();
    let mut ignored: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for f in &report.findings {
        let venv = f.venv.clone().unwrap_or_default();
        if f.ignored.is_some() {
            *ignored.entry((venv, f.id.as_str())).or_default() += 1;
        } else {
            *active.entry((venv, f.id.as_str(), f.severity)).or_default() += 1;
        }
    }
    header(&mut out, "venvaudit_findings", "Active findings by environment (empty for host-wide), id and severity.");
    for ((venv, id, sev), n) in &active {
        let _ = writeln!(
            out,
            "venvaudit_findings{{venv=\"{}\",id=\"{id}\",severity=\"{}\"}} {n}",
            label(venv),
            sev.as_str()
        );
    }
    header(&mut out, "venvaudit_findings_ignored", "Findings silenced by the ignore policy, by environment and id.");
    for ((venv, id), n) in &ignored {
        let _ = writeln!(out, "venvaudit_findings_ignored{{venv=\"{}\",id=\"{id}\"}} {n}", label(venv));
    }
    header(&mut out, "venvaudit_severity_findings", "Active findings over all environments by severity.");
    for (name, n) in
        [("error", report.summary.error), ("warning", report.summary.warning), ("info", report.summary.info)]
    {
        let _ = writeln!(out, "venvaudit_severity_findings{{severity=\"{name}\"}} {n}");
    }
    header(
        &mut out,
        "venvaudit_interpreter_info",
        "The interpreter each environment runs: its exact version and who installed it (dpkg, rpm, pyenv, uv, conda, ...).",
    );
    for v in &report.venvs {
        let manager = v
            .python
            .owner
            .as_ref()
            .and_then(|o| serde_json::to_value(o.manager).ok())
            .and_then(|m| m.as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into());
        let _ = writeln!(
            out,
            "venvaudit_interpreter_info{{venv=\"{}\",implementation=\"{}\",version=\"{}\",owner=\"{}\"}} 1",
            label(&v.path),
            label(v.python.implementation.as_deref().unwrap_or("unknown")),
            label(v.python.version.as_deref().unwrap_or("unknown")),
            label(&manager)
        );
    }
    if let Some(db) = &report.osv_db {
        header(&mut out, "venvaudit_osv_db_advisories", "Advisories in the OSV database used.");
        let _ = writeln!(out, "venvaudit_osv_db_advisories{{path=\"{}\"}} {}", label(&db.path), db.advisories);
    }
    header(&mut out, "venvaudit_last_run_timestamp_seconds", "When these metrics were written.");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let _ = writeln!(out, "venvaudit_last_run_timestamp_seconds {now}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_and_labels() {
        assert_eq!(purl("django", "3.2"), "pkg:pypi/django@3.2");
        assert_eq!(purl("foo-bar", "1.0+local.1"), "pkg:pypi/foo-bar@1.0%2Blocal.1");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
