"""Stored instants back into aware datetimes: what every read of the tables needs (complaints,
events, facts), kept apart from the facts statements so that reading complaints does not
import the SLA and facts machinery."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

__all__ = ["instant_parser", "zone_of"]


@cache
def zone_of(offset: int) -> timezone:
    """The fixed zone of a UTC offset in seconds (UTC itself for 0)."""
    return UTC if offset == 0 else timezone(timedelta(seconds=offset))


def instant_parser(text: bool) -> Callable[[Any, int | None], datetime | None]:
    """What turns a stored instant (naive UTC; the stored text on SQLite when ``text``) and its
    offset in seconds into the aware datetime the complaint was written with."""
    parse = datetime.fromisoformat

    # ``replace(tzinfo=…)`` costs several times a parse; the text parses as UTC directly.
    def instant(value: Any, offset: int | None) -> datetime | None:
        if value is None:
            return None
        at: datetime = parse(value + "+00:00") if text else value.replace(tzinfo=UTC)
        return at.astimezone(zone_of(offset)) if offset else at

    return instant
