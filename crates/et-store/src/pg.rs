//! The PostgreSQL implementation of [`CredentialStore`] (SPEC §7): any number of ledgerd share one
//! database. tokio-postgres on a small runtime of the store's own, pooled by deadpool-postgres,
//! every statement prepared once per connection; the trait's blocking calls hand their work to that
//! runtime and wait, so they run on whatever blocking thread calls them and never on the caller's
//! async threads. The rules live in the database (`migrations/postgres/`, PL/pgSQL triggers), as in
//! SQLite, so `psql` meets them too.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, Row};

use crate::sqlite::{check_expiry, check_new, check_rate_limit, now_ms};
use crate::{
    AUDIT_PAGE, Account, AllowedIps, AuditEvent, AuthEntry, ChangeWaker, Changes, Counts, CredentialRecord,
    CredentialStore, CredentialUpdate, NewCredential, OpenMode, RateLimit, Safeguards, StatusFilter, StoreError,
    policy,
};
use et_api::CredentialStatus;
use et_core::SecretHash;

/// Migration `n` (1-based) brings a PostgreSQL schema from version `n - 1` to `n`. Never edit a
/// released one; a new rule is a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_initial.sql"),
    include_str!("../migrations/postgres/0002_lifetime_and_least_privilege.sql"),
    include_str!("../migrations/postgres/0003_strict_allowed_ips.sql"),
    include_str!("../migrations/postgres/0004_usage_skips_the_rules.sql"),
];

/// The schema version this build writes and understands.
pub const PG_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `pg_advisory_xact_lock` key of the migrations ("LDGD"): replicas starting together migrate once.
const MIGRATION_LOCK: i64 = 0x4C44_4744;

/// `pg_advisory_xact_lock` key taken by a registration batch with an active limit: the count and
/// the inserts of one replica's batch are not interleaved with another's.
const LIMIT_LOCK: i64 = 0x4C44_4745;

/// Credentials whose last_used_at one statement of [`CredentialStore::record_usage`] writes: a
/// few milliseconds of the server's time each.
const PG_USAGE_CHUNK: usize = 500;

/// Up to this many credentials (by PostgreSQL's estimate, `pg_class.reltuples`, which VACUUM,
/// ANALYZE and autovacuum refresh), [`CredentialStore::counts`] counts them; past it, only the
/// revoked ones are counted and the active ones are the estimated total less those. The counts
/// are for the `ledgerd_credentials` gauge alone (the active limit counts exactly,
/// [`count_active_with`]): a count is a scan of the whole table, 70–110 ms of the server's core
/// at 100 000 credentials every five seconds (BENCHMARKS.md, PostgreSQL).
const EXACT_COUNT_UP_TO: i64 = 100_000;

/// Connections the pool holds at most.
const POOL_SIZE: usize = 16;
/// How long opening a connection, or waiting for a pooled one, may take before the call fails (and
/// ledgerd answers 500, never a stale or guessed answer).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

const REVOKE_SQL: &str = "UPDATE api_credential SET active = false, revoked_by = $2, revoke_reason = $3
                           WHERE api_key = $1 AND active";

const RECORD_COLUMNS: &str = "api_key, label, active, created_at, revoked_at, revoked_by, last_used_at,
     ledger_time(expires_at), ledger_ms(expires_at), scopes, allowed_ips, rate_limit, rate_limit_window_s";
const AUDIT_COLUMNS: &str = "id, at, api_key, action, actor, reason, changes";

/// Usable at $N (not revoked, not expired): `{}` is the number of the parameter.
const ACTIVE_AT: &str = "active AND (expires_at IS NULL OR ledger_ms(expires_at) > ${})";

/// The one statement that registers.
const INSERT_SQL: &str = "INSERT INTO api_credential
    (api_key, api_secret_hash, label, expires_at, scopes, allowed_ips, rate_limit, rate_limit_window_s, updated_by)
    VALUES ($1, $2, $3, ledger_from_ms($4), $5, $6, $7, $8, $9)";

/// The one statement that changes a credential (PATCH): each field only when its flag is true;
/// updated_by names the actor for the audit trigger, which clears it.
const UPDATE_SQL: &str = "UPDATE api_credential
    SET label = CASE WHEN $2 THEN $3 ELSE label END,
        scopes = CASE WHEN $4 THEN $5 ELSE scopes END,
        allowed_ips = CASE WHEN $6 THEN $7 ELSE allowed_ips END,
        expires_at = CASE WHEN $8 THEN ledger_from_ms($9) ELSE expires_at END,
        rate_limit = CASE WHEN $10 THEN $11 ELSE rate_limit END,
        rate_limit_window_s = CASE WHEN $10 THEN $12 ELSE rate_limit_window_s END,
        updated_by = $13
    WHERE api_key = $1 AND active";

/// How far the change feed has read the audit trail. Audit ids are handed out at insert, not at
/// commit, so a row with a lower id can commit after one with a higher id: reading "ids above the
/// last one seen" would miss it. Each row carries its transaction's id instead, and a round of
/// reads takes every row whose transaction is at or above `horizon`, the oldest transaction still
/// running when the previous round began: a row that committed since then can only come from such
/// a transaction. Rows read before (`seen`) are not returned again.
#[derive(Debug, Default)]
struct Feed {
    horizon: u64,
    /// The oldest running transaction when the current round began: the next round's horizon.
    round_start: Option<u64>,
    /// Where the current round has read to, in (txid, id) order.
    cursor: (u64, i64),
    /// Ids returned whose transaction is at or above the horizon, with that transaction.
    seen: HashMap<i64, u64>,
    /// When the trail was last read.
    last_read: Option<std::time::Instant>,
    /// The triggers' and functions' catalog rows as last seen ([`CATALOG_MARK_SQL`]), and when.
    catalog: Option<(String, std::time::Instant)>,
}

/// A ledger database in PostgreSQL.
pub struct PgStore {
    /// Dropped in the background (see Drop): a store may be dropped on an async thread.
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    shown: String,
    feed: Mutex<Feed>,
    wake: Arc<Wake>,
    /// `sslrootcert`, for messages about the server's certificate.
    root: Option<String>,
    /// The triggers and functions the migrations make, read once, on the first look.
    expected: Arc<tokio::sync::OnceCell<Vec<Guard>>>,
    /// The last look at them found them not as the migrations made them.
    untrusted: AtomicBool,
}

/// What the listener (its own connection, `LISTEN ledgerd_audit`) tells the change feed.
#[derive(Default)]
struct Wake {
    /// The listener is connected and listening: no notification means nothing was appended.
    listening: AtomicBool,
    /// An audit transaction committed since the feed last read (or the listener reconnected, and
    /// what was committed meanwhile must be read).
    notified: AtomicBool,
    /// Who polls the feed, told at once of each notification ([`CredentialStore::wake_on_changes`]).
    waker: Mutex<Option<ChangeWaker>>,
    /// The server turned out read-only: the listener's connection, made when it was writable, may
    /// be on the old primary of a switchover, where nothing is written any more; it connects again.
    relisten: Arc<tokio::sync::Notify>,
}

impl Wake {
    /// Something may be waiting in the trail: the next poll reads it, and the poller is woken.
    fn notify(&self) {
        self.notified.store(true, Ordering::SeqCst);
        let waker = self.waker.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(waker) = waker {
            waker();
        }
    }
}

/// Longest a change feed relies on notifications alone: a poll reads the trail at least this
/// often, so a change is seen within it (and the poller's interval, 100 ms for ledgerd) even if
/// notifications stop without the listener's connection failing: within SPEC §7's second.
const POLL_AT_LEAST_EVERY: Duration = Duration::from_millis(500);
/// How long the listener waits before connecting again after losing its connection.
const RELISTEN_AFTER: Duration = Duration::from_millis(250);

