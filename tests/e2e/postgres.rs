//! Several ledgerd on one PostgreSQL database (SPEC §7), against a real server the tests start
//! (crates/et-pgtest): a revocation through one replica is refused by the other; one made by hand
//! in psql, or with `etctl db revoke --db postgres://…`, by both; with PostgreSQL stopped,
//! authentication is 500 (never 401) and /health 503, and service returns when it is back, without
//! restarting ledgerd. Delays are printed (`--nocapture`), not asserted: the machine is noisy; the
//! deadlines are generous.

use std::path::PathBuf;
use std::time::Duration;

use crate::common::{Ledger, LedgerOptions, time_until};
use crate::etctl_support::{Home, etctl};
use crate::hostile_http::{auth, call};

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
    let ledger = replica(&db.url);
    let cached = ledger.register(None);
    assert_eq!(whoami(&ledger, &cached), 200);
    let uncached = ledger.register(None);

    server.stop();
    let noticed = time_until(Duration::from_secs(20), || health(&ledger) == 503);
    assert!(noticed.is_some(), "/health stayed 200 with PostgreSQL stopped:\n{}", ledger.logs());
    for pair in [&cached, &uncached] {
        let status = whoami(&ledger, pair);
        assert_eq!(status, 500, "a credential while the database is down: {status}");
    }

    server.start();
    let back = time_until(Duration::from_secs(30), || health(&ledger) == 200);
    assert!(back.is_some(), "/health did not come back:\n{}", ledger.logs());
    assert_eq!((whoami(&ledger, &cached), whoami(&ledger, &uncached)), (200, 200));
    eprintln!("PostgreSQL stopped: noticed after {noticed:?}; restarted: serving again after {back:?}");
}
