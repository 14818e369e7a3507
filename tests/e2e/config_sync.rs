//! Two hosts share one Postgres database. Tenants and plugin versions are changed through host A's admin API only,
//! and host B, which is never told, serves each change within a few sync rounds: a tenant created, replaced and
//! deleted, and a plugin version activated, which then decides what B does with a live order; then a plugin
//! deactivated, two uploaded, one given a setting and the chain reordered, which decide B's next invoice.

use ferry::app::{App, RunningApp};
use ferry::config::Config;
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry::tenants::TenantConfig;
use ferry_model::TenantId;
use ferry_store::Store;
use ferry_tests::postgres::TestDb;
use ferry_tests::{fast_workers, valid_mix};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How often host B looks for changes.
const SYNC_EVERY_MS: u64 = 200;

/// How long a change may take to reach host B before the test fails (many sync rounds, for a loaded CI machine).
const CONVERGE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_and_plugin_changes_made_through_one_host_reach_the_other_without_a_restart()
-> anyhow::Result<()> {
    TestDb::run(journey).await
}

/// A host running in this process on its own port and plugin cache, and its admin API's base URL.
async fn start(config: Config) -> anyhow::Result<(RunningApp, String)> {
    let host = App::build(config).await?.spawn();
    let admin = format!("{}/admin/v1", host.url());
    Ok((host, admin))
}

