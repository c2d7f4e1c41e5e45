#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Starting from a snapshot against booting, in the same run, by guest memory size.

For each Memory= size a guest with the default kernel and initrd, a user-mode NIC and an
ephemeral disk is booted to ready (`microvmctl start NAME --wait-ready`: the guest's READY=1,
after DHCP), saved once (`microvmctl snapshot save`), and started from that snapshot to ready
(`microvmctl start NAME --snapshot warm --wait-ready`), n of each, one after the other as a
pool of workers would start them: the cold ones, then the warm ones. (Interleaved, a warm
start right after a cold-booted QEMU of the same size was killed takes 2-3 times as long
on the nested development machine: the host kernel zeroing again the memory QEMU's loader
allocates, all of the guest's, which the earlier QEMU had just given back.) A size the default kernel does not fit
in is reported, not measured. Under TCG unless the daemon finds KVM. Not part of the test
suite: no pass/fail, only figures.

  python3 tests/bench/bench-snapshot.py [-n 5] [--sizes 64,128,256,512] [--kernel VMLINUX
      --initrd INITRD]   (another kernel: the minimal one fits 64 MiB, the default does not)"""

import argparse
import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "daemon"))
from harness import World  # noqa: E402

GUEST = """[Guest]
Memory={memory}M
{boot}[Disk scratch]
Path={disk}
Ephemeral=yes
[Network net0]
Mode=user
"""


def timed(w, *args):
    started = time.monotonic()
    w.ctl(*args, timeout=180)
    return time.monotonic() - started


def describe(xs):
    return f"{statistics.median(xs):6.3f} s ({min(xs):.3f}-{max(xs):.3f})"


def measure(w, name, n):
    """cold and warm start times, the save's time and the snapshot's size; or why the guest
    cannot start at all"""
    r = w.ctl("start", name, "--wait-ready", expect=None, timeout=180)
    if r.returncode != 0:
        return r.stderr.strip()
    save = timed(w, "snapshot", "save", name, "warm")
    w.ctl("kill", name)
    cold, warm = [], []
    for _ in range(n):
        cold.append(timed(w, "start", name, "--wait-ready"))
        w.ctl("kill", name)
    for _ in range(n):
        warm.append(timed(w, "start", name, "--snapshot", "warm", "--wait-ready"))
        w.ctl("kill", name)
    path = os.path.join(w.dir, "state", "guests", name, "snapshots", "warm")
    size = sum(os.stat(os.path.join(path, f)).st_blocks * 512 for f in os.listdir(path))
    return cold, warm, save, size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=5, help="cold and warm starts of each size")
    parser.add_argument("--sizes", default="64,128,256,512", help="Memory= sizes in MiB")
    parser.add_argument("--kernel", help="Kernel= of the guests (default: the daemon's)")
    parser.add_argument("--initrd", help="Initrd= of the guests, with --kernel")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    with World() as w:
        boot = ""
        for key, path in (("Kernel", args.kernel), ("Initrd", args.initrd)):
            if path:  # where the daemon takes kernels from: ImageDirectories=
                copy = os.path.join(w.dir, "images", os.path.basename(path))
                shutil.copy(path, copy)
                boot += f"{key}={copy}\n"
        results = {}
        for mib in sizes:
            name = f"m{mib}"
            disk = w.make_disk(name + ".img", 64)
            text = GUEST.format(memory=mib, disk=disk, boot=boot)
            w.ctl("define", w.write_guest(name + ".guest", text))
            results[mib] = measure(w, name, args.n)

        accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
        kernel = f"kernel {args.kernel}" if args.kernel else "the default kernel and initrd"
        print(f"accelerator: {accel}; {kernel}; user-mode NIC, an ephemeral "
              f"disk; {args.n} cold starts, then {args.n} warm ones; start to ready (microvmctl's "
              "return)")
        print(f"{'Memory':>7}  {'boot to ready':>24}  {'from snapshot to ready':>24}  "
              f"{'ratio':>6}  {'save':>7}  {'snapshot':>9}")
        for mib, result in results.items():
            if isinstance(result, str):
                print(f"{mib:>5}M  not measured: {result}")
                continue
            cold, warm, save, size = result
            ratio = statistics.median(cold) / statistics.median(warm)
            print(f"{mib:>5}M  {describe(cold):>24}  {describe(warm):>24}  {ratio:5.1f}x  "
                  f"{save:5.2f} s  {size / 2**20:6.1f} MiB")


if __name__ == "__main__":
    main()
