//! "Test connection": one read-only call to each of a tenant's services — Kentico's REST service and the FreshBooks
//! account — reported as what works and what does not, in words that say what to fix.

use super::TenantRuntime;
use serde::Serialize;

/// What testing a tenant's connections found.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionReport {
    /// The tenant.
    pub tenant: String,
    /// True when both connections work.
    pub ok: bool,
    /// Kentico's REST service.
    pub kentico: Check,
    /// The FreshBooks account.
    pub freshbooks: Check,
}

/// One connection's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// True when the read succeeded.
    pub ok: bool,
    /// What went wrong, for programs (`null` when it works).
    pub problem: Option<Problem>,
    /// What works, or what is wrong and what to do about it, for people.
    pub message: String,
}

/// Why a connection does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Kentico refused the user name or password (401).
    BadCredentials,
    /// Kentico's REST service is disabled, or the user may not read orders (403).
    ServiceDisabled,
    /// No REST service at the configured address (404).
    NotFound,
    /// FreshBooks has never been connected for this tenant.
    NotConnected,
    /// FreshBooks refused the tenant's tokens: access was revoked or the refresh token refused.
    Revoked,
    /// The connected FreshBooks user does not belong to the tenant's account.
    NotMember,
    /// No connection could be made (refused, no such host).
    Unreachable,
    /// The service did not answer in time.
    Timeout,
    /// The service answered with a server error (5xx) or throttled the call (429).
    ServerError,
    /// Ferry stopped calling the service after repeated failures (circuit breaker open).
    BreakerOpen,
    /// The service answered something Ferry cannot use.
    Unexpected,
}

impl Check {
    fn ok(message: String) -> Self {
        Self {
            ok: true,
            problem: None,
            message,
        }
    }

    fn failed(problem: Problem, message: String) -> Self {
        Self {
            ok: false,
            problem: Some(problem),
            message,
        }
    }
}

/// Tests both connections of `tenant` at once.
pub async fn test(tenant: &TenantRuntime) -> ConnectionReport {
    let (kentico, freshbooks) = tokio::join!(kentico(tenant), freshbooks(tenant));
    ConnectionReport {
        tenant: tenant.id.to_string(),
        ok: kentico.ok && freshbooks.ok,
        kentico,
        freshbooks,
    }
}

async fn kentico(t: &TenantRuntime) -> Check {
    use ferry_extract::Error;
    let id = &t.id;
    let base = &t.config.kentico.base_url;
    match t.kentico.check_access().await {
        Ok(orders) => Check::ok(format!(
            "Kentico's REST service at {base} accepts the user {} and shows {orders} orders",
            t.config.kentico.username
        )),
        Err(Error::NotFound { .. }) => Check::failed(
            Problem::NotFound,
            format!(
                "there is no Kentico REST service at {base}/rest (404); tenants.{id}.kentico.base_url must be the \
                 address of the Kentico administration application"
            ),
        ),
        Err(Error::Malformed { reason, .. }) => Check::failed(
            Problem::Unexpected,
            format!(
                "{base} answered, but not like Kentico's REST service ({reason}); check tenants.{id}.kentico.base_url"
            ),
        ),
        Err(Error::Http { source, .. }) => match source.status() {
            Some(401) => Check::failed(
                Problem::BadCredentials,
                format!(
                    "Kentico refused the user name or password (401); check tenants.{id}.kentico.username and \
                     password (a Kentico user who can sign in to the administration)"
                ),
            ),
            Some(403) => Check::failed(
                Problem::ServiceDisabled,
                format!(
                    "Kentico refused access (403: {}); enable the REST service in Kentico (Settings → Integration → \
                     REST: \"Enable REST service\", object access) and let user {} read e-commerce orders",
                    body_of(&source),
                    t.config.kentico.username
                ),
            ),
            _ => transport("Kentico", base, &source),
        },
    }
}

async fn freshbooks(t: &TenantRuntime) -> Check {
    use ferry_load::Error;
    let id = &t.id;
    let fb = &t.config.freshbooks;
    let account = &fb.account_id;
    match t.freshbooks.check_access().await {
        Ok(access) => match access.business {
            Some(name) => Check::ok(format!(
                "FreshBooks account {account} ({name}) is connected and answers"
            )),
            None => Check::failed(
                Problem::NotMember,
                format!(
                    "the connected FreshBooks user does not belong to account {account} (they belong to: {}); set \
                     tenants.{id}.freshbooks.account_id to one of those, or connect FreshBooks as a user of {account}",
                    if access.accounts.is_empty() {
                        "no account".to_owned()
                    } else {
                        access.accounts.join(", ")
                    }
                ),
            ),
        },
        Err(Error::NotConnected { .. }) => Check::failed(
            Problem::NotConnected,
            format!(
                "FreshBooks is not connected for this tenant; use Connect FreshBooks (or `ferry connect freshbooks \
                 {id}`)"
            ),
        ),
        Err(Error::AuthRevoked { reason, .. }) => Check::failed(
            Problem::Revoked,
            format!(
                "FreshBooks refused this tenant's authorization (access was revoked in FreshBooks, or the refresh \
                 token was refused: {reason}); connect FreshBooks again"
            ),
        ),
        Err(Error::Http { source, .. }) if source.status() == Some(401) => Check::failed(
            Problem::Revoked,
            "FreshBooks refused the tenant's token (401); connect FreshBooks again".to_owned(),
        ),
        Err(Error::Http { source, .. }) => transport("FreshBooks", &fb.api_base, &source),
        Err(other) => Check::failed(
            Problem::Unexpected,
            format!("FreshBooks answered something Ferry cannot use: {other}"),
        ),
    }
}

/// A failure to talk to `service` at all, or a 5xx/429/other status.
fn transport(service: &str, base: &str, e: &ferry_outbound::Error) -> Check {
    use ferry_outbound::Error;
    match e {
        Error::Connect { .. } | Error::Transport { .. } => Check::failed(
            Problem::Unreachable,
            format!(
                "cannot reach {service} at {base}: no connection could be made (host down, wrong address, or a \
                 firewall)"
            ),
        ),
        Error::Timeout { .. } => Check::failed(
            Problem::Timeout,
            format!("{service} at {base} did not answer in time"),
        ),
        Error::BreakerOpen { remaining, .. } => Check::failed(
            Problem::BreakerOpen,
            format!(
                "Ferry paused calls to {service} after repeated failures (circuit breaker open); it tries again in \
                 {}s",
                remaining.as_secs().max(1)
            ),
        ),
        Error::Server { status, .. } => Check::failed(
            Problem::ServerError,
            format!(
                "{service} at {base} answered {status} (a failure on its side); try again later"
            ),
        ),
        Error::Throttled { .. } => Check::failed(
            Problem::ServerError,
            format!("{service} at {base} is throttling calls (429); try again in a minute"),
        ),
        other => Check::failed(
            Problem::Unexpected,
            format!("{service} at {base} refused the call: {other}"),
        ),
    }
}

/// The short body an HTTP error carried, when it has one.
fn body_of(e: &ferry_outbound::Error) -> String {
    match e {
        ferry_outbound::Error::Rejected { body, .. } if !body.trim().is_empty() => {
            body.trim().to_owned()
        }
        _ => "forbidden".to_owned(),
    }
}
