//! The days a usage question covers, and the answer per tenant: the days with anything counted, every month of the
//! range (the days of it asked for) and the total. The admin API serves it as JSON, the console as tables.

use ferry_model::TenantId;
use ferry_store::{UsageCounts, UsageDay};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use time::macros::format_description;
use time::{Date, Month};

/// The most days one question may cover (two years): answers stay small however many tenants there are.
pub const MAX_DAYS: i64 = 731;

/// The days asked for, both ends included (UTC days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageRange {
    /// The first day.
    pub from: Date,
    /// The last day.
    pub to: Date,
}

/// A field's value, unless it is missing or blank (as browsers send empty fields).
fn given(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}

fn parse_day(field: &str, raw: &str) -> Result<Date, String> {
    Date::parse(raw.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{field}: {raw:?} is not a date (YYYY-MM-DD)"))
}

/// The first day of `day`'s month.
fn month_start(day: Date) -> Date {
    day.replace_day(1).unwrap_or(day)
}

impl UsageRange {
    /// The current month up to `today`.
    pub fn this_month(today: Date) -> Self {
        Self {
            from: month_start(today),
            to: today,
        }
    }

    /// The days from `from` to `to` (`YYYY-MM-DD`, empty as not given): `to` defaults to `today`, `from` to the
    /// first day of `to`'s month.
    ///
    /// # Errors
    /// What is wrong, naming the field: not a date, `from` after `to`, or more than [`MAX_DAYS`] days.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: Date) -> Result<Self, String> {
        let to = given(to).map_or(Ok(today), |raw| parse_day("to", raw))?;
        let from = given(from).map_or(Ok(month_start(to)), |raw| parse_day("from", raw))?;
        if from > to {
            return Err(format!("from ({from}) is after to ({to})"));
        }
        let days = (to - from).whole_days() + 1;
        if days > MAX_DAYS {
            return Err(format!(
                "{from} to {to} is {days} days; ask for at most {MAX_DAYS} days at a time"
            ));
        }
        Ok(Self { from, to })
    }

    /// The first day of every month the range touches, oldest first.
    fn months(&self) -> Vec<Date> {
        let mut months = Vec::new();
        let mut m = month_start(self.from);
        while m <= self.to {
            months.push(m);
            let (year, next) = match m.month() {
                Month::December => (m.year() + 1, Month::January),
                other => (m.year(), other.next()),
            };
            match Date::from_calendar_date(year, next, 1) {
                Ok(d) => m = d,
                Err(_) => break,
            }
        }
        months
    }
}

fn iso_day<S: Serializer>(day: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(day)
}

fn iso_month<S: Serializer>(start: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&month_label(*start))
}

/// The month of `day` as `YYYY-MM`.
pub fn month_label(day: Date) -> String {
    format!("{:04}-{:02}", day.year(), u8::from(day.month()))
}

/// One day's counts.
#[derive(Debug, Clone, Serialize)]
pub struct DayUsage {
    /// The UTC day, `YYYY-MM-DD`.
    #[serde(serialize_with = "iso_day")]
    pub day: Date,
    /// What was counted.
    #[serde(flatten)]
    pub counts: UsageCounts,
}

/// One month's counts (over the days of it asked for).
#[derive(Debug, Clone, Serialize)]
pub struct MonthUsage {
    /// The month, `YYYY-MM` (its first day here).
    #[serde(rename = "month", serialize_with = "iso_month")]
    pub start: Date,
    /// What was counted.
    #[serde(flatten)]
    pub counts: UsageCounts,
}

/// One tenant's usage over a range.
#[derive(Debug, Clone, Serialize)]
pub struct TenantUsage {
    /// The tenant.
    pub tenant: TenantId,
    /// Everything in the range.
    pub total: UsageCounts,
    /// Every month the range touches, oldest first (zero when nothing was counted).
    pub months: Vec<MonthUsage>,
    /// The days with anything counted, oldest first.
    pub days: Vec<DayUsage>,
}

