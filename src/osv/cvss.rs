//! Severity of an advisory: GHSA's `database_specific.severity` label, else a CVSS base
//! score computed from the vector in `severity[]`.
//!
//! The rule (documented in docs/security.md): critical and high are `error`, medium and
//! moderate are `warning`, low is `info`. CVSS v3.x and v4.0 vectors are scored by RustSec's
//! `cvss` crate (the one cargo-audit uses); v2 vectors, which it does not read, by the
//! published v2 base-score formula below.

use super::{Rating, RatingMethod};
use crate::report::Severity;

/// Longest vector string scored; real ones are under 200 bytes.
const MAX_VECTOR: usize = 512;

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
    let mut best: Option<Rating> = None;
    for (kind, vector) in entries {
        let scored = match kind {
            "CVSS_V3" | "CVSS_V4" => v3_or_v4(vector),
            "CVSS_V2" => v2_base_score(vector).map(|s| (RatingMethod::CvssV2, s, v2_label(s))),
            _ => None,
        };
        let Some((method, score, label)) = scored else { continue };
        if best.as_ref().is_none_or(|b| b.score.is_some_and(|bs| score > bs)) {
            let severity = severity_of_label(label).unwrap_or(Severity::Info);
            best = Some(Rating { severity, method, score: Some(score), label: label.to_owned() });
        }
    }
    best
}

/// Score a `CVSS:3.x/...` or `CVSS:4.0/...` vector with the `cvss` crate. Its parser is not
/// known to panic, but the vectors come from an untrusted database: a panic is a non-score.
fn v3_or_v4(vector: &str) -> Option<(RatingMethod, f64, &'static str)> {
    if vector.len() > MAX_VECTOR {
        return None;
    }
    let parsed = std::panic::catch_unwind(|| {
        let c: cvss::Cvss = vector.parse().ok()?;
        let method = match c {
            cvss::Cvss::CvssV40(_) => RatingMethod::CvssV4,
            _ => RatingMethod::CvssV3,
        };
        Some((method, c.score(), c.severity()))
    })
    .ok()??;
    let (method, score, severity) = parsed;
    let label = match severity {
        cvss::Severity::Critical => "CRITICAL",
        cvss::Severity::High => "HIGH",
        cvss::Severity::Medium => "MEDIUM",
        cvss::Severity::Low => "LOW",
        _ => "NONE",
    };
    Some((method, score, label))
}

/// CVSS v2's qualitative scale (it has no critical).
fn v2_label(score: f64) -> &'static str {
    match score {
        s if s >= 7.0 => "HIGH",
        s if s >= 4.0 => "MEDIUM",
        _ => "LOW",
    }
}

/// Metrics of a v2 vector `AV:N/AC:L/Au:N/...`.
fn metrics(vector: &str) -> std::collections::HashMap<&str, &str> {
    vector.split('/').filter_map(|m| m.split_once(':')).collect()
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

    /// Reference values from the FIRST calculators (v3.1, v4.0, v2).
    fn score(kind: &str, vector: &str) -> Option<(f64, String)> {
        rate([(kind, vector)].into_iter()).map(|r| (r.score.unwrap(), r.source()))
    }

    #[test]
    fn known_scores() {
        assert_eq!(score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap().0, 9.8);
        assert_eq!(score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N").unwrap().0, 6.1);
        assert_eq!(score("CVSS_V3", "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N").unwrap().0, 1.8);
        assert_eq!(score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H").unwrap().0, 9.9);
        assert_eq!(score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N").unwrap().0, 0.0);
        assert_eq!(v2_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
        assert_eq!(v2_base_score("AV:N/AC:M/Au:N/C:N/I:P/A:N"), Some(4.3));
        // CVSS v4.0 (FIRST's calculator: 9.3 critical, 6.9 medium).
        let v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        assert_eq!(score("CVSS_V4", v4), Some((9.3, "CVSS_V4 9.3 CRITICAL".to_owned())));
        let v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N";
        assert_eq!(score("CVSS_V4", v4).unwrap().0, 6.9);
        assert_eq!(score("CVSS_V4", "CVSS:4.0/AV:N"), None);
        assert_eq!(score("CVSS_V3", &format!("CVSS:3.1/{}", "AV:N/".repeat(200))), None);
        let r = rate([("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N")].into_iter()).unwrap();
        assert_eq!(r.severity, Severity::Warning);
        assert_eq!(r.source(), "CVSS_V3 6.1 MEDIUM");
        // The highest of several entries wins.
        let r = rate([("CVSS_V2", "AV:N/AC:M/Au:N/C:N/I:P/A:N"), ("CVSS_V4", v4)].into_iter()).unwrap();
        assert_eq!((r.method, r.score), (RatingMethod::CvssV4, Some(6.9)));
    }
}
