//! Fixture round-trip: every SDK fixture and live recording of an object the simulator serves parses with the
//! simulator's own model, and the simulator's reply for an equivalent object has the same shape (same keys, same
//! JSON type at each key; `null` on either side matches any type, since fixtures fill optional fields the
//! simulator leaves empty and vice versa).

use std::path::PathBuf;
use std::time::Duration;

use ferry_sim::freshbooks::model::{Client, Identity, Invoice, Item, Payment, Tax, TokenResponse};
use ferry_sim::freshbooks::{FreshBooksHandle, FreshBooksSim, FreshBooksSimConfig, SimAccount};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Keys only the live API sends (absent from the 2021 Java fixture); ignored when comparing with that fixture.
const LIVE_ONLY_INVOICE_KEYS: &[&str] = &[
    "attach_pdf_to_email",
    "discount",
    "lock_status",
    "sender_address",
    "series",
];

fn fixture(path: &str) -> anyhow::Result<Value> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/freshbooks")
        .join(path);
    Ok(serde_json::from_str(&std::fs::read_to_string(&file)?)?)
}

/// The FreshBooks body of the first call in a Nango recording.
fn recording(name: &str) -> anyhow::Result<Value> {
    let file = fixture(&format!("nango-recordings/{name}.test.json"))?;
    file["api"]
        .as_object()
        .and_then(|methods| methods.values().next())
        .and_then(Value::as_object)
        .and_then(|paths| paths.values().next())
        .map(|call| call["response"].clone())
        .ok_or_else(|| anyhow::anyhow!("no call in {name}"))
}

fn parse<T: DeserializeOwned>(value: &Value) -> anyhow::Result<T> {
    Ok(serde_json::from_value(value.clone())?)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences between two JSON shapes. With `subset`, keys missing from `sim` but present in `fixture` are
/// tolerated (the simulator models only part of the object), but every key `sim` sends must exist in `fixture`.
fn shape_diff(
    path: &str,
    fixture: &Value,
    sim: &Value,
    ignore: &[&str],
    subset: bool,
    out: &mut Vec<String>,
) {
    match (fixture, sim) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(f), Value::Object(s)) => {
            let keys: std::collections::BTreeSet<&String> = f.keys().chain(s.keys()).collect();
            for key in keys {
                if ignore.contains(&key.as_str()) {
                    continue;
                }
                match (f.get(key), s.get(key)) {
                    (Some(fv), Some(sv)) => {
                        shape_diff(&format!("{path}.{key}"), fv, sv, ignore, subset, out)
                    }
                    (None, Some(_)) => out.push(format!("{path}.{key}: only in simulator")),
                    (Some(_), None) if !subset => {
                        out.push(format!("{path}.{key}: missing from simulator"))
                    }
                    _ => {}
                }
            }
        }
        (Value::Array(f), Value::Array(s)) => {
            if let (Some(fv), Some(sv)) = (f.first(), s.first()) {
                shape_diff(&format!("{path}[0]"), fv, sv, ignore, subset, out);
            }
        }
        (f, s) if kind(f) != kind(s) => out.push(format!(
            "{path}: fixture {} vs simulator {}",
            kind(f),
            kind(s)
        )),
        _ => {}
    }
}

fn assert_same_shape(name: &str, fixture: &Value, sim: &Value, ignore: &[&str]) {
    let mut diffs = Vec::new();
    shape_diff(name, fixture, sim, ignore, false, &mut diffs);
    assert!(diffs.is_empty(), "{name}: {diffs:#?}");
}

fn assert_subset_shape(name: &str, fixture: &Value, sim: &Value) {
    let mut diffs = Vec::new();
    shape_diff(name, fixture, sim, &[], true, &mut diffs);
    assert!(diffs.is_empty(), "{name}: {diffs:#?}");
}

struct World {
    sim: FreshBooksHandle,
    http: reqwest::Client,
    account: SimAccount,
    token: String,
}

impl World {
    async fn start() -> anyhow::Result<Self> {
        let sim = FreshBooksSim::start(FreshBooksSimConfig::default()).await?;
        let (account, tokens) = sim.create_account_with_tokens("Fixture Co", "CAD");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            sim,
            http,
            account,
            token: tokens.access_token,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!(
            "{}/accounting/account/{}/{path}",
            self.sim.base_url(),
            self.account.account_id
        );
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        Ok(req.send().await?.json().await?)
    }

