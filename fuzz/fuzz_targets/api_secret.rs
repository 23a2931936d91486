//! `ApiSecret::parse` on any input: never panics, accepts exactly `sk_` and 64 lowercase hex
//! digits, never shows the secret in an error or in `Debug`, and hashes it as `SecretHash::of`.
#![no_main]

use et_core::{ApiSecret, SecretHash};
use libfuzzer_sys::fuzz_target;

fn spec_accepts(text: &str) -> bool {
    text.len() == 67
        && text.starts_with("sk_")
        && text.as_bytes()[3..].iter().all(|&c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ApiSecret::parse(text) {
        Ok(secret) => {
            assert!(spec_accepts(text), "accepted a secret the SPEC refuses");
            assert_eq!(secret.expose(), text);
            assert!(!format!("{secret:?}").contains(&text[3..]), "Debug shows the secret");
            assert!(secret.hash().ct_matches(&SecretHash::of(text)));
            assert!(!format!("{:?}", secret.hash()).contains(&secret.hash().to_hex()), "Debug shows the hash");
        }
        Err(error) => {
            assert!(!spec_accepts(text), "refused a secret the SPEC accepts: {error}");
            // Only a secret-looking input can be checked this way: the messages themselves say "sk_".
            if text.starts_with("sk_") && text.len() >= 12 {
                assert!(!error.to_string().contains(text), "the message quotes the secret");
            }
        }
    }
});
