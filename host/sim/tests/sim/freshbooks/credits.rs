//! Credit notes, client credit, payments from credit and overpayment credits (docs/freshbooks.md §14.1).

use ferry_sim::freshbooks::FreshBooksSimConfig;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Ctx, errno};

/// The credit note of FreshBooks' Postman "List Credits" example (§14.1.3).
fn postman_credit() -> Value {
    json!({"accounting_systemid":"E86Qp","amount":{"amount":"150.00","code":"CAD"},"city":"","clientid":599843,"code":"",
     "country":"","create_date":"2020-07-31","credit_number":"0000069","credit_type":"goodwill","creditid":30947,
     "currency_code":"CAD","current_organization":"Squarespace","description":"Goodwill Credit","display_status":"created",
     "dispute_status":null,"ext_archive":0,"fname":"","id":30947,"language":"en","last_order_status":null,"lname":"",
     "notes":"Free $150 voucher","organization":"Squarespace","paid":{"amount":"150.00","code":"CAD"},"payment_status":"paid",
     "province":"","sentid":1,"status":"created","street":"","street2":"","template":"clean-grouped",
     "terms":"Will be applied to future invoice","vat_name":"","vat_number":"","vis_state":0})
}

fn keys(v: &Value) -> Vec<&String> {
    v.as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default()
}

impl Ctx {
    async fn credit(&self, customer: u64, amount: &str, kind: &str) -> anyhow::Result<Value> {
        let (status, body) = self
            .post(
                "credit_notes/credit_notes",
                json!({"credit_note": {"clientid": customer, "credit_type": kind, "currency_code": "USD",
                    "lines": [{"name": "Credit", "qty": 1, "unit_cost": {"amount": amount, "code": "USD"}}]}}),
            )
            .await?;
        assert_eq!(status, 200, "{body}");
        Ok(body["response"]["result"]["credit_note"].clone())
    }

    async fn credit_balance(&self, customer: u64) -> anyhow::Result<Value> {
        let (_, body) = self
            .get(&format!(
                "users/clients/{customer}?include[]=credit_balance"
            ))
            .await?;
        Ok(body["response"]["result"]["client"]["credit_balance"].clone())
    }
}

