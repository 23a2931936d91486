//! Tests only: a real PostgreSQL server for the tests of one test binary, started from the
//! installed server binaries (`initdb`, `postgres`, Debian's `postgresql` package), and a throwaway
//! database per test.
//!
//! The server binaries refuse to run as root, so under root they run as the `postgres` user
//! (`runuser -u postgres --`) in a temporary directory that user owns. The server listens on a free
//! loopback port and on a unix socket in that directory, with `trust` authentication and without
//! fsync (a test database is thrown away; it need not survive a power cut). It is started once per
//! process, on first use, and stops when the process ends however it ends: a supervising shell
//! holds a pipe from this process and stops the server (and removes its directory) when the pipe
//! closes. Where no server binaries are installed, [`server`] panics with a sentence saying what to
//! install: a test that needs PostgreSQL fails, it is never skipped.
//!
//! [`cluster`] starts a primary with a synchronous streaming standby (`pg_basebackup`), for the
//! failover tests; [`Server::with_settings`] a server with settings of a test's own (TLS, …).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Where Debian installs the server binaries, newest first.
const BIN_DIRS: &[&str] = &["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"];

/// A PostgreSQL server this process started.
pub struct Server {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// Running the server binaries as root is refused: then they run as `postgres`.
    as_postgres: bool,
    /// Given on the server's command line after the defaults (the later of two wins).
    settings: Vec<(String, String)>,
    /// The CPU the server and every process it forks run on (`taskset`), if pinned.
    core: Option<usize>,
    /// The supervising shell (it starts `postgres`, and stops it when its stdin closes) and its
    /// stdin; `None` while [`Server::stop`] has it stopped.
    running: Mutex<Option<(Child, ChildStdin)>>,
}

/// The defaults of a test server: a test database is thrown away, it need not survive a power cut.
const FAST: &[(&str, &str)] = &[
    ("listen_addresses", "127.0.0.1"),
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
    ("max_connections", "300"),
];

/// What a primary of a [`Cluster`] adds: a commit waits until the standby has it.
const SYNCHRONOUS_PRIMARY: &[(&str, &str)] = &[
    ("synchronous_commit", "on"),
    ("synchronous_standby_names", STANDBY_NAME),
    ("full_page_writes", "on"),
    ("wal_level", "replica"),
];

/// The standby's `application_name`, which the primary's `synchronous_standby_names` names.
const STANDBY_NAME: &str = "standby1";

/// A primary and a streaming standby that every commit of the primary waits for
/// (`synchronous_commit = on`, `synchronous_standby_names`): a commit acknowledged by the primary
/// is on the standby too. Both stop, and their directories go, when it is dropped.
pub struct Cluster {
    pub primary: Server,
    pub standby: Server,
}

/// A primary with a synchronous streaming standby, both of this test's own.
///
/// # Panics
/// As [`server`], or when the standby cannot be made or does not become synchronous within 60 s.
pub fn cluster() -> Cluster {
    let primary = Server::init(SYNCHRONOUS_PRIMARY);
    primary.start();
    let standby = primary.standby();
    let deadline = Instant::now() + Duration::from_secs(60);
    let query = format!("SELECT sync_state FROM pg_stat_replication WHERE application_name = '{STANDBY_NAME}'");
    while primary.psql("postgres", &query).unwrap_or_default().trim() != "sync" {
        assert!(
            Instant::now() < deadline,
            "the standby did not become synchronous within 60 s:\n{}\n{}",
            primary.log(),
            standby.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Cluster { primary, standby }
}

impl Cluster {
    /// A URL naming both servers, primary first, with `target_session_attrs=read-write`: a client
    /// uses whichever of them takes writes.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/{name}?target_session_attrs=read-write",
            self.primary.port, self.standby.port
        )
    }

    /// A new, empty database, created on the primary (and so on the standby).
    pub fn database(&self) -> Database {
        self.primary.create_database()
    }

    /// The failover: the primary stops at once (`immediate`: no shutdown checkpoint, clients cut
    /// off, as when its machine dies), then the standby is promoted and takes writes.
    pub fn fail_over(&self) {
        self.primary.stop_immediately();
        self.standby.promote();
    }
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// The server of this test binary, started on first use.
///
/// # Panics
/// When no PostgreSQL server binaries are installed (with what to install), or it cannot start.
pub fn server() -> &'static Server {
    SERVER.get_or_init(Server::start_new)
}

