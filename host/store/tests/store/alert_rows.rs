//! The alerts' shared state (migration 0025) on both backends: a condition is raised and cleared by one caller
//! each however many ask at once, a recovery knows whether its raise went out, and dead letters counted by many
//! callers are taken as one batch once per window. `three_hosts_*` runs the same races across three stores (hosts)
//! on one Postgres database.

use crate::suite::tenant;
use anyhow::{Result, ensure};
use ferry_model::ErrorClass;
use ferry_store::{DeadLetterWindow, Store};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a raise holds before another may take it over (the alerts use an hour).
const HOUR: Duration = Duration::from_secs(3600);

/// Runs `n` copies of `call` side by side and counts the true answers.
async fn winners<F, Fut>(n: usize, call: F) -> Result<usize>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ferry_store::Result<bool>> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(call())).collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await??);
    }
    Ok(won)
}

pub(crate) async fn a_condition_is_raised_and_cleared_once_whoever_reports_it(
    s: &Store,
) -> Result<()> {
    let shop = tenant("shop");
    let raised = winners(8, || {
        let (s, shop) = (s.clone(), shop.clone());
        async move { s.raise_alert(Some(&shop), "breaker.freshbooks", HOUR).await }
    })
    .await?;
    ensure!(raised == 1, "{raised} callers raised it");
    ensure!(
        !s.raise_alert(Some(&shop), "breaker.freshbooks", HOUR)
            .await?,
        "raised already"
    );
    ensure!(
        s.raise_alert(Some(&tenant("other")), "breaker.freshbooks", HOUR)
            .await?,
        "another tenant's condition is its own"
    );
    ensure!(
        s.raise_alert(None, "breaker.freshbooks", HOUR).await?,
        "so is the host's"
    );
    s.mark_alert_notified(Some(&shop), "breaker.freshbooks")
        .await?;

    let cleared = winners(8, || {
        let (s, shop) = (s.clone(), shop.clone());
        async move {
            Ok(s.clear_alert(Some(&shop), "breaker.freshbooks")
                .await?
                .is_some())
        }
    })
    .await?;
    ensure!(cleared == 1, "{cleared} callers cleared it");
    ensure!(
        s.clear_alert(Some(&shop), "breaker.freshbooks")
            .await?
            .is_none(),
        "cleared already"
    );
    ensure!(
        s.clear_alert(Some(&shop), "backlog.old").await?.is_none(),
        "never raised"
    );

    // Raised again: a new message, and a recovery that knows whether this raise went out.
    ensure!(
        s.raise_alert(Some(&shop), "breaker.freshbooks", HOUR)
            .await?
    );
    ensure!(
        s.clear_alert(Some(&shop), "breaker.freshbooks").await? == Some(false),
        "the second raise was not sent (over the hourly limit): no recovery"
    );
    ensure!(
        s.clear_alert(Some(&tenant("other")), "breaker.freshbooks")
            .await?
            == Some(false)
    );

    // A raise older than its expiry (its host died before clearing it) is raised again.
    ensure!(s.raise_alert(None, "backlog.old", HOUR).await?);
    ensure!(!s.raise_alert(None, "backlog.old", HOUR).await?);
    tokio::time::sleep(Duration::from_millis(5)).await;
    ensure!(
        s.raise_alert(None, "backlog.old", Duration::from_millis(1))
            .await?,
        "a stale raise is taken over"
    );
    Ok(())
}

