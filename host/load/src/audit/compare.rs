//! One order against the books: its invoice (recorded, live, not deleted, one only, the customer's client), what it
//! still bills (the invoice less edit credit notes, as the sync computes it) against the drafts, and its payments
//! against the order's (`OrderIsPaid`, gift cards) by marker and amount.

use super::{Books, Expected};
use crate::freshbooks::{FbInvoice, FbMoney, FbPayment, FreshBooksClient};
use crate::ledger::Ledger;
use crate::sync::{
    Keys, LineDiff, PaymentRef, Standing, done_id, get, invoice_key, invoice_state, line_keys,
    recorded_state,
};
use crate::{Error, Result, credit_marker, edit_credit_marker, gift_card_marker, order_marker};
use ferry_model::{AuditClass, Decimal, Difference, InvoiceLineDraft, ManualChanges, Repair};
use std::collections::HashSet;

/// Whether `text` carries `marker` as a word of its own (`ferry:gift-card:<guid>:1` is not `…:10`).
fn has_marker(text: Option<&str>, marker: &str) -> bool {
    text.is_some_and(|t| t.split_whitespace().any(|w| w == marker))
}

/// `12.34 USD`, or `none`.
pub(super) fn money_text(m: Option<&FbMoney>) -> String {
    m.map_or_else(|| "none".to_owned(), |m| money(m.amount, &m.code))
}

/// An amount as a person reads it on an invoice: to the cent (`374.40 USD`), more places only when it has them.
fn money(amount: Decimal, code: &str) -> String {
    let amount = amount.normalize();
    if amount.scale() < 2 {
        format!("{amount:.2} {code}")
    } else {
        format!("{amount} {code}")
    }
}

/// One order being checked.
pub(super) struct Check<'a> {
    fb: &'a FreshBooksClient,
    ledger: &'a dyn Ledger,
    keys: &'a Keys,
    books: &'a mut Books,
    expected: &'a Expected,
    /// The tenant's policy for what a person changed on an invoice.
    manual: ManualChanges,
    out: Vec<Difference>,
}

impl<'a> Check<'a> {
    pub(super) fn new(
        fb: &'a FreshBooksClient,
        ledger: &'a dyn Ledger,
        keys: &'a Keys,
        books: &'a mut Books,
        expected: &'a Expected,
        manual: ManualChanges,
    ) -> Self {
        Self {
            fb,
            ledger,
            keys,
            books,
            expected,
            manual,
            out: Vec::new(),
        }
    }

    pub(super) fn into_differences(self) -> Vec<Difference> {
        self.out
    }

    /// The repair of a change a person made to invoice `id`: none, unless the tenant's policy lets Ferry overwrite
    /// it.
    fn overwrite(&self, invoice: i64, restore: bool) -> Option<Repair> {
        (self.manual == ManualChanges::Overwrite).then_some(Repair::Overwrite { invoice, restore })
    }

    fn push(
        &mut self,
        class: AuditClass,
        freshbooks: Option<String>,
        expected: String,
        actual: String,
        repair: Option<Repair>,
    ) {
        let order = &self.expected.order;
        self.out.push(Difference {
            class,
            order_number: order.number.clone(),
            order_id: order.id,
            order_guid: order.guid.to_string(),
            freshbooks,
            expected,
            actual,
            repair,
        });
    }

    /// What the drafts bill: FreshBooks' total of their lines, and the currency.
    fn billed(&self) -> String {
        let invoice = &self.expected.drafts.invoice;
        money(
            InvoiceLineDraft::total(&invoice.lines),
            invoice.currency_code.as_str(),
        )
    }

    /// Live invoices carrying the order's marker, oldest first.
    fn marked(&self, marker: &str) -> Vec<FbInvoice> {
        let mut v: Vec<FbInvoice> = self
            .books
            .invoices
            .iter()
            .filter(|i| has_marker(i.notes.as_deref(), marker))
            .cloned()
            .collect();
        v.sort_by_key(|i| i.id);
        v
    }

    pub(super) async fn run(&mut self) -> Result<()> {
        let marker = order_marker(self.expected.order.guid);
        if self.expected.drafts.cancelled {
            self.cancelled(&marker);
            return Ok(());
        }
        let Some(inv) = self.invoice(&marker).await? else {
            return Ok(());
        };
        for dup in self.marked(&marker).into_iter().filter(|i| i.id != inv.id) {
            self.push(
                AuditClass::Duplicate,
                Some(format!("invoice {}", dup.id)),
                format!("one invoice (invoice {})", inv.id),
                format!(
                    "a second invoice {} of {}",
                    dup.id,
                    money_text(dup.amount.as_ref())
                ),
                None,
            );
        }
        self.client(&inv).await?;
        self.amounts(&inv).await?;
        self.payments(&inv).await
    }

