//! ledgerd's configuration: the clap definition (every flag has a fixed `LEDGERD_*` variable) and
//! its resolution into [`Settings`], with one-line start-up errors that name the fix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{CommandFactory, Parser, ValueEnum};

use crate::client::TrustedProxies;
use crate::tls::TlsFiles;
use et_core::{InstanceId, InstanceKey};

/// ledgerd's version with the commit and build date (`0.1.0 (commit 1a2b3c4d5e6f, built
/// 2026-12-02)`), from build.rs; a build outside a git checkout says only the date.
pub const VERSION: &str = env!("LEDGERD_LONG_VERSION");

/// Longest time a verified credential may be served from the cache (SPEC §3: 300 s, never more).
pub const MAX_AUTH_CACHE_TTL: u64 = 300;

/// Default of `LEDGERD_AUTH_FAILURE_LIMIT`: failed authentications per client address per minute.
pub const DEFAULT_AUTH_FAILURE_LIMIT: u32 = 60;
/// Default of `LEDGERD_REGISTRATION_LIMIT`: refused registrations per client address per minute.
pub const DEFAULT_REGISTRATION_LIMIT: u32 = 60;
/// Default of `LEDGERD_DB`.
pub const DEFAULT_DB: &str = "ledgerd.db";
/// Default of `LEDGERD_REQUEST_TIMEOUT`, in seconds.
pub const DEFAULT_REQUEST_TIMEOUT: u64 = 30;
/// Default of `LEDGERD_HEADER_TIMEOUT`, in seconds (SPEC §3).
pub const DEFAULT_HEADER_TIMEOUT: u64 = 10;
/// Default of `LEDGERD_MAX_CONNECTIONS` (SPEC §3).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Who may register a credential (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegistrationMode {
    /// Anyone with a pair minted for this instance: the derivation is the proof (the seeds' rule).
    Open,
    /// A pair and a caller holding credentials:write, who may grant only scopes it holds; while the
    /// ledger has no active credential, its first one is registered as under `open`.
    Authenticated,
}

/// The command line and environment of ledgerd. A flag wins over its variable.
#[derive(Debug, Parser)]
#[command(
    name = "ledgerd",
    version = VERSION,
    about = "The ledger API server: registers, authenticates and revokes etctl credentials",
    long_about = "The ledger API server: registers, authenticates and revokes etctl credentials.\n\n\
                  Every flag can also be given by its LEDGERD_* environment variable; the flag wins. \
                  Logging level comes from RUST_LOG (default: info).\n\n\
                  To try it with no configuration at all, run `ledgerd --dev`."
)]
pub struct Config {
    /// Address to listen on, HOST:PORT (port 0 picks a free port).
    #[arg(long, env = "LEDGERD_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR", value_parser = parse_listen)]
    pub listen: String,

    /// SQLite database file; created with its schema when missing. While ledgerd runs it holds a
    /// lock on PATH.lock beside it (holding its pid): a second ledgerd on the same file refuses to
    /// start. Leave that file in place. Or a PostgreSQL URL (postgres://user@host:5432/ledger,
    /// libpq syntax: several hosts, target_session_attrs, sslmode=disable|prefer|require|verify-full,
    /// sslrootcert) that any number of ledgerd share; its schema is made or migrated at start
    #[arg(long, env = "LEDGERD_DB", default_value = DEFAULT_DB, value_name = "PATH|URL")]
    pub db: PathBuf,

    /// This ledger's instance id, the one its credentials are minted for (e.g. acme-prod-eu1).
    #[arg(long, env = "LEDGERD_INSTANCE_ID", value_name = "ID")]
    pub instance_id: Option<String>,

    /// The instance key as 64 hex digits. Prefer the variable or --instance-key-file: a flag's
    /// value is visible to every user of the machine in the process list.
    #[arg(long, env = "LEDGERD_INSTANCE_KEY", value_name = "HEX", hide_env_values = true)]
    pub instance_key: Option<String>,

