//! Tenants managed through the admin API (the SaaS mode): the same [`TenantConfig`] as a `[[tenants]]` entry of
//! `ferry.toml`, stored in the database instead of the file.
//!
//! A tenant is stored as two parts: its configuration as JSON with every secret taken out, and those secrets as
//! one blob sealed by the host [`Keyring`] (see [`SECRET_FIELDS`]). The database therefore never holds a
//! credential in the clear, and a key rotation re-seals the blob like any other sealed row.
//!
//! Configuration is validated when it arrives and again when it is loaded, and every error names the field
//! (`freshbooks.base_currency: …`), so the admin API can answer 422 with it and a start-up failure says where
//! to look.

use super::TenantConfig;
use super::validate::parse;
use anyhow::Context as _;
use ferry_secrets::Keyring;
use ferry_store::Store;
use secrecy::ExposeSecret;
use serde_json::{Map, Value};

/// JSON pointers of every secret in a tenant's configuration: these are sealed, never stored as they are.
pub const SECRET_FIELDS: [&str; 6] = [
    "/kentico/password",
    "/freshbooks/client_secret",
    "/freshbooks/refresh_token",
    "/webhook_secrets",
    "/enrichment/api_key",
    // Whole: webhook secrets, Slack URLs and SMTP URLs are all credentials.
    "/alerts",
];

/// Splits a tenant's JSON into what is stored as it is (secrets removed) and the secrets, sealed as one blob.
///
/// `value` is the JSON the tenant was [`parse`]d from.
pub fn seal(mut value: Value, keyring: &Keyring) -> (String, Vec<u8>) {
    let mut secrets = Map::new();
    for pointer in SECRET_FIELDS {
        if let Some(secret) = take(&mut value, pointer) {
            secrets.insert(pointer.to_owned(), secret);
        }
    }
    let plain = Value::Object(secrets).to_string();
    (value.to_string(), keyring.seal(plain.as_bytes()))
}

/// Puts a stored tenant back together: opens its secrets, returns them to their places and validates it.
///
/// # Errors
/// The secrets cannot be opened (unknown key, tampered), or the configuration no longer validates (the error
/// names the field).
pub fn open(
    config: &str,
    sealed_secrets: &[u8],
    keyring: &Keyring,
) -> anyhow::Result<TenantConfig> {
    let mut value: Value = serde_json::from_str(config).context("read the stored configuration")?;
    let secrets = keyring
        .open(sealed_secrets)
        .context("open the sealed secrets")?;
    let secrets: Map<String, Value> =
        serde_json::from_str(secrets.expose_secret()).context("read the sealed secrets")?;
    for (pointer, secret) in secrets {
        put(&mut value, &pointer, secret);
    }
    Ok(parse(value)?)
}

/// Every tenant stored in the database, opened and validated.
///
/// # Errors
/// The store cannot be read, or a stored tenant cannot be opened or no longer validates (the error names the
/// tenant and the field).
pub async fn load_all(store: &Store, keyring: &Keyring) -> anyhow::Result<Vec<TenantConfig>> {
    let mut out = Vec::new();
    for row in store.tenant_configs().await? {
        let config = open(&row.config, &row.sealed_secrets, keyring)
            .with_context(|| format!("tenant {} stored in the database", row.id))?;
        if config.id != row.id {
            anyhow::bail!(
                "tenant {} stored in the database: id: the stored configuration says {}",
                row.id,
                config.id
            );
        }
        out.push(config);
    }
    Ok(out)
}

/// Removes the value at `pointer` (`/a/b`) and returns it.
fn take(value: &mut Value, pointer: &str) -> Option<Value> {
    let (parent, key) = pointer.rsplit_once('/')?;
    value.pointer_mut(parent)?.as_object_mut()?.remove(key)
}

