//! Backend-neutral test bodies: each takes a fresh, empty store.

use anyhow::{Context, Result, ensure};
use ferry_model::{ErrorClass, EventEnvelope, EventKind, EventObject, TenantId};
use ferry_store::{
    ClaimRequest, Claimed, DeadLetterFilter, EventState, Ingestor, InsertOutcome, LedgerState,
    MappingKind, NewEvent, Outcome, RotateOutcome, Step, Store, TokenSet, Watermark,
};
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;

pub(crate) fn tenant(s: &str) -> TenantId {
    TenantId::parse(s).expect("tenant id")
}

pub(crate) fn event(t: &str, id: &str, object_id: i64, last_modified: OffsetDateTime) -> NewEvent {
    let envelope = EventEnvelope {
        id: id.to_owned(),
        kind: EventKind::OrderUpdated,
        occurred_at: last_modified,
        object: EventObject {
            object_type: "ecommerce.order".to_owned(),
            id: object_id,
            guid: uuid::Uuid::new_v4(),
            last_modified,
        },
    };
    NewEvent::from_envelope(tenant(t), envelope)
}

pub(crate) async fn insert_one(
    s: &Store,
    t: &str,
    id: &str,
    object_id: i64,
) -> Result<InsertOutcome> {
    Ok(
        s.insert_event(&event(t, id, object_id, datetime!(2026-11-20 13:00 UTC)))
            .await?,
    )
}

pub(crate) fn req(owner: &str, max: usize) -> ClaimRequest {
    ClaimRequest::new(owner, Duration::from_secs(60), max)
}

pub(crate) async fn duplicate_event_is_stored_once_per_tenant(s: &Store) -> Result<()> {
    ensure!(insert_one(s, "t1", "evt_1", 1).await? == InsertOutcome::Inserted);
    ensure!(insert_one(s, "t1", "evt_1", 1).await? == InsertOutcome::Duplicate);
    ensure!(insert_one(s, "t2", "evt_1", 1).await? == InsertOutcome::Inserted);
    let rec = s
        .event_by_id(&tenant("t1"), "evt_1")
        .await?
        .context("stored")?;
    ensure!(rec.state == EventState::Queued && rec.attempts == 0);
    ensure!(rec.ordering_key == "ecommerce.order:1");
    ensure!(rec.envelope()?.id == "evt_1");
    ensure!(s.count_in_state(None, EventState::Queued).await? == 2);
    Ok(())
}

pub(crate) async fn ingestor_commits_concurrent_inserts_in_batches(s: &Store) -> Result<()> {
    let ingestor = Ingestor::spawn(s.clone(), &Default::default());
    let mut tasks = Vec::new();
    for i in 0..200 {
        let ing = ingestor.clone();
        // every tenth event is sent twice: the second is a duplicate
        let id = format!("evt_{}", i - i % 2 * usize::from(i % 10 == 1));
        tasks.push(tokio::spawn(async move {
            ing.submit(event(
                "t1",
                &id,
                i64::try_from(i).unwrap_or(0),
                datetime!(2026-11-20 13:00 UTC),
            ))
            .await
        }));
    }
    let mut inserted = 0;
    let mut duplicates = 0;
    for t in tasks {
        match t.await?? {
            InsertOutcome::Inserted => inserted += 1,
            InsertOutcome::Duplicate => duplicates += 1,
        }
    }
    ensure!(duplicates == 20, "duplicates {duplicates}");
    ensure!(inserted == 180);
    ensure!(
        s.count_in_state(Some(&tenant("t1")), EventState::Queued)
            .await?
            == 180
    );
    Ok(())
}

pub(crate) async fn later_event_of_same_object_waits_for_earlier_one(s: &Store) -> Result<()> {
    insert_one(s, "t1", "a1", 27).await?;
    insert_one(s, "t1", "a2", 27).await?;
    insert_one(s, "t1", "b1", 28).await?;
    let first = s.claim(&req("w1", 10)).await?;
    let ids: Vec<_> = first
        .iter()
        .map(|c| c.event.event_id.as_str().to_owned())
        .collect();
    ensure!(ids == ["a1", "b1"], "claimed {ids:?}");
    ensure!(
        s.claim(&req("w2", 10)).await?.is_empty(),
        "a2 must wait for a1"
    );
    let a1 = &first[0];
    ensure!(a1.event.state == EventState::Running && a1.lease.attempt == 1);
    s.complete(&a1.lease, &Outcome::default()).await?;
    let next = s.claim(&req("w2", 10)).await?;
    ensure!(next.len() == 1 && next[0].event.event_id.as_str() == "a2");
    Ok(())
}

pub(crate) async fn dead_event_releases_its_object(s: &Store) -> Result<()> {
    insert_one(s, "t1", "a1", 27).await?;
    insert_one(s, "t1", "a2", 27).await?;
    let c = s.claim(&req("w1", 10)).await?;
    ensure!(c.len() == 1);
    s.dead_letter(
        &c[0].lease,
        "validation: missing customer",
        ErrorClass::Validation,
    )
    .await?;
    let c2 = s.claim(&req("w1", 10)).await?;
    ensure!(c2.len() == 1 && c2[0].event.event_id.as_str() == "a2");
    Ok(())
}

pub(crate) async fn expired_lease_is_reclaimed_and_stale_worker_is_refused(
    s: &Store,
) -> Result<()> {
    insert_one(s, "t1", "a1", 27).await?;
    let crashed = s
        .claim(&ClaimRequest::new("w-crashed", Duration::ZERO, 1))
        .await?;
    ensure!(crashed.len() == 1);
    let again = s.claim(&req("w2", 1)).await?;
    ensure!(
        again.len() == 1 && again[0].lease.attempt == 2,
        "reclaimed after expiry"
    );
    let stale = s.complete(&crashed[0].lease, &Outcome::default()).await;
    ensure!(
        matches!(stale, Err(ferry_store::Error::LeaseLost { .. })),
        "stale worker refused"
    );
    s.complete(&again[0].lease, &Outcome::default()).await?;
    let h = s.transitions(again[0].lease.job).await?;
    ensure!(
        h.iter()
            .any(|t| t.from == EventState::Running && t.to == EventState::Running)
    );
    Ok(())
}

