//! ledgerd: the ledger API server. Configuration and serving live in the `ledgerd-server` crate.

fn main() -> std::process::ExitCode {
    ledgerd_server::main()
}
