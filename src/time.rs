//! Dates and timestamps, by `jiff`: every date decision (end of life, ignore expiry, the OSV
//! database's age, `--max-age` of saved facts) asks [`today`] or the request's resolved date,
//! never the system clock directly, so a run can be pinned (`--today`, `VENVAUDIT_TODAY`) for
//! tests and reproducible reports.

pub use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use std::time::SystemTime;

/// The environment variable that sets "today" (`YYYY-MM-DD`) for the date-driven policies
/// (end of life, ignore expiry, database age): reproducible runs and tests that do not turn
/// red when the calendar moves on. `--today` (request key `today`) wins over it.
pub const TODAY_VAR: &str = "VENVAUDIT_TODAY";

/// Today in UTC: `VENVAUDIT_TODAY` when set to a valid date, else the system clock.
pub fn today() -> Date {
    std::env::var(TODAY_VAR)
        .ok()
        .and_then(|v| parse_date(&v))
        .unwrap_or_else(|| Timestamp::now().to_zoned(TimeZone::UTC).date())
}

/// Parse `YYYY-MM-DD` (exactly those widths; a real calendar day).
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let b = s.as_bytes();
    // jiff also reads `+002024-02-29` and `20240229`; the contract is the plain form only.
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !s.bytes().filter(|c| *c != b'-').all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Whole days from `earlier` to `later` (negative when `later` is before).
pub fn days_between(earlier: Date, later: Date) -> i64 {
    later.since((jiff::Unit::Day, earlier)).map_or(0, |s| i64::from(s.get_days()))
}

/// Whole days from the date of an RFC 3339 time (its `YYYY-MM-DD` prefix) to `today`; `None`
/// when it does not start with a date. Ages of saved facts and of the OSV database.
pub fn age_days(rfc3339_time: &str, today: Date) -> Option<i64> {
    let day = parse_date(rfc3339_time.get(..10)?)?;
    Some(days_between(day, today))
}

/// `date` moved back by whole months, the day clamped to the shorter month's length.
pub fn months_before(date: Date, months: i32) -> Date {
    date.checked_sub(months.months()).unwrap_or(date)
}

/// RFC 3339 UTC rendering to the second, e.g. `2026-11-25T12:00:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    match Timestamp::try_from(t).and_then(|ts| Timestamp::from_second(ts.as_second())) {
        Ok(ts) => ts.to_string(),
        Err(_) => "1970-01-01T00:00:00Z".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn dates_parse_strictly_and_count() {
        assert_eq!(parse_date("2024-02-29"), Some(date(2024, 2, 29)));
        for bad in ["2023-02-29", "2024-2-29", "20240229", "+002024-02-29", "2024-02-29T00:00", "", "x"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(days_between(date(2024, 1, 1), date(2024, 3, 1)), 60);
        assert_eq!(days_between(date(2024, 3, 1), date(2024, 1, 1)), -60);
        assert_eq!(months_before(date(2024, 8, 31), 6), date(2024, 2, 29));
        assert_eq!(months_before(date(2025, 1, 15), 6), date(2024, 7, 15));
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(1_709_251_199_900)), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
