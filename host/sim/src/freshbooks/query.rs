//! List queries (docs/freshbooks.md §5): `page`/`per_page`, `search[...]` filters, `include[]`, `sort`, and the paged
//! `result` they produce.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::error::ApiError;

/// Default and maximum page sizes (docs/freshbooks.md §5).
const DEFAULT_PER_PAGE: u64 = 15;
const MAX_PER_PAGE: u64 = 100;

/// A parsed accounting list/get query string.
#[derive(Debug, Default, Clone)]
pub(crate) struct ListQuery {
    page: Option<String>,
    per_page: Option<String>,
    /// `(name, value)` of each `search[name]=value` / `search[name][]=value`.
    search: Vec<(String, String)>,
    include: Vec<String>,
    sort: Option<String>,
}

impl ListQuery {
    /// Parses a raw query string; brackets may arrive percent-encoded or raw.
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default();
        let mut q = Self::default();
        for (key, value) in pairs {
            if key == "page" {
                q.page = Some(value);
            } else if key == "per_page" {
                q.per_page = Some(value);
            } else if key == "sort" {
                q.sort = Some(value);
            } else if key == "include[]" || key == "include" {
                q.include.push(value);
            } else if let Some(rest) = key.strip_prefix("search[") {
                let name = rest.trim_end_matches("[]").trim_end_matches(']');
                q.search.push((name.to_owned(), value));
            }
        }
        q
    }

    /// Whether an object whose field has the text `actual` can pass every `search[<name>]` equality filter sent
    /// (true when none was sent). Lists use it to skip rendering objects the filter would drop anyway: it is the
    /// same test [`list_result`] applies, on the typed field, so it never drops a row the filter would keep.
    pub(crate) fn admits(&self, name: &str, actual: impl std::fmt::Display) -> bool {
        let mut wanted = self.search.iter().filter(|(n, _)| n == name).peekable();
        if wanted.peek().is_none() {
            return true;
        }
        let actual = actual.to_string();
        wanted.all(|(_, v)| equals(&actual, v))
    }

    /// Whether `actual` passes every `search[<name>]` that is a case-insensitive substring filter (`…_like`), so
    /// that a handler can skip objects before serialising them; `list_result` applies the same filter again.
    pub(crate) fn admits_like(&self, name: &str, actual: Option<&str>) -> bool {
        self.search
            .iter()
            .filter(|(n, _)| n == name)
            .all(|(_, v)| actual.is_some_and(|a| a.to_lowercase().contains(&v.to_lowercase())))
    }

    /// Whether any `search[<name>]` was sent (for the no-input flags such as `has_credit`).
    pub(crate) fn searches(&self, name: &str) -> bool {
        self.search.iter().any(|(n, _)| n == name)
    }

    /// Whether `include[]=<name>` was sent.
    pub(crate) fn includes(&self, name: &str) -> bool {
        self.include.iter().any(|i| i == name)
    }
}

