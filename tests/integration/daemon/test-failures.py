#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Failures in real guests, with their reasons: a kernel panic seen through pvpanic and
undone by Restart=on-failure, and a disk whose backing file cannot grow (io-error naming
the disk)."""

import os
import subprocess
import sys
import time

from harness import World, check, run, wait_for


def wait_shell(w, name):
    """Ready, and the shell on the console has started (so typed lines reach it)."""
    w.wait_ready(name)
    wait_for(f"the shell of {name}", lambda: "starting a shell on the console" in w.log(name))
    time.sleep(0.5)


def test_panic_is_guest_panicked_and_restarted():
    with World() as w:
        w.ctl("define", w.write_guest("p.guest", "[Guest]\nMemory=128M\nRestart=on-failure\n"))
        w.ctl("start", "p", "--wait-ready")
        first_pid = w.prop("p", "MainPID")
        wait_shell(w, "p")
        w.console("p", "echo c > /proc/sysrq-trigger\n")
        wait_for("the panic in the daemon's log",
                 lambda: "-> crashed (guest-panicked" in w.read_daemon_log(), timeout=60)
        wait_for("the guest to come back", lambda: w.prop("p", "Ready")
                 and w.prop("p", "MainPID") != first_pid, timeout=90)
        check(w.state("p") == "running", f"state after the restart: {w.state('p')}")
        check(w.prop("p", "StateReason") == "restarted", w.prop("p", "StateReason"))
        check("sysrq triggered crash" in w.log("p"), "the console lacks the panic")


def test_full_disk_is_io_error_naming_the_disk():
    with World() as w:
        small = os.path.join(w.dir, "images", "small")
        os.makedirs(small)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small], check=True)
        try:
            disk = os.path.join(small, "data.img")
            with open(disk, "wb") as f:
                f.truncate(64 * 1024 * 1024)
            w.ctl("define", w.write_guest("d.guest", "[Guest]\nMemory=128M\n\n"
                                          f"[Disk scratch]\nPath={disk}\n"))
            w.ctl("start", "d", "--wait-ready")
            wait_shell(w, "d")
            w.console("d", "dd if=/dev/zero of=/dev/vda bs=1M count=32 oflag=direct\n")
            wait_for("the guest to crash", lambda: w.state("d") == "crashed", timeout=60)
            check(w.prop("d", "StateReason") == "io-error", w.prop("d", "StateReason"))
            message = w.prop("d", "StateMessage")
            check("[Disk scratch]" in message and disk in message, f"message: {message}")
            check("io-error" in w.ctl("list").stdout, w.ctl("list").stdout)
        finally:
            subprocess.run(["umount", "-l", small])  # lazily: a QEMU may still hold it


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
