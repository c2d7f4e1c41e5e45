#!/bin/sh
# Checks unit templates with systemd-analyze verify, after filling in @sbindir@ and @bindir@
# with folders where the binaries exist. Fails on any diagnostic about our units, not only on
# errors: verify exits 0 after warnings such as unknown keys.
# Usage: verify-units.sh SBINDIR BINDIR UNIT.in...
set -u

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not found (package systemd)"
    exit 77
fi

sbindir=$1 bindir=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

units=""
for in in "$@"; do
    unit="$dir/$(basename "$in" .in)"
    sed -e "s|@sbindir@|$sbindir|g" -e "s|@bindir@|$bindir|g" "$in" >"$unit"
    if grep -n '@[a-z_]*@' "$unit"; then
        echo "$unit: placeholder left unsubstituted"
        exit 1
    fi
    units="$units $unit"
done

# shellcheck disable=SC2086
out=$(systemd-analyze verify --man=no $units 2>&1)
rc=$?
printf '%s\n' "$out"
if [ $rc -ne 0 ]; then
    echo "systemd-analyze verify exited with $rc"
    exit 1
fi
# other units on the host may draw warnings; ours must not
if printf '%s\n' "$out" | grep -e "$dir" -e 'microvm' >/dev/null; then
    echo "systemd-analyze verify warned about our units"
    exit 1
fi
echo "verified:$units"
