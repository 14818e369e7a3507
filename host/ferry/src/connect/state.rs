//! The OAuth `state` of a "Connect FreshBooks" flow: sealed (XChaCha20-Poly1305 under the master key, so it is both
//! signed and unreadable), expiring, and redeemed once. It carries everything the callback needs — the tenant, the
//! redirect URI, the PKCE verifier, the browser binding — so starting a flow writes nothing to the store, and any
//! host on the same database can take the callback.

use ferry_model::TenantId;
use ferry_secrets::Keyring;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Marks a sealed blob as a connect state, so no other sealed value (a stored secret) opens as one.
const PURPOSE: &str = "ferry:connect-freshbooks-state:v1";

/// Why a callback's `state` is refused, in the words the user sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The callback carries no `state`.
    #[error("the redirect from FreshBooks carries no state; start again with Connect FreshBooks")]
    Missing,
    /// The state does not open under this host's keys, or does not read as a connect state.
    #[error(
        "the connection request was altered or was not issued by this host; start again with Connect FreshBooks"
    )]
    Tampered,
    /// The state is past its expiry.
    #[error(
        "the connection request expired (they are valid for {ttl_secs} seconds); start again with Connect FreshBooks"
    )]
    Expired {
        /// How long a state is valid.
        ttl_secs: u64,
    },
    /// The state was redeemed before (a replayed or reloaded redirect).
    #[error(
        "this connection request was already used; start again with Connect FreshBooks if the tenant is not connected"
    )]
    Replayed,
    /// The browser that comes back is not the one that started the flow.
    #[error(
        "this browser did not start this connection request; start again with Connect FreshBooks in this browser"
    )]
    OtherBrowser,
}

/// What a state carries.
#[derive(Serialize, Deserialize)]
struct Payload {
    purpose: String,
    tenant: String,
    nonce: String,
    /// Unix milliseconds.
    expires_at: i64,
    redirect_uri: String,
    verifier: String,
    /// A random value also set as a cookie on the browser that started the flow (`None` for `ferry connect`,
    /// whose own listener is the only receiver).
    binding: Option<String>,
    ttl_secs: u64,
}

/// An opened, valid state (not yet redeemed).
#[derive(Debug)]
pub struct ConnectState {
    /// The tenant being connected.
    pub tenant: TenantId,
    /// Redeemed once, through the store.
    pub nonce: String,
    /// When it stops being valid.
    pub expires_at: OffsetDateTime,
    /// The redirect URI of the authorize request (the exchange must name the same).
    pub redirect_uri: String,
    /// The PKCE verifier of the authorize request's challenge.
    pub pkce: ferry_load::Pkce,
    binding: Option<String>,
}

/// A new state to put in the authorize URL.
pub struct NewState {
    /// The sealed state, URL-safe.
    pub state: String,
    /// The PKCE pair whose challenge goes in the authorize URL.
    pub pkce: ferry_load::Pkce,
    /// The value the starting browser must bring back as a cookie, when bound to one.
    pub binding: Option<SecretString>,
}

