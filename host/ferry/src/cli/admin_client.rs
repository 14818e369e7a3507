//! The admin API from the command line: where the host is, the token, and a client that turns the API's error body
//! into a readable failure. `ferry plugin …` and `ferry tenant …` go through it.

use crate::config::Config;
use anyhow::Context as _;
use clap::Args;
use serde_json::Value;

/// How to reach the admin API.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Base URL of the host (default: `http://` + `server.listen` of the configuration).
    #[arg(long, env = "FERRY_ADMIN_URL")]
    pub url: Option<String>,
    /// Admin token (operator, or the tenant's own).
    #[arg(long, env = "FERRY_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// A small client of the admin API for the CLI.
pub(crate) struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl AdminClient {
    pub(crate) fn new(config: &Config, api: &ApiArgs) -> anyhow::Result<Self> {
        let token = api
            .token
            .clone()
            .filter(|t| !t.trim().is_empty())
            .context("give an admin token with --token or FERRY_ADMIN_TOKEN")?;
        let base = match &api.url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                let mut addr = config.server.listen;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{addr}")
            }
        };
        Ok(Self {
            http: reqwest::Client::new(),
            base,
            token,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}{path}", self.base, crate::admin::BASE_PATH)
    }

    pub(crate) fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&self.token)
    }

    pub(crate) fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, path)
    }

    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    /// Sends and returns the JSON answer, or fails with the API's error code and message.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request
            .send()
            .await
            .with_context(|| format!("call the admin API at {}", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let code = body["error"]["code"].as_str().unwrap_or("error");
        let message = body["error"]["message"].as_str().unwrap_or("");
        anyhow::bail!("admin API answered {status}: {code}: {message}")
    }
}
