//! The credential store behind ledgerd and `etctl db`: a [`CredentialStore`] trait and its SQLite
//! implementation ([`SqliteStore`]) with versioned migrations, WAL, a busy timeout and triggers that
//! enforce the revocation rules even for hand-made SQL, and its PostgreSQL implementation
//! ([`PgStore`], SPEC §7) with the same tables and rules in PL/pgSQL.

mod pg;
mod policy;
mod sqlite;

pub use et_api::{Account, AuditEvent, CredentialRecord, CredentialStatus, RateLimit, Scope, Scopes, StatusFilter};
pub use ipnet::IpNet;
pub use pg::{PG_SCHEMA_VERSION, PgStore, is_postgres_url, url_shown};
pub use policy::{AllowedIps, LATEST_EXPIRY_MS, format_time_ms, parse_ip_net, parse_time_ms};
pub use sqlite::{OpenMode, SCHEMA_VERSION, SqliteStore, USAGE_RESOLUTION_MS};

use et_core::{ApiKey, SecretHash};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the api_key is already registered (revoked keys stay registered and cannot be registered again)")]
    Duplicate,
    #[error("no such credential, or it is already revoked")]
    NotFound,
    /// Registering would make more credentials active than `max_active` allows.
    #[error(
        "the ledger already has {max} active credentials, the most it allows; revoke one first, or raise LEDGERD_MAX_ACTIVE_CREDENTIALS"
    )]
    LimitReached { max: u64 },
    /// A registration meant as the ledger's first ([`NewCredential::first_only`]) found an active
    /// credential already there.
    #[error("the ledger already has an active credential, so this one is not its first")]
    NotFirst,
    /// The database refused the values of a registration or change (one of its rules, a trigger):
    /// the message says which rule. Nothing was changed.
    #[error("the database refused the change: {0}")]
    Refused(String),
    #[error("the cursor {0:?} is not the api_key of any credential")]
    UnknownCursor(String),
    #[error("the database file {path} does not exist; check the path (nothing was created)")]
    Missing { path: String },
    #[error("{path} is not a ledger database (it is not SQLite, or it has no ledgerd schema)")]
    NotALedgerDatabase { path: String },
    #[error(
        "the database {path} has schema version {found}, newer than this program understands ({supported}); upgrade etctl/ledgerd"
    )]
    NewerSchema { path: String, found: i64, supported: i64 },
    #[error("the database is busy or locked by another process; try again")]
    Busy,
    #[error("the database file {path} was removed or replaced while in use")]
    FileReplaced { path: String },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A PostgreSQL error, or no connection to the server (its message, which never holds a password).
    #[error("database error: {0}")]
    Postgres(String),
    #[error("cannot open the database {path}: {detail}")]
    Open { path: String, detail: String },
    #[error(
        "a revocation cannot be recorded ({detail}); look for a trigger that refuses or ignores it, or an audit \
         AUTOINCREMENT at its maximum (SELECT seq FROM sqlite_sequence)"
    )]
    RevocationBlocked { detail: String },
}

impl StoreError {
    /// Whether this is the database failing (as opposed to an answer about the data).
    pub fn is_fault(&self) -> bool {
        !matches!(
            self,
            StoreError::Duplicate
                | StoreError::NotFound
                | StoreError::UnknownCursor(_)
                | StoreError::LimitReached { .. }
                | StoreError::NotFirst
                | StoreError::Refused(_)
        )
    }
}

/// A credential to register: its key, the hash of its secret, and its SPEC §6 fields.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub api_key: ApiKey,
    pub secret_hash: SecretHash,
    pub label: Option<String>,
    /// Unix milliseconds; `None`: never expires. At most [`LATEST_EXPIRY_MS`].
    pub expires_at: Option<i64>,
    pub scopes: Scopes,
    /// Empty: anywhere.
    pub allowed_ips: Vec<IpNet>,
    pub rate_limit: Option<RateLimit>,
    /// The credential that registers it (authenticated registration), for the audit trail;
    /// `None`: `api` (open registration).
    pub registered_by: Option<String>,
    /// Stored only if the ledger has no active credential, judged inside the transaction that
    /// stores it (else [`StoreError::NotFirst`]): the first credential of a ledger under
    /// authenticated registration, which needs no caller; of two sent at once, one is stored.
    pub first_only: bool,
}

impl NewCredential {
    /// A credential with the defaults of SPEC §6: every scope, no expiry, any address, no limit.
    pub fn new(api_key: ApiKey, secret_hash: SecretHash, label: Option<String>) -> Self {
        NewCredential {
            api_key,
            secret_hash,
            label,
            expires_at: None,
            scopes: Scopes::ALL,
            allowed_ips: Vec::new(),
            rate_limit: None,
            registered_by: None,
            first_only: false,
        }
    }
}

