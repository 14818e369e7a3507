//! What the web console reads and keeps, on both backends: sessions tied to a live admin token, every tenant's
//! activity at once, the filtered run history, dead letters found by order number, usage per tenant and day, and
//! the tenants' plugin log.

#![allow(clippy::unwrap_used)]

use ferry_model::{Decimal, ErrorClass, EventEnvelope, EventKind, EventObject, TenantId};
use ferry_store::{
    ClaimRequest, DeadLetterFilter, EventFilter, EventState, EventTag, JobId, NewEvent,
    NewPluginLogLine, Outcome, Store, SyncedOrder, TokenScope, UsageCounts, UsageDay,
};
use std::time::Duration;
use time::OffsetDateTime;

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

/// A synced order of 10.00 EUR.
fn synced_order(guid: &str) -> SyncedOrder {
    SyncedOrder {
        order_guid: guid.to_owned(),
        currency: "EUR".to_owned(),
        total: Decimal::new(1000, 2),
        max_quantity: 1,
        customer: "c".to_owned(),
        country: "DE".to_owned(),
    }
}

async fn insert(store: &Store, tenant: &TenantId, id: i64) {
    let at = OffsetDateTime::now_utc();
    let envelope = EventEnvelope {
        id: format!("evt_{tenant}_{id}"),
        kind: EventKind::OrderUpdated,
        occurred_at: at,
        object: EventObject {
            object_type: "ecommerce.order".to_owned(),
            id,
            guid: uuid::Uuid::new_v4(),
            last_modified: at,
        },
    };
    store
        .insert_event(&NewEvent::from_envelope(tenant.clone(), envelope))
        .await
        .unwrap();
}

async fn sessions_speak_for_a_live_token_until_they_expire_or_end(
    store: &Store,
) -> anyhow::Result<()> {
    store
        .insert_admin_token("tok_s", "hash-s", &TokenScope::Tenant(tenant("shop")), "s")
        .await?;
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    store
        .create_console_session("sess-1", "tok_s", "csrf-1", later)
        .await?;
    store
        .create_console_session(
            "sess-old",
            "tok_s",
            "csrf-2",
            OffsetDateTime::now_utc() - time::Duration::seconds(1),
        )
        .await?;
    let s = store.console_session("sess-1").await?.unwrap();
    assert_eq!((s.token.id.as_str(), s.csrf.as_str()), ("tok_s", "csrf-1"));
    assert_eq!(s.token.scope, TokenScope::Tenant(tenant("shop")));
    assert!(
        store.console_session("sess-old").await?.is_none(),
        "expired"
    );
    assert!(store.console_session("nope").await?.is_none());
    assert!(
        store
            .create_console_session("sess-x", "tok_unknown", "c", later)
            .await
            .is_err(),
        "a session needs a stored token"
    );

    store.delete_console_session("sess-1").await?;
    assert!(
        store.console_session("sess-1").await?.is_none(),
        "signed out"
    );
    store
        .create_console_session("sess-2", "tok_s", "csrf-3", later)
        .await?;
    assert!(store.revoke_admin_token("tok_s").await?);
    assert!(
        store.console_session("sess-2").await?.is_none(),
        "a revoked token's sessions end at once"
    );
    Ok(())
}

