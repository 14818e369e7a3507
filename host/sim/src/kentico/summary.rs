//! The XML blobs K13 writes from its calculation (docs/kentico.md §2.4, discounts.md §5.2): a
//! `ValuesSummary` (`OrderTaxSummary`, `OrderDiscounts`, `OrderOtherPayments`, `OrderItemProductDiscounts`,
//! `OrderItemDiscountSummary`) and the `CouponCodeCollection` (`OrderCouponCodes`), both .NET `XmlSerializer`
//! output on one line, without declaration or namespaces.

use rust_decimal::Decimal;

use super::pricing::{AppliedCode, SummaryItem};
use super::value::xml_escape;

/// A money value as the summaries show it: the rounded amount with the currency's two decimals (`4.30`).
// guess: .NET keeps the scale of the computed decimal; K13 computes from decimal(18,9) columns and rounds to
// CurrencyRoundTo, which leaves exactly two decimals.
fn amount(value: Decimal) -> String {
    let mut v = value.round_dp(2);
    v.rescale(2);
    v.to_string()
}

/// `<Summary><Item><Name>…</Name><Value>…</Value></Item>…</Summary>`; an empty summary is `<Summary />`.
pub(crate) fn summary_xml(items: &[SummaryItem]) -> String {
    if items.is_empty() {
        return "<Summary />".to_owned();
    }
    let mut xml = String::from("<Summary>");
    for (name, value) in items {
        xml.push_str(&format!(
            "<Item><Name>{}</Name><Value>{}</Value></Item>",
            xml_escape(name),
            amount(*value)
        ));
    }
    xml.push_str("</Summary>");
    xml
}

/// A summary column: `None` (NULL) for an order never calculated by the cart when it has no items (how the
/// simulator always stored plain orders; K13 leaves the columns NULL on orders not created through the cart),
/// else the XML.
pub(crate) fn summary_column(items: &[SummaryItem], calculated: bool) -> Option<String> {
    (calculated || !items.is_empty()).then(|| summary_xml(items))
}

/// `<CouponCodes><CouponCode><Code>…</Code>[<ValueInMainCurrency>…</ValueInMainCurrency>]</CouponCode>…</CouponCodes>`,
/// or `None` when no code was applied.
// guess: an empty collection is stored as NULL (the reference shows only non-empty ones).
pub(crate) fn coupon_codes_xml(codes: &[AppliedCode]) -> Option<String> {
    if codes.is_empty() {
        return None;
    }
    let mut xml = String::from("<CouponCodes>");
    for c in codes {
        xml.push_str("<CouponCode><Code>");
        xml.push_str(&xml_escape(&c.code));
        xml.push_str("</Code>");
        if let Some(v) = c.value_in_main {
            xml.push_str(&format!(
                "<ValueInMainCurrency>{}</ValueInMainCurrency>",
                amount(v)
            ));
        }
        xml.push_str("</CouponCode>");
    }
    xml.push_str("</CouponCodes>");
    Some(xml)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn summaries_match_the_reference_forms() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(
            summary_xml(&[("Welcome 5%".into(), d("4.3"))]),
            "<Summary><Item><Name>Welcome 5%</Name><Value>4.30</Value></Item></Summary>"
        );
        assert_eq!(summary_xml(&[]), "<Summary />");
        assert_eq!(summary_column(&[], false), None);
        let codes = [
            AppliedCode {
                code: "WELCOME5".into(),
                value_in_main: None,
            },
            AppliedCode {
                code: "GC-XYZ".into(),
                value_in_main: Some(d("25")),
            },
        ];
        assert_eq!(
            coupon_codes_xml(&codes).unwrap(),
            "<CouponCodes><CouponCode><Code>WELCOME5</Code></CouponCode><CouponCode><Code>GC-XYZ</Code><ValueInMainCurrency>25.00</ValueInMainCurrency></CouponCode></CouponCodes>"
        );
    }
}
