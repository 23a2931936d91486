//! The store the server uses right now. The watcher swaps it when the database file is deleted or
//! replaced under the running server: first for [`Detached`] (every call fails, so nothing is read
//! from or written to a file operators no longer see, and the old connections close), then for the
//! ledger database that appears at the configured path again.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use et_store::{
    Account, AuditEvent, AuthEntry, Changes, Counts, CredentialRecord, CredentialStore, CredentialUpdate,
    NewCredential, StatusFilter, StoreError,
};

/// A swappable `Arc<dyn CredentialStore>`. Cache hits never read it; everything else takes a
/// read lock for the length of one `Arc` clone.
pub struct StoreSlot(RwLock<Arc<dyn CredentialStore>>);

impl std::fmt::Debug for StoreSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSlot").finish_non_exhaustive()
    }
}

impl StoreSlot {
    pub fn new(store: Arc<dyn CredentialStore>) -> Self {
        StoreSlot(RwLock::new(store))
    }

    /// The current store.
    pub fn get(&self) -> Arc<dyn CredentialStore> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Puts `store` in and returns the one it replaces.
    pub fn replace(&self, store: Arc<dyn CredentialStore>) -> Arc<dyn CredentialStore> {
        std::mem::replace(&mut *self.0.write().unwrap_or_else(PoisonError::into_inner), store)
    }
}

/// The store of a server whose database file went away: every call fails with
/// [`StoreError::FileReplaced`].
#[derive(Debug)]
pub struct Detached {
    pub path: PathBuf,
}

impl Detached {
    fn err<T>(&self) -> Result<T, StoreError> {
        Err(StoreError::FileReplaced { path: self.path.display().to_string() })
    }
}

impl CredentialStore for Detached {
    fn register(&self, _: &NewCredential) -> Result<CredentialRecord, StoreError> {
        self.err()
    }
    fn register_many(
        &self,
        credentials: &[NewCredential],
        _: Option<u64>,
    ) -> Vec<Result<CredentialRecord, StoreError>> {
        credentials.iter().map(|_| self.err()).collect()
    }
    fn update(&self, _: &str, _: &CredentialUpdate, _: &str) -> Result<CredentialRecord, StoreError> {
        self.err()
    }
    fn count_active(&self) -> Result<u64, StoreError> {
        self.err()
    }
    fn auth_entry(&self, _: &str) -> Result<Option<AuthEntry>, StoreError> {
        self.err()
    }
    fn get(&self, _: &str) -> Result<Option<CredentialRecord>, StoreError> {
        self.err()
    }
    fn list(
        &self,
        _: StatusFilter,
        _: u32,
        _: Option<&str>,
    ) -> Result<(Vec<CredentialRecord>, Option<String>), StoreError> {
        self.err()
    }
    fn revoke(&self, _: &str, _: &str, _: Option<&str>) -> Result<CredentialRecord, StoreError> {
        self.err()
    }
    fn record_usage(&self, _: &[(String, i64)]) -> Result<(), StoreError> {
        self.err()
    }
    fn poll_changes(&self) -> Result<Changes, StoreError> {
        self.err()
    }
    fn audit_page(
        &self,
        _: Option<&str>,
        _: u32,
        _: Option<i64>,
    ) -> Result<(Vec<AuditEvent>, Option<i64>), StoreError> {
        self.err()
    }
    fn counts(&self) -> Result<Counts, StoreError> {
        self.err()
    }
    fn check(&self) -> Result<(), StoreError> {
        self.err()
    }
    fn check_revocable(&self) -> Result<(), StoreError> {
        self.err()
    }
    fn check_write(&self) -> Result<(), StoreError> {
        self.err()
    }
    fn create_account(&self, _: &str, _: &str) -> Result<Account, StoreError> {
        self.err()
    }
    fn list_accounts(&self, _: u32, _: Option<&str>) -> Result<(Vec<Account>, Option<String>), StoreError> {
        self.err()
    }
    fn get_account(&self, _: &str) -> Result<Option<Account>, StoreError> {
        self.err()
    }
}
