//! The books audit (issue 21) over real HTTP: orders synced into the FreshBooks simulator, then changed by hand the
//! way an accountant would (through FreshBooks' own API, with the owner's token): an invoice deleted, an invoice's
//! amount edited, a payment recorded twice; and a ledger row lost in Ferry's store, and an order whose webhook never
//! came. The audit (`POST /admin/v1/tenants/{id}/audits`) must find exactly these, classified, with both sides'
//! values; a repair fixes the repairable ones once, through the pipeline, and never touches what a person did.

use ferry_sim::kentico::OrderMix;
use ferry_tests::TestApp;
use ferry_tests::admin::assert_error;
use ferry_tests::by_hand::{delete_invoice, freshbooks};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const SHOP: &str = "shop";
const OTHER: &str = "other";

/// Differences by class, with the order number each concerns, from an audit report.
fn by_class(report: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in report["differences"].as_array().expect("differences") {
        out.entry(d["class"].as_str().unwrap_or_default().to_owned())
            .or_default()
            .push(d["order_number"].as_str().unwrap_or_default().to_owned());
    }
    out
}

async fn audit(app: &TestApp, token: &str) -> Value {
    let (status, report) = app
        .post_json(
            &format!("/tenants/{SHOP}/audits"),
            token,
            &json!({ "since": "2000-01-01" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_finds_exactly_the_changes_made_by_hand_and_repairs_the_repairable_once() {
    let app = TestApp::builder()
        .with_tenants(&[SHOP, OTHER])
        .with_admin_tokens()
        .with_config(|c| c.worker.reconcile_every_secs = 0)
        .spawn()
        .await
        .expect("start the host");
    let token = app.token(SHOP).to_owned();
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.3,
        paid: 0.6,
    };
    let placed = app.place_and_settle(0..12, &mix).await;

    // A run that went well: every order checked, nothing differs, and the cost is a few list pages.
    let clean = audit(&app, &token).await;
    assert_eq!(clean["orders_checked"], 12, "{clean}");
    assert_eq!(clean["differences"], json!([]), "{clean:#}");
    assert!(clean["freshbooks_calls"].as_u64().unwrap() <= 6, "{clean}");
    // Another tenant's token may not audit this one.
    let (status, body) = app
        .post_json(
            &format!("/tenants/{SHOP}/audits"),
            app.token(OTHER),
            &json!({}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");

    let invoices = app.sandbox.invoices_by_order();
    let invoice_of = |i: usize| invoices[&placed[i].order.guid.to_string()][0];
    let unpaid: Vec<usize> = (0..placed.len()).filter(|i| !placed[*i].paid).collect();
    let paid: Vec<usize> = (0..placed.len()).filter(|i| placed[*i].paid).collect();
    assert!(unpaid.len() >= 2 && paid.len() >= 2, "the seed places both");
    let (deleted, edited, paid_twice, lost) = (unpaid[0], unpaid[1], paid[0], paid[1]);
    let number = |i: usize| placed[i].order.number.clone();

    // An accountant deletes one invoice and edits another's first line.
    delete_invoice(&app, invoice_of(deleted)).await;
    let edited_id = invoice_of(edited);
    let lines = app
        .sandbox
        .freshbooks
        .invoice_view(&app.sandbox.account_id, edited_id)
        .expect("the invoice")
        .lines
        .len();
    let mut new_lines: Vec<Value> = (1..=lines).map(|n| json!({ "lineid": n })).collect();
    new_lines[0]["qty"] = json!("7");
    freshbooks(
        &app,
        reqwest::Method::PUT,
        &format!("invoices/invoices/{edited_id}"),
        json!({"invoice": {"lines": new_lines}}),
    )
    .await;
    // A payment recorded a second time, marker and all.
    let account = &app.sandbox.account_id;
    let ferry_payment = app
        .sandbox
        .freshbooks
        .payments(account)
        .into_iter()
        .find(|p| p.invoiceid == invoice_of(paid_twice) && p.note.contains("ferry:order:"))
        .expect("ferry's payment");
    freshbooks(
        &app,
        reqwest::Method::POST,
        "payments/payments",
        json!({"payment": {
            "invoiceid": ferry_payment.invoiceid,
            "amount": {"amount": ferry_payment.amount.amount, "code": ferry_payment.amount.code},
            "type": ferry_payment.kind, "note": ferry_payment.note,
        }}),
    )
    .await;
    // Ferry's store loses the ledger row of another order's invoice.
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.config.store.path.display()))
        .await
        .expect("open the store file");
    let key = format!("{SHOP}:invoice:{}", placed[lost].order.guid);
    let removed = sqlx::query("DELETE FROM idempotency WHERE tenant = $1 AND key = $2")
        .bind(SHOP)
        .bind(&key)
        .execute(&db)
        .await
        .expect("delete the ledger row")
        .rows_affected();
    assert_eq!(removed, 1, "{key}");
    // And an order whose webhook never came (reconciliation is off).
    app.sandbox.kentico.skip_webhooks(1.0);
    let unsent = app.sandbox.place(12, &mix).await;

    let found = audit(&app, &token).await;
    assert_eq!(found["orders_checked"], 13, "{found}");
    let expected: BTreeMap<String, Vec<String>> = [
        ("deleted_by_hand", number(deleted)),
        ("amount_changed", number(edited)),
        ("payment_extra", number(paid_twice)),
        ("ledger_missing", number(lost)),
        ("missing", unsent.order.number.clone()),
    ]
    .into_iter()
    .map(|(c, n)| (c.to_owned(), vec![n]))
    .collect();
    assert_eq!(by_class(&found), expected, "{found:#}");
    let diffs = found["differences"].as_array().unwrap();
    let of = |class: &str| diffs.iter().find(|d| d["class"] == class).unwrap();
    // Both sides' values, and a repair only where Ferry may make one.
    assert!(
        of("amount_changed")["actual"]
            .as_str()
            .unwrap()
            .contains("7 ×"),
        "{found:#}"
    );
    assert_eq!(of("amount_changed")["repair"], Value::Null);
    assert_eq!(of("deleted_by_hand")["repair"], Value::Null);
    assert_eq!(of("payment_extra")["repair"], Value::Null);
    assert_eq!(of("ledger_missing")["repair"]["action"], "record_ledger");
    assert_eq!(of("missing")["repair"]["action"], "resync");
    // The list shows the counts per class.
    let (_, list) = app.get(&format!("/tenants/{SHOP}/audits"), &token).await;
    assert_eq!(list[0]["id"], found["id"], "{list}");
    assert_eq!(list[0]["counts"]["deleted_by_hand"], 1, "{list}");
    assert_eq!(list[0]["counts"]["orphan"], 0, "{list}");

    let repair = format!("/tenants/{SHOP}/audits/{}/repair", found["id"]);
    let (status, repaired) = app.post(&repair, &token).await;
    assert_eq!(status, StatusCode::OK, "{repaired}");
    assert_eq!(repaired["ledger_entries"], 1, "{repaired}");
    assert_eq!(repaired["orders_resynced"], 1, "{repaired}");
    assert_eq!(repaired["left_to_a_person"], 3, "{repaired}");
    let (status, body) = app.post(&repair, &token).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    app.sandbox
        .wait_settled(
            &app.store,
            &app.tenant,
            std::slice::from_ref(&unsent),
            Duration::from_secs(60),
        )
        .await
        .expect("read the store");

    // Repaired once: the lost ledger row and the missing invoice are gone from the next audit; what a person did is
    // still reported, untouched.
    let after = audit(&app, &token).await;
    let left: BTreeMap<String, Vec<String>> = expected
        .into_iter()
        .filter(|(c, _)| c != "ledger_missing" && c != "missing")
        .collect();
    assert_eq!(by_class(&after), left, "{after:#}");
    let invoices = app.sandbox.invoices_by_order();
    for p in [&placed[lost], &unsent] {
        assert_eq!(
            invoices[&p.order.guid.to_string()].len(),
            1,
            "one live invoice for order {}",
            p.order.number
        );
    }
    assert!(
        !invoices.contains_key(&placed[deleted].order.guid.to_string()),
        "the deleted invoice stays deleted"
    );
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(account, edited_id)
        .unwrap();
    assert_eq!(
        view.lines[0].qty, "7",
        "the edited line stays as the person left it"
    );
    app.stop().await;
}

/// An audit that finds differences tells the alert channels once (a webhook signed like Standard Webhooks, received
/// by the test); the same differences found again send nothing more, and a clean audit sends one recovery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_with_differences_raises_one_alert_and_a_clean_one_clears_it() {
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let sink = ferry_tests::receivers::WebhookSink::start(Some(SECRET)).await;
    let url = sink.url();
    let app = TestApp::builder()
        .with_tenants(&[SHOP])
        .with_admin_tokens()
        .with_config(move |c| {
            c.worker.reconcile_every_secs = 0;
            c.alerts.window_secs = 1;
            c.alerts.channels = vec![ferry_alert::ChannelConfig::Webhook {
                url,
                secret: secrecy::SecretString::from(SECRET),
            }];
        })
        .spawn()
        .await
        .expect("start the host");
    let token = app.token(SHOP).to_owned();
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid: 0.0,
    };
    let placed = app.place_and_settle(0..3, &mix).await;
    let about_audit = |kind: &str| {
        sink.bodies()
            .iter()
            .filter(|b| b["type"] == kind && b["data"]["condition"] == "audit.differences")
            .count()
    };
    assert_eq!(audit(&app, &token).await["differences"], json!([]));

    let invoices = app.sandbox.invoices_by_order();
    let deleted = invoices[&placed[0].order.guid.to_string()][0];
    delete_invoice(&app, deleted).await;
    let report = audit(&app, &token).await;
    assert_eq!(by_class(&report).len(), 1, "{report:#}");
    ferry_tests::wait_until(Duration::from_secs(20), "the audit alert", || async {
        about_audit("alert.raised") == 1
    })
    .await
    .unwrap();
    audit(&app, &token).await;

    // The invoice restored by the accountant: clean again, one recovery.
    freshbooks(
        &app,
        reqwest::Method::PUT,
        &format!("invoices/invoices/{deleted}"),
        json!({"invoice": {"vis_state": 0}}),
    )
    .await;
    assert_eq!(audit(&app, &token).await["differences"], json!([]));
    ferry_tests::wait_until(Duration::from_secs(20), "the audit recovery", || async {
        about_audit("alert.cleared") == 1
    })
    .await
    .unwrap();
    assert_eq!(
        about_audit("alert.raised"),
        1,
        "the second audit's same differences sent nothing"
    );
    app.stop().await;
}

/// A tenant whose policy says Ferry's copy wins (`manual_changes = "overwrite"`): the audit offers a repair for an
/// invoice deleted by hand and for one edited by hand, and the repair restores the deleted one (same id) and brings
/// the edited one's lines back to the order, once. A second audit is clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_overwrite_policy_a_repair_restores_deleted_and_undoes_edited_invoices() {
    let app = TestApp::builder()
        .with_tenants(&[SHOP])
        .with_admin_tokens()
        .with_config(|c| {
            c.worker.reconcile_every_secs = 0;
            c.tenants[0].audit.manual_changes = ferry_model::ManualChanges::Overwrite;
        })
        .spawn()
        .await
        .expect("start the host");
    let token = app.token(SHOP).to_owned();
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.3,
        paid: 0.0,
    };
    let placed = app.place_and_settle(0..4, &mix).await;
    let invoices = app.sandbox.invoices_by_order();
    let invoice_of = |i: usize| invoices[&placed[i].order.guid.to_string()][0];
    let (deleted, edited) = (invoice_of(0), invoice_of(1));
    let account = &app.sandbox.account_id;
    let before = app
        .sandbox
        .freshbooks
        .invoice_view(account, edited)
        .expect("the invoice");

    delete_invoice(&app, deleted).await;
    let mut new_lines: Vec<Value> = (1..=before.lines.len())
        .map(|n| json!({ "lineid": n }))
        .collect();
    new_lines[0]["qty"] = json!("7");
    freshbooks(
        &app,
        reqwest::Method::PUT,
        &format!("invoices/invoices/{edited}"),
        json!({"invoice": {"lines": new_lines}}),
    )
    .await;

    let found = audit(&app, &token).await;
    let diffs = found["differences"].as_array().expect("differences");
    assert_eq!(diffs.len(), 2, "{found:#}");
    let of = |class: &str| diffs.iter().find(|d| d["class"] == class).unwrap();
    assert_eq!(
        of("deleted_by_hand")["repair"],
        json!({"action": "overwrite", "invoice": deleted, "restore": true}),
        "{found:#}"
    );
    assert_eq!(
        of("amount_changed")["repair"],
        json!({"action": "overwrite", "invoice": edited, "restore": false}),
        "{found:#}"
    );

    let repair = format!("/tenants/{SHOP}/audits/{}/repair", found["id"]);
    let (status, repaired) = app.post(&repair, &token).await;
    assert_eq!(status, StatusCode::OK, "{repaired}");
    assert_eq!(repaired["invoices_overwritten"], 2, "{repaired}");
    assert_eq!(repaired["orders_resynced"], 2, "{repaired}");
    assert_eq!(repaired["left_to_a_person"], 0, "{repaired}");
    let fb = &app.sandbox.freshbooks;
    ferry_tests::wait_until(Duration::from_secs(60), "the edit undone", || async {
        fb.invoice_view(account, edited)
            .is_some_and(|v| v.lines[0].qty == before.lines[0].qty)
    })
    .await
    .unwrap();

    // The deleted invoice is live again under its own id and number, one invoice per order, and the books agree.
    let restored = fb.invoice_view(account, deleted).expect("the invoice");
    assert_eq!(restored.vis_state, 0, "restored");
    let invoices = app.sandbox.invoices_by_order();
    for (n, p) in placed.iter().enumerate() {
        assert_eq!(
            invoices[&p.order.guid.to_string()],
            vec![invoice_of(n)],
            "order {} keeps its one invoice",
            p.order.number
        );
    }
    let after = fb.invoice_view(account, edited).expect("the invoice");
    assert_eq!(
        after.amount, before.amount,
        "the edited invoice bills the order again"
    );
    let clean = audit(&app, &token).await;
    assert_eq!(clean["differences"], json!([]), "{clean:#}");
    app.stop().await;
}

