//! How money moves between invoices, payments and client credit: an invoice's `paid`/`outstanding`/status follow
//! from its live payments (docs/freshbooks.md §6.3, §14.3.3), and a client's credit balance is its live
//! credit notes less the payments made from credit (docs/freshbooks.md §14.1.5).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::error::ApiError;
use super::model::Money;
use super::objects::money;
use super::state::Account;

/// The decimal in a money value (0 when it does not parse, which the simulator never stores).
pub(crate) fn amount(m: &Money) -> Decimal {
    m.amount.parse().unwrap_or(Decimal::ZERO)
}

/// Derives `paid`, `outstanding`, `status`, `v3_status`, `payment_status`, `display_status` and `date_paid` from
/// the invoice's live payments (docs/freshbooks.md §14.3.3):
///
/// | situation       | status | v3_status / payment_status | display_status | date_paid         |
/// |-----------------|--------|----------------------------|----------------|-------------------|
/// | draft, unpaid   | 1      | draft / unpaid             | draft          | null              |
/// | sent, unpaid    | 2      | sent / unpaid              | sent           | null              |
/// | partly paid     | 2      | partial / partial          | sent           | null              |
/// | paid ≥ amount   | 4      | paid / paid                | paid           | last payment date |
///
/// The fully-paid row is inferred from the docs, not recorded (docs/freshbooks.md §13).
pub(crate) fn settle(account: &mut Account, invoice_id: u64) {
    let sent = account.sent.get(&invoice_id).copied().unwrap_or(false);
    let payments: Vec<(Decimal, String)> = account
        .payments
        .values()
        .filter(|p| p.invoiceid == invoice_id && p.vis_state != 1)
        .map(|p| (amount(&p.amount), p.date.clone()))
        .collect();
    let Some(invoice) = account.invoices.get_mut(&invoice_id) else {
        return;
    };
    let code = invoice.currency_code.clone();
    let total = amount(&invoice.amount);
    let paid: Decimal = payments.iter().map(|(a, _)| *a).sum();
    invoice.paid = money(paid, &code);
    invoice.net_paid_amount = money(paid, &code);
    // An edit that lowers the total below what was paid leaves nothing outstanding (docs/freshbooks.md §14.2.1).
    invoice.outstanding = money((total - paid).max(Decimal::ZERO), &code);
    let (status, v3) = if sent { (2, "sent") } else { (1, "draft") };
    if paid > Decimal::ZERO && paid >= total {
        invoice.status = 4;
        invoice.v3_status = "paid".into();
        invoice.payment_status = "paid".into();
        invoice.display_status = "paid".into();
        invoice.date_paid = payments.iter().map(|(_, d)| d.clone()).max();
    } else {
        invoice.status = status;
        invoice.display_status = v3.into();
        invoice.date_paid = None;
        if paid > Decimal::ZERO {
            invoice.v3_status = "partial".into();
            invoice.payment_status = "partial".into();
        } else {
            invoice.v3_status = v3.into();
            invoice.payment_status = "unpaid".into();
        }
    }
}

/// How much of each live credit note of a client (in one currency) the live `from_credit` payments have used.
///
/// guess: a payment first draws on the credit note it names (`creditid`), then on the client's other credit
/// notes oldest first (docs/freshbooks.md §14.1.4 leaves both open).
pub(crate) fn credit_spent(
    account: &Account,
    client_id: u64,
    currency: &str,
) -> BTreeMap<u64, Decimal> {
    let mut left: BTreeMap<u64, Decimal> = account
        .credit_notes
        .values()
        .filter(|c| c.clientid == client_id && c.currency_code == currency && c.vis_state != 1)
        .map(|c| (c.id, amount(&c.amount)))
        .collect();
    let mut spent: BTreeMap<u64, Decimal> = left.keys().map(|id| (*id, Decimal::ZERO)).collect();
    let draws = account.payments.values().filter(|p| {
        p.from_credit && p.vis_state != 1 && p.clientid == client_id && p.amount.code == currency
    });
    for payment in draws {
        let mut due = amount(&payment.amount);
        let order: Vec<u64> = payment
            .creditid
            .into_iter()
            .chain(
                left.keys()
                    .copied()
                    .filter(|id| Some(*id) != payment.creditid),
            )
            .collect();
        for id in order {
            let (Some(available), Some(used)) = (left.get_mut(&id), spent.get_mut(&id)) else {
                continue;
            };
            let take = due.min(*available);
            *available -= take;
            *used += take;
            due -= take;
            if due.is_zero() {
                break;
            }
        }
    }
    spent
}

