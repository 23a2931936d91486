//! README, "Running several ledgerd", done as written (issue 9 item 9): the roles and grants it
//! gives, run by psql from the README's own text, make a ledger whose replicas serve everything
//! yet cannot unmake its rules; and packaging/nginx-ledgerd.conf, run by the real nginx with only
//! its addresses and certificate paths replaced, balances two replicas, each seeing the client's
//! address from X-Forwarded-For, and goes on when one stops.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{INSTANCE, Ledger, LedgerOptions, mint_for, refused_start, time_until};
use crate::etctl_support::{Home, etctl};
use crate::hostile_http::{addr, auth, call};

const README: &str = include_str!("../../README.md");
const NGINX_EXAMPLE: &str = include_str!("../../packaging/nginx-ledgerd.conf");

fn replica(url: &str, env: &[(&str, &str)]) -> Ledger {
    let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Ledger::start_with(LedgerOptions { env, db: Some(PathBuf::from(url)), ..Default::default() })
}

/// The ```sql blocks of the README's section "Running several ledgerd".
fn readme_sql() -> Vec<String> {
    let start = README.find("## Running several ledgerd").expect("the README has its section");
    let section = &README[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    section.split("```sql\n").skip(1).map(|block| block.split("```").next().unwrap().to_owned()).collect()
}

fn block_with<'a>(blocks: &'a [String], needle: &str) -> &'a str {
    blocks
        .iter()
        .find(|b| b.contains(needle))
        .unwrap_or_else(|| panic!("no ```sql block with {needle:?} in the README"))
}

