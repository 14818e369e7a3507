//! Bearer tokens: how they are made and hashed, the middleware that admits a request, and what a token may see.
//!
//! A token is `ferry_` plus 256 random bits in hex. Only its SHA-256 is stored, so the database cannot be used to
//! authenticate; the token is shown once, when it is created. Each token draws from its own token bucket.

use super::{AdminConfig, AdminState, ApiError, ErrorCode};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use ferry_model::TenantId;
use ferry_store::{AdminToken, TokenScope};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::num::NonZeroU32;

/// What every admin token starts with (lets secret scanners recognise a leaked one).
pub const TOKEN_PREFIX: &str = "ferry_";

/// A new token and its public id: `(id, token)`. Store [`hash_token`] of the token; show the token once.
pub fn generate_token() -> (String, SecretString) {
    let id = format!("tok_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let token = format!(
        "{TOKEN_PREFIX}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    (id, SecretString::from(token))
}

/// The hex SHA-256 of a token: what the store keeps and looks tokens up by.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Who is asking: the token's id and scope, put in the request's extensions by the middleware.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's public id.
    pub token_id: String,
    /// What it may see.
    pub scope: TokenScope,
}

impl Principal {
    /// Ok when this token may see `tenant`: any operator token, or the tenant's own token.
    ///
    /// # Errors
    /// 403 for another tenant's token.
    pub fn may_see(&self, tenant: &TenantId) -> Result<(), ApiError> {
        match &self.scope {
            TokenScope::Operator => Ok(()),
            TokenScope::Tenant(own) if own == tenant => Ok(()),
            TokenScope::Tenant(own) => Err(ApiError::forbidden(format!(
                "this token belongs to tenant {own} and may not see tenant {tenant}"
            ))),
        }
    }

    /// Ok for operator tokens.
    ///
    /// # Errors
    /// 403 for tenant tokens.
    pub fn require_operator(&self) -> Result<(), ApiError> {
        match &self.scope {
            TokenScope::Operator => Ok(()),
            TokenScope::Tenant(_) => Err(ApiError::forbidden("this route needs an operator token")),
        }
    }

    /// The one tenant a tenant token is limited to; `None` for operators (all tenants).
    pub fn only_tenant(&self) -> Option<&TenantId> {
        match &self.scope {
            TokenScope::Operator => None,
            TokenScope::Tenant(t) => Some(t),
        }
    }
}

impl From<AdminToken> for Principal {
    fn from(t: AdminToken) -> Self {
        Self {
            token_id: t.id,
            scope: t.scope,
        }
    }
}

/// One token bucket per token id.
pub(crate) struct TokenLimiter {
    /// `None` when `admin.requests_per_second` is 0.
    inner: Option<DefaultKeyedRateLimiter<String>>,
}

impl TokenLimiter {
    pub(crate) fn new(config: &AdminConfig) -> Self {
        let inner = NonZeroU32::new(config.requests_per_second).map(|rate| {
            let burst = NonZeroU32::new(config.burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self { inner }
    }

    /// Takes one request from `token_id`'s bucket.
    fn check(&self, token_id: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        limiter
            .check_key(&token_id.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                ApiError::rate_limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            })
    }
}

/// The bearer token of a request, if it sent one in the `Authorization` header.
fn bearer(req: &Request) -> Option<SecretString> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| SecretString::from(token.trim().to_owned()))
}

/// Admits requests with a live token under its rate limit, and hands the handlers a [`Principal`].
pub(crate) async fn authenticate(
    State(state): State<AdminState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = bearer(&req).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthorized,
            "send an admin token as `Authorization: Bearer <token>` (create one with `ferry token create`)",
        )
    })?;
    let found = state
        .store
        .admin_token_by_hash(&hash_token(token.expose_secret()))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "unknown or revoked admin token"))?;
    state.limiter.check(&found.id)?;
    tracing::debug!(token_id = %found.id, path = %req.uri().path(), "Admin request.");
    req.extensions_mut().insert(Principal::from(found));
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed_to_hex() {
        let (id_a, a) = generate_token();
        let (id_b, b) = generate_token();
        assert_ne!(id_a, id_b);
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(a.expose_secret().starts_with(TOKEN_PREFIX));
        assert_eq!(a.expose_secret().len(), TOKEN_PREFIX.len() + 64);
        let h = hash_token(a.expose_secret());
        assert_eq!(h.len(), 64);
        assert!(!h.contains(a.expose_secret()));
    }

    #[test]
    fn a_tenant_token_sees_only_its_own_tenant() {
        let shop = TenantId::parse("shop").unwrap();
        let other = TenantId::parse("other").unwrap();
        let p = Principal {
            token_id: "tok_1".into(),
            scope: TokenScope::Tenant(shop.clone()),
        };
        assert!(p.may_see(&shop).is_ok());
        assert_eq!(p.may_see(&other).unwrap_err().code, ErrorCode::Forbidden);
        assert!(p.require_operator().is_err());
        let op = Principal {
            token_id: "tok_2".into(),
            scope: TokenScope::Operator,
        };
        assert!(op.may_see(&other).is_ok() && op.require_operator().is_ok());
    }

    #[test]
    fn each_token_has_its_own_bucket() {
        let l = TokenLimiter::new(&AdminConfig {
            requests_per_second: 1,
            burst: 2,
            ..AdminConfig::default()
        });
        assert!(l.check("a").is_ok() && l.check("a").is_ok());
        let limited = l.check("a").unwrap_err();
        assert_eq!(limited.code, ErrorCode::RateLimited);
        assert!(l.check("b").is_ok());
    }
}
