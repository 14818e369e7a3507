//! Batched durable inserts: N concurrent producers submit through the [`Ingestor`] into a real SQLite file
//! (WAL, synchronous=FULL); prints acks/s and p50/p99 latency of each submit (from send to post-COMMIT ack).
//!
//! `cargo bench -p ferry-store --bench enqueue` (env `PRODUCERS`, `EVENTS` to change the load).

#![allow(missing_docs, clippy::unwrap_used)]

use ferry_model::{EventEnvelope, EventKind, EventObject, TenantId};
use ferry_store::{Ingestor, NewEvent, Store, StoreConfig};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn event(tenant: &TenantId, n: usize) -> NewEvent {
    let now = time::OffsetDateTime::now_utc();
    let envelope = EventEnvelope {
        id: format!("evt_{n}"),
        kind: EventKind::OrderCreated,
        occurred_at: now,
        object: EventObject {
            object_type: "ecommerce.order".into(),
            id: i64::try_from(n).unwrap(),
            guid: uuid::Uuid::new_v4(),
            last_modified: now,
        },
    };
    NewEvent::from_envelope(tenant.clone(), envelope)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let producers = env_or("PRODUCERS", 256);
        let total = env_or("EVENTS", 100_000);
        let dir = tempfile::tempdir().unwrap();
        let mut config = StoreConfig::at(dir.path().join("bench.db"));
        if std::env::var("SYNC").as_deref() == Ok("normal") {
            config.synchronous = ferry_store::Synchronous::Normal;
        }
        let sync = format!("{:?}", config.synchronous);
        let store = Store::open(&config).await.unwrap();
        if let Ok(n) = std::env::var("DIRECT_BATCH") {
            let n: usize = n.parse().unwrap();
            let t = TenantId::parse("t").unwrap();
            for round in 0..20 {
                let evs: Vec<_> = (0..n).map(|i| event(&t, round * n + i)).collect();
                let t0 = Instant::now();
                store.insert_batch(&evs).await.unwrap();
                println!("direct batch of {n}: {:?}", t0.elapsed());
            }
            return;
        }
        let ingestor = Ingestor::spawn(store.clone(), &config.batch);
        let per = total / producers;
        let start = Instant::now();
        let mut tasks = Vec::new();
        for p in 0..producers {
            let ing = ingestor.clone();
            tasks.push(tokio::spawn(async move {
                let tenant = TenantId::parse(&format!("tenant-{}", p % 16)).unwrap();
                let mut lat = Vec::with_capacity(per);
                for i in 0..per {
                    let ev = event(&tenant, p * per + i);
                    let t0 = Instant::now();
                    ing.submit(ev).await.unwrap();
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
            "enqueue: {} events, {producers} producers, sqlite WAL synchronous={sync}: {:.0} acks/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            lat.len(),
            lat.len() as f64 / elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            lat[lat.len() - 1].as_secs_f64() * 1e3,
        );
    });
}
