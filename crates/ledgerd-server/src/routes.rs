//! The handlers of every route in SPEC §3. Each one that takes a [`Caller`] requires
//! authentication; the others are open (`/health`, `/metrics`, `/openapi.json`, `POST /credentials`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use et_api::{
    Account, AccountPage, AuditPage, CredentialPage, CredentialRecord, ErrorCode, Health, RevokeResponse, Scope, Scopes,
};
use et_core::ApiKey;
use et_store::{CredentialUpdate, NewCredential, StoreError};

use crate::auth::Caller;
use crate::cache::now_ms;
use crate::client::ClientAddr;
use crate::config::RegistrationMode;
use crate::error::{ApiError, error_response};
use crate::input::{
    Registration, check_text, credential_list_query, json_object, page_limit, query_pairs, registration, take_string,
};
use crate::metrics::InvalidationSource;
use crate::policy_input;
use crate::ratelimit;
use crate::state::AppState;

/// A write that failed: reported to the health flag (a full disk makes the ledger fail closed), and
/// answered 500.
fn write_failed(state: &AppState, error: StoreError) -> ApiError {
    crate::watcher::write_failed(&state.health, &state.auth, &state.metrics, &error);
    ApiError::store(error)
}

/// A write that committed, unless the file it committed to is no longer at the database's path (a
/// restore moved another file in place meanwhile): then it is not acknowledged, since the database
/// operators see does not hold it, and the client sends it again.
fn current<T>(store: &dyn et_store::CredentialStore, written: Result<T, StoreError>) -> Result<T, StoreError> {
    match written {
        Ok(_) if !store.is_current() => Err(StoreError::FileReplaced { path: store.path_shown() }),
        other => other,
    }
}

/// Runs a blocking store call off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<Result<T, StoreError>, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)
}

pub async fn health(State(state): State<AppState>) -> Response {
    if state.health.is_healthy() {
        let mode = if state.settings.dev { "dev" } else { "production" };
        Json(Health { status: "ok".into(), mode: mode.into() }).into_response()
    } else {
        error_response(
            ErrorCode::ServiceUnavailable,
            "the ledger's database is unusable; the operator should check the ledger's log",
        )
    }
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = crate::metrics::Format::from_accept(accept);
    let mut response = state.metrics.encode(format).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    response
}

