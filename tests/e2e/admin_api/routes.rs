//! Every admin route over real HTTP: 401 without a token, operator and tenant scopes, 403 across tenants.

use crate::admin_api::{OTHER, SHOP, invalid, spawn_admin_host, spawn_admin_host_with, valid};
use ferry_tests::admin::assert_error;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every authenticated route with its method, as the OpenAPI document writes it.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/whoami"),
    ("GET", "/tenants"),
    ("POST", "/tenants"),
    ("GET", "/tenants/{tenant}"),
    ("PUT", "/tenants/{tenant}"),
    ("DELETE", "/tenants/{tenant}"),
    ("GET", "/tenants/{tenant}/breakers"),
    ("GET", "/breakers"),
    ("POST", "/tenants/{tenant}/backfill"),
    ("GET", "/tenants/{tenant}/events"),
    ("GET", "/tenants/{tenant}/events/{job}"),
    ("GET", "/dlq"),
    ("GET", "/tenants/{tenant}/dlq"),
    ("POST", "/tenants/{tenant}/dlq/replay-all"),
    ("GET", "/tenants/{tenant}/dlq/{job}"),
    ("POST", "/tenants/{tenant}/dlq/{job}/replay"),
    ("POST", "/tenants/{tenant}/dlq/{job}/discard"),
    ("GET", "/tenants/{tenant}/plugins"),
    ("POST", "/tenants/{tenant}/plugins"),
    (
        "POST",
        "/tenants/{tenant}/plugins/{name}/versions/{version}/activate",
    ),
    ("POST", "/tenants/{tenant}/plugins/{name}/rollback"),
    ("GET", "/tenants/{tenant}/plugins/log"),
    ("GET", "/tenants/{tenant}/plugins/order"),
    ("PUT", "/tenants/{tenant}/plugins/order"),
    ("POST", "/tenants/{tenant}/plugins/{name}/activate"),
    ("POST", "/tenants/{tenant}/plugins/{name}/deactivate"),
    ("GET", "/tenants/{tenant}/plugins/{name}/settings"),
    ("PUT", "/tenants/{tenant}/plugins/{name}/settings"),
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/{id}"),
];

