"""Registers ``complaintkit migrate``: copy a store into another backend, verified."""

from __future__ import annotations

from typing import TYPE_CHECKING

from complaintkit import hookimpl

if TYPE_CHECKING:
    import click

__all__ = ["register_commands"]


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit migrate SOURCE_URL DEST_URL``."""
    from .cli import migrate_command

    cli.add_command(migrate_command)