async fn activity_counts_every_tenant_at_once(store: &Store) -> anyhow::Result<()> {
    let (shop, other) = (tenant("shop"), tenant("other"));
    let before = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    for id in 1..=4 {
        insert(store, &shop, id).await;
    }
    insert(store, &other, 1).await;
    // shop: one done with an order and invoice, one dead, two waiting.
    let claimed = store
        .claim(&ClaimRequest::new("w", Duration::from_secs(30), 5))
        .await?;
    assert_eq!(claimed.len(), 5, "{claimed:?}");
    let shop_claims: Vec<_> = claimed.iter().filter(|c| c.event.tenant == shop).collect();
    store
        .complete(
            &shop_claims[0].lease,
            &Outcome {
                freshbooks: serde_json::json!({ "invoice_id": 77 }),
                order_number: Some("1001".to_owned()),
                invoice_id: Some("77".to_owned()),
            },
        )
        .await?;
    store
        .dead_letter(
            &shop_claims[1].lease,
            "FreshBooks answered 422",
            ErrorClass::Upstream,
        )
        .await?;
    for c in claimed
        .iter()
        .filter(|c| c.event.tenant != shop)
        .chain(shop_claims[2..].iter().copied())
    {
        store
            .retry(&c.lease, Duration::from_secs(60), "Kentico timed out")
            .await?;
    }
    store
        .record_synced_order(&shop, &synced_order("g1"))
        .await?;

    let day = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let activity = store
        .tenant_activity(day, day - time::Duration::days(10))
        .await?;
    let a = &activity[&shop];
    assert_eq!((a.backlog, a.dead_letters), (2, 1), "{a:?}");
    assert!(a.oldest_waiting.is_some_and(|t| t >= before), "{a:?}");
    assert_eq!((a.synced_today, a.synced_this_month), (1, 1));
    assert!(a.last_success.is_some());
    assert!(
        a.last_error
            .as_ref()
            .is_some_and(|(_, e)| e == "Kentico timed out"),
        "the newest standing failure (a retrying event's): {a:?}"
    );
    // A day that starts later counts nothing synced today, but the month still does.
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let a = store.tenant_activity(later, day).await?[&shop].clone();
    assert_eq!((a.synced_today, a.synced_this_month), (0, 1));
    let o = &activity[&other];
    assert_eq!(
        (o.backlog, o.dead_letters, o.synced_today),
        (1, 0, 0),
        "{o:?}"
    );
    assert!(o.disconnected.is_none() && o.token_accounts.is_empty());
    store
        .mark_disconnected(&other, "acct", "digest", "invalid_grant")
        .await?;
    let o = store.tenant_activity(day, day).await?[&other].clone();
    assert_eq!(o.disconnected.unwrap().reason, "invalid_grant");

    // Run history search: each filter narrows, paging goes older.
    let all = store
        .search_events(&shop, &EventFilter::default(), None, 10)
        .await?;
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].job > w[1].job), "newest first");
    let by_order = EventFilter {
        order_number: Some("1001".to_owned()),
        ..EventFilter::default()
    };
    let found = store.search_events(&shop, &by_order, None, 10).await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].invoice_id.as_deref(), Some("77"));
    let by_invoice = EventFilter {
        invoice_id: Some("77".to_owned()),
        state: Some(EventState::Done),
        ..EventFilter::default()
    };
    assert_eq!(
        store
            .search_events(&shop, &by_invoice, None, 10)
            .await?
            .len(),
        1
    );
    assert!(
        store
            .search_events(&other, &by_order, None, 10)
            .await?
            .is_empty(),
        "another tenant's order is not found"
    );
    let dead = EventFilter {
        state: Some(EventState::Dead),
        ..EventFilter::default()
    };
    assert_eq!(store.search_events(&shop, &dead, None, 10).await?.len(), 1);
    let upstream = EventFilter {
        class: Some(ErrorClass::Upstream),
        ..EventFilter::default()
    };
    assert_eq!(
        store.search_events(&shop, &upstream, None, 10).await?.len(),
        1
    );
    let plugin = EventFilter {
        class: Some(ErrorClass::Plugin),
        ..EventFilter::default()
    };
    assert!(
        store
            .search_events(&shop, &plugin, None, 10)
            .await?
            .is_empty()
    );
    assert_eq!(
        store.dead_letter_classes(&shop).await?,
        vec![(Some(ErrorClass::Upstream), 1)]
    );
    assert!(store.dead_letter_classes(&other).await?.is_empty());
    let future = EventFilter {
        from: Some(later),
        ..EventFilter::default()
    };
    assert!(
        store
            .search_events(&shop, &future, None, 10)
            .await?
            .is_empty()
    );
    let past = EventFilter {
        until: Some(before),
        ..EventFilter::default()
    };
    assert!(
        store
            .search_events(&shop, &past, None, 10)
            .await?
            .is_empty()
    );
    let page = store
        .search_events(&shop, &EventFilter::default(), None, 3)
        .await?;
    let rest = store
        .search_events(&shop, &EventFilter::default(), Some(page[2].job), 3)
        .await?;
    assert_eq!((page.len(), rest.len()), (3, 1));
    Ok(())
}

async fn usage_adds_up_per_tenant_and_day_and_an_order_counts_once(
    store: &Store,
) -> anyhow::Result<()> {
    let (shop, other) = (tenant("shop"), tenant("other"));
    let today = OffsetDateTime::now_utc().date();
    let yesterday = today.previous_day().unwrap();
    let calls = |fb, kentico| UsageCounts {
        freshbooks_calls: fb,
        kentico_calls: kentico,
        ..UsageCounts::default()
    };
    let day = |t: &TenantId, day, counts| UsageDay {
        tenant: t.clone(),
        day,
        counts,
    };
    // Two flushes (two hosts, or one host twice) add up; nothing is overwritten.
    store
        .add_usage(&[
            day(&shop, yesterday, calls(5, 7)),
            day(&other, today, calls(1, 0)),
        ])
        .await?;
    store
        .add_usage(&[day(&shop, yesterday, calls(2, 1))])
        .await?;
    store.add_usage(&[]).await?;
    // An order counts on its first sync only, however often it is recorded again.
    let order = synced_order("g1");
    assert!(
        store.record_synced_order(&shop, &order).await?,
        "first sync"
    );
    assert!(!store.record_synced_order(&shop, &order).await?, "an edit");

    let rows = store.usage(None, yesterday, today).await?;
    let seen: Vec<(&str, time::Date, UsageCounts)> = rows
        .iter()
        .map(|r| (r.tenant.as_str(), r.day, r.counts))
        .collect();
    let orders = UsageCounts {
        orders_synced: 1,
        ..UsageCounts::default()
    };
    assert_eq!(
        seen,
        [
            ("other", today, calls(1, 0)),
            ("shop", yesterday, calls(7, 8)),
            ("shop", today, orders),
        ]
    );
    assert_eq!(store.usage(Some(&shop), today, today).await?.len(), 1);
    assert!(store.usage(Some(&shop), yesterday, yesterday).await?[0].counts == calls(7, 8));
    Ok(())
}

