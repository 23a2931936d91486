//! etctl, the vendor and operator CLI of ledgerd: clap definitions in [`cli`] (all the xtask
//! needs), the commands behind feature `app`, and one mapping from failure classes to exit codes
//! (see `EXIT_CODES.md`).

pub mod cli;

#[cfg(feature = "app")]
mod api;
#[cfg(feature = "app")]
mod db;
#[cfg(feature = "app")]
pub mod exit;
#[cfg(feature = "app")]
mod input;
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
        cli::Status::Revoked => et_api::StatusFilter::Revoked,
        cli::Status::All => et_api::StatusFilter::All,
    }
}

#[cfg(feature = "app")]
mod app {
    use std::process::ExitCode;

    use clap::Parser;

    use crate::cli::{Cli, Command, DbCommand, VendorCommand};
    use crate::exit::{self, Outcome};
    use crate::output::Out;
    use crate::{api, cli, db, rotate, vendor};

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
        exit::finish(run(&cli))
    }

    fn run(cli: &Cli) -> Outcome {
        let global = &cli.global;
        match &cli.command {
            Command::Vendor(VendorCommand::Init(args)) => vendor::init(args),
            Command::Vendor(VendorCommand::InstanceKey(args)) => vendor::instance_key(args),
            Command::Generate(args) => vendor::generate(args),
            Command::Verify(args) => vendor::verify(args),
            Command::Register(args) => api::register(global, args),
            Command::List(args) => api::list(global, args),
            Command::Show(args) => api::show(global, args),
            Command::Revoke(args) => api::revoke(global, args),
            Command::Rotate(args) => rotate::rotate(global, args),
            Command::Whoami(args) => api::whoami(global, args),
            Command::Login(args) => api::login(global, args),
            Command::Logout => api::logout(global),
            Command::Profiles(args) => api::profiles(global, args),
            Command::Db(DbCommand::List(args)) => db::list(args),
            Command::Db(DbCommand::Revoke(args)) => db::revoke(args),
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
