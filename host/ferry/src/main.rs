//! The `ferry` command line: parse, load the configuration, dispatch.

use clap::Parser;
use ferry::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    ferry::telemetry::init();
    match cli.command {
        Command::Serve => {
            let config = ferry::config::load(&cli.config)?;
            let app = ferry::app::App::build(config).await?;
            app.run_until_stopped(ferry::telemetry::shutdown_signal())
                .await
        }
        Command::Sandbox(args) => ferry::sandbox::run(args).await,
        Command::Demo(args) => {
            let report = ferry::demo::run(args).await?;
            println!("{report}");
            std::process::exit(if report.is_clean() { 0 } else { 1 });
        }
        Command::Dlq(cmd) => {
            let config = ferry::config::load(&cli.config)?;
            let store = ferry_store::Store::open(&config.store).await?;
            ferry::dlq::run(&store, cmd, &mut std::io::stdout()).await
        }
        Command::Keygen => {
            use secrecy::ExposeSecret;
            println!(
                "{}",
                ferry::secrets::Keyring::generate_encoded().expose_secret()
            );
            Ok(())
        }
    }
}
