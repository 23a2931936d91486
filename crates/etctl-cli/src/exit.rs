//! The one mapping from failure classes to exit codes (documented in `etctl --help` and
//! EXIT_CODES.md), and the error type every command returns.

use std::process::ExitCode;

use et_api::ErrorCode;
use et_api::client::ClientError;
use et_store::StoreError;

/// A failure class and its exit code. Scripts depend on these numbers: never renumber one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// stdout was closed by the reader (`etctl … | head -1`): not an error, exit quietly with 0.
    PipeClosed = 0,
    Internal = 1,
    Usage = 2,
    Config = 3,
    Unreachable = 4,
    Unauthorized = 5,
    InvalidCredential = 6,
    Duplicate = 7,
    NotFound = 8,
    BadInput = 9,
    Server = 10,
    /// 403 `FORBIDDEN`: the operator credential lacks the scope the call needs.
    Forbidden = 11,
    /// 403 `IP_NOT_ALLOWED`: the operator credential may not be used from this address.
    IpNotAllowed = 12,
    /// 403 `CREDENTIAL_LIMIT_REACHED`: the ledger has as many active credentials as it allows.
    CredentialLimit = 13,
    /// Ctrl-C (SIGINT): 128 + 2, what a shell reports for a command it interrupted.
    Interrupted = 130,
}

impl Class {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Why a command failed: the class decides the exit code, the message is one sentence saying what
/// is wrong and how to fix it. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub class: Class,
    pub message: String,
}

impl Failure {
    pub fn new(class: Class, message: impl Into<String>) -> Self {
        Failure { class, message: message.into() }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Class::Usage, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Class::Config, message)
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(Class::BadInput, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Class::Internal, message)
    }

    /// Classifies an API client error; `doing` says what was being attempted ("listing credentials").
    pub fn from_client(error: ClientError, doing: &str) -> Self {
        match &error {
            ClientError::Unreachable { url, detail } => Failure::new(
                Class::Unreachable,
                format!(
                    "{doing}: cannot reach the ledger at {url} ({detail}); check that ledgerd runs there, or set --url / ETCTL_URL"
                ),
            ),
            ClientError::Timeout { url, seconds } => Failure::new(
                Class::Unreachable,
                format!("{doing}: the ledger at {url} did not answer within {seconds} s; check it, or raise --timeout"),
            ),
            ClientError::NotTheApi { url, status, .. } => Failure::new(
                Class::Unreachable,
                format!(
                    "{doing}: the server at {url} is not a ledger (it answered HTTP {status} without the ledger's error body); check --url / ETCTL_URL"
                ),
            ),
            ClientError::NotTls { url } => Failure::new(
                Class::Unreachable,
                format!(
                    "{doing}: the server at {url} does not speak TLS (it answered in plain HTTP); use {} instead, or put TLS in front of the ledger",
                    url.replacen("https://", "http://", 1)
                ),
            ),
            // Only these two say a thing is missing; any other 404 (NOT_FOUND: no such route) means
            // the URL does not point at the API's root, and a script must not take it for "already
            // revoked".
            ClientError::Api { status: 404 | 405, body }
                if !matches!(body.code, ErrorCode::CredentialNotFound | ErrorCode::AccountNotFound) =>
            {
                Failure::new(
                    Class::Unreachable,
                    format!(
                        "{doing}: the server has no such API route ({}), so the URL is not the ledger API's root; check --url / ETCTL_URL (a ledger URL has no path: http://HOST:PORT)",
                        body.code
                    ),
                )
            }
            ClientError::BadUrl { url, detail } => Failure::config(format!(
                "the ledger URL {url:?} is not usable ({detail}); pass --url http://HOST:PORT or set ETCTL_URL"
            )),
            ClientError::Api { status, body } => {
                let message = body.message.trim_end_matches('.');
                let (class, hint) = match (status, body.code) {
                    (_, ErrorCode::Forbidden) => (
                        Class::Forbidden,
                        "; use a credential that holds that scope (`etctl whoami --json` shows yours), or have one that does grant it with `etctl update`",
                    ),
                    (_, ErrorCode::IpNotAllowed) => (
                        Class::IpNotAllowed,
                        "; run etctl from one of the credential's allowed addresses, or widen them with `etctl update KEY --allow-ip …` as a credential allowed here",
                    ),
                    (_, ErrorCode::CredentialLimitReached) => (
                        Class::CredentialLimit,
                        "; revoke credentials no longer needed (`etctl list`), or raise LEDGERD_MAX_ACTIVE_CREDENTIALS",
                    ),
                    (_, ErrorCode::RateLimited) => (Class::Server, "; wait a little and try again"),
                    (401, _) => (
                        Class::Unauthorized,
                        "; check ETCTL_API_KEY / ETCTL_API_SECRET or the profile (`etctl login`), and that the credential is not revoked",
                    ),
                    (403, _) => (Class::InvalidCredential, ""),
                    (409, _) => (Class::Duplicate, "; mint a new pair with `etctl generate`"),
                    (404, _) => (Class::NotFound, ""),
                    (429, _) => (Class::Server, "; wait a little and try again"),
                    (s, _) if *s >= 500 => (Class::Server, "; see the ledger's logs"),
                    _ => (Class::BadInput, ""),
                };
                Failure::new(class, format!("{doing}: {message} ({}){hint}", body.code))
            }
        }
    }

    /// Classifies an error of the database behind `etctl db`.
    pub fn from_store(error: StoreError) -> Self {
        let class = match &error {
            StoreError::Missing { .. }
            | StoreError::NotALedgerDatabase { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::Open { .. }
            | StoreError::FileReplaced { .. }
            | StoreError::Refused(_) => Class::BadInput,
            StoreError::NotFound => Class::NotFound,
            StoreError::Duplicate => Class::Duplicate,
            _ => Class::Internal,
        };
        Failure::new(class, error.to_string())
    }
}

