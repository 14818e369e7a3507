//! A real host on port 0 serving two tenants (`shop`, which the Kentico simulator sends webhooks for, and `other`)
//! on the sandbox simulators, with an operator token and one token per tenant, plus a client for the admin API.

use ferry::app::{App, RunningApp};
use ferry::config::{Config, WorkerConfig};
use ferry::sandbox::audit::Placed;
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry::tenants::PluginConfig;
use ferry_model::TenantId;
use ferry_sim::kentico::{KenticoConfig as KenticoSimConfig, KenticoSim};
use ferry_store::Store;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tempfile::TempDir;

/// The tenant the simulator sends webhooks for.
pub(crate) const SHOP: &str = "shop";
/// A second tenant on the same host.
pub(crate) const OTHER: &str = "other";

/// Every log line any host in this test binary wrote (JSON, debug level), for the redaction test.
pub(crate) fn captured_logs() -> String {
    let buf = log_buffer().lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8_lossy(&buf).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(Arc::default)
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(data);
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a JSON subscriber at debug level for everything Ferry runs, writing into [`captured_logs`].
fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let writer = Capture(log_buffer().clone());
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,ferry_sim=warn,wasmtime=info,cranelift=info,h2=info",
            ))
            .with_writer(move || writer.clone())
            .try_init();
    });
}

/// A running host with its simulators and tokens.
pub(crate) struct Host {
    /// The simulators.
    pub(crate) sandbox: Sandbox,
    /// The host's configuration.
    pub(crate) config: Config,
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
    /// A second handle on the host's store.
    pub(crate) store: Store,
    /// An operator token (made with `ferry token create --operator`).
    pub(crate) operator: String,
    /// A token of tenant `shop` (made through `POST /admin/v1/tokens`).
    pub(crate) shop: String,
    /// A token of tenant `other`.
    pub(crate) other: String,
    http: reqwest::Client,
    running: Option<RunningApp>,
    /// Keeps the store file and plugin cache until the test ends.
    pub(crate) dir: TempDir,
}

/// Workers that retry fast and give up soon (invalid orders dead-letter at once anyway).
fn workers() -> WorkerConfig {
    WorkerConfig {
        concurrency: 4,
        max_attempts: 5,
        backoff_base_ms: 50,
        backoff_max_ms: 1_000,
        lease_secs: 10,
        reconcile_every_secs: 0,
    }
}

