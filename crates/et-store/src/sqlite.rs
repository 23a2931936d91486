//! The SQLite implementation of [`CredentialStore`]: one writer connection, a few reader
//! connections, and one watcher connection that polls `PRAGMA data_version` to notice commits made
//! by anyone (this process, `etctl db`, or an operator in the `sqlite3` shell).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use crate::policy::{self, AllowedIps, LATEST_EXPIRY_MS};
use crate::{
    AUDIT_PAGE, Account, AuditEvent, AuthEntry, Changes, Counts, CredentialRecord, CredentialStatus, CredentialStore,
    CredentialUpdate, NewCredential, RateLimit, Release, Safeguards, StatusFilter, StoreError, WalStatus,
};
use et_core::SecretHash;

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `PRAGMA application_id` of a ledger database ("LDGD"), so other SQLite files are told apart.
const APPLICATION_ID: i64 = 0x4C44_4744;

/// Migration `n` (1-based) brings the schema from version `n - 1` to `n`. Never edit a released one.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_refuse_bypasses.sql"),
    include_str!("../migrations/0003_lifetime_and_least_privilege.sql"),
    include_str!("../migrations/0004_cheaper_checks.sql"),
];

/// How trigger `api_credential_key_is_new` (migration 2) begins its refusal: a duplicate
/// registration, answered like the primary key's own conflict.
const DUPLICATE_KEY_REFUSAL: &str = "the api_key is already registered";

const READERS: usize = 4;
/// `last_used_at` rows written per transaction (see `record_usage`).
const USAGE_CHUNK: usize = 256;
/// Most inline readers (one per async worker thread that may miss the cache at the same moment).
const QUICK_READERS_MAX: usize = 8;
/// The page cache of the first inline reader: at least this, and at most the next, as
/// [`quick_cache_kib`] chooses; the others' (see `open`).
const QUICK_CACHE_KIB: usize = 8 * 1024;
/// The whole hot set of some 170 000 credentials ([`quick_cache_kib`]).
const QUICK_CACHE_MAX_KIB: usize = 72 * 1024;
/// What one credential takes in the table and its key index once its `last_used_at` is written:
/// 100 000 take 36 MB (dbstat), the writes having split pages.
const HOT_BYTES_PER_CREDENTIAL: u64 = 370;
const QUICK_SPARE_CACHE_KIB: usize = 4 * 1024;
/// `last_used_at` is rewritten only when a use is this much later than the stored time. Each write
/// dirties a random page of the table (4 KB of WAL, and an fsync'd checkpoint later) and a ledger
/// under load sees thousands of credentials a second: without this, recording that they were used
/// cost more than authenticating them (BENCHMARKS.md, cold auth).
pub const USAGE_RESOLUTION_MS: i64 = 60_000;
/// Pages the WAL may hold before a commit copies them back into the database file.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;
/// The WAL file is cut back to this size by the first commit after a checkpoint that emptied it.
/// Between checkpoints it grows to about 41 MB (10 000 pages of 4 KiB and their frame headers, and
/// the commit that crossed the mark), so in normal operation nothing is cut; a WAL that grew past
/// it while a reader kept checkpoints from completing shrinks back.
const JOURNAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long background writes (a probe of an unwritable database, `last_used_at` batches) wait
/// for a lock: they must not hold the writer connection through the full busy timeout while API
/// writes queue behind them (see `with_short_busy_timeout`).
const SHORT_BUSY_TIMEOUT: Duration = Duration::from_millis(100);

/// The one statement that revokes: through the API, `etctl db`, and the write probe.
const REVOKE_SQL: &str =
    "UPDATE api_credential SET active = 0, revoked_by = ?2, revoke_reason = ?3 WHERE api_key = ?1 AND active = 1";

/// `expires_at` as unix milliseconds: NULL for never, and 0 (long expired) for a stored value that
/// is no time (possible only with its trigger dropped), so it fails closed.
macro_rules! expires_ms {
    () => {
        "CASE WHEN expires_at IS NULL THEN NULL
              ELSE coalesce(CAST(round((julianday(expires_at) - 2440587.5) * 86400000.0) AS INTEGER), 0) END"
    };
}

/// What [`record_at`] reads: expires_at in RFC 3339 UTC with milliseconds whatever form it was
/// written in by hand (or as stored, when it is no time), then the same as milliseconds.
const RECORD_COLUMNS: &str = concat!(
    "api_key, label, active, created_at, revoked_at, revoked_by, last_used_at,
     coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', expires_at), CAST(expires_at AS TEXT)), ",
    expires_ms!(),
    ", scopes, allowed_ips, rate_limit, rate_limit_window_s"
);

/// Usable now (not revoked, not expired at ?N): `{}` is replaced by the number of the parameter.
const ACTIVE_AT: &str = concat!("active = 1 AND (expires_at IS NULL OR ", expires_ms!(), " > ?{})");

/// The one statement that registers: through the API, `ledgerd --dev`, and the tests.
const INSERT_SQL: &str = "INSERT INTO api_credential
    (api_key, api_secret_hash, label, expires_at, scopes, allowed_ips, rate_limit, rate_limit_window_s, updated_by)
    VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', ?4 / 1000.0, 'unixepoch'), ?5, ?6, ?7, ?8, ?9)";

/// The one statement that changes a credential (PATCH): each field is set only when its flag is
/// 1, and updated_by names the actor for the audit trigger, which clears it again.
const UPDATE_SQL: &str = "UPDATE api_credential
    SET label = CASE WHEN ?2 THEN ?3 ELSE label END,
        scopes = CASE WHEN ?4 THEN ?5 ELSE scopes END,
        allowed_ips = CASE WHEN ?6 THEN ?7 ELSE allowed_ips END,
        expires_at = CASE WHEN ?8 THEN strftime('%Y-%m-%dT%H:%M:%fZ', ?9 / 1000.0, 'unixepoch') ELSE expires_at END,
        rate_limit = CASE WHEN ?10 THEN ?11 ELSE rate_limit END,
        rate_limit_window_s = CASE WHEN ?10 THEN ?12 ELSE rate_limit_window_s END,
        updated_by = ?13
    WHERE api_key = ?1 AND active = 1";

const AUDIT_COLUMNS: &str = "id, at, api_key, action, actor, reason, changes";

/// Whether opening may create the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// ledgerd: create the file and its schema when missing.
    CreateIfMissing,
    /// `etctl db`: the file must exist and be a ledger database; nothing is ever created.
    MustExist,
}

