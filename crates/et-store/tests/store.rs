//! What only the SQLite backend has: files, WAL, PRAGMAs, SQLite's own ways around a trigger
//! (REPLACE, rowids, ignore_check_constraints, writable_schema), schema-1 files. The rules both
//! backends share are written once in conformance.rs.

use et_core::{ApiKey, ApiSecret, SecretHash};
use et_store::{
    AuditEvent, CredentialStatus, CredentialStore, CredentialUpdate, NewCredential, OpenMode, RateLimit, Scope, Scopes,
    SqliteStore, StatusFilter, StoreError,
};
use rusqlite::Connection;

fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("ledger.db"), OpenMode::CreateIfMissing).unwrap();
    (dir, store)
}

fn new_credential(label: Option<&str>) -> NewCredential {
    let api_key = ApiKey::generate();
    let secret = ApiSecret::parse(&format!("sk_{}", "ab".repeat(32))).unwrap();
    NewCredential::new(api_key, secret.hash(), label.map(str::to_owned))
}

/// The newest `limit` audit events, optionally of one key.
fn audit(store: &SqliteStore, api_key: Option<&str>, limit: u32) -> Vec<AuditEvent> {
    store.audit_page(api_key, limit, None).unwrap().0
}

/// What an operator in the `sqlite3` shell would do: a separate connection to the same file.
fn shell(store: &SqliteStore) -> Connection {
    Connection::open(store.path()).unwrap()
}

#[test]
fn must_exist_creates_nothing_and_names_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    assert!(matches!(SqliteStore::open(&missing, OpenMode::MustExist), Err(StoreError::Missing { .. })));
    assert!(!missing.exists());

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "this is not a database, just some text that is long enough to have a header").unwrap();
    assert!(matches!(SqliteStore::open(&text, OpenMode::MustExist), Err(StoreError::NotALedgerDatabase { .. })));

    let other = dir.path().join("other.db");
    Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
    assert!(matches!(SqliteStore::open(&other, OpenMode::CreateIfMissing), Err(StoreError::NotALedgerDatabase { .. })));

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, "").unwrap();
    assert!(matches!(SqliteStore::open(&empty, OpenMode::MustExist), Err(StoreError::NotALedgerDatabase { .. })));
}

#[test]
fn reopening_keeps_data_and_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let c = new_credential(Some("kept"));
    SqliteStore::open(&path, OpenMode::CreateIfMissing).unwrap().register(&c).unwrap();
    let store = SqliteStore::open(&path, OpenMode::MustExist).unwrap();
    assert_eq!(store.get(c.api_key.as_str()).unwrap().unwrap().label.as_deref(), Some("kept"));
    let mode: String = shell(&store).query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = shell(&store).query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, et_store::SCHEMA_VERSION);
}

#[test]
fn auth_entry_now_answers_like_auth_entry_without_waiting() {
    let (_dir, store) = fresh();
    let c = new_credential(Some("inline"));
    store.register(&c).unwrap();
    let now = store.auth_entry_now(c.api_key.as_str()).expect("a free connection answers at once").unwrap().unwrap();
    assert!(now.active && now.secret_hash.unwrap().ct_matches(&c.secret_hash) && now.last_used_ms.is_none());
    assert!(store.auth_entry_now(ApiKey::generate().as_str()).unwrap().unwrap().is_none());
    // While another connection holds the write lock, a read still answers (WAL) without waiting.
    let shell = shell(&store);
    shell.execute_batch("BEGIN IMMEDIATE; UPDATE api_credential SET label = 'x';").unwrap();
    assert!(store.auth_entry_now(c.api_key.as_str()).unwrap().unwrap().is_some());
    shell.execute_batch("ROLLBACK").unwrap();
}

/// The committed schema-1 database (tests/fixtures/README.md), copied: the fixture is never opened
/// in place.
fn schema1_copy(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let copy = dir.path().join("schema1.db");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/schema1.db"), &copy).unwrap();
    copy
}

const FIXTURE_REVOKED: &str = "ak_94b3bd8fdf23655904324a904fef8dd335533340";
const FIXTURE_ACTIVE: &str = "ak_f3efb879d21be336049d8c60fe0d14bdf05a8f8f";

/// Runs `sql` from another connection and returns SQLite's refusal (panics if it was accepted).
#[track_caller]
fn refused(sh: &Connection, sql: &str) -> String {
    match sh.execute_batch(sql) {
        Ok(()) => panic!("accepted: {sql}"),
        Err(e) => e.to_string(),
    }
}

