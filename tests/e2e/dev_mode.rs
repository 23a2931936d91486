//! `ledgerd --dev` keeps to development (issue 11, item 10): it refuses a production environment
//! and a non-loopback address with one line naming the variable or address and the fix, touching
//! nothing, and says `"mode": "dev"` on `/health`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{INSTANCE, Ledger, instance_key_hex, ledgerd};
use crate::hostile_http::call;

fn run_to_exit(mut cmd: Command) -> Output {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("ledgerd --dev did not exit; stderr:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn dev_mode_refuses_a_production_environment_and_a_public_address() {
    let key = instance_key_hex(INSTANCE);
    // (environment, arguments, what the refusal must name)
    type Case<'a> = (Vec<(&'a str, String)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("LEDGERD_INSTANCE_ID", INSTANCE.into())], vec![], "LEDGERD_INSTANCE_ID"),
        (vec![("LEDGERD_INSTANCE_KEY", key.clone())], vec![], "LEDGERD_INSTANCE_KEY"),
        (vec![("LEDGERD_INSTANCE_KEY_FILE", "/etc/ledgerd/instance.key".into())], vec![], "LEDGERD_INSTANCE_KEY_FILE"),
        (vec![("LEDGERD_DB", "/var/lib/ledgerd/ledger.db".into())], vec![], "LEDGERD_DB"),
        (vec![], vec!["--db", "prod.db"], "--db"),
        (vec![], vec!["--listen", "0.0.0.0:0"], "0.0.0.0"),
        (vec![("LEDGERD_LISTEN", "[::]:0".into())], vec![], "[::]"),
    ];
    for (env, args, named) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = ledgerd();
        cmd.arg("--dev").args(&args).current_dir(dir.path());
        if !args.contains(&"--listen") && !env.iter().any(|(k, _)| *k == "LEDGERD_LISTEN") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = run_to_exit(cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let case = format!("{env:?} {args:?}");
        assert!(!out.status.success(), "{case}: ledgerd --dev started:\n{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{case}: one line: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(named), "{case}: names {named}: {stderr}");
        assert!(stderr.contains("127.0.0.1") || stderr.contains("unset"), "{case}: says the fix: {stderr}");
        assert!(!stderr.contains(&key), "{case}: the key was echoed");
        assert!(out.stdout.is_empty(), "{case}: no exports printed");
        assert!(!dir.path().join(".ledgerd-dev").exists(), "{case}: nothing may be created");
    }
}

#[test]
fn health_says_which_mode_the_ledger_runs_in() {
    let ledger = Ledger::start();
    let r = call(&ledger, "GET", "/health", &[], b"");
    assert_eq!(r.json(), serde_json::json!({"status": "ok", "mode": "production"}), "{}", r.text());

    let dir = tempfile::tempdir().unwrap();
    let mut child = ledgerd()
        .args(["--dev", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("export ETCTL_URL=http://").map(str::to_owned));
    let body = url.and_then(|addr| {
        // The exports come just before serving starts: retry the connection for a while.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut stream) = TcpStream::connect(&addr) {
                stream.write_all(b"GET /health HTTP/1.1\r\nHost: dev\r\nConnection: close\r\n\r\n").ok()?;
                let mut answer = String::new();
                stream.read_to_string(&mut answer).ok()?;
                return answer.split("\r\n\r\n").nth(1).map(str::to_owned);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let _ = child.kill();
    let _ = child.wait();
    let body: serde_json::Value = serde_json::from_str(&body.expect("ledgerd --dev answers /health")).unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok", "mode": "dev"}));
}
