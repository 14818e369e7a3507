//! Counting what reached FreshBooks against what was placed in Kentico: the demo's summary and the end-to-end
//! tests' proof of "nothing lost, nothing duplicated". It reads the FreshBooks simulator's records and the store,
//! never Ferry's own claims about what it did.

use super::Sandbox;
use ferry_model::TenantId;
use ferry_sim::kentico::{OrderKinds, PlacedOrder};
use ferry_store::{EventState, Store};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// An order placed in the Kentico simulator, and whether it was placed paid.
#[derive(Debug, Clone)]
pub struct Placed {
    /// What the simulator created.
    pub order: PlacedOrder,
    /// Placed already paid (FreshBooks must get one payment).
    pub paid: bool,
    /// Edited right after checkout (items, quantities, addresses).
    pub edited: bool,
    /// Cancelled right after checkout.
    pub cancelled: bool,
}

/// What happened to a batch of placed orders.
#[derive(Debug, Default, Clone)]
pub struct Audit {
    /// Orders placed in Kentico.
    pub placed: usize,
    /// Of those, placed in a currency other than the FreshBooks business currency.
    pub foreign_currency: usize,
    /// Of those, made invalid on purpose (they must end in the dead-letter queue).
    pub invalid: usize,
    /// Valid orders with an invoice.
    pub invoiced: usize,
    /// Invoices beyond the first for the same order.
    pub duplicate_invoices: usize,
    /// Clients beyond the first for the same customer email.
    pub duplicate_clients: usize,
    /// Payments beyond the first for the same invoice.
    pub duplicate_payments: usize,
    /// Items beyond the first for the same SKU, and taxes beyond the first for the same name.
    pub duplicate_items_and_taxes: usize,
    /// Valid orders with no invoice, paid orders with no payment, invalid orders not dead-lettered.
    pub missing: Vec<String>,
    /// Invalid orders that reached FreshBooks anyway.
    pub leaked_invalid: Vec<String>,
    /// Dead-lettered orders (Kentico order number) with the reason Ferry gave.
    pub dead_lettered: BTreeMap<String, String>,
    /// Active clients in FreshBooks.
    pub clients: usize,
    /// Items in FreshBooks (created for SKUs FreshBooks did not know).
    pub items: usize,
    /// Active payments in FreshBooks.
    pub payments: usize,
    /// Invoices whose amount and tax equal their Kentico order's to the cent (in the order currency; for an order
    /// converted into the business currency, whose amount equals its lines and tax converted by the documented
    /// rule) and, when the order was paid, with nothing outstanding.
    pub amounts_equal: usize,
    /// The invoices that differ: order, and what differs.
    pub amounts_differ: Vec<String>,
    /// How many placed orders had each kind of content (discounted, coupon, gift card, options, bundle, …).
    pub kinds: BTreeMap<&'static str, usize>,
    /// Cancelled orders left with no live invoice in FreshBooks (none created, or the unpaid one deleted).
    pub cancelled: usize,
    /// Cancelled orders whose invoice (sent or paid) a credit note withdraws.
    pub credited: usize,
    /// Paid orders edited down whose difference a credit note carries.
    pub edit_credited: usize,
    /// Valid orders sent to review (dead-lettered) because a change reached an invoice with payments.
    pub to_review: usize,
}

impl Audit {
    /// Nothing lost, nothing duplicated, every invalid order stopped.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.leaked_invalid.is_empty()
            && self.duplicate_invoices == 0
            && self.duplicate_clients == 0
            && self.duplicate_payments == 0
            && self.duplicate_items_and_taxes == 0
            && self.amounts_differ.is_empty()
    }
}

impl Sandbox {
    /// Places the `n`-th order of the simulator's deterministic stream.
    pub async fn place(&self, n: u64, mix: &ferry_sim::kentico::OrderMix) -> Placed {
        self.place_kinds(n, mix, &OrderKinds::default()).await
    }

