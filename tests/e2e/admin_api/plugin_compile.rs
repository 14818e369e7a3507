//! Uploads answer before the component is compiled: a 12 MB JavaScript component comes back `compiling`, becomes
//! `ready` in the background (compiled once though two tenants uploaded it), is activated and changes the next
//! invoice in FreshBooks; a component that passes the upload's checks but does not link ends `failed` with the
//! reason and is never activated, and stays `failed` with that reason across a restart (nothing compiles it again);
//! a version a stopped host left `compiling` is compiled by the next start; the console's dry run of a version still
//! compiling answers 409 once `admin.activation_wait_ms` has passed instead of compiling it in the request, and the
//! dry run of a failed version answers 422 with the recorded reason.

use crate::admin_api::{OTHER, SHOP, invoiced_order, spawn_admin_host_with};
use ferry_model::TenantId;
use ferry_store::PluginState;
use ferry_tests::admin::assert_error;
use ferry_tests::browser::{Browser, Page};
use ferry_tests::plugins::wasm;
use reqwest::StatusCode;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

/// The `ferry plugin new --lang js` scaffold built by `scripts/build-plugin-sdks.sh` (12 MB: it carries its
/// JavaScript engine); its `map-invoice` adds `<greeting> <order number>!` to the invoice notes.
fn javascript_component() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/plugin-sdks/sdk-js.wasm");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "read {}: {e}; scripts/build-plugin-sdks.sh scaffolds and builds it (scripts/test.sh runs it)",
            path.display()
        )
    })
}

/// `component` with a custom section holding a fresh nonce appended: the same plugin under a content hash no other
/// test (nor the `.cwasm` cache) has seen, so this test's host really compiles it and its log lines are its own.
fn unique(mut component: Vec<u8>) -> Vec<u8> {
    let name = b"ferry-test-nonce";
    let nonce = uuid::Uuid::new_v4();
    let mut body = vec![u8::try_from(name.len()).unwrap()];
    body.extend_from_slice(name);
    body.extend_from_slice(nonce.as_bytes());
    component.push(0);
    component.push(u8::try_from(body.len()).unwrap());
    component.extend(body);
    component
}

/// Captured log lines of a background compile of the component with `hash` that failed.
fn failed_compiles_logged(hash: &str) -> usize {
    ferry_tests::logs::captured()
        .lines()
        .filter(|l| l.contains("Plugin failed to compile.") && l.contains(hash))
        .count()
}