/// How one documented `search[...]` name filters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Filter {
    /// Equals on a field (string comparison case-insensitive — a guess modelled on MySQL collation).
    Eq(&'static str),
    /// The plural "In" form: `search[<name>s][]=1&…` matches the singular field.
    In(&'static str),
    /// Substring, case-insensitive, on any of the fields.
    Like(&'static [&'static str]),
    /// `>=` on a field (dates, decimals).
    Min(&'static str),
    /// `<` on a field for dates and `<=` for amounts is unconfirmed; the simulator uses `<` (docs/freshbooks.md §5 "max
    /// is <").
    Max(&'static str),
    /// Boolean equality (`true`/`false`/`1`/`0`).
    Bool(&'static str),
}

/// Applies filters, the default vis_state rule, sort and paging; returns the `result` object.
///
/// Unknown `search[...]` names are ignored (a guess: FreshBooks does not document rejecting them).
///
/// # Errors
///
/// 422 errno 1014 / 1013 for a non-integer `page` / `per_page`.
pub(crate) fn list_result(
    plural: &str,
    objects: Vec<Value>,
    query: &ListQuery,
    filters: &[(&str, Filter)],
    object: &str,
) -> Result<Value, ApiError> {
    let page = parse_int(query.page.as_deref(), 1, 1014, object, "page")?.max(1);
    let per_page = match parse_int(
        query.per_page.as_deref(),
        DEFAULT_PER_PAGE,
        1013,
        object,
        "per_page",
    )? {
        0 => DEFAULT_PER_PAGE,
        n => n.min(MAX_PER_PAGE),
    };
    let explicit_vis = query.search.iter().any(|(name, _)| name == "vis_state");
    let mut rows: Vec<Value> = objects
        .into_iter()
        // Deleted objects (vis_state 1) leave default lists; objects without vis_state (taxes) always stay.
        .filter(|o| explicit_vis || o.get("vis_state").and_then(Value::as_i64) != Some(1))
        .filter(|o| matches_all(o, query, filters))
        .collect();
    sort(&mut rows, query.sort.as_deref());
    let total = rows.len() as u64;
    let pages = total.div_ceil(per_page);
    let start = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let page_rows: Vec<Value> = rows
        .into_iter()
        .skip(start)
        .take(usize::try_from(per_page).unwrap_or(0))
        .collect();
    let mut result = Map::new();
    result.insert(plural.to_owned(), Value::Array(page_rows));
    result.insert("page".into(), json!(page));
    result.insert("pages".into(), json!(pages));
    result.insert("per_page".into(), json!(per_page));
    result.insert("total".into(), json!(total));
    Ok(Value::Object(result))
}

fn parse_int(
    raw: Option<&str>,
    default: u64,
    errno: u32,
    object: &str,
    field: &str,
) -> Result<u64, ApiError> {
    match raw {
        None | Some("") => Ok(default),
        Some(s) => s
            .parse::<i64>()
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(|_| ApiError::invalid(errno, object, field, format!("Invalid {field}: {s}"))),
    }
}

fn matches_all(object: &Value, query: &ListQuery, filters: &[(&str, Filter)]) -> bool {
    // "In" filters repeat the key; group values per name so `ids[]=1&ids[]=2` means 1 OR 2.
    let mut in_groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (name, value) in &query.search {
        if name == "vis_state" {
            if text(object.get("vis_state")).as_deref() != Some(value.as_str()) {
                return false;
            }
            continue;
        }
        let Some((_, filter)) = filters.iter().find(|(n, _)| n == name) else {
            continue;
        };
        match *filter {
            Filter::In(field) => match in_groups.iter_mut().find(|(f, _)| *f == field) {
                Some((_, values)) => values.push(value),
                None => in_groups.push((field, vec![value])),
            },
            Filter::Eq(field) => {
                if !text(field_at(object, field)).is_some_and(|t| equals(&t, value)) {
                    return false;
                }
            }
            Filter::Like(fields) => {
                let needle = value.to_lowercase();
                let hit = fields.iter().any(|f| {
                    text(field_at(object, f)).is_some_and(|t| t.to_lowercase().contains(&needle))
                });
                if !hit {
                    return false;
                }
            }
            Filter::Min(field) => {
                if compare(field_at(object, field), value).is_none_or(|o| o.is_lt()) {
                    return false;
                }
            }
            Filter::Max(field) => {
                if compare(field_at(object, field), value).is_none_or(|o| o.is_ge()) {
                    return false;
                }
            }
            Filter::Bool(field) => {
                let want = matches!(value.as_str(), "true" | "1" | "True");
                if field_at(object, field).and_then(Value::as_bool) != Some(want) {
                    return false;
                }
            }
        }
    }
    in_groups.iter().all(|(field, values)| {
        let actual = text(field_at(object, field));
        values.iter().any(|v| actual.as_deref() == Some(*v))
    })
}

/// The `Filter::Eq` comparison, shared with [`ListQuery::admits`] so the pre-filter can never disagree with it.
fn equals(actual: &str, wanted: &str) -> bool {
    actual.eq_ignore_ascii_case(wanted)
}

/// Reads a dotted path (`unit_cost.amount`).
fn field_at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(object, |v, key| v.get(key))
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Decimal comparison when both sides parse, else string comparison (dates and timestamps sort as text).
fn compare(actual: Option<&Value>, bound: &str) -> Option<std::cmp::Ordering> {
    let actual = text(actual)?;
    match (actual.parse::<Decimal>(), bound.parse::<Decimal>()) {
        (Ok(a), Ok(b)) => Some(a.cmp(&b)),
        _ => {
            // `updated` is a timestamp and bounds are dates: compare on the bound's length (day granularity).
            let n = bound.len().min(actual.len());
            Some(actual[..n].cmp(bound))
        }
    }
}

/// Default newest first (descending id); `sort=<field>_asc|_desc` on a top-level field otherwise.
fn sort(rows: &mut [Value], sort: Option<&str>) {
    let (field, descending) = match sort {
        Some(s) if s.ends_with("_asc") => (s.trim_end_matches("_asc"), false),
        Some(s) if s.ends_with("_desc") => (s.trim_end_matches("_desc"), true),
        _ => ("id", true),
    };
    rows.sort_by(|a, b| {
        let (x, y) = (a.get(field), b.get(field));
        let ord = match (x.and_then(Value::as_f64), y.and_then(Value::as_f64)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => text(x).cmp(&text(y)),
        };
        let id = |v: &Value| v.get("id").and_then(Value::as_u64).unwrap_or(0);
        let ord = ord.then_with(|| id(a).cmp(&id(b)));
        if descending { ord.reverse() } else { ord }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_like_prefilter_keeps_exactly_what_the_list_filter_keeps() {
        let filters: &[(&str, Filter)] = &[("note_like", Filter::Like(&["note"]))];
        let q = ListQuery::parse(Some("search[note_like]=ferry:ABC"));
        for note in [Some("x\nferry:abc-1"), Some("other"), None] {
            let object = json!({ "note": note });
            assert_eq!(
                q.admits_like("note_like", note),
                matches_all(&object, &q, filters),
                "{note:?}"
            );
        }
        assert!(
            ListQuery::parse(None).admits_like("note_like", None),
            "no search, no filter"
        );
    }

    #[test]
    fn encoded_and_raw_brackets_parse_alike() {
        let a = ListQuery::parse(Some("include%5B%5D=lines&search%5Bemail%5D=a%40b.c"));
        let b = ListQuery::parse(Some("include[]=lines&search[email]=a@b.c"));
        assert!(a.includes("lines") && b.includes("lines"));
        assert_eq!(a.search, b.search);
    }

    #[test]
    fn empty_list_has_zero_pages() {
        let r = list_result("clients", vec![], &ListQuery::default(), &[], "client").ok();
        assert_eq!(
            r,
            Some(json!({"clients": [], "page": 1, "pages": 0, "per_page": 15, "total": 0}))
        );
    }
}
