//! Secret hygiene: every server flow with debug logging (text and JSON) leaves no `sk_` value in
//! logs, error bodies or argv; every etctl flow that handles a secret keeps it out of its argv and
//! stderr; and every file that holds a secret is created 0600.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::common::{INSTANCE, Ledger, LedgerOptions, instance_key_hex, mint_for, time_until};
use crate::etctl_support::{Home, mode};
use crate::hostile_http::{Raw, assert_no_leak, assert_no_secret, auth, call};

fn cmdline(pid: u32) -> Option<String> {
    std::fs::read(format!("/proc/{pid}/cmdline")).ok().map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
}

/// Runs every flow of the API once, returning every answer.
fn every_flow(ledger: &Ledger, secrets: &mut Vec<String>) -> Vec<Raw> {
    let json_type = [("Content-Type", "application/json")];
    let mut answers = Vec::new();
    let register = |pair: &(String, String), label: Option<&str>| {
        let body = json!({"api_key": pair.0, "api_secret": pair.1, "label": label}).to_string();
        call(ledger, "POST", "/credentials", &json_type, body.as_bytes())
    };
    let operator = ledger.mint();
    let victim = ledger.mint();
    let foreign = mint_for("elsewhere");
    let unregistered = ledger.mint();
    secrets.extend([&operator, &victim, &foreign, &unregistered].map(|p| p.1.clone()));
    answers.push(register(&operator, Some("operator")));
    answers.push(register(&victim, None));
    answers.push(register(&operator, None)); // 409
    answers.push(register(&foreign, None)); // 403
    answers.push(register(&(victim.0.clone(), operator.1.clone()), None)); // 403
    answers.push(register(&(operator.1.clone(), operator.0.clone()), None)); // 400, swapped
    let mut bad_secret = operator.1.clone();
    bad_secret.push('x');
    answers.push(register(&(unregistered.0.clone(), bad_secret), None)); // 400
    answers.push(call(ledger, "POST", "/credentials", &json_type, format!("{{\"{}\": 1}}", operator.1).as_bytes()));
    answers.push(call(ledger, "POST", "/credentials", &[], operator.1.as_bytes())); // 415
    let op = auth(&operator);
    answers.push(call(ledger, "GET", "/whoami", &op, b""));
    answers.push(call(ledger, "GET", "/whoami", &auth(&unregistered), b""));
    answers.push(call(ledger, "GET", "/whoami", &[("X-Api-Key", &operator.0), ("X-Api-Secret", &victim.1)], b""));
    answers.push(call(ledger, "GET", "/credentials?status=all", &op, b""));
    answers.push(call(ledger, "GET", &format!("/credentials/{}", victim.0), &op, b""));
    answers.push(call(ledger, "GET", &format!("/credentials/{}", victim.1), &op, b""));
    answers.push(call(ledger, "GET", &format!("/credentials?after={}", victim.1), &op, b""));
    let account = call(ledger, "POST", "/accounts", &[op[0], op[1], json_type[0]], br#"{"name": "ops"}"#);
    let id = account.json()["id"].as_str().unwrap_or("acc_x").to_owned();
    answers.push(account);
    answers.push(call(ledger, "GET", "/accounts", &op, b""));
    answers.push(call(ledger, "GET", &format!("/account/{id}"), &op, b""));
    answers.push(call(ledger, "DELETE", &format!("/credentials/{}", victim.0), &op, b""));
    answers.push(call(ledger, "DELETE", &format!("/credentials/{}", victim.0), &op, b""));
    answers.push(call(ledger, "GET", "/whoami", &auth(&victim), b""));
    // Past the failed-authentication limit: 429.
    for _ in 0..5 {
        answers.push(call(ledger, "GET", "/whoami", &auth(&unregistered), b""));
    }
    assert_eq!(answers.last().unwrap().status, 429, "{}", answers.last().unwrap().text());
    // A database fault: its cause goes to the log, which must hold no secret either.
    let conn = rusqlite::Connection::open(&ledger.db).unwrap();
    conn.execute_batch("ALTER TABLE api_credential RENAME TO api_credential_moved").unwrap();
    let fresh = ledger.mint();
    secrets.push(fresh.1.clone());
    answers.push(call(ledger, "GET", "/whoami", &auth(&fresh), b""));
    answers.push(register(&fresh, None));
    assert!(time_until(Duration::from_secs(10), || call(ledger, "GET", "/health", &[], b"").status == 503).is_some());
    conn.execute_batch("ALTER TABLE api_credential_moved RENAME TO api_credential").unwrap();
    assert!(time_until(Duration::from_secs(10), || call(ledger, "GET", "/health", &[], b"").status == 200).is_some());
    answers.push(call(ledger, "GET", "/whoami", &op, b""));
    answers.push(call(ledger, "GET", "/metrics", &[], b""));
    answers
}

fn check_server(format: &str) {
    let env = vec![
        ("RUST_LOG".into(), "debug".into()),
        ("LEDGERD_LOG_FORMAT".into(), format.into()),
        ("LEDGERD_AUTH_FAILURE_LIMIT".into(), "6".into()),
    ];
    let ledger = Ledger::start_with(LedgerOptions { env, ..Default::default() });
    let mut secrets = Vec::new();
    let answers = every_flow(&ledger, &mut secrets);
    for (i, raw) in answers.iter().enumerate() {
        let context = format!("{format} answer {i} ({})", raw.status);
        assert_no_leak(&context, &raw.text(), &secrets);
        for (name, value) in &raw.headers {
            assert_no_leak(&context, &format!("{name}: {value}"), &secrets);
        }
    }
    let argv = cmdline(ledger.pid()).expect("ledgerd's /proc cmdline");
    assert!(!argv.contains(&instance_key_hex(INSTANCE)) && !argv.contains("sk_"), "{argv}");
    let logs = ledger.logs();
    assert!(ledger.terminate().success());
    assert!(logs.lines().count() > 40, "debug logging should say a lot:\n{logs}");
    for secret in &secrets {
        assert!(!logs.contains(&secret[3..]), "the {format} log holds a secret:\n{logs}");
    }
    assert!(!logs.contains(&instance_key_hex(INSTANCE)), "the {format} log holds the instance key");
    assert!(!logs.contains("panicked"), "{logs}");
    if format == "json" {
        for line in logs.lines() {
            assert!(serde_json::from_str::<serde_json::Value>(line).is_ok(), "not JSON: {line}");
        }
    }
}

#[test]
fn every_server_flow_logged_at_debug_leaks_no_secret() {
    check_server("text");
}

#[test]
fn every_server_flow_logged_as_json_leaks_no_secret() {
    check_server("json");
}

/// Runs etctl with `args`, giving `stdin` only after reading its argv from /proc (it is waiting on
/// stdin for the secret then); returns (argv as seen, exit code, stdout, stderr).
fn etctl_seen(mut cmd: Command, args: &[&str], stdin: Option<&str>) -> (String, i32, String, String) {
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let argv = cmdline(child.id()).unwrap_or_else(|| args.join(" "));
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        let _ = pipe.write_all(input.as_bytes());
    }
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (argv, out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

/// Every regular file under `dir` that holds one of `secrets`, or anything shaped like a secret.
fn files_holding(dir: &Path, secrets: &[String], found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_holding(&path, secrets, found);
        } else if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            // A known secret, or anything shaped like one: sk_ and hex, or a 64-hex-digit key.
            let shaped = text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| {
                let hex = w.strip_prefix("sk_").unwrap_or(w);
                hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())
            });
            if shaped || secrets.iter().any(|s| text.contains(s.as_str())) {
                found.push(path);
            }
        }
    }
}

