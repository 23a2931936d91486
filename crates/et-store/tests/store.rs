//! The store against a real SQLite file: registration, revocation, paging, the audit trail, and the
//! rules the database enforces on hand-made SQL from another connection.

use et_core::{ApiKey, ApiSecret, SecretHash};
use et_store::{CredentialStore, NewCredential, OpenMode, SqliteStore, StatusFilter, StoreError};
use rusqlite::Connection;

fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("ledger.db"), OpenMode::CreateIfMissing).unwrap();
    (dir, store)
}

fn new_credential(label: Option<&str>) -> NewCredential {
    let api_key = ApiKey::generate();
    let secret = ApiSecret::parse(&format!("sk_{}", "ab".repeat(32))).unwrap();
    NewCredential { api_key, secret_hash: secret.hash(), label: label.map(str::to_owned) }
}

/// What an operator in the `sqlite3` shell would do: a separate connection to the same file.
fn shell(store: &SqliteStore) -> Connection {
    Connection::open(store.path()).unwrap()
}

#[test]
fn register_then_duplicate_even_after_revocation() {
    let (_dir, store) = fresh();
    let c = new_credential(Some("billing"));
    let rec = store.register(&c).unwrap();
    assert_eq!(rec.api_key, c.api_key.as_str());
    assert_eq!(rec.label.as_deref(), Some("billing"));
    assert!(rec.active);
    assert!(rec.created_at.ends_with('Z') && rec.created_at.contains('T'), "{}", rec.created_at);
    assert!(matches!(store.register(&c), Err(StoreError::Duplicate)));
    store.revoke(c.api_key.as_str(), "ak_someone", None).unwrap();
    assert!(matches!(store.register(&c), Err(StoreError::Duplicate)));
}

#[test]
fn the_stored_hash_is_the_spec_hash_and_never_the_secret() {
    let (_dir, store) = fresh();
    let secret = ApiSecret::parse("sk_503baa03e200179d94e68a83c1b510594e56fd9ff84ce7ef436335c0399f797c").unwrap();
    let key = ApiKey::parse("ak_000102030405060708090a0b0c0d0e0fd65df89f").unwrap();
    store.register(&NewCredential { api_key: key.clone(), secret_hash: secret.hash(), label: None }).unwrap();
    let stored: String = shell(&store)
        .query_row("SELECT api_secret_hash FROM api_credential WHERE api_key = ?1", [key.as_str()], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, "684973506859df19ac316208329d03b18da03ecbd11ef2db0561ac72602000c0");
    let entry = store.auth_entry(key.as_str()).unwrap().unwrap();
    assert!(entry.secret_hash.unwrap().ct_matches(&SecretHash::of(secret.expose())));
    assert!(entry.active);
}

#[test]
fn revoke_records_who_and_is_not_found_the_second_time() {
    let (_dir, store) = fresh();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let rec = store.revoke(c.api_key.as_str(), "ak_operator", Some("left the company")).unwrap();
    assert!(!rec.active);
    assert_eq!(rec.revoked_by.as_deref(), Some("ak_operator"));
    assert!(rec.revoked_at.is_some());
    assert!(matches!(store.revoke(c.api_key.as_str(), "ak_operator", None), Err(StoreError::NotFound)));
    assert!(matches!(store.revoke(ApiKey::generate().as_str(), "ak_operator", None), Err(StoreError::NotFound)));

    let audit = store.audit(Some(c.api_key.as_str()), 10).unwrap();
    let actions: Vec<(&str, &str, Option<&str>)> =
        audit.iter().map(|e| (e.action.as_str(), e.actor.as_str(), e.reason.as_deref())).collect();
    assert_eq!(actions, [("revoke", "ak_operator", Some("left the company")), ("register", "api", None)]);
}

