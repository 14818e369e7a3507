//! Tenants managed through the API (SaaS mode): created, replaced and deleted over real HTTP and served at once,
//! validated with the field named, operator-only, sealed in the database, and served again after a restart.

use crate::admin_api::{OTHER, SHOP, spawn_admin_host_with, valid};
use clap::Parser;
use ferry::tenants::TenantConfig;
use ferry_tests::TestApp;
use ferry_tests::admin::assert_error;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// A host serving only `other` from its file; `shop`, the tenant the simulator sends webhooks for, is left to be
/// added through the API.
async fn host_without_shop() -> TestApp {
    spawn_admin_host_with(|c| c.tenants.retain(|t| t.id.as_str() != SHOP)).await
}

/// The JSON body of `POST /tenants` for `c` (secrets in the clear, as an operator sends them) under `id`.
fn tenant_json(c: &TenantConfig, id: &str) -> Value {
    let mut body = ferry::sandbox::Sandbox::tenant_request(c);
    body["id"] = json!(id);
    body["limits"]["concurrency"] = json!(2);
    body
}

/// The body for `shop` on this host's simulators.
fn shop_json(host: &TestApp) -> Value {
    tenant_json(other_config(host), SHOP)
}

fn other_config(host: &TestApp) -> &TenantConfig {
    host.config
        .tenants
        .iter()
        .find(|t| t.id.as_str() == OTHER)
        .unwrap()
}

