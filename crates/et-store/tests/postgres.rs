//! What only the PostgreSQL backend has: migrations under an advisory lock and a refusal of a newer
//! schema, the connection URL (sslmode, several hosts), a change feed that misses no audit row
//! whose transaction commits out of id order, and a miss read awaited on the caller's runtime. The
//! rules both backends share are in conformance.rs.

use et_core::{ApiKey, ApiSecret};
use et_store::{CredentialStore, NewCredential, OpenMode, PgStore, StoreError};

fn new_credential() -> NewCredential {
    let secret = ApiSecret::parse(&format!("sk_{}", "cd".repeat(32))).unwrap();
    NewCredential::new(ApiKey::generate(), secret.hash(), None)
}

/// The keys of `n` credentials registered on `store`.
fn registered_keys(store: &PgStore, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let c = new_credential();
            store.register(&c).unwrap();
            c.api_key.as_str().to_owned()
        })
        .collect()
}

#[test]
fn replicas_starting_together_migrate_once() {
    let db = et_pgtest::database();
    let opened: Vec<_> = (0..6)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || PgStore::open(&url, OpenMode::CreateIfMissing).map(drop))
        })
        .collect();
    for o in opened {
        o.join().unwrap().unwrap();
    }
    let applied = db.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version").unwrap();
    let all: Vec<String> = (1..=et_store::PG_SCHEMA_VERSION).map(|v| v.to_string()).collect();
    assert_eq!(applied.trim(), all.join(","), "each migration once");
}

#[test]
fn a_replica_older_than_the_schema_refuses_to_start_and_says_so() {
    let db = et_pgtest::database();
    drop(PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap());
    db.psql("INSERT INTO schema_version (version) VALUES (99)").unwrap();
    let err = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("newer than this program understands") && message.contains("upgrade"), "{message}");
    assert!(!message.contains("password"), "{message}");
}

