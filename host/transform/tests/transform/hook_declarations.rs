//! Plugins declare the hooks they implement (SDK `export_transform!(T: hooks…)`); the chain
//! never instantiates or calls a plugin for the others.

use crate::support::*;
use ferry_model::Disposition;
use ferry_transform::{Chain, Hook, Reason, StaticServices};

const ALL: [Hook; 4] = [
    Hook::ValidateOrder,
    Hook::MapClient,
    Hook::MapInvoice,
    Hook::MapItem,
];

fn declared(name: &str) -> Vec<Hook> {
    let (rt, _dir) = runtime();
    let p = load(&rt, name);
    ALL.into_iter().filter(|h| p.implements(*h)).collect()
}

#[test]
fn the_example_plugins_declare_exactly_the_hooks_they_implement() {
    use Hook::*;
    assert_eq!(declared("custom-fields"), [MapClient, MapInvoice, MapItem]);
    assert_eq!(declared("tax-rules"), [MapInvoice, MapItem]);
    assert_eq!(declared("enrich-segment"), [MapClient]);
}

#[test]
fn a_plugin_exported_without_a_hook_list_is_called_for_every_hook() {
    assert_eq!(declared("trap"), ALL);
    assert_eq!(declared("memory-hog"), ALL);
}

#[test]
fn a_skipped_hook_needs_no_instance_while_an_implemented_one_does() {
    // one pool slot: while an event holds it, only hooks needing no instance can run
    let (rt, _dir) = runtime_with(|c| c.max_instances = 1);
    let chain = Chain::new(vec![load(&rt, "stateful")]);
    let c = ctx("acme", StaticServices::new());
    let o = order();
    let mut holder = chain.run(&c);
    holder.map_invoice(&o, invoice_draft(&o)).unwrap();

    assert_eq!(
        chain.map_client(&c, &o.customer, client_draft()).unwrap(),
        client_draft(),
        "map-client is not declared, so it runs without an instance"
    );
    assert!(chain.validate_order(&c, &o).unwrap().is_empty());

    let err = chain.map_invoice(&c, &o, invoice_draft(&o)).unwrap_err();
    assert!(matches!(err.reason, Reason::Unavailable { .. }), "{err}");
    assert!(
        matches!(err.disposition(), Disposition::Retry { .. }),
        "pool exhaustion is host pressure, retried"
    );
    drop(holder);
    let out = chain.map_invoice(&c, &o, invoice_draft(&o)).unwrap();
    assert_eq!(
        out.notes, "calls: 1",
        "the slot is free again after the event"
    );
}
