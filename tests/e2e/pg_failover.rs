//! Failover (SPEC §7, issue 9 item 7): ledgerd replicas on a two-host URL
//! (`postgres://…@primary,standby/db?target_session_attrs=read-write`) in front of a primary with a
//! synchronous streaming standby (crates/et-pgtest's `cluster`). Under registration, revocation
//! and authentication load the primary dies (`immediate`) and the standby is promoted: every
//! replica finds the new primary by itself (its pool and its LISTEN connection), no acknowledged
//! registration or revocation is lost, a valid credential is never refused with 401 meanwhile,
//! and the outage clients saw (first failure to first success) is printed (`--nocapture`), not
//! asserted: the machine is noisy; the deadlines are generous. And a planned switchover, the old
//! primary fenced read-only but still up: every replica leaves it for the promoted standby.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use et_api::client::ClientError;
use et_api::{RegisterRequest, SecretString};

use crate::common::{Ledger, LedgerOptions, time_until};
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

/// What the clients of one kind saw: each answer, when, and whether it was a success.
#[derive(Default)]
struct Outcomes(Mutex<Vec<(Instant, bool)>>);

impl Outcomes {
    fn record(&self, ok: bool) {
        self.0.lock().unwrap().push((Instant::now(), ok));
    }

    /// From the first failure at or after `from` to the first success after it: the outage these
    /// clients saw (`None`: no failure at all), and how many answers failed.
    fn outage(&self, from: Instant) -> (Option<Duration>, usize) {
        let mut all = self.0.lock().unwrap().clone();
        all.sort_by_key(|(at, _)| *at);
        let failures = all.iter().filter(|(_, ok)| !ok).count();
        let Some(first_failure) = all.iter().find(|(at, ok)| *at >= from && !ok).map(|(at, _)| *at) else {
            return (None, failures);
        };
        let back = all.iter().find(|(at, ok)| *at > first_failure && *ok).map(|(at, _)| *at);
        (Some(back.expect("no success after the failover").duration_since(first_failure)), failures)
    }

    /// How long after `at` the first success came.
    fn first_success_after(&self, at: Instant) -> Option<Duration> {
        self.0.lock().unwrap().iter().filter(|(t, ok)| *t > at && *ok).map(|(t, _)| t.duration_since(at)).min()
    }

    fn successes_after(&self, at: Instant) -> usize {
        self.0.lock().unwrap().iter().filter(|(t, ok)| *t > at && *ok).count()
    }
}

/// Records `error` in `wrong` unless it is a 500: without a writable database ledgerd fails closed,
/// and says nothing else (a 4xx would be a wrong answer about the request itself).
fn fault_only(wrong: &Mutex<Vec<String>>, what: &str, error: &ClientError) {
    if !matches!(error, ClientError::Api { status: 500, .. }) {
        wrong.lock().unwrap().push(format!("{what}: {error:?}"));
    }
}

/// The keys as a PostgreSQL array literal, for `= ANY('…')`.
fn array(keys: &[String]) -> String {
    format!("{{{}}}", keys.join(","))
}

