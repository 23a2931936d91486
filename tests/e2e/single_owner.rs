//! One database, one ledgerd (issue 11, item 1): a second ledgerd (or `ledgerd --dev`) on the same
//! database or directory refuses to start, naming the first's pid and the lock file, and touches
//! nothing; a database file replaced under a running ledgerd (a restore with `mv`) loses no
//! acknowledged write and no revocation, and ledgerd renames or deletes nothing of anyone's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{INSTANCE, Ledger, LedgerOptions, etctl, instance_key_hex, ledgerd, mint_for, time_until};
use crate::hostile_http::{auth, call};

/// A process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How a started ledgerd turned out.
enum Started {
    /// It reported `listening on http://…`, at this URL.
    Listening { process: Running, url: String },
    /// It exited first: its status and everything it wrote on stderr.
    Exited { status: ExitStatus, stderr: String },
}

/// Starts `cmd` and waits (20 s at most) until it listens or exits.
fn start(mut cmd: Command) -> Started {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (tx, rx) = mpsc::channel::<Result<String, String>>();
    let stderr = child.stderr.take().unwrap();
    let err_tx = tx.clone();
    std::thread::spawn(move || {
        let mut all = String::new();
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !sent && let Some(rest) = line.split("listening on http://").nth(1) {
                let addr: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
                let _ = err_tx.send(Ok(format!("http://{addr}")));
                sent = true;
            }
            all.push_str(&line);
            all.push('\n');
        }
        let _ = err_tx.send(Err(all));
    });
    // Drained so that the exports dev mode prints never fill the pipe.
    let mut stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let process = Running(child);
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(url)) => Started::Listening { process, url },
        Ok(Err(stderr)) => {
            let mut process = process;
            let status = process.0.wait().unwrap();
            Started::Exited { status, stderr }
        }
        Err(_) => panic!("ledgerd neither listened nor exited within 20 s"),
    }
}

fn dev_in(dir: &Path) -> Command {
    let mut cmd = ledgerd();
    cmd.args(["--dev", "--listen", "127.0.0.1:0"]).current_dir(dir);
    cmd
}