/// A change of a credential's SPEC §6 fields (`PATCH /credentials/{api_key}`): `None` leaves a
/// field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialUpdate {
    pub label: Option<Option<String>>,
    pub scopes: Option<Scopes>,
    /// The whole list; empty: anywhere.
    pub allowed_ips: Option<Vec<IpNet>>,
    /// Unix milliseconds, at most [`LATEST_EXPIRY_MS`].
    pub expires_at: Option<Option<i64>>,
    pub rate_limit: Option<Option<RateLimit>>,
}

/// What authentication needs to know of a credential: all of it from the one point read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEntry {
    /// `None` when the stored hash is not 64 lowercase hex digits (it got past the schema, e.g.
    /// with its trigger dropped): no secret matches such a credential, not even an empty one.
    pub secret_hash: Option<SecretHash>,
    /// Not revoked.
    pub active: bool,
    pub label: Option<String>,
    /// `last_used_at` as unix milliseconds, so a use within [`USAGE_RESOLUTION_MS`] of it need not
    /// be queued for writing at all.
    pub last_used_ms: Option<i64>,
    /// `expires_at` as unix milliseconds (`None`: never); expired from that instant on
    /// ([`et_api::is_expired`]). A stored value that is no time reads as long expired.
    pub expires_ms: Option<i64>,
    /// A stored value that is not a JSON array of scope names reads as no scope; unknown names in
    /// it are ignored.
    pub scopes: Scopes,
    pub allowed_ips: AllowedIps,
    /// A stored limit outside its ranges (its triggers dropped) reads as the strictest it could mean.
    pub rate_limit: Option<RateLimit>,
}

/// What changed in the database since the last [`CredentialStore::poll_changes`].
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Audit events, oldest first: at most [`AUDIT_PAGE`] of them.
    pub events: Vec<AuditEvent>,
    /// More audit events are waiting: poll again at once.
    pub more: bool,
    /// Something was committed since the last poll, by anyone (this process included). On
    /// PostgreSQL, which cannot tell, it means "maybe": true at each look at the catalog, at most
    /// twice a second.
    pub committed: bool,
    /// The schema changed since the last poll: a table, index or trigger was made, altered or
    /// dropped (a trigger dropped and made again in one transaction included).
    pub schema_changed: bool,
    /// The audit trail ends before where the last poll left it: the database was restored from an
    /// older copy (`sqlite3 .restore`) or audit rows were deleted by hand. Which rows are new since
    /// cannot be told, so none is returned for the gap: re-check whatever depends on them.
    pub rewound: bool,
    /// Where the time of this poll went, when the store can tell (PostgreSQL): the watcher logs
    /// it when a poll is slow.
    pub timing: Option<PollTiming>,
}

/// The parts of one read of the change feed (PostgreSQL), end to end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollTiming {
    /// From the call to a pooled connection in hand on the store's runtime: the runtime taking
    /// the work, and the wait for a connection when all are busy (or for a new one).
    pub connection: std::time::Duration,
    /// The look at the catalog (triggers, functions, constraints), when one was due.
    pub catalog: std::time::Duration,
    /// Reading the oldest running transaction (the feed's horizon), at the start of a round.
    pub horizon: std::time::Duration,
    /// Reading the audit trail, and the answer's way back to the caller.
    pub trail: std::time::Duration,
    /// Audit rows read (returned, or read again and skipped as seen).
    pub rows: usize,
}

/// Most audit events one poll returns, so a batch of a million rows is read in pages of bounded
/// memory instead of all at once.
pub const AUDIT_PAGE: usize = 10_000;

/// How the triggers that enforce the ledger's rules compare with what the migrations made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Safeguards {
    /// Triggers the migrations made that are gone, or whose SQL was changed.
    pub missing: Vec<String>,
    /// Triggers no migration made (added by hand): one could suppress audit rows.
    pub unexpected: Vec<String>,
}