/// Listens for audit notifications on a connection of its own for as long as the store lives,
/// connecting again whenever it is lost. Every (re)connection counts as a notification: the feed
/// then reads whatever was committed while nobody listened.
async fn listen<T>(config: Config, tls: T, wake: std::sync::Weak<Wake>, relisten: Arc<tokio::sync::Notify>)
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket> + Clone,
    T::Stream: Send + 'static,
{
    let mut config = config;
    config.application_name("ledgerd-listener");
    loop {
        let Some(w) = wake.upgrade() else { return };
        if let Ok((client, mut connection)) = config.connect(tls.clone()).await {
            // The LISTEN is answered through the connection, which must be driven meanwhile.
            let ok = {
                let listened = client.batch_execute("LISTEN ledgerd_audit");
                tokio::pin!(listened);
                loop {
                    tokio::select! {
                        done = &mut listened => break done.is_ok(),
                        message = std::future::poll_fn(|cx| connection.poll_message(cx)) => match message {
                            Some(Ok(_)) => {}
                            _ => break false,
                        },
                    }
                }
            };
            if ok {
                // Listening from now on; what was committed while nobody listened is read at once.
                w.listening.store(true, Ordering::SeqCst);
                w.notify();
                drop(w);
                loop {
                    let message = tokio::select! {
                        message = std::future::poll_fn(|cx| connection.poll_message(cx)) => message,
                        () = relisten.notified() => break,
                    };
                    match message {
                        Some(Ok(tokio_postgres::AsyncMessage::Notification(_))) => match wake.upgrade() {
                            Some(w) => w.notify(),
                            None => return,
                        },
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => break,
                    }
                }
                // Until it listens again, every poll reads the trail.
                let Some(w) = wake.upgrade() else { return };
                w.listening.store(false, Ordering::SeqCst);
                w.notify();
            }
        }
        tokio::time::sleep(RELISTEN_AFTER).await;
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("database", &self.shown).finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Whether `db` names a PostgreSQL database (a `postgres://` or `postgresql://` URL) rather than a
/// SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// The start of the message of a write refused because the server is read-only: the store then
/// drops its connections and finds the writable server again (see [`PgStore::with_client`]).
const READ_ONLY: &str = "the database server is read-only (a standby, or a primary fenced with \
                         default_transaction_read_only)";

fn pg_err(error: tokio_postgres::Error) -> StoreError {
    if error.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION) {
        return StoreError::Postgres(format!("{READ_ONLY}: {}", describe(&error)));
    }
    StoreError::Postgres(describe(&error))
}

fn pool_err(error: deadpool_postgres::PoolError, root: Option<&str>) -> StoreError {
    StoreError::Postgres(format!("no connection to the database: {}", connect_failure(&error, root)))
}

/// Why a new connection failed, saying what to change when it is the server's certificate
/// (`sslmode=verify-full` with `sslrootcert` = `root`).
fn connect_failure(error: &deadpool_postgres::PoolError, root: Option<&str>) -> String {
    let error: &(dyn std::error::Error + 'static) = match error {
        deadpool_postgres::PoolError::Backend(e) => e,
        other => other,
    };
    match certificate_refused(error) {
        Some(refused) => certificate_message(refused, root),
        None => describe(error),
    }
}

/// The certificate check that refused the server, somewhere in `error`'s causes (tokio-rustls
/// wraps it in an io::Error, whose `source` skips it).
fn certificate_refused<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::CertificateError> {
    let mut cause = Some(error);
    while let Some(c) = cause {
        let tls = c
            .downcast_ref::<rustls::Error>()
            .or_else(|| c.downcast_ref::<std::io::Error>()?.get_ref()?.downcast_ref::<rustls::Error>());
        if let Some(rustls::Error::InvalidCertificate(refused)) = tls {
            return Some(refused);
        }
        cause = c.source();
    }
    None
}

fn certificate_message(refused: &rustls::CertificateError, root: Option<&str>) -> String {
    use rustls::CertificateError as E;
    let what = match refused {
        E::UnknownIssuer | E::BadSignature => match root {
            Some(root) => format!(
                "the server's certificate is not signed by a CA in sslrootcert {root}; set sslrootcert to the CA that \
                 signed it"
            ),
            None => "the server's certificate is not signed by a CA this system trusts; set sslrootcert to the CA \
                     that signed it"
                .to_owned(),
        },
        E::NotValidForName | E::NotValidForNameContext { .. } => "the server's certificate does not name the host \
             in the URL (sslmode=verify-full checks it); connect by a name or address the certificate holds"
            .to_owned(),
        E::Expired | E::ExpiredContext { .. } | E::NotValidYet | E::NotValidYetContext { .. } => {
            "the server's certificate is expired or not yet valid; renew it, or check this machine's clock".to_owned()
        }
        _ => "the server's certificate was refused".to_owned(),
    };
    format!("{what} ({})", rustls::Error::InvalidCertificate(refused.clone()))
}

/// An error and its causes, one after the other: tokio-postgres shows only its kind ("db error",
/// "error performing TLS handshake") and keeps what went wrong in the source chain.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// Whether `error` says the server was read-only.
fn is_read_only(error: &StoreError) -> bool {
    matches!(error, StoreError::Postgres(message) if message.starts_with(READ_ONLY))
}

fn is_duplicate(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// How TLS is used, as libpq's `sslmode` means it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    /// `disable`: never.
    Disable,
    /// `prefer` (libpq's default): TLS when the server offers it, the certificate not checked.
    Prefer,
    /// `require`: TLS or no connection, the certificate not checked.
    Require,
    /// `verify-full`: TLS, a certificate chaining to `sslrootcert` (else the platform's roots) and
    /// naming the host.
    VerifyFull,
}

/// Splits `sslmode` and `sslrootcert` off a URL's query (tokio-postgres knows neither
/// `verify-full` nor root certificates) and parses the rest: hosts, ports, user, password,
/// database, `target_session_attrs`, `connect_timeout` and the others libpq URLs may carry.
fn parse_url(url: &str) -> Result<(Config, Tls, Option<String>), String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut tls = Tls::Prefer;
    let mut root = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "sslmode" => {
                tls = match value {
                    "disable" => Tls::Disable,
                    "prefer" => Tls::Prefer,
                    "require" => Tls::Require,
                    "verify-full" => Tls::VerifyFull,
                    other => {
                        return Err(format!(
                            "sslmode={other} is not supported; use disable, prefer, require or verify-full"
                        ));
                    }
                }
            }
            "sslrootcert" => root = Some(value.to_owned()),
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() { base.to_owned() } else { format!("{base}?{}", rest.join("&")) };
    let mut config: Config = url.parse().map_err(|e: tokio_postgres::Error| format!("not a PostgreSQL URL: {e}"))?;
    config.ssl_mode(if tls == Tls::Disable {
        SslMode::Disable
    } else if tls == Tls::Prefer {
        SslMode::Prefer
    } else {
        SslMode::Require
    });
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    // The ledger's tables are found in `public` alone, whatever the role's default path says: a
    // role that may create schemas (the trigger check makes one, README) could otherwise put one
    // named after itself, first in the default path ("$user", public), with tables shadowing the
    // ledger's and no triggers. A URL that sets `options` chooses for itself.
    if config.get_options().is_none() {
        config.options("-c search_path=public");
    }
    config.application_name("ledgerd");
    Ok((config, tls, root))
}

/// `url` as messages and logs may show it: hosts, ports, user and database, never a password.
pub fn url_shown(url: &str) -> String {
    parse_url(url).map_or_else(|_| "the PostgreSQL URL".to_owned(), |(config, _, _)| shown(&config))
}

