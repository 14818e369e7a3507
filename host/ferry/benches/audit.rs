//! The books audit (issue 21): after `ORDERS` orders (default 1000) are synced through a real Ferry host into the
//! FreshBooks simulator, audits the tenant and prints how long the audit took and how many FreshBooks calls it made
//! per 1,000 orders (counted at the simulator, and as the audit reports them), then changes a few invoices by hand
//! and audits again, to show the cost of finding differences is the same.
//!
//! `cargo bench -p ferry --bench audit` (env `ORDERS`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use ferry::app::App;
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry_model::TenantId;
use ferry_sim::kentico::OrderMix;
use ferry_store::Store;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn freshbooks_calls(sandbox: &Sandbox) -> BTreeMap<String, u64> {
    sandbox
        .freshbooks
        .request_counts()
        .into_iter()
        .filter(|(kind, _)| !kind.contains("oauth") && !kind.contains("users/me"))
        .collect()
}

fn delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn main() {
    let orders: u64 = std::env::var("ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let sandbox = Sandbox::start(&SandboxOptions {
            seed: 21,
            customers: 200,
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tenant = TenantId::parse("bench").unwrap();
        let mut config =
            sandbox.host_config(dir.path(), sandbox.tenant_config(tenant.clone(), vec![]));
        config.worker.concurrency = 32;
        config.worker.reconcile_every_secs = 0;
        config.tenants[0].limits.concurrency = 32;
        let since = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
        let app = App::build(config.clone()).await.unwrap();
        let auditor = app.auditor();
        let host = app.spawn();
        sandbox.send_webhooks_to(&host.url(), &tenant);
        let mix = OrderMix {
            invalid: 0.0,
            foreign_currency: 0.3,
            paid: 0.6,
        };
        let mut placed = Vec::new();
        for n in 0..orders {
            placed.push(sandbox.place(n, &mix).await);
        }
        let store = Store::open(&config.store).await.unwrap();
        let settled = sandbox
            .wait_settled(&store, &tenant, &placed, Duration::from_secs(1800))
            .await
            .unwrap();
        assert!(settled, "the orders did not settle");

        for label in ["clean books", "books after 3 invoices deleted by hand"] {
            if label != "clean books" {
                let token = sandbox.person_token().unwrap();
                let invoices = sandbox.invoices_by_order();
                for p in placed.iter().take(3) {
                    let id = invoices[&p.order.guid.to_string()][0];
                    let url = format!(
                        "{}/accounting/account/{}/invoices/invoices/{id}",
                        sandbox.freshbooks.base_url(),
                        sandbox.account_id
                    );
                    reqwest::Client::new()
                        .put(url)
                        .bearer_auth(&token)
                        .json(&serde_json::json!({"invoice": {"vis_state": 1}}))
                        .send()
                        .await
                        .unwrap()
                        .error_for_status()
                        .unwrap();
                }
            }
            let before = freshbooks_calls(&sandbox);
            let clock = Instant::now();
            let report = auditor.audit(&tenant, since).await.unwrap();
            let took = clock.elapsed();
            let calls = delta(&before, &freshbooks_calls(&sandbox));
            let counted: u64 = calls.values().sum();
            let per_1000 = |n: u64| n as f64 * 1000.0 / report.orders_checked.max(1) as f64;
            println!(
                "audit of {label}: {} orders checked in {:.2}s ({:.1} orders/s), {} differences",
                report.orders_checked,
                took.as_secs_f64(),
                report.orders_checked as f64 / took.as_secs_f64(),
                report.differences.len()
            );
            println!(
                "  FreshBooks calls: {counted} at the simulator, {} reported = {:.1} per 1,000 orders",
                report.freshbooks_calls,
                per_1000(counted)
            );
            for (kind, n) in &calls {
                println!("    {kind:<32} {n}");
            }
        }
        let _ = host.stop().await;
        sandbox.shutdown();
    });
}
