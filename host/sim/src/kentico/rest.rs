//! The REST service under `/rest` (docs/kentico.md §3): HTTP Basic auth, the URL templates for single objects, site and
//! global collections and children, the query parameters, and Kentico's status codes.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::{HeaderMap, HeaderValue, Method, Uri, header};
use uuid::Uuid;

use super::Shared;
use super::class::{Class, Table};
use super::query::{self, Condition};
use super::render::{self, Format};
use super::rest_error::RestError;
use super::store::{CLASSES, Store};
use super::value::Value;
use super::write;

/// The realm Kentico's REST service challenges with.
pub const REALM: &str = "CMS REST Service";

/// Query parameters (names are case-insensitive).
#[derive(Debug, Default)]
struct Params {
    format: Option<String>,
    where_clause: Option<String>,
    order_by: Option<String>,
    columns: Option<String>,
    top_n: usize,
    offset: usize,
    max_records: Option<usize>,
    /// `children=true`: a single object comes with its child objects.
    children: bool,
    /// `hierarchy=true`: those children nested under a `children` node.
    hierarchy: bool,
}

fn params(uri: &Uri) -> Result<Params, RestError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let mut p = Params::default();
    let number = |name: &str, v: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| RestError::BadRequest(format!("{name} must be a non-negative integer")))
    };
    for (k, v) in pairs {
        match k.to_ascii_lowercase().as_str() {
            "format" => p.format = Some(v.to_ascii_lowercase()),
            "where" => p.where_clause = Some(v),
            "orderby" => p.order_by = Some(v),
            "columns" => p.columns = Some(v),
            "topn" => p.top_n = number("topn", &v)?,
            "offset" => p.offset = number("offset", &v)?,
            "maxrecords" => p.max_records = Some(number("maxrecords", &v)?),
            // As ValidationHelper.GetBoolean reads them; anything else is the default, false.
            "children" => p.children = flag(&v),
            "hierarchy" => p.hierarchy = flag(&v),
            _ => {}
        }
    }
    Ok(p)
}

/// A boolean query parameter: `true` or `1` (any case) is true.
fn flag(v: &str) -> bool {
    let v = v.trim();
    v.eq_ignore_ascii_case("true") || v == "1"
}

fn format(p: &Params, headers: &HeaderMap) -> Result<Format, RestError> {
    match p.format.as_deref() {
        Some("json") => Ok(Format::Json),
        Some("xml") => Ok(Format::Xml),
        // guess: atom10/rss20 exist in K13 but are not simulated; they answer 400 rather than a wrong shape.
        Some(other) => Err(RestError::BadRequest(format!(
            "format {other} is not served by the simulator (json, xml)"
        ))),
        None => {
            let json = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            Ok(if json { Format::Json } else { Format::Xml })
        }
    }
}

