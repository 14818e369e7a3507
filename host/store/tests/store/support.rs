//! The store suite against a real SQLite file in a temp dir. Each test body lives in `suite` and takes a
//! `&Store`, so a Postgres runner can call the same bodies.

mod suite;

use ferry_store::{Store, StoreConfig};
use std::future::Future;

/// Opens a fresh store in its own temp dir and runs `body` on it.
async fn with_store<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&StoreConfig::at(dir.path().join("ferry.db")))
        .await
        .expect("open store");
    body(store.clone()).await.expect("test body");
    store.close().await;
}

macro_rules! sqlite_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                with_store(|s| async move { suite::$name(&s).await }).await;
            }
        )*
    };
}

sqlite_tests!(
    duplicate_event_is_stored_once_per_tenant,
    ingestor_commits_concurrent_inserts_in_batches,
    later_event_of_same_object_waits_for_earlier_one,
    dead_event_releases_its_object,
    expired_lease_is_reclaimed_and_stale_worker_is_refused,
    retry_waits_for_next_attempt_and_keeps_each_error,
    claims_take_turns_between_tenants_within_limits,
    dead_letters_can_be_shown_replayed_and_discarded,
    replay_all_requeues_every_dead_event_of_a_tenant,
    run_history_is_searchable_by_order_number_and_invoice,
    purge_removes_only_old_finished_events,
    idempotency_ledger_records_intent_then_result,
    id_mappings_round_trip,
    watermarks_only_move_forward_and_coverage_is_reported,
    token_rotation_is_compare_and_swap,
    kv_stores_opaque_blobs,
);

#[tokio::test]
async fn events_survive_reopening_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = StoreConfig::at(dir.path().join("ferry.db"));
    let store = Store::open(&config).await.expect("open");
    suite::insert_one(&store, "t1", "evt_keep", 1)
        .await
        .expect("insert");
    store.close().await;
    let store = Store::open(&config).await.expect("reopen");
    let t = ferry_model::TenantId::parse("t1").expect("tenant");
    assert!(
        store
            .event_by_id(&t, "evt_keep")
            .await
            .expect("read")
            .is_some()
    );
}
