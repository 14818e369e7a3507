//! Per-tenant anomaly checks (`[tenants.anomaly]`): an order far outside the tenant's recent orders is held for a
//! person instead of being sent to FreshBooks.
//!
//! The built-in validation refuses orders that do not add up; these checks hold orders that add up but look wrong
//! for this shop: a total far above what it usually sells, a line quantity far above its usual ones, a customer's
//! first order to a country they never ordered to before with a large total. The statistics are robust on purpose
//! (median and median absolute deviation, not mean and standard deviation): one earlier outlier that a person let
//! through moves a median by one place instead of dragging the mean and widening the spread.
//!
//! The host gathers the [`History`] from its store (the tenant's last `history` synced orders) and calls
//! [`check`]; any reason it returns sends the order to the dead-letter queue with that reason, and a replay of that
//! dead letter sends it on unchecked. Only large values are held: an unusually small order is not a reason to stop
//! an invoice.

use ferry_model::{Decimal, Order};
use serde::Deserialize;

/// The tenant's anomaly thresholds. Off unless `enabled`; every statistical rule also waits for `min_history`
/// earlier orders, so a new tenant (or one just switched on) holds nothing until it has a history.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyConfig {
    /// Run the checks for this tenant.
    pub enabled: bool,
    /// How many of the tenant's most recently synced orders the statistics look at (amounts: those in the order's
    /// currency).
    pub history: u32,
    /// Fewer earlier orders than this and no statistical rule applies (`max_line_quantity` still does).
    pub min_history: u32,
    /// Hold an order whose total is more than this many times the median total (same currency). Unset: off.
    pub amount_factor: Option<Decimal>,
    /// Hold an order whose total is more than this many robust standard deviations above the median total:
    /// `(total − median) / (1.4826 × MAD)`, MAD being the median absolute deviation from the median (1.4826 × MAD
    /// estimates the standard deviation of normally distributed totals). Unset: off.
    pub amount_deviations: Option<Decimal>,
    /// Hold an order whose largest line quantity is more than this many times the median of the recent orders'
    /// largest line quantities. Unset: off.
    pub quantity_factor: Option<Decimal>,
    /// Hold an order with a line quantity above this, whatever the history. Unset: off.
    pub max_line_quantity: Option<u32>,
    /// Hold a customer's first order to a country (shipping address, else billing) that none of their earlier
    /// orders went to, when its total is more than this many times the median total. A customer without earlier
    /// orders is not held by this rule. Unset: off.
    pub new_country_factor: Option<Decimal>,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            history: 200,
            min_history: 30,
            amount_factor: Some(Decimal::from(10)),
            amount_deviations: None,
            quantity_factor: Some(Decimal::from(10)),
            max_line_quantity: None,
            new_country_factor: Some(Decimal::from(3)),
        }
    }
}

/// A threshold that makes no sense, with the field (relative to the section) that holds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidAnomalyConfig {
    /// The field, e.g. `amount_factor`.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl AnomalyConfig {
    /// Checks the thresholds (whether or not the checks are enabled, so switching them on cannot fail later).
    ///
    /// # Errors
    /// [`InvalidAnomalyConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), InvalidAnomalyConfig> {
        let bad = |field, message: &str| {
            Err(InvalidAnomalyConfig {
                field,
                message: message.to_owned(),
            })
        };
        if self.history == 0 {
            return bad("history", "must be at least 1");
        }
        if self.min_history == 0 {
            return bad("min_history", "must be at least 1");
        }
        if self.min_history > self.history {
            return bad(
                "min_history",
                "must not be more than history (the rules would never apply)",
            );
        }
        for (field, factor) in [
            ("amount_factor", self.amount_factor),
            ("quantity_factor", self.quantity_factor),
            ("new_country_factor", self.new_country_factor),
        ] {
            if factor.is_some_and(|f| f <= Decimal::ONE) {
                return bad(
                    field,
                    "must be more than 1 (a factor of the median; leave it out to turn the rule off)",
                );
            }
        }
        if self.amount_deviations.is_some_and(|d| d <= Decimal::ZERO) {
            return bad(
                "amount_deviations",
                "must be more than 0 (leave it out to turn the rule off)",
            );
        }
        if self.max_line_quantity == Some(0) {
            return bad(
                "max_line_quantity",
                "must be at least 1 (leave it out to turn the rule off)",
            );
        }
        Ok(())
    }
}

