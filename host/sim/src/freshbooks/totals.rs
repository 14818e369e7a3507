//! Lines and the totals rule shared by invoices and credit notes (docs/freshbooks.md §6.4, §14.2.4).
//!
//! The rule, checked on the Java fixture (4×5.00 with HST 13% + 6×4.00, discount 10% → discount_total -4.40,
//! amount 41.94):
//! 1. each line's `amount` = qty × unit_cost, rounded to cents;
//! 2. `subtotal` = Σ line amounts; `discount_total` = −(subtotal × discount_value %), rounded to cents;
//! 3. each line's taxes apply to its discounted amount (line amount × (1 − discount %)); tax 2 applies to the
//!    discounted amount plus tax 1 when the line has `compounded_tax`;
//! 4. taxes are summed per tax (name and rate) over all lines and each sum is rounded to cents once;
//! 5. `amount` = subtotal + discount_total + Σ rounded tax sums.
//!
//! guess: FreshBooks states only that totals are "cents-rounded per invoice"; rounding each tax once per invoice
//! (as its invoice shows one total per tax) and rounding halves away from zero (as MySQL's DECIMAL does) are
//! unconfirmed. The fixture's figures are exact, so they cannot tell the modes apart.

use rust_decimal::Decimal;
use serde_json::Value;

use super::error::ApiError;
use super::objects::{cents, decimal};

/// One tax on a line: the name FreshBooks prints and its percentage.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LineTax {
    /// `taxName1`/`taxName2`; `None` or `""` when the line has no such tax.
    pub(crate) name: Option<String>,
    /// `taxAmount1`/`taxAmount2`, a percentage (0–100, at most 3 decimals).
    pub(crate) rate: Decimal,
}

/// A line as requested, before the server adds ids, amount and timestamps.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LineInput {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) qty: Decimal,
    pub(crate) unit_cost: Decimal,
    pub(crate) tax1: LineTax,
    pub(crate) tax2: LineTax,
    pub(crate) compounded_tax: bool,
    /// Invoice line `type` (0 normal, 1 rebilled expense); credit lines have none.
    pub(crate) kind: i64,
    pub(crate) expenseid: u64,
}

impl LineInput {
    /// `qty × unit_cost` in cents: the line's `amount`.
    pub(crate) fn amount(&self) -> Decimal {
        cents(self.qty * self.unit_cost)
    }

    /// Reads a request line over `base` (the stored line the request names by id, if any): keys sent replace the
    /// base's, keys left out keep it.
    ///
    /// # Errors
    ///
    /// 422 with errno 1001 when a new line has no `unit_cost`, 1015 when a number does not parse, 1004 for a
    /// negative quantity, 1018 for a tax percentage outside 0–100 and 1019 when both taxes have the same name.
    pub(crate) fn parse(raw: &Value, base: Option<Self>, object: &str) -> Result<Self, ApiError> {
        let mut line = base.clone().unwrap_or(Self {
            qty: Decimal::ONE,
            ..Self::default()
        });
        let number = |key: &str| -> Result<Option<Decimal>, ApiError> {
            match raw.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => decimal(Some(v)).map(Some).ok_or_else(|| {
                    ApiError::invalid(
                        1015,
                        object,
                        key,
                        format!("Invalid number for field {key}."),
                    )
                }),
            }
        };
        let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
        if let Some(name) = text("name") {
            line.name = name;
        }
        if let Some(description) = text("description") {
            line.description = description;
        }
        if let Some(qty) = number("qty")? {
            line.qty = qty;
        }
        match raw.get("unit_cost") {
            Some(Value::Object(cost)) => {
                line.unit_cost = decimal(cost.get("amount")).ok_or_else(|| {
                    ApiError::invalid(
                        1015,
                        object,
                        "unit_cost",
                        "Invalid number for field unit_cost.",
                    )
                })?;
            }
            Some(other) if !other.is_null() => {
                line.unit_cost = decimal(Some(other)).ok_or_else(|| {
                    ApiError::invalid(
                        1015,
                        object,
                        "unit_cost",
                        "Invalid number for field unit_cost.",
                    )
                })?;
            }
            _ if base.is_none() => {
                return Err(ApiError::invalid(
                    1001,
                    object,
                    "unit_cost",
                    "Field unit_cost is required.",
                ));
            }
            _ => {}
        }
        for (name_key, rate_key, tax) in [
            ("taxName1", "taxAmount1", &mut line.tax1),
            ("taxName2", "taxAmount2", &mut line.tax2),
        ] {
            if raw.get(name_key).is_some() {
                tax.name = text(name_key);
            }
            if let Some(rate) = number(rate_key)? {
                // guess: "a percentage, up to 3 decimals" — more places are rounded off, not refused.
                tax.rate = rate.round_dp(3);
            } else if raw.get(rate_key).is_some() {
                tax.rate = Decimal::ZERO; // `null` clears the tax, as in the Postman credit example
            }
            if tax.rate < Decimal::ZERO || tax.rate > Decimal::ONE_HUNDRED {
                return Err(ApiError::invalid(
                    1018,
                    object,
                    rate_key,
                    "Percent values must be between 0 and 100.",
                ));
            }
        }
        if let Some(compounded) = raw.get("compounded_tax").and_then(Value::as_bool) {
            line.compounded_tax = compounded;
        }
        if let Some(kind) = raw.get("type").and_then(Value::as_i64) {
            line.kind = kind;
        }
        if let Some(expenseid) = raw.get("expenseid").and_then(Value::as_u64) {
            line.expenseid = expenseid;
        }
        // guess: a refund or discount is a negative unit_cost with a positive quantity (docs/freshbooks.md lifecycle
        // §2.4); a negative quantity is refused so the simulator points callers at that form.
        if line.qty < Decimal::ZERO {
            return Err(ApiError::invalid(
                1004,
                object,
                "qty",
                "Quantity must not be negative.",
            ));
        }
        let named = |t: &LineTax| t.name.clone().filter(|n| !n.is_empty());
        if named(&line.tax1).is_some() && named(&line.tax1) == named(&line.tax2) {
            return Err(ApiError::invalid(
                1019,
                object,
                "taxName2",
                "A line cannot have the same tax twice.",
            ));
        }
        Ok(line)
    }
}

