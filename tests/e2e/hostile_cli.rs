//! Hostile input to the real `etctl` binary (issue 5, item 2): malformed keys and secrets, key and
//! profile files that cannot be used, database paths that are not a ledger, URLs nothing answers
//! on, servers that answer garbage or never answer. Every case must end with one `error:` sentence
//! on stderr, the exit code EXIT_CODES.md documents for its class, nothing on stdout, no panic, no
//! secret repeated back — and never a hang.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Ledger};
use crate::etctl_support::Home;

/// The SPEC test vector pair: well-formed, and a secret no message may contain.
const KEY: &str = "ak_000102030405060708090a0b0c0d0e0fd65df89f";
const SECRET: &str = "sk_503baa03e200179d94e68a83c1b510594e56fd9ff84ce7ef436335c0399f797c";

/// Exit codes of EXIT_CODES.md used here.
const USAGE: i32 = 2;
const CONFIG: i32 = 3;
const UNREACHABLE: i32 = 4;
const BAD_INPUT: i32 = 9;

/// No etctl run here may take longer than this: a hang is a failure, not a stuck test.
const LIMIT: Duration = Duration::from_secs(20);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `cmd` with `stdin` (bytes, possibly not UTF-8), killing it if it outlives [`LIMIT`].
fn run(cmd: &mut Command, stdin: &[u8]) -> Run {
    let start = Instant::now();
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    // etctl may exit before reading all of it; a broken pipe here is fine.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("etctl {:?} hung for more than {LIMIT:?}", cmd.get_args().collect::<Vec<_>>());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = start.elapsed();
    let _ = writer.join();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
        took,
    }
}

/// Asserts the shape every refusal has: the exit code, one `error:` line containing `needle`,
/// empty stdout, no panic, and none of `secrets` in the output.
#[track_caller]
fn refused(case: &str, run: &Run, code: i32, needle: &str, secrets: &[&str]) {
    let shown = format!("case {case:?}: exit {}\n--- stdout\n{}--- stderr\n{}", run.code, run.stdout, run.stderr);
    assert_eq!(run.code, code, "wrong exit code; {shown}");
    assert_eq!(run.stdout, "", "stdout must stay empty; {shown}");
    assert!(run.stderr.starts_with("error: "), "no `error:` line; {shown}");
    assert_eq!(run.stderr.lines().count(), 1, "more than one line; {shown}");
    assert!(run.stderr.len() < 1000, "an overlong message; {shown}");
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!run.stderr.contains(bad), "panic text; {shown}");
    }
    assert!(run.stderr.contains(needle), "expected {needle:?} in the message; {shown}");
    for secret in secrets.iter().chain([&SECRET]) {
        assert!(!run.stderr.contains(&secret[3..]), "a secret was echoed; {shown}");
    }
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// `home.cmd()` pointed at `url`, with the test vector as the operator credential.
fn operator_cmd(home: &Home, url: &str) -> Command {
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", url).env("ETCTL_API_KEY", KEY).env("ETCTL_API_SECRET", SECRET);
    cmd
}

