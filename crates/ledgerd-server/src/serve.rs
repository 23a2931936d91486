//! The accept loop: hyper's HTTP/1 connection driven by a timer, so that no client can hold the
//! server with sockets it never uses.
//!
//! - **Header timeout.** A connection has `header_timeout` to deliver a whole request head, counted
//!   from the moment it waits for one: from the accept, and again after every response. So the same
//!   timer is the idle keep-alive timeout: a connection idle between requests for `header_timeout`
//!   is closed, as is one that trickles a head byte by byte. (An idle socket and a slow head cost
//!   the same and cannot be told apart before the first byte, so they get one limit.)
//! - **TLS** (when configured): the handshake runs on the connection's task, bounded by the header
//!   timeout, before hyper sees the stream.
//! - **Connection cap.** At most `max_connections` are open at once. At the cap a new connection
//!   takes the slot of the oldest one that is not in a request (idle between requests, or still
//!   sending its head or TLS handshake), which is closed; only when every slot holds a request in
//!   flight does it wait, with the ones behind it in the kernel's listen backlog (refused when that
//!   is full). A request in flight is never cut to make room. So idle and slow sockets, however
//!   many, cannot keep a new client out, and the cap still bounds descriptors and memory.
//! - **Bounded head buffer.** hyper reads a head into at most [`MAX_BUF_SIZE`] bytes (431 past it).
//! - **Accept errors** (out of file descriptors, say) are logged and retried after a short pause,
//!   never in a busy loop.
//! - **Graceful shutdown.** On the signal the listener closes, idle connections are closed, requests
//!   in flight are finished, and whatever is still open after `grace` is dropped.
//!
//! Requests are answered on the connection's task: a cache hit never leaves it.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// Most bytes hyper buffers while reading a request head (its default is about 400 KiB). Heads
/// past [`crate::server::MAX_HEADER_BYTES`] of fields are refused anyway; this keeps an unfinished
/// head from costing more than this much memory.
pub const MAX_BUF_SIZE: usize = 64 * 1024;

/// How long the accept loop waits for an evicted connection to give up its slot before it picks
/// another (the first may have started a request meanwhile).
const EVICTION_RETRY: Duration = Duration::from_millis(50);

/// How long the loop pauses after an accept error that is not the client's doing (EMFILE, ENFILE,
/// ENOBUFS): long enough not to spin, short enough that a freed descriptor is soon used.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What the accept loop enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to deliver a whole request head, and the idle keep-alive timeout.
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Time given to open connections after the shutdown signal.
    pub grace: Duration,
}

/// Serves `router` on `listener` (over TLS when given an acceptor) until `shutdown` completes, then
/// shuts down gracefully.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let registry = Arc::new(Registry::default());
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).max_buf_size(MAX_BUF_SIZE);
    let mut accept_errors = AcceptErrors::default();
    tokio::pin!(shutdown);
    'accept: loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_errors.report(&e, permits.available_permits(), limits.max_connections);
                    if !is_per_connection(&e) {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
        };
        // A slot: a free one, else the one of the oldest connection that is not in a request
        // (idle, or still sending its head), else wait for one to end. Until then this connection
        // waits here and the next ones in the listen backlog.
        let permit = loop {
            if let Ok(permit) = permits.clone().try_acquire_owned() {
                break permit;
            }
            registry.evict_oldest_idle();
            tokio::select! {
                biased;
                () = &mut shutdown => break 'accept,
                permit = tokio::time::timeout(EVICTION_RETRY, permits.clone().acquire_owned()) => {
                    if let Ok(permit) = permit {
                        break permit.map_err(io::Error::other)?;
                    }
                }
            }
        };
        // Without TCP_NODELAY a small response can wait for the client's delayed ACK.
        let _ = stream.set_nodelay(true);
        let slot = registry.register();
        let state = slot.state.clone();
        // The peer address goes into every request's extensions, where `ConnectInfo` finds it; the
        // request counts as in flight until its response body is written (or dropped).
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let in_flight = InFlight::enter(state.clone());
            let response = router.clone().call(request);
            async move {
                let response = response.await?;
                Ok::<_, Infallible>(response.map(|body| Body::new(Counted { body, _in_flight: in_flight })))
            }
        });
        let (acceptor, builder, watcher) = (tls.clone(), builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            let served = async {
                let Some(acceptor) = acceptor else {
                    return watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await;
                };
                // The handshake gets the header timeout too: a client stalling it holds a slot as
                // surely as one stalling its head.
                let stream = match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, "TLS handshake failed: {e}");
                        return Ok(());
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return Ok(());
                    }
                };
                watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await
            };
            tokio::select! {
                served = served => if let Err(e) = served {
                    // Header timeouts, resets, malformed heads: the client's business.
                    tracing::debug!(%peer, "connection closed: {e}");
                },
                () = slot.evicted() => tracing::debug!(%peer, "idle connection closed to make room for a new one"),
            }
            drop(slot);
            drop(permit);
        });
    }
    // No more accepts: new connections are refused from here on.
    drop(listener);
    let open = graceful.count();
    if open > 0 {
        tracing::info!("waiting for {open} open connections to finish");
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.grace) => {
            tracing::warn!("connections still open {}s after the shutdown signal; closing them", limits.grace.as_secs());
        }
    }
    Ok(())
}

