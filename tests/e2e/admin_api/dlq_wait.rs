//! `ferry dlq replay --all --wait` returns only once the replayed events have run again: invalid orders are back in
//! the dead-letter queue (not still queued) when it returns, and it says so.

use crate::admin_api::{SHOP, invalid, spawn_admin_host};
use clap::Parser;
use ferry::cli::{Cli, Command};
use ferry_model::TenantId;
use ferry_store::EventState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_replay_wait_returns_when_the_replayed_events_have_run() {
    let host = spawn_admin_host().await;
    host.place_and_settle(0..3, &invalid()).await;
    let shop = TenantId::parse(SHOP).unwrap();
    let dead = host
        .store
        .count_in_state(Some(&shop), EventState::Dead)
        .await
        .unwrap();
    assert!(dead >= 3, "the invalid orders are dead-lettered: {dead}");

    let argv = [
        "ferry", "dlq", "replay", "--all", "--tenant", SHOP, "--wait",
    ];
    let Command::Dlq(cmd) = Cli::try_parse_from(argv).unwrap().command else {
        panic!("not a dlq command");
    };
    let mut out = Vec::new();
    ferry::cli::dlq::run(&host.store, cmd, &mut out)
        .await
        .unwrap();
    let printed = String::from_utf8(out).unwrap();
    assert!(
        printed.contains(&format!("replayed {dead} event(s)")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!(
            "{dead} event(s) finished since the replay, {dead} of them dead-lettered again; nothing waits"
        )),
        "{printed}"
    );
    // They ran again: dead once more, none still waiting, each with the replay and a second failure in its history.
    for state in [
        EventState::Queued,
        EventState::Running,
        EventState::Retrying,
    ] {
        let n = host.store.count_in_state(Some(&shop), state).await.unwrap();
        assert_eq!(n, 0, "{state:?} when --wait returned: {printed}");
    }
    let again = host
        .store
        .count_in_state(Some(&shop), EventState::Dead)
        .await
        .unwrap();
    assert_eq!(again, dead, "{printed}");
    host.stop().await;
}
