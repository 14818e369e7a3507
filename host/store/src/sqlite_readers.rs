//! SQLite's read connections, opened as they are first needed, each lent to one read at a time: through sqlx for
//! most reads, and used directly (`rusqlite`, on the caller's thread) for the reads every event makes.
//!
//! A sqlx pool checks a connection with a round trip to the connection's thread each time it is handed back (and,
//! by default, before it is handed out). A SQLite connection is a file handle on a thread of this process; it cannot
//! go stale, and on a small machine those hand-offs between threads were a large part of the host's CPU. So the
//! reads take a connection from this set instead: no check, no task to hand it back. sqlx still sends each
//! statement to the connection's own thread and waits for its answer (two thread switches a statement); the hot
//! reads (the ledger's lookups, the anomaly checks' history) take a direct connection ([`SqliteReaders::direct`])
//! and make none, as the hot writes do on the direct write connection ([`crate::sqlite_direct`]).

use crate::error::{Error, Result};
use sqlx::ConnectOptions;
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteConnectOptions;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// Up to `max` read connections of one SQLite file of each kind; cheap to clone (the clones share the connections).
#[derive(Clone, Debug)]
pub(crate) struct SqliteReaders {
    /// Connections through sqlx.
    sqlx: Slots<SqliteConnection>,
    /// Connections used directly.
    direct: Slots<rusqlite::Connection>,
    /// How each sqlx connection is opened.
    options: Arc<SqliteConnectOptions>,
    /// The database file the direct connections open.
    path: Arc<Path>,
    /// How long a direct read waits for a lock (a checkpoint) before it fails.
    busy_timeout: Duration,
}

/// One slot per connection a set may open; a slot is empty until a read first needs it.
#[derive(Debug)]
struct Slots<C> {
    slots: Arc<[Mutex<Option<C>>]>,
    /// Which busy slot the next read waits for when every slot is busy, in turn.
    next: Arc<AtomicUsize>,
}

impl<C> Clone for Slots<C> {
    fn clone(&self) -> Self {
        Self {
            slots: self.slots.clone(),
            next: self.next.clone(),
        }
    }
}

impl<C> Slots<C> {
    fn new(max: u32) -> Self {
        Self {
            slots: (0..max.max(1)).map(|_| Mutex::new(None)).collect(),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The first free connection (opened with `open` if its slot is still empty), or, when all are busy, the next
    /// to be freed of one of them, in turn.
    async fn get<F>(&self, open: F) -> Result<MappedMutexGuard<'_, C>>
    where
        F: AsyncFnOnce() -> Result<C>,
    {
        let free = self.slots.iter().find_map(|slot| slot.try_lock().ok());
        let mut slot = match free {
            Some(slot) => slot,
            None => {
                let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
                self.slots[turn].lock().await
            }
        };
        if slot.is_none() {
            *slot = Some(open().await?);
        }
        MutexGuard::try_map(slot, Option::as_mut).map_err(|_| Error::Database {
            op: "open database for reads",
            source: Box::new(sqlx::Error::PoolClosed),
        })
    }

    /// Takes every open connection out of its slot.
    async fn take_all(&self) -> Vec<C> {
        let mut open = Vec::new();
        for slot in self.slots.iter() {
            open.extend(slot.lock().await.take());
        }
        open
    }
}

impl SqliteReaders {
    /// A set of at most `max` (at least 1) connections of each kind to the database at `path`, sqlx's opened with
    /// `options`; none is opened yet.
    pub(crate) fn new(
        options: SqliteConnectOptions,
        path: &Path,
        busy_timeout: Duration,
        max: u32,
    ) -> Self {
        Self {
            sqlx: Slots::new(max),
            direct: Slots::new(max),
            options: Arc::new(options),
            path: Arc::from(path),
            busy_timeout,
        }
    }

    /// A sqlx connection for one read.
    ///
    /// # Errors
    /// [`Error::Database`] when a connection has to be opened and cannot be.
    pub(crate) async fn get(&self) -> Result<MappedMutexGuard<'_, SqliteConnection>> {
        self.sqlx
            .get(async || {
                self.options
                    .connect()
                    .await
                    .map_err(Error::db("open database for reads"))
            })
            .await
    }

    /// A direct connection for one read (its statements run on the caller's thread; see
    /// [`crate::sqlite_direct`]). It is opened `query_only`: a write through it fails.
    ///
    /// # Errors
    /// [`Error::Database`] when a connection has to be opened and cannot be.
    pub(crate) async fn direct(&self) -> Result<MappedMutexGuard<'_, rusqlite::Connection>> {
        self.direct
            .get(async || crate::sqlite_direct::open_reader(&self.path, self.busy_timeout))
            .await
    }

    /// Closes every open connection; a read after this opens one again.
    pub(crate) async fn close(&self) {
        for conn in self.sqlx.take_all().await {
            let _ = sqlx::Connection::close(conn).await;
        }
        drop(self.direct.take_all().await);
    }
}
