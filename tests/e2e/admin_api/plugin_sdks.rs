//! A plugin author's journey in each language, counted from the FreshBooks simulator: a project made by `ferry
//! plugin new --lang rust|ts|js|python` outside this checkout, built with the project's own one command and checked
//! with `ferry plugin test` (`scripts/build-plugin-sdks.sh` does those steps and leaves the components in
//! `target/plugin-sdks/`), is uploaded to a running host through the admin API, given its setting, and changes the
//! next order's invoice in FreshBooks.

use crate::admin_api::{SHOP, invoiced_order, spawn_admin_host_with, valid};
use reqwest::StatusCode;
use serde_json::json;
use std::path::PathBuf;

const LANGS: [&str; 4] = ["rust", "ts", "js", "python"];

fn sdks_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/plugin-sdks")
}

fn scaffold_component(lang: &str) -> Vec<u8> {
    let path = sdks_dir().join(format!("sdk-{lang}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "read {}: {e}; scripts/build-plugin-sdks.sh scaffolds and builds it (scripts/test.sh runs it)",
            path.display()
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scaffolded_plugin_in_each_language_changes_the_invoice_in_freshbooks() {
    let host = spawn_admin_host_with(|c| {
        // JavaScript and Python components carry their engine: 12–18 MB.
        c.admin.max_plugin_bytes = 32 << 20;
        // Compiled by `ferry plugin test` in the build script already, when the engines agree.
        c.plugins.cache_dir = sdks_dir().join("cwasm");
    })
    .await;
    for lang in LANGS {
        let name = format!("greeter-{lang}");
        let (status, body) = host
            .upload_settled(
                SHOP,
                &name,
                scaffold_component(lang),
                true,
                host.token(SHOP),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{lang}: {body}");
        let path = format!("/tenants/{SHOP}/plugins/{name}/settings");
        let greeting = json!({ "greeting": format!("Greetings from {lang} on") });
        let (status, body) = host.put_json(&path, host.token(SHOP), &greeting).await;
        assert_eq!(status, StatusCode::OK, "{lang}: {body}");
    }

    let (placed, invoice) = invoiced_order(&host).await;
    let number = &placed.order.number;
    for lang in LANGS {
        let line = format!("Greetings from {lang} on {number}!");
        assert!(
            invoice.notes.lines().any(|l| l == line),
            "{lang}: no `{line}` in the invoice notes: {:?}",
            invoice.notes
        );
    }
    host.stop().await;
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Uploads `body` as plugin `name` of shop with a `Content-Encoding`.
async fn upload_encoded(
    host: &ferry_tests::TestApp,
    name: &str,
    body: Vec<u8>,
    encoding: &str,
) -> (StatusCode, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(host.admin_url(&format!("/tenants/{SHOP}/plugins?name={name}")))
        .bearer_auth(host.token(SHOP))
        .header(reqwest::header::CONTENT_TYPE, "application/wasm")
        .header(reqwest::header::CONTENT_ENCODING, encoding)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_upload_stores_the_component_and_the_limit_holds_after_decompression() {
    let host = spawn_admin_host_with(|c| c.admin.max_plugin_bytes = 4 << 20).await;
    let component = ferry_tests::plugins::wasm("custom-fields");

    let (status, body) = upload_encoded(&host, "packed", gzip(&component), "gzip").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["plugin"]["size"],
        component.len(),
        "stored as the component, not the gzip"
    );
    // The same component sent plainly is the same version: one content hash.
    let (status, plain) = host
        .upload(SHOP, "packed", component, false, host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{plain}");
    assert_eq!(plain["plugin"]["hash"], body["plugin"]["hash"]);

    // 64 MiB of zeros compress to about 64 KB: refused at the limit, nothing stored.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < 1 << 20);
    let (status, body) = upload_encoded(&host, "bomb", bomb, "gzip").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (status, body) = upload_encoded(&host, "brotli", vec![1, 2, 3], "br").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"br\""),
        "{body}"
    );
    let (_, listed) = host.get("/tenants/shop/plugins", host.token(SHOP)).await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["packed"]);
    host.stop().await;
}

/// `ferry plugin test --tenant` runs the candidate with the settings the tenant's plugin of that name serves with,
/// including those given through the admin API (it read only the configured ones, so a plugin set up with `ferry
/// plugin settings` was tested without them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_test_with_a_tenant_uses_the_settings_given_through_the_api() {
    use clap::Parser as _;
    let host = spawn_admin_host_with(|_| {}).await;
    let cups = ferry_transform::artifacts::wasm_path("custom-fields");
    let component = ferry_tests::plugins::wasm("custom-fields");
    let (status, body) = host
        .upload_settled(SHOP, "custom_fields", component, true, host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let settings = json!({ "client-fields": "CustomerLoyaltyTier=note" });
    let path = format!("/tenants/{SHOP}/plugins/custom_fields/settings");
    let (status, body) = host.put_json(&path, host.token(SHOP), &settings).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let order = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/sample-order.json");
    let cli = ferry::cli::Cli::try_parse_from([
        "ferry",
        "plugin",
        "test",
        cups.to_str().unwrap(),
        "--order",
        order,
        "--tenant",
        SHOP,
    ])
    .unwrap();
    let ferry::cli::Command::Plugin(cmd) = cli.command else {
        panic!("not a plugin command");
    };
    let mut out = Vec::new();
    ferry::cli::plugin::run(&host.config, cmd, &mut out)
        .await
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["before"]["client"]["note"], "");
    assert_eq!(
        report["after"]["client"]["note"], "CustomerLoyaltyTier: Gold",
        "{report}"
    );
    host.stop().await;
}

/// `ferry plugin test FILE --tenant shop --event KEY`: the candidate runs on a stored order event with the tenant's
/// serving chain and its API settings, in the place of the plugin of its name or after the chain, and nothing
/// reaches FreshBooks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_test_on_a_stored_event_runs_the_serving_chain_and_writes_nothing() {
    use clap::Parser as _;
    let host = spawn_admin_host_with(|_| {}).await;
    let cups = ferry_tests::plugins::wasm("custom-fields");
    let (status, body) = host
        .upload_settled(SHOP, "custom_fields", cups, true, host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let settings = json!({ "invoice-note-attributes": "*" });
    let path = format!("/tenants/{SHOP}/plugins/custom_fields/settings");
    let (status, body) = host.put_json(&path, host.token(SHOP), &settings).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let placed = host.place_and_settle(0..1, &valid()).await;
    let number = placed[0].order.number.clone();
    let (_, events) = host
        .get(
            &format!("/tenants/{SHOP}/events?order_number={number}"),
            host.token(SHOP),
        )
        .await;
    let event = &events.as_array().unwrap()[0];
    let key = match &event["job"] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let freshbooks_before = host.sandbox.freshbooks.invoices(&host.sandbox.account_id);

    let dir = tempfile::tempdir().unwrap();
    let run = |file: PathBuf| {
        let key = key.clone();
        let host = &host;
        async move {
            let cli = ferry::cli::Cli::try_parse_from([
                "ferry",
                "plugin",
                "test",
                file.to_str().unwrap(),
                "--tenant",
                SHOP,
                "--event",
                key.as_str(),
                "--url",
                host.host_url.as_str(),
                "--token",
                host.token(SHOP),
            ])
            .unwrap();
            let ferry::cli::Command::Plugin(cmd) = cli.command else {
                panic!("not a plugin command");
            };
            let mut out = Vec::new();
            ferry::cli::plugin::run(&host.config, cmd, &mut out)
                .await
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&out).unwrap()
        }
    };

    // A new plugin (the Rust scaffold's greeting) runs after the serving chain.
    let greeter = dir.path().join("greeter.wasm");
    std::fs::write(&greeter, scaffold_component("rust")).unwrap();
    let report = run(greeter).await;
    assert_eq!(report["replaces"], false, "{report}");
    assert_eq!(report["order_number"], number.as_str());
    let serving = report["serving"]["drafts"]["invoice"]["notes"]
        .as_str()
        .unwrap();
    let candidate = report["candidate"]["drafts"]["invoice"]["notes"]
        .as_str()
        .unwrap();
    let greeting = format!("Thank you for your order {number}!");
    assert!(!serving.contains(&greeting), "{serving}");
    assert!(candidate.ends_with(&greeting), "{candidate}");
    // Every simulated order has a SalesChannel attribute, which custom_fields writes with `*`.
    let attribute_note = serving
        .lines()
        .find(|l| l.starts_with("SalesChannel: "))
        .map(str::to_owned);
    assert!(
        attribute_note.is_some(),
        "the serving chain ran custom_fields with its API settings: {serving}"
    );
    let changed: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["/invoice/notes"], "{report}");

    // A candidate under a serving plugin's name takes its place: tax-rules as `custom_fields` drops its notes.
    let impostor = dir.path().join("custom_fields.wasm");
    std::fs::write(&impostor, ferry_tests::plugins::wasm("tax-rules")).unwrap();
    let report = run(impostor).await;
    assert_eq!(report["replaces"], true, "{report}");
    let candidate = report["candidate"]["drafts"]["invoice"]["notes"]
        .as_str()
        .unwrap();
    assert!(
        !candidate.contains(attribute_note.as_deref().unwrap()),
        "{candidate}"
    );

    assert_eq!(
        host.sandbox
            .freshbooks
            .invoices(&host.sandbox.account_id)
            .len(),
        freshbooks_before.len(),
        "a dry run writes nothing to FreshBooks"
    );
    host.stop().await;
}
