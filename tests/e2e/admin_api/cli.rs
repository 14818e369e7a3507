//! `ferry token …` against the store and `ferry plugin …` through the admin API, parsed from real argv.

use crate::admin_api::{OTHER, SHOP, spawn_admin_host};
use clap::Parser;
use ferry::cli::{Cli, Command};
use ferry_tests::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

fn parse(args: &[&str]) -> Command {
    Cli::try_parse_from(std::iter::once("ferry").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("parse {args:?}: {e}"))
        .command
}

async fn plugin(host: &TestApp, args: &[&str]) -> anyhow::Result<String> {
    let Command::Plugin(cmd) = parse(args) else {
        panic!("not a plugin command");
    };
    let mut out = Vec::new();
    ferry::cli::plugin::run(&host.config, cmd, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

async fn token(host: &TestApp, args: &[&str]) -> anyhow::Result<String> {
    let Command::Token(cmd) = parse(args) else {
        panic!("not a token command");
    };
    let mut out = Vec::new();
    ferry::cli::token::run(&host.config, &host.store, cmd, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_prints_the_token_once_and_the_store_keeps_only_its_hash() {
    let host = spawn_admin_host().await;
    let printed = token(
        &host,
        &["token", "create", "--tenant", SHOP, "--label", "shop ops"],
    )
    .await
    .unwrap();
    let secret = printed.lines().next().unwrap();
    assert!(secret.starts_with(ferry::admin::TOKEN_PREFIX), "{printed}");
    assert!(printed.contains(&format!("tenant {SHOP}")), "{printed}");
    let (status, me) = host.get("/whoami", secret).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["tenant"], SHOP);

    let listed = token(&host, &["token", "list"]).await.unwrap();
    assert!(
        listed.contains("shop ops") && listed.contains("tenant:shop"),
        "{listed}"
    );
    assert!(!listed.contains(secret), "listings never show a token");
    let db = std::fs::read(host.dir.path().join("ferry.db")).unwrap();
    let wal = std::fs::read(host.dir.path().join("ferry.db-wal")).unwrap_or_default();
    for file in [&db, &wal] {
        assert!(
            !contains(file, secret.as_bytes()),
            "the token is not stored"
        );
    }
    let hash = ferry::admin::hash_token(secret);
    assert!(contains(&db, hash.as_bytes()) || contains(&wal, hash.as_bytes()));

    let id = me["token_id"].as_str().unwrap();
    let revoked = token(&host, &["token", "revoke", id]).await.unwrap();
    assert!(revoked.contains(id));
    assert_eq!(
        host.get("/whoami", secret).await.0,
        StatusCode::UNAUTHORIZED
    );

    assert!(
        token(&host, &["token", "create", "--tenant", "nope"])
            .await
            .is_err()
    );
    assert!(
        Cli::try_parse_from(["ferry", "token", "create"]).is_err(),
        "a scope is required"
    );
    assert!(
        Cli::try_parse_from(["ferry", "token", "create", "--operator", "--tenant", SHOP]).is_err(),
        "one scope only"
    );
    host.stop().await;
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_commands_upload_activate_and_roll_back_through_the_admin_api() {
    let host = spawn_admin_host().await;
    ferry_transform::artifacts::ensure_built().unwrap();
    let cups = ferry_transform::artifacts::wasm_path("custom-fields");
    let taxes = ferry_transform::artifacts::wasm_path("tax-rules");
    let api = ["--url", host.host_url.as_str(), "--token", host.token(SHOP)];
    let run = |args: Vec<&str>| {
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        let host = &host;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            plugin(host, &args).await
        }
    };

    let up = run([
        &[
            "plugin",
            "upload",
            SHOP,
            cups.to_str().unwrap(),
            "--activate",
        ][..],
        &api,
    ]
    .concat())
    .await
    .unwrap();
    let up: Value = serde_json::from_str(&up).unwrap();
    assert_eq!(
        up["plugin"]["name"], "custom_fields",
        "the name defaults to the file stem"
    );
    // The upload answers before the compile; `--activate` activates the version once it is ready.
    let v1 = host
        .wait_plugin_settled(SHOP, "custom_fields", 1, true, host.token(SHOP))
        .await;
    assert_eq!(v1["state"], "ready", "{v1}");
    assert_eq!(v1["active"], true, "{v1}");

    let up = run([
        &[
            "plugin",
            "upload",
            SHOP,
            taxes.to_str().unwrap(),
            "--name",
            "custom_fields",
        ][..],
        &api,
    ]
    .concat())
    .await
    .unwrap();
    let up: Value = serde_json::from_str(&up).unwrap();
    assert_eq!(up["plugin"]["version"], 2);
    assert_eq!(up["plugin"]["active"], false);

    let active = run([
        &["plugin", "activate", SHOP, "custom_fields", "2"][..],
        &api,
    ]
    .concat())
    .await
    .unwrap();
    assert!(active.contains("\"active\": true"), "{active}");
    let back = run([&["plugin", "rollback", SHOP, "custom_fields"][..], &api].concat())
        .await
        .unwrap();
    let back: Value = serde_json::from_str(&back).unwrap();
    assert_eq!(back["version"], 1);
    let listed = run([&["plugin", "list", SHOP, "--json"][..], &api].concat())
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&listed)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The API's refusals come back as errors naming code and reason.
    let err = run([&["plugin", "rollback", SHOP, "custom_fields"][..], &api].concat())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("409") && err.to_string().contains("conflict"),
        "{err}"
    );
    let hostile = ferry_transform::artifacts::wasm_path("forbidden-import");
    let err = run([
        &["plugin", "upload", SHOP, hostile.to_str().unwrap()][..],
        &api,
    ]
    .concat())
    .await
    .unwrap_err();
    assert!(err.to_string().contains("wasi:sockets"), "{err}");
    let err = run([&["plugin", "list", "other"][..], &api].concat())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    let err = plugin(
        &host,
        &[
            "plugin",
            "list",
            SHOP,
            "--url",
            host.host_url.as_str(),
            "--token",
            "",
        ],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("FERRY_ADMIN_TOKEN"), "{err}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_test_prints_the_drafts_before_and_after_the_plugin() {
    ferry_transform::artifacts::ensure_built().unwrap();
    let cups = ferry_transform::artifacts::wasm_path("custom-fields");
    let order = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/sample-order.json");
    let Command::Plugin(cmd) = parse(&[
        "plugin",
        "test",
        cups.to_str().unwrap(),
        "--order",
        order,
        "--setting",
        "client-fields=CustomerLoyaltyTier=note",
        "--setting",
        "invoice-note-attributes=*",
    ]) else {
        panic!("not a plugin command");
    };
    let mut out = Vec::new();
    ferry::cli::plugin::run(&ferry::config::Config::default(), cmd, &mut out)
        .await
        .unwrap();
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["plugin"], "custom_fields");
    assert_eq!(report["before"]["client"]["note"], "");
    assert_eq!(
        report["after"]["client"]["note"],
        "CustomerLoyaltyTier: Gold"
    );
    assert!(
        report["after"]["invoice"]["notes"]
            .as_str()
            .unwrap()
            .contains("GiftMessage: Happy birthday"),
        "{report}"
    );
    let paths: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"/client/note"), "{paths:?}");
    assert!(paths.contains(&"/invoice/notes"), "{paths:?}");
    assert_eq!(
        report["before"]["items"], report["after"]["items"],
        "no item-attributes setting"
    );

    // A trapping plugin fails the test run with the hook and the trap.
    let trap = ferry_transform::artifacts::wasm_path("trap");
    let Command::Plugin(cmd) = parse(&["plugin", "test", trap.to_str().unwrap(), "--order", order])
    else {
        panic!("not a plugin command");
    };
    let err = ferry::cli::plugin::run(&ferry::config::Config::default(), cmd, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("map-invoice"), "{err}");
}

