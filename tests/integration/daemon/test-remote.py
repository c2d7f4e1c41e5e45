#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""microvmctl -H (issue 12, item 6): the local microvmctl drives a second microvmd through
ssh. The "remote" is a network namespace the test makes, reached over a veth pair, with an
sshd on a config, host key and authorized key of the test's own; microvmd runs there in
system mode on a private system bus. The remote host's own setup is the sshd's: in a mount
namespace of its own the private bus is where a system bus lives,
/run/dbus/system_bus_socket (Debian 12's systemd-stdio-bridge goes nowhere else without
--bus-path), and its SetEnv gives sessions the daemon's log folder and a PATH with the
build's microvmctl, and a HOME of the test's, so that this machine's root dotfiles (which
may print, or take seconds) play no part. The local microvmctl knows none of it: it gets -H root@ADDRESS and, in
$MICROVMCTL_SSH, "ssh -F CONFIG" for the key and the known_hosts file; its own buses point
nowhere."""

import os
import pty
import select
import socket
import subprocess
import sys
import time

from completion import candidates
from harness import BUILD, MICROVMCTL, SystemWorld, World, check, run, wait_for

SSHD = "/usr/sbin/sshd"

GUEST = "[Guest]\nName={name}\nMemory=128M\n"


def ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr}")


class Namespace:
    """A network namespace joined to this one by a veth pair: 10.79.N.1 here, 10.79.N.2
    there; 10.79.N.3 answers nothing. Removed on exit, with the pair."""

    def __init__(self):
        n = os.getpid() % 250
        self.name = f"mvdremote{os.getpid()}"
        self.veth = f"mvr{os.getpid()}"
        self.address = f"10.79.{n}.2"
        self.local = f"10.79.{n}.1"
        self.nobody = f"10.79.{n}.3"

    def __enter__(self):
        ip("netns", "add", self.name)
        try:
            ip("link", "add", self.veth, "type", "veth", "peer", "name", "eth0",
               "netns", self.name)
            ip("addr", "add", self.local + "/29", "dev", self.veth)
            ip("link", "set", self.veth, "up")
            ip("-n", self.name, "addr", "add", self.address + "/29", "dev", "eth0")
            ip("-n", self.name, "link", "set", "eth0", "up")
            ip("-n", self.name, "link", "set", "lo", "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)
        subprocess.run(["ip", "link", "del", self.veth], capture_output=True, timeout=10)


def keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-remote", "-f",
                    path], check=True, capture_output=True, timeout=30)
    with open(path + ".pub") as f:
        return f.read().strip()


class Sshd:
    """An sshd inside the namespace for root, by key only, on the test's own files in DIR/ssh;
    session_bus: the address its sessions get as DBUS_SESSION_BUS_ADDRESS. sshd rewrites its
    processes' titles over their environment, so the world's tag cannot find them: it runs
    in a PID namespace of its own instead, which ends with all its processes on exit."""

    def __init__(self, w, ns, session_bus="unix:path=/nonexistent"):
        self.w, self.ns = w, ns
        self.dir = os.path.join(w.dir, "ssh")
        os.makedirs(self.dir, mode=0o700)
        host_key = keygen(os.path.join(self.dir, "host_key"))
        user_key = keygen(os.path.join(self.dir, "id"))
        keygen(os.path.join(self.dir, "other_id"))  # never authorized
        bare_key = keygen(os.path.join(self.dir, "bare_id"))
        with open(os.path.join(self.dir, "authorized_keys"), "w") as f:
            f.write(user_key + "\n")
            # a host without the bridge: this key's sessions find no systemd-stdio-bridge
            f.write(f'command="PATH=/nonexistent; $SSH_ORIGINAL_COMMAND" {bare_key}\n')
        with open(os.path.join(self.dir, "known_hosts"), "w") as f:
            f.write(f"{ns.address} {' '.join(host_key.split()[:2])}\n")
        path = f"{BUILD}/client:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        with open(os.path.join(self.dir, "sshd_config"), "w") as f:
            f.write(f"""ListenAddress {ns.address}:22
