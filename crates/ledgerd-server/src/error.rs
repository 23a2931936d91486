//! The one error type of every handler: the client sees `{"code","message"}` and nothing else; the
//! cause (a database error, say) goes to the log.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use et_api::{ErrorBody, ErrorCode};
use et_store::StoreError;

/// The single message of every refused authentication, so a caller cannot tell a wrong secret
/// from an unknown or revoked key.
pub const UNAUTHORIZED_MESSAGE: &str = "authentication failed: send a registered, active credential in the \
     X-Api-Key and X-Api-Secret headers";

/// A failed request: its code, the sentence the client sees, and the cause only the log sees.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    cause: Option<String>,
    /// Seconds for the Retry-After header of a 429.
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError { code, message: message.into(), cause: None, retry_after: None }
    }

    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, UNAUTHORIZED_MESSAGE)
    }

    /// 429: this client has used up the limit `what` describes; it may try again after `wait`.
    pub fn rate_limited(what: &str, wait: std::time::Duration) -> Self {
        let secs = wait.as_secs().max(1);
        ApiError {
            code: ErrorCode::RateLimited,
            message: format!("too many {what} from this address; try again in {secs} s (see Retry-After)").into(),
            cause: None,
            retry_after: Some(secs),
        }
    }

    /// 429: this credential has used up its own `rate_limit` (SPEC §6); it may try again after `wait`.
    pub fn credential_rate_limited(limit: et_api::RateLimit, wait: std::time::Duration) -> Self {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        ApiError {
            code: ErrorCode::RateLimited,
            message: format!(
                "this credential made more requests than its rate limit of {} per {} s allows; try again in {secs} s \
                 (see Retry-After), or raise its rate_limit",
                limit.limit, limit.window_s
            )
            .into(),
            cause: None,
            retry_after: Some(secs),
        }
    }

    /// The database failed: a 500 whose cause is logged, never shown.
    pub fn store(cause: StoreError) -> Self {
        ApiError {
            code: ErrorCode::InternalError,
            message: "the ledger could not use its database; try again, and tell the ledger's operator if it \
                      keeps failing"
                .into(),
            cause: Some(cause.to_string()),
            retry_after: None,
        }
    }

    /// Anything else that should not happen: a 500 whose cause is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            code: ErrorCode::InternalError,
            message: "the ledger failed to complete the request; try again, and tell the ledger's operator if it \
                      keeps failing"
                .into(),
            cause: Some(cause.to_string()),
            retry_after: None,
        }
    }
}

/// The JSON error response for `code` with `message`.
pub fn error_response(code: ErrorCode, message: &str) -> Response {
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&ErrorBody { code, message: message.to_owned() })
        .unwrap_or_else(|_| br#"{"code":"INTERNAL_ERROR","message":"error"}"#.to_vec());
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(code = self.code.as_str(), "{cause}");
        }
        let mut response = error_response(self.code, &self.message);
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
