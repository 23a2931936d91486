//! The ledgerd server (being built).

/// Runs ledgerd with the process's arguments.
pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