    /// A file holding the instance key as 64 hex digits (mode 0600 recommended).
    #[arg(long, env = "LEDGERD_INSTANCE_KEY_FILE", value_name = "PATH")]
    pub instance_key_file: Option<PathBuf>,

    /// Seconds a verified credential may be served from the in-process cache (0 disables it;
    /// at most 300). Revocations through the API or the database reach requests sooner anyway.
    #[arg(
        long,
        env = "LEDGERD_AUTH_CACHE_TTL",
        default_value_t = MAX_AUTH_CACHE_TTL,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(0..=MAX_AUTH_CACHE_TTL)
    )]
    pub auth_cache_ttl: u64,

    /// Failed authentications allowed per client IP address (an IPv6 client: its /64) per minute:
    /// a burst of this many, then one every 60/N seconds; past it further failures are answered
    /// 429 RATE_LIMITED with Retry-After. A correct credential is never refused. 0 or `off` disables
    /// it. Behind a reverse proxy every client shares the proxy's address unless the proxy is
    /// listed in LEDGERD_TRUSTED_PROXIES.
    #[arg(
        long,
        env = "LEDGERD_AUTH_FAILURE_LIMIT",
        default_value_t = DEFAULT_AUTH_FAILURE_LIMIT,
        value_name = "PER_MINUTE",
        value_parser = parse_limit
    )]
    pub auth_failure_limit: u32,

    /// Refused registrations (POST /credentials answered 4xx: malformed, not derived for this
    /// instance, duplicate) allowed per client IP address per minute, as a burst of this many then
    /// one every 60/N seconds; past it further refusals are answered 429 RATE_LIMITED until the
    /// bucket refills. A valid pair is always registered. 0 or `off` disables it.
    #[arg(
        long,
        env = "LEDGERD_REGISTRATION_LIMIT",
        default_value_t = DEFAULT_REGISTRATION_LIMIT,
        value_name = "PER_MINUTE",
        value_parser = parse_limit
    )]
    pub registration_limit: u32,

    /// Seconds one request may take, body included, before it is answered 408 REQUEST_TIMEOUT.
    #[arg(
        long,
        env = "LEDGERD_REQUEST_TIMEOUT",
        default_value_t = DEFAULT_REQUEST_TIMEOUT,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub request_timeout: u64,

    /// Seconds a client has to send a complete request head, counted from the connection's accept
    /// and again after each response; slower connections, and connections idle that long between
    /// requests, are closed.
    #[arg(
        long,
        env = "LEDGERD_HEADER_TIMEOUT",
        default_value_t = DEFAULT_HEADER_TIMEOUT,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub header_timeout: u64,

    /// Open client connections at most. At the cap a new connection takes the slot of the oldest
    /// one not in a request (idle, or still sending its head), which is closed; when every one is
    /// in a request, new connections wait in the listen backlog. A request is never cut.
    /// ledgerd raises its soft open-file limit to the hard one at start-up and warns when that is
    /// too low for this many.
    #[arg(
        long,
        env = "LEDGERD_MAX_CONNECTIONS",
        default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_name = "N",
        value_parser = parse_max_connections
    )]
    pub max_connections: usize,

    /// Comma-separated addresses and CIDR blocks of the reverse proxies whose X-Forwarded-For is
    /// believed (e.g. 10.0.0.0/8,192.0.2.7). When the peer is one of them, the client address for
    /// rate limits and logs is the nearest X-Forwarded-For hop that is not; otherwise it is the
    /// peer. Empty: the peer, always.
    #[arg(
        long,
        env = "LEDGERD_TRUSTED_PROXIES",
        default_value = "",
        hide_default_value = true,
        value_name = "ADDRS",
        value_parser = TrustedProxies::parse
    )]
    pub trusted_proxies: TrustedProxies,

    /// PEM certificate chain (leaf first) to serve HTTPS with; needs --tls-key. With both set
    /// ledgerd serves HTTPS only, and re-reads both files on SIGHUP (a pair that cannot be used is
    /// logged and the one in use kept).
    #[arg(long, env = "LEDGERD_TLS_CERT", value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1; mode 0600 recommended).
    #[arg(long, env = "LEDGERD_TLS_KEY", value_name = "PATH")]
    pub tls_key: Option<PathBuf>,

    /// Who may register credentials: `open` (anyone with a pair minted for this instance) or
    /// `authenticated` (also a caller holding credentials:write, granting only scopes it holds;
    /// the ledger's first active credential excepted).
    #[arg(long, env = "LEDGERD_REGISTRATION", value_enum, default_value_t = RegistrationMode::Open, value_name = "MODE")]
    pub registration: RegistrationMode,

    /// Longest lifetime a credential may have, as people write it (`90d`, `12h`, `30m`): a
    /// registration without expires_at gets exactly now + this, and an expires_at beyond it (by
    /// registration or PATCH) is refused. Unset: no limit.
    #[arg(long, env = "LEDGERD_MAX_CREDENTIAL_LIFETIME", value_name = "DURATION", value_parser = parse_lifetime)]
    pub max_credential_lifetime: Option<Duration>,

    /// Most credentials that may be active (not revoked, not expired) at once; a registration past
    /// it is refused 403 CREDENTIAL_LIMIT_REACHED. Unset: no limit.
    #[arg(
        long,
        env = "LEDGERD_MAX_ACTIVE_CREDENTIALS",
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub max_active_credentials: Option<u64>,

    /// Log format on stderr.
    #[arg(long, env = "LEDGERD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,

    /// Development mode: no configuration needed. Wipes and recreates ./.ledgerd-dev/ with a
    /// throwaway vendor key, instance `dev` and its database, registers a first credential and
    /// prints the `export` lines that point etctl at this server. It refuses the instance and
    /// database settings of a real ledger and a --listen address that is not loopback; the cache
    /// TTL, the rate limits, the timeouts and the connection cap are honoured.
    #[arg(long)]
    pub dev: bool,
}