/// A route template with example values filled in.
fn concrete(template: &str) -> String {
    template
        .replace("{tenant}", SHOP)
        .replace("{job}", "1")
        .replace("{name}", "x")
        .replace("{version}", "1")
        .replace("{id}", "tok_1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_a_request_without_a_valid_token() {
    let host = spawn_admin_host().await;
    for (method, path) in ROUTES {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        for token in [None, Some("ferry_not-a-real-token")] {
            let (status, body) = host
                .send(method.clone(), &concrete(path), token, None, "")
                .await;
            assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
        }
    }
    let resp = reqwest::get(host.admin_url("/tenants")).await.unwrap();
    assert!(
        resp.headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")),
        "401 names the scheme"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_served_and_names_every_route() {
    let host = spawn_admin_host().await;
    let resp = reqwest::get(host.admin_url("/openapi.yaml")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert_eq!(text, ferry::admin::OPENAPI_YAML);
    assert!(text.starts_with("openapi: 3."), "{text}");
    for (method, path) in ROUTES {
        let at = text
            .find(&format!("\n  {path}:\n"))
            .unwrap_or_else(|| panic!("openapi.yaml documents {path}"));
        let section = &text[at + 1..];
        let end = section[2..].find("\n  /").map_or(section.len(), |i| i + 2);
        assert!(
            section[..end].contains(&format!("    {}:", method.to_lowercase())),
            "openapi.yaml documents {method} {path}"
        );
    }
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_every_tenant_and_a_tenant_token_only_its_own() {
    let host = spawn_admin_host().await;

    let (status, me) = host.get("/whoami", host.token(SHOP)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["scope"], "tenant");
    assert_eq!(me["tenant"], SHOP);
    let (_, me) = host.get("/whoami", &host.operator).await;
    assert_eq!(me["scope"], "operator");

    let (status, all) = host.get("/tenants", &host.operator).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [OTHER, SHOP]);
    let (_, own) = host.get("/tenants", host.token(SHOP)).await;
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["id"], SHOP);

    for (token, ok, forbidden) in [
        (host.token(SHOP), SHOP, OTHER),
        (host.token(OTHER), OTHER, SHOP),
    ] {
        let (status, _) = host.get(&format!("/tenants/{ok}"), token).await;
        assert_eq!(status, StatusCode::OK);
        for path in [
            format!("/tenants/{forbidden}"),
            format!("/tenants/{forbidden}/events"),
            format!("/tenants/{forbidden}/dlq"),
            format!("/tenants/{forbidden}/breakers"),
            format!("/tenants/{forbidden}/plugins"),
            format!("/tenants/{forbidden}/plugins/log"),
        ] {
            let (status, body) = host.get(&path, token).await;
            assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
        }
        let (status, body) = host
            .post(&format!("/tenants/{forbidden}/dlq/replay-all"), token)
            .await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    // A tenant token cannot probe for tenants that do not exist either.
    let (status, body) = host.get("/tenants/nope", host.token(SHOP)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = host.get("/tenants/nope", &host.operator).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = host.get("/tenants/Not%20Valid", &host.operator).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_view_shows_secrets_only_as_set_or_unset() {
    let host = spawn_admin_host().await;
    let (status, view) = host.get("/tenants/shop", host.token(SHOP)).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["kentico"]["password"], "set");
    assert_eq!(view["freshbooks"]["client_secret"], "set");
    assert_eq!(view["freshbooks"]["refresh_token"], "set");
    assert_eq!(view["freshbooks"]["connected"], true);
    assert_eq!(
        view["webhook_secrets"],
        json!({ "count": 1, "state": "set" })
    );
    assert_eq!(view["mapping"]["unknown_sku"], "create_item");
    let text = view.to_string();
    let tenant = &host.config.tenants[0];
    use secrecy::ExposeSecret;
    for secret in [
        tenant.kentico.password.expose_secret(),
        tenant.freshbooks.client_secret.expose_secret(),
        tenant
            .freshbooks
            .refresh_token
            .as_ref()
            .unwrap()
            .expose_secret(),
        tenant.webhook_secrets[0].expose_secret(),
    ] {
        assert!(
            !text.contains(secret),
            "a secret leaked into the tenant view"
        );
    }
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_history_is_searchable_by_order_number_and_invoice_id() {
    let host = spawn_admin_host().await;
    let placed = host.place_and_settle(0..3, &valid()).await;

    let (status, events) = host.get("/tenants/shop/events", host.token(SHOP)).await;
    assert_eq!(status, StatusCode::OK, "{events}");
    let events = events.as_array().unwrap();
    assert!(events.len() >= 3, "{events:?}");
    let done = events
        .iter()
        .find(|e| e["state"] == "done" && e["invoice_id"].is_string())
        .expect("a done event with an invoice id");
    let number = done["order_number"]
        .as_str()
        .expect("order number")
        .to_owned();
    let invoice = done["invoice_id"].as_str().unwrap().to_owned();
    assert!(
        placed.iter().any(|p| p.order.number == number),
        "order {number} was placed"
    );

    let (status, by_number) = host
        .get(
            &format!("/tenants/shop/events?order_number={number}"),
            host.token(SHOP),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let by_number = by_number.as_array().unwrap();
    assert!(!by_number.is_empty());
    assert!(
        by_number
            .iter()
            .all(|e| e["order_number"] == number.as_str())
    );

    let (_, by_invoice) = host
        .get(
            &format!("/tenants/shop/events?invoice_id={invoice}"),
            &host.operator,
        )
        .await;
    let by_invoice = by_invoice.as_array().unwrap();
    assert!(!by_invoice.is_empty());
    assert!(
        by_invoice
            .iter()
            .all(|e| e["invoice_id"] == invoice.as_str())
    );

    let (_, nothing) = host
        .get(
            "/tenants/shop/events?order_number=no-such-order",
            host.token(SHOP),
        )
        .await;
    assert_eq!(nothing, json!([]));
    let (status, body) = host
        .get(
            "/tenants/shop/events?order_number=1&invoice_id=2",
            host.token(SHOP),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    let (status, body) = host
        .get("/tenants/shop/events?state=bogus", host.token(SHOP))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");

    let (_, paged) = host
        .get("/tenants/shop/events?state=done&limit=1", host.token(SHOP))
        .await;
    assert_eq!(paged.as_array().unwrap().len(), 1);
    let first = paged[0]["job"].as_i64().unwrap();
    let (_, next) = host
        .get(
            &format!("/tenants/shop/events?state=done&limit=1&before={first}"),
            host.token(SHOP),
        )
        .await;
    assert!(next[0]["job"].as_i64().unwrap() < first);

    let job = done["job"].as_i64().unwrap();
    let (status, history) = host
        .get(&format!("/tenants/shop/events/{job}"), host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["event"]["job"], job);
    assert!(!history["transitions"].as_array().unwrap().is_empty());
    assert!(!history["steps"].as_array().unwrap().is_empty());

    // The event belongs to shop: under another tenant's path it does not exist, and other's token is refused.
    let (status, body) = host
        .get(&format!("/tenants/other/events/{job}"), &host.operator)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = host
        .get(&format!("/tenants/shop/events/{job}"), host.token(OTHER))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = host.get("/tenants/shop/events/abc", host.token(SHOP)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    host.stop().await;
}

fn jobs(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["job"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_shown_replayed_and_discarded_per_tenant() {
    let host = spawn_admin_host().await;
    host.place_and_settle(0..3, &invalid()).await;

    let (status, dead) = host.get("/tenants/shop/dlq", host.token(SHOP)).await;
    assert_eq!(status, StatusCode::OK, "{dead}");
    let dead_jobs = jobs(&dead);
    assert!(dead_jobs.len() >= 3, "{dead}");
    assert!(
        dead.as_array()
            .unwrap()
            .iter()
            .all(|e| e["state"] == "dead")
    );
    let (_, all) = host.get("/dlq", &host.operator).await;
    assert_eq!(jobs(&all), dead_jobs);
    let (_, mine) = host.get("/dlq", host.token(SHOP)).await;
    assert_eq!(jobs(&mine), dead_jobs);
    let (_, none) = host.get("/dlq", host.token(OTHER)).await;
    assert_eq!(
        none,
        json!([]),
        "other tenant sees none of shop's dead letters"
    );
    let (_, limited) = host.get("/dlq?limit=1", &host.operator).await;
    assert_eq!(jobs(&limited).len(), 1);

    let first = dead_jobs[0];
    let (status, detail) = host
        .get(&format!("/tenants/shop/dlq/{first}"), host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["event"]["state"], "dead");
    assert!(
        detail["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["to"] == "dead" && t["error"].is_string()),
        "{detail}"
    );

    // Cross-tenant: forbidden by token, and not found under the other tenant's path.
    let (status, body) = host
        .post(
            &format!("/tenants/shop/dlq/{first}/replay"),
            host.token(OTHER),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = host
        .post(
            &format!("/tenants/other/dlq/{first}/replay"),
            host.token(OTHER),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    let (status, moved) = host
        .post(
            &format!("/tenants/shop/dlq/{first}/replay"),
            host.token(SHOP),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved, json!({ "job": first, "state": "queued" }));

    let second = dead_jobs[1];
    let discard = format!("/tenants/shop/dlq/{second}/discard");
    let (status, body) = host
        .send(
            Method::POST,
            &discard,
            Some(host.token(SHOP)),
            Some("{not json".into()),
            "application/json",
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    let (status, body) = host
        .post_json(&discard, host.token(SHOP), &json!({ "reason": " " }))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    let (status, moved) = host
        .post_json(&discard, &host.operator, &json!({ "reason": "test order" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["state"], "discarded");
    let (status, body) = host
        .post_json(&discard, &host.operator, &json!({ "reason": "again" }))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");

    let (status, all) = host
        .post("/tenants/shop/dlq/replay-all", host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert!(all["replayed"].as_u64().is_some());
    let (status, body) = host.get("/tenants/shop/dlq/999999", host.token(SHOP)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_states_are_listed_for_the_tokens_tenants() {
    let host = spawn_admin_host().await;
    host.place_and_settle(0..1, &valid()).await;
    let (status, all) = host.get("/breakers", &host.operator).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let all = all.as_array().unwrap();
    assert!(
        all.iter()
            .any(|b| b["key"]["tenant"] == SHOP && b["key"]["downstream"] == "freshbooks"),
        "{all:?}"
    );
    assert!(all.iter().all(|b| b["state"] == "closed"), "{all:?}");
    let (_, own) = host.get("/breakers", host.token(SHOP)).await;
    assert_eq!(own.as_array().unwrap().len(), all.len());
    let (_, others) = host.get("/breakers", host.token(OTHER)).await;
    assert!(
        others
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["key"]["tenant"] == OTHER),
        "{others}"
    );
    let (status, shop) = host.get("/tenants/shop/breakers", host.token(SHOP)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!shop.as_array().unwrap().is_empty());
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_managed_by_operators_and_revocation_is_immediate() {
    let host = spawn_admin_host().await;
    for token in [host.token(SHOP), host.token(OTHER)] {
        let (status, body) = host.get("/tokens", token).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
        let (status, body) = host
            .post_json("/tokens", token, &json!({ "tenant": SHOP }))
            .await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    let (status, list) = host.get("/tokens", &host.operator).await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(
        list.iter()
            .all(|t| t.get("secret").is_none() && t.get("token_hash").is_none()),
        "listings never carry a token or its hash"
    );
    let (status, body) = host
        .post_json("/tokens", &host.operator, &json!({ "tenant": "nope" }))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = host
        .post_json(
            "/tokens",
            &host.operator,
            &json!({ "tenant": SHOP, "bogus": 1 }),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");

    let (status, made) = host
        .post_json(
            "/tokens",
            &host.operator,
            &json!({ "label": "second operator" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["scope"], "operator");
    assert!(made["created_at"].is_string(), "{made}");
    let secret = made["secret"].as_str().unwrap();
    let id = made["id"].as_str().unwrap();
    assert_eq!(host.get("/whoami", secret).await.0, StatusCode::OK);
    let (status, _) = host
        .send(
            Method::DELETE,
            &format!("/tokens/{id}"),
            Some(&host.operator),
            None,
            "",
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = host.get("/whoami", secret).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = host
        .send(
            Method::DELETE,
            &format!("/tokens/{id}"),
            Some(&host.operator),
            None,
            "",
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_token_has_its_own_rate_limit() {
    let host = spawn_admin_host_with(|c| {
        c.admin.requests_per_second = 1;
        c.admin.burst = 5;
    })
    .await;
    // Making the tenant tokens took one request of the operator's bucket each.
    let mut limited = None;
    for _ in 0..10 {
        let resp = reqwest::Client::new()
            .get(host.admin_url("/whoami"))
            .bearer_auth(host.token(SHOP))
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(resp);
            break;
        }
    }
    let resp = limited.expect("the shop token is rate limited within 10 quick requests");
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    let (status, _) = host.get("/whoami", host.token(OTHER)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another token still has its own budget"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_admin_routes_answer_404_in_the_error_shape() {
    let host = spawn_admin_host().await;
    let (status, body) = host.get("/no-such-thing", &host.operator).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    host.stop().await;
}
