#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Confinement under a real systemd (issue 13, item 9): each running QEMU in a scope of its
own in machine.slice (made by systemd-machined) with MemoryMax= and TasksMax= set, ordered so that the daemon stops
first, under a uid of its own with no capability; the daemon's unit as hardened as the unit
file says."""

import sys

from hostbox import Box, check, run, wait_for

FIRST_UID = 2113929216  # GuestUIDs= default


def status_of(box, pid):
    text = box.run("cat", f"/proc/{pid}/status").stdout
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def test_each_qemu_in_its_own_scope():
    with Box("confine") as box:
        box.define("a", "[Guest]\nMemory=128M\n")
        box.define("b", "[Guest]\nMemory=256M\n")
        uids = set()
        for name, memory in (("a", 128), ("b", 256)):
            box.ctl("start", name, "--wait-ready")
            pid = box.guest(name)["MainPID"]
            # machined made it (machinectl lists the guest; test-service checks that)
            scope = f"machine-{name}.scope"
            cgroup = box.run("cat", f"/proc/{pid}/cgroup").stdout
            check(f"/machine.slice/{scope}" in cgroup, f"QEMU of {name} in\n{cgroup}")
            check(box.show(scope, "Slice") == "machine.slice", box.show(scope, "Slice"))
            check(str(pid) in box.run("systemd-cgls", "--no-pager", "-u", scope).stdout,
                  "systemd-cgls does not show the QEMU in its scope")
            limit = int(box.show(scope, "MemoryMax"))
            check(memory << 20 < limit < (memory + 512) << 20, f"{scope}: MemoryMax={limit}")
            check(box.show(scope, "TasksMax").isdigit(), box.show(scope, "TasksMax"))
            check("microvmd.service" in box.show(scope, "Before").split(),
                  f"{scope}: Before={box.show(scope, 'Before')}")
            s = status_of(box, pid)
            uid = int(s["Uid"].split()[0])
            check(uid >= FIRST_UID and s["Uid"].split() == [str(uid)] * 4, s["Uid"])
            check(s["CapEff"] == "0000000000000000", s["CapEff"])
            check(s["NoNewPrivs"].strip() == "1" and s["Seccomp"].strip() == "2",
                  f"NoNewPrivs {s['NoNewPrivs']} Seccomp {s['Seccomp']}")
            uids.add(uid)
        check(len(uids) == 2, f"two guests share a uid: {uids}")
        journal = box.run("journalctl", "-u", "microvmd", "--no-pager", "-o", "cat").stdout
        check("cgroup" not in journal and "no scope" not in journal, journal)


def test_passt_under_the_unit():
    """The default user-mode network, passt, works inside microvmd.service's sandbox: it runs
    under the guest's uid and the guest gets the host's address."""
    with Box("passt") as box:
        # a route for passt to copy: the box's own network has none
        box.run("ip", "link", "add", "br0", "type", "bridge")
        box.run("ip", "addr", "add", "10.90.0.1/24", "dev", "br0")
        box.run("ip", "link", "set", "br0", "up")
        box.run("ip", "route", "add", "default", "via", "10.90.0.254", "dev", "br0")
        box.define("p", "[Guest]\nMemory=128M\n[Network net0]\n")
        box.ctl("start", "p", "--wait-ready")
        log = box.ctl("log", "p").stdout
        check("microvmd-init: net: eth0 10.90.0.1/24" in log, log[-1500:])
        # Debian's passt runs as passt.avx2 where the CPU has AVX2
        passt = box.run("pgrep", "^passt").stdout.split()
        check(len(passt) == 1, f"passt processes: {passt}")
        uid = int(status_of(box, passt[0])["Uid"].split()[0])
        check(uid == int(status_of(box, box.guest("p")["MainPID"])["Uid"].split()[0]),
              f"passt runs as {uid}, not as the guest's QEMU")


# typed on the guest's console; the quotes split the markers from their echo
SHARES_PROBE = (
    "while ! grep -q virtiofs /proc/filesystems; do sleep 0.2; done; mkdir -p /a /b; "
    "mount -t virtiofs rw /a && mount -t virtiofs ro /b && cat /b/hello.txt && "
    "echo from-the-guest >/a/made && chown 1000:1001 /a/made && echo W''ROTE-RW; "
    "{ touch /b/new 2>/dev/null && echo WR''OTE-RO || echo REF''USED-RO; }; sync\n")


def virtiofsd_units(box):
    return box.run("systemctl", "list-units", "--plain", "--no-legend", "--all",
                   "microvm-fs-fs*-virtiofsd-*.service").stdout.split("\n")[:-1]


def test_virtiofs_under_the_unit():
    """The hardened unit has no CAP_SYS_ADMIN, which virtiofsd needs: systemd runs each
    share's virtiofsd as a transient service in machine.slice instead, read-write and
    read-only shares work in the guest, one that dies fails the guest, and the services end
    with it."""
    with Box("virtiofs") as box:
        box.run("mkdir", "-p", "/srv/shares/rw", "/srv/shares/ro")
        box.write("/srv/shares/ro/hello.txt", "hello from the host\n")
        box.write("/etc/microvmd/microvmd.conf", "[Daemon]\nShareDirectories=/srv/shares\n")
        box.define("fs", "[Guest]\nMemory=192M\n[Share rw]\nType=virtiofs\n"
                   "Path=/srv/shares/rw\nReadOnly=no\n[Share ro]\nType=virtiofs\n"
                   "Path=/srv/shares/ro\n")
        box.ctl("start", "fs", "--wait-ready")
        units = virtiofsd_units(box)
        check(len(units) == 2 and all(" active running " in u for u in units), units)
        unit = units[0].split()[0]
        check(box.show(unit, "Slice") == "machine.slice", box.show(unit, "Slice"))
        r = box.run("microvmctl", "console", "fs", "--linger", "3", input=SHARES_PROBE,
                    timeout=120)
        for line in ("hello from the host", "WROTE-RW", "REFUSED-RO"):
            check(line in r.stdout, f"the guest does not see {line!r}:\n{r.stdout}")
        made = box.run("stat", "-c", "%u:%g", "/srv/shares/rw/made").stdout.strip()
        check(made == "1000:1001", f"the guest's file is owned by {made}")
        # a virtiofsd that dies fails its guest with a reason, as a child of the daemon would
        box.run("systemctl", "kill", "--signal=KILL", unit)
        g = box.wait_guest("fs", "crashed")
        check(g["StateReason"] == "share-failed"
              and "virtiofsd of [Share " in g["StateMessage"]
              and "was killed by signal 9" in g["StateMessage"],
              f"{g['StateReason']}: {g['StateMessage']}")
        wait_for("the virtiofsd services to end", lambda: virtiofsd_units(box) == [])


def test_daemon_unit_as_written():
    with Box("hardened") as box:
        box.run("systemctl", "start", "microvmd")
        pid = box.main_pid()
        s = status_of(box, pid)
        check(s["NoNewPrivs"].strip() == "1" and s["Seccomp"].strip() == "2",
              f"NoNewPrivs {s['NoNewPrivs']} Seccomp {s['Seccomp']}")
        # CAP_CHOWN 0, CAP_DAC_OVERRIDE 1, CAP_KILL 5, CAP_SETGID 6, CAP_SETUID 7,
        # CAP_NET_ADMIN 12, CAP_SYS_PTRACE 19
        want = sum(1 << c for c in (0, 1, 5, 6, 7, 12, 19))
        check(int(s["CapBnd"], 16) == want, f"CapBnd {s['CapBnd']}, expected {want:016x}")
        check(box.show("microvmd", "KillMode") == "process", box.show("microvmd", "KillMode"))


if __name__ == "__main__":
    sys.exit(run({
        "each_qemu_in_its_own_scope": test_each_qemu_in_its_own_scope,
        "passt_under_the_unit": test_passt_under_the_unit,
        "virtiofs_under_the_unit": test_virtiofs_under_the_unit,
        "daemon_unit_as_written": test_daemon_unit_as_written,
    }))
