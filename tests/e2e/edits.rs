//! Orders edited and cancelled in Kentico after their invoice exists: an unpaid invoice follows the edit (once,
//! however often the change is delivered), a cancelled order's unpaid invoice is deleted, and a change to an
//! invoice with payments goes to review with a readable reason instead of being written. Counted from the
//! FreshBooks simulator's state.

use ferry_sim::kentico::{LineSpec, OrderEdit, OrderMix};
use ferry_tests::{TestApp, assert_exactly_once, wait_until};
use std::time::Duration;

fn mix(paid: f64) -> OrderMix {
    OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid,
    }
}

/// Places one order (`paid`: the fraction placed paid, 0 or 1), waits until it is synced exactly once, and reads it
/// back from Kentico.
async fn one_settled(app: &TestApp, paid: f64) -> anyhow::Result<ferry_sim::kentico::SimOrder> {
    let placed = app.place(0..1, &mix(paid)).await;
    assert_exactly_once(&app.settle(&placed).await?);
    app.sandbox
        .kentico
        .order(placed[0].order.id)
        .ok_or_else(|| anyhow::anyhow!("the order is gone"))
}

/// The FreshBooks invoice of a Kentico order, by the marker in its notes.
fn invoice_of(app: &TestApp, guid: uuid::Uuid) -> u64 {
    let ids = app.sandbox.invoices_by_order();
    let ids = ids
        .get(&guid.to_string())
        .expect("the order has an invoice");
    assert_eq!(ids.len(), 1, "one invoice per order");
    ids[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_order_edited_after_invoicing_updates_its_invoice_once() -> anyhow::Result<()> {
    let app = TestApp::spawn(41).await?;
    let placed = app.place(0..4, &mix(0.0)).await;
    assert_exactly_once(&app.settle(&placed).await?);
    let order = &placed[0].order;
    let before = app.sandbox.kentico.order(order.id).expect("order");
    let invoice = invoice_of(&app, order.guid);

    // One more of the first product, and a second product line.
    let mut lines = before.line_specs();
    lines[0].quantity += 1;
    app.sandbox
        .kentico
        .edit_order(
            order.id,
            OrderEdit {
                lines: Some(lines),
                ..OrderEdit::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("edit: {e}"))?;
    let after = app.sandbox.kentico.order(order.id).expect("order");
    assert_ne!(after.total, before.total, "the edit changed the order");

    let account = app.sandbox.account_id.clone();
    wait_until(
        Duration::from_secs(60),
        "the invoice follows the edit",
        || async {
            app.sandbox
                .freshbooks
                .invoice_view(&account, invoice)
                .is_some_and(|v| v.amount == after.total)
        },
    )
    .await?;
    // Delivered again (a replayed event, the next poll): nothing more is written.
    let audit = app.settle(&placed).await?;
    assert_exactly_once(&audit);
    assert!(
        audit.amounts_differ.is_empty(),
        "{:?}",
        audit.amounts_differ
    );
    assert_eq!(
        invoice_of(&app, order.guid),
        invoice,
        "the same invoice, updated"
    );
    app.stop().await;
    Ok(())
}

/// Places an unpaid and a paid order, settles them, cancels both in Kentico; returns their invoices.
async fn place_and_cancel_two(app: &TestApp) -> anyhow::Result<(u64, u64, i64)> {
    // returns (unpaid invoice, paid invoice, paid order id)
    let unpaid = app.place(0..1, &mix(0.0)).await;
    let paid = app.place(1..2, &mix(1.0)).await;
    let all: Vec<_> = unpaid.iter().chain(&paid).cloned().collect();
    assert_exactly_once(&app.settle(&all).await?);
    let (u, p) = (&unpaid[0].order, &paid[0].order);
    let invoices = (invoice_of(app, u.guid), invoice_of(app, p.guid));
    assert!(app.sandbox.kentico.cancel_order(u.id).await);
    assert!(app.sandbox.kentico.cancel_order(p.id).await);
    let account = app.sandbox.account_id.clone();
    wait_until(
        Duration::from_secs(60),
        "the unpaid invoice is deleted",
        || async {
            app.sandbox
                .freshbooks
                .invoice_view(&account, invoices.0)
                .is_some_and(|v| v.vis_state == 1)
        },
    )
    .await?;
    // The deletion is in the ledger, as every write Ferry makes to FreshBooks.
    let key = format!("{}:invoice-deleted:{}", app.tenant, u.guid);
    let entry = app.store.ledger_lookup(&app.tenant, &key).await?;
    assert!(entry.is_some(), "no ledger entry {key}");
    Ok((invoices.0, invoices.1, p.id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_order_loses_its_unpaid_invoice_and_a_paid_one_is_credited_once()
-> anyhow::Result<()> {
    let app = TestApp::spawn(42).await?;
    let (_, paid_invoice, paid_order) = place_and_cancel_two(&app).await?;
    let account = app.sandbox.account_id.clone();
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&account, paid_invoice)
        .expect("paid invoice");
    wait_until(
        Duration::from_secs(60),
        "the paid invoice is credited",
        || async { app.sandbox.freshbooks.credit_notes(&account).len() == 1 },
    )
    .await?;
    // Delivered again (the status change sent a second time): still one credit note.
    assert!(app.sandbox.kentico.cancel_order(paid_order).await);
    app.settle(&[]).await?;
    let notes = app.sandbox.freshbooks.credit_notes(&account);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(
        notes[0].amount.amount,
        view.amount.to_string(),
        "the credit mirrors the invoice"
    );
    assert_eq!(view.customerid, notes[0].clientid);
    assert_eq!(view.vis_state, 0, "a paid invoice is not deleted");
    assert!(view.outstanding.is_zero());
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_review_policy_a_cancelled_paid_order_goes_to_review() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(44, |c| {
        c.tenants[0].mapping.paid_cancellation = ferry_model::PaidChange::Review;
    })
    .await?;
    let (_, paid_invoice, paid_order) = place_and_cancel_two(&app).await?;
    let store = app.store.clone();
    let tenant = app.tenant.clone();
    wait_until(
        Duration::from_secs(60),
        "the paid order is sent to review",
        || async {
            store
                .dead_letters(Some(&tenant), 100)
                .await
                .is_ok_and(|d| d.iter().any(|e| e.object_id == paid_order))
        },
    )
    .await?;
    let dead = store.dead_letters(Some(&tenant), 100).await?;
    let reason = dead
        .iter()
        .find(|e| e.object_id == paid_order)
        .and_then(|e| e.last_error.clone())
        .unwrap_or_default();
    assert!(reason.contains("review"), "{reason}");
    let account = app.sandbox.account_id.clone();
    assert!(app.sandbox.freshbooks.credit_notes(&account).is_empty());
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&account, paid_invoice)
        .expect("paid invoice");
    assert_eq!(view.vis_state, 0, "a paid invoice is not deleted");
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_in_a_status_the_tenant_did_not_map_says_so_in_run_history() -> anyhow::Result<()>
{
    // A tenant whose status table knows nothing: every order's status is unmapped.
    let app = TestApp::spawn_with(43, |c| c.tenants[0].mapping.status_map.clear()).await?;
    let placed = app.place(0..1, &mix(0.0)).await;
    assert_exactly_once(&app.settle(&placed).await?);
    let order = &placed[0].order;
    let status = app.sandbox.kentico.order(order.id).expect("order").status;
    let events = app
        .store
        .find_by_order_number(&app.tenant, &order.number)
        .await?;
    let mut notes = Vec::new();
    for e in &events {
        for step in app.store.run_history(e.job).await?.steps {
            if step.name == "transform" {
                notes.push(
                    step.detail["status"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    }
    assert!(
        notes
            .iter()
            .any(|n| n.contains(&status) && n.contains("left as it is")),
        "{notes:?}"
    );
    // The invoice was created and left a draft.
    let invoice = invoice_of(&app, order.guid);
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&app.sandbox.account_id, invoice)
        .expect("invoice");
    assert_eq!(view.v3_status, "draft");
    app.stop().await;
    Ok(())
}

async fn edit_lines(app: &TestApp, order_id: i64, lines: Vec<LineSpec>) -> anyhow::Result<()> {
    app.sandbox
        .kentico
        .edit_order(
            order_id,
            OrderEdit {
                lines: Some(lines),
                ..OrderEdit::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("edit: {e}"))
}

/// The last error of the tenant's dead letter for a Kentico order, once there is one.
async fn dead_letter_reason(app: &TestApp, order_id: i64) -> anyhow::Result<String> {
    let store = app.store.clone();
    let tenant = app.tenant.clone();
    wait_until(
        Duration::from_secs(60),
        "the order is sent to review",
        || async {
            store
                .dead_letters(Some(&tenant), 100)
                .await
                .is_ok_and(|d| d.iter().any(|e| e.object_id == order_id))
        },
    )
    .await?;
    Ok(store
        .dead_letters(Some(&tenant), 100)
        .await?
        .iter()
        .find(|e| e.object_id == order_id)
        .and_then(|e| e.last_error.clone())
        .unwrap_or_default())
}

/// Places paid orders until one can lose a unit; settles them and returns it.
async fn a_paid_order_that_can_shrink(
    app: &TestApp,
) -> anyhow::Result<(ferry_sim::kentico::SimOrder, Vec<LineSpec>)> {
    let placed = app.place(0..6, &mix(1.0)).await;
    assert_exactly_once(&app.settle(&placed).await?);
    placed
        .iter()
        .filter_map(|p| app.sandbox.kentico.order(p.order.id))
        .find_map(|o| o.one_unit_fewer().map(|lines| (o, lines)))
        .ok_or_else(|| anyhow::anyhow!("no placed order has a unit to spare"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_edited_down_gets_one_credit_note_for_the_difference() -> anyhow::Result<()> {
    let app = TestApp::spawn(45).await?;
    let (before, fewer) = a_paid_order_that_can_shrink(&app).await?;
    let invoice = invoice_of(&app, before.guid);
    edit_lines(&app, before.id, fewer).await?;
    let after = app.sandbox.kentico.order(before.id).expect("order");
    assert!(after.total < before.total, "the edit lowered the total");

    let account = app.sandbox.account_id.clone();
    wait_until(Duration::from_secs(60), "the edit is credited", || async {
        !app.sandbox.freshbooks.credit_notes(&account).is_empty()
    })
    .await?;
    // Delivered again: nothing more is written.
    app.settle(&[]).await?;
    let notes = app.sandbox.freshbooks.credit_notes(&account);
    assert_eq!(notes.len(), 1, "{notes:?}");
    let credited: rust_decimal::Decimal = notes[0].amount.amount.parse()?;
    assert_eq!(
        credited,
        before.total - after.total,
        "the credit is the difference"
    );
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&account, invoice)
        .expect("invoice");
    assert_eq!(
        view.amount, before.total,
        "the paid invoice is left as issued"
    );
    assert!(view.outstanding.is_zero());
    assert_eq!(view.customerid, notes[0].clientid);
    assert!(
        notes[0].notes.contains(&after.number) || notes[0].notes.contains("edited"),
        "the credit note says why: {}",
        notes[0].notes
    );

    // Cancelled afterwards: the rest is credited, not the invoice's full amount again.
    assert!(app.sandbox.kentico.cancel_order(before.id).await);
    wait_until(
        Duration::from_secs(60),
        "the cancellation is credited",
        || async { app.sandbox.freshbooks.credit_notes(&account).len() == 2 },
    )
    .await?;
    app.settle(&[]).await?;
    let notes = app.sandbox.freshbooks.credit_notes(&account);
    assert_eq!(notes.len(), 2, "{notes:?}");
    let total: rust_decimal::Decimal = notes
        .iter()
        .map(|n| n.amount.amount.parse::<rust_decimal::Decimal>())
        .sum::<Result<_, _>>()?;
    assert_eq!(total, before.total, "credited in all: what was invoiced");
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_edited_up_goes_to_review_naming_the_increase() -> anyhow::Result<()> {
    let app = TestApp::spawn(46).await?;
    let before = one_settled(&app, 1.0).await?;
    let mut more = before.line_specs();
    more[0].quantity += 1;
    edit_lines(&app, before.id, more).await?;
    let reason = dead_letter_reason(&app, before.id).await?;
    assert!(reason.contains("raises"), "{reason}");
    let account = app.sandbox.account_id.clone();
    assert!(app.sandbox.freshbooks.credit_notes(&account).is_empty());
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&account, invoice_of(&app, before.guid))
        .expect("invoice");
    assert_eq!(
        view.amount, before.total,
        "the paid invoice is left as issued"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_review_policy_a_paid_order_edited_goes_to_review() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(47, |c| {
        c.tenants[0].mapping.paid_edit = ferry_model::PaidChange::Review;
    })
    .await?;
    let (before, fewer) = a_paid_order_that_can_shrink(&app).await?;
    edit_lines(&app, before.id, fewer).await?;
    let reason = dead_letter_reason(&app, before.id).await?;
    assert!(
        reason.contains("review") && reason.contains("removed"),
        "{reason}"
    );
    let account = app.sandbox.account_id.clone();
    assert!(app.sandbox.freshbooks.credit_notes(&account).is_empty());
    app.stop().await;
    Ok(())
}

/// Places one unpaid order, moves it to `InProgress` (its invoice is sent), and cancels it once it is.
async fn cancel_a_sent_invoice(
    app: &TestApp,
) -> anyhow::Result<(u64, ferry_sim::kentico::SimOrder)> {
    let order = one_settled(app, 0.0).await?;
    let invoice = invoice_of(app, order.guid);
    assert!(
        app.sandbox
            .kentico
            .set_order_status(order.id, "InProgress")
            .await
    );
    let account = app.sandbox.account_id.clone();
    wait_until(Duration::from_secs(60), "the invoice is sent", || async {
        app.sandbox
            .freshbooks
            .invoice_view(&account, invoice)
            .is_some_and(|v| v.v3_status == "sent")
    })
    .await?;
    assert!(app.sandbox.kentico.cancel_order(order.id).await);
    Ok((invoice, order))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_order_with_a_sent_invoice_gets_a_credit_note_that_settles_it()
-> anyhow::Result<()> {
    let app = TestApp::spawn(48).await?;
    let (invoice, order) = cancel_a_sent_invoice(&app).await?;
    let account = app.sandbox.account_id.clone();
    wait_until(
        Duration::from_secs(60),
        "the sent invoice is credited and settled",
        || async {
            app.sandbox
                .freshbooks
                .invoice_view(&account, invoice)
                .is_some_and(|v| v.outstanding.is_zero())
        },
    )
    .await?;
    assert!(app.sandbox.kentico.cancel_order(order.id).await);
    app.settle(&[]).await?;
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&account, invoice)
        .expect("invoice");
    let notes = app.sandbox.freshbooks.credit_notes(&account);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].amount.amount, view.amount.to_string());
    assert_eq!(view.vis_state, 0, "a sent invoice is kept");
    let live: Vec<_> = view.payments.iter().filter(|p| p.vis_state == 0).collect();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0].kind, "Credit", "settled from the credit note");
    assert!(
        app.sandbox
            .freshbooks
            .credit_balance(&account, view.customerid, &view.currency_code)
            .is_zero(),
        "the credit is spent on the invoice"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_delete_policy_a_cancelled_sent_invoice_is_deleted() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(49, |c| {
        c.tenants[0].mapping.sent_cancellation = ferry_model::SentCancellation::Delete;
    })
    .await?;
    let (invoice, _) = cancel_a_sent_invoice(&app).await?;
    let account = app.sandbox.account_id.clone();
    wait_until(
        Duration::from_secs(60),
        "the sent invoice is deleted",
        || async {
            app.sandbox
                .freshbooks
                .invoice_view(&account, invoice)
                .is_some_and(|v| v.vis_state == 1)
        },
    )
    .await?;
    assert!(app.sandbox.freshbooks.credit_notes(&account).is_empty());
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_edit_reaches_the_unpaid_invoice() -> anyhow::Result<()> {
    let app = TestApp::spawn(50).await?;
    let order = one_settled(&app, 0.0).await?;
    let invoice = invoice_of(&app, order.guid);
    let billing = order.billing.clone().expect("a billing address");
    let account = app.sandbox.account_id.clone();
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&account, invoice)
        .expect("invoice");
    assert_eq!(
        view.address.street, billing.line1,
        "the invoice carries the billing address"
    );

    app.sandbox
        .kentico
        .edit_order(
            order.id,
            OrderEdit {
                billing_address: Some(ferry_sim::kentico::AddressSpec {
                    personal_name: String::new(),
                    line1: "1 Harbour Street".to_owned(),
                    line2: None,
                    city: "Portsmouth".to_owned(),
                    zip: "PO1 3AA".to_owned(),
                    country_code: billing.country_code.clone(),
                    state_code: (!billing.state_code.is_empty())
                        .then(|| billing.state_code.clone()),
                }),
                ..OrderEdit::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("edit: {e}"))?;
    wait_until(
        Duration::from_secs(60),
        "the invoice has the new address",
        || async {
            app.sandbox
                .freshbooks
                .invoice_view(&account, invoice)
                .is_some_and(|v| {
                    v.address.street == "1 Harbour Street" && v.address.city == "Portsmouth"
                })
        },
    )
    .await?;
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&account, invoice)
        .expect("invoice");
    assert_eq!(view.address.code, "PO1 3AA");
    assert_eq!(view.amount, order.total, "the lines are untouched");
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_paid_order_is_credited() -> anyhow::Result<()> {
    let app = TestApp::spawn(51).await?;
    let placed = app.place(0..1, &mix(1.0)).await;
    assert_exactly_once(&app.settle(&placed).await?);
    let order = &placed[0].order;
    let invoice = invoice_of(&app, order.guid);
    assert!(
        app.sandbox
            .kentico
            .set_order_status(order.id, "Returned")
            .await
    );
    let account = app.sandbox.account_id.clone();
    wait_until(
        Duration::from_secs(60),
        "the returned order is credited",
        || async { app.sandbox.freshbooks.credit_notes(&account).len() == 1 },
    )
    .await?;
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&account, invoice)
        .expect("invoice");
    let notes = app.sandbox.freshbooks.credit_notes(&account);
    assert_eq!(notes[0].amount.amount, view.amount.to_string());
    app.stop().await;
    Ok(())
}
