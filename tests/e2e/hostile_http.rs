//! Hostile HTTP input against the real ledgerd, table-driven: bodies, keys and secrets, headers,
//! paths, methods, content types and raw socket garbage. Every case asserts the status, the
//! `{"code","message"}` body (when an HTTP response is expected), that nothing secret or internal
//! is echoed, and that the database did not change. Also the shared raw-HTTP helpers of the other
//! reliability tests.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Ledger, LedgerOptions, mint_for};

/// An HTTP answer read off a raw socket.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// `host:port` of a ledger.
pub fn addr(ledger: &Ledger) -> String {
    ledger.url.trim_start_matches("http://").to_owned()
}

/// Writes `bytes` on a fresh connection (ignoring a server that closes before reading them all),
/// and reads what comes back until a whole response is in or the server closes. `None`: no HTTP
/// answer. With `half_close`, the write side is shut after the bytes, so that a server waiting for
/// more of an incomplete request sees the end (hyper then drops the connection, even one whose
/// request was complete, so only garbage is sent that way).
pub fn send_raw_with(ledger: &Ledger, bytes: &[u8], half_close: bool) -> Option<Raw> {
    let mut stream = TcpStream::connect(addr(ledger)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    // Write from another thread so that a server answering before the whole body arrives is read.
    let mut writer = stream.try_clone().unwrap();
    let payload = bytes.to_vec();
    let write = std::thread::spawn(move || {
        let _ = writer.write_all(&payload);
        let _ = writer.flush();
        if half_close {
            let _ = writer.shutdown(Shutdown::Write);
        }
    });
    let mut received = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            // A reset after the answer (the server closed with our bytes unread) still leaves what
            // was read; a reset before any is "no answer".
            Err(_) => break,
        }
        if complete(&received) {
            break;
        }
    }
    let _ = write.join();
    parse(&received)
}

/// [`send_raw_with`] for a complete request.
pub fn send_raw(ledger: &Ledger, bytes: &[u8]) -> Option<Raw> {
    send_raw_with(ledger, bytes, false)
}

/// Whether `bytes` hold a whole response (head, and a body of its Content-Length).
fn complete(bytes: &[u8]) -> bool {
    let Some(end) = find(bytes, b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    match head.lines().find_map(|l| l.strip_prefix("content-length:")) {
        Some(len) => bytes.len() >= end + 4 + len.trim().parse::<usize>().unwrap_or(usize::MAX),
        None => false,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse(bytes: &[u8]) -> Option<Raw> {
    let end = find(bytes, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = bytes[end + 4..].to_vec();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    } else if let Some(len) = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()) {
        body.truncate(len);
    }
    Some(Raw { status, headers, body })
}

fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(bytes, b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&bytes[..line_end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&bytes[start..(start + size).min(bytes.len())]);
        bytes = &bytes[(start + size + 2).min(bytes.len())..];
    }
    out
}

/// A well-formed HTTP/1.1 request with `Connection: close`; `headers` are sent as given (names
/// and all), and a Content-Length is added for a non-empty body.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !body.is_empty() {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Sends one well-formed request over a raw socket; panics if nothing comes back.
pub fn call(ledger: &Ledger, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Raw {
    send_raw(ledger, &request(method, path, headers, body)).expect("ledgerd answers")
}

/// `X-Api-Key`/`X-Api-Secret` of `pair`.
pub fn auth(pair: &(String, String)) -> [(&str, &str); 2] {
    [("X-Api-Key", pair.0.as_str()), ("X-Api-Secret", pair.1.as_str())]
}

/// Asserts that `text` holds no secret value and no internal detail.
#[track_caller]
pub fn assert_no_leak(context: &str, text: &str, secrets: &[String]) {
    assert_no_secret(context, text, secrets);
    let lower = text.to_ascii_lowercase();
    for internal in ["rusqlite", "sqlite", "panicked", "/tmp/", "ledger.db", "backtrace", "src/", ".rs:"] {
        assert!(!lower.contains(internal), "{context}: internal detail {internal:?} was echoed: {text}");
    }
}

/// Asserts that `text` holds none of `secrets` and no `sk_` value at all.
#[track_caller]
pub fn assert_no_secret(context: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(!text.contains(&secret[3..]), "{context}: a secret was echoed: {text}");
    }
    // Any sk_ followed by hex is a secret value, whoever's.
    for (i, _) in text.match_indices("sk_") {
        let after = &text[i + 3..];
        let hex = after.chars().take_while(|c| c.is_ascii_hexdigit()).count();
        assert!(hex < 8, "{context}: an sk_ value was echoed: {text}");
    }
}

/// Every row of the credential and audit tables (but `last_used_at`, which authenticated reads
/// move) and of the accounts, as text, read with a separate connection.
pub fn snapshot(db: &Path) -> String {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut out = String::new();
    for sql in [
        "SELECT api_key, api_secret_hash, label, active, created_at, revoked_at, revoked_by, revoke_reason \
         FROM api_credential ORDER BY rowid",
        "SELECT id, at, api_key, action, actor, reason FROM credential_audit ORDER BY id",
        "SELECT id, name, created_at FROM account ORDER BY rowid",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                let value: rusqlite::types::Value = row.get(i).unwrap();
                out.push_str(&format!("{value:?}|"));
            }
            out.push('\n');
        }
        out.push_str("--\n");
    }
    out
}

