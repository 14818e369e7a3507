//! The store behind the stages' ports: `load`'s idempotency ledger and OAuth token store, sealed at rest.

use ferry_load::{
    BoxFuture, Ledger, LedgerEntry, LedgerError, LedgerLock, RefreshGuard, TokenStore,
    TokenStoreError, Tokens,
};
use ferry_model::TenantId;
use ferry_secrets::Keyring;
use ferry_store::{Lease, LedgerState, RotateOutcome, Store, TokenSet};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// How long a find-or-create waits for another one of the same key (a few FreshBooks calls) before the event
/// is retried later.
const CREATE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a token refresh waits for another host's refresh of the same account.
const REFRESH_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// `load`'s ledger over the store's idempotency table, scoped to one tenant, and to one event's attempt when it
/// runs for one (then results of keys only that event writes go with its next write).
pub struct StoreLedger {
    store: Store,
    tenant: TenantId,
    attempt: Option<Lease>,
}

impl StoreLedger {
    /// The ledger of `tenant`, every write on its own.
    pub fn new(store: Store, tenant: TenantId) -> Self {
        Self {
            store,
            tenant,
            attempt: None,
        }
    }

    /// The ledger of `tenant` as the attempt holding `lease` uses it: [`Ledger::done_with_next_write`] holds a
    /// result back for the attempt's next intent or its answer.
    pub fn for_attempt(store: Store, tenant: TenantId, lease: Lease) -> Self {
        Self {
            store,
            tenant,
            attempt: Some(lease),
        }
    }
}

/// A store ledger row as `load` sees it: its key and whether it is done (an intent otherwise).
fn load_entry(row: ferry_store::LedgerEntry) -> (String, LedgerEntry) {
    let entry = match (row.state, row.external_id) {
        (LedgerState::Done, Some(external_id)) => LedgerEntry::Done { external_id },
        _ => LedgerEntry::Intent,
    };
    (row.key, entry)
}

fn ledger_err(e: ferry_store::Error) -> LedgerError {
    LedgerError(e.to_string())
}

impl Ledger for StoreLedger {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<LedgerEntry>, LedgerError>> {
        Box::pin(async move {
            let row = match &self.attempt {
                Some(lease) => {
                    self.store
                        .attempt_ledger_lookup(lease, &self.tenant, key)
                        .await
                }
                None => self.store.ledger_lookup(&self.tenant, key).await,
            }
            .map_err(ledger_err)?;
            Ok(row.map(|r| load_entry(r).1))
        })
    }

    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, LedgerEntry)>, LedgerError>> {
        Box::pin(async move {
            let rows = match &self.attempt {
                Some(lease) => {
                    self.store
                        .attempt_ledger_lookup_many(lease, &self.tenant, keys)
                        .await
                }
                None => self.store.ledger_lookup_many(&self.tenant, keys).await,
            }
            .map_err(ledger_err)?;
            Ok(rows.into_iter().map(load_entry).collect())
        })
    }

    fn intent<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, LedgerError>> {
        Box::pin(async move {
            match &self.attempt {
                Some(lease) => {
                    self.store
                        .record_attempt_intent(lease, &self.tenant, key, "")
                        .await
                }
                None => self.store.write_intent(&self.tenant, key, "").await,
            }
            .map_err(ledger_err)
        })
    }

    fn withdraw<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), LedgerError>> {
        Box::pin(async move {
            self.store
                .withdraw_intent(&self.tenant, key)
                .await
                .map_err(ledger_err)
        })
    }

    fn done<'a>(
        &'a self,
        key: &'a str,
        external_id: &'a str,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        Box::pin(async move {
            self.store
                .record_result(&self.tenant, key, external_id)
                .await
                .map_err(ledger_err)
        })
    }

    fn done_with_next_write<'a>(
        &'a self,
        key: &'a str,
        external_id: &'a str,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        match &self.attempt {
            Some(lease) => {
                self.store
                    .record_result_with_answer(lease, &self.tenant, key, external_id);
                Box::pin(async { Ok(()) })
            }
            None => self.done(key, external_id),
        }
    }

    fn lock<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<LedgerLock, LedgerError>> {
        Box::pin(async move {
            let held = self
                .store
                .lock_create(&self.tenant, key, CREATE_LOCK_WAIT)
                .await
                .map_err(ledger_err)?
                .ok_or_else(|| {
                    LedgerError(format!(
                        "another worker has held the create lock of {key} for {CREATE_LOCK_WAIT:?}"
                    ))
                })?;
            let guard: LedgerLock = Box::new(held);
            Ok(guard)
        })
    }
}

