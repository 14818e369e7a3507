//! The tenant's synced orders as the anomaly checks see them (total, largest quantity, customer, country), and the
//! events those checks held for review.
//!
//! A held event is recorded here before it is dead-lettered; a replay of its dead letter (`dead_letter`) releases
//! it, and the worker runs a released event without the checks.

use crate::backend::{Conn, begin_write};
use crate::error::{Error, Result};
use crate::event::JobId;
use crate::store::{Store, from_ms, now_ms};
use crate::usage::{self, UsageCounts};
use ferry_model::{Decimal, TenantId};
use std::str::FromStr;

/// What is kept of one synced order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedOrder {
    /// Kentico `OrderGUID`.
    pub order_guid: String,
    /// ISO currency code of the order.
    pub currency: String,
    /// The order total, in its currency.
    pub total: Decimal,
    /// The order's largest line quantity.
    pub max_quantity: i64,
    /// Who ordered (a key the caller chooses, e.g. the email).
    pub customer: String,
    /// Where it went (ISO country code, or empty).
    pub country: String,
}

/// The history one order is checked against; the order itself is never part of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderHistory {
    /// The order was synced before (this is an edit or a redelivery of it).
    pub seen: bool,
    /// Totals of the tenant's most recent synced orders in the currency asked for, newest first.
    pub totals: Vec<Decimal>,
    /// The largest line quantity of each of the tenant's most recent synced orders (any currency), newest first.
    pub max_quantities: Vec<i64>,
    /// Countries the customer's synced orders went to, sorted, without empties.
    pub customer_countries: Vec<String>,
}

