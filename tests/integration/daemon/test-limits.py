#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Limits on what one caller may cost the daemon (issue 8, the review's M4 and M5): a guest
file over 64 KiB is refused before it is parsed, groups are counted, MaxGuests= holds, and the
guest files travel by a method, so GetManagedObjects stays small with 1024 guests of 64 KiB."""

import os
import subprocess
import sys
import time

from harness import MICROVMCTL, World, check, run, wait_for


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


def sockets_of(pid):
    """How many sockets process PID holds."""
    fds = f"/proc/{pid}/fd"
    return sum(1 for fd in os.listdir(fds) if os.readlink(os.path.join(fds, fd)).startswith("socket:"))


def open_console(w, name, *flags):
    """A console client that stays connected until killed (its stdin stays open)."""
    return subprocess.Popen([MICROVMCTL, "--session", "console", *flags, name], env=w.env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_console_clients():
    """16 clients a guest, one typing; a second typist needs --force (the review's M6, L6)."""
    with World() as w:
        w.ctl("define", w.write_guest("c.guest", "[Guest]\nMemory=128M\n"))
        w.ctl("start", "c", "--wait-ready")
        wait_for("the shell", lambda: "starting a shell on the console" in w.log("c"))
        time.sleep(0.5)
        clients = [open_console(w, "c")]
        try:
            # the first client types: proof that it holds the keyboard before anyone else asks
            clients[0].stdin.write(b"echo first-$((6*7))\n")
            clients[0].stdin.flush()
            wait_for("the first client's command", lambda: "first-42" in w.printed("c"), timeout=30)
            r = w.ctl("console", "c", expect=1)
            check("guest c: another client is typing" in r.stderr, r.stderr)
            clients += [open_console(w, "c", "--read-only") for _ in range(15)]
            # no probe until every watcher holds its console socket (beside its bus socket):
            # a probe would take a place a watcher needs
            wait_for("15 watchers connected", lambda: all(
                c.poll() is None and sockets_of(c.pid) >= 2 for c in clients), timeout=60)
            r = w.ctl("console", "--read-only", "c", expect=1)
            check("guest c: 16 console clients are connected" in r.stderr, r.stderr)
            # a free place, then a forced take-over: the first client only watches from now on
            clients.pop().kill()
            wait_for("a forced typist", lambda: w.ctl(
                "console", "--force", "c", input="echo forced-$((6*7))\n", expect=None,
                timeout=30).returncode == 0, timeout=30)
            wait_for("the forced command's output", lambda: "forced-42" in w.printed("c"), timeout=30)
        finally:
            for c in clients:
                c.kill()
        out = clients[0].communicate()[0].decode(errors="replace")
        check("took over typing" in out, f"the first client was not told: {out[-500:]}")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