/// What a case expects back.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This status with the JSON error body of this code.
    Error(u16, &'static str),
    /// This status with a JSON body that is not an error (a request that is fine after all).
    Ok(u16),
    /// hyper refuses it before ledgerd sees it: this status, an empty body, no JSON.
    Bare(u16),
    /// No HTTP answer at all, or a bare 400 from hyper: the connection is closed.
    Dropped,
}

struct Case {
    name: String,
    request: Vec<u8>,
    expect: Expect,
}

fn json_post(path: &str, body: &[u8]) -> Vec<u8> {
    request("POST", path, &[("Content-Type", "application/json")], body)
}

fn register_body(key: &str, secret: &str) -> Vec<u8> {
    json!({"api_key": key, "api_secret": secret}).to_string().into_bytes()
}

/// Changes the last character of `text` to another hex digit.
fn flip_last(text: &str) -> String {
    let (head, last) = text.split_at(text.len() - 1);
    format!("{head}{}", if last == "0" { "1" } else { "0" })
}

#[test]
fn hostile_requests_get_a_json_error_echo_nothing_and_change_nothing() {
    let env = vec![
        ("RUST_LOG".into(), "debug".into()),
        ("LEDGERD_AUTH_FAILURE_LIMIT".into(), "off".into()),
        ("LEDGERD_REGISTRATION_LIMIT".into(), "off".into()),
        // A request that never finishes its body is answered 408 after this.
        ("LEDGERD_REQUEST_TIMEOUT".into(), "2".into()),
    ];
    let ledger = Ledger::start_with(LedgerOptions { env, ..Default::default() });
    let operator = ledger.register(Some("operator"));
    let revoked = ledger.register(Some("revoked"));
    assert_eq!(call(&ledger, "DELETE", &format!("/credentials/{}", revoked.0), &auth(&operator), b"").status, 200);
    // Minted but never registered: registering them is the only thing that could change the
    // database, and every case that tries has something else wrong.
    let fresh = ledger.mint();
    let other = ledger.mint();
    let foreign = mint_for("another-instance");
    let secrets: Vec<String> = [&operator, &revoked, &fresh, &other, &foreign].iter().map(|p| p.1.clone()).collect();
    let op = auth(&operator);

    let mut cases: Vec<Case> = Vec::new();
    let mut add = |name: &str, request: Vec<u8>, expect: Expect| {
        cases.push(Case { name: name.to_owned(), request, expect });
    };
    use Expect::*;
    const BAD: Expect = Error(400, "INVALID_REQUEST");
    const UNAUTH: Expect = Error(401, "UNAUTHORIZED");

    // Bodies.
    add("invalid JSON", json_post("/credentials", b"{"), BAD);
    add("truncated JSON", json_post("/credentials", format!(r#"{{"api_key": "{}""#, fresh.0).as_bytes()), BAD);
    add("whitespace body", json_post("/credentials", b"  \n\t "), BAD);
    add("JSON null", json_post("/credentials", b"null"), BAD);
    add("JSON array", json_post("/credentials", b"[]"), BAD);
    add("JSON string", json_post("/credentials", br#""ak_""#), BAD);
    add(
        "key is a number",
        json_post("/credentials", format!(r#"{{"api_key": 7, "api_secret": "{}"}}"#, fresh.1).as_bytes()),
        BAD,
    );
    add(
        "key is null",
        json_post("/credentials", format!(r#"{{"api_key": null, "api_secret": "{}"}}"#, fresh.1).as_bytes()),
        BAD,
    );
    add(
        "key is an array",
        json_post("/credentials", json!({"api_key": [fresh.0], "api_secret": fresh.1}).to_string().as_bytes()),
        BAD,
    );
    add(
        "secret is an object",
        json_post("/credentials", json!({"api_key": fresh.0, "api_secret": {"v": fresh.1}}).to_string().as_bytes()),
        BAD,
    );
    add(
        "label is a number",
        json_post(
            "/credentials",
            json!({"api_key": fresh.0, "api_secret": fresh.1, "label": 5}).to_string().as_bytes(),
        ),
        BAD,
    );
    add("secret missing", json_post("/credentials", json!({"api_key": fresh.0}).to_string().as_bytes()), BAD);
    add("key missing", json_post("/credentials", json!({"api_secret": fresh.1}).to_string().as_bytes()), BAD);
    add(
        "extra field",
        json_post(
            "/credentials",
            json!({"api_key": fresh.0, "api_secret": fresh.1, "admin": true}).to_string().as_bytes(),
        ),
        BAD,
    );
    add(
        "extra field named by a secret",
        json_post(
            "/credentials",
            json!({"api_key": fresh.0, "api_secret": fresh.1, other.1.clone(): 1}).to_string().as_bytes(),
        ),
        BAD,
    );
    add(
        "duplicate field, second wins?",
        json_post(
            "/credentials",
            format!(r#"{{"api_key": "{}", "api_key": "ak_x", "api_secret": "{}"}}"#, fresh.0, fresh.1).as_bytes(),
        ),
        BAD,
    );
    add(
        "deeply nested arrays",
        json_post(
            "/credentials",
            format!(r#"{{"api_key": {}1{}}}"#, "[".repeat(30_000), "]".repeat(30_000)).as_bytes(),
        ),
        BAD,
    );
    add(
        "deeply nested objects",
        json_post("/credentials", format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000)).as_bytes()),
        BAD,
    );
    add(
        "NUL escaped in the label",
        json_post(
            "/credentials",
            json!({"api_key": fresh.0, "api_secret": fresh.1, "label": "a\u{0}b"}).to_string().as_bytes(),
        ),
        BAD,
    );
    add(
        "raw NUL byte in the body",
        json_post(
            "/credentials",
            format!("{{\"api_key\": \"{}\0\", \"api_secret\": \"{}\"}}", fresh.0, fresh.1).as_bytes(),
        ),
        BAD,
    );
    add("not UTF-8", json_post("/credentials", b"{\"api_key\": \"\xff\xfe\"}"), BAD);
    add(
        "non-ASCII in the key",
        json_post("/credentials", &register_body(&format!("{}é", &fresh.0[..42]), &fresh.1)),
        BAD,
    );
    add(
        "non-ASCII lookalike prefix",
        json_post("/credentials", &register_body(&format!("аk_{}", &fresh.0[3..]), &fresh.1)),
        BAD,
    );
    add(
        "label of 201 characters",
        json_post(
            "/credentials",
            json!({"api_key": fresh.0, "api_secret": fresh.1, "label": "é".repeat(201)}).to_string().as_bytes(),
        ),
        BAD,
    );
    add(
        "SQL in the key",
        json_post("/credentials", &register_body("ak_'); DROP TABLE api_credential; --", &fresh.1)),
        BAD,
    );
    add(
        "SQL in the label, foreign pair",
        json_post(
            "/credentials",
            json!({"api_key": foreign.0, "api_secret": foreign.1, "label": "x'); DELETE FROM credential_audit; --"})
                .to_string()
                .as_bytes(),
        ),
        Error(403, "INVALID_CREDENTIAL"),
    );
    add("SQL in the cursor", request("GET", "/credentials?after=%27%20OR%201%3D1%20--", &op, b""), BAD);
    add(
        "SQL in the account id",
        request("GET", "/account/x'%20OR%20'1'%3D'1", &op, b""),
        Error(404, "ACCOUNT_NOT_FOUND"),
    );
    let five_mb = json!({"api_key": fresh.0, "api_secret": fresh.1, "label": "x".repeat(5 << 20)}).to_string();
    add("5 MB body", json_post("/credentials", five_mb.as_bytes()), Error(413, "PAYLOAD_TOO_LARGE"));
    let mut chunked = b"POST /credentials HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in five_mb.as_bytes().chunks(1 << 16) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    add("5 MB body, chunked", chunked, Error(413, "PAYLOAD_TOO_LARGE"));
    add(
        "5 MB account name",
        request(
            "POST",
            "/accounts",
            &[op[0], op[1], ("Content-Type", "application/json")],
            json!({"name": "n".repeat(5 << 20)}).to_string().as_bytes(),
        ),
        Error(413, "PAYLOAD_TOO_LARGE"),
    );
    add(
        "form-encoded",
        request(
            "POST",
            "/credentials",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            format!("api_key={}&api_secret={}", fresh.0, fresh.1).as_bytes(),
        ),
        Error(415, "UNSUPPORTED_MEDIA_TYPE"),
    );
    add(
        "form body labelled JSON",
        json_post("/credentials", format!("api_key={}&api_secret={}", fresh.0, fresh.1).as_bytes()),
        BAD,
    );
    add(
        "no content type",
        request("POST", "/credentials", &[], &register_body(&fresh.0, &other.1)),
        Error(415, "UNSUPPORTED_MEDIA_TYPE"),
    );
    add(
        "text/plain",
        request("POST", "/credentials", &[("Content-Type", "text/plain")], &register_body(&fresh.0, &other.1)),
        Error(415, "UNSUPPORTED_MEDIA_TYPE"),
    );
    add(
        "multipart",
        request(
            "POST",
            "/credentials",
            &[("Content-Type", "multipart/form-data; boundary=x")],
            b"--x\r\n\r\nak\r\n--x--",
        ),
        Error(415, "UNSUPPORTED_MEDIA_TYPE"),
    );
    add(
        "application/jsonx",
        request("POST", "/credentials", &[("Content-Type", "application/jsonx")], &register_body(&fresh.0, &other.1)),
        Error(415, "UNSUPPORTED_MEDIA_TYPE"),
    );
    add(
        "empty content type",
        request("POST", "/credentials", &[("Content-Type", "")], &register_body(&fresh.0, &other.1)),
        Error(415, "UNSUPPORTED_MEDIA_TYPE"),
    );

    // Keys and secrets, registered.
    let body = |key: &str, secret: &str| json_post("/credentials", &register_body(key, secret));
    add("key: wrong prefix", body(&format!("pk_{}", &fresh.0[3..]), &fresh.1), BAD);
    add("key: upper-case prefix", body(&format!("AK_{}", &fresh.0[3..]), &fresh.1), BAD);
    add("key: upper-case hex", body(&format!("ak_{}", fresh.0[3..].to_ascii_uppercase()), &fresh.1), BAD);
    add("key: one short", body(&fresh.0[..42], &fresh.1), BAD);
    add("key: one long", body(&format!("{}0", fresh.0), &fresh.1), BAD);
    add("key: checksum", body(&flip_last(&fresh.0), &fresh.1), BAD);
    add("key: leading space", body(&format!(" {}", fresh.0), &fresh.1), BAD);
    add("key: trailing newline", body(&format!("{}\n", fresh.0), &fresh.1), BAD);
    add("key: empty", body("", &fresh.1), BAD);
    add("key: the secret", body(&fresh.1, &fresh.1), BAD);
    add("secret: wrong prefix", body(&fresh.0, &format!("ak_{}", &fresh.1[3..])), BAD);
    add("secret: upper-case", body(&fresh.0, &fresh.1.to_ascii_uppercase()), BAD);
    add("secret: one short", body(&fresh.0, &fresh.1[..fresh.1.len() - 1]), BAD);
    add("secret: one long", body(&fresh.0, &format!("{}0", fresh.1)), BAD);
    add("secret: trailing space", body(&fresh.0, &format!("{} ", fresh.1)), BAD);
    add("secret: empty", body(&fresh.0, ""), BAD);
    add("secret: last digit changed", body(&fresh.0, &flip_last(&fresh.1)), Error(403, "INVALID_CREDENTIAL"));
    add("secret: another key's", body(&fresh.0, &other.1), Error(403, "INVALID_CREDENTIAL"));
    add("pair: another instance's", body(&foreign.0, &foreign.1), Error(403, "INVALID_CREDENTIAL"));
    add("pair: already registered", body(&operator.0, &operator.1), Error(409, "DUPLICATE_API_KEY"));
    add("pair: revoked", body(&revoked.0, &revoked.1), Error(409, "DUPLICATE_API_KEY"));

    // Keys and secrets, authenticating.
    let whoami = |headers: &[(&str, &str)]| request("GET", "/whoami", headers, b"");
    let with_secret = |s: &str| whoami(&[("X-Api-Key", &operator.0), ("X-Api-Secret", s)]);
    let with_key = |k: &str| whoami(&[("X-Api-Key", k), ("X-Api-Secret", &operator.1)]);
    add("auth: no headers", whoami(&[]), UNAUTH);
    add("auth: key only", whoami(&[op[0]]), UNAUTH);
    add("auth: secret only", whoami(&[op[1]]), UNAUTH);
    add("auth: both empty", whoami(&[("X-Api-Key", ""), ("X-Api-Secret", "")]), UNAUTH);
    add("auth: wrong key prefix", with_key(&format!("sk_{}", &operator.0[3..])), UNAUTH);
    add("auth: key upper-case", with_key(&operator.0.to_ascii_uppercase()), UNAUTH);
    add("auth: key checksum", with_key(&flip_last(&operator.0)), UNAUTH);
    add("auth: key one short", with_key(&operator.0[..42]), UNAUTH);
    add("auth: unregistered key", with_key(&fresh.0), UNAUTH);
    add("auth: secret last digit", with_secret(&flip_last(&operator.1)), UNAUTH);
    add("auth: secret upper-case", with_secret(&operator.1.to_ascii_uppercase()), UNAUTH);
    add("auth: secret one long", with_secret(&format!("{}0", operator.1)), UNAUTH);
    add("auth: another key's secret", with_secret(&other.1), UNAUTH);
    add("auth: key and secret swapped", whoami(&[("X-Api-Key", &operator.1), ("X-Api-Secret", &operator.0)]), UNAUTH);
    add("auth: revoked credential", whoami(&auth(&revoked)), UNAUTH);
    add("auth: 10 KB secret", with_secret(&"f".repeat(10_000)), UNAUTH);
    add("auth: space inside the secret", with_secret(&format!("{} {}", &operator.1[..10], &operator.1[10..])), UNAUTH);

    // Headers.
    add("headers: lower-case names", whoami(&[("x-api-key", &operator.0), ("x-api-secret", &operator.1)]), Ok(200));
    add("headers: upper-case names", whoami(&[("X-API-KEY", &operator.0), ("X-API-SECRET", &operator.1)]), Ok(200));
    add(
        "headers: padded values",
        whoami(&[("X-Api-Key", &format!("  {}  ", operator.0)), ("X-Api-Secret", &format!("\t{}", operator.1))]),
        Ok(200),
    );
    add("headers: key twice, same", whoami(&[op[0], op[0], op[1]]), UNAUTH);
    add("headers: key twice, different", whoami(&[("X-Api-Key", &revoked.0), op[0], op[1]]), UNAUTH);
    add("headers: secret twice", whoami(&[op[0], ("X-Api-Secret", &other.1), op[1]]), UNAUTH);
    add(
        "headers: secret as two fields",
        whoami(&[op[0], ("X-Api-Secret", &operator.1[..30]), ("X-Api-Secret", &operator.1[30..])]),
        UNAUTH,
    );
    add(
        "headers: non-ASCII bytes in the key",
        {
            let mut r = whoami(&[op[1]]);
            let at = r.len() - 2;
            r.splice(at..at, b"X-Api-Key: ak_\xff\xfe\r\n".iter().copied());
            r
        },
        UNAUTH,
    );
    add("headers: 20 KiB header", request("GET", "/health", &[("X-Padding", &"p".repeat(20 * 1024))], b""), BAD);
    let many: Vec<(String, String)> = (0..80).map(|i| (format!("X-H{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    add("headers: 80 fields", request("GET", "/health", &many, b""), BAD);
    let flood: Vec<(String, String)> = (0..150).map(|i| (format!("X-H{i}"), "v".into())).collect();
    let flood: Vec<(&str, &str)> = flood.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    add("headers: 150 fields (hyper's limit)", request("GET", "/health", &flood, b""), Bare(431));
    add(
        "headers: 600 KiB (hyper's limit)",
        request("GET", "/health", &[("X-Padding", &"p".repeat(600 * 1024))], b""),
        Bare(431),
    );
    add(
        "headers: NUL in a value",
        b"GET /health HTTP/1.1\r\nHost: l\r\nX-A: a\0b\r\nConnection: close\r\n\r\n".to_vec(),
        Dropped,
    );
    add(
        "headers: line without a colon",
        b"GET /health HTTP/1.1\r\nHost: l\r\nnot a header\r\nConnection: close\r\n\r\n".to_vec(),
        Dropped,
    );
    add(
        "headers: space before the colon",
        b"GET /health HTTP/1.1\r\nHost : l\r\nConnection: close\r\n\r\n".to_vec(),
        Dropped,
    );
    // RFC 9112: chunked wins over Content-Length; the chunked body here is empty.
    add("headers: Content-Length and chunked", b"POST /credentials HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n".to_vec(), BAD);
    add("headers: two Content-Lengths", b"POST /credentials HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}".to_vec(), Dropped);
    add("headers: negative Content-Length", b"POST /credentials HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n{}".to_vec(), Dropped);
    add("headers: body shorter than Content-Length", b"POST /credentials HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"api_key\"".to_vec(), Error(408, "REQUEST_TIMEOUT"));
    add("headers: bad chunk size", b"POST /credentials HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec(), BAD);

    // Paths.
    add("path: encoded slashes", request("GET", "/credentials/ak_%2F..%2F..%2Fetc%2Fpasswd", &op, b""), BAD);
    add("path: traversal", request("GET", "/credentials/../../etc/passwd", &op, b""), Error(404, "NOT_FOUND"));
    add("path: encoded traversal", request("GET", "/credentials/..%2F..%2Fledger.db", &op, b""), BAD);
    add("path: overlong key", request("GET", &format!("/credentials/ak_{}", "a".repeat(10_000)), &op, b""), BAD);
    add(
        "path: overlong account id",
        request("GET", &format!("/account/{}", "a".repeat(10_000)), &op, b""),
        Error(404, "ACCOUNT_NOT_FOUND"),
    );
    add("path: encoded NUL", request("GET", "/credentials/ak_%00", &op, b""), BAD);
    add("path: not UTF-8", request("GET", "/credentials/ak_%FF%FE", &op, b""), BAD);
    add("path: a secret as the key", request("GET", &format!("/credentials/{}", other.1), &op, b""), BAD);
    add("path: revoke with a secret", request("DELETE", &format!("/credentials/{}", operator.1), &op, b""), BAD);
    add(
        "path: revoke an unknown key",
        request("DELETE", &format!("/credentials/{}", fresh.0), &op, b""),
        Error(404, "CREDENTIAL_NOT_FOUND"),
    );
    add("path: trailing slash", request("GET", "/whoami/", &op, b""), Error(404, "NOT_FOUND"));
    add("path: double slash", request("GET", "//whoami", &op, b""), Error(404, "NOT_FOUND"));
    add("path: upper case", request("GET", "/WHOAMI", &op, b""), Error(404, "NOT_FOUND"));
    add("path: 60 KiB", request("GET", &format!("/{}", "x".repeat(60 * 1024)), &[], b""), Error(404, "NOT_FOUND"));
    add("path: absolute-form URI", request("GET", "http://evil.example/whoami", &op, b""), Ok(200));
    add("query: bad status", request("GET", "/credentials?status=bogus", &op, b""), BAD);
    add("query: huge limit", request("GET", "/credentials?limit=99999999999999999999", &op, b""), BAD);
    add("query: unknown parameter", request("GET", "/credentials?sk_deadbeefdeadbeef=1", &op, b""), BAD);
    add("query: bad percent-encoding", request("GET", "/credentials?status=%ZZ", &op, b""), BAD);
    add("query: secret as cursor", request("GET", &format!("/credentials?after={}", other.1), &op, b""), BAD);

    // Methods.
    add("method: PUT", request("PUT", "/credentials", &op, b""), Error(405, "METHOD_NOT_ALLOWED"));
    // PATCH /credentials/{api_key} exists (SPEC §6): without a JSON body it is 415; elsewhere 405.
    add(
        "method: PATCH without a body",
        request("PATCH", &format!("/credentials/{}", operator.0), &op, b""),
        Error(415, "UNSUPPORTED_MEDIA_TYPE"),
    );
    add("method: PATCH on /credentials", request("PATCH", "/credentials", &op, b""), Error(405, "METHOD_NOT_ALLOWED"));
    add("method: DELETE on /whoami", request("DELETE", "/whoami", &op, b""), Error(405, "METHOD_NOT_ALLOWED"));
    add("method: DELETE with no key", request("DELETE", "/credentials", &op, b""), Error(405, "METHOD_NOT_ALLOWED"));
    add("method: OPTIONS", request("OPTIONS", "/credentials", &[], b""), Error(405, "METHOD_NOT_ALLOWED"));
    add("method: TRACE", request("TRACE", "/health", &[], b""), Error(405, "METHOD_NOT_ALLOWED"));
    add("method: made up", request("FROB", "/health", &[], b""), Error(405, "METHOD_NOT_ALLOWED"));
    add("method: lower-case get", request("get", "/health", &[], b""), Error(405, "METHOD_NOT_ALLOWED"));
    add(
        "method: CONNECT",
        b"CONNECT ledger:443 HTTP/1.1\r\nHost: ledger:443\r\nConnection: close\r\n\r\n".to_vec(),
        Error(404, "NOT_FOUND"),
    );

    // Raw socket garbage.
    add("raw: random bytes", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(), Dropped);
    add("raw: TLS ClientHello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03hello-tls-client".to_vec(), Dropped);
    add("raw: HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), Dropped);
    add("raw: blank lines only", b"\r\n\r\n\r\n\r\n".to_vec(), Dropped);
    add("raw: HTTP/9.9", b"GET /health HTTP/9.9\r\nHost: l\r\n\r\n".to_vec(), Dropped);
    add("raw: no version", b"GET /health\r\n\r\n".to_vec(), Dropped);
    add("raw: bare LF line endings", b"GET /health HTTP/1.1\nHost: l\nConnection: close\n\n".to_vec(), Ok(200));
    add("raw: HTTP/1.0 without Host", b"GET /health HTTP/1.0\r\n\r\n".to_vec(), Ok(200));
    add(
        "raw: 10 KiB method",
        format!("{} /health HTTP/1.1\r\nHost: l\r\n\r\n", "G".repeat(10 * 1024)).into_bytes(),
        Error(405, "METHOD_NOT_ALLOWED"),
    );
    add("raw: secret as the request line", format!("{}\r\n\r\n", other.1).into_bytes(), Dropped);
    add("raw: nothing at all", Vec::new(), Dropped);

    let before = snapshot(&ledger.db);
    let count = cases.len();
    for case in &cases {
        let context = format!("case {:?}", case.name);
        let answer = send_raw_with(&ledger, &case.request, matches!(case.expect, Dropped));
        eprintln!(
            "{context}: {:?}",
            answer.as_ref().map(|r| (r.status, r.text().chars().take(100).collect::<String>()))
        );
        match (case.expect, &answer) {
            (Error(status, code), Some(raw)) => {
                assert_eq!(raw.status, status, "{context}: {}", raw.text());
                let body = raw.json();
                assert_eq!(body["code"], code, "{context}: {}", raw.text());
                assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{context}: {}", raw.text());
                assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{context}: only code and message");
                assert_eq!(raw.header("content-type"), Some("application/json"), "{context}");
            }
            (Ok(status), Some(raw)) => {
                assert_eq!(raw.status, status, "{context}: {}", raw.text());
                assert!(raw.json().is_object(), "{context}: {}", raw.text());
            }
            (Bare(status), Some(raw)) => {
                assert_eq!(raw.status, status, "{context}: {}", raw.text());
                assert!(raw.body.is_empty(), "{context}: {}", raw.text());
            }
            (Dropped, None) => {}
            (Dropped, Some(raw)) => {
                // hyper's own refusal of a request it cannot parse: a bare 4xx/5xx, then close.
                assert!(matches!(raw.status, 400 | 505), "{context}: {} {}", raw.status, raw.text());
                assert!(raw.body.is_empty(), "{context}: {}", raw.text());
            }
            (expect, None) => panic!("{context}: expected {expect:?}, got no answer"),
        }
        if let Some(raw) = &answer {
            assert_no_leak(&context, &raw.text(), &secrets);
            for (name, value) in &raw.headers {
                assert_no_leak(&context, &format!("{name}: {value}"), &secrets);
            }
        }
    }
    eprintln!("{count} hostile cases sent");
    assert!(count >= 60, "only {count} cases");

    // Nothing changed, the server is still up, and its debug log holds no secret and no panic.
    assert_eq!(snapshot(&ledger.db), before, "a hostile request changed the database");
    assert_eq!(call(&ledger, "GET", "/health", &[], b"").status, 200);
    assert_eq!(call(&ledger, "GET", "/whoami", &op, b"").status, 200);
    let logs = ledger.logs();
    for secret in &secrets {
        assert!(!logs.contains(&secret[3..]), "the log holds a secret");
    }
    assert!(!logs.contains("panicked"), "{logs}");
}

/// The abuse limits: failed authentications and registrations per client address, 429
/// RATE_LIMITED with Retry-After past them; good credentials and valid pairs unaffected; `off`
/// disables.
#[test]
fn rate_limits_answer_429_with_retry_after() {
    let env =
        vec![("LEDGERD_AUTH_FAILURE_LIMIT".into(), "5".into()), ("LEDGERD_REGISTRATION_LIMIT".into(), "3".into())];
    let ledger = Ledger::start_with(LedgerOptions { env, ..Default::default() });
    let operator = ledger.register(Some("operator"));
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&operator), b"").status, 200);
    let spare = ledger.register(Some("not used yet"));
    let stranger = ledger.mint();
    let secrets = vec![operator.1.clone(), spare.1.clone(), stranger.1.clone()];

    for i in 0..5 {
        let r = call(&ledger, "GET", "/whoami", &auth(&stranger), b"");
        assert_eq!(r.status, 401, "failure {i}: {}", r.text());
    }
    let limited = call(&ledger, "GET", "/whoami", &auth(&stranger), b"");
    assert_eq!(limited.status, 429, "{}", limited.text());
    assert_eq!(limited.json()["code"], "RATE_LIMITED");
    assert_eq!(limited.header("retry-after"), Some("12"), "5 a minute: one every 12 s");
    assert_no_leak("429", &limited.text(), &secrets);
    // A correct credential is never refused, cached or not.
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&operator), b"").status, 200);
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&spare), b"").status, 200);
    // Wrong secrets for the cached credential are failures too.
    let wrong = (operator.0.clone(), stranger.1.clone());
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&wrong), b"").status, 429);

    // Registrations: successful ones never count (a provisioning script may register many)...
    let body = |p: &(String, String)| json!({"api_key": p.0, "api_secret": p.1}).to_string();
    let json_type = [("Content-Type", "application/json")];
    for _ in 0..10 {
        assert_eq!(call(&ledger, "POST", "/credentials", &json_type, body(&ledger.mint()).as_bytes()).status, 201);
    }
    // ...refused ones do: three pairs minted for another instance are 403, and past the limit
    // further refusals are 429 until the bucket refills (a valid pair is still registered).
    for _ in 0..3 {
        let foreign = mint_for("another-instance");
        assert_eq!(call(&ledger, "POST", "/credentials", &json_type, body(&foreign).as_bytes()).status, 403);
    }
    let foreign = mint_for("another-instance");
    let r = call(&ledger, "POST", "/credentials", &json_type, body(&foreign).as_bytes());
    assert_eq!((r.status, r.json()["code"].as_str()), (429, Some("RATE_LIMITED")), "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("20"));
    assert_eq!(call(&ledger, "POST", "/credentials", &json_type, body(&ledger.mint()).as_bytes()).status, 201);
    let metrics = call(&ledger, "GET", "/metrics", &[], b"").text();
    assert!(metrics.contains(r#"status="429""#), "{metrics}");

    // The default (60 a minute) lets a normal client's mistakes through and stops a flood.
    let ledger = Ledger::start();
    let statuses: Vec<u16> = (0..61).map(|_| call(&ledger, "GET", "/whoami", &auth(&stranger), b"").status).collect();
    assert!(statuses[..60].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[60], 429);

    // And `off` is off.
    let env = vec![("LEDGERD_AUTH_FAILURE_LIMIT".into(), "off".into())];
    let ledger = Ledger::start_with(LedgerOptions { env, ..Default::default() });
    assert!((0..100).all(|_| call(&ledger, "GET", "/whoami", &auth(&stranger), b"").status == 401));
}

/// Issue 11, item 6: only failures are limited. After more failures from 127.0.0.1 than the limit
/// allows, a correct credential that is not cached (cache off) still gets 200 and a valid pair
/// still gets 201, while failures from that address go on being answered 429.
#[test]
fn a_correct_credential_or_a_valid_pair_is_never_refused_by_a_limiter() {
    let env = vec![("LEDGERD_AUTH_CACHE_TTL".into(), "0".into())];
    let ledger = Ledger::start_with(LedgerOptions { env, ..Default::default() });
    let operator = ledger.register(Some("operator"));
    let stranger = ledger.mint();
    let failures: Vec<u16> = (0..65).map(|_| call(&ledger, "GET", "/whoami", &auth(&stranger), b"").status).collect();
    assert_eq!(failures.last(), Some(&429), "the 61st failure onwards is limited: {failures:?}");
    // Cache off: every authentication reads the database, the correct one included.
    for _ in 0..3 {
        let r = call(&ledger, "GET", "/whoami", &auth(&operator), b"");
        assert_eq!(r.status, 200, "a correct credential was refused after failures from its address: {}", r.text());
    }
    // A fresh credential registered after the failures authenticates too.
    let fresh = ledger.register(Some("fresh"));
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&fresh), b"").status, 200);
    // Failures stay limited.
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&stranger), b"").status, 429);

    let body = |p: &(String, String)| json!({"api_key": p.0, "api_secret": p.1}).to_string();
    let json_type = [("Content-Type", "application/json")];
    let junk: Vec<u16> = (0..62)
        .map(|_| {
            call(&ledger, "POST", "/credentials", &json_type, body(&mint_for("another-instance")).as_bytes()).status
        })
        .collect();
    assert_eq!(junk.last(), Some(&429), "the 61st refused registration onwards is limited: {junk:?}");
    for _ in 0..3 {
        let r = call(&ledger, "POST", "/credentials", &json_type, body(&ledger.mint()).as_bytes());
        assert_eq!(r.status, 201, "a valid registration was refused after junk from its address: {}", r.text());
    }
    let r = call(&ledger, "POST", "/credentials", &json_type, body(&mint_for("another-instance")).as_bytes());
    assert_eq!(r.status, 429, "{}", r.text());
}
