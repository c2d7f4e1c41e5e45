#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host shutdown (issue 13, item 5): `systemctl poweroff` in a host with running guests.
ShutdownGuests=shutdown: each guest gets its power button and powers off before the daemon
exits, and no QEMU is ended by systemd first. keep (the default): the daemon leaves the guests
be, and once it has gone systemd ends each guest's scope with SIGTERM, which QEMU obeys at
once: the guest OS is not asked (microvmd.conf(5) says so)."""

import os
import subprocess
import sys

from hostbox import Box, check, run

GUEST = "[Guest]\nMemory=128M\n"
NAMES = ("a", "b")


def poweroff_with_guests(box, conf):
    box.write("/etc/microvmd/microvmd.conf", conf)
    box.run("systemctl", "start", "microvmd")
    for name in NAMES:
        box.define(name, GUEST)
        box.ctl("start", name, "--wait-ready")
    box.run("systemctl", "poweroff", "--no-block")
    status = box.wait_exit()
    check(status == 0, f"systemd-nspawn exited with {status} on a poweroff")


def journal(box, *args):
    """The box's journal of the boot that ended, read from its disk."""
    r = subprocess.run(["journalctl", "-D", os.path.join(box.root, "var/log/journal"),
                        "--no-pager", "-o", "cat", *args],
                       capture_output=True, text=True, timeout=60)
    return r.stdout


def serial_log(box, name):
    with open(os.path.join(box.root, "var/log/microvmd", name + ".log"), errors="replace") as f:
        return f.read()


def test_shutdown_powers_guests_off_first():
    with Box("poweroff") as box:
        poweroff_with_guests(box, "[Daemon]\nShutdownGuests=shutdown\n")
        daemon = journal(box, "-u", "microvmd")
        check("every guest has stopped" in daemon, daemon[-3000:])
        for name in NAMES:
            check("power button pressed, powering off" in serial_log(box, name),
                  f"guest {name} never saw its power button:\n{serial_log(box, name)[-1500:]}")
            line = f"guest {name}: stopping -> stopped (powered-off"
            check(line in daemon, f"{line!r} not in the daemon's journal:\n{daemon[-3000:]}")
            check(daemon.index(line) < daemon.index("every guest has stopped"), daemon[-3000:])
        # nothing ended a QEMU behind the daemon's back
        everything = journal(box)
        check("SIGTERM" not in daemon and "signal 15" not in everything
              and "terminating on signal" not in everything, everything[-4000:])


def test_keep_leaves_guests_to_systemd():
    """...but for a guest with an enabled microvm@NAME unit, which stops it first."""
    with Box("keep") as box:
        box.write("/etc/microvmd/microvmd.conf", "[Daemon]\nShutdownGuests=keep\n")
        box.define("unit", GUEST)
        box.run("systemctl", "enable", "--now", "microvm@unit")
        poweroff_with_guests(box, "[Daemon]\nShutdownGuests=keep\n")
        check("power button pressed, powering off" in serial_log(box, "unit"),
              f"microvm@unit did not power its guest off:\n{serial_log(box, 'unit')[-1500:]}")
        daemon = journal(box, "-u", "microvmd")
        check("stopping; guests keep running" in daemon, daemon[-3000:])
        everything = journal(box)
        for name in NAMES:
            check("power button pressed" not in serial_log(box, name),
                  f"guest {name} was asked to power off")
            # systemd stopped the guest's scope (SIGTERM to QEMU) after the daemon had gone
            stopped = f"Stopped machine-{name}.scope"
            check(stopped in everything, f"{stopped!r} not in the journal:\n{everything[-4000:]}")
            check(everything.index("Stopped microvmd.service") < everything.index(stopped),
                  everything[-4000:])


if __name__ == "__main__":
    sys.exit(run({
        "shutdown_powers_guests_off_first": test_shutdown_powers_guests_off_first,
        "keep_leaves_guests_to_systemd": test_keep_leaves_guests_to_systemd,
    }))