async fn tenant(host: &TestApp, args: &[&str]) -> anyhow::Result<Value> {
    let Command::Tenant(cmd) = parse(args) else {
        panic!("not a tenant command");
    };
    let mut out = Vec::new();
    ferry::cli::tenant::run(&host.config, cmd, &mut out).await?;
    Ok(serde_json::from_slice(&out)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_commands_list_and_show_through_the_admin_api() {
    let host = spawn_admin_host().await;
    let op = [
        "--url",
        host.host_url.as_str(),
        "--token",
        host.operator.as_str(),
    ];
    let listed = tenant(&host, &[&["tenant", "list", "--json"][..], &op].concat())
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let shop = tenant(
        &host,
        &[&["tenant", "show", SHOP, "--json"][..], &op].concat(),
    )
    .await
    .unwrap();
    assert_eq!(shop["kentico"]["password"], "set");
    // Without --json: tab-separated text, a header and a line per tenant, a field per line for one.
    let Command::Tenant(cmd) = parse(&[&["tenant", "list"][..], &op].concat()) else {
        panic!("not a tenant command");
    };
    let mut out = Vec::new();
    ferry::cli::tenant::run(&host.config, cmd, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let id = header
        .iter()
        .position(|c| *c == "id")
        .expect("an id column");
    let ids: Vec<&str> = lines
        .map(|l| l.split('\t').nth(id).unwrap_or_default())
        .collect();
    assert!(ids.contains(&SHOP) && ids.len() == 2, "{text}");
    let Command::Tenant(cmd) = parse(&[&["tenant", "show", SHOP][..], &op].concat()) else {
        panic!("not a tenant command");
    };
    let mut out = Vec::new();
    ferry::cli::tenant::run(&host.config, cmd, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.lines().any(|l| l == "kentico.password\tset"), "{text}");
    let own = [
        "--url",
        host.host_url.as_str(),
        "--token",
        host.token(OTHER),
    ];
    let err = tenant(
        &host,
        &[&["tenant", "show", SHOP, "--json"][..], &own].concat(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    host.stop().await;
}
