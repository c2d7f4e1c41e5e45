#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Guest networking for real, inside a network namespace the test makes: the daemon creates
each Mode=tap guest's tap and enslaves it to Bridge=, the shipped init addresses the cards
from the guest file (or by DHCP on a user-mode card) before the guest is ready, and guests
reach the host, each other and a DNS server. No traffic leaves the namespace."""

import json
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
MAC=52:54:00:12:34:{mac}
Address=10.77.0.{host}/24
Gateway=10.77.0.1
"""

HERE = os.path.dirname(os.path.abspath(__file__))


def ip(*args, check_rc=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr}")
    return r


class Namespace:
    """A network namespace with a bridge br0 at 10.77.0.1/24 and a default route through
    10.77.0.254 on it (which nothing answers: passt wants a route to copy); removed on exit."""

    def __init__(self):
        self.name = f"mvdtest{os.getpid()}"

    def __enter__(self):
        ip("netns", "add", self.name)
        try:
            ip("-n", self.name, "link", "set", "lo", "up")
            ip("-n", self.name, "link", "add", "br0", "type", "bridge")
            ip("-n", self.name, "addr", "add", "10.77.0.1/24", "dev", "br0")
            ip("-n", self.name, "link", "set", "br0", "up")
            ip("-n", self.name, "route", "add", "default", "via", "10.77.0.254", "dev", "br0")
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
    """Two guests addressed from their files: each pings the host and the other."""
    with Namespace() as ns, World(daemon_prefix=["ip", "netns", "exec", ns.name],
                                   conf_extra="AllowedBridges=br0 nobr0\n") as w:
        for name, host in (("n", 2), ("m", 3)):
            w.ctl("define", w.write_guest(f"{name}.guest", GUEST.format(
                name=name, bridge="br0", mac=f"{host:02x}", host=host)))
            w.ctl("start", name, "--wait-ready")
            check(f"microvmd-init: net: eth0 10.77.0.{host}/24" in w.printed(name),
                  f"guest {name} did not report its address:\n{w.log(name)[-1500:]}")
        tap = "mvm" + w.prop("n", "UUID")[:8] + "n0"
        enslaved = ip("-n", ns.name, "-o", "link", "show", "master", "br0").stdout
        check(tap in enslaved, f"tap {tap} is not on br0:\n{enslaved}")
        # ready means addressed: no command typed before the ping
        out = type_into(w, "n", "ping -c 2 -W 5 10.77.0.1 && ping -c 2 -W 5 10.77.0.3 && "
                        "ip route | grep -q 'default via 10.77.0.1' && echo PING-WOR''KED\n").stdout
        check("PING-WORKED" in out, f"the guest could not ping the bridge and m:\n{out}")
        r = subprocess.run(["ip", "netns", "exec", ns.name, "ping", "-c", "2", "-W", "5",
                            "10.77.0.2"], capture_output=True, text=True)
        check(r.returncode == 0, f"the host side could not ping the guest:\n{r.stdout}")
        w.ctl("stop", "n")
        gone = ip("-n", ns.name, "link", "show", "dev", tap, check_rc=False)
        check(gone.returncode != 0, f"tap {tap} outlived its guest")


