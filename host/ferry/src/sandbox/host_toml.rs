//! The `ferry.toml` a sandbox writes for `ferry serve`: one tenant on the simulators, sandbox secrets only.

use super::{
    SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_ENRICHMENT_KEY, Sandbox, sandbox_rate_limit,
};
use crate::config::WorkerConfig;
use ferry_model::TenantId;
use std::path::PathBuf;

/// What [`Sandbox::host_toml`] needs beyond the simulators.
#[derive(Debug, Clone)]
pub struct HostToml {
    /// Where the host listens (webhooks arrive here).
    pub listen: std::net::SocketAddr,
    /// The SQLite file.
    pub store_path: PathBuf,
    /// The plugin compile cache.
    pub cache_dir: PathBuf,
    /// The tenant id.
    pub tenant: TenantId,
    /// Where the example plugins are; `None` runs the tenant without plugins.
    pub plugins_dir: Option<PathBuf>,
    /// Worker settings.
    pub worker: WorkerConfig,
}

impl Sandbox {
    /// A complete `ferry.toml` serving one tenant on these simulators, with a fresh master key. Holds sandbox
    /// secrets only; `ferry sandbox` writes it for `ferry serve`, and the crash tests start real processes on it.
    pub fn host_toml(&self, h: &HostToml) -> String {
        use secrecy::ExposeSecret;
        let mut out = format!(
            r#"# Written by Ferry's sandbox: a host serving the sandbox tenant. Sandbox values only.
[server]
listen = "{listen}"

[store]
path = "{store}"

[worker]
concurrency = {concurrency}
max_attempts = {max_attempts}
backoff_base_ms = {backoff_base_ms}
backoff_max_ms = {backoff_max_ms}
lease_secs = {lease_secs}
reconcile_every_secs = {reconcile}

[outbound.rate_limit]
per_second = {rate}
burst = {burst}

[exchange]
base_url = "{exchange}"

[secrets]
master_keys = ["{master}"]

[plugins]
cache_dir = "{cache}"

[[tenants]]
id = "{tenant}"
webhook_secrets = ["{whsec}"]

[tenants.kentico]
base_url = "{kentico}"
username = "{kuser}"
password = "{kpass}"

[tenants.freshbooks]
api_base = "{fb}"
auth_base = "{fb}"
account_id = "{account}"
client_id = "{client_id}"
client_secret = "{client_secret}"
refresh_token = "{refresh}"
base_currency = "{currency}"

[tenants.enrichment]
base_url = "{enrichment}"
api_key = "{enrichment_key}"
"#,
            listen = h.listen,
            rate = sandbox_rate_limit().per_second,
            burst = sandbox_rate_limit().burst,
            store = h.store_path.display(),
            concurrency = h.worker.concurrency,
            max_attempts = h.worker.max_attempts,
            backoff_base_ms = h.worker.backoff_base_ms,
            backoff_max_ms = h.worker.backoff_max_ms,
            lease_secs = h.worker.lease_secs,
            reconcile = h.worker.reconcile_every_secs,
            exchange = self.exchange.base_url(),
            master = ferry_secrets::Keyring::generate_encoded().expose_secret(),
            cache = h.cache_dir.display(),
            tenant = h.tenant,
            whsec = self.webhook_secret.expose_secret(),
            kentico = self.kentico.base_url(),
            kuser = self.kentico_login.0,
            kpass = self.kentico_login.1.expose_secret(),
            fb = self.freshbooks.base_url(),
            account = self.account_id,
            client_id = SANDBOX_CLIENT_ID,
            client_secret = SANDBOX_CLIENT_SECRET,
            refresh = self.refresh_token.expose_secret(),
            currency = self.base_currency,
            enrichment = self.enrichment.base_url(),
            enrichment_key = SANDBOX_ENRICHMENT_KEY,
        );
        if let Some(dir) = &h.plugins_dir {
            for p in Self::example_plugins(dir) {
                out.push_str(&format!(
                    "\n[[tenants.plugins]]\npath = \"{}\"\n[tenants.plugins.settings]\n",
                    p.path.display()
                ));
                for (k, v) in &p.settings {
                    out.push_str(&format!("\"{k}\" = \"{v}\"\n"));
                }
            }
        }
        out
    }
}
