//! Response bodies in the shapes of docs/kentico.md §3.5: `{"data":{…}}` / `<data><Table>…</Table></data>` for one object,
//! and the `DataSet` envelopes for collections, with `TotalRecords` as a string and only when rows exist.

use super::class::Table;
use super::store::Store;

/// The response format (`format=` or a JSON `Content-Type`; XML by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    /// The `Content-Type` of a body in this format.
    // guess: WCF's defaults for its JSON and XML web message formats.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json; charset=utf-8",
            Self::Xml => "application/xml; charset=utf-8",
        }
    }
}

fn json_row(out: &mut String, table: &dyn Table, i: usize, cols: &[usize], store: &Store) {
    let class = table.class();
    out.push('{');
    for (n, &c) in cols.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(class.columns[c].0);
        out.push_str("\":");
        table.value(i, c, store).write_json(out);
    }
    out.push('}');
}

fn xml_row(out: &mut String, table: &dyn Table, i: usize, cols: &[usize], store: &Store) {
    let class = table.class();
    out.push('<');
    out.push_str(class.table);
    out.push('>');
    for &c in cols {
        // WriteXml leaves NULL columns out.
        if let Some(text) = table.value(i, c, store).xml_text() {
            let name = class.columns[c].0;
            out.push_str(&format!("<{name}>{text}</{name}>"));
        }
    }
    out.push_str("</");
    out.push_str(class.table);
    out.push('>');
}

/// One object: `{"data":{…}}` or `<data><Table>…</Table></data>`.
// guess: flat columns inside `data` for JSON (the XML layout is observed, the JSON one inferred in docs/kentico.md §3.5).
pub(crate) fn single(
    table: &dyn Table,
    i: usize,
    cols: &[usize],
    store: &Store,
    format: Format,
) -> String {
    let mut out = String::new();
    match format {
        Format::Json => {
            out.push_str("{\"data\":");
            json_row(&mut out, table, i, cols, store);
            out.push('}');
        }
        Format::Xml => {
            out.push_str("<data>");
            xml_row(&mut out, table, i, cols, store);
            out.push_str("</data>");
        }
    }
    out
}

/// A collection page with the unpaged `total`, laid out as `DataSet.ToJSON(true)` / `WriteXml` write it.
pub(crate) fn list(
    table: &dyn Table,
    rows: &[usize],
    cols: &[usize],
    total: usize,
    store: &Store,
    format: Format,
) -> String {
    let class = table.class();
    let root = class.root();
    let mut out = String::new();
    match format {
        Format::Json => {
            out.push_str(&format!("{{\"{root}\": \n[\n"));
            // guess: an empty page has neither the data table nor TotalRecords (docs/kentico.md §3.5: "appended only when rows exist").
            if !rows.is_empty() {
                out.push_str(&format!("{{\"{}\": \n[\n", class.table));
                for (n, &i) in rows.iter().enumerate() {
                    if n > 0 {
                        out.push_str("\n,");
                    }
                    json_row(&mut out, table, i, cols, store);
                }
                out.push_str(&format!(
                    "\n]\n}}\n,{{\"TotalRecords\": \n[\n{{\"TotalRecords\":\"{total}\"}}\n]\n}}\n"
                ));
            }
            out.push_str("]\n}");
        }
        Format::Xml => {
            out.push_str(&format!("<{root}>"));
            for &i in rows {
                xml_row(&mut out, table, i, cols, store);
            }
            if !rows.is_empty() {
                out.push_str(&format!(
                    "<TotalRecords><TotalRecords>{total}</TotalRecords></TotalRecords>"
                ));
            }
            out.push_str(&format!("</{root}>"));
        }
    }
    out
}
