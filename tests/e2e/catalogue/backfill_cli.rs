//! `ferry tenant backfill --catalogue` as an operator runs it: the binary (`ferry-under-test`) against a running
//! host and the simulators. With `--wait` it returns once every SKU of the tenant's catalogue is one FreshBooks item
//! with Kentico's name and stock; run again, it enqueues nothing and FreshBooks gains no item.

use super::{catalogue_app, code, items_with_sku};
use ferry_tests::TestApp;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-under-test");

/// Runs `ferry tenant backfill <tenant> --catalogue <extra>` with the tenant's admin token, from the test's directory
/// (no `ferry.toml` there: the command needs only `--url` and `--token`); its stdout.
async fn backfill(app: &TestApp, extra: &[&str]) -> anyhow::Result<String> {
    let tenant = app.tenant.to_string();
    let args = [
        &["tenant", "backfill", tenant.as_str(), "--catalogue"][..],
        extra,
        &[
            "--url",
            app.host_url.as_str(),
            "--token",
            app.token(&tenant),
        ],
    ]
    .concat();
    let out = ferry_tests::process::cli(BIN, &args)
        .current_dir(app.dir.path())
        .output()
        .await?;
    let stdout = String::from_utf8(out.stdout)?;
    anyhow::ensure!(
        out.status.success(),
        "ferry {args:?}: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_backfill_catalogue_makes_one_item_per_sku_and_nothing_more_when_run_again()
-> anyhow::Result<()> {
    let app = catalogue_app(64).await?;
    let skus = app.sandbox.kentico.catalogue();
    let account = app.sandbox.account_id.clone();
    assert!(
        app.sandbox.freshbooks.items(&account).is_empty(),
        "a new tenant's FreshBooks has no items"
    );

    let printed = backfill(&app, &["--wait"]).await?;
    let (answer, summary) = printed
        .rsplit_once("}\n")
        .ok_or_else(|| anyhow::anyhow!("no answer in {printed}"))?;
    let answer: Value = serde_json::from_str(&format!("{answer}}}"))?;
    assert_eq!(answer["catalogue"]["seen"], skus.len(), "{printed}");
    assert!(
        summary.contains("0 of them dead-lettered; backlog empty"),
        "{printed}"
    );
    // When the command returns, FreshBooks holds one item per SKU, as Kentico has it.
    for s in &skus {
        let items = items_with_sku(&app, &code(s));
        assert_eq!(items.len(), 1, "one item for SKU {}: {items:?}", code(s));
        assert_eq!(items[0].name, s.name);
        assert_eq!(
            items[0].inventory.as_deref(),
            Some(s.available_items.to_string().as_str()),
            "stock of {}",
            code(s)
        );
    }
    let items = app.sandbox.freshbooks.items(&account).len();
    assert_eq!(items, skus.len(), "no item besides the catalogue's");
    let creates = |app: &TestApp| {
        app.sandbox
            .freshbooks
            .request_counts()
            .iter()
            .filter(|(kind, _)| kind.starts_with("POST") && kind.contains("items"))
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    let created = creates(&app);

    // Again: everything is covered, nothing is enqueued or created.
    let again: Value = serde_json::from_str(&backfill(&app, &[]).await?)?;
    assert_eq!(again["catalogue"]["seen"], skus.len(), "{again}");
    assert_eq!(again["catalogue"]["enqueued"], 0, "{again}");
    assert_eq!(app.sandbox.freshbooks.items(&account).len(), items);
    assert_eq!(creates(&app), created, "no item create was even tried");
    app.stop().await;
    Ok(())
}
