//! Throughput bounded by FreshBooks' budget (issue 20): the FreshBooks simulator allows `RATE` requests per minute
//! per account (counted in fixed windows of `WINDOW` seconds, 429 with `Retry-After` beyond), and a backfill of
//! `ORDERS` paid orders goes through a real Ferry host (SQLite file, workers, tenant concurrency 32). Prints, for
//! one tenant and then two tenants backfilling side by side (each its own Kentico and FreshBooks account), the
//! share of the allowed rate used, the 429s received, orders/s and calls per order; the audits must be clean.
//!
//! The share is measured from the later of an account's first 429 (before it, the window's whole grant is there at
//! once) and the last order placed (before it, orders may come in slower than the budget takes them) to the last
//! order settled, against `RATE` over that time; the last window may be partly unused because the work ran out,
//! so the figure errs low. Choose `RATE` low enough that placing the orders outpaces it.
//!
//! `cargo bench -p ferry --bench budget` (env `ORDERS`, default 1000 per tenant; `RATE`, default 3000 per minute;
//! `WINDOW`, default 10 seconds; issue 20's figure is `ORDERS=5000`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use ferry::app::App;
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry_model::TenantId;
use ferry_sim::freshbooks::RateLimit;
use ferry_sim::kentico::OrderMix;
use ferry_store::Store;
use std::time::{Duration, Instant};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// FreshBooks API requests that succeeded so far (OAuth and identity calls are not accounting calls).
fn succeeded(sandbox: &Sandbox) -> u64 {
    let all: u64 = sandbox
        .freshbooks
        .request_counts()
        .iter()
        .filter(|(kind, _)| !kind.contains("oauth") && !kind.contains("users/me"))
        .map(|(_, n)| n)
        .sum();
    all - sandbox.freshbooks.throttled_requests()
}

/// What one tenant's backfill did.
struct Run {
    orders: u64,
    /// Successful calls and when, at the first 429 and at the end.
    from: Option<(Instant, u64)>,
    to: (Instant, u64),
    throttled: u64,
    started: Instant,
}

impl Run {
    fn print(&self, label: &str, per_minute: u64) {
        let elapsed = self.to.0 - self.started;
        let calls = self.to.1;
        let usage = self.from.map(|(t, n)| {
            let secs = (self.to.0 - t).as_secs_f64();
            (self.to.1 - n) as f64 / (per_minute as f64 / 60.0 * secs)
        });
        println!(
            "{label}: {} orders in {:.1}s = {:.1} orders/s; {calls} FreshBooks calls ({:.2} per order), {:.0} calls/min \
             of {per_minute} allowed; used {} of the allowed rate after the first window; {} answered 429",
            self.orders,
            elapsed.as_secs_f64(),
            self.orders as f64 / elapsed.as_secs_f64(),
            calls as f64 / self.orders as f64,
            calls as f64 / elapsed.as_secs_f64() * 60.0,
            usage.map_or("n/a (never throttled)".to_owned(), |u| format!(
                "{:.1} %",
                u * 100.0
            )),
            self.throttled,
        );
    }
}

