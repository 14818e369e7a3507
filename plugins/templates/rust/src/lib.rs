//! {{name}}: a Ferry transform plugin (ferry:transform@{{contract}}).
//!
//! Each hook receives a Kentico record and the FreshBooks draft made so far, and returns the draft to pass on.
//! This one adds a line to every invoice's notes; the setting `greeting` (default "Thank you for your order")
//! chooses its words. Hooks left out of `export_transform!` are never called.
#![no_std]

extern crate alloc;

use alloc::format;
use ferry_plugin_sdk::{InvoiceDraft, Order, Transform, TransformError, append_line, setting_or};

struct Plugin;

impl Transform for Plugin {
    fn map_invoice(order: Order, mut draft: InvoiceDraft) -> Result<InvoiceDraft, TransformError> {
        let greeting = setting_or("greeting", "Thank you for your order");
        append_line(&mut draft.notes, &format!("{greeting} {}!", order.number));
        Ok(draft)
    }
}

ferry_plugin_sdk::export_transform!(Plugin: map_invoice);
ferry_plugin_sdk::no_std_plugin!();
