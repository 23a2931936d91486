//! Issue 8 through etctl and the API of SPEC §6 (server slice S3: PATCH, GET /audit, the
//! registration options): a credential's limits set by `register` and `update`, `rotate --grace`,
//! `list --status expired`, `audit`, and the exit codes of the refusals (EXIT_CODES.md). Real
//! ledgerd, real etctl; expiry is waited for by polling with generous deadlines, never timed.

use std::time::Duration;

use et_api::ErrorCode;
use et_api::client::ClientError;

use crate::common::{Ledger, LedgerOptions, time_until};
use crate::etctl_support::{Home, etctl, etctl_in};

/// Long enough for any expiry these tests set to pass on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(60);

fn refused_with(result: Result<impl std::fmt::Debug, ClientError>, code: ErrorCode) -> String {
    match result {
        Err(ClientError::Api { body, .. }) if body.code == code => body.message,
        other => panic!("expected {code}, got {other:?}"),
    }
}

fn keys(home: &Home, ledger: &Ledger, operator: &(String, String), status: &str) -> Vec<String> {
    let run = etctl(home.cmd_as(ledger, operator), &["list", "--status", status, "-q"]).ok();
    run.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn rotate_with_grace_leaves_the_old_credential_working_then_refused() {
    let ledger = Ledger::start();
    let old = ledger.register(Some("deploy-bot"));
    let new = ledger.mint();
    let home = Home::new();

    let run =
        etctl_in(home.cmd_as(&ledger, &old), &["rotate", "--new-key", &new.0, "--grace", "5s", "--json"], &new.1).ok();
    let out = run.json();
    assert_eq!(out["steps"]["old_revoked"], false, "{}", run.transcript());
    assert_eq!(out["steps"]["old_expiry_set"], true, "{}", run.transcript());
    let expires = out["old_expires_at"].as_str().expect("the JSON says when the old credential expires").to_owned();
    assert!(run.stderr.contains("keeps working for 5s more"), "{}", run.stderr);

    // Right after the rotation the old credential still works, and is active, not revoked.
    ledger.client_as(&old).whoami().expect("the old credential works during the grace");
    let record = etctl(home.cmd_as(&ledger, &new), &["show", &old.0, "--json"]).ok().json();
    assert_eq!((record["status"].as_str(), record["active"].as_bool()), (Some("active"), Some(true)));
    assert_eq!(record["expires_at"], expires.as_str());
    ledger.client_as(&new).whoami().expect("the new credential works");

    // Then it is refused (401), and listed as expired, never as revoked.
    let refused = time_until(DEADLINE, || ledger.client_as(&old).whoami().is_err());
    assert!(refused.is_some(), "the old credential still works long after {expires}");
    refused_with(ledger.client_as(&old).whoami(), ErrorCode::Unauthorized);
    assert!(keys(&home, &ledger, &new, "expired").contains(&old.0));
    assert!(!keys(&home, &ledger, &new, "revoked").contains(&old.0));
    ledger.client_as(&new).whoami().expect("the new credential still works");
}

#[test]
fn rotate_keeps_the_old_limits_and_needs_credentials_write() {
    let ledger = Ledger::start();
    let operator = ledger.register(None);
    let home = Home::new();
    let scoped = ledger.mint();
    let args = ["register", &scoped.0, "--scope", "accounts:read,credentials:write", "--rate-limit", "50/1m"];
    etctl_in(home.cmd_as(&ledger, &operator), &args, &scoped.1).ok();

    let new = ledger.mint();
    let out = etctl_in(home.cmd_as(&ledger, &scoped), &["rotate", "--new-key", &new.0, "--json"], &new.1).ok().json();
    assert_eq!(out["steps"]["old_revoked"], true);
    let record = etctl(home.cmd_as(&ledger, &operator), &["show", &new.0, "--json"]).ok().json();
    assert_eq!(record["scopes"], serde_json::json!(["accounts:read", "credentials:write"]), "no scope was widened");
    assert_eq!(record["rate_limit"], serde_json::json!({"limit": 50, "window_s": 60}));

    // A credential that cannot end itself is not rotated at all: nothing is registered.
    let reader = ledger.mint();
    etctl_in(home.cmd_as(&ledger, &operator), &["register", &reader.0, "--scope", "accounts:read"], &reader.1).ok();
    let before = keys(&home, &ledger, &operator, "all").len();
    let newer = ledger.mint();
    let run = etctl_in(home.cmd_as(&ledger, &reader), &["rotate", "--new-key", &newer.0], &newer.1).code(11);
    assert!(run.stderr.contains("credentials:write") && run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(keys(&home, &ledger, &operator, "all").len(), before);
}

#[test]
fn update_to_read_only_then_a_write_is_forbidden_naming_the_scope() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let monitoring = ledger.register(Some("monitoring"));
    let home = Home::new();

    let record =
        etctl(home.cmd_as(&ledger, &operator), &["update", &monitoring.0, "--scope", "accounts:read", "--json"])
            .ok()
            .json();
    assert_eq!(record["scopes"], serde_json::json!(["accounts:read"]));
    assert_eq!(record["label"], "monitoring", "what was not given is unchanged");

    // Reads it may do; a write through the API is 403 FORBIDDEN naming the scope.
    ledger.client_as(&monitoring).list_accounts().expect("accounts:read still reads");
    let message = refused_with(ledger.client_as(&monitoring).create_account("x"), ErrorCode::Forbidden);
    assert!(message.contains("accounts:write"), "{message}");

    // Through etctl: exit 11 (EXIT_CODES.md), the message names the scope; nothing was revoked.
    let run = etctl(home.cmd_as(&ledger, &monitoring), &["revoke", &operator.0, "--yes"]).code(11);
    assert!(run.stderr.contains("FORBIDDEN") && run.stderr.contains("credentials:write"), "{}", run.stderr);
    ledger.client_as(&operator).whoami().expect("not revoked");
    let run = etctl(home.cmd_as(&ledger, &monitoring), &["list"]).code(11);
    assert!(run.stderr.contains("credentials:read"), "{}", run.stderr);
}

#[test]
fn list_status_expired_lists_a_credential_registered_to_expire() {
    let ledger = Ledger::start();
    let operator = ledger.register(None);
    let brief = ledger.mint();
    let home = Home::new();

    let run =
        etctl_in(home.cmd_as(&ledger, &operator), &["register", &brief.0, "--expires-in", "2s", "--json"], &brief.1)
            .ok();
    assert!(run.json()["expires_at"].is_string(), "{}", run.transcript());

    let expired = time_until(DEADLINE, || keys(&home, &ledger, &operator, "expired").contains(&brief.0));
    assert!(expired.is_some(), "never listed as expired");
    refused_with(ledger.client_as(&brief).whoami(), ErrorCode::Unauthorized);
    assert!(!keys(&home, &ledger, &operator, "active").contains(&brief.0));
    assert!(keys(&home, &ledger, &operator, "all").contains(&brief.0));
    let all = etctl(home.cmd_as(&ledger, &operator), &["list", "--status", "all"]).ok();
    assert!(all.stdout.contains("expired"), "{}", all.stdout);
}

#[test]
fn audit_shows_register_update_and_revoke_with_their_actors() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let victim = ledger.mint();
    let home = Home::new();
    etctl_in(home.cmd_as(&ledger, &operator), &["register", &victim.0, "--label", "ci"], &victim.1).ok();
    let args = ["update", &victim.0, "--label", "ci-east", "--rate-limit", "10/1s", "--allow-ip", "127.0.0.1"];
    etctl(home.cmd_as(&ledger, &operator), &args).ok();
    etctl(home.cmd_as(&ledger, &operator), &["revoke", &victim.0, "--yes"]).ok();

    let events = etctl(home.cmd_as(&ledger, &operator), &["audit", &victim.0, "--json"]).ok().json();
    let events = events.as_array().unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["revoke", "update", "register"], "newest first: {events:?}");
    assert!(events.iter().all(|e| e["api_key"] == victim.0.as_str()));
    assert_eq!(events[0]["actor"], operator.0.as_str());
    assert_eq!(events[1]["actor"], operator.0.as_str());
    assert_eq!(events[1]["changes"]["label"], serde_json::json!({"from": "ci", "to": "ci-east"}));
    assert_eq!(events[1]["changes"]["rate_limit"]["to"], serde_json::json!({"limit": 10, "window_s": 1}));

    let table = etctl(home.cmd_as(&ledger, &operator), &["audit", &victim.0]).ok();
    for shown in ["register", "update", "revoke", operator.0.as_str(), "10 per 1s"] {
        assert!(table.stdout.contains(shown), "{shown} missing:\n{}", table.stdout);
    }
    let newest = etctl(home.cmd_as(&ledger, &operator), &["audit", "--limit", "1", "--json"]).ok().json();
    assert_eq!(newest.as_array().unwrap().len(), 1);
    assert_eq!(newest[0]["action"], "revoke");
    // Every credential's trail holds the operator's own registration too.
    let all = etctl(home.cmd_as(&ledger, &operator), &["audit", "--json"]).ok().json();
    assert!(all.as_array().unwrap().iter().any(|e| e["api_key"] == operator.0.as_str()));
}

