//! SQLite's write connections: every write of the process takes them in turn and, once done, waits until what it
//! committed is on disk.
//!
//! Two connections behind one mutex ([`WriteConnection`]): sqlx's, for the writes written with sqlx (`on_write!`),
//! and the direct one for the hot transactions (`write_tx!`, [`crate::sqlite_direct`]). Few, because SQLite drops a
//! connection's page cache whenever another connection has written, and the hot writes all use one; held outside a
//! pool, because a pool checks a connection with a round trip to its thread each time it is handed back; taken in
//! turn in process, so this process's writers queue here instead of sleeping in SQLite's busy handler while another
//! holds SQLite's write lock. With `synchronous = full` the commits are made durable in groups, after the connections
//! are handed on ([`crate::wal_sync`]).

use crate::error::Result;
use crate::sqlite_direct::{DirectTx, WriteConnection};
use crate::wal_sync::GroupSync;
use sqlx::SqliteConnection;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

/// The write connection and, under `synchronous = full`, its group sync; cheap to clone (the clones share both).
#[derive(Clone, Debug)]
pub(crate) struct SqliteWriter {
    conn: Arc<Mutex<WriteConnection>>,
    sync: Option<Arc<GroupSync>>,
}

/// The write connection, held by one write. [`WriteGuard::durable`] hands it on and waits for the disk; a guard
/// dropped instead (the write failed) hands it on without waiting.
#[derive(Debug)]
pub(crate) struct WriteGuard<'a> {
    conn: MutexGuard<'a, WriteConnection>,
    sync: Option<&'a Arc<GroupSync>>,
}

/// What a write committed, not yet known to be on disk: [`PendingFlush::wait`] returns once it is.
#[derive(Debug)]
#[must_use = "a write is durable only once its flush is waited for"]
pub(crate) struct PendingFlush {
    sync: Option<(Arc<GroupSync>, u64)>,
}

impl SqliteWriter {
    /// `conn` as the store's write connection; `sync` makes its commits durable (None: `synchronous = normal`, a
    /// commit is durable at the next checkpoint).
    pub(crate) fn new(conn: WriteConnection, sync: Option<GroupSync>) -> Self {
        Self {
            conn: Arc::new(Mutex::new(conn)),
            sync: sync.map(Arc::new),
        }
    }

    /// Whether writes can still be made durable (no WAL flush has failed).
    ///
    /// # Errors
    /// [`crate::Error::Database`] naming the failed flush's error.
    pub(crate) fn healthy(&self) -> Result<()> {
        self.sync.as_deref().map_or(Ok(()), GroupSync::healthy)
    }

    /// The group sync, when there is one.
    #[cfg(test)]
    pub(crate) fn group_sync(&self) -> Option<&GroupSync> {
        self.sync.as_deref()
    }

    /// Waits for the write connection.
    pub(crate) async fn lock(&self) -> WriteGuard<'_> {
        WriteGuard {
            conn: self.conn.lock().await,
            sync: self.sync.as_ref(),
        }
    }
}

impl WriteGuard<'_> {
    /// Begins a write transaction on the direct connection ([`crate::sqlite_direct`]).
    ///
    /// # Errors
    /// [`crate::Error::Database`] naming `op` when BEGIN fails.
    pub(crate) fn direct(&mut self, op: &'static str) -> Result<DirectTx<'_>> {
        self.conn.begin(op)
    }

    /// Hands the connection on, then returns once everything committed on it so far is on disk.
    ///
    /// # Errors
    /// [`crate::Error::Database`] when flushing the WAL failed (see [`crate::wal_sync`]).
    pub(crate) async fn durable(self) -> Result<()> {
        self.hand_on().wait().await
    }

    /// Hands the connection on; the returned flush covers everything committed on it so far.
    pub(crate) fn hand_on(self) -> PendingFlush {
        let sync = self.sync.map(|sync| (Arc::clone(sync), sync.committed()));
        drop(self.conn);
        PendingFlush { sync }
    }
}

impl PendingFlush {
    /// Nothing to wait for: the write was durable at its commit (Postgres), or nothing was written.
    pub(crate) fn none() -> Self {
        Self { sync: None }
    }

    /// Returns once the write is on disk.
    ///
    /// # Errors
    /// [`crate::Error::Database`] when flushing the WAL failed (see [`crate::wal_sync`]).
    pub(crate) async fn wait(self) -> Result<()> {
        match self.sync {
            Some((sync, ticket)) => sync.wait(ticket).await,
            None => Ok(()),
        }
    }
}

impl Deref for WriteGuard<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn.sqlx
    }
}

impl DerefMut for WriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn.sqlx
    }
}
