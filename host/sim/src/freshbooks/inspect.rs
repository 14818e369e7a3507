//! Inspection and setup routes under [`super::INSPECT_PATH`]: what exists in each account (so tests can prove
//! there are no duplicates), one invoice's lines, taxes, totals and payments, a client's credit, account creation
//! with a pre-authorized token pair, and token expiry. Not subject to faults, auth or rate limits.
//!
//! - `GET /accounts`, `POST /accounts`, `GET /accounts/{account}` (counts, incl. `credit_notes`)
//! - `GET /accounts/{account}/{clients|invoices|payments|items|taxes|credit_notes}` (every object, deleted too)
//! - `GET /accounts/{account}/invoices/{id}` ([`super::InvoiceView`])
//! - `GET /accounts/{account}/clients/{id}/credit` (`{"clientid", "credit_balance": [{"amount","code"}]}`)
//! - `POST /tokens/expire`

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ApiError;
use super::ledger::credit_balances;
use super::model::TokenResponse;
use super::{AccountSummary, FreshBooksSim, InvoiceView, SimAccount};

/// Body of `POST /accounts`.
#[derive(Debug, Deserialize)]
struct CreateAccount {
    name: String,
    #[serde(default = "default_currency")]
    currency: String,
    account_id: Option<String>,
}

fn default_currency() -> String {
    "USD".to_owned()
}

/// Reply of `POST /accounts`.
#[derive(Debug, Serialize)]
struct CreatedAccount {
    account: SimAccount,
    tokens: TokenResponse,
}

/// Body of `POST /tokens/expire`.
#[derive(Debug, Default, Deserialize)]
struct ExpireTokens {
    identity_id: Option<u64>,
}

pub(super) fn router(sim: FreshBooksSim) -> Router {
    Router::new()
        .route("/accounts", get(list_accounts).post(create_account))
        .route("/accounts/{account_id}", get(summary))
        .route("/accounts/{account_id}/{kind}", get(objects))
        .route("/accounts/{account_id}/invoices/{id}", get(invoice))
        .route("/accounts/{account_id}/clients/{id}/credit", get(credit))
        .route("/tokens/expire", post(expire))
        .route("/tokens/revoke", post(revoke))
        .route("/authorizations", get(authorizations))
        .with_state(sim)
}

async fn list_accounts(State(sim): State<FreshBooksSim>) -> Json<Vec<AccountSummary>> {
    Json(sim.summaries())
}

async fn create_account(
    State(sim): State<FreshBooksSim>,
    Json(req): Json<CreateAccount>,
) -> Json<CreatedAccount> {
    let (account, tokens) =
        sim.create_account_with_tokens_as(&req.name, &req.currency, req.account_id);
    Json(CreatedAccount { account, tokens })
}

async fn summary(
    State(sim): State<FreshBooksSim>,
    Path(account_id): Path<String>,
) -> Result<Json<AccountSummary>, ApiError> {
    sim.summary(&account_id)
        .map(Json)
        .ok_or_else(|| ApiError::control_not_found(format!("no account {account_id}")))
}

async fn objects(
    State(sim): State<FreshBooksSim>,
    Path((account_id, kind)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    if sim.summary(&account_id).is_none() {
        return Err(ApiError::control_not_found(format!(
            "no account {account_id}"
        )));
    }
    let value = match kind.as_str() {
        "clients" => json!(sim.clients(&account_id)),
        "invoices" => json!(sim.invoices(&account_id)),
        "payments" => json!(sim.payments(&account_id)),
        "items" => json!(sim.items(&account_id)),
        "taxes" => json!(sim.taxes(&account_id)),
        "credit_notes" => json!(sim.credit_notes(&account_id)),
        other => {
            return Err(ApiError::control_not_found(format!(
                "unknown collection {other}"
            )));
        }
    };
    Ok(Json(value))
}

async fn invoice(
    State(sim): State<FreshBooksSim>,
    Path((account_id, id)): Path<(String, u64)>,
) -> Result<Json<InvoiceView>, ApiError> {
    sim.invoice_view(&account_id, id).map(Json).ok_or_else(|| {
        ApiError::control_not_found(format!("no invoice {id} in account {account_id}"))
    })
}

async fn credit(
    State(sim): State<FreshBooksSim>,
    Path((account_id, id)): Path<(String, u64)>,
) -> Result<Json<Value>, ApiError> {
    let store = sim.store();
    let account = store
        .accounts
        .get(&account_id)
        .ok_or_else(|| ApiError::control_not_found(format!("no account {account_id}")))?;
    if !account.clients.contains_key(&id) {
        return Err(ApiError::control_not_found(format!(
            "no client {id} in account {account_id}"
        )));
    }
    Ok(Json(
        json!({"clientid": id, "credit_balance": credit_balances(account, id)}),
    ))
}

async fn expire(State(sim): State<FreshBooksSim>, body: Option<Json<ExpireTokens>>) -> Json<Value> {
    let req = body.map(|Json(b)| b).unwrap_or_default();
    let expired = sim.expire_access_tokens(req.identity_id);
    Json(json!({ "expired": expired }))
}

/// Body of `POST /_sim/freshbooks/tokens/revoke`.
#[derive(Debug, Deserialize)]
struct RevokeTokens {
    account_id: String,
}

async fn revoke(State(sim): State<FreshBooksSim>, Json(req): Json<RevokeTokens>) -> Json<Value> {
    Json(json!({ "revoked": sim.revoke_tokens(&req.account_id) }))
}

async fn authorizations(State(sim): State<FreshBooksSim>) -> Json<Value> {
    Json(json!(sim.authorizations()))
}
