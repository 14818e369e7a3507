//! `ferry secrets reseal`: seals every stored secret again with the newest master key, so that older keys can be
//! removed from `FERRY_MASTER_KEY` after a rotation.
//!
//! Stored secrets are the sealed secrets of tenants managed through the API and the FreshBooks OAuth tokens. A
//! blob sealed by an older key is opened with it and sealed with the first key; the row is replaced only if it
//! still holds the blob that was read (a host may rotate tokens meanwhile), and tokens are re-sealed under the
//! account's refresh lock, which token refreshes on every host also take. `--check` only reports, and fails
//! while anything is sealed by an older key (for a rotation script or a monitor).

use clap::Subcommand;
use ferry_secrets::Keyring;
use ferry_store::{Store, TokenSet};
use secrecy::ExposeSecret;
use std::io::Write;
use std::time::Duration;

/// How long re-sealing one account's tokens waits for a refresh in progress to finish.
const REFRESH_WAIT: Duration = Duration::from_secs(30);

/// `ferry secrets …`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Seal every stored secret sealed by an older master key again with the first (newest) key.
    Reseal {
        /// Only report what is sealed by an older key; exit with an error while anything is.
        #[arg(long)]
        check: bool,
    },
}

/// What one pass found, per kind of secret.
#[derive(Debug, Default)]
struct Tally {
    current: usize,
    resealed: usize,
    /// Sealed by an older key (in `--check` mode, nothing is changed).
    stale: Vec<String>,
    /// Could not be opened or replaced, with the reason.
    failed: Vec<String>,
}

impl Tally {
    /// Counts the outcome of replacing `name`'s row (false: it changed after it was read).
    fn swap(&mut self, name: &str, swapped: bool) {
        if swapped {
            self.resealed += 1;
        } else {
            self.failed
                .push(format!("{name}: changed while re-sealing; run again"));
        }
    }
}

/// Runs `ferry secrets reseal`, writing a summary to `out`.
///
/// # Errors
/// The store failed; or, after the summary: a secret could not be opened (its key is not configured, or it was
/// tampered with) or changed while being re-sealed, or (with `--check`) a secret is sealed by an older key.
pub async fn run(
    store: &Store,
    keyring: &Keyring,
    cmd: SecretsCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let SecretsCommand::Reseal { check } = cmd;
    let tenants = reseal_tenant_secrets(store, keyring, check).await?;
    let tokens = reseal_tokens(store, keyring, check).await?;
    let key = keyring.sealing_key_id();
    for (what, t) in [("tenant secrets", &tenants), ("FreshBooks tokens", &tokens)] {
        writeln!(
            out,
            "{what}: {} re-sealed, {} already sealed with key {key}, {} sealed with an older key, {} failed",
            t.resealed,
            t.current,
            t.stale.len(),
            t.failed.len()
        )?;
        for f in &t.failed {
            writeln!(out, "  failed: {f}")?;
        }
    }
    let failed = tenants.failed.len() + tokens.failed.len();
    let stale: Vec<&String> = tenants.stale.iter().chain(&tokens.stale).collect();
    anyhow::ensure!(
        failed == 0,
        "{failed} stored secret(s) could not be re-sealed (listed above); keep the older keys configured"
    );
    if check {
        anyhow::ensure!(
            stale.is_empty(),
            "sealed with an older key: {}; run `ferry secrets reseal`",
            stale
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    writeln!(
        out,
        "Every stored secret is sealed with key {key} (the first of FERRY_MASTER_KEY); the other keys can be removed."
    )?;
    Ok(())
}

/// The same plaintext sealed with the newest key.
fn reseal(keyring: &Keyring, sealed: &[u8]) -> Result<Vec<u8>, ferry_secrets::SecretsError> {
    let plain = keyring.open(sealed)?;
    Ok(keyring.seal(plain.expose_secret().as_bytes()))
}

async fn reseal_tenant_secrets(
    store: &Store,
    keyring: &Keyring,
    check: bool,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    for t in store.tenant_configs().await? {
        let name = format!("tenant {}", t.id);
        if !keyring.needs_reseal(&t.sealed_secrets) {
            tally.current += 1;
        } else if check {
            tally.stale.push(name);
        } else {
            match reseal(keyring, &t.sealed_secrets) {
                Err(e) => tally.failed.push(format!("{name}: {e}")),
                Ok(new) => {
                    let swapped = store
                        .reseal_tenant_secrets(&t.id, &t.sealed_secrets, &new)
                        .await?;
                    tally.swap(&name, swapped);
                }
            }
        }
    }
    Ok(tally)
}

async fn reseal_tokens(store: &Store, keyring: &Keyring, check: bool) -> anyhow::Result<Tally> {
    let stale = |s: &TokenSet| {
        keyring.needs_reseal(&s.access_token) || keyring.needs_reseal(&s.refresh_token)
    };
    let mut tally = Tally::default();
    for (tenant, account, listed) in store.all_tokens().await? {
        let name = format!("tenant {tenant} account {account}");
        if !stale(&listed) {
            tally.current += 1;
            continue;
        }
        if check {
            tally.stale.push(name);
            continue;
        }
        // A refresh rotates the pair under this lock; re-read once it is ours.
        let Some(_lock) = store.lock_refresh(&tenant, &account, REFRESH_WAIT).await? else {
            tally.failed.push(format!(
                "{name}: a token refresh held the account; run again"
            ));
            continue;
        };
        let Some(now) = store.tokens(&tenant, &account).await? else {
            continue;
        };
        if !stale(&now) {
            tally.current += 1;
            continue;
        }
        let sealed = reseal(keyring, &now.access_token)
            .and_then(|a| Ok((a, reseal(keyring, &now.refresh_token)?)));
        match sealed {
            Err(e) => tally.failed.push(format!("{name}: {e}")),
            Ok((access_token, refresh_token)) => {
                let new = TokenSet {
                    access_token,
                    refresh_token,
                    expires_at: now.expires_at,
                };
                let swapped = store.reseal_tokens(&tenant, &account, &now, &new).await?;
                tally.swap(&name, swapped);
            }
        }
    }
    Ok(tally)
}
