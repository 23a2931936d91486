//! The scripting contract of etctl: data on stdout only, a closed pipe is not an error, the exit
//! codes are documented in --help, and the committed completions are what the binary prints.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::etctl_support::{Home, etctl, redactions};

#[test]
fn a_closed_pipe_ends_generate_quietly_with_success() {
    let home = Home::new();
    let mut cmd = home.vendor_cmd();
    cmd.args(["generate", "--instance", "acme", "-n", "100000"]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader goes away after one line, like `| head -1`.
    let output = child.wait_with_output().unwrap();
    assert!(first.starts_with("API KEY"), "{first}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "", "no panic, no message");

    // The same through a real shell pipeline, with pipefail so etctl's own status counts.
    let script = format!(
        "set -o pipefail; ETCTL_VENDOR_KEY_FILE={} {} generate --instance acme -n 100000 --json | head -1",
        home.vendor_key_file().display(),
        env!("CARGO_BIN_EXE_etctl")
    );
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("ETCTL_KEYRING", "off")
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "[\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn help_documents_the_exit_codes_and_the_environment() {
    let home = Home::new();
    let run = etctl(home.cmd(), &["--help"]).ok();
    for needle in ["Exit codes:", "ETCTL_URL", "ETCTL_VENDOR_KEY_FILE", "ETCTL_DB", "4   ledger unreachable"] {
        assert!(run.stdout.contains(needle), "--help lacks {needle:?}:\n{}", run.stdout);
    }
    assert_eq!(run.stderr, "");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/crates/etctl-cli/EXIT_CODES.md")).unwrap();
    for code in 0..=10 {
        assert!(doc.contains(&format!("| {code} |")), "EXIT_CODES.md lacks code {code}");
    }
    redactions(&[]).bind(|| insta::assert_snapshot!("help", run.transcript()));
}

#[test]
fn errors_go_to_stderr_only_as_one_error_line() {
    let home = Home::new();
    let run = etctl(home.cmd(), &["show", "ak_nope"]).code(9);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.starts_with("error: "));
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    redactions(&[]).bind(|| insta::assert_snapshot!("malformed_key", run.transcript()));
}

#[test]
fn committed_completions_are_what_the_binary_prints() {
    let home = Home::new();
    for (shell, extension) in
        [("bash", "bash"), ("zsh", "zsh"), ("fish", "fish"), ("elvish", "elv"), ("powershell", "ps1")]
    {
        let run = etctl(home.cmd(), &["completions", shell]).ok();
        let path = format!("{}/completions/etctl.{extension}", env!("CARGO_MANIFEST_DIR"));
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(run.stdout == committed, "{path} differs from `etctl completions {shell}`; run `cargo xtask codegen`");
        assert!(run.stdout.contains("etctl"));
    }
    // The bash script at least parses.
    let path = format!("{}/completions/etctl.bash", env!("CARGO_MANIFEST_DIR"));
    let status = std::process::Command::new("bash").arg("-n").arg(path).status().unwrap();
    assert!(status.success());
}
