//! Each tenant's own plugin limits on one shared runtime: a tenant given less fuel or memory is stopped by its
//! own limit while another tenant running the same plugin is not, and no tenant gets more memory than the
//! runtime's pool slots hold.

use crate::support::*;
use ferry_transform::{Chain, PluginLimits, Reason, StaticServices, TransformCtx};

fn limited(tenant_id: &str, limits: PluginLimits) -> TransformCtx {
    ctx(tenant_id, StaticServices::new()).with_limits(limits)
}

#[test]
fn a_tenant_with_little_fuel_runs_out_while_another_runs_the_same_plugin() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "custom-fields")]);
    let stingy = limited(
        "stingy",
        PluginLimits {
            fuel_per_call: Some(1_000),
            ..PluginLimits::default()
        },
    );
    let err = chain
        .map_client(&stingy, &customer(), client_draft())
        .unwrap_err();
    assert_eq!(err.reason, Reason::OutOfFuel, "{err}");
    assert_eq!(err.tenant.as_str(), "stingy");
    chain
        .map_client(
            &ctx("roomy", StaticServices::new()),
            &customer(),
            client_draft(),
        )
        .expect("the runtime's fuel is plenty for the same call");
}

#[test]
fn a_tenant_with_a_small_memory_cap_hits_it_where_another_does_not() {
    let (rt, _dir) = runtime();
    // `map-invoice` of this fixture builds 2 MiB of notes: past a 2 MiB cap (the module starts at about 1 MiB),
    // well within the runtime's 32 MiB, where the host then refuses the oversized output instead.
    let chain = Chain::new(vec![load(&rt, "bad-output")]);
    let o = order();
    let small = limited(
        "small",
        PluginLimits {
            memory_limit_bytes: Some(2 << 20),
            ..PluginLimits::default()
        },
    );
    let err = chain
        .map_invoice(&small, &o, invoice_draft(&o))
        .unwrap_err();
    assert_eq!(err.reason, Reason::MemoryLimit, "{err}");
    let err = chain
        .map_invoice(&ctx("large", StaticServices::new()), &o, invoice_draft(&o))
        .unwrap_err();
    assert!(
        matches!(err.reason, Reason::InvalidOutput { .. }),
        "with the runtime's cap the notes get built and refused as output: {err}"
    );
}

#[test]
fn a_tenant_cannot_raise_its_memory_past_the_runtimes_cap() {
    let (rt, _dir) = runtime_with(|c| c.memory_limit_bytes = 8 << 20);
    let chain = Chain::new(vec![load(&rt, "memory-hog")]);
    let greedy = limited(
        "greedy",
        PluginLimits {
            memory_limit_bytes: Some(1 << 30),
            ..PluginLimits::default()
        },
    );
    let err = chain
        .map_client(&greedy, &customer(), client_draft())
        .unwrap_err();
    // The tenant's cap is cut to the runtime's 8 MiB, so the host's limiter stops the hog there, as a memory limit.
    assert_eq!(err.reason, Reason::MemoryLimit, "{err}");
}
