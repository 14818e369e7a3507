//! Built-in order validation: the rules every tenant gets before its own `validate-order` plugin hook.
//!
//! An order that breaks any rule goes to the dead-letter queue with every reason listed; nothing reaches FreshBooks.

use ferry_model::{Decimal, Order, OrderLine};
use std::collections::BTreeSet;

/// Thresholds for the built-in rules (from the tenant's mapping settings, see [`ValidationRules::for_mapping`]).
#[derive(Debug, Clone)]
pub struct ValidationRules {
    /// Currencies the tenant accepts (empty: any ISO code the exchange service knows).
    pub known_currencies: BTreeSet<String>,
    /// How far (percent) a line's unit price may stray from the catalogue SKU price.
    pub price_tolerance_percent: Decimal,
    /// How far (in currency units) the stated total may differ from the sum of its parts.
    pub total_tolerance: Decimal,
}

impl Default for ValidationRules {
    fn default() -> Self {
        Self {
            known_currencies: BTreeSet::new(),
            price_tolerance_percent: Decimal::from(50),
            total_tolerance: Decimal::new(2, 2),
        }
    }
}

impl ValidationRules {
    /// The rules a tenant with these mapping settings gets.
    pub fn for_mapping(mapping: &crate::MappingConfig) -> Self {
        Self {
            price_tolerance_percent: Decimal::from(mapping.price_tolerance_percent),
            ..Self::default()
        }
    }
}

/// How far a line's price strays from its catalogue price, when it is further than the tolerance. The line's
/// standard price is its unit price plus its per-unit catalog discounts; the catalogue price is the SKU's plus the
/// SKUs of its unpriced options (their price is in the parent's unit price). Unpriced option and bundle rows are
/// not compared.
fn price_drift(order: &Order, line: &OrderLine, rules: &ValidationRules) -> Option<String> {
    let sku_price = line.sku_price.filter(|p| !p.is_zero())?;
    let unpriced_child =
        line.bundle_guid.is_some() || (line.parent_guid.is_some() && line.total_price.is_zero());
    if unpriced_child {
        return None;
    }
    let options: Decimal = order
        .lines
        .iter()
        .filter(|o| {
            !line.guid.is_nil() && o.parent_guid == Some(line.guid) && o.total_price.is_zero()
        })
        .filter_map(|o| o.sku_price)
        .sum();
    let catalogue = sku_price + options;
    let standard = line.unit_price
        + line
            .unit_discounts
            .iter()
            .map(|d| d.amount)
            .sum::<Decimal>();
    let drift = ((standard - catalogue) / catalogue * Decimal::from(100)).abs();
    (drift > rules.price_tolerance_percent).then(|| {
        format!(
            "line {:?} unit price {} is {}% away from the catalogue price {}",
            line.name,
            line.unit_price.normalize(),
            drift.round_dp(1),
            catalogue.normalize()
        )
    })
}

/// Checks an order against the built-in rules and returns every problem found (empty when valid).
pub fn validate_order(order: &Order, rules: &ValidationRules) -> Vec<String> {
    let mut issues = Vec::new();
    let email = order.customer.email.as_deref().unwrap_or("").trim();
    if email.is_empty() {
        issues.push(format!(
            "customer {} has no email address",
            order.customer.id
        ));
    } else if !email.contains('@') {
        issues.push(format!("customer email {email:?} is not an email address"));
    }
    if order.lines.is_empty() {
        issues.push("order has no items".to_owned());
    }
    if !rules.known_currencies.is_empty()
        && !rules.known_currencies.contains(order.currency.as_str())
    {
        issues.push(format!("currency {} is not supported", order.currency));
    }
    let mut items_total = Decimal::ZERO;
    for line in &order.lines {
        if line.quantity <= 0 {
            issues.push(format!(
                "line {:?} has quantity {}",
                line.name, line.quantity
            ));
        }
        if line.unit_price.is_sign_negative() {
            issues.push(format!(
                "line {:?} has negative unit price {}",
                line.name, line.unit_price
            ));
        }
        if let Some(issue) = price_drift(order, line, rules) {
            issues.push(issue);
        }
        items_total += line.total_price;
    }
    let t = &order.totals;
    let discounts: Decimal = order.discounts.iter().map(|d| d.amount).sum();
    let expected = items_total - discounts + t.shipping + t.tax;
    if !order.lines.is_empty() && (expected - t.total).abs() > rules.total_tolerance {
        let discounts = if discounts.is_zero() {
            String::new()
        } else {
            format!(" - order discounts {}", discounts.normalize())
        };
        issues.push(format!(
            "order total {} does not add up: items {}{discounts} + shipping {} + tax {} = {}",
            t.total.normalize(),
            items_total.normalize(),
            t.shipping.normalize(),
            t.tax.normalize(),
            expected.normalize()
        ));
    }
    let other: Decimal = order.other_payments.iter().map(|p| p.amount).sum();
    if !other.is_zero() && (t.total - other - t.grand_total).abs() > rules.total_tolerance {
        issues.push(format!(
            "grand total {} is not the total {} less gift cards {}",
            t.grand_total.normalize(),
            t.total.normalize(),
            other.normalize()
        ));
    }
    if t.grand_total > t.total + rules.total_tolerance || t.grand_total.is_sign_negative() {
        issues.push(format!(
            "grand total {} is outside 0..={}",
            t.grand_total.normalize(),
            t.total.normalize()
        ));
    }
    if !order.taxes.is_empty() {
        let summary: Decimal = order.taxes.iter().map(|x| x.amount).sum();
        if (summary - t.tax).abs() > rules.total_tolerance {
            issues.push(format!(
                "tax summary {} does not add up to the order tax {}",
                summary.normalize(),
                t.tax.normalize()
            ));
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_order;

    #[test]
    fn a_consistent_order_passes() {
        assert_eq!(
            validate_order(&sample_order(), &ValidationRules::default()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_problem_is_listed() {
        let mut order = sample_order();
        order.customer.email = None;
        order.lines[0].quantity = -1;
        order.totals.total += Decimal::from(10);
        let issues = validate_order(&order, &ValidationRules::default());
        assert_eq!(issues.len(), 3, "{issues:?}");
        assert!(issues[0].contains("no email"));
        assert!(issues[1].contains("quantity -1"));
        assert!(issues[2].contains("does not add up"));
    }

    #[test]
    fn prices_far_from_the_catalogue_are_refused() {
        let mut order = sample_order();
        order.lines[0].sku_price = Some(Decimal::from(1));
        let issues = validate_order(&order, &ValidationRules::default());
        assert!(
            issues
                .iter()
                .any(|i| i.contains("away from the catalogue price")),
            "{issues:?}"
        );
    }

    #[test]
    fn unknown_currencies_are_refused_when_a_list_is_set() {
        let rules = ValidationRules {
            known_currencies: ["EUR".to_owned()].into(),
            ..ValidationRules::default()
        };
        let issues = validate_order(&sample_order(), &rules);
        assert_eq!(issues, vec!["currency USD is not supported".to_owned()]);
    }

    #[test]
    fn an_empty_order_is_refused() {
        let mut order = sample_order();
        order.lines.clear();
        let issues = validate_order(&order, &ValidationRules::default());
        assert!(issues.contains(&"order has no items".to_owned()));
    }
}