#[test]
fn a_failover_to_the_synchronous_standby_loses_no_acknowledged_registration_or_revocation() {
    let cluster = et_pgtest::cluster();
    let db = cluster.database();
    let url = cluster.url(&db.name);
    let replicas: Arc<Vec<Ledger>> = Arc::new((0..3).map(|_| replica(&url)).collect());
    let pids: Vec<u32> = replicas.iter().map(Ledger::pid).collect();

    // Credentials to revoke under load, and others that must keep working: each cached on every
    // replica first, so a revocation must reach the other replicas' caches across the failover.
    let doomed: Vec<(String, String)> = (0..150).map(|i| replicas[i % 3].register(None)).collect();
    let keepers: Vec<(String, String)> = (0..6).map(|i| replicas[i % 3].register(None)).collect();
    for pair in doomed.iter().chain(&keepers) {
        for r in replicas.iter() {
            assert_eq!(whoami(r, pair), 200);
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    let registered = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let revoked = Arc::new(Mutex::new(Vec::<String>::new()));
    let (registrations, revocations, authentications) =
        (Arc::new(Outcomes::default()), Arc::new(Outcomes::default()), Arc::new(Outcomes::default()));
    // Answers no client should see, even during the failover: anything but success or 500.
    let refused_wrongly = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut load = Vec::new();
    // Registrations, one client per replica.
    for i in 0..3 {
        let (replicas, stop, registered, outcomes, wrong) =
            (replicas.clone(), stop.clone(), registered.clone(), registrations.clone(), refused_wrongly.clone());
        load.push(std::thread::spawn(move || {
            let client = replicas[i].client();
            while !stop.load(Ordering::SeqCst) {
                let pair = replicas[i].mint();
                let request = RegisterRequest::new(pair.0.clone(), SecretString::new(&pair.1));
                let answer = client.register(&request);
                let ok = answer.is_ok();
                match answer {
                    Ok(_) => registered.lock().unwrap().push(pair),
                    Err(e) => fault_only(&wrong, "registration", &e),
                }
                outcomes.record(ok);
                std::thread::sleep(Duration::from_millis(if ok { 5 } else { 50 }));
            }
        }));
    }
    // Revocations, each through the next replica, by the credential itself.
    {
        let (replicas, stop, revoked, outcomes, doomed, wrong) = (
            replicas.clone(),
            stop.clone(),
            revoked.clone(),
            revocations.clone(),
            doomed.clone(),
            refused_wrongly.clone(),
        );
        load.push(std::thread::spawn(move || {
            for (i, pair) in doomed.iter().enumerate() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let answer = replicas[i % 3].client_as(pair).revoke(&pair.0);
                let ok = answer.as_ref().is_ok_and(|r| r.revoked);
                match answer {
                    Ok(r) if r.revoked => revoked.lock().unwrap().push(pair.0.clone()),
                    Ok(r) => wrong.lock().unwrap().push(format!("revocation answered {r:?}")),
                    Err(e) => fault_only(&wrong, "revocation", &e),
                }
                outcomes.record(ok);
                std::thread::sleep(Duration::from_millis(100));
            }
        }));
    }
    // Authentication of credentials nobody revokes: 200, or 500 while there is no writable
    // database; a 401 would be a valid credential refused.
    {
        let (replicas, stop, outcomes, keepers, wrong) =
            (replicas.clone(), stop.clone(), authentications.clone(), keepers.clone(), refused_wrongly.clone());
        load.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let status = whoami(&replicas[i % 3], &keepers[i % keepers.len()]);
                if status != 200 && status != 500 {
                    wrong.lock().unwrap().push(format!("replica {}: {status}", i % 3));
                }
                outcomes.record(status == 200);
                i += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
        }));
    }

    // Some load on the healthy pair, then the failover.
    let deadline = Instant::now() + Duration::from_secs(60);
    while registered.lock().unwrap().len() < 100 || revoked.lock().unwrap().len() < 10 {
        assert!(Instant::now() < deadline, "too little load before the failover");
        std::thread::sleep(Duration::from_millis(20));
    }
    let failed_at = Instant::now();
    cluster.primary.stop_immediately();
    // A failover manager takes a moment to decide: until the promotion only the read-only standby
    // answers, and every replica says so (/health 503; authentication 500, never 401).
    let all_unhealthy = time_until(Duration::from_secs(30), || replicas.iter().all(|r| health(r) == 503));
    assert!(all_unhealthy.is_some(), "/health stayed 200 with only a read-only standby left");
    cluster.standby.promote();
    let promoted = failed_at.elapsed();

    // The replicas find the new primary by themselves: each kind of request succeeds again on
    // every replica, /health is 200 on all, and none was restarted.
    let back = time_until(Duration::from_secs(120), || {
        registrations.successes_after(failed_at + promoted) >= 30
            && authentications.successes_after(failed_at + promoted) >= 30
            && (revocations.successes_after(failed_at + promoted) >= 5 || revoked.lock().unwrap().len() >= 140)
    });
    stop.store(true, Ordering::SeqCst);
    for thread in load {
        thread.join().unwrap();
    }
    let logs = || replicas.iter().map(Ledger::logs).collect::<Vec<_>>().join("\n----\n");
    assert!(back.is_some(), "the replicas did not serve again within 120 s of the failover:\n{}", logs());
    for (r, pid) in replicas.iter().zip(&pids) {
        assert_eq!(r.pid(), *pid);
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "a replica exited:\n{}", r.logs());
        let healthy = time_until(Duration::from_secs(30), || health(r) == 200);
        assert!(healthy.is_some(), "/health did not come back:\n{}", r.logs());
    }
    let wrong = refused_wrongly.lock().unwrap().clone();
    assert!(wrong.is_empty(), "answers other than success or 500 during the failover: {wrong:?}\n{}", logs());

    // Every 201 is in the new primary and authenticates.
    let registered = registered.lock().unwrap().clone();
    let keys: Vec<String> = registered.iter().map(|p| p.0.clone()).collect();
    let standby = &cluster.standby;
    let present = standby
        .psql(&db.name, &format!("SELECT count(*) FROM api_credential WHERE api_key = ANY('{}')", array(&keys)))
        .unwrap();
    assert_eq!(present.trim(), registered.len().to_string(), "acknowledged registrations lost in the failover");
    // Every acknowledged revocation is revoked there and refused by every replica.
    let revoked = revoked.lock().unwrap().clone();
    let still_active = standby
        .psql(
            &db.name,
            &format!("SELECT count(*) FROM api_credential WHERE active AND api_key = ANY('{}')", array(&revoked)),
        )
        .unwrap();
    assert_eq!(still_active.trim(), "0", "acknowledged revocations lost in the failover");
    for (i, pair) in doomed.iter().enumerate().filter(|(_, p)| revoked.contains(&p.0)) {
        for (n, r) in replicas.iter().enumerate() {
            assert_eq!(whoami(r, pair), 401, "revocation {i} served by replica {n} after the failover");
        }
    }
    for (i, pair) in registered.iter().enumerate() {
        assert_eq!(whoami(&replicas[i % 3], pair), 200, "registration {i}, acknowledged, does not authenticate");
    }
    for pair in &keepers {
        for r in replicas.iter() {
            assert_eq!(whoami(r, pair), 200);
        }
    }

    // The change feed follows too: every replica listens on the new primary again, and a
    // revocation through one is refused by the others.
    let listeners = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ledgerd-listener'";
    let listening = time_until(Duration::from_secs(30), || {
        standby.psql(&db.name, listeners).unwrap_or_default().trim() == replicas.len().to_string()
    });
    assert!(listening.is_some(), "the replicas' listeners did not reconnect to the new primary:\n{}", logs());
    let pair = replicas[0].register(None);
    assert!(replicas.iter().all(|r| whoami(r, &pair) == 200));
    replicas[0].client_as(&pair).revoke(&pair.0).unwrap();
    let spread = time_until(Duration::from_secs(10), || replicas.iter().all(|r| whoami(r, &pair) == 401));
    assert!(spread.is_some(), "a revocation after the failover did not reach every replica:\n{}", logs());

    let promoted_at = failed_at + promoted;
    let after = |o: &Outcomes| o.first_success_after(promoted_at);
    let (reg_outage, reg_failed) = registrations.outage(failed_at);
    let (rev_outage, rev_failed) = revocations.outage(failed_at);
    let (auth_outage, auth_failed) = authentications.outage(failed_at);
    eprintln!(
        "failover: primary stopped, standby promoted after {promoted:?}; outage seen by clients (first failure to \
         first success), and first success after the promotion: registrations {reg_outage:?}, {:?} ({reg_failed} \
         failed, {} acknowledged); revocations {rev_outage:?}, {:?} ({rev_failed} failed, {} acknowledged); \
         authentication {auth_outage:?}, {:?} ({auth_failed} failed, none 401); 0 acknowledged lost; after it a \
         revocation reached every replica in {spread:?}",
        after(&registrations),
        registered.len(),
        after(&revocations),
        revoked.len(),
        after(&authentications),
    );
}