#[test]
fn the_readme_roles_and_grants_make_replicas_that_serve_but_cannot_unmake_the_rules() {
    let server = et_pgtest::private_server();
    let blocks = readme_sql();
    server.psql_script("postgres", "postgres", block_with(&blocks, "CREATE ROLE ledger_owner")).unwrap();
    let url = |role: &str| format!("postgres://{role}@127.0.0.1:{}/ledger", server.port());

    // Before the owner has made the schema, the runtime role may not: a refusal saying what to do.
    let stderr = refused_start(&[("LEDGERD_DB", &url("ledgerd"))]);
    assert!(stderr.contains("role ledgerd may not migrate") && stderr.contains("owns the database"), "{stderr}");

    // The owner migrates (and serves); then the grants, as the owner.
    replica(&url("ledger_owner"), &[]).terminate();
    server.psql_script("ledger_owner", "ledger", block_with(&blocks, "GRANT SELECT, INSERT, UPDATE")).unwrap();

    // Replicas as the runtime role do everything the API does.
    let (a, b) = (replica(&url("ledgerd"), &[]), replica(&url("ledgerd"), &[]));
    let pair = a.mint();
    let registered = a.client().register(&et_api::RegisterRequest {
        label: Some("billing".into()),
        ..et_api::RegisterRequest::new(pair.0.clone(), et_api::SecretString::new(&pair.1))
    });
    assert!(registered.is_ok(), "registration as the runtime role: {registered:?}\n{}", a.logs());
    assert_eq!(call(&b, "GET", "/whoami", &auth(&pair), b"").status, 200);
    let client = b.client_as(&pair);
    client.create_account("acme").unwrap();
    assert_eq!(client.list_accounts().unwrap().data.len(), 1);
    assert!(client.list_all(et_api::StatusFilter::All).unwrap().iter().any(|c| c.api_key == pair.0));
    let doomed = b.register(None);
    assert_eq!(call(&a, "GET", "/whoami", &auth(&doomed), b"").status, 200);
    b.client_as(&doomed).revoke(&doomed.0).unwrap();
    let refused = time_until(Duration::from_secs(10), || call(&a, "GET", "/whoami", &auth(&doomed), b"").status == 401);
    assert!(refused.is_some(), "a revocation by the runtime role did not reach the other replica");
    assert!(client.audit(Some(&doomed.0), None).unwrap().iter().any(|e| e.action == "revoke"));
    // And etctl db, as the runtime role.
    let home = Home::new();
    let on_call = a.register(None);
    etctl(home.cmd(), &["db", "revoke", &on_call.0, "--db", &url("ledgerd"), "--reason", "leaked", "--yes"]).ok();
    let audit = etctl(home.cmd(), &["db", "audit", &on_call.0, "--db", &url("ledgerd"), "--json"]).ok().json();
    assert!(audit.to_string().contains("leaked"), "{audit}");
    assert!(
        time_until(Duration::from_secs(10), || call(&b, "GET", "/whoami", &auth(&on_call), b"").status == 401)
            .is_some()
    );

    // What the README says the runtime role may not do, each refused by PostgreSQL.
    for sql in [
        "DELETE FROM api_credential",
        "TRUNCATE api_credential",
        "UPDATE credential_audit SET actor = 'someone else'",
        "DELETE FROM credential_audit",
        "DROP TRIGGER api_credential_rules ON api_credential",
        "ALTER TABLE api_credential DISABLE TRIGGER ALL",
        "CREATE OR REPLACE FUNCTION api_credential_rules() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "SET session_replication_role = replica",
        "UPDATE schema_version SET version = 99",
        "CREATE TABLE shadow (api_key text)",
    ] {
        let err = server.psql_script("ledgerd", "ledger", sql).expect_err(sql);
        assert!(err.contains("permission denied") || err.contains("must be owner"), "{sql}: {err}");
    }
    assert_eq!(
        server.psql("ledger", "SELECT count(*) FROM api_credential WHERE active").unwrap().trim(),
        "1",
        "only the credential nobody revoked is active"
    );

    // They check the triggers as one running as the owner does (the check builds a copy of the
    // migrations in a schema of its own, rolled back, to compare with): all there.
    for (name, ledger) in [("A", &a), ("B", &b)] {
        let metrics = String::from_utf8(call(ledger, "GET", "/metrics", &[], b"").body).unwrap();
        assert!(metrics.lines().any(|l| l == "ledgerd_database_triggers_missing 0"), "replica {name}: {metrics}");
        assert!(!ledger.logs().contains("lacks triggers"), "replica {name}:\n{}", ledger.logs());
    }

    // A schema the runtime role makes cannot shadow the ledger's tables: not for the replicas,
    // whose connections use `public` alone, nor for an operator revoking by hand in psql (the
    // database's search_path), even one named after the role ("$user", first in the default path).
    let shadow = "CREATE SCHEMA {s}; CREATE TABLE {s}.api_credential (api_key text, active boolean); \
                  GRANT USAGE ON SCHEMA {s} TO PUBLIC; GRANT ALL ON {s}.api_credential TO PUBLIC";
    for s in ["ledgerd", "ledger_owner"] {
        server.psql_script("ledgerd", "ledger", &shadow.replace("{s}", s)).unwrap();
    }
    // A role may set its own default path, which beats the database's: a replica started after
    // that still uses `public`.
    server.psql_script("ledgerd", "ledger", "ALTER ROLE ledgerd SET search_path = ledgerd, public").unwrap();
    let c = replica(&url("ledgerd"), &[]);
    let after_shadow = c.register(None);
    assert_eq!(call(&b, "GET", "/whoami", &auth(&after_shadow), b"").status, 200);
    let by_hand = format!("UPDATE api_credential SET active = false WHERE api_key = '{}'", after_shadow.0);
    server.psql_script("ledger_owner", "ledger", &by_hand).unwrap();
    let refused = time_until(Duration::from_secs(10), || {
        [&a, &b, &c].iter().all(|r| call(r, "GET", "/whoami", &auth(&after_shadow), b"").status == 401)
    });
    assert!(refused.is_some(), "a revocation by hand went to a shadow table");

    // A release that brings a migration, started as the runtime role: refused, saying what to do.
    // (The newest migration made to look unapplied.)
    server
        .psql_script(
            "ledger_owner",
            "ledger",
            "DELETE FROM schema_version WHERE version = (SELECT max(version) FROM schema_version)",
        )
        .unwrap();
    let stderr = refused_start(&[("LEDGERD_DB", &url("ledgerd"))]);
    assert!(stderr.contains("older than this program") && stderr.contains("owns the database"), "{stderr}");
}

/// The nginx binary, or a failure saying what to install.
fn nginx_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("the nginx test needs nginx: install it with `apt-get install nginx` (Debian/Ubuntu), which .ci/run does")
        })
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("run id");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// nginx in the foreground, stopped when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers, then itself. A killed master (SIGKILL) would leave
        // its workers running, holding the port.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        if time_until(Duration::from_secs(10), || self.child.try_wait().is_ok_and(|s| s.is_some())).is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Nginx {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

/// `example` with `from` replaced by `to`, where `from` must occur exactly once: the test cannot
/// drift from the example without failing.
fn replace_once(example: &str, from: &str, to: &str) -> String {
    assert_eq!(example.matches(from).count(), 1, "packaging/nginx-ledgerd.conf no longer has {from:?} once");
    example.replace(from, to)
}

