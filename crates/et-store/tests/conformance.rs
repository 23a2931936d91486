//! The store's rules written once against [`CredentialStore`] and run against both backends: SQLite
//! (a file, hand-made SQL through a second connection, as the `sqlite3` shell) and PostgreSQL (a
//! throwaway database on a real server, hand-made SQL through `psql`). A rule cannot hold on one and
//! not the other. What only one backend has (files, WAL, PRAGMAs; advisory locks, TLS, the change
//! feed's transaction horizon) is tested in `store.rs` and `postgres.rs`.

use et_core::{ApiKey, ApiSecret, SecretHash};
use et_store::{
    AuditEvent, CredentialStatus, CredentialStore, CredentialUpdate, IpNet, NewCredential, OpenMode, PgStore,
    RateLimit, Scope, Scopes, SqliteStore, StatusFilter, StoreError,
};

/// One backend: a fresh database, its store, and hand-made SQL as an operator would type it.
trait Backend {
    fn store(&self) -> &dyn CredentialStore;
    /// Runs hand-made SQL on another connection; the database's refusal as text.
    fn sql(&self, sql: &str) -> Result<(), String>;
    /// A count by hand-made SQL.
    fn count(&self, sql: &str) -> i64;
    /// Another store on the same database: another ledgerd or etctl process.
    fn reopen(&self) -> Box<dyn CredentialStore>;

    #[track_caller]
    fn sql_ok(&self, sql: &str) {
        if let Err(e) = self.sql(sql) {
            panic!("refused {sql}: {e}");
        }
    }
    /// Whether hand-made SQL succeeded, and the refusal.
    fn sql_result(&self, sql: &str) -> (bool, String) {
        match self.sql(sql) {
            Ok(()) => (true, String::new()),
            Err(e) => (false, e),
        }
    }
}

struct Sqlite {
    _dir: tempfile::TempDir,
    store: SqliteStore,
}

impl Sqlite {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("ledger.db"), OpenMode::CreateIfMissing).unwrap();
        Sqlite { _dir: dir, store }
    }
    fn shell(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.store.path()).unwrap()
    }
}

impl Backend for Sqlite {
    fn store(&self) -> &dyn CredentialStore {
        &self.store
    }
    fn sql(&self, sql: &str) -> Result<(), String> {
        self.shell().execute_batch(sql).map_err(|e| e.to_string())
    }
    fn count(&self, sql: &str) -> i64 {
        self.shell().query_row(sql, [], |r| r.get(0)).unwrap()
    }
    fn reopen(&self) -> Box<dyn CredentialStore> {
        Box::new(SqliteStore::open(self.store.path(), OpenMode::MustExist).unwrap())
    }
}

struct Postgres {
    db: et_pgtest::Database,
    store: PgStore,
}

impl Postgres {
    fn new() -> Self {
        let db = et_pgtest::database();
        let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
        Postgres { db, store }
    }
}

impl Backend for Postgres {
    fn store(&self) -> &dyn CredentialStore {
        &self.store
    }
    fn sql(&self, sql: &str) -> Result<(), String> {
        self.db.psql(sql).map(drop)
    }
    fn count(&self, sql: &str) -> i64 {
        self.db.psql(sql).unwrap().trim().parse().unwrap()
    }
    fn reopen(&self) -> Box<dyn CredentialStore> {
        Box::new(PgStore::open(&self.db.url, OpenMode::MustExist).unwrap())
    }
}

/// Each rule below, once per backend.
macro_rules! conformance {
    ($($rule:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $rule() { super::$rule(&super::Sqlite::new()) } )*
        }
        mod postgres {
            $( #[test] fn $rule() { super::$rule(&super::Postgres::new()) } )*
        }
    };
}

conformance!(
    register_then_duplicate_even_after_revocation,
    the_stored_hash_is_the_spec_hash_and_never_the_secret,
    revoke_records_who_and_is_not_found_the_second_time,
    a_hand_made_revocation_is_filled_in_audited_and_seen_by_the_poller,
    hand_made_sql_cannot_reactivate_delete_rewrite_or_upsert,
    listing_pages_in_registration_order_with_filters,
    usage_is_recorded_and_never_goes_backwards,
    accounts_round_trip,
    a_batch_is_one_transaction_where_a_duplicate_fails_alone,
    cached_credentials_are_reread_together,
    the_revocation_probe_changes_nothing,
    the_change_feed_starts_at_the_open_and_returns_each_event_once,
    a_registration_stores_every_field_and_auth_entry_reads_them_in_one_row,
    a_registration_by_a_credential_is_audited_with_its_key_and_forgets_it,
    a_hand_made_update_is_audited_as_db_with_its_changes,
    an_api_update_is_audited_with_its_actor_and_a_later_hand_made_one_as_db,
    a_revoked_credential_cannot_be_changed,
    expired_active_revoked_and_all_are_listed_in_keyset_pages,
    audit_pages_are_newest_first_with_an_api_key_filter,
    the_active_limit_is_enforced_inside_the_registration_transaction,
    the_active_limit_holds_against_concurrent_registrations_from_two_processes_worth_of_connections,
    a_first_only_registration_is_stored_only_while_no_credential_is_active,
    of_first_only_registrations_sent_at_once_from_two_processes_exactly_one_is_stored,
    update_events_reach_the_poller_like_revocations,
    a_large_usage_batch_is_written_whole,
    an_update_of_last_used_at_with_anything_else_meets_every_rule,
    malformed_policy_values_are_refused_by_the_database_on_insert_and_update,
);

