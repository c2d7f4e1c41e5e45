#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Who may do what (issue 8, the review's M1): the system daemon asks polkit before it acts
for anyone but root, and the read-only calls are open to all. Tested the way fprintd and bolt
are: python3-dbusmock's polkitd on a private system bus that carries our own bus policy, the
real microvmd in system mode on temporary folders, callers run as nobody with setpriv."""

import os
import re
import sys

from harness import SystemWorld, check, run


def denied(r, action):
    check("org.microvmd1.Error.AccessDenied" in r.stderr or "not authorized" in r.stderr,
          f"not AccessDenied: {r.stderr}")
    check(action in r.stderr, f"the error does not name {action}: {r.stderr}")


def test_nobody_may_read_but_not_act():
    with SystemWorld() as w:
        w.start_polkit()
        w.as_root("define", w.write_guest("g.guest", "[Guest]\nMemory=128M\n"))  # root: no polkit
        denied(w.as_nobody("define", w.write_guest("h.guest", "[Guest]\n"), expect=1),
               "org.microvmd1.manage")
        denied(w.as_nobody("start", "g", expect=1), "org.microvmd1.manage")
        denied(w.as_nobody("autostart", "g", "on", expect=1), "org.microvmd1.manage")
        denied(w.as_nobody("console", "g", expect=1), "org.microvmd1.console")
        check("g " in w.as_nobody("list").stdout, "nobody cannot list")
        check("State: stopped" in w.as_nobody("status", "g").stdout, "nobody cannot read status")
        check(not os.path.exists(w.guest_file("h")), "a denied define stored its file")


def test_polkit_decides():
    with SystemWorld() as w:
        w.start_polkit()
        w.allow("org.microvmd1.manage")
        w.as_nobody("define", w.write_guest("h.guest", "[Guest]\nMemory=128M\n"))
        check(os.path.exists(w.guest_file("h")), "an allowed define was not stored")
        w.as_nobody("autostart", "h", "on")
        denied(w.as_nobody("console", "h", expect=1), "org.microvmd1.console")


def polkit_flags(w):
    """The flags argument of each CheckAuthorization the mock got: 1 lets polkit ask."""
    r = w.polkit("GetCalls")
    check(r.returncode == 0, f"GetCalls: {r.stderr}")
    return [int(f) for f in re.findall(r"'CheckAuthorization', \[.*?<uint32 (\d+)>", r.stdout)]


def test_no_ask_password():
    """microvmctl lets polkit ask for a password, as systemctl does, unless told not to."""
    with SystemWorld() as w:
        w.start_polkit()
        w.as_root("define", w.write_guest("g.guest", "[Guest]\nMemory=128M\n"))
        w.polkit("ClearCalls")
        denied(w.as_nobody("start", "g", expect=1), "org.microvmd1.manage")
        check(polkit_flags(w) == [1], f"not interactive: {polkit_flags(w)}")
        w.polkit("ClearCalls")
        denied(w.as_nobody("--no-ask-password", "start", "g", expect=1), "org.microvmd1.manage")
        check(polkit_flags(w) == [0], f"interactive with --no-ask-password: {polkit_flags(w)}")


def test_session_never_asks():
    """microvmd --session trusts whoever reaches its bus, which is its user's own, and never
    asks polkit, even with a polkit that says no to everything on the system bus."""
    with SystemWorld(session=True) as w:
        w.start_polkit()
        w.as_nobody("define", w.write_guest("h.guest", "[Guest]\nMemory=128M\n"))
        check(os.path.exists(w.guest_file("h")), "the session daemon refused its bus's caller")
        w.as_nobody("autostart", "h", "on")
        check(polkit_flags(w) == [], f"the session daemon asked polkit: {polkit_flags(w)}")


def test_without_polkit_only_root():
    with SystemWorld() as w:
        w.as_root("define", w.write_guest("g.guest", "[Guest]\n"))
        r = w.as_nobody("define", w.write_guest("h.guest", "[Guest]\n"), expect=1)
        denied(r, "org.microvmd1.manage")
        check("polkit did not answer" in r.stderr, r.stderr)


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
