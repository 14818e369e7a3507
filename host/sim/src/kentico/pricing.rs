//! K13's shopping-cart calculation (`ShoppingCartCalculationFactory`; docs/kentico.md §2.3, and §1–§5 of
//! `shared/reference/kentico/discounts.md`), as a pure function from a [`Cart`] to a [`Priced`] order. The
//! steps run in Kentico's order:
//!
//! 1. unit prices: standard price (SKU + attribute/text option prices, in the order currency) minus catalog
//!    discounts, then volume discounts, each its own priority group (the next group's base is the price after
//!    the previous ones);
//! 2. cart-item discounts: product coupons, then Buy X Get Y (line-total discounts);
//! 3. `Subtotal` = Σ line totals;
//! 4. order discounts on the subtotal, cascading, never more than the subtotal;
//! 5. shipping, zeroed by a free-shipping offer;
//! 6. tax per tax class over the whole order, after order discounts (spread pro rata over the classes);
//! 7. `Total` = Subtotal − order discount + shipping + tax;
//! 8. gift cards ("other payments"), each `min(card value, what is left of Total)`;
//! 9. `GrandTotal` = Total − other payments.
//!
//! # Rounding
//!
//! `CMSPriceRounding` 0 (the K13 default): `Math.Round(x, 2, MidpointRounding.AwayFromZero)`, two decimals
//! being `CurrencyRoundTo` of every seeded currency. Rounded are: each SKU/option price converted to the order
//! currency, every discount application (a percentage discount is `Round(base × rate)`, capped at its base; a
//! flat discount is converted and rounded once), the tax of each class (once per class, never per line),
//! gift-card values, and the `…InMainCurrency` amounts. Sums of rounded amounts are exact, so every identity
//! below holds to the cent with no residue.
//!
//! # Identities an integrator can rely on
//!
//! For every order the simulator calculated (all orders except the deliberately broken
//! `Defect::TotalsMismatch` ones):
//!
//! - per calculated row: `OrderItemUnitPrice` = standard unit price − Σ `OrderItemProductDiscounts` values, and
//!   `OrderItemTotalPrice` = `OrderItemUnitPrice` × `OrderItemUnitCount` − Σ `OrderItemDiscountSummary` values;
//! - attribute/text option rows (`OrderItemParentGuid` set, price folded into the parent) and bundle children
//!   (`OrderItemBundleGUID` set) carry 0 unit and total price, so summing **every** item row is the same as
//!   summing the calculated ones (products and accessory options);
//! - Σ `OrderItemTotalPrice` − Σ `OrderDiscounts` + `OrderTotalShipping` + `OrderTotalTax` = `OrderTotalPrice`;
//! - Σ `OrderTaxSummary` = `OrderTotalTax`;
//! - `OrderGrandTotal` = `OrderTotalPrice` − Σ `OrderOtherPayments` (gift cards never reduce tax);
//! - `OrderCouponCodes` lists exactly the codes that changed a number, in calculation order (product coupons,
//!   order discounts, free shipping, gift cards), gift cards with `ValueInMainCurrency` = the amount used.

use rust_decimal::{Decimal, RoundingStrategy};

/// K13's default price rounding: two decimals, midpoint away from zero.
pub(crate) fn round(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `(display name, amount)`: one `<Item>` of a `ValuesSummary`.
pub(crate) type SummaryItem = (String, Decimal);

/// Adds to a summary the way `ValuesSummary.Sum` does: items with the same name are merged.
pub(crate) fn add_to(summary: &mut Vec<SummaryItem>, name: &str, value: Decimal) {
    match summary.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => *v += value,
        None => summary.push((name.to_owned(), value)),
    }
}

/// The size of a discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Amount {
    /// A percentage (10 = 10 %) of the base.
    Percent(Decimal),
    /// A fixed amount, already converted to the order currency and rounded.
    Flat(Decimal),
}

impl Amount {
    /// What this discount takes off `base`: never negative, never more than the base.
    pub(crate) fn of(self, base: Decimal) -> Decimal {
        if base <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        let value = match self {
            Self::Percent(p) => round(base * p / Decimal::ONE_HUNDRED),
            Self::Flat(f) => f,
        };
        value.clamp(Decimal::ZERO, base)
    }
}

/// A discount with the display name its summary item gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub(crate) name: String,
    pub(crate) amount: Amount,
}

/// A tax class's rate at the order's tax address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaxRate {
    /// `OrderTaxSummary` item name.
    pub(crate) name: String,
    /// Percent (`TaxValue`).
    pub(crate) percent: Decimal,
}