/// Migration 4 rewrote two checks to be cheaper: over a corpus of values, the new conditions accept
/// exactly what the old ones did.
#[test]
fn the_cheaper_checks_of_migration_4_accept_exactly_what_the_old_ones_did() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let hex64 = "0123456789abcdef".repeat(4);
    let mut hashes: Vec<rusqlite::types::Value> = vec![
        hex64.clone().into(),
        hex64.to_uppercase().into(),
        hex64[..63].to_owned().into(),
        format!("{hex64}0").into(),
        format!("{}g", &hex64[..63]).into(),
        format!("{} ", &hex64[..63]).into(),
        format!("{}é", &hex64[..63]).into(),
        format!("{hex64}\0tail").into(),
        "x".repeat(64).into(),
        String::new().into(),
        rusqlite::types::Value::Null,
        rusqlite::types::Value::Integer(7),
        rusqlite::types::Value::Blob(hex64.clone().into_bytes()),
    ];
    for i in 0..64 {
        let mut h = hex64.clone().into_bytes();
        h[i] = b'G';
        hashes.push(String::from_utf8(h).unwrap().into());
    }
    let glob = "[0-9a-f]".repeat(64);
    for h in hashes {
        let (old, new): (bool, bool) = conn
            .query_row(
                &format!(
                    "SELECT typeof(?1) IS NOT 'text' OR length(?1) IS NOT 64 OR ?1 GLOB '*[^0-9a-f]*',
                            typeof(?1) IS NOT 'text' OR NOT ?1 GLOB '{glob}'"
                ),
                [&h],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(old, new, "{h:?}");
    }
    let names = ["accounts:read", "accounts:write", "credentials:read", "credentials:write"];
    for value in names.into_iter().chain(["", "accounts:Read", "accounts:read ", "root", "credentials:*"]) {
        let (old, new): (bool, bool) = conn
            .query_row(
                "SELECT ?1 NOT IN ('accounts:read', 'accounts:write', 'credentials:read', 'credentials:write'),
                        CASE ?1 WHEN 'accounts:read' THEN 0 WHEN 'accounts:write' THEN 0 WHEN 'credentials:read' THEN 0
                                WHEN 'credentials:write' THEN 0 ELSE 1 END",
                [value],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(old, new, "{value:?}");
    }
}

#[test]
fn a_schema_1_database_is_migrated_keeping_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = schema1_copy(&dir);
    let store = SqliteStore::open(&path, OpenMode::MustExist).unwrap();
    let sh = shell(&store);
    let version: i64 = sh.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, et_store::SCHEMA_VERSION);
    assert!(store.safeguards().unwrap().intact(), "the migrated file has exactly the triggers of a new one");
    let (all, _) = store.list(StatusFilter::All, 10, None).unwrap();
    let labels: Vec<(Option<&str>, bool)> = all.iter().map(|r| (r.label.as_deref(), r.active)).collect();
    assert_eq!(labels, [(Some("ops"), true), (Some("billing"), true), (Some("monitoring"), false), (None, true)]);
    // Schema-1 credentials keep every scope, no expiry, any address, no limit (SPEC §6).
    for rec in &all {
        assert_eq!(rec.scopes, Scope::all(), "{}", rec.api_key);
        assert!(rec.expires_at.is_none() && rec.allowed_ips.is_empty() && rec.rate_limit.is_none(), "{rec:?}");
        let status = if rec.active { CredentialStatus::Active } else { CredentialStatus::Revoked };
        assert_eq!(rec.status, status);
        let entry = store.auth_entry(&rec.api_key).unwrap().unwrap();
        assert_eq!((entry.expires_ms, entry.scopes, entry.rate_limit), (None, Scopes::ALL, None));
        assert!(entry.allowed_ips.is_anywhere());
    }
    assert_eq!(store.count_active().unwrap(), 3);
    let audit = audit(&store, None, 10);
    assert_eq!(audit.len(), 5, "{audit:?}");
    assert_eq!((audit[0].action.as_str(), audit[0].api_key.as_str()), ("revoke", FIXTURE_REVOKED));
    // The rebuilt audit trail kept its ids, and its counter goes on after them.
    assert_eq!(audit.iter().map(|e| e.id).collect::<Vec<_>>(), [5, 4, 3, 2, 1]);
    assert!(audit.iter().all(|e| e.changes.is_none()));
    store
        .update(
            FIXTURE_ACTIVE,
            &CredentialUpdate { label: Some(Some("billing v2".into())), ..Default::default() },
            "ak_x",
        )
        .unwrap();
    assert_eq!(store.audit_page(None, 1, None).unwrap().0[0].id, 6);
    // Migration 3's rules hold on the migrated file too.
    let err = refused(&sh, &format!("UPDATE api_credential SET label = 'x' WHERE api_key = '{FIXTURE_REVOKED}'"));
    assert!(err.contains("revoked credential cannot be changed"), "{err}");
    assert_eq!(store.list_accounts(10, None).unwrap().0[0].name, "acme");
    assert!(store.auth_entry(FIXTURE_ACTIVE).unwrap().unwrap().secret_hash.is_some());
    // Migration 2's rules hold on the migrated file.
    let err = refused(
        &sh,
        &format!(
            "INSERT OR REPLACE INTO api_credential (api_key, api_secret_hash, active) \
             SELECT api_key, api_secret_hash, 1 FROM api_credential WHERE api_key = '{FIXTURE_REVOKED}'"
        ),
    );
    assert!(err.contains("already registered"), "{err}");
}