async fn sandbox(seed: u64, limit: RateLimit) -> Sandbox {
    let sandbox = Sandbox::start(&SandboxOptions {
        seed,
        customers: 200,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    sandbox.freshbooks.set_rate_limit(Some(limit));
    sandbox
}

/// Backfills `orders` into each of `sandboxes` through one host serving a tenant per sandbox.
async fn backfill(sandboxes: &[Sandbox], orders: u64) -> Vec<Run> {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<TenantId> = (0..sandboxes.len())
        .map(|i| TenantId::parse(&format!("tenant-{i}")).unwrap())
        .collect();
    let mut config = sandboxes[0].host_config(
        dir.path(),
        sandboxes[0].tenant_config(ids[0].clone(), vec![]),
    );
    for (s, id) in sandboxes.iter().zip(&ids).skip(1) {
        config.tenants.push(s.tenant_config(id.clone(), vec![]));
    }
    config.worker.concurrency = 32;
    config.worker.reconcile_every_secs = 0;
    for t in &mut config.tenants {
        t.limits.concurrency = 32;
    }
    let host = App::build(config.clone()).await.unwrap().spawn();
    for (s, id) in sandboxes.iter().zip(&ids) {
        s.send_webhooks_to(&host.url(), id);
    }
    let store = Store::open(&config.store).await.unwrap();
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid: 1.0,
    };
    let started = Instant::now();
    let mut runs: Vec<Run> = sandboxes
        .iter()
        .map(|_| Run {
            orders,
            from: None,
            to: (started, 0),
            throttled: 0,
            started,
        })
        .collect();
    // Orders are placed in turns across the tenants; a sampler notes each account's first 429.
    let mut placed: Vec<Vec<_>> = sandboxes.iter().map(|_| Vec::new()).collect();
    for n in 0..orders {
        for (i, s) in sandboxes.iter().enumerate() {
            placed[i].push(s.place(n, &mix).await);
        }
        note_first_throttle(sandboxes, &mut runs);
    }
    // Measure from the later of the first 429 and the last order placed: until then the orders came in slower
    // than the budget could take them, which says nothing about Ferry.
    for (s, run) in sandboxes.iter().zip(runs.iter_mut()) {
        if run.from.is_some() {
            run.from = Some((Instant::now(), succeeded(s)));
        }
    }
    let mut pending: Vec<usize> = (0..sandboxes.len()).collect();
    let deadline = Instant::now() + Duration::from_secs(1800);
    while !pending.is_empty() && Instant::now() < deadline {
        note_first_throttle(sandboxes, &mut runs);
        let mut still = Vec::new();
        for i in pending {
            let done = sandboxes[i]
                .wait_settled(&store, &ids[i], &placed[i], Duration::from_millis(250))
                .await
                .unwrap();
            if done {
                runs[i].to = (Instant::now(), succeeded(&sandboxes[i]));
                runs[i].throttled = sandboxes[i].freshbooks.throttled_requests();
            } else {
                still.push(i);
            }
        }
        pending = still;
    }
    assert!(pending.is_empty(), "tenants {pending:?} did not settle");
    for (i, s) in sandboxes.iter().enumerate() {
        let audit = s.audit(&store, &ids[i], &placed[i]).await.unwrap();
        assert!(audit.is_clean(), "{audit:#?}");
    }
    let _ = host.stop().await;
    runs
}

fn note_first_throttle(sandboxes: &[Sandbox], runs: &mut [Run]) {
    for (s, run) in sandboxes.iter().zip(runs.iter_mut()) {
        if run.from.is_none() && s.freshbooks.throttled_requests() > 0 {
            run.from = Some((Instant::now(), succeeded(s)));
        }
    }
}

fn main() {
    let orders = env("ORDERS", 1000);
    let per_minute = env("RATE", 3000);
    let window = env("WINDOW", 10);
    let limit = RateLimit {
        requests: u32::try_from(per_minute * window / 60).unwrap(),
        window: Duration::from_secs(window),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        println!(
            "FreshBooks allows {} requests per {window}s window per account ({per_minute}/min)",
            limit.requests
        );
        let one = vec![sandbox(7, limit).await];
        let runs = backfill(&one, orders).await;
        runs[0].print("one tenant", per_minute);
        for s in one {
            s.shutdown();
        }

        let two = vec![sandbox(8, limit).await, sandbox(9, limit).await];
        let runs = backfill(&two, orders).await;
        for (i, run) in runs.iter().enumerate() {
            run.print(&format!("two tenants, tenant {i}"), per_minute);
        }
        let rates: Vec<f64> = runs
            .iter()
            .map(|r| r.orders as f64 / (r.to.0 - r.started).as_secs_f64())
            .collect();
        println!(
            "two tenants: orders/s {:.1} and {:.1} (ratio {:.2})",
            rates[0],
            rates[1],
            rates[0].min(rates[1]) / rates[0].max(rates[1])
        );
        for s in two {
            s.shutdown();
        }
    });
}
