//! Group commit for webhook inserts.
//!
//! Each webhook handler calls [`Ingestor::submit`] and waits. One writer task takes everything queued so
//! far (up to [`BatchConfig::max_batch`]), inserts it in one transaction and answers each caller only once that
//! commit is on disk (on SQLite, a flush of the WAL that the writer does not wait for: it goes on with the next
//! batch). One fsync then covers hundreds of events, and there is exactly one SQLite writer for
//! inserts, so they never fight over the write lock. A lone event is committed at once; under load (the last
//! batch held more than one event) the writer lingers for more, because callers woken by the previous commit come
//! back one by one and would otherwise fragment the next batch: until as many are queued as the last batch held,
//! at most [`BatchConfig::window`].

use crate::config::BatchConfig;
use crate::error::{Error, Result};
use crate::event::{InsertOutcome, NewEvent};
use crate::store::Store;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

type Ack = oneshot::Sender<Result<InsertOutcome>>;

/// Sends events to the batching writer; cheap to clone. The writer stops when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct Ingestor {
    tx: mpsc::Sender<(NewEvent, Ack)>,
}

impl Ingestor {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(store: Store, config: &BatchConfig) -> Self {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        tokio::spawn(run(store, rx, config.max_batch.max(1), config.window));
        Self { tx }
    }

    /// Stores `event` durably; returns once the transaction holding it has committed.
    ///
    /// # Errors
    /// [`Error::Database`] when the batch's transaction failed (nothing of it was stored),
    /// [`Error::IngestorClosed`] when the writer has stopped.
    pub async fn submit(&self, event: NewEvent) -> Result<InsertOutcome> {
        let (ack, wait) = oneshot::channel();
        self.tx
            .send((event, ack))
            .await
            .map_err(|_| Error::IngestorClosed)?;
        wait.await.map_err(|_| Error::IngestorClosed)?
    }
}

async fn run(
    store: Store,
    mut rx: mpsc::Receiver<(NewEvent, Ack)>,
    max_batch: usize,
    window: Duration,
) {
    let mut batch = Vec::with_capacity(max_batch);
    let mut last_len = 0;
    while rx.recv_many(&mut batch, max_batch).await > 0 {
        if last_len > 1 && batch.len() < max_batch {
            // Until the callers the last commit answered are back (those that will send again soon), at most
            // `window`: waiting longer only delays the ones already here.
            let deadline = Instant::now() + window;
            let enough = last_len.min(max_batch);
            while batch.len() < enough {
                let room = max_batch - batch.len();
                match tokio::time::timeout_at(deadline, rx.recv_many(&mut batch, room)).await {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
        }
        last_len = batch.len();
        let (events, acks): (Vec<NewEvent>, Vec<Ack>) = batch.drain(..).unzip();
        match store.insert_batch_unflushed(&events).await {
            // The callers are answered once the batch is on disk; meanwhile the next batch gathers and commits,
            // and the flush that answers it may cover both.
            Ok((outcomes, flush)) => {
                tokio::spawn(async move {
                    match flush.wait().await {
                        Ok(()) => {
                            for (ack, outcome) in acks.into_iter().zip(outcomes) {
                                // A caller that gave up (client disconnected) no longer listens; its event is
                                // stored anyway.
                                let _ = ack.send(Ok(outcome));
                            }
                        }
                        Err(error) => fail(acks, &error),
                    }
                });
            }
            Err(error) => fail(acks, &error),
        }
    }
}

/// Answers every caller of a batch that was not stored (or not made durable) with `error`.
fn fail(acks: Vec<Ack>, error: &Error) {
    tracing::warn!(%error, events = acks.len(), "Batch insert failed.");
    let message = error.to_string();
    for ack in acks {
        let _ = ack.send(Err(Error::Database {
            op: "commit event batch",
            source: Box::new(sqlx::Error::Protocol(message.clone())),
        }));
    }
}
