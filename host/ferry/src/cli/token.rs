//! `ferry token …`: admin API tokens, straight against the store (works before the host runs).

use crate::admin::{generate_token, hash_token};
use crate::config::Config;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use ferry_model::TenantId;
use ferry_store::{Store, TokenScope};
use secrecy::ExposeSecret;
use std::io::Write;

/// `ferry token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create(CreateArgs),
    /// List tokens (ids, scopes and labels; never the tokens).
    List {
        /// Print JSON instead of tab-separated text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id; it stops working at once.
    Revoke {
        /// Token id (`tok_…`, as listed).
        id: String,
    },
}

/// Flags of `ferry token create`: exactly one of `--operator` and `--tenant`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A token that sees every tenant.
    #[arg(long, conflicts_with = "tenant", required_unless_present = "tenant")]
    pub operator: bool,
    /// A token that sees only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Whom the token is for (shown in listings).
    #[arg(long, default_value = "")]
    pub label: String,
}

/// Runs one `token` subcommand, writing the answer to `out`.
///
/// # Errors
/// Store failures, a malformed tenant id, or a tenant neither the configuration file names nor the database holds.
pub async fn run(
    config: &Config,
    store: &Store,
    cmd: TokenCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create(args) => {
            let scope = match args.tenant {
                Some(t) => {
                    let id = TenantId::parse(&t).context("--tenant")?;
                    anyhow::ensure!(
                        super::tenant_exists(config, store, &id).await?,
                        "{}",
                        super::missing_tenant(&id)
                    );
                    TokenScope::Tenant(id)
                }
                None => TokenScope::Operator,
            };
            let (id, token) = generate_token();
            store
                .insert_admin_token(&id, &hash_token(token.expose_secret()), &scope, &args.label)
                .await?;
            let scope = match &scope {
                TokenScope::Operator => "operator".to_owned(),
                TokenScope::Tenant(t) => format!("tenant {t}"),
            };
            writeln!(out, "{}", token.expose_secret())?;
            writeln!(
                out,
                "# id {id}, {scope}; shown only now: keep it in a secret store (FERRY_ADMIN_TOKEN)"
            )?;
        }
        TokenCommand::List { json } => {
            let tokens = store.admin_tokens().await?;
            if json {
                super::output::print(out, &serde_json::to_value(&tokens)?, true)?;
                return Ok(());
            }
            writeln!(out, "{} token(s)", tokens.len())?;
            for t in tokens {
                let scope = match &t.scope {
                    TokenScope::Operator => "operator".to_owned(),
                    TokenScope::Tenant(id) => format!("tenant:{id}"),
                };
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                writeln!(out, "{}\t{scope}\t{state}\t{}", t.id, t.label)?;
            }
        }
        TokenCommand::Revoke { id } => {
            anyhow::ensure!(store.revoke_admin_token(&id).await?, "no live token {id}");
            writeln!(out, "revoked {id}")?;
        }
    }
    Ok(())
}
