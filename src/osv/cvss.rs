//! Severity of an advisory: GHSA's `database_specific.severity` label, else a CVSS base
//! score computed from the vector in `severity[]`.
//!
//! The rule (documented in docs/security.md): critical and high are `error`, medium and
//! moderate are `warning`, low is `info`. CVSS v3.x and v2 vectors are scored with the
//! published base-score formulas; CVSS v4 vectors are not scored (their lookup tables are
//! not reproduced here), so a record with only a v4 vector has no stated severity.

use super::Rating;
use crate::report::Severity;

/// Map a qualitative label to a finding severity.
pub fn severity_of_label(label: &str) -> Option<Severity> {
    match label.to_ascii_uppercase().as_str() {
        "CRITICAL" | "HIGH" => Some(Severity::Error),
        "MODERATE" | "MEDIUM" => Some(Severity::Warning),
        "LOW" => Some(Severity::Info),
        _ => None,
    }
}

/// The highest rating among `(type, score)` severity entries, if any can be scored.
pub fn rate<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> Option<Rating> {
    let mut best: Option<(f64, String)> = None;
    for (kind, vector) in entries {
        let score = match kind {
            "CVSS_V3" => v3_base_score(vector),
            "CVSS_V2" => v2_base_score(vector),
            _ => None,
        };
        if let Some(s) = score
            && best.as_ref().is_none_or(|(b, _)| s > *b)
        {
            best = Some((s, kind.to_owned()));
        }
    }
    let (score, kind) = best?;
    let label = if kind == "CVSS_V2" {
        match score {
            s if s >= 7.0 => "HIGH",
            s if s >= 4.0 => "MEDIUM",
            _ => "LOW",
        }
    } else {
        match score {
            s if s >= 9.0 => "CRITICAL",
            s if s >= 7.0 => "HIGH",
            s if s >= 4.0 => "MEDIUM",
            s if s > 0.0 => "LOW",
            _ => "NONE",
        }
    };
    let severity = severity_of_label(label).unwrap_or(Severity::Info);
    Some(Rating { severity, source: format!("{kind} {score:.1} {label}") })
}

/// Metrics of a vector `CVSS:3.1/AV:N/AC:L/...` or `AV:N/AC:L/Au:N/...`.
fn metrics(vector: &str) -> std::collections::HashMap<&str, &str> {
    vector.split('/').filter_map(|m| m.split_once(':')).collect()
}

/// CVSS v3.0/v3.1 base score.
pub fn v3_base_score(vector: &str) -> Option<f64> {
    if !vector.starts_with("CVSS:3.") {
        return None;
    }
    let m = metrics(vector);
    let changed = match *m.get("S")? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match *m.get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match *m.get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (*m.get("PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match *m.get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |k: &str| -> Option<f64> {
        match *m.get(k)? {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let iss = 1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?);
    let impact = if changed { 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02f64).powi(15) } else { 6.42 * iss };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let raw = if changed { (1.08 * (impact + exploitability)).min(10.0) } else { (impact + exploitability).min(10.0) };
    Some(roundup(raw))
}

/// CVSS v3.1 Roundup: the smallest one-decimal number >= x, robust to float noise.
fn roundup(x: f64) -> f64 {
    let i = (x * 100_000.0).round() as i64;
    if i % 10_000 == 0 { i as f64 / 100_000.0 } else { ((i / 10_000) + 1) as f64 / 10.0 }
}

/// CVSS v2 base score.
pub fn v2_base_score(vector: &str) -> Option<f64> {
    let m = metrics(vector.trim_start_matches('(').trim_end_matches(')'));
    let av = match *m.get("AV")? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let ac = match *m.get("AC")? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let au = match *m.get("Au")? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let cia = |k: &str| -> Option<f64> {
        match *m.get(k)? {
            "N" => Some(0.0),
            "P" => Some(0.275),
            "C" => Some(0.660),
            _ => None,
        }
    };
    let impact = 10.41 * (1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?));
    let exploitability = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    let score = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f;
    Some((score * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scores() {
        // Reference values from the FIRST calculator.
        assert_eq!(v3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), Some(9.8));
        assert_eq!(v3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"), Some(6.1));
        assert_eq!(v3_base_score("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"), Some(1.8));
        assert_eq!(v3_base_score("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H"), Some(9.9));
        assert_eq!(v3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"), Some(0.0));
        assert_eq!(v2_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
        assert_eq!(v2_base_score("AV:N/AC:M/Au:N/C:N/I:P/A:N"), Some(4.3));
        assert_eq!(v3_base_score("CVSS:4.0/AV:N"), None);
        let r = rate([("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N")].into_iter()).unwrap();
        assert_eq!(r.severity, Severity::Warning);
        assert_eq!(r.source, "CVSS_V3 6.1 MEDIUM");
    }
}