#[test]
fn etctl_db_mode_creates_nothing_and_a_foreign_database_is_refused() {
    let db = et_pgtest::database();
    let err = PgStore::open(&db.url, OpenMode::MustExist).unwrap_err();
    assert!(matches!(err, StoreError::NotALedgerDatabase { .. }), "{err}");
    assert_eq!(db.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").unwrap().trim(), "0");
    db.psql("CREATE TABLE api_credential (x int)").unwrap();
    let err = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap_err();
    assert!(matches!(err, StoreError::NotALedgerDatabase { .. }), "{err}");
}

#[test]
fn the_url_takes_sslmode_and_several_hosts() {
    let db = et_pgtest::database();
    let port = et_pgtest::server().port();
    let name = &db.name;
    // The test server has no TLS: prefer falls back to plain, require and verify-full refuse.
    PgStore::open(&format!("{}?sslmode=disable", db.url), OpenMode::CreateIfMissing).unwrap();
    PgStore::open(&format!("{}?sslmode=prefer", db.url), OpenMode::MustExist).unwrap();
    for mode in ["require", "verify-full"] {
        let err = PgStore::open(&format!("{}?sslmode={mode}", db.url), OpenMode::MustExist).unwrap_err();
        assert!(err.to_string().contains("TLS") || err.to_string().contains("tls"), "{mode}: {err}");
    }
    let err = PgStore::open(&format!("{}?sslmode=verify-ca", db.url), OpenMode::MustExist).unwrap_err();
    assert!(err.to_string().contains("sslmode=verify-ca is not supported"), "{err}");
    // The first host takes no connections: the second, writable one is used.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url =
        format!("postgresql://postgres@127.0.0.1:{closed},127.0.0.1:{port}/{name}?target_session_attrs=read-write");
    let store = PgStore::open(&url, OpenMode::MustExist).unwrap();
    store.register(&new_credential()).unwrap();
    // A password never shows in messages.
    let err = PgStore::open(&format!("postgres://postgres:hunter2@127.0.0.1:{closed}/{name}"), OpenMode::MustExist)
        .unwrap_err();
    assert!(!err.to_string().contains("hunter2") && !format!("{err:?}").contains("hunter2"), "{err}");
}

/// Audit ids are handed out at insert, not at commit: a revocation whose transaction holds a lower
/// id commits after one with a higher id. Reading "ids above the last seen" would lose it.
#[test]
fn an_audit_row_committed_out_of_id_order_is_not_missed() {
    let db = et_pgtest::database();
    let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
    let (slow, fast) = (new_credential(), new_credential());
    store.register(&slow).unwrap();
    store.register(&fast).unwrap();
    store.poll_changes().unwrap();
    let sleeper = {
        let db = db.clone();
        let key = slow.api_key.to_string();
        std::thread::spawn(move || {
            db.psql(&format!("UPDATE api_credential SET active = false WHERE api_key = '{key}'; SELECT pg_sleep(2)"))
        })
    };
    // Its audit row exists (uncommitted) before the other revocation takes the next id.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while db.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'").unwrap().trim() != "1" {
        assert!(std::time::Instant::now() < deadline, "the slow transaction did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    store.revoke(fast.api_key.as_str(), "ak_x", None).unwrap();
    let first = store.poll_changes().unwrap().events;
    assert_eq!(first.iter().map(|e| e.api_key.as_str()).collect::<Vec<_>>(), [fast.api_key.as_str()]);
    sleeper.join().unwrap().unwrap();
    let second = store.poll_changes().unwrap().events;
    assert_eq!(second.len(), 1);
    assert_eq!((second[0].api_key.as_str(), second[0].actor.as_str()), (slow.api_key.as_str(), "db"));
    assert!(second[0].id < first[0].id, "the late one has the lower id");
    assert!(store.poll_changes().unwrap().events.is_empty());
}

#[test]
fn the_audit_trail_is_read_in_pages() {
    let db = et_pgtest::database();
    let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
    db.psql(
        "INSERT INTO credential_audit (api_key, action, actor) \
         SELECT 'ak_' || i, 'register', 'import' FROM generate_series(1, 25001) i",
    )
    .unwrap();
    let mut pages = Vec::new();
    let mut ids = Vec::new();
    loop {
        let changes = store.poll_changes().unwrap();
        ids.extend(changes.events.iter().map(|e| e.id));
        pages.push(changes.events.len());
        if !changes.more {
            break;
        }
    }
    assert_eq!(pages, [10_000, 10_000, 5_001]);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 25_001, "each once");
    assert!(store.poll_changes().unwrap().events.is_empty());
}

/// The listener's connection killed (`pg_terminate_backend`) again and again while revocations are
/// made by hand: the feed still returns every one (each reconnection makes it read the trail, and a
/// read at least once a second does too).
#[test]
fn the_listener_killed_while_revocations_happen_misses_none() {
    let db = et_pgtest::database();
    let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
    let creds: Vec<NewCredential> = (0..9).map(|_| new_credential()).collect();
    for c in &creds {
        store.register(c).unwrap();
    }
    let listeners = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ledgerd-listener' AND datname = current_database()";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while db.psql(listeners).unwrap().trim() != "1" {
        assert!(std::time::Instant::now() < deadline, "the listener did not connect");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut revoked = std::collections::HashSet::new();
    let read = |revoked: &mut std::collections::HashSet<String>| {
        let changes = store.poll_changes().unwrap();
        revoked.extend(changes.events.into_iter().filter(|e| e.action == "revoke").map(|e| e.api_key));
    };
    for (i, c) in creds.iter().enumerate() {
        if i % 3 == 0 {
            db.psql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                  WHERE application_name = 'ledgerd-listener' AND datname = current_database()",
            )
            .unwrap();
        }
        db.psql(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", c.api_key)).unwrap();
        read(&mut revoked);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while revoked.len() < creds.len() {
        assert!(std::time::Instant::now() < deadline, "missed {} revocations", creds.len() - revoked.len());
        std::thread::sleep(std::time::Duration::from_millis(20));
        read(&mut revoked);
    }
    assert!(creds.iter().all(|c| revoked.contains(c.api_key.as_str())));
}

/// A notification wakes whoever polls the feed at once (ledgerd's watcher reads the trail then, not
/// at its next tick), and so does the listener losing its connection and listening again: what
/// was committed while it was away is read before anything else is trusted.
#[test]
fn a_notification_or_a_reconnected_listener_wakes_the_poller() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    let db = et_pgtest::database();
    let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = wakes.clone();
    store.wake_on_changes(Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    let woken_after = |before: usize| {
        let start = Instant::now();
        while wakes.load(Ordering::SeqCst) == before {
            assert!(start.elapsed() < Duration::from_secs(10), "the poller was not woken");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    let listeners = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ledgerd-listener' AND datname = current_database()";
    let wait_listening = || {
        let start = Instant::now();
        while db.psql(listeners).unwrap().trim() != "1" {
            assert!(start.elapsed() < Duration::from_secs(30), "the listener did not connect");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_listening();
    let c = new_credential();
    store.register(&c).unwrap();
    store.poll_changes().unwrap();

    // A revocation by hand in psql: woken, without polling, and the next poll returns it.
    let before = wakes.load(Ordering::SeqCst);
    db.psql(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", c.api_key)).unwrap();
    woken_after(before);
    let events = store.poll_changes().unwrap().events;
    assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["revoke"]);

    // The listener's backend killed: woken when it is lost and again once it listens again.
    let before = wakes.load(Ordering::SeqCst);
    db.psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
          WHERE application_name = 'ledgerd-listener' AND datname = current_database()",
    )
    .unwrap();
    let d = new_credential();
    db.psql(&format!(
        "INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{}', '{}')",
        d.api_key,
        d.secret_hash.to_hex()
    ))
    .unwrap();
    woken_after(before);
    wait_listening();
    let start = Instant::now();
    while wakes.load(Ordering::SeqCst) < before + 2 {
        assert!(start.elapsed() < Duration::from_secs(10), "not woken when the listener listened again");
        std::thread::sleep(Duration::from_millis(2));
    }
    let events = store.poll_changes().unwrap().events;
    assert_eq!(
        events.iter().map(|e| (e.action.as_str(), e.api_key.as_str())).collect::<Vec<_>>(),
        [("register", d.api_key.as_str())]
    );
}

/// The triggers, functions and table constraints that keep the rules are compared with what the
/// migrations make, as on SQLite: one disabled, dropped, made again differently, pointed at another
/// function, left unvalidated or replaced by another body is missing; one added by hand is unexpected. A trigger disabled and
/// enabled again around an update, in one transaction, leaves them intact but is a schema change.
#[test]
fn the_triggers_and_functions_are_compared_with_what_the_migrations_made() {
    let db = et_pgtest::database();
    let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
    let ok = |sql: &str| db.psql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let missing = || store.safeguards().unwrap().missing;
    assert!(store.safeguards().unwrap().intact(), "{:?}", store.safeguards());
    assert_eq!(ok("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ledgerd_expected%'").trim(), "0");

    ok("ALTER TABLE api_credential DISABLE TRIGGER api_credential_revoked");
    assert_eq!(missing(), ["api_credential_revoked (disabled)"]);
    ok("ALTER TABLE api_credential ENABLE TRIGGER api_credential_revoked");
    assert!(store.safeguards().unwrap().intact());
    ok("ALTER TABLE credential_audit DISABLE TRIGGER USER");
    assert_eq!(missing().len(), 4, "{:?}", missing());
    ok("ALTER TABLE credential_audit ENABLE TRIGGER USER");

    let def = ok("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'api_credential_revoked'");
    ok("DROP TRIGGER api_credential_revoked ON api_credential");
    assert_eq!(missing(), ["api_credential_revoked"]);
    // Made again on other events: still missing; as it was: intact.
    ok(&def.trim().replace("UPDATE OF active", "UPDATE OF label"));
    assert_eq!(missing(), ["api_credential_revoked"]);
    ok(&format!("DROP TRIGGER api_credential_revoked ON api_credential; {}", def.trim()));
    assert!(store.safeguards().unwrap().intact());

    // The same name in another schema, or another body: missing.
    ok("CREATE SCHEMA elsewhere; CREATE FUNCTION elsewhere.api_credential_revoked() RETURNS trigger \
        LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$");
    ok(&format!(
        "DROP TRIGGER api_credential_revoked ON api_credential; {}",
        def.trim()
            .replace("EXECUTE FUNCTION api_credential_revoked", "EXECUTE FUNCTION elsewhere.api_credential_revoked")
    ));
    assert_eq!(missing(), ["api_credential_revoked"]);
    ok(&format!("DROP TRIGGER api_credential_revoked ON api_credential; {}", def.trim()));
    let body = ok("SELECT pg_get_functiondef('api_credential_rules'::regproc)");
    ok(&body.replace("revocation is permanent", "revocation is for now"));
    assert_eq!(missing(), ["function api_credential_rules()"]);
    ok(&body);
    assert!(store.safeguards().unwrap().intact());

    // A table constraint dropped, or put back unvalidated: missing; put back as it was: intact.
    ok("ALTER TABLE api_credential DROP CONSTRAINT api_credential_api_secret_hash_check");
    assert_eq!(missing(), ["constraint api_credential_api_secret_hash_check on api_credential"]);
    let check = "ALTER TABLE api_credential ADD CONSTRAINT api_credential_api_secret_hash_check \
                 CHECK (api_secret_hash ~ '^[0-9a-f]{64}$')";
    ok(&format!("{check} NOT VALID"));
    assert_eq!(missing(), ["constraint api_credential_api_secret_hash_check on api_credential"]);
    ok(&format!("ALTER TABLE api_credential DROP CONSTRAINT api_credential_api_secret_hash_check; {check}"));
    assert!(store.safeguards().unwrap().intact(), "{:?}", store.safeguards());

    ok("CREATE FUNCTION quiet() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; \
        CREATE TRIGGER quiet BEFORE INSERT ON credential_audit FOR EACH ROW EXECUTE FUNCTION quiet()");
    let found = store.safeguards().unwrap();
    assert_eq!((found.missing.len(), found.unexpected.as_slice()), (0, ["quiet".to_owned()].as_slice()));
    ok("DROP TRIGGER quiet ON credential_audit");
    assert!(store.safeguards().unwrap().intact());

    // Disabled and enabled again around an update, in one transaction: intact, but the next look
    // at the catalog (at most half a second on) says the schema changed.
    let c = new_credential();
    store.register(&c).unwrap();
    while store.poll_changes().unwrap().more {}
    ok(&format!(
        "BEGIN; ALTER TABLE api_credential DISABLE TRIGGER USER; \
         UPDATE api_credential SET active = false WHERE api_key = '{}'; \
         ALTER TABLE api_credential ENABLE TRIGGER USER; COMMIT",
        c.api_key
    ));
    assert!(store.safeguards().unwrap().intact());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let changes = store.poll_changes().unwrap();
        assert!(changes.events.is_empty(), "no audit row was written");
        if changes.schema_changed {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the schema change was not seen");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A role that may create tables in its schema but not schemas in the database (not its owner)
/// runs the ledger, but what the migrations make cannot be read to compare with: every safeguard
/// is reported missing with that reason and the grant that fixes it, never silently intact.
#[test]
fn without_create_on_the_database_the_triggers_are_reported_unverifiable_with_the_fix() {
    let db = et_pgtest::database();
    let role = format!("r_{}", db.name);
    db.psql(&format!("CREATE ROLE {role} LOGIN; GRANT CREATE, USAGE ON SCHEMA public TO {role}")).unwrap();
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let store = PgStore::open(&url, OpenMode::CreateIfMissing).unwrap();
    store.register(&new_credential()).unwrap();
    let found = store.safeguards().unwrap();
    assert!(!found.intact());
    let said = found.missing.join(" ");
    assert!(said.contains("permission denied") && said.contains("grant the role CREATE on the database"), "{said}");
    db.psql(&format!("GRANT CREATE ON DATABASE {} TO {role}", db.name)).unwrap();
    assert!(store.safeguards().unwrap().intact(), "once granted, compared");
}

#[test]
fn a_miss_can_be_awaited_and_reads_what_the_blocking_read_reads() {
    let db = et_pgtest::database();
    let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
    let c = new_credential();
    store.register(&c).unwrap();
    // ledgerd awaits it on its own runtime's threads: a current-thread runtime here.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let read = |key: &str| runtime.block_on(store.auth_entry_async(key).expect("PostgreSQL reads asynchronously"));
    let awaited = read(c.api_key.as_str()).unwrap().expect("registered");
    let blocking = store.auth_entry(c.api_key.as_str()).unwrap().expect("registered");
    assert_eq!(awaited, blocking);
    assert!(read(ApiKey::generate().as_str()).unwrap().is_none(), "an unknown key is None");
}

/// The BEFORE UPDATE rules run for nothing on the housekeeper's UPDATE of last_used_at alone (each
/// did nothing for it but cost a PL/pgSQL call a row: a large batch held the server's core for a
/// second); for any other column they run. PostgreSQL counts the calls (`track_functions`).
#[test]
fn an_update_of_last_used_at_alone_runs_no_rule_and_any_other_column_does() {
    let db = et_pgtest::database();
    let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
    let keys = registered_keys(&store, 3);
    // The rule functions called by `set`, counted in its own transaction.
    let calls = |set: &str| -> i64 {
        let out = db
            .psql(&format!(
                "SET track_functions = 'pl'; BEGIN; UPDATE api_credential SET {set}; \
                 SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions
                  WHERE funcname IN ('api_credential_rules', 'api_credential_policy_is_valid', 'api_credential_updated'); \
                 COMMIT;"
            ))
            .unwrap();
        out.lines().rev().find(|l| !l.trim().is_empty()).unwrap().trim().parse().unwrap()
    };
    assert_eq!(calls("last_used_at = '2030-01-01T00:00:00.000Z'"), 0);
    // The store's own usage write (through its chunks) too.
    let uses: Vec<(String, i64)> = keys.iter().map(|k| (k.clone(), 1_900_000_000_000)).collect();
    store.record_usage(&uses).unwrap();
    assert_eq!(
        db.psql("SELECT count(*) FROM api_credential WHERE last_used_at LIKE '2030-03-17%'").unwrap().trim(),
        "3"
    );
    // Any other column, with last_used_at or without: all three rules, for each of the three rows.
    for set in [
        "last_used_at = '2031-01-01T00:00:00.000Z', label = 'x'",
        "label = 'y'",
        "created_at = '2020-01-01T00:00:00.000Z'",
        "last_used_at = '2032-01-01T00:00:00.000Z', revoke_reason = 'r'",
        "updated_by = 'someone'",
    ] {
        assert_eq!(calls(set), 9, "{set}");
    }
}

/// Migration 4's WHEN clauses list the columns whose change runs the rules: every column of
/// api_credential but last_used_at. A migration adding a column must add it there, or a change of
/// that column alone would skip them.
#[test]
fn every_column_but_last_used_at_runs_the_update_rules() {
    let db = et_pgtest::database();
    drop(PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap());
    let columns = db
        .psql(
            "SELECT string_agg(column_name::text, ' ' ORDER BY ordinal_position) FROM information_schema.columns
              WHERE table_schema = 'public' AND table_name = 'api_credential'",
        )
        .unwrap();
    let columns: Vec<&str> = columns.split_whitespace().collect();
    assert!(columns.contains(&"last_used_at") && columns.len() > 10, "{columns:?}");
    for trigger in ["api_credential_rules", "api_credential_policy_stays_valid", "api_credential_updated"] {
        let def = db
            .psql(&format!(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = '{trigger}' AND tgrelid = 'api_credential'::regclass"
            ))
            .unwrap();
        assert!(def.contains("BEFORE UPDATE ON"), "{def}");
        let words: Vec<&str> = def.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).collect();
        for column in &columns {
            let (old, new) = (format!("old.{column}"), format!("new.{column}"));
            let named = words.contains(&old.as_str()) && words.contains(&new.as_str());
            assert_eq!(named, *column != "last_used_at", "{trigger}, column {column}: {def}");
        }
    }
}

/// The credential gauge's counts: exact on a small ledger (conformance.rs); past 100 000
/// credentials, the revoked ones are still counted exactly and the active ones are PostgreSQL's
/// estimate of the table less those, which moves when statistics are refreshed (ANALYZE,
/// autovacuum) rather than with each registration: no scan of the whole table every five seconds.
#[test]
fn past_100_000_credentials_the_gauge_estimates_the_active_ones_and_counts_the_revoked() {
    let db = et_pgtest::database();
    let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
    // Rows made quickly, without the triggers (this session only), as a restore would.
    db.psql(
        "SET session_replication_role = replica;
         INSERT INTO api_credential (api_key, api_secret_hash)
         SELECT 'ak_' || lpad(i::text, 40, '0'), repeat('a', 64) FROM generate_series(1, 100000) i",
    )
    .unwrap();
    let revoked = registered_keys(&store, 3);
    for key in &revoked[..2] {
        store.revoke(key, "test", None).unwrap();
    }
    db.psql("ANALYZE api_credential").unwrap();
    let counts = store.counts().unwrap();
    assert_eq!((counts.active, counts.revoked), (100_001, 2));
    // A revocation shows at once; registrations when the statistics are next refreshed.
    store.revoke(&revoked[2], "test", None).unwrap();
    for _ in 0..10 {
        store.register(&new_credential()).unwrap();
    }
    let counts = store.counts().unwrap();
    assert_eq!((counts.active, counts.revoked), (100_000, 3));
    db.psql("ANALYZE api_credential").unwrap();
    let counts = store.counts().unwrap();
    assert_eq!((counts.active, counts.revoked), (100_010, 3));
}
