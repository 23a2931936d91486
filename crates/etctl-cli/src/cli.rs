//! The clap definitions of etctl, and nothing else: the xtask renders completions and man pages
//! from [`command`] without compiling the commands themselves.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::values::{self, Rate};

/// The default ledger URL when neither `--url`, `ETCTL_URL` nor a profile gives one.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// Every environment variable etctl reads, with what it is for: the end of `etctl --help` and the
/// ENVIRONMENT section of the man pages come from this one list.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("ETCTL_URL", "ledger URL [default: http://127.0.0.1:8080]"),
    ("ETCTL_API_KEY", "operator credential: its ak_ key"),
    ("ETCTL_API_SECRET", "operator credential: its sk_ secret"),
    ("ETCTL_PROFILE", "saved profile to use [default: `etctl profiles use`, else default]"),
    ("ETCTL_NEW_API_SECRET", "secret for register, verify, rotate --new-key"),
    ("ETCTL_VENDOR_KEY_FILE", "vendor master key file (the keyring is then unused)"),
    ("ETCTL_DB", "ledger database for the `db` commands"),
    ("ETCTL_KEYRING", "`off` never uses the OS keyring (0600 files instead)"),
    ("NO_COLOR", "no colour (there is none off a terminal either)"),
    ("COLUMNS", "width of tables on a terminal [default: the terminal's]"),
    ("XDG_CONFIG_HOME", "holds etctl/profiles.json and etctl/vendor.key [default: ~/.config]"),
    ("SUDO_USER", "the operator `etctl db revoke` records [default: the real user]"),
];

/// Every exit code and what it means: the end of `etctl --help`, the EXIT STATUS section of the
/// man pages, and (checked by a test) EXIT_CODES.md.
pub const EXIT_STATUS: &[(u8, &str)] = &[
    (0, "success (also when the reader closes the pipe early)"),
    (1, "internal or unexpected error"),
    (2, "usage: bad arguments; confirmation needed (--yes) or declined"),
    (3, "config: no URL, credential or vendor key; key file not 0600"),
    (4, "ledger unreachable: refused, timed out, not TLS, or not the ledger API"),
    (5, "unauthorized: the ledger refused the operator credential (401)"),
    (6, "invalid credential: secret not derived for the key (403, verify)"),
    (7, "duplicate: the api_key was registered before (409)"),
    (8, "not found: no such credential, or already revoked"),
    (9, "bad input: malformed key or secret, wrong --db, not a ledger db"),
    (10, "ledger error: 5xx, or 429 (too many attempts or past the rate limit)"),
    (11, "forbidden: the operator credential lacks the scope (403 FORBIDDEN)"),
    (12, "address not allowed: not from this address (403 IP_NOT_ALLOWED)"),
    (13, "credential limit reached: too many active (403)"),
    (130, "interrupted (Ctrl-C); the terminal is restored first"),
];

/// Shown at the end of `etctl --help`.
pub fn after_help() -> String {
    let mut text = String::from("Environment:\n");
    for (name, what) in ENVIRONMENT {
        text.push_str(&format!("  {name:<22} {what}\n"));
    }
    text.push_str(
        "\nPrecedence: flags > ETCTL_* environment > saved profile > defaults (`etctl status` shows which).\n\nExit codes:\n",
    );
    for (code, what) in EXIT_STATUS {
        text.push_str(&format!("  {code:<3} {what}\n"));
    }
    text.truncate(text.trim_end().len());
    text
}

