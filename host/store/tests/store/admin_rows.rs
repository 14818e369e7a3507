//! The admin API's rows on both backends: hashed tokens with scopes and revocation, plugin components by hash
//! with per-tenant versions and one active version per name, the paged event listing, and tenants managed
//! through the API (configuration and sealed secrets).

#![allow(clippy::unwrap_used)]

use ferry_model::{EventEnvelope, EventKind, EventObject, TenantId};
use ferry_store::{EventState, JobId, NewEvent, PluginState, Store, TokenScope};

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

async fn tokens_are_found_by_hash_scoped_and_revocable(store: &Store) -> anyhow::Result<()> {
    let shop = tenant("shop");
    store
        .insert_admin_token("tok_a", "hash-a", &TokenScope::Operator, "ops")
        .await?;
    store
        .insert_admin_token("tok_b", "hash-b", &TokenScope::Tenant(shop.clone()), "shop")
        .await?;
    let a = store.admin_token_by_hash("hash-a").await?.unwrap();
    assert_eq!((a.id.as_str(), &a.scope), ("tok_a", &TokenScope::Operator));
    let b = store.admin_token_by_hash("hash-b").await?.unwrap();
    assert_eq!(b.scope, TokenScope::Tenant(shop));
    assert!(store.admin_token_by_hash("hash-x").await?.is_none());
    assert!(
        store
            .insert_admin_token("tok_c", "hash-a", &TokenScope::Operator, "dup")
            .await
            .is_err(),
        "a hash is unique"
    );
    assert!(store.revoke_admin_token("tok_a").await?);
    assert!(!store.revoke_admin_token("tok_a").await?, "revoked once");
    assert!(store.admin_token_by_hash("hash-a").await?.is_none());
    let all = store.admin_tokens().await?;
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .any(|t| t.id == "tok_a" && t.revoked_at.is_some())
    );
    Ok(())
}

async fn plugin_versions_number_per_name_and_one_is_active(store: &Store) -> anyhow::Result<()> {
    let shop = tenant("shop");
    let other = tenant("other");
    store.put_plugin_blob("h1", b"one").await?;
    store.put_plugin_blob("h1", b"one").await?;
    store.put_plugin_blob("h2", b"two!").await?;
    assert_eq!(store.plugin_blob("h2").await?, b"two!");
    assert!(store.plugin_blob("nope").await.is_err());

    let v1 = store
        .add_plugin_version(&shop, "p", "h1", 3, PluginState::Ready)
        .await?;
    let v2 = store
        .add_plugin_version(&shop, "p", "h2", 4, PluginState::Ready)
        .await?;
    let q1 = store
        .add_plugin_version(&shop, "q", "h1", 3, PluginState::Ready)
        .await?;
    let o1 = store
        .add_plugin_version(&other, "p", "h2", 4, PluginState::Ready)
        .await?;
    assert_eq!(
        (v1.version, v2.version, q1.version, o1.version),
        (1, 2, 1, 1)
    );
    assert!(!v1.active && store.active_plugins(&shop).await?.is_empty());

    store.activate_plugin_version(&shop, "p", 2).await?;
    store.activate_plugin_version(&shop, "q", 1).await?;
    let active = store.active_plugins(&shop).await?;
    let names: Vec<(&str, u32)> = active
        .iter()
        .map(|v| (v.name.as_str(), v.version))
        .collect();
    assert_eq!(names, [("p", 2), ("q", 1)]);
    let back = store.activate_plugin_version(&shop, "p", 1).await?;
    assert!(back.active && back.activated_at.is_some());
    let p: Vec<bool> = store
        .plugin_versions(&shop, Some("p"))
        .await?
        .iter()
        .map(|v| v.active)
        .collect();
    assert_eq!(p, [true, false], "one active version per name");
    assert!(
        store.active_plugins(&other).await?.is_empty(),
        "tenants apart"
    );
    assert!(store.activate_plugin_version(&shop, "p", 9).await.is_err());
    Ok(())
}

