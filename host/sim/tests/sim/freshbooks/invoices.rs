//! Invoice totals, the phased update with replace-all lines, and delete/restore (docs/freshbooks.md §6.3–§6.4,
//! §7; §14.2).

use ferry_sim::freshbooks::FreshBooksSimConfig;
use serde_json::{Value, json};

use super::{Ctx, errno};

fn money(v: &Value) -> Option<&str> {
    v["amount"].as_str()
}

#[tokio::test]
async fn totals_round_each_tax_once_per_invoice_and_halves_away_from_zero() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("totals@example.com").await?;
    let hst = |price: &str| json!({"name": "Pin", "qty": 1, "unit_cost": {"amount": price}, "taxName1": "HST", "taxAmount1": "13"});
    let lines = json!([
        hst("0.05"), hst("0.05"), hst("0.05"),
        {"name": "Half", "qty": "0.5", "unit_cost": {"amount": "0.25"}},
        {"name": "Wine", "qty": 1, "unit_cost": {"amount": "100.00"}, "taxName1": "GST", "taxAmount1": "5",
         "taxName2": "QST", "taxAmount2": "10", "compounded_tax": true}
    ]);
    let inv = c.create_invoice(customer, lines, json!({})).await?;
    let id = inv["id"].as_u64().unwrap_or_default();
    let stored = c.invoice(id).await?;
    let amounts: Vec<_> = stored["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| money(&l["amount"]))
        .collect();
    assert_eq!(
        amounts,
        [
            Some("0.05"),
            Some("0.05"),
            Some("0.05"),
            Some("0.13"),
            Some("100.00")
        ],
        "qty × unit_cost per line, 0.125 rounds up"
    );
    // Subtotal 100.28; HST 3 × 0.0065 = 0.0195 → 0.02 (not 3 × 0.01); GST 5.00; QST 10% of 105.00 = 10.50.
    assert_eq!(money(&inv["amount"]), Some("115.80"));
    let view = c.inspect_invoice(id).await?;
    assert_eq!(view["subtotal"], "100.28");
    assert_eq!(
        view["taxes"],
        json!([
            {"name": "HST", "rate": "13", "amount": "0.02"},
            {"name": "GST", "rate": "5", "amount": "5.00"},
            {"name": "QST", "rate": "10", "amount": "10.50"}
        ])
    );
    Ok(())
}

#[tokio::test]
async fn negative_lines_are_accepted_and_invalid_lines_and_discounts_refused() -> anyhow::Result<()>
{
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("neg@example.com").await?;
    let lines = json!([
        {"name": "Shoes", "qty": 2, "unit_cost": {"amount": "40.00"}, "taxName1": "VAT", "taxAmount1": "20"},
        {"name": "Coupon SAVE10", "qty": 1, "unit_cost": {"amount": "-10.00"}, "taxName1": "VAT", "taxAmount1": "20"}
    ]);
    let inv = c
        .create_invoice(customer, lines, json!({"discount_value": "5"}))
        .await?;
    // 70.00 − 5% (3.50) = 66.50; VAT 20% of 66.50 = 13.30.
    assert_eq!(
        (money(&inv["discount_total"]), money(&inv["amount"])),
        (Some("-3.50"), Some("79.80"))
    );
    for (line, want) in [
        (
            json!({"name": "x", "qty": -1, "unit_cost": {"amount": "1"}}),
            1004,
        ),
        (
            json!({"name": "x", "unit_cost": {"amount": "1"}, "taxName1": "VAT", "taxAmount1": "150"}),
            1018,
        ),
        (
            json!({"name": "x", "unit_cost": {"amount": "1"}, "taxName1": "VAT", "taxAmount1": "5", "taxName2": "VAT", "taxAmount2": "5"}),
            1019,
        ),
        (json!({"name": "x", "qty": 1}), 1001),
        (
            json!({"name": "x", "qty": "two", "unit_cost": {"amount": "1"}}),
            1015,
        ),
    ] {
        let (status, body) = c
            .post(
                "invoices/invoices",
                json!({"invoice": {"customerid": customer, "lines": [line]}}),
            )
            .await?;
        assert_eq!((status.as_u16(), errno(&body)), (422, Some(want)), "{line}");
    }
    let (status, body) = c
        .post(
            "invoices/invoices",
            json!({"invoice": {"customerid": customer, "discount_value": "120"}}),
        )
        .await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1018)));
    Ok(())
}

