//! One ledgerd per database: an exclusive advisory lock (flock) on `<db>.lock` beside the database,
//! held for the life of the process, the file holding the holder's pid for the refusal message.
//!
//! Two servers on one database would each treat the other's writes as a file replaced under them
//! (and `--dev` wipes its directory on start): the second refuses to start instead. The lock is
//! released by the kernel when the process ends, however it ends; the file is left in place (deleting
//! it would let a third process lock a new file while the second still holds the old one).
//! `etctl db` does not take it: it is meant to run beside a live ledgerd.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock held by this process on a database; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DbLock {
    _file: File,
}

/// The lock file of the database at `db`: `<db>.lock`, beside the file its path resolves to (so a
/// symlink or a relative path to the same file finds the same lock).
pub fn lock_path(db: &Path) -> PathBuf {
    let resolved = std::fs::canonicalize(db).ok().or_else(|| {
        let parent = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Some(std::fs::canonicalize(parent).ok()?.join(db.file_name()?))
    });
    let mut name = resolved.unwrap_or_else(|| db.to_path_buf()).into_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock of the database at `db`, or says which process holds it; `fix` is the way out
/// the message offers besides stopping the holder (e.g. another LEDGERD_DB).
pub fn acquire(db: &Path, fix: &str) -> Result<DbLock, String> {
    let path = lock_path(db);
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o644);
    }
    let mut file = options.open(&path).map_err(|e| {
        format!(
            "cannot create the lock file {shown} beside the database: {e}; check that the directory exists and this \
             user may write there, or {fix}"
        )
    })?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(rustix::io::Errno::WOULDBLOCK) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim().parse::<u32>() {
                Ok(pid) => format!("another ledgerd (pid {pid})"),
                Err(_) => "another ledgerd".to_owned(),
            };
            return Err(format!(
                "{holder} is already serving the database {}: it holds the lock file {shown}; stop it first, or {fix}",
                db.display()
            ));
        }
        Err(e) => return Err(format!("cannot lock {shown}: {e}; {fix}")),
    }
    // Ours now: record who holds it, for the message a second ledgerd gives.
    let recorded = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| writeln!(file, "{}", std::process::id()));
    if let Err(e) = recorded {
        tracing::warn!("cannot write this process's pid into {shown}: {e}");
    }
    Ok(DbLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_file_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        let held = acquire(&db, "set LEDGERD_DB to another file").unwrap();
        assert_eq!(std::fs::read_to_string(lock_path(&db)).unwrap(), format!("{}\n", std::process::id()));
        // flock locks belong to the open file, so a second open in the same process conflicts too.
        let err = acquire(&db, "set LEDGERD_DB to another file").unwrap_err();
        assert!(err.contains(&format!("pid {}", std::process::id())) && err.contains("ledger.db.lock"), "{err}");
        assert!(err.contains("LEDGERD_DB"), "{err}");
        drop(held);
        assert!(acquire(&db, "set LEDGERD_DB to another file").is_ok());
    }

    #[test]
    fn relative_and_absolute_paths_share_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let absolute = std::fs::canonicalize(dir.path()).unwrap().join("x.db");
        let via_dotdot = dir.path().join("sub").join("..").join("x.db");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert_eq!(lock_path(&absolute), lock_path(&via_dotdot));
    }
}
