# SPDX-License-Identifier: LGPL-2.1-or-later
"""A python3-dbusmock template: org.microvmd1 with only what the snapshot verbs of
microvmctl call, as lib/org.microvmd1.xml describes it, for their tests while microvmd
has no snapshots. Guest alpha runs and is ready, with snapshot base; a save is a Job that
writes 4 MiB a mebibyte at a time, then lists the snapshot (5 MiB on disk) and ends done.
A save named "broken" fails half-way; one named "slow" writes 1 MiB and waits for Cancel."""

import time

import dbus
from dbusmock import mockobject
from gi.repository import GLib

BUS_NAME = "org.microvmd1"
MAIN_OBJ = "/org/microvmd1"
MAIN_IFACE = "org.microvmd1.Manager"
SYSTEM_BUS = False

GUEST_IFACE = "org.microvmd1.Guest"
JOB_IFACE = "org.microvmd1.Job"
GUEST = "/org/microvmd1/guest/alpha"
MIB = 1024 * 1024
BASE_CREATED = 1764857924 * 1000000  # 2025-12-04 14:18:44 UTC
BROKEN = "guest alpha: disk vdb (/srv/alpha-data.ext4) is writable and outlives the guest"


def fail(name, message):
    return dbus.exceptions.DBusException(message, name="org.microvmd1.Error." + name)


def snapshot_list(entries):
    return dbus.Array([dbus.Struct((name, dbus.UInt64(created), dbus.UInt64(size)),
                                   signature="stt") for name, created, size in entries],
                      signature="(stt)")


def entries(guest):
    return [(str(n), int(c), int(s)) for n, c, s in guest.props[GUEST_IFACE]["Snapshots"]]


def get_guest(manager, name):
    if name != "alpha":
        raise fail("NoSuchGuest", f"no guest named '{name}'")
    return GUEST


def step(guest, job, name):
    props = job.props[JOB_IFACE]
    written = int(props["BytesDone"]) + MIB
    if props["State"] != "running":
        return False
    if name == "broken" and written > 2 * MIB:
        job.UpdateProperties(JOB_IFACE, {"Error": BROKEN})
        job.UpdateProperties(JOB_IFACE, {"State": "failed"})
        return False
    job.UpdateProperties(JOB_IFACE, {"BytesDone": dbus.UInt64(written)})
    if name == "slow":
        return False
    if written < 4 * MIB:
        return True
    kept = [e for e in entries(guest) if e[0] != name]
    kept.append((name, int(time.time() * 1000000), 5 * MIB + 123))
    guest.UpdateProperties(GUEST_IFACE, {"Snapshots": snapshot_list(sorted(kept))})
    job.UpdateProperties(JOB_IFACE, {"State": "done"})
    return False


def cancel(job):
    if job.props[JOB_IFACE]["State"] == "running":
        job.UpdateProperties(JOB_IFACE, {"State": "cancelled"})


def save_snapshot(guest, name):
    manager = mockobject.objects[MAIN_OBJ]
    manager.jobs += 1
    path = f"/org/microvmd1/job/{manager.jobs}"
    manager.AddObject(path, JOB_IFACE, {
        "Kind": "snapshot", "Target": f"alpha/{name}", "State": "running",
        "BytesDone": dbus.UInt64(0), "BytesTotal": dbus.UInt64(4 * MIB), "Error": "",
    }, [])
    job = mockobject.objects[path]
    job.AddMethod(JOB_IFACE, "Cancel", "", "", cancel)
    GLib.timeout_add(50, step, guest, job, name)
    return path


def remove_snapshot(guest, name):
    kept = [e for e in entries(guest) if e[0] != name]
    if len(kept) == len(entries(guest)):
        raise fail("Failed", f"guest alpha has no snapshot '{name}'")
    guest.UpdateProperties(GUEST_IFACE, {"Snapshots": snapshot_list(kept)})


def start_from_snapshot(guest, name):
    if name not in [e[0] for e in entries(guest)]:
        raise fail("Failed", f"guest alpha has no snapshot '{name}'")


def load(mock, parameters):
    mock.jobs = 0
    mock.AddMethod(MAIN_IFACE, "GetGuest", "s", "o", get_guest)
    mock.AddObject(GUEST, GUEST_IFACE, {
        "Name": "alpha", "State": "running", "Ready": True,
        "Snapshots": snapshot_list([("base", BASE_CREATED, 300 * MIB)]),
    }, [])
    guest = mockobject.objects[GUEST]
    guest.AddMethod(GUEST_IFACE, "SaveSnapshot", "s", "o", save_snapshot)
    guest.AddMethod(GUEST_IFACE, "RemoveSnapshot", "s", "", remove_snapshot)
    guest.AddMethod(GUEST_IFACE, "StartFromSnapshot", "s", "", start_from_snapshot)
    guest.AddMethod(GUEST_IFACE, "Start", "", "", "")
