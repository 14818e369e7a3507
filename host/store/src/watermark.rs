//! Watermarks for the reconciliation poller, and the "did an event already cover this?" check.
//!
//! The poller lists Kentico objects modified after its watermark and enqueues only those no webhook event
//! covered, so a missed webhook is caught without syncing everything twice.

use crate::error::{Error, Result};
use crate::store::{Store, from_ms, now_ms, to_ms};
use ferry_model::TenantId;
use time::OffsetDateTime;

/// How far the poller has read: last `last_modified` seen and, for ties, the last id at that time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Watermark {
    /// The newest `*LastModified` processed.
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified: OffsetDateTime,
    /// The highest object id processed at that `last_modified`.
    pub last_id: i64,
}

impl Store {
    /// The poller's position for (tenant, object type), if it has one.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn watermark(
        &self,
        tenant: &TenantId,
        object_type: &str,
    ) -> Result<Option<Watermark>> {
        let row: Option<(i64, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
            "SELECT last_modified, last_id FROM watermarks WHERE tenant = $1 AND object_type = $2",
        )
        .bind(tenant.as_str())
        .bind(object_type)
        .fetch_optional(p)
        .await
        .map_err(Error::db("read watermark"))?
        });
        Ok(row.map(|(last_modified, last_id)| Watermark {
            last_modified: from_ms(last_modified),
            last_id,
        }))
    }

    /// Moves the poller's position forward; a position behind the stored one is ignored (never goes back).
    /// Returns whether it moved.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn advance_watermark(
        &self,
        tenant: &TenantId,
        object_type: &str,
        to: Watermark,
    ) -> Result<bool> {
        let lm = to_ms(to.last_modified);
        let done = on_write!(self, |p| {
            sqlx::query(
                "INSERT INTO watermarks (tenant, object_type, last_modified, last_id, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, object_type) DO UPDATE SET \
                 last_modified = excluded.last_modified, last_id = excluded.last_id, updated_at = \
                 excluded.updated_at WHERE watermarks.last_modified < excluded.last_modified OR \
                 (watermarks.last_modified = excluded.last_modified AND watermarks.last_id < \
                 excluded.last_id)",
            )
            .bind(tenant.as_str())
            .bind(object_type)
            .bind(lm)
            .bind(to.last_id)
            .bind(now_ms())
            .execute(p)
            .await
            .map_err(Error::db("advance watermark"))?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Whether some stored event (any state but discarded) already covers the object at `last_modified` or later.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn event_covers(
        &self,
        tenant: &TenantId,
        object_type: &str,
        object_id: i64,
        last_modified: OffsetDateTime,
    ) -> Result<bool> {
        let found: bool = on_pool!(&self.pool, |p| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE tenant = $1 AND ordering_key = $2 AND \
             object_last_modified >= $3 AND state <> 'discarded')",
        )
        .bind(tenant.as_str())
        .bind(format!("{object_type}:{object_id}"))
        .bind(to_ms(last_modified))
        .fetch_one(p)
        .await
        .map_err(Error::db("check event coverage"))?);
        Ok(found)
    }
}
