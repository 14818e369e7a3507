//! Rate slots shared by every host: a fixed-window counter per key in the database.
//!
//! FreshBooks limits calls per account, not per host. Each host asks [`Store::take_rate_slot`] before a call;
//! the count lives in one row per key, so N hosts share one budget instead of each spending a full one.
//! Windows are aligned to multiples of `window` since the Unix epoch, so every host agrees where a window
//! starts (given clocks kept in sync, e.g. by NTP).

use crate::error::{Error, Result};
use crate::store::{Store, dur_ms, now_ms};
use std::time::Duration;

impl Store {
    /// Takes one slot of `key`'s budget of `limit` calls per `window`. `Ok(None)`: go ahead. `Ok(Some(wait))`:
    /// the window's budget is spent, ask again after `wait` (the rest of the current window).
    ///
    /// # Errors
    /// [`Error::Database`] when the counter cannot be updated.
    pub async fn take_rate_slot(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<Option<Duration>> {
        let now = now_ms();
        let window_ms = dur_ms(window).max(1);
        let start = now - now.rem_euclid(window_ms);
        let rest = Duration::from_millis(u64::try_from(start + window_ms - now).unwrap_or(1));
        if limit == 0 {
            return Ok(Some(rest));
        }
        // One statement: a new window resets the count; the current one counts up to `limit`. When the budget
        // is spent the WHERE refuses the update and nothing is returned. A row from a later window (another
        // host's clock runs ahead) is left alone and refuses too.
        let taken: Option<i64> = on_write!(self, |p| {
            sqlx::query_scalar(
                "INSERT INTO rate_slots (key, window_start, used) VALUES ($1, $2, 1) ON CONFLICT \
                 (key) DO UPDATE SET used = CASE WHEN rate_slots.window_start = \
                 excluded.window_start THEN rate_slots.used + 1 ELSE 1 END, window_start = \
                 excluded.window_start WHERE rate_slots.window_start < excluded.window_start OR \
                 (rate_slots.window_start = excluded.window_start AND rate_slots.used < $3) \
                 RETURNING used",
            )
            .bind(key)
            .bind(start)
            .bind(i64::from(limit))
            .fetch_optional(p)
            .await
            .map_err(Error::db("take rate slot"))?
        });
        Ok(match taken {
            Some(_) => None,
            None => Some(rest),
        })
    }
}
