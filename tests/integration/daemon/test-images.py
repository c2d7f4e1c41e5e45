#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Images: microvmctl image import from an OCI archive, a Docker archive, a tarball and a
folder; the imported tree booted as a guest's root disk ([Disk] Image=) and checked from
inside; list, inspect, UsedBy and remove; a corrupt archive, a cancelled import and a bad
name leave nothing. Real daemon, real microvmctl, real QEMU under TCG; the archives are
made here (image_fixtures)."""

import json
import os
import signal
import subprocess
import sys
import time

import image_fixtures as fx
from harness import MICROVMCTL, World, check, run, stderr_on_a_terminal

# typed on the console of a guest booted from the image; markers split by quotes
PROBE = ("cd / && stat -c '%n %u:%g %a %h' etc/x d/new file hard usr/bin/suid srv/tty9 && "
         "stat -c '%n %t,%T' srv/tty9 && readlink sym && cat etc/x d/new && "
         "{ ls gone d/a 2>/dev/null || echo GO''NE; } && "
         "[ $(stat -c %i file) = $(stat -c %i hard) ] && echo SAME-IN''ODE; "
         "echo written >/etc/from-guest && sync && echo DO''NE\n")


def images(w):
    return {i["Name"]: i for i in json.loads(w.ctl("--json", "image", "list").stdout)}


def images_dir(w):
    """the daemon's own images folder, STATE/images"""
    return os.path.join(w.dir, "state", "images")


def image_files(w):
    return sorted(os.listdir(images_dir(w)))


def debugfs(image, request):
    return subprocess.run(["debugfs", "-R", request, image], capture_output=True, text=True,
                          check=True).stdout


def test_oci_import_boots():
    with World() as w:
        r = w.ctl("image", "import", "web", w.write_file("oci.tar", fx.oci_archive(fx.NO_COMMAND)))
        check("image web: imported" in r.stdout, r.stdout + r.stderr)
        listed = images(w)["web"]
        check(listed["SourceKind"] == "oci" and listed["Size"] >= 32 << 20, listed)
        config = json.loads(w.ctl("image", "inspect", "web").stdout)["Config"]
        check(config == fx.NO_COMMAND, f"the OCI config kept: {config}")
        image = os.path.join(images_dir(w), "web.ext4")
        check('user.foo (3) = "bar"' in debugfs(image, "ea_list /xattr"), "the xattr was lost")
        check(subprocess.run(["e2fsck", "-fn", image], capture_output=True).returncode == 0,
              "e2fsck finds the image damaged")

        w.ctl("define", w.write_guest("g.guest", "[Guest]\nMemory=192M\n[Disk root]\n"
                                      "Image=web\n"))
        check(images(w)["web"]["UsedBy"] == ["g"], images(w)["web"])
        w.ctl("start", "g", "--wait-ready")
        r = subprocess.run([MICROVMCTL, "--session", "console", "g", "--linger", "3"],
                           env=w.env(), input=PROBE, capture_output=True, text=True, timeout=120)
        out = r.stdout
        for line in ("etc/x 0:0 644 1", "d/new 0:0 644 1", "file 0:0 644 2", "hard 0:0 644 2",
                     "usr/bin/suid 1000:1000 4750 1", "srv/tty9 0:5 620 1", "srv/tty9 4,9",
                     "layer two", "new", "GONE", "SAME-INODE", "DONE"):
            check(line in out, f"the guest does not see {line!r}:\n{out}")
        check("\nfile\n" in out.replace("\r", ""), f"the symlink's target:\n{out}")
        w.ctl("stop", "g")
        # the guest writes to its own overlay (test-clones), the image stays as imported
        check("written" not in debugfs(image, "cat /etc/from-guest"),
              "the guest's write reached the image")
        check(os.path.getsize(os.path.join(w.dir, "state", "guests", "g", "root.qcow2")) > 0,
              "the guest has no overlay")

        r = w.ctl("image", "remove", "web", expect=1)
        check("used by guest g" in r.stderr, r.stderr)
        w.ctl("undefine", "g")
        w.ctl("image", "remove", "web")
        check(image_files(w) == [], f"left in the images folder: {image_files(w)}")


def test_docker_tarball_folder():
    """The same tree from a Docker archive, a gzip tarball and a folder (made from the
    tarball by root, owners kept): the same files, owners and modes in each image."""
    with World() as w:
        w.ctl("image", "import", "dock", w.write_file("docker.tar", fx.docker_archive()))
        w.ctl("image", "import", "tgz", w.write_file("root.tar.gz", fx.plain_tarball()))
        tree = os.path.join(w.dir, "tree")
        os.makedirs(tree)
        subprocess.run(["tar", "-xzpf", os.path.join(w.dir, "root.tar.gz"), "-C", tree,
                        "--xattrs", "--xattrs-include=*", "--numeric-owner"], check=True)
        w.ctl("image", "import", "dir", tree)
        kinds = {n: i["SourceKind"] for n, i in images(w).items()}
        check(kinds == {"dock": "docker", "tgz": "tar", "dir": "tar"}, kinds)
        config = json.loads(w.ctl("image", "inspect", "dock").stdout)["Config"]
        check(config == fx.CONFIG, f"the Docker archive's config kept: {config}")
        for name in ("dock", "tgz", "dir"):
            image = os.path.join(images_dir(w), name + ".ext4")
            suid = " ".join(debugfs(image, "stat /usr/bin/suid").split())
            check("User: 1000 Group: 1000" in suid and "Mode: 04750" in suid,
                  f"{name}: /usr/bin/suid: {suid}")
            check("layer two" in debugfs(image, "cat /etc/x"), f"{name}: /etc/x")
            listing = debugfs(image, "ls /d").split()
            check("new" in listing and "a" not in listing, f"{name}: /d: {listing}")
            check('user.foo (3) = "bar"' in debugfs(image, "ea_list /xattr"), f"{name}: xattr")


