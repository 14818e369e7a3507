//! How a worker waits for work: [`WorkWaiter`] and [`Store::wait_for_work`] wait on the store's wake-up signal
//! (see `signal`), and `Store::wake` raises it after a commit that made work ready.

use crate::store::Store;
use std::time::Duration;
use tokio::sync::watch;

/// Waits for work on behalf of one worker, without missing a wake-up that arrives while the worker is busy
/// claiming: a signal raised since the waiter last returned makes the next [`WorkWaiter::wait`] return at once.
///
/// Worker loop: `let mut w = store.work_waiter(); loop { if claim is empty { w.wait(poll).await; } }`.
#[derive(Debug, Clone)]
pub struct WorkWaiter {
    rx: watch::Receiver<u64>,
}

impl WorkWaiter {
    /// Waits until work may be ready (a signal since the last call) or `max` has passed; returns whether a
    /// signal ended the wait. `max` is the poll interval for work that becomes ready by time alone.
    pub async fn wait(&mut self, max: Duration) -> bool {
        match tokio::time::timeout(max, self.rx.changed()).await {
            Ok(Ok(())) => true,
            // The store is gone; nothing will signal again, so just wait out the interval.
            Ok(Err(_)) => {
                tokio::time::sleep(max).await;
                false
            }
            Err(_) => false,
        }
    }

    /// Takes every signal raised so far as seen: [`Store::claim_batch`] calls it for the waiter it is given once
    /// its read will see what those signals' commits made ready (on SQLite once it holds the writer; a webhook
    /// batch raises its signal before it lets the writer go). A signal raised meanwhile would otherwise end the
    /// next [`WorkWaiter::wait`] at once for a claim that finds nothing.
    pub fn covered(&mut self) {
        self.rx.borrow_and_update();
    }
}

impl Store {
    /// A waiter for one worker loop (see [`WorkWaiter`]); it starts with every past signal seen.
    pub fn work_waiter(&self) -> WorkWaiter {
        WorkWaiter {
            rx: self.signal.subscribe(),
        }
    }

    /// Waits until work may be ready or `max` has passed; returns whether a signal ended the wait.
    ///
    /// Wakes on inserts, retries due now, replays and finished events that release a waiting one, from this
    /// host and (on Postgres, through `LISTEN/NOTIFY`) from every other host. It only sees signals raised
    /// after the call; a loop that must not miss one raised during its claim keeps a [`Store::work_waiter`].
    pub async fn wait_for_work(&self, max: Duration) -> bool {
        self.work_waiter().wait(max).await
    }

    /// Wakes this process's idle workers (after a commit that made work ready).
    pub(crate) fn wake(&self) {
        self.signal.raise();
    }
}
