//! Several ledgerd on one PostgreSQL database (SPEC §7), against a real server the tests start
//! (crates/et-pgtest): a revocation through one replica is refused by the others; one made by hand
//! in psql, or with `etctl db revoke --db postgres://…`, by all; the listener's connection killed
//! while revocations happen misses none; `kill -9` of a replica under registration load loses no
//! acknowledged registration; 32 clients registering one pair across three replicas get one 201;
//! with PostgreSQL stopped, authentication is 500 (never 401) and /health 503 on every replica, and
//! service returns when it is back, without restarting any. Delays are printed (`--nocapture`), not
//! asserted: the machine is noisy; the deadlines are generous.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Ledger, LedgerOptions, time_until};
use crate::etctl_support::{Home, etctl};
use crate::hostile_http::{addr, auth, call};

/// A generous bound for "refused everywhere": SPEC §7 asks for 100 ms (API) and 1 s (psql); the
/// figures are printed, and only a replica that keeps serving for this long fails the test.
const DEADLINE: Duration = Duration::from_secs(5);

fn replica(url: &str) -> Ledger {
    let env =
        vec![("LEDGERD_AUTH_FAILURE_LIMIT".into(), "off".into()), ("LEDGERD_REGISTRATION_LIMIT".into(), "off".into())];
    Ledger::start_with(LedgerOptions { env, db: Some(PathBuf::from(url)), ..Default::default() })
}

fn whoami(ledger: &Ledger, pair: &(String, String)) -> u16 {
    call(ledger, "GET", "/whoami", &auth(pair), b"").status
}

fn health(ledger: &Ledger) -> u16 {
    call(ledger, "GET", "/health", &[], b"").status
}

fn summary(mut delays: Vec<Duration>) -> String {
    delays.sort();
    let p = |q: f64| delays[((delays.len() - 1) as f64 * q).round() as usize];
    format!("n={} p50={:?} p99={:?} max={:?}", delays.len(), p(0.5), p(0.99), delays[delays.len() - 1])
}

