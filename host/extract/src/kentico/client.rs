//! `KenticoClient`: GETs against `<admin app>/rest` with HTTP Basic auth, JSON format, and a per-client cache of
//! reference objects (countries, states, currencies, statuses, payment and shipping options, tax classes and their
//! rates, and the country and currency lists) and, for a minute, SKUs.

use super::fills::Fills;
use super::rows::{Children, Row, parse_list, parse_single, parse_single_with_children};
use crate::{Error, Result};
use ferry_outbound::{CallCtx, HttpClient};
use secrecy::{ExposeSecret, SecretString};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;

/// The downstream name used for breakers and logs.
pub const DOWNSTREAM: &str = "kentico";

/// How long reference objects stay cached: they change rarely and an edit shows up within this time.
const REFERENCE_TTL: Duration = Duration::from_secs(15 * 60);

/// How long a SKU stays cached. Orders carry their own prices; a SKU gives a line its number, tax class, catalogue
/// price and attributes, and an order burst reads the same SKUs again and again (issue 20: four reads per order).
/// A product edited in Kentico reaches the next order within this time. guess: a minute is short enough for a
/// shop's edits; the catalogue sync (issue 19) will refresh by `SKULastModified` instead.
const SKU_TTL: Duration = Duration::from_secs(60);

/// Largest page requested while walking a collection.
const PAGE_SIZE: u64 = 100;

/// Object types whose rows are cached per client (reference data, not business data).
const CACHED_TYPES: &[&str] = &[
    "cms.country",
    "cms.state",
    "ecommerce.currency",
    "ecommerce.orderstatus",
    "ecommerce.paymentoption",
    "ecommerce.shippingoption",
    "ecommerce.taxclass",
    "ecommerce.sku",
];

/// Child collections cached like reference objects: a tax class's rates per country and state.
const CACHED_CHILDREN: &[&str] = &["ecommerce.taxclasscountry", "ecommerce.taxclassstate"];

/// Collections cached like reference objects: the site's currencies (the main one prices the catalogue) and
/// countries (the one a catalogue item's tax rate is for). Every SKU event lists both, so a burst of them for one
/// tenant would list them again and again (issue 19: two calls of three per SKU event).
const CACHED_LISTS: &[&str] = &["cms.country", "ecommerce.currency"];

/// How long rows of `object_type` stay cached.
fn ttl(object_type: &str) -> Duration {
    if object_type == "ecommerce.sku" {
        SKU_TTL
    } else {
        REFERENCE_TTL
    }
}

/// Collection query parameters (docs/kentico.md §3.4). Paging is `offset` + `maxrecords`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// SQL `where` condition.
    pub where_clause: Option<String>,
    /// SQL `orderby`.
    pub order_by: Option<String>,
    /// Comma-separated columns to return.
    pub columns: Option<String>,
    /// `topn`: at most this many rows overall.
    pub top_n: Option<u64>,
    /// `offset`: rows to skip.
    pub offset: Option<u64>,
    /// `maxrecords`: page size.
    pub max_records: Option<u64>,
}

impl ListQuery {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![("format", "json".to_owned())];
        if let Some(w) = &self.where_clause {
            p.push(("where", w.clone()));
        }
        if let Some(o) = &self.order_by {
            p.push(("orderby", o.clone()));
        }
        if let Some(c) = &self.columns {
            p.push(("columns", c.clone()));
        }
        if let Some(n) = self.top_n {
            p.push(("topn", n.to_string()));
        }
        if let Some(n) = self.offset {
            p.push(("offset", n.to_string()));
        }
        if let Some(n) = self.max_records {
            p.push(("maxrecords", n.to_string()));
        }
        p
    }
}

/// One page of a collection.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Rows of this page.
    pub rows: Vec<Row>,
    /// Unpaged total (`TotalRecords`).
    pub total: u64,
}

type Cache = HashMap<(String, i64), (Instant, Row)>;

/// An order assembled lately, with the `OrderLastModified` its rows were read at.
struct RecentOrder {
    /// The stamp as Kentico sent it (compared as text against a fresh order row).
    stamp: String,
    /// The same stamp as an instant, when it parses (compared with an event's `last_modified`).
    at: Option<time::OffsetDateTime>,
    order: Arc<ferry_model::Order>,
}

/// Orders assembled lately, by id.
type RecentOrders = HashMap<i64, RecentOrder>;

/// Orders remembered at most; the memo starts over when full.
const RECENT_ORDERS: usize = 1024;

