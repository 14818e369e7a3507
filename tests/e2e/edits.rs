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
    let mut lines: Vec<LineSpec> = before
        .lines
        .iter()
        .filter(|l| l.parent_guid.is_none() && l.bundle_guid.is_none())
        .map(|l| LineSpec {
            sku_id: l.sku_id,
            quantity: i32::try_from(l.quantity).unwrap_or(1),
        })
        .collect();
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
        c.tenants[0].mapping.paid_cancellation = ferry_model::PaidCancellation::Review;
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
