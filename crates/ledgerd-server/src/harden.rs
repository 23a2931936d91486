//! Start-up hardening of the ledgerd process: no core dumps. A core file holds the process's memory,
//! the instance key included (a 14 MB core of a running ledgerd held ten copies of it).

/// Makes the process not dumpable (Linux: `PR_SET_DUMPABLE` 0, which also keeps other processes of
/// the same user out of its memory and `/proc/PID/environ`) and sets its core size limits, soft and
/// hard, to 0. Runs first thing in `main`, before any secret is read.
pub fn disable_core_dumps() -> Result<(), String> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(|e| format!("cannot make the process non-dumpable (prctl PR_SET_DUMPABLE): {e}"))?;
    #[cfg(unix)]
    rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit { current: Some(0), maximum: Some(0) },
    )
    .map_err(|e| format!("cannot set the core size limit to 0 (setrlimit RLIMIT_CORE): {e}"))?;
    Ok(())
}