#[test]
fn migration_2_revokes_a_stored_hash_no_secret_can_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = schema1_copy(&dir);
    // Schema 1 checked only the length: 64 `x`, and 64 uppercase hex digits, got in by hand.
    let malformed = ["ak_00000000000000000000000000000000000000a1", "ak_00000000000000000000000000000000000000a2"];
    let sh = Connection::open(&path).unwrap();
    sh.execute(
        "INSERT INTO api_credential (api_key, api_secret_hash) VALUES (?1, ?2), (?3, ?4)",
        [malformed[0], &"x".repeat(64), malformed[1], &"AB".repeat(32)],
    )
    .unwrap();
    drop(sh);
    let store = SqliteStore::open(&path, OpenMode::MustExist).unwrap();
    for key in malformed {
        let rec = store.get(key).unwrap().unwrap();
        assert!(!rec.active, "{key}");
        assert_eq!(rec.revoked_by.as_deref(), Some("migration-2"));
        let entry = store.auth_entry(key).unwrap().unwrap();
        assert!(entry.secret_hash.is_none() && !entry.active);
        let audit = audit(&store, Some(key), 1);
        assert_eq!((audit[0].action.as_str(), audit[0].actor.as_str()), ("revoke", "migration-2"));
        assert!(audit[0].reason.as_deref().unwrap().contains("64 lowercase hex"));
    }
    assert!(store.get(FIXTURE_ACTIVE).unwrap().unwrap().active, "well-formed credentials are untouched");
}

#[test]
fn a_malformed_hash_that_slipped_past_the_schema_matches_nothing() {
    let (_dir, store) = fresh();
    let sh = shell(&store);
    let err = refused(
        &sh,
        &format!(
            "INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{}', '{}')",
            ApiKey::generate(),
            "x".repeat(64)
        ),
    );
    assert!(err.contains("64 lowercase hex"), "{err}");
    // With the trigger dropped by hand, whatever got in reads as "no hash": not the hash of "".
    sh.execute_batch("DROP TRIGGER api_credential_hash_is_hex").unwrap();
    for bad in ["x".repeat(64), "AB".repeat(32), SecretHash::of("").to_hex().to_uppercase()] {
        let key = ApiKey::generate();
        sh.execute("INSERT INTO api_credential (api_key, api_secret_hash) VALUES (?1, ?2)", [key.as_str(), &bad])
            .unwrap();
        let entry = store.auth_entry(key.as_str()).unwrap().unwrap();
        assert!(entry.active && entry.secret_hash.is_none(), "{bad}");
    }
    let key = ApiKey::generate();
    sh.execute(
        "INSERT INTO api_credential (api_key, api_secret_hash) VALUES (?1, ?2)",
        rusqlite::params![key.as_str(), vec![b'a'; 64]],
    )
    .unwrap();
    assert!(store.auth_entry(key.as_str()).unwrap().unwrap().secret_hash.is_none(), "a BLOB is no hash");
}