/// The database as messages show it: hosts, ports, user and database, never a password.
fn shown(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let host = match host {
                tokio_postgres::config::Host::Tcp(h) => h.clone(),
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            };
            match config.get_ports().get(i).or(config.get_ports().first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    format!("postgres://{}@{}/{}", config.get_user().unwrap_or(""), hosts.join(","), config.get_dbname().unwrap_or(""))
}

mod tls {
    //! Certificate checks for `sslmode=prefer|require` (libpq checks none: the connection is
    //! encrypted, the server not authenticated) and the client configuration of each mode.
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
    use std::sync::Arc;

    #[derive(Debug)]
    struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for Unchecked {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    pub(super) fn client_config(verify: bool, root: Option<&str>) -> Result<ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        if !verify {
            return Ok(builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
                .with_no_client_auth());
        }
        let mut roots = RootCertStore::empty();
        match root {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| format!("cannot read sslrootcert {path}: {e}"))?;
                roots.add_parsable_certificates(certs);
                if roots.is_empty() {
                    return Err(format!("sslrootcert {path} holds no certificate"));
                }
            }
            None => {
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            }
        }
        Ok(builder.with_root_certificates(roots).with_no_client_auth())
    }
}

fn record_at(now: i64) -> impl Fn(&Row) -> CredentialRecord {
    move |row| {
        let active: bool = row.get(2);
        let expires_ms: Option<i64> = row.get(8);
        CredentialRecord {
            api_key: row.get(0),
            label: row.get(1),
            active,
            created_at: row.get(3),
            revoked_at: row.get(4),
            revoked_by: row.get(5),
            last_used_at: row.get(6),
            status: CredentialStatus::of(active, expires_ms, now),
            expires_at: row.get(7),
            scopes: policy::scopes_from_stored(row.get(9)).to_vec(),
            allowed_ips: policy::ips_for_record(row.get(10)),
            rate_limit: rate_limit_of(row, 11),
        }
    }
}

fn rate_limit_of(row: &Row, i: usize) -> Option<RateLimit> {
    policy::rate_limit_from_stored(
        row.get::<_, Option<i32>>(i).map(i64::from),
        row.get::<_, Option<i32>>(i + 1).map(i64::from),
    )
}

fn audit_event(row: &Row) -> AuditEvent {
    let changes: Option<String> = row.get(6);
    AuditEvent {
        id: row.get(0),
        at: row.get(1),
        api_key: row.get(2),
        action: row.get(3),
        actor: row.get(4),
        reason: row.get(5),
        // Written by the audit trigger as JSON; a hand-made note that is not is shown as text.
        changes: changes.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))),
    }
}

fn account(row: &Row) -> Account {
    Account { id: row.get(0), name: row.get(1), created_at: row.get(2) }
}

fn auth_entry_of(row: &Row) -> AuthEntry {
    let hash: &str = row.get(0);
    AuthEntry {
        // The schema's CHECK keeps it 64 lowercase hex digits; anything else matches no secret.
        secret_hash: SecretHash::from_stored(hash.as_bytes()),
        active: row.get(1),
        label: row.get(2),
        last_used_ms: row.get(3),
        expires_ms: row.get(4),
        scopes: policy::scopes_from_stored(row.get(5)),
        allowed_ips: AllowedIps::from_stored(row.get(6)),
        rate_limit: rate_limit_of(row, 7),
    }
}

/// One credential's [`AuthEntry`] ([`AUTH_SQL`], prepared once per connection).
async fn read_auth_entry(client: &impl GenericClient, key: &str) -> Result<Option<AuthEntry>, StoreError> {
    let stmt = client.prepare_cached(AUTH_SQL).await.map_err(pg_err)?;
    Ok(client.query_opt(&stmt, &[&key]).await.map_err(pg_err)?.as_ref().map(auth_entry_of))
}

const AUTH_SQL: &str = "SELECT api_secret_hash, active, label,
        (extract(epoch FROM last_used_at::timestamptz) * 1000)::bigint, ledger_ms(expires_at),
        scopes, allowed_ips, rate_limit, rate_limit_window_s
   FROM api_credential WHERE api_key = $1";

/// One page in registration order after the row whose key is `after` (its `seq` found by
/// `cursor_sql`), by `page_sql` (which takes the seq and a limit), and the key of the last row when
/// more follow.
#[allow(clippy::too_many_arguments)] // as SQLite's keyset_page: each part of the query named
async fn keyset_page<T>(
    client: &impl GenericClient,
    cursor_sql: &str,
    page_sql: &str,
    limit: u32,
    after: Option<String>,
    now: Option<i64>,
    map: impl Fn(&Row) -> T,
    key_of: impl Fn(&T) -> String,
) -> Result<(Vec<T>, Option<String>), StoreError> {
    let after_seq: i64 = match after {
        None => 0,
        Some(key) => {
            let stmt = client.prepare_cached(cursor_sql).await.map_err(pg_err)?;
            client
                .query_opt(&stmt, &[&key])
                .await
                .map_err(pg_err)?
                .map(|r| r.get(0))
                .ok_or(StoreError::UnknownCursor(key))?
        }
    };
    let stmt = client.prepare_cached(page_sql).await.map_err(pg_err)?;
    let page = i64::from(limit) + 1;
    let rows = match &now {
        Some(now) => client.query(&stmt, &[&after_seq, &page, now]).await,
        None => client.query(&stmt, &[&after_seq, &page]).await,
    }
    .map_err(pg_err)?;
    let mut items: Vec<T> = rows.iter().map(map).collect();
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(key_of)
    } else {
        None
    };
    Ok((items, next))
}

/// One credential to insert, owned, for the store's runtime.
struct InsertRow {
    api_key: String,
    hash: String,
    label: Option<String>,
    expires_ms: Option<i64>,
    scopes: String,
    allowed_ips: String,
    rate_limit: Option<i32>,
    window_s: Option<i32>,
    registered_by: Option<String>,
    first_only: bool,
}

/// [`INSERT_SQL`] for a whole batch, its rows in arrays, inserted in array order (so `seq` is the
/// order of the batch), each row through the same triggers.
const INSERT_BATCH_SQL: &str = "INSERT INTO api_credential
    (api_key, api_secret_hash, label, expires_at, scopes, allowed_ips, rate_limit, rate_limit_window_s, updated_by)
    SELECT k, h, l, ledger_from_ms(e), s, a, r, w, u
      FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::int4[],
                  $8::int4[], $9::text[]) WITH ORDINALITY AS t(k, h, l, e, s, a, r, w, u, n)
     ORDER BY n";

/// What became of one credential of a batch stored by [`insert_batch`].
enum Slot {
    /// Refused by the checks before the database (the caller has the reason).
    Refused,
    /// Over the active limit.
    Limit(u64),
    /// Meant as the ledger's first, and an active credential exists.
    NotFirst,
    Stored(Box<CredentialRecord>),
}

