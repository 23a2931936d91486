//! etctl: the vendor and operator CLI. Commands live in the `etctl-cli` crate.

fn main() -> std::process::ExitCode {
    etctl_cli::main()
}