/// The SHA-256 of `bytes` in hex: the content hash the host gives a component.
fn content_hash(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Signs in to the console with `token` and sends the plugins page's dry-run form for version `version` of `name`
/// against the newest event of Kentico order `order`; the page it answers with.
async fn console_dry_run(
    host: &ferry_tests::TestApp,
    token: &str,
    name: &str,
    version: u32,
    order: &str,
) -> Page {
    let mut browser = Browser::new();
    let sign_in = browser
        .open(&format!("{}/console/sign-in", host.host_url), None)
        .await;
    let signed_in = browser
        .submit(&sign_in, "Sign in", |fields| {
            for (k, v) in fields.iter_mut() {
                if k == "token" {
                    *v = token.to_owned();
                }
            }
        })
        .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    let plugins = browser
        .open(
            &format!("{}/console/tenants/{SHOP}/plugins", host.host_url),
            None,
        )
        .await;
    assert_eq!(plugins.status, StatusCode::OK, "{}", plugins.body);
    browser
        .submit(&plugins, "Dry run", |fields| {
            fields.retain(|(k, _)| k == "csrf");
            fields.push(("candidate".into(), format!("{name}@{version}")));
            fields.push(("order".into(), order.to_owned()));
            fields.push(("event".into(), String::new()));
        })
        .await
}

/// Stores `bytes` as version 1 of shop's plugin `name` in state `compiling`, as a host whose compile runs elsewhere
/// (another host of the shared database, or one that stopped mid-compile) leaves it; returns its content hash.
async fn store_compiling(host: &ferry_tests::TestApp, name: &str, bytes: &[u8]) -> String {
    let hash = content_hash(bytes);
    let shop = TenantId::parse(SHOP).unwrap();
    host.store.put_plugin_blob(&hash, bytes).await.unwrap();
    host.store
        .add_plugin_version(
            &shop,
            name,
            &hash,
            bytes.len() as u64,
            PluginState::Compiling,
        )
        .await
        .unwrap();
    hash
}

/// Captured log lines of the runtime compiling the component with `hash` from its bytes.
fn compiles_logged(hash: &str) -> usize {
    ferry_tests::logs::captured()
        .lines()
        .filter(|l| l.contains("Plugin loaded.") && l.contains(hash) && l.contains("Compiled"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_answers_compiling_then_turns_ready_and_its_activation_changes_the_invoice()
{
    let host = spawn_admin_host_with(|c| {
        c.admin.max_plugin_bytes = 32 << 20;
        // An activation of a version still compiling answers at once (409) instead of waiting for it.
        c.admin.activation_wait_ms = 0;
    })
    .await;
    let component = unique(javascript_component());

    let started = Instant::now();
    let (status, up) = host
        .upload(SHOP, "greeter", component.clone(), false, host.token(SHOP))
        .await;
    let answered = started.elapsed();
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(up["plugin"]["state"], "compiling", "{up}");
    assert_eq!(up["plugin"]["active"], false);
    let hash = up["plugin"]["hash"].as_str().unwrap().to_owned();

    // Not ready yet: the activation says so instead of waiting (the wait is 0 here).
    let activate = "/tenants/shop/plugins/greeter/versions/1/activate";
    let (status, body) = host.post(activate, host.token(SHOP)).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("still compiling"),
        "{body}"
    );

    // The other tenant uploads the same bytes while they compile: it joins the compile.
    let (status, theirs) = host
        .upload(OTHER, "greeter", component, false, host.token(OTHER))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    assert_eq!(theirs["plugin"]["hash"], hash.as_str());

    let ready = host
        .wait_plugin_settled(SHOP, "greeter", 1, false, host.token(SHOP))
        .await;
    let compiled = started.elapsed();
    assert_eq!(ready["state"], "ready", "{ready}");
    let theirs = host
        .wait_plugin_settled(OTHER, "greeter", 1, false, host.token(OTHER))
        .await;
    assert_eq!(theirs["state"], "ready", "{theirs}");
    assert_eq!(compiles_logged(&hash), 1, "one compile for both tenants");
    eprintln!(
        "12 MB JavaScript component: upload answered in {answered:?}, ready after {compiled:?}"
    );

    let greeting = json!({ "greeting": "Compiled in the background on" });
    let (status, body) = host
        .put_json(
            "/tenants/shop/plugins/greeter/settings",
            host.token(SHOP),
            &greeting,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, active) = host.post(activate, host.token(SHOP)).await;
    assert_eq!(status, StatusCode::OK, "{active}");
    assert_eq!(active["active"], true);
    assert_eq!(active["state"], "ready");

    let (placed, invoice) = invoiced_order(&host).await;
    let line = format!("Compiled in the background on {}!", placed.order.number);
    assert!(
        invoice.notes.lines().any(|l| l == line),
        "no `{line}` in the invoice notes: {:?}",
        invoice.notes
    );
    assert_eq!(
        compiles_logged(&hash),
        1,
        "activation compiled nothing again"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_that_passes_the_checks_but_does_not_link_ends_failed_and_is_never_activated() {
    let host = spawn_admin_host_with(|_| {}).await;
    // Exports the transform interface by name, with a hook of the wrong type: only linking finds it.
    let (status, up) = host
        .upload(
            SHOP,
            "mistyped",
            unique(wasm("mistyped-hook")),
            true,
            host.token(SHOP),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(up["plugin"]["state"], "compiling", "{up}");
    assert_eq!(up["plugin"]["activate_when_ready"], true, "{up}");

    let failed = host
        .wait_plugin_settled(SHOP, "mistyped", 1, true, host.token(SHOP))
        .await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["active"], false, "{failed}");
    assert_eq!(failed["activate_when_ready"], false, "{failed}");
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.contains("missing or mistyped export"), "{reason}");

    let (status, body) = host
        .post(
            "/tenants/shop/plugins/mistyped/versions/1/activate",
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
    assert!(
        message.contains("failed to compile") && message.contains("mistyped export"),
        "{message}"
    );
    let (_, view) = host.get("/tenants/shop", host.token(SHOP)).await;
    assert_eq!(view["plugins"], json!([]), "nothing serves: {view}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_left_compiling_by_a_stopped_host_is_compiled_by_the_next_start() {
    let host = spawn_admin_host_with(|_| {}).await;
    // What a host that stopped mid-compile leaves behind: the component stored, its version `compiling`, and the
    // upload's request to activate it.
    let bytes = unique(wasm("pass-through"));
    store_compiling(&host, "late", &bytes).await;
    let shop = TenantId::parse(SHOP).unwrap();
    host.store
        .activate_plugin_when_ready(&shop, "late", 1)
        .await
        .unwrap();

    let host = host.restart().await.unwrap();
    let v = host
        .wait_plugin_settled(SHOP, "late", 1, true, host.token(SHOP))
        .await;
    assert_eq!(v["state"], "ready", "{v}");
    assert_eq!(v["active"], true, "the upload's activation was kept: {v}");
    let (_, view) = host.get("/tenants/shop", host.token(SHOP)).await;
    assert_eq!(view["plugins"][0]["name"], "late", "{view}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_version_stays_failed_with_its_reason_after_a_restart_and_is_not_compiled_again() {
    let host = spawn_admin_host_with(|_| {}).await;
    let bytes = unique(wasm("mistyped-hook"));
    let hash = content_hash(&bytes);
    let (status, up) = host
        .upload(SHOP, "mistyped", bytes.clone(), true, host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    let failed = host
        .wait_plugin_settled(SHOP, "mistyped", 1, true, host.token(SHOP))
        .await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let reason = failed["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("missing or mistyped export"), "{reason}");
    assert_eq!(failed_compiles_logged(&hash), 1);

    let host = host.restart().await.unwrap();
    let (status, listed) = host
        .get("/tenants/shop/plugins?name=mistyped", host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let after = &listed[0];
    assert_eq!(after["state"], "failed", "{after}");
    assert_eq!(after["reason"], reason.as_str(), "{after}");
    assert_eq!(after["active"], false, "{after}");
    assert_eq!(after["activate_when_ready"], false, "{after}");

    // Uploading the same bytes again finds the failed version; activating it still answers the recorded reason.
    let (status, again) = host
        .upload(SHOP, "mistyped", bytes, true, host.token(SHOP))
        .await;
    assert_error(
        status,
        &again,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_plugin",
    );
    let (status, body) = host
        .post(
            "/tenants/shop/plugins/mistyped/versions/1/activate",
            host.token(SHOP),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_plugin",
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains(&reason),
        "{body}"
    );

    // The console's dry run of it answers the recorded reason too, without compiling it in the request.
    let (placed, _) = invoiced_order(&host).await;
    let page = console_dry_run(&host, host.token(SHOP), "mistyped", 1, &placed.order.number).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("failed to compile"), "{}", page.body);
    let (_, listed) = host
        .get("/tenants/shop/plugins?name=mistyped", host.token(SHOP))
        .await;
    assert_eq!(listed[0]["state"], "failed", "{listed}");
    assert_eq!(
        failed_compiles_logged(&hash),
        1,
        "nothing compiled the failed version again"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_of_a_version_still_compiling_answers_409_instead_of_compiling_it_in_the_request()
{
    let host = spawn_admin_host_with(|c| {
        // The dry run waits for a compile as an activation does, up to this; 0 answers at once.
        c.admin.activation_wait_ms = 0;
    })
    .await;
    let (placed, _) = invoiced_order(&host).await;
    // A version whose compile runs elsewhere (another host of the shared database, or one that stopped
    // mid-compile): stored `compiling`, with no compile of it on this host.
    let bytes = unique(wasm("pass-through"));
    let hash = store_compiling(&host, "pending", &bytes).await;
    let shop = TenantId::parse(SHOP).unwrap();

    let page = console_dry_run(&host, host.token(SHOP), "pending", 1, &placed.order.number).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    assert!(page.body.contains("still compiling"), "{}", page.body);
    assert_eq!(compiles_logged(&hash), 0, "the dry run compiled nothing");
    let v = host
        .store
        .plugin_version(&shop, "pending", 1)
        .await
        .unwrap();
    assert_eq!(v.state, PluginState::Compiling);
    host.stop().await;
}