pub(crate) async fn retry_waits_for_next_attempt_and_keeps_each_error(s: &Store) -> Result<()> {
    insert_one(s, "t1", "a1", 27).await?;
    let c = s.claim(&req("w1", 1)).await?;
    s.retry(&c[0].lease, Duration::from_secs(3600), "freshbooks 503")
        .await?;
    ensure!(
        s.claim(&req("w1", 1)).await?.is_empty(),
        "not before next_attempt_at"
    );
    let rec = s.event(c[0].lease.job).await?;
    ensure!(
        rec.state == EventState::Retrying && rec.last_error.as_deref() == Some("freshbooks 503")
    );
    ensure!(rec.next_attempt_at > OffsetDateTime::now_utc() + Duration::from_secs(3000));
    insert_one(s, "t1", "b1", 28).await?;
    let b = s.claim(&req("w1", 1)).await?;
    s.retry(&b[0].lease, Duration::ZERO, "timeout").await?;
    let b2 = s.claim(&req("w1", 1)).await?;
    ensure!(b2.len() == 1 && b2[0].lease.attempt == 2);
    s.dead_letter(&b2[0].lease, "out of attempts", ErrorClass::Upstream)
        .await?;
    let dl = s.dead_letter_detail(b2[0].lease.job).await?;
    let errors: Vec<_> = dl.history.iter().filter_map(|t| t.error.clone()).collect();
    ensure!(
        errors == ["timeout", "out of attempts"],
        "errors {errors:?}"
    );
    Ok(())
}

pub(crate) async fn claims_take_turns_between_tenants_within_limits(s: &Store) -> Result<()> {
    for i in 0..6 {
        insert_one(s, "big", &format!("big_{i}"), i).await?;
    }
    insert_one(s, "small", "small_0", 100).await?;
    insert_one(s, "small", "small_1", 101).await?;
    let c = s.claim(&req("w1", 3)).await?;
    let tenants: Vec<_> = c
        .iter()
        .map(|c| c.event.tenant.as_str().to_owned())
        .collect();
    ensure!(
        tenants.contains(&"small".to_owned()),
        "small tenant gets a turn: {tenants:?}"
    );
    let limited = s.claim(&req("w1", 10).with_per_tenant_limit(2)).await?;
    let big_running = c
        .iter()
        .chain(&limited)
        .filter(|c| c.event.tenant.as_str() == "big")
        .count();
    ensure!(big_running == 2, "per-tenant limit 2, got {big_running}");
    let more = s
        .claim(
            &req("w1", 10)
                .with_per_tenant_limit(2)
                .with_tenant_limit(tenant("big"), 4),
        )
        .await?;
    ensure!(more.len() == 2 && more.iter().all(|c| c.event.tenant.as_str() == "big"));
    Ok(())
}

pub(crate) async fn dead_letters_can_be_shown_replayed_and_discarded(s: &Store) -> Result<()> {
    insert_one(s, "t1", "a1", 1).await?;
    insert_one(s, "t1", "b1", 2).await?;
    for c in s.claim(&req("w1", 10)).await? {
        s.dead_letter(&c.lease, "plugin rejected", ErrorClass::Plugin)
            .await?;
    }
    let dead = s.dead_letters(Some(&tenant("t1")), 100).await?;
    ensure!(dead.len() == 2);
    ensure!(s.dead_letters(Some(&tenant("t2")), 100).await?.is_empty());
    s.replay(dead[0].job, "fixed mapping").await?;
    let rec = s.event(dead[0].job).await?;
    ensure!(rec.state == EventState::Queued && rec.attempts == 0);
    ensure!(
        s.replay(dead[0].job, "again").await.is_err(),
        "only dead events replay"
    );
    s.discard(dead[1].job, "test order").await?;
    let d = s.dead_letter_detail(dead[1].job).await?;
    ensure!(d.event.state == EventState::Discarded);
    ensure!(d.history.last().and_then(|t| t.note.as_deref()) == Some("test order"));
    let again = s.claim(&req("w1", 10)).await?;
    ensure!(again.len() == 1 && again[0].lease.attempt == 1);
    Ok(())
}

pub(crate) async fn replay_all_requeues_every_dead_event_of_a_tenant(s: &Store) -> Result<()> {
    for (t, id, o) in [("t1", "a", 1), ("t1", "b", 2), ("t2", "c", 3)] {
        insert_one(s, t, id, o).await?;
    }
    for c in s.claim(&req("w1", 10)).await? {
        s.dead_letter(&c.lease, "boom", ErrorClass::Upstream)
            .await?;
    }
    ensure!(s.replay_all(Some(&tenant("t1")), "bulk").await? == 2);
    ensure!(s.count_in_state(None, EventState::Dead).await? == 1);
    ensure!(s.replay_all(None, "bulk").await? == 1);
    ensure!(s.count_in_state(None, EventState::Queued).await? == 3);
    Ok(())
}

pub(crate) async fn dead_letters_are_listed_replayed_and_discarded_by_error_class(
    s: &Store,
) -> Result<()> {
    for (t, id, o) in [
        ("t1", "a", 1),
        ("t1", "b", 2),
        ("t1", "c", 3),
        ("t2", "d", 4),
    ] {
        insert_one(s, t, id, o).await?;
    }
    let classes = [
        ErrorClass::Validation,
        ErrorClass::Plugin,
        ErrorClass::Validation,
        ErrorClass::Validation,
    ];
    let mut claimed = s.claim(&req("w1", 10)).await?;
    claimed.sort_by_key(|c| c.event.job);
    ensure!(claimed.len() == 4);
    for (c, class) in claimed.iter().zip(classes) {
        s.dead_letter(&c.lease, "refused", class).await?;
    }
    let t1_validation = DeadLetterFilter {
        tenant: Some(tenant("t1")),
        class: Some(ErrorClass::Validation),
        order_number: None,
    };
    let listed = s.dead_letters_matching(&t1_validation, 100).await?;
    ensure!(listed.len() == 2, "{listed:?}");
    ensure!(
        listed
            .iter()
            .all(|e| e.error_class == Some(ErrorClass::Validation) && e.tenant.as_str() == "t1")
    );
    let every_plugin = DeadLetterFilter {
        tenant: None,
        class: Some(ErrorClass::Plugin),
        order_number: None,
    };
    ensure!(s.dead_letters_matching(&every_plugin, 100).await?.len() == 1);

    // A replay clears the class with the state; a discard keeps it for the record.
    ensure!(s.replay_matching(&t1_validation, "bulk").await? == 2);
    let replayed = s.event(listed[0].job).await?;
    ensure!(replayed.state == EventState::Queued && replayed.error_class.is_none());
    ensure!(s.discard_matching(&every_plugin, "test orders").await? == 1);
    let discarded = s.event(claimed[1].event.job).await?;
    ensure!(discarded.state == EventState::Discarded);
    ensure!(discarded.error_class == Some(ErrorClass::Plugin));
    ensure!(
        s.count_in_state(None, EventState::Dead).await? == 1,
        "t2's is left"
    );
    Ok(())
}

