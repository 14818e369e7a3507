//! `ferry tenant list|show`: the tenants a host serves, through its admin API (secrets shown as set/unset).
//!
//! Tenants are configured in `ferry.toml` (`[[tenants]]`); adding or removing one is an edit there and a restart.

use crate::config::Config;
use crate::plugin_cli::{AdminClient, ApiArgs};
use clap::Subcommand;
use std::io::Write;

/// `ferry tenant …`.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// List the tenants the token may see.
    List {
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show one tenant: configuration (secrets as set/unset), plugin chain and event counts.
    Show {
        /// Tenant id.
        tenant: String,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Runs one `tenant` subcommand, writing the API's answer to `out`.
///
/// # Errors
/// No token, the host cannot be reached, or the API refused (its code and message are passed on).
pub async fn run(config: &Config, cmd: TenantCommand, out: &mut impl Write) -> anyhow::Result<()> {
    let (path, api) = match &cmd {
        TenantCommand::List { api } => ("/tenants".to_owned(), api),
        TenantCommand::Show { tenant, api } => (format!("/tenants/{tenant}"), api),
    };
    let client = AdminClient::new(config, api)?;
    let answer = client.send(client.get(&path)).await?;
    writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
    Ok(())
}
