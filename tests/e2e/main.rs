//! End-to-end tests: the real `ledgerd` and `etctl` binaries, on 127.0.0.1:0, with temp dirs.
//! One module per workflow; `common` holds the harness.

mod common;
mod ledgerd;
