#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A container image run as a VM: microvmctl run --image runs the image's Entrypoint and
Cmd with its Env, WorkingDir and User under the shipped init, prints what it writes, and
exits with its exit status; arguments after -- replace Cmd; a guest file's Command= does
the same in the initrd; SIGTERM to run stops the guest gracefully; ExitStatus stays on a
defined guest after it powers off. Real daemon, real QEMU under TCG."""

import os
import signal
import subprocess
import sys
import time

import image_fixtures as fx
from harness import MICROVMCTL, World, check, run, wait_for

CONFIG = {"Entrypoint": ["/bin/sh", "-c"],
          "Cmd": ['echo "hello $GREETING from $(pwd) as $(id -u):$(id -g)"; exit 3'],
          "Env": ["GREETING=world", "PATH=/bin"], "WorkingDir": "/work", "User": "app"}


def runs(w, *args, timeout=120):
    return subprocess.run([MICROVMCTL, "--session", "run", *args], env=w.env(),
                          capture_output=True, text=True, timeout=timeout)


def import_app(w):
    path = os.path.join(w.dir, "app.tar")
    with open(path, "wb") as f:
        f.write(fx.app_archive(CONFIG))
    w.ctl("image", "import", "app", path)


def no_guests(w):
    return w.ctl("--json", "list").stdout.strip() == "[]"


def test_run_image():
    with World() as w:
        import_app(w)
        r = runs(w, "--image", "app")
        check(r.returncode == 3, f"exit {r.returncode}, expected the command's 3: {r.stderr}")
        check(r.stdout == "hello world from /work as 1000:1000\n",
              f"stdout is the command's output alone: {r.stdout!r}")
        r = runs(w, "--image", "app", "--", "echo replaced; exit 5")
        check((r.returncode, r.stdout) == (5, "replaced\n"), f"{r.returncode} {r.stdout!r}")
        check(no_guests(w), "a run's guest outlived it")


def test_run_file_and_exit_status_property():
    with World() as w:
        path = w.write_guest("c.guest", "[Guest]\nMemory=128M\n"
                             "Command=/bin/sh -c 'echo from-the-initrd; exit 7'\n")
        r = runs(w, path)
        check((r.returncode, r.stdout) == (7, "from-the-initrd\n"), f"{r.returncode} {r.stdout!r}")
        w.ctl("define", path)
        check(w.prop("c", "ExitStatus") == -1, "ExitStatus before any run")
        w.ctl("start", "c")
        wait_for("c powered off", lambda: w.state("c") == "stopped", timeout=60)
        check((w.prop("c", "StateReason"), w.prop("c", "ExitStatus")) == ("powered-off", 7),
              f"{w.prop('c', 'StateReason')} {w.prop('c', 'ExitStatus')}")


def test_sigterm_stops_the_guest():
    with World() as w:
        import_app(w)
        client = subprocess.Popen([MICROVMCTL, "--session", "run", "--image", "app", "--",
                                   "echo started; sleep 600"], env=w.env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check(client.stdout.readline() == "started\n", "the command did not start")
        client.send_signal(signal.SIGTERM)
        out, err = client.communicate(timeout=60)
        check(client.returncode == 128 + signal.SIGTERM, f"exit {client.returncode}: {err}")
        wait_for("the guest gone", lambda: no_guests(w), timeout=20)
        check(w.qemu_pids() == [], "QEMU outlived run")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