/// One tax's total over all lines.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaxSum {
    pub(crate) name: String,
    pub(crate) rate: Decimal,
    /// Rounded to cents.
    pub(crate) amount: Decimal,
}

/// Everything the server derives from lines and the discount.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Totals {
    pub(crate) subtotal: Decimal,
    /// Zero or negative, as `discount_total` shows it.
    pub(crate) discount_total: Decimal,
    pub(crate) taxes: Vec<TaxSum>,
    pub(crate) amount: Decimal,
}

/// Applies the totals rule (module doc) to lines and an invoice-level discount percentage.
pub(crate) fn compute(lines: &[LineInput], discount_percent: Decimal) -> Totals {
    let subtotal: Decimal = lines.iter().map(LineInput::amount).sum();
    let discount_total = cents(-(subtotal * discount_percent / Decimal::ONE_HUNDRED));
    let keep = Decimal::ONE - discount_percent / Decimal::ONE_HUNDRED;
    let mut taxes: Vec<TaxSum> = Vec::new();
    let mut add = |tax: &LineTax, base: Decimal| -> Decimal {
        if tax.rate.is_zero() {
            return Decimal::ZERO;
        }
        let amount = base * tax.rate / Decimal::ONE_HUNDRED;
        let name = tax.name.clone().unwrap_or_default();
        match taxes
            .iter_mut()
            .find(|t| t.name == name && t.rate == tax.rate)
        {
            Some(sum) => sum.amount += amount,
            None => taxes.push(TaxSum {
                name,
                rate: tax.rate,
                amount,
            }),
        }
        amount
    };
    for line in lines {
        let base = line.amount() * keep;
        let tax1 = add(&line.tax1, base);
        let base2 = if line.compounded_tax {
            base + tax1
        } else {
            base
        };
        add(&line.tax2, base2);
    }
    for tax in &mut taxes {
        tax.amount = cents(tax.amount);
    }
    let tax_total: Decimal = taxes.iter().map(|t| t.amount).sum();
    Totals {
        subtotal,
        discount_total,
        taxes,
        amount: subtotal + discount_total + tax_total,
    }
}

