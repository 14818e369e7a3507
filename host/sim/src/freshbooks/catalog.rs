//! Clients, items and taxes: create / get / update / list (docs/freshbooks.md §4–§6).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use super::clock;
use super::error::ApiError;
use super::ledger::{credit_balances, outstanding_balances};
use super::model::{Client, Item, Money, Tax};
use super::objects::{body_object, envelope, list_envelope, merge, normalize};
use super::query::{Filter, ListQuery, list_result};
use super::state::Account;
use super::{SharedState, model};

type Reply = Result<Json<Value>, ApiError>;

/// `search[...]` names for clients (docs/freshbooks.md §5).
const CLIENT_FILTERS: &[(&str, Filter)] = &[
    ("email", Filter::Eq("email")),
    ("userid", Filter::Eq("userid")),
    ("userids", Filter::In("userid")),
    ("username", Filter::Eq("username")),
    ("fname_like", Filter::Like(&["fname"])),
    ("lname_like", Filter::Like(&["lname"])),
    ("organization_like", Filter::Like(&["organization"])),
    ("note_like", Filter::Like(&["note"])),
    (
        "address_like",
        Filter::Like(&[
            "p_street",
            "p_street2",
            "p_city",
            "p_province",
            "p_code",
            "p_country",
        ]),
    ),
    (
        "phone_like",
        Filter::Like(&["bus_phone", "home_phone", "mob_phone", "fax"]),
    ),
    (
        "user_like",
        Filter::Like(&["fname", "lname", "organization"]),
    ),
    ("updated_min", Filter::Min("updated")),
    ("updated_max", Filter::Max("updated")),
];

/// `search[...]` names for items. No `name` filter is documented (docs/freshbooks.md §5), so `search[name]` is ignored
/// like any unknown filter — a caller relying on it gets every item back. Search by `sku`.
const ITEM_FILTERS: &[(&str, Filter)] = &[
    ("itemid", Filter::Eq("itemid")),
    ("itemids", Filter::In("itemid")),
    ("sku", Filter::Eq("sku")),
    ("description", Filter::Like(&["description"])),
    ("unit_cost_min", Filter::Min("unit_cost.amount")),
    ("unit_cost_max", Filter::Max("unit_cost.amount")),
    ("inventory_min", Filter::Min("inventory")),
    ("inventory_max", Filter::Max("inventory")),
    ("qty_min", Filter::Min("qty")),
    ("qty_max", Filter::Max("qty")),
    ("updated_min", Filter::Min("updated")),
    ("updated_max", Filter::Max("updated")),
];

/// `search[...]` names for taxes.
const TAX_FILTERS: &[(&str, Filter)] = &[
    ("taxid", Filter::Eq("taxid")),
    ("taxids", Filter::In("taxid")),
    ("name", Filter::Like(&["name"])),
    ("number", Filter::Like(&["number"])),
    ("compound", Filter::Bool("compound")),
    ("updated_min", Filter::Min("updated")),
    ("updated_max", Filter::Max("updated")),
];

/// Keys a PUT/POST may not set.
const CLIENT_READ_ONLY: &[&str] = &[
    "id",
    "userid",
    "accounting_systemid",
    "signup_date",
    "updated",
    "uuid",
    "role",
    "level",
    "num_logins",
];
const ITEM_READ_ONLY: &[&str] = &["id", "itemid", "accounting_systemid", "updated"];
const TAX_READ_ONLY: &[&str] = &["id", "taxid", "accounting_systemid", "updated"];

/// A patch carrying `vis_state` (or `ext_vis_state`) applies only that (docs/freshbooks.md §0.8, §7.2).
pub(crate) fn vis_state_only(patch: &Map<String, Value>) -> Option<i64> {
    patch
        .get("ext_vis_state")
        .or_else(|| patch.get("vis_state"))
        .and_then(Value::as_i64)
}

