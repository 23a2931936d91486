-- Prints wrk's figures as one machine-readable line (read by `cargo xtask bench`).
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      math.floor(latency:percentile(50)), math.floor(latency:percentile(99)), math.floor(latency.max)))
end