/// A collection's path and query parameters.
type CollectionKey = (String, Vec<(&'static str, String)>);

/// Cached reference collections (child collections and lists) by path and query.
type CollectionCache = HashMap<CollectionKey, (Instant, Page)>;

/// A tenant's Kentico REST client. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct KenticoClient {
    http: HttpClient,
    ctx: CallCtx,
    /// `…/rest`, no trailing slash.
    rest_base: String,
    username: String,
    password: SecretString,
    /// Site code name for collection paths; `None` uses the site bound to the host name.
    site: Option<String>,
    /// Reference objects by (type, id); shared by clones so one fetch serves every job of the tenant.
    cache: Arc<Mutex<Cache>>,
    /// Reference collections (`CACHED_CHILDREN`, `CACHED_LISTS`), shared by clones like `cache`.
    collections: Arc<Mutex<CollectionCache>>,
    /// Cached objects being read: the events of a burst that all miss one wait for the first read.
    object_fills: Arc<Fills<(String, i64)>>,
    /// Cached collections being read, likewise.
    collection_fills: Arc<Fills<CollectionKey>>,
    /// Orders assembled lately, by id, with the `OrderLastModified` they were read at.
    recent_orders: Arc<Mutex<RecentOrders>>,
}

impl std::fmt::Debug for KenticoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KenticoClient")
            .field("rest_base", &self.rest_base)
            .field("tenant", &self.ctx.tenant)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl KenticoClient {
    /// A client for `base_url` (the admin application; `/rest` is appended unless already there).
    pub fn new(
        http: HttpClient,
        tenant: impl Into<String>,
        base_url: &str,
        username: impl Into<String>,
        password: SecretString,
    ) -> Self {
        let trimmed = base_url.trim_end_matches('/');
        let rest_base = if trimmed.ends_with("/rest") {
            trimmed.to_owned()
        } else {
            format!("{trimmed}/rest")
        };
        Self {
            http,
            ctx: CallCtx::new(tenant, DOWNSTREAM),
            rest_base,
            username: username.into(),
            password,
            site: None,
            cache: Arc::new(Mutex::new(HashMap::new())),
            collections: Arc::new(Mutex::new(HashMap::new())),
            object_fills: Arc::default(),
            collection_fills: Arc::default(),
            recent_orders: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Lists collections under `/rest/<type>/site/<site>` instead of the host's current site.
    pub fn with_site(mut self, site: impl Into<String>) -> Self {
        self.site = Some(site.into());
        self
    }

    async fn get(
        &self,
        what: &str,
        path: &str,
        params: &[(&'static str, String)],
    ) -> Result<String> {
        let url = format!("{}/{}", self.rest_base, path.trim_start_matches('/'));
        let req = self
            .http
            .http()
            .get(url)
            .query(params)
            .basic_auth(&self.username, Some(self.password.expose_secret()));
        match self.http.send(&self.ctx, what, req).await {
            Ok(resp) => String::from_utf8(resp.body.to_vec())
                .map_err(|e| Error::malformed(what, e.to_string())),
            Err(e) if e.status() == Some(404) => Err(Error::NotFound {
                what: what.to_owned(),
            }),
            Err(source) => Err(Error::Http {
                what: what.to_owned(),
                source,
            }),
        }
    }

    /// `GET /rest/<type>/<key>?format=json` by GUID or code name, never cached.
    ///
    /// # Errors
    /// [`Error::NotFound`] on 404; classified HTTP errors otherwise.
    pub async fn get_by_key(&self, object_type: &str, key: &str) -> Result<Row> {
        let what = format!("fetch {object_type} {key} from kentico");
        let body = self
            .get(
                &what,
                &format!("{object_type}/{key}"),
                &[("format", "json".to_owned())],
            )
            .await?;
        parse_single(&body).map_err(|r| Error::malformed(&what, r))
    }

    /// `PUT /rest/<type>/<id>?format=json` with `{"data":{columns}}` (docs/kentico.md §3.5): the REST user needs the
    /// modify permission for the type. The reply (ID and GUID) is not needed.
    ///
    /// # Errors
    /// [`Error::NotFound`] on 404; classified HTTP errors otherwise (403: read-only service or no permission).
    pub async fn put_object(
        &self,
        object_type: &str,
        id: i64,
        columns: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        let what = format!("update {object_type} {id} in kentico");
        let url = format!("{}/{object_type}/{id}", self.rest_base);
        let req = self
            .http
            .http()
            .put(url)
            .query(&[("format", "json")])
            .basic_auth(&self.username, Some(self.password.expose_secret()))
            .json(&serde_json::json!({ "data": columns }));
        match self.http.send(&self.ctx, &what, req).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Err(Error::NotFound { what }),
            Err(source) => Err(Error::Http { what, source }),
        }
    }

    /// `GET /rest/<type>/<id>?format=json`.
    ///
    /// # Errors
    /// [`Error::NotFound`] on 404; classified HTTP errors otherwise.
    pub async fn get_object(&self, object_type: &str, id: i64) -> Result<Row> {
        let what = format!("fetch {object_type} {id} from kentico");
        let read = async {
            let path = format!("{object_type}/{id}");
            let body = self
                .get(&what, &path, &[("format", "json".to_owned())])
                .await?;
            parse_single(&body).map_err(|r| Error::malformed(&what, r))
        };
        if !CACHED_TYPES.contains(&object_type) {
            return read.await;
        }
        if let Some(row) = self.cached(object_type, id) {
            return Ok(row);
        }
        let key = (object_type.to_owned(), id);
        let fill = async {
            let row = read.await?;
            self.lock()
                .insert(key.clone(), (Instant::now(), row.clone()));
            Ok(row)
        };
        let cached = || self.cached(object_type, id);
        self.object_fills.once(&key, cached, fill).await
    }

    /// `GET /rest/<type>/<id>?format=json&children=true&hierarchy=true`: the object and its child objects in one
    /// call, never cached. A child type the answer leaves out is not in [`Children`]; see
    /// docs/kentico.md §3.5 for the shape.
    ///
    /// # Errors
    /// [`Error::NotFound`] on 404; classified HTTP errors otherwise.
    pub async fn get_object_with_children(
        &self,
        object_type: &str,
        id: i64,
    ) -> Result<(Row, Children)> {
        let what = format!("fetch {object_type} {id} from kentico");
        let params = [
            ("format", "json".to_owned()),
            ("children", "true".to_owned()),
            ("hierarchy", "true".to_owned()),
        ];
        let body = self
            .get(&what, &format!("{object_type}/{id}"), &params)
            .await?;
        parse_single_with_children(&body).map_err(|r| Error::malformed(&what, r))
    }

    /// `GET /rest/<type>/<id>?format=json`, read past the cache (and the cache refreshed with it): the catalogue
    /// sync must see a SKU as it is now, and the orders after it should too.
    ///
    /// # Errors
    /// [`Error::NotFound`] on 404 (the cached row is dropped); classified HTTP errors otherwise.
    pub async fn refresh_object(&self, object_type: &str, id: i64) -> Result<Row> {
        let key = (object_type.to_owned(), id);
        self.lock().remove(&key);
        let row = self.get_object(object_type, id).await?;
        Ok(row)
    }

    /// `GET /rest/<type>[/site/<site>]` with query parameters: one page (a reference list from the cache).
    ///
    /// # Errors
    /// Classified HTTP errors; [`Error::Malformed`] when the envelope cannot be read.
    pub async fn list(&self, object_type: &str, query: &ListQuery) -> Result<Page> {
        let what = format!("list {object_type} from kentico");
        let path = match &self.site {
            Some(site) => format!("{object_type}/site/{site}"),
            None => object_type.to_owned(),
        };
        if !CACHED_LISTS.contains(&object_type) {
            return self.page(&what, &path, query).await;
        }
        let key = (path.clone(), query.params());
        self.collection(key, self.page(&what, &path, query)).await
    }

    /// A read-only look at the connection ("Test connection"): one page of one order id, which needs the REST
    /// service on, the credentials accepted and orders readable. Returns how many orders the site has.
    ///
    /// # Errors
    /// Classified HTTP errors (401 bad credentials, 403 service disabled or not allowed, unreachable, 5xx).
    pub async fn check_access(&self) -> Result<u64> {
        let query = ListQuery {
            columns: Some("OrderID".to_owned()),
            max_records: Some(1),
            ..ListQuery::default()
        };
        Ok(self.list("ecommerce.order", &query).await?.total)
    }

    /// `GET /rest/<type>/<id>/children/<child type>` (all pages).
    ///
    /// # Errors
    /// Classified HTTP errors; [`Error::NotFound`] when the parent is missing.
    pub async fn children(
        &self,
        object_type: &str,
        id: i64,
        child_type: &str,
        query: &ListQuery,
    ) -> Result<Vec<Row>> {
        let what = format!("fetch {child_type} of {object_type} {id} from kentico");
        let path = format!("{object_type}/{id}/children/{child_type}");
        if !CACHED_CHILDREN.contains(&child_type) {
            return self.all_children(&what, &path, query).await;
        }
        let key = (path.clone(), query.params());
        let fetch = async {
            let rows = self.all_children(&what, &path, query).await?;
            Ok(Page {
                total: rows.len() as u64,
                rows,
            })
        };
        Ok(self.collection(key, fetch).await?.rows)
    }

    /// A reference collection from the cache, else from `fetch` (one fetch per collection at a time), kept for
    /// [`REFERENCE_TTL`].
    async fn collection(
        &self,
        key: CollectionKey,
        fetch: impl std::future::Future<Output = Result<Page>>,
    ) -> Result<Page> {
        if let Some(page) = self.cached_collection(&key) {
            return Ok(page);
        }
        let fill = async {
            let page = fetch.await?;
            self.collections_lock()
                .insert(key.clone(), (Instant::now(), page.clone()));
            Ok(page)
        };
        let cached = || self.cached_collection(&key);
        self.collection_fills.once(&key, cached, fill).await
    }

    /// Every page of a child collection.
    async fn all_children(&self, what: &str, path: &str, query: &ListQuery) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        let mut q = query.clone();
        q.max_records = Some(q.max_records.unwrap_or(PAGE_SIZE));
        loop {
            q.offset = Some(rows.len() as u64);
            let page = self.page(what, path, &q).await?;
            let done =
                page.rows.is_empty() || rows.len() as u64 + page.rows.len() as u64 >= page.total;
            rows.extend(page.rows);
            if done {
                return Ok(rows);
            }
        }
    }

    async fn page(&self, what: &str, path: &str, query: &ListQuery) -> Result<Page> {
        let body = match self.get(what, path, &query.params()).await {
            Ok(b) => b,
            // An empty child collection may be answered with 404 by some versions; treat as empty.
            Err(Error::NotFound { .. }) if path.contains("/children/") => {
                return Ok(Page::default());
            }
            Err(e) => return Err(e),
        };
        if body.trim().is_empty() {
            return Ok(Page::default());
        }
        let (rows, total) = parse_list(&body).map_err(|r| Error::malformed(what, r))?;
        Ok(Page { rows, total })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached(&self, object_type: &str, id: i64) -> Option<Row> {
        let map = self.lock();
        let (at, row) = map.get(&(object_type.to_owned(), id))?;
        (at.elapsed() < ttl(object_type)).then(|| row.clone())
    }

    fn collections_lock(&self) -> std::sync::MutexGuard<'_, CollectionCache> {
        self.collections.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached_collection(&self, key: &CollectionKey) -> Option<Page> {
        let map = self.collections_lock();
        let (at, page) = map.get(key)?;
        (at.elapsed() < REFERENCE_TTL).then(|| page.clone())
    }

    /// The order assembled lately for `order_id` when Kentico still shows it last modified at `stamp`.
    pub(crate) fn recent_order(
        &self,
        order_id: i64,
        stamp: &str,
    ) -> Option<Arc<ferry_model::Order>> {
        let map = self.recent_orders.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&order_id)
            .filter(|r| !stamp.is_empty() && r.stamp == stamp)
            .map(|r| r.order.clone())
    }

    /// The order assembled lately for `order_id` when its rows were read at or after `changed_at` (an event's
    /// `last_modified`): that read already shows the change the event announces.
    pub(crate) fn order_seen_since(
        &self,
        order_id: i64,
        changed_at: time::OffsetDateTime,
    ) -> Option<Arc<ferry_model::Order>> {
        let map = self.recent_orders.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&order_id)
            .filter(|r| r.at.is_some_and(|at| at >= changed_at))
            .map(|r| r.order.clone())
    }

    /// Remembers an order assembled from rows last modified at `stamp`.
    pub(crate) fn remember_order(
        &self,
        order_id: i64,
        stamp: String,
        order: Arc<ferry_model::Order>,
    ) {
        if stamp.is_empty() {
            return;
        }
        let mut map = self.recent_orders.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= RECENT_ORDERS {
            map.clear();
        }
        let at = super::rows::parse_datetime(&stamp);
        map.insert(order_id, RecentOrder { stamp, at, order });
    }

    /// Drops cached reference objects and SKUs (after an operator changes them in Kentico).
    pub fn clear_cache(&self) {
        self.lock().clear();
        self.collections_lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_use_kentico_names() {
        let q = ListQuery {
            where_clause: Some("OrderLastModified > '2026-01-01'".into()),
            order_by: Some("OrderLastModified".into()),
            offset: Some(100),
            max_records: Some(100),
            ..ListQuery::default()
        };
        let p = q.params();
        assert!(p.contains(&("format", "json".into())));
        assert!(p.contains(&("orderby", "OrderLastModified".into())));
        assert!(p.contains(&("maxrecords", "100".into())));
    }

    #[test]
    fn debug_hides_the_password() {
        let http = HttpClient::new(&ferry_outbound::OutboundConfig::default()).unwrap();
        let c = KenticoClient::new(
            http,
            "t",
            "https://admin.example/",
            "api",
            SecretString::from("pw-123"),
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("pw-123"));
        assert!(shown.contains("https://admin.example/rest"));
    }
}
