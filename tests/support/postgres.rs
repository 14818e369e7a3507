//! A scratch Postgres database per test on the server `scripts/postgres.sh` starts
//! (`FERRY_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`).

use anyhow::Context as _;
use sqlx::{Connection, Executor, PgConnection};

/// Where the tests find their Postgres server.
pub fn server_url() -> String {
    std::env::var("FERRY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A test database older than this was left by a run that was killed before it could drop it (no run lasts this long).
const STALE_AFTER_HOURS: u32 = 3;

/// Drops the test databases that killed runs left behind, with the connections still open on them: hosts orphaned
/// with them would otherwise hold connections the server may run out of. Best effort: a failure here is not this
/// test's failure.
async fn drop_stale(admin: &mut PgConnection) {
    // A database's directory gets its PG_VERSION file when the database is created (superuser only; the test server
    // trusts `postgres`).
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'ferry\\_e2e\\_%' AND \
         (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - make_interval(hours => $1)",
    )
    .bind(i32::try_from(STALE_AFTER_HOURS).unwrap_or(i32::MAX))
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in stale {
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
    }
}

/// A database created for one test; [`TestDb::drop_now`] removes it.
pub struct TestDb {
    name: String,
    /// `postgres://…/<name>`.
    pub url: String,
}

impl TestDb {
    /// Creates `ferry_e2e_<uuid>`.
    ///
    /// # Errors
    /// The server cannot be reached (run `scripts/postgres.sh`) or refuses to create the database.
    pub async fn create() -> anyhow::Result<Self> {
        let server = server_url();
        let mut admin = PgConnection::connect(&server)
            .await
            .with_context(|| format!("connect to {server} (start it with scripts/postgres.sh)"))?;
        drop_stale(&mut admin).await;
        let name = format!("ferry_e2e_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .context("create the test database")?;
        let _ = admin.close().await;
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        Ok(Self {
            url: format!("{base}/{name}"),
            name,
        })
    }

    /// Runs `journey` with the URL of a new database on its own task, so that a failed assertion or a panic
    /// still drops the database (whatever the journey started dies with its task); a panic is raised again after.
    ///
    /// # Errors
    /// The journey's error, or the server could not create or drop the database.
    pub async fn run<F, Fut>(journey: F) -> anyhow::Result<()>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let db = Self::create().await?;
        let outcome = tokio::spawn(journey(db.url.clone())).await;
        db.drop_now().await?;
        match outcome {
            Ok(result) => result,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// Drops the database, closing the connections left on it.
    ///
    /// # Errors
    /// The server cannot be reached.
    pub async fn drop_now(self) -> anyhow::Result<()> {
        let mut admin = PgConnection::connect(&server_url()).await?;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .await?;
        let _ = admin.close().await;
        Ok(())
    }
}
