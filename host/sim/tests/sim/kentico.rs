//! The Kentico simulator over real HTTP: REST envelopes, query parameters, children, auth, 404s, the seeded
//! store, mutations, the signed webhook sender (checked with an independent HMAC) and every fault mode.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use base64::Engine;
use ferry_sim::kentico::{
    CustomerPatch, KenticoHandle, KenticoSim, KenticoSimConfig, LineSpec, OrderMix, OrderSpec,
    RetrySchedule, WebhookTarget,
};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::Sha256;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Ctx {
    sim: KenticoHandle,
    http: reqwest::Client,
}

impl Ctx {
    async fn start(config: KenticoSimConfig) -> anyhow::Result<Self> {
        let sim = KenticoSim::start(config).await?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self { sim, http })
    }

    async fn seeded(orders: usize) -> anyhow::Result<Self> {
        Self::start(KenticoSimConfig {
            orders,
            webhook_retry: RetrySchedule::fast(4),
            ..KenticoSimConfig::default()
        })
        .await
    }

    fn get(&self, path_and_query: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}/rest/{path_and_query}", self.sim.base_url()))
            .basic_auth("ferry", Some("sandbox"))
    }

    async fn json(&self, path_and_query: &str) -> anyhow::Result<Value> {
        let r = self.get(path_and_query).send().await?;
        anyhow::ensure!(r.status() == 200, "{path_and_query}: {}", r.status());
        Ok(r.json().await?)
    }

    async fn text(&self, path_and_query: &str) -> anyhow::Result<(StatusCode, String)> {
        let r = self.get(path_and_query).send().await?;
        Ok((r.status(), r.text().await?))
    }

    /// Rows and TotalRecords of a collection body.
    async fn rows(&self, path_and_query: &str) -> anyhow::Result<(Vec<Value>, Option<u64>)> {
        let body = self.json(path_and_query).await?;
        Ok(rows_of(&body))
    }
}

fn rows_of(body: &Value) -> (Vec<Value>, Option<u64>) {
    let root = body.as_object().and_then(|o| o.values().next()).cloned();
    let tables = root.and_then(|r| r.as_array().cloned()).unwrap_or_default();
    let mut rows = Vec::new();
    let mut total = None;
    for t in tables {
        let Some(obj) = t.as_object() else { continue };
        for (k, v) in obj {
            if k == "TotalRecords" {
                total = v[0]["TotalRecords"].as_str().and_then(|s| s.parse().ok());
            } else {
                rows.extend(v.as_array().cloned().unwrap_or_default());
            }
        }
    }
    (rows, total)
}

fn q(s: &str) -> String {
    s.replace('%', "%25")
        .replace(' ', "%20")
        .replace('\'', "%27")
        .replace('>', "%3E")
        .replace('<', "%3C")
        .replace('=', "%3D")
        .replace(',', "%2C")
}

#[tokio::test]
async fn collection_envelope_matches_the_reference_layout() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(5).await?;
    let (status, body) = ctx
        .text("ecommerce.order/1/children/ecommerce.orderitem?format=json")
        .await?;
    assert_eq!(status, 200);
    assert!(
        body.starts_with("{\"ecommerce_orderitems\": \n[\n{\"COM_OrderItem\": \n[\n{"),
        "{body}"
    );
    assert!(
        body.contains("\n]\n}\n,{\"TotalRecords\": \n[\n{\"TotalRecords\":\""),
        "{body}"
    );
    let v: Value = serde_json::from_str(&body)?;
    let (rows, total) = rows_of(&v);
    assert_eq!(total, Some(rows.len() as u64));
    assert!(v["ecommerce_orderitems"][1]["TotalRecords"][0]["TotalRecords"].is_string());
    // Money keeps the column's nine decimals on the wire.
    let unit = regex_like_money(&body, "OrderItemUnitPrice");
    assert!(
        unit.ends_with(|c: char| c.is_ascii_digit())
            && unit.split('.').nth(1).map(str::len) == Some(9),
        "{unit}"
    );
    assert!(
        rows[0].get("OrderItemGuid").is_some(),
        "DB casing of the guid column"
    );
    Ok(())
}

/// The raw text of the first `"key":value` in a JSON body.
fn regex_like_money(body: &str, key: &str) -> String {
    let at = body
        .find(&format!("\"{key}\":"))
        .map(|i| i + key.len() + 3)
        .unwrap_or(0);
    body[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect()
}

#[tokio::test]
async fn single_object_is_flat_columns_under_data() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(3).await?;
    let (status, body) = ctx.text("ecommerce.order/2?format=json").await?;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body)?;
    let d = &v["data"];
    assert_eq!(d["OrderID"], 2);
    assert_eq!(d["OrderInvoiceNumber"], "2");
    assert_eq!(d["OrderSiteID"], 1);
    let guid = d["OrderGUID"].as_str().unwrap_or_default();
    assert_eq!(guid, guid.to_lowercase());
    let date = d["OrderLastModified"].as_str().unwrap_or_default();
    assert!(date.ends_with("+01:00"), "{date}");
    assert!(
        time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339).is_ok()
    );
    assert!(
        regex_like_money(&body, "OrderTotalPrice").ends_with("000000")
            || regex_like_money(&body, "OrderTotalPrice").len() > 10
    );
    let custom = d["OrderCustomData"].as_str().unwrap_or_default();
    assert!(custom.starts_with("<CustomData><SalesChannel>"), "{custom}");
    assert!(
        d["OrderTaxSummary"].is_null()
            || d["OrderTaxSummary"]
                .as_str()
                .unwrap_or_default()
                .starts_with("<Summary><Item>")
    );
    // Every K13 COM_Order column is present.
    assert_eq!(d.as_object().map(|o| o.len()), Some(29));
    Ok(())
}

#[tokio::test]
async fn xml_is_the_default_format() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(2).await?;
    let (status, body) = ctx.text("ecommerce.order/1").await?;
    assert_eq!(status, 200);
    assert!(
        body.starts_with("<data><COM_Order><OrderID>1</OrderID>"),
        "{body}"
    );
    assert!(body.contains("&lt;CustomData&gt;"));
    assert!(
        !body.contains("<OrderTrackingNumber>"),
        "NULL columns are left out"
    );
    let (_, list) = ctx
        .text("cms.country?where=CountryTwoLetterCode%3D'CZ'")
        .await?;
    assert!(
        list.starts_with("<cms_countries><CMS_Country><CountryID>326</CountryID>"),
        "{list}"
    );
    assert!(
        list.ends_with(
            "<TotalRecords><TotalRecords>1</TotalRecords></TotalRecords></cms_countries>"
        )
    );
    // Content-Type: application/json selects JSON like format=json.
    let r = ctx
        .get("ecommerce.currency/1")
        .header("content-type", "application/json")
        .send()
        .await?;
    let v: Value = r.json().await?;
    assert_eq!(v["data"]["CurrencyCode"], "USD");
    assert_eq!(v["data"]["CurrencyIsMain"], true);
    Ok(())
}

