//! The store's public API against both backends. Each test body in `suite` takes a fresh `&Store` and runs
//! twice: `sqlite::<name>` on a SQLite file, `postgres::<name>` on a Postgres database of its own (see
//! `support`). `multi_host` holds the Postgres-only tests where several stores (hosts) share one database.
//! `admin_rows` runs the admin API's rows (tokens, plugin versions, event pages, managed tenants) on both
//! backends the same way, as `console_rows` (sessions, activity), `callback_rows` (the payment write-back's
//! callbacks, ledger keys and events), `sku_rows` (catalogue events by SKU), `audit_rows` (books audit reports)
//! and `alert_rows` (the alerts' shared conditions and dead-letter windows) do, each through [`rows_on_both_backends`]. One test binary for the crate, as Wasmtime's `tests/all`.

/// Generates a `sqlite` and a `postgres` module holding one `#[tokio::test]` per body of module `$suite` (each an
/// `async fn name(&Store) -> anyhow::Result<()>`), so a row module runs its bodies on both backends.
macro_rules! rows_on_both_backends {
    ($suite:ident: $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::support::with_sqlite(|s| async move { crate::$suite::$name(&s).await }).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::support::with_postgres(|s| async move { crate::$suite::$name(&s).await }).await;
                }
            )*
        }
    };
}

mod admin_rows;
mod alert_rows;
mod audit_rows;
mod callback_rows;
mod console_rows;
mod multi_host;
mod purge_contention;
mod sku_rows;
mod suite;
mod support;

/// Generates one `#[tokio::test]` per backend for each suite body.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::support::with_sqlite(|s| async move { crate::suite::$name(&s).await }).await;
                }
            )*

            #[tokio::test]
            async fn events_survive_reopening_the_file() {
                let dir = tempfile::tempdir().expect("temp dir");
                let config = ferry_store::StoreConfig::at(dir.path().join("ferry.db"));
                let store = ferry_store::Store::open(&config).await.expect("open");
                crate::suite::insert_one(&store, "t1", "evt_keep", 1)
                    .await
                    .expect("insert");
                store.close().await;
                let store = ferry_store::Store::open(&config).await.expect("reopen");
                let t = ferry_model::TenantId::parse("t1").expect("tenant");
                assert!(store.event_by_id(&t, "evt_keep").await.expect("read").is_some());
            }

            #[tokio::test]
            async fn a_database_file_in_a_missing_directory_is_created_with_it() {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join(".ferry").join("state").join("ferry.db");
                let store = ferry_store::Store::open(&ferry_store::StoreConfig::at(path.clone()))
                    .await
                    .expect("open under a directory that did not exist");
                crate::suite::insert_one(&store, "t1", "evt_new", 1)
                    .await
                    .expect("insert");
                store.close().await;
                assert!(path.is_file(), "{} was created", path.display());
            }
        }

        #[tokio::test]
        async fn database_url_selects_the_backend() {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite:{}", dir.path().join("by-url.db").display());
            let store = ferry_store::Store::open(&ferry_store::StoreConfig::from_url(url))
                .await
                .expect("open by sqlite: url");
            assert_eq!(store.backend(), ferry_store::Backend::Sqlite);
            store.close().await;
            let bad = ferry_store::Store::open(&ferry_store::StoreConfig::from_url("mysql://x/y")).await;
            assert!(bad.is_err(), "unsupported scheme is refused");
            let pg = crate::support::TestDb::create().await;
            let store = ferry_store::Store::open(&ferry_store::StoreConfig::from_url(pg.url.clone()))
                .await
                .expect("open by postgres:// url");
            assert_eq!(store.backend(), ferry_store::Backend::Postgres);
            store.close().await;
            // A second host opening the same database runs the migrations again: nothing to do.
            let again = ferry_store::Store::open(&ferry_store::StoreConfig::from_url(pg.url.clone()))
                .await
                .expect("reopen");
            again.close().await;
            pg.drop().await;
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::support::with_postgres(|s| async move { crate::suite::$name(&s).await }).await;
                }
            )*
        }
    };
}

on_both_backends!(
    duplicate_event_is_stored_once_per_tenant,
    ingestor_commits_concurrent_inserts_in_batches,
    later_event_of_same_object_waits_for_earlier_one,
    dead_event_releases_its_object,
    expired_lease_is_reclaimed_and_stale_worker_is_refused,
    retry_waits_for_next_attempt_and_keeps_each_error,
    claims_take_turns_between_tenants_within_limits,
    dead_letters_can_be_shown_replayed_and_discarded,
    replay_all_requeues_every_dead_event_of_a_tenant,
    dead_letters_are_listed_replayed_and_discarded_by_error_class,
    run_history_is_searchable_by_order_number_and_invoice,
    purge_removes_old_done_events_and_resolved_dead_letters_only,
    idempotency_ledger_records_intent_then_result,
    ledger_lookup_many_reads_the_keys_asked_of_the_tenant,
    an_attempts_held_back_result_is_written_with_its_next_write,
    a_completed_run_answers_the_waiting_events_its_read_covered,
    id_mappings_round_trip,
    watermarks_only_move_forward_and_coverage_is_reported,
    token_rotation_is_compare_and_swap,
    resealing_tokens_swaps_ciphertexts_only_over_what_was_read,
    kv_stores_opaque_blobs,
    extended_lease_is_not_reclaimed,
    waiting_worker_wakes_on_insert_and_times_out_when_idle,
    an_event_queued_behind_its_object_wakes_nobody_until_it_can_run,
    a_claim_says_held_back_only_when_the_limit_kept_a_runnable_event,
    a_claim_answers_the_signal_of_a_commit_it_waited_for,
    refresh_lock_admits_one_holder_at_a_time,
    create_locks_are_per_key_and_apart_from_refresh_locks,
    rate_slots_allow_limit_calls_per_window,
    order_history_reads_back_recent_orders_without_the_one_checked,
    a_held_event_is_released_by_its_replay_only,
);
