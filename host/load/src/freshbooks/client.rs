//! `FreshBooksClient`: bearer-authenticated calls under `/accounting/account/<account_id>/`, envelope
//! parsing, token refresh before expiry and once on 401, one refresh at a time per account.

use super::{
    auth::{Grant, OAuthApp, Pkce, TokenStore, TokenStoreError, Tokens, token_request},
    types::Membership,
};
use crate::{Error, Result};
use ferry_outbound::{CallCtx, HttpClient};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::{sync::Arc, time::Duration};
use tokio::sync::Mutex;

/// The downstream name used for breakers and logs.
pub const DOWNSTREAM: &str = "freshbooks";

/// Refresh this long before the access token expires, so no call races the expiry.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How long a refused refresh looks for a pair another host stored meanwhile before it counts as a revocation: short,
/// because a tenant whose authorization really is refused should be parked at once.
const REPLACED_WAIT: Duration = Duration::from_millis(300);

/// How many times a refresh asks the store to keep its new pair before it releases the refresh lock anyway (about
/// 0.75 s of pauses in all).
const PERSIST_TRIES: u32 = 5;

/// Tokens held in memory, plus a rotation the store has not accepted yet.
#[derive(Default)]
struct TokenState {
    tokens: Option<Tokens>,
    /// Set when the store failed to persist a rotation: the old refresh token to CAS from next time.
    unpersisted_from: Option<SecretString>,
    /// The refresh token the token endpoint refused, and its answer: it is not sent again (FreshBooks would refuse
    /// it again, once per event), until a reconnect stores another one or a new client (new config) starts over.
    refused: Option<(SecretString, String)>,
}

/// What [`FreshBooksClient::check_access`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The name of this account's business, when the connected user belongs to it (`None`: they do not).
    pub business: Option<String>,
    /// The accounts the connected user belongs to.
    pub accounts: Vec<String>,
}

/// A tenant's FreshBooks account client. Clones share the token state.
#[derive(Clone)]
pub struct FreshBooksClient {
    http: HttpClient,
    ctx: CallCtx,
    api_base: String,
    auth_base: String,
    account_id: String,
    app: OAuthApp,
    store: Arc<dyn TokenStore>,
    /// An async mutex: a refresh holds it across the token call, so one refresh runs at a time per account.
    state: Arc<Mutex<TokenState>>,
}

impl std::fmt::Debug for FreshBooksClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshBooksClient")
            .field("api_base", &self.api_base)
            .field("account_id", &self.account_id)
            .field("tenant", &self.ctx.tenant)
            .finish_non_exhaustive()
    }
}

impl FreshBooksClient {
    /// A client for one account. `api_base` serves the API and the token endpoint
    /// (`https://api.freshbooks.com`); `auth_base` serves the authorize page (`https://auth.freshbooks.com`).
    pub fn new(
        http: HttpClient,
        tenant: impl Into<String>,
        api_base: &str,
        auth_base: &str,
        account_id: impl Into<String>,
        app: OAuthApp,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        let account_id = account_id.into();
        Self {
            http,
            ctx: CallCtx::new(tenant, DOWNSTREAM).with_rate_key(account_id.clone()),
            api_base: api_base.trim_end_matches('/').to_owned(),
            auth_base: auth_base.trim_end_matches('/').to_owned(),
            account_id,
            app,
            store,
            state: Arc::new(Mutex::new(TokenState::default())),
        }
    }

