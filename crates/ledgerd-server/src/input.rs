//! Reading request bodies and query strings into checked values, with messages that say what is
//! wrong and never quote what the client sent (a body may hold a secret, and serde's own messages
//! quote values: `invalid type: string "sk_..."`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use et_api::ErrorCode;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::policy_input;

/// Largest request body accepted (SPEC: anything bigger is 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest label or account name, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// The JSON object in a request body: checks the media type, the size, the syntax, and that every
/// field is one of `allowed`.
pub fn json_object(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    allowed: &[&str],
    example: &str,
) -> Result<Map<String, Value>, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "the body must be JSON: send the header Content-Type: application/json",
        ));
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::invalid("the request body could not be read completely; send it again")
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(format!("the body is empty; send a JSON object like {example}")));
    }
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(format!(
            "the body is not valid JSON (line {}, column {}); send a JSON object like {example}",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(object) = value else {
        return Err(ApiError::invalid(format!("the body must be a JSON object like {example}")));
    };
    if let Some(unknown) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::invalid(format!(
            "the body has {}; the allowed fields are {}",
            describe_field(unknown),
            list(allowed)
        )));
    }
    Ok(object)
}

pub fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the body is larger than {} KiB; send a smaller one", MAX_BODY_BYTES / 1024),
    )
}

/// Names an unknown field if its name is short and plain; anything else (it could be a pasted
/// secret) is not repeated back.
fn describe_field(name: &str) -> String {
    let plain = !name.is_empty()
        && name.len() <= 32
        && !name.starts_with("sk_")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain { format!("an unknown field \"{name}\"") } else { "an unknown field".to_owned() }
}

fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.as_slice() {
        [] => "none".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Removes the required string field `name`.
pub fn take_string(object: &mut Map<String, Value>, name: &str) -> Result<String, ApiError> {
    match object.remove(name) {
        None => Err(ApiError::invalid(format!("the field \"{name}\" is missing; it is required"))),
        Some(Value::String(s)) => Ok(s),
        Some(other) => {
            Err(ApiError::invalid(format!("the field \"{name}\" must be a string, not {}", type_name(&other))))
        }
    }
}

/// Checks a short human text (a label, an account name): length and no control characters.
pub fn check_text(name: &str, text: &str) -> Result<(), ApiError> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(ApiError::invalid(format!(
            "the field \"{name}\" is {chars} characters long; at most {MAX_TEXT_CHARS} are allowed"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "the field \"{name}\" contains a control character (a line break or tab, say); use plain text"
        )));
    }
    Ok(())
}

/// Removes the optional text field `name` (absent or null means none).
pub fn take_optional_text(object: &mut Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match object.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            check_text(name, &s)?;
            Ok(Some(s))
        }
        Some(other) => {
            Err(ApiError::invalid(format!("the field \"{name}\" must be a string or null, not {}", type_name(&other))))
        }
    }
}

/// Parses `limit` (1..=1000, default 100).
pub fn page_limit(limit: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = limit else { return Ok(et_api::DEFAULT_PAGE_LIMIT) };
    match text.parse::<u32>() {
        Ok(n) if (1..=et_api::MAX_PAGE_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid(format!(
            "limit must be a whole number from 1 to {}; leave it out for {}",
            et_api::MAX_PAGE_LIMIT,
            et_api::DEFAULT_PAGE_LIMIT
        ))),
    }
}

