//! Console page latency: a host serving 100 tenants over a SQLite store holding 100,000 events (mostly done, some
//! dead and waiting, each with steps and state changes, half of them synced orders) and 60 days of usage, signed in
//! as the operator. Prints p50, p95 and max per page over real HTTP (the goal: every page under 100 ms p95).
//!
//! `cargo bench -p ferry --bench console` (env `TENANTS`, default 100; `EVENTS`, default 100000; `ROUNDS`, requests
//! per page, default 200).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use ferry::admin::{generate_token, hash_token};
use ferry::app::App;
use ferry::sandbox::{Sandbox, SandboxOptions};
use ferry_model::TenantId;
use ferry_store::{Store, TokenScope};
use secrecy::ExposeSecret;
use std::time::{Duration, Instant};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let tenants = env("TENANTS", 100);
    let events = env("EVENTS", 100_000);
    let rounds = env("ROUNDS", 200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let sandbox = Sandbox::start(&SandboxOptions::default()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<TenantId> = (0..tenants)
            .map(|i| TenantId::parse(&format!("t{i:03}")).unwrap())
            .collect();
        let mut config =
            sandbox.host_config(dir.path(), sandbox.tenant_config(ids[0].clone(), vec![]));
        for id in &ids[1..] {
            config
                .tenants
                .push(sandbox.tenant_config(id.clone(), vec![]));
        }
        config.worker.reconcile_every_secs = 0;
        config.admin.sync_every_ms = 0;
        // The events span 60 days: with the default 30-day retention the host would start by purging half of them,
        // measuring pages over a shrinking store (and, before the purge paused between batches, starving the
        // sign-in's write: the 500 this bench once met).
        config.store.keep_done_days = 365;

        let started = Instant::now();
        let store = Store::open(&config.store).await.unwrap();
        fill(&config.store.path, tenants, events).await;
        let (token_id, token) = generate_token();
        store
            .insert_admin_token(
                &token_id,
                &hash_token(token.expose_secret()),
                &TokenScope::Operator,
                "bench",
            )
            .await
            .unwrap();
        println!(
            "store: {events} events over {tenants} tenants written in {:.1} s",
            started.elapsed().as_secs_f64()
        );

        let host = App::build(config).await.unwrap().without_workers().spawn();
        let base = host.url();
        let session = sign_in(&base, token.expose_secret()).await;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::COOKIE,
            format!("ferry_console={session}").parse().unwrap(),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();

        let dead_job = first_job(&store, &ids[6], "dead").await;
        let pages = [
            ("tenants overview", "/console/tenants".to_owned()),
            ("run history", "/console/tenants/t006/events".to_owned()),
            (
                "run history, 2nd page",
                format!("/console/tenants/t006/events?before={}", dead_job + 200),
            ),
            (
                "run history, state=dead",
                "/console/tenants/t006/events?state=dead".to_owned(),
            ),
            (
                "run history, date range",
                "/console/tenants/t006/events?from=2026-01-01&to=2030-12-31".to_owned(),
            ),
            (
                "order number search",
                "/console/tenants/t006/events?order=40042".to_owned(),
            ),
            (
                "invoice id search",
                "/console/tenants/t006/events?invoice=9004206".to_owned(),
            ),
            (
                "event timeline",
                format!("/console/tenants/t006/events/{dead_job}"),
            ),
            ("dead letters", "/console/tenants/t006/dlq".to_owned()),
            (
                "dead letters, order number",
                "/console/tenants/t006/dlq?order=40042".to_owned(),
            ),
            ("tenant page", "/console/tenants/t006".to_owned()),
            ("usage, every tenant", "/console/usage".to_owned()),
            (
                "usage, one tenant 60 days",
                format!("/console/usage?tenant=t006&from={}", days_ago(60)),
            ),
            ("tokens", "/console/tokens".to_owned()),
        ];
        println!(
            "{:<26} {:>9} {:>9} {:>9}   ({rounds} requests each)",
            "page", "p50 ms", "p95 ms", "max ms"
        );
        for (name, path) in &pages {
            let mut took = Vec::new();
            for _ in 0..rounds {
                let t = Instant::now();
                let resp = http.get(format!("{base}{path}")).send().await.unwrap();
                assert_eq!(resp.status(), 200, "{path}");
                let _ = resp.bytes().await.unwrap();
                took.push(t.elapsed());
            }
            took.sort();
            let pct =
                |p: f64| ms(took[((took.len() as f64 * p).ceil() as usize).saturating_sub(1)]);
            println!(
                "{name:<26} {:>9.2} {:>9.2} {:>9.2}",
                pct(0.50),
                pct(0.95),
                ms(*took.last().unwrap())
            );
        }
        host.stop().await.unwrap();
    });
}

