//! OAuth2 for FreshBooks: tokens, the host's token store, and the token endpoint calls.
//!
//! Refresh tokens are single-use and every refresh rotates the pair (docs/freshbooks.md §8), so refreshes are
//! serialised per account (an async mutex in the client) and persisted with compare-and-swap.

use crate::{Error, Result, ledger::BoxFuture};
use ferry_outbound::{CallCtx, HttpClient};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

/// Access lifetime assumed when the token reply has no `expires_in` (FreshBooks documents 12 hours).
const DEFAULT_EXPIRES_IN_SECS: i64 = 12 * 60 * 60;

/// The OAuth application registered with FreshBooks.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: SecretString,
    /// The registered redirect URI (HTTPS, no query string).
    pub redirect_uri: String,
}

/// An access/refresh token pair.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Bearer token for API calls.
    pub access_token: SecretString,
    /// Single-use refresh token.
    pub refresh_token: SecretString,
    /// When the access token stops working.
    pub expires_at: OffsetDateTime,
}

impl Tokens {
    /// True when the access token is still good for at least `margin`.
    pub fn fresh_for(&self, margin: std::time::Duration) -> bool {
        self.expires_at - margin > OffsetDateTime::now_utc()
    }

    pub(crate) fn same_refresh(&self, other: &Tokens) -> bool {
        self.refresh_token.expose_secret() == other.refresh_token.expose_secret()
    }
}

/// The token store failed (the host's database).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token store: {0}")]
pub struct TokenStoreError(pub String);

/// Where a tenant's FreshBooks tokens live (encrypted, transactional); implemented by the host.
pub trait TokenStore: Send + Sync {
    /// The current tokens, `None` before `ferry connect`.
    fn load(&self) -> BoxFuture<'_, Result<Option<Tokens>, TokenStoreError>>;
    /// Compare-and-swap: replaces the stored pair only if its refresh token is still `old_refresh`
    /// (`None` replaces unconditionally, for a new connection). Returns whether it replaced.
    fn rotate<'a>(
        &'a self,
        old_refresh: Option<&'a SecretString>,
        new: &'a Tokens,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>>;
    /// Waits until this task is the only one (across hosts) refreshing this account; the refresh, with its
    /// fresh read of the stored pair, runs while the returned guard lives. The default is no lock (one task).
    fn lock_refresh(&self) -> BoxFuture<'_, Result<RefreshGuard, TokenStoreError>> {
        Box::pin(async {
            let nothing: RefreshGuard = Box::new(());
            Ok(nothing)
        })
    }
}

/// Held while one refresh runs; dropping it lets the next one in.
pub type RefreshGuard = Box<dyn std::any::Any + Send>;

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    refresh_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    created_at: Option<i64>,
}

impl TokenReply {
    fn into_tokens(self) -> Tokens {
        let created = self
            .created_at
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .unwrap_or_else(OffsetDateTime::now_utc);
        Tokens {
            access_token: SecretString::from(self.access_token),
            refresh_token: SecretString::from(self.refresh_token),
            expires_at: created
                + Duration::seconds(self.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECS)),
        }
    }
}

/// A PKCE pair (RFC 7636, method `S256`): the verifier stays with the host, the challenge goes in the authorize URL,
/// and the code exchange sends the verifier, so a code intercepted on its way back is useless to anyone else.
// guess: FreshBooks' documentation (docs/freshbooks.md §8) does not mention PKCE. OAuth servers ignore the
// parameters when they do not support them; the simulator verifies them when a challenge was sent.
#[derive(Debug, Clone)]
pub struct Pkce {
    /// `code_verifier`: 43 characters of base64url over 256 random bits.
    pub verifier: SecretString,
}

impl Pkce {
    /// A fresh random verifier.
    pub fn generate() -> Self {
        let mut bytes = Vec::with_capacity(32);
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self {
            verifier: SecretString::from(base64url(&bytes)),
        }
    }

    /// `code_challenge`: base64url (no padding) of the verifier's SHA-256.
    pub fn challenge(&self) -> String {
        use sha2::Digest as _;
        base64url(&sha2::Sha256::digest(
            self.verifier.expose_secret().as_bytes(),
        ))
    }
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Which grant to ask for at `POST /auth/oauth/token`.
pub(crate) enum Grant<'a> {
    /// `authorization_code` with the code from the redirect, the redirect URI the authorize request named and the
    /// PKCE verifier of its challenge.
    Code {
        /// The code from the redirect.
        code: &'a str,
        /// The `redirect_uri` of the authorize request (FreshBooks compares them).
        redirect_uri: &'a str,
        /// The verifier of the challenge sent with the authorize request.
        pkce: &'a Pkce,
    },
    /// `refresh_token` with the current refresh token.
    Refresh(&'a SecretString),
}

/// Calls the token endpoint. A refused grant (400/401/403) becomes [`Error::AuthRevoked`].
pub(crate) async fn token_request(
    http: &HttpClient,
    ctx: &CallCtx,
    api_base: &str,
    account_id: &str,
    app: &OAuthApp,
    grant: Grant<'_>,
) -> Result<Tokens> {
    let (what, mut body) = match grant {
        Grant::Code {
            code,
            redirect_uri,
            pkce,
        } => (
            "exchange freshbooks authorization code",
            serde_json::json!({
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": pkce.verifier.expose_secret(),
            }),
        ),
        Grant::Refresh(rt) => (
            "refresh freshbooks token",
            serde_json::json!({
                "grant_type": "refresh_token",
                "refresh_token": rt.expose_secret(),
                "redirect_uri": app.redirect_uri,
            }),
        ),
    };
    body["client_id"] = app.client_id.clone().into();
    body["client_secret"] = app.client_secret.expose_secret().into();
    let req = http
        .http()
        .post(format!("{api_base}/auth/oauth/token"))
        .json(&body);
    match http.send(ctx, what, req).await {
        Ok(resp) => serde_json::from_slice::<TokenReply>(&resp.body)
            .map(TokenReply::into_tokens)
            .map_err(|e| Error::refused(what, format!("token reply: {e}"))),
        Err(e) if matches!(e.status(), Some(400 | 401 | 403)) => Err(Error::AuthRevoked {
            account_id: account_id.to_owned(),
            reason: e.to_string(),
        }),
        Err(e) => Err(Error::http(what, e)),
    }
}

/// An in-memory token store for tests and the sandbox.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    /// The stored pair; a std mutex is enough because nothing awaits while holding it.
    tokens: std::sync::Mutex<Option<Tokens>>,
}

impl MemoryTokenStore {
    /// A store holding `tokens`.
    pub fn new(tokens: Option<Tokens>) -> Self {
        Self {
            tokens: std::sync::Mutex::new(tokens),
        }
    }

    /// The stored pair.
    pub fn current(&self) -> Option<Tokens> {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<Tokens>, TokenStoreError>> {
        Box::pin(async move { Ok(self.current()) })
    }

    fn rotate<'a>(
        &'a self,
        old_refresh: Option<&'a SecretString>,
        new: &'a Tokens,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        Box::pin(async move {
            let mut g = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
            let matches = match (old_refresh, g.as_ref()) {
                (None, _) => true,
                (Some(old), Some(cur)) => old.expose_secret() == cur.refresh_token.expose_secret(),
                (Some(_), None) => false,
            };
            if matches {
                *g = Some(new.clone());
            }
            Ok(matches)
        })
    }
}
