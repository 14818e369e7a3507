//! The rate model: TARGET business days, the currencies the ECB quotes, and a deterministic, realistic-looking
//! rate per (seed, day, currency) that does not depend on when it is asked.

use rust_decimal::Decimal;
use time::{Date, Duration, Month, OffsetDateTime, Weekday};

/// A quoted currency: ISO code, typical units per EUR, decimals the ECB publishes, yearly swing.
struct Quote {
    code: &'static str,
    base: f64,
    decimals: u32,
    /// Relative amplitude of the slow movement; pegged currencies barely move.
    swing: f64,
}

/// The ECB's list, in the ECB's order.
// guess: base levels from the brief (USD ~1.08, GBP ~0.85, CZK ~25, CAD ~1.47) and recent published levels for
// the rest; decimals as the daily file shows them (5 significant digits, at least 2 decimals).
const QUOTES: &[Quote] = &[
    q("USD", 1.08, 4, 0.05),
    q("JPY", 160.0, 2, 0.06),
    q("BGN", 1.9558, 4, 0.0),
    q("CZK", 25.0, 3, 0.03),
    q("DKK", 7.46, 4, 0.001),
    q("GBP", 0.85, 5, 0.03),
    q("HUF", 395.0, 2, 0.05),
    q("PLN", 4.3, 4, 0.04),
    q("RON", 4.97, 4, 0.01),
    q("SEK", 11.4, 4, 0.04),
    q("CHF", 0.95, 4, 0.03),
    q("ISK", 150.0, 2, 0.03),
    q("NOK", 11.6, 4, 0.04),
    q("TRY", 36.0, 4, 0.08),
    q("AUD", 1.65, 4, 0.05),
    q("BRL", 6.1, 4, 0.07),
    q("CAD", 1.47, 4, 0.04),
    q("CNY", 7.8, 4, 0.03),
    q("HKD", 8.45, 4, 0.05),
    q("IDR", 17500.0, 2, 0.05),
    q("ILS", 4.0, 4, 0.05),
    q("INR", 91.0, 4, 0.04),
    q("KRW", 1480.0, 2, 0.05),
    q("MXN", 20.5, 4, 0.07),
    q("MYR", 4.9, 4, 0.04),
    q("NZD", 1.8, 4, 0.05),
    q("PHP", 62.0, 3, 0.05),
    q("SGD", 1.45, 4, 0.03),
    q("THB", 38.0, 3, 0.04),
    q("ZAR", 20.0, 4, 0.07),
];

const fn q(code: &'static str, base: f64, decimals: u32, swing: f64) -> Quote {
    Quote {
        code,
        base,
        decimals,
        swing,
    }
}

/// The first day of the euro reference rates.
pub(crate) fn euro_start() -> Date {
    Date::from_calendar_date(1999, Month::January, 4).unwrap_or(Date::MIN)
}

/// Easter Sunday (anonymous Gregorian algorithm).
fn easter(year: i32) -> Option<Date> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::from_calendar_date(year, Month::try_from(month as u8).ok()?, day as u8).ok()
}

/// Whether the ECB publishes rates on `d`: TARGET2 is closed on weekends, 1 January, Good Friday, Easter
/// Monday, 1 May, 25 and 26 December.
pub(crate) fn is_business_day(d: Date) -> bool {
    if matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
        return false;
    }
    let (m, day) = (d.month(), d.day());
    if matches!(
        (m, day),
        (Month::January, 1) | (Month::May, 1) | (Month::December, 25 | 26)
    ) {
        return false;
    }
    if let Some(e) = easter(d.year())
        && (d == e - Duration::days(2) || d == e + Duration::days(1))
    {
        return false;
    }
    true
}

/// The latest day with published rates at `now`: rates appear around 16:00 CET.
// guess: publication at 15:00 UTC all year (16:00 CET; the ECB's own time is CET/CEST).
pub(crate) fn latest_day(now: OffsetDateTime) -> Date {
    let now = now.to_offset(time::UtcOffset::UTC);
    let mut d = if now.hour() >= 15 {
        now.date()
    } else {
        now.date() - Duration::days(1)
    };
    while !is_business_day(d) {
        d -= Duration::days(1);
    }
    d
}

