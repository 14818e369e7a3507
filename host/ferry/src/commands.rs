//! What each subcommand does: load the configuration, build what it needs, run it. `main` only parses the
//! command line and calls [`run`], so the test harness can run the same binary logic.

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Runs one parsed command line to completion.
///
/// # Errors
/// Whatever the command failed on, with context naming the file, field or address.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::telemetry::init();
    match cli.command {
        Command::Serve => {
            let config = crate::config::load(&cli.config)?;
            let app = crate::app::App::build(config).await?;
            app.run_until_stopped(crate::telemetry::shutdown_signal())
                .await?;
        }
        Command::Sandbox(args) => crate::sandbox::run(args).await?,
        Command::Demo(args) => {
            let report = crate::demo::run(args).await?;
            println!("{report}");
            if !report.is_clean() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Dlq(cmd) => {
            let config = crate::config::load(&cli.config)?;
            let store = ferry_store::Store::open(&config.store).await?;
            crate::dlq::run(&store, cmd, &mut std::io::stdout()).await?;
        }
        Command::Token(cmd) => {
            let config = crate::config::load(&cli.config)?;
            let store = ferry_store::Store::open(&config.store).await?;
            crate::token_cli::run(&config, &store, cmd, &mut std::io::stdout()).await?;
        }
        Command::Plugin(cmd) => {
            let config = crate::config::load(&cli.config)?;
            crate::plugin_cli::run(&config, cmd, &mut std::io::stdout()).await?;
        }
        Command::Tenant(cmd) => {
            let config = crate::config::load(&cli.config)?;
            crate::tenant_cli::run(&config, cmd, &mut std::io::stdout()).await?;
        }
        Command::Connect(cmd) => {
            let config = crate::config::load(&cli.config)?;
            let store = ferry_store::Store::open(&config.store).await?;
            crate::connect_cli::run(&config, &store, cmd, &mut std::io::stdout()).await?;
        }
        Command::Secrets(cmd) => {
            let config = crate::config::load(&cli.config)?;
            let store = ferry_store::Store::open(&config.store).await?;
            let keyring = crate::app::load_keyring(&config)?;
            crate::secrets_cli::run(&store, &keyring, cmd, &mut std::io::stdout()).await?;
        }
        Command::Keygen => {
            use secrecy::ExposeSecret;
            println!(
                "{}",
                crate::secrets::Keyring::generate_encoded().expose_secret()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
