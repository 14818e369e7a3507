//! Three hosts share one Postgres database behind a round-robin balancer, each with the same alert channels (a
//! signed webhook, a Slack-compatible webhook and e-mail, on receivers started by the test). Every host runs the
//! alert watcher and sees the FreshBooks outage through its own breaker, and every host dead-letters some of a burst
//! of invalid orders; the channels still get one "breaker open", one recovery and one dead-letter batch, not one
//! per host.

use crate::alerts::Receivers;
use ferry::app::{App, RunningApp};
use ferry::config::Config;
use ferry::sandbox::audit::Placed;
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry_model::TenantId;
use ferry_sim::kentico::OrderMix;
use ferry_store::{EventState, Store, StoreConfig};
use ferry_tests::balancer::Balancer;
use ferry_tests::postgres::TestDb;
use ferry_tests::{assert_exactly_once, fast_workers, valid_mix, wait_until};
use serde_json::Value;
use std::time::Duration;
use tempfile::TempDir;

/// Hosts sharing the database.
const HOSTS: usize = 3;

/// Three debug-built hosts on two cores: more time than the single-host journeys.
const SETTLE: Duration = Duration::from_secs(300);

/// The hosts, the simulators they call and a store handle for assertions.
struct Hosts {
    running: Vec<RunningApp>,
    sandbox: Sandbox,
    store: Store,
    tenant: TenantId,
    /// Keeps the balancer serving while the hosts run.
    _balancer: Balancer,
    /// Each host's plugin cache.
    _dirs: Vec<TempDir>,
}

impl Hosts {
    /// Starts [`HOSTS`] hosts on `database_url`, all with `receivers` as the operator's channels, webhooks going to
    /// them in turn.
    async fn start(
        database_url: &str,
        seed: u64,
        receivers: &Receivers,
        window_secs: u64,
    ) -> anyhow::Result<Self> {
        let sandbox = Sandbox::start(&SandboxOptions {
            seed,
            ..SandboxOptions::default()
        })
        .await?;
        let tenant = TenantId::parse("shop")?;
        let mut running = Vec::new();
        let mut dirs = Vec::new();
        let mut secrets = None;
        for _ in 0..HOSTS {
            let dir = tempfile::tempdir()?;
            let mut config: Config =
                sandbox.host_config(dir.path(), sandbox.tenant_config(tenant.clone(), vec![]));
            config.store = StoreConfig::from_url(database_url);
            config.worker = fast_workers();
            // Hosts on one database share the master key, or they could not open each other's sealed secrets.
            match &secrets {
                None => secrets = Some(config.secrets.clone()),
                Some(s) => config.secrets = s.clone(),
            }
            receivers.configure(&mut config, window_secs);
            // A breaker that opens after a few failed calls and probes again after a second.
            config.outbound.breaker.minimum_calls = 3;
            config.outbound.breaker.window_ms = 10_000;
            config.outbound.breaker.cooldown_ms = 1_000;
            running.push(App::build(config).await?.spawn());
            dirs.push(dir);
        }
        let balancer = Balancer::start(running.iter().map(RunningApp::url).collect()).await?;
        sandbox.send_webhooks_to(&balancer.url, &tenant);
        let store = Store::open(&StoreConfig::from_url(database_url)).await?;
        Ok(Self {
            running,
            sandbox,
            store,
            tenant,
            _balancer: balancer,
            _dirs: dirs,
        })
    }

    async fn place(&self, range: std::ops::Range<u64>, mix: &OrderMix) -> Vec<Placed> {
        let mut placed = Vec::new();
        for n in range {
            placed.push(self.sandbox.place(n, mix).await);
        }
        placed
    }

