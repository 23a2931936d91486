//! The store against a real SQLite file: registration, revocation, paging, the audit trail, and the
//! rules the database enforces on hand-made SQL from another connection.

use et_core::{ApiKey, ApiSecret, SecretHash};
use et_store::{
    AuditEvent, CredentialStatus, CredentialStore, CredentialUpdate, IpNet, NewCredential, OpenMode, RateLimit, Scope,
    Scopes, SqliteStore, StatusFilter, StoreError,
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
    store.register(&NewCredential::new(key.clone(), secret.hash(), None)).unwrap();
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

    let audit = audit(&store, Some(c.api_key.as_str()), 10);
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
fn a_large_usage_batch_is_written_whole_in_chunks() {
    // More uses than one chunk's transaction takes, in no particular key order: every one lands.
    let (_dir, store) = fresh();
    let keys: Vec<String> = (0..1_000)
        .map(|_| {
            let c = new_credential(None);
            store.register(&c).unwrap();
            c.api_key.as_str().to_owned()
        })
        .collect();
    let uses: Vec<(String, i64)> = keys.iter().rev().map(|k| (k.clone(), 1_700_000_000_123)).collect();
    store.record_usage(&uses).unwrap();
    let used: i64 = shell(&store)
        .query_row("SELECT count(*) FROM api_credential WHERE last_used_at = '2023-11-14T22:13:20.123Z'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(used, 1_000);
    // The writer goes on serving registrations and revocations after the batch.
    let c = new_credential(None);
    store.register(&c).unwrap();
    store.revoke(c.api_key.as_str(), "test", None).unwrap();
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
    let answers = store.register_many(&[a.clone(), b.clone(), c.clone()], None);
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
    let answers = store.register_many(&[d.clone(), d.clone()], None);
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
    assert_eq!(version, 3);
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

// ---------------------------------------------------------------------------------------------
// Issue 8 (SPEC §6): expiry, scopes, allowed addresses, rate limits, and the audit of changes.

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn net(text: &str) -> IpNet {
    et_store::parse_ip_net(text).unwrap()
}

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

/// Every field of SPEC §6 set.
fn restricted(label: &str, expires_ms: i64) -> NewCredential {
    NewCredential {
        expires_at: Some(expires_ms),
        scopes: [Scope::AccountsRead, Scope::CredentialsRead].iter().collect(),
        allowed_ips: vec![net("127.0.0.2/32"), net("10.0.0.0/8"), net("::1/128")],
        rate_limit: Some(RateLimit { limit: 5, window_s: 60 }),
        ..new_credential(Some(label))
    }
}

#[test]
fn a_registration_stores_every_field_and_auth_entry_reads_them_in_one_row() {
    let (_dir, store) = fresh();
    let expires = 1_900_000_000_123; // 2030-03-17T17:46:40.123Z
    let c = restricted("monitoring", expires);
    let rec = store.register(&c).unwrap();
    assert_eq!(rec.status, CredentialStatus::Active);
    assert_eq!(rec.expires_at.as_deref(), Some("2030-03-17T17:46:40.123Z"));
    assert_eq!(rec.scopes, [Scope::AccountsRead, Scope::CredentialsRead]);
    assert_eq!(rec.allowed_ips, ["127.0.0.2/32", "10.0.0.0/8", "::1/128"]);
    assert_eq!(rec.rate_limit, Some(RateLimit { limit: 5, window_s: 60 }));
    assert_eq!(store.get(c.api_key.as_str()).unwrap().unwrap(), rec, "RETURNING and a later read agree");

    let entry = store.auth_entry(c.api_key.as_str()).unwrap().unwrap();
    assert_eq!(entry.expires_ms, Some(expires), "to the millisecond");
    assert_eq!(entry.scopes, c.scopes);
    assert_eq!(entry.allowed_ips.nets(), c.allowed_ips.as_slice());
    assert!(
        entry.allowed_ips.allows("10.1.2.3".parse().unwrap())
            && !entry.allowed_ips.allows("127.0.0.1".parse().unwrap())
    );
    assert_eq!(entry.rate_limit, c.rate_limit);
    assert_eq!(store.auth_entry_now(c.api_key.as_str()).unwrap().unwrap().unwrap(), entry);
    assert_eq!(store.auth_entries(&[c.api_key.as_str()]).unwrap()[0].as_ref(), Some(&entry));

    // A default registration: the column defaults, and what they mean.
    let plain = new_credential(None);
    let rec = store.register(&plain).unwrap();
    assert_eq!(
        (rec.scopes.len(), rec.expires_at.as_deref(), rec.allowed_ips.len(), rec.rate_limit),
        (4, None, 0, None)
    );
    let stored: (String, String) = shell(&store)
        .query_row("SELECT scopes, allowed_ips FROM api_credential WHERE api_key = ?1", [plain.api_key.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(stored.0, r#"["accounts:read","accounts:write","credentials:read","credentials:write"]"#);
    assert_eq!(stored.1, "[]");

    // Values the database would refuse are refused before it is asked, and nothing is stored.
    let too_fast = NewCredential { rate_limit: Some(RateLimit { limit: 0, window_s: 60 }), ..new_credential(None) };
    assert!(matches!(store.register(&too_fast), Err(StoreError::Refused(m)) if m.contains("rate_limit.limit")));
    let too_late = NewCredential { expires_at: Some(et_store::LATEST_EXPIRY_MS + 1), ..new_credential(None) };
    assert!(matches!(store.register(&too_late), Err(StoreError::Refused(_))));
    assert!(
        store.get(too_fast.api_key.as_str()).unwrap().is_none()
            && store.get(too_late.api_key.as_str()).unwrap().is_none()
    );
}

#[test]
fn a_registration_by_a_credential_is_audited_with_its_key_and_forgets_it() {
    let (_dir, store) = fresh();
    let c = NewCredential { registered_by: Some("ak_registrar".into()), ..new_credential(None) };
    store.register_many(&[c.clone(), new_credential(None)], None).into_iter().for_each(|r| drop(r.unwrap()));
    let events = audit(&store, None, 10);
    let actors: Vec<&str> = events.iter().rev().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, ["ak_registrar", "api"]);
    let left: Option<String> = shell(&store)
        .query_row("SELECT updated_by FROM api_credential WHERE api_key = ?1", [c.api_key.as_str()], |r| r.get(0))
        .unwrap();
    assert_eq!(left, None, "the actor is not left for a later hand-made change");
    sqlite3_ok(store.path(), &format!("UPDATE api_credential SET label = 'x' WHERE api_key = '{}'", c.api_key));
    assert_eq!(audit(&store, Some(c.api_key.as_str()), 1)[0].actor, "db");
}

#[test]
fn a_hand_made_update_in_the_sqlite3_shell_is_audited_as_db_with_its_changes() {
    let (_dir, store) = fresh();
    let c = new_credential(Some("billing"));
    store.register(&c).unwrap();
    store.poll_changes().unwrap();
    let key = c.api_key.as_str();
    sqlite3_ok(
        store.path(),
        &format!(
            "UPDATE api_credential SET expires_at = '2030-01-01T00:00:00Z', scopes = '[\"accounts:read\"]', \
             allowed_ips = '[\"127.0.0.2/32\"]', rate_limit = 100, rate_limit_window_s = 60 WHERE api_key = '{key}'"
        ),
    );
    let events = store.poll_changes().unwrap().events;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!((e.action.as_str(), e.actor.as_str(), e.api_key.as_str()), ("update", "db", key));
    assert_eq!(
        e.changes,
        Some(serde_json::json!({
            "expires_at": {"from": null, "to": "2030-01-01T00:00:00.000Z"},
            "scopes": {"from": ["accounts:read", "accounts:write", "credentials:read", "credentials:write"], "to": ["accounts:read"]},
            "allowed_ips": {"from": [], "to": ["127.0.0.2/32"]},
            "rate_limit": {"from": null, "to": {"limit": 100, "window_s": 60}}
        }))
    );
    let entry = store.auth_entry(key).unwrap().unwrap();
    assert_eq!(entry.expires_ms, Some(1_893_456_000_000));
    assert_eq!(entry.scopes.to_vec(), [Scope::AccountsRead]);
    assert_eq!(entry.rate_limit, Some(RateLimit { limit: 100, window_s: 60 }));
    let rec = store.get(key).unwrap().unwrap();
    assert_eq!(rec.expires_at.as_deref(), Some("2030-01-01T00:00:00.000Z"), "shown in the one form");

    // One column at a time, and a time written with an offset: each its own audited change.
    sqlite3_ok(
        store.path(),
        &format!("UPDATE api_credential SET expires_at = '2030-01-01T01:00:00+01:00' WHERE api_key = '{key}'"),
    );
    let e = &store.poll_changes().unwrap().events[0];
    assert_eq!(e.changes.as_ref().unwrap()["expires_at"]["to"], "2030-01-01T00:00:00.000Z");
    sqlite3_ok(
        store.path(),
        &format!("UPDATE api_credential SET rate_limit = NULL, rate_limit_window_s = NULL WHERE api_key = '{key}'"),
    );
    let e = &store.poll_changes().unwrap().events[0];
    assert_eq!(
        e.changes,
        Some(serde_json::json!({"rate_limit": {"from": {"limit": 100, "window_s": 60}, "to": null}}))
    );
    // An UPDATE that changes nothing is no event.
    sqlite3_ok(
        store.path(),
        &format!("UPDATE api_credential SET scopes = scopes, label = label WHERE api_key = '{key}'"),
    );
    assert!(store.poll_changes().unwrap().events.is_empty());
}

#[test]
fn an_api_update_is_audited_with_its_actor_and_a_later_hand_made_one_as_db() {
    let (_dir, store) = fresh();
    let c = new_credential(Some("ops"));
    store.register(&c).unwrap();
    let key = c.api_key.as_str();
    let change = CredentialUpdate {
        label: Some(Some("ops, read only".into())),
        scopes: Some([Scope::AccountsRead].iter().collect()),
        allowed_ips: Some(vec![net("10.0.0.0/8")]),
        expires_at: Some(Some(1_900_000_000_000)),
        rate_limit: Some(Some(RateLimit { limit: 10, window_s: 1 })),
    };
    let rec = store.update(key, &change, "ak_admin").unwrap();
    assert_eq!(rec.label.as_deref(), Some("ops, read only"));
    assert_eq!(rec.scopes, [Scope::AccountsRead]);
    assert_eq!(rec.allowed_ips, ["10.0.0.0/8"]);
    assert_eq!(rec.expires_at.as_deref(), Some("2030-03-17T17:46:40.000Z"));
    assert_eq!(rec.rate_limit, Some(RateLimit { limit: 10, window_s: 1 }));
    let e = &audit(&store, Some(key), 1)[0];
    assert_eq!((e.action.as_str(), e.actor.as_str()), ("update", "ak_admin"));
    let changes = e.changes.as_ref().unwrap();
    assert_eq!(changes["label"], serde_json::json!({"from": "ops", "to": "ops, read only"}));
    assert_eq!(changes["allowed_ips"], serde_json::json!({"from": [], "to": ["10.0.0.0/8"]}));
    assert_eq!(changes.as_object().unwrap().len(), 5);

    // Absent fields stay; `Some(None)` clears; an empty list of addresses is anywhere.
    let rec = store
        .update(
            key,
            &CredentialUpdate {
                expires_at: Some(None),
                rate_limit: Some(None),
                allowed_ips: Some(vec![]),
                ..Default::default()
            },
            "ak_admin",
        )
        .unwrap();
    assert_eq!((rec.expires_at, rec.rate_limit, rec.allowed_ips.len()), (None, None, 0));
    assert_eq!(rec.label.as_deref(), Some("ops, read only"));
    assert_eq!(rec.scopes, [Scope::AccountsRead]);
    let entry = store.auth_entry(key).unwrap().unwrap();
    assert!(entry.allowed_ips.is_anywhere() && entry.expires_ms.is_none() && entry.rate_limit.is_none());

    // An update that changes nothing writes no audit row, and leaves no actor behind either.
    let before = audit(&store, None, 100).len();
    store
        .update(key, &CredentialUpdate { label: Some(Some("ops, read only".into())), ..Default::default() }, "ak_admin")
        .unwrap();
    assert_eq!(audit(&store, None, 100).len(), before);
    sqlite3_ok(store.path(), &format!("UPDATE api_credential SET label = 'by hand' WHERE api_key = '{key}'"));
    let e = &audit(&store, Some(key), 1)[0];
    assert_eq!((e.action.as_str(), e.actor.as_str()), ("update", "db"), "a later hand-made change is db's");
    assert_eq!(e.changes, Some(serde_json::json!({"label": {"from": "ops, read only", "to": "by hand"}})));
    // An expired credential can still be changed (given a new expiry, say): it is not revoked.
    store
        .update(key, &CredentialUpdate { expires_at: Some(Some(now_ms() - 1)), ..Default::default() }, "ak_admin")
        .unwrap();
    let rec =
        store.update(key, &CredentialUpdate { expires_at: Some(None), ..Default::default() }, "ak_admin").unwrap();
    assert_eq!(rec.status, CredentialStatus::Active);
    // Out-of-range values are refused before the database, and change nothing.
    let bad =
        CredentialUpdate { rate_limit: Some(Some(RateLimit { limit: 1, window_s: 86_401 })), ..Default::default() };
    assert!(matches!(store.update(key, &bad, "ak_admin"), Err(StoreError::Refused(_))));
    assert!(!StoreError::Refused(String::new()).is_fault() && !StoreError::LimitReached { max: 1 }.is_fault());
}

#[test]
fn a_revoked_credential_cannot_be_changed() {
    let (_dir, store) = fresh();
    let c = new_credential(Some("gone"));
    store.register(&c).unwrap();
    store.revoke(c.api_key.as_str(), "ak_x", None).unwrap();
    let key = c.api_key.as_str();
    let change = CredentialUpdate { scopes: Some(Scopes::ALL), label: Some(None), ..Default::default() };
    assert!(matches!(store.update(key, &change, "ak_x"), Err(StoreError::NotFound)));
    assert!(matches!(store.update(ApiKey::generate().as_str(), &change, "ak_x"), Err(StoreError::NotFound)));
    let before = store.get(key).unwrap().unwrap();
    for set in [
        "label = 'back'",
        "expires_at = '2030-01-01T00:00:00Z'",
        "scopes = '[]'",
        "allowed_ips = '[\"10.0.0.0/8\"]'",
        "rate_limit = 1, rate_limit_window_s = 1",
    ] {
        let (ok, err) = sqlite3(store.path(), &format!("UPDATE api_credential SET {set} WHERE api_key = '{key}'"));
        assert!(!ok && err.contains("a revoked credential cannot be changed"), "{set}: {err}");
    }
    assert_eq!(store.get(key).unwrap().unwrap(), before);
    assert_eq!(audit(&store, Some(key), 10).len(), 2, "register and revoke only");
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
fn expired_active_revoked_and_all_are_listed_in_keyset_pages() {
    let (_dir, store) = fresh();
    let now = now_ms();
    let creds: Vec<NewCredential> = (0..8)
        .map(|i| NewCredential {
            // c1, c3, c5, c7 expired a minute ago; c2 expires in an hour.
            expires_at: match i {
                1 | 3 | 5 | 7 => Some(now - 60_000),
                2 => Some(now + 3_600_000),
                _ => None,
            },
            ..new_credential(Some(&format!("c{i}")))
        })
        .collect();
    for r in store.register_many(&creds, None) {
        r.unwrap();
    }
    store.revoke(creds[4].api_key.as_str(), "ak_x", None).unwrap();
    store.revoke(creds[5].api_key.as_str(), "ak_x", None).unwrap(); // expired and revoked: revoked

    let walk = |status: StatusFilter| -> Vec<(String, CredentialStatus)> {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (page, next) = store.list(status, 2, after.as_deref()).unwrap();
            assert!(page.len() <= 2);
            seen.extend(page.into_iter().map(|r| (r.label.unwrap(), r.status)));
            match next {
                Some(n) => after = Some(n),
                None => return seen,
            }
        }
    };
    let labels = |v: Vec<(String, CredentialStatus)>, want: CredentialStatus| -> Vec<String> {
        assert!(v.iter().all(|(_, s)| *s == want), "{v:?}");
        v.into_iter().map(|(l, _)| l).collect()
    };
    assert_eq!(labels(walk(StatusFilter::Active), CredentialStatus::Active), ["c0", "c2", "c6"]);
    assert_eq!(labels(walk(StatusFilter::Expired), CredentialStatus::Expired), ["c1", "c3", "c7"]);
    assert_eq!(labels(walk(StatusFilter::Revoked), CredentialStatus::Revoked), ["c4", "c5"]);
    let all = walk(StatusFilter::All);
    assert_eq!(all.len(), 8);
    assert_eq!(all[5], ("c5".into(), CredentialStatus::Revoked), "revoked wins over expired");
    assert_eq!(all[1], ("c1".into(), CredentialStatus::Expired));
    assert_eq!(store.count_active().unwrap(), 3);
    // An expired credential's record stays, and it is still `active` (not revoked) in the column.
    let c1 = store.get(creds[1].api_key.as_str()).unwrap().unwrap();
    assert!(c1.active && c1.status == CredentialStatus::Expired && c1.revoked_at.is_none());
}

#[test]
fn audit_pages_are_newest_first_with_an_api_key_filter() {
    let (_dir, store) = fresh();
    let (a, b) = (new_credential(Some("a")), new_credential(Some("b")));
    store.register(&a).unwrap();
    store.register(&b).unwrap();
    for i in 0..4 {
        for c in [&a, &b] {
            let change = CredentialUpdate { label: Some(Some(format!("{i}"))), ..Default::default() };
            store.update(c.api_key.as_str(), &change, "ak_x").unwrap();
        }
    }
    store.revoke(a.api_key.as_str(), "ak_x", Some("done")).unwrap();
    // a: register, 4 updates, revoke = 6 events; b: 5; 11 in all.
    let walk = |key: Option<&str>| -> Vec<AuditEvent> {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let (page, next) = store.audit_page(key, 4, after).unwrap();
            assert!(page.len() <= 4);
            seen.extend(page);
            match next {
                Some(n) => after = Some(n),
                None => return seen,
            }
        }
    };
    let all = walk(None);
    assert_eq!(all.len(), 11);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first, none twice");
    let of_a = walk(Some(a.api_key.as_str()));
    let actions: Vec<&str> = of_a.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["revoke", "update", "update", "update", "update", "register"]);
    assert!(of_a.iter().all(|e| e.api_key == a.api_key.as_str()));
    assert_eq!(of_a[0].reason.as_deref(), Some("done"));
    assert_eq!(of_a[1].changes, Some(serde_json::json!({"label": {"from": "2", "to": "3"}})));
    assert_eq!(walk(Some(b.api_key.as_str())).len(), 5);
    // The last page says so; a cursor past everything is an empty last page.
    let (page, next) = store.audit_page(None, 11, None).unwrap();
    assert_eq!((page.len(), next), (11, None));
    assert_eq!(store.audit_page(None, 5, Some(1)).unwrap(), (vec![], None));
    assert!(store.audit_page(Some(ApiKey::generate().as_str()), 5, None).unwrap().0.is_empty());
}

#[test]
fn the_active_limit_is_enforced_inside_the_registration_transaction() {
    let (_dir, store) = fresh();
    // Expired and revoked credentials do not count.
    let expired = NewCredential { expires_at: Some(now_ms() - 1), ..new_credential(None) };
    let revoked = new_credential(None);
    store.register(&expired).unwrap();
    store.register(&revoked).unwrap();
    store.revoke(revoked.api_key.as_str(), "ak_x", None).unwrap();
    let batch: Vec<NewCredential> = (0..5).map(|_| new_credential(None)).collect();
    let answers = store.register_many(&batch, Some(3));
    assert!(answers[..3].iter().all(Result::is_ok), "{answers:?}");
    assert!(answers[3..].iter().all(|a| matches!(a, Err(StoreError::LimitReached { max: 3 }))), "{answers:?}");
    assert!(store.get(batch[3].api_key.as_str()).unwrap().is_none(), "a refused one is not stored");
    assert_eq!(store.count_active().unwrap(), 3);
    let single = store.register_many(&[new_credential(None)], Some(3));
    assert!(matches!(single[0], Err(StoreError::LimitReached { max: 3 })));
    assert!(store.register_many(&[new_credential(None)], Some(4))[0].is_ok());
    let msg = StoreError::LimitReached { max: 4 }.to_string();
    assert!(msg.contains("LEDGERD_MAX_ACTIVE_CREDENTIALS"), "{msg}");
}

#[test]
fn the_active_limit_holds_against_concurrent_registrations_from_two_processes_worth_of_connections() {
    let (dir, store) = fresh();
    // A second store on the same file stands for another ledgerd (or etctl) process: its own
    // connections, its own transactions.
    let other = SqliteStore::open(dir.path().join("ledger.db"), OpenMode::MustExist).unwrap();
    const MAX: u64 = 25;
    let accepted = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        for store in [&store, &other, &store, &other] {
            let accepted = &accepted;
            s.spawn(move || {
                for _ in 0..10 {
                    let batch: Vec<NewCredential> = (0..3).map(|_| new_credential(None)).collect();
                    for answer in store.register_many(&batch, Some(MAX)) {
                        match answer {
                            Ok(_) => drop(accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst)),
                            Err(StoreError::LimitReached { max: MAX }) => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            });
        }
    });
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), MAX, "120 tried, exactly the limit accepted");
    assert_eq!(store.count_active().unwrap(), MAX);
}

#[test]
fn update_events_reach_the_poller_like_revocations() {
    // The watcher evicts the key of every event but a registration; an `update` must be one.
    let (_dir, store) = fresh();
    let c = new_credential(None);
    store.register(&c).unwrap();
    store.poll_changes().unwrap();
    store
        .update(c.api_key.as_str(), &CredentialUpdate { scopes: Some(Scopes::NONE), ..Default::default() }, "ak_x")
        .unwrap();
    let changes = store.poll_changes().unwrap();
    assert!(changes.committed);
    assert_eq!(changes.events.len(), 1);
    assert_eq!((changes.events[0].action.as_str(), changes.events[0].api_key.as_str()), ("update", c.api_key.as_str()));
    assert_eq!(changes.events[0].changes.as_ref().unwrap()["scopes"]["to"], serde_json::json!([]));
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
