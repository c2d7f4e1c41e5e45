#!/bin/sh
# Installs what building and testing microvmd needs on Debian 12, as root.
# Only missing packages are installed; an up-to-date machine costs one dpkg query.
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libglib2.0-dev libglib2.0-bin libjson-glib-dev libsystemd-dev libcmocka-dev scdoc
  qemu-system-x86 qemu-utils busybox-static linux-image-amd64 kmod cpio gzip xz-utils zstd
  e2fsprogs dbus python3 python3-dbusmock util-linux valgrind iproute2 iputils-ping systemd
  mmdebstrap systemd-container passt nftables libarchive-dev libext2fs-dev bash-completion
  cockpit-ws cockpit-bridge cockpit-system chromium chromium-driver python3-selenium
  openssh-server openssh-client
  build-essential dpkg-dev debhelper lintian
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing; run this script as root" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
