//! What one attempt of an event records while it runs: the steps of its run history and the business keys it is
//! found by, kept in memory with its lease and written with the lease's answer ([`crate::Store::complete`] and the
//! others), in that answer's transaction.

use crate::backend::Conn;
use crate::error::{Error, Result};
use crate::event::JobId;
use crate::ledger::DeferredResult;
use crate::order_history::{SyncedOrder, write_synced};
use crate::store::{dur_ms, now_ms, to_ms};
use ferry_model::TenantId;
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

/// Proof that a worker holds an event; needed to answer for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The event.
    pub job: JobId,
    /// The lease owner named in the claim.
    pub owner: String,
    /// The attempt this lease is for (1-based).
    pub attempt: u32,
    /// The steps and tags the attempt recorded, written with its answer.
    pub(crate) recorded: AttemptRecord,
}

impl Lease {
    /// Whether this lease's completing answer recorded an order synced for the first time
    /// ([`crate::Store::record_synced_order_with_answer`]; counted in the tenant's usage).
    pub fn counted_new_order(&self) -> bool {
        self.recorded.counted_new_order()
    }
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
    /// Ledger results written with the attempt's next ledger write or its answer, oldest first.
    results: Vec<DeferredResult>,
    /// The synced order to record with a completing answer.
    synced: Option<(TenantId, SyncedOrder)>,
    /// Set by the answer that recorded `synced`: whether it was the order's first sync.
    counted_new_order: bool,
    /// The run read its object as it stood at this time: a completing answer also completes the object's waiting
    /// events up to it ([`crate::Store::covers_with_answer`]).
    covers: Option<OffsetDateTime>,
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

    /// For a completing answer, which writes them in its own update of the event: the SKU and order number tagged (taken,
    /// so that [`Self::write`] does not write them again) and the time the run's read stood at, in ms (kept: the
    /// answer's coverage still needs it).
    pub(crate) fn completion_tags(&self) -> (Option<String>, Option<String>, Option<i64>) {
        let mut recorded = self.lock();
        (
            recorded.sku.take(),
            recorded.order_number.take(),
            recorded.covers.map(to_ms),
        )
    }

    /// Keeps the ledger result of `key` for the next write.
    pub(crate) fn defer_result(&self, tenant: &TenantId, key: &str, external_id: &str) {
        self.lock().results.push(DeferredResult {
            tenant: tenant.to_string(),
            key: key.to_owned(),
            external_id: external_id.to_owned(),
        });
    }

    /// The ledger results held back so far, oldest first.
    pub(crate) fn deferred_results(&self) -> Vec<DeferredResult> {
        self.lock().results.clone()
    }

    /// The external id held back for `key`, if any (the latest).
    pub(crate) fn deferred_result(&self, tenant: &TenantId, key: &str) -> Option<String> {
        self.lock()
            .results
            .iter()
            .rev()
            .find(|r| r.tenant == tenant.as_str() && r.key == key)
            .map(|r| r.external_id.clone())
    }

    /// Forgets the oldest `n` held-back results, once written.
    pub(crate) fn forget_results(&self, n: usize) {
        let mut recorded = self.lock();
        let n = n.min(recorded.results.len());
        recorded.results.drain(..n);
    }

    /// Keeps `order` to record as synced with a completing answer.
    pub(crate) fn synced_order(&self, tenant: &TenantId, order: &SyncedOrder) {
        self.lock().synced = Some((tenant.clone(), order.clone()));
    }

    /// Keeps the time the run's read of its object stood at.
    pub(crate) fn covers(&self, as_of: OffsetDateTime) {
        self.lock().covers = Some(as_of);
    }

    /// Whether the answer recorded the synced order as new.
    pub(crate) fn counted_new_order(&self) -> bool {
        self.lock().counted_new_order
    }

    /// Writes what was recorded (and forgets it) inside the answer's transaction; a completing answer (`completes`)
    /// also records the synced order and completes the events its run covered. Returns, when it looked (it covered),
    /// whether other events of the object still wait.
    pub(crate) async fn write(
        &self,
        mut conn: Conn<'_>,
        job: JobId,
        attempt: u32,
        completes: bool,
    ) -> Result<Option<bool>> {
        let Recorded {
            steps,
            sku,
            order_number,
            results,
            synced,
            counted_new_order: _,
            covers,
        } = std::mem::take(&mut *self.lock());
        let now = now_ms();
        crate::ledger::write_results(conn.reborrow(), &results, now).await?;
        if completes && let Some((tenant, order)) = synced {
            let first = write_synced(conn.reborrow(), &tenant, &order, now).await?;
            self.lock().counted_new_order = first;
        }
        if !steps.is_empty() {
            on_conn!(
                conn.reborrow(),
                |c| {
                    // One statement for all of the attempt's steps.
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO event_steps (event_seq, attempt, step, started_at, duration_ms, ok, detail) ",
                    );
                    insert.push_values(&steps, |mut row, step| {
                        row.push_bind(job.0)
                            .push_bind(i64::from(attempt))
                            .push_bind(step.name.clone())
                            .push_bind(to_ms(step.started_at))
                            .push_bind(dur_ms(step.duration))
                            .push_bind(step.ok)
                            .push_bind(step.detail.to_string());
                    });
                    insert
                        .build()
                        .execute(c)
                        .await
                        .map_err(Error::db("record steps"))
                        .map(drop)
                },
                |d| {
                    // One prepared statement, run per step: no round trip to save.
                    let sql = "INSERT INTO event_steps (event_seq, attempt, step, started_at, duration_ms, ok, detail) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7)";
                    steps.iter().try_for_each(|step| {
                        crate::sqlite_direct::execute(
                            d,
                            sql,
                            &[
                                &job.0,
                                &i64::from(attempt),
                                &step.name,
                                &to_ms(step.started_at),
                                &dur_ms(step.duration),
                                &step.ok,
                                &step.detail.to_string(),
                            ],
                        )
                        .map(drop)
                        .map_err(Error::db("record steps"))
                    })
                }
            )?;
        }
        // What the run read its object as of counts only for a run that completes (see `coverage`); the completing
        // answer wrote it, and the tags, with its own update ([`Self::completion_tags`]).
        let read_as_of = covers.filter(|_| completes);
        if sku.is_some() || order_number.is_some() {
            // The outcome's order number, when the answer set one, stands.
            execute!(
                conn.reborrow(),
                "UPDATE events SET sku = COALESCE($1, sku), order_number = COALESCE(order_number, $2) WHERE \
                 seq = $3",
                "tag event",
                [&sku, &order_number, job.0]
            )?;
        }
        match read_as_of {
            Some(as_of) => Ok(Some(
                crate::coverage::complete_covered(conn, job, as_of, now).await?,
            )),
            None => Ok(None),
        }
    }
}
