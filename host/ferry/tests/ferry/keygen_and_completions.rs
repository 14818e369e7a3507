//! `ferry keygen --out` (a master key file only its owner can read, never overwritten by accident) and
//! `ferry completions` (scripts the shells load).

use crate::{ferry, finish, printed};
use std::os::unix::fs::PermissionsExt as _;

#[test]
fn keygen_out_writes_a_key_file_readable_only_by_its_owner_that_the_host_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = finish(ferry(dir.path(), &["keygen", "--out", "master.key"]));
    assert!(out.status.success(), "{}", printed(&out));
    let key_path = dir.path().join("master.key");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let key = std::fs::read_to_string(&key_path).unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(key.trim()),
        "the key is not printed: {}",
        printed(&out)
    );
    // The host opens it as its master key.
    std::fs::write(
        dir.path().join("ferry.toml"),
        "[secrets]\nkey_file = \"master.key\"\n",
    )
    .unwrap();
    let out = finish(ferry(dir.path(), &["config", "check", "ferry.toml"]));
    assert!(out.status.success(), "{}", printed(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("secrets.key_file master.key"),
        "{}",
        printed(&out)
    );
}

#[test]
fn keygen_refuses_to_overwrite_a_key_file_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("master.key");
    std::fs::write(&key_path, "the key secrets are sealed with\n").unwrap();
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let out = finish(ferry(dir.path(), &["keygen", "--out", "master.key"]));
    assert!(!out.status.success(), "{}", printed(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("master.key") && stderr.contains("--force"),
        "{}",
        printed(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&key_path).unwrap(),
        "the key secrets are sealed with\n"
    );

    let out = finish(ferry(
        dir.path(),
        &["keygen", "--out", "master.key", "--force"],
    ));
    assert!(out.status.success(), "{}", printed(&out));
    let key = std::fs::read_to_string(&key_path).unwrap();
    assert_ne!(key, "the key secrets are sealed with\n");
    assert_eq!(key.trim().len(), 64, "a 32-byte hex key: {key:?}");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "a forced key file is 0600 too: {mode:o}"
    );
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish_with_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _ferry"),
        ("zsh", "#compdef ferry"),
        ("fish", "complete -c ferry"),
    ] {
        // Read while it runs (`finish` polls, and a script larger than the pipe would block the child).
        let out = ferry(dir.path(), &["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", printed(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {}", printed(&out));
        for sub in ["serve", "keygen", "config", "dlq", "tenant"] {
            assert!(script.contains(sub), "{shell} lacks {sub}");
        }
    }
    let out = finish(ferry(dir.path(), &["completions", "powershell7"]));
    assert!(!out.status.success(), "{}", printed(&out));
}

/// Output into a pipe whose reader has gone (`ferry … | head`, `grep -q`) ends the command quietly and
/// successfully, as other Unix tools do, not with a "Broken pipe" error and a backtrace.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = ferry(dir.path(), &["completions", "bash"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "{stderr}");
}