pub(crate) async fn dead_letters_counted_by_many_are_taken_once_per_window(
    s: &Store,
) -> Result<()> {
    let shop = tenant("shop");
    let window = Duration::from_millis(1_500);
    let mut counted = Vec::new();
    for i in 0..12 {
        let (s, shop) = (s.clone(), shop.clone());
        let class = if i % 3 == 0 {
            ErrorClass::Plugin
        } else {
            ErrorClass::Validation
        };
        counted.push(tokio::spawn(async move {
            s.count_dead_letter_alert(&shop, class, window).await
        }));
    }
    for c in counted {
        let due = c.await??;
        // A caller that read the clock before another opened the window (and waited for it) sees a little more.
        ensure!(
            due <= window + Duration::from_millis(500),
            "due within the window: {due:?}"
        );
    }
    ensure!(
        matches!(
            s.take_dead_letter_alert(&shop, false).await?,
            DeadLetterWindow::Later(d) if d <= window
        ),
        "not before the window ends"
    );
    tokio::time::sleep(window).await;
    let takes: Vec<_> = (0..6)
        .map(|_| {
            let (s, shop) = (s.clone(), shop.clone());
            tokio::spawn(async move { s.take_dead_letter_alert(&shop, false).await })
        })
        .collect();
    let mut taken = Vec::new();
    for t in takes {
        match t.await?? {
            DeadLetterWindow::Taken(counts) => taken.push(counts),
            DeadLetterWindow::Gone => {}
            DeadLetterWindow::Later(d) => anyhow::bail!("due already, said later by {d:?}"),
        }
    }
    ensure!(
        taken
            == [BTreeMap::from([
                (ErrorClass::Validation, 8),
                (ErrorClass::Plugin, 4)
            ])],
        "one caller takes every count: {taken:?}"
    );

    // The next dead letter opens the next window, with only its own count; a stopping host takes it early.
    s.count_dead_letter_alert(&shop, ErrorClass::Upstream, Duration::from_secs(600))
        .await?;
    ensure!(
        s.take_dead_letter_alert(&tenant("other"), true).await? == DeadLetterWindow::Gone,
        "another tenant has no window"
    );
    ensure!(
        s.take_dead_letter_alert(&shop, true).await?
            == DeadLetterWindow::Taken(BTreeMap::from([(ErrorClass::Upstream, 1)]))
    );
    ensure!(s.take_dead_letter_alert(&shop, true).await? == DeadLetterWindow::Gone);
    Ok(())
}

rows_on_both_backends!(alert_rows:
    a_condition_is_raised_and_cleared_once_whoever_reports_it,
    dead_letters_counted_by_many_are_taken_once_per_window,
);

/// Three hosts (stores with their own pools) on one Postgres database race to raise, clear, count and take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_raise_and_clear_a_condition_once_and_take_one_dead_letter_batch() {
    crate::support::with_postgres_hosts(3, |hosts| async move {
        let shop = tenant("shop");
        let race = |hosts: &[Store], raise: bool| {
            let calls: Vec<_> = hosts
                .iter()
                .map(|s| {
                    let (s, shop) = (s.clone(), shop.clone());
                    tokio::spawn(async move {
                        if raise {
                            s.raise_alert(Some(&shop), "breaker.freshbooks", HOUR).await
                        } else {
                            Ok(s.clear_alert(Some(&shop), "breaker.freshbooks")
                                .await?
                                .is_some())
                        }
                    })
                })
                .collect();
            async move {
                let mut won = 0;
                for c in calls {
                    won += usize::from(c.await??);
                }
                anyhow::Ok(won)
            }
        };
        ensure!(race(&hosts, true).await? == 1, "one host raises");
        ensure!(race(&hosts, false).await? == 1, "one host clears");

        let mut counted = Vec::new();
        for (i, s) in hosts.iter().enumerate() {
            for _ in 0..=i {
                let (s, shop) = (s.clone(), shop.clone());
                counted.push(tokio::spawn(async move {
                    s.count_dead_letter_alert(&shop, ErrorClass::Validation, Duration::ZERO)
                        .await
                }));
            }
        }
        for c in counted {
            c.await??;
        }
        let takes: Vec<_> = hosts
            .iter()
            .map(|s| {
                let (s, shop) = (s.clone(), shop.clone());
                tokio::spawn(async move { s.take_dead_letter_alert(&shop, false).await })
            })
            .collect();
        let mut taken = Vec::new();
        for t in takes {
            if let DeadLetterWindow::Taken(counts) = t.await?? {
                taken.push(counts);
            }
        }
        ensure!(
            taken == [BTreeMap::from([(ErrorClass::Validation, 6)])],
            "one host takes the six dead letters of all three: {taken:?}"
        );
        Ok(())
    })
    .await;
}
