//! The payment write-back's rows (migration 0021) on both backends: FreshBooks callbacks with their sealed verifier
//! (which may arrive before the registration's reply) and verification; the ledger keys that name a FreshBooks id
//! (how an invoice's Kentico order and Ferry's own payments are told); a payment's events found by its id; and the
//! count of callback events already started (the callback dedupe window).

use crate::suite::{req, tenant};
use anyhow::{Result, ensure};
use ferry_model::{EventEnvelope, EventKind, EventObject};
use ferry_store::{InsertOutcome, NewEvent, Outcome, Store};
use time::macros::datetime;

pub(crate) async fn callbacks_keep_their_sealed_verifier_until_deleted(s: &Store) -> Result<()> {
    let (shop, other) = (tenant("shop"), tenant("other"));
    // The handshake overtook the registration's reply: the verifier first, the registration after.
    s.put_callback_verifier(&shop, 1001, b"sealed-1").await?;
    s.put_callback(
        &shop,
        1001,
        "acct",
        "payment.create",
        "https://h/hooks/freshbooks/shop",
    )
    .await?;
    s.put_callback(
        &shop,
        1002,
        "acct",
        "payment.update",
        "https://h/hooks/freshbooks/shop",
    )
    .await?;
    s.put_callback(
        &other,
        1001,
        "acct2",
        "payment.create",
        "https://h/hooks/freshbooks/other",
    )
    .await?;
    let cbs = s.callbacks(&shop).await?;
    ensure!(cbs.len() == 2, "{cbs:?}");
    ensure!(
        cbs[0].callback_id == 1001 && cbs[0].event == "payment.create" && cbs[0].account == "acct"
    );
    ensure!(cbs[0].verifier.as_deref() == Some(&b"sealed-1"[..]) && !cbs[0].verified);
    ensure!(cbs[1].verifier.is_none());

    // Registered again (a new URL): the verifier stays. Verified, then one deleted.
    s.put_callback(
        &shop,
        1001,
        "acct",
        "payment.create",
        "https://new/hooks/freshbooks/shop",
    )
    .await?;
    s.mark_callback_verified(&shop, 1001).await?;
    s.delete_callback(&shop, 1002).await?;
    let cbs = s.callbacks(&shop).await?;
    ensure!(cbs.len() == 1, "{cbs:?}");
    ensure!(cbs[0].uri == "https://new/hooks/freshbooks/shop" && cbs[0].verified);
    ensure!(cbs[0].verifier.as_deref() == Some(&b"sealed-1"[..]));
    let theirs = s.callbacks(&other).await?;
    ensure!(
        theirs.len() == 1 && !theirs[0].verified,
        "tenants are apart: {theirs:?}"
    );
    Ok(())
}

pub(crate) async fn ledger_keys_are_found_by_freshbooks_id_once_done(s: &Store) -> Result<()> {
    let shop = tenant("shop");
    s.record_intent(&shop, "shop:invoice:g1", "h").await?;
    s.record_result(&shop, "shop:invoice:g1", "900").await?;
    s.record_intent(&shop, "shop:payment:g1", "h").await?;
    s.record_result(&shop, "shop:payment:g1", "900").await?;
    // An intent without a result names no id yet.
    s.record_intent(&shop, "shop:invoice:g2", "h").await?;
    s.record_intent(&tenant("other"), "other:invoice:g3", "h")
        .await?;
    s.record_result(&tenant("other"), "other:invoice:g3", "900")
        .await?;
    let keys = s.ledger_keys_for(&shop, "900").await?;
    ensure!(keys == ["shop:invoice:g1", "shop:payment:g1"], "{keys:?}");
    ensure!(s.ledger_keys_for(&shop, "901").await?.is_empty());
    Ok(())
}

/// A `payment.*` event for FreshBooks payment `payment_id`.
fn payment_event(id: &str, kind: EventKind, payment_id: i64) -> NewEvent {
    let at = datetime!(2026-12-05 10:00 UTC);
    NewEvent::from_envelope(
        tenant("shop"),
        EventEnvelope {
            id: id.to_owned(),
            kind,
            occurred_at: at,
            object: EventObject {
                object_type: "freshbooks.payment".to_owned(),
                id: payment_id,
                guid: uuid::Uuid::nil(),
                last_modified: at,
            },
        },
    )
}

pub(crate) async fn a_payments_events_are_found_by_its_id_and_started_ones_counted(
    s: &Store,
) -> Result<()> {
    let shop = tenant("shop");
    for (id, kind) in [
        ("cb-1", EventKind::PaymentCreated),
        ("cb-2", EventKind::PaymentUpdated),
    ] {
        ensure!(s.insert_event(&payment_event(id, kind, 40)).await? == InsertOutcome::Inserted);
    }
    s.insert_event(&payment_event("cb-3", EventKind::PaymentCreated, 41))
        .await?;
    let key = "freshbooks.payment:40";
    ensure!(
        s.started_events(&shop, key, "payment.create").await? == 0,
        "queued, untouched"
    );

    // The first event of payment 40 runs: one started; the update still waits behind it.
    let c = s.claim(&req("w1", 1)).await?.remove(0);
    ensure!(c.event.event_id.as_str() == "cb-1");
    ensure!(s.started_events(&shop, key, "payment.create").await? == 1);
    s.complete(&c.lease, &Outcome::default()).await?;
    ensure!(s.started_events(&shop, key, "payment.create").await? == 1);
    ensure!(s.started_events(&shop, key, "payment.update").await? == 0);

    let events = s.find_by_object(&shop, "freshbooks.payment", 40).await?;
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    ensure!(ids == ["cb-2", "cb-1"], "newest first: {ids:?}");
    ensure!(
        s.find_by_object(&tenant("other"), "freshbooks.payment", 40)
            .await?
            .is_empty()
    );
    Ok(())
}

rows_on_both_backends!(callback_rows:
    callbacks_keep_their_sealed_verifier_until_deleted,
    ledger_keys_are_found_by_freshbooks_id_once_done,
    a_payments_events_are_found_by_its_id_and_started_ones_counted,
);
