//! `ferry connection test <tenant>`: the host tests the tenant's Kentico and FreshBooks connections with one
//! read-only call each (admin API `POST /tenants/{tenant}/connections/test`) and says what works and what does not.

use super::admin_client::{AdminClient, ApiArgs};
use crate::config::Config;
use clap::Subcommand;
use serde_json::Value;
use std::io::Write;

/// `ferry connection …`.
#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Test a tenant's Kentico and FreshBooks connections (exit code 1 when one does not work).
    Test {
        /// Tenant id.
        tenant: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Runs `connection test`; returns whether every connection works.
///
/// # Errors
/// The host cannot be reached, the token is refused, the tenant is unknown.
pub async fn run(
    config: &Config,
    cmd: ConnectionCommand,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let ConnectionCommand::Test { tenant, json, api } = cmd;
    let client = AdminClient::new(config, &api)?;
    let report = client
        .send(client.post(&format!("/tenants/{tenant}/connections/test")))
        .await?;
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write!(out, "{}", text(&report))?;
    }
    Ok(report["ok"].as_bool().unwrap_or(false))
}

/// One line per connection: `kentico<TAB>ok<TAB>message` or `freshbooks<TAB>FAILED (problem)<TAB>message`.
fn text(report: &Value) -> String {
    ["kentico", "freshbooks"]
        .iter()
        .map(|name| {
            let c = &report[*name];
            let state = if c["ok"].as_bool().unwrap_or(false) {
                "ok".to_owned()
            } else {
                format!("FAILED ({})", c["problem"].as_str().unwrap_or("unknown"))
            };
            let message = c["message"].as_str().unwrap_or_default();
            format!("{name}\t{state}\t{message}\n")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_connection_is_one_line_saying_what_is_wrong() {
        let report = serde_json::json!({
            "tenant": "shop", "ok": false,
            "kentico": {"ok": true, "problem": null, "message": "Kentico answers"},
            "freshbooks": {"ok": false, "problem": "revoked", "message": "connect FreshBooks again"},
        });
        assert_eq!(
            super::text(&report),
            "kentico\tok\tKentico answers\nfreshbooks\tFAILED (revoked)\tconnect FreshBooks again\n"
        );
    }
}
