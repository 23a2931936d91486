//! Issue 10: etctl and ledgerd as operators expect them. The traps (a URL with a path taken for
//! "already revoked", a one-keypress confirmation, Ctrl-C leaving the terminal broken, `rotate
//! --format env` losing the credential, keys broken over lines, a cryptic TLS error, options that
//! mean nothing) and the missing commands (help, status, profiles use, show without a key, list
//! filters, rotate without --instance, versions, fingerprints, the db actor, ledgerd's one-line
//! errors). Terminal behaviour is tested in a real terminal (tmux).

use std::process::Command;

use crate::common::{self, INSTANCE, Ledger};
use crate::etctl_support::{Home, etctl, etctl_in, mode, redactions, write_0600};
use crate::terminal::Terminal;

const ETCTL: &str = env!("CARGO_BIN_EXE_etctl");
const LEDGERD: &str = env!("CARGO_BIN_EXE_ledgerd");

/// The environment of etctl in a terminal: a private home, no keyring, pointed at `ledger` as `pair`.
fn terminal_env<'a>(home: &'a Home, ledger: &'a Ledger, pair: &'a (String, String)) -> Vec<(&'a str, &'a str)> {
    vec![
        ("HOME", home.path().to_str().unwrap()),
        ("XDG_CONFIG_HOME", home.path().to_str().unwrap()),
        ("ETCTL_KEYRING", "off"),
        ("NO_COLOR", "1"),
        ("ETCTL_URL", &ledger.url),
        ("ETCTL_API_KEY", &pair.0),
        ("ETCTL_API_SECRET", &pair.1),
    ]
}

fn active(ledger: &Ledger, pair: &(String, String)) -> bool {
    ledger.client_as(pair).whoami().is_ok()
}

// ---- Traps

#[test]
fn a_ledger_url_with_a_path_is_not_the_api_never_not_found() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let victim = ledger.register(Some("victim"));
    let home = Home::new();
    let mut cmd = home.cmd_as(&ledger, &operator);
    cmd.env("ETCTL_URL", format!("{}/foo", ledger.url));
    let run = etctl(cmd, &["revoke", &victim.0, "--yes"]).code(4);
    assert!(run.stderr.contains("ETCTL_URL") && run.stderr.contains("no path"), "{}", run.stderr);
    assert!(active(&ledger, &victim), "nothing was revoked");
    // A real "no such credential" is still 8.
    etctl(home.cmd_as(&ledger, &operator), &["revoke", &ledger.mint().0, "--yes"]).code(8);
}

#[test]
fn revoke_waits_for_enter_shows_the_label_and_leaves_nothing_to_the_shell() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let victim = ledger.register(Some("billing-east"));
    let home = Home::new();
    revoke_prompt(&ledger, &operator, &victim, &home);
}

fn revoke_prompt(ledger: &Ledger, operator: &(String, String), victim: &(String, String), home: &Home) {
    let leftover = tempfile::NamedTempFile::new().unwrap();
    let term = Terminal::run(
        &format!("{ETCTL} revoke {}", victim.0),
        &format!("read -t 3 rest; echo \"leftover=[$rest]\" > {}", leftover.path().display()),
        &terminal_env(home, ledger, operator),
        100,
        30,
    );
    let screen = term.wait_for("Revoke ");
    // One keypress is not a confirmation.
    term.type_text("y");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(term.running() && active(ledger, victim), "revoked on a single keypress");
    assert!(screen.contains("billing-east"), "the prompt names the label:\n{screen}");
    term.type_text("es");
    term.keys(&["Enter"]);
    assert_eq!(term.exit_code(), 0, "{}", term.screen());
    assert!(!active(ledger, victim));
    assert_eq!(term.read_when_written(leftover.path()), "leftover=[]\n", "typed text reached the shell");
    assert!(term.cursor_visible());
}

#[test]
fn revoking_the_credential_in_use_says_so_before_asking() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let home = Home::new();
    let term =
        Terminal::run(&format!("{ETCTL} revoke {}", operator.0), "", &terminal_env(&home, &ledger, &operator), 120, 30);
    let screen = term.wait_for("Type yes");
    assert!(screen.contains("etctl is using now"), "{screen}");
    term.keys(&["Enter"]);
    assert_eq!(term.exit_code(), 2, "Enter alone declines");
    assert!(active(&ledger, &operator));
}

