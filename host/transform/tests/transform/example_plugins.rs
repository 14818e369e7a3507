//! The example transforms in `plugins/transforms/` do what they promise, alone and chained.

use crate::support::*;
use ferry_model::{LineTax, TenantId};
use ferry_transform::{Chain, Reason, StaticServices};

const TENANT: &str = "acme";

fn tax(name: &str, percent: &str) -> Option<LineTax> {
    Some(LineTax {
        name: name.into(),
        percent: dec(percent),
    })
}

#[test]
fn custom_fields_maps_customer_fields_onto_client_fields_and_note() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "custom-fields")]);
    let services = StaticServices::new().with_setting(
        TENANT,
        "custom-fields",
        "client-fields",
        "LoyaltyTier=note, VatId=vat-number, Mobile=mobile-phone, Missing=note",
    );
    let out = chain
        .map_client(&ctx(TENANT, services), &customer(), client_draft())
        .unwrap();
    assert_eq!(out.note, "LoyaltyTier: gold");
    assert_eq!(out.vat_number, "GB123456789");
    assert_eq!(out.mobile_phone, "555-0199");
    assert_eq!(out.first_name, "Ada", "untouched fields pass through");
}

#[test]
fn custom_fields_appends_selected_order_attributes_to_invoice_notes() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "custom-fields")]);
    let services = StaticServices::new().with_setting(
        TENANT,
        "custom-fields",
        "invoice-note-attributes",
        "GiftMessage",
    );
    let o = order();
    let mut draft = invoice_draft(&o);
    draft.notes = "Thank you".into();
    let out = chain
        .map_invoice(&ctx(TENANT, services), &o, draft)
        .unwrap();
    assert_eq!(out.notes, "Thank you\nGiftMessage: Happy birthday");

    let all =
        StaticServices::new().with_setting(TENANT, "custom-fields", "invoice-note-attributes", "*");
    let out = chain
        .map_invoice(&ctx(TENANT, all), &o, invoice_draft(&o))
        .unwrap();
    assert_eq!(out.notes, "GiftMessage: Happy birthday\nChannel: web");
}

#[test]
fn custom_fields_puts_product_attributes_into_the_item_description() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "custom-fields")]);
    let services =
        StaticServices::new().with_setting(TENANT, "custom-fields", "item-attributes", "*");
    let l = line(1, "MUG", None);
    let out = chain
        .map_item(&ctx(TENANT, services.clone()), &l, item_draft(&l))
        .unwrap();
    assert_eq!(out.description, "Color: red, Size: L");

    let mut draft = item_draft(&l);
    draft.description = "Stoneware mug".into();
    let out = chain.map_item(&ctx(TENANT, services), &l, draft).unwrap();
    assert_eq!(out.description, "Stoneware mug (Color: red, Size: L)");
}

#[test]
fn custom_fields_without_settings_passes_every_draft_through_unchanged() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "custom-fields")]);
    let c = ctx(TENANT, StaticServices::new());
    let o = order();
    assert_eq!(
        chain.map_client(&c, &o.customer, client_draft()).unwrap(),
        client_draft()
    );
    assert_eq!(
        chain.map_invoice(&c, &o, invoice_draft(&o)).unwrap(),
        invoice_draft(&o)
    );
    let l = &o.lines[0];
    assert_eq!(chain.map_item(&c, l, item_draft(l)).unwrap(), item_draft(l));
    assert!(chain.validate_order(&c, &o).unwrap().is_empty());
}

#[test]
fn custom_fields_rejects_a_malformed_setting_with_a_typed_error() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "custom-fields")]);
    let services =
        StaticServices::new().with_setting(TENANT, "custom-fields", "client-fields", "VatId");
    let err = chain
        .map_client(&ctx(TENANT, services), &customer(), client_draft())
        .unwrap_err();
    assert_eq!(err.plugin, "custom-fields");
    assert!(
        matches!(&err.reason, Reason::Rejected { code, .. } if code == "bad-setting"),
        "{err}"
    );
    assert!(matches!(
        err.disposition(),
        ferry_model::Disposition::DeadLetter { .. }
    ));
}

