//! Opening the database (a SQLite file in WAL mode, or a Postgres database), migrations applied on open.

use crate::backend::{Backend, Pool, SqliteReaders, SqliteWriter};
use crate::config::{StoreConfig, Synchronous};
use crate::error::{Error, Result};
use crate::keyed_locks::{LocalRefreshLocks, LockSlots};
use crate::signal::Signal;
use crate::sqlite_direct::WriteConnection;
use crate::wal_sync::GroupSync;
use ferry_model::TenantId;
use secrecy::ExposeSecret;
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// Handle to Ferry's durable state; cheap to clone, shared by every task.
///
/// All methods are backend-neutral; [`Store::open`] picks SQLite or Postgres from the config.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
    /// The tenant served last by [`Store::claim`], so the next claim starts with the one after it
    /// (round-robin turns between tenants that have ready work). Per handle: each host keeps its own turn.
    pub(crate) last_turn: Arc<Mutex<Option<TenantId>>>,
    /// Wakes idle workers of this process when work may be ready (fed by `LISTEN` on Postgres).
    pub(crate) signal: Arc<Signal>,
    /// SQLite only: the in-process refresh locks (one host, so a process-local mutex is enough).
    pub(crate) refresh_locks: Arc<LocalRefreshLocks>,
    /// Postgres only: how many pooled connections held create locks may pin, so the pool always keeps some for
    /// the writes a lock holder makes (see [`LockSlots`]).
    pub(crate) lock_slots: Arc<LockSlots>,
}

