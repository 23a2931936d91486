//! Authentication: the `X-Api-Key`/`X-Api-Secret` check behind every protected route, through the
//! credential cache ([`crate::cache`]).
//!
//! A cache hit costs a SHA-256 of the presented secret, one map lookup and a constant-time compare,
//! all inline on the async thread. Only a miss goes to a blocking thread and the database. Revocations
//! evict entries (through the API before the answer is sent; from the database within the watcher's
//! poll interval), and an invalidation epoch stops a miss that read the database before a revocation
//! from putting the stale answer back afterwards.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use et_api::{ErrorCode, HEADER_API_KEY, HEADER_API_SECRET, RateLimit, Scope};
use et_core::{ApiKey, SecretHash};
use et_store::{AllowedIps, Scopes};

use crate::cache::{AuthCache, CachedEntry, Usage, now_ms};
use crate::client::ClientAddr;
use crate::error::ApiError;
use crate::keylimit;
use crate::metrics::{AuthOutcome, Metrics, RefusalCause};
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

    pub fn scopes(&self) -> Scopes {
        self.0.scopes
    }

    pub fn entry(&self) -> &CachedEntry {
        &self.0
    }
}

/// Put in the request's extensions by the request logger, filled by [`Caller`] so the log line and
/// nothing else learns who called.
#[derive(Clone, Default)]
pub struct CallerSlot(pub Arc<OnceLock<Arc<CachedEntry>>>);

/// The scope a route requires (SPEC §6), put in its requests' extensions by the router from the
/// route table ([`crate::server::route_table`]); a route without one needs no scope.
#[derive(Debug, Clone, Copy)]
pub struct RequiredScope(pub Scope);

/// Why an authentication was refused, as the metrics count it: the client sees one 401 for
/// every cause up to the secret and the expiry.
#[derive(Debug)]
enum Refusal {
    /// No credential, an unknown one, a wrong secret, or revoked.
    Unauthorized,
    Expired,
    IpNotAllowed,
    RateLimited {
        limit: RateLimit,
        wait: Duration,
    },
    Forbidden(Scope),
    /// The database failed, or is unusable: a 500.
    Error(ApiError),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let required = parts.extensions.get::<RequiredScope>().map(|r| r.0);
        Caller::require(parts, state, required).await
    }
}

impl Caller {
    /// Authenticates the request of `parts` and checks the credential's policy, `required` scope
    /// included: what the extractor does with the route's scope, for a handler that authenticates
    /// only sometimes (authenticated registration).
    pub async fn require(parts: &Parts, state: &AppState, required: Option<Scope>) -> Result<Caller, ApiError> {
        let ClientAddr(client) = ClientAddr::of(&parts.extensions);
        let refusal = match authenticate(state, &parts.headers, client, required).await {
            Ok(entry) => {
                state.metrics.auth(AuthOutcome::Ok);
                if let Some(slot) = parts.extensions.get::<CallerSlot>() {
                    let _ = slot.0.set(entry.clone());
                }
                return Ok(Caller(entry));
            }
            Err(refusal) => refusal,
        };
        let (outcome, cause) = match &refusal {
            Refusal::Unauthorized => (AuthOutcome::Unauthorized, Some(RefusalCause::Unauthorized)),
            Refusal::Expired => (AuthOutcome::Unauthorized, Some(RefusalCause::Expired)),
            Refusal::IpNotAllowed => (AuthOutcome::Refused, Some(RefusalCause::IpNotAllowed)),
            Refusal::RateLimited { .. } => (AuthOutcome::Refused, Some(RefusalCause::RateLimited)),
            Refusal::Forbidden(_) => (AuthOutcome::Refused, Some(RefusalCause::Forbidden)),
            Refusal::Error(_) => (AuthOutcome::Error, None),
        };
        state.metrics.auth(outcome);
        if let Some(cause) = cause {
            state.metrics.auth_refused(cause);
        }
        Err(match refusal {
            // Only a failure to authenticate touches the client's limiter: a 401 is spent from this
            // client's bucket, and once it is empty the refusal is a 429. A correct credential is
            // never refused for it, cached or not: looking it up costs a point read, which
            // refusing would not save.
            Refusal::Unauthorized | Refusal::Expired => {
                let e = ApiError::unauthorized();
                ratelimit::spend(state.auth_limit.as_ref(), client, "failed authentications").err().unwrap_or(e)
            }
            Refusal::IpNotAllowed => ApiError::new(
                ErrorCode::IpNotAllowed,
                "this credential may not be used from this client address (it is outside the credential's \
                 allowed_ips); call from an allowed address, or change allowed_ips with PATCH /credentials/{api_key}",
            ),
            Refusal::RateLimited { limit, wait } => ApiError::credential_rate_limited(limit, wait),
            Refusal::Forbidden(scope) => ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "this credential lacks the scope {scope}, which this route requires; use a credential that \
                     holds it, or grant it with PATCH /credentials/{{api_key}} (GET /whoami lists this one's scopes)"
                ),
            ),
            Refusal::Error(e) => e,
        })
    }
}

/// The credential headers, parsed once (a `&str` name is parsed and hashed on every lookup).
const API_KEY: HeaderName = HeaderName::from_static(HEADER_API_KEY);
const API_SECRET: HeaderName = HeaderName::from_static(HEADER_API_SECRET);

