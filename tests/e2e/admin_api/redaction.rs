//! After a full run, no credential or token is readable in the SQLite file (with its WAL), the logs, or the
//! admin API: only sealed blobs and hashes are stored, and logs carry ids, not secrets.

use crate::admin_api::{SHOP, spawn_admin_host};
use ferry_secrets::Keyring;
use ferry_sim::kentico::OrderMix;
use ferry_tests::logs::captured as captured_logs;
use secrecy::ExposeSecret;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_secret_reaches_the_database_file_the_logs_or_the_admin_api() {
    let host = spawn_admin_host().await;
    let mix = OrderMix {
        invalid: 0.2,
        foreign_currency: 0.3,
        paid: 0.7,
    };
    host.place_and_settle(0..6, &mix).await;
    let (_, view) = host.get("/tenants/shop", &host.operator).await;
    let (_, events) = host
        .get("/tenants/shop/events?limit=500", &host.operator)
        .await;
    let (_, dead) = host.get("/dlq", &host.operator).await;

    let shop = &host.config.tenants[0];
    let keyring = Keyring::from_encoded(&host.config.secrets.master_keys).unwrap();
    let sealed = host
        .store
        .tokens(&shop.id, &shop.freshbooks.account_id)
        .await
        .unwrap()
        .expect("the run stored FreshBooks tokens");
    let access = keyring.open(&sealed.access_token).unwrap();
    let refresh = keyring.open(&sealed.refresh_token).unwrap();
    assert!(
        access.expose_secret().len() >= 16,
        "an access token was issued"
    );
    let secrets = [
        ("freshbooks access token", access.expose_secret().to_owned()),
        (
            "freshbooks refresh token",
            refresh.expose_secret().to_owned(),
        ),
        (
            "initial freshbooks refresh token",
            shop.freshbooks
                .refresh_token
                .as_ref()
                .unwrap()
                .expose_secret()
                .to_owned(),
        ),
        (
            "freshbooks client secret",
            shop.freshbooks.client_secret.expose_secret().to_owned(),
        ),
        (
            "kentico password",
            shop.kentico.password.expose_secret().to_owned(),
        ),
        (
            "webhook secret",
            shop.webhook_secrets[0].expose_secret().to_owned(),
        ),
        ("operator admin token", host.operator.clone()),
        ("tenant admin token", host.token(SHOP).to_owned()),
    ];

    let mut files = Vec::new();
    for name in ["ferry.db", "ferry.db-wal", "ferry.db-shm"] {
        if let Ok(bytes) = std::fs::read(host.dir.path().join(name)) {
            files.push((name, bytes));
        }
    }
    assert!(files.iter().any(|(n, b)| *n == "ferry.db" && !b.is_empty()));
    let logs = captured_logs();
    assert!(
        logs.contains("\"tenant\":\"shop\"") || logs.contains("shop"),
        "logs were captured"
    );
    let api = format!("{view}{events}{dead}");

    for (what, secret) in &secrets {
        assert!(secret.len() >= 8, "{what} is long enough to search for");
        for (file, bytes) in &files {
            assert!(
                !contains(bytes, secret.as_bytes()),
                "{what} in plaintext in {file}"
            );
        }
        assert!(!logs.contains(secret.as_str()), "{what} in the logs");
        assert!(
            !api.contains(secret.as_str()),
            "{what} in an admin API answer"
        );
    }
    host.stop().await;
}