pub(crate) async fn run_history_is_searchable_by_order_number_and_invoice(s: &Store) -> Result<()> {
    insert_one(s, "t1", "a1", 27).await?;
    let c = s.claim(&req("w1", 1)).await?.remove(0);
    let step = Step {
        name: "extract".into(),
        started_at: OffsetDateTime::now_utc(),
        duration: Duration::from_millis(12),
        ok: true,
        detail: serde_json::json!({"order_number": "ORD-27"}),
    };
    s.record_step(&c.lease, &step).await?;
    let outcome = Outcome {
        freshbooks: serde_json::json!({"client_id": 5, "invoice_id": 900}),
        order_number: Some("ORD-27".into()),
        invoice_id: Some("900".into()),
    };
    s.complete(&c.lease, &outcome).await?;
    let by_order = s.find_by_order_number(&tenant("t1"), "ORD-27").await?;
    ensure!(by_order.len() == 1 && by_order[0].state == EventState::Done);
    let by_invoice = s.find_by_invoice_id(&tenant("t1"), "900").await?;
    ensure!(by_invoice.len() == 1);
    ensure!(
        s.find_by_invoice_id(&tenant("t2"), "900").await?.is_empty(),
        "tenants are isolated"
    );
    let h = s.run_history(c.lease.job).await?;
    ensure!(h.steps.len() == 1 && h.steps[0].duration_ms == 12 && h.steps[0].name == "extract");
    ensure!(h.event.outcome == Some(serde_json::json!({"client_id": 5, "invoice_id": 900})));
    ensure!(
        h.transitions.iter().map(|t| t.to).collect::<Vec<_>>()
            == [EventState::Running, EventState::Done]
    );
    Ok(())
}

/// Claims every ready event (at most `n`), and settles each by its event id: `done*` completes (after one
/// recorded step), `dead*` is dead-lettered, `discarded*` is dead-lettered and then discarded.
async fn settle_by_name(s: &Store, n: usize) -> Result<()> {
    let claimed = s.claim(&req("w1", n)).await?;
    ensure!(claimed.len() == n, "claimed {} of {n}", claimed.len());
    for c in claimed {
        let id = c.event.event_id.as_str().to_owned();
        if id.starts_with("done") {
            let step = Step {
                name: "load".into(),
                started_at: OffsetDateTime::now_utc(),
                duration: Duration::from_millis(3),
                ok: true,
                detail: serde_json::json!({}),
            };
            s.record_step(&c.lease, &step).await?;
            s.complete(&c.lease, &Outcome::default()).await?;
        } else {
            s.dead_letter(&c.lease, "refused", ErrorClass::Validation)
                .await?;
            if id.starts_with("discarded") {
                s.discard(c.lease.job, "resolved by hand").await?;
            }
        }
    }
    Ok(())
}

pub(crate) async fn purge_removes_old_done_events_and_resolved_dead_letters_only(
    s: &Store,
) -> Result<()> {
    let t = tenant("t1");
    for (i, id) in ["done_old", "dead_old", "discarded_old"].iter().enumerate() {
        insert_one(s, "t1", id, i as i64 + 1).await?;
    }
    settle_by_name(s, 3).await?;
    let mut old = Vec::new();
    for id in ["done_old", "dead_old", "discarded_old"] {
        old.push(s.event_by_id(&t, id).await?.context("stored")?.job);
    }
    // The ledger entry of the old order's invoice: what keeps a redelivered old event from a second invoice.
    s.record_intent(&t, "invoice:old", "h1").await?;
    s.record_result(&t, "invoice:old", "900").await?;
    // A cutoff strictly after the old events finished and before the new ones do (finish times are milliseconds).
    tokio::time::sleep(Duration::from_millis(5)).await;
    let cutoff = OffsetDateTime::now_utc();
    tokio::time::sleep(Duration::from_millis(5)).await;
    for (i, id) in ["done_new", "discarded_new"].iter().enumerate() {
        insert_one(s, "t1", id, i as i64 + 10).await?;
    }
    settle_by_name(s, 2).await?;
    insert_one(s, "t1", "queued", 20).await?;

    // What should go, counted from what the store recorded for the two old finished events.
    let mut transitions = 0;
    for job in [old[0], old[2]] {
        transitions += s.transitions(job).await?.len() as u64;
    }
    let expected = ferry_store::PurgeReport {
        done_events: 1,
        discarded_dead_letters: 1,
        transitions,
        steps: s.run_history(old[0]).await?.steps.len() as u64,
    };
    ensure!(
        expected.steps == 1 && expected.transitions >= 4,
        "{expected:?}"
    );

    let dry = s.purge_finished(cutoff, true).await?;
    ensure!(dry == expected, "dry run: {dry:?}, expected {expected:?}");
    ensure!(
        s.event_by_id(&t, "done_old").await?.is_some(),
        "a dry run deletes nothing"
    );

    let purged = s.purge_finished(cutoff, false).await?;
    ensure!(
        purged == expected,
        "purged: {purged:?}, expected {expected:?}"
    );
    for gone in ["done_old", "discarded_old"] {
        ensure!(s.event_by_id(&t, gone).await?.is_none(), "{gone} purged");
    }
    ensure!(
        s.run_history(old[0]).await.is_err(),
        "its history went with it"
    );
    for kept in ["dead_old", "done_new", "discarded_new", "queued"] {
        ensure!(s.event_by_id(&t, kept).await?.is_some(), "{kept} kept");
    }
    let dead = s.dead_letter_detail(old[1]).await?;
    ensure!(
        dead.event.state == EventState::Dead && !dead.history.is_empty(),
        "an unresolved dead letter keeps its history"
    );
    let new_done = s.event_by_id(&t, "done_new").await?.context("kept")?;
    ensure!(s.run_history(new_done.job).await?.steps.len() == 1);
    let ledger = s
        .ledger_lookup(&t, "invoice:old")
        .await?
        .context("ledger kept")?;
    ensure!(ledger.state == LedgerState::Done && ledger.external_id.as_deref() == Some("900"));
    ensure!(
        s.purge_finished(cutoff, false).await?.is_empty(),
        "nothing left to purge"
    );
    Ok(())
}