/// `select count(*) from api_credential` in the real sqlite3 shell.
fn count(db: &Path) -> u64 {
    let out = Command::new("sqlite3")
        .arg("-cmd")
        .arg(".timeout 5000")
        .arg(db)
        .arg("select count(*) from api_credential")
        .output()
        .expect("run sqlite3 (apt-get install sqlite3)");
    assert!(out.status.success(), "sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// One HTTP/1.1 request on a fresh connection to `url` (`http://host:port`): the status, 0 when
/// nothing answered.
fn http(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    let Ok(mut stream) = TcpStream::connect(url.trim_start_matches("http://")) else { return 0 };
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    if stream.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn register_at(url: &str, pair: &(String, String)) -> u16 {
    let body = serde_json::json!({"api_key": pair.0, "api_secret": pair.1}).to_string();
    http(url, "POST", "/credentials", &[("Content-Type", "application/json")], &body)
}

fn mint_dev(dir: &Path) -> (String, String) {
    let hex = std::fs::read_to_string(dir.join(".ledgerd-dev/vendor.key")).unwrap();
    let master = et_core::MasterKey::from_hex(&hex).unwrap();
    let key = et_core::ApiKey::generate();
    let secret = master.instance_key(&et_core::InstanceId::parse("dev").unwrap()).secret_for(&key);
    (key.as_str().to_owned(), secret.expose().to_owned())
}

#[test]
fn a_second_ledgerd_dev_in_the_same_directory_refuses_and_wipes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Started::Listening { process: first, url, .. } = start(dev_in(dir.path())) else {
        panic!("the first ledgerd --dev did not start")
    };
    let db = dir.path().join(".ledgerd-dev/ledger.db");
    let pair = mint_dev(dir.path());
    assert_eq!(register_at(&url, &pair), 201);
    assert_eq!(count(&db), 2, "the dev credential and the one registered");

    match start(dev_in(dir.path())) {
        Started::Exited { status, stderr } => {
            assert!(!status.success());
            let line = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("{stderr}"));
            assert!(line.contains(&format!("pid {}", first.0.id())), "the refusal names the first's pid: {line}");
            assert!(line.contains(".ledgerd-dev/ledger.db.lock"), "the refusal names the lock file: {line}");
        }
        Started::Listening { url: second, .. } => {
            // Today's bug: the second wiped the first's directory; three registrations it
            // acknowledges then vanish when the first notices "its" file was replaced.
            let statuses: Vec<u16> = (0..3).map(|_| register_at(&second, &mint_dev(dir.path()))).collect();
            std::thread::sleep(Duration::from_secs(2));
            panic!(
                "a second ledgerd --dev started in the same directory; it answered {statuses:?} to three \
                 registrations, and the database now holds {} credentials (4 expected)",
                count(&db)
            );
        }
    }
    // The first is untouched: its files, its credentials, its answers.
    assert_eq!(count(&db), 2);
    assert_eq!(call_whoami(&url, &pair), 200);
    let more = mint_dev(dir.path());
    assert_eq!(register_at(&url, &more), 201);
    assert_eq!(count(&db), 3);
    drop(first);
}

fn call_whoami(url: &str, pair: &(String, String)) -> u16 {
    http(url, "GET", "/whoami", &[("X-Api-Key", &pair.0), ("X-Api-Secret", &pair.1)], "")
}

fn production(db: &Path, dir: &Path) -> Command {
    let mut cmd = ledgerd();
    cmd.env("LEDGERD_LISTEN", "127.0.0.1:0")
        .env("LEDGERD_DB", db)
        .env("LEDGERD_INSTANCE_ID", INSTANCE)
        .env("LEDGERD_INSTANCE_KEY", instance_key_hex(INSTANCE))
        .current_dir(dir);
    cmd
}

#[test]
fn a_second_ledgerd_on_the_same_database_refuses_naming_the_first() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("ledger.db");
    let first = Ledger::start_with(LedgerOptions { db: Some(db.clone()), ..Default::default() });
    let pair = first.register(Some("first"));
    match start(production(&db, home.path())) {
        Started::Exited { status, stderr } => {
            assert!(!status.success());
            let line = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("{stderr}"));
            assert!(line.contains(&format!("pid {}", first.pid())), "{line}");
            assert!(line.contains(&format!("{}.lock", db.display())), "{line}");
            assert!(line.contains("LEDGERD_DB"), "the refusal says how to run a second one: {line}");
        }
        Started::Listening { url, .. } => {
            let statuses: Vec<u16> = (0..3).map(|_| register_at(&url, &mint_for(INSTANCE))).collect();
            panic!("a second ledgerd started on the database of a running one (it answered {statuses:?})")
        }
    }
    // The same file reached through another path (a symlink to its directory) is the same database.
    let link = tempfile::tempdir().unwrap();
    let alias = link.path().join("alias");
    std::os::unix::fs::symlink(home.path(), &alias).unwrap();
    assert!(
        matches!(start(production(&alias.join("ledger.db"), link.path())), Started::Exited { .. }),
        "a second ledgerd started on the same file reached through a symlink"
    );
    assert_eq!(call(&first, "GET", "/whoami", &auth(&pair), b"").status, 200);
    // Once the first has stopped, the lock is free again: the lock file stays (it is not a pid
    // file, whose removal would race), and a new ledgerd takes it over.
    assert!(first.terminate().success());
    assert!(db.with_extension("db.lock").exists());
    let Started::Listening { process: _second, url } = start(production(&db, home.path())) else {
        panic!("ledgerd did not start after the previous one stopped")
    };
    assert_eq!(call_whoami(&url, &pair), 200);
}

