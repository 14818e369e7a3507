//! `App::build` does everything that can fail early (store, migrations, clients, plugins, the listener);
//! `run_until_stopped` serves webhooks, runs the workers and the reconciliation poller until shutdown.

use crate::config::Config;
use crate::pipeline::{Pipeline, RetryPolicy};
use crate::services::ExchangeClient;
use crate::tenants::PluginHost;
use crate::tenants::{TenantFactory, Tenants};
use anyhow::Context as _;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use ferry_outbound::{Backoff, HttpClient};
use ferry_secrets::Keyring;
use ferry_store::{ClaimRequest, Ingestor, Store};
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::SecretString;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

/// A built, not yet running, Ferry host.
pub struct App {
    listener: TcpListener,
    router: Router,
    pipeline: Pipeline,
    ingestor: Ingestor,
    tenants: Tenants,
    admin: crate::admin::AdminState,
    /// The store's tenant generations read before the tenants were built: what this host serves.
    served: ferry_store::ConfigSnapshot,
    config: Config,
    /// False when a test steps the pipeline itself ([`App::without_workers`]).
    workers: bool,
    /// What the start-up line names: the configuration file, tenants, plugins, master keys.
    summary: Summary,
    /// Where the pipeline, the watcher (and anything else) report what should reach people.
    alerts: ferry_alert::Alerts,
    /// The alert dispatcher, stopped (its pending messages sent) after the workers.
    alerts_task: ferry_alert::AlertsHandle,
    /// The breakers the alert watcher looks at.
    breakers: ferry_outbound::BreakerRegistry,
    /// Calls counted by the outbound client, written to the store's usage figures every few seconds.
    calls: ferry_outbound::CallCounts,
    /// Seals the FreshBooks callback verifiers the write-back registers.
    keyring: Arc<Keyring>,
}

/// What `run_until_stopped` logs once serving, so an operator sees from the log alone what this host runs with.
#[derive(Debug, Default)]
struct Summary {
    /// The configuration file read, if any ([`App::with_config_file`]).
    config_file: Option<std::path::PathBuf>,
    /// Tenant ids from the configuration file.
    file_tenants: Vec<String>,
    /// Tenant ids stored in the database (added through the admin API).
    stored_tenants: Vec<String>,
    /// Ids of the master keys in use, the sealing key first.
    key_ids: Vec<String>,
}

