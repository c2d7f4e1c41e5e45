#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Guests through their life: define, list, start, ready, pause, reboot, stop, kill,
transient guests; PCIe and MMIO transports. Real daemon, real microvmctl, real QEMU."""

import json
import os
import subprocess
import sys
import time

from harness import MICROVMCTL, World, check, run, stderr_on_a_terminal, wait_for

GUEST = """[Guest]
Name={name}
Memory=192M
{extra}
[Disk data]
Path={disk}

[Network net0]
Mode=user
"""


def define(w, name, extra=""):
    path = w.write_guest(f"{name}.guest",
                         GUEST.format(name=name, extra=extra, disk=w.make_disk(name + ".img")))
    w.ctl("define", path)
    return path


def lifecycle(transport):
    with World() as w:
        define(w, "web", f"Transport={transport}")
        check(os.path.exists(w.guest_file("web")), "define did not store the guest file")
        listing = w.ctl("list").stdout
        check("web" in listing and "stopped" in listing, f"list before start:\n{listing}")

        w.ctl("start", "web", "--wait-ready")
        check(w.state("web") == "running", "not running after start --wait-ready")
        check(w.prop("web", "Ready") is True, "Ready is not true after --wait-ready")
        boot = w.prop("web", "BootTimeUSec")
        check(boot > 0, f"BootTimeUSec is {boot}")
        pid = w.prop("web", "MainPID")
        check(pid in w.qemu_pids(), f"MainPID {pid} is not our QEMU ({w.qemu_pids()})")
        argv = w.prop("web", "CommandLine")
        device = "virtio-blk-pci-non-transitional" if transport == "pcie" else "virtio-blk-device"
        check(device in argv, f"CommandLine lacks {device}: {argv}")

        listing = w.ctl("list").stdout
        check("running" in listing and str(pid) in listing, f"list while running:\n{listing}")
        log = wait_for("the inventory in the log",
                       lambda: "microvmd-init: net:" in (text := w.printed("web")) and text)
        check("vda" in log, f"the guest did not see its disk:\n{log[-2000:]}")
        check("eth0" in log, f"the guest did not see its NIC:\n{log[-2000:]}")

        w.ctl("stop", "web")
        check(w.state("web") == "stopped", f"state after stop: {w.state('web')}")
        check(w.qemu_pids() == [], f"QEMU still running after stop: {w.qemu_pids()}")
        check("power button pressed" in w.log("web"), "the guest never saw the power button")
        check(not os.path.exists(os.path.join(w.dir, "run", "web")), "runtime files left behind")


def test_lifecycle_pcie():
    lifecycle("pcie")


def test_lifecycle_mmio():
    lifecycle("mmio")


def test_transient_create():
    with World() as w:
        path = w.write_guest("tmp.guest", "[Guest]\nMemory=128M\n")
        w.ctl("create", path)  # no Name=: named after the file
        check(w.state("tmp") == "running", "transient guest not running after create")
        check(not os.path.exists(w.guest_file("tmp")), "a transient guest was written to disk")
        w.ctl("stop", "tmp")
        wait_for("the transient guest to vanish", lambda: "tmp" not in w.ctl("list").stdout)
        r = w.ctl("status", "tmp", expect=3)
        check("tmp" in r.stderr, f"status of a vanished guest: {r.stderr}")


def test_pause_resume():
    with World() as w:
        define(w, "p")
        w.ctl("start", "p")
        w.ctl("pause", "p")
        w.wait_state("p", "paused", timeout=10)
        r = w.ctl("pause", "p", expect=1)
        check("paused" in r.stderr, f"pausing twice: {r.stderr}")
        w.ctl("resume", "p")
        w.wait_state("p", "running", timeout=10)
        w.wait_ready("p")
        w.ctl("kill", "p")


def test_reboot():
    with World() as w:
        define(w, "r")
        w.ctl("start", "r", "--wait-ready")
        first = w.prop("r", "BootTimeUSec")
        pid = w.prop("r", "MainPID")
        w.ctl("reboot", "r")
        wait_for("the second ready line", lambda: w.prop("r", "Ready") is True
                 and w.prop("r", "BootTimeUSec") != first)
        check(w.log("r").count("userspace started") >= 2, "the guest did not boot twice")
        check(w.prop("r", "MainPID") == pid, "reboot replaced the QEMU process")
        w.ctl("stop", "r")


def test_kill():
    with World() as w:
        define(w, "k", "ShutdownTimeoutSec=300")
        w.ctl("start", "k")
        pid = w.prop("k", "MainPID")
        started = time.monotonic()
        w.ctl("kill", "k")
        check(time.monotonic() - started < 30, "kill waited for the shutdown timeout")
        check(w.state("k") == "stopped", f"state after kill: {w.state('k')}")
        check(not os.path.exists(f"/proc/{pid}"), "QEMU still exists after kill")


def test_balloon_and_stats():
    with World() as w:
        w.ctl("define", w.write_guest("b.guest", "[Guest]\nMemory=256M\n"
                                      "[Balloon]\nSmallPages=yes\n"))
        w.ctl("start", "b", "--wait-ready")
        # with SmallPages=yes under TCG the guest's RAM is kept in small pages, so free page
        # reporting can give back blocks smaller than a huge page (microvm.guest(5), [Balloon])
        with open(f"/proc/{w.prop('b', 'MainPID')}/status") as f:
            thp = [line.split()[1] for line in f if line.startswith("THP_enabled:")]
        check(thp in ([], ["0"]), f"QEMU runs with transparent huge pages: THP_enabled {thp}")
        r = w.ctl("set-memory", "b", "512M", expect=1)
        check("256M" in r.stderr, f"too large a target: {r.stderr}")
        w.ctl("set-memory", "b", "160M")

        def actual():
            stats = json.loads(w.ctl("--json", "stats", "b").stdout)
            return stats.get("balloon-actual-bytes") == 160 * 1024 * 1024 and stats
        stats = wait_for("the balloon to reach 160M", actual, timeout=60, interval=0.5)
        check(stats.get("rss-bytes", 0) > 0 and stats.get("cpu-time-usec", 0) > 0,
              f"process figures missing: {stats}")
        w.ctl("stop", "b")


def test_share():
    """A [Share] reaches the guest as a 9p mount tag; ReadOnly=yes holds inside. (The
    console echoes what is typed, hence the quotes that split the markers there.)"""
    with World() as w:
        folder = os.path.join(w.dir, "shared")
        os.makedirs(folder)
        with open(os.path.join(folder, "hello.txt"), "w") as f:
            f.write("hello from the host\n")
        w.ctl("define", w.write_guest("s.guest", f"[Guest]\n[Share data]\nPath={folder}\n"))
        w.ctl("start", "s", "--wait-ready")
        r = subprocess.run([MICROVMCTL, "--session", "console", "s", "--linger", "3"], env=w.env(),
                           input="while ! grep -q 9p /proc/filesystems; do sleep 0.2; done; "
                                 "mkdir -p /mnt && mount -t 9p -o trans=virtio,version=9p2000.L "
                                 "data /mnt && cat /mnt/hello.txt && "
                                 "{ touch /mnt/new 2>/dev/null && echo WR''OTE || echo REF''USED; }\n",
                           capture_output=True, text=True, timeout=120)
        check("hello from the host" in r.stdout, f"the share was not readable:\n{r.stdout}")
        check("REFUSED" in r.stdout and not os.path.exists(os.path.join(folder, "new")),
              f"a read-only share was written:\n{r.stdout}")
        w.ctl("stop", "s")


def test_start_shows_progress_on_a_terminal():
    """start --wait-ready draws one live line on a terminal (the time, the guest's last
    console line) and clears it once ready; piped, or with --json, it prints nothing."""
    with World() as w:
        w.ctl("define", w.write_guest("p.guest", "[Guest]\nMemory=128M\n"))
        status, drawn = stderr_on_a_terminal(
            [MICROVMCTL, "--session", "start", "p", "--wait-ready"], env=w.env(),
            stdin=subprocess.DEVNULL)
        check(status == 0, "start failed")
        text = drawn.decode(errors="replace")
        check("\r\x1b[Kstarting p: " in text, f"no live line: {text[:300]!r}")
        check(" | " in text, f"the line never showed a console line: {text[-600:]!r}")
        check(text.endswith("\r\x1b[K"), f"the line was not cleared: {text[-100:]!r}")
        w.ctl("kill", "p")
        r = w.ctl("start", "p", "--wait-ready")
        check(r.stderr == "", f"piped, start printed {r.stderr!r}")
        w.ctl("kill", "p")


def test_autostart():
    with World() as w:
        w.ctl("define", w.write_guest("auto.guest", "[Guest]\n# kept\n"))
        w.ctl("autostart", "auto", "on")
        with open(w.guest_file("auto")) as f:
            stored = f.read()
        check("Autostart=yes" in stored and "# kept" in stored, f"stored file:\n{stored}")
        check(w.prop("auto", "Autostart") is True, "Autostart property not set")
        w.ctl("define", w.write_guest("manual.guest", "[Guest]\n"))
        w.stop_daemon()
        w.start_daemon()
        w.wait_state("auto", "running", timeout=30)
        check(w.state("manual") == "stopped", "a guest without Autostart= was started")
        w.ctl("kill", "auto")
        r = w.ctl("create", w.write_guest("t.guest", "[Guest]\n"))
        r = w.ctl("autostart", "t", "on", expect=1)
        check("transient" in r.stderr, f"autostart of a transient guest: {r.stderr}")
        w.ctl("kill", "t")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
