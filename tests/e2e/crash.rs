//! Crashes: `kill -9` of ledgerd while clients register and revoke, a restart on the same file, and
//! every answered registration and revocation is there; `PRAGMA integrity_check` is ok.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::common::{Ledger, LedgerOptions, time_until};
use crate::hostile_http::{auth, call, request, send_raw};

const TRIALS: usize = 5;
const WRITERS: usize = 4;

fn options(db: &Path) -> LedgerOptions {
    let env =
        vec![("LEDGERD_AUTH_FAILURE_LIMIT".into(), "off".into()), ("LEDGERD_REGISTRATION_LIMIT".into(), "off".into())];
    LedgerOptions { env, db: Some(db.to_path_buf()), ..Default::default() }
}

fn integrity(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

#[test]
fn kill_9_during_registration_load_loses_nothing_that_was_answered() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let mut acknowledged: Vec<String> = Vec::new();
    let mut revoked: Vec<String> = Vec::new();
    let mut victims: Vec<(String, String)> = Vec::new();

    for trial in 0..TRIALS {
        let ledger = Arc::new(Ledger::start_with(options(&db)));
        // Everything answered before every earlier crash is still there.
        let conn = rusqlite::Connection::open(&db).unwrap();
        for key in &acknowledged {
            let found: i64 =
                conn.query_row("SELECT count(*) FROM api_credential WHERE api_key = ?1", [key], |r| r.get(0)).unwrap();
            assert_eq!(found, 1, "trial {trial}: registration {key} was answered 201 and is gone");
        }
        for key in &revoked {
            let active: i64 =
                conn.query_row("SELECT active FROM api_credential WHERE api_key = ?1", [key], |r| r.get(0)).unwrap();
            assert_eq!(active, 0, "trial {trial}: revocation of {key} was answered 200 and is undone");
        }
        drop(conn);
        assert_eq!(integrity(&db), "ok", "trial {trial}");

        let operator = ledger.register(Some("operator"));
        acknowledged.push(operator.0.clone());
        for _ in 0..20 {
            let v = ledger.register(Some("victim"));
            acknowledged.push(v.0.clone());
            victims.push(v);
        }

        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let keys = Arc::new(Mutex::new(Vec::new()));
        let mut threads: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (ledger, stop, answered, keys) = (ledger.clone(), stop.clone(), answered.clone(), keys.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let pair = ledger.mint();
                        let body = json!({"api_key": pair.0, "api_secret": pair.1}).to_string();
                        let sent =
                            request("POST", "/credentials", &[("Content-Type", "application/json")], body.as_bytes());
                        match send_raw(&ledger, &sent) {
                            Some(r) if r.status == 201 => {
                                keys.lock().unwrap().push(pair.0);
                                answered.fetch_add(1, Ordering::SeqCst);
                            }
                            Some(r) => panic!("registration answered {}: {}", r.status, r.text()),
                            None => return,
                        }
                    }
                })
            })
            .collect();
        // One client revokes this trial's victims meanwhile.
        let revocations = Arc::new(Mutex::new(Vec::new()));
        {
            let (ledger, stop, revocations) = (ledger.clone(), stop.clone(), revocations.clone());
            let mine: Vec<(String, String)> = victims[victims.len() - 20..].to_vec();
            threads.push(std::thread::spawn(move || {
                for v in mine {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    match send_raw(&ledger, &request("DELETE", &format!("/credentials/{}", v.0), &auth(&operator), b""))
                    {
                        Some(r) if r.status == 200 => revocations.lock().unwrap().push(v.0),
                        Some(r) => panic!("revocation answered {}: {}", r.status, r.text()),
                        None => return,
                    }
                }
            }));
        }

        // Crash at a different point of the load each trial.
        let target = 20 + trial * 25;
        assert!(time_until(Duration::from_secs(30), || answered.load(Ordering::SeqCst) >= target).is_some());
        let killed = Command::new("kill").arg("-KILL").arg(ledger.pid().to_string()).status().unwrap();
        assert!(killed.success());
        stop.store(true, Ordering::SeqCst);
        for t in threads {
            t.join().unwrap();
        }
        let keys = std::mem::take(&mut *keys.lock().unwrap());
        eprintln!(
            "trial {trial}: killed after {} registrations and {} revocations were answered",
            keys.len(),
            revocations.lock().unwrap().len()
        );
        acknowledged.extend(keys);
        revoked.extend(std::mem::take(&mut *revocations.lock().unwrap()));
        drop(ledger);
    }

    // The last restart: everything is there, and the server serves it.
    let ledger = Ledger::start_with(options(&db));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut lost = 0;
    for key in &acknowledged {
        let found: i64 =
            conn.query_row("SELECT count(*) FROM api_credential WHERE api_key = ?1", [key], |r| r.get(0)).unwrap();
        lost += usize::from(found != 1);
    }
    for key in &revoked {
        let active: i64 =
            conn.query_row("SELECT active FROM api_credential WHERE api_key = ?1", [key], |r| r.get(0)).unwrap();
        lost += usize::from(active != 0);
    }
    eprintln!(
        "{TRIALS} kill -9 trials: {} registrations and {} revocations answered, {lost} lost",
        acknowledged.len(),
        revoked.len()
    );
    assert_eq!(lost, 0);
    assert_eq!(integrity(&db), "ok");
    let fresh = ledger.register(Some("after the crashes"));
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&fresh), b"").status, 200);
    if let Some(gone) = revoked.first() {
        let v = victims.iter().find(|v| &v.0 == gone).unwrap();
        assert_eq!(call(&ledger, "GET", "/whoami", &auth(v), b"").status, 401);
    }
}
