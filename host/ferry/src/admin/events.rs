//! Run history (listing, search by Kentico order number or FreshBooks invoice id, one event's runs) and the
//! dead-letter queue (list, show, replay, discard), for one tenant at a time.

use super::error::{AdminPath, AdminQuery};
use super::tenants::{parse_tenant, serving_tenant};
use super::{AdminJson, AdminState, ApiError, Principal};
use axum::Extension;
use axum::extract::State;
use ferry_model::{ErrorClass, TenantId};
use ferry_store::{DeadLetter, DeadLetterFilter, EventRecord, EventState, JobId, RunHistory};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Most events one page returns.
const MAX_PAGE: u32 = 500;
/// Events one page returns when `limit` is not given.
const DEFAULT_PAGE: u32 = 50;

/// An event in a list: its ids and state, without the payload.
#[derive(Serialize)]
pub(super) struct EventSummary {
    job: JobId,
    tenant: TenantId,
    event_id: String,
    kind: String,
    object_type: String,
    object_id: i64,
    state: EventState,
    attempts: u32,
    last_error: Option<String>,
    /// The class of the error that dead-lettered it (while dead or once discarded).
    error_class: Option<ErrorClass>,
    order_number: Option<String>,
    invoice_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    finished_at: Option<OffsetDateTime>,
}

impl From<EventRecord> for EventSummary {
    fn from(e: EventRecord) -> Self {
        Self {
            job: e.job,
            tenant: e.tenant,
            event_id: e.event_id.to_string(),
            kind: e.kind,
            object_type: e.object_type,
            object_id: e.object_id,
            state: e.state,
            attempts: e.attempts,
            last_error: e.last_error,
            error_class: e.error_class,
            order_number: e.order_number,
            invoice_id: e.invoice_id,
            received_at: e.received_at,
            finished_at: e.finished_at,
        }
    }
}

/// Query of `GET /tenants/{tenant}/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventQuery {
    /// Only events of this Kentico order number.
    order_number: Option<String>,
    /// Only events that produced this FreshBooks invoice id.
    invoice_id: Option<String>,
    /// Only events about this FreshBooks payment (callbacks and the payment poll).
    payment_id: Option<i64>,
    /// Only catalogue events about this SKU code (`sku.*`).
    sku: Option<String>,
    /// Only events in this state.
    state: Option<String>,
    /// Only events older than this job id (the `job` of the last event of the previous page).
    before: Option<i64>,
    /// Page size (default 50, at most 500).
    limit: Option<u32>,
}

/// `GET /tenants/{tenant}/events`: newest first; search by `order_number`, `invoice_id`, `payment_id` (a FreshBooks
/// payment) or `sku` (a catalogue SKU code), or page by `state`,
/// `before` and `limit`.
pub(super) async fn list(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminQuery(q): AdminQuery<EventQuery>,
) -> Result<AdminJson<Vec<EventSummary>>, ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    let wanted = q
        .state
        .as_deref()
        .map(|s| {
            EventState::parse(s).map_err(|_| ApiError::bad_request(format!("unknown state {s:?}")))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let events = match (&q.order_number, &q.invoice_id) {
        (None, None) if q.sku.is_some() => {
            let sku = q.sku.as_deref().unwrap_or_default();
            state.store.find_by_sku(&t.id, sku).await?
        }
        (None, None) if q.payment_id.is_some() => {
            let payment = q.payment_id.unwrap_or_default();
            state
                .store
                .find_by_object(&t.id, ferry_model::FRESHBOOKS_PAYMENT, payment)
                .await?
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "search by order_number or by invoice_id, not both",
            ));
        }
        (Some(n), None) => state.store.find_by_order_number(&t.id, n).await?,
        (None, Some(i)) => state.store.find_by_invoice_id(&t.id, i).await?,
        (None, None) => {
            let before = q.before.map(JobId);
            state
                .store
                .events_page(&t.id, wanted, before, limit)
                .await?
        }
    };
    Ok(AdminJson(
        events
            .into_iter()
            .filter(|e| wanted.is_none_or(|s| e.state == s))
            .take(limit as usize)
            .map(EventSummary::from)
            .collect(),
    ))
}

/// The event `job` of this tenant (404 for another tenant's event, so ids do not leak across tenants).
pub(super) async fn tenant_event(
    state: &AdminState,
    tenant: &TenantId,
    job: &str,
) -> Result<EventRecord, ApiError> {
    let job = JobId::parse(job).map_err(|_| ApiError::bad_request(format!("event key {job:?}")))?;
    let event = state.store.event(job).await?;
    if event.tenant != *tenant {
        return Err(ApiError::not_found(format!(
            "event {job} of tenant {tenant}"
        )));
    }
    Ok(event)
}

/// `GET /tenants/{tenant}/events/{job}`: the event with every state change and every step of every attempt.
pub(super) async fn show(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, job)): AdminPath<(String, String)>,
) -> Result<AdminJson<RunHistory>, ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    let event = tenant_event(&state, &t.id, &job).await?;
    Ok(AdminJson(state.store.run_history(event.job).await?))
}

/// Query of the dead-letter lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DlqQuery {
    /// Most events returned (default 50, at most 500).
    limit: Option<u32>,
    /// Only dead letters of this error class.
    class: Option<String>,
    /// Only dead letters of this Kentico order number.
    order_number: Option<String>,
}

/// Query of the bulk replay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClassQuery {
    /// Only dead letters of this error class.
    class: Option<String>,
}

