//! The real Kentico client against the Kentico simulator over HTTP: every order and customer read through
//! `fetch_order` / `fetch_customer` must match what the simulator holds, and polling must find what changed.
//! The simulator is written from the reference independently of this client, so a misreading on either side
//! shows up here.

use std::collections::BTreeMap;

use ferry_extract::{
    KenticoClient, changed_customers_since, changed_orders_since, fetch_customer, fetch_order,
};
use ferry_model::{Address, NamedAmount, Order};
use ferry_outbound::{HttpClient, OutboundConfig, SecretString};
use ferry_sim::kentico::{
    CustomerPatch, Defect, KenticoHandle, KenticoSim, KenticoSimConfig, LineSpec, OrderKinds,
    OrderMix, OrderSpec, SimAddress, SimOrder,
};
use rust_decimal::Decimal;

async fn start(orders: usize) -> (KenticoHandle, KenticoClient) {
    let sim = KenticoSim::start(KenticoSimConfig {
        orders,
        ..KenticoSimConfig::default()
    })
    .await
    .unwrap();
    let http = HttpClient::new(&OutboundConfig::default()).unwrap();
    let client = KenticoClient::new(
        http,
        "tenant-a",
        &sim.base_url(),
        "ferry",
        SecretString::from("sandbox"),
    );
    (sim, client)
}

fn same_address(got: Option<&Address>, want: Option<&SimAddress>, what: &str) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            assert_eq!(g.personal_name, w.personal_name, "{what}");
            assert_eq!(g.line1, w.line1, "{what}");
            assert_eq!(g.line2, w.line2, "{what}");
            assert_eq!(g.city, w.city, "{what}");
            assert_eq!(g.zip, w.zip, "{what}");
            assert_eq!(g.country_code, w.country_code, "{what}");
            assert_eq!(g.state_code, w.state_code, "{what}");
            assert!(!g.country_name.is_empty(), "{what}: country name resolved");
        }
        (g, w) => panic!("{what}: got {g:?}, simulator has {w:?}"),
    }
}

/// Summary items as the simulator keeps them.
fn named(items: &[NamedAmount]) -> Vec<(String, Decimal)> {
    items.iter().map(|i| (i.name.clone(), i.amount)).collect()
}

