//! ledgerd end to end: the real binary on 127.0.0.1:0, driven the way the seed docs' curl examples
//! drive it, with raw HTTP so statuses, headers and bodies are what a user sees.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client as Http;
use serde_json::{Value, json};

use crate::common::{INSTANCE, Ledger, LedgerOptions, ledgerd, mint_for, time_until};

/// What a call answered: status and body (JSON when it is JSON).
struct Reply {
    status: u16,
    body: Value,
    text: String,
}

fn http() -> Http {
    // Run alone, a test has no other client that would have installed it.
    et_api::client::install_crypto_provider();
    Http::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

fn call(ledger: &Ledger, method: &str, path: &str, creds: Option<&(String, String)>, body: Option<Value>) -> Reply {
    let mut request = http().request(method.parse().unwrap(), format!("{}{path}", ledger.url));
    if let Some((key, secret)) = creds {
        request = request.header("X-Api-Key", key).header("X-Api-Secret", secret);
    }
    if let Some(body) = body {
        request = request.header("Content-Type", "application/json").body(body.to_string());
    }
    let response = request.send().expect("ledgerd answers");
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, body, text }
}

fn register(ledger: &Ledger, pair: &(String, String)) -> Reply {
    call(ledger, "POST", "/credentials", None, Some(json!({"api_key": pair.0, "api_secret": pair.1})))
}

#[track_caller]
fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.body["code"], code, "{}", reply.text);
    assert!(reply.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", reply.text);
}

fn sqlite3(db: &std::path::Path, sql: &str) {
    let out = Command::new("sqlite3").arg("-cmd").arg(".timeout 5000").arg(db).arg(sql).output().expect("run sqlite3");
    assert!(out.status.success(), "sqlite3 failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A child process killed if the test fails before it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `cmd` to its end (killing it after `limit`) and returns what it printed.
fn run_to_exit(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("ledgerd did not exit; stderr:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The seed docs' lifecycle: register, use, refuse, revoke; and nothing secret in the debug log.
#[test]
fn register_use_and_revoke_as_the_seed_docs_describe() {
    let ledger =
        Ledger::start_with(LedgerOptions { env: vec![("RUST_LOG".into(), "debug".into())], ..Default::default() });
    let mut secrets = Vec::new();

    // Register (credential management §2): 201 with the api_key; again: 409.
    let operator = ledger.mint();
    secrets.push(operator.1.clone());
    let r = register(&ledger, &operator);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["api_key"], operator.0.as_str());
    assert!(!r.text.contains(&operator.1), "the record must never hold the secret");
    assert_error(&register(&ledger, &operator), 409, "DUPLICATE_API_KEY");

    // 403: a secret that is not this key's derivation, and a pair minted for another instance.
    let other = ledger.mint();
    secrets.push(other.1.clone());
    assert_error(&register(&ledger, &(other.0.clone(), operator.1.clone())), 403, "INVALID_CREDENTIAL");
    let foreign = mint_for("another-instance");
    secrets.push(foreign.1.clone());
    assert_error(&register(&ledger, &foreign), 403, "INVALID_CREDENTIAL");

    // 400: a malformed key, with a message that says what is wrong.
    let r = register(&ledger, &("ak_not-a-key".into(), other.1.clone()));
    assert_error(&r, 400, "INVALID_REQUEST");
    assert!(!r.text.contains(&other.1));

    // Use it (credential management §3): the docs' GET /account/<id>, whoami, list.
    let r = call(&ledger, "POST", "/accounts", Some(&operator), Some(json!({"name": "operating"})));
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = call(&ledger, "GET", &format!("/account/{id}"), Some(&operator), None);
    assert_eq!((r.status, r.body["name"].as_str()), (200, Some("operating")), "{}", r.text);
    assert_error(&call(&ledger, "GET", "/account/acc_missing", Some(&operator), None), 404, "ACCOUNT_NOT_FOUND");
    let r = call(&ledger, "GET", "/whoami", Some(&operator), None);
    assert_eq!(r.body["api_key"], operator.0.as_str(), "{}", r.text);
    let r = call(&ledger, "GET", "/credentials", Some(&operator), None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["next"], Value::Null);

    // 401 (authentication): every cause, one indistinguishable body.
    let unregistered = ledger.mint();
    secrets.push(unregistered.1.clone());
    let refusals = [
        call(&ledger, "GET", "/whoami", None, None),
        call(&ledger, "GET", "/whoami", Some(&unregistered), None),
        call(&ledger, "GET", "/whoami", Some(&(operator.0.clone(), unregistered.1.clone())), None),
        call(&ledger, "GET", &format!("/account/{id}"), Some(&("ak_garbage".into(), operator.1.clone())), None),
    ];
    for r in &refusals {
        assert_error(r, 401, "UNAUTHORIZED");
        assert_eq!(r.text, refusals[0].text);
    }

    // Revoke (credential management §4): any valid credential revokes any other.
    let service = ledger.mint();
    secrets.push(service.1.clone());
    assert_eq!(register(&ledger, &service).status, 201);
    assert_eq!(call(&ledger, "GET", "/whoami", Some(&service), None).status, 200);
    let path = format!("/credentials/{}", service.0);
    let r = call(&ledger, "DELETE", &path, Some(&operator), None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"api_key": service.0, "revoked": true}));
    // The very next request is refused (the seeds allowed 5 minutes; SPEC allows none).
    assert_error(&call(&ledger, "GET", "/whoami", Some(&service), None), 401, "UNAUTHORIZED");
    assert_error(&call(&ledger, "DELETE", &path, Some(&operator), None), 404, "CREDENTIAL_NOT_FOUND");
    // Revocation is permanent: the key can never be registered again.
    assert_error(&register(&ledger, &service), 409, "DUPLICATE_API_KEY");
    let r = call(&ledger, "GET", &path, Some(&operator), None);
    assert_eq!((r.body["active"].as_bool(), r.body["revoked_by"].as_str()), (Some(false), Some(operator.0.as_str())));

    // What happened shows in /metrics, by route template rather than raw path.
    let metrics = call(&ledger, "GET", "/metrics", None, None).text;
    for line in [
        r#"ledgerd_auth_total{outcome="ok"}"#,
        r#"ledgerd_auth_total{outcome="unauthorized"}"#,
        r#"ledgerd_http_requests_total{route="/credentials/{api_key}",method="DELETE",status="200"} 1"#,
    ] {
        assert!(metrics.contains(line), "/metrics lacks {line}:\n{metrics}");
    }

    let logs = ledger.logs();
    let status = ledger.terminate();
    assert!(status.success(), "SIGTERM must end ledgerd with exit 0, got {status:?}");
    for secret in &secrets {
        assert!(!logs.contains(&secret[3..]), "the log holds a secret:\n{logs}");
    }
    assert!(logs.contains("request"), "RUST_LOG=debug should log every request:\n{logs}");
}

#[test]
fn a_revocation_made_in_the_sqlite3_shell_is_refused_within_one_second() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("operator"));
    let victim = ledger.register(Some("victim"));
    // Cached now: only the watcher can make the server notice what the shell does.
    assert_eq!(call(&ledger, "GET", "/whoami", Some(&victim), None).status, 200);

    sqlite3(&ledger.db, &format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", victim.0));
    let delay =
        time_until(Duration::from_secs(1), || call(&ledger, "GET", "/whoami", Some(&victim), None).status == 401);
    eprintln!("out-of-band sqlite3 revocation refused after {delay:?}");
    assert!(delay.is_some(), "a credential revoked in the database was still accepted 1 s later");

    let r = call(&ledger, "GET", &format!("/credentials/{}", victim.0), Some(&operator), None);
    assert_eq!(r.body["active"], false, "{}", r.text);
    assert_eq!(r.body["revoked_by"], "db", "{}", r.text);
    assert!(r.body["revoked_at"].is_string(), "{}", r.text);
    assert_eq!(call(&ledger, "GET", "/whoami", Some(&operator), None).status, 200);
}

