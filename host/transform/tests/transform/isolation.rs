//! No state leaks between events or tenants: every event gets fresh plugin instances.

use crate::support::*;
use ferry_transform::{Chain, StaticServices};

fn notes_after(chain: &Chain, tenant: &str) -> String {
    let o = order();
    chain
        .map_invoice(&ctx(tenant, StaticServices::new()), &o, invoice_draft(&o))
        .unwrap()
        .notes
}

#[test]
fn a_plugin_with_a_static_counter_sees_a_fresh_instance_on_every_event() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "stateful")]);
    for _ in 0..5 {
        assert_eq!(notes_after(&chain, "acme"), "calls: 1");
    }
}

#[test]
fn the_same_plugin_twice_in_a_chain_gets_two_instances() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "stateful"), load(&rt, "stateful")]);
    assert_eq!(notes_after(&chain, "acme"), "calls: 1\ncalls: 1");
}

#[test]
fn one_chain_run_keeps_an_instance_for_the_event_and_the_next_run_starts_fresh() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "stateful")]);
    let c = ctx("acme", StaticServices::new());
    let o = order();
    let mut run = chain.run(&c);
    let first = run.map_invoice(&o, invoice_draft(&o)).unwrap();
    let second = run.map_invoice(&o, invoice_draft(&o)).unwrap();
    assert_eq!(first.notes, "calls: 1");
    assert_eq!(second.notes, "calls: 2", "one event shares its instance");
    drop(run);
    let next = chain.run(&c).map_invoice(&o, invoice_draft(&o)).unwrap();
    assert_eq!(next.notes, "calls: 1", "the next event does not");
}

#[test]
fn tenants_running_the_same_plugin_concurrently_never_share_state() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "stateful")]);
    std::thread::scope(|s| {
        let workers: Vec<_> = ["acme", "globex", "initech", "umbrella"]
            .into_iter()
            .map(|tenant| {
                let chain = &chain;
                s.spawn(move || {
                    (0..25)
                        .map(|_| notes_after(chain, tenant))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for w in workers {
            assert!(w.join().unwrap().iter().all(|n| n == "calls: 1"));
        }
    });
}

#[test]
fn a_trap_drops_the_event_store_and_the_next_call_of_the_event_starts_a_new_one() {
    let (rt, _dir) = runtime();
    // Both plugins live in the event's one store; the trap poisons it.
    let chain = Chain::new(vec![load(&rt, "stateful"), load(&rt, "trap")]);
    let c = ctx("acme", StaticServices::new());
    let o = order();
    let mut run = chain.run(&c);
    let first = run.map_invoice(&o, invoice_draft(&o)).unwrap_err();
    let second = run.map_invoice(&o, invoice_draft(&o)).unwrap_err();
    assert_eq!(first.plugin, "trap");
    // A reused store would answer "cannot enter component instance" instead of the plugin's own trap.
    assert_eq!(second.to_string(), first.to_string());
    assert!(first.to_string().contains("unreachable"), "{first}");
}
