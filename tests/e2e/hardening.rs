//! Process hardening (issue 11, item 8): a running ledgerd cannot dump core (a core file would
//! hold its instance key): it is not dumpable (PR_SET_DUMPABLE 0) and its core size limit is 0.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{INSTANCE, Ledger, instance_key_hex, ledgerd};

/// Field `name` of /proc/PID/status, split on whitespace.
fn status_field(pid: u32, name: &str) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {status}"));
    line[name.len()..].split_whitespace().map(str::to_owned).collect()
}

#[test]
fn a_running_ledgerd_has_core_dumps_off() {
    let ledger = Ledger::start();
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", ledger.pid())).unwrap();
    let core = limits.lines().find(|l| l.starts_with("Max core file size")).expect("a core size line");
    let fields: Vec<&str> = core["Max core file size".len()..].split_whitespace().collect();
    assert_eq!(&fields[..2], ["0", "0"], "soft and hard core size limits must be 0: {core}");

    // Not dumpable. The kernel shows it in the owner of /proc/PID/*: root for a process that is not
    // dumpable, the process's own uid otherwise, and it refuses another non-root process of the same
    // uid its environ. Both need two distinct users; as root, run ledgerd as nobody.
    let euid: u32 = status_field(std::process::id(), "Uid:")[1].parse().unwrap();
    if euid == 0 {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let mut child = ledgerd()
            .env("LEDGERD_LISTEN", "127.0.0.1:0")
            .env("LEDGERD_DB", dir.path().join("ledger.db"))
            .env("LEDGERD_INSTANCE_ID", INSTANCE)
            .env("LEDGERD_INSTANCE_KEY", instance_key_hex(INSTANCE))
            .current_dir(dir.path())
            .uid(65534)
            .gid(65534)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut log = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(Ok(()));
                }
                log.push_str(&line);
                log.push('\n');
            }
            let _ = tx.send(Err(log));
        });
        let ready = rx.recv_timeout(Duration::from_secs(20));
        let pid = child.id();
        let owner = std::fs::metadata(format!("/proc/{pid}/status")).map(|m| m.uid());
        let uid = status_field(pid, "Uid:");
        let _ = child.kill();
        let _ = child.wait();
        assert!(matches!(ready, Ok(Ok(()))), "ledgerd as nobody did not start: {ready:?}");
        assert_eq!(uid[1], "65534");
        assert_eq!(owner.unwrap(), 0, "/proc/{pid} of a ledgerd running as nobody is not root's: it is dumpable");
    } else {
        let environ = std::fs::read(format!("/proc/{}/environ", ledger.pid()));
        assert_eq!(
            environ.map_err(|e| e.kind()).err(),
            Some(std::io::ErrorKind::PermissionDenied),
            "a process of the same user could read ledgerd's environment: it is dumpable"
        );
    }
}