/// A listen address is HOST:PORT; a port alone (`8081`) is refused with the fix, not looked up as
/// a host name.
fn parse_listen(text: &str) -> Result<String, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "a port alone is not an address; use HOST:PORT, e.g. 127.0.0.1:{text} (or 0.0.0.0:{text} for every interface)"
        ));
    }
    if !text.contains(':') {
        return Err("use HOST:PORT, e.g. 127.0.0.1:8080".into());
    }
    Ok(text.to_owned())
}

/// A rate limit: a whole number of events per minute, or `0`/`off` for none.
fn parse_limit(text: &str) -> Result<u32, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(0);
    }
    text.parse::<u32>().map_err(|_| "expected a whole number of events per minute, or 0 or `off` to disable".to_owned())
}

/// A maximum credential lifetime: a humantime duration of at least a second (`90d`, `12h`).
fn parse_lifetime(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d >= Duration::from_secs(1) && d <= Duration::from_secs(100 * 365 * 86_400) => Ok(d),
        Ok(_) => Err("expected a lifetime from 1s to 100 years".to_owned()),
        Err(_) => Err("expected a duration as people write it: 90d, 12h, 30m or 1h 30m".to_owned()),
    }
}

/// A connection cap: a whole number from 1 to 1 000 000.
fn parse_max_connections(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err("expected a whole number of connections from 1 to 1000000".to_owned()),
    }
}

/// The clap command of ledgerd, for rendering its man page and completions.
pub fn command() -> clap::Command {
    Config::command()
}

