//! The state every handler and background task shares: the lowest floor of the crate. It imports
//! the parts it holds (cache, health, metrics, limiters, the store) and nothing that handles a
//! request; handlers, background tasks and the router sit above it.

use std::sync::Arc;

use et_core::Deriver;
use et_store::CredentialStore;

use crate::cache::AuthCache;
use crate::config::Settings;
use crate::health::DbHealth;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::registrar::Registrar;
use crate::slot::StoreSlot;

/// Everything a handler may need; cloning it is one reference-count increment.
pub type AppState = Arc<Shared>;

/// The state behind [`AppState`].
pub struct Shared {
    /// The database, swapped by the watcher when its file is replaced; see [`Shared::store`].
    pub store: Arc<StoreSlot>,
    /// Registrations, committed in groups (one fsync for all those waiting).
    pub registrar: Registrar,
    pub deriver: Deriver,
    pub auth: Arc<AuthCache>,
    pub metrics: Arc<Metrics>,
    pub health: Arc<DbHealth>,
    /// Failed authentications per client; `None` when off.
    pub auth_limit: Option<RateLimiter>,
    /// Registrations per client; `None` when off.
    pub register_limit: Option<RateLimiter>,
    pub settings: Settings,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Shared {
    /// State for `store`, with an empty cache and fresh metrics; no background threads (but the
    /// registration writer's, started by the first registration).
    pub fn new(settings: Settings, store: Arc<dyn CredentialStore>) -> AppState {
        let slot = Arc::new(StoreSlot::new(store));
        Arc::new(Shared {
            store: slot.clone(),
            registrar: Registrar::new(slot, settings.max_active_credentials),
            deriver: settings.instance_key.deriver(),
            auth: Arc::new(AuthCache::new(settings.auth_cache_ttl)),
            metrics: Arc::new(Metrics::new()),
            health: Arc::new(DbHealth::default()),
            auth_limit: RateLimiter::new(settings.auth_failure_limit),
            register_limit: RateLimiter::new(settings.registration_limit),
            settings,
        })
    }

    /// The database in use now.
    pub fn store(&self) -> Arc<dyn CredentialStore> {
        self.store.get()
    }
}