#[derive(Debug, Parser)]
#[command(
    name = "etctl",
    version,
    about = "Mint, register, list, revoke and rotate ledger API credentials",
    long_about = "etctl: the vendor and operator CLI of ledgerd.\n\n\
        Vendor staff mint ak_/sk_ pairs for a ledger instance (`vendor`, `generate`, `verify`); \
        operators register, list, inspect, revoke and rotate credentials through the ledger's API, \
        or revoke straight in its database when the API is down (`db`).\n\n\
        stdout carries data only; messages go to stderr. Secrets are never taken from the command line.",
    after_help = after_help(),
    version = VERSION,
    propagate_version = true
)]
pub struct Cli {
    /// The ledger options given before the command (`etctl --url URL list`), as older scripts do;
    /// hidden, and refused for commands that do not talk to a ledger.
    #[command(flatten)]
    pub early: EarlyArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// etctl's version with the commit and build date (`0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-02)`),
/// from build.rs; a build outside a git checkout says only the date.
pub const VERSION: &str = env!("ETCTL_LONG_VERSION");

/// Seconds etctl waits for each answer from the ledger unless told otherwise.
pub const DEFAULT_TIMEOUT: u64 = 10;

/// [`LedgerArgs`] placed before the command name: accepted (hidden) so scripts written for the
/// global options keep working.
#[derive(Debug, Args)]
pub struct EarlyArgs {
    #[arg(long = "profile", value_name = "NAME", hide = true)]
    pub profile: Option<String>,
    #[arg(long = "url", value_name = "URL", hide = true)]
    pub url: Option<String>,
    #[arg(long = "timeout", value_name = "SECONDS", hide = true, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: Option<u64>,
}

impl EarlyArgs {
    pub fn any(&self) -> bool {
        self.profile.is_some() || self.url.is_some() || self.timeout.is_some()
    }
}

/// Which ledger and credential a command talks to: the commands that call the ledger's API.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Ledger URL; beats ETCTL_URL and the profile's URL [default: http://127.0.0.1:8080]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Seconds to wait for each answer from the ledger [default: 10]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: Option<u64>,
}

impl GlobalArgs {
    /// These options, with any given before the command name filling the gaps.
    pub fn merged(&self, early: &EarlyArgs) -> GlobalArgs {
        GlobalArgs {
            profile: self.profile.clone().or_else(|| early.profile.clone()),
            url: self.url.clone().or_else(|| early.url.clone()),
            timeout: self.timeout.or(early.timeout),
        }
    }

    pub fn timeout(&self) -> u64 {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}

/// `--profile` alone, for the commands that work on saved profiles without calling the ledger.
#[derive(Debug, Clone, Default, Args)]
pub struct ProfileArg {
    /// The saved profile to act on [default: ETCTL_PROFILE, then `etctl profiles use`, then default]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Vendor master key: create it, derive instance keys
    #[command(subcommand)]
    Vendor(VendorCommand),
    /// Mint ak_/sk_ pairs for an instance with the vendor key
    Generate(GenerateArgs),
    /// Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)
    Verify(VerifyArgs),
    /// Register a pair on the ledger (the secret comes from stdin, env or a prompt)
    Register(RegisterArgs),
    /// Change a credential's label, scopes, addresses, expiry or rate limit (PATCH)
    Update(UpdateArgs),
    /// List the ledger's credentials (every page)
    List(ListArgs),
    /// Show one credential (without API_KEY: the one etctl is using)
    Show(ShowArgs),
    /// Revoke a credential through the API (asks first on a terminal; --yes otherwise)
    Revoke(RevokeArgs),
    /// Replace the operator credential: register a new pair, prove it, save it, revoke the old one
    Rotate(RotateArgs),
    /// Who registered, changed and revoked credentials, newest first (GET /audit)
    Audit(AuditArgs),
    /// Show which credential the ledger sees (GET /whoami)
    Whoami(WhoamiArgs),
    /// Which ledger and credential etctl uses, where each came from, and whether the ledger answers
    Status(StatusArgs),
    /// Save a ledger URL and operator credential as a profile, after checking it with the ledger
    Login(LoginArgs),
    /// Forget a saved profile and its secret
    Logout(ProfileArg),
    /// List the saved profiles, or choose the default one (`profiles use NAME`)
    Profiles(ProfilesArgs),
    /// Work on the ledger's SQLite database directly (while ledgerd is up or down)
    #[command(subcommand)]
    Db(DbCommand),
    /// Print shell completions
    Completions(CompletionsArgs),
}

#[derive(Debug, Subcommand)]
pub enum VendorCommand {
    /// Create the vendor master key: in the OS keyring when reachable, else a 0600 file
    Init(VendorInitArgs),
    /// Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)
    InstanceKey(InstanceKeyArgs),
}

#[derive(Debug, Args)]
pub struct VendorInitArgs {
    /// Replace an existing vendor key (every pair minted with the old one stops verifying)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct InstanceKeyArgs {
    /// Instance id: 1-64 characters of a-z, 0-9 and -
    #[arg(value_name = "INSTANCE")]
    pub instance: String,
    /// Write the key to this new file, mode 0600, instead of stdout (an existing file is left alone)
    #[arg(short, long, value_name = "FILE", conflicts_with = "fingerprint")]
    pub output: Option<PathBuf>,
    /// Print only the key's fingerprint (first 8 hex of its SHA-256), as ledgerd logs it at start
    #[arg(long)]
    pub fingerprint: bool,
}

/// Output formats of `generate` and `rotate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people
    Table,
    /// A JSON array (generate) or object (rotate)
    Json,
    /// Shell lines: `export ETCTL_API_KEY=...` (rotate, to eval), `ETCTL_API_KEY=... ETCTL_API_SECRET=...` (generate, one pair a line)
    Env,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Instance the pairs are for
    #[arg(long, value_name = "INSTANCE")]
    pub instance: String,
    /// How many pairs
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Instance the pair should belong to
    #[arg(long, value_name = "INSTANCE")]
    pub instance: String,
    /// The ak_ key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)
    #[arg(value_name = "API_KEY")]
    pub api_key: String,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    /// The ak_ key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)
    #[arg(value_name = "API_KEY")]
    pub api_key: String,
    /// A label to find the credential by later
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the registered record as JSON
    #[arg(long)]
    pub json: bool,
}

