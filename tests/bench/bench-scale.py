#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""100 guests on one small host (issue 11, item 3), measured in one run:

  - `microvmctl list` and GetManagedObjects with 100 defined guests (medians, and the same
    with none, and a bare bus round trip for scale);
  - the daemon's RSS: empty, with 100 defined, with 100 running; per guest above empty;
  - the daemon's CPU while every guest idles (ready, nothing to do), over --idle seconds;
  - the 101st start against the first (spawn to running, medians of a few);
  - an idle booted guest's QEMU RSS at Memory=256M with free-page reporting, after it
    settled.
Not part of the test suite: no pass/fail, only figures.

Memory=64M (--memory) needs a kernel smaller than Debian's generic one, which lies up to
74 MiB of guest memory: the project's minimal kernel (guest-kernel/), or --memory 128M.

  sudo python3 tests/bench/bench-scale.py [-n 100] [--idle 20] [--memory 64M]"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "daemon"))
from harness import MICROVMCTL, World  # noqa: E402
from proc_stats import cpu_seconds, rss_kib  # noqa: E402

def median_ms(fn, runs=10):
    times = []
    for _ in range(runs):
        started = time.monotonic()
        fn()
        times.append(time.monotonic() - started)
    return statistics.median(times) * 1000


def busctl(w, *args):
    subprocess.run(["busctl", f"--address={w.bus_address}", *args], check=True,
                   capture_output=True)


def calls(w, label):
    listed = median_ms(lambda: w.ctl("list"))
    managed = median_ms(lambda: busctl(w, "call", "org.microvmd1", "/org/microvmd1",
                                       "org.freedesktop.DBus.ObjectManager",
                                       "GetManagedObjects"))
    ping = median_ms(lambda: busctl(w, "call", "org.microvmd1", "/org/microvmd1",
                                    "org.freedesktop.DBus.Peer", "Ping"))
    print(f"{label}: microvmctl list {listed:.1f} ms; GetManagedObjects {managed:.1f} ms by "
          f"busctl, of which a bare round trip (Peer.Ping) {ping:.1f} ms")


def start_ms(w, name, runs=5):
    times = []
    for _ in range(runs):
        started = time.monotonic()
        w.ctl("start", name)
        times.append(time.monotonic() - started)
        w.ctl("kill", name)
    return statistics.median(times) * 1000


def start_all(w, names, batch=10):
    for i in range(0, len(names), batch):
        procs = [subprocess.Popen([MICROVMCTL, "--session", "start", n], env=w.env(),
                                  stdout=subprocess.DEVNULL) for n in names[i:i + batch]]
        for p in procs:
            assert p.wait() == 0


def wait_all_ready(w, names, timeout=1800):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = w.ctl("list").stdout.splitlines()[1:]
        ready = sum(1 for line in listing if line.split()[0] in names and line.split()[2] == "yes")
        if ready == len(names):
            return
        time.sleep(2)
    raise SystemExit(f"not every guest was ready after {timeout} s")


def idle_guest_rss(w, settle):
    w.ctl("define", w.write_guest("idle.guest", "[Guest]\nMemory=256M\n"))
    w.ctl("start", "idle", "--wait-ready")
    time.sleep(settle)
    pid = int(w.prop("idle", "MainPID"))
    rss = rss_kib(pid)
    w.ctl("kill", "idle")
    return rss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--idle", type=int, default=20, help="seconds of idle CPU measured")
    parser.add_argument("--memory", default="64M", help="Memory= of the 100 guests")
    args = parser.parse_args()
    # a timeout's SIGTERM must still end every guest (World's teardown), not orphan them
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    with World(run_tmpfs="1g", logs_tmpfs="512m",
               conf_extra=f"MaxGuests={args.n + 2}\n") as w:
        time.sleep(0.5)
        daemon = w.daemon.pid
        rss_empty = rss_kib(daemon)
        calls(w, "no guest")
        names = [f"g{i:03d}" for i in range(args.n)]
        for n in names + ["extra"]:
            w.ctl("define", w.write_guest(f"{n}.guest", f"[Guest]\nMemory={args.memory}\n"))
        first = start_ms(w, "extra")
        rss_defined = rss_kib(daemon)
        calls(w, f"{args.n + 1} defined")

        started = time.monotonic()
        start_all(w, names)
        print(f"{args.n} guests started in {time.monotonic() - started:.1f} s "
              f"(10 at a time); waiting for all to be ready")
        wait_all_ready(w, names)
        rss_running = rss_kib(daemon)
        calls(w, f"{args.n} running")
        cpu0 = cpu_seconds(daemon)
        time.sleep(args.idle)
        cpu = (cpu_seconds(daemon) - cpu0) / args.idle * 100
        last = start_ms(w, "extra")

        print(f"daemon RSS: {rss_empty} KiB empty, {rss_defined} KiB with {args.n + 1} defined "
              f"({(rss_defined - rss_empty) / (args.n + 1):.1f} KiB a guest), {rss_running} KiB "
              f"with {args.n} running ({(rss_running - rss_empty) / args.n:.1f} KiB a guest)")
        print(f"daemon CPU while {args.n} guests idle: {cpu:.2f} % over {args.idle} s")
        print(f"start to running: first {first:.1f} ms, with {args.n} running {last:.1f} ms "
              f"(ratio {last / first:.2f})")
        for n in names:
            w.ctl("kill", n)
        rss = idle_guest_rss(w, settle=30)
        print(f"an idle booted guest, Memory=256M, free-page reporting on: QEMU RSS "
              f"{rss / 1024:.1f} MiB after 30 s")


if __name__ == "__main__":
    main()
