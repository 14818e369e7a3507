//! The `ferry` command line: every subcommand, and [`run`], which does what it says. `main` only parses the command
//! line and calls [`run`], so the test harness can run the same binary logic.
//!
//! Layout (one module per subcommand group, each with its flags and its output):
//! - `admin_client`: the admin API client the `plugin` and `tenant` commands share.
//! - `audit`: `ferry audit <tenant> [--since DATE] [--repair] [--list]` (the books audit, through the API).
//! - `completions`: `ferry completions bash|zsh|fish`.
//! - `config`: `ferry config check [PATH]` (what `ferry serve` would serve, and every problem).
//! - `connect`: `ferry connect freshbooks <tenant>` (OAuth authorization code flow).
//! - `connection`: `ferry connection test <tenant>` (through the API).
//! - `dlq`: `ferry dlq …`, straight against the store.
//! - `keygen`: `ferry keygen [--out PATH]` (a master key, printed or written mode 0600).
//! - `plugin`: `ferry plugin …` (uploads through the API; `plugin test` locally).
//! - `scaffold`: `ferry plugin new NAME --lang rust|ts|js|python` (a plugin project from embedded templates).
//! - `secrets`: `ferry secrets reseal`.
//! - `store`: `ferry store purge [--dry-run]` (retention by hand, straight against the store).
//! - `tenant`: `ferry tenant list|show|add|remove|backfill` (through the API).
//! - `token`: `ferry token …` (admin tokens, straight against the store).
//! - `wit`: `ferry wit export DIR` (the plugin contract's WIT files, embedded).

mod admin_client;
pub mod audit;
mod backlog;
pub mod completions;
pub mod config;
pub mod connect;
pub mod connection;
pub mod dlq;
pub mod keygen;
mod output;
pub mod plugin;
mod progress;
pub mod scaffold;
pub mod secrets;
pub mod store;
pub mod tenant;
pub mod token;
pub mod wit;

#[cfg(feature = "sandbox")]
use crate::sandbox::{DemoArgs, SandboxArgs};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Ferry keeps Kentico orders and FreshBooks invoices in sync, exactly once.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about)]
pub struct Cli {
    /// Configuration file (TOML), which must exist; without it, `./ferry.toml` is read when it exists, else the
    /// environment alone. `FERRY_*` environment variables override the file.
    #[arg(long, short, global = true, env = "FERRY_CONFIG")]
    pub config: Option<PathBuf>,
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
    #[cfg(feature = "sandbox")]
    Sandbox(SandboxArgs),
    /// Run the sandbox demo end to end and print a summary (exit code 1 if anything was lost or duplicated).
    #[cfg(feature = "sandbox")]
    Demo(DemoArgs),
    /// Inspect and act on the dead-letter queue.
    #[command(subcommand)]
    Dlq(dlq::DlqCommand),
    /// Maintain the store: purge old finished events (`store purge [--dry-run]`).
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Print a fresh master key for sealing secrets (`FERRY_MASTER_KEY`), or write it to a key file (`--out`).
    Keygen(keygen::KeygenArgs),
    /// Check a configuration file and print what would be served (`config check [PATH]`).
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Print a shell completion script (bash, zsh or fish).
    Completions(completions::CompletionsArgs),
    /// Re-seal stored secrets with the newest master key, so older keys can be removed after a rotation.
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
    /// Create, list and revoke admin API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Upload, list, activate and roll back tenant plugins (admin API); test one locally.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Export the plugin contract's WIT files (`wit export DIR`).
    #[command(subcommand)]
    Wit(wit::WitCommand),
    /// List, show, add and remove the tenants a running host serves (admin API).
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Connect a tenant to an outside account (`connect freshbooks <tenant>`: OAuth authorization).
    #[command(subcommand)]
    Connect(connect::ConnectCommand),
    /// Test a tenant's Kentico and FreshBooks connections (`connection test <tenant>`, admin API).
    #[command(subcommand)]
    Connection(connection::ConnectionCommand),
    /// Audit a tenant's books: does FreshBooks still match every Kentico order? (admin API; `--repair`, `--list`)
    Audit(audit::AuditArgs),
}

