//! The checks every tenant passes, whether it comes from `ferry.toml` or the admin API, each error naming its field
//! (`freshbooks.base_currency: …`), so the admin API can answer 422 with it and a start-up failure says where to
//! look.

use super::TenantConfig;
use ferry_model::CurrencyCode;
use secrecy::ExposeSecret;
use serde_json::Value;

/// A tenant configuration that is not acceptable, with the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidTenant {
    /// The field, as a dotted path (`kentico.base_url`, `webhook_secrets[0]`); `.` for the document itself.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl InvalidTenant {
    pub(super) fn new(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

/// Reads and validates a tenant configuration from JSON (the shape of a `[[tenants]]` entry).
///
/// # Errors
/// [`InvalidTenant`] naming the first field that is missing, unknown, of the wrong type or out of range.
pub fn parse(value: Value) -> Result<TenantConfig, InvalidTenant> {
    let config: TenantConfig = serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        InvalidTenant::new(field, e.into_inner())
    })?;
    validate(&config)?;
    Ok(config)
}

/// Checks what serde cannot: URLs, that every secret is given (not empty), the webhook secrets, the currency, ids
/// and limits.
///
/// # Errors
/// [`InvalidTenant`] naming the field.
pub fn validate(c: &TenantConfig) -> Result<(), InvalidTenant> {
    let url = |field: &str, raw: &str| -> Result<(), InvalidTenant> {
        match reqwest::Url::parse(raw) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
            Ok(_) => Err(InvalidTenant::new(
                field,
                "must be an http(s) URL with a host",
            )),
            Err(e) => Err(InvalidTenant::new(field, format!("not a URL: {e}"))),
        }
    };
    url("kentico.base_url", &c.kentico.base_url)?;
    url("freshbooks.api_base", &c.freshbooks.api_base)?;
    url("freshbooks.auth_base", &c.freshbooks.auth_base)?;
    if let Some(e) = &c.enrichment {
        url("enrichment.base_url", &e.base_url)?;
    }
    let required = [
        ("kentico.username", c.kentico.username.as_str()),
        ("freshbooks.account_id", c.freshbooks.account_id.as_str()),
        ("freshbooks.client_id", c.freshbooks.client_id.as_str()),
    ];
    for (field, value) in required {
        if value.trim().is_empty() {
            return Err(InvalidTenant::new(field, "must not be empty"));
        }
    }
    let mut secrets = vec![
        ("kentico.password", &c.kentico.password),
        ("freshbooks.client_secret", &c.freshbooks.client_secret),
    ];
    if let Some(token) = &c.freshbooks.refresh_token {
        secrets.push(("freshbooks.refresh_token", token));
    }
    if let Some(e) = &c.enrichment {
        secrets.push(("enrichment.api_key", &e.api_key));
    }
    for (field, secret) in secrets {
        if secret.expose_secret().trim().is_empty() {
            return Err(InvalidTenant::new(field, "must not be empty"));
        }
    }
    if c.webhook_secrets.is_empty() {
        return Err(InvalidTenant::new(
            "webhook_secrets",
            "needs at least one secret (`whsec_…`)",
        ));
    }
    for (i, s) in c.webhook_secrets.iter().enumerate() {
        if s.expose_secret().trim().is_empty() {
            return Err(InvalidTenant::new(
                format!("webhook_secrets[{i}]"),
                "must not be empty",
            ));
        }
        ferry_ingest::decode_whsec(s.expose_secret())
            .map_err(|e| InvalidTenant::new(format!("webhook_secrets[{i}]"), e))?;
    }
    CurrencyCode::parse(&c.freshbooks.base_currency)
        .map_err(|e| InvalidTenant::new("freshbooks.base_currency", e))?;
    for (field, value) in [
        ("limits.concurrency", c.limits.concurrency as u64),
        ("limits.plugin_fuel", c.limits.plugin_fuel),
        (
            "limits.plugin_memory_mib",
            u64::from(c.limits.plugin_memory_mib),
        ),
    ] {
        if value == 0 {
            return Err(InvalidTenant::new(field, "must be at least 1"));
        }
    }
    c.anomaly
        .validate()
        .map_err(|e| InvalidTenant::new(format!("anomaly.{}", e.field), e.message))?;
    c.alerts
        .validate()
        .map_err(|e| InvalidTenant::new(format!("alerts.{}", e.field), e.message))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    // The file path of the anomaly section (off by default, thresholds named in the error) is tested with the
    // loader in `config`'s tests; here, the admin API path.
    #[test]
    fn an_invalid_anomaly_threshold_in_an_api_tenant_names_the_field() {
        let api = super::parse(serde_json::json!({
            "id": "acme",
            "webhook_secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "kentico": {"base_url": "http://127.0.0.1:1", "username": "a", "password": "p"},
            "freshbooks": {"api_base": "http://127.0.0.1:2", "auth_base": "http://127.0.0.1:2",
                "account_id": "A", "client_id": "c", "client_secret": "s", "base_currency": "USD"},
            "anomaly": {"quantity_factor": 1}
        }))
        .unwrap_err();
        assert_eq!(api.field, "anomaly.quantity_factor");
    }
}