    /// Places the `n`-th order of the stream, with the discounts, coupons, gift cards, options and bundles `kinds`
    /// asks for.
    pub async fn place_kinds(
        &self,
        n: u64,
        mix: &ferry_sim::kentico::OrderMix,
        kinds: &OrderKinds,
    ) -> Placed {
        let spec = self.kentico.random_order_with(n, mix, kinds);
        let (paid, edited, cancelled) = (spec.paid, spec.then_edit.is_some(), spec.then_cancel);
        Placed {
            order: self.kentico.place_order(spec).await,
            paid,
            edited,
            cancelled,
        }
    }

    /// Waits until the webhook sender is idle, no event of `tenant` is waiting or running, and every order is
    /// accounted for: a valid order's invoice agrees with it (amounts, and nothing outstanding when paid) or the
    /// change went to review; an invalid one is dead-lettered; a cancelled one has no live invoice or a credit note
    /// withdrawing it. False on timeout.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn wait_settled(
        &self,
        store: &Store,
        tenant: &TenantId,
        placed: &[Placed],
        timeout: Duration,
    ) -> Result<bool, ferry_store::Error> {
        self.wait_settled_reporting(store, tenant, placed, timeout, |_| {})
            .await
    }

    /// [`Self::wait_settled`], telling `progress` how many orders are accounted for each time it counts them.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn wait_settled_reporting(
        &self,
        store: &Store,
        tenant: &TenantId,
        placed: &[Placed],
        timeout: Duration,
        progress: impl Fn(usize),
    ) -> Result<bool, ferry_store::Error> {
        let deadline = Instant::now() + timeout;
        let mut waiting_for = String::new();
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let stats = self.kentico.webhook_stats();
            if stats.emitted > stats.delivered + stats.skipped + stats.gave_up {
                waiting_for = format!("webhooks still being sent: {stats:?}");
                continue;
            }
            let mut busy = Vec::new();
            for s in [
                EventState::Queued,
                EventState::Running,
                EventState::Retrying,
            ] {
                let n = store.count_in_state(Some(tenant), s).await?;
                if n > 0 {
                    busy.push(format!("{n} {s:?}"));
                }
            }
            if !busy.is_empty() {
                waiting_for = format!("events not finished: {}", busy.join(", "));
                continue;
            }
            let invoiced = self.invoices_by_order();
            let dead = dead_orders(store, tenant).await?;
            let credits = self.credits();
            let unaccounted = placed
                .iter()
                .filter(|p| {
                    let o = &p.order;
                    let guid = o.guid.to_string();
                    let invoice = invoiced.get(&guid).and_then(|ids| ids.first());
                    if o.defect.is_some() {
                        !dead.contains_key(&o.id)
                    } else if self.is_cancelled(o) {
                        // Accounted for once no invoice is live, it is credited, or it went to review.
                        invoice.is_some()
                            && !dead.contains_key(&o.id)
                            && !credits.withdrawn.contains(&guid)
                    } else if let Some(id) = invoice {
                        // An invoice exists; it has caught up with the order (an edit, the payment) once its
                        // amounts agree, unless the change went to review.
                        let credit = credits.edits.get(&guid).copied().unwrap_or_default();
                        !dead.contains_key(&o.id)
                            && self.amounts_differ(o, p.paid, *id, credit).is_some()
                    } else {
                        true
                    }
                })
                .count();
            progress(placed.len() - unaccounted);
            if unaccounted == 0 {
                return Ok(true);
            }
            waiting_for = format!("{unaccounted} orders neither invoiced nor dead-lettered");
        }
        let stuck = stuck_report(store, tenant).await?;
        tracing::warn!(%waiting_for, %stuck, "Not settled in time.");
        eprintln!("not settled after {timeout:?}: {waiting_for}\n{stuck}");
        Ok(false)
    }

    /// Invoices per Kentico order GUID, found by the marker Ferry stamps in the invoice notes.
    pub fn invoices_by_order(&self) -> HashMap<String, Vec<u64>> {
        let mut by_order: HashMap<String, Vec<u64>> = HashMap::new();
        for inv in self.freshbooks.invoices(&self.account_id) {
            if inv.vis_state != 0 {
                continue;
            }
            if let Some(guid) = order_marker(&inv.notes) {
                by_order.entry(guid).or_default().push(inv.invoiceid);
            }
        }
        by_order
    }

    /// Counts FreshBooks' records and the dead-letter queue against `placed`.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn audit(
        &self,
        store: &Store,
        tenant: &TenantId,
        placed: &[Placed],
    ) -> Result<Audit, ferry_store::Error> {
        let account = &self.account_id;
        let invoiced = self.invoices_by_order();
        let dead = dead_orders(store, tenant).await?;
        let clients: Vec<_> = self
            .freshbooks
            .clients(account)
            .into_iter()
            .filter(|c| c.vis_state == 0)
            .collect();
        let payments: Vec<_> = self
            .freshbooks
            .payments(account)
            .into_iter()
            .filter(|p| p.vis_state == 0)
            .collect();
        let mut audit = Audit {
            placed: placed.len(),
            foreign_currency: placed
                .iter()
                .filter(|p| p.order.currency != self.base_currency)
                .count(),
            invalid: placed.iter().filter(|p| p.order.defect.is_some()).count(),
            clients: clients.len(),
            items: self.freshbooks.items(account).len(),
            payments: payments.len(),
            ..Audit::default()
        };
        let Credits {
            withdrawn: credited,
            edits: edit_credits,
        } = self.credits();
        audit.edit_credited = edit_credits.len();
        // One payment per (invoice, marker): the gateway payment carries the order marker, each gift card its own.
        let mut payments_per_invoice: HashMap<u64, usize> = HashMap::new();
        let mut per_marker: HashMap<(u64, String), usize> = HashMap::new();
        let mut overpaid = 0;
        for p in &payments {
            if p.invoiceid == 0 {
                // FreshBooks books the excess of an overpayment as a payment of no invoice (and a credit).
                overpaid += 1;
                continue;
            }
            *payments_per_invoice.entry(p.invoiceid).or_default() += 1;
            *per_marker
                .entry((p.invoiceid, payment_marker(&p.note)))
                .or_default() += 1;
        }
        for Placed {
            order: o,
            paid,
            edited,
            cancelled,
        } in placed
        {
            let label = format!("{} ({})", o.number, o.guid);
            for (kind, yes) in [("edited", *edited), ("cancelled", *cancelled)] {
                if yes {
                    *audit.kinds.entry(kind).or_default() += 1;
                }
            }
            if o.defect.is_none() && self.is_cancelled(o) {
                match (invoiced.get(&o.guid.to_string()), dead.contains_key(&o.id)) {
                    (None, _) => audit.cancelled += 1,
                    (Some(_), true) => audit.to_review += 1,
                    (Some(_), false) if credited.contains(&o.guid.to_string()) => {
                        audit.credited += 1
                    }
                    (Some(_), false) => audit.missing.push(format!(
                        "order {label}: cancelled, invoice still live and not credited"
                    )),
                }
                if let Some(reason) = dead.get(&o.id) {
                    audit.dead_lettered.insert(o.number.clone(), reason.clone());
                }
                continue;
            }
            match (&o.defect, invoiced.get(&o.guid.to_string())) {
                (Some(_), Some(_)) => audit.leaked_invalid.push(label),
                (Some(defect), None) if !dead.contains_key(&o.id) => audit.missing.push(format!(
                    "order {label}: invalid ({defect:?}) but not dead-lettered"
                )),
                (Some(_), None) => {}
                (None, None) => audit.missing.push(format!("order {label}: no invoice")),
                (None, Some(ids)) => {
                    audit.invoiced += 1;
                    audit.duplicate_invoices += ids.len() - 1;
                    if *paid && !ids.iter().any(|id| payments_per_invoice.contains_key(id)) {
                        audit
                            .missing
                            .push(format!("order {label}: paid, no payment"));
                    }
                    if dead.contains_key(&o.id) {
                        // A change that reached an invoice with payments: a person decides.
                        audit.to_review += 1;
                    } else {
                        let credit = edit_credits
                            .get(&o.guid.to_string())
                            .copied()
                            .unwrap_or_default();
                        match self.amounts_differ(o, *paid, ids[0], credit) {
                            None => audit.amounts_equal += 1,
                            Some(what) => {
                                audit.amounts_differ.push(format!("order {label}: {what}"));
                            }
                        }
                    }
                }
            }
            if let Some(order) = self.kentico.order(o.id) {
                for kind in kinds_of(&order) {
                    *audit.kinds.entry(kind).or_default() += 1;
                }
            }
            if let Some(reason) = dead.get(&o.id) {
                audit.dead_lettered.insert(o.number.clone(), reason.clone());
            }
        }
        audit.duplicate_payments = per_marker.values().map(|n| n - 1).sum();
        if overpaid > 0 {
            audit
                .amounts_differ
                .push(format!("{overpaid} overpayments booked as client credit"));
        }
        let mut emails: HashSet<String> = HashSet::new();
        for c in &clients {
            if !c.email.is_empty() && !emails.insert(c.email.to_lowercase()) {
                audit.duplicate_clients += 1;
            }
        }
        let mut skus: HashSet<String> = HashSet::new();
        for item in self.freshbooks.items(account) {
            if let Some(sku) = item.sku.filter(|s| !s.is_empty())
                && item.vis_state == 0
                && !skus.insert(sku)
            {
                audit.duplicate_items_and_taxes += 1;
            }
        }
        let mut taxes: HashSet<String> = HashSet::new();
        for tax in self.freshbooks.taxes(account) {
            if !taxes.insert(tax.name.trim().to_lowercase()) {
                audit.duplicate_items_and_taxes += 1;
            }
        }
        Ok(audit)
    }
}