#[test]
fn malformed_keys_are_bad_input_before_any_call() {
    let home = Home::new();
    // Nothing listens there: a key that got as far as the network would exit 4, not 9.
    let url = closed_port_url();
    let long = format!("ak_{}", "0".repeat(100_000));
    let non_ascii = format!("ak_{}é", &KEY[3..41]);
    let cases: &[(&str, &str, &str)] = &[
        ("empty", "", "is empty"),
        ("leading space", &format!(" {KEY}"), "whitespace"),
        ("trailing newline", &format!("{KEY}\n"), "whitespace"),
        ("inner tab", &format!("{}\t{}", &KEY[..20], &KEY[20..]), "whitespace"),
        ("a secret pasted as the key", SECRET, "starts with \"ak_\""),
        ("upper-case prefix", &KEY.replace("ak_", "AK_"), "starts with \"ak_\""),
        ("no prefix", &KEY[3..], "starts with \"ak_\""),
        ("one short", &KEY[..42], "43 characters long"),
        ("one long", &format!("{KEY}0"), "43 characters long"),
        ("100 KB long", &long, "43 characters long"),
        ("upper-case hex", &format!("ak_{}", KEY[3..].to_uppercase()), "lowercase hex"),
        ("not hex", &format!("ak_g{}", &KEY[4..]), "lowercase hex"),
        ("non-ASCII", &non_ascii, "lowercase hex"),
        ("checksum", &format!("ak_1{}", &KEY[4..]), "checksum"),
        ("checksum, last digit", &format!("{}0", &KEY[..42]), "checksum"),
    ];
    let vendor_key = home.vendor_key_file();
    let db = home.path().join("no.db");
    for (case, key, needle) in cases {
        // The key is checked before the credential, the vendor key, the database or stdin.
        let mut commands: Vec<(&str, Command, Vec<&str>)> = vec![
            ("show", operator_cmd(&home, &url), vec!["show", key]),
            ("revoke", operator_cmd(&home, &url), vec!["revoke", "--yes", key]),
            ("register", operator_cmd(&home, &url), vec!["register", key]),
            ("verify", home.cmd(), vec!["verify", "--instance", "acme", key]),
            ("db revoke", home.cmd(), vec!["db", "revoke", "--yes", "--db", db.to_str().unwrap(), key]),
            ("rotate --new-key", operator_cmd(&home, &url), vec!["rotate", "--new-key", key]),
        ];
        commands[3].1.env("ETCTL_VENDOR_KEY_FILE", &vendor_key);
        for (name, mut cmd, args) in commands {
            let run = run(cmd.args(&args), SECRET.as_bytes());
            refused(&format!("{name}: {case}"), &run, BAD_INPUT, needle, &[]);
        }
    }
    assert!(!db.exists(), "db revoke created the database");
}