#[test]
fn register_sets_every_limit_and_update_lifts_them() {
    let ledger = Ledger::start();
    let operator = ledger.register(None);
    let pair = ledger.mint();
    let home = Home::new();
    let args = [
        "register",
        &pair.0,
        "--scope",
        "credentials:read",
        "--scope",
        "accounts:read",
        "--allow-ip",
        "127.0.0.1",
        "--allow-ip",
        "10.0.0.0/8",
        "--expires-at",
        "2099-01-01T00:00:00+02:00",
        "--rate-limit",
        "100/1m",
        "--json",
    ];
    let record = etctl_in(home.cmd_as(&ledger, &operator), &args, &pair.1).ok().json();
    assert_eq!(record["scopes"], serde_json::json!(["accounts:read", "credentials:read"]));
    assert_eq!(record["allowed_ips"], serde_json::json!(["127.0.0.1/32", "10.0.0.0/8"]));
    assert_eq!(record["expires_at"], "2098-12-31T22:00:00.000Z");
    assert_eq!(record["rate_limit"], serde_json::json!({"limit": 100, "window_s": 60}));
    ledger.client_as(&pair).list_accounts().expect("usable from 127.0.0.1");

    let show = etctl(home.cmd_as(&ledger, &operator), &["show", &pair.0]).ok();
    for shown in ["2098-12-31 22:00:00", "accounts:read", "credentials:read", "10.0.0.0/8", "100 per 1m"] {
        assert!(show.stdout.contains(shown), "{shown} missing:\n{}", show.stdout);
    }

    let args = ["update", &pair.0, "--allow-ip", "any", "--no-expiry", "--no-rate-limit", "--label", "", "--json"];
    let record = etctl(home.cmd_as(&ledger, &operator), &args).ok().json();
    assert_eq!(record["allowed_ips"], serde_json::json!([]));
    assert_eq!(record["expires_at"], serde_json::Value::Null);
    assert_eq!(record["rate_limit"], serde_json::Value::Null);
    assert_eq!(record["scopes"], serde_json::json!(["accounts:read", "credentials:read"]), "unchanged");

    // Nothing to change is a usage error naming the flags, and calls nobody.
    let mut cmd = home.cmd_as(&ledger, &operator);
    cmd.env("ETCTL_URL", "http://127.0.0.1:9");
    let run = etctl(cmd, &["update", &pair.0]).code(2);
    assert!(run.stderr.contains("--scope") && run.stderr.contains("--no-rate-limit"), "{}", run.stderr);
    // A time in the past is refused before any call.
    let run = etctl(home.cmd_as(&ledger, &operator), &["update", &pair.0, "--expires-at", "2001-01-01T00:00:00Z"]);
    assert!(run.code(2).stderr.contains("in the past"));
    // An unknown key is 8; a revoked one cannot be changed either.
    etctl(home.cmd_as(&ledger, &operator), &["update", &ledger.mint().0, "--label", "x"]).code(8);
}

