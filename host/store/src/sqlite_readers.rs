//! SQLite's read connections, opened as they are first needed, each lent to one read at a time.
//!
//! A sqlx pool checks a connection with a round trip to the connection's thread each time it is handed back (and,
//! by default, before it is handed out). A SQLite connection is a file handle on a thread of this process; it cannot
//! go stale, and on a small machine those hand-offs between threads were a large part of the host's CPU. So the
//! reads take a connection from this set instead: no check, no task to hand it back.

use crate::error::{Error, Result};
use sqlx::ConnectOptions;
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteConnectOptions;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// Up to `max` read connections of one SQLite file; cheap to clone (the clones share the connections).
#[derive(Clone, Debug)]
pub(crate) struct SqliteReaders {
    /// One slot per connection this set may open; a slot is empty until a read first needs it.
    slots: Arc<[Mutex<Option<SqliteConnection>>]>,
    /// How each connection is opened.
    options: Arc<SqliteConnectOptions>,
    /// Which busy slot the next read waits for when every slot is busy, in turn.
    next: Arc<AtomicUsize>,
}

impl SqliteReaders {
    /// A set of at most `max` (at least 1) connections opened with `options`; none is opened yet.
    pub(crate) fn new(options: SqliteConnectOptions, max: u32) -> Self {
        let slots = (0..max.max(1)).map(|_| Mutex::new(None)).collect();
        Self {
            slots,
            options: Arc::new(options),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A connection for one read: the first free one (opened now if its slot is still empty), or, when all are
    /// busy, the next to be freed of one of them, in turn.
    ///
    /// # Errors
    /// [`Error::Database`] when a connection has to be opened and cannot be.
    pub(crate) async fn get(&self) -> Result<MappedMutexGuard<'_, SqliteConnection>> {
        let free = self.slots.iter().find_map(|slot| slot.try_lock().ok());
        let mut slot = match free {
            Some(slot) => slot,
            None => {
                let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
                self.slots[turn].lock().await
            }
        };
        if slot.is_none() {
            let opened = self
                .options
                .connect()
                .await
                .map_err(Error::db("open database for reads"))?;
            *slot = Some(opened);
        }
        MutexGuard::try_map(slot, Option::as_mut).map_err(|_| Error::Database {
            op: "open database for reads",
            source: Box::new(sqlx::Error::PoolClosed),
        })
    }

    /// Closes every open connection; a read after this opens one again.
    pub(crate) async fn close(&self) {
        for slot in self.slots.iter() {
            if let Some(conn) = slot.lock().await.take() {
                let _ = sqlx::Connection::close(conn).await;
            }
        }
    }
}