impl Safeguards {
    /// Every trigger as the migrations made it, and no other: every change to a credential that
    /// matters to authentication then writes an audit row or is refused.
    pub fn intact(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// The write-ahead log of a database that has one (SQLite in WAL mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalStatus {
    /// The size of the WAL file.
    pub bytes: u64,
    /// The WAL had grown past its limit and a checkpoint tried now could not copy all of it back
    /// into the database: a reader holds an old snapshot (checkpoint starvation).
    pub checkpoint_incomplete: bool,
}

/// What a store calls when its database tells it that changes may be waiting (PostgreSQL's
/// `LISTEN`), so whoever polls [`CredentialStore::poll_changes`] does so at once rather than at its
/// next interval. Cheap and non-blocking; called from the store's own threads.
pub type ChangeWaker = std::sync::Arc<dyn Fn() + Send + Sync>;

/// A read of [`CredentialStore::auth_entry`] as a future, for an async caller to await.
pub type AuthEntryFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<AuthEntry>, StoreError>> + Send + 'static>>;

/// How many credentials are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub active: u64,
    pub revoked: u64,
}

/// What [`CredentialStore::release_replaced`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The old file's WAL was copied into the old file and emptied (truncated to 0 bytes): the
    /// file now at the path finds nothing of it.
    Emptied,
    /// Nothing at the path is the old file's any more (someone else's SQLite removed its WAL).
    NotOurs,
    /// Another process has the old WAL open (it opened the new file while the old WAL was still
    /// there, so it shares it) or that cannot be ruled out: left alone, as SQLite leaves it.
    InUse,
}

