"""Re-complaint detection (复投诉): the same complainant complains again, soon after closure.

A new complaint repeats an earlier one when the complainant is the same (customer id, phone or
e-mail), the earlier one was resolved or closed no longer than ``window_days`` before the new one
arrived, and they concern the same order or product or have closely similar text (character
bigram Jaccard similarity of at least ``similarity``, which works for Chinese and English
alike)::

    [recomplaint]
    window_days = 30
    similarity = 0.5
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from .model import Complaint, Status
from .settings import InvalidSetting, positive, structure_section

if TYPE_CHECKING:
    from .config import Config

__all__ = [
    "RecomplaintConfig",
    "bigrams",
    "closed_at",
    "complainant_keys",
    "find_parent",
    "load_recomplaint_config",
    "similarity",
]

_CLOSING = ("resolve", "close")


@attrs.frozen
class RecomplaintConfig:
    """The ``[recomplaint]`` section; detection is off when it is absent."""

    window: timedelta = timedelta(days=30)
    similarity: float = 0.5


def _fraction(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value <= 1:
        raise InvalidSetting(f"must be above 0 and at most 1, got {value:g}", attribute.name)


@attrs.frozen
class _RecomplaintTable:
    window_days: float = attrs.field(default=30.0, validator=positive)
    similarity: float = attrs.field(default=0.5, validator=_fraction)
    enabled: bool = True


def load_recomplaint_config(config: Config) -> RecomplaintConfig | None:
    """The ``[recomplaint]`` section, or None when re-complaint detection is not configured."""
    if not config.section("recomplaint"):
        return None
    section = structure_section(config, "recomplaint", _RecomplaintTable)
    if not section.enabled:
        return None
    return RecomplaintConfig(timedelta(days=section.window_days), section.similarity)


def complainant_keys(c: Complaint) -> tuple[str, ...]:
    """The identifiers that make two complaints the same complainant's."""
    who = c.complainant
    return tuple(k for k in (who.customer_id, who.phone, who.email) if k)


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of ``text`` without spaces and punctuation, lower-cased."""
    chars = "".join(ch for ch in text.lower() if ch.isalnum())
    if len(chars) < 2:
        return frozenset({chars}) if chars else frozenset()
    return frozenset(chars[i : i + 2] for i in range(len(chars) - 1))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character bigrams of ``a`` and ``b`` (0 to 1)."""
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def closed_at(c: Complaint) -> datetime | None:
    """When ``c`` was last resolved or closed, if it is resolved or closed now."""
    if c.status not in (Status.RESOLVED, Status.CLOSED):
        return None
    for event in reversed(c.history):
        if event.action in _CLOSING:
            return event.at
    return None


def _text(c: Complaint) -> str:
    return f"{c.title}\n{c.text}" if c.title else c.text


def find_parent(
    new: Complaint, earlier: Iterable[Complaint], config: RecomplaintConfig
) -> tuple[Complaint, str] | None:
    """The earlier complaint ``new`` repeats and why, or None. Of several, the latest closed."""
    keys = set(complainant_keys(new))
    if not keys:
        return None
    best: tuple[datetime, Complaint, str] | None = None
    for old in earlier:
        if old.reference == new.reference or not keys.intersection(complainant_keys(old)):
            continue
        closed = closed_at(old)
        if closed is None or not closed <= new.received_at <= closed + config.window:
            continue
        if new.order and new.order == old.order:
            why = f"same order {new.order}"
        elif new.product and new.product == old.product:
            why = f"same product {new.product}"
        else:
            score = similarity(_text(new), _text(old))
            if score < config.similarity:
                continue
            why = f"similar text ({score:.2f})"
        if best is None or closed > best[0]:
            best = (closed, old, why)
    return (best[1], best[2]) if best else None