fn tax_services() -> StaticServices {
    StaticServices::new()
        .with_setting(TENANT, "tax-rules", "rule.standard", "Sales Tax:5")
        .with_setting(
            TENANT,
            "tax-rules",
            "rule.standard.US.CA",
            "CA Sales Tax:7.25",
        )
        .with_setting(TENANT, "tax-rules", "rule.standard.GB", "VAT:20")
        .with_setting(TENANT, "tax-rules", "rule.books", "exempt")
        .with_setting(TENANT, "tax-rules", "home-country", "US")
        .with_setting(TENANT, "tax-rules", "home-state", "CA")
}

#[test]
fn tax_rules_picks_the_most_specific_rule_for_the_destination_country_and_state() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "tax-rules")]);
    let c = ctx(TENANT, tax_services());
    let cases = [
        (("US", "CA"), tax("CA Sales Tax", "7.25")),
        (("US", "NY"), tax("Sales Tax", "5")),
        (("GB", ""), tax("VAT", "20")),
    ];
    for ((country, state), expected) in cases {
        let o = order_to(country, state);
        let out = chain.map_invoice(&c, &o, invoice_draft(&o)).unwrap();
        assert_eq!(out.lines[0].tax1, expected, "MUG to {country}/{state}");
        assert_eq!(out.lines[1].tax1, None, "books are exempt everywhere");
    }
}

#[test]
fn tax_rules_zeroes_tax_for_a_registered_business_when_the_class_says_so() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "tax-rules")]);
    let mut o = order_to("GB", "");
    o.customer.tax_registration_id = "GB999".into();
    o.lines[0].tax_class.as_mut().unwrap().zero_if_tax_id = true;
    let mut draft = invoice_draft(&o);
    draft.lines[0].tax1 = tax("Default", "10");
    let out = chain
        .map_invoice(&ctx(TENANT, tax_services()), &o, draft)
        .unwrap();
    assert_eq!(out.lines[0].tax1, None);
}

#[test]
fn tax_rules_sets_the_item_taxable_flag_and_tax_from_the_home_jurisdiction() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "tax-rules")]);
    let c = ctx(TENANT, tax_services());
    let o = order();
    let mug = chain
        .map_item(&c, &o.lines[0], item_draft(&o.lines[0]))
        .unwrap();
    assert!(mug.taxable);
    assert_eq!(mug.tax, tax("CA Sales Tax", "7.25"));

    let mut book_draft = item_draft(&o.lines[1]);
    book_draft.taxable = true;
    let book = chain.map_item(&c, &o.lines[1], book_draft).unwrap();
    assert!(!book.taxable);
    assert_eq!(book.tax, None);

    let untaxed = line(3, "GIFTCARD", None);
    let out = chain.map_item(&c, &untaxed, item_draft(&untaxed)).unwrap();
    assert_eq!(out, item_draft(&untaxed), "no tax class, no change");
}

#[test]
fn tax_rules_settings_are_scoped_to_their_tenant() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "tax-rules")]);
    let o = order();
    let other = chain
        .map_invoice(&ctx("globex", tax_services()), &o, invoice_draft(&o))
        .unwrap();
    assert_eq!(
        other.lines[0].tax1, None,
        "acme's rules do not apply to globex"
    );
}

#[test]
fn enrich_segment_adds_the_segment_from_the_host_enrichment_lookup() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "enrich-segment")]);
    let services = StaticServices::new().with_enrichment(
        "segment",
        "ada@example.com",
        &[("segment", "VIP"), ("score", "97")],
    );
    let out = chain
        .map_client(&ctx(TENANT, services), &customer(), client_draft())
        .unwrap();
    assert_eq!(out.note, "Segment: VIP");
}

