//! A `POST /credentials` body, decoded exactly as ledgerd's handler does before the derivation
//! check (`ledgerd_server::fuzzing::decode_register`): never panics, refuses only with 400
//! INVALID_REQUEST, accepts only a well-formed key and secret with a plain label, and never quotes
//! an `sk_` value that appears anywhere in the body (as a value or as a field name).
#![no_main]

use ledgerd_server::fuzzing::decode_register;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Every string (object keys included) in `value` that starts like a secret (without the `...` or
/// spaces of the example body the messages show).
fn looks_secret(s: &str) -> bool {
    s.starts_with("sk_") && s.len() >= 8 && !s.contains("...") && !s.contains(' ')
}

fn secret_like(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if looks_secret(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| secret_like(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if looks_secret(k) {
                    out.push(k.clone());
                }
                secret_like(v, out);
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    match decode_register(data) {
        Ok((api_key, label)) => {
            assert!(et_core::ApiKey::parse(&api_key).is_ok());
            let value: Value = serde_json::from_slice(data).expect("accepted a body that is not JSON");
            let secret = value["api_secret"].as_str().expect("accepted a body without a string api_secret");
            assert!(et_core::ApiSecret::parse(secret).is_ok());
            if let Some(label) = label {
                assert!(label.chars().count() <= 200 && !label.chars().any(char::is_control));
            }
        }
        Err(refusal) => {
            assert_eq!((refusal.status, refusal.code), (400, "INVALID_REQUEST"), "{}", refusal.message);
            assert!(!refusal.message.is_empty() && !refusal.message.contains('\n'));
            if let Ok(value) = serde_json::from_slice::<Value>(data) {
                let mut secrets = Vec::new();
                secret_like(&value, &mut secrets);
                for secret in secrets {
                    assert!(!refusal.message.contains(&secret), "the message quotes a secret: {}", refusal.message);
                }
            }
        }
    }
});