#[test]
fn ctrl_c_at_a_prompt_exits_130_with_the_terminal_restored() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let victim = ledger.register(Some("victim"));
    let home = Home::new();

    // At the confirmation: 130, the cursor visible, nothing revoked.
    let term =
        Terminal::run(&format!("{ETCTL} revoke {}", victim.0), "", &terminal_env(&home, &ledger, &operator), 100, 30);
    term.wait_for("Revoke ");
    term.keys(&["C-c"]);
    assert_eq!(term.exit_code(), 130, "{}", term.screen());
    assert!(term.cursor_visible(), "Ctrl-C left the cursor hidden");
    assert!(active(&ledger, &victim));

    // At the hidden secret prompt: 130, and echo is back on.
    let stty = tempfile::NamedTempFile::new().unwrap();
    let term = Terminal::run(
        &format!("{ETCTL} register {}", ledger.mint().0),
        &format!("stty -a > {}", stty.path().display()),
        &terminal_env(&home, &ledger, &operator),
        100,
        30,
    );
    term.wait_for("input hidden");
    term.keys(&["C-c"]);
    assert_eq!(term.exit_code(), 130, "{}", term.screen());
    let modes = term.read_when_written(stty.path());
    assert!(modes.split_whitespace().any(|m| m == "echo"), "echo stays off after Ctrl-C:\n{modes}");
    assert!(term.cursor_visible());
}

#[test]
fn rotate_env_output_evaluated_in_a_new_shell_keeps_the_credential() {
    let ledger = Ledger::start();
    let old = ledger.register(Some("ops"));
    let new = ledger.mint();
    let home = Home::new();
    // eval the output, then a new shell (a child, as etctl is) must see the new credential.
    let script = r#"eval "$(printf %s "$NEW_SECRET" | "$ETCTL" rotate --new-key "$NEW_KEY" --format env)" && sh -c '"$ETCTL" whoami'"#;
    let mut sh = Command::new("sh");
    for (k, v) in [("ETCTL_URL", &ledger.url), ("ETCTL_API_KEY", &old.0), ("ETCTL_API_SECRET", &old.1)] {
        sh.env(k, v);
    }
    sh.env("HOME", home.path()).env("XDG_CONFIG_HOME", home.path()).env("ETCTL_KEYRING", "off");
    sh.env("ETCTL", ETCTL).env("NEW_KEY", &new.0).env("NEW_SECRET", &new.1);
    let out = sh.args(["-c", script]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with(&new.0), "the new shell does not use the new credential: {stdout}");
    assert!(!active(&ledger, &old));

    // The lines themselves.
    let newer = ledger.mint();
    let run =
        etctl_in(home.cmd_as(&ledger, &new), &["rotate", "--new-key", &newer.0, "--format", "env"], &newer.1).ok();
    assert_eq!(run.stdout, format!("export ETCTL_API_KEY={}\nexport ETCTL_API_SECRET={}\n", newer.0, newer.1));
}

#[test]
fn on_an_80_column_terminal_no_key_breaks() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let mut keys = vec![operator.0.clone()];
    for label in ["billing service of the eastern region with a long label", "ci"] {
        keys.push(ledger.register(Some(label)).0);
    }
    let revoked = ledger.register(Some("old"));
    ledger.client_as(&operator).revoke(&revoked.0).unwrap();
    keys.push(revoked.0.clone());
    let home = Home::new();
    let term =
        Terminal::run(&format!("{ETCTL} list --status all"), "", &terminal_env(&home, &ledger, &operator), 80, 40);
    assert_eq!(term.exit_code(), 0, "{}", term.screen());
    let screen = term.screen();
    for key in &keys {
        assert!(screen.contains(key.as_str()), "{key} is broken over lines:\n{screen}");
    }
    for line in screen.lines() {
        assert!(line.chars().count() <= 80, "wider than the terminal:\n{screen}");
    }
    assert!(screen.contains("left out to fit 80 columns"), "{screen}");
}

#[test]
fn https_against_a_plain_http_ledger_says_to_use_http() {
    let ledger = Ledger::start();
    let operator = ledger.register(None);
    let home = Home::new();
    let mut cmd = home.cmd_as(&ledger, &operator);
    cmd.env("ETCTL_URL", ledger.url.replace("http://", "https://"));
    let run = etctl(cmd, &["whoami"]).code(4);
    assert!(run.stderr.contains("does not speak TLS") && run.stderr.contains(&ledger.url), "{}", run.stderr);
    assert!(!run.stderr.contains("InvalidContentType"), "{}", run.stderr);
}