#[tokio::test]
async fn credit_notes_create_get_list_update_and_delete_in_the_reference_shape()
-> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("credit@example.com").await?;
    // The Postman "Create Prepayment Credit" body.
    let body = json!({"credit_note":{"credit_number":"0000070","currency_code":"CAD","create_date":"2020-07-31",
        "notes":"Thank you for paying ahead of time","credit_type":"prepayment","terms":"Will be applied to future invoice",
        "lines":[{"name":"Credit","description":"PrePayment for work","taxName1":null,"taxAmount1":null,"taxName2":null,
        "taxAmount2":null,"compounded_tax":false,"qty":1,"unit_cost":{"amount":"200","code":"CAD"}}],"clientid":customer}});
    let (status, reply) = c.post("credit_notes/credit_notes", body).await?;
    assert_eq!(status, 200, "{reply}");
    let note = &reply["response"]["result"]["credit_note"];
    assert_eq!(
        keys(note),
        keys(&postman_credit()),
        "the Postman credit's keys, no lines without include"
    );
    assert_eq!(
        (
            note["amount"]["amount"].as_str(),
            note["credit_number"].as_str(),
            note["credit_type"].as_str()
        ),
        (Some("200.00"), Some("0000070"), Some("prepayment"))
    );
    assert_eq!(
        (note["clientid"].as_u64(), note["status"].as_str()),
        (Some(customer), Some("created"))
    );
    let id = note["id"].as_u64().unwrap_or_default();
    assert_eq!(note["creditid"].as_u64(), Some(id));

    let (_, got) = c
        .get(&format!("credit_notes/credit_notes/{id}?include[]=lines"))
        .await?;
    let line = &got["response"]["result"]["credit_note"]["lines"][0];
    assert_eq!(
        (line["id"].as_str(), line["taskno"].as_u64()),
        (Some(format!("{id}-1").as_str()), Some(1))
    );
    assert_eq!(
        (line["qty"].as_str(), line["creditid"].as_u64()),
        (Some("1"), Some(id))
    );

    // Update: a line named by its id keeps what is left out; a line without id is added.
    let (status, updated) = c
        .put(
            &format!("credit_notes/credit_notes/{id}?include[]=lines"),
            json!({"credit_note": {"notes": "edited", "lines": [{"id": format!("{id}-1"), "qty": 2}, {"name": "Extra", "qty": 1, "unit_cost": {"amount": "5"}}]}}),
        )
        .await?;
    assert_eq!(status, 200, "{updated}");
    let note = &updated["response"]["result"]["credit_note"];
    assert_eq!(
        (note["amount"]["amount"].as_str(), note["notes"].as_str()),
        (Some("405.00"), Some("edited"))
    );
    assert_eq!(note["lines"][0]["name"], "Credit");

    // The Node SDK's plural body key is accepted too; overpayment cannot be created; clientid is required.
    let (status, _) = c
        .post(
            "credit_notes/credit_notes",
            json!({"credit_notes": {"clientid": customer, "lines": []}}),
        )
        .await?;
    assert_eq!(status, 200);
    let (status, body) = c
        .post(
            "credit_notes/credit_notes",
            json!({"credit_note": {"clientid": customer, "credit_type": "overpayment"}}),
        )
        .await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    let (status, body) = c
        .post("credit_notes/credit_notes", json!({"credit_note": {}}))
        .await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1001)));
    let (status, body) = c.get("credit_notes/credit_notes/424242").await?;
    assert_eq!((status.as_u16(), errno(&body)), (404, Some(1012)));

    let (_, list) = c
        .get(&format!(
            "credit_notes/credit_notes?search[clientid]={customer}"
        ))
        .await?;
    assert_eq!(list["response"]["result"]["total"], 2);
    // Delete: vis_state alone; gone from lists, still readable by id.
    let (_, deleted) = c
        .put(
            &format!("credit_notes/credit_notes/{id}"),
            json!({"credit_note": {"vis_state": 1, "notes": "dropped"}}),
        )
        .await?;
    assert_eq!(
        deleted["response"]["result"]["credit_note"]["notes"],
        "edited"
    );
    assert_eq!(
        c.get("credit_notes/credit_notes").await?.1["response"]["result"]["total"],
        1
    );
    assert_eq!(
        c.get(&format!("credit_notes/credit_notes/{id}")).await?.1["response"]["result"]["credit_note"]
            ["vis_state"],
        1
    );
    assert_eq!(c.sim.credit_notes(&c.account.account_id).len(), 2);
    Ok(())
}

