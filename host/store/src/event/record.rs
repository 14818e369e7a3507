//! One stored event ([`EventRecord`], keyed by its [`JobId`]), decoded from its row, and reading events back.

use super::state::EventState;
use crate::error::{Error, Result, stored_tenant_id};
use crate::store::{Store, from_ms};
use ferry_model::{ErrorClass, EventEnvelope, EventId, TenantId};
use std::fmt;
use time::OffsetDateTime;

/// The store's id of an event row (its queue position); what the worker and admin API pass around.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct JobId(pub i64);

impl JobId {
    /// Parses the decimal form [`Display`](fmt::Display) prints (what the CLI and admin API accept).
    ///
    /// # Errors
    /// [`Error::NotFound`] when `s` is not a positive integer (no event can have that key).
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().parse::<i64>() {
            Ok(n) if n > 0 => Ok(Self(n)),
            _ => Err(Error::NotFound {
                what: format!("event {s:?}"),
            }),
        }
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One stored event with its state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRecord {
    /// Row id.
    pub job: JobId,
    /// Tenant.
    pub tenant: TenantId,
    /// Sender's event id.
    pub event_id: EventId,
    /// Event type, e.g. `order.created`.
    pub kind: String,
    /// Per-object ordering key, e.g. `ecommerce.order:27`.
    pub ordering_key: String,
    /// Kentico object type.
    pub object_type: String,
    /// Kentico object id.
    pub object_id: i64,
    /// Kentico object GUID.
    pub object_guid: String,
    /// The object's last-modified time the event carried.
    #[serde(with = "time::serde::rfc3339")]
    pub object_last_modified: OffsetDateTime,
    /// Raw envelope JSON.
    pub payload: String,
    /// Current state.
    pub state: EventState,
    /// Attempts started so far.
    pub attempts: u32,
    /// When the event may next be claimed.
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// Worker holding the lease, while running.
    pub lease_owner: Option<String>,
    /// When the lease runs out; after that another worker may reclaim the event.
    #[serde(with = "time::serde::rfc3339::option")]
    pub lease_expires_at: Option<OffsetDateTime>,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// The class of the error that dead-lettered it, while it is dead (kept once discarded).
    pub error_class: Option<ErrorClass>,
    /// FreshBooks ids once done.
    pub outcome: Option<serde_json::Value>,
    /// Kentico order number (searchable), once known.
    pub order_number: Option<String>,
    /// FreshBooks invoice id (searchable), once known.
    pub invoice_id: Option<String>,
    /// When ingest stored it.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// When the latest attempt started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When it reached done, dead or discarded.
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl EventRecord {
    /// The envelope, parsed again from the stored payload.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the payload no longer parses.
    pub fn envelope(&self) -> Result<EventEnvelope> {
        EventEnvelope::parse(self.payload.as_bytes()).map_err(|e| Error::Corrupt {
            what: "event payload",
            detail: e.to_string(),
        })
    }

    pub(crate) fn from_row(row: EventRow) -> Result<Self> {
        let opt = |v: Option<i64>| v.map(from_ms);
        Ok(Self {
            job: JobId(row.seq),
            tenant: stored_tenant_id(&row.tenant, "tenant")?,
            event_id: EventId::parse(&row.event_id).map_err(|e| Error::Corrupt {
                what: "event id",
                detail: e.to_string(),
            })?,
            kind: row.kind,
            ordering_key: row.ordering_key,
            object_type: row.object_type,
            object_id: row.object_id,
            object_guid: row.object_guid,
            object_last_modified: from_ms(row.object_last_modified),
            payload: row.payload,
            state: EventState::parse(&row.state)?,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            next_attempt_at: from_ms(row.next_attempt_at),
            lease_owner: row.lease_owner,
            lease_expires_at: opt(row.lease_expires_at),
            last_error: row.last_error,
            error_class: row.error_class.map(|c| c.parse()).transpose().map_err(
                |e: ferry_model::UnknownErrorClass| Error::Corrupt {
                    what: "error class",
                    detail: e.to_string(),
                },
            )?,
            outcome: row
                .outcome
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(|e| Error::Corrupt {
                    what: "event outcome",
                    detail: e.to_string(),
                })?,
            order_number: row.order_number,
            invoice_id: row.invoice_id,
            received_at: from_ms(row.received_at),
            started_at: opt(row.started_at),
            finished_at: opt(row.finished_at),
            updated_at: from_ms(row.updated_at),
        })
    }

    /// Rows as read by `query_as::<_, EventRow>("SELECT * FROM events …")` on either backend.
    pub(crate) fn from_rows(rows: Vec<EventRow>) -> Result<Vec<Self>> {
        rows.into_iter().map(Self::from_row).collect()
    }
}

/// An `events` row as stored (both backends decode it the same way).
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    seq: i64,
    tenant: String,
    event_id: String,
    kind: String,
    ordering_key: String,
    object_type: String,
    object_id: i64,
    object_guid: String,
    object_last_modified: i64,
    payload: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    lease_owner: Option<String>,
    lease_expires_at: Option<i64>,
    last_error: Option<String>,
    error_class: Option<String>,
    outcome: Option<String>,
    order_number: Option<String>,
    invoice_id: Option<String>,
    received_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    updated_at: i64,
}

/// The same row read on SQLite's direct write connection (by column name, as sqlx's `FromRow` reads it).
impl crate::sqlite_direct::FromDirectRow for EventRow {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: row.get("seq")?,
            tenant: row.get("tenant")?,
            event_id: row.get("event_id")?,
            kind: row.get("kind")?,
            ordering_key: row.get("ordering_key")?,
            object_type: row.get("object_type")?,
            object_id: row.get("object_id")?,
            object_guid: row.get("object_guid")?,
            object_last_modified: row.get("object_last_modified")?,
            payload: row.get("payload")?,
            state: row.get("state")?,
            attempts: row.get("attempts")?,
            next_attempt_at: row.get("next_attempt_at")?,
            lease_owner: row.get("lease_owner")?,
            lease_expires_at: row.get("lease_expires_at")?,
            last_error: row.get("last_error")?,
            error_class: row.get("error_class")?,
            outcome: row.get("outcome")?,
            order_number: row.get("order_number")?,
            invoice_id: row.get("invoice_id")?,
            received_at: row.get("received_at")?,
            started_at: row.get("started_at")?,
            finished_at: row.get("finished_at")?,
            updated_at: row.get("updated_at")?,
        })
    }
}

