//! etctl's operator workflows against a real ledgerd: register, list, show, revoke, whoami,
//! login and profiles, the precedence of flags over environment over profile, and the exit code
//! of each failure class.

use crate::common::{INSTANCE, Ledger, mint_for};
use crate::etctl_support::{Home, etctl, etctl_in, mode, redactions};

#[test]
fn generate_register_list_show_revoke_story() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("operator"));
    let home = Home::new();

    // The vendor mints a pair for this ledger's instance.
    let minted = etctl(home.vendor_cmd(), &["generate", "--instance", INSTANCE, "--json"]).ok().json();
    let key = minted[0]["api_key"].as_str().unwrap().to_owned();
    let secret = minted[0]["api_secret"].as_str().unwrap().to_owned();

    // The operator registers it, the secret on stdin.
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", &ledger.url);
    let registered = etctl_in(cmd, &["register", &key, "--label", "billing-service", "--json"], &secret).ok();
    assert_eq!(registered.json()["api_key"], key.as_str());
    assert_eq!(registered.json()["label"], "billing-service");
    assert!(!registered.stdout.contains(&secret) && !registered.stderr.contains(&secret));

    // list --json: an array of records, every page followed; never a secret.
    let list = etctl(home.cmd_as(&ledger, &operator), &["list", "--json"]).ok();
    assert_eq!(list.stderr, "");
    let records = list.json();
    let records = records.as_array().unwrap();
    assert!(records.iter().any(|r| r["api_key"] == key.as_str() && r["active"] == true));
    assert!(!list.stdout.contains("secret"));

    // show: JSON for scripts, a table for people.
    let show = etctl(home.cmd_as(&ledger, &operator), &["show", &key, "--json"]).ok().json();
    assert_eq!(show["label"], "billing-service");
    assert_eq!(show["active"], true);
    let table = etctl(home.cmd_as(&ledger, &operator), &["show", &key]).ok();
    redactions(&[]).bind(|| insta::assert_snapshot!("show_active_table", table.transcript()));

    // revoke --yes, then show says revoked, and by whom.
    let revoked = etctl(home.cmd_as(&ledger, &operator), &["revoke", &key, "--yes"]).ok();
    assert_eq!(revoked.stdout, "");
    assert!(revoked.stderr.contains(&format!("revoked {key}")), "{}", revoked.stderr);
    let show = etctl(home.cmd_as(&ledger, &operator), &["show", &key, "--json"]).ok().json();
    assert_eq!(show["active"], false);
    assert_eq!(show["revoked_by"], operator.0.as_str());
    let table = etctl(home.cmd_as(&ledger, &operator), &["show", &key]).ok();
    redactions(&[]).bind(|| insta::assert_snapshot!("show_revoked_table", table.transcript()));

    let revoked_list = etctl(home.cmd_as(&ledger, &operator), &["list", "--status", "revoked"]).ok();
    redactions(&[]).bind(|| insta::assert_snapshot!("list_revoked_table", revoked_list.transcript()));
    let active = etctl(home.cmd_as(&ledger, &operator), &["list", "--json"]).ok().json();
    assert!(active.as_array().unwrap().iter().all(|r| r["api_key"] != key.as_str()));

    // Revoking again: not found.
    etctl(home.cmd_as(&ledger, &operator), &["revoke", &key, "--yes"]).code(8);
    // Registering it again: duplicate, even though it is revoked.
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", &ledger.url);
    etctl_in(cmd, &["register", &key], &secret).code(7);
}

