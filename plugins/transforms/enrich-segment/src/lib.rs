//! Adds the customer's marketing segment (from the host `enrich` service) to the client note.
//!
//! Settings: `kind` (default `segment`); `on-error` = `ignore` (default) or `reject`.
#![no_std]

extern crate alloc;

use alloc::format;
use ferry_plugin_sdk::{
    ClientDraft, Customer, LogLevel, Transform, TransformError, append_line, host, reject,
    setting_or,
};

struct EnrichSegment;
impl Transform for EnrichSegment {
    fn map_client(
        customer: Customer,
        mut draft: ClientDraft,
    ) -> Result<ClientDraft, TransformError> {
        let Some(email) = customer.email.filter(|e| !e.is_empty()) else {
            return Ok(draft);
        };
        let kind = setting_or("kind", "segment");
        match host::enrich(&kind, &email) {
            Ok(pairs) => {
                if let Some((_, segment)) = pairs.iter().find(|(k, _)| k == "segment") {
                    append_line(&mut draft.note, &format!("Segment: {segment}"));
                }
                Ok(draft)
            }
            Err(e) if setting_or("on-error", "ignore") == "reject" => {
                Err(reject("enrich-failed", e))
            }
            Err(e) => {
                host::log(
                    LogLevel::Warn,
                    &format!("enrich {kind} failed, client left as is: {e}"),
                );
                Ok(draft)
            }
        }
    }
}
ferry_plugin_sdk::export_transform!(EnrichSegment: map_client);
ferry_plugin_sdk::no_std_plugin!();
