//! The router driven in-process with `tower::ServiceExt::oneshot` on a temporary SQLite store: the
//! status and JSON body of every kind of failure, and the register → authenticate → revoke story.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use et_core::{ApiKey, InstanceId, InstanceKey, MasterKey};
use et_store::{OpenMode, SqliteStore};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::config::Settings;
use crate::server::{app, route_table};
use crate::state::{AppState, Shared};

const MASTER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

struct TestLedger {
    app: Router,
    state: AppState,
    key: InstanceKey,
    _dir: tempfile::TempDir,
}

fn instance_key(instance: &str) -> InstanceKey {
    MasterKey::from_hex(MASTER).unwrap().instance_key(&InstanceId::parse(instance).unwrap())
}

fn ledger_with(adjust: impl FnOnce(&mut Settings)) -> TestLedger {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let store = SqliteStore::open(&db, OpenMode::CreateIfMissing).unwrap();
    let key = instance_key("unit");
    let mut settings = Settings::new(db, InstanceId::parse("unit").unwrap(), key.clone());
    adjust(&mut settings);
    let state = Shared::new(settings, Arc::new(store));
    TestLedger { app: app(state.clone()), state, key, _dir: dir }
}

fn ledger() -> TestLedger {
    ledger_with(|_| {})
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl TestLedger {
    fn mint(&self) -> (String, String) {
        let k = ApiKey::generate();
        let s = self.key.secret_for(&k);
        (k.as_str().to_owned(), s.expose().to_owned())
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }

    async fn call(&self, method: Method, uri: &str, auth: Option<&(String, String)>, body: Option<Value>) -> Reply {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some((k, s)) = auth {
            builder = builder.header("x-api-key", k).header("x-api-secret", s);
        }
        let body = match body {
            Some(v) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    async fn post_raw(&self, uri: &str, content_type: Option<&str>, body: impl Into<Body>) -> Reply {
        let mut builder = Request::builder().method(Method::POST).uri(uri);
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        self.send(builder.body(body.into()).unwrap()).await
    }

    async fn register(&self) -> (String, String) {
        let pair = self.mint();
        let r =
            self.call(Method::POST, "/credentials", None, Some(json!({"api_key": pair.0, "api_secret": pair.1}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        pair
    }
}

/// Asserts the error shape: exactly `code` and a non-empty `message`, and the status of the code.
fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(reply.headers.get(header::CONTENT_TYPE).unwrap(), "application/json", "{}", reply.text);
    let object = reply.body.as_object().unwrap_or_else(|| panic!("not a JSON object: {}", reply.text));
    assert_eq!(object.len(), 2, "{}", reply.text);
    assert_eq!(object["code"], code, "{}", reply.text);
    assert!(object["message"].as_str().is_some_and(|m| m.len() > 10), "{}", reply.text);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let l = ledger();
    assert_error(&l.call(Method::GET, "/nope", None, None).await, 404, "NOT_FOUND");
    let r = l.call(Method::PUT, "/health", None, None).await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");
    assert!(r.headers.get(header::ALLOW).is_some());
    assert_error(&l.call(Method::PUT, "/credentials/ak_x", None, None).await, 405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let l = ledger();
    for route in route_table() {
        let uri = route.path.replace("{api_key}", "ak_000102030405060708090a0b0c0d0e0fd65df89f").replace("{id}", "x");
        let r = l.call(route.method.clone(), &uri, None, None).await;
        assert!(
            r.status != StatusCode::NOT_FOUND || r.body["code"] != "NOT_FOUND",
            "{} {} is not routed",
            route.method,
            route.path
        );
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{} {}", route.method, route.path);
    }
}

#[tokio::test]
async fn every_route_but_the_open_ones_requires_authentication() {
    let l = ledger();
    let open = [("GET", "/health"), ("GET", "/metrics"), ("GET", "/openapi.json"), ("POST", "/credentials")];
    for route in route_table() {
        if open.contains(&(route.method.as_str(), route.path)) {
            continue;
        }
        let uri = route.path.replace("{api_key}", "ak_000102030405060708090a0b0c0d0e0fd65df89f").replace("{id}", "x");
        let r = l.call(route.method.clone(), &uri, None, Some(json!({"name": "x"}))).await;
        assert_error(&r, 401, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn registration_refuses_what_is_not_a_json_object_of_the_right_fields() {
    let l = ledger();
    let (key, secret) = l.mint();

    let r = l.post_raw("/credentials", Some("text/plain"), "{}").await;
    assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    let r = l.post_raw("/credentials", None, "{}").await;
    assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");

    let r = l.post_raw("/credentials", Some("application/json"), "{\"api_key\": \n ").await;
    assert_error(&r, 400, "INVALID_REQUEST");
    assert!(r.body["message"].as_str().unwrap().contains("line 2"), "{}", r.text);
    assert_error(&l.post_raw("/credentials", Some("application/json"), "").await, 400, "INVALID_REQUEST");
    assert_error(&l.post_raw("/credentials", Some("application/json"), "[1]").await, 400, "INVALID_REQUEST");

    let r = l.call(Method::POST, "/credentials", None, Some(json!({"api_key": key}))).await;
    assert_error(&r, 400, "INVALID_REQUEST");
    assert!(r.body["message"].as_str().unwrap().contains("api_secret"), "{}", r.text);

    let r = l
        .call(Method::POST, "/credentials", None, Some(json!({"api_key": key, "api_secret": secret, "lable": "x"})))
        .await;
    assert_error(&r, 400, "INVALID_REQUEST");
    assert!(r.body["message"].as_str().unwrap().contains("\"lable\""), "{}", r.text);
    assert!(!r.text.contains(&secret));

    // A secret sent in the wrong field, or as the wrong type, is never quoted back.
    let r = l.call(Method::POST, "/credentials", None, Some(json!({"api_key": secret, "api_secret": secret}))).await;
    assert_error(&r, 400, "INVALID_REQUEST");
    assert!(!r.text.contains(&secret[3..]), "{}", r.text);
    let r = l.call(Method::POST, "/credentials", None, Some(json!({"api_key": key, "api_secret": [secret]}))).await;
    assert_error(&r, 400, "INVALID_REQUEST");
    assert!(!r.text.contains(&secret[3..]), "{}", r.text);
    let r = l
        .call(Method::POST, "/credentials", None, Some(json!({"api_key": key, "api_secret": secret, "label": 5})))
        .await;
    assert_error(&r, 400, "INVALID_REQUEST");
    let r = l
        .call(Method::POST, "/credentials", None, Some(json!({"api_key": key, "api_secret": secret, "label": "a\nb"})))
        .await;
    assert_error(&r, 400, "INVALID_REQUEST");

    let mut damaged = key.clone();
    damaged.replace_range(5..6, if &key[5..6] == "0" { "1" } else { "0" });
    let r = l.call(Method::POST, "/credentials", None, Some(json!({"api_key": damaged, "api_secret": secret}))).await;
    assert_error(&r, 400, "INVALID_REQUEST");
    assert!(r.body["message"].as_str().unwrap().contains("checksum"), "{}", r.text);
    let r = l.call(Method::POST, "/credentials", None, Some(json!({"api_key": key, "api_secret": "sk_short"}))).await;
    assert_error(&r, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn registration_checks_the_derivation_and_refuses_duplicates() {
    let l = ledger();
    let (key, secret) = l.mint();
    let other = ApiKey::generate();
    let foreign = instance_key("someone-else").secret_for(&ApiKey::parse(&key).unwrap());
    let wrong = l.key.secret_for(&other);
    for bad in [foreign.expose(), wrong.expose()] {
        let r = l.call(Method::POST, "/credentials", None, Some(json!({"api_key": key, "api_secret": bad}))).await;
        assert_error(&r, 403, "INVALID_CREDENTIAL");
    }
    let body = json!({"api_key": key, "api_secret": secret, "label": "ci"});
    let r = l.call(Method::POST, "/credentials", None, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["api_key"], key.as_str());
    assert_eq!(r.body["label"], "ci");
    assert_eq!(r.body["active"], true);
    assert!(!r.text.contains("hash") && !r.text.contains(&secret));
    assert_error(&l.call(Method::POST, "/credentials", None, Some(body)).await, 409, "DUPLICATE_API_KEY");
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused() {
    let l = ledger();
    let big = format!("{{\"api_key\": \"{}\"}}", "a".repeat(70 * 1024));
    assert_error(&l.post_raw("/credentials", Some("application/json"), big).await, 413, "PAYLOAD_TOO_LARGE");
}

/// A body that never arrives.
struct Stalled;

impl HttpBody for Stalled {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test]
async fn a_request_that_takes_too_long_gets_408() {
    let l = ledger_with(|s| s.request_timeout = Duration::from_millis(50));
    let r = l.post_raw("/credentials", Some("application/json"), Body::new(Stalled)).await;
    assert_error(&r, 408, "REQUEST_TIMEOUT");
}

#[tokio::test]
async fn authentication_refuses_every_cause_with_one_message() {
    let l = ledger();
    let pair = l.register().await;
    let r = l.call(Method::GET, "/whoami", Some(&pair), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["api_key"], pair.0.as_str());

    let unregistered = l.mint();
    let wrong_secret = (pair.0.clone(), unregistered.1.clone());
    let malformed = ("ak_nope".to_owned(), pair.1.clone());
    let mut bodies = vec![l.call(Method::GET, "/whoami", None, None).await];
    for creds in [&unregistered, &wrong_secret, &malformed] {
        bodies.push(l.call(Method::GET, "/whoami", Some(creds), None).await);
    }
    let only_key = Request::builder().uri("/whoami").header("x-api-key", &pair.0).body(Body::empty()).unwrap();
    bodies.push(l.send(only_key).await);
    for r in &bodies {
        assert_error(r, 401, "UNAUTHORIZED");
        assert_eq!(r.text, bodies[0].text);
    }
}

#[tokio::test]
async fn a_revoked_credential_is_refused_on_the_very_next_request() {
    let l = ledger();
    let operator = l.register().await;
    let victim = l.register().await;
    // Warm the cache so the revocation has an entry to evict.
    assert_eq!(l.call(Method::GET, "/whoami", Some(&victim), None).await.status, StatusCode::OK);

    let uri = format!("/credentials/{}", victim.0);
    let r = l.call(Method::DELETE, &uri, Some(&operator), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!({"api_key": victim.0, "revoked": true}));
    assert_error(&l.call(Method::GET, "/whoami", Some(&victim), None).await, 401, "UNAUTHORIZED");
    assert_error(&l.call(Method::DELETE, &uri, Some(&operator), None).await, 404, "CREDENTIAL_NOT_FOUND");

    let r = l.call(Method::GET, &uri, Some(&operator), None).await;
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["revoked_by"], operator.0.as_str());

    // A credential may revoke itself; it is refused right after.
    let r = l.call(Method::DELETE, &format!("/credentials/{}", operator.0), Some(&operator), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_error(&l.call(Method::GET, "/whoami", Some(&operator), None).await, 401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_revoked_key_still_in_use_is_refused_from_the_cache() {
    let l = ledger();
    let operator = l.register().await;
    let forgotten = l.register().await;
    l.call(Method::DELETE, &format!("/credentials/{}", forgotten.0), Some(&operator), None).await;
    for _ in 0..3 {
        assert_error(&l.call(Method::GET, "/whoami", Some(&forgotten), None).await, 401, "UNAUTHORIZED");
    }
    let metrics = l.call(Method::GET, "/metrics", None, None).await.text;
    // One miss for the operator's DELETE, one for the first refused call; the other two are hits.
    assert!(metrics.contains("ledgerd_auth_cache_misses_total 2"), "{metrics}");
    assert!(metrics.contains("ledgerd_auth_cache_hits_total 2"), "{metrics}");
}

#[tokio::test]
async fn a_key_probed_before_its_registration_works_right_after_it() {
    let l = ledger();
    let pair = l.mint();
    for _ in 0..2 {
        assert_error(&l.call(Method::GET, "/whoami", Some(&pair), None).await, 401, "UNAUTHORIZED");
    }
    let metrics = l.call(Method::GET, "/metrics", None, None).await.text;
    assert!(metrics.contains("ledgerd_auth_cache_hits_total 1"), "unknown keys are cached: {metrics}");
    let r = l.call(Method::POST, "/credentials", None, Some(json!({"api_key": pair.0, "api_secret": pair.1}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(l.call(Method::GET, "/whoami", Some(&pair), None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn lists_page_and_check_their_parameters() {
    let l = ledger();
    let pair = l.register().await;
    let second = l.register().await;
    l.register().await;
    let r = l.call(Method::GET, "/credentials?limit=2", Some(&pair), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["next"], second.0.as_str());
    let r = l.call(Method::GET, &format!("/credentials?limit=2&after={}", second.0), Some(&pair), None).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["next"], Value::Null);

    for bad in ["limit=0", "limit=1001", "limit=x", "status=gone", "after=ak_unknown", "colour=red"] {
        let r = l.call(Method::GET, &format!("/credentials?{bad}"), Some(&pair), None).await;
        assert_error(&r, 400, "INVALID_REQUEST");
    }
    let r = l.call(Method::GET, "/credentials/ak_000102030405060708090a0b0c0d0e0fd65df89f", Some(&pair), None).await;
    assert_error(&r, 404, "CREDENTIAL_NOT_FOUND");
}

#[tokio::test]
async fn accounts_are_created_listed_and_found() {
    let l = ledger();
    let pair = l.register().await;
    let r = l.call(Method::POST, "/accounts", Some(&pair), Some(json!({"name": "ops"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = l.call(Method::GET, &format!("/account/{id}"), Some(&pair), None).await;
    assert_eq!(r.body["name"], "ops");
    let r = l.call(Method::GET, "/accounts", Some(&pair), None).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    assert_error(&l.call(Method::GET, "/account/acc_nope", Some(&pair), None).await, 404, "ACCOUNT_NOT_FOUND");
    let r = l.call(Method::POST, "/accounts", Some(&pair), Some(json!({"name": ""}))).await;
    assert_error(&r, 400, "INVALID_REQUEST");
    let r = l.call(Method::POST, "/accounts", Some(&pair), Some(json!({"nom": "x"}))).await;
    assert_error(&r, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn health_metrics_and_openapi_are_open() {
    let l = ledger();
    let r = l.call(Method::GET, "/health", None, None).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({"status": "ok", "mode": "production"})));
    let r = l.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.body["openapi"], "3.1.0");
    let r = l.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains(r#"ledgerd_http_requests_total{route="/health",method="GET",status="200"} 1"#),
        "{}",
        r.text
    );
    let _ = &l.state;
}

impl TestLedger {
    /// Registers a pair through the store with the SPEC §6 fields `adjust` sets.
    fn register_with(&self, adjust: impl FnOnce(&mut et_store::NewCredential)) -> (String, String) {
        let (key, secret) = self.mint();
        let mut credential = et_store::NewCredential::new(
            ApiKey::parse(&key).unwrap(),
            et_core::SecretHash::of(&secret),
            Some("policy".into()),
        );
        adjust(&mut credential);
        self.state.store().register(&credential).unwrap();
        (key, secret)
    }

    /// A GET with the credential, as if from `client`.
    async fn get_from(&self, uri: &str, pair: &(String, String), client: &str) -> Reply {
        let peer: std::net::SocketAddr = format!("{client}:40000").parse().unwrap();
        let mut request = Request::builder()
            .uri(uri)
            .header("x-api-key", &pair.0)
            .header("x-api-secret", &pair.1)
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        self.send(request).await
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn scopes_are_checked_per_route_and_the_refusal_names_the_scope() {
    use et_api::Scope;
    let l = ledger();
    let monitor = l.register_with(|c| c.scopes = [Scope::AccountsRead].into_iter().collect());
    assert_eq!(l.call(Method::GET, "/accounts", Some(&monitor), None).await.status, StatusCode::OK);
    assert_eq!(l.call(Method::GET, "/whoami", Some(&monitor), None).await.status, StatusCode::OK);
    for (method, uri, scope) in [
        (Method::POST, "/accounts", "accounts:write"),
        (Method::GET, "/credentials", "credentials:read"),
        (Method::DELETE, &*format!("/credentials/{}", monitor.0), "credentials:write"),
    ] {
        let r = l.call(method.clone(), uri, Some(&monitor), Some(json!({"name": "x"}))).await;
        assert_error(&r, 403, "FORBIDDEN");
        assert!(r.body["message"].as_str().unwrap().contains(&format!("lacks the scope {scope}")), "{}", r.text);
    }
    // The DELETE was refused: the credential still works.
    assert_eq!(l.call(Method::GET, "/accounts", Some(&monitor), None).await.status, StatusCode::OK);
    let metrics = l.call(Method::GET, "/metrics", None, None).await.text;
    assert!(metrics.contains(r#"ledgerd_auth_refusals_total{cause="forbidden"} 3"#), "{metrics}");
    assert!(metrics.contains(r#"ledgerd_auth_refusals_total{cause="expired"} 0"#), "{metrics}");
}

#[tokio::test]
async fn policy_is_checked_in_the_order_of_spec_6() {
    use et_api::{RateLimit, Scope};
    let l = ledger();
    // Restricted to 127.0.0.2/32: allowed from there, 403 from 127.0.0.1, and a wrong secret is
    // 401 from anywhere (the secret comes first).
    let pinned = l.register_with(|c| {
        c.allowed_ips = vec!["127.0.0.2/32".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        c.scopes = [Scope::AccountsRead].into_iter().collect();
    });
    assert_eq!(l.get_from("/whoami", &pinned, "127.0.0.2").await.status, StatusCode::OK);
    assert_eq!(l.get_from("/whoami", &pinned, "10.1.2.3").await.status, StatusCode::OK);
    assert_error(&l.get_from("/whoami", &pinned, "127.0.0.1").await, 403, "IP_NOT_ALLOWED");
    // The address is checked before the scope.
    assert_error(&l.get_from("/credentials", &pinned, "127.0.0.1").await, 403, "IP_NOT_ALLOWED");
    assert_error(&l.get_from("/credentials", &pinned, "127.0.0.2").await, 403, "FORBIDDEN");
    let wrong = (pinned.0.clone(), l.mint().1);
    assert_error(&l.get_from("/whoami", &wrong, "127.0.0.1").await, 401, "UNAUTHORIZED");

    // Two requests a minute: the third is 429 with Retry-After, and spends nothing of the next.
    let limited = l.register_with(|c| c.rate_limit = Some(RateLimit { limit: 2, window_s: 60 }));
    for _ in 0..2 {
        assert_eq!(l.call(Method::GET, "/whoami", Some(&limited), None).await.status, StatusCode::OK);
    }
    let r = l.call(Method::GET, "/whoami", Some(&limited), None).await;
    assert_error(&r, 429, "RATE_LIMITED");
    let wait: u64 = r.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    // Another credential is not affected.
    assert_eq!(l.get_from("/whoami", &pinned, "127.0.0.2").await.status, StatusCode::OK);

    // An expiry is honoured on a cache hit: cached while valid, 401 the moment after.
    let expires = now_ms() + 2_000;
    let brief = l.register_with(|c| c.expires_at = Some(expires));
    assert_eq!(l.call(Method::GET, "/whoami", Some(&brief), None).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis((expires - now_ms()).max(0) as u64 + 50)).await;
    assert!(l.state.auth.lookup(&brief.0).is_some(), "still cached");
    assert_error(&l.call(Method::GET, "/whoami", Some(&brief), None).await, 401, "UNAUTHORIZED");

    let metrics = l.call(Method::GET, "/metrics", None, None).await.text;
    for (cause, n) in
        [("ip_not_allowed", 2), ("forbidden", 1), ("unauthorized", 1), ("rate_limited", 1), ("expired", 1)]
    {
        assert!(
            metrics.contains(&format!("ledgerd_auth_refusals_total{{cause=\"{cause}\"}} {n}")),
            "{cause}: {metrics}"
        );
    }
}

#[tokio::test]
async fn whoami_answers_the_callers_record_as_it_is_now() {
    let l = ledger();
    let admin = l.register().await;
    let worker = l.register().await;
    let whoami = || l.call(Method::GET, "/whoami", Some(&worker), None);
    let expected = |scopes: Vec<et_api::Scope>, label: Option<&str>, ips: Vec<&str>, expires: Option<&str>, limit| {
        serde_json::to_value(et_api::WhoAmI {
            api_key: worker.0.clone(),
            label: label.map(str::to_owned),
            instance: Some("unit".into()),
            version: Some(crate::config::VERSION.into()),
            scopes,
            expires_at: expires.map(str::to_owned),
            allowed_ips: ips.into_iter().map(str::to_owned).collect(),
            rate_limit: limit,
        })
        .unwrap()
    };
    let first = whoami().await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(first.body, expected(et_api::Scope::all(), None, vec![], None, None));
    // Served from the cache, the same body.
    assert_eq!(whoami().await.text, first.text);

    let uri = format!("/credentials/{}", worker.0);
    let patch = json!({"label": "batch \"night\" \\ é", "scopes": ["accounts:read"],
        "expires_at": "2099-01-01T00:00:00Z", "rate_limit": {"limit": 100, "window_s": 60}});
    let r = l.call(Method::PATCH, &uri, Some(&admin), Some(patch)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // (An address list is rendered too, but refuses a request without a socket: tests/e2e/policy.rs.)
    // The very next call shows the change.
    let limit = Some(et_api::RateLimit { limit: 100, window_s: 60 });
    let now = expected(
        vec![et_api::Scope::AccountsRead],
        Some("batch \"night\" \\ é"),
        vec![],
        Some("2099-01-01T00:00:00.000Z"),
        limit,
    );
    assert_eq!(whoami().await.body, now);
    assert_eq!(whoami().await.body, now);
}

#[tokio::test]
async fn a_patch_is_met_by_the_very_next_request_and_audited_with_its_actor() {
    let l = ledger();
    let admin = l.register().await;
    let worker = l.register().await;
    assert_eq!(l.call(Method::GET, "/accounts", Some(&worker), None).await.status, StatusCode::OK);
    let uri = format!("/credentials/{}", worker.0);
    let r = l
        .call(Method::PATCH, &uri, Some(&admin), Some(json!({"scopes": ["credentials:read"], "label": "worker"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["scopes"], json!(["credentials:read"]));
    // Cached a moment ago, refused now.
    assert_error(&l.call(Method::GET, "/accounts", Some(&worker), None).await, 403, "FORBIDDEN");
    // It cannot grant itself back what it lacks, nor touch others without credentials:write.
    let back = l.call(Method::PATCH, &uri, Some(&worker), Some(json!({"scopes": ["accounts:read"]}))).await;
    assert_error(&back, 403, "FORBIDDEN");
    // Bad bodies name the field; nothing changes.
    for body in [json!({}), json!({"scopes": ["root"]}), json!({"expires_at": "2001-01-01T00:00:00Z"}), json!({"x": 1})]
    {
        assert_error(&l.call(Method::PATCH, &uri, Some(&admin), Some(body)).await, 400, "INVALID_REQUEST");
    }
    let unknown = format!("/credentials/{}", l.mint().0);
    assert_error(
        &l.call(Method::PATCH, &unknown, Some(&admin), Some(json!({"label": "x"}))).await,
        404,
        "CREDENTIAL_NOT_FOUND",
    );
    assert_eq!(l.call(Method::DELETE, &uri, Some(&admin), None).await.status, StatusCode::OK);
    assert_error(
        &l.call(Method::PATCH, &uri, Some(&admin), Some(json!({"label": "x"}))).await,
        404,
        "CREDENTIAL_NOT_FOUND",
    );

    let trail = l.call(Method::GET, &format!("/audit?api_key={}&limit=2", worker.0), Some(&admin), None).await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.text);
    let events = trail.body["data"].as_array().unwrap();
    assert_eq!(events.iter().map(|e| e["action"].as_str().unwrap()).collect::<Vec<_>>(), ["revoke", "update"]);
    assert!(events.iter().all(|e| e["actor"] == admin.0.as_str()), "{}", trail.text);
    assert_eq!(events[1]["changes"]["label"]["to"], "worker", "{}", trail.text);
    let next = trail.body["next"].as_str().unwrap();
    let older = l.call(Method::GET, &format!("/audit?api_key={}&after={next}", worker.0), Some(&admin), None).await;
    assert_eq!(older.body["data"][0]["action"], "register", "{}", older.text);
    assert_eq!(older.body["next"], Value::Null);
    for bad in ["after=x", "after=", "api_key=", "api_key=ak_x", "limit=0"] {
        let r = l.call(Method::GET, &format!("/audit?{bad}"), Some(&admin), None).await;
        assert_error(&r, 400, "INVALID_REQUEST");
    }
}

#[tokio::test]
async fn registration_honours_the_lifetime_the_active_limit_and_authenticated_mode() {
    use crate::config::RegistrationMode;
    let l = ledger_with(|s| {
        s.max_credential_lifetime = Some(Duration::from_secs(3600));
        s.max_active_credentials = Some(2);
        s.registration = RegistrationMode::Authenticated;
    });
    // The first credential needs nobody; it gets exactly the longest lifetime.
    let before = now_ms();
    let first = l.register().await;
    let record = l.call(Method::GET, &format!("/credentials/{}", first.0), Some(&first), None).await;
    let expires = et_store::parse_time_ms(record.body["expires_at"].as_str().unwrap()).unwrap();
    assert!((before + 3_600_000..=now_ms() + 3_600_000).contains(&expires), "{}", record.text);
    // Now an anonymous pair is refused, and an authenticated one may grant only what its caller holds.
    let pair = l.mint();
    let body = json!({"api_key": pair.0, "api_secret": pair.1, "scopes": ["accounts:read"]});
    assert_error(&l.call(Method::POST, "/credentials", None, Some(body.clone())).await, 401, "UNAUTHORIZED");
    let far = json!({"api_key": pair.0, "api_secret": pair.1, "expires_at": "2999-01-01T00:00:00Z"});
    assert_error(&l.call(Method::POST, "/credentials", Some(&first), Some(far)).await, 400, "INVALID_REQUEST");
    let r = l.call(Method::POST, "/credentials", Some(&first), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let reader = (pair.0.clone(), pair.1.clone());
    let third = l.mint();
    let grant = json!({"api_key": third.0, "api_secret": third.1, "scopes": ["accounts:read"]});
    assert_error(&l.call(Method::POST, "/credentials", Some(&reader), Some(grant.clone())).await, 403, "FORBIDDEN");
    // Two are active: the third is past the limit.
    let r = l.call(Method::POST, "/credentials", Some(&first), Some(grant)).await;
    assert_error(&r, 403, "CREDENTIAL_LIMIT_REACHED");
    let trail = l.call(Method::GET, &format!("/audit?api_key={}", reader.0), Some(&first), None).await;
    assert_eq!(trail.body["data"][0]["actor"], first.0.as_str(), "{}", trail.text);
}