#[test]
fn enrich_segment_logs_and_passes_through_when_the_lookup_fails() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "enrich-segment")]);
    let services = Recording::new(StaticServices::new());
    let out = chain
        .map_client(&ctx(TENANT, services.clone()), &customer(), client_draft())
        .unwrap();
    assert_eq!(out, client_draft());
    let lines = services.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("acme/enrich-segment: enrich segment failed")),
        "{lines:?}"
    );
}

#[test]
fn enrich_segment_rejects_the_customer_when_configured_to() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "enrich-segment")]);
    let services =
        StaticServices::new().with_setting(TENANT, "enrich-segment", "on-error", "reject");
    let err = chain
        .map_client(&ctx(TENANT, services), &customer(), client_draft())
        .unwrap_err();
    assert!(
        matches!(&err.reason, Reason::Rejected { code, .. } if code == "enrich-failed"),
        "{err}"
    );
}

#[test]
fn the_three_example_plugins_chain_in_order_over_one_event() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![
        load(&rt, "custom-fields"),
        load(&rt, "tax-rules"),
        load(&rt, "enrich-segment"),
    ]);
    let services = tax_services()
        .with_setting(TENANT, "custom-fields", "client-fields", "LoyaltyTier=note")
        .with_setting(TENANT, "custom-fields", "item-attributes", "Color")
        .with_enrichment("segment", "ada@example.com", &[("segment", "VIP")]);
    let c = ctx(TENANT, services);
    let o = order();
    let mut run = chain.run(&c);
    let client = run.map_client(&o.customer, client_draft()).unwrap();
    assert_eq!(client.note, "LoyaltyTier: gold\nSegment: VIP");
    let invoice = run.map_invoice(&o, invoice_draft(&o)).unwrap();
    assert_eq!(invoice.lines[0].tax1, tax("CA Sales Tax", "7.25"));
    let item = run.map_item(&o.lines[0], item_draft(&o.lines[0])).unwrap();
    assert_eq!(item.description, "Color: red");
    assert!(item.taxable);
    assert_eq!(TenantId::parse(TENANT).unwrap(), c.tenant);
}

/// The examples install the SDK's event allocator. It must take memory back once a call's blocks are
/// freed, or an instance serving many calls would walk into its memory cap.
#[test]
fn the_event_allocator_reuses_memory_across_calls_on_one_instance() {
    // 4 MiB cap; each call below moves ~50 KiB through the plugin, 1,000 calls ~50 MiB.
    let (rt, _dir) = runtime_with(|c| c.memory_limit_bytes = 4 << 20);
    let chain = Chain::new(vec![load(&rt, "custom-fields")]);
    let services =
        StaticServices::new().with_setting(TENANT, "custom-fields", "invoice-note-attributes", "*");
    let c = ctx(TENANT, services);
    let mut o = order();
    o.custom_attributes
        .push(field("Blob", &"x".repeat(16 << 10)));
    let mut run = chain.run(&c);
    for i in 0..1_000 {
        let out = run
            .map_invoice(&o, invoice_draft(&o))
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
        assert!(out.notes.contains("Blob: xxxx"), "call {i}: {}", out.notes);
    }
}

#[test]
fn the_example_plugins_are_no_std_and_import_nothing_but_the_host_interface() {
    // std would add the WASI stdio/environment/exit imports to every fresh instance.
    let engine = wasmtime::Engine::default();
    for name in ferry_transform::artifacts::EXAMPLE_PLUGINS {
        let component = wasmtime::component::Component::new(&engine, wasm(name)).unwrap();
        let imports: Vec<String> = component
            .component_type()
            .imports(&engine)
            .map(|(import, _)| import.to_string())
            .collect();
        assert!(
            !imports.is_empty()
                && imports
                    .iter()
                    .all(|i| i.starts_with("ferry:transform/host@0.2.")
                        || i.starts_with("ferry:transform/types@0.2.")),
            "{name} imports {imports:?}"
        );
    }
}
