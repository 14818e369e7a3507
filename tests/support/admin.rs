//! An admin API client on [`TestApp`]: tokens made with `ferry token create` and through the API, requests with
//! a bearer token answered as status and JSON, plugin uploads, and the error-body assertion.

use crate::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

impl TestApp {
    /// Runs `ferry token create <args>` against the host's store and returns the printed token.
    ///
    /// # Panics
    /// The command failed.
    pub async fn cli_token(&self, args: &[&str]) -> String {
        use clap::Parser;
        let cli =
            ferry::cli::Cli::try_parse_from(["ferry", "token", "create"].iter().chain(args.iter()))
                .expect("parse the command line");
        let ferry::cli::Command::Token(cmd) = cli.command else {
            panic!("not a token command");
        };
        let mut out = Vec::new();
        ferry::cli::token::run(&self.config, &self.store, cmd, &mut out)
            .await
            .expect("token create");
        let out = String::from_utf8(out).expect("the command prints text");
        out.lines().next().unwrap_or_default().trim().to_owned()
    }

    /// A new token of `tenant`, made by the operator through the API.
    ///
    /// # Panics
    /// The API did not make one.
    pub async fn api_token(&self, tenant: &str) -> String {
        let (status, body) = self
            .post_json(
                "/tokens",
                &self.operator,
                &serde_json::json!({ "tenant": tenant, "label": format!("{tenant} admin") }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["secret"].as_str().expect("a secret").to_owned()
    }

    /// The admin URL of `path` (relative to `/admin/v1`).
    pub fn admin_url(&self, path: &str) -> String {
        format!("{}/admin/v1{path}", self.host_url)
    }

    /// Sends a request with an optional bearer token and returns status and JSON body (null when not JSON).
    ///
    /// # Panics
    /// The host did not answer.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<reqwest::Body>,
        content_type: &str,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.admin_url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET path` with `token`.
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, Some(token), None, "")
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            path,
            Some(token),
            Some(body.to_string().into()),
            "application/json",
        )
        .await
    }

    /// `PUT path` with a JSON body.
    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::PUT,
            path,
            Some(token),
            Some(body.to_string().into()),
            "application/json",
        )
        .await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, Some(token), None, "")
            .await
    }

    /// `POST path` without a body.
    pub async fn post(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(token), None, "")
            .await
    }

    /// Uploads `bytes` as plugin `name` of `tenant`.
    pub async fn upload(
        &self,
        tenant: &str,
        name: &str,
        bytes: Vec<u8>,
        activate: bool,
        token: &str,
    ) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            &format!("/tenants/{tenant}/plugins?name={name}&activate={activate}"),
            Some(token),
            Some(bytes.into()),
            "application/wasm",
        )
        .await
    }
    /// Uploads like [`TestApp::upload`], then waits for the background compile: a successful answer's
    /// `plugin` is the version as it is once it is no longer `compiling` (and, when `activate`, once the activation
    /// the upload asked for happened or the compile failed).
    ///
    /// # Panics
    /// The version stayed `compiling` (or, asked to activate, inactive while ready) for 120 s.
    pub async fn upload_settled(
        &self,
        tenant: &str,
        name: &str,
        bytes: Vec<u8>,
        activate: bool,
        token: &str,
    ) -> (StatusCode, Value) {
        let (status, mut body) = self.upload(tenant, name, bytes, activate, token).await;
        if status.is_success() {
            let version = body["plugin"]["version"].as_u64().expect("a version");
            body["plugin"] = self
                .wait_plugin_settled(tenant, name, version, activate, token)
                .await;
        }
        (status, body)
    }

    /// Version `version` of plugin `name` of `tenant` once it is no longer `compiling` (and, when `active`, once
    /// it is active or failed), as the admin API lists it.
    ///
    /// # Panics
    /// It did not settle within 300 s (a large JavaScript component takes a minute to compile in a debug build on a busy
    /// machine).
    pub async fn wait_plugin_settled(
        &self,
        tenant: &str,
        name: &str,
        version: u64,
        active: bool,
        token: &str,
    ) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
        loop {
            let (status, listed) = self
                .get(&format!("/tenants/{tenant}/plugins?name={name}"), token)
                .await;
            if status == StatusCode::TOO_MANY_REQUESTS {
                // The token's rate limit (10/s by default) is shared with the test's other requests.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{listed}");
            let v = listed
                .as_array()
                .and_then(|vs| vs.iter().find(|v| v["version"] == version))
                .cloned()
                .unwrap_or_else(|| panic!("no version {version} of {name}: {listed}"));
            let settled = match v["state"].as_str() {
                Some("compiling") => false,
                Some("ready") => !active || v["active"] == true,
                _ => true,
            };
            if settled {
                return v;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{name} v{version} did not settle: {v}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
}

/// Asserts the standard error body with `code`.
pub fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}
