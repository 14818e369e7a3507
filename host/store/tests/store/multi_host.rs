//! Several hosts on one Postgres database: each host is its own [`Store`] (its own pool, wake-up signal
//! and turn order), as separate `ferry serve` processes would be.

use crate::suite::{event, insert_one, req, tenant};
use crate::support::with_postgres_hosts;
use anyhow::{Context, Result, ensure};
use ferry_store::{ClaimRequest, Error, Ingestor, InsertOutcome, Outcome, Store};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::macros::datetime;

/// What the workers of every host saw, to check the queue's promises afterwards.
#[derive(Default)]
struct Ledger {
    /// ordering key → job currently running it (at most one per object).
    running: HashMap<String, i64>,
    /// Every job completed, in completion order per object.
    done: HashMap<String, Vec<i64>>,
    /// Jobs handed out so far (a job must never be handed out twice, since no lease expires here).
    seen: HashSet<i64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_never_share_an_event_nor_run_two_events_of_one_object() {
    with_postgres_hosts(3, |hosts| async move {
        // 3 tenants × 8 objects × 5 events, inserted round-robin through the three hosts.
        let mut n = 0;
        for round in 0..5 {
            for t in ["ta", "tb", "tc"] {
                for object in 0..8 {
                    let host = &hosts[n % hosts.len()];
                    host.insert_event(&event(
                        t,
                        &format!("{t}-{object}-{round}"),
                        object,
                        datetime!(2026-11-20 13:00 UTC),
                    ))
                    .await?;
                    n += 1;
                }
            }
        }
        let total = n;
        let seen = Arc::new(Mutex::new(Ledger::default()));
        let mut workers = Vec::new();
        for (h, host) in hosts.iter().enumerate() {
            for w in 0..4 {
                let host = host.clone();
                let seen = seen.clone();
                workers.push(tokio::spawn(work(host, format!("h{h}-w{w}"), seen, total)));
            }
        }
        for w in workers {
            w.await??;
        }
        let (ran, done) = {
            let seen = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            (seen.seen.len(), seen.done.clone())
        };
        ensure!(ran == total, "every event ran once: {ran}");
        for (key, jobs) in &done {
            let mut sorted = jobs.clone();
            sorted.sort_unstable();
            ensure!(&sorted == jobs, "{key} ran in arrival order: {jobs:?}");
        }
        for host in &hosts {
            ensure!(
                host.count_in_state(None, ferry_store::EventState::Done)
                    .await?
                    == total as u64
            );
        }
        Ok(())
    })
    .await;
}

/// One worker: claims small batches, checks the rules while it "works", completes, until all are done.
async fn work(host: Store, owner: String, seen: Arc<Mutex<Ledger>>, total: usize) -> Result<()> {
    let request = ClaimRequest::new(owner, Duration::from_secs(60), 3).with_per_tenant_limit(4);
    let mut idle = host.work_waiter();
    loop {
        let claimed = host.claim(&request).await?;
        if claimed.is_empty() {
            let finished: usize = {
                let s = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                s.done.values().map(Vec::len).sum()
            };
            if finished == total {
                return Ok(());
            }
            idle.wait(Duration::from_millis(200)).await;
            continue;
        }
        {
            let mut s = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            for c in &claimed {
                let key = format!("{}/{}", c.event.tenant, c.event.ordering_key);
                ensure!(
                    s.seen.insert(c.lease.job.0),
                    "job {} handed out twice",
                    c.lease.job
                );
                if let Some(other) = s.running.insert(key.clone(), c.lease.job.0) {
                    anyhow::bail!("{key}: job {} claimed while job {other} runs", c.lease.job);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
        for c in claimed {
            let key = format!("{}/{}", c.event.tenant, c.event.ordering_key);
            {
                // Leave the object before answering: once the answer commits, another host may take the next.
                let mut s = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                s.running.remove(&key);
                s.done.entry(key).or_default().push(c.lease.job.0);
            }
            host.complete(&c.lease, &Outcome::default()).await?;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_tenant_limit_holds_across_hosts() {
    with_postgres_hosts(2, |hosts| async move {
        for i in 0..20 {
            insert_one(&hosts[i % 2], "t1", &format!("e{i}"), i64::try_from(i)?).await?;
        }
        let (a, b) = (hosts[0].clone(), hosts[1].clone());
        let (ra, rb) = (
            req("a", 10).with_per_tenant_limit(3),
            req("b", 10).with_per_tenant_limit(3),
        );
        let (ca, cb) = tokio::join!(a.claim(&ra), b.claim(&rb));
        let (ca, cb) = (ca?, cb?);
        ensure!(
            ca.len() + cb.len() == 3,
            "limit 3 in all: {} + {}",
            ca.len(),
            cb.len()
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_lease_of_a_dead_host_is_taken_over() {
    with_postgres_hosts(2, |hosts| async move {
        let (dead, alive) = (&hosts[0], &hosts[1]);
        insert_one(dead, "t1", "a1", 27).await?;
        insert_one(dead, "t1", "a2", 27).await?;
        let lost = dead
            .claim(&ClaimRequest::new(
                "dead-host",
                Duration::from_millis(500),
                1,
            ))
            .await?;
        ensure!(lost.len() == 1 && lost[0].event.event_id.as_str() == "a1");
        ensure!(
            alive.claim(&req("alive", 10)).await?.is_empty(),
            "leased, and a2 waits for a1"
        );
        // The dead host never answers nor heartbeats; after the lease the other host takes a1 over.
        let mut taken = Vec::new();
        for _ in 0..100 {
            taken = alive.claim(&req("alive", 10)).await?;
            if !taken.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ensure!(taken.len() == 1, "taken over: {}", taken.len());
        ensure!(taken[0].event.event_id.as_str() == "a1" && taken[0].lease.attempt == 2);
        // The host that came back late is refused, both for its answer and its heartbeat.
        ensure!(matches!(
            dead.complete(&lost[0].lease, &Outcome::default()).await,
            Err(Error::LeaseLost { .. })
        ));
        ensure!(matches!(
            dead.extend_lease(&lost[0].lease, Duration::from_secs(60))
                .await,
            Err(Error::LeaseLost { .. })
        ));
        alive.complete(&taken[0].lease, &Outcome::default()).await?;
        let next = alive.claim(&req("alive", 10)).await?;
        ensure!(next.len() == 1 && next[0].event.event_id.as_str() == "a2");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_event_through_two_hosts_is_stored_once() {
    with_postgres_hosts(2, |hosts| async move {
        let ingestors: Vec<Ingestor> = hosts
            .iter()
            .map(|h| Ingestor::spawn(h.clone(), &Default::default()))
            .collect();
        let mut tasks = Vec::new();
        for i in 0..150 {
            for ing in &ingestors {
                let ing = ing.clone();
                tasks.push(tokio::spawn(async move {
                    ing.submit(event(
                        "t1",
                        &format!("evt_{i}"),
                        i,
                        datetime!(2026-11-20 13:00 UTC),
                    ))
                    .await
                }));
            }
        }
        let mut inserted = 0;
        for t in tasks {
            if t.await?? == InsertOutcome::Inserted {
                inserted += 1;
            }
        }
        ensure!(inserted == 150, "inserted {inserted}");
        ensure!(
            hosts[1]
                .count_in_state(Some(&tenant("t1")), ferry_store::EventState::Queued)
                .await?
                == 150
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_budget_is_shared_not_multiplied() {
    with_postgres_hosts(3, |hosts| async move {
        let day = Duration::from_secs(86_400);
        let mut tasks = Vec::new();
        for host in &hosts {
            for _ in 0..20 {
                let host = host.clone();
                tasks.push(tokio::spawn(async move {
                    host.take_rate_slot("freshbooks:acct", 25, day).await
                }));
            }
        }
        let mut granted = 0;
        for t in tasks {
            if t.await??.is_none() {
                granted += 1;
            }
        }
        ensure!(
            granted == 25,
            "one budget of 25 for three hosts, granted {granted}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_at_a_time_across_hosts() {
    with_postgres_hosts(2, |hosts| async move {
        let t = tenant("t1");
        let inside = Arc::new(Mutex::new(0_u32));
        let refreshes = Arc::new(Mutex::new(0_u32));
        let mut tasks = Vec::new();
        for host in &hosts {
            for _ in 0..4 {
                let (host, t, inside, refreshes) =
                    (host.clone(), t.clone(), inside.clone(), refreshes.clone());
                tasks.push(tokio::spawn(async move {
                    let lock = host
                        .lock_refresh(&t, "acct", Duration::from_secs(20))
                        .await?
                        .context("lock within 20 s")?;
                    {
                        let mut n = inside.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                        *n += 1;
                        ensure!(*n == 1, "two refreshes at once");
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    *inside.lock().map_err(|_| anyhow::anyhow!("poisoned"))? -= 1;
                    *refreshes.lock().map_err(|_| anyhow::anyhow!("poisoned"))? += 1;
                    lock.release().await?;
                    anyhow::Ok(())
                }));
            }
        }
        for t in tasks {
            t.await??;
        }
        ensure!(*refreshes.lock().map_err(|_| anyhow::anyhow!("poisoned"))? == 8);
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_on_one_host_wakes_idle_workers_of_another() {
    with_postgres_hosts(2, |hosts| async move {
        let mut idle = hosts[0].work_waiter();
        // Let the start-up signal (listener connected) pass.
        while idle.wait(Duration::from_millis(500)).await {}
        let started = std::time::Instant::now();
        insert_one(&hosts[1], "t1", "a1", 1).await?;
        ensure!(
            idle.wait(Duration::from_secs(10)).await,
            "woken through NOTIFY"
        );
        ensure!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        ensure!(hosts[0].claim(&req("h0", 1)).await?.len() == 1);
        Ok(())
    })
    .await;
}

/// A tenant's scheduled audit runs on one host: while one host holds the tenant's audit lock another host cannot
/// take it (it skips the tenant rather than wait), another tenant's is free, and once released the other host may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_host_audits_a_tenant_at_a_time() {
    with_postgres_hosts(2, |hosts| async move {
        let t = tenant("t1");
        let held = hosts[0]
            .try_lock_audit(&t)
            .await?
            .context("free audit lock")?;
        ensure!(
            hosts[1].try_lock_audit(&t).await?.is_none(),
            "the other host skips the tenant"
        );
        ensure!(
            hosts[0].try_lock_audit(&t).await?.is_none(),
            "the same host's second schedule tick too"
        );
        let other = hosts[1]
            .try_lock_audit(&tenant("t2"))
            .await?
            .context("another tenant's audit is independent")?;
        other.release().await?;
        held.release().await?;
        hosts[1]
            .try_lock_audit(&t)
            .await?
            .context("free again once released")?
            .release()
            .await?;
        Ok(())
    })
    .await;
}
