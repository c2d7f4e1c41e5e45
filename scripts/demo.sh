#!/bin/sh
# The demo: installs what is missing, builds, starts microvmd, boots examples/demo.guest,
# shows it running and ready, then stops the guest and the daemon.
# With no system bus (a container, a CI machine), it runs everything on a private
# session bus with temporary folders; nothing outside them is touched.
set -eu

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/install-deps.sh
[ -f "$BUILD_DIR/build.ninja" ] || meson setup "$BUILD_DIR"
meson compile -C "$BUILD_DIR"

T=$(mktemp -d /tmp/microvmd-demo.XXXXXX)
DAEMON_PID= BUS_PID=
cleanup() {
    [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

dbus-daemon --session --fork --print-address=3 --print-pid=4 3>"$T/bus" 4>"$T/bus.pid"
BUS_PID=$(cat "$T/bus.pid")
export DBUS_SESSION_BUS_ADDRESS="$(cat "$T/bus")"
export CONFIGURATION_DIRECTORY="$T/conf" STATE_DIRECTORY="$T/state"
export RUNTIME_DIRECTORY="$T/run" LOGS_DIRECTORY="$T/logs"
mkdir -p "$T/conf"
cat >"$T/conf/microvmd.conf" <<CONF
[Daemon]
DefaultKernel=$PWD/$BUILD_DIR/guest-kernel/vmlinux
DefaultInitrd=$PWD/$BUILD_DIR/guest-kernel/initrd.img
CONF

ctl() {
    echo "\$ microvmctl $*"
    "$BUILD_DIR/client/microvmctl" --session "$@"
}

"$BUILD_DIR/daemon/microvmd" --session 2>"$T/microvmd.log" &
DAEMON_PID=$!
i=0
until "$BUILD_DIR/client/microvmctl" --session list >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$T/microvmd.log"; exit 1; }
    sleep 0.1
done

ctl define examples/demo.guest
ctl start demo --wait-ready
echo "--- what the guest printed on its console ---"
cat "$T/logs/demo.log"
echo "---"
ctl list
ctl status demo
ctl stop demo
ctl list
echo "demo done: the guest booted, became ready and stopped cleanly"