    /// A cancelled order bills nothing: no live invoice, or one a credit note withdraws. One that still bills is
    /// withdrawn by running the order again.
    fn cancelled(&mut self, marker: &str) {
        let withdrawn = credit_marker(self.expected.order.guid);
        if self
            .books
            .credit_notes
            .iter()
            .any(|n| has_marker(n.notes.as_deref(), &withdrawn))
        {
            return;
        }
        for inv in self.marked(marker) {
            self.push(
                AuditClass::AmountChanged,
                Some(format!("invoice {}", inv.id)),
                format!(
                    "nothing billed: the order is {} in Kentico",
                    self.expected.order.status.code
                ),
                format!(
                    "invoice {} bills {}",
                    inv.id,
                    money_text(inv.amount.as_ref())
                ),
                Some(Repair::Resync),
            );
        }
    }

    /// The order's invoice: the one the ledger records, live; else the one carrying its marker (the ledger lost its
    /// entry). `None`, with the difference noted, when there is none to compare.
    async fn invoice(&mut self, marker: &str) -> Result<Option<FbInvoice>> {
        let key = invoice_key(self.keys, self.expected.order.guid);
        let recorded = done_id(&get(self.ledger, &key).await?);
        let expected = format!("an invoice of {}", self.billed());
        if let Some(id) = recorded {
            if let Some(inv) = self.books.invoices.iter().find(|i| i.id == id) {
                return Ok(Some(inv.clone()));
            }
            let deleted = self.books.deleted.iter().any(|i| i.id == id);
            let read = if deleted {
                None
            } else {
                // Not updated since the window's first day: read it by id.
                match self.books.invoice(self.fb, id).await {
                    Ok(inv) if inv.vis_state != 1 => return Ok(Some(inv)),
                    Ok(_) => None,
                    Err(Error::NotFound { .. }) => Some(()),
                    Err(e) => return Err(e),
                }
            };
            if read.is_some() {
                self.push(
                    AuditClass::Missing,
                    Some(format!("invoice {id}")),
                    expected,
                    format!("the ledger records invoice {id}; FreshBooks has no such invoice"),
                    None,
                );
            } else {
                self.push(
                    AuditClass::DeletedByHand,
                    Some(format!("invoice {id}")),
                    expected,
                    format!("invoice {id} deleted in FreshBooks"),
                    self.overwrite(id, true),
                );
            }
            return Ok(None);
        }
        if let Some(inv) = self.marked(marker).into_iter().next() {
            self.push(
                AuditClass::LedgerMissing,
                Some(format!("invoice {}", inv.id)),
                format!("the ledger records invoice {}", inv.id),
                "no ledger entry: a sync would create a second invoice".to_owned(),
                Some(Repair::RecordLedger { key, id: inv.id }),
            );
            return Ok(Some(inv));
        }
        if let Some(gone) = self
            .books
            .deleted
            .iter()
            .find(|i| has_marker(i.notes.as_deref(), marker))
        {
            let id = gone.id;
            self.push(
                AuditClass::DeletedByHand,
                Some(format!("invoice {id}")),
                expected,
                format!("invoice {id} deleted in FreshBooks"),
                self.overwrite(id, true),
            );
            return Ok(None);
        }
        self.push(
            AuditClass::Missing,
            None,
            expected,
            "no invoice".to_owned(),
            Some(Repair::Resync),
        );
        Ok(None)
    }

    /// The invoice belongs to the client the ledger records for the customer.
    async fn client(&mut self, inv: &FbInvoice) -> Result<()> {
        let key = self
            .keys
            .key("client", &self.expected.order.customer.guid.to_string());
        if let Some(client) = done_id(&get(self.ledger, &key).await?)
            && client != inv.customerid
        {
            self.push(
                AuditClass::ClientChanged,
                Some(format!("invoice {}", inv.id)),
                format!("client {client} (the customer's)"),
                format!("client {}", inv.customerid),
                None,
            );
        }
        Ok(())
    }

    /// What the invoice still bills (less edit credit notes) equals the drafts: the same lines, and FreshBooks'
    /// total of them. A difference the ledger's recorded state explains (the order changed since the last sync) is
    /// repaired by running the order again; otherwise a person changed FreshBooks and it is only reported.
    async fn amounts(&mut self, inv: &FbInvoice) -> Result<()> {
        let drafts = &self.expected.drafts;
        let want = &drafts.invoice.lines;
        let (have_lines, have_amount) =
            match Standing::from_notes(inv, &self.books.credit_notes, self.expected.order.guid) {
                Ok(s) => (s.lines, s.amount),
                Err(_) => (Vec::new(), Decimal::ZERO),
            };
        let mut have_keys = line_keys(&have_lines);
        let mut want_keys = line_keys(want);
        have_keys.sort();
        want_keys.sort();
        let total = InvoiceLineDraft::total(want);
        if have_keys == want_keys && have_amount == total {
            return Ok(());
        }
        let recorded = recorded_state(self.ledger, self.keys, self.expected.order.guid).await?;
        let stale = recorded.is_none_or(|r| r.digest != invoice_state(drafts));
        let lines = LineDiff::between(&have_lines, want)
            .filter(|d| have_keys != want_keys || !d.is_reorder())
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        self.push(
            AuditClass::AmountChanged,
            Some(format!("invoice {}", inv.id)),
            self.billed(),
            format!(
                "{}{lines}",
                money(
                    have_amount,
                    inv.amount.as_ref().map_or("", |m| m.code.as_str())
                )
            ),
            if stale {
                Some(Repair::Resync)
            } else {
                self.overwrite(inv.id, false)
            },
        );
        Ok(())
    }

