"""Registers ``complaintkit review``: people in the loop of classification."""

from __future__ import annotations

from typing import TYPE_CHECKING

from complaintkit import hookimpl

if TYPE_CHECKING:
    import click

__all__ = ["register_commands"]


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit review``: list, accept and correct labels due for review."""
    from .cli import review_command

    cli.add_command(review_command)
