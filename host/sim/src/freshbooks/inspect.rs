//! Inspection and setup routes under [`super::INSPECT_PATH`]: what exists in each account (so tests can prove
//! there are no duplicates), account creation with a pre-authorized token pair, and token expiry. Not subject to
//! faults, auth or rate limits.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ApiError;
use super::model::TokenResponse;
use super::{AccountSummary, FreshBooksSim, SimAccount};

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
        .route("/tokens/expire", post(expire))
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
        other => {
            return Err(ApiError::control_not_found(format!(
                "unknown collection {other}"
            )));
        }
    };
    Ok(Json(value))
}

async fn expire(State(sim): State<FreshBooksSim>, body: Option<Json<ExpireTokens>>) -> Json<Value> {
    let req = body.map(|Json(b)| b).unwrap_or_default();
    let expired = sim.expire_access_tokens(req.identity_id);
    Json(json!({ "expired": expired }))
}