    /// Stops every host gracefully (each sends what it has pending and waits for its deliveries).
    async fn stop(self) -> anyhow::Result<()> {
        for host in self.running {
            host.stop().await?;
        }
        self.store.close().await;
        self.sandbox.shutdown();
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_seen_by_three_hosts_sends_one_breaker_open_and_one_recovery_per_channel()
-> anyhow::Result<()> {
    TestDb::run(outage).await
}

async fn outage(database_url: String) -> anyhow::Result<()> {
    let receivers = Receivers::start().await;
    let hosts = Hosts::start(&database_url, 33, &receivers, 60).await?;
    let faults = hosts.sandbox.freshbooks.faults().clone();
    faults.outage_for(Duration::from_secs(60));
    let mut placed = hosts.place(0..18, &valid_mix()).await;
    let opened = |r: &Receivers| {
        r.counts(
            "alert.raised",
            "breaker.freshbooks",
            "circuit breaker opened",
        )
    };
    wait_until(
        Duration::from_secs(60),
        "a breaker-open alert on every channel",
        || async { opened(&receivers).iter().all(|n| *n >= 1) },
    )
    .await?;
    // Seconds of outage more: every host's workers keep failing on the events they claim, so every host's breaker
    // opens (and opens again after each failed probe).
    tokio::time::sleep(Duration::from_secs(5)).await;
    faults.end_outage();
    // Orders after the outage: every host claims some, probes FreshBooks and closes its breaker.
    placed.extend(hosts.place(18..48, &valid_mix()).await);
    let settled = hosts
        .sandbox
        .wait_settled(&hosts.store, &hosts.tenant, &placed, SETTLE)
        .await?;
    let audit = hosts
        .sandbox
        .audit(&hosts.store, &hosts.tenant, &placed)
        .await?;
    assert!(settled, "did not settle: {audit:#?}");
    assert_exactly_once(&audit);
    let closed = |r: &Receivers| {
        r.counts(
            "alert.cleared",
            "breaker.freshbooks",
            "circuit breaker closed",
        )
    };
    wait_until(
        Duration::from_secs(30),
        "a recovery alert on every channel",
        || async { closed(&receivers).iter().all(|n| *n >= 1) },
    )
    .await?;
    // Every host's watcher looks at its breaker twice a second: a few looks for a late host to report its own.
    tokio::time::sleep(Duration::from_secs(3)).await;
    hosts.stop().await?;

    println!(
        "{HOSTS} hosts: breaker open per channel (webhook, slack, e-mail) {:?}, recovery {:?}",
        opened(&receivers),
        closed(&receivers)
    );
    assert!(faults.counters().outages > 3, "the outage was hit");
    assert_eq!(opened(&receivers), [1, 1, 1], "webhook, slack, e-mail");
    assert_eq!(closed(&receivers), [1, 1, 1], "webhook, slack, e-mail");
    assert_eq!(receivers.webhook.refused(), 0, "every webhook was signed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_of_three_hosts_in_one_window_send_one_message_with_every_count()
-> anyhow::Result<()> {
    TestDb::run(dead_letters).await
}

async fn dead_letters(database_url: String) -> anyhow::Result<()> {
    let receivers = Receivers::start().await;
    // A window longer than the test: the batch goes out when the hosts stop.
    let hosts = Hosts::start(&database_url, 34, &receivers, 600).await?;
    let invalid = OrderMix {
        invalid: 1.0,
        foreign_currency: 0.0,
        paid: 0.0,
    };
    let placed = hosts.place(0..60, &invalid).await;
    let settled = hosts
        .sandbox
        .wait_settled(&hosts.store, &hosts.tenant, &placed, SETTLE)
        .await?;
    assert!(settled, "the invalid orders were not all dead-lettered");
    let (store, tenant) = (hosts.store.clone(), hosts.tenant.clone());
    wait_until(SETTLE, "every event run", || async {
        let mut waiting = 0;
        for state in [
            EventState::Queued,
            EventState::Retrying,
            EventState::Running,
        ] {
            waiting += store
                .count_in_state(Some(&tenant), state)
                .await
                .unwrap_or(1);
        }
        waiting == 0
    })
    .await?;
    let dead = store
        .count_in_state(Some(&tenant), EventState::Dead)
        .await?;
    assert!(dead >= 60, "{dead}");
    hosts.stop().await?;

    let batches: Vec<Value> = receivers
        .webhook
        .bodies()
        .into_iter()
        .filter(|b| b["type"] == "alert.dead_letters")
        .collect();
    println!(
        "{HOSTS} hosts, {dead} dead letters: batches per channel (webhook, slack, e-mail) {:?}",
        receivers.counts("alert.dead_letters", "dead_letters", "new dead letter")
    );
    assert_eq!(batches.len(), 1, "{batches:#?}");
    assert_eq!(
        batches[0]["data"]["counts"],
        serde_json::json!({ "validation": dead }),
        "the one message counts every host's dead letters"
    );
    assert_eq!(
        receivers.counts("alert.dead_letters", "dead_letters", "new dead letter"),
        [1, 1, 1],
        "webhook, slack, e-mail"
    );
    Ok(())
}