pub(crate) async fn ledger_lookup_many_reads_the_keys_asked_of_the_tenant(s: &Store) -> Result<()> {
    let t = tenant("t1");
    s.record_intent(&t, "client:c1", "").await?;
    s.record_result(&t, "client:c1", "71").await?;
    s.record_intent(&t, "invoice:g1", "h1").await?;
    s.record_intent(&tenant("t2"), "payment:g1", "").await?;
    let keys: Vec<String> = ["client:c1", "invoice:g1", "payment:g1", "item:none"]
        .map(String::from)
        .into();
    let mut rows = s.ledger_lookup_many(&t, &keys).await?;
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let seen: Vec<(&str, LedgerState, Option<&str>, &str)> = rows
        .iter()
        .map(|e| {
            (
                e.key.as_str(),
                e.state,
                e.external_id.as_deref(),
                e.payload_hash.as_str(),
            )
        })
        .collect();
    ensure!(
        seen == [
            ("client:c1", LedgerState::Done, Some("71"), ""),
            ("invoice:g1", LedgerState::Intent, None, "h1"),
        ],
        "the tenant's rows of the keys asked, no other tenant's and none for a key without a row: {seen:?}"
    );
    ensure!(s.ledger_lookup_many(&t, &[]).await?.is_empty());
    Ok(())
}

pub(crate) async fn idempotency_ledger_records_intent_then_result(s: &Store) -> Result<()> {
    let t = tenant("t1");
    ensure!(s.ledger_lookup(&t, "invoice:g1").await?.is_none());
    let e = s.record_intent(&t, "invoice:g1", "h1").await?;
    ensure!(e.state == LedgerState::Intent && e.external_id.is_none());
    let again = s.record_intent(&t, "invoice:g1", "h2").await?;
    ensure!(again.payload_hash == "h1", "first intent kept");
    s.record_result(&t, "invoice:g1", "900").await?;
    let done = s.ledger_lookup(&t, "invoice:g1").await?.context("row")?;
    ensure!(done.state == LedgerState::Done && done.external_id.as_deref() == Some("900"));
    ensure!(s.record_intent(&t, "invoice:g1", "h3").await?.state == LedgerState::Done);
    ensure!(
        s.ledger_lookup(&tenant("t2"), "invoice:g1")
            .await?
            .is_none()
    );

    // An intent taken back (its create certainly created nothing) is gone; a result is never taken back.
    ensure!(
        s.write_intent(&t, "payment:g1", "").await?,
        "a new intent is this call's"
    );
    ensure!(
        !s.write_intent(&t, "payment:g1", "").await?,
        "an existing one is not"
    );
    s.withdraw_intent(&t, "payment:g1").await?;
    ensure!(
        s.ledger_lookup(&t, "payment:g1").await?.is_none(),
        "withdrawn"
    );
    ensure!(
        !s.write_intent(&t, "invoice:g1", "").await?,
        "a done key has its row"
    );
    s.withdraw_intent(&t, "invoice:g1").await?;
    ensure!(
        s.ledger_lookup(&t, "invoice:g1").await?.map(|e| e.state) == Some(LedgerState::Done),
        "a result stays"
    );
    Ok(())
}

/// A result held back by an attempt: the attempt sees it at once, everyone else only once it is written with the
/// attempt's next intent or its answer; an attempt whose lease is lost writes none of it (the key stays at intent,
/// an unknown outcome the next attempt searches for).
pub(crate) async fn an_attempts_held_back_result_is_written_with_its_next_write(
    s: &Store,
) -> Result<()> {
    let t = tenant("t1");
    let state = |e: Option<ferry_store::LedgerEntry>| e.map(|e| (e.state, e.external_id));
    for (i, id) in ["a1", "a2"].iter().enumerate() {
        insert_one(s, "t1", id, i as i64 + 1).await?;
    }
    let claimed = s.claim(&req("w1", 2)).await?;
    ensure!(claimed.len() == 2);
    let (first, second) = (&claimed[0].lease, &claimed[1].lease);

    // Written with the next intent.
    s.record_attempt_intent(first, &t, "invoice:g1", "").await?;
    s.record_result_with_answer(first, &t, "invoice:g1", "900");
    ensure!(
        state(s.attempt_ledger_lookup(first, &t, "invoice:g1").await?)
            == Some((LedgerState::Done, Some("900".into()))),
        "the attempt sees its own result"
    );
    ensure!(
        state(s.ledger_lookup(&t, "invoice:g1").await?) == Some((LedgerState::Intent, None)),
        "others do not, yet"
    );
    ensure!(
        state(s.attempt_ledger_lookup(second, &t, "invoice:g1").await?)
            == Some((LedgerState::Intent, None)),
        "nor does another attempt"
    );
    // Read many at once, the same way: the attempt's own result counts, a key without a row is left out.
    let many = |entries: Vec<ferry_store::LedgerEntry>| {
        entries
            .into_iter()
            .map(|e| (e.key, e.state, e.external_id))
            .collect::<Vec<_>>()
    };
    let keys = ["invoice:g1".to_owned(), "client:nobody".to_owned()];
    ensure!(
        many(s.attempt_ledger_lookup_many(first, &t, &keys).await?)
            == vec![("invoice:g1".into(), LedgerState::Done, Some("900".into()))],
        "the attempt reads its own result among many"
    );
    ensure!(
        many(s.ledger_lookup_many(&t, &keys).await?)
            == vec![("invoice:g1".into(), LedgerState::Intent, None)]
    );
    ensure!(
        many(s.ledger_lookup_many(&tenant("t2"), &keys).await?).is_empty(),
        "another tenant's keys are its own"
    );
    s.record_attempt_intent(first, &t, "payment:g1", "").await?;
    ensure!(
        state(s.ledger_lookup(&t, "invoice:g1").await?)
            == Some((LedgerState::Done, Some("900".into()))),
        "written with the next intent"
    );

    // Written with the answer.
    s.record_result_with_answer(first, &t, "payment:g1", "77");
    s.record_result_with_answer(first, &t, "invoice-state:g1", "abc INV-1");
    ensure!(state(s.ledger_lookup(&t, "payment:g1").await?) == Some((LedgerState::Intent, None)));
    s.complete(first, &Outcome::default()).await?;
    ensure!(
        state(s.ledger_lookup(&t, "payment:g1").await?)
            == Some((LedgerState::Done, Some("77".into())))
    );
    ensure!(
        state(s.ledger_lookup(&t, "invoice-state:g1").await?)
            == Some((LedgerState::Done, Some("abc INV-1".into())))
    );

    // A lost lease writes nothing it held back.
    s.complete(second, &Outcome::default()).await?;
    insert_one(s, "t1", "a3", 3).await?;
    let crashed = s
        .claim(&ClaimRequest::new("w-crashed", Duration::ZERO, 1))
        .await?;
    ensure!(crashed.len() == 1);
    let crashed = &crashed[0].lease;
    s.record_attempt_intent(crashed, &t, "invoice:g3", "")
        .await?;
    s.record_result_with_answer(crashed, &t, "invoice:g3", "901");
    let again = s.claim(&req("w2", 1)).await?;
    ensure!(again.len() == 1, "reclaimed after expiry");
    ensure!(
        s.complete(crashed, &Outcome::default()).await.is_err(),
        "stale worker refused"
    );
    ensure!(
        state(
            s.attempt_ledger_lookup(&again[0].lease, &t, "invoice:g3")
                .await?
        ) == Some((LedgerState::Intent, None)),
        "the key stays at intent"
    );
    Ok(())
}

