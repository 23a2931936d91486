//! The etctl CLI (being built).

/// Runs etctl with the process's arguments.
pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
