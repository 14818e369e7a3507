//! XML blobs Kentico keeps in text columns (docs/kentico.md §2.4): `<CustomData>`, `OrderPaymentResult`,
//! `<Summary>`.

use ferry_model::CustomField;
use quick_xml::{Reader, events::Event};
use rust_decimal::Decimal;
use std::str::FromStr;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// `<CustomData><Key>value</Key>…</CustomData>` → fields in document order. Empty input → no fields.
///
/// # Errors
/// A description when the XML is malformed.
pub fn parse_custom_data(xml: &str) -> Result<Vec<CustomField>, String> {
    if xml.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut depth = 0usize;
    let mut current: Option<String> = None;
    let mut fields = Vec::new();
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("custom data xml: {e}"))?
        {
            Event::Start(e) => {
                depth += 1;
                if depth == 2 {
                    current = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
            }
            Event::Empty(e) if depth == 1 => {
                fields.push(CustomField {
                    name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    value: String::new(),
                });
            }
            Event::Text(t) if depth == 2 => {
                if let Some(name) = current.take() {
                    let value = t
                        .unescape()
                        .map_err(|e| format!("custom data xml: {e}"))?
                        .into_owned();
                    fields.push(CustomField { name, value });
                }
            }
            Event::CData(t) if depth == 2 => {
                if let Some(name) = current.take() {
                    fields.push(CustomField {
                        name,
                        value: String::from_utf8_lossy(&t).into_owned(),
                    });
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some(name) = current.take()
                {
                    fields.push(CustomField {
                        name,
                        value: String::new(),
                    });
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(fields)
}

/// `OrderPaymentResult`: `<result><item name=… value=… text=… />…</result>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentResult {
    /// Every item as (name, value, text).
    pub items: Vec<(String, String, String)>,
}

impl PaymentResult {
    fn item(&self, name: &str) -> Option<&(String, String, String)> {
        self.items
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
    }

    /// `completed` item with value `1` (or `true`).
    pub fn is_completed(&self) -> bool {
        self.item("completed")
            .is_some_and(|(_, v, _)| v == "1" || v.eq_ignore_ascii_case("true"))
    }

    /// The gateway transaction id, empty when none.
    pub fn transaction_id(&self) -> String {
        self.item("transactionid")
            .map(|(_, v, _)| v.clone())
            .unwrap_or_default()
    }

    /// The payment method's display text (`method` item text), empty when none.
    pub fn method_text(&self) -> String {
        self.item("method")
            .map(|(_, _, t)| t.clone())
            .unwrap_or_default()
    }

    /// The `date` item, written by Kentico in en-US format (`1/27/2008 5:01:41 PM`), taken as UTC.
    pub fn date(&self) -> Option<OffsetDateTime> {
        parse_en_us_datetime(&self.item("date")?.1)
    }
}

/// Parses `OrderPaymentResult` XML. Empty input → an empty result.
///
/// # Errors
/// A description when the XML is malformed.
pub fn parse_payment_result(xml: &str) -> Result<PaymentResult, String> {
    let mut out = PaymentResult::default();
    if xml.trim().is_empty() {
        return Ok(out);
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("payment result xml: {e}"))?
        {
            Event::Start(e) | Event::Empty(e)
                if e.name().as_ref().eq_ignore_ascii_case(b"item") =>
            {
                let (mut name, mut value, mut text) = (String::new(), String::new(), String::new());
                for attr in e.attributes() {
                    let attr = attr.map_err(|e| format!("payment result xml: {e}"))?;
                    let v = attr
                        .unescape_value()
                        .map_err(|e| format!("payment result xml: {e}"))?
                        .into_owned();
                    match attr.key.as_ref().to_ascii_lowercase().as_slice() {
                        b"name" => name = v,
                        b"value" => value = v,
                        b"text" => text = v,
                        _ => {}
                    }
                }
                out.items.push((name, value, text));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// One item of a blob: (lowercased element name, text) of each of its child elements.
type Item = Vec<(Vec<u8>, String)>;

/// The text of each child element of every `<item>` element (names lowercased), in document order: the shape
/// shared by Kentico's `ValuesSummary` and `CouponCodes` blobs. `what` names the blob in errors.
fn read_items(xml: &str, item: &[u8], what: &str) -> Result<Vec<Item>, String> {
    let mut out = Vec::new();
    if xml.trim().is_empty() {
        return Ok(out);
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut field: Option<Vec<u8>> = None;
    let mut current = Vec::new();
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("{what} xml: {e}"))?
        {
            Event::Start(e) => field = Some(e.name().as_ref().to_ascii_lowercase()),
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| format!("{what} xml: {e}"))?;
                if let Some(f) = &field {
                    current.push((f.clone(), text.into_owned()));
                }
            }
            Event::End(e) => {
                if e.name().as_ref().eq_ignore_ascii_case(item) {
                    out.push(std::mem::take(&mut current));
                }
                field = None;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// The text of `name` among an item's fields.
fn field<'a>(item: &'a Item, name: &[u8]) -> Option<&'a str> {
    item.iter()
        .find(|(f, _)| f.as_slice() == name)
        .map(|(_, v)| v.as_str())
}

/// `<Summary><Item><Name>VAT 21%</Name><Value>8.40</Value></Item>…</Summary>` → (name, value) pairs.
///
/// # Errors
/// A description when the XML is malformed or a value is not a decimal.
pub fn parse_summary(xml: &str) -> Result<Vec<(String, Decimal)>, String> {
    read_items(xml, b"item", "summary")?
        .iter()
        .map(|item| {
            let value = field(item, b"value").unwrap_or("");
            let v = Decimal::from_str(value.trim())
                .map_err(|e| format!("summary value {value:?}: {e}"))?;
            Ok((field(item, b"name").unwrap_or("").to_owned(), v))
        })
        .collect()
}

/// `<CouponCodes><CouponCode><Code>…</Code>[<ValueInMainCurrency>…</ValueInMainCurrency>]</CouponCode>…</CouponCodes>`
/// (`docs/kentico.md` §2.4) → (code, gift-card value) pairs, in the order Kentico applied them.
///
/// # Errors
/// A description when the XML is malformed or a value is not a decimal.
pub fn parse_coupon_codes(xml: &str) -> Result<Vec<(String, Option<Decimal>)>, String> {
    read_items(xml, b"couponcode", "coupon codes")?
        .iter()
        .map(|item| {
            let value = field(item, b"valueinmaincurrency")
                .map(|v| {
                    Decimal::from_str(v.trim()).map_err(|e| format!("coupon code value {v:?}: {e}"))
                })
                .transpose()?;
            Ok((field(item, b"code").unwrap_or("").to_owned(), value))
        })
        .collect()
}

/// `M/D/YYYY h:mm:ss AM|PM` (en-US), also without the time part.
fn parse_en_us_datetime(s: &str) -> Option<OffsetDateTime> {
    let mut parts = s.split_whitespace();
    let mut date = parts.next()?.split('/');
    let month: u8 = date.next()?.parse().ok()?;
    let day: u8 = date.next()?.parse().ok()?;
    let year: i32 = date.next()?.parse().ok()?;
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = match parts.next() {
        Some(t) => {
            let mut hms = t.split(':').map(|x| x.parse::<u8>().ok());
            let (mut h, m, sec) = (
                hms.next()??,
                hms.next()??,
                hms.next().flatten().unwrap_or(0),
            );
            match parts.next().map(str::to_ascii_uppercase).as_deref() {
                Some("PM") if h < 12 => h += 12,
                Some("AM") if h == 12 => h = 0,
                _ => {}
            }
            Time::from_hms(h, m, sec).ok()?
        }
        None => Time::MIDNIGHT,
    };
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_data_becomes_fields() {
        let f = parse_custom_data("<CustomData><CustomDataNumber>42</CustomDataNumber><Gift>a &amp; b</Gift><Empty/></CustomData>")
            .unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(
            (f[0].name.as_str(), f[0].value.as_str()),
            ("CustomDataNumber", "42")
        );
        assert_eq!(f[1].value, "a & b");
        assert_eq!(f[2].value, "");
        assert!(parse_custom_data("").unwrap().is_empty());
    }

    #[test]
    fn payment_result_reads_completion_date_and_method() {
        let xml = r#"<result><item name="date" header="{$PaymentGateway.Result.Date$}" value="1/27/2008 5:01:41 PM" /><item name="method" header="x" text="Credit card" value="230" /><item name="completed" header="y" value="1" text="z" /><item name="transactionid" value="TX-9" /></result>"#;
        let r = parse_payment_result(xml).unwrap();
        assert!(r.is_completed());
        assert_eq!(r.method_text(), "Credit card");
        assert_eq!(r.transaction_id(), "TX-9");
        let d = r.date().unwrap();
        assert_eq!((d.year(), d.hour(), d.minute()), (2008, 17, 1));
    }

    #[test]
    fn coupon_codes_keep_their_order_and_gift_card_values() {
        let codes = parse_coupon_codes(
            "<CouponCodes><CouponCode><Code>BREW10</Code></CouponCode><CouponCode><Code>GC-1</Code>\
             <ValueInMainCurrency>25.00</ValueInMainCurrency></CouponCode></CouponCodes>",
        )
        .unwrap();
        assert_eq!(
            codes,
            vec![
                ("BREW10".to_owned(), None),
                ("GC-1".to_owned(), Some(Decimal::new(2500, 2)))
            ]
        );
        assert!(parse_coupon_codes("").unwrap().is_empty());
    }

    #[test]
    fn summary_values_are_decimals() {
        let s = parse_summary(
            "<Summary><Item><Name>VAT 21%</Name><Value>8.40</Value></Item></Summary>",
        )
        .unwrap();
        assert_eq!(
            s,
            vec![("VAT 21%".to_owned(), Decimal::from_str("8.40").unwrap())]
        );
    }
}
