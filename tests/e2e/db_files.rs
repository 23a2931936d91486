//! The database's files on disk under a running ledgerd: created readable by their owner only,
//! and a WAL that a reader made grow shrinks back once the reader is gone, with /metrics saying so.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{Ledger, LedgerOptions, time_until};
use crate::hostile_http::{auth, call};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn options(db: &Path) -> LedgerOptions {
    LedgerOptions { db: Some(db.to_path_buf()), ..Default::default() }
}

#[test]
fn the_database_and_its_wal_and_shm_are_created_0600() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let ledger = Ledger::start_with(options(&db));
    let pair = ledger.register(None);
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&pair), b"").status, 200);
    for file in [db.clone(), sidecar(&db, "-wal"), sidecar(&db, "-shm")] {
        assert_eq!(mode(&file), 0o600, "{} is not private", file.display());
    }
    assert!(!ledger.logs().contains("chmod"), "{}", ledger.logs());
    assert!(ledger.terminate().success());

    // A file made looser by hand (or by an older release) is left as it is, and the log says how
    // to fix it.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ledger = Ledger::start_with(options(&db));
    let logs = ledger.logs();
    let advice = format!("chmod 600 {}", db.display());
    assert!(logs.lines().any(|l| l.contains("WARN") && l.contains(&advice)), "no `{advice}` in:\n{logs}");
    assert_eq!(mode(&db), 0o644, "ledgerd changed the mode of a file it did not create");
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&pair), b"").status, 200);
}

fn metric(ledger: &Ledger, name: &str) -> Option<u64> {
    let text = call(ledger, "GET", "/metrics", &[], b"").text();
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l[name.len() + 1..].trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

const LIMIT: u64 = 64 * 1024 * 1024;

#[test]
fn a_wal_grown_behind_a_held_reader_is_reported_and_shrinks_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let ledger = Ledger::start_with(options(&db));
    ledger.register(Some("first"));

    // The sqlite3 shell holds a read transaction open: no checkpoint can get past its snapshot.
    let mut shell = Command::new("sqlite3")
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sqlite3");
    let mut input = shell.stdin.take().unwrap();
    writeln!(input, "BEGIN; SELECT 'reading', count(*) FROM api_credential;").unwrap();
    let mut line = String::new();
    BufReader::new(shell.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("reading"), "{line}");

    // Meanwhile 80 MB are written (a filler table, by hand).
    let writer = rusqlite::Connection::open(&db).unwrap();
    writer.busy_timeout(Duration::from_secs(5)).unwrap();
    writer.execute_batch("CREATE TABLE filler (x BLOB)").unwrap();
    for _ in 0..80 {
        writer.execute_batch("INSERT INTO filler VALUES (randomblob(1000000))").unwrap();
    }
    // Read once a second: the first look may have come while the filler was still being written.
    let reported = time_until(Duration::from_secs(10), || {
        metric(&ledger, "ledgerd_database_checkpoints_incomplete_total").is_some_and(|n| n >= 1)
            && metric(&ledger, "ledgerd_database_wal_bytes").is_some_and(|n| n > 80_000_000)
    });
    assert!(reported.is_some(), "no incomplete checkpoint reported:\n{}", ledger.logs());
    assert!(ledger.logs().contains("cannot be checkpointed"), "{}", ledger.logs());

    // The reader goes; the watcher's next checkpoint finishes and ledgerd's next commit cuts the
    // WAL back to 64 MiB.
    drop(input);
    assert!(shell.wait().unwrap().success());
    let shrunk = time_until(Duration::from_secs(15), || {
        ledger.register(None);
        std::fs::metadata(sidecar(&db, "-wal")).unwrap().len() <= LIMIT
            && metric(&ledger, "ledgerd_database_wal_bytes").is_some_and(|n| n <= LIMIT)
    });
    assert!(shrunk.is_some(), "the WAL stayed large:\n{}", ledger.logs());
}
