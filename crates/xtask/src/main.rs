//! Project automation, run as `cargo xtask <task>`:
//!
//! - `codegen`: render shell completions into `completions/` and man pages into `man/` from the
//!   binaries' own clap definitions;
//! - `codegen --check`: change nothing, and fail naming every file that is stale, missing or
//!   left over (CI and a unit test run this);
//! - `bench [--quick]`: the benchmark suite (wrk against a release ledgerd; see BENCHMARKS.md).

mod bench;
mod codegen;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask codegen [--check] | bench [--quick]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => report(codegen::write(&codegen::root())),
        ["codegen", "--check"] => report(codegen::check(&codegen::root())),
        ["bench", rest @ ..] => bench::main(rest),
        ["-h" | "--help"] | [] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn report(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(message) => {
            eprintln!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