impl Store {
    /// Opens the configured database and brings its schema up to date: Postgres when
    /// [`StoreConfig::database_url`] is a `postgres://` URL, otherwise the SQLite file (created if needed).
    ///
    /// # Errors
    /// [`Error::Database`] when the database cannot be opened (or the URL's scheme is not supported),
    /// [`Error::Migrate`] when migrations fail.
    pub async fn open(config: &StoreConfig) -> Result<Self> {
        let pool = match config.database_url.as_ref().map(|u| u.expose_secret()) {
            Some(url) if is_postgres_url(url) => Pool::Postgres(open_postgres(url, config).await?),
            Some(url) => match url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                Some(path) => open_sqlite(Path::new(path), config).await?,
                None => {
                    return Err(Error::Database {
                        op: "open database",
                        source: Box::new(sqlx::Error::Configuration(
                            "database_url must start with postgres://, postgresql:// or sqlite:"
                                .into(),
                        )),
                    });
                }
            },
            None => open_sqlite(&config.path, config).await?,
        };
        let signal = Signal::start(&pool);
        Ok(Self {
            pool,
            last_turn: Arc::new(Mutex::new(None)),
            signal,
            refresh_locks: Arc::new(LocalRefreshLocks::default()),
            lock_slots: Arc::new(LockSlots::for_pool(config.max_connections.max(2))),
        })
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// Versions of the migrations this build carries that the database has not applied (empty when its schema is
    /// up to date), read with one cheap query: what a readiness probe asks.
    ///
    /// # Errors
    /// [`Error::Database`] when the store does not answer (or has no migrations table), or when its writes can no
    /// longer be made durable (a flush of SQLite's WAL failed; see the store's `wal_sync`).
    pub async fn pending_migrations(&self) -> Result<Vec<i64>> {
        if let Pool::Sqlite(_, writer) = &self.pool {
            writer.healthy()?;
        }
        let known = match self.backend() {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        let applied: Vec<i64> = on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(p)
                .await
        })
        .map_err(Error::db("read the applied migrations"))?;
        Ok(known
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .map(|m| m.version)
            .collect())
    }

    /// Closes every connection; pending operations finish first.
    pub async fn close(&self) {
        self.signal.stop();
        match &self.pool {
            Pool::Sqlite(readers, _) => readers.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The SQLite file, migrated: its read connections (see [`SqliteReaders`]) and its write connection (see
/// [`SqliteWriter`]). Under `synchronous = full` the write connection runs with SQLite's `normal` and a
/// [`GroupSync`] makes its commits durable before each write returns (one flush for a group of commits instead of
/// one inside each COMMIT); the migrations, run before, sync as SQLite's `full` does.
async fn open_sqlite(path: &Path, config: &StoreConfig) -> Result<Pool> {
    let sync = match config.synchronous {
        Synchronous::Full => SqliteSynchronous::Full,
        Synchronous::Normal => SqliteSynchronous::Normal,
    };
    // A fresh install names a file under a directory that does not exist yet (e.g. `.ferry/ferry.db`).
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::Database {
            op: "create the database directory",
            source: Box::new(sqlx::Error::Io(e)),
        })?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(sync)
        .busy_timeout(config.busy_timeout)
        .foreign_keys(true)
        // 64 MiB page cache per connection: the events table carries several indexes, and a cold cache
        // turned each batch commit into page reads.
        .pragma("cache_size", "-65536")
        // Checkpoint every ~40 MiB of WAL instead of 4 MiB: index pages hit by random keys are then copied
        // back once per checkpoint instead of many times.
        .pragma("wal_autocheckpoint", "10000");
    // Migrated through a pool of one connection, closed after: sqlx's migrator takes a pool (given a connection,
    // its future is not `Send` for every caller).
    let migrating = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .map_err(Error::db("open database"))?;
    sqlx::migrate!("migrations/sqlite").run(&migrating).await?;
    migrating.close().await;
    let group_sync = match config.synchronous {
        Synchronous::Full => Some(GroupSync::for_database(path).map_err(|e| Error::Database {
            op: "start the WAL syncer",
            source: Box::new(sqlx::Error::Io(e)),
        })?),
        Synchronous::Normal => None,
    };
    let writer = options
        .clone()
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await
        .map_err(Error::db("open database"))?;
    let writer = WriteConnection::open(path, writer, config.busy_timeout)?;
    let readers = SqliteReaders::new(
        options,
        path,
        config.busy_timeout,
        config.max_connections.max(2),
    );
    Ok(Pool::Sqlite(readers, SqliteWriter::new(writer, group_sync)))
}

async fn open_postgres(url: &str, config: &StoreConfig) -> Result<sqlx::PgPool> {
    let options: PgConnectOptions = url.parse().map_err(Error::db("parse database_url"))?;
    let options = options.application_name("ferry");
    // One connection more than asked: the LISTEN connection keeps one for itself.
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections.max(2) + 1)
        .acquire_timeout(config.busy_timeout.max(std::time::Duration::from_secs(1)))
        .connect_with(options)
        .await
        .map_err(Error::db("connect to postgres"))?;
    // sqlx takes an advisory lock around migrations, so hosts starting together apply them once.
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    Ok(pool)
}

/// Now, in the store's time unit (Unix milliseconds).
pub(crate) fn now_ms() -> i64 {
    to_ms(OffsetDateTime::now_utc())
}

/// A timestamp in the store's time unit.
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A stored time back as a UTC timestamp.
pub(crate) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A duration in the store's time unit.
pub(crate) fn dur_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod durability_tests {
    //! Under `synchronous = full`, a write is answered only once its commit is flushed (see `wal_sync`).
    use crate::backend::Pool;
    use crate::{Store, StoreConfig, Synchronous};
    use ferry_model::TenantId;

    /// A store in `dir` under the default `synchronous = full`.
    async fn open_full(dir: &tempfile::TempDir) -> Store {
        Store::open(&StoreConfig::at(dir.path().join("s.db")))
            .await
            .unwrap()
    }

    fn sync_of(store: &Store) -> Option<&crate::wal_sync::GroupSync> {
        match &store.pool {
            Pool::Sqlite(_, writer) => writer.group_sync(),
            Pool::Postgres(_) => None,
        }
    }

    #[tokio::test]
    async fn under_full_a_ledger_intent_returns_only_once_the_wal_is_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_full(&dir).await;
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
        let store = open_full(&dir).await;
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
