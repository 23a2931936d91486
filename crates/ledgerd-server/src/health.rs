//! The database's health as last seen by the watcher (or by a write that failed): one atomic that
//! `/health` and authentication read, so neither needs a query per request.

use std::sync::atomic::{AtomicU8, Ordering};

pub(crate) const HEALTHY: u8 = 0;
/// Reads fail (locked, corrupt, unreadable): retried every poll.
pub(crate) const FAULTY: u8 = 1;
/// The file was deleted or replaced: the old one is closed and the path is watched for a ledger
/// database to reopen.
pub(crate) const REPLACED: u8 = 2;
/// Reads work but a write failed (a full disk, a write lock held past the busy timeout): probed
/// once a second with a write.
pub(crate) const UNWRITABLE: u8 = 3;

/// Whether the database is usable, as last seen by the watcher (or by a write that failed).
#[derive(Debug)]
pub struct DbHealth(pub(crate) AtomicU8);

impl Default for DbHealth {
    fn default() -> Self {
        DbHealth(AtomicU8::new(HEALTHY))
    }
}

impl DbHealth {
    pub fn is_healthy(&self) -> bool {
        self.0.load(Ordering::SeqCst) == HEALTHY
    }

    /// Whether authentication must fail without asking the database: its file is gone (what the
    /// server could read is not what operators revoke in), or writes fail (a revocation could not
    /// be recorded, so none is promised: fail closed, as a server that cannot audit refuses to serve).
    pub fn fails_closed(&self) -> bool {
        matches!(self.0.load(Ordering::SeqCst), REPLACED | UNWRITABLE)
    }

    pub(crate) fn get(&self) -> u8 {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn set(&self, state: u8) -> u8 {
        self.0.swap(state, Ordering::SeqCst)
    }
}
