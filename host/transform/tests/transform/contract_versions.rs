//! Plugins of both contract versions run side by side: one built against the frozen `ferry:transform@0.1.0`
//! (`plugins/fixtures/contract-v0-1`) keeps working unchanged and loses nothing it cannot see, and one built with
//! the SDK (0.2.0) reads what 0.2.0 added: discounts, coupon codes, gift cards.

use crate::support::*;
use ferry_model::{CouponCode, Decimal, Drafts, NamedAmount, Order, TaxClass};
use ferry_transform::{
    Chain, LoadOrigin, MappingConfig, OptionLines, PluginRuntime, RuntimeConfig, StaticServices,
    default_drafts, shape, validate,
};
use uuid::Uuid;

const TENANT: &str = "acme";
const V0_1: &str = "contract-v0-1";

fn named(name: &str, amount: &str) -> NamedAmount {
    NamedAmount {
        name: name.into(),
        amount: dec(amount),
    }
}

fn standard_10() -> TaxClass {
    TaxClass {
        rate_percent: Some(dec("10")),
        display_name: "Standard".into(),
        ..tax_class("standard")
    }
}

/// Two mugs at 9.00 after a 1.00 catalog discount, less 2.00 "Buy 2 save"; an engraving option (3.00, no SKU
/// number) under the mugs; "Welcome 10%" off the order (1.90); 10 % tax (1.71) and 5.00 shipping make 23.81, of
/// which a 10.00 gift card paid part and the card the rest (13.81); the customer entered SAVE10 and GIFT-1.
fn discounted_order() -> Order {
    let mut o = order();
    let mug_guid = Uuid::from_u128(0xA1);
    let mut mug = line(1, "MUG", Some(standard_10()));
    mug.guid = mug_guid;
    mug.unit_price = dec("9.00");
    mug.total_price = dec("16.00");
    mug.unit_discounts = vec![named("Catalog 10%", "1.00")];
    mug.discounts = vec![named("Buy 2 save", "2.00")];
    let mut engraving = line(2, "", Some(standard_10()));
    engraving.name = "Engraving".into();
    engraving.guid = Uuid::from_u128(0xA2);
    engraving.parent_guid = Some(mug_guid);
    engraving.text = "For Ada".into();
    engraving.quantity = 1;
    engraving.unit_price = dec("3.00");
    engraving.total_price = dec("3.00");
    engraving.sku_price = Some(dec("3.00"));
    o.lines = vec![mug, engraving];
    o.discounts = vec![named("Welcome 10%", "1.90")];
    o.coupon_codes = vec![
        CouponCode {
            code: "SAVE10".into(),
            gift_card_value: None,
        },
        CouponCode {
            code: "GIFT-1".into(),
            gift_card_value: Some(dec("10.00")),
        },
    ];
    o.other_payments = vec![named("Gift card", "10.00")];
    o.taxes = vec![named("Standard", "1.71")];
    o.totals.total = dec("23.81");
    o.totals.tax = dec("1.71");
    o.totals.shipping = dec("5.00");
    o.totals.grand_total = dec("13.81");
    o.payment.amount.amount = dec("13.81");
    o
}

/// The tenant's default drafts for `o`, options as lines of their own.
fn defaults(o: &Order) -> Drafts {
    let mapping = MappingConfig {
        options: OptionLines::Lines,
        ..MappingConfig::default()
    };
    default_drafts(o, &mapping, None)
}

#[test]
fn each_plugin_reports_the_contract_version_it_was_built_against() {
    let (rt, _dir) = runtime();
    assert_eq!(load(&rt, V0_1).contract_version(), "0.1.0");
    for name in ferry_transform::artifacts::EXAMPLE_PLUGINS {
        assert_eq!(load(&rt, name).contract_version(), "0.2.0", "{name}");
    }
}

#[test]
fn a_0_1_plugin_runs_every_hook_unchanged() {
    let (rt, _dir) = runtime();
    runs_every_hook_unchanged(load(&rt, V0_1));
}

/// The versioning promise, held against bytes rather than source: the 0.1.0 component as it was built and
/// committed (`plugins/fixtures/contract-v0-1/released/`) keeps passing on every later host, whatever the SDK,
/// wit-bindgen or Wasmtime of the day.
#[test]
fn the_committed_0_1_component_keeps_passing() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/fixtures/contract-v0-1/released/contract_v0_1.wasm");
    let bytes = std::fs::read(&path).unwrap();
    let (rt, _dir) = runtime();
    let plugin = rt.load(V0_1, &bytes).unwrap();
    assert_eq!(plugin.contract_version(), "0.1.0");
    runs_every_hook_unchanged(plugin);
}

fn runs_every_hook_unchanged(plugin: ferry_transform::PluginHandle) {
    let chain = Chain::new(vec![plugin]);
    let services =
        Recording::new(StaticServices::new().with_setting(TENANT, V0_1, "note-prefix", "compat"));
    let cx = ctx(TENANT, services.clone());
    let o = discounted_order();

    let issues = chain.validate_order(&cx, &o).unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].field, "lines[1].sku-number");
    assert_eq!(issues[0].plugin, V0_1);

    let client = chain.map_client(&cx, &o.customer, client_draft()).unwrap();
    assert_eq!(client.last_name, "LOVELACE");
    assert_eq!(client.first_name, "Ada");

    let item = chain
        .map_item(&cx, &o.lines[0], item_draft(&o.lines[0]))
        .unwrap();
    assert_eq!(item.description, " (line 1)");

    let out = chain.map_invoice(&cx, &o, invoice_draft(&o)).unwrap();
    assert_eq!(
        out.notes,
        "compat: order ORD-42 has 2 order lines, 2 invoice lines"
    );
    assert_eq!(out.lines[0].name, "#1 Product MUG");
    assert_eq!(
        services.lines(),
        vec!["acme/contract-v0-1: rebuilt 2 lines"]
    );
}

