#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bash completion (client/microvmctl.bash) driven the way bash drives it: COMP_WORDS,
COMP_CWORD, COMP_LINE and COMP_POINT set, _microvmctl called, COMPREPLY read. Guest and
image names come from the real daemon; one that does not answer costs at most its bound."""

import os
import signal
import sys
import time

import image_fixtures as fx
from completion import candidates
from harness import MICROVMCTL, World, check, run

def complete(w, *words, path=None):
    """The candidates for the last of @words (an empty one: after a space); @path: a folder
    searched for microvmctl before the build's"""
    folders = [path] if path else []
    env = dict(w.env(), PATH=":".join(folders + [os.path.dirname(MICROVMCTL), os.environ["PATH"]]))
    return candidates(env, *words)


# microvmctl for the completion, with snapshots base and warm of guest alpha (microvmd
# saves none yet); all else goes to the build's. Its table is snapshot list's.
SNAPSHOTS_STUB = """#!/bin/bash
for a; do last=$a; done
if [[ " $* " == *" snapshot list "* && $last == alpha ]]; then
    echo 'SNAPSHOT CREATED                       SIZE'
    echo 'base     2026-12-04 14:18:44 UTC  212.4 MiB'
    echo 'warm     2026-12-04 14:20:02 UTC  230.0 MiB'
    exit 0
fi
exec {microvmctl} "$@"
"""


def snapshots_stub(w):
    folder = os.path.join(w.dir, "stub")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "microvmctl")
    with open(path, "w") as f:
        f.write(SNAPSHOTS_STUB.format(microvmctl=MICROVMCTL))
    os.chmod(path, 0o755)
    return folder


def test_verbs_options_guests_and_images():
    with World() as w:
        for name in ("alpha", "beta", "gamma"):
            w.ctl("define", w.write_guest(f"{name}.guest", "[Guest]\nMemory=128M\n"))
        w.ctl("start", "beta")
        w.ctl("start", "gamma")
        w.ctl("pause", "gamma")
        archive = os.path.join(w.dir, "oci.tar")
        with open(archive, "wb") as f:
            f.write(fx.oci_archive())
        w.ctl("image", "import", "web", archive)

        verbs = complete(w, "")
        helped = w.ctl("--help").stdout.split("Verbs:")[1].split("\n\n")[0]
        every = {line.split()[0] for line in helped.strip().splitlines()}
        check(every | {"--session"} <= set(verbs), f"not completed: {every - set(verbs)}")
        got = complete(w, "--session", "clone", "")
        check(got == ["alpha", "beta", "gamma"], f"clone: {got}")
        got = complete(w, "--session", "run", "--image", "")
        check(got == ["web"], f"run --image: {got}")
        check(complete(w, "st") == ["start", "stats", "status", "stop"], complete(w, "st"))
        got = complete(w, "--session", "start", "")
        check(got == ["alpha", "beta", "gamma"], f"start: {got}")
        got = complete(w, "--session", "stop", "")
        check(got == ["beta", "gamma"], f"stop offers the running and paused ones: {got}")
        got = complete(w, "--session", "resume", "")
        check(got == ["gamma"], f"resume offers the paused one: {got}")
        got = complete(w, "--session", "start", "--")
        check(got == ["--help", "--if-stopped", "--snapshot", "--timeout", "--wait-ready"],
              f"options: {got}")
        got = complete(w, "--session", "autostart", "alpha", "")
        check(got == ["off", "on"], f"autostart's second argument: {got}")
        got = complete(w, "--session", "image", "")
        check(got == ["import", "inspect", "list", "remove"], f"image verbs: {got}")
        got = complete(w, "--session", "image", "remove", "")
        check(got == ["web"], f"image names: {got}")
        got = complete(w, "--session", "start", "--timeout", "30", "")
        check(got == ["alpha", "beta", "gamma"], f"an option's value is no argument: {got}")

        got = complete(w, "--session", "snapshot", "")
        check(got == ["list", "remove", "save"], f"snapshot verbs: {got}")
        got = complete(w, "--session", "snapshot", "save", "")
        check(got == ["beta"], f"snapshot save offers the running one: {got}")
        got = complete(w, "--session", "snapshot", "list", "")
        check(got == ["alpha", "beta", "gamma"], f"snapshot list: {got}")
        got = complete(w, "--session", "snapshot", "remove", "alpha", "")
        check(got == [], f"alpha has no snapshots: {got}")
        stub = snapshots_stub(w)
        got = complete(w, "--session", "snapshot", "remove", "alpha", "", path=stub)
        check(got == ["base", "warm"], f"snapshot remove alpha: {got}")
        got = complete(w, "--session", "snapshot", "remove", "beta", "", path=stub)
        check(got == [], f"beta's snapshots are not alpha's: {got}")
        got = complete(w, "--session", "start", "alpha", "--snapshot", "w", path=stub)
        check(got == ["warm"], f"start alpha --snapshot w: {got}")
        got = complete(w, "--session", "start", "--wait-ready", "alpha", "--snapshot", "=", "",
                       path=stub)
        check(got == ["base", "warm"], f"start alpha --snapshot=: {got}")
        got = complete(w, "--session", "start", "--snapshot", "", path=stub)
        check(got == [], f"--snapshot before the guest's name: {got}")
        got = complete(w, "--session", "start", "--snapshot", "warm", "", path=stub)
        check(got == ["alpha", "beta", "gamma"], f"the name after --snapshot SNAP: {got}")
        got = complete(w, "start", "")
        check("alpha" not in got, f"without --session the system bus is asked, not ours: {got}")

        # a daemon that does not answer: the prompt comes back after the bound, empty-handed
        w.daemon.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            got = complete(w, "--session", "start", "")
            took = time.monotonic() - started
        finally:
            w.daemon.send_signal(signal.SIGCONT)
        check(got == [] and took < 5, f"a stopped daemon held the completion {took:.1f} s: {got}")
        w.ctl("kill", "beta")
        w.ctl("kill", "gamma")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
