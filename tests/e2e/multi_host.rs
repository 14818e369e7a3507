//! Three `ferry serve` processes share one Postgres database behind a round-robin load balancer. Kentico's
//! webhooks land on whichever host the balancer picks; one host is killed with SIGKILL mid-run and never comes
//! back. The other two take over its leased events, and FreshBooks ends up with every order exactly once.

use ferry::sandbox::{HostToml, Sandbox, SandboxOptions};
use ferry_model::TenantId;
use ferry_store::{Store, StoreConfig};
use ferry_tests::balancer::Balancer;
use ferry_tests::postgres::TestDb;
use ferry_tests::process::{free_port, start_host};
use ferry_tests::{assert_exactly_once, fast_workers, valid_mix};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-under-test");

/// Orders placed over the run ("a few thousand").
const ORDERS: u64 = 2_000;

/// Hosts sharing the database.
const HOSTS: usize = 3;

/// Three debug-built hosts on two cores: more time than the single-host journeys.
const SETTLE: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_on_postgres_lose_one_and_still_sync_every_order_once() -> anyhow::Result<()> {
    TestDb::run(journey).await
}

async fn journey(database_url: String) -> anyhow::Result<()> {
    let database_url = database_url.as_str();
    let mut hosts = Vec::new();
    let sandbox = Sandbox::start(&SandboxOptions {
        seed: 41,
        customers: 300,
        ..SandboxOptions::default()
    })
    .await?;
    // A little latency so the kill lands while FreshBooks calls are in flight.
    sandbox
        .freshbooks
        .faults()
        .set_latency(Duration::from_millis(1), Duration::from_millis(5));
    let dir = tempfile::tempdir()?;
    let tenant = TenantId::parse("shop")?;
    let toml = sandbox.host_toml(&HostToml {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        store_path: dir.path().join("unused.db"),
        cache_dir: dir.path().join("cache"),
        tenant: tenant.clone(),
        plugins_dir: None,
        worker: ferry::config::WorkerConfig {
            lease_secs: 3,
            ..fast_workers()
        },
    });
    let config = dir.path().join("ferry.toml");
    std::fs::write(&config, toml)?;

    let mut urls = Vec::new();
    for _ in 0..HOSTS {
        let listen = format!("127.0.0.1:{}", free_port()?);
        let url = format!("http://{listen}");
        let env = [
            ("FERRY_LISTEN", listen.as_str()),
            ("FERRY_DATABASE_URL", database_url),
        ];
        hosts.push(start_host(BIN, &config, &url, &env).await?);
        urls.push(url);
    }
    let balancer = Balancer::start(urls).await?;
    sandbox.send_webhooks_to(&balancer.url, &tenant);

    let mut placed = Vec::new();
    let mut invoiced_at_kill = None;
    for n in 0..ORDERS {
        placed.push(sandbox.place(n, &valid_mix()).await);
        if invoiced_at_kill.is_none() && n % 50 == 0 {
            let invoiced = sandbox.invoices_by_order().len();
            if invoiced >= (ORDERS / 4) as usize {
                hosts[0].kill()?; // SIGKILL
                invoiced_at_kill = Some(invoiced);
            }
        }
    }
    if invoiced_at_kill.is_none() {
        hosts[0].kill()?;
        invoiced_at_kill = Some(sandbox.invoices_by_order().len());
    }

    let store = Store::open(&StoreConfig::from_url(database_url)).await?;
    let settled = sandbox
        .wait_settled(&store, &tenant, &placed, SETTLE)
        .await?;
    let audit = sandbox.audit(&store, &tenant, &placed).await?;
    let served = balancer.served();
    store.close().await;
    sandbox.shutdown();

    let logs: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| format!("host {i}:\n{}", h.log_tail(20)))
        .collect();
    assert!(
        settled,
        "did not settle with two hosts left; their logs:\n{}\n{audit:#?}",
        logs.join("\n")
    );
    let at_kill = invoiced_at_kill.unwrap_or_default();
    assert!(
        at_kill < placed.len(),
        "the kill landed mid-run ({at_kill} of {} invoiced before it)",
        placed.len()
    );
    assert!(
        served.iter().all(|n| *n > 0),
        "every host took webhooks: {served:?}"
    );
    assert_exactly_once(&audit);
    Ok(())
}
