"""Progress bars for long batches: shown on a terminal, silent under cron or in a pipe."""

from __future__ import annotations

import sys
from typing import Any

import click

__all__ = ["progress"]


class _Silent:
    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        """Nothing to show."""


def progress(label: str, length: int | None) -> Any:
    """A click progress bar on standard error when it is a terminal, else a silent stand-in."""
    if sys.stderr.isatty() and length != 0:
        return click.progressbar(length=length, label=label, file=sys.stderr)
    return _Silent()
