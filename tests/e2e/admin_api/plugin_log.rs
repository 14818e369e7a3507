//! The tenant's plugin log over the admin API: the lines a real uploaded component writes while it runs the
//! tenant's orders, with plugin, version, level and event, kept in the store and answered only to the tenant's own
//! token (or an operator's); a dry run keeps nothing.

use crate::admin_api::{OTHER, SHOP, spawn_admin_host, valid};
use ferry_model::TenantId;
use ferry_tests::admin::assert_error;
use ferry_tests::plugins::wasm;
use ferry_tests::wait_until;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugins_log_lines_reach_its_tenant_and_only_its_tenant() {
    let host = spawn_admin_host().await;
    let shop = TenantId::parse(SHOP).unwrap();
    // `contract-v0-1` logs "rebuilt N lines" from `map-invoice`.
    let (status, up) = host
        .upload_settled(
            SHOP,
            "renamer",
            wasm("contract-v0-1"),
            true,
            host.token(SHOP),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");

    let placed = host.place_and_settle(0..2, &valid()).await;
    // The lines are written off the event's path, a moment after the events finished.
    wait_until(Duration::from_secs(20), "two plugin log lines", || async {
        host.store
            .plugin_log(&shop, None, 10)
            .await
            .is_ok_and(|l| l.len() >= 2)
    })
    .await
    .unwrap();

    let (status, lines) = host
        .get("/tenants/shop/plugins/log", host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{lines}");
    let lines = lines.as_array().unwrap().clone();
    let jobs = order_jobs(&host, &placed).await;
    for line in &lines {
        assert_eq!(line["tenant"], SHOP);
        assert_eq!(line["plugin"], "renamer");
        assert_eq!(line["version"], 1);
        assert_eq!(line["level"], "info");
        let message = line["message"].as_str().unwrap();
        assert!(
            message.starts_with("rebuilt ") && message.ends_with(" lines"),
            "{message}"
        );
        assert!(line["at"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
    for (order, events) in &jobs {
        assert!(
            lines
                .iter()
                .any(|l| events.contains(&l["job"].as_i64().unwrap())),
            "order {order} has a line naming one of its events {events:?}: {lines:?}"
        );
    }
    let all: Vec<i64> = jobs.iter().flat_map(|(_, j)| j.clone()).collect();
    assert!(
        lines
            .iter()
            .all(|l| all.contains(&l["job"].as_i64().unwrap())),
        "every line names an event of these orders: {lines:?}"
    );
    assert!(
        lines[0]["id"].as_i64() > lines[1]["id"].as_i64(),
        "newest first"
    );

    // Filters and bounds.
    let (_, one) = host
        .get("/tenants/shop/plugins/log?limit=1", host.token(SHOP))
        .await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    let (_, none) = host
        .get("/tenants/shop/plugins/log?plugin=another", &host.operator)
        .await;
    assert_eq!(none, Value::Array(Vec::new()));
    let (status, body) = host
        .get("/tenants/shop/plugins/log?limit=0", host.token(SHOP))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");

    // Another tenant's token is refused; that tenant's own log is empty.
    let (status, body) = host
        .get("/tenants/shop/plugins/log", host.token(OTHER))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, theirs) = host
        .get("/tenants/other/plugins/log", host.token(OTHER))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(theirs, Value::Array(Vec::new()));

    // A dry run of the same component on a stored event writes no line: after it, one more order runs, and only
    // that order's lines are new (the writer keeps lines in the order they were written).
    let (status, report) = host
        .send(
            reqwest::Method::POST,
            &format!(
                "/tenants/shop/plugins/dry-run?name=renamer&event={}",
                all[0]
            ),
            Some(host.token(SHOP)),
            Some(wasm("contract-v0-1").into()),
            "application/wasm",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["replaces"], true, "{report}");
    assert_eq!(
        report["changes"],
        Value::Array(Vec::new()),
        "the serving component in its own place changes nothing: {report}"
    );
    let later = host.place_and_settle(2..3, &valid()).await;
    let later_jobs: Vec<i64> = order_jobs(&host, &later)
        .await
        .into_iter()
        .flat_map(|(_, j)| j)
        .collect();
    wait_until(
        Duration::from_secs(20),
        "the third order's line",
        || async {
            host.store
                .plugin_log(&shop, None, 100)
                .await
                .is_ok_and(|l| l.iter().any(|x| later_jobs.contains(&x.line.job.0)))
        },
    )
    .await
    .unwrap();
    let (_, after) = host
        .get("/tenants/shop/plugins/log?limit=1000", &host.operator)
        .await;
    let old = after
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| !later_jobs.contains(&l["job"].as_i64().unwrap()))
        .count();
    assert_eq!(old, lines.len(), "the dry run added no line: {after}");
    host.stop().await;
}

/// Each placed order's number with the keys of its stored events.
async fn order_jobs(
    host: &ferry_tests::TestApp,
    placed: &[ferry::sandbox::audit::Placed],
) -> Vec<(String, Vec<i64>)> {
    let shop = TenantId::parse(SHOP).unwrap();
    let mut out = Vec::new();
    for p in placed {
        let events = host
            .store
            .find_by_order_number(&shop, &p.order.number)
            .await
            .unwrap();
        out.push((
            p.order.number.clone(),
            events.iter().map(|e| e.job.0).collect(),
        ));
    }
    out
}