def test_user_mode_dhcp_and_dns():
    """QEMU's own user-mode network (UserNetwork=slirp): DHCP from QEMU, names from a DNS
    server on the host side
    (here one the test runs on its namespace's bridge, which the daemon's /etc/resolv.conf
    names)."""
    with Namespace() as ns:
        resolv = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"resolv-{os.getpid()}")
        dns = subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable,
                                os.path.join(HERE, "dns-responder.py"), "10.77.0.1",
                                "web.test", "10.78.0.99"], stdout=subprocess.PIPE, text=True)
        try:
            check(dns.stdout.readline().strip() == "ready", "the DNS responder did not start")
            with open(resolv, "w") as f:
                f.write("nameserver 10.77.0.1\n")
            # the daemon (and its QEMU) sees that resolv.conf, in a mount namespace of its own
            prefix = ["ip", "netns", "exec", ns.name, "unshare", "-m", "sh", "-c",
                      'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv]
            with World(daemon_prefix=prefix, conf_extra="UserNetwork=slirp\n") as w:
                w.ctl("define", w.write_guest("u.guest", "[Guest]\nMemory=192M\nHostname=web1\n"
                                              "[Network net0]\nMode=user\n"))
                w.ctl("start", "u", "--wait-ready")
                check("microvmd-init: net: eth0 10.0.2.15/24" in w.printed("u"), w.log("u")[-1500:])
                out = type_into(w, "u", "hostname; nslookup web.test\n", linger="10").stdout
                check("10.78.0.99" in out, f"web.test did not resolve:\n{out}")
                check("web1" in out, f"no host name:\n{out}")
        finally:
            dns.kill()
            dns.wait()
            if os.path.exists(resolv):
                os.unlink(resolv)


def in_namespace(ns, code):
    """Runs python CODE in the namespace; returns its stdout."""
    r = subprocess.run(["ip", "netns", "exec", ns.name, sys.executable, "-c", code],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"{code}: {r.stderr}")
    return r.stdout


def forward_serves_a_page(backend):
    """Forward=tcp:18080:80: busybox httpd in the guest answers on the host's port; a port
    already taken refuses the start, naming the guest, the card and the forward."""
    with Namespace() as ns, World(daemon_prefix=["ip", "netns", "exec", ns.name],
                                   conf_extra=f"UserNetwork={backend}\n") as w:
        w.ctl("define", w.write_guest("f.guest", "[Guest]\nMemory=192M\n[Network net0]\n"
                                      "Forward=tcp:18080:80\n"))
        w.ctl("start", "f", "--wait-ready")
        out = type_into(w, "f", "mkdir -p /www && echo hello-from-the-gu''est >/www/index.html && "
                        "httpd -p 80 -h /www && echo HTTPD-U''P\n").stdout
        check("HTTPD-UP" in out, f"httpd did not start:\n{out}")
        page = in_namespace(ns, "import urllib.request; print(urllib.request.urlopen("
                                "'http://127.0.0.1:18080/', timeout=20).read().decode())")
        check("hello-from-the-guest" in page, f"the page: {page!r}")
        status = w.ctl("status", "f").stdout
        check("Forwards: tcp 0.0.0.0:18080 -> 80 (net0)" in status, status)
        forwards = json.loads(w.ctl("status", "f", "--json").stdout)["Forwards"]
        check(forwards == [{"Network": "net0", "Protocol": "tcp", "HostAddress": "0.0.0.0",
                            "HostPort": 18080, "GuestPort": 80}], f"--json: {forwards}")
        # the port is the first guest's now
        w.ctl("define", w.write_guest("g.guest", "[Guest]\nMemory=192M\n[Network net0]\n"
                                      "Forward=tcp:18080:80\n"))
        r = w.ctl("start", "g", expect=1)
        check("guest g: [Network net0] Forward=tcp:0.0.0.0:18080:80: host port 18080 is in use"
              in r.stderr, r.stderr)
        check(w.state("g") == "stopped" and len(w.qemu_pids()) == 1,
              f"after a refused start: {w.state('g')}, QEMUs {w.qemu_pids()}")


def test_forward_serves_a_page_slirp():
    forward_serves_a_page("slirp")


def test_forward_serves_a_page_passt():
    forward_serves_a_page("passt")


def loopback_server(ns, port, text):
    """A TCP server on the namespace's 127.0.0.1:PORT that says TEXT to whoever connects."""
    code = (f"import socket; s = socket.create_server(('127.0.0.1', {port})); print('up', "
            f"flush=True)\nwhile True:\n c, _ = s.accept(); c.sendall(b'{text}\\n'); c.close()")
    server = subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable, "-c", code],
                              stdout=subprocess.PIPE, text=True)
    check(server.stdout.readline().strip() == "up", "the loopback server did not start")
    return server


def test_passt_host_loopback():
    """passt keeps the guest from the host's loopback (the review's M3) unless
    HostLoopback=yes; the guest reaches it through its gateway's address then."""
    with Namespace() as ns, World(daemon_prefix=["ip", "netns", "exec", ns.name]) as w:
        server = loopback_server(ns, 18099, "hello-from-loopback")
        try:
            for name, flag in (("closed", ""), ("open", "HostLoopback=yes\n")):
                w.ctl("define", w.write_guest(f"{name}.guest", "[Guest]\nMemory=192M\n"
                                              f"[Network net0]\nMode=passt\n{flag}"))
                w.ctl("start", name, "--wait-ready")
                check(f"microvmd-init: net: eth0 10.77.0.1/24" in w.printed(name), w.log(name)[-800:])
            probe = "nc -w 3 10.77.0.254 18099 </dev/null; echo NC-DO''NE\n"
            closed = type_into(w, "closed", probe).stdout
            opened = type_into(w, "open", probe).stdout
            check("NC-DONE" in closed and "hello-from-loopback" not in closed,
                  f"HostLoopback=no reached the host's loopback:\n{closed}")
            check("hello-from-loopback" in opened, f"HostLoopback=yes did not:\n{opened}")
        finally:
            server.kill()
            server.wait()


