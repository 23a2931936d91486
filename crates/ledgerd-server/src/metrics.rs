//! Prometheus metrics of ledgerd: requests and their latency by route, authentication outcomes,
//! the auth cache, credentials by state and database health, the build, and the process (CPU,
//! memory, file descriptors). Everything is an atomic or a small lock the hot path touches once;
//! `/metrics` only encodes (and reads `/proc/self`), it never queries the database.
//!
//! Encoded in the Prometheus text format 0.0.4 by default, which every Prometheus and
//! `promtool check metrics` read, and in OpenMetrics 1.0 when the scraper asks for it (`Accept:
//! application/openmetrics-text`). prometheus-client writes OpenMetrics only; [`to_text_004`]
//! rewrites its output, which differs from 0.0.4 only in counter family names (`x` vs `x_total`),
//! `# UNIT` lines and the final `# EOF`.

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
struct BuildLabels {
    version: &'static str,
    os: &'static str,
    arch: &'static str,
}

/// The exposition format of a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`: the default.
    Prometheus,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics when it names it, else Prometheus.
    pub fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(accept) if accept.to_ascii_lowercase().contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
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
    /// Authenticated, then refused by the credential's policy (address, rate limit, scope).
    Refused,
    Error,
}

/// Why an authentication was refused (`ledgerd_auth_refusals_total{cause}`).
#[derive(Debug, Clone, Copy)]
pub enum RefusalCause {
    /// No, an unknown, a wrong or a revoked credential.
    Unauthorized,
    Expired,
    IpNotAllowed,
    RateLimited,
    Forbidden,
}