#[test]
fn a_broken_database_answers_500_never_401_and_health_turns_503() {
    let ledger = Ledger::start();
    let cached = ledger.register(None);
    let uncached = ledger.register(None);
    assert_eq!(call(&ledger, "GET", "/whoami", Some(&cached), None).status, 200);
    assert_eq!(call(&ledger, "GET", "/health", None, None).body, json!({"status": "ok", "mode": "production"}));

    // An operator's migration gone wrong: the credential table is no longer where ledgerd reads it.
    sqlite3(&ledger.db, "ALTER TABLE api_credential RENAME TO api_credential_old");
    let r = call(&ledger, "GET", "/whoami", Some(&uncached), None);
    assert_error(&r, 500, "INTERNAL_ERROR");
    assert!(!r.text.contains("api_credential"), "internal detail leaked: {}", r.text);
    let noticed = time_until(Duration::from_secs(10), || call(&ledger, "GET", "/health", None, None).status == 503);
    assert!(noticed.is_some(), "/health stayed 200 with a broken database");
    assert_error(&call(&ledger, "GET", "/health", None, None), 503, "SERVICE_UNAVAILABLE");
    // Fail closed: the cached credential is not served from memory while the database is broken.
    assert_error(&call(&ledger, "GET", "/whoami", Some(&cached), None), 500, "INTERNAL_ERROR");

    sqlite3(&ledger.db, "ALTER TABLE api_credential_old RENAME TO api_credential");
    let recovered = time_until(Duration::from_secs(10), || call(&ledger, "GET", "/health", None, None).status == 200);
    assert!(recovered.is_some(), "/health did not recover with the database");
    assert_eq!(call(&ledger, "GET", "/whoami", Some(&uncached), None).status, 200);
    assert_eq!(call(&ledger, "GET", "/whoami", Some(&cached), None).status, 200);
}