    /// A client, a tax, an item, an invoice with two lines (one taxed, discount 10%) marked sent and partly paid,
    /// and its payment — the objects the Java fixtures show.
    async fn populate(&self) -> anyhow::Result<(Value, Value, Value, Value, Value)> {
        use reqwest::Method;
        let client = self
            .call(Method::POST, "users/clients", Some(json!({"client": {"email": "g@example.com", "fname": "Gordon", "lname": "Shumway", "note": "cats"}})))
            .await?["response"]["result"]["client"]
            .clone();
        let tax = self
            .call(
                Method::POST,
                "taxes/taxes",
                Some(json!({"tax": {"name": "HST", "amount": "13", "number": "RT 1234"}})),
            )
            .await?["response"]["result"]["tax"]
            .clone();
        let item = self
            .call(Method::POST, "items/items", Some(json!({"item": {"name": "Bowl", "sku": "SQ1234", "qty": "100", "tax1": tax["id"], "unit_cost": {"amount": "1.00", "code": "CAD"}}})))
            .await?["response"]["result"]["item"]
            .clone();
        let invoice = json!({"invoice": {"customerid": client["id"], "create_date": "2021-04-16", "discount_value": "10", "lines": [
            {"type": 0, "name": "Bowls", "qty": 4, "unit_cost": {"amount": "5.00", "code": "CAD"}, "taxName1": "HST", "taxAmount1": "13"},
            {"type": 0, "name": "Mugs", "qty": 6, "unit_cost": {"amount": "4.00", "code": "CAD"}}]}});
        let created = self
            .call(Method::POST, "invoices/invoices", Some(invoice))
            .await?;
        let id = created["response"]["result"]["invoice"]["id"].clone();
        self.call(
            Method::PUT,
            &format!("invoices/invoices/{id}"),
            Some(json!({"invoice": {"action_mark_as_sent": true}})),
        )
        .await?;
        let payment = self
            .call(Method::POST, "payments/payments", Some(json!({"payment": {"invoiceid": id, "amount": {"amount": "20.00", "code": "CAD"}, "date": "2021-04-16", "type": "Check", "note": "Some note"}})))
            .await?["response"]["result"]["payment"]
            .clone();
        let invoice = self
            .call(
                Method::GET,
                &format!("invoices/invoices/{id}?include[]=lines"),
                None,
            )
            .await?["response"]["result"]["invoice"]
            .clone();
        Ok((client, tax, item, invoice, payment))
    }
}

#[tokio::test]
async fn object_fixtures_parse_with_the_model_and_match_simulator_shapes() -> anyhow::Result<()> {
    let w = World::start().await?;
    let (client, tax, item, invoice, payment) = w.populate().await?;

    let py_client =
        fixture("python-sdk/create_client_response.json")?["response"]["result"]["client"].clone();
    let live_client = recording("create-client")?["response"]["result"]["client"].clone();
    parse::<Client>(&py_client)?;
    parse::<Client>(&live_client)?;
    assert_same_shape("client(live)", &live_client, &client, &[]);
    assert_same_shape(
        "client(python)",
        &py_client,
        &client,
        &["exceeds_client_limit", "number_format"],
    );

    let jv_invoice =
        fixture("java-sdk/get_invoice_response.json")?["response"]["result"]["invoice"].clone();
    let live_invoice = recording("create-invoice")?["response"]["result"]["invoice"].clone();
    parse::<Invoice>(&jv_invoice)?;
    parse::<Invoice>(&live_invoice)?;
    let mut ignore = LIVE_ONLY_INVOICE_KEYS.to_vec();
    ignore.push("presentation"); // only with include[]=presentation, which the simulator does not produce
    assert_same_shape("invoice(java)", &jv_invoice, &invoice, &ignore);
    let mut without_lines = invoice.clone();
    without_lines.as_object_mut().map(|o| o.remove("lines"));
    assert_same_shape("invoice(live)", &live_invoice, &without_lines, &[]);
    assert_eq!(
        invoice["amount"], jv_invoice["amount"],
        "the Java fixture's totals rule"
    );
    assert_eq!(invoice["status"], jv_invoice["status"]);
    assert_eq!(invoice["v3_status"], jv_invoice["v3_status"]);
    assert_eq!(invoice["outstanding"], jv_invoice["outstanding"]);

    let jv_item = fixture("java-sdk/get_item_response.json")?["response"]["result"]["item"].clone();
    parse::<Item>(&jv_item)?;
    assert_same_shape("item", &jv_item, &item, &[]);

    let jv_tax = fixture("java-sdk/get_tax_response.json")?["response"]["result"]["tax"].clone();
    parse::<Tax>(&jv_tax)?;
    assert_same_shape("tax", &jv_tax, &tax, &[]);

    let jv_payment =
        fixture("java-sdk/get_payment_response.json")?["response"]["result"]["payment"].clone();
    let live_payment = recording("create-payment")?["response"]["result"]["payment"].clone();
    parse::<Payment>(&jv_payment)?;
    parse::<Payment>(&live_payment)?;
    assert_same_shape("payment(live)", &live_payment, &payment, &[]);
    assert_same_shape(
        "payment(java)",
        &jv_payment,
        &payment,
        &["transaction_uuid"],
    );
    Ok(())
}

