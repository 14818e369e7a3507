//! Kentico's notion of time: `datetime2` values in the server's local offset, written the way Json.NET writes
//! them (docs/kentico.md §3.5: `"2026-11-20T14:03:11.227+01:00"`), and the SQL date literals a `where` clause compares
//! them with.

use std::sync::Mutex;

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// One `datetime2` tick.
const TICK_NANOS: i128 = 100;

/// The server clock. Every mutation takes its timestamp here.
#[derive(Debug)]
pub(crate) struct Clock {
    offset: UtcOffset,
    /// The last timestamp handed out: the next one is strictly later, so `LastModified > watermark` polling never
    /// misses an object that shared a timestamp with the watermark.
    // guess: real K13 uses DateTime.Now (coarser and not unique); unique ticks keep polling tests deterministic.
    last: Mutex<OffsetDateTime>,
}

impl Clock {
    /// A clock in `offset` whose first reading is after `floor`.
    pub(crate) fn new(offset: UtcOffset, floor: OffsetDateTime) -> Self {
        Self {
            offset,
            last: Mutex::new(floor.to_offset(offset)),
        }
    }

    /// The server's offset.
    pub(crate) fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// Now, in the server's offset, truncated to 100 ns and strictly after every earlier reading.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = truncate(OffsetDateTime::now_utc()).to_offset(self.offset);
        let next = if now > *last {
            now
        } else {
            *last + Duration::nanoseconds(100)
        };
        *last = next;
        next
    }
}

/// Truncates to `datetime2(7)` precision.
pub(crate) fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.unix_timestamp_nanos();
    let truncated = nanos - nanos.rem_euclid(TICK_NANOS);
    OffsetDateTime::from_unix_timestamp_nanos(truncated)
        .map(|u| u.to_offset(t.offset()))
        .unwrap_or(t)
}

/// Json.NET's ISO format (`yyyy-MM-ddTHH:mm:ss.FFFFFFFK`): up to seven fraction digits with trailing zeros
/// dropped (no dot when zero), then the offset.
pub(crate) fn format(t: OffsetDateTime) -> String {
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let ticks = t.nanosecond() / 100;
    if ticks > 0 {
        let fraction = format!("{ticks:07}");
        s.push('.');
        s.push_str(fraction.trim_end_matches('0'));
    }
    let (h, m, _) = t.offset().as_hms();
    let sign = if t.offset().is_negative() { '-' } else { '+' };
    s.push_str(&format!("{sign}{:02}:{:02}", h.abs(), m.abs()));
    s
}

/// Parses a SQL date literal as SQL Server converts it to `datetime2`: `YYYY-MM-DD`, optionally followed by
/// `T` or a space and `HH:MM[:SS[.fffffff]]`. The value is a local time of the server.
///
/// guess: a trailing offset (`Z`, `+01:00`) is accepted and ignored, as `CAST(… AS datetime2)` drops it.
pub(crate) fn parse_sql(text: &str, offset: UtcOffset) -> Option<OffsetDateTime> {
    let text = text.trim();
    let (date_part, time_part) = match text.find(['T', ' ']) {
        Some(i) => (&text[..i], Some(text[i + 1..].trim())),
        None => (text, None),
    };
    let mut d = date_part.split('-');
    let year: i32 = d.next()?.parse().ok()?;
    let month: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    if d.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = match time_part {
        None | Some("") => Time::MIDNIGHT,
        Some(t) => parse_time(strip_offset(t))?,
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn strip_offset(t: &str) -> &str {
    if let Some(stripped) = t.strip_suffix('Z') {
        return stripped;
    }
    match t.rfind(['+', '-']) {
        Some(i) if i > 0 => &t[..i],
        _ => t,
    }
}

fn parse_time(t: &str) -> Option<Time> {
    let (hms, fraction) = match t.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let mut parts = hms.split(':');
    let hour: u8 = parts.next()?.parse().ok()?;
    let minute: u8 = parts.next()?.parse().ok()?;
    let second: u8 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    let nanos = match fraction {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{f:0<9}");
            padded.parse::<u32>().ok()?
        }
        Some(_) => return None,
        None => 0,
    };
    Time::from_hms_nano(hour, minute, second, nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn json_net_format_trims_fraction_zeros() {
        assert_eq!(
            format(datetime!(2026-11-20 14:03:11.227 +01:00)),
            "2026-11-20T14:03:11.227+01:00"
        );
        assert_eq!(
            format(datetime!(2026-11-20 14:03:11 +01:00)),
            "2026-11-20T14:03:11+01:00"
        );
        assert_eq!(
            format(datetime!(2026-11-20 14:03:11.0000001 -05:00)),
            "2026-11-20T14:03:11.0000001-05:00"
        );
    }

    #[test]
    fn sql_literals_are_local_times() {
        let o = offset!(+1);
        assert_eq!(
            parse_sql("2026-11-20T14:03:12.0100000", o),
            Some(datetime!(2026-11-20 14:03:12.01 +01:00))
        );
        assert_eq!(
            parse_sql("2026-11-20", o),
            Some(datetime!(2026-11-20 0:00 +01:00))
        );
        assert_eq!(
            parse_sql("2026-11-20 14:03", o),
            Some(datetime!(2026-11-20 14:03 +01:00))
        );
        assert_eq!(
            parse_sql("2026-11-20T14:03:12Z", o),
            Some(datetime!(2026-11-20 14:03:12 +01:00))
        );
        assert_eq!(parse_sql("yesterday", o), None);
    }

    #[test]
    fn clock_never_repeats() {
        let c = Clock::new(offset!(+1), OffsetDateTime::now_utc());
        let a = c.now();
        let b = c.now();
        assert!(b > a);
    }
}
