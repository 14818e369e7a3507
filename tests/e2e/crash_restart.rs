//! `kill -9` of the host mid-run, then a restart on the same SQLite file: every event acknowledged before the
//! crash is still there, runs that were cut off are taken again when their lease expires, webhooks refused while
//! the host was down are redelivered or caught by polling, and FreshBooks ends up with each order exactly once.

use ferry::sandbox::HostToml;
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry_model::TenantId;
use ferry_store::{Store, StoreConfig};
use ferry_tests::process::free_port;
use ferry_tests::{SETTLE_TIMEOUT, assert_exactly_once, fast_workers, valid_mix};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-under-test");

async fn start_host(
    config: &std::path::Path,
    url: &str,
) -> anyhow::Result<ferry_tests::process::HostProcess> {
    ferry_tests::process::start_host(BIN, config, url, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_host_mid_run_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&SandboxOptions {
        seed: 31,
        ..SandboxOptions::default()
    })
    .await?;
    // Some latency so the kill lands while calls are in flight; lost replies so the restart has to adopt.
    sandbox
        .freshbooks
        .faults()
        .set_latency(Duration::from_millis(5), Duration::from_millis(10));
    sandbox.freshbooks.faults().set_drop_reply_rate(0.03);
    let dir = tempfile::tempdir()?;
    let tenant = TenantId::parse("shop")?;
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let url = format!("http://{listen}");
    let store_path = dir.path().join("ferry.db");
    let toml = sandbox.host_toml(&HostToml {
        listen,
        store_path: store_path.clone(),
        cache_dir: dir.path().join("cache"),
        tenant: tenant.clone(),
        plugins_dir: None,
        worker: ferry::config::WorkerConfig {
            lease_secs: 3,
            ..fast_workers()
        },
    });
    let config_path = dir.path().join("ferry.toml");
    std::fs::write(&config_path, toml)?;

    let mut host = start_host(&config_path, &url).await?;
    sandbox.send_webhooks_to(&url, &tenant);
    let mut placed = Vec::new();
    for n in 0..150 {
        placed.push(sandbox.place(n, &valid_mix()).await);
    }
    // Let part of the work finish, then pull the plug while the rest is queued or in flight.
    let mut before = 0;
    for _ in 0..1500 {
        before = sandbox.invoices_by_order().len();
        if before >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.kill()?; // SIGKILL
    for n in 150..300 {
        placed.push(sandbox.place(n, &valid_mix()).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let host = start_host(&config_path, &url).await?;

    let store = Store::open(&StoreConfig::at(&store_path)).await?;
    let settled = sandbox
        .wait_settled(&store, &tenant, &placed, SETTLE_TIMEOUT)
        .await?;
    let audit = sandbox.audit(&store, &tenant, &placed).await?;
    drop(host);
    sandbox.shutdown();
    assert!(settled, "did not settle after the restart: {audit:#?}");
    assert!(
        (40..150).contains(&before),
        "the kill landed mid-run ({before} of the first 150 invoiced before it)"
    );
    assert_exactly_once(&audit);
    Ok(())
}