/// Errors that concern one connection that died before it was accepted: retry at once.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted)
}

/// Logs accept errors at most once a second, with how many were suppressed in between.
#[derive(Default)]
struct AcceptErrors {
    last: Option<Instant>,
    suppressed: u64,
}

impl AcceptErrors {
    fn report(&mut self, e: &io::Error, free_permits: usize, max_connections: usize) {
        if is_per_connection(e) {
            tracing::debug!("a connection failed before it was accepted: {e}");
            return;
        }
        if self.last.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            self.suppressed += 1;
            return;
        }
        let open = max_connections - free_permits - 1;
        let suppressed = std::mem::take(&mut self.suppressed);
        if e.raw_os_error() == Some(rustix::io::Errno::MFILE.raw_os_error()) {
            tracing::error!(
                open,
                suppressed,
                "cannot accept connections: out of file descriptors ({e}); raise the open-file limit \
                 (LimitNOFILE= in the systemd unit) or lower LEDGERD_MAX_CONNECTIONS"
            );
        } else {
            tracing::error!(open, suppressed, "cannot accept a connection: {e}; retrying");
        }
        self.last = Some(Instant::now());
    }
}

/// Raises the soft open-file limit to the hard one (a default systemd unit gives 1 024 soft,
/// 524 288 hard), so that the connection cap, not the file limit, bounds the connections; warns
/// when even the hard limit is below what `max_connections` needs. Returns the limit in force.
pub fn raise_open_file_limit(max_connections: usize) -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let mut current = limit.current;
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => current = limit.maximum,
            Err(e) => tracing::warn!("cannot raise the open-file limit to the hard limit: {e}"),
        }
    }
    // The database, the listener and the runtime need a few dozen descriptors besides clients.
    const RESERVED: u64 = 64;
    if let Some(current) = current
        && current < max_connections as u64 + RESERVED
    {
        tracing::warn!(
            open_file_limit = current,
            max_connections,
            "the open-file limit allows fewer connections than LEDGERD_MAX_CONNECTIONS; raise LimitNOFILE= (or \
             `ulimit -Hn`) to at least {}, or lower LEDGERD_MAX_CONNECTIONS",
            max_connections as u64 + RESERVED
        );
    }
    current
}

/// The open connections in accept order, so that at the cap the oldest one not in a request can
/// be asked to make room.
#[derive(Default)]
struct Registry {
    next: AtomicU64,
    open: Mutex<BTreeMap<u64, Arc<ConnState>>>,
}

#[derive(Default)]
struct ConnState {
    /// Requests whose response has not been written yet.
    in_flight: AtomicUsize,
    /// Set by the accept loop when it picks this connection; cleared if it turns out busy.
    evicting: AtomicBool,
    evict: Notify,
}

impl Registry {
    fn register(self: &Arc<Self>) -> Slot {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState::default());
        self.open.lock().unwrap_or_else(PoisonError::into_inner).insert(id, state.clone());
        Slot { id, state, registry: self.clone() }
    }

    /// Asks the oldest connection that is not in a request to close.
    fn evict_oldest_idle(&self) {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let oldest =
            open.values().find(|c| c.in_flight.load(Ordering::SeqCst) == 0 && !c.evicting.swap(true, Ordering::SeqCst));
        if let Some(conn) = oldest {
            conn.evict.notify_one();
        }
    }
}

/// A connection's entry in the registry, removed when the connection ends.
struct Slot {
    id: u64,
    state: Arc<ConnState>,
    registry: Arc<Registry>,
}

impl Slot {
    /// Completes when the accept loop asks this connection to close and it is not in a request.
    /// The check runs on the connection's own task, so no request can start in between.
    async fn evicted(&self) {
        loop {
            self.state.evict.notified().await;
            if self.state.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            self.state.evicting.store(false, Ordering::SeqCst);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry.open.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.id);
    }
}

/// One request in flight on a connection, from its head to the end of its response body.
struct InFlight(Arc<ConnState>);

impl InFlight {
    fn enter(state: Arc<ConnState>) -> Self {
        state.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(state)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted as in flight until hyper is done with it.
struct Counted {
    body: Body,
    _in_flight: InFlight,
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
