# SPDX-License-Identifier: LGPL-2.1-or-later
"""bash's completion of microvmctl driven as bash-completion drives it, for the tests."""

import os
import subprocess

from harness import SOURCE, check

COMPLETION = os.path.join(SOURCE, "client", "microvmctl.bash")
DRIVER = """
source /usr/share/bash-completion/bash_completion
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
_microvmctl
printf '%s\\n' "${COMPREPLY[@]}"
"""


def candidates(env, *words):
    """The sorted candidates for the last of @words (an empty one: after a space), the
    completion's commands running in @env"""
    r = subprocess.run(["bash", "-c", DRIVER, "driver", COMPLETION, "microvmctl", *words],
                       env=env, capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"the completion failed: {r.stderr}")
    return sorted(line for line in r.stdout.splitlines() if line)
