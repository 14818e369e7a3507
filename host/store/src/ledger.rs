//! Idempotency ledger: intent recorded before each external call, result after.
//!
//! FreshBooks takes no idempotency key, so `load` writes an intent (tenant, key such as
//! `invoice:<order guid>`, payload hash) before calling, and the external id after. An intent without a
//! result means the outcome is unknown: search FreshBooks for the marker before creating again.

use crate::backend::Conn;
use crate::error::{Error, Result};
use crate::store::{Store, from_ms, now_ms};
use ferry_model::TenantId;
use sqlx::Acquire;
use time::OffsetDateTime;

/// Where an external call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerState {
    /// About to call (or called without a known result).
    Intent,
    /// Called; the external id is known.
    Done,
}

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerEntry {
    /// Key, e.g. `invoice:<order guid>`.
    pub key: String,
    /// Intent or done.
    pub state: LedgerState,
    /// External id once done.
    pub external_id: Option<String>,
    /// Hash of what was (to be) sent, to notice a changed payload.
    pub payload_hash: String,
    /// When the intent was first recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Store {
    /// Records the intent to call, unless the key already has a row; returns the row as it now is
    /// (an existing `Done` row means: do not call again, use its external id).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn record_intent(
        &self,
        tenant: &TenantId,
        key: &str,
        payload_hash: &str,
    ) -> Result<LedgerEntry> {
        self.record_intent_after(&[], tenant, key, payload_hash)
            .await?;
        self.ledger_lookup(tenant, key)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: format!("ledger entry {key}"),
            })
    }

    /// [`Store::record_intent`] without reading the row back: true when this call wrote the intent (the key had no
    /// row), false when the key already had one (an intent or a result).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn write_intent(
        &self,
        tenant: &TenantId,
        key: &str,
        payload_hash: &str,
    ) -> Result<bool> {
        self.record_intent_after(&[], tenant, key, payload_hash)
            .await
    }

    /// Writes the intent of [`Store::record_intent`], with `results` held back by the attempt written first in the
    /// same transaction; does not read the row back. True when it wrote the intent (the key had no row).
    pub(crate) async fn record_intent_after(
        &self,
        results: &[DeferredResult],
        tenant: &TenantId,
        key: &str,
        payload_hash: &str,
    ) -> Result<bool> {
        let now = now_ms();
        write_tx!(self, "record intent", |conn| {
            let mut conn = conn;
            write_results(conn.reborrow(), results, now).await?;
            write_intent(conn, tenant.as_str(), key, payload_hash, now).await
        })
    }

    /// Takes back the intent of `key` (a create that certainly created nothing); a result stays.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn withdraw_intent(&self, tenant: &TenantId, key: &str) -> Result<()> {
        on_write!(self, |p| {
            sqlx::query(
                "DELETE FROM idempotency WHERE tenant = $1 AND key = $2 AND state = 'intent'",
            )
            .bind(tenant.as_str())
            .bind(key)
            .execute(p)
            .await
            .map_err(Error::db("withdraw intent"))
            .map(drop)
        })
    }

    /// Records the result of the call: the external id.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn record_result(
        &self,
        tenant: &TenantId,
        key: &str,
        external_id: &str,
    ) -> Result<()> {
        let now = now_ms();
        on_write!(self, |p| {
            write_result(
                Conn::from(&mut *p.acquire().await.map_err(Error::db("record call result"))?),
                tenant.as_str(),
                key,
                external_id,
                now,
            )
            .await
        })
    }

    /// The ledger row for a key, if any.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn ledger_lookup(&self, tenant: &TenantId, key: &str) -> Result<Option<LedgerEntry>> {
        let row: Option<LedgerRow> = on_read!(&self.pool, |c| fetch_optional!(
            c,
            "SELECT key, state, external_id, payload_hash, created_at, updated_at FROM idempotency \
             WHERE tenant = $1 AND key = $2",
            "look up ledger",
            [tenant.as_str(), key] -> LedgerRow
        ))?;
        Ok(row.map(into_entry))
    }

    /// The ledger rows of several keys of one tenant, read in one query (the keys without a row are left out).
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn ledger_lookup_many(
        &self,
        tenant: &TenantId,
        keys: &[String],
    ) -> Result<Vec<LedgerEntry>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (2..keys.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT key, state, external_id, payload_hash, created_at, updated_at FROM idempotency WHERE \
             tenant = $1 AND key IN ({})",
            placeholders.join(", ")
        );
        let t = tenant.as_str();
        let rows: Vec<LedgerRow> = on_read!(&self.pool, |c| on_conn!(
            c,
            |p| {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(t);
                for key in keys {
                    query = query.bind(key);
                }
                query.fetch_all(p).await
            }
            .map_err(Error::db("look up ledger keys")),
            |d| {
                let params: Vec<&dyn rusqlite::ToSql> = std::iter::once(&t as &dyn rusqlite::ToSql)
                    .chain(keys.iter().map(|k| k as &dyn rusqlite::ToSql))
                    .collect();
                crate::sqlite_direct::fetch_all(d, &sql, &params)
                    .map_err(Error::db("look up ledger keys"))
            }
        ))?;
        Ok(rows.into_iter().map(into_entry).collect())
    }
}