HostKey {self.dir}/host_key
PidFile none
AuthorizedKeysFile {self.dir}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
SetEnv DBUS_SESSION_BUS_ADDRESS={session_bus} LOGS_DIRECTORY={w.dir}/logs PATH={path} \
HOME={self.dir}
""")
        self.write_client_config("ssh_config", "id")
        self.write_client_config("ssh_config_other", "other_id")
        self.write_client_config("ssh_config_bare", "bare_id")
        self.log = os.path.join(self.dir, "sshd.log")
        self.process = None
        self.pidns = None

    def __enter__(self):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation
        # the world's bus as the system bus, seen by sshd and its sessions alone
        bus = self.w.bus_address[len("unix:path="):]
        script = ("mount -t tmpfs -o mode=0755 tmpfs /run/dbus && "
                  "touch /run/dbus/system_bus_socket && "
                  f"mount --bind {bus} /run/dbus/system_bus_socket && "
                  f"exec ip netns exec {self.ns.name} {SSHD} -D -f {self.dir}/sshd_config "
                  f"-E {self.log}")
        # --kill-child: unshare's end is the end of the namespace's first process, hence of all
        # --mount-proc: a /proc of the new PID namespace, so that its processes see their own
        # pids in it (LeakSanitizer lists and stops a process's threads through /proc/self)
        self.process = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", "--mount",
                                         "--mount-proc", "sh", "-c", script])
        try:
            wait_for("sshd listening", self.listening, timeout=20)
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as f:
                self.pidns = os.readlink(f"/proc/{f.read().split()[0]}/ns/pid")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait(timeout=10)
        if self.pidns:
            wait_for("sshd's processes to end", lambda: not self.members(), timeout=10)
        if exc and exc[0] is not None:
            sys.stderr.write(f"--- sshd log ---\n{self.read_log()}\n")
        return False

    def members(self):
        found = []
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and os.readlink(f"/proc/{entry}/ns/pid") == self.pidns:
                    found.append(int(entry))
            except OSError:
                pass
        return found

    def write_client_config(self, name, key):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(f"""Host *
  IdentityFile {self.dir}/{key}
  IdentitiesOnly yes
  UserKnownHostsFile {self.dir}/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
""")

    def listening(self):
        check(self.process.poll() is None, f"sshd exited:\n{self.read_log()}")
        try:
            with socket.create_connection((self.ns.address, 22), timeout=1):
                return True
        except OSError:
            return False

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def env(self, config="ssh_config"):
        """The local side's: its own buses lead nowhere, ssh gets the test's key"""
        return dict(self.w.env(), DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent",
                    DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent",
                    MICROVMCTL_SSH=f"ssh -F {os.path.join(self.dir, config)}",
                    PATH=os.path.dirname(MICROVMCTL) + ":" + os.environ["PATH"])

    def ctl(self, *args, host=None, config="ssh_config", expect=0, input="", timeout=180):
        """The local microvmctl -H root@ADDRESS ARGS"""
        r = subprocess.run([MICROVMCTL, "-H", host or f"root@{self.ns.address}", *args],
                           env=self.env(config), input=input, capture_output=True, text=True,
                           timeout=timeout)
        check(expect is None or r.returncode == expect,
              f"microvmctl -H {' '.join(args)}: exit {r.returncode}, expected {expect}\n"
              f"stdout: {r.stdout}\nstderr: {r.stderr}\nsshd: {self.read_log()[-2000:]}")
        return r


def complete(sshd, *words):
    """bash's candidates for the last of @words, as test-completion drives it"""
    return candidates(sshd.env(), *words)


def console_on_a_terminal(sshd, name, typed, timeout=60):
    """microvmctl -H console NAME on a pty: types @typed once connected, then Ctrl-]; returns
    its exit status and all it printed."""
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execve(MICROVMCTL, [MICROVMCTL, "-H", f"root@{sshd.ns.address}", "console", name],
                      sshd.env())
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout

    def read_until(needle):
        nonlocal out
        while needle not in out and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    out += os.read(master, 4096)
                except OSError:  # EIO: it has gone
                    return
    try:
        read_until(b"press Ctrl-] to leave")
        os.write(master, typed)
        read_until(b"tty-42\r\n")
        os.write(master, b"\x1d")
        read_until(b"\0")  # until it has gone
    finally:
        os.close(master)
        reaped, status = os.waitpid(pid, os.WNOHANG)
        while reaped == 0 and time.monotonic() < deadline + 10:
            time.sleep(0.05)
            reaped, status = os.waitpid(pid, os.WNOHANG)
        if reaped == 0:  # still there: the check below fails, and it goes
            os.kill(pid, 9)
            reaped, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def no_ssh_left(w):
    """Every ssh that microvmctl started has been reaped, and every bridge it ran ended."""
    def gone():
        for pid in w.tagged_pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
            except OSError:
                continue
            if os.path.basename(argv0) in (b"ssh", b"systemd-stdio-bridge", b"microvmctl"):
                return False
        return True
    wait_for("ssh and its bridges to end", gone, timeout=10)


