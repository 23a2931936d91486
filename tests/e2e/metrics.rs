//! `/metrics` as Prometheus reads it (issue 11, item 10): the text format 0.0.4 by default, which
//! `promtool check metrics` (the real one, from the Debian package `prometheus`) accepts without a
//! complaint, OpenMetrics when `Accept` asks for it, a build-info metric and the process metrics.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::Ledger;
use crate::hostile_http::{auth, call};

/// Runs the real `promtool check metrics` on `text`: its exit success and what it printed.
fn promtool_check(text: &str) -> (bool, String) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = child.unwrap_or_else(|e| {
        panic!(
            "cannot run promtool ({e}): install the Debian package `prometheus` (apt-get install -y prometheus), \
             which provides /usr/bin/promtool; .ci/run does"
        )
    });
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), said)
}

#[test]
fn metrics_pass_promtool_in_the_prometheus_format_and_speak_openmetrics_when_asked() {
    let ledger = Ledger::start();
    let pair = ledger.register(Some("metrics"));
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&pair), b"").status, 200);
    assert_eq!(call(&ledger, "GET", "/whoami", &auth(&ledger.mint()), b"").status, 401);
    assert_eq!(call(&ledger, "GET", "/nowhere", &[], b"").status, 404);

    let plain = call(&ledger, "GET", "/metrics", &[], b"");
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = plain.text();
    let (ok, said) = promtool_check(&text);
    assert!(ok && said.trim().is_empty(), "promtool check metrics refused /metrics:\n{said}\n--- /metrics:\n{text}");
    assert!(!text.contains("# EOF") && !text.contains("# UNIT"), "{text}");
    assert!(text.contains("# TYPE ledgerd_http_requests_total counter"), "{text}");
    let version = env!("CARGO_PKG_VERSION");
    assert!(text.contains(&format!("ledgerd_build_info{{version=\"{version}\"")), "{text}");
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ] {
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {name} sample:\n{text}"));
        let value: f64 = value.trim().parse().unwrap();
        if name != "process_cpu_seconds_total" {
            assert!(value > 0.0, "{name} {value}");
        }
    }

    for accept in ["application/openmetrics-text", "application/openmetrics-text; version=1.0.0,text/plain;q=0.5"] {
        let open = call(&ledger, "GET", "/metrics", &[("Accept", accept)], b"");
        assert_eq!(open.header("content-type"), Some("application/openmetrics-text; version=1.0.0; charset=utf-8"));
        let text = open.text();
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains("# TYPE ledgerd_http_requests counter"), "{text}");
        assert!(text.contains("process_cpu_seconds_total"), "{text}");
    }
}