impl RefusalCause {
    pub const ALL: [RefusalCause; 5] = [
        RefusalCause::Unauthorized,
        RefusalCause::Expired,
        RefusalCause::IpNotAllowed,
        RefusalCause::RateLimited,
        RefusalCause::Forbidden,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCause::Unauthorized => "unauthorized",
            RefusalCause::Expired => "expired",
            RefusalCause::IpNotAllowed => "ip_not_allowed",
            RefusalCause::RateLimited => "rate_limited",
            RefusalCause::Forbidden => "forbidden",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CauseLabels {
    pub cause: &'static str,
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
    /// The `process_*` metrics, which carry no `ledgerd_` prefix.
    process: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    auth: Family<OutcomeLabels, Counter>,
    refusals: Family<CauseLabels, Counter>,
    cache_hits: Counter,
    cache_misses: Counter,
    invalidations: Family<SourceLabels, Counter>,
    credentials: Family<StateLabels, Gauge>,
    database_up: Gauge,
    wal_bytes: Gauge,
    checkpoints_incomplete: Counter,
    triggers_missing: Gauge,
    triggers_unexpected: Gauge,
    sweeps: Counter,
    usage_flush_failures: Counter,
    feed_polls: Histogram,
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
        let refusals = Family::<CauseLabels, Counter>::default();
        // Every cause shows from the start (at 0), so `increase(...[5m]) > 0` sees the first one.
        for cause in RefusalCause::ALL {
            refusals.get_or_create(&CauseLabels { cause: cause.as_str() }).inc_by(0);
        }
        let cache_hits = Counter::default();
        let cache_misses = Counter::default();
        let invalidations = Family::<SourceLabels, Counter>::default();
        let credentials = Family::<StateLabels, Gauge>::default();
        let database_up = Gauge::default();
        let usage_flush_failures = Counter::default();
        let triggers_missing = Gauge::default();
        let wal_bytes = Gauge::default();
        let checkpoints_incomplete = Counter::default();
        let triggers_unexpected = Gauge::default();
        let sweeps = Counter::default();
        // 0.5 ms .. ~4 s: a read is about a millisecond; past a second, SPEC §7's bound is missed.
        let feed_polls = Histogram::new(exponential_buckets(0.0005, 2.0, 14));

        registry.register("http_requests", "HTTP requests answered, by route, method and status", requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request, by route", latency.clone());
        registry.register("auth", "Authentications by outcome (ok, unauthorized, refused, error)", auth.clone());
        registry.register(
            "auth_refusals",
            "Refused authentications by cause (unauthorized, expired, ip_not_allowed, rate_limited, forbidden)",
            refusals.clone(),
        );
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
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                os: std::env::consts::OS,
                arch: std::env::consts::ARCH,
            })
            .set(1);
        registry.register("build_info", "The version of ledgerd running, always 1", build);
        let mut process = Registry::default();
        process.register_collector(Box::new(crate::procstat::ProcessCollector));
        registry.register(
            "database_wal_bytes",
            "Size of the database's write-ahead log file (read once a second)",
            wal_bytes.clone(),
        );
        registry.register(
            "database_checkpoints_incomplete",
            "Checkpoints of a WAL grown past its 64 MiB limit that could not finish because a reader held an \
             old snapshot (counted once a second while it lasts: checkpoint starvation)",
            checkpoints_incomplete.clone(),
        );
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
        registry.register(
            "change_feed_poll_seconds",
            "Time the watcher took to read the database's change feed (the audit trail), per read: a change made \
             elsewhere (another ledgerd, etctl db, psql) is seen that much later",
            feed_polls.clone(),
        );

        Metrics {
            registry,
            process,
            requests,
            latency,
            auth,
            refusals,
            cache_hits,
            cache_misses,
            invalidations,
            credentials,
            database_up,
            wal_bytes,
            checkpoints_incomplete,
            triggers_missing,
            triggers_unexpected,
            sweeps,
            usage_flush_failures,
            feed_polls,
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
            AuthOutcome::Refused => "refused",
            AuthOutcome::Error => "error",
        };
        self.auth.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn auth_refused(&self, cause: RefusalCause) {
        self.refusals.get_or_create(&CauseLabels { cause: cause.as_str() }).inc();
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

    pub fn set_wal(&self, bytes: u64, checkpoint_incomplete: bool) {
        self.wal_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
        if checkpoint_incomplete {
            self.checkpoints_incomplete.inc();
        }
    }

    pub fn set_triggers(&self, missing: usize, unexpected: usize) {
        self.triggers_missing.set(missing as i64);
        self.triggers_unexpected.set(unexpected as i64);
    }

    pub fn observe_feed_poll(&self, took: std::time::Duration) {
        self.feed_polls.observe(took.as_secs_f64());
    }

    pub fn swept(&self) {
        self.sweeps.inc();
    }

    pub fn usage_flush_failed(&self) {
        self.usage_flush_failures.inc();
    }

    /// The metrics in `format`.
    pub fn encode(&self, format: Format) -> String {
        let _guard = self.encode_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(&mut out, &self.registry);
        let _ = prometheus_client::encoding::text::encode_registry(&mut out, &self.process);
        match format {
            Format::OpenMetrics => {
                let _ = prometheus_client::encoding::text::encode_eof(&mut out);
                out
            }
            Format::Prometheus => to_text_004(&out),
        }
    }
}

/// Rewrites prometheus-client's OpenMetrics (without `# EOF`) as the Prometheus text format 0.0.4:
/// a counter family's `# HELP`/`# TYPE` name its samples' name (`x_total`), and `# UNIT` lines go
/// (0.0.4 has none). Samples, histograms and gauges are written the same in both.
pub fn to_text_004(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> =
        openmetrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter")).collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let descriptor = ["# HELP ", "# TYPE "].into_iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            counters.contains(name).then(|| format!("{tag}{name}_total {tail}"))
        });
        match descriptor {
            Some(rewritten) => out.push_str(rewritten.trim_end()),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
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
        for format in [Format::Prometheus, Format::OpenMetrics] {
            let text = m.encode(format);
            assert!(
                text.contains(r#"ledgerd_http_requests_total{route="/whoami",method="GET",status="200"} 1"#),
                "{text}"
            );
            assert!(text.contains(r#"ledgerd_auth_total{outcome="unauthorized"} 1"#), "{text}");
            assert!(text.contains(r#"ledgerd_credentials{state="active"} 3"#), "{text}");
            assert!(text.contains("ledgerd_build_info{version="), "{text}");
        }
    }

    #[test]
    fn the_prometheus_format_names_counter_families_by_their_samples() {
        let open = "# HELP ledgerd_auth Authentications.\n# TYPE ledgerd_auth counter\n\
                    ledgerd_auth_total{outcome=\"ok\"} 1\n# HELP ledgerd_up Up.\n# TYPE ledgerd_up gauge\n\
                    # UNIT ledgerd_up bytes\nledgerd_up 1\n# EOF\n";
        assert_eq!(
            to_text_004(open),
            "# HELP ledgerd_auth_total Authentications.\n# TYPE ledgerd_auth_total counter\n\
             ledgerd_auth_total{outcome=\"ok\"} 1\n# HELP ledgerd_up Up.\n# TYPE ledgerd_up gauge\nledgerd_up 1\n"
        );
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        assert_eq!(Format::from_accept(Some("text/plain;version=0.0.4;q=0.3,*/*;q=0.2")), Format::Prometheus);
        let scraper = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75";
        assert_eq!(Format::from_accept(Some(scraper)), Format::OpenMetrics);
    }
}
