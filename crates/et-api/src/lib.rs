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
    /// 401: missing or wrong credentials, or a revoked or expired one; one message for every cause.
    Unauthorized,
    /// 403: the secret is not the one derived for this key on this instance.
    InvalidCredential,
    /// 403: the credential lacks the scope the route needs (the message names it), or grants a
    /// scope it does not hold itself.
    Forbidden,
    /// 403: the client address is outside the credential's `allowed_ips`.
    IpNotAllowed,
    /// 403: registering would exceed `LEDGERD_MAX_ACTIVE_CREDENTIALS`.
    CredentialLimitReached,
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
    /// 429: too many failed authentications or registrations from this client, or past the
    /// credential's own `rate_limit`.
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
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::IpNotAllowed => "IP_NOT_ALLOWED",
            ErrorCode::CredentialLimitReached => "CREDENTIAL_LIMIT_REACHED",
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
            ErrorCode::InvalidCredential
            | ErrorCode::Forbidden
            | ErrorCode::IpNotAllowed
            | ErrorCode::CredentialLimitReached => 403,
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

    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::InvalidRequest,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidCredential,
        ErrorCode::Forbidden,
        ErrorCode::IpNotAllowed,
        ErrorCode::CredentialLimitReached,
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

/// What a credential may do (SPEC §6): each scope allows a set of routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// `GET /accounts`, `GET /account/{id}`.
    #[serde(rename = "accounts:read")]
    AccountsRead,
    /// `POST /accounts`.
    #[serde(rename = "accounts:write")]
    AccountsWrite,
    /// `GET /credentials`, `GET /credentials/{api_key}`, `GET /audit`.
    #[serde(rename = "credentials:read")]
    CredentialsRead,
    /// `DELETE` and `PATCH /credentials/{api_key}`; `POST /credentials` in `authenticated`
    /// registration.
    #[serde(rename = "credentials:write")]
    CredentialsWrite,
}

impl Scope {
    /// Every scope, in the order records list them.
    pub const ALL: [Scope; 4] =
        [Scope::AccountsRead, Scope::AccountsWrite, Scope::CredentialsRead, Scope::CredentialsWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AccountsRead => "accounts:read",
            Scope::AccountsWrite => "accounts:write",
            Scope::CredentialsRead => "credentials:read",
            Scope::CredentialsWrite => "credentials:write",
        }
    }

    /// This scope's bit in [`Scopes`].
    pub const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Every scope, as a list (what a credential holds unless told otherwise).
    pub fn all() -> Vec<Scope> {
        Scope::ALL.to_vec()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    /// The error never repeats the text it was given (it could be anything a client sent).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or_else(|| {
            "unknown scope; the scopes are accounts:read, accounts:write, credentials:read and credentials:write"
                .to_owned()
        })
    }
}

/// A set of scopes in one byte: what authentication checks on every request, with no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub const NONE: Scopes = Scopes(0);
    pub const ALL: Scopes = Scopes(0b1111);

    /// The set whose bits are `bits`; bits of no scope are dropped.
    pub const fn from_bits(bits: u8) -> Scopes {
        Scopes(bits & Scopes::ALL.0)
    }

    pub const fn bits(self) -> u8 {
        self.0
    }

    pub const fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `self` is also in `other`.
    pub const fn is_subset(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The scopes in [`Scope::ALL`] order, without duplicates: how records list them.
    pub fn to_vec(self) -> Vec<Scope> {
        self.iter().collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

impl<'a> FromIterator<&'a Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = &'a Scope>>(iter: I) -> Self {
        iter.into_iter().copied().collect()
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Scope::as_str)).finish()
    }
}

/// A credential's own request limit (SPEC §6): at most `limit` authenticated requests per
/// `window_s` seconds, per ledgerd process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub limit: u32,
    pub window_s: u32,
}

impl RateLimit {
    pub const MAX_LIMIT: u32 = 1_000_000;
    /// One day.
    pub const MAX_WINDOW_S: u32 = 86_400;

    /// Whether both numbers are in range; the error says which is not and what is allowed.
    pub fn check(self) -> Result<(), String> {
        if !(1..=Self::MAX_LIMIT).contains(&self.limit) {
            return Err(format!("rate_limit.limit must be between 1 and {}", Self::MAX_LIMIT));
        }
        if !(1..=Self::MAX_WINDOW_S).contains(&self.window_s) {
            return Err(format!("rate_limit.window_s must be between 1 and {} (one day)", Self::MAX_WINDOW_S));
        }
        Ok(())
    }
}

