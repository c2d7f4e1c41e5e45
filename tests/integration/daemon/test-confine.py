#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""QEMU confined (issue 8, the review's H5): a daemon that runs as root starts each guest's
QEMU under a uid of its own from GuestUIDs=, with no capability, no new privileges and a
seccomp filter; the uid is free again once the guest stops, and kept across adoption."""

import os
import sys

from harness import SystemWorld, World, check, run

FIRST = 2113929216  # GuestUIDs= default, 0x7E000000


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def cgroup_of(pid):
    """The cgroup v2 path of PID ("0::" in /proc/PID/cgroup)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    return None


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "cgroup2":
                return fields[4]
    return None


def uid_of(w, name):
    return int(status(w.prop(name, "MainPID"))["Uid"].split()[0])


def test_each_qemu_has_its_own_uid():
    with World() as w:
        for name in ("a", "b"):
            w.ctl("define", w.write_guest(f"{name}.guest", "[Guest]\nMemory=128M\n"))
            w.ctl("start", name, "--wait-ready")
        sa, sb = (status(w.prop(n, "MainPID")) for n in ("a", "b"))
        ua, ub = (int(s["Uid"].split()[0]) for s in (sa, sb))
        check({ua, ub} == {FIRST, FIRST + 1}, f"uids {ua} {ub}")
        for s in (sa, sb):
            check(s["Uid"].split() == [s["Uid"].split()[0]] * 4, f"Uid: {s['Uid']}")
            check(s["Gid"].split()[0] == s["Uid"].split()[0], f"Gid: {s['Gid']}")
            check(s["CapEff"] == "0000000000000000" and s["CapPrm"] == "0000000000000000",
                  f"capabilities: {s['CapEff']} {s['CapPrm']}")
            check(s["NoNewPrivs"] == "1", f"NoNewPrivs: {s['NoNewPrivs']}")
            check(s["Seccomp"] == "2", f"Seccomp: {s['Seccomp']}")
        # one guest's runtime folder is closed to the other's QEMU
        st = os.stat(w.runtime("a"))
        check(st.st_uid == 0 and st.st_gid == ua and (st.st_mode & 0o777) == 0o710,
              f"runtime folder of a: {st.st_uid}:{st.st_gid} {oct(st.st_mode)}")
        # each QEMU in a cgroup of its own, below the daemon's (no systemd here)
        daemon_cgroup = cgroup_of(w.daemon.pid)
        folder = None
        for name in ("a", "b"):
            path = cgroup_of(w.prop(name, "MainPID"))
            check(path == os.path.join(daemon_cgroup, f"microvm-{name}@{w.daemon.pid}"),
                  f"{name}'s QEMU is in cgroup {path}, the daemon in {daemon_cgroup}")
            if name == "a":
                folder = cgroup2_mount() + path
        check("share the daemon's cgroup" not in w.read_daemon_log(), w.read_daemon_log())
        # a's uid is free again once a stops, and the lowest free one is taken
        w.ctl("stop", "a")
        check(not os.path.exists(folder), f"{folder} is left behind")
        w.ctl("define", w.write_guest("c.guest", "[Guest]\nMemory=128M\n"))
        w.ctl("start", "c", "--wait-ready")
        check(uid_of(w, "c") == ua, f"c runs as {uid_of(w, 'c')}, not the freed {ua}")
        # adopted by a new daemon: b keeps its uid, and the next guest gets another
        w.restart_daemon()
        w.wait_state("b", "running")
        w.ctl("start", "a", "--wait-ready")
        check(uid_of(w, "a") not in (ub, uid_of(w, "c")), "a took an adopted guest's uid")


def test_guest_uids_no_keeps_root():
    with World(conf_extra="GuestUIDs=no\n") as w:
        w.ctl("define", w.write_guest("r.guest", "[Guest]\nMemory=128M\n"))
        w.ctl("start", "r", "--wait-ready")
        check(status(w.prop("r", "MainPID"))["Uid"].split()[0] == "0", "QEMU is not root")


