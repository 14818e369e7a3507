//! `ferry config check [PATH]`: what an operator runs before starting or restarting a host. It must accept what
//! `ferry serve` accepts, name every problem it can find at once, say what would be served, and leave no file
//! behind.

use crate::config_file::{master_key, tenant_block};
use crate::{ferry, finish, printed};
use std::path::Path;

/// Runs `ferry config check <dir>/ferry.toml` on `toml` (with a master key in the environment) and returns its
/// output.
fn check(dir: &Path, toml: &str) -> std::process::Output {
    let path = dir.join("ferry.toml");
    std::fs::write(&path, toml).unwrap();
    let mut cmd = ferry(dir, &["config", "check", path.to_str().unwrap()]);
    cmd.env("FERRY_MASTER_KEY", master_key());
    finish(cmd)
}

#[test]
fn a_valid_file_is_ok_and_says_what_would_be_served_without_creating_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:8181\"\n[store]\npath = \"state/ferry.db\"\n{}{}",
        tenant_block("acme", "pw", "cs"),
        tenant_block("globex", "pw", "cs")
    );
    let out = check(dir.path(), &toml);
    assert!(out.status.success(), "{}", printed(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for wanted in [
        "listen: http://127.0.0.1:8181",
        "state/ferry.db (does not exist yet",
        "2 from the file",
        "acme (file)",
        "globex (file)",
        "ferry.toml: ok",
    ] {
        assert!(stdout.contains(wanted), "{wanted}: {}", printed(&out));
    }
    assert!(
        !stdout.contains("pw") && !stdout.contains("whsec_"),
        "no secret is printed: {}",
        printed(&out)
    );
    assert!(
        !dir.path().join("state").exists(),
        "checking creates no database"
    );
}

#[test]
fn every_bad_section_and_tenant_block_is_named_not_only_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[server]\nlisten = \"localhost\"\n[store]\npth = \"x.db\"\n{}[[tenants]]\nid = \"globex\"\n",
        tenant_block("acme", "pw", "cs").replace("username = \"admin\"", "user = \"admin\"")
    );
    let out = check(dir.path(), &toml);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for wanted in [
        "4 problem(s)",
        "server.listen",
        "store",
        "pth",
        "tenants[0] (acme).kentico",
        "user",
        "tenants[1] (globex)",
        "missing field `kentico`",
    ] {
        assert!(stderr.contains(wanted), "{wanted}: {}", printed(&out));
    }
}

#[test]
fn every_tenant_that_fails_validation_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "{}{}{}",
        tenant_block("acme", "", "cs"),
        tenant_block("globex", "pw", "cs")
            .replace("base_currency = \"USD\"", "base_currency = \"usd!\""),
        tenant_block("acme", "pw", "cs"),
    );
    let out = check(dir.path(), &toml);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for wanted in [
        "tenants.acme.kentico.password",
        "tenants.globex.freshbooks.base_currency",
        "tenant id acme is declared twice",
    ] {
        assert!(stderr.contains(wanted), "{wanted}: {}", printed(&out));
    }
}

#[test]
fn a_missing_master_key_and_a_missing_plugin_file_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ferry.toml");
    let toml = format!(
        "[secrets]\nkey_file = \"nowhere.key\"\n{}[[tenants.plugins]]\npath = \"plugins/gone.wasm\"\n",
        tenant_block("acme", "pw", "cs")
    );
    std::fs::write(&path, toml).unwrap();
    let out = finish(ferry(
        dir.path(),
        &["config", "check", path.to_str().unwrap()],
    ));
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for wanted in ["nowhere.key", "tenants.acme.plugins[0].path", "gone.wasm"] {
        assert!(stderr.contains(wanted), "{wanted}: {}", printed(&out));
    }
}

#[test]
fn an_existing_store_is_opened_and_its_tenants_counted() {
    let dir = tempfile::tempdir().unwrap();
    // `ferry token list` creates the store, as a host's first start does.
    let mut cmd = ferry(dir.path(), &["token", "list"]);
    cmd.env("FERRY_DATABASE", dir.path().join("ferry.db"));
    let out = finish(cmd);
    assert!(out.status.success(), "{}", printed(&out));
    let out = check(
        dir.path(),
        &format!(
            "[store]\npath = \"ferry.db\"\n{}",
            tenant_block("acme", "pw", "cs")
        ),
    );
    assert!(out.status.success(), "{}", printed(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("store: SQLite ferry.db\n") && stdout.contains("0 stored in the database"),
        "{}",
        printed(&out)
    );
}

#[test]
fn a_file_that_does_not_exist_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = finish(ferry(dir.path(), &["config", "check", "etc/ferrry.toml"]));
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("etc/ferrry.toml"),
        "{}",
        printed(&out)
    );
}