def test_bad_inputs_leave_nothing():
    with World() as w:
        good = fx.oci_archive()
        r = w.ctl("image", "import", "cut", w.write_file("cut.tar", good[:len(good) // 2]),
                  expect=1)
        check("image cut:" in r.stderr, f"a truncated archive: {r.stderr}")
        r = w.ctl("image", "import", "swap", w.write_file("swap.tar", fx.oci_swapped_layer()),
                  expect=1)
        check("image swap: layer 2 (blobs/sha256/" in r.stderr
              and "does not match its digest" in r.stderr, f"a swapped layer: {r.stderr}")
        r = w.ctl("image", "import", "junk", w.write_file("junk.tar", os.urandom(100000)), expect=1)
        check("image junk:" in r.stderr, f"a random file: {r.stderr}")
        r = w.ctl("image", "import", "zero", w.write_file("zero.tar", bytes(100000)), expect=1)
        check("holds no files" in r.stderr, f"zeros, an empty tar to libarchive: {r.stderr}")
        r = w.ctl("image", "import", "../x", w.write_file("ok.tar", good), expect=1)
        check("not an image name" in r.stderr, r.stderr)
        r = w.ctl("image", "import", "none", os.path.join(w.dir, "missing.tar"), expect=1)
        check("cannot open" in r.stderr, r.stderr)
        w.ctl("image", "import", "twice", w.write_file("ok.tar", good))
        r = w.ctl("image", "import", "twice", os.path.join(w.dir, "ok.tar"), expect=1)
        check("exists" in r.stderr, r.stderr)
        w.ctl("image", "remove", "twice")
        check(image_files(w) == [], f"left in the images folder: {image_files(w)}")


def test_user_session_import_keeps_owners():
    """A user's own --session daemon (uid 65534, no root anywhere) imports an archive it
    can read and keeps its files' owners: uid 1000 and the 4750 mode come through."""
    with World(user=65534) as w:
        archive = w.write_file("oci.tar", fx.oci_archive())
        os.chown(archive, 65534, 65534)
        w.ctl("image", "import", "mine", archive)
        image = os.path.join(images_dir(w), "mine.ext4")
        check(os.stat(image).st_uid == 65534, "the image is not the user's")
        suid = " ".join(debugfs(image, "stat /usr/bin/suid").split())
        check("User: 1000 Group: 1000" in suid and "Mode: 04750" in suid, suid)
        check(" ".join(debugfs(image, "stat /srv/tty9").split()).find("Type: character") >= 0,
              "the device node")


SLOW_SOURCE = """
import sys, time
for _ in range(600):
    sys.stdout.buffer.write(b"\\0" * 65536)
    sys.stdout.flush()
    time.sleep(0.05)
"""


def test_cancelled_import_leaves_nothing():
    """^C on a slow stream (a pipe, spooled by the daemon) cancels the job."""
    with World() as w:
        source = subprocess.Popen([sys.executable, "-c", SLOW_SOURCE], stdout=subprocess.PIPE)
        client = subprocess.Popen([MICROVMCTL, "--session", "image", "import", "slow",
                                   "/dev/stdin"], stdin=source.stdout, env=w.env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        source.stdout.close()
        time.sleep(3)  # the stream takes 30 s: the daemon is spooling it now
        client.send_signal(signal.SIGINT)
        out, err = client.communicate(timeout=30)
        source.kill()
        source.wait()
        check(client.returncode == 1 and "cancelled" in err, f"{client.returncode}: {err}")
        check(images(w) == {} and image_files(w) == [],
              f"a cancelled import left {image_files(w)}")


def test_progress_on_a_terminal():
    """On a terminal the import draws one line (bytes read of a stream while it lasts) and
    clears it; piped, it prints a line at each tenth of a known size, nothing else."""
    with World() as w:
        source = subprocess.Popen([sys.executable, "-c", SLOW_SOURCE.replace("600", "40")],
                                  stdout=subprocess.PIPE)
        status, drawn = stderr_on_a_terminal(
            [MICROVMCTL, "--session", "image", "import", "zeros", "/dev/stdin"],
            stdin=source.stdout, env=w.env())
        source.stdout.close()
        source.wait()
        check(status == 1, "zeros are no archive: the import must fail")
        text = drawn.decode(errors="replace")
        check("\r\x1b[Kimporting zeros: " in text and " read" in text,
              f"no progress line: {text[:300]!r}")
        check("\r\x1b[Kmicrovmctl: image zeros:" in text, f"the line was not cleared: {text!r}")
        r = w.ctl("image", "import", "piped", w.write_file("oci.tar", fx.oci_archive()))
        check(all(line.startswith("importing piped: ") for line in r.stderr.splitlines()),
              f"piped: {r.stderr!r}")


if __name__ == "__main__":
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_")}
    sys.exit(run(tests))
