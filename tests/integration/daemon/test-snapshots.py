#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Snapshots: a running, ready guest saved with microvmctl snapshot save runs on; started
from the snapshot it is the same guest at once (what it held in memory, its ephemeral disk as
it was, its network service, its clock set to the host's), every time; StartFrom= does the
same for every start; what a snapshot cannot match is refused, saying why, and leaves no
QEMU behind. Real daemon, real QEMU under TCG, checked from inside the guest."""

import json
import os
import sys
import time

from harness import World, check, guest_path, run, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from importlib import import_module  # noqa: E402

network = import_module("test-network")

PAGE = "hello-from-the-snapshot"


def shell(w, name, command):
    return w.shell(name, command).strip()


def guest_text(w, name, extra="", disk_extra="Ephemeral=yes\n", memory="192M"):
    disk = w.make_disk(name + ".img")
    return (f"[Guest]\nName={name}\nMemory={memory}\n{extra}"
            f"[Disk data]\nPath={disk}\n{disk_extra}"
            "[Network net0]\nForward=tcp:18081:80\n")


def define(w, name, **kwargs):
    w.ctl("define", w.write_guest(name + ".guest", guest_text(w, name, **kwargs)))


def write_disk(w, name, text):
    """Writes @text at the start of the guest's /dev/vda, bypassing any cache"""
    shell(w, name, f"printf '%-16s' {text} | dd of=/dev/vda bs=16 count=1 conv=fsync "
                   "2>/dev/null")


def read_disk(w, name):
    """What /dev/vda holds on the disk, not in the guest's page cache (which a snapshot
    keeps too)"""
    out = shell(w, name, "sync; echo 3 >/proc/sys/vm/drop_caches; "
                         "dd if=/dev/vda bs=16 count=1 2>/dev/null")
    return out.splitlines()[-1].strip() if out else out  # after the kernel's drop_caches line


def snapshots(w, name):
    listed = w.ctl("snapshot", "list", name).stdout
    return [line.split()[0] for line in listed.splitlines()[1:] if line.strip()]


def test_save_and_start_from_it():
    """Saved, the guest runs on; started from the snapshot (twice), it has its memory, its
    ephemeral disk as saved, its web server on the forwarded port and the host's time."""
    with network.Namespace() as ns, World(daemon_prefix=["ip", "netns", "exec", ns.name],
                                          conf_extra="UserNetwork=slirp\n") as w:
        define(w, "s")
        w.ctl("start", "s", "--wait-ready")
        shell(w, "s", f"mkdir -p /www && echo {PAGE} >/www/index.html && httpd -p 80 -h /www "
                      "&& echo in-memory >/tmp/marker")
        write_disk(w, "s", "saved-state")
        saved = w.ctl("snapshot", "save", "s", "warm")
        check("snapshot warm saved" in saved.stdout, saved.stdout + saved.stderr)
        check(w.state("s") == "running", f"after the save: {w.state('s')}")
        check(shell(w, "s", "cat /tmp/marker") == "in-memory", "the guest did not run on")
        check(snapshots(w, "s") == ["warm"], w.ctl("snapshot", "list", "s").stdout)
        write_disk(w, "s", "after-the-save")
        w.ctl("stop", "s")
        time.sleep(6)  # a clock left as saved would be this far behind
        for round in (1, 2):
            started = time.monotonic()
            w.ctl("start", "s", "--snapshot", "warm", "--wait-ready")
            took = time.monotonic() - started
            check(w.prop("s", "Ready") is True and w.state("s") == "running", "not ready")
            check(shell(w, "s", "cat /tmp/marker") == "in-memory", "memory not restored")
            check(read_disk(w, "s") == "saved-state", f"round {round}: the disk: "
                  f"{read_disk(w, 's')!r}")
            page = network.in_namespace(ns, "import urllib.request; print(urllib.request."
                                        "urlopen('http://127.0.0.1:18081/', timeout=20)"
                                        ".read().decode())")
            check(PAGE in page, f"the page after the restore: {page!r}")
            before = time.time()
            guest_time = int(shell(w, "s", "date +%s"))
            check(before - 2 <= guest_time <= time.time() + 1,
                  f"the guest's clock says {guest_time}, the host's {before:.1f} to "
                  f"{time.time():.1f}")
            status = json.loads(w.ctl("status", "s", "--json").stdout)
            check("from snapshot warm" in status["StateMessage"], status["StateMessage"])
            # a restore keeps huge pages: QEMU's loader touches all of the guest's memory
            with open(f"/proc/{status['MainPID']}/status") as f:
                thp = [line.split()[1] for line in f if line.startswith("THP_enabled:")]
            check(thp in ([], ["1"]), f"a restored QEMU runs in small pages: {thp}")
            print(f"# round {round}: started from the snapshot in {took:.2f} s")
            write_disk(w, "s", "written-later")
            w.ctl("stop", "s")
        # a plain start boots: the snapshot was for that start only
        w.ctl("start", "s", "--wait-ready")
        check(shell(w, "s", "cat /tmp/marker 2>&1") != "in-memory", "a plain start restored")
        w.ctl("stop", "s")
        # the daemon finds its snapshots again
        w.restart_daemon()
        check(snapshots(w, "s") == ["warm"], "lost after a daemon restart")


def test_start_from_in_the_guest_file():
    """StartFrom= restores at every start, and a missing snapshot fails the start by name."""
    with World() as w:
        w.ctl("define", w.write_guest("f.guest", "[Guest]\nName=f\nMemory=192M\n"))
        w.ctl("start", "f", "--wait-ready")
        shell(w, "f", "echo kept >/tmp/marker")
        w.ctl("snapshot", "save", "f")  # "default"
        w.ctl("stop", "f")
        w.ctl("define", w.write_guest("f.guest",
                                      "[Guest]\nName=f\nMemory=192M\nStartFrom=default\n"))
        for _ in range(2):
            w.ctl("start", "f", "--wait-ready")
            check(shell(w, "f", "cat /tmp/marker") == "kept", "StartFrom= did not restore")
            shell(w, "f", "rm /tmp/marker")
            w.ctl("stop", "f")
        w.ctl("define", w.write_guest("f.guest",
                                      "[Guest]\nName=f\nMemory=192M\nStartFrom=nothing\n"))
        r = w.ctl("start", "f", expect=1)
        check("guest f has no snapshot nothing" in r.stderr, r.stderr)
        check(w.state("f") == "stopped" and not w.qemu_pids(), "a failed start left QEMU")
        r = w.ctl("define", w.write_guest("f.guest", "[Guest]\nName=f\nStartFrom=../x\n"),
                  expect=1)
        check("StartFrom" in r.stderr and "not a snapshot name" in r.stderr, r.stderr)


def test_refusals():
    """What a snapshot cannot hold or match is refused, saying why, leaving nothing behind."""
    with World() as w:
        define(w, "r", disk_extra="")  # a disk written in place
        r = w.ctl("snapshot", "save", "r", expect=1)
        check("it is stopped, not running" in r.stderr, r.stderr)
        w.ctl("start", "r", "--wait-ready")
        r = w.ctl("snapshot", "save", "r", expect=1)
        check("[Disk data] is written in place" in r.stderr, r.stderr)
        w.ctl("stop", "r")
        define(w, "r")  # ephemeral now: savable
        w.ctl("start", "r", "--wait-ready")
        r = w.ctl("snapshot", "save", "r", "../escape", expect=1)
        check("not a snapshot name" in r.stderr, r.stderr)
        w.ctl("snapshot", "save", "r", "s1")
        w.ctl("stop", "r")
        # the definition changed
        define(w, "r", memory="256M")
        r = w.ctl("start", "r", "--snapshot", "s1", expect=1)
        check("its definition changed since snapshot s1" in r.stderr and "-m" in r.stderr,
              r.stderr)
        check(w.state("r") == "stopped" and not w.qemu_pids(), "a refused start left QEMU")
        define(w, "r")
        # another QEMU saved it
        info = os.path.join(w.dir, "state", "guests", "r", "snapshots", "s1", "info")
        with open(info) as f:
            text = f.read()
        with open(info, "w") as f:
            f.write(text.replace("QemuVersion=", "QemuVersion=6.2.0-"))
        r = w.ctl("start", "r", "--snapshot", "s1", expect=1)
        check("was saved by QEMU 6.2.0-" in r.stderr, r.stderr)
        check(w.state("r") == "stopped" and not w.qemu_pids(), "a refused start left QEMU")
        r = w.ctl("start", "r", "--snapshot", "none", expect=1)
        check("guest r has no snapshot none" in r.stderr, r.stderr)
        w.ctl("snapshot", "remove", "r", "s1")
        check(snapshots(w, "r") == [], "removed, still listed")
        r = w.ctl("snapshot", "remove", "r", "s1", expect=1)
        check("guest r has no snapshot s1" in r.stderr, r.stderr)
        # undefine takes the snapshots along
        w.ctl("start", "r", "--wait-ready")
        w.ctl("snapshot", "save", "r", "s2")
        w.ctl("stop", "r")
        w.ctl("undefine", "r")
        check(not os.path.exists(os.path.join(w.dir, "state", "guests", "r")),
              "undefine left the guest's data")


def job_call(w, path, method, *args):
    r = w.gdbus("call", "--session", "-d", "org.microvmd1", "-o", path, "-m", method, *args)
    check(r.returncode == 0, f"{method}: {r.stderr}")
    return r.stdout.strip()


def job_prop(w, path, prop):
    out = job_call(w, path, "org.freedesktop.DBus.Properties.Get", "org.microvmd1.Job", prop)
    return out[2:-3].strip("'")  # "(<'VALUE'>,)"


def job_bytes(w, path):
    return int(job_prop(w, path, "BytesDone").split()[-1])  # "uint64 N"


def test_cancelled_save_leaves_nothing():
    """Cancel() while QEMU writes the memory: the job ends cancelled, no snapshot and no
    partial folder is left, the guest runs on, and the next save of that name works."""
    with World() as w:
        # 256 MiB the guest reads into its page cache: a save that takes a while to write
        blob = w.write_file(os.path.join("images", "blob.img"), os.urandom(256 << 20))
        w.ctl("define", w.write_guest("c.guest", "[Guest]\nName=c\nMemory=448M\n"
                                                 f"[Disk blob]\nPath={blob}\nReadOnly=yes\n"))
        w.ctl("start", "c", "--wait-ready")
        w.console("c", "cat /dev/vda >/dev/null; echo read-$((6*7))\n")
        wait_for("the guest to read its disk", lambda: "read-42" in w.printed("c"), 300)
        out = job_call(w, guest_path("c"), "org.microvmd1.Guest.SaveSnapshot", "late")
        job = out.split("'")[1]  # "(objectpath '/org/microvmd1/job/N',)"
        # cancelled while QEMU writes: once the job has counted some of it
        wait_for("the save's first bytes", lambda: job_bytes(w, job) > 0, 30, interval=0.01)
        job_call(w, job, "org.microvmd1.Job.Cancel")
        state = wait_for("the job to end",
                         lambda: (s := job_prop(w, job, "State")) != "running" and s, 60)
        written = job_bytes(w, job)
        check(state == "cancelled", f"the job {state}: {job_prop(w, job, 'Error')}; "
                                    f"{written} bytes written")
        print(f"# cancelled after {written / 2**20:.1f} MiB of the memory")
        folder = os.path.join(w.dir, "state", "guests", "c", "snapshots")
        check(snapshots(w, "c") == [] and os.listdir(folder) == [],
              f"a cancelled save left {os.listdir(folder)}")
        check(w.state("c") == "running" and shell(w, "c", "echo on") == "on",
              "the guest did not run on after the cancel")
        w.ctl("snapshot", "save", "c", "late")
        check(snapshots(w, "c") == ["late"], "no save after a cancelled one")
        w.ctl("stop", "c")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
