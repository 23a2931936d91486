//! Per-client rate limits: on failed authentications and on refused registrations, keyed by the
//! client address ([`crate::client::ClientAddr`]: the peer, or the nearest untrusted
//! `X-Forwarded-For` hop behind a trusted proxy; an IPv6 client by its /64, which is what one host
//! usually gets).
//!
//! A token bucket per client: it holds up to `per_minute` tokens and refills at `per_minute / 60`
//! a second. Only failures spend a token, and only a failure is ever refused: once its client's
//! bucket is empty a failure is answered 429 instead of 401/4xx. A correct credential or a valid
//! pair is never refused (it costs a hash and a point read, which a limiter could not save), so
//! clients sharing an address with an attacker (behind one proxy, one NAT) are not locked out,
//! and a cache hit never touches the limiter at all.
//!
//! Behind a reverse proxy not listed in `LEDGERD_TRUSTED_PROXIES` every client has the proxy's
//! address and shares one bucket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// Most clients tracked at once; past it, buckets that have refilled are forgotten first, and if
/// none has, new clients share one overflow bucket until some have: the table never grows without
/// bound, and no client is ever "not limited" because of it.
const MAX_CLIENTS: usize = 65_536;

/// One limit (say, failed authentications) for every client.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    map: HashMap<IpAddr, Bucket>,
    /// Shared by the clients that found the table full. Only failures spend from it, so sharing
    /// it costs the clients behind it nothing but the 401s that become 429s.
    overflow: Bucket,
    /// When a full map may next be swept (so a flood of new addresses cannot make every insert a scan).
    next_sweep: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The key of a client: its IPv4 address, or the /64 of its IPv6 address.
fn client(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Spends one token of `limiter` (if on) for `ip` (if known), or the 429 to answer.
pub fn spend(limiter: Option<&RateLimiter>, ip: Option<IpAddr>, what: &str) -> Result<(), ApiError> {
    let (Some(limiter), Some(ip)) = (limiter, ip) else { return Ok(()) };
    limiter.take(ip, Instant::now()).map_err(|wait| ApiError::rate_limited(what, wait))
}

impl RateLimiter {
    /// A limiter of `per_minute` events per client; `None` when the limit is off (0).
    pub fn new(per_minute: u32) -> Option<Self> {
        (per_minute > 0).then(|| RateLimiter {
            per_minute,
            buckets: Mutex::new(Buckets {
                map: HashMap::new(),
                overflow: Bucket { tokens: f64::from(per_minute), at: Instant::now() },
                next_sweep: Instant::now(),
            }),
        })
    }

    fn rate(&self) -> f64 {
        f64::from(self.per_minute) / 60.0
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.rate()).min(f64::from(self.per_minute))
    }

    fn wait(&self, tokens: f64) -> Duration {
        // Whole seconds for Retry-After, at least one.
        Duration::from_secs(((1.0 - tokens) / self.rate()).ceil().max(1.0) as u64)
    }

    /// Spends one token of `ip` for a failure: `Err(wait)` when it had none left.
    pub fn take(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = client(ip);
        let full = f64::from(self.per_minute);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let buckets = &mut *buckets;
        if !buckets.map.contains_key(&key) && buckets.map.len() >= MAX_CLIENTS && now >= buckets.next_sweep {
            let rate = self.rate();
            buckets.map.retain(|_, b| b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < full);
            buckets.next_sweep = now + Duration::from_secs(1);
        }
        let bucket = if buckets.map.contains_key(&key) || buckets.map.len() < MAX_CLIENTS {
            buckets.map.entry(key).or_insert(Bucket { tokens: full, at: now })
        } else {
            &mut buckets.overflow
        };
        let tokens = self.refilled(*bucket, now);
        if tokens >= 1.0 {
            *bucket = Bucket { tokens: tokens - 1.0, at: now };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            Err(self.wait(tokens))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_for_the_refill() {
        let limiter = RateLimiter::new(6).unwrap(); // one token every 10 s
        let t0 = Instant::now();
        for _ in 0..6 {
            assert!(limiter.take(ip("10.0.0.1"), t0).is_ok());
        }
        assert_eq!(limiter.take(ip("10.0.0.1"), t0), Err(Duration::from_secs(10)));
        // Other clients are not affected.
        assert!(limiter.take(ip("10.0.0.2"), t0).is_ok());
        // After 4 s, 6 s are left to wait; after 10 s one more event is allowed.
        assert_eq!(limiter.take(ip("10.0.0.1"), t0 + Duration::from_secs(4)), Err(Duration::from_secs(6)));
        assert!(limiter.take(ip("10.0.0.1"), t0 + Duration::from_secs(10)).is_ok());
        assert!(limiter.take(ip("10.0.0.1"), t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_mapped_v4_by_the_v4() {
        let limiter = RateLimiter::new(1).unwrap();
        let t0 = Instant::now();
        assert!(limiter.take(ip("2001:db8:1:2::1"), t0).is_ok());
        assert!(limiter.take(ip("2001:db8:1:2:ffff::9"), t0).is_err());
        assert!(limiter.take(ip("2001:db8:1:3::1"), t0).is_ok());
        assert!(limiter.take(ip("192.0.2.7"), t0).is_ok());
        assert!(limiter.take(ip("::ffff:192.0.2.7"), t0).is_err());
    }

    #[test]
    fn zero_is_off() {
        assert!(RateLimiter::new(0).is_none());
    }

    #[test]
    fn a_full_table_never_fails_open() {
        let limiter = RateLimiter::new(5).unwrap();
        let t0 = Instant::now();
        // 70 000 distinct addresses, each failing once: none has refilled, nothing can be swept.
        for i in 0..70_000u32 {
            let _ = limiter.take(IpAddr::V4((0x0a00_0000 + i).into()), t0);
        }
        assert!(limiter.buckets.lock().unwrap().map.len() <= MAX_CLIENTS);
        // A new address that keeps failing is still limited.
        let newcomer = ip("198.51.100.9");
        let refused = (0..10).filter(|_| limiter.take(newcomer, t0).is_err()).count();
        assert!(refused >= 5, "a new address past a full table was not limited ({refused} of 10 refused)");
    }

    #[test]
    fn the_map_stays_bounded() {
        let limiter = RateLimiter::new(1).unwrap();
        let t0 = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 10) {
            let _ = limiter.take(IpAddr::V4(i.into()), t0);
        }
        assert!(limiter.buckets.lock().unwrap().map.len() <= MAX_CLIENTS);
        // A minute later every bucket has refilled, and the sweep makes room.
        let later = t0 + Duration::from_secs(61);
        assert!(limiter.take(ip("203.0.113.1"), later).is_ok());
        assert!(limiter.buckets.lock().unwrap().map.len() < 10);
    }
}
