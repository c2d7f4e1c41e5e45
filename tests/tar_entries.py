# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tar archives made in a test, entry by entry: what the image tests (tests/unit/image and
tests/integration/daemon) build their OCI, Docker and plain fixtures from."""

import io
import tarfile

MTIME = 1700000000


def entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, gid=0, **extra):
    """One member, (TarInfo, data); @extra sets any other TarInfo field (linkname, devmajor,
    pax_headers, mtime, ...)."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.mtime = MTIME
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    for key, value in extra.items():
        setattr(info, key, value)
    return info, data


def folder(name, mode=0o755):
    return entry(name, tarfile.DIRTYPE, mode=mode)


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()
