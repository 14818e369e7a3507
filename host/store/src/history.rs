//! Run history: per-step timings and ids of each attempt, search by business keys, retention purge.

use crate::backend::{Conn, Pool, begin_write};
use crate::error::{Error, Result};
use crate::event::{EventRecord, EventRow, JobId, Transition};
use crate::store::{Store, from_ms, to_ms};
use ferry_model::TenantId;
use sqlx::Acquire;
use std::time::Duration;
use time::OffsetDateTime;

/// The events retention deletes, as SQL: done, or discarded from the dead-letter queue, and finished before the
/// cutoff (`$1`); with `$2` not null, only those up to seq `$2`. A macro, so every statement is one literal.
macro_rules! purgeable {
    () => {
        "state IN ('done', 'discarded') AND finished_at IS NOT NULL AND finished_at < $1 AND ($2 IS NULL OR seq <= $2)"
    };
}

/// A recorded step.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepRecord {
    /// The attempt it belonged to.
    pub attempt: u32,
    /// Step name.
    pub name: String,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// Whether it succeeded.
    pub ok: bool,
    /// What it produced.
    pub detail: serde_json::Value,
}

/// Everything known about one event's runs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunHistory {
    /// The event now.
    pub event: EventRecord,
    /// State changes, oldest first.
    pub transitions: Vec<Transition>,
    /// Steps of every attempt, oldest first.
    pub steps: Vec<StepRecord>,
}

impl Store {
    /// The event with its transitions and steps.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such event, [`Error::Database`] when the read fails.
    pub async fn run_history(&self, job: JobId) -> Result<RunHistory> {
        let event = self.event(job).await?;
        let transitions = self.transitions(job).await?;
        let rows: Vec<StepRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT attempt, step, started_at, duration_ms, ok, detail FROM event_steps WHERE \
                 event_seq = $1 ORDER BY id",
            )
            .bind(job.0)
            .fetch_all(p)
            .await
            .map_err(Error::db("read steps"))?
        });
        let steps = rows
            .into_iter()
            .map(|r| StepRecord {
                attempt: u32::try_from(r.attempt).unwrap_or(0),
                name: r.step,
                started_at: from_ms(r.started_at),
                duration_ms: r.duration_ms,
                ok: r.ok,
                detail: r
                    .detail
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .unwrap_or_default(),
            })
            .collect();
        Ok(RunHistory {
            event,
            transitions,
            steps,
        })
    }

    /// Events of a tenant for a Kentico order number, newest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn find_by_order_number(
        &self,
        tenant: &TenantId,
        order_number: &str,
    ) -> Result<Vec<EventRecord>> {
        self.find_by(
            "SELECT * FROM events WHERE tenant = $1 AND order_number = $2 ORDER BY seq DESC",
            tenant,
            order_number,
        )
        .await
    }

    /// Events of a tenant that produced a FreshBooks invoice id, newest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn find_by_invoice_id(
        &self,
        tenant: &TenantId,
        invoice_id: &str,
    ) -> Result<Vec<EventRecord>> {
        self.find_by(
            "SELECT * FROM events WHERE tenant = $1 AND invoice_id = $2 ORDER BY seq DESC",
            tenant,
            invoice_id,
        )
        .await
    }

    async fn find_by(
        &self,
        sql: &'static str,
        tenant: &TenantId,
        value: &str,
    ) -> Result<Vec<EventRecord>> {
        let rows: Vec<EventRow> = on_pool!(&self.pool, |p| sqlx::query_as(sql)
            .bind(tenant.as_str())
            .bind(value)
            .fetch_all(p)
            .await
            .map_err(Error::db("search events"))?);
        EventRecord::from_rows(rows)
    }

    /// Purges what retention lets go: done events and discarded (resolved) dead letters that finished before
    /// `before`, with their state history and steps. Dead letters nobody resolved, unfinished events and the
    /// idempotency ledger are never touched, whatever their age: the ledger is what keeps a FreshBooks write from
    /// happening twice when an old event is delivered again. With `dry_run`, only counts what would go.
    ///
    /// Deletes in batches of [`PURGE_BATCH`] events, one short write transaction each, so webhook intake is never
    /// held up long behind a large purge; on SQLite with a pause after each batch that lets waiting writers in (a
    /// purge of 50,000 events takes about 15 s longer for it).
    ///
    /// # Errors
    /// [`Error::Database`] when a read or delete fails; batches committed before it stay purged.
    pub async fn purge_finished(
        &self,
        before: OffsetDateTime,
        dry_run: bool,
    ) -> Result<PurgeReport> {
        let cutoff = to_ms(before);
        if dry_run {
            return on_pool!(&self.pool, |p| {
                count_purgeable(
                    Conn::from(&mut *p.acquire().await.map_err(Error::db("purge: connect"))?),
                    cutoff,
                    None,
                )
                .await
            });
        }
        let mut report = PurgeReport::default();
        loop {
            let batch = on_write!(self, |p| {
                let mut tx = begin_write(p, "begin purge").await?;
                let seqs: Vec<i64> = sqlx::query_scalar(concat!(
                    "SELECT seq FROM events WHERE ",
                    purgeable!(),
                    " ORDER BY seq LIMIT $3"
                ))
                .bind(cutoff)
                .bind(None::<i64>)
                .bind(PURGE_BATCH)
                .fetch_all(&mut *tx)
                .await
                .map_err(Error::db("purge: find old events"))?;
                let Some(last) = seqs.last().copied() else {
                    return Ok(report);
                };
                let counted = count_purgeable(Conn::from(&mut *tx), cutoff, Some(last)).await?;
                sqlx::query(concat!("DELETE FROM events WHERE ", purgeable!()))
                    .bind(cutoff)
                    .bind(last)
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::db("purge old events"))?;
                tx.commit().await.map_err(Error::db("commit purge"))?;
                counted
            });
            report.add(&batch);
            if let Pool::Sqlite(..) = self.pool {
                // SQLite has one write lock, and a writer waiting for it only looks again after a sleep (its busy
                // handler's, up to 100 ms). Batches run back to back leave it a gap of microseconds, so it would
                // wait out its whole busy timeout behind a large purge (the console bench's sign-in did, with
                // 48,000 old events: a 500). A pause longer than that sleep lets every waiting writer in.
                tokio::time::sleep(SQLITE_PURGE_PAUSE).await;
            }
        }
    }
}

