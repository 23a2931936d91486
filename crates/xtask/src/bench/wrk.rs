//! Driving load with wrk (Debian's package; installed when missing). wrk runs on core 1 with one
//! thread, the server on core 0. Its Lua `done` hook prints one `BENCH key=value…` line we parse.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use super::{Result, step};

const REPORT_LUA: &str = include_str!("report.lua");
const PAIRS_LUA: &str = include_str!("pairs.lua");

/// Installs wrk with apt-get when it is missing (as root; otherwise says what to run).
pub fn ensure_installed() -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    step("wrk is missing: installing it (apt-get install wrk)");
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !root {
        return Err("wrk is not installed; install it (sudo apt-get install wrk) and run again".into());
    }
    let quiet = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))
    };
    quiet(&["update", "-qq"])?;
    let status = quiet(&["install", "-y", "-qq", "wrk"])?;
    if !status.success() || Command::new("wrk").arg("--version").output().is_err() {
        return Err("installing wrk failed; install it (apt-get install wrk) and run again".into());
    }
    Ok(())
}

/// What wrk sends.
pub enum Load {
    /// The same request every time (wrk's fast path, no Lua per request), optionally authenticated.
    Static { path: &'static str, pair: Option<(String, String)> },
    /// pairs.lua in `mode` (`health`, `whoami`, `register`) over the pairs file.
    Scripted { mode: &'static str, pairs: PathBuf, start: u64 },
    /// `POST /credentials` with each pair of the file once.
    Register { pairs: PathBuf },
}

/// wrk against one ledgerd.
pub struct Wrk {
    pub addr: SocketAddr,
    pub pin: bool,
    pub work: PathBuf,
}

/// What one wrk run measured.
#[derive(Debug, Clone)]
pub struct Run {
    pub requests: u64,
    pub duration_s: f64,
    /// Answers other than 2xx/3xx.
    pub status_errors: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
    pub p50_us: f64,
    pub p99_us: f64,
}

impl Run {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.duration_s
    }

    pub fn p50_ms(&self) -> f64 {
        self.p50_us / 1e3
    }

    pub fn p99_ms(&self) -> f64 {
        self.p99_us / 1e3
    }

    /// This run, if every answer was a success and no socket failed.
    pub fn expect_ok(self, what: &str) -> Result<Run> {
        if self.status_errors > 0 || self.socket_errors > 0 || self.requests == 0 {
            return Err(format!(
                "{what}: {} requests, {} not 2xx, {} socket errors: the measurement is not valid",
                self.requests, self.status_errors, self.socket_errors
            ));
        }
        Ok(self)
    }
}

impl Wrk {
    fn script(&self, name: &str, text: &str) -> Result<PathBuf> {
        let path = self.work.join(name);
        if !path.exists() {
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(path)
    }

    /// Runs wrk for `seconds` with `connections` connections on one thread.
    pub fn run(&self, load: &Load, seconds: u32, connections: u32) -> Result<Run> {
        let mut cmd = if self.pin {
            let mut c = Command::new("taskset");
            c.args(["-c", "1", "wrk"]);
            c
        } else {
            Command::new("wrk")
        };
        cmd.args(["-t1", "-c", &connections.to_string(), "-d", &format!("{seconds}s"), "--timeout", "5s"]);
        let url = |path: &str| format!("http://{}{path}", self.addr);
        match load {
            Load::Static { path, pair } => {
                cmd.arg("-s").arg(self.script("report.lua", REPORT_LUA)?);
                if let Some((key, secret)) = pair {
                    cmd.args(["-H", &format!("X-Api-Key: {key}"), "-H", &format!("X-Api-Secret: {secret}")]);
                }
                cmd.arg(url(path));
            }
            Load::Scripted { mode, pairs, start } => {
                cmd.arg("-s").arg(self.script("pairs.lua", &format!("{PAIRS_LUA}\n{REPORT_LUA}"))?);
                cmd.arg(url("/")).arg("--").arg(mode).arg(pairs).arg("1").arg(start.to_string());
            }
            Load::Register { pairs } => {
                cmd.arg("-s").arg(self.script("pairs.lua", &format!("{PAIRS_LUA}\n{REPORT_LUA}"))?);
                cmd.arg(url("/")).arg("--").arg("register").arg(pairs).arg("1");
            }
        }
        let out = cmd.output().map_err(|e| format!("cannot run wrk: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!("wrk failed ({}): {stdout}{}", out.status, String::from_utf8_lossy(&out.stderr)));
        }
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("BENCH "))
            .ok_or_else(|| format!("wrk printed no BENCH line:\n{stdout}{}", String::from_utf8_lossy(&out.stderr)))?;
        let field = |name: &str| -> Result<f64> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("wrk's BENCH line has no {name}: {line}"))
        };
        Ok(Run {
            requests: field("requests")? as u64,
            duration_s: field("duration_us")? / 1e6,
            status_errors: field("status")? as u64,
            socket_errors: (field("connect")? + field("read")? + field("write")? + field("timeout")?) as u64,
            p50_us: field("p50_us")?,
            p99_us: field("p99_us")?,
        })
    }
}
