//! Payments recorded in FreshBooks reach Kentico (the other direction): a payment a person (or a bank import)
//! records against an invoice Ferry created marks the Kentico order paid with the tenant's mapped status, once,
//! while FreshBooks' callbacks are lost, duplicated and reordered; and nothing echoes — the payments Ferry posts for
//! orders paid in Kentico, and the status changes Ferry writes to Kentico, start no further writes on either side.
//! Counted from the simulators: Kentico's accepted `PUT`s and FreshBooks' payments and write requests.
//!
//! Beside these: `policies` (a partial payment and a refunded or deleted payment, by the tenant's
//! `[tenants.payments]` policy or by none) and `poll_fallback` (no callback ever arrives, and the poll alone marks
//! the orders paid).

mod policies;
mod poll_fallback;

use ferry::sandbox::audit::Placed;
use ferry_extract::writeback::PaymentsConfig;
use ferry_sim::freshbooks::CallbackFaults;
use ferry_sim::kentico::OrderMix;
use ferry_tests::{TestApp, assert_exactly_once, wait_until};
use std::collections::BTreeMap;
use std::time::Duration;

/// A host whose tenant writes payments back, with FreshBooks callbacks pointed at it. The host's port is picked
/// first, because the callback URL is part of the tenant's configuration.
async fn writeback_app(seed: u64) -> anyhow::Result<TestApp> {
    writeback_app_with(seed, |_| {}).await
}

/// [`writeback_app`] with `policy` applied to the tenant's `[tenants.payments]` last.
async fn writeback_app_with(
    seed: u64,
    policy: impl Fn(&mut PaymentsConfig) + Send,
) -> anyhow::Result<TestApp> {
    let port = ferry_tests::process::free_port()?;
    TestApp::spawn_with(seed, move |c| {
        c.server.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        for t in &mut c.tenants {
            t.payments.enabled = true;
            t.payments.callback_url =
                Some(format!("http://127.0.0.1:{port}/hooks/freshbooks/{}", t.id));
            policy(&mut t.payments);
        }
    })
    .await
}

/// Waits until FreshBooks shows the account's four callbacks verified.
async fn callbacks_verified(app: &TestApp) -> anyhow::Result<()> {
    let fb = &app.sandbox.freshbooks;
    let account = app.sandbox.account_id.clone();
    wait_until(Duration::from_secs(20), "callbacks verified", || {
        let cbs = fb.callbacks(&account);
        async move { cbs.len() == 4 && cbs.iter().all(|c| c.verified) }
    })
    .await
}

/// Calls the FreshBooks payments API the way a person would, with the owner's token: `method` on
/// `payments/payments[/<id>]` with `body`; the payment in the reply.
async fn as_owner(
    app: &TestApp,
    method: reqwest::Method,
    id: Option<u64>,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let fb = &app.sandbox.freshbooks;
    let tokens = fb
        .owner_tokens(&app.sandbox.account_id)
        .ok_or_else(|| anyhow::anyhow!("no owner"))?;
    let path = id.map_or_else(String::new, |id| format!("/{id}"));
    let reply: serde_json::Value = reqwest::Client::new()
        .request(
            method,
            format!(
                "{}/accounting/account/{}/payments/payments{path}",
                fb.base_url(),
                app.sandbox.account_id
            ),
        )
        .bearer_auth(tokens.access_token)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(reply["response"]["result"]["payment"].clone())
}

/// Records a payment the way a person would (a bank import); its id.
async fn record_payment(app: &TestApp, invoice_id: u64, amount: &str) -> anyhow::Result<u64> {
    let body = serde_json::json!({"payment": {"invoiceid": invoice_id,
        "amount": {"amount": amount}, "type": "Bank Transfer", "note": "bank import"}});
    let payment = as_owner(app, reqwest::Method::POST, None, body).await?;
    payment["id"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no payment id in {payment}"))
}

/// The invoice Ferry made for a placed order, and its amount, as FreshBooks has them.
fn invoice_of(app: &TestApp, placed: &Placed) -> (u64, rust_decimal::Decimal) {
    let invoice = app.sandbox.invoices_by_order()[&placed.order.guid.to_string()][0];
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&app.sandbox.account_id, invoice)
        .expect("invoice");
    (invoice, view.amount)
}

