//! The four hooks a plugin exports, found once per plugin version and type-checked per call.
//!
//! The generated `Transformer` bindings look up and type-check all four exports on every
//! instance, and checking an export walks its whole signature: `validate-order` and `map-invoice`
//! carry the full order record (customer, addresses, lines). With a fresh instance per event that
//! was a third of the cost of instantiating a plugin. Here [`HookExports::find`] looks the hooks
//! up and checks their types once per plugin version, at load, and each call type-checks only
//! the hook it calls (safe Wasmtime offers no way to skip that), so a plugin that implements
//! `map-item` never pays for the order's type.

use wasmtime::Store;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Lower,
};

use crate::bindings::v0_1::types as wit;
use crate::host::PluginCtx;

/// The `transform` interface instance the world exports.
const INTERFACE: &str = "ferry:transform/transform@0.1.0";

/// Export indices of the four hooks of one component.
#[derive(Clone)]
pub(crate) struct HookExports {
    validate_order: ComponentExportIndex,
    map_client: ComponentExportIndex,
    map_invoice: ComponentExportIndex,
    map_item: ComponentExportIndex,
}

impl HookExports {
    /// Find the four hooks in the linked component and check each one's signature against ours
    /// (once per plugin version, so a mistyped hook is refused at load, not on some later event).
    pub(crate) fn find(pre: &InstancePre<PluginCtx>) -> Result<Self, String> {
        let component = pre.component();
        let interface = component
            .get_export_index(None, INTERFACE)
            .ok_or_else(|| format!("no exported instance named `{INTERFACE}`"))?;
        Ok(Self {
            validate_order: hook::<(&wit::Order,), (Vec<wit::ValidationIssue>,)>(
                pre,
                &interface,
                "validate-order",
            )?,
            map_client: hook::<
                (&wit::Customer, &wit::ClientDraft),
                (Result<wit::ClientDraft, wit::TransformError>,),
            >(pre, &interface, "map-client")?,
            map_invoice: hook::<
                (&wit::Order, &wit::InvoiceDraft),
                (Result<wit::InvoiceDraft, wit::TransformError>,),
            >(pre, &interface, "map-invoice")?,
            map_item: hook::<
                (&wit::OrderLine, &wit::ItemDraft),
                (Result<wit::ItemDraft, wit::TransformError>,),
            >(pre, &interface, "map-item")?,
        })
    }

    /// Call `validate-order` on `instance`.
    pub(crate) fn validate_order(
        &self,
        instance: &Instance,
        store: &mut Store<PluginCtx>,
        order: &wit::Order,
    ) -> wasmtime::Result<Vec<wit::ValidationIssue>> {
        let f = instance.get_typed_func::<(&wit::Order,), (Vec<wit::ValidationIssue>,)>(
            &mut *store,
            &self.validate_order,
        )?;
        Ok(f.call(store, (order,))?.0)
    }

    /// Call `map-client` on `instance`.
    pub(crate) fn map_client(
        &self,
        instance: &Instance,
        store: &mut Store<PluginCtx>,
        customer: &wit::Customer,
        draft: &wit::ClientDraft,
    ) -> wasmtime::Result<Result<wit::ClientDraft, wit::TransformError>> {
        let f = instance.get_typed_func::<
            (&wit::Customer, &wit::ClientDraft),
            (Result<wit::ClientDraft, wit::TransformError>,),
        >(&mut *store, &self.map_client)?;
        Ok(f.call(store, (customer, draft))?.0)
    }

    /// Call `map-invoice` on `instance`.
    pub(crate) fn map_invoice(
        &self,
        instance: &Instance,
        store: &mut Store<PluginCtx>,
        order: &wit::Order,
        draft: &wit::InvoiceDraft,
    ) -> wasmtime::Result<Result<wit::InvoiceDraft, wit::TransformError>> {
        let f = instance.get_typed_func::<
            (&wit::Order, &wit::InvoiceDraft),
            (Result<wit::InvoiceDraft, wit::TransformError>,),
        >(&mut *store, &self.map_invoice)?;
        Ok(f.call(store, (order, draft))?.0)
    }

    /// Call `map-item` on `instance`.
    pub(crate) fn map_item(
        &self,
        instance: &Instance,
        store: &mut Store<PluginCtx>,
        line: &wit::OrderLine,
        draft: &wit::ItemDraft,
    ) -> wasmtime::Result<Result<wit::ItemDraft, wit::TransformError>> {
        let f = instance.get_typed_func::<
            (&wit::OrderLine, &wit::ItemDraft),
            (Result<wit::ItemDraft, wit::TransformError>,),
        >(&mut *store, &self.map_item)?;
        Ok(f.call(store, (line, draft))?.0)
    }
}

/// The index of hook `name` in `interface`, if it is a function of type `P -> R`.
fn hook<P, R>(
    pre: &InstancePre<PluginCtx>,
    interface: &ComponentExportIndex,
    name: &str,
) -> Result<ComponentExportIndex, String>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    let (item, index) = pre
        .component()
        .get_export(Some(interface), name)
        .ok_or_else(|| format!("`{INTERFACE}` does not export `{name}`"))?;
    match item {
        ComponentItem::ComponentFunc(f) => f
            .typecheck::<P, R>(&pre.instance_type())
            .map_err(|e| format!("export `{name}` has the wrong type: {e:#}"))?,
        _ => return Err(format!("export `{name}` is not a function")),
    }
    Ok(index)
}
