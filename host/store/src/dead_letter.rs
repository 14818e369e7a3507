//! The dead-letter queue: list, show with every attempt's error, replay (one or all), discard.
//!
//! Replay is the only move back: dead → queued with attempts reset, recorded in the history.

use crate::error::{Error, Result};
use crate::event::{EventRecord, EventState, JobId, Transition, add_history};
use crate::store::{Store, from_ms, now_ms};
use ferry_model::TenantId;
use sqlx::Row;

/// A dead event with its full history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    /// The event.
    pub event: EventRecord,
    /// Every state change, oldest first; each failed attempt carries its error.
    pub history: Vec<Transition>,
}

impl Store {
    /// Dead events, oldest first, of one tenant or all.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn dead_letters(
        &self,
        tenant: Option<&TenantId>,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM events WHERE state = 'dead' AND ($1 IS NULL OR tenant = $1) ORDER BY seq LIMIT $2",
        )
        .bind(tenant.map(TenantId::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(Error::db("list dead letters"))?;
        rows.iter().map(EventRecord::from_row).collect()
    }

    /// One event with every state change and attempt error.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such event, [`Error::Database`] when the read fails.
    pub async fn dead_letter_detail(&self, job: JobId) -> Result<DeadLetter> {
        let event = self.event(job).await?;
        let history = self.transitions(job).await?;
        Ok(DeadLetter { event, history })
    }

    /// Every recorded state change of an event, oldest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn transitions(&self, job: JobId) -> Result<Vec<Transition>> {
        let rows = sqlx::query(
            "SELECT at, from_state, to_state, attempt, error, note FROM event_history WHERE event_seq = $1 ORDER BY id",
        )
        .bind(job.0)
        .fetch_all(&self.pool)
        .await
        .map_err(Error::db("read event history"))?;
        rows.iter()
            .map(|r| {
                let get = |e| Error::Database {
                    op: "read event history",
                    source: e,
                };
                let from: String = r.try_get("from_state").map_err(get)?;
                let to: String = r.try_get("to_state").map_err(get)?;
                Ok(Transition {
                    at: from_ms(r.try_get("at").map_err(get)?),
                    from: EventState::parse(&from)?,
                    to: EventState::parse(&to)?,
                    attempt: u32::try_from(r.try_get::<i64, _>("attempt").map_err(get)?)
                        .unwrap_or(0),
                    error: r.try_get("error").map_err(get)?,
                    note: r.try_get("note").map_err(get)?,
                })
            })
            .collect()
    }

    /// Puts one dead event back in the queue with attempts reset.
    ///
    /// # Errors
    /// [`Error::InvalidTransition`] when the event is not dead, [`Error::NotFound`], [`Error::Database`].
    pub async fn replay(&self, job: JobId, note: &str) -> Result<()> {
        self.move_dead(job, EventState::Queued, note, "replay")
            .await
    }

    /// Drops a dead event for good, keeping `reason`.
    ///
    /// # Errors
    /// [`Error::InvalidTransition`] when the event is not dead, [`Error::NotFound`], [`Error::Database`].
    pub async fn discard(&self, job: JobId, reason: &str) -> Result<()> {
        self.move_dead(job, EventState::Discarded, reason, "discard")
            .await
    }

    /// Replays every dead event of one tenant or all; returns how many.
    ///
    /// # Errors
    /// [`Error::Database`] when the transaction fails; then nothing was replayed.
    pub async fn replay_all(&self, tenant: Option<&TenantId>, note: &str) -> Result<u64> {
        let now = now_ms();
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Error::db("begin replay"))?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE events SET state = 'queued', attempts = 0, next_attempt_at = $1, finished_at = NULL, \
             updated_at = $1 WHERE state = 'dead' AND ($2 IS NULL OR tenant = $2) RETURNING seq",
        )
        .bind(now)
        .bind(tenant.map(TenantId::as_str))
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::db("replay dead letters"))?;
        for id in &ids {
            add_history(
                &mut tx,
                JobId(*id),
                EventState::Dead,
                EventState::Queued,
                0,
                None,
                Some(note),
                now,
            )
            .await?;
        }
        tx.commit().await.map_err(Error::db("commit replay"))?;
        Ok(ids.len() as u64)
    }

    async fn move_dead(
        &self,
        job: JobId,
        to: EventState,
        note: &str,
        action: &'static str,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Error::db("begin dead-letter action"))?;
        let sql = match to {
            EventState::Queued => {
                "UPDATE events SET state = 'queued', attempts = 0, next_attempt_at = $1, finished_at = NULL, \
                 updated_at = $1 WHERE seq = $2 AND state = 'dead'"
            }
            _ => {
                "UPDATE events SET state = 'discarded', finished_at = $1, updated_at = $1 WHERE seq = $2 AND state = 'dead'"
            }
        };
        let done = sqlx::query(sql)
            .bind(now)
            .bind(job.0)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("move dead letter"))?;
        if done.rows_affected() != 1 {
            drop(tx);
            let current = self.event(job).await?;
            return Err(Error::InvalidTransition {
                job: job.0,
                state: current.state.to_string(),
                action,
            });
        }
        add_history(&mut tx, job, EventState::Dead, to, 0, None, Some(note), now).await?;
        tx.commit()
            .await
            .map_err(Error::db("commit dead-letter action"))
    }
}
