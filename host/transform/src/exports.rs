//! The contract version a plugin targets and its four hooks, found once per plugin version and type-checked per
//! call.
//!
//! The generated `Transformer` bindings look up and type-check all four exports on every
//! instance, and checking an export walks its whole signature: `validate-order` and `map-invoice`
//! carry the full order record (customer, addresses, lines). With a fresh instance per event that
//! was a third of the cost of instantiating a plugin. Here [`HookExports::find`] looks the hooks
//! up and checks their types once per plugin version, at load, and each call type-checks only
//! the hook it calls (safe Wasmtime offers no way to skip that), so a plugin that implements
//! `map-item` never pays for the order's type.
//!
//! A component exports the `transform` interface of the contract version it was built against
//! (`ferry:transform/transform@0.2.0` or `…@0.1.0`); that name is how [`Contract`] is found, at
//! load, with the result cached with the linked plugin. Hooks of a 0.1.0 plugin get the 0.1.0
//! views of the order and its lines (`bindings::v0_1`); every other record has one shape in both
//! versions, so the callers hand over 0.2.0 records either way and get 0.2.0 records back.

use wasmtime::Store;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Lower,
};

use crate::bindings::v0_1;
use crate::bindings::v0_2::types as wit;
use crate::host::PluginCtx;

/// A version of the `ferry:transform` contract the host runs plugins of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contract {
    /// `ferry:transform@0.1.0`, frozen in `wit/deps/ferry-transform@0.1.0`.
    V0_1,
    /// `ferry:transform@0.2.0`, the contract in `wit/` and the SDK's.
    V0_2,
}

impl Contract {
    /// Every supported version, newest first.
    pub(crate) const ALL: [Contract; 2] = [Contract::V0_2, Contract::V0_1];

    /// The `transform` interface instance the world exports.
    pub(crate) const fn interface(self) -> &'static str {
        match self {
            Contract::V0_1 => "ferry:transform/transform@0.1.0",
            Contract::V0_2 => "ferry:transform/transform@0.2.0",
        }
    }

    /// The package version, e.g. `0.2.0`.
    pub(crate) const fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }
}

/// The contract of one component and the export indices of its four hooks.
#[derive(Clone)]
pub(crate) struct HookExports {
    contract: Contract,
    validate_order: ComponentExportIndex,
    map_client: ComponentExportIndex,
    map_invoice: ComponentExportIndex,
    map_item: ComponentExportIndex,
}

/// `validate-order`'s result.
type Issues = (Vec<wit::ValidationIssue>,);
/// `map-client`'s result.
type ClientOut = (Result<wit::ClientDraft, wit::TransformError>,);
/// `map-invoice`'s result.
type InvoiceOut = (Result<wit::InvoiceDraft, wit::TransformError>,);
/// `map-item`'s result.
type ItemOut = (Result<wit::ItemDraft, wit::TransformError>,);

