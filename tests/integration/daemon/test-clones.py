#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Disks from images, and clones: a writable Image= disk writes to the guest's own overlay
and never to the image, across restarts; Ephemeral=yes forgets its writes at each stop;
microvmctl clone gives guests that do not see each other's writes (linked: from the image as
imported; --full: with the source's writes); what cannot be cloned safely is refused by name;
undefine takes a guest's overlays with it. Real daemon, real QEMU under TCG, checked from
inside the guests."""

import hashlib
import json
import os
import subprocess

import image_fixtures as fx
from harness import World, check, run


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def data_dir(w, *names):
    """the daemon's own folder of guest disks, STATE/guests"""
    return os.path.join(w.dir, "state", "guests", *names)


def import_web(w):
    w.ctl("image", "import", "web", w.write_file("oci.tar", fx.oci_archive(fx.NO_COMMAND)))
    return os.path.join(w.dir, "state", "images", "web.ext4")


def define(w, name, disk_extra="", extra=""):
    w.ctl("define", w.write_guest(name + ".guest", f"[Guest]\nName={name}\nMemory=160M\n{extra}"
                                  f"[Disk root]\nImage=web\n{disk_extra}"))


def boot(w, *names):
    for name in names:
        w.ctl("start", name, "--wait-ready")


def stop(w, *names):
    for name in names:
        w.ctl("stop", name)


def sees(w, name, file):
    return "YES" in w.shell(name, f"[ -e {file} ] && echo Y''ES || echo NO")


def test_image_disk_writes_to_its_overlay():
    """The image stays as imported; the guest's writes stay in its own overlay, across a
    restart and a daemon restart."""
    with World() as w:
        image = import_web(w)
        before = sha(image)
        define(w, "src")
        boot(w, "src")
        w.shell("src", "echo mine > /etc/from-src")
        stop(w, "src")
        check(sha(image) == before, "the guest wrote into the image")
        overlay = data_dir(w, "src", "root.qcow2")
        info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", overlay],
                                         capture_output=True, text=True, check=True).stdout)
        check(info["format"] == "qcow2" and "backing-filename" not in info
              and info["virtual-size"] == os.path.getsize(image), info)
        w.restart_daemon()
        boot(w, "src")
        check("mine" in w.shell("src", "cat /etc/from-src"), "the write was lost at restart")
        stats = json.loads(w.ctl("--json", "stats", "src").stdout)
        check(any(k.startswith("block.disk0.") for k in stats), f"no counters of disk0: {stats}")
        stop(w, "src")
        check(sha(image) == before, "the guest wrote into the image")


def test_ephemeral_forgets():
    """The writes go to an overlay the daemon makes in the guest's runtime folder, afresh at
    each start, and removes at the stop; the image stays as imported."""
    with World() as w:
        image = import_web(w)
        before = sha(image)
        define(w, "eph", "Ephemeral=yes\n")
        boot(w, "eph")
        overlay = w.runtime("eph", "root.ephemeral.qcow2")
        check(os.path.isfile(overlay), f"no overlay at {overlay} while the guest runs")
        st = os.stat(overlay)
        # the daemon's, like a writable Image= disk's: the confined QEMU gets it open
        check(st.st_uid == os.getuid() and (st.st_mode & 0o777) == 0o600,
              f"overlay owned by {st.st_uid}, mode {oct(st.st_mode)}")
        w.shell("eph", "echo gone > /etc/scratch")
        check(sees(w, "eph", "/etc/scratch"), "the write did not land at all")
        stop(w, "eph")
        check(not os.path.exists(overlay), f"{overlay} outlived the stop")
        check(sha(image) == before, "the guest wrote into the image")
        boot(w, "eph")
        check(not sees(w, "eph", "/etc/scratch"), "Ephemeral=yes kept a write across a restart")
        stop(w, "eph")
        check(not os.path.exists(overlay), f"{overlay} outlived the stop")
        check(not os.path.exists(data_dir(w, "eph")), "an ephemeral disk left an overlay")


def test_clones_do_not_see_each_other():
    with World() as w:
        import_web(w)
        define(w, "src", extra="Autostart=yes\n")
        boot(w, "src")
        w.shell("src", "echo src > /etc/from-src")

        # linked, while the source runs: the image as imported, a name and MAC of its own
        r = w.ctl("clone", "src", "lin")
        check("guest lin: defined as a clone of src" in r.stdout, r.stdout)
        text = open(w.guest_file("lin")).read()
        check("Name=lin" in text and "Autostart" not in text, text)
        check(w.prop("lin", "UUID") != w.prop("src", "UUID"), "the clone kept the UUID")
        used_by = json.loads(w.ctl("--json", "image", "list").stdout)[0]["UsedBy"]
        check(sorted(used_by) == ["lin", "src"], used_by)
        boot(w, "lin")
        check(not sees(w, "lin", "/etc/from-src"), "a linked clone sees its source's writes")
        w.shell("lin", "echo lin > /etc/from-lin")
        check(not sees(w, "src", "/etc/from-lin"), "the source sees its clone's writes")

        # full: the source's writes too, only while it is stopped
        r = w.ctl("clone", "src", "full", "--full", expect=1)
        check("guest src is running: stop it first" in r.stderr, r.stderr)
        stop(w, "src", "lin")
        w.ctl("clone", "src", "full", "--full")
        boot(w, "full")
        check("src" in w.shell("full", "cat /etc/from-src"), "--full lost the source's writes")
        w.shell("full", "echo full > /etc/from-full")
        stop(w, "full")
        boot(w, "src")
        check(not sees(w, "src", "/etc/from-full"), "the source sees its full clone's writes")
        stop(w, "src")

        r = w.ctl("clone", "src", "lin", expect=1)
        check("cannot clone it as lin: a guest by that name exists" in r.stderr, r.stderr)
        for name in ("lin", "full"):
            check(os.path.exists(data_dir(w, name, "root.qcow2")), f"{name} has no overlay")
            w.ctl("undefine", name)
            check(not os.path.exists(data_dir(w, name)), f"undefine left {name}'s overlays")


def test_path_disks():
    """A Path= disk the source writes in place: a linked clone is refused by name, --full
    copies it into the clone's own folder, where the clone may use it; read-only disks are
    shared as they are."""
    with World() as w:
        data = w.make_disk("data.raw")
        with open(data, "r+b") as f:
            f.write(b"source's data")
        seed = w.make_disk("seed.raw")
        w.ctl("define", w.write_guest("p.guest", f"[Guest]\nName=p\n[Disk data]\nPath={data}\n"
                                      f"[Disk seed]\nPath={seed}\nReadOnly=yes\n"))
        r = w.ctl("clone", "p", "q", expect=1)
        check(f"guest p: [Disk data] Path={data} is written in place" in r.stderr
              and "clone --full copies it" in r.stderr, r.stderr)
        check("q" not in w.ctl("list").stdout.split(), "a refused clone was defined")
        w.ctl("clone", "p", "q", "--full")
        copy = data_dir(w, "q", "copy-data.raw")
        text = open(w.guest_file("q")).read()
        check(f"Path={copy}\n" in text and f"Path={seed}\n" in text, text)
        check(sha(copy) == sha(data), "the copy differs from the source's disk")
        check(os.stat(copy).st_blocks < os.stat(data).st_size // 512, "the copy is not sparse")
        boot(w, "q")  # the copy opens under the daemon's policy: it is the clone's own
        stop(w, "q")
        w.ctl("undefine", "q")
        check(not os.path.exists(data_dir(w, "q")), "undefine left the copy")


if __name__ == "__main__":
    import sys
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
