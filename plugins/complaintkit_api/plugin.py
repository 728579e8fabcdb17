"""Registers ``complaintkit serve`` and ``complaintkit token``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from complaintkit import hookimpl

if TYPE_CHECKING:
    import click

__all__ = ["register_commands"]


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit serve`` (the HTTP API) and ``complaintkit token`` (who may call it)."""
    from .cli import serve_command, token_group

    cli.add_command(serve_command)
    cli.add_command(token_group)