impl Store {
    /// The event stored under (tenant, event id), if any.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn event_by_id(
        &self,
        tenant: &TenantId,
        event_id: &str,
    ) -> Result<Option<EventRecord>> {
        let row: Option<EventRow> = on_pool!(&self.pool, |p| sqlx::query_as(
            "SELECT * FROM events WHERE tenant = $1 AND event_id = $2",
        )
        .bind(tenant.as_str())
        .bind(event_id)
        .fetch_optional(p)
        .await
        .map_err(Error::db("read event"))?);
        row.map(EventRecord::from_row).transpose()
    }

    /// The event with this job id.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is none, [`Error::Database`] when the read fails.
    pub async fn event(&self, job: JobId) -> Result<EventRecord> {
        let row: Option<EventRow> = on_pool!(&self.pool, |p| sqlx::query_as(
            "SELECT * FROM events WHERE seq = $1",
        )
        .bind(job.0)
        .fetch_optional(p)
        .await
        .map_err(Error::db("read event"))?);
        match row {
            Some(r) => EventRecord::from_row(r),
            None => Err(Error::NotFound {
                what: format!("event {job}"),
            }),
        }
    }

    /// Counts events of a tenant (or all tenants) in a state.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn count_in_state(
        &self,
        tenant: Option<&TenantId>,
        state: EventState,
    ) -> Result<u64> {
        let n: i64 = on_pool!(&self.pool, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM events WHERE state = $1 AND ($2 IS NULL OR tenant = $2)",
        )
        .bind(state.as_str())
        .bind(tenant.map(TenantId::as_str))
        .fetch_one(p)
        .await
        .map_err(Error::db("count events"))?);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// When the oldest event of `tenant` still waiting (queued, retrying or running) was received; `None` when
    /// nothing waits. The alerts' backlog check.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn oldest_waiting(&self, tenant: &TenantId) -> Result<Option<OffsetDateTime>> {
        let oldest: Option<i64> = on_pool!(&self.pool, |p| {
            sqlx::query_scalar(
            "SELECT MIN(received_at) FROM events WHERE state IN ('queued', 'retrying', 'running') \
             AND tenant = $1",
        )
        .bind(tenant.as_str())
        .fetch_one(p)
        .await
        .map_err(Error::db("read the oldest waiting event"))?
        });
        Ok(oldest.map(from_ms))
    }

    /// Counts events per tenant and state (states without events are absent), for the `ferry_store_events` gauge.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails; [`Error::Corrupt`] for a state this build does not know.
    pub async fn count_by_tenant_and_state(&self) -> Result<Vec<(TenantId, EventState, u64)>> {
        let rows: Vec<(String, String, i64)> = on_pool!(&self.pool, |p| sqlx::query_as(
            "SELECT tenant, state, COUNT(*) FROM events GROUP BY tenant, state",
        )
        .fetch_all(p)
        .await
        .map_err(Error::db("count events by tenant and state"))?);
        rows.into_iter()
            .map(|(tenant, state, n)| {
                Ok((
                    stored_tenant_id(&tenant, "event tenant")?,
                    EventState::parse(&state)?,
                    u64::try_from(n).unwrap_or(0),
                ))
            })
            .collect()
    }
}
