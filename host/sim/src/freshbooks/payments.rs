//! Payments against invoices; each change re-settles the invoice's paid/outstanding/status (NOTES §6.7).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use bytes::Bytes;
use http::HeaderMap;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::SharedState;
use super::catalog::vis_state_only;
use super::clock;
use super::error::ApiError;
use super::invoices::settle;
use super::model::{Money, Payment};
use super::objects::{body_object, decimal, envelope, list_envelope, merge, money, normalize};
use super::query::{Filter, ListQuery, list_result};

type Reply = Result<Json<Value>, ApiError>;

/// `search[...]` names for payments (NOTES §5).
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
];

pub(crate) async fn create_payment(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let patch = body_object(&body, "payment")?;
    let invoice_id = patch
        .get("invoiceid")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .ok_or_else(|| {
            ApiError::invalid(1001, "payment", "invoiceid", "Field invoiceid is required.")
        })?;
    let amount = decimal(patch.get("amount").and_then(|a| a.get("amount")))
        .ok_or_else(|| ApiError::invalid(1001, "payment", "amount", "Field amount is required."))?;
    let mut store = state.store();
    let id = store.next_id();
    let overpayment_id = store.next_id();
    let account = store.authorize(&headers, &account_id)?;
    let invoice = account
        .invoices
        .get(&invoice_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("invoice", "invoiceid", invoice_id))?;
    let outstanding = invoice
        .outstanding
        .amount
        .parse::<Decimal>()
        .unwrap_or(Decimal::ZERO);
    // `code` may be omitted and defaults to the invoice currency (NOTES §6.1).
    let code = patch
        .get("amount")
        .and_then(|a| a.get("code"))
        .and_then(Value::as_str)
        .unwrap_or(&invoice.currency_code)
        .to_owned();
    let blank = Payment {
        accounting_systemid: account_id.clone(),
        amount: Money {
            amount: "0.00".into(),
            code: code.clone(),
        },
        bulk_paymentid: None,
        clientid: invoice.customerid,
        creditid: None,
        date: clock::eastern_today(),
        from_credit: false,
        gateway: None,
        id,
        invoiceid: invoice_id,
        logid: id,
        note: String::new(),
        orderid: None,
        // The excess of an overpayment becomes a credit; the simulator only records an id for it [G].
        overpaymentid: (amount > outstanding).then_some(overpayment_id),
        send_client_notification: None,
        transaction_uuid: None,
        transactionid: None,
        // No default payment type is documented; "Cash" is the recorded example [G].
        kind: "Cash".into(),
        updated: clock::eastern_now(),
        vis_state: 0,
    };
    let mut patch = patch;
    patch.remove("amount"); // set below from the parsed decimal and the defaulted code
    let mut payment = merge(&blank, &patch, READ_ONLY, "payment")?;
    payment.amount = money(amount, &code);
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
    let payment = id
        .parse()
        .ok()
        .and_then(|id| account.payments.get_mut(&id))
        .ok_or_else(|| ApiError::not_found("payment", "logid", &id))?;
    if let Some(vis) = vis_state_only(&patch) {
        payment.vis_state = vis;
    } else {
        // An amount without `code` keeps the payment's currency.
        if let Some(Value::Object(amount)) = patch.get_mut("amount") {
            amount
                .entry("code")
                .or_insert_with(|| Value::String(payment.amount.code.clone()));
        }
        *payment = merge(&*payment, &patch, READ_ONLY, "payment")?;
        normalize(&mut payment.amount);
    }
    payment.updated = clock::eastern_now();
    let (payment, invoice_id) = (payment.clone(), payment.invoiceid);
    settle(account, invoice_id);
    Ok(envelope("payment", payment))
}

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
