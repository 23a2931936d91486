//! The long version of a binary, `0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-02)`, set as the
//! build script's `cargo:rustc-env`. A module of the build scripts of
//! etctl-cli and ledgerd-server (`#[path]`), so both binaries say the same thing the same way.
//!
//! The commit comes from `git rev-parse` when the source is a git checkout with git installed, and
//! is left out otherwise (a source tarball). The date is
//! `SOURCE_DATE_EPOCH` when set (reproducible builds), else today's, in UTC.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `YYYY-MM-DD` of a Unix time (days to civil date, after Howard Hinnant's algorithm).
pub fn date(unix: i64) -> String {
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

pub fn long_version() -> String {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // Rebuild when HEAD moves: its file, and the branch it points at.
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["rev-parse", "--symbolic-full-name", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r])),
    ]
    .into_iter()
    .flatten()
    {
        let path = std::path::absolute(&path).unwrap_or_else(|_| path.into());
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let now = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.trim().parse::<i64>().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    });
    compose(env!("CARGO_PKG_VERSION"), git(&["rev-parse", "--short=12", "HEAD"]).as_deref(), &date(now))
}

/// The version string from its parts; without a commit (no git, or not a checkout) it says less.
pub fn compose(version: &str, commit: Option<&str>, built: &str) -> String {
    match commit {
        Some(commit) => format!("{version} (commit {commit}, built {built})"),
        None => format!("{version} (built {built})"),
    }
}