/// Sets the value at `pointer` (`/a/b`) when its parent object exists.
fn put(value: &mut Value, pointer: &str, secret: Value) {
    if let Some((parent, key)) = pointer.rsplit_once('/')
        && let Some(obj) = value.pointer_mut(parent).and_then(Value::as_object_mut)
    {
        obj.insert(key.to_owned(), secret);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tenant() -> Value {
        json!({
            "id": "acme",
            "kentico": { "base_url": "http://127.0.0.1:1", "username": "admin", "password": "kentico-pw" },
            "freshbooks": {
                "api_base": "http://127.0.0.1:2", "auth_base": "http://127.0.0.1:2", "account_id": "AbC12",
                "client_id": "cid", "client_secret": "client-secret", "refresh_token": "refresh-tok",
                "base_currency": "USD"
            },
            "webhook_secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "enrichment": { "base_url": "http://127.0.0.1:3", "api_key": "enrich-key" },
            "alerts": { "channels": [
                { "type": "slack", "url": "https://hooks.example/services/slack-token" },
                { "type": "email", "smtp_url": "smtp://mailer:smtp-pw@127.0.0.1:2525",
                  "from": "f@example.com", "to": ["ops@example.com"] }
            ] }
        })
    }

    fn keyring() -> Keyring {
        Keyring::from_encoded(&[Keyring::generate_encoded()]).unwrap()
    }

    #[test]
    fn sealing_keeps_no_secret_in_the_stored_json_and_opening_restores_them() {
        let keyring = keyring();
        let (stored, sealed) = seal(tenant(), &keyring);
        for secret in [
            "kentico-pw",
            "client-secret",
            "refresh-tok",
            "whsec_",
            "enrich-key",
            "slack-token",
            "smtp-pw",
        ] {
            assert!(!stored.contains(secret), "{secret} in {stored}");
            assert!(
                !sealed.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in the sealed blob"
            );
        }
        assert!(stored.contains("AbC12"), "non-secrets are kept: {stored}");
        let c = open(&stored, &sealed, &keyring).unwrap();
        assert_eq!(c.kentico.password.expose_secret(), "kentico-pw");
        assert_eq!(c.freshbooks.client_secret.expose_secret(), "client-secret");
        assert_eq!(
            c.freshbooks.refresh_token.unwrap().expose_secret(),
            "refresh-tok"
        );
        assert_eq!(c.webhook_secrets.len(), 1);
        assert_eq!(c.enrichment.unwrap().api_key.expose_secret(), "enrich-key");
        assert_eq!(c.alerts.channels.len(), 2, "alert channels come back whole");
        assert!(
            open(&stored, &sealed, &self::keyring()).is_err(),
            "another key cannot open it"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let cases: [(&str, Value, &str); 7] = [
            (
                "/freshbooks/base_currency",
                json!("dollars"),
                "freshbooks.base_currency",
            ),
            ("/kentico/base_url", json!("not a url"), "kentico.base_url"),
            (
                "/webhook_secrets",
                json!(["whsec_!!!"]),
                "webhook_secrets[0]",
            ),
            (
                "/limits",
                json!({ "concurrency": "four" }),
                "limits.concurrency",
            ),
            (
                "/mapping",
                json!({ "unknown_sku": "guess" }),
                "mapping.unknown_sku",
            ),
            ("/limits", json!({ "plugin_fuel": 0 }), "limits.plugin_fuel"),
            (
                "/limits",
                json!({ "plugin_memory_mib": 0 }),
                "limits.plugin_memory_mib",
            ),
        ];
        for (pointer, bad, field) in cases {
            let mut v = tenant();
            put(&mut v, pointer, bad);
            let err = parse(v).unwrap_err();
            assert_eq!(err.field, field, "{err}");
        }
        let mut v = tenant();
        take(&mut v, "/kentico/password");
        let err = parse(v).unwrap_err();
        assert_eq!(err.field, "kentico");
        assert!(err.message.contains("password"), "{err}");
        let mut v = tenant();
        put(&mut v, "/colour", json!("blue"));
        assert!(parse(v).unwrap_err().message.contains("colour"));
    }
}
