//! The OpenAPI 3.1 document of the API, written by hand next to the route table; a test checks that
//! the two list the same routes, so neither can drift.

use std::sync::LazyLock;

use axum::body::Bytes;
use serde_json::{Value, json};

/// The SPEC §2 test vector pair: valid on a ledger running as instance `acme-prod-eu1` under the
/// vector's master key (as `scripts/schemathesis.sh` runs it), so the examples can be registered.
const EXAMPLE_KEY: &str = "ak_000102030405060708090a0b0c0d0e0fd65df89f";
const EXAMPLE_SECRET: &str = "sk_503baa03e200179d94e68a83c1b510594e56fd9ff84ce7ef436335c0399f797c";

/// A string of 0..=MAX_TEXT_CHARS characters none of which is a control character (Unicode Cc,
/// what `char::is_control` refuses).
const PLAIN_TEXT: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// The same, with at least one character that is not whitespace (an account name).
const NON_BLANK_TEXT: &str =
    "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

fn ok(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn rate_limited(what: &str) -> Value {
    json!({
        "description": format!("Too many {what} from this client address (LEDGERD_*_LIMIT): this failure is answered 429 instead; a correct credential or valid pair is never refused. Retry after Retry-After seconds."),
        "headers": { "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": true,
            "schema": { "type": "integer", "minimum": 1 }
        }},
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

/// The responses every authenticated operation may give besides its own.
fn with_auth_errors(mut responses: Value) -> Value {
    let map = responses.as_object_mut().expect("responses are an object");
    map.insert(
        "401".into(),
        error("Missing, malformed, wrong, unknown or revoked credential (one message for every cause)."),
    );
    map.insert(
        "403".into(),
        error(
            "The credential is used from a client address outside its allowed_ips (IP_NOT_ALLOWED), or lacks the \
             scope this operation requires (FORBIDDEN, naming the scope; see x-required-scope).",
        ),
    );
    let mut limited = rate_limited("failed authentications");
    limited["description"] = json!(
        "Too many failed authentications from this client address (LEDGERD_AUTH_FAILURE_LIMIT: the failure is \
         answered 429 instead of 401), or this credential is past its own rate_limit (SPEC §6). Retry after \
         Retry-After seconds."
    );
    map.insert("429".into(), limited);
    map.insert("500".into(), error("The database failed while serving the request (never reported as 401)."));
    responses
}

/// The responses of an operation with a JSON request body.
fn with_body_errors(mut responses: Value) -> Value {
    let map = responses.as_object_mut().expect("responses are an object");
    map.insert("408".into(), error("The body did not arrive within the request timeout (LEDGERD_REQUEST_TIMEOUT)."));
    map.insert("413".into(), error(&format!("The body is larger than {} KiB.", crate::input::MAX_BODY_BYTES / 1024)));
    map.insert("415".into(), error("The body is not sent as Content-Type: application/json."));
    responses
}

fn api_key_param() -> Value {
    json!({
        "name": "api_key", "in": "path", "required": true,
        "description": "The credential's key; its checksum is checked too (400 when it does not match).",
        "schema": { "$ref": "#/components/schemas/ApiKey" },
        "example": EXAMPLE_KEY
    })
}

fn page_params() -> Vec<Value> {
    vec![
        json!({
            "name": "limit", "in": "query", "required": false,
            "schema": { "type": "integer", "minimum": 1, "maximum": et_api::MAX_PAGE_LIMIT, "default": et_api::DEFAULT_PAGE_LIMIT }
        }),
        json!({
            "name": "after", "in": "query", "required": false,
            "description": "The `next` cursor of the previous page; any other value is 400. Empty means the first page.",
            "schema": { "type": "string" }
        }),
    ]
}

fn nullable_time(description: &str) -> Value {
    json!({ "type": ["string", "null"], "format": "date-time", "description": description })
}

/// Narrows the body of every error response to the codes sent with its status (each code has
/// exactly one), so a response with a code of another status breaks the schema.
fn pin_error_codes(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
        let Some(responses) = operation["responses"].as_object_mut() else { continue };
        for (status, response) in responses.iter_mut() {
            let Ok(status) = status.parse::<u16>() else { continue };
            if status < 400 {
                continue;
            }
            let codes: Vec<&str> =
                et_api::ErrorCode::ALL.iter().filter(|c| c.status() == status).map(|c| c.as_str()).collect();
            response["content"]["application/json"]["schema"] = json!({
                "allOf": [
                    { "$ref": "#/components/schemas/ErrorBody" },
                    { "properties": { "code": { "enum": codes } } }
                ]
            });
        }
    }
}

/// Shows each operation's required scope, from the route table the server checks it with.
fn add_scopes(doc: &mut Value) {
    for route in crate::server::route_table() {
        let Some(scope) = route.scope else { continue };
        let operation = &mut doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        if !operation.is_object() {
            continue;
        }
        operation["x-required-scope"] = json!(scope.as_str());
        let summary = operation["summary"].as_str().unwrap_or_default().to_owned();
        operation["description"] = json!(format!("{summary}. Requires the scope `{scope}` (403 FORBIDDEN otherwise)."));
    }
}

/// Adds the `X-Request-Id` header to every response of every operation.
fn add_request_id(doc: &mut Value) {
    doc["components"]["headers"]["XRequestId"] = json!({
        "description": "The request's id, also in ledgerd's access log: the request's own X-Request-Id when that is \
                        one token of at most 64 letters, digits and -_.:+/=, otherwise 32 random hex digits.",
        "required": true,
        "schema": { "type": "string", "pattern": "^[A-Za-z0-9._:+/=-]{1,64}$" }
    });
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
        let Some(responses) = operation["responses"].as_object_mut() else { continue };
        for response in responses.values_mut() {
            response["headers"]["X-Request-Id"] = json!({ "$ref": "#/components/headers/XRequestId" });
        }
    }
}

/// The document as a value.
pub fn document() -> Value {
    let mut doc = unpinned_document();
    add_scopes(&mut doc);
    pin_error_codes(&mut doc);
    add_request_id(&mut doc);
    doc
}

fn unpinned_document() -> Value {
    let invalid = error("Malformed request: JSON, fields, key format or checksum, or query parameters.");
    let authenticated = json!([{ "apiKey": [], "apiSecret": [] }]);
    let mut list_params = vec![json!({
        "name": "status", "in": "query", "required": false,
        "description": "`active`: usable now (not revoked, not expired); `expired`: not revoked but past expires_at.",
        "schema": { "type": "string", "enum": ["active", "expired", "revoked", "all"], "default": "active" }
    })];
    list_params.extend(page_params());
    let credential_links = json!({
        "GetCredential": { "operationId": "getCredential", "parameters": { "api_key": "$response.body#/api_key" } },
        "RevokeCredential": { "operationId": "revokeCredential", "parameters": { "api_key": "$response.body#/api_key" } }
    });

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ledgerd",
            "version": env!("CARGO_PKG_VERSION"),
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
            "description": "The ledger API: register, list, inspect and revoke credentials, and the ledger's own accounts. \
                JSON in and out; errors always have the body {\"code\", \"message\"} and never echo a secret. \
                Timestamps are RFC 3339, UTC. Every operation but /health, /metrics, /openapi.json and \
                POST /credentials needs both X-Api-Key and X-Api-Secret."
        },
        "paths": {
            "/health": { "get": {
                "operationId": "health", "summary": "Whether the server and its database can serve",
                "security": [],
                "responses": {
                    "200": ok("Serving.", "Health"),
                    "503": error("The database is unusable.")
                }
            }},
            "/metrics": { "get": {
                "operationId": "metrics", "summary": "Prometheus metrics",
                "security": [],
                "responses": { "200": {
                    "description": "The Prometheus text format 0.0.4 (text/plain; version=0.0.4), or OpenMetrics 1.0.0 when the Accept header names application/openmetrics-text. Includes ledgerd_build_info and the process_* metrics.",
                    "content": {
                        "text/plain": { "schema": { "type": "string" } },
                        "application/openmetrics-text": { "schema": { "type": "string" } }
                    }
                }}
            }},
            "/openapi.json": { "get": {
                "operationId": "openapi", "summary": "This document",
                "security": [],
                "responses": { "200": {
                    "description": "The OpenAPI document.",
                    "content": { "application/json": { "schema": { "type": "object" } } }
                }}
            }},
            "/whoami": { "get": {
                "operationId": "whoami", "summary": "The calling credential",
                "responses": with_auth_errors(json!({ "200": ok("The caller.", "WhoAmI") }))
            }},
            "/credentials": {
                "post": {
                    "operationId": "registerCredential",
                    "summary": "Register a pair minted for this instance (no authentication: the derivation is the proof)",
                    "security": [],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/RegisterRequest" },
                        "example": { "api_key": EXAMPLE_KEY, "api_secret": EXAMPLE_SECRET, "label": "billing service" }
                    }}},
                    "responses": with_body_errors(json!({
                        "201": {
                            "description": "Registered.",
                            "headers": { "Location": {
                                "description": "The new credential: /credentials/{api_key}.",
                                "schema": { "type": "string" }
                            }},
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CredentialRecord" } } },
                            "links": credential_links
                        },
                        "400": invalid,
                        "401": error("LEDGERD_REGISTRATION=authenticated and the ledger has an active credential: the caller's X-Api-Key and X-Api-Secret are missing or not valid."),
                        "403": error("The secret is not the derivation of this key for this instance (INVALID_CREDENTIAL); the ledger already has LEDGERD_MAX_ACTIVE_CREDENTIALS active credentials (CREDENTIAL_LIMIT_REACHED); or, under authenticated registration, the caller is outside its allowed_ips (IP_NOT_ALLOWED), lacks credentials:write or grants a scope it does not hold (FORBIDDEN)."),
                        "409": error("The key was registered before, even if since revoked."),
                        "429": rate_limited("refused registrations (malformed, foreign or duplicate pairs)"),
                        "500": error("The database failed while registering.")
                    }))
                },
                "get": {
                    "operationId": "listCredentials", "summary": "One page of credentials, in registration order",
                    "parameters": list_params,
                    "responses": with_auth_errors(json!({
                        "200": ok("A page.", "CredentialPage"),
                        "400": invalid
                    }))
                }
            },
            "/credentials/{api_key}": {
                "get": {
                    "operationId": "getCredential", "summary": "One credential, active or revoked",
                    "parameters": [api_key_param()],
                    "responses": with_auth_errors(json!({
                        "200": ok("The credential.", "CredentialRecord"),
                        "400": invalid,
                        "404": error("No such credential.")
                    }))
                },
                "patch": {
                    "operationId": "updateCredential",
                    "summary": "Change a credential's label, scopes, allowed_ips, expires_at or rate_limit; the very next request meets the change",
                    "parameters": [api_key_param()],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/UpdateRequest" },
                        "example": { "scopes": ["accounts:read"], "rate_limit": { "limit": 100, "window_s": 60 } }
                    }}},
                    "responses": with_body_errors(with_auth_errors(json!({
                        "200": ok("The changed credential.", "CredentialRecord"),
                        "400": error("Malformed body, no field given, or a bad field (named in the message): an unknown scope, a malformed address, an expires_at in the past or beyond LEDGERD_MAX_CREDENTIAL_LIFETIME."),
                        "404": error("No such credential, or it is revoked (a revoked credential cannot be changed).")
                    })))
                },
                "delete": {
                    "operationId": "revokeCredential",
                    "summary": "Revoke a credential (any valid credential may revoke any, itself included); permanent",
                    "parameters": [api_key_param()],
                    "responses": with_auth_errors(json!({
                        "200": ok("Revoked; the very next request with it is refused.", "RevokeResponse"),
                        "400": invalid,
                        "404": error("No such credential, or it is already revoked.")
                    }))
                }
            },
            "/audit": { "get": {
                "operationId": "audit", "summary": "The audit trail (register, update, revoke), newest first",
                "parameters": [
                    {
                        "name": "api_key", "in": "query", "required": false,
                        "description": "Only the events of this credential.",
                        "schema": { "$ref": "#/components/schemas/ApiKey" }
                    },
                    {
                        "name": "limit", "in": "query", "required": false,
                        "schema": { "type": "integer", "minimum": 1, "maximum": et_api::MAX_PAGE_LIMIT, "default": et_api::DEFAULT_PAGE_LIMIT }
                    },
                    {
                        "name": "after", "in": "query", "required": false,
                        "description": "The `next` of the previous page: events older than it.",
                        "schema": { "type": "string", "pattern": "^[1-9][0-9]{0,17}$" }
                    }
                ],
                "responses": with_auth_errors(json!({
                    "200": ok("A page, newest first.", "AuditPage"),
                    "400": invalid
                }))
            }},
            "/accounts": {
                "post": {
                    "operationId": "createAccount", "summary": "Create an account",
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/CreateAccount" },
                        "example": { "name": "operating account" }
                    }}},
                    "responses": with_body_errors(with_auth_errors(json!({
                        "201": {
                            "description": "Created.",
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Account" } } },
                            "links": { "GetAccount": { "operationId": "getAccount", "parameters": { "id": "$response.body#/id" } } }
                        },
                        "400": invalid
                    })))
                },
                "get": {
                    "operationId": "listAccounts", "summary": "One page of accounts, oldest first",
                    "parameters": page_params(),
                    "responses": with_auth_errors(json!({
                        "200": ok("A page.", "AccountPage"),
                        "400": invalid
                    }))
                }
            },
            "/account/{id}": { "get": {
                "operationId": "getAccount", "summary": "One account",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": with_auth_errors(json!({
                    "200": ok("The account.", "Account"),
                    "400": error("The id in the path is not valid percent-encoded UTF-8."),
                    "404": error("No such account.")
                }))
            }}
        },
        "security": authenticated,
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "apiKey", "in": "header", "name": "X-Api-Key",
                    "description": "The credential's ak_ key. Always sent together with X-Api-Secret."
                },
                "apiSecret": {
                    "type": "apiKey", "in": "header", "name": "X-Api-Secret",
                    "description": "The credential's sk_ secret. Compared in constant time; never logged or echoed."
                }
            },
            "schemas": {
                "ApiKey": {
                    "type": "string", "pattern": "^ak_[0-9a-f]{40}$",
                    "description": "ak_, 32 hex digits of randomness, then the first 4 bytes of their SHA-256 as a checksum.",
                    "examples": [EXAMPLE_KEY]
                },
                "ErrorCode": {
                    "type": "string",
                    "enum": et_api::ErrorCode::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                    "description": "Each code is always sent with the same HTTP status."
                },
                "ErrorBody": {
                    "type": "object", "required": ["code", "message"], "additionalProperties": false,
                    "properties": {
                        "code": { "$ref": "#/components/schemas/ErrorCode" },
                        "message": { "type": "string", "description": "What is wrong and how to fix it; never a secret." }
                    }
                },
                "Health": {
                    "type": "object", "required": ["status", "mode"], "additionalProperties": false,
                    "properties": {
                        "status": { "const": "ok" },
                        "mode": { "enum": ["production", "dev"], "description": "`dev` for a throwaway `ledgerd --dev` ledger." }
                    }
                },
                "WhoAmI": {
                    "type": "object",
                    "required": ["api_key", "label", "instance", "version", "scopes", "expires_at", "allowed_ips", "rate_limit"],
                    "additionalProperties": false,
                    "properties": {
                        "api_key": { "$ref": "#/components/schemas/ApiKey" },
                        "label": { "type": ["string", "null"] },
                        "instance": { "type": "string", "description": "This ledger's instance id, the one its credentials are minted for." },
                        "version": { "type": "string", "description": "ledgerd's version, with commit and build date when known." },
                        "scopes": { "$ref": "#/components/schemas/Scopes" },
                        "expires_at": nullable_time("When the caller stops authenticating; null: never."),
                        "allowed_ips": { "$ref": "#/components/schemas/AllowedIps" },
                        "rate_limit": { "$ref": "#/components/schemas/RateLimit" }
                    }
                },
                "Scope": {
                    "type": "string",
                    "enum": et_api::Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                    "description": "accounts:read: GET /accounts, GET /account/{id}; accounts:write: POST /accounts; \
                        credentials:read: GET /credentials, GET /credentials/{api_key}, GET /audit; \
                        credentials:write: DELETE and PATCH /credentials/{api_key}."
                },
                "Scopes": {
                    "type": "array", "items": { "$ref": "#/components/schemas/Scope" }, "uniqueItems": true, "maxItems": 4,
                    "description": "What the credential may do, in the order accounts:read, accounts:write, credentials:read, credentials:write."
                },
                "AllowedIps": {
                    "type": "array", "items": { "type": "string" },
                    "description": "Addresses and CIDRs (canonical: 127.0.0.2/32, 10.0.0.0/8, ::1/128) the credential may be used from; empty: anywhere."
                },
                "RateLimit": {
                    "type": ["object", "null"], "required": ["limit", "window_s"], "additionalProperties": false,
                    "description": "At most `limit` authenticated requests per `window_s` seconds (per ledgerd process); null: no limit.",
                    "properties": {
                        "limit": { "type": "integer", "minimum": 1, "maximum": et_api::RateLimit::MAX_LIMIT },
                        "window_s": { "type": "integer", "minimum": 1, "maximum": et_api::RateLimit::MAX_WINDOW_S }
                    }
                },
                "RegisterRequest": {
                    "type": "object", "required": ["api_key", "api_secret"], "additionalProperties": false,
                    "properties": {
                        "api_key": { "$ref": "#/components/schemas/ApiKey" },
                        "api_secret": {
                            "type": "string", "pattern": "^sk_[0-9a-f]{64}$", "writeOnly": true,
                            "description": "sk_ and hex(HMAC-SHA256(instance key, \"entrytarget.credential.v1\" ‖ 0x00 ‖ api_key))."
                        },
                        "label": {
                            "type": ["string", "null"], "maxLength": crate::input::MAX_TEXT_CHARS, "pattern": PLAIN_TEXT,
                            "description": "Free text without control characters."
                        },
                        "expires_at": nullable_time("In the future, within LEDGERD_MAX_CREDENTIAL_LIFETIME when set; absent or null: never, or exactly that lifetime."),
                        "scopes": { "$ref": "#/components/schemas/Scopes" },
                        "allowed_ips": { "$ref": "#/components/schemas/AllowedIps" },
                        "rate_limit": { "$ref": "#/components/schemas/RateLimit" }
                    }
                },
                "UpdateRequest": {
                    "type": "object", "additionalProperties": false, "minProperties": 1,
                    "description": "Absent fields stay as they are; null clears label, expires_at and rate_limit; scopes and allowed_ips replace the whole list. A caller grants only scopes it holds.",
                    "properties": {
                        "label": {
                            "type": ["string", "null"], "maxLength": crate::input::MAX_TEXT_CHARS, "pattern": PLAIN_TEXT
                        },
                        "expires_at": nullable_time("In the future, within LEDGERD_MAX_CREDENTIAL_LIFETIME when set (then not null); null: never."),
                        "scopes": { "$ref": "#/components/schemas/Scopes" },
                        "allowed_ips": { "$ref": "#/components/schemas/AllowedIps" },
                        "rate_limit": { "$ref": "#/components/schemas/RateLimit" }
                    }
                },
                "AuditEvent": {
                    "type": "object", "additionalProperties": false,
                    "required": ["id", "at", "api_key", "action", "actor", "reason", "changes"],
                    "properties": {
                        "id": { "type": "integer" },
                        "at": { "type": "string", "format": "date-time" },
                        "api_key": { "type": "string" },
                        "action": { "enum": ["register", "revoke", "update"] },
                        "actor": { "type": "string", "description": "The acting api_key; `db` for a change made in the database; `api` for an open registration." },
                        "reason": { "type": ["string", "null"] },
                        "changes": { "type": ["object", "null"], "description": "For update: {field: {from, to}} of each changed field." }
                    }
                },
                "AuditPage": {
                    "type": "object", "required": ["data", "next"], "additionalProperties": false,
                    "properties": {
                        "data": { "type": "array", "items": { "$ref": "#/components/schemas/AuditEvent" }, "maxItems": et_api::MAX_PAGE_LIMIT },
                        "next": { "type": ["string", "null"], "description": "Pass as `after` for the next (older) page; null on the last one." }
                    }
                },
                "CredentialRecord": {
                    "type": "object", "additionalProperties": false,
                    "description": "Never the secret, never its hash.",
                    "required": ["api_key", "label", "active", "created_at", "revoked_at", "revoked_by", "last_used_at",
                        "status", "expires_at", "scopes", "allowed_ips", "rate_limit"],
                    "properties": {
                        "api_key": { "$ref": "#/components/schemas/ApiKey" },
                        "label": { "type": ["string", "null"] },
                        "active": { "type": "boolean", "description": "Not revoked (it may still have expired: see status)." },
                        "status": { "enum": ["active", "expired", "revoked"], "description": "revoked wins over expired." },
                        "expires_at": nullable_time("After it the credential authenticates no more; null: never."),
                        "scopes": { "$ref": "#/components/schemas/Scopes" },
                        "allowed_ips": { "$ref": "#/components/schemas/AllowedIps" },
                        "rate_limit": { "$ref": "#/components/schemas/RateLimit" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "revoked_at": nullable_time("When it was revoked; null while active."),
                        "revoked_by": { "type": ["string", "null"], "description": "The revoking api_key, or `db` when revoked in the database." },
                        "last_used_at": nullable_time("Written in batches, a few seconds late, and to the minute: a use less than a minute after the recorded one is not written.")
                    }
                },
                "CredentialPage": {
                    "type": "object", "required": ["data", "next"], "additionalProperties": false,
                    "properties": {
                        "data": { "type": "array", "items": { "$ref": "#/components/schemas/CredentialRecord" }, "maxItems": et_api::MAX_PAGE_LIMIT },
                        "next": { "type": ["string", "null"], "description": "Pass as `after` for the next page; null on the last one." }
                    }
                },
                "RevokeResponse": {
                    "type": "object", "required": ["api_key", "revoked"], "additionalProperties": false,
                    "properties": { "api_key": { "$ref": "#/components/schemas/ApiKey" }, "revoked": { "const": true } }
                },
                "CreateAccount": {
                    "type": "object", "required": ["name"], "additionalProperties": false,
                    "properties": { "name": {
                        "type": "string", "minLength": 1, "maxLength": crate::input::MAX_TEXT_CHARS, "pattern": NON_BLANK_TEXT,
                        "description": "Free text without control characters, not only whitespace."
                    }}
                },
                "Account": {
                    "type": "object", "required": ["id", "name", "created_at"], "additionalProperties": false,
                    "properties": {
                        "id": { "type": "string" }, "name": { "type": "string" },
                        "created_at": { "type": "string", "format": "date-time" }
                    }
                },
                "AccountPage": {
                    "type": "object", "required": ["data", "next"], "additionalProperties": false,
                    "properties": {
                        "data": { "type": "array", "items": { "$ref": "#/components/schemas/Account" }, "maxItems": et_api::MAX_PAGE_LIMIT },
                        "next": { "type": ["string", "null"], "description": "Pass as `after` for the next page; null on the last one." }
                    }
                }
            }
        }
    })
}

