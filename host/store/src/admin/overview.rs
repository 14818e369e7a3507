//! What the console's tenants overview shows per tenant, read for every tenant at once: a handful of grouped
//! queries, each served by an index, instead of a round of queries per tenant (100 tenants stay one page load).

use crate::connection::Disconnection;
use crate::error::{Error, Result, stored_tenant_id};
use crate::store::{Store, from_ms, to_ms};
use ferry_model::TenantId;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// One tenant's activity as the store knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantActivity {
    /// Events waiting or running (queued, retrying, running).
    pub backlog: u64,
    /// When the oldest of them was received.
    pub oldest_waiting: Option<OffsetDateTime>,
    /// Dead letters nobody has replayed or discarded.
    pub dead_letters: u64,
    /// When an order was last synced to FreshBooks.
    pub last_success: Option<OffsetDateTime>,
    /// The latest failure still standing (a dead or retrying event): when, and its error.
    pub last_error: Option<(OffsetDateTime, String)>,
    /// Orders synced since the start of the day asked for.
    pub synced_today: u64,
    /// Orders synced since the start of the month asked for.
    pub synced_this_month: u64,
    /// FreshBooks accounts the tenant has stored OAuth tokens for (connected at least once).
    pub token_accounts: Vec<String>,
    /// Set while FreshBooks refuses the tenant's authorization for good (see [`Store::mark_disconnected`]).
    pub disconnected: Option<Disconnection>,
}

impl Store {
    /// Every tenant's activity that has any, keyed by tenant. `day` and `month` are where "today" and "this
    /// month" start (the caller picks the time zone).
    ///
    /// # Errors
    /// [`Error::Database`] when a read fails, [`Error::Corrupt`] for a stored tenant id this build cannot read.
    pub async fn tenant_activity(
        &self,
        day: OffsetDateTime,
        month: OffsetDateTime,
    ) -> Result<BTreeMap<TenantId, TenantActivity>> {
        let (day, month) = (to_ms(day), to_ms(month));
        // The partial index `events_ready` holds exactly the open events.
        let backlog: Vec<(String, i64, Option<i64>)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT tenant, COUNT(*), MIN(received_at) FROM events WHERE state IN ('queued', \
                 'retrying', 'running') GROUP BY tenant",
            )
            .fetch_all(p)
            .await
            .map_err(Error::db("count backlog"))?
        });
        let dead: Vec<(String, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT tenant, COUNT(*) FROM events WHERE state = 'dead' GROUP BY tenant",
            )
            .fetch_all(p)
            .await
            .map_err(Error::db("count dead letters"))?
        });
        // The newest standing failure per tenant: its seq from `events_by_state`, then its row.
        let failures: Vec<(String, i64, Option<String>)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT e.tenant, e.updated_at, e.last_error FROM events e JOIN (SELECT tenant, \
                 MAX(seq) AS seq FROM events WHERE state IN ('dead', 'retrying') GROUP BY tenant) \
                 f ON e.seq = f.seq",
            )
            .fetch_all(p)
            .await
            .map_err(Error::db("read latest failures"))?
        });
        // `synced_orders_by_time` (tenant, synced_at) serves all three.
        let synced: Vec<(String, Option<i64>, i64, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT tenant, MAX(synced_at), SUM(CASE WHEN synced_at >= $1 THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN synced_at >= $2 THEN 1 ELSE 0 END) FROM synced_orders GROUP BY \
                 tenant",
            )
            .bind(day)
            .bind(month)
            .fetch_all(p)
            .await
            .map_err(Error::db("count synced orders"))?
        });
        let tokens: Vec<(String, String)> = on_pool!(&self.pool, |p| {
            sqlx::query_as("SELECT tenant, account FROM oauth_tokens")
                .fetch_all(p)
                .await
                .map_err(Error::db("list connected accounts"))?
        });
        let disconnected: Vec<(String, String, String, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as("SELECT tenant, account, reason, since FROM tenant_disconnections")
                .fetch_all(p)
                .await
                .map_err(Error::db("list disconnected tenants"))?
        });
        let mut out: BTreeMap<TenantId, TenantActivity> = BTreeMap::new();
        for (tenant, account) in tokens {
            out.entry(stored_tenant_id(&tenant, "tenant")?)
                .or_default()
                .token_accounts
                .push(account);
        }
        for (tenant, account, reason, since) in disconnected {
            out.entry(stored_tenant_id(&tenant, "tenant")?)
                .or_default()
                .disconnected = Some(Disconnection {
                account,
                reason,
                since: from_ms(since),
            });
        }
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        for (tenant, n, oldest) in backlog {
            let a = out.entry(stored_tenant_id(&tenant, "tenant")?).or_default();
            a.backlog = count(n);
            a.oldest_waiting = oldest.map(from_ms);
        }
        for (tenant, n) in dead {
            out.entry(stored_tenant_id(&tenant, "tenant")?)
                .or_default()
                .dead_letters = count(n);
        }
        for (tenant, at, error) in failures {
            out.entry(stored_tenant_id(&tenant, "tenant")?)
                .or_default()
                .last_error = Some((from_ms(at), error.unwrap_or_default()));
        }
        for (tenant, last, today, month) in synced {
            let a = out.entry(stored_tenant_id(&tenant, "tenant")?).or_default();
            a.last_success = last.map(from_ms);
            a.synced_today = count(today);
            a.synced_this_month = count(month);
        }
        Ok(out)
    }
}
