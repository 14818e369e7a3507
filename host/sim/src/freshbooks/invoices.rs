//! Invoices with lines and totals, and the status they take from mark-as-sent and payments (NOTES §6.3–§6.4).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use bytes::Bytes;
use http::HeaderMap;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::SharedState;
use super::catalog::vis_state_only;
use super::clock;
use super::error::ApiError;
use super::model::{Discount, Invoice, Line, Money, SenderAddress};
use super::objects::{body_object, decimal, envelope, list_envelope, merge, money, plain};
use super::query::{Filter, ListQuery, list_result};
use super::state::Account;

type Reply = Result<Json<Value>, ApiError>;

/// Invoice filter names: the table was not retrievable (NOTES §5); these are the ones in wide use [G].
const INVOICE_FILTERS: &[(&str, Filter)] = &[
    ("invoice_number", Filter::Eq("invoice_number")),
    ("invoiceid", Filter::Eq("invoiceid")),
    ("invoiceids", Filter::In("invoiceid")),
    ("customerid", Filter::Eq("customerid")),
    ("customerids", Filter::In("customerid")),
    ("po_number", Filter::Eq("po_number")),
    ("v3_status", Filter::Eq("v3_status")),
    ("status", Filter::Eq("status")),
    ("payment_status", Filter::Eq("payment_status")),
    ("date_min", Filter::Min("create_date")),
    ("date_max", Filter::Max("create_date")),
    ("updated_min", Filter::Min("updated")),
    ("updated_max", Filter::Max("updated")),
];

/// Everything the server computes; a POST/PUT cannot set these.
const READ_ONLY: &[&str] = &[
    "id",
    "invoiceid",
    "accountid",
    "accounting_systemid",
    "amount",
    "outstanding",
    "paid",
    "discount_total",
    "net_paid_amount",
    "due_date",
    "date_paid",
    "created_at",
    "updated",
    "current_organization",
    "payment_status",
    "display_status",
    "v3_status",
    "status",
    "dispute_status",
    "deposit_status",
    "uuid",
    "version",
    "lines",
    "discount",
    "customerid",
];

/// Builds the stored lines from request lines and recomputes every total on the invoice.
fn apply_lines(account: &Account, invoice: &mut Invoice, lines: &[Value]) -> Result<(), ApiError> {
    let now = clock::eastern_now();
    let mut built = Vec::with_capacity(lines.len());
    for (index, raw) in lines.iter().enumerate() {
        let qty = decimal(raw.get("qty")).unwrap_or(Decimal::ONE);
        let unit =
            decimal(raw.get("unit_cost").and_then(|u| u.get("amount"))).ok_or_else(|| {
                ApiError::invalid(1001, "line", "unit_cost", "Field unit_cost is required.")
            })?;
        let tax_name = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
        let tax_amount = |k: &str| decimal(raw.get(k)).unwrap_or(Decimal::ZERO);
        let tax_number = |name: &Option<String>| {
            let name = name.as_deref().filter(|n| !n.is_empty())?;
            account
                .taxes
                .values()
                .find(|t| t.name == name)
                .and_then(|t| t.number.clone())
        };
        let (name1, name2) = (tax_name("taxName1"), tax_name("taxName2"));
        built.push(Line {
            amount: money(qty * unit, &invoice.currency_code),
            basecampid: 0,
            compounded_tax: raw
                .get("compounded_tax")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            date: None,
            description: raw
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            expenseid: raw.get("expenseid").and_then(Value::as_u64).unwrap_or(0),
            invoiceid: invoice.id,
            lineid: index as u64 + 1,
            modern_project_id: None,
            modern_time_entries: Vec::new(),
            name: raw
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            qty: plain(qty),
            retainer_id: None,
            retainer_period_id: None,
            taskno: index as u64 + 1,
            taxAmount1: plain(tax_amount("taxAmount1")),
            taxAmount2: plain(tax_amount("taxAmount2")),
            taxNumber1: tax_number(&name1),
            taxNumber2: tax_number(&name2),
            taxName1: name1,
            taxName2: name2,
            kind: raw.get("type").and_then(Value::as_i64).unwrap_or(0),
            unit_cost: money(unit, &invoice.currency_code),
            updated: now.clone(),
        });
    }
    invoice.lines = Some(built);
    recompute(invoice);
    Ok(())
}