/// The operations ledgerd and `etctl db` need. Calls block; async callers run the slow ones on a
/// blocking thread.
pub trait CredentialStore: Send + Sync + 'static {
    /// Stores a new credential; [`StoreError::Duplicate`] if the key was ever registered. No limit
    /// on active credentials applies.
    fn register(&self, credential: &NewCredential) -> Result<CredentialRecord, StoreError> {
        let mut answers = self.register_many(std::slice::from_ref(credential), None);
        answers.pop().unwrap_or(Err(StoreError::NotFound))
    }

    /// Stores several credentials in one transaction, so that one commit (one fsync under
    /// `synchronous = FULL`) makes them all durable: group commit. Each gets its own answer, in
    /// order: a duplicate ([`StoreError::Duplicate`]), values the database refuses
    /// ([`StoreError::Refused`]) and one that would make more than `max_active` credentials active
    /// and unexpired ([`StoreError::LimitReached`], counted inside the transaction, so concurrent
    /// registrations from any process cannot exceed it) fail alone, and so does one that is
    /// [`NewCredential::first_only`] when an active credential exists ([`StoreError::NotFirst`]); when anything else fails, or the
    /// commit does, they all fail and none is stored.
    fn register_many(
        &self,
        credentials: &[NewCredential],
        max_active: Option<u64>,
    ) -> Vec<Result<CredentialRecord, StoreError>>;

    /// Changes a credential's SPEC §6 fields in one statement, audited as `update` by `actor` with
    /// what changed (nothing is audited when nothing changed). [`StoreError::NotFound`] when the
    /// key is unknown or revoked (a revoked credential never changes); [`StoreError::Refused`] for
    /// values the database refuses.
    fn update(&self, api_key: &str, update: &CredentialUpdate, actor: &str) -> Result<CredentialRecord, StoreError>;

    /// How many credentials are active now: not revoked and not expired.
    fn count_active(&self) -> Result<u64, StoreError>;

    /// The hash and state of one credential, for authentication.
    fn auth_entry(&self, api_key: &str) -> Result<Option<AuthEntry>, StoreError>;

    /// [`auth_entry`](Self::auth_entry) if it can be answered at once: a point read on a connection
    /// that is free right now and that never waits for a lock. `None` means "ask `auth_entry` on a
    /// blocking thread"; the default always says so.
    fn auth_entry_now(&self, api_key: &str) -> Option<Result<Option<AuthEntry>, StoreError>> {
        let _ = api_key;
        None
    }

    /// [`auth_entry`](Self::auth_entry) as a future that never blocks the thread polling it, for a
    /// store whose read is a network round trip (PostgreSQL): awaited on the caller's async thread,
    /// it spares the hand-over to a blocking thread and back. `None` (the default): use
    /// [`auth_entry_now`](Self::auth_entry_now) or a blocking thread.
    fn auth_entry_async(&self, api_key: &str) -> Option<AuthEntryFuture> {
        let _ = api_key;
        None
    }

    fn get(&self, api_key: &str) -> Result<Option<CredentialRecord>, StoreError>;

    /// One page in registration order, after the credential whose key is `after`; and the cursor
    /// of the next page, if there is one. Expiry is judged against the current time.
    fn list(
        &self,
        status: StatusFilter,
        limit: u32,
        after: Option<&str>,
    ) -> Result<(Vec<CredentialRecord>, Option<String>), StoreError>;

    /// Revokes an active credential, recording who did it and why.
    /// [`StoreError::NotFound`] when the key is unknown or already revoked.
    fn revoke(&self, api_key: &str, by: &str, reason: Option<&str>) -> Result<CredentialRecord, StoreError>;

    /// Records when credentials were last used, in one transaction: `(api_key, unix milliseconds)`.
    /// A time is written only when it is later than the stored one by at least
    /// [`USAGE_RESOLUTION_MS`] (SQLite), so `last_used_at` is exact to the minute and a busy
    /// credential costs one write a minute, not one a flush.
    fn record_usage(&self, uses: &[(String, i64)]) -> Result<(), StoreError>;

    /// Audit events since the last call (whoever made them: this process, another one, or a hand-made
    /// SQL statement), a page at a time, and whether anything else was committed or the schema
    /// changed. Cheap when nothing changed. Events from before the store was opened are not returned.
    fn poll_changes(&self) -> Result<Changes, StoreError>;

    /// Asks the store to call `waker` whenever its database says a change was committed (and when
    /// its own way of being told was interrupted, so that what was missed is read): for a store
    /// that has such notifications (PostgreSQL); the default, for one that must be polled, never
    /// calls it. A later call replaces the waker.
    fn wake_on_changes(&self, waker: ChangeWaker) {
        let _ = waker;
    }

    /// The write-ahead log's size, and whether it is being kept from shrinking; `None` for a
    /// database without one. Cheap when the WAL is within its limit (a `stat`); past it, tries a
    /// checkpoint that waits for nobody.
    fn wal_status(&self) -> Result<Option<WalStatus>, StoreError> {
        Ok(None)
    }

    /// Whether the triggers that enforce the ledger's rules are all there as the migrations made
    /// them (read from the database itself, not from a connection's cached schema).
    fn safeguards(&self) -> Result<Safeguards, StoreError> {
        Ok(Safeguards::default())
    }

    /// What [`auth_entry`](Self::auth_entry) would answer for each key, in order, read together
    /// (one read transaction): for re-checking cached credentials against their rows.
    fn auth_entries(&self, api_keys: &[&str]) -> Result<Vec<Option<AuthEntry>>, StoreError> {
        api_keys.iter().map(|key| self.auth_entry(key)).collect()
    }

    /// One page of the audit trail, newest first, optionally for one key: the events with an id
    /// below `after` (the previous page's cursor), and the cursor of the next page if there is one.
    fn audit_page(
        &self,
        api_key: Option<&str>,
        limit: u32,
        after: Option<i64>,
    ) -> Result<(Vec<AuditEvent>, Option<i64>), StoreError>;

    fn counts(&self) -> Result<Counts, StoreError>;

    /// Proves the database answers a read of the credential table.
    fn check(&self) -> Result<(), StoreError>;

    /// Proves a revocation could be recorded now: makes the writes a revocation makes (its update,
    /// the audit row) in a transaction that is rolled back, so nothing changes. A trigger added by
    /// hand that refuses or ignores revocations, or an exhausted audit AUTOINCREMENT, is
    /// [`StoreError::RevocationBlocked`]; [`StoreError::Busy`] (another process holds the write
    /// lock) proves nothing either way. Cheap: no commit, no fsync.
    fn check_revocable(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Proves the database takes a write that needs new space, and that a revocation could be
    /// recorded ([`check_revocable`](Self::check_revocable)): after a write failed, to tell when
    /// it works again. Costly: only for a database already known to be failing.
    fn check_write(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Whether the database file at this store's path is still the one it has open: false once
    /// that file was moved away, replaced or deleted. A write that committed to a file no longer at
    /// the path is not acknowledged (nobody would find it there).
    fn is_current(&self) -> bool {
        true
    }

    /// The path of the database, for messages.
    fn path_shown(&self) -> String {
        String::new()
    }

    /// Called once the file at this store's path is no longer this store's and nothing else uses
    /// the store, before it is closed: leaves nothing of the old file behind for the file now at the
    /// path. (SQLite names the WAL after the path, and does not remove the WAL of a moved database
    /// when it closes: the next one to open the path would replay the old file's WAL onto the new.)
    fn release_replaced(&self) -> Result<Release, StoreError> {
        Ok(Release::NotOurs)
    }

    fn create_account(&self, name: &str, created_by: &str) -> Result<Account, StoreError>;
    fn list_accounts(&self, limit: u32, after: Option<&str>) -> Result<(Vec<Account>, Option<String>), StoreError>;
    fn get_account(&self, id: &str) -> Result<Option<Account>, StoreError>;
}