/// Checks the canonical order against the simulator's record, field by field.
fn same_order(got: &Order, want: &SimOrder, sim: &KenticoHandle) {
    let what = format!("order {}", want.id);
    assert_eq!(got.id, want.id, "{what}");
    assert_eq!(got.guid, want.guid, "{what}");
    assert_eq!(got.number, want.number, "{what}");
    assert_eq!(got.currency.as_str(), want.currency, "{what}");
    assert_eq!(got.status.code, want.status, "{what}");
    assert_eq!(got.totals.total, want.total, "{what}");
    assert_eq!(got.totals.tax, want.tax, "{what}");
    assert_eq!(got.totals.shipping, want.shipping, "{what}");
    assert_eq!(got.totals.grand_total, want.grand_total, "{what}");
    assert_eq!(got.note, want.note, "{what}");
    assert_eq!(got.payment.is_paid, want.is_paid, "{what}");
    assert_eq!(got.payment.method, want.payment_method, "{what}");
    assert_eq!(got.payment.transaction_id, want.transaction_id, "{what}");
    assert_eq!(
        got.payment.paid_at.is_some(),
        !want.transaction_id.is_empty(),
        "{what}: gateway results carry a date"
    );
    assert_eq!(got.payment.amount.amount, want.grand_total, "{what}");
    assert_eq!(got.customer.id, want.customer_id, "{what}");

    let custom: BTreeMap<&str, &str> = got
        .custom_attributes
        .iter()
        .map(|f| (f.name.as_str(), f.value.as_str()))
        .collect();
    for (k, v) in &want.custom_data {
        assert_eq!(custom.get(k.as_str()), Some(&v.as_str()), "{what}: {k}");
    }
    assert_eq!(
        custom.len(),
        want.custom_data.len(),
        "{what}: no stray custom attributes: {custom:?}"
    );

    assert_eq!(got.lines.len(), want.lines.len(), "{what}");
    let catalogue = sim.catalogue();
    for (g, w) in got.lines.iter().zip(&want.lines) {
        let line = format!("{what} line {}", w.id);
        assert_eq!(g.id, w.id, "{line}");
        assert_eq!(g.sku_id, w.sku_id, "{line}");
        assert_eq!(g.sku_number, w.sku_number, "{line}");
        assert_eq!(g.name, w.name, "{line}");
        assert_eq!(g.quantity, w.quantity, "{line}");
        assert_eq!(g.unit_price, w.unit_price, "{line}");
        assert_eq!(g.total_price, w.total_price, "{line}");
        let sku = catalogue.iter().find(|s| s.id == w.sku_id).unwrap();
        assert_eq!(g.sku_price, Some(sku.price), "{line}");
        assert!(!g.description.is_empty(), "{line}: SKU description");
        assert!(g.tax_class.is_some(), "{line}: every SKU has a tax class");
        for (k, v) in &w.custom_data {
            assert!(
                g.attributes.iter().any(|a| a.name == *k && a.value == *v),
                "{line}: attribute {k}"
            );
        }
    }
    for (g, w) in got.lines.iter().zip(&want.lines) {
        let line = format!("{what} line {}", w.id);
        assert_eq!(g.guid, w.guid, "{line}");
        assert_eq!(g.parent_guid, w.parent_guid, "{line}");
        assert_eq!(g.bundle_guid, w.bundle_guid, "{line}");
        assert_eq!(g.text, w.text.clone().unwrap_or_default(), "{line}");
        assert_eq!(named(&g.unit_discounts), w.unit_discounts, "{line}");
        assert_eq!(named(&g.discounts), w.line_discounts, "{line}");
    }
    assert_eq!(named(&got.taxes), want.tax_summary, "{what}");
    assert_eq!(named(&got.discounts), want.order_discounts, "{what}");
    assert_eq!(named(&got.other_payments), want.other_payments, "{what}");
    let codes: Vec<String> = got.coupon_codes.iter().map(|c| c.code.clone()).collect();
    assert_eq!(codes, want.coupon_codes, "{what}");
    if want.lines.is_empty() {
        assert_eq!(got.totals.total, Decimal::ZERO, "{what}");
    }
    same_address(
        got.billing_address.as_ref(),
        want.billing.as_ref(),
        &format!("{what} billing"),
    );
    same_address(
        got.shipping_address.as_ref(),
        want.shipping_address.as_ref(),
        &format!("{what} shipping"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placed_orders_read_back_exactly_as_placed() {
    let (sim, client) = start(0).await;
    let catalogue = sim.catalogue();
    let coffee = catalogue.iter().find(|s| s.number == "DG-COF-001").unwrap();
    let grinder = catalogue
        .iter()
        .find(|s| s.number.starts_with("DG-GRND"))
        .unwrap();
    let gift = catalogue
        .iter()
        .find(|s| s.number.starts_with("DG-GIFT"))
        .unwrap();
    let specs = vec![
        OrderSpec {
            customer_id: Some(1),
            lines: vec![
                LineSpec {
                    sku_id: coffee.id,
                    quantity: 2,
                },
                LineSpec {
                    sku_id: grinder.id,
                    quantity: 1,
                },
            ],
            ..OrderSpec::default()
        },
        OrderSpec {
            customer_id: Some(2),
            currency: Some("EUR".into()),
            lines: vec![LineSpec {
                sku_id: coffee.id,
                quantity: 3,
            }],
            paid: true,
            ..OrderSpec::default()
        },
        OrderSpec {
            customer_id: Some(3),
            currency: Some("GBP".into()),
            lines: vec![LineSpec {
                sku_id: gift.id,
                quantity: 1,
            }],
            status: Some("Completed".into()),
            ..OrderSpec::default()
        },
        OrderSpec {
            currency: Some("CZK".into()),
            lines: vec![LineSpec {
                sku_id: grinder.id,
                quantity: 1,
            }],
            status: Some("PaymentReceived".into()),
            ..OrderSpec::default()
        },
    ];
    let mut placed = Vec::new();
    for spec in specs {
        placed.push((spec.clone(), sim.place_order(spec).await));
    }
    for (spec, p) in &placed {
        let got = fetch_order(&client, p.id).await.unwrap();
        let want = sim.order(p.id).unwrap();
        same_order(&got, &want, &sim);
        // What the simulator holds is what it was told.
        assert_eq!(
            got.currency.as_str(),
            spec.currency.as_deref().unwrap_or("USD")
        );
        let told: Vec<(i64, i64)> = spec
            .lines
            .iter()
            .map(|l| (l.sku_id, i64::from(l.quantity)))
            .collect();
        let read: Vec<(i64, i64)> = got.lines.iter().map(|l| (l.sku_id, l.quantity)).collect();
        assert_eq!(read, told);
        if let Some(c) = spec.customer_id {
            assert_eq!(got.customer.id, c);
        }
        assert_eq!(
            got.payment.is_paid,
            spec.paid || spec.status.as_deref() == Some("PaymentReceived")
        );
        // Totals add up: items + shipping + tax.
        let items: Decimal = got.lines.iter().map(|l| l.total_price).sum();
        assert_eq!(
            got.totals.total,
            items + got.totals.shipping + got.totals.tax
        );
    }
    // The EUR line is priced in EUR, not copied from the USD catalogue.
    let eur = fetch_order(&client, placed[1].1.id).await.unwrap();
    assert_ne!(eur.lines[0].unit_price, coffee.price);
    assert_eq!(eur.status.code, "PaymentReceived");
    assert!(eur.status.marks_paid);
    // The gift card needs no shipping: billing address only, no shipping cost.
    let gbp = fetch_order(&client, placed[2].1.id).await.unwrap();
    assert!(gbp.shipping_address.is_none());
    assert_eq!(gbp.totals.shipping, Decimal::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_and_defective_orders_read_back_faithfully() {
    let (sim, client) = start(0).await;
    let mix = OrderMix {
        invalid: 0.5,
        foreign_currency: 0.5,
        paid: 0.5,
    };
    let mut seen = std::collections::HashSet::new();
    for n in 0..24 {
        let spec = sim.random_order(n, &mix);
        let p = sim.place_order(spec).await;
        let got = fetch_order(&client, p.id).await.unwrap();
        same_order(&got, &sim.order(p.id).unwrap(), &sim);
        match p.defect {
            Some(Defect::MissingEmail) => assert_eq!(got.customer.email, None),
            Some(Defect::EmptyOrder) => assert!(got.lines.is_empty()),
            Some(Defect::NegativeQuantity) => assert!(got.lines.iter().any(|l| l.quantity < 0)),
            Some(Defect::TotalsMismatch) => {
                let items: Decimal = got.lines.iter().map(|l| l.total_price).sum();
                assert_ne!(
                    got.totals.total,
                    items + got.totals.shipping + got.totals.tax
                );
            }
            None => {
                assert!(
                    got.customer
                        .email
                        .as_deref()
                        .is_some_and(|e| e.contains('@'))
                );
                assert!(!got.lines.is_empty() && got.lines.iter().all(|l| l.quantity > 0));
            }
        }
        seen.insert(p.defect);
    }
    assert!(seen.len() >= 4, "the mix produced several kinds: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discounted_gift_card_option_and_bundle_orders_read_back_faithfully() {
    let (sim, client) = start(0).await;
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.3,
        paid: 0.5,
    };
    let kinds = OrderKinds {
        discounted: 0.4,
        volume: 0.3,
        coupon: 0.4,
        order_discount: 0.4,
        gift_card: 0.4,
        options: 0.4,
        bundle: 0.3,
        free_shipping: 0.3,
        multibuy: 0.3,
        ..OrderKinds::default()
    };
    let (mut gift_cards, mut options, mut bundles, mut discounts, mut codes) = (0, 0, 0, 0, 0);
    for n in 0..40 {
        let p = sim
            .place_order(sim.random_order_with(n, &mix, &kinds))
            .await;
        let got = fetch_order(&client, p.id).await.unwrap();
        same_order(&got, &sim.order(p.id).unwrap(), &sim);
        gift_cards += usize::from(!got.other_payments.is_empty());
        options += usize::from(got.lines.iter().any(|l| l.parent_guid.is_some()));
        bundles += usize::from(got.lines.iter().any(|l| l.bundle_guid.is_some()));
        discounts += usize::from(!got.discounts.is_empty());
        codes += usize::from(got.coupon_codes.iter().any(|c| c.gift_card_value.is_some()));
    }
    assert!(
        gift_cards > 0 && options > 0 && bundles > 0 && discounts > 0 && codes > 0,
        "every kind was read: gift cards {gift_cards}, options {options}, bundles {bundles}, order \
         discounts {discounts}, gift-card codes {codes}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_history_and_customers_read_back_faithfully() {
    let (sim, client) = start(40).await;
    for id in [1, 7, 23, 40] {
        let got = fetch_order(&client, id).await.unwrap();
        same_order(&got, &sim.order(id).unwrap(), &sim);
    }
    for info in sim.customers().iter().take(10) {
        let got = fetch_customer(&client, info.id).await.unwrap();
        let want = sim.customer(info.id).unwrap();
        assert_eq!(got.guid, want.guid);
        assert_eq!(got.first_name, want.first_name);
        assert_eq!(got.last_name, want.last_name);
        assert_eq!(got.email, want.email);
        assert_eq!(got.phone, want.phone);
        assert_eq!(got.company, want.company);
        assert_eq!(got.tax_registration_id, want.tax_registration_id);
        let mut fields: Vec<(String, String)> = got
            .custom_fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        fields.sort();
        let mut expected = want.custom_fields.clone();
        expected.sort();
        assert_eq!(fields, expected, "customer {}", info.id);
        same_address(
            got.address.as_ref(),
            want.address.as_ref(),
            &format!("customer {}", info.id),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_finds_exactly_what_changed() {
    let (sim, client) = start(30).await;
    let latest = fetch_order(&client, 30).await.unwrap().last_modified;
    let history = changed_orders_since(&client, latest - time::Duration::days(365))
        .await
        .unwrap();
    assert_eq!(
        history.len(),
        30,
        "every seeded order is newer than a year ago"
    );
    let mut ordered = history.clone();
    ordered.sort_by_key(|c| (c.last_modified, c.id));
    assert_eq!(history, ordered, "oldest first");

    let watermark = history.last().unwrap().last_modified;
    assert!(
        changed_orders_since(&client, watermark)
            .await
            .unwrap()
            .is_empty()
    );
    let p = sim
        .place_order(OrderSpec {
            lines: vec![LineSpec {
                sku_id: 1,
                quantity: 1,
            }],
            ..OrderSpec::default()
        })
        .await;
    let other = (1..=30)
        .find(|id| sim.order(*id).unwrap().status != "Completed")
        .unwrap();
    assert!(sim.set_order_status(other, "Completed").await);
    let changed = changed_orders_since(&client, watermark).await.unwrap();
    let ids: Vec<i64> = changed.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![p.id, other]);
    assert_eq!(changed[1].guid, sim.order(other).unwrap().guid);
    // The next watermark excludes what was just seen.
    assert!(
        changed_orders_since(&client, changed[1].last_modified)
            .await
            .unwrap()
            .is_empty()
    );

    let customers = changed_customers_since(&client, watermark).await.unwrap();
    assert!(customers.is_empty());
    assert!(
        sim.update_customer(
            4,
            CustomerPatch {
                loyalty_tier: Some("Gold".into()),
                ..CustomerPatch::default()
            }
        )
        .await
    );
    let customers = changed_customers_since(&client, watermark).await.unwrap();
    assert_eq!(customers.iter().map(|c| c.id).collect::<Vec<_>>(), vec![4]);
    let c = fetch_customer(&client, 4).await.unwrap();
    assert!(
        c.custom_fields
            .iter()
            .any(|f| f.name == "CustomerLoyaltyTier" && f.value == "Gold")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_walks_pages_of_a_large_store() {
    let (_sim, client) = start(250).await;
    let all = changed_orders_since(
        &client,
        time::OffsetDateTime::now_utc() - time::Duration::days(365),
    )
    .await
    .unwrap();
    assert_eq!(all.len(), 250);
    let mut ids: Vec<i64> = all.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 250, "no duplicates across pages");
}
