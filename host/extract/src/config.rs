//! The Kentico side of a tenant (`[tenants.kentico]`): where its REST service is and who Ferry signs in as.

use crate::KenticoClient;
use ferry_outbound::HttpClient;
use secrecy::SecretString;
use serde::Deserialize;

/// Kentico REST service access.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KenticoConfig {
    /// Base URL of the admin application (the REST service is under `/rest`).
    pub base_url: String,
    /// Kentico user for HTTP Basic auth.
    pub username: String,
    /// Its password.
    pub password: SecretString,
}

impl KenticoConfig {
    /// A client for this site on the host's shared outbound client.
    pub fn client(&self, http: HttpClient, tenant: impl Into<String>) -> KenticoClient {
        KenticoClient::new(
            http,
            tenant,
            &self.base_url,
            self.username.clone(),
            self.password.clone(),
        )
    }
}