/// Everything the server needs to run, resolved and validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub db: PathBuf,
    pub instance_id: InstanceId,
    pub instance_key: InstanceKey,
    /// Zero disables the auth cache.
    pub auth_cache_ttl: Duration,
    /// How long one request may take, body included, before it is answered with 408.
    pub request_timeout: Duration,
    /// Failed authentications per client address per minute; 0 is no limit.
    pub auth_failure_limit: u32,
    /// Refused registrations per client address per minute; 0 is no limit.
    pub registration_limit: u32,
    /// A `ledgerd --dev` ledger (reported on `/health`).
    pub dev: bool,
    /// Time to deliver a request head; also the idle keep-alive timeout.
    pub header_timeout: Duration,
    /// Client connections served at once.
    pub max_connections: usize,
    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Serve HTTPS with this certificate and key; `None`: plain HTTP.
    pub tls: Option<TlsFiles>,
    pub registration: RegistrationMode,
    /// Longest lifetime of a credential; `None`: no limit.
    pub max_credential_lifetime: Option<Duration>,
    /// Most active credentials; `None`: no limit.
    pub max_active_credentials: Option<u64>,
}

impl Settings {
    /// Settings with the defaults for everything but the database and the instance.
    pub fn new(db: impl Into<PathBuf>, instance_id: InstanceId, instance_key: InstanceKey) -> Self {
        Settings {
            db: db.into(),
            instance_id,
            instance_key,
            auth_cache_ttl: Duration::from_secs(MAX_AUTH_CACHE_TTL),
            request_timeout: Duration::from_secs(DEFAULT_REQUEST_TIMEOUT),
            auth_failure_limit: DEFAULT_AUTH_FAILURE_LIMIT,
            registration_limit: DEFAULT_REGISTRATION_LIMIT,
            dev: false,
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            trusted_proxies: TrustedProxies::default(),
            tls: None,
            registration: RegistrationMode::Open,
            max_credential_lifetime: None,
            max_active_credentials: None,
        }
    }
}

/// A configuration that cannot work; the message is one line that says how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Resolves the instance and database settings (everything but the listen address).
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let instance_id = match self.instance_id.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(ConfigError(
                    "LEDGERD_INSTANCE_ID is not set; set it (or --instance-id) to this ledger's instance id, the one \
                     its credentials are minted for (e.g. acme-prod-eu1), or run `ledgerd --dev`"
                        .into(),
                ));
            }
            Some(id) => InstanceId::parse(id)
                .map_err(|e| ConfigError(format!("LEDGERD_INSTANCE_ID is not a valid instance id: {e}")))?,
        };
        let instance_key = resolve_instance_key(self.instance_key.as_deref(), self.instance_key_file.as_deref())?;
        let mut settings = Settings::new(&self.db, instance_id, instance_key);
        self.apply_limits(&mut settings);
        settings.tls = self.tls_files()?;
        Ok(settings)
    }
}

impl Config {
    /// The settings every mode honours (dev mode included): cache, limits, timeouts, connections.
    pub fn apply_limits(&self, settings: &mut Settings) {
        settings.auth_cache_ttl = Duration::from_secs(self.auth_cache_ttl);
        settings.auth_failure_limit = self.auth_failure_limit;
        settings.registration_limit = self.registration_limit;
        settings.request_timeout = Duration::from_secs(self.request_timeout);
        settings.header_timeout = Duration::from_secs(self.header_timeout);
        settings.max_connections = self.max_connections;
        settings.trusted_proxies = self.trusted_proxies.clone();
        settings.registration = self.registration;
        settings.max_credential_lifetime = self.max_credential_lifetime;
        settings.max_active_credentials = self.max_active_credentials;
    }
}

impl Config {
    /// The HTTPS certificate and key: both or neither.
    fn tls_files(&self) -> Result<Option<TlsFiles>, ConfigError> {
        let given = |path: &Option<PathBuf>| path.clone().filter(|p| !p.as_os_str().is_empty());
        match (given(&self.tls_cert), given(&self.tls_key)) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(ConfigError(
                "LEDGERD_TLS_CERT is set but LEDGERD_TLS_KEY is not; set both (HTTPS) or neither (plain HTTP)".into(),
            )),
            (None, Some(_)) => Err(ConfigError(
                "LEDGERD_TLS_KEY is set but LEDGERD_TLS_CERT is not; set both (HTTPS) or neither (plain HTTP)".into(),
            )),
        }
    }
}