/// The error class a query or body names, if any (400 naming the value and the classes otherwise).
fn parse_class(class: Option<&str>) -> Result<Option<ErrorClass>, ApiError> {
    class
        .map(|c| {
            c.parse::<ErrorClass>()
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .transpose()
}

/// `GET /dlq`: dead events of every tenant (operator) or of the token's tenant, oldest first.
pub(super) async fn dead_letters_all(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminQuery(q): AdminQuery<DlqQuery>,
) -> Result<AdminJson<Vec<EventSummary>>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let filter = DeadLetterFilter {
        tenant: principal.only_tenant().cloned(),
        class: parse_class(q.class.as_deref())?,
        order_number: q.order_number.clone(),
    };
    let dead = state.store.dead_letters_matching(&filter, limit).await?;
    Ok(AdminJson(
        dead.into_iter().map(EventSummary::from).collect(),
    ))
}

/// `GET /tenants/{tenant}/dlq`: the tenant's dead events, oldest first.
///
/// Dead letters stay listable for a tenant this host no longer serves, so an operator can still discard them.
pub(super) async fn dead_letters(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminQuery(q): AdminQuery<DlqQuery>,
) -> Result<AdminJson<Vec<EventSummary>>, ApiError> {
    let id = parse_tenant(&tenant)?;
    principal.may_see(&id)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let filter = DeadLetterFilter {
        tenant: Some(id),
        class: parse_class(q.class.as_deref())?,
        order_number: q.order_number.clone(),
    };
    let dead = state.store.dead_letters_matching(&filter, limit).await?;
    Ok(AdminJson(
        dead.into_iter().map(EventSummary::from).collect(),
    ))
}

/// `GET /tenants/{tenant}/dlq/{job}`: one dead event with every attempt's error.
pub(super) async fn dead_letter(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, job)): AdminPath<(String, String)>,
) -> Result<AdminJson<DeadLetter>, ApiError> {
    let id = parse_tenant(&tenant)?;
    principal.may_see(&id)?;
    let event = tenant_event(&state, &id, &job).await?;
    Ok(AdminJson(state.store.dead_letter_detail(event.job).await?))
}

/// What a DLQ action answers.
#[derive(Serialize)]
pub(super) struct Moved {
    job: JobId,
    state: EventState,
}

/// `POST /tenants/{tenant}/dlq/{job}/replay`: back to the queue with attempts reset (409 unless dead).
pub(super) async fn replay(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, job)): AdminPath<(String, String)>,
) -> Result<AdminJson<Moved>, ApiError> {
    let id = parse_tenant(&tenant)?;
    principal.may_see(&id)?;
    let event = tenant_event(&state, &id, &job).await?;
    let note = format!("replayed through the admin API by {}", principal.token_id);
    state.store.replay(event.job, &note).await?;
    Ok(AdminJson(Moved {
        job: event.job,
        state: EventState::Queued,
    }))
}

/// Body of `POST /tenants/{tenant}/dlq/{job}/discard`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DiscardBody {
    /// Why the event is dropped; kept in its history.
    reason: String,
}

/// `POST /tenants/{tenant}/dlq/{job}/discard`: drop a dead event for good, with a reason (409 unless dead).
pub(super) async fn discard(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, job)): AdminPath<(String, String)>,
    AdminJson(body): AdminJson<DiscardBody>,
) -> Result<AdminJson<Moved>, ApiError> {
    let id = parse_tenant(&tenant)?;
    principal.may_see(&id)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason must not be empty"));
    }
    let event = tenant_event(&state, &id, &job).await?;
    let reason = format!("{} (by {})", body.reason.trim(), principal.token_id);
    state.store.discard(event.job, &reason).await?;
    Ok(AdminJson(Moved {
        job: event.job,
        state: EventState::Discarded,
    }))
}

/// What `replay-all` answers.
#[derive(Serialize)]
pub(super) struct ReplayedAll {
    replayed: u64,
}

/// `POST /tenants/{tenant}/dlq/replay-all`: every dead event of the tenant (of `?class=`, if given) back to the
/// queue.
pub(super) async fn replay_all(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminQuery(q): AdminQuery<ClassQuery>,
) -> Result<AdminJson<ReplayedAll>, ApiError> {
    let id = parse_tenant(&tenant)?;
    principal.may_see(&id)?;
    let filter = DeadLetterFilter {
        tenant: Some(id),
        class: parse_class(q.class.as_deref())?,
        order_number: None,
    };
    let note = format!(
        "bulk replay through the admin API by {}",
        principal.token_id
    );
    let replayed = state.store.replay_matching(&filter, &note).await?;
    Ok(AdminJson(ReplayedAll { replayed }))
}

/// Body of `POST /tenants/{tenant}/dlq/discard-all`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DiscardAllBody {
    /// Why the events are dropped; kept in each one's history.
    reason: String,
    /// Only dead letters of this error class (every one of the tenant's when absent).
    class: Option<String>,
}

/// What `discard-all` answers.
#[derive(Serialize)]
pub(super) struct DiscardedAll {
    discarded: u64,
}

/// `POST /tenants/{tenant}/dlq/discard-all`: drop every dead event of the tenant (of `class`, if given) for good.
pub(super) async fn discard_all(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminJson(body): AdminJson<DiscardAllBody>,
) -> Result<AdminJson<DiscardedAll>, ApiError> {
    let id = parse_tenant(&tenant)?;
    principal.may_see(&id)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason must not be empty"));
    }
    let filter = DeadLetterFilter {
        tenant: Some(id),
        class: parse_class(body.class.as_deref())?,
        order_number: None,
    };
    let reason = format!("{} (by {})", body.reason.trim(), principal.token_id);
    let discarded = state.store.discard_matching(&filter, &reason).await?;
    Ok(AdminJson(DiscardedAll { discarded }))
}