#[test]
fn a_hand_made_update_is_filled_in_audited_and_seen_by_the_poller() {
    let (_dir, store) = fresh();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let before_poll = store.poll_changes().unwrap();
    assert_eq!(before_poll.events.len(), 1, "the registration is an event");
    assert!(before_poll.committed && !before_poll.schema_changed && !before_poll.more);

    shell(&store).execute("UPDATE api_credential SET active = false WHERE api_key = ?1", [c.api_key.as_str()]).unwrap();

    let rec = store.get(c.api_key.as_str()).unwrap().unwrap();
    assert!(!rec.active);
    assert_eq!(rec.revoked_by.as_deref(), Some("db"));
    assert!(rec.revoked_at.is_some());
    let events = store.poll_changes().unwrap().events;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].action.as_str(), events[0].actor.as_str()), ("revoke", "db"));
    assert_eq!(events[0].api_key, c.api_key.as_str());
    let nothing = store.poll_changes().unwrap();
    assert!(nothing.events.is_empty() && !nothing.committed, "nothing new, nothing reported");
}

#[test]
fn revocation_is_permanent_against_hand_made_sql() {
    let (_dir, store) = fresh();
    let c = new_credential(None);
    store.register(&c).unwrap();
    store.revoke(c.api_key.as_str(), "ak_operator", None).unwrap();
    let sh = shell(&store);
    let err = sh
        .execute("UPDATE api_credential SET active = 1 WHERE api_key = ?1", [c.api_key.as_str()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("revocation is permanent"), "{err}");
    let err = sh.execute("DELETE FROM api_credential", []).unwrap_err().to_string();
    assert!(err.contains("never deleted"), "{err}");
    let err = sh.execute("DELETE FROM credential_audit", []).unwrap_err().to_string();
    assert!(err.contains("append-only"), "{err}");
    let err = sh.execute("UPDATE api_credential SET api_secret_hash = ?1", [&"0".repeat(64)]).unwrap_err().to_string();
    assert!(err.contains("never change"), "{err}");
    assert!(!store.get(c.api_key.as_str()).unwrap().unwrap().active);
}

#[test]
fn listing_pages_in_registration_order_with_filters() {
    let (_dir, store) = fresh();
    let creds: Vec<NewCredential> = (0..7).map(|i| new_credential(Some(&format!("c{i}")))).collect();
    for c in &creds {
        store.register(c).unwrap();
    }
    store.revoke(creds[1].api_key.as_str(), "ak_x", None).unwrap();
    store.revoke(creds[4].api_key.as_str(), "ak_x", None).unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = store.list(StatusFilter::Active, 2, after.as_deref()).unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.into_iter().map(|r| r.label.unwrap()));
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ["c0", "c2", "c3", "c5", "c6"]);
    let (revoked, next) = store.list(StatusFilter::Revoked, 10, None).unwrap();
    assert_eq!(revoked.iter().map(|r| r.label.clone().unwrap()).collect::<Vec<_>>(), ["c1", "c4"]);
    assert_eq!(next, None);
    assert_eq!(store.list(StatusFilter::All, 100, None).unwrap().0.len(), 7);
    assert!(matches!(
        store.list(StatusFilter::All, 10, Some(ApiKey::generate().as_str())),
        Err(StoreError::UnknownCursor(_))
    ));
    let counts = store.counts().unwrap();
    assert_eq!((counts.active, counts.revoked), (5, 2));
}

