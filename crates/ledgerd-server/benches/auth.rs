//! Micro-benchmark of a cache hit (`cargo bench -p ledgerd-server`): the router driven in-process
//! (no sockets), `GET /whoami` with a cached credential against `GET /health`. The difference is
//! what authentication costs on the hot path: parsing the key, hashing the presented secret, the
//! cache lookup, the constant-time compare and recording the use.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use et_core::{ApiKey, InstanceId, MasterKey};
use et_store::{CredentialStore, NewCredential, OpenMode, SqliteStore};
use ledgerd_server::{Settings, Shared, app};
use tower::ServiceExt;

fn main() {
    divan::main();
}

const MASTER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

struct Fixture {
    router: axum::Router,
    runtime: tokio::runtime::Runtime,
    key: String,
    secret: String,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let store = SqliteStore::open(&db, OpenMode::CreateIfMissing).unwrap();
    let instance = InstanceId::parse("bench").unwrap();
    let instance_key = MasterKey::from_hex(MASTER).unwrap().instance_key(&instance);
    let key = ApiKey::generate();
    let secret = instance_key.secret_for(&key);
    store.register(&NewCredential::new(key.clone(), secret.hash(), None)).unwrap();
    let state = Shared::new(Settings::new(db, instance, instance_key), Arc::new(store));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let fixture = Fixture {
        router: app(state),
        runtime,
        key: key.as_str().to_owned(),
        secret: secret.expose().to_owned(),
        _dir: dir,
    };
    // The first call misses and fills the cache; every measured one hits.
    assert_eq!(fixture.call(true), StatusCode::OK);
    fixture
}

impl Fixture {
    fn call(&self, whoami: bool) -> StatusCode {
        let request = if whoami {
            Request::get("/whoami").header("x-api-key", &self.key).header("x-api-secret", &self.secret)
        } else {
            Request::get("/health")
        };
        let request = request.body(Body::empty()).unwrap();
        self.runtime.block_on(self.router.clone().oneshot(request)).unwrap().status()
    }
}

/// `GET /health` through the whole router: the baseline without authentication.
#[divan::bench]
fn health(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| f.call(false));
}

/// `GET /whoami` answered from the auth cache (a hit), through the whole router.
#[divan::bench]
fn whoami_cache_hit(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| f.call(true));
}
