//! Test support: the one end-to-end harness. [`TestApp`] starts the simulators and a Ferry host on port 0 with a
//! real SQLite file in a temporary directory; [`TestAppBuilder`] chooses its tenants, workers, admin tokens,
//! plugins and log capture. Helpers place orders in the Kentico simulator, step or drain the worker, wait for
//! orders to settle, audit FreshBooks and call the admin API.
//!
//! Layout:
//! - `admin`: an admin API client on [`TestApp`] and the error-body assertion;
//! - `browser`: a cookie-keeping, redirect-following client that submits HTML forms (the OAuth journeys);
//! - `logs`: the binary-wide log capture (the redaction test reads it);
//! - `plugins`: the repository's plugins, built once, as bytes or as a configured chain entry;
//! - `chromium`: a headless Chromium through chromedriver, for the console's browser tests;
//! - `balancer`, `postgres`, `process`: several `ferry serve` processes on one Postgres behind a balancer.

pub mod admin;
pub mod balancer;
pub mod browser;
pub mod by_hand;
pub mod chromium;
pub mod logs;
pub mod plugins;
pub mod postgres;
pub mod process;
pub mod receivers;
pub mod webhook;

use anyhow::Context as _;
use ferry::app::{App, RunningApp};
use ferry::config::{Config, WorkerConfig};
use ferry::pipeline::{ExecutionOutcome, Pipeline};
use ferry::sandbox::audit::{Audit, Placed};
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry::tenants::PluginConfig;
use ferry_model::TenantId;
use ferry_sim::kentico::{KenticoSim, KenticoSimConfig, OrderMix};
use ferry_store::{EventState, Store};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};
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
        load_retry_ms: 20,
        ..WorkerConfig::default()
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

/// Polls `condition` every 50 ms until it holds; fails naming `what` once `timeout` has passed.
///
/// # Errors
/// The condition did not hold in time.
pub async fn wait_until<F, Fut>(
    timeout: Duration,
    what: &str,
    mut condition: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A config change applied after the harness built the configuration.
type Adjust<'a> = Box<dyn FnOnce(&mut Config) + Send + 'a>;

/// Chooses what [`TestApp`] starts: by default one tenant `shop` without plugins, [`fast_workers`], no admin
/// tokens and no log capture.
pub struct TestAppBuilder<'a> {
    seed: Option<u64>,
    tenants: Vec<String>,
    plugins: Vec<PluginConfig>,
    workers: WorkerConfig,
    run_workers: bool,
    admin_tokens: bool,
    capture_logs: bool,
    searchable_kentico_password: bool,
    adjust: Option<Adjust<'a>>,
}

impl Default for TestAppBuilder<'_> {
    fn default() -> Self {
        Self {
            seed: None,
            tenants: vec!["shop".to_owned()],
            plugins: Vec::new(),
            workers: fast_workers(),
            run_workers: true,
            admin_tokens: false,
            capture_logs: false,
            searchable_kentico_password: false,
            adjust: None,
        }
    }
}