/// Whether a credential is usable now, expired, or revoked (revoked wins over expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialStatus {
    Active,
    Expired,
    Revoked,
}

impl CredentialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Active => "active",
            CredentialStatus::Expired => "expired",
            CredentialStatus::Revoked => "revoked",
        }
    }

    /// The status of a credential that is `active` (not revoked) and expires at `expires_ms`
    /// (unix milliseconds), at `now_ms`. The one definition of expiry: expired from `expires_at`
    /// on, to the millisecond.
    pub fn of(active: bool, expires_ms: Option<i64>, now_ms: i64) -> CredentialStatus {
        if !active {
            CredentialStatus::Revoked
        } else if is_expired(expires_ms, now_ms) {
            CredentialStatus::Expired
        } else {
            CredentialStatus::Active
        }
    }
}

impl fmt::Display for CredentialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a credential that expires at `expires_ms` (unix milliseconds; `None`: never) has expired
/// at `now_ms`: from the instant of `expires_at` on, it authenticates no more.
pub fn is_expired(expires_ms: Option<i64>, now_ms: i64) -> bool {
    expires_ms.is_some_and(|at| now_ms >= at)
}

/// `POST /credentials` body. Unknown fields are refused, so a misspelt `label` is not lost.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub api_key: String,
    pub api_secret: SecretString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// RFC 3339; absent: never, or the ledger's maximum lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Absent: every scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Scope>>,
    /// Addresses or CIDRs; absent or empty: anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<Vec<String>>,
    /// Absent: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

impl RegisterRequest {
    /// A pair with none of the optional fields.
    pub fn new(api_key: impl Into<String>, api_secret: SecretString) -> Self {
        RegisterRequest {
            api_key: api_key.into(),
            api_secret,
            label: None,
            expires_at: None,
            scopes: None,
            allowed_ips: None,
            rate_limit: None,
        }
    }
}

/// Reads a field that may be absent (the outer `None`, through `#[serde(default)]`), `null` (inner
/// `None`: clear it) or a value.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// `PATCH /credentials/{api_key}` body: absent fields are left as they are; `null` clears `label`,
/// `expires_at` and `rate_limit`; `scopes` and `allowed_ips` replace the whole list (`[]`
/// addresses: anywhere; `[]` scopes: a credential that can only call `/whoami`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option::deserialize")]
    pub label: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Scope>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option::deserialize")]
    pub expires_at: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option::deserialize")]
    pub rate_limit: Option<Option<RateLimit>>,
}

impl UpdateRequest {
    /// Whether it changes nothing (a PATCH needs at least one field).
    pub fn is_empty(&self) -> bool {
        self.label.is_none()
            && self.scopes.is_none()
            && self.allowed_ips.is_none()
            && self.expires_at.is_none()
            && self.rate_limit.is_none()
    }
}

/// A credential as the API shows it: never the secret, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RecordWire")]
pub struct CredentialRecord {
    pub api_key: String,
    pub label: Option<String>,
    /// Not revoked (the database column); whether it is usable now is [`status`](Self::status).
    pub active: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The `api_key` that revoked it, or `db` when it was revoked in the database.
    pub revoked_by: Option<String>,
    pub last_used_at: Option<String>,
    pub status: CredentialStatus,
    /// RFC 3339 UTC with milliseconds; `None`: never expires.
    pub expires_at: Option<String>,
    /// In [`Scope::ALL`] order, without duplicates.
    pub scopes: Vec<Scope>,
    /// Canonical addresses/CIDRs (`127.0.0.2/32`, `10.0.0.0/8`, `::1/128`); empty: anywhere.
    pub allowed_ips: Vec<String>,
    pub rate_limit: Option<RateLimit>,
}

/// A record as read from the wire: a ledger older than SPEC §6 sends none of its fields, and its
/// credentials are exactly what their absence means (every scope, no expiry, any address, no limit).
#[derive(Deserialize)]
struct RecordWire {
    api_key: String,
    label: Option<String>,
    active: bool,
    created_at: String,
    revoked_at: Option<String>,
    revoked_by: Option<String>,
    last_used_at: Option<String>,
    #[serde(default)]
    status: Option<CredentialStatus>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default = "Scope::all")]
    scopes: Vec<Scope>,
    #[serde(default)]
    allowed_ips: Vec<String>,
    #[serde(default)]
    rate_limit: Option<RateLimit>,
}