/// Every secret of a tenant body, with a name for the assertion message.
fn secrets_of(body: &Value) -> Vec<(&'static str, String)> {
    let s = |v: &Value| v.as_str().unwrap().to_owned();
    let whsec = s(&body["webhook_secrets"][0]);
    vec![
        ("kentico password", s(&body["kentico"]["password"])),
        (
            "freshbooks client secret",
            s(&body["freshbooks"]["client_secret"]),
        ),
        (
            "freshbooks refresh token",
            s(&body["freshbooks"]["refresh_token"]),
        ),
        ("enrichment api key", s(&body["enrichment"]["api_key"])),
        (
            "webhook secret",
            whsec.trim_start_matches("whsec_").to_owned(),
        ),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_created_through_the_api_invoices_at_once_and_after_a_restart() {
    let host = host_without_shop().await;
    let body = shop_json(&host);
    let (status, view) = host.post_json("/tenants", &host.operator, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    assert_eq!(view["id"], SHOP);
    assert_eq!(view["source"], "database");
    assert_eq!(view["kentico"]["password"], "set");
    assert_eq!(view["freshbooks"]["client_secret"], "set");
    assert_eq!(view["limits"]["concurrency"], 2);
    let text = view.to_string();
    for (what, secret) in secrets_of(&body) {
        assert!(!text.contains(&secret), "the answer shows the {what}");
    }
    let (status, again) = host.post_json("/tenants", &host.operator, &body).await;
    assert_error(status, &again, StatusCode::CONFLICT, "conflict");

    // No restart: the simulator's signed webhooks reach the new tenant and its orders are invoiced.
    let placed = host.place_and_settle(0..3, &valid()).await;
    let invoiced = host.sandbox.invoices_by_order();
    for p in &placed {
        assert_eq!(
            invoiced.get(&p.order.guid.to_string()).map(Vec::len),
            Some(1),
            "order {} has one invoice",
            p.order.id
        );
    }
    let (_, list) = host.get("/tenants", &host.operator).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [OTHER, SHOP]);

    // The database file (and its WAL) holds none of the tenant's secrets in the clear.
    let db = std::fs::read(host.dir.path().join("ferry.db")).unwrap();
    let wal = std::fs::read(host.dir.path().join("ferry.db-wal")).unwrap_or_default();
    for (what, secret) in secrets_of(&body) {
        for file in [&db, &wal] {
            assert!(
                !contains(file, secret.as_bytes()),
                "the {what} is in the database file"
            );
        }
    }

    // A new host on the same store serves the stored tenant (its file still has only `other`).
    let host = host.restart().await.unwrap();
    let (status, view) = host.get(&format!("/tenants/{SHOP}"), &host.operator).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["source"], "database");
    let placed = host.place_and_settle(3..5, &valid()).await;
    let invoiced = host.sandbox.invoices_by_order();
    for p in &placed {
        assert!(invoiced.contains_key(&p.order.guid.to_string()));
    }
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_tenant_config_is_refused_with_the_field_named() {
    let host = host_without_shop().await;
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut body = shop_json(&host);
    body["freshbooks"]["base_currency"] = json!("dollars");
    cases.push((body, "freshbooks.base_currency"));
    let mut body = shop_json(&host);
    body["kentico"].as_object_mut().unwrap().remove("password");
    cases.push((body, "kentico: missing field `password`"));
    let mut body = shop_json(&host);
    body["webhook_secrets"] = json!(["whsec_not base64!"]);
    cases.push((body, "webhook_secrets[0]"));
    let mut body = shop_json(&host);
    body["mapping"] = json!({ "unknown_sku": "guess" });
    cases.push((body, "mapping.unknown_sku"));
    let mut body = shop_json(&host);
    body["kentico"]["base_url"] = json!("kentico.example.com");
    cases.push((body, "kentico.base_url"));
    let mut body = shop_json(&host);
    body["plugins"] = json!([{ "path": "/nonexistent/plugin.wasm" }]);
    cases.push((body, "plugin"));
    for (body, field) in cases {
        let (status, err) = host.post_json("/tenants", &host.operator, &body).await;
        assert_error(
            status,
            &err,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_config",
        );
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{message} names {field}");
        for (what, secret) in secrets_of(&shop_json(&host)) {
            assert!(!message.contains(&secret), "the error shows the {what}");
        }
    }
    let (status, err) = host
        .send(
            reqwest::Method::POST,
            "/tenants",
            Some(&host.operator),
            Some("{not json".into()),
            "application/json",
        )
        .await;
    assert_error(status, &err, StatusCode::BAD_REQUEST, "bad_request");
    assert!(host.store.tenant_configs().await.unwrap().is_empty());
    assert_eq!(
        host.get(&format!("/tenants/{SHOP}"), &host.operator)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_token_cannot_change_tenants_nor_see_another_tenant() {
    let host = host_without_shop().await;
    let body = shop_json(&host);
    let (status, err) = host.post_json("/tenants", host.token(OTHER), &body).await;
    assert_error(status, &err, StatusCode::FORBIDDEN, "forbidden");
    assert!(host.store.tenant_configs().await.unwrap().is_empty());

    let (status, _) = host.post_json("/tenants", &host.operator, &body).await;
    assert_eq!(status, StatusCode::CREATED);
    let shop_token = host.api_token(SHOP).await;
    let path = format!("/tenants/{SHOP}");
    for token in [host.token(OTHER), &shop_token] {
        let (status, err) = host.put_json(&path, token, &body).await;
        assert_error(status, &err, StatusCode::FORBIDDEN, "forbidden");
        let (status, err) = host.delete(&path, token).await;
        assert_error(status, &err, StatusCode::FORBIDDEN, "forbidden");
    }
    let (status, err) = host.get(&path, host.token(OTHER)).await;
    assert_error(status, &err, StatusCode::FORBIDDEN, "forbidden");
    let (status, err) = host.get(&format!("/tenants/{OTHER}"), &shop_token).await;
    assert_error(status, &err, StatusCode::FORBIDDEN, "forbidden");
    let (status, own) = host.get(&path, &shop_token).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["freshbooks"]["refresh_token"], "set");
    let (_, list) = host.get("/tenants", &shop_token).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], SHOP);

    // The operator replaces it (the path and body must agree) but cannot change the file's tenants here.
    let mut changed = body.clone();
    changed["mapping"] = json!({ "terms": "Net 15" });
    let (status, view) = host.put_json(&path, &host.operator, &changed).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["mapping"]["terms"], "Net 15");
    assert_eq!(
        host.get(&path, &shop_token).await.1["mapping"]["terms"],
        "Net 15"
    );
    let (status, err) = host
        .put_json(&format!("/tenants/{OTHER}"), &host.operator, &changed)
        .await;
    assert_error(
        status,
        &err,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_config",
    );
    assert!(err["error"]["message"].as_str().unwrap().starts_with("id:"));
    let other = tenant_json(other_config(&host), OTHER);
    let (status, err) = host
        .put_json(&format!("/tenants/{OTHER}"), &host.operator, &other)
        .await;
    assert_error(status, &err, StatusCode::CONFLICT, "conflict");
    let (status, err) = host
        .delete(&format!("/tenants/{OTHER}"), &host.operator)
        .await;
    assert_error(status, &err, StatusCode::CONFLICT, "conflict");
    let (status, err) = host.post_json("/tenants", &host.operator, &other).await;
    assert_error(status, &err, StatusCode::CONFLICT, "conflict");
    host.stop().await;
}

