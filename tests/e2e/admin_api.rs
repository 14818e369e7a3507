//! The admin API over real HTTP: a real host on port 0 with the sandbox simulators and a real SQLite file,
//! serving two tenants (`shop`, which the Kentico simulator sends webhooks for, and `other`) with an operator
//! token and one token per tenant. `routes`: every route with both token scopes, 401 and 403; `plugins`:
//! uploads, validation, activation and rollback with the real components; `plugin_log`: the tenant's plugin log and its scope; `plugin_chain`: the chain's order
//! (uploads appended, reorder), deactivation and plugin settings, seen in the invoices; `plugin_sdks`: a plugin
//! scaffolded in each language, built, uploaded and seen in FreshBooks; `cli`: `ferry token` and
//! `ferry plugin`; `connect`: `ferry connect freshbooks`; `connect_browser`: "Connect FreshBooks" through the
//! simulator's authorize page; `connections`: "Test connection" and `ferry connection test`; `managed_tenants`: tenants created, replaced and deleted
//! through the API and `ferry tenant add|remove`; `required_secrets`: an empty secret refused with its field;
//! `stored_tenant_cli`: the `ferry` binary's tenant commands on a stored tenant; `timestamps`: RFC 3339 everywhere;
//! `error_classes`: dead letters' error classes, listed, filtered, replayed and discarded by class;
//! `dry_run_kinds`: a dry run of an event that is not an order's refused naming its kind;
//! `openapi`: the document against the router; `backfill`: Kentico history enqueued on request; `redaction`:
//! no plaintext secret in the database file or the logs after a full run.

// Helpers outside #[test] functions unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

mod backfill;
mod cli;
mod connect;
mod connect_browser;
mod connections;
mod dlq_wait;
mod dry_run_kinds;
mod error_classes;
mod managed_tenants;
mod openapi;
mod plugin_chain;
mod plugin_compile;
mod plugin_log;
mod plugin_sdks;
mod plugins;
mod redaction;
mod required_secrets;
mod routes;
mod stored_tenant_cli;
mod timestamps;

use ferry::config::{Config, WorkerConfig};
use ferry_sim::kentico::OrderMix;
use ferry_tests::{TestApp, TestAppBuilder};

/// The tenant the simulator sends webhooks for.
pub(crate) const SHOP: &str = "shop";
/// A second tenant on the same host.
pub(crate) const OTHER: &str = "other";

/// Workers that retry fast and give up soon (invalid orders dead-letter at once anyway).
fn workers() -> WorkerConfig {
    WorkerConfig {
        concurrency: 4,
        max_attempts: 5,
        backoff_base_ms: 50,
        backoff_max_ms: 1_000,
        lease_secs: 10,
        reconcile_every_secs: 0,
        load_retry_ms: 20,
        ..WorkerConfig::default()
    }
}

/// The admin journeys' host: `shop` and `other` without plugins, a Kentico password the redaction test can
/// search for, admin tokens, and every log line captured.
pub(crate) fn admin_host<'a>() -> TestAppBuilder<'a> {
    TestApp::builder()
        .with_tenants(&[SHOP, OTHER])
        .with_searchable_kentico_password()
        .with_workers(workers())
        .with_admin_tokens()
        .with_log_capture()
}

/// Starts the simulators and a host serving `shop` and `other`, without plugins.
pub(crate) async fn spawn_admin_host() -> TestApp {
    admin_host().spawn().await.expect("start the host")
}

/// Starts everything, letting `adjust` change the configuration first.
pub(crate) async fn spawn_admin_host_with(adjust: impl FnOnce(&mut Config) + Send) -> TestApp {
    admin_host()
        .with_config(adjust)
        .spawn()
        .await
        .expect("start the host")
}

/// Orders that are all valid.
pub(crate) fn valid() -> OrderMix {
    OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid: 0.5,
    }
}

/// Places one valid order for [`SHOP`] and waits (up to two minutes) until it has its one FreshBooks invoice and
/// nothing of the tenant runs any more; nothing may be dead-lettered meanwhile. The order and the invoice as
/// FreshBooks holds it.
pub(crate) async fn invoiced_order(
    host: &TestApp,
) -> (
    ferry::sandbox::audit::Placed,
    ferry_sim::freshbooks::model::Invoice,
) {
    use std::time::{Duration, Instant};
    let placed = host.sandbox.place(0, &valid()).await;
    let shop = ferry_model::TenantId::parse(SHOP).unwrap();
    let guid = placed.order.guid.to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    let invoice = loop {
        assert!(Instant::now() < deadline, "order {guid} was not invoiced");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let dead = host.store.dead_letters(Some(&shop), 10).await.unwrap();
        assert!(dead.is_empty(), "nothing dead-lettered: {dead:?}");
        let running = host
            .store
            .count_in_state(Some(&shop), ferry_store::EventState::Running)
            .await
            .unwrap();
        let ids = host.sandbox.invoices_by_order();
        if let (Some(ids), 0) = (ids.get(&guid), running) {
            assert_eq!(ids.len(), 1, "one invoice per order");
            break host
                .sandbox
                .freshbooks
                .invoices(&host.sandbox.account_id)
                .into_iter()
                .find(|i| i.invoiceid == ids[0])
                .expect("the invoice is in FreshBooks");
        }
    };
    (placed, invoice)
}

/// Orders that are all invalid (they end in the dead-letter queue).
pub(crate) fn invalid() -> OrderMix {
    OrderMix {
        invalid: 1.0,
        foreign_currency: 0.0,
        paid: 0.0,
    }
}