    /// The account id in accounting paths.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The page the user opens to grant access: FreshBooks sends them back to `redirect_uri` with a code and
    /// `state`. `pkce`'s challenge goes with it; [`FreshBooksClient::connect`] sends its verifier.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str, pkce: &Pkce) -> String {
        let challenge = pkce.challenge();
        let q = [
            ("client_id", self.app.client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", redirect_uri),
            ("state", state),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let query = serde_urlencoded_pairs(&q);
        format!("{}/oauth/authorize?{query}", self.auth_base)
    }

    /// Exchanges an authorization code for tokens and stores them (replacing any earlier connection, and
    /// reconnecting a tenant marked disconnected). `redirect_uri` and `pkce` are those of the authorize URL.
    ///
    /// # Errors
    /// [`Error::AuthRevoked`] when the code is refused; HTTP and store errors.
    pub async fn connect(&self, code: &str, redirect_uri: &str, pkce: &Pkce) -> Result<Tokens> {
        let grant = Grant::Code {
            code,
            redirect_uri,
            pkce,
        };
        let tokens = token_request(
            &self.http,
            &self.ctx,
            &self.api_base,
            &self.account_id,
            &self.app,
            grant,
        )
        .await?;
        self.store
            .rotate(None, &tokens)
            .await
            .map_err(|e| Error::store("store freshbooks tokens", e))?;
        *self.state.lock().await = TokenState {
            tokens: Some(tokens.clone()),
            ..TokenState::default()
        };
        Ok(tokens)
    }

    /// The businesses the connected user belongs to (`GET /auth/api/v1/users/me`).
    ///
    /// # Errors
    /// HTTP errors; [`Error::Refused`] when the reply is unreadable.
    pub async fn memberships(&self) -> Result<Vec<Membership>> {
        let what = "read freshbooks identity";
        let url = format!("{}/auth/api/v1/users/me", self.api_base);
        let body = self.authorized(what, Method::GET, &url, &[], None).await?;
        let list = body
            .pointer("/response/business_memberships")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(list
            .iter()
            .filter_map(|m| {
                let b = m.get("business")?;
                Some(Membership {
                    account_id: b.get("account_id")?.as_str()?.to_owned(),
                    business_id: b.get("id").and_then(Value::as_i64).unwrap_or_default(),
                    name: b
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    role: m
                        .get("role")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
            })
            .collect())
    }

    /// A read-only look at the connection ("Test connection"): reads the identity the tokens belong to (refreshing
    /// them when due, as any call would) and, when that user belongs to this account, lists one client of it.
    ///
    /// # Errors
    /// [`Error::NotConnected`] before a connect, [`Error::AuthRevoked`] when FreshBooks refuses the tokens, HTTP
    /// errors (unreachable, 5xx) otherwise.
    pub async fn check_access(&self) -> Result<Access> {
        let memberships = self.memberships().await?;
        let business = memberships
            .iter()
            .find(|m| m.account_id == self.account_id)
            .map(|m| m.name.clone());
        if business.is_some() {
            let query = [("per_page".to_owned(), "1".to_owned())];
            self.accounting(
                "list freshbooks clients",
                Method::GET,
                "users/clients",
                &query,
                None,
            )
            .await?;
        }
        Ok(Access {
            business,
            accounts: memberships.into_iter().map(|m| m.account_id).collect(),
        })
    }

    /// A valid access token, refreshing first when it is about to expire.
    async fn access_token(&self) -> Result<SecretString> {
        let mut state = self.state.lock().await;
        if state.tokens.is_none() {
            state.tokens = self
                .store
                .load()
                .await
                .map_err(|e| Error::store("load freshbooks tokens", e))?;
        }
        self.persist_pending(&mut state).await;
        match &state.tokens {
            Some(t) if t.fresh_for(REFRESH_MARGIN) => Ok(t.access_token.clone()),
            Some(_) => Ok(self.refresh_locked(&mut state).await?.access_token),
            None => Err(Error::NotConnected {
                account_id: self.account_id.clone(),
            }),
        }
    }

    /// After a 401 with `used`: refresh unless another task already replaced that token.
    async fn refresh_after_401(&self, used: &SecretString) -> Result<SecretString> {
        let mut state = self.state.lock().await;
        if let Some(t) = &state.tokens
            && t.access_token.expose_secret() != used.expose_secret()
        {
            return Ok(t.access_token.clone());
        }
        Ok(self.refresh_locked(&mut state).await?.access_token)
    }

    async fn persist_pending(&self, state: &mut TokenState) {
        if let (Some(old), Some(t)) = (&state.unpersisted_from, &state.tokens) {
            match self.store.rotate(Some(old), t).await {
                Ok(_) => state.unpersisted_from = None,
                Err(error) => {
                    tracing::error!(%error, account_id = %self.account_id, "Rotated tokens still not persisted.")
                }
            }
        }
    }

    /// Refreshes while holding the state lock.
    async fn refresh_locked(&self, state: &mut TokenState) -> Result<Tokens> {
        // One refresh per account across hosts: a refresh token is single-use.
        let _one_refresh = self
            .store
            .lock_refresh()
            .await
            .map_err(|e| Error::store("lock the freshbooks token refresh", e))?;
        // Another host may have rotated already: the store is the source of truth for the refresh token.
        let stored = self
            .store
            .load()
            .await
            .map_err(|e| Error::store("load freshbooks tokens", e))?;
        if let (Some(s), Some(mine)) = (&stored, &state.tokens)
            && !s.same_refresh(mine)
            && s.fresh_for(REFRESH_MARGIN)
            && state.unpersisted_from.is_none()
        {
            state.tokens = stored.clone();
            return Ok(s.clone());
        }
        let current = match (&state.unpersisted_from, &state.tokens, stored) {
            // Our own rotation is newer than what the store holds.
            (Some(_), Some(mine), _) => mine.clone(),
            (_, _, Some(s)) => s,
            (_, Some(mine), None) => mine.clone(),
            (_, None, None) => {
                return Err(Error::NotConnected {
                    account_id: self.account_id.clone(),
                });
            }
        };
        if let Some((refused, reason)) = &state.refused
            && refused.expose_secret() == current.refresh_token.expose_secret()
        {
            return Err(Error::AuthRevoked {
                account_id: self.account_id.clone(),
                reason: format!("refused before, not sent again until a reconnect: {reason}"),
            });
        }
        let grant = Grant::Refresh(&current.refresh_token);
        let new = match token_request(
            &self.http,
            &self.ctx,
            &self.api_base,
            &self.account_id,
            &self.app,
            grant,
        )
        .await
        {
            Ok(new) => new,
            Err(Error::AuthRevoked { account_id, reason }) => {
                // A refresh token the store no longer holds was replaced, not revoked: another host's rotation
                // landed after this one read the store. Its pair is used instead of disconnecting the tenant.
                if let Some(newer) = self.replaced_since(&current).await {
                    tracing::warn!(
                        account_id = %self.account_id,
                        reason,
                        "FreshBooks refused a refresh token another host has since replaced; using the stored pair."
                    );
                    state.tokens = Some(newer.clone());
                    return Ok(newer);
                }
                state.refused = Some((current.refresh_token.clone(), reason.clone()));
                return Err(Error::AuthRevoked { account_id, reason });
            }
            Err(e) => return Err(e),
        };
        state.refused = None;
        state.tokens = Some(new.clone());
        // Stored before the refresh lock is released: another host that takes the lock next reads the store, and
        // would otherwise send the refresh token FreshBooks has just spent.
        state.unpersisted_from = match self.persist_rotation(&current.refresh_token, &new).await {
            Ok(()) => None,
            Err(error) => {
                tracing::error!(%error, account_id = %self.account_id, "Rotated tokens not persisted; will retry.");
                Some(current.refresh_token.clone())
            }
        };
        tracing::info!(account_id = %self.account_id, "FreshBooks token refreshed.");
        Ok(new)
    }

    /// Stores a rotation from `old` to `new`, asking again a few times ([`PERSIST_TRIES`]) while the store fails.
    async fn persist_rotation(
        &self,
        old: &SecretString,
        new: &Tokens,
    ) -> std::result::Result<(), TokenStoreError> {
        let mut pause = Duration::from_millis(50);
        let mut tries = 0;
        loop {
            tries += 1;
            match self.store.rotate(Some(old), new).await {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    // FreshBooks accepted our refresh token, so it was the live one; the store must follow.
                    tracing::warn!(account_id = %self.account_id, "Token store changed under a refresh; overwriting.");
                    let _ = self.store.rotate(None, new).await;
                    return Ok(());
                }
                Err(error) if tries >= PERSIST_TRIES => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, account_id = %self.account_id, "Rotated tokens not persisted yet; asking again.");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
    }

    /// The pair the store holds once its refresh token is no longer `sent`'s, asked a few times over
    /// [`REPLACED_WAIT`]; `None` when it still holds `sent` (or nothing).
    async fn replaced_since(&self, sent: &Tokens) -> Option<Tokens> {
        let deadline = tokio::time::Instant::now() + REPLACED_WAIT;
        loop {
            if let Ok(Some(stored)) = self.store.load().await
                && !stored.same_refresh(sent)
            {
                return Some(stored);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(REPLACED_WAIT / 3).await;
        }
    }

    /// Sends with the bearer token; on 401 refreshes once and resends. Returns the parsed JSON body.
    async fn authorized(
        &self,
        what: &str,
        method: Method,
        url: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut token = self.access_token().await?;
        for attempt in 0..2 {
            let mut req = self
                .http
                .http()
                .request(method.clone(), url)
                .query(query)
                .bearer_auth(token.expose_secret());
            if let Some(b) = body {
                req = req.json(b);
            }
            match self.http.send(&self.ctx, what, req).await {
                Ok(resp) => {
                    if resp.body.is_empty() {
                        return Ok(Value::Null);
                    }
                    return serde_json::from_slice(&resp.body)
                        .map_err(|e| Error::refused(what, format!("reply: {e}")));
                }
                Err(e) if e.needs_auth_refresh() && attempt == 0 => {
                    token = self.refresh_after_401(&token).await?;
                }
                // Refused again with a token just refreshed: the grant itself is gone (app access revoked, the
                // user removed from the business), and every call would be refused the same way.
                Err(e) if e.needs_auth_refresh() => {
                    return Err(Error::AuthRevoked {
                        account_id: self.account_id.clone(),
                        reason: format!("unauthorized right after a token refresh: {e}"),
                    });
                }
                Err(e) => return Err(Error::http(what, e)),
            }
        }
        Err(Error::refused(what, "unauthorized after token refresh"))
    }

    /// Calls `<api>/events/account/<id>/events/<path>` (the callbacks family, docs/freshbooks.md §10) and returns
    /// `response.result` (`Null` for a 204).
    pub(crate) async fn events(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let url = format!(
            "{}/events/account/{}/events/{}",
            self.api_base, self.account_id, path
        );
        match self.authorized(what, method, &url, query, body).await? {
            Value::Null => Ok(Value::Null),
            v => result_of(what, v),
        }
    }

    /// Calls `<api>/accounting/account/<id>/<path>` and returns `response.result`.
    pub(crate) async fn accounting(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let url = format!(
            "{}/accounting/account/{}/{}",
            self.api_base, self.account_id, path
        );
        let v = self.authorized(what, method, &url, query, body).await?;
        result_of(what, v)
    }
}

/// Unwraps `{"response":{"result":…}}`; an `errors` list (even with 200) becomes [`Error::Refused`].
pub(crate) fn result_of(what: &str, mut v: Value) -> Result<Value> {
    let response = v
        .get_mut("response")
        .ok_or_else(|| Error::refused(what, "reply has no `response`"))?;
    if let Some(errors) = response.get("errors") {
        let list = errors
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![errors.clone()]);
        let msgs: Vec<String> = list
            .iter()
            .map(|e| {
                let msg = e.get("message").and_then(Value::as_str).unwrap_or("error");
                match (e.get("errno"), e.get("field").and_then(Value::as_str)) {
                    (Some(n), Some(f)) => format!("{msg} (errno {n}, field {f})"),
                    (Some(n), None) => format!("{msg} (errno {n})"),
                    _ => msg.to_owned(),
                }
            })
            .collect();
        return Err(Error::refused(what, msgs.join("; ")));
    }
    // Moved out, not copied: a list result is most of the reply.
    Ok(response.get_mut("result").map_or(Value::Null, Value::take))
}

/// Takes `result.<key>` and deserialises it.
pub(crate) fn take<T: serde::de::DeserializeOwned>(
    what: &str,
    result: &Value,
    key: &str,
) -> Result<T> {
    let v = result
        .get(key)
        .ok_or_else(|| Error::refused(what, format!("result has no `{key}`")))?;
    // Read from the borrowed value (serde_json deserialises from `&Value`) rather than from a copy of it.
    T::deserialize(v).map_err(|e| Error::refused(what, format!("`{key}`: {e}")))
}

/// Reads `pages` from a list result (0 when empty).
pub(crate) fn pages(result: &Value) -> i64 {
    result.get("pages").and_then(Value::as_i64).unwrap_or(0)
}

fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    reqwest::Url::parse_with_params("http://x/", pairs)
        .ok()
        .and_then(|u| u.query().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_envelope_with_200_is_refused_with_errno() {
        let v = serde_json::json!({"response":{"errors":[{"errno":1012,"field":"userid","message":"Client not found."}]}});
        let e = result_of("get client", v).unwrap_err();
        assert!(e.to_string().contains("errno 1012"), "{e}");
        let ok = result_of(
            "x",
            serde_json::json!({"response":{"result":{"client":{"id":1}}}}),
        )
        .unwrap();
        assert_eq!(ok["client"]["id"], 1);
    }
}
