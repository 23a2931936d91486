//! The per-credential rate limit of SPEC §6 (`rate_limit: {"limit": N, "window_s": S}`), kept in the
//! cached credential so that checking it on a cache hit costs one atomic compare-and-swap: no lock,
//! no allocation, no database.
//!
//! It is GCRA, the token bucket written as one number: the "theoretical arrival time" of the next
//! request. Each admitted request moves it on by S/N; a request is refused while that would put it
//! more than S ahead of now. So a full bucket holds N requests (a burst of N at once), and it
//! refills at N per S. Per process, as SPEC says. The buckets live in [`KeyLimiters`], apart from
//! the credential cache: a credential re-read from the database (after its TTL, an eviction, or
//! with the cache off) finds its bucket as it left it; a changed limit starts a new one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use et_api::RateLimit;

/// Nanoseconds on a monotonic clock (wall-clock steps do not refill or drain a bucket).
pub fn now_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    Instant::now().saturating_duration_since(start).as_nanos() as u64
}

/// Most buckets kept at once (about 100 bytes each). Past it moka evicts the least used; a bucket
/// idle for a whole window is full anyway, and that is all eviction forgets.
const MAX_BUCKETS: u64 = 200_000;

/// The buckets of every rate-limited credential, by `api_key`.
pub struct KeyLimiters(moka::sync::Cache<Arc<str>, Arc<KeyLimiter>>);

impl std::fmt::Debug for KeyLimiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLimiters").field("buckets", &self.0.entry_count()).finish()
    }
}

impl Default for KeyLimiters {
    fn default() -> Self {
        // A bucket untouched for the longest window SPEC allows is full again: forgetting it
        // then loses nothing.
        let idle = Duration::from_secs(u64::from(RateLimit::MAX_WINDOW_S));
        KeyLimiters(moka::sync::Cache::builder().max_capacity(MAX_BUCKETS).time_to_idle(idle).build())
    }
}

impl KeyLimiters {
    /// The bucket of `api_key` for `limit`: the one it had, or a full one when it had none or its
    /// limit changed. Only a cache miss asks (a hit uses the entry's own `Arc`).
    pub fn bucket(&self, api_key: &Arc<str>, limit: RateLimit) -> Arc<KeyLimiter> {
        if let Some(existing) = self.0.get(api_key)
            && existing.limit == limit
        {
            return existing;
        }
        let fresh = Arc::new(KeyLimiter::new(limit));
        self.0.insert(api_key.clone(), fresh.clone());
        fresh
    }
}

/// One credential's bucket.
#[derive(Debug)]
pub struct KeyLimiter {
    /// The limit this bucket enforces (a changed limit gets a new bucket).
    limit: RateLimit,
    /// When the bucket will next be full, in [`now_ns`] time: 0 when it is full now.
    tat: AtomicU64,
    /// Nanoseconds one request refills in (S / N).
    interval: u64,
    /// S in nanoseconds: how far ahead of now the arrival time may run.
    window: u64,
}

impl KeyLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let window = u64::from(limit.window_s.max(1)) * 1_000_000_000;
        KeyLimiter { limit, tat: AtomicU64::new(0), interval: window / u64::from(limit.limit.max(1)), window }
    }

    /// Admits one request at `now` (nanoseconds, [`now_ns`]), or says how long until one would be.
    pub fn take(&self, now: u64) -> Result<(), Duration> {
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let next = tat.max(now) + self.interval;
            if next - now > self.window {
                return Err(Duration::from_nanos(next - self.window - now));
            }
            match self.tat.compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Ok(()),
                Err(seen) => tat = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn a_burst_of_the_limit_then_one_per_interval() {
        let limiter = KeyLimiter::new(RateLimit { limit: 3, window_s: 6 }); // one every 2 s
        let t0 = 10 * S;
        for _ in 0..3 {
            assert!(limiter.take(t0).is_ok());
        }
        assert_eq!(limiter.take(t0), Err(Duration::from_secs(2)));
        assert_eq!(limiter.take(t0 + S / 2), Err(Duration::from_millis(1500)));
        assert!(limiter.take(t0 + 2 * S).is_ok());
        assert!(limiter.take(t0 + 2 * S).is_err());
        // A whole window later the bucket is full again, and no fuller.
        let later = t0 + 20 * S;
        for _ in 0..3 {
            assert!(limiter.take(later).is_ok());
        }
        assert!(limiter.take(later).is_err());
    }

    #[test]
    fn a_bucket_outlives_a_re_read_of_its_credential_and_a_new_limit_starts_afresh() {
        let limiters = KeyLimiters::default();
        let key: Arc<str> = "ak_x".into();
        let limit = RateLimit { limit: 2, window_s: 60 };
        let t0 = 10 * S;
        assert!(limiters.bucket(&key, limit).take(t0).is_ok());
        assert!(limiters.bucket(&key, limit).take(t0).is_ok());
        // The credential read again (a cache miss, or the cache off): the same, empty bucket.
        assert!(limiters.bucket(&key, limit).take(t0).is_err());
        let raised = RateLimit { limit: 3, window_s: 60 };
        assert!(limiters.bucket(&key, raised).take(t0).is_ok());
    }

    #[test]
    fn concurrent_takes_never_admit_more_than_the_limit() {
        let limiter = std::sync::Arc::new(KeyLimiter::new(RateLimit { limit: 1000, window_s: 3600 }));
        let now = 5 * S;
        let admitted: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let limiter = limiter.clone();
                    scope.spawn(move || (0..600).filter(|_| limiter.take(now).is_ok()).count())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(admitted, 1000);
    }
}
