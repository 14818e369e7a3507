//! Payment types, payment edits and deletes (refunds), and the inspection routes (docs/freshbooks.md §6.7,
//! §14.3).

use ferry_sim::freshbooks::{FreshBooksSimConfig, PAYMENT_TYPES};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Ctx, errno};

fn status_of(inv: &Value) -> (Option<i64>, Option<&str>, Option<&str>, Option<&str>) {
    (
        inv["status"].as_i64(),
        inv["v3_status"].as_str(),
        inv["payment_status"].as_str(),
        inv["outstanding"]["amount"].as_str(),
    )
}

#[tokio::test]
async fn every_listed_payment_type_is_accepted_and_others_are_refused() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("types@example.com").await?;
    let inv = c
        .create_invoice(
            customer,
            json!([{"name": "Big", "qty": 1, "unit_cost": {"amount": "1000"}}]),
            json!({}),
        )
        .await?;
    let id = inv["id"].as_u64().unwrap_or_default();
    for kind in PAYMENT_TYPES.iter().filter(|t| **t != "Credit") {
        let (status, body) = c.pay(id, "1.00", kind).await?;
        assert_eq!(status, 200, "{kind}: {body}");
        assert_eq!(body["response"]["result"]["payment"]["type"], *kind);
        assert_eq!(body["response"]["result"]["payment"]["from_credit"], false);
    }
    let (_, body) = c.pay(id, "1.00", "other").await?;
    assert_eq!(
        body["response"]["result"]["payment"]["type"], "Other",
        "listed spelling"
    );
    let (status, body) = c.pay(id, "1.00", "Gift Card").await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    assert_eq!(body["response"]["errors"][0]["field"], "type");
    let (status, body) = c.pay(id, "1.00", "Credit").await?;
    assert_eq!(
        (status.as_u16(), errno(&body)),
        (422, Some(1004)),
        "no credit to spend"
    );
    let (status, body) = c
        .post(
            "payments/payments",
            json!({"payment": {"invoiceid": id, "amount": {"amount": "1.00", "code": "EUR"}}}),
        )
        .await?;
    assert_eq!(
        (status.as_u16(), errno(&body)),
        (422, Some(1004)),
        "another currency"
    );
    let (_, body) = c
        .post(
            "payments/payments",
            json!({"payment": {"invoiceid": id, "amount": {"amount": "1"}}}),
        )
        .await?;
    assert_eq!(
        body["response"]["result"]["payment"]["type"], "Cash",
        "default type"
    );
    let n = PAYMENT_TYPES.len() + 1; // the loop's n − 1 types, "other" and the default
    assert_eq!(c.invoice(id).await?["paid"]["amount"], format!("{n}.00"));
    Ok(())
}

#[tokio::test]
async fn editing_and_deleting_payments_moves_the_invoice_between_unpaid_partial_and_paid()
-> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("refund@example.com").await?;
    let inv = c
        .create_invoice(
            customer,
            json!([{"name": "Desk", "qty": 1, "unit_cost": {"amount": "80.00"}}]),
            json!({}),
        )
        .await?;
    let id = inv["id"].as_u64().unwrap_or_default();
    // A payment on a draft marks it sent.
    let (_, body) = c.pay(id, "80.00", "Bank Transfer").await?;
    let payment = body["response"]["result"]["payment"]["id"]
        .as_u64()
        .unwrap_or_default();
    let inv = c.invoice(id).await?;
    assert_eq!(
        status_of(&inv),
        (Some(4), Some("paid"), Some("paid"), Some("0.00"))
    );
    assert_eq!(inv["date_paid"], "2024-03-05");
    let path = format!("payments/payments/{payment}");

    // Partial refund: lower the amount (§14.3.2).
    let (_, body) = c
        .put(
            &path,
            json!({"payment": {"amount": {"amount": "30.00"}, "note": "Partly refunded"}}),
        )
        .await?;
    assert_eq!(
        body["response"]["result"]["payment"]["amount"],
        json!({"amount": "30.00", "code": "USD"})
    );
    let inv = c.invoice(id).await?;
    assert_eq!(
        status_of(&inv),
        (Some(2), Some("partial"), Some("partial"), Some("50.00"))
    );
    assert_eq!(inv["date_paid"], Value::Null);
    // Full refund: zero it.
    c.put(
        &path,
        json!({"payment": {"amount": {"amount": "0.00"}, "note": "Payment refunded"}}),
    )
    .await?;
    assert_eq!(
        status_of(&c.invoice(id).await?),
        (Some(2), Some("sent"), Some("unpaid"), Some("80.00"))
    );
    // Delete and restore.
    c.put(&path, json!({"payment": {"amount": {"amount": "10.00"}}}))
        .await?;
    let (_, body) = c
        .put(
            &path,
            json!({"payment": {"vis_state": 1, "note": "dropped"}}),
        )
        .await?;
    assert_eq!(body["response"]["result"]["payment"]["vis_state"], 1);
    assert_eq!(status_of(&c.invoice(id).await?).3, Some("80.00"));
    c.put(&path, json!({"payment": {"vis_state": 0}})).await?;
    assert_eq!(status_of(&c.invoice(id).await?).3, Some("70.00"));
    // A payment cannot become a payment from credit, nor take an unknown type.
    let (status, body) = c.put(&path, json!({"payment": {"type": "Credit"}})).await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    let (status, _) = c.put(&path, json!({"payment": {"type": "Other"}})).await?;
    assert_eq!(status, 200);
    Ok(())
}