#[tokio::test]
async fn where_orderby_paging_and_columns() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(60).await?;
    let (all, total) = ctx.rows("ecommerce.order?format=json").await?;
    assert_eq!((all.len(), total), (60, Some(60)));
    let ids: Vec<i64> = all
        .iter()
        .map(|r| r["OrderID"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(ids, (1..=60).collect::<Vec<_>>(), "default order is the id");

    // Filter by a value and IN list.
    let (usd, _) = ctx
        .rows(&format!(
            "ecommerce.order?format=json&where={}",
            q("OrderCurrencyID = 1")
        ))
        .await?;
    assert!(!usd.is_empty() && usd.iter().all(|r| r["OrderCurrencyID"] == 1));
    let (some, _) = ctx
        .rows(&format!(
            "ecommerce.order?format=json&where={}",
            q("OrderID IN (3, 5,7) AND OrderSiteID = 1")
        ))
        .await?;
    assert_eq!(some.len(), 3);

    // Dates compare as server-local times; the client's 7-digit literal works.
    let mut dates: Vec<String> = all
        .iter()
        .map(|r| {
            r["OrderLastModified"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    dates.sort();
    let pivot = &dates[29];
    let local = pivot.split('+').next().unwrap_or_default();
    let (newer, newer_total) = ctx
        .rows(&format!(
            "ecommerce.order?format=json&where={}&orderby={}&columns={}",
            q(&format!("OrderLastModified > '{local}'")),
            q("OrderLastModified DESC, OrderID"),
            q("OrderID,OrderGUID,OrderLastModified")
        ))
        .await?;
    assert_eq!(newer.len(), 30);
    assert_eq!(newer_total, Some(30));
    assert_eq!(
        newer[0]["OrderLastModified"].as_str(),
        dates.last().map(String::as_str)
    );
    assert_eq!(
        newer[0].as_object().map(|o| o.len()),
        Some(3),
        "only the asked columns"
    );
    let (ge, _) = ctx
        .rows(&format!(
            "ecommerce.order?format=json&where={}",
            q(&format!("OrderLastModified >= N'{local}'"))
        ))
        .await?;
    assert_eq!(ge.len(), 31);

    // Paging: offset + maxrecords, TotalRecords stays unpaged; topn caps the total.
    let (page, total) = ctx
        .rows("ecommerce.order?format=json&offset=50&maxrecords=20")
        .await?;
    assert_eq!((page.len(), total), (10, Some(60)));
    assert_eq!(page[0]["OrderID"], 51);
    let (top, total) = ctx
        .rows("ecommerce.order?format=json&topn=7&offset=5&maxrecords=5")
        .await?;
    assert_eq!((top.len(), total), (2, Some(7)));
    // An empty page has no table and no TotalRecords.
    let (empty, total) = ctx
        .rows("ecommerce.order?format=json&offset=100&maxrecords=5")
        .await?;
    assert_eq!((empty.len(), total), (0, None));
    let body = ctx
        .json("ecommerce.order?format=json&where=OrderID%3D-1")
        .await?;
    assert_eq!(body, serde_json::json!({"ecommerce_orders": []}));

    // Text compares case-insensitively, quotes escape by doubling, LIKE works.
    let (statuses, _) = ctx
        .rows(&format!(
            "ecommerce.orderstatus?format=json&where={}",
            q("StatusName = 'paymentreceived' OR StatusDisplayName LIKE '%cancel%'")
        ))
        .await?;
    assert_eq!(statuses.len(), 2);
    let (obrien, _) = ctx
        .rows(&format!(
            "ecommerce.customer?format=json&where={}",
            q("CustomerLastName = 'O''Brien' OR 1 = 0")
        ))
        .await?;
    assert!(obrien.iter().all(|r| r["CustomerLastName"] == "O'Brien"));
    Ok(())
}

#[tokio::test]
async fn bad_queries_are_refused() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(1).await?;
    let (s, _) = ctx
        .text(&format!("ecommerce.order?where={}", q("Nope = 1")))
        .await?;
    assert_eq!(s, 400);
    let (s, _) = ctx
        .text(&format!(
            "ecommerce.order?where={}",
            q("OrderDate > 'whenever'")
        ))
        .await?;
    assert_eq!(s, 400);
    let (s, _) = ctx
        .text(&format!(
            "ecommerce.order?where={}",
            q("1=1; DROP TABLE COM_Order")
        ))
        .await?;
    assert_eq!(s, 403);
    let (s, _) = ctx
        .text(&format!("ecommerce.order?orderby={}", q("OrderID -- x")))
        .await?;
    assert_eq!(s, 403);
    let (s, _) = ctx.text("ecommerce.order?columns=OrderID,Bogus").await?;
    assert_eq!(s, 400);
    Ok(())
}

/// `children=true` brings an object's child objects with it, as HierarchyHelper exports them: one list per child
/// type, named by object type, under a `children` node with `hierarchy=true` and beside the columns without; the same
/// rows `/children/<type>` lists. Without the flag the object comes alone.
#[tokio::test]
async fn an_object_comes_with_its_children_when_asked() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(4).await?;
    let (items, _) = ctx
        .rows("ecommerce.order/1/children/ecommerce.orderitem?format=json")
        .await?;
    let (addresses, _) = ctx
        .rows("ecommerce.order/1/children/ecommerce.orderaddress?format=json")
        .await?;
    let nested = ctx
        .json("ecommerce.order/1?format=json&children=true&hierarchy=true")
        .await?;
    let data = &nested["data"];
    assert_eq!(data["OrderID"], 1);
    assert_eq!(data["children"]["ecommerce.orderitem"], Value::Array(items));
    assert_eq!(
        data["children"]["ecommerce.orderaddress"],
        Value::Array(addresses.clone())
    );
    let flat = ctx
        .json("ecommerce.order/1?format=json&children=TRUE")
        .await?;
    assert_eq!(
        flat["data"]["ecommerce.orderaddress"],
        Value::Array(addresses)
    );
    assert!(flat["data"].get("children").is_none());
    let alone = ctx.json("ecommerce.order/1?format=json").await?;
    assert!(
        alone["data"].get("children").is_none()
            && alone["data"].get("ecommerce.orderitem").is_none()
    );
    let (_, xml) = ctx
        .text("ecommerce.order/1?children=true&hierarchy=true")
        .await?;
    assert!(
        xml.starts_with("<data><COM_Order>")
            && xml.contains("</COM_Order><children><COM_OrderItem>"),
        "{xml}"
    );
    Ok(())
}

#[tokio::test]
async fn children_guid_code_names_and_site_variants() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(4).await?;
    let (items, total) = ctx
        .rows("ecommerce.order/1/children/ecommerce.orderitem?format=json")
        .await?;
    assert!(!items.is_empty());
    assert_eq!(total, Some(items.len() as u64));
    assert!(items.iter().all(|r| r["OrderItemOrderID"] == 1));
    let (addresses, _) = ctx
        .rows("ecommerce.order/1/children/ecommerce.orderaddress?format=json")
        .await?;
    assert!(addresses.iter().any(|a| a["AddressType"] == 1));
    let (book, _) = ctx
        .rows("ecommerce.customer/3/children/ecommerce.address?format=json")
        .await?;
    assert_eq!(book.len(), 1);
    let (rates, _) = ctx
        .rows("ecommerce.taxclass/1/children/ecommerce.taxclasscountry?format=json&where=CountryID%3D326")
        .await?;
    assert_eq!(rates.len(), 1);
    assert_eq!(rates[0]["TaxValue"].to_string(), "21.0");
    let (s, _) = ctx.text("ecommerce.order/1/children/cms.country").await?;
    assert_eq!(s, 404);
    let (s, body) = ctx
        .text("ecommerce.order/999/children/ecommerce.orderitem")
        .await?;
    assert_eq!((s, body.as_str()), (StatusCode::NOT_FOUND, ""));

    // By GUID and by code name.
    let order = ctx.json("ecommerce.order/1?format=json").await?;
    let guid = order["data"]["OrderGUID"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let again = ctx
        .json(&format!("ecommerce.order/{guid}?format=json"))
        .await?;
    assert_eq!(again["data"]["OrderID"], 1);
    for path in [
        "ecommerce.orderstatus/PaymentReceived?format=json",
        "ecommerce.orderstatus/currentsite/paymentreceived?format=json",
        "ecommerce.orderstatus/site/DancingGoatCore/PaymentReceived?format=json",
    ] {
        let s = ctx.json(path).await?;
        assert_eq!(s["data"]["StatusID"], 2, "{path}");
        assert_eq!(s["data"]["StatusOrderIsPaid"], true);
    }
    let (s, _) = ctx.text("ecommerce.orderstatus/global/New").await?;
    assert_eq!(s, 404, "statuses are site objects");

    // Site variants.
    let (site, _) = ctx
        .rows("ecommerce.order/site/DancingGoatCore?format=json")
        .await?;
    let (current, _) = ctx.rows("ecommerce.order/currentsite?format=json").await?;
    let (all, _) = ctx.rows("ecommerce.order/all?format=json").await?;
    let (global, _) = ctx.rows("ecommerce.order/global?format=json").await?;
    assert_eq!(
        (site.len(), current.len(), all.len(), global.len()),
        (4, 4, 4, 0)
    );
    let (s, body) = ctx.text("ecommerce.order/site/NoSuchSite").await?;
    assert_eq!(
        (s, body.as_str()),
        (StatusCode::NOT_FOUND, "Site does not exist.")
    );
    let (countries, total) = ctx.rows("cms.country?format=json&maxrecords=10").await?;
    assert_eq!(countries.len(), 10);
    assert_eq!(total, Some(250));
    let (states, _) = ctx
        .rows("cms.country/271/children/cms.state?format=json")
        .await?;
    assert_eq!(states.len(), 51);
    Ok(())
}

#[tokio::test]
async fn not_found_is_an_empty_404() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(1).await?;
    for path in [
        "ecommerce.order/999?format=json",
        "ecommerce.customer/00000000-0000-0000-0000-000000000000",
        "ecommerce.nosuchtype",
        "ecommerce.orderstatus/NoSuchStatus",
    ] {
        let (s, body) = ctx.text(path).await?;
        assert_eq!((s, body.as_str()), (StatusCode::NOT_FOUND, ""), "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn auth_failures_get_the_basic_challenge() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(1).await?;
    let url = format!("{}/rest/ecommerce.order/1", ctx.sim.base_url());
    for req in [
        ctx.http.get(&url),
        ctx.http.get(&url).basic_auth("ferry", Some("wrong")),
        ctx.http.get(&url).basic_auth("someone", Some("sandbox")),
        ctx.http.get(&url).bearer_auth("token"),
    ] {
        let r = req.send().await?;
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Basic realm=\"CMS REST Service\"")
        );
    }
    // Writes are refused: the simulated REST service is read-only.
    let r = ctx
        .http
        .post(format!("{}/rest/ecommerce.order", ctx.sim.base_url()))
        .basic_auth("ferry", Some("sandbox"))
        .body("{}")
        .send()
        .await?;
    assert_eq!(r.status(), 403);
    // /all needs a global administrator.
    let limited = Ctx::start(KenticoSimConfig {
        global_admin: false,
        ..KenticoSimConfig::default()
    })
    .await?;
    let (s, _) = limited.text("ecommerce.order/all").await?;
    assert_eq!(s, 403);
    Ok(())
}

#[tokio::test]
async fn the_seeded_store_is_deterministic_and_realistic() -> anyhow::Result<()> {
    let a = Ctx::seeded(40).await?;
    let b = Ctx::seeded(40).await?;
    let cols = "columns=OrderID,OrderGUID,OrderTotalPrice,OrderCurrencyID,OrderStatusID,OrderIsPaid,OrderCustomerID";
    assert_eq!(
        a.json(&format!("ecommerce.order?format=json&{cols}"))
            .await?,
        b.json(&format!("ecommerce.order?format=json&{cols}"))
            .await?
    );
    let mix = OrderMix::default();
    assert_eq!(a.sim.random_order(7, &mix), b.sim.random_order(7, &mix));
    assert_ne!(a.sim.random_order(7, &mix), a.sim.random_order(8, &mix));

    let (orders, _) = a.rows("ecommerce.order?format=json").await?;
    let currencies: std::collections::BTreeSet<i64> = orders
        .iter()
        .filter_map(|o| o["OrderCurrencyID"].as_i64())
        .collect();
    assert!(currencies.len() >= 2, "several currencies: {currencies:?}");
    assert!(orders.iter().any(|o| o["OrderIsPaid"] == true));
    assert!(orders.iter().any(|o| o["OrderIsPaid"] == false));
    let (customers, _) = a.rows("ecommerce.customer?format=json").await?;
    assert_eq!(customers.len(), 25);
    assert!(
        customers
            .iter()
            .any(|c| !c["CustomerLoyaltyTier"].is_null())
    );
    let emails: std::collections::HashSet<&str> = customers
        .iter()
        .filter_map(|c| c["CustomerEmail"].as_str())
        .collect();
    assert_eq!(emails.len(), 25, "emails are unique");
    let (skus, _) = a.rows("ecommerce.sku?format=json").await?;
    assert!(
        skus.iter()
            .all(|s| s["SKUTaxClassID"].is_i64() && s["SKUNumber"].is_string())
    );
    for code in ["USD", "EUR", "GBP", "CZK", "CAD"] {
        let (c, _) = a
            .rows(&format!(
                "ecommerce.currency?format=json&where=CurrencyCode%3D'{code}'"
            ))
            .await?;
        assert_eq!(c.len(), 1, "{code}");
    }
    Ok(())
}

#[tokio::test]
async fn a_hundred_thousand_orders_generate_quickly() -> anyhow::Result<()> {
    let started = Instant::now();
    let ctx = Ctx::seeded(100_000).await?;
    let took = started.elapsed();
    assert_eq!(ctx.sim.order_count(), 100_000);
    // Debug builds are several times slower than release; this bound is for the unoptimised test build.
    assert!(took < Duration::from_secs(10), "generation took {took:?}");
    let (page, total) = ctx
        .rows("ecommerce.order?format=json&orderby=OrderLastModified%20DESC&maxrecords=3&columns=OrderID")
        .await?;
    assert_eq!((page.len(), total), (3, Some(100_000)));
    Ok(())
}

#[tokio::test]
async fn mutations_bump_last_modified_and_totals_add_up() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    let catalogue = ctx.sim.catalogue();
    let spec = OrderSpec {
        customer_id: Some(3),
        currency: Some("EUR".into()),
        lines: vec![
            LineSpec {
                sku_id: catalogue[0].id,
                quantity: 2,
            },
            LineSpec {
                sku_id: catalogue[9].id,
                quantity: 1,
            },
        ],
        ..OrderSpec::default()
    };
    let placed = ctx.sim.place_order(spec).await;
    assert_eq!(placed.currency, "EUR");
    let before = ctx
        .json(&format!("ecommerce.order/{}?format=json", placed.id))
        .await?["data"]
        .clone();
    assert_eq!(before["OrderIsPaid"], false);
    assert_eq!(before["OrderCurrencyID"], 2);
    let o = ctx.sim.order(placed.id).expect("order");
    let items: rust_decimal::Decimal = o.lines.iter().map(|l| l.total_price).sum();
    assert_eq!(o.total, items + o.shipping + o.tax);
    assert_eq!(o.lines[0].quantity, 2);
    assert_eq!(
        o.lines[0].unit_price,
        (catalogue[0].price * rust_decimal::Decimal::new(92, 2)).round_dp(2)
    );

    assert!(ctx.sim.mark_paid(placed.id).await);
    let paid = ctx
        .json(&format!("ecommerce.order/{}?format=json", placed.id))
        .await?["data"]
        .clone();
    assert_eq!(paid["OrderIsPaid"], true);
    assert!(paid["OrderLastModified"].as_str() > before["OrderLastModified"].as_str());
    assert!(ctx.sim.set_order_status(placed.id, "Completed").await);
    assert!(!ctx.sim.set_order_status(placed.id, "NoSuchStatus").await);
    assert!(!ctx.sim.mark_paid(9999).await);
    let done = ctx
        .json(&format!("ecommerce.order/{}?format=json", placed.id))
        .await?["data"]
        .clone();
    assert_eq!(done["OrderStatusID"], 1);

    let before = ctx.json("ecommerce.customer/3?format=json").await?["data"].clone();
    assert!(
        ctx.sim
            .update_customer(
                3,
                CustomerPatch {
                    phone: Some("+1 555 0199".into()),
                    loyalty_tier: Some("Gold".into()),
                    ..CustomerPatch::default()
                }
            )
            .await
    );
    let after = ctx.json("ecommerce.customer/3?format=json").await?["data"].clone();
    assert_eq!(after["CustomerPhone"], "+1 555 0199");
    assert_eq!(after["CustomerLoyaltyTier"], "Gold");
    assert!(after["CustomerLastModified"].as_str() > before["CustomerLastModified"].as_str());
    // The polling query finds exactly the changed customer.
    let since = before["CustomerLastModified"]
        .as_str()
        .unwrap_or_default()
        .split('+')
        .next()
        .unwrap_or_default()
        .to_owned();
    let (changed, _) = ctx
        .rows(&format!(
            "ecommerce.customer?format=json&where={}",
            q(&format!("CustomerLastModified > '{since}'"))
        ))
        .await?;
    assert!(changed.iter().any(|c| c["CustomerID"] == 3));
    Ok(())
}