#[test]
fn usage_is_recorded_and_never_goes_backwards() {
    let (_dir, store) = fresh();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let key = c.api_key.as_str().to_owned();
    store.record_usage(&[(key.clone(), 1_700_000_000_123)]).unwrap();
    assert_eq!(store.get(&key).unwrap().unwrap().last_used_at.as_deref(), Some("2023-11-14T22:13:20.123Z"));
    assert_eq!(store.auth_entry(&key).unwrap().unwrap().last_used_ms, Some(1_700_000_000_123));
    store.record_usage(&[(key.clone(), 1_600_000_000_000)]).unwrap();
    assert_eq!(store.get(&key).unwrap().unwrap().last_used_at.as_deref(), Some("2023-11-14T22:13:20.123Z"));
    // To the minute: a use 59 s later is not written, one 60 s later is.
    store.record_usage(&[(key.clone(), 1_700_000_059_123)]).unwrap();
    assert_eq!(store.get(&key).unwrap().unwrap().last_used_at.as_deref(), Some("2023-11-14T22:13:20.123Z"));
    store.record_usage(&[(key.clone(), 1_700_000_060_123)]).unwrap();
    assert_eq!(store.get(&key).unwrap().unwrap().last_used_at.as_deref(), Some("2023-11-14T22:14:20.123Z"));
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
fn accounts_round_trip() {
    let (_dir, store) = fresh();
    let a = store.create_account("cash", "ak_x").unwrap();
    assert!(a.id.starts_with("acc_"));
    assert_eq!(store.get_account(&a.id).unwrap(), Some(a.clone()));
    assert_eq!(store.get_account("acc_missing").unwrap(), None);
    assert_eq!(store.list_accounts(10, None).unwrap().0, vec![a]);
}

#[test]
fn a_batch_is_one_transaction_where_a_duplicate_fails_alone() {
    let (_dir, store) = fresh();
    let (a, b, c) = (new_credential(Some("a")), new_credential(None), new_credential(Some("c")));
    store.register(&b).unwrap();
    let answers = store.register_many(&[a.clone(), b.clone(), c.clone()]);
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0].as_ref().unwrap().api_key, a.api_key.as_str());
    assert!(matches!(answers[1], Err(StoreError::Duplicate)));
    assert_eq!(answers[2].as_ref().unwrap().label.as_deref(), Some("c"));
    // Both new ones are stored and audited, from another connection (so committed).
    let (stored, audited): (i64, i64) = shell(&store)
        .query_row(
            "SELECT (SELECT count(*) FROM api_credential), (SELECT count(*) FROM credential_audit WHERE action = 'register')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((stored, audited), (3, 3));
    // A duplicate within one batch: the first wins.
    let d = new_credential(None);
    let answers = store.register_many(&[d.clone(), d.clone()]);
    assert!(answers[0].is_ok() && matches!(answers[1], Err(StoreError::Duplicate)));
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

#[test]
fn a_schema_1_database_is_migrated_keeping_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = schema1_copy(&dir);
    let store = SqliteStore::open(&path, OpenMode::MustExist).unwrap();
    let sh = shell(&store);
    let version: i64 = sh.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 2);
    let (all, _) = store.list(StatusFilter::All, 10, None).unwrap();
    let labels: Vec<(Option<&str>, bool)> = all.iter().map(|r| (r.label.as_deref(), r.active)).collect();
    assert_eq!(labels, [(Some("ops"), true), (Some("billing"), true), (Some("monitoring"), false), (None, true)]);
    let audit = store.audit(None, 10).unwrap();
    assert_eq!(audit.len(), 5, "{audit:?}");
    assert_eq!((audit[0].action.as_str(), audit[0].api_key.as_str()), ("revoke", FIXTURE_REVOKED));
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
        let audit = store.audit(Some(key), 1).unwrap();
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
    let answers = store.register_many(&[new_credential(None), keep.clone()]);
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

#[test]
fn cached_credentials_are_reread_together() {
    let (_dir, store) = fresh();
    let (a, b) = (new_credential(Some("a")), new_credential(None));
    store.register(&a).unwrap();
    store.register(&b).unwrap();
    store.revoke(b.api_key.as_str(), "ak_x", None).unwrap();
    let unknown = ApiKey::generate();
    let rows = store.auth_entries(&[a.api_key.as_str(), unknown.as_str(), b.api_key.as_str()]).unwrap();
    assert!(rows[0].as_ref().is_some_and(|r| r.active && r.label.as_deref() == Some("a")));
    assert!(rows[1].is_none());
    assert!(rows[2].as_ref().is_some_and(|r| !r.active));
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
