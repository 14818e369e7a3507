//! Response envelopes and rows. Keys are matched case-insensitively (`OrderItemGuid` vs `OrderItemGUID`),
//! and values are kept as raw JSON text so 9-decimal money parses exactly as `Decimal`.

use rust_decimal::Decimal;
use serde_json::value::RawValue;
use std::{borrow::Cow, collections::HashMap, str::FromStr, sync::Arc};
use time::{
    OffsetDateTime, PrimitiveDateTime, format_description::well_known::Rfc3339,
    macros::format_description,
};
use uuid::Uuid;

/// A JSON object's members as raw values borrowed from the body: the envelope's levels are read this way, so only
/// the row's own columns are copied out of the body (once each).
type RawRefs<'a> = HashMap<String, &'a RawValue>;

/// The longest column name looked up without an allocation (Kentico's are well under it).
const KEY_BUF: usize = 64;

/// One object's columns as Kentico sent them. A clone shares them (the client's cache hands out clones).
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// Lower-cased key → (original key, raw JSON value).
    cols: Arc<HashMap<String, (String, Box<RawValue>)>>,
}

impl Row {
    /// Builds a row from a JSON object's text.
    ///
    /// # Errors
    /// A description when the text is not a JSON object.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let map: RawRefs<'_> =
            serde_json::from_str(text).map_err(|e| format!("row is not a json object: {e}"))?;
        Ok(Self::from_refs(map))
    }

    fn from_refs(map: RawRefs<'_>) -> Self {
        Self {
            cols: Arc::new(
                map.into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), (k, v.to_owned())))
                    .collect(),
            ),
        }
    }

    /// The column `key`, matched case-insensitively (lower-cased on the stack, not in a new string).
    fn col(&self, key: &str) -> Option<&(String, Box<RawValue>)> {
        let mut buf = [0u8; KEY_BUF];
        if let Some(lower) = buf.get_mut(..key.len()) {
            lower.copy_from_slice(key.as_bytes());
            lower.make_ascii_lowercase();
            // ASCII lower-casing keeps UTF-8 valid: only a key longer than the buffer gets past here.
            if let Ok(lower) = std::str::from_utf8(lower) {
                return self.cols.get(lower);
            }
        }
        self.cols.get(&key.to_ascii_lowercase())
    }

    fn raw(&self, key: &str) -> Option<&str> {
        let v = self.col(key)?.1.get().trim();
        if v == "null" { None } else { Some(v) }
    }

    /// Column names as Kentico spelled them.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.cols.values().map(|(k, _)| k.as_str())
    }

    /// Whether the column is present (even when null).
    pub fn has(&self, key: &str) -> bool {
        self.col(key).is_some()
    }

    /// A column as text: strings unquoted, numbers and booleans as written; `None` for null or missing.
    pub fn text(&self, key: &str) -> Option<String> {
        self.text_ref(key).map(Cow::into_owned)
    }

    /// [`Row::text`] borrowed from the row where it can be: a number, a boolean, or a string without escapes (the
    /// raw value is valid JSON, so such a string is its text between the quotes).
    fn text_ref(&self, key: &str) -> Option<Cow<'_, str>> {
        let raw = self.raw(key)?;
        if let Some(quoted) = raw.strip_prefix('"') {
            match quoted.strip_suffix('"') {
                Some(text) if !text.contains('\\') => Some(Cow::Borrowed(text)),
                _ => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
            }
        } else if raw.starts_with('{') || raw.starts_with('[') {
            None
        } else {
            Some(Cow::Borrowed(raw))
        }
    }

    /// A column as text, empty when null or missing.
    pub fn string(&self, key: &str) -> String {
        self.text(key).unwrap_or_default()
    }

    /// An integer column (also accepts numeric strings).
    pub fn int(&self, key: &str) -> Option<i64> {
        self.text_ref(key).and_then(|t| t.trim().parse().ok())
    }

    /// A decimal column, exact (never through f64); accepts numbers, numeric strings and exponent forms.
    pub fn decimal(&self, key: &str) -> Option<Decimal> {
        let t = self.text_ref(key)?;
        let t = t.trim();
        Decimal::from_str(t)
            .ok()
            .or_else(|| Decimal::from_scientific(t).ok())
    }

    /// A bit column: `true`/`false`, `1`/`0`, `"True"`/`"False"`.
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.text_ref(key)?.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// A GUID column.
    pub fn uuid(&self, key: &str) -> Option<Uuid> {
        Uuid::parse_str(self.text_ref(key)?.trim()).ok()
    }

    /// A datetime column: ISO-8601 with the server's offset (Json.NET), without offset (taken as UTC),
    /// or the old WCF `/Date(ms)/` form.
    pub fn datetime(&self, key: &str) -> Option<OffsetDateTime> {
        parse_datetime(&self.text_ref(key)?)
    }
}