/// Sends a webhook for `tenant` signed with the simulator's secret, as Kentico would. Its body is not an event, so
/// a served tenant answers 400 (the signature checked out, the body did not) and nothing is queued.
async fn signed_webhook(host: &TestApp, tenant: &str) -> StatusCode {
    let secret = host.sandbox.webhook_secret().expose_secret().to_owned();
    let key = ferry_ingest::decode_whsec(&secret).unwrap();
    let body = b"{}";
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let signature = ferry_ingest::sign(&key, &id, &timestamp, body);
    reqwest::Client::new()
        .post(format!("{}/hooks/kentico/{tenant}", host.host_url))
        .header(ferry_ingest::HEADER_ID, id)
        .header(ferry_ingest::HEADER_TIMESTAMP, timestamp)
        .header(ferry_ingest::HEADER_SIGNATURE, signature)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_tenant_stops_at_once_its_webhooks_get_404_and_its_tokens_are_revoked() {
    let host = host_without_shop().await;
    assert_eq!(signed_webhook(&host, SHOP).await, StatusCode::NOT_FOUND);
    let (status, _) = host
        .post_json("/tenants", &host.operator, &shop_json(&host))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(signed_webhook(&host, SHOP).await, StatusCode::BAD_REQUEST);
    host.place_and_settle(0..1, &valid()).await;
    let path = format!("/tenants/{SHOP}");
    let shop_token = host.api_token(SHOP).await;
    assert_eq!(host.get(&path, &shop_token).await.0, StatusCode::OK);

    let (status, body) = host.delete(&path, &host.operator).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(signed_webhook(&host, SHOP).await, StatusCode::NOT_FOUND);
    assert_eq!(
        host.get(&path, &host.operator).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, err) = host.delete(&path, &host.operator).await;
    assert_error(status, &err, StatusCode::NOT_FOUND, "not_found");
    assert!(host.store.tenant_configs().await.unwrap().is_empty());

    // Its token went with it: a tenant created again under the same id does not inherit it.
    let (status, _) = host
        .post_json("/tenants", &host.operator, &shop_json(&host))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, err) = host.get(&path, &shop_token).await;
    assert_error(status, &err, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, _) = host.delete(&path, &host.operator).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Gone after a restart too.
    let host = host.restart().await.unwrap();
    assert_eq!(signed_webhook(&host, SHOP).await, StatusCode::NOT_FOUND);
    host.stop().await;
}

