//! `cargo xtask bench --backend postgres`: the figures of issue 9 (item 8) with ledgerd on
//! PostgreSQL, measured as the SQLite figures are (same wrk, same scripts, same side-by-side
//! ratios), on a PostgreSQL server the suite starts itself from the installed binaries (et-pgtest's
//! way: as the `postgres` user, in a temporary directory, on a free loopback port), made durable
//! and sized for the benchmark by [`SETTINGS`].
//!
//! The server runs on the same core as ledgerd: the server side (ledgerd and its database) gets one
//! core and wrk the other, as with SQLite, where the database work happens inside ledgerd.

use std::ffi::OsStr;
use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::report::{Figure, Report};
use super::wrk::Load;
use super::{
    CONNECTIONS, Env, LATENCY_CONNECTIONS, Ledgerd, Params, Result, ScaleBackend, cpu_ticks, cpu_us_per_request,
    first_refusal, keep_pairs, max, median, mint_file, mint_rows, scale_figures, step,
};

/// The server's settings on top of et-pgtest's (which are made for throwaway test databases).
const SETTINGS: &[(&str, &str)] = &[
    // Durable as a production server: an answered registration or revocation survives a power
    // cut (et-pgtest turns these off for tests), as `synchronous = FULL` does on SQLite.
    ("fsync", "on"),
    ("synchronous_commit", "on"),
    ("full_page_writes", "on"),
    // The million-credential database (table, its three indexes, the audit trail) stays in memory.
    ("shared_buffers", "1GB"),
    // No checkpoint starts during a measurement: the suite checkpoints after seeding.
    ("max_wal_size", "8GB"),
    ("checkpoint_timeout", "30min"),
    // Point queries: nothing to compile.
    ("jit", "off"),
    // Three replicas' pools (16 each) and listeners, psql and the suite.
    ("max_connections", "300"),
    // What was slow, for a closer look (XTASK_BENCH_KEEP=1 keeps the log as pg-server.log):
    // statements of 100 ms or more, lock waits past deadlock_timeout (1 s), checkpoints and
    // autovacuum. Nothing is logged while nothing is slow.
    ("log_min_duration_statement", "100ms"),
    ("log_lock_waits", "on"),
    ("log_checkpoints", "on"),
    ("log_autovacuum_min_duration", "0"),
];

/// The smaller memory of `--quick` (it only proves the suite runs).
const QUICK_SHARED_BUFFERS: &str = "128MB";

/// The replicas of the cross-replica revocation figure (SPEC §7: every other replica within 100 ms).
const REPLICAS: usize = 3;

/// What writes a `COPY … FROM STDIN`'s rows to psql.
type Feed<'a> = dyn FnMut(&mut dyn Write) -> Result<()> + 'a;

/// The PostgreSQL server of a run, and the database most figures share (seeded once).
pub struct Postgres {
    server: et_pgtest::Server,
    version: String,
    pinned: bool,
    quick: bool,
    /// The main database and the credential the figures authenticate as, once seeded.
    main: Mutex<Option<(et_pgtest::Database, (String, String))>>,
}