impl<'a> TestAppBuilder<'a> {
    /// Seeds the simulators' generated store and fault generators (default: the sandbox's default seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The tenants in the host's configuration file; the Kentico simulator sends webhooks for the first.
    ///
    /// # Panics
    /// `tenants` is empty.
    pub fn with_tenants(mut self, tenants: &[&str]) -> Self {
        assert!(!tenants.is_empty(), "a host serves at least one tenant");
        self.tenants = tenants.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// The first tenant's plugin chain.
    pub fn with_plugins(mut self, plugins: Vec<PluginConfig>) -> Self {
        self.plugins = plugins;
        self
    }

    /// Worker settings (concurrency, retries, reconciliation).
    pub fn with_workers(mut self, workers: WorkerConfig) -> Self {
        self.workers = workers;
        self
    }

    /// Builds the host without its worker pool: webhooks are stored, and events run only when the test calls
    /// [`TestApp::step`] or [`TestApp::drain`].
    pub fn without_workers(mut self) -> Self {
        self.run_workers = false;
        self
    }

    /// Creates an operator token (`ferry token create --operator`) and, through the admin API, one token per
    /// tenant in the configuration file ([`TestApp::operator`], [`TestApp::token`]).
    pub fn with_admin_tokens(mut self) -> Self {
        self.admin_tokens = true;
        self
    }

    /// Captures every log line while the host lives ([`logs`]); [`logs::captured`] reads them.
    pub fn with_log_capture(mut self) -> Self {
        self.capture_logs = true;
        self
    }

    /// Restarts the Kentico simulator with a long, unique password, so a test can search for it.
    pub fn with_searchable_kentico_password(mut self) -> Self {
        self.searchable_kentico_password = true;
        self
    }

    /// Lets `adjust` change the host configuration last.
    pub fn with_config(mut self, adjust: impl FnOnce(&mut Config) + Send + 'a) -> Self {
        self.adjust = Some(Box::new(adjust));
        self
    }

    /// Starts the simulators and the host.
    ///
    /// # Errors
    /// A port, the store, the host or a token could not be made.
    pub async fn spawn(self) -> anyhow::Result<TestApp> {
        logs::install();
        let capture = self.capture_logs.then(logs::capture);
        let mut sandbox = Sandbox::start(&SandboxOptions {
            seed: self.seed.unwrap_or(SandboxOptions::default().seed),
            ..SandboxOptions::default()
        })
        .await?;
        let kentico_password = if self.searchable_kentico_password {
            let password = format!("kentico-pw-{}", uuid::Uuid::new_v4().simple());
            sandbox.kentico.shutdown();
            sandbox.kentico = KenticoSim::start(KenticoSimConfig {
                password: password.clone(),
                ..KenticoSimConfig::default()
            })
            .await
            .context("start the Kentico simulator")?;
            Some(password)
        } else {
            None
        };
        let dir = tempfile::tempdir().context("temp dir")?;
        let tenant = TenantId::parse(&self.tenants[0]).context("tenant id")?;
        let mut config = sandbox.host_config(
            dir.path(),
            sandbox.tenant_config(tenant.clone(), self.plugins),
        );
        for id in &self.tenants[1..] {
            let id = TenantId::parse(id).context("tenant id")?;
            config.tenants.push(sandbox.tenant_config(id, vec![]));
        }
        if let Some(password) = kentico_password {
            for t in &mut config.tenants {
                t.kentico.password = SecretString::from(password.clone());
            }
        }
        config.worker = self.workers;
        if let Some(adjust) = self.adjust {
            adjust(&mut config);
        }
        TestApp::start(Parts {
            sandbox,
            tenant,
            config,
            dir,
            run_workers: self.run_workers,
            admin_tokens: self.admin_tokens,
            capture,
        })
        .await
    }
}

/// What a host is started from, and restarted from.
struct Parts {
    sandbox: Sandbox,
    tenant: TenantId,
    config: Config,
    dir: TempDir,
    run_workers: bool,
    admin_tokens: bool,
    capture: Option<logs::LogCapture>,
}

/// What [`TestApp::drain`] ran.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Events that finished.
    pub completed: usize,
    /// Events that failed transiently and were scheduled again (they are not ready yet).
    pub retried: usize,
    /// Events parked in the dead-letter queue.
    pub dead_lettered: usize,
}

impl Drained {
    /// Steps that ran an event.
    pub fn steps(&self) -> usize {
        self.completed + self.retried + self.dead_lettered
    }
}

/// The simulators, a host serving its tenants on them, and the store file it writes.
pub struct TestApp {
    /// Kentico, FreshBooks, exchange-rate and enrichment simulators.
    pub sandbox: Sandbox,
    /// The tenant the Kentico simulator sends webhooks for (the builder's first).
    pub tenant: TenantId,
    /// The host's configuration (store path, workers, tenants).
    pub config: Config,
    /// `http://127.0.0.1:<port>` of the host.
    pub host_url: String,
    /// A second handle on the host's SQLite file, for assertions.
    pub store: Store,
    /// An operator token ([`TestAppBuilder::with_admin_tokens`]; empty otherwise).
    pub operator: String,
    /// Keeps the store file and plugin cache until the test ends.
    pub dir: TempDir,
    tokens: BTreeMap<String, String>,
    pipeline: Pipeline,
    run_workers: bool,
    admin_tokens: bool,
    http: reqwest::Client,
    host: Option<RunningApp>,
    capture: Option<logs::LogCapture>,
}

impl TestApp {
    /// A builder for a host with other tenants, tokens, workers or log capture.
    pub fn builder<'a>() -> TestAppBuilder<'a> {
        TestAppBuilder::default()
    }

    /// Starts everything with `seed`, the tenant without plugins.
    ///
    /// # Errors
    /// A port, the store or the host could not start.
    pub async fn spawn(seed: u64) -> anyhow::Result<Self> {
        Self::builder().with_seed(seed).spawn().await
    }

    /// Starts everything, letting `adjust` change the host configuration first.
    ///
    /// # Errors
    /// A port, the store or the host could not start.
    pub async fn spawn_with(
        seed: u64,
        adjust: impl FnOnce(&mut Config) + Send,
    ) -> anyhow::Result<Self> {
        Self::builder()
            .with_seed(seed)
            .with_config(adjust)
            .spawn()
            .await
    }

    /// Builds and runs a host on `parts.config` (whose store may already hold tokens and plugins).
    async fn start(parts: Parts) -> anyhow::Result<Self> {
        let Parts {
            sandbox,
            tenant,
            config,
            dir,
            run_workers,
            admin_tokens,
            capture,
        } = parts;
        let mut app = App::build(config.clone()).await?;
        if !run_workers {
            app = app.without_workers();
        }
        let pipeline = app.pipeline().clone();
        let host = app.spawn();
        let host_url = host.url();
        sandbox.send_webhooks_to(&host_url, &tenant);
        let store = Store::open(&config.store).await.context("open the store")?;
        let mut app = Self {
            sandbox,
            tenant,
            config,
            host_url,
            store,
            operator: String::new(),
            dir,
            tokens: BTreeMap::new(),
            pipeline,
            run_workers,
            admin_tokens,
            http: reqwest::Client::new(),
            host: Some(host),
            capture,
        };
        if admin_tokens {
            app.operator = app.cli_token(&["--operator", "--label", "ops"]).await;
            // A test may leave a tenant out of the file (to add it through the API): it has no token then.
            let ids: Vec<String> = app
                .config
                .tenants
                .iter()
                .map(|t| t.id.to_string())
                .collect();
            for id in ids {
                let token = app.api_token(&id).await;
                app.tokens.insert(id, token);
            }
        }
        Ok(app)
    }