struct Watcher {
    conn: Connection,
    data_version: i64,
    schema_version: i64,
    last_audit_id: i64,
    /// The last poll returned a full page: the next reads on whatever the data version says.
    more: bool,
    #[cfg(unix)]
    file_id: (u64, u64),
}

/// A ledger database in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    watcher: Mutex<Watcher>,
    /// For [`CredentialStore::auth_entry_now`]: readers that never wait (busy timeout 0), one per
    /// thread of the async runtime that may read at once, so a miss never finds them all taken.
    quick: Vec<Mutex<Connection>>,
    /// The page cache of the first of `quick`, in KiB (see [`quick_cache_kib`]).
    quick_kib: AtomicUsize,
    /// (device, inode) of the database file, its `-wal` and its `-shm` as opened: how a file moved
    /// away or replaced at the path is told apart (see `release_replaced`).
    #[cfg(unix)]
    files: [Option<(u64, u64)>; 3],
    /// `(name, sql)` of every trigger the migrations make, sorted: what [`CredentialStore::safeguards`]
    /// compares the file's schema with.
    triggers: Vec<(String, String)>,
}

/// The database file and the WAL and shared-memory files SQLite keeps beside it.
#[cfg(unix)]
fn database_files(path: &Path) -> [Option<(u64, u64)>; 3] {
    with_sidecars(path).map(|p| file_id(&p))
}

/// Whether a process other than this one holds a lock on the file with inode `ino` (Linux:
/// `/proc/locks`). SQLite holds a read lock on its shared-memory file for as long as a connection
/// has it open. When that cannot be read, the answer is yes: the caller then leaves the file alone.
#[cfg(unix)]
fn locked_by_another_process(ino: u64) -> bool {
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else { return true };
    let me = std::process::id().to_string();
    let file = format!(":{ino}");
    // "1: POSIX  ADVISORY  READ 1234 fd:01:5678 128 128": the pid precedes major:minor:inode. The
    // device is not compared: an inode of another device only makes the answer a cautious yes.
    locks.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields
            .iter()
            .position(|f| f.ends_with(&file) && f.matches(':').count() == 2)
            .is_some_and(|i| i > 0 && fields[i - 1] != me)
    })
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection leaves no half-done transaction behind (SQLite rolls
    // back uncommitted work), so the connection is still safe to use.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `error` is an insert refused because its api_key is already registered: the primary
/// key's conflict, or (first, since BEFORE INSERT triggers run before conflicts are resolved) the
/// trigger that refuses an existing key to every form of INSERT, REPLACE and UPSERT included.
fn is_duplicate_key(error: &rusqlite::Error) -> bool {
    match error {
        rusqlite::Error::SqliteFailure(e, message) => {
            e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || (e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER
                    && message.as_deref().is_some_and(|m| m.starts_with(DUPLICATE_KEY_REFUSAL)))
        }
        _ => false,
    }
}

/// The stored hash, if it is what the schema allows: 64 lowercase hex digits in a text value.
/// Anything else (a BLOB, uppercase, 64 `x`) matches no secret.
/// A stored time in another form than the canonical one, as unix milliseconds by SQLite's own
/// reading (`julianday`, as [`expires_ms!`] reads it); `None` when SQLite reads no time in it.
fn sqlite_time_ms(conn: &Connection, value: Value) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT CAST(round((julianday(?1) - 2440587.5) * 86400000.0) AS INTEGER)")
        .and_then(|mut s| s.query_row([value], |r| r.get(0)))
        .map_err(map_err)
}

fn stored_hash(value: rusqlite::types::ValueRef<'_>) -> Option<SecretHash> {
    let rusqlite::types::ValueRef::Text(text) = value else { return None };
    SecretHash::from_stored(text)
}

fn map_err(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => StoreError::Busy,
        _ => StoreError::Sqlite(error),
    }
}

/// Runs an `INSERT … RETURNING` (in autocommit mode) to its end and returns its one row.
/// `query_row` stops after the first row; the commit happens only when the statement finishes,
/// which would then be in the reset, whose error rusqlite drops: a commit that failed (a full disk,
/// an I/O error) would be reported as a success, and a registration answered 201 would be lost.
fn insert_returning<T>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let mut rows = stmt.query(params)?;
    let value = match rows.next()? {
        Some(row) => map(row)?,
        None => return Err(rusqlite::Error::QueryReturnedNoRows),
    };
    while rows.next()?.is_some() {}
    Ok(value)
}

/// The same failure again, for each credential of a failed batch (rusqlite's error is not `Clone`).
fn copy_error(error: &rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::SqliteFailure(code, message) => {
            map_err(rusqlite::Error::SqliteFailure(*code, message.clone()))
        }
        other => StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        )),
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A column as text if it is text: a value of another type (possible only with a trigger dropped)
/// reads as none, and then as the least it could grant.
fn text_of<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(match row.get_ref(i)? {
        rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    })
}

fn int_of(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match row.get_ref(i)? {
        rusqlite::types::ValueRef::Null => None,
        value => value.as_i64().ok().or(Some(0)),
    })
}

/// Maps a row of [`RECORD_COLUMNS`] to a record, its status judged at `now` (unix ms).
fn record_at(now: i64) -> impl Fn(&Row<'_>) -> rusqlite::Result<CredentialRecord> {
    move |row| {
        let active = row.get::<_, i64>(2)? == 1;
        let expires_ms: Option<i64> = row.get(8)?;
        Ok(CredentialRecord {
            api_key: row.get(0)?,
            label: row.get(1)?,
            active,
            created_at: row.get(3)?,
            revoked_at: row.get(4)?,
            revoked_by: row.get(5)?,
            last_used_at: row.get(6)?,
            status: CredentialStatus::of(active, expires_ms, now),
            expires_at: row.get(7)?,
            scopes: policy::scopes_from_stored(text_of(row, 9)?).to_vec(),
            allowed_ips: policy::ips_for_record(text_of(row, 10)?),
            rate_limit: policy::rate_limit_from_stored(int_of(row, 11)?, int_of(row, 12)?),
        })
    }
}