fn new_credential(label: Option<&str>) -> NewCredential {
    let api_key = ApiKey::generate();
    let secret = ApiSecret::parse(&format!("sk_{}", "ab".repeat(32))).unwrap();
    NewCredential::new(api_key, secret.hash(), label.map(str::to_owned))
}

/// The next changes that hold an event: a backend may deliver a change made by another
/// connection a moment later (PostgreSQL: when its notification arrives, or within a second).
fn next_changes(store: &dyn CredentialStore) -> et_store::Changes {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let changes = store.poll_changes().unwrap();
        if !changes.events.is_empty() || std::time::Instant::now() > deadline {
            return changes;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// The newest `limit` audit events, optionally of one key.
fn audit(store: &dyn CredentialStore, api_key: Option<&str>, limit: u32) -> Vec<AuditEvent> {
    store.audit_page(api_key, limit, None).unwrap().0
}

/// Two registered credentials, labelled "keep" and "revoked", the second revoked by "ak_operator".
fn kept_and_revoked(store: &dyn CredentialStore) -> (NewCredential, NewCredential) {
    let keep = new_credential(Some("keep"));
    let revoked = new_credential(Some("revoked"));
    store.register(&keep).unwrap();
    store.register(&revoked).unwrap();
    store.revoke(revoked.api_key.as_str(), "ak_operator", None).unwrap();
    (keep, revoked)
}

/// Runs each hand-made statement through the backend's own shell: each is refused with an error
/// that contains the text paired with it, and leaves every credential and the audit trail as they were.
fn each_is_refused_and_changes_nothing(b: &dyn Backend, store: &dyn CredentialStore, attempts: &[(String, &str)]) {
    let snapshot = || format!("{:?} {:?}", store.list(StatusFilter::All, 100, None).unwrap(), audit(store, None, 100));
    let before = snapshot();
    for (sql, says) in attempts {
        let refusal = b.sql(sql).expect_err(sql);
        assert!(refusal.contains(says), "{sql}: {refusal}");
        assert_eq!(snapshot(), before, "changed by {sql}");
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn net(text: &str) -> IpNet {
    et_store::parse_ip_net(text).unwrap()
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

fn register_then_duplicate_even_after_revocation(b: &dyn Backend) {
    let store = b.store();
    let c = new_credential(Some("billing"));
    let rec = store.register(&c).unwrap();
    assert_eq!(rec.api_key, c.api_key.as_str());
    assert_eq!(rec.label.as_deref(), Some("billing"));
    assert!(rec.active);
    assert!(
        rec.created_at.ends_with('Z') && rec.created_at.contains('T') && rec.created_at.len() == 24,
        "{}",
        rec.created_at
    );
    assert!(matches!(store.register(&c), Err(StoreError::Duplicate)));
    store.revoke(c.api_key.as_str(), "ak_someone", None).unwrap();
    assert!(matches!(store.register(&c), Err(StoreError::Duplicate)));
}

fn the_stored_hash_is_the_spec_hash_and_never_the_secret(b: &dyn Backend) {
    let store = b.store();
    let secret = ApiSecret::parse("sk_503baa03e200179d94e68a83c1b510594e56fd9ff84ce7ef436335c0399f797c").unwrap();
    let key = ApiKey::parse("ak_000102030405060708090a0b0c0d0e0fd65df89f").unwrap();
    store.register(&NewCredential::new(key.clone(), secret.hash(), None)).unwrap();
    let stored = b.count(
        "SELECT count(*) FROM api_credential WHERE api_secret_hash = '684973506859df19ac316208329d03b18da03ecbd11ef2db0561ac72602000c0'",
    );
    assert_eq!(stored, 1);
    let entry = store.auth_entry(key.as_str()).unwrap().unwrap();
    assert!(entry.secret_hash.unwrap().ct_matches(&SecretHash::of(secret.expose())));
    assert!(entry.active);
    assert!(store.auth_entry(ApiKey::generate().as_str()).unwrap().is_none());
}

fn revoke_records_who_and_is_not_found_the_second_time(b: &dyn Backend) {
    let store = b.store();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let rec = store.revoke(c.api_key.as_str(), "ak_operator", Some("left the company")).unwrap();
    assert!(!rec.active);
    assert_eq!(rec.revoked_by.as_deref(), Some("ak_operator"));
    assert!(rec.revoked_at.is_some());
    assert!(matches!(store.revoke(c.api_key.as_str(), "ak_operator", None), Err(StoreError::NotFound)));
    assert!(matches!(store.revoke(ApiKey::generate().as_str(), "ak_operator", None), Err(StoreError::NotFound)));
    assert!(!store.auth_entry(c.api_key.as_str()).unwrap().unwrap().active);

    let trail = audit(store, Some(c.api_key.as_str()), 10);
    let actions: Vec<(&str, &str, Option<&str>)> =
        trail.iter().map(|e| (e.action.as_str(), e.actor.as_str(), e.reason.as_deref())).collect();
    assert_eq!(actions, [("revoke", "ak_operator", Some("left the company")), ("register", "api", None)]);
    assert_eq!(audit(store, None, 1).len(), 1);
}

fn a_hand_made_revocation_is_filled_in_audited_and_seen_by_the_poller(b: &dyn Backend) {
    let store = b.store();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let first = store.poll_changes().unwrap();
    assert_eq!(first.events.len(), 1, "the registration is an event");
    assert!(first.committed && !first.schema_changed && !first.more);

    b.sql(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", c.api_key)).unwrap();

    let rec = store.get(c.api_key.as_str()).unwrap().unwrap();
    assert!(!rec.active);
    assert_eq!(rec.revoked_by.as_deref(), Some("db"));
    assert!(rec.revoked_at.as_deref().is_some_and(|t| t.ends_with('Z')));
    let events = next_changes(store).events;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].action.as_str(), events[0].actor.as_str()), ("revoke", "db"));
    assert_eq!(events[0].api_key, c.api_key.as_str());
    let nothing = store.poll_changes().unwrap();
    assert!(nothing.events.is_empty() && !nothing.committed, "nothing new, nothing reported");
}

fn hand_made_sql_cannot_reactivate_delete_rewrite_or_upsert(b: &dyn Backend) {
    let store = b.store();
    let (keep, revoked) = kept_and_revoked(store);
    let (r, k) = (revoked.api_key.as_str(), keep.api_key.as_str());
    let other = ApiKey::generate();
    let hash = "a".repeat(64);
    let attempts = [
        (format!("UPDATE api_credential SET active = true WHERE api_key = '{r}'"), "revocation is permanent"),
        (
            format!(
                "INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{r}', '{hash}') ON CONFLICT (api_key) DO UPDATE SET active = true"
            ),
            "already registered",
        ),
        (
            format!(
                "INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{k}', '{hash}') ON CONFLICT (api_key) DO UPDATE SET api_secret_hash = excluded.api_secret_hash"
            ),
            "already registered",
        ),
        (
            format!(
                "INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{r}', '{hash}') ON CONFLICT DO NOTHING"
            ),
            "already registered",
        ),
        (format!("UPDATE api_credential SET api_secret_hash = '{hash}' WHERE api_key = '{k}'"), "never change"),
        (format!("UPDATE api_credential SET api_key = '{other}' WHERE api_key = '{k}'"), "never change"),
        (format!("INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{other}', 'short')"), ""),
        (format!("INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{other}', '{}')", "A".repeat(64)), ""),
        (format!("DELETE FROM api_credential WHERE api_key = '{r}'"), "never deleted"),
        ("DELETE FROM api_credential".to_owned(), "never deleted"),
        ("INSERT INTO credential_audit (id, api_key, action, actor) VALUES (1000, 'x', 'revoke', 'x')".to_owned(), ""),
        ("UPDATE credential_audit SET actor = 'x'".to_owned(), "append-only"),
        ("DELETE FROM credential_audit".to_owned(), "append-only"),
    ];
    each_is_refused_and_changes_nothing(b, store, &attempts);
    // What stays allowed: a registration, a revocation with a label, a hand-made audit note.
    b.sql(&format!("INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{other}', '{hash}')")).unwrap();
    b.sql(&format!("UPDATE api_credential SET active = false, label = 'gone' WHERE api_key = '{k}'")).unwrap();
    b.sql("INSERT INTO credential_audit (api_key, action, actor) VALUES ('x', 'revoke', 'note')").unwrap();
    assert!(!store.auth_entry(k).unwrap().unwrap().active);
    assert!(store.auth_entry(other.as_str()).unwrap().unwrap().active);
    assert!(matches!(store.register(&revoked), Err(StoreError::Duplicate)));
    let answers = store.register_many(&[new_credential(None), keep.clone()], None);
    assert!(answers[0].is_ok() && matches!(answers[1], Err(StoreError::Duplicate)));
    assert_eq!(b.count("SELECT count(*) FROM credential_audit WHERE action = 'register' AND actor = 'api'"), 4);
}

fn listing_pages_in_registration_order_with_filters(b: &dyn Backend) {
    let store = b.store();
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
    assert!(store.list(StatusFilter::Expired, 10, None).unwrap().0.is_empty());
    assert_eq!(store.list(StatusFilter::All, 100, None).unwrap().0.len(), 7);
    assert!(matches!(
        store.list(StatusFilter::All, 10, Some(ApiKey::generate().as_str())),
        Err(StoreError::UnknownCursor(_))
    ));
    let counts = store.counts().unwrap();
    assert_eq!((counts.active, counts.revoked), (5, 2));
}

fn usage_is_recorded_and_never_goes_backwards(b: &dyn Backend) {
    let store = b.store();
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
    // Usage is no audited change.
    assert_eq!(audit(store, Some(&key), 10).len(), 1);
}

fn accounts_round_trip(b: &dyn Backend) {
    let store = b.store();
    let a = store.create_account("cash", "ak_x").unwrap();
    assert!(a.id.starts_with("acc_"));
    assert_eq!(store.get_account(&a.id).unwrap(), Some(a.clone()));
    assert_eq!(store.get_account("acc_missing").unwrap(), None);
    let c = store.create_account("bank", "ak_x").unwrap();
    let (page, next) = store.list_accounts(1, None).unwrap();
    assert_eq!((page, next.clone()), (vec![a.clone()], Some(a.id.clone())));
    assert_eq!(store.list_accounts(10, next.as_deref()).unwrap(), (vec![c], None));
}

fn a_batch_is_one_transaction_where_a_duplicate_fails_alone(b: &dyn Backend) {
    let store = b.store();
    let (x, y, z) = (new_credential(Some("a")), new_credential(None), new_credential(Some("c")));
    store.register(&y).unwrap();
    let answers = store.register_many(&[x.clone(), y.clone(), z.clone()], None);
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0].as_ref().unwrap().api_key, x.api_key.as_str());
    assert!(matches!(answers[1], Err(StoreError::Duplicate)));
    assert_eq!(answers[2].as_ref().unwrap().label.as_deref(), Some("c"));
    // Both new ones are stored and audited, seen from another connection (so committed).
    assert_eq!(b.count("SELECT count(*) FROM api_credential"), 3);
    assert_eq!(b.count("SELECT count(*) FROM credential_audit WHERE action = 'register'"), 3);
    // A duplicate within one batch: the first wins.
    let d = new_credential(None);
    let answers = store.register_many(&[d.clone(), d.clone()], None);
    assert!(answers[0].is_ok() && matches!(answers[1], Err(StoreError::Duplicate)));
    // A batch of duplicates only stores nothing and fails each alone.
    let answers = store.register_many(&[d.clone(), y.clone()], None);
    assert!(answers.iter().all(|a| matches!(a, Err(StoreError::Duplicate))));
    assert_eq!(b.count("SELECT count(*) FROM api_credential"), 4);
}

fn cached_credentials_are_reread_together(b: &dyn Backend) {
    let store = b.store();
    let (x, y) = (new_credential(Some("a")), new_credential(None));
    store.register(&x).unwrap();
    store.register(&y).unwrap();
    store.revoke(y.api_key.as_str(), "ak_x", None).unwrap();
    let unknown = ApiKey::generate();
    let rows = store.auth_entries(&[x.api_key.as_str(), unknown.as_str(), y.api_key.as_str()]).unwrap();
    assert!(rows[0].as_ref().is_some_and(|r| r.active && r.label.as_deref() == Some("a")));
    assert!(rows[1].is_none());
    assert!(rows[2].as_ref().is_some_and(|r| !r.active));
}

fn the_revocation_probe_changes_nothing(b: &dyn Backend) {
    let store = b.store();
    store.check_revocable().unwrap();
    let c = new_credential(None);
    store.register(&c).unwrap();
    store.poll_changes().unwrap();
    let before = (store.get(c.api_key.as_str()).unwrap(), audit(store, None, 10));
    store.check_revocable().unwrap();
    store.check_write().unwrap();
    store.check().unwrap();
    assert_eq!(
        format!("{:?}", (store.get(c.api_key.as_str()).unwrap(), audit(store, None, 10))),
        format!("{before:?}")
    );
    assert!(store.poll_changes().unwrap().events.is_empty(), "a rolled-back probe is no event");
}

fn the_change_feed_starts_at_the_open_and_returns_each_event_once(b: &dyn Backend) {
    let store = b.store();
    // What the store's own writes and hand-made SQL append, each once, in order.
    let (x, y) = (new_credential(None), new_credential(None));
    store.register(&x).unwrap();
    b.sql(&format!(
        "INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{}', '{}')",
        y.api_key,
        "b".repeat(64)
    ))
    .unwrap();
    store.revoke(x.api_key.as_str(), "ak_x", None).unwrap();
    let mut events = Vec::new();
    loop {
        let changes = store.poll_changes().unwrap();
        events.extend(changes.events);
        if !changes.more {
            break;
        }
    }
    let got: Vec<(String, String)> = events.iter().map(|e| (e.api_key.clone(), e.action.clone())).collect();
    assert_eq!(
        got,
        [
            (x.api_key.to_string(), "register".to_owned()),
            (y.api_key.to_string(), "register".to_owned()),
            (x.api_key.to_string(), "revoke".to_owned())
        ]
    );
    assert!(store.poll_changes().unwrap().events.is_empty());
}

fn a_registration_stores_every_field_and_auth_entry_reads_them_in_one_row(b: &dyn Backend) {
    let store = b.store();
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
    // A backend may answer auth_entry_now with None (ask on a blocking thread); an answer agrees.
    if let Some(now) = store.auth_entry_now(c.api_key.as_str()) {
        assert_eq!(now.unwrap().unwrap(), entry);
    }
    assert_eq!(store.auth_entries(&[c.api_key.as_str()]).unwrap()[0].as_ref(), Some(&entry));

    // A default registration: the column defaults, and what they mean.
    let plain = new_credential(None);
    let rec = store.register(&plain).unwrap();
    assert_eq!(
        (rec.scopes.len(), rec.expires_at.as_deref(), rec.allowed_ips.len(), rec.rate_limit),
        (4, None, 0, None)
    );
    let stored = b.count(&format!(
        r#"SELECT count(*) FROM api_credential WHERE api_key = '{}'
             AND scopes = '["accounts:read","accounts:write","credentials:read","credentials:write"]'
             AND allowed_ips = '[]'"#,
        plain.api_key
    ));
    assert_eq!(stored, 1, "the column defaults");

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

fn a_registration_by_a_credential_is_audited_with_its_key_and_forgets_it(b: &dyn Backend) {
    let store = b.store();
    let c = NewCredential { registered_by: Some("ak_registrar".into()), ..new_credential(None) };
    store.register_many(&[c.clone(), new_credential(None)], None).into_iter().for_each(|r| drop(r.unwrap()));
    let events = audit(store, None, 10);
    let actors: Vec<&str> = events.iter().rev().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, ["ak_registrar", "api"]);
    let left = b.count("SELECT count(*) FROM api_credential WHERE updated_by IS NOT NULL");
    assert_eq!(left, 0, "the actor is not left for a later hand-made change");
    b.sql_ok(&format!("UPDATE api_credential SET label = 'x' WHERE api_key = '{}'", c.api_key));
    assert_eq!(audit(store, Some(c.api_key.as_str()), 1)[0].actor, "db");
}

fn a_hand_made_update_is_audited_as_db_with_its_changes(b: &dyn Backend) {
    let store = b.store();
    let c = new_credential(Some("billing"));
    store.register(&c).unwrap();
    store.poll_changes().unwrap();
    let key = c.api_key.as_str();
    b.sql_ok(&format!(
        "UPDATE api_credential SET expires_at = '2030-01-01T00:00:00Z', scopes = '[\"accounts:read\"]', \
             allowed_ips = '[\"127.0.0.2/32\"]', rate_limit = 100, rate_limit_window_s = 60 WHERE api_key = '{key}'"
    ));
    let events = next_changes(store).events;
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
    b.sql_ok(&format!("UPDATE api_credential SET expires_at = '2030-01-01T01:00:00+01:00' WHERE api_key = '{key}'"));
    let e = &next_changes(store).events[0];
    assert_eq!(e.changes.as_ref().unwrap()["expires_at"]["to"], "2030-01-01T00:00:00.000Z");
    assert_eq!(store.auth_entry(key).unwrap().unwrap().expires_ms, Some(1_893_456_000_000), "the same instant");
    b.sql_ok(&format!(
        "UPDATE api_credential SET rate_limit = NULL, rate_limit_window_s = NULL WHERE api_key = '{key}'"
    ));
    let e = &next_changes(store).events[0];
    assert_eq!(
        e.changes,
        Some(serde_json::json!({"rate_limit": {"from": {"limit": 100, "window_s": 60}, "to": null}}))
    );
    // An UPDATE that changes nothing is no event.
    b.sql_ok(&format!("UPDATE api_credential SET scopes = scopes, label = label WHERE api_key = '{key}'"));
    assert!(store.poll_changes().unwrap().events.is_empty());
}

fn an_api_update_is_audited_with_its_actor_and_a_later_hand_made_one_as_db(b: &dyn Backend) {
    let store = b.store();
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
    let e = &audit(store, Some(key), 1)[0];
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
    let before = audit(store, None, 100).len();
    store
        .update(key, &CredentialUpdate { label: Some(Some("ops, read only".into())), ..Default::default() }, "ak_admin")
        .unwrap();
    assert_eq!(audit(store, None, 100).len(), before);
    b.sql_ok(&format!("UPDATE api_credential SET label = 'by hand' WHERE api_key = '{key}'"));
    let e = &audit(store, Some(key), 1)[0];
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

fn a_revoked_credential_cannot_be_changed(b: &dyn Backend) {
    let store = b.store();
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
        let (ok, err) = b.sql_result(&format!("UPDATE api_credential SET {set} WHERE api_key = '{key}'"));
        assert!(!ok && err.contains("a revoked credential cannot be changed"), "{set}: {err}");
    }
    assert_eq!(store.get(key).unwrap().unwrap(), before);
    assert_eq!(audit(store, Some(key), 10).len(), 2, "register and revoke only");
}

fn expired_active_revoked_and_all_are_listed_in_keyset_pages(b: &dyn Backend) {
    let store = b.store();
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

fn audit_pages_are_newest_first_with_an_api_key_filter(b: &dyn Backend) {
    let store = b.store();
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

fn the_active_limit_is_enforced_inside_the_registration_transaction(b: &dyn Backend) {
    let store = b.store();
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

fn the_active_limit_holds_against_concurrent_registrations_from_two_processes_worth_of_connections(b: &dyn Backend) {
    let store = b.store();
    // A second store on the same database stands for another ledgerd (or etctl) process: its own
    // connections, its own transactions.
    let other = b.reopen();
    let other = other.as_ref();
    const MAX: u64 = 25;
    let accepted = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        for store in [store, other, store, other] {
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

fn a_first_only_registration_is_stored_only_while_no_credential_is_active(b: &dyn Backend) {
    let store = b.store();
    let first = |c: NewCredential| NewCredential { first_only: true, ..c };
    // Revoked and expired credentials do not count: the ledger has no active one.
    let revoked = new_credential(None);
    store.register(&revoked).unwrap();
    store.revoke(revoked.api_key.as_str(), "ak_x", None).unwrap();
    store.register(&NewCredential { expires_at: Some(now_ms() - 1), ..new_credential(None) }).unwrap();
    // Two in one batch: the first is stored, the second finds it.
    let batch = [first(new_credential(Some("a"))), first(new_credential(Some("b"))), new_credential(Some("c"))];
    let answers = store.register_many(&batch, None);
    assert!(answers[0].is_ok(), "{answers:?}");
    assert!(matches!(answers[1], Err(StoreError::NotFirst)), "{answers:?}");
    assert!(answers[2].is_ok(), "one that is not first_only is stored as always: {answers:?}");
    assert!(store.get(batch[1].api_key.as_str()).unwrap().is_none(), "a refused one is not stored");
    // Alone, through either call, once a credential is active.
    assert!(matches!(store.register(&first(new_credential(None))), Err(StoreError::NotFirst)));
    assert!(matches!(store.register_many(&[first(new_credential(None))], Some(100))[0], Err(StoreError::NotFirst)));
    assert!(!StoreError::NotFirst.is_fault());
}

fn of_first_only_registrations_sent_at_once_from_two_processes_exactly_one_is_stored(b: &dyn Backend) {
    let store = b.store();
    let other = b.reopen();
    let other = other.as_ref();
    for _ in 0..5 {
        let stored = std::sync::atomic::AtomicU64::new(0);
        let before = store.count_active().unwrap();
        std::thread::scope(|s| {
            for store in [store, other, store, other, store, other] {
                let stored = &stored;
                s.spawn(move || {
                    let c = NewCredential { first_only: true, ..new_credential(None) };
                    match store.register_many(std::slice::from_ref(&c), None).pop().unwrap() {
                        Ok(_) => drop(stored.fetch_add(1, std::sync::atomic::Ordering::SeqCst)),
                        Err(StoreError::NotFirst) => {}
                        Err(e) => panic!("{e}"),
                    }
                });
            }
        });
        let stored = stored.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(stored, u64::from(before == 0), "six at once with {before} active: {stored} stored");
        // Empty the ledger again for the next round.
        let (active, _) = store.list(StatusFilter::Active, 100, None).unwrap();
        for rec in active {
            store.revoke(rec.api_key.as_str(), "ak_x", None).unwrap();
        }
    }
}

fn update_events_reach_the_poller_like_revocations(b: &dyn Backend) {
    // The watcher evicts the key of every event but a registration; an `update` must be one.
    let store = b.store();
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

fn a_large_usage_batch_is_written_whole(b: &dyn Backend) {
    // More uses than one chunk's transaction takes (SQLite), in no particular key order: every one lands.
    let store = b.store();
    let keys: Vec<String> = (0..1_000)
        .map(|_| {
            let c = new_credential(None);
            store.register(&c).unwrap();
            c.api_key.as_str().to_owned()
        })
        .collect();
    let uses: Vec<(String, i64)> = keys.iter().rev().map(|k| (k.clone(), 1_700_000_000_123)).collect();
    store.record_usage(&uses).unwrap();
    assert_eq!(b.count("SELECT count(*) FROM api_credential WHERE last_used_at = '2023-11-14T22:13:20.123Z'"), 1_000);
    // The writer goes on serving registrations and revocations after the batch.
    let c = new_credential(None);
    store.register(&c).unwrap();
    store.revoke(c.api_key.as_str(), "test", None).unwrap();
}

/// An UPDATE of last_used_at alone is the housekeeper's and runs no rule (PostgreSQL migration 4
/// skips the triggers for it; SQLite's are all `UPDATE OF` other columns), but one that also sets
/// anything else meets every rule, as without last_used_at: no reactivation, no rewritten hash, no
/// change to a revoked credential, no malformed policy; a revocation is filled in and audited.
fn an_update_of_last_used_at_with_anything_else_meets_every_rule(b: &dyn Backend) {
    let store = b.store();
    let (keep, revoked) = kept_and_revoked(store);
    let (r, k) = (revoked.api_key.as_str(), keep.api_key.as_str());
    let used = "last_used_at = '2030-01-01T00:00:00.000Z'";
    let hash = "a".repeat(64);
    let attempts = [
        (format!("UPDATE api_credential SET {used}, active = true WHERE api_key = '{r}'"), "revocation is permanent"),
        (format!("UPDATE api_credential SET active = true, {used} WHERE api_key = '{r}'"), "revocation is permanent"),
        (format!("UPDATE api_credential SET {used}, api_secret_hash = '{hash}' WHERE api_key = '{k}'"), "never change"),
        (format!("UPDATE api_credential SET {used}, api_secret_hash = '{hash}' WHERE api_key = '{r}'"), "never change"),
        (format!("UPDATE api_credential SET {used}, label = 'back' WHERE api_key = '{r}'"), "cannot be changed"),
        (format!("UPDATE api_credential SET {used}, scopes = '[]' WHERE api_key = '{r}'"), "cannot be changed"),
        (format!("UPDATE api_credential SET {used}, scopes = '[\"root\"]' WHERE api_key = '{k}'"), "scopes"),
        (format!("UPDATE api_credential SET {used}, expires_at = 'soon' WHERE api_key = '{k}'"), "expires_at"),
        (
            format!("UPDATE api_credential SET {used}, allowed_ips = '[\"010.0.0.1\"]' WHERE api_key = '{k}'"),
            "allowed_ips",
        ),
        (
            format!("UPDATE api_credential SET {used}, rate_limit = 0, rate_limit_window_s = 1 WHERE api_key = '{k}'"),
            "rate_limit",
        ),
    ];
    each_is_refused_and_changes_nothing(b, store, &attempts);
    // last_used_at alone is written, on a revoked credential too, and audited nowhere.
    b.sql_ok(&format!("UPDATE api_credential SET {used} WHERE api_key IN ('{r}', '{k}')"));
    assert_eq!(store.get(r).unwrap().unwrap().last_used_at.as_deref(), Some("2030-01-01T00:00:00.000Z"));
    assert_eq!(store.get(k).unwrap().unwrap().last_used_at.as_deref(), Some("2030-01-01T00:00:00.000Z"));
    assert_eq!(audit(store, None, 100).len(), 3, "two registrations and a revocation only");
    // With a label, the label change is audited (as db's); with active = false, a revocation is
    // filled in and audited.
    let later = "last_used_at = '2031-01-01T00:00:00.000Z'";
    b.sql_ok(&format!("UPDATE api_credential SET {later}, label = 'kept' WHERE api_key = '{k}'"));
    let e = audit(store, Some(k), 1).remove(0);
    assert_eq!((e.action.as_str(), e.actor.as_str()), ("update", "db"));
    assert_eq!(e.changes, Some(serde_json::json!({"label": {"from": "keep", "to": "kept"}})));
    b.sql_ok(&format!("UPDATE api_credential SET {used}, active = false WHERE api_key = '{k}'"));
    let record = store.get(k).unwrap().unwrap();
    assert!(!record.active && record.revoked_at.is_some(), "{record:?}");
    assert_eq!(record.revoked_by.as_deref(), Some("db"));
    let e = audit(store, Some(k), 1).remove(0);
    assert_eq!((e.action.as_str(), e.actor.as_str()), ("revoke", "db"));
}

/// SPEC §6 fields written by hand (sqlite3, psql) are validated by the database itself, on insert
/// and on update, with a refusal naming the field, and change nothing; what is well formed is taken.
/// (store.rs adds SQLite's `ignore_check_constraints` and the untyped values only SQLite accepts.)
fn malformed_policy_values_are_refused_by_the_database_on_insert_and_update(b: &dyn Backend) {
    let store = b.store();
    let c = new_credential(None);
    store.register(&c).unwrap();
    let key = c.api_key.as_str();
    let state = || format!("{:?} {}", store.get(key).unwrap(), b.count("SELECT count(*) FROM credential_audit"));
    let before = state();
    let hash = "a".repeat(64);
    // (column assignments, the word the refusal must contain)
    let bad: &[(&str, &str)] = &[
        ("expires_at = 'tomorrow'", "expires_at"),
        ("expires_at = 'now'", "expires_at"),
        ("expires_at = '2030-13-01T00:00:00Z'", "expires_at"),
        ("scopes = '[\"accounts:delete\"]'", "scopes"),
        ("scopes = 'accounts:read'", "scopes"),
        ("scopes = '{\"accounts:read\": true}'", "scopes"),
        ("scopes = '[1]'", "scopes"),
        ("scopes = NULL", "scopes"),
        ("allowed_ips = '[\"localhost\"]'", "allowed_ips"),
        ("allowed_ips = '[\"10.0.0.0/33\"]'", "allowed_ips"),
        ("allowed_ips = '[\"256.0.0.1\"]'", "allowed_ips"),
        ("allowed_ips = '[\"010.0.0.1\"]'", "allowed_ips"),
        ("allowed_ips = '[\"10/8\"]'", "allowed_ips"),
        ("allowed_ips = '[\"10.0.0.0/08\"]'", "allowed_ips"),
        ("allowed_ips = '[\"::ffff:1.2.3.04\"]'", "allowed_ips"),
        ("allowed_ips = '[\"1::2::3\"]'", "allowed_ips"),
        ("allowed_ips = '[\"::1/129\"]'", "allowed_ips"),
        ("allowed_ips = '10.0.0.0/8'", "allowed_ips"),
        ("allowed_ips = '[[\"10.0.0.0/8\"]]'", "allowed_ips"),
        ("rate_limit = 10", "rate_limit"),
        ("rate_limit_window_s = 10", "rate_limit"),
        ("rate_limit = 0, rate_limit_window_s = 10", "rate_limit"),
        ("rate_limit = 10, rate_limit_window_s = 86401", "rate_limit"),
        ("rate_limit = 1000001, rate_limit_window_s = 1", "rate_limit"),
    ];
    for (set, word) in bad {
        let err = b.sql(&format!("UPDATE api_credential SET {set} WHERE api_key = '{key}'")).expect_err(set);
        assert!(err.contains(word), "UPDATE {set}: {err}");
        assert_eq!(state(), before, "changed by UPDATE {set}");
        let (columns, values): (Vec<&str>, Vec<&str>) = set.split(", ").map(|a| a.split_once(" = ").unwrap()).unzip();
        let other = ApiKey::generate();
        let err = b
            .sql(&format!(
                "INSERT INTO api_credential (api_key, api_secret_hash, {}) VALUES ('{other}', '{hash}', {})",
                columns.join(", "),
                values.join(", ")
            ))
            .expect_err(set);
        assert!(err.contains(word), "INSERT {set}: {err}");
        assert!(store.get(other.as_str()).unwrap().is_none());
    }
    let good: &[&str] = &[
        "expires_at = '2030-01-01T00:00:00.000Z'",
        "expires_at = NULL",
        "scopes = '[]'",
        "scopes = '[\"credentials:write\",\"accounts:read\"]'",
        "allowed_ips = '[\"127.0.0.2\",\"10.0.0.0/8\",\"::1/128\",\"2001:db8::/32\",\"::/0\",\"0.0.0.0/0\"]'",
        "allowed_ips = '[\"::ffff:127.0.0.2\",\"255.255.255.255/32\",\"1:2:3:4:5:6:7:8\",\"::ffff:10.0.0.0/104\"]'",
        "allowed_ips = '[]'",
        "rate_limit = 1, rate_limit_window_s = 86400",
        "rate_limit = 1000000, rate_limit_window_s = 1",
        "rate_limit = NULL, rate_limit_window_s = NULL",
    ];
    for set in good {
        b.sql(&format!("UPDATE api_credential SET {set} WHERE api_key = '{key}'"))
            .unwrap_or_else(|e| panic!("UPDATE {set}: {e}"));
        let (columns, values): (Vec<&str>, Vec<&str>) = set.split(", ").map(|a| a.split_once(" = ").unwrap()).unzip();
        let other = ApiKey::generate();
        b.sql(&format!(
            "INSERT INTO api_credential (api_key, api_secret_hash, {}) VALUES ('{other}', '{hash}', {})",
            columns.join(", "),
            values.join(", ")
        ))
        .unwrap_or_else(|e| panic!("INSERT {set}: {e}"));
        assert!(store.auth_entry(other.as_str()).unwrap().is_some());
    }
    let entry = store.auth_entry(key).unwrap().unwrap();
    assert_eq!((entry.rate_limit, entry.expires_ms), (None, None), "the last good values are the ones read");
}