#[tokio::test]
async fn put_with_lines_replaces_every_line_and_recomputes_outstanding() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("edit@example.com").await?;
    let lines = json!([
        {"name": "Bowls", "qty": 4, "unit_cost": {"amount": "5.00"}, "taxName1": "HST", "taxAmount1": "13"},
        {"name": "Mugs", "qty": 6, "unit_cost": {"amount": "4.00"}}
    ]);
    let inv = c
        .create_invoice(customer, lines, json!({"discount_value": "10"}))
        .await?;
    let id = inv["id"].as_u64().unwrap_or_default();
    c.mark_sent(id).await?;
    assert_eq!(c.pay(id, "20.00", "Check").await?.0, 200);

    // Keep line 2 with a new quantity (named by lineid, its other fields stay), drop line 1, add a line.
    let (status, body) = c
        .put(
            &format!("invoices/invoices/{id}?include[]=lines"),
            json!({"invoice": {"lines": [{"lineid": 2, "qty": 3}, {"name": "Plate", "qty": 1, "unit_cost": {"amount": "16.00"}}]}}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let inv = &body["response"]["result"]["invoice"];
    let names: Vec<_> = inv["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| (l["lineid"].as_u64(), l["name"].as_str(), l["qty"].as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (Some(1), Some("Mugs"), Some("3")),
            (Some(2), Some("Plate"), Some("1"))
        ]
    );
    // 12 + 16 = 28, −10% = 25.20, no tax; 20.00 paid.
    assert_eq!(
        (
            money(&inv["amount"]),
            money(&inv["paid"]),
            money(&inv["outstanding"])
        ),
        (Some("25.20"), Some("20.00"), Some("5.20"))
    );
    assert_eq!(
        (inv["status"].as_i64(), inv["v3_status"].as_str()),
        (Some(2), Some("partial"))
    );

    // A data PUT without lines is a partial merge: lines stay, totals follow the new discount.
    let (_, body) = c
        .put(
            &format!("invoices/invoices/{id}"),
            json!({"invoice": {"notes": "edited", "discount_value": "0"}}),
        )
        .await?;
    let inv = &body["response"]["result"]["invoice"];
    assert_eq!(
        (inv["notes"].as_str(), money(&inv["amount"])),
        (Some("edited"), Some("28.00"))
    );
    assert!(
        inv.get("lines").is_none(),
        "lines only with include[]=lines"
    );

    // Lowering the total below what was paid leaves nothing outstanding and the invoice paid.
    let (_, body) = c
        .put(&format!("invoices/invoices/{id}"), json!({"invoice": {"lines": [{"name": "Mug", "qty": 1, "unit_cost": {"amount": "15.00"}}]}}))
        .await?;
    let inv = &body["response"]["result"]["invoice"];
    assert_eq!(
        (money(&inv["amount"]), money(&inv["outstanding"])),
        (Some("15.00"), Some("0.00"))
    );
    assert_eq!(
        (
            inv["status"].as_i64(),
            inv["v3_status"].as_str(),
            inv["display_status"].as_str()
        ),
        (Some(4), Some("paid"), Some("paid"))
    );
    assert_eq!(
        c.invoice(id).await?["lines"].as_array().map(Vec::len),
        Some(1)
    );
    Ok(())
}

