//! "Test connection" (`POST /tenants/{tenant}/connections/test` and `ferry connection test`): one read-only call to
//! each service, and each way it fails reported as what it is — a wrong Kentico password (401), Kentico's REST
//! service switched off (403), a revoked FreshBooks authorization (refresh refused), hosts that cannot be reached —
//! with the tenant token scope of every admin route. (The sandbox's tenants share one FreshBooks grant, whose refresh
//! token is single-use, so only `shop` talks to FreshBooks successfully here.)

use crate::admin_api::{OTHER, SHOP, admin_host};
use clap::Parser;
use ferry::cli::{Cli, Command};
use ferry_tests::TestApp;
use ferry_tests::admin::assert_error;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;

/// A tenant whose Kentico and FreshBooks are on closed ports.
const FAR: &str = "far";

async fn host() -> TestApp {
    let closed = format!(
        "http://127.0.0.1:{}",
        ferry_tests::process::free_port().unwrap()
    );
    admin_host()
        .with_tenants(&[SHOP, OTHER, FAR])
        .with_config(move |c| {
            let other = c
                .tenants
                .iter_mut()
                .find(|t| t.id.as_str() == OTHER)
                .unwrap();
            other.kentico.password = SecretString::from("not-the-password".to_owned());
            let far = c.tenants.iter_mut().find(|t| t.id.as_str() == FAR).unwrap();
            far.kentico.base_url = closed.clone();
            far.freshbooks.api_base = closed;
        })
        .spawn()
        .await
        .unwrap()
}

async fn test(host: &TestApp, tenant: &str, token: &str) -> Value {
    let (status, report) = host
        .post(&format!("/tenants/{tenant}/connections/test"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

fn message(report: &Value, side: &str) -> String {
    report[side]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `ferry connection test <tenant>` against the host: whether it passed, and what it printed.
async fn cli(host: &TestApp, tenant: &str) -> (bool, String) {
    let cli = Cli::try_parse_from([
        "ferry",
        "connection",
        "test",
        tenant,
        "--url",
        &host.host_url,
        "--token",
        &host.operator,
    ])
    .unwrap();
    let Command::Connection(cmd) = cli.command else {
        panic!("not a connection command");
    };
    let mut out = Vec::new();
    let ok = ferry::cli::connection::run(&host.config, cmd, &mut out)
        .await
        .unwrap();
    (ok, String::from_utf8(out).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_is_reported_as_what_it_is() {
    let host = host().await;
    let op = host.operator.clone();

    let healthy = test(&host, SHOP, &op).await;
    assert_eq!(healthy["ok"], true, "{healthy}");
    assert!(
        message(&healthy, "kentico").contains("accepts the user"),
        "{healthy}"
    );
    assert!(
        message(&healthy, "freshbooks").contains("is connected and answers"),
        "{healthy}"
    );
    let (ok, text) = cli(&host, SHOP).await;
    assert!(ok, "{text}");
    assert!(
        text.starts_with("kentico\tok\t") && text.contains("\nfreshbooks\tok\t"),
        "{text}"
    );

    // A wrong Kentico password: 401, and what to check.
    let wrong = test(&host, OTHER, &op).await;
    assert_eq!(wrong["ok"], false);
    assert_eq!(wrong["kentico"]["problem"], "bad_credentials", "{wrong}");
    assert!(
        message(&wrong, "kentico").contains("tenants.other.kentico.username and password"),
        "{wrong}"
    );

    // Kentico's REST service switched off in its settings: 403, and where to switch it on.
    host.sandbox.kentico.set_rest_enabled(false);
    let disabled = test(&host, SHOP, &op).await;
    assert_eq!(
        disabled["kentico"]["problem"], "service_disabled",
        "{disabled}"
    );
    assert!(
        message(&disabled, "kentico").contains("Settings → Integration → REST"),
        "{disabled}"
    );
    host.sandbox.kentico.set_rest_enabled(true);

    // Nothing listening: both unreachable.
    let far = test(&host, FAR, &op).await;
    assert_eq!(far["kentico"]["problem"], "unreachable", "{far}");
    assert_eq!(far["freshbooks"]["problem"], "unreachable", "{far}");
    assert!(
        message(&far, "kentico").contains("cannot reach Kentico"),
        "{far}"
    );
    let (ok, text) = cli(&host, FAR).await;
    assert!(!ok, "a failing test fails the command");
    assert!(text.contains("kentico\tFAILED (unreachable)\t"), "{text}");

    // The owner removes the app in FreshBooks: the access token is refused, then the refresh.
    let fb = host.sandbox.freshbooks.sim();
    let account = fb.summaries()[0].account_id.clone();
    assert!(fb.revoke_tokens(&account) > 0);
    fb.expire_access_tokens(None);
    let revoked = test(&host, SHOP, &op).await;
    assert_eq!(revoked["kentico"]["ok"], true, "{revoked}");
    assert_eq!(revoked["freshbooks"]["problem"], "revoked", "{revoked}");
    assert!(
        message(&revoked, "freshbooks").contains("connect FreshBooks again"),
        "{revoked}"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_token_tests_only_its_own_tenant() {
    let host = crate::admin_api::spawn_admin_host().await;
    let own = test(&host, SHOP, host.token(SHOP)).await;
    assert_eq!(own["tenant"], SHOP);
    let (status, body) = host
        .post(
            &format!("/tenants/{OTHER}/connections/test"),
            host.token(SHOP),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = host
        .post("/tenants/nobody/connections/test", &host.operator)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    host.stop().await;
}