/// Stores a registration batch with one INSERT in one transaction (under the active limit's lock
/// and count when there is a limit); `None`, with nothing stored, when a credential of the batch is
/// a duplicate (of a registered one or of another in the batch), for the caller to store them one
/// by one.
async fn insert_batch(
    client: &mut deadpool_postgres::Object,
    rows: &[InsertRow],
    refused: &[bool],
    max_active: Option<u64>,
    now: i64,
) -> Result<Option<Vec<Slot>>, StoreError> {
    let tx = client.transaction().await.map_err(pg_err)?;
    let mut active = count_active_locked(&tx, rows, max_active, now).await?;
    let mut slots = Vec::with_capacity(rows.len());
    let mut chosen = Vec::with_capacity(rows.len());
    for (row, refused) in rows.iter().zip(refused) {
        if *refused {
            slots.push(Slot::Refused);
            continue;
        }
        if let Some(max) = max_active.filter(|max| active >= *max) {
            slots.push(Slot::Limit(max));
            continue;
        }
        if row.first_only && active > 0 {
            slots.push(Slot::NotFirst);
            continue;
        }
        // As the one-by-one path counts: a credential stored already expired is not active.
        if CredentialStatus::of(true, row.expires_ms, now) == CredentialStatus::Active {
            active += 1;
        }
        slots.push(Slot::Refused); // replaced by the stored record below
        chosen.push(slots.len() - 1);
    }
    if chosen.is_empty() {
        return Ok(Some(slots));
    }
    let column = |f: &dyn Fn(&InsertRow) -> String| chosen.iter().map(|&i| f(&rows[i])).collect::<Vec<_>>();
    let keys = column(&|r| r.api_key.clone());
    let hashes = column(&|r| r.hash.clone());
    let scopes = column(&|r| r.scopes.clone());
    let ips = column(&|r| r.allowed_ips.clone());
    let labels: Vec<Option<&str>> = chosen.iter().map(|&i| rows[i].label.as_deref()).collect();
    let expires: Vec<Option<i64>> = chosen.iter().map(|&i| rows[i].expires_ms).collect();
    let limits: Vec<Option<i32>> = chosen.iter().map(|&i| rows[i].rate_limit).collect();
    let windows: Vec<Option<i32>> = chosen.iter().map(|&i| rows[i].window_s).collect();
    let by: Vec<Option<&str>> = chosen.iter().map(|&i| rows[i].registered_by.as_deref()).collect();
    let insert = tx.prepare_cached(&format!("{INSERT_BATCH_SQL} RETURNING {RECORD_COLUMNS}")).await.map_err(pg_err)?;
    let stored =
        match tx.query(&insert, &[&keys, &hashes, &labels, &expires, &scopes, &ips, &limits, &windows, &by]).await {
            Ok(stored) => stored,
            Err(e) if is_duplicate(&e) => {
                tx.rollback().await.map_err(pg_err)?;
                return Ok(None);
            }
            Err(e) => return Err(pg_err(e)),
        };
    let mut records: HashMap<String, CredentialRecord> =
        stored.iter().map(record_at(now)).map(|r| (r.api_key.clone(), r)).collect();
    for &i in &chosen {
        let record = records
            .remove(&rows[i].api_key)
            .ok_or_else(|| StoreError::Postgres("a registration of the batch was not returned by its INSERT".into()))?;
        slots[i] = Slot::Stored(Box::new(record));
    }
    // The answers count only once the commit succeeded.
    tx.commit().await.map_err(pg_err)?;
    Ok(Some(slots))
}

/// Where a registration of `rows` needs the count of active credentials (an active limit, or a
/// credential meant as the ledger's first), takes [`LIMIT_LOCK`] for the rest of transaction `tx`
/// and counts them: counted and inserted under one lock, replicas registering together cannot both
/// pass the count (the limit, or "no active credential yet"). Otherwise 0, and no lock.
async fn count_active_locked(
    tx: &deadpool_postgres::Transaction<'_>,
    rows: &[InsertRow],
    max_active: Option<u64>,
    now: i64,
) -> Result<u64, StoreError> {
    if max_active.is_none() && !rows.iter().any(|r| r.first_only) {
        return Ok(0);
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LIMIT_LOCK]).await.map_err(pg_err)?;
    count_active_with(tx, now).await
}

/// Active credentials (not revoked, not expired at `now`).
async fn count_active_with(client: &impl GenericClient, now: i64) -> Result<u64, StoreError> {
    let stmt = client
        .prepare_cached(&format!("SELECT count(*) FROM api_credential WHERE {}", ACTIVE_AT.replace("{}", "1")))
        .await
        .map_err(pg_err)?;
    Ok(client.query_one(&stmt, &[&now]).await.map_err(pg_err)?.get::<_, i64>(0) as u64)
}

/// The oldest transaction still running (or the next one, when none runs), as of this statement.
/// A read-only server is an error: the feed would read a trail nobody writes to any more (the old
/// primary of a switchover, still up but fenced), so it is found out in the same round trip.
async fn horizon_now(client: &impl GenericClient) -> Result<u64, StoreError> {
    let row = client
        .query_one(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
                    pg_is_in_recovery() OR current_setting('default_transaction_read_only')::bool",
            &[],
        )
        .await
        .map_err(pg_err)?;
    if row.get::<_, bool>(1) {
        return Err(StoreError::Postgres(format!("{READ_ONLY}: its audit trail is no longer written")));
    }
    Ok(row.get::<_, i64>(0) as u64)
}

/// The rules' triggers, functions and table constraints (`CHECK`, keys) of the current schema, one
/// row each: `(what, name, state, definition)`. A constraint's definition is
/// `pg_get_constraintdef`, its state whether it is validated. A trigger's definition is PostgreSQL's own (`pg_get_triggerdef`: timing, events,
/// columns, `WHEN`, the function, schema-qualified only when it is not the current schema's) without
/// the table's schema; its state is `tgenabled` (`D`: disabled by hand). A function's is the hash
/// of its body with its language, result, volatility and settings. Nothing in either names the
/// current schema, so a fresh copy made in another schema compares equal.
const SAFEGUARDS_SQL: &str = "
    SELECT 'trigger', t.tgname::text, t.tgenabled::text,
           replace(pg_get_triggerdef(t.oid), ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ',
                   ' ON ' || quote_ident(c.relname) || ' ')
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', '',
           md5(p.prosrc) || ' ' || l.lanname || ' ' || pg_get_function_result(p.oid) || ' ' || p.provolatile::text
             || ' ' || p.prosecdef::text || ' ' || coalesce(p.proconfig::text, '')
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.pronamespace = current_schema()::regnamespace
    UNION ALL
    SELECT 'constraint', k.conname || ' on ' || c.relname, k.convalidated::text, pg_get_constraintdef(k.oid)
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     WHERE c.relnamespace = current_schema()::regnamespace";

/// A digest of the catalog rows of the current schema's triggers and functions, row versions
/// included: it moves whenever one is made, dropped, altered, disabled or enabled, even when it is
/// put back as it was within one transaction (a trigger disabled around an update).
const CATALOG_MARK_SQL: &str = "
    SELECT coalesce(md5(string_agg(x, ',' ORDER BY x)), '') FROM (
        SELECT t.oid::text || ':' || t.xmin::text AS x
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
        UNION ALL
        SELECT p.oid::text || ':' || p.xmin::text FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
        UNION ALL
        SELECT k.oid::text || ':' || k.xmin::text
          FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
         WHERE c.relnamespace = current_schema()::regnamespace
    ) catalog";

/// One trigger, function or table constraint of the rules, as [`SAFEGUARDS_SQL`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Guard {
    /// `trigger`, `function` or `constraint`.
    kind: String,
    name: String,
    state: String,
    definition: String,
}

async fn guards(client: &impl GenericClient) -> Result<Vec<Guard>, tokio_postgres::Error> {
    let rows = client.query(SAFEGUARDS_SQL, &[]).await?;
    Ok(rows.iter().map(|r| Guard { kind: r.get(0), name: r.get(1), state: r.get(2), definition: r.get(3) }).collect())
}

async fn catalog_mark(client: &impl GenericClient) -> Result<String, StoreError> {
    Ok(client.query_one(CATALOG_MARK_SQL, &[]).await.map_err(pg_err)?.get(0))
}

/// What the migrations make, read from a fresh copy of them in a schema of its own inside a
/// transaction that is rolled back: nothing is left behind.
async fn expected_guards(client: &mut deadpool_postgres::Object) -> Result<Vec<Guard>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let schema = format!("ledgerd_expected_{}", et_core::random_hex16());
    tx.batch_execute(&format!("CREATE SCHEMA {schema}; SET LOCAL search_path = {schema}")).await?;
    for sql in MIGRATIONS {
        tx.batch_execute(sql).await?;
    }
    let found = guards(&tx).await;
    tx.rollback().await?;
    found
}

