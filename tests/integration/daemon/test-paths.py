#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""No host file reaches QEMU by a name a caller chose (issue 8, the review's H1-H4 and M2):
disks, kernels and initrds are opened by the daemon beneath ImageDirectories= and handed to
QEMU as fds; shares only beneath ShareDirectories=, bridges only from AllowedBridges=. Every
refusal names the guest, the group and the key, and leaves no QEMU behind."""

import os
import subprocess
import sys
import time

from harness import INITRD, VMLINUX, World, check, run, wait_for


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def status_field(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return None


def test_qemu_gets_fds_not_names():
    with World() as w:
        disk = w.make_disk("root.img")
        scratch = w.make_disk("scratch.img", size_mb=32)
        w.ctl("define", w.write_guest("f.guest", f"[Guest]\nMemory=128M\n[Disk root]\nPath={disk}\n"
                                      f"[Disk scratch]\nPath={scratch}\nEphemeral=yes\n"))
        w.ctl("start", "f", "--wait-ready")
        pid = w.prop("f", "MainPID")
        argv = cmdline(pid)
        joined = " ".join(argv)
        check("file=/dev/fdset/1" in joined and "-add-fd" in argv, f"no fd set: {joined}")
        check(argv[argv.index("-kernel") + 1].startswith("/proc/self/fd/"), joined)
        check(argv[argv.index("-initrd") + 1].startswith("/proc/self/fd/"), joined)
        for name in (w.dir, VMLINUX, INITRD):
            check(name not in joined, f"QEMU was given the name {name}: {joined}")
        held = [os.path.realpath(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        check(os.path.realpath(f"/proc/{pid}/fd/12") == os.path.realpath(VMLINUX), "fd 12")
        check(os.path.realpath(disk) in held, f"QEMU holds no fd of the disk: {held}")
        # the ephemeral disk's overlay is the daemon's, in the guest's runtime folder, not in
        # /var/tmp; QEMU holds it open and the disk under it read-only, never writable
        overlay = os.path.realpath(w.runtime("f", "scratch.ephemeral.qcow2"))
        check(overlay in held, f"QEMU holds no fd of {overlay}: {held}")
        check(not any(p.startswith("/var/tmp/") for p in held), f"an overlay in /var/tmp: {held}")
        for fd in os.listdir(f"/proc/{pid}/fd"):
            if os.path.realpath(f"/proc/{pid}/fd/{fd}") == os.path.realpath(scratch):
                check(fd_access_mode(pid, fd) == os.O_RDONLY, f"QEMU's fd {fd} writes {scratch}")
        # -sandbox: QEMU runs under a seccomp filter
        check("-sandbox" in argv and status_field(pid, "Seccomp") == "2",
              f"Seccomp: {status_field(pid, 'Seccomp')}")
        # the guest sees the disk through the fd
        wait_for("the shell", lambda: "starting a shell on the console" in w.log("f"))
        time.sleep(0.5)
        w.console("f", "cat /sys/block/vda/size\n")
        wait_for("the disk's size on the console", lambda: "16384" in w.printed("f"), timeout=30)
        # ... and the ephemeral one through its overlay, at the disk's size (32 MiB)
        w.console("f", "echo vdb=$(cat /sys/block/vdb/size)\n")
        wait_for("the ephemeral disk's size on the console", lambda: "vdb=65536" in w.printed("f"),
                 timeout=30)
        w.ctl("stop", "f")
        check(not os.path.exists(overlay), f"{overlay} outlived its guest")


def fd_access_mode(pid, fd):
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("flags:"):
                return int(line.split()[1], 8) & os.O_ACCMODE
    return None


def refused(w, name, text, *needles):
    w.ctl("define", w.write_guest(f"{name}.guest", text))
    r = w.ctl("start", name, expect=1)
    for needle in (f"guest {name}",) + needles:
        check(needle in r.stderr, f"{name}: {needle!r} not in: {r.stderr}")
    check(w.state(name) == "stopped", f"{name}: {w.state(name)}")
    check(not os.path.exists(os.path.join(w.dir, "run", name, "qemu.pid")),
          f"{name}: a QEMU was started")


def test_host_paths_refused():
    with World() as w:
        images = os.path.join(w.dir, "images")
        outside = os.path.join(w.dir, "secret.img")
        with open(outside, "w") as f:
            f.write("secret")
        os.symlink(outside, os.path.join(images, "link.img"))
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", outside, "-F",
                        "raw", os.path.join(images, "backed.qcow2"), "8M"], check=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                        f"data_file={outside},data_file_raw=on",
                        os.path.join(images, "data.qcow2"), "8M"], check=True)
        refused(w, "shadow", "[Guest]\n[Disk x]\nPath=/etc/shadow\nReadOnly=yes\n",
                "[Disk x] Path", "outside the folders")
        refused(w, "blk", "[Guest]\n[Disk x]\nPath=/dev/sda\n", "[Disk x] Path")
        refused(w, "link", f"[Guest]\n[Disk x]\nPath={images}/link.img\n",
                "[Disk x] Path", "symlink")
        refused(w, "backed", f"[Guest]\n[Disk x]\nPath={images}/backed.qcow2\nFormat=qcow2\n",
                "[Disk x] Path", "backing file")
        refused(w, "datafile", f"[Guest]\n[Disk x]\nPath={images}/data.qcow2\nFormat=qcow2\n",
                "[Disk x] Path", "data file")
        refused(w, "root", "[Guest]\n[Share all]\nPath=/\nReadOnly=no\n",
                "[Share all] Path", "ShareDirectories=")
        refused(w, "kernel", "[Guest]\nKernel=/etc/shadow\n", "Kernel", "outside the folders")
        refused(w, "initrd", "[Guest]\nInitrd=/etc/shadow\n", "Initrd", "outside the folders")
        refused(w, "bridge", "[Guest]\n[Network lan]\nMode=tap\nBridge=docker0\n",
                "[Network lan] Bridge", "AllowedBridges=")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