#[test]
fn json_logs_are_one_object_per_line() {
    let env = vec![("LEDGERD_LOG_FORMAT".into(), "json".into()), ("RUST_LOG".into(), "debug".into())];
    let ledger = Ledger::start_with(LedgerOptions { env, ..Default::default() });
    let pair = ledger.register(Some("json"));
    assert_eq!(call(&ledger, "GET", "/whoami", Some(&pair), None).status, 200);
    let logs = ledger.logs();
    assert!(ledger.terminate().success());
    for line in logs.lines() {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(event["level"].is_string() && event["timestamp"].is_string(), "{line}");
    }
    assert!(logs.contains(&pair.0), "the access log names the calling api_key:\n{logs}");
    assert!(!logs.contains(&pair.1[3..]));
}

#[test]
fn start_up_errors_name_the_fix_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ledgerd();
    cmd.current_dir(dir.path()).env("LEDGERD_INSTANCE_ID", INSTANCE).env("LEDGERD_LISTEN", "127.0.0.1:0");
    let out = run_to_exit(cmd, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("LEDGERD_INSTANCE_KEY") && stderr.contains("--dev"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line, not a backtrace: {stderr}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut cmd = ledgerd();
    cmd.current_dir(dir.path())
        .env("LEDGERD_INSTANCE_ID", INSTANCE)
        .env("LEDGERD_INSTANCE_KEY", crate::common::instance_key_hex(INSTANCE))
        .env("LEDGERD_LISTEN", &addr);
    let out = run_to_exit(cmd, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&addr) && stderr.contains("LEDGERD_LISTEN"), "{stderr}");

    let mut cmd = ledgerd();
    cmd.current_dir(dir.path())
        .env("LEDGERD_INSTANCE_ID", INSTANCE)
        .env("LEDGERD_INSTANCE_KEY_FILE", dir.path().join("missing.key"))
        .env("LEDGERD_LISTEN", "127.0.0.1:0");
    let out = run_to_exit(cmd, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("missing.key"), "{stderr}");

    let mut cmd = ledgerd();
    cmd.current_dir(dir.path())
        .env("LEDGERD_INSTANCE_KEY", crate::common::instance_key_hex(INSTANCE))
        .env("LEDGERD_LISTEN", "127.0.0.1:0");
    let out = run_to_exit(cmd, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("LEDGERD_INSTANCE_ID"), "{stderr}");

    let unopenable = dir.path().join("no-such-dir").join("ledger.db");
    let mut cmd = ledgerd();
    cmd.current_dir(dir.path())
        .env("LEDGERD_INSTANCE_ID", INSTANCE)
        .env("LEDGERD_INSTANCE_KEY", crate::common::instance_key_hex(INSTANCE))
        .env("LEDGERD_DB", &unopenable)
        .env("LEDGERD_LISTEN", "127.0.0.1:0");
    let out = run_to_exit(cmd, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&unopenable.display().to_string()) && stderr.contains("LEDGERD_DB"), "{stderr}");
    assert!(!stderr.contains("listening on"), "it must not report ready: {stderr}");
}

#[test]
fn dev_mode_prints_exports_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = KillOnDrop(
        ledgerd()
            .args(["--dev", "--listen", "127.0.0.1:0"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = child.0.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut exports = std::collections::HashMap::new();
    for line in BufReader::new(child.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some((name, value)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            exports.insert(name.to_owned(), value.to_owned());
        } else {
            assert!(line.starts_with('#') || line.is_empty(), "stdout must be export lines or comments: {line}");
        }
        if exports.contains_key("ETCTL_VENDOR_KEY_FILE") {
            break;
        }
    }
    let url = &exports["ETCTL_URL"];
    let pair = (exports["ETCTL_API_KEY"].clone(), exports["ETCTL_API_SECRET"].clone());
    // Wait for the listener to accept (the exports are printed just before serving starts).
    let whoami =
        || http().get(format!("{url}/whoami")).header("X-Api-Key", &pair.0).header("X-Api-Secret", &pair.1).send();
    assert!(time_until(Duration::from_secs(10), || whoami().is_ok()).is_some());
    let body: Value = whoami().unwrap().json().unwrap();
    assert_eq!((&body["api_key"], &body["label"], &body["instance"]), (&json!(pair.0), &json!("dev"), &json!("dev")));

    // The vendor key file mints pairs this ledger accepts (what `etctl generate --instance dev` does).
    let key_file = std::path::PathBuf::from(&exports["ETCTL_VENDOR_KEY_FILE"]);
    assert!(key_file.is_absolute() && key_file.starts_with(std::fs::canonicalize(dir.path()).unwrap()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let master = et_core::MasterKey::from_hex(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let key = et_core::ApiKey::generate();
    let secret = master.instance_key(&et_core::InstanceId::parse("dev").unwrap()).secret_for(&key);
    let r = http()
        .post(format!("{url}/credentials"))
        .header("Content-Type", "application/json")
        .body(json!({"api_key": key.as_str(), "api_secret": secret.expose()}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);

    let _ = Command::new("kill").arg("-TERM").arg(child.0.id().to_string()).status();
    let status = child.0.wait().unwrap();
    let log = log.join().unwrap();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(!log.contains(&pair.1[3..]), "the dev secret went to the log:\n{log}");
    assert!(log.contains("wiped"), "dev mode must say it wiped its directory:\n{log}");
}