/// Parses the date forms Kentico's REST JSON uses.
pub(crate) fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // `/Date(1299419802000+0100)/`: the offset only affects display; the millis are UTC.
        let end = inner
            .find(['+', '-'])
            .filter(|i| *i > 0)
            .unwrap_or(inner.len());
        let ms: i64 = inner[..end].parse().ok()?;
        return OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok();
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let no_zone = format_description!(
        version = 2,
        "[year]-[month]-[day][first [T][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(s, no_zone)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// The object's own columns in a single-object body `{"data":{…columns…}}`; also accepts `{"data":{"COM_Order":
/// {…}}}` (the XML layout carried into JSON) and a bare object.
fn object_columns(body: &str) -> Result<RawRefs<'_>, String> {
    let top: RawRefs<'_> =
        serde_json::from_str(body).map_err(|e| format!("body is not a json object: {e}"))?;
    let data = match find_key(&top, "data") {
        Some(d) => d.get(),
        None => return Ok(top),
    };
    let inner: RawRefs<'_> =
        serde_json::from_str(data).map_err(|e| format!("data is not an object: {e}"))?;
    if inner.len() == 1
        && let Some(only) = inner
            .values()
            .next()
            .filter(|v| v.get().trim_start().starts_with('{'))
    {
        return serde_json::from_str(only.get()).map_err(|e| e.to_string());
    }
    Ok(inner)
}

/// Reads a single-object body (see [`object_columns`]).
pub(crate) fn parse_single(body: &str) -> Result<Row, String> {
    Ok(Row::from_refs(object_columns(body)?))
}

/// An object's child objects as one read brought them: child object type (lower case) → rows.
pub type Children = HashMap<String, Vec<Row>>;

/// Reads a single-object body asked with `children=true&hierarchy=true`: `{"data":{…columns…, "children":
/// {"<child object type>":[{…}, …], …}}}` (K13's `HierarchyHelper`; docs/kentico.md §3.5). The object's row leaves
/// the `children` node out; a body without one gives no children.
pub(crate) fn parse_single_with_children(body: &str) -> Result<(Row, Children), String> {
    let mut cols = object_columns(body)?;
    let node = find_key(&cols, "children");
    cols.retain(|k, _| !k.eq_ignore_ascii_case("children"));
    let row = Row::from_refs(cols);
    let mut children = Children::new();
    let Some(node) = node else {
        return Ok((row, children));
    };
    let lists: RawRefs<'_> =
        serde_json::from_str(node.get()).map_err(|e| format!("children is not an object: {e}"))?;
    for (object_type, list) in lists {
        let rows: Vec<RawRefs<'_>> = serde_json::from_str(list.get())
            .map_err(|e| format!("children {object_type} is not a list of objects: {e}"))?;
        children.insert(
            object_type.to_ascii_lowercase(),
            rows.into_iter().map(Row::from_refs).collect(),
        );
    }
    Ok((row, children))
}

/// Reads a collection body `{"<type>s":[{"<Table>":[rows…]},{"TotalRecords":[{"TotalRecords":"n"}]}]}`.
/// Returns the rows and the unpaged total (the row count when Kentico sent no `TotalRecords`).
pub(crate) fn parse_list(body: &str) -> Result<(Vec<Row>, u64), String> {
    let top: RawRefs<'_> =
        serde_json::from_str(body).map_err(|e| format!("body is not a json object: {e}"))?;
    // The root is the only key; its name (`ecommerce_orders` vs docs' style) is not relied on.
    let root = top.values().next().ok_or("empty collection envelope")?;
    let tables: Vec<RawRefs<'_>> = serde_json::from_str(root.get())
        .map_err(|e| format!("collection is not a list of tables: {e}"))?;
    let mut rows = Vec::new();
    let mut total = None;
    for table in tables {
        if let Some(tr) = find_key(&table, "totalrecords") {
            let inner: Vec<RawRefs<'_>> =
                serde_json::from_str(tr.get()).map_err(|e| format!("bad TotalRecords: {e}"))?;
            let n = inner
                .into_iter()
                .next()
                .map(Row::from_refs)
                .and_then(|r| r.int("TotalRecords"));
            total = n.and_then(|n| u64::try_from(n).ok());
            continue;
        }
        for (_, value) in table {
            let list: Vec<RawRefs<'_>> = serde_json::from_str(value.get())
                .map_err(|e| format!("table is not a list of rows: {e}"))?;
            rows.extend(list.into_iter().map(Row::from_refs));
        }
    }
    let total = total.unwrap_or(rows.len() as u64);
    Ok((rows, total))
}