impl Postgres {
    /// Starts the server (pinned to core 0 beside ledgerd when `pin`).
    pub fn start(params: &Params, pin: bool) -> Result<Postgres> {
        step("starting PostgreSQL (initdb, then postgres as the postgres user, on a free port)");
        let mut settings = SETTINGS.to_vec();
        if params.quick {
            settings.retain(|(k, _)| *k != "shared_buffers");
            settings.push(("shared_buffers", QUICK_SHARED_BUFFERS));
        }
        // et-pgtest says what is missing in a panic (tests fail with it); here it is an error.
        let server = std::panic::catch_unwind(|| {
            let server = et_pgtest::Server::with_settings(&settings).pinned(pin.then_some(0));
            server.start();
            server
        })
        .map_err(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            format!("cannot start PostgreSQL: {why}")
        })?;
        let version = Command::new(server.bin_dir().join("postgres"))
            .arg("--version")
            .output()
            .ok()
            // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the third word.
            .and_then(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().nth(2).map(str::to_owned))
            .unwrap_or_else(|| "?".into());
        Ok(Postgres { server, version, pinned: pin, quick: params.quick, main: Mutex::new(None) })
    }

    /// Writes the server's log to `path` (in the work directory, kept with XTASK_BENCH_KEEP=1).
    pub fn save_log(&self, path: &std::path::Path) -> Result<()> {
        std::fs::write(path, self.server.log()).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// The set-up line of the report.
    pub fn setup(&self) -> String {
        let settings: Vec<String> = SETTINGS
            .iter()
            .map(|(k, v)| match (*k, self.quick) {
                ("shared_buffers", true) => format!("`{k}={QUICK_SHARED_BUFFERS}`"),
                _ => format!("`{k}={v}`"),
            })
            .collect();
        let pinning = if self.pinned {
            "ledgerd and PostgreSQL pinned to core 0, wrk (1 thread, 32 connections) to core 1 with `taskset`"
        } else {
            "no pinning (needs taskset and 2 cores)"
        };
        format!(
            "{pinning}; PostgreSQL {} started by the suite on 127.0.0.1 (ledgerd connects over TCP, \
             `sslmode=disable`), with {}",
            self.version,
            settings.join(", ")
        )
    }

    /// `psql` on database `db`, each of `commands` sent on its own (VACUUM refuses a
    /// multi-statement string); `stdin` feeds a `COPY … FROM STDIN`. Its output.
    fn psql(&self, db: &str, commands: &[&str], stdin: Option<&mut Feed<'_>>) -> Result<String> {
        let own = self.server.bin_dir().join("psql");
        let mut cmd = Command::new(if own.is_file() { own.as_os_str() } else { OsStr::new("psql") });
        cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"]).arg(self.server.socket_dir()).args([
            "-p",
            &self.server.port().to_string(),
            "-U",
            "postgres",
            "-d",
            db,
        ]);
        for c in commands {
            cmd.args(["-c", c]);
        }
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("cannot run psql: {e}"))?;
        if let Some(feed) = stdin {
            let mut input = BufWriter::with_capacity(1 << 20, child.stdin.take().expect("piped"));
            feed(&mut input)?;
            input.flush().map_err(|e| format!("psql's input: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(format!("psql {commands:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A new database with the ledger schema (made by et-store, as ledgerd makes it) and `n`
    /// credentials minted as the SQLite suite mints them, the first `keep` pairs written to
    /// `pairs`; vacuumed, analysed and checkpointed, so the measurements do not pay for seeding.
    fn seed(
        &self,
        env: &Env,
        n: usize,
        keep: usize,
        pairs: &std::path::Path,
    ) -> Result<(et_pgtest::Database, Vec<(String, String)>)> {
        let started = Instant::now();
        let db = self.server.create_database();
        let rows = mint_rows(env, n);
        let minted = started.elapsed();
        drop(et_store::PgStore::open(&db.url, et_store::OpenMode::CreateIfMissing).map_err(|e| e.to_string())?);
        // One COPY, in key order, through the triggers (each row is checked and audited as an
        // INSERT would be), in one transaction.
        self.psql(
            &db.name,
            &["COPY api_credential (api_key, api_secret_hash, label) FROM STDIN"],
            Some(&mut |out: &mut dyn Write| {
                for (key, _, hash) in &rows {
                    writeln!(out, "{key}\t{hash}\tseeded").map_err(|e| format!("psql's input: {e}"))?;
                }
                Ok(())
            }),
        )?;
        let copied = started.elapsed();
        self.settle(&db)?;
        let kept = keep_pairs(rows, keep, pairs)?;
        step(&format!(
            "seeded {n} credentials in {:.1} s ({:.1} s minting, {:.1} s COPY, then VACUUM ANALYZE and CHECKPOINT)",
            started.elapsed().as_secs_f64(),
            minted.as_secs_f64(),
            (copied - minted).as_secs_f64()
        ));
        Ok((db, kept))
    }

    /// VACUUM ANALYZE and CHECKPOINT: what autovacuum and the checkpointer would do sometime,
    /// done before a measurement rather than during it.
    fn settle(&self, db: &et_pgtest::Database) -> Result<()> {
        self.psql(
            &db.name,
            &["VACUUM (ANALYZE) api_credential", "VACUUM (ANALYZE) credential_audit", "CHECKPOINT"],
            None,
        )
        .map(drop)
    }

    /// The database of the main, cold and replica figures (`cold_credentials` seeded), made once.
    fn main_database(&self, env: &Env, params: &Params) -> Result<(et_pgtest::Database, (String, String))> {
        let mut main = self.main.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(main) = main.as_ref() {
            return Ok(main.clone());
        }
        let (db, kept) =
            self.seed(env, params.cold_credentials, params.cold_credentials, &env.path("pg-cold.pairs"))?;
        let seeded = (db, kept[0].clone());
        *main = Some(seeded.clone());
        Ok(seeded)
    }

    /// CPU time of the server: the postmaster with the backends it has reaped, and every process
    /// it forked that still runs (pool connections, background workers), in ticks.
    fn cpu_ticks(&self) -> u64 {
        let pidfile = std::fs::read_to_string(self.server.dir().join("data/postmaster.pid")).unwrap_or_default();
        let Some(postmaster) = pidfile.lines().next().and_then(|l| l.trim().parse::<u32>().ok()) else { return 0 };
        let children: u64 = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().is_some_and(|stat| {
                    stat.rfind(')').and_then(|i| stat.get(i + 2..)).and_then(|rest| rest.split_whitespace().nth(1))
                        == Some(&postmaster.to_string())
                })
            })
            .filter_map(|pid| cpu_ticks(pid, false))
            .sum();
        cpu_ticks(postmaster, true).unwrap_or(0) + children
    }

    /// Waits until `at_least` credentials have a last_used_at, or until the count has not moved
    /// for 3 s (wrk's count of answered requests and the credentials it used differ by the few
    /// requests in flight when a run ends); how long that took.
    fn wait_for_usage(&self, db: &et_pgtest::Database, at_least: u64, limit: Duration) -> Result<Duration> {
        let start = Instant::now();
        let (mut last, mut since) = (None, Instant::now());
        loop {
            let out =
                self.psql(&db.name, &["SELECT count(*) FROM api_credential WHERE last_used_at IS NOT NULL"], None)?;
            let n: u64 = out.trim().parse().map_err(|_| format!("psql printed {out:?} for a count"))?;
            if last != Some(n) {
                (last, since) = (Some(n), Instant::now());
            }
            if n >= at_least || (n > 0 && since.elapsed() > Duration::from_secs(3)) {
                return Ok(start.elapsed());
            }
            if start.elapsed() > limit {
                return Err(format!("only {n} of {at_least} uses were written within {} s", limit.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// CPU time spent so far by a ledgerd and by the PostgreSQL server (every process of it), in ticks.
#[derive(Debug, Clone, Copy)]
struct Cpu {
    ledgerd: u64,
    postgres: u64,
}

impl Cpu {
    fn now(ledgerd: &Ledgerd, pg: &Postgres) -> Cpu {
        Cpu { ledgerd: ledgerd.cpu_ticks(), postgres: pg.cpu_ticks() }
    }

    /// CPU per request since `before`, in µs: (ledgerd, PostgreSQL).
    fn per_request_since(&self, before: Cpu, requests: u64) -> (f64, f64) {
        let per = |ticks: u64| cpu_us_per_request(ticks, requests);
        (per(self.ledgerd.saturating_sub(before.ledgerd)), per(self.postgres.saturating_sub(before.postgres)))
    }
}

fn postgres(env: &Env) -> Result<&Postgres> {
    env.postgres.as_ref().ok_or_else(|| "no PostgreSQL server was started".to_owned())
}

/// ledgerd on database `db`, logging to `NAME.log` in the work directory.
fn start_ledgerd(env: &Env, db: &et_pgtest::Database, name: &str, extra: &[(&str, &str)]) -> Result<Ledgerd> {
    let url = format!("{}?sslmode=disable", db.url);
    Ledgerd::start_on(env, OsStr::new(&url), env.path(&format!("{name}.log")), extra).map(|(l, _)| l)
}

/// The `q`-quantile (0..=1) of `values`, nearest rank.
fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Cached auth ÷ /health side by side, then registrations with group commit, on the main database.
pub fn main_ledger(env: &Env, params: &Params, report: &mut Report) -> Result<()> {
    let pg = postgres(env)?;
    let (db, operator) = pg.main_database(env, params)?;
    let ledgerd = start_ledgerd(env, &db, "pg-main", &[])?;
    let wrk = ledgerd.wrk(env);

    step("postgres: auth overhead: GET /health vs GET /whoami (cached), side by side");
    let whoami = Load::Static { path: "/whoami", pair: Some(operator) };
    let health = Load::Static { path: "/health", pair: None };
    wrk.run(&health, 1, CONNECTIONS)?;
    wrk.run(&whoami, 1, CONNECTIONS)?;
    let (mut h_total, mut w_total, mut ratios, mut w_p99) = (0.0, 0.0, Vec::new(), Vec::new());
    let (mut h_cpu, mut w_cpu) = ((0, 0), (0, 0));
    for _ in 0..params.rounds {
        let before = Cpu::now(&ledgerd, pg);
        let h = wrk.run(&health, params.duration, CONNECTIONS)?.expect_ok("/health")?;
        let between = Cpu::now(&ledgerd, pg);
        let w = wrk.run(&whoami, params.duration, CONNECTIONS)?.expect_ok("/whoami")?;
        let after = Cpu::now(&ledgerd, pg);
        h_cpu = (h_cpu.0 + between.ledgerd - before.ledgerd, h_cpu.1 + h.requests);
        w_cpu = (w_cpu.0 + after.ledgerd - between.ledgerd, w_cpu.1 + w.requests);
        h_total += h.rps();
        w_total += w.rps();
        ratios.push(w.rps() / h.rps());
        w_p99.push(w.p99_ms());
    }
    let cpu_us = |(ticks, requests): (u64, u64)| cpu_us_per_request(ticks, requests);
    let hits = ledgerd.metric("ledgerd_auth_cache_hits_total")?;
    let misses = ledgerd.metric("ledgerd_auth_cache_misses_total")?;
    let ratio = w_total / h_total;
    report.add(Figure::new(
        "auth overhead (cached `/whoami` ÷ `/health`)",
        format!(
            "**{ratio:.3}** ({:.0} ÷ {:.0} req/s; rounds {}; whoami p99 {:.2} ms; cache {hits:.0} hits, {misses:.0} \
             misses; ledgerd CPU per request {:.1} µs, /health {:.1} µs)",
            w_total / params.rounds as f64,
            h_total / params.rounds as f64,
            ratios.iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>().join(", "),
            max(&w_p99),
            cpu_us(w_cpu),
            cpu_us(h_cpu),
        ),
        "≥ 0.90",
        ratio >= 0.90,
    ));

    step(&format!("postgres: registration: POST /credentials at {CONNECTIONS} connections"));
    let reg_pairs = env.path("pg-register.pairs");
    mint_file(env, params.registration_pool, &reg_pairs)?;
    let before = Cpu::now(&ledgerd, pg);
    let r = wrk.run(&Load::Register { pairs: reg_pairs }, params.duration, CONNECTIONS)?;
    let created = r.requests.saturating_sub(r.status_errors);
    let (cpu_ledgerd, cpu_pg) = Cpu::now(&ledgerd, pg).per_request_since(before, created);
    let rate = created as f64 / r.duration_s;
    if r.requests as usize > params.registration_pool {
        step("warning: the registration pool ran out; the excess requests were duplicates (409)");
    }
    report.add(Figure::new(
        "registration (`POST /credentials`, 32 connections, group commit)",
        format!(
            "**{rate:.0}/s** 201s ({} in {:.1} s; {} other answers, {} socket errors; p50 {:.2} ms, p99 {:.2} ms; \
             CPU per registration: ledgerd {cpu_ledgerd:.0} µs, PostgreSQL {cpu_pg:.0} µs)",
            created,
            r.duration_s,
            r.status_errors,
            r.socket_errors,
            r.p50_ms(),
            r.p99_ms()
        ),
        "≥ 5 000/s",
        rate >= 5_000.0 && r.socket_errors == 0,
    ));
    Ok(())
}

/// Cold auth: `LEDGERD_AUTH_CACHE_TTL=0`, every request a query; ÷ /health through the same script.
pub fn cold(env: &Env, params: &Params, report: &mut Report) -> Result<()> {
    let pg = postgres(env)?;
    let (db, _) = pg.main_database(env, params)?;
    let pairs = env.path("pg-cold.pairs");
    let ledgerd = start_ledgerd(env, &db, "pg-cold", &[("LEDGERD_AUTH_CACHE_TTL", "0")])?;
    let wrk = ledgerd.wrk(env);
    step(&format!(
        "postgres: cold auth: GET /whoami over {} credentials, every one a cache miss",
        params.cold_credentials
    ));
    let health = Load::Scripted { mode: "health", pairs: pairs.clone(), start: 0 };
    let cold = Load::Scripted { mode: "whoami", pairs: pairs.clone(), start: 0 };
    wrk.run(&health, 1, CONNECTIONS)?;
    // Warm-up: one whole pass, so what is measured is a miss and not a first use ever (which
    // writes last_used_at); then those writes are waited for and vacuumed, as on SQLite where the
    // suite waits for them.
    let mut warmed = 0;
    while warmed < params.cold_credentials as u64 {
        let load = Load::Scripted { mode: "whoami", pairs: pairs.clone(), start: warmed };
        warmed += wrk.run(&load, 1, CONNECTIONS)?.requests;
    }
    pg.wait_for_usage(&db, params.cold_credentials as u64, Duration::from_secs(120))?;
    pg.settle(&db)?;
    let misses_before = ledgerd.metric("ledgerd_auth_cache_misses_total")?;
    let (mut h_total, mut c_total, mut c_requests, mut p99s, mut h_p99s) = (0.0, 0.0, 0, Vec::new(), Vec::new());
    let (mut h_cpu, mut c_cpu, mut h_requests) = ((0.0, 0.0), (0.0, 0.0), 0);
    for _ in 0..params.rounds {
        let before = Cpu::now(&ledgerd, pg);
        let h = wrk.run(&health, params.duration, CONNECTIONS)?.expect_ok("/health")?;
        let between = Cpu::now(&ledgerd, pg);
        let c = wrk.run(&cold, params.duration, CONNECTIONS)?.expect_ok("/whoami (cold)")?;
        let after = Cpu::now(&ledgerd, pg);
        // Weighted by requests: summed per-request times times requests, divided at the end.
        let (hl, hp) = between.per_request_since(before, h.requests);
        let (cl, cp) = after.per_request_since(between, c.requests);
        h_cpu = (h_cpu.0 + hl * h.requests as f64, h_cpu.1 + hp * h.requests as f64);
        c_cpu = (c_cpu.0 + cl * c.requests as f64, c_cpu.1 + cp * c.requests as f64);
        h_requests += h.requests;
        h_total += h.rps();
        c_total += c.rps();
        c_requests += c.requests;
        p99s.push(c.p99_ms());
        h_p99s.push(h.p99_ms());
    }
    let light = wrk.run(&cold, params.duration, LATENCY_CONNECTIONS)?.expect_ok("/whoami (cold, light)")?;
    let light_health = wrk.run(&health, params.duration, LATENCY_CONNECTIONS)?.expect_ok("/health (light)")?;
    let misses = ledgerd.metric("ledgerd_auth_cache_misses_total")? - misses_before;
    let ratio = c_total / h_total;
    let p99 = light.p99_ms();
    let per = |total: f64, n: u64| total / n.max(1) as f64;
    report.add(Figure::new(
        &format!("cold auth ({} credentials, every request a miss)", params.cold_credentials),
        format!(
            "**{ratio:.3}** ({:.0} ÷ {:.0} req/s at {CONNECTIONS} connections); p99 **{p99:.2} ms** at \
             {LATENCY_CONNECTIONS} connections ({:.0} req/s; /health there: p99 {:.2} ms; at {CONNECTIONS}: \
             {:.2} ms, /health {:.2} ms); {misses:.0} misses for {} requests; CPU per miss: ledgerd {:.1} µs, \
             PostgreSQL {:.1} µs (per /health: ledgerd {:.1} µs)",
            c_total / params.rounds as f64,
            h_total / params.rounds as f64,
            light.rps(),
            light_health.p99_ms(),
            max(&p99s),
            max(&h_p99s),
            c_requests + light.requests,
            per(c_cpu.0, c_requests),
            per(c_cpu.1, c_requests),
            per(h_cpu.0, h_requests),
        ),
        "p99 < 2 ms (the ratio: no target)",
        p99 < 2.0,
    ));
    Ok(())
}

/// How a trial revokes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    /// `DELETE /credentials/{key}` through the first replica.
    Api,
    /// `UPDATE api_credential SET active = false …` in psql.
    Psql,
}

/// Cross-replica revocation: three ledgerd on one database; a credential cached on all three is
/// revoked (through the first replica's API, or in psql), and each replica is asked in a tight
/// loop until it refuses it.
pub fn replicas(env: &Env, params: &Params, report: &mut Report) -> Result<()> {
    let pg = postgres(env)?;
    let (db, _) = pg.main_database(env, params)?;
    let replicas: Vec<Ledgerd> =
        (0..REPLICAS).map(|i| start_ledgerd(env, &db, &format!("pg-replica-{i}"), &[])).collect::<Result<_>>()?;
    for via in [Via::Api, Via::Psql] {
        let trials = match (via, params.quick) {
            (_, true) => 3,
            (Via::Api, false) => 50,
            (Via::Psql, false) => 20,
        };
        let name = match via {
            Via::Api => "revocation through replica A's API, refused by replicas B and C",
            Via::Psql => "revocation by a `psql` UPDATE, refused by all three replicas",
        };
        step(&format!("postgres: {name}: {trials} trials"));
        let (mut delays, mut accepted, mut own_accepted) = (Vec::new(), 0, 0);
        for _ in 0..trials {
            let (trial, own) = revocation_trial(env, pg, &db, &replicas, via)?;
            for (delay, n) in trial {
                delays.push(delay.as_secs_f64() * 1e3);
                accepted += n;
            }
            own_accepted += own;
        }
        let (p50, p99, worst) = (median(delays.clone()), quantile(delays.clone(), 0.99), max(&delays));
        let (target, met) = match via {
            Via::Api => (
                "p99 ≤ 100 ms, max ≤ 1 s; replica A: the next request",
                p99 <= 100.0 && worst <= 1000.0 && own_accepted == 0,
            ),
            Via::Psql => ("max ≤ 1 s", worst <= 1000.0),
        };
        let own = match via {
            Via::Api => format!("; replica A accepted {own_accepted} requests after its revoke returned"),
            Via::Psql => String::new(),
        };
        report.add(Figure::new(
            name,
            format!(
                "p50 {p50:.1} ms, p99 **{p99:.1} ms**, max {worst:.1} ms ({} refusals timed over {trials} trials; \
                 {accepted} requests accepted meanwhile{own})",
                delays.len()
            ),
            target,
            met,
        ));
    }
    Ok(())
}

/// One trial: register a credential through replica A, cache it on every replica, revoke it, and
/// time each other replica's first refusal from the moment the revocation returned. The times (and
/// requests accepted meanwhile) per replica probed, and what replica A accepted after its own revoke.
fn revocation_trial(
    env: &Env,
    pg: &Postgres,
    db: &et_pgtest::Database,
    replicas: &[Ledgerd],
    via: Via,
) -> Result<(Vec<(Duration, u32)>, u32)> {
    let pair = env.mint();
    let mut conn = replicas[0].conn()?;
    let body = format!(r#"{{"api_key":"{}","api_secret":"{}","label":"revocation trial"}}"#, pair.0, pair.1);
    let r = conn.send("POST", "/credentials", &[], Some(&body)).map_err(|e| e.to_string())?;
    if r.status != 201 {
        return Err(format!("registering a trial credential: {} {}", r.status, r.body));
    }
    let mut probes = Vec::new();
    for replica in replicas {
        let mut probe = replica.conn()?;
        for _ in 0..3 {
            let r = probe.get_as("/whoami", &pair).map_err(|e| e.to_string())?;
            if r.status != 200 {
                return Err(format!("a fresh credential was refused: {} {}", r.status, r.body));
            }
        }
        probes.push(probe);
    }
    match via {
        Via::Api => {
            let path = format!("/credentials/{}", pair.0);
            let r = conn
                .send("DELETE", &path, &[("X-Api-Key", &pair.0), ("X-Api-Secret", &pair.1)], None)
                .map_err(|e| e.to_string())?;
            if r.status != 200 {
                return Err(format!("DELETE {path}: {} {}", r.status, r.body));
            }
        }
        Via::Psql => {
            pg.psql(
                &db.name,
                &[&format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", pair.0)],
                None,
            )?;
        }
    }
    let revoked = Instant::now();
    let revoked_at = std::time::SystemTime::now();
    let skip = usize::from(via == Via::Api);
    let timed = std::thread::scope(|scope| {
        let handles: Vec<_> = probes
            .iter_mut()
            .enumerate()
            .map(|(i, probe)| {
                let pair = &pair;
                scope.spawn(move || (i, first_refusal(probe, pair, revoked)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a probe thread panicked")).collect::<Vec<_>>()
    });
    let (mut others, mut own) = (Vec::new(), 0);
    for (i, result) in timed {
        let (delay, accepted) = result?;
        if delay > Duration::from_secs(1) {
            // Beyond SPEC §7's second: when, to find it in ledgerd's and PostgreSQL's logs.
            step(&format!(
                "postgres: replica {i} refused the credential revoked at {} UTC only {:.0} ms later",
                utc_time_of_day(revoked_at),
                delay.as_secs_f64() * 1e3
            ));
        }
        if i < skip {
            own += accepted;
        } else {
            others.push((delay, accepted));
        }
    }
    Ok((others, own))
}

/// `at` as HH:MM:SS.mmm, UTC, as PostgreSQL's and ledgerd's logs show it.
fn utc_time_of_day(at: std::time::SystemTime) -> String {
    let ms = at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis()) % 86_400_000;
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// 1 000 000 credentials: cold auth cycling through more of them than the cache holds, first uses,
/// and ledgerd's peak RSS, as the SQLite scale figures (the same code, [`scale_figures`]).
pub fn scale(env: &Env, params: &Params, report: &mut Report) -> Result<()> {
    let pg = postgres(env)?;
    let pairs = env.path("pg-scale.pairs");
    let (db, _) = pg.seed(env, params.scale_credentials, params.scale_pool, &pairs)?;
    let ledgerd = start_ledgerd(env, &db, "pg-scale", &[])?;
    let backend = ScaleBackend {
        step_prefix: "postgres: ",
        started_in: None,
        // Issue 9's cold p99 target; SQLite's first uses are held to issue 11's 1 ms.
        first_use_target: ("p99 < 2 ms (issue 9's cold target)", 2.0),
        rss_note: "; PostgreSQL's own memory not counted",
    };
    scale_figures(env, params, report, &ledgerd, pairs, &backend, |used| {
        let written = pg.wait_for_usage(&db, used, Duration::from_secs(120))?;
        // The latency run reads a vacuumed table, as the cold figure does.
        pg.settle(&db)?;
        Ok(written)
    })
}
