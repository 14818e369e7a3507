//! Invoice lines and items from Kentico's rows, to the cent: every product row bills `qty × unit` as Kentico did,
//! each line-total discount (product coupon, Buy X Get Y) and each order discount is a negative line named as the
//! shop names it and taxed like what it discounts, options and bundle contents sit with their parent, and shipping
//! is a line of its own.
//!
//! Kentico spreads an order discount over the tax classes in proportion to their subtotals before it computes each
//! class's tax (`docs/kentico.md` §12.3); the discount lines do the same, one line per taxed group, with the cents
//! allocated by largest remainder so that they add up to the discount exactly.

use super::{MappingConfig, OptionLines, Pricing, line_sku};
use ferry_model::{Decimal, InvoiceLineDraft, ItemDraft, LineTax, Order, OrderLine, cents};

/// The invoice lines (in Kentico's order, each option or discount after what it belongs to) and one item per
/// billed SKU.
pub(super) fn lines_and_items(
    order: &Order,
    settings: &MappingConfig,
    price: &Pricing<'_>,
) -> (Vec<InvoiceLineDraft>, Vec<ItemDraft>) {
    let mut items: Vec<ItemDraft> = Vec::new();
    let mut lines = Vec::with_capacity(order.lines.len() + 2);
    // Subtotal per tax group after line discounts: the base an order discount is spread over.
    let mut groups: Vec<(Option<LineTax>, Decimal)> = Vec::new();
    for row in order.lines.iter().filter(|l| is_billed(l)) {
        let tax = price.tax(row);
        let sku = line_sku(row);
        if !items.iter().any(|i| i.sku == sku) {
            items.push(ItemDraft {
                name: row.name.clone(),
                description: row.description.clone(),
                sku: sku.clone(),
                unit_cost: price.money(row.sku_price.unwrap_or(row.unit_price)),
                taxable: tax.is_some(),
                tax: tax.clone(),
            });
        }
        lines.push(product_line(order, row, settings, price, tax.clone(), sku));
        for discount in &row.discounts {
            lines.push(discount_line(
                &discount.name,
                discount.amount,
                price,
                tax.clone(),
            ));
        }
        let net = row.total_price;
        match groups.iter_mut().find(|(t, _)| *t == tax) {
            Some((_, sum)) => *sum += net,
            None => groups.push((tax, net)),
        }
        if settings.options == OptionLines::Lines {
            for child in children(order, row) {
                lines.push(zero_line(child, price));
            }
        }
    }
    let total: Decimal = order.discounts.iter().map(|d| d.amount).sum();
    let (mut need, rounding) = group_shares(total, &groups);
    // The cents no taxed group can take without changing its tax ride on the largest discount, untaxed.
    let carrier = order
        .discounts
        .iter()
        .enumerate()
        .max_by(|(a, x), (b, y)| x.amount.cmp(&y.amount).then(b.cmp(a)))
        .map(|(k, _)| k);
    for (k, discount) in order.discounts.iter().enumerate() {
        let carried = if Some(k) == carrier {
            rounding
        } else {
            Decimal::ZERO
        };
        for (tax, share) in spread(discount.amount - carried, &groups, &mut need) {
            let name = match (&tax, groups.len()) {
                (Some(t), 2..) => format!("{} ({})", discount.name, t.name),
                _ => discount.name.clone(),
            };
            lines.push(discount_line(&name, share, price, tax));
        }
        if !carried.is_zero() {
            let name = format!("{} (tax rounding, untaxed)", discount.name);
            lines.push(discount_line(&name, carried, price, None));
        }
    }
    if !order.totals.shipping.is_zero() {
        lines.push(InvoiceLineDraft {
            name: settings.shipping_line_name.clone(),
            description: String::new(),
            quantity: Decimal::ONE,
            unit_cost: price.money(order.totals.shipping),
            tax1: None,
            tax2: None,
            sku: String::new(),
        });
    }
    (lines, items)
}

