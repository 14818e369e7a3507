//! The simulator's data: identities, businesses (accounts) with their objects, OAuth grants and rate windows.
//! One lock guards all of it, so a request sees a consistent account.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use http::HeaderMap;
use serde::Serialize;
use time::OffsetDateTime;

use super::error::ApiError;
use super::model::{
    Business, Client, CreditNote, Identity, Invoice, Item, Membership, Payment, Tax, TokenResponse,
};
use super::{ACCESS_TOKEN_LIFETIME, FreshBooksSimConfig, clock};

/// One business (tenant) and everything created in it.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) account_id: String,
    pub(crate) business_id: u64,
    pub(crate) business_uuid: String,
    pub(crate) name: String,
    pub(crate) currency: String,
    pub(crate) membership_id: u64,
    pub(crate) clients: BTreeMap<u64, Client>,
    /// Invoices are stored with `lines: Some(..)`; replies strip them unless `include[]=lines`.
    pub(crate) invoices: BTreeMap<u64, Invoice>,
    /// Whether each invoice was marked sent (status 2) before payments; payments derive status from this.
    pub(crate) sent: BTreeMap<u64, bool>,
    pub(crate) items: BTreeMap<u64, Item>,
    pub(crate) taxes: BTreeMap<u64, Tax>,
    pub(crate) payments: BTreeMap<u64, Payment>,
    /// Credit notes, stored with `lines: Some(..)` like invoices.
    pub(crate) credit_notes: BTreeMap<u64, CreditNote>,
    /// Fixed rate-limit window: when it started and how many requests it has seen.
    pub(crate) window: (Instant, u32),
    /// Next auto-assigned invoice number.
    pub(crate) next_invoice_number: u64,
    /// Next auto-assigned credit number (its own sequence, like invoice numbers).
    pub(crate) next_credit_number: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct IdentityRec {
    pub(crate) id: u64,
    pub(crate) uuid: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) email: String,
    pub(crate) created_at: String,
    pub(crate) accounts: Vec<String>,
}

#[derive(Debug, Clone)]
struct AccessGrant {
    identity_id: u64,
    expires_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    identity_id: u64,
    scope: String,
    /// Single-use: set when the token is exchanged; a second exchange fails with `invalid_grant`.
    used: bool,
}

#[derive(Debug, Clone)]
struct CodeGrant {
    identity_id: u64,
    /// The application the code was issued to: only it may redeem the code.
    client_id: Option<String>,
    redirect_uri: String,
    scope: String,
    expires_at: OffsetDateTime,
    /// The PKCE challenge of the authorize request, when it sent one: the exchange must bring its verifier.
    pkce: Option<PkceChallenge>,
}

/// A PKCE challenge (RFC 7636) and its method, `S256` or `plain`.
// guess: FreshBooks' documentation does not mention PKCE (docs/freshbooks.md §8); the simulator verifies it the
// way RFC 7636 servers do when a challenge is sent, and ignores its absence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PkceChallenge {
    pub(crate) challenge: String,
    pub(crate) method: String,
}

impl PkceChallenge {
    /// True when `verifier` answers this challenge.
    fn verifies(&self, verifier: &str) -> bool {
        use base64::Engine as _;
        use sha2::Digest as _;
        match self.method.as_str() {
            "plain" => verifier == self.challenge,
            _ => {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(verifier.as_bytes()))
                    == self.challenge
            }
        }
    }
}

/// One authorization the user allowed on the authorize page, as FreshBooks saw it (tests assert what was sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authorization {
    /// `client_id` of the request.
    pub client_id: Option<String>,
    /// `redirect_uri` of the request.
    pub redirect_uri: String,
    /// Whether a `state` came with it.
    pub has_state: bool,
    /// `code_challenge_method`, when a PKCE challenge came with it.
    pub pkce_method: Option<String>,
    /// The identity that allowed it.
    pub identity_id: u64,
}

