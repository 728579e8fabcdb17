"""The importing plugin's hooks: the built-in input formats and the ``import`` command.

Importing this module stays cheap: the readers, mappings and the command are imported when a
format is listed or the command runs, not by ``complaintkit --help``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from complaintkit import hookimpl

if TYPE_CHECKING:
    import click

    from complaintkit.inputs import InputFormat

__all__ = ["register_commands", "register_input_formats"]


@hookimpl
def register_input_formats(register: Callable[[InputFormat], None]) -> None:
    """CSV, TSV, JSON, JSON Lines and Excel (.xlsx)."""
    from .formats import BUILTIN_FORMATS

    for fmt in BUILTIN_FORMATS:
        register(fmt)


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit import``: a file of complaints into the store, losing nothing."""
    from .cli import import_command

    cli.add_command(import_command)