#[tokio::test]
async fn the_control_api_drives_the_store() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    let base = format!("{}/_sim/kentico", ctx.sim.base_url());
    let r = ctx
        .http
        .post(format!("{base}/orders"))
        .json(&serde_json::json!({"customer_id": 2, "lines": [{"sku_id": 1, "quantity": 1}], "paid": true}))
        .send()
        .await?;
    assert_eq!(r.status(), 201);
    let placed: Value = r.json().await?;
    let id = placed["id"].as_i64().unwrap_or_default();
    let order: Value = ctx
        .http
        .get(format!("{base}/orders/{id}"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(order["is_paid"], true);
    let r = ctx
        .http
        .post(format!("{base}/orders/{id}/status"))
        .json(&serde_json::json!({"status": "Canceled"}))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let r = ctx
        .http
        .post(format!("{base}/orders"))
        .json(&serde_json::json!({"currency": "XXX"}))
        .send()
        .await?;
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await?;
    assert_eq!(err["error"]["code"], "unknown_currency");
    let r = ctx
        .http
        .patch(format!("{base}/customers/1"))
        .json(&serde_json::json!({"email": "new@example.com"}))
        .send()
        .await?;
    let c: Value = r.json().await?;
    assert_eq!(c["email"], "new@example.com");
    let r = ctx
        .http
        .post(format!("{base}/orders/random"))
        .json(&serde_json::json!({"n": 3}))
        .send()
        .await?;
    assert_eq!(r.status(), 201);
    let summary: Value = ctx.http.get(&base).send().await?.json().await?;
    assert_eq!(summary["orders"], 2);
    // No target: events are recorded as skipped, never sent.
    assert!(summary["webhooks"]["skipped"].as_u64() >= Some(4));
    Ok(())
}

// ---- webhooks ------------------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(http::HeaderMap, String)>>>,
    /// Statuses to answer with, in order; 204 when empty.
    script: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(State(r): State<Receiver>, headers: http::HeaderMap, body: String) -> StatusCode {
    r.received.lock().expect("lock").push((headers, body));
    let next = r.script.lock().expect("lock").pop_front().unwrap_or(204);
    StatusCode::from_u16(next).unwrap_or(StatusCode::OK)
}

impl Receiver {
    async fn start(script: &[u16]) -> anyhow::Result<(Self, String)> {
        let r = Self::default();
        r.script.lock().expect("lock").extend(script);
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok((r, url))
    }

    fn bodies(&self) -> Vec<Value> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|(_, b)| serde_json::from_str(b).ok())
            .collect()
    }
}

