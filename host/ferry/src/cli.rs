//! The `ferry` command line: every subcommand and its flags.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Ferry keeps Kentico orders and FreshBooks invoices in sync, exactly once.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about)]
pub struct Cli {
    /// Configuration file (TOML); `FERRY_*` environment variables override it.
    #[arg(
        long,
        short,
        global = true,
        env = "FERRY_CONFIG",
        default_value = "ferry.toml"
    )]
    pub config: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the host: webhook intake, workers, reconciliation and the admin API.
    Serve,
    /// Start the Kentico, FreshBooks and exchange-rate simulators on local ports and wait.
    Sandbox(SandboxArgs),
    /// Run the sandbox demo end to end and print a summary (exit code 1 if anything was lost or duplicated).
    Demo(DemoArgs),
    /// Inspect and act on the dead-letter queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Print a fresh master key for sealing secrets (`FERRY_MASTER_KEY`).
    Keygen,
    /// Re-seal stored secrets with the newest master key, so older keys can be removed after a rotation.
    #[command(subcommand)]
    Secrets(crate::secrets_cli::SecretsCommand),
    /// Create, list and revoke admin API tokens.
    #[command(subcommand)]
    Token(crate::token_cli::TokenCommand),
    /// Upload, list, activate and roll back tenant plugins (admin API); test one locally.
    #[command(subcommand)]
    Plugin(crate::plugin_cli::PluginCommand),
    /// List, show, add and remove the tenants a running host serves (admin API).
    #[command(subcommand)]
    Tenant(crate::tenant_cli::TenantCommand),
    /// Connect a tenant to an outside account (`connect freshbooks <tenant>`: OAuth authorization).
    #[command(subcommand)]
    Connect(crate::connect_cli::ConnectCommand),
}

/// Flags of `ferry sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Orders to seed the Kentico store with.
    #[arg(long, default_value_t = 50)]
    pub orders: usize,
    /// Seed for the generated store and the faults.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Port of the Kentico simulator.
    #[arg(long, default_value_t = 7001)]
    pub kentico_port: u16,
    /// Port of the FreshBooks simulator.
    #[arg(long, default_value_t = 7002)]
    pub freshbooks_port: u16,
    /// Port of the exchange-rate simulator.
    #[arg(long, default_value_t = 7003)]
    pub exchange_port: u16,
    /// Port the Ferry host will listen on (where Kentico's webhooks are sent).
    #[arg(long, default_value_t = 8080)]
    pub ferry_port: u16,
    /// Where to write a `ferry.toml` that serves the sandbox tenant.
    #[arg(long, default_value = "ferry.sandbox.toml")]
    pub write_config: PathBuf,
    /// Directory with the compiled example plugins (`*.wasm`), named in the written config.
    #[arg(long, default_value = "plugins/target/wasm32-wasip2/release")]
    pub plugins_dir: PathBuf,
}

/// Flags of `ferry demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Orders to place during the demo.
    #[arg(long, default_value_t = 200)]
    pub orders: usize,
    /// Seed for the generated store and the faults.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Directory with the compiled example plugins (`*.wasm`).
    #[arg(long, default_value = "plugins/target/wasm32-wasip2/release")]
    pub plugins_dir: PathBuf,
    /// Seconds of FreshBooks outage injected mid-run.
    #[arg(long, default_value_t = 5)]
    pub outage_secs: u64,
}

/// `ferry dlq …`.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead-lettered events.
    List {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Show one event with every attempt's error.
    Show {
        /// Event key (as listed).
        id: String,
    },
    /// Put events back in the queue (after fixing config or plugins).
    Replay {
        /// Event key; omit with `--all`.
        id: Option<String>,
        /// Replay every dead-lettered event (of `--tenant`, if given).
        #[arg(long)]
        all: bool,
        /// Only this tenant (with `--all`).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Discard an event for good, with a reason.
    Discard {
        /// Event key.
        id: String,
        /// Why it is discarded.
        #[arg(long)]
        reason: String,
    },
}