#[test]
fn argv_that_is_not_text_or_not_in_range_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let home = Home::new();
    let not_utf8 = std::ffi::OsStr::from_bytes(b"ak_\xff\xfe");
    let mut cmd = home.cmd();
    let out = run(cmd.arg("show").arg(not_utf8), b"");
    assert_eq!(out.code, USAGE, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: invalid UTF-8"), "{}", out.stderr);
    for args in [
        &["--timeout", "0", "list"][..],
        &["--timeout", "601", "list"],
        &["--timeout", "soon", "list"],
        &["generate", "--instance", "acme", "-n", "0"],
        &["generate", "--instance", "acme", "-n", "-1"],
        &["list", "--status", "sideways"],
    ] {
        let out = run(home.cmd().args(args), b"");
        assert_eq!(out.code, USAGE, "{args:?}: {}", out.stderr);
        assert!(out.stderr.starts_with("error: ") && !out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn malformed_instance_ids_are_bad_input_and_never_repeated() {
    let home = Home::new();
    for (case, instance, needle) in [
        ("empty", "", "is empty"),
        ("upper case", "ACME", "position 1"),
        ("a path", "../acme", "position 1"),
        ("non-ASCII", "acmé", "position 4"),
        ("65 characters", &"a".repeat(65), "at most 64"),
        ("a secret pasted as the instance", &SECRET[..60], "position 3"),
    ] {
        for args in [
            vec!["vendor", "instance-key", instance],
            vec!["generate", "--instance", instance],
            vec!["verify", "--instance", instance, KEY],
        ] {
            let out = run(home.vendor_cmd().args(&args), SECRET.as_bytes());
            refused(&format!("{args:?}: {case}"), &out, BAD_INPUT, needle, &[&SECRET[..60]]);
        }
    }
}

#[test]
fn malformed_secrets_on_stdin_are_refused_without_being_echoed() {
    let home = Home::new();
    let url = closed_port_url();
    let long_junk = format!("sk_{}", "f".repeat(1 << 20));
    let with_extra = format!("{SECRET}00");
    let cases: Vec<(&str, Vec<u8>, i32, &str)> = vec![
        ("too short", b"sk_0123".to_vec(), BAD_INPUT, "67 characters long"),
        ("two extra digits", with_extra.as_bytes().to_vec(), BAD_INPUT, "67 characters long"),
        ("1 MB", long_junk.as_bytes().to_vec(), BAD_INPUT, "67 characters long"),
        ("the key instead", KEY.as_bytes().to_vec(), BAD_INPUT, "starts with \"sk_\""),
        ("upper case", SECRET.to_uppercase().as_bytes().to_vec(), BAD_INPUT, "starts with \"sk_\""),
        (
            "upper-case hex",
            format!("sk_{}", SECRET[3..].to_uppercase()).as_bytes().to_vec(),
            BAD_INPUT,
            "lowercase hex",
        ),
        ("two secrets on two lines", format!("{SECRET}\n{SECRET}\n").as_bytes().to_vec(), BAD_INPUT, "whitespace"),
        ("inner space", format!("{} {}", &SECRET[..30], &SECRET[30..]).as_bytes().to_vec(), BAD_INPUT, "whitespace"),
        (
            "NUL bytes",
            format!("{}\0\0{}", &SECRET[..30], &SECRET[32..]).as_bytes().to_vec(),
            BAD_INPUT,
            "lowercase hex",
        ),
        ("not UTF-8", b"sk_\xff\xfe\xfd".to_vec(), BAD_INPUT, "standard input"),
        // Nothing usable on stdin, no variable, no terminal: a usage error saying how to give it.
        ("empty", b"".to_vec(), USAGE, "ETCTL_NEW_API_SECRET"),
        ("blank lines", b"  \n\n\t\n".to_vec(), USAGE, "ETCTL_NEW_API_SECRET"),
    ];
    for (case, stdin, code, needle) in &cases {
        let stdin_text = String::from_utf8_lossy(stdin);
        let pieces: Vec<&str> = stdin_text.split(|c: char| !c.is_ascii_hexdigit()).filter(|p| p.len() >= 16).collect();
        let mut register = operator_cmd(&home, &url);
        let out = run(register.args(["register", KEY]), stdin);
        refused(&format!("register: {case}"), &out, *code, needle, &pieces);
        let mut verify = home.vendor_cmd();
        let out = run(verify.args(["verify", "--instance", "acme", KEY]), stdin);
        refused(&format!("verify: {case}"), &out, *code, needle, &pieces);
    }
}

#[test]
fn a_malformed_operator_credential_is_bad_input_and_never_sent() {
    let home = Home::new();
    // A listener that would notice a request: nothing may arrive.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let with_control = format!("{}\u{1}{}", &SECRET[..30], &SECRET[31..]);
    let cases = [
        ("key: checksum", format!("ak_1{}", &KEY[4..]), SECRET.to_owned(), "ETCTL_API_KEY", "checksum"),
        ("key: a secret", SECRET.to_owned(), SECRET.to_owned(), "ETCTL_API_KEY", "starts with \"ak_\""),
        ("secret: short", KEY.to_owned(), "sk_abc".to_owned(), "ETCTL_API_SECRET", "67 characters"),
        ("secret: a control character", KEY.to_owned(), with_control, "ETCTL_API_SECRET", "lowercase hex"),
        (
            "secret: inner line break",
            KEY.to_owned(),
            format!("{}\n{}", &SECRET[..30], &SECRET[30..]),
            "ETCTL_API_SECRET",
            "whitespace",
        ),
    ];
    for (case, key, secret, variable, needle) in &cases {
        for args in [&["list"][..], &["whoami"], &["show", KEY], &["revoke", "--yes", KEY]] {
            let mut cmd = home.cmd();
            cmd.env("ETCTL_URL", &url).env("ETCTL_API_KEY", key).env("ETCTL_API_SECRET", secret);
            let out = run(cmd.args(args), b"");
            refused(&format!("{args:?}: {case}"), &out, BAD_INPUT, needle, &[&secret[..secret.len().min(20)]]);
            assert!(out.stderr.contains(variable), "{case}: the variable is not named: {}", out.stderr);
        }
    }
    assert!(listener.accept().is_err(), "a malformed credential was sent to the ledger");
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg("-m").arg("600").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn key_files_that_cannot_be_used_are_config_errors_and_never_hang() {
    let home = Home::new();
    let dir = home.path();
    let file = |name: &str, contents: &[u8], mode: u32| -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        chmod(&path, mode);
        path
    };
    let good = format!("{}\n", common::MASTER_HEX);
    let near_miss = format!("{}\n", &common::MASTER_HEX[..63]);
    let key_dir = dir.join("key-dir");
    std::fs::create_dir(&key_dir).unwrap();
    chmod(&key_dir, 0o700);
    let fifo = dir.join("key-fifo");
    mkfifo(&fifo);
    let cases: Vec<(&str, PathBuf, &str)> = vec![
        ("world-readable", file("k644", good.as_bytes(), 0o644), "chmod 600"),
        ("group-readable", file("k640", good.as_bytes(), 0o640), "chmod 600"),
        ("others-writable", file("k602", good.as_bytes(), 0o602), "chmod 600"),
        ("a directory", key_dir, "not a regular file"),
        // Reading a FIFO would block until someone writes to it: refused before opening.
        ("a FIFO", fifo, "not a regular file"),
        ("missing", dir.join("no-such.key"), "does not exist"),
        ("empty", file("k-empty", b"", 0o600), "64 hexadecimal characters"),
        ("not UTF-8", file("k-binary", b"\xff\xfe\x00\x01", 0o600), "cannot read"),
        ("63 digits", file("k-63", near_miss.as_bytes(), 0o600), "64 hexadecimal characters"),
        ("not hex", file("k-nothex", format!("{}zz", &common::MASTER_HEX[..62]).as_bytes(), 0o600), "position 63"),
        ("a secret instead", file("k-secret", SECRET.as_bytes(), 0o600), "64 hexadecimal characters"),
        ("1 MB", file("k-big", &vec![b'a'; 1 << 20], 0o600), "64 hexadecimal characters"),
    ];
    for (case, path, needle) in &cases {
        for args in [&["vendor", "instance-key", "acme"][..], &["generate", "--instance", "acme"]] {
            let mut cmd = home.cmd();
            cmd.env("ETCTL_VENDOR_KEY_FILE", path);
            let out = run(cmd.args(args), b"");
            refused(&format!("{args:?}: {case}"), &out, CONFIG, needle, &[&common::MASTER_HEX[..40]]);
        }
    }

    // chmod 000: the owner cannot read it either. As root (CI containers) the kernel lets the read
    // through, so etctl works; otherwise it is a config error naming the file.
    let locked = file("k000", good.as_bytes(), 0o000);
    let mut cmd = home.cmd();
    cmd.env("ETCTL_VENDOR_KEY_FILE", &locked);
    let out = run(cmd.args(["vendor", "instance-key", "acme"]), b"");
    if std::fs::read(&locked).is_ok() {
        assert_eq!(out.code, 0, "running as root, a 000 file is readable: {}", out.stderr);
    } else {
        refused("chmod 000", &out, CONFIG, "Permission denied", &[]);
    }
}

#[test]
fn profile_files_that_cannot_be_used_are_config_errors_and_never_echo_a_secret() {
    let home = Home::new();
    let config = home.path().join(".config/etctl");
    std::fs::create_dir_all(&config).unwrap();
    let profiles = config.join("profiles.json");
    let url = closed_port_url();
    let entry = |secret_in: &str| {
        format!(
            r#"{{"profiles":{{"default":{{"url":"{url}","api_key":"{KEY}","secret_in":"{secret_in}","api_secret":"{SECRET}"}}}}}}"#
        )
    };
    let cases: Vec<(&str, String, u32, i32, &str)> = vec![
        ("world-readable", entry("file"), 0o644, CONFIG, "chmod 600"),
        // serde would quote the unknown value: here, the secret someone pasted in the wrong place.
        ("a secret as secret_in", entry(SECRET), 0o600, CONFIG, "line 1, column"),
        ("truncated", entry("file")[..60].to_owned(), 0o600, CONFIG, "not a valid profiles file"),
        ("not JSON", "sk_ is my secret\n".to_owned(), 0o600, CONFIG, "not a valid profiles file"),
        (
            "a malformed stored secret",
            entry("file").replace(&SECRET[3..], "zz"),
            0o600,
            BAD_INPUT,
            "profile \"default\"",
        ),
    ];
    for (case, contents, mode, code, needle) in &cases {
        let _ = std::fs::remove_file(&profiles);
        std::fs::write(&profiles, contents).unwrap();
        chmod(&profiles, *mode);
        let out = run(home.cmd().args(["list"]), b"");
        refused(case, &out, *code, needle, &[]);
    }
    std::fs::remove_file(&profiles).unwrap();
    std::fs::create_dir(&profiles).unwrap();
    chmod(&profiles, 0o700);
    let out = run(home.cmd().args(["list"]), b"");
    refused("profiles.json is a directory", &out, CONFIG, "not a regular file", &[]);
}

/// Names of the files in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn database_paths_that_are_not_a_ledger_are_refused_and_nothing_is_created() {
    let home = Home::new();
    let dir = home.path().join("dbs");
    std::fs::create_dir(&dir).unwrap();
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(&text, "shopping list\n").unwrap();
    let garbage = dir.join("garbage.db");
    std::fs::write(&garbage, [b"SQLite format 3\0".as_slice(), &[0xAB; 4096]].concat()).unwrap();
    let other = dir.join("other-app.db");
    {
        let conn = rusqlite::Connection::open(&other).unwrap();
        conn.execute_batch(
            "CREATE TABLE api_credential_lookalike (x); INSERT INTO api_credential_lookalike VALUES (1);",
        )
        .unwrap();
    }
    let subdir = dir.join("a-directory");
    std::fs::create_dir(&subdir).unwrap();
    let fifo = dir.join("a-fifo");
    mkfifo(&fifo);
    let before: Vec<(PathBuf, Vec<u8>)> =
        [&empty, &text, &garbage, &other].iter().map(|p| (p.to_path_buf(), std::fs::read(p).unwrap())).collect();
    let files_before = listing(&dir);

    let cases: Vec<(&str, PathBuf, &str)> = vec![
        ("missing", dir.join("no-such.db"), "does not exist"),
        ("in a missing directory", dir.join("no-such-dir/ledger.db"), "does not exist"),
        ("an empty file", empty.clone(), "is not a ledger database"),
        ("a text file", text.clone(), "is not a ledger database"),
        ("a damaged SQLite header", garbage.clone(), "is not a ledger database"),
        ("another application's SQLite", other.clone(), "is not a ledger database"),
        ("a directory", subdir, "is a directory"),
        ("a FIFO", fifo, "cannot open the database"),
        ("/dev/null", PathBuf::from("/dev/null"), "is not a ledger database"),
    ];
    let key = common::mint_for("x").0;
    for (case, path, needle) in &cases {
        let path = path.to_str().unwrap();
        for args in [
            vec!["db", "list", "--db", path],
            vec!["db", "revoke", "--yes", "--db", path, &key],
            vec!["db", "revoke", "--dry-run", "--db", path, &key],
        ] {
            let out = run(home.cmd().args(&args), b"");
            refused(&format!("{args:?}: {case}"), &out, BAD_INPUT, needle, &[]);
        }
        // The same through ETCTL_DB.
        let mut cmd = home.cmd();
        cmd.env("ETCTL_DB", path);
        let out = run(cmd.args(["db", "list"]), b"");
        refused(&format!("ETCTL_DB: {case}"), &out, BAD_INPUT, needle, &[]);
    }
    assert_eq!(listing(&dir), files_before, "no database, journal, -wal or -shm file was created");
    for (path, bytes) in before {
        assert!(std::fs::read(&path).unwrap() == bytes, "{} was changed", path.display());
    }
}

#[test]
fn unreachable_and_unusable_urls() {
    let home = Home::new();
    let closed = closed_port_url();
    let out = run(operator_cmd(&home, &closed).args(["list"]), b"");
    refused("closed port", &out, UNREACHABLE, "cannot reach the ledger", &[]);
    assert!(out.took < Duration::from_secs(5), "a refused connection took {:?}", out.took);
    let out = run(operator_cmd(&home, &closed).args(["register", KEY]), SECRET.as_bytes());
    refused("closed port, register", &out, UNREACHABLE, "cannot reach the ledger", &[]);
    // A name that cannot resolve (RFC 6761 reserves .invalid).
    let out = run(operator_cmd(&home, "http://ledger.invalid").args(["list"]), b"");
    refused("unresolvable name", &out, UNREACHABLE, "cannot reach the ledger", &[]);
    for (case, url) in [
        ("not a URL", "not a url"),
        ("another scheme", "ftp://127.0.0.1:21"),
        ("no host", "http://"),
        ("a port out of range", "http://127.0.0.1:99999"),
    ] {
        let out = run(operator_cmd(&home, url).args(["list"]), b"");
        refused(case, &out, CONFIG, "is not usable", &[]);
    }
}

/// A tiny server on loopback that answers every connection with `answer` (after reading the
/// request head), or, with `None`, accepts and then says nothing until the test ends.
struct FakeServer {
    url: String,
}

fn fake_server(answer: Option<Vec<u8>>) -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            match &answer {
                Some(bytes) => {
                    let bytes = bytes.clone();
                    std::thread::spawn(move || {
                        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                        let mut head = Vec::new();
                        let mut buf = [0u8; 4096];
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match stream.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => head.extend_from_slice(&buf[..n]),
                            }
                        }
                        let _ = stream.write_all(&bytes);
                        let _ = stream.flush();
                        let _ = stream.shutdown(Shutdown::Both);
                    });
                }
                // Hold the connection open, never answering.
                None => held.push(stream),
            }
        }
    });
    FakeServer { url }
}

