//! The ledgerd HTTP API as data: request and response bodies, error codes, and (feature `client`)
//! the blocking client that etctl and the end-to-end tests drive the server with. Server and client
//! share these types, so the two sides cannot drift apart.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

#[cfg(feature = "client")]
pub mod client;

/// Header carrying the `ak_` key.
pub const HEADER_API_KEY: &str = "x-api-key";
/// Header carrying the `sk_` secret.
pub const HEADER_API_SECRET: &str = "x-api-secret";
/// Largest page a list request may ask for.
pub const MAX_PAGE_LIMIT: u32 = 1000;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_LIMIT: u32 = 100;

/// A string that holds a secret: wiped on drop, `Debug` prints nothing.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(text: impl Into<String>) -> Self {
        SecretString(Zeroizing::new(text.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// Every error code the API answers with. The body is always [`ErrorBody`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// 400: malformed JSON, a missing or mistyped field, a malformed key, a bad query parameter.
    InvalidRequest,
    /// 401: missing or wrong credentials, or a revoked one; one message for every cause.
    Unauthorized,
    /// 403: the secret is not the one derived for this key on this instance.
    InvalidCredential,
    /// 404: no such credential, or it is already revoked (on DELETE).
    CredentialNotFound,
    /// 404: no such account.
    AccountNotFound,
    /// 404: no such route.
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: the key was registered before, even if since revoked.
    DuplicateApiKey,
    /// 408: the request took too long to arrive or to serve.
    RequestTimeout,
    /// 413: the body is larger than the server accepts.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 429: too many failed authentications or registrations from this client.
    RateLimited,
    /// 500: the server could not complete the request (the database failed, for instance).
    InternalError,
    /// 503: the server cannot serve now (the database is unusable).
    ServiceUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::InvalidCredential => "INVALID_CREDENTIAL",
            ErrorCode::CredentialNotFound => "CREDENTIAL_NOT_FOUND",
            ErrorCode::AccountNotFound => "ACCOUNT_NOT_FOUND",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::DuplicateApiKey => "DUPLICATE_API_KEY",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    /// The HTTP status this code is always sent with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::InvalidCredential => 403,
            ErrorCode::CredentialNotFound | ErrorCode::AccountNotFound | ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::DuplicateApiKey => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
            ErrorCode::InternalError => 500,
            ErrorCode::ServiceUnavailable => 503,
        }
    }

    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::InvalidRequest,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidCredential,
        ErrorCode::CredentialNotFound,
        ErrorCode::AccountNotFound,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::DuplicateApiKey,
        ErrorCode::RequestTimeout,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RateLimited,
        ErrorCode::InternalError,
        ErrorCode::ServiceUnavailable,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    /// `production`, or `dev` for a `ledgerd --dev` ledger (empty from a ledger too old to say).
    #[serde(default)]
    pub mode: String,
}

/// `POST /credentials` body. Unknown fields are refused, so a misspelt `label` is not lost.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub api_key: String,
    pub api_secret: SecretString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A credential as the API shows it: never the secret, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    pub api_key: String,
    pub label: Option<String>,
    pub active: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The `api_key` that revoked it, or `db` when it was revoked in the database.
    pub revoked_by: Option<String>,
    pub last_used_at: Option<String>,
}

/// `GET /credentials` answer: one page, and the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialPage {
    pub data: Vec<CredentialRecord>,
    pub next: Option<String>,
}

/// Which credentials a list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    #[default]
    Active,
    Revoked,
    All,
}

impl StatusFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::Revoked => "revoked",
            StatusFilter::All => "all",
        }
    }
}

impl std::str::FromStr for StatusFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(StatusFilter::Active),
            "revoked" => Ok(StatusFilter::Revoked),
            "all" => Ok(StatusFilter::All),
            other => Err(format!("status must be active, revoked or all, not {other:?}")),
        }
    }
}

/// `DELETE /credentials/{api_key}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeResponse {
    pub api_key: String,
    pub revoked: bool,
}

/// `GET /whoami` answer: who the calling credential is, and which ledger answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub api_key: String,
    pub label: Option<String>,
    /// The ledger's instance id, the one its credentials are minted for (absent from ledgers
    /// older than this field).
    #[serde(default)]
    pub instance: Option<String>,
    /// The ledger's version, with commit and build date when it knows them.
    #[serde(default)]
    pub version: Option<String>,
}

/// `POST /accounts` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    pub name: String,
}

/// One of the ledger's accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub created_at: String,
}

/// `GET /accounts` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPage {
    pub data: Vec<Account>,
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialize_as_their_names() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::String(code.as_str().into()));
        }
    }

    #[test]
    fn register_request_debug_hides_the_secret() {
        let req: RegisterRequest = serde_json::from_str(r#"{"api_key":"ak_x","api_secret":"sk_supersecret"}"#).unwrap();
        assert!(!format!("{req:?}").contains("supersecret"));
        assert!(serde_json::from_str::<RegisterRequest>(r#"{"api_key":"a","api_secret":"b","lable":"x"}"#).is_err());
    }
}