static DOCUMENT: LazyLock<Bytes> =
    LazyLock::new(|| Bytes::from(serde_json::to_vec_pretty(&document()).expect("a JSON value serializes")));

/// The serialized document, built once.
pub fn document_bytes() -> Bytes {
    DOCUMENT.clone()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::server::route_table;

    #[test]
    fn documents_exactly_the_routes_of_the_router() {
        let doc = document();
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
        let served: BTreeSet<(String, String)> =
            route_table().iter().map(|r| (r.method.as_str().to_owned(), r.path.to_owned())).collect();
        assert_eq!(documented, served, "the OpenAPI document and the route table differ");
    }

    #[test]
    fn every_error_response_has_codes_and_the_error_body() {
        let doc = document();
        let mut errors = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status.parse::<u16>().unwrap() < 400 {
                        continue;
                    }
                    errors += 1;
                    let schema = &response["content"]["application/json"]["schema"]["allOf"];
                    assert_eq!(schema[0]["$ref"], "#/components/schemas/ErrorBody", "{method} {path} {status}");
                    let codes = schema[1]["properties"]["code"]["enum"].as_array().unwrap();
                    assert!(!codes.is_empty(), "{method} {path} documents {status}, which no error code is sent with");
                }
                let authenticated = operation.get("security").is_none();
                if authenticated {
                    for status in ["401", "403", "429", "500"] {
                        assert!(operation["responses"].get(status).is_some(), "{method} {path} lacks {status}");
                    }
                }
            }
        }
        assert!(errors > 30, "{errors}");
    }

    #[test]
    fn the_text_pattern_is_exactly_what_the_server_refuses() {
        // PLAIN_TEXT excludes U+0000-U+001F and U+007F-U+009F; the server refuses char::is_control.
        assert!(PLAIN_TEXT.contains("\\u0000-\\u001f\\u007f-\\u009f"));
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let excluded = c <= '\u{1f}' || ('\u{7f}'..='\u{9f}').contains(&c);
            assert_eq!(c.is_control(), excluded, "{c:?}");
        }
        assert!(crate::input::check_text("label", "tab\there").is_err());
        assert!(crate::input::check_text("label", "caf\u{e9} \u{a0}\u{2028}").is_ok());
    }

    #[test]
    fn every_scoped_route_shows_its_scope() {
        let doc = document();
        for route in route_table() {
            let operation = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
            assert_eq!(
                operation.get("x-required-scope").and_then(Value::as_str),
                route.scope.map(et_api::Scope::as_str),
                "{} {}",
                route.method,
                route.path
            );
        }
    }

    #[test]
    fn every_ref_resolves() {
        let doc = document();
        let text = serde_json::to_string(&doc).unwrap();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &piece[..piece.find('"').unwrap()];
            assert!(doc["components"]["schemas"].get(name).is_some(), "no schema {name}");
        }
    }
}