/// `rows` (the store's days of `range`) per tenant, with every tenant of `tenants` even when it has none, by
/// tenant id.
pub fn by_tenant(
    range: UsageRange,
    rows: Vec<UsageDay>,
    tenants: impl IntoIterator<Item = TenantId>,
) -> Vec<TenantUsage> {
    let mut grouped: BTreeMap<TenantId, Vec<DayUsage>> =
        tenants.into_iter().map(|t| (t, Vec::new())).collect();
    for row in rows {
        grouped.entry(row.tenant).or_default().push(DayUsage {
            day: row.day,
            counts: row.counts,
        });
    }
    let months = range.months();
    grouped
        .into_iter()
        .map(|(tenant, days)| {
            let mut total = UsageCounts::default();
            let mut per_month: Vec<MonthUsage> = months
                .iter()
                .map(|&start| MonthUsage {
                    start,
                    counts: UsageCounts::default(),
                })
                .collect();
            for d in &days {
                total += d.counts;
                if let Some(m) = per_month.iter_mut().rev().find(|m| m.start <= d.day) {
                    m.counts += d.counts;
                }
            }
            TenantUsage {
                tenant,
                total,
                months: per_month,
                days,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn counts(orders: u64, fb: u64, kentico: u64) -> UsageCounts {
        UsageCounts {
            orders_synced: orders,
            freshbooks_calls: fb,
            kentico_calls: kentico,
        }
    }

    #[test]
    fn a_range_defaults_to_this_month_and_refuses_what_it_cannot_answer() {
        let today = date!(2026 - 12 - 05);
        assert_eq!(
            UsageRange::parse(None, Some(""), today),
            Ok(UsageRange {
                from: date!(2026 - 12 - 01),
                to: today
            })
        );
        assert_eq!(
            UsageRange::parse(None, Some("2026-11-20"), today).map(|r| r.from),
            Ok(date!(2026 - 11 - 01))
        );
        let err = |from, to| UsageRange::parse(from, to, today).unwrap_err();
        assert_eq!(
            err(Some("2026-13-01"), None),
            "from: \"2026-13-01\" is not a date (YYYY-MM-DD)"
        );
        assert_eq!(
            err(Some("2026-12-06"), Some("2026-12-05")),
            "from (2026-12-06) is after to (2026-12-05)"
        );
        assert!(err(Some("2020-01-01"), None).contains("at most 731 days"));
    }

    #[test]
    fn days_add_up_to_their_months_and_the_total_for_every_tenant_asked_for() {
        let range = UsageRange::parse(
            Some("2026-11-20"),
            Some("2027-01-02"),
            date!(2027 - 01 - 02),
        )
        .unwrap();
        let shop = TenantId::parse("shop").unwrap();
        let idle = TenantId::parse("idle").unwrap();
        let row = |day, c| UsageDay {
            tenant: shop.clone(),
            day,
            counts: c,
        };
        let rows = vec![
            row(date!(2026 - 11 - 30), counts(1, 4, 5)),
            row(date!(2026 - 12 - 01), counts(2, 8, 9)),
            row(date!(2026 - 12 - 31), counts(1, 3, 4)),
        ];
        let usage = by_tenant(range, rows, [idle.clone(), shop.clone()]);
        assert_eq!(usage.len(), 2);
        assert_eq!(usage[0].tenant, idle);
        assert!(usage[0].total.is_empty() && usage[0].days.is_empty());
        assert_eq!(usage[0].months.len(), 3, "zero months are listed too");
        let s = &usage[1];
        assert_eq!(s.total, counts(4, 15, 18));
        let months: Vec<UsageCounts> = s.months.iter().map(|m| m.counts).collect();
        assert_eq!(
            months,
            [counts(1, 4, 5), counts(3, 11, 13), UsageCounts::default()]
        );
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["months"][1]["month"], "2026-12");
        assert_eq!(json["days"][0]["day"], "2026-11-30");
        assert_eq!(json["days"][0]["freshbooks_calls"], 4);
    }
}