#[test]
fn every_replace_upsert_and_explicit_id_is_refused() {
    let (_dir, store) = fresh();
    let keep = new_credential(Some("keep"));
    let revoked = new_credential(Some("revoked"));
    store.register(&keep).unwrap();
    store.register(&revoked).unwrap();
    store.revoke(revoked.api_key.as_str(), "ak_operator", None).unwrap();
    let (r, k) = (revoked.api_key.as_str(), keep.api_key.as_str());
    let other = ApiKey::generate();
    let hash = "a".repeat(64);
    let snapshot = |sh: &Connection| -> String {
        sh.query_row(
            "SELECT group_concat(x, ';') FROM (SELECT rowid || ',' || api_key || ',' || api_secret_hash || ',' || active AS x \
               FROM api_credential UNION ALL SELECT id || ',' || api_key || ',' || action || ',' || actor FROM credential_audit)",
            [],
            |row| row.get(0),
        )
        .unwrap()
    };
    let sh = shell(&store);
    let before = snapshot(&sh);
    let attempts = [
        format!("INSERT OR REPLACE INTO api_credential (api_key, api_secret_hash, active) SELECT api_key, api_secret_hash, 1 FROM api_credential WHERE api_key = '{r}'"),
        format!("REPLACE INTO api_credential (api_key, api_secret_hash) VALUES ('{r}', '{hash}')"),
        format!("INSERT OR REPLACE INTO api_credential (rowid, api_key, api_secret_hash) VALUES ((SELECT rowid FROM api_credential WHERE api_key = '{r}'), '{other}', '{hash}')"),
        format!("INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{r}', '{hash}') ON CONFLICT DO UPDATE SET active = 1"),
        format!("INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{k}', '{hash}') ON CONFLICT (api_key) DO UPDATE SET api_secret_hash = excluded.api_secret_hash"),
        format!("INSERT OR IGNORE INTO api_credential (api_key, api_secret_hash) VALUES ('{r}', '{hash}')"),
        format!("UPDATE OR REPLACE api_credential SET rowid = (SELECT rowid FROM api_credential WHERE api_key = '{r}') WHERE api_key = '{k}'"),
        format!("UPDATE OR REPLACE api_credential SET api_key = '{r}' WHERE api_key = '{k}'"),
        format!("UPDATE api_credential SET rowid = rowid + 100 WHERE api_key = '{r}'"),
        format!("UPDATE api_credential SET api_secret_hash = '{hash}' WHERE api_key = '{k}'"),
        format!("UPDATE api_credential SET active = 1 WHERE api_key = '{r}'"),
        format!("PRAGMA ignore_check_constraints = ON; UPDATE api_credential SET active = 2 WHERE api_key = '{k}'"),
        format!("PRAGMA ignore_check_constraints = ON; INSERT INTO api_credential (api_key, api_secret_hash, active) VALUES ('{other}', '{hash}', 2)"),
        format!("PRAGMA ignore_check_constraints = ON; INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{other}', 'short')"),
        format!("INSERT INTO api_credential (rowid, api_key, api_secret_hash) VALUES (-1, '{other}', '{hash}')"),
        format!("DELETE FROM api_credential WHERE api_key = '{r}'"),
        "REPLACE INTO credential_audit (id, api_key, action, actor) VALUES (1, 'x', 'register', 'x')".to_owned(),
        "INSERT INTO credential_audit (id, api_key, action, actor) VALUES (9223372036854775807, 'x', 'revoke', 'x')".to_owned(),
        "INSERT INTO credential_audit (id, api_key, action, actor) VALUES (-1, 'x', 'revoke', 'x')".to_owned(),
        "UPDATE credential_audit SET actor = 'x' WHERE id = 1".to_owned(),
        "UPDATE credential_audit SET id = 100 WHERE id = 1".to_owned(),
        "DELETE FROM credential_audit WHERE id = 1".to_owned(),
        "PRAGMA recursive_triggers = ON; REPLACE INTO credential_audit (id, api_key, action, actor) VALUES (1, 'x', 'register', 'x')".to_owned(),
    ];
    for sql in &attempts {
        refused(&sh, sql);
        sh.execute_batch("PRAGMA ignore_check_constraints = OFF; PRAGMA recursive_triggers = OFF").unwrap();
        assert_eq!(snapshot(&sh), before, "changed by {sql}");
    }
    // What stays allowed: a registration, a revocation, a label, a hand-made audit note.
    sh.execute("INSERT INTO api_credential (api_key, api_secret_hash) VALUES (?1, ?2)", [other.as_str(), &hash])
        .unwrap();
    sh.execute("UPDATE api_credential SET active = 0, label = 'gone' WHERE api_key = ?1", [k]).unwrap();
    sh.execute("INSERT INTO credential_audit (api_key, action, actor) VALUES ('x', 'revoke', 'note')", []).unwrap();
    assert!(!store.auth_entry(k).unwrap().unwrap().active);
    assert!(matches!(store.register(&revoked), Err(StoreError::Duplicate)));
    let answers = store.register_many(&[new_credential(None), keep.clone()], None);
    assert!(answers[0].is_ok() && matches!(answers[1], Err(StoreError::Duplicate)));
}