#[tokio::test]
async fn a_credit_payment_spends_the_client_credit_with_from_credit_and_creditid()
-> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("gift@example.com").await?;
    let note = c.credit(customer, "30.00", "goodwill").await?;
    let note_id = note["id"].as_u64().unwrap_or_default();
    assert_eq!(
        c.credit_balance(customer).await?,
        json!([{"amount": {"amount": "30.00", "code": "USD"}}])
    );
    let (_, with_credit) = c.get("users/clients?search[has_credit]=1").await?;
    assert_eq!(with_credit["response"]["result"]["total"], 1);

    let inv = c
        .create_invoice(
            customer,
            json!([{"name": "Lamp", "qty": 1, "unit_cost": {"amount": "50.00"}}]),
            json!({}),
        )
        .await?;
    let id = inv["id"].as_u64().unwrap_or_default();
    c.mark_sent(id).await?;
    let (status, body) = c.pay(id, "20.00", "Credit").await?;
    assert_eq!(status, 200, "{body}");
    let payment = &body["response"]["result"]["payment"];
    assert_eq!(
        (
            payment["type"].as_str(),
            payment["from_credit"].as_bool(),
            payment["creditid"].as_u64()
        ),
        (Some("Credit"), Some(true), Some(note_id))
    );
    let payment_id = payment["id"].as_u64().unwrap_or_default();
    let inv = c.invoice(id).await?;
    assert_eq!(
        (
            inv["outstanding"]["amount"].as_str(),
            inv["v3_status"].as_str()
        ),
        (Some("30.00"), Some("partial"))
    );
    assert_eq!(
        c.credit_balance(customer).await?[0]["amount"]["amount"],
        "10.00"
    );
    assert_eq!(
        c.sim.credit_balance(&c.account.account_id, customer, "USD"),
        Decimal::TEN
    );

    // More than the credit, or more than the invoice owes, is refused.
    let (status, body) = c.pay(id, "15.00", "Credit").await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    c.credit(customer, "100.00", "prepayment").await?;
    let (status, body) = c.pay(id, "40.00", "Credit").await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    // A spent credit note cannot be deleted; after the payment is deleted it can.
    let note_path = format!("credit_notes/credit_notes/{note_id}");
    let (status, body) = c
        .put(&note_path, json!({"credit_note": {"vis_state": 1}}))
        .await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    c.put(
        &format!("payments/payments/{payment_id}"),
        json!({"payment": {"vis_state": 1}}),
    )
    .await?;
    assert_eq!(
        c.put(&note_path, json!({"credit_note": {"vis_state": 1}}))
            .await?
            .0,
        200
    );
    assert_eq!(
        c.credit_balance(customer).await?[0]["amount"]["amount"],
        "100.00"
    );
    let credit: Value = c
        .http
        .get(format!(
            "{}/_sim/freshbooks/accounts/{}/clients/{customer}/credit",
            c.sim.base_url(),
            c.account.account_id
        ))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        credit,
        json!({"clientid": customer, "credit_balance": [{"amount": "100.00", "code": "USD"}]})
    );
    Ok(())
}

#[tokio::test]
async fn an_overpayment_becomes_an_overpayment_credit_the_client_can_spend() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("over@example.com").await?;
    let lines = json!([{"name": "Chair", "qty": 1, "unit_cost": {"amount": "41.94"}}]);
    let first = c.create_invoice(customer, lines.clone(), json!({})).await?;
    let id = first["id"].as_u64().unwrap_or_default();
    c.mark_sent(id).await?;
    let (_, body) = c.pay(id, "50.00", "Check").await?;
    let payment = &body["response"]["result"]["payment"];
    assert_eq!(payment["amount"]["amount"], "41.94", "the invoice's share");
    let over_id = payment["overpaymentid"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no overpaymentid in {body}"))?;
    let (_, over) = c.get(&format!("payments/payments/{over_id}")).await?;
    let over = &over["response"]["result"]["payment"];
    assert_eq!(
        (over["invoiceid"].clone(), over["amount"]["amount"].as_str()),
        (Value::Null, Some("8.06"))
    );
    let notes = c.sim.credit_notes(&c.account.account_id);
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (
            notes[0].credit_type.as_str(),
            notes[0].amount.amount.as_str()
        ),
        ("overpayment", "8.06")
    );
    assert_eq!(over["creditid"].as_u64(), Some(notes[0].id));
    assert!(
        notes[0].description.starts_with("Overpayment: invo"),
        "{}",
        notes[0].description
    );
    let inv = c.invoice(id).await?;
    assert_eq!(
        (
            inv["v3_status"].as_str(),
            inv["outstanding"]["amount"].as_str()
        ),
        (Some("paid"), Some("0.00"))
    );
    let (_, credits) = c
        .get("payments/payments?search[payment_or_credit]=credit")
        .await?;
    assert_eq!(credits["response"]["result"]["total"], 1);

    // The overpayment credit pays part of the next invoice; then the first payment can no longer be deleted.
    let second = c.create_invoice(customer, lines, json!({})).await?;
    let second_id = second["id"].as_u64().unwrap_or_default();
    let (status, body) = c.pay(second_id, "8.06", "credit").await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["response"]["result"]["payment"]["creditid"].as_u64(),
        Some(notes[0].id)
    );
    assert_eq!(
        c.invoice(second_id).await?["outstanding"]["amount"],
        "33.88"
    );
    let first_payment = payment["id"].as_u64().unwrap_or_default();
    let (status, body) = c
        .put(
            &format!("payments/payments/{first_payment}"),
            json!({"payment": {"vis_state": 1}}),
        )
        .await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    Ok(())
}