def test_remote_guests():
    """Define, list, start, status, log, console and stop a TCG guest on the remote."""
    with Namespace() as ns, SystemWorld(daemon_prefix=["ip", "netns", "exec", ns.name]) as w, \
            Sshd(w, ns) as sshd:
        sshd.ctl("define", w.write_guest("far.guest", GUEST.format(name="far")))
        check(os.path.exists(w.guest_file("far")), "the remote daemon did not store far")
        # bash completes the remote's guest names, and the -H option itself
        got = complete(sshd, "-H", f"root@{ns.address}", "start", "")
        check(got == ["far"], f"completion with -H: {got}")
        check("--host" in complete(sshd, "--"), complete(sshd, "--"))
        listing = sshd.ctl("list").stdout
        check(any(line.split()[:2] == ["far", "stopped"] for line in listing.splitlines()),
              listing)
        sshd.ctl("start", "far", "--wait-ready")
        check(w.state("far") == "running" and w.prop("far", "Ready") is True,
              f"far is {w.state('far')} on the remote")
        listing = sshd.ctl("list").stdout
        check(any(line.split()[:3] == ["far", "running", "yes"]
                  for line in listing.splitlines()), listing)
        status = sshd.ctl("status", "far").stdout
        check("State: running" in status, status)
        # the log is a file on the remote, read by the remote's microvmctl
        log = sshd.ctl("log", "far", "-n", "50").stdout
        check("microvmd-init" in log, f"no init lines in the remote log:\n{log}")
        # a console through ssh: the remote's microvmctl, its stdin and stdout ours
        r = sshd.ctl("console", "far", "--linger", "3", input="echo remote-$((6*7))\n")
        check("remote-42" in r.stdout,
              f"the remote console did not answer:\n{r.stdout}\n{r.stderr}\n{w.log('far')[-500:]}")
        # on a terminal: one on the remote too (ssh -t), raw, and Ctrl-] leaves
        status, out = console_on_a_terminal(sshd, "far", b"echo tty-$((6*7))\r")
        check(status == 0 and "tty-42\r\n" in out, f"exit {status}, the terminal showed {out!r}")
        # a verb that needs a file descriptor to cross ssh is refused, and says what to do
        r = sshd.ctl("image", "import", "app", w.dir, expect=2)
        check(f"cannot send SOURCE to root@{ns.address}" in r.stderr, r.stderr)
        sshd.ctl("stop", "far")
        check(w.state("far") == "stopped", f"far is {w.state('far')} after stop")
        check(not w.qemu_pids(), f"QEMU left running: {w.qemu_pids()}")
        # run: its command's status comes back; its output, a console's, is in the log there
        job = w.write_guest("job.guest", "[Guest]\nName=job\nMemory=128M\n"
                            "Command=/bin/sh -c 'echo from-the-remote; exit 7'\n")
        r = sshd.ctl("run", job, expect=7)
        check("the console of guest job cannot come through ssh" in r.stderr, r.stderr)
        check("from-the-remote" in sshd.ctl("log", "job").stdout, "run's output is not logged")
        no_ssh_left(w)


def test_session_bus():
    """--session with -H: the user bus of the remote login (DBUS_SESSION_BUS_ADDRESS there,
    else $XDG_RUNTIME_DIR/bus), where a second, --session microvmd has guest near."""
    with Namespace() as ns, World() as user, \
            SystemWorld(daemon_prefix=["ip", "netns", "exec", ns.name]) as w, \
            Sshd(w, ns, session_bus=user.bus_address) as sshd:
        user.ctl("define", user.write_guest("near.guest", GUEST.format(name="near")))
        listing = sshd.ctl("--session", "list").stdout
        check("near" in listing and "far" not in listing, listing)
        check("near" not in sshd.ctl("list").stdout, "the system bus has the session's guest")
        no_ssh_left(w)


def test_errors_name_the_host():
    """ssh's failures are microvmctl's errors, naming the host, with ssh's reason."""
    with Namespace() as ns, SystemWorld(daemon_prefix=["ip", "netns", "exec", ns.name]) as w, \
            Sshd(w, ns) as sshd:
        started = time.monotonic()
        r = sshd.ctl("list", host=f"root@{ns.nobody}", expect=1, timeout=60)
        check(f"microvmctl: cannot reach microvmd on root@{ns.nobody} through ssh: ssh: "
              f"connect to host {ns.nobody} port 22:" in r.stderr, r.stderr)
        check(time.monotonic() - started < 30, "an unreachable host took more than 30 s")
        r = sshd.ctl("list", host=f"root@{ns.address}:2222", expect=1)
        check("Connection refused" in r.stderr and f"root@{ns.address}:2222" in r.stderr,
              r.stderr)
        r = sshd.ctl("list", config="ssh_config_other", expect=1)
        check(f"cannot reach microvmd on root@{ns.address} through ssh:" in r.stderr
              and "Permission denied" in r.stderr, r.stderr)
        r = sshd.ctl("list", config="ssh_config_bare", expect=1)
        check(f"cannot reach microvmd on root@{ns.address}: ssh logged in, but the host has "
              "no systemd-stdio-bridge" in r.stderr, r.stderr)
        r = sshd.ctl("log", "far", config="ssh_config_other", expect=1)
        check(f"cannot reach root@{ns.address} through ssh" in r.stderr, r.stderr)
        r = sshd.ctl("list", host="-oProxyCommand=x", expect=2)
        check("expected [USER@]HOST[:PORT]" in r.stderr, r.stderr)
        no_ssh_left(w)


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
