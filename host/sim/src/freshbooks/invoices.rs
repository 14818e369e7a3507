//! Invoices: create, get, list, and the phased update (visibility, then actions, then data) with replace-all
//! lines, delete and restore (docs/freshbooks.md §6.3–§6.4, §7, §14.2). Totals follow [`super::totals`];
//! paid/outstanding/status follow [`super::ledger::settle`].

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
use super::ledger::{amount, settle};
use super::model::{Discount, Invoice, Line, SenderAddress};
use super::objects::{body_object, envelope, list_envelope, merge, money, plain};
use super::query::{Filter, ListQuery, list_result};
use super::state::Account;
use super::totals::{self, LineInput, LineTax, Totals, discount_percent};

type Reply = Result<Json<Value>, ApiError>;

/// Invoice filter names: the table was not retrievable (docs/freshbooks.md §5); these are the ones in wide use [G].
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

/// Server-computed and create-only keys a PUT cannot change (docs/freshbooks.md §14.2.1): `READ_ONLY` plus what
/// only a create may set. `status` is handled apart (see [`status_change`]).
const UPDATE_READ_ONLY: &[&str] = &[
    "autobill_status",
    "last_order_status",
    "auto_bill",
    "ownerid",
    "estimateid",
    "sentid",
];

/// A stored line back as the request it came from, so an update naming it by `lineid` keeps what it leaves out.
fn input_of(line: &Line) -> LineInput {
    let number = |s: &str| s.parse().unwrap_or(Decimal::ZERO);
    LineInput {
        name: line.name.clone(),
        description: line.description.clone(),
        qty: number(&line.qty),
        unit_cost: amount(&line.unit_cost),
        tax1: LineTax {
            name: line.taxName1.clone(),
            rate: number(&line.taxAmount1),
        },
        tax2: LineTax {
            name: line.taxName2.clone(),
            rate: number(&line.taxAmount2),
        },
        compounded_tax: line.compounded_tax,
        kind: line.kind,
        expenseid: line.expenseid,
    }
}

/// The registration number of the account's tax with this name (`taxNumber1`/`taxNumber2` are read-only copies).
pub(crate) fn tax_number(account: &Account, name: Option<&str>) -> Option<String> {
    let name = name.filter(|n| !n.is_empty())?;
    account
        .taxes
        .values()
        .find(|t| t.name == name)
        .and_then(|t| t.number.clone())
}

/// Replaces the invoice's lines with the request's (a PUT with `lines` replaces the whole set, docs/freshbooks.md
/// §6.4) and recomputes the totals. A request line carrying the `lineid` of a stored line starts from that line.
///
/// guess: lines are renumbered 1…n in request order ("`lineid` 1-based per invoice").
fn apply_lines(account: &Account, invoice: &mut Invoice, lines: &[Value]) -> Result<(), ApiError> {
    let now = clock::eastern_now();
    let existing = invoice.lines.clone().unwrap_or_default();
    let mut built = Vec::with_capacity(lines.len());
    for (index, raw) in lines.iter().enumerate() {
        let lineid = raw.get("lineid").and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        let base = lineid.and_then(|id| existing.iter().find(|l| l.lineid == id).map(input_of));
        let input = LineInput::parse(raw, base, "line")?;
        let number = index as u64 + 1;
        built.push(Line {
            amount: money(input.amount(), &invoice.currency_code),
            basecampid: 0,
            compounded_tax: input.compounded_tax,
            date: None,
            description: input.description.clone(),
            expenseid: input.expenseid,
            invoiceid: invoice.id,
            lineid: number,
            modern_project_id: None,
            modern_time_entries: Vec::new(),
            name: input.name.clone(),
            qty: plain(input.qty),
            retainer_id: None,
            retainer_period_id: None,
            taskno: number,
            taxAmount1: plain(input.tax1.rate),
            taxAmount2: plain(input.tax2.rate),
            taxNumber1: tax_number(account, input.tax1.name.as_deref()),
            taxNumber2: tax_number(account, input.tax2.name.as_deref()),
            taxName1: input.tax1.name,
            taxName2: input.tax2.name,
            kind: input.kind,
            unit_cost: money(input.unit_cost, &invoice.currency_code),
            updated: now.clone(),
        });
    }
    invoice.lines = Some(built);
    recompute(invoice)
}

/// The totals of an invoice's stored lines and discount (rule in [`super::totals`]).
pub(crate) fn totals_of(invoice: &Invoice) -> Result<Totals, ApiError> {
    let inputs: Vec<LineInput> = invoice.lines.iter().flatten().map(input_of).collect();
    Ok(totals::compute(
        &inputs,
        discount_percent(&invoice.discount_value)?,
    ))
}

