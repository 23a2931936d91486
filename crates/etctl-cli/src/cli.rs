//! The clap definitions of etctl, and nothing else: the xtask renders completions and man pages
//! from [`command`] without compiling the commands themselves.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// The default ledger URL when neither `--url`, `ETCTL_URL` nor a profile gives one.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// Shown at the end of `etctl --help`; the same table is in `EXIT_CODES.md`.
pub const AFTER_HELP: &str = "\
Environment:
  ETCTL_URL              ledger URL [default: http://127.0.0.1:8080]
  ETCTL_API_KEY          operator credential: its ak_ key
  ETCTL_API_SECRET       operator credential: its sk_ secret
  ETCTL_PROFILE          saved profile to use [default: default]
  ETCTL_NEW_API_SECRET   secret for register, verify, rotate --new-key
  ETCTL_VENDOR_KEY_FILE  vendor master key file (keyring then unused)
  ETCTL_DB               ledger database for the `db` commands
  ETCTL_KEYRING=off      never use the OS keyring (0600 files instead)
  NO_COLOR               no colour (none off a terminal either)

Precedence: flags > ETCTL_* environment > saved profile > defaults.

Exit codes:
  0   success (also when the reader closes the pipe early)
  1   internal or unexpected error
  2   usage: bad arguments; confirmation needed (--yes) or declined
  3   config: no URL, credential or vendor key; key file not 0600
  4   ledger unreachable: refused, timed out, or not the ledger API
  5   unauthorized: the ledger refused the operator credential (401)
  6   invalid credential: secret not derived for the key (403, verify)
  7   duplicate: the api_key was registered before (409)
  8   not found: no such credential, or already revoked (404)
  9   bad input: malformed key or secret, wrong --db, not a ledger db
  10  ledger error: 5xx, or 429 (too many attempts; retry later)";

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
    after_help = AFTER_HELP,
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Ledger URL; beats ETCTL_URL and the profile's URL [default: http://127.0.0.1:8080]
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// Seconds to wait for each answer from the ledger
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
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
    /// List the ledger's credentials (every page)
    List(ListArgs),
    /// Show one credential
    Show(ShowArgs),
    /// Revoke a credential through the API (asks first on a terminal; --yes otherwise)
    Revoke(RevokeArgs),
    /// Replace the operator credential: register a new pair, prove it, save it, revoke the old one
    Rotate(RotateArgs),
    /// Show which credential the ledger sees (GET /whoami)
    Whoami(JsonArg),
    /// Save a ledger URL and operator credential as a profile, after checking it with the ledger
    Login(LoginArgs),
    /// Forget a saved profile and its secret
    Logout,
    /// List the saved profiles
    Profiles(JsonArg),
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
    /// Print the instance key (hex) to provision on that ledger as LEDGERD_INSTANCE_KEY
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
}

/// Output formats of `generate` and `rotate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people
    Table,
    /// A JSON array (generate) or object (rotate)
    Json,
    /// `ETCTL_API_KEY=... ETCTL_API_SECRET=...` lines to eval in a shell
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
    /// The ak_ key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)
    #[arg(value_name = "API_KEY")]
    pub api_key: String,
    /// A label to find the credential by later
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Print the registered record as JSON
    #[arg(long)]
    pub json: bool,
}

/// Which credentials to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    Active,
    Revoked,
    All,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Which credentials
    #[arg(long, value_enum, default_value_t = Status::Active)]
    pub status: Status,
    /// A JSON array of credential records
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[arg(value_name = "API_KEY")]
    pub api_key: String,
    /// The credential record as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
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
    /// Rotate to this already-minted key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)
    #[arg(long, value_name = "API_KEY", conflicts_with = "instance")]
    pub new_key: Option<String>,
    /// Mint the new pair for this instance with the vendor key
    #[arg(long, value_name = "INSTANCE")]
    pub instance: Option<String>,
    /// Label of the new credential [default: the old one's]
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format; `env` prints the new ETCTL_API_KEY/ETCTL_API_SECRET to eval
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
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
}

#[derive(Debug, Args)]
pub struct DbArg {
    /// The ledger's SQLite file; it must exist (nothing is ever created)
    #[arg(long, env = "ETCTL_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DbListArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Which credentials
    #[arg(long, value_enum, default_value_t = Status::Active)]
    pub status: Status,
    /// A JSON array of credential records
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DbRevokeArgs {
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
pub struct CompletionsArgs {
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// The complete `etctl` command, for parsing, completions and man pages.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Writes the completion script for `shell` to `out`, exactly as `etctl completions` prints it.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut command(), "etctl", out);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_definition_is_consistent() {
        super::command().debug_assert();
    }
}
