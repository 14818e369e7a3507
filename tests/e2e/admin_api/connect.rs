//! `ferry connect freshbooks <tenant>`: the authorization-code flow against the FreshBooks simulator, which
//! approves at once and redirects to the listener the command opened.

use crate::admin_api::{SHOP, spawn_admin_host_with};
use clap::Parser;
use ferry::cli::{Cli, Command};
use ferry_secrets::Keyring;
use ferry_tests::TestApp;
use secrecy::ExposeSecret;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A writer the test can read while the command is still running.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Waits until the command has printed a line starting with `prefix`, and returns it.
    async fn line(&self, prefix: &str) -> String {
        for _ in 0..200 {
            if let Some(l) = self.text().lines().find(|l| l.starts_with(prefix)) {
                return l.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no line starting with {prefix:?} in {:?}", self.text());
    }
}

fn free_port() -> u16 {
    ferry_tests::process::free_port().expect("a free port")
}

/// Starts `ferry connect freshbooks shop` in the background.
fn start_connect(host: &TestApp, out: &Shared) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    let Command::Connect(cmd) = Cli::try_parse_from([
        "ferry",
        "connect",
        "freshbooks",
        SHOP,
        "--timeout-secs",
        "30",
    ])
    .unwrap()
    .command
    else {
        panic!("not a connect command");
    };
    let (config, store, mut out) = (host.config.clone(), host.store.clone(), out.clone());
    tokio::spawn(async move { ferry::cli::connect::run(&config, &store, cmd, &mut out).await })
}

async fn refresh_token(host: &TestApp) -> String {
    let shop = &host.config.tenants[0];
    let keyring = Keyring::from_encoded(&host.config.secrets.master_keys).unwrap();
    let sealed = host
        .store
        .tokens(&shop.id, &shop.freshbooks.account_id)
        .await
        .unwrap()
        .unwrap();
    keyring
        .open(&sealed.refresh_token)
        .unwrap()
        .expose_secret()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_freshbooks_exchanges_the_code_and_seals_the_new_tokens() {
    let redirect = format!("http://127.0.0.1:{}/oauth/callback", free_port());
    let host =
        spawn_admin_host_with(|c| c.tenants[0].freshbooks.redirect_uri = redirect.clone()).await;
    let before = refresh_token(&host).await;

    let out = Shared::default();
    let task = start_connect(&host, &out);
    let url = out.line("http").await;
    assert!(
        url.contains("/oauth/authorize?") && url.contains("state="),
        "{url}"
    );
    // The simulator approves at once and redirects the "browser" to the command's listener.
    let page = reqwest::get(&url).await.unwrap();
    assert!(page.status().is_success());
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Ferry received the authorization")
    );
    task.await.unwrap().unwrap();
    assert!(
        out.text().contains("connected tenant shop"),
        "{}",
        out.text()
    );

    let after = refresh_token(&host).await;
    assert_ne!(after, before, "the new token pair replaced the old one");
    let db = std::fs::read(host.dir.path().join("ferry.db")).unwrap();
    let wal = std::fs::read(host.dir.path().join("ferry.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(after.len()).any(|w| w == after.as_bytes()),
            "the refresh token is stored sealed"
        );
    }
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_freshbooks_refuses_a_redirect_with_another_state() {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
    let host =
        spawn_admin_host_with(|c| c.tenants[0].freshbooks.redirect_uri = redirect.clone()).await;
    let before = refresh_token(&host).await;
    let out = Shared::default();
    let task = start_connect(&host, &out);
    out.line("Waiting").await;
    let forged = format!("{redirect}?code=stolen&state=not-the-one");
    assert!(reqwest::get(&forged).await.unwrap().status().is_success());
    let err = task.await.unwrap().unwrap_err();
    assert!(
        err.to_string()
            .contains("altered or was not issued by this host"),
        "{err}"
    );
    assert_eq!(refresh_token(&host).await, before, "nothing was stored");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_host_uses_tokens_connected_after_it_started() {
    let redirect = format!("http://127.0.0.1:{}/oauth/callback", free_port());
    let host = spawn_admin_host_with(|c| {
        c.tenants[0].freshbooks.redirect_uri = redirect.clone();
        c.tenants[0].freshbooks.refresh_token = None;
    })
    .await;
    let shop = ferry_model::TenantId::parse(SHOP).unwrap();

    // Not connected yet: the order is dead-lettered, saying so.
    let placed = host.sandbox.place(0, &crate::admin_api::valid()).await;
    let mut dead = Vec::new();
    for _ in 0..300 {
        dead = host.store.dead_letters(Some(&shop), 10).await.unwrap();
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reason = dead
        .first()
        .and_then(|d| d.last_error.clone())
        .unwrap_or_default();
    assert!(reason.contains("not connected"), "{reason:?}");

    // Connected while the host keeps running, then replayed: invoiced, no restart.
    let out = Shared::default();
    let task = start_connect(&host, &out);
    let url = out.line("http").await;
    assert!(reqwest::get(&url).await.unwrap().status().is_success());
    task.await.unwrap().unwrap();
    for d in &dead {
        let (status, body) = host
            .post(
                &format!("/tenants/shop/dlq/{}/replay", d.job.0),
                host.token(SHOP),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    }
    let guid = placed.order.guid.to_string();
    for _ in 0..300 {
        if host.sandbox.invoices_by_order().contains_key(&guid) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        host.sandbox.invoices_by_order().contains_key(&guid),
        "the replayed order was invoiced with the tokens connected after start"
    );
    host.stop().await;
}