/// Recomputes `amount`, `discount_total` and the live-only `discount` block from lines and `discount_value`.
fn recompute(invoice: &mut Invoice) -> Result<(), ApiError> {
    let totals = totals_of(invoice)?;
    let code = invoice.currency_code.clone();
    let rate = discount_percent(&invoice.discount_value)?;
    invoice.discount_total = money(totals.discount_total, &code);
    invoice.discount = Some(Discount {
        amount: money(-totals.discount_total, &code),
        rate: plain(rate),
        kind: "percent".into(),
    });
    invoice.amount = money(totals.amount, &code);
    Ok(())
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
    discount_percent(&invoice.discount_value)?;
    let lines = patch
        .get("lines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    apply_lines(account, &mut invoice, &lines)?;
    if patch.get("invoice_number").is_none() {
        account.next_invoice_number += 1;
    }
    // `status` is writable on create (SDK docs, docs/freshbooks.md §14.0.6): 2 creates the invoice sent, as
    // `action_mark_as_sent` would afterwards. guess: any other value leaves a draft.
    let sent = status_change(&invoice, &patch)? == Some(true);
    account.sent.insert(id, sent);
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

/// `PUT invoices/invoices/<id>`. Only the first phase present applies, the rest of the body is dropped
/// (§14.2.1–§2.3, docs/freshbooks.md §7.2):
/// 1. `ext_vis_state` / `vis_state`: 0 restore, 1 delete, 2 archive;
/// 2. actions: `action_mark_as_sent`, `action_email` (both leave the invoice sent);
/// 3. data: a partial merge; `lines` replaces every line; totals, outstanding and status are recomputed.
///
/// Data and actions on a deleted invoice are refused with 422 errno 1011 (guess: FreshBooks' DeletedResource
/// errno; restore it first). A locked invoice (`lock_status` "locked") refuses data edits other than unlocking
/// it, with errno 1004 (guess, docs/freshbooks.md §14.2.1).
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
    let mut invoice = id
        .parse()
        .ok()
        .and_then(|id| account.invoices.get(&id))
        .cloned()
        .ok_or_else(|| ApiError::not_found("invoice", "invoiceid", &id))?;
    let id = invoice.id;
    let flag = |k: &str| {
        patch
            .get(k)
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_i64() == Some(1))
    };
    if let Some(vis) = vis_state_only(&patch) {
        invoice.vis_state = valid_vis_state(vis, "invoice")?;
    } else if invoice.vis_state == 1 {
        return Err(ApiError::invalid(
            1011,
            "invoice",
            "vis_state",
            "Invoice is deleted.",
        ));
    } else if flag("action_mark_as_sent") || flag("action_email") {
        account.sent.insert(id, true);
    } else {
        let unlocking = patch.get("lock_status").and_then(Value::as_str) == Some("unlocked");
        if invoice.lock_status.as_deref() == Some("locked") && !unlocking {
            return Err(ApiError::invalid(
                1004,
                "invoice",
                "lock_status",
                "Invoice is locked.",
            ));
        }
        if let Some(sent) = status_change(&invoice, &patch)? {
            account.sent.insert(id, sent);
        }
        let mut read_only = READ_ONLY.to_vec();
        read_only.extend_from_slice(UPDATE_READ_ONLY);
        invoice = merge(&invoice, &patch, &read_only, "invoice")?;
        invoice.due_date = due_date(&invoice.create_date, invoice.due_offset_days)?;
        match patch.get("lines") {
            Some(Value::Array(lines)) => apply_lines(account, &mut invoice, lines)?,
            Some(Value::Null) | None => recompute(&mut invoice)?,
            Some(_) => {
                return Err(ApiError::invalid(
                    1004,
                    "invoice",
                    "lines",
                    "Field lines must be a list.",
                ));
            }
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

/// `vis_state` must be 0 (active), 1 (deleted) or 2 (archived) (docs/freshbooks.md §6.1).
pub(crate) fn valid_vis_state(vis: i64, object: &str) -> Result<i64, ApiError> {
    match vis {
        0..=2 => Ok(vis),
        _ => Err(ApiError::invalid(
            1004,
            object,
            "vis_state",
            "vis_state must be 0, 1 or 2.",
        )),
    }
}

/// What a data-phase `status` does: `status` is create-only (SDK docs), except that FreshBooks' own Postman
/// "Update Invoice" marks a draft sent with `{"status":2}`; the Classic API refused moving a paid or partly paid
/// invoice back to draft (docs/freshbooks.md §14.2.1). Returns the new "sent" flag, or `None` when nothing
/// changes.
fn status_change(invoice: &Invoice, patch: &Map<String, Value>) -> Result<Option<bool>, ApiError> {
    let status = patch.get("status").and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    });
    match status {
        Some(2) if invoice.status == 1 => Ok(Some(true)),
        Some(1) if amount(&invoice.paid) > Decimal::ZERO => Err(ApiError::invalid(
            1004,
            "invoice",
            "status",
            "A paid or partially paid invoice cannot be set back to draft.",
        )),
        // guess: an unpaid sent invoice may go back to draft (the Classic API refused only paid ones).
        Some(1) => Ok(Some(false)),
        _ => Ok(None),
    }
}

/// `DELETE invoices/invoices/<id>`: marks it deleted (vis_state 1) like `PUT {"vis_state":1}` and answers
/// `{"response":{}}` like taxes (guess, docs/freshbooks.md §3.1). Its payments stay (guess, §14.2.3).
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
    let id = invoice.id;
    settle(account, id);
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