#[tokio::test]
async fn put_applies_only_its_first_phase_and_ignores_create_only_fields() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("phase@example.com").await?;
    let inv = c
        .create_invoice(
            customer,
            json!([{"name": "A", "qty": 1, "unit_cost": {"amount": "10"}}]),
            json!({}),
        )
        .await?;
    let id = inv["id"].as_u64().unwrap_or_default();
    let path = format!("invoices/invoices/{id}");

    // An action discards the data in the same PUT.
    let (_, body) = c
        .put(
            &path,
            json!({"invoice": {"action_mark_as_sent": true, "notes": "dropped"}}),
        )
        .await?;
    let inv = &body["response"]["result"]["invoice"];
    assert_eq!(
        (inv["status"].as_i64(), inv["notes"].as_str()),
        (Some(2), Some(""))
    );
    // Server-owned and create-only keys are ignored on update.
    let (_, body) = c
        .put(&path, json!({"invoice": {"payment_status": "paid", "v3_status": "paid", "amount": {"amount": "1"}, "ownerid": 9, "po_number": "PO-7"}}))
        .await?;
    let inv = &body["response"]["result"]["invoice"];
    assert_eq!(
        (inv["payment_status"].as_str(), inv["ownerid"].as_u64()),
        (Some("unpaid"), Some(1))
    );
    assert_eq!(
        (money(&inv["amount"]), inv["po_number"].as_str()),
        (Some("10.00"), Some("PO-7"))
    );
    // `status: 2` marks a draft sent (Postman); a partly paid invoice cannot go back to draft.
    let draft = c
        .create_invoice(
            customer,
            json!([{"name": "B", "qty": 1, "unit_cost": {"amount": "5"}}]),
            json!({}),
        )
        .await?;
    let draft_id = draft["id"].as_u64().unwrap_or_default();
    let (_, body) = c
        .put(
            &format!("invoices/invoices/{draft_id}"),
            json!({"invoice": {"status": 2}}),
        )
        .await?;
    assert_eq!(body["response"]["result"]["invoice"]["v3_status"], "sent");
    c.pay(id, "4.00", "Cash").await?;
    let (status, body) = c.put(&path, json!({"invoice": {"status": 1}})).await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    // A locked invoice refuses edits until unlocked.
    c.put(&path, json!({"invoice": {"lock_status": "locked"}}))
        .await?;
    let (status, body) = c.put(&path, json!({"invoice": {"notes": "late"}})).await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    assert_eq!(
        c.put(&path, json!({"invoice": {"lock_status": "unlocked"}}))
            .await?
            .0,
        200
    );
    assert_eq!(
        c.put(&path, json!({"invoice": {"notes": "late"}})).await?.0,
        200
    );
    Ok(())
}

#[tokio::test]
async fn deleting_an_invoice_hides_it_and_refuses_edits_and_payments_until_restored()
-> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("cancel@example.com").await?;
    let inv = c
        .create_invoice(
            customer,
            json!([{"name": "A", "qty": 2, "unit_cost": {"amount": "10"}}]),
            json!({}),
        )
        .await?;
    let id = inv["id"].as_u64().unwrap_or_default();
    c.mark_sent(id).await?;
    let path = format!("invoices/invoices/{id}");

    let (_, body) = c
        .put(
            &path,
            json!({"invoice": {"vis_state": 1, "notes": "dropped"}}),
        )
        .await?;
    let inv = &body["response"]["result"]["invoice"];
    assert_eq!(
        (inv["vis_state"].as_i64(), inv["notes"].as_str()),
        (Some(1), Some(""))
    );
    assert_eq!(
        money(&inv["outstanding"]),
        Some("20.00"),
        "the object keeps its figures"
    );
    assert_eq!(
        c.get("invoices/invoices").await?.1["response"]["result"]["total"],
        0
    );
    assert_eq!(
        c.get(&path).await?.1["response"]["result"]["invoice"]["vis_state"],
        1
    );
    let (status, body) = c.put(&path, json!({"invoice": {"notes": "x"}})).await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1011)));
    let (status, body) = c.pay(id, "5.00", "Cash").await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1011)));

    c.put(&path, json!({"invoice": {"vis_state": 0}})).await?;
    assert_eq!(
        c.get("invoices/invoices").await?.1["response"]["result"]["total"],
        1
    );
    assert_eq!(c.pay(id, "5.00", "Cash").await?.0, 200);
    let (status, body) = c.delete(&path).await?;
    assert_eq!((status.as_u16(), body), (200, json!({"response": {}})));
    let view = c
        .sim
        .invoice_view(&c.account.account_id, id)
        .ok_or_else(|| anyhow::anyhow!("no view"))?;
    assert_eq!(
        (view.vis_state, view.payments.len()),
        (1, 1),
        "payments of a deleted invoice stay"
    );
    let (status, body) = c.put(&path, json!({"invoice": {"vis_state": 7}})).await?;
    assert_eq!((status.as_u16(), errno(&body)), (422, Some(1004)));
    Ok(())
}

#[tokio::test]
async fn status_two_on_create_makes_the_invoice_sent_and_other_values_a_draft() -> anyhow::Result<()>
{
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("status@example.com").await?;
    let lines = json!([{"name": "Coffee", "qty": 1, "unit_cost": {"amount": "10.00"}}]);
    let sent = c
        .create_invoice(customer, lines.clone(), json!({"status": 2}))
        .await?;
    assert_eq!(sent["status"], 2);
    assert_eq!(sent["v3_status"], "sent");
    let draft = c
        .create_invoice(customer, lines, json!({"status": 4}))
        .await?;
    assert_eq!(draft["status"], 1, "paid cannot be created: {draft}");
    assert_eq!(draft["v3_status"], "draft");
    Ok(())
}
