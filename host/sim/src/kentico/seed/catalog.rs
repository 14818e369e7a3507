//! The product catalogue.

use rand::Rng;
use time::{Duration, OffsetDateTime};

use super::super::sku::Sku;
use super::super::spec::SkuKind;
use super::{SITE_ID, SimRng, dec, guid};

/// Dancing Goat-style catalogue: coffees (reduced tax), equipment (standard), gift cards (exempt e-products).
pub(crate) fn skus(g: &mut SimRng, at: OffsetDateTime) -> Vec<Sku> {
    const COFFEE: &[(&str, &str, &str)] = &[
        ("Colombia Carlos Imbachi", "13.50", "Colombia"),
        ("Brazil Natural Barra Grande", "18.90", "Brazil"),
        ("Ethiopia Yirgacheffe", "15.20", "Ethiopia"),
        ("Kenya Gakuyuni AA", "16.80", "Kenya"),
        ("Guatemala El Injerto", "19.50", "Guatemala"),
        ("Costa Rica Finca Las Lajas", "14.70", "Costa Rica"),
        ("Sumatra Mandheling", "12.90", "Indonesia"),
        ("Honduras Finca Cual Bicho", "14.10", "Honduras"),
    ];
    const GEAR: &[(&str, &str, &str)] = &[
        ("Chemex Classic 8-cup", "46.50", "GEAR"),
        ("Hario V60 Dripper", "24.00", "GEAR"),
        ("AeroPress Coffee Maker", "34.95", "GEAR"),
        ("Hario Skerton Pro Grinder", "52.00", "GRND"),
        ("Baratza Encore Grinder", "169.00", "GRND"),
        ("Bialetti Moka Express", "39.90", "GEAR"),
        ("Dancing Goat Mug", "11.00", "MERC"),
        ("Barista Scale", "59.00", "GEAR"),
    ];
    let mut out = Vec::new();
    let mut push = |name: &str,
                    number: String,
                    price: &str,
                    class: i64,
                    product_type: &'static str,
                    custom: Vec<(&'static str, String)>,
                    description: String,
                    g: &mut SimRng| {
        let id = out.len() as i64 + 1;
        out.push(Sku {
            id,
            number,
            name: name.to_owned(),
            description: format!("<p>{description}</p>"),
            short_description: format!("<p>{}</p>", description.replace('&', "&amp;")),
            price: dec(price),
            retail_price: None,
            tax_class_id: Some(class),
            guid: guid(g),
            created: at - Duration::days(400),
            last_modified: at,
            product_type,
            needs_shipping: product_type == "PRODUCT",
            weight: if product_type == "PRODUCT" { 0.25 } else { 0.0 },
            available_items: g.gen_range(20..500),
            site_id: Some(SITE_ID),
            custom,
            kind: SkuKind::Product,
            option_category_id: None,
            option_for: Vec::new(),
            bundle_items: Vec::new(),
            enabled: true,
            track_inventory: "ByProduct",
            parent_id: None,
            deleted: false,
        });
    };
    for (i, (name, price, origin)) in COFFEE.iter().enumerate() {
        push(
            name,
            format!("DG-COF-{:03}", i + 1),
            price,
            2,
            "PRODUCT",
            vec![("Origin", (*origin).to_owned())],
            format!("Single origin coffee from {origin}, roasted & packed in 250 g bags."),
            g,
        );
    }
    for (i, (name, price, kind)) in GEAR.iter().enumerate() {
        push(
            name,
            format!("DG-{kind}-{:03}", i + 1),
            price,
            1,
            "PRODUCT",
            Vec::new(),
            format!("{name} for brewing at home."),
            g,
        );
    }
    for (i, amount) in ["25", "50"].iter().enumerate() {
        push(
            &format!("Gift card ${amount}"),
            format!("DG-GIFT-{:03}", i + 1),
            amount,
            3,
            "EPRODUCT",
            Vec::new(),
            format!("An electronic gift card worth ${amount}."),
            g,
        );
    }
    // Options and bundles come after the products so the products keep their ids and GUIDs.
    // guess: Dancing Goat has no option categories or bundles; these are what a coffee shop typically sets up.
    const OPTIONS: &[(&str, &str, SkuKind, i64, &[i64])] = &[
        (
            "1 kg bag",
            "30.00",
            SkuKind::AttributeOption,
            1,
            &[1, 2, 3, 4, 5, 6, 7, 8],
        ),
        (
            "Gift box",
            "3.00",
            SkuKind::AttributeOption,
            2,
            &[1, 2, 3, 4, 5, 6, 7, 8, 15],
        ),
        ("Engraving", "7.50", SkuKind::TextOption, 3, &[12, 13, 15]),
        (
            "Paper filters (100 pcs)",
            "6.90",
            SkuKind::AccessoryOption,
            4,
            &[9, 10],
        ),
    ];
    for (i, (name, price, ..)) in OPTIONS.iter().enumerate() {
        push(
            name,
            format!("DG-OPT-{:03}", i + 1),
            price,
            1,
            "PRODUCT",
            Vec::new(),
            format!("Option: {name}."),
            g,
        );
    }
    /// Name, price and `(SKUID, units)` contents.
    type Bundle = (&'static str, &'static str, &'static [(i64, i64)]);
    const BUNDLES: &[Bundle] = &[
        (
            "Pour-over starter kit",
            "79.00",
            &[(10, 1), (1, 1), (15, 1)],
        ),
        ("Espresso lover's box", "99.00", &[(14, 1), (2, 2), (15, 1)]),
    ];
    for (i, (name, price, _)) in BUNDLES.iter().enumerate() {
        push(
            name,
            format!("DG-BNDL-{:03}", i + 1),
            price,
            1,
            "BUNDLE",
            Vec::new(),
            format!("{name}: everything to get started, in one box."),
            g,
        );
    }
    let options = out.len() - OPTIONS.len() - BUNDLES.len();
    for (sku, (_, _, kind, category, parents)) in out[options..].iter_mut().zip(OPTIONS) {
        sku.kind = *kind;
        sku.option_category_id = Some(*category);
        sku.option_for = parents.to_vec();
        sku.needs_shipping = *kind == SkuKind::AccessoryOption;
        sku.weight = 0.0;
    }
    let bundles = out.len() - BUNDLES.len();
    for (sku, (_, _, items)) in out[bundles..].iter_mut().zip(BUNDLES) {
        sku.kind = SkuKind::Bundle;
        sku.bundle_items = items.to_vec();
        sku.needs_shipping = true;
    }
    out
}
