//! Where etctl keeps secrets: the OS keyring when one answers, else 0600 files under
//! `$XDG_CONFIG_HOME/etctl/`. Every keyring failure (no Secret Service, no D-Bus, a locked or hung
//! keyring) falls back quietly; `ETCTL_KEYRING=off` skips the keyring altogether, which tests set.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::exit::Failure;

/// The keyring service name every etctl entry is filed under.
const SERVICE: &str = "etctl";
/// How long a keyring call may take before etctl gives up on it and uses the fallback.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether the OS keyring may be used at all (`ETCTL_KEYRING=off|0|false|no` says no).
pub fn keyring_enabled() -> bool {
    match std::env::var("ETCTL_KEYRING") {
        Ok(v) => !matches!(v.trim().to_ascii_lowercase().as_str(), "off" | "0" | "false" | "no"),
        Err(_) => true,
    }
}

/// Runs a keyring call on its own thread with a deadline, so a keyring that never answers cannot
/// hang etctl. `None` means the keyring is unusable (disabled, absent, failed or too slow).
fn with_keyring<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, keyring::Error> + Send + 'static,
) -> Option<Result<T, keyring::Error>> {
    if !keyring_enabled() {
        return None;
    }
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(call());
        })
        .ok()?;
    rx.recv_timeout(KEYRING_TIMEOUT).ok()
}

/// The secret stored under `name`: `Ok(Some)` found, `Ok(None)` the keyring answered that there
/// is none, `Err(())` the keyring is not usable.
pub fn keyring_get(name: &str) -> Result<Option<Zeroizing<String>>, ()> {
    let name = name.to_owned();
    match with_keyring(move || keyring::Entry::new(SERVICE, &name)?.get_password()) {
        Some(Ok(secret)) => Ok(Some(Zeroizing::new(secret))),
        Some(Err(keyring::Error::NoEntry)) => Ok(None),
        _ => Err(()),
    }
}

/// Stores `secret` under `name` and reads it back; false when the keyring is not usable.
pub fn keyring_set(name: &str, secret: &str) -> bool {
    let name = name.to_owned();
    let secret = Zeroizing::new(secret.to_owned());
    let ok = with_keyring(move || {
        let entry = keyring::Entry::new(SERVICE, &name)?;
        entry.set_password(&secret)?;
        let back = Zeroizing::new(entry.get_password()?);
        Ok(*back == *secret)
    });
    matches!(ok, Some(Ok(true)))
}

/// Deletes the entry `name`; true when it is gone (or was never there).
pub fn keyring_delete(name: &str) -> bool {
    let name = name.to_owned();
    matches!(
        with_keyring(move || keyring::Entry::new(SERVICE, &name)?.delete_credential()),
        Some(Ok(()) | Err(keyring::Error::NoEntry))
    )
}

/// `$XDG_CONFIG_HOME/etctl`, else `~/.config/etctl`.
pub fn config_dir() -> Result<PathBuf, Failure> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".config"),
            None => {
                return Err(Failure::config(
                    "cannot find a configuration directory: neither XDG_CONFIG_HOME nor HOME is set; set one of them",
                ));
            }
        },
    };
    Ok(base.join("etctl"))
}

/// Refuses a secret file that group or others can read: someone may have copied it already, and
/// etctl should not keep using it silently.
pub fn check_private(path: &Path) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::metadata(path).map_err(|e| Failure::config(format!("cannot read {}: {e}", path.display())))?;
        // A FIFO or a device would block or never end; a directory cannot be read either.
        if !meta.is_file() {
            return Err(Failure::config(format!(
                "{} is not a regular file (a directory, pipe or device); point etctl at the file itself",
                path.display()
            )));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Failure::config(format!(
                "{} holds a secret but group or others can access it (mode {mode:03o}); run `chmod 600 {}` and try again",
                path.display(),
                path.display()
            )));
        }
    }
    Ok(())
}

/// Reads a secret file after checking that only its owner can read it.
pub fn read_private(path: &Path) -> Result<Zeroizing<String>, Failure> {
    check_private(path)?;
    fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| Failure::config(format!("cannot read {}: {e}", path.display())))
}

/// Creates the directory (0700) that will hold secret files.
fn create_private_dir(dir: &Path) -> Result<(), Failure> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| Failure::config(format!("cannot create the directory {}: {e}", dir.display())))
}

/// Writes `contents` to `path` with mode 0600. Without `replace`, an existing file is an error;
/// with it, the file is replaced atomically (a temp file renamed over it), so a crash never leaves
/// half a key behind.
pub fn write_private(path: &Path, contents: &[u8], replace: bool) -> Result<(), Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let write = |target: &Path| -> std::io::Result<()> {
        let mut file = options.open(target)?;
        file.write_all(contents)?;
        file.sync_all()
    };
    if !replace {
        return write(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Failure::config(format!("{} already exists; it was left as it is", path.display()))
            } else {
                Failure::config(format!("cannot write {}: {e}", path.display()))
            }
        });
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "etctl".into());
    let temp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let _ = fs::remove_file(&temp);
    let result = write(&temp).and_then(|()| fs::rename(&temp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(Failure::config(format!("cannot write {}: {e}", path.display())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_and_not_overwritten_by_accident() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key");
        write_private(&path, b"one", false).unwrap();
        assert!(write_private(&path, b"two", false).is_err());
        assert_eq!(&*read_private(&path).unwrap(), "one");
        write_private(&path, b"two", true).unwrap();
        assert_eq!(&*read_private(&path).unwrap(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            let error = read_private(&path).unwrap_err();
            assert!(error.message.contains(&format!("chmod 600 {}", path.display())), "{}", error.message);
        }
    }
}