/// A planned switchover: the old primary is fenced (`default_transaction_read_only`: it still
/// answers reads, from a trail nobody writes to any more) before the standby is promoted. Every
/// replica notices (503), leaves the old primary, and serves from the new one: registrations land
/// there, and a revocation made there by hand is refused by all.
#[test]
fn after_a_switchover_every_replica_leaves_the_fenced_old_primary() {
    let cluster = et_pgtest::cluster();
    let db = cluster.database();
    let replicas: Vec<Ledger> = (0..2).map(|_| replica(&cluster.url(&db.name))).collect();
    let pair = replicas[0].register(None);
    assert!(replicas.iter().all(|r| whoami(r, &pair) == 200));
    let logs = || replicas.iter().map(Ledger::logs).collect::<Vec<_>>().join("\n----\n");

    cluster.primary.psql("postgres", "ALTER SYSTEM SET default_transaction_read_only = on").unwrap();
    cluster.primary.psql("postgres", "SELECT pg_reload_conf()").unwrap();
    let noticed = time_until(Duration::from_secs(30), || replicas.iter().all(|r| health(r) == 503));
    assert!(noticed.is_some(), "/health stayed 200 on a read-only primary:\n{}", logs());
    let count = "SELECT count(*) FROM api_credential";
    let replayed = time_until(Duration::from_secs(30), || {
        cluster.standby.psql(&db.name, count).ok() == cluster.primary.psql(&db.name, count).ok()
    });
    assert!(replayed.is_some(), "the standby did not replay the primary");
    cluster.standby.promote();

    let back = time_until(Duration::from_secs(30), || replicas.iter().all(|r| health(r) == 200));
    assert!(back.is_some(), "the replicas did not leave the old primary:\n{}", logs());
    let late: Vec<(String, String)> = replicas.iter().map(|r| r.register(None)).collect();
    let on = |server: &et_pgtest::Server| {
        let keys: Vec<String> = late.iter().map(|p| p.0.clone()).collect();
        server.psql(&db.name, &format!("SELECT count(*) FROM api_credential WHERE api_key = ANY('{}')", array(&keys)))
    };
    assert_eq!(on(&cluster.standby).unwrap().trim(), "2", "registrations after the switchover");
    assert_eq!(on(&cluster.primary).unwrap().trim(), "0");
    let by_hand = format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", pair.0);
    cluster.standby.psql(&db.name, &by_hand).unwrap();
    let refused = time_until(Duration::from_secs(10), || replicas.iter().all(|r| whoami(r, &pair) == 401));
    assert!(refused.is_some(), "a revocation on the new primary was served from the old one:\n{}", logs());
    eprintln!("switchover: noticed after {noticed:?}, serving from the new primary {back:?} after its promotion");
}