/// A calculated line: a product, a bundle, or an accessory option.
#[derive(Debug, Clone, Default)]
pub(crate) struct Line {
    /// Unit price before discounts, in the order currency (options folded in).
    pub(crate) standard: Decimal,
    /// `OrderItemUnitCount`.
    pub(crate) quantity: i64,
    /// Unit price and per-unit discounts kept from an earlier calculation: an admin edit re-prices new lines
    /// only (`PriceOverride`).
    pub(crate) kept: Option<(Decimal, Vec<SummaryItem>)>,
    /// Catalog then volume discounts, one priority group each.
    pub(crate) unit_discounts: Vec<Named>,
    /// `None` when the line is not taxed at this address.
    pub(crate) tax: Option<TaxRate>,
}

/// A discount on line totals: a product coupon (`buy` 0) or Buy X Get Y.
#[derive(Debug, Clone)]
pub(crate) struct ItemDiscount {
    pub(crate) name: String,
    /// Coupon code that unlocked it, if any.
    pub(crate) code: Option<String>,
    /// Indices of the lines it applies to.
    pub(crate) lines: Vec<usize>,
    /// Multibuy: units to buy (X); 0 for a product coupon.
    pub(crate) buy: i64,
    /// Multibuy: units discounted per application (Y).
    pub(crate) get: i64,
    /// Percent off the discounted units (100 = free) or off the coupon's line totals.
    pub(crate) percent: Decimal,
}

/// An order discount.
#[derive(Debug, Clone)]
pub(crate) struct OrderDiscount {
    pub(crate) discount: Named,
    pub(crate) code: Option<String>,
    /// Minimum subtotal, in the order currency.
    pub(crate) minimum: Decimal,
}

/// A free-shipping offer.
#[derive(Debug, Clone)]
pub(crate) struct FreeShipping {
    pub(crate) code: Option<String>,
}

/// A gift card redeemed at checkout.
#[derive(Debug, Clone)]
pub(crate) struct GiftCard {
    /// `GiftCardDisplayName`.
    pub(crate) name: String,
    pub(crate) code: String,
    /// Remaining value, in the order currency, rounded.
    pub(crate) value: Decimal,
}

/// The input of a calculation.
#[derive(Debug, Clone)]
pub(crate) struct Cart {
    pub(crate) lines: Vec<Line>,
    /// Product coupons first, then multibuy discounts (the order of step 2).
    pub(crate) item_discounts: Vec<ItemDiscount>,
    /// In priority order (cascade).
    pub(crate) order_discounts: Vec<OrderDiscount>,
    /// Shipping price before offers, in the order currency.
    pub(crate) shipping: Decimal,
    pub(crate) free_shipping: Vec<FreeShipping>,
    pub(crate) gift_cards: Vec<GiftCard>,
    /// Order-currency units per main-currency unit (for `ValueInMainCurrency`).
    pub(crate) rate: Decimal,
}

/// A line after calculation.
#[derive(Debug, Clone, Default)]
pub(crate) struct PricedLine {
    /// `OrderItemUnitPrice`.
    pub(crate) unit_price: Decimal,
    /// `OrderItemProductDiscounts`: per-unit catalog and volume discounts.
    pub(crate) unit_discounts: Vec<SummaryItem>,
    /// `OrderItemDiscountSummary`: line-total coupon and multibuy discounts.
    pub(crate) line_discounts: Vec<SummaryItem>,
    /// `OrderItemTotalPrice`.
    pub(crate) total: Decimal,
}

/// An entry of `OrderCouponCodes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppliedCode {
    pub(crate) code: String,
    /// Gift cards only: the amount used, in the main currency.
    pub(crate) value_in_main: Option<Decimal>,
}

/// The result: every amount an order and its items store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Priced {
    pub(crate) lines: Vec<PricedLine>,
    pub(crate) subtotal: Decimal,
    /// `OrderDiscounts`.
    pub(crate) order_discounts: Vec<SummaryItem>,
    pub(crate) order_discount: Decimal,
    /// `OrderTotalShipping`.
    pub(crate) shipping: Decimal,
    /// `OrderTotalTax`.
    pub(crate) tax: Decimal,
    /// `OrderTaxSummary`.
    pub(crate) tax_summary: Vec<SummaryItem>,
    /// `OrderTotalPrice`.
    pub(crate) total: Decimal,
    /// `OrderOtherPayments`.
    pub(crate) other_payments: Vec<SummaryItem>,
    /// `OrderGrandTotal`.
    pub(crate) grand_total: Decimal,
    /// `OrderCouponCodes`.
    pub(crate) codes: Vec<AppliedCode>,
}

