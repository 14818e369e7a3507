//! Credit notes (`credit_notes/credit_notes`, docs/freshbooks.md §14.1): list, get, create, phased update
//! and delete by `vis_state`. A credit note is not linked to an invoice; it raises its client's credit balance
//! ([`super::ledger::credit_balance`]), which payments of type `Credit` spend.

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
use super::invoices::{tax_number, valid_vis_state};
use super::ledger::{amount, credit_spent};
use super::model::{Client, CreditLine, CreditNote, Invoice};
use super::objects::{body_object, envelope, list_envelope, merge, money, plain};
use super::query::{Filter, ListQuery, list_result};
use super::state::Account;
use super::totals::{self, LineInput, LineTax};

type Reply = Result<Json<Value>, ApiError>;

/// guess: no filter table is documented; third parties use `search[clientid]` (docs/freshbooks.md §14.1.3).
const CREDIT_FILTERS: &[(&str, Filter)] = &[
    ("clientid", Filter::Eq("clientid")),
    ("clientids", Filter::In("clientid")),
    ("creditid", Filter::Eq("creditid")),
    ("creditids", Filter::In("creditid")),
    ("credit_number", Filter::Eq("credit_number")),
    ("credit_type", Filter::Eq("credit_type")),
    ("currency_code", Filter::Eq("currency_code")),
];

/// Keys the server owns. `description` is system text ("Goodwill Credit", "Overpayment: invo…").
const READ_ONLY: &[&str] = &[
    "id",
    "creditid",
    "accounting_systemid",
    "amount",
    "paid",
    "payment_status",
    "status",
    "display_status",
    "description",
    "lines",
    "clientid",
    "credit_type",
    "current_organization",
    "sentid",
    "dispute_status",
    "last_order_status",
];

/// The request body: `credit_note`, or `credit_notes` as the Node SDK sends it (docs/freshbooks.md §14.1.1:
/// accept both).
fn credit_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    body_object(body, "credit_note").or_else(|e| body_object(body, "credit_notes").map_err(|_| e))
}

/// The system description of each credit type (guess for all but goodwill, which Postman shows).
fn description(credit_type: &str, invoice_number: Option<&str>) -> String {
    match credit_type {
        "overpayment" => format!(
            "Overpayment: invoice {}",
            invoice_number.unwrap_or_default()
        ),
        "prepayment" => "Prepayment Credit".into(),
        _ => "Goodwill Credit".into(),
    }
}

/// The client details a credit note copies (like an invoice, it keeps a snapshot, docs/freshbooks.md §14.1.3).
struct Party {
    clientid: u64,
    organization: String,
    fname: String,
    lname: String,
    street: String,
    street2: String,
    city: String,
    province: String,
    code: String,
    country: String,
    vat_name: String,
    vat_number: String,
}

impl From<&Client> for Party {
    fn from(c: &Client) -> Self {
        Self {
            clientid: c.id,
            organization: c.organization.clone(),
            fname: c.fname.clone(),
            lname: c.lname.clone(),
            street: c.p_street.clone(),
            street2: c.p_street2.clone(),
            city: c.p_city.clone(),
            province: c.p_province.clone(),
            code: c.p_code.clone(),
            country: c.p_country.clone(),
            vat_name: c.vat_name.clone().unwrap_or_default(),
            vat_number: c.vat_number.clone().unwrap_or_default(),
        }
    }
}

impl From<&Invoice> for Party {
    fn from(i: &Invoice) -> Self {
        Self {
            clientid: i.customerid,
            organization: i.organization.clone(),
            fname: i.fname.clone(),
            lname: i.lname.clone(),
            street: i.street.clone(),
            street2: i.street2.clone(),
            city: i.city.clone(),
            province: i.province.clone(),
            code: i.code.clone(),
            country: i.country.clone(),
            vat_name: i.vat_name.clone().unwrap_or_default(),
            vat_number: i.vat_number.clone().unwrap_or_default(),
        }
    }
}

/// A credit note with no lines, numbered from the account's own sequence (guess: auto-numbered like invoices).
fn blank(
    account: &mut Account,
    id: u64,
    party: Party,
    currency: &str,
    credit_type: &str,
) -> CreditNote {
    let number = format!("{:07}", account.next_credit_number);
    account.next_credit_number += 1;
    CreditNote {
        accounting_systemid: account.account_id.clone(),
        amount: money(Decimal::ZERO, currency),
        city: party.city,
        clientid: party.clientid,
        code: party.code,
        country: party.country,
        create_date: clock::eastern_today(),
        credit_number: number,
        credit_type: credit_type.into(),
        creditid: id,
        currency_code: currency.into(),
        current_organization: party.organization.clone(),
        description: description(credit_type, None),
        // guess: Postman shows "created" for a credit made through the API (not "draft").
        display_status: "created".into(),
        dispute_status: None,
        ext_archive: 0,
        fname: party.fname,
        id,
        language: "en".into(),
        last_order_status: None,
        lines: Some(Vec::new()),
        lname: party.lname,
        notes: String::new(),
        organization: party.organization,
        // guess: every Postman goodwill credit shows paid == amount and "paid" (docs/freshbooks.md §14.1.3); the
        // simulator keeps that and tracks what is left in the client's credit balance instead.
        paid: money(Decimal::ZERO, currency),
        payment_status: "paid".into(),
        province: party.province,
        sentid: 1,
        status: "created".into(),
        street: party.street,
        street2: party.street2,
        template: "clean-grouped".into(),
        terms: None,
        vat_name: party.vat_name,
        vat_number: party.vat_number,
        vis_state: 0,
    }
}