/// 256 random bits, URL-safe.
fn random() -> String {
    use base64::Engine as _;
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Seals a state for `tenant`, valid for `ttl_secs`, returning to `redirect_uri`; `bind` ties it to the browser
/// that receives the returned binding as a cookie.
pub fn seal(
    keyring: &Keyring,
    tenant: &TenantId,
    redirect_uri: &str,
    ttl_secs: u64,
    bind: bool,
) -> NewState {
    use base64::Engine as _;
    let pkce = ferry_load::Pkce::generate();
    let binding = bind.then(random);
    let ttl_ms = i64::try_from(ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let now_ms = i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX);
    let payload = Payload {
        purpose: PURPOSE.to_owned(),
        tenant: tenant.to_string(),
        nonce: random(),
        expires_at: now_ms.saturating_add(ttl_ms),
        redirect_uri: redirect_uri.to_owned(),
        verifier: pkce.verifier.expose_secret().to_owned(),
        binding: binding.clone(),
        ttl_secs,
    };
    // Serialising a struct of strings and integers cannot fail.
    let json = serde_json::to_vec(&payload).unwrap_or_default();
    NewState {
        state: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(keyring.seal(&json)),
        pkce,
        binding: binding.map(SecretString::from),
    }
}

/// Opens `state` and checks it is unexpired and, when it is bound to a browser, that `cookie` is its binding. It is
/// not redeemed yet: the caller redeems its nonce in the store ([`ferry_store::Store::redeem_oauth_state`]).
///
/// # Errors
/// [`StateError`], naming what is wrong.
pub fn open(
    keyring: &Keyring,
    state: Option<&str>,
    cookie: Option<&str>,
) -> Result<ConnectState, StateError> {
    use base64::Engine as _;
    let state = state.filter(|s| !s.is_empty()).ok_or(StateError::Missing)?;
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(state)
        .map_err(|_| StateError::Tampered)?;
    let json = keyring.open(&sealed).map_err(|_| StateError::Tampered)?;
    let p: Payload =
        serde_json::from_str(json.expose_secret()).map_err(|_| StateError::Tampered)?;
    if p.purpose != PURPOSE {
        return Err(StateError::Tampered);
    }
    let tenant = TenantId::parse(&p.tenant).map_err(|_| StateError::Tampered)?;
    let expires_at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(p.expires_at) * 1_000_000)
            .map_err(|_| StateError::Tampered)?;
    if expires_at <= OffsetDateTime::now_utc() {
        return Err(StateError::Expired {
            ttl_secs: p.ttl_secs,
        });
    }
    if let Some(binding) = &p.binding
        && cookie != Some(binding.as_str())
    {
        return Err(StateError::OtherBrowser);
    }
    Ok(ConnectState {
        tenant,
        nonce: p.nonce,
        expires_at,
        redirect_uri: p.redirect_uri,
        pkce: ferry_load::Pkce {
            verifier: SecretString::from(p.verifier),
        },
        binding: p.binding,
    })
}

impl ConnectState {
    /// Whether this state was bound to a browser cookie.
    pub fn is_bound(&self) -> bool {
        self.binding.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::from_encoded(&[Keyring::generate_encoded()]).unwrap()
    }

    #[test]
    fn a_state_opens_with_its_tenant_redirect_and_verifier() {
        let k = keyring();
        let shop = TenantId::parse("shop").unwrap();
        let new = seal(&k, &shop, "https://ferry.example/cb", 60, true);
        let binding = new.binding.as_ref().unwrap().expose_secret().to_owned();
        let opened = open(&k, Some(&new.state), Some(&binding)).unwrap();
        assert_eq!(opened.tenant, shop);
        assert_eq!(opened.redirect_uri, "https://ferry.example/cb");
        assert_eq!(opened.pkce.challenge(), new.pkce.challenge());
        assert!(opened.is_bound());
        // The state is sealed: neither the verifier nor the binding can be read from it.
        assert!(!new.state.contains(new.pkce.verifier.expose_secret()));
    }

    #[test]
    fn altered_foreign_expired_and_unbound_states_are_refused() {
        let k = keyring();
        let shop = TenantId::parse("shop").unwrap();
        let new = seal(&k, &shop, "https://ferry.example/cb", 60, false);
        let mut altered = new.state.clone().into_bytes();
        let i = altered.len() / 2;
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(
            open(&k, Some(&altered), None).unwrap_err(),
            StateError::Tampered
        );
        assert_eq!(
            open(&keyring(), Some(&new.state), None).unwrap_err(),
            StateError::Tampered
        );
        assert_eq!(
            open(&k, Some("not-a-state"), None).unwrap_err(),
            StateError::Tampered
        );
        assert_eq!(open(&k, None, None).unwrap_err(), StateError::Missing);
        // A sealed value of another purpose (a stored secret) is not a state.
        let secret = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            k.seal(b"rt-123"),
        );
        assert_eq!(
            open(&k, Some(&secret), None).unwrap_err(),
            StateError::Tampered
        );

        let expired = seal(&k, &shop, "https://ferry.example/cb", 0, false);
        assert_eq!(
            open(&k, Some(&expired.state), None).unwrap_err(),
            StateError::Expired { ttl_secs: 0 }
        );
        let bound = seal(&k, &shop, "https://ferry.example/cb", 60, true);
        assert_eq!(
            open(&k, Some(&bound.state), None).unwrap_err(),
            StateError::OtherBrowser
        );
        assert_eq!(
            open(&k, Some(&bound.state), Some("another")).unwrap_err(),
            StateError::OtherBrowser
        );
    }
}
