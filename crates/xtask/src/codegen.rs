//! Generated files: shell completions and man pages, rendered in memory from the clap definitions
//! of `etctl` (and `ledgerd`), then written to or compared with the committed copies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap_complete::Shell;

/// Folders whose contents are entirely generated: anything else found there is stale.
const GENERATED_DIRS: [&str; 2] = ["completions", "man"];

/// The repository root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/xtask is two levels deep").to_path_buf()
}

/// Every generated file: path relative to the root → contents.
pub fn render() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for (shell, extension) in [
        (Shell::Bash, "bash"),
        (Shell::Zsh, "zsh"),
        (Shell::Fish, "fish"),
        (Shell::Elvish, "elv"),
        (Shell::PowerShell, "ps1"),
    ] {
        let mut out = Vec::new();
        etctl_cli::cli::write_completions(shell, &mut out);
        files.insert(PathBuf::from(format!("completions/etctl.{extension}")), out);
    }
    man_pages(etctl_cli::cli::command(), &mut files);
    man_pages(ledgerd_server::config::command(), &mut files);
    files
}

/// The `.TH` date of a freshly rendered page; [`write`] and [`check`] put the committed page's date
/// back when nothing else changed, so a page's date is that of its last real change.
const DATE_PLACEHOLDER: &str = "@DATE@";

/// Examples of each page: (what it does, the command).
fn examples(page: &str) -> &'static [(&'static str, &'static str)] {
    match page {
        "etctl" => &[
            ("Try it against a throwaway ledger:", "eval \"$(ledgerd --dev --listen 127.0.0.1:8080 &)\"; etctl status"),
            (
                "Save a credential, then list the active ones:",
                "etctl login --url https://ledger.example.com && etctl list",
            ),
            (
                "Revoke every credential labelled ci-*, without prompts:",
                "etctl list --label 'ci-*' -q | xargs -n1 etctl revoke --yes",
            ),
        ],
        "etctl-vendor" | "etctl-vendor-init" => &[
            ("Create the vendor master key (keyring, else a 0600 file):", "etctl vendor init"),
            (
                "Write the key of an instance to a new 0600 file:",
                "etctl vendor instance-key acme-prod-eu1 --output acme.key",
            ),
        ],
        "etctl-vendor-instance-key" => &[
            (
                "Write the key to a new 0600 file for the ledger's operator:",
                "etctl vendor instance-key acme-prod-eu1 --output acme.key",
            ),
            (
                "Compare with the fingerprint ledgerd logs at start:",
                "etctl vendor instance-key acme-prod-eu1 --fingerprint",
            ),
        ],
        "etctl-generate" => &[
            ("Mint three pairs as JSON:", "etctl generate --instance acme-prod-eu1 -n 3 --json"),
            ("Mint a million pairs into a file:", "etctl generate --instance acme-prod-eu1 -n 1000000 > pairs.txt"),
        ],
        "etctl-verify" => &[(
            "Check a pair offline (the secret on stdin):",
            "printf %s \"$SECRET\" | etctl verify --instance acme-prod-eu1 ak_...",
        )],
        "etctl-register" => &[
            (
                "Register a pair with a label (the secret on stdin):",
                "printf %s \"$SECRET\" | etctl register ak_... --label billing",
            ),
            (
                "A monitoring credential: read-only, from one address, for 90 days, 100 requests a minute:",
                "printf %s \"$SECRET\" | etctl register ak_... --scope accounts:read --allow-ip 10.0.0.7 --expires-in 90d --rate-limit 100/1m",
            ),
        ],
        "etctl-list" => &[
            ("Every credential, revoked ones too, as JSON:", "etctl list --status all --json"),
            ("The keys of the credentials labelled ci-*, one per line:", "etctl list --label 'ci-*' -q"),
            ("The credentials that expired (not revoked):", "etctl list --status expired"),
        ],
        "etctl-show" => {
            &[("The credential etctl is using:", "etctl show"), ("One credential as JSON:", "etctl show ak_... --json")]
        }
        "etctl-revoke" => &[
            ("Revoke, after typing yes at the prompt:", "etctl revoke ak_..."),
            ("Revoke from a script:", "etctl revoke ak_... --yes"),
        ],
        "etctl-rotate" => &[
            ("Rotate the saved credential (the instance comes from the ledger):", "etctl rotate"),
            ("Rotate the credential of the environment and keep the new one:", "eval \"$(etctl rotate --format env)\""),
            ("Rotate, and let the old credential work 10 more minutes:", "etctl rotate --grace 10m --json"),
        ],
        "etctl-whoami" => &[("Which credential the ledger sees:", "etctl whoami --json")],
        "etctl-update" => &[
            (
                "Make a credential read-only for accounts, from one network, for 90 days:",
                "etctl update ak_... --scope accounts:read --allow-ip 10.0.0.0/8 --expires-in 90d",
            ),
            ("Lift its rate limit and expiry:", "etctl update ak_... --no-rate-limit --no-expiry"),
        ],
        "etctl-audit" => &[
            ("Who registered, changed and revoked one credential:", "etctl audit ak_..."),
            ("The newest 20 events of the ledger as JSON:", "etctl audit --limit 20 --json"),
        ],
        "etctl-status" => &[
            ("What etctl uses, and whether it works:", "etctl status"),
            ("The same for a script:", "etctl status --json"),
        ],
        "etctl-login" => &[(
            "Save a credential as profile prod (the secret from a prompt):",
            "etctl login --profile prod --url https://ledger.example.com --api-key ak_...",
        )],
        "etctl-logout" => &[("Forget profile prod:", "etctl logout --profile prod")],
        "etctl-profiles" | "etctl-profiles-use" => &[
            ("The saved profiles:", "etctl profiles"),
            ("Use profile prod unless told otherwise:", "etctl profiles use prod"),
        ],
        "etctl-db" | "etctl-db-list" | "etctl-db-revoke" | "etctl-db-audit" => &[
            ("The active credentials, read from the database:", "etctl db list --db /var/lib/ledgerd/ledger.db"),
            (
                "Revoke while the API is down, with a reason for the audit:",
                "sudo etctl db revoke ak_... --db /var/lib/ledgerd/ledger.db --reason 'leaked in CI log'",
            ),
            (
                "Who registered, changed and revoked one credential, newest first:",
                "etctl db audit ak_... --db /var/lib/ledgerd/ledger.db",
            ),
        ],
        "etctl-completions" => &[
            ("Load the bash completions now:", "source <(etctl completions bash)"),
            ("Install the zsh completions:", "etctl completions zsh > ~/.zfunc/_etctl"),
        ],
        "ledgerd" => &[
            ("Try it with no configuration at all:", "ledgerd --dev"),
            (
                "Serve an instance, its key in a 0600 file:",
                "LEDGERD_INSTANCE_ID=acme-prod-eu1 LEDGERD_INSTANCE_KEY_FILE=/etc/ledgerd/instance.key LEDGERD_DB=/var/lib/ledgerd/ledger.db ledgerd",
            ),
            ("Which build is installed:", "ledgerd --version"),
        ],
        _ => &[],
    }
}

