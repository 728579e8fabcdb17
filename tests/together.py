"""Real processes for the concurrency tests.

Each script runs in a fresh interpreter (the one running the tests, so the same virtual
environment) and waits for a line on standard input before it starts its work, so that
:func:`run_together` can release several at the same instant.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence

#: Seconds to wait for a process; only a hang comes near it.
TIMEOUT = 300


def start(script: str, *args: str) -> subprocess.Popen[str]:
    """Run ``script`` (dedented) with ``args`` as ``sys.argv[1:]``."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """Wait for ``process``: its exit status, standard output and standard error."""
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def run_together(
    processes: Sequence[subprocess.Popen[str]], timeout: float = TIMEOUT
) -> list[tuple[int, str, str]]:
    """Release every started process at once (a line on its standard input), then wait
    for each: ``(exit status, stdout, stderr)`` in the order given."""
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    return [finish(process, timeout) for process in processes]
