//! etctl, the vendor and operator CLI of ledgerd: clap definitions in [`cli`] (all the xtask
//! needs), the commands behind feature `app`, and one mapping from failure classes to exit codes
//! (see `EXIT_CODES.md`).

pub mod cli;
pub mod values;

#[cfg(feature = "app")]
mod api;
#[cfg(feature = "app")]
mod db;
#[cfg(feature = "app")]
pub mod exit;
#[cfg(feature = "app")]
mod input;
#[cfg(feature = "app")]
mod interrupt;
#[cfg(feature = "app")]
mod keystore;
#[cfg(feature = "app")]
mod output;
#[cfg(feature = "app")]
mod profile;
#[cfg(feature = "app")]
mod rotate;
#[cfg(feature = "app")]
mod table;
#[cfg(feature = "app")]
mod vendor;

#[cfg(feature = "app")]
pub use app::main;

#[cfg(feature = "app")]
fn status_filter(status: cli::Status) -> et_api::StatusFilter {
    match status {
        cli::Status::Active => et_api::StatusFilter::Active,
        cli::Status::Expired => et_api::StatusFilter::Expired,
        cli::Status::Revoked => et_api::StatusFilter::Revoked,
        cli::Status::All => et_api::StatusFilter::All,
    }
}

#[cfg(feature = "app")]
mod app {
    use std::process::ExitCode;

    use clap::Parser;

    use crate::cli::{Cli, Command, DbCommand, GlobalArgs, ProfileArg, ProfilesCommand, VendorCommand};
    use crate::exit::{self, Failure, Outcome};
    use crate::output::Out;
    use crate::{api, cli, db, interrupt, rotate, vendor};

    /// Runs etctl with the process's arguments and returns its exit code.
    pub fn main() -> ExitCode {
        let cli = match Cli::try_parse() {
            Ok(cli) => cli,
            Err(error) => {
                // Help and version go to stdout with 0; usage errors to stderr with 2. A closed
                // pipe while printing help is not worth a panic either.
                let _ = error.print();
                return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
            }
        };
        interrupt::install();
        exit::finish(run(&cli))
    }

    /// The name of a command that does not talk to a ledger, for the refusal of the ledger options
    /// given before it.
    fn offline(command: &Command) -> Option<&'static str> {
        match command {
            Command::Vendor(_) => Some("vendor"),
            Command::Generate(_) => Some("generate"),
            Command::Verify(_) => Some("verify"),
            Command::Db(_) => Some("db"),
            Command::Completions(_) => Some("completions"),
            _ => None,
        }
    }

    fn run(cli: &Cli) -> Outcome {
        let early = &cli.early;
        if let (true, Some(name)) = (early.any(), offline(&cli.command)) {
            return Err(Failure::usage(format!(
                "--url, --profile and --timeout mean nothing to `etctl {name}`, which does not talk to a ledger; leave them out"
            )));
        }
        let ledger = |args: &GlobalArgs| args.merged(early);
        let profile =
            |args: &ProfileArg| ProfileArg { profile: args.profile.clone().or_else(|| early.profile.clone()) };
        match &cli.command {
            Command::Vendor(VendorCommand::Init(args)) => vendor::init(args),
            Command::Vendor(VendorCommand::InstanceKey(args)) => vendor::instance_key(args),
            Command::Generate(args) => vendor::generate(args),
            Command::Verify(args) => vendor::verify(args),
            Command::Register(args) => api::register(&ledger(&args.ledger), args),
            Command::Update(args) => api::update(&ledger(&args.ledger), args),
            Command::Audit(args) => api::audit(&ledger(&args.ledger), args),
            Command::List(args) => api::list(&ledger(&args.ledger), args),
            Command::Show(args) => api::show(&ledger(&args.ledger), args),
            Command::Revoke(args) => api::revoke(&ledger(&args.ledger), args),
            Command::Rotate(args) => rotate::rotate(&ledger(&args.ledger), args),
            Command::Whoami(args) => api::whoami(&ledger(&args.ledger), args),
            Command::Status(args) => api::status(&ledger(&args.ledger), args),
            Command::Login(args) => api::login(&ledger(&args.ledger), args),
            Command::Logout(args) => api::logout(&profile(args)),
            Command::Profiles(args) => match &args.command {
                Some(ProfilesCommand::Use(use_args)) => api::profiles_use(use_args),
                None => api::profiles(&profile(&ProfileArg::default()), args),
            },
            Command::Db(DbCommand::List(args)) => db::list(args),
            Command::Db(DbCommand::Revoke(args)) => db::revoke(args),
            Command::Db(DbCommand::Audit(args)) => db::audit(args),
            Command::Completions(args) => {
                let mut buf = Vec::new();
                cli::write_completions(args.shell, &mut buf);
                let mut out = Out::new();
                out.write(&buf)?;
                out.flush()
            }
        }
    }
}