/// Escapes text for a roff text line.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-").replace('\'', "\\(aq");
    if escaped.starts_with('.') { format!("\\&{escaped}") } else { escaped }
}

/// The sections clap_mangen does not write: ENVIRONMENT, EXIT STATUS, EXAMPLES, SEE ALSO.
fn extra_sections(page: &str, bin: &str, cmd: &clap::Command, pages: &[String]) -> String {
    let mut out = String::new();
    out.push_str(".SH ENVIRONMENT\n");
    if bin == "etctl" {
        for (name, what) in etctl_cli::cli::ENVIRONMENT {
            out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff_text(name), roff_text(what)));
        }
    } else {
        for arg in cmd.get_arguments() {
            if let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) {
                let env = env.to_string_lossy();
                out.push_str(&format!(
                    ".TP\n\\fB{}\\fR\n{}\n",
                    roff_text(&env),
                    roff_text(&format!("the same as --{long}"))
                ));
            }
        }
        out.push_str(&format!(
            ".TP\n\\fBRUST_LOG\\fR\n{}\n",
            roff_text("log filter, e.g. debug or ledgerd_server=debug [default: info]")
        ));
    }
    out.push_str(".SH \"EXIT STATUS\"\n");
    if bin == "etctl" {
        for (code, what) in etctl_cli::cli::EXIT_STATUS {
            out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_text(what)));
        }
    } else {
        for (code, what) in [
            ("0", "stopped on SIGTERM or SIGINT after finishing the requests in flight; or --help, --version"),
            ("1", "could not start or keep serving: the message on stderr says why and how to fix it"),
            ("2", "a flag or LEDGERD_* variable has a value ledgerd cannot use (one line naming it)"),
        ] {
            out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_text(what)));
        }
    }
    let examples = examples(page);
    if !examples.is_empty() {
        out.push_str(".SH EXAMPLES\n");
        for (i, (what, command)) in examples.iter().enumerate() {
            // A paragraph macro right after .SH is one mandoc warns about.
            let paragraph = if i == 0 { "" } else { ".PP\n" };
            out.push_str(&format!(
                "{paragraph}{}\n.PP\n.RS 4\n.EX\n{}\n.EE\n.RE\n",
                roff_text(what),
                roff_text(command)
            ));
        }
    }
    out.push_str(".SH \"SEE ALSO\"\n");
    let mut refs: Vec<String> = if bin == "etctl" {
        let mut refs: Vec<String> = pages
            .iter()
            .filter(|p| {
                p.as_str() != page && (page == "etctl" || p.as_str() == "etctl" || p.starts_with(&format!("{page}-")))
            })
            .cloned()
            .collect();
        refs.push("ledgerd".into());
        refs
    } else {
        vec!["etctl".into()]
    };
    refs.sort();
    refs.dedup();
    let refs: Vec<String> = refs.iter().map(|r| format!("\\fB{}\\fR(1)", roff_text(r))).collect();
    out.push_str(&refs.join(",\n"));
    out.push('\n');
    out
}