/// Runs the pipeline.
pub(crate) fn calculate(cart: &Cart) -> Priced {
    let mut out = Priced {
        lines: cart.lines.iter().map(unit_price).collect(),
        ..Priced::default()
    };
    for d in &cart.item_discounts {
        apply_item_discount(cart, d, &mut out);
    }
    for (line, priced) in cart.lines.iter().zip(out.lines.iter_mut()) {
        let discounts: Decimal = priced.line_discounts.iter().map(|(_, v)| *v).sum();
        priced.total = priced.unit_price * Decimal::from(line.quantity) - discounts;
    }
    out.subtotal = out.lines.iter().map(|l| l.total).sum();

    for d in &cart.order_discounts {
        let base = out.subtotal - out.order_discount;
        if out.subtotal < d.minimum || base <= Decimal::ZERO {
            continue;
        }
        let value = d.discount.amount.of(base);
        if value.is_zero() {
            continue;
        }
        out.order_discount += value;
        add_to(&mut out.order_discounts, &d.discount.name, value);
        if let Some(code) = &d.code {
            push_code(&mut out.codes, code, None);
        }
    }

    out.shipping = cart.shipping;
    if out.shipping > Decimal::ZERO
        && let Some(offer) = cart.free_shipping.first()
    {
        out.shipping = Decimal::ZERO;
        if let Some(code) = &offer.code {
            push_code(&mut out.codes, code, None);
        }
    }

    (out.tax, out.tax_summary) = tax(cart, &out);
    out.total = out.subtotal - out.order_discount + out.shipping + out.tax;

    let mut left = out.total;
    for card in &cart.gift_cards {
        let used = card.value.min(left).max(Decimal::ZERO);
        if used.is_zero() {
            continue;
        }
        left -= used;
        add_to(&mut out.other_payments, &card.name, used);
        let main = if cart.rate.is_zero() {
            used
        } else {
            round(used / cart.rate)
        };
        push_code(&mut out.codes, &card.code, Some(main));
    }
    let other: Decimal = out.other_payments.iter().map(|(_, v)| *v).sum();
    out.grand_total = out.total - other;
    out
}

/// Step 1: the unit price after catalog and volume discounts, or the kept one.
fn unit_price(line: &Line) -> PricedLine {
    if let Some((unit, summary)) = &line.kept {
        return PricedLine {
            unit_price: *unit,
            unit_discounts: summary.clone(),
            ..PricedLine::default()
        };
    }
    let mut unit = line.standard.max(Decimal::ZERO);
    let mut summary = Vec::new();
    for d in &line.unit_discounts {
        let value = d.amount.of(unit);
        if value.is_zero() {
            continue;
        }
        unit -= value;
        add_to(&mut summary, &d.name, value);
    }
    PricedLine {
        unit_price: unit,
        unit_discounts: summary,
        ..PricedLine::default()
    }
}

/// Step 2 for one discount. A product coupon takes its percentage off each eligible line total; Buy X Get Y
/// ranks the eligible units by price ("based on the most expensive products") and discounts the `get`
/// cheapest of every `buy + get` ("applied to the cheapest").
fn apply_item_discount(cart: &Cart, d: &ItemDiscount, out: &mut Priced) {
    let mut applied = false;
    if d.buy == 0 {
        for &i in &d.lines {
            let (Some(line), Some(priced)) = (cart.lines.get(i), out.lines.get_mut(i)) else {
                continue;
            };
            let base = priced.unit_price * Decimal::from(line.quantity);
            let value = Amount::Percent(d.percent).of(base);
            if !value.is_zero() {
                add_to(&mut priced.line_discounts, &d.name, value);
                applied = true;
            }
        }
    } else {
        let mut units: Vec<(Decimal, usize)> = d
            .lines
            .iter()
            .filter_map(|&i| Some((i, cart.lines.get(i)?.quantity, out.lines.get(i)?)))
            .flat_map(|(i, q, p)| std::iter::repeat_n((p.unit_price, i), q.max(0) as usize))
            .collect();
        units.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let group = (d.buy + d.get).max(1) as usize;
        let free = units.len() / group * d.get.max(0) as usize;
        for &(price, i) in units.iter().rev().take(free) {
            let value = Amount::Percent(d.percent).of(price);
            if !value.is_zero() {
                add_to(&mut out.lines[i].line_discounts, &d.name, value);
                applied = true;
            }
        }
    }
    if applied && let Some(code) = &d.code {
        push_code(&mut out.codes, code, None);
    }
}