    /// Stops the host and starts a new one on the same store file and configuration (a restart).
    ///
    /// # Errors
    /// The new host could not start.
    pub async fn restart(mut self) -> anyhow::Result<Self> {
        self.shutdown_host().await;
        let Self {
            sandbox,
            tenant,
            config,
            dir,
            run_workers,
            admin_tokens,
            capture,
            ..
        } = self;
        Self::start(Parts {
            sandbox,
            tenant,
            config,
            dir,
            run_workers,
            admin_tokens,
            capture,
        })
        .await
    }

    /// The admin token of `tenant` ([`TestAppBuilder::with_admin_tokens`]).
    ///
    /// # Panics
    /// The host has no token for `tenant`.
    pub fn token(&self, tenant: &str) -> &str {
        self.tokens
            .get(tenant)
            .unwrap_or_else(|| panic!("no admin token for tenant {tenant}"))
    }

    /// Claims and runs one event, as one turn of a worker would.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn step(&self) -> anyhow::Result<ExecutionOutcome> {
        Ok(self.pipeline.try_execute_job().await?)
    }

    /// Steps until no event is ready, and counts what ran. Events scheduled for a retry are not ready until their
    /// backoff ends, so a drain ends with them still waiting.
    ///
    /// # Errors
    /// The store could not be read, or the host runs its own workers ([`TestAppBuilder::without_workers`]).
    pub async fn drain(&self) -> anyhow::Result<Drained> {
        anyhow::ensure!(
            !self.run_workers,
            "drain() is for a host built without workers: its own workers would race the steps"
        );
        let mut drained = Drained::default();
        loop {
            match self.step().await? {
                ExecutionOutcome::EmptyQueue => return Ok(drained),
                ExecutionOutcome::Completed => drained.completed += 1,
                ExecutionOutcome::Retried => drained.retried += 1,
                ExecutionOutcome::DeadLettered => drained.dead_lettered += 1,
            }
        }
    }

    /// Waits until the Kentico simulator has delivered every webhook it queued (30 s at most), then runs what they
    /// queued, as [`TestApp::drain`] does.
    ///
    /// # Errors
    /// The webhooks were not delivered in time, or as [`TestApp::drain`].
    pub async fn drain_webhooks(&self) -> anyhow::Result<Drained> {
        anyhow::ensure!(
            self.sandbox
                .kentico
                .wait_webhooks_idle(Duration::from_secs(30))
                .await,
            "the Kentico webhooks were not delivered within 30 s"
        );
        self.drain().await
    }

    /// Drains again and again, waiting out retry backoffs, until no event is queued, running or retrying.
    ///
    /// # Errors
    /// Events were still waiting after `timeout`, the store could not be read, or the host runs its own workers.
    pub async fn drain_until_idle(&self, timeout: Duration) -> anyhow::Result<Drained> {
        let deadline = Instant::now() + timeout;
        let mut total = Drained::default();
        loop {
            let drained = self.drain().await?;
            total.completed += drained.completed;
            total.retried += drained.retried;
            total.dead_lettered += drained.dead_lettered;
            let mut waiting = 0;
            for state in [
                EventState::Queued,
                EventState::Running,
                EventState::Retrying,
            ] {
                waiting += self.store.count_in_state(None, state).await?;
            }
            if waiting == 0 {
                return Ok(total);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{waiting} events still waiting after {timeout:?}; ran {total:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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

    /// Places orders `range` of the simulator's stream with `mix` and waits until they settle (two minutes).
    ///
    /// # Panics
    /// The orders did not settle, or the store could not be read.
    pub async fn place_and_settle(
        &self,
        range: std::ops::Range<u64>,
        mix: &OrderMix,
    ) -> Vec<Placed> {
        let placed = self.place(range, mix).await;
        let settled = self
            .sandbox
            .wait_settled(&self.store, &self.tenant, &placed, Duration::from_secs(120))
            .await
            .expect("read the store");
        assert!(settled, "orders did not settle");
        placed
    }

    async fn shutdown_host(&mut self) {
        if let Some(host) = self.host.take() {
            let _ = host.stop().await;
        }
        self.store.close().await;
    }

    /// Stops the host (graceful) and the simulators.
    pub async fn stop(mut self) {
        self.shutdown_host().await;
        self.sandbox.shutdown();
        drop(self.capture.take());
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
