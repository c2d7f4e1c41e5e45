#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Guests under a real systemd (issue 13, items 3 and 4): microvm@NAME units, guests that
come back after the host reboots (once each, whether a unit or Autostart=yes or both bring
them), and guests that outlive `systemctl restart microvmd` and a SIGKILLed daemon."""

import sys

from hostbox import Box, check, run, wait_for

GUEST = "[Guest]\nMemory=128M\n"


def one_qemu_each(box, *names):
    for name in names:
        pids = box.qemu_pids(name)
        check(len(pids) == 1, f"guest {name}: QEMU pids {pids}")


def test_unit_starts_and_stops_a_guest():
    with Box("unit") as box:
        box.define("web", GUEST)
        box.run("systemctl", "enable", "--now", "microvm@web")
        box.wait_guest("web", "running")
        check(box.show("microvm@web", "ActiveState") == "active", "microvm@web not active")
        box.run("systemctl", "stop", "microvm@web")
        g = box.guest("web")
        # the power button, answered by the guest: a clean power-off, not a kill
        check(g["State"] == "stopped" and g["StateReason"] == "powered-off",
              f"after systemctl stop: {g['State']} ({g['StateReason']}: {g.get('StateMessage')})")
        check(box.qemu_pids("web") == [], "QEMU still runs")


def test_unit_for_a_running_guest():
    """Autostart=yes or a hand got there first: the unit starts, the guest runs once."""
    with Box("running") as box:
        box.define("web", GUEST)
        box.ctl("start", "web", "--wait-ready")
        pids = box.qemu_pids("web")
        box.run("systemctl", "start", "microvm@web")
        check(box.show("microvm@web", "ActiveState") == "active", "microvm@web not active")
        check(box.qemu_pids("web") == pids, f"QEMUs {box.qemu_pids('web')}, before {pids}")


def test_guests_come_back_after_a_reboot():
    with Box("reboot") as box:
        box.run("systemctl", "enable", "microvmd")
        box.define("unit", GUEST)
        box.define("auto", GUEST + "Autostart=yes\n")
        box.define("both", GUEST + "Autostart=yes\n")
        box.define("neither", GUEST)
        box.run("systemctl", "enable", "microvm@unit", "microvm@both")
        box.run("systemctl", "reboot", "--no-block")
        status = box.wait_exit()
        check(status == 133, f"systemd-nspawn exited with {status} on a reboot")
        box.boot()
        for name in ("unit", "auto", "both"):
            box.wait_guest(name, "running")
        check(box.guest("neither")["State"] == "stopped", "a guest nobody enabled runs")
        for unit in ("microvm@unit", "microvm@both"):
            check(box.show(unit, "ActiveState") == "active",
                  f"{unit}: {box.show(unit, 'ActiveState')} "
                  f"({box.run('systemctl', 'status', '--no-pager', unit, check=False).stdout})")
        one_qemu_each(box, "unit", "auto", "both")


def test_guests_outlive_a_daemon_restart():
    with Box("restart") as box:
        for name in ("a", "b"):
            box.define(name, GUEST)
            box.ctl("start", name, "--wait-ready")
        before = {name: box.qemu_pids(name) for name in ("a", "b")}
        daemon = box.main_pid()

        box.run("systemctl", "restart", "microvmd")
        check(box.main_pid() != daemon, "systemctl restart kept the daemon")
        for name in ("a", "b"):
            g = box.wait_guest(name, "running")
            check(box.qemu_pids(name) == before[name], f"guest {name}: QEMU changed")
            check("adopted" in g["StateMessage"], f"guest {name}: {g['StateMessage']}")

        daemon = box.main_pid()
        box.run("kill", "-KILL", str(daemon))
        wait_for("systemd to restart the killed daemon",
                 lambda: box.main_pid() not in (0, daemon)
                 and box.show("microvmd", "ActiveState") == "active")
        for name in ("a", "b"):
            box.wait_guest(name, "running")
            check(box.qemu_pids(name) == before[name], f"guest {name}: QEMU changed")
        # still managed: a stop asks the guest, which powers off
        box.ctl("stop", "a")
        check(box.guest("a")["StateReason"] == "powered-off", str(box.guest("a")))


def test_kill_under_the_unit():
    """The daemon may signal the QEMUs it runs under uids of their own (CAP_KILL): kill, and a
    stop that escalates to SIGTERM when the guest ignores its power button."""
    with Box("kill") as box:
        box.define("k", GUEST)
        box.ctl("start", "k", "--wait-ready")
        box.ctl("kill", "k", timeout=30)
        g = box.guest("k")
        check(g["State"] == "stopped" and g["StateReason"] == "killed", str(g))
        check(box.qemu_pids("k") == [], "QEMU survived microvmctl kill")
        # a guest that has not booted far enough to see its power button
        box.define("deaf", GUEST + "ShutdownTimeoutSec=1\n")
        box.ctl("start", "deaf")
        box.ctl("stop", "deaf", timeout=30)
        check(box.qemu_pids("deaf") == [], "QEMU survived the stop's SIGTERM")


def test_reload_reads_the_guest_folder():
    with Box("reload") as box:
        box.run("systemctl", "start", "microvmd")
        box.write("/etc/microvmd/guests/late.guest", GUEST)
        check("late" not in box.ctl("list").stdout, "listed before the reload")
        box.run("systemctl", "reload", "microvmd")
        check("late" in box.ctl("list").stdout, "systemctl reload did not read the new file")
        box.ctl("start", "late", "--wait-ready")


if __name__ == "__main__":
    sys.exit(run({
        "unit_starts_and_stops_a_guest": test_unit_starts_and_stops_a_guest,
        "unit_for_a_running_guest": test_unit_for_a_running_guest,
        "guests_come_back_after_a_reboot": test_guests_come_back_after_a_reboot,
        "guests_outlive_a_daemon_restart": test_guests_outlive_a_daemon_restart,
        "kill_under_the_unit": test_kill_under_the_unit,
        "reload_reads_the_guest_folder": test_reload_reads_the_guest_folder,
    }))
