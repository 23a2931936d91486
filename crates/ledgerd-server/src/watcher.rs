//! The database watcher: a dedicated thread that notices revocations (and registrations) made
//! outside this process (`etctl db revoke`, the sqlite3 shell) and evicts them from the auth
//! cache, and that keeps the health flag `/health` and authentication read, so neither needs a
//! query per request.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use et_store::{ChangeWaker, CredentialStore, Release, Safeguards, StoreError};

use crate::cache::AuthCache;
use crate::health::{DbHealth, FAULTY, HEALTHY, REPLACED, UNWRITABLE};
use crate::metrics::{InvalidationSource, Metrics};
use crate::slot::{Detached, StoreSlot};

/// How often the audit trail is polled. SPEC §3 allows a database revocation 1 s to take effect.
/// A store that is told of changes (PostgreSQL) also wakes the watcher at once, and reads the
/// trail on a plain tick only when not told for a while (see et-store's pg.rs).
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Rounds woken by the store start at least this far apart: a burst of notifications (every
/// replica's registrations commit in groups, each one notifying) is read a batch at a time rather
/// than one read per commit, for at most this much more delay.
pub const WAKE_GAP: Duration = Duration::from_millis(10);
/// How often a healthy database is proven to answer (an unhealthy one is retried every poll).
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// Sweeps (every cached credential re-read) happen at most this often, however often the
/// database changes while its triggers cannot be trusted; and never more than a fifth of the time
/// (a sweep of 50 000 entries takes about 0.2 s: ARCHITECTURE.md).
pub const SWEEP_INTERVAL: Duration = Duration::from_millis(250);
/// A step of the watcher's round (reading the change feed, looking at the triggers, the checks)
/// taking longer than this is logged as a warning: a change made elsewhere waits for the round, and
/// SPEC §7 gives it a second in all.
pub const SLOW_STEP: Duration = Duration::from_millis(250);
/// Cached credentials re-read per read transaction of a sweep: short transactions, so a sweep
/// never holds a snapshot that keeps the WAL from being checkpointed.
const SWEEP_CHUNK: usize = 1_000;

/// Reports a write that failed: a healthy database becomes unwritable until the watcher's probe
/// write succeeds. That includes a lock held past the busy timeout (5 s): another process keeping
/// the write lock that long blocks revocations as surely as a full disk does.
pub fn write_failed(health: &DbHealth, auth: &AuthCache, metrics: &Metrics, error: &StoreError) {
    if !error.is_fault() || matches!(error, StoreError::FileReplaced { .. }) {
        return;
    }
    if health.0.compare_exchange(HEALTHY, UNWRITABLE, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
        metrics.set_database_up(false);
        let dropped = auth.invalidate_all();
        if dropped > 0 {
            metrics.invalidated(InvalidationSource::All, dropped);
        }
        tracing::error!(
            "a write to the database failed: {error}; authenticated requests are refused until a write succeeds \
             again (no revocation could be recorded)"
        );
    }
}

/// Opens the database at the configured path again, once a file is there.
pub type Reopen = Box<dyn Fn() -> Result<Arc<dyn CredentialStore>, StoreError> + Send>;

/// What a background thread is told while it waits in [`tick`].
enum Signal {
    Stop,
    Wake,
}

/// The receiving end a background thread waits on in [`tick`].
pub struct Signals {
    rx: mpsc::Receiver<Signal>,
    /// A wake was sent and not yet received: another would add nothing.
    woken: Arc<AtomicBool>,
}

/// A background thread that stops (and is joined) when dropped or [`stop`](Self::stop)ped.
pub struct Background {
    stop: Option<mpsc::Sender<Signal>>,
    woken: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Background {
    pub fn spawn(name: &str, body: impl FnOnce(Signals) + Send + 'static) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let woken = Arc::new(AtomicBool::new(false));
        let signals = Signals { rx, woken: woken.clone() };
        let handle = std::thread::Builder::new().name(name.into()).spawn(move || body(signals))?;
        Ok(Background { stop: Some(tx), woken, handle: Some(handle) })
    }

    /// Ends the thread's current wait in [`tick`] at once (many wakes before it runs count as one).
    pub fn waker(&self) -> ChangeWaker {
        let (tx, woken) = (self.stop.clone(), self.woken.clone());
        Arc::new(move || {
            if !woken.swap(true, Ordering::SeqCst)
                && let Some(tx) = &tx
            {
                let _ = tx.send(Signal::Wake);
            }
        })
    }

    /// Asks the thread to finish and waits for it.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(Signal::Stop);
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Waits `interval`, or less when woken ([`Background::waker`]); false once the thread is asked to
/// stop.
pub fn tick(signals: &Signals, interval: Duration) -> bool {
    match signals.rx.recv_timeout(interval) {
        Err(RecvTimeoutError::Timeout) => true,
        Ok(Signal::Wake) => {
            signals.woken.store(false, Ordering::SeqCst);
            true
        }
        Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => false,
    }
}

/// Runs one step of a round, and logs it when it took [`SLOW_STEP`] or longer.
fn slow_step<T>(what: &str, step: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = step();
    let took = started.elapsed();
    if took >= SLOW_STEP {
        tracing::warn!(
            ms = took.as_millis() as u64,
            "the database watcher's {what} took {} ms: changes made elsewhere wait for it",
            took.as_millis()
        );
    }
    out
}

/// Logs a read of the change feed that took [`SLOW_STEP`] or longer, with where the time went
/// when the store says.
fn slow_poll(took: Duration, timing: Option<et_store::PollTiming>) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    match timing {
        Some(t) => tracing::warn!(
            ms = took.as_millis() as u64,
            connection_ms = ms(t.connection),
            catalog_ms = ms(t.catalog),
            horizon_ms = ms(t.horizon),
            trail_ms = ms(t.trail),
            rows = t.rows,
            "reading the database's change feed took {} ms (getting a connection {:.1} ms, the catalog {:.1} ms, the \
             transaction horizon {:.1} ms, the audit trail {:.1} ms for {} rows): a change made elsewhere is seen \
             that much later",
            took.as_millis(),
            ms(t.connection),
            ms(t.catalog),
            ms(t.horizon),
            ms(t.trail),
            t.rows
        ),
        None => tracing::warn!(
            ms = took.as_millis() as u64,
            "reading the database's change feed took {} ms: a change made elsewhere is seen that much later",
            took.as_millis()
        ),
    }
}

/// Starts the watcher thread.
pub fn spawn(
    slot: Arc<StoreSlot>,
    path: PathBuf,
    reopen: Option<Reopen>,
    auth: Arc<AuthCache>,
    metrics: Arc<Metrics>,
    health: Arc<DbHealth>,
) -> std::io::Result<Background> {
    // A first poll proves the database answers before serving; what it reads (changes since the
    // store was opened) concerns nothing cached yet.
    let store = slot.get();
    let first = store.poll_changes();
    let mut watcher = Watcher {
        slot,
        path,
        reopen,
        auth,
        metrics,
        health,
        last_check: Instant::now(),
        last_reopen: None,
        reopen_error: None,
        closing: None,
        safeguards: None,
        look_pending: false,
        last_look: None,
        sweep_pending: false,
        next_sweep: None,
        wal_starved: false,
    };
    match first {
        Err(e) => watcher.fault(&e),
        Ok(_) => {
            watcher.metrics.set_database_up(true);
            // The first look at the triggers is made before serving too: a ledger started on a
            // database whose rules were dropped says so before its first answer, and on PostgreSQL
            // the look (which builds what the migrations make, in a schema of its own, rolled back)
            // took hundreds of ms when three replicas started at once on a loaded core: made in the
            // first round, after serving, it held up the revocations notified meanwhile.
            if let Err(e) = watcher.look_at_safeguards(store.as_ref()) {
                watcher.fault(&e);
            }
        }
    }
    let background = Background::spawn("ledgerd-watcher", move |signals| {
        let mut last = Instant::now();
        while tick(&signals, POLL_INTERVAL) {
            if let Some(wait) = WAKE_GAP.checked_sub(last.elapsed()) {
                std::thread::sleep(wait);
            }
            last = Instant::now();
            watcher.round();
        }
    })?;
    // A notification from the database (PostgreSQL's LISTEN) starts a round at once.
    store.wake_on_changes(background.waker());
    Ok(background)
}

struct Watcher {
    slot: Arc<StoreSlot>,
    path: PathBuf,
    reopen: Option<Reopen>,
    auth: Arc<AuthCache>,
    metrics: Arc<Metrics>,
    health: Arc<DbHealth>,
    last_check: Instant,
    last_reopen: Option<Instant>,
    /// The last reason reopening failed, logged once rather than every try.
    reopen_error: Option<String>,
    /// The store of the file that went away, held until its last other user lets go. SQLite names
    /// a WAL and its shared memory after the path, not the file, and does not remove those of a
    /// file that was moved or deleted: before the new file is opened beside them, the old one's WAL
    /// is emptied into it (see [`CredentialStore::release_replaced`]) and its connections closed.
    closing: Option<Arc<dyn CredentialStore>>,
    /// What the last look at the database's triggers found; `None` until the first look (and
    /// again after the file is reopened).
    safeguards: Option<Safeguards>,
    /// A commit is waiting for a look at the triggers: looks after plain commits are at least
    /// [`SWEEP_INTERVAL`] apart (a busy database commits at every round, and on PostgreSQL a look
    /// costs the server about a millisecond); a schema change is looked at at once.
    look_pending: bool,
    /// When the triggers were last looked at.
    last_look: Option<Instant>,
    /// The database changed in a way its audit trail may not account for: re-read every cached
    /// credential as soon as [`SWEEP_INTERVAL`] allows.
    sweep_pending: bool,
    /// When the last sweep ended, and the earliest the next may start.
    next_sweep: Option<Instant>,
    /// The last look at the WAL found a checkpoint kept from finishing.
    wal_starved: bool,
}

impl Watcher {
    fn round(&mut self) {
        let state = self.health.get();
        if state == REPLACED {
            return self.try_reopen();
        }
        let store = self.slot.get();
        if let Err(e) = self.poll(store.as_ref()) {
            return self.fault(&e);
        }
        // A failing database is retried every poll; a healthy one is proven once a second, and an
        // unwritable one probed with a write once a second.
        if state != FAULTY && self.last_check.elapsed() < CHECK_INTERVAL {
            return;
        }
        self.last_check = Instant::now();
        let checked = slow_step("check that the database answers", || match state {
            UNWRITABLE => store.check_write(),
            _ => store.check(),
        });
        match checked {
            Err(StoreError::FileReplaced { path }) => self.fault(&StoreError::FileReplaced { path }),
            Err(_) if state == UNWRITABLE => {}
            Err(e) => self.fault(&e),
            Ok(()) if state != HEALTHY => self.recovered("the database answers again; serving normally"),
            Ok(()) => {
                self.check_revocable(store.as_ref());
                self.look_at_wal(store.as_ref());
            }
        }
    }

    /// Exports the WAL's size, and counts checkpoints a reader kept from finishing. Informational:
    /// a failure here changes nothing but the log.
    fn look_at_wal(&mut self, store: &dyn CredentialStore) {
        match store.wal_status() {
            Ok(Some(wal)) => {
                self.metrics.set_wal(wal.bytes, wal.checkpoint_incomplete);
                // Logged when it starts, not every second while it lasts.
                let starts = wal.checkpoint_incomplete && !self.wal_starved;
                self.wal_starved = wal.checkpoint_incomplete;
                if starts {
                    tracing::warn!(
                        wal_bytes = wal.bytes,
                        "the WAL cannot be checkpointed: a reader (a long transaction, an open sqlite3 shell) holds an \
                         old snapshot, so the WAL grows until it ends"
                    );
                }
            }
            Ok(None) => {}
            Err(e) => tracing::debug!("cannot read the WAL's size: {e}"),
        }
    }

    /// A database that reads fine may still be unable to record a revocation (an audit
    /// AUTOINCREMENT pushed to its maximum through `sqlite_sequence`, a trigger added by hand that
    /// refuses or ignores one): then it is unwritable, and authentication fails closed, before any
    /// revocation is tried and fails.
    fn check_revocable(&self, store: &dyn CredentialStore) {
        match slow_step("check that a revocation can be written", || store.check_revocable()) {
            Ok(()) | Err(StoreError::Busy) => {}
            Err(e) => write_failed(&self.health, &self.auth, &self.metrics, &e),
        }
    }

    fn poll(&mut self, store: &dyn CredentialStore) -> Result<(), StoreError> {
        loop {
            let started = Instant::now();
            let changes = store.poll_changes();
            let took = started.elapsed();
            self.metrics.observe_feed_poll(took);
            if took >= SLOW_STEP {
                slow_poll(took, changes.as_ref().ok().and_then(|c| c.timing));
            }
            let changes = changes?;
            // A revocation or a change (`update`, its policy) evicts the entry; a registration evicts an
            // "unknown key" entry.
            for event in &changes.events {
                let evicted = if event.action == "register" {
                    self.auth.invalidate_unknown(&event.api_key)
                } else {
                    self.auth.invalidate(&event.api_key)
                };
                if evicted {
                    self.metrics.invalidated(InvalidationSource::Db, 1);
                }
                tracing::debug!(
                    api_key = %event.api_key,
                    action = %event.action,
                    actor = %event.actor,
                    "change seen in the database"
                );
            }
            self.look_pending |= changes.committed;
            let due = self.look_pending && self.last_look.is_none_or(|t| t.elapsed() >= SWEEP_INTERVAL);
            if due || changes.schema_changed || self.safeguards.is_none() {
                self.look_at_safeguards(store)?;
            }
            // Audit rows account for every change that matters only while the triggers that write
            // or refuse them are all there. A schema change may have dropped one and made it again
            // around a change (in one transaction), so it is a reason to look too; so is a trail
            // that went back (a restore), whose new rows cannot be told from the old.
            let untrusted = self.safeguards.as_ref().is_some_and(|s| !s.intact());
            if changes.schema_changed || changes.rewound || (changes.committed && untrusted) {
                self.sweep_pending = true;
            }
            if !changes.more {
                break;
            }
        }
        if self.sweep_pending && self.next_sweep.is_none_or(|t| Instant::now() >= t) {
            self.sweep(store)?;
        }
        Ok(())
    }

    /// Compares the database's triggers with what the migrations made; logs and exports the
    /// difference when it changes.
    fn look_at_safeguards(&mut self, store: &dyn CredentialStore) -> Result<(), StoreError> {
        let now = slow_step("look at the database's triggers", || store.safeguards())?;
        self.look_pending = false;
        self.last_look = Some(Instant::now());
        if self.safeguards.as_ref() == Some(&now) {
            return Ok(());
        }
        self.metrics.set_triggers(now.missing.len(), now.unexpected.len());
        if !now.missing.is_empty() {
            tracing::error!(
                "the database lacks triggers that enforce the ledger's rules (dropped or altered by hand): {}; \
                 changes they would refuse or audit are possible now, so every cached credential is re-read \
                 after each change to the database until they are restored as the migrations made them \
                 (crates/et-store/migrations)",
                now.missing.join(", ")
            );
        }
        if !now.unexpected.is_empty() {
            tracing::warn!(
                "the database has triggers no migration made: {}; one could keep changes out of the audit trail, \
                 so every cached credential is re-read after each change to the database while they exist",
                now.unexpected.join(", ")
            );
        }
        if now.intact() && self.safeguards.is_some() {
            tracing::info!("the database's triggers are as the migrations made them again");
        }
        if !now.intact() {
            self.sweep_pending = true;
        }
        self.safeguards = Some(now);
        Ok(())
    }

    /// Re-reads every cached credential and evicts those whose row no longer says what the cache
    /// holds: the changes no audit row announced.
    fn sweep(&mut self, store: &dyn CredentialStore) -> Result<(), StoreError> {
        let started = Instant::now();
        self.sweep_pending = false;
        let mut cached = self.auth.begin_sweep();
        // In key order, neighbouring reads share B-tree pages: about twice as fast as at random.
        cached.sort_unstable_by(|a, b| a.api_key.cmp(&b.api_key));
        let mut evicted = 0;
        for chunk in cached.chunks(SWEEP_CHUNK) {
            let keys: Vec<&str> = chunk.iter().map(|entry| &*entry.api_key).collect();
            let rows = store.auth_entries(&keys)?;
            for (entry, row) in chunk.iter().zip(&rows) {
                if !self.auth.still_matches(entry, row.as_ref()) && self.auth.invalidate(&entry.api_key) {
                    evicted += 1;
                }
            }
        }
        let took = started.elapsed();
        self.next_sweep = Some(Instant::now() + SWEEP_INTERVAL.max(took * 4));
        self.metrics.swept();
        if evicted > 0 {
            self.metrics.invalidated(InvalidationSource::Sweep, evicted);
            tracing::warn!(evicted, "evicted cached credentials whose rows changed without an audit row");
        }
        tracing::debug!(cached = cached.len(), evicted, ms = took.as_millis() as u64, "re-read the cache");
        Ok(())
    }

    fn recovered(&mut self, message: &str) {
        // Whatever was cached before the fault may be stale now.
        let dropped = self.auth.invalidate_all();
        if dropped > 0 {
            self.metrics.invalidated(InvalidationSource::All, dropped);
        }
        self.health.set(HEALTHY);
        self.metrics.set_database_up(true);
        tracing::info!("{message}");
    }

    /// Reopens the database once a file is at its path again (at most once a second while that
    /// file is not a usable ledger database).
    fn try_reopen(&mut self) {
        if self.reopen.is_none() {
            return;
        }
        if let Some(old) = &self.closing {
            // Requests that took the old store before it was detached finish first, so that no
            // write reaches its WAL after it is emptied.
            if Arc::strong_count(old) > 1 {
                return;
            }
            match old.release_replaced() {
                Ok(Release::Emptied) => tracing::info!(
                    "emptied the replaced file's WAL into it: nothing of it is left for the file now at {}",
                    self.path.display()
                ),
                Ok(Release::InUse) => tracing::warn!(
                    "another process has (or may have) the replaced file's WAL open: it opened {} while that \
                     WAL was still there; left it alone, and SQLite hands it to the new file. Restore with \
                     `sqlite3 {} \".restore BACKUP\"`, or stop ledgerd before moving a file in place (README, \
                     Backing up and restoring)",
                    self.path.display(),
                    self.path.display()
                ),
                Ok(Release::NotOurs) => {}
                Err(e) => tracing::warn!("cannot empty the replaced file's WAL: {e}"),
            }
            self.closing = None;
        }
        if !self.path.exists() || self.last_reopen.is_some_and(|t| t.elapsed() < CHECK_INTERVAL) {
            return;
        }
        self.last_reopen = Some(Instant::now());
        let Some(reopen) = &self.reopen else { return };
        match reopen() {
            Ok(store) => {
                drop(self.slot.replace(store));
                // Another file: its triggers are looked at afresh.
                self.safeguards = None;
                self.reopen_error = None;
                let message = format!("the database {} is back; reopened it and serving normally", self.path.display());
                self.recovered(&message);
            }
            Err(e) => {
                let text = e.to_string();
                if self.reopen_error.as_deref() != Some(text.as_str()) {
                    tracing::error!("cannot reopen the database yet: {text}; retrying every second");
                    self.reopen_error = Some(text);
                }
            }
        }
    }

    fn fault(&mut self, error: &StoreError) {
        let replaced = matches!(error, StoreError::FileReplaced { .. });
        let previous = self.health.set(if replaced { REPLACED } else { FAULTY });
        self.metrics.set_database_up(false);
        // Fail closed: with nothing cached, every authentication asks the database and gets its error.
        let dropped = self.auth.invalidate_all();
        if dropped > 0 {
            self.metrics.invalidated(InvalidationSource::All, dropped);
        }
        if replaced {
            // Close the old file now (its connections go when the requests using them finish): it
            // is not the one operators revoke in, and its WAL must not meet the next file's.
            self.closing = Some(self.slot.replace(Arc::new(Detached { path: self.path.clone() })));
            self.last_reopen = None;
            tracing::error!(
                "{error}; closed it, and authenticated requests fail until a ledger database is at {} again \
                 (restore it; no restart needed)",
                self.path.display()
            );
        } else if previous == HEALTHY || previous == UNWRITABLE {
            tracing::error!("the database is unusable: {error}; authenticated requests fail until it answers again");
        }
    }
}
