#!/usr/bin/python3
"""Boots the default guest (guest-kernel/) in real QEMU under TCG.

Usage: boot-test.py CASE --microvmd BIN --kernel VMLINUX --initrd INITRD

CASE is one of:
  pcie        Linux guest on PCIe with a blank disk, a user-mode NIC and a 9p
              share beside the devices every guest has (balloon, rng, the
              virtio-serial ready port): each virtio device must be bound to
              its driver, the share must mount, and the drivers of the
              devices this test cannot give the guest without the daemon
              (virtiofs, vsock) must be there
  mmio        the same on virtio-mmio
  ext4-root   an ext4 root disk made by mkfs.ext4 -d; switch_root must reach
              it; then the clock (as in powerdown, in stage 2), the power button,
              and the file system must be clean
  ext4-init   an ext4 root with its own /sbin/init (busybox): switch_root
              must run it, with /proc and /dev moved into the new root
  powerdown   in the initrd: a TIME= line on the ready socket (what the daemon
              writes after restoring a snapshot) must set the guest's clock, to
              the sub-second, and garbage lines must change nothing; so must a
              TIME= line after the socket was closed and connected again; then
              the ACPI power button (QMP system_powerdown) must end in a
              guest-initiated SHUTDOWN

The QEMU argv is the one `microvmd --check --socket-dir` prints for a guest
file, with -S added so no serial output is lost before the test connects.
Each boot is bounded in time; QEMU is killed and reaped on every path.
Exit status 0 pass, 1 fail, 77 skip.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from support import without_kernel_messages  # noqa: E402

BOOT_TIMEOUT = 60.0
SKIP = 77


class Failure(Exception):
    pass


def die_with_parent():
    """Runs in the child before exec: QEMU gets SIGKILL if this test dies,
    even by SIGKILL, so no guest outlives it."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def log(msg):
    print(f"boot-test: {msg}", flush=True)


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()

    def wait_for(self, what, predicate, step=0.05):
        while not predicate():
            if self.left() <= 0:
                raise Failure(f"timed out waiting for {what}")
            time.sleep(step)


class StreamReader:
    """Collects everything read from a connected socket, in a thread."""

    def __init__(self, sock, name, echo=False):
        self.sock = sock
        self.name = name
        self.echo = echo
        self.data = bytearray()
        self.lock = threading.Lock()
        self.first_line_at = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                if self.first_line_at is None and b"\n" in chunk:
                    self.first_line_at = time.monotonic()
                self.data += chunk
            if self.echo:
                sys.stdout.write(chunk.decode("utf-8", "replace"))
                sys.stdout.flush()

    def text(self):
        with self.lock:
            return self.data.decode("utf-8", "replace")

    def contains(self, needle):
        return needle in self.text()