/// Standard Webhooks verification, written here independently of the simulator.
fn verify(secret: &str, headers: &http::HeaderMap, body: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("secret");
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, ts, sig) = (
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
    );
    let ts_ok = ts
        .parse::<i64>()
        .is_ok_and(|t| (time::OffsetDateTime::now_utc().unix_timestamp() - t).abs() < 60);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    ts_ok && sig.split(' ').any(|s| s == format!("v1,{expected}"))
}

#[tokio::test]
async fn webhooks_are_signed_with_standard_webhooks() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    let (rx, url) = Receiver::start(&[]).await?;
    ctx.sim.set_webhook(Some(WebhookTarget {
        url,
        secret: SECRET.into(),
    }));
    let spec = OrderSpec {
        lines: vec![LineSpec {
            sku_id: 1,
            quantity: 1,
        }],
        paid: true,
        ..OrderSpec::default()
    };
    let placed = ctx.sim.place_order(spec).await;
    assert!(
        ctx.sim
            .update_customer(
                1,
                CustomerPatch {
                    company: Some("Acme".into()),
                    ..CustomerPatch::default()
                }
            )
            .await
    );
    assert!(ctx.sim.wait_webhooks_idle(Duration::from_secs(5)).await);
    let received = rx.received.lock().expect("lock").clone();
    assert_eq!(received.len(), 3);
    for (headers, body) in &received {
        assert!(verify(SECRET, headers, body), "signature of {body}");
        assert!(!verify(
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            headers,
            body
        ));
        let v: Value = serde_json::from_str(body)?;
        assert_eq!(
            headers.get("webhook-id").and_then(|h| h.to_str().ok()),
            v["id"].as_str()
        );
        assert_eq!(
            headers.get("content-type").and_then(|h| h.to_str().ok()),
            Some("application/json")
        );
    }
    let bodies = rx.bodies();
    let created = bodies
        .iter()
        .find(|b| b["type"] == "order.created")
        .expect("created");
    assert_eq!(created["object"]["object_type"], "ecommerce.order");
    assert_eq!(created["object"]["id"], placed.id);
    assert_eq!(created["object"]["guid"], placed.guid.to_string());
    assert!(
        created["occurred_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
    assert!(
        created["object"]["last_modified"]
            .as_str()
            .is_some_and(|s| s.ends_with("+01:00"))
    );
    assert_eq!(created["source"]["site_name"], "DancingGoatCore");
    let paid = bodies
        .iter()
        .find(|b| b["type"] == "order.paid")
        .expect("paid");
    assert_eq!(paid["changes"]["OrderIsPaid"]["to"], true);
    let cust = bodies
        .iter()
        .find(|b| b["type"] == "customer.updated")
        .expect("customer");
    assert_eq!(cust["object"]["object_type"], "ecommerce.customer");
    assert_eq!(cust["changes"]["CustomerCompany"]["to"], "Acme");
    let stats = ctx.sim.webhook_stats();
    assert_eq!(
        (stats.emitted, stats.delivered, stats.failed_attempts),
        (3, 3, 0)
    );
    // The REST object matches what the event named.
    let order = ctx
        .json(&format!("ecommerce.order/{}?format=json", placed.id))
        .await?;
    assert_eq!(
        order["data"]["OrderLastModified"],
        paid["object"]["last_modified"]
    );
    Ok(())
}

#[tokio::test]
async fn webhooks_retry_after_5xx_and_keep_order_per_object() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    // First two attempts fail (503, 500), then everything succeeds.
    let (rx, url) = Receiver::start(&[503, 500]).await?;
    ctx.sim.set_webhook(Some(WebhookTarget {
        url,
        secret: SECRET.into(),
    }));
    let placed = ctx
        .sim
        .place_order(OrderSpec {
            lines: vec![LineSpec {
                sku_id: 2,
                quantity: 1,
            }],
            ..OrderSpec::default()
        })
        .await;
    assert!(ctx.sim.set_order_status(placed.id, "InProgress").await);
    assert!(ctx.sim.mark_paid(placed.id).await);
    assert!(ctx.sim.wait_webhooks_idle(Duration::from_secs(5)).await);
    let stats = ctx.sim.webhook_stats();
    assert_eq!(
        (
            stats.emitted,
            stats.delivered,
            stats.failed_attempts,
            stats.gave_up
        ),
        (3, 3, 2, 0)
    );
    let received = rx.received.lock().expect("lock").clone();
    assert_eq!(received.len(), 5);
    // The retried event keeps its id; every attempt is signed for its own timestamp.
    let ids: Vec<String> = received
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[1], ids[2]);
    assert!(received.iter().all(|(h, b)| verify(SECRET, h, b)));
    let kinds: Vec<String> = rx
        .bodies()
        .iter()
        .map(|b| b["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "order.created",
            "order.created",
            "order.created",
            "order.status_changed",
            "order.paid"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn webhooks_give_up_after_the_last_attempt_and_on_4xx() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    let (rx, url) = Receiver::start(&[500, 500, 500, 500, 401]).await?;
    ctx.sim.set_webhook(Some(WebhookTarget {
        url,
        secret: SECRET.into(),
    }));
    ctx.sim
        .place_order(OrderSpec {
            lines: vec![LineSpec {
                sku_id: 2,
                quantity: 1,
            }],
            ..OrderSpec::default()
        })
        .await;
    assert!(ctx.sim.wait_webhooks_idle(Duration::from_secs(5)).await);
    ctx.sim
        .place_order(OrderSpec {
            lines: vec![LineSpec {
                sku_id: 2,
                quantity: 1,
            }],
            ..OrderSpec::default()
        })
        .await;
    assert!(ctx.sim.wait_webhooks_idle(Duration::from_secs(5)).await);
    let stats = ctx.sim.webhook_stats();
    // Four attempts (RetrySchedule::fast(4)) for the first, a single refused attempt for the second.
    assert_eq!(
        (
            stats.emitted,
            stats.delivered,
            stats.failed_attempts,
            stats.gave_up,
            stats.rejected
        ),
        (2, 0, 5, 2, 1)
    );
    assert_eq!(rx.received.lock().expect("lock").len(), 5);
    let log = ctx.sim.webhook_log();
    assert_eq!(log[0].outcome, "gave_up");
    assert_eq!(log[1].outcome, "rejected");
    Ok(())
}

#[tokio::test]
async fn a_seeded_fraction_of_webhooks_is_skipped() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    let (rx, url) = Receiver::start(&[]).await?;
    ctx.sim.set_webhook(Some(WebhookTarget {
        url,
        secret: SECRET.into(),
    }));
    ctx.sim.skip_webhooks(0.4);
    let mix = OrderMix {
        paid: 0.0,
        ..OrderMix::default()
    };
    for n in 0..50 {
        let spec = ctx.sim.random_order(n, &mix);
        ctx.sim.place_order(spec).await;
    }
    assert!(ctx.sim.wait_webhooks_idle(Duration::from_secs(10)).await);
    let stats = ctx.sim.webhook_stats();
    assert_eq!(stats.emitted, 50);
    assert!(stats.skipped > 10 && stats.skipped < 30, "{stats:?}");
    assert_eq!(stats.delivered + stats.skipped, 50);
    assert_eq!(
        rx.received.lock().expect("lock").len() as u64,
        stats.delivered
    );
    // Skipped orders still exist and are found by polling on OrderLastModified.
    let skipped: Vec<i64> = ctx
        .sim
        .webhook_log()
        .iter()
        .filter(|r| r.outcome == "skipped")
        .map(|r| r.object_id)
        .collect();
    for id in skipped.iter().take(3) {
        ctx.json(&format!("ecommerce.order/{id}?format=json"))
            .await?;
    }
    // Same seed, same skipped events.
    let other = Ctx::seeded(0).await?;
    other.sim.skip_webhooks(0.4);
    let (_rx2, url2) = Receiver::start(&[]).await?;
    other.sim.set_webhook(Some(WebhookTarget {
        url: url2,
        secret: SECRET.into(),
    }));
    for n in 0..50 {
        let spec = other.sim.random_order(n, &mix);
        other.sim.place_order(spec).await;
    }
    assert!(other.sim.wait_webhooks_idle(Duration::from_secs(10)).await);
    let skipped2: Vec<i64> = other
        .sim
        .webhook_log()
        .iter()
        .filter(|r| r.outcome == "skipped")
        .map(|r| r.object_id)
        .collect();
    assert_eq!(skipped, skipped2);
    Ok(())
}

