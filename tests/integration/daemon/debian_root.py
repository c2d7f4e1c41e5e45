# SPDX-License-Identifier: LGPL-2.1-or-later
"""A Debian 12 root file system as a tarball, made with mmdebstrap from this machine's apt
sources once per build folder (BUILD/tests/debian-root-KEY.tar) and shared by the tests
that boot it: minbase with systemd as init, udev (which names the virtio ports) and D-Bus
(for logind, which turns the ACPI power button into a poweroff)."""

import fcntl
import glob
import hashlib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from support import apt_sources  # noqa: E402

PACKAGES = ["systemd-sysv", "udev", "dbus"]
VERSION = "1"


def debian_root(build_root):
    """The tarball's path, and the seconds it took to make it now (0: it was there)."""
    folder = os.path.join(build_root, "tests")
    os.makedirs(folder, exist_ok=True)
    key = hashlib.sha256(" ".join([VERSION] + PACKAGES).encode()).hexdigest()[:12]
    path = os.path.join(folder, f"debian-root-{key}.tar")
    with open(os.path.join(folder, "debian-root.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(path):
            return path, 0
        for old in glob.glob(os.path.join(folder, "debian-root-*")):
            subprocess.run(["rm", "-rf", old], check=True)
        started = time.monotonic()
        subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase",
                        "--include=" + ",".join(PACKAGES),
                        "--aptopt=APT::Install-Recommends \"false\"",
                        # mmdebstrap picks the output's format by its name: a tarball
                        "bookworm", path + ".part.tar", *apt_sources()],
                       check=True, capture_output=True, timeout=1200)
        os.rename(path + ".part.tar", path)
        return path, time.monotonic() - started
