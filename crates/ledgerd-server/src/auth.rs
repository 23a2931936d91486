//! Authentication: the `X-Api-Key`/`X-Api-Secret` check behind every protected route, through the
//! credential cache ([`crate::cache`]).
//!
//! A cache hit costs a SHA-256 of the presented secret, one map lookup and a constant-time compare,
//! all inline on the async thread. Only a miss goes to a blocking thread and the database. Revocations
//! evict entries (through the API before the answer is sent; from the database within the watcher's
//! poll interval), and an invalidation epoch stops a miss that read the database before a revocation
//! from putting the stale answer back afterwards.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use et_api::{HEADER_API_KEY, HEADER_API_SECRET};
use et_core::{ApiKey, SecretHash};
use et_store::{AllowedIps, Scopes};

use crate::cache::{AuthCache, CachedEntry};
use crate::client::ClientAddr;
use crate::error::ApiError;
use crate::metrics::{AuthOutcome, Metrics};
use crate::ratelimit;
use crate::state::AppState;

/// The authenticated credential of a request. Taking it as a handler argument is what makes a
/// route require authentication.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<CachedEntry>);

impl Caller {
    pub fn api_key(&self) -> &str {
        &self.0.api_key
    }

    pub fn label(&self) -> Option<&str> {
        self.0.label.as_deref()
    }

    pub fn scopes(&self) -> Scopes {
        self.0.scopes
    }

    /// `expires_at` in unix milliseconds; `None`: never.
    pub fn expires_ms(&self) -> Option<i64> {
        self.0.expires_ms
    }

    pub fn allowed_ips(&self) -> &AllowedIps {
        &self.0.allowed_ips
    }

    pub fn rate_limit(&self) -> Option<et_api::RateLimit> {
        self.0.rate_limit
    }
}

/// Put in the request's extensions by the request logger, filled by [`Caller`] so the log line and
/// nothing else learns who called.
#[derive(Clone, Default)]
pub struct CallerSlot(pub Arc<OnceLock<Arc<CachedEntry>>>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ClientAddr(client) = ClientAddr::of(&parts.extensions);
        let result = match authenticate(state, &parts.headers).await {
            // Only a failure touches the limiter: a 401 is spent from this client's bucket, and
            // once it is empty the refusal is a 429. A correct credential is never refused, cached
            // or not: looking it up costs a point read, which refusing would not save.
            Err(e) if e.code == et_api::ErrorCode::Unauthorized => {
                Err(ratelimit::spend(state.auth_limit.as_ref(), client, "failed authentications").err().unwrap_or(e))
            }
            other => other,
        };
        let outcome = match &result {
            Ok(_) => AuthOutcome::Ok,
            Err(e) if matches!(e.code, et_api::ErrorCode::Unauthorized | et_api::ErrorCode::RateLimited) => {
                AuthOutcome::Unauthorized
            }
            Err(_) => AuthOutcome::Error,
        };
        state.metrics.auth(outcome);
        let entry = result?;
        if let Some(slot) = parts.extensions.get::<CallerSlot>() {
            let _ = slot.0.set(entry.clone());
        }
        Ok(Caller(entry))
    }
}

/// The one value of header `name`; none when it is missing, not visible ASCII, or repeated (two
/// keys or secrets are ambiguous, whichever a proxy would pick).
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Arc<CachedEntry>, ApiError> {
    let (Some(api_key), Some(secret)) = (header(headers, HEADER_API_KEY), header(headers, HEADER_API_SECRET)) else {
        return Err(ApiError::unauthorized());
    };
    // Hash first, whatever the key turns out to be, so every refusal past this point costs the same.
    let presented = SecretHash::of(secret);
    let auth = &state.auth;
    let metrics: &Metrics = &state.metrics;
    let healthy = state.health.is_healthy();
    // Only keys that parsed are ever cached, so a hit needs no parsing (a SHA-256 less).
    if healthy && let Some(entry) = auth.lookup(api_key) {
        metrics.cache_hit();
        return admit(auth, entry, &presented);
    }
    if ApiKey::parse(api_key).is_err() {
        return Err(ApiError::unauthorized());
    }
    if !healthy && state.health.fails_closed() {
        // The database file is gone (what could be read is not what operators revoke in), or it
        // takes no writes (no revocation could be recorded): refuse, never 401.
        return Err(ApiError::internal("the database file is gone or takes no writes; see the earlier error"));
    }
    metrics.cache_miss();
    // Read the epoch before the database: an invalidation after this point prevents caching.
    let epoch = auth.epoch.load(Ordering::SeqCst);
    let store = state.store();
    let key = api_key.to_owned();
    // A point read on a free connection takes a few µs, less than handing it to a blocking thread
    // (a context switch each way, ~20 µs on a busy core): it runs inline when SQLite can answer
    // without waiting, and goes to a blocking thread otherwise.
    let found = match store.auth_entry_now(&key) {
        Some(found) => found.map(|e| (key, e)),
        None => tokio::task::spawn_blocking(move || store.auth_entry(&key).map(|e| (key, e)))
            .await
            .map_err(ApiError::internal)?,
    };
    let (key, found) = found.map_err(ApiError::store)?;
    // An unknown key is cached as an entry holding a random hash that no secret matches, so probing
    // with unknown keys costs what a wrong secret costs (a cache hit after the first time) and does
    // not reach the database. Registration evicts it: through the API before the 201 is sent, from
    // another process when the watcher sees the audit row.
    let entry = Arc::new(match found {
        Some(found) => CachedEntry {
            secret_hash: found.secret_hash.unwrap_or_else(|| {
                tracing::warn!(
                    api_key = %key,
                    "the stored api_secret_hash of this credential is not 64 lowercase hex digits, so no secret \
                     matches it; revoke it and register a new credential"
                );
                auth.dummy_hash
            }),
            api_key: key.into(),
            label: found.label.map(Into::into),
            active: found.active,
            last_used_ms: AtomicI64::new(0),
            queued: AtomicBool::new(false),
            written_ms: AtomicI64::new(found.last_used_ms.unwrap_or(i64::MIN)),
            expires_ms: found.expires_ms,
            scopes: found.scopes,
            allowed_ips: found.allowed_ips,
            rate_limit: found.rate_limit,
        },
        None => CachedEntry {
            api_key: key.into(),
            label: None,
            secret_hash: auth.dummy_hash,
            active: false,
            last_used_ms: AtomicI64::new(0),
            queued: AtomicBool::new(false),
            written_ms: AtomicI64::new(i64::MIN),
            expires_ms: None,
            scopes: Scopes::NONE,
            allowed_ips: AllowedIps::ANYWHERE,
            rate_limit: None,
        },
    });
    // Revoked entries are cached too (revocation is permanent), so a forgotten service still calling
    // with a revoked key does not cost a database read per request. While the database is unhealthy
    // nothing is cached: every request asks it, and fails closed.
    if healthy {
        auth.insert_if_current(entry.clone(), epoch);
    }
    admit(auth, entry, &presented)
}

/// Lets a request in when the presented secret matches and the credential is active.
fn admit(auth: &AuthCache, entry: Arc<CachedEntry>, presented: &SecretHash) -> Result<Arc<CachedEntry>, ApiError> {
    // Non-short-circuiting: the compare runs whether or not the credential is active.
    if !(entry.secret_hash.ct_matches(presented) & entry.active) {
        return Err(ApiError::unauthorized());
    }
    auth.mark_used(&entry);
    Ok(entry)
}
