"""Standard output that fails with a message, not a traceback.

``complaintkit list --format csv > file`` on a full disk, or into a file past its size limit,
fails on some write deep inside a command. The console entry point puts a guard between the
commands and the real standard output: the first failed write (or flush) points the file
descriptor at /dev/null, so that Python's own flush at exit cannot fail a second time, and
raises :class:`OutputError`, which click prints as ``Error: cannot write the output: No space
left on device`` with exit status 1. A closed pipe (``| head``) is left to click, which exits
quietly.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any

import click

__all__ = ["OutputError", "guard_stdout"]


class OutputError(click.ClickException):
    """Standard output could not take the command's output."""

    exit_code = 1


class _Guard(io.RawIOBase):
    """Passes writes to the real standard output's buffer, turning a failure into
    :class:`OutputError`."""

    def __init__(self, target: Any) -> None:
        super().__init__()
        self._target = target

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return bool(self._target.isatty())

    def fileno(self) -> int:
        return int(self._target.fileno())

    def write(self, data: Any) -> int:
        if not data:
            # click probes streams with an empty write; /dev/full refuses even that.
            return 0
        try:
            self._target.write(data)
        except OSError as exc:
            raise self._lost(exc) from None
        return len(data)

    def flush(self) -> None:
        try:
            self._target.flush()
        except OSError as exc:
            raise self._lost(exc) from None

    def _lost(self, exc: OSError) -> Exception:
        if exc.errno == errno.EPIPE:
            return exc  # click's own handling: quiet, exit status 1
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._target.fileno())
            os.close(null)
        except (OSError, ValueError):
            pass
        return OutputError(f"cannot write the output: {exc.strerror or exc}")


def guard_stdout() -> None:
    """Put the guard under ``sys.stdout`` (same encoding, errors and line buffering)."""
    current = sys.stdout
    buffer = getattr(current, "buffer", None)
    if buffer is None or isinstance(buffer, _Guard):
        return
    sys.stdout = io.TextIOWrapper(
        _Guard(buffer),
        encoding=current.encoding,
        errors=current.errors,
        line_buffering=bool(current.line_buffering),
        write_through=True,
    )