#[test]
fn ledger_options_only_where_they_mean_something_and_api_key_arguments_explained() {
    let home = Home::new();
    for args in [
        &["vendor", "init", "--help"][..],
        &["db", "list", "--help"],
        &["completions", "--help"],
        &["generate", "--help"],
    ] {
        let help = etctl(home.cmd(), args).ok().stdout;
        for option in ["--url", "--profile", "--timeout"] {
            assert!(!help.contains(option), "etctl {args:?} offers {option}:\n{help}");
        }
    }
    let help = etctl(home.cmd(), &["list", "--help"]).ok().stdout;
    assert!(help.contains("--url") && help.contains("--profile") && help.contains("--timeout"), "{help}");
    // Before the command, as older scripts write them: still accepted where they mean something...
    etctl(home.cmd(), &["--url", "http://127.0.0.1:9", "--timeout", "1", "whoami"]).code(3);
    // ...and refused where they do not.
    let run = etctl(home.vendor_cmd(), &["--url", "http://127.0.0.1:9", "vendor", "instance-key", INSTANCE]).code(2);
    assert!(run.stderr.contains("mean nothing"), "{}", run.stderr);
    for command in ["revoke", "register", "verify", "show"] {
        let help = etctl(home.cmd(), &[command, "--help"]).ok().stdout;
        let line = help.lines().skip_while(|l| !l.contains("<API_KEY>")).nth(1).unwrap_or_default();
        assert!(help.contains("The ak_ key"), "etctl {command} --help explains no <API_KEY>:\n{help}\n{line}");
    }
}

// ---- What operators look for

#[test]
fn help_takes_a_command_like_git() {
    let home = Home::new();
    let help = etctl(home.cmd(), &["help", "rotate"]).ok().stdout;
    assert_eq!(help, etctl(home.cmd(), &["rotate", "--help"]).ok().stdout);
    assert!(etctl(home.cmd(), &["help", "db", "revoke"]).ok().stdout.contains("Usage: etctl db revoke"));
}

#[test]
fn status_says_what_is_used_where_it_came_from_and_whether_it_works() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let home = Home::new();
    let run = etctl(home.cmd_as(&ledger, &operator), &["status"]).ok();
    let mut settings = redactions(&[(crate::common::INSTANCE, "[INSTANCE]")]);
    settings.add_filter(r"\d+\.\d+\.\d+ \((commit [0-9a-f]+, )?built [0-9-]+\)", "[VERSION]");
    settings.bind(|| insta::assert_snapshot!("status_env", run.transcript()));
    let json = etctl(home.cmd_as(&ledger, &operator), &["status", "--json"]).ok().json();
    assert_eq!(json["url_from"], "ETCTL_URL");
    assert_eq!(json["credential_from"], "ETCTL_API_KEY");
    assert_eq!((json["reachable"].as_bool(), json["authenticated"].as_bool()), (Some(true), Some(true)));
    assert_eq!(json["instance"], INSTANCE);
    assert!(json["server_version"].as_str().unwrap().starts_with(env!("CARGO_PKG_VERSION")), "{json}");

    // A --url flag, and a ledger that does not answer: printed, then exit 4.
    let mut cmd = home.cmd_as(&ledger, &operator);
    cmd.args(["status", "--json", "--url", "http://127.0.0.1:9"]);
    let run = crate::etctl_support::run(&mut cmd, None).code(4);
    assert_eq!(run.json()["url_from"], "--url");
    assert_eq!(run.json()["reachable"], false);

    // No credential at all: 3, and says how to give one.
    let mut cmd = home.cmd();
    cmd.env("ETCTL_URL", &ledger.url);
    let run = etctl(cmd, &["status"]).code(3);
    assert!(run.stdout.contains("credential  none") && run.stderr.contains("etctl login"), "{}", run.transcript());
}

/// Saves profile `name` for `pair` on `ledger` with `etctl login`.
fn login(home: &Home, ledger: &Ledger, name: &str, pair: &(String, String)) {
    etctl_in(home.cmd(), &["login", "--profile", name, "--url", &ledger.url, "--api-key", &pair.0], &pair.1).ok();
}

