//! The `ferry` binary (`ferry-under-test`, the same `ferry::cli::run`) works for a tenant stored in the database
//! as for one in the file: after `ferry tenant add shop.toml`, `ferry token create --tenant shop` and `ferry
//! connect freshbooks shop` and `ferry plugin test --tenant shop` find it, with the operator's configuration file
//! naming no tenant at all.

use crate::admin_api::{OTHER, SHOP, spawn_admin_host_with};
use ferry_tests::TestApp;
use secrecy::ExposeSecret;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_ferry-under-test");

/// `ferry-under-test -c <config> <args>`, without the caller's `FERRY_*` variables.
fn ferry(config: &Path, args: &[&str]) -> tokio::process::Command {
    let config = config.display().to_string();
    ferry_tests::process::cli(BIN, &[&["-c", config.as_str()][..], args].concat())
}

/// Runs the command to the end; panics with its output unless it succeeded. Returns stdout.
async fn succeed(mut cmd: tokio::process::Command) -> String {
    let out = cmd.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The operator's `ferry.toml`: the host's store and master key, and no `[[tenants]]`.
fn operator_config(host: &TestApp) -> PathBuf {
    let path = host.dir.path().join("operator.toml");
    let toml = format!(
        "[store]\npath = {:?}\n\n[secrets]\nmaster_keys = [{:?}]\n",
        host.config.store.path.display().to_string(),
        host.config.secrets.master_keys[0].expose_secret()
    );
    std::fs::write(&path, toml).unwrap();
    path
}

fn free_port() -> u16 {
    ferry_tests::process::free_port().expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_connect_and_plugin_test_work_for_a_tenant_added_with_tenant_add() {
    let host = spawn_admin_host_with(|c| c.tenants.retain(|t| t.id.as_str() != SHOP)).await;
    let config = operator_config(&host);
    let other = host
        .config
        .tenants
        .iter()
        .find(|t| t.id.as_str() == OTHER)
        .unwrap();
    let mut shop = ferry::sandbox::Sandbox::tenant_request(other);
    shop["id"] = json!(SHOP);
    let redirect = format!("http://127.0.0.1:{}/oauth/callback", free_port());
    shop["freshbooks"]["redirect_uri"] = json!(redirect);
    let shop_toml = host.dir.path().join("shop.toml");
    std::fs::write(&shop_toml, toml::to_string(&shop).unwrap()).unwrap();

    let api = [
        "--url",
        host.host_url.as_str(),
        "--token",
        host.operator.as_str(),
    ];
    let added = succeed(ferry(
        &config,
        &[&["tenant", "add", shop_toml.to_str().unwrap()][..], &api].concat(),
    ))
    .await;
    assert!(added.contains("\"database\""), "{added}");

    let printed = succeed(ferry(
        &config,
        &["token", "create", "--tenant", SHOP, "--label", "shop ops"],
    ))
    .await;
    let token = printed.lines().next().unwrap();
    let (status, me) = host.get("/whoami", token).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{me}");
    assert_eq!(me["tenant"], SHOP);

    let mut connect = ferry(
        &config,
        &["connect", "freshbooks", SHOP, "--timeout-secs", "60"],
    );
    let mut child = connect
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.starts_with("http") {
            url = Some(line);
            break;
        }
    }
    let Some(url) = url else {
        let out = child.wait_with_output().await.unwrap();
        panic!(
            "connect printed no URL: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // The simulator approves at once and redirects the "browser" to the command's listener.
    let page = reqwest::get(&url).await.unwrap();
    assert!(page.status().is_success());
    let mut rest = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push_str(&line);
        rest.push('\n');
    }
    let status = child.wait().await.unwrap();
    assert!(status.success(), "{status}: {rest}");
    assert!(rest.contains("connected tenant shop"), "{rest}");
    let account = shop["freshbooks"]["account_id"].as_str().unwrap();
    let id = ferry_model::TenantId::parse(SHOP).unwrap();
    assert!(
        host.store.tokens(&id, account).await.unwrap().is_some(),
        "the tokens are stored for the stored tenant"
    );

    // `plugin test --tenant` takes the stored tenant's mapping.
    ferry_transform::artifacts::ensure_built().unwrap();
    let wasm = ferry_transform::artifacts::wasm_path("custom-fields");
    let order = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/sample-order.json");
    let report = succeed(ferry(
        &config,
        &[
            "plugin",
            "test",
            wasm.to_str().unwrap(),
            "--order",
            order,
            "--tenant",
            SHOP,
        ],
    ))
    .await;
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["plugin"], "custom_fields", "{report}");
    host.stop().await;
}