const KEY_HINT: &str = "the 64-hex-digit instance key from `etctl vendor instance-key <INSTANCE>`";

fn resolve_instance_key(inline: Option<&str>, file: Option<&Path>) -> Result<InstanceKey, ConfigError> {
    let inline = inline.filter(|k| !k.trim().is_empty());
    match (inline, file) {
        (Some(_), Some(_)) => Err(ConfigError(
            "both LEDGERD_INSTANCE_KEY and LEDGERD_INSTANCE_KEY_FILE are set; set only one of them (or of \
             --instance-key and --instance-key-file)"
                .into(),
        )),
        (None, None) => Err(ConfigError(format!(
            "LEDGERD_INSTANCE_KEY is not set; set it (or LEDGERD_INSTANCE_KEY_FILE) to {KEY_HINT}, or run `ledgerd --dev`"
        ))),
        (Some(hex), None) => InstanceKey::from_hex(hex).map_err(|e| {
            ConfigError(format!("LEDGERD_INSTANCE_KEY is not a valid instance key: {e}; set it to {KEY_HINT}"))
        }),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!(
                    "cannot read the instance key file {} (LEDGERD_INSTANCE_KEY_FILE): {e}; check the path, or set \
                     LEDGERD_INSTANCE_KEY instead",
                    path.display()
                ))
            })?;
            warn_if_readable_by_others(path);
            InstanceKey::from_hex(&text).map_err(|e| {
                ConfigError(format!(
                    "the instance key file {} (LEDGERD_INSTANCE_KEY_FILE) does not hold a valid instance key: {e}; \
                     write {KEY_HINT} into it",
                    path.display()
                ))
            })
        }
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            "the instance key file {} can be read by other users; restrict it with `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("ledgerd").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn a_port_alone_is_refused_with_the_host_port_form() {
        let err = parse(&["--listen", "8081"]).unwrap_err().to_string();
        assert!(err.contains("HOST:PORT") && err.contains("127.0.0.1:8081"), "{err}");
        assert_eq!(parse(&["--listen", "[::1]:0"]).unwrap().listen, "[::1]:0");
    }

    #[test]
    fn a_cache_ttl_above_five_minutes_is_refused() {
        assert!(parse(&["--auth-cache-ttl", "300"]).is_ok());
        let err = parse(&["--auth-cache-ttl", "301"]).unwrap_err();
        assert!(err.to_string().contains("0..=300"), "{err}");
    }

    #[test]
    fn rate_limits_take_a_number_or_off() {
        let config = parse(&[]).unwrap();
        assert_eq!((config.auth_failure_limit, config.registration_limit), (60, 60));
        let config = parse(&["--auth-failure-limit", "off", "--registration-limit", "0"]).unwrap();
        assert_eq!((config.auth_failure_limit, config.registration_limit), (0, 0));
        assert!(parse(&["--auth-failure-limit", "many"]).is_err());
        assert!(parse(&["--request-timeout", "0"]).is_err());
    }

    #[test]
    fn a_missing_instance_key_names_the_variable_and_the_fix() {
        let config = parse(&["--instance-id", "acme"]).unwrap();
        let config = Config { instance_key: None, instance_key_file: None, ..config };
        let err = config.settings().unwrap_err().to_string();
        assert!(err.contains("LEDGERD_INSTANCE_KEY") && err.contains("etctl vendor instance-key"), "{err}");
    }

    #[test]
    fn a_malformed_instance_key_does_not_echo_it() {
        let err = resolve_instance_key(Some("zz-secret-looking-value"), None).unwrap_err().to_string();
        assert!(err.contains("LEDGERD_INSTANCE_KEY") && !err.contains("secret-looking"), "{err}");
    }

    #[test]
    fn a_missing_key_file_names_its_path() {
        let err = resolve_instance_key(None, Some(Path::new("/nonexistent/ik"))).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ik") && err.contains("LEDGERD_INSTANCE_KEY_FILE"), "{err}");
    }
}
