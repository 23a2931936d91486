//! A store on a two-host URL with `target_session_attrs=read-write` through a planned switchover:
//! the primary is fenced (made read-only, still up and answering reads) and its synchronous
//! standby promoted. Connections opened before stay on the old primary unless the store drops
//! them; reads there would miss every revocation made on the new primary. Its own test binary: it
//! runs a cluster of its own. (The immediate failover, with ledgerd under load, is tests/e2e/pg_failover.rs.)

use std::time::{Duration, Instant};

use et_core::{ApiKey, ApiSecret};
use et_store::{CredentialStore, NewCredential, OpenMode, PgStore};

fn new_credential() -> NewCredential {
    let secret = ApiSecret::parse(&format!("sk_{}", "ab".repeat(32))).unwrap();
    NewCredential::new(ApiKey::generate(), secret.hash(), None)
}

fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn after_a_switchover_no_connection_stays_on_the_read_only_old_primary() {
    let cluster = et_pgtest::cluster();
    let db = cluster.database();
    let store = PgStore::open(&cluster.url(&db.name), OpenMode::CreateIfMissing).unwrap();
    let creds: Vec<NewCredential> = (0..3).map(|_| new_credential()).collect();
    for c in &creds {
        store.register(c).unwrap();
    }
    store.poll_changes().unwrap();
    let listeners = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ledgerd-listener'";
    until("the listener connects to the primary", || db.psql(listeners).unwrap_or_default().trim() == "1");

    // Fenced: every transaction of the old primary, those of open connections included, is read-only.
    cluster.primary.psql("postgres", "ALTER SYSTEM SET default_transaction_read_only = on").unwrap();
    cluster.primary.psql("postgres", "SELECT pg_reload_conf()").unwrap();
    // pg_reload_conf only signals the postmaster, which then signals the backends: once a new
    // session sees the setting, every open one applies it before its next command.
    until("the old primary reloads its configuration", || {
        cluster.primary.psql("postgres", "SHOW default_transaction_read_only").unwrap_or_default().trim() == "on"
    });
    let err = store.register(&new_credential()).unwrap_err();
    assert!(err.is_fault(), "a write refused by a read-only server is a fault: {err}");
    assert!(err.to_string().contains("read-only"), "{err}");
    until("the standby replays the primary", || {
        cluster.standby.psql(&db.name, "SELECT count(*) FROM api_credential").unwrap_or_default().trim() == "3"
    });
    cluster.standby.promote();

    // Writes go to the new primary.
    let late = new_credential();
    until("a registration succeeds on the new primary", || store.register(&late).is_ok());
    let on = |server: &et_pgtest::Server| {
        server.psql(&db.name, &format!("SELECT count(*) FROM api_credential WHERE api_key = '{}'", late.api_key))
    };
    assert_eq!(on(&cluster.standby).unwrap().trim(), "1");
    assert_eq!(on(&cluster.primary).unwrap().trim(), "0");

    // A revocation made on the new primary is what the store reads, and what its change feed returns.
    let key = creds[0].api_key.as_str();
    cluster
        .standby
        .psql(&db.name, &format!("UPDATE api_credential SET active = false WHERE api_key = '{key}'"))
        .unwrap();
    let mut revoked_events = 0;
    until("the change feed returns the revocation", || {
        revoked_events += store
            .poll_changes()
            .map(|c| c.events.iter().filter(|e| e.action == "revoke" && e.api_key == key).count())
            .unwrap_or(0);
        revoked_events == 1
    });
    for _ in 0..20 {
        // Every pooled connection, not only the one that happened to be asked first.
        assert!(!store.auth_entry(key).unwrap().unwrap().active, "a revoked credential read as active");
    }
    // And the listener listens on the new primary, not on the old one.
    until("the listener moves to the new primary", || {
        cluster.standby.psql(&db.name, listeners).unwrap_or_default().trim() == "1"
            && cluster.primary.psql(&db.name, listeners).unwrap_or_default().trim() == "0"
    });
}