/// What a credential may do (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeName {
    /// GET /accounts, GET /account/{id}
    #[value(name = "accounts:read")]
    AccountsRead,
    /// POST /accounts
    #[value(name = "accounts:write")]
    AccountsWrite,
    /// GET /credentials, GET /credentials/{api_key}, GET /audit
    #[value(name = "credentials:read")]
    CredentialsRead,
    /// DELETE and PATCH /credentials/{api_key}
    #[value(name = "credentials:write")]
    CredentialsWrite,
}

/// A credential's limits, at registration (`register`) or later (`update`): SPEC §6.
#[derive(Debug, Clone, Default, Args)]
pub struct PolicyArgs {
    /// Allow only this scope; repeat, or separate with commas [default at registration: all four]
    #[arg(long = "scope", value_enum, value_name = "SCOPE", value_delimiter = ',')]
    pub scopes: Vec<ScopeName>,
    /// Usable only from this address or CIDR block; repeat for more [default: anywhere]; `any` lifts the restriction
    #[arg(long = "allow-ip", value_name = "ADDRESS", value_parser = values::address)]
    pub allow_ips: Vec<String>,
    /// Expire after this long from now: 90d, 12h, 30m, 45s
    #[arg(long, value_name = "DURATION", value_parser = values::duration, conflicts_with_all = ["expires_at", "no_expiry"])]
    pub expires_in: Option<Duration>,
    /// Expire at this time, in RFC 3339: 2027-01-31T00:00:00Z, 2027-01-31T09:00:00+02:00
    #[arg(long, value_name = "TIME", value_parser = values::time, conflicts_with = "no_expiry")]
    pub expires_at: Option<time::OffsetDateTime>,
    /// Never expire (the ledger may still impose its LEDGERD_MAX_CREDENTIAL_LIFETIME at registration)
    #[arg(long)]
    pub no_expiry: bool,
    /// At most N requests per DURATION, per ledgerd process: 100/1m, 10/s, 5000/1h
    #[arg(long, value_name = "N/DURATION", value_parser = values::rate, conflicts_with = "no_rate_limit")]
    pub rate_limit: Option<Rate>,
    /// No rate limit of its own
    #[arg(long)]
    pub no_rate_limit: bool,
}

