//! Timestamps in FreshBooks' formats: accounting times are US/Eastern wall-clock without a zone (docs/freshbooks.md
//! §6.1).

use time::{Date, Month, OffsetDateTime, UtcOffset, Weekday, macros::format_description};

/// Now in US/Eastern as `"YYYY-MM-DD HH:MM:SS"` (the accounting `updated`/`created_at` format).
pub(crate) fn eastern_now() -> String {
    format_eastern(OffsetDateTime::now_utc())
}

/// Now in UTC as `"YYYY-MM-DD HH:MM:SS"` (client `signup_date`).
pub(crate) fn utc_now() -> String {
    fmt(OffsetDateTime::now_utc())
}

/// Now in US/Eastern with microseconds (invoice `version`).
pub(crate) fn eastern_version() -> String {
    let now = to_eastern(OffsetDateTime::now_utc());
    format!("{}.{:06}", fmt(now), now.microsecond())
}

/// Today's date in US/Eastern as `YYYY-MM-DD`.
pub(crate) fn eastern_today() -> String {
    to_eastern(OffsetDateTime::now_utc()).date().to_string()
}

/// Now as ISO 8601 UTC with `Z` (identity timestamps).
pub(crate) fn iso_now() -> String {
    let now = OffsetDateTime::now_utc();
    format!("{}Z", fmt(now).replace(' ', "T"))
}

fn format_eastern(utc: OffsetDateTime) -> String {
    fmt(to_eastern(utc))
}

fn fmt(t: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&format).unwrap_or_default()
}

/// US/Eastern: UTC−4 from the second Sunday of March 07:00 UTC to the first Sunday of November 06:00 UTC, else
/// UTC−5 (the US rule since 2007; no tz database needed for a simulator).
fn to_eastern(utc: OffsetDateTime) -> OffsetDateTime {
    let year = utc.year();
    let dst_start =
        nth_sunday(year, Month::March, 2).map(|d| d.with_hms(7, 0, 0).map(|t| t.assume_utc()));
    let dst_end =
        nth_sunday(year, Month::November, 1).map(|d| d.with_hms(6, 0, 0).map(|t| t.assume_utc()));
    let in_dst = matches!((dst_start, dst_end), (Some(Ok(s)), Some(Ok(e))) if utc >= s && utc < e);
    let hours = if in_dst { -4 } else { -5 };
    let offset = UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC);
    utc.to_offset(offset)
}

fn nth_sunday(year: i32, month: Month, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset = (7 + 7 - first.weekday().number_days_from_sunday()) % 7;
    let first_sunday = first.checked_add(time::Duration::days(i64::from(offset)))?;
    debug_assert_eq!(first_sunday.weekday(), Weekday::Sunday);
    first_sunday.checked_add(time::Duration::weeks(i64::from(n) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn recorded_timestamp_matches_eastern_daylight_time() {
        // The live recording: HTTP Date 16:48:49 GMT, `updated` 12:48:49.
        assert_eq!(
            format_eastern(datetime!(2026-06-29 16:48:49 UTC)),
            "2026-06-29 12:48:49"
        );
        assert_eq!(
            format_eastern(datetime!(2026-01-10 17:00:00 UTC)),
            "2026-01-10 12:00:00"
        );
    }
}