fn audit_event(row: &Row<'_>) -> rusqlite::Result<AuditEvent> {
    let changes: Option<String> = row.get(6)?;
    Ok(AuditEvent {
        id: row.get(0)?,
        at: row.get(1)?,
        api_key: row.get(2)?,
        action: row.get(3)?,
        actor: row.get(4)?,
        reason: row.get(5)?,
        // Written by the audit trigger as JSON; a hand-made note that is not is shown as text.
        changes: changes.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))),
    })
}

/// The values a registration or change may not have, refused before the database is asked (its
/// triggers would refuse them too, as a failure of the database).
pub(crate) fn check_expiry(expires_ms: Option<i64>) -> Result<(), StoreError> {
    match expires_ms {
        Some(ms) if !(0..=LATEST_EXPIRY_MS).contains(&ms) => {
            Err(StoreError::Refused("expires_at must be between 1970 and the end of year 9999".into()))
        }
        _ => Ok(()),
    }
}

pub(crate) fn check_rate_limit(rate_limit: Option<RateLimit>) -> Result<(), StoreError> {
    rate_limit.map_or(Ok(()), |rl| rl.check().map_err(StoreError::Refused))
}

pub(crate) fn check_new(credential: &NewCredential) -> Result<(), StoreError> {
    check_expiry(credential.expires_at)?;
    check_rate_limit(credential.rate_limit)
}

/// Inserts one credential with [`INSERT_SQL`] `RETURNING` its record.
fn insert_credential(
    stmt: &mut rusqlite::CachedStatement<'_>,
    credential: &NewCredential,
    now: i64,
) -> rusqlite::Result<CredentialRecord> {
    insert_returning(
        stmt,
        params![
            credential.api_key.as_str(),
            credential.secret_hash.to_hex(),
            credential.label,
            credential.expires_at,
            policy::scopes_json(credential.scopes),
            policy::ips_json(&credential.allowed_ips),
            credential.rate_limit.map(|r| r.limit),
            credential.rate_limit.map(|r| r.window_s),
            credential.registered_by,
        ],
        record_at(now),
    )
}

fn account(row: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account { id: row.get(0)?, name: row.get(1)?, created_at: row.get(2)? })
}

/// One page in rowid (registration) order: the rows after the one whose key is `after` (found
/// with `cursor_sql`), at most `limit` of them by `page_sql` (which takes the rowid and a limit,
/// and `now` as ?3 when given), and the key of the last row when more follow.
#[allow(clippy::too_many_arguments)]
fn keyset_page<T>(
    conn: &Connection,
    cursor_sql: &str,
    page_sql: &str,
    limit: u32,
    after: Option<&str>,
    now: Option<i64>,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    key_of: impl Fn(&T) -> String,
) -> Result<(Vec<T>, Option<String>), StoreError> {
    let after_rowid: i64 = match after {
        None => 0,
        Some(key) => conn
            .prepare_cached(cursor_sql)
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map_err(map_err)?
            .ok_or_else(|| StoreError::UnknownCursor(key.to_owned()))?,
    };
    let mut stmt = conn.prepare_cached(page_sql).map_err(map_err)?;
    // One row more than asked says whether another page follows.
    let rows = match now {
        Some(now) => stmt.query_map(params![after_rowid, i64::from(limit) + 1, now], row),
        None => stmt.query_map(params![after_rowid, i64::from(limit) + 1], row),
    };
    let mut rows: Vec<T> = rows.map_err(map_err)?.collect::<Result<_, _>>().map_err(map_err)?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(key_of)
    } else {
        None
    };
    Ok((rows, next))
}

/// Runs `work` on the writer with [`SHORT_BUSY_TIMEOUT`], then restores the normal one.
fn with_short_busy_timeout<T>(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.busy_timeout(SHORT_BUSY_TIMEOUT).map_err(map_err)?;
    let result = work(conn);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    result
}

