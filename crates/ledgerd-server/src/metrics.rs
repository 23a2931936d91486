//! Prometheus metrics of ledgerd: requests and their latency by route, authentication outcomes,
//! the auth cache, credentials by state and database health. Everything is an atomic or a small
//! lock the hot path touches once; `/metrics` only encodes, it never queries the database.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route template (`/credentials/{api_key}`), never the raw path, so the number
    /// of series stays bounded whatever clients send.
    pub route: &'static str,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: &'static str,
}

/// How an authentication ended.
#[derive(Debug, Clone, Copy)]
pub enum AuthOutcome {
    Ok,
    Unauthorized,
    Error,
}

/// Where a cache invalidation came from.
#[derive(Debug, Clone, Copy)]
pub enum InvalidationSource {
    /// A revocation answered by this server.
    Api,
    /// A revocation seen in the database's audit trail (`etctl db revoke`, the sqlite3 shell).
    Db,
    /// The whole cache, dropped because the database became unusable.
    All,
    /// Cached credentials whose rows changed without an audit row, found by re-reading them.
    Sweep,
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~1.6 s: a cache hit is well under a millisecond, a write with fsync a few ms.
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

/// All of ledgerd's metrics and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    auth: Family<OutcomeLabels, Counter>,
    cache_hits: Counter,
    cache_misses: Counter,
    invalidations: Family<SourceLabels, Counter>,
    credentials: Family<StateLabels, Gauge>,
    database_up: Gauge,
    triggers_missing: Gauge,
    triggers_unexpected: Gauge,
    sweeps: Counter,
    usage_flush_failures: Counter,
    // Encoding walks the registry; one scrape at a time keeps the output consistent.
    encode_lock: Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ledgerd");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let auth = Family::<OutcomeLabels, Counter>::default();
        let cache_hits = Counter::default();
        let cache_misses = Counter::default();
        let invalidations = Family::<SourceLabels, Counter>::default();
        let credentials = Family::<StateLabels, Gauge>::default();
        let database_up = Gauge::default();
        let usage_flush_failures = Counter::default();
        let triggers_missing = Gauge::default();
        let triggers_unexpected = Gauge::default();
        let sweeps = Counter::default();

        registry.register("http_requests", "HTTP requests answered, by route, method and status", requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request, by route", latency.clone());
        registry.register("auth", "Authentications by outcome (ok, unauthorized, error)", auth.clone());
        registry.register("auth_cache_hits", "Authentications answered from the cache", cache_hits.clone());
        registry.register("auth_cache_misses", "Authentications that read the database", cache_misses.clone());
        registry.register(
            "auth_cache_invalidations",
            "Cached credentials dropped because of a revocation (api, db), a database fault (all) or a row changed without an audit row (sweep)",
            invalidations.clone(),
        );
        registry.register(
            "credentials",
            "Registered credentials by state (refreshed every few seconds)",
            credentials.clone(),
        );
        registry.register("database_up", "1 when the database answers, 0 when it is unusable", database_up.clone());
        registry.register(
            "database_triggers_missing",
            "Triggers enforcing the ledger's rules that are gone from the database or were altered (0 when intact)",
            triggers_missing.clone(),
        );
        registry.register(
            "database_triggers_unexpected",
            "Triggers in the database that no migration made (added by hand)",
            triggers_unexpected.clone(),
        );
        registry.register(
            "auth_cache_sweeps",
            "Times every cached credential was re-read because a change may have bypassed the audit trail",
            sweeps.clone(),
        );
        registry.register(
            "usage_flush_failures",
            "Batches of last_used_at updates that could not be written",
            usage_flush_failures.clone(),
        );

        Metrics {
            registry,
            requests,
            latency,
            auth,
            cache_hits,
            cache_misses,
            invalidations,
            credentials,
            database_up,
            triggers_missing,
            triggers_unexpected,
            sweeps,
            usage_flush_failures,
            encode_lock: Mutex::new(()),
        }
    }

    pub fn observe_request(&self, route: &'static str, method: &'static str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { route, method, status }).inc();
        self.latency.get_or_create(&RouteLabels { route }).observe(seconds);
    }

    pub fn auth(&self, outcome: AuthOutcome) {
        let outcome = match outcome {
            AuthOutcome::Ok => "ok",
            AuthOutcome::Unauthorized => "unauthorized",
            AuthOutcome::Error => "error",
        };
        self.auth.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn cache_hit(&self) {
        self.cache_hits.inc();
    }

    pub fn cache_miss(&self) {
        self.cache_misses.inc();
    }

    pub fn invalidated(&self, source: InvalidationSource, count: u64) {
        let source = match source {
            InvalidationSource::Api => "api",
            InvalidationSource::Db => "db",
            InvalidationSource::All => "all",
            InvalidationSource::Sweep => "sweep",
        };
        self.invalidations.get_or_create(&SourceLabels { source }).inc_by(count);
    }

    pub fn set_counts(&self, active: u64, revoked: u64) {
        self.credentials.get_or_create(&StateLabels { state: "active" }).set(active as i64);
        self.credentials.get_or_create(&StateLabels { state: "revoked" }).set(revoked as i64);
    }

    pub fn set_database_up(&self, up: bool) {
        self.database_up.set(i64::from(up));
    }

    pub fn set_triggers(&self, missing: usize, unexpected: usize) {
        self.triggers_missing.set(missing as i64);
        self.triggers_unexpected.set(unexpected as i64);
    }

    pub fn swept(&self) {
        self.sweeps.inc();
    }

    pub fn usage_flush_failed(&self) {
        self.usage_flush_failures.inc();
    }

    /// The metrics in the Prometheus/OpenMetrics text format.
    pub fn encode(&self) -> String {
        let _guard = self.encode_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_was_observed() {
        let m = Metrics::new();
        m.observe_request("/whoami", "GET", 200, 0.001);
        m.auth(AuthOutcome::Unauthorized);
        m.set_counts(3, 1);
        let text = m.encode();
        assert!(text.contains(r#"ledgerd_http_requests_total{route="/whoami",method="GET",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"ledgerd_auth_total{outcome="unauthorized"} 1"#), "{text}");
        assert!(text.contains(r#"ledgerd_credentials{state="active"} 3"#), "{text}");
    }
}