/// Runs the example with its two upstream servers, its listen address and its certificate replaced.
fn start_nginx(dir: &Path, upstreams: [&str; 2], port: u16, cert: &Path, key: &Path) -> Nginx {
    let mut conf = NGINX_EXAMPLE.to_owned();
    conf = replace_once(&conf, "server 10.0.0.11:8080", &format!("server {}", upstreams[0]));
    conf = replace_once(&conf, "server 10.0.0.12:8080", &format!("server {}", upstreams[1]));
    conf = replace_once(&conf, "listen 443 ssl;", &format!("listen 127.0.0.1:{port} ssl;"));
    conf = replace_once(&conf, "/etc/nginx/tls/ledger.example.com.pem", &cert.display().to_string());
    conf = replace_once(&conf, "/etc/nginx/tls/ledger.example.com.key", &key.display().to_string());
    std::fs::write(dir.join("ledgerd.conf"), conf).unwrap();
    // What the distribution's nginx.conf holds around conf.d/, in a directory of the test's own.
    let d = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n{user}\
             events {{ worker_connections 128; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             include {d}/ledgerd.conf;\n}}\n",
            // As root the workers would run as nobody, who may not enter the temporary directory.
            user = if is_root() { "user root;\n" } else { "" },
        ),
    )
    .unwrap();
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nginx");
    let mut nginx = Nginx { child, dir: dir.to_owned() };
    let up = time_until(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() || nginx.child.try_wait().unwrap().is_some()
    });
    if up.is_none() || nginx.child.try_wait().unwrap().is_some() {
        let mut stderr = String::new();
        if let Some(mut e) = nginx.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        panic!("nginx did not start: {stderr}{}", nginx.log());
    }
    nginx
}

/// A request through nginx from client address 127.0.0.5 (curl, verifying nginx's certificate):
/// the status. Credentials go in a header file and the body on stdin, not in curl's argv.
fn through(dir: &Path, port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    let header_file = dir.join("headers");
    let text: String = headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    std::fs::write(&header_file, text).unwrap();
    let mut child = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--interface", "127.0.0.5", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg("--cacert")
        .arg(dir.join("ca.pem"))
        .args(["-X", method, "-H"])
        .arg(format!("@{}", header_file.display()))
        .args(if body.is_empty() {
            vec![]
        } else {
            vec!["-H", "Content-Type: application/json", "--data-binary", "@-"]
        })
        .arg(format!("https://127.0.0.1:{port}{path}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the curl command (Debian package curl)");
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "curl {method} {path}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("an HTTP status")
}

#[test]
fn the_nginx_example_balances_two_replicas_that_see_the_clients_address() {
    let _ = nginx_binary();
    let db = et_pgtest::database();
    let trusted = [("LEDGERD_TRUSTED_PROXIES", "127.0.0.1")];
    let (a, b) = (replica(&db.url, &trusted), replica(&db.url, &trusted));
    let dir = tempfile::tempdir().unwrap();
    crate::pg_tls::ca(dir.path(), "ca");
    crate::pg_tls::server_certificate(dir.path(), "ca", dir.path());
    let port = et_pgtest::free_port();
    let nginx = start_nginx(
        dir.path(),
        [&addr(&a), &addr(&b)],
        port,
        &dir.path().join("server.crt"),
        &dir.path().join("server.key"),
    );
    let d = dir.path();
    let register = |pair: &(String, String)| {
        let body = serde_json::json!({"api_key": pair.0, "api_secret": pair.1}).to_string();
        through(d, port, "POST", "/credentials", &[], &body)
    };

    // Register, authenticate (on both replicas, in turn), revoke: all through nginx.
    let pair = mint_for(INSTANCE);
    assert_eq!(register(&pair), 201, "{}", nginx.log());
    for _ in 0..4 {
        assert_eq!(through(d, port, "GET", "/whoami", &auth(&pair), ""), 200);
    }
    // A client that forges X-Forwarded-For is still known by its own address.
    let forged = [auth(&pair)[0], auth(&pair)[1], ("X-Forwarded-For", "203.0.113.7")];
    for _ in 0..2 {
        assert_eq!(through(d, port, "GET", "/whoami", &forged, ""), 200);
    }
    assert_eq!(through(d, port, "DELETE", &format!("/credentials/{}", pair.0), &auth(&pair), ""), 200);
    let refused = time_until(Duration::from_secs(10), || {
        (0..4).all(|_| through(d, port, "GET", "/whoami", &auth(&pair), "") == 401)
    });
    assert!(refused.is_some(), "a revocation through nginx was not refused by both replicas");
    for (name, ledger) in [("A", &a), ("B", &b)] {
        let logs = ledger.logs();
        assert!(logs.contains("client=127.0.0.5"), "replica {name} served nothing, or not as the client:\n{logs}");
        assert!(!logs.contains("client=127.0.0.1"), "replica {name} took nginx for the client:\n{logs}");
        assert!(!logs.contains("client=203.0.113.7"), "replica {name} believed a forged address:\n{logs}");
    }

    // One replica stops: requests go to the other, registrations included.
    b.terminate();
    for _ in 0..4 {
        let pair = mint_for(INSTANCE);
        assert_eq!(register(&pair), 201, "a registration failed with one replica down:\n{}", nginx.log());
        assert_eq!(through(d, port, "GET", "/whoami", &auth(&pair), ""), 200);
    }
}