#[tokio::test]
async fn list_fixtures_match_simulator_list_envelopes() -> anyhow::Result<()> {
    let w = World::start().await?;
    w.populate().await?;
    for (file, path) in [
        ("python-sdk/list_clients_response.json", "users/clients"),
        ("java-sdk/list_items_response.json", "items/items"),
        ("java-sdk/list_taxes_response.json", "taxes/taxes"),
        ("java-sdk/list_payments_response.json", "payments/payments"),
        ("java-sdk/list_invoices_response.json", "invoices/invoices"),
    ] {
        let fixture = fixture(file)?;
        let sim = w.call(reqwest::Method::GET, path, None).await?;
        let mut ignore = LIVE_ONLY_INVOICE_KEYS.to_vec();
        ignore.extend([
            "presentation",
            "lines",
            "exceeds_client_limit",
            "number_format",
            "transaction_uuid",
        ]);
        // Client list fixtures carry include-only balance keys.
        ignore.extend(["outstanding_balance", "grand_total_balance", "test_amount"]);
        assert_same_shape(file, &fixture, &sim, &ignore);
    }
    let empty = recording("list-payments")?;
    let fresh = World::start().await?;
    assert_eq!(
        fresh
            .call(reqwest::Method::GET, "payments/payments", None)
            .await?,
        empty,
        "live empty list"
    );
    Ok(())
}

