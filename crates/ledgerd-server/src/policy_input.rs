//! The SPEC §6 fields of a request body (`POST /credentials`, `PATCH /credentials/{api_key}`),
//! read by hand like every body ([`crate::input`]): a message names the field and says what it
//! must be, and never quotes what was sent.

use et_api::{RateLimit, Scope, Scopes};
use et_store::{IpNet, LATEST_EXPIRY_MS, parse_ip_net, parse_time_ms};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::input::check_text;

/// Most entries in `allowed_ips`.
pub const MAX_ALLOWED_IPS: usize = 64;

/// A field that may be absent (leave as is), `null` (clear it) or a value.
pub type Patch<T> = Option<Option<T>>;

fn scope_names() -> String {
    Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// `scopes`: absent, or an array of scope names.
pub fn take_scopes(object: &mut Map<String, Value>) -> Result<Option<Scopes>, ApiError> {
    let Some(value) = object.remove("scopes") else { return Ok(None) };
    let bad = || {
        ApiError::invalid(format!(
            "the field \"scopes\" must be an array of scope names, each one of {}; [] is a credential that can only \
             call /whoami",
            scope_names()
        ))
    };
    let Value::Array(items) = value else { return Err(bad()) };
    let mut scopes = Scopes::NONE;
    for item in items {
        let scope: Scope = item.as_str().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        scopes = scopes.iter().chain([scope]).collect();
    }
    Ok(Some(scopes))
}

/// `allowed_ips`: absent, or an array of addresses and CIDRs (empty: anywhere).
pub fn take_allowed_ips(object: &mut Map<String, Value>) -> Result<Option<Vec<IpNet>>, ApiError> {
    let Some(value) = object.remove("allowed_ips") else { return Ok(None) };
    let Value::Array(items) = value else {
        return Err(ApiError::invalid(
            "the field \"allowed_ips\" must be an array of IPv4/IPv6 addresses or CIDRs such as \"10.0.0.0/8\"; [] \
             allows any address",
        ));
    };
    if items.len() > MAX_ALLOWED_IPS {
        return Err(ApiError::invalid(format!(
            "the field \"allowed_ips\" has {} entries; at most {MAX_ALLOWED_IPS} are allowed (use wider CIDRs)",
            items.len()
        )));
    }
    let mut nets = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let net = item.as_str().ok_or(ApiError::invalid(format!(
            "entry {} of the field \"allowed_ips\" is not a string; give addresses or CIDRs such as \"10.0.0.0/8\"",
            i + 1
        )))?;
        let net = parse_ip_net(net)
            .map_err(|why| ApiError::invalid(format!("entry {} of the field \"allowed_ips\" {why}", i + 1)))?;
        if !nets.contains(&net) {
            nets.push(net);
        }
    }
    Ok(Some(nets))
}

/// `expires_at`: absent, `null` (never), or an RFC 3339 time in the future, as unix ms.
pub fn take_expires_at(object: &mut Map<String, Value>, now_ms: i64) -> Result<Patch<i64>, ApiError> {
    match object.remove("expires_at") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(text)) => {
            let ms = parse_time_ms(&text).map_err(|why| {
                ApiError::invalid(format!(
                    "the field \"expires_at\" {why}; give an RFC 3339 time such as 2027-01-31T00:00:00Z"
                ))
            })?;
            if ms <= now_ms {
                return Err(ApiError::invalid(
                    "the field \"expires_at\" is in the past; give a time in the future, or null for no expiry",
                ));
            }
            if ms > LATEST_EXPIRY_MS {
                return Err(ApiError::invalid(
                    "the field \"expires_at\" is too far in the future; give a time before the year 10000",
                ));
            }
            Ok(Some(Some(ms)))
        }
        Some(_) => Err(ApiError::invalid(
            "the field \"expires_at\" must be an RFC 3339 time such as 2027-01-31T00:00:00Z, or null for no expiry",
        )),
    }
}

