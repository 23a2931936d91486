//! TLS to PostgreSQL per `sslmode` (SPEC §7, issue 9 item 1), against a server of the test's own
//! with `ssl = on` and a certificate from a test CA (openssl CLI): `disable` talks plain, `prefer`
//! and `require` encrypt without checking the certificate, `verify-full` checks it against
//! `sslrootcert` and the host name, and refuses a wrong CA, a wrong name or a missing file with a
//! sentence saying which. ledgerd's pooled and LISTEN connections alike.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{Ledger, LedgerOptions, refused_start};
use crate::etctl_support::{Home, etctl};
use crate::hostile_http::{auth, call};

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl").args(args).current_dir(dir).stderr(Stdio::null()).status();
    assert!(ok.expect("the openssl command (Debian package openssl)").success(), "openssl {args:?}");
}

/// A self-signed CA: `NAME.pem`, `NAME.key` in `dir`.
pub fn ca(dir: &Path, name: &str) -> PathBuf {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "1",
            "-subj",
            &format!("/CN=ledger test {name}"),
        ],
    );
    dir.join(pem)
}

/// A server certificate for 127.0.0.1 and localhost signed by CA `ca` of `pki`, as `out/server.crt`
/// and `out/server.key`.
pub fn server_certificate(pki: &Path, ca: &str, out: &Path) {
    std::fs::write(
        pki.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let key = out.join("server.key").display().to_string();
    let crt = out.join("server.crt").display().to_string();
    openssl(
        pki,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        pki,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
}

fn replica(url: &str) -> Ledger {
    Ledger::start_with(LedgerOptions { db: Some(PathBuf::from(url)), ..Default::default() })
}

/// Whether the connections of the ledgerd now connected to `db` use TLS: `true`, `false`, or both.
fn ledgerd_ssl(db: &et_pgtest::Database) -> String {
    let sql = "SELECT string_agg(DISTINCT s.ssl::text, ',') FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                WHERE a.application_name LIKE 'ledgerd%' AND a.datname = current_database()";
    db.psql(sql).unwrap().trim().to_owned()
}

#[test]
fn each_sslmode_against_a_server_with_tls() {
    let pki = tempfile::tempdir().unwrap();
    let right = ca(pki.path(), "ca");
    let wrong = ca(pki.path(), "other-ca");
    // 127.0.0.2 too: an address the certificate does not name.
    let server = et_pgtest::Server::with_settings(&[
        ("ssl", "on"),
        ("ssl_cert_file", "../server.crt"),
        ("ssl_key_file", "../server.key"),
        ("listen_addresses", "127.0.0.1,127.0.0.2"),
    ]);
    server_certificate(pki.path(), "ca", server.dir());
    server.hand_over(&server.dir().join("server.key"), 0o600);
    server.hand_over(&server.dir().join("server.crt"), 0o644);
    server.start();
    let db = server.database();
    let with = |query: &str| format!("{}?{query}", db.url);

    // verify-full with the CA that signed the server's certificate: ledgerd creates the schema and
    // serves, every connection of it (the pool's and the listener's) encrypted.
    let verified = with(&format!("sslmode=verify-full&sslrootcert={}", right.display()));
    let ledger = replica(&verified);
    let pair = ledger.register(None);
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&pair), b"").status, 200);
    let listening = crate::common::time_until(std::time::Duration::from_secs(10), || {
        db.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ledgerd-listener'").unwrap().trim()
            == "1"
    });
    assert!(listening.is_some(), "the listener did not connect over TLS:\n{}", ledger.logs());
    assert_eq!(ledgerd_ssl(&db), "true", "a connection of ledgerd in plain text under verify-full");
    ledger.terminate();

    // disable: the same ledger, in plain text.
    let ledger = replica(&with("sslmode=disable"));
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&pair), b"").status, 200);
    assert_eq!(ledgerd_ssl(&db), "false", "sslmode=disable encrypted");
    ledger.terminate();

    // require and prefer encrypt without checking the certificate (its CA is nobody's root here).
    let home = Home::new();
    for query in ["sslmode=require", "sslmode=prefer", ""] {
        let url = if query.is_empty() { db.url.clone() } else { with(query) };
        let listed = etctl(home.cmd(), &["db", "list", "--db", &url, "--json"]).ok().json();
        assert!(listed.to_string().contains(&pair.0), "{query}: {listed}");
    }

    // verify-full refuses a certificate from another CA, one that does not name the host, and a
    // root file that is not there, each with a sentence saying which; nothing is read.
    let wrong_ca = with(&format!("sslmode=verify-full&sslrootcert={}", wrong.display()));
    let other_name = format!(
        "postgres://postgres@127.0.0.2:{}/{}?sslmode=verify-full&sslrootcert={}",
        server.port(),
        db.name,
        right.display()
    );
    let missing = with("sslmode=verify-full&sslrootcert=/nonexistent/root.pem");
    for (url, says) in [
        (&wrong_ca, vec!["certificate", "sslrootcert", wrong.to_str().unwrap()]),
        (&other_name, vec!["certificate", "127.0.0.2"]),
        (&missing, vec!["sslrootcert", "/nonexistent/root.pem"]),
    ] {
        let run = etctl(home.cmd(), &["db", "list", "--db", url]);
        assert_ne!(run.code, 0, "{url}: {}", run.transcript());
        assert!(!run.stdout.contains(&pair.0), "{url}: {}", run.transcript());
        for word in &says {
            assert!(run.stderr.contains(word), "{url}: the message does not say {word:?}:\n{}", run.stderr);
        }
        let stderr = refused_start(&[("LEDGERD_DB", url)]);
        for word in &says {
            assert!(stderr.contains(word), "{url}: ledgerd's message does not say {word:?}:\n{stderr}");
        }
        eprintln!("{url}:\n  etctl: {}  ledgerd: {}", run.stderr.trim(), stderr.trim());
    }
}