async fn an_event_tagged_with_its_order_number_is_found_dead(store: &Store) -> anyhow::Result<()> {
    let shop = tenant("shop");
    insert(store, &shop, 1).await;
    insert(store, &shop, 2).await;
    let claimed = store
        .claim(&ClaimRequest::new("w", Duration::from_secs(30), 5))
        .await?;
    assert_eq!(claimed.len(), 2);
    store
        .tag_event(&claimed[0].lease, EventTag::OrderNumber("1001"))
        .await?;
    for c in &claimed {
        store
            .dead_letter(&c.lease, "order is invalid", ErrorClass::Validation)
            .await?;
    }
    let by_number = |n: &str| DeadLetterFilter {
        tenant: Some(shop.clone()),
        class: None,
        order_number: Some(n.to_owned()),
    };
    let found = store.dead_letters_matching(&by_number("1001"), 10).await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].job, claimed[0].lease.job);
    assert_eq!(found[0].order_number.as_deref(), Some("1001"));
    assert_eq!(store.find_by_order_number(&shop, "1001").await?.len(), 1);
    assert!(
        store
            .dead_letters_matching(&by_number("1002"), 10)
            .await?
            .is_empty()
    );
    // A bulk action under an order filter takes that order's dead letters only.
    assert_eq!(
        store
            .replay_matching(&by_number("1001"), "replayed")
            .await?,
        1
    );
    assert_eq!(store.dead_letters(Some(&shop), 10).await?.len(), 1);
    Ok(())
}

/// A plugin log line of `tenant` for event `job`.
fn log_line(tenant: &TenantId, plugin: &str, job: i64, message: &str) -> NewPluginLogLine {
    NewPluginLogLine {
        tenant: tenant.clone(),
        plugin: plugin.to_owned(),
        version: (plugin == "tagger").then_some(2),
        level: "info".to_owned(),
        message: message.to_owned(),
        job: JobId(job),
        at: OffsetDateTime::now_utc(),
    }
}

async fn plugin_log_keeps_each_tenants_newest_lines_and_filters_by_plugin(
    store: &Store,
) -> anyhow::Result<()> {
    let (shop, other) = (tenant("shop"), tenant("other"));
    // Two batches for shop (5 lines, 3 kept), one for other; other's line is not trimmed by shop's batches.
    store
        .append_plugin_log(&[log_line(&other, "tagger", 9, "other's line")], 3)
        .await?;
    let first: Vec<_> = (1..=3)
        .map(|i| log_line(&shop, "tagger", i, &format!("line {i}")))
        .collect();
    store.append_plugin_log(&first, 3).await?;
    store
        .append_plugin_log(
            &[
                log_line(&shop, "notes", 4, "line 4"),
                log_line(&shop, "tagger", 5, "line 5"),
            ],
            3,
        )
        .await?;
    let lines = store.plugin_log(&shop, None, 100).await?;
    let messages: Vec<&str> = lines.iter().map(|l| l.line.message.as_str()).collect();
    assert_eq!(
        messages,
        ["line 5", "line 4", "line 3"],
        "newest first, 3 kept"
    );
    assert_eq!(lines[0].line.version, Some(2));
    assert_eq!(
        lines[1].line.version, None,
        "a configured plugin has no version"
    );
    assert_eq!(
        (lines[0].line.job, lines[0].line.level.as_str()),
        (JobId(5), "info")
    );
    assert!(lines.iter().all(|l| l.line.tenant == shop));
    let tagger = store.plugin_log(&shop, Some("tagger"), 100).await?;
    assert_eq!(tagger.len(), 2);
    assert!(tagger.iter().all(|l| l.line.plugin == "tagger"));
    assert_eq!(store.plugin_log(&shop, None, 1).await?.len(), 1, "limit");
    assert_eq!(store.plugin_log_plugins(&shop).await?, ["notes", "tagger"]);
    let others = store.plugin_log(&other, None, 100).await?;
    assert_eq!(others.len(), 1, "another tenant's lines are its own");
    assert_eq!(others[0].line.message, "other's line");
    Ok(())
}

rows_on_both_backends!(console_rows:
    sessions_speak_for_a_live_token_until_they_expire_or_end,
    activity_counts_every_tenant_at_once,
    usage_adds_up_per_tenant_and_day_and_an_order_counts_once,
    an_event_tagged_with_its_order_number_is_found_dead,
    plugin_log_keeps_each_tenants_newest_lines_and_filters_by_plugin,
);
