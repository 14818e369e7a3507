//! Every secret a tenant needs must be given, not empty: `POST /tenants` and `PUT /tenants/{id}` answer 422 naming
//! the field, and nothing is stored or served.

use crate::admin_api::{OTHER, SHOP, spawn_admin_host_with};
use ferry_tests::admin::assert_error;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `body` with the value at `pointer` replaced.
fn with(body: &Value, pointer: &str, value: Value) -> Value {
    let mut body = body.clone();
    *body.pointer_mut(pointer).unwrap() = value;
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_with_an_empty_secret_is_refused_on_create_and_on_replace_naming_the_field() {
    let host = spawn_admin_host_with(|c| c.tenants.retain(|t| t.id.as_str() != SHOP)).await;
    let other = host
        .config
        .tenants
        .iter()
        .find(|t| t.id.as_str() == OTHER)
        .unwrap();
    let mut valid = ferry::sandbox::Sandbox::tenant_request(other);
    valid["id"] = json!(SHOP);
    valid["freshbooks"]["refresh_token"] = json!("a-refresh-token");
    valid["enrichment"] = json!({ "base_url": "http://127.0.0.1:9", "api_key": "a-key" });
    let cases = [
        ("/kentico/password", "kentico.password"),
        ("/freshbooks/client_secret", "freshbooks.client_secret"),
        ("/freshbooks/refresh_token", "freshbooks.refresh_token"),
        ("/enrichment/api_key", "enrichment.api_key"),
        ("/webhook_secrets/0", "webhook_secrets[0]"),
    ];
    for (pointer, field) in cases {
        for empty in ["", "   "] {
            let body = with(&valid, pointer, json!(empty));
            let (status, err) = host.post_json("/tenants", &host.operator, &body).await;
            assert_error(
                status,
                &err,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_config",
            );
            let message = err["error"]["message"].as_str().unwrap();
            assert!(message.starts_with(field), "{message} names {field}");
        }
    }
    let (status, _) = host.get(&format!("/tenants/{SHOP}"), &host.operator).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");

    let (status, view) = host.post_json("/tenants", &host.operator, &valid).await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    for (pointer, field) in cases {
        let body = with(&valid, pointer, json!(""));
        let (status, err) = host
            .put_json(&format!("/tenants/{SHOP}"), &host.operator, &body)
            .await;
        assert_error(
            status,
            &err,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_config",
        );
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{message} names {field}");
    }
    let (status, view) = host.get(&format!("/tenants/{SHOP}"), &host.operator).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        view["freshbooks"]["client_secret"], "set",
        "the stored tenant is unchanged"
    );
    host.stop().await;
}
