//! Run history: per-step timings and ids of each attempt, search by business keys, retention purge.

use crate::error::{Error, Result};
use crate::event::{EventRecord, EventRow, JobId, Transition};
use crate::queue::Lease;
use crate::store::{Store, dur_ms, from_ms, now_ms, to_ms};
use ferry_model::TenantId;
use std::time::Duration;
use time::OffsetDateTime;

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
    /// Records one step of the attempt `lease` is for.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn record_step(&self, lease: &Lease, step: &Step) -> Result<()> {
        on_pool!(&self.pool, |p| {
            sqlx::query(
                "INSERT INTO event_steps (event_seq, attempt, step, started_at, duration_ms, ok, \
                 detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(lease.job.0)
            .bind(i64::from(lease.attempt))
            .bind(&step.name)
            .bind(to_ms(step.started_at))
            .bind(dur_ms(step.duration))
            .bind(step.ok)
            .bind(step.detail.to_string())
            .execute(p)
            .await
            .map_err(Error::db("record step"))?
            .rows_affected()
        });
        Ok(())
    }

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

    /// Deletes done and discarded events (with their history and steps) finished more than `age` ago;
    /// dead and unfinished events are kept whatever their age. Returns how many events went.
    ///
    /// # Errors
    /// [`Error::Database`] when the delete fails.
    pub async fn purge_finished_older_than(&self, age: Duration) -> Result<u64> {
        let cutoff = now_ms().saturating_sub(dur_ms(age));
        let done = on_pool!(&self.pool, |p| {
            sqlx::query(
                "DELETE FROM events WHERE state IN ('done', 'discarded') AND finished_at IS NOT \
                 NULL AND finished_at < $1",
            )
            .bind(cutoff)
            .execute(p)
            .await
            .map_err(Error::db("purge old events"))?
            .rows_affected()
        });
        Ok(done)
    }
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
