//! `etctl db`: list and revoke straight in ledgerd's SQLite file or PostgreSQL database, through the same store crate
//! ledgerd uses, so the schema's rules and the audit trail apply. Works while ledgerd runs (WAL
//! and a busy timeout) and never creates a file.

use std::path::PathBuf;

use et_core::ApiKey;
use et_store::{CredentialStore, OpenMode, PgStore, SqliteStore};

use crate::cli::{DbArg, DbAuditArgs, DbListArgs, DbRevokeArgs};
use crate::exit::{Class, Failure, Outcome};
use crate::output::note;
use crate::{input, status_filter};

/// `revoked_by` of a revocation made in the database (SPEC §3); who did it goes in the reason.
const REVOKED_BY: &str = "db";

fn db_path(arg: &DbArg) -> Result<PathBuf, Failure> {
    arg.db.clone().ok_or_else(|| {
        Failure::config("no database given: pass --db PATH or set ETCTL_DB to the ledger's SQLite file (LEDGERD_DB)")
    })
}

/// The store at `--db` (a SQLite file, or a PostgreSQL URL: SPEC §7), and how to name it in
/// messages (never with a password).
fn open(arg: &DbArg) -> Result<(Box<dyn CredentialStore>, String), Failure> {
    let path = db_path(arg)?;
    if let Some(url) = path.to_str().filter(|p| et_store::is_postgres_url(p)) {
        let store = PgStore::open(url, OpenMode::MustExist).map_err(Failure::from_store)?;
        return Ok((Box::new(store), et_store::url_shown(url)));
    }
    let store = SqliteStore::open(&path, OpenMode::MustExist).map_err(Failure::from_store)?;
    Ok((Box::new(store), path.display().to_string()))
}

/// `user@host` of whoever runs etctl, for the audit trail: the user behind `sudo` (`SUDO_USER`)
/// first, then the name of the real uid, then `USER`/`LOGNAME`; the uid's number if all fail.
pub fn operator() -> String {
    let user = std::env::var("SUDO_USER")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(uid_name)
        .or_else(|| {
            ["USER", "LOGNAME", "USERNAME"].iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        })
        .unwrap_or_else(|| format!("uid {}", rustix::process::getuid().as_raw()));
    let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    format!("{}@{host}", user.trim())
}

/// The name of the real uid in /etc/passwd (a directory service's users are not found there, and
/// then `USER` is the next best).
fn uid_name() -> Option<String> {
    let uid = rustix::process::getuid().as_raw().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

/// `etctl db list`.
pub fn list(args: &DbListArgs) -> Outcome {
    let (store, _) = open(&args.db)?;
    let status = status_filter(args.filter.status);
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (page, next) = store.list(status, et_api::MAX_PAGE_LIMIT, after.as_deref()).map_err(Failure::from_store)?;
        all.extend(page);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    crate::api::print_records(all, &args.filter)
}

/// `etctl db audit`: the trail newest first, read a page at a time.
pub fn audit(args: &DbAuditArgs) -> Outcome {
    let key =
        args.api_key.as_deref().map(|k| ApiKey::parse(k).map_err(|e| Failure::bad_input(e.to_string()))).transpose()?;
    let (store, _) = open(&args.db)?;
    let want = args.limit.map_or(usize::MAX, |n| n as usize);
    let mut events = Vec::new();
    let mut after = None;
    while events.len() < want {
        let page = (want - events.len()).min(et_api::MAX_PAGE_LIMIT as usize) as u32;
        let (got, next) =
            store.audit_page(key.as_ref().map(ApiKey::as_str), page, after).map_err(Failure::from_store)?;
        events.extend(got);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    crate::api::print_audit(&events, key.as_ref().map(ApiKey::as_str), args.json)
}

/// `etctl db revoke`.
pub fn revoke(args: &DbRevokeArgs) -> Outcome {
    let key = ApiKey::parse(&args.api_key).map_err(|e| Failure::bad_input(e.to_string()))?;
    let (store, shown) = open(&args.db)?;
    let record = store.get(key.as_str()).map_err(Failure::from_store)?.ok_or_else(|| {
        Failure::new(
            Class::NotFound,
            format!("there is no credential {key} in {shown}; check the key and the database"),
        )
    })?;
    if !record.active {
        return Err(Failure::new(
            Class::NotFound,
            format!(
                "{key} is already revoked (by {}, at {}); nothing to do",
                record.revoked_by.as_deref().unwrap_or("?"),
                record.revoked_at.as_deref().unwrap_or("?")
            ),
        ));
    }
    let reason = format!(
        "{}; by {} with etctl db revoke",
        args.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).unwrap_or("no reason given"),
        operator()
    );
    let label = record.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
    if args.dry_run {
        note(&format!(
            "dry run: would revoke {key}{label} in {shown}, audited as revoked_by \"{REVOKED_BY}\" with reason \"{reason}\"; nothing was changed"
        ));
        return Ok(());
    }
    input::confirm(
        &format!("Revoke {key}{label} in {shown}? It can never be reactivated."),
        args.yes,
        &format!("not revoking {key}"),
    )?;
    store.revoke(key.as_str(), REVOKED_BY, Some(&reason)).map_err(Failure::from_store)?;
    note(&format!(
        "revoked {key}{label} in {shown} (revoked_by \"{REVOKED_BY}\", reason \"{reason}\"); a running ledgerd refuses it within a second"
    ));
    Ok(())
}
