//! The OpenAPI 3.1 document of the API, written by hand next to the route table; a test checks that
//! the two list the same routes, so neither can drift.

use std::sync::LazyLock;

use axum::body::Bytes;
use serde_json::{Value, json};

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn ok(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn api_key_param() -> Value {
    json!({
        "name": "api_key", "in": "path", "required": true,
        "schema": { "$ref": "#/components/schemas/ApiKey" }
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
            "description": "The `next` cursor of the previous page.",
            "schema": { "type": "string" }
        }),
    ]
}

/// The document as a value.
pub fn document() -> Value {
    let unauthorized = error("Missing, wrong or revoked credential (one message for every cause).");
    let internal = error("The database failed while serving the request (never reported as 401).");
    let invalid = error("Malformed request: JSON, fields, key format or query parameters.");
    let authenticated = json!([{ "apiKey": [], "apiSecret": [] }]);
    let mut list_params = vec![json!({
        "name": "status", "in": "query", "required": false,
        "schema": { "type": "string", "enum": ["active", "revoked", "all"], "default": "active" }
    })];
    list_params.extend(page_params());

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ledgerd",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The ledger API: register, list, inspect and revoke credentials, and the ledger's own accounts. \
                Errors always have the body {\"code\", \"message\"}. Timestamps are RFC 3339, UTC."
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
                    "description": "OpenMetrics text.",
                    "content": { "application/openmetrics-text": { "schema": { "type": "string" } } }
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
                "responses": {
                    "200": ok("The caller.", "WhoAmI"),
                    "401": unauthorized, "500": internal
                }
            }},
            "/credentials": {
                "post": {
                    "operationId": "registerCredential",
                    "summary": "Register a pair minted for this instance (no authentication: the derivation is the proof)",
                    "security": [],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/RegisterRequest" }
                    }}},
                    "responses": {
                        "201": ok("Registered.", "CredentialRecord"),
                        "400": invalid,
                        "403": error("The secret is not the derivation of this key for this instance."),
                        "409": error("The key was registered before, even if since revoked."),
                        "413": error("The body is larger than 64 KiB."),
                        "415": error("The body is not application/json."),
                        "500": internal
                    }
                },
                "get": {
                    "operationId": "listCredentials", "summary": "One page of credentials, in registration order",
                    "parameters": list_params,
                    "responses": {
                        "200": ok("A page.", "CredentialPage"),
                        "400": invalid, "401": unauthorized, "500": internal
                    }
                }
            },
            "/credentials/{api_key}": {
                "get": {
                    "operationId": "getCredential", "summary": "One credential",
                    "parameters": [api_key_param()],
                    "responses": {
                        "200": ok("The credential.", "CredentialRecord"),
                        "400": invalid, "401": unauthorized,
                        "404": error("No such credential."),
                        "500": internal
                    }
                },
                "delete": {
                    "operationId": "revokeCredential",
                    "summary": "Revoke a credential (any valid credential may revoke any, itself included); permanent",
                    "parameters": [api_key_param()],
                    "responses": {
                        "200": ok("Revoked; the very next request with it is refused.", "RevokeResponse"),
                        "400": invalid, "401": unauthorized,
                        "404": error("No such credential, or it is already revoked."),
                        "500": internal
                    }
                }
            },
            "/accounts": {
                "post": {
                    "operationId": "createAccount", "summary": "Create an account",
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/CreateAccount" }
                    }}},
                    "responses": {
                        "201": ok("Created.", "Account"),
                        "400": invalid, "401": unauthorized,
                        "413": error("The body is larger than 64 KiB."),
                        "415": error("The body is not application/json."),
                        "500": internal
                    }
                },
                "get": {
                    "operationId": "listAccounts", "summary": "One page of accounts",
                    "parameters": page_params(),
                    "responses": {
                        "200": ok("A page.", "AccountPage"),
                        "400": invalid, "401": unauthorized, "500": internal
                    }
                }
            },
            "/account/{id}": { "get": {
                "operationId": "getAccount", "summary": "One account",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": {
                    "200": ok("The account.", "Account"),
                    "401": unauthorized,
                    "404": error("No such account."),
                    "500": internal
                }
            }}
        },
        "security": authenticated,
        "components": {
            "securitySchemes": {
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-Api-Key" },
                "apiSecret": { "type": "apiKey", "in": "header", "name": "X-Api-Secret" }
            },
            "schemas": {
                "ApiKey": { "type": "string", "pattern": "^ak_[0-9a-f]{40}$", "examples": ["ak_000102030405060708090a0b0c0d0e0fd65df89f"] },
                "Error": {
                    "type": "object", "required": ["code", "message"], "additionalProperties": false,
                    "properties": {
                        "code": { "type": "string", "enum": et_api::ErrorCode::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>() },
                        "message": { "type": "string", "description": "What is wrong and how to fix it." }
                    }
                },
                "Health": { "type": "object", "required": ["status"], "properties": { "status": { "const": "ok" } } },
                "WhoAmI": {
                    "type": "object", "required": ["api_key", "label"],
                    "properties": { "api_key": { "$ref": "#/components/schemas/ApiKey" }, "label": { "type": ["string", "null"] } }
                },
                "RegisterRequest": {
                    "type": "object", "required": ["api_key", "api_secret"], "additionalProperties": false,
                    "properties": {
                        "api_key": { "$ref": "#/components/schemas/ApiKey" },
                        "api_secret": { "type": "string", "pattern": "^sk_[0-9a-f]{64}$", "writeOnly": true },
                        "label": { "type": ["string", "null"], "maxLength": crate::input::MAX_TEXT_CHARS }
                    }
                },
                "CredentialRecord": {
                    "type": "object",
                    "required": ["api_key", "label", "active", "created_at", "revoked_at", "revoked_by", "last_used_at"],
                    "properties": {
                        "api_key": { "$ref": "#/components/schemas/ApiKey" },
                        "label": { "type": ["string", "null"] },
                        "active": { "type": "boolean" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "revoked_at": { "type": ["string", "null"], "format": "date-time" },
                        "revoked_by": { "type": ["string", "null"], "description": "The revoking api_key, or `db` when revoked in the database." },
                        "last_used_at": { "type": ["string", "null"], "format": "date-time", "description": "Written in batches, a few seconds late." }
                    }
                },
                "CredentialPage": {
                    "type": "object", "required": ["data", "next"],
                    "properties": {
                        "data": { "type": "array", "items": { "$ref": "#/components/schemas/CredentialRecord" } },
                        "next": { "type": ["string", "null"], "description": "Pass as `after` for the next page." }
                    }
                },
                "RevokeResponse": {
                    "type": "object", "required": ["api_key", "revoked"],
                    "properties": { "api_key": { "$ref": "#/components/schemas/ApiKey" }, "revoked": { "const": true } }
                },
                "CreateAccount": {
                    "type": "object", "required": ["name"], "additionalProperties": false,
                    "properties": { "name": { "type": "string", "minLength": 1, "maxLength": crate::input::MAX_TEXT_CHARS } }
                },
                "Account": {
                    "type": "object", "required": ["id", "name", "created_at"],
                    "properties": {
                        "id": { "type": "string" }, "name": { "type": "string" },
                        "created_at": { "type": "string", "format": "date-time" }
                    }
                },
                "AccountPage": {
                    "type": "object", "required": ["data", "next"],
                    "properties": {
                        "data": { "type": "array", "items": { "$ref": "#/components/schemas/Account" } },
                        "next": { "type": ["string", "null"] }
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
    fn every_ref_resolves() {
        let doc = document();
        let text = serde_json::to_string(&doc).unwrap();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &piece[..piece.find('"').unwrap()];
            assert!(doc["components"]["schemas"].get(name).is_some(), "no schema {name}");
        }
    }
}
