# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real systemd host for one test: a Debian 12 root booted with systemd-nspawn, systemd as
its PID 1, its own system bus, polkitd and machined, with microvmd installed the way a user
installs it (meson install into /usr, then sysusers, tmpfiles and daemon-reload).

The root is built once per build folder and shared: mmdebstrap makes the Debian part
(tests/host/base-KEY, KEY naming the package list), and `meson install` of a --prefix=/usr
build of this checkout makes the microvmd part (tests/host/install-HASH, HASH naming its
content). Each Box lays a writable overlay over the two, so a test changes only its own copy,
and a reboot keeps what the test wrote, as a disk would.

The test drives the box from outside with nsenter into the namespaces of its PID 1, under
`env -i`. Teardown kills the box's PID 1 (which ends every process in its PID namespace, the
guests' QEMUs among them), unmounts the overlay and removes it, pass or fail."""

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import support  # noqa: E402
from support import TestFailure, check, wait_for  # noqa: E402,F401

BUILD = os.environ.get("MICROVMD_BUILD_ROOT", os.path.abspath("build"))
SOURCE = os.environ.get("MICROVMD_SOURCE_ROOT", os.path.abspath("."))
HOST_DIR = os.path.join(BUILD, "tests", "host")

# What a host that runs microvmd has, and what the tests use on it. The kernel and initrd
# come with microvmd (built from this machine's kernel), so no linux-image here.
PACKAGES = ["systemd", "systemd-sysv", "dbus", "polkitd", "systemd-container",
            "qemu-system-x86", "passt", "libglib2.0-0", "libjson-glib-1.0-0", "libsystemd0",
            "libarchive13", "libext2fs2", "e2fsprogs", "procps", "iproute2"]
BASE_VERSION = "1"

BOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BOOT_TIMEOUT = 120


class Skip(Exception):
    """This machine cannot run the suite (not root, no systemd-nspawn or mmdebstrap)."""


def log(message):
    print(f"# {message}", flush=True)


# --- the shared root -------------------------------------------------------------------

@contextlib.contextmanager
def _locked():
    os.makedirs(HOST_DIR, exist_ok=True)
    with open(os.path.join(HOST_DIR, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _base():
    key = hashlib.sha256(" ".join([BASE_VERSION] + PACKAGES).encode()).hexdigest()[:12]
    base = os.path.join(HOST_DIR, f"base-{key}")
    if os.path.exists(base + ".complete"):
        return base
    for old in glob.glob(os.path.join(HOST_DIR, "base-*")):
        if os.path.isdir(old):
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.unlink(old)
    started = time.monotonic()
    r = subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase",
                        "--include=" + ",".join(PACKAGES),
                        "--aptopt=APT::Install-Recommends \"false\"",
                        "bookworm", base + ".tmp", *support.apt_sources()],
                       capture_output=True, text=True, timeout=1200)
    if r.returncode != 0:
        shutil.rmtree(base + ".tmp", ignore_errors=True)
        raise TestFailure(f"mmdebstrap failed ({r.returncode}):\n{r.stderr[-4000:]}")
    os.rename(base + ".tmp", base)
    open(base + ".complete", "w").close()
    log(f"built the Debian root in {time.monotonic() - started:.0f} s: {base}")
    return base


