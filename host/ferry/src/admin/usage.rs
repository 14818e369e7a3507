//! Usage, what an operator bills on: `GET /tenants/{tenant}/usage` and `GET /usage` (every tenant the token may
//! see), per day, per month and in total over `from`..`to` ([`crate::usage`]). The console's usage page asks
//! [`visible_usage`] too, so both surfaces show the same figures under the same scope check.

use super::error::{AdminPath, AdminQuery};
use super::tenants::parse_tenant;
use super::{AdminJson, AdminState, ApiError, Principal};
use crate::usage::{TenantUsage, UsageRange, by_tenant};
use axum::Extension;
use axum::extract::State;
use ferry_model::TenantId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Query of both usage routes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UsageQuery {
    /// First day, `YYYY-MM-DD` (UTC); default the first day of `to`'s month.
    from: Option<String>,
    /// Last day, inclusive; default today (UTC).
    to: Option<String>,
}

impl UsageQuery {
    fn range(&self) -> Result<UsageRange, ApiError> {
        UsageRange::parse(
            self.from.as_deref(),
            self.to.as_deref(),
            OffsetDateTime::now_utc().date(),
        )
        .map_err(ApiError::bad_request)
    }
}

/// What `GET /usage` answers.
#[derive(Serialize)]
pub(super) struct AllUsage {
    from: String,
    to: String,
    tenants: Vec<TenantUsage>,
}

/// What `GET /tenants/{tenant}/usage` answers.
#[derive(Serialize)]
pub(super) struct OneUsage {
    from: String,
    to: String,
    #[serde(flatten)]
    usage: TenantUsage,
}

/// The usage `principal` may see over `range`: `tenant`'s when given (scope-checked), else every tenant's it may see
/// — for an operator, every served tenant and every tenant with stored usage (a removed tenant's is still billed).
///
/// # Errors
/// 403 for another tenant's token, 500 when the store fails.
pub(crate) async fn visible_usage(
    state: &AdminState,
    principal: &Principal,
    tenant: Option<&TenantId>,
    range: UsageRange,
) -> Result<Vec<TenantUsage>, ApiError> {
    let only = match tenant {
        Some(t) => {
            principal.may_see(t)?;
            Some(t.clone())
        }
        None => principal.only_tenant().cloned(),
    };
    let rows = state
        .store
        .usage(only.as_ref(), range.from, range.to)
        .await?;
    let listed = match &only {
        Some(t) => vec![t.clone()],
        None => state.tenants.all().iter().map(|t| t.id.clone()).collect(),
    };
    Ok(by_tenant(range, rows, listed))
}

/// `GET /usage`: every tenant this token may see.
///
/// # Errors
/// 400 for a bad range.
pub(super) async fn all(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminQuery(q): AdminQuery<UsageQuery>,
) -> Result<AdminJson<AllUsage>, ApiError> {
    let range = q.range()?;
    let tenants = visible_usage(&state, &principal, None, range).await?;
    Ok(AdminJson(AllUsage {
        from: range.from.to_string(),
        to: range.to.to_string(),
        tenants,
    }))
}

/// `GET /tenants/{tenant}/usage`: one tenant, served now or with usage stored.
///
/// # Errors
/// 400 for a bad id or range, 403 for another tenant's token, 404 for a tenant neither served nor ever counted.
pub(super) async fn tenant(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminQuery(q): AdminQuery<UsageQuery>,
) -> Result<AdminJson<OneUsage>, ApiError> {
    let id = parse_tenant(&tenant)?;
    let range = q.range()?;
    let usage = visible_usage(&state, &principal, Some(&id), range)
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found(format!("tenant {id}")))?;
    if usage.days.is_empty() && state.tenants.get(&id).is_none() {
        return Err(ApiError::not_found(format!(
            "tenant {id} is not served by this host and has no usage from {} to {}",
            range.from, range.to
        )));
    }
    Ok(AdminJson(OneUsage {
        from: range.from.to_string(),
        to: range.to.to_string(),
        usage,
    }))
}