// ---- faults --------------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_fault_mode_reaches_the_rest_routes() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(1).await?;
    let faults = ctx.sim.faults().clone();
    let path = "ecommerce.order/1?format=json";

    faults.fail_next(1, 503);
    let r = ctx.get(path).send().await?;
    assert_eq!(r.status(), 503);
    assert!(r.text().await?.contains("Service Unavailable"));

    faults.throttle_next(1, Some(Duration::from_secs(3)));
    let r = ctx.get(path).send().await?;
    assert_eq!(r.status(), 429);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("3")
    );

    faults.reset_next(1);
    assert!(ctx.get(path).send().await.is_err(), "connection reset");

    faults.drop_reply_next(1);
    assert!(ctx.get(path).send().await.is_err(), "reply dropped");

    faults.outage_for(Duration::from_millis(300));
    assert_eq!(ctx.get(path).send().await?.status(), 503);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(ctx.get(path).send().await?.status(), 200);

    faults.set_latency(Duration::from_millis(150), Duration::ZERO);
    let started = Instant::now();
    assert_eq!(ctx.get(path).send().await?.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let c = faults.counters();
    assert_eq!(
        (c.failed_next, c.throttled, c.resets, c.dropped_replies),
        (1, 1, 1, 1)
    );
    assert!(c.outages >= 1 && c.delayed >= 1);
    faults.clear();

    faults.set_error_rate(1.0, 502);
    assert_eq!(ctx.get(path).send().await?.status(), 502);
    // Control routes are never faulted.
    let r = ctx
        .http
        .get(format!("{}/_sim/kentico", ctx.sim.base_url()))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    faults.clear();

    // Faults are armed over HTTP too.
    let r = ctx
        .http
        .post(format!("{}/_sim/faults/fail-next", ctx.sim.base_url()))
        .json(&serde_json::json!({"count": 1, "status": 500}))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    assert_eq!(ctx.get(path).send().await?.status(), 500);
    assert_eq!(faults.counters().failed_next, 1);
    Ok(())
}

#[tokio::test]
async fn shutdown_stops_serving() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    assert_eq!(ctx.get("ecommerce.currency/1").send().await?.status(), 200);
    ctx.sim.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fresh = reqwest::Client::new();
    let r = fresh
        .get(format!("{}/rest/ecommerce.currency/1", ctx.sim.base_url()))
        .basic_auth("ferry", Some("sandbox"))
        .send()
        .await;
    assert!(r.is_err());
    Ok(())
}

// ---- promotions, options, bundles, edits -----------------------------------------------------------------------

use ferry_sim::kentico::{AddressSpec, OptionSpec, OrderEdit, OrderKinds};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// A money column of a REST row, exactly (serde_json's shortest f64 text of a 9-decimal value is exact here).
fn money(row: &Value, col: &str) -> Decimal {
    match &row[col] {
        Value::Number(n) => n.to_string().parse().expect("money"),
        other => panic!("{col} is not a number: {other}"),
    }
}

/// The `(Name, Value)` items of a `<Summary>` blob; an empty list for `<Summary />` or NULL.
fn summary(row: &Value, col: &str) -> Vec<(String, Decimal)> {
    let xml = row[col].as_str().unwrap_or_default();
    xml.split("<Item>")
        .skip(1)
        .map(|item| {
            let between = |open: &str, close: &str| {
                item.split(open)
                    .nth(1)
                    .and_then(|s| s.split(close).next())
                    .unwrap_or_default()
                    .to_owned()
            };
            (
                between("<Name>", "</Name>"),
                between("<Value>", "</Value>")
                    .parse()
                    .expect("summary value"),
            )
        })
        .collect()
}

fn total(items: &[(String, Decimal)]) -> Decimal {
    items.iter().map(|(_, v)| *v).sum()
}

impl Ctx {
    async fn order_row(&self, id: i64) -> anyhow::Result<Value> {
        Ok(self
            .json(&format!("ecommerce.order/{id}?format=json"))
            .await?["data"]
            .clone())
    }

    async fn item_rows(&self, id: i64) -> anyhow::Result<Vec<Value>> {
        Ok(self
            .rows(&format!(
                "ecommerce.order/{id}/children/ecommerce.orderitem?format=json"
            ))
            .await?
            .0)
    }

    fn control(&self, path: &str) -> String {
        format!("{}/_sim/kentico{path}", self.sim.base_url())
    }
}

fn line(sku_id: i64, quantity: i32) -> LineSpec {
    LineSpec { sku_id, quantity }
}

