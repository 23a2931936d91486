//! Interoperability with an independent implementation of SPEC §2 (`interop/spec2.py`, Python's
//! standard library only): pairs it mints are accepted by ledgerd, and pairs `etctl generate` mints
//! verify under it. Agreement with code that shares nothing with et-core is what shows both follow
//! the specification rather than each other.

use std::io::Write;
use std::process::{Command, Stdio};

use et_api::{RegisterRequest, SecretString};

use crate::common::{self, INSTANCE, Ledger, MASTER_HEX};
use crate::etctl_support::{Home, etctl};

const SPEC2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/interop/spec2.py");

fn spec2(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("python3")
        .arg(SPEC2)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the independent SPEC §2 implementation");
    child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "spec2.py {args:?} failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn minted_by_python(instance: &str, n: usize) -> Vec<(String, String)> {
    let out = spec2(&["mint", MASTER_HEX, instance, &n.to_string()], None);
    let pairs: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    pairs
        .iter()
        .map(|p| (p["api_key"].as_str().unwrap().to_owned(), p["api_secret"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn the_independent_implementation_reproduces_the_spec_vector() {
    assert_eq!(spec2(&["vector"], None).trim(), "ok");
}

#[test]
fn pairs_minted_by_another_implementation_are_accepted_by_ledgerd() {
    let ledger = Ledger::start();
    let pairs = minted_by_python(INSTANCE, 3);
    for (key, secret) in &pairs {
        let record = ledger
            .client()
            .register(&RegisterRequest {
                label: Some("python".into()),
                ..RegisterRequest::new(key.clone(), SecretString::new(secret))
            })
            .expect("ledgerd accepts a pair minted by an independent implementation");
        assert_eq!(&record.api_key, key);
    }
    let who = ledger.client_as(&pairs[0]).whoami().expect("the pair authenticates");
    assert_eq!(who.api_key, pairs[0].0);

    // The same implementation minting for another instance is refused, as SPEC §2 requires.
    let (key, secret) = minted_by_python("another-instance", 1).remove(0);
    let err = ledger.client().register(&RegisterRequest::new(key, SecretString::new(&secret))).unwrap_err();
    assert_eq!(err.code(), Some(et_api::ErrorCode::InvalidCredential));
}

#[test]
fn pairs_minted_by_etctl_verify_under_another_implementation() {
    let home = Home::new();
    let run = etctl(home.vendor_cmd(), &["generate", "--instance", "acme-prod-eu1", "-n", "200", "--json"]).ok();
    let verdict = spec2(&["verify", MASTER_HEX], Some(&run.stdout));
    assert_eq!(verdict.trim(), "ok 200");

    let key = etctl(home.vendor_cmd(), &["vendor", "instance-key", "acme-prod-eu1"]).ok();
    assert_eq!(key.stdout.trim(), common::instance_key_hex("acme-prod-eu1"));
}