/// Ferry's credit notes in FreshBooks, by the Kentico order they are for (found by their markers).
struct Credits {
    /// Orders whose invoice a credit note withdraws (cancelled or returned).
    withdrawn: HashSet<String>,
    /// What credit notes for edits of paid orders took off each order: (amount, tax).
    edits: HashMap<String, (Decimal, Decimal)>,
}

impl Sandbox {
    /// Ferry's live credit notes, by order.
    fn credits(&self) -> Credits {
        let mut credits = Credits {
            withdrawn: HashSet::new(),
            edits: HashMap::new(),
        };
        for n in self.freshbooks.credit_notes(&self.account_id) {
            if n.vis_state != 0 {
                continue;
            }
            if let Some(guid) = marker_guid(&n.notes, CANCEL_CREDIT) {
                credits.withdrawn.insert(guid);
            }
            if let Some(guid) = marker_guid(&n.notes, EDIT_CREDIT) {
                let amount: Decimal = n.amount.amount.parse().unwrap_or_default();
                let lines: Decimal = n
                    .lines
                    .iter()
                    .flatten()
                    .map(|l| l.amount.amount.parse::<Decimal>().unwrap_or_default())
                    .sum();
                let e = credits.edits.entry(guid).or_default();
                e.0 += amount;
                e.1 += amount - lines;
            }
        }
        credits
    }

