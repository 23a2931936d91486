//! `etctl db`: the on-call path when the API is down or unreachable. Revoking in the database
//! while ledgerd runs is refused by it within a second, and audited with who and why.

use std::time::Duration;

use crate::common::{Ledger, time_until};
use crate::etctl_support::{Home, etctl, redactions};

#[test]
fn db_revoke_against_a_running_ledger_is_refused_within_a_second_and_audited() {
    let ledger = Ledger::start();
    let victim = ledger.register(Some("leaked"));
    let client = ledger.client_as(&victim);
    client.whoami().expect("active before");
    let home = Home::new();
    let db = ledger.db.to_str().unwrap();

    // --dry-run changes nothing.
    let dry = etctl(home.cmd(), &["db", "revoke", &victim.0, "--db", db, "--dry-run"]).ok();
    assert!(dry.stderr.contains("dry run"), "{}", dry.stderr);
    client.whoami().expect("a dry run revokes nothing");

    // No terminal and no --yes: refused, nothing changed.
    let refused = etctl(home.cmd(), &["db", "revoke", &victim.0, "--db", db]).code(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    client.whoami().expect("a refused revoke revokes nothing");

    // Under sudo, the user behind it is the operator (USER is root's there).
    let mut cmd = home.cmd();
    cmd.env("SUDO_USER", "oncall").env("USER", "root");
    let run = etctl(cmd, &["db", "revoke", &victim.0, "--db", db, "--reason", "key leaked in a log", "--yes"]).ok();
    assert_eq!(run.stdout, "");
    let took = time_until(Duration::from_secs(3), || client.whoami().is_err())
        .expect("ledgerd kept accepting a credential revoked in its database");
    assert!(took <= Duration::from_secs(1), "refused only after {took:?}");
    let error = client.whoami().unwrap_err();
    assert_eq!(error.code(), Some(et_api::ErrorCode::Unauthorized));

    // The record and the audit trail say it was done in the database, by whom, and why.
    let conn = rusqlite::Connection::open(&ledger.db).unwrap();
    let (revoked_by, active): (String, i64) = conn
        .query_row("SELECT revoked_by, active FROM api_credential WHERE api_key = ?1", [&victim.0], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((revoked_by.as_str(), active), ("db", 0));
    let (actor, reason): (String, String) = conn
        .query_row(
            "SELECT actor, reason FROM credential_audit WHERE api_key = ?1 AND action = 'revoke'",
            [&victim.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(actor, "db");
    assert!(reason.contains("key leaked in a log") && reason.contains("by oncall@"), "{reason}");

    // Again: already revoked is "not found" (8), and says so.
    let again = etctl(home.cmd(), &["db", "revoke", &victim.0, "--db", db, "--yes"]).code(8);
    assert!(again.stderr.contains("already revoked"), "{}", again.stderr);
    // An unknown key: 8 as well.
    etctl(home.cmd(), &["db", "revoke", &ledger.mint().0, "--db", db, "--yes"]).code(8);
}

#[test]
fn db_list_reads_the_database_while_the_ledger_runs() {
    let ledger = Ledger::start();
    let a = ledger.register(Some("alpha"));
    let b = ledger.register(Some("beta"));
    let home = Home::new();
    let mut cmd = home.cmd();
    cmd.env("ETCTL_DB", &ledger.db);
    let listed = etctl(cmd, &["db", "list", "--json"]).ok().json();
    let keys: Vec<&str> = listed.as_array().unwrap().iter().map(|r| r["api_key"].as_str().unwrap()).collect();
    assert_eq!(keys, [a.0.as_str(), b.0.as_str()]);

    let mut cmd = home.cmd();
    cmd.env("ETCTL_DB", &ledger.db).env("USER", "oncall");
    etctl(cmd, &["db", "revoke", &b.0, "--yes"]).ok();
    let mut cmd = home.cmd();
    cmd.env("ETCTL_DB", &ledger.db);
    let table = etctl(cmd, &["db", "list", "--status", "revoked"]).ok();
    redactions(&[]).bind(|| insta::assert_snapshot!("db_list_revoked_table", table.transcript()));
}

#[test]
fn a_wrong_database_path_is_bad_input_and_creates_nothing() {
    let home = Home::new();
    let missing = home.path().join("no-such.db");
    let run = etctl(home.cmd(), &["db", "list", "--db", missing.to_str().unwrap()]).code(9);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(!missing.exists(), "etctl db must never create a database");
    let key = crate::common::mint_for("x").0;
    etctl(home.cmd(), &["db", "revoke", &key, "--db", missing.to_str().unwrap(), "--yes"]).code(9);
    assert!(!missing.exists());

    // A file that is not a ledger database is named as such.
    let other = home.path().join("notes.txt");
    std::fs::write(&other, "shopping list\n").unwrap();
    let run = etctl(home.cmd(), &["db", "list", "--db", other.to_str().unwrap()]).code(9);
    assert!(run.stderr.contains("is not a ledger database"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "shopping list\n", "and left untouched");

    // No database given at all: config.
    let run = etctl(home.cmd(), &["db", "list"]).code(3);
    assert!(run.stderr.contains("ETCTL_DB"), "{}", run.stderr);
}

#[test]
fn db_audit_shows_every_register_update_and_revoke_with_its_actor_newest_first() {
    let ledger = Ledger::start();
    let a = ledger.register(Some("alpha"));
    let b = ledger.register(Some("beta"));
    ledger.client_as(&a).revoke(&b.0).expect("a revokes b through the API");
    crate::hand_sql::sqlite3_ok(
        &ledger.db,
        &format!("UPDATE api_credential SET expires_at = '2030-01-01T00:00:00Z' WHERE api_key = '{}'", a.0),
    );
    let home = Home::new();
    let db = ledger.db.to_str().unwrap();

    let events = etctl(home.cmd(), &["db", "audit", "--db", db, "--json"]).ok().json();
    let rows: Vec<(&str, &str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["api_key"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("update", a.0.as_str(), "db"),
            ("revoke", b.0.as_str(), a.0.as_str()),
            ("register", b.0.as_str(), "api"),
            ("register", a.0.as_str(), "api"),
        ]
    );
    assert_eq!(
        events[0]["changes"],
        serde_json::json!({"expires_at": {"from": null, "to": "2030-01-01T00:00:00.000Z"}})
    );
    assert!(events[1]["changes"].is_null());

    // One credential's trail, and the newest N.
    let of_b = etctl(home.cmd(), &["db", "audit", &b.0, "--db", db, "--json"]).ok().json();
    assert_eq!(of_b.as_array().unwrap().len(), 2);
    let newest = etctl(home.cmd(), &["db", "audit", "--db", db, "--json", "--limit", "1"]).ok().json();
    assert_eq!(newest.as_array().unwrap().len(), 1);
    assert_eq!(newest[0]["action"], "update");

    // The table: one row per event, the change spelled out.
    let table = etctl(home.cmd(), &["db", "audit", &a.0, "--db", db]).ok();
    assert!(table.stdout.contains("expires_at: never → 2030-01-01 00:00:00"), "{}", table.stdout);
    assert!(table.stdout.contains("register") && !table.stdout.contains("API KEY"), "{}", table.stdout);
    let mut cmd = home.cmd();
    cmd.env("COLUMNS", "80");
    let narrow = etctl(cmd, &["db", "audit", "--db", db]).ok();
    assert!(narrow.stdout.lines().all(|l| l.chars().count() <= 80), "{}", narrow.stdout);
    assert!(narrow.stdout.contains(&a.0) && narrow.stdout.contains(&b.0), "a key broke:\n{}", narrow.stdout);

    // Nothing for a key that has no events; a malformed key and no database are clear errors.
    let none = etctl(home.cmd(), &["db", "audit", &ledger.mint().0, "--db", db]).ok();
    assert!(none.stdout.is_empty() && none.stderr.contains("no audit events for"), "{}", none.stderr);
    let bad = etctl(home.cmd(), &["db", "audit", "ak_nope", "--db", db]).code(9);
    assert!(!bad.stderr.is_empty());
    let missing = etctl(home.cmd(), &["db", "audit"]).code(3);
    assert!(missing.stderr.contains("--db"), "{}", missing.stderr);
    etctl(home.cmd(), &["db", "audit", "--db", db, "--limit", "0"]).code(2);
}
