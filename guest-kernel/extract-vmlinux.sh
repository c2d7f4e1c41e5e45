#!/bin/sh
# extract-vmlinux.sh BZIMAGE OUTPUT
#
# Writes the uncompressed ELF vmlinux hidden in a bzImage (e.g. Debian's
# /boot/vmlinuz-*) to OUTPUT, and checks that it carries the PVH entry note
# (Xen ELF note type 18, XEN_ELFNOTE_PHYS32_ENTRY) so QEMU can boot it
# directly with -kernel. Under TCG this skips the in-guest decompression,
# which costs about half of a boot with an XZ kernel.
#
# Same idea as the kernel's scripts/extract-vmlinux: find every magic of a
# compressor the kernel may use, try to decompress from there, keep the first
# result that is an ELF file. Exit status 0 on success, 1 with a message.
set -eu

die() {
    echo "extract-vmlinux: $*" >&2
    exit 1
}

[ $# -eq 2 ] || die "usage: extract-vmlinux.sh BZIMAGE OUTPUT"
in=$1
out=$2
[ -r "$in" ] || die "cannot read $in"

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT INT TERM

is_elf() {
    [ "$(od -An -c -N4 "$1" 2>/dev/null | tr -d ' ')" = '177ELF' ]
}

# The PVH note is what lets QEMU load the ELF with -kernel; without it QEMU
# refuses ("Error loading uncompressed kernel without PVH ELF Note").
has_pvh_note() {
    LC_ALL=C readelf -n "$1" 2>/dev/null |
        awk '$1 == "Xen" && ($0 ~ /type: \(0x00000012\)/ || $0 ~ /PHYS32_ENTRY/) { found = 1 } END { exit !found }'
}

# try MAGIC(as a grep -P byte pattern) DECOMPRESSOR...
try() {
    magic=$1
    shift
    for off in $(LC_ALL=C grep -aboP "$magic" "$in" 2>/dev/null | cut -d: -f1); do
        # A stream with trailing garbage makes most decompressors complain
        # after writing the whole payload, so judge by the output only.
        tail -c "+$((off + 1))" "$in" | "$@" >"$tmp" 2>/dev/null || true
        if is_elf "$tmp"; then
            return 0
        fi
    done
    return 1
}

if is_elf "$in"; then
    cp "$in" "$tmp"
elif try '\xfd7zXZ\x00' xz -dc ||
    try '\x28\xb5\x2f\xfd' zstd -dc ||
    try '\x1f\x8b\x08' gzip -dc ||
    try '\x02\x21\x4c\x18' lz4 -dc ||
    try '\x5d\x00\x00\x00' xz -F lzma -dc ||
    try 'BZh' bzip2 -dc ||
    try '\x89\x4c\x5a' lzop -dc; then
    :
else
    die "no compressed ELF kernel found in $in"
fi

has_pvh_note "$tmp" || die "$in: the kernel has no PVH entry note (CONFIG_PVH=y is needed)"
chmod 0644 "$tmp"
mv "$tmp" "$out"
trap - EXIT INT TERM
