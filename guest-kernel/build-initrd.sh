#!/bin/sh
# build-initrd.sh [-k KVER] [-m MODDIR] [-b BUSYBOX] [-i INIT] [-c COMPRESSOR] OUTPUT
#
# Builds microvmd's default initrd: a static busybox, our /init, and the
# modules of kernel KVER that a microvm guest needs (virtio on PCI and MMIO,
# block, net, console, rng, balloon, vsock, 9p, virtiofs, ext4, the ACPI power button)
# when that kernel has them as modules. Built-in or absent drivers are
# skipped. Dependencies come from modinfo; modules.dep inside the initrd is
# made by depmod so busybox modprobe works in the guest.
#
#   -k KVER        kernel release (default: the newest /boot/vmlinuz-*)
#   -m MODDIR      modules root holding KVER/ (default: /lib/modules)
#   -b BUSYBOX     static busybox binary (default: /bin/busybox)
#   -i INIT        the init script (default: init beside this script)
#   -c COMPRESSOR  auto (default), zstd, gzip, xz, lz4 or none; auto is zstd
#                  when the kernel reads it (CONFIG_RD_ZSTD=y), else gzip.
#                  Measured under TCG: the compressor changes the boot by
#                  0.1-0.2 s at most, zstd gives the smallest file.

# local: dash, bash and busybox sh all have it.
# shellcheck disable=SC3043
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kver=""
moddir=/lib/modules
busybox=/bin/busybox
init="$here/init"
compressor=auto

die() {
    echo "build-initrd: $*" >&2
    exit 1
}

while getopts k:m:b:i:c: opt; do
    case $opt in
    k) kver=$OPTARG ;;
    m) moddir=$OPTARG ;;
    b) busybox=$OPTARG ;;
    i) init=$OPTARG ;;
    c) compressor=$OPTARG ;;
    *) die "usage: build-initrd.sh [-k KVER] [-m MODDIR] [-b BUSYBOX] [-i INIT] [-c COMPRESSOR] OUTPUT" ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || die "missing OUTPUT"
out=$1

