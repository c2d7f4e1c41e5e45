#!/bin/sh
# The one command: installs what is missing, builds, and runs every test suite.
#   scripts/run-tests.sh            # build in ./build, run all tests
#   BUILD_DIR=b scripts/run-tests.sh
set -eu

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

scripts/install-deps.sh

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    meson setup "$BUILD_DIR" -Dwerror=true
fi
meson compile -C "$BUILD_DIR"
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2