/// Reads an invoice's `discount_value`.
///
/// # Errors
///
/// 422 errno 1018 (InvalidPercentValue) outside 0–100, 1015 when it is not a number.
pub(crate) fn discount_percent(raw: &str) -> Result<Decimal, ApiError> {
    let value: Decimal = if raw.trim().is_empty() {
        Decimal::ZERO
    } else {
        raw.trim().parse().map_err(|_| {
            ApiError::invalid(
                1015,
                "invoice",
                "discount_value",
                "Invalid number for field discount_value.",
            )
        })?
    };
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(ApiError::invalid(
            1018,
            "invoice",
            "discount_value",
            "Percent values must be between 0 and 100.",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn line(raw: Value) -> LineInput {
        LineInput::parse(&raw, None, "line").unwrap()
    }

    #[test]
    fn java_fixture_totals() {
        let lines = [
            line(
                json!({"qty": 4, "unit_cost": {"amount": "5.00"}, "taxName1": "HST", "taxAmount1": "13"}),
            ),
            line(json!({"qty": "6", "unit_cost": {"amount": "4.00"}})),
        ];
        let t = compute(&lines, d("10"));
        assert_eq!(
            (t.subtotal, t.discount_total, t.amount),
            (d("44.00"), d("-4.40"), d("41.94"))
        );
        assert_eq!(t.taxes[0].amount, d("2.34"));
    }

    #[test]
    fn taxes_round_once_per_tax_and_halves_go_away_from_zero() {
        // Three lines of 0.05 at 13%: 0.0065 each, 0.0195 together → 0.02 (per-line rounding would give 0.03).
        let lines: Vec<_> = (0..3)
            .map(|_| {
                line(
                    json!({"unit_cost": {"amount": "0.05"}, "taxName1": "HST", "taxAmount1": "13"}),
                )
            })
            .collect();
        assert_eq!(compute(&lines, Decimal::ZERO).taxes[0].amount, d("0.02"));
        // 0.125 rounds to 0.13 (banker's rounding would give 0.12).
        assert_eq!(
            line(json!({"qty": "0.5", "unit_cost": {"amount": "0.25"}})).amount(),
            d("0.13")
        );
        assert_eq!(cents(d("-0.125")), d("-0.13"));
        assert_eq!(cents(-Decimal::ZERO).to_string(), "0.00");
    }

    #[test]
    fn compound_tax_applies_on_top_of_the_first() {
        let l = line(
            json!({"unit_cost": {"amount": "100"}, "taxName1": "GST", "taxAmount1": "5",
            "taxName2": "QST", "taxAmount2": "10", "compounded_tax": true}),
        );
        let t = compute(&[l], Decimal::ZERO);
        assert_eq!(
            (t.taxes[0].amount, t.taxes[1].amount, t.amount),
            (d("5"), d("10.50"), d("115.50"))
        );
    }

    #[test]
    fn negative_lines_reduce_the_total_and_bad_lines_are_refused() {
        let lines = [
            line(
                json!({"qty": 2, "unit_cost": {"amount": "10"}, "taxName1": "VAT", "taxAmount1": "20"}),
            ),
            line(
                json!({"name": "Refund", "unit_cost": {"amount": "-5"}, "taxName1": "VAT", "taxAmount1": "20"}),
            ),
        ];
        assert_eq!(compute(&lines, Decimal::ZERO).amount, d("18.00"));
        let errno = |raw: Value| match LineInput::parse(&raw, None, "line") {
            Err(ApiError::Accounting { errno, .. }) => errno,
            other => panic!("{other:?}"),
        };
        assert_eq!(errno(json!({"qty": 1})), 1001);
        assert_eq!(
            errno(json!({"qty": "x", "unit_cost": {"amount": "1"}})),
            1015
        );
        assert_eq!(
            errno(json!({"qty": -1, "unit_cost": {"amount": "1"}})),
            1004
        );
        assert_eq!(
            errno(json!({"unit_cost": {"amount": "1"}, "taxAmount1": "101"})),
            1018
        );
        assert_eq!(
            errno(json!({"unit_cost": {"amount": "1"}, "taxName1": "A", "taxName2": "A"})),
            1019
        );
    }

    #[test]
    fn a_line_named_by_id_keeps_what_the_request_leaves_out() {
        let base = line(
            json!({"name": "Mug", "qty": 2, "unit_cost": {"amount": "4"}, "taxName1": "HST", "taxAmount1": "13"}),
        );
        let merged = LineInput::parse(&json!({"qty": 3}), Some(base), "line").unwrap();
        assert_eq!(
            (merged.name.as_str(), merged.amount(), merged.tax1.rate),
            ("Mug", d("12"), d("13"))
        );
    }
}