/// A row that carries its own price: product rows and priced options (accessories). Zero-priced option rows
/// (their price is in the parent's unit price) and bundle contents are described with their parent instead.
fn is_billed(row: &OrderLine) -> bool {
    row.bundle_guid.is_none() && (row.parent_guid.is_none() || !row.total_price.is_zero())
}

/// The unpriced rows that belong to `parent`: its attribute and text options, or the contents of a bundle.
fn children<'a>(order: &'a Order, parent: &'a OrderLine) -> impl Iterator<Item = &'a OrderLine> {
    order.lines.iter().filter(move |l| {
        !is_billed(l)
            && (l.parent_guid == Some(parent.guid) || l.bundle_guid == Some(parent.guid))
            && !parent.guid.is_nil()
    })
}

/// A product row: `qty × unit` before its line-total discounts, which follow as lines of their own. The
/// description names the options or bundle contents folded into it and the catalog discounts already in the unit
/// price.
fn product_line(
    order: &Order,
    row: &OrderLine,
    settings: &MappingConfig,
    price: &Pricing<'_>,
    tax: Option<LineTax>,
    sku: String,
) -> InvoiceLineDraft {
    let mut description = row.description.clone();
    let mut note = |text: String| {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str(&text);
    };
    if row.parent_guid.is_some()
        && let Some(parent) = order.lines.iter().find(|l| Some(l.guid) == row.parent_guid)
    {
        note(format!("Option of {}", parent.name));
    }
    if settings.options == OptionLines::Fold {
        for child in children(order, row) {
            let text = if child.text.is_empty() {
                String::new()
            } else {
                format!(": {}", child.text)
            };
            let what = if child.bundle_guid.is_some() {
                "Contains"
            } else {
                "Option"
            };
            note(format!("{what}: {} × {}{text}", child.quantity, child.name));
        }
    }
    for d in &row.unit_discounts {
        note(format!(
            "{}: −{} each (in the price)",
            d.name,
            d.amount.normalize()
        ));
    }
    let gross: Decimal = row.total_price + row.discounts.iter().map(|d| d.amount).sum::<Decimal>();
    let (quantity, unit) = exact_unit(row.quantity, row.unit_price, gross);
    InvoiceLineDraft {
        name: row.name.clone(),
        description,
        quantity,
        unit_cost: price.money(unit),
        tax1: tax,
        tax2: None,
        sku,
    }
}

/// `(qty, unit)` whose product in cents is `gross` exactly: Kentico's unit price when it has cents only and
/// multiplies out to the line's gross, else one unit at the gross (a unit price of more than two decimals, or a
/// row Kentico did not total as `qty × unit`).
fn exact_unit(quantity: i64, unit: Decimal, gross: Decimal) -> (Decimal, Decimal) {
    let qty = Decimal::from(quantity);
    if quantity > 0 && unit.round_dp(2) == unit && qty * unit == gross {
        (qty, unit)
    } else if quantity > 0 && (gross / qty).round_dp(2) * qty == gross {
        (qty, (gross / qty).round_dp(2))
    } else {
        (Decimal::ONE, gross)
    }
}

/// An unpriced option or bundle row shown as its own zero line (`options = "lines"`).
fn zero_line(row: &OrderLine, price: &Pricing<'_>) -> InvoiceLineDraft {
    InvoiceLineDraft {
        name: row.name.clone(),
        description: row.text.clone(),
        quantity: Decimal::from(row.quantity),
        unit_cost: price.money(Decimal::ZERO),
        tax1: None,
        tax2: None,
        sku: String::new(),
    }
}

/// A discount as a negative line, named as the shop names it, taxed like what it discounts.
fn discount_line(
    name: &str,
    amount: Decimal,
    price: &Pricing<'_>,
    tax: Option<LineTax>,
) -> InvoiceLineDraft {
    InvoiceLineDraft {
        name: format!("Discount: {name}"),
        description: String::new(),
        quantity: Decimal::ONE,
        unit_cost: price.money(-amount),
        tax1: tax,
        tax2: None,
        sku: String::new(),
    }
}