#[test]
fn the_revocation_probe_changes_nothing_and_sees_what_blocks_a_revocation() {
    let (_dir, store) = fresh();
    store.check_revocable().unwrap();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let sh = shell(&store);
    let state = |sh: &Connection| -> (i64, i64, i64) {
        sh.query_row(
            "SELECT (SELECT active FROM api_credential), (SELECT count(*) FROM credential_audit), \
                    (SELECT seq FROM sqlite_sequence WHERE name = 'credential_audit')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    };
    let before = state(&sh);
    store.check_revocable().unwrap();
    store.check_write().unwrap();
    assert_eq!(state(&sh), before, "the probe is rolled back");

    sh.execute_batch("UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'credential_audit'").unwrap();
    assert!(matches!(store.check_revocable(), Err(StoreError::RevocationBlocked { .. })));
    assert!(matches!(store.check_write(), Err(StoreError::RevocationBlocked { .. })));
    sh.execute_batch("UPDATE sqlite_sequence SET seq = 2 WHERE name = 'credential_audit'").unwrap();
    store.check_revocable().unwrap();

    sh.execute_batch("CREATE TRIGGER no BEFORE UPDATE OF active ON api_credential BEGIN SELECT RAISE(IGNORE); END")
        .unwrap();
    let err = store.check_revocable().unwrap_err();
    assert!(err.to_string().contains("changed no row"), "{err}");
    sh.execute_batch("DROP TRIGGER no; BEGIN IMMEDIATE").unwrap();
    assert!(matches!(store.check_revocable(), Err(StoreError::Busy)), "another process's lock proves nothing");
    sh.execute_batch("ROLLBACK").unwrap();
    store.check_revocable().unwrap();
}

#[test]
fn the_audit_trail_is_read_in_pages() {
    let (_dir, store) = fresh();
    // 25 001 audit rows in one commit, as a bulk import by hand would make them.
    shell(&store)
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25001) \
             INSERT INTO credential_audit (api_key, action, actor) SELECT 'ak_' || i, 'register', 'import' FROM n",
        )
        .unwrap();
    let mut pages = Vec::new();
    let mut last = 0;
    loop {
        let changes = store.poll_changes().unwrap();
        assert!(changes.events.len() <= et_store::AUDIT_PAGE);
        for event in &changes.events {
            assert_eq!(event.id, last + 1, "in order, none skipped");
            last = event.id;
        }
        pages.push(changes.events.len());
        if !changes.more {
            break;
        }
    }
    assert_eq!(pages, [10_000, 10_000, 5_001]);
    assert!(store.poll_changes().unwrap().events.is_empty());
}

#[test]
fn the_triggers_are_compared_with_what_the_migrations_made() {
    let (_dir, store) = fresh();
    assert!(store.safeguards().unwrap().intact());
    let sh = shell(&store);
    store.poll_changes().unwrap();
    let sql: String =
        sh.query_row("SELECT sql FROM sqlite_schema WHERE name = 'api_credential_revoked'", [], |r| r.get(0)).unwrap();
    sh.execute_batch("DROP TRIGGER api_credential_revoked").unwrap();
    let changes = store.poll_changes().unwrap();
    assert!(changes.committed && changes.schema_changed);
    assert_eq!(store.safeguards().unwrap().missing, ["api_credential_revoked"]);
    // Made again with other SQL: still missing; with its own SQL: intact.
    sh.execute_batch(&sql.replace("'db'", "'someone'")).unwrap();
    assert_eq!(store.safeguards().unwrap().missing, ["api_credential_revoked"]);
    sh.execute_batch(&format!("DROP TRIGGER api_credential_revoked; {sql}")).unwrap();
    assert!(store.safeguards().unwrap().intact());
    sh.execute_batch("CREATE TRIGGER quiet BEFORE INSERT ON credential_audit BEGIN SELECT RAISE(IGNORE); END").unwrap();
    let found = store.safeguards().unwrap();
    assert_eq!((found.missing.len(), found.unexpected.as_slice()), (0, ["quiet".to_owned()].as_slice()));
    // Deleted from sqlite_schema under writable_schema, the schema cookie untouched: seen as well.
    sh.execute_batch(
        "DROP TRIGGER quiet; PRAGMA writable_schema = ON; \
         DELETE FROM sqlite_schema WHERE name = 'api_credential_key_is_new'; PRAGMA writable_schema = OFF",
    )
    .unwrap();
    assert_eq!(store.safeguards().unwrap().missing, ["api_credential_key_is_new"]);
}

