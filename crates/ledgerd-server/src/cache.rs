//! The in-process credential cache that makes authentication cheap: verified credentials (and
//! placeholders for unknown keys), the invalidation epoch that keeps a stale read from being cached
//! after a revocation, and the queue of `last_used_at` updates the housekeeper writes.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::keylimit::{KeyLimiter, KeyLimiters};
use et_core::SecretHash;
use et_store::{AllowedIps, AuthEntry, RateLimit, Scopes, USAGE_RESOLUTION_MS};

/// Most credentials kept in the cache; beyond it the least useful are evicted (they are only
/// re-read from the database, never refused). quick_cache's S3-FIFO policy keeps a new key in a
/// small probation queue until it is used again, so a flood of random unknown keys churns that
/// queue and does not push out busy ones. 50 000 entries keep ledgerd under 100 MB with a million
/// credentials in its database (BENCHMARKS.md, scale). A ledger whose busy set is larger pays a
/// database read (a few µs) for the rest.
const CACHE_CAPACITY: usize = 50_000;

/// The cache's map: keyed by the credential's key, hashed with SipHash under a per-process random
/// key (std's `RandomState`) since the keys come from clients. No background work: an insert
/// evicts at once, in constant time, on the thread that inserts (moka, used before, applied its
/// writes in batches of 64 or more on whichever request came next: at a million credentials that
/// was one request in a few hundred waiting ~1 ms, BENCHMARKS.md).
type Map = quick_cache::sync::Cache<Arc<str>, Cached, quick_cache::UnitWeighter, std::hash::RandomState>;

/// A cache entry and when it was cached: it is served for [`AuthCache::ttl`] from then on.
#[derive(Clone)]
struct Cached {
    at: Instant,
    entry: Arc<CachedEntry>,
}

/// Most uses waiting for the housekeeper to write their `last_used_at` (a [`Usage`] each, ~130
/// bytes with its key, which is all a use keeps alive once the cache has evicted its entry): a
/// bound on memory when first uses come faster than they can be written.
const MAX_PENDING_USES: usize = 200_000;

/// A verified, active credential as the cache holds it.
pub struct CachedEntry {
    /// Shared with the cache's key: one allocation per entry, not two.
    pub api_key: Arc<str>,
    pub label: Option<Box<str>>,
    pub(crate) secret_hash: SecretHash,
    /// False for a revoked credential: cached so that it is refused without a database read.
    pub(crate) active: bool,
    /// Its uses, for `last_used_at`; `None` for an unknown key's placeholder, which is never used.
    pub(crate) usage: Option<Arc<Usage>>,
    /// The SPEC §6 fields as the row had them: `expires_at` in unix ms, the scopes, where from,
    /// and the rate limit. Shown by `/whoami`.
    pub(crate) expires_ms: Option<i64>,
    pub(crate) scopes: Scopes,
    pub(crate) allowed_ips: AllowedIps,
    pub(crate) rate_limit: Option<RateLimit>,
    /// The bucket of `rate_limit`, when it has one: per entry, so per process (SPEC §6).
    pub(crate) limiter: Option<Arc<KeyLimiter>>,
}

/// A credential's uses as the usage queue holds them: apart from its cache entry, so that a use
/// waiting to be written keeps this and the key alive, not the whole entry (BENCHMARKS.md, scale
/// peak RSS: up to 200 000 of them wait at once when first uses come faster than they are written).
#[derive(Debug)]
pub struct Usage {
    api_key: Arc<str>,
    /// Unix milliseconds of the latest authenticated use, 0 for none yet.
    last_used_ms: AtomicI64,
    /// Whether `last_used_ms` is waiting in the usage queue to be written.
    queued: AtomicBool,
    /// Unix milliseconds of the `last_used_at` the database holds (as far as this process knows):
    /// a use within [`USAGE_RESOLUTION_MS`] of it is not queued, since the store would not write it.
    written_ms: AtomicI64,
}

