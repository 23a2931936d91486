//! Helpers of the etctl end-to-end tests: a temp HOME with the keyring off, running etctl with a
//! given stdin, and transcripts (exit code + stdout + stderr) with volatile parts redacted for
//! insta snapshots.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{self, Ledger};

/// A user's home for etctl: HOME and XDG dirs in a temp dir, `ETCTL_KEYRING=off`.
pub struct Home {
    pub dir: tempfile::TempDir,
}

/// What one etctl run did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr, for a snapshot.
    pub fn transcript(&self) -> String {
        format!("exit: {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "etctl failed:\n{}", self.transcript());
        self
    }

    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(self.code, expected, "unexpected exit code:\n{}", self.transcript());
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.transcript()))
    }
}

impl Home {
    pub fn new() -> Self {
        Home { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `etctl` with this home, the keyring off and stdin empty.
    pub fn cmd(&self) -> Command {
        let mut cmd = common::etctl(self.path());
        cmd.env("ETCTL_KEYRING", "off").env_remove("COLUMNS").stdin(Stdio::null());
        cmd
    }

    /// `etctl` pointed at `ledger` with `pair` as the operator credential, through the environment.
    pub fn cmd_as(&self, ledger: &Ledger, pair: &(String, String)) -> Command {
        let mut cmd = self.cmd();
        cmd.env("ETCTL_URL", &ledger.url).env("ETCTL_API_KEY", &pair.0).env("ETCTL_API_SECRET", &pair.1);
        cmd
    }

    /// A 0600 file holding the test vendor key (the one test ledgers derive from).
    pub fn vendor_key_file(&self) -> PathBuf {
        let path = self.path().join("vendor-test.key");
        if !path.exists() {
            write_0600(&path, &format!("{}\n", common::MASTER_HEX));
        }
        path
    }

    /// `etctl` with `ETCTL_VENDOR_KEY_FILE` set to [`Home::vendor_key_file`].
    pub fn vendor_cmd(&self) -> Command {
        let mut cmd = self.cmd();
        cmd.env("ETCTL_VENDOR_KEY_FILE", self.vendor_key_file());
        cmd
    }
}

pub fn write_0600(path: &Path, contents: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).unwrap();
    file.write_all(contents.as_bytes()).unwrap();
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs `cmd` with `stdin` (none: empty) and collects everything.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Run {
    let output = match stdin {
        None => cmd.output().expect("run etctl"),
        Some(input) => {
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn etctl");
            // etctl may refuse before it reads stdin (a malformed key is checked first) and exit;
            // then the pipe is closed under us, which is not the test's failure.
            if let Err(e) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing etctl's stdin: {e}");
            }
            child.wait_with_output().unwrap()
        }
    };
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Shorthand: runs `cmd` with `args` and no stdin.
pub fn etctl(mut cmd: Command, args: &[&str]) -> Run {
    run(cmd.args(args), None)
}

/// Shorthand: runs `cmd` with `args` and `stdin`.
pub fn etctl_in(mut cmd: Command, args: &[&str], stdin: &str) -> Run {
    run(cmd.args(args), Some(stdin))
}

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// insta settings that redact what changes from run to run: keys, secrets, times, ports, paths.
pub fn redactions(extra: &[(&str, &str)]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (literal, replacement) in extra {
        settings.add_filter(&regex_escape(literal), *replacement);
    }
    settings.add_filter(r"ak_[0-9a-f]{40}", "ak_[KEY]");
    settings.add_filter(r"sk_[0-9a-f]{64}", "sk_[SECRET]");
    settings.add_filter(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?", "[TIME]");
    settings.add_filter(r"127\.0\.0\.1:\d{5}", "127.0.0.1:[PORT]");
    settings.add_filter(r"/tmp/[^/\s]+", "[TMP]");
    settings.set_prepend_module_to_snapshot(true);
    settings
}
