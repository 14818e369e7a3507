//! Group durability for SQLite's commits: one flush of the WAL for every commit made since the last one.
//!
//! With `synchronous = full`, SQLite fsyncs the WAL inside each COMMIT, while the process's write connection is
//! held: the writes queued behind it wait for that flush, and every commit pays for its own. Instead, the write
//! connection runs with `synchronous = normal` (a COMMIT writes its WAL frames, no fsync), and a syncer thread
//! flushes the WAL file once for all the commits made since its last flush. A write returns only once a flush that
//! began after its COMMIT has finished ([`GroupSync::wait`]). So a write that returned is as durable as under
//! `full`, the connection is free while the disk works, and one flush covers every writer that committed meanwhile.
//!
//! Why this is as safe as `full`:
//! - SQLite appends WAL frames in commit order, and a flush covers everything written to the file before it began,
//!   so a flush that began after a COMMIT covers it and every commit before it.
//! - `normal` still syncs the WAL before each checkpoint and the database file after it, so a flushed commit stays
//!   durable when its frames are copied back and the WAL restarts from its beginning.
//! - A process crash loses nothing either way (the frames are in the kernel's cache); only a power cut or a kernel
//!   crash can lose a commit no flush has covered yet, and no write has returned for it.
//! - A read may see a commit before its flush. What Ferry does outside on the strength of a read (a FreshBooks or
//!   Kentico write, a webhook's 2xx) comes after a write of its own returned (the ledger's intent, the event's
//!   insert), and that write's flush covers every commit before it.
//! - A few writes do not wait at all (`write_tx!(…, flushed_later, …)`: the worker's claim and `complete`). Lost to a
//!   power cut, the event runs again, as after a `kill -9` just before the write, and a later waited write's flush
//!   covers them anyway.
//! - The store has two write connections to the file (sqlx's and the direct one, `sqlite_direct`), behind one mutex:
//!   their commits go to the same WAL in the order they are made, so the above holds for both.
//!
//! A failed flush poisons the store's writes: which pages reached the disk is unknown (Linux may drop the dirty
//! pages it failed to write), so every waiting and later write fails with that error, as Postgres does by default
//! (`data_sync_retry = off`). A restart recovers from the WAL on disk.

use crate::error::{Error, Result};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use tokio::sync::watch;

/// How a flush makes the WAL durable; the real one is [`flush_wal`], tests pass their own.
pub(crate) type Flush = Box<dyn FnMut() -> io::Result<()> + Send>;

/// The commits counted so far and the flushes done, shared by the writers and the syncer thread. Dropping it (the
/// store's last handle) stops the thread.
#[derive(Debug)]
pub(crate) struct GroupSync {
    shared: Arc<Shared>,
    flushed: watch::Receiver<Flushed>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Commits counted so far (the ticket of the latest).
    committed: u64,
    /// The latest ticket a finished flush covers.
    flushed: u64,
    /// The store is gone: the thread ends.
    stop: bool,
}

/// What the syncer has made durable.
#[derive(Debug, Clone)]
enum Flushed {
    /// Every commit up to this ticket.
    Upto(u64),
    /// A flush failed with this error; nothing is durable from here on.
    Failed(io::ErrorKind, String),
}

impl GroupSync {
    /// Starts the syncer thread for the WAL of the SQLite database at `database`.
    ///
    /// # Errors
    /// The thread could not be started.
    pub(crate) fn for_database(database: &Path) -> io::Result<Self> {
        let wal = wal_path(database);
        let mut open = None;
        Self::start(Box::new(move || flush_wal(&wal, &mut open)))
    }