/// One cent.
const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// How much of all order discounts (`total`) each tax group takes, in cents, and the few cents none can take.
///
/// Kentico taxes each class on its subtotal less its unrounded share of the order discount and rounds once per
/// class (`docs/kentico.md` §12.3); FreshBooks taxes the group's lines, discount lines included, and rounds once
/// per tax. So each taxed group's share must land in the cents that give the same rounded tax, as near its
/// proportional share as can be; an untaxed group takes whatever is left. When every group is taxed and their
/// ranges cannot add up to `total` (each class's tax rounds the same way, and a cent must go somewhere), the
/// cents left over are returned apart: they go on an untaxed discount line, so the invoice's total and tax are
/// both Kentico's.
fn group_shares(total: Decimal, groups: &[(Option<LineTax>, Decimal)]) -> (Vec<Decimal>, Decimal) {
    let sum: Decimal = groups.iter().map(|(_, s)| *s).sum();
    if total.is_zero() || sum <= Decimal::ZERO {
        return (vec![Decimal::ZERO; groups.len()], total);
    }
    let exact: Vec<Decimal> = groups.iter().map(|(_, s)| total * *s / sum).collect();
    // The cents each group may take: every value within a few cents of its exact share that keeps its tax.
    let ranges: Vec<(Decimal, Decimal)> = groups
        .iter()
        .zip(&exact)
        .map(|((tax, subtotal), e)| {
            let floor = e.trunc_with_scale(2);
            let Some(tax) = tax else {
                return (Decimal::ZERO, (*subtotal).max(Decimal::ZERO));
            };
            let tax_on = |base: Decimal| cents(base * tax.percent / Decimal::ONE_HUNDRED);
            let kentico = tax_on(*subtotal - *e);
            let keeps =
                |share: Decimal| share >= Decimal::ZERO && tax_on(*subtotal - share) == kentico;
            let candidates: Vec<Decimal> = (-3i64..=4)
                .map(|k| floor + CENT * Decimal::from(k))
                .filter(|c| keeps(*c))
                .collect();
            match (candidates.first(), candidates.last()) {
                (Some(lo), Some(hi)) => (*lo, *hi),
                _ => (floor, floor + CENT),
            }
        })
        .collect();
    // Start nearest the exact share, then move cents where there is room, largest remainder first.
    let mut shares: Vec<Decimal> = exact
        .iter()
        .zip(&ranges)
        .map(|(e, (lo, hi))| e.round_dp(2).clamp(*lo, *hi))
        .collect();
    let mut left = total - shares.iter().sum::<Decimal>();
    while !left.is_zero() {
        let up = left > Decimal::ZERO;
        let gap = |g: usize, shares: &[Decimal]| {
            if up {
                exact[g] - shares[g]
            } else {
                shares[g] - exact[g]
            }
        };
        let pick = (0..groups.len())
            .filter(|&g| {
                if up {
                    shares[g] < ranges[g].1
                } else {
                    shares[g] > ranges[g].0
                }
            })
            .max_by(|&a, &b| gap(a, &shares).cmp(&gap(b, &shares)).then(b.cmp(&a)));
        let Some(g) = pick else {
            break;
        };
        let step = if up { CENT } else { -CENT };
        shares[g] += step;
        left -= step;
    }
    (shares, left)
}

/// `exact` (which adds up to `total`) in cents that add up to `total`: truncated, then the cents left over by
/// largest remainder, ties to the earlier.
fn largest_remainder(total: Decimal, exact: &[Decimal]) -> Vec<Decimal> {
    let mut shares: Vec<Decimal> = exact.iter().map(|e| e.trunc_with_scale(2)).collect();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - shares[b])
            .cmp(&(exact[a] - shares[a]))
            .then(a.cmp(&b))
    });
    let mut left = total - shares.iter().sum::<Decimal>();
    for g in order.into_iter().cycle().take(exact.len() * 4) {
        if left < CENT {
            break;
        }
        shares[g] += CENT;
        left -= CENT;
    }
    shares
}