/// What the tenant's store knows about earlier orders, as [`check`] needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Totals of the most recent synced orders in the order's currency, newest first (at most `history`).
    pub totals: Vec<Decimal>,
    /// The largest line quantity of each of the most recent synced orders, any currency (at most `history`).
    pub max_quantities: Vec<i64>,
    /// Countries (ISO codes) the customer's earlier synced orders went to; empty when they have none.
    pub customer_countries: Vec<String>,
}

/// What the store records about a synced order for later checks ([`OrderFacts::of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    /// The order total, in the order currency.
    pub total: Decimal,
    /// Its largest line quantity.
    pub max_quantity: i64,
    /// Who ordered: the email (lower case) when there is one, else the Kentico customer id.
    pub customer: String,
    /// Where it went: the shipping address' country code, else the billing address'; empty when neither has one.
    pub country: String,
}

impl OrderFacts {
    /// The facts of `order`.
    pub fn of(order: &Order) -> Self {
        let customer = match order.customer.email.as_deref().map(str::trim) {
            Some(email) if !email.is_empty() => format!("email:{}", email.to_lowercase()),
            _ => format!("id:{}", order.customer.id),
        };
        let country = [&order.shipping_address, &order.billing_address]
            .into_iter()
            .flatten()
            .map(|a| a.country_code.trim().to_uppercase())
            .find(|c| !c.is_empty())
            .unwrap_or_default();
        Self {
            total: order.totals.total,
            max_quantity: order.lines.iter().map(|l| l.quantity).max().unwrap_or(0),
            customer,
            country,
        }
    }
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[Decimal]) -> Option<Decimal> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / Decimal::TWO
    } else {
        v[mid]
    })
}

/// The median absolute deviation from the median; `None` when empty.
pub fn mad(values: &[Decimal]) -> Option<Decimal> {
    let m = median(values)?;
    let deviations: Vec<Decimal> = values.iter().map(|v| (*v - m).abs()).collect();
    median(&deviations)
}

/// Scales the MAD to estimate a standard deviation of normally distributed values.
const MAD_TO_SIGMA: Decimal = Decimal::from_parts(14826, 0, 0, false, 4);

/// The reasons `order` should be held for review, given the tenant's `history`; empty when it may be sent.
pub fn check(order: &Order, history: &History, config: &AnomalyConfig) -> Vec<String> {
    let mut reasons = Vec::new();
    if !config.enabled {
        return reasons;
    }
    let facts = OrderFacts::of(order);
    let enough = |n: usize| n >= config.min_history as usize;
    let total = facts.total;
    let currency = order.currency.as_str();
    let median_total = median(&history.totals).filter(|m| *m > Decimal::ZERO);
    let n = history.totals.len();
    if let (true, Some(m)) = (enough(n), median_total) {
        if let Some(k) = config.amount_factor
            && total > k * m
        {
            reasons.push(format!(
                "total {} {currency} is {}× the median of the last {n} orders ({} {currency})",
                money(total),
                ratio(total / m),
                money(m),
            ));
        }
        if let (Some(k), Some(spread)) = (config.amount_deviations, mad(&history.totals))
            && !spread.is_zero()
        {
            let z = (total - m) / (MAD_TO_SIGMA * spread);
            if z > k {
                reasons.push(format!(
                    "total {} {currency} is {} robust deviations above the median of the last {n} orders \
                     ({} {currency}, MAD {})",
                    money(total),
                    ratio(z),
                    money(m),
                    money(spread),
                ));
            }
        }
        if let Some(k) = config.new_country_factor
            && !history.customer_countries.is_empty()
            && !facts.country.is_empty()
            && !history.customer_countries.contains(&facts.country)
            && total > k * m
        {
            reasons.push(format!(
                "the customer's first order to {} (earlier orders went to {}) has a total of {} {currency}, {}× \
                 the median ({} {currency})",
                facts.country,
                history.customer_countries.join(", "),
                money(total),
                ratio(total / m),
                money(m),
            ));
        }
    }
    let quantities: Vec<Decimal> = history
        .max_quantities
        .iter()
        .map(|q| Decimal::from(*q))
        .collect();
    let typical = median(&quantities).filter(|m| *m > Decimal::ZERO);
    if let (Some(k), true, Some(m)) = (config.quantity_factor, enough(quantities.len()), typical)
        && Decimal::from(facts.max_quantity) > k * m
    {
        let line = largest_line(order);
        reasons.push(format!(
            "line {line:?} quantity {} is {}× the median largest line quantity of the last {} orders ({})",
            facts.max_quantity,
            ratio(Decimal::from(facts.max_quantity) / m),
            quantities.len(),
            m.normalize(),
        ));
    }
    if let Some(max) = config.max_line_quantity {
        for l in order.lines.iter().filter(|l| l.quantity > i64::from(max)) {
            reasons.push(format!(
                "line {:?} quantity {} is above the limit of {max}",
                l.name, l.quantity
            ));
        }
    }
    reasons
}