/// An `idempotency` row as stored: key, state, external id, payload hash, created and updated (Unix ms).
type LedgerRow = (String, String, Option<String>, String, i64, i64);

fn into_entry(
    (key, state, external_id, payload_hash, created_at, updated_at): LedgerRow,
) -> LedgerEntry {
    LedgerEntry {
        key,
        state: if state == "done" {
            LedgerState::Done
        } else {
            LedgerState::Intent
        },
        external_id,
        payload_hash,
        created_at: from_ms(created_at),
        updated_at: from_ms(updated_at),
    }
}

/// A ledger result an attempt holds back for its next write ([`crate::Store::record_result_with_answer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeferredResult {
    pub(crate) tenant: String,
    pub(crate) key: String,
    pub(crate) external_id: String,
}

/// Inserts the intent row of `key` unless it has one; true when it inserted it.
async fn write_intent(
    conn: Conn<'_>,
    tenant: &str,
    key: &str,
    payload_hash: &str,
    now: i64,
) -> Result<bool> {
    execute!(
        conn,
        "INSERT INTO idempotency (tenant, key, state, external_id, payload_hash, created_at, \
         updated_at) VALUES ($1, $2, 'intent', NULL, $3, $4, $4) ON CONFLICT (tenant, key) DO NOTHING",
        "record intent",
        [tenant, key, payload_hash, now]
    )
    .map(|rows| rows == 1)
}

/// Sets a key done: `$1` tenant, `$2` key, `$3` external id, `$4` now.
const RESULT_SQL: &str = "INSERT INTO idempotency (tenant, key, state, external_id, payload_hash, created_at, \
     updated_at) VALUES ($1, $2, 'done', $3, '', $4, $4) ON CONFLICT (tenant, key) DO UPDATE SET state = 'done', \
     external_id = excluded.external_id, updated_at = excluded.updated_at";

/// Sets `key` done with `external_id`.
async fn write_result(
    conn: Conn<'_>,
    tenant: &str,
    key: &str,
    external_id: &str,
    now: i64,
) -> Result<()> {
    execute!(
        conn,
        RESULT_SQL,
        "record call result",
        [tenant, key, external_id, now]
    )
    .map(drop)
}

/// Writes the results an attempt deferred, in one statement (a key deferred twice: its latest result).
pub(crate) async fn write_results(
    conn: Conn<'_>,
    results: &[DeferredResult],
    now: i64,
) -> Result<()> {
    let mut latest: Vec<&DeferredResult> = Vec::with_capacity(results.len());
    for r in results.iter().rev() {
        if !latest
            .iter()
            .any(|l| l.tenant == r.tenant && l.key == r.key)
        {
            latest.push(r);
        }
    }
    if latest.is_empty() {
        return Ok(());
    }
    on_conn!(
        conn,
        |c| {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO idempotency (tenant, key, state, external_id, payload_hash, created_at, updated_at) ",
            );
            insert.push_values(&latest, |mut row, r| {
                row.push_bind(r.tenant.clone())
                    .push_bind(r.key.clone())
                    .push_bind("done")
                    .push_bind(r.external_id.clone())
                    .push_bind("")
                    .push_bind(now)
                    .push_bind(now);
            });
            insert.push(
            " ON CONFLICT (tenant, key) DO UPDATE SET state = 'done', external_id = excluded.external_id, \
             updated_at = excluded.updated_at",
        );
            insert
                .build()
                .execute(c)
                .await
                .map_err(Error::db("record call results"))
                .map(drop)
        },
        |d| {
            // One prepared statement, run per result: no round trip to save.
            latest.iter().try_for_each(|r| {
                crate::sqlite_direct::execute(
                    d,
                    RESULT_SQL,
                    &[&r.tenant, &r.key, &r.external_id, &now],
                )
                .map(drop)
                .map_err(Error::db("record call results"))
            })
        }
    )
}