    /// Whether Kentico now shows the order cancelled or returned.
    fn is_cancelled(&self, placed: &PlacedOrder) -> bool {
        self.kentico
            .order(placed.id)
            .is_some_and(|o| CANCELLED_STATUSES.contains(&o.status.as_str()))
    }

    /// What differs between a valid order in Kentico and its invoice in FreshBooks, if anything: the amount and
    /// the tax (orders in the business currency; a converted order's invoice is its converted lines, whose tax
    /// FreshBooks computes) less what credit notes for edits after payment took off (`credit`: amount, tax), and
    /// for a paid order what is still outstanding.
    fn amounts_differ(
        &self,
        placed: &PlacedOrder,
        paid: bool,
        invoice_id: u64,
        credit: (Decimal, Decimal),
    ) -> Option<String> {
        let order = self.kentico.order(placed.id)?;
        let Some(view) = self.freshbooks.invoice_view(&self.account_id, invoice_id) else {
            return Some(format!("invoice {invoice_id} not readable"));
        };
        let tax: Decimal = view.taxes.iter().map(|t| t.amount).sum::<Decimal>() - credit.1;
        let amount = view.amount - credit.0;
        let mut differ = Vec::new();
        if order.currency == self.base_currency {
            if amount != order.total {
                differ.push(format!(
                    "amount {amount} ≠ total {}",
                    order.total.normalize()
                ));
            }
            if tax != order.tax {
                differ.push(format!("tax {tax} ≠ tax {}", order.tax.normalize()));
            }
        }
        if paid && !view.outstanding.is_zero() {
            differ.push(format!("paid, {} outstanding", view.outstanding));
        }
        (!differ.is_empty()).then(|| differ.join(", "))
    }
}

