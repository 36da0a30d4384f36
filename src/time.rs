//! Calendar arithmetic for timestamps in the report (RFC 3339, UTC) without a date crate:
//! Howard Hinnant's civil-from-days algorithm.

use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date (year, month 1-12, day 1-31); tuples order chronologically.
pub type Date = (i32, u32, u32);

/// The date of a count of days since 1970-01-01 (Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
pub fn days_from_civil((y, m, d): Date) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The environment variable that sets "today" (`YYYY-MM-DD`) for the date-driven policies
/// (end of life, ignore expiry): reproducible runs and tests that do not turn red when the
/// calendar moves on.
pub const TODAY_VAR: &str = "VENVAUDIT_TODAY";

/// Today in UTC: `VENVAUDIT_TODAY` when set to a valid date, else the system clock.
pub fn today() -> Date {
    std::env::var(TODAY_VAR)
        .ok()
        .and_then(|v| parse_date(v.trim()))
        .unwrap_or_else(|| civil_from_days(unix_seconds(SystemTime::now()).div_euclid(86_400)))
}

/// Parse `YYYY-MM-DD` (exactly those widths; a real calendar day).
pub fn parse_date(s: &str) -> Option<Date> {
    let mut it = s.trim().splitn(3, '-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    ((1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize]).then_some((y, m, d))
}

/// Seconds since the epoch of a system time (negative before 1970).
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// RFC 3339 UTC rendering, e.g. `2026-11-25T12:00:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = unix_seconds(t);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil((2000, 3, 1)), 11_017);
        for z in [-800_000, -1, 0, 59, 11_016, 19_782, 2_000_000] {
            assert_eq!(days_from_civil(civil_from_days(z)), z);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_709_251_199)), "2024-02-29T23:59:59Z");
    }
}