/// How a command ended.
pub type Outcome = Result<(), Failure>;

/// The exit code of an outcome, printing the failure's sentence on stderr.
pub fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) if failure.class == Class::PipeClosed => ExitCode::SUCCESS,
        Err(failure) => {
            crate::output::error_line(&failure.message);
            ExitCode::from(failure.class.code())
        }
    }
}

#[cfg(test)]
mod tests {
    use et_api::client::ClientError;
    use et_api::{ErrorBody, ErrorCode};

    use super::{Class, Failure};

    fn api(status: u16, code: ErrorCode) -> Failure {
        let body = ErrorBody { code, message: "the ledger's sentence.".into() };
        Failure::from_client(ClientError::Api { status, body }, "doing it")
    }

    #[test]
    fn each_refusal_of_a_policy_has_its_own_exit_code_and_the_old_ones_keep_theirs() {
        assert_eq!(api(403, ErrorCode::Forbidden).class.code(), 11);
        assert_eq!(api(403, ErrorCode::IpNotAllowed).class.code(), 12);
        assert_eq!(api(403, ErrorCode::CredentialLimitReached).class.code(), 13);
        assert_eq!(api(429, ErrorCode::RateLimited).class, Class::Server);
        assert_eq!(api(403, ErrorCode::InvalidCredential).class, Class::InvalidCredential);
        assert_eq!(api(401, ErrorCode::Unauthorized).class, Class::Unauthorized);
        assert_eq!(api(400, ErrorCode::InvalidRequest).class, Class::BadInput);
        assert_eq!(api(409, ErrorCode::DuplicateApiKey).class, Class::Duplicate);
        assert_eq!(api(404, ErrorCode::CredentialNotFound).class, Class::NotFound);
        let forbidden = api(403, ErrorCode::Forbidden).message;
        assert!(forbidden.starts_with("doing it: the ledger's sentence (FORBIDDEN); use a credential"), "{forbidden}");
    }

    #[test]
    fn exit_codes_md_and_the_help_list_every_class() {
        let md = include_str!("../EXIT_CODES.md");
        for (code, _) in crate::cli::EXIT_STATUS {
            assert!(md.contains(&format!("\n| {code} |")), "EXIT_CODES.md does not list {code}");
        }
        for class in [
            super::Class::Internal,
            super::Class::Server,
            super::Class::Forbidden,
            super::Class::IpNotAllowed,
            super::Class::CredentialLimit,
            super::Class::Interrupted,
        ] {
            assert!(crate::cli::EXIT_STATUS.iter().any(|(c, _)| *c == class.code()), "{class:?} is not in the help");
        }
    }
}