#[cfg(unix)]
#[test]
fn a_new_database_and_its_wal_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, store) = fresh();
    store.register(&new_credential(None)).unwrap();
    for name in ["ledger.db", "ledger.db-wal", "ledger.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
    assert!(store.open_to_others().is_empty());
    drop(store);
    // An existing file keeps its mode (and SQLite gives it to the WAL and shm it makes); the store
    // reports them.
    let path = dir.path().join("ledger.db");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = SqliteStore::open(&path, OpenMode::MustExist).unwrap();
    let open: Vec<(String, u32)> = store
        .open_to_others()
        .into_iter()
        .map(|(p, m)| (p.file_name().unwrap().to_str().unwrap().to_owned(), m))
        .collect();
    assert_eq!(open, [("ledger.db".into(), 0o644), ("ledger.db-wal".into(), 0o644), ("ledger.db-shm".into(), 0o644)]);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
}

fn wal_bytes(store: &SqliteStore) -> u64 {
    let mut wal = store.path().as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).unwrap().len()
}

#[test]
fn a_wal_grown_behind_a_reader_shrinks_once_it_is_released() {
    let (_dir, store) = fresh();
    store.register(&new_credential(None)).unwrap();
    // A reader holds a snapshot, so no checkpoint can finish and the WAL only grows: 80 MB here.
    let reader = shell(&store);
    reader.execute_batch("BEGIN; SELECT count(*) FROM api_credential;").unwrap();
    let writer = shell(&store);
    writer.execute_batch("CREATE TABLE filler (x BLOB)").unwrap();
    for _ in 0..80 {
        writer.execute_batch("INSERT INTO filler VALUES (randomblob(1000000))").unwrap();
    }
    let grown = wal_bytes(&store);
    assert!(grown > 80_000_000, "{grown}");
    let wal = store.wal_status().unwrap().unwrap();
    assert_eq!(wal.bytes, grown);
    assert!(wal.checkpoint_incomplete, "a checkpoint cannot finish behind the reader");

    reader.execute_batch("COMMIT").unwrap();
    assert!(!store.wal_status().unwrap().unwrap().checkpoint_incomplete, "it finishes once the reader is gone");
    // The next commit starts the WAL over and cuts the file back to journal_size_limit (64 MiB).
    store.register(&new_credential(None)).unwrap();
    let shrunk = wal_bytes(&store);
    assert!(shrunk <= 64 * 1024 * 1024, "the WAL stayed at {shrunk} bytes");
    assert!(!store.wal_status().unwrap().unwrap().checkpoint_incomplete);
}

// ---------------------------------------------------------------------------------------------
// Issue 8 (SPEC §6): expiry, scopes, allowed addresses, rate limits, and the audit of changes.

