//! Database faults under a running ledgerd: locked by another process, full disk (a tiny tmpfs),
//! deleted, replaced by a file that is not a ledger database. While a fault lasts, authentication is
//! 500 (never 401) and `/health` 503; when it clears, service comes back without a restart.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Ledger, LedgerOptions, time_until};
use crate::hand_sql::{sqlite3, sqlite3_ok};
use crate::hostile_http::{Raw, assert_no_leak, auth, call};

fn options(db: Option<PathBuf>) -> LedgerOptions {
    let env =
        vec![("LEDGERD_AUTH_FAILURE_LIMIT".into(), "off".into()), ("LEDGERD_REGISTRATION_LIMIT".into(), "off".into())];
    LedgerOptions { env, db, ..Default::default() }
}

fn health(ledger: &Ledger) -> u16 {
    call(ledger, "GET", "/health", &[], b"").status
}

fn whoami(ledger: &Ledger, pair: &(String, String)) -> Raw {
    call(ledger, "GET", "/whoami", &auth(pair), b"")
}

fn register(ledger: &Ledger, pair: &(String, String)) -> Raw {
    let body = json!({"api_key": pair.0, "api_secret": pair.1}).to_string();
    call(ledger, "POST", "/credentials", &[("Content-Type", "application/json")], body.as_bytes())
}

/// A 500 INTERNAL_ERROR that says nothing about the database's insides.
#[track_caller]
fn assert_internal(raw: &Raw, context: &str) {
    assert_eq!(raw.status, 500, "{context}: {}", raw.text());
    assert_eq!(raw.json()["code"], "INTERNAL_ERROR", "{context}: {}", raw.text());
    assert_no_leak(context, &raw.text(), &[]);
}

/// While the fault lasts: /health 503 and every authentication (cached or not) 500.
#[track_caller]
fn assert_fails_closed(ledger: &Ledger, pairs: &[&(String, String)], context: &str) {
    let noticed = time_until(Duration::from_secs(15), || health(ledger) == 503);
    assert!(noticed.is_some(), "{context}: /health stayed 200:\n{}", ledger.logs());
    let r = call(ledger, "GET", "/health", &[], b"");
    assert_eq!(r.json()["code"], "SERVICE_UNAVAILABLE", "{context}");
    for pair in pairs {
        assert_internal(&whoami(ledger, pair), context);
    }
}

/// After the fault: /health 200 and the credentials work again, without a restart.
#[track_caller]
fn assert_recovers(ledger: &Ledger, pairs: &[&(String, String)], context: &str) -> Duration {
    let took = time_until(Duration::from_secs(15), || health(ledger) == 200);
    assert!(took.is_some(), "{context}: /health did not come back:\n{}", ledger.logs());
    for pair in pairs {
        assert_eq!(whoami(ledger, pair).status, 200, "{context}");
    }
    let fresh = ledger.mint();
    assert_eq!(register(ledger, &fresh).status, 201, "{context}");
    assert_eq!(whoami(ledger, &fresh).status, 200, "{context}");
    took.unwrap()
}

