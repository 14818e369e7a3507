//! Two `ferry serve` processes share one Postgres database, with the product's default lease. One host holds every
//! running slot of the tenant (concurrency 4) when it is killed with SIGKILL; the other takes its events over once
//! their leases run out, and FreshBooks ends up with every order exactly once. The test prints the stall: the time
//! from the kill to the first event the surviving host completes (a figure, not an assertion).

use ferry::config::WorkerConfig;
use ferry::sandbox::{HostToml, Sandbox, SandboxOptions};
use ferry_model::TenantId;
use ferry_store::{EventState, Store, StoreConfig};
use ferry_tests::postgres::TestDb;
use ferry_tests::process::{free_port, start_host};
use ferry_tests::{assert_exactly_once, fast_workers, valid_mix, wait_until};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ferry-under-test");

/// Orders placed before the kill: enough to keep the tenant's four slots busy well past it.
const ORDERS: u64 = 24;

/// The tenant's running limit (the default `limits.concurrency`).
const TENANT_CONCURRENCY: u64 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_holding_every_slot_stalls_its_tenant_for_one_lease_at_most()
-> anyhow::Result<()> {
    TestDb::run(journey).await
}

async fn journey(database_url: String) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&SandboxOptions {
        seed: 16,
        ..SandboxOptions::default()
    })
    .await?;
    // Slow FreshBooks calls: each event runs for a few seconds, so the kill lands with all four in flight.
    sandbox
        .freshbooks
        .faults()
        .set_latency(Duration::from_millis(250), Duration::from_millis(350));
    let dir = tempfile::tempdir()?;
    let tenant = TenantId::parse("shop")?;
    let lease_secs = WorkerConfig::default().lease_secs;
    let toml = sandbox.host_toml(&HostToml {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        store_path: dir.path().join("unused.db"),
        cache_dir: dir.path().join("cache"),
        tenant: tenant.clone(),
        plugins_dir: None,
        worker: WorkerConfig {
            lease_secs,
            ..fast_workers()
        },
    });
    let config = dir.path().join("ferry.toml");
    std::fs::write(&config, toml)?;
    let mut hosts = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..2 {
        let listen = format!("127.0.0.1:{}", free_port()?);
        let url = format!("http://{listen}");
        let env = [
            ("FERRY_LISTEN", listen.as_str()),
            ("FERRY_DATABASE_URL", database_url.as_str()),
        ];
        hosts.push(start_host(BIN, &config, &url, &env).await?);
        urls.push(url);
    }
    // The survivor is frozen until the kill, so the doomed host claims every slot.
    hosts[1].pause()?;
    sandbox.send_webhooks_to(&urls[0], &tenant);
    let store = Store::open(&StoreConfig::from_url(database_url.as_str())).await?;
    let mut placed = Vec::new();
    for n in 0..ORDERS {
        placed.push(sandbox.place(n, &valid_mix()).await);
    }
    wait_until(
        Duration::from_secs(60),
        "the first host runs the tenant's four slots",
        || async {
            store
                .count_in_state(Some(&tenant), EventState::Running)
                .await
                .unwrap_or_default()
                == TENANT_CONCURRENCY
        },
    )
    .await?;

    let done_before = store
        .count_in_state(Some(&tenant), EventState::Done)
        .await?;
    hosts[0].kill()?; // SIGKILL, with four leases held
    let killed_at = Instant::now();
    hosts[1].resume()?;
    sandbox.send_webhooks_to(&urls[1], &tenant);
    // Only the survivor can complete events now.
    wait_until(
        Duration::from_secs(lease_secs * 3 + 30),
        "the surviving host completes an event",
        || async {
            store
                .count_in_state(Some(&tenant), EventState::Done)
                .await
                .unwrap_or_default()
                > done_before
        },
    )
    .await?;
    let stall = killed_at.elapsed();
    println!(
        "lease_secs = {lease_secs}: {:.1} s from kill -9 to the surviving host's first completed event",
        stall.as_secs_f64()
    );

    let settled = sandbox
        .wait_settled(&store, &tenant, &placed, Duration::from_secs(300))
        .await?;
    let audit = sandbox.audit(&store, &tenant, &placed).await?;
    let running = store
        .count_in_state(Some(&tenant), EventState::Running)
        .await?;
    store.close().await;
    sandbox.shutdown();
    assert!(settled, "did not settle on the surviving host: {audit:#?}");
    assert_eq!(running, 0, "the dead host's leases are gone");
    assert_exactly_once(&audit);
    Ok(())
}