/// The name of the line with the largest quantity.
fn largest_line(order: &Order) -> &str {
    order
        .lines
        .iter()
        .max_by_key(|l| l.quantity)
        .map_or("", |l| l.name.as_str())
}

/// An amount as people read it: two decimals, thousands separated by commas (`9,800.00`).
pub fn money(amount: Decimal) -> String {
    let fixed = format!("{:.2}", ferry_model::cents(amount));
    let (sign, digits) = fixed
        .strip_prefix('-')
        .map_or(("", fixed.as_str()), |d| ("-", d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac}")
}

/// A ratio as people read it: whole from 10 up, one decimal below (`14`, `3.5`).
fn ratio(r: Decimal) -> String {
    if r >= Decimal::TEN {
        r.round().normalize().to_string()
    } else {
        r.round_dp(1).normalize().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_order;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn enabled() -> AnomalyConfig {
        AnomalyConfig {
            enabled: true,
            min_history: 5,
            ..AnomalyConfig::default()
        }
    }

    /// `n` ordinary totals around 700 and max quantities of 1 or 2.
    fn ordinary(n: usize) -> History {
        let totals = [dec("650"), dec("700"), dec("720"), dec("690"), dec("710")];
        History {
            totals: (0..n).map(|i| totals[i % totals.len()]).collect(),
            max_quantities: (0..n).map(|i| 1 + (i as i64 % 2)).collect(),
            customer_countries: Vec::new(),
        }
    }

    fn order_of(total: Decimal, quantity: i64) -> Order {
        let mut o = sample_order();
        o.totals.total = total;
        o.lines.truncate(1);
        o.lines[0].quantity = quantity;
        o
    }

    #[test]
    fn median_and_mad_are_robust_to_one_outlier() {
        let v = [dec("1"), dec("2"), dec("3"), dec("4"), dec("1000")];
        assert_eq!(median(&v), Some(dec("3")));
        // deviations 2, 1, 0, 1, 997 → median 1
        assert_eq!(mad(&v), Some(dec("1")));
        assert_eq!(median(&[dec("1"), dec("4")]), Some(dec("2.5")));
        assert_eq!(median(&[]), None);
        assert_eq!(mad(&[]), None);
    }

    #[test]
    fn an_ordinary_order_passes_and_an_outlier_is_held_with_a_readable_reason() {
        let c = enabled();
        let h = ordinary(200);
        assert!(check(&order_of(dec("900"), 2), &h, &c).is_empty());
        let reasons = check(&order_of(dec("9800"), 1), &h, &c);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        let currency = sample_order().currency.to_string();
        assert_eq!(
            reasons[0],
            format!(
                "total 9,800.00 {currency} is 14× the median of the last 200 orders (700.00 {currency})"
            )
        );
    }

    #[test]
    fn nothing_is_held_when_disabled_or_without_enough_history() {
        let outlier = order_of(dec("98000"), 500);
        assert!(check(&outlier, &ordinary(200), &AnomalyConfig::default()).is_empty());
        assert!(check(&outlier, &ordinary(4), &enabled()).is_empty());
    }

    #[test]
    fn the_robust_deviation_rule_holds_what_the_factor_lets_through() {
        let c = AnomalyConfig {
            amount_deviations: Some(dec("6")),
            ..enabled()
        };
        // median 700, MAD 10 → 1.4826 × 10 ≈ 14.8; 1,000 is ~20 deviations up but only 1.4× the median.
        let reasons = check(&order_of(dec("1000"), 1), &ordinary(50), &c);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("robust deviations"), "{reasons:?}");
        assert!(check(&order_of(dec("780"), 1), &ordinary(50), &c).is_empty());
    }

    #[test]
    fn quantity_outliers_are_held_by_factor_and_by_limit() {
        let c = enabled();
        let reasons = check(&order_of(dec("700"), 40), &ordinary(20), &c);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("quantity 40 is 27×"), "{reasons:?}");
        let limited = AnomalyConfig {
            max_line_quantity: Some(3),
            ..enabled()
        };
        // No history needed for the absolute limit.
        let reasons = check(&order_of(dec("700"), 4), &History::default(), &limited);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("above the limit of 3"), "{reasons:?}");
    }

    #[test]
    fn a_large_first_order_to_a_new_country_is_held() {
        let c = enabled();
        let mut order = order_of(dec("2500"), 1);
        let country = OrderFacts::of(&order).country;
        assert!(!country.is_empty(), "the sample order has an address");
        let mut h = ordinary(20);
        h.customer_countries = vec!["ZZ".to_owned()];
        let reasons = check(&order, &h, &c);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(
            reasons[0].contains(&format!("first order to {country}")),
            "{reasons:?}"
        );
        // The same total to a country the customer ordered to before, or from a first-time customer: sent.
        h.customer_countries.push(country);
        assert!(check(&order, &h, &c).is_empty());
        h.customer_countries.clear();
        assert!(check(&order, &h, &c).is_empty());
        order.totals.total = dec("1000");
        h.customer_countries = vec!["ZZ".to_owned()];
        assert!(check(&order, &h, &c).is_empty(), "not large enough");
    }

    #[test]
    fn thresholds_out_of_range_name_their_field() {
        let field = |c: AnomalyConfig| c.validate().err().map(|e| e.field);
        assert_eq!(field(AnomalyConfig::default()), None);
        assert_eq!(
            field(AnomalyConfig {
                amount_factor: Some(dec("0.5")),
                ..AnomalyConfig::default()
            }),
            Some("amount_factor")
        );
        assert_eq!(
            field(AnomalyConfig {
                min_history: 300,
                ..AnomalyConfig::default()
            }),
            Some("min_history")
        );
        assert_eq!(
            field(AnomalyConfig {
                history: 0,
                ..AnomalyConfig::default()
            }),
            Some("history")
        );
        assert_eq!(
            field(AnomalyConfig {
                amount_deviations: Some(dec("-1")),
                ..AnomalyConfig::default()
            }),
            Some("amount_deviations")
        );
        assert_eq!(
            field(AnomalyConfig {
                max_line_quantity: Some(0),
                ..AnomalyConfig::default()
            }),
            Some("max_line_quantity")
        );
    }

    #[test]
    fn amounts_read_with_thousands_separators() {
        assert_eq!(money(dec("9800")), "9,800.00");
        assert_eq!(money(dec("1234567.891")), "1,234,567.89");
        assert_eq!(money(dec("700")), "700.00");
        assert_eq!(money(dec("-1000.5")), "-1,000.50");
        assert_eq!(ratio(dec("14.0")), "14");
        assert_eq!(ratio(dec("3.456")), "3.5");
    }
}