/// The one value of header `name`; none when it is missing, not visible ASCII, or repeated (two
/// keys or secrets are ambiguous, whichever a proxy would pick).
fn header<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<IpAddr>,
    required: Option<Scope>,
) -> Result<Arc<CachedEntry>, Refusal> {
    let (Some(api_key), Some(secret)) = (header(headers, &API_KEY), header(headers, &API_SECRET)) else {
        return Err(Refusal::Unauthorized);
    };
    // Hash first, whatever the key turns out to be, so every refusal past this point costs the same.
    let presented = SecretHash::of(secret);
    let auth = &state.auth;
    let metrics: &Metrics = &state.metrics;
    let healthy = state.health.is_healthy();
    // Only keys that parsed are ever cached, so a hit needs no parsing (a SHA-256 less).
    if healthy && let Some(entry) = auth.lookup(api_key) {
        metrics.cache_hit();
        return admit(auth, entry, &presented, client, required);
    }
    if ApiKey::check(api_key).is_err() {
        return Err(Refusal::Unauthorized);
    }
    if !healthy && state.health.fails_closed() {
        // The database file is gone (what could be read is not what operators revoke in), or it
        // takes no writes (no revocation could be recorded): refuse, never 401.
        return Err(Refusal::Error(ApiError::internal(
            "the database file is gone or takes no writes; see the earlier error",
        )));
    }
    metrics.cache_miss();
    // Read the epoch before the database: an invalidation after this point prevents caching.
    let epoch = auth.epoch.load(Ordering::SeqCst);
    let store = state.store();
    // The entry's own copy of the key, made once.
    let key: Arc<str> = Arc::from(api_key);
    // A point read on a free connection takes a few µs, less than handing it to a blocking thread
    // (a context switch each way, ~20 µs on a busy core): it runs inline when SQLite can answer
    // without waiting, and goes to a blocking thread otherwise.
    // PostgreSQL's read is a round trip: awaited here, without a blocking thread in between.
    let found = if let Some(read) = store.auth_entry_async(&key) {
        read.await
    } else {
        match store.auth_entry_now(&key) {
            Some(found) => found,
            None => {
                let key = key.clone();
                tokio::task::spawn_blocking(move || store.auth_entry(&key))
                    .await
                    .map_err(|e| Refusal::Error(ApiError::internal(e)))?
            }
        }
    };
    let found = found.map_err(|e| Refusal::Error(ApiError::store(e)))?;
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
            // The bucket outlives this entry (see keylimit.rs): a re-read keeps what was spent.
            limiter: found.rate_limit.filter(|_| found.active).map(|limit| auth.limiters.bucket(&key, limit)),
            usage: Some(Usage::new(key.clone(), found.last_used_ms.unwrap_or(i64::MIN))),
            api_key: key,
            label: found.label.map(Into::into),
            active: found.active,
            expires_ms: found.expires_ms,
            scopes: found.scopes,
            allowed_ips: found.allowed_ips,
            rate_limit: found.rate_limit,
        },
        None => CachedEntry {
            api_key: key,
            label: None,
            secret_hash: auth.dummy_hash,
            active: false,
            usage: None,
            expires_ms: None,
            scopes: Scopes::NONE,
            allowed_ips: AllowedIps::ANYWHERE,
            rate_limit: None,
            limiter: None,
        },
    });
    // Revoked entries are cached too (revocation is permanent), so a forgotten service still calling
    // with a revoked key does not cost a database read per request. While the database is unhealthy
    // nothing is cached: every request asks it, and fails closed.
    if healthy {
        auth.insert_if_current(entry.clone(), epoch);
    }
    admit(auth, entry, &presented, client, required)
}

/// Lets a request in when, in the order of SPEC §6, the presented secret matches and the credential
/// is not revoked, not expired (to the millisecond, now), used from an allowed address, within its
/// rate limit, and holds the scope the route requires. No database, no lock, no allocation.
fn admit(
    auth: &AuthCache,
    entry: Arc<CachedEntry>,
    presented: &SecretHash,
    client: Option<IpAddr>,
    required: Option<Scope>,
) -> Result<Arc<CachedEntry>, Refusal> {
    // Non-short-circuiting: the compare runs whether or not the credential is active.
    if !(entry.secret_hash.ct_matches(presented) & entry.active) {
        return Err(Refusal::Unauthorized);
    }
    let now = now_ms();
    if et_api::is_expired(entry.expires_ms, now) {
        return Err(Refusal::Expired);
    }
    // A request served without a socket has no address: a restricted credential is refused.
    if !entry.allowed_ips.is_anywhere() && !client.is_some_and(|ip| entry.allowed_ips.allows(ip)) {
        return Err(Refusal::IpNotAllowed);
    }
    if let (Some(limiter), Some(limit)) = (&entry.limiter, entry.rate_limit) {
        limiter.take(keylimit::now_ns()).map_err(|wait| Refusal::RateLimited { limit, wait })?;
    }
    if let Some(scope) = required
        && !entry.scopes.contains(scope)
    {
        return Err(Refusal::Forbidden(scope));
    }
    auth.mark_used_at(&entry, now);
    Ok(entry)
}
