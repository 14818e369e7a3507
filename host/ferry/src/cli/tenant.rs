//! `ferry tenant list|show|add|remove|backfill`: the tenants a host serves, through its admin API (secrets shown as
//! set/unset).
//!
//! Tenants come from two places. On-prem, they are `[[tenants]]` entries of `ferry.toml` (changing one is an
//! edit there and a restart). In SaaS mode, `ferry tenant add` sends one tenant's configuration (the same fields,
//! as TOML or JSON) to the host, which validates it, stores it with its secrets sealed and serves it at once;
//! `ferry tenant remove` stops serving it and deletes it. `ferry tenant backfill` enqueues Kentico history.

use super::admin_client::{AdminClient, ApiArgs};
use super::backlog::Counts;
use crate::config::Config;
use anyhow::Context as _;
use clap::Subcommand;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `ferry tenant …`.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// List the tenants the token may see.
    List {
        /// Print JSON instead of tab-separated text.
        #[arg(long)]
        json: bool,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show one tenant: configuration (secrets as set/unset), plugin chain and event counts.
    Show {
        /// Tenant id.
        tenant: String,
        /// Print JSON instead of tab-separated text.
        #[arg(long)]
        json: bool,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Add a tenant from a file (`.json`, else TOML; the fields of one `[[tenants]]` entry), operator only.
    Add {
        /// The tenant's configuration.
        file: PathBuf,
        /// Replace the stored tenant with this id instead of adding a new one.
        #[arg(long)]
        replace: bool,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Enqueue the tenant's Kentico orders and customers changed since a date that no event covers (history from
    /// before the tenant was added), and with `--catalogue` every SKU; prints how many were seen and enqueued.
    Backfill {
        /// Tenant id.
        tenant: String,
        /// RFC 3339 moment or date (`2026-11-01`, midnight UTC).
        #[arg(long, required_unless_present = "catalogue")]
        since: Option<String>,
        /// Every SKU of the catalogue too: each becomes (or updates) its FreshBooks item, with its stock (needs
        /// `[tenants.catalogue] enabled`); idempotent, and paced by the tenant's limits like any event.
        #[arg(long)]
        catalogue: bool,
        /// Stay until the tenant's backlog is worked off (a progress bar on a terminal), then print how many events
        /// finished and how many of them went to the dead-letter queue.
        #[arg(long)]
        wait: bool,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Stop serving a tenant added with `tenant add` and delete it, operator only.
    Remove {
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
/// No token, the file cannot be read or parsed, the host cannot be reached, or the API refused (its code and
/// message are passed on; a refused configuration names the field).
pub async fn run(config: &Config, cmd: TenantCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::List { json, api } => {
            let client = AdminClient::new(config, &api)?;
            let answer = client.send(client.get("/tenants")).await?;
            super::output::print(out, &answer, json)?;
        }
        TenantCommand::Show { tenant, json, api } => {
            let client = AdminClient::new(config, &api)?;
            let answer = client
                .send(client.get(&format!("/tenants/{tenant}")))
                .await?;
            super::output::print(out, &answer, json)?;
        }
        TenantCommand::Add { file, replace, api } => {
            let body = read_tenant(&file)?;
            let client = AdminClient::new(config, &api)?;
            let request = if replace {
                let id = body["id"]
                    .as_str()
                    .with_context(|| format!("{}: id: missing", file.display()))?;
                client.request(reqwest::Method::PUT, &format!("/tenants/{id}"))
            } else {
                client.request(reqwest::Method::POST, "/tenants")
            };
            let answer = client.send(request.json(&body)).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        }
        TenantCommand::Backfill {
            tenant,
            since,
            catalogue,
            wait,
            api,
        } => {
            let client = AdminClient::new(config, &api)?;
            let before = if wait {
                Some(Counts::through_api(&client, &tenant).await?)
            } else {
                None
            };
            let request = client
                .request(
                    reqwest::Method::POST,
                    &format!("/tenants/{tenant}/backfill"),
                )
                .json(&serde_json::json!({ "since": since, "catalogue": catalogue }));
            let reading = super::progress::spinner("reading Kentico's changes");
            let answer = client.send(request).await;
            reading.finish_and_clear();
            let answer = answer?;
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
            if let Some(before) = before {
                let enqueued = answer["enqueued"].as_u64().unwrap_or(0)
                    + answer["catalogue"]["enqueued"].as_u64().unwrap_or(0);
                let read = || Counts::through_api(&client, &tenant);
                let worked = super::backlog::follow(read, &before, enqueued, "backfill").await?;
                writeln!(
                    out,
                    "{} event(s) finished since the backfill began, {} of them dead-lettered; backlog empty",
                    worked.finished, worked.dead
                )?;
            }
        }
        TenantCommand::Remove { tenant, api } => {
            let client = AdminClient::new(config, &api)?;
            client
                .send(client.request(reqwest::Method::DELETE, &format!("/tenants/{tenant}")))
                .await?;
            writeln!(out, "tenant {tenant} removed")?;
        }
    }
    Ok(())
}

/// A tenant configuration file as JSON: `.json` files as they are, anything else read as TOML.
fn read_tenant(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(&text).with_context(|| format!("parse {} as JSON", path.display()))
    } else {
        toml::from_str(&text).with_context(|| format!("parse {} as TOML", path.display()))
    }
}
