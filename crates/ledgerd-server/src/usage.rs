//! Housekeeping off the request path: writes the batched `last_used_at` times (so no request
//! writes to the database just for being made) and refreshes the credential counts of `/metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use et_store::{CredentialStore, StoreError};

use crate::cache::AuthCache;
use crate::health::DbHealth;
use crate::metrics::Metrics;
use crate::slot::StoreSlot;
use crate::watcher::{self, Background, tick};

/// How often used credentials get their `last_used_at` written.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(2);
/// How often the per-state credential gauge is recounted.
pub const COUNT_INTERVAL: Duration = Duration::from_secs(5);

/// Writes the uses recorded since the last flush in one transaction.
pub fn flush(store: &dyn CredentialStore, auth: &AuthCache, metrics: &Metrics, health: &DbHealth) {
    let uses = auth.take_usage();
    if uses.is_empty() {
        return;
    }
    match store.record_usage(&uses) {
        Ok(()) => {}
        // Another process holds the write lock: the batch gave up at once rather than make API
        // writes wait. Contention is not a fault; each credential is queued again when next used a
        // minute or more later (last_used_at is kept to the minute).
        Err(StoreError::Busy) => {
            metrics.usage_flush_failed();
            tracing::debug!("last_used_at of {} credentials not recorded: the database is busy", uses.len());
        }
        Err(e) => {
            // last_used_at is informational; losing one batch is better than retrying into a sick database.
            metrics.usage_flush_failed();
            tracing::warn!("could not record last_used_at of {} credentials: {e}", uses.len());
            watcher::write_failed(health, auth, metrics, &e);
        }
    }
}

fn count(store: &dyn CredentialStore, metrics: &Metrics) {
    match store.counts() {
        Ok(c) => metrics.set_counts(c.active, c.revoked),
        Err(e) => tracing::debug!("could not count credentials: {e}"),
    }
}

/// Niceness of the housekeeping thread: its work (a burst of first uses is a random page write each,
/// and the checkpoints they cause; the credential count scans an index) waits for the request
/// threads instead of delaying them. Its writes are chunked (see `record_usage`), so an API write
/// never waits long for the writer it holds.
const HOUSEKEEPER_NICE: i32 = 19;

/// Lowers the calling thread's scheduling priority (on Linux, `setpriority` with pid 0 applies to
/// the calling thread only). Failure only means it competes as an equal.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(None, HOUSEKEEPER_NICE) {
        tracing::debug!("could not lower the housekeeper's priority: {e}");
    }
}

/// Starts the housekeeping thread; stopping it flushes once more.
pub fn spawn(
    slot: Arc<StoreSlot>,
    auth: Arc<AuthCache>,
    metrics: Arc<Metrics>,
    health: Arc<DbHealth>,
) -> std::io::Result<Background> {
    count(slot.get().as_ref(), &metrics);
    Background::spawn("ledgerd-housekeeper", move |stop| {
        lower_priority();
        let mut last_count = Instant::now();
        // The store is fetched each time: the watcher swaps it when the file is replaced.
        while tick(&stop, FLUSH_INTERVAL) {
            flush(slot.get().as_ref(), &auth, &metrics, &health);
            if last_count.elapsed() >= COUNT_INTERVAL {
                count(slot.get().as_ref(), &metrics);
                last_count = Instant::now();
            }
        }
        flush(slot.get().as_ref(), &auth, &metrics, &health);
    })
}
