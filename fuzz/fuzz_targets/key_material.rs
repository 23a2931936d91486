//! Instance ids and hex key material on any input: `InstanceId::parse` accepts exactly 1-64
//! characters of `[a-z0-9-]`; `MasterKey::from_hex`, `InstanceKey::from_hex` and
//! `SecretHash::from_hex` accept exactly 64 hex digits (surrounding whitespace ignored) and round-trip
//! them; none panics or quotes its input. A valid id and key derive the same instance key twice.
#![no_main]

use et_core::{InstanceId, InstanceKey, MasterKey, SecretHash};
use libfuzzer_sys::fuzz_target;

fn hex_ok(text: &str) -> bool {
    let t = text.trim();
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };

    let id_ok = !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    match InstanceId::parse(text) {
        Ok(id) => {
            assert!(id_ok, "accepted a bad instance id");
            assert_eq!(id.as_str(), text);
        }
        Err(error) => {
            assert!(!id_ok, "refused a good instance id: {error}");
            // Every 24-character piece of a message has a space in it, so no false alarm.
            if text.len() >= 24 && !text.contains(char::is_whitespace) {
                assert!(!error.to_string().contains(text));
            }
        }
    }

    let expected = hex_ok(text);
    let lower = text.trim().to_ascii_lowercase();
    match MasterKey::from_hex(text) {
        Ok(master) => {
            assert!(expected, "accepted a bad master key");
            assert_eq!(master.to_hex().as_str(), lower);
            let id = InstanceId::parse("acme-prod-eu1").unwrap();
            assert_eq!(master.instance_key(&id).to_hex(), master.instance_key(&id).to_hex());
        }
        Err(error) => {
            assert!(!expected, "refused a good master key: {error}");
            // Every 24-character piece of a message has a space in it, so no false alarm. (The
            // trimmed text, as the parser sees it: a lone "1" among tabs is in "it has 1".)
            let trimmed = text.trim();
            if trimmed.len() >= 24 && !trimmed.contains(char::is_whitespace) {
                assert!(!error.to_string().contains(trimmed), "the message quotes the key");
            }
        }
    }
    assert_eq!(InstanceKey::from_hex(text).map(|k| k.to_hex().to_string()).ok(), expected.then(|| lower.clone()));
    assert_eq!(SecretHash::from_hex(text).map(|h| h.to_hex()).ok(), expected.then_some(lower));
});
