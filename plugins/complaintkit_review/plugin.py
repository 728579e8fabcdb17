"""Registers ``complaintkit review``: people in the loop of classification; answers the
``review_queue`` and ``apply_review_decisions`` hooks (the HTTP API's ``/review`` routes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from complaintkit import hookimpl

if TYPE_CHECKING:
    import click

    from complaintkit import Desk

__all__ = ["apply_review_decisions", "register_commands", "review_queue"]


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit review``: list, accept and correct labels due for review."""
    from .cli import review_command

    cli.add_command(review_command)


@hookimpl
def review_queue(
    desk: Desk, schemes: list[str], below: float | None, open_only: bool, limit: int | None
) -> list[dict[str, Any]]:
    """The queue as ``review --format json`` prints it."""
    from .queue import review_records

    return review_records(desk, schemes, below, open_only, limit)


@hookimpl
def apply_review_decisions(
    desk: Desk, rows: list[tuple[str, Any]], note: str | None
) -> dict[str, Any]:
    """The decisions applied as ``review --decisions FILE`` applies them."""
    from .queue import apply_decisions

    return apply_decisions(desk, rows, note).record()