/// One order discount (`amount`) split over the tax groups: in proportion to what each group still has to take
/// (`need`, from [`group_shares`], reduced here), so that the last discount takes exactly what is left and every
/// group's discount lines add up to its share. Groups given nothing are left out.
fn spread(
    amount: Decimal,
    groups: &[(Option<LineTax>, Decimal)],
    need: &mut [Decimal],
) -> Vec<(Option<LineTax>, Decimal)> {
    let remaining: Decimal = need.iter().sum();
    if groups.len() <= 1 || remaining <= Decimal::ZERO {
        let tax = groups.first().and_then(|(t, _)| t.clone());
        if let Some(n) = need.first_mut() {
            *n -= amount;
        }
        return vec![(tax, amount)];
    }
    let shares = if amount >= remaining {
        need.to_vec()
    } else {
        let exact: Vec<Decimal> = need.iter().map(|n| amount * *n / remaining).collect();
        largest_remainder(amount, &exact)
    };
    for (n, share) in need.iter_mut().zip(&shares) {
        *n -= *share;
    }
    groups
        .iter()
        .zip(shares)
        .filter(|(_, share)| !share.is_zero())
        .map(|((tax, _), share)| (tax.clone(), share))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::fixtures::sample_order;
    use crate::mapping::{MappingConfig, OptionLines, default_drafts};
    use ferry_model::{CouponCode, Decimal, NamedAmount, Order, OrderLine};
    use std::str::FromStr;
    use uuid::Uuid;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn named(name: &str, amount: &str) -> NamedAmount {
        NamedAmount {
            name: name.into(),
            amount: dec(amount),
        }
    }

    /// A coffee with a 30.00 option folded into its price, a gear line with a 10 % product coupon and a priced
    /// accessory option, an untaxed gift line, a 10 % order discount over both tax groups, shipping 5.00 and a
    /// 25.00 gift card. Kentico's figures, by its rules (`docs/kentico.md` §12): items 135.50,
    /// order discount 13.55, tax round((115.50 − 13.55 × 115.50/135.50) × 6.25 %) = 6.50, total 133.45, grand
    /// total 108.45.
    fn discounted_order() -> Order {
        let mut order = sample_order();
        let mut class = order.lines[0].tax_class.clone().unwrap();
        class.rate_percent = Some(dec("6.25"));
        let template = order.lines[0].clone();
        let line = |id: i64, sku: &str, qty: i64, unit: &str, total: &str| OrderLine {
            id,
            sku_id: id,
            sku_number: sku.into(),
            name: sku.into(),
            quantity: qty,
            unit_price: dec(unit),
            total_price: dec(total),
            sku_price: Some(dec(unit)),
            tax_class: Some(class.clone()),
            guid: Uuid::from_u128(id as u128),
            ..template.clone()
        };
        let mut coffee = line(1, "COFFEE", 2, "43.50", "87.00");
        coffee.sku_price = Some(dec("13.50"));
        let mut kilo = line(2, "OPT-1KG", 2, "0", "0");
        kilo.parent_guid = Some(coffee.guid);
        kilo.sku_price = Some(dec("30.00"));
        let mut gear = line(3, "GEAR", 1, "24.00", "21.60");
        gear.discounts = vec![named("Brewing gear 10% off", "2.40")];
        let mut filters = line(4, "FILTERS", 1, "6.90", "6.90");
        filters.parent_guid = Some(gear.guid);
        let mut gift = line(5, "GIFT", 1, "20.00", "20.00");
        gift.tax_class = None;
        order.lines = vec![coffee, kilo, gear, filters, gift];
        order.discounts = vec![named("Welcome 10%", "13.55")];
        order.coupon_codes = vec![
            CouponCode {
                code: "WELCOME10".into(),
                gift_card_value: None,
            },
            CouponCode {
                code: "GC-1".into(),
                gift_card_value: Some(dec("25.00")),
            },
        ];
        order.other_payments = vec![named("Gift card", "25.00")];
        order.taxes = vec![named("Standard rate", "6.50")];
        order.totals.shipping = dec("5.00");
        order.totals.tax = dec("6.50");
        order.totals.total = dec("133.45");
        order.totals.grand_total = dec("108.45");
        order.payment.amount.amount = dec("108.45");
        order
    }

    #[test]
    fn a_discounted_order_with_options_and_a_gift_card_invoices_to_the_cent() {
        let order = discounted_order();
        assert!(
            crate::validate_order(&order, &crate::ValidationRules::default()).is_empty(),
            "{:?}",
            crate::validate_order(&order, &crate::ValidationRules::default())
        );
        let d = default_drafts(&order, &MappingConfig::default(), None);
        assert_eq!(d.invoice.amount(), order.totals.total);
        let names: Vec<&str> = d.invoice.lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "COFFEE",
                "GEAR",
                "Discount: Brewing gear 10% off",
                "FILTERS",
                "GIFT",
                "Discount: Welcome 10% (Standard rate 6.25%)",
                "Discount: Welcome 10%",
                "Shipping"
            ]
        );
        let discounts: Vec<Decimal> = d.invoice.lines[5..7]
            .iter()
            .map(|l| l.unit_cost.amount)
            .collect();
        assert_eq!(discounts, [dec("-11.55"), dec("-2.00")]);
        assert!(
            d.invoice.lines[0]
                .description
                .contains("Option: 2 × OPT-1KG")
        );
        assert!(d.invoice.notes.contains("Coupon codes: WELCOME10"));
        assert!(!d.invoice.notes.contains("GC-1"));
        let card = &d.gift_cards[0];
        assert_eq!(
            (card.amount.amount, card.method.as_str()),
            (dec("25.00"), "Other")
        );
        assert!(card.note.contains("GC-1"));
        assert_eq!(d.payment.unwrap().amount.amount, dec("108.45"));
    }

    #[test]
    fn unpriced_options_can_be_lines_of_their_own() {
        let settings = MappingConfig {
            options: OptionLines::Lines,
            ..MappingConfig::default()
        };
        let d = default_drafts(&discounted_order(), &settings, None);
        assert_eq!(d.invoice.lines[1].name, "OPT-1KG");
        assert_eq!(d.invoice.lines[1].unit_cost.amount, Decimal::ZERO);
        assert_eq!(d.invoice.amount(), dec("133.45"));
    }

    #[test]
    fn an_order_discount_is_spread_in_cents_that_add_up() {
        let groups = [
            (None, dec("10.00")),
            (None, dec("10.00")),
            (None, dec("10.00")),
        ];
        let (mut need, _) = super::group_shares(dec("1.00"), &groups);
        let shares = super::spread(dec("1.00"), &groups, &mut need);
        let sum: Decimal = shares.iter().map(|(_, s)| *s).sum();
        assert_eq!(sum, dec("1.00"));
        assert_eq!(shares[0].1, dec("0.34"));
    }

    #[test]
    fn the_spare_cent_of_a_spread_discount_goes_where_it_keeps_kentico_s_tax() {
        use ferry_model::LineTax;
        let tax = |name: &str, percent: &str| {
            Some(LineTax {
                name: name.into(),
                percent: dec(percent),
            })
        };
        // 1.93 over two groups of 10.00: 0.965 each. Kentico taxes 9.035 at 7.25 % (0.655 → 0.66) and at 20 %
        // (1.807 → 1.81). The spare cent on the first group gives 0.65 there; on the second, 1.81 stays 1.81.
        let groups = [
            (tax("Sales Tax", "7.25"), dec("10.00")),
            (tax("VAT", "20"), dec("10.00")),
        ];
        let (mut need, _) = super::group_shares(dec("1.93"), &groups);
        let shares = super::spread(dec("1.93"), &groups, &mut need);
        let amounts: Vec<Decimal> = shares.iter().map(|(_, s)| *s).collect();
        assert_eq!(amounts, [dec("0.96"), dec("0.97")]);
    }

    #[test]
    fn stacked_order_discounts_over_two_tax_classes_keep_each_class_s_tax() {
        use ferry_model::LineTax;
        let tax = |name: &str, percent: &str| {
            Some(LineTax {
                name: name.into(),
                percent: dec(percent),
            })
        };
        // Every pair of stacked discounts over two classes: the discount lines of each class must leave the tax
        // FreshBooks computes on them equal to Kentico's (class subtotal less its unrounded share of the total
        // discount, rounded once) and the lines must add up to each discount.
        let groups = [
            (tax("Reduced", "7"), dec("131.37")),
            (tax("Standard", "21"), dec("517.46")),
        ];
        let sum = dec("648.83");
        for (a, b) in [
            ("32.44", "59.41"),
            ("0.01", "64.88"),
            ("97.33", "0.02"),
            ("6.49", "6.49"),
        ] {
            let (a, b) = (dec(a), dec(b));
            let (mut need, rounding) = super::group_shares(a + b, &groups);
            let first = super::spread(a, &groups, &mut need);
            let second = super::spread(b - rounding, &groups, &mut need);
            assert_eq!(first.iter().map(|(_, s)| *s).sum::<Decimal>(), a);
            assert_eq!(
                second.iter().map(|(_, s)| *s).sum::<Decimal>() + rounding,
                b
            );
            for (g, (t, subtotal)) in groups.iter().enumerate() {
                let pct = t.as_ref().map(|t| t.percent).unwrap_or_default();
                let given: Decimal = first
                    .iter()
                    .chain(&second)
                    .filter(|(tt, _)| tt == t)
                    .map(|(_, s)| *s)
                    .sum();
                let kentico = ferry_model::cents(
                    (*subtotal - (a + b) * *subtotal / sum) * pct / Decimal::ONE_HUNDRED,
                );
                let freshbooks =
                    ferry_model::cents((*subtotal - given) * pct / Decimal::ONE_HUNDRED);
                assert_eq!(freshbooks, kentico, "group {g}, discounts {a} + {b}");
            }
        }
    }

    #[test]
    fn a_cent_no_taxed_class_can_take_goes_on_an_untaxed_line() {
        use ferry_model::LineTax;
        let tax = |name: &str, percent: &str| {
            Some(LineTax {
                name: name.into(),
                percent: dec(percent),
            })
        };
        // Found by the amounts property: Loyalty 5 % (15.86) over 74.52 at 12 % and 242.59 at 21 %. Kentico's
        // taxes are 8.50 (on 70.79297) and 48.40 (on 230.45703); 3.73 off the first gives 8.49, 12.14 off the
        // second 48.39, so the classes can take 3.72 + 12.13 and the last cent is untaxed.
        let groups = [
            (tax("Reduced", "12"), dec("74.52")),
            (tax("Standard", "21"), dec("242.59")),
        ];
        let (shares, rounding) = super::group_shares(dec("15.86"), &groups);
        assert_eq!(shares, [dec("3.72"), dec("12.13")]);
        assert_eq!(rounding, dec("0.01"));
    }

    #[test]
    fn a_gift_card_covering_everything_leaves_no_gateway_payment() {
        let mut order = discounted_order();
        order.other_payments = vec![named("Gift card", "133.45")];
        order.totals.grand_total = Decimal::ZERO;
        let d = default_drafts(&order, &MappingConfig::default(), None);
        assert!(d.payment.is_none());
        assert_eq!(d.gift_cards[0].amount.amount, dec("133.45"));
    }
}