/// Waits until the host has no event waiting or running (its own workers run them).
async fn quiet(app: &TestApp) -> anyhow::Result<()> {
    use ferry_store::EventState;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut busy = false;
        for state in [
            EventState::Queued,
            EventState::Running,
            EventState::Retrying,
        ] {
            busy |= !app
                .store
                .events_page(&app.tenant, Some(state), None, 1)
                .await?
                .is_empty();
        }
        if !busy {
            return Ok(());
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "events still running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Unpaid orders in the business currency, none invalid: each gets an invoice a person then pays in FreshBooks.
const UNPAID: OrderMix = OrderMix {
    invalid: 0.0,
    foreign_currency: 0.0,
    paid: 0.0,
};

/// Waits until every callback and webhook is delivered and every event has run: what FreshBooks and Kentico said so
/// far has been acted on.
async fn settled(app: &TestApp) -> anyhow::Result<()> {
    app.sandbox
        .freshbooks
        .wait_callbacks_idle(Duration::from_secs(10))
        .await;
    app.sandbox
        .kentico
        .wait_webhooks_idle(Duration::from_secs(10))
        .await;
    quiet(app).await
}

/// Waits until Kentico shows order `id` paid or not with `status`, then until everything has [`settled`].
async fn order_becomes(app: &TestApp, id: i64, is_paid: bool, status: &str) -> anyhow::Result<()> {
    let kentico = app.sandbox.kentico.clone();
    let what = format!("order {id} paid={is_paid} {status}");
    wait_until(Duration::from_secs(30), &what, || {
        let now = kentico
            .order(id)
            .is_some_and(|o| o.is_paid == is_paid && o.status == status);
        async move { now }
    })
    .await?;
    settled(app).await
}

/// Kentico `PUT`s that changed an order, by order id.
fn kentico_writes(app: &TestApp) -> BTreeMap<i64, usize> {
    let mut by_order = BTreeMap::new();
    for w in app.sandbox.kentico.rest_writes() {
        *by_order.entry(w.id).or_insert(0) += 1;
    }
    by_order
}

/// FreshBooks requests that write (anything but GET), in all.
fn freshbooks_writes(app: &TestApp) -> u64 {
    app.sandbox
        .freshbooks
        .request_counts()
        .iter()
        .filter(|(k, _)| !k.starts_with("GET") && !k.contains("oauth"))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_recorded_in_freshbooks_marks_the_kentico_order_paid_once_under_callback_faults()
-> anyhow::Result<()> {
    let app = writeback_app(61).await?;
    callbacks_verified(&app).await?;
    let unpaid = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid: 0.0,
    };
    let placed = app.place(0..6, &unpaid).await;
    assert_exactly_once(&app.settle(&placed).await?);
    // From now on FreshBooks loses a third of its callbacks, sends half of the rest twice, and delays each by up to
    // 300 ms, so they arrive out of order; the poll (every second here) finds what was lost.
    app.sandbox.freshbooks.set_callback_faults(CallbackFaults {
        drop: 0.34,
        duplicate: 0.5,
        max_delay_ms: 300,
        ..CallbackFaults::default()
    });
    let mut payments = Vec::new();
    for (i, p) in placed.iter().enumerate() {
        let (invoice, amount) = invoice_of(&app, p);
        if i % 2 == 0 {
            // Paid in two parts: a deposit first, the rest later.
            let half = (amount / rust_decimal::Decimal::TWO).round_dp(2);
            payments.push(record_payment(&app, invoice, &half.to_string()).await?);
            payments.push(record_payment(&app, invoice, &(amount - half).to_string()).await?);
        } else {
            payments.push(record_payment(&app, invoice, &amount.to_string()).await?);
        }
    }
    let kentico = app.sandbox.kentico.clone();
    let ids: Vec<i64> = placed.iter().map(|p| p.order.id).collect();
    wait_until(Duration::from_secs(30), "orders paid in kentico", || {
        let all = ids.iter().all(|id| {
            kentico
                .order(*id)
                .is_some_and(|o| o.is_paid && o.status == "PaymentReceived")
        });
        async move { all }
    })
    .await?;
    app.sandbox
        .freshbooks
        .wait_callbacks_idle(Duration::from_secs(10))
        .await;
    quiet(&app).await?;

    // Each order written once, whatever FreshBooks delivered twice, late or never.
    let writes = kentico_writes(&app);
    for id in &ids {
        assert_eq!(
            writes.get(id),
            Some(&1),
            "order {id} written once: {writes:?}"
        );
    }
    assert_eq!(writes.len(), ids.len(), "no other order written");
    let stats = app.sandbox.freshbooks.callback_stats();
    assert!(
        stats.dropped > 0 && stats.duplicated > 0,
        "faults happened: {stats:?}"
    );
    // Ferry posted no payment of its own for orders that were paid in FreshBooks.
    assert_eq!(
        app.sandbox
            .freshbooks
            .payments(&app.sandbox.account_id)
            .len(),
        payments.len()
    );

    // The run history and the admin API find the write-back by the FreshBooks payment id.
    let events = app
        .store
        .find_by_object(&app.tenant, "freshbooks.payment", payments[1] as i64)
        .await?;
    assert!(!events.is_empty(), "events of payment {}", payments[1]);
    assert!(events.iter().all(|e| e.kind.starts_with("payment.")));
    assert_eq!(
        events[0].order_number.as_deref(),
        Some(placed[0].order.number.as_str())
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_echoes_between_kentico_and_freshbooks() -> anyhow::Result<()> {
    let app = writeback_app(62).await?;
    callbacks_verified(&app).await?;
    app.sandbox.freshbooks.set_callback_faults(CallbackFaults {
        duplicate: 0.5,
        max_delay_ms: 200,
        ..CallbackFaults::default()
    });
    // Both directions at once: orders paid at checkout (Ferry posts their payments, which FreshBooks reports back)
    // and unpaid ones a person then pays in FreshBooks (Ferry writes Kentico, which reports the change back).
    let paid = app
        .place(
            0..4,
            &OrderMix {
                invalid: 0.0,
                foreign_currency: 0.0,
                paid: 1.0,
            },
        )
        .await;
    let unpaid = app
        .place(
            4..8,
            &OrderMix {
                invalid: 0.0,
                foreign_currency: 0.0,
                paid: 0.0,
            },
        )
        .await;
    let all: Vec<_> = paid.iter().chain(&unpaid).cloned().collect();
    assert_exactly_once(&app.settle(&all).await?);
    for p in &unpaid {
        let (invoice, amount) = invoice_of(&app, p);
        record_payment(&app, invoice, &amount.to_string()).await?;
    }
    let kentico = app.sandbox.kentico.clone();
    let ids: Vec<i64> = unpaid.iter().map(|p| p.order.id).collect();
    wait_until(Duration::from_secs(30), "orders paid in kentico", || {
        let done = ids
            .iter()
            .all(|id| kentico.order(*id).is_some_and(|o| o.is_paid));
        async move { done }
    })
    .await?;

    // Let both directions run on: every callback and webhook delivered, every event run, several polls.
    let settle = |app: &TestApp| {
        let fb = app.sandbox.freshbooks.clone();
        let k = app.sandbox.kentico.clone();
        async move {
            fb.wait_callbacks_idle(Duration::from_secs(10)).await;
            k.wait_webhooks_idle(Duration::from_secs(10)).await;
        }
    };
    settle(&app).await;
    quiet(&app).await?;
    let kentico_before = app.sandbox.kentico.rest_writes().len();
    let freshbooks_before = freshbooks_writes(&app);
    tokio::time::sleep(Duration::from_secs(3)).await;
    settle(&app).await;
    quiet(&app).await?;

    // Kentico: one write per order paid in FreshBooks, none for orders Kentico had paid itself, none since.
    let writes = kentico_writes(&app);
    assert_eq!(writes.len(), unpaid.len(), "{writes:?}");
    assert!(writes.values().all(|n| *n == 1), "{writes:?}");
    assert_eq!(app.sandbox.kentico.rest_writes().len(), kentico_before);
    // FreshBooks: one payment per order (Ferry's for the paid ones, the person's for the others), nothing since.
    assert_eq!(
        app.sandbox
            .freshbooks
            .payments(&app.sandbox.account_id)
            .len(),
        all.len()
    );
    assert_eq!(freshbooks_writes(&app), freshbooks_before);
    // The orders paid at checkout keep their status: the echo of Ferry's payment changed nothing.
    for p in &paid {
        let o = app.sandbox.kentico.order(p.order.id).expect("order");
        assert!(o.is_paid);
    }
    assert!(app.sandbox.freshbooks.callback_stats().delivered > 0);
    Ok(())
}
