//! The order of a tenant's uploaded plugins, over real HTTP and counted from the FreshBooks simulator: uploads join
//! the chain in the order they arrive (not by name), and the chain can be reordered, a plugin taken out and put
//! back, and a plugin's settings given, each changing what the next order's invoice says.
//!
//! Two fixtures whose order shows in the invoice notes: `stateful` appends `calls: 1`, `contract-v0-1` appends
//! `<note-prefix>: order …` (`note-prefix` defaults to `v0.1`). Uploaded as `zeta` and `alpha`, name order and
//! upload order differ.

use crate::admin_api::{OTHER, SHOP, spawn_admin_host, valid};
use ferry_model::TenantId;
use ferry_store::EventState;
use ferry_tests::TestApp;
use ferry_tests::admin::assert_error;
use ferry_tests::plugins::wasm;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// What `stateful` (uploaded as `zeta`) writes.
const ZETA_NOTE: &str = "calls: 1";
/// What `contract-v0-1` (uploaded as `alpha`) writes without settings.
const ALPHA_NOTE: &str = "v0.1: order";

/// Waits until no event of shop is waiting or running, and returns the dead letters.
async fn settle(host: &TestApp) -> Vec<ferry_store::EventRecord> {
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

/// Places order `n` in Kentico, waits until it is synced, and returns its invoice's notes as FreshBooks has them.
async fn invoice_notes(host: &TestApp, n: u64) -> String {
    let placed = host.sandbox.place(n, &valid()).await;
    let dead = settle(host).await;
    assert!(dead.is_empty(), "nothing dead-lettered: {dead:?}");
    let guid = placed.order.guid.to_string();
    let ids = host.sandbox.invoices_by_order();
    let ids = ids.get(&guid).expect("the order was invoiced");
    assert_eq!(ids.len(), 1, "one invoice per order");
    host.sandbox
        .freshbooks
        .invoices(&host.sandbox.account_id)
        .into_iter()
        .find(|i| i.invoiceid == ids[0])
        .expect("the invoice is in FreshBooks")
        .notes
}

/// The plugins' notes lines in the order they appear in `notes` (which is the order the chain ran them).
fn ran(notes: &str, marks: &[(&'static str, &str)]) -> Vec<&'static str> {
    let mut found: Vec<(usize, &'static str)> = marks
        .iter()
        .filter_map(|(name, mark)| notes.find(mark).map(|at| (at, *name)))
        .collect();
    found.sort();
    found.into_iter().map(|(_, name)| name).collect()
}

/// Uploads `zeta` (stateful) then `alpha` (contract-v0-1), both activated.
async fn upload_zeta_then_alpha(host: &TestApp) {
    for (name, fixture) in [("zeta", "stateful"), ("alpha", "contract-v0-1")] {
        let (status, up) = host
            .upload_settled(SHOP, name, wasm(fixture), true, host.token(SHOP))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{up}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_plugins_run_in_upload_order_not_in_name_order() {
    let host = spawn_admin_host().await;
    upload_zeta_then_alpha(&host).await;

    let notes = invoice_notes(&host, 0).await;
    assert_eq!(
        ran(&notes, &[("zeta", ZETA_NOTE), ("alpha", ALPHA_NOTE)]),
        ["zeta", "alpha"],
        "zeta was uploaded first, so it runs first: {notes}"
    );
    host.stop().await;
}

/// The chain's plugin names as `GET …/plugins/order` answers, and the inactive ones.
async fn chain(host: &TestApp, token: &str) -> (Vec<String>, Vec<String>) {
    let (status, body) = host.get("/tenants/shop/plugins/order", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p.get("name").unwrap_or(p).as_str().unwrap().to_owned())
            .collect()
    };
    (names(&body["plugins"]), names(&body["inactive"]))
}

/// The names of the chain as this host serves it (the loaded components, in order).
async fn serving(host: &TestApp) -> Vec<String> {
    let (_, view) = host.get("/tenants/shop", &host.operator).await;
    view["serving"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The order the store keeps for shop's uploaded plugins.
async fn stored_order(host: &TestApp) -> Vec<String> {
    let shop = TenantId::parse(SHOP).unwrap();
    host.store
        .plugin_chain(&shop)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect()
}

async fn put_order(host: &TestApp, names: &[&str], token: &str) -> (StatusCode, Value) {
    host.put_json(
        "/tenants/shop/plugins/order",
        token,
        &json!({ "names": names }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorder_changes_the_next_invoice_and_must_name_exactly_the_active_uploads() {
    let host = spawn_admin_host().await;
    upload_zeta_then_alpha(&host).await;
    assert_eq!(chain(&host, host.token(SHOP)).await.0, ["zeta", "alpha"]);

    let (status, body) = put_order(&host, &["alpha", "zeta"], host.token(SHOP)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["plugins"][0]["name"], "alpha");
    assert_eq!(body["plugins"][0]["reorderable"], true);
    assert_eq!(serving(&host).await, ["alpha", "zeta"]);
    let notes = invoice_notes(&host, 0).await;
    assert_eq!(
        ran(&notes, &[("zeta", ZETA_NOTE), ("alpha", ALPHA_NOTE)]),
        ["alpha", "zeta"],
        "{notes}"
    );

    // Anything but each active upload once is refused, naming what differs, and changes nothing.
    for (names, says) in [
        (&["alpha"][..], "missing zeta"),
        (&["zeta", "alpha", "ghost"][..], "ghost"),
        (&["zeta", "alpha", "zeta"][..], "named twice: zeta"),
        (&[][..], "missing"),
    ] {
        let (status, body) = put_order(&host, names, host.token(SHOP)).await;
        assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_config",
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{names:?}: {message}");
    }
    let (status, body) = host
        .put_json(
            "/tenants/shop/plugins/order",
            host.token(SHOP),
            &json!(["zeta"]),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(stored_order(&host).await, ["alpha", "zeta"]);

    // The order is stored: a restarted host runs it.
    let host = host.restart().await.unwrap();
    assert_eq!(serving(&host).await, ["alpha", "zeta"]);
    let notes = invoice_notes(&host, 1).await;
    assert_eq!(
        ran(&notes, &[("zeta", ZETA_NOTE), ("alpha", ALPHA_NOTE)]),
        ["alpha", "zeta"],
        "{notes}"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_plugin_leaves_the_chain_and_comes_back_in_its_place() {
    let host = spawn_admin_host().await;
    upload_zeta_then_alpha(&host).await;

    let (status, body) = host
        .post("/tenants/shop/plugins/zeta/deactivate", host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        chain(&host, host.token(SHOP)).await,
        (vec!["alpha".to_owned()], vec!["zeta".to_owned()])
    );
    let notes = invoice_notes(&host, 0).await;
    assert_eq!(
        ran(&notes, &[("zeta", ZETA_NOTE), ("alpha", ALPHA_NOTE)]),
        ["alpha"],
        "zeta no longer runs: {notes}"
    );
    let (_, listed) = host
        .get("/tenants/shop/plugins?name=zeta", host.token(SHOP))
        .await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["active"] == false),
        "{listed}"
    );

    let (status, body) = host
        .post("/tenants/shop/plugins/zeta/deactivate", host.token(SHOP))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = host
        .post("/tenants/shop/plugins/ghost/deactivate", host.token(SHOP))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    // An inactive plugin is not part of the order to give.
    let (status, body) = put_order(&host, &["zeta", "alpha"], host.token(SHOP)).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_config",
    );

    // Activated again: back first, where it was, with the version it had.
    let (status, body) = host
        .post("/tenants/shop/plugins/zeta/activate", host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["version"].as_i64(), body["active"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(
        chain(&host, host.token(SHOP)).await,
        (vec!["zeta".to_owned(), "alpha".to_owned()], vec![])
    );
    let notes = invoice_notes(&host, 1).await;
    assert_eq!(
        ran(&notes, &[("zeta", ZETA_NOTE), ("alpha", ALPHA_NOTE)]),
        ["zeta", "alpha"],
        "{notes}"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_given_through_the_api_reach_the_plugin_and_follow_its_name() {
    let host = spawn_admin_host().await;
    upload_zeta_then_alpha(&host).await;
    let settings = "/tenants/shop/plugins/alpha/settings";
    let (status, body) = host.get(settings, host.token(SHOP)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));

    let (status, body) = host
        .put_json(
            settings,
            host.token(SHOP),
            &json!({"note-prefix": "Shop chain"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"note-prefix": "Shop chain"}));
    let notes = invoice_notes(&host, 0).await;
    assert!(
        notes.contains("Shop chain: order") && !notes.contains(ALPHA_NOTE),
        "alpha read its setting: {notes}"
    );

    for (body, field) in [
        (json!({"note-prefix": 3}), "settings.note-prefix"),
        (json!({"a b": "x"}), "key \"a b\""),
        (json!(["note-prefix"]), "JSON object"),
    ] {
        let (status, answer) = host.put_json(settings, host.token(SHOP), &body).await;
        assert_error(
            status,
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_config",
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{body}: {message}");
    }
    let (status, body) = host
        .put_json(
            "/tenants/shop/plugins/ghost/settings",
            host.token(SHOP),
            &json!({}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (_, body) = host.get(settings, host.token(SHOP)).await;
    assert_eq!(
        body,
        json!({"note-prefix": "Shop chain"}),
        "refusals change nothing"
    );

    // A new version of zeta (now contract-v0-1 too) keeps zeta's place, first; each name has its own settings.
    let (status, up) = host
        .upload_settled(SHOP, "zeta", wasm("contract-v0-1"), true, host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(up["plugin"]["version"], 2);
    let (status, body) = host
        .put_json(
            "/tenants/shop/plugins/zeta/settings",
            host.token(SHOP),
            &json!({"note-prefix": "Zeta v2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let notes = invoice_notes(&host, 1).await;
    assert_eq!(
        ran(
            &notes,
            &[("zeta", "Zeta v2: order"), ("alpha", "Shop chain: order")]
        ),
        ["zeta", "alpha"],
        "{notes}"
    );
    let (_, view) = host.get("/tenants/shop", host.token(SHOP)).await;
    assert_eq!(
        view["plugins"][1]["settings"],
        json!({"note-prefix": "Shop chain"}),
        "{view}"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_token_cannot_change_or_read_another_tenants_chain() {
    let host = spawn_admin_host().await;
    upload_zeta_then_alpha(&host).await;
    let theirs = host.token(OTHER);
    for (method, path, body) in [
        (reqwest::Method::GET, "/tenants/shop/plugins/order", None),
        (
            reqwest::Method::PUT,
            "/tenants/shop/plugins/order",
            Some(json!({"names": ["alpha", "zeta"]})),
        ),
        (
            reqwest::Method::POST,
            "/tenants/shop/plugins/zeta/deactivate",
            None,
        ),
        (
            reqwest::Method::POST,
            "/tenants/shop/plugins/zeta/activate",
            None,
        ),
        (
            reqwest::Method::GET,
            "/tenants/shop/plugins/alpha/settings",
            None,
        ),
        (
            reqwest::Method::PUT,
            "/tenants/shop/plugins/alpha/settings",
            Some(json!({"note-prefix": "not yours"})),
        ),
    ] {
        let (status, answer) = host
            .send(
                method.clone(),
                path,
                Some(theirs),
                body.map(|b| b.to_string().into()),
                "application/json",
            )
            .await;
        assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    }
    let shop = TenantId::parse(SHOP).unwrap();
    assert_eq!(stored_order(&host).await, ["zeta", "alpha"]);
    assert_eq!(host.store.active_plugins(&shop).await.unwrap().len(), 2);
    assert!(
        host.store
            .plugin_chain(&shop)
            .await
            .unwrap()
            .iter()
            .all(|e| e.settings.is_none())
    );

    // An operator may.
    let (status, body) = put_order(&host, &["alpha", "zeta"], &host.operator).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(stored_order(&host).await, ["alpha", "zeta"]);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_plugins_keep_the_configured_order_ahead_of_the_uploads() {
    let host = crate::admin_api::spawn_admin_host_with(|c| {
        c.tenants[0].plugins = vec![
            ferry_tests::plugins::plugin_config("stateful", &[]),
            ferry_tests::plugins::plugin_config("contract-v0-1", &[("note-prefix", "Configured")]),
        ];
    })
    .await;
    let (status, up) = host
        .upload_settled(SHOP, "late", wasm("pass-through"), true, host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    let (status, body) = host
        .get("/tenants/shop/plugins/order", host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK);
    let plugins: Vec<(String, bool)> = body["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["reorderable"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        plugins,
        [
            ("stateful".to_owned(), false),
            ("contract_v0_1".to_owned(), false),
            ("late".to_owned(), true)
        ]
    );
    let (status, body) = put_order(&host, &["late", "stateful"], host.token(SHOP)).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_config",
    );
    let (status, body) = host
        .post(
            "/tenants/shop/plugins/stateful/deactivate",
            host.token(SHOP),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = host
        .get(
            "/tenants/shop/plugins/contract_v0_1/settings",
            host.token(SHOP),
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"note-prefix": "Configured"}))
    );
    let notes = invoice_notes(&host, 0).await;
    assert_eq!(
        ran(
            &notes,
            &[("stateful", ZETA_NOTE), ("contract", "Configured: order")]
        ),
        ["stateful", "contract"],
        "{notes}"
    );
    host.stop().await;
}

/// Runs `ferry plugin …` (real argv parsing, the admin API client) against `host`; the printed answer.
async fn cli(host: &TestApp, args: &[&str]) -> anyhow::Result<String> {
    use clap::Parser;
    let argv = ["ferry", "plugin"]
        .into_iter()
        .chain(args.iter().copied())
        .chain(["--url", host.host_url.as_str(), "--token", host.token(SHOP)]);
    let ferry::cli::Command::Plugin(cmd) = ferry::cli::Cli::try_parse_from(argv)?.command else {
        anyhow::bail!("not a plugin command");
    };
    let mut out = Vec::new();
    ferry::cli::plugin::run(&host.config, cmd, &mut out).await?;
    Ok(String::from_utf8(out)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_orders_deactivates_activates_and_sets_settings_through_the_api() {
    let host = spawn_admin_host().await;
    upload_zeta_then_alpha(&host).await;

    let printed: Value =
        serde_json::from_str(&cli(&host, &["order", SHOP]).await.unwrap()).unwrap();
    assert_eq!(printed["plugins"][0]["name"], "zeta", "{printed}");
    let printed: Value =
        serde_json::from_str(&cli(&host, &["order", SHOP, "alpha", "zeta"]).await.unwrap())
            .unwrap();
    assert_eq!(printed["plugins"][0]["name"], "alpha", "{printed}");
    assert_eq!(stored_order(&host).await, ["alpha", "zeta"]);
    let refused = cli(&host, &["order", SHOP, "alpha"])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("422") && refused.contains("missing zeta"),
        "{refused}"
    );

    cli(
        &host,
        &["settings", SHOP, "alpha", "note-prefix=From the CLI=yes"],
    )
    .await
    .unwrap();
    let printed: Value =
        serde_json::from_str(&cli(&host, &["settings", SHOP, "alpha"]).await.unwrap()).unwrap();
    assert_eq!(printed, json!({"note-prefix": "From the CLI=yes"}));
    assert!(
        cli(&host, &["settings", SHOP, "alpha", "no-equals-sign"])
            .await
            .is_err()
    );

    cli(&host, &["deactivate", SHOP, "zeta"]).await.unwrap();
    let notes = invoice_notes(&host, 0).await;
    assert!(
        notes.contains("From the CLI=yes: order") && !notes.contains(ZETA_NOTE),
        "alpha alone, with its setting: {notes}"
    );

    cli(&host, &["activate", SHOP, "zeta"]).await.unwrap();
    cli(&host, &["settings", SHOP, "alpha", "--clear"])
        .await
        .unwrap();
    let notes = invoice_notes(&host, 1).await;
    assert_eq!(
        ran(&notes, &[("zeta", ZETA_NOTE), ("alpha", ALPHA_NOTE)]),
        ["alpha", "zeta"],
        "zeta back in its place after alpha, alpha without settings: {notes}"
    );
    // A version number still activates that version.
    let printed: Value =
        serde_json::from_str(&cli(&host, &["activate", SHOP, "zeta", "1"]).await.unwrap()).unwrap();
    assert_eq!(printed["version"], 1);
    host.stop().await;
}
