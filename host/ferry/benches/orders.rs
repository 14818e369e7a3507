//! End-to-end throughput: orders placed in the Kentico simulator → signed webhooks → a real Ferry host (SQLite
//! file, workers) → Kentico REST reads → FreshBooks writes, against zero-latency simulators in this process.
//! Prints orders/s from the first order placed to the last one settled, and the audit (it must be clean).
//!
//! Also prints the Kentico and FreshBooks calls per order by kind, counted at the simulators.
//!
//! `cargo bench -p ferry --bench orders` (env `ORDERS`, default 2000; `PLUGINS=1` runs the example plugin chain;
//! `FAULTS=1` makes FreshBooks answer 10 % of requests 503 and drop 2 % of replies after committing (issue 20);
//! `DATABASE_URL=postgres://…` uses Postgres instead of a SQLite file — give it an empty database; `SYNC=normal`
//! drops SQLite's fsync per commit; `FERRY_BENCH_POOL=4` shrinks the plugin pool so that it runs under valgrind;
//! `BACKLOG=1` holds the tenant (marked disconnected, as a refused authorization does) until every order's event is
//! queued, then reconnects it and measures the host working through that queue alone, as after an outage or a
//! backfill: the time starts at the reconnect, which the host's idle poll finds within 250 ms).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use ferry::app::App;
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry_model::TenantId;
use ferry_sim::kentico::OrderMix;
use ferry_store::Store;
use std::time::{Duration, Instant};

fn main() {
    let orders: u64 = std::env::var("ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let plugins = std::env::var("PLUGINS").is_ok_and(|v| v == "1");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let sandbox = Sandbox::start(&SandboxOptions {
            seed: 5,
            customers: 200,
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tenant = TenantId::parse("bench").unwrap();
        let chain = if plugins {
            let built = ferry_transform::artifacts::ensure_built().expect("plugins build");
            Sandbox::example_plugins(&built)
        } else {
            vec![]
        };
        let mut config = sandbox.host_config(dir.path(), sandbox.tenant_config(tenant.clone(), chain));
        // `DATABASE_URL=postgres://…` runs the same bench on Postgres (the multi-host store).
        let backend = match std::env::var("DATABASE_URL") {
            Ok(url) => {
                config.store = ferry_store::StoreConfig::from_url(url);
                "postgres"
            }
            Err(_) => "sqlite",
        };
        // `SYNC=normal`: SQLite commits without fsync (survives kill -9, not power loss), to see what fsync costs.
        if std::env::var("SYNC").as_deref() == Ok("normal") {
            config.store.synchronous = ferry_store::Synchronous::Normal;
        }
        // `FERRY_BENCH_POOL=4`: a plugin pool small enough for valgrind to reserve (for a callgrind profile).
        if let Some(n) = std::env::var("FERRY_BENCH_POOL").ok().and_then(|v| v.parse().ok()) {
            config.plugins.max_instances = n;
        }
        config.worker.concurrency = 32;
        config.worker.reconcile_every_secs = 0;
        config.tenants[0].limits.concurrency = 32;
        let host = App::build(config.clone()).await.unwrap().spawn();
        let url = host.url();
        sandbox.send_webhooks_to(&url, &tenant);
        let mix = OrderMix {
            invalid: 0.0,
            foreign_currency: 0.3,
            paid: 0.6,
        };
        let faults = std::env::var("FAULTS").is_ok_and(|v| v == "1");
        let store = Store::open(&config.store).await.unwrap();
        let mut warm_up = Vec::new();
        if faults {
            // One order first, without faults, so the host holds its FreshBooks access token before they start: the
            // token refresh is not part of this fault model. A refresh whose reply is lost leaves no valid refresh
            // token (FreshBooks rotates them on every refresh), so the tenant is disconnected until a person
            // reconnects it (tests/e2e/disconnected.rs); the run would stall there instead of measuring retries.
            warm_up.push(sandbox.place(orders, &mix).await);
            assert!(
                sandbox
                    .wait_settled(&store, &tenant, &warm_up, Duration::from_secs(60))
                    .await
                    .unwrap(),
                "the warm-up order did not settle"
            );
            sandbox.freshbooks.faults().set_error_rate(0.10, 503);
            sandbox.freshbooks.faults().set_drop_reply_rate(0.02);
        }
        let backlog = std::env::var("BACKLOG").is_ok_and(|v| v == "1");
        if backlog {
            store
                .mark_disconnected(&tenant, "bench", "bench-backlog", "held until the backlog is queued")
                .await
                .unwrap();
        }
        let mut started = Instant::now();
        let mut cpu_before = process_cpu();
        let mut placed = Vec::new();
        for n in 0..orders {
            placed.push(sandbox.place(n, &mix).await);
        }
        let placed_in = started.elapsed();
        if backlog {
            while store
                .count_in_state(Some(&tenant), ferry_store::EventState::Queued)
                .await
                .unwrap()
                < orders
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            println!("backlog: {orders} events queued; the tenant reconnects now");
            started = Instant::now();
            cpu_before = process_cpu();
            assert!(store.reconnect_if_changed(&tenant, "other").await.unwrap());
        }
        let settled = sandbox
            .wait_settled(&store, &tenant, &placed, Duration::from_secs(600))
            .await
            .unwrap();
        let elapsed = started.elapsed();
        let cpu = process_cpu().saturating_sub(cpu_before);
        placed.extend(warm_up);
        let audit = sandbox.audit(&store, &tenant, &placed).await.unwrap();
        println!(
            "orders end to end ({backend}, {}{}{}): {orders} orders in {:.2}s = {:.0} orders/s (placing took {:.2}s); settled: {settled}; clean: {}",
            if plugins { "3-plugin chain" } else { "no plugins" },
            if faults { ", FreshBooks 10 % 503 + 2 % dropped replies" } else { "" },
            if backlog { ", worked off a queued backlog" } else { "" },
            elapsed.as_secs_f64(),
            orders as f64 / elapsed.as_secs_f64(),
            placed_in.as_secs_f64(),
            audit.is_clean(),
        );
        println!(
            "CPU per order: {:.2} ms (user + system of this process: host, simulators and the order placing)",
            cpu.as_secs_f64() * 1e3 / orders as f64
        );
        per_order("Kentico", &sandbox.kentico.request_counts(), orders);
        let freshbooks = sandbox
            .freshbooks
            .request_counts()
            .into_iter()
            .filter(|(kind, _)| !kind.contains("oauth") && !kind.contains("users/me"))
            .collect();
        per_order("FreshBooks", &freshbooks, orders);
        assert!(audit.is_clean(), "{audit:#?}");
        let _ = host.stop().await;
        sandbox.shutdown();
    });
}

/// User + system CPU time of this process so far (`/proc/self/stat`, Linux; zero elsewhere). The kernel reports it
/// in `USER_HZ` ticks, which is 100 per second on every Linux architecture this runs on (proc(5)).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (in parentheses, which may contain spaces): utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Prints the calls per order of one simulator, in all and by kind.
fn per_order(vendor: &str, counts: &std::collections::BTreeMap<String, u64>, orders: u64) {
    let total: u64 = counts.values().sum();
    println!(
        "{vendor}: {:.2} calls per order ({total} for {orders} orders, faulted ones included)",
        total as f64 / orders as f64
    );
    for (kind, n) in counts {
        println!("  {kind:<36} {:.2}", *n as f64 / orders as f64);
    }
}