fn authorized(headers: &HeaderMap, sim: &Shared) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    // guess: user names compare case-insensitively (Kentico user names do), passwords exactly.
    text.split_once(':').is_some_and(|(user, password)| {
        user.eq_ignore_ascii_case(&sim.config.username) && password == sim.config.password
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Which objects of a class a collection URL selects.
enum Scope {
    CurrentSite,
    Site,
    Global,
    All,
}

/// `ANY /rest/…`.
pub(crate) async fn rest(
    State(sim): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !sim.rest_enabled.load(std::sync::atomic::Ordering::SeqCst) {
        // docs/kentico.md §3.2: a disabled service answers 403. guess: the message text (not captured).
        return RestError::Forbidden("The REST service is disabled.".into()).into_response();
    }
    let served = if method == Method::GET || method == Method::HEAD {
        serve(&sim, &uri, &headers)
    } else {
        serve_write(&sim, &method, &uri, &headers, &body)
    };
    match served {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn serve(sim: &Shared, uri: &Uri, headers: &HeaderMap) -> Result<Response, RestError> {
    if !authorized(headers, sim) {
        return Err(RestError::Unauthorized);
    }
    let p = params(uri)?;
    let fmt = format(&p, headers)?;
    let path = uri.path().trim_start_matches("/rest");
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let store = sim.store();
    let Some(first) = segments.first() else {
        return Ok(service_document(fmt));
    };
    // guess: an unknown object type answers 404 like a missing object.
    let table = store.table(first).ok_or(RestError::NotFound)?;
    let class = table.class();
    let site = sim.config.site_name.as_str();
    let rest: Vec<&str> = segments[1..].iter().map(String::as_str).collect();
    let body = match rest.as_slice() {
        [] | ["currentsite"] => list(&store, table, &p, fmt, Scope::CurrentSite, None)?,
        ["global"] => list(&store, table, &p, fmt, Scope::Global, None)?,
        ["all"] => {
            if !sim.config.global_admin {
                return Err(RestError::Forbidden(
                    "Access denied: listing all objects requires the global administrator privilege."
                        .into(),
                ));
            }
            list(&store, table, &p, fmt, Scope::All, None)?
        }
        ["site", name] => {
            if !name.eq_ignore_ascii_case(site) {
                return Err(RestError::NoSuchSite);
            }
            list(&store, table, &p, fmt, Scope::Site, None)?
        }
        ["site", name, code] => {
            if !name.eq_ignore_ascii_case(site) {
                return Err(RestError::NoSuchSite);
            }
            let i = by_code(table, code, true)?;
            single(&store, table, i, &p, fmt)?
        }
        ["currentsite", code] => {
            let i = by_code(table, code, true)?;
            single(&store, table, i, &p, fmt)?
        }
        ["global", code] => {
            let i = by_code(table, code, false)?;
            single(&store, table, i, &p, fmt)?
        }
        [key] => {
            let i = match key.parse::<i64>() {
                Ok(id) => table
                    .index_of(id)
                    .filter(|&i| table.is_live(i))
                    .ok_or(RestError::NotFound)?,
                Err(_) => by_guid_or_code(table, key)?,
            };
            single(&store, table, i, &p, fmt)?
        }
        [id, "children", child] => {
            let parent_id: i64 = id.parse().map_err(|_| RestError::NotFound)?;
            table.index_of(parent_id).ok_or(RestError::NotFound)?;
            let child_table = store.table(child).ok_or(RestError::NotFound)?;
            let link = child_table
                .class()
                .parent
                .filter(|(parent, _)| parent.eq_ignore_ascii_case(class.object_type))
                .and_then(|(_, col)| child_table.class().column(col))
                // guess: a type that is not a child of this parent answers 404.
                .ok_or(RestError::NotFound)?;
            list(
                &store,
                child_table,
                &p,
                fmt,
                Scope::All,
                Some((link, parent_id)),
            )?
        }
        _ => return Err(RestError::NotFound),
    };
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(fmt.content_type()),
    );
    Ok(response)
}

/// A write (`PUT`, `POST`, `DELETE`): the permission model, then `PUT` of one object by id or GUID.
fn serve_write(
    sim: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, RestError> {
    if !authorized(headers, sim) {
        return Err(RestError::Unauthorized);
    }
    let p = params(uri)?;
    let fmt = format(&p, headers)?;
    let segments: Vec<String> = uri
        .path()
        .trim_start_matches("/rest")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let Some(first) = segments.first() else {
        return Err(RestError::NotFound);
    };
    let applied = {
        let mut store = sim.store();
        let table = store.table(first).ok_or(RestError::NotFound)?;
        let object_type = table.class().object_type;
        write::permitted(
            sim.config.objects_read_only,
            &sim.config.modify_types,
            object_type,
            method,
        )?;
        let [key] = &segments[1..] else {
            return Err(RestError::NotFound);
        };
        // guess: only orders are writable in the simulator; other permitted types answer 404 like a missing object.
        if !object_type.eq_ignore_ascii_case("ecommerce.order") {
            return Err(RestError::NotFound);
        }
        let i = match key.parse::<i64>() {
            Ok(id) => store.order_index(id).ok_or(RestError::NotFound)?,
            Err(_) => by_guid_or_code(table, key)?,
        };
        store.put_order(i, body)?
    };
    sim.record_write(write::RestWrite {
        object_type: "ecommerce.order".into(),
        id: applied.id,
        columns: applied.columns.into_iter().collect(),
        changed: applied.changed,
        at: time::OffsetDateTime::now_utc(),
    });
    sim.outbox.emit(applied.events);
    let mut response = write::reply(fmt, applied.id, applied.guid).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(fmt.content_type()),
    );
    Ok(response)
}

fn columns(class: &Class, p: &Params) -> Result<Vec<usize>, RestError> {
    match p.columns.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(c) => Ok(query::parse_columns(c, class)?),
        None => Ok((0..class.columns.len()).collect()),
    }
}

fn single(
    store: &Store,
    table: &dyn Table,
    i: usize,
    p: &Params,
    fmt: Format,
) -> Result<String, RestError> {
    let cols = columns(table.class(), p)?;
    let children = p.children.then_some(p.hierarchy);
    Ok(render::single(table, i, &cols, store, fmt, children))
}

fn by_code(table: &dyn Table, code: &str, site_bound: bool) -> Result<usize, RestError> {
    let class = table.class();
    let col = class
        .code_name
        .and_then(|c| class.column(c))
        .ok_or(RestError::NotFound)?;
    let site_col = class.site.and_then(|c| class.column(c));
    (0..table.len())
        .find(|&i| {
            let code_matches =
                matches!(table.value(i, col), Value::Text(t) if t.eq_ignore_ascii_case(code));
            let site_matches = match site_col {
                None => true,
                Some(s) => {
                    let v = table.value(i, s);
                    if site_bound {
                        v == Value::Int(super::seed::SITE_ID)
                    } else {
                        v == Value::Null
                    }
                }
            };
            code_matches && site_matches && table.is_live(i)
        })
        .ok_or(RestError::NotFound)
}

fn by_guid_or_code(table: &dyn Table, key: &str) -> Result<usize, RestError> {
    let class = table.class();
    if let (Ok(guid), Some(col)) = (
        Uuid::parse_str(key),
        class.guid.and_then(|g| class.column(g)),
    ) {
        return (0..table.len())
            .find(|&i| table.is_live(i) && table.value(i, col) == Value::Guid(guid))
            .ok_or(RestError::NotFound);
    }
    by_code(table, key, true)
}

fn list(
    store: &Store,
    table: &dyn Table,
    p: &Params,
    fmt: Format,
    scope: Scope,
    parent: Option<(usize, i64)>,
) -> Result<String, RestError> {
    let class = table.class();
    let condition = match p.where_clause.as_deref() {
        Some(w) => query::parse_where(w, class, store.clock.offset())?,
        None => Condition::True,
    };
    let order = match p.order_by.as_deref().filter(|o| !o.trim().is_empty()) {
        Some(o) => query::parse_order_by(o, class)?,
        // guess: the default order of a type is its primary key.
        None => vec![(0, false)],
    };
    let cols = columns(class, p)?;
    let site_col = class.site.and_then(|c| class.column(c));
    let in_scope = |i: usize| -> bool {
        if !table.is_live(i) {
            return false;
        }
        if let Some((col, id)) = parent
            && table.value(i, col) != Value::Int(id)
        {
            return false;
        }
        // guess: types without a site column list every row under any site variant; site lists hold only that
        // site's objects (global ones excluded), and single objects by id are not site-checked.
        match (&scope, site_col) {
            (Scope::All, _) | (_, None) => true,
            (Scope::CurrentSite | Scope::Site, Some(c)) => {
                table.value(i, c) == Value::Int(super::seed::SITE_ID)
            }
            (Scope::Global, Some(c)) => table.value(i, c) == Value::Null,
        }
    };
    let mut rows: Vec<usize> = (0..table.len())
        .filter(|&i| in_scope(i) && condition.matches(table, i))
        .collect();
    let by_id = order.len() == 1 && order[0] == (0, false);
    if !by_id {
        let mut keyed: Vec<(Vec<Value>, usize)> = rows
            .iter()
            .map(|&i| (order.iter().map(|(c, _)| table.value(i, *c)).collect(), i))
            .collect();
        keyed.sort_by(|(a, ai), (b, bi)| {
            for (n, (_, desc)) in order.iter().enumerate() {
                let o = a[n].sql_cmp(&b[n]);
                let o = if *desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            ai.cmp(bi)
        });
        rows = keyed.into_iter().map(|(_, i)| i).collect();
    } else {
        rows.sort_by_key(|&i| table.id_at(i));
    }
    // guess: `topn` limits the query itself, so TotalRecords counts at most `topn` rows; paging applies after.
    if p.top_n > 0 {
        rows.truncate(p.top_n);
    }
    let total = rows.len();
    let start = p.offset.min(total);
    let end = match p.max_records.filter(|m| *m > 0) {
        Some(m) => (start + m).min(total),
        None => total,
    };
    Ok(render::list(table, &rows[start..end], &cols, total, fmt))
}

/// `GET /rest`: an AtomPub service document listing the object types.
fn service_document(fmt: Format) -> Response {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><service xmlns=\"http://www.w3.org/2007/app\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><workspace><atom:title>Objects</atom:title>",
    );
    for class in CLASSES {
        xml.push_str(&format!(
            "<collection href=\"{0}\"><atom:title>{0}</atom:title></collection>",
            class.object_type
        ));
    }
    xml.push_str("</workspace></service>");
    let _ = fmt;
    (
        [(
            header::CONTENT_TYPE,
            "application/atomsvc+xml; charset=utf-8",
        )],
        xml,
    )
        .into_response()
}
