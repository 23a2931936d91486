//! Shared harness of the end-to-end tests: start the real `ledgerd` on 127.0.0.1:0 with a throwaway
//! database and instance key, mint pairs the way the vendor does, and run the real `etctl` with
//! HOME/XDG pointed at a temp dir so no test touches the user's files or a real keyring.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use et_api::client::{Client, Credentials};
use et_api::{RegisterRequest, SecretString};
use et_core::{ApiKey, InstanceId, MasterKey};

/// The vendor master key of the SPEC test vector; every test ledger's instance key derives from it.
pub const MASTER_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// The instance id test ledgers run as.
pub const INSTANCE: &str = "test-instance";

pub fn master() -> MasterKey {
    MasterKey::from_hex(MASTER_HEX).unwrap()
}

/// Mints a pair for `instance` with the test master key: `(api_key, api_secret)`.
pub fn mint_for(instance: &str) -> (String, String) {
    let key = ApiKey::generate();
    let secret = master().instance_key(&InstanceId::parse(instance).unwrap()).secret_for(&key);
    (key.as_str().to_owned(), secret.expose().to_owned())
}

pub fn instance_key_hex(instance: &str) -> String {
    master().instance_key(&InstanceId::parse(instance).unwrap()).to_hex().to_string()
}

/// `ledgerd` with no inherited `LEDGERD_*` configuration.
pub fn ledgerd() -> Command {
    without_ledgerd_env(Command::new(env!("CARGO_BIN_EXE_ledgerd")))
}

/// `cmd` with no inherited `LEDGERD_*` configuration, logging at info.
fn without_ledgerd_env(mut cmd: Command) -> Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("LEDGERD_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

/// `etctl` with HOME and XDG dirs inside `home`, no inherited `ETCTL_*`, no colour.
pub fn etctl(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_etctl"));
    for (k, _) in std::env::vars() {
        if k.starts_with("ETCTL_") || k.starts_with("LEDGERD_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("NO_COLOR", "1");
    cmd
}

/// Options for [`Ledger::start_with`].
#[derive(Default)]
pub struct LedgerOptions {
    /// Extra environment for ledgerd, e.g. `("LEDGERD_AUTH_CACHE_TTL", "5")`.
    pub env: Vec<(String, String)>,
    /// Use this database file instead of a fresh one in the ledger's temp dir.
    pub db: Option<PathBuf>,
    /// Start ledgerd with this soft open-file limit (`ulimit -Sn`), as a default systemd unit does.
    pub soft_open_files: Option<u32>,
}

/// A running `ledgerd`, killed when dropped.
pub struct Ledger {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Ledger {
    pub fn start() -> Self {
        Self::start_with(LedgerOptions::default())
    }

    pub fn start_with(options: LedgerOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = options.db.clone().unwrap_or_else(|| dir.path().join("ledger.db"));
        let mut cmd = match options.soft_open_files {
            // The shell sets the limit, then becomes ledgerd (same pid).
            Some(limit) => {
                let mut sh = Command::new("sh");
                sh.arg("-c").arg(format!("ulimit -Sn {limit} && exec \"$0\"")).arg(env!("CARGO_BIN_EXE_ledgerd"));
                without_ledgerd_env(sh)
            }
            None => ledgerd(),
        };
        cmd.env("LEDGERD_LISTEN", "127.0.0.1:0")
            .env("LEDGERD_DB", &db)
            .env("LEDGERD_INSTANCE_ID", INSTANCE)
            .env("LEDGERD_INSTANCE_KEY", instance_key_hex(INSTANCE))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in &options.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn ledgerd");
        let (url, stderr) = wait_for_listening(&mut child);
        Ledger { url, dir, db, child, stderr }
    }

    /// Everything ledgerd has logged so far.
    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A client with no credential.
    pub fn client(&self) -> Client {
        Client::new(&self.url, Duration::from_secs(10)).unwrap()
    }

    /// A client that authenticates as `(api_key, api_secret)`.
    pub fn client_as(&self, pair: &(String, String)) -> Client {
        self.client().with_credentials(Credentials { api_key: pair.0.clone(), api_secret: SecretString::new(&pair.1) })
    }

    /// A pair minted for this ledger's instance.
    pub fn mint(&self) -> (String, String) {
        mint_for(INSTANCE)
    }

    /// Mints a pair and registers it through the API.
    pub fn register(&self, label: Option<&str>) -> (String, String) {
        let pair = self.mint();
        self.client()
            .register(&RegisterRequest {
                label: label.map(str::to_owned),
                ..RegisterRequest::new(pair.0.clone(), SecretString::new(&pair.1))
            })
            .expect("register a freshly minted pair");
        pair
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "ledgerd did not stop within 10 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads ledgerd's stderr until it says `listening on http(s)://ADDR`, then keeps draining it into a
/// buffer the test can inspect.
fn wait_for_listening(child: &mut Child) -> (String, Arc<Mutex<String>>) {
    let stderr = child.stderr.take().unwrap();
    let buffer = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = buffer.clone();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            // Into the buffer first: a test that reads the logs once ledgerd listens sees this line too.
            {
                let mut b = sink.lock().unwrap();
                b.push_str(&line);
                b.push('\n');
            }
            // `listening on http://ADDR`, or https:// when ledgerd serves TLS.
            if let Some(rest) = line.split("listening on ").nth(1).filter(|r| r.starts_with("http")) {
                let url: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
                if let Some(tx) = tx.take() {
                    let _ = tx.send(url);
                }
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(url) => (url, buffer),
        Err(_) => {
            let _ = child.kill();
            panic!("ledgerd did not report `listening on http://...`; it logged:\n{}", buffer.lock().unwrap());
        }
    }
}

/// Polls `check` every 5 ms until it is true; returns how long it took, or None after `limit`.
pub fn time_until(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// Starts `ledgerd` with a valid instance, a database in a temp dir and `env`, expecting it to
/// refuse to start: returns its stderr. Panics if it is still running after 20 s or exits 0.
pub fn refused_start(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ledgerd();
    cmd.env("LEDGERD_INSTANCE_ID", INSTANCE)
        .env("LEDGERD_INSTANCE_KEY", instance_key_hex(INSTANCE))
        .env("LEDGERD_LISTEN", "127.0.0.1:0")
        .env("LEDGERD_DB", dir.path().join("ledger.db"))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn ledgerd");
    let exited = time_until(Duration::from_secs(20), || child.try_wait().unwrap().is_some());
    if exited.is_none() {
        let _ = child.kill();
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(exited.is_some() && !output.status.success(), "ledgerd must refuse to start; it logged:\n{stderr}");
    assert!(!dir.path().join("ledger.db").exists(), "a refused start creates no database");
    stderr
}