/// Totals rule checked on the Java fixture (NOTES §6.4): discount applies to the subtotal, each line's tax to its
/// discounted amount. Compound taxes (tax 2 on top of tax 1) follow `compounded_tax` [G].
fn recompute(invoice: &mut Invoice) {
    let code = invoice.currency_code.clone();
    let lines = invoice.lines.as_deref().unwrap_or_default();
    let amount_of = |m: &Money| m.amount.parse::<Decimal>().unwrap_or(Decimal::ZERO);
    let subtotal: Decimal = lines.iter().map(|l| amount_of(&l.amount)).sum();
    let rate = invoice
        .discount_value
        .parse::<Decimal>()
        .unwrap_or(Decimal::ZERO);
    let keep = Decimal::ONE - rate / Decimal::ONE_HUNDRED;
    let discount_total = -(subtotal * rate / Decimal::ONE_HUNDRED).round_dp(2);
    let tax: Decimal = lines
        .iter()
        .map(|l| {
            let base = amount_of(&l.amount) * keep;
            let t1 = (base * l.taxAmount1.parse().unwrap_or(Decimal::ZERO) / Decimal::ONE_HUNDRED)
                .round_dp(2);
            let base2 = if l.compounded_tax { base + t1 } else { base };
            let t2 = (base2 * l.taxAmount2.parse().unwrap_or(Decimal::ZERO) / Decimal::ONE_HUNDRED)
                .round_dp(2);
            t1 + t2
        })
        .sum();
    invoice.discount_total = money(discount_total, &code);
    invoice.discount = Some(Discount {
        amount: money(-discount_total, &code),
        rate: plain(rate),
        kind: "percent".into(),
    });
    invoice.amount = money(subtotal + discount_total + tax, &code);
}

/// Derives paid/outstanding/status from the invoice's live payments (NOTES §6.3 observed transitions).
pub(crate) fn settle(account: &mut Account, invoice_id: u64) {
    let sent = account.sent.get(&invoice_id).copied().unwrap_or(false);
    let payments: Vec<_> = account
        .payments
        .values()
        .filter(|p| p.invoiceid == invoice_id && p.vis_state != 1)
        .map(|p| {
            (
                p.amount.amount.parse::<Decimal>().unwrap_or(Decimal::ZERO),
                p.date.clone(),
            )
        })
        .collect();
    let Some(invoice) = account.invoices.get_mut(&invoice_id) else {
        return;
    };
    let code = invoice.currency_code.clone();
    let total = invoice
        .amount
        .amount
        .parse::<Decimal>()
        .unwrap_or(Decimal::ZERO);
    let paid: Decimal = payments.iter().map(|(a, _)| *a).sum();
    invoice.paid = money(paid, &code);
    invoice.net_paid_amount = money(paid, &code);
    invoice.outstanding = money((total - paid).max(Decimal::ZERO), &code);
    let base_status = if sent { 2 } else { 1 };
    let base_v3 = if sent { "sent" } else { "draft" };
    invoice.display_status = base_v3.into();
    if paid > Decimal::ZERO && paid >= total {
        // Fully paid: status 4 / "paid" / date_paid set — inferred from docs, not recorded (NOTES §13).
        invoice.status = 4;
        invoice.v3_status = "paid".into();
        invoice.payment_status = "paid".into();
        invoice.date_paid = payments.iter().map(|(_, d)| d.clone()).max();
    } else if paid > Decimal::ZERO {
        invoice.status = base_status;
        invoice.v3_status = "partial".into();
        invoice.payment_status = "partial".into();
        invoice.date_paid = None;
    } else {
        invoice.status = base_status;
        invoice.v3_status = base_v3.into();
        invoice.payment_status = "unpaid".into();
        invoice.date_paid = None;
    }
}

fn render(invoice: &Invoice, query: &ListQuery) -> Invoice {
    let mut out = invoice.clone();
    if !query.includes("lines") {
        out.lines = None;
    }
    out
}

