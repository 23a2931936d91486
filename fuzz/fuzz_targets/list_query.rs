//! The query string of `GET /credentials`, decoded as ledgerd's handler does
//! (`ledgerd_server::fuzzing::decode_list_query`): never panics, refuses only with 400, and what it
//! accepts is in range.
#![no_main]

use ledgerd_server::fuzzing::decode_list_query;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    match decode_list_query(query) {
        Ok((status, limit, after)) => {
            assert!(["active", "revoked", "all"].contains(&status));
            assert!((1..=1000).contains(&limit));
            assert!(after.is_none_or(|a| !a.is_empty()));
        }
        Err(refusal) => {
            assert_eq!((refusal.status, refusal.code), (400, "INVALID_REQUEST"), "{}", refusal.message);
        }
    }
});