impl From<RecordWire> for CredentialRecord {
    fn from(w: RecordWire) -> Self {
        let status = w.status.unwrap_or(if w.active { CredentialStatus::Active } else { CredentialStatus::Revoked });
        CredentialRecord {
            api_key: w.api_key,
            label: w.label,
            active: w.active,
            created_at: w.created_at,
            revoked_at: w.revoked_at,
            revoked_by: w.revoked_by,
            last_used_at: w.last_used_at,
            status,
            expires_at: w.expires_at,
            scopes: w.scopes,
            allowed_ips: w.allowed_ips,
            rate_limit: w.rate_limit,
        }
    }
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
    /// Usable now: not revoked, not expired.
    #[default]
    Active,
    /// Not revoked, but past `expires_at`.
    Expired,
    Revoked,
    All,
}

impl StatusFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::Expired => "expired",
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
            "expired" => Ok(StatusFilter::Expired),
            "revoked" => Ok(StatusFilter::Revoked),
            "all" => Ok(StatusFilter::All),
            other => Err(format!("status must be active, expired, revoked or all, not {other:?}")),
        }
    }
}

/// One line of the audit trail (`GET /audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub api_key: String,
    /// `register`, `revoke` or `update`.
    pub action: String,
    /// The acting `api_key`, `db` for a change made in the database, `api` for an open registration.
    pub actor: String,
    pub reason: Option<String>,
    /// For `update`: `{"field": {"from": old, "to": new}, …}` of each changed field; else `null`.
    #[serde(default)]
    pub changes: Option<serde_json::Value>,
}

