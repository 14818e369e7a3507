//! The tenants' plugin log: every line a tenant's plugins write while running one of its stored events (the `log`
//! host call, stdout, stderr) is kept in the store with plugin, version, level and event, for the tenant to read in
//! the admin API and the console (before, the lines reached only the operator's host log, which they still do).
//!
//! A hook call must not wait for the database, so [`PluginLog::record`] only puts the line on a bounded channel
//! (a full channel drops the line and counts it); one task per host takes whatever has queued up and writes it as
//! one transaction, which also trims each tenant written for to its newest [`KEEP_PER_TENANT`] lines.
//! Previews (the dry run, the books audit, `ferry plugin test`) run without an event and keep nothing.

use ferry_store::{JobId, NewPluginLogLine, Store};
use ferry_transform::LogLine;
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Lines kept per tenant; older ones are deleted as new ones are written.
pub const KEEP_PER_TENANT: u32 = 1_000;
/// Longest message kept, in characters; the rest is cut and marked.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// Lines waiting for the writer at most; past it lines are dropped (and counted) rather than slowing a hook.
const QUEUE: usize = 10_000;
/// Most lines one transaction writes.
const BATCH: usize = 500;

/// Where hook calls hand their lines; cheap to clone. The writer task ends once every clone is gone.
#[derive(Clone)]
pub struct PluginLog {
    tx: mpsc::Sender<NewPluginLogLine>,
}

impl PluginLog {
    /// Starts the writer on the current tokio runtime, writing to `store`.
    pub fn spawn(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write(store, rx));
        Self { tx }
    }

    /// Queues `line` for the store when it was written for a stored event (`version`: the uploaded version that
    /// ran, if it is one). Never blocks: a full queue drops the line and counts it in
    /// [`PLUGIN_LOG_DROPPED`](crate::telemetry::metrics::PLUGIN_LOG_DROPPED).
    pub fn record(&self, line: &LogLine<'_>, version: Option<u32>) {
        let Some(job) = line.event.and_then(|e| JobId::parse(e).ok()) else {
            return;
        };
        let new = NewPluginLogLine {
            tenant: line.tenant.clone(),
            plugin: line.plugin.to_owned(),
            version,
            level: line.level.as_str().to_owned(),
            message: clean(line.message),
            job,
            at: OffsetDateTime::now_utc(),
        };
        if self.tx.try_send(new).is_err() {
            metrics::counter!(crate::telemetry::metrics::PLUGIN_LOG_DROPPED,
                "tenant" => line.tenant.to_string())
            .increment(1);
        }
    }
}

/// A message as kept: control characters other than tab and line breaks become spaces, and past
/// [`MAX_MESSAGE_CHARS`] it is cut with a note saying how much.
fn clean(message: &str) -> String {
    let total = message.chars().count();
    let mut out: String = message
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    if total > MAX_MESSAGE_CHARS {
        out.push_str(&format!(
            "… ({} more characters cut)",
            total - MAX_MESSAGE_CHARS
        ));
    }
    out
}

/// Writes what has queued, a batch at a time, until every sender is gone. A failed write is logged and its lines
/// lost: the log is for reading, and the events themselves do not depend on it.
async fn write(store: Store, mut rx: mpsc::Receiver<NewPluginLogLine>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        if let Err(error) = store.append_plugin_log(&batch, KEEP_PER_TENANT).await {
            tracing::warn!(%error, lines = batch.len(), "Could not keep plugin log lines.");
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_capped_and_free_of_control_characters() {
        assert_eq!(clean("a\tb\nc\u{1b}[31m"), "a\tb\nc [31m");
        let long = "x".repeat(MAX_MESSAGE_CHARS + 5);
        let kept = clean(&long);
        assert!(kept.starts_with(&"x".repeat(MAX_MESSAGE_CHARS)));
        assert!(kept.ends_with("… (5 more characters cut)"), "{kept}");
    }
}