/// A tenant with `[tenants.audit] every_hours` is audited by the host on its own: the schedule looks at start-up,
/// finds no audit yet and runs one over the tenant's window, stored like any other report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_tenant_is_audited_at_start_up_without_being_asked() {
    let app = TestApp::builder()
        .with_tenants(&[SHOP, OTHER])
        .with_admin_tokens()
        .with_config(|c| {
            c.worker.reconcile_every_secs = 0;
            c.tenants[0].audit.every_hours = 24;
        })
        .spawn()
        .await
        .expect("start the host");
    let scheduled = app.tenant.clone();
    ferry_tests::wait_until(Duration::from_secs(30), "the scheduled audit", || async {
        app.store
            .audits(&scheduled, 10)
            .await
            .is_ok_and(|r| r.len() == 1)
    })
    .await
    .unwrap();
    let report = &app.store.audits(&scheduled, 10).await.unwrap()[0];
    let window = report.finished_at - report.since;
    assert!(
        (window - time::Duration::days(7)).abs() < time::Duration::minutes(5),
        "the default window of 7 days: {window}"
    );
    let unscheduled = ferry_model::TenantId::parse(OTHER).unwrap();
    assert!(
        app.store.audits(&unscheduled, 10).await.unwrap().is_empty(),
        "a tenant without a schedule is audited only when asked"
    );
    app.stop().await;
}
