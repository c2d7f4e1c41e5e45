#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""microvmctl's snapshot verbs and start --snapshot against fake_snapshots.py, a
python3-dbusmock stand-in that answers as lib/org.microvmd1.xml says microvmd will: what
the client calls, what it prints, how it follows the save's job and what it exits with."""

import json
import os
import signal
import subprocess
import sys
import time

from harness import MICROVMCTL, World, check, run, stderr_on_a_terminal, wait_for

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_snapshots.py")
GUEST = "/org/microvmd1/guest/alpha"
NO_CALLS = "(@a(tav) [],)\n"
NBSP = "\u00a0"  # g_format_size's, between number and unit


class FakeWorld(World):
    """A private session bus with the fake in microvmd's place"""

    def start_daemon(self):
        self.daemon_log = open(os.path.join(self.dir, "microvmd.log"), "a")
        self.daemon = self.spawn(["/usr/bin/python3", "-m", "dbusmock", "--session", "-t", FAKE],
                                 stdout=self.daemon_log, stderr=subprocess.STDOUT)
        wait_for("the fake microvmd on the bus", self.name_has_owner, timeout=20)

    def _check_clean_exit(self):
        pass  # the fake is no daemon to judge; close() kills it

    def ctl(self, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        return super().ctl(*args, **kwargs)

    def calls(self, method):
        """The arguments of each call of alpha's @method, as gdbus prints them"""
        r = self.gdbus("call", "--session", "-d", "org.microvmd1", "-o", GUEST, "-m",
                       "org.freedesktop.DBus.Mock.GetMethodCalls", method)
        check(r.returncode == 0, f"GetMethodCalls {method}: {r.stderr}")
        return r.stdout

    def snapshots(self):
        listed = json.loads(self.ctl("--json", "snapshot", "list", "alpha").stdout)
        return [s["Name"] for s in listed]


def test_save():
    with FakeWorld() as w:
        r = w.ctl("snapshot", "save", "alpha")
        check(r.stdout == f"guest alpha: snapshot default saved (5.0{NBSP}MiB)\n", r.stdout)
        check("'default'" in w.calls("SaveSnapshot"), w.calls("SaveSnapshot"))
        # piped: a line at each tenth, of the job's target
        r = w.ctl("snapshot", "save", "alpha", "warm")
        check(r.stdout == f"guest alpha: snapshot warm saved (5.0{NBSP}MiB)\n", r.stdout)
        lines = r.stderr.splitlines()
        check(lines and all(line.startswith("saving alpha/warm: ") for line in lines)
              and f"saving alpha/warm: 4.0{NBSP}MiB of 4.0{NBSP}MiB" in lines, f"piped: {lines}")
        check(w.snapshots() == ["base", "default", "warm"], w.snapshots())


def test_save_progress_on_a_terminal():
    with FakeWorld() as w:
        status, drawn = stderr_on_a_terminal([MICROVMCTL, "--session", "snapshot", "save",
                                              "alpha", "warm"], env=w.env())
        text = drawn.decode(errors="replace")
        check(status == 0 and "\r\x1b[Ksaving alpha/warm: " in text
              and f" of 4.0{NBSP}MiB (" in text, f"exit {status}: {text!r}")
        check(text.endswith("\r\x1b[K"), f"the line is not cleared at the end: {text!r}")


def test_failed_save():
    with FakeWorld() as w:
        r = w.ctl("snapshot", "save", "alpha", "broken", expect=1)
        check(r.stderr.splitlines()[-1] == "microvmctl: guest alpha: disk vdb "
              "(/srv/alpha-data.ext4) is writable and outlives the guest", r.stderr)
        check(r.stdout == "" and w.snapshots() == ["base"], f"{r.stdout!r} {w.snapshots()}")
        r = w.ctl("snapshot", "save", "beta", expect=3)
        check(r.stderr == "microvmctl: no guest named 'beta'\n", r.stderr)


def test_interrupted_save_is_cancelled():
    with FakeWorld() as w:
        client = subprocess.Popen([MICROVMCTL, "--session", "snapshot", "save", "alpha", "slow"],
                                  env=w.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        try:
            # the tenth line says the job is followed, ^C handled from then on
            first = client.stderr.readline()
            check(first == f"saving alpha/slow: 1.0{NBSP}MiB of 4.0{NBSP}MiB\n", repr(first))
            client.send_signal(signal.SIGINT)
            out, err = client.communicate(timeout=20)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
        check(client.returncode == 1, f"exit {client.returncode}: {err}")
        check(err == "cancelling the save\nmicrovmctl: guest alpha: snapshot slow: save "
              "cancelled; nothing was kept\n", repr(err))


def test_list():
    with FakeWorld() as w:
        env = dict(w.env(), TZ="UTC")
        r = subprocess.run([MICROVMCTL, "--session", "snapshot", "list", "alpha"], env=env,
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and r.stdout.splitlines() == [
            "SNAPSHOT CREATED                       SIZE",
            f"base     2025-12-04 14:18:44 UTC  300.0{NBSP}MiB"], f"{r.returncode} {r.stdout!r}")
        got = json.loads(w.ctl("snapshot", "list", "--json", "alpha").stdout)
        check(got == [{"Name": "base", "Created": 1764857924000000, "Size": 300 * 1024 * 1024}],
              f"--json: {got}")
        w.ctl("snapshot", "list", "beta", expect=3)


def test_remove():
    with FakeWorld() as w:
        r = w.ctl("snapshot", "remove", "alpha", "base")
        check(r.stdout == "" and w.snapshots() == [], f"{r.stdout!r} {w.snapshots()}")
        r = w.ctl("--json", "snapshot", "list", "alpha")
        check(r.stdout == "[]\n", r.stdout)
        r = w.ctl("snapshot", "list", "alpha")
        check(r.stdout.splitlines() == ["SNAPSHOT CREATED                       SIZE"], r.stdout)
        r = w.ctl("snapshot", "remove", "alpha", "base", expect=1)
        check(r.stderr == "microvmctl: guest alpha has no snapshot 'base'\n", r.stderr)


def test_start_from_snapshot():
    with FakeWorld() as w:
        w.ctl("start", "alpha", "--snapshot", "base")
        check("'base'" in w.calls("StartFromSnapshot") and w.calls("Start") == NO_CALLS,
              w.calls("StartFromSnapshot") + w.calls("Start"))
        # the watched proxy of --wait-ready: the fake's guest is ready at once
        started = time.monotonic()
        w.ctl("start", "alpha", "--wait-ready", "--snapshot=base")
        check(time.monotonic() - started < 10, "start --wait-ready --snapshot waited")
        check(w.calls("StartFromSnapshot").count("'base'") == 2, w.calls("StartFromSnapshot"))
        r = w.ctl("start", "alpha", "--snapshot", "gone", expect=1)
        check(r.stderr == "microvmctl: guest alpha has no snapshot 'gone'\n", r.stderr)
        w.ctl("start", "alpha")
        check(w.calls("Start").count("uint64") == 1, w.calls("Start"))


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