/// Whether `code` is quoted on `d`.
fn quoted(code: &str, d: Date) -> bool {
    // guess: BGN leaves the list when Bulgaria adopts the euro on 2026-01-01.
    !(code == "BGN" && d.year() >= 2026)
}

/// splitmix64 mixing, for per-(seed, currency, day) noise.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn unit(seed: u64, a: u64, b: u64) -> f64 {
    let x = mix(seed ^ mix(a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix(b)));
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// The published rate (units per EUR) of `code` on `d`; `None` on closed days and for codes the ECB does not
/// quote that day. Does not check that `d` is in the past.
pub(crate) fn rate(seed: u64, d: Date, code: &str) -> Option<Decimal> {
    if !is_business_day(d) || d < euro_start() {
        return None;
    }
    let (index, quote) = QUOTES
        .iter()
        .enumerate()
        .find(|(_, q)| q.code.eq_ignore_ascii_case(code))?;
    if !quoted(quote.code, d) {
        return None;
    }
    let day = f64::from(d.to_julian_day());
    let i = index as u64;
    let tau = std::f64::consts::TAU;
    // A slow cycle (years), a medium one (months) and a little daily noise, each with a seeded phase.
    let slow = (tau * (day / (900.0 + 400.0 * unit(seed, i, 1)) + unit(seed, i, 2))).sin();
    let medium = (tau * (day / (45.0 + 30.0 * unit(seed, i, 3)) + unit(seed, i, 4))).sin();
    let noise = unit(seed, i, 1000 + d.to_julian_day() as u64) - 0.5;
    let level = quote.base
        * (1.0 + quote.swing * slow + quote.swing * 0.25 * medium + quote.swing * 0.05 * noise);
    let scaled = (level * 10f64.powi(quote.decimals as i32)).round();
    Some(Decimal::new(scaled as i64, quote.decimals))
}

/// Every code quoted on `d`, in the ECB's order.
pub(crate) fn codes(d: Date) -> impl Iterator<Item = &'static str> {
    QUOTES.iter().map(|q| q.code).filter(move |c| quoted(c, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn target_holidays_and_weekends_are_closed() {
        assert!(!is_business_day(date!(2026 - 04 - 03)), "Good Friday 2026");
        assert!(
            !is_business_day(date!(2026 - 04 - 06)),
            "Easter Monday 2026"
        );
        assert!(!is_business_day(date!(2026 - 12 - 25)));
        assert!(!is_business_day(date!(2026 - 11 - 21)), "Saturday");
        assert!(is_business_day(date!(2026 - 11 - 20)));
    }

    #[test]
    fn latest_day_waits_for_publication() {
        assert_eq!(
            latest_day(datetime!(2026-11-20 10:00 UTC)),
            date!(2026 - 11 - 19)
        );
        assert_eq!(
            latest_day(datetime!(2026-11-20 16:00 UTC)),
            date!(2026 - 11 - 20)
        );
        assert_eq!(
            latest_day(datetime!(2026-11-22 16:00 UTC)),
            date!(2026 - 11 - 20)
        );
    }

    #[test]
    fn rates_are_deterministic_and_near_their_base() {
        let d = date!(2026 - 11 - 20);
        let usd = rate(1, d, "USD").unwrap();
        assert_eq!(Some(usd), rate(1, d, "usd"));
        assert_ne!(rate(1, d, "USD"), rate(2, d, "USD"));
        assert!(
            usd > Decimal::new(100, 2) && usd < Decimal::new(116, 2),
            "{usd}"
        );
        assert_eq!(usd.scale(), 4);
        assert_eq!(rate(1, d, "GBP").unwrap().scale(), 5);
        assert_eq!(rate(1, date!(2026 - 11 - 21), "USD"), None);
        assert_eq!(rate(1, d, "XXX"), None);
        assert_eq!(rate(1, d, "BGN"), None);
        assert_eq!(
            rate(1, date!(2025 - 11 - 20), "BGN"),
            Some(Decimal::new(19558, 4))
        );
    }
}