#[test]
fn profiles_use_chooses_the_default_and_errors_name_the_ways_to_choose() {
    let ledger = Ledger::start();
    let one = ledger.register(Some("one"));
    let two = ledger.register(Some("two"));
    let home = Home::new();
    login(&home, &ledger, "one", &one);
    login(&home, &ledger, "two", &two);

    // Profiles exist, none is selected: the error says every way to choose.
    let run = etctl(home.cmd(), &["whoami"]).code(3);
    for way in ["--profile", "ETCTL_PROFILE", "etctl profiles use"] {
        assert!(run.stderr.contains(way), "{}", run.stderr);
    }

    etctl(home.cmd(), &["profiles", "use", "two"]).ok();
    assert!(etctl(home.cmd(), &["whoami"]).ok().stdout.starts_with(&two.0));
    assert_eq!(etctl(home.cmd(), &["profiles", "--json"]).ok().json()[1]["selected"], true);
    // --profile and ETCTL_PROFILE still win.
    assert!(etctl(home.cmd(), &["whoami", "--profile", "one"]).ok().stdout.starts_with(&one.0));
    let mut cmd = home.cmd();
    cmd.env("ETCTL_PROFILE", "one");
    assert!(etctl(cmd, &["whoami"]).ok().stdout.starts_with(&one.0));
    // An unknown name changes nothing.
    let run = etctl(home.cmd(), &["profiles", "use", "three"]).code(3);
    assert!(run.stderr.contains("one, two"), "{}", run.stderr);
    assert!(etctl(home.cmd(), &["whoami"]).ok().stdout.starts_with(&two.0));
    assert_eq!(etctl(home.cmd(), &["profiles", "-q"]).ok().stdout, "one\ntwo\n");
}

#[test]
fn profile_names_complete_in_bash_zsh_and_fish() {
    let ledger = Ledger::start();
    let home = Home::new();
    login(&home, &ledger, "alpha", &ledger.register(None));
    login(&home, &ledger, "beta", &ledger.register(None));
    let scripts = home.path().join("completions");
    std::fs::create_dir_all(&scripts).unwrap();
    for (shell, file) in [("bash", "etctl.bash"), ("zsh", "_etctl"), ("fish", "etctl.fish")] {
        let out = etctl(home.cmd(), &["completions", shell]).ok().stdout;
        std::fs::write(scripts.join(file), out).unwrap();
    }
    let bin = std::path::Path::new(ETCTL).parent().unwrap().to_str().unwrap().to_owned();
    let path = format!("{bin}:/usr/local/bin:/usr/bin:/bin");
    let env = [
        ("HOME", home.path().to_str().unwrap()),
        ("XDG_CONFIG_HOME", home.path().join(".config").to_str().unwrap().to_owned().leak() as &str),
        ("ETCTL_KEYRING", "off"),
        ("PATH", path.as_str()),
    ];
    let shell = |program: &str, script: String| {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(env).args(["-c", &script]);
        match cmd.output() {
            Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
            Err(e) => panic!("{program} is not installed ({e}); install the package {program}, as .ci/run does"),
        }
    };
    let bash = shell(
        "bash",
        format!(
            "source {}/etctl.bash; COMP_WORDS=(etctl list --profile ''); COMP_CWORD=3; _etctl etctl '' --profile; echo \"${{COMPREPLY[*]}}\"; \
             COMP_WORDS=(etctl profiles use ''); COMP_CWORD=3; _etctl etctl '' use; echo \"${{COMPREPLY[*]}}\"",
            scripts.display()
        ),
    );
    assert_eq!(bash, "alpha beta\n-h -V --help --version alpha beta\n");
    let fish = shell(
        "fish",
        format!(
            "source {}/etctl.fish; complete -C 'etctl whoami --profile '; complete -C 'etctl profiles use '",
            scripts.display()
        ),
    );
    let names: Vec<&str> = fish.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(names, ["alpha", "beta", "alpha", "beta"], "{fish}");

    // zsh completes only in an interactive line editor: type in a real terminal.
    std::fs::write(
        home.path().join(".zshrc"),
        format!("fpath=({} $fpath)\nautoload -U compinit && compinit -u\nPS1='zsh-ready%% '\n", scripts.display()),
    )
    .unwrap();
    let term = Terminal::run(
        "zsh -i",
        "",
        &[
            ("HOME", home.path().to_str().unwrap()),
            ("ZDOTDIR", home.path().to_str().unwrap()),
            ("XDG_CONFIG_HOME", env[1].1),
            ("ETCTL_KEYRING", "off"),
            ("PATH", &path),
        ],
        100,
        20,
    );
    term.wait_for("zsh-ready");
    term.type_text("etctl profiles use ");
    term.keys(&["Tab"]);
    let screen = term.wait_for("beta");
    assert!(screen.contains("alpha"), "{screen}");
}

