//! A small blocking client for the ledgerd API. Every failure is classified (unreachable, timed
//! out, an API error with its code, an answer that is not the API's) so callers can map each class
//! to its own exit code without parsing messages.

use std::time::Duration;

use reqwest::blocking::{Client as Http, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use crate::{
    Account, AccountPage, AuditEvent, AuditPage, CreateAccount, CredentialPage, CredentialRecord, ErrorBody, ErrorCode,
    HEADER_API_KEY, HEADER_API_SECRET, Health, RegisterRequest, RevokeResponse, SecretString, StatusFilter,
    UpdateRequest, WhoAmI,
};

/// Largest answer the client reads: a full page of 1000 credential records is under 1 MiB.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the ledger at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the ledger at {url} did not answer within {seconds} seconds")]
    Timeout { url: String, seconds: u64 },
    #[error("{}", .body.message)]
    Api { status: u16, body: ErrorBody },
    #[error("the server at {url} answered with something that is not the ledger API (HTTP {status}): {detail}")]
    NotTheApi { url: String, status: u16, detail: String },
    #[error("the ledger URL {url:?} is not valid: {detail}")]
    BadUrl { url: String, detail: String },
    /// An `https://` URL whose server answered in plain HTTP.
    #[error("the server at {url} does not speak TLS")]
    NotTls { url: String },
}

impl ClientError {
    /// The API error code, when the server answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }
}

/// The operator credential a client sends.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub api_key: String,
    pub api_secret: SecretString,
}

/// A connection to one ledger.
#[derive(Debug, Clone)]
pub struct Client {
    http: Http,
    base: String,
    timeout: Duration,
    credentials: Option<Credentials>,
}

