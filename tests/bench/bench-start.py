#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start-up cost of microvmd against bare QEMU, measured in the same run.

  (a) bare: spawn QEMU by hand with the argv the daemon would use, connect QMP,
      qmp_capabilities, cont, query-status says running;
  (b) microvmd: `microvmctl start NAME` until it returns (the guest is running).
Prints medians over N runs of each and the ratio b/a, then the daemon's RSS with 0 and
with 20 defined guests. Not part of the test suite: no pass/fail, only figures.

  python3 tests/bench/bench-start.py [-n 20]      (after meson compile -C build)"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "daemon"))
from harness import World  # noqa: E402


def qmp_command(f, sock, command):
    sock.sendall(json.dumps({"execute": command}).encode() + b"\n")
    while True:
        msg = json.loads(f.readline())
        if "return" in msg or "error" in msg:
            return msg


def bare_start(argv, tmp):
    """Spawns QEMU with listening sockets as fds 3, 4, 5, as the daemon does."""
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
        for target, fd in zip((3, 4, 5), fds):
            os.dup2(fd, target)
            os.set_inheritable(target, True)

    started = time.monotonic()
    proc = subprocess.Popen(argv, preexec_fn=child_fds, pass_fds=(3, 4, 5),
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
    proc.kill()
    proc.wait()
    for c in conns:
        c.close()
    return elapsed


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20)
    args = parser.parse_args()

    with World() as w:
        time.sleep(0.5)
        rss0 = rss_kib(w.daemon.pid)
        w.ctl("define", w.write_guest("b.guest", "[Guest]\nMemory=128M\n"))
        argv = w.ctl("check", w.write_guest("b2.guest", "[Guest]\nName=b\nMemory=128M\n"))
        argv = [a for a in argv.stdout.splitlines() if a]
        argv.insert(argv.index("-no-shutdown") + 1, "-S")

        bare, daemon = [], []
        for _ in range(args.n):  # interleaved, so drift hits both alike
            bare.append(bare_start(argv, w.dir))
            started = time.monotonic()
            w.ctl("start", "b")
            daemon.append(time.monotonic() - started)
            w.ctl("kill", "b")

        a, b = statistics.median(bare), statistics.median(daemon)
        print(f"accelerator: tcg, runs: {args.n} each")
        print(f"(a) bare QEMU spawn to running over QMP: median {a * 1000:.1f} ms")
        print(f"(b) microvmctl start to running:        median {b * 1000:.1f} ms")
        print(f"ratio b/a: {b / a:.2f}")

        for i in range(19):
            w.ctl("define", w.write_guest(f"g{i}.guest", "[Guest]\nMemory=64M\n"))
        rss20 = rss_kib(w.daemon.pid)
        print(f"daemon RSS: {rss0} KiB with 0 guests, {rss20} KiB with 20 defined guests")


if __name__ == "__main__":
    main()
