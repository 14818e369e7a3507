//! The example plugins' TypeScript and Python twins (`plugins/ts/`, `plugins/python/`) produce exactly the drafts,
//! the errors and the log lines of their Rust originals (`plugins/transforms/`), on the same orders with the same
//! settings: what a customer writes in either language behaves as the Rust plugin it was ported from.
//!
//! The twins are built by `scripts/build-plugin-sdks.sh` (npm and PyPI toolchains, pinned), which
//! `scripts/test.sh` runs first. Their compiled code is cached in `target/plugin-sdks/cwasm` across runs: a
//! 12–18 MB component takes seconds to compile, a cached one a millisecond to map.

use crate::support::*;
use ferry_model::{NamedAmount, Order};
use ferry_transform::{
    Chain, MappingConfig, PluginHandle, PluginRuntime, RuntimeConfig, StaticServices,
    default_drafts, shape,
};
use std::path::PathBuf;

const TENANT: &str = "acme";

fn sdks_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/plugin-sdks")
}

/// A runtime whose compile cache outlives the test, shared with `scripts/build-plugin-sdks.sh`.
fn shared_runtime() -> PluginRuntime {
    PluginRuntime::new(RuntimeConfig::new(sdks_dir().join("cwasm"))).unwrap()
}

/// Plugin `name` in each language, loaded under the same name (settings are per plugin name).
fn twins(rt: &PluginRuntime, name: &str) -> Vec<(&'static str, PluginHandle)> {
    let mut out = vec![("rust", rt.load(name, &wasm(name)).unwrap())];
    for lang in ["ts", "python"] {
        let path = sdks_dir().join(format!("twins/{lang}/{name}.wasm"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "read {}: {e}; scripts/build-plugin-sdks.sh builds the twins (scripts/test.sh runs it)",
                path.display()
            )
        });
        out.push((lang, rt.load(name, &bytes).unwrap()));
    }
    out
}

fn with(plugin: &str, settings: &[(&str, &str)]) -> StaticServices {
    settings.iter().fold(StaticServices::new(), |s, (k, v)| {
        s.with_setting(TENANT, plugin, k, v)
    })
}

fn named(name: &str, amount: &str) -> NamedAmount {
    NamedAmount {
        name: name.into(),
        amount: dec(amount),
    }
}

/// Orders that reach every branch of the three plugins: destinations with and without rules, a customer with a tax
/// id, a class priced by Kentico's own rate, discount lines with no SKU, order and line discounts, gift cards.
fn orders() -> Vec<Order> {
    let mut out = vec![
        order_to("US", "CA"),
        order_to("US", "NY"),
        order_to("GB", ""),
        order_to("FR", ""),
    ];
    let mut vat_id = order_to("GB", "");
    vat_id.customer.tax_registration_id = "GB999".into();
    vat_id.lines[0].tax_class.as_mut().unwrap().zero_if_tax_id = true;
    out.push(vat_id);

    let mut discounted = order_to("US", "CA");
    let mut reduced = tax_class("reduced");
    reduced.rate_percent = Some(dec("8.25"));
    discounted.lines.push(line(3, "TEA", Some(reduced)));
    discounted.lines[0].discounts = vec![named("Mug deal", "2.00")];
    discounted.discounts = vec![named("Welcome 10%", "3.80")];
    discounted.coupon_codes = vec![
        ferry_model::CouponCode {
            code: "WELCOME".into(),
            gift_card_value: None,
        },
        ferry_model::CouponCode {
            code: "GIFT-50".into(),
            gift_card_value: Some(dec("10.00")),
        },
    ];
    discounted.other_payments = vec![named("Gift card", "10.00")];
    discounted.totals.tax = dec("3.16");
    discounted.taxes = vec![named("Standard", "1.57"), named("Reduced", "1.59")];
    discounted.customer.email = None;
    out.push(discounted);

    let mut no_address = order_to("US", "CA");
    no_address.shipping_address = None;
    no_address.billing_address = None;
    no_address.customer.custom_fields.push(field("Empty", ""));
    out.push(no_address);
    out
}