/// Every trigger of the ledger's schema, `(name, sql)` sorted by name.
fn triggers_of(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    // sqlite_schema itself, not a connection's parsed copy: an edit under `writable_schema` that
    // left the schema cookie alone shows here too.
    conn.prepare_cached("SELECT name, coalesce(sql, '') FROM sqlite_schema WHERE type = 'trigger' ORDER BY name")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// The triggers the migrations make, as SQLite stores them: the migrations run on an empty
/// in-memory database.
fn expected_triggers() -> Result<Vec<(String, String)>, StoreError> {
    let conn = Connection::open_in_memory().map_err(map_err)?;
    for sql in MIGRATIONS {
        conn.execute_batch(sql).map_err(map_err)?;
    }
    triggers_of(&conn).map_err(map_err)
}

/// [`CredentialStore::check_revocable`] on the writer: revokes one active credential (any: it is
/// rolled back) and appends an audit row by hand, then rolls both back.
fn probe_revocation(conn: &mut Connection) -> Result<(), StoreError> {
    let blocked = |e: rusqlite::Error| match map_err(e) {
        StoreError::Busy => StoreError::Busy,
        other => StoreError::RevocationBlocked { detail: other.to_string() },
    };
    // Dropped without a commit, the transaction rolls back: nothing is written, nothing synced.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(map_err)?;
    let active: Option<String> = tx
        .prepare_cached("SELECT api_key FROM api_credential WHERE active = 1 LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .map_err(blocked)?;
    if let Some(key) = active {
        let changed = tx
            .prepare_cached(REVOKE_SQL)
            .and_then(|mut s| s.execute(params![key, "ledgerd", "write probe, rolled back"]))
            .map_err(blocked)?;
        if changed != 1 {
            return Err(StoreError::RevocationBlocked { detail: "an UPDATE of active changed no row".into() });
        }
    }
    // The audit row a revocation needs, also when there is nothing to revoke (or its trigger is gone).
    tx.prepare_cached(
        "INSERT INTO credential_audit (api_key, action, actor, reason) VALUES ('-', 'revoke', 'ledgerd', 'write probe, rolled back')",
    )
    .and_then(|mut s| s.execute([]))
    .map_err(blocked)?;
    tx.rollback().map_err(map_err)
}

/// The first inline reader's page cache (KiB) for a table of `credentials` rows: the whole hot set
/// (table and key index, SQLite's page headers and a fifth to spare) when that fits in
/// [`QUICK_CACHE_MAX_KIB`] (some 170 000 credentials), so that every miss is a walk through
/// memory; [`QUICK_CACHE_KIB`] otherwise, which holds the interior pages of both B-trees. A cache
/// that cannot hold the hot set (a million credentials take some 370 MB) is hit in proportion to
/// its size by keys that come in no order, so more of it buys a few preads in a hundred; and SQLite
/// empties it whenever another connection commits (each `last_used_at` chunk), a cost that grows
/// with its size.
fn quick_cache_kib(credentials: u64) -> usize {
    let want = credentials.saturating_mul(HOT_BYTES_PER_CREDENTIAL) / 1024 * 12 / 10;
    match usize::try_from(want) {
        Ok(kib) if kib <= QUICK_CACHE_MAX_KIB => kib.max(QUICK_CACHE_KIB),
        _ => QUICK_CACHE_KIB,
    }
}

/// Creates an empty database file readable by its owner only, before SQLite opens it: SQLite
/// gives the `-wal` and `-shm` files it makes the database file's mode, and would create the file
/// itself with 0644 (every credential's hash and the audit trail readable by any local user).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        // Created by someone else meanwhile: theirs, opened as it is.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

/// The database file and the `-wal` and `-shm` beside it.
fn with_sidecars(path: &Path) -> [PathBuf; 3] {
    ["", "-wal", "-shm"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl SqliteStore {
    /// Opens (and in [`OpenMode::CreateIfMissing`], creates) the database at `path`, bringing its
    /// schema up to date.
    pub fn open(path: impl AsRef<Path>, mode: OpenMode) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let exists = path.exists();
        if mode == OpenMode::MustExist && !exists {
            return Err(StoreError::Missing { path: shown });
        }
        if exists && path.is_dir() {
            return Err(StoreError::Open { path: shown, detail: "it is a directory, not a file".into() });
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if mode == OpenMode::CreateIfMissing {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
            if !exists {
                create_private(&path).map_err(|e| StoreError::Open { path: shown.clone(), detail: e.to_string() })?;
            }
        }
        let open = |flags: OpenFlags| -> Result<Connection, StoreError> {
            let conn = Connection::open_with_flags(&path, flags)
                .map_err(|e| StoreError::Open { path: shown.clone(), detail: e.to_string() })?;
            conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
            Ok(conn)
        };

        let mut writer = open(flags)?;
        Self::prepare_writer(&mut writer, &shown, mode)?;

        let reader_flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = open(reader_flags)?;
            conn.execute_batch("PRAGMA query_only = ON;").map_err(map_err)?;
            readers.push(Mutex::new(conn));
        }

        let quick_count = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, QUICK_READERS_MAX);
        let quick_kib = AtomicUsize::new(0);
        let mut quick = Vec::with_capacity(quick_count);
        for i in 0..quick_count {
            let conn = open(reader_flags)?;
            conn.execute_batch("PRAGMA query_only = ON;").map_err(map_err)?;
            conn.busy_timeout(Duration::ZERO).map_err(map_err)?;
            // Most cache misses go through the first of these connections (the others take what
            // arrives while it is busy): its page cache (QUICK_CACHE_KIB) makes a miss a walk
            // through memory rather than a pread per level. SQLite empties it whenever another
            // connection commits (about every 2 s under load), and refills it as it is read.
            let kib = if i == 0 {
                // The highest rowid bounds the credentials without a scan; the housekeeper's
                // counts refine it (`counts`).
                let rows: Option<i64> =
                    conn.query_row("SELECT max(rowid) FROM api_credential", [], |r| r.get(0)).map_err(map_err)?;
                quick_cache_kib(rows.unwrap_or(0).max(0) as u64)
            } else {
                QUICK_SPARE_CACHE_KIB
            };
            conn.execute_batch(&format!("PRAGMA cache_size = -{kib};")).map_err(map_err)?;
            if i == 0 {
                quick_kib.store(kib, Ordering::Relaxed);
            }
            quick.push(Mutex::new(conn));
        }

        let watch = open(reader_flags)?;
        watch.execute_batch("PRAGMA query_only = ON;").map_err(map_err)?;
        let data_version = watch.query_row("PRAGMA data_version", [], |r| r.get(0)).map_err(map_err)?;
        let schema_version = watch.query_row("PRAGMA schema_version", [], |r| r.get(0)).map_err(map_err)?;
        let last_audit_id =
            watch.query_row("SELECT coalesce(max(id), 0) FROM credential_audit", [], |r| r.get(0)).map_err(map_err)?;
        let watcher = Watcher {
            conn: watch,
            data_version,
            schema_version,
            last_audit_id,
            more: false,
            #[cfg(unix)]
            file_id: file_id(&path).unwrap_or_default(),
        };

        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            watcher: Mutex::new(watcher),
            quick,
            quick_kib,
            triggers: expected_triggers()?,
            #[cfg(unix)]
            files: database_files(&path),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database file, its `-wal` and its `-shm` when other users may read or write them, with
    /// their mode: a file made before ledgerd created its files 0600, or copied in with a looser
    /// mode. Opening never changes an existing file's mode; the caller says how to.
    pub fn open_to_others(&self) -> Vec<(PathBuf, u32)> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            with_sidecars(&self.path)
                .into_iter()
                .filter_map(|p| {
                    let mode = std::fs::metadata(&p).ok()?.permissions().mode() & 0o777;
                    (mode & 0o077 != 0).then_some((p, mode))
                })
                .collect()
        }
        #[cfg(not(unix))]
        Vec::new()
    }

    fn prepare_writer(conn: &mut Connection, shown: &str, mode: OpenMode) -> Result<(), StoreError> {
        let not_ledger = || StoreError::NotALedgerDatabase { path: shown.to_owned() };
        // The first read of the header tells a non-SQLite file apart.
        let app_id: i64 = match conn.query_row("PRAGMA application_id", [], |r| r.get(0)) {
            Ok(id) => id,
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => return Err(not_ledger()),
            Err(e) => return Err(map_err(e)),
        };
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(map_err)?;
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)).map_err(map_err)?;
        let fresh = app_id == 0 && version == 0 && tables == 0;
        if !(app_id == APPLICATION_ID || fresh) || (fresh && mode == OpenMode::MustExist) {
            return Err(not_ledger());
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { path: shown.to_owned(), found: version, supported: SCHEMA_VERSION });
        }

        // WAL lets readers (ledgerd's, etctl db's, the sqlite3 shell's) run beside the writer.
        // synchronous = FULL: a revocation that was answered must survive a power cut, not only a
        // crash of the process.
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).map_err(map_err)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").map_err(map_err)?;
        // A checkpoint copies every page the WAL holds back into the database file and syncs it, in
        // the middle of whichever commit crossed the threshold; registrations dirty random index
        // pages, so at SQLite's default (1 000 pages, 4 MB) one registration batch in a dozen paid
        // for one. At 10 000 pages pages written repeatedly are copied once, checkpoints are ten
        // times rarer, and registration goes about 15% faster (BENCHMARKS.md); the WAL grows to
        // some 40 MB between checkpoints.
        conn.execute_batch(&format!("PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};")).map_err(map_err)?;
        // Per connection: this one makes (nearly) every commit, so it is the one that cuts the WAL.
        conn.query_row(&format!("PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}"), [], |_| Ok(()))
            .map_err(map_err)?;

        if version < SCHEMA_VERSION {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(map_err)?;
            // Another process may have migrated while this one waited for the lock.
            let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(map_err)?;
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
                tx.execute_batch(sql).map_err(map_err)?;
                tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1)).map_err(map_err)?;
            }
            tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}")).map_err(map_err)?;
            tx.commit().map_err(map_err)?;
        }
        Ok(())
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(guard) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return guard;
            }
        }
        lock(&self.readers[start % self.readers.len()])
    }

    /// Sizes the first inline reader's page cache for `credentials` rows, when it changes and
    /// that reader is free (it is tried again at the next count otherwise).
    fn fit_quick_cache(&self, credentials: u64) {
        let kib = quick_cache_kib(credentials);
        if self.quick_kib.load(Ordering::Relaxed) == kib {
            return;
        }
        let Some(conn) = self.quick.first().and_then(|c| c.try_lock().ok()) else { return };
        if conn.execute_batch(&format!("PRAGMA cache_size = -{kib};")).is_ok() {
            self.quick_kib.store(kib, Ordering::Relaxed);
        }
    }

    fn auth_entry_with(conn: &Connection, api_key: &str) -> Result<Option<AuthEntry>, StoreError> {
        // The two times come as stored: what ledgerd and etctl write (`strftime('%Y-%m-%dT%H:%M:%fZ')`)
        // is read here without SQLite's date functions; any other form, written by hand, is
        // converted by SQLite afterwards, exactly as the queries that list credentials do.
        let mut stmt = conn
            .prepare_cached(
                "SELECT api_secret_hash, active, label, last_used_at, expires_at, scopes, allowed_ips, rate_limit,
                        rate_limit_window_s FROM api_credential WHERE api_key = ?1",
            )
            .map_err(map_err)?;
        let mut other_times = [None, None];
        let row = stmt
            .query_row([api_key], |r| {
                let mut time = |i: usize| -> rusqlite::Result<Option<i64>> {
                    Ok(match r.get_ref(i)? {
                        ValueRef::Null => None,
                        ValueRef::Text(t) if let Some(ms) = policy::canonical_time_ms(t) => Some(ms),
                        _ => {
                            other_times[i - 3] = Some(r.get::<_, Value>(i)?);
                            None
                        }
                    })
                };
                Ok(AuthEntry {
                    secret_hash: stored_hash(r.get_ref(0)?),
                    active: r.get::<_, i64>(1)? == 1,
                    label: r.get(2)?,
                    last_used_ms: time(3)?,
                    expires_ms: time(4)?,
                    scopes: policy::scopes_from_stored(text_of(r, 5)?),
                    allowed_ips: AllowedIps::from_stored(text_of(r, 6)?),
                    rate_limit: policy::rate_limit_from_stored(int_of(r, 7)?, int_of(r, 8)?),
                })
            })
            .optional()
            .map_err(map_err)?;
        let Some(mut entry) = row else { return Ok(None) };
        let [last_used, expires] = other_times;
        if let Some(value) = last_used {
            entry.last_used_ms = sqlite_time_ms(conn, value)?;
        }
        if let Some(value) = expires {
            // A stored value that is no time reads as long expired: it fails closed.
            entry.expires_ms = Some(sqlite_time_ms(conn, value)?.unwrap_or(0));
        }
        Ok(Some(entry))
    }

    fn write_usage(conn: &mut Connection, uses: &[&(String, i64)]) -> Result<(), StoreError> {
        let tx = conn.transaction().map_err(map_err)?;
        {
            // The two times are formatted here, in the form strftime('%Y-%m-%dT%H:%M:%fZ') gives (SQLite's
            // date functions cost the housekeeper two conversions a row).
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE api_credential SET last_used_at = ?2
                      WHERE api_key = ?1 AND (last_used_at IS NULL OR last_used_at <= ?3)",
                )
                .map_err(map_err)?;
            for (key, millis) in uses {
                let due = millis.saturating_sub(USAGE_RESOLUTION_MS);
                stmt.execute(params![key, policy::format_time_ms(*millis), policy::format_time_ms(due)])
                    .map_err(map_err)?;
            }
        }
        tx.commit().map_err(map_err)
    }

    fn get_with(conn: &Connection, api_key: &str) -> Result<Option<CredentialRecord>, StoreError> {
        let mut stmt = conn
            .prepare_cached(&format!("SELECT {RECORD_COLUMNS} FROM api_credential WHERE api_key = ?1"))
            .map_err(map_err)?;
        stmt.query_row([api_key], record_at(now_ms())).optional().map_err(map_err)
    }

    /// Active credentials (not revoked, not expired at `now`), counted on `conn`.
    fn count_active_with(conn: &Connection, now: i64) -> rusqlite::Result<u64> {
        conn.prepare_cached(&format!("SELECT count(*) FROM api_credential WHERE {}", ACTIVE_AT.replace("{}", "1")))
            .and_then(|mut s| s.query_row([now], |r| r.get::<_, i64>(0)))
            .map(|n| n as u64)
    }
}

