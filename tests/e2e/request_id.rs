//! Issue 11, item 10: every response carries an `X-Request-Id` (the client's when it is a sane
//! short token, else a generated one), and the access log line names it and the client address.

use crate::common::Ledger;
use crate::hostile_http::{call, request, send_raw};

/// Method, path, headers, body, expected status.
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [u8], u16);

#[test]
fn every_answer_carries_a_request_id_that_the_access_log_names() {
    let ledger = Ledger::start();
    let wrong = [("X-Api-Key", "ak_wrong"), ("X-Api-Secret", "wrong")];

    // A sane id is echoed, on successes and on every kind of error.
    let cases: [Case; 5] = [
        ("GET", "/health", &[], b"", 200),
        ("GET", "/whoami", &wrong, b"", 401),
        ("GET", "/no-such-route", &[], b"", 404),
        ("PUT", "/health", &[], b"", 405),
        ("POST", "/credentials", &[("Content-Type", "application/json")], &[b'x'; 70 * 1024], 413),
    ];
    for (n, (method, path, headers, body, status)) in cases.into_iter().enumerate() {
        let id = format!("trace-{n}.abc_DEF:1+/=");
        let mut all = headers.to_vec();
        all.push(("X-Request-Id", &id));
        let answer = call(&ledger, method, path, &all, body);
        assert_eq!(answer.status, status, "{method} {path}");
        assert_eq!(answer.header("x-request-id"), Some(id.as_str()), "{method} {path} echoes the id");
    }

    // None given, or one that is not a sane token: a fresh one each time.
    let generated = |headers: &[(&str, &str)]| {
        let answer = call(&ledger, "GET", "/health", headers, b"");
        let id = answer.header("x-request-id").expect("an id on every answer").to_owned();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "generated: {id}");
        id
    };
    assert_ne!(generated(&[]), generated(&[]));
    let long = "a".repeat(65);
    let secret_like = format!("sk_{}", "0".repeat(40));
    for bad in [long.as_str(), "has space", "semi;colon", "quote\"", secret_like.as_str(), ""] {
        generated(&[("X-Request-Id", bad)]);
    }
    // Two ids are one too many.
    let twice = send_raw(&ledger, &request("GET", "/health", &[("X-Request-Id", "one"), ("X-Request-Id", "two")], b""))
        .unwrap();
    let id = twice.header("x-request-id").unwrap();
    assert!(id != "one" && id != "two", "{id}");

    // The access log line of a failure names the id and the client address; nothing secret-like.
    let logs = ledger.logs();
    let line = logs.lines().find(|l| l.contains("request_id=trace-1.abc_DEF:1+/=")).unwrap_or_else(|| panic!("{logs}"));
    assert!(line.contains("status=401") && line.contains("client=127.0.0.1"), "{line}");
    assert!(!logs.contains(&secret_like), "a secret-shaped id is never logged");
}
