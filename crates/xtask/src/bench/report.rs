//! The table: printed, and recorded in BENCHMARKS.md between two markers (the text around them is
//! written by hand and kept).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::Result;

/// Where each backend's table goes: (begin, end, the heading of a section made when missing).
pub type Markers = (&'static str, &'static str, &'static str);

pub const SQLITE_MARKERS: Markers = (
    "<!-- bench:begin (written by `cargo xtask bench`; edit outside these markers) -->",
    "<!-- bench:end -->",
    "## Latest run",
);
pub const POSTGRES_MARKERS: Markers = (
    "<!-- bench:postgres:begin (written by `cargo xtask bench --backend postgres`; edit outside these markers) -->",
    "<!-- bench:postgres:end -->",
    "## Latest run on PostgreSQL",
);

/// One row of the table.
pub struct Figure {
    name: String,
    measured: String,
    target: String,
    /// None: not measured.
    met: Option<bool>,
}

impl Figure {
    pub fn new(name: &str, measured: String, target: &str, met: bool) -> Self {
        Figure { name: name.into(), measured, target: target.into(), met: Some(met) }
    }

    pub fn skipped(name: &str, why: &str) -> Self {
        Figure { name: name.into(), measured: format!("not measured: {why}"), target: String::new(), met: None }
    }
}

pub struct Report {
    quick: bool,
    release: bool,
    pinned: bool,
    figures: Vec<Figure>,
    machine: String,
    date: String,
    load: String,
    took: Duration,
    command: String,
    /// Replaces the default set-up line (where what runs, pinned how).
    setup: Option<String>,
}

/// `/proc/loadavg`'s three averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "?".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map_or_else(String::new, |kib| format!(", {:.0} GiB RAM", kib as f64 / 1024.0 / 1024.0));
    let wrk = Command::new("wrk")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    format!("{cores} cores (nproc), {cpu}{memory}, Linux {kernel}, wrk {wrk}")
}

fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

impl Report {
    pub fn new(quick: bool, release: bool, pinned: bool) -> Self {
        Report {
            quick,
            release,
            pinned,
            figures: Vec::new(),
            machine: machine(),
            date: now_utc(),
            load: String::new(),
            took: Duration::ZERO,
            command: String::new(),
            setup: None,
        }
    }

    pub fn set_setup(&mut self, setup: &str) {
        self.setup = Some(setup.to_owned());
    }

    pub fn add(&mut self, figure: Figure) {
        let status = match figure.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "skipped",
        };
        super::step(&format!("{}: {} [{status}]", figure.name, figure.measured));
        self.figures.push(figure);
    }

    pub fn finish(&mut self, before: String, after: String, took: Duration, command: &str) {
        self.load = format!("load average {before} before, {after} after");
        self.took = took;
        self.command = command.to_owned();
    }

    fn status(met: Option<bool>) -> &'static str {
        match met {
            Some(true) => "✅ met",
            Some(false) => "❌ missed",
            None => "—",
        }
    }

    /// The table as Markdown (printed and recorded alike).
    pub fn table(&self) -> String {
        let mut out = String::from("| figure | measured | target | |\n| --- | --- | --- | --- |\n");
        for f in &self.figures {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                f.name,
                f.measured.replace('|', "\\|"),
                f.target,
                Self::status(f.met)
            ));
        }
        out
    }

    /// The generated section of BENCHMARKS.md.
    pub fn markdown(&self) -> String {
        let mode = if self.quick { "quick mode (small numbers; not the figures)" } else { "full suite" };
        let build = if self.release { "release" } else { "debug" };
        let pinning = match &self.setup {
            Some(setup) => setup.as_str(),
            None if self.pinned => "ledgerd pinned to core 0, wrk (1 thread, 32 connections) to core 1 with `taskset`",
            None => "no pinning (needs taskset and 2 cores)",
        };
        format!(
            "- **Command:** `{}` ({mode}, {build} build), {:.0} s in all\n\
             - **Date:** {}\n\
             - **Machine:** {}\n\
             - **Load:** {} (a shared machine: other work may run beside the suite)\n\
             - **Set-up:** {pinning}\n\n{}",
            self.command,
            self.took.as_secs_f64(),
            self.date,
            self.machine,
            self.load,
            self.table()
        )
    }
}

/// Replaces the generated section of `file` (between the markers) with `section`, creating the
/// file or the section when missing.
pub fn record(file: &Path, section: &str, (begin, end, heading): Markers) -> Result<()> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let block = format!("{begin}\n{section}{end}");
    let updated = match (text.find(begin), text.find(end)) {
        (Some(b), Some(e)) if b < e => format!("{}{block}{}", &text[..b], &text[e + end.len()..]),
        _ if text.is_empty() => format!("# Benchmarks\n\n{heading}\n\n{block}\n"),
        _ => format!("{}\n\n{heading}\n\n{block}\n", text.trim_end()),
    };
    std::fs::write(file, updated).map_err(|e| format!("cannot write {}: {e}", file.display()))
}
