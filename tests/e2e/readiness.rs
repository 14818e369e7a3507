//! `/readyz` asks the store: ready while it answers and every migration this build knows is applied, 503 with
//! the reason otherwise (a load balancer then stops sending webhooks to this host). `/healthz` only says the
//! process is alive.

use ferry_tests::TestApp;
use reqwest::StatusCode;
use sqlx::Connection as _;

async fn probe(host: &TestApp, path: &str) -> (StatusCode, String) {
    let resp = reqwest::get(format!("{}{path}", host.host_url))
        .await
        .expect("the host answers");
    (resp.status(), resp.text().await.expect("a text body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_when_a_migration_is_missing_or_the_store_cannot_answer() {
    let host = TestApp::builder().spawn().await.unwrap();
    assert_eq!(probe(&host, "/readyz").await.0, StatusCode::OK);

    let url = format!("sqlite://{}", host.config.store.path.display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let latest: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut db)
        .await
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = ?")
        .bind(latest)
        .execute(&mut db)
        .await
        .unwrap();
    let (status, body) = probe(&host, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.contains(&latest.to_string()),
        "names the migration: {body}"
    );
    assert_eq!(
        probe(&host, "/healthz").await.0,
        StatusCode::OK,
        "still alive"
    );

    sqlx::query("DROP TABLE _sqlx_migrations")
        .execute(&mut db)
        .await
        .unwrap();
    let (status, body) = probe(&host, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("store"), "{body}");
    db.close().await.unwrap();
    host.stop().await;
}
