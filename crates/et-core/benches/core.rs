//! Micro-benchmarks of SPEC §2 (`cargo bench -p et-core`): what minting, registration and a
//! cache hit spend on cryptography.

use et_core::{ApiKey, ApiSecret, InstanceId, MasterKey, SecretHash};

fn main() {
    divan::main();
}

const MASTER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn fixture() -> (MasterKey, et_core::Deriver, ApiKey, ApiSecret) {
    let master = MasterKey::from_hex(MASTER).unwrap();
    let deriver = master.instance_key(&InstanceId::parse("acme-prod-eu1").unwrap()).deriver();
    let key = ApiKey::from_random(&[7; 16]);
    let secret = deriver.secret_for(&key);
    (master, deriver, key, secret)
}

/// The vendor's instance key: HMAC(master, context ‖ instance id).
#[divan::bench]
fn derive_instance_key(bencher: divan::Bencher) {
    let (master, ..) = fixture();
    let instance = InstanceId::parse("acme-prod-eu1").unwrap();
    bencher.bench_local(|| master.instance_key(divan::black_box(&instance)));
}

/// A fresh `ak_` key: 16 CSPRNG bytes, hex, SHA-256 checksum.
#[divan::bench]
fn generate_api_key() -> ApiKey {
    ApiKey::generate()
}

/// Parsing a presented `ak_` key (format and checksum), as every authentication does.
#[divan::bench]
fn parse_api_key(bencher: divan::Bencher) {
    let (_, _, key, _) = fixture();
    let text = key.as_str().to_owned();
    bencher.bench_local(|| ApiKey::parse(divan::black_box(&text)).unwrap());
}

/// Derivation of a secret: HMAC(instance key, context ‖ api_key), hex (`etctl generate`'s core).
#[divan::bench]
fn derive_secret(bencher: divan::Bencher) {
    let (_, deriver, key, _) = fixture();
    bencher.bench_local(|| deriver.secret_for(divan::black_box(&key)));
}

/// Verification of a pair against the instance key (what registration checks), constant time.
#[divan::bench]
fn verify_pair(bencher: divan::Bencher) {
    let (_, deriver, key, secret) = fixture();
    bencher.bench_local(|| deriver.verify(divan::black_box(&key), divan::black_box(&secret)));
}

/// The stored hash: SHA-256 of the presented secret (every authentication, hit or miss).
#[divan::bench]
fn hash_secret(bencher: divan::Bencher) {
    let (.., secret) = fixture();
    let text = secret.expose().to_owned();
    bencher.bench_local(|| SecretHash::of(divan::black_box(&text)));
}

/// The constant-time compare of two hashes.
#[divan::bench]
fn compare_hashes(bencher: divan::Bencher) {
    let (.., secret) = fixture();
    let (a, b) = (secret.hash(), secret.hash());
    bencher.bench_local(|| divan::black_box(&a).ct_matches(divan::black_box(&b)));
}
