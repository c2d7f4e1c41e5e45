# SPDX-License-Identifier: LGPL-2.1-or-later
"""scripts/demo.sh, run as a user would: it must end well and leave no QEMU behind, on
this host as it is and on one whose KVM cannot run the guest (a nested /dev/kvm: QEMU
starts, then stops the guest with a KVM internal error), where the daemon moves to TCG."""

import os
import signal
import subprocess
import sys
import time
import uuid

SOURCE = os.environ.get("MICROVMD_SOURCE_ROOT", os.path.abspath("."))
BUILD = os.environ.get("MICROVMD_BUILD_ROOT", os.path.join(SOURCE, "build"))
DEMO = os.path.join(SOURCE, "scripts", "demo.sh")
BROKEN_KVM_QEMU = os.path.join(SOURCE, "tests", "fake", "broken-kvm-qemu")


def tagged_processes(tag):
    """Pids of live processes whose environment carries TAG (QEMU inherits it)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if f"MICROVMD_DEMO_TAG={tag}".encode() not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        pids.append(int(entry))
    return pids


def run_demo(extra_env, interrupt_after=None):
    tag = uuid.uuid4().hex
    env = dict(os.environ, BUILD_DIR=BUILD, MICROVMD_DEMO_TAG=tag, **extra_env)
    proc = subprocess.Popen(["sh", DEMO], cwd=SOURCE, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    if interrupt_after is not None:
        time.sleep(interrupt_after)
        os.killpg(proc.pid, signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f"the demo did not finish within 240 s:\n{out}")
    deadline = time.monotonic() + 5
    while tagged_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.1)  # a reaped child's zombie may linger under a slow init
    left = tagged_processes(tag)
    return proc.returncode, out, left


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def test_demo_as_is():
    status, out, left = run_demo({})
    check(status == 0, f"the demo failed ({status}):\n{out}")
    check("microvmd-init: userspace started" in out, f"the guest never reported ready:\n{out}")
    check("demo done" in out, f"the demo did not finish:\n{out}")
    check(left == [], f"processes left behind: {left}\n{out}")


def test_demo_on_a_host_whose_kvm_cannot_run_the_guest():
    status, out, left = run_demo({"MICROVMD_ASSUME_KVM": "1",
                                  "MICROVMD_DEMO_QEMU": BROKEN_KVM_QEMU})
    check(status == 0, f"the demo failed ({status}):\n{out}")
    check("microvmd-init: userspace started" in out, f"the guest never became ready:\n{out}")
    check("'Accelerator': <'tcg'>" in out, f"the daemon did not move to TCG:\n{out}")
    check("KVM internal error" in out, f"AcceleratorNote does not say why:\n{out}")
    check("kvm-fallback" in out, f"the guest's StateReason is not kvm-fallback:\n{out}")
    check(left == [], f"processes left behind: {left}\n{out}")


def test_demo_interrupted_leaves_nothing():
    status, out, left = run_demo({}, interrupt_after=3.0)
    check(status != 0, f"an interrupted demo reported success:\n{out}")
    check(left == [], f"processes left behind after Ctrl-C: {left}\n{out}")


TESTS = [test_demo_as_is, test_demo_on_a_host_whose_kvm_cannot_run_the_guest,
         test_demo_interrupted_leaves_nothing]

if __name__ == "__main__":
    print(f"1..{len(TESTS)}")
    failed = 0
    for i, test in enumerate(TESTS, 1):
        try:
            test()
            print(f"ok {i} - {test.__name__}")
        except AssertionError as e:
            failed += 1
            print(f"not ok {i} - {test.__name__}")
            for line in str(e).splitlines():
                print(f"# {line}")
    sys.exit(1 if failed else 0)