impl Store {
    /// Records (or, for an order synced before, updates) what the anomaly checks keep of a synced order. The first
    /// sync's time stays its place in the history. The first time an order is recorded it is also counted in the
    /// tenant's usage for today (UTC), in the same transaction, so an order is billed once however often it syncs.
    /// Returns whether this was the order's first sync.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails (nothing was recorded or counted).
    pub async fn record_synced_order(
        &self,
        tenant: &TenantId,
        order: &SyncedOrder,
    ) -> Result<bool> {
        let now = now_ms();
        let first = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin record synced order").await?;
            let first = write_synced(Conn::from(&mut *tx), tenant, order, now).await?;
            tx.commit()
                .await
                .map_err(Error::db("commit synced order"))?;
            first
        });
        Ok(first)
    }

    /// The history `order_guid` is checked against: up to `limit` recent orders of the tenant (totals in
    /// `currency`), and the countries of `customer`'s orders.
    ///
    /// # Errors
    /// [`Error::Database`] when a read fails, [`Error::Corrupt`] when a stored total is not a decimal.
    pub async fn order_history(
        &self,
        tenant: &TenantId,
        order_guid: &str,
        currency: &str,
        customer: &str,
        limit: u32,
    ) -> Result<OrderHistory> {
        let t = tenant.as_str();
        let limit = i64::from(limit);
        let (seen, totals, max_quantities, countries) = read_tx!(
            &self.pool,
            "read order history",
            |c| {
                let mut c = c;
                let what = "read order history";
                let seen: Option<(i64,)> = fetch_optional!(
                    c.reborrow(),
                    "SELECT synced_at FROM synced_orders WHERE tenant = $1 AND order_guid = $2",
                    what,
                    [t, order_guid] -> (i64,)
                )?;
                let totals: Vec<(String,)> = fetch_all!(
                    c.reborrow(),
                    "SELECT total FROM synced_orders WHERE tenant = $1 AND currency = $2 AND \
                     order_guid <> $3 ORDER BY synced_at DESC LIMIT $4",
                    what,
                    [t, currency, order_guid, limit] -> (String,)
                )?;
                let quantities: Vec<(i64,)> = fetch_all!(
                    c.reborrow(),
                    "SELECT max_quantity FROM synced_orders WHERE tenant = $1 AND order_guid <> $2 \
                     ORDER BY synced_at DESC LIMIT $3",
                    what,
                    [t, order_guid, limit] -> (i64,)
                )?;
                let countries: Vec<(String,)> = fetch_all!(
                    c,
                    "SELECT DISTINCT country FROM synced_orders WHERE tenant = $1 AND customer = $2 \
                     AND order_guid <> $3 AND country <> '' ORDER BY country",
                    what,
                    [t, customer, order_guid] -> (String,)
                )?;
                Ok((
                    seen.is_some(),
                    totals.into_iter().map(|(s,)| s).collect::<Vec<_>>(),
                    quantities.into_iter().map(|(q,)| q).collect(),
                    countries.into_iter().map(|(c,)| c).collect(),
                ))
            }
        )?;
        let totals = totals
            .iter()
            .map(|s| {
                Decimal::from_str(s).map_err(|e| Error::Corrupt {
                    what: "synced order total",
                    detail: e.to_string(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(OrderHistory {
            seen,
            totals,
            max_quantities,
            customer_countries: countries,
        })
    }

    /// Records that the anomaly checks held `job` for review (before it is dead-lettered).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn hold_for_review(&self, job: JobId) -> Result<()> {
        on_write!(self, |p| {
            sqlx::query(
                "INSERT INTO anomaly_holds (event_seq, held_at) VALUES ($1, $2) ON CONFLICT \
                 (event_seq) DO NOTHING",
            )
            .bind(job.0)
            .bind(now_ms())
            .execute(p)
            .await
            .map_err(Error::db("hold event for review"))?;
        });
        Ok(())
    }

    /// Whether `job` was held for review and a replay released it: it then runs without the anomaly checks.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn released_from_review(&self, job: JobId) -> Result<bool> {
        let released: Option<(i64,)> = on_read!(&self.pool, |c| fetch_optional!(
            c,
            "SELECT event_seq FROM anomaly_holds WHERE event_seq = $1 AND released_at IS NOT NULL",
            "read review hold",
            [job.0] -> (i64,)
        ))?;
        Ok(released.is_some())
    }
}

/// Releases the hold on `job`, if it has one; run in the replay's transaction.
pub(crate) async fn release_hold(conn: impl Into<Conn<'_>>, job: JobId, now: i64) -> Result<()> {
    execute!(
        conn.into(),
        "UPDATE anomaly_holds SET released_at = $1 WHERE event_seq = $2 AND released_at IS NULL",
        "release review hold",
        [now, job.0]
    )?;
    Ok(())
}

/// Records `order` as synced (see [`Store::record_synced_order`]) inside the caller's write transaction; returns
/// whether it was its first sync.
pub(crate) async fn write_synced(
    mut conn: Conn<'_>,
    tenant: &TenantId,
    order: &SyncedOrder,
    now: i64,
) -> Result<bool> {
    // Inside the write transaction: SQLite's writer lock, and on Postgres the per-object ordering that runs one event
    // of an order at a time, keep two syncs of one order from both finding it new. A first sync inserts (one
    // statement); a later one finds the row and updates it.
    let total = order.total.normalize().to_string();
    let inserted = execute!(
        conn.reborrow(),
        "INSERT INTO synced_orders (tenant, order_guid, currency, total, max_quantity, customer, country, \
         synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant, order_guid) DO NOTHING",
        "record synced order",
        [
            tenant.as_str(),
            &order.order_guid,
            &order.currency,
            &total,
            order.max_quantity,
            &order.customer,
            &order.country,
            now
        ]
    )? == 1;
    if !inserted {
        execute!(
            conn.reborrow(),
            "UPDATE synced_orders SET currency = $3, total = $4, max_quantity = $5, customer = $6, country = $7 \
             WHERE tenant = $1 AND order_guid = $2",
            "update synced order",
            [
                tenant.as_str(),
                &order.order_guid,
                &order.currency,
                &total,
                order.max_quantity,
                &order.customer,
                &order.country
            ]
        )?;
    }
    if inserted {
        let counts = UsageCounts {
            orders_synced: 1,
            ..UsageCounts::default()
        };
        usage::add(conn, tenant, from_ms(now).date(), counts).await?;
    }
    Ok(inserted)
}
