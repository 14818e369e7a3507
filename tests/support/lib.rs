//! Test support: start the simulators and a Ferry host on port 0 with a real SQLite file in a temporary
//! directory, place orders in the Kentico simulator, wait for them to settle and audit FreshBooks.

pub mod balancer;
pub mod postgres;
pub mod process;

use anyhow::Context as _;
use ferry::app::{App, RunningApp};
use ferry::config::{Config, WorkerConfig};
use ferry::sandbox::audit::{Audit, Placed};
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry_model::TenantId;
use ferry_sim::kentico::OrderMix;
use ferry_store::Store;
use std::time::Duration;
use tempfile::TempDir;

/// How long a journey may take to settle before the test fails with what is missing.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(180);

/// Worker settings for tests: quick backoff, enough attempts to outlast a 30-second outage.
pub fn fast_workers() -> WorkerConfig {
    WorkerConfig {
        concurrency: 16,
        max_attempts: 20,
        backoff_base_ms: 50,
        backoff_max_ms: 2_000,
        lease_secs: 10,
        reconcile_every_secs: 1,
    }
}

/// Orders valid, paid more often than not, a third in a foreign currency.
pub fn valid_mix() -> OrderMix {
    OrderMix {
        invalid: 0.0,
        foreign_currency: 0.3,
        paid: 0.6,
    }
}

/// The simulators, a host serving one tenant on them, and the store file it writes.
pub struct TestApp {
    /// Kentico, FreshBooks and exchange-rate simulators.
    pub sandbox: Sandbox,
    /// The tenant the host serves.
    pub tenant: TenantId,
    /// The host's configuration (store path, workers).
    pub config: Config,
    /// `http://127.0.0.1:<port>` of the host.
    pub host_url: String,
    /// A second handle on the host's SQLite file, for assertions.
    pub store: Store,
    host: Option<RunningApp>,
    /// Keeps the store file and plugin cache until the test ends.
    pub dir: TempDir,
}

impl TestApp {
    /// Starts everything with `seed`, the tenant without plugins.
    ///
    /// # Errors
    /// A port, the store or the host could not start.
    pub async fn spawn(seed: u64) -> anyhow::Result<Self> {
        Self::spawn_with(seed, |_| {}).await
    }

    /// Starts everything, letting `adjust` change the host configuration first.
    ///
    /// # Errors
    /// A port, the store or the host could not start.
    pub async fn spawn_with(seed: u64, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        if std::env::var_os("RUST_LOG").is_some() {
            ferry::telemetry::init();
        }
        let sandbox = Sandbox::start(&SandboxOptions {
            seed,
            ..SandboxOptions::default()
        })
        .await?;
        let dir = tempfile::tempdir().context("temp dir")?;
        let tenant = TenantId::parse("shop").context("tenant id")?;
        let mut config =
            sandbox.host_config(dir.path(), sandbox.tenant_config(tenant.clone(), vec![]));
        config.worker = fast_workers();
        adjust(&mut config);
        let host = App::build(config.clone()).await?.spawn();
        let host_url = host.url();
        sandbox.send_webhooks_to(&host_url, &tenant);
        let store = Store::open(&config.store).await.context("open the store")?;
        Ok(Self {
            sandbox,
            tenant,
            config,
            host_url,
            store,
            host: Some(host),
            dir,
        })
    }

    /// Places orders `from..to` of the simulator's deterministic stream.
    pub async fn place(&self, range: std::ops::Range<u64>, mix: &OrderMix) -> Vec<Placed> {
        let mut placed = Vec::new();
        for n in range {
            placed.push(self.sandbox.place(n, mix).await);
        }
        placed
    }

    /// Waits for `placed` to settle and audits FreshBooks; panics with the audit when it does not settle.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn settle(&self, placed: &[Placed]) -> anyhow::Result<Audit> {
        let settled = self
            .sandbox
            .wait_settled(&self.store, &self.tenant, placed, SETTLE_TIMEOUT)
            .await?;
        let audit = self
            .sandbox
            .audit(&self.store, &self.tenant, placed)
            .await?;
        anyhow::ensure!(
            settled,
            "orders did not settle in {SETTLE_TIMEOUT:?}: {audit:#?}"
        );
        Ok(audit)
    }

    /// Stops the host (graceful) and the simulators.
    pub async fn stop(mut self) {
        if let Some(host) = self.host.take() {
            let _ = host.stop().await;
        }
        self.sandbox.shutdown();
    }
}

/// Asserts the audit found nothing lost, duplicated or leaked, with the audit in the message.
pub fn assert_exactly_once(audit: &Audit) {
    assert!(audit.is_clean(), "not exactly once: {audit:#?}");
    assert_eq!(
        audit.invoiced,
        audit.placed - audit.invalid,
        "every valid order has one invoice: {audit:#?}"
    );
}
