#!/bin/sh
# build-kernel.sh [--config-only] SRCDIR [OUTDIR]
#
# Builds a minimal microvm guest kernel from a Linux source tree: the
# x86_64_defconfig plus microvm.config (everything the guests use built in),
# and installs OUTDIR/vmlinux, the uncompressed ELF that QEMU boots through
# its PVH entry. Point DefaultKernel= in microvmd.conf at it (or install it
# as <datadir>/microvmd/vmlinux).
#
# Not run by the build or CI: it takes about 16 minutes on two cores.
# Debian: apt install linux-source build-essential bc bison flex libelf-dev
# libssl-dev; tar xf /usr/src/linux-source-*.tar.xz; then
# guest-kernel/build-kernel.sh linux-source-6.1 out/
#
# --config-only stops after writing and checking OUTDIR/config (seconds).
#
# Environment: JOBS (default: nproc), MAKEFLAGS as usual.
set -eu

die() {
    echo "build-kernel: $*" >&2
    exit 1
}

config_only=no
if [ "${1:-}" = --config-only ]; then
    config_only=yes
    shift
fi
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: build-kernel.sh [--config-only] SRCDIR [OUTDIR]"
src=$(cd "$1" && pwd) || die "no source tree at $1"
[ -f "$src/Makefile" ] && [ -f "$src/arch/x86/configs/x86_64_defconfig" ] ||
    die "$src is not a Linux source tree"
out=$(mkdir -p "${2:-$PWD/microvm-kernel}" && cd "${2:-$PWD/microvm-kernel}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
fragment="$here/microvm.config"
jobs=${JOBS:-$(nproc)}

# Fail in seconds, not twenty minutes into the build.
for tool in make gcc flex bison bc perl; do
    command -v "$tool" >/dev/null || die "$tool is missing (see the Debian packages above)"
done
for header in gelf.h openssl/ssl.h; do
    echo "#include <$header>" | gcc -E - >/dev/null 2>&1 ||
        die "<$header> is missing (apt install libelf-dev libssl-dev)"
done
# Out-of-tree build: the source tree stays clean (and may be read-only).
obj="$out/build"
mkdir -p "$obj"

make -C "$src" O="$obj" x86_64_defconfig
# -m: merge only; olddefconfig then resolves dependencies.
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment"
make -C "$src" O="$obj" olddefconfig

# A line Kconfig dropped (a missing dependency, a renamed symbol) would give
# a kernel that silently lacks a driver, so check each one.
missing=""
while read -r line; do
    case $line in
    CONFIG_*=*)
        grep -qx "$line" "$obj/.config" || missing="$missing ${line%%=*}"
        ;;
    "# CONFIG_"*" is not set")
        sym=${line#\# }
        sym=${sym%% *}
        if grep -q "^$sym=[ym]" "$obj/.config"; then
            echo "build-kernel: warning: $sym is still enabled (something selects it)" >&2
        fi
        ;;
    esac
done <"$fragment"
[ -z "$missing" ] || die "these options did not survive olddefconfig:$missing (see $obj/.config)"
cp "$obj/.config" "$out/config"
if [ "$config_only" = yes ]; then
    echo "build-kernel: $out/config checked"
    exit 0
fi

make -C "$src" O="$obj" -j"$jobs" vmlinux

# Reuses the extractor's check that the ELF carries the PVH note.
sh "$here/extract-vmlinux.sh" "$obj/vmlinux" "$out/vmlinux"
echo "build-kernel: $out/vmlinux ($(du -h "$out/vmlinux" | cut -f1)), config in $out/config"