def test_passt_killed_fails_the_guest():
    with Namespace() as ns, World(daemon_prefix=["ip", "netns", "exec", ns.name]) as w:
        w.ctl("define", w.write_guest("k.guest", "[Guest]\nMemory=192M\n[Network net0]\n"
                                      "Mode=passt\n"))
        w.ctl("start", "k", "--wait-ready")
        passts = [p for p in w.tagged_pids() if b"passt" in open(f"/proc/{p}/cmdline", "rb").read()]
        check(len(passts) == 1, f"passt processes: {passts}")
        os.kill(passts[0], 9)
        w.wait_state("k", "crashed", timeout=20)
        check(w.prop("k", "StateReason") == "network-failed", w.prop("k", "StateReason"))
        message = w.prop("k", "StateMessage")
        check("passt of [Network net0] was killed by signal 9" in message, message)
        check(w.qemu_pids() == [], "QEMU outlived its network")


TAP_GUEST = """[Guest]
Memory=192M
[Network lan]
Mode=tap
Bridge=br0
MAC=52:54:00:12:34:{mac}
Address=10.77.0.{host}/24
{extra}"""


def test_egress_rules_and_mac_spoofing():
    """Egress=deny with AllowTo=: the allowed destination answers, another address of the
    same host does not. A guest that takes another MAC gets no frames through. The rules go
    with the guest."""
    with Namespace() as ns, World(daemon_prefix=["ip", "netns", "exec", ns.name],
                                   conf_extra="AllowedBridges=br0\n") as w:
        ip("-n", ns.name, "addr", "add", "10.77.0.5/24", "dev", "br0")
        w.ctl("define", w.write_guest("e.guest", TAP_GUEST.format(
            mac="02", host=2, extra="Egress=deny\nAllowTo=10.77.0.1\n")))
        w.ctl("define", w.write_guest("m.guest", TAP_GUEST.format(mac="03", host=3, extra="")))
        for name in ("e", "m"):
            w.ctl("start", name, "--wait-ready")
        out = type_into(w, "e", "ping -c 2 -W 3 10.77.0.1 && echo ALLOWED-REACH''ED; "
                        "ping -c 2 -W 3 10.77.0.5 || echo DENIED-BLOCK''ED\n").stdout
        check("ALLOWED-REACHED" in out, f"the allowed destination:\n{out}")
        check("DENIED-BLOCKED" in out, f"the denied destination:\n{out}")
        out = type_into(w, "m", "ping -c 1 -W 3 10.77.0.5 && echo BEFORE-O''K; "
                        "ip link set eth0 down; ip link set eth0 address 52:54:00:66:66:66; "
                        "ip link set eth0 up; ip neigh flush all; "
                        "ping -c 2 -W 3 10.77.0.5 || echo FORGED-BLOCK''ED\n", linger="8").stdout
        check("BEFORE-OK" in out and "FORGED-BLOCKED" in out, f"MAC spoofing:\n{out}")
        tables = subprocess.run(["ip", "netns", "exec", ns.name, "nft", "list", "tables"],
                                capture_output=True, text=True).stdout
        check(tables.count("netdev microvmd-mvm") == 2, f"nft tables:\n{tables}")
        for name in ("e", "m"):
            w.ctl("stop", name)
        tables = subprocess.run(["ip", "netns", "exec", ns.name, "nft", "list", "tables"],
                                capture_output=True, text=True).stdout
        check("microvmd-" not in tables, f"rules outlived their guests:\n{tables}")


def test_missing_bridge():
    with Namespace() as ns, World(daemon_prefix=["ip", "netns", "exec", ns.name],
                                   conf_extra="AllowedBridges=br0 nobr0\n") as w:
        w.ctl("define", w.write_guest("m.guest", GUEST.format(name="m", bridge="nobr0", mac="09", host=9)))
        r = w.ctl("start", "m", expect=1)
        check("[Network lan]" in r.stderr and "nobr0" in r.stderr,
              f"the error does not name the network and the bridge: {r.stderr}")
        check(w.state("m") == "stopped", f"state after a failed start: {w.state('m')}")
        check(w.qemu_pids() == [], "a QEMU was left after a failed start")
        check(ip("-n", ns.name, "-o", "link").stdout.count("mvm") == 0, "a tap was left behind")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
