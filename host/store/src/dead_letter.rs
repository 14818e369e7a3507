//! The dead-letter queue: list, show with every attempt's error, replay and discard (one, or every one matching a
//! filter of tenant and error class).
//!
//! Replay is the only move back: dead → queued with attempts reset, recorded in the history. A replay also
//! releases an event the anomaly checks held for review (`order_history`), so it runs on without them.

use crate::backend::{Conn, begin_write, notify_work};
use crate::error::{Error, Result};
use crate::event::{EventRecord, EventRow, EventState, JobId, Transition, add_history};
use crate::order_history::release_hold;
use crate::store::{Store, from_ms, now_ms};
use ferry_model::{ErrorClass, TenantId};

/// Which dead letters a list, a bulk replay or a bulk discard takes: every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterFilter {
    /// Only this tenant's.
    pub tenant: Option<TenantId>,
    /// Only those filed under this class.
    pub class: Option<ErrorClass>,
    /// Only those of this Kentico order number (tagged once the order was read, so invalid orders have it too).
    pub order_number: Option<String>,
}

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
        let filter = DeadLetterFilter {
            tenant: tenant.cloned(),
            ..DeadLetterFilter::default()
        };
        self.dead_letters_matching(&filter, limit).await
    }

    /// Dead events matching `filter`, oldest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn dead_letters_matching(
        &self,
        filter: &DeadLetterFilter,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        let rows: Vec<EventRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT * FROM events WHERE state = 'dead' AND ($1 IS NULL OR tenant = $1) AND ($2 IS \
                 NULL OR error_class = $2) AND ($4 IS NULL OR order_number = $4) ORDER BY seq LIMIT $3",
            )
            .bind(filter.tenant.as_ref().map(TenantId::as_str))
            .bind(filter.class.map(ErrorClass::as_str))
            .bind(i64::from(limit))
            .bind(filter.order_number.as_deref())
            .fetch_all(p)
            .await
            .map_err(Error::db("list dead letters"))?
        });
        EventRecord::from_rows(rows)
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
        let rows: Vec<TransitionRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT at, from_state, to_state, attempt, error, note FROM event_history WHERE \
                 event_seq = $1 ORDER BY id",
            )
            .bind(job.0)
            .fetch_all(p)
            .await
            .map_err(Error::db("read event history"))?
        });
        rows.into_iter()
            .map(|r| {
                Ok(Transition {
                    at: from_ms(r.at),
                    from: EventState::parse(&r.from_state)?,
                    to: EventState::parse(&r.to_state)?,
                    attempt: u32::try_from(r.attempt).unwrap_or(0),
                    error: r.error,
                    note: r.note,
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
        let filter = DeadLetterFilter {
            tenant: tenant.cloned(),
            ..DeadLetterFilter::default()
        };
        self.replay_matching(&filter, note).await
    }

    /// Replays every dead event matching `filter`; returns how many.
    ///
    /// # Errors
    /// [`Error::Database`] when the transaction fails; then nothing was replayed.
    pub async fn replay_matching(&self, filter: &DeadLetterFilter, note: &str) -> Result<u64> {
        let n = self.move_matching(filter, EventState::Queued, note).await?;
        if n > 0 {
            self.wake();
        }
        Ok(n)
    }

    /// Discards every dead event matching `filter` for good, keeping `reason`; returns how many.
    ///
    /// # Errors
    /// [`Error::Database`] when the transaction fails; then nothing was discarded.
    pub async fn discard_matching(&self, filter: &DeadLetterFilter, reason: &str) -> Result<u64> {
        self.move_matching(filter, EventState::Discarded, reason)
            .await
    }

    /// Moves every dead event matching `filter` to `to` (queued or discarded) in one transaction.
    async fn move_matching(
        &self,
        filter: &DeadLetterFilter,
        to: EventState,
        note: &str,
    ) -> Result<u64> {
        let now = now_ms();
        let sql = match to {
            // A replayed event is no longer dead: its class goes with the state.
            EventState::Queued => {
                "UPDATE events SET state = 'queued', attempts = 0, next_attempt_at = $1, \
                 finished_at = NULL, updated_at = $1, error_class = NULL WHERE state = 'dead' AND \
                 ($2 IS NULL OR tenant = $2) AND ($3 IS NULL OR error_class = $3) AND ($4 IS NULL OR \
                 order_number = $4) RETURNING seq"
            }
            _ => {
                "UPDATE events SET state = 'discarded', finished_at = $1, updated_at = $1 WHERE \
                 state = 'dead' AND ($2 IS NULL OR tenant = $2) AND ($3 IS NULL OR error_class = \
                 $3) AND ($4 IS NULL OR order_number = $4) RETURNING seq"
            }
        };
        let ids = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin dead-letter action").await?;
            let ids: Vec<i64> = sqlx::query_scalar(sql)
                .bind(now)
                .bind(filter.tenant.as_ref().map(TenantId::as_str))
                .bind(filter.class.map(ErrorClass::as_str))
                .bind(filter.order_number.as_deref())
                .fetch_all(&mut *tx)
                .await
                .map_err(Error::db("move dead letters"))?;
            for id in &ids {
                if to == EventState::Queued {
                    release_hold(&mut *tx, JobId(*id), now).await?;
                }
                add_history(
                    &mut *tx,
                    JobId(*id),
                    EventState::Dead,
                    to,
                    0,
                    None,
                    Some(note),
                    now,
                )
                .await?;
            }
            if !ids.is_empty() && to == EventState::Queued {
                notify_work(Conn::from(&mut *tx)).await?;
            }
            tx.commit()
                .await
                .map_err(Error::db("commit dead-letter action"))?;
            ids
        });
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
        let sql = match to {
            EventState::Queued => {
                "UPDATE events SET state = 'queued', attempts = 0, next_attempt_at = $1, \
                 finished_at = NULL, updated_at = $1, error_class = NULL WHERE seq = $2 AND state = \
                 'dead'"
            }
            _ => {
                "UPDATE events SET state = 'discarded', finished_at = $1, updated_at = $1 WHERE \
                 seq = $2 AND state = 'dead'"
            }
        };
        let moved = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin dead-letter action").await?;
            let done = sqlx::query(sql)
                .bind(now)
                .bind(job.0)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("move dead letter"))?;
            if done.rows_affected() == 1 {
                if to == EventState::Queued {
                    release_hold(&mut *tx, job, now).await?;
                }
                add_history(
                    &mut *tx,
                    job,
                    EventState::Dead,
                    to,
                    0,
                    None,
                    Some(note),
                    now,
                )
                .await?;
                if to == EventState::Queued {
                    notify_work(Conn::from(&mut *tx)).await?;
                }
                tx.commit()
                    .await
                    .map_err(Error::db("commit dead-letter action"))?;
                true
            } else {
                false
            }
        });
        if !moved {
            let current = self.event(job).await?;
            return Err(Error::InvalidTransition {
                job: job.0,
                state: current.state.to_string(),
                action,
            });
        }
        if to == EventState::Queued {
            self.wake();
        }
        Ok(())
    }
}

/// An `event_history` row as stored.
#[derive(sqlx::FromRow)]
struct TransitionRow {
    at: i64,
    from_state: String,
    to_state: String,
    attempt: i64,
    error: Option<String>,
    note: Option<String>,
}
