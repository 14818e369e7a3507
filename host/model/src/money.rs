//! Money: a decimal amount with its currency. Floating point never touches money.

use crate::CurrencyCode;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An amount in one currency. Serialises as `{"amount": "12.50", "code": "USD"}`, the FreshBooks shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// The amount, exact (serialised as a string).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub code: CurrencyCode,
}

/// An amount in cents, halves away from zero: the one rounding rule Ferry applies to money (Kentico's default and
/// FreshBooks' totals, `docs/kentico.md` §12.4, `docs/freshbooks.md` §6.4).
pub fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

impl Money {
    /// Builds a money value.
    pub fn new(amount: Decimal, code: CurrencyCode) -> Self {
        Self { amount, code }
    }

    /// The amount rounded half-away-from-zero to `dp` decimal places (FreshBooks keeps 2).
    pub fn rounded(&self, dp: u32) -> Self {
        Self {
            amount: self
                .amount
                .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero),
            code: self.code.clone(),
        }
    }
}

/// A conversion from an order's currency into the tenant's FreshBooks currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// The target (FreshBooks base) currency.
    pub to: CurrencyCode,
    /// Units of `to` per unit of the order currency.
    pub rate: Decimal,
    /// The reference date of the rate.
    pub date: time::Date,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn money_serialises_amount_as_string() {
        let m = Money::new(
            Decimal::from_str("13.500000000").unwrap(),
            CurrencyCode::parse("USD").unwrap(),
        );
        let v = serde_json::to_value(m.rounded(2)).unwrap();
        assert_eq!(v, serde_json::json!({"amount": "13.50", "code": "USD"}));
    }
}
