#!/bin/sh
# build-kernel.sh [--config-only] [-C CACHEDIR] SOURCE OUTPUT
#
# Builds the minimal microvm guest kernel: allnoconfig plus microvm.config
# (everything the guests use built in, no modules), and writes OUTPUT, the
# uncompressed ELF vmlinux that QEMU boots through its PVH entry, with the
# config beside it as OUTPUT.config. The build runs this when
# -Dguest_kernel=minimal (or auto, with the source installed).
#
# SOURCE is a Linux source tree or its tarball (Debian:
# /usr/src/linux-source-6.1.tar.xz from linux-source-6.1; the build also
# needs make, gcc, bc, bison, flex, perl and libelf-dev).
#
# CACHEDIR (default: OUTPUT's folder/linux-cache) keeps the unpacked source
# keyed by the tarball's name, size and time, and one object tree for that
# source, so a rebuild or a test run reuses it. A changed fragment is checked
# again and built in the same tree, where Kbuild rebuilds what the changed
# options touch (a tree under a new name would rebuild everything: its objects
# name their dependencies by absolute path); the trees of another source are
# removed.
#
# --config-only stops after writing and checking OUTPUT.config (seconds once
# the source is unpacked), which is how the fragment is checked against a
# new kernel release.
#
# Environment: JOBS (default: nproc).
set -eu

die() {
    echo "build-kernel: $*" >&2
    exit 1
}

# Changing how the config is made must change the config's key too.
BASE=allnoconfig

config_only=no
cache=""
while [ $# -gt 0 ]; do
    case $1 in
    --config-only) config_only=yes ;;
    -C) cache=$2; shift ;;
    -*) die "unknown option $1" ;;
    *) break ;;
    esac
    shift
done
[ $# -eq 2 ] || die "usage: build-kernel.sh [--config-only] [-C CACHEDIR] SOURCE OUTPUT"
source=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
fragment="$here/microvm.config"
jobs=${JOBS:-$(nproc)}
[ -n "$cache" ] || cache="$(dirname "$out")/linux-cache"
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Fail in seconds, not minutes into the build.
for tool in make gcc flex bison bc perl sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt install build-essential bc bison flex)"
done
echo '#include <gelf.h>' | gcc -E - >/dev/null 2>&1 || die "<gelf.h> is missing (apt install libelf-dev)"

short_hash() {
    sha256sum | cut -c1-16
}

# The source: a tree is used in place, a tarball unpacked once per key.
if [ -d "$source" ]; then
    src=$(cd "$source" && pwd)
    srckey="$(basename "$src")-$(printf '%s\n' "$src" | cat - "$src/Makefile" | short_hash)"
elif [ -f "$source" ]; then
    name=$(basename "$source")
    name=${name%.tar*}
    srckey="$name-$(stat -L -c '%s %Y' "$source" | short_hash)"
    src="$cache/src-$srckey"
    if [ ! -f "$src/Makefile" ]; then
        for old in "$cache"/src-*; do
            [ "$old" = "$src" ] || rm -rf "$old"
        done
        echo "build-kernel: unpacking $source"
        rm -rf "$src.tmp"
        mkdir -p "$src.tmp"
        tar -xf "$source" -C "$src.tmp" --strip-components=1
        mv "$src.tmp" "$src"
    fi
else
    die "no source tree or tarball at $source (apt install linux-source-6.1)"
fi
[ -f "$src/Makefile" ] && [ -f "$src/scripts/kconfig/merge_config.sh" ] ||
    die "$src is not a Linux source tree"

cfgkey=$({ echo "$BASE"; cat "$fragment"; } | short_hash)
obj="$cache/obj-$srckey"
for old in "$cache"/obj-*; do
    [ "$old" = "$obj" ] || rm -rf "$old"
done
mkdir -p "$obj"

# An object tree whose config was checked already is reused as it is.
if [ "$(cat "$obj/.config.checked-key" 2>/dev/null)" != "$cfgkey" ]; then
    # -n: allnoconfig with the fragment's values fixed (KCONFIG_ALLCONFIG).
    # merge_config.sh -m only merges (more fragments could follow this one);
    # allnoconfig then sets everything else off, keeping the merged values.
    (cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$fragment" >/dev/null)
    mv "$obj/.config" "$obj/microvm.allconfig"
    make -s -C "$src" O="$obj" KCONFIG_ALLCONFIG="$obj/microvm.allconfig" allnoconfig

    # A line Kconfig dropped (a missing dependency, a renamed symbol) would
    # give a kernel that silently lacks a driver, so check each one.
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
                missing="$missing $sym(still on)"
            fi
            ;;
        esac
    done <"$fragment"
    [ -z "$missing" ] || die "these options did not come out as microvm.config says:$missing (see $obj/.config)"
    echo "$cfgkey" >"$obj/.config.checked-key"
fi
cp "$obj/.config" "$out.config"
if [ "$config_only" = yes ]; then
    echo "build-kernel: $out.config checked"
    exit 0
fi

echo "build-kernel: building in $obj with $jobs jobs"
make -s -C "$src" O="$obj" -j"$jobs" vmlinux

# Without its symbol table: QEMU reads and sorts every symbol of a -kernel
# ELF at each start, 20-45 ms of its start-up here (README.md, "Performance";
# Debian's vmlinux has none either). $obj/vmlinux keeps them, for gdb.
trap 'rm -f "$out.stripped"' EXIT INT TERM
objcopy --strip-all "$obj/vmlinux" "$out.stripped"
# Reuses the extractor's check that the ELF carries the PVH note.
sh "$here/extract-vmlinux.sh" "$out.stripped" "$out"
echo "build-kernel: $out ($(du -h "$out" | cut -f1))"
