#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start-up cost of microvmd against bare QEMU, measured in the same run.

  (a) bare: spawn QEMU by hand with the argv the daemon would use, connect QMP,
      qmp_capabilities, cont, query-status says running;
  (b) microvmd: `microvmctl start NAME` until it returns (the guest is running).
Prints medians and ranges over N runs of each and the ratio b/a, and where (b)'s time goes:
microvmctl's own exec, and the daemon's steps from its debug line (plan and files, sockets
and helpers, spawn, QMP handshake, cont, query-status); the rest is the client's bus
connection and calls. Then parallel starts: P guests started at once by P concurrent
`microvmctl start`, against P bare spawns at once, as guests a second (rounds, medians).
Then the daemon's RSS with 0 and with 20 defined guests. The runtime folder is a tmpfs, as
/run is. Not part of the test suite: no pass/fail, only figures.

  sudo python3 tests/bench/bench-start.py [-n 20] [-p 20] [--rounds 3]"""

import concurrent.futures
import fcntl
import re

import argparse
import json
import os
import socket
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "daemon"))
from harness import INITRD, MICROVMCTL, VMLINUX, World  # noqa: E402
from proc_stats import rss_kib  # noqa: E402


def qmp_command(f, sock, command):
    sock.sendall(json.dumps({"execute": command}).encode() + b"\n")
    while True:
        msg = json.loads(f.readline())
        if "return" in msg or "error" in msg:
            return msg


def stop_bare(proc, conns):
    proc.kill()
    proc.wait()
    for c in conns:
        c.close()


def bare_start(argv, tmp, keep=None):
    """Spawns QEMU with listening sockets as fds 3, 4, 5, as the daemon does, and ends it once
    running; with a list @keep, leaves it running (booting) and adds it there."""
    listeners = []
    for i, name in enumerate(("qmp", "console", "ready")):
        path = os.path.join(tmp, f"bare-{name}.sock")
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(1)
        listeners.append((s, path))
    fds = [s.fileno() for s, _ in listeners]

    def child_fds():
        # by way of fds above any target, so that no dup2 lands on a socket still to move;
        # the sockets are CLOEXEC (PEP 446), the targets dup2 made are not
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in fds]
        for target, fd in zip((3, 4, 5), high):
            os.dup2(fd, target)

    started = time.monotonic()
    # close_fds=False: pass_fds would need 3, 4 and 5 open in this process, where other
    # threads' sockets come and go
    proc = subprocess.Popen(argv, preexec_fn=child_fds, close_fds=False,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conns = []
    for s, path in listeners:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        conns.append(c)
        s.close()
    f = conns[0].makefile("r")
    json.loads(f.readline())  # greeting
    qmp_command(f, conns[0], "qmp_capabilities")
    qmp_command(f, conns[0], "cont")
    status = qmp_command(f, conns[0], "query-status")
    elapsed = time.monotonic() - started
    assert status["return"]["status"] == "running", status
    if keep is None:
        stop_bare(proc, conns)
    else:
        keep.append((proc, conns))
    return elapsed


STEPS = ("plan and files", "sockets and helpers", "spawn", "QMP greeting and capabilities",
         "cont", "query-status")


def ms(values):
    """median (min-max) in ms"""
    return (f"{statistics.median(values) * 1000:6.1f} ms "
            f"({min(values) * 1000:.1f}-{max(values) * 1000:.1f})")


def daemon_steps(w, name, since):
    """The steps of each start of NAME the daemon logged after offset SINCE, in seconds"""
    text = w.read_daemon_log()[since:]
    found = []
    for m in re.finditer(rf"guest {name}: started in ([\d.]+) ms: (.*)", text):
        parts = {k.strip(): v for k, v in re.findall(r"([A-Za-z -]+?) ([\d.]+)(?:,|$)",
                                                     m.group(2))}
        found.append([float(parts[step]) / 1000 for step in STEPS]
                     + [float(m.group(1)) / 1000])
    return found


def timed(argv, env):
    started = time.monotonic()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.monotonic() - started


def one_by_one(w, argv, n):
    bare, daemon = [], []
    since = len(w.read_daemon_log())
    for _ in range(n):  # interleaved, so drift hits both alike
        bare.append(bare_start(argv, w.dir))
        started = time.monotonic()
        w.ctl("start", "b")
        daemon.append(time.monotonic() - started)
        w.ctl("kill", "b")
    exec_only = [timed([MICROVMCTL, "--version"], w.env()) for _ in range(n)]
    steps = list(zip(*daemon_steps(w, "b", since)))
    a, b = statistics.median(bare), statistics.median(daemon)
    print(f"one at a time, accelerator tcg, {n} runs each; median (min-max)")
    print(f"(a) bare QEMU spawn to running over QMP: {ms(bare)}")
    print(f"(b) microvmctl start to running:        {ms(daemon)}")
    print(f"ratio b/a: {b / a:.2f}")
    print("where (b) goes:")
    print(f"  microvmctl --version (exec, GLib): {ms(exec_only)}")
    for step, values in zip(STEPS, steps):
        print(f"  daemon: {step + ':':34} {ms(values)}")
    if steps:
        rest = b - statistics.median(steps[-1]) - statistics.median(exec_only)
        print(f"  the rest (bus connection, GetGuest, Start's call and reply): "
              f"{rest * 1000:.1f} ms")


def bare_batch(argv, tmp, p):
    dirs = [os.path.join(tmp, f"bare{i}") for i in range(p)]
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    running = []
    started = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(p) as pool:
            list(pool.map(lambda d: bare_start(argv, d, keep=running), dirs))
        return time.monotonic() - started
    finally:
        # as the daemon's guests do, each booted on until the whole batch ran; and none is
        # left behind when one failed (World's teardown does not know them)
        for proc, conns in running:
            stop_bare(proc, conns)


def daemon_batch(w, p):
    started = time.monotonic()
    procs = [subprocess.Popen([MICROVMCTL, "--session", "start", f"p{i}"], env=w.env(),
                              stdout=subprocess.DEVNULL) for i in range(p)]
    for proc in procs:
        assert proc.wait() == 0
    took = time.monotonic() - started
    for i in range(p):
        w.ctl("kill", f"p{i}")
    return took


def in_parallel(w, argv, p, rounds):
    for i in range(p):
        w.ctl("define", w.write_guest(f"p{i}.guest", "[Guest]\nMemory=128M\n"))
    bare, daemon = [], []
    for _ in range(rounds):
        bare.append(p / bare_batch(argv, w.dir, p))
        daemon.append(p / daemon_batch(w, p))
    a, b = statistics.median(bare), statistics.median(daemon)
    print(f"{p} at once, {rounds} rounds; guests a second, median (min-max)")
    print(f"(a) bare QEMU: {a:.1f} VM/s ({min(bare):.1f}-{max(bare):.1f})")
    print(f"(b) microvmd:  {b:.1f} VM/s ({min(daemon):.1f}-{max(daemon):.1f})")
    print(f"ratio b/a: {b / a:.2f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("-p", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # a timeout's SIGTERM must still end every guest (World's teardown), not orphan them
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    # the daemon's debug lines carry its steps; microvmctl must not print its own
    with World(run_tmpfs="256m", daemon_prefix=["env", "G_MESSAGES_DEBUG=all"]) as w:
        time.sleep(0.5)
        rss0 = rss_kib(w.daemon.pid)
        w.ctl("define", w.write_guest("b.guest", "[Guest]\nMemory=128M\n"))
        argv = w.ctl("check", w.write_guest("b2.guest", "[Guest]\nName=b\nMemory=128M\n"))
        # the daemon's QEMU gets its kernel and initrd as open files: the bare one by name
        files = {"/proc/self/fd/12": VMLINUX, "/proc/self/fd/13": INITRD}
        argv = [files.get(a, a) for a in argv.stdout.splitlines() if a]
        argv.insert(argv.index("-no-shutdown") + 1, "-S")

        one_by_one(w, argv, args.n)
        in_parallel(w, argv, args.p, args.rounds)

        rss = rss_kib(w.daemon.pid)
        print(f"daemon RSS: {rss0} KiB with no guest, {rss} KiB with {args.p + 1} defined")


if __name__ == "__main__":
    main()