/// The page of `cmd` and one per visible sub-command, nested ones too (`etctl-db-revoke.1`).
fn man_pages(cmd: clap::Command, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    fn walk(cmd: clap::Command, out: &mut Vec<clap::Command>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            walk(sub, out);
        }
        out.push(cmd);
    }
    let bin = cmd.get_name().to_owned();
    // The pages carry the release, not the commit and build date of whoever rendered them.
    let mut cmd = cmd.disable_help_subcommand(true).version(env!("CARGO_PKG_VERSION"));
    // Building fills in the display names (`etctl-vendor-init`) the file names come from.
    cmd.build();
    let mut commands = Vec::new();
    walk(cmd, &mut commands);
    let pages: Vec<String> = commands.iter().map(|c| c.get_display_name().unwrap_or(c.get_name()).to_owned()).collect();
    for (cmd, page) in commands.into_iter().zip(&pages) {
        let man = clap_mangen::Man::new(cmd.clone())
            .title(page.to_uppercase())
            .date(DATE_PLACEHOLDER)
            .source(format!("{bin} {}", env!("CARGO_PKG_VERSION")))
            .manual("User Commands");
        let mut out = Vec::new();
        let render = |out: &mut Vec<u8>| -> std::io::Result<()> {
            man.render_title(out)?;
            // No hyphenation: an option name must never be split across lines.
            out.extend_from_slice(b".nh\n");
            man.render_name_section(out)?;
            man.render_synopsis_section(out)?;
            man.render_description_section(out)?;
            if cmd.get_arguments().any(|a| !a.is_hide_set()) {
                man.render_options_section(out)?;
            }
            if cmd.has_subcommands() {
                man.render_subcommands_section(out)?;
            }
            Ok(())
        };
        render(&mut out).expect("rendering into memory cannot fail");
        let mut text = String::from_utf8(out).expect("clap_mangen writes UTF-8");
        text.push_str(&extra_sections(page, &bin, &cmd, &pages));
        files.insert(PathBuf::from("man").join(man.get_filename()), tidy(&text).into_bytes());
    }
}

/// What `mandoc -T lint` warns about in clap_mangen's output: a blank line between two `.br` (a
/// paragraph break where a line break was meant), and spaces at the ends of lines.
fn tidy(text: &str) -> String {
    let text = text.replace("\n.br\n\n.br\n", "\n.br\n");
    let mut out: String = text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out
}

