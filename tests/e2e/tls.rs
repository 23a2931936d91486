//! https end to end. etctl speaks https to a ledger behind a TLS-terminating proxy: it verifies the
//! certificate against the system's roots (here a test CA given by SSL_CERT_FILE) and refuses an
//! unknown issuer with the unreachable-ledger exit code and a sentence saying why. And ledgerd
//! serves https itself (LEDGERD_TLS_CERT/KEY, issue 11 item 9), re-reading its pair on SIGHUP.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{Ledger, LedgerOptions, refused_start, time_until};
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

/// Another certificate for 127.0.0.1 from the CA of [`certificates`]: `NAME.pem` and `NAME.key`.
fn another_leaf(dir: &Path, name: &str) {
    let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
    openssl(dir, &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
    let sign = ["x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", &pem];
    openssl(dir, &[&sign[..], &["-days", "1", "-extfile", "ext.cnf"]].concat());
}

/// The SHA-256 fingerprint of a PEM certificate file.
fn fingerprint_of(file: &Path) -> String {
    let out = Command::new("openssl").args(["x509", "-noout", "-fingerprint", "-sha256", "-in"]).arg(file).output();
    String::from_utf8(out.unwrap().stdout).unwrap().trim().to_owned()
}

/// The SHA-256 fingerprint of the certificate a new connection to `addr` is served.
fn served_fingerprint(addr: &str) -> String {
    let script = format!(
        "openssl s_client -connect {addr} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn curl(ca: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(ca)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the curl command (Debian package curl)");
    child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
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

#[test]
fn ledgerd_serves_https_to_etctl_and_curl_and_rereads_its_certificate_on_sighup() {
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path());
    another_leaf(certs.path(), "renewed");
    let dir = certs.path();
    let (served_cert, served_key) = (dir.join("served-cert.pem"), dir.join("served-key.pem"));
    std::fs::copy(dir.join("cert.pem"), &served_cert).unwrap();
    std::fs::copy(dir.join("key.pem"), &served_key).unwrap();
    let ledger = Ledger::start_with(LedgerOptions {
        env: vec![
            ("LEDGERD_TLS_CERT".into(), served_cert.display().to_string()),
            ("LEDGERD_TLS_KEY".into(), served_key.display().to_string()),
        ],
        ..Default::default()
    });
    assert!(ledger.url.starts_with("https://127.0.0.1:"), "the listening line says https: {}", ledger.url);
    let addr = ledger.url.trim_start_matches("https://").to_owned();
    let ca = dir.join("ca.pem");

    // curl, with the CA: register a pair (secret on stdin) and read /health.
    let pair = ledger.mint();
    let body = format!(r#"{{"api_key":"{}","api_secret":"{}"}}"#, pair.0, pair.1);
    let url = format!("{}/credentials", ledger.url);
    let created =
        curl(&ca, &["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@-", &url], Some(&body));
    assert!(created.contains(&pair.0), "{created}");
    assert!(curl(&ca, &[&format!("{}/health", ledger.url)], None).contains(r#""status":"ok""#));

    // etctl, trusting the CA the way it trusts any private CA.
    let home = Home::new();
    let mut cmd = home.cmd_as(&ledger, &pair);
    cmd.env("SSL_CERT_FILE", &ca);
    let whoami = etctl(cmd, &["--timeout", "5", "whoami"]).ok();
    assert!(whoami.stdout.starts_with(&pair.0), "{}", whoami.stdout);
    // Without the CA etctl refuses the certificate.
    let refused = etctl(home.cmd_as(&ledger, &pair), &["--timeout", "5", "whoami"]).code(4);
    assert!(refused.stderr.contains("certificate"), "{}", refused.stderr);

    // Plain http to the https port gets no HTTP answer.
    let mut plain = std::net::TcpStream::connect(&addr).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    plain.write_all(b"GET /health HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "plain http is not served: {:?}", String::from_utf8_lossy(&answer));

    // SIGHUP after replacing the files: new connections get the new certificate.
    let (first, renewed) = (fingerprint_of(&dir.join("cert.pem")), fingerprint_of(&dir.join("renewed.pem")));
    assert!(first.contains("Fingerprint") && first != renewed);
    assert_eq!(served_fingerprint(&addr), first);
    std::fs::copy(dir.join("renewed.pem"), &served_cert).unwrap();
    std::fs::copy(dir.join("renewed.key"), &served_key).unwrap();
    let hup = |pid: u32| assert!(Command::new("kill").args(["-HUP", &pid.to_string()]).status().unwrap().success());
    hup(ledger.pid());
    let seen = time_until(Duration::from_secs(20), || served_fingerprint(&addr) == renewed);
    assert!(seen.is_some(), "a new connection sees the renewed certificate after SIGHUP; log:\n{}", ledger.logs());

    // A pair that cannot be used (the old key with the new certificate) is logged; the one in use stays.
    std::fs::copy(dir.join("key.pem"), &served_key).unwrap();
    hup(ledger.pid());
    let logged =
        time_until(Duration::from_secs(20), || ledger.logs().contains("still serving the previous certificate"));
    assert!(logged.is_some(), "{}", ledger.logs());
    assert_eq!(served_fingerprint(&addr), renewed);
    assert!(curl(&ca, &[&format!("{}/health", ledger.url)], None).contains(r#""status":"ok""#));
    assert!(!ledger.logs().contains(&pair.1), "no secret in the log");
}

#[test]
fn a_tls_pair_that_cannot_be_used_is_a_start_up_error() {
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path());
    another_leaf(certs.path(), "other");
    let path = |name: &str| certs.path().join(name).display().to_string();

    let stderr = refused_start(&[("LEDGERD_TLS_CERT", &path("cert.pem"))]);
    assert!(stderr.contains("LEDGERD_TLS_KEY is not") && stderr.contains("set both"), "{stderr}");
    let stderr = refused_start(&[("LEDGERD_TLS_KEY", &path("key.pem"))]);
    assert!(stderr.contains("LEDGERD_TLS_CERT is not"), "{stderr}");
    let stderr = refused_start(&[("LEDGERD_TLS_CERT", &path("cert.pem")), ("LEDGERD_TLS_KEY", &path("other.key"))]);
    assert!(stderr.contains("cannot serve the certificate") && stderr.contains("LEDGERD_TLS_KEY"), "{stderr}");
    let stderr = refused_start(&[("LEDGERD_TLS_CERT", &path("missing.pem")), ("LEDGERD_TLS_KEY", &path("key.pem"))]);
    assert!(stderr.contains("missing.pem") && stderr.contains("LEDGERD_TLS_CERT"), "{stderr}");
    let stderr = refused_start(&[("LEDGERD_TLS_CERT", &path("key.pem")), ("LEDGERD_TLS_KEY", &path("key.pem"))]);
    assert!(stderr.contains("holds no certificate") || stderr.contains("not a PEM certificate"), "{stderr}");
    let stderr = refused_start(&[("LEDGERD_TLS_CERT", &path("cert.pem")), ("LEDGERD_TLS_KEY", &path("cert.pem"))]);
    assert!(stderr.contains("holds no PEM private key"), "{stderr}");
}