    /// Starts the syncer thread with `flush` as its way to make the WAL durable.
    ///
    /// # Errors
    /// The thread could not be started.
    pub(crate) fn start(mut flush: Flush) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let (tx, flushed) = watch::channel(Flushed::Upto(0));
        let thread = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("ferry-wal-sync".into())
            .spawn(move || {
                while let Some(target) = thread.next_target() {
                    match flush() {
                        Ok(()) => {
                            thread.lock().flushed = target;
                            tx.send_replace(Flushed::Upto(target));
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "Flushing SQLite's WAL to disk failed; every write fails until a restart.");
                            tx.send_replace(Flushed::Failed(e.kind(), e.to_string()));
                            return;
                        }
                    }
                }
            })?;
        Ok(Self { shared, flushed })
    }

    /// Counts a commit the caller just made (call it while still holding the write connection, so tickets follow
    /// commit order) and asks for a flush; returns the commit's ticket for [`GroupSync::wait`].
    pub(crate) fn committed(&self) -> u64 {
        let ticket = {
            let mut state = self.shared.lock();
            state.committed += 1;
            state.committed
        };
        self.shared.wake.notify_one();
        ticket
    }

    /// Returns once a flush covers `ticket`.
    ///
    /// # Errors
    /// [`Error::Database`] when a flush failed (this one or an earlier one).
    pub(crate) async fn wait(&self, ticket: u64) -> Result<()> {
        let mut flushed = self.flushed.clone();
        let outcome = flushed
            .wait_for(|f| match f {
                Flushed::Upto(upto) => *upto >= ticket,
                Flushed::Failed(..) => true,
            })
            .await
            .map(|f| f.failure());
        match outcome {
            Ok(failure) => failure.map_or(Ok(()), Err),
            // The thread ended without a failure: only when the store is dropped, which this borrow rules out.
            Err(_) => Err(flush_failed(io::Error::other("the WAL syncer stopped"))),
        }
    }

    /// The error of a failed flush, if one failed: from then on no write can be made durable.
    ///
    /// # Errors
    /// [`Error::Database`] naming the flush's error.
    pub(crate) fn healthy(&self) -> Result<()> {
        self.flushed.borrow().failure().map_or(Ok(()), Err)
    }
}

#[cfg(test)]
impl GroupSync {
    /// Whether a finished flush covers every commit counted so far.
    pub(crate) fn all_flushed(&self) -> bool {
        let state = self.shared.lock();
        state.flushed == state.committed
    }

    /// Commits counted so far.
    pub(crate) fn counted(&self) -> u64 {
        self.shared.lock().committed
    }
}

impl Drop for GroupSync {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
    }
}

impl Flushed {
    /// The store's error for a failed flush; `None` while the flushes succeed.
    fn failure(&self) -> Option<Error> {
        match self {
            Self::Upto(_) => None,
            Self::Failed(kind, message) => {
                Some(flush_failed(io::Error::new(*kind, message.clone())))
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until a commit is not yet covered by a flush, and returns the latest ticket (the flush about to begin
    /// covers it); `None` once the store is gone.
    fn next_target(&self) -> Option<u64> {
        let mut state = self.lock();
        while state.committed <= state.flushed && !state.stop {
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        (!state.stop).then_some(state.committed)
    }
}

fn flush_failed(source: io::Error) -> Error {
    Error::Database {
        op: "flush the WAL to disk",
        source: Box::new(sqlx::Error::Io(source)),
    }
}

/// SQLite's WAL file of `database`: its name with `-wal` appended.
fn wal_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// The WAL file [`flush_wal`] flushes: kept open between flushes, with its inode.
type OpenWal = Option<(std::fs::File, u64)>;

/// Flushes the WAL file's data (`fdatasync`, as SQLite's own WAL sync on Linux). The file is looked up by its name
/// each time (a `stat`), so a WAL that SQLite deleted and made again is never missed, and kept open while it stays
/// the same file (an `open` and a `close` per flush fewer); the first flush of each new WAL file also flushes its
/// directory, so the file's name survives a power cut too (SQLite does the same on a new WAL's first sync). No WAL
/// file means no commit waits: SQLite deletes it only after checkpointing it into the database.
fn flush_wal(wal: &Path, open: &mut OpenWal) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let inode = match std::fs::metadata(wal) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            *open = None;
            return Ok(());
        }
        found => found?.ino(),
    };
    let file = match open {
        Some((file, kept)) if *kept == inode => file,
        _ => {
            let file = match std::fs::File::open(wal) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    *open = None;
                    return Ok(());
                }
                opened => opened?,
            };
            // The file opened may be newer than the one the `stat` saw: flush its directory for the inode it has.
            let inode = file.metadata()?.ino();
            let dir = wal
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::File::open(dir)?.sync_all()?;
            &mut open.insert((file, inode)).0
        }
    };
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A flush that reports each call and then blocks until the test lets it finish.
    fn gated() -> (Flush, mpsc::Receiver<()>, mpsc::Sender<io::Result<()>>) {
        let (started_tx, started) = mpsc::channel();
        let (finish, finish_rx) = mpsc::channel();
        let flush: Flush = Box::new(move || {
            started_tx.send(()).ok();
            finish_rx.recv().unwrap_or(Ok(()))
        });
        (flush, started, finish)
    }

