#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The API's typed values and options: a guest file sent with its file name (no Name=
needed, errors at the user's own line), typed CPUs and Memory in list and status, the
state's reason, and options the daemon does not know."""

import json
import os
import sys
import tempfile

from harness import World, check, run


def test_file_without_name_shows_its_size():
    """The review's bug: a stored file without Name= showed '?' for CPUS and MEMORY."""
    with World() as w:
        w.ctl("define", w.write_guest("web.guest", "[Guest]\nCPUs=2\nMemory=192M\n"))
        listing = w.ctl("list").stdout
        row = next(line for line in listing.splitlines() if line.startswith("web "))
        check("?" not in row and " 2 " in row and "192M" in row, f"list row: {row!r}")
        status = w.ctl("status", "web").stdout
        check("CPUs: 2" in status and "Memory: 192M" in status, f"status:\n{status}")
        check("Reason: none" in status, f"status lacks the reason:\n{status}")
        rows = json.loads(w.ctl("--json", "list").stdout)
        check(rows[0]["Memory"] == 192 * 1024 * 1024 and rows[0]["CPUs"] == 2, f"{rows}")
        props = json.loads(w.ctl("--json", "status", "web").stdout)
        check(props["Memory"] == 192 * 1024 * 1024 and props["StateReason"] == "none",
              f"status --json: {props}")


def test_errors_name_the_users_file_and_line():
    with World() as w:
        path = w.write_guest("web.guest", "[Guest]\nCPUs=1\nMemory=8M\n")
        r = w.ctl("define", path, expect=1)
        check(f"{path}:3:" in r.stderr and "Memory" in r.stderr, f"define error: {r.stderr}")
        r = w.ctl("check", path, expect=1)
        check(f"{path}:3:" in r.stderr, f"check error: {r.stderr}")


def test_unknown_option_is_refused():
    with World() as w:
        r = w.gdbus("call", "--session", "-d", "org.microvmd1", "-o", "/org/microvmd1", "-m",
                    "org.microvmd1.Manager.DefineGuest", "[Guest]\nName=x\n", "{'bogus': <1>}")
        check("org.microvmd1.Error.InvalidConfig" in r.stderr and "bogus" in r.stderr,
              f"bus error: {r.stderr}")
        r = w.gdbus("call", "--session", "-d", "org.microvmd1", "-o", "/org/microvmd1", "-m",
                    "org.microvmd1.Manager.DefineGuest", "[Guest]\n",
                    "{'file-name': <'dir/web.guest'>}")
        check(r.returncode == 0 and "/org/microvmd1/guest/web" in r.stdout,
              f"file-name's base name did not name the guest: {r.stdout} {r.stderr}")
        for method, options, known in (
                ("Clone", "'web2', {'full': <'yes'>}", "full (b)"),
                ("OpenConsole", "{'force': <true>, 'follow': <true>}",
                 "force (b), read-only (b)")):
            r = w.gdbus("call", "--session", "-d", "org.microvmd1", "-o",
                        "/org/microvmd1/guest/web", "-m", f"org.microvmd1.Guest.{method}",
                        *([options] if method == "OpenConsole" else options.split(", ", 1)))
            check("org.microvmd1.Error.InvalidConfig" in r.stderr
                  and f"{method}: option '" in r.stderr and f"the options are: {known}" in r.stderr,
                  f"{method}: {r.stderr}")


FAILING_QEMU = """#!/bin/sh
case "$1" in --version) exec qemu-system-x86_64 --version;; esac
echo 'qemu-system-x86_64: cannot do that here' >&2
exit 1
"""


def test_no_such_guest_is_exit_3():
    """Every verb on a guest that is not there says so, by name, with exit status 3."""
    with World() as w:
        for verb in ("status", "start", "stop", "kill", "pause", "resume", "reboot", "undefine",
                     "stats", "console"):
            r = w.ctl(verb, "nope", expect=3)
            check(r.stderr.strip() == "microvmctl: no guest named 'nope'", f"{verb}: {r.stderr}")
        r = w.ctl("clone", "nope", "new", expect=3)
        check("no guest named 'nope'" in r.stderr, r.stderr)


def test_a_failed_start_says_why():
    """start --wait-ready returns at once with the reason and QEMU's last words."""
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # QEMU runs under a guest uid (GuestUIDs=): it must reach its binary
        qemu = os.path.join(tmp, "failing-qemu")
        with open(qemu, "w") as f:
            f.write(FAILING_QEMU)
        os.chmod(qemu, 0o755)
        with World(conf_extra=f"QemuBinary={qemu}\n") as w:
            w.ctl("define", w.write_guest("f.guest", "[Guest]\n"))
            r = w.ctl("start", "f", "--wait-ready", expect=1, timeout=30)
            check("cannot do that here" in r.stderr, f"start error lacks QEMU's words: {r.stderr}")
            check(w.state("f") == "stopped" and w.prop("f", "StateReason") == "start-failed",
                  f"{w.state('f')} {w.prop('f', 'StateReason')}")
            check("cannot do that here" in w.prop("f", "StateMessage"), "StateMessage lacks them")
            listing = w.ctl("list").stdout
            check("stopped (start-failed)" in listing, listing)


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
