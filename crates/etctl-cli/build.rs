//! Sets `ETCTL_LONG_VERSION`, the version `etctl --version` prints (see build_version.rs).

#[path = "build_version.rs"]
mod version;

fn main() {
    println!("cargo:rustc-env=ETCTL_LONG_VERSION={}", version::long_version());
}