/// How `found` compares with `expected`: missing are the expected triggers and functions that are
/// gone or differ (a disabled trigger is named with "(disabled)"); unexpected, the triggers no
/// migration made.
fn compare_guards(expected: &[Guard], found: &[Guard]) -> Safeguards {
    let shown = |g: &Guard| match g.kind.as_str() {
        "trigger" => g.name.clone(),
        kind => format!("{kind} {}", g.name),
    };
    let mut missing = Vec::new();
    for e in expected {
        match found.iter().find(|f| f.kind == e.kind && f.name == e.name) {
            Some(f) if f == e => {}
            Some(f) if f.definition == e.definition && f.state == "D" => {
                missing.push(format!("{} (disabled)", shown(e)))
            }
            _ => missing.push(shown(e)),
        }
    }
    // A constraint or function made by hand only refuses more, or does nothing unless a trigger
    // calls it: only triggers are unexpected.
    let unexpected = found
        .iter()
        .filter(|f| f.kind == "trigger" && !expected.iter().any(|e| e.kind == f.kind && e.name == f.name))
        .map(shown)
        .collect();
    Safeguards { missing, unexpected }
}

impl PgStore {
    /// Connects to the database at `url` and brings its schema up to date
    /// ([`OpenMode::CreateIfMissing`]) or requires a ledger schema there ([`OpenMode::MustExist`]).
    /// A schema newer than this build is refused, whoever migrated it.
    pub fn open(url: &str, mode: OpenMode) -> Result<Self, StoreError> {
        let (config, tls_mode, root) =
            parse_url(url).map_err(|detail| StoreError::Open { path: "the PostgreSQL URL".into(), detail })?;
        let shown = shown(&config);
        let config_user = config.get_user().map(str::to_owned);
        let open_err = |detail: String| StoreError::Open { path: shown.clone(), detail };
        // One worker: it only encodes, decodes and moves bytes for its connections; a second one
        // woke to steal work on every read and cost a miss ~30 µs of CPU in thread switches
        // (BENCHMARKS.md, PostgreSQL).
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("et-store-pg")
            .enable_all()
            .build()
            .map_err(|e| open_err(e.to_string()))?;
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let wake = Arc::new(Wake::default());
        let weak = Arc::downgrade(&wake);
        let manager = if tls_mode == Tls::Disable {
            runtime.spawn(listen(config.clone(), tokio_postgres::NoTls, weak, wake.relisten.clone()));
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        } else {
            let client = tls::client_config(tls_mode == Tls::VerifyFull, root.as_deref()).map_err(&open_err)?;
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client);
            runtime.spawn(listen(config.clone(), tls.clone(), weak, wake.relisten.clone()));
            Manager::from_config(config, tls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| open_err(e.to_string()))?;
        let store = PgStore {
            runtime: Some(runtime),
            pool,
            shown,
            feed: Mutex::new(Feed::default()),
            wake,
            root: root.clone(),
            expected: Arc::new(tokio::sync::OnceCell::new()),
            untrusted: AtomicBool::new(false),
        };
        let pool = store.pool.clone();
        let shown = store.shown.clone();
        let user = config_user;
        store.run(async move {
            let mut client = pool
                .get()
                .await
                .map_err(|e| StoreError::Open { path: shown.clone(), detail: connect_failure(&e, root.as_deref()) })?;
            migrate(&mut client, &shown, mode).await.map_err(|e| match e {
                // A runtime role without the owner's rights, on a schema older than this build.
                StoreError::Open { detail, .. } if detail.starts_with(MIGRATION_REFUSED) => StoreError::Open {
                    path: shown.clone(),
                    detail: format!(
                        "the ledger schema here is missing or older than this program, and {user} may not migrate \
                         it ({why}); start one ledgerd with the URL of the role that owns the database (it migrates, \
                         under a lock), then this one",
                        user = user.as_deref().map_or_else(|| "this role".to_owned(), |u| format!("role {u}")),
                        why = &detail[MIGRATION_REFUSED.len()..],
                    ),
                },
                other => other,
            })
        })?;
        // The feed starts at the end of the trail: events from before the store was opened are not returned.
        let pool = store.pool.clone();
        let feed = store.run(async move {
            let mut client = pool.get().await.map_err(|e| pool_err(e, None))?;
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(pg_err)?;
            let horizon = horizon_now(&tx).await?;
            let rows = tx
                .query(
                    "SELECT id, txid::text::bigint FROM credential_audit WHERE txid >= $1::bigint::text::xid8",
                    &[&(horizon as i64)],
                )
                .await
                .map_err(pg_err)?;
            tx.commit().await.map_err(pg_err)?;
            let seen = rows.iter().map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1) as u64)).collect();
            Ok::<_, StoreError>(Feed {
                horizon,
                round_start: None,
                cursor: (horizon, 0),
                seen,
                last_read: None,
                catalog: None,
            })
        })?;
        *store.feed.lock().unwrap_or_else(PoisonError::into_inner) = feed;
        Ok(store)
    }

    /// Runs `work` on the store's runtime and waits for its answer.
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.as_ref().expect("the runtime lives as long as the store").spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv().unwrap_or_else(|_| Err(StoreError::Postgres("the database task ended without an answer".into())))
    }

    /// A pooled connection, for work that needs one.
    fn with_client<T: Send + 'static, F>(
        &self,
        work: impl FnOnce(deadpool_postgres::Object) -> F + Send + 'static,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>> + Send,
    {
        let pool = self.pool.clone();
        let root = self.root.clone();
        let answer = self.run(async move {
            let client = pool.get().await.map_err(|e| pool_err(e, root.as_deref()))?;
            work(client).await
        });
        if let Err(error) = &answer
            && is_read_only(error)
        {
            // Every idle connection may be on that server, which a new one (target_session_attrs)
            // would avoid: they are dropped, and the listener connects again too.
            self.pool.retain(|_, _| false);
            self.wake.relisten.notify_one();
        }
        answer
    }
}

/// What [`migrate`] says when the role may not change the schema; [`PgStore::open`] words it.
const MIGRATION_REFUSED: &str = "insufficient privilege to migrate: ";

async fn migrate(client: &mut deadpool_postgres::Object, shown: &str, mode: OpenMode) -> Result<(), StoreError> {
    let refused = |e: tokio_postgres::Error| {
        if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
            StoreError::Open { path: shown.to_owned(), detail: format!("{MIGRATION_REFUSED}{}", describe(&e)) }
        } else {
            pg_err(e)
        }
    };
    let tx = client.transaction().await.map_err(pg_err)?;
    // Replicas starting together wait here for the one migrating; the lock ends with the transaction.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg_err)?;
    let has_table: bool =
        tx.query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[]).await.map_err(pg_err)?.get(0);
    let version: i64 = if has_table {
        tx.query_one("SELECT coalesce(max(version), 0)::bigint FROM schema_version", &[]).await.map_err(pg_err)?.get(0)
    } else {
        0
    };
    if version > PG_SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { path: shown.to_owned(), found: version, supported: PG_SCHEMA_VERSION });
    }
    if version == 0 {
        if mode == OpenMode::MustExist {
            return Err(StoreError::NotALedgerDatabase { path: shown.to_owned() });
        }
        let tables: i64 = tx
            .query_one(
                "SELECT count(*) FROM pg_class WHERE relname IN ('api_credential', 'credential_audit')
                    AND relnamespace = current_schema()::regnamespace",
                &[],
            )
            .await
            .map_err(pg_err)?
            .get(0);
        if tables != 0 {
            return Err(StoreError::NotALedgerDatabase { path: shown.to_owned() });
        }
        tx.batch_execute(
            "CREATE TABLE schema_version (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(refused)?;
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql).await.map_err(refused)?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&(i as i64 + 1)]).await.map_err(refused)?;
    }
    tx.commit().await.map_err(pg_err)
}

