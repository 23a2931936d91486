//! Races against the real ledgerd: the same pair registered by 32 clients at once, the same
//! credential revoked by 32 at once, and `etctl db revoke` (the real binary, on the same file)
//! while clients register through the API.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use serde_json::json;

use crate::common::{Ledger, LedgerOptions, etctl, time_until};
use crate::hostile_http::{auth, call, snapshot};

const CLIENTS: usize = 32;

fn no_limits() -> LedgerOptions {
    let env =
        vec![("LEDGERD_AUTH_FAILURE_LIMIT".into(), "off".into()), ("LEDGERD_REGISTRATION_LIMIT".into(), "off".into())];
    LedgerOptions { env, ..Default::default() }
}

/// Runs `f` on `CLIENTS` threads released together; returns the statuses.
fn at_once(f: impl Fn() -> u16 + Send + Sync + 'static) -> Vec<u16> {
    let f = Arc::new(f);
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f()
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[test]
fn one_pair_registered_by_32_clients_at_once_is_registered_once() {
    let ledger = Arc::new(Ledger::start_with(no_limits()));
    for round in 0..3 {
        let pair = ledger.mint();
        let body = json!({"api_key": pair.0, "api_secret": pair.1}).to_string();
        let l = ledger.clone();
        let statuses = at_once(move || {
            call(&l, "POST", "/credentials", &[("Content-Type", "application/json")], body.as_bytes()).status
        });
        assert_eq!((count(&statuses, 201), count(&statuses, 409)), (1, CLIENTS - 1), "round {round}: {statuses:?}");
        // One row, one audit line.
        let conn = rusqlite::Connection::open(&ledger.db).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM credential_audit WHERE api_key = ?1", [&pair.0], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
        assert_eq!(call(&ledger, "GET", "/whoami", &auth(&pair), b"").status, 200);
    }
}

#[test]
fn one_credential_revoked_by_32_clients_at_once_is_revoked_once() {
    let ledger = Arc::new(Ledger::start_with(no_limits()));
    let operator = ledger.register(Some("operator"));
    for round in 0..3 {
        let victim = ledger.register(Some("victim"));
        // Cached, so the revocation has to evict it.
        assert_eq!(call(&ledger, "GET", "/whoami", &auth(&victim), b"").status, 200);
        let (l, op, path) = (ledger.clone(), operator.clone(), format!("/credentials/{}", victim.0));
        let statuses = at_once(move || call(&l, "DELETE", &path, &auth(&op), b"").status);
        assert_eq!((count(&statuses, 200), count(&statuses, 404)), (1, CLIENTS - 1), "round {round}: {statuses:?}");
        assert_eq!(call(&ledger, "GET", "/whoami", &auth(&victim), b"").status, 401);
        let conn = rusqlite::Connection::open(&ledger.db).unwrap();
        let audit: i64 = conn
            .query_row(
                "SELECT count(*) FROM credential_audit WHERE api_key = ?1 AND action = 'revoke'",
                [&victim.0],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(audit, 1, "one revocation, one audit row");
    }
}

#[test]
fn etctl_db_revoke_during_write_load_both_succeed() {
    let ledger = Arc::new(Ledger::start_with(no_limits()));
    let victims: Vec<(String, String)> = (0..4).map(|i| ledger.register(Some(&format!("victim {i}")))).collect();
    for v in &victims {
        assert_eq!(call(&ledger, "GET", "/whoami", &auth(v), b"").status, 200);
    }

    // Four clients register fresh pairs (and use them) as fast as they can until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (ledger, stop) = (ledger.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                let mut registered = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let pair = ledger.mint();
                    let body = json!({"api_key": pair.0, "api_secret": pair.1}).to_string();
                    let r =
                        call(&ledger, "POST", "/credentials", &[("Content-Type", "application/json")], body.as_bytes());
                    statuses.push(r.status);
                    statuses.push(call(&ledger, "GET", "/whoami", &auth(&pair), b"").status);
                    registered.push(pair.0);
                }
                (statuses, registered)
            })
        })
        .collect();

    let home = tempfile::tempdir().unwrap();
    // The load is under way before the first revocation.
    let started = time_until(Duration::from_secs(10), || {
        crate::hostile_http::snapshot(&ledger.db).matches("register").count() >= victims.len() + 20
    });
    assert!(started.is_some(), "the write load did not start");
    for victim in &victims {
        let out = etctl(home.path())
            .args(["db", "revoke", &victim.0, "--db"])
            .arg(&ledger.db)
            .args(["--reason", "race test", "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "etctl db revoke failed under load: {}", String::from_utf8_lossy(&out.stderr));
        let refused =
            time_until(Duration::from_secs(1), || call(&ledger, "GET", "/whoami", &auth(victim), b"").status == 401);
        assert!(refused.is_some(), "a db revocation under load was not honoured within 1 s");
    }
    stop.store(true, Ordering::SeqCst);

    let mut total = 0;
    let mut keys = Vec::new();
    for writer in writers {
        let (statuses, registered) = writer.join().unwrap();
        assert!(statuses.iter().all(|s| *s == 201 || *s == 200), "API answers under etctl db revoke: {statuses:?}");
        total += registered.len();
        keys.extend(registered);
    }
    eprintln!("{total} registrations beside {} etctl db revocations", victims.len());
    assert!(total > 0);
    let snap = snapshot(&ledger.db);
    for key in &keys {
        assert!(snap.contains(key.as_str()), "registered {key} is missing");
    }
    let conn = rusqlite::Connection::open(&ledger.db).unwrap();
    for v in &victims {
        let by: String =
            conn.query_row("SELECT revoked_by FROM api_credential WHERE api_key = ?1", [&v.0], |r| r.get(0)).unwrap();
        assert_eq!(by, "db");
    }
}
