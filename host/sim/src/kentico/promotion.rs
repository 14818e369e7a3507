//! The seeded site's promotions (catalog, volume, Buy X Get Y and order discounts, coupon codes, the
//! free-shipping offer, gift cards) and how an order's rows become a [`Cart`] for [`super::pricing`]. Where
//! each kind lands in `COM_Order` / `COM_OrderItem` follows docs/kentico.md §2.4 and §2 of
//! `shared/reference/kentico/discounts.md`: catalog and volume discounts lower `OrderItemUnitPrice`
//! (`OrderItemProductDiscounts`), coupons and multibuy lower `OrderItemTotalPrice` (`OrderItemDiscountSummary`), order discounts only appear in
//! `OrderDiscounts`, free shipping only lowers `OrderTotalShipping` (its code, if any, in `OrderCouponCodes`),
//! gift cards are "other payments" (`OrderOtherPayments`, code and value in `OrderCouponCodes`).
//!
//! guess: Dancing Goat ships no discounts; these are the kinds a coffee shop runs, with display names as the
//! summaries show them. The configuration tables (`COM_Discount`, `COM_CouponCode`, `COM_MultiBuyDiscount`,
//! `COM_VolumeDiscount`, `COM_GiftCard`) are not served; an integrator only ever reads the order's copies.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::pricing::{
    Amount, Cart, FreeShipping, GiftCard, ItemDiscount, Line, Named, OrderDiscount, SummaryItem,
    TaxRate, round,
};
use super::reference::Currency;
use super::seed::dec;
use super::sku::Sku;
use super::spec::OrderSpec;

/// `GiftCardDisplayName` of the site's gift card.
pub(crate) const GIFT_CARD: &str = "Gift card";

/// Which promotions an order's cart ran; kept on the order so an edit recalculates with the same rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CartRules {
    pub(crate) catalog: bool,
    pub(crate) volume: bool,
    pub(crate) multibuy: bool,
    pub(crate) order_discount: bool,
    pub(crate) free_shipping: bool,
    /// Known coupon codes entered, upper-case, in entry order.
    pub(crate) coupons: Vec<String>,
    /// `(code, remaining value in the main currency)` of redeemed gift cards.
    pub(crate) gift_cards: Vec<(String, Decimal)>,
}

impl CartRules {
    /// The rules a spec asks for, or `None` for a plain order that uses no cart feature (such orders are
    /// priced and stored exactly as before the simulator modelled promotions).
    pub(crate) fn from_spec(
        spec: &OrderSpec,
        skus: &[Sku],
        gift_code: impl FnOnce() -> String,
    ) -> Option<Self> {
        let coupons: Vec<String> = spec
            .coupons
            .iter()
            .filter_map(|c| known_coupon(c).map(str::to_owned))
            .fold(Vec::new(), |mut v, c| {
                if !v.contains(&c) {
                    v.push(c);
                }
                v
            });
        let gift_cards: Vec<(String, Decimal)> = spec
            .gift_card
            .filter(|v| *v > Decimal::ZERO)
            .map(|v| vec![(gift_code(), v)])
            .unwrap_or_default();
        let bundles = spec.lines.iter().any(|l| {
            skus.iter()
                .any(|s| s.id == l.sku_id && s.kind == super::spec::SkuKind::Bundle)
        });
        let rules = Self {
            catalog: spec.catalog_discounts,
            volume: spec.volume_discounts,
            multibuy: spec.multibuy,
            order_discount: spec.order_discount,
            free_shipping: spec.free_shipping,
            coupons,
            gift_cards,
        };
        (rules != Self::default() || !spec.options.is_empty() || bundles).then_some(rules)
    }
}

/// The canonical spelling of a known coupon code (codes match case-insensitively).
pub(crate) fn known_coupon(code: &str) -> Option<&'static str> {
    super::spec::COUPON_CODES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(code.trim()))
        .copied()
}

/// Product families promotions target, by SKU number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Coffee,
    BrewingGear,
    Merch,
}

fn family(sku: &Sku) -> Option<Family> {
    let n = sku.number.as_str();
    if n.starts_with("DG-COF-") {
        Some(Family::Coffee)
    } else if n.starts_with("DG-GEAR-") || n.starts_with("DG-GRND-") {
        Some(Family::BrewingGear)
    } else if n.starts_with("DG-MERC-") {
        Some(Family::Merch)
    } else {
        None
    }
}

/// One item row of an order being written: a product or bundle, or an option or bundle child under one.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// Index into `Store::skus`.
    pub(crate) sku: usize,
    pub(crate) quantity: i64,
    /// Index of the parent row, for an option.
    pub(crate) parent: Option<usize>,
    /// Index of the bundle row, for a bundle child.
    pub(crate) bundle: Option<usize>,
    /// `OrderItemText` of a text option.
    pub(crate) text: Option<String>,
    pub(crate) guid: Uuid,
    pub(crate) custom: Vec<(&'static str, String)>,
    /// Unit price and per-unit discounts kept from the order as stored (admin edit).
    pub(crate) kept: Option<(Decimal, Vec<SummaryItem>)>,
}

impl Row {
    /// Whether the cart prices this row (products, bundles and accessory options).
    pub(crate) fn is_calculated(&self, skus: &[Sku]) -> bool {
        self.bundle.is_none() && skus[self.sku].is_calculated()
    }
}