/// `GET /audit` answer: one page, newest first, and the cursor of the next (older) one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub data: Vec<AuditEvent>,
    /// The id of the page's last event, as a string: pass as `after`; null on the last page.
    pub next: Option<String>,
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
    /// The caller's scopes (a ledger older than SPEC §6 sends none: its credentials hold them all).
    #[serde(default = "Scope::all")]
    pub scopes: Vec<Scope>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
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
    fn new_error_codes_have_their_statuses() {
        assert_eq!(ErrorCode::Forbidden.status(), 403);
        assert_eq!(ErrorCode::IpNotAllowed.status(), 403);
        assert_eq!(ErrorCode::CredentialLimitReached.status(), 403);
        assert_eq!(serde_json::to_string(&ErrorCode::IpNotAllowed).unwrap(), r#""IP_NOT_ALLOWED""#);
        let body: ErrorBody = serde_json::from_str(r#"{"code":"CREDENTIAL_LIMIT_REACHED","message":"m"}"#).unwrap();
        assert_eq!(body.code, ErrorCode::CredentialLimitReached);
        let names: std::collections::HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "ALL lists each code once");
    }

    #[test]
    fn scopes_round_trip_by_their_spec_names() {
        for scope in Scope::ALL {
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
        }
        let err = "accounts:delete".parse::<Scope>().unwrap_err();
        assert!(err.contains("accounts:read, accounts:write, credentials:read and credentials:write"), "{err}");
        assert!(!err.contains("delete"), "the error repeats the input: {err}");
        assert!(serde_json::from_str::<Scope>(r#""Accounts:Read""#).is_err());
    }

    #[test]
    fn scope_sets_are_one_byte_in_spec_order() {
        let set: Scopes = [Scope::CredentialsWrite, Scope::AccountsRead, Scope::AccountsRead].iter().collect();
        assert_eq!(set.to_vec(), vec![Scope::AccountsRead, Scope::CredentialsWrite]);
        assert!(set.contains(Scope::AccountsRead) && !set.contains(Scope::AccountsWrite));
        assert!(set.is_subset(Scopes::ALL) && !Scopes::ALL.is_subset(set) && Scopes::NONE.is_subset(set));
        assert_eq!(Scopes::ALL.to_vec(), Scope::ALL.to_vec());
        assert_eq!(Scopes::from_bits(0xff), Scopes::ALL);
        assert_eq!(Scopes::from_bits(set.bits()), set);
        assert_eq!(format!("{set:?}"), r#"{"accounts:read", "credentials:write"}"#);
    }

    #[test]
    fn rate_limits_are_checked_and_round_trip() {
        let rl = RateLimit { limit: 100, window_s: 60 };
        assert_eq!(serde_json::to_value(rl).unwrap(), serde_json::json!({"limit": 100, "window_s": 60}));
        assert_eq!(serde_json::from_str::<RateLimit>(r#"{"limit":100,"window_s":60}"#).unwrap(), rl);
        assert!(serde_json::from_str::<RateLimit>(r#"{"limit":100,"window":60}"#).is_err());
        assert!(rl.check().is_ok());
        assert!(RateLimit { limit: 1, window_s: 86_400 }.check().is_ok());
        assert!(RateLimit { limit: 1_000_000, window_s: 1 }.check().is_ok());
        assert!(RateLimit { limit: 0, window_s: 60 }.check().unwrap_err().contains("rate_limit.limit"));
        assert!(RateLimit { limit: 1_000_001, window_s: 60 }.check().is_err());
        assert!(RateLimit { limit: 1, window_s: 0 }.check().unwrap_err().contains("rate_limit.window_s"));
        assert!(RateLimit { limit: 1, window_s: 86_401 }.check().is_err());
    }

    #[test]
    fn status_revoked_wins_and_expiry_is_inclusive_to_the_millisecond() {
        assert_eq!(CredentialStatus::of(true, None, 5), CredentialStatus::Active);
        assert_eq!(CredentialStatus::of(true, Some(1000), 999), CredentialStatus::Active);
        assert_eq!(CredentialStatus::of(true, Some(1000), 1000), CredentialStatus::Expired);
        assert_eq!(CredentialStatus::of(false, Some(1000), 2000), CredentialStatus::Revoked);
        assert_eq!(CredentialStatus::of(false, None, 0), CredentialStatus::Revoked);
        for status in [CredentialStatus::Active, CredentialStatus::Expired, CredentialStatus::Revoked] {
            assert_eq!(serde_json::to_value(status).unwrap(), serde_json::json!(status.as_str()));
        }
        for filter in [StatusFilter::Active, StatusFilter::Expired, StatusFilter::Revoked, StatusFilter::All] {
            assert_eq!(filter.as_str().parse::<StatusFilter>().unwrap(), filter);
            assert_eq!(serde_json::to_value(filter).unwrap(), serde_json::json!(filter.as_str()));
        }
        assert!("usable".parse::<StatusFilter>().unwrap_err().contains("active, expired, revoked or all"));
    }

    fn full_record() -> CredentialRecord {
        CredentialRecord {
            api_key: "ak_x".into(),
            label: Some("monitoring".into()),
            active: true,
            created_at: "2026-12-01T00:00:00.000Z".into(),
            revoked_at: None,
            revoked_by: None,
            last_used_at: None,
            status: CredentialStatus::Expired,
            expires_at: Some("2026-12-02T04:12:15.123Z".into()),
            scopes: vec![Scope::AccountsRead],
            allowed_ips: vec!["127.0.0.2/32".into(), "::1/128".into()],
            rate_limit: Some(RateLimit { limit: 10, window_s: 1 }),
        }
    }

    #[test]
    fn records_round_trip_with_the_spec_field_names() {
        let rec = full_record();
        let value = serde_json::to_value(&rec).unwrap();
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "api_key",
            "label",
            "active",
            "status",
            "created_at",
            "revoked_at",
            "revoked_by",
            "last_used_at",
            "expires_at",
            "scopes",
            "allowed_ips",
            "rate_limit",
        ];
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys_sorted, expected);
        assert_eq!(value["status"], "expired");
        assert_eq!(value["scopes"], serde_json::json!(["accounts:read"]));
        assert_eq!(value["rate_limit"], serde_json::json!({"limit": 10, "window_s": 1}));
        assert_eq!(serde_json::from_value::<CredentialRecord>(value).unwrap(), rec);
    }

    #[test]
    fn a_record_from_a_ledger_older_than_the_policy_fields_means_what_it_had() {
        let old = r#"{"api_key":"ak_x","label":null,"active":false,"created_at":"t","revoked_at":"t","revoked_by":"db","last_used_at":null}"#;
        let rec: CredentialRecord = serde_json::from_str(old).unwrap();
        assert_eq!(rec.status, CredentialStatus::Revoked);
        assert_eq!(rec.scopes, Scope::all());
        assert!(rec.expires_at.is_none() && rec.allowed_ips.is_empty() && rec.rate_limit.is_none());
        let active: CredentialRecord = serde_json::from_str(&old.replace("false", "true")).unwrap();
        assert_eq!(active.status, CredentialStatus::Active);
        let who: WhoAmI = serde_json::from_str(r#"{"api_key":"ak_x","label":null}"#).unwrap();
        assert_eq!(who.scopes, Scope::all());
        assert!(who.expires_at.is_none() && who.allowed_ips.is_empty() && who.rate_limit.is_none());
    }

    #[test]
    fn update_request_tells_null_from_absent() {
        let absent: UpdateRequest = serde_json::from_str("{}").unwrap();
        assert!(absent.is_empty());
        assert_eq!(absent, UpdateRequest::default());

        let cleared: UpdateRequest =
            serde_json::from_str(r#"{"label":null,"expires_at":null,"rate_limit":null}"#).unwrap();
        assert_eq!(cleared.label, Some(None));
        assert_eq!(cleared.expires_at, Some(None));
        assert_eq!(cleared.rate_limit, Some(None));
        assert!(cleared.scopes.is_none() && cleared.allowed_ips.is_none() && !cleared.is_empty());

        let set: UpdateRequest = serde_json::from_str(
            r#"{"label":"ops","scopes":[],"allowed_ips":["10.0.0.0/8"],"expires_at":"2027-01-01T00:00:00Z","rate_limit":{"limit":5,"window_s":60}}"#,
        )
        .unwrap();
        assert_eq!(set.label, Some(Some("ops".into())));
        assert_eq!(set.scopes, Some(vec![]));
        assert_eq!(set.allowed_ips, Some(vec!["10.0.0.0/8".into()]));
        assert_eq!(set.expires_at, Some(Some("2027-01-01T00:00:00Z".into())));
        assert_eq!(set.rate_limit, Some(Some(RateLimit { limit: 5, window_s: 60 })));

        // What the client sends is what the server reads back: null stays null, absent stays absent.
        for req in [absent, cleared, set] {
            let json = serde_json::to_string(&req).unwrap();
            assert_eq!(serde_json::from_str::<UpdateRequest>(&json).unwrap(), req, "{json}");
        }
        assert_eq!(
            serde_json::to_value(UpdateRequest { rate_limit: Some(None), ..Default::default() }).unwrap(),
            serde_json::json!({"rate_limit": null})
        );
        assert!(serde_json::from_str::<UpdateRequest>(r#"{"scope":["accounts:read"]}"#).is_err());
        assert!(serde_json::from_str::<UpdateRequest>(r#"{"scopes":null}"#).is_ok_and(|r| r.scopes.is_none()));
    }

    #[test]
    fn register_request_round_trips_its_options() {
        let mut req = RegisterRequest::new("ak_x", SecretString::new("sk_supersecret"));
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            serde_json::json!({"api_key": "ak_x", "api_secret": "sk_supersecret"})
        );
        req.expires_at = Some("2027-01-01T00:00:00.000Z".into());
        req.scopes = Some(vec![Scope::AccountsRead, Scope::CredentialsRead]);
        req.allowed_ips = Some(vec!["127.0.0.2/32".into()]);
        req.rate_limit = Some(RateLimit { limit: 3, window_s: 1 });
        let back: RegisterRequest = serde_json::from_value(serde_json::to_value(&req).unwrap()).unwrap();
        assert_eq!(back.api_secret.expose(), "sk_supersecret");
        assert_eq!(back.expires_at, req.expires_at);
        assert_eq!(back.scopes, req.scopes);
        assert_eq!(back.allowed_ips, req.allowed_ips);
        assert_eq!(back.rate_limit, req.rate_limit);
        assert!(!format!("{back:?}").contains("supersecret"));
    }

    #[test]
    fn audit_pages_round_trip() {
        let page = AuditPage {
            data: vec![
                AuditEvent {
                    id: 7,
                    at: "2026-12-02T04:12:15.123Z".into(),
                    api_key: "ak_x".into(),
                    action: "update".into(),
                    actor: "db".into(),
                    reason: None,
                    changes: Some(serde_json::json!({"expires_at": {"from": null, "to": "2026-12-03T00:00:00.000Z"}})),
                },
                AuditEvent {
                    id: 6,
                    at: "2026-12-02T04:12:14.000Z".into(),
                    api_key: "ak_x".into(),
                    action: "register".into(),
                    actor: "api".into(),
                    reason: None,
                    changes: None,
                },
            ],
            next: Some("6".into()),
        };
        let value = serde_json::to_value(&page).unwrap();
        assert_eq!(value["data"][1]["changes"], serde_json::Value::Null);
        assert_eq!(value["data"][0]["changes"]["expires_at"]["from"], serde_json::Value::Null);
        assert_eq!(serde_json::from_value::<AuditPage>(value).unwrap(), page);
    }

    #[test]
    fn register_request_debug_hides_the_secret() {
        let req: RegisterRequest = serde_json::from_str(r#"{"api_key":"ak_x","api_secret":"sk_supersecret"}"#).unwrap();
        assert!(!format!("{req:?}").contains("supersecret"));
        assert!(serde_json::from_str::<RegisterRequest>(r#"{"api_key":"a","api_secret":"b","lable":"x"}"#).is_err());
    }
}
