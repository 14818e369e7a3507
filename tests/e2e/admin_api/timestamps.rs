//! Every timestamp the admin API and `ferry dlq show` print is an RFC 3339 string, in lists and in one event's run
//! history alike, as the OpenAPI document says (`format: date-time`).

use crate::admin_api::{SHOP, invalid, spawn_admin_host, valid};
use clap::Parser;
use ferry::cli::{Cli, Command};
use reqwest::StatusCode;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Whether `key` names a timestamp in Ferry's JSON (`received_at`, `at`, …).
fn is_timestamp_key(key: &str) -> bool {
    key == "at" || key.ends_with("_at")
}

/// Checks every timestamp field under `value` is null or an RFC 3339 string; returns how many strings it parsed.
fn check_timestamps(what: &str, path: &str, value: &Value) -> usize {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let here = format!("{path}.{k}");
                if is_timestamp_key(k) {
                    match v {
                        Value::Null => 0,
                        Value::String(s) => {
                            OffsetDateTime::parse(s, &Rfc3339).unwrap_or_else(|e| {
                                panic!("{what}: {here} = {s:?} is not RFC 3339: {e}")
                            });
                            1
                        }
                        other => panic!("{what}: {here} is not an RFC 3339 string: {other}"),
                    }
                } else {
                    check_timestamps(what, &here, v)
                }
            })
            .sum(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| check_timestamps(what, &format!("{path}[{i}]"), v))
            .sum(),
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_history_dead_letters_and_dlq_show_print_every_timestamp_as_rfc3339() {
    let host = spawn_admin_host().await;
    host.place_and_settle(0..2, &valid()).await;
    host.place_and_settle(2..4, &invalid()).await;
    let token = host.token(SHOP);

    let (status, events) = host.get("/tenants/shop/events", token).await;
    assert_eq!(status, StatusCode::OK, "{events}");
    assert!(
        check_timestamps("GET /events", "", &events) >= 4,
        "{events}"
    );
    let (_, dead) = host.get("/tenants/shop/dlq", token).await;
    assert!(
        check_timestamps("GET /tenants/shop/dlq", "", &dead) >= 2,
        "{dead}"
    );
    let (_, all) = host.get("/dlq", &host.operator).await;
    check_timestamps("GET /dlq", "", &all);
    let (_, tokens) = host.get("/tokens", &host.operator).await;
    assert!(
        check_timestamps("GET /tokens", "", &tokens) >= 1,
        "{tokens}"
    );

    let done = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["state"] == "done")
        .expect("a done event");
    let path = format!("/tenants/shop/events/{}", done["job"]);
    let (status, history) = host.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    // The event row (received, started, finished, updated, next attempt, object modified), each transition and
    // each step.
    let n = history["transitions"].as_array().unwrap().len()
        + history["steps"].as_array().unwrap().len();
    assert!(check_timestamps(&path, "", &history) >= 4 + n, "{history}");

    let job = dead[0]["job"].to_string();
    let path = format!("/tenants/shop/dlq/{job}");
    let (status, letter) = host.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{letter}");
    let n = letter["history"].as_array().unwrap().len();
    assert!(
        n >= 2 && check_timestamps(&path, "", &letter) >= 3 + n,
        "{letter}"
    );

    let Command::Dlq(cmd) = Cli::try_parse_from(["ferry", "dlq", "show", &job, "--json"])
        .unwrap()
        .command
    else {
        panic!("not a dlq command");
    };
    let mut out = Vec::new();
    ferry::cli::dlq::run(&host.store, cmd, &mut out)
        .await
        .unwrap();
    let shown: Value = serde_json::from_slice(&out).unwrap();
    assert!(
        check_timestamps("ferry dlq show", "", &shown) >= 3 + n,
        "{shown}"
    );
    host.stop().await;
}

#[test]
fn every_timestamp_property_is_documented_as_an_rfc3339_string() {
    let doc = ferry::admin::OPENAPI_YAML;
    let mut checked = 0;
    for (n, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        let Some((key, rest)) = trimmed.split_once(':') else {
            continue;
        };
        if key == "at" || (key.ends_with("_at") && !key.contains(' ')) {
            assert!(
                rest.contains("type: string") || rest.contains("type: [string, \"null\"]"),
                "line {}: {line}",
                n + 1
            );
            assert!(rest.contains("format: date-time"), "line {}: {line}", n + 1);
            checked += 1;
        }
    }
    // EventSummary, AdminToken, PluginVersion, the event row, Transition and a step all have some.
    assert!(checked >= 14, "{checked} timestamp properties");
}