impl Host {
    /// Starts the simulators and a host serving `shop` and `other`, without plugins.
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts everything, letting `adjust` change the configuration first.
    pub(crate) async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        capture_logs();
        let mut sandbox = Sandbox::start(&SandboxOptions::default())
            .await
            .expect("start the simulators");
        // A Kentico whose password is long and unique, so the redaction test can search for it.
        let kentico_password = format!("kentico-pw-{}", uuid::Uuid::new_v4().simple());
        sandbox.kentico.shutdown();
        sandbox.kentico = KenticoSim::start(KenticoSimConfig {
            password: kentico_password.clone(),
            ..KenticoSimConfig::default()
        })
        .await
        .expect("start the Kentico simulator");
        let dir = tempfile::tempdir().expect("temp dir");
        let shop = TenantId::parse(SHOP).unwrap();
        let mut config =
            sandbox.host_config(dir.path(), sandbox.tenant_config(shop.clone(), vec![]));
        config
            .tenants
            .push(sandbox.tenant_config(TenantId::parse(OTHER).unwrap(), vec![]));
        for t in &mut config.tenants {
            t.kentico.password = SecretString::from(kentico_password.clone());
        }
        config.worker = workers();
        adjust(&mut config);
        Self::start(sandbox, config, dir).await
    }

    /// Builds and runs a host on `config` (whose store may already hold tokens and plugins).
    async fn start(sandbox: Sandbox, config: Config, dir: TempDir) -> Self {
        let running = App::build(config.clone())
            .await
            .expect("build the host")
            .spawn();
        let url = running.url();
        sandbox.send_webhooks_to(&url, &TenantId::parse(SHOP).unwrap());
        let store = Store::open(&config.store).await.expect("open the store");
        let mut host = Self {
            sandbox,
            config,
            url,
            store,
            operator: String::new(),
            shop: String::new(),
            other: String::new(),
            http: reqwest::Client::new(),
            running: Some(running),
            dir,
        };
        host.operator = host.cli_token(&["--operator", "--label", "ops"]).await;
        // A test may leave a tenant out of the file (to add it through the API): it has no token then.
        let in_file = |id: &str| host.config.tenants.iter().any(|t| t.id.as_str() == id);
        if in_file(SHOP) {
            host.shop = host.api_token(SHOP).await;
        }
        if in_file(OTHER) {
            host.other = host.api_token(OTHER).await;
        }
        host
    }

    /// Stops the host and starts a new one on the same store file and configuration (a restart).
    pub(crate) async fn restart(mut self) -> Self {
        self.shutdown_host().await;
        let Self {
            sandbox,
            config,
            dir,
            ..
        } = self;
        Self::start(sandbox, config, dir).await
    }

    /// Runs `ferry token create <args>` against the host's store and returns the printed token.
    pub(crate) async fn cli_token(&self, args: &[&str]) -> String {
        use clap::Parser;
        let cli =
            ferry::cli::Cli::try_parse_from(["ferry", "token", "create"].iter().chain(args.iter()))
                .expect("parse the command line");
        let ferry::cli::Command::Token(cmd) = cli.command else {
            panic!("not a token command");
        };
        let mut out = Vec::new();
        ferry::cli::token::run(&self.config, &self.store, cmd, &mut out)
            .await
            .expect("token create");
        let out = String::from_utf8(out).unwrap();
        out.lines().next().unwrap().trim().to_owned()
    }

    /// A new token of `tenant`, made by the operator through the API.
    pub(crate) async fn api_token(&self, tenant: &str) -> String {
        let (status, body) = self
            .post_json(
                "/tokens",
                &self.operator,
                &serde_json::json!({ "tenant": tenant, "label": format!("{tenant} admin") }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["secret"].as_str().unwrap().to_owned()
    }

    /// The admin URL of `path` (relative to `/admin/v1`).
    pub(crate) fn admin_url(&self, path: &str) -> String {
        format!("{}/admin/v1{path}", self.url)
    }

    /// Sends a request with an optional bearer token and returns status and JSON body (null when not JSON).
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<reqwest::Body>,
        content_type: &str,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.admin_url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET path` with `token`.
    pub(crate) async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, Some(token), None, "")
            .await
    }

    /// `POST path` with a JSON body.
    pub(crate) async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            path,
            Some(token),
            Some(body.to_string().into()),
            "application/json",
        )
        .await
    }

    /// `PUT path` with a JSON body.
    pub(crate) async fn put_json(
        &self,
        path: &str,
        token: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::PUT,
            path,
            Some(token),
            Some(body.to_string().into()),
            "application/json",
        )
        .await
    }

    /// `DELETE path`.
    pub(crate) async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, Some(token), None, "")
            .await
    }

    /// `POST path` without a body.
    pub(crate) async fn post(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(token), None, "")
            .await
    }

    /// Uploads `bytes` as plugin `name` of `tenant`.
    pub(crate) async fn upload(
        &self,
        tenant: &str,
        name: &str,
        bytes: Vec<u8>,
        activate: bool,
        token: &str,
    ) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            &format!("/tenants/{tenant}/plugins?name={name}&activate={activate}"),
            Some(token),
            Some(bytes.into()),
            "application/wasm",
        )
        .await
    }

    /// Places orders `range` of the simulator's stream with `mix` and waits until they settle.
    pub(crate) async fn place_and_settle(
        &self,
        range: std::ops::Range<u64>,
        mix: &ferry_sim::kentico::OrderMix,
    ) -> Vec<Placed> {
        let mut placed = Vec::new();
        for n in range {
            placed.push(self.sandbox.place(n, mix).await);
        }
        let shop = TenantId::parse(SHOP).unwrap();
        let settled = self
            .sandbox
            .wait_settled(&self.store, &shop, &placed, Duration::from_secs(120))
            .await
            .expect("read the store");
        assert!(settled, "orders did not settle");
        placed
    }

    async fn shutdown_host(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop().await;
        }
        self.store.close().await;
    }

    /// Stops the host and the simulators.
    pub(crate) async fn stop(mut self) {
        self.shutdown_host().await;
        self.sandbox.shutdown();
    }
}

/// Orders that are all valid.
pub(crate) fn valid() -> ferry_sim::kentico::OrderMix {
    ferry_sim::kentico::OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid: 0.5,
    }
}

/// Orders that are all invalid (they end in the dead-letter queue).
pub(crate) fn invalid() -> ferry_sim::kentico::OrderMix {
    ferry_sim::kentico::OrderMix {
        invalid: 1.0,
        foreign_currency: 0.0,
        paid: 0.0,
    }
}

/// The bytes of a plugin of this repository (`custom-fields`, `trap`, `forbidden-import`…), built if needed.
pub(crate) fn wasm(name: &str) -> Vec<u8> {
    ferry_transform::artifacts::ensure_built().expect("build the plugins");
    let path = ferry_transform::artifacts::wasm_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A configured plugin entry for a plugin of this repository.
pub(crate) fn plugin_config(name: &str, settings: &[(&str, &str)]) -> PluginConfig {
    ferry_transform::artifacts::ensure_built().expect("build the plugins");
    PluginConfig {
        path: ferry_transform::artifacts::wasm_path(name),
        settings: settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// Asserts the standard error body with `code`.
pub(crate) fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}
