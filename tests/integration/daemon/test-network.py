#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tap networking for real, inside a network namespace the test makes: the daemon creates
each Mode=tap guest's tap, enslaves it to Bridge=, and the guest pings the bridge's
address through it. No traffic leaves the namespace."""

import os
import subprocess
import sys

from harness import MICROVMCTL, World, check, run, wait_for

GUEST = """[Guest]
Name={name}
Memory=192M

[Network lan]
Mode=tap
Bridge={bridge}
MAC=52:54:00:12:34:56
"""


def ip(*args, check_rc=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr}")
    return r


class Namespace:
    """A network namespace with a bridge br0 at 10.77.0.1/24; removed on exit."""

    def __init__(self):
        self.name = f"mvdtest{os.getpid()}"

    def __enter__(self):
        ip("netns", "add", self.name)
        try:
            ip("-n", self.name, "link", "set", "lo", "up")
            ip("-n", self.name, "link", "add", "br0", "type", "bridge")
            ip("-n", self.name, "addr", "add", "10.77.0.1/24", "dev", "br0")
            ip("-n", self.name, "link", "set", "br0", "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        ip("netns", "del", self.name, check_rc=False)


def type_into(w, name, text, linger="5"):
    return subprocess.run([MICROVMCTL, "--session", "console", name, "--linger", linger],
                          input=text, env=w.env(), capture_output=True, text=True, timeout=120)


def test_tap_on_a_bridge():
    with Namespace() as ns, World(daemon_prefix=["ip", "netns", "exec", ns.name],
                                   conf_extra="AllowedBridges=br0 nobr0\n") as w:
        w.ctl("define", w.write_guest("n.guest", GUEST.format(name="n", bridge="br0")))
        w.ctl("start", "n", "--wait-ready")
        tap = "mvm" + w.prop("n", "UUID")[:8] + "n0"
        enslaved = ip("-n", ns.name, "-o", "link", "show", "master", "br0").stdout
        check(tap in enslaved, f"tap {tap} is not on br0:\n{enslaved}")
        out = type_into(w, "n", "while [ ! -e /sys/class/net/eth0 ]; do sleep 0.2; done; "
                        "ip link set eth0 up; ip addr add 10.77.0.2/24 dev eth0; "
                        "ping -c 3 -W 5 10.77.0.1 && echo PING-WOR''KED\n").stdout
        check("PING-WORKED" in out, f"the guest could not ping the bridge:\n{out}")
        r = subprocess.run(["ip", "netns", "exec", ns.name, "ping", "-c", "2", "-W", "5",
                            "10.77.0.2"], capture_output=True, text=True)
        check(r.returncode == 0, f"the host side could not ping the guest:\n{r.stdout}")
        w.ctl("stop", "n")
        gone = ip("-n", ns.name, "link", "show", "dev", tap, check_rc=False)
        check(gone.returncode != 0, f"tap {tap} outlived its guest")


def test_missing_bridge():
    with Namespace() as ns, World(daemon_prefix=["ip", "netns", "exec", ns.name],
                                   conf_extra="AllowedBridges=br0 nobr0\n") as w:
        w.ctl("define", w.write_guest("m.guest", GUEST.format(name="m", bridge="nobr0")))
        r = w.ctl("start", "m", expect=1)
        check("[Network lan]" in r.stderr and "nobr0" in r.stderr,
              f"the error does not name the network and the bridge: {r.stderr}")
        check(w.state("m") == "stopped", f"state after a failed start: {w.state('m')}")
        check(w.qemu_pids() == [], "a QEMU was left after a failed start")
        check(ip("-n", ns.name, "-o", "link").stdout.count("mvm") == 0, "a tap was left behind")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
