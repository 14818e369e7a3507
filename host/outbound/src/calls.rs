//! Calls made, counted per tenant, downstream and UTC day in memory: the raw figures of the host's usage (what an
//! operator bills on). Counting here, where every request goes out, means no client can forget to; the host takes
//! the counts every few seconds and adds them to its store, so a call costs a map update, not a write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Whose calls, to what, on which day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallKey {
    /// The tenant the call was made for.
    pub tenant: String,
    /// The downstream called (`freshbooks`, `kentico`, …).
    pub downstream: String,
    /// The UTC day the call was made, as days since 1970-01-01 (counted by the day it happened, not the day it
    /// was taken, so calls just before midnight stay on their day).
    pub day: i64,
}

/// Calls counted since the last [`CallCounts::take`]; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct CallCounts {
    /// A std mutex: held only for a map update, never across an await.
    counts: Arc<Mutex<HashMap<CallKey, u64>>>,
}

/// Today, in days since 1970-01-01 UTC.
fn today() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs / 86_400).unwrap_or(0)
}

impl CallCounts {
    /// Counts one call of `tenant` to `downstream`, today.
    pub fn record(&self, tenant: &str, downstream: &str) {
        let key = CallKey {
            tenant: tenant.to_owned(),
            downstream: downstream.to_owned(),
            day: today(),
        };
        *self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default() += 1;
    }

    /// Every count since the last take, leaving none.
    pub fn take(&self) -> Vec<(CallKey, u64)> {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(PoisonError::into_inner))
            .into_iter()
            .collect()
    }

    /// Puts counts taken back (their write failed), to be taken again with the next ones.
    pub fn restore(&self, taken: Vec<(CallKey, u64)>) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, n) in taken {
            *counts.entry(key).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_per_tenant_and_downstream_and_taken_once() {
        let counts = CallCounts::default();
        let other = counts.clone();
        counts.record("shop", "freshbooks");
        other.record("shop", "freshbooks");
        counts.record("shop", "kentico");
        counts.record("other", "freshbooks");
        let mut taken = counts.take();
        taken.sort_by(|a, b| (&a.0.tenant, &a.0.downstream).cmp(&(&b.0.tenant, &b.0.downstream)));
        let got: Vec<(&str, &str, u64)> = taken
            .iter()
            .map(|(k, n)| (k.tenant.as_str(), k.downstream.as_str(), *n))
            .collect();
        assert_eq!(
            got,
            [
                ("other", "freshbooks", 1),
                ("shop", "freshbooks", 2),
                ("shop", "kentico", 1)
            ]
        );
        assert!(counts.take().is_empty(), "taken once");
        counts.restore(taken);
        counts.record("shop", "kentico");
        let back: u64 = counts.take().iter().map(|(_, n)| n).sum();
        assert_eq!(back, 5, "restored counts add to new ones");
    }
}
