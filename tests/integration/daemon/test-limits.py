#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Limits on what one caller may cost the daemon (issue 8, the review's M4 and M5): a guest
file over 64 KiB is refused before it is parsed, groups are counted, MaxGuests= holds, and the
guest files travel by a method, so GetManagedObjects stays small with 1024 guests of 64 KiB."""

import os
import sys

from harness import World, check, run


def test_big_file_refused_fast():
    with World() as w:
        big = "[Guest]\n" + "".join(f"[Share s{i}]\nPath=/\n" for i in range(60000))
        check(len(big) > 1024 * 1024, f"the file is only {len(big)} bytes")
        path = w.write_guest("big.guest", big)
        r = w.ctl("define", path, expect=1)
        check("big.guest: the guest file is" in r.stderr and "at most 65536" in r.stderr,
              f"define error: {r.stderr}")
        # (the refusal's speed is asserted where it is deterministic: unit guest-config)
        check(not os.path.exists(w.guest_file("big")), "the big file was stored")
        check("big" not in w.ctl("list").stdout, "the daemon lists the refused guest")


def test_group_counts():
    with World() as w:
        text = "[Guest]\n" + "".join(f"[Disk d{i}]\nPath=/srv/d{i}.img\n" for i in range(17))
        r = w.ctl("define", w.write_guest("many.guest", text), expect=1)
        check("many.guest:34: [Disk d16] too many disks; at most 16" in r.stderr, r.stderr)


def test_max_guests():
    with World(conf_extra="MaxGuests=2\n") as w:
        for name in ("a", "b"):
            w.ctl("define", w.write_guest(f"{name}.guest", "[Guest]\n"))
        r = w.ctl("define", w.write_guest("c.guest", "[Guest]\n"), expect=1)
        check("guest c" in r.stderr and "MaxGuests=" in r.stderr, f"define error: {r.stderr}")
        check(not os.path.exists(w.guest_file("c")), "the refused guest was stored")
        r = w.ctl("create", w.write_guest("t.guest", "[Guest]\n"), expect=1)
        check("MaxGuests=" in r.stderr, f"create error: {r.stderr}")
        w.ctl("define", w.write_guest("a.guest", "[Guest]\nCPUs=2\n"))  # redefining is no new guest


def test_many_large_guests_stay_listable():
    with World() as w:
        padding = "# " + "x" * 250 + "\n"
        body = padding * (63 * 1024 // len(padding))
        folder = os.path.join(w.dir, "conf", "guests")
        for i in range(1024):
            with open(os.path.join(folder, f"g{i}.guest"), "w") as f:
                f.write(f"[Guest]\nName=g{i}\n{body}")
        w.ctl("reload", timeout=300)
        r = w.gdbus("call", "--session", "-d", "org.microvmd1", "-o", "/org/microvmd1", "-m",
                    "org.freedesktop.DBus.ObjectManager.GetManagedObjects", timeout=120)
        check(r.returncode == 0, f"GetManagedObjects failed: {r.stderr[:500]}")
        check(r.stdout.count("/org/microvmd1/guest/g") == 1024, "not every guest is listed")
        check(len(r.stdout) < 8 * 1024 * 1024, f"the reply is {len(r.stdout)} bytes")
        listing = w.ctl("list").stdout
        check(len(listing.splitlines()) == 1025, f"list has {len(listing.splitlines())} lines")
        check(w.ctl("status", "g7").stdout.count("x" * 250) >= 200, "status lacks the file")
        r = w.ctl("define", w.write_guest("one-more.guest", "[Guest]\n"), expect=1)
        check("MaxGuests=" in r.stderr, r.stderr)


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