#[test]
fn etctl_keeps_secrets_out_of_argv_and_stderr_and_writes_them_0600() {
    let ledger = Ledger::start();
    let home = Home::new();
    let operator = ledger.register(Some("operator"));
    let mut secrets = vec![operator.1.clone(), crate::common::MASTER_HEX.to_owned()];
    let pair = ledger.mint();
    secrets.push(pair.1.clone());

    // (args, stdin, whether stdout may carry a secret by design)
    let vendor = |home: &Home| home.vendor_cmd();
    let operator_cmd = |home: &Home| home.cmd_as(&ledger, &operator);
    let db = ledger.db.to_str().unwrap().to_owned();
    type Step<'a> = (Command, Vec<&'a str>, Option<String>, bool);
    let mut steps: Vec<Step> = vec![
        (home.cmd(), vec!["vendor", "init"], None, false),
        (vendor(&home), vec!["vendor", "instance-key", INSTANCE], None, true),
        (vendor(&home), vec!["generate", "--instance", INSTANCE], None, true),
        (vendor(&home), vec!["verify", "--instance", INSTANCE, &pair.0], Some(pair.1.clone()), false),
        (operator_cmd(&home), vec!["register", &pair.0, "--label", "svc"], Some(pair.1.clone()), false),
        (operator_cmd(&home), vec!["whoami"], None, false),
        (operator_cmd(&home), vec!["list", "--status", "all"], None, false),
        (operator_cmd(&home), vec!["show", &pair.0], None, false),
    ];
    let mut login = home.cmd();
    login.env("ETCTL_URL", &ledger.url);
    steps.push((login, vec!["login", "--api-key", &operator.0], Some(operator.1.clone()), false));
    steps.push((home.cmd(), vec!["whoami"], None, false));
    steps.push((home.cmd(), vec!["profiles"], None, false));
    steps.push((home.cmd(), vec!["revoke", &pair.0, "--yes"], None, false));
    let victim = ledger.register(Some("db victim"));
    secrets.push(victim.1.clone());
    steps.push((home.cmd(), vec!["db", "revoke", &victim.0, "--db", &db, "--yes"], None, false));
    let mut rotate = home.cmd();
    rotate.env("ETCTL_VENDOR_KEY_FILE", home.vendor_key_file());
    steps.push((rotate, vec!["rotate", "--instance", INSTANCE], None, true));

    for (cmd, args, stdin, prints_secret) in steps {
        let (argv, code, stdout, stderr) = etctl_seen(cmd, &args, stdin.as_deref());
        let context = format!("etctl {}", args.join(" "));
        assert_eq!(code, 0, "{context} failed:\n{stderr}");
        assert!(!argv.contains("sk_"), "{context}: a secret in argv: {argv}");
        for secret in &secrets {
            assert!(!argv.contains(&secret[3..]), "{context}: a secret in argv: {argv}");
        }
        assert_no_secret(&context, &stderr, &secrets);
        if !prints_secret {
            assert_no_secret(&context, &stdout, &secrets);
        } else {
            // The secrets this prints on purpose count from now on.
            for word in stdout.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
                if word.starts_with("sk_") || (word.len() == 64 && word.chars().all(|c| c.is_ascii_hexdigit())) {
                    secrets.push(word.to_owned());
                }
            }
        }
    }

    // Every file that holds a secret (vendor key, profile, rotated credential) is 0600.
    let mut found = Vec::new();
    files_holding(home.path(), &secrets, &mut found);
    assert!(found.len() >= 3, "expected both vendor keys and the profile among {found:?}");
    for file in &found {
        assert_eq!(mode(file), 0o600, "{} holds a secret and is not 0600", file.display());
    }
    eprintln!("files holding a secret, all 0600: {found:?}");
}