#[test]
fn an_address_outside_the_allowlist_and_the_credential_limit_have_their_exit_codes() {
    let ledger = Ledger::start_with(LedgerOptions {
        env: vec![("LEDGERD_MAX_ACTIVE_CREDENTIALS".into(), "2".into())],
        ..LedgerOptions::default()
    });
    let operator = ledger.register(None);
    let elsewhere = ledger.register(Some("elsewhere"));
    let home = Home::new();
    etctl(home.cmd_as(&ledger, &operator), &["update", &elsewhere.0, "--allow-ip", "127.0.0.2"]).ok();
    let run = etctl(home.cmd_as(&ledger, &elsewhere), &["whoami"]).code(12);
    assert!(run.stderr.contains("IP_NOT_ALLOWED"), "{}", run.stderr);

    let third = ledger.mint();
    let run = etctl_in(home.cmd_as(&ledger, &operator), &["register", &third.0], &third.1).code(13);
    assert!(run.stderr.contains("LEDGERD_MAX_ACTIVE_CREDENTIALS"), "{}", run.stderr);
}

#[test]
fn a_grace_never_lengthens_the_old_credentials_life() {
    let ledger = Ledger::start();
    let operator = ledger.register(None);
    let old = ledger.mint();
    let home = Home::new();
    let record =
        etctl_in(home.cmd_as(&ledger, &operator), &["register", &old.0, "--expires-in", "1h", "--json"], &old.1)
            .ok()
            .json();
    let new = ledger.mint();
    let args = ["rotate", "--new-key", &new.0, "--grace", "2h", "--json"];
    let run = etctl_in(home.cmd_as(&ledger, &old), &args, &new.1).ok();
    let out = run.json();
    assert_eq!(out["old_expires_at"], record["expires_at"], "{}", run.transcript());
    assert_eq!(out["steps"]["old_expiry_set"], false);
    assert!(run.stderr.contains("within the grace"), "{}", run.stderr);
    let now = etctl(home.cmd_as(&ledger, &new), &["show", &old.0, "--json"]).ok().json();
    assert_eq!(now["expires_at"], record["expires_at"]);
}