def _tree_hash(root):
    h = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = os.path.join(folder, name)
            h.update(os.path.relpath(path, root).encode() + b"\0")
            st = os.lstat(path)
            h.update(f"{st.st_mode:o}".encode())
            if os.path.islink(path):
                h.update(os.readlink(path).encode())
            else:
                with open(path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
    return h.hexdigest()[:12]


def _in_use(folder):
    with open("/proc/self/mountinfo") as f:
        return folder in f.read()


def _install():
    """microvmd as `meson install` puts it on a host: a --prefix=/usr build of this checkout,
    installed into a folder of its own."""
    build = os.path.join(HOST_DIR, "usr-build")
    if not os.path.exists(os.path.join(build, "build.ninja")):
        subprocess.run(["meson", "setup", "--prefix=/usr", "-Dtests=false", build, SOURCE],
                       check=True, capture_output=True, timeout=300)
    tmp = os.path.join(HOST_DIR, "install.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for argv in (["meson", "compile", "-C", build],
                 ["meson", "install", "-C", build, "--quiet", "--no-rebuild", "--destdir", tmp]):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise TestFailure(f"{' '.join(argv)} failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
    install = os.path.join(HOST_DIR, "install-" + _tree_hash(tmp))
    if os.path.exists(install):
        shutil.rmtree(tmp)
    else:
        os.rename(tmp, install)
    for old in glob.glob(os.path.join(HOST_DIR, "install-*")):
        if old != install and not _in_use(old):
            shutil.rmtree(old, ignore_errors=True)
    return install


def _status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except OSError:
        return {}


def _pid1_of(nspawn_pid):
    """A box's init: the process below systemd-nspawn that is PID 1 of its namespace."""
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = _status(entry)
        nspid = fields.get("NSpid", "").split()
        if fields.get("PPid") == str(nspawn_pid) and len(nspid) > 1 and nspid[-1] == "1":
            return int(entry)
    return None


def _kill_nspawns_of(root):
    """Ends the systemd-nspawn running ROOT and its box: killing the box's PID 1 ends every
    process in its PID namespace."""
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"systemd-nspawn") and root.encode() in argv:
            for pid in (_pid1_of(entry), int(entry)):
                with contextlib.suppress(ProcessLookupError, TypeError):
                    os.kill(pid, signal.SIGKILL)


def _sweep_boxes():
    """Boxes left by a test process that died without its teardown (SIGKILL)."""
    for folder in glob.glob(os.path.join(HOST_DIR, "boxes", "*")):
        pid = folder.rsplit("-", 1)[-1]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            _kill_nspawns_of(os.path.join(folder, "root"))
            time.sleep(0.5)
            _unmount(os.path.join(folder, "root"))
            shutil.rmtree(folder, ignore_errors=True)


def _unmount(path):
    if _in_use(" " + path + " "):
        if subprocess.run(["umount", path], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", path], capture_output=True)


_layers = None


def shared_root():
    """(base, install): the two read-only layers every box is made of; made or checked once
    per test process."""
    global _layers
    if _layers:
        return _layers
    if os.geteuid() != 0:
        raise Skip("the host suite needs root (mounts, systemd-nspawn)")
    for tool in ("mmdebstrap", "systemd-nspawn", "nsenter"):
        if not shutil.which(tool):
            raise Skip(f"{tool} is not installed (scripts/install-deps.sh installs it)")
    with _locked():
        _sweep_boxes()
        _layers = (_base(), _install())
        return _layers


# --- one booted host -------------------------------------------------------------------

class Box:
    """One systemd host. Use as a context manager: it is booted on entry and gone on exit."""

    def __init__(self, name):
        base, install = shared_root()
        self.name = name
        self.dir = os.path.join(HOST_DIR, "boxes", f"{name}-{os.getpid()}")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.root = os.path.join(self.dir, "root")
        for sub in ("upper", "work", "root"):
            os.makedirs(os.path.join(self.dir, sub))
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        f"lowerdir={install}:{base},upperdir={self.dir}/upper,"
                        f"workdir={self.dir}/work", self.root],
                       check=True, capture_output=True, timeout=30)
        self.nspawn = None
        self.pid1 = None
        self.boots = 0

    def __enter__(self):
        try:
            self.boot()
            self.setup_microvmd()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:  # the console carries the journal too
            sys.stderr.write(f"--- console of box {self.name} ---\n{self.console()[-8000:]}\n")
        self.close()
        return False

    # --- life --------------------------------------------------------------------------
    def boot(self):
        """Boots the box and waits until systemd says the system is running."""
        self.boots += 1
        self.console_path = os.path.join(self.dir, f"console-{self.boots}.log")
        with open(self.console_path, "w") as console:
            self.nspawn = subprocess.Popen(
                ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit",
                 "--private-network", "--machine", self.name, "-D", self.root,
                 "--console=pipe", "-b"],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.pid1 = wait_for("the box's PID 1", self._find_pid1, timeout=30, interval=0.05)
        # before PID 1 listens, systemctl says "offline" at once, even with --wait
        state = wait_for("the box's systemd to finish starting", self._settled,
                         timeout=BOOT_TIMEOUT)
        if state != "running":
            failed = self.run("systemctl", "--failed", "--no-legend", check=False).stdout
            raise TestFailure(f"box {self.name}: system is {state!r}; "
                              f"failed units:\n{failed}")

    def _settled(self):
        state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
        return state if state not in ("offline", "initializing", "starting", "") else None

    def _find_pid1(self):
        if self.nspawn.poll() is not None:
            raise TestFailure(f"systemd-nspawn exited with {self.nspawn.returncode}:\n"
                              f"{self.console()[-3000:]}")
        return _pid1_of(self.nspawn.pid)

    def setup_microvmd(self):
        """What a user does after `meson install`: the users and folders microvmd's sysusers
        and tmpfiles files name, and systemd reading the new units."""
        self.run("systemd-sysusers")
        self.run("systemd-tmpfiles", "--create")
        self.run("systemctl", "daemon-reload")
        self.run("systemctl", "reload", "dbus")

    def wait_exit(self, timeout=120):
        """Waits for the box to end on its own (poweroff or reboot inside); returns
        systemd-nspawn's exit status (133 after a reboot)."""
        status = self.nspawn.wait(timeout=timeout)
        self.pid1 = None
        return status

    def console(self):
        try:
            with open(self.console_path, errors="replace") as f:
                return f.read()
        except (OSError, AttributeError):
            return ""

    def close(self):
        if self.nspawn and self.nspawn.poll() is None:
            if self.pid1:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid1, signal.SIGKILL)
            try:
                self.nspawn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.nspawn.pid, signal.SIGKILL)
                self.nspawn.wait(timeout=30)
        self.pid1 = None
        _unmount(self.root)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- commands inside ---------------------------------------------------------------
    def popen(self, *argv, user=None, **kwargs):
        """Starts ARGV inside the box, as root or as USER (with that user's groups), with a
        clean environment."""
        check(self.pid1, f"box {self.name} is not running")
        prefix = ["nsenter", "-t", str(self.pid1), "-a", "-r", "-w", "--",
                  "env", "-i", f"PATH={BOX_PATH}", "LANG=C.UTF-8", "SYSTEMD_COLORS=0"]
        if user:
            prefix += ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
        # a process group of its own: a timeout ends the command inside too, not just nsenter
        return subprocess.Popen(prefix + list(argv), start_new_session=True, **kwargs)

    def run(self, *argv, user=None, check=True, timeout=120, input=None):
        p = self.popen(*argv, user=user, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            raise TestFailure(f"box {self.name}: {' '.join(argv)} took over {timeout} s\n"
                              f"stdout: {out}\nstderr: {err}")
        r = subprocess.CompletedProcess(argv, p.returncode, out, err)
        if check and r.returncode != 0:
            raise TestFailure(f"box {self.name}: {' '.join(argv)}"
                              f"{' as ' + user if user else ''}: exit {r.returncode}\n"
                              f"stdout: {out}\nstderr: {err}")
        return r

    def ctl(self, *args, user=None, expect=0, timeout=180):
        """microvmctl ARGS inside the box, on its system bus; checks the exit status."""
        r = self.run("microvmctl", *args, user=user, check=False, timeout=timeout)
        if expect is not None and r.returncode != expect:
            raise TestFailure(f"microvmctl {' '.join(args)}{' as ' + user if user else ''}: "
                              f"exit {r.returncode}, expected {expect}\n"
                              f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def write(self, path, text, user=None):
        """Writes a file inside the box, as root or as USER."""
        self.run("sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "sh", path,
                 input=text, user=user)

    def show(self, unit, prop):
        return self.run("systemctl", "show", "-P", prop, unit).stdout.strip()

    def define(self, name, text, user=None):
        """Writes /tmp/NAME.guest as USER (default root) and defines it as that user."""
        path = f"/tmp/{name}.guest"
        self.write(path, text, user=user)
        self.ctl("define", path, user=user)

    def guest(self, name, user=None):
        """The guest's properties, as `microvmctl status --json` prints them."""
        return json.loads(self.ctl("status", name, "--json", user=user).stdout)

    def wait_guest(self, name, state, timeout=90):
        return wait_for(f"guest {name} {state}",
                        lambda: (g := self.guest(name))["State"] == state and g,
                        timeout=timeout)

    def main_pid(self, unit="microvmd.service"):
        return int(self.show(unit, "MainPID"))

    def qemu_pids(self, name):
        """The PIDs (as the box numbers them) of QEMUs running guest NAME."""
        r = self.run("pgrep", "-f", f"^/usr/bin/qemu-system-x86_64 -name guest={name},",
                     check=False)
        return sorted(int(p) for p in r.stdout.split())


# --- running a suite ----------------------------------------------------------------

def run(tests):
    """Runs the named test functions and prints TAP; a machine that cannot run the suite
    makes it skip as a whole (exit 77), never pass."""
    # meson's timeout sends SIGTERM: tear the box down as for a failure
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        shared_root()
    except Skip as e:
        print(f"1..0 # SKIP {e}", flush=True)
        return 77
    return support.run(tests)