/// The real sqlite3 shell on `db`: its stdout, trimmed.
fn sqlite3(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg("-cmd")
        .arg(".timeout 5000")
        .arg(db)
        .arg(sql)
        .output()
        .expect("run sqlite3 (apt-get install sqlite3)");
    assert!(out.status.success(), "sqlite3 {sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A restore by `mv` under a running ledgerd: the backup of an earlier state replaces the file.
/// ledgerd closes the old file, reopens the new one, and the new one is exactly the backup (the old
/// file's WAL is not applied to it), then takes a revocation made with `etctl db revoke` and new
/// registrations: every write acknowledged after the replacement is kept, the revocation is
/// honoured, and ledgerd renamed or deleted nothing.
#[test]
fn a_database_replaced_with_mv_keeps_every_write_made_after_and_the_revocation() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("ledger.db");
    let ledger = Ledger::start_with(LedgerOptions { db: Some(db.clone()), ..Default::default() });
    let kept: Vec<_> = (0..3).map(|_| ledger.register(Some("before the backup"))).collect();
    let victim = ledger.register(Some("to revoke"));
    let backup = home.path().join("backup.db");
    sqlite3(&db, &format!(".backup '{}'", backup.display()));
    // Registered after the backup: a restore of that backup undoes them (they sit in the old
    // file's WAL, which must not be replayed onto the backup).
    let undone: Vec<_> = (0..2).map(|_| ledger.register(Some("after the backup"))).collect();

    let replaced = Command::new("mv").arg(&backup).arg(&db).status().unwrap();
    assert!(replaced.success());
    time_until(Duration::from_secs(15), || ledger.logs().contains("reopened"))
        .unwrap_or_else(|| panic!("ledgerd did not reopen the replaced database:\n{}", ledger.logs()));

    let etctl_home = tempfile::tempdir().unwrap();
    let out = etctl(etctl_home.path())
        .args(["db", "revoke", &victim.0, "--db", db.to_str().unwrap(), "--reason", "restore drill", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "etctl db revoke: {}", String::from_utf8_lossy(&out.stderr));
    let fresh: Vec<_> = (0..3).map(|_| ledger.register(Some("after the restore"))).collect();

    time_until(Duration::from_secs(5), || call(&ledger, "GET", "/whoami", &auth(&victim), b"").status == 401)
        .expect("the revocation made in the restored file was not honoured");
    for pair in kept.iter().chain(&fresh) {
        assert_eq!(call(&ledger, "GET", "/whoami", &auth(pair), b"").status, 200);
    }
    for pair in &undone {
        assert_eq!(call(&ledger, "GET", "/whoami", &auth(pair), b"").status, 401, "the old file's WAL was applied");
    }
    assert_eq!(sqlite3(&db, "PRAGMA integrity_check"), "ok");
    assert_eq!(count(&db), 7, "3 kept + the victim + 3 registered after the restore");
    assert_eq!(sqlite3(&db, &format!("select active from api_credential where api_key = '{}'", victim.0)), "0");

    // ledgerd hid nothing: no file renamed aside, nothing but the database's own files.
    let mut names: Vec<String> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.iter().all(|n| n.starts_with("ledger.db") && !n.contains("stale")), "{names:?}");

    // And all of it is in the file once ledgerd has stopped.
    assert!(ledger.terminate().success());
    assert_eq!(count(&db), 7);
    assert_eq!(sqlite3(&db, "PRAGMA integrity_check"), "ok");
}

/// The online restore: `sqlite3 ledger.db ".restore backup.db"` while ledgerd runs. The file is
/// rewritten in place through SQLite's locks; ledgerd serves what is now in it: a credential
/// registered after the backup (and cached) is refused, the others work, and what is registered
/// afterwards is kept.
#[test]
fn an_online_restore_is_served_at_once() {
    let ledger = Ledger::start();
    let kept = ledger.register(Some("before the backup"));
    let backup = ledger.dir.path().join("backup.db");
    sqlite3(&ledger.db, &format!(".backup '{}'", backup.display()));
    let undone = ledger.register(Some("after the backup"));
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&undone), b"").status, 200, "now cached");

    sqlite3(&ledger.db, &format!(".restore '{}'", backup.display()));
    time_until(Duration::from_secs(5), || call(&ledger, "GET", "/whoami", &auth(&undone), b"").status == 401)
        .expect("a credential that is no longer in the restored database kept authenticating");
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&kept), b"").status, 200);
    let fresh = ledger.register(Some("after the restore"));
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&fresh), b"").status, 200);
    assert_eq!(sqlite3(&ledger.db, "PRAGMA integrity_check"), "ok");
    assert_eq!(count(&ledger.db), 2);
    assert!(ledger.terminate().success());
}
