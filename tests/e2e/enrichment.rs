//! The `enrich` host import end to end: the real `enrich-segment` component, run through the host's plugin chain
//! against the sandbox's segment-enrichment simulator. The host makes the call with the tenant's key, caches the
//! answer, and a tenant without an enrichment service gets a refusal the plugin handles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry::services::{ExchangeClient, ExchangeConfig};
use ferry::tenants::{PluginConfig, PluginHost, TenantConfig, TenantPlugins};
use ferry_model::{ClientDraft, CurrencyCode, Customer, TenantId};
use ferry_sim::enrichment::segment_for;
use ferry_tests::logs::{LogCapture, captured as logged};
use ferry_transform::{PluginsConfig, client_draft};
use secrecy::SecretString;

/// The simulators, a plugin host, and a tenant `id` with `enrich-segment` in its chain, adjusted by `adjust`.
struct Setup {
    sandbox: Sandbox,
    plugins: TenantPlugins,
    _dir: tempfile::TempDir,
    /// Captures every log line of this binary while the test runs, to see what plugins logged and that no key was.
    _logs: LogCapture,
}

async fn setup(id: &str, adjust: impl FnOnce(&mut TenantConfig)) -> Setup {
    let logs = ferry_tests::logs::capture();
    let built = tokio::task::spawn_blocking(ferry_transform::artifacts::ensure_built)
        .await
        .unwrap()
        .expect("build the plugins");
    let sandbox = Sandbox::start(&SandboxOptions {
        customers: 1,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut tenant = sandbox.tenant_config(
        TenantId::parse(id).unwrap(),
        vec![PluginConfig {
            path: built.join("enrich_segment.wasm"),
            settings: Default::default(),
            version: None,
        }],
    );
    adjust(&mut tenant);
    let host = PluginHost::new(
        &PluginsConfig {
            cache_dir: dir.path().join("plugin-cache"),
            ..PluginsConfig::default()
        },
        Arc::new(ExchangeClient::new(
            ferry_outbound::HttpClient::new(&ferry_outbound::OutboundConfig::default()).unwrap(),
            &ExchangeConfig {
                base_url: sandbox.exchange.base_url(),
            },
        )),
    )
    .unwrap();
    let plugins = tokio::task::spawn_blocking(move || host.chain_for(&tenant))
        .await
        .unwrap()
        .unwrap();
    Setup {
        sandbox,
        plugins,
        _dir: dir,
        _logs: logs,
    }
}

fn customer(email: &str) -> Customer {
    Customer {
        id: 7,
        guid: uuid::Uuid::nil(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: Some(email.into()),
        phone: String::new(),
        company: String::new(),
        tax_registration_id: String::new(),
        organization_id: String::new(),
        custom_fields: vec![],
        address: None,
        last_modified: time::OffsetDateTime::UNIX_EPOCH,
    }
}

async fn shape(plugins: &TenantPlugins, customer: &Customer) -> (ClientDraft, ClientDraft) {
    let usd = CurrencyCode::parse("USD").unwrap();
    let draft = client_draft(customer, None, &usd);
    let shaped = plugins
        .map_customer(customer, &usd)
        .await
        .expect("the plugin never fails the record with on-error = ignore");
    (draft, shaped)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_note_gets_the_segment_the_service_returns() {
    let s = setup("segments", |_| {}).await;
    let email = "ada.lovelace@example.com";
    let (_, shaped) = shape(&s.plugins, &customer(email)).await;
    let expected = format!("Segment: {}", segment_for(email));
    assert!(
        shaped.note.lines().any(|l| l == expected),
        "{:?} lacks {expected:?}",
        shaped.note
    );
    assert_eq!(s.sandbox.enrichment.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_lookups_are_answered_from_the_cache() {
    let s = setup("cached", |_| {}).await;
    let ada = customer("ada@example.com");
    let (_, first) = shape(&s.plugins, &ada).await;
    for _ in 0..3 {
        let (_, again) = shape(&s.plugins, &ada).await;
        assert_eq!(again.note, first.note);
    }
    assert_eq!(
        s.sandbox.enrichment.requests(),
        1,
        "one call for four identical lookups"
    );
    shape(&s.plugins, &customer("grace@example.com")).await;
    assert_eq!(s.sandbox.enrichment.requests(), 2, "another key is fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_5xx_is_retried_inside_the_lookup() {
    let s = setup("flaky", |_| {}).await;
    s.sandbox.enrichment.faults().fail_next(1, 503);
    let email = "flaky@example.com";
    let (_, shaped) = shape(&s.plugins, &customer(email)).await;
    assert!(
        shaped
            .note
            .contains(&format!("Segment: {}", segment_for(email))),
        "{:?}",
        shaped.note
    );
    assert_eq!(s.sandbox.enrichment.faults().counters().failed_next, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_an_enrichment_service_gets_a_refusal_and_keeps_its_client() {
    let s = setup("unenriched", |t| t.enrichment = None).await;
    let (draft, shaped) = shape(&s.plugins, &customer("ada@example.com")).await;
    assert_eq!(shaped, draft, "the plugin leaves the client as it was");
    assert_eq!(s.sandbox.enrichment.requests(), 0);
    let logs = logged();
    assert!(
        logs.lines().any(|l| l.contains("unenriched")
            && l.contains("no segment enrichment provider is configured for this tenant")),
        "the plugin logged the refusal:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_reaches_the_plugin_as_an_error_without_the_key() {
    let wrong = format!("wrong-key-{}", uuid::Uuid::new_v4().simple());
    let key = SecretString::from(wrong.clone());
    let s = setup("wrongkey", move |t| {
        t.enrichment.as_mut().unwrap().api_key = key;
    })
    .await;
    let (draft, shaped) = shape(&s.plugins, &customer("ada@example.com")).await;
    assert_eq!(shaped, draft);
    assert_eq!(s.sandbox.enrichment.requests(), 1);
    let logs = logged();
    assert!(
        logs.lines()
            .any(|l| l.contains("wrongkey") && l.contains("unauthorized (401)")),
        "the plugin logged the 401:\n{logs}"
    );
    assert!(!logs.contains(&wrong), "the api key was logged");
    assert!(
        !logs.contains(s.sandbox.enrichment.api_key()),
        "the sandbox api key was logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_service_fails_the_lookup_within_its_budget_and_is_not_cached() {
    let s = setup("slowsegments", |t| {
        t.enrichment.as_mut().unwrap().timeout_ms = 300;
    })
    .await;
    s.sandbox
        .enrichment
        .faults()
        .set_latency(std::time::Duration::from_secs(1), std::time::Duration::ZERO);
    let ada = customer("ada@example.com");
    let started = std::time::Instant::now();
    let (draft, shaped) = shape(&s.plugins, &ada).await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(900),
        "the lookup gave up after {:?}",
        started.elapsed()
    );
    assert_eq!(shaped, draft, "the plugin handled the failure itself");

    s.sandbox.enrichment.faults().clear();
    let (_, shaped) = shape(&s.plugins, &ada).await;
    assert!(
        shaped
            .note
            .contains(&format!("Segment: {}", segment_for("ada@example.com"))),
        "the failure was not cached: {:?}",
        shaped.note
    );
}
