//! `ApiKey::parse` on any input: never panics, accepts exactly the SPEC §2 grammar with a matching
//! checksum (checked against `ApiKey::from_random`, an independent construction), and its error
//! messages quote positions and lengths, never the input.
#![no_main]

use et_core::ApiKey;
use libfuzzer_sys::fuzz_target;

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// What the SPEC says a key is, computed another way.
fn spec_accepts(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 43 || !text.starts_with("ak_") || !b[3..].iter().all(|&c| is_lower_hex(c)) {
        return false;
    }
    let mut random = [0u8; 16];
    for (i, byte) in random.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[3 + 2 * i..5 + 2 * i], 16).unwrap();
    }
    ApiKey::from_random(&random).as_str() == text
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ApiKey::parse(text) {
        Ok(key) => {
            assert!(spec_accepts(text), "accepted a key the SPEC refuses");
            assert_eq!(key.as_str(), text);
            assert_eq!(key.to_string(), text);
        }
        Err(error) => {
            assert!(!spec_accepts(text), "refused a key the SPEC accepts: {error}");
            let message = error.to_string();
            // Every 24-character piece of a message has a space in it, so no false alarm.
            if text.len() >= 24 && !text.contains(char::is_whitespace) {
                assert!(!message.contains(text), "the message quotes the input");
            }
        }
    }
});