def test_systemd_gets_a_scope():
    """With systemd on the system bus, each QEMU goes to microvm-NAME.scope in machine.slice
    with MemoryMax= and TasksMax= (python3-dbusmock's systemd records the call)."""
    with SystemWorld() as w:
        systemd = w.start_mock("systemd", "org.freedesktop.systemd1", "/org/freedesktop/systemd1")
        w.as_root("define", w.write_guest("s.guest", "[Guest]\nMemory=128M\n"))
        w.as_root("start", "s", "--wait-ready")
        calls = systemd("GetCalls").stdout
        pid = w.prop("s", "MainPID")
        check("'StartTransientUnit'" in calls and "'microvm-s.scope'" in calls, calls)
        check("'machine.slice'" in calls and f"[uint32 {pid}]" in calls, calls)
        check(f"uint64 {128 * 2**20 + 256 * 2**20}" in calls, f"MemoryMax: {calls}")
        # no machined on this bus: asked once, quietly
        check("machined" not in w.read_daemon_log(), w.read_daemon_log())


MACHINED = ("org.freedesktop.machine1", "/org/freedesktop/machine1",
            "org.freedesktop.machine1.Manager")


def start_machined(w, answer):
    return w.start_object_mock(*MACHINED, [("CreateMachineWithNetwork", "sayssusaia(sv)", "o",
                                            answer)])


def test_machined_makes_the_scope():
    """Where machined runs, it makes the scope and knows the guest: the call names the guest,
    its UUID, microvmd, class vm, QEMU as leader, and carries the limits."""
    with SystemWorld() as w:
        systemd = w.start_mock("systemd", "org.freedesktop.systemd1", "/org/freedesktop/systemd1")
        machined = start_machined(w, "ret = dbus.ObjectPath('/org/freedesktop/machine1/machine/m')")
        w.as_root("define", w.write_guest("m.guest", "[Guest]\nMemory=128M\n"))
        w.as_root("start", "m", "--wait-ready")
        calls = machined("GetCalls").stdout
        pid = w.prop("m", "MainPID")
        uuid = w.prop("m", "UUID").replace("-", "")
        uuid_bytes = ", ".join(f"0x{uuid[i:i + 2]}" for i in range(0, 32, 2))
        check("'CreateMachineWithNetwork', [<'m'>, <[byte " + uuid_bytes + "]>, <'microvmd'>, "
              f"<'vm'>, <uint32 {pid}>, <''>, <@ai []>" in calls, f"{calls}\nUUID {uuid}")
        check(f"('MemoryMax', <uint64 {128 * 2**20 + 256 * 2**20}>)" in calls, calls)
        check("'TasksMax'" in calls, calls)
        check("StartTransientUnit" not in systemd("GetCalls").stdout, "a scope was made twice")
        # the next guest goes the same way
        w.as_root("define", w.write_guest("n.guest", "[Guest]\nMemory=128M\n"))
        w.as_root("start", "n")
        check("<'n'>" in machined("GetCalls").stdout, "the second guest was not registered")


def test_machined_refuses():
    """A machined that refuses (a name it will not take, say) costs the guest nothing: it
    runs in a scope the daemon asks systemd for, and the log says why."""
    with SystemWorld() as w:
        systemd = w.start_mock("systemd", "org.freedesktop.systemd1", "/org/freedesktop/systemd1")
        start_machined(w, "raise dbus.exceptions.DBusException('Invalid machine name', "
                          "name='org.freedesktop.DBus.Error.InvalidArgs')")
        w.as_root("define", w.write_guest("r.guest", "[Guest]\nMemory=128M\n"))
        w.as_root("start", "r", "--wait-ready")
        check("'microvm-r.scope'" in systemd("GetCalls").stdout, systemd("GetCalls").stdout)
        check("guest r: not registered with systemd-machined (" in w.read_daemon_log()
              and "Invalid machine name" in w.read_daemon_log(), w.read_daemon_log())


def test_system_bus_without_systemd():
    """A system daemon whose bus has no systemd asks once, then makes the cgroup itself."""
    with SystemWorld() as w:
        w.as_root("define", w.write_guest("n.guest", "[Guest]\nMemory=128M\n"))
        w.as_root("start", "n", "--wait-ready")
        path = cgroup_of(w.prop("n", "MainPID"))
        want = os.path.join(cgroup_of(w.daemon.pid), f"microvm-n@{w.daemon.pid}")
        check(path == want, f"n's QEMU is in {path}, not {want}")
        check("no scope of its own" not in w.read_daemon_log(), w.read_daemon_log())


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
