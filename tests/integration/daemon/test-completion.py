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

def complete(w, *words):
    """The candidates for the last of @words (an empty one: after a space)"""
    env = dict(w.env(), PATH=os.path.dirname(MICROVMCTL) + ":" + os.environ["PATH"])
    return candidates(env, *words)


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
        check(got == ["--help", "--if-stopped", "--timeout", "--wait-ready"], f"options: {got}")
        got = complete(w, "--session", "autostart", "alpha", "")
        check(got == ["off", "on"], f"autostart's second argument: {got}")
        got = complete(w, "--session", "image", "")
        check(got == ["import", "inspect", "list", "remove"], f"image verbs: {got}")
        got = complete(w, "--session", "image", "remove", "")
        check(got == ["web"], f"image names: {got}")
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
