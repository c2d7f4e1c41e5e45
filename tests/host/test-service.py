#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""microvmd.service under a real systemd (issue 13, items 1, 2, 7 and 8): Type=notify with
READY=1 and STATUS=, the watchdog, bus activation through the real system bus, the journal,
machinectl, and the exposure score systemd-analyze gives the unit as installed."""

import re
import sys
import time

from hostbox import Box, check, log, run, wait_for

GUEST = "[Guest]\nMemory=128M\n"


def test_notify_ready_and_status():
    with Box("notify") as box:
        box.run("systemctl", "start", "microvmd")
        # systemctl start of a Type=notify unit returns once READY=1 came
        check(box.show("microvmd", "ActiveState") == "active"
              and box.show("microvmd", "SubState") == "running",
              f"microvmd is {box.show('microvmd', 'ActiveState')}")
        check(box.show("microvmd", "StatusText") == "Serving org.microvmd1",
              f"STATUS=: {box.show('microvmd', 'StatusText')!r}")
        status = box.run("systemctl", "status", "--no-pager", "microvmd").stdout
        check('Status: "Serving org.microvmd1"' in status, status)
        box.ctl("list")


def test_watchdog_restarts_a_stopped_daemon():
    with Box("watchdog") as box:
        # the shipped 30 s, shortened by a drop-in as an admin would, to keep the test short
        box.write("/etc/systemd/system/microvmd.service.d/watchdog.conf",
                  "[Service]\nWatchdogSec=4s\n")
        box.run("systemctl", "daemon-reload")
        box.run("systemctl", "start", "microvmd")
        pid = box.main_pid()
        time.sleep(10)  # over two WatchdogSec=: a daemon that did not feed it is restarted
        check(box.main_pid() == pid and box.show("microvmd", "NRestarts") == "0",
              "the watchdog fired on a daemon that was running")
        box.run("kill", "-STOP", str(pid))
        stopped = time.monotonic()
        new = wait_for("systemd to restart the stopped daemon",
                       lambda: (p := box.main_pid()) not in (0, pid) and
                       box.show("microvmd", "ActiveState") == "active" and p, timeout=60)
        log(f"restarted {time.monotonic() - stopped:.1f} s after SIGSTOP")
        journal = box.run("journalctl", "-u", "microvmd", "--no-pager").stdout
        check("Watchdog timeout" in journal, journal[-2000:])
        check(box.show("microvmd", "NRestarts") == "1", box.show("microvmd", "NRestarts"))
        check(new != pid, "same pid")
        box.ctl("list")


def test_bus_activation():
    with Box("activation") as box:
        check(box.show("microvmd", "ActiveState") == "inactive", "microvmd runs before use")
        r = box.ctl("list")
        check(r.stdout.startswith("NAME"), r.stdout)
        check(box.show("microvmd", "ActiveState") == "active",
              "microvmctl list did not start microvmd")
        # stopped again, activation works again
        box.run("systemctl", "stop", "microvmd")
        box.ctl("list")
        check(box.show("microvmd", "ActiveState") == "active", "no second activation")


# daemon/mvd-log.h
STARTED = "ea547699aa464776a120f4e824722ee2"
READY = "8abb58c354a548e190b35f4938f20d3d"
STOPPED = "c1a46e21ab394565aff344847d5a9a9d"


def test_journal_tells_a_guests_life():
    with Box("journal") as box:
        box.define("web", GUEST)
        box.ctl("start", "web", "--wait-ready")
        box.ctl("stop", "web")
        journal = box.run("journalctl", "-u", "microvmd", "--no-pager", "-o", "cat").stdout
        for needle in ("guest web", "started", "stopped"):
            check(needle in journal, f"{needle!r} not in the journal:\n{journal}")
        # the guest's own field: every line about the guest, and only those
        fields = box.run("journalctl", "MICROVMD_GUEST=web", "--no-pager", "-o", "cat").stdout
        lines = [line for line in fields.splitlines() if line]
        check(lines and all("web" in line for line in lines),
              f"journalctl MICROVMD_GUEST=web:\n{fields}")
        # each event of a life by its MESSAGE_ID (microvmd(8) lists them), with the guest's field
        for event, id128, needle in (("started", STARTED, "starting -> running"),
                                     ("ready", READY, "ready after"),
                                     ("stopped", STOPPED, "-> stopped")):
            found = box.run("journalctl", f"MESSAGE_ID={id128}", "MICROVMD_GUEST=web",
                            "--no-pager", "-o", "cat").stdout
            check(needle in found and len(found.splitlines()) == 1,
                  f"MESSAGE_ID of {event}: {found!r}")


def test_machinectl_knows_running_guests():
    with Box("machined") as box:
        box.define("web", GUEST)
        box.ctl("start", "web", "--wait-ready")
        pid = box.guest("web")["MainPID"]
        listed = box.run("machinectl", "list", "--no-legend").stdout
        check(any(line.split()[:3] == ["web", "vm", "microvmd"] for line in listed.splitlines()),
              f"machinectl list:\n{listed}")
        show = box.run("machinectl", "show", "web").stdout
        fields = dict(line.split("=", 1) for line in show.splitlines() if "=" in line)
        check(fields.get("Leader") == str(pid), f"Leader {fields.get('Leader')}, QEMU {pid}")
        check(fields.get("Unit") == "machine-web.scope", show)
        uuid = box.guest("web")["UUID"].replace("-", "")
        check(fields.get("Id") == uuid, f"Id {fields.get('Id')}, UUID {uuid}")
        # machinectl terminate ends the QEMU; the daemon sees it go and says why
        box.run("machinectl", "terminate", "web")
        g = box.wait_guest("web", "stopped")
        check(g["StateReason"] == "killed", f"after machinectl terminate: {g['StateReason']}")
        wait_for("machined to forget the guest",
                 lambda: "web" not in box.run("machinectl", "list", "--no-legend").stdout,
                 timeout=30)
        # and it is back in the list when started again
        box.ctl("start", "web")
        check("web" in box.run("machinectl", "list", "--no-legend").stdout, "not listed again")


def test_security_exposure():
    with Box("security") as box:
        r = box.run("systemd-analyze", "security", "--no-pager", "microvmd.service")
        m = re.search(r"Overall exposure level for microvmd.service: ([0-9.]+) (\S+)", r.stdout)
        check(m, r.stdout[-2000:])
        log(f"systemd-analyze security microvmd.service: {m.group(1)} {m.group(2)}")
        # the bound test-units keeps on the unit file, now on the installed unit
        check(float(m.group(1)) <= 4.0, r.stdout)


if __name__ == "__main__":
    sys.exit(run({
        "notify_ready_and_status": test_notify_ready_and_status,
        "watchdog_restarts_a_stopped_daemon": test_watchdog_restarts_a_stopped_daemon,
        "bus_activation": test_bus_activation,
        "journal_tells_a_guests_life": test_journal_tells_a_guests_life,
        "machinectl_knows_running_guests": test_machinectl_knows_running_guests,
        "security_exposure": test_security_exposure,
    }))
