//! Batched durable inserts: N concurrent producers submit through the [`Ingestor`]; prints acks/s and
//! p50/p99 latency of each submit (from send to post-COMMIT ack), for each backend:
//! - SQLite: a real file in a temp dir (WAL, Ferry's `synchronous = full`: each commit flushed before its ack;
//!   SQLite's NORMAL with `SYNC=normal`);
//! - Postgres: a scratch database `ferry_bench_<uuid>` created on the server at `FERRY_BENCH_DATABASE_URL`
//!   (default `postgres://postgres@127.0.0.1:5432/postgres`) and dropped afterwards.
//!
//! `cargo bench -p ferry-store --bench enqueue` runs both (env `BACKENDS=sqlite` or `BACKENDS=postgres` for
//! one; `PRODUCERS`, `EVENTS` to change the load; `DIRECT_BATCH=n` times raw `insert_batch` calls instead).

#![allow(missing_docs, clippy::unwrap_used)]

use ferry_model::{EventEnvelope, EventKind, EventObject, TenantId};
use ferry_store::{Ingestor, NewEvent, Store, StoreConfig};
use sqlx::{Connection, Executor, PgConnection};
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
    let backends = std::env::var("BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    rt.block_on(async {
        if backends.contains("sqlite") {
            let dir = tempfile::tempdir().unwrap();
            let mut config = StoreConfig::at(dir.path().join("bench.db"));
            if std::env::var("SYNC").as_deref() == Ok("normal") {
                config.synchronous = ferry_store::Synchronous::Normal;
            }
            let label = format!("sqlite WAL synchronous={:?}", config.synchronous);
            run(&config, &label).await;
        }
        if backends.contains("postgres") {
            let server = std::env::var("FERRY_BENCH_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("ferry_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::connect(&server).await.unwrap_or_else(|e| {
                panic!("postgres bench needs a server at {server} ({e}): run scripts/postgres.sh or set FERRY_BENCH_DATABASE_URL")
            });
            admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
            let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
            let config = StoreConfig::from_url(format!("{base}/{name}"));
            run(&config, "postgres (server defaults, synchronous_commit=on)").await;
            admin
                .execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
                .await
                .unwrap();
        }
    });
}

async fn run(config: &StoreConfig, label: &str) {
    let producers = env_or("PRODUCERS", 256);
    let total = env_or("EVENTS", 100_000);
    let store = Store::open(config).await.unwrap();
    if let Ok(n) = std::env::var("DIRECT_BATCH") {
        let n: usize = n.parse().unwrap();
        let t = TenantId::parse("t").unwrap();
        for round in 0..20 {
            let evs: Vec<_> = (0..n).map(|i| event(&t, round * n + i)).collect();
            let t0 = Instant::now();
            store.insert_batch(&evs).await.unwrap();
            println!("{label}: direct batch of {n}: {:?}", t0.elapsed());
        }
        store.close().await;
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
        "enqueue: {} events, {producers} producers, {label}: {:.0} acks/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3,
    );
    drop(ingestor);
    store.close().await;
}