/// A client's unspent credit in one currency (never negative).
pub(crate) fn credit_balance(account: &Account, client_id: u64, currency: &str) -> Decimal {
    let spent = credit_spent(account, client_id, currency);
    account
        .credit_notes
        .values()
        .filter(|c| spent.contains_key(&c.id))
        .map(|c| amount(&c.amount) - spent.get(&c.id).copied().unwrap_or_default())
        .sum::<Decimal>()
        .max(Decimal::ZERO)
}

/// A client's unspent credit per currency, as the `credit_balance` include lists it.
pub(crate) fn credit_balances(account: &Account, client_id: u64) -> Vec<Money> {
    let mut currencies: Vec<&str> = account
        .credit_notes
        .values()
        .filter(|c| c.clientid == client_id)
        .map(|c| c.currency_code.as_str())
        .collect();
    currencies.sort_unstable();
    currencies.dedup();
    currencies
        .into_iter()
        .map(|code| (code, credit_balance(account, client_id, code)))
        .filter(|(_, balance)| *balance > Decimal::ZERO)
        .map(|(code, balance)| money(balance, code))
        .collect()
}

/// What a client owes per currency on sent, not deleted invoices (the `outstanding_balance` include).
pub(crate) fn outstanding_balances(account: &Account, client_id: u64) -> Vec<Money> {
    let mut sums: BTreeMap<&str, Decimal> = BTreeMap::new();
    for invoice in account.invoices.values() {
        let counts =
            invoice.customerid == client_id && invoice.vis_state != 1 && invoice.status != 1;
        if counts {
            *sums.entry(invoice.currency_code.as_str()).or_default() +=
                amount(&invoice.outstanding);
        }
    }
    sums.into_iter()
        .filter(|(_, sum)| *sum > Decimal::ZERO)
        .map(|(code, sum)| money(sum, code))
        .collect()
}

/// Picks the credit note a payment from credit draws on and checks the client has the credit.
///
/// # Errors
///
/// 404 errno 1012 for a `creditid` that is not a live credit note of this client in this currency; 422 errno
/// 1004 on `amount` when the client's credit balance is smaller than the payment (guess: FreshBooks' UI never
/// offers more than the balance; the API's refusal is not documented).
pub(crate) fn pick_credit(
    account: &Account,
    client_id: u64,
    currency: &str,
    wanted: Option<u64>,
    amount: Decimal,
) -> Result<u64, ApiError> {
    let spent = credit_spent(account, client_id, currency);
    if let Some(id) = wanted.filter(|id| !spent.contains_key(id)) {
        return Err(ApiError::not_found("credit_note", "creditid", id));
    }
    let balance = credit_balance(account, client_id, currency);
    if amount > balance {
        return Err(ApiError::invalid(
            1004,
            "payment",
            "amount",
            format!("The client's credit of {balance} {currency} does not cover this payment."),
        ));
    }
    let remaining = |id: &u64| {
        account
            .credit_notes
            .get(id)
            .map(|c| self::amount(&c.amount) - spent.get(id).copied().unwrap_or_default())
            .unwrap_or_default()
    };
    wanted
        .or_else(|| {
            spent
                .keys()
                .copied()
                .find(|id| remaining(id) > Decimal::ZERO)
        })
        .ok_or_else(|| ApiError::invalid(1004, "payment", "amount", "The client has no credit."))
}
