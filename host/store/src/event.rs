//! Event rows: what ingest stores, the explicit states, and insert with dedupe by (tenant, event id).

use crate::backend::{Conn, begin_write, lock_insert_order, notify_work};
use crate::error::{Error, Result, stored_tenant_id};
use crate::store::{Store, from_ms, now_ms, to_ms};
use ferry_model::{EventEnvelope, EventId, TenantId};
use sqlx::QueryBuilder;
use std::collections::HashSet;
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

/// Where an event is in its life. States only move forward, except replay (dead → queued).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// Verified and stored; about to be queued (inserts go straight to `Queued` in the same commit).
    Received,
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker holding a lease.
    Running,
    /// Failed transiently; waits for `next_attempt_at`.
    Retrying,
    /// Synced to FreshBooks.
    Done,
    /// Failed permanently or out of attempts; waits for an operator.
    Dead,
    /// Dropped by an operator from the dead-letter queue, with a reason.
    Discarded,
}

impl EventState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Retrying => "retrying",
            Self::Done => "done",
            Self::Dead => "dead",
            Self::Discarded => "discarded",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// [`Error::Corrupt`] for a name this build does not know.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "received" => Self::Received,
            "queued" => Self::Queued,
            "running" => Self::Running,
            "retrying" => Self::Retrying,
            "done" => Self::Done,
            "dead" => Self::Dead,
            "discarded" => Self::Discarded,
            other => {
                return Err(Error::Corrupt {
                    what: "event state",
                    detail: other.to_owned(),
                });
            }
        })
    }

    /// Whether later events of the same object may run (the event no longer holds its object's turn).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Dead | Self::Discarded)
    }
}

impl fmt::Display for EventState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The tenant whose webhook this came in on.
    pub tenant: TenantId,
    /// The parsed envelope.
    pub envelope: EventEnvelope,
    /// The raw body as received (kept for replay and audit; it holds ids, not order data).
    pub payload: String,
}

impl NewEvent {
    /// An event from a parsed envelope and the raw body it was parsed from.
    pub fn new(tenant: TenantId, envelope: EventEnvelope, raw_body: &[u8]) -> Self {
        Self {
            tenant,
            envelope,
            payload: String::from_utf8_lossy(raw_body).into_owned(),
        }
    }

    /// An event from an envelope alone (the payload is re-serialised); for tests and the poller.
    pub fn from_envelope(tenant: TenantId, envelope: EventEnvelope) -> Self {
        let payload = serde_json::to_string(&envelope).unwrap_or_default();
        Self {
            tenant,
            envelope,
            payload,
        }
    }
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsertOutcome {
    /// First time this (tenant, event id) was seen; the event is queued.
    Inserted,
    /// Already stored; nothing changed.
    Duplicate,
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
    pub object_last_modified: OffsetDateTime,
    /// Raw envelope JSON.
    pub payload: String,
    /// Current state.
    pub state: EventState,
    /// Attempts started so far.
    pub attempts: u32,
    /// When the event may next be claimed.
    pub next_attempt_at: OffsetDateTime,
    /// Worker holding the lease, while running.
    pub lease_owner: Option<String>,
    /// When the lease runs out; after that another worker may reclaim the event.
    pub lease_expires_at: Option<OffsetDateTime>,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// FreshBooks ids once done.
    pub outcome: Option<serde_json::Value>,
    /// Kentico order number (searchable), once known.
    pub order_number: Option<String>,
    /// FreshBooks invoice id (searchable), once known.
    pub invoice_id: Option<String>,
    /// When ingest stored it.
    pub received_at: OffsetDateTime,
    /// When the latest attempt started.
    pub started_at: Option<OffsetDateTime>,
    /// When it reached done, dead or discarded.
    pub finished_at: Option<OffsetDateTime>,
    /// Last change.
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
    outcome: Option<String>,
    order_number: Option<String>,
    invoice_id: Option<String>,
    received_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    updated_at: i64,
}

/// One recorded state change of an event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Transition {
    /// When.
    pub at: OffsetDateTime,
    /// State before.
    pub from: EventState,
    /// State after.
    pub to: EventState,
    /// Attempt number at the time.
    pub attempt: u32,
    /// The attempt's error, for retries and dead letters.
    pub error: Option<String>,
    /// Operator note (replay, discard reason).
    pub note: Option<String>,
}