fn http(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn a_server_answering_garbage_is_not_the_ledger() {
    let home = Home::new();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("SSH banner", b"SSH-2.0-OpenSSH_9.6\r\n".to_vec(), "cannot reach the ledger"),
        ("binary noise", (0..=255u8).cycle().take(4096).collect(), "cannot reach the ledger"),
        ("closes at once", Vec::new(), "cannot reach the ledger"),
        ("an HTML page", http("200 OK", "text/html", "<html><body>It works!</body></html>"), "is not a ledger"),
        ("JSON of another shape", http("200 OK", "application/json", r#"{"hello":"world"}"#), "is not a ledger"),
        ("JSON that is cut off", http("200 OK", "application/json", r#"{"data":[{"api_key":"#), "is not a ledger"),
        ("a 502 from a proxy", http("502 Bad Gateway", "text/html", "<h1>502 Bad Gateway</h1>"), "is not a ledger"),
        (
            "an error with an unknown code",
            http("400 Bad Request", "application/json", r#"{"code":"NOPE","message":"x"}"#),
            "is not a ledger",
        ),
        ("a 404 with an empty body", http("404 Not Found", "text/plain", ""), "is not a ledger"),
        (
            "a body shorter than its Content-Length",
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\":".to_vec(),
            "cannot reach the ledger",
        ),
        (
            "a body larger than any ledger answer",
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n[[[[".to_vec(),
            "is not a ledger",
        ),
        (
            // A hostile server echoing the secret, with a line break and a terminal escape.
            "an error message carrying a secret and escapes",
            http(
                "401 Unauthorized",
                "application/json",
                &format!(r#"{{"code":"UNAUTHORIZED","message":"bad {SECRET}\n\u001b[2Jcleared"}}"#),
            ),
            "sk_<redacted>",
        ),
    ];
    for (case, answer, needle) in cases {
        let server = fake_server(Some(answer));
        let code = if case.starts_with("an error message carrying") { 5 } else { UNREACHABLE };
        for (what, args, stdin) in
            [("list", &["list"][..], ""), ("show", &["show", KEY], ""), ("register", &["register", KEY], SECRET)]
        {
            if code == 5 && what == "register" {
                continue;
            }
            let mut cmd = operator_cmd(&home, &server.url);
            cmd.arg("--timeout").arg("5");
            let out = run(cmd.args(args), stdin.as_bytes());
            refused(&format!("{what}: {case}"), &out, code, needle, &[]);
            assert!(!out.stderr.contains('\u{1b}'), "{case}: a terminal escape got through");
        }
    }
}

#[test]
fn an_endless_answer_is_cut_off_without_filling_memory() {
    // Headers, then body bytes as fast as loopback carries them, with no length: only the size cap
    // ends this before the timeout (without it etctl grew past 1.5 GB in 3 s).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");
                let chunk = vec![b'['; 1 << 16];
                while stream.write_all(&chunk).is_ok() {}
            });
        }
    });
    let home = Home::new();
    let out = run(operator_cmd(&home, &url).args(["--timeout", "30", "list"]), b"");
    refused("endless body", &out, UNREACHABLE, "is not a ledger", &[]);
    assert!(out.took < Duration::from_secs(15), "took {:?}: the cap did not end it", out.took);
}

#[test]
fn a_server_that_never_answers_times_out_with_a_clear_message() {
    let home = Home::new();
    // The default is documented; scripts can lower it.
    let help = run(home.cmd().args(["list", "--help"]), b"");
    assert!(help.stdout.contains("--timeout <SECONDS>") && help.stdout.contains("[default: 10]"), "{}", help.stdout);

    // Accepts the connection, reads nothing, answers nothing.
    let silent = fake_server(None);
    // Never even accepts: the kernel completes the handshake from the backlog.
    let unaccepted = TcpListener::bind("127.0.0.1:0").unwrap();
    let unaccepted_url = format!("http://{}", unaccepted.local_addr().unwrap());
    // Sends the status line and headers, then one byte a second, forever.
    let trickle = TcpListener::bind("127.0.0.1:0").unwrap();
    let trickle_url = format!("http://{}", trickle.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in trickle.incoming() {
            let Ok(mut stream) = stream else { break };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n");
                while stream.write_all(b" ").is_ok() {
                    std::thread::sleep(Duration::from_millis(300));
                }
            });
        }
    });

    for (case, url) in [("silent", &silent.url), ("never accepts", &unaccepted_url), ("trickles", &trickle_url)] {
        for (what, args, stdin) in [("list", &["list"][..], ""), ("register", &["register", KEY], SECRET)] {
            let mut cmd = operator_cmd(&home, url);
            let out = run(cmd.args(["--timeout", "1"]).args(args), stdin.as_bytes());
            refused(&format!("{what}: {case}"), &out, UNREACHABLE, "did not answer within 1 s", &[]);
            assert!(out.stderr.contains("--timeout"), "{case}: the message should say how to wait longer");
            assert!(out.took < Duration::from_secs(4), "{what}: {case}: took {:?} with --timeout 1", out.took);
        }
    }
    drop(unaccepted);
}

#[test]
fn a_real_ledger_refusing_hostile_input_maps_to_the_documented_codes() {
    // The same inputs against a real ledgerd, for the classes only a server can decide.
    let ledger = Ledger::start();
    let operator = ledger.register(None);
    let home = Home::new();
    let as_operator = || {
        let mut cmd = home.cmd();
        cmd.env("ETCTL_URL", &ledger.url).env("ETCTL_API_KEY", &operator.0).env("ETCTL_API_SECRET", &operator.1);
        cmd
    };
    // A well-formed label full of control characters: the ledger says 400, etctl exits 9.
    let (key, secret) = ledger.mint();
    let out = run(as_operator().args(["register", &key, "--label", "tab\there"]), secret.as_bytes());
    refused("label with a tab", &out, BAD_INPUT, "control character", &[&secret]);
    let out = run(as_operator().args(["register", &key, "--label", &"x".repeat(5000)]), secret.as_bytes());
    refused("label too long", &out, BAD_INPUT, "at most 200", &[&secret]);
    // A well-formed operator secret that is wrong: 401 → 5, the secret never shown.
    let wrong = ledger.mint().1;
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", &ledger.url).env("ETCTL_API_KEY", &operator.0).env("ETCTL_API_SECRET", &wrong);
    let out = run(cmd.args(["list"]), b"");
    refused("wrong operator secret", &out, 5, "UNAUTHORIZED", &[&wrong, &operator.1]);
    // A pair of another instance: 403 → 6.
    let foreign = common::mint_for("another-instance");
    let out = run(as_operator().args(["register", &foreign.0]), foreign.1.as_bytes());
    refused("foreign pair", &out, 6, "INVALID_CREDENTIAL", &[&foreign.1]);
    // Nothing of this reached the database.
    let listed = run(as_operator().args(["list", "--status", "all", "--json"]), b"");
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let records: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(records.as_array().unwrap().len(), 1, "{records}");
}