/// The real `sqlite3` shell, as an operator would run it: whether it succeeded, and its stderr.
fn sqlite3(db: &std::path::Path, sql: &str) -> (bool, String) {
    let out = std::process::Command::new("sqlite3")
        .arg("-cmd")
        .arg(".timeout 5000")
        .arg(db)
        .arg(sql)
        .output()
        .expect("run sqlite3 (apt-get install sqlite3)");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[track_caller]
fn sqlite3_ok(db: &std::path::Path, sql: &str) {
    let (ok, err) = sqlite3(db, sql);
    assert!(ok, "sqlite3 refused {sql}: {err}");
}

#[test]
fn malformed_values_are_refused_by_the_database_on_insert_and_update() {
    let (_dir, store) = fresh();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let key = c.api_key.as_str();
    let sh = shell(&store);
    let row = |sh: &Connection| -> String {
        sh.query_row(
            "SELECT quote(expires_at) || quote(scopes) || quote(allowed_ips) || quote(rate_limit) || quote(rate_limit_window_s) \
               || (SELECT count(*) FROM credential_audit) FROM api_credential",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let before = row(&sh);
    let hash = "a".repeat(64);
    // (column assignments, the words the refusal must contain)
    let bad: &[(&str, &str)] = &[
        ("expires_at = 'tomorrow'", "expires_at"),
        ("expires_at = 'now'", "expires_at"),
        ("expires_at = '2030-13-01T00:00:00Z'", "expires_at"),
        ("expires_at = 1893456000", "expires_at"),
        ("scopes = '[\"accounts:delete\"]'", "scopes"),
        ("scopes = 'accounts:read'", "scopes"),
        ("scopes = '{\"accounts:read\": true}'", "scopes"),
        ("scopes = '[1]'", "scopes"),
        ("scopes = NULL", "scopes"),
        ("allowed_ips = '[\"localhost\"]'", "allowed_ips"),
        ("allowed_ips = '[\"10.0.0.0/33\"]'", "allowed_ips"),
        ("allowed_ips = '[\"256.0.0.1\"]'", "allowed_ips"),
        ("allowed_ips = '[\"010.0.0.1\"]'", "allowed_ips"),
        ("allowed_ips = '[\"1::2::3\"]'", "allowed_ips"),
        ("allowed_ips = '[\"1:2:3:4:5:6:7\"]'", "allowed_ips"),
        ("allowed_ips = '[\"::1/129\"]'", "allowed_ips"),
        ("allowed_ips = '10.0.0.0/8'", "allowed_ips"),
        ("allowed_ips = '[[\"10.0.0.0/8\"]]'", "allowed_ips"),
        ("rate_limit = 10", "rate_limit"),
        ("rate_limit_window_s = 10", "rate_limit"),
        ("rate_limit = 0, rate_limit_window_s = 10", "rate_limit"),
        ("rate_limit = 10, rate_limit_window_s = 86401", "rate_limit"),
        ("rate_limit = '10', rate_limit_window_s = 'x'", "rate_limit"),
        ("rate_limit = 1000001, rate_limit_window_s = 1", "rate_limit"),
    ];
    for (set, words) in bad {
        // CHECK constraints switched off change nothing: the rules are triggers.
        let err = refused(
            &sh,
            &format!("PRAGMA ignore_check_constraints = ON; UPDATE api_credential SET {set} WHERE api_key = '{key}'"),
        );
        assert!(err.contains(words), "UPDATE {set}: {err}");
        assert_eq!(row(&sh), before, "changed by UPDATE {set}");
        let (columns, values): (Vec<&str>, Vec<&str>) = set.split(", ").map(|a| a.split_once(" = ").unwrap()).unzip();
        let other = ApiKey::generate();
        let err = refused(
            &sh,
            &format!(
                "INSERT INTO api_credential (api_key, api_secret_hash, {}) VALUES ('{other}', '{hash}', {})",
                columns.join(", "),
                values.join(", ")
            ),
        );
        assert!(err.contains(words), "INSERT {set}: {err}");
        assert!(store.get(other.as_str()).unwrap().is_none());
    }
    sh.execute_batch("PRAGMA ignore_check_constraints = OFF").unwrap();
    // And what is well formed is taken, by either statement.
    let good: &[&str] = &[
        "expires_at = '2030-01-01T00:00:00.000Z'",
        "expires_at = '2030-01-01 00:00:00'",
        "expires_at = NULL",
        "scopes = '[]'",
        "scopes = '[\"credentials:write\",\"accounts:read\"]'",
        "allowed_ips = '[\"127.0.0.2\",\"10.0.0.0/8\",\"::1/128\",\"2001:db8::/32\",\"::ffff:127.0.0.2\",\"::/0\",\"1:2:3:4:5:6:7:8\"]'",
        "allowed_ips = '[]'",
        "rate_limit = 1, rate_limit_window_s = 86400",
        "rate_limit = 1000000, rate_limit_window_s = 1",
        "rate_limit = NULL, rate_limit_window_s = NULL",
    ];
    for set in good {
        sh.execute_batch(&format!("UPDATE api_credential SET {set} WHERE api_key = '{key}'"))
            .unwrap_or_else(|e| panic!("UPDATE {set}: {e}"));
        let (columns, values): (Vec<&str>, Vec<&str>) = set.split(", ").map(|a| a.split_once(" = ").unwrap()).unzip();
        sh.execute_batch(&format!(
            "INSERT INTO api_credential (api_key, api_secret_hash, {}) VALUES ('{}', '{hash}', {})",
            columns.join(", "),
            ApiKey::generate(),
            values.join(", ")
        ))
        .unwrap_or_else(|e| panic!("INSERT {set}: {e}"));
    }
    // The same rules in the real sqlite3 shell (another SQLite build runs the same triggers).
    let (ok, err) = sqlite3(
        store.path(),
        &format!("UPDATE api_credential SET allowed_ips = '[\"300.1.1.1\"]' WHERE api_key = '{key}'"),
    );
    assert!(!ok && err.contains("allowed_ips must be"), "{err}");
    sqlite3_ok(
        store.path(),
        &format!("UPDATE api_credential SET allowed_ips = '[\"::ffff:1.2.3.4/128\"]' WHERE api_key = '{key}'"),
    );
}

#[test]
fn times_written_by_hand_in_any_form_sqlite_reads_are_read_as_sqlite_reads_them() {
    let (_dir, store) = fresh();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let key = c.api_key.as_str();
    let sh = shell(&store);
    let jan_2030 = 1_893_456_000_000;
    for (expires_at, last_used_at, ms) in [
        ("2030-01-01T00:00:00.000Z", "2030-01-01T00:00:00.000Z", jan_2030),
        ("2030-01-01 00:00:00", "2030-01-01T00:00", jan_2030),
        ("2030-01-01T01:30:00+01:30", "2030-01-01", jan_2030),
        ("2030-01-01T00:00:00.250Z", "2030-01-01 00:00:00.250", jan_2030 + 250),
    ] {
        sh.execute(
            "UPDATE api_credential SET expires_at = ?2, last_used_at = ?3 WHERE api_key = ?1",
            [key, expires_at, last_used_at],
        )
        .unwrap();
        let entry = store.auth_entry(key).unwrap().unwrap();
        assert_eq!((entry.expires_ms, entry.last_used_ms), (Some(ms), Some(ms)), "{expires_at} / {last_used_at}");
    }
}

#[test]
fn values_that_got_past_dropped_triggers_read_as_the_least_they_could_grant() {
    let (_dir, store) = fresh();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let key = c.api_key.as_str();
    let sh = shell(&store);
    sh.execute_batch(
        "DROP TRIGGER api_credential_expires_at_stays_a_time; DROP TRIGGER api_credential_scopes_stay_known; \
         DROP TRIGGER api_credential_allowed_ips_stay_addresses; DROP TRIGGER api_credential_rate_limit_stays_whole",
    )
    .unwrap();
    assert!(!store.safeguards().unwrap().intact());
    sh.execute(
        "UPDATE api_credential SET expires_at = 'whenever', scopes = 'all of them', allowed_ips = '[\"anywhere\"]', \
         rate_limit = 0 WHERE api_key = ?1",
        [key],
    )
    .unwrap();
    let entry = store.auth_entry(key).unwrap().unwrap();
    assert_eq!(entry.expires_ms, Some(0), "an unreadable expiry is long past");
    assert_eq!(entry.scopes, Scopes::NONE);
    assert!(!entry.allowed_ips.is_anywhere() && entry.allowed_ips.has_unreadable());
    assert!(!entry.allowed_ips.allows("127.0.0.1".parse().unwrap()));
    assert_eq!(entry.rate_limit, Some(RateLimit { limit: 1, window_s: 86_400 }));
    let rec = store.get(key).unwrap().unwrap();
    assert_eq!(rec.status, CredentialStatus::Expired);
    assert_eq!(rec.expires_at.as_deref(), Some("whenever"), "the record shows what is stored");
    assert_eq!(rec.allowed_ips, ["anywhere"]);
    // And the change was audited all the same, the text that is no JSON as text.
    let e = &audit(&store, Some(key), 1)[0];
    assert_eq!((e.action.as_str(), e.actor.as_str()), ("update", "db"));
    assert_eq!(e.changes.as_ref().unwrap()["scopes"]["to"], "all of them");
}
