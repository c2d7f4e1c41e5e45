#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""100 guests on one small host (issue 11, item 3), measured in one run:

  - `microvmctl list` and GetManagedObjects with 100 defined guests (medians, and the same
    with none, and a bare bus round trip for scale);
  - the daemon's RSS: empty, with 100 defined, with 100 running; per guest above empty;
  - the daemon's CPU while every guest idles (ready, nothing to do), over --idle seconds;
  - the 101st start against the first (spawn to running, medians of a few);
  - an idle booted guest's QEMU memory at Memory=256M with free-page reporting, after it
    settled (--settle seconds): RSS and PSS, and what they are made of (guest RAM, TCG's
    translation buffer, the kernel and initrd files QEMU maps, QEMU's own files and
    heap); then the same guest's again with a second one running, which shares the
    files' pages (PSS).
Not part of the test suite: no pass/fail, only figures.

Memory=64M (--memory) needs a kernel smaller than Debian's generic one, which lies up to
74 MiB of guest memory: the project's minimal kernel (guest-kernel/), or --memory 128M.
--kernel and --initrd boot another default kernel than the build's; --idle-memory-only
measures the idle guest alone (a minute instead of the 100 guests' quarter of an hour).

  sudo python3 tests/bench/bench-scale.py [-n 100] [--idle 20] [--memory 64M] [--settle 30]
      [--kernel VMLINUX --initrd INITRD] [--idle-memory-only] [--tcg-cache 16M]"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "daemon"))
import harness  # noqa: E402
from harness import MICROVMCTL, World  # noqa: E402
from proc_stats import cpu_seconds, format_qemu_memory, qemu_memory, rss_kib  # noqa: E402

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


def wait_all_ready(w, names, timeout=600):
    """Waits until every guest is ready; names those that are not by @timeout, with the end
    of their console, and returns them (the figures are then of the guests that are)."""
    deadline = time.monotonic() + timeout
    while True:
        listing = w.ctl("list").stdout.splitlines()[1:]
        ready = {line.split()[0] for line in listing if line.split()[2] == "yes"}
        late = [n for n in names if n not in ready]
        if not late or time.monotonic() > deadline:
            break
        time.sleep(2)
    for name in late:
        print(f"guest {name} not ready after {timeout} s ({w.state(name)}); its console ends:\n"
              + w.log(name)[-800:])
    return late


IDLE_MEMORY_MIB = 256


def idle_guest_memory(w, settle, tcg_cache):
    """Prints an idle guest's QEMU memory by kind once it settled, alone and beside a second."""
    extra = f"TCGCacheSize={tcg_cache}\n" if tcg_cache else ""
    boot_files = (harness.VMLINUX, harness.INITRD)
    for name in ("idle", "idle2"):
        w.ctl("define", w.write_guest(f"{name}.guest",
                                      f"[Guest]\nMemory={IDLE_MEMORY_MIB}M\n{extra}"))
    w.ctl("start", "idle", "--wait-ready")
    pid = int(w.prop("idle", "MainPID"))
    time.sleep(settle)
    alone = qemu_memory(pid, IDLE_MEMORY_MIB * 1024, boot_files)
    w.ctl("start", "idle2", "--wait-ready")
    time.sleep(settle)
    beside = qemu_memory(pid, IDLE_MEMORY_MIB * 1024, boot_files)
    for name in ("idle", "idle2"):
        w.ctl("kill", name)
    print(f"an idle booted guest, Memory={IDLE_MEMORY_MIB}M, free-page reporting on"
          f"{', ' + extra.strip() if extra else ''}, kernel {harness.VMLINUX}:")
    print(f"QEMU after {settle} s, alone: RSS {alone['total']['Rss'] / 1024:.1f} MiB, "
          f"PSS {alone['total']['Pss'] / 1024:.1f} MiB, of which anonymous "
          f"{alone['total']['Anonymous'] / 1024:.1f} MiB")
    print(format_qemu_memory(alone))
    print(f"the same, {settle} s after a second such guest started beside it: "
          f"PSS {beside['total']['Pss'] / 1024:.1f} MiB")
    print(format_qemu_memory(beside))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--idle", type=int, default=20, help="seconds of idle CPU measured")
    parser.add_argument("--memory", default="64M", help="Memory= of the 100 guests")
    parser.add_argument("--settle", type=int, default=30,
                        help="seconds an idle guest is left before its memory is measured")
    parser.add_argument("--kernel", help="the daemon's DefaultKernel= (default: the build's)")
    parser.add_argument("--initrd", help="the daemon's DefaultInitrd= (default: the build's)")
    parser.add_argument("--tcg-cache", help="TCGCacheSize= of the idle guests (default: none)")
    parser.add_argument("--idle-memory-only", action="store_true",
                        help="measure the idle guest's memory only")
    args = parser.parse_args()
    if bool(args.kernel) != bool(args.initrd):
        parser.error("--kernel and --initrd go together")
    if args.kernel:
        harness.VMLINUX = os.path.abspath(args.kernel)
        harness.INITRD = os.path.abspath(args.initrd)
    # a timeout's SIGTERM must still end every guest (World's teardown), not orphan them
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    # the n guests, "extra" (first and 101st start), "idle" and "idle2"
    with World(run_tmpfs="1g", logs_tmpfs="512m",
               conf_extra=f"MaxGuests={args.n + 3}\n") as w:
        if not args.idle_memory_only:
            many_guests(w, args)
        idle_guest_memory(w, args.settle, args.tcg_cache)


def many_guests(w, args):
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
    late = wait_all_ready(w, names)
    print(f"{len(names) - len(late)} of {len(names)} ready")
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


if __name__ == "__main__":
    main()