/// A completed run that read its order as it stood at `T` answers the order's waiting events announcing changes up to
/// `T` (a checkout's paid webhook queued behind its created one); later changes and other orders still run.
pub(crate) async fn a_completed_run_answers_the_waiting_events_its_read_covered(
    s: &Store,
) -> Result<()> {
    let at = |m: u8| datetime!(2026-11-20 13:00 UTC) + time::Duration::minutes(i64::from(m));
    for (id, object, m) in [
        ("created", 7, 0),
        ("paid", 7, 1),
        ("edited", 7, 5),
        ("other", 8, 1),
    ] {
        s.insert_event(&event("t1", id, object, at(m))).await?;
    }
    let first = s.claim(&req("w1", 1)).await?.remove(0);
    ensure!(first.event.event_id.as_str() == "created");
    // The run read the order after it was paid, before the edit.
    s.covers_with_answer(&first.lease, at(2));
    s.complete(&first.lease, &Outcome::default()).await?;
    let t = tenant("t1");
    let paid = s.event_by_id(&t, "paid").await?.context("paid")?;
    ensure!(paid.state == EventState::Done, "paid: {:?}", paid.state);
    ensure!(paid.outcome == Some(serde_json::json!({"covered_by": first.lease.job.0})));
    let history = s.transitions(paid.job).await?;
    ensure!(
        history.last().is_some_and(|h| h.to == EventState::Done
            && h.note
                .as_deref()
                .is_some_and(|n| n.contains("covered by event"))),
        "{history:?}"
    );
    for later in ["edited", "other"] {
        let e = s.event_by_id(&t, later).await?.context("stored")?;
        ensure!(e.state == EventState::Queued, "{later}: {:?}", e.state);
    }
    // A later change of the order, and another order, are not covered: their claims say so.
    let next = s.claim(&req("w1", 2)).await?;
    ensure!(next.len() == 2);
    ensure!(
        next.iter().all(|c| c.covered_by.is_none()),
        "a later change, another order"
    );
    let edited = next
        .iter()
        .find(|c| c.event.event_id.as_str() == "edited")
        .context("edited")?;
    // A run that does not complete covers nothing.
    s.covers_with_answer(&edited.lease, at(9));
    s.retry(&edited.lease, Duration::from_secs(0), "kentico timed out")
        .await?;
    ensure!(s.event_by_id(&t, "edited").await?.context("edited")?.state == EventState::Retrying);
    // An event arriving after the run finished is answered by it when its change is one the run saw: its claim
    // names the run and the order number it found.
    s.insert_event(&event("t1", "nine", 9, at(0))).await?;
    let nine = claimed_by_id(s, "nine").await?;
    s.covers_with_answer(&nine.lease, at(4));
    s.complete(
        &nine.lease,
        &Outcome {
            order_number: Some("N-9".into()),
            ..Outcome::default()
        },
    )
    .await?;
    s.insert_event(&event("t1", "nine-seen", 9, at(3))).await?;
    let seen = claimed_by_id(s, "nine-seen").await?;
    ensure!(
        seen.covered_by == Some((nine.lease.job, Some("N-9".into()))),
        "a change the run saw: {:?}",
        seen.covered_by
    );
    s.complete(&seen.lease, &Outcome::default()).await?;
    s.insert_event(&event("t1", "nine-later", 9, at(5))).await?;
    let later = claimed_by_id(s, "nine-later").await?;
    ensure!(later.covered_by.is_none(), "a change after the run's read");
    Ok(())
}

/// Claims what is ready and returns the claim of the event with `id` (the test's other events stay claimed).
async fn claimed_by_id(s: &Store, id: &str) -> Result<Claimed> {
    s.claim(&req("w1", 10))
        .await?
        .into_iter()
        .find(|c| c.event.event_id.as_str() == id)
        .with_context(|| format!("{id} claimed"))
}

pub(crate) async fn id_mappings_round_trip(s: &Store) -> Result<()> {
    let t = tenant("t1");
    ensure!(
        s.mapping(&t, MappingKind::Client, "cust-1")
            .await?
            .is_none()
    );
    s.put_mapping(&t, MappingKind::Client, "cust-1", "fb-5")
        .await?;
    s.put_mapping(&t, MappingKind::Item, "cust-1", "fb-9")
        .await?;
    ensure!(
        s.mapping(&t, MappingKind::Client, "cust-1")
            .await?
            .as_deref()
            == Some("fb-5")
    );
    s.put_mapping(&t, MappingKind::Client, "cust-1", "fb-6")
        .await?;
    ensure!(
        s.mapping(&t, MappingKind::Client, "cust-1")
            .await?
            .as_deref()
            == Some("fb-6")
    );
    ensure!(s.mapping(&t, MappingKind::Item, "cust-1").await?.as_deref() == Some("fb-9"));
    Ok(())
}

pub(crate) async fn watermarks_only_move_forward_and_coverage_is_reported(s: &Store) -> Result<()> {
    let t = tenant("t1");
    let wm = |lm, id| Watermark {
        last_modified: lm,
        last_id: id,
    };
    ensure!(s.watermark(&t, "ecommerce.order").await?.is_none());
    ensure!(
        s.advance_watermark(
            &t,
            "ecommerce.order",
            wm(datetime!(2026-11-20 13:00 UTC), 5)
        )
        .await?
    );
    ensure!(
        !s.advance_watermark(
            &t,
            "ecommerce.order",
            wm(datetime!(2026-11-20 12:00 UTC), 9)
        )
        .await?
    );
    ensure!(
        s.advance_watermark(
            &t,
            "ecommerce.order",
            wm(datetime!(2026-11-20 13:00 UTC), 6)
        )
        .await?
    );
    let cur = s
        .watermark(&t, "ecommerce.order")
        .await?
        .context("watermark")?;
    ensure!(cur == wm(datetime!(2026-11-20 13:00 UTC), 6));
    s.insert_event(&event("t1", "e1", 27, datetime!(2026-11-20 13:00 UTC)))
        .await?;
    ensure!(
        s.event_covers(&t, "ecommerce.order", 27, datetime!(2026-11-20 12:59 UTC))
            .await?
    );
    ensure!(
        s.event_covers(&t, "ecommerce.order", 27, datetime!(2026-11-20 13:00 UTC))
            .await?
    );
    ensure!(
        !s.event_covers(&t, "ecommerce.order", 27, datetime!(2026-11-20 13:01 UTC))
            .await?
    );
    ensure!(
        !s.event_covers(&t, "ecommerce.order", 28, datetime!(2026-11-20 12:00 UTC))
            .await?
    );
    Ok(())
}

