#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Debian package (issue 12): built from a clean copy of the checkout with
dpkg-buildpackage, judged by lintian, installed on this machine with dpkg -i as a user
installs it, checked as installed (the binaries, microvmd --check on an example, sysusers
and tmpfiles applied, the guest kernel made from this machine's kernel by the postinst and
by the kernel hook), then purged: nothing may be left but the group microvm, which Debian
keeps (system accounts are never removed, since files may still carry their ids).

Each step is one TAP line and needs the ones before it. The package is purged at the end
whatever happened, and on meson's SIGTERM, so the machine is left as it was. Needs root; a
machine where microvmd is already installed (as a package or by meson install) is left
alone and the suite skips."""

import glob
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from support import check, run  # noqa: E402

SOURCE = os.environ.get("MICROVMD_SOURCE_ROOT", os.path.abspath("."))
BUILD = os.environ.get("MICROVMD_BUILD_ROOT", os.path.abspath("build"))
PACKAGE = "microvmd"
GUEST_KERNEL_DIR = "/var/lib/microvmd/guest-kernel"
# What the package puts in the file system, each of what the issue lists.
SHIPPED = [
    "usr/sbin/microvmd",
    "usr/bin/microvmctl",
    "lib/systemd/system/microvmd.service",
    "lib/systemd/system/microvm@.service",
    "usr/share/dbus-1/system.d/org.microvmd1.conf",
    "usr/share/dbus-1/system-services/org.microvmd1.service",
    "usr/share/polkit-1/actions/org.microvmd1.policy",
    "usr/share/polkit-1/rules.d/50-microvmd.rules",
    "usr/lib/sysusers.d/microvmd.conf",
    "usr/lib/tmpfiles.d/microvmd.conf",
    "usr/share/man/man8/microvmd.8.gz",
    "usr/share/man/man1/microvmctl.1.gz",
    "usr/share/man/man5/microvmd.conf.5.gz",
    "usr/share/man/man5/microvm.guest.5.gz",
    "usr/share/bash-completion/completions/microvmctl",
    "usr/libexec/microvmd/update-guest-kernel",
    "etc/kernel/postinst.d/microvmd",
]
# Scanned before the install and after the purge; what is new there and names microvmd is
# left over. Only paths with the name count: the other developers on a shared machine
# change these trees too.
SCANNED = ["/etc", "/usr", "/var", "/run", "/opt", "/srv", "/boot"]
NOT_SCANNED = ["/var/tmp", "/var/cache/apt", "/var/lib/apt"]


class Skip(Exception):
    pass


def log(message):
    print(f"# {message}", flush=True)


def sh(*argv, check_status=True, timeout=600, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check_status and r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).splitlines()[-40:])
        raise AssertionError(f"{' '.join(argv)} exited {r.returncode}:\n{tail}")
    return r


def meson_version():
    with open(os.path.join(SOURCE, "meson.build")) as f:
        return re.search(r"version:\s*'([^']+)'", f.read()).group(1)


def newest_kernel():
    images = glob.glob("/boot/vmlinuz-*")
    check(images, "this machine has no /boot/vmlinuz-* (scripts/install-deps.sh installs one)")
    newest = sh("sh", "-c", "ls -1 /boot/vmlinuz-* | sort -V | tail -n 1").stdout.strip()
    return newest[len("/boot/vmlinuz-"):]


def installed_version():
    r = sh("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", PACKAGE,
           check_status=False)
    return r.stdout.split() if r.returncode == 0 and r.stdout.strip() else None


def snapshot():
    """Every path under SCANNED, but for NOT_SCANNED, the source and the build folders."""
    skip = set(NOT_SCANNED) | {os.path.realpath(SOURCE), os.path.realpath(BUILD)}
    paths = set()
    for root in SCANNED:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip
                       and not os.path.ismount(os.path.join(folder, d))]
            paths.add(folder)
            paths.update(os.path.join(folder, f) for f in files)
    return paths


def group_exists(name):
    try:
        return grp.getgrnam(name) is not None
    except KeyError:
        return False


def tmpfiles_folders():
    """(path, mode, user, group) of each 'd' line of units/microvmd.tmpfiles"""
    folders = []
    with open(os.path.join(SOURCE, "units", "microvmd.tmpfiles")) as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] == "d":
                folders.append((fields[1], int(fields[2], 8), fields[3], fields[4]))
    check(folders, "units/microvmd.tmpfiles names no folder")
    return folders


class PackageTest:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="mvd-package-")
        self.src = os.path.join(self.tmp, f"{PACKAGE}-{meson_version()}")
        self.deb = None
        self.changes = None
        self.dsc = None
        self.before = None
        self.installed_by_us = False
        self.kver = None

    # --- the steps, in order ----------------------------------------------------------

    def test_build(self):
        """dpkg-buildpackage -b -us -uc on the files git knows (tracked, and new ones not
        ignored), as a clean checkout has them: no build folders."""
        files = sh("git", "-C", SOURCE, "ls-files", "-z", "--cached", "--others",
                   "--exclude-standard").stdout.split("\0")
        for name in filter(None, files):
            path = os.path.join(SOURCE, name)
            if os.path.lexists(path):  # a tracked file deleted in the work tree is not copied
                os.makedirs(os.path.dirname(os.path.join(self.src, name)), exist_ok=True)
                shutil.copy2(path, os.path.join(self.src, name), follow_symlinks=False)
        version = sh("dpkg-parsechangelog", "-S", "Version", cwd=self.src).stdout.strip()
        check(version == meson_version(),
              f"debian/changelog says {version}, meson.build {meson_version()}: keep them in step")
        # the source package too, for lintian's checks of debian/ (3.0 (native): a tarball)
        sh("dpkg-source", "-b", os.path.basename(self.src), cwd=self.tmp)
        self.dsc = os.path.join(self.tmp, f"{PACKAGE}_{version}.dsc")
        env = {k: v for k, v in os.environ.items()
               if k not in ("MALLOC_PERTURB_", "G_DEBUG") and not k.startswith("MESON")}
        started = time.monotonic()
        r = sh("dpkg-buildpackage", "-b", "-us", "-uc", cwd=self.src, env=env,
               check_status=False, timeout=1200)
        log(f"dpkg-buildpackage took {time.monotonic() - started:.1f} s")
        with open(os.path.join(self.tmp, "build.log"), "w") as f:
            f.write(r.stdout + r.stderr)
        check(r.returncode == 0, f"dpkg-buildpackage exited {r.returncode}:\n"
              + "\n".join((r.stdout + r.stderr).splitlines()[-40:]))
        self.deb = os.path.join(self.tmp, f"{PACKAGE}_{version}_amd64.deb")
        self.changes = os.path.join(self.tmp, f"{PACKAGE}_{version}_amd64.changes")
        check(os.path.exists(self.deb) and os.path.exists(self.changes),
              f"no {self.deb} or .changes: {os.listdir(self.tmp)}")

        # lines of tar tv: mode, owners, size, date, time, ./path[ -> target]
        listing = {line.split(maxsplit=5)[5].split(" -> ")[0].removeprefix("./").rstrip("/")
                   for line in sh("dpkg-deb", "-c", self.deb).stdout.splitlines()}
        missing = [p for p in SHIPPED if p not in listing]
        check(not missing, f"the package lacks {missing}")
        check(not any(p.startswith("usr/share/cockpit") for p in listing),
              "the Cockpit page is in microvmd's package, not in its own")
        page = os.path.join(self.tmp, f"cockpit-{PACKAGE}_{version}_all.deb")
        check(os.path.exists(page), f"no {page}: {os.listdir(self.tmp)}")
        page_files = sh("dpkg-deb", "-c", page).stdout
        check("./usr/share/cockpit/microvmd/manifest.json" in page_files, page_files)
        made_here = [p for p in listing if re.search(r"(^|/)(vmlinux|initrd\.img)$", p)]
        check(not made_here, f"the package ships a guest kernel made on the build machine: "
              f"{made_here}; the host makes its own")

    def test_lintian(self):
        """The source package and the binary ones, as a Debian upload would be judged."""
        check(self.changes and self.dsc, "no package was built")
        started = time.monotonic()
        r = sh("lintian", "--display-info", self.dsc, self.changes, check_status=False)
        log(f"lintian took {time.monotonic() - started:.1f} s")
        for line in r.stdout.splitlines():
            log(line)
        bad = [line for line in r.stdout.splitlines() if re.match(r"[EW]: ", line)]
        check(not bad, "lintian reports errors or warnings:\n" + "\n".join(bad))
        check(r.returncode == 0, f"lintian exited {r.returncode}: {r.stderr.strip()}")

    def test_install(self):
        check(self.deb, "no package was built")
        self.before = snapshot()
        self.kver = newest_kernel()
        self.installed_by_us = True
        started = time.monotonic()
        r = sh("dpkg", "-i", self.deb, check_status=False)
        log(f"dpkg -i took {time.monotonic() - started:.1f} s")
        for line in (r.stdout + r.stderr).splitlines():
            log(line)
        check(r.returncode == 0, f"dpkg -i exited {r.returncode}")
        check(installed_version() == ["installed", meson_version()],
              f"dpkg says {installed_version()}")

    def test_installed_binaries(self):
        self.need_installed()
        version = meson_version()
        for binary in ("/usr/bin/microvmctl", "/usr/sbin/microvmd"):
            out = sh(binary, "--version").stdout.strip()
            check(out == f"{os.path.basename(binary)} {version}", f"{binary}: {out!r}")
        # the example as a user checks it: the default guest kernel the postinst made
        with tempfile.TemporaryDirectory() as sockets:
            r = sh("/usr/sbin/microvmd", "--check", "--socket-dir", sockets,
                   os.path.join(SOURCE, "examples", "demo.guest"), check_status=False)
        check(r.returncode == 0, f"microvmd --check exited {r.returncode}: {r.stderr}")
        argv = r.stdout.splitlines()
        check(argv and argv[0].endswith("qemu-system-x86_64"), f"not a QEMU argv: {argv[:3]}")
        for option, path in (("-kernel", "vmlinux"), ("-initrd", "initrd.img")):
            want = os.path.join(GUEST_KERNEL_DIR, path)
            check(option in argv and argv[argv.index(option) + 1] == want,
                  f"{option} is not {want}: {' '.join(argv)}")

    def test_sysusers_and_tmpfiles(self):
        self.need_installed()
        check(group_exists("microvm"), "sysusers did not create the group microvm")
        for path, mode, user, group in tmpfiles_folders():
            check(os.path.isdir(path), f"tmpfiles did not create {path}")
            st = os.stat(path)
            got = (st.st_mode & 0o7777, pwd.getpwuid(st.st_uid).pw_name,
                   grp.getgrgid(st.st_gid).gr_name)
            check(got == (mode, user, group),
                  f"{path}: {got[0]:o} {got[1]}:{got[2]}, not {mode:o} {user}:{group}")
        # debhelper's scripts cope without systemd as PID 1: enabled, not started
        link = "/etc/systemd/system/multi-user.target.wants/microvmd.service"
        check(os.path.islink(link), f"microvmd.service was not enabled: no {link}")

    def test_guest_kernel(self):
        """The postinst made it from this machine's newest kernel; the kernel hook makes the
        same again, silently on stdout; both match what the source's scripts make."""
        self.need_installed()
        files = ("vmlinux", "initrd.img", "kernel-release")
        made = {}
        for f in files:
            path = os.path.join(GUEST_KERNEL_DIR, f)
            check(os.path.isfile(path), f"the postinst did not make {path}")
            with open(path, "rb") as fh:
                made[f] = fh.read()
        check(made["kernel-release"].decode().strip() == self.kver,
              f"made from {made['kernel-release']!r}, not this machine's newest kernel {self.kver}")

        shutil.rmtree(GUEST_KERNEL_DIR)
        started = time.monotonic()
        r = sh("/etc/kernel/postinst.d/microvmd", self.kver, f"/boot/vmlinuz-{self.kver}")
        log(f"the kernel hook took {time.monotonic() - started:.1f} s")
        check(r.stdout == "", f"the kernel hook wrote on stdout: {r.stdout!r}")
        for f in files:
            with open(os.path.join(GUEST_KERNEL_DIR, f), "rb") as fh:
                check(fh.read() == made[f], f"the kernel hook made another {f}")

        scripts = os.path.join(SOURCE, "guest-kernel")
        with tempfile.TemporaryDirectory() as d:
            sh("sh", os.path.join(scripts, "extract-vmlinux.sh"), f"/boot/vmlinuz-{self.kver}",
               os.path.join(d, "vmlinux"))
            sh("sh", os.path.join(scripts, "build-initrd.sh"), "-k", self.kver,
               os.path.join(d, "initrd.img"))
            for f in ("vmlinux", "initrd.img"):
                with open(os.path.join(d, f), "rb") as fh:
                    check(fh.read() == made[f],
                          f"{f} differs from what guest-kernel/ makes from {self.kver}")

    def test_remove_keeps_a_harmless_hook(self):
        """dpkg -r keeps conffiles: the kernel hook stays, and a kernel installed later must
        not fail on it now that update-guest-kernel is gone."""
        self.need_installed()
        sh("dpkg", "-r", PACKAGE)
        check(installed_version() == ["config-files", meson_version()],
              f"dpkg says {installed_version()} after dpkg -r")
        hook = "/etc/kernel/postinst.d/microvmd"
        check(os.path.exists(hook), f"dpkg -r removed the conffile {hook}")
        r = sh(hook, self.kver, f"/boot/vmlinuz-{self.kver}", check_status=False)
        check((r.returncode, r.stdout, r.stderr) == (0, "", ""),
              f"the hook of a removed microvmd: exit {r.returncode}, {r.stdout!r} {r.stderr!r}")

    def test_purge(self):
        check(self.installed_by_us and installed_version(), "the package was not installed")
        check(self.purge(), "dpkg --purge failed")
        check(installed_version() is None, f"dpkg still knows {PACKAGE}: {installed_version()}")
        left = sorted(p for p in snapshot() - self.before if "microvm" in p)
        check(not left, "left after the purge:\n" + "\n".join(left))
        # what Debian keeps: the group (sysusers made no user)
        check(group_exists("microvm"), "the purge removed the group microvm, which Debian keeps")

    # --- helpers ----------------------------------------------------------------------

    def need_installed(self):
        check(self.installed_by_us and installed_version() == ["installed", meson_version()],
              f"the package is not installed: {installed_version()}")

    def purge(self):
        """dpkg --purge, if this test installed the package; True when it succeeded."""
        if not self.installed_by_us or installed_version() is None:
            return True
        started = time.monotonic()
        r = sh("dpkg", "--purge", PACKAGE, check_status=False)
        log(f"dpkg --purge took {time.monotonic() - started:.1f} s")
        for line in (r.stdout + r.stderr).splitlines():
            log(line)
        return r.returncode == 0

    def cleanup(self):
        if not self.purge():
            log(f"dpkg --purge {PACKAGE} failed; remove it by hand")
        shutil.rmtree(self.tmp, ignore_errors=True)


def preflight():
    if os.geteuid() != 0:
        raise Skip("the package test needs root (dpkg -i)")
    for tool in ("dpkg-buildpackage", "dh", "lintian", "git"):
        if not shutil.which(tool):
            raise Skip(f"{tool} is not installed (scripts/install-deps.sh installs it)")
    if installed_version() is not None:
        raise Skip(f"{PACKAGE} is installed on this machine ({installed_version()}); "
                   "the test would replace and purge it")
    for path in ("/usr/sbin/microvmd", "/usr/bin/microvmctl"):
        if os.path.exists(path):
            raise Skip(f"{path} exists (meson install?); the package would overwrite it")


def main():
    # meson's timeout sends SIGTERM: purge as for a failure
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        preflight()
    except Skip as e:
        print(f"1..0 # SKIP {e}", flush=True)
        return 77
    t = PackageTest()
    started = time.monotonic()
    try:
        steps = ["test_build", "test_lintian", "test_install", "test_installed_binaries",
                 "test_sysusers_and_tmpfiles", "test_guest_kernel",
                 "test_remove_keeps_a_harmless_hook", "test_purge"]
        return run({name: getattr(t, name) for name in steps})
    finally:
        t.cleanup()
        log(f"the package test took {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