class Qmp:
    """Line-framed QMP client: commands answered in order, events kept."""

    def __init__(self, sock):
        self.sock = sock
        self.file = sock.makefile("rb")
        self.events = []
        self.next_id = 0
        greeting = self._read()
        if "QMP" not in greeting:
            raise Failure(f"unexpected QMP greeting {greeting}")
        self.command("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise Failure("QMP connection closed")
        return json.loads(line)

    def command(self, name, **arguments):
        self.next_id += 1
        msg = {"execute": name, "id": self.next_id}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if reply.get("id") != self.next_id:
                continue
            if "error" in reply:
                raise Failure(f"QMP {name} failed: {reply['error']}")
            return reply.get("return")

    def wait_event(self, name, deadline):
        while True:
            for ev in self.events:
                if ev["event"] == name:
                    return ev
            self.sock.settimeout(max(0.1, deadline.left()))
            try:
                reply = self._read()
            except (socket.timeout, TimeoutError):
                raise Failure(f"timed out waiting for QMP event {name}")
            finally:
                self.sock.settimeout(None)
            if "event" in reply:
                self.events.append(reply)


def connect_unix(path, deadline):
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if deadline.left() <= 0:
                raise Failure(f"QEMU never listened on {path}")
            time.sleep(0.02)


def builder_argv(args, workdir, guest_text):
    """The argv microvmd --check prints for GUEST_TEXT, forced to TCG."""
    guest = os.path.join(workdir, "boot.guest")
    conf = os.path.join(workdir, "microvmd.conf")
    with open(guest, "w") as f:
        f.write(guest_text)
    with open(conf, "w") as f:
        f.write(
            "[Daemon]\n"
            "Accelerator=tcg\n"
            # QEMU runs here without the daemon, so no passt: QEMU's own user-mode network
            "UserNetwork=slirp\n"
            f"ImageDirectories={workdir}\n"
            f"ShareDirectories={workdir}\n"
            f"DefaultKernel={os.path.abspath(args.kernel)}\n"
            f"DefaultInitrd={os.path.abspath(args.initrd)}\n"
        )
    out = subprocess.run(
        [args.microvmd, "--check", "--config", conf, "--socket-dir", workdir, guest],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if out.returncode != 0:
        raise Failure(f"microvmd --check failed: {out.stderr.strip()}")
    argv = out.stdout.splitlines()
    # The test must not depend on /dev/kvm being there or not.
    i = argv.index("-accel")
    if argv[i + 1] != "tcg":
        raise Failure(f"Accelerator=tcg gave -accel {argv[i + 1]}")
    return argv


class Guest:
    """One QEMU process with its QMP, serial and ready sockets connected."""

    def __init__(self, argv, workdir, tag):
        self.argv = argv
        self.workdir = workdir
        self.tag = tag
        self.proc = None
        self.socks = []
        self.serial = None
        self.ready = None
        self.qmp = None
        self.spawned_at = None
        self.commands = 0

    def start(self, deadline):
        qemu_log = open(os.path.join(self.workdir, "qemu.stderr"), "wb")
        self.spawned_at = time.monotonic()
        # -S: the vCPU waits until the serial console is connected, because
        # a server chardev with wait=off drops output while nobody listens.
        self.proc = subprocess.Popen(
            self.argv + ["-S"],
            stdin=subprocess.DEVNULL,
            stdout=qemu_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        qemu_log.close()
        qmp_sock = self._connect("qmp.sock", deadline)
        self.serial = StreamReader(self._connect("console.sock", deadline), "serial", echo=True)
        self.ready = StreamReader(self._connect("ready.sock", deadline), "ready")
        self.qmp = Qmp(qmp_sock)
        self.qmp.command("cont")

    def _connect(self, name, deadline):
        path = os.path.join(self.workdir, name)
        while True:
            if self.proc.poll() is not None:
                raise Failure(f"QEMU exited with {self.proc.returncode}: {self.qemu_stderr()}")
            try:
                s = connect_unix(path, Deadline(0.2))
                self.socks.append(s)
                return s
            except Failure:
                if deadline.left() <= 0:
                    raise

    def reconnect_ready(self, deadline):
        """Closes the host end of the ready port and connects again, as a daemon that
        restarts and adopts the guest does."""
        self.ready.sock.shutdown(socket.SHUT_RDWR)
        self.ready.sock.close()
        self.ready.thread.join(timeout=5)
        self.ready = StreamReader(self._connect("ready.sock", deadline), "ready")

    def qemu_stderr(self):
        try:
            with open(os.path.join(self.workdir, "qemu.stderr"), "rb") as f:
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def wait_serial(self, needle, deadline):
        def seen():
            if self.proc.poll() is not None:
                raise Failure(f"QEMU exited with {self.proc.returncode} while waiting for {needle!r}")
            return self.serial.contains(needle)

        deadline.wait_for(f"{needle!r} on the serial console", seen)

    def run(self, command, deadline):
        """Runs COMMAND in the guest shell, returns its output."""
        # The shell expands $((...)), the terminal echo does not, so the end
        # marker proves the command ran and finished.
        self.commands += 1
        a, b = 100 + self.commands, 7
        end = f"END-{a * b}-"
        self.serial.sock.sendall(f"{command}; echo END-$(({a}*{b}))-\n".encode())
        self.wait_serial(end, deadline)
        text = self.serial.text()
        return without_kernel_messages(text[: text.rindex(end)])

    def ready_seconds(self, deadline):
        deadline.wait_for("the READY line on org.microvmd.ready", lambda: self.ready.first_line_at)
        if self.ready.text() != "READY=1\n":
            raise Failure(f"ready port carried {self.ready.text()!r}, wanted 'READY=1\\n'")
        return self.ready.first_line_at - self.spawned_at

    def stop(self):
        """Kills and reaps QEMU; safe to call on any path."""
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def quit(self, deadline):
        self.qmp.command("quit")
        try:
            self.proc.wait(timeout=max(1.0, deadline.left()))
        except subprocess.TimeoutExpired:
            raise Failure("QEMU did not exit after QMP quit")


def guest_file(transport, disk=None, command_line="", share=None):
    text = f"[Guest]\nName=boot-{transport}\nOS=linux\nTransport={transport}\nMemory=256M\n"
    if command_line:
        text += f"CommandLine={command_line}\n"
    if disk:
        text += f"\n[Disk root]\nPath={disk}\nFormat=raw\n"
    if share:
        text += f"\n[Share nine]\nType=9p\nPath={share}\n"
    text += "\n[Network net0]\nMode=user\n"
    text += "\n[Balloon]\nSmallPages=yes\n"  # the reporting order the init sets again
    return text


def expect(cond, what):
    if not cond:
        raise Failure(what)
    log(f"ok: {what}")


def check_disk_and_nic(guest, deadline, transport):
    guest.wait_serial("microvmd-init: starting a shell on the console", deadline)
    text = guest.serial.text()
    expect("microvmd-init: userspace started" in text, "the initrd's /init ran")
    expect(re.search(r"microvmd-init: block: .*\bvda\b", text), "/init saw the disk vda")
    expect(re.search(r"microvmd-init: net: .*\beth0\b", text), "/init saw the NIC eth0")
    out = guest.run("cat /proc/partitions; ip -o link show eth0", deadline)
    expect(re.search(r"\d+\s+\d+\s+\d+\s+vda\s*$", out, re.M), "vda is in /proc/partitions")
    expect(re.search(r"^\d+: eth0: .*link/ether 52:54:00", out, re.M), "eth0 is a virtio NIC")
    driver = guest.run("readlink /sys/class/net/eth0/device/driver; "
                       "readlink -f /sys/class/net/eth0/device", deadline)
    bus = "/sys/devices/pci" if transport == "pcie" else "/sys/devices/platform/LNRO0005"  # virtio-mmio devices come from ACPI
    expect("virtio_net" in driver and bus in driver, f"eth0 is driven by virtio_net over {transport}")


# The driver of each virtio device the test gives the guest (the console driver twice:
# the serial device is also where the ready port lives), and the drivers of the devices
# only the daemon gives it, which must be registered all the same.
BOUND_DRIVERS = ["9pnet_virtio", "virtio_balloon", "virtio_blk", "virtio_console",
                 "virtio_net", "virtio_rng"]
REGISTERED_DRIVERS = ["virtiofs", "vmw_vsock_virtio_transport"]


def check_every_device(guest, deadline, transport, token):
    out = guest.run("for d in /sys/bus/virtio/devices/*; do echo \"bound: ${d##*/} "
                    "$(readlink $d/driver)\"; done; echo registered: $(ls /sys/bus/virtio/drivers)",
                    deadline)
    bound = {line.split()[-1].rsplit("/", 1)[-1]
             for line in out.splitlines() if re.match(r"bound: virtio\d+ \S+", line)}
    registered = set(re.findall(r"^registered: (.*)$", out, re.M)[-1].split())
    for driver in BOUND_DRIVERS:
        expect(driver in bound, f"a virtio device on {transport} is driven by {driver}")
    for driver in REGISTERED_DRIVERS:
        expect(driver in registered, f"the guest has the {driver} driver (it has {sorted(registered)})")
    out = guest.run("mkdir -p /mnt/nine && mount -t 9p -o trans=virtio,version=9p2000.L nine "
                    "/mnt/nine && cat /mnt/nine/hello", deadline)
    expect(token in out.replace("cat /mnt/nine/hello", ""), f"the 9p share mounts on {transport}")
    # SmallPages=yes under TCG: the command line asks for 128 KiB reporting blocks; Linux 6.1
    # puts its own default back when the balloon driver registers, and /init sets it again.
    expect("page_reporting.page_reporting_order=5" in " ".join(guest.argv),
           "the command line sets the reporting order")
    out = guest.run("echo reporting-order=$(cat /sys/module/page_reporting/parameters/"
                    "page_reporting_order)", deadline)
    expect("reporting-order=5" in out, "the guest reports free pages in 128 KiB blocks")
    out = guest.run("cat /sys/class/misc/hw_random/rng_current", deadline)
    expect("virtio_rng" in out, "the guest's hardware RNG is virtio-rng")
    if transport == "pcie":
        out = guest.run("ls /sys/bus/pci/drivers/pvpanic-pci", deadline)
        expect(re.search(r"\b0000:", out), "pvpanic-pci drives the panic device")


def case_disk_nic(args, workdir, transport):
    disk = os.path.join(workdir, "blank.img")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    share = os.path.join(workdir, "share")
    os.makedirs(share)
    token = f"nine-{os.getpid()}"
    with open(os.path.join(share, "hello"), "w") as f:
        f.write(token + "\n")
    argv = builder_argv(args, workdir, guest_file(transport, disk, share=share))
    expect(("pcie=on" if transport == "pcie" else "pcie=off") in " ".join(argv),
           f"the builder put the guest on {transport}")
    guest = Guest(argv, workdir, transport)
    deadline = Deadline(BOOT_TIMEOUT)
    try:
        guest.start(deadline)
        secs = guest.ready_seconds(deadline)
        log(f"ok: READY=1 arrived {secs:.2f} s after QEMU was spawned")
        check_disk_and_nic(guest, deadline, transport)
        check_every_device(guest, deadline, transport, token)
        guest.quit(deadline)
    finally:
        guest.stop()


def press_power_button(guest, deadline):
    guest.qmp.command("system_powerdown")
    ev = guest.qmp.wait_event("SHUTDOWN", deadline)
    data = ev.get("data", {})
    expect(data.get("guest") is True, f"QEMU reports a guest-initiated shutdown ({data})")
    expect(guest.serial.contains("microvmd-init: power button pressed"),
           "the guest saw the power button")
    status = guest.qmp.command("query-status")
    expect(status.get("status") == "shutdown", f"the guest is shut down ({status})")


DAY = 86400
BAD_TIME_LOG = "microvmd-init: the host's TIME= line is not SEC[.NSEC]"


def guest_clock(guest, deadline):
    """The guest's clock to the nanosecond (busybox date has no %N; adjtimex prints the time,
    its tv_usec in nanoseconds under STA_NANO), and the host's time before and after."""
    before = time.time()
    out = guest.run("echo CLOCK=$(adjtimex | awk '/status:/ { s = $2 } /time.tv_sec:/ { t = $2 } "
                    "/time.tv_usec:/ { u = $2 } END { print t, u, s }')", deadline)
    after = time.time()
    found = re.findall(r"^CLOCK=(\d+) (\d+) (\d+)\r?$", out, re.M)
    if not found:
        raise Failure(f"no clock in the guest's answer: {out[-300:]!r}")
    sec, sub, status = (int(x) for x in found[-1])
    return sec + sub / (1e9 if status & 0x2000 else 1e6), before, after


def wait_clock(guest, deadline, host_to_guest, what, slack=3):
    """Waits until the guest's clock is HOST_TO_GUEST(host time) within SLACK seconds (the
    guest's clock is read in whole seconds at boot, TCG lets it drift, and date -s first sets
    the second, then the next one at the right moment)."""
    while True:
        g, before, after = guest_clock(guest, deadline)
        if host_to_guest(before) - slack <= g <= host_to_guest(after) + slack:
            log(f"ok: {what} (the guest's clock is {g:.3f}, "
                f"{g - host_to_guest((before + after) / 2):+.3f} s off)")
            return g, before, after
        if deadline.left() <= 0:
            raise Failure(f"{what}: the guest's clock is {g:.3f}, "
                          f"{g - host_to_guest(after):+.1f} s off")
        time.sleep(0.2)


def check_clock(guest, deadline, stage, kept):
    """TIME=SEC.NSEC on the ready socket, what the daemon writes after restoring a snapshot,
    sets the guest's clock; anything else is ignored, and a line is never run (KEPT is a
    file that rm -rf / would take)."""
    guest.ready.sock.sendall(b"TIME=abc\nrm -rf /\nTIME=$(touch /tmp/owned)\n")
    deadline.wait_for("the init to turn down two bad TIME= lines",
                      lambda: guest.serial.text().count(BAD_TIME_LOG) >= 2)
    wait_clock(guest, deadline, lambda h: h, f"{stage}: bad lines leave the clock alone", slack=5)
    out = guest.run(f"ls /tmp/owned {kept}", deadline)
    expect(re.search(f"^{kept}\\r?$", out, re.M)
           and re.search(r"/tmp/owned.*(No such|can't)", out),
           f"{stage}: the lines from the host were not run")

    # a day ahead, half a second into the second
    line_time = int(time.time()) + DAY + 0.5
    sent_at = time.time()
    guest.ready.sock.sendall(f"TIME={int(line_time)}.5\n".encode())

    def ahead(host_time):
        return host_time - sent_at + line_time

    wait_clock(guest, deadline, ahead, f"{stage}: TIME= set the guest's clock a day ahead")
    # date -s takes whole seconds: the init sets the next one when it comes. Half a second
    # off either way is what dropping or rounding the fraction would give.
    time.sleep(1.0)
    g, before, after = guest_clock(guest, deadline)
    off = g - ahead((before + after) / 2)
    expect(ahead(before) - 0.4 <= g <= ahead(after) + 0.4,
           f"{stage}: the clock is right to the sub-second ({off:+.3f} s; "
           f"the console answered in {after - before:.3f} s)")

    # and back: a second line works as well, with no fraction
    guest.ready.sock.sendall(f"TIME={int(time.time())}\n".encode())
    wait_clock(guest, deadline, lambda h: h, f"{stage}: a second TIME= set the clock back")


def check_clock_after_reconnect(guest, deadline):
    """A daemon that restarts closes the host end of the port, and connects again when it
    adopts the guest: the guest reads end-of-file meanwhile, then TIME= works again."""
    guest.reconnect_ready(deadline)
    line_time = time.time() + 2 * DAY
    sent_at = time.time()
    guest.ready.sock.sendall(f"TIME={line_time:.9f}\n".encode())
    wait_clock(guest, deadline, lambda h: h - sent_at + line_time,
               "initrd: TIME= sets the clock after the host end of the port reconnected")
    guest.ready.sock.sendall(f"TIME={time.time():.9f}\n".encode())
    wait_clock(guest, deadline, lambda h: h, "initrd: and sets it back")


def case_powerdown(args, workdir):
    argv = builder_argv(args, workdir, guest_file("pcie"))
    guest = Guest(argv, workdir, "powerdown")
    deadline = Deadline(BOOT_TIMEOUT)
    try:
        guest.start(deadline)
        guest.wait_serial("microvmd-init: no root= on the kernel command line", deadline)
        guest.wait_serial("microvmd-init: starting a shell on the console", deadline)
        guest.ready_seconds(deadline)
        check_clock(guest, deadline, "initrd", "/bin/busybox")
        check_clock_after_reconnect(guest, deadline)
        press_power_button(guest, deadline)
        guest.quit(deadline)
    finally:
        guest.stop()


def case_ext4_root(args, workdir):
    mkfs = shutil.which("mkfs.ext4") or "/sbin/mkfs.ext4"
    if not os.path.exists(mkfs):
        log("skip: no mkfs.ext4")
        return SKIP
    token = f"switch-root-reached-{os.getpid()}"
    tree = os.path.join(workdir, "tree")
    for d in ("etc", "run", "dev", "proc", "sys", "tmp"):
        os.makedirs(os.path.join(tree, d))
    with open(os.path.join(tree, "etc", "marker"), "w") as f:
        f.write(token + "\n")
    disk = os.path.join(workdir, "root.ext4")
    subprocess.run([mkfs, "-q", "-F", "-L", "mvmroot", "-d", tree, disk, "32M"],
                   check=True, timeout=60, env=dict(os.environ, E2FSPROGS_FAKE_TIME="0"))
    # root=LABEL= after the builder's root=/dev/vda: the last one wins.
    argv = builder_argv(args, workdir, guest_file("pcie", disk, "root=LABEL=mvmroot"))
    guest = Guest(argv, workdir, "ext4-root")
    deadline = Deadline(BOOT_TIMEOUT)
    try:
        guest.start(deadline)
        guest.wait_serial("microvmd-init: now running in the switched root", deadline)
        guest.wait_serial("microvmd-init: starting a shell on the console", deadline)
        expect(guest.serial.contains("switching to root /dev/vda, which has no init"),
               "/init found the root by LABEL=mvmroot and switched to it")
        secs = guest.ready_seconds(deadline)
        log(f"ok: READY=1 arrived {secs:.2f} s after QEMU was spawned")
        out = guest.run("cat /etc/marker; grep ' / ' /proc/mounts", deadline)
        expect(token in out.replace("cat /etc/marker", ""), "the marker file of the ext4 root is readable at /")
        expect(re.search(r"^/dev/vda / ext4 rw", out, re.M), "/ is the ext4 disk, mounted rw")
        # the network configured in the initrd is handed over: the card keeps its lease,
        # /run/microvmd keeps the settings and the name servers
        out = guest.run("ip -o -4 addr show eth0; cat /run/microvmd/network "
                        "/run/microvmd/resolv.conf", deadline)
        expect("inet 10.0.2.15/24" in out, "eth0 keeps its DHCP address in the switched root")
        expect(re.search(r"^microvmd\.net=52:54:00:[0-9a-f:]+,dhcp\r?$", out, re.M),
               "/run/microvmd/network holds the card's settings")
        expect("nameserver 10.0.2.3" in out, "/run/microvmd/resolv.conf holds the name server")
        # before the write: e2fsck below would find a superblock written a day ahead
        check_clock(guest, deadline, "stage 2", "/etc/marker")
        guest.run("echo written-in-guest > /etc/written", deadline)
        press_power_button(guest, deadline)
        guest.quit(deadline)
    finally:
        guest.stop()
    fsck = subprocess.run(["/sbin/e2fsck", "-fn", disk], capture_output=True, text=True, timeout=60)
    expect(fsck.returncode == 0, f"the ext4 root is clean after the power-off ({fsck.stdout.strip()[-200:]})")
    dump = subprocess.run(["/sbin/debugfs", "-R", "cat /etc/written", disk],
                          capture_output=True, text=True, timeout=60)
    expect("written-in-guest" in dump.stdout, "what the guest wrote reached the disk")
    return 0


def case_ext4_own_init(args, workdir):
    mkfs = shutil.which("mkfs.ext4") or "/sbin/mkfs.ext4"
    if not os.path.exists(mkfs) or not os.path.exists("/bin/busybox"):
        log("skip: no mkfs.ext4 or no /bin/busybox")
        return SKIP
    token = f"own-init-{os.getpid()}"
    tree = os.path.join(workdir, "tree")
    for d in ("bin", "sbin", "etc", "run", "dev", "proc", "sys"):
        os.makedirs(os.path.join(tree, d))
    shutil.copy("/bin/busybox", os.path.join(tree, "bin", "busybox"))
    with open(os.path.join(tree, "etc", "marker"), "w") as f:
        f.write(token + "\n")
    init = os.path.join(tree, "sbin", "init")
    with open(init, "w") as f:
        f.write("#!/bin/busybox sh\n"
                "/bin/busybox echo \"root-init: pid $$ marker $(/bin/busybox cat /etc/marker)\"\n"
                "/bin/busybox echo \"root-init: mounts $(/bin/busybox cut -d' ' -f2 /proc/mounts | "
                "/bin/busybox tr '\\n' ' ')\"\n"
                "/bin/busybox echo \"root-init: network $(/bin/busybox cat /run/microvmd/network)\"\n"
                "/bin/busybox echo root-init: done\n"
                "exec /bin/busybox sleep 3600\n")
    os.chmod(init, 0o755)
    disk = os.path.join(workdir, "root.ext4")
    subprocess.run([mkfs, "-q", "-F", "-d", tree, disk, "32M"], check=True, timeout=60)
    argv = builder_argv(args, workdir, guest_file("pcie", disk))
    guest = Guest(argv, workdir, "ext4-init")
    deadline = Deadline(BOOT_TIMEOUT)
    try:
        guest.start(deadline)
        guest.wait_serial("root-init: done", deadline)
        text = guest.serial.text()
        expect("microvmd-init: switching to root /dev/vda, init /sbin/init" in text,
               "/init handed over to the root's own /sbin/init")
        expect(f"root-init: pid 1 marker {token}" in text, "the root's init runs as PID 1 on the ext4 root")
        mounts = re.search(r"root-init: mounts (.*)", text).group(1).split()
        for m in ("/", "/proc", "/sys", "/dev", "/run"):
            expect(m in mounts, f"{m} is mounted in the new root")
        expect(re.search(r"root-init: network microvmd\.net=52:54:00:[0-9a-f:]+,dhcp", text),
               "the root's own init finds the card's settings in /run/microvmd/network")
        secs = guest.ready_seconds(deadline)
        log(f"ok: READY=1 arrived {secs:.2f} s after QEMU was spawned")
        guest.quit(deadline)
    finally:
        guest.stop()
    return 0


def main():
    # meson's timeout sends SIGTERM; turn it into SystemExit so every
    # finally: runs and QEMU is killed and reaped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=["pcie", "mmio", "ext4-root", "ext4-init", "powerdown"])
    p.add_argument("--microvmd", required=True)
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd", required=True)
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args()

    for path in (args.kernel, args.initrd, args.microvmd):
        if not os.path.exists(path):
            log(f"skip: {path} does not exist")
            return SKIP
    if not shutil.which("qemu-system-x86_64"):
        log("skip: no qemu-system-x86_64")
        return SKIP

    # Short: socket paths must fit in sun_path.
    workdir = tempfile.mkdtemp(prefix="mvm-boot-")
    try:
        if args.case in ("pcie", "mmio"):
            status = case_disk_nic(args, workdir, args.case)
        elif args.case == "powerdown":
            status = case_powerdown(args, workdir)
        elif args.case == "ext4-init":
            status = case_ext4_own_init(args, workdir)
        else:
            status = case_ext4_root(args, workdir)
        return status or 0
    except Failure as e:
        log(f"FAIL: {e}")
        return 1
    finally:
        if args.keep:
            log(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
