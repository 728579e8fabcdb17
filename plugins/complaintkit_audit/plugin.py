"""Registers ``complaintkit audit``: verify, seal and anchor the hash chains of the histories."""

from __future__ import annotations

from typing import TYPE_CHECKING

from complaintkit import hookimpl

if TYPE_CHECKING:
    import click

__all__ = ["register_commands"]


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit audit verify|seal|head``."""
    from .cli import audit_group

    cli.add_command(audit_group)
