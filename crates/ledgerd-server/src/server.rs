//! The server: the router built from one route table (which the OpenAPI test checks
//! against the document), the middleware every request goes through, and the start-up that opens
//! the database, starts the background tasks and hands the router to the accept loop (`serve.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, patch, post};
use axum::{Extension, Router};
use et_api::{ErrorCode, Scope};
use et_store::{CredentialStore, OpenMode, PgStore, SqliteStore, StoreError};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::auth::{CallerSlot, RequiredScope};
use crate::client::ClientAddr;
use crate::config::Settings;
use crate::error::error_response;
use crate::input::MAX_BODY_BYTES;
use crate::state::{AppState, Shared};
use crate::{drain, routes, serve, tls, usage, watcher};

/// One route: its method and path as documented, and its handler.
pub(crate) struct Route {
    // Read by the test that holds the OpenAPI document to this table.
    #[cfg_attr(not(test), allow(dead_code))]
    pub method: Method,
    pub path: &'static str,
    /// The scope a caller needs (SPEC §6), checked by the [`crate::auth::Caller`] extractor and
    /// shown by the OpenAPI document (`x-required-scope`); `None`: no scope (an open route, or
    /// `/whoami`).
    pub scope: Option<Scope>,
    pub handler: MethodRouter<AppState>,
}

/// Every route of the API (SPEC §3). The router is built from this table and nothing else.
pub(crate) fn route_table() -> Vec<Route> {
    use Scope::*;
    fn r(method: Method, path: &'static str, scope: Option<Scope>, handler: MethodRouter<AppState>) -> Route {
        Route { method, path, scope, handler }
    }
    vec![
        r(Method::GET, "/health", None, get(routes::health)),
        r(Method::GET, "/metrics", None, get(routes::metrics)),
        r(Method::GET, "/openapi.json", None, get(routes::openapi)),
        r(Method::GET, "/whoami", None, get(routes::whoami)),
        r(Method::POST, "/credentials", None, post(routes::register)),
        r(Method::GET, "/credentials", Some(CredentialsRead), get(routes::list_credentials)),
        r(Method::GET, "/credentials/{api_key}", Some(CredentialsRead), get(routes::get_credential)),
        r(Method::DELETE, "/credentials/{api_key}", Some(CredentialsWrite), delete(routes::revoke_credential)),
        r(Method::PATCH, "/credentials/{api_key}", Some(CredentialsWrite), patch(routes::update_credential)),
        r(Method::GET, "/audit", Some(CredentialsRead), get(routes::audit)),
        r(Method::POST, "/accounts", Some(AccountsWrite), post(routes::create_account)),
        r(Method::GET, "/accounts", Some(AccountsRead), get(routes::list_accounts)),
        r(Method::GET, "/account/{id}", Some(AccountsRead), get(routes::get_account)),
    ]
}

/// The route templates as `'static` metric labels (a test keeps this in step with the table).
const ROUTE_LABELS: &[&str] = &[
    "/health",
    "/metrics",
    "/openapi.json",
    "/whoami",
    "/credentials",
    "/credentials/{api_key}",
    "/audit",
    "/accounts",
    "/account/{id}",
];

fn route_label(matched: Option<&MatchedPath>) -> &'static str {
    let Some(path) = matched else { return "unmatched" };
    ROUTE_LABELS.iter().copied().find(|r| *r == path.as_str()).unwrap_or("other")
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The application: every route, JSON errors for everything that fails, limits and metrics.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new();
    for route in route_table() {
        // The route's scope rides in its requests' extensions to the one check in `Caller`.
        let handler = match route.scope {
            Some(scope) => route.handler.layer(Extension(RequiredScope(scope))),
            None => route.handler,
        };
        router = router.route(route.path, handler);
    }
    router
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(limit_headers))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, state.settings.request_timeout))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            error_response(ErrorCode::InternalError, "the ledger failed to complete the request; try again")
        }))
        .layer(middleware::map_response(json_errors))
        .layer(middleware::from_fn(drain::drain_unread_body))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Most header fields a request may have (each repeated field counts once per line).