/// What the code exchange brings besides the code.
pub(crate) struct CodeExchange<'a> {
    pub(crate) client_id: Option<&'a str>,
    pub(crate) redirect_uri: Option<&'a str>,
    pub(crate) code_verifier: Option<&'a str>,
}

/// Everything the simulator knows.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) config: FreshBooksSimConfig,
    next_id: u64,
    pub(crate) identities: BTreeMap<u64, IdentityRec>,
    pub(crate) accounts: BTreeMap<String, Account>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    codes: HashMap<String, CodeGrant>,
    /// Redirect URIs registered with the application; empty accepts any (the sandbox).
    pub(crate) redirect_uris: Vec<String>,
    /// Authorizations allowed on the authorize page, oldest first.
    pub(crate) authorizations: Vec<Authorization>,
    /// Requests that reached `POST /auth/oauth/token`, refused ones included (tests count them).
    pub(crate) token_requests: u64,
}

/// Default scopes granted when a request names none.
pub(crate) const DEFAULT_SCOPE: &str = "user:profile:read user:clients:read user:clients:write user:invoices:read user:invoices:write user:payments:read user:payments:write user:billable_items:read user:billable_items:write user:taxes:read user:taxes:write";

impl Store {
    pub(crate) fn new(config: FreshBooksSimConfig) -> Self {
        Self {
            config,
            next_id: 100_000,
            identities: BTreeMap::new(),
            accounts: BTreeMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            codes: HashMap::new(),
            redirect_uris: Vec::new(),
            authorizations: Vec::new(),
            token_requests: 0,
        }
    }

    /// Next id; ids are global across accounts and types, like FreshBooks' large shared sequences.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Creates an owner identity and a business; returns `(account_id, identity_id)`.
    pub(crate) fn create_account(
        &mut self,
        name: &str,
        currency: &str,
        account_id: Option<String>,
    ) -> (String, u64) {
        let business_id = self.next_id();
        let account_id = account_id.unwrap_or_else(|| short_id(business_id));
        let identity_id = self.next_id();
        let membership_id = self.next_id();
        let slug: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase();
        self.identities.insert(
            identity_id,
            IdentityRec {
                id: identity_id,
                uuid: uuid::Uuid::new_v4().to_string(),
                first_name: "Owner".into(),
                last_name: name.into(),
                email: format!("owner@{slug}.example"),
                created_at: clock::iso_now(),
                accounts: vec![account_id.clone()],
            },
        );
        let account = Account {
            account_id: account_id.clone(),
            business_id,
            business_uuid: uuid::Uuid::new_v4().to_string(),
            name: name.into(),
            currency: currency.into(),
            membership_id,
            clients: BTreeMap::new(),
            invoices: BTreeMap::new(),
            sent: BTreeMap::new(),
            items: BTreeMap::new(),
            taxes: BTreeMap::new(),
            payments: BTreeMap::new(),
            credit_notes: BTreeMap::new(),
            window: (Instant::now(), 0),
            next_invoice_number: 1,
            next_credit_number: 1,
        };
        self.accounts.insert(account_id.clone(), account);
        (account_id, identity_id)
    }

    /// The `/users/me` body for an identity.
    pub(crate) fn identity(&self, identity_id: u64) -> Option<Identity> {
        let rec = self.identities.get(&identity_id)?;
        let business_memberships = rec
            .accounts
            .iter()
            .filter_map(|id| self.accounts.get(id))
            .map(|a| Membership {
                id: a.membership_id,
                role: "owner".into(),
                unacknowledged_change: false,
                business: Business {
                    id: a.business_id,
                    business_uuid: a.business_uuid.clone(),
                    name: a.name.clone(),
                    account_id: a.account_id.clone(),
                    date_format: "yyyy-mm-dd".into(),
                    business_clients: Vec::new(),
                },
            })
            .collect();
        Some(Identity {
            id: rec.id,
            identity_id: rec.id,
            identity_uuid: rec.uuid.clone(),
            first_name: rec.first_name.clone(),
            last_name: rec.last_name.clone(),
            email: rec.email.clone(),
            language: "en".into(),
            confirmed_at: Some(rec.created_at.clone()),
            created_at: rec.created_at.clone(),
            setup_complete: true,
            business_memberships,
        })
    }

