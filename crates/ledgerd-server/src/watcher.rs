//! The database watcher: a dedicated thread that notices revocations (and registrations) made
//! outside this process (`etctl db revoke`, the sqlite3 shell) and evicts them from the auth
//! cache, and that keeps the health flag `/health` and authentication read, so neither needs a
//! query per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use et_store::{CredentialStore, StoreError};

use crate::auth::AuthCache;
use crate::metrics::{InvalidationSource, Metrics};

/// How often the audit trail is polled. SPEC §3 allows a database revocation 1 s to take effect.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often a healthy database is proven to answer (an unhealthy one is retried every poll).
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);

const HEALTHY: u8 = 0;
const FAULTY: u8 = 1;
const REPLACED: u8 = 2;

/// Whether the database is usable, as last seen by the watcher.
#[derive(Debug)]
pub struct DbHealth(AtomicU8);

impl Default for DbHealth {
    fn default() -> Self {
        DbHealth(AtomicU8::new(HEALTHY))
    }
}

impl DbHealth {
    pub fn is_healthy(&self) -> bool {
        self.0.load(Ordering::SeqCst) == HEALTHY
    }

    /// The database file was deleted or replaced under the running server: only a restart helps.
    pub fn is_replaced(&self) -> bool {
        self.0.load(Ordering::SeqCst) == REPLACED
    }

    fn set(&self, state: u8) -> u8 {
        self.0.swap(state, Ordering::SeqCst)
    }
}

/// A background thread that stops (and is joined) when dropped or [`stop`](Self::stop)ped.
pub struct Background {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Background {
    pub fn spawn(name: &str, body: impl FnOnce(mpsc::Receiver<()>) + Send + 'static) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new().name(name.into()).spawn(move || body(rx))?;
        Ok(Background { stop: Some(tx), handle: Some(handle) })
    }

    /// Asks the thread to finish and waits for it.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
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

/// Waits `interval`; false once the thread is asked to stop.
pub fn tick(stop: &mpsc::Receiver<()>, interval: Duration) -> bool {
    matches!(stop.recv_timeout(interval), Err(RecvTimeoutError::Timeout))
}

/// Starts the watcher thread.
pub fn spawn(
    store: Arc<dyn CredentialStore>,
    auth: Arc<AuthCache>,
    metrics: Arc<Metrics>,
    health: Arc<DbHealth>,
) -> std::io::Result<Background> {
    // The first poll only sets the mark (SPEC of poll_changes); do it now so that a revocation
    // made right after start-up is not mistaken for history.
    let first = store.poll_changes();
    let mut watcher = Watcher { store, auth, metrics, health, last_check: Instant::now() };
    if let Err(e) = first {
        watcher.fault(&e);
    } else {
        watcher.metrics.set_database_up(true);
    }
    Background::spawn("ledgerd-watcher", move |stop| {
        while tick(&stop, POLL_INTERVAL) {
            watcher.round();
        }
    })
}

struct Watcher {
    store: Arc<dyn CredentialStore>,
    auth: Arc<AuthCache>,
    metrics: Arc<Metrics>,
    health: Arc<DbHealth>,
    last_check: Instant,
}

impl Watcher {
    fn round(&mut self) {
        if self.health.is_replaced() {
            return;
        }
        if let Err(e) = self.poll() {
            return self.fault(&e);
        }
        let healthy = self.health.is_healthy();
        if healthy && self.last_check.elapsed() < CHECK_INTERVAL {
            return;
        }
        self.last_check = Instant::now();
        match self.store.check() {
            Err(e) => self.fault(&e),
            Ok(()) if !healthy => {
                self.health.set(HEALTHY);
                self.metrics.set_database_up(true);
                tracing::info!("the database answers again; serving normally");
            }
            Ok(()) => {}
        }
    }

    fn poll(&self) -> Result<(), StoreError> {
        // A revocation evicts the active entry; a registration evicts an "unknown key" entry.
        for event in self.store.poll_changes()? {
            if self.auth.invalidate(&event.api_key) {
                self.metrics.invalidated(InvalidationSource::Db, 1);
            }
            tracing::debug!(
                api_key = %event.api_key,
                action = %event.action,
                actor = %event.actor,
                "change seen in the database"
            );
        }
        Ok(())
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
            tracing::error!(
                "{error}; authenticated requests are refused until ledgerd is restarted (it keeps the old file open)"
            );
        } else if previous == HEALTHY {
            tracing::error!("the database is unusable: {error}; authenticated requests fail until it answers again");
        }
    }
}