/// The `overpayment` credit FreshBooks makes for the excess of a payment (docs/freshbooks.md §14.1.5), with one
/// line "Overpayment", for the caller to store. It copies the client details from the invoice.
pub(crate) fn overpayment_credit(
    account: &mut Account,
    id: u64,
    invoice: &Invoice,
    excess: Decimal,
    date: &str,
) -> CreditNote {
    let mut note = blank(
        account,
        id,
        Party::from(invoice),
        &invoice.currency_code,
        "overpayment",
    );
    note.description = description("overpayment", Some(&invoice.invoice_number));
    note.create_date = date.to_owned();
    let line = LineInput {
        name: "Overpayment".into(),
        description: note.description.clone(),
        qty: Decimal::ONE,
        unit_cost: excess,
        ..LineInput::default()
    };
    set_lines(account, &mut note, vec![line]);
    note
}

/// A stored credit line back as its request.
fn input_of(line: &CreditLine) -> LineInput {
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
        kind: 0,
        expenseid: 0,
    }
}

/// Stores lines (ids `"<creditid>-<n>"`, `taskno` n) and the credit's `amount` (and `paid`, see [`blank`]) by
/// the invoice totals rule without a discount.
fn set_lines(account: &Account, note: &mut CreditNote, inputs: Vec<LineInput>) {
    let code = note.currency_code.clone();
    let total = totals::compute(&inputs, Decimal::ZERO).amount;
    let lines = inputs
        .into_iter()
        .enumerate()
        .map(|(index, input)| CreditLine {
            amount: money(input.amount(), &code),
            compounded_tax: input.compounded_tax,
            creditid: note.id,
            description: input.description,
            id: format!("{}-{}", note.id, index + 1),
            name: input.name,
            qty: plain(input.qty),
            taskno: index as u64 + 1,
            taxAmount1: plain(input.tax1.rate),
            taxAmount2: plain(input.tax2.rate),
            taxNumber1: tax_number(account, input.tax1.name.as_deref()),
            taxNumber2: tax_number(account, input.tax2.name.as_deref()),
            taxName1: input.tax1.name,
            taxName2: input.tax2.name,
            unit_cost: money(input.unit_cost, &code),
        })
        .collect();
    note.lines = Some(lines);
    note.amount = money(total, &code);
    note.paid = money(total, &code);
}

/// Reads request lines; a line whose `id` names a stored line (`"<creditid>-<n>"`) starts from it (Postman
/// "Update Credit Note"). guess: lines left out are removed, as for invoices.
fn read_lines(note: &CreditNote, raw: &[Value]) -> Result<Vec<LineInput>, ApiError> {
    let existing = note.lines.as_deref().unwrap_or_default();
    raw.iter()
        .map(|line| {
            let id = line.get("id").and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            });
            let base = id.and_then(|id| existing.iter().find(|l| l.id == id).map(input_of));
            LineInput::parse(line, base, "credit_note")
        })
        .collect()
}

fn render(note: &CreditNote, query: &ListQuery) -> CreditNote {
    let mut out = note.clone();
    if !query.includes("lines") {
        out.lines = None;
    }
    out
}

fn credit_type(patch: &Map<String, Value>) -> Result<Option<&'static str>, ApiError> {
    match patch.get("credit_type") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_str() {
            Some("goodwill") => Ok(Some("goodwill")),
            Some("prepayment") => Ok(Some("prepayment")),
            // guess: `overpayment` credits are made by the system only (docs/freshbooks.md §14.1.2 lists two
            // types for create).
            _ => Err(ApiError::invalid(
                1004,
                "credit_note",
                "credit_type",
                "credit_type must be goodwill or prepayment.",
            )),
        },
    }
}

/// guess: a credit note's amount is never negative (it would lower the client's credit).
fn check_amount(note: &CreditNote, spent: Decimal) -> Result<(), ApiError> {
    let total = amount(&note.amount);
    if total < Decimal::ZERO {
        return Err(ApiError::invalid(
            1004,
            "credit_note",
            "lines",
            "A credit note cannot total less than zero.",
        ));
    }
    if total < spent {
        return Err(ApiError::invalid(
            1004,
            "credit_note",
            "lines",
            format!(
                "{spent} {} of this credit has been spent.",
                note.currency_code
            ),
        ));
    }
    Ok(())
}

