//! The `[admin]` section: the per-token rate limit, the plugin upload size limit and how often changes made through
//! other hosts are picked up, and where browsers reach this host (the "Connect FreshBooks" redirect URI).

use serde::Deserialize;

/// Admin API settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Requests per second each admin token may make (sustained); 0 disables the limit.
    pub requests_per_second: u32,
    /// Requests a token may make in a burst above the sustained rate.
    pub burst: u32,
    /// Largest plugin component accepted by an upload, in bytes, after decompressing a gzip upload (larger uploads
    /// get 413). The default, 32 MiB, takes JavaScript (about 12 MB) and Python (about 18 MB) components, which carry
    /// their language's engine; a Rust component is tens of KB.
    pub max_plugin_bytes: usize,
    /// How often, in milliseconds, this host looks for tenants and plugin versions that another host on the same
    /// database created, replaced, deleted or activated, and starts serving them; 0 turns it off.
    pub sync_every_ms: u64,
    /// The address browsers reach this host at, e.g. `https://ferry.example.com` (no path or query): "Connect
    /// FreshBooks" sends users back to `<public_url>/oauth/freshbooks/callback`, the one redirect URI to register with
    /// each FreshBooks app. Unset, the browser flow is off (`ferry connect` still works).
    pub public_url: Option<String>,
    /// How long a request to activate (or, in the console, to dry-run) a plugin version that is still compiling waits
    /// for its compile, in milliseconds, before it answers 409 (try again later). Uploads answer before compiling; a
    /// JavaScript or Python component takes seconds of compiling.
    pub activation_wait_ms: u64,
    /// How long a "Connect FreshBooks" request stays valid, in seconds (from the click to FreshBooks' redirect back).
    pub connect_ttl_secs: u64,
}

impl AdminConfig {
    /// Checks the fields that have a format, naming the field.
    ///
    /// # Errors
    /// `admin.public_url` that is not an http(s) URL without path, query or fragment; `admin.connect_ttl_secs` of 0.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.public_url {
            let parsed = reqwest::Url::parse(url).map_err(|e| {
                anyhow::anyhow!(
                    "admin.public_url: {url:?} is not a URL ({e}); e.g. https://ferry.example.com"
                )
            })?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https")
                    && parsed.query().is_none()
                    && parsed.fragment().is_none()
                    && parsed.path().trim_end_matches('/').is_empty(),
                "admin.public_url: {url:?} must be http(s)://host[:port] with no path, query or fragment"
            );
        }
        anyhow::ensure!(
            self.connect_ttl_secs > 0,
            "admin.connect_ttl_secs must be at least 1"
        );
        Ok(())
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            requests_per_second: 10,
            burst: 50,
            max_plugin_bytes: 32 * 1024 * 1024,
            sync_every_ms: 2_000,
            public_url: None,
            activation_wait_ms: 30_000,
            connect_ttl_secs: 600,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AdminConfig;

    fn with_url(url: &str) -> AdminConfig {
        AdminConfig {
            public_url: Some(url.to_owned()),
            ..AdminConfig::default()
        }
    }

    #[test]
    fn public_url_is_an_origin_and_a_bad_one_names_the_field() {
        assert!(AdminConfig::default().validate().is_ok());
        assert!(with_url("https://ferry.example.com").validate().is_ok());
        assert!(with_url("http://127.0.0.1:8080/").validate().is_ok());
        for bad in [
            "ferry.example.com",
            "ftp://ferry.example.com",
            "https://ferry.example.com/ferry",
            "https://ferry.example.com?x=1",
        ] {
            let e = with_url(bad).validate().unwrap_err().to_string();
            assert!(e.starts_with("admin.public_url"), "{bad}: {e}");
        }
        let zero = AdminConfig {
            connect_ttl_secs: 0,
            ..AdminConfig::default()
        };
        assert!(
            zero.validate()
                .unwrap_err()
                .to_string()
                .contains("admin.connect_ttl_secs")
        );
    }
}