pub(crate) async fn create_invoice(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let query = ListQuery::parse(raw.as_deref());
    let patch = body_object(&body, "invoice")?;
    let customer_id = patch
        .get("customerid")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .ok_or_else(|| {
            ApiError::invalid(
                1001,
                "invoice",
                "customerid",
                "Field customerid is required.",
            )
        })?;
    let mut store = state.store();
    let id = store.next_id();
    let account = store.authorize(&headers, &account_id)?;
    let client = account
        .clients
        .get(&customer_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("client", "customerid", customer_id))?;
    let currency = patch
        .get("currency_code")
        .and_then(Value::as_str)
        .unwrap_or(&client.currency_code)
        .to_owned();
    let zero = money(Decimal::ZERO, &currency);
    let now = clock::eastern_now();
    let invoice_number = format!("{:07}", account.next_invoice_number);
    let blank = Invoice {
        accountid: account_id.clone(),
        accounting_systemid: account_id.clone(),
        address: String::new(),
        amount: zero.clone(),
        attach_pdf_to_email: false,
        auto_bill: false,
        autobill_status: None,
        basecampid: 0,
        city: client.p_city.clone(),
        code: client.p_code.clone(),
        country: client.p_country.clone(),
        create_date: clock::eastern_today(),
        created_at: now.clone(),
        currency_code: currency.clone(),
        current_organization: client.organization.clone(),
        customerid: customer_id,
        date_paid: None,
        deposit_amount: None,
        deposit_percentage: None,
        deposit_status: "none".into(),
        description: String::new(),
        discount: None,
        discount_description: None,
        discount_total: zero.clone(),
        discount_value: "0".into(),
        display_status: "draft".into(),
        dispute_status: None,
        due_date: String::new(),
        due_offset_days: 0,
        estimateid: 0,
        ext_archive: 0,
        fname: client.fname.clone(),
        fulfillment_date: None,
        generation_date: None,
        gmail: false,
        id,
        invoice_number,
        invoiceid: id,
        language: "en".into(),
        last_order_status: None,
        lines: Some(Vec::new()),
        lname: client.lname.clone(),
        lock_status: Some("unlocked".into()),
        net_paid_amount: zero.clone(),
        notes: String::new(),
        organization: client.organization.clone(),
        outstanding: zero.clone(),
        ownerid: 1,
        paid: zero,
        parent: 0,
        payment_details: String::new(),
        payment_status: "unpaid".into(),
        po_number: None,
        presentation: None,
        province: client.p_province.clone(),
        return_uri: None,
        sender_address: Some(SenderAddress::default()),
        sentid: 1,
        series: Some(String::new()),
        show_attachments: true,
        status: 1,
        street: client.p_street.clone(),
        street2: client.p_street2.clone(),
        template: "clean-grouped".into(),
        terms: None,
        updated: now,
        uuid: uuid::Uuid::new_v4().to_string(),
        v3_status: "draft".into(),
        vat_name: Some(String::new()),
        vat_number: Some(String::new()),
        version: clock::eastern_version(),
        vis_state: 0,
    };
    let mut invoice = merge(&blank, &patch, READ_ONLY, "invoice")?;
    invoice.due_date = due_date(&invoice.create_date, invoice.due_offset_days)?;
    let lines = patch
        .get("lines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    apply_lines(account, &mut invoice, &lines)?;
    if patch.get("invoice_number").is_none() {
        account.next_invoice_number += 1;
    }
    account.sent.insert(id, false);
    account.invoices.insert(id, invoice);
    settle(account, id);
    let stored = account
        .invoices
        .get(&id)
        .ok_or_else(|| ApiError::not_found("invoice", "invoiceid", id))?;
    Ok(envelope("invoice", render(stored, &query)))
}

fn due_date(create_date: &str, offset: i64) -> Result<String, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(create_date, &format).map_err(|_| {
        ApiError::invalid(
            1033,
            "invoice",
            "create_date",
            "Invalid date; expected YYYY-MM-DD.",
        )
    })?;
    let due = date
        .checked_add(time::Duration::days(offset))
        .unwrap_or(date);
    Ok(due.to_string())
}

pub(crate) async fn get_invoice(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let query = ListQuery::parse(raw.as_deref());
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let invoice = id
        .parse()
        .ok()
        .and_then(|id| account.invoices.get(&id))
        .ok_or_else(|| ApiError::not_found("invoice", "invoiceid", &id))?;
    Ok(envelope("invoice", render(invoice, &query)))
}

pub(crate) async fn update_invoice(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let query = ListQuery::parse(raw.as_deref());
    let patch: Map<String, Value> = body_object(&body, "invoice")?;
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let id: u64 = id
        .parse()
        .ok()
        .filter(|id| account.invoices.contains_key(id))
        .ok_or_else(|| ApiError::not_found("invoice", "invoiceid", &id))?;
    let flag = |k: &str| {
        patch
            .get(k)
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_i64() == Some(1))
    };
    let mut invoice = account
        .invoices
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("invoice", "invoiceid", id))?;
    if let Some(vis) = vis_state_only(&patch) {
        invoice.vis_state = vis;
    } else if flag("action_mark_as_sent") || flag("action_email") {
        // Actions apply alone, like vis_state (NOTES §0.8); emailing also marks the invoice sent.
        account.sent.insert(id, true);
    } else {
        invoice = merge(&invoice, &patch, READ_ONLY, "invoice")?;
        invoice.due_date = due_date(&invoice.create_date, invoice.due_offset_days)?;
        match patch.get("lines").and_then(Value::as_array) {
            Some(lines) => apply_lines(account, &mut invoice, lines)?,
            None => recompute(&mut invoice),
        }
    }
    invoice.updated = clock::eastern_now();
    invoice.version = clock::eastern_version();
    account.invoices.insert(id, invoice);
    settle(account, id);
    let stored = account
        .invoices
        .get(&id)
        .ok_or_else(|| ApiError::not_found("invoice", "invoiceid", id))?;
    Ok(envelope("invoice", render(stored, &query)))
}

/// `DELETE invoices/invoices/<id>`: marks it deleted (vis_state 1) and answers `{"response":{}}` like taxes [G].
pub(crate) async fn delete_invoice(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let invoice = id
        .parse()
        .ok()
        .and_then(|id| account.invoices.get_mut(&id))
        .ok_or_else(|| ApiError::not_found("invoice", "invoiceid", &id))?;
    invoice.vis_state = 1;
    invoice.updated = clock::eastern_now();
    Ok(Json(json!({"response": {}})))
}

pub(crate) async fn list_invoices(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let query = ListQuery::parse(raw.as_deref());
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let rows = account
        .invoices
        .values()
        // Rendering every invoice per search made a lookup by client O(all invoices) under the store lock.
        .filter(|i| query.admits("customerid", i.customerid))
        .map(|i| json!(render(i, &query)))
        .collect();
    Ok(list_envelope(list_result(
        "invoices",
        rows,
        &query,
        INVOICE_FILTERS,
        "invoice",
    )?))
}