#[test]
fn a_0_1_plugin_that_rebuilds_the_invoice_keeps_its_discount_lines_taxes_and_payments() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, V0_1)]);
    let o = discounted_order();
    let before = defaults(&o);
    // The draft it gets really has what 0.1 has no field for on the order: discount lines, taxed, and an option.
    assert!(
        before
            .invoice
            .lines
            .iter()
            .any(|l| l.unit_cost.amount < Decimal::ZERO && l.tax1.is_some()),
        "{:#?}",
        before.invoice.lines
    );
    assert_eq!(before.gift_cards.len(), 1);

    let after = shape(
        &chain,
        &ctx(TENANT, StaticServices::new()),
        &o,
        before.clone(),
    )
    .unwrap();

    assert_eq!(after.invoice.lines.len(), before.invoice.lines.len());
    for (i, (a, b)) in after
        .invoice
        .lines
        .iter()
        .zip(&before.invoice.lines)
        .enumerate()
    {
        assert_eq!(a.name, format!("#{} {}", i + 1, b.name));
        assert_eq!(
            (
                &a.quantity,
                &a.unit_cost,
                &a.tax1,
                &a.tax2,
                &a.sku,
                &a.description
            ),
            (
                &b.quantity,
                &b.unit_cost,
                &b.tax1,
                &b.tax2,
                &b.sku,
                &b.description
            ),
            "line {i}"
        );
    }
    assert_eq!(after.invoice.amount(), before.invoice.amount());
    assert_eq!(
        after.invoice.amount(),
        o.totals.total,
        "Kentico's total, to the cent"
    );
    assert_eq!(
        after.invoice.notes,
        format!(
            "{}\nv0.1: order ORD-42 has 2 order lines, {} invoice lines",
            before.invoice.notes,
            before.invoice.lines.len()
        )
    );
    assert_eq!(after.gift_cards, before.gift_cards);
    assert_eq!(after.payment, before.payment);
    assert_eq!(after.client.last_name, "LOVELACE");
}

#[test]
fn a_0_2_plugin_reads_the_orders_discounts_gift_cards_and_codes() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "custom-fields")]);
    let services = StaticServices::new().with_setting(
        TENANT,
        "custom-fields",
        "invoice-note-discounts",
        "true",
    );
    let o = discounted_order();
    let out = chain
        .map_invoice(&ctx(TENANT, services), &o, invoice_draft(&o))
        .unwrap();
    assert_eq!(
        out.notes,
        "Discount Buy 2 save: 2.00 (on Product MUG)\n\
         Discount Welcome 10%: 1.90\n\
         Gift card GIFT-1: 10.00\n\
         Paid by Gift card: 10.00"
    );
}

#[test]
fn plugins_of_both_versions_share_one_chain_and_one_event() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, V0_1), load(&rt, "custom-fields")]);
    let services = StaticServices::new().with_setting(
        TENANT,
        "custom-fields",
        "invoice-note-discounts",
        "true",
    );
    let cx = ctx(TENANT, services);
    let o = discounted_order();
    let reasons = validate(&chain, &cx, &o, &Default::default()).unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("lines[1].sku-number") && r.contains(V0_1)),
        "{reasons:?}"
    );
    let before = defaults(&o);
    let after = shape(&chain, &cx, &o, before.clone()).unwrap();
    let notes: Vec<&str> = after.invoice.notes.lines().collect();
    let v01 = notes.iter().position(|l| l.starts_with("v0.1: ")).unwrap();
    let discount = notes
        .iter()
        .position(|l| *l == "Discount Welcome 10%: 1.90")
        .unwrap();
    assert!(
        v01 < discount,
        "the 0.2 plugin runs after the 0.1 one: {notes:?}"
    );
    assert!(after.invoice.lines.iter().all(|l| l.name.starts_with('#')));
    assert_eq!(after.invoice.amount(), o.totals.total);
}

#[test]
fn a_0_1_plugin_mapped_from_the_disk_cache_is_still_a_0_1_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cwasm");
    let bytes = wasm(V0_1);
    let first = PluginRuntime::new(RuntimeConfig::new(&cache)).unwrap();
    assert_eq!(
        first.load(V0_1, &bytes).unwrap().origin(),
        LoadOrigin::Compiled
    );
    drop(first);

    let second = PluginRuntime::new(RuntimeConfig::new(&cache)).unwrap();
    let plugin = second.load(V0_1, &bytes).unwrap();
    assert_eq!(plugin.origin(), LoadOrigin::DiskCache);
    assert_eq!(plugin.contract_version(), "0.1.0");
    let o = discounted_order();
    let out = Chain::new(vec![plugin])
        .map_invoice(&ctx(TENANT, StaticServices::new()), &o, invoice_draft(&o))
        .unwrap();
    assert_eq!(out.lines[1].name, "#2 Engraving");
}
