#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""9p against virtiofs, in one run and one guest: the guest (TCG, the default kernel and
initrd, 512 MiB) writes a file of --mib MiB into each share with dd, syncs, drops its page
cache and reads the file back. The clock is the host's, from the moment a step's command
line is sent to the moment its end marker comes back on the console, so it includes a
console round trip (milliseconds) on top of seconds of work. Not part of the test suite:
no pass/fail, only figures.

  python3 tests/bench/bench-share.py [--mib 256] [--runs 3]
                                        (as root, after meson compile -C build)"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "daemon"))
from harness import World  # noqa: E402

GUEST = """[Guest]
Memory=512M
[Share nine]
Type=9p
Path={dir}/shared/nine
ReadOnly=no
[Share vfs]
Type=virtiofs
Path={dir}/shared/vfs
ReadOnly=no
"""


def step(console, command, marker):
    """Seconds from sending @command to @marker (split by quotes in what is typed, so the
    console's echo of the command does not match) coming back."""
    typed = marker[:2] + "''" + marker[2:]
    start = time.monotonic()
    console.stdin.write(f"{{ {command}; }} && echo {typed} || echo FAILED-{typed}\n".encode())
    console.stdin.flush()
    while True:
        line = console.stdout.readline()
        if not line:
            raise RuntimeError(f"the console ended before {marker}")
        if line.strip() == marker.encode():
            return time.monotonic() - start
        if line.strip() == f"FAILED-{marker}".encode():
            raise RuntimeError(f"the guest failed at {marker}: {command}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures = {(kind, op): [] for kind in ("9p", "virtiofs") for op in ("write", "read")}
    with World() as w:
        for sub in ("nine", "vfs"):
            os.makedirs(os.path.join(w.dir, "shared", sub))
        # QEMU serves 9p under the guest's own uid: it must be able to write the folder
        os.chmod(os.path.join(w.dir, "shared", "nine"), 0o777)
        w.ctl("define", w.write_guest("b.guest", GUEST.format(dir=w.dir)))
        w.ctl("start", "b", "--wait-ready")
        console = w.console_popen("b")
        step(console, "while ! grep -q virtiofs /proc/filesystems; do sleep 0.2; done; "
             "mkdir -p /n /v && mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 "
             "nine /n && mount -t virtiofs vfs /v", "MOUNTED")
        for run in range(args.runs):
            for kind, mnt in (("9p", "/n"), ("virtiofs", "/v")):
                figures[(kind, "write")].append(step(
                    console, f"dd if=/dev/zero of={mnt}/f bs=1M count={args.mib} 2>/dev/null && "
                    "sync", f"W-{kind}-{run}"))
                figures[(kind, "read")].append(step(
                    console, f"echo 3 >/proc/sys/vm/drop_caches && cat {mnt}/f >/dev/null && "
                    f"rm {mnt}/f", f"R-{kind}-{run}"))
        console.stdin.close()
        console.wait(timeout=10)
        w.ctl("kill", "b")
    print(f"shares, {args.mib} MiB written then read in the guest, TCG, {args.runs} runs, "
          f"{time.strftime('%Y-%m-%d')}")
    for (kind, op), seconds in figures.items():
        rates = [args.mib / s for s in seconds]
        print(f"  {kind:8} {op:5} median {statistics.median(rates):6.1f} MiB/s "
              f"(range {min(rates):.1f}-{max(rates):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