pub const MAX_HEADERS: usize = 64;
/// Most bytes of header names and values a request may have in all.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses requests with too many or too large headers with a JSON 400 before any handler reads
/// them. (Past hyper's own limits, 100 fields or about 400 KiB of request head, hyper itself answers
/// 431 with an empty body and closes the connection; the request never reaches the router.)
async fn limit_headers(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return error_response(
            ErrorCode::InvalidRequest,
            &format!(
                "the request headers are too large: at most {MAX_HEADERS} fields and {} KiB in all are accepted",
                MAX_HEADER_BYTES / 1024
            ),
        );
    }
    next.run(request).await
}

/// Gives the responses that axum and tower-http make themselves (405, 408, 413) the JSON error body
/// every other failure has.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == b"application/json");
    if is_json {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            match &allow {
                Some(allow) => format!("this route does not accept that method; it accepts {allow}"),
                None => "this route does not accept that method".to_owned(),
            },
        ),
        StatusCode::REQUEST_TIMEOUT => {
            (ErrorCode::RequestTimeout, "the request took too long to arrive or to answer; send it again".to_owned())
        }
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge, crate::input::too_large().message.into_owned()),
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "there is no such route".to_owned()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            (ErrorCode::UnsupportedMediaType, "send the header Content-Type: application/json".to_owned())
        }
        StatusCode::TOO_MANY_REQUESTS => {
            (ErrorCode::RateLimited, "too many requests from this address; try again later".to_owned())
        }
        s if s.is_client_error() => (ErrorCode::InvalidRequest, "the request is malformed".to_owned()),
        _ => (ErrorCode::InternalError, "the ledger failed to complete the request; try again".to_owned()),
    };
    let mut fixed = error_response(code, &message);
    if let Some(allow) = allow.and_then(|a| HeaderValue::try_from(a).ok()) {
        fixed.headers_mut().insert(header::ALLOW, allow);
    }
    fixed
}

/// The log target of the one line per request.
const ACCESS_LOG: &str = "ledgerd::access";

/// Counts and times every request by its route template, and logs one line for it: failures at
/// info (5xx at warn), successes at debug, so a busy ledger does not spend its CPU on access logs
/// unless asked (`RUST_LOG=info,ledgerd::access=debug`). Never headers, bodies or secrets.
async fn track(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let start = Instant::now();
    let request_id = request_id(request.headers());
    let method = method_label(request.method());
    let route = route_label(request.extensions().get::<MatchedPath>());
    let client = ClientAddr::resolve(request.extensions(), request.headers(), &state.settings.trusted_proxies);
    request.extensions_mut().insert(client);
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    state.metrics.observe_request(route, method, status, elapsed.as_secs_f64());
    let api_key = slot.0.get().map(|entry| &*entry.api_key);
    let ms = elapsed.as_micros() as f64 / 1000.0;
    let client = client.0.map(tracing::field::display);
    // A sane token by construction: visible ASCII.
    let id = request_id.to_str().unwrap_or_default();
    if status >= 500 {
        tracing::warn!(target: ACCESS_LOG, method, route, status, ms, client, request_id = %id, api_key, "request");
    } else if status >= 400 {
        tracing::info!(target: ACCESS_LOG, method, route, status, ms, client, request_id = %id, api_key, "request");
    } else {
        tracing::debug!(target: ACCESS_LOG, method, route, status, ms, client, request_id = %id, api_key, "request");
    }
    response.headers_mut().insert(X_REQUEST_ID, request_id);
    response
}

/// The header that names a request in the access log, echoed on its response.
pub const X_REQUEST_ID: &str = "x-request-id";
/// Longest `X-Request-Id` taken from a client.
pub const MAX_REQUEST_ID: usize = 64;