/// `POST credit_notes/credit_notes`: `clientid` is required; `credit_type` defaults to `goodwill` (guess),
/// `currency_code` to the client's, `create_date` to today, `credit_number` to the next in sequence.
pub(crate) async fn create_credit_note(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let query = ListQuery::parse(raw.as_deref());
    let patch = credit_body(&body)?;
    let client_id = patch
        .get("clientid")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .ok_or_else(|| {
            ApiError::invalid(
                1001,
                "credit_note",
                "clientid",
                "Field clientid is required.",
            )
        })?;
    let kind = credit_type(&patch)?.unwrap_or("goodwill");
    let mut store = state.store();
    let id = store.next_id();
    let account = store.authorize(&headers, &account_id)?;
    let client = account
        .clients
        .get(&client_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("client", "clientid", client_id))?;
    let currency = patch
        .get("currency_code")
        .and_then(Value::as_str)
        .unwrap_or(&client.currency_code)
        .to_owned();
    let number_sent = patch.get("credit_number").is_some();
    let mut note = blank(account, id, Party::from(&client), &currency, kind);
    if number_sent {
        account.next_credit_number -= 1; // a sent number does not use up the sequence
    }
    note = merge(&note, &patch, READ_ONLY, "credit_note")?;
    let lines = match patch.get("lines") {
        Some(Value::Array(lines)) => read_lines(&note, lines)?,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            return Err(ApiError::invalid(
                1004,
                "credit_note",
                "lines",
                "Field lines must be a list.",
            ));
        }
    };
    set_lines(account, &mut note, lines);
    check_amount(&note, Decimal::ZERO)?;
    account.credit_notes.insert(id, note.clone());
    Ok(envelope("credit_note", render(&note, &query)))
}

pub(crate) async fn get_credit_note(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let query = ListQuery::parse(raw.as_deref());
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let note = id
        .parse()
        .ok()
        .and_then(|id| account.credit_notes.get(&id))
        .ok_or_else(|| ApiError::not_found("credit_note", "creditid", &id))?;
    Ok(envelope("credit_note", render(note, &query)))
}

/// `PUT credit_notes/credit_notes/<id>`, phased like invoices (docs/freshbooks.md §14.1.1): `vis_state` alone (1
/// deletes), else an action (`action_email` / `action_mark_as_sent` → status "sent", guess), else a partial merge where
/// `lines` replaces the set.
///
/// guess: a credit that has been spent cannot be deleted, change currency, or drop below what was spent
/// (errno 1004); a deleted credit note refuses other changes (errno 1011); only goodwill and prepayment credits
/// can change type, and only to each other.
pub(crate) async fn update_credit_note(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let query = ListQuery::parse(raw.as_deref());
    let patch = credit_body(&body)?;
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let mut note = id
        .parse()
        .ok()
        .and_then(|id| account.credit_notes.get(&id))
        .cloned()
        .ok_or_else(|| ApiError::not_found("credit_note", "creditid", &id))?;
    let spent = credit_spent(account, note.clientid, &note.currency_code)
        .get(&note.id)
        .copied()
        .unwrap_or_default();
    let flag = |k: &str| {
        patch
            .get(k)
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_i64() == Some(1))
    };
    if let Some(vis) = vis_state_only(&patch) {
        let vis = valid_vis_state(vis, "credit_note")?;
        if vis == 1 && spent > Decimal::ZERO {
            return Err(ApiError::invalid(
                1004,
                "credit_note",
                "vis_state",
                "A credit note that has been applied to an invoice cannot be deleted.",
            ));
        }
        note.vis_state = vis;
    } else if note.vis_state == 1 {
        return Err(ApiError::invalid(
            1011,
            "credit_note",
            "vis_state",
            "Credit note is deleted.",
        ));
    } else if flag("action_email") || flag("action_mark_as_sent") {
        note.status = "sent".into();
        note.display_status = "sent".into();
    } else {
        if let Some(kind) = credit_type(&patch)? {
            if note.credit_type == "overpayment" {
                return Err(ApiError::invalid(
                    1004,
                    "credit_note",
                    "credit_type",
                    "An overpayment credit keeps its type.",
                ));
            }
            note.credit_type = kind.into();
            note.description = description(kind, None);
        }
        let currency = note.currency_code.clone();
        note = merge(&note, &patch, READ_ONLY, "credit_note")?;
        if note.currency_code != currency && spent > Decimal::ZERO {
            return Err(ApiError::invalid(
                1004,
                "credit_note",
                "currency_code",
                "A spent credit keeps its currency.",
            ));
        }
        let lines = match patch.get("lines") {
            Some(Value::Array(lines)) => read_lines(&note, lines)?,
            _ => note.lines.iter().flatten().map(input_of).collect(),
        };
        set_lines(account, &mut note, lines);
        check_amount(&note, spent)?;
    }
    account.credit_notes.insert(note.id, note.clone());
    Ok(envelope("credit_note", render(&note, &query)))
}

pub(crate) async fn list_credit_notes(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let query = ListQuery::parse(raw.as_deref());
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let rows = account
        .credit_notes
        .values()
        .filter(|c| query.admits("clientid", c.clientid))
        .map(|c| json!(render(c, &query)))
        .collect();
    Ok(list_envelope(list_result(
        "credit_notes",
        rows,
        &query,
        CREDIT_FILTERS,
        "credit_note",
    )?))
}