impl CredentialStore for PgStore {
    fn register_many(
        &self,
        credentials: &[NewCredential],
        max_active: Option<u64>,
    ) -> Vec<Result<CredentialRecord, StoreError>> {
        let checked: Vec<Result<(), StoreError>> = credentials.iter().map(check_new).collect();
        let rows: Vec<InsertRow> = credentials
            .iter()
            .map(|c| InsertRow {
                api_key: c.api_key.as_str().to_owned(),
                hash: c.secret_hash.to_hex(),
                label: c.label.clone(),
                expires_ms: c.expires_at,
                scopes: policy::scopes_json(c.scopes),
                allowed_ips: policy::ips_json(&c.allowed_ips),
                rate_limit: c.rate_limit.map(|r| r.limit as i32),
                window_s: c.rate_limit.map(|r| r.window_s as i32),
                registered_by: c.registered_by.clone(),
                first_only: c.first_only,
            })
            .collect();
        let n = rows.len();
        let answer = self.with_client(move |mut client| async move {
            let now = now_ms();
            // Most batches hold no duplicate: one INSERT stores them all, three round trips in all
            // (BEGIN, INSERT, COMMIT) where a savepoint per row takes three per row. A duplicate
            // aborts that INSERT (the key_is_new trigger refuses it before any ON CONFLICT could),
            // and the batch is done again below, a savepoint per row, so the duplicate fails alone.
            let refused: Vec<bool> = checked.iter().map(Result::is_err).collect();
            if let Some(slots) = insert_batch(&mut client, &rows, &refused, max_active, now).await? {
                return Ok(slots
                    .into_iter()
                    .zip(checked)
                    .map(|(slot, check)| match slot {
                        Slot::Refused => Err(check.expect_err("refused before the insert")),
                        Slot::Limit(max) => Err(StoreError::LimitReached { max }),
                        Slot::NotFirst => Err(StoreError::NotFirst),
                        Slot::Stored(record) => Ok(*record),
                    })
                    .collect());
            }
            let tx = client.transaction().await.map_err(pg_err)?;
            let mut active = count_active_locked(&tx, &rows, max_active, now).await?;
            let insert =
                tx.prepare_cached(&format!("{INSERT_SQL} RETURNING {RECORD_COLUMNS}")).await.map_err(pg_err)?;
            let mut results = Vec::with_capacity(rows.len());
            let mut stored = 0;
            for (i, (row, check)) in rows.iter().zip(checked).enumerate() {
                if let Err(refused) = check {
                    results.push(Err(refused));
                    continue;
                }
                if let Some(max) = max_active.filter(|max| active >= *max) {
                    results.push(Err(StoreError::LimitReached { max }));
                    continue;
                }
                if row.first_only && active > 0 {
                    results.push(Err(StoreError::NotFirst));
                    continue;
                }
                // A savepoint per row, so a duplicate fails alone and the batch goes on.
                tx.batch_execute(&format!("SAVEPOINT r{i}")).await.map_err(pg_err)?;
                let params: [&(dyn tokio_postgres::types::ToSql + Sync); 9] = [
                    &row.api_key,
                    &row.hash,
                    &row.label,
                    &row.expires_ms,
                    &row.scopes,
                    &row.allowed_ips,
                    &row.rate_limit,
                    &row.window_s,
                    &row.registered_by,
                ];
                match tx.query_one(&insert, &params).await {
                    Ok(r) => {
                        tx.batch_execute(&format!("RELEASE SAVEPOINT r{i}")).await.map_err(pg_err)?;
                        let rec = record_at(now)(&r);
                        if rec.status == CredentialStatus::Active {
                            active += 1;
                        }
                        stored += 1;
                        results.push(Ok(rec));
                    }
                    Err(e) if is_duplicate(&e) => {
                        tx.batch_execute(&format!("ROLLBACK TO SAVEPOINT r{i}")).await.map_err(pg_err)?;
                        results.push(Err(StoreError::Duplicate));
                    }
                    Err(e) => return Err(pg_err(e)),
                }
            }
            if stored > 0 {
                // The answers count only once the commit succeeded.
                tx.commit().await.map_err(pg_err)?;
            }
            Ok(results)
        });
        self.wake.notified.store(true, Ordering::SeqCst);
        match answer {
            Ok(results) => results,
            Err(StoreError::Postgres(message)) => (0..n).map(|_| Err(StoreError::Postgres(message.clone()))).collect(),
            Err(e) => (0..n).map(|_| Err(StoreError::Postgres(e.to_string()))).collect(),
        }
    }

    fn update(&self, api_key: &str, update: &CredentialUpdate, actor: &str) -> Result<CredentialRecord, StoreError> {
        if let Some(expires) = update.expires_at {
            check_expiry(expires)?;
        }
        if let Some(rate_limit) = update.rate_limit {
            check_rate_limit(rate_limit)?;
        }
        let key = api_key.to_owned();
        let actor = actor.to_owned();
        let rate_limit = update.rate_limit.flatten();
        let (set_label, label) = (update.label.is_some(), update.label.clone().flatten());
        let (set_scopes, scopes) = (update.scopes.is_some(), update.scopes.map(policy::scopes_json));
        let (set_ips, ips) = (update.allowed_ips.is_some(), update.allowed_ips.as_deref().map(policy::ips_json));
        let (set_expiry, expiry) = (update.expires_at.is_some(), update.expires_at.flatten());
        let (set_limit, limit, window) =
            (update.rate_limit.is_some(), rate_limit.map(|r| r.limit as i32), rate_limit.map(|r| r.window_s as i32));
        self.with_client(move |client| async move {
            let stmt =
                client.prepare_cached(&format!("{UPDATE_SQL} RETURNING {RECORD_COLUMNS}")).await.map_err(pg_err)?;
            let row = client
                .query_opt(
                    &stmt,
                    &[
                        &key,
                        &set_label,
                        &label,
                        &set_scopes,
                        &scopes,
                        &set_ips,
                        &ips,
                        &set_expiry,
                        &expiry,
                        &set_limit,
                        &limit,
                        &window,
                        &actor,
                    ],
                )
                .await
                .map_err(pg_err)?;
            row.as_ref().map(record_at(now_ms())).ok_or(StoreError::NotFound)
        })
        .inspect(|_| self.wake.notified.store(true, Ordering::SeqCst))
    }

    fn count_active(&self) -> Result<u64, StoreError> {
        self.with_client(|client| async move { count_active_with(&client, now_ms()).await })
    }

    fn auth_entry(&self, api_key: &str) -> Result<Option<AuthEntry>, StoreError> {
        let key = api_key.to_owned();
        self.with_client(move |client| async move { read_auth_entry(&client, &key).await })
    }

    fn auth_entry_async(&self, api_key: &str) -> Option<crate::AuthEntryFuture> {
        let (key, pool, root) = (api_key.to_owned(), self.pool.clone(), self.root.clone());
        // On the store's runtime, where its connections live; the caller's async thread awaits the
        // answer. A miss then costs two thread switches fewer than through a blocking thread
        // (measured in BENCHMARKS.md, "CPU per miss").
        let read = self.runtime.as_ref()?.spawn(async move {
            let client = pool.get().await.map_err(|e| pool_err(e, root.as_deref()))?;
            read_auth_entry(&client, &key).await
        });
        Some(Box::pin(async move {
            read.await.unwrap_or_else(|_| Err(StoreError::Postgres("the database task ended without an answer".into())))
        }))
    }

    fn get(&self, api_key: &str) -> Result<Option<CredentialRecord>, StoreError> {
        let key = api_key.to_owned();
        self.with_client(move |client| async move {
            let stmt = client
                .prepare_cached(&format!("SELECT {RECORD_COLUMNS} FROM api_credential WHERE api_key = $1"))
                .await
                .map_err(pg_err)?;
            Ok(client.query_opt(&stmt, &[&key]).await.map_err(pg_err)?.as_ref().map(record_at(now_ms())))
        })
    }

