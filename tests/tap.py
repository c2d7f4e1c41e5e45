# SPDX-License-Identifier: LGPL-2.1-or-later
"""TAP for the Python test scripts (meson's protocol: 'tap'): runs the named test functions,
each to its end, and says how each went."""

import sys
import time


def run(tests):
    """Runs the test functions in TESTS (a dict by name; argv picks some), printing TAP;
    returns the exit status."""
    selected = sys.argv[1:] or list(tests)
    print(f"1..{len(selected)}", flush=True)
    failed = 0
    for i, name in enumerate(selected, 1):
        started = time.monotonic()
        try:
            tests[name]()
            print(f"ok {i} - {name} ({time.monotonic() - started:.1f} s)", flush=True)
        except Exception as e:  # report every failure, then go on with the next test
            failed += 1
            print(f"not ok {i} - {name}", flush=True)
            for line in str(e).splitlines() or [repr(e)]:
                print(f"# {line}", flush=True)
    return 1 if failed else 0