fn find_key<'a>(map: &RawRefs<'a>, key: &str) -> Option<&'a RawValue> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER: &str = include_str!("../../tests/fixtures/k13-rest-order-27.json");
    const ITEMS: &str = include_str!("../../tests/fixtures/k13-rest-orderitems-of-27.json");

    #[test]
    fn string_columns_read_the_same_with_and_without_escapes() {
        let row = Row::from_json(
            r#"{"A":"plain text","B":"say \"hi\"\n","C":"caf\u00e9","D":12,"E":" 7 ","F":""}"#,
        )
        .unwrap();
        assert_eq!(row.text("a").as_deref(), Some("plain text"));
        assert_eq!(row.text("B").as_deref(), Some("say \"hi\"\n"));
        assert_eq!(row.text("c").as_deref(), Some("café"));
        assert_eq!(row.text("D").as_deref(), Some("12"));
        assert_eq!(row.int("E"), Some(7));
        assert_eq!(row.text("F").as_deref(), Some(""));
    }

    #[test]
    fn single_object_envelope_keeps_nine_decimal_money_exact() {
        let row = parse_single(ORDER).unwrap();
        assert_eq!(row.int("orderid"), Some(27));
        assert_eq!(
            row.decimal("OrderTotalPrice"),
            Some(Decimal::from_str("54.570000000").unwrap())
        );
        assert_eq!(row.bool("OrderIsPaid"), Some(false));
        assert_eq!(row.text("OrderTrackingNumber"), None);
        let d = row.datetime("OrderDate").unwrap();
        assert_eq!(d.offset().whole_hours(), 1);
        assert_eq!(
            row.uuid("ORDERGUID").unwrap().to_string(),
            "3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51"
        );
    }

    #[test]
    fn an_object_with_its_children_reads_each_child_type() {
        let body = r#"{ "data": { "OrderID": 27, "OrderTotalPrice": 54.570000000, "children": {
            "ecommerce.orderitem": [ { "OrderItemID": 51, "OrderItemOrderID": 27, "OrderItemUnitPrice": 13.500000000 },
                                     { "OrderItemID": 52, "OrderItemOrderID": 27, "OrderItemUnitPrice": 1.000000000,
                                       "children": { "ecommerce.orderitemskufile": [] } } ],
            "ecommerce.orderaddress": [],
            "Ecommerce.OrderStatusUser": [ { "OrderStatusUserID": 3 } ] } } }"#;
        let (order, children) = parse_single_with_children(body).unwrap();
        assert_eq!(order.int("OrderID"), Some(27));
        assert!(!order.has("children"), "the node is not a column");
        assert_eq!(
            order.decimal("OrderTotalPrice"),
            Some(Decimal::new(5457, 2))
        );
        let items = &children["ecommerce.orderitem"];
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].decimal("OrderItemUnitPrice"),
            Some(Decimal::new(135, 1))
        );
        assert_eq!(items[1].int("OrderItemOrderID"), Some(27));
        assert!(children["ecommerce.orderaddress"].is_empty());
        assert_eq!(children["ecommerce.orderstatususer"].len(), 1);
        // A server that ignores `children=true` answers the object alone.
        let (alone, none) = parse_single_with_children(r#"{"data":{"OrderID":27}}"#).unwrap();
        assert_eq!(alone.int("OrderID"), Some(27));
        assert!(none.is_empty());
    }

    #[test]
    fn collection_envelope_reads_rows_and_string_total() {
        let (rows, total) = parse_list(ITEMS).unwrap();
        assert_eq!(total, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].decimal("OrderItemUnitPrice"),
            Some(Decimal::from_str("13.5").unwrap())
        );
        // Case-insensitive: the DB says `OrderItemGuid`, .NET says `OrderItemGUID`.
        assert!(rows[0].uuid("OrderItemGUID").is_some());
    }

    #[test]
    fn empty_collection_and_lowercase_table_keys_are_accepted() {
        let (rows, total) = parse_list(r#"{"cms_countries":[]}"#).unwrap();
        assert!(rows.is_empty() && total == 0);
        let body = r#"{"cms_countries":[{"cms_country":[{"CountryID":271,"CountryTwoLetterCode":"US"}]},{"TotalRecords":[{"TotalRecords":"1"}]}]}"#;
        let (rows, total) = parse_list(body).unwrap();
        assert_eq!((rows.len(), total), (1, 1));
        assert_eq!(rows[0].string("countrytwolettercode"), "US");
    }

    #[test]
    fn nested_data_layout_and_old_wcf_dates_are_accepted() {
        let row = parse_single(
            r#"{"data":{"COM_Order":{"OrderID":8,"OrderDate":"\/Date(1299419802000)\/"}}}"#,
        )
        .unwrap();
        assert_eq!(row.int("OrderID"), Some(8));
        assert_eq!(
            row.datetime("OrderDate").unwrap().unix_timestamp(),
            1_299_419_802
        );
        assert!(parse_datetime("2026-11-20T14:03:11.227").is_some());
    }
}
