//! FreshBooks' budget bounds the throughput, not Ferry (issue 20): with the simulator allowing a few requests per
//! one-second window per account (429 with `Retry-After` beyond), a tenant allowed 16 events at once still gets
//! every order through exactly once, nothing is dead-lettered for running out of budget, and a 429 pauses the
//! tenant's calls instead of every event in flight spending requests to hear 429 again. Counted at the
//! simulator. The figures (share of the allowed rate used, two tenants side by side) are in
//! `cargo bench -p ferry --bench budget`.

use ferry_sim::freshbooks::RateLimit;
use ferry_sim::kentico::OrderMix;
use ferry_store::EventState;
use ferry_tests::{TestApp, assert_exactly_once};
use std::time::Duration;

/// Requests each account may send per one-second window.
const PER_WINDOW: u32 = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_account_gets_every_order_once_without_a_storm_of_429s() -> anyhow::Result<()>
{
    let app = TestApp::builder()
        .with_seed(62)
        .with_config(|c| {
            for t in &mut c.tenants {
                t.limits.concurrency = 16;
            }
        })
        .spawn()
        .await?;
    app.sandbox.freshbooks.set_rate_limit(Some(RateLimit {
        requests: PER_WINDOW,
        window: Duration::from_secs(1),
    }));
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid: 1.0,
    };
    let placed = app.place(0..30, &mix).await;
    assert_exactly_once(&app.settle(&placed).await?);

    let dead = app
        .store
        .count_in_state(Some(&app.tenant), EventState::Dead)
        .await?;
    assert_eq!(dead, 0, "no event dead-lettered for want of budget");
    let calls: u64 = app
        .sandbox
        .freshbooks
        .request_counts()
        .iter()
        .filter(|(kind, _)| !kind.contains("oauth") && !kind.contains("users/me"))
        .map(|(_, n)| n)
        .sum();
    let throttled = app.sandbox.freshbooks.throttled_requests();
    let succeeded = calls - throttled;
    eprintln!("{succeeded} FreshBooks calls succeeded, {throttled} answered 429");
    // Each spent window costs at most the calls already in flight when it ran out (the tenant's window of
    // events, halved at each 429): well under one 429 for every four calls that succeed.
    assert!(
        throttled * 4 <= succeeded,
        "{throttled} requests answered 429 for {succeeded} that succeeded: a 429 storm"
    );
    app.stop().await;
    Ok(())
}

/// A create FreshBooks refused with 429 created nothing, so the attempt takes its intent back: the retry creates at
/// once instead of first searching FreshBooks for the invoice or payment (one call per throttled create, not two).
/// Counted at the simulator: with some `POST`s of invoices and payments answered 429, no invoice or payment list is
/// asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_refused_with_429_is_sent_again_without_a_search_first() -> anyhow::Result<()> {
    let app = TestApp::builder().with_seed(63).spawn().await?;
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid: 1.0,
    };
    // Items, taxes and most clients known first, without a limit.
    let warm = app.place(0..12, &mix).await;
    assert_exactly_once(&app.settle(&warm).await?);
    let before = app.sandbox.freshbooks.request_counts();
    app.sandbox.freshbooks.set_rate_limit(Some(RateLimit {
        requests: 3,
        window: Duration::from_secs(1),
    }));
    let placed = app.place(12..24, &mix).await;
    let all: Vec<_> = warm.iter().chain(&placed).cloned().collect();
    assert_exactly_once(&app.settle(&all).await?);
    let after = app.sandbox.freshbooks.request_counts();
    let delta =
        |kind: &str| after.get(kind).copied().unwrap_or(0) - before.get(kind).copied().unwrap_or(0);
    let posts = delta("POST invoices/invoices") + delta("POST payments/payments");
    // Each of the 12 orders gets one invoice and one payment; the rest of the posts were answered 429.
    assert!(
        posts > 24,
        "no invoice or payment create was throttled ({posts} posts): the limit did not bite"
    );
    assert_eq!(
        (
            delta("GET invoices/invoices"),
            delta("GET payments/payments")
        ),
        (0, 0),
        "searched FreshBooks after a throttled create: {after:?}"
    );
    app.stop().await;
    Ok(())
}
