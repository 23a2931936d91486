//! etctl's vendor workflow, offline: create the master key, derive instance keys, mint pairs and
//! verify them. No ledger involved.

use et_core::{ApiKey, ApiSecret, InstanceId, MasterKey};

use crate::common::MASTER_HEX;
use crate::etctl_support::{Home, etctl, etctl_in, mode, redactions};

const SPEC_MASTER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SPEC_INSTANCE_KEY: &str = "089489b6e984867345c43d15dc262b9a5b7afdc76bd1c7c5426ac000fac4a63c";

#[test]
fn vendor_init_creates_a_0600_key_file_and_never_overwrites_it_without_force() {
    let home = Home::new();
    let key_file = home.path().join(".config/etctl/vendor.key");

    let run = etctl(home.cmd(), &["vendor", "init"]).ok();
    assert_eq!(run.stdout, "", "vendor init prints nothing on stdout");
    assert!(run.stderr.contains(&key_file.display().to_string()), "{}", run.stderr);
    assert_eq!(mode(&key_file), 0o600);
    let first = std::fs::read_to_string(&key_file).unwrap();
    MasterKey::from_hex(&first).expect("the file holds a hex master key");

    let again = etctl(home.cmd(), &["vendor", "init"]).code(3);
    assert!(again.stderr.starts_with("error: ") && again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), first, "the key is left as it was");

    etctl(home.cmd(), &["vendor", "init", "--force"]).ok();
    let replaced = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(replaced, first);
    assert_eq!(mode(&key_file), 0o600);

    // The key just created is the one used.
    let hex = etctl(home.cmd(), &["vendor", "instance-key", "acme-prod-eu1"]).ok().stdout;
    let expected = MasterKey::from_hex(&replaced).unwrap().instance_key(&InstanceId::parse("acme-prod-eu1").unwrap());
    assert_eq!(hex.trim(), expected.to_hex().as_str());
}

#[test]
fn vendor_key_file_env_overrides_the_default_location() {
    let home = Home::new();
    let custom = home.path().join("keys/vendor.hex");
    let mut cmd = home.cmd();
    cmd.env("ETCTL_VENDOR_KEY_FILE", &custom);
    etctl(cmd, &["vendor", "init"]).ok();
    assert_eq!(mode(&custom), 0o600);
    assert!(!home.path().join(".config/etctl/vendor.key").exists());

    let mut cmd = home.cmd();
    cmd.env("ETCTL_VENDOR_KEY_FILE", &custom);
    etctl(cmd, &["vendor", "init"]).code(3);
}

#[test]
fn instance_key_matches_the_spec_test_vector_and_prints_the_hex_alone() {
    let home = Home::new();
    let path = home.path().join("spec.key");
    crate::etctl_support::write_0600(&path, SPEC_MASTER);
    let mut cmd = home.cmd();
    cmd.env("ETCTL_VENDOR_KEY_FILE", &path);
    let run = etctl(cmd, &["vendor", "instance-key", "acme-prod-eu1"]).ok();
    assert_eq!(run.stdout, format!("{SPEC_INSTANCE_KEY}\n"));
    assert_eq!(run.stderr, "");

    let bad = etctl(home.vendor_cmd(), &["vendor", "instance-key", "Not_An_Instance"]).code(9);
    assert!(bad.stderr.starts_with("error: "), "{}", bad.stderr);
}

#[test]
fn a_key_file_others_can_read_is_refused_with_the_chmod_to_run() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let path = home.vendor_key_file();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = etctl(home.vendor_cmd(), &["generate", "--instance", "acme"]).code(3);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains(&format!("chmod 600 {}", path.display())), "{}", run.stderr);
    redactions(&[]).bind(|| insta::assert_snapshot!("world_readable_key", run.transcript()));
}

#[test]
fn without_a_vendor_key_commands_say_how_to_make_one() {
    let home = Home::new();
    let run = etctl(home.cmd(), &["generate", "--instance", "acme"]).code(3);
    assert!(run.stderr.contains("etctl vendor init"), "{}", run.stderr);
    let mut cmd = home.cmd();
    cmd.env("ETCTL_VENDOR_KEY_FILE", home.path().join("nope.key"));
    let run = etctl(cmd, &["vendor", "instance-key", "acme"]).code(3);
    assert!(run.stderr.contains("ETCTL_VENDOR_KEY_FILE"), "{}", run.stderr);
}