    fn started(rx: &mpsc::Receiver<()>) {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("a flush began");
    }

    #[tokio::test]
    async fn a_write_returns_only_after_a_flush_that_began_after_its_commit() {
        let (flush, began, finish) = gated();
        let sync = GroupSync::start(flush).unwrap();

        assert!(sync.healthy().is_ok());
        let first = sync.committed();
        started(&began);
        // Committed while the first flush is under way: that flush does not cover it.
        let second = sync.committed();
        finish.send(Ok(())).unwrap();
        sync.wait(first).await.unwrap();

        // The second flush has begun and is held: the second write is still waiting.
        started(&began);
        let early = tokio::time::timeout(Duration::from_millis(200), sync.wait(second)).await;
        assert!(early.is_err(), "the second write waits for its own flush");
        finish.send(Ok(())).unwrap();
        sync.wait(second).await.unwrap();
    }

    #[tokio::test]
    async fn one_flush_covers_every_commit_made_while_the_previous_one_ran() {
        let (flush, began, finish) = gated();
        let sync = GroupSync::start(flush).unwrap();
        let first = sync.committed();
        started(&began);
        let tickets: Vec<u64> = (0..10).map(|_| sync.committed()).collect();
        finish.send(Ok(())).unwrap();
        sync.wait(first).await.unwrap();

        started(&began);
        finish.send(Ok(())).unwrap();
        for ticket in tickets {
            sync.wait(ticket).await.unwrap();
        }
        // Two flushes for eleven commits: no third flush was asked for.
        assert!(began.recv_timeout(Duration::from_millis(200)).is_err());
    }

    #[tokio::test]
    async fn a_failed_flush_fails_its_writes_and_every_later_one() {
        let (flush, began, finish) = gated();
        let sync = GroupSync::start(flush).unwrap();
        let ticket = sync.committed();
        started(&began);
        finish
            .send(Err(io::Error::other("EIO from the disk")))
            .unwrap();
        let err = sync.wait(ticket).await.unwrap_err();
        assert!(err.to_string().contains("flush the WAL"), "{err}");
        let later = sync.committed();
        let err = sync.wait(later).await.unwrap_err();
        assert!(format!("{err:?}").contains("EIO from the disk"), "{err:?}");
        assert!(sync.healthy().is_err());
    }

    #[test]
    fn the_real_flush_syncs_the_wal_and_follows_it_when_sqlite_makes_it_again() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ferry.db");
        let wal = wal_path(&db);
        assert_eq!(wal, dir.path().join("ferry.db-wal"));
        let kept = |open: &OpenWal| open.as_ref().map(|(_, inode)| *inode);
        let mut open = None;
        flush_wal(&wal, &mut open).unwrap();
        assert_eq!(kept(&open), None, "no WAL: nothing to flush, nothing kept");
        std::fs::write(&wal, b"frames").unwrap();
        let first = std::fs::metadata(&wal).unwrap().ino();
        flush_wal(&wal, &mut open).unwrap();
        assert_eq!(kept(&open), Some(first));
        // SQLite deletes the WAL when its last connection closes and makes a new one on the next write: the next
        // flush syncs the new file, not the deleted one it still holds open.
        let aside = dir.path().join("old-wal");
        std::fs::rename(&wal, &aside).unwrap();
        std::fs::write(&wal, b"new frames").unwrap();
        let second = std::fs::metadata(&wal).unwrap().ino();
        assert_ne!(first, second);
        flush_wal(&wal, &mut open).unwrap();
        assert_eq!(kept(&open), Some(second));
        std::fs::remove_file(&wal).unwrap();
        flush_wal(&wal, &mut open).unwrap();
        assert_eq!(kept(&open), None);
    }
}