impl Usage {
    /// The uses of `api_key`, whose stored `last_used_at` is `written_ms` (`i64::MIN` for none).
    pub fn new(api_key: Arc<str>, written_ms: i64) -> Arc<Self> {
        Arc::new(Usage {
            api_key,
            last_used_ms: AtomicI64::new(0),
            queued: AtomicBool::new(false),
            written_ms: AtomicI64::new(written_ms),
        })
    }
}

impl std::fmt::Debug for CachedEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedEntry").field("api_key", &self.api_key).finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The credential cache, its invalidation epoch, and the queue of `last_used_at` updates.
pub struct AuthCache {
    cache: Option<Map>,
    /// How long an entry is served after it was cached (`LEDGERD_AUTH_CACHE_TTL`).
    ttl: Duration,
    /// Bumped by every invalidation; a miss caches its database answer only if no invalidation
    /// happened since it started reading.
    pub(crate) epoch: AtomicU64,
    /// Taken by invalidations and by inserts after a miss, never by hits, so "check the epoch, then
    /// insert" cannot interleave with "bump the epoch, then evict".
    insert_lock: Mutex<()>,
    /// The hash of unknown keys' entries: random, so no presented secret matches it.
    pub(crate) dummy_hash: SecretHash,
    /// Credentials used since the last flush (each at most once; see [`Usage::queued`]).
    used: Mutex<Vec<Arc<Usage>>>,
    /// The per-credential rate-limit buckets, kept apart from the entries so that they outlive them.
    pub(crate) limiters: KeyLimiters,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache").field("enabled", &self.cache.is_some()).finish_non_exhaustive()
    }
}

impl AuthCache {
    /// A cache whose entries live at most `ttl`; a zero `ttl` disables caching.
    pub fn new(ttl: Duration) -> Self {
        let cache = (!ttl.is_zero()).then(|| {
            let hasher = std::hash::RandomState::new();
            let lifecycle = quick_cache::sync::DefaultLifecycle::default();
            Map::with(CACHE_CAPACITY, CACHE_CAPACITY as u64, quick_cache::UnitWeighter, hasher, lifecycle)
        });
        AuthCache {
            cache,
            ttl,
            epoch: AtomicU64::new(0),
            insert_lock: Mutex::new(()),
            dummy_hash: SecretHash::of(&et_core::random_hex16()),
            used: Mutex::new(Vec::new()),
            limiters: KeyLimiters::default(),
        }
    }

    fn lock_inserts(&self) -> std::sync::MutexGuard<'_, ()> {
        self.insert_lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn lookup(&self, api_key: &str) -> Option<Arc<CachedEntry>> {
        let cache = self.cache.as_ref()?;
        let cached = cache.get(api_key)?;
        if cached.at.elapsed() < self.ttl {
            return Some(cached.entry);
        }
        // Expired: gone, unless an invalidation or a newer miss replaced it meanwhile.
        cache.remove_if(api_key, |now| Arc::ptr_eq(&now.entry, &cached.entry));
        None
    }

    /// Caches `entry` unless an invalidation happened after `epoch` was read.
    pub(crate) fn insert_if_current(&self, entry: Arc<CachedEntry>, epoch: u64) {
        let Some(cache) = &self.cache else { return };
        let _guard = self.lock_inserts();
        if self.epoch.load(Ordering::SeqCst) == epoch {
            cache.insert(entry.api_key.clone(), Cached { at: Instant::now(), entry });
        }
    }

    /// Drops one credential from the cache; true when it was cached.
    pub fn invalidate(&self, api_key: &str) -> bool {
        let _guard = self.lock_inserts();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.cache.as_ref().and_then(|c| c.remove(api_key)).is_some()
    }

