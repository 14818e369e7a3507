//! How list and show commands print: JSON with `--json` (for scripts), else tab-separated text (for people and
//! `cut`/`awk`): a list of records as a header line and one line per record, one record as `field<TAB>value` lines
//! with dotted paths for nested fields.

use serde_json::Value;
use std::io::Write;

/// Prints `value` as pretty JSON when `json`, else as tab-separated text.
///
/// # Errors
/// Writing to `out` failed.
pub(crate) fn print(out: &mut impl Write, value: &Value, json: bool) -> std::io::Result<()> {
    if json {
        return writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }
    write!(out, "{}", text(value))
}

/// The tab-separated text of a value.
pub(crate) fn text(value: &Value) -> String {
    if let Some(rows) = records(value) {
        return table(rows);
    }
    let mut lines = Vec::new();
    flatten("", value, &mut lines);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The records a value lists: an array of objects, or an object whose only array field holds them (`{"tenants":
/// [...]}`).
fn records(value: &Value) -> Option<&Vec<Value>> {
    let is_records = |a: &Vec<Value>| a.iter().all(Value::is_object);
    match value {
        Value::Array(a) if is_records(a) => Some(a),
        Value::Object(map) => {
            let arrays: Vec<&Vec<Value>> = map.values().filter_map(Value::as_array).collect();
            match arrays.as_slice() {
                [only] if map.len() == 1 && is_records(only) => Some(only),
                _ => None,
            }
        }
        _ => None,
    }
}

fn cell(value: &Value) -> String {
    let s = match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    s.replace(['\t', '\n', '\r'], " ")
}

fn table(rows: &[Value]) -> String {
    let mut columns: Vec<&str> = Vec::new();
    for row in rows {
        for key in row.as_object().into_iter().flat_map(|m| m.keys()) {
            if !columns.contains(&key.as_str()) {
                columns.push(key);
            }
        }
    }
    let mut out = format!("{}\n", columns.join("\t"));
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| row.get(*c).map(cell).unwrap_or_default())
            .collect();
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    out
}

fn flatten(path: &str, value: &Value, lines: &mut Vec<String>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                flatten(&join(key), v, lines);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(&join(&i.to_string()), v, lines);
            }
        }
        other => lines.push(format!("{path}\t{}", cell(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::text;
    use serde_json::json;

    #[test]
    fn a_list_is_a_header_and_a_line_per_record() {
        let v = json!({"tenants": [{"id": "shop", "plugins": 2}, {"id": "other", "note": "a\tb"}]});
        assert_eq!(text(&v), "id\tplugins\tnote\nshop\t2\t\nother\t\ta b\n");
    }

    #[test]
    fn one_record_is_a_field_and_value_per_line() {
        let v = json!({"id": "shop", "kentico": {"url": "http://k"}, "plugins": ["a", "b"], "empty": []});
        assert_eq!(
            text(&v),
            "empty\t[]\nid\tshop\nkentico.url\thttp://k\nplugins.0\ta\nplugins.1\tb\n"
        );
    }
}