/// Checks every identity `pricing.rs` documents on one order as REST serves it; returns the order row.
async fn assert_identities(ctx: &Ctx, id: i64) -> anyhow::Result<Value> {
    let o = ctx.order_row(id).await?;
    let items = ctx.item_rows(id).await?;
    let guids: Vec<&str> = items
        .iter()
        .filter_map(|i| i["OrderItemGuid"].as_str())
        .collect();
    for i in &items {
        let unit = money(i, "OrderItemUnitPrice");
        let count = Decimal::from(i["OrderItemUnitCount"].as_i64().unwrap_or_default());
        let line_total = money(i, "OrderItemTotalPrice");
        let is_child = |col: &str| i[col].as_str().is_some();
        if is_child("OrderItemBundleGUID") {
            assert!(guids.contains(&i["OrderItemBundleGUID"].as_str().unwrap_or_default()));
            assert_eq!((unit, line_total), (Decimal::ZERO, Decimal::ZERO), "{i}");
        }
        if is_child("OrderItemParentGuid") {
            assert!(guids.contains(&i["OrderItemParentGuid"].as_str().unwrap_or_default()));
        }
        assert_eq!(
            unit * count - total(&summary(i, "OrderItemDiscountSummary")),
            line_total,
            "order {id}: line total of {i}"
        );
    }
    let lines: Decimal = items.iter().map(|i| money(i, "OrderItemTotalPrice")).sum();
    let discounts = total(&summary(&o, "OrderDiscounts"));
    let (shipping, tax, price) = (
        money(&o, "OrderTotalShipping"),
        money(&o, "OrderTotalTax"),
        money(&o, "OrderTotalPrice"),
    );
    assert_eq!(lines - discounts + shipping + tax, price, "order {id}: {o}");
    assert_eq!(total(&summary(&o, "OrderTaxSummary")), tax, "order {id}");
    assert_eq!(
        price - total(&summary(&o, "OrderOtherPayments")),
        money(&o, "OrderGrandTotal"),
        "order {id}"
    );
    Ok(o)
}

#[tokio::test]
async fn discounts_land_where_k13_stores_them() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    // Catalog discounts lower the unit price and list per-unit amounts in OrderItemProductDiscounts.
    let catalog = ctx
        .sim
        .place_order(OrderSpec {
            lines: vec![line(1, 2), line(10, 1)],
            catalog_discounts: true,
            ..OrderSpec::default()
        })
        .await;
    let items = ctx.item_rows(catalog.id).await?;
    assert_eq!(money(&items[0], "OrderItemUnitPrice"), dec("12.15"));
    assert_eq!(
        items[0]["OrderItemProductDiscounts"],
        "<Summary><Item><Name>Coffee of the month</Name><Value>1.35</Value></Item></Summary>"
    );
    assert_eq!(items[0]["OrderItemDiscountSummary"], "<Summary />");
    assert_eq!(money(&items[0], "OrderItemTotalPrice"), dec("24.30"));
    assert_eq!(money(&items[1], "OrderItemUnitPrice"), dec("19.00"));
    assert_eq!(
        summary(&items[1], "OrderItemProductDiscounts"),
        vec![("Gear clearance".into(), dec("5.00"))]
    );
    let o = assert_identities(&ctx, catalog.id).await?;
    assert_eq!(o["OrderDiscounts"], "<Summary />");
    assert!(o["OrderCouponCodes"].is_null());

    // Buy X Get Y: a line-total discount in OrderItemDiscountSummary, the unit price untouched.
    let multibuy = ctx
        .sim
        .place_order(OrderSpec {
            lines: vec![line(1, 3)],
            multibuy: true,
            ..OrderSpec::default()
        })
        .await;
    let items = ctx.item_rows(multibuy.id).await?;
    assert_eq!(money(&items[0], "OrderItemUnitPrice"), dec("13.50"));
    assert_eq!(
        items[0]["OrderItemDiscountSummary"],
        "<Summary><Item><Name>Buy 2 bags, get 1 free</Name><Value>13.50</Value></Item></Summary>"
    );
    assert_eq!(money(&items[0], "OrderItemTotalPrice"), dec("27.00"));
    assert_identities(&ctx, multibuy.id).await?;

    // Volume: 5 % of 13.50 is 0.675, rounded away from zero.
    let volume = ctx
        .sim
        .place_order(OrderSpec {
            lines: vec![line(1, 5)],
            volume_discounts: true,
            ..OrderSpec::default()
        })
        .await;
    let items = ctx.item_rows(volume.id).await?;
    assert_eq!(money(&items[0], "OrderItemUnitPrice"), dec("12.82"));
    assert_eq!(
        summary(&items[0], "OrderItemProductDiscounts"),
        vec![("Volume discount (5+ bags)".into(), dec("0.68"))]
    );
    assert_identities(&ctx, volume.id).await?;

    // Order discounts cascade on the subtotal (51.00 − 5.10, then 5 % of 45.90); free shipping zeroes shipping
    // and shows only as its code.
    let order = ctx
        .sim
        .place_order(OrderSpec {
            lines: vec![line(10, 1), line(1, 2)],
            order_discount: true,
            coupons: vec!["welcome10".into(), "FREESHIP".into()],
            ..OrderSpec::default()
        })
        .await;
    let o = assert_identities(&ctx, order.id).await?;
    assert_eq!(
        o["OrderDiscounts"],
        "<Summary><Item><Name>Welcome 10%</Name><Value>5.10</Value></Item><Item><Name>Loyalty 5%</Name><Value>2.30</Value></Item></Summary>"
    );
    assert_eq!(
        o["OrderCouponCodes"],
        "<CouponCodes><CouponCode><Code>WELCOME10</Code></CouponCode><CouponCode><Code>FREESHIP</Code></CouponCode></CouponCodes>"
    );
    assert_eq!(money(&o, "OrderTotalShipping"), Decimal::ZERO);
    assert!(o["OrderShippingOptionID"].is_i64());
    assert_eq!(o["OrderOtherPayments"], "<Summary />");

    // A coupon whose condition the cart does not meet is dropped, as Kentico drops it.
    let small = ctx
        .sim
        .place_order(OrderSpec {
            lines: vec![line(15, 1)],
            coupons: vec!["SAVE15".into()],
            ..OrderSpec::default()
        })
        .await;
    let o = assert_identities(&ctx, small.id).await?;
    assert!(o["OrderCouponCodes"].is_null());
    assert_eq!(o["OrderDiscounts"], "<Summary />");
    Ok(())
}