/// The flags of `update` that change something, for the usage error when none is given.
pub const UPDATE_FLAGS: &str =
    "--label, --scope, --allow-ip, --expires-in, --expires-at, --no-expiry, --rate-limit or --no-rate-limit";

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    /// The ak_ key to change (scopes and addresses given replace the whole list)
    #[arg(value_name = "API_KEY")]
    pub api_key: String,
    /// A new label (an empty one removes it)
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the updated record as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    /// Only the events of this ak_ key [default: every credential's]
    #[arg(value_name = "API_KEY")]
    pub api_key: Option<String>,
    /// Only the newest N events [default: all of them, every page]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// A JSON array of audit events, newest first
    #[arg(long)]
    pub json: bool,
}

/// Which credentials to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    /// Usable now: neither revoked nor expired
    Active,
    /// Past its expiry, not revoked
    Expired,
    Revoked,
    All,
}

/// How `list` and `db list` filter and print.
#[derive(Debug, Args)]
pub struct ListFilter {
    /// Which credentials
    #[arg(long, value_enum, default_value_t = Status::Active)]
    pub status: Status,
    /// Only credentials whose label matches this glob (`*` any run of characters, `?` one; exact otherwise)
    #[arg(long, value_name = "PATTERN")]
    pub label: Option<String>,
    /// A JSON array of credential records
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Only the keys, one per line (for xargs)
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    #[command(flatten)]
    pub filter: ListFilter,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    /// The ak_ key to show [default: the operator credential etctl is using]
    #[arg(value_name = "API_KEY")]
    pub api_key: Option<String>,
    /// The credential record as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    /// The ak_ key to revoke; revocation is permanent
    #[arg(value_name = "API_KEY")]
    pub api_key: String,
    /// Do not ask for confirmation (required without a terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// Print the API's answer as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    /// Rotate to this already-minted key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)
    #[arg(long, value_name = "API_KEY", conflicts_with = "instance")]
    pub new_key: Option<String>,
    /// Mint the new pair for this instance with the vendor key [default: the instance the ledger reports]
    #[arg(long, value_name = "INSTANCE")]
    pub instance: Option<String>,
    /// Label of the new credential [default: the old one's]
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Let the old credential work this much longer (90s, 10m, 1h), then expire, instead of revoking it at once
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    pub grace: Option<Duration>,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format; `env` prints `export ETCTL_API_KEY=…` and `export ETCTL_API_SECRET=…` to eval
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

#[derive(Debug, Args)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub command: Option<ProfilesCommand>,
    /// JSON output
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Only the profile names, one per line
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one
    Use(ProfilesUseArgs),
}

#[derive(Debug, Args)]
pub struct ProfilesUseArgs {
    /// A saved profile (see `etctl profiles`)
    #[arg(value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub ledger: GlobalArgs,
    /// The operator ak_ key [default: ETCTL_API_KEY, else a prompt]; the secret comes from stdin,
    /// ETCTL_API_SECRET or a prompt
    #[arg(long, value_name = "API_KEY")]
    pub api_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// List credentials straight from the database
    List(DbListArgs),
    /// Revoke a credential straight in the database (audited as `db`, with who and why)
    Revoke(DbRevokeArgs),
    /// Show the audit trail straight from the database, newest first: every registration, change
    /// and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)
    Audit(DbAuditArgs),
}

#[derive(Debug, Args)]
pub struct DbArg {
    /// The ledger's SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as
    /// LEDGERD_DB); it must hold a ledger already (nothing is ever created)
    #[arg(long, env = "ETCTL_DB", value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DbListArgs {
    #[command(flatten)]
    pub db: DbArg,
    #[command(flatten)]
    pub filter: ListFilter,
}