/// Splits a query string into `(name, value)` pairs, refusing names outside `allowed`.
pub fn query_pairs(query: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let Some(query) = query else { return Ok(Vec::new()) };
    let mut pairs = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let (Some(name), Some(value)) = (percent_decode(name), percent_decode(value)) else {
            return Err(ApiError::invalid("the query string is not valid percent-encoded UTF-8"));
        };
        if !allowed.contains(&name.as_str()) {
            return Err(ApiError::invalid(format!(
                "the query has {}; the allowed parameters are {}",
                describe_field(&name).replace("field", "parameter"),
                list(allowed)
            )));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The fields of a `POST /credentials` body.
pub const REGISTER_FIELDS: &[&str] =
    &["api_key", "api_secret", "label", "expires_at", "scopes", "allowed_ips", "rate_limit"];
/// The body `POST /credentials` expects, for messages.
pub const REGISTER_EXAMPLE: &str = r#"{"api_key": "ak_...", "api_secret": "sk_...", "label": "optional"}"#;

/// A `POST /credentials` body, checked up to (not including) the derivation check.
#[derive(Debug)]
pub struct Registration {
    pub api_key: et_core::ApiKey,
    pub api_secret: et_core::ApiSecret,
    pub label: Option<String>,
    /// The SPEC §6 fields; absent: the defaults (and the maximum lifetime, applied by the route).
    pub expires_at: Option<i64>,
    pub scopes: Option<et_api::Scopes>,
    pub allowed_ips: Option<Vec<et_store::IpNet>>,
    pub rate_limit: Option<et_api::RateLimit>,
}

/// Decodes and checks a `POST /credentials` body: media type, size, JSON, fields, key format and
/// checksum, secret format, label. Never quotes the secret.
pub fn registration(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Registration, ApiError> {
    let mut object = json_object(headers, body, REGISTER_FIELDS, REGISTER_EXAMPLE)?;
    let api_key = take_string(&mut object, "api_key")?;
    let api_secret = zeroize::Zeroizing::new(take_string(&mut object, "api_secret")?);
    let label = take_optional_text(&mut object, "label")?;
    let api_key = et_core::ApiKey::parse(&api_key).map_err(|e| ApiError::invalid(format!("api_key: {e}")))?;
    let api_secret =
        et_core::ApiSecret::parse(&api_secret).map_err(|e| ApiError::invalid(format!("api_secret: {e}")))?;
    let expires_at = policy_input::take_expires_at(&mut object, crate::cache::now_ms())?.flatten();
    let scopes = policy_input::take_scopes(&mut object)?;
    let allowed_ips = policy_input::take_allowed_ips(&mut object)?;
    let rate_limit = policy_input::take_rate_limit(&mut object)?.flatten();
    Ok(Registration { api_key, api_secret, label, expires_at, scopes, allowed_ips, rate_limit })
}

/// The query of `GET /credentials`: `status`, `limit` and the `after` cursor (empty means none).
pub fn credential_list_query(query: Option<&str>) -> Result<(et_api::StatusFilter, u32, Option<String>), ApiError> {
    let mut status = et_api::StatusFilter::Active;
    let mut limit = None;
    let mut after = None;
    for (name, value) in query_pairs(query, &["status", "limit", "after"])? {
        match name.as_str() {
            "status" => {
                status = value.parse().map_err(|_| {
                    ApiError::invalid("status must be active, expired, revoked or all; leave it out for active")
                })?
            }
            "limit" => limit = Some(value),
            _ => after = Some(value).filter(|v| !v.is_empty()),
        }
    }
    Ok((status, page_limit(limit.as_deref())?, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_like_english() {
        assert_eq!(list(&["a", "b", "c"]), r#""a", "b" and "c""#);
        assert_eq!(list(&["a"]), r#""a""#);
    }

    #[test]
    fn secret_looking_field_names_are_not_repeated() {
        assert_eq!(describe_field("lable"), "an unknown field \"lable\"");
        assert_eq!(describe_field(&format!("sk_{}", "0".repeat(64))), "an unknown field");
        assert_eq!(describe_field("has space"), "an unknown field");
    }

    #[test]
    fn query_strings_are_decoded_and_checked() {
        let pairs = query_pairs(Some("status=all&after=ak%5Fx"), &["status", "after"]).unwrap();
        assert_eq!(pairs, vec![("status".into(), "all".into()), ("after".into(), "ak_x".into())]);
        assert!(query_pairs(Some("colour=red"), &["status"]).is_err());
        assert!(query_pairs(Some("status=%zz"), &["status"]).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(page_limit(None).unwrap(), 100);
        assert_eq!(page_limit(Some("1000")).unwrap(), 1000);
        for bad in ["0", "1001", "-1", "ten", ""] {
            assert!(page_limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
