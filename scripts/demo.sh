#!/bin/sh
# The demo: installs what is missing, builds, starts microvmd, boots examples/demo.guest,
# shows it running and ready, then stops the guest and the daemon.
# With no system bus (a container, a CI machine), it runs everything on a private
# session bus with temporary folders; nothing outside them is touched, and no QEMU is
# left behind, whether the demo succeeds, fails or is interrupted.
#   MICROVMD_DEMO_QEMU=PATH   QemuBinary= for the demo's daemon (tests use a broken-KVM QEMU)
set -eu

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/install-deps.sh
[ -f "$BUILD_DIR/build.ninja" ] || meson setup "$BUILD_DIR"
meson compile -C "$BUILD_DIR" >/dev/null
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)

T=$(mktemp -d /tmp/microvmd-demo.XXXXXX)
DAEMON_PID= BUS_PID=
CTL="$BUILD_DIR/client/microvmctl"

# Ends every QEMU whose pid file lies in the demo's runtime folder, if it still runs one.
kill_leftover_qemu() {
    for f in "$T"/run/*/qemu.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q qemu; then
            echo "demo: ending QEMU pid $pid that was left running" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

cleanup() {
    status=$?
    trap - EXIT INT TERM
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        "$CTL" --session stop demo >/dev/null 2>&1 || true
        kill "$DAEMON_PID" 2>/dev/null || true # ShutdownGuests=shutdown: it stops any guest
        i=0
        while kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 150 ]; do
            sleep 0.2
            i=$((i + 1))
        done
        kill -KILL "$DAEMON_PID" 2>/dev/null || true
    fi
    kill_leftover_qemu
    [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
    rm -rf "$T"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dbus-daemon --session --fork --print-address=3 --print-pid=4 3>"$T/bus" 4>"$T/bus.pid"
BUS_PID=$(cat "$T/bus.pid")
export DBUS_SESSION_BUS_ADDRESS="$(cat "$T/bus")"
export CONFIGURATION_DIRECTORY="$T/conf" STATE_DIRECTORY="$T/state"
export RUNTIME_DIRECTORY="$T/run" LOGS_DIRECTORY="$T/logs"
mkdir -p "$T/conf"
{
    echo "[Daemon]"
    echo "DefaultKernel=$BUILD_DIR/guest-kernel/vmlinux"
    echo "DefaultInitrd=$BUILD_DIR/guest-kernel/initrd.img"
    echo "ShutdownGuests=shutdown"
    [ -z "${MICROVMD_DEMO_QEMU:-}" ] || echo "QemuBinary=$MICROVMD_DEMO_QEMU"
} >"$T/conf/microvmd.conf"

ctl() {
    echo "\$ microvmctl $*"
    "$CTL" --session "$@"
}

"$BUILD_DIR/daemon/microvmd" --session 2>"$T/microvmd.log" &
DAEMON_PID=$!
i=0
until "$CTL" --session list >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$T/microvmd.log"; exit 1; }
    sleep 0.1
done

ctl define examples/demo.guest
if ! ctl start demo --wait-ready; then
    echo "--- microvmd's log ---"
    cat "$T/microvmd.log"
    exit 1
fi
echo "--- what the guest printed on its console ---"
cat "$T/logs/demo.log"
echo "---"
ctl list
ctl status demo
echo "\$ gdbus ... Accelerator, AcceleratorNote"
gdbus call --session -d org.microvmd1 -o /org/microvmd1 \
    -m org.freedesktop.DBus.Properties.GetAll org.microvmd1.Manager
ctl stop demo
ctl list
echo "demo done: the guest booted, became ready and stopped cleanly"