impl App {
    /// Opens the store (running migrations), builds every tenant's clients and plugins, and binds the listener.
    ///
    /// # Errors
    /// Anything misconfigured, named: the store path, a tenant field, a plugin, the listen address.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::open(&config.store).await.context("open the store")?;
        let ingestor = Ingestor::spawn(store.clone(), &config.store.batch);
        let keyring = Arc::new(load_keyring(&config)?);
        let mut summary = Summary {
            key_ids: keyring.key_ids(),
            file_tenants: config.tenants.iter().map(|t| t.id.to_string()).collect(),
            ..Summary::default()
        };
        let http = outbound_client(&config, &store)?;
        let exchange = Arc::new(ExchangeClient::new(http.clone(), &config.exchange));
        let plugin_host = Arc::new(
            PluginHost::new(&config.plugins, exchange.clone())
                .context("start the plugin runtime")?
                .with_outbound(http.clone())
                .with_log(crate::tenants::PluginLog::spawn(store.clone())),
        );
        let factory = TenantFactory::new(http.clone(), store.clone(), keyring.clone(), plugin_host);
        // Read before the tenants are built, so a change made meanwhile shows up as a difference later.
        let served = store
            .config_snapshot()
            .await
            .context("read the stored tenants' generations")?;
        let tenants = Tenants::default();
        for t in &config.tenants {
            tenants.insert(factory.build(t.clone()).await?);
        }
        for t in crate::tenants::stored::load_all(&store, factory.keyring()).await? {
            if config.tenants.iter().any(|f| f.id == t.id) {
                anyhow::bail!(
                    "tenant {} is both in the configuration file and stored in the database; remove it from \
                     one of them (`ferry tenant remove {}` removes the stored one)",
                    t.id,
                    t.id
                );
            }
            let id = t.id.clone();
            summary.stored_tenants.push(id.to_string());
            tenants.insert(
                factory
                    .build(t)
                    .await
                    .with_context(|| format!("tenant {id} stored in the database"))?,
            );
        }
        let workers = &config.worker;
        let claim = ClaimRequest::new(
            format!("{}:{}", hostname(), std::process::id()),
            Duration::from_secs(workers.lease_secs),
            workers.concurrency.max(1),
        );
        // Each tenant's own limit (`limits.concurrency`) is read from the serving tenants at every claim, so that
        // tenants added through the admin API get theirs too.
        let retry = RetryPolicy {
            max_attempts: workers.max_attempts,
            backoff: Backoff {
                base_ms: workers.backoff_base_ms,
                cap_ms: workers.backoff_max_ms,
            },
            load_retries: workers.load_retries,
            load_backoff: Backoff {
                base_ms: workers.load_retry_ms,
                cap_ms: workers.load_retry_ms.saturating_mul(4),
            },
        };
        let (alerts, alerts_task) = crate::alerts::start(&config, tenants.clone(), store.clone());
        let pipeline = Pipeline::new(store.clone(), tenants.clone(), exchange, retry, claim)
            .with_alerts(alerts.clone())
            .with_adaptive_limits(http.adaptive().clone());
        let metrics = crate::telemetry::metrics::install();
        let router = ferry_ingest::router(ferry_ingest::IngestState::new(
            ingestor.clone(),
            tenants.clone(),
            config.ingest.clone(),
        ))
        .merge(ferry_ingest::callbacks_router(
            ferry_ingest::CallbackState {
                ingestor: ingestor.clone(),
                store: store.clone(),
                keys: Arc::new(crate::writeback::TenantCallbacks::new(
                    tenants.clone(),
                    store.clone(),
                    keyring.clone(),
                )),
            },
        ))
        .merge(ops_router(
            metrics,
            store.clone(),
            http.breakers().clone(),
            tenants.clone(),
        ));
        let admin = crate::admin::AdminState::build(
            &config.admin,
            config.tenants.iter().map(|t| t.id.clone()).collect(),
            config.plugins.cache_dir.join("uploads"),
            ingestor.clone(),
            tenants.clone(),
            factory,
        )
        .await?
        .with_audit_hook(crate::audit::alert_hook(alerts.clone()));
        let router = router
            .merge(crate::admin::router(admin.clone()))
            .merge(crate::console::router(admin.clone()));
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("bind {}", config.server.listen))?;
        Ok(Self {
            listener,
            router,
            pipeline,
            ingestor,
            tenants,
            admin,
            served,
            config,
            workers: true,
            summary,
            alerts,
            alerts_task,
            breakers: http.breakers().clone(),
            calls: http.calls().clone(),
            keyring,
        })
    }

    /// Names the configuration file this host was built from, for the start-up line.
    #[must_use]
    pub fn with_config_file(mut self, path: Option<std::path::PathBuf>) -> Self {
        self.summary.config_file = path;
        self
    }

    /// Serves without the worker pool: events are stored but run only when a test steps the pipeline
    /// ([`App::pipeline`], `Pipeline::try_execute_job`). Reconciliation and config sync run as configured.
    #[must_use]
    pub fn without_workers(mut self) -> Self {
        self.workers = false;
        self
    }

    /// Where the host listens.
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.config.server.listen)
    }

    /// Where to raise and clear alerts (`ferry_alert::Alerts::raise`): they go to the operator's `[alerts]`
    /// channels and the tenant's own, deduplicated and rate-limited.
    pub fn alerts(&self) -> &ferry_alert::Alerts {
        &self.alerts
    }

    /// The pipeline, for tests that step it by hand.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Enqueues every SKU of `tenant`'s catalogue no event covers (what `POST /tenants/{tenant}/backfill` with
    /// `"catalogue": true` does), for the demo's first fill.
    ///
    /// # Errors
    /// The tenant is unknown, or Kentico or the store failed.
    pub async fn backfill_catalogue(
        &self,
        tenant: &ferry_model::TenantId,
    ) -> anyhow::Result<crate::reconcile::PollReport> {
        let t = self
            .tenants
            .get(tenant)
            .ok_or_else(|| anyhow::anyhow!("no tenant {tenant}"))?;
        crate::reconcile::backfill_catalogue(self.pipeline.store(), &self.ingestor, &t).await
    }

    /// Runs books audits and repairs on this host's tenants (the admin API and the schedule hold one too).
    pub fn auditor(&self) -> crate::audit::Auditor {
        crate::audit::Auditor::new(
            self.pipeline.store.clone(),
            self.tenants.clone(),
            self.pipeline.exchange.clone(),
            self.ingestor.clone(),
        )
        .with_hook(crate::audit::alert_hook(self.alerts.clone()))
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets running events finish their step and returns.
    ///
    /// # Errors
    /// The HTTP server failed.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let workers = self.config.worker.concurrency.max(1);
        let mut tasks = Vec::new();
        if self.workers {
            tasks.push(tokio::spawn(crate::worker::run(
                self.pipeline.clone(),
                workers,
                stop_rx.clone(),
            )));
        }
        if self.config.worker.reconcile_every_secs > 0 {
            tasks.push(tokio::spawn(crate::reconcile::run(
                self.pipeline.store().clone(),
                self.ingestor.clone(),
                self.tenants.clone(),
                Duration::from_secs(self.config.worker.reconcile_every_secs),
                stop_rx.clone(),
            )));
        }
        // FreshBooks callbacks: registered at start and checked every 5 minutes; payments polled like Kentico.
        tasks.push(tokio::spawn(crate::writeback::run(
            self.pipeline.store().clone(),
            self.ingestor.clone(),
            self.tenants.clone(),
            self.keyring.clone(),
            Duration::from_secs(300),
            Duration::from_secs(self.config.worker.reconcile_every_secs),
            stop_rx.clone(),
        )));
        // Scheduled books audits (`[tenants.audit] every_hours`); tenants without a schedule are skipped.
        tasks.push(tokio::spawn(crate::audit::run_schedule(
            self.auditor(),
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(crate::retention::run(
            self.pipeline.store().clone(),
            self.config.store.keep_done_days,
            crate::retention::EVERY,
            stop_rx.clone(),
        )));
        if self.config.admin.sync_every_ms > 0 {
            tasks.push(tokio::spawn(crate::admin::sync_changes(
                self.admin.clone(),
                self.served.clone(),
                Duration::from_millis(self.config.admin.sync_every_ms),
                stop_rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(crate::alerts::watch(
            crate::alerts::Watched {
                alerts: self.alerts.clone(),
                breakers: self.breakers.clone(),
                store: self.pipeline.store().clone(),
                tenants: self.tenants.clone(),
                backlog_age: Duration::from_secs(self.config.alerts.backlog_age_secs),
            },
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(crate::usage::run(
            self.pipeline.store().clone(),
            self.calls.clone(),
            Duration::from_millis(self.config.usage.flush_every_ms),
            stop_rx.clone(),
        )));
        self.log_summary(workers);
        let mut http_stop = stop_rx.clone();
        let server = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            let _ = http_stop.changed().await;
        });
        let server = tokio::spawn(async move { server.await });
        shutdown.await;
        let drain = std::time::Instant::now();
        info!(
            "Drain started: no new connections or events are taken; running events finish their step."
        );
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = t.await;
        }
        // Every worker has stopped: the calls of the events that finished during the drain are written too.
        crate::usage::flush(self.pipeline.store(), &self.calls).await;
        self.alerts_task.stop().await;
        let served = server.await;
        info!(
            elapsed_ms = u64::try_from(drain.elapsed().as_millis()).unwrap_or(u64::MAX),
            "Drain finished; Ferry stopped."
        );
        served.context("http server task")?.context("http server")?;
        Ok(())
    }
}

impl App {
    /// The start-up line: configuration file, store (a URL's password redacted), listen address, tenants from the
    /// file and the database, each tenant's plugin chain, and the ids of the master keys (never the keys).
    fn log_summary(&self, workers: usize) {
        let s = &self.summary;
        let config_file = s.config_file.as_ref().map_or_else(
            || "none (environment and defaults)".to_owned(),
            |p| p.display().to_string(),
        );
        let mut serving = self.tenants.all();
        serving.sort_by(|a, b| a.id.cmp(&b.id));
        let plugins = serving
            .iter()
            .map(|t| {
                let names: Vec<&str> = t.plugins.handles().iter().map(|h| h.name()).collect();
                if names.is_empty() {
                    format!("{}: none", t.id)
                } else {
                    format!("{}: {}", t.id, names.join(" > "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        info!(
            config_file,
            store = %self.config.store.describe(),
            addr = %self.addr(),
            file_tenants = s.file_tenants.len(),
            file_tenant_ids = s.file_tenants.join(","),
            stored_tenants = s.stored_tenants.len(),
            stored_tenant_ids = s.stored_tenants.join(","),
            plugins,
            master_key_ids = s.key_ids.join(","),
            keep_done_days = self.config.store.keep_done_days,
            workers,
            "Ferry is serving."
        );
    }
}

/// A host running on the current tokio runtime (the demo, the benchmarks and the tests start one in-process).
pub struct RunningApp {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl App {
    /// Starts serving on a task of the current runtime; [`RunningApp::stop`] shuts it down gracefully.
    pub fn spawn(self) -> RunningApp {
        let addr = self.addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(self.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        RunningApp { addr, stop, task }
    }
}

impl RunningApp {
    /// `http://<address>` of the host.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets running events finish their step, and waits for the host to end.
    ///
    /// # Errors
    /// The host failed while serving, or its task panicked.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("host task")?
    }
}

/// `/healthz` (process alive), `/readyz` (store answering, schema up to date) and `/metrics` (Prometheus).
fn ops_router(
    metrics: PrometheusHandle,
    store: Store,
    breakers: ferry_outbound::BreakerRegistry,
    tenants: Tenants,
) -> Router {
    let metrics_store = store.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(move || readyz(store.clone())))
        .route(
            "/metrics",
            get(move || {
                let (metrics, store, breakers) =
                    (metrics.clone(), metrics_store.clone(), breakers.clone());
                let served: Vec<_> = tenants.all().iter().map(|t| t.id.clone()).collect();
                async move {
                    if let Err(error) =
                        crate::telemetry::metrics::refresh(&store, &breakers, served).await
                    {
                        warn!(%error, "Could not count the store's events for /metrics; the gauges keep their last counts.");
                    }
                    metrics.render()
                }
            }),
        )
}

/// 200 while the store answers a cheap query and has applied every migration this build knows; 503 with the
/// reason otherwise, so a load balancer sends webhooks elsewhere.
async fn readyz(store: Store) -> (StatusCode, String) {
    match store.pending_migrations().await {
        Ok(pending) if pending.is_empty() => (StatusCode::OK, "ready".to_owned()),
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: store migrations not applied: {pending:?}"),
        ),
        Err(error) => {
            let error = anyhow::Error::from(error);
            warn!(
                error = format!("{error:#}"),
                "Readiness check failed: the store did not answer."
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the store did not answer".to_owned(),
            )
        }
    }
}

/// The outbound client; when hosts share a Postgres database, the per-account rate limit is drawn from the
/// database so that it holds for all hosts together.
fn outbound_client(config: &Config, store: &Store) -> anyhow::Result<HttpClient> {
    let mut limiter = ferry_outbound::KeyedLimiter::new(&config.outbound.rate_limit);
    if store.backend() == ferry_store::Backend::Postgres {
        limiter = limiter.with_shared_budget(Arc::new(
            crate::tenants::adapters::StoreRateBudget::new(store.clone()),
        ));
    }
    HttpClient::with_shared(
        &config.outbound,
        ferry_outbound::BreakerRegistry::new(config.outbound.breaker.clone()),
        limiter,
    )
    .context("build the outbound http client")
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "ferry".to_owned())
}

/// The keyring from `secrets.master_keys`, else `secrets.key_file`.
pub(crate) fn load_keyring(config: &Config) -> anyhow::Result<Keyring> {
    let mut keys = config.secrets.master_keys.clone();
    if keys.is_empty()
        && let Some(path) = &config.secrets.key_file
    {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("read secrets.key_file {}", path.display()))?;
        keys = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| SecretString::from(l.trim().to_owned()))
            .collect();
    }
    if keys.is_empty() {
        anyhow::bail!(
            "secrets.master_keys is empty: set FERRY_MASTER_KEY (generate one with `ferry keygen`)"
        );
    }
    Keyring::from_encoded(&keys).context("secrets.master_keys")
}