impl HookExports {
    /// Find which contract version the component exports and its four hooks, and check each hook's signature
    /// against that version's (once per plugin version, so a mistyped hook is refused at load, not on some later
    /// event).
    pub(crate) fn find(pre: &InstancePre<PluginCtx>) -> Result<Self, String> {
        let component = pre.component();
        let Some((contract, interface)) = Contract::ALL.into_iter().find_map(|c| {
            component
                .get_export_index(None, c.interface())
                .map(|i| (c, i))
        }) else {
            return Err(format!(
                "no exported instance named `{}` or `{}`",
                Contract::V0_2.interface(),
                Contract::V0_1.interface()
            ));
        };
        let at = |name| (pre, contract, &interface, name);
        // In the order of the interface, so the first mistyped hook is the one named.
        let (validate_order, map_client, map_invoice, map_item) = match contract {
            Contract::V0_2 => (
                hook::<(&wit::Order,), Issues>(at("validate-order"))?,
                hook::<(&wit::Customer, &wit::ClientDraft), ClientOut>(at("map-client"))?,
                hook::<(&wit::Order, &wit::InvoiceDraft), InvoiceOut>(at("map-invoice"))?,
                hook::<(&wit::OrderLine, &wit::ItemDraft), ItemOut>(at("map-item"))?,
            ),
            Contract::V0_1 => (
                hook::<(&v0_1::Order<'_>,), Issues>(at("validate-order"))?,
                hook::<(&wit::Customer, &wit::ClientDraft), ClientOut>(at("map-client"))?,
                hook::<(&v0_1::Order<'_>, &wit::InvoiceDraft), InvoiceOut>(at("map-invoice"))?,
                hook::<(&v0_1::OrderLine<'_>, &wit::ItemDraft), ItemOut>(at("map-item"))?,
            ),
        };
        Ok(Self {
            contract,
            validate_order,
            map_client,
            map_invoice,
            map_item,
        })
    }

    /// The contract version the component was built against.
    pub(crate) fn contract(&self) -> Contract {
        self.contract
    }

    /// Call `validate-order` on `instance`.
    pub(crate) fn validate_order(
        &self,
        instance: &Instance,
        store: &mut Store<PluginCtx>,
        order: &wit::Order,
    ) -> wasmtime::Result<Vec<wit::ValidationIssue>> {
        let index = &self.validate_order;
        let out: Issues = match self.contract {
            Contract::V0_2 => call(instance, store, index, (order,))?,
            Contract::V0_1 => call(instance, store, index, (&v0_1::Order::view(order),))?,
        };
        Ok(out.0)
    }

    /// Call `map-client` on `instance`.
    pub(crate) fn map_client(
        &self,
        instance: &Instance,
        store: &mut Store<PluginCtx>,
        customer: &wit::Customer,
        draft: &wit::ClientDraft,
    ) -> wasmtime::Result<Result<wit::ClientDraft, wit::TransformError>> {
        let out: ClientOut = call(instance, store, &self.map_client, (customer, draft))?;
        Ok(out.0)
    }

    /// Call `map-invoice` on `instance`.
    pub(crate) fn map_invoice(
        &self,
        instance: &Instance,
        store: &mut Store<PluginCtx>,
        order: &wit::Order,
        draft: &wit::InvoiceDraft,
    ) -> wasmtime::Result<Result<wit::InvoiceDraft, wit::TransformError>> {
        let index = &self.map_invoice;
        let out: InvoiceOut = match self.contract {
            Contract::V0_2 => call(instance, store, index, (order, draft))?,
            Contract::V0_1 => call(instance, store, index, (&v0_1::Order::view(order), draft))?,
        };
        Ok(out.0)
    }

    /// Call `map-item` on `instance`.
    pub(crate) fn map_item(
        &self,
        instance: &Instance,
        store: &mut Store<PluginCtx>,
        line: &wit::OrderLine,
        draft: &wit::ItemDraft,
    ) -> wasmtime::Result<Result<wit::ItemDraft, wit::TransformError>> {
        let index = &self.map_item;
        let out: ItemOut = match self.contract {
            Contract::V0_2 => call(instance, store, index, (line, draft))?,
            Contract::V0_1 => call(
                instance,
                store,
                index,
                (&v0_1::OrderLine::view(line), draft),
            )?,
        };
        Ok(out.0)
    }
}

/// Call the export at `index`, type-checking it as `P -> R`.
fn call<P, R>(
    instance: &Instance,
    store: &mut Store<PluginCtx>,
    index: &ComponentExportIndex,
    params: P,
) -> wasmtime::Result<R>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    let f = instance.get_typed_func::<P, R>(&mut *store, index)?;
    f.call(store, params)
}

/// The index of hook `name` in the `transform` interface of `contract`, if it is a function of type `P -> R`.
fn hook<P, R>(
    (pre, contract, interface, name): (
        &InstancePre<PluginCtx>,
        Contract,
        &ComponentExportIndex,
        &str,
    ),
) -> Result<ComponentExportIndex, String>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    let (item, index) = pre
        .component()
        .get_export(Some(interface), name)
        .ok_or_else(|| format!("`{}` does not export `{name}`", contract.interface()))?;
    match item {
        ComponentItem::ComponentFunc(f) => f
            .typecheck::<P, R>(&pre.instance_type())
            .map_err(|e| format!("export `{name}` has the wrong type: {e:#}"))?,
        _ => return Err(format!("export `{name}` is not a function")),
    }
    Ok(index)
}