pub(crate) async fn create_client(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let patch = body_object(&body, "client")?;
    let mut store = state.store();
    let id = store.next_id();
    let account = store.authorize(&headers, &account_id)?;
    let now = clock::eastern_now();
    let blank = Client {
        accounting_systemid: account_id.clone(),
        allow_email_include_pdf: false,
        allow_late_fees: true,
        allow_late_notifications: true,
        bus_phone: String::new(),
        company_industry: None,
        company_size: None,
        currency_code: account.currency.clone(),
        direct_link_token: None,
        email: String::new(),
        exceeds_client_limit: 0,
        fax: String::new(),
        fname: String::new(),
        has_retainer: None,
        home_phone: None,
        id,
        language: "en".into(),
        last_activity: None,
        last_login: None,
        level: 0,
        lname: String::new(),
        mob_phone: String::new(),
        note: None,
        notified: false,
        num_logins: 0,
        number_format: None,
        // Sources disagree on the default organization (docs/freshbooks.md §6.2); keep what is sent, else "" [G].
        organization: String::new(),
        p_city: String::new(),
        p_code: String::new(),
        p_country: String::new(),
        p_province: String::new(),
        p_street: String::new(),
        p_street2: String::new(),
        pref_email: true,
        pref_gmail: false,
        retainer_id: None,
        role: "client".into(),
        s_city: String::new(),
        s_code: String::new(),
        s_country: String::new(),
        s_province: String::new(),
        s_street: String::new(),
        s_street2: String::new(),
        signup_date: clock::utc_now(),
        statement_token: None,
        subdomain: None,
        updated: now,
        userid: id,
        username: String::new(),
        uuid: uuid::Uuid::new_v4().to_string(),
        vat_name: None,
        vat_number: None,
        vis_state: 0,
    };
    let mut client = merge(&blank, &patch, CLIENT_READ_ONLY, "client")?;
    if client.username.is_empty() {
        // Live: fname "Test" lname "Client" → "testclient2"; the suffix is a per-account counter here [G].
        let base: String = format!("{}{}", client.fname, client.lname)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase();
        let base = if base.is_empty() {
            "client".to_owned()
        } else {
            base
        };
        client.username = format!("{base}{}", account.clients.len() + 1);
    }
    account.clients.insert(id, client.clone());
    Ok(envelope("client", client))
}

/// A client with the balance includes the query asks for (docs/freshbooks.md §5): `outstanding_balance` and
/// `credit_balance`, each `[{"amount":{"amount","code"}}]` with one entry per currency, `[]` when nothing.
fn with_includes(account: &Account, client: &Client, query: &ListQuery) -> Value {
    let mut value = json!(client);
    let balances = |list: Vec<Money>| {
        json!(
            list.into_iter()
                .map(|m| json!({"amount": m}))
                .collect::<Vec<_>>()
        )
    };
    if let Some(map) = value.as_object_mut() {
        if query.includes("outstanding_balance") {
            map.insert(
                "outstanding_balance".into(),
                balances(outstanding_balances(account, client.id)),
            );
        }
        if query.includes("credit_balance") {
            map.insert(
                "credit_balance".into(),
                balances(credit_balances(account, client.id)),
            );
        }
    }
    value
}

pub(crate) async fn get_client(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let query = ListQuery::parse(raw.as_deref());
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let client = id
        .parse()
        .ok()
        .and_then(|id| account.clients.get(&id))
        .ok_or_else(|| ApiError::not_found("client", "userid", &id))?;
    Ok(envelope("client", with_includes(account, client, &query)))
}

pub(crate) async fn update_client(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let patch = body_object(&body, "client")?;
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let client = id
        .parse()
        .ok()
        .and_then(|id| account.clients.get_mut(&id))
        .ok_or_else(|| ApiError::not_found("client", "userid", &id))?;
    if let Some(vis) = vis_state_only(&patch) {
        client.vis_state = vis;
    } else {
        *client = merge(&*client, &patch, CLIENT_READ_ONLY, "client")?;
    }
    client.updated = clock::eastern_now();
    Ok(envelope("client", &*client))
}

pub(crate) async fn list_clients(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let query = ListQuery::parse(raw.as_deref());
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let rows = account
        .clients
        .values()
        .filter(|c| query.admits("email", &c.email))
        // The host's recovery search for a client whose create reply was lost; cheap to test before serialising.
        .filter(|c| query.admits_like("note_like", c.note.as_deref()))
        // `has_credit` takes no value (docs/freshbooks.md §5); any value sent is ignored.
        .filter(|c| !query.searches("has_credit") || !credit_balances(account, c.id).is_empty())
        .map(|c| with_includes(account, c, &query))
        .collect();
    Ok(list_envelope(list_result(
        "clients",
        rows,
        &query,
        CLIENT_FILTERS,
        "client",
    )?))
}