/// The `.TH` date of a page, when it has one.
fn th_date(page: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(page).ok()?;
    let line = text.lines().find(|l| l.starts_with(".TH "))?;
    // .TH TITLE SECTION DATE SOURCE MANUAL: the date is the third field (quoted or not).
    let fields: Vec<&str> = line.split('"').collect();
    let plain: Vec<&str> = fields.first()?.split_whitespace().collect();
    plain.get(3).map(|d| d.to_string()).or_else(|| fields.get(1).map(|d| d.to_string()))
}

/// `rendered` with the date placeholder replaced by `date`.
fn dated(rendered: &[u8], date: &str) -> Vec<u8> {
    String::from_utf8_lossy(rendered).replacen(DATE_PLACEHOLDER, date, 1).into_bytes()
}

/// Today's date, `YYYY-MM-DD` (UTC).
fn today() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    version::date(now as i64)
}

#[allow(dead_code)]
#[path = "../../etctl-cli/build_version.rs"]
mod version;

/// Generated-looking files on disk that `render` no longer produces.
fn leftovers(root: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    let mut extra = Vec::new();
    for dir in GENERATED_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        for entry in entries.flatten() {
            let relative = Path::new(dir).join(entry.file_name());
            if entry.path().is_file() && !files.contains_key(&relative) {
                extra.push(relative);
            }
        }
    }
    extra.sort();
    extra
}

/// A rendered file as it should be on disk: a man page keeps the date of the committed copy when
/// nothing else differs, and takes `today` otherwise.
fn expected(rendered: &[u8], on_disk: Option<&[u8]>, today: &str) -> Vec<u8> {
    if !rendered.windows(DATE_PLACEHOLDER.len()).any(|w| w == DATE_PLACEHOLDER.as_bytes()) {
        return rendered.to_vec();
    }
    if let Some(date) = on_disk.and_then(th_date) {
        let same = dated(rendered, &date);
        if Some(same.as_slice()) == on_disk {
            return same;
        }
    }
    dated(rendered, today)
}

