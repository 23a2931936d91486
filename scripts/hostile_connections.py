#!/usr/bin/env python3
"""Measures ledgerd under idle and slow connections (RELIABILITY.md, "Idle and slow connections").

Starts `ledgerd --dev` on a free loopback port in a temp dir, then holds N idle sockets (opened,
never written; reopened when the server closes them) and M slow ones (a request head sent one byte
a second, never finished; reopened likewise), and meanwhile, from a separate process, probes
`GET /health` and an authenticated `GET /whoami` (a cached credential) from a new connection every
few milliseconds. Prints the probes' latency percentiles and errors, and how long the server took
to close the idle and the slow sockets.

    python3 scripts/hostile_connections.py --ledgerd target/release/ledgerd --idle 10000 --slow 10000

Needs a high open-file limit: the script raises its own (and so ledgerd's) to --nofile, or to the
hard limit when it may not go higher. Loopback only.
"""

import argparse
import asyncio
import multiprocessing
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HEAD = b"GET /health HTTP/1.1\r\nHost: ledger\r\nX-Padding: "


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def start_ledgerd(path, env_extra, workdir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERD_")}
    env.update(env_extra)
    env.setdefault("RUST_LOG", "warn")
    proc = subprocess.Popen(
        [path, "--dev", "--listen", "127.0.0.1:0"],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    exports = {}
    while len(exports) < 3:
        line = proc.stdout.readline()
        if not line:
            sys.exit("ledgerd --dev exited before printing its exports")
        m = re.match(r"export (ETCTL_URL|ETCTL_API_KEY|ETCTL_API_SECRET)=['\"]?([^'\"\s]+)", line.strip())
        if m:
            exports[m.group(1)] = m.group(2)
    url = exports["ETCTL_URL"]
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return proc, (host, int(port)), exports["ETCTL_API_KEY"], exports["ETCTL_API_SECRET"]


def one_request(addr, request, timeout=30.0):
    """Status and seconds for one request on a new connection."""
    start = time.perf_counter()
    with socket.create_connection(addr, timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length:\s*(\d+)", head)
        length = int(m.group(1)) if m else 0
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return status, time.perf_counter() - start


def prober(addr, key, secret, duration, interval, out):
    health = b"GET /health HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n"
    whoami = (
        b"GET /whoami HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\nX-Api-Key: " + key.encode()
        + b"\r\nX-Api-Secret: " + secret.encode() + b"\r\n\r\n"
    )
    results = {"health": [], "whoami": [], "errors": []}
    end = time.monotonic() + duration
    while time.monotonic() < end:
        for name, request in (("health", health), ("whoami", whoami)):
            try:
                status, seconds = one_request(addr, request)
                if status != 200:
                    results["errors"].append(f"{name}: status {status}")
                results[name].append(seconds)
            except OSError as e:
                results["errors"].append(f"{name}: {e}")
            time.sleep(interval)
    out.put(results)


class Attack:
    def __init__(self, addr):
        self.addr = addr
        self.opened = {"idle": 0, "slow": 0}
        self.closed_after = {"idle": [], "slow": []}
        self.connect_errors = 0
        self.stop = False

    async def hold(self, kind, gate):
        """One socket, kept open (idle) or trickling a head (slow); reopened when closed."""
        while not self.stop:
            async with gate:
                try:
                    reader, writer = await asyncio.open_connection(*self.addr)
                except OSError:
                    self.connect_errors += 1
                    await asyncio.sleep(0.5)
                    continue
            self.opened[kind] += 1
            opened = time.monotonic()
            try:
                if kind == "idle":
                    await reader.read(1)  # returns b"" when the server closes
                else:
                    writer.write(HEAD)
                    while not self.stop:
                        await writer.drain()
                        try:
                            await asyncio.wait_for(reader.read(1), timeout=1.0)
                            break  # closed (or, unexpectedly, answered)
                        except asyncio.TimeoutError:
                            writer.write(b"a")
            except (OSError, asyncio.IncompleteReadError):
                pass
            if not self.stop:
                self.closed_after[kind].append(time.monotonic() - opened)
            writer.close()


async def attack_main(addr, idle, slow, duration, warmup, start_probes):
    attack = Attack(addr)
    gate = asyncio.Semaphore(256)  # connects in flight: stay under the listen backlog
    tasks = [asyncio.create_task(attack.hold("idle", gate)) for _ in range(idle)]
    tasks += [asyncio.create_task(attack.hold("slow", gate)) for _ in range(slow)]
    began = time.monotonic()
    while attack.opened["idle"] + attack.opened["slow"] < idle + slow and time.monotonic() - began < 120:
        await asyncio.sleep(0.2)
    print(f"opened {idle} idle and {slow} slow sockets in {time.monotonic() - began:.1f} s", flush=True)
    await asyncio.sleep(warmup)
    start_probes()
    # The prober is a fresh interpreter: give it time to start, and outlast it.
    await asyncio.sleep(duration + 3)
    attack.stop = True
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return attack


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ledgerd", default="target/release/ledgerd")
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--slow", type=int, default=10000)
    ap.add_argument("--duration", type=float, default=30, help="seconds of probing under attack")
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--interval", type=float, default=0.01, help="seconds between probes")
    ap.add_argument("--nofile", type=int, default=65536)
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for ledgerd (e.g. LEDGERD_MAX_CONNECTIONS=25000)")
    args = ap.parse_args()

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))
    except (ValueError, OSError):
        # Without the privilege to raise the hard limit, go as high as it allows.
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = dict(e.split("=", 1) for e in args.env)
    with tempfile.TemporaryDirectory() as workdir:
        proc, addr, key, secret = start_ledgerd(os.path.abspath(args.ledgerd), env, workdir)
        try:
            one_request(addr, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            # Prime the cache: the probes' authentications are cache hits.
            status, _ = one_request(addr, (
                f"GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Api-Key: {key}\r\n"
                f"X-Api-Secret: {secret}\r\n\r\n").encode())
            assert status == 200, status
            # A fresh interpreter, not a fork: it must not inherit the attack's sockets.
            ctx = multiprocessing.get_context("spawn")
            out = ctx.Queue()
            probe = ctx.Process(target=prober, args=(addr, key, secret, args.duration, args.interval, out))
            attack = asyncio.run(attack_main(addr, args.idle, args.slow, args.duration, args.warmup, probe.start))
            results = out.get()
            probe.join()
        finally:
            proc.terminate()
            proc.wait()

    print(f"ledgerd env: {env or 'defaults'}; probes every {args.interval * 1000:.0f} ms for {args.duration:.0f} s")
    for name in ("health", "whoami"):
        ms = [s * 1000 for s in results[name]]
        print(f"  {name:7} n={len(ms):5}  p50={percentile(ms, 50):7.2f} ms  p99={percentile(ms, 99):7.2f} ms  "
              f"max={max(ms) if ms else float('nan'):8.2f} ms")
    print(f"  probe errors: {len(results['errors'])} {results['errors'][:5]}")
    for kind in ("idle", "slow"):
        closed = attack.closed_after[kind]
        if closed:
            print(f"  {kind} sockets closed by the server: {len(closed)}, after p50 {statistics.median(closed):.2f} s, "
                  f"min {min(closed):.2f} s, max {max(closed):.2f} s (opened {attack.opened[kind]})")
        elif attack.opened[kind]:
            print(f"  {kind} sockets closed by the server: 0 (opened {attack.opened[kind]})")
    print(f"  attacker connect errors: {attack.connect_errors}")


if __name__ == "__main__":
    main()