    /// Drops the "unknown key" placeholder cached for `api_key`, if that is what is cached: its
    /// registration made it a real credential. An entry for a real credential stays, so a busy
    /// credential is not turned into a cache miss when the watcher sees its own registration.
    pub fn invalidate_unknown(&self, api_key: &str) -> bool {
        let Some(cache) = &self.cache else { return false };
        let _guard = self.lock_inserts();
        // A miss that read the database before the registration committed must not cache
        // "unknown" afterwards.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        match cache.get(api_key) {
            Some(cached) if cached.entry.secret_hash == self.dummy_hash => cache.remove(api_key).is_some(),
            _ => false,
        }
    }

    /// Starts re-checking the cache against the database: bumps the epoch (a miss that read its row
    /// before this point does not cache it afterwards, so whatever the sweep misses is not put back
    /// stale) and returns every entry cached now.
    pub fn begin_sweep(&self) -> Vec<Arc<CachedEntry>> {
        {
            let _guard = self.lock_inserts();
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
        self.cache.as_ref().map(|c| c.iter().map(|(_, cached)| cached.entry).collect()).unwrap_or_default()
    }

    /// Whether `entry` is still what a miss would cache for `row` (the credential's row now, `None`
    /// when there is none): same hash, state, label, expiry, scopes, addresses and limit; an
    /// unknown-key placeholder only while the key is still unknown.
    pub fn still_matches(&self, entry: &CachedEntry, row: Option<&AuthEntry>) -> bool {
        match row {
            None => entry.secret_hash == self.dummy_hash && !entry.active && entry.label.is_none(),
            Some(row) => {
                entry.secret_hash == row.secret_hash.unwrap_or(self.dummy_hash)
                    && entry.active == row.active
                    && entry.label.as_deref() == row.label.as_deref()
                    && entry.expires_ms == row.expires_ms
                    && entry.scopes == row.scopes
                    && entry.allowed_ips == row.allowed_ips
                    && entry.rate_limit == row.rate_limit
            }
        }
    }

    /// Drops every cached credential; returns how many there were.
    pub fn invalidate_all(&self) -> u64 {
        let _guard = self.lock_inserts();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let Some(cache) = &self.cache else { return 0 };
        let count = cache.len() as u64;
        cache.clear();
        count
    }

    #[cfg(test)]
    pub(crate) fn mark_used(&self, entry: &CachedEntry) {
        self.mark_used_at(entry, now_ms());
    }

    /// Records a use of `entry` at `now` (unix ms).
    pub(crate) fn mark_used_at(&self, entry: &CachedEntry, now: i64) {
        let Some(usage) = &entry.usage else { return };
        usage.last_used_ms.store(now, Ordering::SeqCst);
        if now.saturating_sub(usage.written_ms.load(Ordering::SeqCst)) < USAGE_RESOLUTION_MS {
            return;
        }
        // Queue the credential once until the next flush; later uses only move the timestamp.
        if !usage.queued.swap(true, Ordering::SeqCst) {
            let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
            if used.len() < MAX_PENDING_USES {
                used.push(usage.clone());
            } else {
                // The housekeeper is behind: this use goes unrecorded (it is informational), and
                // the credential is queued again at its next use, rather than the queue growing
                // without bound under a flood of first uses.
                usage.queued.store(false, Ordering::SeqCst);
            }
        }
    }

    /// Takes the `(api_key, unix ms)` uses recorded since the last call.
    pub fn take_usage(&self) -> Vec<(String, i64)> {
        let entries = std::mem::take(&mut *self.used.lock().unwrap_or_else(PoisonError::into_inner));
        entries
            .into_iter()
            .map(|usage| {
                // Unqueue before reading the time: a use that lands in between queues it again.
                usage.queued.store(false, Ordering::SeqCst);
                let used = usage.last_used_ms.load(Ordering::SeqCst);
                // Written now (or lost with its batch: last_used_at is informational).
                usage.written_ms.fetch_max(used, Ordering::SeqCst);
                (usage.api_key.to_string(), used)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> Arc<CachedEntry> {
        Arc::new(CachedEntry {
            api_key: key.into(),
            label: None,
            secret_hash: SecretHash::of("s"),
            active: true,
            usage: Some(Usage::new(key.into(), i64::MIN)),
            expires_ms: None,
            scopes: Scopes::ALL,
            allowed_ips: AllowedIps::ANYWHERE,
            rate_limit: None,
            limiter: None,
        })
    }

    #[test]
    fn a_sweep_keeps_only_entries_their_rows_still_agree_with() {
        let cache = AuthCache::new(Duration::from_secs(60));
        let row = |hash: Option<SecretHash>, active: bool, label: Option<&str>| AuthEntry {
            secret_hash: hash,
            active,
            label: label.map(str::to_owned),
            last_used_ms: None,
            expires_ms: None,
            scopes: Scopes::ALL,
            allowed_ips: AllowedIps::ANYWHERE,
            rate_limit: None,
        };
        let real = entry("k");
        let s = Some(SecretHash::of("s"));
        assert!(cache.still_matches(&real, Some(&row(s, true, None))));
        assert!(!cache.still_matches(&real, Some(&row(s, false, None))), "revoked without an audit row");
        assert!(!cache.still_matches(&real, Some(&row(Some(SecretHash::of("t")), true, None))), "another hash");
        assert!(!cache.still_matches(&real, Some(&row(s, true, Some("l")))), "another label");
        let changed = [
            AuthEntry { expires_ms: Some(1), ..row(s, true, None) },
            AuthEntry { scopes: Scopes::NONE, ..row(s, true, None) },
            AuthEntry { allowed_ips: AllowedIps::new(vec!["10.0.0.0/8".parse().unwrap()]), ..row(s, true, None) },
            AuthEntry { rate_limit: Some(RateLimit { limit: 1, window_s: 1 }), ..row(s, true, None) },
        ];
        for other in &changed {
            assert!(!cache.still_matches(&real, Some(other)), "changed without an audit row: {other:?}");
        }
        assert!(!cache.still_matches(&real, None), "the row is gone");
        assert!(!cache.still_matches(&real, Some(&row(None, true, None))), "a malformed hash");
        let unknown = CachedEntry {
            api_key: "u".into(),
            label: None,
            secret_hash: cache.dummy_hash,
            active: false,
            usage: None,
            expires_ms: None,
            scopes: Scopes::NONE,
            allowed_ips: AllowedIps::ANYWHERE,
            rate_limit: None,
            limiter: None,
        };
        assert!(cache.still_matches(&unknown, None));
        assert!(!cache.still_matches(&unknown, Some(&row(s, true, None))), "registered without an audit row");

        let epoch = cache.epoch.load(Ordering::SeqCst);
        cache.insert_if_current(real, epoch);
        let epoch = cache.epoch.load(Ordering::SeqCst);
        let swept = cache.begin_sweep();
        assert_eq!(swept.len(), 1);
        // A miss that read its row before the sweep began does not cache it after.
        cache.insert_if_current(entry("late"), epoch);
        assert!(cache.lookup("late").is_none());
    }

    #[test]
    fn a_registration_evicts_an_unknown_placeholder_but_not_a_real_credential() {
        let cache = AuthCache::new(Duration::from_secs(60));
        let epoch = cache.epoch.load(Ordering::SeqCst);
        cache.insert_if_current(entry("real"), epoch);
        let placeholder = Arc::new(CachedEntry {
            api_key: "unknown".into(),
            label: None,
            secret_hash: cache.dummy_hash,
            active: false,
            usage: None,
            expires_ms: None,
            scopes: Scopes::NONE,
            allowed_ips: AllowedIps::ANYWHERE,
            rate_limit: None,
            limiter: None,
        });
        let epoch = cache.epoch.load(Ordering::SeqCst);
        cache.insert_if_current(placeholder, epoch);

        assert!(!cache.invalidate_unknown("real"), "a cached credential survives its own registration event");
        assert!(cache.lookup("real").is_some());
        assert!(cache.invalidate_unknown("unknown"));
        assert!(cache.lookup("unknown").is_none());
        // A miss that read "unknown" before the registration committed does not put it back.
        let epoch = cache.epoch.load(Ordering::SeqCst);
        cache.invalidate_unknown("other");
        cache.insert_if_current(entry("other"), epoch);
        assert!(cache.lookup("other").is_none());
    }

    #[test]
    fn a_miss_that_raced_an_invalidation_is_not_cached() {
        let cache = AuthCache::new(Duration::from_secs(60));
        let epoch = cache.epoch.load(Ordering::SeqCst);
        cache.invalidate("k");
        cache.insert_if_current(entry("k"), epoch);
        assert!(cache.lookup("k").is_none());

        let epoch = cache.epoch.load(Ordering::SeqCst);
        cache.insert_if_current(entry("k"), epoch);
        assert!(cache.lookup("k").is_some());
        assert!(cache.invalidate("k"));
        assert!(cache.lookup("k").is_none());
    }

    #[test]
    fn usage_is_queued_once_per_flush_and_keeps_the_latest_time() {
        let cache = AuthCache::new(Duration::from_secs(60));
        let e = entry("k");
        cache.mark_used(&e);
        cache.mark_used(&e);
        let uses = cache.take_usage();
        assert_eq!(uses.len(), 1);
        assert!(uses[0].1 > 0);
        assert!(cache.take_usage().is_empty());
        // Within the minute of the time just written, a use is not worth writing again...
        cache.mark_used(&e);
        assert!(cache.take_usage().is_empty());
        // ...a minute later it is.
        e.usage.as_ref().unwrap().written_ms.fetch_sub(USAGE_RESOLUTION_MS, Ordering::SeqCst);
        cache.mark_used(&e);
        assert_eq!(cache.take_usage().len(), 1);
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = AuthCache::new(Duration::ZERO);
        cache.insert_if_current(entry("k"), 0);
        assert!(cache.lookup("k").is_none());
    }

    #[test]
    fn an_entry_is_served_for_its_ttl_and_not_after() {
        let ttl = Duration::from_millis(300);
        let cache = AuthCache::new(ttl);
        let cached_at = Instant::now();
        cache.insert_if_current(entry("k"), 0);
        let served = cache.lookup("k").is_some();
        // Asserted only when the lookup surely came within the TTL (a stalled test machine is no failure).
        if cached_at.elapsed() < ttl {
            assert!(served, "served within its TTL");
        }
        std::thread::sleep(ttl);
        assert!(cache.lookup("k").is_none(), "expired");
        assert_eq!(cache.invalidate_all(), 0, "an expired entry is dropped when looked up");
    }

    #[test]
    fn a_flood_of_new_keys_does_not_push_out_a_busy_one() {
        let cache = AuthCache::new(Duration::from_secs(60));
        cache.insert_if_current(entry("busy"), 0);
        for _ in 0..3 {
            assert!(cache.lookup("busy").is_some());
        }
        // Twice the capacity of keys used once, the busy key not used meanwhile: a least-recently-used
        // cache would have dropped it after CACHE_CAPACITY of them.
        for i in 0..2 * CACHE_CAPACITY {
            cache.insert_if_current(entry(&format!("junk{i}")), 0);
        }
        assert!(cache.lookup("busy").is_some(), "the busy key was pushed out");
        let last = format!("junk{}", 2 * CACHE_CAPACITY - 1);
        assert!(cache.lookup(&last).is_some(), "a new key is cached");
        let held = cache.invalidate_all();
        assert!(held <= CACHE_CAPACITY as u64 + 64, "the cache holds {held} entries, over its capacity");
    }
}
