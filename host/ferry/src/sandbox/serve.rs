//! `ferry sandbox`: the simulators on fixed ports until Ctrl-C, and a `ferry.toml` for `ferry serve` beside them.

use super::{HostToml, Sandbox, SandboxOptions};
use crate::config::WorkerConfig;
use anyhow::Context as _;
use clap::Args;
use ferry_model::TenantId;
use std::path::PathBuf;

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
    /// Port of the segment-enrichment simulator (the sandbox tenant's `enrichment.base_url`).
    #[arg(long, default_value_t = 7004)]
    pub enrichment_port: u16,
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

/// `ferry sandbox`: start the simulators on fixed ports, write a `ferry.toml` for them and wait for Ctrl-C.
///
/// # Errors
/// A port is taken or the config file cannot be written.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&SandboxOptions {
        ports: [args.kentico_port, args.freshbooks_port, args.exchange_port],
        enrichment_port: args.enrichment_port,
        seed: args.seed,
        orders: args.orders,
        ..SandboxOptions::default()
    })
    .await?;
    let tenant = TenantId::parse("sandbox").context("tenant id")?;
    let ferry_url = format!("http://127.0.0.1:{}", args.ferry_port);
    sandbox.send_webhooks_to(&ferry_url, &tenant);
    let toml = sandbox.host_toml(&HostToml {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], args.ferry_port)),
        store_path: PathBuf::from(".ferry/sandbox.db"),
        cache_dir: PathBuf::from(".ferry/plugin-cache"),
        tenant: tenant.clone(),
        plugins_dir: Some(args.plugins_dir.clone()),
        worker: WorkerConfig {
            reconcile_every_secs: 10,
            ..WorkerConfig::default()
        },
    });
    std::fs::write(&args.write_config, toml)
        .with_context(|| format!("write {}", args.write_config.display()))?;
    println!("Ferry sandbox is running (Ctrl-C stops it).");
    println!("  Kentico REST:   {}/rest", sandbox.kentico.base_url());
    println!(
        "  FreshBooks:     {} (account {})",
        sandbox.freshbooks.base_url(),
        sandbox.account_id
    );
    println!(
        "  Exchange rates: {}/stats/eurofxref/eurofxref-daily.xml",
        sandbox.exchange.base_url()
    );
    println!(
        "  Segments:       {}/v1/segment/<email>",
        sandbox.enrichment.base_url()
    );
    println!(
        "  Webhooks go to {ferry_url}/hooks/kentico/sandbox; fault control under /_sim/faults of each simulator."
    );
    println!(
        "Wrote {}: run `ferry serve -c {}` in another terminal to sync the sandbox.",
        args.write_config.display(),
        args.write_config.display()
    );
    crate::telemetry::shutdown_signal().await;
    sandbox.shutdown();
    Ok(())
}
