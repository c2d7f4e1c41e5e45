#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Who may do what (issue 8, the review's M1): the system daemon asks polkit before it acts
for anyone but root, and the read-only calls are open to all. Tested the way fprintd and bolt
are: python3-dbusmock's polkitd on a private system bus that carries our own bus policy, the
real microvmd in system mode on temporary folders, callers run as nobody with setpriv."""

import os
import subprocess
import sys

from harness import MICROVMCTL, MICROVMD, SOURCE, World, check, run, wait_for

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
POLKIT = ["gdbus", "call", "--system", "-d", "org.freedesktop.PolicyKit1", "-o",
          "/org/freedesktop/PolicyKit1/Authority", "-m"]

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow send_requested_reply="true"/>
    <allow receive_requested_reply="true"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""


class SystemWorld(World):
    """microvmd without --session, on a private bus that stands in for the system bus and
    that nobody (uid 65534) may reach; the polkit mock runs on it."""

    def _start_bus(self):
        socket = os.path.join(self.dir, "system_bus_socket")
        config = os.path.join(self.dir, "system-bus.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG.format(socket=socket,
                                      policy=os.path.join(SOURCE, "units", "org.microvmd1.conf")))
        self.bus = subprocess.Popen(["dbus-daemon", "--config-file", config, "--nofork"],
                                    env=dict(os.environ, MICROVMD_TEST_TAG=self.tag))
        self.bus_address = "unix:path=" + socket
        wait_for("the system bus", lambda: os.path.exists(socket), timeout=10)
        self.polkit = None

    def env(self):
        env = super().env()
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        return env

    def start_daemon(self):
        self.daemon_log = open(os.path.join(self.dir, "microvmd.log"), "a")
        self.daemon = subprocess.Popen(self.daemon_prefix + [MICROVMD], env=self.env(),
                                       stdout=self.daemon_log, stderr=subprocess.STDOUT)
        wait_for("microvmd on the bus", lambda: self.name_has_owner(), timeout=20)

    def start_polkit(self):
        self.polkit = self.spawn(["/usr/bin/python3", "-m", "dbusmock", "--template", "polkitd"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("the polkit mock", lambda: subprocess.run(
            POLKIT + ["org.freedesktop.DBus.Mock.AllowUnknown", "false"], env=self.env(),
            capture_output=True).returncode == 0, timeout=20)

    def allow(self, *actions):
        r = subprocess.run(POLKIT + ["org.freedesktop.DBus.Mock.SetAllowed", str(list(actions))],
                           env=self.env(), capture_output=True, text=True)
        check(r.returncode == 0, f"SetAllowed: {r.stderr}")

    def as_root(self, *args, expect=0):
        return self.run_ctl([], args, expect)

    def as_nobody(self, *args, expect=0):
        return self.run_ctl(NOBODY, args, expect)

    def run_ctl(self, prefix, args, expect):
        r = subprocess.run(prefix + [MICROVMCTL, *args], env=self.env(), input="",
                           capture_output=True, text=True, timeout=120)
        check(expect is None or r.returncode == expect,
              f"microvmctl {' '.join(args)}: exit {r.returncode}, expected {expect}: {r.stderr}")
        return r

    def close(self):
        if self.polkit and self.polkit.poll() is None:
            self.polkit.kill()
            self.polkit.wait()
        super().close()


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


def test_without_polkit_only_root():
    with SystemWorld() as w:
        w.as_root("define", w.write_guest("g.guest", "[Guest]\n"))
        r = w.as_nobody("define", w.write_guest("h.guest", "[Guest]\n"), expect=1)
        denied(r, "org.microvmd1.manage")
        check("polkit did not answer" in r.stderr, r.stderr)


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
