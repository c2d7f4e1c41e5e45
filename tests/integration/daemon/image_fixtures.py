# SPDX-License-Identifier: LGPL-2.1-or-later
"""Archives for the image tests, made with tarfile: one tree as an OCI image archive (two
gzip layers, a whiteout and an opaque folder in the second), as a Docker archive, and as a
plain tarball. What the tree holds after both layers is FINAL."""

import gzip
import hashlib
import json
import os
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from tar_entries import entry, folder, tar_bytes  # noqa: E402

CONFIG = {"Entrypoint": ["/bin/sh"], "Cmd": ["-c", "exit 3"], "Env": ["PATH=/bin", "A=b c"],
          "WorkingDir": "/d", "User": "1000:1000"}
# the same without a command: a guest on it keeps the init's shell, to look around
NO_COMMAND = {k: v for k, v in CONFIG.items() if k not in ("Entrypoint", "Cmd")}


def layer1():
    return [
        folder("etc/"), entry("etc/x", data=b"layer one\n"),
        folder("d/"), entry("d/a", data=b"a\n"),
        entry("gone", data=b"gone\n"),
        entry("file", data=b"linked\n"),
        entry("hard", tarfile.LNKTYPE, linkname="file"),
        entry("sym", tarfile.SYMTYPE, linkname="file", mode=0o777),
        folder("usr/"), folder("usr/bin/"),
        entry("usr/bin/suid", data=b"#!/bin/sh\n", mode=0o4750, uid=1000, gid=1000),
        entry("xattr", data=b"x\n", pax_headers={"SCHILY.xattr.user.foo": "bar"}),
        folder("srv/"), entry("srv/tty9", tarfile.CHRTYPE, mode=0o620, gid=5, devmajor=4,
                               devminor=9),
        folder("run/"),
    ]


def layer2():
    return [entry(".wh.gone"), entry("d/.wh..wh..opq"), entry("d/new", data=b"new\n"),
            entry("etc/x", data=b"layer two\n")]


def final():
    dropped = ("gone", "d/a", "etc/x")
    return ([e for e in layer1() if e[0].name not in dropped]
            + [e for e in layer2() if ".wh." not in e[0].name])


def digest(blob):
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def config_blob(config=CONFIG):
    return json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                       "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def oci_of(layers, config, swap=None):
    """An OCI image archive of gzip layer blobs @layers and image config blob @config; with
    @swap (index, blob), layer index's file holds blob instead, under the same digest"""
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest(b), "size": len(b)} for b in layers]}).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(manifest),
         "size": len(manifest)}]}).encode()
    members = [entry("oci-layout", data=b'{"imageLayoutVersion": "1.0.0"}'),
               entry("index.json", data=index), folder("blobs/"), folder("blobs/sha256/")]
    stored = list(layers)
    if swap:
        stored[swap[0]] = swap[1]
    members += [entry("blobs/sha256/" + digest(b)[7:], data=s)
                for b, s in zip(layers + [config, manifest], stored + [config, manifest])]
    return tar_bytes(members)


def oci_swapped_layer():
    """The OCI archive with its second layer's blob replaced by another valid layer"""
    evil = gzip.compress(tar_bytes([folder("etc/"), entry("etc/x", data=b"swapped\n")]))
    return oci_of([gzip.compress(tar_bytes(layer1())), gzip.compress(tar_bytes(layer2()))],
                  config_blob(CONFIG), swap=(1, evil))


def oci_archive(config=CONFIG):
    return oci_of([gzip.compress(tar_bytes(layer1())), gzip.compress(tar_bytes(layer2()))],
                  config_blob(config))


def docker_archive():
    return tar_bytes([
        entry("l1/layer.tar", data=tar_bytes(layer1())),
        entry("l2/layer.tar", data=tar_bytes(layer2())),
        entry("cfg.json", data=config_blob()),
        entry("manifest.json", data=json.dumps([{"Config": "cfg.json", "RepoTags": ["x:1"],
                                                   "Layers": ["l1/layer.tar",
                                                              "l2/layer.tar"]}]).encode())])


def plain_tarball():
    return gzip.compress(tar_bytes(final()))


def app_archive(config):
    """An OCI archive of one layer with a real static busybox (this machine's), its sh and a
    few applets, a user app (uid 1000) and a /work folder, and @config as the image config."""
    with open("/bin/busybox", "rb") as f:
        busybox = f.read()
    layer = [folder("bin/"), entry("bin/busybox", data=busybox, mode=0o755)]
    layer += [entry(f"bin/{applet}", tarfile.SYMTYPE, linkname="busybox", mode=0o777)
              for applet in ("sh", "id", "sleep", "cat", "pwd")]
    layer += [folder("etc/"),
              entry("etc/passwd",
                    data=b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/work:/bin/sh\n"),
              entry("etc/group", data=b"root:x:0:\napp:x:1000:\n"),
              folder("work/", mode=0o777), folder("tmp/", mode=0o1777), folder("root/", mode=0o700)]
    return oci_of([gzip.compress(tar_bytes(layer))], config_blob(config))