/// Events deleted per transaction by [`Store::purge_finished`].
pub const PURGE_BATCH: i64 = 500;

/// The pause between two purge batches on SQLite: longer than the longest sleep of SQLite's busy handler (100 ms),
/// so every writer that waited during a batch takes the lock before the next one.
const SQLITE_PURGE_PAUSE: Duration = Duration::from_millis(150);

/// What a purge removed, or would remove.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    /// Done events.
    pub done_events: u64,
    /// Dead letters resolved by a discard.
    pub discarded_dead_letters: u64,
    /// Their recorded state changes.
    pub transitions: u64,
    /// Their recorded pipeline steps.
    pub steps: u64,
}

impl PurgeReport {
    fn add(&mut self, other: &Self) {
        self.done_events += other.done_events;
        self.discarded_dead_letters += other.discarded_dead_letters;
        self.transitions += other.transitions;
        self.steps += other.steps;
    }

    /// Whether nothing was (or would be) purged.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Counts the purgeable events (up to `seq <= upto` when given) and their history and steps.
async fn count_purgeable(
    mut conn: Conn<'_>,
    cutoff: i64,
    upto: Option<i64>,
) -> Result<PurgeReport> {
    let states = fetch_all!(
        conn.reborrow(),
        concat!("SELECT state, COUNT(*) FROM events WHERE ", purgeable!(), " GROUP BY state"),
        "purge: count events",
        [cutoff, upto] -> (String, i64)
    )?;
    let count = |rows: Option<(i64,)>| rows.map_or(0, |(n,)| n);
    let transitions = count(fetch_optional!(
        conn.reborrow(),
        concat!(
            "SELECT COUNT(*) FROM event_history WHERE event_seq IN (SELECT seq FROM events WHERE ",
            purgeable!(),
            ")"
        ),
        "purge: count state history",
        [cutoff, upto] -> (i64,)
    )?);
    let steps = count(fetch_optional!(
        conn,
        concat!(
            "SELECT COUNT(*) FROM event_steps WHERE event_seq IN (SELECT seq FROM events WHERE ",
            purgeable!(),
            ")"
        ),
        "purge: count steps",
        [cutoff, upto] -> (i64,)
    )?);
    let mut report = PurgeReport {
        transitions: u64::try_from(transitions).unwrap_or(0),
        steps: u64::try_from(steps).unwrap_or(0),
        ..PurgeReport::default()
    };
    for (state, n) in states {
        let n = u64::try_from(n).unwrap_or(0);
        if state == "done" {
            report.done_events = n;
        } else {
            report.discarded_dead_letters = n;
        }
    }
    Ok(report)
}

/// An `event_steps` row as stored.
#[derive(sqlx::FromRow)]
struct StepRow {
    attempt: i64,
    step: String,
    started_at: i64,
    duration_ms: i64,
    ok: bool,
    detail: Option<String>,
}