#[tokio::test]
async fn inspection_shows_invoice_lines_taxes_payments_and_credit_note_counts() -> anyhow::Result<()>
{
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("inspect@example.com").await?;
    let lines = json!([
        {"name": "Bowls", "qty": 4, "unit_cost": {"amount": "5.00"}, "taxName1": "HST", "taxAmount1": "13"},
        {"name": "Mugs", "qty": 6, "unit_cost": {"amount": "4.00"}}
    ]);
    let inv = c
        .create_invoice(customer, lines, json!({"discount_value": "10"}))
        .await?;
    let id = inv["id"].as_u64().unwrap_or_default();
    c.mark_sent(id).await?;
    c.pay(id, "20.00", "Check").await?;
    let view = c.inspect_invoice(id).await?;
    assert_eq!(
        (
            view["subtotal"].as_str(),
            view["discount_total"].as_str(),
            view["amount"].as_str()
        ),
        (Some("44.00"), Some("-4.40"), Some("41.94"))
    );
    assert_eq!(
        view["taxes"],
        json!([{"name": "HST", "rate": "13", "amount": "2.34"}])
    );
    assert_eq!(
        (view["paid"].as_str(), view["outstanding"].as_str()),
        (Some("20.00"), Some("21.94"))
    );
    assert_eq!(
        (
            view["v3_status"].as_str(),
            view["lines"].as_array().map(Vec::len)
        ),
        (Some("partial"), Some(2))
    );
    assert_eq!(view["payments"][0]["type"], "Check");
    let rust = c
        .sim
        .invoice_view(&c.account.account_id, id)
        .ok_or_else(|| anyhow::anyhow!("no view"))?;
    assert_eq!(
        serde_json::to_value(&rust)?,
        view,
        "the route serves the handle's view"
    );
    assert_eq!(rust.amount, Decimal::new(4194, 2));

    c.post("credit_notes/credit_notes", json!({"credit_note": {"clientid": customer, "lines": [{"name": "Sorry", "unit_cost": {"amount": "5"}}]}}))
        .await?;
    let base = format!(
        "{}/_sim/freshbooks/accounts/{}",
        c.sim.base_url(),
        c.account.account_id
    );
    let summary: Value = c.http.get(&base).send().await?.json().await?;
    assert_eq!(
        (
            summary["credit_notes"].as_u64(),
            summary["invoices"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let notes: Value = c
        .http
        .get(format!("{base}/credit_notes"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        notes[0]["lines"][0]["name"], "Sorry",
        "inspection lists lines"
    );
    let missing = c.http.get(format!("{base}/invoices/1")).send().await?;
    assert_eq!(missing.status(), 404);
    let invoices: Value = c
        .http
        .get(format!("{base}/invoices"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        invoices.as_array().map(Vec::len),
        Some(1),
        "the collection route still answers"
    );
    Ok(())
}
