#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad input and failures: invalid files, missing kernels, crashes and restarts,
concurrent starts, refused undefines, Reload, property-change signals."""

import os
import signal
import subprocess
import sys
import threading
import time

from harness import World, check, guest_path, run, wait_for


def test_invalid_config():
    with World() as w:
        path = w.write_guest("bad.guest", "[Guest]\nName=bad\nMemory=8M\n")
        r = w.ctl("define", path, expect=1)
        check("Memory" in r.stderr and "8M" in r.stderr, f"error lacks the key: {r.stderr}")
        r = w.gdbus("call", "--session", "-d", "org.microvmd1", "-o", "/org/microvmd1", "-m",
                    "org.microvmd1.Manager.DefineGuest", "[Guest]\nName=bad\nMemory=8M\n", "{}")
        check("org.microvmd1.Error.InvalidConfig" in r.stderr, f"bus error: {r.stderr}")
        check(os.listdir(os.path.join(w.dir, "conf", "guests")) == [], "files left behind")
        check("bad" not in w.ctl("list").stdout, "an invalid guest was listed")


def test_missing_kernel():
    with World() as w:
        path = w.write_guest("nok.guest", "[Guest]\nKernel=/nonexistent/vmlinuz\n")
        w.ctl("define", path)
        r = w.ctl("start", "nok", expect=1)
        check("/nonexistent/vmlinuz" in r.stderr and "kernel" in r.stderr,
              f"start error does not name the kernel: {r.stderr}")
        check(w.state("nok") == "stopped", f"state after a failed start: {w.state('nok')}")
        check(w.qemu_pids() == [], "a QEMU was left after a failed start")


def test_vsock_needs_the_host():
    """[Vsock] runs where /dev/vhost-vsock exists; elsewhere the start fails at once, with
    the reason, and leaves nothing behind."""
    with World() as w:
        w.ctl("define", w.write_guest("v.guest", "[Guest]\n[Vsock]\n"))
        if os.access("/dev/vhost-vsock", os.R_OK | os.W_OK):
            w.ctl("start", "v")
            check("vhost-vsock" in w.prop("v", "CommandLine"), "no vsock device in the argv")
            w.ctl("kill", "v")
            return
        r = w.ctl("start", "v", expect=1, timeout=30)
        check("/dev/vhost-vsock" in r.stderr, f"start error: {r.stderr}")
        check(w.state("v") == "stopped", f"state: {w.state('v')}")
        check(not os.path.exists(os.path.join(w.dir, "run", "v")), "runtime folder left")


def test_qemu_failure_reports_stderr():
    with World() as w:
        # a kernel that exists but is no kernel: QEMU itself fails and says why
        junk = w.write_guest("images/junk.bin", "not a kernel\n")
        path = w.write_guest("junk.guest", f"[Guest]\nKernel={junk}\n")
        w.ctl("define", path)
        r = w.ctl("start", "junk", expect=1)
        check("QEMU exited" in r.stderr, f"no QEMU failure in: {r.stderr}")
        check(w.state("junk") == "stopped", f"state: {w.state('junk')}")


def test_crash_and_restart():
    with World() as w:
        path = w.write_guest("c.guest", "[Guest]\nRestart=on-failure\n")
        w.ctl("define", path)
        w.ctl("start", "c")
        pid = w.prop("c", "MainPID")
        os.kill(pid, signal.SIGKILL)
        w.wait_state("c", "crashed", timeout=10)
        wait_for("a new QEMU", lambda: w.prop("c", "MainPID") not in (0, pid)
                 and w.state("c") == "running")
        check("crashed" in w.read_daemon_log(), "the crash was not logged")
        w.ctl("stop", "c")


def test_restart_backoff():
    """Restart= gives up after 5 restarts within 10 s and leaves the guest crashed."""
    with World() as w:
        w.ctl("define", w.write_guest("loop.guest", "[Guest]\nRestart=always\n"))
        w.ctl("start", "loop")
        seen = set()
        for _ in range(6):
            pid = wait_for("a running QEMU", lambda: w.state("loop") == "running"
                           and w.prop("loop", "MainPID") not in seen | {0}
                           and w.prop("loop", "MainPID"), timeout=20)
            seen.add(pid)
            os.kill(pid, signal.SIGKILL)
            wait_for("the crash noticed", lambda: w.state("loop") != "running"
                     or w.prop("loop", "MainPID") != pid, timeout=10)
        w.wait_state("loop", "crashed", timeout=10)
        time.sleep(1.5)
        check(w.state("loop") == "crashed", f"restarted after the burst: {w.state('loop')}")
        check(w.qemu_pids() == [], f"QEMU left: {w.qemu_pids()}")
        check("restarts within 10 s" in w.read_daemon_log(), "the give-up was not logged")


def test_crash_without_restart():
    with World() as w:
        path = w.write_guest("c.guest", "[Guest]\n")
        w.ctl("define", path)
        w.ctl("start", "c")
        os.kill(w.prop("c", "MainPID"), signal.SIGKILL)
        w.wait_state("c", "crashed", timeout=10)
        time.sleep(1)
        check(w.state("c") == "crashed", "a Restart=no guest came back")
        w.ctl("start", "c")  # a crashed guest can be started again
        w.ctl("kill", "c")


def test_concurrent_start():
    with World() as w:
        w.ctl("define", w.write_guest("cc.guest", "[Guest]\n"))
        results = []

        def start():
            results.append(w.ctl("start", "cc", expect=None))

        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.returncode for r in results)
        check(codes[0] == 0, f"neither start succeeded: {[r.stderr for r in results]}")
        check(codes[1] == 0 or "running" in results[1].stderr or "Busy" in results[1].stderr,
              f"second start: {[r.stderr for r in results]}")
        check(len(w.qemu_pids()) == 1, f"{len(w.qemu_pids())} QEMU processes for one guest")
        w.ctl("kill", "cc")


def test_undefine():
    with World() as w:
        w.ctl("define", w.write_guest("u.guest", "[Guest]\n"))
        w.ctl("start", "u")
        r = w.ctl("undefine", "u", expect=1)
        check("stop it first" in r.stderr, f"undefine of a running guest: {r.stderr}")
        check(os.path.exists(w.guest_file("u")), "the file of a running guest was removed")
        w.ctl("stop", "u")
        w.ctl("undefine", "u")
        check(not os.path.exists(w.guest_file("u")), "undefine left the file")
        w.ctl("status", "u", expect=3)


def test_reload_skips_bad_files():
    with World() as w:
        guests = os.path.join(w.dir, "conf", "guests")
        with open(os.path.join(guests, "good.guest"), "w") as f:
            f.write("[Guest]\n")
        with open(os.path.join(guests, "broken.guest"), "w") as f:
            f.write("[Guest]\nCPUs=0\n")
        r = w.ctl("reload", expect=1)
        check("broken.guest" in r.stderr and "CPUs" in r.stderr, f"reload error: {r.stderr}")
        listing = w.ctl("list").stdout
        check("good" in listing and "broken" not in listing, f"after reload:\n{listing}")


def test_redefine_running_applies_at_next_start():
    with World() as w:
        path = w.write_guest("rd.guest", "[Guest]\nMemory=128M\n")
        w.ctl("define", path)
        w.ctl("start", "rd")
        w.write_guest("rd.guest", "[Guest]\nMemory=160M\n")
        w.ctl("define", path)
        check("160M" in w.ctl("status", "rd").stdout, "status does not show the new file")
        check("128M" in w.prop("rd", "CommandLine"), "the running argv changed")
        w.ctl("stop", "rd")
        w.ctl("start", "rd")
        check("160M" in w.prop("rd", "CommandLine"), "the new definition was not applied")
        w.ctl("kill", "rd")


def test_property_signals():
    with World() as w:
        w.ctl("define", w.write_guest("s.guest", "[Guest]\n"))
        monitor = subprocess.Popen(["gdbus", "monitor", "--session", "-d", "org.microvmd1",
                                    "-o", guest_path("s")], env=w.env(),
                                   stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            w.ctl("start", "s", "--wait-ready")
            w.ctl("stop", "s")
            time.sleep(0.5)
        finally:
            monitor.terminate()
            out = monitor.communicate(timeout=10)[0]
        for needle in ("'State': <'starting'>", "'State': <'running'>", "'Ready': <true>",
                       "'State': <'stopping'>", "'State': <'stopped'>"):
            check(needle in out, f"no PropertiesChanged with {needle}:\n{out}")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