    fn list(
        &self,
        status: StatusFilter,
        limit: u32,
        after: Option<&str>,
    ) -> Result<(Vec<CredentialRecord>, Option<String>), StoreError> {
        let now = now_ms();
        // Expiry is judged against one `now`, passed as $3, for the filter and the status alike.
        let (filter, now_param) = match status {
            StatusFilter::Active => (format!("{} AND", ACTIVE_AT.replace("{}", "3")), Some(now)),
            StatusFilter::Expired => {
                ("active AND expires_at IS NOT NULL AND ledger_ms(expires_at) <= $3 AND".to_owned(), Some(now))
            }
            StatusFilter::Revoked => ("NOT active AND".to_owned(), None),
            StatusFilter::All => (String::new(), None),
        };
        let page_sql =
            format!("SELECT {RECORD_COLUMNS} FROM api_credential WHERE {filter} seq > $1 ORDER BY seq LIMIT $2");
        let after = after.map(str::to_owned);
        self.with_client(move |client| async move {
            keyset_page(
                &client,
                "SELECT seq FROM api_credential WHERE api_key = $1",
                &page_sql,
                limit,
                after,
                now_param,
                record_at(now),
                |r| r.api_key.clone(),
            )
            .await
        })
    }

    fn revoke(&self, api_key: &str, by: &str, reason: Option<&str>) -> Result<CredentialRecord, StoreError> {
        let (key, by, reason) = (api_key.to_owned(), by.to_owned(), reason.map(str::to_owned));
        self.with_client(move |client| async move {
            let stmt =
                client.prepare_cached(&format!("{REVOKE_SQL} RETURNING {RECORD_COLUMNS}")).await.map_err(pg_err)?;
            let row = client.query_opt(&stmt, &[&key, &by, &reason]).await.map_err(pg_err)?;
            row.as_ref().map(record_at(now_ms())).ok_or(StoreError::NotFound)
        })
        .inspect(|_| self.wake.notified.store(true, Ordering::SeqCst))
    }

    fn record_usage(&self, uses: &[(String, i64)]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        // In key order, so neighbouring rows share a page (and two replicas' batches lock rows in
        // one order); in chunks of their own transactions, so no one statement holds the server's
        // core for long (a batch of 10 000 first uses as one UPDATE took it for a second, at full
        // priority beside the reads: BENCHMARKS.md, PostgreSQL).
        let mut sorted: Vec<(String, i64)> = uses.to_vec();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.with_client(move |mut client| async move {
            // A time is written only when it is later than the stored one by at least the
            // resolution (a busy credential costs one write a minute).
            let stmt = client
                .prepare_cached(
                    "UPDATE api_credential c
                        SET last_used_at = ledger_from_ms(u.ms)
                       FROM unnest($1::text[], $2::bigint[]) AS u(api_key, ms)
                      WHERE c.api_key = u.api_key
                        AND (c.last_used_at IS NULL
                             OR (extract(epoch FROM c.last_used_at::timestamptz) * 1000)::bigint <= u.ms - $3)",
                )
                .await
                .map_err(pg_err)?;
            for chunk in sorted.chunks(PG_USAGE_CHUNK) {
                let (keys, millis): (Vec<&str>, Vec<i64>) = chunk.iter().map(|(k, ms)| (k.as_str(), *ms)).unzip();
                let tx = client.transaction().await.map_err(pg_err)?;
                // Nothing waits on these commits, and a crash loses at most the last fraction of a
                // second of last_used_at (as SQLite's synchronous = NORMAL for them).
                tx.batch_execute("SET LOCAL synchronous_commit = off").await.map_err(pg_err)?;
                tx.execute(&stmt, &[&keys, &millis, &crate::USAGE_RESOLUTION_MS]).await.map_err(pg_err)?;
                tx.commit().await.map_err(pg_err)?;
            }
            Ok(())
        })
    }

    fn poll_changes(&self) -> Result<Changes, StoreError> {
        let mut feed = self.feed.lock().unwrap_or_else(PoisonError::into_inner);
        // While the listener listens, no notification means nothing new: the trail is read when
        // one came, in the middle of a round, or once a second whatever happens.
        let quiet = self.wake.listening.load(Ordering::SeqCst)
            && !self.wake.notified.swap(false, Ordering::SeqCst)
            && feed.round_start.is_none()
            && feed.last_read.is_some_and(|t| t.elapsed() < POLL_AT_LEAST_EVERY);
        if quiet {
            return Ok(Changes::default());
        }
        let (horizon, round_start, cursor) = (feed.horizon, feed.round_start, feed.cursor);
        // The triggers are looked at as often as the trail is read without a notification: a
        // trigger disabled or dropped by hand notifies nobody.
        let look_at_catalog = feed.catalog.as_ref().is_none_or(|(_, at)| at.elapsed() >= POLL_AT_LEAST_EVERY);
        let started = std::time::Instant::now();
        let (round_start, rows, mark, times) = self.with_client(move |client| async move {
            let connected = std::time::Instant::now();
            let mark = match look_at_catalog {
                true => Some(catalog_mark(&client).await?),
                false => None,
            };
            let looked = std::time::Instant::now();
            let round_start = match round_start {
                Some(start) => start,
                None => horizon_now(&client).await?,
            };
            let horizon_read = std::time::Instant::now();
            let stmt = client
                .prepare_cached(&format!(
                    "SELECT {AUDIT_COLUMNS}, txid::text::bigint FROM credential_audit
                      WHERE (txid, id) > ($1::bigint::text::xid8, $2) AND txid >= $3::bigint::text::xid8
                      ORDER BY txid, id LIMIT $4"
                ))
                .await
                .map_err(pg_err)?;
            let rows = client
                .query(&stmt, &[&(cursor.0 as i64), &cursor.1, &(horizon as i64), &(AUDIT_PAGE as i64 + 1)])
                .await
                .map_err(pg_err)?;
            Ok((round_start, rows, mark, (connected, looked, horizon_read)))
        })?;
        let (connected, looked, horizon_read) = times;
        let timing = crate::PollTiming {
            connection: connected.duration_since(started),
            catalog: looked.duration_since(connected),
            horizon: horizon_read.duration_since(looked),
            trail: horizon_read.elapsed(),
            rows: rows.len(),
        };
        let mut schema_changed = false;
        if let Some(mark) = mark {
            schema_changed = feed.catalog.as_ref().is_some_and(|(seen, _)| *seen != mark);
            feed.catalog = Some((mark, std::time::Instant::now()));
        }
        // Only now that the rows are read does the feed move on: a failed read is retried whole.
        feed.last_read = Some(std::time::Instant::now());
        let more = rows.len() > AUDIT_PAGE;
        let mut events = Vec::new();
        for row in rows.iter().take(AUDIT_PAGE) {
            let txid = row.get::<_, i64>(7) as u64;
            let event = audit_event(row);
            feed.cursor = (txid, event.id);
            if feed.seen.insert(event.id, txid).is_none() {
                events.push(event);
            }
        }
        if more {
            feed.round_start = Some(round_start);
        } else {
            // The round is over: the next one reads from the transactions running when this one began.
            feed.horizon = feed.horizon.max(round_start);
            feed.round_start = None;
            feed.cursor = (feed.horizon, 0);
            let h = feed.horizon;
            feed.seen.retain(|_, txid| *txid >= h);
        }
        events.sort_by_key(|e| e.id);
        // A change that wrote no audit row (possible only while the triggers are not as the
        // migrations made them) notifies nobody and cannot be told here: then each look at the
        // catalog, twice a second, counts as one, so the watcher re-reads its cache as often.
        let committed = !events.is_empty() || (look_at_catalog && self.untrusted.load(Ordering::SeqCst));
        Ok(Changes { committed, events, more, schema_changed, rewound: false, timing: Some(timing) })
    }

