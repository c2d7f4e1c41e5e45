#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Type=virtiofs shares: a virtiofsd per share beside QEMU, on both transports, next to a 9p
share in the same guest; read-write keeps the guest's owners, read-only refuses writes in
the guest; a virtiofsd that dies fails its guest with a reason. Real daemon (as root: the
daemon starts virtiofsd, which needs root), real virtiofsd, real QEMU."""

import os
import subprocess
import sys

from harness import MICROVMCTL, World, check, run

GUEST = """[Guest]
Memory=192M
Transport={transport}
[Share rw]
Type=virtiofs
Path={rw}
ReadOnly=no
[Share ro]
Type=virtiofs
Path={ro}
[Share nine]
Type=9p
Path={ro}
"""

# typed on the guest's console; the quotes split the markers from their echo
PROBE = ("while ! grep -q virtiofs /proc/filesystems; do sleep 0.2; done; mkdir -p /a /b /c; "
         "mount -t virtiofs rw /a && mount -t virtiofs ro /b && "
         "mount -t 9p -o trans=virtio,version=9p2000.L nine /c && "
         "cat /b/hello.txt /c/hello.txt && echo from-the-guest >/a/made && chown 1000:1001 /a/made "
         "&& mkdir /a/sub && echo W''ROTE-RW; "
         "{ touch /b/new 2>/dev/null && echo WR''OTE-RO || echo REF''USED-RO; }; sync\n")


def make_folders(w):
    rw, ro = os.path.join(w.dir, "shared", "rw"), os.path.join(w.dir, "shared", "ro")
    os.makedirs(rw)
    os.makedirs(ro)
    with open(os.path.join(ro, "hello.txt"), "w") as f:
        f.write("hello from the host\n")
    return rw, ro


def test_virtiofs_both_transports():
    with World() as w:
        rw, ro = make_folders(w)
        for transport in ("pcie", "mmio"):
            name = f"fs-{transport}"
            w.ctl("define", w.write_guest(f"{name}.guest",
                                          GUEST.format(transport=transport, rw=rw, ro=ro)))
            w.ctl("start", name, "--wait-ready")
            r = subprocess.run([MICROVMCTL, "--session", "console", name, "--linger", "3"],
                               env=w.env(), input=PROBE, capture_output=True, text=True,
                               timeout=120)
            check(r.stdout.count("hello from the host") >= 2,
                  f"{transport}: the shares were not readable:\n{r.stdout}")
            check("WROTE-RW" in r.stdout, f"{transport}: the read-write share:\n{r.stdout}")
            made = os.path.join(rw, "made")
            with open(made) as f:
                check(f.read() == "from-the-guest\n", f"{transport}: {made} holds the wrong text")
            st = os.stat(made)
            check((st.st_uid, st.st_gid) == (1000, 1001),
                  f"{transport}: the guest's chown did not reach the host: {st.st_uid}:{st.st_gid}")
            check("REFUSED-RO" in r.stdout and not os.path.exists(os.path.join(ro, "new")),
                  f"{transport}: a read-only virtiofs share was written:\n{r.stdout}")
            w.ctl("stop", name)
            check(not [p for p in w.tagged_pids() if b"virtiofsd" in cmdline(p)],
                  f"{transport}: virtiofsd outlived its guest")
            os.remove(made)
            os.rmdir(os.path.join(rw, "sub"))


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def test_virtiofsd_killed_fails_the_guest():
    with World() as w:
        rw, ro = make_folders(w)
        w.ctl("define", w.write_guest("k.guest", GUEST.format(transport="pcie", rw=rw, ro=ro)))
        w.ctl("start", "k", "--wait-ready")
        daemons = [p for p in w.tagged_pids() if b"virtiofsd" in cmdline(p)]
        # virtiofsd forks once into its own PID namespace: the parent waits for the child
        check(len(daemons) >= 2, f"virtiofsd processes: {daemons}")
        os.kill(min(daemons), 9)
        w.wait_state("k", "crashed", timeout=20)
        check(w.prop("k", "StateReason") == "share-failed", w.prop("k", "StateReason"))
        message = w.prop("k", "StateMessage")
        check("virtiofsd of [Share rw] was killed by signal 9" in message, message)
        check(w.qemu_pids() == [], "QEMU outlived its share")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