    /// Issues a fresh access + refresh pair for an identity.
    pub(crate) fn issue_tokens(&mut self, identity_id: u64, scope: &str) -> TokenResponse {
        let now = OffsetDateTime::now_utc();
        let access_token = token_string();
        let refresh_token = token_string();
        self.access.insert(
            access_token.clone(),
            AccessGrant {
                identity_id,
                expires_at: now + ACCESS_TOKEN_LIFETIME,
            },
        );
        self.refresh.insert(
            refresh_token.clone(),
            RefreshGrant {
                identity_id,
                scope: scope.to_owned(),
                used: false,
            },
        );
        TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: ACCESS_TOKEN_LIFETIME.as_secs(),
            refresh_token,
            scope: scope.to_owned(),
            created_at: now.unix_timestamp(),
        }
    }

    /// Issues an authorization code (valid 5 minutes, docs/freshbooks.md §8) to `client_id`, for the redirect URI
    /// and PKCE challenge of the request, and records the authorization.
    pub(crate) fn issue_code(
        &mut self,
        identity_id: u64,
        client_id: Option<&str>,
        redirect_uri: &str,
        scope: &str,
        pkce: Option<PkceChallenge>,
        has_state: bool,
    ) -> String {
        let code = token_string();
        let expires_at = OffsetDateTime::now_utc() + Duration::from_secs(300);
        self.authorizations.push(Authorization {
            client_id: client_id.map(str::to_owned),
            redirect_uri: redirect_uri.into(),
            has_state,
            pkce_method: pkce.as_ref().map(|p| p.method.clone()),
            identity_id,
        });
        let grant = CodeGrant {
            identity_id,
            client_id: client_id.map(str::to_owned),
            redirect_uri: redirect_uri.into(),
            scope: scope.into(),
            expires_at,
            pkce,
        };
        self.codes.insert(code.clone(), grant);
        code
    }

    /// Exchanges a code (single use: a second exchange, even a refused first one, finds nothing) for tokens. The
    /// exchange must come from the application the code was issued to, name the same redirect URI, and bring the
    /// verifier of the PKCE challenge when the authorize request sent one.
    pub(crate) fn redeem_code(
        &mut self,
        code: &str,
        exchange: &CodeExchange<'_>,
    ) -> Result<TokenResponse, ApiError> {
        let grant = self
            .codes
            .remove(code)
            .ok_or_else(|| ApiError::invalid_grant("unknown or used authorization code"))?;
        if grant.expires_at < OffsetDateTime::now_utc() {
            return Err(ApiError::invalid_grant("authorization code expired"));
        }
        if grant.client_id.is_some() && exchange.client_id != grant.client_id.as_deref() {
            return Err(ApiError::invalid_grant(
                "the authorization code was issued to another client",
            ));
        }
        if exchange.redirect_uri != Some(grant.redirect_uri.as_str()) {
            return Err(ApiError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        if let Some(pkce) = &grant.pkce {
            match exchange.code_verifier {
                None => return Err(ApiError::invalid_grant("code_verifier is required")),
                Some(v) if !pkce.verifies(v) => {
                    return Err(ApiError::invalid_grant(
                        "code_verifier does not match the code_challenge",
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(self.issue_tokens(grant.identity_id, &grant.scope))
    }

    /// Revokes every grant of the identities that belong to `account_id` (the owner removed the application): their
    /// access tokens stop working and their refresh tokens are refused. Returns how many tokens were revoked.
    pub(crate) fn revoke_tokens(&mut self, account_id: &str) -> usize {
        let members: Vec<u64> = self
            .identities
            .values()
            .filter(|i| i.accounts.iter().any(|a| a == account_id))
            .map(|i| i.id)
            .collect();
        let before = self.access.len() + self.refresh.len();
        self.access.retain(|_, g| !members.contains(&g.identity_id));
        self.refresh
            .retain(|_, g| !members.contains(&g.identity_id));
        before - self.access.len() - self.refresh.len()
    }

    /// Exchanges a refresh token (single use, rotating) for a new pair.
    pub(crate) fn redeem_refresh(
        &mut self,
        refresh_token: &str,
    ) -> Result<TokenResponse, ApiError> {
        let grant = self
            .refresh
            .get_mut(refresh_token)
            .ok_or_else(|| ApiError::invalid_grant("the refresh token is unknown"))?;
        if grant.used {
            return Err(ApiError::invalid_grant(
                "the refresh token has already been used",
            ));
        }
        grant.used = true;
        let (identity_id, scope) = (grant.identity_id, grant.scope.clone());
        // docs/freshbooks.md §8: "any newer token invalidates all earlier ones" — retire every other live refresh token
        // of the identity so exactly one stays valid.
        for other in self
            .refresh
            .values_mut()
            .filter(|g| g.identity_id == identity_id)
        {
            other.used = true;
        }
        Ok(self.issue_tokens(identity_id, &scope))
    }

    /// Makes every access token of `identity_id` (or of everyone when `None`) expired.
    pub(crate) fn expire_access_tokens(&mut self, identity_id: Option<u64>) -> usize {
        let past = OffsetDateTime::now_utc() - Duration::from_secs(1);
        let mut n = 0;
        for grant in self
            .access
            .values_mut()
            .filter(|g| identity_id.is_none_or(|id| g.identity_id == id))
        {
            grant.expires_at = past;
            n += 1;
        }
        n
    }

    /// Resolves a bearer token to a live identity.
    pub(crate) fn bearer_identity(&self, headers: &HeaderMap) -> Option<u64> {
        let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))?
            .trim();
        let grant = self.access.get(token)?;
        (grant.expires_at > OffsetDateTime::now_utc()).then_some(grant.identity_id)
    }

    /// Checks the bearer token reaches `account_id`, counts the request against the account's rate window, and
    /// returns the account.
    ///
    /// A token for another business gets the same 401/1003 as a bad token (a guess; FreshBooks might send 403).
    pub(crate) fn authorize(
        &mut self,
        headers: &HeaderMap,
        account_id: &str,
    ) -> Result<&mut Account, ApiError> {
        let identity = self
            .bearer_identity(headers)
            .ok_or_else(ApiError::access_denied)?;
        let member = self
            .identities
            .get(&identity)
            .is_some_and(|i| i.accounts.iter().any(|a| a == account_id));
        if !member {
            return Err(ApiError::access_denied());
        }
        let limit = self.config.rate_limit;
        let account = self
            .accounts
            .get_mut(account_id)
            .ok_or_else(ApiError::access_denied)?;
        if let Some(limit) = limit {
            let now = Instant::now();
            if now.duration_since(account.window.0) >= limit.window {
                account.window = (now, 0);
            }
            if account.window.1 >= limit.requests {
                let left = limit
                    .window
                    .saturating_sub(now.duration_since(account.window.0));
                // guess: FreshBooks documents no limit (docs/freshbooks.md §9); `Retry-After` gives the time until the
                // window resets in whole seconds rounded up, so a client that waits it is not refused again.
                let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                return Err(ApiError::Throttled {
                    retry_after_secs: secs.max(1),
                });
            }
            account.window.1 += 1;
        }
        Ok(account)
    }
}

/// A short account id like FreshBooks' `"ZyQ04o"`: base-62 of the business id.
fn short_id(n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut n = n * 7_919 + 916_132_832; // spread consecutive ids so they do not look sequential
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[usize::try_from(n % 62).unwrap_or(0)]);
        n /= 62;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn token_string() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
