//! `-c`/`FERRY_CONFIG` name a file that must exist; without them, `./ferry.toml` is read when it is there.

use crate::{ferry, finish, printed};

#[test]
fn a_named_config_file_that_does_not_exist_is_an_error_naming_it_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let out = finish(ferry(dir.path(), &["-c", "typo.toml", "token", "list"]));
    assert!(!out.status.success(), "{}", printed(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("typo.toml") && stderr.contains("does not exist"),
        "{}",
        printed(&out)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("token(s)"),
        "{}",
        printed(&out)
    );
    assert!(
        !dir.path().join("ferry.db").exists(),
        "no database is created for a configuration that was not read"
    );

    let mut cmd = ferry(dir.path(), &["token", "list"]);
    cmd.env("FERRY_CONFIG", dir.path().join("ferrry.toml"));
    let out = finish(cmd);
    assert!(!out.status.success(), "{}", printed(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ferrry.toml"),
        "{}",
        printed(&out)
    );
    assert!(!dir.path().join("ferry.db").exists());
}

#[test]
fn serve_with_a_misspelled_config_path_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("etc").join("ferrry.toml");
    let mut cmd = ferry(dir.path(), &["serve", "-c", missing.to_str().unwrap()]);
    cmd.env("FERRY_LISTEN", "127.0.0.1:0")
        .env("FERRY_MASTER_KEY", master_key());
    let out = finish(cmd);
    assert!(!out.status.success(), "{}", printed(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(missing.to_str().unwrap()),
        "{}",
        printed(&out)
    );
    assert!(!stderr.contains("Ferry is serving."), "{}", printed(&out));
}

#[test]
fn without_a_named_file_a_missing_default_ferry_toml_means_environment_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ferry(dir.path(), &["token", "list"]);
    cmd.env("FERRY_DATABASE", dir.path().join("state.db"));
    let out = finish(cmd);
    assert!(out.status.success(), "{}", printed(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 token(s)"),
        "{}",
        printed(&out)
    );
    assert!(dir.path().join("state.db").exists());
}

#[test]
fn without_a_named_file_the_default_ferry_toml_is_read_when_present() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ferry.toml"),
        "[store]\npath = \"from-default.db\"\n",
    )
    .unwrap();
    let out = finish(ferry(dir.path(), &["token", "list"]));
    assert!(out.status.success(), "{}", printed(&out));
    assert!(
        dir.path().join("from-default.db").exists(),
        "{}",
        printed(&out)
    );
}

/// A master key for the host (what `ferry keygen` prints).
pub(crate) fn master_key() -> String {
    use secrecy::ExposeSecret;
    ferry_secrets::Keyring::generate_encoded()
        .expose_secret()
        .to_owned()
}

/// One `[[tenants]]` block with only the fields that have no default; `{id}`, `{password}` and
/// `{client_secret}` are filled in by [`tenant_block`].
const TENANT_BLOCK: &str = r#"
[[tenants]]
id = "{id}"
webhook_secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
[tenants.kentico]
base_url = "http://127.0.0.1:1"
username = "admin"
password = "{password}"
[tenants.freshbooks]
api_base = "http://127.0.0.1:2"
auth_base = "http://127.0.0.1:2"
account_id = "AbC12"
client_id = "cid"
client_secret = "{client_secret}"
base_currency = "USD"
"#;

pub(crate) fn tenant_block(id: &str, password: &str, client_secret: &str) -> String {
    TENANT_BLOCK
        .replace("{id}", id)
        .replace("{password}", password)
        .replace("{client_secret}", client_secret)
}

/// Runs `ferry -c <dir>/ferry.toml token list` on `toml` and returns its output.
fn token_list_with(toml: &str) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ferry.toml");
    std::fs::write(&path, format!("[store]\npath = \"ferry.db\"\n{toml}")).unwrap();
    let out = finish(ferry(
        dir.path(),
        &["-c", path.to_str().unwrap(), "token", "list"],
    ));
    (dir, out)
}

#[test]
fn a_tenant_id_declared_twice_is_refused_naming_both_blocks() {
    let toml = format!(
        "{}{}{}",
        tenant_block("acme", "pw", "cs"),
        tenant_block("globex", "pw", "cs"),
        tenant_block("acme", "pw2", "cs2")
    );
    let (_dir, out) = token_list_with(&toml);
    assert!(!out.status.success(), "{}", printed(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The blocks start on lines 4, 19 and 34 of the file (after the two [store] lines and a blank line).
    for wanted in ["acme", "tenants[0]", "tenants[2]", "line 4", "line 34"] {
        assert!(stderr.contains(wanted), "{wanted}: {}", printed(&out));
    }
    assert!(!stderr.contains("tenants[1]"), "{}", printed(&out));
}

#[test]
fn an_empty_secret_in_the_file_is_refused_naming_the_field() {
    for (password, client_secret, field) in [
        ("", "cs", "tenants.acme.kentico.password"),
        ("pw", "", "tenants.acme.freshbooks.client_secret"),
        ("pw", "  ", "tenants.acme.freshbooks.client_secret"),
    ] {
        let (_dir, out) = token_list_with(&tenant_block("acme", password, client_secret));
        assert!(!out.status.success(), "{field}: {}", printed(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(field),
            "{field}: {}",
            printed(&out)
        );
    }
    let (_dir, out) = token_list_with(&tenant_block("acme", "pw", "cs"));
    assert!(out.status.success(), "{}", printed(&out));
}
