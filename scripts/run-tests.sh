#!/bin/sh
# The one command: installs what is missing, builds, and runs every test suite:
# unit, golden, qmp, units, boot and daemon tests (real QEMU under TCG), the Debian
# package (built, installed with dpkg -i, purged: tests/package), then the
# library suites again under valgrind, and the libraries and the daemon under ASan+UBSan.
#   scripts/run-tests.sh            # builds in ./build, ./build-asan
#   BUILD_DIR=b scripts/run-tests.sh
set -eu

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
ASAN_DIR=${ASAN_DIR:-$BUILD_DIR-asan}

scripts/install-deps.sh

# The guest kernel CI boots: the one extracted from Debian's, because building the minimal
# one takes longer than CI's budget leaves on a shared 2-core machine (README.md,
# "The guest kernel"). GUEST_KERNEL=minimal (or auto) runs every boot test on it.
GUEST_KERNEL=${GUEST_KERNEL:-extract}

[ -f "$BUILD_DIR/build.ninja" ] || meson setup "$BUILD_DIR" -Dwerror=true -Dguest_kernel="$GUEST_KERNEL"
meson compile -C "$BUILD_DIR"
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2

echo "== valgrind: the library suites =="
meson test -C "$BUILD_DIR" --setup valgrind --suite unit --suite golden --suite qmp \
    --print-errorlogs --num-processes 2

echo "== ASan, LeakSanitizer and UBSan: the libraries, and the daemon under its tests =="
[ -f "$ASAN_DIR/build.ninja" ] ||
    meson setup "$ASAN_DIR" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dguest_kernel="$GUEST_KERNEL"
meson compile -C "$ASAN_DIR"
# the daemon tests fail on any sanitizer report in microvmd's log (harness.py)
ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$ASAN_DIR" --suite unit --suite golden --suite qmp --suite daemon \
    --print-errorlogs --num-processes 2