#[test]
fn generated_pairs_verify_offline_and_under_the_reference_implementation() {
    let home = Home::new();
    let run = etctl(home.vendor_cmd(), &["generate", "--instance", "acme-prod-eu1", "-n", "5", "--json"]).ok();
    assert_eq!(run.stderr, "");
    let pairs = run.json();
    let pairs = pairs.as_array().unwrap();
    assert_eq!(pairs.len(), 5);

    let instance_key =
        MasterKey::from_hex(MASTER_HEX).unwrap().instance_key(&InstanceId::parse("acme-prod-eu1").unwrap());
    for pair in pairs {
        let object = pair.as_object().unwrap();
        assert_eq!(object.len(), 3, "exactly api_key, api_secret, instance: {pair}");
        assert_eq!(pair["instance"], "acme-prod-eu1");
        let key = ApiKey::parse(pair["api_key"].as_str().unwrap()).unwrap();
        let secret = ApiSecret::parse(pair["api_secret"].as_str().unwrap()).unwrap();
        assert!(instance_key.verify(&key, &secret));

        // verify: the secret on stdin; the key on the command line.
        let ok = etctl_in(home.vendor_cmd(), &["verify", "--instance", "acme-prod-eu1", key.as_str()], secret.expose());
        let ok = ok.ok();
        assert_eq!(ok.stdout, "");
        // The same pair under another instance is not valid.
        etctl_in(home.vendor_cmd(), &["verify", "--instance", "other", key.as_str()], secret.expose()).code(6);
    }

    // The secret from the environment works too.
    let key = pairs[0]["api_key"].as_str().unwrap();
    let mut cmd = home.vendor_cmd();
    cmd.env("ETCTL_NEW_API_SECRET", pairs[0]["api_secret"].as_str().unwrap());
    etctl(cmd, &["verify", "--instance", "acme-prod-eu1", key]).ok();

    // A damaged key is caught by its checksum, locally: bad input.
    let mut damaged = key.to_owned();
    let last = damaged.pop().unwrap();
    damaged.push(if last == '0' { '1' } else { '0' });
    let run = etctl_in(home.vendor_cmd(), &["verify", "--instance", "acme-prod-eu1", &damaged], "sk_x").code(9);
    assert!(run.stderr.contains("checksum"), "{}", run.stderr);
    // No secret anywhere and no terminal: a usage error that says where a secret may come from.
    let run = etctl(home.vendor_cmd(), &["verify", "--instance", "acme-prod-eu1", key]).code(2);
    assert!(run.stderr.contains("ETCTL_NEW_API_SECRET"), "{}", run.stderr);
}

#[test]
fn generate_formats_table_and_env() {
    let home = Home::new();
    let table = etctl(home.vendor_cmd(), &["generate", "--instance", "acme", "-n", "2"]).ok();
    redactions(&[]).bind(|| insta::assert_snapshot!("generate_table", table.transcript()));

    let env = etctl(home.vendor_cmd(), &["generate", "--instance", "acme", "--format", "env"]).ok();
    redactions(&[]).bind(|| insta::assert_snapshot!("generate_env", env.transcript()));

    // The env form evaluates in a shell to a working pair.
    let script = format!(
        "set -eu; eval \"$(ETCTL_VENDOR_KEY_FILE={} {} generate --instance acme --format env)\"; printf %s \"$ETCTL_API_SECRET\" | ETCTL_VENDOR_KEY_FILE={} {} verify --instance acme \"$ETCTL_API_KEY\"",
        home.vendor_key_file().display(),
        env!("CARGO_BIN_EXE_etctl"),
        home.vendor_key_file().display(),
        env!("CARGO_BIN_EXE_etctl"),
    );
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("ETCTL_KEYRING", "off")
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn generate_json_of_many_pairs_is_one_valid_array() {
    let home = Home::new();
    let run = etctl(home.vendor_cmd(), &["generate", "--instance", "acme", "-n", "10000", "--json"]).ok();
    let pairs = run.json();
    let pairs = pairs.as_array().unwrap();
    assert_eq!(pairs.len(), 10000);
    let keys: std::collections::HashSet<&str> = pairs.iter().map(|p| p["api_key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 10000, "every key is different");
}
