#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Boot time of the minimal guest kernel against the host's Debian kernel, in the same run.

The minimal kernel is the build's (build/guest-kernel/vmlinux with its module-less initrd,
made with -Dguest_kernel=minimal or auto); the Debian one is extracted from the newest
/boot/vmlinuz-* here, with an initrd of its modules, both by guest-kernel/'s scripts. Each
boots on PCIe and on MMIO with the default guest's devices: balloon and rng (always), a
user-mode NIC, an ext4 disk (the root: /init switches to it), a 9p share, a virtiofs share
(as root, with QEMU's virtiofsd) and vsock (where /dev/vhost-vsock exists). The clock runs
from `microvmctl start NAME --wait-ready` to its return: the guest's READY=1, after the
network is configured. Boots are interleaved so that load drifting over the run hits every
kernel alike. Under TCG unless the daemon finds KVM. Not part of the test suite: no
pass/fail, only figures.

  python3 tests/bench/bench-boot.py [-n 5]      (after meson compile -C build)"""

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "daemon"))
from harness import BUILD, INITRD, SOURCE, VMLINUX, World  # noqa: E402

GUEST = """[Guest]
Transport={transport}
Kernel={kernel}
Initrd={initrd}
[Disk root]
Path={disk}
Format=raw
[Network net0]
Mode=user
[Share nine]
Type=9p
Path={share}
"""
VIRTIOFS = "[Share vfs]\nType=virtiofs\nPath={share}\n"
VSOCK = "[Vsock]\n"


def debian_kernel(images):
    """Extracts the newest /boot/vmlinuz-* and builds the initrd of its modules."""
    newest = sorted(glob.glob("/boot/vmlinuz-*"))
    if not newest:
        sys.exit("bench-boot: no /boot/vmlinuz-* (apt install linux-image-amd64)")
    image = newest[-1]
    kver = os.path.basename(image)[len("vmlinuz-"):]
    here = os.path.join(SOURCE, "guest-kernel")
    kernel, initrd = os.path.join(images, "debian-vmlinux"), os.path.join(images, "debian-initrd")
    subprocess.run(["sh", os.path.join(here, "extract-vmlinux.sh"), image, kernel], check=True)
    subprocess.run(["sh", os.path.join(here, "build-initrd.sh"), "-k", kver, initrd],
                   check=True, stderr=subprocess.DEVNULL)
    return kver, kernel, initrd


def minimal_kernel(images):
    """The build's kernel, when it is the minimal one (build-kernel.sh leaves its config)."""
    if not os.path.exists(VMLINUX + ".config"):
        sys.exit(f"bench-boot: {VMLINUX} is not the minimal kernel; configure the build "
                 "with -Dguest_kernel=minimal (needs linux-source-6.1)")
    kernel, initrd = os.path.join(images, "minimal-vmlinux"), os.path.join(images, "minimal-initrd")
    shutil.copy(VMLINUX, kernel)
    shutil.copy(INITRD, initrd)
    with open(VMLINUX + ".config") as f:
        version = next((line.split()[2] for line in f if line.startswith("# Linux/x86")), "?")
    return version, kernel, initrd


def make_root(path):
    """An empty ext4 file system: /init mounts it as the root and switches to it."""
    with open(path, "wb") as f:
        f.truncate(64 << 20)
    subprocess.run(["/sbin/mkfs.ext4", "-q", "-F", path], check=True)


def boot_once(w, name):
    started = time.monotonic()
    w.ctl("start", name, "--wait-ready", timeout=120)
    elapsed = time.monotonic() - started
    w.ctl("kill", name)
    return elapsed


def describe(xs):
    return (f"median {statistics.median(xs):.2f} s "
            f"(range {min(xs):.2f}-{max(xs):.2f}, n={len(xs)})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=5, help="boots of each kernel on each transport")
    args = parser.parse_args()

    with World() as w:
        images = os.path.join(w.dir, "images")
        share = os.path.join(w.dir, "shared", "bench")
        os.makedirs(share)
        kernels = {"minimal": minimal_kernel(images), "debian": debian_kernel(images)}
        devices = ["balloon", "rng", "net", "blk", "9p"]
        extra = ""
        if os.geteuid() == 0 and os.path.exists("/usr/lib/qemu/virtiofsd"):
            extra += VIRTIOFS.format(share=share)
            devices.append("virtiofs")
        if os.access("/dev/vhost-vsock", os.R_OK | os.W_OK):
            extra += VSOCK
            devices.append("vsock")
        names = []
        for kind, (_, kernel, initrd) in kernels.items():
            for transport in ("pcie", "mmio"):
                name = f"{kind}-{transport}"
                disk = os.path.join(images, f"{name}.ext4")
                make_root(disk)
                w.ctl("define", w.write_guest(f"{name}.guest", GUEST.format(
                    transport=transport, kernel=kernel, initrd=initrd, disk=disk,
                    share=share) + extra))
                names.append(name)

        times = {name: [] for name in names}
        for name in names:  # a first boot of each, not counted: files into the page cache
            boot_once(w, name)
        for _ in range(args.n):
            for name in names:
                times[name].append(boot_once(w, name))

        accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
        print(f"accelerator: {accel}; devices: {', '.join(devices)}; "
              f"{args.n} boots each, interleaved, after one uncounted boot each")
        print(f"minimal: Linux {kernels['minimal'][0]} ({os.path.relpath(VMLINUX, BUILD)}), "
              f"debian: {kernels['debian'][0]} extracted from /boot")
        print("microvmctl start --wait-ready to its return (the guest's READY=1):")
        for name in names:
            print(f"  {name:<14} {describe(times[name])}")
        for transport in ("pcie", "mmio"):
            d = statistics.median(times[f"debian-{transport}"])
            m = statistics.median(times[f"minimal-{transport}"])
            print(f"ratio debian/minimal on {transport}: {d / m:.2f}")


if __name__ == "__main__":
    main()