/// Step 6: `(OrderTotalTax, OrderTaxSummary)`.
fn tax(cart: &Cart, out: &Priced) -> (Decimal, Vec<SummaryItem>) {
    // Once per tax class over the whole order, after its share of the order discount (K13, `docs/kentico.md`
    // §12.3), for every order. Class bases in order of first appearance.
    let mut summary: Vec<SummaryItem> = Vec::new();
    let mut classes: Vec<(&TaxRate, Decimal)> = Vec::new();
    for (line, priced) in cart.lines.iter().zip(&out.lines) {
        let Some(rate) = &line.tax else { continue };
        match classes.iter_mut().find(|(r, _)| r.name == rate.name) {
            Some((_, sum)) => *sum += priced.total,
            None => classes.push((rate, priced.total)),
        }
    }
    for (rate, class_sum) in classes {
        let share = if out.subtotal.is_zero() {
            Decimal::ZERO
        } else {
            out.order_discount * class_sum / out.subtotal
        };
        let t = round((class_sum - share) * rate.percent / Decimal::ONE_HUNDRED);
        // Zero taxes are not listed.
        if !t.is_zero() {
            add_to(&mut summary, &rate.name, t);
        }
    }
    (summary.iter().map(|(_, v)| *v).sum(), summary)
}

fn push_code(codes: &mut Vec<AppliedCode>, code: &str, value_in_main: Option<Decimal>) {
    // A code appears once.
    if !codes.iter().any(|c| c.code.eq_ignore_ascii_case(code)) {
        codes.push(AppliedCode {
            code: code.to_owned(),
            value_in_main,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn vat() -> Option<TaxRate> {
        Some(TaxRate {
            name: "VAT 20%".into(),
            percent: d("20"),
        })
    }

    /// The worked example of the discounts reference (§5.3), number for number.
    #[test]
    fn the_reference_worked_example() {
        let cart = Cart {
            lines: vec![
                Line {
                    standard: d("20.00"),
                    quantity: 3,
                    unit_discounts: vec![Named {
                        name: "Spring sale".into(),
                        amount: Amount::Percent(d("10")),
                    }],
                    tax: vat(),
                    ..Line::default()
                },
                Line {
                    standard: d("50.00"),
                    quantity: 1,
                    tax: vat(),
                    ..Line::default()
                },
            ],
            item_discounts: vec![ItemDiscount {
                name: "Buy 2 get 1 free".into(),
                code: None,
                lines: vec![0],
                buy: 2,
                get: 1,
                percent: d("100"),
            }],
            order_discounts: vec![OrderDiscount {
                discount: Named {
                    name: "Welcome 5%".into(),
                    amount: Amount::Percent(d("5")),
                },
                code: Some("WELCOME5".into()),
                minimum: Decimal::ZERO,
            }],
            shipping: d("10.00"),
            free_shipping: Vec::new(),
            gift_cards: vec![GiftCard {
                name: "Gift card".into(),
                code: "GC-XYZ".into(),
                value: d("25.00"),
            }],
            rate: Decimal::ONE,
        };
        // The reference's example taxes shipping too; here shipping has no tax class, so add its 2.00 by hand.
        let p = calculate(&cart);
        assert_eq!(p.lines[0].unit_price, d("18.00"));
        assert_eq!(
            p.lines[0].line_discounts,
            vec![("Buy 2 get 1 free".into(), d("18.00"))]
        );
        assert_eq!(p.lines[0].total, d("36.00"));
        assert_eq!(p.subtotal, d("86.00"));
        assert_eq!(p.order_discount, d("4.30"));
        assert_eq!(p.tax, d("16.34"));
        assert_eq!(p.total + d("2.00"), d("110.04"));
        assert_eq!(p.grand_total + d("2.00"), d("85.04"));
        assert_eq!(
            p.codes.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
            ["WELCOME5", "GC-XYZ"]
        );
    }

    #[test]
    fn gift_cards_stop_at_the_total_and_free_shipping_zeroes_shipping() {
        let cart = Cart {
            lines: vec![Line {
                standard: d("10.00"),
                quantity: 1,
                ..Line::default()
            }],
            item_discounts: Vec::new(),
            order_discounts: Vec::new(),
            shipping: d("5.00"),
            free_shipping: vec![FreeShipping {
                code: Some("FREESHIP".into()),
            }],
            gift_cards: vec![GiftCard {
                name: "Gift card".into(),
                code: "GC-1".into(),
                value: d("50.00"),
            }],
            rate: d("0.5"),
        };
        let p = calculate(&cart);
        assert_eq!(
            (p.shipping, p.total, p.grand_total),
            (d("0"), d("10.00"), d("0"))
        );
        assert_eq!(p.codes[1].value_in_main, Some(d("20.00")));
    }
}