/// Writes every generated file and removes leftovers.
pub fn write(root: &Path) -> Result<String, String> {
    let files = render();
    let mut changed = 0;
    for (relative, contents) in &files {
        let path = root.join(relative);
        let on_disk = std::fs::read(&path).ok();
        let contents = &expected(contents, on_disk.as_deref(), &today());
        if on_disk.as_deref() == Some(contents.as_slice()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        changed += 1;
    }
    let extra = leftovers(root, &files);
    for relative in &extra {
        std::fs::remove_file(root.join(relative)).map_err(|e| format!("cannot remove {}: {e}", relative.display()))?;
    }
    Ok(format!("{} generated files, {changed} updated, {} removed", files.len(), extra.len()))
}

/// Compares the committed files with a fresh rendering; the error names each stale file.
pub fn check(root: &Path) -> Result<String, String> {
    let files = render();
    let mut problems = Vec::new();
    for (relative, contents) in &files {
        match std::fs::read(root.join(relative)) {
            Ok(on_disk) if on_disk == expected(contents, Some(&on_disk), "") => {}
            Ok(_) => problems.push(format!("{} is stale", relative.display())),
            Err(_) => problems.push(format!("{} is missing", relative.display())),
        }
    }
    for relative in leftovers(root, &files) {
        problems.push(format!("{} is no longer generated", relative.display()));
    }
    if problems.is_empty() {
        Ok(format!("{} generated files are up to date", files.len()))
    } else {
        Err(format!(
            "generated files are out of date; run `cargo xtask codegen` and commit:\n  {}",
            problems.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_completions_and_man_pages_are_up_to_date() {
        if let Err(message) = super::check(&super::root()) {
            panic!("{message}");
        }
    }

    /// The committed man pages, by path.
    fn pages() -> Vec<std::path::PathBuf> {
        let mut pages: Vec<_> = std::fs::read_dir(super::root().join("man"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "1"))
            .collect();
        pages.sort();
        pages
    }

    /// Runs a documentation tool; a missing one fails, naming the package to install.
    fn tool(program: &str, package: &str, configure: impl FnOnce(&mut std::process::Command)) -> std::process::Output {
        let mut cmd = std::process::Command::new(program);
        configure(&mut cmd);
        match cmd.output() {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!(
                    "`{program}` is not installed; install the package {package} (apt-get install {package}), as .ci/run does"
                )
            }
            Err(e) => panic!("cannot run {program}: {e}"),
        }
    }

    #[test]
    fn man_pages_pass_mandoc_lint_without_warnings() {
        let output = tool("mandoc", "mandoc", |cmd| {
            cmd.args(["-T", "lint", "-W", "warning"]).args(pages());
        });
        let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success() && report.trim().is_empty(), "mandoc -T lint -W warning:\n{report}");
    }

    #[test]
    fn option_names_are_never_hyphenated_across_lines() {
        for page in pages() {
            for width in [40, 60, 80] {
                let output = tool("man", "man-db", |cmd| {
                    cmd.arg("-l").arg(&page).env("MANWIDTH", width.to_string()).env("MANPAGER", "cat");
                });
                let text = String::from_utf8_lossy(&output.stdout);
                assert!(output.status.success() && text.contains("NAME"), "man -l {}: {text}", page.display());
                for line in text.lines() {
                    let broken = line.trim_end().ends_with('-')
                        && line.trim_end().chars().rev().nth(1).is_some_and(|c| c.is_alphanumeric());
                    assert!(!broken, "{} at {width} columns breaks a word at a hyphen: {line:?}", page.display());
                }
            }
        }
    }

    #[test]
    fn every_page_has_the_operator_sections_and_a_dated_header() {
        for page in pages() {
            let text = std::fs::read_to_string(&page).unwrap();
            for section in [".SH ENVIRONMENT", ".SH \"EXIT STATUS\"", ".SH EXAMPLES", ".SH \"SEE ALSO\""] {
                assert!(text.contains(section), "{} has no {section}", page.display());
            }
            let date = super::th_date(text.as_bytes()).unwrap_or_default();
            let ok = date.len() == 10
                && date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
            assert!(ok, "{}: the .TH date is {date:?}, not YYYY-MM-DD", page.display());
            assert!(text.contains("\n.nh\n"), "{} lets roff hyphenate", page.display());
        }
        let etctl = std::fs::read_to_string(super::root().join("man/etctl.1")).unwrap();
        for (name, _) in etctl_cli::cli::ENVIRONMENT {
            assert!(etctl.contains(name), "etctl.1 does not name {name}");
        }
        let ledgerd = std::fs::read_to_string(super::root().join("man/ledgerd.1")).unwrap();
        for arg in ledgerd_server::config::command().get_arguments() {
            if let Some(env) = arg.get_env() {
                assert!(ledgerd.contains(&*env.to_string_lossy()), "ledgerd.1 does not name {env:?}");
            }
        }
    }

    #[test]
    fn the_version_names_the_commit_when_there_is_one_and_the_date_always() {
        // The build scripts' own code (build_version.rs), which the xtask links for its dates.
        assert_eq!(
            super::version::compose("0.1.0", Some("1a2b3c4d5e6f"), "2026-12-02"),
            "0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-02)"
        );
        assert_eq!(super::version::compose("0.1.0", None, "2026-12-02"), "0.1.0 (built 2026-12-02)", "a tarball build");
        assert_eq!(super::version::date(0), "1970-01-01");
        assert_eq!(super::version::date(951_782_400), "2000-02-29");
        assert_eq!(super::version::date(1_796_169_600), "2026-12-02");
    }

    #[test]
    fn a_page_keeps_its_date_until_its_text_changes() {
        let rendered = format!(".TH X 1 {} \"x 0.1.0\"\nbody\n", super::DATE_PLACEHOLDER);
        let committed = b".TH X 1 2020-01-02 \"x 0.1.0\"\nbody\n";
        assert_eq!(super::expected(rendered.as_bytes(), Some(committed), "2030-01-01"), committed.to_vec());
        let changed = b".TH X 1 2020-01-02 \"x 0.1.0\"\nold body\n";
        assert_eq!(
            super::expected(rendered.as_bytes(), Some(changed), "2030-01-01"),
            b".TH X 1 2030-01-01 \"x 0.1.0\"\nbody\n".to_vec()
        );
    }

    #[test]
    fn every_subcommand_has_a_man_page() {
        let files = super::render();
        for name in
            ["man/ledgerd.1", "man/etctl.1", "man/etctl-vendor.1", "man/etctl-vendor-init.1", "man/etctl-db-revoke.1"]
        {
            assert!(files.contains_key(std::path::Path::new(name)), "{name} is not generated");
        }
    }
}
