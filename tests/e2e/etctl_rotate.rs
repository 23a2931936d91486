//! `etctl rotate`: register a new pair, prove it, switch the profile, revoke the old one — from a
//! profile, from the environment, from a shell script, and stopping cleanly when a step fails.

use std::process::Command;

use crate::common::{INSTANCE, Ledger, mint_for};
use crate::etctl_support::{Home, etctl, etctl_in, redactions};

fn login(home: &Home, ledger: &Ledger, pair: &(String, String)) {
    let mut cmd = home.cmd();
    cmd.args(["--url", &ledger.url]);
    etctl_in(cmd, &["login", "--api-key", &pair.0], &pair.1).ok();
}

#[test]
fn rotate_a_profile_credential_to_a_minted_pair() {
    let ledger = Ledger::start();
    let old = ledger.register(Some("deploy-bot"));
    let home = Home::new();
    login(&home, &ledger, &old);

    let run = etctl(home.vendor_cmd(), &["rotate", "--instance", INSTANCE, "--json"]).ok();
    let out = run.json();
    assert_eq!(out["old_api_key"], old.0.as_str());
    let new_key = out["new_api_key"].as_str().unwrap().to_owned();
    let new_secret = out["new_api_secret"].as_str().expect("a minted secret is in the output").to_owned();
    assert_eq!(out["profile"], "default");
    assert_eq!(out["label"], "deploy-bot", "the label carries over");
    assert_eq!(
        out["steps"],
        serde_json::json!({"registered": true, "verified": true, "profile_switched": true, "old_revoked": true, "old_expiry_set": false})
    );
    assert_eq!(out["old_expires_at"], serde_json::Value::Null, "revoked at once, not expiring");
    for step in ["1/4", "2/4", "3/4", "4/4"] {
        assert!(run.stderr.contains(step), "{}", run.stderr);
    }

    // The profile now uses the new credential; the old one is refused.
    assert!(etctl(home.cmd(), &["whoami"]).ok().stdout.starts_with(&new_key));
    assert!(ledger.client_as(&old).whoami().is_err());
    ledger.client_as(&(new_key.clone(), new_secret)).whoami().unwrap();
    let record = etctl(home.cmd(), &["show", &old.0, "--json"]).ok().json();
    assert_eq!(record["active"], false);
    assert_eq!(record["revoked_by"], new_key.as_str(), "the new credential revoked the old one");
}

#[test]
fn rotate_an_environment_credential_to_a_given_pair() {
    let ledger = Ledger::start();
    let old = ledger.register(None);
    let new = ledger.mint();
    let home = Home::new();

    let run = etctl_in(home.cmd_as(&ledger, &old), &["rotate", "--new-key", &new.0, "--format", "env"], &new.1).ok();
    assert_eq!(run.stdout, format!("export ETCTL_API_KEY={}\nexport ETCTL_API_SECRET={}\n", new.0, new.1));
    assert!(run.stderr.contains("ETCTL_API_KEY/ETCTL_API_SECRET"), "{}", run.stderr);
    assert!(ledger.client_as(&old).whoami().is_err());
    ledger.client_as(&new).whoami().unwrap();

    // --json with a given pair carries no secret (the caller has it already).
    let newer = ledger.mint();
    let out = etctl_in(home.cmd_as(&ledger, &new), &["rotate", "--new-key", &newer.0, "--json"], &newer.1).ok().json();
    assert!(out.get("new_api_secret").is_none());
    assert_eq!(out["steps"]["profile_switched"], serde_json::Value::Null);
}

#[test]
fn a_failed_rotation_stops_changes_nothing_more_and_says_what_happened() {
    let ledger = Ledger::start();
    let old = ledger.register(None);
    let home = Home::new();

    // A pair for another instance: the ledger refuses to register it (403 → 6); nothing changed.
    let foreign = mint_for("elsewhere");
    let run = etctl_in(home.cmd_as(&ledger, &old), &["rotate", "--new-key", &foreign.0], &foreign.1).code(6);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    ledger.client_as(&old).whoami().expect("the old credential still works");
    redactions(&[]).bind(|| insta::assert_snapshot!("rotate_step1_refused", run.transcript()));

    // No new pair given and no vendor key to mint one for the ledger's instance: say how to get one.
    let run = etctl(home.cmd_as(&ledger, &old), &["rotate"]).code(3);
    assert!(run.stderr.contains("vendor"), "{}", run.stderr);
    ledger.client_as(&old).whoami().expect("the old credential still works");

    // A broken current credential: stop before registering anything.
    let wrong = (old.0.clone(), ledger.mint().1);
    let new = ledger.mint();
    let run = etctl_in(home.cmd_as(&ledger, &wrong), &["rotate", "--new-key", &new.0], &new.1).code(5);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(
        ledger.client_as(&old).get(&new.0).unwrap_err().code(),
        Some(et_api::ErrorCode::CredentialNotFound),
        "the new pair was not registered"
    );
}

/// What an operator's cron job would do: rotate the service credential with etctl alone, no
/// terminal, no jq, no secret on any command line.
const ROTATE_SCRIPT: &str = r#"#!/usr/bin/env bash
set -euo pipefail
# Given: ETCTL_URL, ETCTL_API_KEY, ETCTL_API_SECRET (the credential to rotate) and
# ETCTL_VENDOR_KEY_FILE, all exported.
old="$ETCTL_API_KEY"
old_secret="$ETCTL_API_SECRET"
# rotate prints the new pair as `export ETCTL_API_KEY=…` lines, so every later command sees it;
# the instance is the one the ledger reports.
eval "$(etctl rotate --format env)"
test "$ETCTL_API_KEY" != "$old"
# The new credential works, and the old one is revoked.
test "$(etctl whoami | cut -f1)" = "$ETCTL_API_KEY"
etctl list --status revoked --json | grep -q "\"api_key\": \"$old\""
if ETCTL_API_KEY="$old" ETCTL_API_SECRET="$old_secret" etctl whoami 2>/dev/null; then
    echo "the old key still authenticates" >&2
    exit 1
fi
echo "$ETCTL_API_KEY"
"#;

#[test]
fn a_shell_script_rotates_a_credential_non_interactively() {
    let ledger = Ledger::start();
    let old = ledger.register(Some("cron"));
    let home = Home::new();
    let script = home.path().join("rotate.sh");
    std::fs::write(&script, ROTATE_SCRIPT).unwrap();
    let etctl_dir = std::path::Path::new(env!("CARGO_BIN_EXE_etctl")).parent().unwrap().to_owned();
    let path = format!("{}:{}", etctl_dir.display(), std::env::var("PATH").unwrap_or_default());

    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("ETCTL_KEYRING", "off")
        .env("NO_COLOR", "1")
        .env("ETCTL_URL", &ledger.url)
        .env("ETCTL_API_KEY", &old.0)
        .env("ETCTL_API_SECRET", &old.1)
        .env("ETCTL_VENDOR_KEY_FILE", home.vendor_key_file())
        .env("INSTANCE", INSTANCE)
        .stdin(std::process::Stdio::null());
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the rotation script failed:\n{stderr}");
    let new_key = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_ne!(new_key, old.0);
    assert!(ledger.client_as(&old).whoami().is_err(), "the old credential is revoked");
}