#[tokio::test]
async fn gift_cards_options_and_bundles_are_stored_as_k13_stores_them() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    let catalogue = ctx.sim.catalogue();
    let kinds: Vec<_> = catalogue.iter().map(|s| (s.id, s.kind)).collect();
    assert!(kinds.contains(&(19, ferry_sim::kentico::SkuKind::AttributeOption)));
    assert!(kinds.contains(&(23, ferry_sim::kentico::SkuKind::Bundle)));
    // Coffee with two attribute options, a mug with an engraving, a dripper with an accessory; a product
    // coupon on brewing gear; a gift card.
    let placed = ctx
        .sim
        .place_order(OrderSpec {
            lines: vec![line(1, 1), line(15, 1), line(10, 1)],
            options: vec![
                OptionSpec {
                    line: 0,
                    sku_id: 19,
                    text: None,
                },
                OptionSpec {
                    line: 0,
                    sku_id: 20,
                    text: None,
                },
                OptionSpec {
                    line: 1,
                    sku_id: 21,
                    text: Some("For Anna".into()),
                },
                OptionSpec {
                    line: 2,
                    sku_id: 22,
                    text: None,
                },
            ],
            coupons: vec!["BREW10".into()],
            gift_card: Some(dec("25")),
            ..OrderSpec::default()
        })
        .await;
    let o = assert_identities(&ctx, placed.id).await?;
    let items = ctx.item_rows(placed.id).await?;
    let by_sku = |sku: i64| {
        items
            .iter()
            .find(|i| i["OrderItemSKUID"] == sku)
            .cloned()
            .expect("row")
    };
    let (coffee, mug, dripper) = (by_sku(1), by_sku(15), by_sku(10));
    // Attribute and text options are folded into the parent's unit price; their rows carry 0.
    assert_eq!(money(&coffee, "OrderItemUnitPrice"), dec("46.50"));
    assert_eq!(money(&mug, "OrderItemUnitPrice"), dec("18.50"));
    for option in [19, 20, 21] {
        let row = by_sku(option);
        assert_eq!(money(&row, "OrderItemTotalPrice"), Decimal::ZERO);
        assert!(row["OrderItemProductDiscounts"].is_null());
        assert!(row["OrderItemBundleGUID"].is_null());
    }
    assert_eq!(by_sku(19)["OrderItemParentGuid"], coffee["OrderItemGuid"]);
    assert_eq!(by_sku(21)["OrderItemParentGuid"], mug["OrderItemGuid"]);
    assert_eq!(by_sku(21)["OrderItemText"], "For Anna");
    // An accessory is its own priced row under its parent.
    let filters = by_sku(22);
    assert_eq!(filters["OrderItemParentGuid"], dripper["OrderItemGuid"]);
    assert_eq!(money(&filters, "OrderItemTotalPrice"), dec("6.90"));
    // The product coupon takes 10 % off the dripper's line total.
    assert_eq!(
        dripper["OrderItemDiscountSummary"],
        "<Summary><Item><Name>Brewing gear 10% off</Name><Value>2.40</Value></Item></Summary>"
    );
    // The gift card is an other payment: the grand total is what is left to pay.
    assert_eq!(
        o["OrderOtherPayments"],
        "<Summary><Item><Name>Gift card</Name><Value>25.00</Value></Item></Summary>"
    );
    assert_eq!(
        money(&o, "OrderGrandTotal"),
        money(&o, "OrderTotalPrice") - dec("25")
    );
    let codes = o["OrderCouponCodes"].as_str().unwrap_or_default();
    assert!(
        codes.starts_with(
            "<CouponCodes><CouponCode><Code>BREW10</Code></CouponCode><CouponCode><Code>GC-"
        ),
        "{codes}"
    );
    assert!(codes.ends_with(
        "</Code><ValueInMainCurrency>25.00</ValueInMainCurrency></CouponCode></CouponCodes>"
    ));

    // A bundle: the bundle row is priced; its contents point at it and carry 0.
    let bundle = ctx
        .sim
        .place_order(OrderSpec {
            lines: vec![line(23, 2)],
            ..OrderSpec::default()
        })
        .await;
    assert_identities(&ctx, bundle.id).await?;
    let items = ctx.item_rows(bundle.id).await?;
    assert_eq!(items.len(), 4);
    assert_eq!(money(&items[0], "OrderItemUnitPrice"), dec("79.00"));
    assert!(items[0]["OrderItemBundleGUID"].is_null());
    for child in &items[1..] {
        assert_eq!(child["OrderItemBundleGUID"], items[0]["OrderItemGuid"]);
        assert!(child["OrderItemParentGuid"].is_null());
        assert_eq!(child["OrderItemUnitCount"], 2);
    }
    let sku = ctx.json("ecommerce.sku/23?format=json").await?["data"].clone();
    assert_eq!(sku["SKUProductType"], "BUNDLE");
    assert_eq!(sku["SKUBundleItemsCount"], 3);
    let option = ctx.json("ecommerce.sku/19?format=json").await?["data"].clone();
    assert!(option["SKUOptionCategoryID"].is_i64());

    // The snapshot agrees with REST.
    let snap = ctx.sim.order(placed.id).expect("order");
    assert_eq!(
        snap.other_payments,
        vec![("Gift card".to_owned(), dec("25.00"))]
    );
    assert_eq!(snap.coupon_codes.len(), 2);
    assert_eq!(
        snap.lines
            .iter()
            .filter(|l| l.parent_guid.is_some())
            .count(),
        4
    );
    Ok(())
}

#[tokio::test]
async fn generated_orders_of_every_kind_satisfy_the_identities() -> anyhow::Result<()> {
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.4,
        paid: 0.5,
    };
    let kinds = OrderKinds {
        discounted: 0.4,
        volume: 0.3,
        coupon: 0.5,
        order_discount: 0.3,
        gift_card: 0.4,
        options: 0.4,
        bundle: 0.3,
        free_shipping: 0.3,
        multibuy: 0.3,
        edited: 0.3,
        cancelled: 0.15,
    };
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=4 {
        let ctx = Ctx::start(KenticoSimConfig {
            seed,
            ..KenticoSimConfig::default()
        })
        .await?;
        for n in 0..40 {
            let spec = ctx.sim.random_order_with(n, &mix, &kinds);
            assert_eq!(
                spec,
                ctx.sim.random_order_with(n, &mix, &kinds),
                "deterministic"
            );
            let placed = ctx.sim.place_order(spec.clone()).await;
            let o = assert_identities(&ctx, placed.id).await?;
            let items = ctx.item_rows(placed.id).await?;
            let mut mark = |kind: &'static str, present: bool| {
                if present {
                    seen.insert(kind);
                }
            };
            mark("order discount", !summary(&o, "OrderDiscounts").is_empty());
            mark("gift card", !summary(&o, "OrderOtherPayments").is_empty());
            mark("coupon", o["OrderCouponCodes"].is_string());
            mark(
                "free shipping",
                o["OrderShippingOptionID"].is_i64() && money(&o, "OrderTotalShipping").is_zero(),
            );
            mark(
                "unit discount",
                items
                    .iter()
                    .any(|i| !summary(i, "OrderItemProductDiscounts").is_empty()),
            );
            mark(
                "line discount",
                items
                    .iter()
                    .any(|i| !summary(i, "OrderItemDiscountSummary").is_empty()),
            );
            mark(
                "option",
                items.iter().any(|i| i["OrderItemParentGuid"].is_string()),
            );
            mark(
                "bundle",
                items.iter().any(|i| i["OrderItemBundleGUID"].is_string()),
            );
            mark("edited", spec.then_edit.is_some());
            mark("cancelled", o["OrderStatusID"] == 5);
            // Plain generated orders stay as they were.
            assert_eq!(
                ctx.sim.random_order_with(n, &mix, &OrderKinds::default()),
                ctx.sim.random_order(n, &mix)
            );
        }
    }
    assert_eq!(seen.len(), 10, "every kind was generated: {seen:?}");
    Ok(())
}

