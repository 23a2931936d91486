//! ledgerd, the ledger API server, as a library: [`main`] for the binary, [`server::app`] and
//! [`server::launch_with_tcp_listener`] for tests and embedding, [`command`] for generated docs.

mod auth;
mod cache;
pub mod client;
pub mod config;
mod dblock;
mod dev;
mod drain;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod harden;
mod health;
mod input;
mod keylimit;
pub mod metrics;
mod openapi;
mod policy_input;
mod procstat;
mod ratelimit;
mod registrar;
mod routes;
mod serve;
pub mod server;
mod slot;
mod startup;
mod state;
pub mod tls;
mod usage;
mod watcher;

#[cfg(test)]
mod tests;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use tokio::net::TcpListener;

pub use config::{Config, LogFormat, Settings, command};
pub use server::{app, launch_with_tcp_listener};
pub use state::{AppState, Shared};

/// Runs ledgerd with the process's arguments and environment.
pub fn main() -> ExitCode {
    // Before anything reads the instance key: a core dump would hold it.
    if let Err(message) = harden::disable_core_dumps() {
        return fail(&message);
    }
    let config = match startup::parse() {
        Ok(config) => config,
        Err(code) => return code,
    };
    init_logging(config.log_format);
    serve::raise_open_file_limit(config.max_connections);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// Start-up errors are one plain line on stderr, whatever the log format, so a person reading a
/// failed `systemctl status` or a terminal sees the fix at once.
fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        // Colour only for a person at a terminal who has not asked for none (https://no-color.org).
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()))
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

async fn bind(listen: &str) -> Result<TcpListener, String> {
    TcpListener::bind(listen).await.map_err(|e| {
        format!(
            "cannot listen on {listen}: {e}; stop whatever uses that address or set LEDGERD_LISTEN (or --listen) \
             to another one (port 0 picks a free port)"
        )
    })
}

async fn run(config: Config) -> Result<(), String> {
    if config.dev {
        return run_dev(config).await;
    }
    let settings = config.settings().map_err(|e| e.to_string())?;
    // Held until the process ends: one ledgerd per SQLite file. Any number share a PostgreSQL
    // database (SPEC §7).
    let _lock = match server::postgres_url(&settings) {
        Some(_) => None,
        None => Some(dblock::acquire(&settings.db, "set LEDGERD_DB (or --db) to another file")?),
    };
    startup::log_identity(&settings);
    let listener = bind(&config.listen).await?;
    server::launch_with_tcp_listener(settings, listener, shutdown_signal()).await.map_err(|e| e.to_string())
}

async fn run_dev(config: Config) -> Result<(), String> {
    // Dev mode prints its credentials and keeps its vendor key in ./.ledgerd-dev: it must never
    // look like, or be reachable as, a production ledger. Refused before anything is touched.
    let set = |value: Option<&str>| value.is_some_and(|v| !v.trim().is_empty());
    let production: Vec<&str> = [
        ("LEDGERD_INSTANCE_ID (--instance-id)", set(config.instance_id.as_deref())),
        ("LEDGERD_INSTANCE_KEY (--instance-key)", set(config.instance_key.as_deref())),
        ("LEDGERD_INSTANCE_KEY_FILE (--instance-key-file)", config.instance_key_file.is_some()),
        ("LEDGERD_DB (--db)", config.db != std::path::Path::new(config::DEFAULT_DB)),
        ("LEDGERD_TLS_CERT (--tls-cert)", config.tls_cert.is_some()),
        ("LEDGERD_TLS_KEY (--tls-key)", config.tls_key.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if !production.is_empty() {
        return Err(format!(
            "ledgerd --dev refuses a production setting: {} {} set; dev mode makes its own throwaway instance and \
             database, so unset {} to try it, or drop --dev to serve that ledger",
            production.join(", "),
            if production.len() == 1 { "is" } else { "are" },
            if production.len() == 1 { "it" } else { "them" },
        ));
    }
    dev_listen_check(&config.listen).await?;
    let listener = bind(&config.listen).await?;
    let addr = listener.local_addr().map_err(|e| format!("cannot read the listening address: {e}"))?;
    // The lock is taken before anything in the directory is wiped, so a second `ledgerd --dev` in
    // the same directory refuses without touching the running one's files; it is held until the
    // process ends.
    let dir = std::path::PathBuf::from(dev::DEV_DIR);
    dev::create_dir(&dir)?;
    let _lock = dblock::acquire(&dir.join(dev::DEV_DB), "run ledgerd --dev in another directory")?;
    let ledger = tokio::task::spawn_blocking(move || dev::prepare(&dir)).await.map_err(|e| e.to_string())??;
    tracing::warn!(
        "dev mode: {} was wiped and recreated with a throwaway vendor key, instance `dev` and its database; \
         never use it for real credentials",
        ledger.vendor_key_file.parent().map(|d| d.display().to_string()).unwrap_or_default()
    );
    // The secret goes to stdout, which is the point of dev mode, and never to the log.
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(dev::exports(&ledger, addr).as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot print the dev credentials: {e}"))?;
    drop(stdout);
    let mut settings = ledger.settings;
    config.apply_limits(&mut settings);
    startup::log_identity(&settings);
    server::launch_with_tcp_listener(settings, listener, shutdown_signal()).await.map_err(|e| e.to_string())
}

/// Refuses a dev listen address that is not loopback (every address it resolves to must be).
async fn dev_listen_check(listen: &str) -> Result<(), String> {
    // An address that does not resolve is left to `bind`, whose message names it.
    let Ok(addrs) = tokio::net::lookup_host(listen).await else { return Ok(()) };
    match addrs.into_iter().find(|a| !a.ip().is_loopback()) {
        None => Ok(()),
        Some(public) => Err(format!(
            "ledgerd --dev listens on loopback only, not {public} (LEDGERD_LISTEN / --listen): it prints its \
             credentials and keeps a throwaway vendor key; use --listen 127.0.0.1:PORT (or [::1]:PORT), or drop \
             --dev to serve the network"
        )),
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
        "SIGTERM"
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&str>();
    let name = tokio::select! {
        name = interrupt => name,
        name = terminate => name,
    };
    tracing::info!("{name} received: finishing the requests in flight, then stopping");
}
