//! `ferry connect freshbooks <tenant>`: the OAuth authorization-code flow of [`crate::connect`] (sealed single-use
//! state, PKCE), received by the command itself. Prints the FreshBooks authorize URL, receives the redirect on the
//! tenant's `redirect_uri` (a one-shot local listener), exchanges the code and stores the token pair sealed under the
//! master key, replacing any earlier connection.
//!
//! No restart is needed: a running host that had no tokens reads them from the store on its next FreshBooks call;
//! one that had tokens keeps using them until its next refresh (or a 401), when it finds the stored pair newer
//! and takes it instead of refreshing.

use crate::config::Config;
use crate::tenants::TenantConfig;
use crate::tenants::adapters::SealedTokenStore;
use anyhow::Context as _;
use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use clap::{Args, Subcommand};
use ferry_load::FreshBooksClient;
use ferry_model::TenantId;
use ferry_outbound::HttpClient;
use ferry_store::Store;
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// `ferry connect …`.
#[derive(Debug, Subcommand)]
pub enum ConnectCommand {
    /// Connect a tenant to its FreshBooks account (OAuth authorization code flow).
    Freshbooks(FreshbooksArgs),
}

/// Flags of `ferry connect freshbooks`.
#[derive(Debug, Args)]
pub struct FreshbooksArgs {
    /// Tenant id.
    pub tenant: String,
    /// Address to receive the redirect on (default: host and port of the tenant's `redirect_uri`; give this when
    /// a proxy forwards the public redirect URI to this machine).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// How long to wait for the redirect, in seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
}

/// Runs `connect freshbooks`: prints the URL to open, waits for the redirect, stores the tokens.
///
/// # Errors
/// Unknown tenant, no `redirect_uri`, the listener cannot bind, the redirect does not come in time or carries
/// a wrong, expired or used `state`, or FreshBooks refuses the code.
pub async fn run(
    config: &Config,
    store: &Store,
    cmd: ConnectCommand,
    out: &mut (impl Write + Send),
) -> anyhow::Result<()> {
    let ConnectCommand::Freshbooks(args) = cmd;
    let id = TenantId::parse(&args.tenant).context("tenant")?;
    let tenant = &super::find_tenant(config, store, &id).await?;
    let redirect = reqwest::Url::parse(&tenant.freshbooks.redirect_uri).with_context(|| {
        format!(
            "tenants.{id}.freshbooks.redirect_uri must be the OAuth app's registered redirect URI"
        )
    })?;
    let listen = match args.listen {
        Some(a) => a,
        None => redirect
            .socket_addrs(|| None)
            .ok()
            .and_then(|a| a.into_iter().next())
            .with_context(|| {
                format!("cannot listen on the host of {redirect}; give --listen <addr:port>")
            })?,
    };
    let keyring = Arc::new(crate::app::load_keyring(config)?);
    let http = HttpClient::new(&config.outbound).context("build the outbound http client")?;
    let client = freshbooks_client(tenant, store, keyring.clone(), &http);

    let (tx, mut rx) = mpsc::channel::<HashMap<String, String>>(1);
    let callback = Router::new().route(
        redirect.path(),
        get(move |Query(q): Query<HashMap<String, String>>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(q).await;
                Html("<!doctype html><p>Ferry received the authorization. You can close this tab; the terminal says how it went.</p>")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listen for the redirect on {listen}"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, callback)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .into_future(),
    );

    // The same flow as the host's "Connect FreshBooks" (crate::connect), received by this command's own listener.
    let begun = crate::connect::begin(
        &client,
        &keyring,
        &id,
        &tenant.freshbooks.redirect_uri,
        args.timeout_secs,
        false,
    );
    writeln!(
        out,
        "Open this URL, sign in to FreshBooks and allow access for tenant {id}:\n{}",
        begun.authorize_url
    )?;
    writeln!(
        out,
        "Waiting for the redirect on {listen}{} …",
        redirect.path()
    )?;
    out.flush()?;
    let query = tokio::time::timeout(Duration::from_secs(args.timeout_secs), rx.recv()).await;
    let _ = stop.send(());
    let _ = server.await;
    let query = query
        .context("no redirect arrived in time")?
        .context("the redirect listener stopped")?;
    let opened =
        crate::connect::state::open(&keyring, query.get("state").map(String::as_str), None)?;
    if let Some(error) = query.get("error") {
        anyhow::bail!("FreshBooks refused the authorization: {error}");
    }
    let code = query
        .get("code")
        .context("the redirect carries no authorization code")?;
    let done = crate::connect::finish(store, &client, opened, code).await?;
    if !done.member {
        writeln!(
            out,
            "warning: the connected user is not a member of account {}; check tenants.{id}.freshbooks.account_id",
            tenant.freshbooks.account_id
        )?;
    }
    writeln!(
        out,
        "connected tenant {id} to FreshBooks account {}; the tokens are sealed in the store",
        tenant.freshbooks.account_id
    )?;
    Ok(())
}

/// The tenant's FreshBooks client over the sealed token store.
fn freshbooks_client(
    tenant: &TenantConfig,
    store: &Store,
    keyring: Arc<ferry_secrets::Keyring>,
    http: &HttpClient,
) -> FreshBooksClient {
    let fb = &tenant.freshbooks;
    let tokens = SealedTokenStore::new(
        store.clone(),
        keyring,
        tenant.id.clone(),
        fb.account_id.clone(),
    );
    fb.client(http.clone(), tenant.id.as_str(), Arc::new(tokens))
}
