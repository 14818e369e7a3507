//! `fetch_order`, `fetch_customer` and polling against a mock K13 REST service over a real socket.

use axum::{
    Router,
    extract::{Request, State},
    http::StatusCode,
    response::IntoResponse,
};
use ferry_extract::{Error, KenticoClient, changed_orders_since, fetch_customer, fetch_order};
use ferry_model::Disposition;
use ferry_outbound::{HttpClient, OutboundConfig, SecretString};
use rust_decimal::Decimal;
use std::{
    collections::HashMap,
    str::FromStr,
    sync::{Arc, Mutex},
};

const ORDER_27: &str = include_str!("../fixtures/k13-rest-order-27.json");
const ITEMS_27: &str = include_str!("../fixtures/k13-rest-orderitems-of-27.json");

#[derive(Clone, Default)]
struct Mock {
    routes: Arc<HashMap<String, String>>,
    seen: Arc<Mutex<Vec<String>>>,
}

fn list(root: &str, table: &str, rows: &str, total: usize) -> String {
    format!(
        r#"{{"{root}":[{{"{table}":[{rows}]}},{{"TotalRecords":[{{"TotalRecords":"{total}"}}]}}]}}"#
    )
}

fn routes() -> HashMap<String, String> {
    let mut r = HashMap::new();
    let mut add = |k: &str, v: String| {
        r.insert(k.to_owned(), v);
    };
    add("/rest/ecommerce.order/27", ORDER_27.to_owned());
    add(
        "/rest/ecommerce.order/27/children/ecommerce.orderitem",
        ITEMS_27.to_owned(),
    );
    add(
        "/rest/ecommerce.order/27/children/ecommerce.orderaddress",
        list(
            "ecommerce_orderaddresses",
            "COM_OrderAddress",
            r#"{"AddressID":70,"AddressOrderID":27,"AddressType":1,"AddressPersonalName":"Ana Silva","AddressLine1":"1 Main St","AddressCity":"Austin","AddressZip":"78701","AddressCountryID":271,"AddressStateID":44},
               {"AddressID":71,"AddressOrderID":27,"AddressType":2,"AddressPersonalName":"Ana Silva","AddressLine1":"9 Ship Rd","AddressCity":"Austin","AddressZip":"78702","AddressCountryID":271,"AddressStateID":44}"#,
            2,
        ),
    );
    add(
        "/rest/ecommerce.customer/12",
        r#"{"data":{"CustomerID":12,"CustomerGUID":"0f8e4d3c-2b1a-4c5d-8e7f-6a5b4c3d2e1f","CustomerFirstName":"Ana","CustomerLastName":"Silva","CustomerEmail":"ana@example.com","CustomerLastModified":"2026-11-20T14:03:11+01:00","CustomerLoyalty":"gold"}}"#.into(),
    );
    add(
        "/rest/ecommerce.customer/12/children/ecommerce.address",
        list(
            "ecommerce_addresses",
            "COM_Address",
            r#"{"AddressID":5,"AddressLine1":"1 Main St","AddressCity":"Austin","AddressCountryID":271,"AddressStateID":null}"#,
            1,
        ),
    );
    add(
        "/rest/ecommerce.orderstatus/3",
        r#"{"data":{"StatusID":3,"StatusName":"New","StatusDisplayName":"New","StatusOrderIsPaid":false}}"#.into(),
    );
    add(
        "/rest/ecommerce.currency/1",
        r#"{"data":{"CurrencyID":1,"CurrencyCode":"USD"}}"#.into(),
    );
    add(
        "/rest/ecommerce.paymentoption/3",
        r#"{"data":{"PaymentOptionID":3,"PaymentOptionName":"DancingGoatCore.MoneyTransfer","PaymentOptionDisplayName":"Money transfer"}}"#.into(),
    );
    add(
        "/rest/ecommerce.sku/33",
        r#"{"data":{"SKUID":33,"SKUNumber":"COL-250","SKUPrice":13.5,"SKUTaxClassID":2}}"#.into(),
    );
    add(
        "/rest/ecommerce.sku/41",
        r#"{"data":{"SKUID":41,"SKUNumber":"BRA-250","SKUPrice":18.9,"SKUTaxClassID":2}}"#.into(),
    );
    add(
        "/rest/ecommerce.taxclass/2",
        r#"{"data":{"TaxClassID":2,"TaxClassName":"Coffee","TaxClassDisplayName":"Sales tax","TaxClassZeroIfIDSupplied":true}}"#.into(),
    );
    add(
        "/rest/ecommerce.taxclass/2/children/ecommerce.taxclassstate",
        list(
            "ecommerce_taxclassstates",
            "COM_TaxClassState",
            r#"{"TaxClassStateID":1,"TaxClassID":2,"StateID":44,"TaxValue":8.250000000}"#,
            1,
        ),
    );
    add(
        "/rest/cms.country/271",
        r#"{"data":{"CountryID":271,"CountryDisplayName":"United States","CountryTwoLetterCode":"US"}}"#.into(),
    );
    add(
        "/rest/cms.state/44",
        r#"{"data":{"StateID":44,"StateDisplayName":"Texas","StateCode":"TX"}}"#.into(),
    );
    r
}

