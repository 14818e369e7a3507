//! Storing verified events: one or a batch per transaction, deduped by (tenant, event id) across hosts.

use crate::Backend;
use crate::backend::{lock_insert_order, notify_work};
use crate::error::{Error, Result};
use crate::queue::no_earlier_unfinished;
use crate::sqlite_writer::PendingFlush;
use crate::store::{Store, now_ms, to_ms};
use ferry_model::{EventEnvelope, TenantId};
use sqlx::QueryBuilder;
use std::collections::HashSet;

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

/// One event's INSERT, on SQLite's direct write connection (a prepared statement: no round trip to save by
/// inserting several rows at once).
const INSERT_ONE: &str = "INSERT INTO events (tenant, event_id, kind, ordering_key, object_type, object_id, \
     object_guid, object_last_modified, payload, state, attempts, next_attempt_at, received_at, queued_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $10, $10, $10) ON CONFLICT (tenant, \
     event_id) DO NOTHING RETURNING tenant, event_id";

/// Whether the event `$2` of tenant `$1`, just inserted, may run as far as its object goes: no earlier event of its
/// object is unfinished (the claim's own rule).
const OBJECT_FREE: &str = concat!(
    "SELECT EXISTS (SELECT 1 FROM events e WHERE e.tenant = $1 AND e.event_id = $2 AND ",
    no_earlier_unfinished!(),
    ")"
);

/// Rows per multi-row INSERT: 14 parameters each, well under SQLite's 32766 and Postgres' 65535 limits.
const ROWS_PER_STATEMENT: usize = 512;

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
        let (outcomes, flush) = self.insert_batch_unflushed(events).await?;
        flush.wait().await?;
        Ok(outcomes)
    }

    /// [`Store::insert_batch`] that returns once the transaction committed: the events are durable once the
    /// returned flush is done; nobody may be told they are stored before.
    pub(crate) async fn insert_batch_unflushed(
        &self,
        events: &[NewEvent],
    ) -> Result<(Vec<InsertOutcome>, PendingFlush)> {
        let now = now_ms();
        let sqlite = self.backend() == Backend::Sqlite;
        let ((mut inserted, runnable), flush) = write_tx!(self, flush_pending, "insert", |conn| {
            let mut conn = conn;
            let mut inserted: HashSet<(String, String)> = HashSet::new();
            // Whether an inserted event may run now, so that waking the idle workers finds it. On SQLite the
            // writes are one after another: an earlier event of the object answered after this commit sees this
            // event waiting and wakes them then. On Postgres that answer may commit on another host while this
            // insert does, each missing the other, so every insert wakes.
            let mut runnable = false;
            lock_insert_order(conn.reborrow(), events.iter().map(|e| e.tenant.as_str())).await?;
            on_conn!(
                conn.reborrow(),
                |c| {
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
                        q.push(
                            " ON CONFLICT (tenant, event_id) DO NOTHING RETURNING tenant, event_id",
                        );
                        let rows: Vec<(String, String)> = q
                            .build_query_as()
                            .fetch_all(&mut *c)
                            .await
                            .map_err(Error::db("insert events"))?;
                        runnable |= !rows.is_empty();
                        inserted.extend(rows);
                    }
                    Ok::<_, Error>(())
                },
                |d| {
                    for ev in events {
                        let env = &ev.envelope;
                        let row = crate::sqlite_direct::fetch_optional::<(String, String)>(
                            d,
                            INSERT_ONE,
                            &[
                                &ev.tenant.as_str(),
                                &env.id,
                                &env.kind.as_str(),
                                &env.ordering_key(),
                                &env.object.object_type,
                                &env.object.id,
                                &env.object.guid.to_string(),
                                &to_ms(env.object.last_modified),
                                &ev.payload,
                                &now,
                            ],
                        )
                        .map_err(Error::db("insert events"))?;
                        if row.is_some() && !runnable {
                            let free = crate::sqlite_direct::fetch_optional::<(bool,)>(
                                d,
                                OBJECT_FREE,
                                &[&ev.tenant.as_str(), &env.id],
                            )
                            .map_err(Error::db("look for earlier events of the object"))?;
                            runnable = free.is_some_and(|(free,)| free);
                        }
                        inserted.extend(row);
                    }
                    Ok(())
                }
            )?;
            if runnable {
                notify_work(conn).await?;
                if sqlite {
                    // Raised before the commit, while this transaction holds SQLite's one writer: a claim takes
                    // the writer too, so whoever wakes reads after this commit, and a claim already waiting for
                    // the writer takes this signal as answered by its read (`Store::claim_batch`). Raised after
                    // the commit, it could come after that claim's read and end its worker's next wait for a
                    // claim that finds nothing.
                    self.wake();
                }
            }
            Ok((inserted, runnable))
        });
        if runnable && !sqlite {
            // Postgres claims take no common lock: only a commit's signal may wake them.
            self.wake();
        }
        // The first occurrence of a key in the batch is the one inserted; any repeat is a duplicate.
        let outcomes = events
            .iter()
            .map(|ev| {
                let key = (ev.tenant.as_str().to_owned(), ev.envelope.id.clone());
                if inserted.remove(&key) {
                    InsertOutcome::Inserted
                } else {
                    InsertOutcome::Duplicate
                }
            })
            .collect();
        Ok((outcomes, flush))
    }
}
