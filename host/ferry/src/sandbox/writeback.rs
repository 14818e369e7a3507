//! The demo's other direction: once the orders are invoiced, a person records bank payments in FreshBooks for some
//! unpaid invoices while FreshBooks loses, repeats and reorders its callbacks; Ferry must mark exactly those Kentico
//! orders paid, each with one write, and nothing must echo. Counted from the simulators: the Kentico orders' paid
//! state and the `PUT`s Kentico accepted, FreshBooks' payments.

use crate::sandbox::Sandbox;
use crate::sandbox::audit::Placed;
use ferry_sim::freshbooks::CallbackFaults;
use std::fmt;
use std::time::{Duration, Instant};

/// Unpaid orders the demo pays in FreshBooks.
const TO_PAY: usize = 5;

/// What the write-back phase did, counted from the simulators.
#[derive(Debug, Default, Clone)]
pub struct WritebackReport {
    /// Payments recorded in FreshBooks by hand (one per order).
    pub recorded: usize,
    /// Of those orders, how many Kentico shows paid with the mapped status.
    pub written_back: usize,
    /// `PUT`s Kentico accepted (one per order written back when nothing echoes).
    pub kentico_writes: usize,
    /// Callbacks FreshBooks lost and sent twice on purpose.
    pub dropped: u64,
    /// Callbacks sent twice.
    pub duplicated: u64,
    /// Why the phase could not run, if it could not.
    pub skipped: Option<String>,
}

impl WritebackReport {
    /// Every payment written back, each order with one write.
    pub fn is_clean(&self) -> bool {
        self.skipped.is_none()
            && self.written_back == self.recorded
            && self.kentico_writes == self.recorded
    }
}

impl fmt::Display for WritebackReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(why) = &self.skipped {
            return write!(f, "not run ({why})");
        }
        write!(
            f,
            "{} of {} orders paid in FreshBooks marked paid in Kentico, {} Kentico writes ({} callbacks lost, {} sent twice)",
            self.written_back, self.recorded, self.kentico_writes, self.dropped, self.duplicated
        )
    }
}

/// Records a bank payment in FreshBooks for up to [`TO_PAY`] unpaid, invoiced, live orders and waits (up to
/// `timeout`) until Kentico shows them paid with `paid_status`.
pub async fn pay_in_freshbooks(
    sandbox: &Sandbox,
    placed: &[Placed],
    paid_status: &str,
    timeout: Duration,
) -> WritebackReport {
    let mut report = WritebackReport::default();
    let fb = &sandbox.freshbooks;
    let account = &sandbox.account_id;
    fb.set_callback_faults(CallbackFaults {
        drop: 0.2,
        duplicate: 0.3,
        max_delay_ms: 500,
        ..CallbackFaults::default()
    });
    let Some(tokens) = fb.owner_tokens(account) else {
        report.skipped = Some("no FreshBooks owner".into());
        return report;
    };
    let writes_before = sandbox.kentico.rest_writes().len();
    let invoices = sandbox.invoices_by_order();
    let http = reqwest::Client::new();
    let mut paid_orders = Vec::new();
    for p in placed {
        if paid_orders.len() == TO_PAY {
            break;
        }
        if p.paid || p.cancelled || p.order.defect.is_some() {
            continue;
        }
        let Some(&[invoice]) = invoices.get(&p.order.guid.to_string()).map(Vec::as_slice) else {
            continue;
        };
        let Some(view) = fb.invoice_view(account, invoice) else {
            continue;
        };
        if view.outstanding.is_zero() {
            continue;
        }
        let body = serde_json::json!({"payment": {"invoiceid": invoice,
            "amount": {"amount": view.outstanding.to_string()}, "type": "Bank Transfer",
            "note": "bank import"}});
        // FreshBooks' own fault injection answers some calls with 503: a person tries again.
        for _ in 0..20 {
            let sent = http
                .post(format!(
                    "{}/accounting/account/{account}/payments/payments",
                    fb.base_url()
                ))
                .bearer_auth(&tokens.access_token)
                .json(&body)
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success())
                || fb
                    .invoice_view(account, invoice)
                    .is_some_and(|v| v.outstanding.is_zero())
            {
                paid_orders.push(p.order.id);
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    report.recorded = paid_orders.len();
    let deadline = Instant::now() + timeout;
    loop {
        report.written_back = paid_orders
            .iter()
            .filter(|id| {
                sandbox
                    .kentico
                    .order(**id)
                    .is_some_and(|o| o.is_paid && o.status.eq_ignore_ascii_case(paid_status))
            })
            .count();
        if report.written_back == report.recorded || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Let late duplicates and the orders' own webhooks run out before counting writes.
    fb.wait_callbacks_idle(Duration::from_secs(10)).await;
    sandbox
        .kentico
        .wait_webhooks_idle(Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    report.kentico_writes = sandbox.kentico.rest_writes().len() - writes_before;
    let stats = fb.callback_stats();
    report.dropped = stats.dropped;
    report.duplicated = stats.duplicated;
    report
}
