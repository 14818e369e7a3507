//! The OpenAPI document against the router: every documented path and method is a route, and every route is
//! documented.

use crate::admin_api::spawn_admin_host;
use reqwest::{Method, StatusCode};
use std::collections::BTreeSet;

/// `(METHOD, path)` of every operation under `paths:` in the document (read as text: two-space paths, four-space
/// methods).
fn documented() -> BTreeSet<(String, String)> {
    let doc = ferry::admin::OPENAPI_YAML;
    let paths = &doc[doc.find("\npaths:\n").expect("a paths section")..];
    let paths = &paths[..paths.find("\ncomponents:").unwrap_or(paths.len())];
    let mut ops = BTreeSet::new();
    let mut current = None;
    for line in paths.lines() {
        if let Some(p) = line.strip_prefix("  /") {
            current = Some(format!("/{}", p.trim_end().trim_end_matches(':')));
        } else if let Some(m) = line.strip_prefix("    ")
            && let Some(m) = m.strip_suffix(':')
            && ["get", "put", "post", "delete", "patch"].contains(&m)
        {
            ops.insert((
                m.to_uppercase(),
                current.clone().expect("a method under a path"),
            ));
        }
    }
    ops
}

/// The router's routes, as registered.
fn routed() -> BTreeSet<(String, String)> {
    ferry::admin::routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_owned()))
        .collect()
}

#[test]
fn every_documented_operation_is_routed_and_every_route_is_documented() {
    let documented = documented();
    let routed = routed();
    assert!(routed.len() > 20, "{routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from docs/openapi.yaml: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_route_is_served_by_the_running_host() {
    let host = spawn_admin_host().await;
    for (method, path) in routed() {
        let concrete = path
            .replace("{tenant}", "nobody")
            .replace("{job}", "999999")
            .replace("{name}", "x")
            .replace("{version}", "1")
            .replace("{id}", "tok_none");
        let (status, body) = host
            .send(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &concrete,
                Some(&host.operator),
                None,
                "",
            )
            .await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(
            !body.to_string().contains("no such admin route"),
            "{method} {path}: {body}"
        );
    }
    host.stop().await;
}
