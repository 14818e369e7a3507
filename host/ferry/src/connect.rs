//! Connecting a tenant to its FreshBooks account: the OAuth authorization-code flow with PKCE, shared by the host's
//! browser routes ("Connect FreshBooks", `admin::connect`) and `ferry connect freshbooks`.
//!
//! [`begin`] seals a [`state`] and builds the authorize URL; FreshBooks sends the user back with a code and the
//! state; [`finish`] opens the state (signed, unexpired, from the same browser), redeems it once in the store,
//! exchanges the code with the verifier and stores the token pair sealed — which also lifts a "disconnected" mark,
//! so the tenant's waiting events run again.

pub mod state;

pub use state::{ConnectState, StateError};

use ferry_load::FreshBooksClient;
use ferry_model::TenantId;
use ferry_store::Store;
use secrecy::SecretString;

/// The path of the host's OAuth callback: `[admin] public_url` followed by this is the one redirect URI a host
/// registers with every tenant's FreshBooks app.
pub const CALLBACK_PATH: &str = "/oauth/freshbooks/callback";

/// The redirect URI of a host reached at `public_url`.
pub fn redirect_uri(public_url: &str) -> String {
    format!("{}{CALLBACK_PATH}", public_url.trim_end_matches('/'))
}

/// A flow begun: where to send the user, and the cookie value that ties the callback to their browser.
pub struct Begun {
    /// FreshBooks' authorize page for this tenant's app, with the state and PKCE challenge.
    pub authorize_url: String,
    /// Set this as a cookie on the browser being sent ([`begin`] with `bind`).
    pub binding: Option<SecretString>,
}

/// Begins a flow for `tenant` through `client` (the tenant's FreshBooks client), returning to `redirect_uri`.
pub fn begin(
    client: &FreshBooksClient,
    keyring: &ferry_secrets::Keyring,
    tenant: &TenantId,
    redirect_uri: &str,
    ttl_secs: u64,
    bind: bool,
) -> Begun {
    let new = state::seal(keyring, tenant, redirect_uri, ttl_secs, bind);
    Begun {
        authorize_url: client.authorize_url(redirect_uri, &new.state, &new.pkce),
        binding: new.binding,
    }
}

/// Why a flow did not finish, in the words the user sees.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    /// The state is missing, altered, expired, replayed or from another browser.
    #[error(transparent)]
    State(#[from] StateError),
    /// FreshBooks sent the user back with an error (they clicked "Deny", or the app is misconfigured).
    #[error("FreshBooks did not grant access ({0}); nothing changed")]
    Denied(String),
    /// The redirect has no code.
    #[error(
        "the redirect from FreshBooks carries no authorization code; start again with Connect FreshBooks"
    )]
    NoCode,
    /// The tenant of the state is not served (any more).
    #[error("tenant {0} is not served by this host")]
    UnknownTenant(TenantId),
    /// FreshBooks refused the code, or could not be reached.
    #[error("FreshBooks did not accept the authorization: {0}")]
    Exchange(#[source] ferry_load::Error),
    /// The store failed.
    #[error("the store failed: {0}")]
    Store(#[from] ferry_store::Error),
}

/// What a finished flow connected.
#[derive(Debug)]
pub struct Connected {
    /// The tenant.
    pub tenant: TenantId,
    /// The business name of the tenant's account, when the user who allowed access belongs to it.
    pub business: Option<String>,
    /// False when the user who allowed access does not belong to the tenant's account (the tokens are stored, but
    /// every accounting call will be refused until `freshbooks.account_id` is fixed).
    pub member: bool,
}

/// Redeems `state` once and exchanges `code` through `client` (the state's tenant's FreshBooks client); the token
/// pair is stored sealed by the client's token store.
///
/// # Errors
/// [`FinishError`]: the state was redeemed before, FreshBooks refused the code, the store failed.
pub async fn finish(
    store: &Store,
    client: &FreshBooksClient,
    state: ConnectState,
    code: &str,
) -> Result<Connected, FinishError> {
    if !store
        .redeem_oauth_state(&state.nonce, &state.tenant, state.expires_at)
        .await?
    {
        return Err(StateError::Replayed.into());
    }
    client
        .connect(code, &state.redirect_uri, &state.pkce)
        .await
        .map_err(FinishError::Exchange)?;
    // Who allowed access: a user of another business gets tokens that every accounting call will refuse.
    let memberships = client.memberships().await.unwrap_or_default();
    let business = memberships
        .iter()
        .find(|m| m.account_id == client.account_id())
        .map(|m| m.name.clone());
    Ok(Connected {
        tenant: state.tenant,
        member: business.is_some() || memberships.is_empty(),
        business,
    })
}
