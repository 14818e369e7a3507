//! Invoice lines compared as Ferry writes them: name, quantity, unit cost and taxes. FreshBooks returns numbers as
//! strings or numbers and with its own scale, so lines are read back into drafts and compared normalised.

use crate::freshbooks::{FbInvoice, FbLine};
use ferry_model::{CurrencyCode, Decimal, InvoiceLineDraft, LineTax, Money};
use std::str::FromStr;

/// What Ferry sets on a line, normalised: name, quantity, unit cost and taxes.
pub(crate) type LineKey = (String, Decimal, Decimal, Vec<(String, Decimal)>);

fn decimal(v: &serde_json::Value) -> Decimal {
    match v {
        serde_json::Value::String(s) => Decimal::from_str(s.trim()).unwrap_or_default(),
        serde_json::Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

fn key(l: &InvoiceLineDraft) -> LineKey {
    let taxes = [&l.tax1, &l.tax2]
        .into_iter()
        .flatten()
        .filter(|t| !t.name.trim().is_empty())
        .map(|t| (t.name.trim().to_owned(), t.percent.normalize()))
        .collect();
    (
        l.name.clone(),
        l.quantity.normalize(),
        l.unit_cost.amount.normalize(),
        taxes,
    )
}

/// The lines as FreshBooks compares them, normalised: what an edit brought an order to.
pub(crate) fn keys(lines: &[InvoiceLineDraft]) -> Vec<LineKey> {
    lines.iter().map(key).collect()
}

/// Whether two lines are the same line to FreshBooks.
pub(super) fn same(a: &InvoiceLineDraft, b: &InvoiceLineDraft) -> bool {
    key(a) == key(b)
}

/// A line FreshBooks returned, as the draft that would write it (in `currency`).
pub(super) fn read(l: &FbLine, currency: &CurrencyCode) -> InvoiceLineDraft {
    let tax = |name: &Option<String>, pct: &serde_json::Value| {
        name.as_deref()
            .filter(|n| !n.trim().is_empty())
            .map(|n| LineTax {
                name: n.to_owned(),
                percent: decimal(pct),
            })
    };
    InvoiceLineDraft {
        name: l.name.clone(),
        description: l.description.clone(),
        quantity: decimal(&l.qty),
        unit_cost: Money::new(
            l.unit_cost.as_ref().map_or(Decimal::ZERO, |m| m.amount),
            currency.clone(),
        ),
        tax1: tax(&l.tax_name1, &l.tax_amount1),
        tax2: tax(&l.tax_name2, &l.tax_amount2),
        sku: String::new(),
    }
}

/// The invoice's lines as drafts in its own currency (the draft's when FreshBooks gave none).
pub(super) fn invoice_lines(inv: &FbInvoice, fallback: &CurrencyCode) -> Vec<InvoiceLineDraft> {
    let currency = invoice_currency(inv).unwrap_or_else(|| fallback.clone());
    inv.lines.iter().map(|l| read(l, &currency)).collect()
}

/// The currency of an invoice's amount, when FreshBooks gave one.
pub(super) fn invoice_currency(inv: &FbInvoice) -> Option<CurrencyCode> {
    inv.amount
        .as_ref()
        .and_then(|m| CurrencyCode::parse(&m.code).ok())
}

/// Removes the first line the same as `line`; false when there is none.
pub(super) fn take_one(lines: &mut Vec<InvoiceLineDraft>, line: &InvoiceLineDraft) -> bool {
    match lines.iter().position(|l| same(l, line)) {
        Some(i) => {
            lines.remove(i);
            true
        }
        None => false,
    }
}

/// How one set of lines becomes another, counting repeated lines.
#[derive(Debug, Default)]
pub(crate) struct LineDiff {
    /// Lines in the old set and not the new one.
    pub(super) removed: Vec<InvoiceLineDraft>,
    /// Lines in the new set and not the old one.
    pub(super) added: Vec<InvoiceLineDraft>,
}

impl LineDiff {
    /// The lines `have` loses and gains to become `want`; `None` when they are the same lines in the same order
    /// (a reordering alone is a change: FreshBooks prints lines in order).
    pub(crate) fn between(have: &[InvoiceLineDraft], want: &[InvoiceLineDraft]) -> Option<Self> {
        if have.len() == want.len() && have.iter().zip(want).all(|(a, b)| same(a, b)) {
            return None;
        }
        let mut removed = have.to_vec();
        let mut added = Vec::new();
        for line in want {
            if !take_one(&mut removed, line) {
                added.push(line.clone());
            }
        }
        Some(Self { removed, added })
    }

    /// True when only the order of the lines changed.
    pub(crate) fn is_reorder(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }
}

fn show(l: &InvoiceLineDraft) -> String {
    let k = key(l);
    let taxes: Vec<String> = k.3.iter().map(|(n, p)| format!("{n} {p}%")).collect();
    format!("{} × {} {} [{}]", k.1, k.0, k.2, taxes.join(", "))
}

fn list(lines: &[InvoiceLineDraft]) -> String {
    if lines.is_empty() {
        "nothing".to_owned()
    } else {
        lines.iter().map(show).collect::<Vec<_>>().join("; ")
    }
}

impl std::fmt::Display for LineDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_reorder() {
            return f.write_str("the same lines in another order");
        }
        write!(
            f,
            "removed: {}; added: {}",
            list(&self.removed),
            list(&self.added)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, qty: i64, cost: &str) -> InvoiceLineDraft {
        InvoiceLineDraft {
            name: name.to_owned(),
            description: String::new(),
            quantity: Decimal::from(qty),
            unit_cost: Money::new(
                Decimal::from_str(cost).unwrap_or_default(),
                CurrencyCode::parse("USD").unwrap_or_else(|_| unreachable!()),
            ),
            tax1: None,
            tax2: None,
            sku: String::new(),
        }
    }

    #[test]
    fn a_quantity_change_is_one_line_out_and_one_in_and_repeats_count() {
        let have = [line("A", 2, "5.00"), line("B", 1, "3"), line("B", 1, "3.0")];
        let want = [line("A", 1, "5"), line("B", 1, "3.00")];
        let d = LineDiff::between(&have, &want).unwrap_or_default();
        assert_eq!(d.removed.len(), 2, "{d}");
        assert_eq!(d.added.len(), 1, "{d}");
        assert!(d.to_string().starts_with("removed: 2 × A 5"), "{d}");
        assert!(LineDiff::between(&want, &want).is_none());
    }
}
