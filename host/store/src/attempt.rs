//! What one attempt of an event records while it runs: the steps of its run history and the business keys it is
//! found by, kept in memory with its lease and written with the lease's answer ([`crate::Store::complete`] and the
//! others), in that answer's transaction.

use crate::backend::Conn;
use crate::error::{Error, Result};
use crate::event::JobId;
use crate::store::{dur_ms, to_ms};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// A business key an event is found by ([`crate::Store::tag_event`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventTag<'a> {
    /// The SKU code a catalogue event concerns ([`crate::Store::find_by_sku`]).
    Sku(&'a str),
    /// The Kentico order number an order event concerns ([`crate::Store::find_by_order_number`]).
    OrderNumber(&'a str),
}

/// One pipeline step to record (extract, transform, load...).
#[derive(Debug, Clone)]
pub struct Step {
    /// Step name, e.g. `extract`.
    pub name: String,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// How long it took.
    pub duration: Duration,
    /// Whether it succeeded.
    pub ok: bool,
    /// Ids or a short summary it produced (never payloads or secrets).
    pub detail: serde_json::Value,
}

/// What an attempt records while it runs, its steps and search tags, kept with its [`Lease`](crate::Lease) and
/// written by the lease's answer (complete, retry, defer, dead letter) in that answer's transaction: one commit per attempt
/// instead of one per row, which on SQLite is one fsync. An attempt that never answers (its host died) leaves no
/// steps; the next attempt records its own.
#[derive(Debug, Default, Clone)]
pub(crate) struct AttemptRecord(Arc<Mutex<Recorded>>);

#[derive(Debug, Default)]
struct Recorded {
    steps: Vec<Step>,
    sku: Option<String>,
    order_number: Option<String>,
}

/// Leases are told apart by event, owner and attempt; what they recorded is not part of that.
impl PartialEq for AttemptRecord {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for AttemptRecord {}

impl AttemptRecord {
    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `step` for the answer.
    pub(crate) fn push_step(&self, step: &Step) {
        self.lock().steps.push(step.clone());
    }

    /// Keeps `tag` for the answer.
    pub(crate) fn tag(&self, tag: EventTag<'_>) {
        let mut recorded = self.lock();
        match tag {
            EventTag::Sku(v) => recorded.sku = Some(v.to_owned()),
            EventTag::OrderNumber(v) => recorded.order_number = Some(v.to_owned()),
        }
    }

    /// Writes what was recorded (and forgets it) inside the answer's transaction.
    pub(crate) async fn write(&self, mut conn: Conn<'_>, job: JobId, attempt: u32) -> Result<()> {
        let Recorded {
            steps,
            sku,
            order_number,
        } = std::mem::take(&mut *self.lock());
        for step in &steps {
            on_conn!(conn.reborrow(), |c| {
                sqlx::query(
                "INSERT INTO event_steps (event_seq, attempt, step, started_at, duration_ms, ok, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(job.0)
            .bind(i64::from(attempt))
            .bind(&step.name)
            .bind(to_ms(step.started_at))
            .bind(dur_ms(step.duration))
            .bind(step.ok)
            .bind(step.detail.to_string())
            .execute(c)
            .await
            .map_err(Error::db("record step"))
            .map(drop)
            })?;
        }
        if sku.is_some() || order_number.is_some() {
            // The outcome's order number, when the answer set one, stands.
            on_conn!(conn, |c| {
                sqlx::query(
                "UPDATE events SET sku = COALESCE($1, sku), order_number = COALESCE(order_number, $2) \
                 WHERE seq = $3",
            )
            .bind(sku)
            .bind(order_number)
            .bind(job.0)
            .execute(c)
            .await
            .map_err(Error::db("tag event"))
            .map(drop)
            })?;
        }
        Ok(())
    }
}