#[test]
fn show_without_a_key_is_the_credential_in_use() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let home = Home::new();
    let me = etctl(home.cmd_as(&ledger, &operator), &["show", "--json"]).ok().json();
    assert_eq!(me["api_key"], operator.0.as_str());
    assert_eq!(me["label"], "ops");
}

#[test]
fn list_filters_by_label_and_quiet_feeds_xargs() {
    let ledger = Ledger::start();
    let operator = ledger.register(Some("ops"));
    let ci1 = ledger.register(Some("ci-linux"));
    let ci2 = ledger.register(Some("ci-mac"));
    ledger.register(Some("billing"));
    ledger.register(None);
    let home = Home::new();
    let run = etctl(home.cmd_as(&ledger, &operator), &["list", "--label", "ci-*", "-q"]).ok();
    assert_eq!(run.stdout, format!("{}\n{}\n", ci1.0, ci2.0));
    let json = etctl(home.cmd_as(&ledger, &operator), &["list", "--label", "billing", "--json"]).ok().json();
    assert_eq!(json.as_array().unwrap().len(), 1);
    // Through xargs, as the issue asks: revoke every ci-* key.
    let mut sh = Command::new("sh");
    sh.env("HOME", home.path()).env("XDG_CONFIG_HOME", home.path()).env("ETCTL_KEYRING", "off");
    sh.env("ETCTL_URL", &ledger.url).env("ETCTL_API_KEY", &operator.0).env("ETCTL_API_SECRET", &operator.1);
    sh.env("ETCTL", ETCTL);
    let out =
        sh.args(["-c", "\"$ETCTL\" list --label 'ci-*' -q | xargs -n1 \"$ETCTL\" revoke --yes"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!active(&ledger, &ci1) && !active(&ledger, &ci2));
    assert!(active(&ledger, &operator));
    // A bad pattern is a usage error.
    etctl(home.cmd_as(&ledger, &operator), &["list", "--label", "[oops"]).code(2);
}

#[test]
fn rotate_mints_for_the_instance_the_ledger_reports() {
    let ledger = Ledger::start();
    let old = ledger.register(Some("ops"));
    let home = Home::new();
    let mut cmd = home.cmd_as(&ledger, &old);
    cmd.env("ETCTL_VENDOR_KEY_FILE", home.vendor_key_file());
    let rotation = etctl(cmd, &["rotate", "--json"]).ok().json();
    let new =
        (rotation["new_api_key"].as_str().unwrap().to_owned(), rotation["new_api_secret"].as_str().unwrap().to_owned());
    assert!(active(&ledger, &new) && !active(&ledger, &old));
}

#[test]
fn versions_name_the_commit_and_build_date_and_ledgerd_logs_its_key_fingerprint() {
    let commit =
        Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(env!("CARGO_MANIFEST_DIR")).output();
    for bin in [ETCTL, LEDGERD] {
        let out = Command::new(bin).arg("--version").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let version = text.trim().split_once(' ').unwrap().1;
        assert!(version.starts_with(&format!("{} (", env!("CARGO_PKG_VERSION"))), "{text}");
        assert!(version.contains(", built 20") || version.contains("(built 20"), "{text}");
        if let Ok(commit) = &commit
            && commit.status.success()
        {
            assert!(version.contains("(commit "), "a build in a git checkout names its commit: {text}");
        }
    }
    let ledger = Ledger::start();
    let home = Home::new();
    let fingerprint = etctl(home.vendor_cmd(), &["vendor", "instance-key", INSTANCE, "--fingerprint"]).ok().stdout;
    assert_eq!(fingerprint.trim().len(), 8);
    let logs = ledger.logs();
    assert!(logs.contains(fingerprint.trim()), "ledgerd does not log the fingerprint {fingerprint}:\n{logs}");
    assert!(logs.contains(INSTANCE), "{logs}");
    assert!(!logs.contains(&crate::common::instance_key_hex(INSTANCE)), "the key itself is never logged");
    assert!(logs.contains(&format!("ledgerd {}", env!("CARGO_PKG_VERSION"))), "{logs}");
}

#[test]
fn instance_key_output_is_a_new_0600_file() {
    let home = Home::new();
    let path = home.path().join("acme.key");
    let run = etctl(home.vendor_cmd(), &["vendor", "instance-key", INSTANCE, "--output", path.to_str().unwrap()]).ok();
    assert_eq!(run.stdout, "", "the key goes to the file only");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{}\n", common::instance_key_hex(INSTANCE)));
    // An existing file is left alone.
    let other = home.path().join("other.key");
    write_0600(&other, "keep me\n");
    etctl(home.vendor_cmd(), &["vendor", "instance-key", INSTANCE, "--output", other.to_str().unwrap()]).code(3);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep me\n");
}

#[test]
fn db_revoke_records_the_real_user_never_unknown() {
    let ledger = Ledger::start();
    let victim = ledger.register(None);
    let home = Home::new();
    let user = Command::new("id").arg("-un").output().unwrap();
    let user = String::from_utf8(user.stdout).unwrap().trim().to_owned();
    let mut cmd = home.cmd();
    cmd.env_remove("USER").env_remove("LOGNAME").env_remove("USERNAME").env_remove("SUDO_USER");
    etctl(cmd, &["db", "revoke", &victim.0, "--db", ledger.db.to_str().unwrap(), "--yes"]).ok();
    let conn = rusqlite::Connection::open(&ledger.db).unwrap();
    let reason: String = conn
        .query_row("SELECT reason FROM credential_audit WHERE api_key = ?1 AND action = 'revoke'", [&victim.0], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(reason.contains(&format!("by {user}@")) && !reason.contains("unknown"), "{reason}");
}

#[test]
fn ledgerd_errors_are_one_line_naming_the_flag_or_variable() {
    let out = common::ledgerd().args(["--listen", "8081"]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("HOST:PORT") && stderr.contains("127.0.0.1:8081"), "{stderr}");

    let out = common::ledgerd().env("LEDGERD_AUTH_CACHE_TTL", "301").output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: LEDGERD_AUTH_CACHE_TTL "), "{stderr}");

    let out = common::ledgerd().env("LEDGERD_LISTEN", "8081").output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("LEDGERD_LISTEN") && stderr.contains("HOST:PORT"), "{stderr}");
}

#[test]
fn db_revoke_confirms_on_a_whole_line_too() {
    let ledger = Ledger::start();
    let victim = ledger.register(Some("laptop"));
    let home = Home::new();
    let db = ledger.db.to_str().unwrap().to_owned();
    let env = [
        ("HOME", home.path().to_str().unwrap()),
        ("XDG_CONFIG_HOME", home.path().to_str().unwrap()),
        ("ETCTL_KEYRING", "off"),
        ("ETCTL_DB", db.as_str()),
    ];
    let term = Terminal::run(&format!("{ETCTL} db revoke {} --reason stolen", victim.0), "", &env, 120, 30);
    let screen = term.wait_for("Revoke ");
    term.type_text("y");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(term.running() && active(&ledger, &victim), "revoked on a single keypress");
    assert!(screen.contains("laptop") && screen.contains("Type yes"), "{screen}");
    term.keys(&["Enter"]);
    assert_eq!(term.exit_code(), 0, "{}", term.screen());
    assert!(crate::common::time_until(std::time::Duration::from_secs(10), || !active(&ledger, &victim)).is_some());
}

#[test]
fn no_color_turns_off_ledgerds_colours_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::common::instance_key_hex(INSTANCE);
    let db = dir.path().join("ledger.db");
    let command = format!("{LEDGERD} --listen 127.0.0.1:0 --db {} --instance-id {INSTANCE}", db.display());
    let base = [("LEDGERD_INSTANCE_KEY", key.as_str()), ("RUST_LOG", "info")];
    // Without NO_COLOR the terminal gets colour (so the test can see it), with it none.
    let coloured = Terminal::run(&command, "", &base, 200, 30);
    coloured.wait_for("listening on");
    assert!(coloured.screen_with_escapes().contains("\x1b["), "no colour even without NO_COLOR");
    let mut env = base.to_vec();
    env.push(("NO_COLOR", "1"));
    let plain = Terminal::run(
        &command.replace(db.to_str().unwrap(), dir.path().join("b.db").to_str().unwrap()),
        "",
        &env,
        200,
        30,
    );
    plain.wait_for("listening on");
    let screen = plain.screen_with_escapes();
    assert!(!screen.contains("\x1b["), "colour despite NO_COLOR:\n{screen:?}");
}
