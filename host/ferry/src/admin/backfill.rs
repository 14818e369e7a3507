//! `POST /tenants/{tenant}/backfill`: enqueues the tenant's Kentico orders and customers changed since a date that
//! no stored event covers, e.g. the history from before the tenant was added (reconciliation looks back only a
//! day on its first poll), and with `"catalogue": true` every SKU of its catalogue (the catalogue sync's first
//! fill). The usual idempotency applies, so a backfill over synced orders or items writes nothing twice.

use super::error::AdminPath;
use super::tenants::serving_tenant;
use super::{AdminJson, AdminState, ApiError, ErrorCode, Principal};
use crate::reconcile::{self, PollReport};
use axum::Extension;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Body of the request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BackfillBody {
    /// Changes after this moment: RFC 3339, or a date (`YYYY-MM-DD`, midnight UTC).
    #[serde(default)]
    since: Option<String>,
    /// Every SKU of the catalogue too (needs `[tenants.catalogue] enabled`).
    #[serde(default)]
    catalogue: bool,
}

/// What a backfill answers.
#[derive(Debug, Serialize)]
pub(super) struct Backfilled {
    /// The moment changes were read from, RFC 3339 (absent for a catalogue-only backfill).
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<String>,
    /// SKUs of the catalogue, and how many of them were enqueued (with `"catalogue": true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    catalogue: Option<PollReport>,
    /// Orders and customers changed since then, and how many of them were enqueued (the rest had events).
    #[serde(flatten)]
    report: PollReport,
}

/// `since` as RFC 3339 or a date at midnight UTC.
pub(crate) fn parse_since(raw: &str) -> Result<OffsetDateTime, ApiError> {
    let raw = raw.trim();
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    OffsetDateTime::parse(raw, &Rfc3339)
        .or_else(|_| time::Date::parse(raw, date_only).map(|d| d.midnight().assume_utc()))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "since: `{raw}` is neither RFC 3339 (2026-11-01T00:00:00Z) nor a date (2026-11-01)"
            ))
        })
        .and_then(|t| {
            if t > OffsetDateTime::now_utc() {
                Err(ApiError::bad_request(format!(
                    "since: {raw} is in the future"
                )))
            } else {
                Ok(t)
            }
        })
}

/// `POST /tenants/{tenant}/backfill` with `{"since": …}`.
pub(super) async fn backfill(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminJson(body): AdminJson<BackfillBody>,
) -> Result<AdminJson<Backfilled>, ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    if body.since.is_none() && !body.catalogue {
        return Err(ApiError::bad_request(
            "say what to backfill: since (orders and customers changed since then), catalogue: true, or both",
        ));
    }
    if body.catalogue && !t.config.catalogue.enabled {
        return Err(ApiError::bad_request(format!(
            "catalogue: the catalogue sync is off for tenant {} ([tenants.catalogue] enabled = true)",
            t.id
        )));
    }
    let since = body.since.as_deref().map(parse_since).transpose()?;
    let stopped = |e: anyhow::Error| {
        ApiError::new(
            ErrorCode::Upstream,
            format!("backfill of tenant {} stopped: {e:#}", t.id),
        )
    };
    let report = match since {
        Some(since) => reconcile::backfill(&state.store, &state.ingestor, &t, since)
            .await
            .map_err(stopped)?,
        None => PollReport::default(),
    };
    let catalogue = if body.catalogue {
        Some(
            reconcile::backfill_catalogue(&state.store, &state.ingestor, &t)
                .await
                .map_err(stopped)?,
        )
    } else {
        None
    };
    tracing::info!(tenant = %t.id, by = %principal.token_id, since = ?since, seen = report.seen,
        enqueued = report.enqueued, skus = ?catalogue.map(|c| c.seen), "Backfill enqueued.");
    Ok(AdminJson(Backfilled {
        since: since.map(|s| s.format(&Rfc3339).unwrap_or_default()),
        report,
        catalogue,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_rfc3339_or_a_date_and_not_in_the_future() {
        assert_eq!(
            parse_since("2026-11-01").unwrap(),
            time::macros::datetime!(2026-11-01 00:00 UTC)
        );
        assert_eq!(
            parse_since("2026-11-01T08:30:00+01:00").unwrap(),
            time::macros::datetime!(2026-11-01 07:30 UTC)
        );
        for bad in ["yesterday", "2026-13-01", "9999-01-01"] {
            let e = parse_since(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadRequest, "{bad}");
            assert!(e.message.starts_with("since:"), "{}", e.message);
        }
    }
}