/// Makes ring the process's TLS crypto provider: reqwest is built without one of its own choosing,
/// so every reqwest client of the process (this one, or a test's own) needs it installed first.
/// Installing it again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    /// A client for the ledger at `base` (e.g. `http://127.0.0.1:8080`), with a per-request timeout.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, ClientError> {
        let trimmed = base.trim_end_matches('/');
        let parsed = reqwest::Url::parse(trimmed)
            .map_err(|e| ClientError::BadUrl { url: base.to_owned(), detail: e.to_string() })?;
        if parsed.scheme() != "http" && parsed.scheme() != "https" {
            return Err(ClientError::BadUrl {
                url: base.to_owned(),
                detail: "it must start with http:// or https://".into(),
            });
        }
        install_crypto_provider();
        let http = Http::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // ledgerd closes a connection idle for its header timeout (10 s by default); dropping
            // pooled ones sooner means a request is never sent on one it is closing.
            .pool_idle_timeout(Duration::from_secs(5))
            .user_agent(concat!("etctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::BadUrl { url: base.to_owned(), detail: e.to_string() })?;
        Ok(Client { http, base: trimmed.to_owned(), timeout, credentials: None })
    }

    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn authed(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.credentials {
            Some(c) => request.header(HEADER_API_KEY, &c.api_key).header(HEADER_API_SECRET, c.api_secret.expose()),
            None => request,
        }
    }

    fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        // Set on the request, the timeout covers the whole exchange, body included (the client's
        // own applies to each read, so a server trickling a byte at a time would never trip it).
        let response = request.timeout(self.timeout).send().map_err(|e| self.transport_error(e))?;
        self.decode(response)
    }

    fn transport_error(&self, error: reqwest::Error) -> ClientError {
        let url = self.base.clone();
        if error.is_timeout() {
            return ClientError::Timeout { url, seconds: self.timeout.as_secs().max(1) };
        }
        // reqwest's own message is "error sending request for url (...)"; the root cause says why.
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            // A TLS client reading a plain-HTTP answer sees bytes that are no TLS record.
            if let Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)) =
                cause.downcast_ref::<rustls::Error>()
            {
                return ClientError::NotTls { url };
            }
            detail = cause.to_string();
            source = cause.source();
        }
        if detail.contains("InvalidContentType") {
            return ClientError::NotTls { url };
        }
        ClientError::Unreachable { url, detail }
    }

    /// A read of the body failed: reqwest's own error (a timeout, say) when it is one.
    fn read_error(&self, error: std::io::Error) -> ClientError {
        let (kind, text) = (error.kind(), error.to_string());
        match error.into_inner().map(|inner| inner.downcast::<reqwest::Error>()) {
            Some(Ok(inner)) => self.transport_error(*inner),
            _ if kind == std::io::ErrorKind::TimedOut => {
                ClientError::Timeout { url: self.base.clone(), seconds: self.timeout.as_secs().max(1) }
            }
            _ => ClientError::Unreachable { url: self.base.clone(), detail: text },
        }
    }

    fn decode<T: DeserializeOwned>(&self, mut response: Response) -> Result<T, ClientError> {
        let status = response.status().as_u16();
        // A server that is not the ledger may send an endless body: read no more than any ledger
        // answer can be, so it cannot fill the memory before the timeout.
        let too_large = || ClientError::NotTheApi {
            url: self.base.clone(),
            status,
            detail: format!("the answer is larger than {} MiB", MAX_RESPONSE_BYTES >> 20),
        };
        if response.content_length().is_some_and(|n| n > MAX_RESPONSE_BYTES) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut response, MAX_RESPONSE_BYTES + 1), &mut bytes)
            .map_err(|e| self.read_error(e))?;
        if bytes.len() as u64 > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes).map_err(|e| ClientError::NotTheApi {
                url: self.base.clone(),
                status,
                detail: format!("unexpected body ({e})"),
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(ClientError::Api { status, body }),
            Err(_) => Err(ClientError::NotTheApi {
                url: self.base.clone(),
                status,
                detail: "the error body is not {\"code\",\"message\"} JSON".into(),
            }),
        }
    }

    pub fn health(&self) -> Result<Health, ClientError> {
        self.send(self.http.get(self.url("/health")))
    }

    pub fn whoami(&self) -> Result<WhoAmI, ClientError> {
        self.send(self.authed(self.http.get(self.url("/whoami"))))
    }

    /// `POST /credentials`. An open ledger needs no operator credential; one with `authenticated`
    /// registration (SPEC §6) needs one holding `credentials:write`, so the client's is sent when it
    /// has one.
    pub fn register(&self, request: &RegisterRequest) -> Result<CredentialRecord, ClientError> {
        self.send(self.authed(self.http.post(self.url("/credentials"))).json(request))
    }

    /// `PATCH /credentials/{api_key}`: the fields of `request` that are set, and nothing else.
    pub fn update(&self, api_key: &str, request: &UpdateRequest) -> Result<CredentialRecord, ClientError> {
        self.send(self.authed(self.http.patch(self.url(&format!("/credentials/{api_key}")))).json(request))
    }

    /// One page of `GET /audit`, newest first: of one credential when `api_key` is given.
    pub fn audit_page(&self, api_key: Option<&str>, limit: u32, after: Option<&str>) -> Result<AuditPage, ClientError> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(api_key) = api_key {
            query.push(("api_key", api_key.to_owned()));
        }
        if let Some(after) = after {
            query.push(("after", after.to_owned()));
        }
        self.send(self.authed(self.http.get(self.url("/audit")).query(&query)))
    }

    /// The audit trail, newest first, every page followed; at most `max` events when given.
    pub fn audit(&self, api_key: Option<&str>, max: Option<u32>) -> Result<Vec<AuditEvent>, ClientError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let want = max.map_or(crate::MAX_PAGE_LIMIT, |m| (m - all.len() as u32).min(crate::MAX_PAGE_LIMIT));
            let page = self.audit_page(api_key, want, after.as_deref())?;
            // An empty page ends the walk whatever `next` says, so a confused server cannot loop it.
            let empty = page.data.is_empty();
            all.extend(page.data);
            if let Some(m) = max {
                all.truncate(m as usize);
            }
            match page.next {
                Some(next) if !empty && max.is_none_or(|m| (all.len() as u32) < m) => after = Some(next),
                _ => return Ok(all),
            }
        }
    }

    pub fn list_page(
        &self,
        status: StatusFilter,
        limit: u32,
        after: Option<&str>,
    ) -> Result<CredentialPage, ClientError> {
        let mut query = vec![("status", status.as_str().to_owned()), ("limit", limit.to_string())];
        if let Some(after) = after {
            query.push(("after", after.to_owned()));
        }
        self.send(self.authed(self.http.get(self.url("/credentials")).query(&query)))
    }

    /// Every page of the list, followed to the end.
    pub fn list_all(&self, status: StatusFilter) -> Result<Vec<CredentialRecord>, ClientError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.list_page(status, crate::MAX_PAGE_LIMIT, after.as_deref())?;
            all.extend(page.data);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
    }

    pub fn get(&self, api_key: &str) -> Result<CredentialRecord, ClientError> {
        self.send(self.authed(self.http.get(self.url(&format!("/credentials/{api_key}")))))
    }

    pub fn revoke(&self, api_key: &str) -> Result<RevokeResponse, ClientError> {
        self.send(self.authed(self.http.delete(self.url(&format!("/credentials/{api_key}")))))
    }

    pub fn create_account(&self, name: &str) -> Result<Account, ClientError> {
        self.send(self.authed(self.http.post(self.url("/accounts")).json(&CreateAccount { name: name.to_owned() })))
    }

    pub fn list_accounts(&self) -> Result<AccountPage, ClientError> {
        self.send(self.authed(self.http.get(self.url("/accounts"))))
    }

    pub fn get_account(&self, id: &str) -> Result<Account, ClientError> {
        self.send(self.authed(self.http.get(self.url(&format!("/account/{id}")))))
    }
}