pub(crate) async fn token_rotation_is_compare_and_swap(s: &Store) -> Result<()> {
    let t = tenant("t1");
    let set = |a: &[u8], r: &[u8]| TokenSet {
        access_token: a.to_vec(),
        refresh_token: r.to_vec(),
        expires_at: datetime!(2026-11-20 14:00 UTC),
    };
    s.put_tokens(&t, "acct", &set(b"\x01a1", b"\x02r1")).await?;
    ensure!(
        s.rotate_tokens(&t, "acct", b"\x02r1", &set(b"a2", b"r2"))
            .await?
            == RotateOutcome::Rotated
    );
    let lost = s
        .rotate_tokens(&t, "acct", b"\x02r1", &set(b"a3", b"r3"))
        .await?;
    ensure!(
        lost == RotateOutcome::Conflict {
            current: Some(set(b"a2", b"r2"))
        },
        "second rotation loses"
    );
    ensure!(s.tokens(&t, "acct").await? == Some(set(b"a2", b"r2")));
    ensure!(s.refresh_token_used(&t, "acct", b"\x02r1").await?);
    ensure!(!s.refresh_token_used(&t, "acct", b"r2").await?);
    ensure!(
        s.rotate_tokens(&t, "other", b"x", &set(b"a", b"r")).await?
            == RotateOutcome::Conflict { current: None }
    );
    // A host starting late seeds the configured (spent) pair: the rotated one stays.
    ensure!(!s.seed_tokens(&t, "acct", &set(b"", b"\x02r1")).await?);
    ensure!(
        s.tokens(&t, "acct").await? == Some(set(b"a2", b"r2")),
        "seeding never overwrites"
    );
    ensure!(
        s.seed_tokens(&t, "fresh", &set(b"", b"r0")).await?,
        "a new account is seeded"
    );
    ensure!(s.tokens(&t, "fresh").await? == Some(set(b"", b"r0")));
    Ok(())
}

pub(crate) async fn resealing_tokens_swaps_ciphertexts_only_over_what_was_read(
    s: &Store,
) -> Result<()> {
    let (t1, t2) = (tenant("t1"), tenant("t2"));
    let set = |a: &[u8], r: &[u8]| TokenSet {
        access_token: a.to_vec(),
        refresh_token: r.to_vec(),
        expires_at: datetime!(2026-11-20 14:00 UTC),
    };
    s.put_tokens(&t2, "b", &set(b"a0", b"r0")).await?;
    s.put_tokens(&t1, "a", &set(b"a1", b"r1")).await?;
    let all = s.all_tokens().await?;
    ensure!(
        all == [
            (t1.clone(), "a".to_owned(), set(b"a1", b"r1")),
            (t2.clone(), "b".to_owned(), set(b"a0", b"r0"))
        ],
        "every pair, by tenant: {all:?}"
    );
    ensure!(
        !s.reseal_tokens(&t1, "a", &set(b"a1", b"stale"), &set(b"A1", b"R1"))
            .await?,
        "a pair rotated since it was read is left alone"
    );
    ensure!(
        s.reseal_tokens(&t1, "a", &set(b"a1", b"r1"), &set(b"A1", b"R1"))
            .await?
    );
    ensure!(s.tokens(&t1, "a").await? == Some(set(b"A1", b"R1")));
    ensure!(
        !s.refresh_token_used(&t1, "a", b"r1").await?,
        "re-sealing spends no refresh token"
    );
    Ok(())
}

pub(crate) async fn kv_stores_opaque_blobs(s: &Store) -> Result<()> {
    s.kv_put("tenant_config", "t1", br#"{"a":1}"#).await?;
    s.kv_put("secrets", "t1", &[0, 159, 146, 150]).await?;
    ensure!(s.kv_get("secrets", "t1").await?.as_deref() == Some(&[0u8, 159, 146, 150][..]));
    ensure!(s.kv_keys("tenant_config").await? == ["t1"]);
    ensure!(s.kv_delete("secrets", "t1").await?);
    ensure!(s.kv_get("secrets", "t1").await?.is_none());
    Ok(())
}

pub(crate) async fn extended_lease_is_not_reclaimed(s: &Store) -> Result<()> {
    insert_one(s, "t1", "a1", 27).await?;
    let c = s
        .claim(&ClaimRequest::new("w1", Duration::from_millis(300), 1))
        .await?;
    ensure!(c.len() == 1);
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        s.extend_lease(&c[0].lease, Duration::from_millis(300))
            .await?;
        ensure!(
            s.claim(&req("w2", 1)).await?.is_empty(),
            "a heartbeating lease is never taken over"
        );
    }
    s.complete(&c[0].lease, &Outcome::default()).await?;
    ensure!(
        s.extend_lease(&c[0].lease, Duration::from_secs(1))
            .await
            .is_err(),
        "no heartbeat after the answer"
    );
    Ok(())
}

