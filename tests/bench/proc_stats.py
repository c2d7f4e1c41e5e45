# SPDX-License-Identifier: LGPL-2.1-or-later
"""What /proc says of a process, for the benchmarks."""

import os

TICKS = os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """user and system time so far"""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def smaps(pid):
    """Each mapping of /proc/PID/smaps as (perms, path, {field: KiB})."""
    maps = []
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head, _, rest = line.partition(" ")
            if head.endswith(":") and rest.strip().endswith("kB"):
                maps[-1][2][head[:-1]] = int(rest.split()[0])
            elif "-" in head and not head.endswith(":"):
                fields = line.split(None, 5)
                maps.append((fields[1], fields[5].strip() if len(fields) > 5 else "", {}))
    return maps


def qemu_memory(pid, guest_ram_kib, boot_files):
    """A QEMU's resident memory by kind, in KiB: {kind: {"Rss", "Pss", "Anonymous"}}.
    Kinds: guest RAM (the anonymous rw mapping of the guest's size), TCG's translation
    buffer (QEMU's one anonymous rwx mapping), kernel and initrd (the files in @boot_files,
    which QEMU maps and keeps as ROMs to load again at a reset), other files (QEMU and its
    libraries), other anonymous (heap, stacks); and "total"."""
    boot_files = {os.path.realpath(f) for f in boot_files if f}
    out = {}
    for perms, path, f in smaps(pid):
        if path in boot_files:
            kind = "kernel, initrd"
        elif path.startswith("/"):
            kind = "other files"
        elif perms.startswith("rwx") and not path:
            kind = "TCG buffer"
        elif not path and guest_ram_kib <= f.get("Size", 0) <= guest_ram_kib + 4096:
            kind = "guest RAM"
        else:
            kind = "other anonymous"
        for k in (kind, "total"):
            acc = out.setdefault(k, {"Rss": 0, "Pss": 0, "Anonymous": 0})
            for field in acc:
                acc[field] += f.get(field, 0)
    return out


def format_qemu_memory(mem, indent="  "):
    """One line a kind: RSS, PSS and how much of it is anonymous, in MiB."""
    order = ("total", "guest RAM", "TCG buffer", "kernel, initrd", "other files",
             "other anonymous")
    return "\n".join(f"{indent}{k:<16} RSS {mem[k]['Rss'] / 1024:6.1f} MiB  "
                     f"PSS {mem[k]['Pss'] / 1024:6.1f} MiB  "
                     f"anonymous {mem[k]['Anonymous'] / 1024:6.1f} MiB"
                     for k in order if k in mem)
