//! Issue 10, packaging: `scripts/install.sh` puts the binaries, man pages, completions and the
//! hardened systemd unit where each tool looks, and `systemd-analyze verify` accepts the unit.
//! CI also installs into /usr/local for real and runs the installed commands (.ci/run).

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs a tool; a missing one fails, naming the package to install.
fn tool(program: &str, package: &str, args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.output() {
        Ok(output) => output,
        Err(e) => panic!(
            "cannot run {program} ({e}); install the package {package} (apt-get install {package}), as .ci/run does"
        ),
    }
}

#[test]
fn install_sh_puts_everything_where_the_tools_look() {
    let prefix = tempfile::tempdir().unwrap();
    let p = prefix.path();
    let built = Path::new(env!("CARGO_BIN_EXE_etctl")).parent().unwrap();
    let out = Command::new("sh")
        .arg(Path::new(ROOT).join("scripts/install.sh"))
        .env("PREFIX", p)
        .env("BUILD_DIR", built)
        .env_remove("DESTDIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "install.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));

    // The binaries run from where they were put.
    let version = tool(p.join("bin/ledgerd").to_str().unwrap(), "-", &["--version"], &[]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("ledgerd "), "{version:?}");

    // man finds every page.
    let man = tool("man", "man-db", &["-w", "etctl"], &[("MANPATH", &p.join("share/man"))]);
    assert!(String::from_utf8_lossy(&man.stdout).trim().ends_with("man1/etctl.1"), "{man:?}");
    for page in std::fs::read_dir(Path::new(ROOT).join("man")).unwrap() {
        let name = page.unwrap().file_name();
        assert!(p.join("share/man/man1").join(&name).is_file(), "{name:?} was not installed");
    }

    // bash-completion loads it on demand from $XDG_DATA_DIRS/bash-completion/completions.
    let data_dirs = format!("{}:/usr/share", p.join("share").display());
    let bash = tool(
        "bash",
        "bash-completion",
        &["-c", "source /usr/share/bash-completion/bash_completion && __load_completion etctl && complete -p etctl"],
        &[("XDG_DATA_DIRS", Path::new(&data_dirs))],
    );
    assert!(String::from_utf8_lossy(&bash.stdout).contains("-F _etctl etctl"), "{bash:?}");

    // fish reads $XDG_DATA_DIRS/fish/vendor_completions.d, for a command it finds on PATH.
    let path = format!("{}:/usr/bin:/bin", p.join("bin").display());
    let fish = tool(
        "fish",
        "fish",
        &["-c", "complete -C 'etctl prof'"],
        &[("XDG_DATA_DIRS", Path::new(&data_dirs)), ("PATH", Path::new(&path))],
    );
    assert!(String::from_utf8_lossy(&fish.stdout).contains("profiles"), "{fish:?}");

    // zsh: the file is where zsh's default fpath looks under /usr/local.
    assert!(p.join("share/zsh/site-functions/_etctl").is_file());
    let fpath = tool("zsh", "zsh", &["-fc", "print -l $fpath"], &[]);
    assert!(String::from_utf8_lossy(&fpath.stdout).lines().any(|l| l == "/usr/local/share/zsh/site-functions"));

    // The examples the README points to, beside it.
    for doc in ["README.md", "ledgerd.env.example", "nginx-ledgerd.conf"] {
        assert!(p.join("share/doc/etctl-ledgerd").join(doc).is_file(), "{doc} was not installed");
    }

    // The unit: hardened, pointing at the installed ledgerd, accepted by systemd.
    let unit = p.join("lib/systemd/system/ledgerd.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    for directive in
        ["DynamicUser=yes", "StateDirectory=ledgerd", "LimitCORE=0", "NoNewPrivileges=yes", "ProtectSystem=strict"]
    {
        assert!(text.lines().any(|l| l == directive), "the unit lacks {directive}");
    }
    assert!(text.contains(&format!("ExecStart={}/bin/ledgerd", p.display())), "{text}");
    // --man=no: the unit's man:ledgerd(1) is installed under this prefix, not where man looks.
    let verify = tool("systemd-analyze", "systemd", &["verify", "--man=no", unit.to_str().unwrap()], &[]);
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn install_sh_without_built_binaries_says_how_to_build_them() {
    let empty = tempfile::tempdir().unwrap();
    let prefix = tempfile::tempdir().unwrap();
    let out = Command::new("sh")
        .arg(Path::new(ROOT).join("scripts/install.sh"))
        .env("PREFIX", prefix.path())
        .env("BUILD_DIR", empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cargo build --release"), "{out:?}");
    assert_eq!(std::fs::read_dir(prefix.path()).unwrap().count(), 0, "nothing was installed");
}
