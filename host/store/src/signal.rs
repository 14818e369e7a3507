//! Waking idle workers instead of polling tightly.
//!
//! Every change that can make an event ready at once (an insert, a retry due now, a replay, an event finishing
//! while a later event of its object waits) raises a signal. In-process, that is a [`watch`] counter. On
//! Postgres the same transactions also `NOTIFY ferry_work`, and each host keeps one `LISTEN` connection that
//! turns notifications from every host into the local signal. What becomes ready only by time passing (a
//! retry's backoff, an expired lease) is found by the next timed poll: the wait's `max` is that poll interval.
//!
//! This module is the signal itself and its Postgres listener; what workers call to wait on it is in `waiter`.

use crate::backend::{Pool, WORK_CHANNEL};
use sqlx::postgres::PgListener;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The in-process wake-up signal, and the task feeding it from Postgres.
#[derive(Debug)]
pub(crate) struct Signal {
    /// Bumped on each wake-up; waiters hold receivers and wait for it to change.
    tx: watch::Sender<u64>,
    /// The `LISTEN` task (Postgres only), stopped with the store.
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl Signal {
    /// A signal for `pool`; on Postgres, also starts listening for other hosts' notifications.
    pub(crate) fn start(pool: &Pool) -> Arc<Self> {
        let signal = Arc::new(Self {
            tx: watch::Sender::new(0),
            listener: Mutex::new(None),
        });
        if let Pool::Postgres(pg) = pool {
            let task = tokio::spawn(listen(pg.clone(), Arc::downgrade(&signal)));
            if let Ok(mut slot) = signal.listener.lock() {
                *slot = Some(task);
            }
        }
        signal
    }

    /// Wakes every waiter of this process.
    pub(crate) fn raise(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every signal raised from now on (what a [`WorkWaiter`](crate::WorkWaiter) waits on).
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// Stops the listener task.
    pub(crate) fn stop(&self) {
        if let Ok(mut slot) = self.listener.lock()
            && let Some(task) = slot.take()
        {
            task.abort();
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Forwards `NOTIFY ferry_work` from any host to the local signal, reconnecting when the connection drops.
/// Holds only a weak reference, so the task ends once the last [`Store`](crate::Store) handle is gone.
async fn listen(pool: sqlx::PgPool, signal: Weak<Signal>) {
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(WORK_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        let mut listener = match connected {
            Ok(l) => l,
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, "Cannot listen for work notifications; polling until it can.");
                tokio::time::sleep(Duration::from_secs(1)).await;
                if signal.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        // Notifications sent while we were not listening are lost: wake everyone once to be safe.
        let Some(s) = signal.upgrade() else { return };
        s.raise();
        drop(s);
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => {
                    let Some(s) = signal.upgrade() else { return };
                    s.raise();
                }
                // Connection lost and re-established (LISTEN repeated): notifications may have been missed.
                Ok(None) => {
                    let Some(s) = signal.upgrade() else { return };
                    s.raise();
                }
                Err(sqlx::Error::PoolClosed) => return,
                Err(error) => {
                    tracing::warn!(%error, "Work notification listener failed; reconnecting.");
                    break;
                }
            }
        }
    }
}