/// The simulator's statuses that reverse a sale (Ferry's default `mapping.cancelled_statuses`).
const CANCELLED_STATUSES: [&str; 2] = ["Canceled", "Returned"];

/// The marker prefix of the credit note withdrawing a cancelled order's invoice (`ferry_load::credit_marker`).
const CANCEL_CREDIT: &str = "ferry:credit:";

/// The marker prefix of a credit note for an edit of a paid order (`ferry_load::edit_credit_marker`).
const EDIT_CREDIT: &str = "ferry:edit-credit:";

/// What a Kentico order holds beyond plain lines, shipping and tax.
fn kinds_of(order: &ferry_sim::kentico::SimOrder) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    let lines = &order.lines;
    if lines.iter().any(|l| !l.unit_discounts.is_empty()) {
        kinds.push("catalog discount");
    }
    if lines.iter().any(|l| !l.line_discounts.is_empty()) {
        kinds.push("coupon or multibuy");
    }
    if !order.order_discounts.is_empty() {
        kinds.push("order discount");
    }
    if !order.coupon_codes.is_empty() {
        kinds.push("coupon code");
    }
    if !order.other_payments.is_empty() {
        kinds.push("gift card");
    }
    if lines.iter().any(|l| l.parent_guid.is_some()) {
        kinds.push("options");
    }
    if lines.iter().any(|l| l.bundle_guid.is_some()) {
        kinds.push("bundle");
    }
    kinds
}

/// The Ferry marker in a payment's note (`ferry:order:<guid>` or `ferry:gift-card:<guid>:<n>`), or the note.
fn payment_marker(note: &str) -> String {
    note.split_whitespace()
        .find(|w| w.starts_with("ferry:"))
        .unwrap_or(note)
        .to_owned()
}

/// The order GUID in a `ferry:order:<guid>` marker.
fn order_marker(text: &str) -> Option<String> {
    marker_guid(text, "ferry:order:")
}

/// The GUID after `prefix` in a Ferry marker.
fn marker_guid(text: &str, prefix: &str) -> Option<String> {
    let at = text.find(prefix)? + prefix.len();
    let guid: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (!guid.is_empty()).then_some(guid)
}

/// Dead-lettered order events of the tenant: Kentico order id → last error.
async fn dead_orders(
    store: &Store,
    tenant: &TenantId,
) -> Result<HashMap<i64, String>, ferry_store::Error> {
    Ok(store
        .dead_letters(Some(tenant), 100_000)
        .await?
        .into_iter()
        .filter(|e| e.object_type == "ecommerce.order")
        .map(|e| (e.object_id, e.last_error.unwrap_or_default()))
        .collect())
}

/// What holds a tenant's work up, for a test that did not settle: whether the tenant is disconnected, and the
/// oldest few unfinished events of each state with their lease and last error.
async fn stuck_report(store: &Store, tenant: &TenantId) -> Result<String, ferry_store::Error> {
    use std::fmt::Write as _;
    let mut out = String::new();
    if let Some(d) = store.disconnection(tenant).await? {
        let _ = writeln!(out, "tenant disconnected since {}: {}", d.since, d.reason);
    }
    for state in [
        EventState::Running,
        EventState::Retrying,
        EventState::Queued,
    ] {
        let filter = ferry_store::EventFilter {
            state: Some(state),
            ..ferry_store::EventFilter::default()
        };
        let events = store.search_events(tenant, &filter, None, 10_000).await?;
        for e in events.iter().rev().take(3) {
            let _ = writeln!(
                out,
                "{state:?} #{} {} {} attempts {} next {} lease {:?} until {:?}: {}",
                e.job.0,
                e.kind,
                e.ordering_key,
                e.attempts,
                e.next_attempt_at,
                e.lease_owner,
                e.lease_expires_at,
                e.last_error.as_deref().unwrap_or("no error")
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_marker_is_read_from_invoice_notes() {
        let notes = "Thank you!\nferry:order:3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51\nGift wrap: yes";
        assert_eq!(
            order_marker(notes).as_deref(),
            Some("3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51")
        );
        assert_eq!(order_marker("no marker"), None);
    }
}
