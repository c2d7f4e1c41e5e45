#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Guest-to-host throughput of the three kinds of card, in one run: QEMU's own user-mode
network (slirp), passt, and a tap on a bridge. Each guest (TCG, the default kernel and
initrd) sends 256 MiB with busybox nc to a counting server the benchmark runs in a network
namespace of its own; the figure is bytes over the time from the first byte to the last.
Not part of the test suite: no pass/fail, only figures.

The total goes over --connections connections one after the other (8 of 32 MiB by
default): Debian 12's passt (2023-03-09) resets a guest-to-host connection about 24 s
after it opens when the guest sends at TCG's pace, so one 256 MiB connection measures
that fault rather than the card; `--connections 1` shows it.

  python3 tests/bench/bench-net.py [--mib 256] [--connections 8] [--only KIND]
                                        (as root, after meson compile -C build)"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "daemon"))
from harness import MICROVMCTL, World  # noqa: E402

COUNTER = r"""
import socket, sys, time
s = socket.create_server((sys.argv[1], int(sys.argv[2])))
print("up", flush=True)
n, first, last = 0, None, None
for _ in range(int(sys.argv[3])):
    c, _ = s.accept()
    try:
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            if first is None:
                first = time.monotonic()
            n += len(b)
    except OSError as e:
        print("connection ended:", e, file=sys.stderr, flush=True)
    last = time.monotonic()
    c.close()
print(n, last - (first or last), flush=True)
"""


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def measure(ns, w, name, guest_text, listen, target, port, args):
    """Bytes the server counted and the seconds from the first to the last of them."""
    chunk = args.mib // args.connections
    server = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", COUNTER,
                               listen, str(port), str(args.connections)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "up"
        w.ctl("define", w.write_guest(f"{name}.guest", guest_text))
        w.ctl("start", name, "--wait-ready")
        subprocess.run([MICROVMCTL, "--session", "console", name, "--linger", "1"],
                       input=f"for i in $(seq {args.connections}); do dd if=/dev/zero bs=1M "
                             f"count={chunk} 2>/dev/null | nc {target} {port}; done\n",
                       env=w.env(), capture_output=True, text=True, timeout=60)
        n, seconds = server.stdout.readline().split()
        w.ctl("kill", name)
        return int(n), float(seconds)
    finally:
        server.kill()
        server.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--only", choices=["slirp", "passt", "tap"],
                        help="measure one kind of card")
    args = parser.parse_args()
    ns = f"mvdbench{os.getpid()}"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", ns, "addr", "add", "10.77.0.1/24", "dev", "br0")
        sh("ip", "-n", ns, "link", "set", "br0", "up")
        sh("ip", "-n", ns, "route", "add", "default", "via", "10.77.0.254", "dev", "br0")
        base = "[Guest]\nMemory=256M\n[Network net0]\n"
        want = [args.only] if args.only else ["slirp", "passt", "tap"]
        results = []
        if "slirp" in want:
            with World(daemon_prefix=["ip", "netns", "exec", ns],
                       conf_extra="UserNetwork=slirp\n") as w:
                results.append(("slirp", measure(ns, w, "s", base, "127.0.0.1", "10.0.2.2",
                                                 15001, args)))
        with World(daemon_prefix=["ip", "netns", "exec", ns],
                   conf_extra="AllowedBridges=br0\n") as w:
            if "passt" in want:
                results.append(("passt", measure(ns, w, "p",
                                                 base + "Mode=passt\nHostLoopback=yes\n",
                                                 "127.0.0.1", "10.77.0.254", 15002, args)))
            if "tap" in want:
                results.append(("tap", measure(ns, w, "t", base + "Mode=tap\nBridge=br0\n"
                                               "Address=10.77.0.2/24\n", "10.77.0.1",
                                               "10.77.0.1", 15003, args)))
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    print(f"guest -> host, {args.mib} MiB in {args.connections} connection(s), TCG, "
          f"{time.strftime('%Y-%m-%d')}")
    for kind, (n, seconds) in results:
        print(f"  {kind:6} {n / seconds / 2**20:8.1f} MiB/s  ({n >> 20} MiB in {seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
