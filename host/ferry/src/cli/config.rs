//! `ferry config check [PATH]`: reads a configuration file as `ferry serve` would, names every problem found, and
//! prints what the host would serve (listen address, store, master keys, tenants from the file and the database).
//!
//! It uses the host's own loader and tenant checks (`crate::config`, `crate::tenants::validate`). serde stops at
//! a file's first bad field, so when the file does not parse, each top-level section and each `[[tenants]]` block
//! is read again on its own to name the problems of all of them. When the store already exists (a SQLite file, or
//! any Postgres URL), it is opened, which applies this build's pending migrations as `ferry serve` would, and
//! its stored tenants are opened with the master key and checked too; a SQLite file that does not exist yet is
//! left alone (the host creates it on first start).

use crate::config::Config;
use crate::tenants::TenantConfig;
use clap::Subcommand;
use secrecy::ExposeSecret;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// How long the check waits for the store to answer.
const STORE_TIMEOUT: Duration = Duration::from_secs(15);

/// `ferry config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file and print what `ferry serve` would serve with it; exit 1 naming every problem.
    Check {
        /// The file to check (default: `-c`/`FERRY_CONFIG`, else `./ferry.toml` when it exists, else the
        /// environment alone). `FERRY_*` environment variables apply, as for `ferry serve`.
        path: Option<PathBuf>,
    },
}

/// What a check found: lines describing what would be served, and the problems.
#[derive(Debug, Default)]
struct Findings {
    served: Vec<String>,
    problems: Vec<String>,
}

/// Runs `ferry config check`, printing what would be served to `out` and the problems to `err`.
///
/// # Errors
/// Only a failure to write the output; every problem with the configuration is reported and makes the exit code
/// 1 instead.
pub async fn run(
    global: Option<&Path>,
    cmd: ConfigCommand,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Check { path } = cmd;
    let (path, text) = match path.as_deref().or(global) {
        Some(p) => (p.to_path_buf(), crate::config::read(p)),
        None => {
            let p = PathBuf::from(crate::config::DEFAULT_PATH);
            if p.exists() {
                let text = crate::config::read(&p);
                (p, text)
            } else {
                (
                    PathBuf::from("(no file: environment only)"),
                    Ok(String::new()),
                )
            }
        }
    };
    let findings = match text {
        Ok(text) => check(&path, &text).await,
        Err(e) => Findings {
            served: Vec::new(),
            problems: vec![format!("{e:#}")],
        },
    };
    for line in &findings.served {
        writeln!(out, "{line}")?;
    }
    if findings.problems.is_empty() {
        writeln!(out, "{}: ok", path.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        err,
        "{}: {} problem(s):",
        path.display(),
        findings.problems.len()
    )?;
    for p in &findings.problems {
        writeln!(err, "  - {p}")?;
    }
    Ok(ExitCode::FAILURE)
}

/// Checks the file `path` holding `text`.
async fn check(path: &Path, text: &str) -> Findings {
    let mut f = Findings::default();
    let config = match crate::config::parse_unchecked(text, path) {
        Ok(c) => c,
        Err(whole) => {
            let mut each = section_problems(text, path);
            // One problem: the loader's own message, which gives the line.
            if each.len() <= 1 {
                each = vec![format!("{whole:#}")];
            }
            f.problems = each;
            return f;
        }
    };
    f.problems
        .extend(crate::config::tenant_problems(&config, text, path));
    f.served
        .push(format!("listen: http://{}", config.server.listen));
    for (i, t) in config.tenants.iter().enumerate() {
        for (j, p) in t.plugins.iter().enumerate() {
            if !p.path.is_file() {
                f.problems.push(format!(
                    "{}: tenants.{}.plugins[{j}].path: {} is not a file (tenants[{i}])",
                    path.display(),
                    t.id,
                    p.path.display()
                ));
            }
        }
    }
    let keyring = match crate::app::load_keyring(&config) {
        Ok(k) => {
            let from = match &config.secrets.key_file {
                Some(file) if config.secrets.master_keys.is_empty() => {
                    format!("secrets.key_file {}", file.display())
                }
                _ => "secrets.master_keys / FERRY_MASTER_KEY".to_owned(),
            };
            f.served
                .push(format!("master key: {} (from {from})", k.sealing_key_id()));
            Some(k)
        }
        Err(e) => {
            f.problems.push(format!("{e:#}"));
            None
        }
    };
    let stored = store(&config, keyring.as_ref(), &mut f).await;
    tenants(&config, &stored, &mut f);
    f
}

/// Describes the store and, when it exists and answers, returns its tenants (each opened, or the problem).
async fn store(
    config: &Config,
    keyring: Option<&ferry_secrets::Keyring>,
    f: &mut Findings,
) -> Vec<(String, Result<TenantConfig, String>)> {
    let url = config
        .store
        .database_url
        .as_ref()
        .map(|u| u.expose_secret());
    match url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            f.served
                .push(format!("store: Postgres {}", without_password(url)));
        }
        Some(url) => {
            let file = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"));
            match file {
                Some(file) if Path::new(file).exists() => {
                    f.served.push(format!("store: SQLite {file}"));
                }
                Some(file) => {
                    f.served.push(format!(
                        "store: SQLite {file} (does not exist yet; created on first start)"
                    ));
                    return Vec::new();
                }
                None => {
                    f.problems.push(
                        "store.database_url: must start with postgres://, postgresql:// or sqlite:"
                            .to_owned(),
                    );
                    return Vec::new();
                }
            }
        }
        None if config.store.path.exists() => {
            f.served
                .push(format!("store: SQLite {}", config.store.path.display()));
        }
        None => {
            f.served.push(format!(
                "store: SQLite {} (does not exist yet; created on first start)",
                config.store.path.display()
            ));
            return Vec::new();
        }
    }
    let store =
        match tokio::time::timeout(STORE_TIMEOUT, ferry_store::Store::open(&config.store)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                f.problems.push(format!("open the store: {e}"));
                return Vec::new();
            }
            Err(_) => {
                f.problems.push(format!(
                    "open the store: no answer within {}s",
                    STORE_TIMEOUT.as_secs()
                ));
                return Vec::new();
            }
        };
    let rows = match store.tenant_configs().await {
        Ok(rows) => rows,
        Err(e) => {
            f.problems.push(format!("read the stored tenants: {e}"));
            Vec::new()
        }
    };
    store.close().await;
    rows.into_iter()
        .map(|row| {
            let opened = match keyring {
                None => Err("cannot be opened without a master key".to_owned()),
                Some(k) => crate::tenants::stored::open(&row.config, &row.sealed_secrets, k)
                    .map_err(|e| format!("{e:#}")),
            };
            (row.id.to_string(), opened)
        })
        .collect()
}

