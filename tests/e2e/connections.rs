//! Issue 11, item 7: sockets that are opened and never used, or that trickle a request head, must
//! not starve ledgerd. Header timeout (which is also the idle keep-alive timeout), connection cap,
//! and the open-file limit, against the real binary on real sockets.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{Ledger, LedgerOptions};
use crate::hostile_http::addr;

fn options(env: &[(&str, &str)]) -> LedgerOptions {
    LedgerOptions { env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), ..Default::default() }
}

const HEALTH_KEEP_ALIVE: &[u8] = b"GET /health HTTP/1.1\r\nHost: ledger\r\n\r\n";
const HEALTH_CLOSE: &[u8] = b"GET /health HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n";

/// Reads one response off a keep-alive connection: the head and a body of its Content-Length.
fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut byte = [0u8; 1];
    while !received.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).expect("read a response head"), 1, "the connection closed mid-answer");
        received.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&received).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .expect("a Content-Length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// Waits (at most `limit`) for the server to close `stream`; true when it did. Bytes that arrive
/// first (there should be none) are ignored.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // A reset is a close too.
            Err(_) => return true,
        }
    }
    false
}

fn connect(ledger: &Ledger) -> TcpStream {
    let stream = TcpStream::connect(addr(ledger)).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    stream
}

/// A client that sends part of a request head, one that trickles it a byte at a time, one that
/// sends nothing, and one idle after a keep-alive request: each is closed after the header timeout.
#[test]
fn slow_and_idle_connections_are_closed_after_the_header_timeout() {
    let ledger = Ledger::start_with(options(&[("LEDGERD_HEADER_TIMEOUT", "1")]));

    let mut partial = connect(&ledger);
    partial.write_all(b"GET /health HTTP/1.1\r\nHost: ledger\r\n").unwrap();

    let mut silent = connect(&ledger);

    let mut idle = connect(&ledger);
    idle.write_all(HEALTH_KEEP_ALIVE).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    assert!(read_response(&mut idle).starts_with("HTTP/1.1 200"), "the keep-alive request is answered");

    assert!(closed_within(&mut partial, Duration::from_secs(20)), "a partial head is closed after the timeout");
    assert!(closed_within(&mut silent, Duration::from_secs(20)), "a silent connection is closed after the timeout");
    assert!(closed_within(&mut idle, Duration::from_secs(20)), "an idle keep-alive connection is closed");

    // A head sent one byte every 100 ms keeps the socket busy but never completes in time.
    let mut trickle = connect(&ledger);
    let started = Instant::now();
    let mut closed = false;
    for &byte in b"GET /health HTTP/1.1\r\nHost: ledger\r\nX-Padding: ".iter().chain([b'a'; 1000].iter()) {
        if trickle.write_all(&[byte]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
    assert!(closed || closed_within(&mut trickle, Duration::from_secs(1)), "a trickled head is closed");

    // The server is as good as new.
    let mut fresh = connect(&ledger);
    fresh.write_all(HEALTH_CLOSE).unwrap();
    fresh.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    assert!(read_response(&mut fresh).starts_with("HTTP/1.1 200"));
}

/// The head of a registration whose body is still to come: the request is in flight.
fn start_registration(ledger: &Ledger) -> (TcpStream, Vec<u8>) {
    let pair = ledger.mint();
    let body = format!(r#"{{"api_key":"{}","api_secret":"{}"}}"#, pair.0, pair.1).into_bytes();
    let mut stream = connect(ledger);
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST /credentials HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..10]).unwrap();
    (stream, body[10..].to_vec())
}

/// When every slot holds a request in flight, a new connection waits unanswered, the requests are
/// unaffected, and it is answered as soon as one of them is done.
#[test]
fn past_the_cap_of_busy_connections_a_new_one_waits_and_is_served_once_one_is_done() {
    let ledger = Ledger::start_with(options(&[("LEDGERD_MAX_CONNECTIONS", "4"), ("LEDGERD_HEADER_TIMEOUT", "120")]));
    let mut busy: Vec<(TcpStream, Vec<u8>)> = (0..4).map(|_| start_registration(&ledger)).collect();
    // Let the four heads be read: each connection is then in a request.
    std::thread::sleep(Duration::from_millis(500));

    let mut waiting = connect(&ledger);
    waiting.write_all(HEALTH_CLOSE).unwrap();
    waiting.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 1];
    let early = waiting.read(&mut buf);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "a fifth connection must wait while four requests are in flight under LEDGERD_MAX_CONNECTIONS=4, got {early:?}"
    );

    // One request finishes (its connection becomes idle and gives up its slot); the others are
    // unaffected.
    for (stream, rest) in &mut busy {
        stream.write_all(rest).unwrap();
        assert!(read_response(stream).starts_with("HTTP/1.1 201"), "a request in flight is answered");
    }
    waiting.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let answer = read_response(&mut waiting);
    assert!(answer.starts_with("HTTP/1.1 200"), "the waiting connection is served once a slot frees: {answer}");
}

