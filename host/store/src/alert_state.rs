//! What the alerts have told people, kept where every host sharing the database sees it.
//!
//! Each host runs its own alert watcher, and a FreshBooks outage opens every host's breaker. So that the outage
//! sends one message and not one per host, the decision to send is a compare-and-set here: [`Store::raise_alert`]
//! answers true only to the call that flipped the condition to raised, [`Store::clear_alert`] only to the call that
//! flipped it back (and says whether the raise had gone out, so a recovery follows only a message that did).
//!
//! Dead letters are batched per tenant over a window: every host adds its dead letters to the tenant's counts
//! ([`Store::count_dead_letter_alert`], which opens the window when none is), and the one host whose
//! [`Store::take_dead_letter_alert`] removes the due window sends them all as one message.
//!
//! Lock order: both dead-letter statements touch the window row before the counts, so a count added while a batch
//! is taken waits for the take and lands in the next window (Postgres), instead of the two waiting on each other.

use crate::backend::begin_write;
use crate::error::{Error, Result};
use crate::store::{Store, dur_ms, now_ms};
use ferry_model::{ErrorClass, TenantId};
use std::collections::BTreeMap;
use std::time::Duration;

/// What [`Store::take_dead_letter_alert`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadLetterWindow {
    /// This call took the window: the new dead letters per class to send (empty when they were already sent).
    Taken(BTreeMap<ErrorClass, u64>),
    /// A window is open but not due for this long (another host opened a later one, or clocks differ).
    Later(Duration),
    /// No window is open: another host took it.
    Gone,
}

/// The stored form of a condition's owner: the tenant's id, '' for the host's own.
fn owner(tenant: Option<&TenantId>) -> &str {
    tenant.map_or("", TenantId::as_str)
}