async fn uploads_append_to_the_chain_which_reorders_and_carries_settings(
    store: &Store,
) -> anyhow::Result<()> {
    let (shop, other) = (tenant("shop"), tenant("other"));
    let names = |chain: Vec<ferry_store::ChainEntry>| -> Vec<String> {
        chain.into_iter().map(|e| e.name).collect()
    };
    store.put_plugin_blob("h1", b"one").await?;
    store.put_plugin_blob("h2", b"two!").await?;
    store
        .add_plugin_version(&shop, "zeta", "h1", 3, PluginState::Ready)
        .await?;
    store
        .add_plugin_version(&shop, "alpha", "h1", 3, PluginState::Ready)
        .await?;
    store
        .add_plugin_version(&shop, "mid", "h2", 4, PluginState::Ready)
        .await?;
    store
        .add_plugin_version(&other, "alpha", "h2", 4, PluginState::Ready)
        .await?;
    assert_eq!(
        names(store.plugin_chain(&shop).await?),
        ["zeta", "alpha", "mid"],
        "upload order, not name order"
    );
    store
        .add_plugin_version(&shop, "zeta", "h2", 4, PluginState::Ready)
        .await?;
    assert_eq!(
        names(store.plugin_chain(&shop).await?),
        ["zeta", "alpha", "mid"],
        "a new version keeps its place"
    );
    assert_eq!(names(store.plugin_chain(&other).await?), ["alpha"]);

    // Named ones first in the given order; the rest follow in their previous order.
    store
        .reorder_plugin_chain(&shop, &["mid".to_owned(), "zeta".to_owned()])
        .await?;
    let chain = store.plugin_chain(&shop).await?;
    assert_eq!(
        chain
            .iter()
            .map(|e| (e.name.as_str(), e.position))
            .collect::<Vec<_>>(),
        [("mid", 1), ("zeta", 2), ("alpha", 3)]
    );
    assert!(
        store
            .reorder_plugin_chain(&shop, &["alpha".to_owned(), "ghost".to_owned()])
            .await
            .is_err(),
        "a name never uploaded"
    );
    assert_eq!(
        names(store.plugin_chain(&shop).await?),
        ["mid", "zeta", "alpha"],
        "a refused reorder changes nothing"
    );
    assert_eq!(names(store.plugin_chain(&other).await?), ["alpha"]);
    store
        .add_plugin_version(&shop, "late", "h1", 3, PluginState::Ready)
        .await?;
    assert_eq!(
        names(store.plugin_chain(&shop).await?),
        ["mid", "zeta", "alpha", "late"]
    );

    assert!(chain.iter().all(|e| e.settings.is_none()));
    let settings: std::collections::BTreeMap<String, String> =
        [("note-prefix".to_owned(), "Ünïcode \"quoted\"".to_owned())].into();
    store.set_plugin_settings(&shop, "alpha", &settings).await?;
    let chain = store.plugin_chain(&shop).await?;
    let alpha = chain.iter().find(|e| e.name == "alpha").unwrap();
    assert_eq!(alpha.settings.as_ref(), Some(&settings));
    assert!(
        store
            .plugin_chain(&other)
            .await?
            .iter()
            .all(|e| e.settings.is_none()),
        "another tenant's plugin of the same name keeps its own"
    );
    assert!(
        store
            .set_plugin_settings(&shop, "ghost", &settings)
            .await
            .is_err()
    );

    // The snapshot follows the order and settings of the plugins that serve.
    store.activate_plugin_version(&shop, "alpha", 1).await?;
    store.activate_plugin_version(&shop, "zeta", 2).await?;
    let before = store.config_snapshot().await?;
    assert_eq!(
        before.plugin_chain[&shop]
            .iter()
            .map(|(n, _, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["zeta", "alpha"]
    );
    store
        .reorder_plugin_chain(&shop, &["alpha".to_owned(), "zeta".to_owned()])
        .await?;
    let reordered = store.config_snapshot().await?;
    assert!(!reordered.same_for(&before, &shop));
    store
        .set_plugin_settings(&shop, "zeta", &Default::default())
        .await?;
    let set = store.config_snapshot().await?;
    assert!(!set.same_for(&reordered, &shop));

    // Deactivation: no active version, place and settings kept.
    store.deactivate_plugin(&shop, "alpha").await?;
    assert!(
        store.deactivate_plugin(&shop, "alpha").await.is_err(),
        "once"
    );
    assert!(
        store
            .active_plugins(&shop)
            .await?
            .iter()
            .all(|v| v.name != "alpha")
    );
    let off = store.config_snapshot().await?;
    assert!(!off.same_for(&set, &shop));
    let chain = store.plugin_chain(&shop).await?;
    assert_eq!(chain[0].name, "alpha");
    assert_eq!(chain[0].settings.as_ref(), Some(&settings));
    Ok(())
}

async fn events_page_newest_first_by_state(store: &Store) -> anyhow::Result<()> {
    let shop = tenant("shop");
    for i in 0..5 {
        let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let envelope = EventEnvelope {
            id: format!("evt_{i}"),
            kind: EventKind::OrderUpdated,
            occurred_at: at,
            object: EventObject {
                object_type: "ecommerce.order".to_owned(),
                id: i,
                guid: uuid::Uuid::new_v4(),
                last_modified: at,
            },
        };
        store
            .insert_event(&NewEvent::from_envelope(shop.clone(), envelope))
            .await?;
    }
    let page = store.events_page(&shop, None, None, 2).await?;
    assert_eq!(page.len(), 2);
    assert!(page[0].job > page[1].job, "newest first");
    let next = store
        .events_page(&shop, None, Some(page[1].job), 10)
        .await?;
    assert_eq!(next.len(), 3);
    assert!(next.iter().all(|e| e.job < page[1].job));
    let queued = store
        .events_page(&shop, Some(EventState::Queued), None, 10)
        .await?;
    assert_eq!(queued.len(), 5);
    assert!(
        store
            .events_page(&shop, Some(EventState::Dead), None, 10)
            .await?
            .is_empty()
    );
    assert!(
        store
            .events_page(&tenant("other"), None, None, 10)
            .await?
            .is_empty()
    );
    assert!(
        store
            .events_page(&shop, None, Some(JobId(1)), 10)
            .await?
            .is_empty()
    );
    Ok(())
}

async fn tenant_configs_insert_once_replace_and_delete(store: &Store) -> anyhow::Result<()> {
    let acme = tenant("acme");
    let beta = tenant("beta");
    assert!(store.tenant_configs().await?.is_empty());
    assert!(
        store
            .insert_tenant_config(&beta, "{\"id\":\"beta\"}", b"sealed-b")
            .await?
    );
    assert!(
        store
            .insert_tenant_config(&acme, "{\"id\":\"acme\"}", b"sealed-1")
            .await?
    );
    assert!(
        !store.insert_tenant_config(&acme, "{}", b"other").await?,
        "an id is stored once"
    );
    let all = store.tenant_configs().await?;
    let ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["acme", "beta"]);
    assert_eq!(all[0].sealed_secrets, b"sealed-1");
    assert!(
        store
            .replace_tenant_config(&acme, "{\"v\":2}", b"sealed-2")
            .await?
    );
    let got = store.tenant_config(&acme).await?.unwrap();
    assert_eq!(
        (got.config.as_str(), got.sealed_secrets.as_slice()),
        ("{\"v\":2}", &b"sealed-2"[..])
    );
    assert!(got.updated_at >= got.created_at);
    assert!(
        !store
            .replace_tenant_config(&tenant("nope"), "{}", b"x")
            .await?
    );
    store
        .insert_admin_token(
            "tok_acme",
            "hash-acme",
            &TokenScope::Tenant(acme.clone()),
            "a",
        )
        .await?;
    store
        .insert_admin_token(
            "tok_beta",
            "hash-beta",
            &TokenScope::Tenant(beta.clone()),
            "b",
        )
        .await?;
    assert_eq!(store.delete_tenant_config(&acme).await?, Some(1));
    assert!(
        store.admin_token_by_hash("hash-acme").await?.is_none(),
        "the deleted tenant's token is revoked with it"
    );
    assert!(store.admin_token_by_hash("hash-beta").await?.is_some());
    assert_eq!(
        store.delete_tenant_config(&acme).await?,
        None,
        "deleted once"
    );
    assert!(store.tenant_config(&acme).await?.is_none());
    assert_eq!(store.tenant_configs().await?.len(), 1);
    Ok(())
}

/// What another host compares: every write of a tenant row shows, even a delete and re-create of the same
/// content, and so does every change of a tenant's active plugin versions; reads change nothing.
async fn the_config_snapshot_changes_with_every_tenant_write_and_activation(
    store: &Store,
) -> anyhow::Result<()> {
    let (acme, shop) = (tenant("acme"), tenant("shop"));
    let empty = store.config_snapshot().await?;
    assert!(empty.tenants().next().is_none());
    store.insert_tenant_config(&acme, "{}", b"s").await?;
    let created = store.config_snapshot().await?;
    assert!(!created.same_for(&empty, &acme));
    assert_eq!(
        store.config_snapshot().await?,
        created,
        "reading changes nothing"
    );

    store.replace_tenant_config(&acme, "{}", b"s").await?;
    let replaced = store.config_snapshot().await?;
    assert!(
        !replaced.same_for(&created, &acme),
        "same bytes, still a write"
    );
    store.delete_tenant_config(&acme).await?;
    store.insert_tenant_config(&acme, "{}", b"s").await?;
    let recreated = store.config_snapshot().await?;
    let row = store.tenant_config(&acme).await?.unwrap();
    assert!(!store.reseal_tenant_secrets(&acme, b"other", b"s2").await?);
    assert!(
        store
            .reseal_tenant_secrets(&acme, &row.sealed_secrets, b"s2")
            .await?
    );
    assert_eq!(
        store.tenant_config(&acme).await?.unwrap().sealed_secrets,
        b"s2"
    );
    assert_eq!(
        store.config_snapshot().await?,
        recreated,
        "re-sealing is not a change to serve"
    );
    assert!(
        !recreated.same_for(&replaced, &acme),
        "deleted and created again"
    );
    assert!(recreated.same_for(&replaced, &shop), "shop has nothing");

    store.put_plugin_blob("h1", b"one").await?;
    store
        .add_plugin_version(&shop, "p", "h1", 3, PluginState::Ready)
        .await?;
    store
        .add_plugin_version(&shop, "p", "h1", 3, PluginState::Ready)
        .await?;
    assert!(
        store.config_snapshot().await?.same_for(&recreated, &shop),
        "an upload without activation serves nothing new"
    );
    store.activate_plugin_version(&shop, "p", 2).await?;
    let v2 = store.config_snapshot().await?;
    assert_eq!(v2.active_plugins[&shop], [("p".to_owned(), 2)]);
    assert!(v2.same_for(&recreated, &acme) && !v2.same_for(&recreated, &shop));
    store.activate_plugin_version(&shop, "p", 1).await?;
    let v1 = store.config_snapshot().await?;
    assert_eq!(v1.active_plugins[&shop], [("p".to_owned(), 1)]);
    Ok(())
}

async fn a_compile_outcome_reaches_every_version_of_its_hash(store: &Store) -> anyhow::Result<()> {
    let (shop, other) = (tenant("shop"), tenant("other"));
    store.put_plugin_blob("big", b"js engine").await?;
    store.put_plugin_blob("bad", b"broken").await?;
    let v = store
        .add_plugin_version(&shop, "js", "big", 9, PluginState::Compiling)
        .await?;
    assert_eq!(
        (v.state, v.reason.as_deref()),
        (PluginState::Compiling, None)
    );
    store
        .add_plugin_version(&other, "js", "big", 9, PluginState::Compiling)
        .await?;
    store
        .add_plugin_version(&shop, "broken", "bad", 6, PluginState::Compiling)
        .await?;
    store.activate_plugin_when_ready(&shop, "js", 1).await?;
    store.activate_plugin_when_ready(&shop, "broken", 1).await?;

    let compiling: Vec<(String, String)> = store
        .compiling_plugin_versions()
        .await?
        .into_iter()
        .map(|v| (v.tenant.to_string(), v.name))
        .collect();
    assert_eq!(compiling.len(), 3, "{compiling:?}");

    // One compile, every tenant's version of those bytes.
    let done = store.finish_plugin_compile("big", Ok(())).await?;
    let asked: Vec<(String, bool)> = done
        .iter()
        .map(|v| (v.tenant.to_string(), v.activate_when_ready))
        .collect();
    assert_eq!(
        asked,
        [("other".to_owned(), false), ("shop".to_owned(), true)]
    );
    assert!(done.iter().all(|v| v.state == PluginState::Ready));
    let stored = store.plugin_version(&shop, "js", 1).await?;
    assert_eq!(stored.state, PluginState::Ready);
    assert!(!stored.activate_when_ready, "the request was taken");
    assert!(
        store.finish_plugin_compile("big", Ok(())).await?.is_empty(),
        "a second outcome changes nothing"
    );

    let failed = store
        .finish_plugin_compile("bad", Err("link: hook map-item has the wrong type"))
        .await?;
    assert_eq!(failed.len(), 1);
    let stored = store.plugin_version(&shop, "broken", 1).await?;
    assert_eq!(stored.state, PluginState::Failed);
    assert_eq!(
        stored.reason.as_deref(),
        Some("link: hook map-item has the wrong type")
    );
    assert!(store.compiling_plugin_versions().await?.is_empty());
    // Asking for activation of a version no longer compiling leaves it alone.
    store.activate_plugin_when_ready(&shop, "broken", 1).await?;
    assert!(
        !store
            .plugin_version(&shop, "broken", 1)
            .await?
            .activate_when_ready
    );
    Ok(())
}

rows_on_both_backends!(admin_rows:
    tokens_are_found_by_hash_scoped_and_revocable,
    plugin_versions_number_per_name_and_one_is_active,
    events_page_newest_first_by_state,
    tenant_configs_insert_once_replace_and_delete,
    the_config_snapshot_changes_with_every_tenant_write_and_activation,
    uploads_append_to_the_chain_which_reorders_and_carries_settings,
    a_compile_outcome_reaches_every_version_of_its_hash,
);
