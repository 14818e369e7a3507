//! The polling fallback alone: no FreshBooks callback reaches the host — the tenant registers none
//! (`callback_url` unset), or FreshBooks loses every delivery — and payments recorded in FreshBooks still mark the
//! Kentico orders paid, once each, a poll later (every second here). A deposit alone marks nothing. Counted from
//! the Kentico simulator's orders and the writes its REST service accepted; the run history shows the poll found
//! them.

use super::{
    UNPAID, callbacks_verified, invoice_of, kentico_writes, order_becomes, record_payment,
    writeback_app, writeback_app_with,
};
use ferry_sim::freshbooks::CallbackFaults;
use ferry_tests::{TestApp, assert_exactly_once};
use rust_decimal::Decimal;

/// Places three unpaid orders; pays two in full and one in part in FreshBooks; checks Kentico.
async fn payments_reach_kentico_by_polling(app: &TestApp) -> anyhow::Result<()> {
    let placed = app.place(0..3, &UNPAID).await;
    assert_exactly_once(&app.settle(&placed).await?);
    let mut payments = Vec::new();
    for p in &placed[..2] {
        let (invoice, amount) = invoice_of(app, p);
        payments.push(record_payment(app, invoice, &amount.to_string()).await?);
    }
    let (invoice, amount) = invoice_of(app, &placed[2]);
    let half = (amount / Decimal::TWO).round_dp(2);
    record_payment(app, invoice, &half.to_string()).await?;

    let paid: Vec<i64> = placed[..2].iter().map(|p| p.order.id).collect();
    for id in &paid {
        order_becomes(app, *id, true, "PaymentReceived").await?;
    }

    let writes = kentico_writes(app);
    assert_eq!(
        writes.len(),
        2,
        "only the paid orders are written: {writes:?}"
    );
    assert!(
        paid.iter().all(|id| writes.get(id) == Some(&1)),
        "{writes:?}"
    );
    let part = app
        .sandbox
        .kentico
        .order(placed[2].order.id)
        .expect("order");
    assert!(!part.is_paid && part.status == "New", "{part:?}");
    for id in &payments {
        let events = app
            .store
            .find_by_object(&app.tenant, "freshbooks.payment", *id as i64)
            .await?;
        assert!(!events.is_empty(), "payment {id} has events");
        assert!(
            events
                .iter()
                .all(|e| e.event_id.as_str().starts_with("reconcile:")),
            "payment {id} was found by the poll: {events:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_callbacks_registered_the_poll_alone_marks_the_kentico_orders_paid()
-> anyhow::Result<()> {
    let app = writeback_app_with(65, |p| p.callback_url = None).await?;
    payments_reach_kentico_by_polling(&app).await?;
    let fb = &app.sandbox.freshbooks;
    assert!(fb.callbacks(&app.sandbox.account_id).is_empty());
    assert_eq!(fb.callback_stats().emitted, 0, "nothing was ever sent");
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_callback_lost_the_poll_alone_marks_the_kentico_orders_paid()
-> anyhow::Result<()> {
    let app = writeback_app(66).await?;
    callbacks_verified(&app).await?;
    app.sandbox.freshbooks.set_callback_faults(CallbackFaults {
        drop: 1.0,
        ..CallbackFaults::default()
    });
    payments_reach_kentico_by_polling(&app).await?;
    let stats = app.sandbox.freshbooks.callback_stats();
    assert!(stats.dropped >= 3 && stats.delivered == 0, "{stats:?}");
    app.stop().await;
    Ok(())
}
