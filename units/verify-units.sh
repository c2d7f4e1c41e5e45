#!/bin/sh
# Checks unit templates with systemd-analyze verify (and microvmd.service's exposure score
# with systemd-analyze security), after filling in @sbindir@ and @bindir@
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

# The daemon's unit confines every QEMU it starts: its exposure score must stay low.
# systemd-analyze security --offline=true prints "Overall exposure level for X: 2.2 OK".
for unit in $units; do
    case $unit in */microvmd.service) ;; *) continue ;; esac
    score=$(systemd-analyze security --offline=true "$unit" 2>&1 |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    if [ -z "$score" ]; then
        echo "systemd-analyze security gave no score for $unit"
        exit 1
    fi
    echo "$(basename "$unit"): exposure $score (at most 4.0)"
    if ! awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }'; then
        echo "$(basename "$unit"): exposure $score is above 4.0"
        exit 1
    fi
done
