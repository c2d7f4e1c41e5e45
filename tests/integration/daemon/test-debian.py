#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A systemd distribution as a guest: a Debian 12 root made with mmdebstrap (debian_root),
imported as a tarball, booted under TCG through the shipped initrd with systemd as PID 1,
ready once multi-user.target is reached (the initrd's runtime unit, the image untouched),
a login prompt on the console, and a clean poweroff on microvmctl stop within its
ShutdownTimeoutSec=. The import's throughput and the boot time are printed, not asserted."""

import os
import subprocess
import sys
import time

from debian_root import debian_root
from harness import BUILD, MICROVMCTL, World, check, run

GUEST = """[Guest]
Memory=512M
ShutdownTimeoutSec=60
[Disk root]
Image=debian
"""


def test_debian_boots_and_stops():
    tarball, made = debian_root(BUILD)
    if made:
        print(f"# made the Debian root in {made:.0f} s")
    with World() as w:
        size = os.path.getsize(tarball)
        started = time.monotonic()
        w.ctl("image", "import", "debian", tarball)
        seconds = time.monotonic() - started
        print(f"# imported {size / 1e6:.0f} MB in {seconds:.1f} s: {size / 1e6 / seconds:.0f} MB/s")
        w.ctl("define", w.write_guest("deb.guest", GUEST))
        w.ctl("start", "deb", "--wait-ready", timeout=300)
        boot = w.prop("deb", "BootTimeUSec") / 1e6
        print(f"# boot to ready (multi-user.target) under TCG: {boot:.1f} s")
        log = w.log("deb")
        check("(systemd): ready at multi-user.target" in log, f"the initrd's word:\n{log[-2000:]}")
        check("Reached target" in log and "Multi-User System" in log,
              f"systemd did not say it reached multi-user.target:\n{log[-3000:]}")
        r = subprocess.run([MICROVMCTL, "--session", "console", "deb", "--linger", "5"],
                           env=w.env(), input="\n", capture_output=True, text=True, timeout=120)
        check("login:" in r.stdout, f"no login prompt on the console:\n{r.stdout[-2000:]}")
        started = time.monotonic()
        w.ctl("stop", "deb", timeout=120)
        took = time.monotonic() - started
        print(f"# powered off in {took:.1f} s")
        check(w.state("deb") == "stopped" and w.prop("deb", "StateReason") == "powered-off",
              f"{w.state('deb')} ({w.prop('deb', 'StateReason')})")
        check(took < 60, f"the stop took {took:.0f} s, past ShutdownTimeoutSec=60")
        check("systemd-shutdown" in w.log("deb") or "Power down" in w.log("deb")
              or "reboot: Power down" in w.log("deb"), "no clean shutdown in the log")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
