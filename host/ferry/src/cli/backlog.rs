//! Following a backlog to its end for `--wait` (backfill through the admin API, bulk replay straight against the
//! store): the events by state, read every half second, move a progress bar until nothing waits.

use super::admin_client::AdminClient;
use anyhow::Context as _;
use ferry_model::TenantId;
use ferry_store::{EventState, Store};
use std::future::Future;
use std::time::Duration;

/// How often the counts are read while following.
const POLL: Duration = Duration::from_millis(500);

/// Events by state, of one tenant or all.
pub(super) struct Counts {
    /// Done, dead or discarded.
    finished: u64,
    dead: u64,
    /// Queued, running or retrying.
    waiting: u64,
}

/// What the backlog came to once followed to its end.
pub(super) struct Worked {
    /// Events finished since the start (done, dead or discarded).
    pub(super) finished: u64,
    /// Of those, dead-lettered.
    pub(super) dead: u64,
}

impl Counts {
    /// A tenant's counts as `GET /tenants/{tenant}` shows them.
    pub(super) async fn through_api(client: &AdminClient, tenant: &str) -> anyhow::Result<Self> {
        let view = client
            .send(client.get(&format!("/tenants/{tenant}")))
            .await?;
        let events = view["events"]
            .as_object()
            .context("the host's tenant view has no event counts")?;
        let n = |state: EventState| {
            events
                .get(state.as_str())
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
        };
        Ok(Self::from_counts(n))
    }

    /// The counts of one tenant, or of all, read from the store.
    pub(super) async fn in_store(store: &Store, tenant: Option<&TenantId>) -> anyhow::Result<Self> {
        let mut by_state = std::collections::HashMap::new();
        for s in STATES {
            by_state.insert(s, store.count_in_state(tenant, s).await?);
        }
        Ok(Self::from_counts(|s| {
            by_state.get(&s).copied().unwrap_or(0)
        }))
    }

    fn from_counts(n: impl Fn(EventState) -> u64) -> Self {
        Self {
            finished: n(EventState::Done) + n(EventState::Dead) + n(EventState::Discarded),
            dead: n(EventState::Dead),
            waiting: n(EventState::Queued) + n(EventState::Running) + n(EventState::Retrying),
        }
    }
}

const STATES: [EventState; 6] = [
    EventState::Queued,
    EventState::Running,
    EventState::Retrying,
    EventState::Done,
    EventState::Dead,
    EventState::Discarded,
];

/// Reads the counts until nothing waits, moving a bar of the `len` events started (`message` names them). Live
/// events finishing meanwhile count too, so the bar is capped at its length: the end is the empty backlog.
pub(super) async fn follow<F, Fut>(
    mut read: F,
    before: &Counts,
    len: u64,
    message: &'static str,
) -> anyhow::Result<Worked>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Counts>>,
{
    let bar = super::progress::bar(len, "events");
    bar.set_message(message);
    loop {
        let now = read().await?;
        let finished = now.finished.saturating_sub(before.finished);
        bar.set_position(finished.min(len));
        if now.waiting == 0 {
            bar.finish_and_clear();
            return Ok(Worked {
                finished,
                dead: now.dead.saturating_sub(before.dead),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