/// Rows per multi-row INSERT: 14 parameters each, well under SQLite's 32766 and Postgres' 65535 limits.
const ROWS_PER_STATEMENT: usize = 512;

/// Records a state change inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_history(
    conn: impl Into<Conn<'_>>,
    job: JobId,
    from: EventState,
    to: EventState,
    attempt: u32,
    error: Option<&str>,
    note: Option<&str>,
    now: i64,
) -> Result<()> {
    on_conn!(conn.into(), |c| sqlx::query(
        "INSERT INTO event_history (event_seq, at, from_state, to_state, attempt, error, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(job.0)
    .bind(now)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(i64::from(attempt))
    .bind(error)
    .bind(note)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(Error::db("record event history"))?;
    Ok(())
}

impl Store {
    /// Stores one event in its own transaction (unbatched; ingest goes through [`Ingestor`](crate::Ingestor)).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn insert_event(&self, ev: &NewEvent) -> Result<InsertOutcome> {
        Ok(self.insert_batch(std::slice::from_ref(ev)).await?.remove(0))
    }

    /// Stores several events in one transaction; outcomes are in input order (a repeat inside the batch
    /// is a `Duplicate`). Dedupe by (tenant, event id) is the table's unique key, so it holds across hosts.
    ///
    /// # Errors
    /// [`Error::Database`] when the transaction fails; then nothing was stored.
    pub async fn insert_batch(&self, events: &[NewEvent]) -> Result<Vec<InsertOutcome>> {
        let now = now_ms();
        let mut inserted: HashSet<(String, String)> = HashSet::new();
        on_pool!(&self.pool, |p| {
            let mut tx = begin_write(p, "begin insert").await?;
            lock_insert_order(
                Conn::from(&mut *tx),
                events.iter().map(|e| e.tenant.as_str()),
            )
            .await?;
            for chunk in events.chunks(ROWS_PER_STATEMENT) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO events (tenant, event_id, kind, ordering_key, object_type, \
                     object_id, object_guid, object_last_modified, payload, state, attempts, \
                     next_attempt_at, received_at, queued_at, updated_at) ",
                );
                q.push_values(chunk, |mut row, ev| {
                    let env = &ev.envelope;
                    row.push_bind(ev.tenant.as_str().to_owned())
                        .push_bind(env.id.clone())
                        .push_bind(env.kind.as_str())
                        .push_bind(env.ordering_key())
                        .push_bind(env.object.object_type.clone())
                        .push_bind(env.object.id)
                        .push_bind(env.object.guid.to_string())
                        .push_bind(to_ms(env.object.last_modified))
                        .push_bind(ev.payload.clone())
                        .push("'queued', 0")
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(now);
                });
                q.push(" ON CONFLICT (tenant, event_id) DO NOTHING RETURNING tenant, event_id");
                let rows: Vec<(String, String)> = q
                    .build_query_as()
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(Error::db("insert events"))?;
                inserted.extend(rows);
            }
            if !inserted.is_empty() {
                notify_work(Conn::from(&mut *tx)).await?;
            }
            tx.commit()
                .await
                .map_err(Error::db("commit inserted events"))?;
        });
        if !inserted.is_empty() {
            self.wake();
        }
        // The first occurrence of a key in the batch is the one inserted; any repeat is a duplicate.
        Ok(events
            .iter()
            .map(|ev| {
                let key = (ev.tenant.as_str().to_owned(), ev.envelope.id.clone());
                if inserted.remove(&key) {
                    InsertOutcome::Inserted
                } else {
                    InsertOutcome::Duplicate
                }
            })
            .collect())
    }

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
}