#[test]
fn two_ledgerd_on_one_database_refuse_a_revocation_made_through_either_or_by_hand() {
    let db = et_pgtest::database();
    let (a, b) = (replica(&db.url), replica(&db.url));

    // Through A's API: refused by A at once, by B as soon as its change feed brings the audit row.
    let mut delays = Vec::new();
    for _ in 0..20 {
        let pair = a.register(None);
        assert_eq!(whoami(&b, &pair), 200, "B serves a credential registered through A (and caches it)");
        a.client_as(&pair).revoke(&pair.0).expect("revoke through A");
        assert_eq!(whoami(&a, &pair), 401, "A refuses at the next request");
        let took = time_until(Duration::from_secs(10), || whoami(&b, &pair) == 401)
            .unwrap_or_else(|| panic!("B kept serving a credential revoked through A:\n{}", b.logs()));
        delays.push(took);
    }
    eprintln!("revocation through A refused by B after: {}", summary(delays));

    // By hand in psql: filled in as `db`, audited, refused by both.
    let mut delays = Vec::new();
    for _ in 0..5 {
        let pair = b.register(None);
        assert_eq!((whoami(&a, &pair), whoami(&b, &pair)), (200, 200));
        db.psql(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", pair.0)).unwrap();
        let took = time_until(Duration::from_secs(10), || whoami(&a, &pair) == 401 && whoami(&b, &pair) == 401)
            .expect("a psql revocation was not refused by both replicas");
        delays.push(took);
        let row = db.psql(&format!(
            "SELECT revoked_by, revoked_at IS NOT NULL FROM api_credential WHERE api_key = '{}'",
            pair.0
        ));
        assert_eq!(row.unwrap().trim(), "db|t");
    }
    eprintln!("psql revocation refused by both after: {}", summary(delays));

    // etctl db on the same database: same audit, refused by both.
    let home = Home::new();
    let pair = a.register(Some("on-call"));
    assert_eq!(whoami(&b, &pair), 200);
    let listed = etctl(home.cmd(), &["db", "list", "--db", &db.url, "--json"]).ok().json();
    assert!(listed.to_string().contains(&pair.0), "{listed}");
    etctl(home.cmd(), &["db", "revoke", &pair.0, "--db", &db.url, "--reason", "leaked", "--yes"]).ok();
    time_until(Duration::from_secs(10), || whoami(&a, &pair) == 401 && whoami(&b, &pair) == 401)
        .expect("an etctl db revocation was not refused by both replicas");
    let audit = etctl(home.cmd(), &["db", "audit", &pair.0, "--db", &db.url, "--json"]).ok().json();
    let text = audit.to_string();
    assert!(text.contains("\"revoke\"") && text.contains("leaked"), "{text}");
    // A wrong URL is a clear error naming the database, never its password.
    let bad = format!("postgres://postgres:hunter2@127.0.0.1:{}/nope", et_pgtest::server().port());
    let run = etctl(home.cmd(), &["db", "list", "--db", &bad]);
    assert_ne!(run.code, 0);
    assert!(!run.stderr.contains("hunter2") && run.stderr.contains("127.0.0.1"), "{}", run.stderr);
    assert!(!a.logs().contains("hunter2"));
}

#[test]
fn with_postgres_stopped_authentication_is_500_never_401_and_it_comes_back_without_a_restart() {
    let server = et_pgtest::private_server();
    let db = server.database();
    let ledgers = replicas(&db.url);
    let cached = ledgers[0].register(None);
    assert!(ledgers.iter().all(|l| whoami(l, &cached) == 200), "every replica serves (and caches) it");
    let uncached = ledgers[0].register(None);

    server.stop();
    for (r, ledger) in ledgers.iter().enumerate() {
        let noticed = time_until(Duration::from_secs(20), || health(ledger) == 503);
        assert!(noticed.is_some(), "replica {r}: /health stayed 200 with PostgreSQL stopped:\n{}", ledger.logs());
        for pair in [&cached, &uncached] {
            let status = whoami(ledger, pair);
            assert_eq!(status, 500, "replica {r}: a credential while the database is down: {status}");
        }
    }

    server.start();
    let started = Instant::now();
    for (r, ledger) in ledgers.iter().enumerate() {
        let back = time_until(Duration::from_secs(30), || health(ledger) == 200);
        assert!(back.is_some(), "replica {r}: /health did not come back:\n{}", ledger.logs());
        assert_eq!((whoami(ledger, &cached), whoami(ledger, &uncached)), (200, 200), "replica {r}");
    }
    eprintln!("PostgreSQL restarted: all three replicas serving again after {:?}", started.elapsed());
}

fn replicas(url: &str) -> [Ledger; 3] {
    [replica(url), replica(url), replica(url)]
}

/// Polls `ledger` until it refuses `pair` (401); how long that took from `since`, or None after
/// [`DEADLINE`].
fn refused_after(ledger: &Ledger, pair: &(String, String), since: Instant) -> Option<Duration> {
    while since.elapsed() < DEADLINE {
        if whoami(ledger, pair) == 401 {
            return Some(since.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

/// Watches every replica in `watchers` in a thread of its own from `since`: the delay after which
/// each refused `pair`, in order.
fn refused_by_all(watchers: &[&Ledger], pair: &(String, String), since: Instant) -> Vec<Option<Duration>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = watchers.iter().map(|l| s.spawn(move || refused_after(l, pair, since))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// `POST /credentials` of `pair` on its own connection: the status, or None when the replica gave
/// no answer (it was killed, or is not listening).
fn try_register(addr: &str, pair: &(String, String)) -> Option<u16> {
    let body = json!({"api_key": pair.0, "api_secret": pair.1}).to_string();
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let request = format!(
        "POST /credentials HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// How many of `keys` are rows of api_credential.
fn rows_of(db: &et_pgtest::Database, keys: &[String]) -> usize {
    let mut found = 0;
    for chunk in keys.chunks(500) {
        let list: Vec<String> = chunk.iter().map(|k| format!("'{k}'")).collect();
        let sql = format!("SELECT count(*) FROM api_credential WHERE api_key IN ({})", list.join(","));
        found += db.psql(&sql).unwrap().trim().parse::<usize>().unwrap();
    }
    found
}

const LISTENERS: &str = "SELECT count(*) FROM pg_stat_activity \
     WHERE application_name = 'ledgerd-listener' AND datname = current_database() AND query = 'LISTEN ledgerd_audit'";

fn wait_for_listeners(db: &et_pgtest::Database, n: usize) {
    let listening = time_until(Duration::from_secs(30), || db.psql(LISTENERS).unwrap().trim() == n.to_string());
    assert!(listening.is_some(), "{n} listeners did not connect: {}", db.psql(LISTENERS).unwrap());
}

/// SPEC §7: a revocation through one replica's API is refused by every other one. Each of 50
/// credentials is cached by B and C, revoked through A, and watched on B and C from the moment A
/// answered.
#[test]
fn three_replicas_refuse_a_revocation_made_through_one_of_them() {
    let db = et_pgtest::database();
    let [a, b, c] = replicas(&db.url);
    wait_for_listeners(&db, 3);
    let mut delays = Vec::new();
    for trial in 0..50 {
        let pair = a.register(None);
        assert_eq!((whoami(&b, &pair), whoami(&c, &pair)), (200, 200), "B and C serve (and cache) it");
        a.client_as(&pair).revoke(&pair.0).expect("revoke through A");
        let revoked = Instant::now();
        assert_eq!(whoami(&a, &pair), 401, "A refuses at the next request");
        for (name, delay) in ["B", "C"].iter().zip(refused_by_all(&[&b, &c], &pair, revoked)) {
            let delay = delay.unwrap_or_else(|| {
                panic!("trial {trial}: {name} kept serving a credential revoked through A for {DEADLINE:?}")
            });
            delays.push(delay);
        }
    }
    eprintln!("revocation through A refused by B and C after: {}", summary(delays));
}

/// SPEC §7: `UPDATE api_credential SET active = false` in psql is a revocation every replica
/// refuses (within 1 s; asserted with a generous bound, printed).
#[test]
fn a_psql_revocation_is_refused_by_all_three_replicas() {
    let db = et_pgtest::database();
    let [a, b, c] = replicas(&db.url);
    wait_for_listeners(&db, 3);
    let mut delays = Vec::new();
    for trial in 0..10 {
        let pair = c.register(None);
        assert_eq!([whoami(&a, &pair), whoami(&b, &pair), whoami(&c, &pair)], [200; 3]);
        db.psql(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", pair.0)).unwrap();
        let revoked = Instant::now();
        for (name, delay) in ["A", "B", "C"].iter().zip(refused_by_all(&[&a, &b, &c], &pair, revoked)) {
            delays.push(delay.unwrap_or_else(|| panic!("trial {trial}: {name} kept serving a psql revocation")));
        }
        let row = db.psql(&format!("SELECT revoked_by FROM api_credential WHERE api_key = '{}'", pair.0)).unwrap();
        assert_eq!(row.trim(), "db");
    }
    eprintln!("psql revocation refused by A, B and C after: {}", summary(delays));
}

/// SPEC §7: a replica whose change feed was interrupted catches up before trusting its cache. The
/// listeners' backends are killed with `pg_terminate_backend` again and again while credentials
/// every replica has cached are revoked through the API and by hand: every revocation is refused by
/// every replica, and the listeners come back.
#[test]
fn the_listeners_killed_while_revocations_happen_miss_none() {
    let db = et_pgtest::database();
    let ledgers = replicas(&db.url);
    wait_for_listeners(&db, 3);
    let pairs: Vec<_> = (0..30).map(|i| ledgers[i % 3].register(None)).collect();
    for pair in &pairs {
        assert!(ledgers.iter().all(|l| whoami(l, pair) == 200), "every replica serves (and caches) it");
    }
    let killed = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(Mutex::new(0usize));
    std::thread::scope(|s| {
        // The listeners are killed every 20 ms or so, whether or not they have reconnected.
        let killer = {
            let (db, killed, kills) = (db.clone(), killed.clone(), kills.clone());
            s.spawn(move || {
                while !killed.load(Ordering::SeqCst) {
                    let n = db
                        .psql(&format!(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                              WHERE application_name = 'ledgerd-listener' AND datname = '{}'",
                            db.name
                        ))
                        .unwrap();
                    *kills.lock().unwrap() += n.trim().parse::<usize>().unwrap();
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        for (i, pair) in pairs.iter().enumerate() {
            if i % 2 == 0 {
                ledgers[i % 3].client_as(pair).revoke(&pair.0).expect("revoke through the API");
            } else {
                db.psql(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", pair.0)).unwrap();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        killed.store(true, Ordering::SeqCst);
        killer.join().unwrap();
    });
    let since = Instant::now();
    for (i, pair) in pairs.iter().enumerate() {
        for (r, ledger) in ledgers.iter().enumerate() {
            assert!(
                refused_after(ledger, pair, since).is_some(),
                "replica {r} kept serving credential {i}, revoked while its listener was killed:\n{}",
                ledger.logs()
            );
        }
    }
    let kills = *kills.lock().unwrap();
    assert!(kills >= 3, "the listeners were killed {kills} times");
    wait_for_listeners(&db, 3);
    eprintln!("{kills} listener connections killed; all 30 revocations refused by all three replicas");
}

/// `kill -9` of one replica while client threads register through all three: every registration
/// answered 201, by any replica, is a row of the database afterwards, and the survivors serve it.
#[test]
fn kill_9_of_one_replica_under_registration_load_loses_no_acknowledged_registration() {
    let db = et_pgtest::database();
    let ledgers = replicas(&db.url);
    let addrs: Vec<String> = ledgers.iter().map(addr).collect();
    let acknowledged = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let victim = ledgers[1].pid();
    let (mut lost_answers, mut refused) = (0, Vec::new());
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let (addr, acknowledged, stop) = (&addrs[t % 3], &acknowledged, &stop);
                let ledger = &ledgers[t % 3];
                s.spawn(move || {
                    let (mut no_answer, mut other) = (0, Vec::new());
                    while !stop.load(Ordering::SeqCst) {
                        let pair = ledger.mint();
                        match try_register(addr, &pair) {
                            Some(201) => acknowledged.lock().unwrap().push(pair),
                            Some(status) => other.push(status),
                            None => {
                                // The killed replica: no need to hammer its closed port.
                                no_answer += 1;
                                std::thread::sleep(Duration::from_millis(10));
                            }
                        }
                    }
                    (no_answer, other)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1500));
        let before = acknowledged.lock().unwrap().len();
        let killed = std::process::Command::new("kill").args(["-9", &victim.to_string()]).status().unwrap();
        assert!(killed.success());
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::SeqCst);
        for t in threads {
            let (no_answer, other) = t.join().unwrap();
            lost_answers += no_answer;
            refused.extend(other);
        }
        assert!(before > 0, "registrations were answered before the kill");
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(refused.is_empty(), "registrations were refused: {refused:?}");
    let keys: Vec<String> = acknowledged.iter().map(|p| p.0.clone()).collect();
    assert_eq!(rows_of(&db, &keys), keys.len(), "acknowledged registrations are missing from the database");
    let (a, c) = (&ledgers[0], &ledgers[2]);
    for pair in acknowledged.iter().step_by((acknowledged.len() / 50).max(1)) {
        assert_eq!((whoami(a, pair), whoami(c, pair)), (200, 200), "a survivor refused an acknowledged credential");
    }
    eprintln!(
        "kill -9 under load: {} registrations acknowledged, all present; {lost_answers} requests got no answer",
        keys.len()
    );
}

/// 32 clients register one and the same pair at once, spread over three replicas: exactly one 201,
/// every other one 409 DUPLICATE_API_KEY (SPEC §3), and one row.
#[test]
fn thirty_two_clients_registering_one_pair_across_three_replicas_get_exactly_one_201() {
    let db = et_pgtest::database();
    let ledgers = replicas(&db.url);
    let addrs: Vec<String> = ledgers.iter().map(addr).collect();
    for round in 0..3 {
        let pair = ledgers[0].mint();
        let start = Barrier::new(32);
        let statuses: Vec<Option<u16>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..32)
                .map(|i| {
                    let (addr, pair, start) = (&addrs[i % 3], &pair, &start);
                    s.spawn(move || {
                        start.wait();
                        try_register(addr, pair)
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let created = statuses.iter().filter(|s| **s == Some(201)).count();
        let duplicate = statuses.iter().filter(|s| **s == Some(409)).count();
        assert_eq!((created, duplicate), (1, 31), "round {round}: {statuses:?}");
        assert_eq!(rows_of(&db, std::slice::from_ref(&pair.0)), 1);
        assert!(ledgers.iter().all(|l| whoami(l, &pair) == 200));
    }
    // The 409 says which rule.
    let pair = ledgers[0].mint();
    assert_eq!(try_register(&addrs[0], &pair), Some(201));
    let body = json!({"api_key": pair.0, "api_secret": pair.1}).to_string();
    let again = call(&ledgers[2], "POST", "/credentials", &[("Content-Type", "application/json")], body.as_bytes());
    assert_eq!(again.status, 409);
    assert!(again.text().contains("DUPLICATE_API_KEY"), "{}", again.text());
}

/// The triggers that keep the rules, disabled, dropped or joined by one made by hand in psql, are
/// noticed as on SQLite (`ledgerd_database_triggers_missing`/`_unexpected`, an error naming them),
/// and a change they let through without an audit row still reaches every replica's cache: it is
/// re-read while they cannot be trusted, and after a trigger was disabled and enabled again around
/// an update.
#[test]
fn triggers_disabled_or_added_by_hand_in_psql_are_noticed_and_their_changes_still_reach_the_cache() {
    use crate::hand_sql::metric;
    let db = et_pgtest::database();
    let ledgers = [replica(&db.url), replica(&db.url)];
    let [around, disabled, hidden, bystander] = ["around", "disabled", "hidden", "bystander"].map(|l| {
        let pair = ledgers[0].register(Some(l));
        assert!(ledgers.iter().all(|r| whoami(r, &pair) == 200), "every replica serves (and caches) it");
        pair
    });
    let ok = |sql: &str| db.psql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let refused_everywhere = |pair: &(String, String), context: &str| {
        let since = Instant::now();
        for (r, ledger) in ledgers.iter().enumerate() {
            let took = refused_after(ledger, pair, since).unwrap_or_else(|| {
                panic!("{context}: replica {r} kept serving a changed credential:\n{}", ledger.logs())
            });
            eprintln!("{context}: replica {r} refused after {took:?}");
        }
    };
    let metric_is = |name: &str, value: &str| {
        let all = || ledgers.iter().all(|l| metric(l, name).as_deref() == Some(value));
        assert!(time_until(DEADLINE, all).is_some(), "{name} is not {value} on every replica");
    };
    metric_is("ledgerd_database_triggers_missing", "0");

    // Disabled and enabled again around a revocation, in one transaction: no audit row, no
    // notification, the triggers as they were afterwards.
    ok(&format!(
        "BEGIN; ALTER TABLE api_credential DISABLE TRIGGER USER; \
         UPDATE api_credential SET active = false WHERE api_key = '{}'; \
         ALTER TABLE api_credential ENABLE TRIGGER USER; COMMIT",
        around.0
    ));
    assert_eq!(ok(&format!("SELECT count(*) FROM credential_audit WHERE api_key = '{}'", around.0)).trim(), "1");
    refused_everywhere(&around, "triggers disabled around an update");
    metric_is("ledgerd_database_triggers_missing", "0");

    // The audit trigger disabled, then a revocation that writes no audit row.
    ok("ALTER TABLE api_credential DISABLE TRIGGER api_credential_revoked");
    metric_is("ledgerd_database_triggers_missing", "1");
    ok(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", disabled.0));
    refused_everywhere(&disabled, "audit trigger disabled");
    for ledger in &ledgers {
        let logs = ledger.logs();
        assert!(
            logs.lines().any(|l| l.contains("ERROR")
                && l.contains("lacks triggers")
                && l.contains("api_credential_revoked (disabled)")),
            "{logs}"
        );
    }
    ok("ALTER TABLE api_credential ENABLE TRIGGER api_credential_revoked");
    metric_is("ledgerd_database_triggers_missing", "0");

    // A trigger made by hand that keeps audit rows out: the revocation it hides is found.
    ok("CREATE FUNCTION hide() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; \
        CREATE TRIGGER hide_audit BEFORE INSERT ON credential_audit FOR EACH ROW EXECUTE FUNCTION hide()");
    metric_is("ledgerd_database_triggers_unexpected", "1");
    ok(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", hidden.0));
    refused_everywhere(&hidden, "audit rows kept out by a hand-made trigger");
    assert!(ledgers.iter().all(|l| l.logs().contains("hide_audit")));
    ok("DROP TRIGGER hide_audit ON credential_audit");
    metric_is("ledgerd_database_triggers_unexpected", "0");

    assert!(ledgers.iter().all(|l| whoami(l, &bystander) == 200), "an unchanged credential stays");
}

/// `sha256(secret)` as the database stores it.
fn stored_hash(pair: &(String, String)) -> String {
    et_core::ApiSecret::parse(&pair.1).unwrap().hash().to_hex()
}

/// A PostgreSQL ledger at schema version 1 (migration 1 only, as the first PostgreSQL release
/// made it) with credentials in it, one revoked: replicas that start on it migrate it to the
/// current schema, once; its credentials authenticate with every scope and no limit (SPEC §6), the
/// revoked one stays refused, its rows and audit trail are kept, and the rules hold on them.
#[test]
fn a_schema_1_postgres_database_with_credentials_is_migrated_and_they_still_authenticate() {
    let db = et_pgtest::database();
    let migrations = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/et-store/migrations/postgres");
    let first = std::fs::read_to_string(migrations.join("0001_initial.sql")).unwrap();
    let current = std::fs::read_dir(&migrations).unwrap().count();
    let ok = |sql: &str| db.psql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    ok(&format!(
        "CREATE TABLE schema_version (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now()); \
         {first}; INSERT INTO schema_version (version) VALUES (1)"
    ));
    let pairs: Vec<(String, String)> = (0..4).map(|_| crate::common::mint_for(crate::common::INSTANCE)).collect();
    for (pair, label) in pairs.iter().zip(["ops", "billing", "monitoring", "NULL"]) {
        let label = if label == "NULL" { label.to_owned() } else { format!("'{label}'") };
        ok(&format!(
            "INSERT INTO api_credential (api_key, api_secret_hash, label) VALUES ('{}', '{}', {label})",
            pair.0,
            stored_hash(pair)
        ));
    }
    let revoked = &pairs[2];
    ok(&format!("UPDATE api_credential SET active = false, revoke_reason = 'left' WHERE api_key = '{}'", revoked.0));
    let columns = "api_key, api_secret_hash, label, active, created_at, revoked_at, revoked_by, revoke_reason, seq";
    let rows_sql = format!("SELECT {columns} FROM api_credential ORDER BY seq");
    let audit_sql = "SELECT id, at, api_key, action, actor, reason FROM credential_audit ORDER BY id";
    let (rows_before, audit_before) = (ok(&rows_sql), ok(audit_sql));

    // Two replicas starting together: migrated once.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| replica(&db.url));
        let b = s.spawn(|| replica(&db.url));
        (a.join().unwrap(), b.join().unwrap())
    });
    let versions: Vec<String> = (1..=current).map(|v| v.to_string()).collect();
    assert_eq!(
        ok("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version").trim(),
        versions.join(",")
    );
    for ledger in [&a, &b] {
        for pair in pairs.iter().filter(|p| *p != revoked) {
            assert_eq!(whoami(ledger, pair), 200, "{} no longer authenticates after the migration", pair.0);
        }
        assert_eq!(whoami(ledger, revoked), 401, "the revoked credential came back");
    }
    let listed = call(&a, "GET", "/credentials?status=all", &auth(&pairs[0]), b"");
    assert_eq!(listed.status, 200, "{}", listed.text());
    let listed = listed.json();
    let labels: Vec<(Option<&str>, bool)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["label"].as_str(), c["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(labels, [(Some("ops"), true), (Some("billing"), true), (Some("monitoring"), false), (None, true)]);
    for c in listed["data"].as_array().unwrap() {
        assert_eq!(
            c["scopes"],
            json!(["accounts:read", "accounts:write", "credentials:read", "credentials:write"]),
            "a schema-1 credential keeps every scope"
        );
        assert_eq!((&c["expires_at"], &c["allowed_ips"], &c["rate_limit"]), (&json!(null), &json!([]), &json!(null)));
    }
    // The rows and the trail as they were (last_used_at aside, which the uses above may set).
    assert_eq!(ok(&rows_sql), rows_before);
    assert_eq!(ok(audit_sql), audit_before);
    // The migrated database keeps the rules: no reactivation, and a psql revocation reaches both.
    let refused = db.psql(&format!("UPDATE api_credential SET active = true WHERE api_key = '{}'", revoked.0));
    assert!(refused.is_err_and(|e| e.contains("revocation is permanent")));
    ok(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", pairs[1].0));
    let since = Instant::now();
    for ledger in [&a, &b] {
        assert!(refused_after(ledger, &pairs[1], since).is_some(), "a psql revocation after the migration");
    }
}

/// A stored hash that is not 64 lowercase hex digits is refused by the schema; one that got past
/// it anyway (its CHECK dropped by hand) matches no secret, not even an empty one: 401, never 200
/// or 500, and a warning naming the key (as on SQLite, tests/e2e/hand_sql.rs).
#[test]
fn a_malformed_hash_is_refused_by_postgres_and_one_past_the_schema_matches_no_secret() {
    let db = et_pgtest::database();
    let ledger = replica(&db.url);
    let pair = ledger.mint();
    for bad in ["x".repeat(64), stored_hash(&pair).to_uppercase(), "abc".to_owned(), String::new()] {
        let refused =
            db.psql(&format!("INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{}', '{bad}')", pair.0));
        assert!(refused.is_err_and(|e| e.contains("api_secret_hash")), "{bad:?} was stored");
    }
    assert_eq!(db.psql("SELECT count(*) FROM api_credential").unwrap().trim(), "0");
    db.psql(&format!(
        "ALTER TABLE api_credential DROP CONSTRAINT api_credential_api_secret_hash_check; \
         INSERT INTO api_credential (api_key, api_secret_hash) VALUES ('{}', '{}')",
        pair.0,
        "x".repeat(64)
    ))
    .unwrap();
    let empty = [("X-Api-Key", pair.0.as_str()), ("X-Api-Secret", "")];
    let r = call(&ledger, "GET", "/whoami", &empty, b"");
    assert_eq!(r.status, 401, "an empty secret authenticated a malformed hash: {}", r.text());
    assert_eq!(whoami(&ledger, &pair), 401);
    // The dropped CHECK is reported as a missing safeguard, as a dropped trigger is.
    let reported = time_until(DEADLINE, || {
        crate::hand_sql::metric(&ledger, "ledgerd_database_triggers_missing").as_deref() == Some("1")
    });
    assert!(reported.is_some(), "the dropped CHECK was not reported:\n{}", ledger.logs());
    let logs = ledger.logs();
    assert!(logs.contains("constraint api_credential_api_secret_hash_check"), "{logs}");
    assert!(
        logs.lines().any(|l| l.contains("not 64 lowercase hex") && l.contains(&pair.0) && l.contains("WARN")),
        "no warning naming the key:\n{logs}"
    );
    assert!(!logs.contains(&pair.1[3..]));
}

/// SPEC §7's second holds even when notifications stop: with the trigger that sends them disabled
/// by hand, a psql revocation is still refused by every replica, by the trail's periodic read (and
/// the disabled trigger is reported).
#[test]
fn with_notifications_stopped_a_psql_revocation_is_still_refused_by_every_replica() {
    use crate::hand_sql::metric;
    let db = et_pgtest::database();
    let ledgers = replicas(&db.url);
    wait_for_listeners(&db, 3);
    db.psql("ALTER TABLE credential_audit DISABLE TRIGGER credential_audit_notify").unwrap();
    let reported = time_until(DEADLINE, || {
        ledgers.iter().all(|l| metric(l, "ledgerd_database_triggers_missing").as_deref() == Some("1"))
    });
    assert!(reported.is_some(), "the disabled notification trigger was not reported");
    let mut delays = Vec::new();
    for trial in 0..5 {
        let pair = ledgers[trial % 3].register(None);
        assert!(ledgers.iter().all(|l| whoami(l, &pair) == 200));
        db.psql(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", pair.0)).unwrap();
        let since = Instant::now();
        let refs: Vec<&Ledger> = ledgers.iter().collect();
        for (r, delay) in refused_by_all(&refs, &pair, since).into_iter().enumerate() {
            delays
                .push(delay.unwrap_or_else(|| panic!("trial {trial}: replica {r} kept serving without notifications")));
        }
    }
    eprintln!("notifications stopped: psql revocation refused by all three after: {}", summary(delays));
}

/// A read of the change feed that takes long (here: the audit trail locked by hand for a second)
/// is logged as a warning saying where the time went, and every read is timed in /metrics, so an
/// operator can tell why a change made elsewhere was seen late.
#[test]
fn a_slow_read_of_the_change_feed_is_logged_with_where_its_time_went_and_timed_in_metrics() {
    use crate::hand_sql::metric;
    let db = et_pgtest::database();
    let ledger = replica(&db.url);
    wait_for_listeners(&db, 1);
    let reads = |l: &Ledger| metric(l, "ledgerd_change_feed_poll_seconds_count").and_then(|n| n.parse::<u64>().ok());
    assert!(time_until(DEADLINE, || reads(&ledger).is_some_and(|n| n > 0)).is_some(), "no read was timed");
    // The first look at the triggers reads the catalog, whose deparsing waits for the lock below too.
    let looked = time_until(DEADLINE, || metric(&ledger, "ledgerd_database_triggers_missing").as_deref() == Some("0"));
    assert!(looked.is_some(), "{}", ledger.logs());
    assert!(!ledger.logs().contains("reading the database's change feed took"), "{}", ledger.logs());
    // Each round reads the trail (at least twice a second) and, once a second, writes a rolled-back
    // probe into it: whichever comes first waits for the lock (and is logged); locked again, at
    // another moment, until a read was the one.
    let mut logged = None;
    for attempt in 0..10 {
        db.psql("BEGIN; LOCK TABLE credential_audit IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1.2); COMMIT;").unwrap();
        logged =
            time_until(Duration::from_secs(1), || ledger.logs().contains("reading the database's change feed took"));
        if logged.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(130 * attempt));
    }
    let logs = ledger.logs();
    assert!(logged.is_some(), "the slow read was not logged:\n{logs}");
    let line = logs.lines().find(|l| l.contains("reading the database's change feed took")).unwrap();
    assert!(
        line.contains("WARN") && line.contains("the audit trail") && line.contains("getting a connection"),
        "{line}"
    );
    // Under 256 ms: fewer reads than in all.
    let fast =
        metric(&ledger, "ledgerd_change_feed_poll_seconds_bucket{le=\"0.256\"}").unwrap().parse::<u64>().unwrap();
    assert!(fast < reads(&ledger).unwrap(), "{fast} of {:?} reads", reads(&ledger));
    assert_eq!(health(&ledger), 200);
}
