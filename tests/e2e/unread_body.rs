//! Issue 11, item 10: a client that writes its whole (too large) body before reading the answer,
//! as Python's http.client and requests do, gets the 413 JSON, not a broken pipe. ledgerd reads
//! and discards a bounded amount of what the handler left unread before it answers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use crate::common::Ledger;
use crate::hostile_http::addr;

/// Writes `head` and `body` completely, only then reads; the answer as text, or what went wrong.
fn write_all_then_read(ledger: &Ledger, head: &str, body: &[u8]) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr(ledger)).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(head.as_bytes()).map_err(|e| format!("writing the head: {e}"))?;
    stream.write_all(body).map_err(|e| format!("writing the body: {e}"))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| format!("reading: {e}"))?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[test]
fn a_client_that_writes_a_large_body_before_reading_gets_the_413() {
    let ledger = Ledger::start();
    let body = vec![b'x'; 8 * 1024 * 1024];

    let head = format!(
        "POST /credentials HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let answer = write_all_then_read(&ledger, &head, &body).expect("the whole body is taken and answered");
    assert!(answer.starts_with("HTTP/1.1 413") && answer.contains(r#""code":"PAYLOAD_TOO_LARGE""#), "{answer}");

    // The same in chunks: the limit is met while reading, and the rest is still read.
    let mut chunked = Vec::new();
    for chunk in body.chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let head = "POST /credentials HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    let answer = write_all_then_read(&ledger, head, &chunked).expect("the whole chunked body is taken and answered");
    assert!(answer.starts_with("HTTP/1.1 413") && answer.contains(r#""code":"PAYLOAD_TOO_LARGE""#), "{answer}");

    // An authenticated route answered 401 before its body is read: same.
    let head = format!(
        "POST /accounts HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let answer = write_all_then_read(&ledger, &head, &body).expect("answered");
    assert!(answer.starts_with("HTTP/1.1 401") || answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Python's http.client, which sends the whole body before it reads.
    let script = r#"
import http.client, sys
host, port = sys.argv[1].rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=30)
conn.request("POST", "/credentials", body=b"x" * (8 * 1024 * 1024), headers={"Content-Type": "application/json"})
response = conn.getresponse()
print(response.status, response.read().decode())
"#;
    let out = Command::new("python3").args(["-c", script, &addr(&ledger)]).output().expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("413") && stdout.contains("PAYLOAD_TOO_LARGE"),
        "python3 http.client: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The server is fine, and a keep-alive connection after a drained body is still usable.
    let mut stream = TcpStream::connect(addr(&ledger)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let small = vec![b'x'; 100 * 1024];
    let head = format!(
        "POST /credentials HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        small.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&small).unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n").unwrap();
    let mut answers = String::new();
    let _ = stream.read_to_string(&mut answers);
    assert!(answers.starts_with("HTTP/1.1 413") && answers.contains("HTTP/1.1 200"), "{answers}");
}