#[test]
fn a_locked_database_fails_closed_and_recovers_when_the_lock_goes() {
    let ledger = Ledger::start_with(options(None));
    let cached = ledger.register(Some("cached"));
    let uncached = ledger.register(Some("uncached"));
    assert_eq!(whoami(&ledger, &cached).status, 200);

    // Another process takes the write lock and keeps it (BEGIN EXCLUSIVE; in WAL mode that is the
    // write lock only: every connection of a WAL database holds a shared lock on the file, so no
    // process can lock readers out while ledgerd runs). Reads go on; the next write waits out the
    // 5 s busy timeout and is answered 500, and from then on the ledger fails closed: no revocation
    // could be recorded.
    let other = rusqlite::Connection::open(&ledger.db).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    assert_eq!(whoami(&ledger, &uncached).status, 200, "reads are not blocked by a WAL write lock");
    let started = Instant::now();
    assert_internal(&register(&ledger, &ledger.mint()), "a write under another process's lock");
    assert!(started.elapsed() >= Duration::from_secs(4), "the busy timeout was not waited out");
    assert_fails_closed(&ledger, &[&cached, &uncached], "write lock held");
    let r = call(&ledger, "DELETE", &format!("/credentials/{}", uncached.0), &auth(&cached), b"");
    assert_internal(&r, "a revocation under the lock");

    other.execute_batch("ROLLBACK").unwrap();
    let took = assert_recovers(&ledger, &[&cached, &uncached], "lock released");
    eprintln!("lock released: serving again after {took:?}");
    assert!(!ledger.logs().contains("panicked"));
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct Tmpfs(PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        let out =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(&mnt).output();
        match out {
            Ok(out) if out.status.success() => Some(Tmpfs(mnt, dir)),
            Ok(out) => {
                eprintln!("cannot mount a tmpfs ({}); skipping", String::from_utf8_lossy(&out.stderr).trim());
                None
            }
            Err(e) => {
                eprintln!("cannot run mount ({e}); skipping");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the file system says it is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if file.write_all(&block).and_then(|()| file.sync_all()).is_err() {
            break;
        }
    }
    // A last byte-sized top-up, so not even one page is free.
    while file.write_all(&[0u8; 512]).and_then(|()| file.sync_all()).is_ok() {}
}

#[test]
fn a_full_disk_fails_closed_and_recovers_when_space_is_freed() {
    // Root is needed to mount; a CI runner without it skips this test (and says so).
    let Some(tmpfs) = Tmpfs::mount("4m") else { return };
    let db = tmpfs.0.join("ledger.db");
    let ledger = Ledger::start_with(options(Some(db.clone())));
    let cached = ledger.register(Some("cached"));
    let uncached = ledger.register(Some("uncached"));
    assert_eq!(whoami(&ledger, &cached).status, 200);

    let filler = tmpfs.0.join("filler");
    fill(&filler);
    // Every registration answered 201 must be on disk: a commit that fails must not be reported
    // as a success (it was, before et-store stepped INSERT … RETURNING to its end).
    let mut answered = Vec::new();
    let mut failed = None;
    for _ in 0..20 {
        let pair = ledger.mint();
        let r = register(&ledger, &pair);
        match r.status {
            201 => answered.push(pair.0),
            _ => failed = Some(r),
        }
    }
    let failed = failed.unwrap_or_else(|| panic!("registrations kept succeeding on a full disk:\n{}", ledger.logs()));
    assert_internal(&failed, "registration on a full disk");
    // Reads still work, but no revocation could be recorded: the ledger fails closed.
    assert_fails_closed(&ledger, &[&cached, &uncached], "full disk");
    let op = ledger.mint();
    assert_internal(&register(&ledger, &op), "registration on a full disk");

    std::fs::remove_file(&filler).unwrap();
    let took = assert_recovers(&ledger, &[&cached, &uncached], "space freed");
    eprintln!("disk space freed: serving again after {took:?}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap(), "ok");
    for key in &answered {
        let n: i64 =
            conn.query_row("SELECT count(*) FROM api_credential WHERE api_key = ?1", [key], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "{key} was answered 201 on a full disk and is not in the database");
    }
    eprintln!("full disk: {} of 20 registrations answered 201, all present", answered.len());
    drop(conn);
    drop(ledger);
}

fn backup(db: &Path, to: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("VACUUM INTO ?1", [to.to_str().unwrap()]).unwrap();
}

#[test]
fn a_deleted_database_fails_closed_and_recovers_when_restored() {
    let ledger = Ledger::start_with(options(None));
    let cached = ledger.register(Some("cached"));
    let uncached = ledger.register(Some("uncached"));
    assert_eq!(whoami(&ledger, &cached).status, 200);
    let saved = ledger.dir.path().join("backup.db");
    backup(&ledger.db, &saved);

    // Deleted: the server closes the old file and waits for one at the path.
    std::fs::remove_file(&ledger.db).unwrap();
    assert_fails_closed(&ledger, &[&cached, &uncached], "deleted");
    assert_internal(&register(&ledger, &ledger.mint()), "registration with the file deleted");
    assert!(!ledger.db.exists(), "ledgerd must not create a new, empty database in its place");

    // Something that is not a ledger database at the path: still failing, and left alone.
    std::fs::write(&ledger.db, b"this is not a database, it is a note from an operator\n").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_fails_closed(&ledger, &[&cached], "not a ledger database");
    assert_eq!(std::fs::read(&ledger.db).unwrap(), b"this is not a database, it is a note from an operator\n");

    // The backup restored: served again, from the restored file.
    std::fs::remove_file(&ledger.db).unwrap();
    std::fs::copy(&saved, &ledger.db).unwrap();
    let took = assert_recovers(&ledger, &[&cached, &uncached], "restored");
    eprintln!("restored from backup: serving again after {took:?}");

    // And revocations in the restored file reach requests as before.
    let r = call(&ledger, "DELETE", &format!("/credentials/{}", uncached.0), &auth(&cached), b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(whoami(&ledger, &uncached).status, 401);
    let conn = rusqlite::Connection::open(&ledger.db).unwrap();
    conn.execute("UPDATE api_credential SET active = 0 WHERE api_key = ?1", [&cached.0]).unwrap();
    let refused = time_until(Duration::from_secs(1), || whoami(&ledger, &cached).status == 401);
    assert!(refused.is_some(), "a database revocation in the restored file was not honoured within 1 s");
    assert_eq!(conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap(), "ok");
    let logs = ledger.logs();
    assert!(logs.contains("reopened"), "{logs}");
    assert!(!logs.contains("panicked"), "{logs}");
}

#[test]
fn a_database_replaced_by_a_copy_is_served_from_the_copy() {
    // An operator restores a backup over the live file with mv (a new inode at the same path).
    let ledger = Ledger::start_with(options(None));
    let kept = ledger.register(Some("kept"));
    let saved = ledger.dir.path().join("backup.db");
    backup(&ledger.db, &saved);
    let later = ledger.register(Some("registered after the backup"));
    assert_eq!(whoami(&ledger, &later).status, 200);

    let staged = ledger.dir.path().join("staged.db");
    std::fs::copy(&saved, &staged).unwrap();
    std::fs::rename(&staged, &ledger.db).unwrap();
    // The old file's WAL and shared memory belong to the old file: ledgerd closed them.
    let took = time_until(Duration::from_secs(15), || whoami(&ledger, &later).status == 401 && health(&ledger) == 200);
    assert!(took.is_some(), "the replaced file was not picked up:\n{}", ledger.logs());
    // What the backup holds is served; what it does not is unknown (401, not a stale 200).
    assert_eq!(whoami(&ledger, &kept).status, 200);
    let conn = rusqlite::Connection::open(&ledger.db).unwrap();
    assert_eq!(conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap(), "ok");
}

#[test]
fn a_ledger_that_cannot_record_a_revocation_fails_closed() {
    let ledger = Ledger::start_with(options(None));
    let cached = ledger.register(Some("cached"));
    let uncached = ledger.register(Some("uncached"));
    assert_eq!(whoami(&ledger, &cached).status, 200);
    let revoke = format!("UPDATE api_credential SET active = 0 WHERE api_key = '{}'", uncached.0);

    // The audit AUTOINCREMENT pushed to its maximum where no trigger can see it: every revocation
    // (API, etctl db, sqlite3) would fail, so the ledger stops authenticating before one is tried.
    sqlite3_ok(&ledger.db, "UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'credential_audit'");
    assert_fails_closed(&ledger, &[&cached, &uncached], "audit AUTOINCREMENT exhausted");
    let r = call(&ledger, "DELETE", &format!("/credentials/{}", uncached.0), &auth(&cached), b"");
    assert_internal(&r, "a revocation with the audit AUTOINCREMENT exhausted");
    let (accepted, said) = sqlite3(&ledger.db, &revoke);
    assert!(!accepted, "the shell recorded a revocation with no audit id left: {said}");
    assert!(ledger.logs().contains("a revocation cannot be recorded"), "{}", ledger.logs());
    sqlite3_ok(
        &ledger.db,
        "UPDATE sqlite_sequence SET seq = (SELECT max(id) FROM credential_audit) WHERE name = 'credential_audit'",
    );
    assert_recovers(&ledger, &[&cached, &uncached], "audit AUTOINCREMENT restored");

    // A trigger added by hand that silently ignores every revocation.
    sqlite3_ok(
        &ledger.db,
        "CREATE TRIGGER ignore_revocations BEFORE UPDATE OF active ON api_credential BEGIN SELECT RAISE(IGNORE); END",
    );
    assert_fails_closed(&ledger, &[&cached, &uncached], "revocations ignored by a trigger");
    sqlite3_ok(&ledger.db, "DROP TRIGGER ignore_revocations");
    assert_recovers(&ledger, &[&cached, &uncached], "the trigger dropped");

    // Recovered for real: a revocation is recorded and refused at once.
    let r = call(&ledger, "DELETE", &format!("/credentials/{}", uncached.0), &auth(&cached), b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(whoami(&ledger, &uncached).status, 401);
    assert!(!ledger.logs().contains("panicked"));
}