#[tokio::test]
async fn identity_token_and_error_fixtures_match() -> anyhow::Result<()> {
    let w = World::start().await?;
    let base = w.sim.base_url();

    let py_me = fixture("python-sdk/auth_me_response.json")?["response"].clone();
    let live_me = recording("get-account-id")?["response"].clone();
    parse::<Identity>(&py_me)?;
    parse::<Identity>(&live_me)?;
    let me: Value = w
        .http
        .get(format!("{base}/auth/api/v1/users/me"))
        .bearer_auth(&w.token)
        .send()
        .await?
        .json()
        .await?;
    assert_subset_shape("me(python)", &py_me, &me["response"]);
    assert_subset_shape("me(live)", &live_me, &me["response"]);

    let py_token = fixture("python-sdk/auth_token_response.json")?;
    parse::<TokenResponse>(&py_token)?;
    let tokens = w
        .sim
        .issue_tokens(w.account.identity_id)
        .ok_or_else(|| anyhow::anyhow!("no identity"))?;
    let refreshed: Value = w
        .http
        .post(format!("{base}/auth/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh_token.as_str()),
        ])
        .send()
        .await?
        .json()
        .await?;
    assert_subset_shape("token", &py_token, &refreshed);

    let no_auth = fixture("python-sdk/auth_me_response__no_auth.json")?;
    let anonymous: Value = w
        .http
        .get(format!("{base}/auth/api/v1/users/me"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(anonymous, no_auth);

    for file in [
        "python-sdk/get_client_response__not_found.json",
        "java-sdk/get_client_response__not_found_old.json",
    ] {
        let not_found = fixture(file)?;
        let sim = w
            .call(reqwest::Method::GET, "users/clients/12345", None)
            .await?;
        assert_eq!(sim, not_found, "{file}");
    }
    Ok(())
}

#[test]
fn shape_diff_reports_missing_keys_extra_keys_and_type_changes() {
    let mut diffs = Vec::new();
    let fixture = json!({"a": "1", "b": {"c": 1}, "d": null, "gone": true});
    let sim = json!({"a": 1, "b": {"c": 2}, "d": "x", "extra": []});
    shape_diff("x", &fixture, &sim, &[], false, &mut diffs);
    diffs.sort();
    assert_eq!(
        diffs,
        vec![
            "x.a: fixture string vs simulator number",
            "x.extra: only in simulator",
            "x.gone: missing from simulator"
        ]
    );
}

/// FreshBooks' Postman "Make Payment" reply for a payment that overpaid (docs/freshbooks.md §14.3.1).
fn postman_overpayment() -> Value {
    json!({"accounting_systemid":"wkMd2g","amount":{"amount":"180.00","code":"USD"},"clientid":31006,"creditid":null,
      "date":"2019-04-19","from_credit":false,"gateway":null,"id":10318,"invoiceid":34420,"logid":10318,"note":"Paid in full",
      "orderid":null,"overpaymentid":10320,"transactionid":null,"type":"Check","updated":"2019-04-24 14:22:18","vis_state":0})
}

#[tokio::test]
async fn lifecycle_recordings_match_invoice_edits_payment_deletes_and_overpayments()
-> anyhow::Result<()> {
    use reqwest::Method;
    let w = World::start().await?;
    let client = w
        .call(
            Method::POST,
            "users/clients",
            Some(
                json!({"client": {"email": "bob@example.com", "fname": "Bob", "lname": "Builder"}}),
            ),
        )
        .await?["response"]["result"]["client"]["id"]
        .clone();
    let invoice = json!({"invoice": {"customerid": client, "description": "UI/UX design work",
        "lines": [{"type": 0, "name": "Design", "qty": 1, "unit_cost": {"amount": "1000.00"}}]}});
    let id = w
        .call(Method::POST, "invoices/invoices", Some(invoice))
        .await?["response"]["result"]["invoice"]["id"]
        .clone();
    w.call(
        Method::PUT,
        &format!("invoices/invoices/{id}"),
        Some(json!({"invoice": {"action_mark_as_sent": true}})),
    )
    .await?;
    let pay = |amount: &str, note: &str| json!({"payment": {"invoiceid": id, "amount": {"amount": amount}, "date": "2026-06-29", "type": "Check", "note": note}});
    w.call(Method::POST, "payments/payments", Some(pay("200.00", "")))
        .await?;
    let partial = w
        .call(
            Method::POST,
            "payments/payments",
            Some(pay("500.00", "Partial payment")),
        )
        .await?;
    let payment_id = partial["response"]["result"]["payment"]["id"].clone();

    // delete-payment: PUT vis_state 1 answers the payment with vis_state 1; the invoice's paid drops.
    let recorded = recording("delete-payment")?;
    let deleted = w
        .call(
            Method::PUT,
            &format!("payments/payments/{payment_id}"),
            Some(json!({"payment": {"vis_state": 1}})),
        )
        .await?;
    assert_same_shape("delete-payment", &recorded, &deleted, &[]);
    assert_eq!(deleted["response"]["result"]["payment"]["vis_state"], 1);

    // update-invoice: PUT notes on the partly paid invoice → 200, totals and status unchanged, as recorded.
    let recorded = recording("update-invoice")?["response"]["result"]["invoice"].clone();
    let updated = w
        .call(
            Method::PUT,
            &format!("invoices/invoices/{id}"),
            Some(json!({"invoice": {"notes": "Test notes"}})),
        )
        .await?["response"]["result"]["invoice"]
        .clone();
    assert_same_shape("update-invoice", &recorded, &updated, &[]);
    for key in [
        "amount",
        "paid",
        "outstanding",
        "discount_total",
        "net_paid_amount",
    ] {
        assert_eq!(updated[key]["amount"], recorded[key]["amount"], "{key}");
    }
    for key in [
        "status",
        "v3_status",
        "payment_status",
        "display_status",
        "date_paid",
        "notes",
        "discount_value",
    ] {
        assert_eq!(updated[key], recorded[key], "{key}");
    }

    // An overpayment answers in the shape of FreshBooks' own example, with `overpaymentid` set.
    let over = w
        .call(
            Method::POST,
            "payments/payments",
            Some(pay("900.00", "Paid in full")),
        )
        .await?["response"]["result"]["payment"]
        .clone();
    assert_same_shape(
        "make-payment(postman)",
        &postman_overpayment(),
        &over,
        &[
            "bulk_paymentid",
            "send_client_notification",
            "transaction_uuid",
        ],
    );
    assert!(over["overpaymentid"].is_u64(), "{over}");
    parse::<Payment>(&postman_overpayment())?;
    Ok(())
}
