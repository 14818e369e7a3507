//! Payments against invoices; each change re-settles the invoice's paid/outstanding/status (docs/freshbooks.md
//! §6.7, §14.1.4–§1.5 and §3). A payment of type `Credit` spends the client's credit; a payment
//! larger than what is outstanding is split into the invoice's share and an overpayment credit.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use bytes::Bytes;
use http::HeaderMap;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::SharedState;
use super::catalog::vis_state_only;
use super::clock;
use super::credits::overpayment_credit;
use super::error::ApiError;
use super::invoices::valid_vis_state;
use super::ledger::{amount as amount_of, credit_balance, credit_spent, pick_credit, settle};
use super::model::Payment;
use super::objects::{body_object, decimal, envelope, list_envelope, merge, money, normalize};
use super::query::{Filter, ListQuery, list_result};
use super::state::Account;

/// Every payment `type` the reference lists (docs/freshbooks.md §6.7: the Node SDK enum and the Classic list).
/// `Credit` means "paid from the client's credit" and spends it.
pub const PAYMENT_TYPES: &[&str] = &[
    "Check",
    "Credit",
    "Cash",
    "Bank Transfer",
    "Credit Card",
    "Debit",
    "PayPal",
    "2Checkout",
    "VISA",
    "MASTERCARD",
    "DISCOVER",
    "AMEX",
    "DINERS",
    "JCB",
    "ACH",
    "Other",
    "NOVA",
    "EUROCARD",
];

/// The `type` that spends client credit.
const CREDIT: &str = "Credit";

type Reply = Result<Json<Value>, ApiError>;

/// `search[...]` names for payments (docs/freshbooks.md §5).
const PAYMENT_FILTERS: &[(&str, Filter)] = &[
    ("logid", Filter::Eq("logid")),
    ("logids", Filter::In("logid")),
    ("invoiceid", Filter::Eq("invoiceid")),
    ("clientid", Filter::Eq("clientid")),
    ("clientids", Filter::In("clientid")),
    ("customerid", Filter::Eq("clientid")),
    ("customerids", Filter::In("clientid")),
    ("type", Filter::Eq("type")),
    ("currency", Filter::Eq("amount.code")),
    ("notes", Filter::Like(&["note"])),
    ("from_credit", Filter::Bool("from_credit")),
    ("date_min", Filter::Min("date")),
    ("date_max", Filter::Max("date")),
    ("amount_min", Filter::Min("amount.amount")),
    ("amount_max", Filter::Max("amount.amount")),
    ("updated_min", Filter::Min("updated")),
    ("updated_max", Filter::Max("updated")),
];

const READ_ONLY: &[&str] = &[
    "id",
    "logid",
    "accounting_systemid",
    "clientid",
    "invoiceid",
    "updated",
    "overpaymentid",
    "creditid",
    "from_credit",
    "type",
];

/// The listed spelling of a payment type.
///
/// # Errors
///
/// 422 errno 1004 on `type` for a value the reference does not list (guess: the SDKs treat `type` as an enum;
/// FreshBooks' answer to other values is not documented, and refusing them catches a made-up "Gift Card").
/// Matching ignores case (guess).
fn payment_type(raw: Option<&Value>) -> Result<Option<&'static str>, ApiError> {
    let Some(raw) = raw.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    raw.as_str()
        .and_then(|t| {
            PAYMENT_TYPES
                .iter()
                .find(|known| known.eq_ignore_ascii_case(t.trim()))
        })
        .copied()
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid(
                1004,
                "payment",
                "type",
                format!(
                    "Invalid payment type; one of: {}.",
                    PAYMENT_TYPES.join(", ")
                ),
            )
        })
}