async fn handler(State(mock): State<Mock>, req: Request) -> impl IntoResponse {
    let path = req.uri().path().to_owned();
    mock.seen.lock().unwrap().push(req.uri().to_string());
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // base64("api:pw")
    if auth != "Basic YXBpOnB3" {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    if path == "/rest/ecommerce.order" {
        return (
            StatusCode::OK,
            order_page(req.uri().query().unwrap_or_default()),
        );
    }
    match mock.routes.get(&path) {
        Some(body) => (StatusCode::OK, body.clone()),
        None if path.contains("/children/") => (StatusCode::OK, String::new()),
        None => (StatusCode::NOT_FOUND, String::new()),
    }
}

/// Three changed orders served two per page.
fn order_page(query: &str) -> String {
    let offset: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("offset="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let all = [
        r#"{"OrderID":27,"OrderGUID":"3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51","OrderLastModified":"2026-11-20T14:03:12.01+01:00"}"#,
        r#"{"OrderID":28,"OrderGUID":"4f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51","OrderLastModified":"2026-11-20T15:00:00+01:00"}"#,
        r#"{"OrderID":29,"OrderGUID":"5f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51","OrderLastModified":"2026-11-20T16:00:00+01:00"}"#,
    ];
    let page: Vec<&str> = all.iter().skip(offset).take(2).copied().collect();
    list("ecommerce_orders", "COM_Order", &page.join(","), all.len())
}

async fn spawn() -> (KenticoClient, Mock) {
    let mock = Mock {
        routes: Arc::new(routes()),
        seen: Arc::default(),
    };
    let app = Router::new().fallback(handler).with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = HttpClient::new(&OutboundConfig::default()).unwrap();
    let client = KenticoClient::new(
        http,
        "acme",
        &format!("http://{addr}"),
        "api",
        SecretString::from("pw"),
    );
    (client, mock)
}

#[tokio::test]
async fn fetch_order_joins_items_addresses_customer_and_tax() {
    let (client, mock) = spawn().await;
    let order = fetch_order(&client, 27).await.unwrap();
    assert_eq!(order.number, "27");
    assert_eq!(order.currency.as_str(), "USD");
    assert_eq!(order.totals.total, Decimal::from_str("54.57").unwrap());
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].sku_number, "COL-250");
    let tax = order.lines[0].tax_class.as_ref().unwrap();
    assert_eq!(tax.rate_percent, Some(Decimal::from_str("8.25").unwrap()));
    assert_eq!(order.billing_address.as_ref().unwrap().state_code, "TX");
    assert_eq!(order.shipping_address.as_ref().unwrap().line1, "9 Ship Rd");
    assert_eq!(order.customer.email.as_deref(), Some("ana@example.com"));
    assert_eq!(order.customer.custom_fields[0].name, "CustomerLoyalty");
    assert_eq!(order.custom_attributes[0].name, "FerrySyncState");
    assert!(!order.payment.is_paid);
    assert_eq!(order.payment.method, "Money transfer");
    assert!(
        mock.seen
            .lock()
            .unwrap()
            .iter()
            .all(|u| u.contains("format=json"))
    );

    // Reference objects are cached per client: a second fetch does not re-read the country.
    fetch_order(&client, 27).await.unwrap();
    let country_reads = mock
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|u| u.starts_with("/rest/cms.country/271"))
        .count();
    assert_eq!(country_reads, 1);
}

/// A burst of events that all start on a cold cache (a host just started, a tenant just added) needs the same
/// reference objects at once: the first read fills the cache and the rest wait for it instead of each reading again.
#[tokio::test]
async fn a_cold_burst_reads_each_reference_object_once() {
    let (client, mock) = spawn().await;
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let client = client.clone();
        reads.spawn(async move { client.get_object("cms.country", 271).await });
    }
    for row in reads.join_all().await {
        assert_eq!(row.unwrap().string("CountryTwoLetterCode"), "US");
    }
    // Two different objects are still read side by side, each once.
    let (a, b) = tokio::join!(
        client.get_object("cms.state", 44),
        client.get_object("cms.state", 44)
    );
    assert_eq!(
        a.unwrap().string("StateCode"),
        b.unwrap().string("StateCode")
    );
    let seen = mock.seen.lock().unwrap().clone();
    let count = |p: &str| seen.iter().filter(|u| u.starts_with(p)).count();
    assert_eq!(count("/rest/cms.country/271"), 1, "{seen:?}");
    assert_eq!(count("/rest/cms.state/44"), 1, "{seen:?}");
}

#[tokio::test]
async fn missing_order_is_dead_lettered() {
    let (client, _) = spawn().await;
    let err = fetch_order(&client, 404).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
}

#[tokio::test]
async fn fetch_customer_reads_address_book() {
    let (client, _) = spawn().await;
    let c = fetch_customer(&client, 12).await.unwrap();
    assert_eq!(c.address.unwrap().country_code, "US");
}

#[tokio::test]
async fn polling_walks_every_page_in_order() {
    let (client, mock) = spawn().await;
    let since = time::macros::datetime!(2026-11-20 00:00 +01:00);
    let changed = changed_orders_since(&client, since).await.unwrap();
    assert_eq!(
        changed.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![27, 28, 29]
    );
    let seen = mock.seen.lock().unwrap();
    let q = seen
        .iter()
        .find(|u| u.starts_with("/rest/ecommerce.order?"))
        .unwrap();
    assert!(q.contains("orderby=OrderLastModified"), "{q}");
    assert!(q.contains("where=OrderLastModified"), "{q}");
}

#[tokio::test]
async fn wrong_password_is_a_classified_401() {
    let (client, _) = spawn().await;
    let addr = format!("{client:?}");
    assert!(!addr.contains("\"pw\""));
    let http = HttpClient::new(&OutboundConfig::default()).unwrap();
    let base = addr
        .split("rest_base: \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let bad = KenticoClient::new(http, "acme", &base, "api", SecretString::from("nope"));
    let err = fetch_order(&bad, 27).await.unwrap_err();
    assert!(
        matches!(err, Error::Http { ref source, .. } if source.status() == Some(401)),
        "{err:?}"
    );
}