    /// Each payment the order calls for is in FreshBooks once, with its amount and a ledger entry; nothing else is
    /// paid on the invoice. As in the sync, an invoice a person settled in FreshBooks (nothing outstanding) needs no
    /// payment of Ferry's: the payments that settled it are the order's.
    async fn payments(&mut self, inv: &FbInvoice) -> Result<()> {
        let settled = inv
            .amount
            .as_ref()
            .is_some_and(|a| a.amount > Decimal::ZERO)
            && inv.outstanding.as_ref().is_some_and(|o| o.amount.is_zero());
        let mut settled_by_hand = false;
        let edit_credits = edit_credit_marker(self.expected.order.guid, "");
        let edited_after_payment = self.books.credit_notes.iter().any(|n| {
            n.notes
                .as_deref()
                .is_some_and(|t| t.contains(&edit_credits))
        });
        let guid = self.expected.order.guid;
        let drafts = &self.expected.drafts;
        let mut wanted = Vec::new();
        for (n, card) in drafts.gift_cards.iter().enumerate() {
            let key = PaymentRef::gift_card(self.keys, guid, n).key().to_owned();
            wanted.push((gift_card_marker(guid, n), key, card.amount.rounded(2)));
        }
        if let Some(p) = &drafts.payment {
            let key = PaymentRef::gateway(self.keys, guid).key().to_owned();
            wanted.push((order_marker(guid), key, p.amount.rounded(2)));
        }
        let mut accounted = HashSet::new();
        for (marker, key, amount) in wanted {
            let mut matching: Vec<FbPayment> = self
                .books
                .payments
                .iter()
                .filter(|p| has_marker(p.note.as_deref(), &marker))
                .cloned()
                .collect();
            matching.sort_by_key(|p| p.id);
            let recorded = done_id(&get(self.ledger, &key).await?);
            let want = format!(
                "a payment of {}",
                money(amount.amount, amount.code.as_str())
            );
            let Some(first) = matching.first() else {
                if settled && recorded.is_none() {
                    settled_by_hand = true;
                    continue;
                }
                // Recorded but gone: deleted in FreshBooks by a person. Never recorded: the sync posts it.
                let actual = recorded.map_or_else(
                    || "no payment".to_owned(),
                    |id| format!("payment {id} recorded by Ferry is gone from FreshBooks"),
                );
                self.push(
                    AuditClass::PaymentMissing,
                    None,
                    want,
                    actual,
                    recorded.is_none().then_some(Repair::Resync),
                );
                continue;
            };
            accounted.extend(matching.iter().map(|p| p.id));
            // A paid order edited down keeps what the customer paid; a credit note carries the difference.
            if first.amount.amount != amount.amount && !edited_after_payment {
                self.push(
                    AuditClass::AmountChanged,
                    Some(format!("payment {}", first.id)),
                    want.clone(),
                    format!(
                        "payment {} of {}",
                        first.id,
                        money_text(Some(&first.amount))
                    ),
                    None,
                );
            }
            if recorded.is_none() {
                self.push(
                    AuditClass::LedgerMissing,
                    Some(format!("payment {}", first.id)),
                    format!("the ledger records payment {}", first.id),
                    "no ledger entry: a sync would post a second payment".to_owned(),
                    Some(Repair::RecordLedger { key, id: first.id }),
                );
            }
            for extra in &matching[1..] {
                self.push(
                    AuditClass::PaymentExtra,
                    Some(format!("payment {}", extra.id)),
                    format!("one payment (payment {})", first.id),
                    format!(
                        "a second payment {} of {} with the same marker",
                        extra.id,
                        money_text(Some(&extra.amount))
                    ),
                    None,
                );
            }
        }
        let unpaid = drafts.payment.is_none() && drafts.gift_cards.is_empty();
        let extra: Vec<FbPayment> = self
            .books
            .payments
            .iter()
            .filter(|p| p.invoiceid == inv.id && !accounted.contains(&p.id))
            .cloned()
            .collect();
        if settled_by_hand {
            return Ok(());
        }
        for p in extra {
            self.push(
                AuditClass::PaymentExtra,
                Some(format!("payment {}", p.id)),
                if unpaid {
                    "no payment: the order is unpaid in Kentico".to_owned()
                } else {
                    "only the order's own payments".to_owned()
                },
                format!(
                    "payment {} of {} ({}) recorded in FreshBooks",
                    p.id,
                    money_text(Some(&p.amount)),
                    p.kind.as_deref().unwrap_or("no type")
                ),
                None,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::money;
    use ferry_model::Decimal;
    use std::str::FromStr;

    #[test]
    fn amounts_read_to_the_cent() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(money(d("374.4"), "USD"), "374.40 USD");
        assert_eq!(money(d("12.000"), "EUR"), "12.00 EUR");
        assert_eq!(money(d("0.125"), "USD"), "0.125 USD");
    }
}