/// FreshBooks tokens in the store, sealed with the keyring; rotation is a compare-and-swap in one transaction.
pub struct SealedTokenStore {
    store: Store,
    keyring: Arc<Keyring>,
    tenant: TenantId,
    account: String,
}

impl SealedTokenStore {
    /// The token row of (`tenant`, `account`).
    pub fn new(store: Store, keyring: Arc<Keyring>, tenant: TenantId, account: String) -> Self {
        Self {
            store,
            keyring,
            tenant,
            account,
        }
    }

    fn seal(&self, t: &Tokens) -> TokenSet {
        TokenSet {
            access_token: self.keyring.seal(t.access_token.expose_secret().as_bytes()),
            refresh_token: self
                .keyring
                .seal(t.refresh_token.expose_secret().as_bytes()),
            expires_at: t.expires_at,
        }
    }

    fn open(&self, t: &TokenSet) -> Result<Tokens, TokenStoreError> {
        let open = |b: &[u8]| {
            self.keyring
                .open(b)
                .map_err(|e| TokenStoreError(e.to_string()))
        };
        Ok(Tokens {
            access_token: open(&t.access_token)?,
            refresh_token: open(&t.refresh_token)?,
            expires_at: t.expires_at,
        })
    }
}

fn token_err(e: ferry_store::Error) -> TokenStoreError {
    TokenStoreError(e.to_string())
}

impl TokenStore for SealedTokenStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<Tokens>, TokenStoreError>> {
        Box::pin(async move {
            let row = self
                .store
                .tokens(&self.tenant, &self.account)
                .await
                .map_err(token_err)?;
            row.as_ref().map(|t| self.open(t)).transpose()
        })
    }

    fn rotate<'a>(
        &'a self,
        old_refresh: Option<&'a SecretString>,
        new: &'a Tokens,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        Box::pin(async move {
            let sealed = self.seal(new);
            let Some(old) = old_refresh else {
                self.store
                    .put_tokens(&self.tenant, &self.account, &sealed)
                    .await
                    .map_err(token_err)?;
                return Ok(true);
            };
            // Sealing is randomised, so the stored ciphertext of the old refresh token is what the CAS compares.
            let Some(current) = self
                .store
                .tokens(&self.tenant, &self.account)
                .await
                .map_err(token_err)?
            else {
                return Ok(false);
            };
            let current_plain = self.open(&current)?;
            if current_plain.refresh_token.expose_secret() != old.expose_secret() {
                return Ok(false);
            }
            let outcome = self
                .store
                .rotate_tokens(&self.tenant, &self.account, &current.refresh_token, &sealed)
                .await
                .map_err(token_err)?;
            Ok(matches!(outcome, RotateOutcome::Rotated))
        })
    }

    fn lock_refresh(&self) -> BoxFuture<'_, Result<RefreshGuard, TokenStoreError>> {
        Box::pin(async move {
            let held = self
                .store
                .lock_refresh(&self.tenant, &self.account, REFRESH_LOCK_WAIT)
                .await
                .map_err(token_err)?
                .ok_or_else(|| {
                    TokenStoreError(format!(
                        "another host has been refreshing account {} for {REFRESH_LOCK_WAIT:?}",
                        self.account
                    ))
                })?;
            let guard: RefreshGuard = Box::new(held);
            Ok(guard)
        })
    }
}

/// The FreshBooks per-account rate budget in the shared database: every host draws from one window counter,
/// so several hosts together stay within one account's limit.
pub struct StoreRateBudget {
    store: Store,
}

impl StoreRateBudget {
    /// A budget over `store` (meant for Postgres, where hosts share it).
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl ferry_outbound::SharedRateBudget for StoreRateBudget {
    fn take<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, String>> {
        Box::pin(async move {
            self.store
                .take_rate_slot(
                    &format!("outbound:{key}"),
                    limit,
                    std::time::Duration::from_secs(1),
                )
                .await
                .map_err(|e| e.to_string())
        })
    }
}