/// Sends an admin request and returns the status and JSON body.
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<(&str, reqwest::Body)>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some((content_type, b)) = body {
        req = req.header("content-type", content_type).body(b);
    }
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// Polls `GET url` on a host until `done` holds for (status, body), returning how long it took.
async fn until(
    http: &reqwest::Client,
    url: String,
    token: &str,
    what: &str,
    done: impl Fn(StatusCode, &Value) -> bool,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let (status, body) = call(http, reqwest::Method::GET, url.clone(), token, None).await?;
        if done(status, &body) {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < CONVERGE,
            "host B did not pick up {what} in {CONVERGE:?}; it answers {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The body of `POST /tenants` for `c` with its own FreshBooks account and a concurrency limit.
fn tenant_json(c: &TenantConfig, concurrency: usize) -> Value {
    let mut body = Sandbox::tenant_request(c);
    body["freshbooks"]["account_id"] = json!(format!("{}-late", c.freshbooks.account_id));
    body["limits"]["concurrency"] = json!(concurrency);
    body
}

async fn operator_token(config: &Config) -> anyhow::Result<String> {
    use clap::Parser;
    let store = Store::open(&config.store).await?;
    let cli = ferry::cli::Cli::try_parse_from(["ferry", "token", "create", "--operator"])?;
    let ferry::cli::Command::Token(cmd) = cli.command else {
        anyhow::bail!("not a token command");
    };
    let mut out = Vec::new();
    ferry::cli::token::run(config, &store, cmd, &mut out).await?;
    // The token is the first line printed.
    let out = String::from_utf8(out)?;
    out.lines()
        .next()
        .map(|l| l.trim().to_owned())
        .ok_or_else(|| anyhow::anyhow!("no token printed"))
}

async fn journey(database_url: String) -> anyhow::Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        ferry::telemetry::init();
    }
    let sandbox = Sandbox::start(&SandboxOptions {
        seed: 77,
        ..SandboxOptions::default()
    })
    .await?;
    let shop = TenantId::parse("shop")?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let config_for = |dir: &std::path::Path| {
        let mut c = sandbox.host_config(dir, sandbox.tenant_config(shop.clone(), vec![]));
        c.store = ferry_store::StoreConfig::from_url(database_url.clone());
        c.worker = ferry::config::WorkerConfig {
            reconcile_every_secs: 0,
            ..fast_workers()
        };
        c.admin.sync_every_ms = SYNC_EVERY_MS;
        c
    };
    let config_a = config_for(dir_a.path());
    // Hosts on one database share the master key, or they could not open each other's sealed secrets.
    let config_b = Config {
        secrets: config_a.secrets.clone(),
        ..config_for(dir_b.path())
    };
    let (a, admin_a) = start(config_a.clone()).await?;
    let (b, admin_b) = start(config_b).await?;
    let op = operator_token(&config_a).await?;
    let http = reqwest::Client::new();
    let url = |admin: &str, path: &str| format!("{admin}{path}");

    // A tenant created through A is served by B.
    let late = sandbox.tenant_config(TenantId::parse("late")?, vec![]);
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        url(&admin_b, "/tenants/late"),
        &op,
        None,
    )
    .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "B knows no such tenant yet");
    let (status, body) = call(
        &http,
        reqwest::Method::POST,
        url(&admin_a, "/tenants"),
        &op,
        Some(("application/json", tenant_json(&late, 2).to_string().into())),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created = until(
        &http,
        url(&admin_b, "/tenants/late"),
        &op,
        "the new tenant",
        |s, _| s == StatusCode::OK,
    )
    .await?;

    // Replaced through A: B serves the new configuration.
    let (status, body) = call(
        &http,
        reqwest::Method::PUT,
        url(&admin_a, "/tenants/late"),
        &op,
        Some(("application/json", tenant_json(&late, 5).to_string().into())),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let replaced = until(
        &http,
        url(&admin_b, "/tenants/late"),
        &op,
        "the replaced tenant",
        |s, v| s == StatusCode::OK && v["limits"]["concurrency"] == 5,
    )
    .await?;

    // Deleted through A: B stops serving it.
    let (status, body) = call(
        &http,
        reqwest::Method::DELETE,
        url(&admin_a, "/tenants/late"),
        &op,
        None,
    )
    .await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let deleted = until(
        &http,
        url(&admin_b, "/tenants/late"),
        &op,
        "the deletion",
        |s, _| s == StatusCode::NOT_FOUND,
    )
    .await?;

    // A plugin that traps in map-invoice, uploaded and activated for `shop` through A only.
    ferry_transform::artifacts::ensure_built()?;
    let trap = std::fs::read(ferry_transform::artifacts::wasm_path("trap"))?;
    let (status, body) = call(
        &http,
        reqwest::Method::POST,
        url(&admin_a, "/tenants/shop/plugins?name=shaper&activate=true"),
        &op,
        Some(("application/wasm", trap.into())),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let hash = body["plugin"]["hash"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let activated = until(
        &http,
        url(&admin_b, "/tenants/shop"),
        &op,
        "the activation",
        |_, v| v["serving"][0]["sha256"] == hash.as_str(),
    )
    .await?;

    // With A gone, B alone runs the next order: the activated version decides it (it dead-letters in the trap).
    a.stop().await?;
    sandbox.send_webhooks_to(&b.url(), &shop);
    sandbox.place(0, &valid_mix()).await;
    let store = Store::open(&ferry_store::StoreConfig::from_url(database_url.clone())).await?;
    let started = Instant::now();
    let dead = loop {
        let dead = store.dead_letters(Some(&shop), 10).await?;
        if !dead.is_empty() {
            break dead;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "the order was not dead-lettered by the activated plugin; invoices: {:?}",
            sandbox.invoices_by_order().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let error = dead[0].last_error.clone().unwrap_or_default();
    assert!(
        error.contains("shaper") && error.contains("trapped"),
        "B ran the plugin activated through A: {error}"
    );

    // Host A again: the trap taken out of the chain, two plugins uploaded (zeta, then alpha), alpha given a setting,
    // and the chain reordered to alpha, zeta. B serves the new order; the setting was written before the reorder, so
    // the chain B rebuilt for it carries the setting too.
    let (a, admin_a) = start(config_a.clone()).await?;
    let (status, body) = call(
        &http,
        reqwest::Method::POST,
        url(&admin_a, "/tenants/shop/plugins/shaper/deactivate"),
        &op,
        None,
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (name, fixture) in [("zeta", "stateful"), ("alpha", "contract-v0-1")] {
        let bytes = std::fs::read(ferry_transform::artifacts::wasm_path(fixture))?;
        let (status, body) = call(
            &http,
            reqwest::Method::POST,
            url(
                &admin_a,
                &format!("/tenants/shop/plugins?name={name}&activate=true"),
            ),
            &op,
            Some(("application/wasm", bytes.into())),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // Uploads answer before the compile and activate once it is ready; only active uploads can be ordered.
    // Polled slowly: the operator token's rate limit must leave room for the calls after it.
    let started = Instant::now();
    loop {
        let (_, v) = call(
            &http,
            reqwest::Method::GET,
            url(&admin_a, "/tenants/shop/plugins"),
            &op,
            None,
        )
        .await?;
        let active = v.as_array().is_some_and(|vs| {
            ["zeta", "alpha"]
                .iter()
                .all(|n| vs.iter().any(|p| p["name"] == *n && p["active"] == true))
        });
        if active {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "zeta and alpha were not compiled and active: {v}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (status, body) = call(
        &http,
        reqwest::Method::PUT,
        url(&admin_a, "/tenants/shop/plugins/alpha/settings"),
        &op,
        Some((
            "application/json",
            json!({"note-prefix": "set through A"}).to_string().into(),
        )),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &http,
        reqwest::Method::PUT,
        url(&admin_a, "/tenants/shop/plugins/order"),
        &op,
        Some((
            "application/json",
            json!({"names": ["alpha", "zeta"]}).to_string().into(),
        )),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reordered = until(
        &http,
        url(&admin_b, "/tenants/shop"),
        &op,
        "the new chain order",
        |_, v| {
            let names: Vec<&str> = v["serving"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            names == ["alpha", "zeta"]
        },
    )
    .await?;
    a.stop().await?;
    let placed = sandbox.place(1, &valid_mix()).await;
    let guid = placed.order.guid.to_string();
    let started = Instant::now();
    let invoice = loop {
        if let Some(ids) = sandbox.invoices_by_order().get(&guid) {
            break ids[0];
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "B did not invoice the order; dead letters: {:?}",
            store.dead_letters(Some(&shop), 10).await?
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let notes = sandbox
        .freshbooks
        .invoices(&sandbox.account_id)
        .into_iter()
        .find(|i| i.invoiceid == invoice)
        .map(|i| i.notes)
        .unwrap_or_default();
    let (alpha_at, zeta_at) = (notes.find("set through A: order"), notes.find("calls: 1"));
    assert!(
        alpha_at.is_some() && zeta_at.is_some() && alpha_at < zeta_at,
        "B ran alpha with its setting, then zeta: {notes}"
    );
    println!(
        "host B picked up: create {created:?}, replace {replaced:?}, delete {deleted:?}, plugin activation \
         {activated:?}, chain order {reordered:?} (sync every {SYNC_EVERY_MS} ms)"
    );
    b.stop().await?;
    sandbox.shutdown();
    Ok(())
}
