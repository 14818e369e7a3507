//! Plugin uploads over real HTTP with the real components from `plugins/`: validation failures named, versions
//! stored by content hash, activation and rollback changing what serves live orders, a restart keeping them,
//! and the tenant's own plugin limits.

use crate::admin_api::{OTHER, SHOP, spawn_admin_host, spawn_admin_host_with, valid};
use ferry_model::TenantId;
use ferry_store::EventState;
use ferry_tests::TestApp;
use ferry_tests::admin::assert_error;
use ferry_tests::plugins::{plugin_config, wasm};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_component_is_stored_once_by_hash_and_versioned_per_tenant() {
    let host = spawn_admin_host().await;
    let cups = wasm("custom-fields");

    let (status, up) = host
        .upload(SHOP, "shaper", cups.clone(), false, host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(up["created"], true);
    assert_eq!(up["plugin"]["version"], 1);
    assert_eq!(up["plugin"]["active"], false);
    assert_eq!(up["plugin"]["size"], cups.len());
    assert!(
        ["compiling", "ready"].contains(&up["plugin"]["state"].as_str().unwrap()),
        "the answer says where the compile is: {up}"
    );
    assert!(
        up["plugin"]["uploaded_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "times are RFC 3339: {up}"
    );
    let hash = up["plugin"]["hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);

    // The same bytes again: the known version, nothing new.
    let (status, again) = host
        .upload(SHOP, "shaper", cups.clone(), false, host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["created"], false);
    assert_eq!(again["plugin"]["version"], 1);

    let (status, v2) = host
        .upload(SHOP, "shaper", wasm("tax-rules"), false, &host.operator)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["plugin"]["version"], 2);

    // Another tenant uploading the same bytes shares the stored component but has its own versions.
    let (status, theirs) = host
        .upload("other", "shaper", cups, false, host.token(OTHER))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    assert_eq!(theirs["plugin"]["version"], 1);
    assert_eq!(theirs["plugin"]["hash"], hash.as_str());

    let (_, listed) = host.get("/tenants/shop/plugins", host.token(SHOP)).await;
    let versions: Vec<(String, i64)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_owned(),
                v["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [("shaper".to_owned(), 1), ("shaper".to_owned(), 2)]
    );
    let (_, filtered) = host
        .get("/tenants/shop/plugins?name=nothing", host.token(SHOP))
        .await;
    assert_eq!(filtered, serde_json::json!([]));

    let (status, body) = host
        .upload("other", "shaper", wasm("trap"), false, host.token(SHOP))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_or_malformed_uploads_are_refused_naming_the_cause() {
    let host = spawn_admin_host_with(|c| c.admin.max_plugin_bytes = 4 * 1024 * 1024).await;

    let (status, body) = host
        .upload(
            SHOP,
            "sneaky",
            wasm("forbidden-import"),
            false,
            host.token(SHOP),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_plugin",
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("wasi:sockets/tcp@0.2"), "{message}");
    assert!(message.contains("sneaky"), "{message}");

    let (status, body) = host
        .upload(SHOP, "alien", wasm("wrong-world"), false, host.token(SHOP))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_plugin",
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("missing or mistyped export"), "{message}");

    let (status, body) = host
        .upload(
            SHOP,
            "garbage",
            b"\0asm not really".to_vec(),
            false,
            host.token(SHOP),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_plugin",
    );

    let (status, body) = host
        .upload(SHOP, "empty", Vec::new(), false, host.token(SHOP))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");

    let (status, body) = host
        .upload(
            SHOP,
            "huge",
            vec![0u8; 5 * 1024 * 1024],
            false,
            host.token(SHOP),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );

    // A large body with a bad name: the 400 must arrive as an answer, not as a reset mid-upload.
    let mut large = wasm("custom-fields");
    large.resize(3 * 1024 * 1024, 0);
    let (status, body) = host
        .upload(SHOP, "Bad%20Name", large, false, host.token(SHOP))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bad Name"),
        "{body}"
    );
    let (status, body) = host
        .send(
            reqwest::Method::POST,
            "/tenants/shop/plugins",
            Some(host.token(SHOP)),
            Some(wasm("custom-fields").into()),
            "application/wasm",
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");

    // Nothing refused was stored.
    let (_, listed) = host.get("/tenants/shop/plugins", host.token(SHOP)).await;
    assert_eq!(listed, serde_json::json!([]));
    host.stop().await;
}

/// Waits until no event of shop is waiting or running, and returns the dead letters.
async fn wait_idle(host: &TestApp) -> Vec<ferry_store::EventRecord> {
    let shop = TenantId::parse(SHOP).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        assert!(Instant::now() < deadline, "shop's events did not settle");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let stats = host.sandbox.kentico.webhook_stats();
        if stats.emitted > stats.delivered + stats.skipped + stats.gave_up {
            continue;
        }
        let mut busy = 0;
        for s in [
            EventState::Queued,
            EventState::Running,
            EventState::Retrying,
        ] {
            busy += host.store.count_in_state(Some(&shop), s).await.unwrap();
        }
        if busy == 0 {
            return host.store.dead_letters(Some(&shop), 100).await.unwrap();
        }
    }
}

fn serving(view: &Value) -> Vec<(String, Value)> {
    view["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p["version"].clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_and_rollback_change_what_serves_live_orders() {
    let host = spawn_admin_host().await;

    // v1: a benign plugin, active once compiled.
    let (status, v1) = host
        .upload_settled(
            SHOP,
            "shaper",
            wasm("custom-fields"),
            true,
            host.token(SHOP),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    assert_eq!(v1["plugin"]["active"], true);
    let (_, view) = host.get("/tenants/shop", host.token(SHOP)).await;
    assert_eq!(serving(&view), [("shaper".to_owned(), 1.into())]);
    let (_, summary) = host.get("/tenants", host.token(SHOP)).await;
    assert_eq!(summary[0]["plugins"], 1, "the serving chain has the upload");

    let (status, body) = host
        .post("/tenants/shop/plugins/shaper/rollback", host.token(SHOP))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");

    // v2: a plugin that traps in map-invoice, uploaded but not active: v1 keeps serving. Its activation below
    // waits for its compile if that has not ended.
    let (status, v2) = host
        .upload(SHOP, "shaper", wasm("trap"), false, host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v2}");
    host.place_and_settle(0..1, &valid()).await;
    assert!(wait_idle(&host).await.is_empty(), "v1 served the order");

    // Activate v2: the next order dead-letters in the trap, naming the plugin.
    let (status, active) = host
        .post(
            "/tenants/shop/plugins/shaper/versions/2/activate",
            host.token(SHOP),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{active}");
    assert_eq!(active["version"], 2);
    assert_eq!(active["active"], true);
    let placed = host.sandbox.place(1, &valid()).await;
    let dead = wait_idle(&host).await;
    assert_eq!(dead.len(), 1, "the trapping version served the order");
    let error = dead[0].last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("shaper") && error.contains("trapped"),
        "{error}"
    );

    // Roll back to v1 and replay: the order goes through.
    let (status, back) = host
        .post("/tenants/shop/plugins/shaper/rollback", &host.operator)
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["version"], 1);
    let (_, listed) = host.get("/tenants/shop/plugins", host.token(SHOP)).await;
    let active: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["active"] == true)
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(active, [1]);
    let job = dead[0].job.0;
    let (status, _) = host
        .post(&format!("/tenants/shop/dlq/{job}/replay"), host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(wait_idle(&host).await.is_empty(), "v1 served the replay");
    assert!(
        host.sandbox
            .invoices_by_order()
            .contains_key(&placed.order.guid.to_string()),
        "the replayed order was invoiced"
    );

    let (status, body) = host
        .post(
            "/tenants/shop/plugins/shaper/versions/9/activate",
            host.token(SHOP),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = host
        .post(
            "/tenants/other/plugins/shaper/versions/1/activate",
            host.token(SHOP),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_named_after_a_configured_plugin_replaces_it_and_survives_a_restart() {
    let host = spawn_admin_host_with(|c| {
        c.tenants[0].plugins = vec![ferry_tests::plugins::plugin_config(
            "custom-fields",
            &[("client-fields", "CustomerLoyaltyTier=note")],
        )];
    })
    .await;
    let (_, view) = host.get("/tenants/shop", host.token(SHOP)).await;
    assert_eq!(view["plugins"][0]["name"], "custom_fields");
    assert_eq!(view["plugins"][0]["source"], "config");

    let (status, up) = host
        .upload_settled(
            SHOP,
            "custom_fields",
            wasm("tax-rules"),
            true,
            host.token(SHOP),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    let (_, view) = host.get("/tenants/shop", host.token(SHOP)).await;
    assert_eq!(view["plugins"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view["plugins"][0]["source"], "upload");
    assert_eq!(view["plugins"][0]["version"], 1);
    assert_eq!(
        view["plugins"][0]["settings"]["client-fields"], "CustomerLoyaltyTier=note",
        "the replaced plugin's settings stay"
    );

    let host = host.restart().await.unwrap();
    let (_, view) = host.get("/tenants/shop", host.token(SHOP)).await;
    assert_eq!(view["plugins"][0]["source"], "upload", "{view}");
    assert_eq!(view["plugins"][0]["version"], 1);
    let (_, summary) = host.get("/tenants", &host.operator).await;
    let shop = summary
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == SHOP)
        .unwrap();
    assert_eq!(shop["plugins"], 1);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_own_plugin_fuel_limit_applies_to_its_orders() {
    // The same plugin and order that go through with the default limits (the other tests here).
    let host = spawn_admin_host_with(|c| {
        let shop = c
            .tenants
            .iter_mut()
            .find(|t| t.id.as_str() == SHOP)
            .unwrap();
        shop.plugins = vec![plugin_config("custom-fields", &[])];
        shop.limits.plugin_fuel = 1_000;
    })
    .await;
    host.sandbox.place(0, &valid()).await;
    let dead = wait_idle(&host).await;
    assert!(
        !dead.is_empty(),
        "the order stopped at the tenant's fuel limit"
    );
    for d in &dead {
        let error = d.last_error.as_deref().unwrap_or_default();
        assert!(
            error.contains("custom") && error.contains("ran out of fuel"),
            "{error}"
        );
    }
    assert!(host.sandbox.invoices_by_order().is_empty());
    host.stop().await;
}