#[derive(Debug, Args)]
pub struct DbRevokeArgs {
    /// The ak_ key to revoke; revocation is permanent
    #[arg(value_name = "API_KEY")]
    pub api_key: String,
    #[command(flatten)]
    pub db: DbArg,
    /// Why, for the audit trail (who did it is recorded as well)
    #[arg(long, value_name = "REASON")]
    pub reason: Option<String>,
    /// Do not ask for confirmation (required without a terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// Say what would be revoked, and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DbAuditArgs {
    /// Only the events of this ak_ key
    #[arg(value_name = "API_KEY")]
    pub api_key: Option<String>,
    #[command(flatten)]
    pub db: DbArg,
    /// Only the newest N events [default: all of them]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// A JSON array of audit events ({id, at, api_key, action, actor, reason, changes})
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the completion script of
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// The complete `etctl` command, for parsing, completions and man pages.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Writes the completion script for `shell` to `out`, exactly as `etctl completions` prints it.
/// In bash, zsh and fish, `--profile` and `profiles use` complete the saved profile names.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), "etctl", &mut script);
    let script = String::from_utf8(script).expect("clap_complete writes UTF-8");
    let _ = out.write_all(with_profile_names(shell, script).as_bytes());
}

/// What the completion scripts run for the saved profile names (nothing when there are none).
const PROFILE_NAMES: &str = "etctl profiles --quiet 2>/dev/null";

/// Completes profile names where clap's static scripts would offer file names or nothing: each
/// replacement must match, or a unit test fails (a clap_complete upgrade changed its output).
fn with_profile_names(shell: clap_complete::Shell, script: String) -> String {
    use clap_complete::Shell;
    let replacements: Vec<(String, String)> = match shell {
        Shell::Bash => vec![
            (
                "--profile)\n                    COMPREPLY=($(compgen -f \"${cur}\"))".into(),
                format!(
                    "--profile)\n                    COMPREPLY=($(compgen -W \"$({PROFILE_NAMES})\" -- \"${{cur}}\"))"
                ),
            ),
            (
                "etctl__subcmd__profiles__subcmd__use)\n            opts=\"-h -V --help --version\"".into(),
                format!(
                    "etctl__subcmd__profiles__subcmd__use)\n            opts=\"-h -V --help --version $({PROFILE_NAMES})\""
                ),
            ),
        ],
        Shell::Zsh => {
            let names = format!("{{compadd -- ${{(f)\"$({PROFILE_NAMES})\"}}}}");
            vec![
                (":NAME:_default'".into(), format!(":NAME:{names}'")),
                ("(see `etctl profiles`):_default'".into(), format!("(see `etctl profiles`):{names}'")),
            ]
        }
        Shell::Fish => vec![
            (" -l profile -r\n".into(), format!(" -l profile -r -f -a \"({PROFILE_NAMES})\"\n")),
            (
                "the ETCTL_* credential' -r\n".into(),
                format!("the ETCTL_* credential' -r -f -a \"({PROFILE_NAMES})\"\n"),
            ),
            ("then default]' -r\n".into(), format!("then default]' -r -f -a \"({PROFILE_NAMES})\"\n")),
            (
                "__fish_seen_subcommand_from use\" -s h -l help -d 'Print help'\n".into(),
                format!(
                    "__fish_seen_subcommand_from use\" -s h -l help -d 'Print help'\ncomplete -c etctl -n \"__fish_etctl_using_subcommand profiles; and __fish_seen_subcommand_from use\" -f -a \"({PROFILE_NAMES})\"\n"
                ),
            ),
        ],
        _ => Vec::new(),
    };
    let mut script = script;
    for (from, to) in replacements {
        debug_assert!(script.contains(&from), "the {shell} completion script no longer contains {from:?}");
        script = script.replace(&from, &to);
    }
    script
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_definition_is_consistent() {
        super::command().debug_assert();
    }

    #[test]
    fn bash_zsh_and_fish_complete_profile_names() {
        for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
            // The replacements assert (in debug builds) that each pattern was found.
            let mut out = Vec::new();
            super::write_completions(shell, &mut out);
            let script = String::from_utf8(out).unwrap();
            assert!(script.matches(super::PROFILE_NAMES).count() >= 2, "{shell}: no profile names");
        }
    }
}