/// A server of its own, for a test that stops and starts it (the shared [`server`] must stay up
/// for the other tests of the binary). Stopped, and its directory removed, when dropped.
pub fn private_server() -> Server {
    Server::start_new()
}

/// A database only one test uses.
pub fn database() -> Database {
    server().create_database()
}

/// A throwaway database on the [`server`]; dropped with the server at the end of the process.
#[derive(Debug, Clone)]
pub struct Database {
    pub name: String,
    /// `postgres://postgres@127.0.0.1:PORT/NAME`
    pub url: String,
    psql: PathBuf,
    socket_dir: PathBuf,
    port: u16,
}

impl Database {
    /// Runs `sql` in `psql` (as an operator would, `ON_ERROR_STOP`): its output, or the error
    /// PostgreSQL gave.
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        run_psql(&self.psql, &self.socket_dir, self.port, &self.name, sql)
    }
}

fn run_psql(psql: &Path, socket_dir: &Path, port: u16, db: &str, sql: &str) -> Result<String, String> {
    let out: Output = Command::new(psql)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(socket_dir)
        .args(["-p", &port.to_string(), "-U", "postgres", "-d", db, "-c", sql])
        .output()
        .expect("run psql");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The supervising shell sees its stdin close: it stops the server and removes its directory.
        // Poisoned by a failed start: the shell (if any) is still ours to stop.
        if let Some((mut child, stdin)) = self.running.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            drop(stdin);
            let _ = child.wait();
        } else {
            // Stopped by the test: the shell left the directory in place for a restart.
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn find_bin() -> PathBuf {
    BIN_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|dir| dir.join("postgres").is_file() && dir.join("initdb").is_file())
        .unwrap_or_else(|| {
            panic!(
                "the PostgreSQL tests need a PostgreSQL server installed (initdb and postgres in one of {BIN_DIRS:?}): \
             install it with `apt-get install postgresql` (Debian/Ubuntu), which .ci/run does"
            )
        })
}

/// A free loopback port below the kernel's ephemeral range: a port that binding port 0 handed out
/// and that was let go at once is handed out again, to the next ledgerd or client socket of a test
/// running beside, before the server (or nginx) binds it; below the range, only someone choosing
/// it as this does can take it.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (from, to) = if low > 12_000 { (10_000, low) } else { (1024, low.max(2048)) };
    let seed = std::collections::hash_map::RandomState::new().build_hasher().finish();
    (0..2000u64)
        .map(|i| from + (seed.wrapping_add(i.wrapping_mul(7919)) % u64::from(to - from)) as u16)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port").local_addr().unwrap().port()
        })
}

impl Server {
    fn start_new() -> Server {
        let server = Server::init(&[]);
        server.start();
        server
    }

    /// A server of its own with `settings` on top of the defaults (`ssl=on`, …), not started yet:
    /// files it needs can go in [`Server::dir`] first. Stopped, and its directory removed, when
    /// dropped.
    pub fn with_settings(settings: &[(&str, &str)]) -> Server {
        Server::init(settings)
    }

    /// This (not yet started) server pinned to `core` with `taskset` when one is given: the
    /// benchmark runs it on ledgerd's core.
    pub fn pinned(mut self, core: Option<usize>) -> Server {
        self.core = core;
        self
    }

    /// A directory for a new server, owned by the user the server runs as.
    fn new_dir(settings: &[(&str, &str)]) -> Server {
        let bin = find_bin();
        let as_postgres = rustix::process::getuid().is_root();
        let dir = tempfile::Builder::new().prefix("et-pgtest-").tempdir().expect("make a temporary directory").keep();
        if as_postgres {
            let ids = |flag: &str| -> u32 {
                let out = Command::new("id").args([flag, "postgres"]).output().expect("run id");
                assert!(out.status.success(), "no user `postgres` to run the server as: install `postgresql`");
                String::from_utf8_lossy(&out.stdout).trim().parse().expect("id prints a number")
            };
            std::os::unix::fs::chown(&dir, Some(ids("-u")), Some(ids("-g"))).expect("give the directory to postgres");
        }
        let settings = FAST.iter().chain(settings).map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Server { bin, dir, port: free_port(), as_postgres, settings, core: None, running: Mutex::new(None) }
    }