#[tokio::test]
async fn an_edit_recomputes_totals_and_fires_a_webhook() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    let (rx, url) = Receiver::start(&[]).await?;
    ctx.sim.set_webhook(Some(WebhookTarget {
        url,
        secret: SECRET.into(),
    }));
    let placed = ctx
        .sim
        .place_order(OrderSpec {
            customer_id: Some(4),
            lines: vec![line(1, 2), line(10, 1)],
            options: vec![OptionSpec {
                line: 0,
                sku_id: 19,
                text: None,
            }],
            catalog_discounts: true,
            coupons: vec!["WELCOME10".into()],
            gift_card: Some(dec("10")),
            ..OrderSpec::default()
        })
        .await;
    let before = assert_identities(&ctx, placed.id).await?;
    let old_items = ctx.item_rows(placed.id).await?;
    // Three bags instead of two, the dripper removed, a mug added, a new shipping address.
    ctx.sim
        .edit_order(
            placed.id,
            OrderEdit {
                lines: Some(vec![line(1, 3), line(15, 1)]),
                shipping_address: Some(AddressSpec {
                    personal_name: "Jana Nováková".into(),
                    line1: "Vinohradská 12".into(),
                    city: "Praha".into(),
                    zip: "120 00".into(),
                    country_code: "CZ".into(),
                    ..AddressSpec::default()
                }),
                ..OrderEdit::default()
            },
        )
        .await?;
    let after = assert_identities(&ctx, placed.id).await?;
    assert!(after["OrderLastModified"].as_str() > before["OrderLastModified"].as_str());
    assert_ne!(after["OrderTotalPrice"], before["OrderTotalPrice"]);
    let items = ctx.item_rows(placed.id).await?;
    // Every row was re-inserted: new ids, the kept line and its option keep their GUIDs and stored prices.
    assert!(
        items.iter().all(|i| i["OrderItemID"].as_i64()
            > old_items.last().and_then(|o| o["OrderItemID"].as_i64()))
    );
    assert_eq!(items[0]["OrderItemGuid"], old_items[0]["OrderItemGuid"]);
    assert_eq!(items[0]["OrderItemUnitCount"], 3);
    assert_eq!(
        items[0]["OrderItemUnitPrice"],
        old_items[0]["OrderItemUnitPrice"]
    );
    assert_eq!(items[1]["OrderItemParentGuid"], items[0]["OrderItemGuid"]);
    assert_eq!(items[1]["OrderItemUnitCount"], 3);
    assert!(items.iter().any(|i| i["OrderItemSKUID"] == 15));
    assert!(!items.iter().any(|i| i["OrderItemSKUID"] == 10));
    let old_id = old_items[0]["OrderItemID"].as_i64().unwrap_or_default();
    let (status, _) = ctx.text(&format!("ecommerce.orderitem/{old_id}")).await?;
    assert_eq!(status, 404, "deleted rows are gone");
    // The shipping address changed in place, and tax now follows it (Czech rates).
    let (addresses, _) = ctx
        .rows(&format!(
            "ecommerce.order/{}/children/ecommerce.orderaddress?format=json",
            placed.id
        ))
        .await?;
    let shipping = addresses
        .iter()
        .find(|a| a["AddressType"] == 2)
        .expect("shipping address");
    assert_eq!(shipping["AddressCity"], "Praha");
    assert_eq!(shipping["AddressCountryID"], 326);
    assert!(
        after["OrderTaxSummary"]
            .as_str()
            .unwrap_or_default()
            .contains("21%")
    );
    // The coupon and the gift card still apply.
    assert!(
        after["OrderCouponCodes"]
            .as_str()
            .unwrap_or_default()
            .contains("WELCOME10")
    );
    assert_eq!(total(&summary(&after, "OrderOtherPayments")), dec("10.00"));

    assert!(ctx.sim.wait_webhooks_idle(Duration::from_secs(5)).await);
    let updated: Vec<Value> = rx
        .bodies()
        .into_iter()
        .filter(|b| b["type"] == "order.updated")
        .collect();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["object"]["id"], placed.id);
    assert_eq!(
        updated[0]["object"]["last_modified"],
        after["OrderLastModified"]
    );
    assert!(updated[0]["changes"]["OrderTotalPrice"]["to"].is_string());

    // The control route refuses what it cannot do and edits what it can.
    let r = ctx
        .http
        .post(ctx.control(&format!("/orders/{}/edit", placed.id)))
        .json(&serde_json::json!({"lines": [{"sku_id": 999, "quantity": 1}]}))
        .send()
        .await?;
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await?;
    assert_eq!(err["error"]["code"], "unknown_sku");
    let r = ctx
        .http
        .post(ctx.control("/orders/999/edit"))
        .json(&serde_json::json!({"lines": []}))
        .send()
        .await?;
    assert_eq!(r.status(), 404);
    let r = ctx
        .http
        .post(ctx.control(&format!("/orders/{}/edit", placed.id)))
        .json(&serde_json::json!({"lines": [{"sku_id": 1, "quantity": 1}]}))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let snap: Value = r.json().await?;
    assert_eq!(snap["lines"][0]["quantity"], 1);
    assert_identities(&ctx, placed.id).await?;
    Ok(())
}

#[tokio::test]
async fn a_cancel_moves_the_order_to_the_canceled_status() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    let (rx, url) = Receiver::start(&[]).await?;
    ctx.sim.set_webhook(Some(WebhookTarget {
        url,
        secret: SECRET.into(),
    }));
    let placed = ctx
        .sim
        .place_order(OrderSpec {
            lines: vec![line(2, 1)],
            paid: true,
            gift_card: Some(dec("5")),
            ..OrderSpec::default()
        })
        .await;
    let before = ctx.order_row(placed.id).await?;
    let r = ctx
        .http
        .post(ctx.control(&format!("/orders/{}/cancel", placed.id)))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let after = ctx.order_row(placed.id).await?;
    let status = ctx
        .json(&format!(
            "ecommerce.orderstatus/{}?format=json",
            after["OrderStatusID"]
        ))
        .await?["data"]
        .clone();
    assert_eq!(status["StatusName"], "Canceled");
    assert!(after["OrderLastModified"].as_str() > before["OrderLastModified"].as_str());
    // Cancelling keeps totals, the paid flag and the gift-card use.
    for col in [
        "OrderTotalPrice",
        "OrderGrandTotal",
        "OrderOtherPayments",
        "OrderIsPaid",
    ] {
        assert_eq!(after[col], before[col], "{col}");
    }
    assert!(!ctx.sim.cancel_order(9999).await);
    let r = ctx
        .http
        .post(ctx.control("/orders/9999/cancel"))
        .send()
        .await?;
    assert_eq!(r.status(), 404);
    // The store has a returned status too.
    let (returned, _) = ctx
        .rows("ecommerce.orderstatus?format=json&where=StatusName%3D'Returned'")
        .await?;
    assert_eq!(returned.len(), 1);

    assert!(ctx.sim.wait_webhooks_idle(Duration::from_secs(5)).await);
    let changed: Vec<Value> = rx
        .bodies()
        .into_iter()
        .filter(|b| b["type"] == "order.status_changed")
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(
        changed[0]["changes"]["OrderStatusID"]["to"],
        after["OrderStatusID"]
    );
    Ok(())
}

#[tokio::test]
async fn the_control_api_places_orders_of_every_kind() -> anyhow::Result<()> {
    let ctx = Ctx::seeded(0).await?;
    let r = ctx
        .http
        .post(ctx.control("/orders"))
        .json(&serde_json::json!({
            "customer_id": 2,
            "lines": [{"sku_id": 1, "quantity": 3}, {"sku_id": 15, "quantity": 1}],
            "options": [{"line": 1, "sku_id": 21, "text": "Hi"}],
            "coupons": ["SAVE15"],
            "multibuy": true,
            "order_discount": true,
            "free_shipping": true,
            "gift_card": "20",
        }))
        .send()
        .await?;
    assert_eq!(r.status(), 201);
    let placed: Value = r.json().await?;
    let id = placed["id"].as_i64().unwrap_or_default();
    let o = assert_identities(&ctx, id).await?;
    assert_eq!(money(&o, "OrderTotalShipping"), Decimal::ZERO);
    assert_eq!(summary(&o, "OrderOtherPayments").len(), 1);
    for (body, code) in [
        (
            serde_json::json!({"lines": [{"sku_id": 1, "quantity": 1}], "coupons": ["NOPE"]}),
            "unknown_coupon",
        ),
        (
            serde_json::json!({"lines": [{"sku_id": 1, "quantity": 1}], "options": [{"line": 0, "sku_id": 21}]}),
            "invalid_option",
        ),
        (
            serde_json::json!({"lines": [{"sku_id": 19, "quantity": 1}]}),
            "not_a_product",
        ),
        (
            serde_json::json!({"lines": [{"sku_id": 1, "quantity": 1}], "gift_card": "0"}),
            "bad_gift_card",
        ),
    ] {
        let r = ctx
            .http
            .post(ctx.control("/orders"))
            .json(&body)
            .send()
            .await?;
        assert_eq!(r.status(), 422, "{body}");
        let err: Value = r.json().await?;
        assert_eq!(err["error"]["code"], code);
    }
    // Generated orders take the kind knobs in the same `mix` object.
    let r = ctx
        .http
        .post(ctx.control("/orders/random"))
        .json(&serde_json::json!({"n": 5, "mix": {"invalid": 0, "gift_card": 1, "bundle": 1}}))
        .send()
        .await?;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await?;
    assert!(body["spec"]["gift_card"].is_string());
    let id = body["placed"]["id"].as_i64().unwrap_or_default();
    let o = assert_identities(&ctx, id).await?;
    assert!(
        o["OrderOtherPayments"]
            .as_str()
            .unwrap_or_default()
            .contains("Gift card")
    );
    let items = ctx.item_rows(id).await?;
    assert!(items.iter().any(|i| i["OrderItemBundleGUID"].is_string()));
    Ok(())
}
