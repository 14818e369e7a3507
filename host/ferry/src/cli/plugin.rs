//! `ferry plugin …`: upload, list, activate, roll back and deactivate a tenant's plugins, order its chain and give
//! a plugin its settings through the admin API, and `ferry plugin test`, which runs a component locally against a sample order and shows what it changes.

use super::admin_client::{AdminClient, ApiArgs};
use crate::config::Config;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use ferry_model::{Order, TenantId};
use ferry_transform::{
    Chain, MappingConfig, PluginRuntime, RuntimeConfig, StaticServices, TransformCtx,
};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// `ferry plugin …`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Upload a component for a tenant (validated by the host; a new version unless the bytes are known).
    Upload {
        /// Tenant id.
        tenant: String,
        /// The component (`.wasm`).
        file: PathBuf,
        /// Plugin name (default: the file stem). A configured plugin's stem replaces that plugin.
        #[arg(long)]
        name: Option<String>,
        /// Activate the new version at once.
        #[arg(long)]
        activate: bool,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List a tenant's uploaded plugin versions.
    List {
        /// Tenant id.
        tenant: String,
        /// Print JSON instead of tab-separated text.
        #[arg(long)]
        json: bool,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Make one version the serving one; without a version, put a deactivated plugin back in its place in the
    /// chain (with the version active last).
    Activate {
        /// Tenant id.
        tenant: String,
        /// Plugin name.
        name: String,
        /// Version number (as listed).
        version: Option<u32>,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Take an uploaded plugin out of the chain (its versions, place and settings are kept).
    Deactivate {
        /// Tenant id.
        tenant: String,
        /// Plugin name.
        name: String,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Print the tenant's plugin chain in the order it runs; with names, run the uploaded plugins in that order
    /// (name every active uploaded plugin after the configured ones, once).
    Order {
        /// Tenant id.
        tenant: String,
        /// The uploaded plugins in their new order.
        names: Vec<String>,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Print an uploaded plugin's settings; with `key=value` pairs, replace them all with these.
    Settings {
        /// Tenant id.
        tenant: String,
        /// Plugin name.
        name: String,
        /// The new settings, `key=value` each (every other setting is removed).
        #[arg(value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// Remove every setting (instead of giving new ones).
        #[arg(long, conflicts_with = "settings")]
        clear: bool,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Go back to the version before the active one.
    Rollback {
        /// Tenant id.
        tenant: String,
        /// Plugin name.
        name: String,
        /// Where the admin API is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Run a component against a sample order locally and print the FreshBooks drafts before and after it.
    Test(TestArgs),
    /// Create a plugin project (Rust, TypeScript, JavaScript or Python) that builds into a component Ferry accepts.
    New(super::scaffold::NewArgs),
}

/// Flags of `ferry plugin test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The component (`.wasm`).
    pub file: PathBuf,
    /// A canonical order as JSON (the shape of `ferry_model::Order`).
    #[arg(long, required_unless_present = "event", conflicts_with = "event")]
    pub order: Option<PathBuf>,
    /// Instead of `--order`: a stored order event of `--tenant` (its key, as `ferry dlq list` and the run history
    /// show it). The running host reads the order from Kentico and runs the tenant's serving chain with this
    /// component in the place of the plugin of its name (or after the chain), writing nothing; the answer shows
    /// both outcomes and what differs.
    #[arg(long, requires = "tenant", value_name = "KEY")]
    pub event: Option<String>,
    /// Where the admin API is (with `--event`).
    #[command(flatten)]
    pub api: ApiArgs,
    /// A plugin setting, `key=value` (repeatable), as `get-setting` will see it.
    #[arg(long = "setting", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
    /// Where compiled plugins are cached (default: `$XDG_CACHE_HOME/ferry/plugin-test`, else
    /// `~/.cache/ferry/plugin-test`, else a fresh directory under the system temp dir).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Use this tenant's mapping settings and its settings for a plugin of the same name (a tenant of the
    /// configuration file or one stored in the database): the settings given through the admin API (`ferry plugin
    /// settings`), else the configured ones. Reads the store the configuration names.
    #[arg(long)]
    pub tenant: Option<String>,
}

/// Runs one `plugin` subcommand, writing the answer to `out`.
///
/// # Errors
/// The file cannot be read, the admin API refused (its error message is passed on), or the plugin failed.
pub async fn run(config: &Config, cmd: PluginCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::Upload {
            tenant,
            file,
            name,
            activate,
            api,
        } => {
            let bytes = std::fs::read(&file).with_context(|| format!("read {}", file.display()))?;
            let name = match name {
                Some(n) => n,
                None => file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .context("the file has no name; give --name")?,
            };
            // Sent gzip-compressed: a JavaScript or Python component (12-18 MB) shrinks to about a third.
            let body = gzip(&bytes).context("compress the component")?;
            let client = AdminClient::new(config, &api)?;
            let answer = client
                .send(
                    client
                        .post(&format!("/tenants/{tenant}/plugins"))
                        .query(&[("name", name.as_str())])
                        .query(&[("activate", if activate { "true" } else { "false" })])
                        .header(reqwest::header::CONTENT_TYPE, "application/wasm")
                        .header(reqwest::header::CONTENT_ENCODING, "gzip")
                        .body(body),
                )
                .await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        }
        PluginCommand::List { tenant, json, api } => {
            let client = AdminClient::new(config, &api)?;
            let answer = client
                .send(client.get(&format!("/tenants/{tenant}/plugins")))
                .await?;
            super::output::print(out, &answer, json)?;
        }
        PluginCommand::Activate {
            tenant,
            name,
            version,
            api,
        } => {
            let client = AdminClient::new(config, &api)?;
            let path = match version {
                Some(v) => format!("/tenants/{tenant}/plugins/{name}/versions/{v}/activate"),
                None => format!("/tenants/{tenant}/plugins/{name}/activate"),
            };
            let answer = client.send(client.post(&path)).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        }
        PluginCommand::Deactivate { tenant, name, api } => {
            let client = AdminClient::new(config, &api)?;
            let path = format!("/tenants/{tenant}/plugins/{name}/deactivate");
            let answer = client.send(client.post(&path)).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        }
        PluginCommand::Order { tenant, names, api } => {
            let client = AdminClient::new(config, &api)?;
            let path = format!("/tenants/{tenant}/plugins/order");
            let request = if names.is_empty() {
                client.get(&path)
            } else {
                client
                    .request(reqwest::Method::PUT, &path)
                    .json(&json!({ "names": names }))
            };
            let answer = client.send(request).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        }
        PluginCommand::Settings {
            tenant,
            name,
            settings,
            clear,
            api,
        } => {
            let client = AdminClient::new(config, &api)?;
            let path = format!("/tenants/{tenant}/plugins/{name}/settings");
            let request = if settings.is_empty() && !clear {
                client.get(&path)
            } else {
                let mut body = serde_json::Map::new();
                for pair in &settings {
                    let (k, v) = pair
                        .split_once('=')
                        .with_context(|| format!("setting {pair:?} is not KEY=VALUE"))?;
                    body.insert(k.to_owned(), Value::String(v.to_owned()));
                }
                client
                    .request(reqwest::Method::PUT, &path)
                    .json(&Value::Object(body))
            };
            let answer = client.send(request).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        }
        PluginCommand::Rollback { tenant, name, api } => {
            let client = AdminClient::new(config, &api)?;
            let path = format!("/tenants/{tenant}/plugins/{name}/rollback");
            let answer = client.send(client.post(&path)).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        }
        PluginCommand::Test(args) if args.event.is_some() => {
            let report = dry_run(config, &args).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
        PluginCommand::Test(args) => {
            let mut config = config.clone();
            let mut api_settings = None;
            if let Some(t) = &args.tenant {
                let id = TenantId::parse(t).context("--tenant")?;
                let store = ferry_store::Store::open(&config.store).await?;
                // A tenant stored in the database (`ferry tenant add`) is tested like one of the file.
                if !config.tenants.iter().any(|c| c.id == id) {
                    let stored = super::find_tenant(&config, &store, &id).await?;
                    config.tenants.push(stored);
                }
                // Settings given through the admin API (`ferry plugin settings`) to a plugin of this name are what
                // the host serves it with, in place of the configured ones.
                let name = plugin_name(&args.file);
                api_settings = store
                    .plugin_chain(&id)
                    .await
                    .with_context(|| format!("read tenant {id}'s plugin settings"))?
                    .into_iter()
                    .find(|e| e.name == name)
                    .and_then(|e| e.settings);
            }
            // The WASI shim drives its own runtime inside hook calls: run them off this one.
            let report = tokio::task::spawn_blocking(move || {
                test_plugin(&config, &args, api_settings.as_ref())
            })
            .await
            .context("plugin test task")??;
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
        PluginCommand::New(args) => super::scaffold::run(args, out)?,
    }
    Ok(())
}

/// `plugin test --tenant T --event KEY`: the host's dry run of the component on that event
/// (`POST /tenants/{tenant}/plugins/dry-run`), with the paths whose value differs between the serving chain's drafts
/// and the candidate's.
async fn dry_run(config: &Config, args: &TestArgs) -> anyhow::Result<Value> {
    let (Some(tenant), Some(event)) = (&args.tenant, &args.event) else {
        anyhow::bail!("--event needs --tenant");
    };
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("read {}", args.file.display()))?;
    let body = gzip(&bytes).context("compress the component")?;
    let name = plugin_name(&args.file);
    let client = AdminClient::new(config, &args.api)?;
    let report = client
        .send(
            client
                .post(&format!("/tenants/{tenant}/plugins/dry-run"))
                .query(&[("name", name.as_str()), ("event", event.as_str())])
                .header(reqwest::header::CONTENT_TYPE, "application/wasm")
                .header(reqwest::header::CONTENT_ENCODING, "gzip")
                .body(body),
        )
        .await?;
    // The host's answer carries the paths that differ (`changes`).
    Ok(report)
}

/// The name a component is tested (and by default uploaded) under: its file stem.
fn plugin_name(file: &std::path::Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".to_owned())
}

/// `bytes` gzip-compressed, as `ferry plugin upload` sends a component.
fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Runs the component over the default drafts of the sample order; returns before, after and what changed.
///
/// `api_settings` are the settings the tenant's plugin of this name was given through the admin API; they replace
/// its configured settings, and `--setting` pairs override both.
///
/// # Errors
/// The files cannot be read, the order does not parse, the component is refused, or a hook fails.
pub fn test_plugin(
    config: &Config,
    args: &TestArgs,
    api_settings: Option<&std::collections::BTreeMap<String, String>>,
) -> anyhow::Result<Value> {
    let order_file = args
        .order
        .as_ref()
        .context("--order names the sample order")?;
    let text = std::fs::read_to_string(order_file)
        .with_context(|| format!("read {}", order_file.display()))?;
    let order: Order = serde_json::from_str(&text)
        .with_context(|| format!("parse {} as a canonical order", order_file.display()))?;
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("read {}", args.file.display()))?;
    let name = plugin_name(&args.file);

    let tenant_config = match &args.tenant {
        Some(t) => {
            let id = TenantId::parse(t).context("--tenant")?;
            Some(
                config
                    .tenants
                    .iter()
                    .find(|c| c.id == id)
                    .with_context(|| super::missing_tenant(&id))?,
            )
        }
        None => None,
    };
    let tenant = tenant_config
        .map(|c| c.id.clone())
        .map_or_else(|| TenantId::parse("plugin-test"), Ok)?;
    let mapping = tenant_config.map_or_else(MappingConfig::default, |c| c.mapping.clone());

    let mut services = StaticServices::new();
    if let Some(settings) = api_settings {
        for (k, v) in settings {
            services = services.with_setting(tenant.as_str(), &name, k, v);
        }
    } else if let Some(c) = tenant_config {
        for p in c
            .plugins
            .iter()
            .filter(|p| p.path.file_stem() == args.file.file_stem())
        {
            for (k, v) in &p.settings {
                services = services.with_setting(tenant.as_str(), &name, k, v);
            }
        }
    }
    for pair in &args.settings {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("--setting {pair:?} is not KEY=VALUE"))?;
        services = services.with_setting(tenant.as_str(), &name, k, v);
    }

    // The host's plugin runtime (`[plugins]`: instance memory, pool) and, with `--tenant`, the tenant's limits, so a
    // plugin that passes here fits where it will run; only the compile cache is the user's own.
    let cache = args.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let runtime = PluginRuntime::new(RuntimeConfig {
        cache_dir: cache,
        ..config.plugins.runtime()
    })?;
    let handle = runtime.load(&name, &bytes)?;
    // What the component declares (no declaration: every hook), so an author sees which hooks Ferry will call.
    let hooks: Vec<&str> = ferry_transform::Hook::ALL
        .into_iter()
        .filter(|h| handle.implements(*h))
        .map(ferry_transform::Hook::wit_name)
        .collect();
    let contract = handle.contract_version();
    let chain = Chain::new(vec![handle]);
    let mut ctx = TransformCtx::new(tenant, Arc::new(services));
    if let Some(c) = tenant_config {
        ctx = ctx.with_limits(c.limits.plugin_limits());
    }

    let before = ferry_transform::default_drafts(&order, &mapping, None);
    let issues: Vec<Value> = chain
        .validate_order(&ctx, &order)?
        .into_iter()
        .map(|i| json!({ "plugin": i.plugin, "field": i.field, "message": i.message }))
        .collect();
    // The same pass the worker runs (`ferry_transform::run` = default drafts + this).
    let after = ferry_transform::shape(&chain, &ctx, &order, before.clone())?;
    let before = serde_json::to_value(&before)?;
    let after = serde_json::to_value(&after)?;
    let mut changes = Vec::new();
    crate::admin::draft_diff("", &before, &after, &mut changes);
    Ok(json!({
        "plugin": name,
        "contract": contract,
        "hooks": hooks,
        "validation_issues": issues,
        "before": before,
        "after": after,
        "changes": changes,
    }))
}

/// The per-user compile cache of `plugin test`: never a fixed shared path, since the cache is loaded as compiled
/// code and another user must not be able to write it (nor make it unwritable for us).
fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    match base {
        Some(base) => base.join("ferry").join("plugin-test"),
        None => std::env::temp_dir().join(format!(
            "ferry-plugin-test-{}",
            uuid::Uuid::new_v4().simple()
        )),
    }
}
