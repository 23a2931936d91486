//! etctl speaks https to a ledger behind a TLS-terminating proxy (SPEC §5 leaves TLS to one): it
//! verifies the certificate against the system's roots (here a test CA given by SSL_CERT_FILE) and
//! refuses an unknown issuer with the unreachable-ledger exit code and a sentence saying why.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::etctl_support::{Home, etctl};

const SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/tls/server.py");

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl").args(args).current_dir(dir).stderr(Stdio::null()).status();
    assert!(ok.expect("the openssl command (Debian package openssl)").success(), "openssl {args:?}");
}

/// A test CA, and a certificate for 127.0.0.1 it signed.
fn certificates(dir: &Path) {
    let ca = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"];
    openssl(dir, &[&ca[..], &["-days", "1", "-subj", "/CN=etctl test CA"]].concat());
    let csr = ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "leaf.csr"];
    openssl(dir, &[&csr[..], &["-subj", "/CN=localhost"]].concat());
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let sign = ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"];
    openssl(dir, &[&sign[..], &["-out", "cert.pem", "-days", "1", "-extfile", "ext.cnf"]].concat());
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn etctl_talks_https_and_refuses_an_unknown_issuer() {
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path());
    let mut child = Command::new("python3")
        .arg(SERVER)
        .args([certs.path().join("cert.pem"), certs.path().join("key.pem")])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut port = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut port).unwrap();
    let _server = Server(child);
    let url = format!("https://127.0.0.1:{}", port.trim());

    let home = Home::new();
    let (key, secret) = crate::common::mint_for(crate::common::INSTANCE);
    let with = |cmd: &mut Command| {
        cmd.env("ETCTL_URL", &url).env("ETCTL_API_KEY", &key).env("ETCTL_API_SECRET", &secret);
    };

    let mut cmd = home.cmd();
    with(&mut cmd);
    let refused = etctl(cmd, &["--timeout", "5", "whoami"]).code(4);
    assert!(refused.stderr.contains("certificate"), "{}", refused.stderr);
    assert!(!refused.stderr.contains(&secret[3..]));

    let mut cmd = home.cmd();
    with(&mut cmd);
    cmd.env("SSL_CERT_FILE", certs.path().join("ca.pem"));
    let ok = etctl(cmd, &["--timeout", "5", "whoami"]).ok();
    assert_eq!(ok.stdout, format!("{key}\tthrough tls\n"));
}