#[test]
fn list_follows_every_page() {
    let ledger = Ledger::start();
    let operator = ledger.register(None);
    // More than one page (1000) of credentials, inserted straight into the database for speed.
    let mut db = rusqlite::Connection::open(&ledger.db).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let tx = db.transaction().unwrap();
    for _ in 0..1004 {
        let (key, secret) = ledger.mint();
        let hash = et_core::ApiSecret::parse(&secret).unwrap().hash().to_hex();
        tx.execute(
            "INSERT INTO api_credential (api_key, api_secret_hash, label) VALUES (?1, ?2, 'bulk')",
            [&key, &hash],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let home = Home::new();
    let all = etctl(home.cmd_as(&ledger, &operator), &["list", "--json"]).ok().json();
    assert_eq!(all.as_array().unwrap().len(), 1005);
}

#[test]
fn revoke_without_a_terminal_and_without_yes_refuses_and_changes_nothing() {
    let ledger = Ledger::start();
    let operator = ledger.register(None);
    let victim = ledger.register(Some("victim"));
    let home = Home::new();
    let run = etctl(home.cmd_as(&ledger, &operator), &["revoke", &victim.0]).code(2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    redactions(&[]).bind(|| insta::assert_snapshot!("revoke_needs_yes", run.transcript()));
    ledger.client_as(&victim).whoami().expect("the credential is still active");
}

#[test]
fn register_checks_locally_before_calling_and_maps_each_refusal_to_its_exit_code() {
    let ledger = Ledger::start();
    let home = Home::new();
    let register = |key: &str, secret: &str, url: &str| {
        let mut cmd = home.cmd();
        cmd.env("ETCTL_URL", url);
        etctl_in(cmd, &["register", key], secret)
    };

    // A damaged key never reaches the network: bad input (9), not unreachable (4).
    let (key, secret) = ledger.mint();
    let damaged = format!("{}0", &key[..key.len() - 1]);
    let damaged = if damaged == key { format!("{}1", &key[..key.len() - 1]) } else { damaged };
    let run = register(&damaged, &secret, "http://127.0.0.1:9");
    let run = run.code(9);
    assert!(run.stderr.contains("checksum"), "{}", run.stderr);
    // A malformed secret too.
    register(&key, "sk_short", "http://127.0.0.1:9").code(9);

    // A pair minted for another instance: invalid credential (403 → 6).
    let foreign = mint_for("some-other-instance");
    let run = register(&foreign.0, &foreign.1, &ledger.url).code(6);
    assert!(run.stderr.starts_with("error: ") && !run.stderr.contains(&foreign.1), "{}", run.stderr);

    // The secret from ETCTL_NEW_API_SECRET when stdin is empty.
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", &ledger.url).env("ETCTL_NEW_API_SECRET", &secret);
    etctl(cmd, &["register", &key]).ok();
    // Twice: duplicate (7).
    register(&key, &secret, &ledger.url).code(7);
}

#[test]
fn failure_classes_have_their_own_exit_codes_and_one_line_messages() {
    let ledger = Ledger::start();
    let operator = ledger.register(None);
    let home = Home::new();

    // Unreachable (4): nothing listens on port 9 of loopback.
    let mut cmd = home.cmd_as(&ledger, &operator);
    cmd.env("ETCTL_URL", "http://127.0.0.1:9");
    let run = etctl(cmd, &["list"]).code(4);
    assert!(run.stderr.contains("cannot reach the ledger at http://127.0.0.1:9"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    redactions(&[]).bind(|| insta::assert_snapshot!("unreachable", run.transcript()));

    // Unauthorized (5): a wrong secret for the operator key. The secret never shows.
    let wrong = (operator.0.clone(), ledger.mint().1);
    let run = etctl(home.cmd_as(&ledger, &wrong), &["list"]).code(5);
    assert!(!run.stderr.contains(&wrong.1));
    redactions(&[]).bind(|| insta::assert_snapshot!("unauthorized", run.transcript()));

    // Not found (8).
    let unknown = ledger.mint().0;
    etctl(home.cmd_as(&ledger, &operator), &["show", &unknown]).code(8);

    // Config (3): no credential at all.
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", &ledger.url);
    let run = etctl(cmd, &["list"]).code(3);
    assert!(run.stderr.contains("etctl login"), "{}", run.stderr);
    // Config (3): half a credential.
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", &ledger.url).env("ETCTL_API_KEY", &operator.0);
    etctl(cmd, &["list"]).code(3);
    // Config (3): a URL that is not one.
    let mut cmd = home.cmd_as(&ledger, &operator);
    cmd.env("ETCTL_URL", "ftp://example");
    etctl(cmd, &["list"]).code(3);

    // Usage (2): clap's own errors.
    etctl(home.cmd(), &["list", "--status", "sideways"]).code(2);
    etctl(home.cmd(), &["frobnicate"]).code(2);

    // whoami: stdout is data, stderr is empty.
    let me = etctl(home.cmd_as(&ledger, &operator), &["whoami", "--json"]).ok();
    assert_eq!(me.stderr, "");
    assert_eq!(me.json()["api_key"], operator.0.as_str());
}

#[test]
fn login_saves_a_profile_that_later_commands_use() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let home = Home::new();

    // A wrong secret is refused by the ledger and nothing is saved.
    let mut cmd = home.cmd();
    cmd.args(["--url", &ledger.url]);
    etctl_in(cmd, &["login", "--api-key", &operator.0], &ledger.mint().1).code(5);
    assert!(!home.path().join(".config/etctl/profiles.json").exists());

    let mut cmd = home.cmd();
    cmd.args(["--url", &ledger.url]);
    let run = etctl_in(cmd, &["login", "--api-key", &operator.0], &operator.1).ok();
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("profile \"default\""), "{}", run.stderr);
    let file = home.path().join(".config/etctl/profiles.json");
    assert_eq!(mode(&file), 0o600, "the profile holds a secret (no keyring here)");

    // No URL, no credential in the environment: the default profile answers.
    let me = etctl(home.cmd(), &["whoami"]).ok();
    assert_eq!(me.stdout, format!("{}\tops\n", operator.0));
    etctl(home.cmd(), &["list", "--json"]).ok();

    let profiles = etctl(home.cmd(), &["profiles", "--json"]).ok().json();
    assert_eq!(profiles[0]["name"], "default");
    assert_eq!(profiles[0]["secret_in"], "file");
    assert_eq!(profiles[0]["selected"], true);
    assert!(!etctl(home.cmd(), &["profiles"]).ok().stdout.contains(&operator.1));

    // A named profile, through ETCTL_API_KEY / ETCTL_API_SECRET and ETCTL_PROFILE.
    let second = ledger.register(Some("second"));
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", &ledger.url).env("ETCTL_API_KEY", &second.0).env("ETCTL_API_SECRET", &second.1);
    etctl(cmd, &["--profile", "two", "login"]).ok();
    let mut cmd = home.cmd();
    cmd.env("ETCTL_PROFILE", "two");
    assert!(etctl(cmd, &["whoami"]).ok().stdout.starts_with(&second.0));

    // An unknown profile is a config error.
    etctl(home.cmd(), &["--profile", "nope", "whoami"]).code(3);

    // logout forgets it.
    etctl(home.cmd(), &["--profile", "two", "logout"]).ok();
    etctl(home.cmd(), &["--profile", "two", "whoami"]).code(3);
    etctl(home.cmd(), &["--profile", "two", "logout"]).code(3);
}

#[test]
fn flags_beat_environment_beat_profile() {
    let ledger = Ledger::start();
    let saved = ledger.register(Some("saved"));
    let from_env = ledger.register(Some("from-env"));
    let home = Home::new();
    let mut cmd = home.cmd();
    cmd.args(["--url", &ledger.url]);
    etctl_in(cmd, &["login", "--api-key", &saved.0], &saved.1).ok();
    let who = |cmd: std::process::Command, args: &[&str]| {
        let mut all = args.to_vec();
        all.push("whoami");
        etctl(cmd, &all)
    };

    // Environment over the (default) profile: credential and URL.
    let mut cmd = home.cmd();
    cmd.env("ETCTL_API_KEY", &from_env.0).env("ETCTL_API_SECRET", &from_env.1);
    assert!(who(cmd, &[]).ok().stdout.starts_with(&from_env.0));
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", "http://127.0.0.1:9");
    who(cmd, &[]).code(4);

    // An explicit --profile flag over the environment.
    let mut cmd = home.cmd();
    cmd.env("ETCTL_API_KEY", &from_env.0).env("ETCTL_API_SECRET", &from_env.1).env("ETCTL_URL", "http://127.0.0.1:9");
    assert!(who(cmd, &["--profile", "default"]).ok().stdout.starts_with(&saved.0));

    // --url over everything.
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", &ledger.url);
    who(cmd, &["--url", "http://127.0.0.1:9"]).code(4);
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", "http://127.0.0.1:9");
    assert!(who(cmd, &["--url", &ledger.url]).ok().stdout.starts_with(&saved.0));
}
