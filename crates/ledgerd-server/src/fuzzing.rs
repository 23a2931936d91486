//! Entry points for the cargo-fuzz targets in `fuzz/`: the request decoding the handlers do, on
//! raw bytes, with no server, runtime or database. Not an API; hidden from the docs.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};

use crate::error::ApiError;
use crate::input;

/// A refusal as the client sees it: the HTTP status, the code and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal { status: error.code.status(), code: error.code.as_str(), message: error.message.into_owned() }
    }
}

/// Decodes `body` as a `POST /credentials` body sent as `application/json`, exactly as the
/// handler does before the derivation check: the accepted key and label, or the refusal.
pub fn decode_register(body: &[u8]) -> Result<(String, Option<String>), Refusal> {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let decoded = input::registration(&headers, Ok(Bytes::copy_from_slice(body)))?;
    Ok((decoded.api_key.as_str().to_owned(), decoded.label))
}

/// Decodes `query` as the query string of `GET /credentials`: status, limit and cursor.
pub fn decode_list_query(query: &str) -> Result<(&'static str, u32, Option<String>), Refusal> {
    let (status, limit, after) = input::credential_list_query(Some(query))?;
    Ok((status.as_str(), limit, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ak_000102030405060708090a0b0c0d0e0fd65df89f";
    const SECRET: &str = "sk_503baa03e200179d94e68a83c1b510594e56fd9ff84ce7ef436335c0399f797c";

    #[test]
    fn decodes_a_register_body_and_refuses_without_quoting_the_secret() {
        let body = format!(r#"{{"api_key":"{KEY}","api_secret":"{SECRET}","label":"ops"}}"#);
        assert_eq!(decode_register(body.as_bytes()).unwrap(), (KEY.to_owned(), Some("ops".to_owned())));
        let bad = format!(r#"{{"api_key":"{KEY}","api_secret":"{}x"}}"#, &SECRET[..66]);
        let refusal = decode_register(bad.as_bytes()).unwrap_err();
        assert_eq!((refusal.status, refusal.code), (400, "INVALID_REQUEST"));
        assert!(!refusal.message.contains(&SECRET[3..20]), "{}", refusal.message);
        assert_eq!(decode_register(b"").unwrap_err().status, 400);
    }

    #[test]
    fn decodes_a_list_query() {
        assert_eq!(decode_list_query("status=all&limit=5&after=").unwrap(), ("all", 5, None));
        assert_eq!(decode_list_query("limit=0").unwrap_err().status, 400);
    }
}
