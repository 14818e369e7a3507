//! `POST /tenants/{tenant}/connections/test`: one read-only call to the tenant's Kentico and FreshBooks, reported
//! as what works and what does not ([`crate::tenants::connections`]).

use super::error::AdminPath;
use super::tenants::serving_tenant;
use super::{AdminJson, AdminState, ApiError, Principal};
use crate::tenants::connections::{self, ConnectionReport};
use axum::Extension;
use axum::extract::State;

/// Tests the tenant's connections. A connection that does not work is still a 200: the report says why.
///
/// # Errors
/// 400 for a bad id, 403 for another tenant's token, 404 for an unknown tenant.
pub(crate) async fn test(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
) -> Result<AdminJson<ConnectionReport>, ApiError> {
    let runtime = serving_tenant(&state, &principal, &tenant)?;
    let report = connections::test(&runtime).await;
    tracing::info!(tenant = %runtime.id, by = %principal.token_id, kentico = report.kentico.ok, freshbooks = report.freshbooks.ok, "Connections tested.");
    Ok(AdminJson(report))
}
