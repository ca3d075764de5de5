# SPDX-License-Identifier: GPL-2.0
"""ptyrun.py CMD [ARG...]: run CMD with a new pseudo-terminal as its stdin
(stdout and stderr stay), e.g. `stty -a`, which reads the terminal's
settings with glibc's tcgetattr. Exits with CMD's status."""
import os
import subprocess
import sys

master, slave = os.openpty()
sys.exit(subprocess.call(sys.argv[1:], stdin=slave))