/// Lists the tenants that would be served, file first, and names the stored ones that cannot be served.
fn tenants(config: &Config, stored: &[(String, Result<TenantConfig, String>)], f: &mut Findings) {
    if config.tenants.is_empty() && stored.is_empty() {
        f.served.push("tenants: none".to_owned());
        return;
    }
    f.served.push(format!(
        "tenants: {} from the file, {} stored in the database",
        config.tenants.len(),
        stored.len()
    ));
    for t in &config.tenants {
        f.served.push(describe(t, "file"));
    }
    for (id, opened) in stored {
        if config.tenants.iter().any(|t| t.id.to_string() == *id) {
            f.problems.push(format!(
                "tenant {id} is both in the configuration file and stored in the database; remove it from one \
                 of them (`ferry tenant remove {id}` removes the stored one)"
            ));
        }
        match opened {
            Ok(t) => f.served.push(describe(t, "database")),
            Err(e) => f
                .problems
                .push(format!("tenant {id} stored in the database: {e}")),
        }
    }
}

/// One line about a tenant: where it comes from, its Kentico site, FreshBooks account and plugin chain.
fn describe(t: &TenantConfig, source: &str) -> String {
    let chain: Vec<String> = t
        .plugins
        .iter()
        .map(|p| {
            p.path.file_stem().map_or_else(
                || p.path.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        })
        .collect();
    format!(
        "  {} ({source}): kentico {}, freshbooks account {}, plugins [{}]",
        t.id,
        t.kentico.base_url,
        t.freshbooks.account_id,
        chain.join(", ")
    )
}

/// The URL with any password replaced by `***`.
fn without_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(a URL that does not parse)".to_owned(),
    }
}

/// When the file as a whole does not deserialize: each top-level section, and each `[[tenants]]` block, read on
/// its own, so that every bad field is named and not only the first. A file that is not TOML at all has one
/// problem (its syntax).
fn section_problems(text: &str, path: &Path) -> Vec<String> {
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => return vec![format!("{}: {e}", path.display())],
    };
    let mut problems = Vec::new();
    for (key, value) in table {
        match (key.as_str(), value) {
            ("tenants", toml::Value::Array(blocks)) => {
                for (i, block) in blocks.into_iter().enumerate() {
                    let id = block
                        .get("id")
                        .and_then(toml::Value::as_str)
                        .map_or_else(String::new, |id| format!(" ({id})"));
                    if let Err(e) = serde_path_to_error::deserialize::<_, TenantConfig>(block) {
                        let field = match e.path().to_string() {
                            root if root == "." => String::new(),
                            field => format!(".{field}"),
                        };
                        problems.push(format!(
                            "{}: tenants[{i}]{id}{field}: {}",
                            path.display(),
                            first_line(e.inner())
                        ));
                    }
                }
            }
            (_, value) => {
                let mut one = toml::Table::new();
                one.insert(key, value);
                if let Err(e) =
                    serde_path_to_error::deserialize::<_, Config>(toml::Value::Table(one))
                {
                    problems.push(format!(
                        "{}: {}: {}",
                        path.display(),
                        e.path(),
                        first_line(e.inner())
                    ));
                }
            }
        }
    }
    problems
}

/// The message without the `in `field`` line toml adds (the field is already named).
fn first_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}
