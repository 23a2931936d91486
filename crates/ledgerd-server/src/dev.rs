//! `ledgerd --dev`: a throwaway vendor key, instance `dev`, a database and a first credential in
//! `./.ledgerd-dev/`, and the `export` lines that point etctl at them (think `vault server -dev`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use et_core::{ApiKey, ApiSecret, InstanceId, MasterKey};
use et_store::{CredentialStore, NewCredential, OpenMode, SqliteStore};

use crate::config::Settings;

/// The directory dev mode works in, relative to the working directory.
pub const DEV_DIR: &str = ".ledgerd-dev";
/// The database file of a dev ledger, in [`DEV_DIR`].
pub const DEV_DB: &str = "ledger.db";
/// The instance id of a dev ledger.
pub const DEV_INSTANCE: &str = "dev";

/// A dev ledger ready to serve, and the credential made for it.
pub struct DevLedger {
    pub settings: Settings,
    pub vendor_key_file: PathBuf,
    pub api_key: ApiKey,
    pub api_secret: ApiSecret,
}

/// Creates `dir` when missing; refuses anything there that is not a plain directory.
pub fn create_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    if dir.symlink_metadata().is_ok() && (!dir.is_dir() || dir.is_symlink()) {
        return Err(format!("{shown} exists and is not a directory; move it away or run ledgerd --dev elsewhere"));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create {shown}: {e}; run ledgerd --dev in a directory you may write to"))
}

/// Wipes `dir` (but for the lock file, which the caller holds: see `dblock`) and fills it with a
/// new vendor key, database and first credential.
pub fn prepare(dir: &Path) -> Result<DevLedger, String> {
    let shown = dir.display();
    create_dir(dir)?;
    let lock_name = format!("{DEV_DB}.lock");
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {shown}: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {shown}: {e}"))?;
        if entry.file_name() == lock_name.as_str() {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| {
            format!("cannot wipe {}: {e}; remove {shown} by hand or run ledgerd --dev elsewhere", path.display())
        })?;
    }
    let dir = std::fs::canonicalize(dir).map_err(|e| format!("cannot resolve {shown}: {e}"))?;

    let master = MasterKey::generate();
    let vendor_key_file = dir.join("vendor.key");
    write_private(&vendor_key_file, format!("{}\n", master.to_hex().as_str()).as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", vendor_key_file.display()))?;

    let instance = InstanceId::parse(DEV_INSTANCE).expect("`dev` is a valid instance id");
    let instance_key = master.instance_key(&instance);
    let db = dir.join(DEV_DB);
    let store = SqliteStore::open(&db, OpenMode::CreateIfMissing)
        .map_err(|e| format!("cannot create the dev database {}: {e}", db.display()))?;
    let api_key = ApiKey::generate();
    let api_secret = instance_key.secret_for(&api_key);
    store
        .register(&NewCredential::new(api_key.clone(), api_secret.hash(), Some("dev".into())))
        .map_err(|e| format!("cannot register the dev credential: {e}"))?;
    drop(store);

    let settings = Settings { dev: true, ..Settings::new(db, instance, instance_key) };
    Ok(DevLedger { settings, vendor_key_file, api_key, api_secret })
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// The URL clients on this machine reach `addr` at (an unspecified address becomes loopback).
pub fn client_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{ip}:{}", addr.port())
}

/// What dev mode prints on stdout: comments and the lines to `eval`.
pub fn exports(ledger: &DevLedger, addr: SocketAddr) -> String {
    let vendor = ledger.vendor_key_file.display().to_string();
    format!(
        "# ledgerd --dev: {dir} was wiped and recreated; everything in it is throwaway.\n\
         # Paste these lines into another shell to drive this ledger with etctl:\n\
         export ETCTL_URL={url}\n\
         export ETCTL_API_KEY={key}\n\
         export ETCTL_API_SECRET={secret}\n\
         export ETCTL_VENDOR_KEY_FILE={vendor}\n\
         # Mint more pairs for it with: etctl generate --instance {instance}\n",
        dir = ledger.vendor_key_file.parent().map(|d| d.display().to_string()).unwrap_or_default(),
        url = client_url(addr),
        key = ledger.api_key,
        secret = ledger.api_secret.expose(),
        vendor = shell_quote(&vendor),
        instance = DEV_INSTANCE,
    )
}

/// Quotes a path for POSIX shells when it needs it.
fn shell_quote(text: &str) -> String {
    if text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%,".contains(&b)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepares_a_ledger_whose_credential_verifies() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(DEV_DIR);
        let first = prepare(&dir).unwrap();
        assert!(first.settings.instance_key.verify(&first.api_key, &first.api_secret));
        let hex = std::fs::read_to_string(&first.vendor_key_file).unwrap();
        let master = MasterKey::from_hex(&hex).unwrap();
        assert!(master.instance_key(&first.settings.instance_id).verify(&first.api_key, &first.api_secret));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first.vendor_key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A second start wipes the first.
        let second = prepare(&dir).unwrap();
        assert_ne!(first.api_key, second.api_key);
        let text = exports(&second, "0.0.0.0:1234".parse().unwrap());
        assert!(text.contains("export ETCTL_URL=http://127.0.0.1:1234\n"), "{text}");
        assert!(text.contains(&format!("export ETCTL_API_SECRET={}\n", second.api_secret.expose())));
    }

    #[test]
    fn quotes_paths_with_spaces() {
        assert_eq!(shell_quote("/a/b"), "/a/b");
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
