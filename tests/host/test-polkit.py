#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Authorization for real (issue 13, item 6): the installed bus policy, polkit policy and
rules, with the box's own polkitd and real users. bob is outside group microvm: he may list
and read, and is refused define, start and console. alice is a member: she may manage. root
may, without polkit. pkcheck, asked for each user, agrees with what the daemon did."""

import sys

from hostbox import Box, check, run

GUEST = "[Guest]\nMemory=128M\n"


def users(box):
    for name in ("alice", "bob"):
        box.run("useradd", "--create-home", name)
    box.run("usermod", "--append", "--groups", "microvm", "alice")


def refused(r, action):
    check(r.returncode == 1, f"exit {r.returncode}: {r.stderr}")
    check("not authorized" in r.stderr and action in r.stderr, r.stderr)


def pkcheck(box, user, action):
    """pkcheck's answer for a process of USER: 0 authorized."""
    return box.run("sh", "-c", f'exec pkcheck --action-id {action} --process $$', user=user,
                   check=False).returncode


def test_outsider_may_read_only():
    with Box("bob") as box:
        users(box)
        box.define("g", GUEST)  # root: no polkit
        check("g " in box.ctl("list", user="bob").stdout, "bob cannot list")
        check(box.guest("g", user="bob")["State"] == "stopped", "bob cannot read a status")
        box.write("/tmp/h.guest", GUEST, user="bob")
        refused(box.ctl("--no-ask-password", "define", "/tmp/h.guest", user="bob", expect=None),
                "org.microvmd1.manage")
        refused(box.ctl("--no-ask-password", "start", "g", user="bob", expect=None),
                "org.microvmd1.manage")
        box.ctl("start", "g", "--wait-ready")
        refused(box.ctl("--no-ask-password", "console", "g", user="bob", expect=None),
                "org.microvmd1.console")
        refused(box.ctl("--no-ask-password", "stop", "g", user="bob", expect=None),
                "org.microvmd1.manage")
        check("h " not in box.ctl("list").stdout, "bob's refused define left a guest")
        for action in ("org.microvmd1.manage", "org.microvmd1.console"):
            check(pkcheck(box, "bob", action) != 0, f"pkcheck authorizes bob for {action}")


def test_member_may_manage():
    with Box("alice") as box:
        users(box)
        box.define("h", GUEST, user="alice")
        box.ctl("start", "h", "--wait-ready", user="alice")
        r = box.run("microvmctl", "console", "h", user="alice", input="echo typed-by-$((6*7))\n",
                    check=False, timeout=60)
        check(r.returncode == 0, f"alice's console: exit {r.returncode}: {r.stderr}")
        r = box.ctl("log", "h")
        check("typed-by-42" in r.stdout, f"the guest did not run alice's line:\n{r.stdout[-800:]}")
        box.ctl("stop", "h", user="alice")
        box.ctl("undefine", "h", user="alice")
        for action in ("org.microvmd1.manage", "org.microvmd1.console"):
            check(pkcheck(box, "alice", action) == 0, f"pkcheck refuses alice {action}")


def test_policy_installed():
    with Box("policy") as box:
        for action in ("org.microvmd1.manage", "org.microvmd1.console"):
            r = box.run("pkaction", "--action-id", action, "--verbose")
            check("implicit active:" in r.stdout, r.stdout)


if __name__ == "__main__":
    sys.exit(run({
        "outsider_may_read_only": test_outsider_may_read_only,
        "member_may_manage": test_member_may_manage,
        "policy_installed": test_policy_installed,
    }))
