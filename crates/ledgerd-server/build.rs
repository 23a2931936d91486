//! Sets `LEDGERD_LONG_VERSION`, the version `ledgerd --version` prints and logs at start (see
//! ../etctl-cli/build_version.rs, shared with etctl).

#[path = "../etctl-cli/build_version.rs"]
mod version;

fn main() {
    println!("cargo:rustc-env=LEDGERD_LONG_VERSION={}", version::long_version());
}