pub async fn openapi() -> Response {
    let mut response = crate::openapi::document_bytes().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub async fn whoami(State(state): State<AppState>, caller: Caller) -> Response {
    let body = render_whoami(state.settings.instance_id.as_str(), caller.entry());
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// The `/whoami` body of `entry`: what [`et_api::WhoAmI`] serializes to, written straight into one
/// buffer (every cache miss renders it, so it costs no intermediate copies). The key and the
/// instance id need no escaping: both were checked to be lowercase letters, digits, `_` or `-`.
fn render_whoami(instance: &str, entry: &crate::cache::CachedEntry) -> Bytes {
    use std::fmt::Write;
    let mut out = String::with_capacity(320);
    out.push_str(r#"{"api_key":""#);
    out.push_str(&entry.api_key);
    out.push_str(r#"","label":"#);
    match &entry.label {
        Some(label) => push_json_string(&mut out, label),
        None => out.push_str("null"),
    }
    out.push_str(r#","instance":""#);
    out.push_str(instance);
    out.push_str(r#"","version":"#);
    push_json_string(&mut out, crate::config::VERSION);
    out.push_str(r#","scopes":["#);
    for (i, scope) in entry.scopes.iter().enumerate() {
        out.push_str(if i == 0 { "\"" } else { ",\"" });
        out.push_str(scope.as_str());
        out.push('"');
    }
    out.push_str(r#"],"expires_at":"#);
    match entry.expires_ms {
        Some(ms) => push_json_string(&mut out, &et_store::format_time_ms(ms)),
        None => out.push_str("null"),
    }
    out.push_str(r#","allowed_ips":["#);
    for (i, net) in entry.allowed_ips.nets().iter().enumerate() {
        out.push_str(if i == 0 { "\"" } else { ",\"" });
        match net {
            // What Display writes, without its formatting machinery (most lists are IPv4).
            ipnet::IpNet::V4(v4) => {
                for (j, octet) in v4.addr().octets().into_iter().enumerate() {
                    if j > 0 {
                        out.push('.');
                    }
                    push_decimal(&mut out, octet);
                }
                out.push('/');
                push_decimal(&mut out, v4.prefix_len());
            }
            ipnet::IpNet::V6(_) => {
                let _ = write!(out, "{net}");
            }
        }
        out.push('"');
    }
    out.push_str(r#"],"rate_limit":"#);
    match entry.rate_limit {
        Some(limit) => {
            let _ = write!(out, r#"{{"limit":{},"window_s":{}}}"#, limit.limit, limit.window_s);
        }
        None => out.push_str("null"),
    }
    out.push('}');
    Bytes::from(out)
}

fn push_decimal(out: &mut String, n: u8) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

/// `text` as a JSON string: as it is between quotes when nothing in it needs escaping.
fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&serde_json::Value::from(text).to_string());
    }
}

pub async fn register(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // Only refused registrations spend from the client's bucket, and only a refusal becomes a 429
    // once it is empty: a valid pair can only come from the vendor, so it is registered whoever
    // shares its address (a provisioning script, a proxy) and however much junk came from there.
    const WHAT: &str = "refused registrations";
    match register_pair(&state, &parts, body).await {
        Err(e) if e.code.status() < 500 => {
            Err(ratelimit::spend(state.register_limit.as_ref(), client, WHAT).err().unwrap_or(e))
        }
        other => other,
    }
}

/// Under `LEDGERD_REGISTRATION=authenticated`, the caller that registers (`None`: the ledger has
/// no active credential, and this is its first).
async fn registering_caller(state: &AppState, parts: &Parts) -> Result<Option<Caller>, ApiError> {
    if state.settings.registration == RegistrationMode::Open {
        return Ok(None);
    }
    // A first look, so that the usual case asks for credentials at once; the registration itself is
    // then stored only if still no active credential exists, judged in its transaction
    // (`first_only`): of two first registrations sent at once, one is stored, the other is 401.
    let store = state.store();
    if blocking(move || store.count_active()).await?.map_err(ApiError::store)? == 0 {
        return Ok(None);
    }
    Caller::require(parts, state, Some(Scope::CredentialsWrite)).await.map(Some)
}

/// Refuses a grant of scopes the caller does not hold itself.
fn check_grant(caller: &Caller, scopes: Scopes) -> Result<(), ApiError> {
    match scopes.iter().find(|scope| !caller.scopes().contains(*scope)) {
        None => Ok(()),
        Some(scope) => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "this credential cannot grant the scope {scope}, which it does not hold itself; leave it out, or ask \
                 a credential that holds it"
            ),
        )),
    }
}

/// `expires_at` under `LEDGERD_MAX_CREDENTIAL_LIFETIME`: within it, or 400 saying so.
fn check_lifetime(state: &AppState, expires_at: Option<i64>, now: i64) -> Result<(), ApiError> {
    let Some(max) = state.settings.max_credential_lifetime else { return Ok(()) };
    let shown = humantime::format_duration(max);
    match expires_at {
        None => Err(ApiError::invalid(format!(
            "the field \"expires_at\" cannot be null: this ledger allows credentials at most {shown} of life \
             (LEDGERD_MAX_CREDENTIAL_LIFETIME); give a time within it"
        ))),
        Some(at) if at > now.saturating_add(max.as_millis() as i64) => Err(ApiError::invalid(format!(
            "the field \"expires_at\" is beyond the longest lifetime this ledger allows, {shown} from now \
             (LEDGERD_MAX_CREDENTIAL_LIFETIME); give an earlier time, or leave it out for exactly that lifetime"
        ))),
        Some(_) => Ok(()),
    }
}

async fn register_pair(
    state: &AppState,
    parts: &Parts,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // Authentication (when the mode asks for it) before anything of the body is looked at.
    let caller = registering_caller(state, parts).await?;
    // The same decoding the fuzz target `register_body` drives (input::registration).
    let Registration { api_key, api_secret, label, expires_at, scopes, allowed_ips, rate_limit } =
        registration(&parts.headers, body)?;
    if !state.deriver.verify(&api_key, &api_secret) {
        return Err(ApiError::new(
            ErrorCode::InvalidCredential,
            "the api_secret is not the one derived from this api_key for this ledger instance; register a pair \
             minted for this instance (etctl generate --instance <this ledger's instance id>), copied whole",
        ));
    }

    let now = now_ms();
    // Without an expiry of its own, a credential gets exactly the longest lifetime allowed.
    let expires_at = match (expires_at, state.settings.max_credential_lifetime) {
        (None, Some(max)) => Some(now.saturating_add(max.as_millis() as i64).min(et_store::LATEST_EXPIRY_MS)),
        (given, _) => given,
    };
    check_lifetime(state, expires_at, now)?;
    let scopes = scopes.unwrap_or(Scopes::ALL);
    if let Some(caller) = &caller {
        check_grant(caller, scopes)?;
    }
    let mut credential = NewCredential::new(api_key.clone(), api_secret.hash(), label);
    credential.expires_at = expires_at;
    credential.scopes = scopes;
    credential.allowed_ips = allowed_ips.unwrap_or_default();
    credential.rate_limit = rate_limit;
    credential.first_only = caller.is_none() && state.settings.registration == RegistrationMode::Authenticated;
    credential.registered_by = caller.map(|c| c.api_key().to_owned());
    match state.registrar.register(credential).await? {
        Ok(record) => {
            // A request that came before the registration may have cached the key as unknown.
            state.auth.invalidate_unknown(record.api_key.as_str());
            tracing::info!(api_key = %record.api_key, label = record.label.as_deref(), "credential registered");
            let location = HeaderValue::try_from(format!("/credentials/{}", record.api_key)).ok();
            let mut response = (StatusCode::CREATED, Json(record)).into_response();
            if let Some(location) = location {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Err(StoreError::Duplicate) => Err(ApiError::new(
            ErrorCode::DuplicateApiKey,
            format!(
                "the api_key {api_key} is already registered on this ledger (a revoked key stays registered \
                 for good); mint a new pair to register"
            ),
        )),
        Err(e @ StoreError::LimitReached { .. }) => {
            Err(ApiError::new(ErrorCode::CredentialLimitReached, e.to_string()))
        }
        Err(StoreError::Refused(why)) => Err(ApiError::invalid(format!("the credential was not registered: {why}"))),
        // Another first registration got there first: this one needs a caller now, like any later one.
        Err(StoreError::NotFirst) => Err(ApiError::unauthorized()),
        Err(e) => Err(write_failed(state, e)),
    }
}

/// The fields of a `PATCH /credentials/{api_key}` body.
const UPDATE_FIELDS: &[&str] = &["label", "scopes", "allowed_ips", "expires_at", "rate_limit"];
const UPDATE_EXAMPLE: &str = r#"{"scopes": ["accounts:read"], "expires_at": "2027-01-31T00:00:00Z"}"#;

pub async fn update_credential(
    State(state): State<AppState>,
    caller: Caller,
    key: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CredentialRecord>, ApiError> {
    let key = path_key(key)?;
    let mut object = json_object(&headers, body, UPDATE_FIELDS, UPDATE_EXAMPLE)?;
    let now = now_ms();
    let update = CredentialUpdate {
        label: policy_input::take_label_patch(&mut object)?,
        scopes: policy_input::take_scopes(&mut object)?,
        allowed_ips: policy_input::take_allowed_ips(&mut object)?,
        expires_at: policy_input::take_expires_at(&mut object, now)?,
        rate_limit: policy_input::take_rate_limit(&mut object)?,
    };
    if update == CredentialUpdate::default() {
        return Err(ApiError::invalid(format!(
            "the body changes nothing; give at least one of \"label\", \"scopes\", \"allowed_ips\", \"expires_at\" \
             and \"rate_limit\", like {UPDATE_EXAMPLE}"
        )));
    }
    if let Some(expires_at) = update.expires_at {
        check_lifetime(&state, expires_at, now)?;
    }
    if let Some(scopes) = update.scopes {
        check_grant(&caller, scopes)?;
    }
    let store = state.store();
    let (target, by) = (key.clone(), caller.api_key().to_owned());
    match blocking(move || current(&*store, store.update(target.as_str(), &update, &by))).await? {
        Ok(record) => {
            // Before answering: the very next request with this credential meets its new policy.
            if state.auth.invalidate(key.as_str()) {
                state.metrics.invalidated(InvalidationSource::Api, 1);
            }
            tracing::info!(api_key = %key, updated_by = caller.api_key(), "credential updated");
            Ok(Json(record))
        }
        Err(StoreError::NotFound) => Err(ApiError::new(
            ErrorCode::CredentialNotFound,
            format!(
                "no active credential {key} is registered on this ledger: it was never registered, or it is revoked \
                 (a revoked credential cannot be changed)"
            ),
        )),
        Err(StoreError::Refused(why)) => Err(ApiError::invalid(format!("the credential was not changed: {why}"))),
        Err(e) => Err(write_failed(&state, e)),
    }
}

pub async fn audit(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<AuditPage>, ApiError> {
    let (mut api_key, mut limit, mut after) = (None, None, None);
    for (name, value) in query_pairs(query.as_deref(), &["api_key", "limit", "after"])? {
        match name.as_str() {
            "api_key" => {
                let key = ApiKey::parse(&value)
                    .map_err(|e| ApiError::invalid(format!("the api_key in the query is malformed: {e}")))?;
                api_key = Some(key.as_str().to_owned());
            }
            "limit" => limit = Some(value),
            "after" => {
                after = Some(value.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
                    ApiError::invalid(
                        "after must be the `next` value of the previous page (a whole number); leave it out for the \
                         newest events",
                    )
                })?);
            }
            _ => {}
        }
    }
    let limit = page_limit(limit.as_deref())?;
    let store = state.store();
    match blocking(move || store.audit_page(api_key.as_deref(), limit, after)).await? {
        Ok((data, next)) => Ok(Json(AuditPage { data, next: next.map(|id| id.to_string()) })),
        Err(e) => Err(ApiError::store(e)),
    }
}

/// The `ak_` key in a path, or 400 saying what is wrong with it.
fn path_key(key: Result<Path<String>, axum::extract::rejection::PathRejection>) -> Result<ApiKey, ApiError> {
    let Path(text) = key.map_err(|_| ApiError::invalid("the api_key in the path is not valid UTF-8"))?;
    ApiKey::parse(&text).map_err(|e| ApiError::invalid(format!("the api_key in the path is malformed: {e}")))
}

fn credential_not_found(key: &ApiKey) -> ApiError {
    ApiError::new(
        ErrorCode::CredentialNotFound,
        format!("no credential {key} is registered on this ledger; check the key (GET /credentials lists them)"),
    )
}

pub async fn list_credentials(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<CredentialPage>, ApiError> {
    let (status, limit, after) = credential_list_query(query.as_deref())?;
    let store = state.store();
    match blocking(move || store.list(status, limit, after.as_deref())).await? {
        Ok((data, next)) => Ok(Json(CredentialPage { data, next })),
        Err(StoreError::UnknownCursor(_)) => Err(unknown_cursor()),
        Err(e) => Err(ApiError::store(e)),
    }
}

fn unknown_cursor() -> ApiError {
    ApiError::invalid("the cursor in `after` is unknown; pass the `next` value of the previous page, or leave it out")
}

pub async fn get_credential(
    State(state): State<AppState>,
    _caller: Caller,
    key: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<CredentialRecord>, ApiError> {
    let key = path_key(key)?;
    let store = state.store();
    let lookup = key.clone();
    match blocking(move || store.get(lookup.as_str())).await? {
        Ok(Some(record)) => Ok(Json(record)),
        Ok(None) => Err(credential_not_found(&key)),
        Err(e) => Err(ApiError::store(e)),
    }
}

pub async fn revoke_credential(
    State(state): State<AppState>,
    caller: Caller,
    key: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<RevokeResponse>, ApiError> {
    let key = path_key(key)?;
    let store = state.store();
    let (target, by) = (key.clone(), caller.api_key().to_owned());
    match blocking(move || current(&*store, store.revoke(target.as_str(), &by, None))).await? {
        Ok(_) => {
            // Before answering: the very next request with this credential must be refused.
            if state.auth.invalidate(key.as_str()) {
                state.metrics.invalidated(InvalidationSource::Api, 1);
            }
            tracing::info!(api_key = %key, revoked_by = caller.api_key(), "credential revoked");
            Ok(Json(RevokeResponse { api_key: key.as_str().to_owned(), revoked: true }))
        }
        Err(StoreError::NotFound) => Err(ApiError::new(
            ErrorCode::CredentialNotFound,
            format!(
                "no active credential {key} is registered on this ledger: it was never registered, or it is \
                 already revoked"
            ),
        )),
        Err(e) => Err(write_failed(&state, e)),
    }
}

const ACCOUNT_EXAMPLE: &str = r#"{"name": "operating account"}"#;

pub async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut object = json_object(&headers, body, &["name"], ACCOUNT_EXAMPLE)?;
    let name = take_string(&mut object, "name")?;
    check_text("name", &name)?;
    if name.trim().is_empty() {
        return Err(ApiError::invalid("the field \"name\" is empty; give the account a name"));
    }
    let store = state.store();
    let by = caller.api_key().to_owned();
    match blocking(move || current(&*store, store.create_account(&name, &by))).await? {
        Ok(account) => Ok((StatusCode::CREATED, Json(account)).into_response()),
        Err(e) => Err(write_failed(&state, e)),
    }
}

pub async fn list_accounts(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<AccountPage>, ApiError> {
    let mut limit = None;
    let mut after = None;
    for (name, value) in query_pairs(query.as_deref(), &["limit", "after"])? {
        if name == "limit" {
            limit = Some(value);
        } else {
            after = Some(value).filter(|v| !v.is_empty());
        }
    }
    let limit = page_limit(limit.as_deref())?;
    let store = state.store();
    match blocking(move || store.list_accounts(limit, after.as_deref())).await? {
        Ok((data, next)) => Ok(Json(AccountPage { data, next })),
        Err(StoreError::UnknownCursor(_)) => Err(unknown_cursor()),
        Err(e) => Err(ApiError::store(e)),
    }
}

pub async fn get_account(
    State(state): State<AppState>,
    _caller: Caller,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Account>, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::invalid("the account id in the path is not valid UTF-8"))?;
    let store = state.store();
    let lookup = id.clone();
    match blocking(move || store.get_account(&lookup)).await? {
        Ok(Some(account)) => Ok(Json(account)),
        Ok(None) => Err(ApiError::new(
            ErrorCode::AccountNotFound,
            "no account has this id on this ledger; GET /accounts lists them",
        )),
        Err(e) => Err(ApiError::store(e)),
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "there is no such route; GET /openapi.json describes the routes of this API")
}

#[cfg(test)]
mod tests {
    use et_api::{RateLimit, WhoAmI};
    use et_core::SecretHash;
    use et_store::AllowedIps;

    use super::*;
    use crate::cache::CachedEntry;

    /// Byte for byte what serde writes for the same record, over the values each field can take.
    #[test]
    fn the_whoami_body_is_what_whoami_serializes_to() {
        let nets = |list: &[&str]| AllowedIps::new(list.iter().map(|n| n.parse().unwrap()).collect());
        let cases = [
            (None, Scopes::ALL, None, AllowedIps::ANYWHERE, None),
            (
                Some("batch \"night\" \\ é \u{7f}"),
                Scopes::from_bits(0b0101),
                Some(4_102_444_800_123),
                nets(&["0.0.0.0/0", "10.20.30.40/32", "127.0.0.0/8", "192.168.1.0/24", "::1/128", "2001:db8::/32"]),
                Some(RateLimit { limit: 1_000_000, window_s: 86_400 }),
            ),
            (Some(""), Scopes::NONE, Some(0), nets(&["255.255.255.255/32", "::ffff:127.0.0.2/128"]), None),
        ];
        for (label, scopes, expires_ms, allowed_ips, rate_limit) in cases {
            let entry = CachedEntry {
                api_key: "ak_0123456789abcdef0123456789abcdef01234567".into(),
                label: label.map(Into::into),
                secret_hash: SecretHash::of("s"),
                active: true,
                usage: None,
                expires_ms,
                scopes,
                allowed_ips: allowed_ips.clone(),
                rate_limit,
                limiter: None,
            };
            let expected = serde_json::to_string(&WhoAmI {
                api_key: entry.api_key.to_string(),
                label: label.map(str::to_owned),
                instance: Some("prod-eu-1".into()),
                version: Some(crate::config::VERSION.into()),
                scopes: scopes.to_vec(),
                expires_at: expires_ms.map(et_store::format_time_ms),
                allowed_ips: allowed_ips.nets().iter().map(ToString::to_string).collect(),
                rate_limit,
            })
            .unwrap();
            assert_eq!(render_whoami("prod-eu-1", &entry), expected.as_bytes());
        }
    }
}
