//! The standard `process_*` metrics (the names every Prometheus client library exports), read from
//! `/proc/self` at scrape time: CPU seconds, resident and virtual memory, open and maximum file
//! descriptors, start time. Linux only; elsewhere the collector exports nothing.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Exports the process metrics of this process on every scrape.
#[derive(Debug, Default)]
pub struct ProcessCollector;

/// One reading of `/proc/self`.
#[derive(Debug, Default, PartialEq)]
struct Reading {
    cpu_seconds: f64,
    resident_bytes: f64,
    virtual_bytes: f64,
    start_time_seconds: f64,
    open_fds: f64,
    max_fds: f64,
}

/// Fields of `/proc/self/stat` after the command name (which is in parentheses and may hold
/// spaces), so that index 0 is field 3 (`state`) of proc(5).
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    Some(stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect())
}

/// `btime` of `/proc/stat`: when the system booted, in Unix seconds.
fn boot_time(proc_stat: &str) -> Option<f64> {
    proc_stat.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse().ok()
}

#[cfg(target_os = "linux")]
fn read() -> Option<Reading> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields = stat_fields(&stat)?;
    let number = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    let page = rustix::param::page_size() as f64;
    let boot = boot_time(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as f64;
    let max_fds =
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current.map_or(f64::INFINITY, |n| n as f64);
    Some(Reading {
        // utime + stime (fields 14, 15), starttime (22) in clock ticks; vsize (23) in bytes, rss (24) in pages.
        cpu_seconds: (number(14)? + number(15)?) / ticks,
        start_time_seconds: boot + number(22)? / ticks,
        virtual_bytes: number(23)?,
        resident_bytes: number(24)? * page,
        open_fds,
        max_fds,
    })
}

#[cfg(not(target_os = "linux"))]
fn read() -> Option<Reading> {
    None
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(r) = read() else { return Ok(()) };
        let cpu = ConstCounter::new(r.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            None,
            cpu.metric_type(),
        )?)?;
        let gauges = [
            ("process_resident_memory_bytes", "Resident memory size in bytes.", r.resident_bytes),
            ("process_virtual_memory_bytes", "Virtual memory size in bytes.", r.virtual_bytes),
            ("process_open_fds", "Number of open file descriptors.", r.open_fds),
            ("process_max_fds", "Maximum number of open file descriptors.", r.max_fds),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                r.start_time_seconds,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 50 0 0 20 0 9 0 12345 \
                    104857600 2560 18446744073709551615";
        let fields = stat_fields(stat).unwrap();
        assert_eq!(fields[0], "S");
        assert_eq!((fields[14 - 3], fields[15 - 3], fields[22 - 3]), ("150", "50", "12345"));
        assert_eq!((fields[23 - 3], fields[24 - 3]), ("104857600", "2560"));
        assert_eq!(boot_time("cpu 1 2 3\nbtime 1764633600\nprocesses 9\n"), Some(1_764_633_600.0));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let r = read().unwrap();
        assert!(r.resident_bytes > 0.0 && r.open_fds >= 3.0 && r.max_fds >= r.open_fds, "{r:?}");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!(r.start_time_seconds > now - 86_400.0 && r.start_time_seconds <= now + 1.0, "{r:?}");
    }
}
