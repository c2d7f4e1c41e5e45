#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""microvmctl's argument errors and --help, which need no daemon. A verb given too few or too
many arguments says what it expected, naming itself as typed ("snapshot save", not
"snapshot"), and exits with the usage status before it reaches for a bus: there is none
here, so one that tried would fail with status 1 instead."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from support import check, run  # noqa: E402

BUILD = os.environ.get("MICROVMD_BUILD_ROOT", os.path.abspath("build"))
MICROVMCTL = os.path.join(BUILD, "client", "microvmctl")
USAGE = 2


def ctl(*args):
    nowhere = "unix:path=/nonexistent/bus"
    env = dict(os.environ, LC_ALL="C.UTF-8", DBUS_SESSION_BUS_ADDRESS=nowhere,
               DBUS_SYSTEM_BUS_ADDRESS=nowhere)
    return subprocess.run([MICROVMCTL, *args], env=env, capture_output=True, text=True,
                          timeout=30)


def expect_usage_error(args, message):
    r = ctl(*args)
    check((r.returncode, r.stderr) == (USAGE, f"microvmctl: {message}\n"),
          f"microvmctl {' '.join(args)}: exit {r.returncode}, {r.stderr!r}; expected {message!r}")


def expected(verb, args):
    return f"{verb}: expected {args}; see 'microvmctl {verb} --help'"


def test_snapshot_argument_errors():
    for args in (["snapshot", "save"], ["snapshot", "save", "web", "warm", "more"]):
        expect_usage_error(args, expected("snapshot save", "NAME [SNAPSHOT]"))
    for args in (["snapshot", "list"], ["snapshot", "list", "web", "warm"]):
        expect_usage_error(args, expected("snapshot list", "NAME"))
    for args in (["snapshot", "remove", "web"], ["snapshot", "remove", "web", "warm", "more"]):
        expect_usage_error(args, expected("snapshot remove", "NAME SNAPSHOT"))
    expect_usage_error(["snapshot", "rename", "web"],
                       "unknown snapshot verb 'rename'; the verbs are save, list, remove")
    expect_usage_error(["snapshot", "save", "--json", "web"],
                       "snapshot save: Unknown option --json")
    r = ctl("snapshot")
    check(r.returncode == USAGE and "microvmctl snapshot remove NAME SNAPSHOT" in r.stdout,
          f"snapshot without a verb: exit {r.returncode}, {r.stdout!r}")


def test_start_snapshot_argument_errors():
    expect_usage_error(["start", "web", "--snapshot"], "start: Missing argument for --snapshot")
    for args in (["start", "--snapshot", "warm"], ["start", "web", "db", "--snapshot", "warm"]):
        expect_usage_error(args, expected("start", "NAME"))


def test_image_verbs_name_themselves():
    expect_usage_error(["image", "import", "web"], expected("image import", "NAME SOURCE"))
    expect_usage_error(["image", "inspect"], expected("image inspect", "NAME"))
    expect_usage_error(["image", "pull", "web"],
                       "unknown image verb 'pull'; the verbs are import, list, inspect, remove")


def test_help():
    r = ctl("--help")
    verbs = r.stdout.split("Verbs:")[1].split("\n\n")[0]
    check(r.returncode == 0 and "  snapshot " in verbs, f"--help: {r.stdout}")
    r = ctl("snapshot", "--help")
    check(r.returncode == 0 and "microvmctl snapshot save NAME [SNAPSHOT]\n" in r.stdout
          and "'microvmctl snapshot VERB --help' describes each." in r.stdout, r.stdout)
    for args, usage, words in (
            (["snapshot", "save"], "snapshot save NAME [SNAPSHOT]", "default"),
            (["snapshot", "list"], "snapshot list NAME", "--json"),
            (["snapshot", "remove"], "snapshot remove NAME SNAPSHOT", "Deletes"),
            (["start"], "start NAME", "--snapshot=SNAP")):
        r = ctl(*args, "--help")
        check(r.returncode == 0 and f"microvmctl [OPTION…] {usage}\n" in r.stdout
              and words in r.stdout, f"{' '.join(args)} --help: {r.stdout}")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
