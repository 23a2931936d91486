//! PostgreSQL going away under an open store: calls fail as faults (ledgerd answers 500, never a
//! guess), and once the server is back the same store serves again, and its change feed returns
//! what was committed meanwhile. Its own test binary: it stops its server, which no other test shares.

use et_core::{ApiKey, ApiSecret};
use et_store::{CredentialStore, NewCredential, OpenMode, PgStore};

#[test]
fn a_stopped_server_is_a_fault_and_a_restarted_one_serves_the_same_store() {
    let db = et_pgtest::database();
    let store = PgStore::open(&db.url, OpenMode::CreateIfMissing).unwrap();
    let secret = ApiSecret::parse(&format!("sk_{}", "ef".repeat(32))).unwrap();
    let c = NewCredential::new(ApiKey::generate(), secret.hash(), None);
    store.register(&c).unwrap();
    store.poll_changes().unwrap();

    et_pgtest::server().stop();
    let err = store.auth_entry(c.api_key.as_str()).unwrap_err();
    assert!(err.is_fault(), "{err}");
    assert!(store.check().is_err() && store.poll_changes().is_err());

    et_pgtest::server().start();
    // Revoked by hand while this store's connections were gone.
    db.psql(&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", c.api_key)).unwrap();
    store.check().unwrap();
    assert!(!store.auth_entry(c.api_key.as_str()).unwrap().unwrap().active);
    let events = store.poll_changes().unwrap().events;
    assert_eq!(events.iter().map(|e| (e.action.as_str(), e.actor.as_str())).collect::<Vec<_>>(), [("revoke", "db")]);
}
