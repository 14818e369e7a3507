//! Usage per tenant and UTC day — orders synced, calls to FreshBooks and to Kentico — what an operator bills on.
//!
//! Rows are only ever added to ([`Store::add_usage`]), never overwritten, so several hosts sharing a database sum
//! up, and a host restarting loses nothing it had written. An order is counted in the transaction that first
//! records it as synced ([`Store::record_synced_order`]), so it is counted exactly once.

use crate::backend::{Conn, begin_write};
use crate::error::{Error, Result, stored_tenant_id};
use crate::store::Store;
use ferry_model::TenantId;
use serde::Serialize;
use time::Date;
use time::macros::format_description;

/// Counts over a day, a month or any span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageCounts {
    /// Orders whose FreshBooks invoice was first written (or found written) in the span.
    pub orders_synced: u64,
    /// HTTP requests Ferry sent to FreshBooks for the tenant (token refreshes included).
    pub freshbooks_calls: u64,
    /// HTTP requests Ferry sent to the tenant's Kentico REST service.
    pub kentico_calls: u64,
}

impl UsageCounts {
    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl std::ops::AddAssign for UsageCounts {
    fn add_assign(&mut self, other: Self) {
        self.orders_synced += other.orders_synced;
        self.freshbooks_calls += other.freshbooks_calls;
        self.kentico_calls += other.kentico_calls;
    }
}

/// One tenant's counts on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDay {
    /// The tenant.
    pub tenant: TenantId,
    /// The UTC day.
    pub day: Date,
    /// What was counted that day.
    pub counts: UsageCounts,
}

/// `YYYY-MM-DD`, the stored form of a day (sorts as text).
fn day_text(day: Date) -> String {
    day.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Adds `days` to the stored counts, in one transaction (a host's buffered counts land together or not at
    /// all, so a failed flush can be retried whole).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails; nothing was added then.
    pub async fn add_usage(&self, days: &[UsageDay]) -> Result<()> {
        if days.is_empty() {
            return Ok(());
        }
        on_write!(self, |p| {
            let mut tx = begin_write(p, "begin usage update").await?;
            for d in days {
                add(Conn::from(&mut *tx), &d.tenant, d.day, d.counts).await?;
            }
            tx.commit()
                .await
                .map_err(Error::db("commit usage update"))?;
        });
        Ok(())
    }

    /// The days from `from` to `to` (inclusive) with anything counted, of one tenant or of every tenant, by tenant
    /// then day.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for a stored row this build cannot read.
    pub async fn usage(
        &self,
        tenant: Option<&TenantId>,
        from: Date,
        to: Date,
    ) -> Result<Vec<UsageDay>> {
        let rows: Vec<(String, String, i64, i64, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT tenant, day, orders_synced, freshbooks_calls, kentico_calls FROM usage_daily \
                 WHERE ($1 IS NULL OR tenant = $1) AND day >= $2 AND day <= $3 ORDER BY tenant, day",
            )
            .bind(tenant.map(TenantId::as_str))
            .bind(day_text(from))
            .bind(day_text(to))
            .fetch_all(p)
            .await
            .map_err(Error::db("read usage"))?
        });
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        rows.into_iter()
            .map(|(tenant, day, orders, freshbooks, kentico)| {
                Ok(UsageDay {
                    tenant: stored_tenant_id(&tenant, "usage_daily.tenant")?,
                    day: Date::parse(&day, format_description!("[year]-[month]-[day]")).map_err(
                        |e| Error::Corrupt {
                            what: "usage_daily.day",
                            detail: format!("{day:?}: {e}"),
                        },
                    )?,
                    counts: UsageCounts {
                        orders_synced: n(orders),
                        freshbooks_calls: n(freshbooks),
                        kentico_calls: n(kentico),
                    },
                })
            })
            .collect()
    }
}

/// Adds `counts` to `tenant`'s row of `day`, inside the caller's transaction.
pub(crate) async fn add(
    conn: impl Into<Conn<'_>>,
    tenant: &TenantId,
    day: Date,
    counts: UsageCounts,
) -> Result<()> {
    execute!(
        conn.into(),
        "INSERT INTO usage_daily (tenant, day, orders_synced, freshbooks_calls, kentico_calls) VALUES \
         ($1, $2, $3, $4, $5) ON CONFLICT (tenant, day) DO UPDATE SET orders_synced = \
         usage_daily.orders_synced + excluded.orders_synced, freshbooks_calls = \
         usage_daily.freshbooks_calls + excluded.freshbooks_calls, kentico_calls = \
         usage_daily.kentico_calls + excluded.kentico_calls",
        "add usage",
        [
            tenant.as_str(),
            day_text(day),
            count(counts.orders_synced),
            count(counts.freshbooks_calls),
            count(counts.kentico_calls)
        ]
    )?;
    Ok(())
}