    /// A new server with an empty cluster (`initdb`), not started.
    fn init(settings: &[(&str, &str)]) -> Server {
        let server = Server::new_dir(settings);
        let data = server.dir.join("data");
        let out = server
            .command("initdb")
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .expect("run initdb");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        server
    }

    /// A streaming standby of this (running) server, copied with `pg_basebackup` and started.
    fn standby(&self) -> Server {
        let conninfo =
            format!("host={} port={} user=postgres application_name={STANDBY_NAME}", self.dir.display(), self.port);
        // Promoted, it is a primary that flushes before it acknowledges, as any production one.
        let standby = Server::new_dir(&[
            ("primary_conninfo", &conninfo),
            ("hot_standby", "on"),
            ("synchronous_commit", "on"),
            ("full_page_writes", "on"),
        ]);
        let out = standby
            .command("pg_basebackup")
            .args(["--pgdata"])
            .arg(standby.dir.join("data"))
            .args(["--dbname", &conninfo, "--write-recovery-conf", "--checkpoint=fast", "--wal-method=stream"])
            .output()
            .expect("run pg_basebackup");
        assert!(out.status.success(), "pg_basebackup failed: {}", String::from_utf8_lossy(&out.stderr));
        standby.start();
        standby
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        };
        cmd.current_dir(&self.dir);
        cmd
    }

    /// Starts the server (again, after [`Server::stop`]) and waits until it takes connections.
    pub fn start(&self) {
        let mut running = self.running.lock().unwrap();
        if running.is_some() {
            return;
        }
        let dir = self.dir.display().to_string();
        // The shell starts postgres, then waits for its stdin (a pipe from this process) to close:
        // at the end of this process, however it ends, or at stop(). Then a fast shutdown (SIGINT),
        // and at the end of the process the directory goes too.
        // `immediate`: SIGQUIT, no shutdown checkpoint, as if the machine died.
        let settings: String =
            self.settings.iter().map(|(k, v)| format!(" -c '{k}={}'", v.replace('\'', "'\\''"))).collect();
        let script = format!(
            "\"{bin}/postgres\" -D \"{dir}/data\" -k \"{dir}\" -p {port}{settings} \
             </dev/null >>\"{dir}/log\" 2>&1 & pid=$!; \
             read line; if [ \"$line\" = immediate ]; then kill -QUIT $pid; else kill -INT $pid; fi; wait $pid; \
             [ -n \"$line\" ] || rm -rf \"{dir}\"",
            bin = self.bin.display(),
            port = self.port,
        );
        // Affinity is inherited through runuser, sh, postgres and every process it forks.
        let mut cmd = match self.core {
            Some(core) => {
                let mut cmd = Command::new("taskset");
                cmd.args(["-c", &core.to_string()]);
                cmd
            }
            None => Command::new("env"),
        };
        if self.as_postgres {
            cmd.args(["runuser", "-u", "postgres", "--"]);
        }
        cmd.args(["sh", "-c", &script]);
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("run sh");
        let stdin = child.stdin.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.psql_as("postgres", "SELECT 1").is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("PostgreSQL did not start ({status}): {}", self.log());
            }
            assert!(Instant::now() < deadline, "PostgreSQL did not take connections within 60 s: {}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        *running = Some((child, stdin));
    }

    /// Stops the server (a fast shutdown: clients are disconnected) and waits until it is down.
    pub fn stop(&self) {
        self.stop_with("stop");
    }

    /// Stops the server at once (an `immediate` shutdown: SIGQUIT, no checkpoint, clients cut
    /// off, crash recovery at the next start) and waits until it is down.
    pub fn stop_immediately(&self) {
        self.stop_with("immediate");
    }

    fn stop_with(&self, how: &str) {
        let Some((mut child, mut stdin)) = self.running.lock().unwrap().take() else { return };
        let _ = writeln!(stdin, "{how}");
        drop(stdin);
        child.wait().expect("wait for the server to stop");
    }

    /// Promotes a standby (`pg_ctl promote`) and waits until it takes writes.
    pub fn promote(&self) {
        let out = self.command("pg_ctl").args(["promote", "-w", "-t", "60", "-D"]).arg(self.dir.join("data")).output();
        let out = out.expect("run pg_ctl");
        assert!(out.status.success(), "pg_ctl promote failed: {}{}", String::from_utf8_lossy(&out.stderr), self.log());
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.psql_as("postgres", "SELECT pg_is_in_recovery()").unwrap_or_default().trim() != "f" {
            assert!(Instant::now() < deadline, "the promoted standby still recovers after 60 s: {}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's own directory (its unix socket, `data/`, `log`), owned by the user it runs as:
    /// files it is configured to read (certificates) go here.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Gives `path` (in [`Server::dir`]) to the user the server runs as, mode `mode`.
    pub fn hand_over(&self, path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        if self.as_postgres {
            let meta = std::fs::metadata(&self.dir).expect("the server's directory");
            use std::os::unix::fs::MetadataExt;
            std::os::unix::fs::chown(path, Some(meta.uid()), Some(meta.gid())).expect("chown to postgres");
        }
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the server's unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// The server binaries' directory (`pg_ctl`, `psql`, `pg_basebackup` …).
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// A URL for database `name` on this server, over TCP.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A new, empty database on this server.
    pub fn database(&self) -> Database {
        self.create_database()
    }

    /// Creates a new, empty database.
    pub fn create_database(&self) -> Database {
        let name = format!("t{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
        self.psql_as("postgres", &format!("CREATE DATABASE {name}")).expect("create a test database");
        Database { url: self.url(&name), name, psql: self.psql_path(), socket_dir: self.dir.clone(), port: self.port }
    }

    /// Runs `sql` in `psql` on database `db` of this server.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        self.psql_as(db, sql)
    }

    /// Runs `script` (statements and psql meta-commands, each statement its own transaction, as
    /// `psql -f` does) as role `user` on database `db`: its output, or the error PostgreSQL gave.
    pub fn psql_script(&self, user: &str, db: &str, script: &str) -> Result<String, String> {
        let mut child = Command::new(self.psql_path())
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", user, "-d", db, "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run psql");
        child.stdin.take().unwrap().write_all(script.as_bytes()).expect("write to psql");
        let out = child.wait_with_output().expect("wait for psql");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn psql_as(&self, db: &str, sql: &str) -> Result<String, String> {
        run_psql(&self.psql_path(), &self.dir, self.port, db, sql)
    }

    fn psql_path(&self) -> PathBuf {
        let own = self.bin.join("psql");
        if own.is_file() { own } else { PathBuf::from("psql") }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_server_starts_and_gives_each_test_its_own_database() {
        let a = super::database();
        let b = super::database();
        assert_ne!(a.name, b.name);
        a.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1)").unwrap();
        assert_eq!(a.psql("SELECT count(*) FROM t").unwrap().trim(), "1");
        assert!(b.psql("SELECT count(*) FROM t").unwrap_err().contains("does not exist"));
        super::server().stop();
        assert!(a.psql("SELECT 1").is_err(), "stopped");
        super::server().start();
        assert_eq!(a.psql("SELECT count(*) FROM t").unwrap().trim(), "1", "the data survives a restart");
    }

    #[test]
    fn a_cluster_fails_over_to_its_standby_with_every_committed_row() {
        let cluster = super::cluster();
        let db = cluster.database();
        db.psql("CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)").unwrap();
        // Synchronous: what the primary acknowledged is on the standby (flushed there; applied a
        // moment later), and the standby is read-only.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while cluster.standby.psql(&db.name, "SELECT count(*) FROM t").unwrap_or_default().trim() != "100" {
            assert!(std::time::Instant::now() < deadline, "the standby did not replay the rows");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let refused = cluster.standby.psql(&db.name, "INSERT INTO t VALUES (0)").unwrap_err();
        assert!(refused.contains("read-only transaction"), "{refused}");
        cluster.fail_over();
        assert!(db.psql("SELECT 1").is_err(), "the primary is down");
        cluster.standby.psql(&db.name, "INSERT INTO t VALUES (101)").unwrap();
        assert_eq!(cluster.standby.psql(&db.name, "SELECT count(*) FROM t").unwrap().trim(), "101");
    }
}