/// At the cap, a new connection takes the slot of the oldest connection that is not in a request:
/// idle sockets cannot keep a client out, and the newer idle connections stay open.
#[test]
fn at_the_cap_a_new_connection_takes_the_slot_of_the_oldest_idle_one() {
    let ledger = Ledger::start_with(options(&[("LEDGERD_MAX_CONNECTIONS", "4"), ("LEDGERD_HEADER_TIMEOUT", "120")]));
    let mut idle: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut stream = connect(&ledger);
            stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            stream.write_all(HEALTH_KEEP_ALIVE).unwrap();
            assert!(read_response(&mut stream).starts_with("HTTP/1.1 200"));
            stream
        })
        .collect();

    let mut fresh = connect(&ledger);
    fresh.write_all(HEALTH_CLOSE).unwrap();
    fresh.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    assert!(read_response(&mut fresh).starts_with("HTTP/1.1 200"), "a new client gets in at the cap");

    assert!(closed_within(&mut idle[0], Duration::from_secs(20)), "the oldest idle connection made room");
    for stream in &mut idle[1..] {
        stream.write_all(HEALTH_KEEP_ALIVE).unwrap();
        assert!(read_response(stream).starts_with("HTTP/1.1 200"), "newer idle connections stay open");
    }
}

/// Hundreds of idle sockets, more than a default unit's soft open-file limit and far more than the
/// cap, do not stop `/health`: the soft limit is raised at start-up, the cap keeps the rest in the
/// backlog and the header timeout frees the slots the idle ones hold.
#[test]
fn hundreds_of_idle_connections_do_not_starve_health() {
    let ledger = Ledger::start_with(LedgerOptions {
        soft_open_files: Some(128),
        ..options(&[("LEDGERD_MAX_CONNECTIONS", "50"), ("LEDGERD_HEADER_TIMEOUT", "2")])
    });
    let idle: Vec<TcpStream> = (0..300).map(|_| connect(&ledger)).collect();

    let mut health = connect(&ledger);
    health.write_all(HEALTH_CLOSE).unwrap();
    health.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let answer = read_response(&mut health);
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("\"ok\""), "{answer}");
    drop(idle);
}

/// On SIGTERM the listener closes at once, and a request already arriving is finished and
/// answered before ledgerd exits.
#[test]
fn shutdown_finishes_the_request_in_flight_and_accepts_no_more() {
    let ledger = Ledger::start();
    let pair = ledger.mint();
    let body = format!(r#"{{"api_key":"{}","api_secret":"{}"}}"#, pair.0, pair.1);
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut stream = connect(&ledger);
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST /credentials HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first).unwrap();
    // The head is in and the handler is reading the body when the signal comes.
    std::thread::sleep(Duration::from_millis(300));
    let address = addr(&ledger);
    let pid = ledger.pid();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    let refused = crate::common::time_until(Duration::from_secs(20), || TcpStream::connect(&address).is_err());
    assert!(refused.is_some(), "the listener closes on SIGTERM");
    stream.write_all(rest).unwrap();
    let answer = read_response(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 201"), "the request in flight is answered: {answer}");
    let status = ledger.terminate();
    assert!(status.success(), "{status:?}");
}