impl CredentialStore for SqliteStore {
    fn register(&self, credential: &NewCredential) -> Result<CredentialRecord, StoreError> {
        if credential.first_only {
            // Counted in the transaction that stores it.
            let mut answers = self.register_many(std::slice::from_ref(credential), None);
            return answers.pop().unwrap_or(Err(StoreError::NotFound));
        }
        check_new(credential)?;
        let conn = lock(&self.writer);
        let mut stmt = conn.prepare_cached(&format!("{INSERT_SQL} RETURNING {RECORD_COLUMNS}")).map_err(map_err)?;
        match insert_credential(&mut stmt, credential, now_ms()) {
            Ok(rec) => Ok(rec),
            Err(e) if is_duplicate_key(&e) => Err(StoreError::Duplicate),
            Err(e) => Err(map_err(e)),
        }
    }

    fn register_many(
        &self,
        credentials: &[NewCredential],
        max_active: Option<u64>,
    ) -> Vec<Result<CredentialRecord, StoreError>> {
        let any_first = credentials.iter().any(|c| c.first_only);
        if credentials.len() <= 1 && max_active.is_none() && !any_first {
            return credentials.iter().map(|c| self.register(c)).collect();
        }
        let mut conn = lock(&self.writer);
        let all_fail = |e: &rusqlite::Error| credentials.iter().map(|_| Err(copy_error(e))).collect();
        let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return all_fail(&e),
        };
        let now = now_ms();
        // Counted under the write lock (IMMEDIATE), so no other writer, in this process or another,
        // can register between the count and the commit.
        let mut active = if max_active.is_some() || any_first {
            match Self::count_active_with(&tx, now) {
                Ok(n) => n,
                Err(e) => return all_fail(&e),
            }
        } else {
            0
        };
        let mut results = Vec::with_capacity(credentials.len());
        {
            let mut stmt = match tx.prepare_cached(&format!("{INSERT_SQL} RETURNING {RECORD_COLUMNS}")) {
                Ok(stmt) => stmt,
                Err(e) => return all_fail(&e),
            };
            for credential in credentials {
                if let Err(refused) = check_new(credential) {
                    results.push(Err(refused));
                    continue;
                }
                if let Some(max) = max_active.filter(|max| active >= *max) {
                    results.push(Err(StoreError::LimitReached { max }));
                    continue;
                }
                if credential.first_only && active > 0 {
                    results.push(Err(StoreError::NotFirst));
                    continue;
                }
                match insert_credential(&mut stmt, credential, now) {
                    Ok(rec) => {
                        if rec.status == CredentialStatus::Active {
                            active += 1;
                        }
                        results.push(Ok(rec));
                    }
                    // A constraint failure undoes only its own statement; the transaction goes on.
                    Err(e) if is_duplicate_key(&e) => results.push(Err(StoreError::Duplicate)),
                    // Anything else may have rolled the whole transaction back: fail them all
                    // (dropping `tx` rolls back whatever is left).
                    Err(e) => return all_fail(&e),
                }
            }
        }
        // The answers count only once the commit (and its fsync) succeeded.
        match tx.commit() {
            Ok(()) => results,
            Err(e) => all_fail(&e),
        }
    }

    fn update(&self, api_key: &str, update: &CredentialUpdate, actor: &str) -> Result<CredentialRecord, StoreError> {
        if let Some(expires) = update.expires_at {
            check_expiry(expires)?;
        }
        if let Some(rate_limit) = update.rate_limit {
            check_rate_limit(rate_limit)?;
        }
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(map_err)?;
        let rate_limit = update.rate_limit.flatten();
        let changed = tx
            .prepare_cached(UPDATE_SQL)
            .and_then(|mut s| {
                s.execute(params![
                    api_key,
                    update.label.is_some(),
                    update.label.as_ref().and_then(|l| l.as_deref()),
                    update.scopes.is_some(),
                    update.scopes.map(policy::scopes_json),
                    update.allowed_ips.is_some(),
                    update.allowed_ips.as_deref().map(policy::ips_json),
                    update.expires_at.is_some(),
                    update.expires_at.flatten(),
                    update.rate_limit.is_some(),
                    rate_limit.map(|r| r.limit),
                    rate_limit.map(|r| r.window_s),
                    actor,
                ])
            })
            .map_err(map_err)?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let rec = Self::get_with(&tx, api_key)?.ok_or(StoreError::NotFound)?;
        tx.commit().map_err(map_err)?;
        Ok(rec)
    }

    fn count_active(&self) -> Result<u64, StoreError> {
        Self::count_active_with(&self.reader(), now_ms()).map_err(map_err)
    }

    fn auth_entry(&self, api_key: &str) -> Result<Option<AuthEntry>, StoreError> {
        Self::auth_entry_with(&self.reader(), api_key)
    }

    fn auth_entry_now(&self, api_key: &str) -> Option<Result<Option<AuthEntry>, StoreError>> {
        let conn = self.quick.iter().find_map(|c| c.try_lock().ok())?;
        match Self::auth_entry_with(&conn, api_key) {
            // SQLite would have had to wait (a lock, a WAL being recovered): let a blocking thread.
            Err(StoreError::Busy) => None,
            answer => Some(answer),
        }
    }

    fn get(&self, api_key: &str) -> Result<Option<CredentialRecord>, StoreError> {
        Self::get_with(&self.reader(), api_key)
    }

    fn list(
        &self,
        status: StatusFilter,
        limit: u32,
        after: Option<&str>,
    ) -> Result<(Vec<CredentialRecord>, Option<String>), StoreError> {
        let now = now_ms();
        // Expiry is judged against one `now`, passed as ?3, for the filter and the status alike.
        let (filter, now_param) = match status {
            StatusFilter::Active => (format!("{} AND", ACTIVE_AT.replace("{}", "3")), Some(now)),
            StatusFilter::Expired => (
                concat!("active = 1 AND expires_at IS NOT NULL AND ", expires_ms!(), " <= ?3 AND").to_owned(),
                Some(now),
            ),
            StatusFilter::Revoked => ("active = 0 AND".to_owned(), None),
            StatusFilter::All => (String::new(), None),
        };
        keyset_page(
            &self.reader(),
            "SELECT rowid FROM api_credential WHERE api_key = ?1",
            &format!("SELECT {RECORD_COLUMNS} FROM api_credential WHERE {filter} rowid > ?1 ORDER BY rowid LIMIT ?2"),
            limit,
            after,
            now_param,
            record_at(now),
            |r| r.api_key.clone(),
        )
    }

    fn revoke(&self, api_key: &str, by: &str, reason: Option<&str>) -> Result<CredentialRecord, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(map_err)?;
        let changed =
            tx.prepare_cached(REVOKE_SQL).and_then(|mut s| s.execute(params![api_key, by, reason])).map_err(map_err)?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let rec = Self::get_with(&tx, api_key)?.ok_or(StoreError::NotFound)?;
        tx.commit().map_err(map_err)?;
        Ok(rec)
    }

    fn record_usage(&self, uses: &[(String, i64)]) -> Result<(), StoreError> {
        // In key order, so neighbouring rows share a page; in chunks of their own transactions, so
        // API writes (a revocation) wait at most one chunk for the writer, not a whole batch of
        // first uses (a million-credential ledger can see 100 000 of them in a flush).
        let mut sorted: Vec<&(String, i64)> = uses.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for chunk in sorted.chunks(USAGE_CHUNK) {
            // last_used_at is informational: under another process's lock the batch gives up
            // quickly (StoreError::Busy) instead of holding the writer while API writes wait.
            with_short_busy_timeout(&mut lock(&self.writer), |conn| {
                // Nothing waits on these commits, and losing the last ones to a power cut costs a
                // minute of last_used_at: no fsync of their own (the next FULL commit syncs them).
                conn.execute_batch("PRAGMA synchronous = NORMAL").map_err(map_err)?;
                let written = Self::write_usage(conn, chunk);
                conn.execute_batch("PRAGMA synchronous = FULL").map_err(map_err)?;
                written
            })?;
        }
        Ok(())
    }

    fn poll_changes(&self) -> Result<Changes, StoreError> {
        let mut w = lock(&self.watcher);
        #[cfg(unix)]
        if file_id(&self.path) != Some(w.file_id) {
            return Err(StoreError::FileReplaced { path: self.path.display().to_string() });
        }
        let version: i64 = w.conn.query_row("PRAGMA data_version", [], |r| r.get(0)).map_err(map_err)?;
        if version == w.data_version && !w.more {
            return Ok(Changes::default());
        }
        let schema_version: i64 = w.conn.query_row("PRAGMA schema_version", [], |r| r.get(0)).map_err(map_err)?;
        // Audit ids only grow; a trail that ends before the mark was put back (a restore). Rows
        // written since would get ids below the mark and never be read: start from its end.
        let last_id: i64 = w
            .conn
            .prepare_cached("SELECT coalesce(max(id), 0) FROM credential_audit")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(map_err)?;
        let rewound = last_id < w.last_audit_id;
        if rewound {
            w.last_audit_id = last_id;
        }
        // One row more than a page says whether another page follows.
        let mut events: Vec<AuditEvent> = w
            .conn
            .prepare_cached(&format!("SELECT {AUDIT_COLUMNS} FROM credential_audit WHERE id > ?1 ORDER BY id LIMIT ?2"))
            .and_then(|mut s| s.query_map(params![w.last_audit_id, AUDIT_PAGE as i64 + 1], audit_event)?.collect())
            .map_err(map_err)?;
        let more = events.len() > AUDIT_PAGE;
        events.truncate(AUDIT_PAGE);
        // Only now that the events are read is the new version acknowledged: a failed read is retried.
        let changes = Changes {
            events,
            more,
            committed: version != w.data_version,
            schema_changed: schema_version != w.schema_version,
            rewound,
            timing: None,
        };
        w.data_version = version;
        w.schema_version = schema_version;
        w.more = more;
        if let Some(last) = changes.events.last() {
            w.last_audit_id = last.id;
        }
        Ok(changes)
    }

    fn wal_status(&self) -> Result<Option<WalStatus>, StoreError> {
        let wal = &with_sidecars(&self.path)[1];
        let bytes = match std::fs::metadata(wal) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(StoreError::Open { path: wal.display().to_string(), detail: e.to_string() }),
        };
        // Past the size limit the WAL was not emptied when it should have been: try a checkpoint
        // (PASSIVE: it copies what it can, waits for nobody) and see whether it could finish.
        let checkpoint_incomplete = bytes > JOURNAL_SIZE_LIMIT && {
            let w = lock(&self.watcher);
            let (busy, log, done): (i64, i64, i64) = w
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(map_err)?;
            busy != 0 || done < log
        };
        Ok(Some(WalStatus { bytes, checkpoint_incomplete }))
    }

    fn safeguards(&self) -> Result<Safeguards, StoreError> {
        let found = triggers_of(&lock(&self.watcher).conn).map_err(map_err)?;
        let missing = self.triggers.iter().filter(|t| !found.contains(t)).map(|(name, _)| name.clone()).collect();
        let unexpected = found
            .iter()
            .filter(|(name, _)| !self.triggers.iter().any(|(expected, _)| expected == name))
            .map(|(name, _)| name.clone())
            .collect();
        Ok(Safeguards { missing, unexpected })
    }

    fn auth_entries(&self, api_keys: &[&str]) -> Result<Vec<Option<AuthEntry>>, StoreError> {
        let w = lock(&self.watcher);
        // One read transaction for them all: one snapshot, and one lock taken instead of one per key.
        w.conn.execute_batch("BEGIN").map_err(map_err)?;
        let entries: Result<Vec<_>, _> = api_keys.iter().map(|key| Self::auth_entry_with(&w.conn, key)).collect();
        // Ended whether or not a read failed (a read transaction has nothing to lose).
        let ended = w.conn.execute_batch("COMMIT").map_err(map_err);
        let entries = entries?;
        ended.map(|()| entries)
    }

    fn audit_page(
        &self,
        api_key: Option<&str>,
        limit: u32,
        after: Option<i64>,
    ) -> Result<(Vec<AuditEvent>, Option<i64>), StoreError> {
        let conn = self.reader();
        let before = after.unwrap_or(i64::MAX);
        // One row more than asked says whether another page follows. Two statements rather than
        // `?1 IS NULL OR api_key = ?1`, so one key's page walks its index, newest first.
        let page = i64::from(limit) + 1;
        let rows = match api_key {
            Some(key) => conn
                .prepare_cached(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM credential_audit WHERE api_key = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
                ))
                .and_then(|mut s| s.query_map(params![key, before, page], audit_event)?.collect()),
            None => conn
                .prepare_cached(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM credential_audit WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
                ))
                .and_then(|mut s| s.query_map(params![before, page], audit_event)?.collect()),
        };
        let mut events: Vec<AuditEvent> = rows.map_err(map_err)?;
        let next = if events.len() > limit as usize {
            events.truncate(limit as usize);
            events.last().map(|e| e.id)
        } else {
            None
        };
        Ok((events, next))
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT active, count(*) FROM api_credential GROUP BY active").map_err(map_err)?;
        let mut counts = Counts::default();
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).map_err(map_err)?;
        for row in rows {
            let (active, n) = row.map_err(map_err)?;
            if active == 1 {
                counts.active = n as u64;
            } else {
                counts.revoked = n as u64;
            }
        }
        drop(stmt);
        drop(conn);
        self.fit_quick_cache(counts.active + counts.revoked);
        Ok(counts)
    }

    fn check(&self) -> Result<(), StoreError> {
        let conn = self.reader();
        conn.prepare_cached("SELECT count(*) FROM (SELECT 1 FROM api_credential LIMIT 1)")
            .and_then(|mut s| s.query_row([], |_| Ok(())))
            .map_err(map_err)
    }

    fn check_revocable(&self) -> Result<(), StoreError> {
        // Once a second on a healthy ledger: it gives up quickly on another process's lock.
        with_short_busy_timeout(&mut lock(&self.writer), probe_revocation)
    }

    fn check_write(&self) -> Result<(), StoreError> {
        // A probe runs while the database is already known to be unwritable and again a second
        // later: it gives up quickly rather than make requests queue behind it.
        with_short_busy_timeout(&mut lock(&self.writer), |conn| {
            // Emptying the WAL first makes the write below need fresh space in the file system, as
            // the writes that failed did (a WAL that restarts from its beginning reuses its old
            // space). A reader in the way only makes the probe weaker, not failed.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(map_err)?;
            // A database that takes writes but no revocation is no better than one that takes none.
            probe_revocation(conn)?;
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(map_err)?;
            tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}")).map_err(map_err)?;
            tx.commit().map_err(map_err)
        })
    }

    fn is_current(&self) -> bool {
        #[cfg(unix)]
        return file_id(&self.path) == self.files[0];
        #[cfg(not(unix))]
        true
    }

    fn path_shown(&self) -> String {
        self.path.display().to_string()
    }

    /// Empties the old file's WAL into the old file (`wal_checkpoint(TRUNCATE)`), so that the file
    /// now at the path does not replay it, but only when the `-wal` and `-shm` at the path are still
    /// the ones this store opened and no other process has them open. A process that opened the new
    /// file while they were there shares them with this one: what it wrote is in that WAL, and
    /// emptying it into the old file would lose it, so then it is left to SQLite (which hands the
    /// WAL to the new file). Nothing is ever deleted or renamed.
    fn release_replaced(&self) -> Result<Release, StoreError> {
        #[cfg(unix)]
        {
            let now = database_files(&self.path);
            let (Some(wal), Some(shm)) = (self.files[1], self.files[2]) else { return Ok(Release::NotOurs) };
            if now[1] != Some(wal) || now[2] != Some(shm) {
                return Ok(Release::NotOurs);
            }
            if locked_by_another_process(shm.1) {
                return Ok(Release::InUse);
            }
            with_short_busy_timeout(&mut lock(&self.writer), |conn| {
                let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)).map_err(map_err)?;
                if busy != 0 { Err(StoreError::Busy) } else { Ok(Release::Emptied) }
            })
        }
        #[cfg(not(unix))]
        Ok(Release::InUse)
    }

    fn create_account(&self, name: &str, created_by: &str) -> Result<Account, StoreError> {
        let conn = lock(&self.writer);
        let id = format!("acc_{}", et_core::random_hex16());
        conn.prepare_cached(
            "INSERT INTO account (id, name, created_by) VALUES (?1, ?2, ?3) RETURNING id, name, created_at",
        )
        .and_then(|mut s| insert_returning(&mut s, params![id, name, created_by], account))
        .map_err(map_err)
    }

    fn list_accounts(&self, limit: u32, after: Option<&str>) -> Result<(Vec<Account>, Option<String>), StoreError> {
        keyset_page(
            &self.reader(),
            "SELECT rowid FROM account WHERE id = ?1",
            "SELECT id, name, created_at FROM account WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            limit,
            after,
            None,
            account,
            |a| a.id.clone(),
        )
    }

    fn get_account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let conn = self.reader();
        conn.prepare_cached("SELECT id, name, created_at FROM account WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], account).optional())
            .map_err(map_err)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    #[test]
    fn the_first_readers_cache_holds_the_hot_set_when_it_can_and_stays_small_when_it_cannot() {
        assert_eq!(quick_cache_kib(0), QUICK_CACHE_KIB);
        let hundred_thousand = quick_cache_kib(100_000);
        assert!((40 * 1024..=QUICK_CACHE_MAX_KIB).contains(&hundred_thousand), "{hundred_thousand}");
        // The benchmark's 100 000 credentials and the ~55 000 its registration figure adds: at a
        // 48 MB mark they fell to the floor, and every miss of its cold figure read pages again.
        assert!(quick_cache_kib(160_000) > 64 * 1024, "{}", quick_cache_kib(160_000));
        assert_eq!(quick_cache_kib(1_000_000), QUICK_CACHE_KIB, "a million do not fit: the floor");
        assert_eq!(quick_cache_kib(u64::MAX), QUICK_CACHE_KIB);

        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("ledger.db"), OpenMode::CreateIfMissing).unwrap();
        let cache = |store: &SqliteStore| -> i64 {
            store.quick[0].lock().unwrap().query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap()
        };
        assert_eq!(cache(&store), -(QUICK_CACHE_KIB as i64));
        store.fit_quick_cache(100_000);
        assert_eq!(cache(&store), -(hundred_thousand as i64));
        store.counts().unwrap();
        assert_eq!(cache(&store), -(QUICK_CACHE_KIB as i64), "the count of an empty ledger brings it back");
    }

    /// The shared-memory file is what tells whether another process has the WAL open: this
    /// process's own locks do not count, a sqlite3 shell's do.
    #[test]
    fn another_process_holding_the_wal_is_seen_in_proc_locks() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        let store = SqliteStore::open(&db, OpenMode::CreateIfMissing).unwrap();
        let shm = store.files[2].expect("the -shm exists once the store is open");
        assert!(!locked_by_another_process(shm.1), "only this process has it open");

        let mut shell = Command::new("sqlite3")
            .arg(&db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run sqlite3 (apt-get install sqlite3)");
        let mut stdin = shell.stdin.take().unwrap();
        writeln!(stdin, "select count(*) from api_credential;").unwrap();
        let mut line = String::new();
        BufReader::new(shell.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "0");
        let seen = locked_by_another_process(shm.1);
        drop(stdin);
        shell.wait().unwrap();
        assert!(seen, "a sqlite3 shell with the database open was not seen");
        assert!(!locked_by_another_process(shm.1), "the shell has exited");
    }
}