    fn safeguards(&self) -> Result<Safeguards, StoreError> {
        let expected = self.expected.clone();
        let found = self.with_client(move |mut client| async move {
            let expected = match expected.get_or_try_init(|| expected_guards(&mut client)).await {
                Ok(expected) => expected,
                // Not a reason to stop serving, but nothing can be trusted to be as the migrations
                // made it: reported as missing, so ledgerd says so and re-reads its cache.
                Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
                    return Ok(Safeguards {
                        missing: vec![format!(
                            "all of them: cannot read what the migrations make to compare with ({}; they are made \
                             in a schema of its own and rolled back: grant the role CREATE on the database, as \
                             its owner has)",
                            describe(&e)
                        )],
                        unexpected: Vec::new(),
                    });
                }
                Err(e) => return Err(pg_err(e)),
            };
            Ok(compare_guards(expected, &guards(&client).await.map_err(pg_err)?))
        })?;
        self.untrusted.store(!found.intact(), Ordering::SeqCst);
        Ok(found)
    }

    fn wake_on_changes(&self, waker: ChangeWaker) {
        *self.wake.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(waker);
    }

    fn auth_entries(&self, api_keys: &[&str]) -> Result<Vec<Option<AuthEntry>>, StoreError> {
        let keys: Vec<String> = api_keys.iter().map(|k| (*k).to_owned()).collect();
        self.with_client(move |mut client| async move {
            // One snapshot for them all.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(pg_err)?;
            let stmt = tx.prepare_cached(AUTH_SQL).await.map_err(pg_err)?;
            let mut entries = Vec::with_capacity(keys.len());
            for key in &keys {
                entries.push(tx.query_opt(&stmt, &[key]).await.map_err(pg_err)?.as_ref().map(auth_entry_of));
            }
            tx.commit().await.map_err(pg_err)?;
            Ok(entries)
        })
    }

    fn audit_page(
        &self,
        api_key: Option<&str>,
        limit: u32,
        after: Option<i64>,
    ) -> Result<(Vec<AuditEvent>, Option<i64>), StoreError> {
        let key = api_key.map(str::to_owned);
        let before = after.unwrap_or(i64::MAX);
        // One row more than asked says whether another page follows.
        let page = i64::from(limit) + 1;
        self.with_client(move |client| async move {
            let rows = match &key {
                Some(key) => {
                    let stmt = client
                        .prepare_cached(&format!(
                            "SELECT {AUDIT_COLUMNS} FROM credential_audit WHERE api_key = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
                        ))
                        .await
                        .map_err(pg_err)?;
                    client.query(&stmt, &[key, &before, &page]).await
                }
                None => {
                    let stmt = client
                        .prepare_cached(&format!(
                            "SELECT {AUDIT_COLUMNS} FROM credential_audit WHERE id < $1 ORDER BY id DESC LIMIT $2"
                        ))
                        .await
                        .map_err(pg_err)?;
                    client.query(&stmt, &[&before, &page]).await
                }
            }
            .map_err(pg_err)?;
            let mut events: Vec<AuditEvent> = rows.iter().map(audit_event).collect();
            let next = if events.len() > limit as usize {
                events.truncate(limit as usize);
                events.last().map(|e| e.id)
            } else {
                None
            };
            Ok((events, next))
        })
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        self.with_client(|client| async move {
            // Past EXACT_COUNT_UP_TO credentials, the total is PostgreSQL's estimate, and the
            // revoked ones are counted (through api_credential_by_state: they are few).
            let stmt = client
                .prepare_cached(
                    "SELECT c.reltuples::bigint, (SELECT count(*) FROM api_credential WHERE NOT active)
                       FROM pg_class c WHERE c.oid = 'api_credential'::regclass",
                )
                .await
                .map_err(pg_err)?;
            let row = client.query_one(&stmt, &[]).await.map_err(pg_err)?;
            let (estimate, revoked) = (row.get::<_, i64>(0), row.get::<_, i64>(1) as u64);
            if estimate >= EXACT_COUNT_UP_TO {
                return Ok(Counts { active: (estimate as u64).saturating_sub(revoked), revoked });
            }
            let stmt = client
                .prepare_cached("SELECT active, count(*) FROM api_credential GROUP BY active")
                .await
                .map_err(pg_err)?;
            let mut counts = Counts::default();
            for row in client.query(&stmt, &[]).await.map_err(pg_err)? {
                let n = row.get::<_, i64>(1) as u64;
                if row.get::<_, bool>(0) {
                    counts.active = n;
                } else {
                    counts.revoked = n;
                }
            }
            Ok(counts)
        })
    }

    fn check(&self) -> Result<(), StoreError> {
        self.with_client(|client| async move {
            let stmt = client.prepare_cached("SELECT 1 FROM api_credential LIMIT 1").await.map_err(pg_err)?;
            client.query(&stmt, &[]).await.map_err(pg_err)?;
            Ok(())
        })
    }

    fn check_revocable(&self) -> Result<(), StoreError> {
        self.with_client(|mut client| async move {
            let blocked = |e: tokio_postgres::Error| match e.code() {
                // Not a rule refusing revocations: a server that takes no writes at all.
                Some(&SqlState::READ_ONLY_SQL_TRANSACTION) => pg_err(e),
                _ => StoreError::RevocationBlocked { detail: describe(&e) },
            };
            // Rolled back when dropped: nothing is written.
            let tx = client.transaction().await.map_err(pg_err)?;
            // A read-only standby (after a failover to the wrong host) cannot revoke either.
            let key: Option<String> = tx
                .query_opt("SELECT api_key FROM api_credential WHERE active LIMIT 1 FOR UPDATE SKIP LOCKED", &[])
                .await
                .map_err(blocked)?
                .map(|r| r.get(0));
            if let Some(key) = key {
                let changed = tx
                    .execute(REVOKE_SQL, &[&key, &"ledgerd", &Some("write probe, rolled back")])
                    .await
                    .map_err(blocked)?;
                if changed != 1 {
                    return Err(StoreError::RevocationBlocked { detail: "an UPDATE of active changed no row".into() });
                }
            }
            tx.execute(
                "INSERT INTO credential_audit (api_key, action, actor, reason) VALUES ('-', 'revoke', 'ledgerd', 'write probe, rolled back')",
                &[],
            )
            .await
            .map_err(blocked)?;
            tx.rollback().await.map_err(pg_err)
        })
    }

    fn check_write(&self) -> Result<(), StoreError> {
        self.check_revocable()
    }

    fn path_shown(&self) -> String {
        self.shown.clone()
    }

    fn create_account(&self, name: &str, created_by: &str) -> Result<Account, StoreError> {
        let (name, by) = (name.to_owned(), created_by.to_owned());
        let id = format!("acc_{}", et_core::random_hex16());
        self.with_client(move |client| async move {
            let stmt = client
                .prepare_cached(
                    "INSERT INTO account (id, name, created_by) VALUES ($1, $2, $3) RETURNING id, name, created_at",
                )
                .await
                .map_err(pg_err)?;
            Ok(account(&client.query_one(&stmt, &[&id, &name, &by]).await.map_err(pg_err)?))
        })
    }

    fn list_accounts(&self, limit: u32, after: Option<&str>) -> Result<(Vec<Account>, Option<String>), StoreError> {
        let after = after.map(str::to_owned);
        self.with_client(move |client| async move {
            keyset_page(
                &client,
                "SELECT seq FROM account WHERE id = $1",
                "SELECT id, name, created_at FROM account WHERE seq > $1 ORDER BY seq LIMIT $2",
                limit,
                after,
                None,
                account,
                |a| a.id.clone(),
            )
            .await
        })
    }

    fn get_account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let id = id.to_owned();
        self.with_client(move |client| async move {
            let stmt = client
                .prepare_cached("SELECT id, name, created_at FROM account WHERE id = $1")
                .await
                .map_err(pg_err)?;
            Ok(client.query_opt(&stmt, &[&id]).await.map_err(pg_err)?.as_ref().map(account))
        })
    }
}
