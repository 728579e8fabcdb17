"""Conditions on a complaint, written in configuration: which policy, route or fast channel applies.

A :class:`Match` is read from a TOML table such as::

    match = { labels = ["severity=serious", "behaviour=extreme"], channels = ["phone"] }

Within one key the values are alternatives (any may match); across keys every key must match.
An empty match matches every complaint. Keys:

* ``labels`` — ``"scheme=label"`` pairs;
* ``channels`` — channel values (phone, email, wechat, …);
* ``products`` — exact product names;
* ``tags`` — tags the complaint carries;
* ``has_order`` — true: the complainant bought something (after-sale); false: no order (pre-sale).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .errors import ConfigError
from .model import Channel, Complaint

__all__ = ["Match", "parse_match"]

_KEYS = ("labels", "channels", "products", "tags", "has_order")


@attrs.frozen
class Match:
    """A condition on a complaint (see the module docstring)."""

    labels: tuple[tuple[str, str], ...] = ()
    channels: frozenset[Channel] = frozenset()
    products: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    has_order: bool | None = None

    def matches(self, c: Complaint) -> bool:
        """True if ``c`` satisfies every key of the condition."""
        if self.labels and not any(c.label(scheme) == label for scheme, label in self.labels):
            return False
        if self.channels and c.channel not in self.channels:
            return False
        if self.products and c.product not in self.products:
            return False
        if self.tags and not self.tags.intersection(c.tags):
            return False
        return self.has_order is None or bool(c.order) == self.has_order

    def describe(self) -> str:
        """A short human-readable form, for explanations in events and output."""
        parts = []
        if self.labels:
            parts.append(" or ".join(f"{s}={lb}" for s, lb in self.labels))
        if self.channels:
            parts.append("channel " + " or ".join(sorted(c.value for c in self.channels)))
        if self.products:
            parts.append("product " + " or ".join(sorted(self.products)))
        if self.tags:
            parts.append("tag " + " or ".join(sorted(self.tags)))
        if self.has_order is not None:
            parts.append("with an order" if self.has_order else "without an order")
        return ", ".join(parts) or "every complaint"


def _strings(value: Any, where: str, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: match.{key} must be a string or a list of strings")
    return value


def parse_match(value: Any, where: str) -> Match:
    """A :class:`Match` from a configuration table; ``where`` names it in errors."""
    if value is None:
        return Match()
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: match must be a table, e.g. match = {{ labels = [...] }}")
    unknown = sorted(set(value) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown match key(s) {', '.join(unknown)}; known: {', '.join(_KEYS)}"
        )
    labels = []
    for item in _strings(value.get("labels", []), where, "labels"):
        scheme, sep, label = item.partition("=")
        if not sep or not scheme.strip() or not label.strip():
            raise ConfigError(f"{where}: match.labels entry {item!r} is not SCHEME=LABEL")
        labels.append((scheme.strip(), label.strip()))
    channels = set()
    for item in _strings(value.get("channels", []), where, "channels"):
        try:
            channels.add(Channel(item))
        except ValueError:
            known = ", ".join(c.value for c in Channel)
            raise ConfigError(f"{where}: unknown channel {item!r}; known: {known}") from None
    has_order = value.get("has_order")
    if has_order is not None and not isinstance(has_order, bool):
        raise ConfigError(f"{where}: match.has_order must be true or false")
    return Match(
        labels=tuple(labels),
        channels=frozenset(channels),
        products=frozenset(_strings(value.get("products", []), where, "products")),
        tags=frozenset(_strings(value.get("tags", []), where, "tags")),
        has_order=has_order,
    )
