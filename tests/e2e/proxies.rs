//! Issue 11, item 9: behind a trusted reverse proxy the client address (rate limits, access log)
//! is the nearest untrusted `X-Forwarded-For` hop; from any other peer the header is ignored.
//! Clients connect from chosen loopback addresses (all of 127.0.0.0/8 is loopback).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

use crate::common::{Ledger, LedgerOptions};
use crate::hostile_http::addr;

/// Connects to `ledger` from `source` (an address of this machine, port chosen by the kernel).
pub fn connect_from(ledger: &Ledger, source: &str) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&format!("{source}:0").parse::<SocketAddr>().unwrap().into()).unwrap();
    socket.connect(&addr(ledger).parse::<SocketAddr>().unwrap().into()).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream
}

/// The status of `GET /whoami` with a wrong credential, sent from `source` with `forwarded` as
/// X-Forwarded-For (when given).
fn failed_auth(ledger: &Ledger, source: &str, forwarded: Option<&str>) -> u16 {
    let mut stream = connect_from(ledger, source);
    let mut request = String::from(
        "GET /whoami HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\nX-Api-Key: ak_wrong\r\nX-Api-Secret: wrong\r\n",
    );
    if let Some(forwarded) = forwarded {
        request.push_str(&format!("X-Forwarded-For: {forwarded}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no HTTP answer: {answer:?}"))
}

#[test]
fn the_limiter_keys_by_the_forwarded_address_only_behind_a_trusted_proxy() {
    let env = [("LEDGERD_AUTH_FAILURE_LIMIT", "3"), ("LEDGERD_TRUSTED_PROXIES", "127.0.0.2, 10.0.0.0/8")];
    let ledger = Ledger::start_with(LedgerOptions {
        env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..Default::default()
    });
    let proxy = "127.0.0.2";

    // Through the trusted proxy: each forwarded client has its own bucket.
    for _ in 0..3 {
        assert_eq!(failed_auth(&ledger, proxy, Some("198.51.100.1")), 401);
    }
    assert_eq!(failed_auth(&ledger, proxy, Some("198.51.100.1")), 429, "the forwarded client's bucket is empty");
    assert_eq!(failed_auth(&ledger, proxy, Some("198.51.100.2")), 401, "another client behind the proxy is not");
    // A hop the client forged to the left of the one the proxy appended is never reached, and
    // trusted hops (10.0.0.0/8: a second proxy) are skipped.
    assert_eq!(failed_auth(&ledger, proxy, Some("203.0.113.9, 198.51.100.1, 10.1.2.3")), 429);
    assert_eq!(failed_auth(&ledger, proxy, Some("198.51.100.1, 198.51.100.3")), 401);

    // A malformed X-Forwarded-For from the trusted proxy: the proxy itself is the client.
    for _ in 0..3 {
        assert_eq!(failed_auth(&ledger, proxy, Some("not-an-address")), 401);
    }
    assert_eq!(failed_auth(&ledger, proxy, None), 429, "the proxy's own bucket is empty");
    assert_eq!(failed_auth(&ledger, proxy, Some("198.51.100.4, garbage")), 429, "the walk stops at the garbage");

    // From an untrusted peer the header is ignored: the peer is the client.
    for n in 0..3 {
        assert_eq!(failed_auth(&ledger, "127.0.0.3", Some(&format!("198.51.100.{}", 10 + n))), 401);
    }
    assert_eq!(
        failed_auth(&ledger, "127.0.0.3", Some("198.51.100.20")),
        429,
        "an untrusted peer cannot pick its address"
    );
    assert_eq!(failed_auth(&ledger, "127.0.0.4", Some("198.51.100.20")), 401);

    // The access log names the client address.
    let logs = ledger.logs();
    assert!(logs.lines().any(|l| l.contains("client=198.51.100.1") && l.contains("status=401")), "{logs}");
    assert!(logs.lines().any(|l| l.contains("client=127.0.0.3") && l.contains("status=429")), "{logs}");
}

#[test]
fn a_malformed_trusted_proxy_list_is_a_start_up_error_naming_the_variable() {
    let stderr = crate::common::refused_start(&[("LEDGERD_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")]);
    assert!(stderr.contains("LEDGERD_TRUSTED_PROXIES") && stderr.contains("proxy.internal"), "{stderr}");
}
