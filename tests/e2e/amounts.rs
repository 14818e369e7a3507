//! Real shops' orders, to the cent: discounts of every kind, coupon codes, gift cards, options and bundles
//! travel through a real host into FreshBooks, and the FreshBooks simulator's own invoices (amount, tax,
//! outstanding) equal the Kentico orders' totals to the cent, under lost replies.

use ferry_sim::kentico::OrderKinds;
use ferry_tests::{TestApp, assert_exactly_once, valid_mix};

/// Every kind the simulator makes, often enough that each appears many times in a journey.
fn real_shop() -> OrderKinds {
    OrderKinds {
        discounted: 0.3,
        volume: 0.2,
        coupon: 0.3,
        order_discount: 0.3,
        gift_card: 0.25,
        options: 0.3,
        bundle: 0.2,
        free_shipping: 0.2,
        multibuy: 0.2,
        ..OrderKinds::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discounted_gift_card_and_option_orders_invoice_to_the_cent() -> anyhow::Result<()> {
    let app = TestApp::spawn(21).await?;
    app.sandbox.freshbooks.faults().set_drop_reply_rate(0.03);
    let mut placed = Vec::new();
    for n in 0..120 {
        placed.push(app.sandbox.place_kinds(n, &valid_mix(), &real_shop()).await);
    }
    let audit = app.settle(&placed).await?;
    assert_exactly_once(&audit);
    assert!(
        audit.amounts_differ.is_empty(),
        "{:#?}",
        audit.amounts_differ
    );
    assert_eq!(audit.amounts_equal, audit.invoiced);
    for kind in [
        "gift card",
        "order discount",
        "coupon code",
        "options",
        "bundle",
    ] {
        assert!(
            audit.kinds.get(kind).copied().unwrap_or(0) > 5,
            "the journey had {kind} orders: {:?}",
            audit.kinds
        );
    }
    app.stop().await;
    Ok(())
}
