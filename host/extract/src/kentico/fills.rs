//! Reads in flight, by cache key: when the events of a burst all miss the same cached object or collection (a host
//! just started, a tenant just added, an entry just expired), the first one reads it and the others wait for its
//! answer, then find it in the cache. Different keys are read side by side.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// One lock per key being read; a key's entry lives only while it is read.
pub(super) struct Fills<K> {
    in_flight: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for Fills<K> {
    fn default() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> Fills<K> {
    /// Runs `fill` as the only reader of `key` at a time: `cached` is asked again once it is this caller's turn, so
    /// a caller that waited takes the first reader's answer. `fill` stores what it read where `cached` finds it.
    pub(super) async fn once<T, E>(
        &self,
        key: &K,
        cached: impl Fn() -> Option<T>,
        fill: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let turn = self.lock().entry(key.clone()).or_default().clone();
        let _reading = turn.lock().await;
        if let Some(hit) = cached() {
            return Ok(hit);
        }
        let read = fill.await;
        // Later callers find the cache filled (or, after an error, read again themselves).
        self.lock().remove(key);
        read
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<tokio::sync::Mutex<()>>>> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }
}
