//! Opening a fresh store per test: a SQLite file in a temp dir, or a Postgres database of its own.
//!
//! Postgres tests use the server at `FERRY_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, what `scripts/postgres.sh` starts). Each test creates a
//! database named `ferry_test_<uuid>` and drops it at the end, so tests are independent and run in parallel.
//! When the server cannot be reached the tests fail (they never pass silently).

use ferry_store::{Store, StoreConfig};
use sqlx::{Connection, Executor, PgConnection};
use std::future::Future;

/// Where the Postgres tests find their server.
pub(crate) fn server_url() -> String {
    std::env::var("FERRY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Opens a fresh SQLite store in its own temp dir and runs `body` on it.
pub(crate) async fn with_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&StoreConfig::at(dir.path().join("ferry.db")))
        .await
        .expect("open store");
    body(store.clone()).await.expect("test body");
    store.close().await;
}

/// Runs `body` on one store over a fresh Postgres database.
pub(crate) async fn with_postgres<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    with_postgres_hosts(1, |mut stores| body(stores.remove(0))).await;
}

/// Runs `body` on `hosts` independent stores (each its own pool, as separate `ferry serve` processes would
/// have) over one fresh Postgres database; drops the database afterwards, also when the body fails.
pub(crate) async fn with_postgres_hosts<F, Fut>(hosts: usize, body: F)
where
    F: FnOnce(Vec<Store>) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let db = TestDb::create().await;
    let mut stores = Vec::new();
    for _ in 0..hosts {
        stores.push(
            Store::open(&StoreConfig::from_url(db.url.clone()))
                .await
                .expect("open postgres store"),
        );
    }
    let handles = stores.clone();
    let outcome = tokio::spawn(body(handles)).await;
    for s in &stores {
        s.close().await;
    }
    db.drop().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("test body: {e:?}"),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// A scratch database on the test server.
pub(crate) struct TestDb {
    name: String,
    /// URL of the scratch database.
    pub(crate) url: String,
}

impl TestDb {
    /// Creates `ferry_test_<uuid>`.
    ///
    /// # Panics
    /// When the server cannot be reached, with what to do about it.
    pub(crate) async fn create() -> Self {
        let server = server_url();
        let mut admin = admin(&server).await;
        let name = format!("ferry_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let url = with_database(&server, &name);
        Self { name, url }
    }

    /// Drops the database, closing whatever connections are left.
    pub(crate) async fn drop(self) {
        let mut admin = admin(&server_url()).await;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .await
            .expect("drop test database");
        let _ = admin.close().await;
    }
}

async fn admin(server: &str) -> PgConnection {
    PgConnection::connect(server).await.unwrap_or_else(|e| {
        panic!(
            "the Postgres store tests need a server at {server} ({e}); start one with scripts/postgres.sh \
             or point FERRY_TEST_DATABASE_URL at one"
        )
    })
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..path_start])
}
