//! Column values and how Kentico serializes them: JSON via Json.NET (`DataSet.ToJSON`) and XML via
//! `DataSet.WriteXml` (docs/kentico.md §3.5).

use std::cmp::Ordering;

use rust_decimal::Decimal;
use time::OffsetDateTime;
use uuid::Uuid;

use super::clock;

/// The SQL type of a column, which decides how it serializes and how `where` literals are converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `int`.
    Int,
    /// `decimal(18,9)`: always nine decimals on the wire.
    Money,
    /// `float`.
    Float,
    /// `bit`.
    Bool,
    /// `nvarchar`.
    Text,
    /// `uniqueidentifier`.
    Guid,
    /// `datetime2`.
    Date,
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// DB NULL.
    Null,
    /// `int`.
    Int(i64),
    /// `decimal(18,9)`.
    Money(Decimal),
    /// `float`.
    Float(f64),
    /// `bit`.
    Bool(bool),
    /// `nvarchar`.
    Text(String),
    /// `uniqueidentifier`.
    Guid(Uuid),
    /// `datetime2`, in the server's offset.
    Date(OffsetDateTime),
}

impl Value {
    /// Text, or NULL when `None`.
    pub(crate) fn text(s: Option<&str>) -> Self {
        s.map_or(Self::Null, |s| Self::Text(s.to_owned()))
    }

    /// Int, or NULL when `None`.
    pub(crate) fn int(i: Option<i64>) -> Self {
        i.map_or(Self::Null, Self::Int)
    }

    /// Appends the Json.NET rendering.
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Int(i) => out.push_str(&i.to_string()),
            Self::Money(d) => out.push_str(&money(*d)),
            Self::Float(f) => out.push_str(&f.to_string()),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Text(s) => out.push_str(&json_string(s)),
            Self::Guid(g) => {
                out.push('"');
                out.push_str(&g.hyphenated().to_string());
                out.push('"');
            }
            Self::Date(t) => {
                out.push('"');
                out.push_str(&clock::format(*t));
                out.push('"');
            }
        }
    }

    /// The XML element text, `None` for NULL (WriteXml omits NULL columns).
    pub(crate) fn xml_text(&self) -> Option<String> {
        match self {
            Self::Null => None,
            Self::Int(i) => Some(i.to_string()),
            Self::Money(d) => Some(money(*d)),
            Self::Float(f) => Some(f.to_string()),
            Self::Bool(b) => Some(b.to_string()),
            Self::Text(s) => Some(xml_escape(s)),
            Self::Guid(g) => Some(g.hyphenated().to_string()),
            Self::Date(t) => Some(clock::format(*t)),
        }
    }

    /// SQL ordering of two values of one column: NULL sorts first, text compares case-insensitively
    /// (SQL Server's default collation).
    pub(crate) fn sql_cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Null, Self::Null) => Ordering::Equal,
            (Self::Null, _) => Ordering::Less,
            (_, Self::Null) => Ordering::Greater,
            (Self::Int(a), Self::Int(b)) => a.cmp(b),
            (Self::Money(a), Self::Money(b)) => a.cmp(b),
            (Self::Int(a), Self::Money(b)) => Decimal::from(*a).cmp(b),
            (Self::Money(a), Self::Int(b)) => a.cmp(&Decimal::from(*b)),
            (Self::Float(a), Self::Float(b)) => a.total_cmp(b),
            (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
            (Self::Text(a), Self::Text(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
            (Self::Guid(a), Self::Guid(b)) => a.cmp(b),
            (Self::Date(a), Self::Date(b)) => a.cmp(b),
            (a, b) => a.sort_text().cmp(&b.sort_text()),
        }
    }

    fn sort_text(&self) -> String {
        self.xml_text().unwrap_or_default().to_lowercase()
    }
}

/// `decimal(18,9)` text: nine decimals, as .NET keeps the column scale (`13.500000000`).
pub(crate) fn money(d: Decimal) -> String {
    let mut d = d;
    d.rescale(9);
    d.to_string()
}

/// A JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Escapes text for an XML element or attribute.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// `<CustomData><Key>value</Key>…</CustomData>`, or `None` when there is nothing to store.
pub(crate) fn custom_data_xml(fields: &[(&'static str, String)]) -> Option<String> {
    if fields.is_empty() {
        return None;
    }
    let mut xml = String::from("<CustomData>");
    for (k, v) in fields {
        xml.push_str(&format!("<{k}>{}</{k}>", xml_escape(v)));
    }
    xml.push_str("</CustomData>");
    Some(xml)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn money_keeps_nine_decimals() {
        assert_eq!(money(Decimal::from_str("13.5").unwrap()), "13.500000000");
        assert_eq!(money(Decimal::from(5)), "5.000000000");
        let mut out = String::new();
        Value::Money(Decimal::from_str("54.57").unwrap()).write_json(&mut out);
        assert_eq!(out, "54.570000000");
    }

    #[test]
    fn text_orders_case_insensitively_and_null_first() {
        let a = Value::Text("apple".into());
        let b = Value::Text("Banana".into());
        assert_eq!(a.sql_cmp(&b), Ordering::Less);
        assert_eq!(Value::Null.sql_cmp(&a), Ordering::Less);
    }

    #[test]
    fn custom_data_is_one_element_per_key() {
        let xml = custom_data_xml(&[("GiftWrap", "yes & bow".into())]);
        assert_eq!(
            xml.as_deref(),
            Some("<CustomData><GiftWrap>yes &amp; bow</GiftWrap></CustomData>")
        );
        assert_eq!(custom_data_xml(&[]), None);
    }
}
