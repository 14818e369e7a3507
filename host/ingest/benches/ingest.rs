//! HTTP ingest throughput: the real router on 127.0.0.1 over a real SQLite file (WAL, Ferry's
//! `synchronous = full`), `CLIENTS` concurrent keep-alive reqwest clients posting signed webhooks. Prints acks/s
//! and p50/p99 of request latency (send → 202 received, which is after the commit is flushed to disk). Client and
//! server share the 2 cores.
//!
//! `cargo bench -p ferry-ingest --bench ingest` (env `CLIENTS`, `EVENTS`).

#![allow(missing_docs, clippy::unwrap_used)]

use ferry_ingest::{IngestConfig, IngestState, router, sign};
use ferry_model::TenantId;
use ferry_store::{Ingestor, Store, StoreConfig};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const KEY: &[u8] = b"bench-secret-bench-secret";

/// The allocator the `ferry` binary runs with (host/ferry/src/lib.rs), so the figures are the shipped host's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let clients = env_or("CLIENTS", 128);
        let total = env_or("EVENTS", 40_000);
        let dir = tempfile::tempdir().unwrap();
        // `DATABASE_URL=postgres://…` runs the same bench on Postgres (give it an empty database).
        let (config, backend) = match std::env::var("DATABASE_URL") {
            Ok(url) => (StoreConfig::from_url(url), "postgres"),
            Err(_) => (StoreConfig::at(dir.path().join("bench.db")), "sqlite"),
        };
        let store = Store::open(&config).await.unwrap();
        let ingestor = Ingestor::spawn(store.clone(), &config.batch);
        let mut secrets = HashMap::new();
        for t in 0..16 {
            secrets.insert(TenantId::parse(&format!("tenant-{t}")).unwrap(), vec![KEY.to_vec()]);
        }
        let state = IngestState::new(ingestor, secrets, IngestConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router(state)).await });

        let per = total / clients;
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
                let url = format!("http://{addr}/hooks/kentico/tenant-{}", c % 16);
                let mut lat = Vec::with_capacity(per);
                for i in 0..per {
                    let id = format!("evt_{c}_{i}");
                    let body = format!(
                        r#"{{"id":"{id}","type":"order.created","occurred_at":"2026-11-20T13:03:12.010Z","object":{{"object_type":"ecommerce.order","id":{},"guid":"3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51","last_modified":"2026-11-20T14:03:12.01+01:00"}}}}"#,
                        c * per + i
                    );
                    let ts = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
                    let sig = sign(KEY, &id, &ts, body.as_bytes());
                    let t0 = Instant::now();
                    let resp = http
                        .post(&url)
                        .header("webhook-id", &id)
                        .header("webhook-timestamp", &ts)
                        .header("webhook-signature", sig)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status().as_u16(), 202);
                    let _ = resp.bytes().await.unwrap();
                    lat.push(t0.elapsed());
                }
                lat
            }));
        }
        let mut lat: Vec<Duration> = Vec::with_capacity(total);
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        let elapsed = start.elapsed();
        lat.sort();
        let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
        println!(
            "ingest ({backend}): {} webhooks, {clients} keep-alive clients, durable commit before 202: {:.0} acks/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            lat.len(),
            lat.len() as f64 / elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            lat[lat.len() - 1].as_secs_f64() * 1e3,
        );
    });
}
