//! A large purge on SQLite leaves room for every other writer: webhook inserts made while retention deletes tens of
//! thousands of old events all commit, none waits out its busy timeout. (Postgres locks rows, not the database.)
//!
//! Found by the console bench: its host started with 48,000 events past retention, the start-up purge ran its
//! batches back to back, and a sign-in waiting for the write lock got `database is locked` (a 500).

#![allow(clippy::unwrap_used)]

use ferry_model::{EventEnvelope, EventKind, EventObject, TenantId};
use ferry_store::{NewEvent, Store, StoreConfig};
use std::time::Duration;
use time::OffsetDateTime;

/// Events stored, every other one old enough to purge (60 batches): enough for batches slow enough to starve a
/// waiting writer without the pause (20,000 were not).
const EVENTS: i64 = 60_000;
/// Of which old.
const OLD: i64 = EVENTS / 2;

/// Writes `EVENTS` done events (each with two steps and two state changes), every other one finished two days ago,
/// the others just now.
async fn fill(path: &std::path::Path) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let old = now - 2 * 86_400_000;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         INSERT INTO events (tenant, event_id, kind, ordering_key, object_type, object_id, object_guid, \
         object_last_modified, payload, state, attempts, next_attempt_at, received_at, queued_at, started_at, \
         finished_at, updated_at) SELECT 'old', 'evt-' || i, 'order.updated', 'ecommerce.order:' || i, \
         'ecommerce.order', i, 'guid-' || i, $2, '{}', 'done', 1, $2, $2, $2, $2, \
         CASE WHEN i % 2 = 0 THEN $2 ELSE $3 END, $2 FROM n",
    )
    .bind(EVENTS)
    .bind(old)
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    for sql in [
        "INSERT INTO event_steps (event_seq, attempt, step, started_at, duration_ms, ok, detail) \
         SELECT seq, 1, 'extract', received_at, 120, 1, '{}' FROM events UNION ALL \
         SELECT seq, 1, 'load', received_at, 340, 1, '{}' FROM events",
        "INSERT INTO event_history (event_seq, at, from_state, to_state, attempt) \
         SELECT seq, received_at, 'received', 'queued', 0 FROM events UNION ALL \
         SELECT seq, finished_at, 'running', 'done', 1 FROM events",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
}

fn webhook(n: i64) -> NewEvent {
    let at = OffsetDateTime::now_utc();
    NewEvent::from_envelope(
        TenantId::parse("shop").unwrap(),
        EventEnvelope {
            id: format!("evt_new_{n}"),
            kind: EventKind::OrderUpdated,
            occurred_at: at,
            object: EventObject {
                object_type: "ecommerce.order".to_owned(),
                id: n,
                guid: uuid::Uuid::new_v4(),
                last_modified: at,
            },
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_inserts_commit_while_a_large_purge_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        // Short, so a writer held up behind the purge shows as an error instead of a slow test.
        busy_timeout: Duration::from_secs(1),
        ..StoreConfig::at(dir.path().join("ferry.db"))
    };
    let store = Store::open(&config).await.unwrap();
    fill(&config.path).await;

    let purging = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .purge_finished(OffsetDateTime::now_utc() - time::Duration::days(1), false)
                .await
        })
    };
    let mut inserted = 0;
    while !purging.is_finished() {
        inserted += 1;
        if let Err(error) = store.insert_event(&webhook(inserted)).await {
            panic!("insert {inserted} failed while the purge ran: {error}");
        }
    }
    let purged = purging.await.unwrap().unwrap();
    assert_eq!(purged.done_events, OLD as u64);
    assert_eq!(purged.steps, 2 * OLD as u64);
    assert!(inserted > 1, "inserts ran during the purge");
    println!("{inserted} inserts committed during a purge of {OLD} events");
    store.close().await;
}