/// Builds the calculation input for `rows`; also returns, per row, its line index in the cart.
/// `tax` gives the rate of a tax class at the order's tax address.
pub(crate) fn cart(
    rows: &[Row],
    skus: &[Sku],
    rules: Option<&CartRules>,
    currency: &Currency,
    shipping: Decimal,
    tax: impl Fn(Option<i64>) -> Option<TaxRate>,
) -> (Cart, Vec<Option<usize>>) {
    let convert = |main: Decimal| round(main * currency.rate);
    let none = CartRules::default();
    let r = rules.unwrap_or(&none);
    let mut lines = Vec::new();
    let mut families = Vec::new();
    let mut index = vec![None; rows.len()];
    for (i, row) in rows.iter().enumerate() {
        if !row.is_calculated(skus) {
            continue;
        }
        let sku = &skus[row.sku];
        // Attribute and text options are folded into the parent's price (docs/kentico.md §2.3, options).
        let folded: Decimal = rows
            .iter()
            .filter(|o| o.parent == Some(i) && !skus[o.sku].is_calculated())
            .map(|o| convert(skus[o.sku].price))
            .sum();
        let fam = family(sku);
        let mut unit_discounts = Vec::new();
        if r.catalog {
            match fam {
                Some(Family::Coffee) => {
                    unit_discounts.push(named("Coffee of the month", Amount::Percent(dec("10"))))
                }
                Some(Family::BrewingGear) => {
                    unit_discounts
                        .push(named("Gear clearance", Amount::Flat(convert(dec("5.00")))));
                }
                _ => {}
            }
        }
        if r.volume && fam == Some(Family::Coffee) {
            // Volume counts every unit of the SKU in the cart.
            let units: i64 = rows
                .iter()
                .filter(|o| o.sku == row.sku && o.is_calculated(skus))
                .map(|o| o.quantity)
                .sum();
            if units >= 10 {
                unit_discounts.push(named(
                    "Volume discount (10+ bags)",
                    Amount::Percent(dec("10")),
                ));
            } else if units >= 5 {
                unit_discounts.push(named(
                    "Volume discount (5+ bags)",
                    Amount::Percent(dec("5")),
                ));
            }
        }
        index[i] = Some(lines.len());
        families.push(fam);
        lines.push(Line {
            standard: convert(sku.price) + folded,
            quantity: row.quantity,
            kept: row.kept.clone(),
            unit_discounts,
            tax: tax(sku.tax_class_id),
        });
    }
    let of = |f: Family| -> Vec<usize> {
        families
            .iter()
            .enumerate()
            .filter(|(_, x)| **x == Some(f))
            .map(|(i, _)| i)
            .collect()
    };
    let has = |code: &str| r.coupons.iter().any(|c| c == code);
    let mut item_discounts = Vec::new();
    if has("BREW10") {
        item_discounts.push(ItemDiscount {
            name: "Brewing gear 10% off".into(),
            code: Some("BREW10".into()),
            lines: of(Family::BrewingGear),
            buy: 0,
            get: 0,
            percent: dec("10"),
        });
    }
    if r.multibuy {
        item_discounts.push(ItemDiscount {
            name: "Buy 2 bags, get 1 free".into(),
            code: None,
            lines: of(Family::Coffee),
            buy: 2,
            get: 1,
            percent: dec("100"),
        });
        item_discounts.push(ItemDiscount {
            name: "Second mug half price".into(),
            code: None,
            lines: of(Family::Merch),
            buy: 1,
            get: 1,
            percent: dec("50"),
        });
    }
    // guess: coupon-unlocked order discounts have a higher priority than the automatic one (cascade).
    let mut order_discounts = Vec::new();
    if has("WELCOME10") {
        order_discounts.push(OrderDiscount {
            discount: named("Welcome 10%", Amount::Percent(dec("10"))),
            code: Some("WELCOME10".into()),
            minimum: Decimal::ZERO,
        });
    }
    if has("SAVE15") {
        // guess: the minimum (main currency) is compared after converting it to the order currency.
        order_discounts.push(OrderDiscount {
            discount: named("Save 15 on 75+", Amount::Flat(convert(dec("15.00")))),
            code: Some("SAVE15".into()),
            minimum: convert(dec("75.00")),
        });
    }
    if r.order_discount {
        order_discounts.push(OrderDiscount {
            discount: named("Loyalty 5%", Amount::Percent(dec("5"))),
            code: None,
            minimum: Decimal::ZERO,
        });
    }
    let mut free_shipping = Vec::new();
    if has("FREESHIP") {
        free_shipping.push(FreeShipping {
            code: Some("FREESHIP".into()),
        });
    }
    if r.free_shipping {
        free_shipping.push(FreeShipping { code: None });
    }
    let gift_cards = r
        .gift_cards
        .iter()
        .map(|(code, value)| GiftCard {
            name: GIFT_CARD.into(),
            code: code.clone(),
            value: convert(*value),
        })
        .collect();
    let cart = Cart {
        lines,
        item_discounts,
        order_discounts,
        shipping,
        free_shipping,
        gift_cards,
        rate: currency.rate,
    };
    (cart, index)
}

fn named(name: &str, amount: Amount) -> Named {
    Named {
        name: name.to_owned(),
        amount,
    }
}

/// The code of the gift card order `order_id` redeems: `GC-XXXX-XXXX`, drawn from the seed.
pub(crate) fn gift_card_code(seed: u64, order_id: i64) -> String {
    use rand::Rng;
    let mut r = super::seed::rng(seed, super::seed::Stream::Promo, order_id as u64);
    let a: u16 = r.r#gen();
    let b: u16 = r.r#gen();
    format!("GC-{a:04X}-{b:04X}")
}
