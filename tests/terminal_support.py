"""Running the real ``complaintkit`` command with its standard output on a pseudo-terminal, as
a person at a terminal sees it (click strips nothing there, unlike on a pipe)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

__all__ = ["on_a_terminal"]


def on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``complaintkit ARGS`` in ``cwd`` with standard output on a pseudo-terminal: the exit
    status, what the terminal received and the standard error."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "complaintkit"), *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, "COMPLAINTKIT_LANG": "en"},
    )
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, err = process.communicate(timeout=60)
    os.close(leader)
    return process.returncode, seen.decode("utf-8", "replace"), err.decode()