/// The request's id: the client's `X-Request-Id` (or its proxy's) when it is one short token of
/// letters, digits and `-_.:+/=`, so it is safe in a log line; otherwise 32 random hex digits.
/// Nothing shaped like a secret is taken, lest a client's mistake put one in the log.
fn request_id(headers: &HeaderMap) -> HeaderValue {
    let mut given = headers.get_all(X_REQUEST_ID).iter();
    let sane = |v: &HeaderValue| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= MAX_REQUEST_ID
            && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.:+/=".contains(c))
            && !v.to_str().is_ok_and(|t| t.to_ascii_lowercase().contains("sk_"))
    };
    match (given.next(), given.next()) {
        (Some(v), None) if sane(v) => v.clone(),
        _ => HeaderValue::try_from(et_core::random_hex16()).unwrap_or_else(|_| HeaderValue::from_static("-")),
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Store(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
}

/// The PostgreSQL URL of `settings` (SPEC §7), when LEDGERD_DB is one rather than a SQLite file.
pub fn postgres_url(settings: &Settings) -> Option<&str> {
    settings.db.to_str().filter(|db| et_store::is_postgres_url(db))
}

/// The database of `settings` as logs and messages show it: a file's path, or a URL without its
/// password.
pub fn db_shown(settings: &Settings) -> String {
    match postgres_url(settings) {
        Some(url) => et_store::url_shown(url),
        None => settings.db.display().to_string(),
    }
}

/// A start-up message for a database that cannot be used, naming the fix.
pub fn store_error_message(settings: &Settings, error: &StoreError) -> String {
    let path = db_shown(settings);
    if postgres_url(settings).is_some() {
        return match error {
            StoreError::NewerSchema { .. } => {
                format!("{error}; this ledgerd is older than the database it was pointed at")
            }
            // Already "cannot open the database URL: why".
            StoreError::Open { .. } => format!(
                "{error}; check LEDGERD_DB (postgres://user@host:5432/dbname), that the server is up and that the \
                 user may create tables there"
            ),
            _ => format!(
                "cannot use the database {path}: {error}; check LEDGERD_DB (postgres://user@host:5432/dbname), that \
                 the server is up and that the user may create tables there"
            ),
        };
    }
    match error {
        StoreError::NotALedgerDatabase { .. } | StoreError::NewerSchema { .. } => {
            format!("{error}; set LEDGERD_DB to a ledger database, or to a new file to start an empty one")
        }
        StoreError::Open { .. } => format!(
            "{error}; check that the directory exists and this user may write there, or set LEDGERD_DB to another file"
        ),
        _ => format!(
            "cannot use the database {path}: {error}; check that the directory exists and this user may write \
             there, or set LEDGERD_DB to another file"
        ),
    }
}

/// Opens (creating if missing) the database of `settings`.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn CredentialStore>, ServeError> {
    if let Some(url) = postgres_url(settings) {
        let url = url.to_owned();
        let opened = tokio::task::spawn_blocking(move || PgStore::open(&url, OpenMode::CreateIfMissing))
            .await
            .map_err(std::io::Error::other)?;
        return match opened {
            Ok(store) => Ok(Arc::new(store)),
            Err(e) => Err(ServeError::Store(store_error_message(settings, &e))),
        };
    }
    let path = settings.db.clone();
    let opened = tokio::task::spawn_blocking(move || SqliteStore::open(path, OpenMode::CreateIfMissing))
        .await
        .map_err(std::io::Error::other)?;
    match opened {
        Ok(store) => {
            // Files ledgerd creates are 0600; one made before (or copied in) keeps its mode, which
            // is the operator's to change: say how.
            for (file, mode) in store.open_to_others() {
                let file = file.display();
                tracing::warn!(
                    "{file} has mode {mode:03o}: other users may read every credential's secret hash and the audit \
                     trail; run `chmod 600 {file}` (ledgerd does not change the mode of a file it did not create)"
                );
            }
            Ok(Arc::new(store))
        }
        Err(e) => Err(ServeError::Store(store_error_message(settings, &e))),
    }
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests in flight,
/// writes the pending `last_used_at` times and returns. Opens the database first, and reports
/// `listening on http(s)://ADDR` only once it can answer. A TLS pair that cannot be used stops it
/// before the database is touched.
pub async fn launch_with_tcp_listener(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let certificates = open_certificates(&settings)?;
    let store = open_store(&settings).await?;
    launch(settings, store, certificates, listener, shutdown).await
}

/// [`launch_with_tcp_listener`] with a store opened by the caller.
pub async fn launch_with_store(
    settings: Settings,
    store: Arc<dyn CredentialStore>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let certificates = open_certificates(&settings)?;
    launch(settings, store, certificates, listener, shutdown).await
}

fn open_certificates(settings: &Settings) -> Result<Option<Arc<tls::Certificates>>, ServeError> {
    Ok(settings.tls.clone().map(tls::Certificates::open).transpose()?)
}

async fn launch(
    settings: Settings,
    store: Arc<dyn CredentialStore>,
    certificates: Option<Arc<tls::Certificates>>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let acceptor = certificates.as_ref().map(tls::Certificates::acceptor).transpose()?;
    #[cfg(unix)]
    let reloader = certificates.as_ref().map(tls::Certificates::reload_on_sighup).transpose()?;
    let state = Shared::new(settings, store);
    // A file deleted or replaced under the server is closed, and the path watched for a ledger
    // database to reopen: never created afresh, which would forget every credential.
    // (A PostgreSQL database has no file to replace: its store reconnects by itself.)
    let path = state.settings.db.clone();
    let reopen: Option<watcher::Reopen> = postgres_url(&state.settings).is_none().then(|| {
        Box::new(move || {
            SqliteStore::open(&path, OpenMode::MustExist).map(|store| Arc::new(store) as Arc<dyn CredentialStore>)
        }) as watcher::Reopen
    });
    let watcher = watcher::spawn(
        state.store.clone(),
        state.settings.db.clone(),
        reopen,
        state.auth.clone(),
        state.metrics.clone(),
        state.health.clone(),
    )?;
    let housekeeper =
        usage::spawn(state.store.clone(), state.auth.clone(), state.metrics.clone(), state.health.clone())?;

    let addr = listener.local_addr()?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    tracing::info!("listening on {scheme}://{addr}");
    tracing::info!(
        instance = %state.settings.instance_id,
        db = %db_shown(&state.settings),
        auth_cache_ttl_s = state.settings.auth_cache_ttl.as_secs(),
        auth_failure_limit = state.settings.auth_failure_limit,
        registration_limit = state.settings.registration_limit,
        request_timeout_s = state.settings.request_timeout.as_secs(),
        header_timeout_s = state.settings.header_timeout.as_secs(),
        max_connections = state.settings.max_connections,
        "serving"
    );

    // Requests end within the request timeout; past that (and a margin) whatever is still open
    // after the shutdown signal is dropped.
    let limits = serve::Limits {
        header_timeout: state.settings.header_timeout,
        max_connections: state.settings.max_connections,
        grace: state.settings.request_timeout + Duration::from_secs(2),
    };
    let served = serve::serve(listener, app(state.clone()), limits, acceptor, shutdown).await;
    #[cfg(unix)]
    if let Some(reloader) = reloader {
        reloader.abort();
    }

    // Stop the threads off the async runtime: the housekeeper's last flush writes to the database.
    tokio::task::spawn_blocking(move || {
        watcher.stop();
        housekeeper.stop();
    })
    .await
    .map_err(std::io::Error::other)?;
    served?;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_metric_label() {
        for route in route_table() {
            assert!(ROUTE_LABELS.contains(&route.path), "{} has no entry in ROUTE_LABELS", route.path);
        }
        for label in ROUTE_LABELS {
            assert!(route_table().iter().any(|r| r.path == *label), "{label} is not a route");
        }
    }
}