pub(crate) async fn waiting_worker_wakes_on_insert_and_times_out_when_idle(
    s: &Store,
) -> Result<()> {
    let mut waiter = s.work_waiter();
    // Let any signal raised while the store started (Postgres: the listener connecting) pass first.
    while waiter.wait(Duration::from_millis(300)).await {}
    let started = std::time::Instant::now();
    ensure!(
        !waiter.wait(Duration::from_millis(200)).await,
        "no work, no wake-up"
    );
    ensure!(started.elapsed() >= Duration::from_millis(200));
    // A signal raised while the worker is busy is kept for its next wait.
    insert_one(s, "t1", "a1", 27).await?;
    let started = std::time::Instant::now();
    ensure!(waiter.wait(Duration::from_secs(10)).await, "insert wakes");
    ensure!(started.elapsed() < Duration::from_secs(5));
    // Finishing an event wakes waiters only when a later event of its object was waiting for it.
    insert_one(s, "t1", "a2", 27).await?;
    while waiter.wait(Duration::from_millis(300)).await {}
    let c = s.claim(&req("w1", 1)).await?;
    ensure!(c.len() == 1);
    let store = s.clone();
    let wait = tokio::spawn(async move {
        let mut w = store.work_waiter();
        w.wait(Duration::from_secs(10)).await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.complete(&c[0].lease, &Outcome::default()).await?;
    ensure!(wait.await?, "a2 became ready");
    Ok(())
}

/// An event that arrives while an earlier event of its object is unfinished cannot run yet: on SQLite (one host,
/// commits in one order) its insert does not wake the idle workers for a claim that would find nothing; the
/// earlier event's answer wakes them. On Postgres another host may answer the earlier event while the insert
/// commits, so every insert wakes.
pub(crate) async fn an_event_queued_behind_its_object_wakes_nobody_until_it_can_run(
    s: &Store,
) -> Result<()> {
    let mut waiter = s.work_waiter();
    while waiter.wait(Duration::from_millis(300)).await {}
    insert_one(s, "t1", "first", 31).await?;
    ensure!(
        waiter.wait(Duration::from_secs(10)).await,
        "a runnable event wakes"
    );
    let c = s.claim(&req("w1", 1)).await?;
    ensure!(c.len() == 1);
    while waiter.wait(Duration::from_millis(300)).await {}
    insert_one(s, "t1", "second", 31).await?;
    let woke = waiter.wait(Duration::from_millis(300)).await;
    match s.backend() {
        ferry_store::Backend::Sqlite => {
            ensure!(!woke, "the second event waits for the first: no wake")
        }
        ferry_store::Backend::Postgres => ensure!(woke, "Postgres wakes on every insert"),
    }
    // Another object's event can run at once: it wakes.
    insert_one(s, "t1", "other", 32).await?;
    if s.backend() == ferry_store::Backend::Sqlite {
        // A claim made now reads the insert: taking the signal as covered leaves nothing to wake for.
        let mut claimer = waiter.clone();
        claimer.covered();
        ensure!(
            !claimer.wait(Duration::from_millis(200)).await,
            "a signal raised before the claim is answered by it"
        );
    }
    ensure!(
        waiter.wait(Duration::from_secs(10)).await,
        "another object's event wakes"
    );
    while waiter.wait(Duration::from_millis(300)).await {}
    // The first event's answer releases the second: that wakes.
    s.complete(&c[0].lease, &Outcome::default()).await?;
    ensure!(
        waiter.wait(Duration::from_secs(10)).await,
        "the answer releases the second"
    );
    let next = s.claim(&req("w1", 2)).await?;
    ensure!(
        next.len() == 2,
        "both waiting events run now: {}",
        next.len()
    );
    Ok(())
}

pub(crate) async fn refresh_lock_admits_one_holder_at_a_time(s: &Store) -> Result<()> {
    let t = tenant("t1");
    let held = s
        .lock_refresh(&t, "acct", Duration::ZERO)
        .await?
        .context("free lock")?;
    ensure!(
        s.lock_refresh(&t, "acct", Duration::ZERO).await?.is_none(),
        "held: try fails"
    );
    ensure!(
        s.lock_refresh(&t, "acct", Duration::from_millis(100))
            .await?
            .is_none(),
        "held: wait times out"
    );
    let other = s
        .lock_refresh(&t, "other", Duration::ZERO)
        .await?
        .context("another account is independent")?;
    other.release().await?;
    let store = s.clone();
    let t2 = t.clone();
    let waiting = tokio::spawn(async move {
        store
            .lock_refresh(&t2, "acct", Duration::from_secs(10))
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    held.release().await?;
    let next = waiting.await??.context("granted once released")?;
    // Dropping the guard releases too.
    drop(next);
    let mut again = None;
    for _ in 0..50 {
        again = s
            .lock_refresh(&t, "acct", Duration::from_millis(100))
            .await?;
        if again.is_some() {
            break;
        }
    }
    ensure!(again.is_some(), "released on drop");
    Ok(())
}

pub(crate) async fn create_locks_are_per_key_and_apart_from_refresh_locks(s: &Store) -> Result<()> {
    let t = tenant("t1");
    let held = s
        .lock_create(&t, "t1:client:abc", Duration::ZERO)
        .await?
        .context("free lock")?;
    ensure!(
        s.lock_create(&t, "t1:client:abc", Duration::from_millis(50))
            .await?
            .is_none(),
        "a second find-or-create of the same client waits"
    );
    let refresh = s
        .lock_refresh(&t, "t1:client:abc", Duration::ZERO)
        .await?
        .context("refresh locks are another namespace")?;
    refresh.release().await?;
    let item = s
        .lock_create(&t, "t1:item:SKU-1", Duration::ZERO)
        .await?
        .context("another key is independent")?;
    item.release().await?;
    let store = s.clone();
    let t2 = t.clone();
    let waiting = tokio::spawn(async move {
        store
            .lock_create(&t2, "t1:client:abc", Duration::from_secs(10))
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    held.release().await?;
    ensure!(
        waiting.await??.is_some(),
        "the waiter gets the lock once released"
    );
    Ok(())
}

pub(crate) async fn rate_slots_allow_limit_calls_per_window(s: &Store) -> Result<()> {
    // A day-long window: the test never straddles two windows.
    let day = Duration::from_secs(86_400);
    for i in 0..5 {
        ensure!(
            s.take_rate_slot("fb:acct", 5, day).await?.is_none(),
            "slot {i}"
        );
    }
    let wait = s
        .take_rate_slot("fb:acct", 5, day)
        .await?
        .context("budget spent")?;
    ensure!(wait > Duration::ZERO && wait <= day, "wait {wait:?}");
    ensure!(
        s.take_rate_slot("fb:other", 5, day).await?.is_none(),
        "keys are independent"
    );
    ensure!(s.take_rate_slot("fb:zero", 0, day).await?.is_some());
    // A short window refills.
    let short = Duration::from_millis(200);
    while s.take_rate_slot("fb:short", 1, short).await?.is_none() {}
    let wait = s
        .take_rate_slot("fb:short", 1, short)
        .await?
        .context("spent")?;
    ensure!(wait <= short);
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    ensure!(
        s.take_rate_slot("fb:short", 1, short).await?.is_none(),
        "next window"
    );
    Ok(())
}

pub(crate) async fn order_history_reads_back_recent_orders_without_the_one_checked(
    s: &Store,
) -> Result<()> {
    let t1 = tenant("t1");
    let synced =
        |guid: &str, currency: &str, total: &str, country: &str| ferry_store::SyncedOrder {
            order_guid: guid.to_owned(),
            currency: currency.to_owned(),
            total: total.parse().expect("decimal"),
            max_quantity: 2,
            customer: "email:ada@example.com".to_owned(),
            country: country.to_owned(),
        };
    s.record_synced_order(&t1, &synced("a", "EUR", "700.10", "DE"))
        .await?;
    s.record_synced_order(&t1, &synced("b", "EUR", "650", "FR"))
        .await?;
    s.record_synced_order(&t1, &synced("c", "USD", "99.99", "US"))
        .await?;
    // An edit of "a" updates its figures, not its place.
    s.record_synced_order(&t1, &synced("a", "EUR", "710.25", "DE"))
        .await?;
    s.record_synced_order(&tenant("t2"), &synced("z", "EUR", "1", "IT"))
        .await?;
    let h = s
        .order_history(&t1, "new", "EUR", "email:ada@example.com", 10)
        .await?;
    ensure!(!h.seen);
    let totals: Vec<String> = h.totals.iter().map(ToString::to_string).collect();
    ensure!(totals.len() == 2, "{totals:?}");
    ensure!(
        totals.contains(&"710.25".to_owned()) && totals.contains(&"650".to_owned()),
        "{totals:?}"
    );
    ensure!(h.max_quantities.len() == 3, "{:?}", h.max_quantities);
    ensure!(
        h.customer_countries == ["DE", "FR", "US"],
        "{:?}",
        h.customer_countries
    );
    let limited = s
        .order_history(&t1, "new", "EUR", "email:ada@example.com", 1)
        .await?;
    ensure!(limited.totals.len() == 1 && limited.max_quantities.len() == 1);
    // The order checked is never its own history.
    let a = s
        .order_history(&t1, "a", "EUR", "email:ada@example.com", 10)
        .await?;
    ensure!(a.seen && a.totals.len() == 1 && a.customer_countries == ["FR", "US"]);
    Ok(())
}

pub(crate) async fn a_held_event_is_released_by_its_replay_only(s: &Store) -> Result<()> {
    insert_one(s, "t1", "held", 1).await?;
    insert_one(s, "t1", "other", 2).await?;
    let claimed = s.claim(&req("w1", 10)).await?;
    ensure!(claimed.len() == 2);
    let (held, other) = (claimed[0].lease.job, claimed[1].lease.job);
    s.hold_for_review(held).await?;
    s.hold_for_review(held).await?;
    ensure!(!s.released_from_review(held).await?, "held, not released");
    for c in &claimed {
        s.dead_letter(&c.lease, "held for review", ErrorClass::Review)
            .await?;
    }
    ensure!(!s.released_from_review(held).await?, "dead, not released");
    s.replay(other, "not held").await?;
    ensure!(!s.released_from_review(other).await?, "an event never held");
    ensure!(!s.released_from_review(held).await?, "another replay");
    s.replay(held, "reviewed").await?;
    ensure!(
        s.released_from_review(held).await?,
        "released by its replay"
    );
    // Bulk replay releases too.
    insert_one(s, "t1", "held2", 3).await?;
    let c = s
        .claim(&req("w1", 10))
        .await?
        .into_iter()
        .find(|c| c.lease.job != held && c.lease.job != other)
        .context("claimed")?;
    s.hold_for_review(c.lease.job).await?;
    s.dead_letter(&c.lease, "held for review", ErrorClass::Review)
        .await?;
    ensure!(s.replay_all(Some(&tenant("t1")), "bulk").await? == 1);
    ensure!(s.released_from_review(c.lease.job).await?);
    Ok(())
}

/// A claim says a tenant's running limit held events back only when an event of the tenant could have run but for
/// the limit: the worker claims again as soon as one of its events finishes only then (an empty claim is a write
/// transaction for nothing). An event that waits behind a running event of its object is not held back by the
/// limit: the running event's answer releases it, and that wakes the worker.
pub(crate) async fn a_claim_says_held_back_only_when_the_limit_kept_a_runnable_event(
    s: &Store,
) -> Result<()> {
    let limited = || req("w1", 4).with_tenant_limit(tenant("t1"), 1);
    insert_one(s, "t1", "a", 41).await?;
    insert_one(s, "t1", "b", 42).await?;
    let first = s.claim_batch(&limited(), None).await?;
    ensure!(first.events.len() == 1, "the limit lets one run");
    ensure!(first.held_back, "b could run but for the limit");

    s.complete(&first.events[0].lease, &Outcome::default())
        .await?;
    let second = s.claim_batch(&limited(), None).await?;
    ensure!(second.events.len() == 1, "b runs once a finishes");
    ensure!(
        !second.held_back,
        "nothing else is ready: the limit held nothing back"
    );

    // c waits behind b (the same object), not for the limit.
    insert_one(s, "t1", "c", 42).await?;
    let third = s.claim_batch(&limited(), None).await?;
    ensure!(third.events.is_empty(), "c waits for b");
    ensure!(
        !third.held_back,
        "c waits for its object, not for the limit"
    );

    // d (another object) could run but for the limit.
    insert_one(s, "t1", "d", 43).await?;
    let fourth = s.claim_batch(&limited(), None).await?;
    ensure!(
        fourth.events.is_empty() && fourth.held_back,
        "d waits for the limit"
    );
    Ok(())
}

/// A claim that waited for SQLite's writer while a webhook batch was being committed reads that batch, so the batch's
/// signal is answered by the claim: the worker's next wait does not end at once for a claim that would find
/// nothing (each such claim is a write transaction for nothing). The waiter is covered once the claim holds the
/// writer, not before it waits for it.
pub(crate) async fn a_claim_answers_the_signal_of_a_commit_it_waited_for(s: &Store) -> Result<()> {
    if s.backend() != ferry_store::Backend::Sqlite {
        // Postgres claims do not wait for inserts (no single writer); its waiter is covered before the claim.
        return Ok(());
    }
    let mut waiter = s.work_waiter();
    // A batch large enough to hold the writer while the claim below starts and waits for it.
    let batch: Vec<NewEvent> = (0..20_000)
        .map(|i| {
            event(
                "t1",
                &format!("bulk-{i}"),
                100 + i,
                datetime!(2026-11-20 13:00 UTC),
            )
        })
        .collect();
    let inserting = {
        let s = s.clone();
        tokio::spawn(async move { s.insert_batch(&batch).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    ensure!(
        !inserting.is_finished(),
        "the batch still holds the writer (the test needs it to)"
    );
    let claimed = s.claim_batch(&req("w1", 4), Some(&mut waiter)).await?;
    ensure!(claimed.events.len() == 4, "the claim read the batch");
    ensure!(
        !waiter.wait(Duration::from_millis(300)).await,
        "the batch's signal was answered by the claim that read it"
    );
    inserting.await??;
    Ok(())
}
