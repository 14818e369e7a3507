//! SQLite's one write connection: every write of the process takes it in turn and, once done with it, waits until
//! what it committed is on disk.
//!
//! One connection, because SQLite drops a connection's page cache whenever another connection has written; held
//! outside a pool, because a pool checks a connection with a round trip to its thread each time it is handed back;
//! taken in turn in process, so this process's writers queue here instead of sleeping in SQLite's busy handler while
//! another holds SQLite's write lock. With `synchronous = full` the commits are made durable in groups, after the
//! connection is handed on ([`crate::wal_sync`]).

use crate::error::Result;
use crate::wal_sync::GroupSync;
use sqlx::SqliteConnection;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

/// The write connection and, under `synchronous = full`, its group sync; cheap to clone (the clones share both).
#[derive(Clone, Debug)]
pub(crate) struct SqliteWriter {
    conn: Arc<Mutex<SqliteConnection>>,
    sync: Option<Arc<GroupSync>>,
}

/// The write connection, held by one write. [`WriteGuard::durable`] hands it on and waits for the disk; a guard
/// dropped instead (the write failed) hands it on without waiting.
#[derive(Debug)]
pub(crate) struct WriteGuard<'a> {
    conn: MutexGuard<'a, SqliteConnection>,
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
    pub(crate) fn new(conn: SqliteConnection, sync: Option<GroupSync>) -> Self {
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

    /// Waits for the write connection.
    pub(crate) async fn lock(&self) -> WriteGuard<'_> {
        WriteGuard {
            conn: self.conn.lock().await,
            sync: self.sync.as_ref(),
        }
    }
}

impl WriteGuard<'_> {
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
        &self.conn
    }
}

impl DerefMut for WriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::Pool;
    use crate::{Store, StoreConfig, Synchronous};
    use ferry_model::TenantId;

    fn sync_of(store: &Store) -> Option<&crate::wal_sync::GroupSync> {
        match &store.pool {
            Pool::Sqlite(_, writer) => writer.sync.as_deref(),
            Pool::Postgres(_) => None,
        }
    }

    #[tokio::test]
    async fn under_full_a_ledger_intent_returns_only_once_the_wal_is_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::at(dir.path().join("s.db")))
            .await
            .unwrap();
        let shop = TenantId::parse("shop").unwrap();
        let sync = sync_of(&store).expect("full: the writes are flushed in groups");
        for n in 0..20 {
            let written = store
                .write_intent(&shop, &format!("invoice:{n}"), "hash")
                .await
                .unwrap();
            assert!(written);
            assert!(sync.all_flushed(), "intent {n} returned before its flush");
        }
        assert_eq!(sync.counted(), 20);
        store.close().await;
    }

    #[tokio::test]
    async fn under_full_a_webhook_is_acknowledged_only_once_its_batch_is_flushed() {
        use ferry_model::{EventEnvelope, EventKind, EventObject};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::at(dir.path().join("s.db")))
            .await
            .unwrap();
        let ingestor = crate::Ingestor::spawn(store.clone(), &crate::BatchConfig::default());
        let sync = sync_of(&store).expect("full: the writes are flushed in groups");
        let now = time::OffsetDateTime::now_utc();
        // One at a time, so nothing else is committed while a submit waits: every commit counted is its own.
        for n in 0..20 {
            let envelope = EventEnvelope {
                id: format!("evt_{n}"),
                kind: EventKind::OrderCreated,
                occurred_at: now,
                object: EventObject {
                    object_type: "ecommerce.order".to_owned(),
                    id: n,
                    guid: uuid::Uuid::new_v4(),
                    last_modified: now,
                },
            };
            let shop = TenantId::parse("shop").unwrap();
            let outcome = ingestor
                .submit(crate::NewEvent::from_envelope(shop, envelope))
                .await
                .unwrap();
            assert_eq!(outcome, crate::InsertOutcome::Inserted);
            assert!(
                sync.all_flushed(),
                "webhook {n} acknowledged before its batch was flushed"
            );
        }
        assert_eq!(sync.counted(), 20);
        store.close().await;
    }

    #[tokio::test]
    async fn under_normal_nothing_waits_for_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            synchronous: Synchronous::Normal,
            ..StoreConfig::at(dir.path().join("s.db"))
        };
        let store = Store::open(&config).await.unwrap();
        assert!(sync_of(&store).is_none());
        let shop = TenantId::parse("shop").unwrap();
        assert!(
            store
                .write_intent(&shop, "invoice:1", "hash")
                .await
                .unwrap()
        );
        store.close().await;
    }
}
