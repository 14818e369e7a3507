//! `ferry store purge [--dry-run]` on a SQLite store holding events that finished 40 days ago and today: the dry run
//! prints what would go and deletes nothing; the purge prints the same and deletes exactly that: old done events and
//! resolved dead letters with their history. An unresolved dead letter stays, however old.

use crate::{ferry, finish, printed};
use ferry_model::{EventEnvelope, EventKind, EventObject, TenantId};
use ferry_store::{ClaimRequest, EventState, NewEvent, Outcome, Store, StoreConfig};
use std::path::Path;
use std::time::Duration;

const OLD: [&str; 3] = ["done_old", "dead_old", "discarded_old"];
const NEW: [&str; 2] = ["done_new", "discarded_new"];

fn tenant() -> TenantId {
    TenantId::parse("shop").unwrap()
}

/// Stores one event per id and settles it as its name says (`done*`, `dead*`, `discarded*`).
async fn settle(store: &Store, ids: &[&str], first_object: i64) {
    for (i, id) in ids.iter().enumerate() {
        let at = time::OffsetDateTime::now_utc();
        let envelope = EventEnvelope {
            id: (*id).to_owned(),
            kind: EventKind::OrderUpdated,
            occurred_at: at,
            object: EventObject {
                object_type: "ecommerce.order".to_owned(),
                id: first_object + i as i64,
                guid: uuid::Uuid::new_v4(),
                last_modified: at,
            },
        };
        store
            .insert_event(&NewEvent::from_envelope(tenant(), envelope))
            .await
            .unwrap();
    }
    let claimed = store
        .claim(&ClaimRequest::new(
            "test",
            Duration::from_secs(60),
            ids.len(),
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), ids.len());
    for c in claimed {
        let id = c.event.event_id.as_str();
        if id.starts_with("done") {
            store.complete(&c.lease, &Outcome::default()).await.unwrap();
        } else {
            store
                .dead_letter(&c.lease, "refused", ferry_model::ErrorClass::Validation)
                .await
                .unwrap();
            if id.starts_with("discarded") {
                store.discard(c.lease.job, "resolved").await.unwrap();
            }
        }
    }
}

/// Whether each id is still stored.
async fn stored(db: &Path, ids: &[&str]) -> Vec<bool> {
    let store = Store::open(&StoreConfig::at(db)).await.unwrap();
    let mut out = Vec::new();
    for id in ids {
        out.push(store.event_by_id(&tenant(), id).await.unwrap().is_some());
    }
    store.close().await;
    out
}

#[test]
fn store_purge_dry_run_prints_what_would_go_and_the_purge_removes_exactly_that() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ferry.db");
    let config = dir.path().join("ferry.toml");
    std::fs::write(
        &config,
        "[store]\npath = \"ferry.db\"\nkeep_done_days = 30\n",
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let transitions = rt.block_on(async {
        let store = Store::open(&StoreConfig::at(&db)).await.unwrap();
        settle(&store, &OLD, 1).await;
        settle(&store, &NEW, 10).await;
        // What the purge should count: the state changes the store recorded for the old done and discarded events.
        let mut transitions = 0;
        for id in ["done_old", "discarded_old"] {
            let e = store.event_by_id(&tenant(), id).await.unwrap().unwrap();
            transitions += store.transitions(e.job).await.unwrap().len();
        }
        store.close().await;
        // The three old events finished 40 days ago.
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display()))
            .await
            .unwrap();
        let aged = sqlx::query(
            "UPDATE events SET finished_at = finished_at - 40 * 86400000 WHERE event_id LIKE '%_old'",
        )
        .execute(&mut conn)
        .await
        .unwrap()
        .rows_affected();
        assert_eq!(aged, 3);
        conn.close().await.unwrap();
        transitions
    });
    let all: Vec<&str> = OLD.iter().chain(NEW.iter()).copied().collect();

    let dry = finish(ferry(
        dir.path(),
        &["-c", "ferry.toml", "store", "purge", "--dry-run"],
    ));
    let text = String::from_utf8_lossy(&dry.stdout).to_string();
    assert!(dry.status.success(), "{}", printed(&dry));
    let expected = [
        "done events ............. 1".to_owned(),
        "resolved dead letters ... 1".to_owned(),
        format!("state changes ........... {transitions}"),
        "pipeline steps .......... 0".to_owned(),
        "kept: 1 unresolved dead letters".to_owned(),
    ];
    assert!(text.starts_with("would purge"), "{}", printed(&dry));
    for line in &expected {
        assert!(
            text.contains(line.as_str()),
            "{line:?} in {}",
            printed(&dry)
        );
    }
    assert_eq!(
        rt.block_on(stored(&db, &all)),
        [true; 5],
        "a dry run deletes nothing"
    );

    let purge = finish(ferry(dir.path(), &["-c", "ferry.toml", "store", "purge"]));
    let text = String::from_utf8_lossy(&purge.stdout).to_string();
    assert!(purge.status.success(), "{}", printed(&purge));
    assert!(text.starts_with("purged"), "{}", printed(&purge));
    for line in &expected {
        assert!(
            text.contains(line.as_str()),
            "{line:?} in {}",
            printed(&purge)
        );
    }
    // done_old and discarded_old went; the old unresolved dead letter and everything recent stayed.
    assert_eq!(
        rt.block_on(stored(&db, &all)),
        [false, true, false, true, true]
    );
    let left = rt.block_on(async {
        let store = Store::open(&StoreConfig::at(&db)).await.unwrap();
        let n = store.count_in_state(None, EventState::Dead).await.unwrap();
        store.close().await;
        n
    });
    assert_eq!(left, 1);
}

#[test]
fn keep_done_days_below_1_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ferry.toml"),
        "[store]\npath = \"ferry.db\"\nkeep_done_days = 0\n",
    )
    .unwrap();
    let out = finish(ferry(
        dir.path(),
        &["-c", "ferry.toml", "store", "purge", "--dry-run"],
    ));
    assert!(!out.status.success(), "{}", printed(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("store.keep_done_days"),
        "{}",
        printed(&out)
    );
    assert!(!dir.path().join("ferry.db").exists(), "nothing was opened");
}