/// Runs `ferry tenant <args>` against the host as its operator.
pub(crate) async fn tenant_cli(host: &TestApp, args: &[&str]) -> anyhow::Result<String> {
    let argv = ["ferry", "tenant"]
        .into_iter()
        .chain(args.iter().copied())
        .chain([
            "--url",
            host.host_url.as_str(),
            "--token",
            host.operator.as_str(),
        ]);
    let ferry::cli::Command::Tenant(cmd) = ferry::cli::Cli::try_parse_from(argv).unwrap().command
    else {
        panic!("not a tenant command");
    };
    let mut out = Vec::new();
    ferry::cli::tenant::run(&host.config, cmd, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_add_and_remove_go_through_the_admin_api() {
    let host = host_without_shop().await;
    let body = shop_json(&host);
    let toml_file = host.dir.path().join("shop.toml");
    std::fs::write(&toml_file, toml::to_string(&body).unwrap()).unwrap();
    let toml_path = toml_file.to_str().unwrap();
    let printed = tenant_cli(&host, &["add", toml_path]).await.unwrap();
    let view: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(view["id"], SHOP);
    for (what, secret) in secrets_of(&body) {
        assert!(!printed.contains(&secret), "the CLI prints the {what}");
    }
    let again = tenant_cli(&host, &["add", toml_path]).await.unwrap_err();
    assert!(again.to_string().contains("conflict"), "{again}");

    let mut changed = body.clone();
    changed["freshbooks"]["base_currency"] = json!("euro");
    let json_file = host.dir.path().join("shop.json");
    std::fs::write(&json_file, changed.to_string()).unwrap();
    let json_path = json_file.to_str().unwrap();
    let refused = tenant_cli(&host, &["add", "--replace", json_path])
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("freshbooks.base_currency"),
        "{refused}"
    );
    changed["freshbooks"]["base_currency"] = json!("EUR");
    std::fs::write(&json_file, changed.to_string()).unwrap();
    let replaced = tenant_cli(&host, &["add", "--replace", json_path])
        .await
        .unwrap();
    assert!(replaced.contains("\"EUR\""), "{replaced}");

    let listed = tenant_cli(&host, &["list"]).await.unwrap();
    assert!(listed.contains(SHOP), "{listed}");
    let removed = tenant_cli(&host, &["remove", SHOP]).await.unwrap();
    assert!(removed.contains(SHOP), "{removed}");
    assert!(tenant_cli(&host, &["show", SHOP]).await.is_err());
    assert!(tenant_cli(&host, &["remove", SHOP]).await.is_err());
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_id_in_both_the_file_and_the_database_stops_the_host_naming_it() {
    let host = host_without_shop().await;
    let (status, _) = host
        .post_json("/tenants", &host.operator, &shop_json(&host))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // A second host on the same store whose file also has `shop`.
    let mut config = host.config.clone();
    let mut shop = other_config(&host).clone();
    shop.id = ferry_model::TenantId::parse(SHOP).unwrap();
    config.tenants.push(shop);
    let Err(error) = ferry::app::App::build(config).await else {
        panic!("a host with shop in its file and its database started");
    };
    let message = format!("{error:#}");
    assert!(
        message
            .contains("tenant shop is both in the configuration file and stored in the database"),
        "{message}"
    );
    host.stop().await;
}

/// Runs `ferry secrets reseal [--check]` against the host's store with the keys of its configuration.
async fn secrets_reseal(host: &TestApp, check: bool) -> anyhow::Result<String> {
    let mut argv = vec!["ferry", "secrets", "reseal"];
    if check {
        argv.push("--check");
    }
    let ferry::cli::Command::Secrets(cmd) = ferry::cli::Cli::try_parse_from(argv)?.command else {
        panic!("not a secrets command");
    };
    let keyring = ferry_secrets::Keyring::from_encoded(&host.config.secrets.master_keys)?;
    let mut out = Vec::new();
    ferry::cli::secrets::run(&host.store, &keyring, cmd, &mut out).await?;
    Ok(String::from_utf8(out)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_key_rotation_reseal_lets_the_old_key_go_without_losing_a_tenant_or_a_token() {
    let mut host = host_without_shop().await;
    let (status, body) = host
        .post_json("/tenants", &host.operator, &shop_json(&host))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    host.place_and_settle(0..1, &valid()).await;

    // Rotation, step 1: the new key first, the old one still configured.
    let old = host.config.secrets.master_keys[0].clone();
    let new = ferry_secrets::Keyring::generate_encoded();
    host.config.secrets.master_keys = vec![new.clone(), old];
    let mut host = host.restart().await.unwrap();
    let mut only_new = host.config.clone();
    only_new.secrets.master_keys = vec![new.clone()];
    let refused = ferry::app::App::build(only_new.clone())
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        refused.contains("shop") && refused.contains("not configured"),
        "without the old key the stored tenant cannot be opened yet: {refused:?}"
    );
    let stale = secrets_reseal(&host, true).await.unwrap_err().to_string();
    assert!(
        stale.contains("tenant shop") && stale.contains("account"),
        "--check names what the old key still seals: {stale}"
    );

    // Step 2: re-seal. Everything is then sealed with the new key, and a second pass has nothing to do.
    let report = secrets_reseal(&host, false).await.unwrap();
    assert!(report.contains("tenant secrets: 1 re-sealed"), "{report}");
    assert!(
        !report.contains("FreshBooks tokens: 0 re-sealed"),
        "{report}"
    );
    let again = secrets_reseal(&host, true).await.unwrap();
    assert!(
        again.contains("tenant secrets: 0 re-sealed, 1 already sealed"),
        "{again}"
    );

    // Step 3: drop the old key. The host starts, serves the stored tenant and invoices with the stored tokens.
    host.config = only_new;
    let host = host.restart().await.unwrap();
    assert_eq!(
        host.get("/tenants/shop", &host.operator).await.0,
        StatusCode::OK
    );
    let placed = host.place_and_settle(1..2, &valid()).await;
    assert!(
        host.sandbox
            .invoices_by_order()
            .contains_key(&placed[0].order.guid.to_string()),
        "the order placed after the old key went is invoiced"
    );
    host.stop().await;
}
