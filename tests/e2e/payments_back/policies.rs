//! Partial payments and refunds written back by the tenant's `[tenants.payments]` policy, end to end over real
//! HTTP: a deposit moves the Kentico order to `partial_status`; the rest marks it paid with `paid_status`; the rest
//! deleted in FreshBooks, or a payment lowered to zero (a refund by hand), clears `OrderIsPaid` and moves the order
//! to `refunded_status`. Without those two settings a deposit and a refund write nothing: only a fully paid invoice
//! marks the order paid. Counted from the Kentico simulator's orders and the writes its REST service accepted,
//! while FreshBooks sends half of its callbacks twice.

use super::{
    UNPAID, as_owner, callbacks_verified, invoice_of, kentico_writes, order_becomes,
    record_payment, settled, writeback_app, writeback_app_with,
};
use ferry_sim::freshbooks::CallbackFaults;
use ferry_tests::{TestApp, assert_exactly_once};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::json;

/// Half of every callback delivered twice: a change is still written once.
fn duplicates(app: &TestApp) {
    app.sandbox.freshbooks.set_callback_faults(CallbackFaults {
        duplicate: 0.5,
        ..CallbackFaults::default()
    });
}

/// Deletes a payment in FreshBooks, as a person undoing it would.
async fn delete_payment(app: &TestApp, id: u64) -> anyhow::Result<()> {
    let body = json!({"payment": {"vis_state": 1}});
    as_owner(app, Method::PUT, Some(id), body).await.map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_the_rest_and_refunds_move_the_kentico_order_as_the_tenant_maps_them()
-> anyhow::Result<()> {
    let app = writeback_app_with(63, |p| {
        p.partial_status = Some("InProgress".into());
        p.refunded_status = Some("PaymentFailed".into());
    })
    .await?;
    callbacks_verified(&app).await?;
    duplicates(&app);
    let placed = app.place(0..3, &UNPAID).await;
    assert_exactly_once(&app.settle(&placed).await?);
    let [deposit, refunded, untouched] = [0, 1, 2].map(|i| placed[i].order.id);

    // A deposit: partly paid. Then the rest: paid. Then the rest deleted: paid no longer.
    let (invoice, amount) = invoice_of(&app, &placed[0]);
    let half = (amount / Decimal::TWO).round_dp(2);
    record_payment(&app, invoice, &half.to_string()).await?;
    order_becomes(&app, deposit, false, "InProgress").await?;
    let rest = record_payment(&app, invoice, &(amount - half).to_string()).await?;
    order_becomes(&app, deposit, true, "PaymentReceived").await?;
    delete_payment(&app, rest).await?;
    order_becomes(&app, deposit, false, "PaymentFailed").await?;

    // Paid in full, then refunded by hand: the payment lowered to zero.
    let (invoice, amount) = invoice_of(&app, &placed[1]);
    let paid = record_payment(&app, invoice, &amount.to_string()).await?;
    order_becomes(&app, refunded, true, "PaymentReceived").await?;
    let body = json!({"payment": {"amount": {"amount": "0.00"}, "note": "Payment refunded"}});
    as_owner(&app, Method::PUT, Some(paid), body).await?;
    order_becomes(&app, refunded, false, "PaymentFailed").await?;

    // One write per change, whatever FreshBooks sent twice; none for the order nobody paid.
    let writes = kentico_writes(&app);
    assert_eq!(writes.get(&deposit), Some(&3), "{writes:?}");
    assert_eq!(writes.get(&refunded), Some(&2), "{writes:?}");
    assert_eq!(writes.len(), 2, "{writes:?}");
    let o = app.sandbox.kentico.order(untouched).expect("order");
    assert!(!o.is_paid && o.status == "New", "{o:?}");
    assert!(app.sandbox.freshbooks.callback_stats().duplicated > 0);
    app.stop().await;
    Ok(())
}

/// A refund mapped to a status that also reverses the sale (`ferry.example.toml`'s `refunded_status = "Returned"`,
/// one of the default `cancelled_statuses`): Ferry's write makes the order cancelled in Kentico, the order's sync
/// then spends a credit note on the refunded invoice (`sent_cancellation`), and the credit's own FreshBooks callback
/// writes nothing back, because a cancelled order is never touched. Nothing goes back and forth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_mapped_to_a_cancelled_status_credits_the_invoice_once_and_goes_no_further()
-> anyhow::Result<()> {
    let app = writeback_app_with(65, |p| p.refunded_status = Some("Returned".into())).await?;
    callbacks_verified(&app).await?;
    duplicates(&app);
    let placed = app.place(0..1, &UNPAID).await;
    assert_exactly_once(&app.settle(&placed).await?);
    let id = placed[0].order.id;
    let (invoice, amount) = invoice_of(&app, &placed[0]);
    let paid = record_payment(&app, invoice, &amount.to_string()).await?;
    order_becomes(&app, id, true, "PaymentReceived").await?;
    let body = json!({"payment": {"amount": {"amount": "0.00"}, "note": "Payment refunded"}});
    as_owner(&app, Method::PUT, Some(paid), body).await?;
    order_becomes(&app, id, false, "Returned").await?;
    // Let any echo show itself: more callbacks, more events, more writes.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    settled(&app).await?;

    let o = app.sandbox.kentico.order(id).expect("order");
    assert!(!o.is_paid && o.status == "Returned", "{o:?}");
    assert_eq!(
        kentico_writes(&app).get(&id),
        Some(&2),
        "paid, then refunded"
    );
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&app.sandbox.account_id, invoice)
        .expect("invoice");
    let credits: Vec<_> = view
        .payments
        .iter()
        .filter(|p| p.vis_state == 0 && p.from_credit)
        .collect();
    assert_eq!(
        credits.len(),
        1,
        "one credit note spent on the invoice: {credits:?}"
    );
    assert_eq!(credits[0].amount.amount.parse::<Decimal>()?, amount);
    assert!(view.outstanding.is_zero(), "{view:?}");
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_policy_a_deposit_and_a_refund_leave_the_kentico_order_as_it_is()
-> anyhow::Result<()> {
    let app = writeback_app(64).await?;
    callbacks_verified(&app).await?;
    duplicates(&app);
    let placed = app.place(0..1, &UNPAID).await;
    assert_exactly_once(&app.settle(&placed).await?);
    let id = placed[0].order.id;
    let kentico = app.sandbox.kentico.clone();
    let state = || {
        let o = kentico.order(id).expect("order");
        (o.is_paid, o.status)
    };

    // A deposit: the callback arrives and its event runs, and the order stays unpaid and new.
    let (invoice, amount) = invoice_of(&app, &placed[0]);
    let half = (amount / Decimal::TWO).round_dp(2);
    let delivered = app.sandbox.freshbooks.callback_stats().delivered;
    record_payment(&app, invoice, &half.to_string()).await?;
    settled(&app).await?;
    assert!(app.sandbox.freshbooks.callback_stats().delivered > delivered);
    assert_eq!(state(), (false, "New".to_owned()));
    assert!(kentico_writes(&app).is_empty());

    // The rest: paid. Deleted again: the order stays paid (a refund is the shop's to record).
    let rest = record_payment(&app, invoice, &(amount - half).to_string()).await?;
    order_becomes(&app, id, true, "PaymentReceived").await?;
    delete_payment(&app, rest).await?;
    settled(&app).await?;
    assert_eq!(state(), (true, "PaymentReceived".to_owned()));
    assert_eq!(kentico_writes(&app).get(&id), Some(&1));
    app.stop().await;
    Ok(())
}
