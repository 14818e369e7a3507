//! The books audit over the API, scoped like every tenant route (a tenant token sees only its own):
//! `POST /tenants/{tenant}/audits` runs one now and answers its report, `GET /tenants/{tenant}/audits` lists the
//! latest with their counts per class, `GET /tenants/{tenant}/audits/{audit}` shows one with every difference, and
//! `POST /tenants/{tenant}/audits/{audit}/repair` repairs what Ferry may repair, once.

use super::error::{AdminPath, AdminQuery};
use super::parse_since;
use super::tenants::serving_tenant;
use super::{AdminJson, AdminState, ApiError, ErrorCode, Principal};
use crate::audit::{Auditor, Repaired};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use ferry_model::AuditReport;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Body of `POST /tenants/{tenant}/audits`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditBody {
    /// Orders changed in Kentico from this moment (RFC 3339 or a date); default: the tenant's
    /// `audit.window_days` before now.
    since: Option<String>,
}

/// One audit in a list: its window, cost and counts, without the differences.
#[derive(Debug, Serialize)]
pub(super) struct AuditSummary {
    id: i64,
    #[serde(with = "time::serde::rfc3339")]
    since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    finished_at: OffsetDateTime,
    orders_checked: usize,
    orders_skipped: usize,
    freshbooks_calls: u64,
    differences: usize,
    /// Differences per class (every class, zeros included).
    counts: BTreeMap<&'static str, usize>,
}

impl From<&AuditReport> for AuditSummary {
    fn from(r: &AuditReport) -> Self {
        Self {
            id: r.id,
            since: r.since,
            finished_at: r.finished_at,
            orders_checked: r.orders_checked,
            orders_skipped: r.orders_skipped,
            freshbooks_calls: r.freshbooks_calls,
            differences: r.differences.len(),
            counts: r
                .counts()
                .into_iter()
                .map(|(c, n)| (c.as_str(), n))
                .collect(),
        }
    }
}

/// Query of the list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    /// Most audits returned (default 20, at most 200).
    limit: Option<u32>,
}

impl AdminState {
    /// An auditor over the serving tenants with the host's hook (the API and the console run audits with it).
    pub(crate) fn auditor(&self) -> Auditor {
        let auditor = Auditor::new(
            self.store.clone(),
            self.tenants.clone(),
            self.plugin_host.exchange().clone(),
            self.ingestor.clone(),
        );
        match &self.audit_hook {
            Some(hook) => auditor.with_hook(hook.clone()),
            None => auditor,
        }
    }
}

/// An audit id from the path.
fn audit_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request(format!("audit id `{raw}` is not a number")))
}

/// `POST /tenants/{tenant}/audits`: audits now and answers the stored report (201).
pub(super) async fn run(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminJson(body): AdminJson<AuditBody>,
) -> Result<(StatusCode, AdminJson<AuditReport>), ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    let since = match body.since.as_deref() {
        Some(raw) => parse_since(raw)?,
        None => OffsetDateTime::now_utc() - t.config.audit.window(),
    };
    let report = state.auditor().audit(&t.id, since).await.map_err(|e| {
        ApiError::new(
            ErrorCode::Upstream,
            format!("audit of tenant {} stopped: {e:#}", t.id),
        )
    })?;
    tracing::info!(tenant = %t.id, by = %principal.token_id, audit = report.id, "Audit run over the API.");
    Ok((StatusCode::CREATED, AdminJson(report)))
}

/// `GET /tenants/{tenant}/audits`: the latest audits, newest first.
pub(super) async fn list(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminQuery(query): AdminQuery<ListQuery>,
) -> Result<AdminJson<Vec<AuditSummary>>, ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    let limit = query.limit.unwrap_or(20).clamp(1, 200);
    let reports = state.store.audits(&t.id, limit).await?;
    Ok(AdminJson(reports.iter().map(AuditSummary::from).collect()))
}

/// `GET /tenants/{tenant}/audits/{audit}`: one report with every difference.
pub(super) async fn show(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, audit)): AdminPath<(String, String)>,
) -> Result<AdminJson<AuditReport>, ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    let id = audit_id(&audit)?;
    state
        .store
        .audit(&t.id, id)
        .await?
        .map(AdminJson)
        .ok_or_else(|| ApiError::not_found(format!("audit {id} of tenant {}", t.id)))
}

/// `POST /tenants/{tenant}/audits/{audit}/repair`: repairs the report's repairable differences; 409 when it was
/// repaired before (run a new audit to see what is left).
pub(super) async fn repair(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, audit)): AdminPath<(String, String)>,
) -> Result<AdminJson<Repaired>, ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    let id = audit_id(&audit)?;
    if state.store.audit(&t.id, id).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "audit {id} of tenant {}",
            t.id
        )));
    }
    let repaired = state.auditor().repair(&t.id, id).await.map_err(|e| {
        ApiError::new(
            ErrorCode::Upstream,
            format!("repair of audit {id} stopped: {e:#}"),
        )
    })?;
    if repaired.already_repaired {
        return Err(ApiError::conflict(format!(
            "audit {id} of tenant {} was repaired before; run a new audit to see what is left",
            t.id
        )));
    }
    tracing::info!(tenant = %t.id, by = %principal.token_id, audit = id, "Audit repaired over the API.");
    Ok(AdminJson(repaired))
}