/// Runs each twin over every order (validation, then the whole shaping pass on the default drafts) and asserts
/// that each language's outcome and log lines equal Rust's.
fn assert_same(name: &str, services: StaticServices) {
    let rt = shared_runtime();
    let plugins = twins(&rt, name);
    let mapping = MappingConfig::default();
    for order in orders() {
        let mut outcomes = Vec::new();
        for (lang, plugin) in &plugins {
            let recording = Recording {
                inner: services.clone(),
                ..Recording::default()
            };
            let c = ctx(TENANT, recording.clone());
            let chain = Chain::new(vec![plugin.clone()]);
            let issues = chain.validate_order(&c, &order).map(|v| format!("{v:?}"));
            let drafts = shape(&chain, &c, &order, default_drafts(&order, &mapping, None));
            let logs = recording.logs.lock().unwrap().clone();
            outcomes.push((*lang, issues, drafts, logs));
        }
        let (_, rust_issues, rust_drafts, rust_logs) = &outcomes[0];
        for (lang, issues, drafts, logs) in &outcomes[1..] {
            assert_eq!(
                issues, rust_issues,
                "{name} in {lang}: validation differs from Rust's"
            );
            assert_eq!(
                drafts, rust_drafts,
                "{name} in {lang}: drafts differ from Rust's"
            );
            assert_eq!(
                logs, rust_logs,
                "{name} in {lang}: log lines differ from Rust's"
            );
        }
    }
}

#[test]
fn custom_fields_twins_match_rust() {
    let plugin = "custom-fields";
    assert_same(plugin, StaticServices::new());
    assert_same(
        plugin,
        with(
            plugin,
            &[
                (
                    "client-fields",
                    "LoyaltyTier=note, VatId=vat-number, Mobile=mobile-phone, Missing=note",
                ),
                ("invoice-note-attributes", "*"),
                ("item-attributes", "Color"),
                ("invoice-note-discounts", "true"),
            ],
        ),
    );
    assert_same(
        plugin,
        with(
            plugin,
            &[
                (
                    "client-fields",
                    " VatId = vat-name ,, LoyaltyTier=organization,Mobile=business-phone",
                ),
                ("invoice-note-attributes", "GiftMessage, Nothing,"),
                ("item-attributes", " * "),
                ("invoice-note-discounts", "yes"),
            ],
        ),
    );
    // Refusals: the same error (code, message, hook) in every language.
    assert_same(plugin, with(plugin, &[("client-fields", "VatId")]));
    assert_same(plugin, with(plugin, &[("client-fields", "VatId=nowhere")]));
}

#[test]
fn tax_rules_twins_match_rust() {
    let plugin = "tax-rules";
    assert_same(plugin, StaticServices::new());
    assert_same(
        plugin,
        with(
            plugin,
            &[
                ("rule.standard", "Sales Tax:5"),
                ("rule.standard.US.CA", "CA Sales Tax:7.25"),
                ("rule.standard.GB", "VAT:20"),
                ("rule.books", "exempt"),
                ("rule.reduced", "Reduced"),
                ("rule.books.FR", " Livres : 5.5 "),
                ("home-country", "US"),
                ("home-state", "CA"),
            ],
        ),
    );
    assert_same(
        plugin,
        with(
            plugin,
            &[
                ("rule.standard", "Tax: with: colons:2"),
                ("rule.books", "Kentico rate"),
            ],
        ),
    );
    assert_same(plugin, with(plugin, &[("rule.standard", ":5")]));
}

#[test]
fn enrich_segment_twins_match_rust() {
    let plugin = "enrich-segment";
    let known = || {
        StaticServices::new().with_enrichment(
            "segment",
            "ada@example.com",
            &[("tier", "x"), ("segment", "VIP")],
        )
    };
    assert_same(plugin, known());
    assert_same(
        plugin,
        StaticServices::new()
            .with_enrichment("loyalty", "ada@example.com", &[("segment", "Gold")])
            .with_setting(TENANT, plugin, "kind", "loyalty"),
    );
    // Unknown customer: logged and passed through, or refused with on-error = reject.
    assert_same(plugin, StaticServices::new());
    assert_same(plugin, with(plugin, &[("on-error", "reject")]));
}

/// Each twin declares the hooks its Rust original declares (the build's `declare-hooks.mjs` / `declare_hooks.py`, as
/// `export_transform!` does): the chain calls, and so starts the JavaScript or Python engine for, no other hook.
#[test]
fn twins_declare_the_hooks_of_their_rust_original() {
    let rt = shared_runtime();
    for name in ["custom-fields", "tax-rules", "enrich-segment"] {
        let declared: Vec<(&str, Vec<ferry_transform::Hook>)> = twins(&rt, name)
            .into_iter()
            .map(|(lang, p)| {
                let hooks = ferry_transform::Hook::ALL
                    .into_iter()
                    .filter(|h| p.implements(*h))
                    .collect();
                (lang, hooks)
            })
            .collect();
        let rust = &declared[0].1;
        assert!(
            rust.len() < 4,
            "{name}: the Rust original leaves a hook out"
        );
        for (lang, hooks) in &declared[1..] {
            assert_eq!(hooks, rust, "{name} in {lang}");
        }
    }
}
