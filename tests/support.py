# SPDX-License-Identifier: LGPL-2.1-or-later
"""What every Python test script uses: a failure, a check, a bounded wait, and the TAP
runner (meson's protocol: 'tap') that runs the named test functions, each to its end, and
says how each went."""

import glob
import os
import pty
import re
import subprocess
import sys
import time


# A kernel message on a guest's console: the kernel writes it whole wherever the shell's
# output stands, even in the middle of a word, and ends it with its own newline.
KERNEL_MESSAGE = re.compile(r"\[\s*\d+\.\d+\] [^\n]*\n")


def without_kernel_messages(text):
    """@text, what a guest's console printed, without the kernel's messages, so that the
    output of a command reads as the command wrote it."""
    return KERNEL_MESSAGE.sub("", text)


def apt_sources():
    """This machine's apt source files, for mmdebstrap: a root made in a test gets the
    packages this machine would."""
    files = [f for f in ["/etc/apt/sources.list"]
             if os.path.exists(f) and os.path.getsize(f) > 0]
    return files + sorted(glob.glob("/etc/apt/sources.list.d/*.sources")) \
        + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))


def stderr_on_a_terminal(argv, **popen):
    """Runs @argv with a pty as its stderr (stdout to /dev/null unless @popen says) and
    returns its exit status and all it wrote there."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, stdout=popen.pop("stdout", subprocess.DEVNULL),
                               stderr=slave, **popen)
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the process and its children have gone
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    return process.wait(timeout=60), drawn


class TestFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def wait_for(what, predicate, timeout=90, interval=0.1):
    """Polls predicate until it returns a true value, which is returned."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise TestFailure(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


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