/// Runs one parsed command line to completion.
///
/// # Errors
/// Whatever the command failed on, with context naming the file, field or address.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if logs_to_stderr(&cli.command) {
        crate::telemetry::init();
    }
    match cli.command {
        Command::Serve => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            let default = std::path::Path::new(crate::config::DEFAULT_PATH);
            let file = (cli.config.clone()).or_else(|| default.exists().then(|| default.into()));
            let app = crate::app::App::build(config).await?.with_config_file(file);
            app.run_until_stopped(crate::telemetry::shutdown_signal())
                .await?;
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => crate::sandbox::run(args).await?,
        #[cfg(feature = "sandbox")]
        Command::Demo(args) => return demo(args).await,
        Command::Dlq(cmd) => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            let store = ferry_store::Store::open(&config.store).await?;
            dlq::run(&store, cmd, &mut std::io::stdout()).await?;
        }
        Command::Store(cmd) => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            let store = ferry_store::Store::open(&config.store).await?;
            let keep_days = config.store.keep_done_days;
            store::run(&store, keep_days, cmd, &mut std::io::stdout()).await?;
        }
        Command::Token(cmd) => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            let store = ferry_store::Store::open(&config.store).await?;
            token::run(&config, &store, cmd, &mut std::io::stdout()).await?;
        }
        // A new plugin project needs no configuration (and must not fail on a broken one).
        Command::Plugin(plugin::PluginCommand::New(args)) => {
            scaffold::run(args, &mut std::io::stdout())?;
        }
        Command::Wit(cmd) => wit::run(cmd, &mut std::io::stdout())?,
        Command::Plugin(cmd) => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            plugin::run(&config, cmd, &mut std::io::stdout()).await?;
        }
        Command::Tenant(cmd) => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            tenant::run(&config, cmd, &mut std::io::stdout()).await?;
        }
        Command::Connection(cmd) => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            if !connection::run(&config, cmd, &mut std::io::stdout()).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Audit(args) => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            audit::run(&config, args, &mut std::io::stdout()).await?;
        }
        Command::Connect(cmd) => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            let store = ferry_store::Store::open(&config.store).await?;
            connect::run(&config, &store, cmd, &mut std::io::stdout()).await?;
        }
        Command::Secrets(cmd) => {
            let config = crate::config::load_named_or_default(cli.config.as_deref())?;
            let store = ferry_store::Store::open(&config.store).await?;
            let keyring = crate::app::load_keyring(&config)?;
            secrets::run(&store, &keyring, cmd, &mut std::io::stdout()).await?;
        }
        Command::Keygen(args) => keygen::run(args, &mut std::io::stdout())?,
        Command::Config(cmd) => {
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            return config::run(cli.config.as_deref(), cmd, &mut out, &mut err).await;
        }
        Command::Completions(args) => completions::run(args, &mut std::io::stdout())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The tenant `id` as a host serves it: its `[[tenants]]` block in the configuration file or, failing that, the
/// tenant stored in the database (`ferry tenant add`), its secrets opened with the master key. Every command that
/// names a tenant finds it here, so file and stored tenants work alike.
///
/// # Errors
/// The tenant is in neither place, the store cannot be read, or its secrets cannot be opened.
pub(crate) async fn find_tenant(
    config: &crate::config::Config,
    store: &ferry_store::Store,
    id: &ferry_model::TenantId,
) -> anyhow::Result<crate::tenants::TenantConfig> {
    use anyhow::Context as _;
    if let Some(t) = config.tenants.iter().find(|t| t.id == *id) {
        return Ok(t.clone());
    }
    let row = store
        .tenant_config(id)
        .await
        .with_context(|| format!("look up tenant {id} in the database"))?
        .with_context(|| missing_tenant(id))?;
    let keyring = crate::app::load_keyring(config)?;
    crate::tenants::stored::open(&row.config, &row.sealed_secrets, &keyring)
        .with_context(|| format!("tenant {id} stored in the database"))
}

/// Whether tenant `id` is in the configuration file or stored in the database (no secret is opened).
///
/// # Errors
/// The store cannot be read.
pub(crate) async fn tenant_exists(
    config: &crate::config::Config,
    store: &ferry_store::Store,
    id: &ferry_model::TenantId,
) -> anyhow::Result<bool> {
    Ok(config.tenants.iter().any(|t| t.id == *id) || store.tenant_config(id).await?.is_some())
}

/// The error for a tenant found nowhere.
pub(crate) fn missing_tenant(id: &ferry_model::TenantId) -> String {
    format!(
        "tenant {id} is neither in the configuration file nor stored in the database (`ferry tenant list` shows \
         what the host serves)"
    )
}

/// Every command logs to stderr but the demo, which logs to a file and keeps the terminal for its progress.
fn logs_to_stderr(command: &Command) -> bool {
    #[cfg(feature = "sandbox")]
    if matches!(command, Command::Demo(_)) {
        return false;
    }
    let _ = command;
    true
}

/// `ferry demo`: the run's logs go to a file it names, the terminal gets a progress bar and the summary.
#[cfg(feature = "sandbox")]
async fn demo(args: crate::sandbox::demo::DemoArgs) -> anyhow::Result<ExitCode> {
    let log = args.log_file.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ferry-demo-{}.log", std::process::id()))
    });
    crate::telemetry::init_to_file(&log)
        .map_err(|e| anyhow::anyhow!("create the demo log {}: {e}", log.display()))?;
    eprintln!("Ferry demo: logs go to {}", log.display());
    let report = crate::sandbox::demo::run(args).await?;
    println!("{report}");
    println!("  logs ................. {}", log.display());
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