/// `rate_limit`: absent, `null` (no limit) or `{"limit": N, "window_s": S}`.
pub fn take_rate_limit(object: &mut Map<String, Value>) -> Result<Patch<RateLimit>, ApiError> {
    let bad = || {
        ApiError::invalid(format!(
            "the field \"rate_limit\" must be null or an object {{\"limit\": N, \"window_s\": S}} with whole numbers \
             1 <= N <= {} and 1 <= S <= {}",
            RateLimit::MAX_LIMIT,
            RateLimit::MAX_WINDOW_S
        ))
    };
    match object.remove("rate_limit") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Object(fields)) => {
            if fields.len() != 2 {
                return Err(bad());
            }
            let number = |name: &str| fields.get(name).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
            let (Some(limit), Some(window_s)) = (number("limit"), number("window_s")) else { return Err(bad()) };
            let limit = RateLimit { limit, window_s };
            limit.check().map_err(|_| bad())?;
            Ok(Some(Some(limit)))
        }
        Some(_) => Err(bad()),
    }
}

/// `label` of a PATCH: absent, `null` (none) or text.
pub fn take_label_patch(object: &mut Map<String, Value>) -> Result<Patch<String>, ApiError> {
    match object.remove("label") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(text)) => {
            check_text("label", &text)?;
            Ok(Some(Some(text)))
        }
        Some(_) => Err(ApiError::invalid("the field \"label\" must be a string or null")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn each_field_is_read_or_refused_by_name_without_quoting_it() {
        let now = 1_800_000_000_000;
        let mut o = object(json!({"scopes": ["credentials:read", "accounts:read", "accounts:read"]}));
        assert_eq!(take_scopes(&mut o).unwrap().unwrap().to_vec(), vec![Scope::AccountsRead, Scope::CredentialsRead]);
        // Shaped like a secret (no real one): an error message must never quote it back.
        let secret = format!("sk_{}", "0".repeat(64));
        let secret = secret.as_str();
        for (field, value) in [
            ("scopes", json!([secret])),
            ("scopes", json!("accounts:read")),
            ("allowed_ips", json!([secret])),
            ("allowed_ips", json!(["10.0.0.1/8"])),
            ("expires_at", json!(secret)),
            ("expires_at", json!("2020-01-01T00:00:00Z")),
            ("rate_limit", json!({"limit": 0, "window_s": 1})),
            ("rate_limit", json!({"limit": 1, "window_s": 1, "x": secret})),
            ("label", json!(7)),
        ] {
            let mut o = object(json!({ field: value }));
            let error = match field {
                "scopes" => take_scopes(&mut o).err(),
                "allowed_ips" => take_allowed_ips(&mut o).err(),
                "expires_at" => take_expires_at(&mut o, now).err(),
                "rate_limit" => take_rate_limit(&mut o).err(),
                _ => take_label_patch(&mut o).err(),
            }
            .unwrap_or_else(|| panic!("{field} {value} was accepted"));
            assert!(error.message.contains(&format!("\"{field}\"")), "{}", error.message);
            assert!(!error.message.contains("sk_"), "{}", error.message);
        }
        let mut o = object(
            json!({"allowed_ips": ["127.0.0.2", "::1"], "expires_at": null, "rate_limit": {"limit": 5, "window_s": 60}}),
        );
        let nets = take_allowed_ips(&mut o).unwrap().unwrap();
        assert_eq!(nets.iter().map(ToString::to_string).collect::<Vec<_>>(), ["127.0.0.2/32", "::1/128"]);
        assert_eq!(take_expires_at(&mut o, now).unwrap(), Some(None));
        assert_eq!(take_rate_limit(&mut o).unwrap(), Some(Some(RateLimit { limit: 5, window_s: 60 })));
        assert_eq!(take_label_patch(&mut o).unwrap(), None);
    }
}
