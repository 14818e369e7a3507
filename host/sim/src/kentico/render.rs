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

fn json_row(out: &mut String, table: &dyn Table, i: usize, cols: &[usize]) {
    let class = table.class();
    out.push('{');
    for (n, &c) in cols.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(class.columns[c].0);
        out.push_str("\":");
        table.value(i, c).write_json(out);
    }
    out.push('}');
}

fn xml_row(out: &mut String, table: &dyn Table, i: usize, cols: &[usize]) {
    let class = table.class();
    out.push('<');
    out.push_str(class.table);
    out.push('>');
    for &c in cols {
        // WriteXml leaves NULL columns out.
        if let Some(text) = table.value(i, c).xml_text() {
            let name = class.columns[c].0;
            out.push_str(&format!("<{name}>{text}</{name}>"));
        }
    }
    out.push_str("</");
    out.push_str(class.table);
    out.push('>');
}

/// One object: `{"data":{…}}` or `<data><Table>…</Table></data>`; with `children` (`children=true`, carrying
/// `hierarchy=`) its child objects follow, as K13's `HierarchyHelper.ExportObject` writes them: per child object
/// type, `"<object type>": [ {…}, … ]` (an empty list for a type without objects), each child exported the same way
/// (its own children after its columns); with `hierarchy=true` the lists sit under a `"children": { … }` node (XML:
/// `<children>…</children>`), without it beside the columns.
// guess: flat columns inside `data` for JSON (the XML layout is observed, the JSON one inferred in docs/kentico.md §3.5);
// the children follow HierarchyHelper's source.
pub(crate) fn single(
    table: &dyn Table,
    i: usize,
    cols: &[usize],
    store: &Store,
    format: Format,
    children: Option<bool>,
) -> String {
    let mut out = String::new();
    let (open, close) = match format {
        Format::Json => ("{\"data\":", "}"),
        Format::Xml => ("<data>", "</data>"),
    };
    out.push_str(open);
    tree(&mut out, table, i, cols, store, format, children);
    out.push_str(close);
    out
}

/// The rows of each child type of row `i`, in id order.
fn children_of<'s>(
    table: &dyn Table,
    i: usize,
    store: &'s Store,
) -> Vec<(&'s dyn Table, Vec<usize>)> {
    let id = table.value(i, 0);
    store
        .child_tables(table.class().object_type)
        .into_iter()
        .map(|(child, column)| {
            let rows = (0..child.len())
                .filter(|&r| child.is_live(r) && child.value(r, column) == id)
                .collect();
            (child, rows)
        })
        .collect()
}

/// Row `i` in `format`, followed by its child objects when `children` says so (see [`single`]).
fn tree(
    out: &mut String,
    table: &dyn Table,
    i: usize,
    cols: &[usize],
    store: &Store,
    format: Format,
    children: Option<bool>,
) {
    let json = format == Format::Json;
    if json {
        json_row(out, table, i, cols);
    } else {
        xml_row(out, table, i, cols);
    }
    let Some(hierarchy) = children else {
        return;
    };
    let lists = children_of(table, i, store);
    if lists.is_empty() {
        return;
    }
    if json {
        out.pop(); // the row's closing brace: its children follow its columns
        out.push_str(if hierarchy { ",\"children\":{" } else { "," });
    } else if hierarchy {
        out.push_str("<children>");
    }
    for (n, (child, rows)) in lists.iter().enumerate() {
        if json {
            out.push_str(if n > 0 { "," } else { "" });
            out.push_str(&format!("\"{}\":[", child.class().object_type));
        }
        let all: Vec<usize> = (0..child.class().columns.len()).collect();
        for (k, &r) in rows.iter().enumerate() {
            if json && k > 0 {
                out.push(',');
            }
            tree(out, *child, r, &all, store, format, children);
        }
        if json {
            out.push(']');
        }
    }
    match (json, hierarchy) {
        (true, true) => out.push_str("}}"),
        (true, false) => out.push('}'),
        (false, true) => out.push_str("</children>"),
        (false, false) => {}
    }
}

/// A collection page with the unpaged `total`, laid out as `DataSet.ToJSON(true)` / `WriteXml` write it.
pub(crate) fn list(
    table: &dyn Table,
    rows: &[usize],
    cols: &[usize],
    total: usize,
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
                    json_row(&mut out, table, i, cols);
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
                xml_row(&mut out, table, i, cols);
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
