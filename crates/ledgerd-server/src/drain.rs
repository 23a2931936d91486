//! Reads what a handler left of a request body before the answer goes out, up to a bound.
//!
//! A client that writes its whole body before it reads (Python's http.client and requests do)
//! would otherwise meet a server that answered early (413 for a body too large, 401 before the
//! body was looked at) and closed with the rest unread: the kernel resets the connection, and the
//! client sees a broken pipe instead of the answer. So the body is kept where this middleware can
//! reach it after the handler, and whatever is left is read and thrown away, at most
//! [`DRAIN_BYTES`] within [`DRAIN_TIME`]; past that the connection is closed as before. A client
//! that asked `Expect: 100-continue` has sent nothing yet and is not invited to.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

/// Most bytes of an unread body read and discarded before answering.
pub const DRAIN_BYTES: u64 = 16 * 1024 * 1024;
/// Longest time spent doing so.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The request body, shared between the handler (through [`Handle`]) and the middleware.
type Slot = Arc<Mutex<Body>>;

/// The body as the handler sees it: reads go to the shared one.
struct Handle(Slot);

impl HttpBody for Handle {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let mut body = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Pin::new(&mut *body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).size_hint()
    }
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers.get(header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The middleware: see the module's comment.
pub async fn drain_unread_body(request: Request, next: Next) -> Response {
    // Most requests have no body (or one already complete in hyper's buffer): nothing to keep.
    if request.body().is_end_stream() || expects_continue(request.headers()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let slot: Slot = Arc::new(Mutex::new(body));
    let response = next.run(Request::from_parts(parts, Body::new(Handle(slot.clone())))).await;
    // The handler and its extractors are done with the body (the response exists), so the slot
    // is this function's alone; taking it out keeps the lock off the awaits below.
    let mut body = std::mem::take(&mut *slot.lock().unwrap_or_else(PoisonError::into_inner));
    if !body.is_end_stream() {
        let drained = tokio::time::timeout(DRAIN_TIME, async {
            let mut read = 0u64;
            while read <= DRAIN_BYTES {
                match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                    Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
                    Some(Err(_)) | None => break,
                }
            }
            read
        })
        .await;
        tracing::debug!(?drained, "read the rest of a request body the handler left unread");
    }
    response
}