pub(crate) async fn create_item(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let patch = body_object(&body, "item")?;
    if patch
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::invalid(
            1001,
            "item",
            "name",
            "Field name is required.",
        ));
    }
    let mut store = state.store();
    let id = store.next_id();
    let account = store.authorize(&headers, &account_id)?;
    let blank = Item {
        accounting_systemid: account_id.clone(),
        description: String::new(),
        id,
        inventory: None,
        itemid: id,
        name: String::new(),
        qty: "0".into(),
        sku: None,
        tax1: 0,
        tax2: 0,
        unit_cost: Money {
            amount: "0.00".into(),
            code: account.currency.clone(),
        },
        updated: clock::eastern_now(),
        vis_state: 0,
    };
    let mut item = merge(&blank, &patch, ITEM_READ_ONLY, "item")?;
    normalize(&mut item.unit_cost);
    account.items.insert(id, item.clone());
    Ok(envelope("item", item))
}

pub(crate) async fn get_item(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let item = id
        .parse()
        .ok()
        .and_then(|id| account.items.get(&id))
        .ok_or_else(|| ApiError::not_found("item", "itemid", &id))?;
    Ok(envelope("item", item))
}

pub(crate) async fn update_item(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let patch = body_object(&body, "item")?;
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let item = id
        .parse()
        .ok()
        .and_then(|id| account.items.get_mut(&id))
        .ok_or_else(|| ApiError::not_found("item", "itemid", &id))?;
    if let Some(vis) = vis_state_only(&patch) {
        item.vis_state = vis;
    } else {
        *item = merge(&*item, &patch, ITEM_READ_ONLY, "item")?;
        normalize(&mut item.unit_cost);
    }
    item.updated = clock::eastern_now();
    Ok(envelope("item", &*item))
}

pub(crate) async fn list_items(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let query = ListQuery::parse(raw.as_deref());
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let rows = account.items.values().map(|c| json!(c)).collect();
    Ok(list_envelope(list_result(
        "items",
        rows,
        &query,
        ITEM_FILTERS,
        "item",
    )?))
}

pub(crate) async fn create_tax(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let patch = body_object(&body, "tax")?;
    if patch
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::invalid(
            1001,
            "tax",
            "name",
            "Field name is required.",
        ));
    }
    let mut store = state.store();
    let id = store.next_id();
    let account = store.authorize(&headers, &account_id)?;
    // Tax names are not forced unique: current behaviour is unknown (docs/freshbooks.md §13) and rejecting would hide
    // duplicate creates from tests.
    let blank = model::Tax {
        accounting_systemid: account_id.clone(),
        amount: "0".into(),
        compound: false,
        id,
        name: String::new(),
        number: None,
        taxid: id,
        updated: clock::eastern_now(),
    };
    let tax = merge(&blank, &patch, TAX_READ_ONLY, "tax")?;
    account.taxes.insert(id, tax.clone());
    Ok(envelope("tax", tax))
}

pub(crate) async fn get_tax(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let tax = id
        .parse()
        .ok()
        .and_then(|id| account.taxes.get(&id))
        .ok_or_else(|| ApiError::not_found("tax", "taxid", &id))?;
    Ok(envelope("tax", tax))
}

pub(crate) async fn update_tax(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    state.require_token(&headers)?;
    let patch = body_object(&body, "tax")?;
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let tax: &mut Tax = id
        .parse()
        .ok()
        .and_then(|id| account.taxes.get_mut(&id))
        .ok_or_else(|| ApiError::not_found("tax", "taxid", &id))?;
    *tax = merge(&*tax, &patch, TAX_READ_ONLY, "tax")?;
    tax.updated = clock::eastern_now();
    Ok(envelope("tax", &*tax))
}

pub(crate) async fn delete_tax(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    id.parse()
        .ok()
        .and_then(|id| account.taxes.remove(&id))
        .ok_or_else(|| ApiError::not_found("tax", "taxid", &id))?;
    Ok(Json(json!({"response": {}})))
}

pub(crate) async fn list_taxes(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let query = ListQuery::parse(raw.as_deref());
    let mut store = state.store();
    let account = store.authorize(&headers, &account_id)?;
    let rows = account.taxes.values().map(|c| json!(c)).collect();
    Ok(list_envelope(list_result(
        "taxes",
        rows,
        &query,
        TAX_FILTERS,
        "tax",
    )?))
}