if [ -z "$kver" ]; then
    newest=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
    [ -n "$newest" ] || die "no /boot/vmlinuz-* and no -k KVER"
    kver=${newest#/boot/vmlinuz-}
fi

[ -x "$busybox" ] || die "$busybox is not executable (install busybox-static)"
# A dynamic busybox would need its libraries in the initrd too.
if LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    die "$busybox is dynamically linked; install busybox-static"
fi
[ -r "$init" ] || die "cannot read $init"

# What the guest may need, in load order. The first group is what the
# readiness line, the power button, the panic device and the network need;
# /init loads it before anything else, so that once the guest says it is ready
# it also takes a graceful stop, has its addresses, and a kernel panic reaches
# the daemon as guest-panicked.
early_modules="virtio_pci virtio_mmio virtio_console button evdev pvpanic_pci virtio_net"
late_modules="virtio_blk virtio_rng virtio_balloon
    crc32c_generic ext4
    9pnet_virtio 9p
    fuse virtiofs
    vmw_vsock_virtio_transport"

stage=$(mktemp -d "${TMPDIR:-/tmp}/microvmd-initrd.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM

mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/run" \
    "$stage/tmp" "$stage/newroot" "$stage/etc" "$stage/lib/modules/$kver"
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
    [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done
cp "$init" "$stage/init"
cp "$here/udhcpc.script" "$stage/etc/udhcpc.script"
chmod 0755 "$stage/init" "$stage/bin/busybox" "$stage/etc/udhcpc.script"
touch "$stage/etc/mtab"

# modinfo looks under BASEDIR/lib/modules.
basedir=${moddir%/lib/modules}
[ "$basedir/lib/modules" = "$moddir" ] || die "-m must end in /lib/modules"
# A kernel with everything built in (build-kernel.sh) has no modules folder.
have_modules=yes
if [ ! -d "$moddir/$kver" ]; then
    echo "build-initrd: no $moddir/$kver; building an initrd without modules" >&2
    have_modules=no
fi
mi() {
    modinfo ${basedir:+-b "$basedir"} -k "$kver" "$@" 2>/dev/null
}

# Prints the file of module $1, or nothing when it is built in or absent.
module_file() {
    case $(mi -n "$1") in
    /*) mi -n "$1" ;;
    esac
}

# Copies module $1 and, recursively, what it depends on.
copied=" "
add_module() {
    local name file dep rel
    name=$1
    case $copied in *" $name "*) return 0 ;; esac
    copied="$copied$name "
    file=$(module_file "$name")
    [ -n "$file" ] || return 0
    for dep in $(mi -F depends "$name" | tr ',' ' '); do
        add_module "$dep"
    done
    rel=${file#"$moddir/$kver/"}
    mkdir -p "$stage/lib/modules/$kver/$(dirname "$rel")"
    cp "$file" "$stage/lib/modules/$kver/$rel"
}

# The load lists /init reads hold only what is a module in this kernel.
pick() {
    local list m
    list=""
    for m in "$@"; do
        if [ -n "$(module_file "$m")" ]; then
            add_module "$m"
            list="$list $m"
        elif mi -F name "$m" >/dev/null; then
            echo "build-initrd: $m is built into $kver" >&2
        else
            echo "build-initrd: $m is not in $kver, skipped" >&2
        fi
    done
    echo "${list# }"
}
early=""
late=""
if [ "$have_modules" = yes ]; then
    # shellcheck disable=SC2086
    early=$(pick $early_modules)
    # shellcheck disable=SC2086
    late=$(pick $late_modules)
fi

if [ "$have_modules" = yes ]; then
    for f in modules.order modules.builtin modules.builtin.modinfo; do
        if [ -e "$moddir/$kver/$f" ]; then cp "$moddir/$kver/$f" "$stage/lib/modules/$kver/"; fi
    done
    depmod -b "$stage" "$kver"
    # busybox modprobe reads only the text files.
    rm -f "$stage/lib/modules/$kver"/*.bin "$stage/lib/modules/$kver/modules.builtin.modinfo"
fi

echo "$early" >"$stage/etc/modules-early"
echo "$late" >"$stage/etc/modules"

if [ "$compressor" = auto ]; then
    compressor=gzip
    if grep -qx 'CONFIG_RD_ZSTD=y' "/boot/config-$kver" 2>/dev/null && command -v zstd >/dev/null; then
        compressor=zstd
    fi
fi

case $compressor in
gzip) compress="gzip -9 -n" ;;
zstd) compress="zstd -q -19 -T1 --no-check" ;; # the kernel's zstd lacks xxhash checks
xz) compress="xz -q --check=crc32 -9" ;;       # the kernel's xz knows only crc32
lz4) compress="lz4 -q -l -9" ;;                # legacy frame: the one the kernel reads
none) compress="cat" ;;
*) die "unknown compressor $compressor" ;;
esac

# newc header of a character device node, so the kernel finds /dev/console
# before /init runs without this script having to run as root. Fields: ino,
# mode, uid, gid, nlink, mtime, filesize, dev major/minor, rdev major/minor,
# name size, check.
console_node() {
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        1 $((0020600)) 0 0 1 0 0 0 0 5 1 12 0
    printf 'dev/console\0\0\0' # 110 + 12 bytes, padded to a multiple of 4
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        0 0 0 0 1 0 0 0 0 0 0 11 0
    printf 'TRAILER!!!\0\0\0\0' # 110 + 11 bytes, padded
}

# Fixed owners and times keep the archive reproducible. The kernel reads
# concatenated archives, the first made by console_node.
find "$stage" -exec touch -h -d @0 {} +
{
    console_node
    cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible
} | $compress >"$out.tmp"
mv "$out.tmp" "$out"