fn id_of(value: Option<&Value>) -> Option<u64> {
    value.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

/// `POST payments/payments`.
///
/// - `type` defaults to `Cash` (guess: no default is documented; the recorded example sends `Cash`).
/// - `type: "Credit"` (or `from_credit: true`) spends the client's credit: the reply has `from_credit: true` and
///   `creditid` (the credit note drawn on; the request may name one). guess: it may not exceed the invoice's
///   outstanding amount (FreshBooks' UI offers at most min(credit, outstanding), docs/freshbooks.md §14.1.4).
/// - Any other type larger than the outstanding amount is split (docs/freshbooks.md §14.1.5, guess for the
///   details): this payment keeps the outstanding amount, and the excess becomes a second payment (`invoiceid` null,
///   same type, its id in `overpaymentid`) and an `overpayment` credit note for the client.
/// - A payment on a draft marks it sent (guess, docs/freshbooks.md §14.3.3). A deleted invoice refuses payments
///   (errno 1011, guess). `amount.code` defaults to the invoice currency and must match it (guess).
pub(crate) async fn create_payment(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let mut patch = body_object(&body, "payment")?;
    let invoice_id = id_of(patch.get("invoiceid")).ok_or_else(|| {
        ApiError::invalid(1001, "payment", "invoiceid", "Field invoiceid is required.")
    })?;
    let amount = decimal(patch.get("amount").and_then(|a| a.get("amount")))
        .ok_or_else(|| ApiError::invalid(1001, "payment", "amount", "Field amount is required."))?;
    if amount < Decimal::ZERO {
        return Err(ApiError::invalid(
            1004,
            "payment",
            "amount",
            "Amount must not be negative.",
        ));
    }
    let from_credit = patch.get("from_credit").and_then(Value::as_bool) == Some(true);
    let kind = match payment_type(patch.get("type"))? {
        _ if from_credit => CREDIT,
        Some(kind) => kind,
        None => "Cash",
    };
    let mut store = state.store();
    let (id, overpayment_id, credit_id) = (store.next_id(), store.next_id(), store.next_id());
    let account = store.authorize(&headers, &account_id)?;
    let invoice = account
        .invoices
        .get(&invoice_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("invoice", "invoiceid", invoice_id))?;
    if invoice.vis_state == 1 {
        return Err(ApiError::invalid(
            1011,
            "payment",
            "invoiceid",
            "Invoice is deleted.",
        ));
    }
    let code = invoice.currency_code.clone();
    let sent_code = patch
        .get("amount")
        .and_then(|a| a.get("code"))
        .and_then(Value::as_str);
    if sent_code.is_some_and(|c| !c.eq_ignore_ascii_case(&code)) {
        return Err(ApiError::invalid(
            1004,
            "payment",
            "amount",
            format!("Invoice currency is {code}."),
        ));
    }
    let outstanding = amount_of(&invoice.outstanding);
    let creditid = if kind == CREDIT {
        if amount > outstanding {
            return Err(ApiError::invalid(
                1004,
                "payment",
                "amount",
                format!(
                    "A payment from credit cannot exceed the outstanding {outstanding} {code}."
                ),
            ));
        }
        let wanted = id_of(patch.get("creditid"));
        Some(pick_credit(
            account,
            invoice.customerid,
            &code,
            wanted,
            amount,
        )?)
    } else {
        None
    };
    let excess = (kind != CREDIT && amount > outstanding).then(|| amount - outstanding);
    let date = patch
        .get("date")
        .and_then(Value::as_str)
        .map_or_else(clock::eastern_today, str::to_owned);
    let blank = Payment {
        accounting_systemid: account_id.clone(),
        amount: money(amount, &code),
        bulk_paymentid: None,
        clientid: invoice.customerid,
        creditid,
        date,
        from_credit: kind == CREDIT,
        gateway: None,
        id,
        invoiceid: invoice_id,
        logid: id,
        note: String::new(),
        orderid: None,
        overpaymentid: excess.map(|_| overpayment_id),
        send_client_notification: None,
        transaction_uuid: None,
        transactionid: None,
        kind: kind.to_owned(),
        updated: clock::eastern_now(),
        vis_state: 0,
    };
    patch.remove("amount"); // set from the parsed decimal and the invoice currency
    let mut payment = merge(&blank, &patch, READ_ONLY, "payment")?;
    if let Some(excess) = excess {
        payment.amount = money(outstanding, &code);
        let note = overpayment_credit(account, credit_id, &invoice, excess, &payment.date);
        let mut credit = payment.clone();
        credit.id = overpayment_id;
        credit.logid = overpayment_id;
        credit.invoiceid = 0;
        credit.amount = money(excess, &code);
        credit.creditid = Some(note.id);
        credit.overpaymentid = None;
        credit.note = format!("Overpayment: invoice {}", invoice.invoice_number);
        account.credit_notes.insert(note.id, note);
        account.payments.insert(overpayment_id, credit);
    }
    account.sent.insert(invoice_id, true);
    account.payments.insert(id, payment.clone());
    settle(account, invoice_id);
    Ok(envelope("payment", payment))
}

pub(crate) async fn get_payment(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let payment = id
        .parse()
        .ok()
        .and_then(|id| account.payments.get(&id))
        .ok_or_else(|| ApiError::not_found("payment", "logid", &id))?;
    Ok(envelope("payment", payment))
}

/// `PUT payments/payments/<id>` (docs/freshbooks.md §14.3.2): `vis_state` alone deletes (1) or restores (0);
/// otherwise a partial merge, e.g. `{"amount":{"amount":"0.00"},"note":"Payment refunded"}` for a manual refund. The
/// invoice is re-settled either way.
///
/// guess: deleting a payment that overpaid also deletes its overpayment payment and credit note, and is refused
/// (errno 1004) once that credit has been spent; a payment cannot change to or from type `Credit`; a payment
/// from credit cannot grow beyond the client's credit. Raising a payment above the outstanding amount does not
/// create an overpayment credit (the split happens on create only).
pub(crate) async fn update_payment(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let mut patch = body_object(&body, "payment")?;
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let mut payment = id
        .parse()
        .ok()
        .and_then(|id| account.payments.get(&id))
        .cloned()
        .ok_or_else(|| ApiError::not_found("payment", "logid", &id))?;
    if let Some(vis) = vis_state_only(&patch) {
        let vis = valid_vis_state(vis, "payment")?;
        if payment.from_credit && vis != 1 && payment.vis_state == 1 {
            let balance = credit_balance(account, payment.clientid, &payment.amount.code);
            if amount_of(&payment.amount) > balance {
                return Err(ApiError::invalid(
                    1004,
                    "payment",
                    "amount",
                    "The client's credit no longer covers this payment.",
                ));
            }
        }
        cascade_overpayment(account, &payment, vis)?;
        payment.vis_state = vis;
    } else {
        let kind = payment_type(patch.get("type"))?;
        if kind.is_some_and(|k| (k == CREDIT) != payment.from_credit) {
            return Err(ApiError::invalid(
                1004,
                "payment",
                "type",
                "A payment cannot change to or from type Credit.",
            ));
        }
        if let Some(Value::Object(amount)) = patch.get_mut("amount") {
            // An amount without `code` keeps the payment's currency.
            amount
                .entry("code")
                .or_insert_with(|| Value::String(payment.amount.code.clone()));
        }
        let old = amount_of(&payment.amount);
        payment = merge(&payment, &patch, READ_ONLY, "payment")?;
        normalize(&mut payment.amount);
        if let Some(kind) = kind {
            payment.kind = kind.to_owned();
        }
        let new = amount_of(&payment.amount);
        if new < Decimal::ZERO {
            return Err(ApiError::invalid(
                1004,
                "payment",
                "amount",
                "Amount must not be negative.",
            ));
        }
        if payment.from_credit && payment.vis_state != 1 && new > old {
            let balance = credit_balance(account, payment.clientid, &payment.amount.code);
            if new - old > balance {
                return Err(ApiError::invalid(
                    1004,
                    "payment",
                    "amount",
                    "The client's credit does not cover this payment.",
                ));
            }
        }
    }
    payment.updated = clock::eastern_now();
    let invoice_id = payment.invoiceid;
    account.payments.insert(payment.id, payment.clone());
    settle(account, invoice_id);
    Ok(envelope("payment", payment))
}

/// Gives a payment's overpayment half (payment row and credit note) the payment's new `vis_state`.
fn cascade_overpayment(account: &mut Account, payment: &Payment, vis: i64) -> Result<(), ApiError> {
    let Some(row) = payment
        .overpaymentid
        .and_then(|id| account.payments.get(&id))
        .cloned()
    else {
        return Ok(());
    };
    if let Some(note_id) = row.creditid {
        let spent = credit_spent(account, row.clientid, &row.amount.code)
            .get(&note_id)
            .copied()
            .unwrap_or_default();
        if vis == 1 && spent > Decimal::ZERO {
            return Err(ApiError::invalid(
                1004,
                "payment",
                "vis_state",
                "The overpayment credit of this payment has been spent.",
            ));
        }
        if let Some(note) = account.credit_notes.get_mut(&note_id) {
            note.vis_state = vis;
        }
    }
    if let Some(row) = account.payments.get_mut(&row.id) {
        row.vis_state = vis;
        row.updated = clock::eastern_now();
    }
    Ok(())
}

/// `GET payments/payments`; `search[payment_or_credit]=invoice|credit` keeps payments against an invoice or the
/// credit halves of overpayments (docs/freshbooks.md §5).
pub(crate) async fn list_payments(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let query = ListQuery::parse(raw.as_deref());
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let rows = account
        .payments
        .values()
        .filter(|p| query.admits("invoiceid", p.invoiceid))
        .filter(|p| {
            query.admits(
                "payment_or_credit",
                if p.invoiceid == 0 {
                    "credit"
                } else {
                    "invoice"
                },
            )
        })
        .map(|p| json!(p))
        .collect();
    Ok(list_envelope(list_result(
        "payments",
        rows,
        &query,
        PAYMENT_FILTERS,
        "payment",
    )?))
}
