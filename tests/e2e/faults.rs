//! Exactly once under FreshBooks and Kentico faults: server errors, replies lost after the write committed,
//! throttling, a long outage, lost webhooks, and invalid orders.

use ferry_sim::kentico::{Defect, OrderMix};
use ferry_tests::{TestApp, assert_exactly_once, valid_mix, wait_until};
use std::time::Duration;

/// Orders per journey ("a few hundred").
const ORDERS: u64 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_survive_twenty_percent_server_errors() -> anyhow::Result<()> {
    let app = TestApp::spawn(11).await?;
    app.sandbox.freshbooks.faults().set_error_rate(0.2, 503);
    app.sandbox.kentico.faults().set_error_rate(0.2, 500);
    let placed = app.place(0..ORDERS, &valid_mix()).await;
    let audit = app.settle(&placed).await?;
    assert_exactly_once(&audit);
    assert!(
        app.sandbox.freshbooks.faults().counters().errors > 50,
        "the faults really fired"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_lost_after_commit_never_duplicate_anything() -> anyhow::Result<()> {
    let app = TestApp::spawn(12).await?;
    app.sandbox.freshbooks.faults().set_drop_reply_rate(0.05);
    app.sandbox.freshbooks.faults().set_reset_rate(0.02);
    let placed = app.place(0..ORDERS, &valid_mix()).await;
    let audit = app.settle(&placed).await?;
    assert_exactly_once(&audit);
    let dropped = app.sandbox.freshbooks.faults().counters().dropped_replies;
    assert!(
        dropped > 10,
        "replies were really lost after commit ({dropped})"
    );
    app.stop().await;
    Ok(())
}

/// A FreshBooks write that fails in passing — a 503, then a reply lost after the write committed — is run again
/// within the event's attempt: the event completes in its one run instead of going back to the queue (to wait out
/// the worker's backoff and read Kentico again), and FreshBooks still holds each object once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_failing_in_passing_is_run_again_within_the_attempt() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_seed(14)
        .without_workers()
        .spawn()
        .await?;
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid: 1.0,
    };
    // One order first, so that the host holds its FreshBooks token: a token refresh (a POST too) whose reply is lost
    // disconnects the tenant (FreshBooks rotates refresh tokens), which is not what this test is about.
    let mut placed = app.place(0..1, &mix).await;
    app.drain_webhooks().await?;

    let faults = app.sandbox.freshbooks.faults().clone();
    faults.fail_next_write(503);
    faults.drop_next_write_reply();
    placed.extend(app.place(1..2, &mix).await);
    let drained = app.drain_webhooks().await?;
    assert_eq!(
        drained.retried, 0,
        "no event went back to the queue: {drained:?}"
    );
    let fired = faults.counters();
    assert_eq!(
        (fired.failed_next, fired.dropped_replies),
        (1, 1),
        "both faults fired"
    );
    assert!(drained.completed >= 1, "{drained:?}");
    assert_exactly_once(&app.settle(&placed).await?);
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_bursts_are_waited_out() -> anyhow::Result<()> {
    let app = TestApp::spawn(13).await?;
    let faults = app.sandbox.freshbooks.faults().clone();
    faults.throttle_next(40, Some(Duration::from_secs(1)));
    let placed = app.place(0..ORDERS / 2, &valid_mix()).await;
    // Re-arm only once the first burst has been answered in full.
    wait_until(Duration::from_secs(60), "the first burst of 429s", || {
        let faults = faults.clone();
        async move { faults.counters().throttled >= 40 }
    })
    .await?;
    faults.throttle_next(40, Some(Duration::from_secs(1)));
    let mut more = app.place(ORDERS / 2..ORDERS, &valid_mix()).await;
    let mut all = placed;
    all.append(&mut more);
    let audit = app.settle(&all).await?;
    assert_exactly_once(&audit);
    // The second burst re-arms the throttle (it does not add to what is left of the first), so both fired
    // when more than one burst's worth of requests was answered 429.
    let throttled = faults.counters().throttled;
    assert!(
        throttled > 40,
        "both bursts were answered 429 ({throttled})"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thirty_second_freshbooks_outage_loses_nothing() -> anyhow::Result<()> {
    let app = TestApp::spawn(14).await?;
    let faults = app.sandbox.freshbooks.faults().clone();
    let first = app.place(0..ORDERS / 3, &valid_mix()).await;
    faults.outage_for(Duration::from_secs(30));
    let mut all = first;
    all.append(&mut app.place(ORDERS / 3..ORDERS, &valid_mix()).await);
    let audit = app.settle(&all).await?;
    assert_exactly_once(&audit);
    assert!(faults.counters().outages > 0, "the outage was hit");
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_orders_are_dead_lettered_with_their_reasons() -> anyhow::Result<()> {
    let app = TestApp::spawn(15).await?;
    let mix = OrderMix {
        invalid: 0.25,
        ..valid_mix()
    };
    let placed = app.place(0..120, &mix).await;
    let audit = app.settle(&placed).await?;
    assert_exactly_once(&audit);
    assert!(audit.invalid > 10, "the mix produced invalid orders");
    assert_eq!(audit.dead_lettered.len(), audit.invalid, "{audit:#?}");
    for p in &placed {
        let Some(defect) = &p.order.defect else {
            continue;
        };
        let reason = &audit.dead_lettered[&p.order.number];
        let expected = match defect {
            Defect::MissingEmail => "no email",
            Defect::EmptyOrder => "no items",
            Defect::TotalsMismatch => "does not add up",
            Defect::NegativeQuantity => "quantity -",
        };
        assert!(
            reason.contains(expected),
            "order {} ({defect:?}) dead-lettered for {reason:?}, expected {expected:?}",
            p.order.number
        );
    }
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_webhooks_are_caught_by_polling() -> anyhow::Result<()> {
    let app = TestApp::spawn(16).await?;
    app.sandbox.kentico.skip_webhooks(0.3);
    let placed = app.place(0..100, &valid_mix()).await;
    let audit = app.settle(&placed).await?;
    assert_exactly_once(&audit);
    assert!(app.sandbox.kentico.webhook_stats().skipped > 10);
    app.stop().await;
    Ok(())
}
