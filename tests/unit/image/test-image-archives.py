#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""image-build-tool against archives made here with tarfile: OCI (a nested index, two gzip
layers with whiteouts), docker save, and plain tarballs in gzip, xz and zstd. Each image is
read back with debugfs and checked with e2fsck -fn; bad archives must leave no image."""

import gzip
import hashlib
import json
import os
import atexit
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from support import check, run  # noqa: E402
from tar_entries import MTIME, entry, folder, tar_bytes  # noqa: E402

TOOL = sys.argv.pop(1)
WORK = tempfile.mkdtemp(prefix="test-image-archives-")
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
BUSYBOX = random.Random(10).randbytes(300 * 1024 + 17)
ZEROS = b"\0" * 65536 + b"end"
SLOW_TARGET = "/very/long/" + "t" * 100
CAPABILITY = bytes.fromhex("0200000200200000000000000000000000000000")  # v2, cap_net_raw
CONFIG = {
    "Entrypoint": ["/bin/sh"],
    "Cmd": ["-c", "echo hi"],
    "Env": ["PATH=/bin:/usr/bin", "A=b c"],
    "WorkingDir": "/d",
    "User": "1000:1000",
}


# --- fixtures -------------------------------------------------------------------------------

def d(name, mode=0o755):
    return folder(name, mode)


def xattrs(pairs):
    return {f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape") for k, v in pairs.items()}


def layer1():
    many = [entry(f"many/file-with-a-long-name-{i:04d}", data=b"") for i in range(600)]
    return [
        d("./"),
        d("bin/"),
        entry("bin/busybox", data=BUSYBOX, mode=0o755),
        entry("bin/hard", tarfile.LNKTYPE, linkname="bin/busybox"),
        entry("bin/sh", tarfile.SYMTYPE, linkname="busybox", mode=0o777),
        entry("slow", tarfile.SYMTYPE, linkname=SLOW_TARGET, mode=0o777),
        d("etc/"),
        entry("etc/x", data=b"layer one\n"),
        d("d/"),
        entry("d/a", data=b"a\n"),
        d("d/sub/"),
        entry("d/sub/c", data=b"c\n"),
        entry("gone", data=b"gone\n"),
        d("replaced/"),
        entry("replaced/inner", data=b"inner\n"),
        entry("usr/bin/suid", data=b"#!/bin/sh\n", mode=0o4750, uid=1000, gid=1000),
        entry("xattr", data=b"x\n", pax_headers=xattrs({"user.foo": b"bar",
                                                         "security.capability": CAPABILITY})),
        entry("dev/tty1", tarfile.CHRTYPE, mode=0o620, gid=5, devmajor=4, devminor=1),
        entry("dev/big", tarfile.BLKTYPE, mode=0o660, devmajor=259, devminor=300),
        entry("run/fifo", tarfile.FIFOTYPE, mode=0o600),
        entry("zeros", data=ZEROS),
        entry("empty"),
        entry("future", data=b"f\n", mtime=4102444800.5),  # 2100-01-01, half a second
        d("olddir/"),
        d("olddir/deep/"),
        entry("olddir/deep/file", data=BUSYBOX[:10000]),
        entry("keep", data=b"kept\n"),
        entry("keep-link", tarfile.LNKTYPE, linkname="keep"),
    ] + many


def layer2():
    return [
        entry(".wh.gone"),
        entry(".wh.olddir"),
        entry(".wh.keep"),
        entry("d/new", data=b"new\n"),  # before the opaque marker: it must stay
        entry("d/.wh..wh..opq"),
        entry("d/new2", data=b"new2\n"),
        entry("etc/x", data=b"layer two\n"),
        entry("replaced", data=b"now a file\n"),
    ]


def final_tree():
    """What the two layers make, as one plain rootfs."""
    dropped = ("gone", "d/a", "d/sub/", "d/sub/c", "etc/x", "replaced/", "replaced/inner",
               "olddir/", "olddir/deep/", "olddir/deep/file", "keep")
    kept = [e for e in layer1() if e[0].name not in dropped]
    kept = [entry("keep-link", data=b"kept\n") if e[0].name == "keep-link" else e for e in kept]
    new = [e for e in layer2() if ".wh." not in e[0].name]
    return kept + new


def blob_entries(blobs):
    return [entry(f"blobs/sha256/{hashlib.sha256(b).hexdigest()}", data=b) for b in blobs]


def descriptor(media, blob, **extra):
    return dict(mediaType=media, digest="sha256:" + hashlib.sha256(blob).hexdigest(),
                size=len(blob), **extra)


def image_config():
    return json.dumps({"architecture": "amd64", "os": "linux", "config": CONFIG,
                       "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                          check=True).stdout


def make_oci(path, mixed=False):
    if mixed:  # an uncompressed and a zstd layer
        layers = [tar_bytes(layer1()), zstd(tar_bytes(layer2()))]
    else:
        layers = [gzip.compress(tar_bytes(layer1())), gzip.compress(tar_bytes(layer2()))]
    config = image_config()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", b) for b in layers],
    }).encode()
    arm = json.dumps({"schemaVersion": 2, "config": {"digest": "sha256:" + "0" * 64},
                      "layers": []}).encode()
    image_index = json.dumps({"schemaVersion": 2, "manifests": [
        descriptor("application/vnd.oci.image.manifest.v1+json", arm,
                   platform={"os": "linux", "architecture": "arm64"}),
        descriptor("application/vnd.oci.image.manifest.v1+json", manifest,
                   platform={"os": "linux", "architecture": "amd64"}),
    ]}).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [
        descriptor("application/vnd.oci.image.index.v1+json", image_index)]}).encode()
    # The root files come last, as a client streaming a folder may well put them.
    members = blob_entries(layers + [config, manifest, arm, image_index]) + [
        d("blobs/"), entry("index.json", data=index),
        entry("oci-layout", data=b'{"imageLayoutVersion": "1.0.0"}')]
    if mixed:  # as `tar -C folder .` names them
        for info, _ in members:
            info.name = "./" + info.name
    with open(path, "wb") as f:
        f.write(tar_bytes(members))


def make_docker(path):
    members = [
        entry("l1/layer.tar", data=tar_bytes(layer1())),
        entry("l2/layer.tar", data=tar_bytes(layer2(), tarfile.GNU_FORMAT)),
        entry("cfg.json", data=image_config()),
        entry("manifest.json", data=json.dumps([{
            "Config": "cfg.json", "RepoTags": ["x:latest"],
            "Layers": ["l1/layer.tar", "l2/layer.tar"]}]).encode()),
    ]
    with open(path, "wb") as f:
        f.write(tar_bytes(members))


def make_plain(path, compress):
    raw = path + ".raw"
    with open(raw, "wb") as f:
        f.write(tar_bytes(final_tree()))
    subprocess.run([compress, "-q", "-f", "-c", raw], stdout=open(path, "wb"), check=True)
    os.unlink(raw)


# --- reading an image back ------------------------------------------------------------------

def debugfs(image, request):
    out = subprocess.run(["debugfs", "-R", request, image], capture_output=True, check=True)
    return out.stdout


def stat(image, path):
    text = debugfs(image, f"stat {path}").decode(errors="replace")
    check("Inode:" in text, f"{path} is not in the image: {text!r}")
    return text


def field(text, pattern):
    m = re.search(pattern, text)
    check(m is not None, f"no {pattern!r} in {text!r}")
    return m.group(1)


def names(image, path):
    lines = debugfs(image, f"ls -p {path}").decode().splitlines()
    return {line.split("/")[5] for line in lines if line.startswith("/")} - {".", ".."}


def build(archive, image, size=None):
    argv = [TOOL, archive, image] + ([size] if size else [])
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def check_fsck(image):
    fsck = subprocess.run(["e2fsck", "-fn", image], capture_output=True, text=True)
    check(fsck.returncode == 0, f"e2fsck -fn found problems:\n{fsck.stdout}{fsck.stderr}")


def check_files(image):
    check(debugfs(image, "cat /bin/busybox") == BUSYBOX, "/bin/busybox differs")
    check(debugfs(image, "cat /etc/x") == b"layer two\n", "/etc/x is not layer 2's")
    check(debugfs(image, "cat /zeros") == ZEROS, "/zeros differs")
    check(int(field(stat(image, "/zeros"), r"Blockcount: (\d+)")) <= 16,
          "/zeros' zero blocks were written, not left as a hole")
    check(debugfs(image, "cat /replaced") == b"now a file\n", "/replaced is not a file")
    check("Size: 0" in stat(image, "/empty"), "/empty is not empty")
    check(len(names(image, "/many")) == 600, "/many does not hold its 600 files")


def check_layers(image):
    gone = subprocess.run(["debugfs", "-R", "stat /gone", image], capture_output=True, text=True)
    check("File not found" in gone.stderr, f"/gone is still there: {gone.stdout}")
    check("gone" not in names(image, "/"), "/gone is still listed")
    check(names(image, "/d") == {"new", "new2"}, f"/d holds {names(image, '/d')}")
    check(not {"olddir", "keep"} & names(image, "/"), "a whited-out folder or link remains")
    kept = stat(image, "/keep-link")
    check(field(kept, r"Links: (\d+)") == "1", f"/keep-link: {kept}")
    check(debugfs(image, "cat /keep-link") == b"kept\n", "/keep-link lost its content")
    check(debugfs(image, "cat /d/new") == b"new\n", "/d/new differs")


def check_links(image):
    busybox, hard = stat(image, "/bin/busybox"), stat(image, "/bin/hard")
    check(field(busybox, r"Inode: (\d+)") == field(hard, r"Inode: (\d+)"),
          "/bin/hard is not a hard link of /bin/busybox")
    check(field(busybox, r"Links: (\d+)") == "2", "/bin/busybox has not 2 links")
    check('Fast link dest: "busybox"' in stat(image, "/bin/sh"), "/bin/sh is not -> busybox")
    check(debugfs(image, "cat /slow").rstrip(b"\0") == SLOW_TARGET.encode(),
          "/slow is not a slow symlink to its target")
    check("Type: symlink" in stat(image, "/slow"), "/slow is not a symlink")


def check_owners(image):
    suid = stat(image, "/usr/bin/suid")
    check(field(suid, r"Mode:\s+(\d+)") == "04750", f"suid mode: {suid}")
    check(field(suid, r"User:\s+(\d+)") == "1000" and field(suid, r"Group:\s+(\d+)") == "1000",
          f"suid owner: {suid}")
    check(field(suid, r"mtime: (0x[0-9a-f]+)") == hex(MTIME), "mtime not kept")
    check(field(stat(image, "/bin/busybox"), r"Mode:\s+(\d+)") == "0755", "busybox mode")
    future = field(stat(image, "/future"), r"mtime: (0x[0-9a-f]+:[0-9a-f]+ -- .*)\n")
    check(future == "0xf4865700:77359401 -- Fri Jan  1 00:00:00 2100", f"/future: {future}")


def check_special(image):
    tty = stat(image, "/dev/tty1")
    check("Type: character special" in tty, f"/dev/tty1: {tty}")
    check(field(tty, r"Device major/minor number: (\d+:\d+)") == "04:01", f"/dev/tty1: {tty}")
    check(field(tty, r"Group:\s+(\d+)") == "5" and field(tty, r"Mode:\s+(\d+)") == "0620",
          "/dev/tty1 owner or mode")
    big = stat(image, "/dev/big")
    check("Type: block special" in big, f"/dev/big: {big}")
    check(field(big, r"Device major/minor number: (\d+:\d+)") == "259:300", f"/dev/big: {big}")
    check("Type: FIFO" in stat(image, "/run/fifo"), "/run/fifo is not a fifo")


def check_xattrs(image):
    listing = debugfs(image, "ea_list /xattr").decode(errors="replace")
    check('user.foo (3) = "bar"' in listing, f"user.foo: {listing}")
    cap = debugfs(image, "ea_get -f /dev/stdout /xattr security.capability")
    check(CAPABILITY in cap, f"security.capability: {cap!r}")


def check_image(archive, kind, config=True):
    image = archive + ".img"
    result = build(archive, image)
    check(result.returncode == 0, f"image-build-tool failed: {result.stderr}")
    check(f"kind: {kind}\n" in result.stdout, f"kind is not {kind}: {result.stdout}")
    got = field(result.stdout, r"config: (.*)\n")
    check((json.loads(got) == CONFIG) if config else got == "null", f"config: {got}")
    check_fsck(image)
    check_files(image)
    check_layers(image)
    check_links(image)
    check_owners(image)
    check_special(image)
    check_xattrs(image)
    features = subprocess.run(["dumpe2fs", "-h", image], capture_output=True, text=True).stdout
    check("has_journal" in features and "extent" in features, "not ext4 with a journal")
    os.unlink(image)


def path(name):
    return os.path.join(WORK, name)


# --- tests ----------------------------------------------------------------------------------

def test_oci():
    make_oci(path("oci.tar"))
    check_image(path("oci.tar"), "oci")


def test_oci_mixed():
    make_oci(path("oci-mixed.tar"), mixed=True)
    check_image(path("oci-mixed.tar"), "oci")


def test_docker():
    make_docker(path("docker.tar"))
    check_image(path("docker.tar"), "docker")


def test_plain():
    for compress in ("gzip", "xz", "zstd"):
        make_plain(path(f"root.tar.{compress}"), compress)
        check_image(path(f"root.tar.{compress}"), "tar", config=False)


def check_refused(archive, words, size=None):
    image = archive + ".img"
    result = build(archive, image, size)
    check(result.returncode != 0, f"{archive} was accepted: {result.stdout}")
    for word in words:
        check(word in result.stderr, f"no {word!r} in the message: {result.stderr!r}")
    check(not os.path.exists(image), f"{image} was left behind")
    return result.stderr


def test_corrupt():
    make_plain(path("cut.tar.gz"), "gzip")
    data = open(path("cut.tar.gz"), "rb").read()
    open(path("cut.tar.gz"), "wb").write(data[: len(data) // 2])
    check_refused(path("cut.tar.gz"), ["unreadable", "Truncated"])
    open(path("noise"), "wb").write(random.Random(3).randbytes(100000))
    check_refused(path("noise"), ["not a tar archive"])
    make_oci(path("cut-oci.tar"))
    data = open(path("cut-oci.tar"), "rb").read()
    open(path("cut-oci.tar"), "wb").write(data[: len(data) * 2 // 3])
    check_refused(path("cut-oci.tar"), ["unreadable", "Truncated"])


def test_escape():
    outside = path("outside")
    os.mkdir(outside)
    dotdot = ["'..' component", "would leave the image root"]
    not_followed = ["in its path is not a folder", "is not followed"]
    cases = {
        "dotdot": ([entry("../../escaped", data=b"x")], dotdot),
        "symlink-parent": ([entry("link", tarfile.SYMTYPE, linkname=outside),
                            entry("link/escaped", data=b"x")], not_followed),
        "symlink-up": ([entry("up", tarfile.SYMTYPE, linkname="../../../.."),
                        entry("up" + outside + "/escaped", data=b"x")], not_followed),
        "hardlink": ([entry("h", tarfile.LNKTYPE, linkname="../../etc/passwd")], dotdot),
    }
    for name, (members, words) in cases.items():
        archive = path(f"escape-{name}.tar")
        open(archive, "wb").write(tar_bytes(members))
        check_refused(archive, [f"entry '{members[-1][0].name}"] + words)
    check(os.listdir(outside) == [] and not os.path.exists(path("escaped"))
          and not os.path.exists(os.path.join(WORK, "..", "escaped")), "a file escaped")
    # An absolute name stays inside the image.
    open(path("abs.tar"), "wb").write(tar_bytes([entry("/abs/file", data=b"in\n")]))
    result = build(path("abs.tar"), path("abs.img"))
    check(result.returncode == 0, result.stderr)
    check(debugfs(path("abs.img"), "cat /abs/file") == b"in\n", "/abs/file not in the image")


def test_too_small():
    make_oci(path("small.tar"))
    message = check_refused(path("small.tar"), ["too small", "needs at least"], size="1M")
    needed = int(field(message, r"needs at least (\d+) bytes"))
    check(needed > 1024 * 1024, f"needed size {needed} is not more than 1 MiB")
    result = build(path("small.tar"), path("small.img"), str(needed))
    check(result.returncode == 0, f"the size it asked for is refused: {result.stderr}")
    check_fsck(path("small.img"))


def test_link_to_itself():
    members = [entry("a", data=b"a\n"), entry("a", tarfile.LNKTYPE, linkname="a")]
    open(path("self.tar"), "wb").write(tar_bytes(members))
    result = build(path("self.tar"), path("self.img"))
    check(result.returncode == 0, result.stderr)
    check(debugfs(path("self.img"), "cat /a") == b"a\n", "/a lost its content")
    check_fsck(path("self.img"))


def test_target_exists():
    make_plain(path("exists.tar.gz"), "gzip")
    open(path("exists.img"), "w").write("mine")
    result = build(path("exists.tar.gz"), path("exists.img"))
    check(result.returncode != 0 and "File exists" in result.stderr, result.stderr)
    check(open(path("exists.img")).read() == "mine", "an existing file was overwritten")


if __name__ == "__main__":
    sys.exit(run({
        "oci": test_oci,
        "oci-mixed": test_oci_mixed,
        "docker": test_docker,
        "plain": test_plain,
        "corrupt": test_corrupt,
        "escape": test_escape,
        "too-small": test_too_small,
        "link-to-itself": test_link_to_itself,
        "target-exists": test_target_exists,
    }))
