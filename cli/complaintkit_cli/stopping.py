"""What a long command says when it stops half-way (Ctrl-C, a full disk): how to go on."""

from __future__ import annotations

import shlex
import signal
import sys
from collections.abc import Callable
from typing import TypeVar

__all__ = ["INTERRUPTED", "quietly", "same_command"]

T = TypeVar("T")

#: The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def same_command() -> str:
    """The command line that was run, quoted for a shell, to be run again."""
    return shlex.join(["complaintkit", *sys.argv[1:]])


def quietly(read: Callable[[], T]) -> T | None:
    """``read()`` with Ctrl-C ignored meanwhile (a second Ctrl-C would only lose the message
    being prepared); None if it fails (the message matters more than why counting failed)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return read()
    except Exception:  # noqa: BLE001 - see the docstring
        return None
    finally:
        signal.signal(signal.SIGINT, previous)