/// The UTC day `n` days ago, `YYYY-MM-DD`.
fn days_ago(n: i64) -> String {
    (time::OffsetDateTime::now_utc() - time::Duration::days(n))
        .date()
        .to_string()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The value of cookie `name` set by `resp`.
fn set_cookie(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .expect("the cookie")
        .to_owned()
}

/// Signs in as a browser would (the form's double-submit token and cookie, then the token); returns the session
/// cookie's value.
async fn sign_in(base: &str, token: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{base}/console/sign-in"))
        .send()
        .await
        .unwrap();
    let pre = set_cookie(&page, "ferry_console_sign_in");
    let resp = http
        .post(format!("{base}/console/sign-in"))
        .header(
            reqwest::header::COOKIE,
            format!("ferry_console_sign_in={pre}"),
        )
        .form(&[("csrf", pre.as_str()), ("token", token)])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    assert_eq!(
        status,
        303,
        "sign in: {}",
        resp.text().await.unwrap_or_default()
    );
    set_cookie(&resp, "ferry_console")
}

async fn first_job(store: &Store, tenant: &TenantId, state: &str) -> i64 {
    let state = ferry_store::EventState::parse(state).unwrap();
    store
        .events_page(tenant, Some(state), None, 1)
        .await
        .unwrap()
        .first()
        .expect("an event in that state")
        .job
        .0
}

/// Writes `events` events round-robin over the tenants straight into the SQLite file: 96 % done (every other one an
/// order with its number, invoice and synced-order row), 2 % dead, 2 % queued, each with two steps and two state
/// changes, received over the last 60 days; and each tenant's usage of each day.
async fn fill(path: &std::path::Path, tenants: u64, events: u64) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let span = 60 * 86_400_000_i64;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         INSERT INTO events (tenant, event_id, kind, ordering_key, object_type, object_id, object_guid, \
         object_last_modified, payload, state, attempts, next_attempt_at, last_error, outcome, order_number, \
         invoice_id, received_at, queued_at, started_at, finished_at, updated_at) \
         SELECT printf('t%03d', i % $2), 'evt-' || i, 'order.updated', 'ecommerce.order:' || (i / $2), \
         'ecommerce.order', i / $2, 'guid-' || i, $3, '{}', \
         CASE WHEN i % 50 = 6 THEN 'dead' WHEN i % 50 = 8 THEN 'queued' ELSE 'done' END, 1, $3, \
         CASE WHEN i % 50 = 6 THEN 'FreshBooks answered 422: invoice rejected' END, \
         CASE WHEN i % 2 = 0 THEN '{\"client_id\": 1, \"invoice_id\": ' || (9000000 + i) || '}' END, \
         CASE WHEN i % 2 = 0 THEN CAST(40000 + i / $2 AS TEXT) END, \
         CASE WHEN i % 2 = 0 THEN CAST(9000000 + i AS TEXT) END, \
         $3 - $4 + (i * $4 / $1), $3 - $4 + (i * $4 / $1), $3 - $4 + (i * $4 / $1), \
         CASE WHEN i % 50 = 8 THEN NULL ELSE $3 - $4 + (i * $4 / $1) + 900 END, $3 FROM n",
    )
    .bind(i64::try_from(events).unwrap())
    .bind(i64::try_from(tenants).unwrap())
    .bind(now)
    .bind(span)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO event_steps (event_seq, attempt, step, started_at, duration_ms, ok, detail) \
         SELECT seq, 1, 'extract', received_at, 120, 1, '{\"order_number\": 1}' FROM events UNION ALL \
         SELECT seq, 1, 'load', received_at + 200, 340, state <> 'dead', '{\"invoice_id\": 1}' FROM events",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO event_history (event_seq, at, from_state, to_state, attempt, error, note) \
         SELECT seq, received_at, 'received', 'queued', 0, NULL, NULL FROM events UNION ALL \
         SELECT seq, received_at + 900, 'running', state, 1, last_error, NULL FROM events WHERE state <> 'queued'",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO synced_orders (tenant, order_guid, currency, total, max_quantity, customer, country, synced_at) \
         SELECT tenant, object_guid, 'EUR', '100.00', 1, 'c', 'DE', finished_at FROM events WHERE order_number IS \
         NOT NULL AND state = 'done'",
    )
    .execute(&pool)
    .await
    .unwrap();
    // Usage for every day of every tenant: its synced orders, and calls as an order costs them.
    sqlx::query(
        "INSERT INTO usage_daily (tenant, day, orders_synced, freshbooks_calls, kentico_calls) SELECT tenant, \
         strftime('%Y-%m-%d', synced_at / 1000, 'unixepoch'), COUNT(*), 4 * COUNT(*), 5 * COUNT(*) FROM \
         synced_orders GROUP BY 1, 2 ON CONFLICT (tenant, day) DO NOTHING",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}