impl Store {
    /// Marks the condition `name` of `tenant` (`None`: the host's own) raised. True when this call raised it: the
    /// caller sends the message (and records with [`Store::mark_alert_notified`] that it went out); false when it
    /// already was raised, by another host or by this one, less than `expires` ago. A raise older than `expires` is
    /// raised again: the host that raised it may have died before it could clear it, and a condition stuck raised
    /// would silence the next one.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn raise_alert(
        &self,
        tenant: Option<&TenantId>,
        name: &str,
        expires: Duration,
    ) -> Result<bool> {
        let now = now_ms();
        let n = on_write!(self, |p| {
            sqlx::query(
                "INSERT INTO alert_conditions (tenant, name, raised, notified, changed_ms) \
                 VALUES ($1, $2, TRUE, FALSE, $3) ON CONFLICT (tenant, name) DO UPDATE SET \
                 raised = TRUE, notified = FALSE, changed_ms = excluded.changed_ms \
                 WHERE alert_conditions.raised = FALSE OR alert_conditions.changed_ms < $4",
            )
            .bind(owner(tenant))
            .bind(name)
            .bind(now)
            .bind(now.saturating_sub(dur_ms(expires)))
            .execute(p)
            .await
            .map_err(Error::db("raise alert condition"))?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Records that the message raising `name` went out to at least one destination, so its recovery goes out too.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn mark_alert_notified(&self, tenant: Option<&TenantId>, name: &str) -> Result<()> {
        on_write!(self, |p| {
            sqlx::query(
                "UPDATE alert_conditions SET notified = TRUE \
                 WHERE tenant = $1 AND name = $2 AND raised = TRUE",
            )
            .bind(owner(tenant))
            .bind(name)
            .execute(p)
            .await
            .map_err(Error::db("mark alert notified"))?;
        });
        Ok(())
    }

    /// Marks the condition `name` of `tenant` cleared. `Some(notified)` when this call cleared it (the caller sends
    /// the recovery when `notified`: the raise went out); `None` when it was not raised (never, or another host
    /// cleared it first).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn clear_alert(&self, tenant: Option<&TenantId>, name: &str) -> Result<Option<bool>> {
        let notified: Option<bool> = on_write!(self, |p| {
            sqlx::query_scalar(
                "UPDATE alert_conditions SET raised = FALSE, changed_ms = $3 \
                 WHERE tenant = $1 AND name = $2 AND raised = TRUE RETURNING notified",
            )
            .bind(owner(tenant))
            .bind(name)
            .bind(now_ms())
            .fetch_optional(p)
            .await
            .map_err(Error::db("clear alert condition"))?
        });
        Ok(notified)
    }

    /// Counts one new dead letter of `tenant` under `class` into the tenant's open window, opening one due after
    /// `window` when none is. Returns how long until the open window is due (zero: due now).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails; nothing was counted then.
    pub async fn count_dead_letter_alert(
        &self,
        tenant: &TenantId,
        class: ErrorClass,
        window: Duration,
    ) -> Result<Duration> {
        let now = now_ms();
        let due: Option<i64> = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin dead-letter alert count").await?;
            sqlx::query(
                "INSERT INTO alert_dead_letter_windows (tenant, due_ms) VALUES ($1, $2) \
                 ON CONFLICT (tenant) DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(now.saturating_add(dur_ms(window)))
            .execute(&mut *tx)
            .await
            .map_err(Error::db("open dead-letter alert window"))?;
            sqlx::query(
                "INSERT INTO alert_dead_letter_counts (tenant, class, n) VALUES ($1, $2, 1) \
                 ON CONFLICT (tenant, class) DO UPDATE SET n = alert_dead_letter_counts.n + 1",
            )
            .bind(tenant.as_str())
            .bind(class.as_str())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("count dead letter for alert"))?;
            let due = sqlx::query_scalar(
                "SELECT due_ms FROM alert_dead_letter_windows WHERE tenant = $1",
            )
            .bind(tenant.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::db("read dead-letter alert window"))?;
            tx.commit()
                .await
                .map_err(Error::db("commit dead-letter alert count"))?;
            due
        });
        Ok(until(due.unwrap_or(now), now))
    }

    /// Takes `tenant`'s dead-letter window when it is due (any open window when `force`: the host is stopping),
    /// with the counts added to it. Only one caller takes a window; see [`DeadLetterWindow`] for the others.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails; the window stays open then.
    pub async fn take_dead_letter_alert(
        &self,
        tenant: &TenantId,
        force: bool,
    ) -> Result<DeadLetterWindow> {
        let now = now_ms();
        let due_by = if force { i64::MAX } else { now };
        // `Ok(rows)`: this call took the window, with its counts; `Err(due)`: it did not (the open window's due).
        let outcome: std::result::Result<Vec<(String, i64)>, Option<i64>> = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin dead-letter alert batch").await?;
            let taken: Option<i64> = sqlx::query_scalar(
                "DELETE FROM alert_dead_letter_windows WHERE tenant = $1 AND due_ms <= $2 \
                     RETURNING due_ms",
            )
            .bind(tenant.as_str())
            .bind(due_by)
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::db("take dead-letter alert window"))?;
            let outcome = match taken {
                Some(_) => Ok(sqlx::query_as(
                    "DELETE FROM alert_dead_letter_counts WHERE tenant = $1 RETURNING class, n",
                )
                .bind(tenant.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(Error::db("take dead-letter alert counts"))?),
                None => Err(sqlx::query_scalar(
                    "SELECT due_ms FROM alert_dead_letter_windows WHERE tenant = $1",
                )
                .bind(tenant.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(Error::db("read dead-letter alert window"))?),
            };
            tx.commit()
                .await
                .map_err(Error::db("commit dead-letter alert batch"))?;
            outcome
        });
        let rows = match outcome {
            Ok(rows) => rows,
            Err(Some(due)) => return Ok(DeadLetterWindow::Later(until(due, now))),
            Err(None) => return Ok(DeadLetterWindow::Gone),
        };
        let mut counts = BTreeMap::new();
        for (class, n) in rows {
            let class = class.parse::<ErrorClass>().map_err(|e| Error::Corrupt {
                what: "alert_dead_letter_counts.class",
                detail: format!("{class:?}: {e}"),
            })?;
            *counts.entry(class).or_default() += u64::try_from(n).unwrap_or(0);
        }
        Ok(DeadLetterWindow::Taken(counts))
    }
}

/// How long from `now` until `due` (both store milliseconds); zero when it has passed.
fn until(due: i64, now: i64) -> Duration {
    Duration::from_millis(u64::try_from(due.saturating_sub(now)).unwrap_or(0))
}
