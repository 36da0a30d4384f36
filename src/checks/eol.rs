//! `interpreter-eol`: the environment runs a CPython that no longer gets security fixes, or
//! will not in six months.

use crate::report::FindingId;
use crate::report::{Finding, Python, Severity};
use crate::time::{Date, days_between, months_before};
use jiff::civil::date;

/// End of life of each CPython X.Y: the day after which python.org publishes no more
/// releases, not even security fixes. Sources: the release-schedule PEPs (373 for 2.7, 478
/// for 3.5, 494 for 3.6, 537 for 3.7, 569 for 3.8, 596 for 3.9, 619 for 3.10, 664 for 3.11,
/// 693 for 3.12, 719 for 3.13, 745 for 3.14) and the devguide's "Status of Python versions"
/// page (devguide.python.org/versions). Where a PEP names only a month ("2027-10"), the last
/// day of that month is used, as the devguide's chart does.
pub const EOL: &[(&str, Date)] = &[
    ("2.7", date(2020, 1, 1)),
    ("3.5", date(2020, 9, 30)),
    ("3.6", date(2021, 12, 23)),
    ("3.7", date(2023, 6, 27)),
    ("3.8", date(2024, 10, 7)),
    ("3.9", date(2025, 10, 31)),
    ("3.10", date(2026, 10, 31)),
    ("3.11", date(2027, 10, 31)),
    ("3.12", date(2028, 10, 31)),
    ("3.13", date(2029, 10, 31)),
    ("3.14", date(2030, 10, 31)),
];

/// Months before end of life from which a warning is given.
const WARN_MONTHS: i32 = 6;

/// The end-of-life date of a CPython version (`3.11.7` or `3.11`). Versions older than the
/// table are long past their end of life and get 3.5's date; newer ones get none.
pub fn eol_of(version: &str) -> Option<Date> {
    let xy = crate::report::major_minor(version);
    if let Some((_, d)) = EOL.iter().find(|(v, _)| *v == xy) {
        return Some(*d);
    }
    let mut it = xy.split('.');
    let (major, minor): (u32, u32) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?);
    let old = major < 3 || (major == 3 && minor < 5);
    old.then_some(EOL[1].1)
}

/// The verdict for one version on one day: severity and the EOL date, or `None`.
pub fn judge(version: &str, today: Date) -> Option<(Severity, Date)> {
    let eol = eol_of(version)?;
    if today > eol {
        Some((Severity::Error, eol))
    } else if today >= months_before(eol, WARN_MONTHS) {
        Some((Severity::Warning, eol))
    } else {
        None
    }
}

/// `interpreter-eol` for one environment, judged on `python` (its own or `--target-python`).
pub fn check(venv: &str, python: &Python, today: Date) -> Vec<Finding> {
    let cpython = python.implementation.as_deref().is_none_or(|i| i.eq_ignore_ascii_case("cpython"));
    let Some(version) = python.version.as_deref().filter(|_| cpython) else { return Vec::new() };
    let Some((severity, eol)) = judge(version, today) else { return Vec::new() };
    let xy = crate::report::major_minor(version);
    let eol_s = eol.to_string();
    let days = days_between(today, eol);
    let message = if severity == Severity::Error {
        format!("{} runs Python {xy}, which reached its end of life on {eol_s} and gets no security fixes", venv)
    } else {
        format!("{} runs Python {xy}, which reaches its end of life on {eol_s} ({days} days left)", venv)
    };
    vec![Finding::new(
        FindingId::InterpreterEol,
        severity,
        Some(venv),
        message,
        "Recreate the environment with a supported Python (see devguide.python.org/versions) and test the application on it",
    )
    .detail("version", xy)
    .detail("eol", eol_s)
    .detail("days_left", days)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_back_clamps_days() {
        assert_eq!(months_before(date(2027, 10, 31), 6), date(2027, 4, 30));
        assert_eq!(months_before(date(2024, 8, 31), 6), date(2024, 2, 29));
        assert_eq!(months_before(date(2025, 3, 15), 6), date(2024, 9, 15));
    }

    #[test]
    fn eol_verdicts() {
        assert_eq!(judge("3.8.18", date(2024, 10, 7)), Some((Severity::Warning, date(2024, 10, 7))));
        assert_eq!(judge("3.8.18", date(2024, 10, 8)), Some((Severity::Error, date(2024, 10, 7))));
        assert_eq!(judge("3.11.7", date(2027, 4, 29)), None);
        assert_eq!(judge("3.11.7", date(2027, 4, 30)).map(|v| v.0), Some(Severity::Warning));
        assert_eq!(judge("3.12", date(2026, 1, 1)), None);
        assert_eq!(judge("2.7.18", date(2026, 1, 1)).map(|v| v.0), Some(Severity::Error));
        assert_eq!(judge("3.4.10", date(2026, 1, 1)).map(|v| v.0), Some(Severity::Error));
        assert_eq!(judge("3.15.0", date(2040, 1, 1)), None);
        assert_eq!(judge("garbage", date(2040, 1, 1)), None);
        // The table is sorted and covers 3.6 ... 3.14 and 2.7.
        for v in ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"] {
            assert!(EOL.iter().any(|(x, _)| *x == v), "{v}");
        }
        assert!(EOL.windows(2).all(|w| w[0].1 < w[1].1));
    }
}
