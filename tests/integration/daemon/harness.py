# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private world for one integration test: its own dbus-daemon, the real microvmd in
--session mode on temporary folders, the real microvmctl, real QEMU under TCG.

Every process it starts carries MICROVMD_TEST_TAG in its environment (QEMU inherits it
from the daemon), so teardown finds and kills all of them, pass or fail."""

import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# the test scripts take these from here
from support import (TestFailure, check, run, stderr_on_a_terminal, wait_for,  # noqa: E402,F401
                     without_kernel_messages)

BUILD = os.environ.get("MICROVMD_BUILD_ROOT", os.path.abspath("build"))
SOURCE = os.environ.get("MICROVMD_SOURCE_ROOT", os.path.abspath("."))
MICROVMD = os.path.join(BUILD, "daemon", "microvmd")
MICROVMCTL = os.path.join(BUILD, "client", "microvmctl")
VMLINUX = os.path.join(BUILD, "guest-kernel", "vmlinux")
INITRD = os.path.join(BUILD, "guest-kernel", "initrd.img")

BOOT_TIMEOUT = 90


def guest_path(name):
    escaped = "".join(c if c.isalnum() else "_%02x" % ord(c) for c in name)
    return "/org/microvmd1/guest/" + escaped


class World:
    def __init__(self, conf_extra="", logs_tmpfs=None, daemon_prefix=(), user=None,
                 run_tmpfs=None):
        """logs_tmpfs: a size ("32k"): the log folder is a tmpfs of that size (needs root),
        unmounted at teardown; run_tmpfs: the same for the runtime folder, as /run is. daemon_prefix: a command the daemon runs under, such as
        ["ip", "netns", "exec", NS] (it must exec the daemon, not fork it). user: a uid
        that the bus, the daemon and microvmctl all run as, owning the folders: a user's
        own --session daemon, without root."""
        self.tmp = tempfile.TemporaryDirectory(prefix="mvd-")
        self.dir = self.tmp.name
        # QEMU runs under a uid of its own (GuestUIDs=): shares are opened by that uid
        os.chmod(self.dir, 0o755)
        self.tag = "mvd-test-" + os.path.basename(self.dir)
        self.conf_extra = conf_extra
        self.as_user = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] \
            if user is not None else []
        self.daemon_prefix = list(daemon_prefix) + self.as_user
        self.bus = None
        self.daemon = None
        self.daemon_log = None
        self.mounted = []
        for sub in ("conf/guests", "state", "run", "logs", "images"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        if user is not None:
            subprocess.run(["chown", "-R", f"{user}:{user}", self.dir], check=True)
        for sub, size in (("logs", logs_tmpfs), ("run", run_tmpfs)):
            if size is None:
                continue
            try:
                subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755",
                                "tmpfs", os.path.join(self.dir, sub)],
                               check=True, capture_output=True, text=True, timeout=10)
            except (OSError, subprocess.SubprocessError):
                self._unmount()
                self.tmp.cleanup()
                raise
            self.mounted.append(os.path.join(self.dir, sub))

    # --- setup and teardown ---------------------------------------------------------
    def __enter__(self):
        try:
            self._write_conf()
            self._start_bus()
            self.start_daemon()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                self._check_clean_exit()
        except BaseException:
            exc = sys.exc_info()
            raise
        finally:
            if exc[0] is not None and self.daemon_log:
                sys.stderr.write("--- microvmd log ---\n" + self.read_daemon_log() + "\n")
            self.close()
        return False

    SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                         "GLib-CRITICAL", "GLib-GIO-CRITICAL", "GLib-GObject-CRITICAL")

    def _check_clean_exit(self):
        """A test that passed ends with the daemon stopping cleanly on SIGTERM, and no
        sanitizer or GLib critical report anywhere in its log."""
        if self.daemon and self.daemon.poll() is None:
            status = self.stop_daemon(signal.SIGTERM, timeout=60)
            check(status == 0, f"microvmd exited with status {status} on SIGTERM")
        log = self.read_daemon_log()
        for needle in self.SANITIZER_REPORTS:
            check(needle not in log, f"microvmd reported {needle!r}:\n{log[-4000:]}")

    def _write_conf(self):
        with open(os.path.join(self.dir, "conf", "microvmd.conf"), "w") as f:
            f.write("[Daemon]\nAccelerator=tcg\n")
            f.write(f"DefaultKernel={VMLINUX}\nDefaultInitrd={INITRD}\n")
            # the folders guests may use: DIR/images (make_disk) and DIR/shared
            if "ImageDirectories=" not in self.conf_extra:
                f.write(f"ImageDirectories={self.dir}/images\n")
            if "ShareDirectories=" not in self.conf_extra:
                f.write(f"ShareDirectories={self.dir}/shared\n")
            f.write(self.conf_extra)

    def env(self):
        env = dict(os.environ)
        env.update({
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
            "CONFIGURATION_DIRECTORY": os.path.join(self.dir, "conf"),
            "STATE_DIRECTORY": os.path.join(self.dir, "state"),
            "RUNTIME_DIRECTORY": os.path.join(self.dir, "run"),
            "LOGS_DIRECTORY": os.path.join(self.dir, "logs"),
            "MICROVMD_TEST_TAG": self.tag,
            "G_DEBUG": "fatal-criticals",
        })
        return env

    def _start_bus(self):
        self.bus = subprocess.Popen(
            self.as_user + ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, MICROVMD_TEST_TAG=self.tag))
        self.bus_address = self.bus.stdout.readline().strip()
        check(self.bus_address.startswith("unix:"), "dbus-daemon gave no address")

    def start_daemon(self):
        self.daemon_log = open(os.path.join(self.dir, "microvmd.log"), "a")
        self.daemon = subprocess.Popen(self.daemon_prefix + [MICROVMD, "--session"], env=self.env(),
                                       stdout=self.daemon_log, stderr=subprocess.STDOUT)
        wait_for("microvmd on the bus", lambda: self.name_has_owner(), timeout=20)

    def stop_daemon(self, sig=signal.SIGTERM, timeout=10):
        self.daemon.send_signal(sig)
        return self.daemon.wait(timeout=timeout)

    def restart_daemon(self, sig=signal.SIGKILL):
        """Stops the daemon with sig (default: SIGKILL, no chance to clean up) and starts a
        new one on the same folders and bus."""
        self.stop_daemon(sig)
        self.start_daemon()

    def spawn(self, argv, **kwargs):
        """Starts a process that carries the tag, so teardown ends it too."""
        return subprocess.Popen(argv, env=self.env(), **kwargs)

    def name_has_owner(self):
        r = subprocess.run(self.as_user + ["gdbus", "call", "--session", "-d",
                                           "org.freedesktop.DBus", "-o", "/org/freedesktop/DBus",
                                           "-m", "org.freedesktop.DBus.NameHasOwner",
                                           "org.microvmd1"],
                           env=self.env(), capture_output=True, text=True)
        return "true" in r.stdout

    def tagged_pids(self):
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if f"MICROVMD_TEST_TAG={self.tag}".encode() in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                pass
        return pids

    def qemu_pids(self):
        pids = []
        for pid in self.tagged_pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"qemu-system" in f.read().split(b"\0")[0]:
                        pids.append(pid)
            except OSError:
                pass
        return pids

    def close(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait()
        for pid in self.tagged_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while self.tagged_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.bus:
            self.bus.wait(timeout=10)
        if self.daemon_log:
            self.daemon_log.close()
        self._unmount()
        self.tmp.cleanup()

    def _unmount(self):
        for path in self.mounted:
            if subprocess.run(["umount", path], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", path], capture_output=True)
        self.mounted = []

    def read_daemon_log(self):
        with open(os.path.join(self.dir, "microvmd.log")) as f:
            return f.read()

    # --- talking to the daemon ------------------------------------------------------
    def ctl(self, *args, expect=0, timeout=180, input=""):
        """Runs microvmctl --session ARGS with INPUT as its stdin; checks its exit status;
        returns the result."""
        r = subprocess.run(self.as_user + [MICROVMCTL, "--session", *args], env=self.env(),
                           input=input, capture_output=True, text=True, timeout=timeout)
        if expect is not None and r.returncode != expect:
            raise TestFailure(f"microvmctl {' '.join(args)}: exit {r.returncode}, "
                              f"expected {expect}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def gdbus(self, *args, timeout=180):
        return subprocess.run(self.as_user + ["gdbus", *args], env=self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def prop(self, name, prop):
        r = self.gdbus("call", "--session", "-d", "org.microvmd1", "-o", guest_path(name), "-m",
                       "org.freedesktop.DBus.Properties.Get", "org.microvmd1.Guest", prop)
        if r.returncode != 0:
            return None
        value = r.stdout.strip()[2:-3]  # "(<VALUE>,)"
        for prefix in ("uint32 ", "uint64 "):
            if value.startswith(prefix):
                return int(value[len(prefix):])
        if value in ("true", "false"):
            return value == "true"
        if value.lstrip("-").isdigit():  # int32, which gdbus prints bare
            return int(value)
        return value.strip("'")

    def state(self, name):
        return self.prop(name, "State")

    def wait_state(self, name, state, timeout=BOOT_TIMEOUT):
        return wait_for(f"guest {name} {state}", lambda: self.state(name) == state, timeout)

    def wait_ready(self, name, timeout=BOOT_TIMEOUT):
        return wait_for(f"guest {name} ready", lambda: self.prop(name, "Ready") is True, timeout)

    def wait_settled(self, name, timeout=BOOT_TIMEOUT):
        """Waits until the guest is in no transitional state; returns that state."""
        return wait_for(f"guest {name} to settle",
                        lambda: (s := self.state(name)) not in (None, "starting", "stopping")
                        and s, timeout)

    def runtime(self, name, *files):
        return os.path.join(self.dir, "run", name, *files)

    def console(self, name, text, timeout=60):
        """Types text into the serial console of guest NAME through microvmctl console;
        returns the result (stdout: what the guest printed meanwhile)."""
        return subprocess.run([MICROVMCTL, "--session", "console", name], input=text,
                              env=self.env(), capture_output=True, text=True, timeout=timeout)

    def shell(self, name, command):
        """Runs @command in guest NAME's console shell, then sync; returns what it printed
        between two markers."""
        r = subprocess.run([MICROVMCTL, "--session", "console", name, "--linger", "2"],
                           env=self.env(), input=f"echo BE''GIN; {command}; sync; echo E''ND\n",
                           capture_output=True, text=True, timeout=120)
        out = without_kernel_messages(r.stdout.replace("\r", ""))
        check("BEGIN" in out and "END" in out, f"guest {name} did not answer:\n{out}")
        return out[out.rindex("BEGIN") + 5:out.rindex("END")]

    def console_popen(self, name, *flags):
        """A console client whose stdin and stdout are pipes the caller keeps."""
        return subprocess.Popen([MICROVMCTL, "--session", "console", *flags, name], env=self.env(),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def write_guest(self, file_name, text):
        path = os.path.join(self.dir, file_name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def write_file(self, file_name, data):
        """Writes bytes @data to DIR/file_name; returns its path."""
        path = os.path.join(self.dir, file_name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def guest_file(self, name):
        return os.path.join(self.dir, "conf", "guests", name + ".guest")

    def log(self, name):
        try:
            with open(os.path.join(self.dir, "logs", name + ".log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def printed(self, name):
        """The log of guest NAME without the kernel's messages, which may land in the middle
        of what a program in the guest printed: what to search for that output."""
        return without_kernel_messages(self.log(name))

    def make_disk(self, name, size_mb=8):
        path = os.path.join(self.dir, "images", name)
        with open(path, "wb") as f:
            f.truncate(size_mb * 1024 * 1024)
        return path



NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

SYSTEM_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
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
    that nobody (uid 65534) may reach; python3-dbusmock's polkitd or systemd run on it.
    session=True runs microvmd --session on that same bus instead (as_* then pass --session)."""

    def __init__(self, *args, session=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session

    def _start_bus(self):
        socket = os.path.join(self.dir, "system_bus_socket")
        config = os.path.join(self.dir, "system-bus.conf")
        with open(config, "w") as f:
            f.write(SYSTEM_BUS_CONFIG.format(
                socket=socket, policy=os.path.join(SOURCE, "units", "org.microvmd1.conf")))
        self.bus = subprocess.Popen(["dbus-daemon", "--config-file", config, "--nofork"],
                                    env=dict(os.environ, MICROVMD_TEST_TAG=self.tag))
        self.bus_address = "unix:path=" + socket
        wait_for("the system bus", lambda: os.path.exists(socket), timeout=10)
        self.mocks = []

    def env(self):
        env = super().env()
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        return env

    def start_daemon(self):
        self.daemon_log = open(os.path.join(self.dir, "microvmd.log"), "a")
        mode = ["--session"] if self.session else []
        self.daemon = subprocess.Popen(self.daemon_prefix + [MICROVMD, *mode], env=self.env(),
                                       stdout=self.daemon_log, stderr=subprocess.STDOUT)
        wait_for("microvmd on the bus", lambda: self.name_has_owner(), timeout=20)

    def start_mock(self, template, name, path):
        """python3-dbusmock's TEMPLATE on the bus; returns a function that calls its
        org.freedesktop.DBus.Mock methods."""
        return self._mock(["--template", template], name, path)

    def start_object_mock(self, name, path, interface, methods):
        """python3-dbusmock's plain mock: NAME with one object PATH implementing INTERFACE,
        METHODS a list of (method, in signature, out signature, python code)."""
        call = self._mock(["--system", name, path, interface], name, path)
        for method, in_sig, out_sig, code in methods:
            r = call("AddMethod", interface, method, in_sig, out_sig, code)
            check(r.returncode == 0, f"AddMethod {method}: {r.stderr}")
        return call

    def _mock(self, args, name, path):
        self.mocks.append(self.spawn(["/usr/bin/python3", "-m", "dbusmock", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        def call(method, *args):
            return subprocess.run(["gdbus", "call", "--system", "-d", name, "-o", path, "-m",
                                   "org.freedesktop.DBus.Mock." + method, *args],
                                  env=self.env(), capture_output=True, text=True)
        wait_for(f"the {name} mock", lambda: call("GetCalls").returncode == 0, timeout=20)
        return call

    def start_polkit(self):
        self.polkit = self.start_mock("polkitd", "org.freedesktop.PolicyKit1",
                                      "/org/freedesktop/PolicyKit1/Authority")

    def allow(self, *actions):
        r = self.polkit("SetAllowed", str(list(actions)))
        check(r.returncode == 0, f"SetAllowed: {r.stderr}")

    def as_root(self, *args, expect=0):
        return self.run_ctl([], args, expect)

    def as_nobody(self, *args, expect=0):
        return self.run_ctl(NOBODY, args, expect)

    def run_ctl(self, prefix, args, expect):
        mode = ["--session"] if self.session else []
        r = subprocess.run(prefix + [MICROVMCTL, *mode, *args], env=self.env(), input="",
                           capture_output=True, text=True, timeout=120)
        check(expect is None or r.returncode == expect,
              f"microvmctl {' '.join(args)}: exit {r.returncode}, expected {expect}: {r.stderr}")
        return r

    def close(self):
        for mock in getattr(self, "mocks", []):
            if mock.poll() is None:
                mock.kill()
                mock.wait()
        super().close()

